use std::collections::BTreeMap;
use std::time::Duration;

use super::setting::Positive;
use super::*;
use crate::plan::{PlanError, SpawnPlan};

fn plan(src: &str) -> Result<SpawnPlan, PlanError> {
    let (wf, diags) = dippin::parse_dip(src);
    assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
    SpawnPlan::compile(&wf)
}

fn spec(src: &str, id: &str) -> NodeSpec {
    let plan = plan(src).expect("compiles");
    let index = plan.node_index(id).expect("node");
    plan.node(index).spec.as_ref().clone()
}

fn setting_error(src: &str) -> SpecError {
    match plan(src) {
        Err(PlanError::Setting(e)) => e,
        other => panic!("expected a setting error, got {other:?}"),
    }
}

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const FAN_OUT: &str = "workflow W\n  start: P\n  exit: J\n  parallel P -> A, B\n  fan_in J <- A, B\n  agent A\n    prompt: a\n  agent B\n    prompt: b\n";

fn with_params(params: &str) -> String {
    FAN_OUT.replace(
        "  parallel P -> A, B\n",
        &format!("  parallel P -> A, B\n    params:\n{params}"),
    )
}

#[test]
fn an_agents_typed_fields_win_then_its_params_then_the_stylesheet() {
    let src = "workflow W\n  start: A\n  exit: B\n  stylesheet:\n    *\n      llm_model: styled\n      reasoning_effort: low\n  agent A\n    prompt: go\n    model: own\n    max_turns: 7\n    cmd_timeout: 45s\n    params:\n      llm_model: ignored\n      llm_provider: from_params\n      injection_cap: 100\n  agent B\n    prompt: end\n  edges\n    A -> B\n";
    let a = spec(src, "A");
    let agent = a.agent().expect("agent");
    assert_eq!(agent.model.as_str(), "own");
    assert_eq!(agent.provider.as_str(), "from_params");
    assert_eq!(agent.reasoning_effort.as_str(), "low");
    assert_eq!(agent.max_turns, Some(7));
    assert_eq!(agent.command_timeout, Some(Duration::from_secs(45)));
    assert_eq!(agent.injection_cap, Some(Setting::Ready(100)));
    assert_eq!(agent.backend, Setting::Ready(Backend::Native));
    let b = spec(src, "B");
    assert_eq!(b.agent().expect("agent").model.as_str(), "styled");
}

#[test]
fn text_settings_are_expanded_per_attempt_and_typed_ones_parsed_after() {
    let src = with_params("      max_concurrency: $width\n      branch_timeout: 90s\n")
        .replace("prompt: a", "prompt: build $goal");
    let plan = plan(&src).expect("compiles");
    let a = &plan.node(plan.node_index("A").expect("A")).spec;
    let expanded = a.expanded(&vars(&[("goal", "the site")]));
    assert_eq!(
        expanded.agent().expect("agent").prompt.as_str(),
        "build the site"
    );
    // The plan's own spec is untouched: every attempt expands afresh.
    assert_eq!(a.agent().expect("agent").prompt.as_str(), "build $goal");
    // Only a spec that names a variable needs a copy per attempt.
    assert!(a.names_variables());
    assert!(!expanded.names_variables());
    let b = &plan.node(plan.node_index("B").expect("B")).spec;
    assert!(!b.names_variables());

    let p = &plan.node(plan.node_index("P").expect("P")).spec;
    let KindSpec::Parallel(fan_out) = &p.kind else {
        panic!("a parallel spec")
    };
    assert!(matches!(fan_out.max_concurrency, Some(Setting::Pending(_))));
    assert_eq!(
        fan_out.branch_timeout,
        Some(Setting::Ready(Duration::from_secs(90)))
    );
    let width = |value: &str| {
        let KindSpec::Parallel(p) = p.expanded(&vars(&[("width", value)])).kind else {
            panic!("a parallel spec")
        };
        p.max_concurrency
    };
    assert_eq!(width("2"), Some(Setting::Ready(Positive(2))));
    assert_eq!(width("lots"), Some(Setting::Invalid("lots".into())));
}

#[test]
fn a_join_policy_the_runtime_cannot_use_is_an_error_at_the_node() {
    let e = setting_error(&with_params("      fan_in_policy: most\n"));
    assert_eq!(e.node, "P");
    assert_eq!(e.field, "fan_in_policy");
    assert_eq!(e.value, "most");
    assert!(e.to_string().contains("one of any, all, quorum"), "{e}");

    let e = setting_error(&with_params("      fan_in_policy: quorum\n"));
    assert_eq!(e.field, "quorum");
    assert!(e.problem.contains("positive integer"), "{e}");

    let ok = spec(
        &with_params("      fan_in_policy: quorum\n      quorum: 2\n"),
        "P",
    );
    let KindSpec::Parallel(fan_out) = ok.kind else {
        panic!("a parallel spec")
    };
    assert_eq!(fan_out.join.policy(), Ok(JoinPolicy::Quorum(2)));
    let pending = spec(&with_params("      fan_in_policy: $policy\n"), "P")
        .expanded(&vars(&[("policy", "most")]));
    let KindSpec::Parallel(fan_out) = pending.kind else {
        panic!("a parallel spec")
    };
    let error = fan_out.join.policy().expect_err("most is no policy");
    assert_eq!(error.to_string(), "\"most\" is not one of any, all, quorum");
    assert!(JoinPolicy::Any.satisfied(1, 3));
    assert!(!JoinPolicy::All.satisfied(2, 3));
    assert!(JoinPolicy::Quorum(2).satisfied(2, 3));
}

#[test]
fn an_unknown_backend_or_supervision_setting_is_an_error_at_the_node() {
    let agent = "workflow W\n  start: A\n  exit: A\n  agent A\n    prompt: go\n";
    let e = setting_error(&format!("{agent}    backend: codex\n"));
    assert_eq!((e.node.as_str(), e.field.as_str()), ("A", "backend"));
    assert!(e.offset > 0, "the error carries the node's position");

    let e = setting_error(&format!(
        "{agent}    params:\n      supervise: restart=sometimes\n"
    ));
    assert_eq!(e.field, "params.supervise");
    assert!(e.problem.contains("restart"), "{e}");

    let fine = spec(
        &format!("{agent}    params:\n      supervise: restart=permanent\n      memoize: true\n"),
        "A",
    );
    assert_eq!(fine.common.supervise.as_deref(), Some("restart=permanent"));
    assert!(fine.common.memoize);
}

#[test]
fn values_the_reference_replaces_by_a_default_stay_defaults() {
    // Lint DIP163 and DIP114 warn about these at load; the run keeps the
    // reference's defaults rather than failing.
    let p = spec(&with_params("      max_concurrency: lots\n"), "P");
    let KindSpec::Parallel(fan_out) = p.kind else {
        panic!("a parallel spec")
    };
    assert_eq!(fan_out.max_concurrency, None);
    let a = spec(
        "workflow W\n  start: A\n  exit: A\n  agent A\n    prompt: go\n    fidelity: bogus\n",
        "A",
    );
    assert_eq!(a.common.fidelity, None);
}

#[test]
fn gates_tools_and_manager_loops_are_typed() {
    let gate = spec(
        "workflow W\n  start: H\n  exit: E\n  human H\n    mode: yes_no\n    timeout: 2m\n    timeout_action: fail\n    default: yes\n  agent E\n    prompt: e\n  edges\n    H -> E\n",
        "H",
    );
    let KindSpec::Human(h) = gate.kind else {
        panic!("a gate spec")
    };
    assert_eq!(h.mode(), GateMode::YesNo);
    assert_eq!(h.timeout, Some(Duration::from_secs(120)));
    assert!(h.fails_on_timeout());
    assert_eq!(h.default_choice.as_str(), "yes");

    let tool = spec(
        "workflow W\n  start: T\n  exit: T\n  tool T\n    command: echo hi\n    timeout: 5s\n    output_limit: 1024\n    route_required: true\n",
        "T",
    );
    let KindSpec::Tool(t) = tool.kind else {
        panic!("a tool spec")
    };
    assert_eq!(t.command.as_str(), "echo hi");
    assert_eq!(t.timeout, Some(Duration::from_secs(5)));
    assert_eq!(t.output_limit, Some(1024));
    assert!(t.route_required);
}

#[test]
fn a_branch_block_changes_the_node_its_branch_runs() {
    let mut target = spec(FAN_OUT, "A");
    let change = BranchOverride {
        model: Some(Text::new("fast")),
        fidelity: Some(Setting::Ready(crate::fidelity::Fidelity::Compact)),
        ..BranchOverride::default()
    };
    change.apply(&mut target);
    assert_eq!(target.agent().expect("agent").model.as_str(), "fast");
    assert_eq!(
        target.common.fidelity,
        Some(Setting::Ready(crate::fidelity::Fidelity::Compact))
    );
}

#[test]
fn fallback_lanes_that_cannot_work_are_refused_when_the_plan_is_made() {
    let agent = |lanes: &str| {
        format!("workflow W\n  start: A\n  exit: Z\n  agent A\n    prompt: a\n    params:\n      llm_fallbacks: {lanes}\n  agent Z\n    label: Z\n  edges\n    A -> Z\n")
    };
    let error = setting_error(&agent("openai/gpt-5.4 gemini/gemini-2.5-flash"));
    assert_eq!(error.field, "llm_fallbacks");
    assert!(
        error.problem.contains("separate lanes with commas"),
        "{error}"
    );
    let error = setting_error(&agent("opnai/gpt-5.4"));
    assert!(error.problem.contains("names no provider"), "{error}");
    // Good lanes, and a `$variable` left for the run, compile.
    assert!(plan(&agent("openai/gpt-5.4, gemini/gemini-2.5-flash")).is_ok());
    assert!(plan(&agent("$lanes")).is_ok());
}
