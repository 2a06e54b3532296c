//! Reading a line back: [`PipelineEvent::from_line`] decodes either format
//! (with or without the activity sentinel) through one record of every key,
//! `WireLine`, and returns the event in canonical form (empty values as `None`,
//! payload groups `Some` only when they carry a field).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::encode::{ConditionEvalWire, GateQuestionWire, ProviderTotalWire, SnapshotNodeWire};
use super::{
    strip_activity_sentinel, Actor, AutoStatusDetail, Capture, ConditionEval, CostSnapshot,
    Decision, EdgePriority, EventKind, EventSource, GateDetail, GateQuestion, MarkerDetail,
    OverrideDetail, PipelineEvent, ProviderUsage, RouteDetail, RunSnapshot, SnapshotNode,
    Timestamp, Truncation,
};

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
    /// Reads an `activity.jsonl` line (with or without its leading sentinel) or a
    /// `--json` line back into an event. Unknown keys are ignored; empty values
    /// come back as `None`. Lines of other vocabularies (agent and LLM events)
    /// fail with [`EventParseError::UnknownType`].
    pub fn from_line(line: &str) -> Result<PipelineEvent, EventParseError> {
        let wire: WireLine = serde_json::from_str(strip_activity_sentinel(line))?;
        wire.into_event()
    }
}

impl From<ProviderTotalWire> for ProviderUsage {
    fn from(total: ProviderTotalWire) -> Self {
        ProviderUsage {
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
                .map(|(name, total)| (name, ProviderUsage::from(total)))
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
