//! The `tracker` command line as a user meets it: verdicts, JSON shape, exit codes
//! and one-line errors for bad arguments.

use serde_json::Value;
use tracker_tests::{run_in, text, workspace_root};

#[test]
fn builtin_workflows_validate_cleanly() {
    let dir = tempfile::tempdir().expect("temp dir");
    for name in ["quickstart", "review_loop"] {
        let out = run_in(dir.path(), &["validate", name]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        let stdout = text(&out.stdout);
        assert!(stdout.starts_with(&format!("{name}: valid")), "{stdout}");
    }
}

#[test]
fn builtin_workflow_files_are_canonically_formatted() {
    for name in ["quickstart", "review_loop"] {
        let path = workspace_root()
            .join("workflows")
            .join(format!("{name}.dip"));
        let out = run_in(
            &workspace_root(),
            &["fmt", "--check", path.to_str().expect("utf-8 path")],
        );
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
    }
}

#[test]
fn validate_prints_counts_for_a_valid_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("ok.dip"),
        "workflow Ok\n  start: A\n  exit: B\n  agent A\n    prompt: a\n  agent B\n    prompt: b\n  edges\n    A -> B\n",
    )
    .expect("write");
    let out = run_in(dir.path(), &["validate", "ok.dip"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("ok.dip: valid"), "{stdout}");
    assert!(stdout.contains("(2 nodes, 1 edges)"), "{stdout}");
}

#[test]
fn validate_refuses_what_run_would_refuse() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("neg.dip"),
        "workflow W\n  start: A\n  exit: B\n  agent A\n    prompt: a\n  tool T\n    timeout: -5s\n    command: true\n  agent B\n    prompt: b\n  edges\n    A -> T\n    T -> B\n",
    )
    .expect("write");
    let out = run_in(dir.path(), &["validate", "neg.dip"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr
            .contains("error: neg.dip:6:8: node \"T\": timeout \"-5s\" is not a positive duration"),
        "{stderr}"
    );
    assert!(stderr.contains("neg.dip: invalid: 1 error(s)"), "{stderr}");
    assert!(text(&out.stdout).is_empty());

    // In a child workflow that is there too; one that is not is not looked for.
    std::fs::write(
        dir.path().join("parent.dip"),
        "workflow P\n  start: A\n  exit: B\n  agent A\n    prompt: a\n  subgraph S\n    ref: neg.dip\n  subgraph M\n    ref: missing.dip\n  agent B\n    prompt: b\n  edges\n    A -> S\n    S -> M\n    M -> B\n",
    )
    .expect("write");
    let out = run_in(dir.path(), &["validate", "parent.dip"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("node \"T\": timeout \"-5s\" is not a positive duration"),
        "{stderr}"
    );
    std::fs::write(
        dir.path().join("neg.dip"),
        "workflow W\n  start: A\n  exit: A\n  agent A\n    prompt: a\n",
    )
    .expect("write");
    let out = run_in(dir.path(), &["validate", "parent.dip"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn check_json_has_the_reference_shape() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("w.dip"),
        "workflow W\n  start: A\n  exit: B\n  agent A\n    prompt: a\n  tool T\n    command: echo hi\n  agent B\n    prompt: b\n  edges\n    A -> T\n    T -> B\n",
    )
    .expect("write");
    let out = run_in(dir.path(), &["check", "--json", "w.dip"]);
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "one line of JSON: {stdout}");
    let keys: Vec<&str> = [
        "\"valid\"",
        "\"errors\"",
        "\"warnings\"",
        "\"diagnostics\"",
        "\"suggested_actions\"",
    ]
    .to_vec();
    let positions: Vec<usize> = keys
        .iter()
        .map(|k| stdout.find(k).expect("key present"))
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "keys out of order: {stdout}"
    );
    let report: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(report["valid"], true);
    assert_eq!(report["errors"], 0);
    assert!(report["suggested_actions"].is_array());
}

#[test]
fn unknown_pipeline_name_lists_the_builtins() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run_in(dir.path(), &["validate", "no_such_flow"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("unknown pipeline \"no_such_flow\""),
        "{stderr}"
    );
    assert!(stderr.contains("quickstart"), "{stderr}");
}

#[test]
fn missing_file_is_a_one_line_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run_in(dir.path(), &["validate", "nowhere/flow.dip"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: cannot read nowhere/flow.dip"),
        "{stderr}"
    );
}

#[test]
fn check_json_reports_load_failures_as_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run_in(dir.path(), &["check", "--json", "missing.dip"]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_str(text(&out.stdout).trim()).expect("json");
    assert!(report["error"]
        .as_str()
        .expect("error string")
        .contains("missing.dip"));
}

#[test]
fn usage_errors_exit_1_as_in_the_reference() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run_in(dir.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(1));
    let out = run_in(dir.path(), &["fmt", "x.dip", "--check", "--write"]);
    assert_eq!(out.status.code(), Some(1));
    let out = run_in(dir.path(), &["--help"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn legacy_dot_files_load_with_a_deprecation_warning() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("old.dot"),
        "digraph Old {\n  Start [shape=Mdiamond];\n  Exit [shape=Msquare];\n  Work [shape=box, prompt=\"do it\"];\n  Start -> Work;\n  Work -> Exit;\n}\n",
    )
    .expect("write");
    let out = run_in(dir.path(), &["validate", "old.dot"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("deprecated"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("valid with"),
        "{}",
        text(&out.stdout)
    );
}
