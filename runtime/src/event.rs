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

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

/// The marker the live (secure) activity log puts in front of every line, so a
/// post-hoc reader can tell runtime writes from anything else that touched the
/// file. The stripped copy written next to the run's artifacts carries none.
pub const ACTIVITY_SENTINEL: &str = "\x1f\x1e";

/// The line with a leading [`ACTIVITY_SENTINEL`] removed; other lines unchanged.
pub fn strip_activity_sentinel(line: &str) -> &str {
    line.strip_prefix(ACTIVITY_SENTINEL).unwrap_or(line)
}

// ---------------------------------------------------------------------------
// Event kinds and sources
// ---------------------------------------------------------------------------

/// The closed set of pipeline event types. The wire names (see
/// [`EventKind::wire_name`]) are an API boundary: they appear in
/// `activity.jsonl`, the `--json` stream and the conformance goldens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// A run begins, after context seeding and checkpoint restore; carries the
    /// run snapshot (nodes, start/exit node, resume position).
    PipelineStarted,
    /// The run reached its exit node successfully (or a backstop closed a run
    /// that ended without a terminal event); carries the terminal status.
    PipelineCompleted,
    /// The run stopped on a failure path: strict failure, exhausted retries,
    /// handler error, restart limit, cancellation, panic.
    PipelineFailed,
    /// A node attempt is about to run its handler (also each parallel branch and
    /// a manager loop's child launch); carries node kind and attempt number.
    StageStarted,
    /// A node finished with `success`, or a completed node was skipped on resume.
    StageCompleted,
    /// A node finished with `fail` or an unknown status, its handler errored, or
    /// routing gave up on it (no failure edge, retries or goal-gate budget spent).
    StageFailed,
    /// A node (or an unsatisfied goal gate) is being sent round again after a
    /// `retry` outcome; carries the new attempt number.
    StageRetrying,
    /// The checkpoint file was written.
    CheckpointSaved,
    /// Writing the checkpoint file failed.
    CheckpointFailed,
    /// A parallel node is fanning out to its branches.
    ParallelStarted,
    /// Every branch of a parallel node has reported back.
    ParallelCompleted,
    /// A manager loop polled its child pipeline (or steered it).
    ManagerCycleTick,
    /// Routing selected an already-completed node, so that part of the graph is
    /// cleared and run again; node id is the restart target.
    LoopRestart,
    /// Something non-fatal went wrong, such as preserving uncommitted work.
    Warning,
    /// Weight-based routing found several top-weight edges and broke the tie by
    /// target id.
    EdgeTiebreaker,
    /// The edge leaving a node was chosen; carries source, target and priority.
    DecisionEdge,
    /// One edge condition was evaluated during routing; carries the condition
    /// and whether it matched.
    DecisionCondition,
    /// A node's outcome was applied to the context; carries status, context
    /// updates, the routing snapshot and the node's token counts.
    DecisionOutcome,
    /// The bookkeeping of a loop restart: restart count and cleared nodes.
    DecisionRestart,
    /// The run's aggregate usage after a node; carries the cost snapshot.
    CostUpdated,
    /// A token, cost, wall-time or stall limit was breached between nodes; ends
    /// the run with status `budget_exceeded`.
    BudgetExceeded,
    /// A provider reported a billing or quota failure; the run pauses with
    /// status `paused_billing`.
    BillingPaused,
    /// A tool node's stdout or stderr exceeded its capture limit and was cut.
    ToolOutputTruncated,
    /// Routing tried conditions, none matched, and an unconditional edge was
    /// taken instead; lists the conditions tried.
    ConditionalFallthrough,
    /// An agent node went over its own cost ceiling.
    NodeCostLimitExceeded,
    /// An agent node made no workspace progress for too many turns.
    NodeNoProgressDetected,
    /// Snapshotting the working tree's uncommitted changes on a failure path
    /// did not work.
    WorkPreserveFailed,
    /// A resume went ahead although the bundle identity changed
    /// (`--force-bundle-mismatch`); written by the CLI to the activity log only.
    BundleMismatchForced,
    /// A tool node's output lacked the marker its `marker_grep` pattern wanted
    /// (or the pattern did not compile).
    ToolMarkerMissing,
    /// A tool node's output carried no routing line.
    ToolRouteMissing,
    /// An agent's response lacked the `STATUS` line `auto_status` asked for.
    AutoStatusMissing,
    /// An override edge was taken past a failed goal gate; node id is the gate.
    ValidationOverridden,
    /// A human gate was opened and is waiting for an answer.
    GateOpened,
    /// A human gate was answered (or timed out, or failed to collect an answer).
    GateResolved,
    /// A memoized agent node reused a stored successful outcome instead of
    /// running.
    NodeMemoReplayed,
    /// tracker's supervisor started a crashed node attempt again (not in the
    /// reference, which has no supervisor).
    NodeRestarted,
    /// tracker's supervisor gave up restarting a node (its restart intensity was
    /// spent) and escalated: the node fails or the run ends.
    SupervisorEscalated,
    /// An agent session began (source `agent`).
    SessionStart,
    /// An agent session ended; the message says how (source `agent`).
    SessionEnd,
    /// An agent is about to call its model (source `agent`).
    LlmRequestStart,
    /// An agent's model answered: finish reason and the turn's tokens
    /// (source `agent`).
    LlmFinish,
    /// An agent called a tool (source `agent`).
    ToolCallStart,
    /// An agent's tool returned (source `agent`).
    ToolCallEnd,
    /// A steering message reached an agent (source `agent`).
    SteeringInjected,
    /// An agent's context was compacted (source `agent`).
    ContextCompaction,
}

impl EventKind {
    /// Every event kind: the reference's, in its declaration order, then tracker's.
    pub const ALL: [EventKind; 45] = [
        EventKind::PipelineStarted,
        EventKind::PipelineCompleted,
        EventKind::PipelineFailed,
        EventKind::StageStarted,
        EventKind::StageCompleted,
        EventKind::StageFailed,
        EventKind::StageRetrying,
        EventKind::CheckpointSaved,
        EventKind::CheckpointFailed,
        EventKind::ParallelStarted,
        EventKind::ParallelCompleted,
        EventKind::ManagerCycleTick,
        EventKind::LoopRestart,
        EventKind::Warning,
        EventKind::EdgeTiebreaker,
        EventKind::DecisionEdge,
        EventKind::DecisionCondition,
        EventKind::DecisionOutcome,
        EventKind::DecisionRestart,
        EventKind::CostUpdated,
        EventKind::BudgetExceeded,
        EventKind::BillingPaused,
        EventKind::ToolOutputTruncated,
        EventKind::ConditionalFallthrough,
        EventKind::NodeCostLimitExceeded,
        EventKind::NodeNoProgressDetected,
        EventKind::WorkPreserveFailed,
        EventKind::BundleMismatchForced,
        EventKind::ToolMarkerMissing,
        EventKind::ToolRouteMissing,
        EventKind::AutoStatusMissing,
        EventKind::ValidationOverridden,
        EventKind::GateOpened,
        EventKind::GateResolved,
        EventKind::NodeMemoReplayed,
        EventKind::NodeRestarted,
        EventKind::SupervisorEscalated,
        EventKind::SessionStart,
        EventKind::SessionEnd,
        EventKind::LlmRequestStart,
        EventKind::LlmFinish,
        EventKind::ToolCallStart,
        EventKind::ToolCallEnd,
        EventKind::SteeringInjected,
        EventKind::ContextCompaction,
    ];

    /// The snake_case name written in the `type` field.
    pub fn wire_name(self) -> &'static str {
        match self {
            EventKind::PipelineStarted => "pipeline_started",
            EventKind::PipelineCompleted => "pipeline_completed",
            EventKind::PipelineFailed => "pipeline_failed",
            EventKind::StageStarted => "stage_started",
            EventKind::StageCompleted => "stage_completed",
            EventKind::StageFailed => "stage_failed",
            EventKind::StageRetrying => "stage_retrying",
            EventKind::CheckpointSaved => "checkpoint_saved",
            EventKind::CheckpointFailed => "checkpoint_failed",
            EventKind::ParallelStarted => "parallel_started",
            EventKind::ParallelCompleted => "parallel_completed",
            EventKind::ManagerCycleTick => "manager_cycle_tick",
            EventKind::LoopRestart => "loop_restart",
            EventKind::Warning => "warning",
            EventKind::EdgeTiebreaker => "edge_tiebreaker",
            EventKind::DecisionEdge => "decision_edge",
            EventKind::DecisionCondition => "decision_condition",
            EventKind::DecisionOutcome => "decision_outcome",
            EventKind::DecisionRestart => "decision_restart",
            EventKind::CostUpdated => "cost_updated",
            EventKind::BudgetExceeded => "budget_exceeded",
            EventKind::BillingPaused => "billing_paused",
            EventKind::ToolOutputTruncated => "tool_output_truncated",
            EventKind::ConditionalFallthrough => "conditional_fallthrough",
            EventKind::NodeCostLimitExceeded => "node_cost_limit_exceeded",
            EventKind::NodeNoProgressDetected => "node_no_progress_detected",
            EventKind::WorkPreserveFailed => "work_preserve_failed",
            EventKind::BundleMismatchForced => "bundle_mismatch_forced",
            EventKind::ToolMarkerMissing => "tool_marker_missing",
            EventKind::ToolRouteMissing => "tool_route_missing",
            EventKind::AutoStatusMissing => "auto_status_missing",
            EventKind::ValidationOverridden => "validation_overridden",
            EventKind::GateOpened => "gate_opened",
            EventKind::GateResolved => "gate_resolved",
            EventKind::NodeMemoReplayed => "node_memo_replayed",
            EventKind::NodeRestarted => "node_restarted",
            EventKind::SupervisorEscalated => "supervisor_escalated",
            EventKind::SessionStart => "session_start",
            EventKind::SessionEnd => "session_end",
            EventKind::LlmRequestStart => "llm_request_start",
            EventKind::LlmFinish => "llm_finish",
            EventKind::ToolCallStart => "tool_call_start",
            EventKind::ToolCallEnd => "tool_call_end",
            EventKind::SteeringInjected => "steering_injected",
            EventKind::ContextCompaction => "context_compaction",
        }
    }

    /// The kind whose wire name is `name` (exact, case-sensitive match).
    pub fn from_wire_name(name: &str) -> Option<EventKind> {
        EventKind::ALL
            .into_iter()
            .find(|kind| kind.wire_name() == name)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.wire_name())
    }
}

/// Which part of tracker wrote an event line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventSource {
    /// The engine (every [`EventKind`] except `bundle_mismatch_forced`).
    Pipeline,
    /// An agent session (its own event vocabulary, not [`EventKind`]).
    Agent,
    /// Raw LLM client trace events.
    Llm,
    /// The CLI itself; in the reference only `bundle_mismatch_forced`, and only
    /// in `activity.jsonl`.
    Cli,
}

impl EventSource {
    /// The name written in the `source` field.
    pub fn wire_name(self) -> &'static str {
        match self {
            EventSource::Pipeline => "pipeline",
            EventSource::Agent => "agent",
            EventSource::Llm => "llm",
            EventSource::Cli => "cli",
        }
    }

    /// The source whose wire name is `name`.
    pub fn from_wire_name(name: &str) -> Option<EventSource> {
        [
            EventSource::Pipeline,
            EventSource::Agent,
            EventSource::Llm,
            EventSource::Cli,
        ]
        .into_iter()
        .find(|source| source.wire_name() == name)
    }
}

impl fmt::Display for EventSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.wire_name())
    }
}

/// Which routing step chose an edge (`edge_priority`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EdgePriority {
    /// The first edge whose condition matched.
    Condition,
    /// The edge whose routing key equals the preferred label.
    Label,
    /// The edge whose target is among the suggested next nodes.
    Suggested,
    /// The single heaviest unconditional edge.
    Weight,
    /// Several heaviest edges, tie broken by target id.
    Lexical,
    /// An override edge (always reported as this, whatever step chose it).
    Override,
}

impl EdgePriority {
    /// The name written in `edge_priority`.
    pub fn wire_name(self) -> &'static str {
        match self {
            EdgePriority::Condition => "condition",
            EdgePriority::Label => "label",
            EdgePriority::Suggested => "suggested",
            EdgePriority::Weight => "weight",
            EdgePriority::Lexical => "lexical",
            EdgePriority::Override => "override",
        }
    }

    /// The priority whose wire name is `name`.
    pub fn from_wire_name(name: &str) -> Option<EdgePriority> {
        [
            EdgePriority::Condition,
            EdgePriority::Label,
            EdgePriority::Suggested,
            EdgePriority::Weight,
            EdgePriority::Lexical,
            EdgePriority::Override,
        ]
        .into_iter()
        .find(|priority| priority.wire_name() == name)
    }
}

/// Who answered a gate or took an override edge (`gate_actor`, `override_actor`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A person, through the TUI, console or chat front-end.
    Human,
    /// The LLM autopilot interviewer.
    Autopilot,
    /// The webhook gate.
    Webhook,
    /// An interviewer that does not classify itself.
    Unknown,
}

impl Actor {
    /// The name written on the wire.
    pub fn wire_name(self) -> &'static str {
        match self {
            Actor::Human => "human",
            Actor::Autopilot => "autopilot",
            Actor::Webhook => "webhook",
            Actor::Unknown => "unknown",
        }
    }

    /// The actor whose wire name is `name`.
    pub fn from_wire_name(name: &str) -> Option<Actor> {
        [
            Actor::Human,
            Actor::Autopilot,
            Actor::Webhook,
            Actor::Unknown,
        ]
        .into_iter()
        .find(|actor| actor.wire_name() == name)
    }
}

// ---------------------------------------------------------------------------
// Timestamps
// ---------------------------------------------------------------------------

/// An event timestamp in the reference's layout `2006-01-02T15:04:05.000Z07:00`:
/// local date and time to the millisecond, then `Z` for UTC or a `±hh:mm`
/// offset. The runtime never reads a clock; the caller supplies the instant.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Timestamp(String);

impl Timestamp {
    /// Formats an instant (milliseconds since the Unix epoch) as seen from a
    /// zone `utc_offset_minutes` east of UTC. Pure: the same inputs always give
    /// the same text. The offset is in whole minutes because the layout shows
    /// only hours and minutes of it.
    pub fn from_unix_millis(unix_millis: i64, utc_offset_minutes: i32) -> Timestamp {
        let local = unix_millis + i64::from(utc_offset_minutes) * 60_000;
        let days = local.div_euclid(86_400_000);
        let in_day = local.rem_euclid(86_400_000);
        let (year, month, day) = civil_from_days(days);
        let (hour, minute) = (in_day / 3_600_000, in_day / 60_000 % 60);
        let (second, milli) = (in_day / 1000 % 60, in_day % 1000);
        // Written digit by digit: every event is stamped, so this is hot.
        let mut text = String::with_capacity(29);
        if year < 0 {
            text.push('-');
        }
        let year = year.unsigned_abs();
        if year > 9999 {
            text.push_str(&year.to_string());
        } else {
            push_digits(&mut text, year, 4);
        }
        text.push('-');
        push_digits(&mut text, month.unsigned_abs(), 2);
        text.push('-');
        push_digits(&mut text, day.unsigned_abs(), 2);
        text.push('T');
        push_digits(&mut text, hour.unsigned_abs(), 2);
        text.push(':');
        push_digits(&mut text, minute.unsigned_abs(), 2);
        text.push(':');
        push_digits(&mut text, second.unsigned_abs(), 2);
        text.push('.');
        push_digits(&mut text, milli.unsigned_abs(), 3);
        if utc_offset_minutes == 0 {
            text.push('Z');
        } else {
            text.push(if utc_offset_minutes < 0 { '-' } else { '+' });
            let abs = u64::from(utc_offset_minutes.unsigned_abs());
            push_digits(&mut text, abs / 60, 2);
            text.push(':');
            push_digits(&mut text, abs % 60, 2);
        }
        Timestamp(text)
    }

    /// Wraps text read from a line as-is, without checking its layout (old or
    /// foreign logs keep whatever they wrote).
    pub fn from_wire(text: impl Into<String>) -> Timestamp {
        Timestamp(text.into())
    }

    /// The formatted text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The instant in milliseconds since the Unix epoch, or `None` when the text
    /// is not in the layout [`Timestamp::from_unix_millis`] writes.
    pub fn unix_millis(&self) -> Option<i64> {
        self.parts().map(|(millis, _)| millis)
    }

    /// The zone offset in minutes east of UTC, or `None` when the text is not in
    /// the expected layout.
    pub fn utc_offset_minutes(&self) -> Option<i32> {
        self.parts().map(|(_, offset)| offset)
    }

    /// Parses `YYYY-MM-DDThh:mm:ss.mmm` followed by `Z` or `±hh:mm`.
    fn parts(&self) -> Option<(i64, i32)> {
        let text = self.0.as_bytes();
        let (clock, zone) = (text.get(..23)?, text.get(23..)?);
        let field = |at: usize, len: usize| -> Option<i64> {
            let digits = clock.get(at..at + len)?;
            if !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            std::str::from_utf8(digits).ok()?.parse().ok()
        };
        let separators = [
            (4, b'-'),
            (7, b'-'),
            (10, b'T'),
            (13, b':'),
            (16, b':'),
            (19, b'.'),
        ];
        if separators.iter().any(|&(at, byte)| clock[at] != byte) {
            return None;
        }
        let (year, month, day) = (field(0, 4)?, field(5, 2)?, field(8, 2)?);
        let (hour, minute, second, milli) =
            (field(11, 2)?, field(14, 2)?, field(17, 2)?, field(20, 3)?);
        if !(1..=12).contains(&month)
            || !(1..=31).contains(&day)
            || hour > 23
            || minute > 59
            || second > 59
        {
            return None;
        }
        let offset = match zone {
            b"Z" => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let digits = [*h1, *h2, *m1, *m2];
                if !digits.iter().all(u8::is_ascii_digit) {
                    return None;
                }
                let value = |a: u8, b: u8| i32::from(a - b'0') * 10 + i32::from(b - b'0');
                let minutes = value(*h1, *h2) * 60 + value(*m1, *m2);
                if *sign == b'-' {
                    -minutes
                } else {
                    minutes
                }
            }
            _ => return None,
        };
        let local = days_from_civil(year, month, day) * 86_400_000
            + ((hour * 60 + minute) * 60 + second) * 1000
            + milli;
        Some((local - i64::from(offset) * 60_000, offset))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Appends `value` as exactly `width` decimal digits (zero-padded; `value` must
/// fit).
fn push_digits(text: &mut String, value: u64, width: u32) {
    let mut divisor = 10u64.pow(width.saturating_sub(1));
    while divisor > 0 {
        let digit = (value / divisor % 10) as u8;
        text.push(char::from(b'0' + digit));
        divisor /= 10;
    }
}

/// Proleptic Gregorian (year, month, day) of a day count since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Day count since 1970-01-01 of a proleptic Gregorian date (the inverse of
/// [`civil_from_days`]).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

// ---------------------------------------------------------------------------
// The event and its payloads
// ---------------------------------------------------------------------------

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
    /// Per-provider totals, sorted by provider name.
    pub provider_totals: BTreeMap<String, ProviderTotal>,
    /// Wall-clock time since the run started, in milliseconds.
    pub wall_elapsed_ms: Option<u64>,
    /// Whether any contributing session's usage was estimated.
    pub estimated: bool,
}

/// One provider's bucket in [`CostSnapshot::provider_totals`]. On the wire every
/// field is always written except `estimated`, which appears only when true.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProviderTotal {
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Input plus output tokens.
    pub total_tokens: u64,
    /// Cost in US dollars.
    pub cost_usd: f64,
    /// Reasoning tokens.
    pub reasoning_tokens: u64,
    /// Cache-read tokens.
    pub cache_read_tokens: u64,
    /// Cache-write tokens.
    pub cache_write_tokens: u64,
    /// Sessions that contributed.
    pub session_count: u64,
    /// Whether any contributing session's usage was estimated.
    pub estimated: bool,
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

/// Why an event line could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum EventParseError {
    /// The line is not a JSON object with string `ts`, `source` and `type`, or a
    /// field has the wrong JSON type.
    #[error("malformed event line: {0}")]
    Json(#[from] serde_json::Error),
    /// `source` is not `pipeline`, `agent`, `llm` or `cli`.
    #[error("unknown event source {0:?}")]
    UnknownSource(String),
    /// `type` is not one of the pipeline event types (agent and LLM lines
    /// have their own vocabularies and end up here).
    #[error("event type {type_name:?} from source {event_source} is not a pipeline event type")]
    UnknownType {
        /// The line's source.
        event_source: EventSource,
        /// The unrecognised type name.
        type_name: String,
    },
    /// `edge_priority` is not a known routing step.
    #[error("unknown edge priority {0:?}")]
    UnknownEdgePriority(String),
    /// `gate_actor` or `override_actor` is not a known actor.
    #[error("unknown actor {0:?}")]
    UnknownActor(String),
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

    /// The event as one `activity.jsonl` line: compact JSON in the activity
    /// field order, no sentinel, no trailing newline. The run snapshot is never
    /// written here.
    pub fn to_activity_line(&self) -> String {
        let parts = self.parts();
        encode(&ActivityView {
            core: parts.core,
            bundle_identity: parts.bundle_identity,
            decision: parts.decision,
            usage: parts.usage,
            conditions_tried: parts.conditions_tried,
            diagnostics: parts.diagnostics,
            terminal_status: parts.terminal_status,
        })
    }

    /// The line as the live secure log stores it: [`ACTIVITY_SENTINEL`] followed
    /// by [`PipelineEvent::to_activity_line`], no trailing newline.
    pub fn to_activity_record(&self) -> String {
        let mut record = String::from(ACTIVITY_SENTINEL);
        record.push_str(&self.to_activity_line());
        record
    }

    /// The event as one `--json` line: compact JSON in the NDJSON field order,
    /// no trailing newline.
    pub fn to_ndjson_line(&self) -> String {
        let parts = self.parts();
        let snapshot = self.snapshot.as_ref();
        encode(&NdjsonView {
            core: parts.core,
            terminal_status: parts.terminal_status,
            bundle_identity: parts.bundle_identity,
            decision: parts.decision,
            conditions_tried: parts.conditions_tried,
            usage: parts.usage,
            diagnostics: parts.diagnostics,
            snapshot: SnapshotView {
                snapshot_nodes: snapshot.and_then(|s| {
                    non_empty_vec(s.nodes.iter().map(SnapshotNodeWire::from).collect())
                }),
                snapshot_start_node: snapshot.and_then(|s| text(&s.start_node)),
                snapshot_exit_node: snapshot.and_then(|s| text(&s.exit_node)),
                snapshot_current_node: snapshot.and_then(|s| text(&s.current_node)),
                snapshot_completed_nodes: snapshot.and_then(|s| list(&s.completed_nodes)),
            },
        })
    }

    /// Reads an `activity.jsonl` line (with or without its leading sentinel) or a
    /// `--json` line back into an event. Unknown keys are ignored; empty values
    /// come back as `None`. Lines of other vocabularies (agent and LLM events)
    /// fail with [`EventParseError::UnknownType`].
    pub fn from_line(line: &str) -> Result<PipelineEvent, EventParseError> {
        let wire: WireLine = serde_json::from_str(strip_activity_sentinel(line))?;
        wire.into_event()
    }

    /// The field groups both encoders share, already filtered for emptiness.
    fn parts(&self) -> Parts<'_> {
        let decision = self.decision.as_ref();
        let cost = self.cost.as_ref();
        let truncation = self.truncation.as_ref();
        let marker = self.marker.as_ref();
        let auto_status = self.auto_status.as_ref();
        let overridden = self.validation_override.as_ref();
        let gate = self.gate.as_ref();
        let capture = &self.capture;
        Parts {
            core: CoreView {
                ts: self.ts.as_str(),
                source: self.source.wire_name(),
                kind: self.kind.wire_name(),
                run_id: text(&self.run_id),
                node_id: text(&self.node_id),
                message: text(&self.message),
                error: text(&self.error),
                provider: text(&self.provider),
                model: text(&self.model),
                tool_name: text(&self.tool_name),
                content: text(&self.content),
            },
            terminal_status: text(&self.terminal_status),
            bundle_identity: text(&self.bundle_identity),
            decision: DecisionView {
                edge_from: decision.and_then(|d| text(&d.edge_from)),
                edge_to: decision.and_then(|d| text(&d.edge_to)),
                edge_condition: decision.and_then(|d| text(&d.edge_condition)),
                edge_priority: decision.and_then(|d| d.edge_priority.map(EdgePriority::wire_name)),
                condition_match: decision
                    .filter(|d| text(&d.edge_condition).is_some())
                    .map(|d| d.condition_match),
                outcome_status: decision.and_then(|d| text(&d.outcome_status)),
                context_snapshot: decision.and_then(|d| map(&d.context_snapshot)),
                context_updates: decision.and_then(|d| map(&d.context_updates)),
                restart_count: decision.and_then(|d| nonzero(d.restart_count)),
                cleared_nodes: decision.and_then(|d| list(&d.cleared_nodes)),
            },
            conditions_tried: decision.and_then(|d| {
                non_empty_vec(
                    d.conditions_tried
                        .iter()
                        .map(ConditionEvalWire::from)
                        .collect(),
                )
            }),
            usage: UsageView {
                token_input: nonzero(self.token_input),
                token_output: nonzero(self.token_output),
                total_tokens: cost.and_then(|c| nonzero(c.total_tokens)),
                total_cost_usd: cost.and_then(|c| float(c.total_cost_usd)),
                provider_totals: cost.and_then(|c| {
                    (!c.provider_totals.is_empty()).then(|| {
                        c.provider_totals
                            .iter()
                            .map(|(name, total)| (name.as_str(), ProviderTotalWire::from(total)))
                            .collect()
                    })
                }),
                wall_elapsed_ms: cost.and_then(|c| nonzero(c.wall_elapsed_ms)),
                estimated: cost.is_some_and(|c| c.estimated),
                trunc_stream: truncation.and_then(|t| text(&t.stream)),
                trunc_limit: truncation.and_then(|t| nonzero(t.limit)),
                trunc_captured_bytes: truncation.and_then(|t| nonzero(t.captured_bytes)),
                trunc_dropped_bytes: truncation.and_then(|t| nonzero(t.dropped_bytes)),
                trunc_total_bytes: truncation.and_then(|t| nonzero(t.total_bytes)),
            },
            diagnostics: DiagnosticsView {
                marker_pattern: marker.and_then(|m| text(&m.pattern)),
                marker_tail: marker.and_then(|m| text(&m.tail)),
                marker_error: marker.and_then(|m| text(&m.error)),
                route_tail: self.route.as_ref().and_then(|r| text(&r.tail)),
                auto_status_tail: auto_status.and_then(|a| text(&a.tail)),
                auto_status_fail_closed: auto_status.is_some_and(|a| a.fail_closed),
                override_gate: overridden.and_then(|o| text(&o.gate)),
                override_label: overridden.and_then(|o| text(&o.label)),
                override_actor: overridden.and_then(|o| o.actor.map(Actor::wire_name)),
                override_subgraph_path: overridden.and_then(|o| list(&o.subgraph_path)),
                gate_id: gate.and_then(|g| text(&g.gate_id)),
                gate_mode: gate.and_then(|g| text(&g.mode)),
                gate_label: gate.and_then(|g| text(&g.label)),
                gate_prompt: gate.and_then(|g| text(&g.prompt)),
                gate_choices: gate.and_then(|g| list(&g.choices)),
                gate_questions: gate.and_then(|g| {
                    non_empty_vec(g.questions.iter().map(GateQuestionWire::from).collect())
                }),
                gate_response: gate.and_then(|g| text(&g.response)),
                gate_outcome: gate.and_then(|g| text(&g.outcome)),
                gate_actor: gate.and_then(|g| g.actor.map(Actor::wire_name)),
                gate_timed_out: gate.is_some_and(|g| g.timed_out),
                session_id: text(&capture.session_id),
                parent_session_id: text(&capture.parent_session_id),
                turn_no: nonzero(capture.turn_no),
                attempt_no: nonzero(capture.attempt_no),
                node_kind: text(&capture.node_kind),
                tool_input: text(&capture.tool_input),
                tool_duration_ms: nonzero(capture.tool_duration_ms),
                cache_read_tokens: nonzero(capture.cache_read_tokens),
                cache_write_tokens: nonzero(capture.cache_write_tokens),
                reasoning_tokens: nonzero(capture.reasoning_tokens),
                estimated_cost: float(capture.estimated_cost),
                context_utilization: float(capture.context_utilization),
                tool_cache_hits: nonzero(capture.tool_cache_hits),
                tool_cache_misses: nonzero(capture.tool_cache_misses),
                turn_duration_ms: nonzero(capture.turn_duration_ms),
                call_id: text(&capture.call_id),
                finish_reason: text(&capture.finish_reason),
            },
        }
    }
}

// ---------------------------------------------------------------------------
// Encoding: private views borrowing from the event
// ---------------------------------------------------------------------------

/// Serializes a view. `serde_json` fails only on non-string map keys or a
/// failing `Serialize` impl; every key here is a string and every impl is
/// derived or infallible, so the empty fallback exists only to keep the public
/// encoders infallible.
fn encode(view: &impl Serialize) -> String {
    serde_json::to_string(view).unwrap_or_default()
}

/// A non-empty string field.
fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|s| !s.is_empty())
}

/// A non-zero number field.
fn nonzero<T: Copy + Default + PartialEq>(value: Option<T>) -> Option<T> {
    value.filter(|n| *n != T::default())
}

/// A non-zero float field, printed the way Go prints it.
fn float(value: Option<f64>) -> Option<GoFloat> {
    value.filter(|f| *f != 0.0).map(GoFloat)
}

/// A non-empty string list.
fn list(value: &[String]) -> Option<&[String]> {
    (!value.is_empty()).then_some(value)
}

/// A non-empty string map.
fn map(value: &BTreeMap<String, String>) -> Option<&BTreeMap<String, String>> {
    (!value.is_empty()).then_some(value)
}

/// A non-empty vector.
fn non_empty_vec<T>(value: Vec<T>) -> Option<Vec<T>> {
    (!value.is_empty()).then_some(value)
}

/// `skip_serializing_if` for flags written only when true.
fn is_false(value: &bool) -> bool {
    !*value
}

/// A float that prints like Go's `encoding/json`: whole values as integers
/// (`0`, `150`), everything else as `serde_json` prints it.
#[derive(Clone, Copy)]
struct GoFloat(f64);

impl Serialize for GoFloat {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_go_float(&self.0, serializer)
    }
}

fn serialize_go_float<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    // Below 1e21 Go prints without an exponent, and a whole f64 under 1e21 fits
    // an i128 exactly.
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e21 {
        serializer.serialize_i128(*value as i128)
    } else {
        serializer.serialize_f64(*value)
    }
}

/// The field groups both line formats share, in their internal order.
struct Parts<'a> {
    core: CoreView<'a>,
    terminal_status: Option<&'a str>,
    bundle_identity: Option<&'a str>,
    decision: DecisionView<'a>,
    conditions_tried: Option<Vec<ConditionEvalWire>>,
    usage: UsageView<'a>,
    diagnostics: DiagnosticsView<'a>,
}

/// `activity.jsonl` order (the reference's `jsonlLogEntry`).
#[derive(Serialize)]
struct ActivityView<'a> {
    #[serde(flatten)]
    core: CoreView<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bundle_identity: Option<&'a str>,
    #[serde(flatten)]
    decision: DecisionView<'a>,
    #[serde(flatten)]
    usage: UsageView<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    conditions_tried: Option<Vec<ConditionEvalWire>>,
    #[serde(flatten)]
    diagnostics: DiagnosticsView<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    terminal_status: Option<&'a str>,
}

/// `--json` order (the reference's `StreamEvent`).
#[derive(Serialize)]
struct NdjsonView<'a> {
    #[serde(flatten)]
    core: CoreView<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    terminal_status: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bundle_identity: Option<&'a str>,
    #[serde(flatten)]
    decision: DecisionView<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    conditions_tried: Option<Vec<ConditionEvalWire>>,
    #[serde(flatten)]
    usage: UsageView<'a>,
    #[serde(flatten)]
    diagnostics: DiagnosticsView<'a>,
    #[serde(flatten)]
    snapshot: SnapshotView<'a>,
}

/// `ts` through `content`.
#[derive(Serialize)]
struct CoreView<'a> {
    ts: &'a str,
    source: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    run_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    node_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a str>,
}

/// `edge_from` through `cleared_nodes`.
#[derive(Serialize)]
struct DecisionView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    edge_from: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    edge_to: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    edge_condition: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    edge_priority: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    condition_match: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome_status: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context_snapshot: Option<&'a BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context_updates: Option<&'a BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    restart_count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cleared_nodes: Option<&'a [String]>,
}

/// `token_input` through `trunc_total_bytes`.
#[derive(Serialize)]
struct UsageView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    token_input: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_output: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_cost_usd: Option<GoFloat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider_totals: Option<BTreeMap<&'a str, ProviderTotalWire>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wall_elapsed_ms: Option<u64>,
    #[serde(skip_serializing_if = "is_false")]
    estimated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    trunc_stream: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trunc_limit: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trunc_captured_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trunc_dropped_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trunc_total_bytes: Option<u64>,
}

/// `marker_pattern` through `finish_reason`: marker, route, auto-status,
/// override, gate and capture fields.
#[derive(Serialize)]
struct DiagnosticsView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    marker_pattern: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker_tail: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker_error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    route_tail: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auto_status_tail: Option<&'a str>,
    #[serde(skip_serializing_if = "is_false")]
    auto_status_fail_closed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    override_gate: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    override_label: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    override_actor: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    override_subgraph_path: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gate_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gate_mode: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gate_label: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gate_prompt: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gate_choices: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gate_questions: Option<Vec<GateQuestionWire>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gate_response: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gate_outcome: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gate_actor: Option<&'static str>,
    #[serde(skip_serializing_if = "is_false")]
    gate_timed_out: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_session_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    turn_no: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attempt_no: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    node_kind: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_input: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_duration_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_read_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_write_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    estimated_cost: Option<GoFloat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context_utilization: Option<GoFloat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_cache_hits: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_cache_misses: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    turn_duration_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    call_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    finish_reason: Option<&'a str>,
}

/// The `snapshot_*` fields (`--json` only).
#[derive(Serialize)]
struct SnapshotView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshot_nodes: Option<Vec<SnapshotNodeWire>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshot_start_node: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshot_exit_node: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshot_current_node: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshot_completed_nodes: Option<&'a [String]>,
}

// ---------------------------------------------------------------------------
// Wire element types (both directions) and the decoding record
// ---------------------------------------------------------------------------

/// `conditions_tried` element: both keys always written.
#[derive(Serialize, Deserialize)]
struct ConditionEvalWire {
    edge_to: String,
    condition: String,
}

impl From<&ConditionEval> for ConditionEvalWire {
    fn from(eval: &ConditionEval) -> Self {
        ConditionEvalWire {
            edge_to: eval.edge_to.clone(),
            condition: eval.condition.clone(),
        }
    }
}

/// `gate_questions` element: `options` and `is_yes_no` omitted when empty.
#[derive(Serialize, Deserialize)]
struct GateQuestionWire {
    id: String,
    text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    options: Vec<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    is_yes_no: bool,
}

impl From<&GateQuestion> for GateQuestionWire {
    fn from(question: &GateQuestion) -> Self {
        GateQuestionWire {
            id: question.id.clone(),
            text: question.text.clone(),
            options: question.options.clone(),
            is_yes_no: question.is_yes_no,
        }
    }
}

/// `snapshot_nodes` element: `label` and `handler` omitted when empty.
#[derive(Serialize, Deserialize)]
struct SnapshotNodeWire {
    id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    label: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    handler: String,
}

impl From<&SnapshotNode> for SnapshotNodeWire {
    fn from(node: &SnapshotNode) -> Self {
        SnapshotNodeWire {
            id: node.id.clone(),
            label: node.label.clone().unwrap_or_default(),
            handler: node.handler.clone().unwrap_or_default(),
        }
    }
}

/// `provider_totals` value: every key written except `estimated` (only when
/// true), matching the reference's `ProviderUsage`.
#[derive(Serialize, Deserialize, Default)]
#[serde(default)]
struct ProviderTotalWire {
    input_tokens: u64,
    output_tokens: u64,
    total_tokens: u64,
    #[serde(serialize_with = "serialize_go_float")]
    cost_usd: f64,
    reasoning_tokens: u64,
    cache_read_tokens: u64,
    cache_write_tokens: u64,
    session_count: u64,
    #[serde(skip_serializing_if = "is_false")]
    estimated: bool,
}

impl From<&ProviderTotal> for ProviderTotalWire {
    fn from(total: &ProviderTotal) -> Self {
        ProviderTotalWire {
            input_tokens: total.input_tokens,
            output_tokens: total.output_tokens,
            total_tokens: total.total_tokens,
            cost_usd: total.cost_usd,
            reasoning_tokens: total.reasoning_tokens,
            cache_read_tokens: total.cache_read_tokens,
            cache_write_tokens: total.cache_write_tokens,
            session_count: total.session_count,
            estimated: total.estimated,
        }
    }
}

impl From<ProviderTotalWire> for ProviderTotal {
    fn from(total: ProviderTotalWire) -> Self {
        ProviderTotal {
            input_tokens: total.input_tokens,
            output_tokens: total.output_tokens,
            total_tokens: total.total_tokens,
            cost_usd: total.cost_usd,
            reasoning_tokens: total.reasoning_tokens,
            cache_read_tokens: total.cache_read_tokens,
            cache_write_tokens: total.cache_write_tokens,
            session_count: total.session_count,
            estimated: total.estimated,
        }
    }
}

/// Every key either format can hold, for reading lines back. Missing and `null`
/// values decode as `None`; unknown keys are ignored.
#[derive(Deserialize)]
struct WireLine {
    ts: String,
    source: String,
    #[serde(rename = "type")]
    kind: String,
    run_id: Option<String>,
    node_id: Option<String>,
    message: Option<String>,
    error: Option<String>,
    provider: Option<String>,
    model: Option<String>,
    tool_name: Option<String>,
    content: Option<String>,
    terminal_status: Option<String>,
    bundle_identity: Option<String>,
    edge_from: Option<String>,
    edge_to: Option<String>,
    edge_condition: Option<String>,
    edge_priority: Option<String>,
    condition_match: Option<bool>,
    outcome_status: Option<String>,
    context_snapshot: Option<BTreeMap<String, String>>,
    context_updates: Option<BTreeMap<String, String>>,
    restart_count: Option<u32>,
    cleared_nodes: Option<Vec<String>>,
    conditions_tried: Option<Vec<ConditionEvalWire>>,
    token_input: Option<u64>,
    token_output: Option<u64>,
    total_tokens: Option<u64>,
    total_cost_usd: Option<f64>,
    provider_totals: Option<BTreeMap<String, ProviderTotalWire>>,
    wall_elapsed_ms: Option<u64>,
    estimated: Option<bool>,
    trunc_stream: Option<String>,
    trunc_limit: Option<u64>,
    trunc_captured_bytes: Option<u64>,
    trunc_dropped_bytes: Option<u64>,
    trunc_total_bytes: Option<u64>,
    marker_pattern: Option<String>,
    marker_tail: Option<String>,
    marker_error: Option<String>,
    route_tail: Option<String>,
    auto_status_tail: Option<String>,
    auto_status_fail_closed: Option<bool>,
    override_gate: Option<String>,
    override_label: Option<String>,
    override_actor: Option<String>,
    override_subgraph_path: Option<Vec<String>>,
    gate_id: Option<String>,
    gate_mode: Option<String>,
    gate_label: Option<String>,
    gate_prompt: Option<String>,
    gate_choices: Option<Vec<String>>,
    gate_questions: Option<Vec<GateQuestionWire>>,
    gate_response: Option<String>,
    gate_outcome: Option<String>,
    gate_actor: Option<String>,
    gate_timed_out: Option<bool>,
    session_id: Option<String>,
    parent_session_id: Option<String>,
    turn_no: Option<i64>,
    attempt_no: Option<u32>,
    node_kind: Option<String>,
    tool_input: Option<String>,
    tool_duration_ms: Option<u64>,
    cache_read_tokens: Option<u64>,
    cache_write_tokens: Option<u64>,
    reasoning_tokens: Option<u64>,
    estimated_cost: Option<f64>,
    context_utilization: Option<f64>,
    tool_cache_hits: Option<u64>,
    tool_cache_misses: Option<u64>,
    turn_duration_ms: Option<u64>,
    call_id: Option<String>,
    finish_reason: Option<String>,
    snapshot_nodes: Option<Vec<SnapshotNodeWire>>,
    snapshot_start_node: Option<String>,
    snapshot_exit_node: Option<String>,
    snapshot_current_node: Option<String>,
    snapshot_completed_nodes: Option<Vec<String>>,
}

/// A decoded string, with `""` treated as absent.
fn read_text(value: Option<String>) -> Option<String> {
    value.filter(|s| !s.is_empty())
}

/// A decoded number, with zero treated as absent.
fn read_num<T: Default + PartialEq>(value: Option<T>) -> Option<T> {
    value.filter(|n| *n != T::default())
}

/// A decoded group: `None` when none of its fields were present.
fn read_group<T: Default + PartialEq>(group: T) -> Option<T> {
    (group != T::default()).then_some(group)
}

fn read_actor(value: Option<String>) -> Result<Option<Actor>, EventParseError> {
    read_text(value)
        .map(|name| Actor::from_wire_name(&name).ok_or(EventParseError::UnknownActor(name)))
        .transpose()
}

impl WireLine {
    fn into_event(self) -> Result<PipelineEvent, EventParseError> {
        let source = EventSource::from_wire_name(&self.source)
            .ok_or_else(|| EventParseError::UnknownSource(self.source.clone()))?;
        let kind =
            EventKind::from_wire_name(&self.kind).ok_or_else(|| EventParseError::UnknownType {
                event_source: source,
                type_name: self.kind.clone(),
            })?;
        let edge_priority = read_text(self.edge_priority)
            .map(|name| {
                EdgePriority::from_wire_name(&name)
                    .ok_or(EventParseError::UnknownEdgePriority(name))
            })
            .transpose()?;
        let decision = read_group(Decision {
            edge_from: read_text(self.edge_from),
            edge_to: read_text(self.edge_to),
            edge_condition: read_text(self.edge_condition),
            edge_priority,
            condition_match: self.condition_match.unwrap_or(false),
            outcome_status: read_text(self.outcome_status),
            context_snapshot: self.context_snapshot.unwrap_or_default(),
            context_updates: self.context_updates.unwrap_or_default(),
            restart_count: read_num(self.restart_count),
            cleared_nodes: self.cleared_nodes.unwrap_or_default(),
            conditions_tried: self
                .conditions_tried
                .unwrap_or_default()
                .into_iter()
                .map(|eval| ConditionEval {
                    edge_to: eval.edge_to,
                    condition: eval.condition,
                })
                .collect(),
        });
        let cost = read_group(CostSnapshot {
            total_tokens: read_num(self.total_tokens),
            total_cost_usd: read_num(self.total_cost_usd),
            provider_totals: self
                .provider_totals
                .unwrap_or_default()
                .into_iter()
                .map(|(name, total)| (name, ProviderTotal::from(total)))
                .collect(),
            wall_elapsed_ms: read_num(self.wall_elapsed_ms),
            estimated: self.estimated.unwrap_or(false),
        });
        let truncation = read_group(Truncation {
            stream: read_text(self.trunc_stream),
            limit: read_num(self.trunc_limit),
            captured_bytes: read_num(self.trunc_captured_bytes),
            dropped_bytes: read_num(self.trunc_dropped_bytes),
            total_bytes: read_num(self.trunc_total_bytes),
        });
        let marker = read_group(MarkerDetail {
            pattern: read_text(self.marker_pattern),
            tail: read_text(self.marker_tail),
            error: read_text(self.marker_error),
        });
        let route = read_group(RouteDetail {
            tail: read_text(self.route_tail),
        });
        let auto_status = read_group(AutoStatusDetail {
            tail: read_text(self.auto_status_tail),
            fail_closed: self.auto_status_fail_closed.unwrap_or(false),
        });
        let validation_override = read_group(OverrideDetail {
            gate: read_text(self.override_gate),
            label: read_text(self.override_label),
            actor: read_actor(self.override_actor)?,
            subgraph_path: self.override_subgraph_path.unwrap_or_default(),
        });
        let gate = read_group(GateDetail {
            gate_id: read_text(self.gate_id),
            mode: read_text(self.gate_mode),
            label: read_text(self.gate_label),
            prompt: read_text(self.gate_prompt),
            choices: self.gate_choices.unwrap_or_default(),
            questions: self
                .gate_questions
                .unwrap_or_default()
                .into_iter()
                .map(|q| GateQuestion {
                    id: q.id,
                    text: q.text,
                    options: q.options,
                    is_yes_no: q.is_yes_no,
                })
                .collect(),
            response: read_text(self.gate_response),
            outcome: read_text(self.gate_outcome),
            actor: read_actor(self.gate_actor)?,
            timed_out: self.gate_timed_out.unwrap_or(false),
        });
        let snapshot = read_group(RunSnapshot {
            nodes: self
                .snapshot_nodes
                .unwrap_or_default()
                .into_iter()
                .map(|node| SnapshotNode {
                    id: node.id,
                    label: read_text(Some(node.label)),
                    handler: read_text(Some(node.handler)),
                })
                .collect(),
            start_node: read_text(self.snapshot_start_node),
            exit_node: read_text(self.snapshot_exit_node),
            current_node: read_text(self.snapshot_current_node),
            completed_nodes: self.snapshot_completed_nodes.unwrap_or_default(),
        });
        Ok(PipelineEvent {
            ts: Timestamp::from_wire(self.ts),
            source,
            kind,
            run_id: read_text(self.run_id),
            node_id: read_text(self.node_id),
            message: read_text(self.message),
            error: read_text(self.error),
            provider: read_text(self.provider),
            model: read_text(self.model),
            tool_name: read_text(self.tool_name),
            content: read_text(self.content),
            terminal_status: read_text(self.terminal_status),
            bundle_identity: read_text(self.bundle_identity),
            decision,
            token_input: read_num(self.token_input),
            token_output: read_num(self.token_output),
            cost,
            truncation,
            marker,
            route,
            auto_status,
            validation_override,
            gate,
            capture: Capture {
                session_id: read_text(self.session_id),
                parent_session_id: read_text(self.parent_session_id),
                turn_no: read_num(self.turn_no),
                attempt_no: read_num(self.attempt_no),
                node_kind: read_text(self.node_kind),
                tool_input: read_text(self.tool_input),
                tool_duration_ms: read_num(self.tool_duration_ms),
                cache_read_tokens: read_num(self.cache_read_tokens),
                cache_write_tokens: read_num(self.cache_write_tokens),
                reasoning_tokens: read_num(self.reasoning_tokens),
                estimated_cost: read_num(self.estimated_cost),
                context_utilization: read_num(self.context_utilization),
                tool_cache_hits: read_num(self.tool_cache_hits),
                tool_cache_misses: read_num(self.tool_cache_misses),
                turn_duration_ms: read_num(self.turn_duration_ms),
                call_id: read_text(self.call_id),
                finish_reason: read_text(self.finish_reason),
            },
            snapshot,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts() -> Timestamp {
        Timestamp::from_wire("2024-03-05T12:38:09.007+05:30")
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn pairs(items: &[(&str, &str)]) -> BTreeMap<String, String> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// An event with every field set to a non-empty value.
    fn full_event() -> PipelineEvent {
        let mut context_updates = BTreeMap::new();
        // Inserted out of order: both encoders must write map keys sorted.
        context_updates.insert("b".to_string(), "2".to_string());
        context_updates.insert("a".to_string(), "1".to_string());
        let mut provider_totals = BTreeMap::new();
        provider_totals.insert(
            "stub".to_string(),
            ProviderTotal {
                input_tokens: 100,
                output_tokens: 50,
                total_tokens: 150,
                cost_usd: 0.0,
                session_count: 1,
                estimated: true,
                ..ProviderTotal::default()
            },
        );
        PipelineEvent {
            provider: Some("anthropic".into()),
            model: Some("claude-sonnet-4-6".into()),
            tool_name: Some("bash".into()),
            content: Some("out".into()),
            cost: Some(CostSnapshot {
                total_tokens: Some(150),
                total_cost_usd: Some(0.25),
                provider_totals,
                wall_elapsed_ms: Some(1234),
                estimated: true,
            }),
            truncation: Some(Truncation {
                stream: Some("stdout".into()),
                limit: Some(65536),
                captured_bytes: Some(65536),
                dropped_bytes: Some(10),
                total_bytes: Some(65546),
            }),
            marker: Some(MarkerDetail {
                pattern: Some("^DONE$".into()),
                tail: Some("tail".into()),
                error: Some("bad regex".into()),
            }),
            route: Some(RouteDetail {
                tail: Some("rt".into()),
            }),
            auto_status: Some(AutoStatusDetail {
                tail: Some("as".into()),
                fail_closed: true,
            }),
            validation_override: Some(OverrideDetail {
                gate: Some("Gate".into()),
                label: Some("Override".into()),
                actor: Some(Actor::Human),
                subgraph_path: strings(&["Sub"]),
            }),
            capture: Capture {
                session_id: Some("s1".into()),
                parent_session_id: Some("s0".into()),
                turn_no: Some(-1),
                attempt_no: Some(2),
                node_kind: Some("codergen".into()),
                tool_input: Some(r#"{"cmd":"ls"}"#.into()),
                tool_duration_ms: Some(12),
                cache_read_tokens: Some(3),
                cache_write_tokens: Some(4),
                reasoning_tokens: Some(5),
                estimated_cost: Some(3.0),
                context_utilization: Some(0.125),
                tool_cache_hits: Some(6),
                tool_cache_misses: Some(7),
                turn_duration_ms: Some(890),
                call_id: Some("c1".into()),
                finish_reason: Some("stop".into()),
            },
            ..PipelineEvent::new(EventKind::DecisionCondition, EventSource::Pipeline, ts())
                .with_run_id("a1b2c3d4e5f6")
                .with_node_id("Check")
                .with_message("msg")
                .with_error("boom")
                .with_terminal_status("success")
                .with_bundle_identity("sha256:abc")
                .with_tokens(100, 50)
                .with_decision(Decision {
                    edge_from: Some("Check".into()),
                    edge_to: Some("Ship".into()),
                    edge_condition: Some("outcome=success".into()),
                    edge_priority: Some(EdgePriority::Condition),
                    condition_match: true,
                    outcome_status: Some("success".into()),
                    context_snapshot: pairs(&[("outcome", "success"), ("preferred_label", "Yes")]),
                    context_updates,
                    restart_count: Some(2),
                    cleared_nodes: strings(&["Ship", "Done"]),
                    conditions_tried: vec![ConditionEval {
                        edge_to: "Retry".into(),
                        condition: "outcome=fail".into(),
                    }],
                })
                .with_gate(GateDetail {
                    gate_id: Some("g1".into()),
                    mode: Some("interview".into()),
                    label: Some("Approve?".into()),
                    prompt: Some("Approve the plan?".into()),
                    choices: strings(&["Yes", "No"]),
                    questions: vec![
                        GateQuestion {
                            id: "q0".into(),
                            text: "Which?".into(),
                            options: strings(&["a", "b"]),
                            is_yes_no: false,
                        },
                        GateQuestion {
                            id: "q1".into(),
                            text: "Proceed?".into(),
                            options: Vec::new(),
                            is_yes_no: true,
                        },
                    ],
                    response: Some("Yes".into()),
                    outcome: Some("success".into()),
                    actor: Some(Actor::Autopilot),
                    timed_out: true,
                })
                .with_snapshot(RunSnapshot {
                    nodes: vec![
                        SnapshotNode {
                            id: "Done".into(),
                            label: None,
                            handler: Some("exit".into()),
                        },
                        SnapshotNode {
                            id: "Start".into(),
                            label: Some("Begin".into()),
                            handler: Some("start".into()),
                        },
                    ],
                    start_node: Some("Start".into()),
                    exit_node: Some("Done".into()),
                    current_node: Some("Ship".into()),
                    completed_nodes: strings(&["Start"]),
                })
        }
    }

    // Written by hand from the spec's activity.jsonl order (engine-semantics §6).
    const FULL_ACTIVITY: &str = concat!(
        r#"{"ts":"2024-03-05T12:38:09.007+05:30","source":"pipeline","type":"decision_condition","#,
        r#""run_id":"a1b2c3d4e5f6","node_id":"Check","message":"msg","error":"boom","#,
        r#""provider":"anthropic","model":"claude-sonnet-4-6","tool_name":"bash","content":"out","#,
        r#""bundle_identity":"sha256:abc","#,
        r#""edge_from":"Check","edge_to":"Ship","edge_condition":"outcome=success","#,
        r#""edge_priority":"condition","condition_match":true,"outcome_status":"success","#,
        r#""context_snapshot":{"outcome":"success","preferred_label":"Yes"},"#,
        r#""context_updates":{"a":"1","b":"2"},"restart_count":2,"cleared_nodes":["Ship","Done"],"#,
        r#""token_input":100,"token_output":50,"total_tokens":150,"total_cost_usd":0.25,"#,
        r#""provider_totals":{"stub":{"input_tokens":100,"output_tokens":50,"total_tokens":150,"#,
        r#""cost_usd":0,"reasoning_tokens":0,"cache_read_tokens":0,"cache_write_tokens":0,"#,
        r#""session_count":1,"estimated":true}},"wall_elapsed_ms":1234,"estimated":true,"#,
        r#""trunc_stream":"stdout","trunc_limit":65536,"trunc_captured_bytes":65536,"#,
        r#""trunc_dropped_bytes":10,"trunc_total_bytes":65546,"#,
        r#""conditions_tried":[{"edge_to":"Retry","condition":"outcome=fail"}],"#,
        r#""marker_pattern":"^DONE$","marker_tail":"tail","marker_error":"bad regex","#,
        r#""route_tail":"rt","auto_status_tail":"as","auto_status_fail_closed":true,"#,
        r#""override_gate":"Gate","override_label":"Override","override_actor":"human","#,
        r#""override_subgraph_path":["Sub"],"#,
        r#""gate_id":"g1","gate_mode":"interview","gate_label":"Approve?","#,
        r#""gate_prompt":"Approve the plan?","gate_choices":["Yes","No"],"#,
        r#""gate_questions":[{"id":"q0","text":"Which?","options":["a","b"]},"#,
        r#"{"id":"q1","text":"Proceed?","is_yes_no":true}],"#,
        r#""gate_response":"Yes","gate_outcome":"success","gate_actor":"autopilot","#,
        r#""gate_timed_out":true,"#,
        r#""session_id":"s1","parent_session_id":"s0","turn_no":-1,"attempt_no":2,"#,
        r#""node_kind":"codergen","tool_input":"{\"cmd\":\"ls\"}","tool_duration_ms":12,"#,
        r#""cache_read_tokens":3,"cache_write_tokens":4,"reasoning_tokens":5,"#,
        r#""estimated_cost":3,"context_utilization":0.125,"tool_cache_hits":6,"#,
        r#""tool_cache_misses":7,"turn_duration_ms":890,"call_id":"c1","finish_reason":"stop","#,
        r#""terminal_status":"success"}"#,
    );

    // Written by hand from the spec's --json order (engine-semantics §6,
    // user-surface §4.2).
    const FULL_NDJSON: &str = concat!(
        r#"{"ts":"2024-03-05T12:38:09.007+05:30","source":"pipeline","type":"decision_condition","#,
        r#""run_id":"a1b2c3d4e5f6","node_id":"Check","message":"msg","error":"boom","#,
        r#""provider":"anthropic","model":"claude-sonnet-4-6","tool_name":"bash","content":"out","#,
        r#""terminal_status":"success","bundle_identity":"sha256:abc","#,
        r#""edge_from":"Check","edge_to":"Ship","edge_condition":"outcome=success","#,
        r#""edge_priority":"condition","condition_match":true,"outcome_status":"success","#,
        r#""context_snapshot":{"outcome":"success","preferred_label":"Yes"},"#,
        r#""context_updates":{"a":"1","b":"2"},"restart_count":2,"cleared_nodes":["Ship","Done"],"#,
        r#""conditions_tried":[{"edge_to":"Retry","condition":"outcome=fail"}],"#,
        r#""token_input":100,"token_output":50,"total_tokens":150,"total_cost_usd":0.25,"#,
        r#""provider_totals":{"stub":{"input_tokens":100,"output_tokens":50,"total_tokens":150,"#,
        r#""cost_usd":0,"reasoning_tokens":0,"cache_read_tokens":0,"cache_write_tokens":0,"#,
        r#""session_count":1,"estimated":true}},"wall_elapsed_ms":1234,"estimated":true,"#,
        r#""trunc_stream":"stdout","trunc_limit":65536,"trunc_captured_bytes":65536,"#,
        r#""trunc_dropped_bytes":10,"trunc_total_bytes":65546,"#,
        r#""marker_pattern":"^DONE$","marker_tail":"tail","marker_error":"bad regex","#,
        r#""route_tail":"rt","auto_status_tail":"as","auto_status_fail_closed":true,"#,
        r#""override_gate":"Gate","override_label":"Override","override_actor":"human","#,
        r#""override_subgraph_path":["Sub"],"#,
        r#""gate_id":"g1","gate_mode":"interview","gate_label":"Approve?","#,
        r#""gate_prompt":"Approve the plan?","gate_choices":["Yes","No"],"#,
        r#""gate_questions":[{"id":"q0","text":"Which?","options":["a","b"]},"#,
        r#"{"id":"q1","text":"Proceed?","is_yes_no":true}],"#,
        r#""gate_response":"Yes","gate_outcome":"success","gate_actor":"autopilot","#,
        r#""gate_timed_out":true,"#,
        r#""session_id":"s1","parent_session_id":"s0","turn_no":-1,"attempt_no":2,"#,
        r#""node_kind":"codergen","tool_input":"{\"cmd\":\"ls\"}","tool_duration_ms":12,"#,
        r#""cache_read_tokens":3,"cache_write_tokens":4,"reasoning_tokens":5,"#,
        r#""estimated_cost":3,"context_utilization":0.125,"tool_cache_hits":6,"#,
        r#""tool_cache_misses":7,"turn_duration_ms":890,"call_id":"c1","finish_reason":"stop","#,
        r#""snapshot_nodes":[{"id":"Done","handler":"exit"},"#,
        r#"{"id":"Start","label":"Begin","handler":"start"}],"#,
        r#""snapshot_start_node":"Start","snapshot_exit_node":"Done","#,
        r#""snapshot_current_node":"Ship","snapshot_completed_nodes":["Start"]}"#,
    );

    #[test]
    fn the_reference_kinds_plus_two_and_every_wire_name_round_trips() {
        let names = [
            "pipeline_started",
            "pipeline_completed",
            "pipeline_failed",
            "stage_started",
            "stage_completed",
            "stage_failed",
            "stage_retrying",
            "checkpoint_saved",
            "checkpoint_failed",
            "parallel_started",
            "parallel_completed",
            "manager_cycle_tick",
            "loop_restart",
            "warning",
            "edge_tiebreaker",
            "decision_edge",
            "decision_condition",
            "decision_outcome",
            "decision_restart",
            "cost_updated",
            "budget_exceeded",
            "billing_paused",
            "tool_output_truncated",
            "conditional_fallthrough",
            "node_cost_limit_exceeded",
            "node_no_progress_detected",
            "work_preserve_failed",
            "bundle_mismatch_forced",
            "tool_marker_missing",
            "tool_route_missing",
            "auto_status_missing",
            "validation_overridden",
            "gate_opened",
            "gate_resolved",
            "node_memo_replayed",
            "node_restarted",
            "supervisor_escalated",
            "session_start",
            "session_end",
            "llm_request_start",
            "llm_finish",
            "tool_call_start",
            "tool_call_end",
            "steering_injected",
            "context_compaction",
        ];
        assert_eq!(names.len(), 45);
        assert_eq!(EventKind::ALL.len(), 45);
        let from_code: Vec<&str> = EventKind::ALL.iter().map(|k| k.wire_name()).collect();
        assert_eq!(from_code, names);
        for name in names {
            let kind = EventKind::from_wire_name(name).expect(name);
            assert_eq!(kind.wire_name(), name);
            assert_eq!(kind.to_string(), name);
        }
        let distinct: std::collections::HashSet<EventKind> = EventKind::ALL.into_iter().collect();
        assert_eq!(distinct.len(), 45);
        assert_eq!(EventKind::from_wire_name("Stage_Started"), None);
        assert_eq!(EventKind::from_wire_name("interview_started"), None);
    }

    #[test]
    fn sources_priorities_and_actors_round_trip() {
        for name in ["pipeline", "agent", "llm", "cli"] {
            assert_eq!(
                EventSource::from_wire_name(name).map(EventSource::wire_name),
                Some(name)
            );
        }
        for name in [
            "condition",
            "label",
            "suggested",
            "weight",
            "lexical",
            "override",
        ] {
            assert_eq!(
                EdgePriority::from_wire_name(name).map(EdgePriority::wire_name),
                Some(name)
            );
        }
        for name in ["human", "autopilot", "webhook", "unknown"] {
            assert_eq!(
                Actor::from_wire_name(name).map(Actor::wire_name),
                Some(name)
            );
        }
        assert_eq!(EventSource::from_wire_name("engine"), None);
    }

    #[test]
    fn activity_line_field_order_on_a_full_event() {
        assert_eq!(full_event().to_activity_line(), FULL_ACTIVITY);
    }

    #[test]
    fn ndjson_line_field_order_on_a_full_event() {
        assert_eq!(full_event().to_ndjson_line(), FULL_NDJSON);
    }

    #[test]
    fn activity_record_carries_the_sentinel_and_no_newline() {
        let record = full_event().to_activity_record();
        assert_eq!(record, format!("\u{1f}\u{1e}{FULL_ACTIVITY}"));
        assert!(!record.ends_with('\n'));
        assert_eq!(strip_activity_sentinel(&record), FULL_ACTIVITY);
        assert_eq!(strip_activity_sentinel(FULL_ACTIVITY), FULL_ACTIVITY);
    }

    #[test]
    fn a_bare_event_writes_only_ts_source_and_type() {
        let event = PipelineEvent::new(
            EventKind::PipelineStarted,
            EventSource::Pipeline,
            Timestamp::from_wire("2024-03-05T07:08:09.007Z"),
        );
        let expected =
            r#"{"ts":"2024-03-05T07:08:09.007Z","source":"pipeline","type":"pipeline_started"}"#;
        assert_eq!(event.to_activity_line(), expected);
        assert_eq!(event.to_ndjson_line(), expected);
    }

    #[test]
    fn empty_strings_zero_numbers_and_empty_groups_are_omitted() {
        let mut event = PipelineEvent::new(EventKind::CostUpdated, EventSource::Pipeline, ts())
            .with_run_id("")
            .with_tokens(0, 0)
            .with_cost(CostSnapshot::default())
            .with_gate(GateDetail::default())
            .with_snapshot(RunSnapshot::default())
            .with_decision(Decision {
                restart_count: Some(0),
                ..Decision::default()
            });
        event.capture.turn_no = Some(0);
        event.capture.estimated_cost = Some(0.0);
        let expected =
            r#"{"ts":"2024-03-05T12:38:09.007+05:30","source":"pipeline","type":"cost_updated"}"#;
        assert_eq!(event.to_activity_line(), expected);
        assert_eq!(event.to_ndjson_line(), expected);
    }

    #[test]
    fn condition_match_false_is_written_when_edge_condition_is_set() {
        let event = PipelineEvent::new(EventKind::DecisionCondition, EventSource::Pipeline, ts())
            .with_node_id("Check")
            .with_decision(Decision {
                edge_from: Some("Check".into()),
                edge_to: Some("Retry".into()),
                edge_condition: Some("outcome=fail".into()),
                condition_match: false,
                ..Decision::default()
            });
        let expected = concat!(
            r#"{"ts":"2024-03-05T12:38:09.007+05:30","source":"pipeline","type":"decision_condition","#,
            r#""node_id":"Check","edge_from":"Check","edge_to":"Retry","edge_condition":"outcome=fail","#,
            r#""condition_match":false}"#,
        );
        assert_eq!(event.to_activity_line(), expected);
        assert_eq!(event.to_ndjson_line(), expected);
    }

    #[test]
    fn condition_match_is_not_written_without_an_edge_condition() {
        let event = PipelineEvent::new(EventKind::DecisionEdge, EventSource::Pipeline, ts())
            .with_decision(Decision {
                edge_from: Some("A".into()),
                edge_to: Some("B".into()),
                edge_condition: Some(String::new()),
                edge_priority: Some(EdgePriority::Weight),
                condition_match: true,
                ..Decision::default()
            });
        let expected = concat!(
            r#"{"ts":"2024-03-05T12:38:09.007+05:30","source":"pipeline","type":"decision_edge","#,
            r#""edge_from":"A","edge_to":"B","edge_priority":"weight"}"#,
        );
        assert_eq!(event.to_activity_line(), expected);
    }

    #[test]
    fn restart_count_is_written_only_when_positive() {
        let restart = |count| {
            PipelineEvent::new(EventKind::DecisionRestart, EventSource::Pipeline, ts())
                .with_decision(Decision {
                    restart_count: count,
                    cleared_nodes: strings(&["B"]),
                    ..Decision::default()
                })
                .to_activity_line()
        };
        let head = r#"{"ts":"2024-03-05T12:38:09.007+05:30","source":"pipeline","type":"decision_restart","#;
        assert_eq!(restart(None), format!(r#"{head}"cleared_nodes":["B"]}}"#));
        assert_eq!(
            restart(Some(0)),
            format!(r#"{head}"cleared_nodes":["B"]}}"#)
        );
        assert_eq!(
            restart(Some(1)),
            format!(r#"{head}"restart_count":1,"cleared_nodes":["B"]}}"#)
        );
    }

    #[test]
    fn ndjson_line_reads_back_to_the_same_event() {
        let event = full_event();
        let back = PipelineEvent::from_line(&event.to_ndjson_line()).expect("parses");
        assert_eq!(back, event);
    }

    #[test]
    fn activity_record_reads_back_to_the_event_without_its_snapshot() {
        let event = full_event();
        let expected = PipelineEvent {
            snapshot: None,
            ..event.clone()
        };
        let from_record = PipelineEvent::from_line(&event.to_activity_record()).expect("parses");
        assert_eq!(from_record, expected);
        let from_copy = PipelineEvent::from_line(&event.to_activity_line()).expect("parses");
        assert_eq!(from_copy, expected);
    }

    #[test]
    fn reading_back_canonicalises_empty_values_and_tolerates_extras() {
        let line = concat!(
            "\u{1f}\u{1e}",
            r#"{"ts":"2024-03-05T07:08:09.007Z","source":"cli","type":"bundle_mismatch_forced","#,
            r#""run_id":"","restart_count":0,"edge_condition":"x","future_key":{"nested":[1]},"#,
            r#""gate_actor":null}"#,
            "\n",
        );
        let event = PipelineEvent::from_line(line).expect("parses");
        assert_eq!(event.source, EventSource::Cli);
        assert_eq!(event.kind, EventKind::BundleMismatchForced);
        assert_eq!(event.run_id, None);
        assert_eq!(event.gate, None);
        let decision = event.decision.expect("decision group present");
        assert_eq!(decision.edge_condition.as_deref(), Some("x"));
        assert_eq!(decision.restart_count, None);
        assert!(!decision.condition_match);
    }

    #[test]
    fn reading_back_rejects_foreign_or_malformed_lines() {
        let agent = r#"{"ts":"t","source":"agent","type":"text_delta","content":"hi"}"#;
        match PipelineEvent::from_line(agent) {
            Err(EventParseError::UnknownType {
                event_source,
                type_name,
            }) => {
                assert_eq!(event_source, EventSource::Agent);
                assert_eq!(type_name, "text_delta");
            }
            other => panic!("expected UnknownType, got {other:?}"),
        }
        let source = r#"{"ts":"t","source":"engine","type":"warning"}"#;
        assert!(matches!(
            PipelineEvent::from_line(source),
            Err(EventParseError::UnknownSource(s)) if s == "engine"
        ));
        let priority =
            r#"{"ts":"t","source":"pipeline","type":"decision_edge","edge_priority":"random"}"#;
        assert!(matches!(
            PipelineEvent::from_line(priority),
            Err(EventParseError::UnknownEdgePriority(p)) if p == "random"
        ));
        let actor = r#"{"ts":"t","source":"pipeline","type":"gate_resolved","gate_actor":"robot"}"#;
        assert!(matches!(
            PipelineEvent::from_line(actor),
            Err(EventParseError::UnknownActor(a)) if a == "robot"
        ));
        let missing_ts = r#"{"source":"pipeline","type":"warning"}"#;
        assert!(matches!(
            PipelineEvent::from_line(missing_ts),
            Err(EventParseError::Json(_))
        ));
        assert!(matches!(
            PipelineEvent::from_line("not json"),
            Err(EventParseError::Json(_))
        ));
    }

    #[test]
    fn timestamp_formats_utc_with_z() {
        // 2024-03-05T07:08:09Z is 1709622489 s (checked with `date -u -d @1709622489`).
        let ts = Timestamp::from_unix_millis(1_709_622_489_007, 0);
        assert_eq!(ts.as_str(), "2024-03-05T07:08:09.007Z");
        assert_eq!(
            Timestamp::from_unix_millis(0, 0).as_str(),
            "1970-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn timestamp_formats_positive_and_negative_offsets() {
        let india = Timestamp::from_unix_millis(1_709_622_489_007, 330);
        assert_eq!(india.as_str(), "2024-03-05T12:38:09.007+05:30");
        let pacific = Timestamp::from_unix_millis(1_709_622_489_007, -480);
        assert_eq!(pacific.as_str(), "2024-03-04T23:08:09.007-08:00");
    }

    #[test]
    fn timestamp_pads_milliseconds_and_handles_leap_days_and_pre_epoch() {
        // 2000-02-29T23:59:59Z is 951868799 s.
        assert_eq!(
            Timestamp::from_unix_millis(951_868_799_050, 0).as_str(),
            "2000-02-29T23:59:59.050Z"
        );
        assert_eq!(
            Timestamp::from_unix_millis(951_868_799_000, 0).as_str(),
            "2000-02-29T23:59:59.000Z"
        );
        assert_eq!(
            Timestamp::from_unix_millis(-1, 0).as_str(),
            "1969-12-31T23:59:59.999Z"
        );
    }

    #[test]
    fn timestamp_parses_back_to_millis_and_offset() {
        for (millis, offset) in [
            (1_709_622_489_007, 0),
            (1_709_622_489_007, 330),
            (1_709_622_489_007, -480),
            (951_868_799_050, 0),
            (-1, 0),
        ] {
            let ts = Timestamp::from_unix_millis(millis, offset);
            assert_eq!(ts.unix_millis(), Some(millis), "{ts}");
            assert_eq!(ts.utc_offset_minutes(), Some(offset), "{ts}");
        }
        for bad in [
            "",
            "2024-03-05T07:08:09Z",
            "2024-03-05T07:08:09.007",
            "2024-03-05 07:08:09.007Z",
            "2024-13-05T07:08:09.007Z",
            "2024-03-05T07:08:09.007+0530",
        ] {
            assert_eq!(Timestamp::from_wire(bad).unix_millis(), None, "{bad}");
        }
    }
}
