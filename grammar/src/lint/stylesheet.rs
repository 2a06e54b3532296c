//! The model stylesheet's selectors.
//!
//! * `DIP117` — a `.class` selector no node declares;
//! * `DIP118` — an `#id` selector naming no node.

use std::collections::HashSet;

use super::common::maybe_fix;
use crate::diagnostic::{Code, Diagnostic};
use crate::graph::Graph;
use crate::ir::{Selector, Workflow};
use crate::lower::values::suggest;

/// Stylesheet `.class` used by no node.
pub(crate) const STYLE_CLASS: Code = Code(117);

/// Stylesheet `#id` naming no node.
pub(crate) const STYLE_ID: Code = Code(118);

/// Appends the stylesheet findings for the indexed workflow to `out`.
pub(super) fn lint(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    stylesheet(g.wf, out);
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
