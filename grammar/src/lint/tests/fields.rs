//! The inline tests of the former `lint/fields.rs` themes.

use super::fields_lints as lint;
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::graph::Graph;

/// Parses `src` (which must parse cleanly) and runs this module's lints.
fn lint_src(src: &str) -> Vec<Diagnostic> {
    let (wf, diags) = crate::parse_dip(src);
    assert!(diags.is_empty(), "parse diagnostics: {diags:#?}");
    let mut out = Vec::new();
    lint(&Graph::new(&wf), &mut out);
    out
}

/// A workflow `S -> <middle> -> E` with anthropic defaults; `nodes` are
/// indented two spaces, `edges` four.
fn flow(defaults: &str, nodes: &str, edges: &str) -> String {
    format!(
            "workflow T\n  start: S\n  exit: E\n  defaults\n    model: claude-sonnet-4-6\n    provider: anthropic\n{defaults}  agent S\n    prompt: go\n{nodes}  agent E\n    prompt: done\n  edges\n{edges}"
        )
}

/// A workflow with one extra agent `A` whose body is `body` (indented four).
fn with_agent(body: &str) -> Vec<Diagnostic> {
    lint_src(&flow(
        "",
        &format!("  agent A\n{body}"),
        "    S -> A\n    A -> E\n",
    ))
}

fn with_code(out: &[Diagnostic], code: u16) -> Vec<&Diagnostic> {
    out.iter().filter(|d| d.code == Code(code)).collect()
}

fn has(out: &[Diagnostic], code: u16) -> bool {
    !with_code(out, code).is_empty()
}

#[test]
fn clean_workflow_has_no_findings() {
    let out = lint_src(&flow(
            "    fidelity: summary:medium\n    on_resume: preserve\n    retry_policy: standard\n    max_cost_cents: 500\n",
            "  agent A\n    prompt: hi\n    reasoning_effort: high\n    response_format: json_schema\n    response_schema:\n      {\"type\": \"object\"}\n    compaction_threshold: 0.8\n    writable_paths: src/**, docs/*.md\n    params:\n      temperature: 0.2\n  tool T\n    command: echo ok\n    timeout: 30s\n",
            "    S -> A\n    A -> T\n    T -> E\n",
        ));
    assert!(out.is_empty(), "{out:#?}");
}

#[test]
fn dip108_unknown_model() {
    let out = with_agent("    prompt: hi\n    model: claude-sonet-4-6\n");
    let d = with_code(&out, 108);
    assert_eq!(d.len(), 1, "{out:#?}");
    assert_eq!(
        d[0].message,
        "node \"A\" uses unknown model \"claude-sonet-4-6\" for provider \"anthropic\""
    );
    assert_eq!(d[0].fix.as_deref(), Some("model: claude-sonnet-4-6"));
    assert_eq!(d[0].severity, Severity::Warning);
}

#[test]
fn dip108_inherited_default_model_is_checked_per_agent() {
    let src = "workflow T\n  start: S\n  exit: E\n  defaults\n    model: gpt-9\n    provider: openai\n  agent S\n    prompt: a\n  agent E\n    prompt: b\n  edges\n    S -> E\n";
    let out = lint_src(src);
    assert_eq!(with_code(&out, 108).len(), 2, "{out:#?}");
    assert!(with_code(&out, 108)[0]
        .help
        .as_deref()
        .is_some_and(|h| h.contains("defaults")));
}

#[test]
fn dip108_dot_dash_insensitive_and_dated_models_are_known() {
    for model in [
        "claude-sonnet-4.6",
        "claude-haiku-4-5-20251001",
        "claude-opus-4-6",
    ] {
        let out = with_agent(&format!("    prompt: hi\n    model: {model}\n"));
        assert!(!has(&out, 108), "{model}: {out:#?}");
    }
    for (model, provider) in [("gpt-5.2", "openai"), ("gemini-3.5-flash", "gemini")] {
        let out = with_agent(&format!(
            "    prompt: hi\n    model: {model}\n    provider: {provider}\n"
        ));
        assert!(!has(&out, 108), "{model}: {out:#?}");
    }
}

#[test]
fn dip108_unknown_provider_and_mismatch() {
    let out = with_agent("    prompt: hi\n    provider: antropic\n");
    let d = with_code(&out, 108);
    assert_eq!(d.len(), 1, "{out:#?}");
    assert_eq!(
        d[0].message,
        "node \"A\" uses unknown provider \"antropic\""
    );
    assert_eq!(d[0].fix.as_deref(), Some("provider: anthropic"));

    let out = with_agent("    prompt: hi\n    model: gpt-5.4\n");
    let d = with_code(&out, 108);
    assert_eq!(d.len(), 1, "{out:#?}");
    assert_eq!(
            d[0].message,
            "node \"A\" uses model \"gpt-5.4\" with provider \"anthropic\", but the catalog lists it under \"openai\""
        );
    assert_eq!(d[0].fix.as_deref(), Some("provider: openai"));
}

#[test]
fn dip108_openai_compat_accepts_any_model() {
    let out = with_agent(
        "    prompt: hi\n    provider: openai-compat\n    model: org-router/general-v3\n",
    );
    assert!(
        !has(&out, 108) && !has(&out, 161) && !has(&out, 162),
        "{out:#?}"
    );
}

#[test]
fn dip108_skips_interpolated_models() {
    let out = with_agent("    prompt: hi\n    model: ${params.preferred_model}\n");
    assert!(out.is_empty(), "{out:#?}");
    let out = with_agent("    prompt: hi\n    model: ${params.m}\n    provider: nope\n");
    let d = with_code(&out, 108);
    assert_eq!(d.len(), 1, "{out:#?}");
    assert_eq!(d[0].message, "node \"A\" uses unknown provider \"nope\"");
}

#[test]
fn dip161_deprecated_model() {
    let out = with_agent("    prompt: hi\n    provider: openai\n    model: gpt-4\n");
    let d = with_code(&out, 161);
    assert_eq!(d.len(), 1, "{out:#?}");
    assert!(d[0].message.starts_with("node \"A\" uses model \"gpt-4\""));
    assert_eq!(d[0].fix.as_deref(), Some("model: gpt-5.4"));
    assert!(!has(&out, 108));

    let out = with_agent("    prompt: hi\n    provider: openai\n    model: gpt-4o\n");
    assert!(!has(&out, 161), "{out:#?}");
}

#[test]
fn dip162_unresolvable_alias() {
    let out = with_agent("    prompt: hi\n    model: sonet@latest\n");
    let d = with_code(&out, 162);
    assert_eq!(d.len(), 1, "{out:#?}");
    assert_eq!(
        d[0].message,
        "node \"A\" model alias \"sonet@latest\" resolves to no eligible model"
    );
    assert!(!has(&out, 108));

    // A bad selector is unresolvable too.
    let out = with_agent("    prompt: hi\n    model: opus@newest\n");
    assert!(has(&out, 162), "{out:#?}");
}

#[test]
fn dip162_resolvable_aliases_are_fine() {
    for model in ["sonnet@latest", "anthropic/opus@stable", "haiku@sota"] {
        let out = with_agent(&format!("    prompt: hi\n    model: {model}\n"));
        assert!(out.is_empty(), "{model}: {out:#?}");
    }
    let out = with_agent("    prompt: hi\n    provider: gemini\n    model: flash@latest\n");
    assert!(out.is_empty(), "{out:#?}");
    // The alias resolves, but to another provider's model.
    let out = with_agent("    prompt: hi\n    model: gemini/flash@latest\n");
    assert!(has(&out, 108) && !has(&out, 162), "{out:#?}");
}

#[test]
fn dip109_duplicate_subgraph_ref() {
    let out = lint_src(&flow(
            "",
            "  subgraph A\n    ref: child.dip\n  subgraph B\n    ref: child.dip\n  subgraph C\n    ref: other.dip\n",
            "    S -> A\n    A -> B\n    B -> C\n    C -> E\n",
        ));
    let d = with_code(&out, 109);
    assert_eq!(d.len(), 1, "{out:#?}");
    assert_eq!(
            d[0].message,
            "nodes \"A\" and \"B\" both reference subgraph \"child.dip\", which may cause namespace collisions"
        );
}

#[test]
fn dip110_empty_prompt_but_not_on_start_or_exit() {
    let src = "workflow T\n  start: S\n  exit: E\n  agent S\n    model: claude-sonnet-4-6\n  agent A\n    label: nothing to say\n  agent B\n    prompt_file: b.md\n  agent E\n    label: end\n  edges\n    S -> A\n    A -> B\n    B -> E\n";
    let out = lint_src(src);
    let d = with_code(&out, 110);
    assert_eq!(d.len(), 1, "{out:#?}");
    assert_eq!(d[0].message, "agent node \"A\" has an empty prompt");
}

#[test]
fn dip111_tool_without_timeout() {
    let out = lint_src(&flow(
        "",
        "  tool Run\n    command: make\n  tool Fast\n    command: true\n    timeout: 5s\n",
        "    S -> Run\n    Run -> Fast\n    Fast -> E\n",
    ));
    let d = with_code(&out, 111);
    assert_eq!(d.len(), 1, "{out:#?}");
    assert_eq!(d[0].message, "tool node \"Run\" has no timeout configured");
    assert_eq!(d[0].fix.as_deref(), Some("add timeout: 5m"));
}

#[test]
fn dip113_retry_policy_in_defaults_and_nodes() {
    let out = lint_src(&flow(
            "    retry_policy: agressive\n",
            "  agent A\n    prompt: hi\n    retry_policy: forever\n    max_retries: 2\n  agent B\n    prompt: hi\n    retry_policy: linear\n",
            "    S -> A\n    A -> B\n    B -> E\n",
        ));
    let d = with_code(&out, 113);
    assert_eq!(d.len(), 2, "{out:#?}");
    assert_eq!(
        d[0].message,
        "workflow default retry_policy \"agressive\" is not a recognized policy name"
    );
    assert_eq!(d[0].fix.as_deref(), Some("retry_policy: aggressive"));
    assert!(d[1]
        .message
        .starts_with("node \"A\" has retry_policy \"forever\""));
}

#[test]
fn dip114_fidelity_in_defaults_agents_and_branches() {
    let src = "workflow T\n  start: S\n  exit: E\n  defaults\n    fidelity: summary\n  agent S\n    prompt: go\n    fidelity: compact\n  parallel P\n    branch: A\n      fidelity: summary:lo\n    branch: B\n      fidelity: full\n  agent A\n    prompt: a\n    fidelity: everything\n  agent B\n    prompt: b\n  fan_in J <- A, B\n  agent E\n    prompt: done\n  edges\n    S -> P\n    J -> E\n";
    let out = lint_src(src);
    let d = with_code(&out, 114);
    assert_eq!(d.len(), 3, "{out:#?}");
    assert!(d
        .iter()
        .any(|d| d.message == "workflow default fidelity \"summary\" is not a recognized level"));
    assert!(d.iter().any(|d| d.message
        == "node \"P\" branch \"A\" has fidelity \"summary:lo\" which is not a recognized level"
        && d.fix.as_deref() == Some("fidelity: summary:low")));
    assert!(d.iter().any(|d| d
        .message
        .starts_with("node \"A\" has fidelity \"everything\"")));
}

#[test]
fn dip116_compaction_threshold_and_on_resume() {
    let out = with_agent("    prompt: hi\n    compaction_threshold: 1.5\n");
    let d = with_code(&out, 116);
    assert_eq!(d.len(), 1, "{out:#?}");
    assert_eq!(
        d[0].message,
        "node \"A\" has compaction_threshold 1.50 outside valid range [0.0, 1.0]"
    );
    let out = with_agent("    prompt: hi\n    compaction_threshold: 1.0\n");
    assert!(!has(&out, 116), "{out:#?}");

    // Unknown value and no fidelity: both findings.
    let out = lint_src(&flow("    on_resume: restart\n", "", "    S -> E\n"));
    let d = with_code(&out, 116);
    assert_eq!(d.len(), 2, "{out:#?}");
    assert_eq!(
        d[0].message,
        "workflow default on_resume \"restart\" is not a recognized value"
    );
    assert_eq!(
        d[1].message,
        "on_resume is set but fidelity is not configured"
    );

    let out = lint_src(&flow(
        "    on_resume: degrade\n    fidelity: full\n",
        "",
        "    S -> E\n",
    ));
    assert!(!has(&out, 116), "{out:#?}");
}

#[test]
fn dip117_dip118_stylesheet_references() {
    let src = "workflow T\n  start: S\n  exit: E\n  agent S\n    prompt: go\n    class: fast\n  agent E\n    prompt: done\n  stylesheet:\n    .fast\n      model: claude-haiku-4-5\n    .slow\n      model: claude-opus-4-6\n    #S\n      fidelity: full\n    #Nope\n      fidelity: full\n    agent\n      provider: anthropic\n  edges\n    S -> E\n";
    let out = lint_src(src);
    let classes = with_code(&out, 117);
    assert_eq!(classes.len(), 1, "{out:#?}");
    assert_eq!(
        classes[0].message,
        "stylesheet references class \"slow\" which is not declared on any node"
    );
    let ids = with_code(&out, 118);
    assert_eq!(ids.len(), 1, "{out:#?}");
    assert_eq!(
        ids[0].message,
        "stylesheet references node ID \"Nope\" which does not exist"
    );
}

#[test]
fn dip119_reasoning_effort() {
    let out = with_agent("    prompt: hi\n    reasoning_effort: extreme\n");
    let d = with_code(&out, 119);
    assert_eq!(d.len(), 1, "{out:#?}");
    assert_eq!(
        d[0].message,
        "node \"A\" has reasoning_effort \"extreme\" which is not a recognized level"
    );
    for ok in ["none", "minimal", "xhigh", "max"] {
        let out = with_agent(&format!("    prompt: hi\n    reasoning_effort: {ok}\n"));
        assert!(!has(&out, 119), "{ok}: {out:#?}");
    }
}

#[test]
fn dip127_human_mode() {
    let out = lint_src(&flow(
        "",
        "  human G\n    mode: multiple\n    prompt: pick\n",
        "    S -> G\n    G -> E\n",
    ));
    let d = with_code(&out, 127);
    assert_eq!(d.len(), 1, "{out:#?}");
    assert_eq!(
        d[0].message,
        "node \"G\" has mode \"multiple\" which is not a recognized human mode"
    );
    let out = lint_src(&flow(
        "",
        "  human G\n    mode: yes_no\n",
        "    S -> G\n    G -> E\n",
    ));
    assert!(!has(&out, 127), "{out:#?}");
}

#[test]
fn dip128_dip129_interview_gates() {
    let out = lint_src(&flow(
        "",
        "  human G\n    mode: interview\n    default: yes\n  agent X\n    prompt: x\n",
        "    S -> G\n    G -> E label: \"Ship\"\n    G -> X label: \"Rework\"\n    X -> E\n",
    ));
    let d = with_code(&out, 128);
    assert_eq!(d.len(), 1, "{out:#?}");
    assert_eq!(
        d[0].message,
        "node \"G\" is mode interview but has default \"yes\" which is ignored"
    );
    let d = with_code(&out, 129);
    assert_eq!(d.len(), 1, "{out:#?}");
    assert_eq!(
        d[0].message,
        "node \"G\" is mode interview but has 2 labeled edges (interview does not route by label)"
    );

    // A choice gate may have a default and labeled edges.
    let out = lint_src(&flow(
        "",
        "  human G\n    mode: choice\n    default: Ship\n  agent X\n    prompt: x\n",
        "    S -> G\n    G -> E label: \"Ship\"\n    G -> X label: \"Rework\"\n    X -> E\n",
    ));
    assert!(!has(&out, 128) && !has(&out, 129), "{out:#?}");
}

#[test]
fn dip130_response_format() {
    let out = with_agent("    prompt: hi\n    response_format: json\n");
    let d = with_code(&out, 130);
    assert_eq!(d.len(), 1, "{out:#?}");
    assert_eq!(
        d[0].message,
        "node \"A\" has response_format \"json\" which is not recognized"
    );
    let out = with_agent("    prompt: hi\n    response_format: json_object\n");
    assert!(out.is_empty(), "{out:#?}");
}

#[test]
fn dip131_schema_format_mismatch() {
    let out = with_agent("    prompt: hi\n    response_schema:\n      {\"type\": \"object\"}\n");
    let d = with_code(&out, 131);
    assert_eq!(d.len(), 1, "{out:#?}");
    assert_eq!(
            d[0].message,
            "node \"A\" has response_schema but response_format is not set (the schema will be ignored)"
        );
    assert_eq!(d[0].severity, Severity::Warning);

    let out = with_agent("    prompt: hi\n    response_format: json_object\n    response_schema:\n      {\"type\": \"object\"}\n");
    assert!(
        with_code(&out, 131)[0]
            .message
            .contains("response_format is \"json_object\""),
        "{out:#?}"
    );

    let out = with_agent("    prompt: hi\n    response_format: json_schema\n");
    let d = with_code(&out, 131);
    assert_eq!(d.len(), 1, "{out:#?}");
    assert_eq!(d[0].severity, Severity::Hint);
}

#[test]
fn dip132_schema_not_json() {
    let out = with_agent("    prompt: hi\n    response_format: json_schema\n    response_schema:\n      {\"type\": \"object\",}\n");
    let d = with_code(&out, 132);
    assert_eq!(d.len(), 1, "{out:#?}");
    assert_eq!(
        d[0].message,
        "node \"A\" has response_schema that is not valid JSON"
    );
    assert!(!has(&out, 131));
}

#[test]
fn dip133_params_shadow_typed_fields() {
    let out = with_agent("    prompt: hi\n    params:\n      model: gpt-5.4\n      temperature: 0.1\n      reasoning_effort: high\n");
    let d = with_code(&out, 133);
    assert_eq!(d.len(), 2, "{out:#?}");
    assert!(d.iter().all(|d| d.severity == Severity::Hint));
    assert_eq!(
        d[0].message,
        "node \"A\" params key \"model\" shadows a typed field; use the typed field instead"
    );
    assert!(d[1].message.contains("\"reasoning_effort\""));
}

#[test]
fn dip135_dip136_dip137_manager_loop() {
    let out = lint_src(&flow(
        "",
        "  manager_loop M\n    poll_interval: -5s\n    max_cycles: -1\n",
        "    S -> M\n    M -> E\n",
    ));
    let d = with_code(&out, 135);
    assert_eq!(d.len(), 1, "{out:#?}");
    assert_eq!(d[0].message, "manager_loop \"M\" has no subgraph_ref");
    let d = with_code(&out, 136);
    assert_eq!(d.len(), 2, "{out:#?}");
    assert_eq!(
        d[0].message,
        "manager_loop \"M\" poll_interval is negative (-5s)"
    );
    assert_eq!(
        d[1].message,
        "manager_loop \"M\" max_cycles is negative (-1)"
    );
    // A (negative) max_cycles is a bound as far as DIP137 is concerned.
    assert!(!has(&out, 137), "{out:#?}");

    let out = lint_src(&flow(
        "",
        "  manager_loop M\n    subgraph_ref: child.dip\n    poll_interval: 30s\n",
        "    S -> M\n    M -> E\n",
    ));
    let d = with_code(&out, 137);
    assert_eq!(d.len(), 1, "{out:#?}");
    assert_eq!(
        d[0].message,
        "manager_loop \"M\" is unbounded: no stop_condition and no max_cycles"
    );
    assert!(!has(&out, 135) && !has(&out, 136));

    let out = lint_src(&flow(
            "",
            "  manager_loop M\n    subgraph_ref: child.dip\n    stop_condition: stack.child.outcome = success\n",
            "    S -> M\n    M -> E\n",
        ));
    assert!(out.is_empty(), "{out:#?}");
}

#[test]
fn dip139_tool_access_values() {
    let src = "workflow T\n  start: S\n  exit: E\n  agent S\n    prompt: go\n    tool_access: read-only\n  parallel P\n    branch: A\n      tool_access: nope\n    branch: B\n      tool_access: None\n  agent A\n    prompt: a\n    tool_access: none\n  agent B\n    prompt: b\n  fan_in J <- A, B\n  agent E\n    prompt: done\n  edges\n    S -> P\n    J -> E\n";
    let out = lint_src(src);
    let d = with_code(&out, 139);
    assert_eq!(d.len(), 2, "{out:#?}");
    assert_eq!(
        d[0].message,
        "node \"S\" has tool_access \"read-only\" which is not recognized"
    );
    assert_eq!(
        d[1].message,
        "node \"P\" branch \"A\" has tool_access \"nope\" which is not recognized"
    );
}

#[test]
fn dip140_params_reenable_tools() {
    let out = with_agent("    prompt: hi\n    tool_access: none\n    params:\n      allowed_tools: Bash\n      temperature: 0\n");
    let d = with_code(&out, 140);
    assert_eq!(d.len(), 1, "{out:#?}");
    assert_eq!(
            d[0].message,
            "node \"A\" params key \"allowed_tools\" re-enables tools that tool_access strips; the runtime ignores it"
        );
    let out = with_agent("    prompt: hi\n    params:\n      allowed_tools: Bash\n");
    assert!(!has(&out, 140), "{out:#?}");
}

#[test]
fn dip141_writable_paths_with_no_tools() {
    let out = with_agent("    prompt: hi\n    tool_access: none\n    writable_paths: src/**\n");
    let d = with_code(&out, 141);
    assert_eq!(d.len(), 1, "{out:#?}");
    assert!(d[0]
        .message
        .starts_with("node \"A\" has writable_paths but tool_access \"none\""));
    let out = with_agent("    prompt: hi\n    writable_paths: src/**\n");
    assert!(!has(&out, 141), "{out:#?}");
}

#[test]
fn dip142_unsafe_writable_paths() {
    let out = with_agent(
            "    prompt: hi\n    writable_paths: /etc/**, ~/x, C:/w, ../up, a/../../b, src/{a, b}/**, a/../b, ./ok/**\n",
        );
    let d = with_code(&out, 142);
    let entries: Vec<&str> = d
        .iter()
        .filter_map(|d| d.message.split('"').nth(3))
        .collect();
    assert_eq!(
        entries,
        [
            "/etc/**",
            "~/x",
            "C:/w",
            "../up",
            "a/../../b",
            "src/{a",
            "b}/**"
        ],
        "{out:#?}"
    );
    assert!(d[5].message.contains("brace expansion"));
}

#[test]
fn dip145_negative_budgets() {
    let out = lint_src(&flow(
        "    max_cost_cents: -100\n    max_total_tokens: 0\n    max_wall_time: -1h\n",
        "",
        "    S -> E\n",
    ));
    let d = with_code(&out, 145);
    assert_eq!(d.len(), 2, "{out:#?}");
    assert_eq!(
        d[0].message,
        "workflow budget default max_cost_cents is -100; budgets cannot be negative"
    );
    assert_eq!(
        d[1].message,
        "workflow budget default max_wall_time is -1h0m0s; budgets cannot be negative"
    );
}

#[test]
fn dip147_restricted_output_reaches_tool_bearing_agent() {
    let src = "workflow T\n  start: S\n  exit: E\n  agent S\n    prompt: read the web\n    tool_access: none\n    writes: summary, notes\n  agent Mid\n    prompt: relay\n    tool_access: none\n    reads: notes\n  agent Act\n    prompt: act\n    reads: summary\n  agent E\n    prompt: done\n    reads: notes\n  edges\n    S -> Mid\n    Mid -> Act\n    Act -> E\n";
    let out = lint_src(src);
    let d = with_code(&out, 147);
    assert_eq!(d.len(), 2, "{out:#?}");
    assert!(d.iter().all(|d| d.severity == Severity::Hint));
    assert_eq!(
            d[0].message,
            "restricted agent \"S\" (tool_access: none) writes context key \"summary\" that tool-bearing agent \"Act\" reads; its output reaches a privileged prompt"
        );
    assert!(d[1]
        .message
        .contains("key \"notes\" that tool-bearing agent \"E\""));
}

#[test]
fn dip147_needs_a_forward_path() {
    // Act reads the key but runs before the restricted writer (only a loop edge back).
    let src = "workflow T\n  start: S\n  exit: E\n  agent S\n    prompt: go\n  agent Act\n    prompt: act\n    reads: summary\n  agent R\n    prompt: read\n    tool_access: none\n    writes: summary\n  agent E\n    prompt: done\n  edges\n    S -> Act\n    Act -> R\n    R -> Act restart: true\n    R -> E\n";
    let out = lint_src(src);
    assert!(!has(&out, 147), "{out:#?}");
}

#[test]
fn dip148_negative_truncate() {
    let src = "workflow T\n  start: S\n  exit: E\n  agent S\n    prompt: go\n    last_response_truncate: -1\n  parallel P\n    branch: A\n      last_response_truncate: -5\n    branch: B\n      last_response_truncate: 100\n  agent A\n    prompt: a\n  agent B\n    prompt: b\n  fan_in J <- A, B\n  agent E\n    prompt: done\n  edges\n    S -> P\n    J -> E\n";
    let out = lint_src(src);
    let d = with_code(&out, 148);
    assert_eq!(d.len(), 2, "{out:#?}");
    assert_eq!(
        d[0].message,
        "agent \"S\" last_response_truncate is -1; cannot be negative"
    );
    assert_eq!(
        d[1].message,
        "parallel \"P\" branch -> \"A\" last_response_truncate is -5; cannot be negative"
    );
}

#[test]
fn dip154_opt_out_without_cascade() {
    let out = with_agent("    prompt: hi\n    prompt_prefix: none\n");
    let d = with_code(&out, 154);
    assert_eq!(d.len(), 1, "{out:#?}");
    assert_eq!(d[0].severity, Severity::Hint);
    assert_eq!(
            d[0].message,
            "agent \"A\" sets prompt_prefix: none but no defaults prompt_prefix cascade is declared; the opt-out is a no-op"
        );
    let out = lint_src(&flow(
        "    prompt_prefix: Be terse.\n",
        "  agent A\n    prompt: hi\n    prompt_prefix: none\n",
        "    S -> A\n    A -> E\n",
    ));
    assert!(!has(&out, 154), "{out:#?}");
}

#[test]
fn spans_point_at_nodes_and_defaults() {
    let src = flow(
        "    retry_policy: bogus\n",
        "  tool Run\n    command: make\n",
        "    S -> Run\n    Run -> E\n",
    );
    let (wf, _) = crate::parse_dip(&src);
    let out = lint_src(&src);
    let tool = with_code(&out, 111)[0];
    assert_eq!(tool.span, wf.node("Run").map(|n| n.span));
    let defaults = with_code(&out, 113)[0];
    assert_eq!(defaults.span, wf.defaults.span);
    assert!(defaults.span.is_some());
}
