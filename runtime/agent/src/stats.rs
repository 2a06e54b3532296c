//! What one agent session reports: turns, tool calls, files, tokens and cost.
//! (Its JSON form, in the reference's field order, is the runtime's business:
//! `tracker_runtime::usage::session_stats_value`.)

use std::collections::BTreeMap;
use std::time::Duration;

/// Metrics of one agent session (a codergen node's run, or a parallel node's
/// merged branches).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionStats {
    /// LLM turns taken.
    pub turns: u64,
    /// Calls per tool name.
    pub tool_calls: BTreeMap<String, u64>,
    /// Tool calls in all.
    pub total_tool_calls: u64,
    /// Files the session changed.
    pub files_modified: Vec<String>,
    /// Files the session created.
    pub files_created: Vec<String>,
    /// Context compactions performed.
    pub compactions: u64,
    /// The longest single turn.
    pub longest_turn: Duration,
    /// Tool-result cache hits.
    pub cache_hits: u64,
    /// Tool-result cache misses.
    pub cache_misses: u64,
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Completion tokens.
    pub output_tokens: u64,
    /// Tokens in all, as the provider reported them.
    pub total_tokens: u64,
    /// Cost in US dollars (0 for unpriced models).
    pub cost_usd: f64,
    /// Reasoning tokens.
    pub reasoning_tokens: u64,
    /// Prompt tokens read from the provider's cache.
    pub cache_read_tokens: u64,
    /// Prompt tokens written to the provider's cache.
    pub cache_write_tokens: u64,
    /// The provider's name; empty when unknown (e.g. merged parallel branches).
    pub provider: String,
    /// The numbers come from a heuristic, not metered usage.
    pub estimated: bool,
    /// Which heuristic produced estimated numbers.
    pub estimate_source: String,
    /// The verify-on-breach result.
    pub breach_verify: BreachVerify,
    /// Of the numbers above, those of calls another provider answered (an
    /// `llm_fallbacks` lane), by provider: a run's totals by provider credit
    /// them there, not to [`SessionStats::provider`]. Empty without a
    /// failover.
    pub lanes: BTreeMap<String, LaneUsage>,
}

/// The tokens and cost of one session's calls to one provider.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LaneUsage {
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Completion tokens.
    pub output_tokens: u64,
    /// Tokens in all.
    pub total_tokens: u64,
    /// Cost in US dollars.
    pub cost_usd: f64,
    /// Reasoning tokens.
    pub reasoning_tokens: u64,
    /// Prompt tokens read from the provider's cache.
    pub cache_read_tokens: u64,
    /// Prompt tokens written to the provider's cache.
    pub cache_write_tokens: u64,
}

/// The verify-on-breach result of a session that hit its turn limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BreachVerify {
    /// No verification ran (wire value 0, omitted from JSON).
    #[default]
    NotRun,
    /// Verification passed (wire value 1).
    Passed,
    /// Verification failed (wire value 2).
    Failed,
}

impl BreachVerify {
    /// The reference's integer code.
    pub fn code(self) -> i64 {
        match self {
            BreachVerify::NotRun => 0,
            BreachVerify::Passed => 1,
            BreachVerify::Failed => 2,
        }
    }
}
