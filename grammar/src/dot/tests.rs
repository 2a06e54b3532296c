//! Tests of the DOT reader, end to end through [`parse_dot`] and on the corpus.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use super::{migrate_condition, parse_dot, DEPRECATION_MESSAGE, MAX_ERRORS};
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::duration::GoDuration;
use crate::ir::{NodeConfig, NodeKind, Selector, Workflow};
use crate::source::Span;

fn errors(diags: &[Diagnostic]) -> Vec<&Diagnostic> {
    diags.iter().filter(|d| d.is_error()).collect()
}

fn parse_ok(text: &str) -> Workflow {
    let (wf, diags) = parse_dot(text);
    assert!(errors(&diags).is_empty(), "unexpected errors: {diags:#?}");
    wf
}

fn first_error(text: &str) -> Diagnostic {
    let (_, diags) = parse_dot(text);
    diags
        .into_iter()
        .find(Diagnostic::is_error)
        .unwrap_or_else(|| panic!("expected an error for {text:?}"))
}

fn dot_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            dot_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "dot") {
            out.push(path);
        }
    }
}

fn corpus() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus"))
}

/// Corpus files the reference itself rejects, with the reason.
const KNOWN_INVALID: &[(&str, &str)] = &[(
    "tracker/pipeline/testdata/cycle.dot",
    "fixture for cycle detection: a -> b -> a has no loop_restart edge (DIP005)",
)];

#[test]
fn corpus_dot_files_parse_and_validate() {
    let root = corpus();
    let mut files = Vec::new();
    dot_files(&root, &mut files);
    files.sort();
    assert!(
        files.len() >= 21,
        "expected the .dot corpus, found {files:?}"
    );
    let mut failures = Vec::new();
    for path in &files {
        let rel = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(path).unwrap();
        let (wf, diags) = parse_dot(&text);
        assert_eq!(diags[0].message, DEPRECATION_MESSAGE, "{rel}");
        assert_eq!(diags[0].severity, Severity::Warning);
        let parse_errors: Vec<_> = errors(&diags);
        assert!(parse_errors.is_empty(), "{rel}: {parse_errors:#?}");
        assert!(!wf.nodes.is_empty(), "{rel}: no nodes");
        let problems = crate::validate::validate(&wf);
        let expected_invalid = KNOWN_INVALID.iter().any(|(f, _)| *f == rel);
        if expected_invalid {
            assert!(
                !problems.is_empty(),
                "{rel} is listed invalid but validates"
            );
        } else if !problems.is_empty() {
            failures.push(format!(
                "{rel}: {:?}",
                problems.iter().map(|d| &d.message).collect::<Vec<_>>()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn cycle_fixture_is_rejected_for_its_cycle() {
    let text =
        std::fs::read_to_string(corpus().join("tracker/pipeline/testdata/cycle.dot")).unwrap();
    let wf = parse_ok(&text);
    let problems = crate::validate::validate(&wf);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].code, crate::validate::CYCLE);
}

/// `.dot` files whose `.dip` sibling describes a different (newer) workflow.
const DIVERGENT_SIBLINGS: &[(&str, &str)] = &[
    (
        "ask_and_execute",
        "the .dip is a worktree/cook-off redesign with other nodes and exit `Done`",
    ),
    (
        "consensus_task",
        "the .dip adds parallel/fan_in nodes the .dot does not have",
    ),
];

type EdgeKey = (String, String, Option<String>, String);

fn edge_keys(wf: &Workflow) -> HashSet<EdgeKey> {
    wf.edges
        .iter()
        .map(|e| {
            (
                e.from.clone(),
                e.to.clone(),
                e.condition.as_ref().map(|c| c.raw.clone()),
                e.label.clone(),
            )
        })
        .collect()
}

/// Compares a `.dot` with its hand-converted `.dip` twin: same name, goal,
/// start, exit, node ids and kinds, labels, fan lists; every DOT edge (with its
/// migrated condition) exists in the `.dip`, and every edge the migration marks as
/// a loop is a loop there too. (The `.dip` twins add fallback edges, timeouts,
/// models and retry counts, so those are not compared.)
fn compare_with_dip(stem: &str) {
    let base = corpus().join("tracker/examples");
    let dot = std::fs::read_to_string(base.join(format!("{stem}.dot"))).unwrap();
    let dip = std::fs::read_to_string(base.join(format!("{stem}.dip"))).unwrap();
    let from_dot = parse_ok(&dot);
    let (from_dip, dip_diags) = crate::parse_dip(&dip);
    assert!(errors(&dip_diags).is_empty(), "{stem}.dip: {dip_diags:#?}");
    let kinds = |wf: &Workflow| -> BTreeMap<String, NodeKind> {
        wf.nodes.iter().map(|n| (n.id.clone(), n.kind())).collect()
    };
    assert_eq!(
        kinds(&from_dot),
        kinds(&from_dip),
        "{stem}: node ids and kinds"
    );
    assert_eq!(from_dot.name, from_dip.name, "{stem}: name");
    assert_eq!(from_dot.goal, from_dip.goal, "{stem}: goal");
    assert_eq!(from_dot.start, from_dip.start, "{stem}: start");
    assert_eq!(from_dot.exit, from_dip.exit, "{stem}: exit");
    for node in &from_dot.nodes {
        let twin = from_dip.node(&node.id).unwrap();
        match (&node.config, &twin.config) {
            (NodeConfig::Parallel(a), NodeConfig::Parallel(b)) => {
                assert_eq!(a.targets, b.targets, "{stem}: targets of {}", node.id);
            }
            (NodeConfig::FanIn(a), NodeConfig::FanIn(b)) => {
                assert_eq!(a.sources, b.sources, "{stem}: sources of {}", node.id);
            }
            _ => assert_eq!(node.label, twin.label, "{stem}: label of {}", node.id),
        }
    }
    let dip_edges = edge_keys(&from_dip);
    for key in edge_keys(&from_dot) {
        assert!(
            dip_edges.contains(&key),
            "{stem}: edge {key:?} missing from the .dip"
        );
    }
    let dip_loops: HashSet<(&str, &str)> = from_dip
        .edges
        .iter()
        .filter(|e| e.restart)
        .map(|e| (e.from.as_str(), e.to.as_str()))
        .collect();
    for e in from_dot.edges.iter().filter(|e| e.restart) {
        assert!(
            dip_loops.contains(&(e.from.as_str(), e.to.as_str())),
            "{stem}: {} -> {} is a loop edge only in the .dot",
            e.from,
            e.to
        );
    }
}

#[test]
fn dot_files_match_their_dip_siblings() {
    let mut files = Vec::new();
    dot_files(&corpus().join("tracker"), &mut files);
    files.sort();
    let mut compared = Vec::new();
    for path in files {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        if !path.with_extension("dip").exists()
            || DIVERGENT_SIBLINGS.iter().any(|(s, _)| *s == stem)
            || !path.parent().unwrap().ends_with("examples")
        {
            continue;
        }
        compare_with_dip(&stem);
        compared.push(stem);
    }
    assert!(compared.len() >= 15, "compared only {compared:?}");
}

#[test]
fn human_gate_showcase_matches_its_dip() {
    compare_with_dip("human_gate_showcase");
    let text =
        std::fs::read_to_string(corpus().join("tracker/examples/human_gate_showcase.dot")).unwrap();
    let wf = parse_ok(&text);
    let gate = wf.node("DefaultGate").unwrap().human().unwrap();
    assert_eq!(gate.default, "[M] Medium");
    assert_eq!(
        wf.node("FreeformGate").unwrap().human().unwrap().mode,
        "freeform"
    );
    assert_eq!(wf.defaults.fidelity, "summary:medium");
    assert!(wf.vars.is_empty(), "{:?}", wf.vars);
}

#[test]
fn sprint_exec_matches_its_dip() {
    compare_with_dip("sprint_exec");
    let text = std::fs::read_to_string(corpus().join("tracker/examples/sprint_exec.dot")).unwrap();
    let wf = parse_ok(&text);
    let back = wf
        .edges
        .iter()
        .find(|e| e.from == "ValidateBuild" && e.to == "ImplementSprint")
        .unwrap();
    assert!(back.restart, "guarded back edge becomes a loop edge");
    assert_eq!(back.condition.as_ref().unwrap().raw, "ctx.outcome = fail");
}

#[test]
fn semport_matches_its_dip() {
    compare_with_dip("semport");
    let text = std::fs::read_to_string(corpus().join("tracker/examples/semport.dot")).unwrap();
    let wf = parse_ok(&text);
    let restart: Vec<_> = wf
        .edges
        .iter()
        .filter(|e| e.restart)
        .map(|e| (e.from.as_str(), e.to.as_str()))
        .collect();
    assert_eq!(
        restart,
        [("MarkPorted", "PickFile"), ("VerifyBuild", "LoadErrors")]
    );
    let cmd = &wf.node("InitLedger").unwrap().tool().unwrap().command;
    assert!(
        cmd.contains("printf 'filepath\\tiso8601\\tdisposition\\n'"),
        "{cmd}"
    );
    assert!(cmd.contains("\"references/openai-agents-python/src/agents/$f\""));
    // `timeout=600` on an agent has no IR field; it is passed through as a param.
    let port = wf.node("PortFile").unwrap().agent().unwrap();
    assert_eq!(port.params.get("timeout").map(String::as_str), Some("600"));
    assert!(port.auto_status);
}

#[test]
fn consensus_task_parity_matches_its_dip() {
    compare_with_dip("consensus_task_parity");
}

#[test]
fn migrates_conditions() {
    let cases = [
        ("outcome=success", "ctx.outcome = success"),
        ("outcome!=fail", "ctx.outcome != fail"),
        ("outcome == success", "ctx.outcome == success"),
        ("tool_stdout contains done", "ctx.tool_stdout contains done"),
        (
            "context.tool_stdout!=a && context.tool_stdout!=b",
            "ctx.tool_stdout != a and ctx.tool_stdout != b",
        ),
        ("outcome=a||outcome=b", "ctx.outcome = a or ctx.outcome = b"),
        ("!outcome=fail", "not ctx.outcome = fail"),
        ("not outcome=fail", "not ctx.outcome = fail"),
        ("ctx.x=1 and graph.goal=g", "ctx.x = 1 and graph.goal = g"),
        ("stack.child.status=done", "stack.child.status = done"),
        ("params.p=1 or inputs.i=2", "params.p = 1 or inputs.i = 2"),
        ("x = \"a b\"", "ctx.x = \"a b\""),
        ("x not in a,b", "ctx.x not in a,b"),
        (
            "(a=1 || b=2) && c=3",
            "( ctx.a = 1 or ctx.b = 2 ) and ctx.c = 3",
        ),
        (
            "context.internal.loop_restart_count=0",
            "ctx.internal.loop_restart_count = 0",
        ),
        ("x=not", "ctx.x = not"),
    ];
    for (dot, dip) in cases {
        assert_eq!(migrate_condition(dot), dip, "migrating {dot:?}");
        assert!(
            crate::condition::parse(dip).is_ok(),
            "{dip:?} should parse as a dippin condition"
        );
    }
}

#[test]
fn edge_conditions_are_migrated_and_parsed() {
    let wf = parse_ok(
        "digraph G { s [shape=Mdiamond]; e [shape=Msquare]; s -> e [condition=\"outcome=success && context.k!=v\", weight=3, loop_restart=true, label=go] }",
    );
    let edge = &wf.edges[0];
    let cond = edge.condition.as_ref().unwrap();
    assert_eq!(cond.raw, "ctx.outcome = success and ctx.k != v");
    assert!(cond.parsed.is_ok());
    assert_eq!(edge.weight, 3);
    assert!(edge.restart);
    assert_eq!(edge.label, "go");
}

#[test]
fn repeated_node_statements_merge_attributes() {
    let wf = parse_ok(
        "digraph G {\n  A [shape=box, label=\"One\"]\n  A [prompt=\"hi\"]\n  A [label=Two]\n}",
    );
    assert_eq!(wf.nodes.len(), 1);
    let node = &wf.nodes[0];
    assert_eq!(node.label, "Two");
    assert_eq!(node.agent().unwrap().prompt, "hi");
    assert_eq!(node.span, Span::new(14, 15));
}

#[test]
fn node_and_edge_defaults_apply_to_later_statements_in_scope() {
    let wf = parse_ok(
        "digraph G {\n  A\n  node [shape=parallelogram, timeout=\"30s\"]\n  edge [weight=2]\n  B [tool_command=\"ls\"]\n  subgraph cluster_x { node [shape=hexagon]; label=\"Loop A\"; C; C -> D }\n  E\n  A -> B\n}",
    );
    let kind = |id: &str| wf.node(id).unwrap().kind();
    assert_eq!(kind("A"), NodeKind::Agent);
    assert_eq!(kind("B"), NodeKind::Tool);
    assert_eq!(
        wf.node("B").unwrap().tool().unwrap().timeout,
        GoDuration::parse("30s").unwrap()
    );
    assert_eq!(kind("C"), NodeKind::Human);
    assert_eq!(kind("D"), NodeKind::Human);
    assert_eq!(kind("E"), NodeKind::Tool, "subgraph defaults do not leak");
    assert_eq!(wf.node("C").unwrap().classes, ["loop-a"]);
    assert!(wf.node("E").unwrap().classes.is_empty());
    assert!(wf.edges.iter().all(|e| e.weight == 2));
}

#[test]
fn unescapes_quoted_strings() {
    let wf = parse_ok(
        "digraph G { A [prompt=\"a\\nb\\tc\\\\d\\\"e\\lf\\rg\\Nh\", label=\"x\" + \"y\"] }",
    );
    let node = &wf.nodes[0];
    assert_eq!(node.agent().unwrap().prompt, "a\nb\tc\\d\"e\nf\ng\\Nh");
    assert_eq!(node.label, "xy");
    let wf = parse_ok("digraph G { A [prompt=\"one \\\ntwo\"] }");
    assert_eq!(wf.nodes[0].agent().unwrap().prompt, "one two");
}

#[test]
fn edge_chains_expand_pairwise_with_shared_attributes() {
    let text = "digraph G { s [shape=Mdiamond]; e [shape=Msquare]; s -> a -> b -> e [label=next]; {x y} -> z }";
    let wf = parse_ok(text);
    let pairs: Vec<_> = wf
        .edges
        .iter()
        .map(|e| (e.from.as_str(), e.to.as_str(), e.label.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("s", "a", "next"),
            ("a", "b", "next"),
            ("b", "e", "next"),
            ("x", "z", ""),
            ("y", "z", ""),
        ]
    );
    let ids: Vec<_> = wf.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["s", "e", "a", "b", "x", "y", "z"]);
    let a_at = text.find("a -> b").unwrap();
    assert_eq!(wf.edges[1].from_span, Span::new(a_at, a_at + 1));
}

#[test]
fn shapes_map_to_kinds_with_migrations() {
    let wf = parse_ok(concat!(
        "strict digraph \"My Flow\" {\n",
        "  s [shape=Mdiamond]; x [shape=Msquare, prompt=\"bye\"]\n",
        "  h [shape=hexagon, default_choice=\"[Y] Yes\", timeout=60]\n",
        "  t [shape=parallelogram, tool_command=\"make\", outputs=\"a, b\"]\n",
        "  c [shape=diamond]; dt [shape=diamond, tool_command=ls]; da [shape=diamond, prompt=p]\n",
        "  sg [shape=tab, subgraph_ref=\"child.dip\", subgraph_params=\"a=1,b=2\"]\n",
        "  m [shape=house, subgraph_ref=kid, poll_interval=\"5s\", max_cycles=3, stop_condition=\"stack.child.status=done\", steer_context=\"k=a%2Cb,z=1%3D2\"]\n",
        "  u [shape=ellipse, llm_model=m1, llm_provider=p1, goal_gate=true, max_retries=2, fallback_retry_target=s, thread_id=t1, color=red]\n",
        "  typed [shape=box, type=\"wait.human\"]\n",
        "}",
    ));
    assert_eq!(wf.name, "My Flow");
    assert_eq!((wf.start.as_str(), wf.exit.as_str()), ("s", "x"));
    let kind = |id: &str| wf.node(id).unwrap().kind();
    assert_eq!(kind("s"), NodeKind::Agent);
    assert_eq!(wf.node("x").unwrap().agent().unwrap().prompt, "bye");
    assert_eq!(kind("h"), NodeKind::Human);
    let h = wf.node("h").unwrap().human().unwrap();
    assert_eq!(h.default, "[Y] Yes");
    assert_eq!(h.timeout, GoDuration::parse("1m").unwrap());
    assert_eq!(wf.node("t").unwrap().tool().unwrap().outputs, ["a", "b"]);
    assert_eq!(kind("c"), NodeKind::Conditional);
    assert_eq!(kind("dt"), NodeKind::Tool);
    assert_eq!(kind("da"), NodeKind::Agent);
    assert!(wf.node("da").unwrap().agent().unwrap().auto_status);
    match &wf.node("sg").unwrap().config {
        NodeConfig::Subgraph(s) => {
            assert_eq!(s.reference, "child.dip");
            assert_eq!(s.params.get("b").map(String::as_str), Some("2"));
        }
        other => panic!("{other:?}"),
    }
    match &wf.node("m").unwrap().config {
        NodeConfig::ManagerLoop(m) => {
            assert_eq!(m.subgraph_ref, "kid");
            assert_eq!(m.max_cycles, 3);
            assert_eq!(m.poll_interval, GoDuration::parse("5s").unwrap());
            let stop = m.stop_condition.as_ref().unwrap();
            assert_eq!(stop.raw, "stack.child.status = done");
            assert_eq!(m.steer_context.get("k").map(String::as_str), Some("a,b"));
            assert_eq!(m.steer_context.get("z").map(String::as_str), Some("1=2"));
        }
        other => panic!("{other:?}"),
    }
    let u = wf.node("u").unwrap();
    let a = u.agent().unwrap();
    assert_eq!((a.model.as_str(), a.provider.as_str()), ("m1", "p1"));
    assert!(a.goal_gate);
    assert_eq!(u.retry.max_retries, 2);
    assert_eq!(u.retry.fallback_target, "s");
    assert_eq!(a.params.get("thread_id").map(String::as_str), Some("t1"));
    assert!(!a.params.contains_key("color"));
    assert_eq!(kind("typed"), NodeKind::Human);
}

#[test]
fn fan_edges_move_into_the_fan_configuration() {
    let wf = parse_ok(concat!(
        "digraph G {\n",
        "  s [shape=Mdiamond]; e [shape=Msquare]\n",
        "  P [shape=component]; J [shape=tripleoctagon]\n",
        "  s -> P; P -> a; P -> b; a -> J; b -> J; J -> e\n",
        "}",
    ));
    match (&wf.node("P").unwrap().config, &wf.node("J").unwrap().config) {
        (NodeConfig::Parallel(p), NodeConfig::FanIn(f)) => {
            assert_eq!(p.targets, ["a", "b"]);
            assert_eq!(f.sources, ["a", "b"]);
        }
        other => panic!("{other:?}"),
    }
    let pairs: Vec<_> = wf
        .edges
        .iter()
        .map(|e| (e.from.as_str(), e.to.as_str()))
        .collect();
    assert_eq!(pairs, [("s", "P"), ("J", "e")]);
    assert!(crate::validate::validate(&wf).is_empty());

    let wf = parse_ok(
        "digraph G { P [shape=component, targets=\"a,b\"]; J [shape=tripleoctagon, sources=\"a,b\"]; P -> a; P -> c; a -> J }",
    );
    let pairs: Vec<_> = wf
        .edges
        .iter()
        .map(|e| (e.from.as_str(), e.to.as_str()))
        .collect();
    assert_eq!(pairs, [("P", "c")]);
}

#[test]
fn graph_attributes_map_to_defaults_and_vars() {
    let wf = parse_ok(concat!(
        "digraph G {\n",
        "  graph [goal=\"Ship\", rankdir=LR, default_max_retry=3, default_fidelity=full, max_restarts=7]\n",
        "  max_total_tokens=1000; max_cost_cents=250; max_wall_time=\"1h\"\n",
        "  target_name=\"glimpser\"; \"params.p\"=1; fallback_target=s\n",
        "  model_stylesheet=\"* { llm_model: m; } .fast { reasoning_effort: low; }\"\n",
        "  s [shape=Mdiamond]\n",
        "}",
    ));
    assert_eq!(wf.goal, "Ship");
    assert_eq!(wf.defaults.max_retries, 3);
    assert_eq!(wf.defaults.fidelity, "full");
    assert_eq!(wf.defaults.max_restarts, 7);
    assert_eq!(wf.defaults.max_total_tokens, 1000);
    assert_eq!(wf.defaults.max_cost_cents, 250);
    assert_eq!(wf.defaults.max_wall_time, GoDuration::parse("1h").unwrap());
    assert_eq!(wf.defaults.on_failure, "s");
    assert_eq!(
        wf.vars.get("target_name").map(String::as_str),
        Some("glimpser")
    );
    assert_eq!(wf.vars.get("p").map(String::as_str), Some("1"));
    assert!(!wf.vars.contains_key("rankdir"));
    assert_eq!(wf.stylesheet.len(), 2);
    assert_eq!(wf.stylesheet[1].selector, Selector::Class("fast".into()));
    assert_eq!(
        wf.stylesheet[0].properties,
        [("llm_model".to_string(), "m".to_string())]
    );
}

#[test]
fn comments_are_skipped() {
    let wf = parse_ok(
        "# preprocessor line\n// line comment\ndigraph G { /* block\n comment */ A [label=\"// not /* a comment\"]\n  # hash line\n}",
    );
    assert_eq!(wf.nodes.len(), 1);
    let wf = parse_ok("\u{feff}digraph G { A }");
    assert_eq!(wf.name, "G");
}

#[test]
fn always_warns_that_dot_is_deprecated() {
    let (_, diags) = parse_dot("digraph G { A }");
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code, Code(0));
    assert_eq!(diags[0].severity, Severity::Warning);
    assert_eq!(diags[0].message, DEPRECATION_MESSAGE);
    assert_eq!(diags[0].span, Some(Span::new(0, 9)));
    let (_, diags) = parse_dot("");
    assert_eq!(diags[0].message, DEPRECATION_MESSAGE);
}

#[test]
fn syntax_errors_have_precise_spans() {
    let text = "digraph G {\n  A [label=\"open\n}";
    let err = first_error(text);
    assert_eq!(err.code, Code::PARSE);
    assert_eq!(err.span, Some(Span::new(23, 24)));
    assert!(
        err.message.contains("unterminated string"),
        "{}",
        err.message
    );

    let err = first_error("digraph G { A /* never closed");
    assert_eq!(err.span, Some(Span::new(14, 16)));
    assert!(err.message.contains("block comment"));

    let text = "digraph G {\n  A -> B\n";
    let err = first_error(text);
    assert_eq!(err.span, Some(Span::at(text.len())));
    assert!(err.message.contains("expected `}`"), "{}", err.message);
    assert_eq!(err.help.as_deref(), Some("the `{` at 1:11 is never closed"));

    let err = first_error("digraph G { A -> ; }");
    assert_eq!(err.span, Some(Span::new(17, 18)));
    assert!(err.message.contains("found `;`"), "{}", err.message);

    let err = first_error("digraph G { A [label=] }");
    assert_eq!(err.span, Some(Span::new(21, 22)));

    let err = first_error("digraph G { A [label=x }");
    assert!(err.message.contains("found `}`"), "{}", err.message);

    let err = first_error("graph { } digraph H { }");
    assert_eq!(err.span, Some(Span::new(10, 17)));

    let err = first_error("workflow X\n  start: A\n");
    assert_eq!(err.span, Some(Span::new(0, 8)));
    assert!(err.message.contains("expected `digraph`"));

    let err = first_error("digraph G { A @ B }");
    assert_eq!(err.span, Some(Span::new(14, 15)));

    let err = first_error("");
    assert_eq!(err.span, Some(Span::at(0)));
}

#[test]
fn recovers_after_a_bad_statement() {
    let (wf, diags) = parse_dot("digraph G { A -> ; B [label=ok]; }");
    assert_eq!(errors(&diags).len(), 1);
    assert_eq!(wf.node("B").unwrap().label, "ok");
}

#[test]
fn garbage_input_never_panics() {
    let mut inputs: Vec<String> = vec![
        String::new(),
        "\0\u{1}\u{7f}ÿ\u{fffd}".into(),
        "digraph".into(),
        "digraph {".into(),
        "digraph G { A [".into(),
        "digraph G { A [x=".into(),
        "digraph G { A -> }".into(),
        "digraph G { \"a\" + }".into(),
        "digraph G { <a<b> }".into(),
        "digraph G { A:p:q:r -> B }".into(),
        "digraph G { -> -> }".into(),
        "digraph G { subgraph }".into(),
        "}}}}]]]]".into(),
        "digraph G { A [label=\"\\".into(),
        "digraph G { -.5 -> .5 -> - }".into(),
    ];
    inputs.push(format!("digraph G {{ {} }}", "{".repeat(10_000)));
    inputs.push(format!("digraph G {{ {} }}", "@".repeat(10_000)));
    let bytes: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 256) as u8).collect();
    inputs.push(String::from_utf8_lossy(&bytes).into_owned());
    for input in &inputs {
        let (_, diags) = parse_dot(input);
        assert_eq!(diags[0].message, DEPRECATION_MESSAGE);
        assert!(diags.len() <= MAX_ERRORS + 2, "{} diagnostics", diags.len());
        for d in &diags {
            if let Some(span) = d.span {
                assert!(span.start <= span.end && span.end <= input.len(), "{d:?}");
                assert!(input.is_char_boundary(span.start) && input.is_char_boundary(span.end));
            }
        }
    }
    let err = first_error(&format!("digraph G {{ {} }}", "{".repeat(100)));
    assert!(err.message.contains("nested too deeply"));
    let side: Vec<String> = (0..200).map(|i| format!("n{i}")).collect();
    let text = format!(
        "digraph G {{ {{{}}} -> {{{}}} -> {{{}}} }}",
        side.join(" "),
        side.join(" "),
        side.join(" ")
    );
    let err = first_error(&text);
    assert!(err.message.contains("too many edges"), "{}", err.message);
}

#[test]
fn large_inputs_keep_every_node_and_edge() {
    // Speed is measured by `cargo bench -p dippin`; this checks the result.
    let mut text = String::from("digraph Big {\n  s [shape=Mdiamond]\n  e [shape=Msquare]\n");
    let n = 20_000;
    for i in 0..n {
        text.push_str(&format!(
            "  n{i} [label=\"Node {i}\", prompt=\"do {i}\"]\n  node [reasoning_effort=high]\n"
        ));
    }
    text.push_str("  s -> n0\n");
    for i in 1..n {
        text.push_str(&format!(
            "  n{} -> n{i} [condition=\"outcome=success\"]\n",
            i - 1
        ));
    }
    text.push_str(&format!("  n{} -> e\n}}\n", n - 1));
    let wf = parse_ok(&text);
    assert_eq!(wf.nodes.len(), n + 2);
    assert_eq!(wf.edges.len(), n + 1);
}

#[test]
fn a_misspelt_node_attribute_is_a_located_warning_and_runtime_params_are_not() {
    let src = "digraph W {\n  start [shape=Mdiamond]\n  A [shape=box, promt=\"hi\", prompt=\"go\", quorum=\"2\", team=\"x\"]\n  exit [shape=Msquare]\n  start -> A -> exit\n}\n";
    let (wf, diags) = parse_dot(src);
    let misspelt: Vec<_> = diags
        .iter()
        .filter(|d| d.message.contains("unknown attribute"))
        .collect();
    assert_eq!(misspelt.len(), 1, "{diags:?}");
    assert!(
        misspelt[0]
            .message
            .contains("`promt` (did you mean `prompt`?)"),
        "{}",
        misspelt[0].message
    );
    let span = misspelt[0].span.expect("located");
    assert_eq!(&src[span.start..span.end], "\"hi\"");
    // The attribute is still kept, as the reference keeps it.
    let params = &wf.node("A").expect("A").agent().expect("agent").params;
    assert_eq!(params.get("promt").map(String::as_str), Some("hi"));
    assert_eq!(params.get("quorum").map(String::as_str), Some("2"));
}
