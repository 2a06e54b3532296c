//! Writing an event as a line: [`PipelineEvent::to_activity_line`] (and its
//! sentinel-prefixed record) and [`PipelineEvent::to_ndjson_line`]. Private view
//! structs borrow from the event and fix each format's field order and omission
//! rules; the wire element types at the end (`*Wire`) are shared with `decode`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, Serializer};

use super::{
    Actor, ConditionEval, EdgePriority, GateQuestion, PipelineEvent, ProviderUsage, SnapshotNode,
    ACTIVITY_SENTINEL,
};

impl PipelineEvent {
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
pub(super) fn is_false(value: &bool) -> bool {
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

pub(super) fn serialize_go_float<S: Serializer>(
    value: &f64,
    serializer: S,
) -> Result<S::Ok, S::Error> {
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
// Wire element types (both directions)
// ---------------------------------------------------------------------------

/// `conditions_tried` element: both keys always written.
#[derive(Serialize, Deserialize)]
pub(super) struct ConditionEvalWire {
    pub(super) edge_to: String,
    pub(super) condition: String,
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
pub(super) struct GateQuestionWire {
    pub(super) id: String,
    pub(super) text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) options: Vec<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub(super) is_yes_no: bool,
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
pub(super) struct SnapshotNodeWire {
    pub(super) id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(super) label: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(super) handler: String,
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
pub(super) struct ProviderTotalWire {
    pub(super) input_tokens: u64,
    pub(super) output_tokens: u64,
    pub(super) total_tokens: u64,
    #[serde(serialize_with = "serialize_go_float")]
    pub(super) cost_usd: f64,
    pub(super) reasoning_tokens: u64,
    pub(super) cache_read_tokens: u64,
    pub(super) cache_write_tokens: u64,
    pub(super) session_count: u64,
    #[serde(skip_serializing_if = "is_false")]
    pub(super) estimated: bool,
}

impl From<&ProviderUsage> for ProviderTotalWire {
    fn from(total: &ProviderUsage) -> Self {
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
