//! Which environment variables hold secrets, so that commands tracker runs
//! (tool nodes and the agent's `bash`) never see them.
//!
//! One rule for every subprocess: [`is_secret`]. A name is a secret when, in
//! upper case,
//!
//! * it contains one of [`SECRET_SUBSTRINGS`] (`API_KEY`, `APIKEY`, `SECRET`,
//!   `PASSWORD`, `PASSWD`, `PASSPHRASE`, `CREDENTIAL`, `PRIVATE_KEY`, …): so
//!   `OPENAI_API_KEY`, `SECRET_KEY`, `AWS_SECRET_ACCESS_KEY`, `PGPASSWORD`,
//!   `GOOGLE_APPLICATION_CREDENTIALS` and `SSH_PRIVATE_KEY`;
//! * one of its `_`-separated words is, or ends in, `TOKEN`/`TOKENS` or
//!   `PWD`: so `TOKEN`, `GITHUB_TOKEN`, `AWS_SESSION_TOKEN`, `NPM_AUTHTOKEN`
//!   and `MYSQL_PWD`, but not `TOKENIZERS_PARALLELISM`; the shell's own `PWD`
//!   and `OLDPWD` (working directories) are not secrets;
//! * it is, or ends in, one of [`SECRET_SUFFIXES`] (`DATABASE_URL`, `DB_URL`,
//!   `DSN`): connection strings carry passwords;
//! * its last `_`-separated word is one of [`SECRET_LAST_WORDS`] (`KEY`,
//!   `PASS`, `PAT`, `AUTH`): `STRIPE_KEY`, `SMTP_PASS`, `GH_PAT`, `NPM_AUTH`.
//!
//! And whatever its name, a variable whose value is a URL with a password in
//! it (`REDIS_URL=redis://u:pw@host`, `HTTPS_PROXY=http://u:pw@proxy`) is a
//! secret ([`is_secret_var`]).
//!
//! `TRACKER_PASS_ENV=1` passes everything to tool nodes (see
//! [`pass_all`]).
//!
//! Scrubbing the environment keeps a secret from a command, not from the
//! files it reads: an agent reading the `.env` tracker took its key from, or
//! a tool printing one, would put the key in the run's events, context and
//! node files. So the values of the secrets tracker loaded are also
//! remembered for the process ([`remember_values`]) and cut out of what
//! commands and agent tools print ([`redact_known`]).

use std::borrow::Cow;
use std::ffi::{OsStr, OsString};
use std::ops::Range;
use std::sync::{PoisonError, RwLock};

/// A name containing one of these (upper-cased) is a secret.
pub const SECRET_SUBSTRINGS: [&str; 12] = [
    "API_KEY",
    "APIKEY",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "CREDENTIAL",
    "PRIVATE_KEY",
    "SIGNING_KEY",
    "ENCRYPTION_KEY",
    "ACCESS_KEY",
    "CONNECTION_STRING",
];

/// A `_`-separated word of a name ending in one of these is a secret.
pub const SECRET_WORD_ENDINGS: [&str; 3] = ["TOKEN", "TOKENS", "PWD"];

/// A name equal to or ending in one of these is a secret.
pub const SECRET_SUFFIXES: [&str; 3] = ["DATABASE_URL", "DB_URL", "DSN"];

/// A name whose last `_`-separated word is one of these is a secret.
pub const SECRET_LAST_WORDS: [&str; 4] = ["KEY", "PASS", "PAT", "AUTH"];

/// Names that match the rules above but are not secrets: the shell's working
/// directories.
pub const NOT_SECRETS: [&str; 2] = ["PWD", "OLDPWD"];

/// Whether the variable `name` holds a secret (see the module documentation).
pub fn is_secret(name: &OsStr) -> bool {
    let upper = name.to_string_lossy().to_ascii_uppercase();
    if NOT_SECRETS.contains(&upper.as_str()) {
        return false;
    }
    SECRET_SUBSTRINGS.iter().any(|s| upper.contains(s))
        || SECRET_SUFFIXES
            .iter()
            .any(|s| upper == *s || upper.ends_with(s))
        || upper
            .split('_')
            .any(|word| SECRET_WORD_ENDINGS.iter().any(|e| word.ends_with(e)))
        || upper
            .rsplit('_')
            .next()
            .is_some_and(|last| upper.contains('_') && SECRET_LAST_WORDS.contains(&last))
}

/// Whether the variable `name=value` holds a secret: by its name
/// ([`is_secret`]), or because its value is a URL carrying a password
/// (`scheme://user:password@host…`).
pub fn is_secret_var(name: &OsStr, value: &OsStr) -> bool {
    is_secret(name) || url_with_password(&value.to_string_lossy())
}

/// Whether `text` holds `scheme://user:password@` somewhere.
fn url_with_password(text: &str) -> bool {
    text.match_indices("://").any(|(at, _)| {
        let rest = &text[at + 3..];
        let authority = rest.split(['/', '?', '#', ' ']).next().unwrap_or("");
        authority
            .rsplit_once('@')
            .is_some_and(|(userinfo, _)| userinfo.contains(':'))
    })
}

/// `vars` without the secrets.
pub fn without_secrets(
    vars: impl IntoIterator<Item = (OsString, OsString)>,
) -> Vec<(OsString, OsString)> {
    vars.into_iter()
        .filter(|(name, value)| !is_secret_var(name, value))
        .collect()
}

/// Whether `TRACKER_PASS_ENV=1` asks for tool nodes to get every variable,
/// secrets included.
pub fn pass_all() -> bool {
    std::env::var("TRACKER_PASS_ENV").is_ok_and(|v| v == "1")
}

/// What stands in for a secret's value cut out of output.
pub const REDACTED: &str = "****";

/// Values shorter than this are not remembered: cutting every `postgres` (a
/// development database's password) out of output would hide more than it
/// protects. API keys and tokens are far longer.
pub const SHORTEST_REMEMBERED: usize = 12;

/// One remembered secret value.
struct Known {
    /// The value.
    value: String,
    /// Whether a piece of it, alone at a cut or a line break, is cut out too
    /// (see [`SHORTEST_PIECE`]): a plain key or token long enough, not a
    /// connection string, whose host and database start and end it.
    pieces: bool,
}

/// The secret values this process loaded, longest first (so that a value
/// holding another is cut whole).
static KNOWN: RwLock<Vec<Known>> = RwLock::new(Vec::new());

/// Remembers the values of the secret variables among `vars` (by
/// [`is_secret_var`], at least [`SHORTEST_REMEMBERED`] bytes long), for
/// [`redact_known`]. Called where tracker loads its keys; values already
/// remembered stay.
pub fn remember_values<'a>(vars: impl IntoIterator<Item = (&'a str, &'a str)>) {
    let mut known = KNOWN.write().unwrap_or_else(PoisonError::into_inner);
    let mut remember = |value: &str, structured: bool| {
        if !known.iter().any(|k| k.value == value) {
            known.push(Known {
                value: value.to_string(),
                pieces: !structured && value.len() >= 2 * SHORTEST_PIECE,
            });
        }
    };
    for (name, value) in vars {
        let value = value.trim();
        if worth_remembering(name, value) {
            let structured = value.contains("://") || value.contains('=');
            remember(value, structured);
        }
        // Whatever the variable's name: a base URL may carry a key in its
        // query, printed alone by whoever reads it back.
        for piece in url_secrets(value) {
            if piece.len() >= SHORTEST_REMEMBERED {
                remember(piece, false);
            }
        }
    }
    known.sort_by_key(|k| std::cmp::Reverse(k.value.len()));
}

/// Whether `name=value` holds a value worth cutting out of output: a secret
/// by [`is_secret_var`], long enough, and not a path (a variable named like
/// a credential may point at a file: the path is no secret) nor, for a
/// connection string, one without a password (`postgres://localhost/app`).
fn worth_remembering(name: &str, value: &str) -> bool {
    if value.len() < SHORTEST_REMEMBERED
        || value.starts_with(['/', '~'])
        || value.starts_with("./")
        || !is_secret_var(OsStr::new(name), OsStr::new(value))
    {
        return false;
    }
    let upper = name.to_ascii_uppercase();
    let only_a_connection_string = SECRET_SUFFIXES.iter().any(|s| upper.ends_with(s))
        && !SECRET_SUBSTRINGS.iter().any(|s| upper.contains(s));
    !only_a_connection_string
        || url_with_password(value)
        || value.to_ascii_lowercase().contains("password=")
}

/// Query parameters whose values are credentials (`?key=…`, as Gemini takes
/// its key), compared without case.
const SECRET_QUERY_PARAMETERS: [&str; 11] = [
    "key",
    "api_key",
    "apikey",
    "api-key",
    "token",
    "access_token",
    "auth",
    "secret",
    "password",
    "sig",
    "signature",
];

/// The credentials in the URLs `text` holds: the values of its
/// [`SECRET_QUERY_PARAMETERS`] and the passwords of its `user:password@`.
fn url_secrets(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices("://") {
        let rest = &text[at + 3..];
        let url = rest.split([' ', '"', '\'']).next().unwrap_or("");
        let authority = url.split(['/', '?', '#']).next().unwrap_or("");
        if let Some((_, password)) = authority
            .rsplit_once('@')
            .and_then(|(userinfo, _)| userinfo.split_once(':'))
        {
            found.push(password);
        }
        let Some((_, query)) = url.split_once('?') else {
            continue;
        };
        let query = query.split('#').next().unwrap_or("");
        for pair in query.split('&') {
            if let Some((name, value)) = pair.split_once('=') {
                if SECRET_QUERY_PARAMETERS
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(name))
                {
                    found.push(value);
                }
            }
        }
    }
    found
}

/// Whether writing `new` over `old` would put [`REDACTED`] where `old` holds
/// a remembered secret: an agent that read a file with a key cut out, then
/// wrote the whole file back, would destroy the key.
pub fn erases_known(old: &str, new: &str) -> bool {
    if !new.contains(REDACTED) {
        return false;
    }
    let known = KNOWN.read().unwrap_or_else(PoisonError::into_inner);
    // Whatever was shown masked (a secret, or a piece of one) and is gone
    // from the new text.
    secret_ranges(old.as_bytes(), &known)
        .into_iter()
        .any(|range| {
            !new.as_bytes()
                .windows(range.len())
                .any(|w| w == &old.as_bytes()[range.clone()])
        })
}

/// A piece of a remembered key or token at least twice this long, this long
/// or longer, from its start or to its end, is cut out on its own where a
/// cut or a line break leaves it (at the text's start or end, or against a
/// line break): output cut to a limit, or a key wrapped across lines, holds
/// the key in pieces.
pub const SHORTEST_PIECE: usize = 16;

/// `text` with every remembered secret value, and every piece of one a cut
/// or a line break left (see [`SHORTEST_PIECE`]), replaced by [`REDACTED`]
/// (borrowed, and costing up to two searches per value, when it holds none).
pub fn redact_known(text: &str) -> Cow<'_, str> {
    let known = KNOWN.read().unwrap_or_else(PoisonError::into_inner);
    let mut ranges = secret_ranges(text.as_bytes(), &known);
    if ranges.is_empty() {
        return Cow::Borrowed(text);
    }
    // A piece ends where the text and the secret part; in a multi-byte
    // character that both start alike, the text's character is kept whole.
    for range in &mut ranges {
        while !text.is_char_boundary(range.start) {
            range.start += 1;
        }
        while !text.is_char_boundary(range.end) {
            range.end -= 1;
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for range in ranges.into_iter().filter(|r| r.start < r.end) {
        out.push_str(&text[at..range.start]);
        out.push_str(REDACTED);
        at = range.end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// [`redact_known`] for bytes that need not be UTF-8 (a command's output
/// file): the bytes around a secret are kept as they are.
pub fn redact_known_bytes(bytes: &[u8]) -> Cow<'_, [u8]> {
    let known = KNOWN.read().unwrap_or_else(PoisonError::into_inner);
    let ranges = secret_ranges(bytes, &known);
    if ranges.is_empty() {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    for range in ranges {
        out.extend_from_slice(&bytes[at..range.start]);
        out.extend_from_slice(REDACTED.as_bytes());
        at = range.end;
    }
    out.extend_from_slice(&bytes[at..]);
    Cow::Owned(out)
}

/// Where `text` holds one of the `known` secrets or a piece of one: sorted,
/// and overlapping or touching ranges merged.
fn secret_ranges(text: &[u8], known: &[Known]) -> Vec<Range<usize>> {
    let at_break = |i: usize| matches!(text.get(i), Some(b'\n' | b'\r'));
    let mut ranges: Vec<Range<usize>> = Vec::new();
    for known in known {
        let secret = known.value.as_bytes();
        if !known.pieces {
            ranges.extend(memchr::memmem::find_iter(text, secret).map(|at| at..at + secret.len()));
            continue;
        }
        // The secret's head, as far as the text goes on matching it: the
        // whole secret, or a piece that ends the text or its line.
        for at in memchr::memmem::find_iter(text, &secret[..SHORTEST_PIECE]) {
            let matched = text[at..]
                .iter()
                .zip(secret)
                .take_while(|(a, b)| a == b)
                .count();
            let end = at + matched;
            if matched == secret.len() || end == text.len() || at_break(end) {
                ranges.push(at..end);
            }
        }
        // The secret's tail, as far back as the text matches it: a piece
        // that starts the text or its line.
        for at in memchr::memmem::find_iter(text, &secret[secret.len() - SHORTEST_PIECE..]) {
            let end = at + SHORTEST_PIECE;
            let matched = text[..end]
                .iter()
                .rev()
                .zip(secret.iter().rev())
                .take_while(|(a, b)| a == b)
                .count();
            let start = end - matched;
            if start == 0 || at_break(start - 1) {
                ranges.push(start..end);
            }
        }
    }
    ranges.sort_unstable_by_key(|r| r.start);
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_recognised_by_name() {
        let secret = [
            "API_KEY",
            "OPENAI_API_KEY",
            "openai_api_key",
            "MY_APIKEY",
            "SECRET_KEY",
            "DJANGO_SECRET_KEY",
            "CLIENT_SECRET",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "TOKEN",
            "GITHUB_TOKEN",
            "github_token",
            "HF_TOKEN",
            "NPM_AUTHTOKEN",
            "REFRESH_TOKENS",
            "PASSWORD",
            "DB_PASSWORD",
            "PGPASSWORD",
            "PASSWD",
            "MYSQL_PWD",
            "DBPWD",
            "GPG_PASSPHRASE",
            "DATABASE_URL",
            "READONLY_DATABASE_URL",
            "REDIS_DB_URL",
            "SENTRY_DSN",
            "DSN",
            "AWS_CREDENTIALS",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "CREDENTIAL",
            "SSH_PRIVATE_KEY",
            "JWT_SIGNING_KEY",
            "ENCRYPTION_KEY",
            "AZURE_STORAGE_CONNECTION_STRING",
            "AWS_ACCESS_KEY_ID",
            "STRIPE_KEY",
            "DB_PASS",
            "SMTP_PASS",
            "GH_PAT",
            "NPM_AUTH",
        ];
        for name in secret {
            assert!(is_secret(OsStr::new(name)), "{name} should be a secret");
        }
        let plain = [
            "PWD",
            "OLDPWD",
            "pwd",
            "PATH",
            "HOME",
            "USER",
            "SHELL",
            "LANG",
            "TERM",
            "TMPDIR",
            "TOKENIZER",
            "TOKENIZERS_PARALLELISM",
            "SSH_AUTH_SOCK",
            "TRACKER_RUN_ID",
            "TRACKER_WORKDIR",
            "TRACKER_AGENT_TOOLS_VISIBLE",
            "CARGO_HOME",
            "KEYBOARD_LAYOUT",
            "ANTHROPIC_BASE_URL",
        ];
        for name in plain {
            assert!(!is_secret(OsStr::new(name)), "{name} should pass");
        }
    }

    #[test]
    fn secrets_are_filtered_out() {
        let vars = without_secrets([
            ("PATH".into(), "/bin".into()),
            ("MYSQL_PWD".into(), "x".into()),
            ("PWD".into(), "/work".into()),
        ]);
        let names: Vec<_> = vars.iter().map(|(n, _)| n.to_string_lossy()).collect();
        assert_eq!(names, ["PATH", "PWD"]);
    }

    #[test]
    fn urls_with_passwords_are_secrets_whatever_the_name() {
        let secret = |name: &str, value: &str| is_secret_var(OsStr::new(name), OsStr::new(value));
        assert!(secret("REDIS_URL", "redis://:pw@localhost:6379/0"));
        assert!(secret(
            "MONGODB_URI",
            "mongodb+srv://u:p@cluster0.example.net/db"
        ));
        assert!(secret("HTTPS_PROXY", "http://user:pw@proxy:3128"));
        assert!(!secret("HTTPS_PROXY", "http://proxy:3128"));
        assert!(!secret("GIT_URL", "https://user@example.com/repo.git"));
        assert!(!secret("HOMEPAGE", "https://example.com/a:b@c"));
        assert!(!secret("PATH", "/usr/bin:/bin"));
        // Everyday names ending in words like KEY's neighbours stay.
        for name in ["KEYBOARD", "MONKEY", "PASSTHROUGH", "SSH_AUTH_SOCK", "PATH"] {
            assert!(!is_secret(OsStr::new(name)), "{name}");
        }
    }

    #[test]
    fn remembered_secret_values_are_cut_out_of_text() {
        remember_values([
            ("QA_ONE_API_KEY", "sk-remembered-0123456789"),
            ("QA_SHORT_PASS", "postgres"),
            ("QA_PLAIN_SETTING", "not-a-secret-value"),
            ("QA_APPLICATION_CREDENTIALS", "/home/me/key.json"),
            ("QA_DATABASE_URL", "postgres://localhost/app"),
            ("QA_OTHER_DATABASE_URL", "postgres://me:hunter22@db/app"),
        ]);
        let text = "key=sk-remembered-0123456789\nsetting=not-a-secret-value postgres";
        assert_eq!(
            redact_known(text),
            "key=****\nsetting=not-a-secret-value postgres"
        );
        assert!(matches!(redact_known("nothing here"), Cow::Borrowed(_)));
        // Paths and password-less connection strings are no secrets.
        let plain = "at /home/me/key.json, postgres://localhost/app";
        assert_eq!(redact_known(plain), plain);
        assert_eq!(redact_known("postgres://me:hunter22@db/app"), "****");
        // Writing the masked copy back over the real key is caught.
        let on_disk = "A=1\nKEY=sk-remembered-0123456789\n";
        assert!(erases_known(on_disk, "A=2\nKEY=****\n"));
        assert!(!erases_known(
            on_disk,
            "A=2\nKEY=sk-remembered-0123456789\n"
        ));
        assert!(!erases_known("A=1\n", "A=****\n"));
    }

    #[test]
    fn pieces_of_a_secret_at_a_cut_or_a_line_break_are_cut_out_too() {
        let key = "sk-piece-4f9a1c7e2b8d6a3f0e5c9b7a1d2e";
        remember_values([("QA_PIECE_API_KEY", key)]);
        // Output cut to its last bytes starts inside the key.
        let tail = format!("{}\nok\n", &key[10..]);
        assert_eq!(redact_known(&tail), "****\nok\n");
        // Output cut to its first bytes ends inside it.
        let head = format!("key: {}", &key[..20]);
        assert_eq!(redact_known(&head), "key: ****");
        // A key wrapped across two lines.
        let wrapped = format!("{}\n{}", &key[..18], &key[18..]);
        assert_eq!(redact_known(&wrapped), "****\n****");
        // A short piece, or text merely starting like the key, stays.
        assert_eq!(redact_known(&key[30..]), &key[30..]);
        assert_eq!(
            redact_known("sk-piece- is the prefix"),
            "sk-piece- is the prefix"
        );
        // Multi-byte text next to a piece keeps its characters whole.
        let accented = format!("é{}\né", &key[..20]);
        assert_eq!(redact_known(&accented), "é****\né");
        // A piece in the middle of a line is no cut's or wrap's: kept.
        let inside = format!("a {} b", &key[..20]);
        assert_eq!(redact_known(&inside), inside);
    }

    #[test]
    fn short_passwords_and_connection_strings_are_cut_out_only_whole() {
        remember_values([
            ("QA_PG_PASSWORD", "postgres2024-prod"),
            (
                "QA_ORDERS_DATABASE_URL",
                "postgres://app:s3cret-pass-word-0123456789@db.prod.internal:5432/orders",
            ),
        ]);
        // Text sharing their starts or ends is left alone.
        for text in [
            "postgres is up\nlistening",
            "connecting to db.prod.internal:5432/orders",
            "postgres://app:",
        ] {
            assert_eq!(redact_known(text), text);
        }
        assert_eq!(redact_known("pw postgres2024-prod"), "pw ****");
        // The URL's password is remembered on its own, and is long enough
        // for its pieces to count.
        assert_eq!(redact_known("pw=s3cret-pass-word-0123456789"), "pw=****");
    }

    #[test]
    fn writing_back_a_masked_piece_is_caught() {
        let key = "sk-erase-piece-0a1b2c3d4e5f6a7b8c9d";
        remember_values([("QA_ERASE_API_KEY", key)]);
        // A file holding a key wrapped over two lines, shown masked.
        let on_disk = format!("k1={}\n{}\n", &key[..20], &key[20..]);
        let shown = redact_known(&on_disk).into_owned();
        assert!(shown.contains(REDACTED), "{shown}");
        assert!(erases_known(&on_disk, &format!("{shown}x=1\n")));
        assert!(!erases_known(&on_disk, &format!("{on_disk}x=1\n")));
    }

    #[test]
    fn bytes_around_a_secret_are_kept_as_they_are() {
        let key = "sk-bytes-77c1e0a94b2f5d8e3a6c";
        remember_values([("QA_BYTES_API_KEY", key)]);
        let mut binary = vec![0xff, 0x00, 0xfe];
        binary.extend_from_slice(key.as_bytes());
        binary.push(0x80);
        assert_eq!(
            redact_known_bytes(&binary).as_ref(),
            [&[0xff, 0x00, 0xfe][..], b"****", &[0x80]].concat()
        );
        assert!(matches!(
            redact_known_bytes(b"\xff plain"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn a_key_in_a_base_url_is_remembered_whatever_the_variable() {
        remember_values([
            (
                "QA_GEMINI_BASE_URL",
                "https://proxy.example/v1beta?alt=sse&KEY=AIzaQueryKey0123456789#x",
            ),
            ("QA_PROXY", "http://me:proxy-password-123@proxy:3128"),
            ("QA_SHORT_QUERY", "https://example.com/?token=short"),
        ]);
        assert_eq!(redact_known("AIzaQueryKey0123456789"), "****");
        assert_eq!(redact_known("pw proxy-password-123"), "pw ****");
        assert_eq!(redact_known("token short"), "token short");
    }
}
