//! Lints: node and defaults field values — models and providers, retry policies,
//! fidelity, schemas, human modes, manager loops, tool access and budgets.
//!
//! Every check is one pass over the nodes (plus one over the edges where a check
//! needs per-node edge counts). The one graph question, `DIP147`, walks forward
//! from each restricted agent whose writes some tool-bearing agent reads, so it
//! costs nothing on workflows that do not use `tool_access: none`.

use std::collections::{HashMap, HashSet};

use crate::catalog::{self, ModelInfo, Provider};
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::graph::Graph;
use crate::ir::{
    AgentConfig, Branch, HumanConfig, ManagerLoopConfig, Node, NodeConfig, NodeKind, Selector,
    Workflow,
};
use crate::lower::values::suggest;
use crate::lower::{has_prompt, kind_fields};
use crate::source::Span;

/// Model or provider not in the catalog (or a model/provider mismatch).
pub const UNKNOWN_MODEL: Code = Code(108);
/// Two subgraph nodes with the same `ref`.
pub const DUPLICATE_SUBGRAPH_REF: Code = Code(109);
/// Agent with no prompt.
pub const EMPTY_PROMPT: Code = Code(110);
/// Tool with no timeout.
pub const TOOL_TIMEOUT: Code = Code(111);
/// Unknown retry policy.
pub const RETRY_POLICY: Code = Code(113);
/// Unknown fidelity level.
pub const FIDELITY: Code = Code(114);
/// Bad compaction threshold or `on_resume`.
pub const COMPACTION_RESUME: Code = Code(116);
/// Stylesheet `.class` used by no node.
pub const STYLE_CLASS: Code = Code(117);
/// Stylesheet `#id` naming no node.
pub const STYLE_ID: Code = Code(118);
/// Unknown reasoning effort.
pub const REASONING_EFFORT: Code = Code(119);
/// Unknown human mode.
pub const HUMAN_MODE: Code = Code(127);
/// Interview gate with a `default`.
pub const INTERVIEW_DEFAULT: Code = Code(128);
/// Interview gate with several labeled edges.
pub const INTERVIEW_LABELS: Code = Code(129);
/// Unknown `response_format`.
pub const RESPONSE_FORMAT: Code = Code(130);
/// `response_schema` and `response_format` disagree.
pub const SCHEMA_FORMAT_MISMATCH: Code = Code(131);
/// `response_schema` is not JSON.
pub const SCHEMA_JSON: Code = Code(132);
/// Agent `params` key shadowing a typed field (hint).
pub const PARAMS_SHADOW: Code = Code(133);
/// `manager_loop` without a `subgraph_ref`.
pub const MANAGER_REF: Code = Code(135);
/// Negative `manager_loop` control field.
pub const MANAGER_CONTROL: Code = Code(136);
/// `manager_loop` with neither `stop_condition` nor `max_cycles`.
pub const MANAGER_UNBOUNDED: Code = Code(137);
/// Unknown `tool_access`.
pub const TOOL_ACCESS: Code = Code(139);
/// `params` re-enabling tools that `tool_access` strips.
pub const PARAMS_REENABLE_TOOLS: Code = Code(140);
/// `writable_paths` with `tool_access: none`.
pub const WRITABLE_PATHS_DEAD: Code = Code(141);
/// Unsafe `writable_paths` entry.
pub const WRITABLE_PATHS_UNSAFE: Code = Code(142);
/// Negative budget default.
pub const NEGATIVE_BUDGET: Code = Code(145);
/// Restricted agent output read by a tool-bearing agent (hint).
pub const CHAIN_ATTACK: Code = Code(147);
/// Negative `last_response_truncate`.
pub const NEGATIVE_TRUNCATE: Code = Code(148);
/// `prompt_prefix: none` / `prompt_suffix: none` with no cascade (hint).
pub const NOOP_OPT_OUT: Code = Code(154);
/// Deprecated model.
pub const DEPRECATED_MODEL: Code = Code(161);
/// Model alias resolving to nothing.
pub const UNRESOLVED_ALIAS: Code = Code(162);

const RETRY_POLICIES: &[&str] = &["standard", "aggressive", "patient", "linear", "none"];
const FIDELITIES: &[&str] = &[
    "full",
    "summary:high",
    "summary:medium",
    "summary:low",
    "compact",
    "truncate",
];
const ON_RESUME: &[&str] = &["preserve", "degrade"];
const REASONING_EFFORTS: &[&str] = &["none", "minimal", "low", "medium", "high", "xhigh", "max"];
const HUMAN_MODES: &[&str] = &["choice", "freeform", "interview", "yes_no"];
const RESPONSE_FORMATS: &[&str] = &["json_object", "json_schema"];
/// `params` keys that would hand tools back to an agent whose `tool_access` strips them.
const TOOL_REENABLING_PARAMS: &[&str] = &[
    "allowed_tools",
    "disallowed_tools",
    "tool_choice",
    "permission_mode",
];

/// Appends this module's findings for `wf` to `out`.
pub(crate) fn lint(graph: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    let wf = graph.wf;
    defaults(wf, out);
    stylesheet(wf, out);
    duplicate_subgraph_refs(wf, out);
    let labeled = labeled_edge_counts(wf);
    for node in &wf.nodes {
        retry_policy(node, out);
        match &node.config {
            NodeConfig::Agent(a) => agent(wf, node, a, out),
            NodeConfig::Tool(t) => {
                if t.timeout.is_zero() {
                    out.push(
                        Diagnostic::warning(
                            TOOL_TIMEOUT,
                            format!("tool node {:?} has no timeout configured", node.id),
                        )
                        .with_span(node.span)
                        .with_help("a hanging command would block the whole pipeline")
                        .with_fix("add timeout: 5m"),
                    );
                }
            }
            NodeConfig::Human(h) => human(node, h, &labeled, out),
            NodeConfig::Parallel(p) => {
                for branch in &p.branches {
                    parallel_branch(node, branch, out);
                }
            }
            NodeConfig::ManagerLoop(m) => manager_loop(node, m, out),
            NodeConfig::FanIn(_) | NodeConfig::Subgraph(_) | NodeConfig::Conditional => {}
        }
    }
    chain_attack(graph, out);
}

/// Where defaults findings point: the `defaults` line, else the `workflow` line.
fn defaults_span(wf: &Workflow) -> Span {
    wf.defaults.span.unwrap_or(wf.span)
}

/// A `key: value` fix naming the closest allowed value, if one is close.
fn closest_fix(key: &str, value: &str, allowed: &[&'static str]) -> Option<String> {
    suggest(value, allowed.iter().copied()).map(|s| format!("{key}: {s}"))
}

/// Attaches `fix` when there is one.
fn maybe_fix(diag: Diagnostic, fix: Option<String>) -> Diagnostic {
    match fix {
        Some(fix) => diag.with_fix(fix),
        None => diag,
    }
}

/// DIP113, DIP114, DIP116 and DIP145 on the `defaults` section.
fn defaults(wf: &Workflow, out: &mut Vec<Diagnostic>) {
    let d = &wf.defaults;
    let span = defaults_span(wf);
    if !d.retry_policy.is_empty() && !RETRY_POLICIES.contains(&d.retry_policy.as_str()) {
        let diag = Diagnostic::warning(
            RETRY_POLICY,
            format!(
                "workflow default retry_policy {:?} is not a recognized policy name",
                d.retry_policy
            ),
        )
        .with_span(span)
        .with_help(format!("valid policies: {}", RETRY_POLICIES.join(", ")));
        out.push(maybe_fix(
            diag,
            closest_fix("retry_policy", &d.retry_policy, RETRY_POLICIES),
        ));
    }
    if !d.fidelity.is_empty() && !FIDELITIES.contains(&d.fidelity.as_str()) {
        let diag = Diagnostic::warning(
            FIDELITY,
            format!(
                "workflow default fidelity {:?} is not a recognized level",
                d.fidelity
            ),
        )
        .with_span(span)
        .with_help(format!("valid levels: {}", FIDELITIES.join(", ")));
        out.push(maybe_fix(
            diag,
            closest_fix("fidelity", &d.fidelity, FIDELITIES),
        ));
    }
    if !d.on_resume.is_empty() {
        if !ON_RESUME.contains(&d.on_resume.as_str()) {
            let diag = Diagnostic::warning(
                COMPACTION_RESUME,
                format!(
                    "workflow default on_resume {:?} is not a recognized value",
                    d.on_resume
                ),
            )
            .with_span(span)
            .with_help("valid values: preserve, degrade");
            out.push(maybe_fix(
                diag,
                closest_fix("on_resume", &d.on_resume, ON_RESUME),
            ));
        }
        if d.fidelity.is_empty() {
            out.push(
                Diagnostic::warning(
                    COMPACTION_RESUME,
                    "on_resume is set but fidelity is not configured",
                )
                .with_span(span)
                .with_help(
                    "on_resume decides what happens to the context fidelity on resume; set a defaults fidelity (e.g. fidelity: summary:medium)",
                ),
            );
        }
    }
    let budgets = [
        (
            "max_total_tokens",
            d.max_total_tokens < 0,
            d.max_total_tokens.to_string(),
        ),
        (
            "max_cost_cents",
            d.max_cost_cents < 0,
            d.max_cost_cents.to_string(),
        ),
        (
            "max_wall_time",
            d.max_wall_time.is_negative(),
            d.max_wall_time.to_string(),
        ),
        (
            "stall_timeout",
            d.stall_timeout.is_negative(),
            d.stall_timeout.to_string(),
        ),
    ];
    for (name, negative, value) in budgets {
        if negative {
            out.push(
                Diagnostic::warning(
                    NEGATIVE_BUDGET,
                    format!(
                        "workflow budget default {name} is {value}; budgets cannot be negative"
                    ),
                )
                .with_span(span)
                .with_help("use a positive cap, or omit it (0 means no limit)")
                .with_fix(format!("remove {name} or make it positive")),
            );
        }
    }
}

/// DIP117 and DIP118: stylesheet selectors naming no class or node.
fn stylesheet(wf: &Workflow, out: &mut Vec<Diagnostic>) {
    if wf.stylesheet.is_empty() {
        return;
    }
    let ids: HashSet<&str> = wf.nodes.iter().map(|n| n.id.as_str()).collect();
    let classes: HashSet<&str> = wf
        .nodes
        .iter()
        .flat_map(|n| n.classes.iter().map(String::as_str))
        .collect();
    for rule in &wf.stylesheet {
        match &rule.selector {
            Selector::Class(class) if !classes.contains(class.as_str()) => out.push(
                Diagnostic::warning(
                    STYLE_CLASS,
                    format!(
                        "stylesheet references class {class:?} which is not declared on any node"
                    ),
                )
                .with_span(rule.span.unwrap_or(wf.span))
                .with_fix(format!("add class: {class} to a node, or remove the rule")),
            ),
            Selector::Id(id) if !ids.contains(id.as_str()) => {
                let diag = Diagnostic::warning(
                    STYLE_ID,
                    format!("stylesheet references node ID {id:?} which does not exist"),
                )
                .with_span(rule.span.unwrap_or(wf.span))
                .with_help("check the node ID spelling or add the node");
                let fix = suggest(id, ids.iter().copied()).map(|s| format!("use #{s}"));
                out.push(maybe_fix(diag, fix));
            }
            _ => {}
        }
    }
}

/// DIP109: two subgraph nodes calling the same child.
fn duplicate_subgraph_refs(wf: &Workflow, out: &mut Vec<Diagnostic>) {
    let mut first: HashMap<&str, &Node> = HashMap::new();
    for node in &wf.nodes {
        let NodeConfig::Subgraph(s) = &node.config else {
            continue;
        };
        let reference = s.reference.trim();
        if reference.is_empty() {
            continue;
        }
        match first.get(reference) {
            Some(prev) => out.push(
                Diagnostic::warning(
                    DUPLICATE_SUBGRAPH_REF,
                    format!(
                        "nodes {:?} and {:?} both reference subgraph {reference:?}, which may cause namespace collisions",
                        prev.id, node.id
                    ),
                )
                .with_span(node.span)
                .with_help("make sure the names the child introduces do not collide once both calls are expanded"),
            ),
            None => {
                first.insert(reference, node);
            }
        }
    }
}

/// How many labeled explicit edges leave each node.
fn labeled_edge_counts(wf: &Workflow) -> HashMap<&str, usize> {
    let mut counts = HashMap::new();
    for edge in &wf.edges {
        if !edge.label.is_empty() {
            *counts.entry(edge.from.as_str()).or_insert(0) += 1;
        }
    }
    counts
}

/// DIP113 on a node's own retry policy.
fn retry_policy(node: &Node, out: &mut Vec<Diagnostic>) {
    let policy = &node.retry.policy;
    if policy.is_empty() || RETRY_POLICIES.contains(&policy.as_str()) {
        return;
    }
    let diag = Diagnostic::warning(
        RETRY_POLICY,
        format!(
            "node {:?} has retry_policy {policy:?} which is not a recognized policy name",
            node.id
        ),
    )
    .with_span(node.span)
    .with_help(format!("valid policies: {}", RETRY_POLICIES.join(", ")));
    out.push(maybe_fix(
        diag,
        closest_fix("retry_policy", policy, RETRY_POLICIES),
    ));
}

/// Every per-agent check.
fn agent(wf: &Workflow, node: &Node, a: &AgentConfig, out: &mut Vec<Diagnostic>) {
    let id = &node.id;
    let span = node.span;
    let warn = |code: Code, message: String| Diagnostic::warning(code, message).with_span(span);

    // DIP110
    if *id != wf.start && *id != wf.exit && !has_prompt(a) {
        out.push(
            warn(
                EMPTY_PROMPT,
                format!("agent node {id:?} has an empty prompt"),
            )
            .with_help("an agent without a prompt has nothing to send to the model")
            .with_fix("add prompt: <instructions for the model>"),
        );
    }

    model(wf, node, a, out);

    // DIP114
    fidelity(node, &a.fidelity, None, out);

    // DIP116
    let t = a.compaction_threshold;
    if t != 0.0 && !(0.0..=1.0).contains(&t) {
        out.push(
            warn(
                COMPACTION_RESUME,
                format!(
                    "node {id:?} has compaction_threshold {t:.2} outside valid range [0.0, 1.0]"
                ),
            )
            .with_help(
                "the threshold is the fraction of the context window that triggers compaction",
            )
            .with_fix("use a value between 0.0 and 1.0, e.g. compaction_threshold: 0.8"),
        );
    }

    // DIP119
    let effort = &a.reasoning_effort;
    if !effort.is_empty() && !REASONING_EFFORTS.contains(&effort.as_str()) {
        let diag = warn(
            REASONING_EFFORT,
            format!("node {id:?} has reasoning_effort {effort:?} which is not a recognized level"),
        )
        .with_help(format!("valid levels: {}", REASONING_EFFORTS.join(", ")));
        out.push(maybe_fix(
            diag,
            closest_fix("reasoning_effort", effort, REASONING_EFFORTS),
        ));
    }

    response(node, a, out);

    // DIP133 (hint)
    for key in a.params.keys() {
        if kind_fields(NodeKind::Agent).contains(&key.as_str()) {
            out.push(
                Diagnostic::new(
                    PARAMS_SHADOW,
                    Severity::Hint,
                    format!(
                        "node {id:?} params key {key:?} shadows a typed field; use the typed field instead"
                    ),
                )
                .with_span(span)
                .with_help("typed fields are validated and understood by tooling; params are passed through verbatim")
                .with_fix(format!("move {key}: out of params and onto the agent")),
            );
        }
    }

    // DIP139, DIP140
    tool_access(node, &a.tool_access, None, out);
    if !a.tool_access.trim().is_empty() {
        for key in a.params.keys() {
            if TOOL_REENABLING_PARAMS.contains(&key.as_str()) {
                out.push(
                    warn(
                        PARAMS_REENABLE_TOOLS,
                        format!(
                            "node {id:?} params key {key:?} re-enables tools that tool_access strips; the runtime ignores it"
                        ),
                    )
                    .with_help("tool_access governs the tool catalog; to grant tools, omit tool_access instead")
                    .with_fix(format!("remove {key} from params")),
                );
            }
        }
    }

    // DIP141, DIP142
    writable_paths(node, &a.writable_paths, &a.tool_access, None, out);

    // DIP148
    if a.last_response_truncate < 0 {
        out.push(
            warn(
                NEGATIVE_TRUNCATE,
                format!(
                    "agent {id:?} last_response_truncate is {}; cannot be negative",
                    a.last_response_truncate
                ),
            )
            .with_help("0 (or omitting it) means no truncation")
            .with_fix("use a non-negative character count, e.g. last_response_truncate: 4096"),
        );
    }

    // DIP154 (hint)
    let d = &wf.defaults;
    let cascades = [
        (
            "prompt_prefix",
            &a.prompt_prefix,
            !d.prompt_prefix.is_empty() || !d.prompt_prefix_file.is_empty(),
        ),
        (
            "prompt_suffix",
            &a.prompt_suffix,
            !d.prompt_suffix.is_empty() || !d.prompt_suffix_file.is_empty(),
        ),
    ];
    for (field, value, has_cascade) in cascades {
        if value == "none" && !has_cascade {
            out.push(
                Diagnostic::new(
                    NOOP_OPT_OUT,
                    Severity::Hint,
                    format!(
                        "agent {id:?} sets {field}: none but no defaults {field} cascade is declared; the opt-out is a no-op"
                    ),
                )
                .with_span(span)
                .with_fix(format!("remove {field}: none")),
            );
        }
    }
}

/// DIP108, DIP161 and DIP162 for one agent's effective model and provider.
fn model(wf: &Workflow, node: &Node, a: &AgentConfig, out: &mut Vec<Diagnostic>) {
    let own_model = a.model.trim();
    let (model, inherited) = if own_model.is_empty() {
        (wf.defaults.model.trim(), true)
    } else {
        (own_model, false)
    };
    let own_provider = a.provider.trim();
    let provider = if own_provider.is_empty() {
        wf.defaults.provider.trim()
    } else {
        own_provider
    };
    let id = &node.id;
    let span = node.span;
    let from_defaults = |diag: Diagnostic| {
        if inherited {
            diag.with_help("the model is inherited from defaults")
        } else {
            diag
        }
    };

    if catalog::is_passthrough_provider(provider) {
        return; // the gateway decides which ids exist
    }
    if provider.contains("${") {
        return; // expanded at run time
    }
    let known_provider = match provider {
        "" => None,
        name => match Provider::from_name(name) {
            Some(p) => Some(p),
            None => {
                let names = catalog::provider_names();
                let fix = match name {
                    "google" => Some("provider: gemini".to_string()),
                    _ => suggest(name, names.iter().copied()).map(|s| format!("provider: {s}")),
                };
                let diag = Diagnostic::warning(
                    UNKNOWN_MODEL,
                    format!("node {id:?} uses unknown provider {provider:?}"),
                )
                .with_span(span)
                .with_help(format!("known providers: {}", names.join(", ")));
                out.push(maybe_fix(diag, fix));
                return;
            }
        },
    };
    if model.is_empty() || model.contains("${") {
        return; // nothing to check, or expanded at run time (`${params.model}`)
    }

    let mismatch = |info: &ModelInfo, p: Provider| {
        Diagnostic::warning(
            UNKNOWN_MODEL,
            format!(
                "node {id:?} uses model {model:?} with provider {:?}, but the catalog lists it under {:?}",
                p.as_str(),
                info.provider.as_str()
            ),
        )
        .with_span(span)
        .with_fix(format!("provider: {}", info.provider))
    };

    if catalog::is_alias(model) {
        // Without a provider prefix, the alias names a family of the node's provider.
        let qualified = match known_provider {
            Some(p) if !model.contains('/') => format!("{p}/{model}"),
            _ => model.to_string(),
        };
        match catalog::resolve_alias(&qualified) {
            None => out.push(from_defaults(
                Diagnostic::warning(
                    UNRESOLVED_ALIAS,
                    format!("node {id:?} model alias {model:?} resolves to no eligible model"),
                )
                .with_span(span)
                .with_help(
                    "aliases are [provider/]family@latest|stable|sota; the family may be unknown, or all its members deprecated (or previews, for @stable)",
                ),
            )),
            Some(info) => {
                if let Some(p) = known_provider.filter(|p| *p != info.provider) {
                    out.push(from_defaults(mismatch(info, p)));
                }
            }
        }
        return;
    }

    match catalog::lookup(model) {
        None => {
            let ids: Vec<&str> = match known_provider {
                Some(p) => catalog::provider_models(p).map(|m| m.id).collect(),
                None => catalog::models().iter().map(|m| m.id).collect(),
            };
            let message = match known_provider {
                Some(p) => format!(
                    "node {id:?} uses unknown model {model:?} for provider {:?}",
                    p.as_str()
                ),
                None => format!("node {id:?} uses unknown model {model:?}"),
            };
            let help = match known_provider {
                Some(p) => format!("known models for {p}: {}", ids.join(", ")),
                None => "no catalogued provider serves this model; set a provider, or use openai-compat for a custom gateway".to_string(),
            };
            let fix = suggest(&catalog::normalize(model), ids.iter().copied())
                .map(|s| format!("model: {s}"));
            let diag = Diagnostic::warning(UNKNOWN_MODEL, message)
                .with_span(span)
                .with_help(help);
            out.push(from_defaults(maybe_fix(diag, fix)));
        }
        Some(info) => {
            if let Some(p) = known_provider.filter(|p| *p != info.provider) {
                out.push(from_defaults(mismatch(info, p)));
            } else if info.deprecated {
                let replacement =
                    catalog::resolve_alias(&format!("{}/{}@stable", info.provider, info.family));
                let diag = Diagnostic::warning(
                    DEPRECATED_MODEL,
                    format!(
                        "node {id:?} uses model {model:?} (provider {:?}), which is deprecated and retired on the first-party API; pin a current model",
                        info.provider.as_str()
                    ),
                )
                .with_span(span);
                let fix = replacement.map(|m| format!("model: {}", m.id));
                out.push(from_defaults(maybe_fix(diag, fix)));
            }
        }
    }
}

/// DIP114 on an agent's or a branch's fidelity.
fn fidelity(node: &Node, value: &str, branch: Option<&str>, out: &mut Vec<Diagnostic>) {
    if value.is_empty() || FIDELITIES.contains(&value) {
        return;
    }
    let message = match branch {
        Some(b) => format!(
            "node {:?} branch {b:?} has fidelity {value:?} which is not a recognized level",
            node.id
        ),
        None => format!(
            "node {:?} has fidelity {value:?} which is not a recognized level",
            node.id
        ),
    };
    let diag = Diagnostic::warning(FIDELITY, message)
        .with_span(node.span)
        .with_help(format!("valid levels: {}", FIDELITIES.join(", ")));
    out.push(maybe_fix(diag, closest_fix("fidelity", value, FIDELITIES)));
}

/// DIP130, DIP131 and DIP132.
fn response(node: &Node, a: &AgentConfig, out: &mut Vec<Diagnostic>) {
    let id = &node.id;
    let format = a.response_format.as_str();
    let schema = a.response_schema.trim();
    if !format.is_empty() && !RESPONSE_FORMATS.contains(&format) {
        let diag = Diagnostic::warning(
            RESPONSE_FORMAT,
            format!("node {id:?} has response_format {format:?} which is not recognized"),
        )
        .with_span(node.span)
        .with_help("valid values: json_object, json_schema");
        out.push(maybe_fix(
            diag,
            closest_fix("response_format", format, RESPONSE_FORMATS),
        ));
    }
    if !schema.is_empty() && format != "json_schema" {
        let described = if format.is_empty() {
            "not set".to_string()
        } else {
            format!("{format:?}")
        };
        out.push(
            Diagnostic::warning(
                SCHEMA_FORMAT_MISMATCH,
                format!(
                    "node {id:?} has response_schema but response_format is {described} (the schema will be ignored)"
                ),
            )
            .with_span(node.span)
            .with_fix("set response_format: json_schema, or remove response_schema"),
        );
    }
    if schema.is_empty() && format == "json_schema" {
        out.push(
            Diagnostic::new(
                SCHEMA_FORMAT_MISMATCH,
                Severity::Hint,
                format!(
                    "node {id:?} has response_format json_schema but no response_schema provided"
                ),
            )
            .with_span(node.span)
            .with_help("add a response_schema block, or use json_object if no schema is needed"),
        );
    }
    if !schema.is_empty() {
        if let Err(err) = serde_json::from_str::<serde_json::Value>(schema) {
            out.push(
                Diagnostic::warning(
                    SCHEMA_JSON,
                    format!("node {id:?} has response_schema that is not valid JSON"),
                )
                .with_span(node.span)
                .with_help(format!("JSON error: {err}")),
            );
        }
    }
}

/// DIP139 on an agent's or a branch's `tool_access`.
fn tool_access(node: &Node, value: &str, branch: Option<&str>, out: &mut Vec<Diagnostic>) {
    let canonical = value.trim().to_ascii_lowercase();
    if canonical.is_empty() || canonical == "none" {
        return;
    }
    let (message, help) = match branch {
        Some(b) => (
            format!(
                "node {:?} branch {b:?} has tool_access {value:?} which is not recognized",
                node.id
            ),
            "the only value is none (omit the field to inherit the target agent's tool_access); invalid values fall back to no tools at run time",
        ),
        None => (
            format!(
                "node {:?} has tool_access {value:?} which is not recognized",
                node.id
            ),
            "the only value is none (omit the field for the full tool catalog); invalid values fall back to no tools at run time",
        ),
    };
    out.push(
        Diagnostic::warning(TOOL_ACCESS, message)
            .with_span(node.span)
            .with_help(help)
            .with_fix("use tool_access: none, or remove the field"),
    );
}

/// DIP141 and DIP142 on an agent's or a branch's `writable_paths`.
fn writable_paths(
    node: &Node,
    paths: &[String],
    tool_access: &str,
    branch: Option<&str>,
    out: &mut Vec<Diagnostic>,
) {
    if paths.is_empty() {
        return;
    }
    let subject = match branch {
        Some(b) => format!("node {:?} branch {b:?}", node.id),
        None => format!("node {:?}", node.id),
    };
    if tool_access.trim().eq_ignore_ascii_case("none") {
        out.push(
            Diagnostic::warning(
                WRITABLE_PATHS_DEAD,
                format!(
                    "{subject} has writable_paths but tool_access \"none\"; with no tools there is nothing to bound (dead config)"
                ),
            )
            .with_span(node.span)
            .with_fix("remove writable_paths, or drop tool_access: none"),
        );
    }
    for entry in paths {
        let reason = match unsafe_entry(entry) {
            Some(UnsafeEntry::Escapes) => {
                "escapes the workspace (absolute, ~ or parent path); the write jail will not honor it"
            }
            Some(UnsafeEntry::Brace) => {
                "is malformed (brace expansion is split on commas); list the entries instead"
            }
            None => continue,
        };
        out.push(
            Diagnostic::warning(
                WRITABLE_PATHS_UNSAFE,
                format!("{subject} writable_paths entry {entry:?} {reason}"),
            )
            .with_span(node.span)
            .with_help("use workspace-relative globs such as .ai/sprints/**"),
        );
    }
}

/// Why a `writable_paths` entry will not bound writes as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum UnsafeEntry {
    /// Absolute, home-relative, drive-lettered or climbing out with `..`.
    Escapes,
    /// A `{a,b}` glob cut in pieces by the comma list.
    Brace,
}

fn unsafe_entry(entry: &str) -> Option<UnsafeEntry> {
    let e = entry.trim();
    if e.is_empty() {
        return None;
    }
    let bytes = e.as_bytes();
    let drive = bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic();
    if e.starts_with(['/', '~', '\\']) || drive || escapes_parent(e) {
        return Some(UnsafeEntry::Escapes);
    }
    if e.matches('{').count() != e.matches('}').count() {
        return Some(UnsafeEntry::Brace);
    }
    None
}

/// Whether a relative path, once cleaned, still climbs above its base.
fn escapes_parent(path: &str) -> bool {
    let mut depth: usize = 0;
    for segment in path.split(['/', '\\']) {
        match segment {
            "" | "." => {}
            ".." => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return true,
            },
            _ => depth += 1,
        }
    }
    false
}

/// DIP127, DIP128 and DIP129.
fn human(node: &Node, h: &HumanConfig, labeled: &HashMap<&str, usize>, out: &mut Vec<Diagnostic>) {
    let id = &node.id;
    if !h.mode.is_empty() && !HUMAN_MODES.contains(&h.mode.as_str()) {
        let diag = Diagnostic::warning(
            HUMAN_MODE,
            format!(
                "node {id:?} has mode {:?} which is not a recognized human mode",
                h.mode
            ),
        )
        .with_span(node.span)
        .with_help(format!("valid modes: {}", HUMAN_MODES.join(", ")));
        out.push(maybe_fix(diag, closest_fix("mode", &h.mode, HUMAN_MODES)));
    }
    if h.mode != "interview" {
        return;
    }
    if !h.default.is_empty() {
        out.push(
            Diagnostic::warning(
                INTERVIEW_DEFAULT,
                format!(
                    "node {id:?} is mode interview but has default {:?} which is ignored",
                    h.default
                ),
            )
            .with_span(node.span)
            .with_help("default only means something for choice gates")
            .with_fix("remove default"),
        );
    }
    let count = labeled.get(id.as_str()).copied().unwrap_or(0);
    if count >= 2 {
        out.push(
            Diagnostic::warning(
                INTERVIEW_LABELS,
                format!(
                    "node {id:?} is mode interview but has {count} labeled edges (interview does not route by label)"
                ),
            )
            .with_span(node.span)
            .with_help("interview mode collects answers, not choices")
            .with_fix("use mode: choice for label-based routing"),
        );
    }
}

/// DIP114, DIP139, DIP141, DIP142 and DIP148 on one `parallel` branch override.
fn parallel_branch(node: &Node, b: &Branch, out: &mut Vec<Diagnostic>) {
    let target = Some(b.target.as_str());
    fidelity(node, &b.fidelity, target, out);
    tool_access(node, &b.tool_access, target, out);
    writable_paths(node, &b.writable_paths, &b.tool_access, target, out);
    if b.last_response_truncate < 0 {
        out.push(
            Diagnostic::warning(
                NEGATIVE_TRUNCATE,
                format!(
                    "parallel {:?} branch -> {:?} last_response_truncate is {}; cannot be negative",
                    node.id, b.target, b.last_response_truncate
                ),
            )
            .with_span(node.span)
            .with_help("0 (or omitting it) means no truncation")
            .with_fix("use a non-negative character count, e.g. last_response_truncate: 4096"),
        );
    }
}

/// DIP135 (missing `subgraph_ref`), DIP136 and DIP137.
fn manager_loop(node: &Node, m: &ManagerLoopConfig, out: &mut Vec<Diagnostic>) {
    let id = &node.id;
    if m.subgraph_ref.trim().is_empty() {
        out.push(
            Diagnostic::warning(
                MANAGER_REF,
                format!("manager_loop {id:?} has no subgraph_ref"),
            )
            .with_span(node.span)
            .with_fix("add subgraph_ref: <path of the child .dip file>"),
        );
    }
    if m.poll_interval.is_negative() {
        out.push(
            Diagnostic::warning(
                MANAGER_CONTROL,
                format!(
                    "manager_loop {id:?} poll_interval is negative ({})",
                    m.poll_interval
                ),
            )
            .with_span(node.span)
            .with_help("0 means event-driven")
            .with_fix("use a non-negative duration, e.g. poll_interval: 30s"),
        );
    }
    if m.max_cycles < 0 {
        out.push(
            Diagnostic::warning(
                MANAGER_CONTROL,
                format!(
                    "manager_loop {id:?} max_cycles is negative ({})",
                    m.max_cycles
                ),
            )
            .with_span(node.span)
            .with_help("0 means unbounded")
            .with_fix("use a positive cycle count, e.g. max_cycles: 10"),
        );
    }
    let has_stop = m
        .stop_condition
        .as_ref()
        .is_some_and(|c| !c.raw.trim().is_empty());
    if !has_stop && m.max_cycles == 0 {
        out.push(
            Diagnostic::warning(
                MANAGER_UNBOUNDED,
                format!("manager_loop {id:?} is unbounded: no stop_condition and no max_cycles"),
            )
            .with_span(node.span)
            .with_help("supervision would run until the child finishes on its own")
            .with_fix("add stop_condition: stack.child.outcome = success, or max_cycles: 10"),
        );
    }
}

/// Whether `a` deliberately strips tools (`tool_access: none`).
fn is_restricted(a: &AgentConfig) -> bool {
    a.tool_access.trim().eq_ignore_ascii_case("none")
}

/// Whether `a` keeps the full tool catalog (no `tool_access`).
fn is_tool_bearing(a: &AgentConfig) -> bool {
    a.tool_access.trim().is_empty()
}

/// DIP147 (hint): a `tool_access: none` agent writes a key that a downstream
/// tool-bearing agent reads. "Downstream" follows non-restart explicit edges and
/// the implicit fan edges. Only restricted agents whose writes some tool-bearing
/// agent reads are walked from, one BFS each.
fn chain_attack(graph: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    let wf = graph.wf;
    let privileged_reads: HashSet<&str> = wf
        .nodes
        .iter()
        .filter(|n| n.agent().is_some_and(is_tool_bearing))
        .flat_map(|n| n.io.reads.iter().map(String::as_str))
        .collect();
    if privileged_reads.is_empty() {
        return;
    }
    // Only first declarations: a duplicate declaration has no edges of its own.
    let sources: Vec<(usize, &Node)> = graph
        .first_declarations()
        .filter(|(_, n)| {
            n.agent().is_some_and(is_restricted)
                && n.io
                    .writes
                    .iter()
                    .any(|k| privileged_reads.contains(k.as_str()))
        })
        .collect();
    if sources.is_empty() {
        return;
    }

    // (sink, source, key), reported in node order.
    let mut found: Vec<(usize, usize, &str)> = Vec::new();
    for &(source, node) in &sources {
        let writes = &node.io.writes;
        let reached = graph.reach([source], |_, link| {
            !link.is_restart() && graph.node_at(link.to).is_some()
        });
        for (at, sink) in graph.first_declarations() {
            if at == source || !reached[at] || !sink.agent().is_some_and(is_tool_bearing) {
                continue;
            }
            if let Some(key) = writes.iter().find(|k| sink.io.reads.contains(k)) {
                found.push((at, source, key));
            }
        }
    }
    found.sort_unstable();
    for (sink, source, key) in found {
        let sink = graph.node_at(sink).expect("a declared sink");
        let source = graph.node_at(source).expect("a declared source");
        out.push(
            Diagnostic::new(
                CHAIN_ATTACK,
                Severity::Hint,
                format!(
                    "restricted agent {:?} (tool_access: none) writes context key {key:?} that tool-bearing agent {:?} reads; its output reaches a privileged prompt",
                    source.id, sink.id
                ),
            )
            .with_span(sink.span)
            .with_help(
                "tool_access bounds tools, not information flow: audit whether the restricted agent's input is trusted, or put a validating step between them",
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(d.iter().any(
            |d| d.message == "workflow default fidelity \"summary\" is not a recognized level"
        ));
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
        let out =
            with_agent("    prompt: hi\n    response_schema:\n      {\"type\": \"object\"}\n");
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

    #[test]
    fn unsafe_entry_classification() {
        assert_eq!(unsafe_entry("src/**"), None);
        assert_eq!(unsafe_entry("a/../b"), None);
        assert_eq!(unsafe_entry("..foo/x"), None);
        assert_eq!(unsafe_entry("a/../.."), Some(UnsafeEntry::Escapes));
        assert_eq!(unsafe_entry("..\\secrets\\**"), Some(UnsafeEntry::Escapes));
        assert_eq!(unsafe_entry("\\\\share"), Some(UnsafeEntry::Escapes));
        assert_eq!(unsafe_entry("{a,b}"), None);
        assert_eq!(unsafe_entry("x}"), Some(UnsafeEntry::Brace));
    }
}
