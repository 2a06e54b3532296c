//! `tracker conformance golden`: every reference fixture byte for byte, and the
//! harness rules on fixtures of our own written in the same style.

use std::path::Path;

use serde_json::Value;
use tracker_tests::{conformance_dir, data_dir, files_with_extension, run_in};

/// Runs the harness on `fixture`; returns stdout and the exit code.
fn golden(fixture: &Path) -> (String, Option<i32>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let fixture = fixture.to_str().expect("utf-8 path");
    let out = run_in(dir.path(), &["conformance", "golden", fixture]);
    (
        String::from_utf8(out.stdout).expect("utf-8 output"),
        out.status.code(),
    )
}

fn golden_json(name: &str) -> Value {
    let (text, code) = golden(&data_dir().join("conformance").join(name));
    assert_eq!(code, Some(0), "{text}");
    serde_json::from_str(&text).expect("golden output is JSON")
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn every_reference_fixture_reproduces_its_golden_byte_for_byte() {
    let fixtures: Vec<_> = files_with_extension(&conformance_dir(), "dip")
        .into_iter()
        .filter(|p| p.parent() == Some(conformance_dir().as_path()))
        .collect();
    assert!(fixtures.len() >= 6, "fixtures: {fixtures:?}");
    let mut failures = Vec::new();
    for fixture in &fixtures {
        let expected_path = fixture.with_extension("golden.json");
        let expected = std::fs::read_to_string(&expected_path).expect("golden file");
        let (actual, code) = golden(fixture);
        if code != Some(0) || actual != expected {
            failures.push(format!(
                "{}: exit {code:?}\n--- expected\n{expected}\n--- actual\n{actual}",
                fixture.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn budget_named_fixtures_halt_with_budget_exceeded() {
    let g = golden_json("budget_tokens.dip");
    assert_eq!(g["terminal_status"], "budget_exceeded");
    assert_eq!(g["status_class"], "failed");
    assert_eq!(
        strings(&g["pipeline_events"]),
        ["pipeline_started", "budget_exceeded"]
    );
    assert_eq!(strings(&g["completed_nodes"]), ["Begin", "Draft"]);
    assert_eq!(
        strings(&g["node_events"]["Draft"]),
        [
            "stage_started",
            "decision_outcome",
            "stage_completed",
            "decision_edge",
            "cost_updated"
        ]
    );
    assert!(g["node_events"].get("Polish").is_none());
    assert_eq!(g["usage"]["total_tokens"], 150);
}

#[test]
fn billing_named_fixtures_pause_without_completing_the_node() {
    let g = golden_json("billing_pause.dip");
    assert_eq!(g["terminal_status"], "paused_billing");
    assert_eq!(g["status_class"], "failed");
    assert_eq!(strings(&g["pipeline_events"]), ["pipeline_started"]);
    assert_eq!(
        strings(&g["node_events"]["Write"]),
        ["stage_started", "stage_failed", "billing_paused"]
    );
    assert_eq!(strings(&g["completed_nodes"]), ["Begin", "Prepare"]);
    let write = g["trace_entries"]
        .as_array()
        .and_then(|t| t.iter().find(|e| e["node_id"] == "Write"))
        .expect("Write traced");
    assert_eq!(write["status"], "error");
    assert!(write.get("edge_to").is_none());
    assert!(g["usage"].is_null());
}

#[test]
fn an_override_edge_after_a_failure_ends_validation_overridden() {
    let g = golden_json("override_after_failure.dip");
    assert_eq!(g["terminal_status"], "validation_overridden");
    assert_eq!(g["status_class"], "succeeded");
    let review = strings(&g["node_events"]["Review"]);
    assert_eq!(
        review,
        [
            "stage_started",
            "gate_opened",
            "gate_resolved",
            "decision_outcome",
            "stage_completed",
            "decision_edge",
            "validation_overridden"
        ]
    );
    let lint = g["trace_entries"]
        .as_array()
        .and_then(|t| t.iter().find(|e| e["node_id"] == "Lint"))
        .expect("Lint traced");
    assert_eq!(
        (lint["status"].as_str(), lint["edge_to"].as_str()),
        (Some("fail"), Some("Review"))
    );
    assert_eq!(
        strings(&g["completed_nodes"]),
        ["Begin", "End", "Fix", "Lint", "Review"]
    );
}

#[test]
fn subgraph_events_are_prefixed_and_child_usage_rolls_up() {
    let g = golden_json("nested_subgraph.dip");
    assert_eq!(g["terminal_status"], "success");
    for child in [
        "Inner/InBegin",
        "Inner/InTool",
        "Inner/InWork",
        "Inner/InEnd",
    ] {
        assert!(
            g["node_events"].get(child).is_some(),
            "{child} missing: {g}"
        );
    }
    assert!(g["node_events"].get("InWork").is_none());
    assert_eq!(g["usage"]["session_count"], 1);
    assert_eq!(g["usage"]["provider_totals"]["stub"]["total_tokens"], 150);
}

#[test]
fn harness_failures_answer_in_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    // No fixture, two, or a flag the harness does not know: the same usage
    // error, in JSON.
    for args in [&[][..], &["a.dip", "b.dip"], &["--bogus"]] {
        let out = run_in(dir.path(), &[&["conformance", "golden"][..], args].concat());
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            // Go's encoder escapes `<` and `>`.
            "{\n  \"error\": \"usage: tracker-conformance golden \\u003cfixture.dip\\u003e\"\n}\n",
            "{args:?}"
        );
    }
    let out = run_in(dir.path(), &["conformance", "golden", "missing.dip"]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        v["error"],
        "read fixture: open missing.dip: no such file or directory"
    );
    std::fs::write(dir.path().join("broken.dip"), "workflow X\n  start: A\n").expect("write");
    let out = run_in(dir.path(), &["conformance", "golden", "broken.dip"]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(
        v["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("parse fixture broken.dip")),
        "{v}"
    );
}

#[test]
fn child_runs_in_parallel_branches_count_toward_usage() {
    let g = golden_json("parallel_subgraphs.dip");
    assert_eq!(g["terminal_status"], "success", "{g}");
    // The agent branch's session and the child run's session.
    assert_eq!(g["usage"]["session_count"], 2, "{g}");
    assert_eq!(g["usage"]["total_tokens"], 300, "{g}");
    // The child's session keeps its provider; merged branch stats have none
    // (the reference's `unknown` bucket).
    assert_eq!(
        g["usage"]["provider_totals"]["stub"]["session_count"], 1,
        "{g}"
    );
}
