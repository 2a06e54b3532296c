//! Tool nodes' commands.
//!
//! * `DIP111` — a tool with no timeout;
//! * `DIP124` — `${ctx.…}` spliced into a tool command.
//!
//! The checks that run the command through `bash -n` or look it up on `PATH` are in
//! [`super::environment`].

use super::common::var_refs;
use crate::diagnostic::{Code, Diagnostic};
use crate::graph::Graph;
use crate::ir::Workflow;

/// Tool with no timeout.
pub(crate) const TOOL_TIMEOUT: Code = Code(111);

/// Appends the tool-command findings for the indexed workflow to `out`.
pub(super) fn lint(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    tool_timeouts(g.wf, out);
    tool_command_ctx_refs(g.wf, out);
}

/// DIP111: a tool with no timeout.
fn tool_timeouts(wf: &Workflow, out: &mut Vec<Diagnostic>) {
    for node in &wf.nodes {
        if node.tool().is_some_and(|t| t.timeout.is_zero()) {
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
}

/// DIP124: `${ctx.…}` in a tool command.
fn tool_command_ctx_refs(wf: &Workflow, out: &mut Vec<Diagnostic>) {
    for node in &wf.nodes {
        let Some(tool) = node.tool() else {
            continue;
        };
        for reference in var_refs(&tool.command) {
            if reference.strip_prefix("ctx.").is_none_or(str::is_empty) {
                continue;
            }
            out.push(
                Diagnostic::warning(
                    Code(124),
                    format!(
                        "tool node {:?} command references runtime context ${{{reference}}}",
                        node.id
                    ),
                )
                .with_span(node.span)
                .with_help(
                    "context is not safely expandable into a shell command: an unset key expands to empty and most set keys fail the node; have an earlier step write the value to a file and read it there",
                ),
            );
        }
    }
}
