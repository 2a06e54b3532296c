//! The normalized golden trace of a run (engine-semantics §9): what
//! `tracker conformance golden` prints, byte for byte as the reference harness
//! prints it.
//!
//! Volatile parts (timestamps, run ids, messages, durations) are left out and
//! everything order-dependent is canonicalized: events are grouped into the
//! node-less pipeline stream and per-node streams, completed nodes are sorted,
//! trace entries are stably sorted by node id, and stats go through Go's
//! generic map encoding (sorted keys, numbers as floats).

use std::collections::BTreeMap;

use crate::engine::RunResult;
use crate::event::{EventSource, PipelineEvent};
use crate::gojson::{to_go_json_pretty, GoValue};

/// The golden document's schema version.
pub const SCHEMA_VERSION: &str = "2";

/// The golden JSON for a run of the fixture named `pipeline` (its file name).
pub fn golden_trace(pipeline: &str, result: &RunResult, events: &[PipelineEvent]) -> String {
    let mut pipeline_events: Vec<GoValue> = Vec::new();
    let mut node_events: BTreeMap<String, Vec<GoValue>> = BTreeMap::new();
    // The reference's collector sees engine and handler events only; agent
    // session events travel on a stream of their own.
    for event in events.iter().filter(|e| e.source != EventSource::Agent) {
        let kind = GoValue::from(event.kind.wire_name());
        match event.node_id.as_deref().filter(|n| !n.is_empty()) {
            None => pipeline_events.push(kind),
            Some(node) => node_events.entry(node.to_string()).or_default().push(kind),
        }
    }
    let mut completed = result.completed_nodes.clone();
    completed.sort();
    let completed = if completed.is_empty() {
        GoValue::Null
    } else {
        GoValue::strings(&completed)
    };
    let mut entries: Vec<&crate::engine::TraceEntry> = result.trace.iter().collect();
    entries.sort_by(|a, b| a.node_id.cmp(&b.node_id));
    let trace = if entries.is_empty() {
        GoValue::Null
    } else {
        GoValue::Array(
            entries
                .into_iter()
                .map(|e| {
                    let mut fields: Vec<(&str, GoValue)> = vec![
                        ("node_id", e.node_id.as_str().into()),
                        ("handler_name", e.handler_name.as_str().into()),
                        ("status", e.status.as_str().into()),
                    ];
                    if !e.edge_to.is_empty() {
                        fields.push(("edge_to", e.edge_to.as_str().into()));
                    }
                    if let Some(stats) = &e.stats {
                        let mut map = match crate::usage::session_stats_value(stats).to_generic() {
                            GoValue::Object(map) => map,
                            _ => Vec::new(),
                        };
                        map.retain(|(k, _)| k != "longest_turn");
                        if !map.is_empty() {
                            fields.push(("stats", GoValue::Object(map)));
                        }
                    }
                    GoValue::object(fields)
                })
                .collect(),
        )
    };
    let status = result.status;
    let doc = GoValue::object([
        ("schema_version", GoValue::from(SCHEMA_VERSION)),
        ("pipeline", pipeline.into()),
        ("terminal_status", status.as_str().into()),
        (
            "status_class",
            if status.is_success() {
                "succeeded"
            } else {
                "failed"
            }
            .into(),
        ),
        ("completed_nodes", completed),
        ("pipeline_events", GoValue::Array(pipeline_events)),
        (
            "node_events",
            GoValue::sorted_map(&node_events, |v| GoValue::Array(v.clone())),
        ),
        ("trace_entries", trace),
        (
            "usage",
            result
                .usage
                .as_ref()
                .map_or(GoValue::Null, |u| u.to_go_value()),
        ),
    ]);
    to_go_json_pretty(&doc)
}

/// The harness's answer when there is no result: `{"error": "..."}`.
pub fn golden_error(message: &str) -> String {
    to_go_json_pretty(&GoValue::object([("error", GoValue::from(message))]))
}
