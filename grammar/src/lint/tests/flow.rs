//! The inline tests of the former `lint/flow.rs` themes.

use super::flow_lints as lint;
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::graph::Graph;
use crate::source::SourceFile;

/// Parses `src` (which must parse cleanly) and runs this module's lints.
fn run(src: &str) -> Vec<Diagnostic> {
    let (wf, diags) = crate::parse_dip(src);
    assert!(diags.is_empty(), "parse diagnostics: {diags:?}");
    let mut out = Vec::new();
    lint(&Graph::new(&wf), &mut out);
    out
}

/// The findings with code `n`.
fn with_code(diags: &[Diagnostic], n: u16) -> Vec<&Diagnostic> {
    diags.iter().filter(|d| d.code == Code(n)).collect()
}

/// The 1-based line a diagnostic points at.
fn line(src: &str, d: &Diagnostic) -> usize {
    let span = d.span.expect("diagnostic has a span");
    SourceFile::new("t.dip", src).position(span.start).line
}

/// The single finding with code `n`, failing the test otherwise.
fn only(diags: &[Diagnostic], n: u16) -> &Diagnostic {
    let found = with_code(diags, n);
    assert_eq!(found.len(), 1, "expected one DIP{n:03}, got {diags:#?}");
    found[0]
}

const CLEAN: &str = "\
workflow Clean
  goal: \"x\"
  start: A
  exit: Done
  agent A
    prompt: plan ${ctx.topic} for ${graph.goal}
    writes: plan
  tool T
    command: echo ok
    timeout: 30s
    reads: plan
  agent Done
    prompt: bye
  edges
    A -> T  when ctx.outcome = success
    A -> Done  when ctx.outcome = fail
    T -> Done
";

#[test]
fn clean_workflow_has_no_flow_findings() {
    let diags = run(CLEAN);
    assert!(diags.is_empty(), "unexpected findings: {diags:#?}");
}

/// A covers success and fail on the outcome (exhaustive), plus an extra guard.
const EXHAUSTIVE_ROUTER: &str = "\
workflow W
  goal: \"x\"
  start: A
  exit: Done
  agent A
    prompt: hi
  agent B
    prompt: b
  agent Done
    prompt: bye
  edges
    A -> B  when ctx.outcome = success
    A -> Done  when ctx.outcome = fail
    A -> Done  when ctx.score contains high
    B -> Done  when ctx.outcome = fail
    B -> Done
";

/// A routes to B on one guard and to Done on an unrelated one: not exhaustive.
const GUARDED: &str = "\
workflow W
  goal: \"x\"
  start: A
  exit: Done
  agent A
    prompt: hi
  agent B
    prompt: b
  agent Done
    prompt: bye
  edges
    A -> B  when ctx.outcome = success
    A -> Done  when ctx.score contains high
    B -> Done
";

#[test]
fn dip101_flags_node_reached_only_through_unsafe_guards() {
    let src = GUARDED;
    let diags = run(src);
    let d = only(&diags, 101);
    assert_eq!(
        d.message,
        "node \"B\" is only reachable through conditional edges and may be skipped at runtime"
    );
    assert_eq!(d.severity, Severity::Warning);
    assert_eq!(line(src, d), 7);
    assert!(d
        .help
        .as_deref()
        .is_some_and(|h| h.contains("source \"A\"")));
}

#[test]
fn dip101_is_silent_for_exhaustive_sources() {
    // success + fail on the outcome, a one-variable equality partition, and a
    // complementary pair all make the source safe.
    assert!(with_code(&run(EXHAUSTIVE_ROUTER), 101).is_empty());
    let partition = "\
workflow W
  goal: \"x\"
  start: A
  exit: Done
  tool A
    command: echo a
    timeout: 5s
  agent B
    prompt: b
  agent Done
    prompt: bye
  edges
    A -> B  when ctx.tool_stdout = one
    A -> Done  when ctx.tool_stdout = two
    B -> Done
";
    assert!(with_code(&run(partition), 101).is_empty());
    let complementary = partition
        .replace("ctx.tool_stdout = one", "ctx.tool_stdout contains x")
        .replace("ctx.tool_stdout = two", "ctx.tool_stdout not contains x");
    assert!(with_code(&run(&complementary), 101).is_empty());
}

#[test]
fn dip102_flags_guarded_node_without_default() {
    let diags = run(GUARDED);
    let d = only(&diags, 102);
    assert_eq!(
        d.message,
        "node \"A\" has conditional outgoing edges but no unconditional default edge"
    );
    assert_eq!(line(GUARDED, d), 5);
    assert!(d.fix.is_some());
}

#[test]
fn dip101_and_dip102_are_silenced_by_else() {
    let src = GUARDED;
    let before = run(src);
    assert_eq!(with_code(&before, 101).len(), 1);
    assert_eq!(with_code(&before, 102).len(), 1);
    let after = run(&format!("{src}    else -> Done\n"));
    assert!(with_code(&after, 101).is_empty(), "{after:#?}");
    assert!(with_code(&after, 102).is_empty(), "{after:#?}");
}

#[test]
fn dip102_is_silent_for_marker_tools() {
    let src = "\
workflow W
  goal: \"x\"
  start: T
  exit: Done
  tool T
    command: echo ok
    timeout: 5s
    marker_grep: \"^(ok|bad)$\"
  agent Done
    prompt: bye
  edges
    T -> Done  on ok
    T -> Done  on bad
";
    let diags = run(src);
    assert!(with_code(&diags, 102).is_empty(), "{diags:#?}");
    assert!(with_code(&diags, 152).is_empty(), "{diags:#?}");
}

#[test]
fn dip103_flags_shared_leaf_comparison() {
    let src = "\
workflow W
  goal: \"x\"
  start: A
  exit: Done
  agent A
    prompt: hi
  agent B
    prompt: b
  agent Done
    prompt: bye
  edges
    A -> B  when ctx.mode = fast
    A -> Done  when ctx.mode = fast and ctx.outcome = fail
    A -> Done
    B -> Done
";
    let diags = run(src);
    let d = only(&diags, 103);
    assert_eq!(
            d.message,
            "node \"A\" has overlapping conditions: edges to \"B\" and \"Done\" both check ctx.mode = fast"
        );
    assert_eq!(line(src, d), 13);
    // Distinct values do not overlap.
    let distinct = src.replace("ctx.mode = fast and", "ctx.mode = slow and");
    assert!(with_code(&run(&distinct), 103).is_empty());
}

#[test]
fn dip104_flags_unbounded_retry() {
    let src = "\
workflow W
  goal: \"x\"
  start: A
  exit: Done
  tool A
    command: echo a
    timeout: 5s
    retry_policy: standard
  agent Done
    prompt: bye
  edges
    A -> Done
";
    let diags = run(src);
    let d = only(&diags, 104);
    assert_eq!(
        d.message,
        "node \"A\" has retry configuration but no max_retries and no failure route"
    );
    assert_eq!(line(src, d), 5);
    let bounded = src.replace(
        "retry_policy: standard\n",
        "retry_policy: standard\n    max_retries: 2\n",
    );
    assert!(with_code(&run(&bounded), 104).is_empty());
    let no_retry = src.replace("retry_policy: standard", "retry_policy: none");
    assert!(with_code(&run(&no_retry), 104).is_empty());
    let fallback = src.replace(
        "retry_policy: standard\n",
        "retry_policy: standard\n    fallback_target: Done\n",
    );
    assert!(with_code(&run(&fallback), 104).is_empty());
}

#[test]
fn dip105_flags_exit_reachable_only_through_restart_edges() {
    let src = "\
workflow W
  goal: \"x\"
  start: A
  exit: Done
  agent A
    prompt: hi
  agent Done
    prompt: bye
  edges
    A -> Done  loop
";
    let diags = run(src);
    let d = only(&diags, 105);
    assert_eq!(
        d.message,
        "no forward path from start node \"A\" to exit node \"Done\" (excluding restart edges)"
    );
    assert_eq!(line(src, d), 3);
    assert!(with_code(&run(CLEAN), 105).is_empty());
}

#[test]
fn dip105_counts_else_and_fan_edges_as_forward() {
    let src = "\
workflow W
  goal: \"x\"
  start: Fan
  exit: Done
  parallel Fan -> A, B
  agent A
    prompt: a
  agent B
    prompt: b
  fan_in Join <- A, B
  tool Check
    command: echo ok
    timeout: 5s
  agent Done
    prompt: bye
  edges
    Join -> Check
    Check -> Check  when ctx.tool_stdout = again  loop
    Check -> Join  when ctx.tool_stdout = redo  loop
    else -> Done
";
    let diags = run(src);
    assert!(with_code(&diags, 105).is_empty(), "{diags:#?}");
}

#[test]
fn dip106_flags_unknown_namespaces_and_bad_node_refs() {
    let src = "\
workflow W
  goal: \"x\"
  start: A
  exit: Done
  agent A
    prompt: use ${foo} ${node.Ghost.out} ${node.Done.out} ${ctx.ok} ${params.p} ${inputs.i} ${node.Done}
  agent Done
    prompt: bye
  edges
    A -> Done
";
    let diags = run(src);
    let found = with_code(&diags, 106);
    let messages: Vec<&str> = found.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
            messages,
            [
                "agent node \"A\" has unrecognized variable reference ${foo}",
                "agent node \"A\" references ${node.Ghost.out} but node \"Ghost\" does not exist",
                "agent node \"A\" has malformed node reference ${node.Done}; expected ${node.<id>.<key>}",
            ]
        );
    assert!(found.iter().all(|d| line(src, d) == 5));
}

#[test]
fn dip107_flags_write_nobody_reads() {
    let src = CLEAN.replace("    reads: plan\n", "");
    let diags = run(&src);
    let d = only(&diags, 107);
    assert_eq!(
        d.message,
        "node \"A\" writes context key \"plan\" but no node declares it in reads"
    );
    assert_eq!(line(&src, d), 5);
}

#[test]
fn dip112_flags_read_without_upstream_write() {
    // Done writes "plan" but runs after T, so T's read is not provided.
    let src = CLEAN
        .replace("    writes: plan\n", "")
        .replace("    prompt: bye\n", "    prompt: bye\n    writes: plan\n");
    let diags = run(&src);
    let d = only(&diags, 112);
    assert_eq!(
        d.message,
        "node \"T\" reads context key \"plan\" but no upstream node declares it in writes"
    );
    assert_eq!(line(&src, d), 7);
}

#[test]
fn dip112_checks_node_scoped_reads() {
    let src = "\
workflow W
  goal: \"x\"
  start: A
  exit: Done
  agent A
    prompt: hi
    reads: node.Done.out, node.Ghost.out
  agent B
    prompt: b
    reads: ctx.node.A.out
  agent Done
    prompt: bye
  edges
    A -> B
    A -> Done  when ctx.outcome = fail
    B -> Done
";
    let diags = run(src);
    let messages: Vec<&str> = with_code(&diags, 112)
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(
        messages,
        [
            "node \"A\" reads \"node.Done.out\" but node \"Done\" is not upstream",
            "node \"A\" reads \"node.Ghost.out\" but node \"Ghost\" does not exist in the workflow",
        ]
    );
}

#[test]
fn dip115_flags_goal_gate_without_failure_route() {
    let src = "\
workflow W
  goal: \"x\"
  start: A
  exit: Done
  agent A
    prompt: hi
    goal_gate: true
  agent Done
    prompt: bye
  edges
    A -> Done
";
    let diags = run(src);
    let d = only(&diags, 115);
    assert_eq!(
        d.message,
        "agent node \"A\" has goal_gate: true but no failure route"
    );
    assert_eq!(line(src, d), 5);
    let routed = format!("{src}    A -> Done  when ctx.outcome = fail\n");
    assert!(with_code(&run(&routed), 115).is_empty());
}

#[test]
fn dip120_flags_bare_condition_variable() {
    let src = CLEAN.replace(
        "A -> Done  when ctx.outcome = fail",
        "A -> Done  when outcome = fail",
    );
    let diags = run(&src);
    let d = only(&diags, 120);
    assert_eq!(
        d.message,
        "edge \"A\" -> \"Done\": condition variable \"outcome\" has no namespace prefix"
    );
    assert_eq!(d.fix.as_deref(), Some("write ctx.outcome"));
    assert_eq!(line(&src, d), 16);
}

#[test]
fn dip121_flags_condition_key_missing_from_writes() {
    let src = "\
workflow W
  goal: \"x\"
  start: A
  exit: Done
  agent A
    prompt: hi
    writes: verdict
  agent Done
    prompt: bye
    reads: verdict
  edges
    A -> Done  when ctx.verdict = ok
    A -> Done  when ctx.other = x
    A -> Done  when ctx.outcome = fail
    A -> Done
";
    let diags = run(src);
    let d = only(&diags, 121);
    assert_eq!(
            d.message,
            "edge \"A\" -> \"Done\": condition references \"ctx.other\" but node \"A\" does not declare it in writes"
        );
    assert_eq!(line(src, d), 13);
    // A source that declares no writes is not checked.
    let undeclared = src.replace("    writes: verdict\n", "");
    assert!(with_code(&run(&undeclared), 121).is_empty());
}

#[test]
fn dip122_flags_value_missing_from_tool_outputs() {
    let src = "\
workflow W
  goal: \"x\"
  start: T
  exit: Done
  tool T
    command: echo pass
    timeout: 5s
    outputs: pass, fail
  agent Done
    prompt: bye
  edges
    T -> Done  when ctx.tool_stdout = pass
    T -> Done  when ctx.tool_stdout = maybe
    T -> Done  when ctx.outcome = success
    T -> Done
";
    let diags = run(src);
    let d = only(&diags, 122);
    assert_eq!(
            d.message,
            "edge \"T\" -> \"Done\": condition tests value \"maybe\" but tool \"T\" does not declare it in outputs"
        );
    assert_eq!(line(src, d), 13);
}

#[test]
fn dip124_flags_ctx_reference_in_tool_command() {
    let src = CLEAN.replace("command: echo ok", "command: echo ${ctx.plan} ${params.x}");
    let diags = run(&src);
    let d = only(&diags, 124);
    assert_eq!(
        d.message,
        "tool node \"T\" command references runtime context ${ctx.plan}"
    );
    assert_eq!(line(&src, d), 8);
    assert!(with_code(&run(CLEAN), 124).is_empty());
}

#[test]
fn dip134_flags_max_retries_with_loop_edges_and_no_max_restarts() {
    let src = "\
workflow W
  goal: \"x\"
  start: A
  exit: Done
  defaults
    max_retries: 3
  tool A
    command: echo a
    timeout: 5s
  agent Done
    prompt: bye
  edges
    A -> A  when ctx.tool_stdout = again  loop
    A -> Done
";
    let diags = run(src);
    let d = only(&diags, 134);
    assert_eq!(
        d.message,
        "defaults set max_retries: 3 but no max_restarts, and the workflow has restart edges"
    );
    assert_eq!(line(src, d), 5);
    let budgeted = src.replace("max_retries: 3\n", "max_retries: 3\n    max_restarts: 5\n");
    assert!(with_code(&run(&budgeted), 134).is_empty());
}

#[test]
fn dip144_flags_agent_without_failure_route() {
    let src = "\
workflow W
  goal: \"x\"
  start: A
  exit: Done
  agent A
    prompt: hi
  agent Done
    prompt: bye
  edges
    A -> Done
";
    let diags = run(src);
    let d = only(&diags, 144);
    assert!(
        d.message
            .starts_with("agent node \"A\" has no failure route"),
        "{}",
        d.message
    );
    assert_eq!(line(src, d), 5);
    // A graph-level on_failure is a failure route for every node.
    let on_failure = src.replace(
        "  agent A\n",
        "  defaults\n    on_failure: Done\n  agent A\n",
    );
    assert!(with_code(&run(&on_failure), 144).is_empty());
}

#[test]
fn dip149_flags_two_unconditional_edges() {
    let src = "\
workflow W
  goal: \"x\"
  start: T
  exit: Done
  tool T
    command: echo ok
    timeout: 5s
  agent B
    prompt: b
  agent Done
    prompt: bye
  edges
    T -> B
    T -> Done
    B -> Done
    B -> Done  when ctx.outcome = fail
";
    let diags = run(src);
    let d = only(&diags, 149);
    assert!(
        d.message
            .starts_with("node \"T\" has 2 unconditional outgoing edges (to \"B\" and \"Done\")"),
        "{}",
        d.message
    );
    assert_eq!(line(src, d), 5);
    assert!(with_code(&run(CLEAN), 149).is_empty());
}

#[test]
fn dip150_hints_label_without_choice_on_human_gates() {
    let src = "\
workflow W
  goal: \"x\"
  start: G
  exit: Done
  human G
    label: \"Ship it?\"
  human F
    label: \"Anything else?\"
    mode: freeform
  agent Done
    prompt: bye
  edges
    G -> F  label: Approve
    G -> Done  label: Reject  choice: reject
    F -> Done  label: Note
";
    let diags = run(src);
    let d = only(&diags, 150);
    assert_eq!(d.severity, Severity::Hint);
    assert_eq!(
        d.message,
        "human gate \"G\" routes by label \"Approve\" without a choice: key"
    );
    assert_eq!(
        d.fix.as_deref(),
        Some("add choice: \"Approve\" to the edge")
    );
    assert_eq!(line(src, d), 13);
}

#[test]
fn dip151_flags_weight() {
    let src = CLEAN.replace("    T -> Done\n", "    T -> Done  weight: 5\n");
    let diags = run(&src);
    let d = only(&diags, 151);
    assert_eq!(
        d.message,
        "edge \"T\" -> \"Done\" sets weight: 5, which routing does not use"
    );
    assert_eq!(line(&src, d), 17);
}

#[test]
fn dip152_is_not_silenced_by_an_unrelated_guard() {
    let src = "\
workflow W
  goal: \"x\"
  start: Test
  exit: Done
  tool Test
    command: make ci-test
    timeout: 10m
    marker_grep: \"^(PASS|FAIL|SKIP)$\"
  tool Done
    command: echo done
    timeout: 1m
  edges
    Test -> Done  on PASS
    Test -> Done  when ctx.tool_stderr contains timeout
";
    let diags = run(src);
    let d = only(&diags, 152);
    assert!(d.message.contains("\"FAIL\", \"SKIP\""), "{}", d.message);
}

#[test]
fn dip149_applies_to_fan_in_nodes() {
    let src = "\
workflow W
  goal: \"x\"
  start: Fan
  exit: Done
  parallel Fan -> A, B
  tool A
    command: echo a
    timeout: 1m
  tool B
    command: echo b
    timeout: 1m
  fan_in Join <- A, B
  tool Report
    command: echo r
    timeout: 1m
  tool Done
    command: echo done
    timeout: 1m
  edges
    Join -> Report
    Join -> Done
    Report -> Done
";
    let diags = run(src);
    let d = only(&diags, 149);
    assert!(d.message.starts_with("node \"Join\""), "{}", d.message);
}

#[test]
fn dip152_flags_uncovered_marker() {
    let src = "\
workflow W
  goal: \"x\"
  start: T
  exit: Done
  tool T
    command: echo ok
    timeout: 5s
    marker_grep: \"^(ok|bad|worse)$\"
  agent Done
    prompt: bye
  edges
    T -> Done  on ok
";
    let diags = run(src);
    let d = only(&diags, 152);
    assert_eq!(
            d.message,
            "tool node \"T\" emits markers that no edge routes and no else default covers: \"bad\", \"worse\""
        );
    assert_eq!(line(src, d), 5);
    let fallback = format!("{src}    T -> Done\n");
    assert!(with_code(&run(&fallback), 152).is_empty());
    // A non-literal regex cannot be enumerated.
    let regex = src.replace("^(ok|bad|worse)$", "^(ok|ba.)$");
    assert!(with_code(&run(&regex), 152).is_empty());
}

#[test]
fn dip153_flags_edge_repeating_inline_fork() {
    let src = "\
workflow W
  goal: \"x\"
  start: Fan
  exit: Done
  parallel Fan -> A, B
  agent A
    prompt: a
  agent B
    prompt: b
  fan_in Join <- A, B
  agent Done
    prompt: bye
  edges
    Fan -> A
    B -> Join  label: joined
    Join -> Done
";
    let diags = run(src);
    let d = only(&diags, 153);
    assert_eq!(
        d.message,
        "edge \"Fan\" -> \"A\" repeats the inline parallel list; the inline list is authoritative"
    );
    assert_eq!(line(src, d), 14);
    // Fan-out and fan-in nodes never count as ambiguous routers.
    assert!(with_code(&diags, 149).is_empty(), "{diags:#?}");
}

#[test]
fn long_chain_reports_only_the_unread_last_write() {
    // Speed is measured by `cargo bench -p dippin`; this checks the result on a
    // large input.
    use std::fmt::Write as _;
    let n: usize = 20_000;
    let mut src = String::from("workflow Big\n  goal: \"x\"\n  start: N0\n");
    let _ = writeln!(src, "  exit: N{}", n - 1);
    for i in 0..n {
        let _ = writeln!(src, "  tool N{i}\n    command: echo {i}\n    timeout: 5s");
        let _ = writeln!(src, "    writes: k{i}\n    reads: k{}", i.saturating_sub(1));
    }
    src.push_str("  edges\n");
    for i in 1..n {
        let _ = writeln!(src, "    N{} -> N{i}", i - 1);
    }
    let (wf, diags) = crate::parse_dip(&src);
    assert!(diags.is_empty());
    let mut out = Vec::new();
    lint(&Graph::new(&wf), &mut out);
    // N0 reads its own write (fine); the last write is never read.
    assert_eq!(
        with_code(&out, 112).len(),
        0,
        "{:?}",
        &out[..out.len().min(3)]
    );
    assert_eq!(with_code(&out, 107).len(), 1);
}
