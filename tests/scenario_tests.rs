//! `tracker test`: scenario files run through the simulator — the shared
//! corpus's third-party scenarios, each kind of failing expectation, malformed
//! files, and the built-ins' own scenarios.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;
use tracker_tests::{corpus_dir, run_in, text, workspace_root};

/// The corpus's scenario files, as (directory, pipeline file).
const CORPUS: [(&str, &str); 5] = [
    ("tracker/examples", "ask_and_execute.dip"),
    ("tracker/examples", "build_product.dip"),
    ("tracker/examples", "build_product_with_superspec.dip"),
    ("dippin-lang/cmd/dippin/testdata", "gate_default.dip"),
    ("dippin-lang/cmd/dippin/testdata", "gate_loop.dip"),
];

/// `build_product.test.json` scenarios that no simulator following
/// dippin-language §11 can pass against the `build_product.dip` beside them:
/// they were written for an older version of the workflow. Each expects a step
/// the workflow cannot take (checked by `the_stale_scenarios_ask_for_steps_the_workflow_cannot_take`).
///
/// Five name, in `immediately_after`, a pair of nodes with no edge between
/// them: `Implement` → `TestMilestone` (`CommitIfDirty` is between),
/// `EscalateMilestone` → `Cleanup`, `EscalateReview` → `Decompose`
/// (`ResetReviewBudget` is between), `ApplyReviewFixes` → `FinalBuild`,
/// `PickNextMilestone` → `ReviewParallel` (`CheckMilestoneOutputs` and
/// `ClearStaleReviews` are between).
const NO_SUCH_EDGE: [&str; 5] = [
    "build loop — implement, test, verify, mark done, pick next",
    "milestone escalation — accept skips to cleanup",
    "review escalation — retry goes back to Decompose",
    "cross-review finds issues — apply fixes then final build",
    "all milestones complete — routes to cross-review",
];

/// Eleven never end: their walks cycle in the milestone loop until the
/// 500-step limit stops them. Every way out of that loop now goes through
/// `CheckMilestoneOutputs`, which reaches the review (`ClearStaleReviews`) only
/// when `tool_stdout` contains `outputs-present` — no scenario sets it — and
/// otherwise routes to `EscalateMilestone`, whose default (`mark done`) leads
/// back into the loop. The first five say so outright, expecting the review or
/// no `EscalateMilestone`.
const NEVER_ENDS: [&str; 11] = [
    "happy path — milestones done, review, ship",
    "test fails — enters fix loop then retests",
    "final build fails — review escalation (not milestone)",
    "final spec check fails — review escalation",
    "full success path order — plan to ship",
    "fix exhausted — routes to milestone escalation, not review escalation",
    "milestone escalation default — mark done continues build",
    "milestone escalation — retry re-implements from scratch",
    "verify fails — routes to fix loop, not escalation",
    "PickNextMilestone with no all-done — continues to Implement",
    "fix loop breaks after max visits — escalation reached",
];

fn results(dir: &Path, args: &[&str]) -> (Option<i32>, Value, String) {
    let mut all = vec!["test"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let out = run_in(dir, &all);
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), json, text(&out.stderr))
}

fn failed_names(json: &Value) -> BTreeSet<String> {
    json["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["passed"] == false)
        .map(|r| r["name"].as_str().expect("name").to_string())
        .collect()
}

#[test]
fn the_corpus_scenarios_pass_but_the_stale_ones() {
    let mut total = 0;
    let mut failed = BTreeSet::new();
    let mut endless = BTreeSet::new();
    for (dir, dip) in CORPUS {
        let dir = corpus_dir().join(dir);
        let (code, json, stderr) = results(&dir, &[dip]);
        assert!(json.is_object(), "{dip}: no JSON ({code:?}): {stderr}");
        let names = failed_names(&json);
        assert_eq!(code, Some(if names.is_empty() { 0 } else { 1 }), "{dip}");
        total += json["total"].as_u64().expect("total");
        failed.extend(names);
        endless.extend(
            json["results"]
                .as_array()
                .expect("results")
                .iter()
                .filter(|r| r["errors"].to_string().contains("exceeded 500 steps"))
                .map(|r| r["name"].as_str().expect("name").to_string()),
        );
    }
    assert_eq!(total, 35);
    let stale: BTreeSet<String> = NO_SUCH_EDGE
        .iter()
        .chain(&NEVER_ENDS)
        .map(|s| s.to_string())
        .collect();
    assert_eq!(failed, stale);
    let never_ends: BTreeSet<String> = NEVER_ENDS.iter().map(|s| s.to_string()).collect();
    assert!(never_ends.is_subset(&endless), "{endless:?}");
}

#[test]
fn the_stale_scenarios_ask_for_steps_the_workflow_cannot_take() {
    let dir = corpus_dir().join("tracker/examples");
    let source = std::fs::read_to_string(dir.join("build_product.dip")).expect("read");
    let doc = dippin::load_str("build_product.dip", &source, None);
    let edges: BTreeSet<(String, String)> = doc
        .workflow
        .all_edges()
        .iter()
        .map(|e| (e.from.to_string(), e.to.to_string()))
        .collect();
    let tests: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("build_product.test.json")).expect("read"),
    )
    .expect("json");
    let test = |name: &str| {
        tests["tests"]
            .as_array()
            .expect("tests")
            .iter()
            .find(|t| t["name"] == name)
            .cloned()
            .expect("a test")
    };
    for name in NO_SUCH_EDGE {
        let after = test(name)["expect"]["immediately_after"].clone();
        let missing = after
            .as_object()
            .expect("immediately_after")
            .iter()
            .any(|(a, b)| !edges.contains(&(a.clone(), b.as_str().expect("id").to_string())));
        assert!(missing, "{name}: every pair it names is an edge");
    }
    // The gate out of the milestone loop: to the review only on
    // `outputs-present`.
    let out_of_gate: Vec<&(String, String)> = edges
        .iter()
        .filter(|(from, _)| from == "CheckMilestoneOutputs")
        .collect();
    assert!(source.contains(
        "CheckMilestoneOutputs -> ClearStaleReviews  when ctx.tool_stdout contains outputs-present"
    ));
    assert!(out_of_gate
        .iter()
        .all(|(_, to)| to == "ClearStaleReviews" || to == "EscalateMilestone"));
    for name in &NEVER_ENDS[..5] {
        let test = test(name);
        let wants_review_or_no_escalation = test["expect"]["not_visited"]
            .as_array()
            .is_some_and(|n| n.iter().any(|n| n == "EscalateMilestone"))
            || ["visited", "path_contains"].iter().any(|key| {
                test["expect"][key]
                    .as_array()
                    .is_some_and(|n| n.iter().any(|n| n == "ReviewParallel"))
            });
        assert!(wants_review_or_no_escalation, "{name}");
    }
    for name in NEVER_ENDS {
        assert!(
            !test(name)["scenario"]
                .to_string()
                .contains("outputs-present"),
            "{name}"
        );
    }
}

const FLOW: &str = "workflow Flow
  start: Start
  exit: Done
  agent Start
    label: Start
  agent Work
    auto_status: true
    prompt: work
  human Gate
    label: \"Go?\"
    mode: choice
    default: go
  agent Done
    label: Done
  edges
    Start -> Work
    Work -> Gate  when ctx.outcome = success
    Work -> Done  when ctx.outcome = fail
    Gate -> Done  label: go
    Gate -> Work  label: again  loop
";

fn flow_dir(tests: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("flow.dip"), FLOW).expect("write");
    std::fs::write(dir.path().join("flow.test.json"), tests).expect("write");
    dir
}

#[test]
fn each_kind_of_wrong_expectation_fails_naming_it() {
    let dir = flow_dir(
        r#"{"tests": [
  {"name": "right", "scenario": {}, "expect": {"status": "success", "path_contains": ["Start", "Work", "Gate", "Done"]}},
  {"name": "status", "scenario": {}, "expect": {"status": "dead_end"}},
  {"name": "visited", "scenario": {"Work.outcome": "fail"}, "expect": {"visited": ["Gate"]}},
  {"name": "not_visited", "scenario": {}, "expect": {"not_visited": ["Gate"]}},
  {"name": "path_contains", "scenario": {}, "expect": {"path_contains": ["Gate", "Work"]}},
  {"name": "immediately_after", "scenario": {}, "expect": {"immediately_after": {"Work": "Done"}}}
]}"#,
    );
    let (code, json, stderr) = results(dir.path(), &["flow.dip"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(
        (json["passed"].as_u64(), json["failed"].as_u64()),
        (Some(1), Some(5))
    );
    let by_name = |name: &str| {
        json["results"]
            .as_array()
            .expect("results")
            .iter()
            .find(|r| r["name"] == name)
            .cloned()
            .expect("a result")
    };
    assert_eq!(by_name("right")["passed"], true);
    let path = by_name("right")["path"].clone();
    assert_eq!(path, serde_json::json!(["Start", "Work", "Gate", "Done"]));
    for (name, message) in [
        (
            "status",
            r#"expect.status: wanted "dead_end", the walk ended "success""#,
        ),
        ("visited", r#"expect.visited: "Gate" was not visited"#),
        ("not_visited", r#"expect.not_visited: "Gate" was visited"#),
        (
            "path_contains",
            r#"expect.path_contains: "Work" does not follow "Gate""#,
        ),
        (
            "immediately_after",
            r#"expect.immediately_after: wanted "Done" right after "Work", got "Gate""#,
        ),
    ] {
        let result = by_name(name);
        assert_eq!(result["passed"], false, "{name}");
        let errors = result["errors"].to_string();
        assert!(
            errors.contains(&message.replace('"', "\\\"")),
            "{name}: {errors}"
        );
    }
    // The text form says the same, with each failing test's path.
    let out = run_in(dir.path(), &["test", "flow.dip", "--run", "immediately"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("✗ immediately_after"), "{stdout}");
    assert!(
        stdout.contains("path: Start → Work → Gate → Done"),
        "{stdout}"
    );
    assert!(stdout.contains("0 passed, 1 failed, 1 total"), "{stdout}");
}

#[test]
fn gates_follow_preferences_then_defaults_and_loops_break() {
    let dir = flow_dir(
        r#"{"tests": [
  {"name": "default", "scenario": {}, "expect": {"immediately_after": {"Gate": "Done"}}},
  {"name": "preferred on every visit, until Work's fourth visit breaks the loop", "scenario": {"Gate.preferred_label": "again"},
   "expect": {"status": "success", "path_contains": ["Gate", "Work", "Gate", "Work", "Gate", "Work", "Done"],
              "immediately_after": {"Gate": "Work"}}}
]}"#,
    );
    let (code, json, stderr) = results(dir.path(), &["flow.dip"]);
    assert_eq!(code, Some(0), "{json} {stderr}");
    // The text says where the visit cap broke the loop.
    let out = run_in(dir.path(), &["test", "flow.dip", "--run", "preferred"]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("    loops broken at: Work\n"), "{stdout}");
}

#[test]
fn malformed_test_files_are_located_errors() {
    for (tests, wanted) in [
        ("{\"tests\": [\n  {\"name\": \"x\",,}]}", "flow.test.json:2:16: "),
        (
            "{\"tests\": [\n  {\"name\": \"x\", \"expects\": {}}]}",
            "unknown field `expects`",
        ),
        (
            "{\"tests\": [\n  {\"name\": \"x\", \"expect\": {\"visited\": [\"Nope\"]}}]}",
            "flow.test.json:2:40: test \"x\": expect.visited names \"Nope\", which Flow has no node of",
        ),
        (
            "{\"tests\": [\n  {\"name\": \"x\", \"expect\": {\"status\": \"done\"}}]}",
            "expect.status is \"done\"",
        ),
        (
            "{\"tests\": [\n  {\"name\": \"x\", \"branch\": [\"Work\"], \"expect\": {}}]}",
            "flow.test.json:2:28: test \"x\": branch names \"Work\", which no parallel node of Flow fans out to",
        ),
    ] {
        let dir = flow_dir(tests);
        let out = run_in(dir.path(), &["test", "flow.dip"]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{tests}: {stderr}");
        assert!(stderr.contains(wanted), "{tests}: {stderr}");
        assert!(out.stdout.is_empty(), "{tests}: nothing passes");
    }
    // No test file, and a --run that selects nothing, are usage errors too.
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("flow.dip"), FLOW).expect("write");
    let out = run_in(dir.path(), &["test", "flow.dip"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("flow.test.json"),
        "{}",
        text(&out.stderr)
    );
    let dir = flow_dir(r#"{"tests": [{"name": "x", "expect": {}}]}"#);
    let out = run_in(dir.path(), &["test", "flow.dip", "--run", "nothing"]);
    assert_eq!(out.status.code(), Some(2));
    // So are bad arguments: apart from failing tests' 1.
    for args in [
        &["test"][..],
        &["test", "flow.dip", "--format", "yaml"],
        &["test", "nope.dip"],
    ] {
        let out = run_in(dir.path(), args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn the_builtins_scenarios_pass_and_cover_every_edge() {
    for name in ["quickstart", "review_loop"] {
        let dir = tempfile::tempdir().expect("temp dir");
        let (code, json, stderr) = results(dir.path(), &[name]);
        assert_eq!(code, Some(0), "{name}: {json} {stderr}");
        let mut taken = BTreeSet::new();
        for result in json["results"].as_array().expect("results") {
            let path: Vec<&str> = result["path"]
                .as_array()
                .expect("path")
                .iter()
                .map(|n| n.as_str().expect("id"))
                .collect();
            taken.extend(
                path.windows(2)
                    .map(|w| (w[0].to_string(), w[1].to_string())),
            );
        }
        let source =
            std::fs::read_to_string(workspace_root().join(format!("workflows/{name}.dip")))
                .expect("read");
        let doc = dippin::load_str(format!("{name}.dip"), &source, None);
        for edge in doc.workflow.all_edges() {
            let pair = (edge.from.to_string(), edge.to.to_string());
            assert!(
                taken.contains(&pair),
                "{name}: no scenario takes {} -> {}",
                pair.0,
                pair.1
            );
        }
    }
}

/// A tool whose marker routes it, and an `else` for the nodes whose
/// conditions all fail.
const MARKED: &str = "workflow Marked
  start: Start
  exit: Done
  agent Start
    label: Start
  tool Test
    timeout: 10s
    marker_grep: \"^TESTS_(PASS|FAIL)$\"
    command:
      printf 'TESTS_PASS\\nretrying\\nTESTS_FAIL\\n'
  tool Probe
    timeout: 10s
    command: echo maybe
  agent Fix
    prompt: fix it
  agent Fallback
    prompt: fall back
  agent Done
    label: Done
  edges
    Start -> Test
    Test -> Probe  on PASS
    Test -> Fix  on FAIL
    Fix -> Probe  loop
    Probe -> Done  when ctx.tool_stdout = yes
    Probe -> Fix  when ctx.tool_stdout = no
    Fallback -> Done
    else -> Fallback
";

#[test]
fn a_test_routes_markers_and_else_as_the_run_does() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("marked.dip"), MARKED).expect("write");
    // The run: the last marker line's group is FAIL, and Probe's stdout
    // matches neither condition, so the `else` takes it to Fallback.
    let out = run_in(
        dir.path(),
        &["run", "marked.dip", "--provider", "stub", "--no-tui"],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for step in [
        "edge selected: Test -> Fix",
        "edge selected: Probe -> Fallback",
    ] {
        assert!(stdout.contains(step), "{step}: {stdout}");
    }
    // The test of the same stdout walks the same way.
    std::fs::write(
        dir.path().join("marked.test.json"),
        r#"{"tests": [
  {"name": "as run", "scenario": {"Test.tool_stdout": "TESTS_PASS\nretrying\nTESTS_FAIL\n", "Probe.tool_stdout": "maybe"},
   "expect": {"status": "success", "path_contains": ["Start", "Test", "Fix", "Probe", "Fallback", "Done"]}}
]}"#,
    )
    .expect("write");
    let (code, json, stderr) = results(dir.path(), &["marked.dip"]);
    assert_eq!(code, Some(0), "{json} {stderr}");
}

#[test]
fn a_pipeline_validate_refuses_is_not_tested() {
    let dir = flow_dir(r#"{"tests": [{"name": "any", "scenario": {}, "expect": {}}]}"#);
    // An unconditional cycle that never reaches the exit: `run` refuses it.
    let cyclic = "workflow Cyc\n  start: A\n  exit: C\n  agent A\n    label: A\n  agent B\n    label: B\n  agent C\n    label: C\n  edges\n    A -> B\n    B -> A\n";
    std::fs::write(dir.path().join("flow.dip"), cyclic).expect("write");
    let validate = run_in(dir.path(), &["validate", "flow.dip"]);
    assert_eq!(validate.status.code(), Some(1), "{cyclic}");
    let out = run_in(dir.path(), &["test", "flow.dip"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("invalid"), "{stderr}");
    assert!(
        !text(&out.stdout).contains("passed"),
        "{}",
        text(&out.stdout)
    );
    // Asked for JSON, it says so in JSON, with the diagnostics.
    let (code, json, _) = results(dir.path(), &["flow.dip"]);
    assert_eq!(code, Some(1));
    assert_eq!(json["error"], "flow.dip: the pipeline is invalid", "{json}");
    assert!(json["diagnostics"][0]["line"].is_u64(), "{json}");
    // So does a test file it cannot use.
    std::fs::write(dir.path().join("flow.test.json"), "{").expect("write");
    std::fs::write(dir.path().join("flow.dip"), FLOW).expect("write");
    let (code, json, _) = results(dir.path(), &["flow.dip"]);
    assert_eq!(code, Some(2));
    assert!(
        json["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("flow.test.json:1:")),
        "{json}"
    );
}
