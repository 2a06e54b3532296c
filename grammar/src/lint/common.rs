//! Vocabulary the lint themes share: variable namespaces, `${…}` references, the shape
//! of a guard, and how a fix naming the closest allowed value is attached.

use crate::condition::{CmpOp, Compare, Expr};
use crate::diagnostic::Diagnostic;
use crate::ir::{Edge, Workflow};
use crate::lower::values::suggest;
use crate::source::Span;

/// Namespaces a `${ref}` or condition variable may start with. `inputs` is checked
/// separately (DIP156) against the declared inputs.
pub(super) const KNOWN_NAMESPACES: &[&str] = &["ctx", "graph", "params", "stack", "inputs"];

/// Whether `var` starts with a known namespace (`ctx.`, `graph.`, …).
pub(super) fn has_known_namespace(var: &str) -> bool {
    var.split_once('.')
        .is_some_and(|(ns, _)| KNOWN_NAMESPACES.contains(&ns))
}

/// The bodies of `${…}` references in `text`, like the reference's `\$\{([^}]+)\}`.
pub(super) fn var_refs(text: &str) -> Vec<&str> {
    let mut refs = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(0) => rest = &after[1..],
            Some(end) => {
                refs.push(&after[..end]);
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    refs
}

/// The comparison of an edge whose whole guard is one `var = value` test.
pub(super) fn simple_equality(edge: &Edge) -> Option<&Compare> {
    match edge.condition.as_ref().map(|c| &c.parsed) {
        Some(Ok(Expr::Compare(c))) if c.op == CmpOp::Eq => Some(c),
        _ => None,
    }
}

/// The parsed guard of an edge, if it has one that parsed.
pub(super) fn parsed(edge: &Edge) -> Option<&Expr> {
    edge.condition.as_ref().and_then(|c| c.parsed.as_ref().ok())
}

/// Whether `var` is the node outcome, namespaced or bare.
pub(super) fn is_outcome_var(var: &str) -> bool {
    var == "ctx.outcome" || var == "outcome"
}

/// Where defaults findings point: the `defaults` line, else the `workflow` line.
pub(super) fn defaults_span(wf: &Workflow) -> Span {
    wf.defaults.span.unwrap_or(wf.span)
}

/// A `key: value` fix naming the closest allowed value, if one is close.
pub(super) fn closest_fix(key: &str, value: &str, allowed: &[&'static str]) -> Option<String> {
    suggest(value, allowed.iter().copied()).map(|s| format!("{key}: {s}"))
}

/// Attaches `fix` when there is one.
pub(super) fn maybe_fix(diag: Diagnostic, fix: Option<String>) -> Diagnostic {
    match fix {
        Some(fix) => diag.with_fix(fix),
        None => diag,
    }
}
