//! Node attributes: for every node kind, a misspelt or ill-typed attribute is
//! a located diagnostic when the pipeline is loaded — never a silent default
//! at run time.

use serde_json::Value;
use tracker_tests::{run_in, text};

/// The findings `tracker check --json` reports for `body` (node declarations
/// placed between a start and an exit agent), as `(code, line, message)`.
fn findings(nodes: &str, edges: &str) -> Vec<(String, u64, String)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = format!(
        "workflow W\n  start: S\n  exit: E\n  agent S\n    prompt: Start.\n    fallback_target: E\n{nodes}  agent E\n    prompt: End.\n  edges\n{edges}"
    );
    std::fs::write(dir.path().join("w.dip"), src).expect("write");
    let out = run_in(dir.path(), &["check", "--json", "w.dip"]);
    let report: Value = serde_json::from_str(text(&out.stdout).trim()).expect("one JSON report");
    report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or_default().to_string(),
                d["line"].as_u64().unwrap_or_default(),
                d["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Asserts a finding with `code` on `line` whose message contains `needle`.
fn assert_found(found: &[(String, u64, String)], code: &str, line: u64, needle: &str) {
    assert!(
        found
            .iter()
            .any(|(c, l, m)| c == code && *l == line && m.contains(needle)),
        "no {code} at line {line} containing {needle:?} in {found:#?}"
    );
}

#[test]
fn agent_attributes() {
    let edges = "    S -> A\n    A -> E\n";
    let misspelt = findings("  agent A\n    prompt: Go.\n    max_turn: 5\n", edges);
    assert_found(
        &misspelt,
        "DIP000",
        9,
        "unrecognized agent field \"max_turn\"",
    );
    let ill_typed = findings("  agent A\n    prompt: Go.\n    max_turns: many\n", edges);
    assert_found(
        &ill_typed,
        "DIP000",
        9,
        "invalid integer \"many\" for max_turns",
    );
    let backend = findings(
        "  agent A\n    prompt: Go.\n    fallback_target: E\n    backend: codex\n",
        edges,
    );
    assert_found(&backend, "DIP163", 7, "backend \"codex\"");
    let effort = findings(
        "  agent A\n    prompt: Go.\n    fallback_target: E\n    reasoning_effort: extreme\n",
        edges,
    );
    assert_found(&effort, "DIP119", 7, "reasoning_effort \"extreme\"");
}

#[test]
fn tool_attributes() {
    let edges = "    S -> T\n    T -> E\n";
    let misspelt = findings("  tool T\n    command: true\n    timout: 10s\n", edges);
    assert_found(&misspelt, "DIP000", 9, "unrecognized tool field \"timout\"");
    let ill_typed = findings("  tool T\n    command: true\n    timeout: forever\n", edges);
    assert_found(
        &ill_typed,
        "DIP000",
        9,
        "invalid duration \"forever\" for timeout",
    );
    let limit = findings(
        "  tool T\n    command: true\n    timeout: 5s\n    output_limit: lots\n",
        edges,
    );
    assert_found(&limit, "DIP000", 10, "output_limit");
}

#[test]
fn human_attributes() {
    let edges = "    S -> H\n    H -> E\n";
    let misspelt = findings("  human H\n    mdoe: choice\n", edges);
    assert_found(&misspelt, "DIP000", 8, "unrecognized human field \"mdoe\"");
    let mode = findings("  human H\n    mode: chioce\n", edges);
    assert_found(&mode, "DIP127", 7, "mode \"chioce\"");
    let action = findings("  human H\n    timeout_action: explode\n", edges);
    assert_found(&action, "DIP000", 8, "invalid timeout_action \"explode\"");
}

#[test]
fn parallel_and_fan_in_attributes() {
    let nodes = "  parallel P -> A, B\n    params:\n      max_concurrency: lots\n  agent A\n    prompt: A.\n    fallback_target: E\n  agent B\n    prompt: B.\n    fallback_target: E\n  fan_in J <- A, B\n    params:\n      fan_in_policy: most\n";
    let found = findings(nodes, "    S -> P\n    J -> E\n");
    assert_found(&found, "DIP163", 7, "params.max_concurrency \"lots\"");
    assert_found(&found, "DIP163", 16, "params.fan_in_policy \"most\"");
    let timeout = findings(
        "  parallel P -> A, B\n    params:\n      branch_timeout: forever\n  agent A\n    prompt: A.\n    fallback_target: E\n  agent B\n    prompt: B.\n    fallback_target: E\n  fan_in J <- A, B\n",
        "    S -> P\n    J -> E\n",
    );
    assert_found(&timeout, "DIP163", 7, "params.branch_timeout \"forever\"");
}

#[test]
fn subgraph_manager_loop_and_conditional_attributes() {
    let subgraph = findings(
        "  subgraph G\n    ref: child.dip\n    bogus: 1\n",
        "    S -> G\n    G -> E\n",
    );
    assert_found(
        &subgraph,
        "DIP000",
        9,
        "unrecognized subgraph field \"bogus\"",
    );
    let manager = findings(
        "  manager_loop M\n    subgraph_ref: child.dip\n    max_cycles: often\n",
        "    S -> M\n    M -> E\n",
    );
    assert_found(&manager, "DIP000", 9, "max_cycles");
    let conditional = findings(
        "  conditional C\n    colour: red\n",
        "    S -> C\n    C -> E\n",
    );
    assert_found(&conditional, "DIP000", 8, "colour");
}

/// `tracker run` on `src`: its output, and whether it created a run directory.
fn run_pipeline(src: &str) -> (std::process::Output, bool) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("w.dip"), src).expect("write");
    let out = run_in(
        dir.path(),
        &["run", "--no-tui", "--provider", "stub", "w.dip"],
    );
    let created = !tracker_tests::run_dirs(dir.path()).is_empty();
    (out, created)
}

#[test]
fn a_setting_the_runtime_cannot_use_stops_the_run_at_load_naming_its_line() {
    // Line 7 declares the fan-out whose join policy is unknown, and line 9 a
    // node whose supervision settings do not parse; neither run starts.
    let fan_out = "workflow W\n  start: S\n  exit: E\n  agent S\n    prompt: Start.\n    fallback_target: E\n  parallel P -> A, B\n    params:\n      fan_in_policy: most\n  agent A\n    prompt: A.\n  agent B\n    prompt: B.\n  fan_in J <- A, B\n  agent E\n    prompt: End.\n  edges\n    S -> P\n    J -> E\n";
    let (out, created) = run_pipeline(fan_out);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "w.dip:7:12: node \"P\": fan_in_policy \"most\" is not one of any, all, quorum"
        ),
        "{stderr}"
    );
    assert!(
        !created,
        "nothing is created for a pipeline that cannot run"
    );

    let supervised = "workflow W\n  start: S\n  exit: E\n  agent S\n    prompt: Start.\n  agent E\n    prompt: End.\n    params:\n      supervise: restart=sometimes\n  edges\n    S -> E\n";
    let (out, created) = run_pipeline(supervised);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("w.dip:6:9: node \"E\": params.supervise \"restart=sometimes\" is invalid"),
        "{stderr}"
    );
    assert!(!created);
}
