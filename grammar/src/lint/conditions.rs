//! Edge conditions: the variables a guard tests and the values it compares with.
//!
//! * `DIP120` — a condition variable with no namespace prefix;
//! * `DIP121` — a condition on a context key its source does not declare in `writes`;
//! * `DIP122` — a condition on a tool's output testing a value not in its `outputs`.

use super::common::{has_known_namespace, parsed};
use crate::condition::CmpOp;
use crate::diagnostic::{Code, Diagnostic};
use crate::graph::Graph;
use crate::ir::Workflow;

/// Context keys the runtime writes itself, so conditions may test them without a
/// `writes:` declaration (DIP121). Keys under `internal.` are reserved too.
const RESERVED_KEYS: &[&str] = &[
    "outcome",
    "last_response",
    "human_response",
    "tool_stdout",
    "tool_stderr",
    "tool_marker",
    "tool_route",
    "preferred_label",
    "interview_answers",
];

/// Appends the condition findings for the indexed workflow to `out`.
pub(super) fn lint(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    condition_namespaces(g.wf, out);
    condition_undeclared_writes(g, out);
    condition_undeclared_outputs(g, out);
}

/// DIP120: condition variables without a known namespace prefix.
fn condition_namespaces(wf: &Workflow, out: &mut Vec<Diagnostic>) {
    for edge in &wf.edges {
        let Some(expr) = parsed(edge) else {
            continue;
        };
        let mut reported: Vec<&str> = Vec::new();
        for (c, _) in expr.leaves() {
            let var = c.variable.as_str();
            if has_known_namespace(var) || reported.contains(&var) {
                continue;
            }
            reported.push(var);
            out.push(
                Diagnostic::warning(
                    Code(120),
                    format!(
                        "edge {:?} -> {:?}: condition variable {var:?} has no namespace prefix",
                        edge.from, edge.to
                    ),
                )
                .with_span(edge.span)
                .with_fix(format!("write ctx.{var}")),
            );
        }
    }
}

/// The context key a condition variable names, if it names one (`ctx.x` or bare `x`);
/// other namespaces (`graph.`, `params.`, …) are not context keys.
fn context_key(var: &str) -> Option<&str> {
    if let Some(key) = var.strip_prefix("ctx.") {
        return Some(key);
    }
    if has_known_namespace(var) {
        return None;
    }
    Some(var)
}

/// Whether the runtime writes `key` itself.
fn is_reserved_key(key: &str) -> bool {
    RESERVED_KEYS.contains(&key) || key.starts_with("internal.")
}

/// DIP121: a condition tests a context key its source node does not declare in
/// `writes`. Only sources that declare some `writes` are checked, as in the reference:
/// a node with none makes no claim about its outputs.
fn condition_undeclared_writes(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    for ((from, _), edge) in g.edges() {
        let Some(expr) = parsed(edge) else {
            continue;
        };
        let Some(source) = g.node_at(from) else {
            continue;
        };
        if source.io.writes.is_empty() {
            continue;
        }
        let mut reported: Vec<&str> = Vec::new();
        for (c, _) in expr.leaves() {
            let Some(key) = context_key(&c.variable) else {
                continue;
            };
            if is_reserved_key(key)
                || source.io.writes.iter().any(|w| w == key)
                || reported.contains(&key)
            {
                continue;
            }
            reported.push(key);
            out.push(
                Diagnostic::warning(
                    Code(121),
                    format!(
                        "edge {:?} -> {:?}: condition references {:?} but node {:?} does not declare it in writes",
                        edge.from, edge.to, c.variable, edge.from
                    ),
                )
                .with_span(edge.span)
                .with_fix(format!("add {key} to the writes of node {:?}", edge.from)),
            );
        }
    }
}

/// DIP122: a condition on a tool's stdout or marker tests a value the tool does not
/// list in `outputs`. Comparisons on other variables are not about the tool's output.
fn condition_undeclared_outputs(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    for ((from, _), edge) in g.edges() {
        let Some(expr) = parsed(edge) else {
            continue;
        };
        let Some(tool) = g.node_at(from).and_then(|n| n.tool()) else {
            continue;
        };
        if tool.outputs.is_empty() {
            continue;
        }
        for (c, _) in expr.leaves() {
            let on_output = matches!(
                c.variable.as_str(),
                "ctx.tool_stdout" | "tool_stdout" | "ctx.tool_marker" | "tool_marker"
            );
            if !on_output {
                continue;
            }
            let values: Vec<&str> = if c.op == CmpOp::In {
                c.value
                    .split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .collect()
            } else {
                vec![c.value.as_str()]
            };
            for value in values {
                if tool.outputs.iter().any(|o| o == value) {
                    continue;
                }
                out.push(
                    Diagnostic::warning(
                        Code(122),
                        format!(
                            "edge {:?} -> {:?}: condition tests value {value:?} but tool {:?} does not declare it in outputs",
                            edge.from, edge.to, edge.from
                        ),
                    )
                    .with_span(edge.span)
                    .with_help(format!("declared outputs: {}", tool.outputs.join(", ")))
                    .with_fix(format!(
                        "add {value} to the outputs of tool {:?}, or correct the value",
                        edge.from
                    )),
                );
            }
        }
    }
}
