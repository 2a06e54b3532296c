//! Why a failed run stopped, in one line a person can act on: the step that
//! failed and what it said (a handler's error, a tool's standard error, an
//! agent's last response), and the kind of failure (user-surface §5.7) when
//! the text says which.

use dippin::diagnostic::printable_line;
use tracker_runtime::engine::RunResult;

/// How much of a reason the failure line keeps, in characters.
const REASON_LIMIT: usize = 240;

/// A kind of failure a person fixes in one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The provider could not be reached.
    Network,
    /// The provider refused the key.
    Auth,
    /// The provider asked to slow down.
    RateLimit,
    /// A call or a command ran out of time.
    Timeout,
    /// The prompt did not fit the model.
    ContextLength,
    /// Tracker itself is set up wrong (no key, unknown provider).
    Config,
    /// A safety filter refused.
    ContentFilter,
    /// Anything else.
    Generic,
}

impl FailureKind {
    /// The kind `reason` reads as. The phrases are those the provider
    /// clients' and the handlers' errors use.
    pub fn of(reason: &str) -> FailureKind {
        let lower = reason.to_ascii_lowercase();
        let says = |phrases: &[&str]| phrases.iter().any(|p| lower.contains(p));
        if says(&["network error", "connection refused", "dns error"]) {
            FailureKind::Network
        } else if says(&["authentication failed", "access denied", "invalid api key"]) {
            FailureKind::Auth
        } else if says(&["rate limited"]) {
            FailureKind::RateLimit
        } else if says(&["timed out", "went silent"]) {
            FailureKind::Timeout
        } else if says(&["too long for the model's context"]) {
            FailureKind::ContextLength
        } else if says(&["configuration error", "no llm providers configured"]) {
            FailureKind::Config
        } else if says(&["content filter"]) {
            FailureKind::ContentFilter
        } else {
            FailureKind::Generic
        }
    }

    /// The title of a run that failed this way.
    pub fn title(self) -> &'static str {
        match self {
            FailureKind::Network => "🌐 Run failed (network)",
            FailureKind::Auth => "🔑 Run failed (authentication)",
            FailureKind::RateLimit => "⏳ Run failed (rate limited)",
            FailureKind::Timeout => "⏱️ Run failed (timed out)",
            FailureKind::ContextLength => "📏 Run failed (context length)",
            FailureKind::Config => "⚙️ Run failed (configuration)",
            FailureKind::ContentFilter => "🛑 Run failed (content filter)",
            FailureKind::Generic => "✗ Run failed",
        }
    }

    /// What to do about it, where there is one thing to do.
    pub fn next_step(self) -> Option<&'static str> {
        match self {
            FailureKind::Network => Some(
                "check that the provider is reachable (its *_BASE_URL, TRACKER_GATEWAY_URL, a proxy), then resume",
            ),
            FailureKind::Auth => Some("check the provider's API key (`tracker doctor`), then resume"),
            FailureKind::RateLimit => Some(
                "wait, or lower TRACKER_LLM_CONCURRENCY, then resume",
            ),
            FailureKind::ContextLength => Some(
                "shorten what the node is given (fidelity, context_compaction) or pick a model with a larger window",
            ),
            FailureKind::Config => Some("`tracker doctor` says what is missing"),
            FailureKind::Timeout | FailureKind::ContentFilter | FailureKind::Generic => None,
        }
    }
}

/// The step a failed run stopped at and what it said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    /// The node.
    pub node: String,
    /// What it said (one printable line, cut to [`REASON_LIMIT`]).
    pub said: String,
    /// Whether `said` was cut.
    pub cut: bool,
    /// Whether it is the handler's error (a provider's, tracker's own), not
    /// what a command or a model printed: only that is read for the kind of
    /// failure (a tool's `curl` saying "connection refused" is no provider
    /// out of reach).
    pub is_error: bool,
}

impl Reason {
    /// The kind of failure it says, read from a handler's error only.
    pub fn kind(&self) -> FailureKind {
        if self.is_error {
            FailureKind::of(&self.said)
        } else {
            FailureKind::Generic
        }
    }
}

impl std::fmt::Display for Reason {
    /// `node "T": boom`, with `…` where it was cut.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let more = if self.cut { "…" } else { "" };
        write!(f, "node {:?}: {}{more}", self.node, self.said)
    }
}

/// The step a failed run stopped at and what it said; `None` when the run
/// has no failed step with anything to say.
pub fn reason(result: &RunResult) -> Option<Reason> {
    let entry = result.trace.last().filter(|e| e.status != "success")?;
    let is_error = !entry.error.is_empty();
    let said = if is_error {
        entry.error.clone()
    } else {
        // The run's context is its last step's: what that step wrote.
        let context = |key: &str| result.context.get(key).map(String::as_str);
        let text = match entry.handler_name.as_str() {
            "tool" => context("tool_stderr")
                .filter(|t| !t.trim().is_empty())
                .or_else(|| context("tool_stdout")),
            "codergen" => context("last_response"),
            _ => None,
        }?;
        last_line(text)?.to_string()
    };
    let said = printable_line(&said);
    let kept: String = said.chars().take(REASON_LIMIT).collect();
    Some(Reason {
        node: entry.node_id.clone(),
        cut: kept.len() < said.len(),
        said: kept,
        is_error: is_error || entry.handler_name == "codergen",
    })
}

/// The last line of `text` with anything on it.
fn last_line(text: &str) -> Option<&str> {
    text.lines().rev().map(str::trim).find(|l| !l.is_empty())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use tracker_runtime::engine::{TerminalStatus, TraceEntry};

    /// A run that failed at node `T`, run by `handler`.
    pub(crate) fn failed_at(handler: &str, error: &str, context: &[(&str, &str)]) -> RunResult {
        RunResult {
            run_id: "r".into(),
            status: TerminalStatus::Fail,
            completed_nodes: Vec::new(),
            context: context
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            trace: vec![TraceEntry {
                node_id: "T".into(),
                handler_name: handler.into(),
                status: "fail".into(),
                edge_to: String::new(),
                stats: None,
                child_usage: None,
                error: error.into(),
                duration: std::time::Duration::ZERO,
            }],
            usage: None,
            earlier_usage: None,
            budget_limits_hit: Vec::new(),
            validation_overrides: Vec::new(),
        }
    }

    #[test]
    fn a_failed_tool_says_its_last_line_of_standard_error() {
        let result = failed_at(
            "tool",
            "",
            &[
                ("tool_stderr", "compiling\nerror: boom\n\n"),
                ("tool_stdout", "ok"),
            ],
        );
        assert_eq!(
            reason(&result).map(|r| r.to_string()).as_deref(),
            Some("node \"T\": error: boom")
        );
        let quiet = failed_at(
            "tool",
            "",
            &[("tool_stderr", " "), ("tool_stdout", "FAIL 3")],
        );
        assert_eq!(
            reason(&quiet).map(|r| r.to_string()).as_deref(),
            Some("node \"T\": FAIL 3")
        );
    }

    #[test]
    fn a_handler_error_comes_first_and_escapes_are_not_passed_on() {
        let result = failed_at(
            "codergen",
            "session \x1b[2Kbroke",
            &[("last_response", "x")],
        );
        assert_eq!(
            reason(&result).map(|r| r.to_string()).as_deref(),
            Some("node \"T\": session \u{FFFD}[2Kbroke")
        );
    }

    #[test]
    fn a_long_reason_is_cut() {
        let long = "x".repeat(1000);
        let result = failed_at("codergen", "", &[("last_response", &long)]);
        let said = reason(&result).map(|r| r.to_string()).unwrap_or_default();
        assert!(said.ends_with('…') && said.chars().count() < 260, "{said}");
    }

    #[test]
    fn what_a_command_printed_is_not_read_for_the_kind() {
        let tool = failed_at("tool", "", &[("tool_stderr", "curl: Connection refused")]);
        assert_eq!(reason(&tool).map(|r| r.kind()), Some(FailureKind::Generic));
        let agent = failed_at(
            "codergen",
            "",
            &[("last_response", "openai: network error: Connection refused")],
        );
        assert_eq!(reason(&agent).map(|r| r.kind()), Some(FailureKind::Network));
    }

    #[test]
    fn failures_are_classified_by_what_they_say() {
        assert_eq!(
            FailureKind::of("openai: network error: tcp connect error: Connection refused"),
            FailureKind::Network
        );
        assert_eq!(
            FailureKind::of("anthropic: authentication failed (check the API key) (401)"),
            FailureKind::Auth
        );
        assert_eq!(
            FailureKind::of("tool node \"T\": command timed out after 5s"),
            FailureKind::Timeout
        );
        assert_eq!(FailureKind::of("boom"), FailureKind::Generic);
        assert_eq!(FailureKind::Generic.title(), "✗ Run failed");
    }
}
