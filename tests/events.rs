//! The event stream a real run writes — `--json` on stdout, `activity.jsonl` in
//! the run directory and the live log — uses the reference's event names, keys
//! and order.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use serde_json::Value;
use tracker_tests::{conformance_dir, run_in};

/// Runs the `control_flow` conformance fixture for real and returns its
/// `--json` lines and its working directory.
fn control_flow_run() -> (Vec<String>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let fixture = conformance_dir().join("control_flow.dip");
    let fixture = fixture.to_str().expect("utf-8");
    let out = run_in(
        dir.path(),
        &[
            "run",
            fixture,
            "--json",
            "--auto-approve",
            "--provider",
            "stub",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect();
    (lines, dir)
}

fn parse(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Event types by node, and the node-less ones, as the golden groups them.
fn grouped(events: &[Value]) -> (Vec<String>, BTreeMap<String, Vec<String>>) {
    let mut pipeline = Vec::new();
    let mut nodes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // Agent session events are a stream of their own (the harness's collector
    // never sees them); they are checked separately.
    for e in events.iter().filter(|e| e["source"] == "pipeline") {
        let kind = e["type"].as_str().expect("type").to_string();
        match e["node_id"].as_str() {
            Some(node) => nodes.entry(node.to_string()).or_default().push(kind),
            None => pipeline.push(kind),
        }
    }
    (pipeline, nodes)
}

fn run_dir(dir: &std::path::Path) -> PathBuf {
    tracker_tests::run_dirs(dir).pop().expect("one run")
}

#[test]
fn the_json_stream_matches_the_golden_event_order() {
    let (lines, _dir) = control_flow_run();
    let events = parse(&lines);
    let golden: Value = serde_json::from_str(
        &std::fs::read_to_string(conformance_dir().join("control_flow.golden.json"))
            .expect("golden"),
    )
    .expect("golden JSON");
    let (pipeline, nodes) = grouped(&events);
    // A real run also saves checkpoints; those node-less events are the only
    // difference from the harness, which runs without one.
    let pipeline: Vec<&str> = pipeline
        .iter()
        .map(String::as_str)
        .filter(|k| *k != "checkpoint_saved")
        .collect();
    let expected: Vec<&str> = golden["pipeline_events"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(pipeline, expected);
    let golden_nodes = golden["node_events"].as_object().expect("object");
    assert_eq!(nodes.len(), golden_nodes.len());
    for (node, kinds) in golden_nodes {
        let expected: Vec<&str> = kinds
            .as_array()
            .expect("array")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let actual: Vec<&str> = nodes[node].iter().map(String::as_str).collect();
        assert_eq!(actual, expected, "node {node}");
    }
}

#[test]
fn agent_nodes_report_their_sessions_inside_their_stage() {
    let (lines, _dir) = control_flow_run();
    let events = parse(&lines);
    let agent: Vec<&Value> = events.iter().filter(|e| e["source"] == "agent").collect();
    assert!(!agent.is_empty(), "agent events are published");
    let node = agent[0]["node_id"].as_str().expect("node id");
    let kinds: Vec<&str> = events
        .iter()
        .filter(|e| e["node_id"] == node)
        .filter_map(|e| e["type"].as_str())
        .collect();
    let position = |k: &str| kinds.iter().position(|x| *x == k).unwrap_or(usize::MAX);
    assert!(
        position("stage_started") < position("session_start"),
        "{kinds:?}"
    );
    assert!(
        position("session_start") < position("llm_request_start"),
        "{kinds:?}"
    );
    assert!(
        position("llm_request_start") < position("llm_finish"),
        "{kinds:?}"
    );
    assert!(
        position("llm_finish") < position("session_end"),
        "{kinds:?}"
    );
    assert!(
        position("session_end") < position("stage_completed"),
        "{kinds:?}"
    );
    let finish = agent
        .iter()
        .find(|e| e["type"] == "llm_finish")
        .expect("llm_finish");
    assert_eq!(finish["provider"], "stub");
    assert_eq!(finish["token_input"], 100);
    assert_eq!(finish["finish_reason"], "stop");
    assert_eq!(finish["turn_no"], 1);
}

#[test]
fn every_line_has_the_reference_keys_in_the_reference_order() {
    let (lines, _dir) = control_flow_run();
    let ts = regex::Regex::new(r#"^\{"ts":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)","source":"(pipeline|agent)","type":"[a-z_]+","run_id":"[0-9a-f]{12}""#)
        .expect("regex");
    for line in &lines {
        assert!(ts.is_match(line), "{line}");
    }
    let events = parse(&lines);
    let started = &events[0];
    assert_eq!(started["type"], "pipeline_started");
    assert_eq!(started["snapshot_start_node"], "Start");
    assert_eq!(started["snapshot_exit_node"], "Done");
    assert!(started["snapshot_nodes"]
        .as_array()
        .is_some_and(|n| n.len() == 5));
    let terminal: Vec<&Value> = events
        .iter()
        .filter(|e| e.get("terminal_status").is_some())
        .collect();
    assert_eq!(terminal.len(), 1);
    assert_eq!(terminal[0]["type"], "pipeline_completed");
    assert_eq!(terminal[0]["terminal_status"], "success");
    let edge = events
        .iter()
        .find(|e| e["type"] == "decision_edge" && e["node_id"] == "Approve")
        .expect("Approve routes");
    assert_eq!(edge["edge_from"], "Approve");
    assert_eq!(edge["edge_to"], "Ship");
    assert_eq!(edge["edge_priority"], "condition");
    assert_eq!(edge["edge_condition"], "ctx.outcome = success");
    assert_eq!(edge["condition_match"], true);
    let gate = events
        .iter()
        .find(|e| e["type"] == "gate_opened")
        .expect("gate opened");
    assert_eq!(gate["gate_mode"], "yes_no");
    assert_eq!(gate["gate_choices"], serde_json::json!(["Yes", "No"]));
    let cost = events
        .iter()
        .find(|e| e["type"] == "cost_updated")
        .expect("cost");
    assert_eq!(cost["total_tokens"], 150);
    assert_eq!(cost["provider_totals"]["stub"]["session_count"], 1);
}

#[test]
fn activity_logs_carry_the_same_events() {
    let (lines, dir) = control_flow_run();
    let stream = parse(&lines);
    let run = run_dir(dir.path());
    let copy = std::fs::read_to_string(run.join("activity.jsonl")).expect("activity.jsonl");
    let logged: Vec<Value> = copy
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let kinds = |events: &[Value]| -> Vec<String> {
        events
            .iter()
            .map(|e| e["type"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(kinds(&logged), kinds(&stream));
    // The activity line order ends with terminal_status and has no snapshot.
    let last = copy.lines().last().expect("lines");
    assert!(last.ends_with(r#""terminal_status":"success"}"#), "{last}");
    assert!(!copy.contains("snapshot_nodes"));
    let run_id = run.file_name().and_then(|n| n.to_str()).expect("id");
    let live = dir
        .path()
        .join(".audit")
        .join(run_id)
        .join("activity.jsonl");
    let live_text = std::fs::read_to_string(&live).expect("live log");
    assert!(live_text.lines().all(|l| l.starts_with("\u{1f}\u{1e}{")));
    assert_eq!(live_text.lines().count(), logged.len());
    let mode = std::fs::metadata(&live).expect("meta").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}
