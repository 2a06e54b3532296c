//! Agent prompts and the parameters beside them.
//!
//! * `DIP106` — a `${…}` reference in a prompt that no namespace or node resolves;
//! * `DIP110` — an agent (other than start or exit) with no prompt;
//! * `DIP133` (hint) — a `params` key shadowing a typed agent field;
//! * `DIP154` (hint) — `prompt_prefix: none` / `prompt_suffix: none` with no defaults
//!   cascade to opt out of.

use super::common::{has_known_namespace, var_refs};
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::graph::Graph;
use crate::ir::{AgentConfig, Node, NodeKind, Workflow};
use crate::lower::{has_prompt, kind_fields};

/// Agent with no prompt.
pub(crate) const EMPTY_PROMPT: Code = Code(110);

/// Agent `params` key shadowing a typed field (hint).
pub(crate) const PARAMS_SHADOW: Code = Code(133);

/// `prompt_prefix: none` / `prompt_suffix: none` with no cascade (hint).
pub(crate) const NOOP_OPT_OUT: Code = Code(154);

/// Appends the prompt findings for the indexed workflow to `out`.
pub(super) fn lint(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    prompt_references(g, out);
    let wf = g.wf;
    for node in &wf.nodes {
        if let Some(a) = node.agent() {
            empty_prompt(wf, node, a, out);
            params_shadowing_fields(node, a, out);
            opt_out_without_cascade(wf, node, a, out);
        }
    }
}

/// DIP106: `${…}` references in agent prompts that no namespace or node resolves.
fn prompt_references(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    for node in &g.wf.nodes {
        let Some(agent) = node.agent() else {
            continue;
        };
        for reference in var_refs(&agent.prompt) {
            let bare = reference.strip_prefix("ctx.").unwrap_or(reference);
            let diag = if let Some(rest) = bare.strip_prefix("node.") {
                match rest.split_once('.') {
                    Some((id, _)) if g.node(id).is_some() => continue,
                    Some((id, _)) if !id.is_empty() => Diagnostic::warning(
                        Code(106),
                        format!(
                            "agent node {:?} references ${{{reference}}} but node {id:?} does not exist",
                            node.id
                        ),
                    )
                    .with_help(
                        "node-scoped references must name a declared node: ${node.<id>.<key>}",
                    ),
                    _ => Diagnostic::warning(
                        Code(106),
                        format!(
                            "agent node {:?} has malformed node reference ${{{reference}}}; expected ${{node.<id>.<key>}}",
                            node.id
                        ),
                    ),
                }
            } else if has_known_namespace(reference) {
                continue;
            } else {
                Diagnostic::warning(
                    Code(106),
                    format!(
                        "agent node {:?} has unrecognized variable reference ${{{reference}}}",
                        node.id
                    ),
                )
                .with_help("known namespaces are ctx, graph, params, stack and inputs")
                .with_fix(format!(
                    "write ${{ctx.{reference}}} (or graph., params., stack.)"
                ))
            };
            out.push(diag.with_span(node.span));
        }
    }
}

/// DIP110: an agent with nothing to send to the model (start and exit may be bare).
fn empty_prompt(wf: &Workflow, node: &Node, a: &AgentConfig, out: &mut Vec<Diagnostic>) {
    let id = &node.id;
    if *id != wf.start && *id != wf.exit && !has_prompt(a) {
        out.push(
            Diagnostic::warning(
                EMPTY_PROMPT,
                format!("agent node {id:?} has an empty prompt"),
            )
            .with_span(node.span)
            .with_help("an agent without a prompt has nothing to send to the model")
            .with_fix("add prompt: <instructions for the model>"),
        );
    }
}

/// DIP133 (hint): a `params` key that is also a typed agent field.
fn params_shadowing_fields(node: &Node, a: &AgentConfig, out: &mut Vec<Diagnostic>) {
    let id = &node.id;
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
                .with_span(node.span)
                .with_help("typed fields are validated and understood by tooling; params are passed through verbatim")
                .with_fix(format!("move {key}: out of params and onto the agent")),
            );
        }
    }
}

/// DIP154 (hint): opting out of a prompt cascade that the defaults do not declare.
fn opt_out_without_cascade(wf: &Workflow, node: &Node, a: &AgentConfig, out: &mut Vec<Diagnostic>) {
    let id = &node.id;
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
                .with_span(node.span)
                .with_fix(format!("remove {field}: none")),
            );
        }
    }
}
