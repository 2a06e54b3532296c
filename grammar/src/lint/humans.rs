//! Human gates.
//!
//! * `DIP127` — an unknown gate mode;
//! * `DIP128` — an interview gate with a `default`, which it ignores;
//! * `DIP129` — an interview gate with several labelled edges, which it does not route by.

use super::common::{closest_fix, maybe_fix};
use crate::diagnostic::{Code, Diagnostic};
use crate::graph::Graph;
use crate::ir::{HumanConfig, Node};

/// Unknown human mode.
pub(crate) const HUMAN_MODE: Code = Code(127);

/// Interview gate with a `default`.
pub(crate) const INTERVIEW_DEFAULT: Code = Code(128);

/// Interview gate with several labeled edges.
pub(crate) const INTERVIEW_LABELS: Code = Code(129);

const HUMAN_MODES: &[&str] = &["choice", "freeform", "interview", "yes_no"];

/// Appends the human-gate findings for the indexed workflow to `out`.
pub(super) fn lint(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    for (i, node) in g.nodes() {
        if let Some(h) = node.human() {
            let labeled = g.out_explicit[i]
                .iter()
                .filter(|e| !e.label.is_empty())
                .count();
            human(node, h, labeled, out);
        }
    }
}

/// DIP127, DIP128 and DIP129.
fn human(node: &Node, h: &HumanConfig, labeled: usize, out: &mut Vec<Diagnostic>) {
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
    let count = labeled;
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
