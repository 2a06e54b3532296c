//! Which providers are configured, with which key and base URL.
//!
//! Keys and URLs come from the environment, overlaid on two `.env` files as
//! the reference: `$XDG_CONFIG_HOME/tracker/.env` (or
//! `~/.config/tracker/.env`), then `<workdir>/.env`. The shell always wins,
//! and the workdir file beats the XDG one. Values read from the files are kept
//! in [`Env`], never exported to the process environment, so they cannot leak
//! into tool subprocesses.
//!
//! Base URLs resolve in order: the provider's `*_BASE_URL`, then
//! `TRACKER_GATEWAY_URL` plus the gateway kind's per-provider suffix, then the
//! provider's public endpoint.
//!
//! **A project's `.env` cannot redirect keys it did not set.** A repository
//! someone cloned may ship a `.env`; the user's own keys (from the shell or
//! the user's env file) must not follow an endpoint it names. So [`Env`]
//! remembers where each value came from ([`Source`]), and an endpoint variable
//! ([`ENDPOINT_VARS`]: the `*_BASE_URL`s and `TRACKER_GATEWAY_URL`) read from
//! `<workdir>/.env` is used for a provider only when that provider's key
//! comes from the same file. Otherwise it is ignored for that provider (a
//! value the user's env file had for it counts instead) and
//! [`Env::warnings`] says so. Command-line flags (`--gateway-url`) are the
//! user's own and always count.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::{anthropic, chat, gemini, openai};

/// The providers with a wire format, in the order the default provider is
/// picked (the first with a key).
pub const PROVIDERS: [&str; 4] = ["anthropic", "openai", "gemini", "openai-compat"];

/// Why provider configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// An env file exists but could not be read or parsed.
    #[error("{path}: {message}")]
    EnvFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The gateway cannot route this provider.
    #[error("gateway route refused: {kind} gateway does not serve provider {provider:?}")]
    GatewayRouteRefused {
        /// The gateway kind.
        kind: String,
        /// The provider.
        provider: String,
    },
    /// `TRACKER_GATEWAY_KIND` names no known gateway.
    #[error("unknown gateway kind {0:?} in TRACKER_GATEWAY_KIND (expected cf-aig or bedrock)")]
    UnknownGatewayKind(String),
}

/// The variables that say where a provider's requests, and so its key, go.
pub const ENDPOINT_VARS: [&str; 5] = [
    "ANTHROPIC_BASE_URL",
    "OPENAI_BASE_URL",
    "GEMINI_BASE_URL",
    "OPENAI_COMPAT_BASE_URL",
    "TRACKER_GATEWAY_URL",
];

/// Where a variable's value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The process environment, or a command-line flag.
    Shell,
    /// The user's env file (`~/.config/tracker/.env`).
    UserFile(PathBuf),
    /// The working directory's `.env`, which a cloned repository may ship.
    WorkdirFile(PathBuf),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Shell => f.write_str("the shell environment"),
            Source::UserFile(path) | Source::WorkdirFile(path) => {
                write!(f, "{}", path.display())
            }
        }
    }
}

/// Environment variables as tracker sees them: the process environment over
/// the env files, each with where it came from.
#[derive(Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
    /// Variables read from an env file; the others are [`Source::Shell`].
    sources: HashMap<String, Source>,
    /// Values of the user's env file that the workdir `.env` overrode.
    shadowed: HashMap<String, String>,
    warnings: Vec<String>,
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values may be secrets: only names are shown.
        let mut names: Vec<&String> = self.vars.keys().collect();
        names.sort();
        f.debug_struct("Env").field("names", &names).finish()
    }
}

impl Env {
    /// The given variables only, as if from the shell (tests).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Env {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            ..Env::default()
        }
    }

    /// The process environment's variables whose names and values are UTF-8
    /// (a shell's `PWD` in a directory with another encoding is not, and no
    /// setting tracker reads is either).
    pub fn from_process() -> Env {
        Env::from_pairs(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        )
    }

    /// Remembers the values of its secret variables for the process, so that
    /// command and tool output is cleared of them
    /// ([`tracker_stdx::secrets::redact_known`]); the shadowed values of the
    /// user's env file count too.
    pub fn remember_secrets(&self) {
        tracker_stdx::secrets::remember_values(
            self.vars
                .iter()
                .chain(&self.shadowed)
                .map(|(name, value)| (name.as_str(), value.as_str())),
        );
    }

    /// The process environment over the user's and `workdir`'s env files.
    pub fn load(workdir: &Path) -> Result<Env, ConfigError> {
        Env::from_process().with_env_files(workdir)
    }

    /// These variables over the user's and `workdir`'s env files.
    pub fn with_env_files(mut self, workdir: &Path) -> Result<Env, ConfigError> {
        let mut files = Vec::new();
        let user = user_env_file(&self);
        if let Some(user) = &user {
            files.push((user.clone(), Source::UserFile(user.clone())));
        }
        let project = workdir.join(".env");
        // Run from the user's config directory, the file is the user's own.
        if user.as_deref() != Some(project.as_path()) {
            files.push((project.clone(), Source::WorkdirFile(project)));
        }
        // Later files win over earlier ones; the shell wins over both.
        let mut from_files: HashMap<String, (String, Source)> = HashMap::new();
        for (path, source) in files {
            for (key, value) in read_env_file(&path)? {
                let earlier = from_files.insert(key.clone(), (value, source.clone()));
                if let Some((value, Source::UserFile(_))) = earlier {
                    if matches!(source, Source::WorkdirFile(_)) {
                        self.shadowed.insert(key, value);
                    }
                }
            }
        }
        for (key, (value, source)) in from_files {
            if !self.vars.contains_key(&key) {
                self.vars.insert(key.clone(), value);
                self.sources.insert(key, source);
            }
        }
        self.warnings = self.endpoint_warnings();
        Ok(self)
    }

    /// Sets a variable (command-line flags that stand for one): it counts as
    /// the user's own.
    pub fn set(&mut self, name: &str, value: &str) {
        self.vars.insert(name.to_string(), value.to_string());
        self.sources.remove(name);
    }

    /// A variable's value; empty values count as unset.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// Where `name`'s value came from.
    pub fn source(&self, name: &str) -> Source {
        self.sources.get(name).cloned().unwrap_or(Source::Shell)
    }

    /// What loading found worth telling the user: endpoint variables in the
    /// working directory's `.env` that are ignored (see the module docs).
    /// Each is one line, without a `warning:` prefix.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The endpoint variable `var` for `provider`'s requests. When it comes
    /// from the workdir `.env` while `provider`'s key does not come from that
    /// same file, it is skipped: the user's env file's value counts if it had
    /// one, else the variable is unset.
    pub fn endpoint(&self, var: &str, provider: &str) -> Option<&str> {
        let value = self.get(var)?;
        match self.distrusted(var, provider) {
            Some(_) => self
                .shadowed
                .get(var)
                .map(String::as_str)
                .filter(|v| !v.trim().is_empty()),
            None => Some(value),
        }
    }

    /// Why `var` may not carry `provider`'s key: its source and the key's
    /// variable and source, or `None` when it may (it is not from a workdir
    /// file, the key comes from the same file, or there is no key).
    fn distrusted(&self, var: &str, provider: &str) -> Option<(Source, &'static str, Source)> {
        let url_source = self.source(var);
        if !matches!(url_source, Source::WorkdirFile(_)) {
            return None;
        }
        let key_var = key_vars(provider)
            .iter()
            .copied()
            .find(|name| self.get(name).is_some())?;
        let key_source = self.source(key_var);
        (key_source != url_source).then_some((url_source, key_var, key_source))
    }

    fn endpoint_warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        for var in ENDPOINT_VARS {
            if self.get(var).is_none() {
                continue;
            }
            let providers: Vec<&str> =
                match PROVIDERS.into_iter().find(|p| base_url_var(p) == Some(var)) {
                    Some(provider) => vec![provider],
                    None => PROVIDERS.to_vec(),
                };
            for provider in providers {
                if let Some((file, key_var, key_source)) = self.distrusted(var, provider) {
                    warnings.push(format!(
                        "ignoring {var} from {file} for provider {provider}: its API key ({key_var}) comes from {key_source}, and a working directory's .env may only redirect a key it sets itself (a cloned repository could send your key to any server); if you trust this endpoint, set {var} in your shell or your own env file"
                    ));
                }
            }
        }
        warnings
    }
}

/// The user's env file: `$XDG_CONFIG_HOME/tracker/.env`, else
/// `$HOME/.config/tracker/.env`.
pub fn user_env_file(env: &Env) -> Option<PathBuf> {
    if let Some(xdg) = env.get("XDG_CONFIG_HOME") {
        return Some(Path::new(xdg).join("tracker").join(".env"));
    }
    env.get("HOME")
        .map(|home| Path::new(home).join(".config").join("tracker").join(".env"))
}

/// The `KEY=value` pairs of an env file; a missing file has none.
pub fn read_env_file(path: &Path) -> Result<Vec<(String, String)>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        // No file, or no directory to hold one (a workdir that is a file: said
        // where the workdir is checked).
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(Vec::new())
        }
        Err(e) => {
            return Err(ConfigError::EnvFile {
                path: path.to_path_buf(),
                message: e.to_string(),
            })
        }
    };
    let mut pairs = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            return Err(ConfigError::EnvFile {
                path: path.to_path_buf(),
                message: format!("line {}: expected KEY=value", number + 1),
            });
        };
        pairs.push((key.trim().to_string(), unquote(value.trim()).to_string()));
    }
    Ok(pairs)
}

fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        // A quoted value ends at its closing quote; a comment may follow it
        // (`KEY="value"  # work key`).
        if let Some((inner, rest)) = value.strip_prefix(quote).and_then(|v| v.split_once(quote)) {
            let rest = rest.trim();
            if rest.is_empty() || rest.starts_with('#') {
                return inner;
            }
        }
    }
    // An unquoted value ends at a comment.
    value.split(" #").next().unwrap_or(value).trim_end()
}

/// An API key. It prints as `ApiKey(****)`; the value is only reachable
/// through [`ApiKey::expose`], which the transport calls to set a header.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps `key`.
    pub fn new(key: impl Into<String>) -> ApiKey {
        ApiKey(key.into())
    }

    /// The key itself.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The key as `tracker doctor` shows it: `abcd...wxyz`, or `****` for
    /// short keys.
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        if chars.len() < 12 {
            return "****".to_string();
        }
        let head: String = chars[..4].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}...{tail}")
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(****)")
    }
}

/// One provider, ready to call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderSettings {
    /// The provider (`anthropic`, `openai`, `gemini`, `openai-compat`).
    pub provider: &'static str,
    /// Its key.
    pub api_key: ApiKey,
    /// The variable the key came from.
    pub key_var: &'static str,
    /// Its base URL, without a trailing slash.
    pub base_url: String,
}

/// The variables a provider's key may be in, in the order they are read.
pub fn key_vars(provider: &str) -> &'static [&'static str] {
    match provider {
        "anthropic" => &["ANTHROPIC_API_KEY"],
        "openai" => &["OPENAI_API_KEY"],
        "gemini" => &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
        "openai-compat" => &["OPENAI_COMPAT_API_KEY"],
        _ => &[],
    }
}

/// The variable that overrides a provider's base URL.
pub fn base_url_var(provider: &str) -> Option<&'static str> {
    Some(match provider {
        "anthropic" => "ANTHROPIC_BASE_URL",
        "openai" => "OPENAI_BASE_URL",
        "gemini" => "GEMINI_BASE_URL",
        "openai-compat" => "OPENAI_COMPAT_BASE_URL",
        _ => return None,
    })
}

/// A provider's public endpoint.
pub fn default_base_url(provider: &str) -> Option<&'static str> {
    Some(match provider {
        "anthropic" => anthropic::DEFAULT_BASE_URL,
        "openai" => openai::DEFAULT_BASE_URL,
        "gemini" => gemini::DEFAULT_BASE_URL,
        "openai-compat" => chat::DEFAULT_BASE_URL,
        _ => return None,
    })
}

/// Where `provider`'s requests go. Endpoints a working directory's `.env`
/// may not set for this provider are skipped (see [`Env::endpoint`]).
pub fn base_url(provider: &str, env: &Env) -> Result<String, ConfigError> {
    let url = if let Some(url) = base_url_var(provider).and_then(|var| env.endpoint(var, provider))
    {
        url.to_string()
    } else if let Some(gateway) = env.endpoint("TRACKER_GATEWAY_URL", provider) {
        let kind = env.get("TRACKER_GATEWAY_KIND").unwrap_or("cf-aig");
        let refused = || ConfigError::GatewayRouteRefused {
            kind: kind.to_string(),
            provider: provider.to_string(),
        };
        let suffix = match (kind, provider) {
            ("cf-aig", "anthropic") => "/anthropic",
            ("cf-aig", "openai") => "/openai",
            ("cf-aig", "gemini") => "/google-ai-studio",
            ("cf-aig", "openai-compat") => "/compat",
            ("bedrock", "anthropic") => "",
            ("bedrock", "openai" | "gemini") => "/v1",
            ("cf-aig" | "bedrock", _) => return Err(refused()),
            (other, _) => return Err(ConfigError::UnknownGatewayKind(other.to_string())),
        };
        format!("{}{suffix}", gateway.trim_end_matches('/'))
    } else {
        default_base_url(provider).unwrap_or_default().to_string()
    };
    // The path is trimmed apart from the query (`…/v1?key=…`), which the
    // request keeps after the endpoint's path.
    let (path, query) = match url.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (url.as_str(), None),
    };
    let mut path = path.trim_end_matches('/');
    // The codecs add the version segment themselves.
    if matches!(provider, "openai" | "openai-compat") {
        path = path.strip_suffix("/v1").unwrap_or(path);
    }
    Ok(match query {
        Some(query) => format!("{path}?{query}"),
        None => path.to_string(),
    })
}

/// `provider`'s settings, or `None` when no key is set for it.
pub fn resolve(provider: &str, env: &Env) -> Result<Option<ProviderSettings>, ConfigError> {
    let Some(name) = PROVIDERS.into_iter().find(|p| *p == provider) else {
        return Ok(None);
    };
    let Some((key_var, key)) = key_vars(name)
        .iter()
        .find_map(|var| env.get(var).map(|key| (*var, key)))
    else {
        return Ok(None);
    };
    Ok(Some(ProviderSettings {
        provider: name,
        api_key: ApiKey::new(key.trim()),
        key_var,
        base_url: base_url(name, env)?,
    }))
}

/// The providers with a key, in [`PROVIDERS`] order.
pub fn configured(env: &Env) -> Vec<&'static str> {
    PROVIDERS
        .into_iter()
        .filter(|p| key_vars(p).iter().any(|var| env.get(var).is_some()))
        .collect()
}

/// What to tell a user whose pipeline needs `provider` but has no key for it.
pub fn missing_key_message(provider: &str) -> String {
    match key_vars(provider) {
        [] => format!(
            "no LLM client for provider {provider:?}: known providers are {}, or run offline with `--provider stub`",
            PROVIDERS.join(", ")
        ),
        vars => format!(
            "provider {provider:?} has no API key: set {} (or run `tracker setup` to store one), or run offline with `--provider stub`",
            vars.join(" or ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_urls_resolve_in_the_reference_order() {
        let env = Env::from_pairs([
            ("GOOGLE_API_KEY", "g-key"),
            ("OPENAI_API_KEY", "sk-1"),
            ("OPENAI_BASE_URL", "http://127.0.0.1:9/v1/"),
        ]);
        assert_eq!(configured(&env), ["openai", "gemini"]);
        let openai = resolve("openai", &env).expect("ok").expect("configured");
        assert_eq!(openai.base_url, "http://127.0.0.1:9");
        let gemini = resolve("gemini", &env).expect("ok").expect("configured");
        assert_eq!(gemini.key_var, "GOOGLE_API_KEY");
        assert_eq!(gemini.base_url, gemini::DEFAULT_BASE_URL);
        assert!(resolve("anthropic", &env).expect("ok").is_none());
        assert!(format!("{openai:?}").contains("ApiKey(****)"));
        assert!(!format!("{openai:?}").contains("sk-1"));
        // The version segment goes whatever query follows it.
        let queried = Env::from_pairs([("OPENAI_BASE_URL", "http://h/v1/?key=k")]);
        assert_eq!(base_url("openai", &queried).expect("url"), "http://h?key=k");
    }

    #[test]
    fn gateways_route_by_kind() {
        let env = Env::from_pairs([("TRACKER_GATEWAY_URL", "https://gw.example/acct/")]);
        assert_eq!(
            base_url("gemini", &env).expect("routed"),
            "https://gw.example/acct/google-ai-studio"
        );
        let bedrock = Env::from_pairs([
            ("TRACKER_GATEWAY_URL", "https://bedrock.example"),
            ("TRACKER_GATEWAY_KIND", "bedrock"),
        ]);
        assert_eq!(
            base_url("anthropic", &bedrock).expect("routed"),
            "https://bedrock.example"
        );
        assert!(matches!(
            base_url("openai-compat", &bedrock),
            Err(ConfigError::GatewayRouteRefused { .. })
        ));
    }

    #[test]
    fn env_files_never_override_the_shell_and_the_workdir_wins() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("config");
        std::fs::create_dir_all(config.join("tracker")).expect("mkdir");
        std::fs::write(
            config.join("tracker/.env"),
            "ANTHROPIC_API_KEY=from-user\nOPENAI_API_KEY=from-user\n",
        )
        .expect("write");
        std::fs::write(
            dir.path().join(".env"),
            "# comment\nexport OPENAI_API_KEY=\"from-workdir\"\n",
        )
        .expect("write");
        let shell = Env::from_pairs([
            ("XDG_CONFIG_HOME", config.to_string_lossy().to_string()),
            ("GEMINI_API_KEY", "from-shell".to_string()),
        ]);
        std::fs::write(
            config.join("tracker/.env"),
            "ANTHROPIC_API_KEY=from-user\nOPENAI_API_KEY=from-user\nGEMINI_API_KEY=from-user\n",
        )
        .expect("write");
        let env = shell.with_env_files(dir.path()).expect("loads");
        assert_eq!(env.get("ANTHROPIC_API_KEY"), Some("from-user"));
        assert_eq!(env.get("OPENAI_API_KEY"), Some("from-workdir"));
        assert_eq!(env.get("GEMINI_API_KEY"), Some("from-shell"));
        let pairs = read_env_file(&dir.path().join(".env")).expect("parses");
        assert_eq!(
            pairs,
            [("OPENAI_API_KEY".to_string(), "from-workdir".to_string())]
        );
        assert!(read_env_file(&dir.path().join("missing"))
            .expect("ok")
            .is_empty());
        std::fs::write(
            dir.path().join("commented"),
            "A=\"sk-a\"  # work key\nB='sk-b' #x\nC=sk-c # note\nD=\"va\"lue\"\n",
        )
        .expect("write");
        let pairs = read_env_file(&dir.path().join("commented")).expect("parses");
        let values: Vec<&str> = pairs.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(values, ["sk-a", "sk-b", "sk-c", "\"va\"lue\""]);
        std::fs::write(dir.path().join("bad"), "NOEQUALS\n").expect("write");
        let err = read_env_file(&dir.path().join("bad")).expect_err("bad line");
        assert!(err.to_string().contains("line 1"), "{err}");
        assert_eq!(
            ApiKey::new("sk-ant-0123456789abcdef").masked(),
            "sk-a...cdef"
        );
    }

    /// A user env file and a workdir `.env` under `dir`, and a shell with
    /// `shell` set and the user file in reach.
    fn env_with(dir: &Path, user: &str, workdir: &str, shell: &[(&str, &str)]) -> Env {
        let config = dir.join("config");
        std::fs::create_dir_all(config.join("tracker")).expect("mkdir");
        std::fs::write(config.join("tracker/.env"), user).expect("write");
        std::fs::write(dir.join(".env"), workdir).expect("write");
        let mut pairs = vec![(
            "XDG_CONFIG_HOME".to_string(),
            config.to_string_lossy().to_string(),
        )];
        pairs.extend(shell.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Env::from_pairs(pairs).with_env_files(dir).expect("loads")
    }

    #[test]
    fn a_workdir_env_file_cannot_redirect_a_key_from_elsewhere() {
        let dir = tempfile::tempdir().expect("tempdir");
        let evil =
            "ANTHROPIC_BASE_URL=http://127.0.0.1:9\nTRACKER_GATEWAY_URL=http://127.0.0.1:8\n";
        // The key from the shell.
        let env = env_with(dir.path(), "", evil, &[("ANTHROPIC_API_KEY", "sk-shell")]);
        let settings = resolve("anthropic", &env).expect("ok").expect("configured");
        assert_eq!(settings.base_url, anthropic::DEFAULT_BASE_URL);
        assert_eq!(env.source("ANTHROPIC_API_KEY"), Source::Shell);
        assert_eq!(
            env.source("ANTHROPIC_BASE_URL"),
            Source::WorkdirFile(dir.path().join(".env"))
        );
        let warnings = env.warnings().join("\n");
        assert_eq!(env.warnings().len(), 2, "{warnings}");
        let file = dir.path().join(".env").display().to_string();
        for needle in [
            "ignoring ANTHROPIC_BASE_URL from",
            "ignoring TRACKER_GATEWAY_URL from",
            file.as_str(),
            "ANTHROPIC_API_KEY) comes from the shell environment",
            "may only redirect a key it sets itself",
        ] {
            assert!(warnings.contains(needle), "{needle}: {warnings}");
        }
        // The key from the user's own env file; so is the URL that counts.
        let env = env_with(dir.path(), "ANTHROPIC_API_KEY=sk-user\n", evil, &[]);
        let settings = resolve("anthropic", &env).expect("ok").expect("configured");
        assert_eq!(settings.base_url, anthropic::DEFAULT_BASE_URL);
        let own = env_with(
            dir.path(),
            "ANTHROPIC_API_KEY=sk-user\nANTHROPIC_BASE_URL=http://127.0.0.1:5\n",
            evil,
            &[],
        );
        let settings = resolve("anthropic", &own).expect("ok").expect("configured");
        assert_eq!(settings.base_url, "http://127.0.0.1:5");
        assert!(
            env.warnings()[0].contains("comes from") && env.warnings()[0].contains("config"),
            "{:?}",
            env.warnings()
        );
        // Gemini's second key variable counts as its key too.
        let env = env_with(
            dir.path(),
            "GOOGLE_API_KEY=g-user\n",
            "GEMINI_BASE_URL=http://127.0.0.1:7\n",
            &[],
        );
        let gemini = resolve("gemini", &env).expect("ok").expect("configured");
        assert_eq!(gemini.base_url, gemini::DEFAULT_BASE_URL);
        assert!(env.warnings()[0].contains("GOOGLE_API_KEY"));
    }

    #[test]
    fn a_workdir_env_file_may_point_its_own_key_anywhere() {
        let dir = tempfile::tempdir().expect("tempdir");
        // Key and URL from the same workdir file: used, silently.
        let env = env_with(
            dir.path(),
            "",
            "OPENAI_API_KEY=sk-project\nOPENAI_BASE_URL=http://127.0.0.1:9/v1\nTRACKER_GATEWAY_URL=http://gw.example\n",
            &[("ANTHROPIC_API_KEY", "sk-shell")],
        );
        let openai = resolve("openai", &env).expect("ok").expect("configured");
        assert_eq!(openai.base_url, "http://127.0.0.1:9");
        assert_eq!(openai.api_key.expose(), "sk-project");
        // The gateway is the project's for its own key only.
        let anthropic = resolve("anthropic", &env).expect("ok").expect("configured");
        assert_eq!(anthropic.base_url, anthropic::DEFAULT_BASE_URL);
        assert_eq!(env.warnings().len(), 1, "{:?}", env.warnings());
        assert!(env.warnings()[0].contains("TRACKER_GATEWAY_URL"));
        assert!(env.warnings()[0].contains("provider anthropic"));
        // A shell key wins over the project's key, and then the project's
        // URL is not used for it.
        let env = env_with(
            dir.path(),
            "",
            "OPENAI_API_KEY=sk-project\nOPENAI_BASE_URL=http://127.0.0.1:9\n",
            &[("OPENAI_API_KEY", "sk-shell")],
        );
        let openai = resolve("openai", &env).expect("ok").expect("configured");
        assert_eq!(openai.base_url, "https://api.openai.com");
        assert_eq!(env.warnings().len(), 1);
        // URLs from the shell or the user's file are the user's own.
        let env = env_with(
            dir.path(),
            "ANTHROPIC_BASE_URL=http://127.0.0.1:5\n",
            "ANTHROPIC_API_KEY=sk-project\n",
            &[
                ("OPENAI_API_KEY", "sk-shell"),
                ("OPENAI_BASE_URL", "http://127.0.0.1:6"),
            ],
        );
        assert!(env.warnings().is_empty(), "{:?}", env.warnings());
        let anthropic = resolve("anthropic", &env).expect("ok").expect("configured");
        assert_eq!(anthropic.base_url, "http://127.0.0.1:5");
        let openai = resolve("openai", &env).expect("ok").expect("configured");
        assert_eq!(openai.base_url, "http://127.0.0.1:6");
        // A command-line gateway is the user's own too.
        let mut env = env_with(
            dir.path(),
            "",
            "TRACKER_GATEWAY_URL=http://127.0.0.1:4\n",
            &[("GEMINI_API_KEY", "g-shell")],
        );
        assert_eq!(
            base_url("gemini", &env).expect("ok"),
            gemini::DEFAULT_BASE_URL
        );
        env.set("TRACKER_GATEWAY_URL", "http://127.0.0.1:3");
        assert_eq!(
            base_url("gemini", &env).expect("ok"),
            "http://127.0.0.1:3/google-ai-studio"
        );
    }
}
