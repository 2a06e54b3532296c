//! Structural validation: the `DIP001`–`DIP010` errors.
//!
//! Every check runs, in the reference's order, and none short-circuits. The graph
//! checks are linear in nodes plus edges: they read the shared [`Graph`] index,
//! reachability is one BFS and cycle detection one iterative DFS.

use std::collections::HashSet;

use crate::diagnostic::{Code, Diagnostic};
use crate::graph::{Graph, Link};
use crate::ir::{NodeConfig, Workflow};
use crate::lower::values::suggest;
use crate::source::Span;

/// Duplicate node id.
pub const DUPLICATE_NODE: Code = Code(8);
/// Missing or unknown start node.
pub const START: Code = Code(1);
/// Missing or unknown exit node.
pub const EXIT: Code = Code(2);
/// Edge endpoint (or `on_failure`) names no node.
pub const UNKNOWN_NODE: Code = Code(3);
/// Node unreachable from start.
pub const UNREACHABLE: Code = Code(4);
/// Cycle without a loop edge.
pub const CYCLE: Code = Code(5);
/// Exit node has outgoing edges.
pub const EXIT_OUTGOING: Code = Code(6);
/// Parallel targets and fan_in sources do not pair up.
pub const FAN_MISMATCH: Code = Code(7);
/// Duplicate edge.
pub const DUPLICATE_EDGE: Code = Code(9);
/// Edge condition does not parse.
pub const BAD_CONDITION: Code = Code(10);

/// Runs every structural check and returns the errors found.
pub fn validate(wf: &Workflow) -> Vec<Diagnostic> {
    validate_graph(&Graph::new(wf))
}

/// [`validate`] on a workflow already indexed.
pub(crate) fn validate_graph(index: &Graph<'_>) -> Vec<Diagnostic> {
    let wf = index.wf;
    let mut out = Vec::new();
    duplicate_nodes(index, &mut out);
    let start_ok = endpoint(
        wf,
        index,
        &wf.start,
        wf.start_span,
        START,
        "start",
        &mut out,
    );
    endpoint(wf, index, &wf.exit, wf.exit_span, EXIT, "exit", &mut out);
    unknown_endpoints(wf, index, &mut out);
    exit_outgoing(index, &mut out);
    duplicate_edges(wf, &mut out);
    if start_ok {
        unreachable(index, &mut out);
    }
    cycles(index, &mut out);
    fan_pairs(wf, &mut out);
    conditions(wf, &mut out);
    out
}

/// DIP008: every declaration of an id after its first.
fn duplicate_nodes(index: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    for (i, node) in index.nodes() {
        let Some(first) = index.node_at(i).filter(|first| !std::ptr::eq(*first, node)) else {
            continue;
        };
        out.push(
            Diagnostic::error(DUPLICATE_NODE, format!("duplicate node ID {:?}", node.id))
                .with_span(node.span)
                .with_help({
                    let kind = first.kind().as_str();
                    let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
                        "an"
                    } else {
                        "a"
                    };
                    format!("first declared as {article} {kind} node; rename one of them")
                }),
        );
    }
}

/// The closest declared id to `name`, as a hint; ties go to the first declared.
fn did_you_mean(index: &Graph<'_>, name: &str) -> Option<String> {
    // Suggestions cost O(nodes) each; cap the work so a huge file with many bad
    // references stays linear-ish.
    if index.declared_count() > 5_000 {
        return None;
    }
    let ids = index.first_declarations().map(|(_, n)| n.id.as_str());
    suggest(name, ids).map(|s| format!("did you mean {s:?}?"))
}

fn endpoint(
    wf: &Workflow,
    index: &Graph<'_>,
    id: &str,
    span: Option<Span>,
    code: Code,
    which: &str,
    out: &mut Vec<Diagnostic>,
) -> bool {
    if id.is_empty() {
        out.push(
            Diagnostic::error(code, format!("workflow has no {which} node declared"))
                .with_span(span.unwrap_or(wf.span))
                .with_fix(format!(
                    "add `{which}: <NodeId>` under `workflow {}`",
                    wf.name
                )),
        );
        return false;
    }
    if index.is_declared(id) {
        return true;
    }
    let mut diag = Diagnostic::error(
        code,
        format!("{which} node {id:?} is declared but does not exist in the node list"),
    )
    .with_opt_span(span);
    if let Some(hint) = did_you_mean(index, id) {
        diag = diag.with_help(hint);
    }
    out.push(diag);
    false
}

/// DIP003 for edge endpoints, the `else` target and `defaults.on_failure`.
fn unknown_endpoints(wf: &Workflow, index: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    let mut report = |name: &str, span: Span, message: String| {
        let mut diag = Diagnostic::error(UNKNOWN_NODE, message).with_span(span);
        if let Some(hint) = did_you_mean(index, name) {
            diag = diag.with_help(hint);
        }
        out.push(diag);
    };
    for edge in &wf.edges {
        if !index.is_declared(&edge.from) {
            report(
                &edge.from,
                edge.from_span,
                format!("edge references unknown source node {:?}", edge.from),
            );
        }
        if !index.is_declared(&edge.to) {
            report(
                &edge.to,
                edge.to_span,
                format!("edge references unknown target node {:?}", edge.to),
            );
        }
    }
    for node in &wf.nodes {
        let names: &[String] = match &node.config {
            NodeConfig::Parallel(p) => &p.targets,
            NodeConfig::FanIn(f) => &f.sources,
            _ => continue,
        };
        for name in names {
            if !index.is_declared(name) {
                report(
                    name,
                    node.span,
                    format!(
                        "{} {:?} references unknown node {name:?}",
                        node.kind().as_str(),
                        node.id
                    ),
                );
            }
        }
    }
    if let Some(target) = &wf.else_target {
        if !index.is_declared(target) {
            report(
                target,
                wf.else_span.unwrap_or(wf.span),
                format!("else references unknown node {target:?}"),
            );
        }
    }
    let on_failure = &wf.defaults.on_failure;
    if !on_failure.is_empty() && !index.is_declared(on_failure) {
        report(
            on_failure,
            wf.defaults.on_failure_span.unwrap_or(wf.span),
            format!("on_failure references unknown node {on_failure:?}"),
        );
    }
}

/// DIP006: the exit node must have no outgoing edges, explicit or implied.
fn exit_outgoing(index: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    let wf = index.wf;
    if wf.exit.is_empty() {
        return;
    }
    let Some(exit) = index.at(&wf.exit) else {
        return;
    };
    for link in &index.out_all[exit] {
        let span = link
            .edge
            .map(|edge| edge.span)
            .or_else(|| index.node_at(exit).map(|n| n.span))
            .unwrap_or(wf.span);
        let to = match link.edge {
            Some(edge) => edge.to.as_str(),
            None => index.id(link.to),
        };
        out.push(
            Diagnostic::error(
                EXIT_OUTGOING,
                format!("exit node {:?} has outgoing edge to {:?}", wf.exit, to),
            )
            .with_span(span),
        );
    }
}

/// DIP009: two edges with the same source, target and condition text.
fn duplicate_edges(wf: &Workflow, out: &mut Vec<Diagnostic>) {
    let mut seen: HashSet<(&str, &str, &str)> = HashSet::with_capacity(wf.edges.len());
    for edge in &wf.edges {
        let cond = edge.condition.as_ref().map_or("", |c| c.raw.as_str());
        if !seen.insert((&edge.from, &edge.to, cond)) {
            out.push(
                Diagnostic::error(
                    DUPLICATE_EDGE,
                    format!("duplicate edge from {:?} to {:?}", edge.from, edge.to),
                )
                .with_span(edge.span),
            );
        }
    }
}

/// DIP004: BFS from start over every edge between declared nodes, including the
/// failure routes a node can take without an edge (`retry_target`,
/// `fallback_target`) and the workflow-wide routes (`else`, `defaults.on_failure`),
/// which any node may reach.
fn unreachable(index: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    let wf = index.wf;
    let Some(start) = index.declared_at(&wf.start) else {
        return;
    };
    let global = [
        wf.else_target.as_deref(),
        Some(wf.defaults.on_failure.as_str()),
    ];
    let seeds = std::iter::once(start).chain(
        global
            .into_iter()
            .flatten()
            .filter_map(|t| index.declared_at(t)),
    );
    let seen = index.reach_also(
        seeds,
        |_, link| index.node_at(link.to).is_some(),
        |n| {
            index.node_at(n).into_iter().flat_map(|node| {
                [&node.retry.retry_target, &node.retry.fallback_target]
                    .into_iter()
                    .filter_map(|target| index.declared_at(target))
            })
        },
    );
    // Duplicates share the first declaration's reachability.
    for (i, node) in index.first_declarations() {
        if !seen[i] {
            out.push(
                Diagnostic::error(
                    UNREACHABLE,
                    format!(
                        "node {:?} is unreachable from start node {:?}",
                        node.id, wf.start
                    ),
                )
                .with_span(node.span)
                .with_fix(format!("add an edge into {:?} or remove it", node.id)),
            );
        }
    }
}

/// DIP005: a cycle among explicit non-loop edges between declared nodes. Iterative
/// DFS in declaration order; one report per back edge, naming the cycle and pointing
/// at the first edge that closes it.
fn cycles(index: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    // Explicit non-loop links between declared nodes; others are stepped over.
    let forward =
        |l: &Link<'_>| !l.is_implied() && !l.is_restart() && index.node_at(l.to).is_some();
    let count = index.declared_count();
    let mut mark = vec![Mark::New; count];
    let mut reported: HashSet<usize> = HashSet::new();
    for root in 0..count {
        if mark[root] != Mark::New {
            continue;
        }
        // Stack of (node, next link position); `path` mirrors the active nodes.
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        let mut path: Vec<usize> = vec![root];
        mark[root] = Mark::Active;
        while let Some(&mut (n, ref mut next)) = stack.last_mut() {
            if let Some(link) = index.out_all[n].get(*next) {
                *next += 1;
                if !forward(link) {
                    continue;
                }
                let m = link.to;
                match mark[m] {
                    Mark::New => {
                        mark[m] = Mark::Active;
                        stack.push((m, 0));
                        path.push(m);
                    }
                    Mark::Active if reported.insert(m) => {
                        let from = path.iter().rposition(|&p| p == m).unwrap_or(0);
                        let mut names: Vec<&str> =
                            path[from..].iter().map(|&p| index.id(p)).collect();
                        names.push(index.id(m));
                        let edge_span = link
                            .edge
                            .map_or_else(|| index.node_at(m).map(|x| x.span), |e| Some(e.span))
                            .unwrap_or(index.wf.span);
                        out.push(
                            Diagnostic::error(
                                CYCLE,
                                format!("unconditional cycle detected: {}", names.join(" → ")),
                            )
                            .with_span(edge_span)
                            .with_help("every cycle needs a `loop` (restart) edge, even when its edges are conditional")
                            .with_fix(format!(
                                "mark the back edge as a loop: `{} -> {}  loop`",
                                index.id(n),
                                index.id(m)
                            )),
                        );
                    }
                    _ => {}
                }
            } else {
                mark[n] = Mark::Done;
                stack.pop();
                path.pop();
            }
        }
    }
}

/// DIP007: each parallel's target set must equal some fan_in's source set, and back.
fn fan_pairs(wf: &Workflow, out: &mut Vec<Diagnostic>) {
    let set = |v: &[String]| {
        let mut s: Vec<String> = v.to_vec();
        s.sort();
        s.dedup();
        s
    };
    let forks: Vec<(&crate::ir::Node, Vec<String>)> = wf
        .nodes
        .iter()
        .filter_map(|n| match &n.config {
            NodeConfig::Parallel(p) => Some((n, set(&p.targets))),
            _ => None,
        })
        .collect();
    let joins: Vec<(&crate::ir::Node, Vec<String>)> = wf
        .nodes
        .iter()
        .filter_map(|n| match &n.config {
            NodeConfig::FanIn(f) => Some((n, set(&f.sources))),
            _ => None,
        })
        .collect();
    let join_sets: HashSet<&Vec<String>> = joins.iter().map(|(_, s)| s).collect();
    let fork_sets: HashSet<&Vec<String>> = forks.iter().map(|(_, s)| s).collect();
    for (node, targets) in &forks {
        if !join_sets.contains(targets) {
            out.push(
                Diagnostic::error(
                    FAN_MISMATCH,
                    format!(
                        "parallel node {:?} has targets [{}] but no matching fan_in node",
                        node.id,
                        targets.join(", ")
                    ),
                )
                .with_span(node.span)
                .with_fix(format!("add `fan_in Join <- {}`", targets.join(", "))),
            );
        }
    }
    for (node, sources) in &joins {
        if !fork_sets.contains(sources) {
            out.push(
                Diagnostic::error(
                    FAN_MISMATCH,
                    format!(
                        "fan_in node {:?} has sources [{}] but no matching parallel node",
                        node.id,
                        sources.join(", ")
                    ),
                )
                .with_span(node.span),
            );
        }
    }
}

/// Condition text as quoted in a message: at most [`QUOTED_CONDITION_CHARS`]
/// characters, so a megabyte-long condition does not fill the terminal.
fn shortened(raw: &str) -> String {
    match raw.char_indices().nth(QUOTED_CONDITION_CHARS) {
        Some((cut, _)) => format!("{}…", &raw[..cut]),
        None => raw.to_string(),
    }
}

/// How much of a condition a DIP010 message quotes.
const QUOTED_CONDITION_CHARS: usize = 200;

/// DIP010: one report per edge whose condition does not parse.
fn conditions(wf: &Workflow, out: &mut Vec<Diagnostic>) {
    for edge in &wf.edges {
        if let Some(cond) = &edge.condition {
            if let Err(err) = &cond.parsed {
                out.push(
                    Diagnostic::error(
                        BAD_CONDITION,
                        format!(
                            "edge {} -> {}: invalid condition {:?}: {}",
                            edge.from,
                            edge.to,
                            shortened(&cond.raw),
                            err.message
                        ),
                    )
                    .with_span(edge.span)
                    .with_help("conditions are `VAR op VALUE` joined by and/or/not; ops are = != contains startswith endswith in; quote values with spaces"),
                );
            }
        }
    }
}
