//! Edge attributes that do not do what they seem to.
//!
//! * `DIP150` (hint) — a labelled edge out of a label-routing human gate with no `choice:`;
//! * `DIP151` — `weight:`, which routing ignores;
//! * `DIP153` — an edge that only repeats an inline `parallel` or `fan_in` list.

use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::graph::Graph;
use crate::ir::{NodeConfig, Workflow};

/// Appends the edge-attribute findings for the indexed workflow to `out`.
pub(super) fn lint(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    human_label_without_choice(g, out);
    edge_weights(g.wf, out);
    redundant_fan_edges(g, out);
}

/// DIP150 (hint): a labelled edge out of a label-routing human gate with no `choice:`.
fn human_label_without_choice(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    for ((from, _), edge) in g.edges() {
        if edge.label.is_empty() || !edge.choice.is_empty() {
            continue;
        }
        let routes_by_label = g
            .node_at(from)
            .and_then(|n| n.human())
            .is_some_and(|h| matches!(h.mode.as_str(), "" | "choice" | "yes_no"));
        if !routes_by_label {
            continue;
        }
        out.push(
            Diagnostic::new(
                Code(150),
                Severity::Hint,
                format!(
                    "human gate {:?} routes by label {:?} without a choice: key",
                    edge.from, edge.label
                ),
            )
            .with_span(edge.span)
            .with_help("choice: marks the routing key explicitly; label: stays for display")
            .with_fix(format!("add choice: {:?} to the edge", edge.label)),
        );
    }
}

/// DIP151: `weight:` on an edge, which routing ignores.
fn edge_weights(wf: &Workflow, out: &mut Vec<Diagnostic>) {
    for edge in wf.edges.iter().filter(|e| e.weight != 0) {
        out.push(
            Diagnostic::warning(
                Code(151),
                format!(
                    "edge {:?} -> {:?} sets weight: {}, which routing does not use",
                    edge.from, edge.to, edge.weight
                ),
            )
            .with_span(edge.span)
            .with_help("weight: is carried but never consulted, and is slated for removal")
            .with_fix(format!(
                "remove `weight: {}`; express priority with when/on guards or a single unconditional fallback",
                edge.weight
            )),
        );
    }
}

/// DIP153: an edges-block edge that only repeats an inline `parallel` or `fan_in` list.
fn redundant_fan_edges(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    for ((from, to), edge) in g.edges() {
        let plain = edge.is_unconditional()
            && edge.label.is_empty()
            && edge.choice.is_empty()
            && edge.weight == 0
            && !edge.restart
            && !edge.override_;
        if !plain {
            continue;
        }
        let fork = match g.node_at(from).map(|n| &n.config) {
            Some(NodeConfig::Parallel(p)) if p.targets.contains(&edge.to) => Some("parallel"),
            _ => match g.node_at(to).map(|n| &n.config) {
                Some(NodeConfig::FanIn(f)) if f.sources.contains(&edge.from) => Some("fan_in"),
                _ => None,
            },
        };
        let Some(kind) = fork else {
            continue;
        };
        out.push(
            Diagnostic::warning(
                Code(153),
                format!(
                    "edge {:?} -> {:?} repeats the inline {kind} list; the inline list is authoritative",
                    edge.from, edge.to
                ),
            )
            .with_span(edge.span)
            .with_fix("remove this edge from the edges block (a parse error under `dip 2`)"),
        );
    }
}
