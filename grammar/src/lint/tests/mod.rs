//! Unit tests of the lint themes, grouped as the lints once were.

mod fields;
mod flow;

use crate::diagnostic::Diagnostic;
use crate::graph::Graph;

/// Codes the former `flow.rs` emitted.
const FLOW_CODES: &[u16] = &[
    101, 102, 103, 104, 105, 106, 107, 112, 115, 120, 121, 122, 124, 134, 144, 149, 150, 151, 152,
    153,
];

/// Runs every in-file lint theme and keeps the findings whose codes `keep` accepts.
fn themes(graph: &Graph<'_>, out: &mut Vec<Diagnostic>, keep: impl Fn(u16) -> bool) {
    let mut all = Vec::new();
    super::themes(graph, &mut all);
    out.extend(all.into_iter().filter(|d| keep(d.code.0)));
}

/// The findings of the routing, failure, condition, data-flow and edge themes.
fn flow_lints(graph: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    themes(graph, out, |c| FLOW_CODES.contains(&c));
}

/// The findings of the field-value themes (models, context, access, …).
fn fields_lints(graph: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    themes(graph, out, |c| !FLOW_CODES.contains(&c));
}
