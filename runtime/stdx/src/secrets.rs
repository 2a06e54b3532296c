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

/// The secret values this process loaded, longest first (so that a value
/// holding another is cut whole).
static KNOWN: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Remembers the values of the secret variables among `vars` (by
/// [`is_secret_var`], at least [`SHORTEST_REMEMBERED`] bytes long), for
/// [`redact_known`]. Called where tracker loads its keys; values already
/// remembered stay.
pub fn remember_values<'a>(vars: impl IntoIterator<Item = (&'a str, &'a str)>) {
    let mut known = KNOWN.write().unwrap_or_else(PoisonError::into_inner);
    for (name, value) in vars {
        let value = value.trim();
        if worth_remembering(name, value) && !known.iter().any(|k| k == value) {
            known.push(value.to_string());
        }
    }
    known.sort_by_key(|k| std::cmp::Reverse(k.len()));
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

/// Whether writing `new` over `old` would put [`REDACTED`] where `old` holds
/// a remembered secret: an agent that read a file with a key cut out, then
/// wrote the whole file back, would destroy the key.
pub fn erases_known(old: &str, new: &str) -> bool {
    let known = KNOWN.read().unwrap_or_else(PoisonError::into_inner);
    new.contains(REDACTED)
        && known
            .iter()
            .any(|secret| old.contains(secret.as_str()) && !new.contains(secret.as_str()))
}

/// `text` with every remembered secret value replaced by [`REDACTED`]
/// (borrowed, and costing one search per value, when it holds none).
pub fn redact_known(text: &str) -> Cow<'_, str> {
    let known = KNOWN.read().unwrap_or_else(PoisonError::into_inner);
    let mut out = Cow::Borrowed(text);
    for secret in known.iter() {
        if out.contains(secret.as_str()) {
            out = Cow::Owned(out.replace(secret.as_str(), REDACTED));
        }
    }
    out
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
}
