//! Pipeline events: the reference's 35 event types plus tracker's two supervision
//! events, the agent session events (source `agent`: `session_start`,
//! `llm_request_start`, `tool_call_start`, …, with the reference's wire names),
//! their wire names, and the two line formats.
//!
//! Every event the engine emits is one [`PipelineEvent`]: a timestamp, an
//! [`EventSource`], an [`EventKind`] and whatever payload that kind carries
//! (decision, cost snapshot, tool diagnostics, gate lifecycle, capture fields, the
//! run snapshot on `pipeline_started`). The type itself is internal and derives no
//! serde traits; its two on-disk/on-wire forms are produced by private view
//! structs so that the JSON shape is a deliberate, tested choice:
//!
//! * [`PipelineEvent::to_activity_line`] — one `activity.jsonl` line, in the
//!   reference's `jsonlLogEntry` field order (`terminal_status` last, no snapshot);
//!   [`PipelineEvent::to_activity_record`] prefixes the [`ACTIVITY_SENTINEL`] the
//!   live secure log carries on every line;
//! * [`PipelineEvent::to_ndjson_line`] — one `--json` line, in the reference's
//!   `StreamEvent` field order (`terminal_status` right after `content`,
//!   `conditions_tried` with the decision fields, the `snapshot_*` fields last).
//!
//! Both formats share their field names, so [`PipelineEvent::from_line`] reads
//! either back (with or without the sentinel). Every field except `ts`, `source`
//! and `type` is omitted when empty, as the reference's `omitempty` does; the two
//! exceptions to "omit the zero value" are `condition_match`, written (even when
//! `false`) exactly when `edge_condition` is set, and `restart_count`, written only
//! when positive.
//!
//! ```
//! use tracker_runtime::event::{EventKind, EventSource, PipelineEvent, Timestamp};
//!
//! let ts = Timestamp::from_unix_millis(1_709_622_489_007, 0);
//! let event = PipelineEvent::new(EventKind::StageStarted, EventSource::Pipeline, ts)
//!     .with_run_id("a1b2c3d4e5f6")
//!     .with_node_id("Build");
//! assert_eq!(
//!     event.to_ndjson_line(),
//!     r#"{"ts":"2024-03-05T07:08:09.007Z","source":"pipeline","type":"stage_started","run_id":"a1b2c3d4e5f6","node_id":"Build"}"#
//! );
//! assert_eq!(PipelineEvent::from_line(&event.to_activity_record()).ok(), Some(event));
//! ```
//!
//! JSON text is produced by `serde_json`. Field order, omission rules and Go's
//! printing of whole floats as integers (`"cost_usd":0`) match the reference; Go's
//! HTML escaping of `<`, `>`, `&` (`\u003c`, also U+2028/U+2029) and its decimal
//! spelling of floats in `[1e-6, 1e-5)` (`0.000005` where `serde_json` writes
//! `5e-6`) are not reproduced; decoders on either side read both spellings.
//!
//! The module is laid out by role:
//!
//! * `kind` — the closed vocabularies ([`EventKind`], [`EventSource`],
//!   [`EdgePriority`], [`Actor`]), each declared with its wire names once through
//!   `wire_enum!`;
//! * `payload` — the payload groups ([`Decision`], [`CostSnapshot`], …);
//! * `encode` — the two line formats: the private `*View` structs and the Go
//!   float spelling, plus the wire element types both directions share;
//! * `decode` — reading a line of either format back ([`EventParseError`]);
//! * timestamps are [`crate::time::Timestamp`], re-exported here.

mod decode;
mod encode;
mod kind;
mod payload;
#[cfg(test)]
mod tests;

pub use self::decode::EventParseError;
pub use self::kind::{Actor, EdgePriority, EventKind, EventSource};
pub use self::payload::{
    AutoStatusDetail, Capture, ConditionEval, CostSnapshot, Decision, GateDetail, GateQuestion,
    MarkerDetail, OverrideDetail, RouteDetail, RunSnapshot, SnapshotNode, Truncation,
};
pub use crate::time::Timestamp;
pub use crate::usage::ProviderUsage;

/// The marker the live (secure) activity log puts in front of every line, so a
/// post-hoc reader can tell runtime writes from anything else that touched the
/// file. The stripped copy written next to the run's artifacts carries none.
pub const ACTIVITY_SENTINEL: &str = "\x1f\x1e";

/// The line with a leading [`ACTIVITY_SENTINEL`] removed; other lines unchanged.
pub fn strip_activity_sentinel(line: &str) -> &str {
    line.strip_prefix(ACTIVITY_SENTINEL).unwrap_or(line)
}

/// One event, with everything any event type can carry.
///
/// Absent values are `None` or empty collections. The wire cannot tell an
/// absent field from an empty one (the reference writes neither), so a `Some`
/// holding an empty string or a zero number is written as absent and reads
/// back as `None`; [`PipelineEvent::from_line`] always returns that canonical
/// form. Payload groups (`decision`, `cost`, …) are `Some` exactly when the
/// event carries at least one of their fields.
#[derive(Clone, Debug, PartialEq)]
pub struct PipelineEvent {
    /// When it happened, already formatted.
    pub ts: Timestamp,
    /// Who wrote it.
    pub source: EventSource,
    /// What happened.
    pub kind: EventKind,
    /// The run's 12-hex-digit id.
    pub run_id: Option<String>,
    /// The node concerned; child-run nodes are `<parent>/<child>`.
    pub node_id: Option<String>,
    /// Human-readable description.
    pub message: Option<String>,
    /// Error text (including a gate's failure to collect an answer).
    pub error: Option<String>,
    /// LLM provider.
    pub provider: Option<String>,
    /// LLM model.
    pub model: Option<String>,
    /// Tool name, for agent and LLM tool events.
    pub tool_name: Option<String>,
    /// Text content: LLM output or tool output.
    pub content: Option<String>,
    /// The run's final status, on exactly one event per run (`success`,
    /// `validation_overridden`, `fail`, `budget_exceeded`, `paused_billing`; the
    /// set is open, so it stays text).
    pub terminal_status: Option<String>,
    /// The `.dipx` bundle identity (`sha256:<hex>`) of a bundle run.
    pub bundle_identity: Option<String>,
    /// Routing-decision payload.
    pub decision: Option<Decision>,
    /// Input tokens of whatever the event describes (a node's session on a
    /// decision event, a turn on an agent event); never run-cumulative.
    pub token_input: Option<u64>,
    /// Output tokens, as for `token_input`.
    pub token_output: Option<u64>,
    /// Run-cumulative usage (`cost_updated`, `budget_exceeded`).
    pub cost: Option<CostSnapshot>,
    /// Output truncation details (`tool_output_truncated`).
    pub truncation: Option<Truncation>,
    /// Missing-marker details (`tool_marker_missing`).
    pub marker: Option<MarkerDetail>,
    /// Missing-route details (`tool_route_missing`).
    pub route: Option<RouteDetail>,
    /// Missing-status details (`auto_status_missing`).
    pub auto_status: Option<AutoStatusDetail>,
    /// Override details (`validation_overridden`).
    pub validation_override: Option<OverrideDetail>,
    /// Gate lifecycle details (`gate_opened`, `gate_resolved`).
    pub gate: Option<GateDetail>,
    /// Run-reconstruction fields (session, turn, attempt, per-turn usage).
    pub capture: Capture,
    /// The run snapshot (`pipeline_started`; written to `--json` only).
    pub snapshot: Option<RunSnapshot>,
}

impl PipelineEvent {
    /// An event with nothing but its kind, source and time.
    pub fn new(kind: EventKind, source: EventSource, ts: Timestamp) -> PipelineEvent {
        PipelineEvent {
            ts,
            source,
            kind,
            run_id: None,
            node_id: None,
            message: None,
            error: None,
            provider: None,
            model: None,
            tool_name: None,
            content: None,
            terminal_status: None,
            bundle_identity: None,
            decision: None,
            token_input: None,
            token_output: None,
            cost: None,
            truncation: None,
            marker: None,
            route: None,
            auto_status: None,
            validation_override: None,
            gate: None,
            capture: Capture::default(),
            snapshot: None,
        }
    }

    /// Sets `run_id`.
    pub fn with_run_id(mut self, run_id: impl Into<String>) -> PipelineEvent {
        self.run_id = Some(run_id.into());
        self
    }

    /// Sets `node_id`.
    pub fn with_node_id(mut self, node_id: impl Into<String>) -> PipelineEvent {
        self.node_id = Some(node_id.into());
        self
    }

    /// Sets `message`.
    pub fn with_message(mut self, message: impl Into<String>) -> PipelineEvent {
        self.message = Some(message.into());
        self
    }

    /// Sets `error`.
    pub fn with_error(mut self, error: impl Into<String>) -> PipelineEvent {
        self.error = Some(error.into());
        self
    }

    /// Sets `terminal_status`.
    pub fn with_terminal_status(mut self, status: impl Into<String>) -> PipelineEvent {
        self.terminal_status = Some(status.into());
        self
    }

    /// Sets `bundle_identity`.
    pub fn with_bundle_identity(mut self, identity: impl Into<String>) -> PipelineEvent {
        self.bundle_identity = Some(identity.into());
        self
    }

    /// Sets `token_input` and `token_output`.
    pub fn with_tokens(mut self, input: u64, output: u64) -> PipelineEvent {
        self.token_input = Some(input);
        self.token_output = Some(output);
        self
    }

    /// Sets the node kind and attempt number (`stage_started`, `stage_retrying`).
    pub fn with_attempt(mut self, node_kind: impl Into<String>, attempt_no: u32) -> PipelineEvent {
        self.capture.node_kind = Some(node_kind.into());
        self.capture.attempt_no = Some(attempt_no);
        self
    }

    /// Attaches a routing-decision payload.
    pub fn with_decision(mut self, decision: Decision) -> PipelineEvent {
        self.decision = Some(decision);
        self
    }

    /// Attaches a usage snapshot.
    pub fn with_cost(mut self, cost: CostSnapshot) -> PipelineEvent {
        self.cost = Some(cost);
        self
    }

    /// Attaches a gate lifecycle payload.
    pub fn with_gate(mut self, gate: GateDetail) -> PipelineEvent {
        self.gate = Some(gate);
        self
    }

    /// Attaches the run snapshot (`pipeline_started`).
    pub fn with_snapshot(mut self, snapshot: RunSnapshot) -> PipelineEvent {
        self.snapshot = Some(snapshot);
        self
    }
}
