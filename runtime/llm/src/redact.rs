//! Showing a URL without the credentials it may carry.
//!
//! A base URL or gateway URL can hold a password (`https://user:pw@host/`), a
//! token as its user (`https://TOKEN@host/`), or a key in its query
//! (`?api_key=…`, `&token=…`, a signed URL's `sig=…`). Wherever tracker shows a
//! URL — `tracker doctor`, `tracker setup`, error messages, events — it shows
//! [`redact_url`]'s version, and [`url_secrets`] lists what to scrub from text
//! that may have quoted the URL (a provider echoing the request).

use std::borrow::Cow;

/// What a hidden credential is shown as.
pub const HIDDEN: &str = "****";

/// Parts of a query parameter's name (lower case, without `-` and `_`) that
/// make its value a secret.
const SECRET_NAME_PARTS: [&str; 11] = [
    "code",
    "key",
    "token",
    "secret",
    "pass",
    "pwd",
    "auth",
    "sig",
    "credential",
    "session",
    "cookie",
];

/// `url` with its credentials replaced by `****`: the password of its
/// userinfo (the whole userinfo when there is no password, as a token sent
/// as the user name is common) and the value of every query or fragment
/// parameter whose name looks secret (`key`, `api_key`, `token`, `secret`,
/// `password`, `auth`, `sig`, …). Borrowed when there is nothing to hide.
pub fn redact_url(url: &str) -> Cow<'_, str> {
    let parts = secret_ranges(url);
    if parts.is_empty() {
        return Cow::Borrowed(url);
    }
    let mut out = String::with_capacity(url.len());
    let mut at = 0;
    for (start, end) in parts {
        out.push_str(&url[at..start]);
        out.push_str(HIDDEN);
        at = end;
    }
    out.push_str(&url[at..]);
    Cow::Owned(out)
}

/// The credentials in `url` that [`redact_url`] hides, as written in it.
pub fn url_secrets(url: &str) -> Vec<&str> {
    secret_ranges(url)
        .into_iter()
        .map(|(start, end)| &url[start..end])
        .collect()
}

/// The byte ranges of `url`'s credentials, in order, none empty.
fn secret_ranges(url: &str) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let authority_end = url[authority_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| authority_start + i);
    if let Some(at) = url[authority_start..authority_end].rfind('@') {
        let userinfo = &url[authority_start..authority_start + at];
        let secret_start = match userinfo.find(':') {
            Some(colon) => authority_start + colon + 1,
            None => authority_start,
        };
        ranges.push((secret_start, authority_start + at));
    }
    // Query and fragment parameters: `name=value`, separated by `&` or `;`.
    if let Some(query) = url[authority_end..].find(['?', '#']) {
        let base = authority_end + query + 1;
        let mut start = base;
        let ends = url[base..]
            .char_indices()
            .filter(|(_, c)| matches!(c, '&' | ';' | '#'))
            .map(|(i, _)| base + i)
            .chain([url.len()]);
        for end in ends {
            let param = &url[start..end];
            if let Some(eq) = param.find('=') {
                if secret_name(&param[..eq]) {
                    ranges.push((start + eq + 1, end));
                }
            }
            // Every separator is one byte.
            start = end + 1;
        }
    }
    ranges.retain(|(start, end)| start < end);
    ranges
}

/// Whether a query parameter named `name` holds a secret.
fn secret_name(name: &str) -> bool {
    let name: String = percent_decoded(name)
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.'))
        .flat_map(char::to_lowercase)
        .collect();
    SECRET_NAME_PARTS.iter().any(|part| name.contains(part))
}

/// `text` with `%XX` escapes decoded (invalid ones kept as written).
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let value = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(value as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_secret_query_values_are_hidden() {
        assert_eq!(
            redact_url("https://u:PW@h/?api_key=K"),
            "https://u:****@h/?api_key=****"
        );
        assert_eq!(
            redact_url("http://u:p%40ss@127.0.0.1:9/v1?model=x&token=T&Api-Key=K2#sig=S"),
            "http://u:****@127.0.0.1:9/v1?model=x&token=****&Api-Key=****#sig=****"
        );
        assert_eq!(
            redact_url("https://ghp_TOKEN@example.com/x"),
            "https://****@example.com/x"
        );
        assert_eq!(
            redact_url("https://h/p?x-goog-api-key=A;access_token=B&q=keep&api%5Fkey=C"),
            "https://h/p?x-goog-api-key=****;access_token=****&q=keep&api%5Fkey=****"
        );
        assert_eq!(
            url_secrets("https://u:PW@h/?api_key=K&a=b"),
            vec!["PW", "K"]
        );
    }

    #[test]
    fn urls_without_credentials_are_borrowed() {
        for url in [
            "https://api.anthropic.com",
            "http://127.0.0.1:8080/v1?alt=sse&model=m",
            "https://h/path@with-at?key=",
            "",
            "not a url",
        ] {
            assert!(matches!(redact_url(url), Cow::Borrowed(_)), "{url}");
        }
    }

    #[test]
    fn a_question_mark_in_the_query_does_not_end_it() {
        // An OpenAI base URL with a query gets the path appended after it.
        assert_eq!(
            redact_url("http://127.0.0.1:9/v1?api_key=SECRETK/v1/responses"),
            "http://127.0.0.1:9/v1?api_key=****"
        );
        assert_eq!(
            redact_url("https://h/?token=a?b&c=d"),
            "https://h/?token=****&c=d"
        );
    }

    #[test]
    fn oauth_codes_are_secrets_too() {
        let shown = redact_url("https://h/cb?code=abc123&state=x");
        assert!(!shown.contains("abc123"), "{shown}");
        assert!(shown.contains("state=x"), "{shown}");
    }
}
