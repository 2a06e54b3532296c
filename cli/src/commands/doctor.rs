//! `tracker doctor`: is this machine ready to run pipelines? Each check
//! prints `✓`, `⚠` or `✗` with a hint; the footer counts them. Exit 0 when
//! everything passed, 1 on any failure, 2 on warnings only (as the
//! reference).
//!
//! Provider keys are shown masked (`abcd...wxyz`), base URLs without their
//! credentials (`https://user:****@host/?api_key=****`). Unless `--no-probe` is
//! given, each configured provider gets one tiny live request, so a rejected
//! key is told apart from an unreachable base URL.

use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use dippin::diagnostic::printable_line;
use tracker_actors::provider::transport::HttpTransport;
use tracker_runtime::llm::codecs;
use tracker_runtime::llm::config::{self, Env, ProviderSettings};
use tracker_runtime::llm::redact::redact_url;
use tracker_runtime::llm::{ErrorKind, Message, Request};

use crate::args::DoctorArgs;
use crate::exit;

/// Prints a line of the report; a reader gone from stdout (`| head`) ends
/// nothing: the checks are cheap, and their exit status still counts.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// The model each provider is probed with (cheap ones, as the reference).
fn probe_model(provider: &str) -> &'static str {
    match provider {
        "anthropic" => "claude-haiku-4-5",
        "gemini" => "gemini-3-flash-preview",
        _ => "gpt-4o-mini",
    }
}

/// How long a probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Default)]
struct Report {
    passed: u32,
    warnings: u32,
    failures: u32,
}

impl Report {
    fn pass(&mut self, text: String) {
        self.passed += 1;
        say!("  ✓ {}", printable_line(&text));
    }

    fn warn(&mut self, text: String, hint: &str) {
        self.warnings += 1;
        say!("  ⚠ {}", printable_line(&text));
        say!("    → {}", printable_line(hint));
    }

    fn fail(&mut self, text: String, hint: &str) {
        self.failures += 1;
        say!("  ✗ {}", printable_line(&text));
        say!("    → {}", printable_line(hint));
    }
}

/// Runs every check.
pub fn run(args: &DoctorArgs) -> Result<u8> {
    let cwd = std::env::current_dir()?;
    let workdir = args
        .workdir
        .as_ref()
        .map_or_else(|| cwd.clone(), |w| cwd.join(w));
    let mut report = Report::default();

    say!("Environment");
    for name in ["TRACKER_PASS_ENV", "TRACKER_PASS_API_KEYS"] {
        if std::env::var_os(name).is_some() {
            report.warn(
                format!("{name} is set"),
                "tool commands will see secrets from the environment; unset it unless you need that",
            );
        }
    }
    let env = match Env::load(&workdir) {
        Ok(env) => {
            report.pass("env files read".to_string());
            for warning in env.warnings() {
                report.warn(
                    warning.clone(),
                    "remove the variable from the project's .env unless you trust it",
                );
            }
            env
        }
        Err(e) => {
            report.fail(format!("env file: {e}"), "fix the line or remove the file");
            Env::from_process()
        }
    };

    say!("LLM providers");
    check_providers(&env, !args.no_probe, &mut report);

    say!("Working directory");
    check_workdir(&workdir, &env, &mut report);

    say!("Optional binaries");
    if which("git", &env) {
        report.pass("git found".to_string());
    } else {
        report.warn(
            "git not found on PATH".to_string(),
            "install git; pipelines that commit or diff need it",
        );
    }

    say!(
        "\n{} passed, {} warnings, {} failures",
        report.passed,
        report.warnings,
        report.failures
    );
    Ok(if report.failures > 0 {
        exit::FAILURE
    } else if report.warnings > 0 {
        exit::WARNINGS
    } else {
        exit::OK
    })
}

fn check_providers(env: &Env, probe: bool, report: &mut Report) {
    let mut configured = Vec::new();
    for provider in config::PROVIDERS {
        match config::resolve(provider, env) {
            Ok(Some(settings)) => configured.push(settings),
            Ok(None) => {}
            Err(e) => report.fail(
                format!("{provider}: {e}"),
                "check TRACKER_GATEWAY_URL and TRACKER_GATEWAY_KIND",
            ),
        }
    }
    if configured.is_empty() {
        report.fail(
            "no LLM providers configured".to_string(),
            "run `tracker setup`, or set ANTHROPIC_API_KEY, OPENAI_API_KEY, GEMINI_API_KEY or OPENAI_COMPAT_API_KEY (or use `--provider stub` to run offline)",
        );
        return;
    }
    for settings in configured {
        let key = &settings.api_key;
        let shown = format!(
            "{}: key {} from {}, {}",
            settings.provider,
            key.masked(),
            settings.key_var,
            redact_url(&settings.base_url)
        );
        let expected_prefix = match settings.provider {
            "anthropic" => Some("sk-ant-"),
            "openai" | "openai-compat" => Some("sk-"),
            _ => None,
        };
        if let Some(prefix) = expected_prefix.filter(|p| !key.expose().starts_with(p)) {
            report.warn(
                format!("{shown} (the key does not start with {prefix})"),
                "check that the key belongs to this provider",
            );
        } else {
            report.pass(shown);
        }
        if probe {
            probe_provider(settings, report);
        }
    }
}

fn probe_provider(settings: ProviderSettings, report: &mut Report) {
    let provider = settings.provider;
    let Some(codec) = codecs::for_provider(provider) else {
        return;
    };
    let request = Request {
        provider: provider.to_string(),
        model: probe_model(provider).to_string(),
        messages: vec![Message::user("Reply with the word ok.")],
        max_tokens: 16,
        ..Request::default()
    };
    let result = HttpTransport::new(codec, settings, PROBE_TIMEOUT).and_then(|transport| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                tracker_runtime::llm::ProviderError::new(
                    ErrorKind::Configuration,
                    provider,
                    e.to_string(),
                )
            })?;
        runtime.block_on(transport.attempt(&request, None))
    });
    match result {
        Ok(_) => report.pass(format!("{provider}: reachable, key accepted")),
        Err(e) => match e.kind {
            ErrorKind::Authentication | ErrorKind::AccessDenied => report.fail(
                format!("{provider}: key rejected: {e}"),
                "check or replace the key (`tracker setup`)",
            ),
            ErrorKind::Network | ErrorKind::StreamIdle => report.fail(
                format!("{provider}: unreachable: {e}"),
                "check the network and the base URL",
            ),
            ErrorKind::Quota => report.fail(
                format!("{provider}: out of credit: {e}"),
                "add credit or raise the quota with the provider",
            ),
            _ => report.warn(
                format!("{provider}: the probe call failed: {e}"),
                "the key may still work for the models your pipelines use",
            ),
        },
    }
}

fn check_workdir(workdir: &Path, env: &Env, report: &mut Report) {
    let shown = workdir.display();
    match std::fs::metadata(workdir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            report.fail(
                format!("{shown} does not exist"),
                "create it, or pass -w a directory that exists",
            );
            return;
        }
        Ok(meta) if !meta.is_dir() => {
            report.fail(
                format!("{shown} is not a directory"),
                "pass -w the directory pipelines run in",
            );
            return;
        }
        _ => {}
    }
    match tempfile::NamedTempFile::new_in(workdir) {
        Ok(_) => report.pass(format!("{shown} is writable")),
        Err(e) => {
            // The error alone: its path is the probe's random file name.
            report.fail(
                format!("{shown} is not writable: {}", e.kind()),
                "run from a directory you can write to, or pass -w",
            );
            return;
        }
    }
    let home = env.get("HOME").map(Path::new);
    if workdir == Path::new("/") || home == Some(workdir) {
        report.warn(
            format!("{shown} is a broad place to run pipelines in"),
            "run from a project directory: agents and tools write files here",
        );
    }
}

fn which(program: &str, env: &Env) -> bool {
    env.get("PATH")
        .map(|path| {
            std::env::split_paths(path).any(|dir| {
                let candidate = dir.join(program);
                candidate.is_file()
            })
        })
        .unwrap_or(false)
}
