//! Routing completeness: whether every node's outgoing edges decide where the run goes.
//!
//! * `DIP101` — a node reached only through guards of a source that is not safe;
//! * `DIP102` — guarded outgoing edges with no default;
//! * `DIP103` — two guards from one node testing the same comparison;
//! * `DIP105` — no forward path from start to exit (restart edges excluded);
//! * `DIP149` — two unconditional edges, decided only by the tiebreak;
//! * `DIP152` — a tool marker that no edge routes.
//!
//! An *exhaustive* source's explicit outgoing edges cover `{success, fail|failure}` on
//! the outcome, or are ≥2 conditional edges that are all simple equalities on one
//! variable, or contain a complementary pair `X op V` / `not X op V`. A *safe* source
//! is exhaustive, has an unconditional edge, is a tool with `marker_grep`, or the
//! workflow has an `else` target (language reference §9).

use std::collections::HashSet;

use super::common::{parsed, simple_equality};
use crate::condition::{Compare, Expr};
use crate::diagnostic::{Code, Diagnostic};
use crate::graph::{Graph, Link};
use crate::ir::{Edge, NodeKind, Workflow};

/// Regex metacharacters that make a `marker_grep` branch non-literal (DIP152).
const MARKER_METACHARS: &[char] = &[
    '.', '*', '+', '?', '[', ']', '{', '}', '(', ')', '|', '\\', '^', '$',
];

/// Appends the routing findings for the indexed workflow to `out`.
pub(super) fn lint(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    let exhaustive: Vec<bool> = g.out_explicit.iter().map(edges_are_exhaustive).collect();
    conditional_reachability(g, &exhaustive, out);
    missing_default_edge(g, &exhaustive, out);
    overlapping_conditions(g, out);
    success_path(g, out);
    ambiguous_unconditional_edges(g, out);
    uncovered_markers(g, out);
}

/// Whether index `i` is a tool whose `marker_grep` gives it typed routing.
fn is_marker_tool(g: &Graph<'_>, i: usize) -> bool {
    g.node_at(i)
        .and_then(|n| n.tool())
        .is_some_and(|t| !t.marker_grep.is_empty())
}

/// A "safe source": its conditional edges cannot strand the run, because it is
/// exhaustive, has an unconditional edge, routes on tool markers, or the
/// workflow's `else` catches unmatched guards.
fn source_is_safe(g: &Graph<'_>, exhaustive: &[bool], i: usize) -> bool {
    g.else_target().is_some()
        || exhaustive[i]
        || g.out_explicit[i].iter().any(|e| e.is_unconditional())
        || is_marker_tool(g, i)
}

/// Whether a source's explicit outgoing edges are exhaustive: they cover the known
/// outcome sets, partition one variable by equality, or hold a complementary pair.
/// Scans the edges a few times rather than building maps, since most nodes have only a
/// handful of edges.
fn edges_are_exhaustive(edges: &[&Edge]) -> bool {
    let conditional = edges.iter().filter(|e| e.condition.is_some()).count();
    if conditional == 0 {
        return false;
    }
    let equalities = || edges.iter().filter_map(|e| simple_equality(e));
    let covers_outcome = ["ctx.outcome", "outcome"].iter().any(|var| {
        let tests = |values: &[&str]| {
            equalities().any(|c| c.variable == *var && values.contains(&c.value.as_str()))
        };
        tests(&["success"]) && tests(&["fail", "failure"])
    });
    if covers_outcome {
        return true;
    }
    if conditional >= 2 {
        let mut vars = equalities().map(|c| c.variable.as_str());
        if let Some(first) = vars.next() {
            let count = 1 + vars.clone().count();
            if count == conditional && vars.all(|v| v == first) {
                return true;
            }
        }
    }
    let negatives: Vec<&Compare> = edges
        .iter()
        .filter_map(|e| match parsed(e) {
            Some(Expr::Not(inner)) => match inner.as_ref() {
                Expr::Compare(c) => Some(c),
                _ => None,
            },
            _ => None,
        })
        .collect();
    if negatives.is_empty() {
        return false;
    }
    let positives = edges.iter().filter_map(|e| match parsed(e) {
        Some(Expr::Compare(c)) => Some(c),
        _ => None,
    });
    if negatives.len() <= 8 {
        positives.into_iter().any(|p| negatives.contains(&p))
    } else {
        let negatives: HashSet<&Compare> = negatives.into_iter().collect();
        positives.into_iter().any(|p| negatives.contains(p))
    }
}

/// Renders a leaf comparison with its negation for messages.
fn describe_leaf(c: &Compare, negated: bool) -> String {
    if negated {
        format!("not {c}")
    } else {
        c.to_string()
    }
}

/// DIP101: a non-start node reached only through conditional edges from some source
/// that is not safe may never run.
fn conditional_reachability(g: &Graph<'_>, exhaustive: &[bool], out: &mut Vec<Diagnostic>) {
    for (i, node) in g.nodes() {
        if node.id == g.wf.start {
            continue;
        }
        let incoming = &g.in_explicit[i];
        if incoming.is_empty() || incoming.iter().any(|(_, e)| e.is_unconditional()) {
            continue;
        }
        let Some((_, unsafe_edge)) = incoming
            .iter()
            .find(|(from, _)| !source_is_safe(g, exhaustive, *from))
        else {
            continue;
        };
        out.push(
            Diagnostic::warning(
                Code(101),
                format!(
                    "node {:?} is only reachable through conditional edges and may be skipped at runtime",
                    node.id
                ),
            )
            .with_span(node.span)
            .with_help(format!(
                "source {:?} has no unconditional edge, its conditions are not exhaustive and there is no `else` default; add an unconditional edge into {:?} or cover every case",
                unsafe_edge.from, node.id
            )),
        );
    }
}

/// DIP102: a node whose outgoing edges are all guarded, with nothing catching the case
/// where no guard matches.
fn missing_default_edge(g: &Graph<'_>, exhaustive: &[bool], out: &mut Vec<Diagnostic>) {
    if g.else_target().is_some() {
        return;
    }
    for (i, node) in g.nodes() {
        let links = &g.out_all[i];
        let guarded_only =
            links.iter().any(Link::is_conditional) && links.iter().all(Link::is_conditional);
        if !guarded_only || exhaustive[i] || is_marker_tool(g, i) {
            continue;
        }
        out.push(
            Diagnostic::warning(
                Code(102),
                format!(
                    "node {:?} has conditional outgoing edges but no unconditional default edge",
                    node.id
                ),
            )
            .with_span(node.span)
            .with_help("if no condition matches, the run stops at this node")
            .with_fix(format!(
                "add an unconditional fallback edge `{} -> <node>`, or a section default `else -> <node>`",
                node.id
            )),
        );
    }
}

/// DIP103: two guarded edges from one node test the same leaf comparison. Each later
/// edge is reported against the first edge that tested the same leaf.
fn overlapping_conditions(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    /// (variable, operator, value, negated)
    type LeafKey<'e> = (&'e str, &'static str, &'e str, bool);
    for edges in g.out_explicit.iter() {
        if edges.iter().filter(|e| e.condition.is_some()).count() < 2 {
            continue;
        }
        // Every distinct leaf of every edge, tagged with the edge's position.
        let mut leaves: Vec<(LeafKey<'_>, usize, &Compare)> = Vec::new();
        for (at, edge) in edges.iter().enumerate() {
            let Some(expr) = parsed(edge) else {
                continue;
            };
            let first = leaves.len();
            for (c, negated) in expr.leaves() {
                let key = (
                    c.variable.as_str(),
                    c.op.as_str(),
                    c.value.as_str(),
                    negated,
                );
                if !leaves[first..].iter().any(|(k, _, _)| *k == key) {
                    leaves.push((key, at, c));
                }
            }
        }
        // A stable sort groups equal leaves while keeping edge order inside a group.
        leaves.sort_by(|a, b| a.0.cmp(&b.0));
        for group in leaves.chunk_by(|a, b| a.0 == b.0) {
            let (key, first_at, _) = group[0];
            let earlier = edges[first_at];
            for &(_, at, c) in &group[1..] {
                let edge = edges[at];
                out.push(
                    Diagnostic::warning(
                        Code(103),
                        format!(
                            "node {:?} has overlapping conditions: edges to {:?} and {:?} both check {}",
                            edge.from,
                            earlier.to,
                            edge.to,
                            describe_leaf(c, key.3)
                        ),
                    )
                    .with_span(edge.span)
                    .with_help(
                        "the first matching edge wins; make the conditions distinguish the cases",
                    ),
                );
            }
        }
    }
}

/// DIP105: the exit cannot be reached from the start without restart edges. A section
/// `else` target counts as reachable from any reached node whose edges are all guarded.
fn success_path(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    let wf = g.wf;
    let (Some(start), Some(exit)) = (g.declared_at(&wf.start), g.declared_at(&wf.exit)) else {
        return;
    };
    let else_target = g.else_target();
    let visited = g.reach_also(
        [start],
        |_, link| !link.is_restart(),
        |n| {
            let links = &g.out_all[n];
            let guarded_only =
                links.iter().any(Link::is_conditional) && links.iter().all(Link::is_conditional);
            else_target.filter(|_| guarded_only)
        },
    );
    if visited[exit] {
        return;
    }
    out.push(
        Diagnostic::warning(
            Code(105),
            format!(
                "no forward path from start node {:?} to exit node {:?} (excluding restart edges)",
                wf.start, wf.exit
            ),
        )
        .with_opt_span(wf.start_span.or(Some(wf.span)))
        .with_help(
            "the run can only end by failing; make sure some non-restart path reaches the exit",
        ),
    );
}

/// DIP149: two or more unconditional forward edges from a node that chooses one, so
/// only the tiebreak on target ids decides. A `parallel` fires all its edges and a
/// human gate routes on the answer, so they are exempt; a `fan_in` picks one edge
/// like any other node.
fn ambiguous_unconditional_edges(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    for (i, node) in g.nodes() {
        if matches!(node.kind(), NodeKind::Parallel | NodeKind::Human) {
            continue;
        }
        let mut targets = g.out_all[i]
            .iter()
            .filter(|l| !l.is_conditional() && !l.is_restart())
            .map(|l| l.to);
        let (Some(first), Some(second)) = (targets.next(), targets.next()) else {
            continue;
        };
        let count = 2 + targets.count();
        out.push(
            Diagnostic::warning(
                Code(149),
                format!(
                    "node {:?} has {count} unconditional outgoing edges (to {:?} and {:?}); which one fires is decided only by the lexical tiebreak",
                    node.id,
                    g.name(first),
                    g.name(second)
                ),
            )
            .with_span(node.span)
            .with_fix(
                "keep one unconditional edge as the default and guard the others with `when` or `on`",
            ),
        );
    }
}

/// The literal markers of a `marker_grep` that is a finite literal alternation
/// (`^tok$` or `^(a|b|c)$`, anchors optional); `None` for any other regex.
fn enumerate_markers(pattern: &str) -> Option<Vec<&str>> {
    let body = pattern.strip_prefix('^').unwrap_or(pattern);
    let body = body.strip_suffix('$').unwrap_or(body);
    if body.is_empty() {
        return None;
    }
    let branches: Vec<&str> = match body.strip_prefix('(').and_then(|b| b.strip_suffix(')')) {
        Some(inner) => inner.split('|').collect(),
        None => vec![body],
    };
    let mut markers = Vec::new();
    for branch in branches {
        if branch.is_empty() || branch.contains(MARKER_METACHARS) {
            return None;
        }
        if !markers.contains(&branch) {
            markers.push(branch);
        }
    }
    Some(markers)
}

/// DIP152: a tool's enumerable `marker_grep` emits a marker that no edge routes, with
/// no unconditional edge, non-marker guard or `else` to catch it.
fn uncovered_markers(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    for (i, node) in g.nodes() {
        if node.id == g.wf.exit {
            continue;
        }
        let Some(markers) = node.tool().and_then(|t| enumerate_markers(&t.marker_grep)) else {
            continue;
        };
        let channel = Workflow::outcome_channel(node).unwrap_or("ctx.tool_marker");
        let links = &g.out_all[i];
        let mut routed: Vec<&str> = Vec::new();
        let mut covered = g.else_target().is_some();
        for link in links {
            match link.edge {
                // Only an unconditional edge (or `else`) catches every marker; a
                // guard on something else does not.
                None => covered = true,
                Some(edge) if edge.is_unconditional() => covered = true,
                Some(edge) => {
                    if let Some(c) = simple_equality(edge).filter(|c| c.variable == channel) {
                        routed.push(c.value.as_str());
                    }
                }
            }
        }
        if !links.is_empty() && covered {
            continue;
        }
        let mut missing: Vec<&str> = markers
            .into_iter()
            .filter(|m| !routed.contains(m))
            .collect();
        if missing.is_empty() {
            continue;
        }
        missing.sort_unstable();
        let listed: Vec<String> = missing.iter().map(|m| format!("{m:?}")).collect();
        let example = missing[0];
        let guard = if crate::ir::is_outcome_token(example) {
            format!("on {example}")
        } else {
            format!("when ctx.tool_marker = {example:?}")
        };
        out.push(
            Diagnostic::warning(
                Code(152),
                format!(
                    "tool node {:?} emits markers that no edge routes and no else default covers: {}",
                    node.id,
                    listed.join(", ")
                ),
            )
            .with_span(node.span)
            .with_fix(format!(
                "route each marker, e.g. `{} -> <node> {guard}`, or add an unconditional fallback edge or `else -> <node>`",
                node.id
            )),
        );
    }
}
