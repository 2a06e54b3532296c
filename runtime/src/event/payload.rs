//! The payload groups an event can carry: routing decisions, usage snapshots,
//! tool diagnostics, gate lifecycle, capture fields and the run snapshot. Plain
//! data; how each is written and read is in `encode` and `decode`.

use std::collections::BTreeMap;

use super::kind::{Actor, EdgePriority};
use crate::usage::ProviderUsage;

/// The routing-decision payload (`decision_*`, `conditional_fallthrough`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Decision {
    /// The node routed from.
    pub edge_from: Option<String>,
    /// The node routed to.
    pub edge_to: Option<String>,
    /// The edge's condition text, after `${}` expansion.
    pub edge_condition: Option<String>,
    /// Which routing step chose the edge.
    pub edge_priority: Option<EdgePriority>,
    /// Whether `edge_condition` held; written exactly when `edge_condition` is set.
    pub condition_match: bool,
    /// The node's outcome status (`decision_outcome`).
    pub outcome_status: Option<String>,
    /// The routing-relevant context keys at the decision, sorted by key.
    pub context_snapshot: BTreeMap<String, String>,
    /// The context updates the node's outcome applied, sorted by key.
    pub context_updates: BTreeMap<String, String>,
    /// The run's restart count after a restart; written only when positive.
    pub restart_count: Option<u32>,
    /// The nodes a restart cleared: the target, then its downstream.
    pub cleared_nodes: Vec<String>,
    /// The conditions that evaluated false before a fallthrough.
    pub conditions_tried: Vec<ConditionEval>,
}

/// One condition that evaluated false on the way to a fallthrough.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionEval {
    /// The edge's target.
    pub edge_to: String,
    /// The condition text.
    pub condition: String,
}

/// A run-cumulative usage snapshot.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CostSnapshot {
    /// Total tokens so far.
    pub total_tokens: Option<u64>,
    /// Total cost so far, in US dollars.
    pub total_cost_usd: Option<f64>,
    /// Per-provider totals, sorted by provider name. On the wire every field of
    /// a total is written except `estimated`, which appears only when true.
    pub provider_totals: BTreeMap<String, ProviderUsage>,
    /// Wall-clock time since the run started, in milliseconds.
    pub wall_elapsed_ms: Option<u64>,
    /// Whether any contributing session's usage was estimated.
    pub estimated: bool,
}

impl CostSnapshot {
    /// The usage it reported: its provider buckets, and its own totals of
    /// tokens and cost (which the buckets add up to). What a resumed run's
    /// earlier processes spent, read back from its log.
    pub fn to_usage(&self) -> crate::usage::UsageSummary {
        let mut summary = crate::usage::UsageSummary::default();
        for (provider, usage) in &self.provider_totals {
            summary.add_totals(usage);
            summary
                .provider_totals
                .insert(provider.clone(), usage.clone());
        }
        if let Some(tokens) = self.total_tokens {
            summary.total_tokens = tokens;
        }
        if let Some(cost_usd) = self.total_cost_usd {
            summary.total_cost_usd = cost_usd;
        }
        summary.estimated |= self.estimated;
        summary
    }
}

/// Per-stream truncation accounting of a tool node's output.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Truncation {
    /// `stdout` or `stderr`.
    pub stream: Option<String>,
    /// The capture limit in bytes.
    pub limit: Option<u64>,
    /// Bytes kept.
    pub captured_bytes: Option<u64>,
    /// Bytes dropped.
    pub dropped_bytes: Option<u64>,
    /// Bytes produced.
    pub total_bytes: Option<u64>,
}

/// Why a tool node's `marker_grep` did not find its marker.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MarkerDetail {
    /// The configured pattern.
    pub pattern: Option<String>,
    /// The end of the captured stdout (the emitter caps it at 256 bytes).
    pub tail: Option<String>,
    /// The compile error, when the pattern itself was bad.
    pub error: Option<String>,
}

/// Why a tool node's routing line was not found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RouteDetail {
    /// The end of the captured stdout (the emitter caps it at 256 bytes).
    pub tail: Option<String>,
}

/// Why an agent's `STATUS` line was not found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AutoStatusDetail {
    /// The end of the agent's response (the emitter caps it at 256 bytes).
    pub tail: Option<String>,
    /// Whether the missing line failed a goal gate closed.
    pub fail_closed: bool,
}

/// An override edge taken past a failed goal gate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OverrideDetail {
    /// The gate node.
    pub gate: Option<String>,
    /// The edge label that selected the override.
    pub label: Option<String>,
    /// Who chose it.
    pub actor: Option<Actor>,
    /// Child-run node ids, outermost first, when propagated from a child run.
    pub subgraph_path: Vec<String>,
}

/// The gate lifecycle payload. Open-time fields describe the question,
/// resolve-time fields the answer; `mode` is repeated on the resolution.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GateDetail {
    /// Correlates a `gate_opened` with its `gate_resolved`.
    pub gate_id: Option<String>,
    /// `choice`, `freeform`, `yes_no` or `interview`.
    pub mode: Option<String>,
    /// The gate node's short title.
    pub label: Option<String>,
    /// The fully resolved prompt (capped by the emitter).
    pub prompt: Option<String>,
    /// The selectable options.
    pub choices: Vec<String>,
    /// The parsed questions of an interview gate.
    pub questions: Vec<GateQuestion>,
    /// What came back.
    pub response: Option<String>,
    /// The gate's resulting outcome status.
    pub outcome: Option<String>,
    /// Who answered.
    pub actor: Option<Actor>,
    /// Whether the timeout decided the outcome.
    pub timed_out: bool,
}

/// One question of an interview gate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GateQuestion {
    /// `q<index>`, matching the answer's id.
    pub id: String,
    /// The question text.
    pub text: String,
    /// Offered answers, if any.
    pub options: Vec<String>,
    /// Whether it is a yes/no question.
    pub is_yes_no: bool,
}

/// Run-reconstruction ("capture") fields: which session, turn, call and attempt
/// an event belongs to, plus per-turn economics.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Capture {
    /// The agent session.
    pub session_id: Option<String>,
    /// The spawning session, for child sessions.
    pub parent_session_id: Option<String>,
    /// The turn, 1-based; `-1` marks a repair turn.
    pub turn_no: Option<i64>,
    /// The node attempt, 1-based.
    pub attempt_no: Option<u32>,
    /// The node's handler name (`codergen`, `tool`, `wait.human`, …).
    pub node_kind: Option<String>,
    /// The tool call's arguments as the model produced them.
    pub tool_input: Option<String>,
    /// How long the tool call took, in milliseconds.
    pub tool_duration_ms: Option<u64>,
    /// Cache-read tokens of the turn.
    pub cache_read_tokens: Option<u64>,
    /// Cache-write tokens of the turn.
    pub cache_write_tokens: Option<u64>,
    /// Reasoning tokens of the turn.
    pub reasoning_tokens: Option<u64>,
    /// Estimated cost of the turn, in US dollars.
    pub estimated_cost: Option<f64>,
    /// Fraction of the context window in use.
    pub context_utilization: Option<f64>,
    /// Tool-result cache hits.
    pub tool_cache_hits: Option<u64>,
    /// Tool-result cache misses.
    pub tool_cache_misses: Option<u64>,
    /// How long the turn took, in milliseconds.
    pub turn_duration_ms: Option<u64>,
    /// Groups every line of one LLM call.
    pub call_id: Option<String>,
    /// Why the turn or call stopped.
    pub finish_reason: Option<String>,
}

/// The run snapshot carried on `pipeline_started`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunSnapshot {
    /// Top-level nodes, sorted by id.
    pub nodes: Vec<SnapshotNode>,
    /// The start node.
    pub start_node: Option<String>,
    /// The exit node.
    pub exit_node: Option<String>,
    /// Where a resumed run picks up (resume only).
    pub current_node: Option<String>,
    /// Nodes already completed (resume only).
    pub completed_nodes: Vec<String>,
}

/// One node of a [`RunSnapshot`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SnapshotNode {
    /// The node id.
    pub id: String,
    /// Its label.
    pub label: Option<String>,
    /// Its handler name.
    pub handler: Option<String>,
}
