//! Lints: routing and graph-shape warnings.
//!
//! Everything here reasons about edges, conditions and the reads/writes data flow:
//!
//! * routing completeness — `DIP101` (conditional-only reachability), `DIP102` (no default
//!   edge), `DIP103` (overlapping guards), `DIP105` (no success path), `DIP149` (ambiguous
//!   unconditional edges), `DIP152` (uncovered tool markers);
//! * failure handling — `DIP104` (unbounded retry), `DIP115` (goal gate), `DIP144` (agent
//!   without a failure route), `DIP134` (max_retries meant as max_restarts);
//! * variables — `DIP106` (prompt references), `DIP120`–`DIP122` (condition variables and
//!   values), `DIP124` (`${ctx.…}` in tool commands);
//! * data flow — `DIP107` (writes nobody reads), `DIP112` (reads nobody upstream writes);
//! * edge attributes — `DIP150` (human label without `choice:`), `DIP151` (`weight:`),
//!   `DIP153` (edges repeating an inline fork).
//!
//! The shared vocabulary comes from the language reference (§9): an *exhaustive* source's
//! explicit outgoing edges cover `{success, fail|failure}` on the outcome, or are ≥2
//! conditional edges that are all simple equalities on one variable, or contain a
//! complementary pair `X op V` / `not X op V`. A *safe* source is exhaustive, has an
//! unconditional edge, is a tool with `marker_grep`, or the workflow has an `else`
//! target. A *failure route* is an `outcome = fail|failure` edge, a `fallback_target`, a
//! `retry_target` with `max_retries > 0`, or an existing `defaults.on_failure`.
//!
//! The workflow is indexed once ([`Index`]): every id gets a dense number and the
//! adjacency lists are vectors, so the whole pass stays linear in nodes plus edges.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::graph::{Graph, Link};

use crate::condition::{CmpOp, Compare, Expr};
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::ir::{Edge, Node, NodeConfig, NodeKind, Workflow};

/// Namespaces a `${ref}` or condition variable may start with. `inputs` is checked
/// separately (DIP156) against the declared inputs.
const KNOWN_NAMESPACES: &[&str] = &["ctx", "graph", "params", "stack", "inputs"];

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

/// Regex metacharacters that make a `marker_grep` branch non-literal (DIP152).
const MARKER_METACHARS: &[char] = &[
    '.', '*', '+', '?', '[', ']', '{', '}', '(', ')', '|', '\\', '^', '$',
];

/// Appends this module's findings for `wf` to `out`.
pub(crate) fn lint(graph: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    let wf = graph.wf;
    let ix = Index::new(graph);
    conditional_reachability(&ix, out);
    missing_default_edge(&ix, out);
    overlapping_conditions(&ix, out);
    unbounded_retry(&ix, out);
    success_path(&ix, out);
    prompt_references(&ix, out);
    unread_writes(wf, out);
    reads_without_upstream_writes(&ix, out);
    goal_gate_without_failure_route(&ix, out);
    condition_namespaces(wf, out);
    condition_undeclared_writes(&ix, out);
    condition_undeclared_outputs(&ix, out);
    tool_command_ctx_refs(wf, out);
    retries_meant_as_restarts(wf, out);
    agent_without_failure_route(&ix, out);
    ambiguous_unconditional_edges(&ix, out);
    human_label_without_choice(&ix, out);
    edge_weights(wf, out);
    uncovered_markers(&ix, out);
    redundant_fan_edges(&ix, out);
}

/// The shared graph index with the routing facts these lints add to it.
struct Index<'a, 'g> {
    graph: &'g Graph<'a>,
    wf: &'a Workflow,
    /// Whether each index's explicit outgoing edges are exhaustive.
    exhaustive: Vec<bool>,
    /// The workflow has an `else` target naming a declared node.
    else_valid: bool,
    /// `defaults.on_failure` names a declared node.
    on_failure_valid: bool,
}

impl<'a> std::ops::Deref for Index<'a, '_> {
    type Target = Graph<'a>;

    fn deref(&self) -> &Graph<'a> {
        self.graph
    }
}

impl<'a, 'g> Index<'a, 'g> {
    /// Adds the routing facts to `graph`.
    fn new(graph: &'g Graph<'a>) -> Index<'a, 'g> {
        Index {
            graph,
            wf: graph.wf,
            exhaustive: graph
                .out_explicit
                .iter()
                .map(edges_are_exhaustive)
                .collect(),
            else_valid: graph.else_target().is_some(),
            on_failure_valid: graph.on_failure_declared(),
        }
    }

    /// Whether index `i` is a tool whose `marker_grep` gives it typed routing.
    fn is_marker_tool(&self, i: usize) -> bool {
        self.node_at(i)
            .and_then(|n| n.tool())
            .is_some_and(|t| !t.marker_grep.is_empty())
    }

    /// A "safe source": its conditional edges cannot strand the run, because it is
    /// exhaustive, has an unconditional edge, routes on tool markers, or the
    /// workflow's `else` catches unmatched guards.
    fn source_is_safe(&self, i: usize) -> bool {
        self.else_valid
            || self.exhaustive[i]
            || self.out_explicit[i].iter().any(|e| e.is_unconditional())
            || self.is_marker_tool(i)
    }

    /// Whether `node`, at index `i`, has a failure route (see the module docs).
    fn has_failure_route(&self, i: usize, node: &Node) -> bool {
        let retry = &node.retry;
        self.on_failure_valid
            || !retry.fallback_target.is_empty()
            || (!retry.retry_target.is_empty() && retry.max_retries > 0)
            || self.out_explicit[i].iter().any(|e| routes_on_failure(e))
    }
}

/// The comparison of an edge whose whole guard is one `var = value` test.
fn simple_equality(edge: &Edge) -> Option<&Compare> {
    match edge.condition.as_ref().map(|c| &c.parsed) {
        Some(Ok(Expr::Compare(c))) if c.op == CmpOp::Eq => Some(c),
        _ => None,
    }
}

/// The parsed guard of an edge, if it has one that parsed.
fn parsed(edge: &Edge) -> Option<&Expr> {
    edge.condition.as_ref().and_then(|c| c.parsed.as_ref().ok())
}

/// Whether `var` is the node outcome, namespaced or bare.
fn is_outcome_var(var: &str) -> bool {
    var == "ctx.outcome" || var == "outcome"
}

/// Whether the edge routes the failure outcome (`outcome = fail|failure`).
fn routes_on_failure(edge: &Edge) -> bool {
    simple_equality(edge).is_some_and(|c| {
        is_outcome_var(&c.variable) && matches!(c.value.as_str(), "fail" | "failure")
    })
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

/// Whether `var` starts with a known namespace (`ctx.`, `graph.`, …).
fn has_known_namespace(var: &str) -> bool {
    var.split_once('.')
        .is_some_and(|(ns, _)| KNOWN_NAMESPACES.contains(&ns))
}

/// The bodies of `${…}` references in `text`, like the reference's `\$\{([^}]+)\}`.
fn var_refs(text: &str) -> Vec<&str> {
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
fn conditional_reachability(ix: &Index<'_, '_>, out: &mut Vec<Diagnostic>) {
    for (i, node) in ix.nodes() {
        if node.id == ix.wf.start {
            continue;
        }
        let incoming = &ix.in_explicit[i];
        if incoming.is_empty() || incoming.iter().any(|(_, e)| e.is_unconditional()) {
            continue;
        }
        let Some((_, unsafe_edge)) = incoming.iter().find(|(from, _)| !ix.source_is_safe(*from))
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
fn missing_default_edge(ix: &Index<'_, '_>, out: &mut Vec<Diagnostic>) {
    if ix.else_valid {
        return;
    }
    for (i, node) in ix.nodes() {
        let links = &ix.out_all[i];
        let guarded_only =
            links.iter().any(Link::is_conditional) && links.iter().all(Link::is_conditional);
        if !guarded_only || ix.exhaustive[i] || ix.is_marker_tool(i) {
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
fn overlapping_conditions(ix: &Index<'_, '_>, out: &mut Vec<Diagnostic>) {
    /// (variable, operator, value, negated)
    type LeafKey<'e> = (&'e str, &'static str, &'e str, bool);
    for edges in ix.out_explicit.iter() {
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

/// DIP104: retry configured with no retry bound and no way out on failure.
///
/// `retry_policy: none` alone does not count as retry configuration, and a
/// `defaults.max_retries` bound is inherited by nodes that leave theirs unset.
fn unbounded_retry(ix: &Index<'_, '_>, out: &mut Vec<Diagnostic>) {
    for (i, node) in ix.nodes() {
        let retry = &node.retry;
        let configured =
            (!retry.policy.is_empty() && retry.policy != "none") || !retry.retry_target.is_empty();
        if !configured || retry.max_retries != 0 || ix.wf.defaults.max_retries > 0 {
            continue;
        }
        if ix.has_failure_route(i, node) {
            continue;
        }
        out.push(
            Diagnostic::warning(
                Code(104),
                format!(
                    "node {:?} has retry configuration but no max_retries and no failure route",
                    node.id
                ),
            )
            .with_span(node.span)
            .with_help("without a bound or a failure route, retries may loop forever")
            .with_fix(format!(
                "set `max_retries: 3` on {:?}, or add `{} -> <node> when ctx.outcome = fail`",
                node.id, node.id
            )),
        );
    }
}

/// DIP105: the exit cannot be reached from the start without restart edges. A section
/// `else` target counts as reachable from any reached node whose edges are all guarded.
fn success_path(ix: &Index<'_, '_>, out: &mut Vec<Diagnostic>) {
    let wf = ix.wf;
    let (Some(start), Some(exit)) = (ix.at(&wf.start), ix.at(&wf.exit)) else {
        return;
    };
    if ix.node_at(start).is_none() || ix.node_at(exit).is_none() {
        return;
    }
    let else_target = wf
        .else_target
        .as_deref()
        .and_then(|id| ix.at(id))
        .filter(|_| ix.else_valid);
    let mut visited = vec![false; ix.len()];
    let mut queue = VecDeque::from([start]);
    visited[start] = true;
    while let Some(curr) = queue.pop_front() {
        let links = &ix.out_all[curr];
        let forward = links.iter().filter(|l| !l.is_restart()).map(|l| l.to);
        let guarded_only =
            links.iter().any(Link::is_conditional) && links.iter().all(Link::is_conditional);
        let fallback = else_target.filter(|_| guarded_only);
        for next in forward.chain(fallback) {
            if !visited[next] {
                visited[next] = true;
                queue.push_back(next);
            }
        }
    }
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

/// DIP106: `${…}` references in agent prompts that no namespace or node resolves.
fn prompt_references(ix: &Index<'_, '_>, out: &mut Vec<Diagnostic>) {
    for node in &ix.wf.nodes {
        let Some(agent) = node.agent() else {
            continue;
        };
        for reference in var_refs(&agent.prompt) {
            let bare = reference.strip_prefix("ctx.").unwrap_or(reference);
            let diag = if let Some(rest) = bare.strip_prefix("node.") {
                match rest.split_once('.') {
                    Some((id, _)) if ix.node(id).is_some() => continue,
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

/// DIP107: a key some node writes that no node declares in `reads`.
fn unread_writes(wf: &Workflow, out: &mut Vec<Diagnostic>) {
    let reads: HashSet<&str> = wf
        .nodes
        .iter()
        .flat_map(|n| n.io.reads.iter().map(String::as_str))
        .collect();
    for node in &wf.nodes {
        for key in &node.io.writes {
            if reads.contains(key.as_str()) {
                continue;
            }
            out.push(
                Diagnostic::warning(
                    Code(107),
                    format!(
                        "node {:?} writes context key {key:?} but no node declares it in reads",
                        node.id
                    ),
                )
                .with_span(node.span)
                .with_help(format!(
                    "add `reads: {key}` to the node that uses it, or drop it from writes"
                )),
            );
        }
    }
}

/// A fixed-size bit set over the DIP112 facts (read keys, then referenced nodes).
type Bits = Vec<u64>;

/// Sets bit `i`.
fn set_bit(bits: &mut Bits, i: usize) {
    bits[i / 64] |= 1u64 << (i % 64);
}

/// Whether bit `i` is set.
fn has_bit(bits: &Bits, i: usize) -> bool {
    bits[i / 64] & (1u64 << (i % 64)) != 0
}

/// The node id of a `node.<id>.<key>` read (optionally `ctx.`-prefixed).
fn node_scoped(key: &str) -> Option<&str> {
    let bare = key.strip_prefix("ctx.").unwrap_or(key);
    let rest = bare.strip_prefix("node.")?;
    rest.split_once('.').map(|(id, _)| id)
}

/// DIP112: a `reads` key that no upstream node writes.
///
/// Keys flow along forward edges in topological order (Kahn), as in the reference. Only
/// keys that are both read and written, and nodes that some `node.<id>.<key>` read
/// names, get a bit; a node's set is recycled once passed on, so a long pipeline needs
/// only the sets of its current frontier.
fn reads_without_upstream_writes(ix: &Index<'_, '_>, out: &mut Vec<Diagnostic>) {
    let wf = ix.wf;
    let start_declared = ix.at(&wf.start).is_some_and(|i| ix.node_at(i).is_some());
    if !start_declared || wf.nodes.iter().all(|n| n.io.reads.is_empty()) {
        return;
    }
    let n = ix.len();
    let read: HashSet<&str> = wf
        .nodes
        .iter()
        .flat_map(|n| n.io.reads.iter().map(String::as_str))
        .collect();
    let mut key_bit: HashMap<&str, usize> = HashMap::new();
    for node in &wf.nodes {
        for key in &node.io.writes {
            if read.contains(key.as_str()) {
                let next = key_bit.len();
                key_bit.entry(key.as_str()).or_insert(next);
            }
        }
    }
    let mut node_bit: Vec<Option<usize>> = vec![None; n];
    let mut bit_count = key_bit.len();
    for id in read.iter().filter_map(|k| node_scoped(k)) {
        if let Some(p) = ix.at(id).filter(|&p| ix.node_at(p).is_some()) {
            if node_bit[p].is_none() {
                node_bit[p] = Some(bit_count);
                bit_count += 1;
            }
        }
    }
    let words = bit_count.div_ceil(64).max(1);
    // Every declaration of an id is checked against that id's flow (duplicates are rare,
    // so they hang off the first declaration as a linked list).
    let mut first_decl: Vec<Option<usize>> = vec![None; n];
    let mut next_decl: Vec<Option<usize>> = vec![None; wf.nodes.len()];
    for (k, &p) in ix.declaration_indices().iter().enumerate().rev() {
        next_decl[k] = first_decl[p].replace(k);
    }
    let check = |p: usize, bits: &Bits, out: &mut Vec<Diagnostic>| {
        let members = std::iter::successors(first_decl[p], |&k| next_decl[k]);
        for node in members.map(|k| &wf.nodes[k]) {
            for key in &node.io.reads {
                if key_bit.get(key.as_str()).is_some_and(|&b| has_bit(bits, b)) {
                    continue;
                }
                let message = match node_scoped(key) {
                    Some(id) => match ix.at(id).filter(|&q| ix.node_at(q).is_some()) {
                        None => format!(
                            "node {:?} reads {key:?} but node {id:?} does not exist in the workflow",
                            node.id
                        ),
                        Some(q) if node_bit[q].is_some_and(|b| has_bit(bits, b)) => continue,
                        Some(_) => format!(
                            "node {:?} reads {key:?} but node {id:?} is not upstream",
                            node.id
                        ),
                    },
                    None => format!(
                        "node {:?} reads context key {key:?} but no upstream node declares it in writes",
                        node.id
                    ),
                };
                out.push(
                    Diagnostic::warning(Code(112), message)
                        .with_span(node.span)
                        .with_help(format!(
                            "add `writes: {key}` to a node that runs before {:?}, unless the runtime sets it",
                            node.id
                        )),
                );
            }
        }
    };
    let mut indegree = vec![0usize; n];
    for link in ix.out_all.all().iter().filter(|l| !l.is_restart()) {
        indegree[link.to] += 1;
    }
    let mut successors: Vec<usize> = Vec::new();
    let mut queue: VecDeque<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
    let mut sets: Vec<Option<Bits>> = vec![None; n];
    let mut spare: Vec<Bits> = Vec::new();
    let fresh = |spare: &mut Vec<Bits>| match spare.pop() {
        Some(mut bits) => {
            bits.fill(0);
            bits
        }
        None => vec![0; words],
    };
    let mut done = vec![false; n];
    while let Some(curr) = queue.pop_front() {
        done[curr] = true;
        let mut bits = match sets[curr].take() {
            Some(bits) => bits,
            None => fresh(&mut spare),
        };
        if let Some(node) = ix.node_at(curr) {
            for key in &node.io.writes {
                if let Some(&b) = key_bit.get(key.as_str()) {
                    set_bit(&mut bits, b);
                }
            }
        }
        check(curr, &bits, out);
        if let Some(b) = node_bit[curr] {
            set_bit(&mut bits, b);
        }
        let mut bits = Some(bits);
        successors.clear();
        successors.extend(
            ix.out_all[curr]
                .iter()
                .filter(|l| !l.is_restart())
                .map(|l| l.to),
        );
        for (k, &s) in successors.iter().enumerate() {
            let last = k + 1 == successors.len();
            match (sets[s].as_mut(), bits.as_ref()) {
                (Some(target), Some(from)) => {
                    for (t, b) in target.iter_mut().zip(from) {
                        *t |= *b;
                    }
                }
                // The last successor takes the set itself instead of a copy.
                (None, Some(_)) if last => sets[s] = bits.take(),
                (None, Some(from)) => {
                    let mut copy = fresh(&mut spare);
                    copy.copy_from_slice(from);
                    sets[s] = Some(copy);
                }
                (_, None) => {}
            }
            indegree[s] -= 1;
            if indegree[s] == 0 {
                queue.push_back(s);
            }
        }
        spare.extend(bits);
    }
    // Nodes on a forward cycle never become ready; check what reached them.
    for p in (0..n).filter(|&p| !done[p]) {
        let bits = sets[p].take().unwrap_or_else(|| vec![0; words]);
        check(p, &bits, out);
    }
}

/// DIP115: a goal gate that cannot recover when the gate fails.
fn goal_gate_without_failure_route(ix: &Index<'_, '_>, out: &mut Vec<Diagnostic>) {
    for (i, node) in ix.nodes() {
        if !node.agent().is_some_and(|a| a.goal_gate) || ix.has_failure_route(i, node) {
            continue;
        }
        out.push(
            Diagnostic::warning(
                Code(115),
                format!(
                    "agent node {:?} has goal_gate: true but no failure route",
                    node.id
                ),
            )
            .with_span(node.span)
            .with_help("when the gate fails the run has nowhere to go")
            .with_fix(format!(
                "add `{} -> <node> when ctx.outcome = fail`, or set fallback_target",
                node.id
            )),
        );
    }
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
fn condition_undeclared_writes(ix: &Index<'_, '_>, out: &mut Vec<Diagnostic>) {
    for ((from, _), edge) in ix.edges() {
        let Some(expr) = parsed(edge) else {
            continue;
        };
        let Some(source) = ix.node_at(from) else {
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
fn condition_undeclared_outputs(ix: &Index<'_, '_>, out: &mut Vec<Diagnostic>) {
    for ((from, _), edge) in ix.edges() {
        let Some(expr) = parsed(edge) else {
            continue;
        };
        let Some(tool) = ix.node_at(from).and_then(|n| n.tool()) else {
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

/// DIP134: `defaults.max_retries` set, `max_restarts` unset, and loop edges present —
/// probably `max_restarts` was meant.
fn retries_meant_as_restarts(wf: &Workflow, out: &mut Vec<Diagnostic>) {
    let defaults = &wf.defaults;
    if defaults.max_retries == 0
        || defaults.max_restarts != 0
        || !wf.edges.iter().any(|e| e.restart)
    {
        return;
    }
    out.push(
        Diagnostic::warning(
            Code(134),
            format!(
                "defaults set max_retries: {} but no max_restarts, and the workflow has restart edges",
                defaults.max_retries
            ),
        )
        .with_opt_span(defaults.span.or(Some(wf.span)))
        .with_help("max_retries bounds per-node retries; max_restarts bounds loop (restart) edges")
        .with_fix(format!(
            "if the loop budget was meant, write `max_restarts: {}` in defaults",
            defaults.max_retries
        )),
    );
}

/// DIP144: an agent that can fail with nowhere to route the failure.
fn agent_without_failure_route(ix: &Index<'_, '_>, out: &mut Vec<Diagnostic>) {
    for (i, node) in ix.nodes() {
        if node.kind() != NodeKind::Agent || node.id == ix.wf.exit {
            continue;
        }
        if ix.out_all[i].is_empty() || ix.has_failure_route(i, node) {
            continue;
        }
        out.push(
            Diagnostic::warning(
                Code(144),
                format!(
                    "agent node {:?} has no failure route (no fail edge, no fallback_target, no bounded retry, no defaults on_failure)",
                    node.id
                ),
            )
            .with_span(node.span)
            .with_fix(format!(
                "add `{} -> <node> when ctx.outcome = fail`, set fallback_target, or declare on_failure in defaults",
                node.id
            )),
        );
    }
}

/// DIP149: two or more unconditional forward edges from a node that chooses one, so
/// only the tiebreak on target ids decides. A `parallel` fires all its edges and a
/// human gate routes on the answer, so they are exempt; a `fan_in` picks one edge
/// like any other node.
fn ambiguous_unconditional_edges(ix: &Index<'_, '_>, out: &mut Vec<Diagnostic>) {
    for (i, node) in ix.nodes() {
        if matches!(node.kind(), NodeKind::Parallel | NodeKind::Human) {
            continue;
        }
        let mut targets = ix.out_all[i]
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
                    ix.name(first),
                    ix.name(second)
                ),
            )
            .with_span(node.span)
            .with_fix(
                "keep one unconditional edge as the default and guard the others with `when` or `on`",
            ),
        );
    }
}

/// DIP150 (hint): a labelled edge out of a label-routing human gate with no `choice:`.
fn human_label_without_choice(ix: &Index<'_, '_>, out: &mut Vec<Diagnostic>) {
    for ((from, _), edge) in ix.edges() {
        if edge.label.is_empty() || !edge.choice.is_empty() {
            continue;
        }
        let routes_by_label = ix
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
fn uncovered_markers(ix: &Index<'_, '_>, out: &mut Vec<Diagnostic>) {
    for (i, node) in ix.nodes() {
        if node.id == ix.wf.exit {
            continue;
        }
        let Some(markers) = node.tool().and_then(|t| enumerate_markers(&t.marker_grep)) else {
            continue;
        };
        let channel = Workflow::outcome_channel(node).unwrap_or("ctx.tool_marker");
        let links = &ix.out_all[i];
        let mut routed: Vec<&str> = Vec::new();
        let mut covered = ix.else_valid;
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

/// DIP153: an edges-block edge that only repeats an inline `parallel` or `fan_in` list.
fn redundant_fan_edges(ix: &Index<'_, '_>, out: &mut Vec<Diagnostic>) {
    for ((from, to), edge) in ix.edges() {
        let plain = edge.is_unconditional()
            && edge.label.is_empty()
            && edge.choice.is_empty()
            && edge.weight == 0
            && !edge.restart
            && !edge.override_;
        if !plain {
            continue;
        }
        let fork = match ix.node_at(from).map(|n| &n.config) {
            Some(NodeConfig::Parallel(p)) if p.targets.contains(&edge.to) => Some("parallel"),
            _ => match ix.node_at(to).map(|n| &n.config) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    /// Parses `src` (which must parse cleanly) and runs this module's lints.
    fn run(src: &str) -> Vec<Diagnostic> {
        let (wf, diags) = crate::parse_dip(src);
        assert!(diags.is_empty(), "parse diagnostics: {diags:?}");
        let mut out = Vec::new();
        lint(&Graph::new(&wf), &mut out);
        out
    }

    /// The findings with code `n`.
    fn with_code(diags: &[Diagnostic], n: u16) -> Vec<&Diagnostic> {
        diags.iter().filter(|d| d.code == Code(n)).collect()
    }

    /// The 1-based line a diagnostic points at.
    fn line(src: &str, d: &Diagnostic) -> usize {
        let span = d.span.expect("diagnostic has a span");
        SourceFile::new("t.dip", src).position(span.start).line
    }

    /// The single finding with code `n`, failing the test otherwise.
    fn only(diags: &[Diagnostic], n: u16) -> &Diagnostic {
        let found = with_code(diags, n);
        assert_eq!(found.len(), 1, "expected one DIP{n:03}, got {diags:#?}");
        found[0]
    }

    const CLEAN: &str = "\
workflow Clean
  goal: \"x\"
  start: A
  exit: Done
  agent A
    prompt: plan ${ctx.topic} for ${graph.goal}
    writes: plan
  tool T
    command: echo ok
    timeout: 30s
    reads: plan
  agent Done
    prompt: bye
  edges
    A -> T  when ctx.outcome = success
    A -> Done  when ctx.outcome = fail
    T -> Done
";

    #[test]
    fn clean_workflow_has_no_flow_findings() {
        let diags = run(CLEAN);
        assert!(diags.is_empty(), "unexpected findings: {diags:#?}");
    }

    /// A covers success and fail on the outcome (exhaustive), plus an extra guard.
    const EXHAUSTIVE_ROUTER: &str = "\
workflow W
  goal: \"x\"
  start: A
  exit: Done
  agent A
    prompt: hi
  agent B
    prompt: b
  agent Done
    prompt: bye
  edges
    A -> B  when ctx.outcome = success
    A -> Done  when ctx.outcome = fail
    A -> Done  when ctx.score contains high
    B -> Done  when ctx.outcome = fail
    B -> Done
";

    /// A routes to B on one guard and to Done on an unrelated one: not exhaustive.
    const GUARDED: &str = "\
workflow W
  goal: \"x\"
  start: A
  exit: Done
  agent A
    prompt: hi
  agent B
    prompt: b
  agent Done
    prompt: bye
  edges
    A -> B  when ctx.outcome = success
    A -> Done  when ctx.score contains high
    B -> Done
";

    #[test]
    fn dip101_flags_node_reached_only_through_unsafe_guards() {
        let src = GUARDED;
        let diags = run(src);
        let d = only(&diags, 101);
        assert_eq!(
            d.message,
            "node \"B\" is only reachable through conditional edges and may be skipped at runtime"
        );
        assert_eq!(d.severity, Severity::Warning);
        assert_eq!(line(src, d), 7);
        assert!(d
            .help
            .as_deref()
            .is_some_and(|h| h.contains("source \"A\"")));
    }

    #[test]
    fn dip101_is_silent_for_exhaustive_sources() {
        // success + fail on the outcome, a one-variable equality partition, and a
        // complementary pair all make the source safe.
        assert!(with_code(&run(EXHAUSTIVE_ROUTER), 101).is_empty());
        let partition = "\
workflow W
  goal: \"x\"
  start: A
  exit: Done
  tool A
    command: echo a
    timeout: 5s
  agent B
    prompt: b
  agent Done
    prompt: bye
  edges
    A -> B  when ctx.tool_stdout = one
    A -> Done  when ctx.tool_stdout = two
    B -> Done
";
        assert!(with_code(&run(partition), 101).is_empty());
        let complementary = partition
            .replace("ctx.tool_stdout = one", "ctx.tool_stdout contains x")
            .replace("ctx.tool_stdout = two", "ctx.tool_stdout not contains x");
        assert!(with_code(&run(&complementary), 101).is_empty());
    }

    #[test]
    fn dip102_flags_guarded_node_without_default() {
        let diags = run(GUARDED);
        let d = only(&diags, 102);
        assert_eq!(
            d.message,
            "node \"A\" has conditional outgoing edges but no unconditional default edge"
        );
        assert_eq!(line(GUARDED, d), 5);
        assert!(d.fix.is_some());
    }

    #[test]
    fn dip101_and_dip102_are_silenced_by_else() {
        let src = GUARDED;
        let before = run(src);
        assert_eq!(with_code(&before, 101).len(), 1);
        assert_eq!(with_code(&before, 102).len(), 1);
        let after = run(&format!("{src}    else -> Done\n"));
        assert!(with_code(&after, 101).is_empty(), "{after:#?}");
        assert!(with_code(&after, 102).is_empty(), "{after:#?}");
    }

    #[test]
    fn dip102_is_silent_for_marker_tools() {
        let src = "\
workflow W
  goal: \"x\"
  start: T
  exit: Done
  tool T
    command: echo ok
    timeout: 5s
    marker_grep: \"^(ok|bad)$\"
  agent Done
    prompt: bye
  edges
    T -> Done  on ok
    T -> Done  on bad
";
        let diags = run(src);
        assert!(with_code(&diags, 102).is_empty(), "{diags:#?}");
        assert!(with_code(&diags, 152).is_empty(), "{diags:#?}");
    }

    #[test]
    fn dip103_flags_shared_leaf_comparison() {
        let src = "\
workflow W
  goal: \"x\"
  start: A
  exit: Done
  agent A
    prompt: hi
  agent B
    prompt: b
  agent Done
    prompt: bye
  edges
    A -> B  when ctx.mode = fast
    A -> Done  when ctx.mode = fast and ctx.outcome = fail
    A -> Done
    B -> Done
";
        let diags = run(src);
        let d = only(&diags, 103);
        assert_eq!(
            d.message,
            "node \"A\" has overlapping conditions: edges to \"B\" and \"Done\" both check ctx.mode = fast"
        );
        assert_eq!(line(src, d), 13);
        // Distinct values do not overlap.
        let distinct = src.replace("ctx.mode = fast and", "ctx.mode = slow and");
        assert!(with_code(&run(&distinct), 103).is_empty());
    }

    #[test]
    fn dip104_flags_unbounded_retry() {
        let src = "\
workflow W
  goal: \"x\"
  start: A
  exit: Done
  tool A
    command: echo a
    timeout: 5s
    retry_policy: standard
  agent Done
    prompt: bye
  edges
    A -> Done
";
        let diags = run(src);
        let d = only(&diags, 104);
        assert_eq!(
            d.message,
            "node \"A\" has retry configuration but no max_retries and no failure route"
        );
        assert_eq!(line(src, d), 5);
        let bounded = src.replace(
            "retry_policy: standard\n",
            "retry_policy: standard\n    max_retries: 2\n",
        );
        assert!(with_code(&run(&bounded), 104).is_empty());
        let no_retry = src.replace("retry_policy: standard", "retry_policy: none");
        assert!(with_code(&run(&no_retry), 104).is_empty());
        let fallback = src.replace(
            "retry_policy: standard\n",
            "retry_policy: standard\n    fallback_target: Done\n",
        );
        assert!(with_code(&run(&fallback), 104).is_empty());
    }

    #[test]
    fn dip105_flags_exit_reachable_only_through_restart_edges() {
        let src = "\
workflow W
  goal: \"x\"
  start: A
  exit: Done
  agent A
    prompt: hi
  agent Done
    prompt: bye
  edges
    A -> Done  loop
";
        let diags = run(src);
        let d = only(&diags, 105);
        assert_eq!(
            d.message,
            "no forward path from start node \"A\" to exit node \"Done\" (excluding restart edges)"
        );
        assert_eq!(line(src, d), 3);
        assert!(with_code(&run(CLEAN), 105).is_empty());
    }

    #[test]
    fn dip105_counts_else_and_fan_edges_as_forward() {
        let src = "\
workflow W
  goal: \"x\"
  start: Fan
  exit: Done
  parallel Fan -> A, B
  agent A
    prompt: a
  agent B
    prompt: b
  fan_in Join <- A, B
  tool Check
    command: echo ok
    timeout: 5s
  agent Done
    prompt: bye
  edges
    Join -> Check
    Check -> Check  when ctx.tool_stdout = again  loop
    Check -> Join  when ctx.tool_stdout = redo  loop
    else -> Done
";
        let diags = run(src);
        assert!(with_code(&diags, 105).is_empty(), "{diags:#?}");
    }

    #[test]
    fn dip106_flags_unknown_namespaces_and_bad_node_refs() {
        let src = "\
workflow W
  goal: \"x\"
  start: A
  exit: Done
  agent A
    prompt: use ${foo} ${node.Ghost.out} ${node.Done.out} ${ctx.ok} ${params.p} ${inputs.i} ${node.Done}
  agent Done
    prompt: bye
  edges
    A -> Done
";
        let diags = run(src);
        let found = with_code(&diags, 106);
        let messages: Vec<&str> = found.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "agent node \"A\" has unrecognized variable reference ${foo}",
                "agent node \"A\" references ${node.Ghost.out} but node \"Ghost\" does not exist",
                "agent node \"A\" has malformed node reference ${node.Done}; expected ${node.<id>.<key>}",
            ]
        );
        assert!(found.iter().all(|d| line(src, d) == 5));
    }

    #[test]
    fn dip107_flags_write_nobody_reads() {
        let src = CLEAN.replace("    reads: plan\n", "");
        let diags = run(&src);
        let d = only(&diags, 107);
        assert_eq!(
            d.message,
            "node \"A\" writes context key \"plan\" but no node declares it in reads"
        );
        assert_eq!(line(&src, d), 5);
    }

    #[test]
    fn dip112_flags_read_without_upstream_write() {
        // Done writes "plan" but runs after T, so T's read is not provided.
        let src = CLEAN
            .replace("    writes: plan\n", "")
            .replace("    prompt: bye\n", "    prompt: bye\n    writes: plan\n");
        let diags = run(&src);
        let d = only(&diags, 112);
        assert_eq!(
            d.message,
            "node \"T\" reads context key \"plan\" but no upstream node declares it in writes"
        );
        assert_eq!(line(&src, d), 7);
    }

    #[test]
    fn dip112_checks_node_scoped_reads() {
        let src = "\
workflow W
  goal: \"x\"
  start: A
  exit: Done
  agent A
    prompt: hi
    reads: node.Done.out, node.Ghost.out
  agent B
    prompt: b
    reads: ctx.node.A.out
  agent Done
    prompt: bye
  edges
    A -> B
    A -> Done  when ctx.outcome = fail
    B -> Done
";
        let diags = run(src);
        let messages: Vec<&str> = with_code(&diags, 112)
            .iter()
            .map(|d| d.message.as_str())
            .collect();
        assert_eq!(
            messages,
            [
                "node \"A\" reads \"node.Done.out\" but node \"Done\" is not upstream",
                "node \"A\" reads \"node.Ghost.out\" but node \"Ghost\" does not exist in the workflow",
            ]
        );
    }

    #[test]
    fn dip115_flags_goal_gate_without_failure_route() {
        let src = "\
workflow W
  goal: \"x\"
  start: A
  exit: Done
  agent A
    prompt: hi
    goal_gate: true
  agent Done
    prompt: bye
  edges
    A -> Done
";
        let diags = run(src);
        let d = only(&diags, 115);
        assert_eq!(
            d.message,
            "agent node \"A\" has goal_gate: true but no failure route"
        );
        assert_eq!(line(src, d), 5);
        let routed = format!("{src}    A -> Done  when ctx.outcome = fail\n");
        assert!(with_code(&run(&routed), 115).is_empty());
    }

    #[test]
    fn dip120_flags_bare_condition_variable() {
        let src = CLEAN.replace(
            "A -> Done  when ctx.outcome = fail",
            "A -> Done  when outcome = fail",
        );
        let diags = run(&src);
        let d = only(&diags, 120);
        assert_eq!(
            d.message,
            "edge \"A\" -> \"Done\": condition variable \"outcome\" has no namespace prefix"
        );
        assert_eq!(d.fix.as_deref(), Some("write ctx.outcome"));
        assert_eq!(line(&src, d), 16);
    }

    #[test]
    fn dip121_flags_condition_key_missing_from_writes() {
        let src = "\
workflow W
  goal: \"x\"
  start: A
  exit: Done
  agent A
    prompt: hi
    writes: verdict
  agent Done
    prompt: bye
    reads: verdict
  edges
    A -> Done  when ctx.verdict = ok
    A -> Done  when ctx.other = x
    A -> Done  when ctx.outcome = fail
    A -> Done
";
        let diags = run(src);
        let d = only(&diags, 121);
        assert_eq!(
            d.message,
            "edge \"A\" -> \"Done\": condition references \"ctx.other\" but node \"A\" does not declare it in writes"
        );
        assert_eq!(line(src, d), 13);
        // A source that declares no writes is not checked.
        let undeclared = src.replace("    writes: verdict\n", "");
        assert!(with_code(&run(&undeclared), 121).is_empty());
    }

    #[test]
    fn dip122_flags_value_missing_from_tool_outputs() {
        let src = "\
workflow W
  goal: \"x\"
  start: T
  exit: Done
  tool T
    command: echo pass
    timeout: 5s
    outputs: pass, fail
  agent Done
    prompt: bye
  edges
    T -> Done  when ctx.tool_stdout = pass
    T -> Done  when ctx.tool_stdout = maybe
    T -> Done  when ctx.outcome = success
    T -> Done
";
        let diags = run(src);
        let d = only(&diags, 122);
        assert_eq!(
            d.message,
            "edge \"T\" -> \"Done\": condition tests value \"maybe\" but tool \"T\" does not declare it in outputs"
        );
        assert_eq!(line(src, d), 13);
    }

    #[test]
    fn dip124_flags_ctx_reference_in_tool_command() {
        let src = CLEAN.replace("command: echo ok", "command: echo ${ctx.plan} ${params.x}");
        let diags = run(&src);
        let d = only(&diags, 124);
        assert_eq!(
            d.message,
            "tool node \"T\" command references runtime context ${ctx.plan}"
        );
        assert_eq!(line(&src, d), 8);
        assert!(with_code(&run(CLEAN), 124).is_empty());
    }

    #[test]
    fn dip134_flags_max_retries_with_loop_edges_and_no_max_restarts() {
        let src = "\
workflow W
  goal: \"x\"
  start: A
  exit: Done
  defaults
    max_retries: 3
  tool A
    command: echo a
    timeout: 5s
  agent Done
    prompt: bye
  edges
    A -> A  when ctx.tool_stdout = again  loop
    A -> Done
";
        let diags = run(src);
        let d = only(&diags, 134);
        assert_eq!(
            d.message,
            "defaults set max_retries: 3 but no max_restarts, and the workflow has restart edges"
        );
        assert_eq!(line(src, d), 5);
        let budgeted = src.replace("max_retries: 3\n", "max_retries: 3\n    max_restarts: 5\n");
        assert!(with_code(&run(&budgeted), 134).is_empty());
    }

    #[test]
    fn dip144_flags_agent_without_failure_route() {
        let src = "\
workflow W
  goal: \"x\"
  start: A
  exit: Done
  agent A
    prompt: hi
  agent Done
    prompt: bye
  edges
    A -> Done
";
        let diags = run(src);
        let d = only(&diags, 144);
        assert!(
            d.message
                .starts_with("agent node \"A\" has no failure route"),
            "{}",
            d.message
        );
        assert_eq!(line(src, d), 5);
        // A graph-level on_failure is a failure route for every node.
        let on_failure = src.replace(
            "  agent A\n",
            "  defaults\n    on_failure: Done\n  agent A\n",
        );
        assert!(with_code(&run(&on_failure), 144).is_empty());
    }

    #[test]
    fn dip149_flags_two_unconditional_edges() {
        let src = "\
workflow W
  goal: \"x\"
  start: T
  exit: Done
  tool T
    command: echo ok
    timeout: 5s
  agent B
    prompt: b
  agent Done
    prompt: bye
  edges
    T -> B
    T -> Done
    B -> Done
    B -> Done  when ctx.outcome = fail
";
        let diags = run(src);
        let d = only(&diags, 149);
        assert!(
            d.message.starts_with(
                "node \"T\" has 2 unconditional outgoing edges (to \"B\" and \"Done\")"
            ),
            "{}",
            d.message
        );
        assert_eq!(line(src, d), 5);
        assert!(with_code(&run(CLEAN), 149).is_empty());
    }

    #[test]
    fn dip150_hints_label_without_choice_on_human_gates() {
        let src = "\
workflow W
  goal: \"x\"
  start: G
  exit: Done
  human G
    label: \"Ship it?\"
  human F
    label: \"Anything else?\"
    mode: freeform
  agent Done
    prompt: bye
  edges
    G -> F  label: Approve
    G -> Done  label: Reject  choice: reject
    F -> Done  label: Note
";
        let diags = run(src);
        let d = only(&diags, 150);
        assert_eq!(d.severity, Severity::Hint);
        assert_eq!(
            d.message,
            "human gate \"G\" routes by label \"Approve\" without a choice: key"
        );
        assert_eq!(
            d.fix.as_deref(),
            Some("add choice: \"Approve\" to the edge")
        );
        assert_eq!(line(src, d), 13);
    }

    #[test]
    fn dip151_flags_weight() {
        let src = CLEAN.replace("    T -> Done\n", "    T -> Done  weight: 5\n");
        let diags = run(&src);
        let d = only(&diags, 151);
        assert_eq!(
            d.message,
            "edge \"T\" -> \"Done\" sets weight: 5, which routing does not use"
        );
        assert_eq!(line(&src, d), 17);
    }

    #[test]
    fn dip152_is_not_silenced_by_an_unrelated_guard() {
        let src = "\
workflow W
  goal: \"x\"
  start: Test
  exit: Done
  tool Test
    command: make ci-test
    timeout: 10m
    marker_grep: \"^(PASS|FAIL|SKIP)$\"
  tool Done
    command: echo done
    timeout: 1m
  edges
    Test -> Done  on PASS
    Test -> Done  when ctx.tool_stderr contains timeout
";
        let diags = run(src);
        let d = only(&diags, 152);
        assert!(d.message.contains("\"FAIL\", \"SKIP\""), "{}", d.message);
    }

    #[test]
    fn dip149_applies_to_fan_in_nodes() {
        let src = "\
workflow W
  goal: \"x\"
  start: Fan
  exit: Done
  parallel Fan -> A, B
  tool A
    command: echo a
    timeout: 1m
  tool B
    command: echo b
    timeout: 1m
  fan_in Join <- A, B
  tool Report
    command: echo r
    timeout: 1m
  tool Done
    command: echo done
    timeout: 1m
  edges
    Join -> Report
    Join -> Done
    Report -> Done
";
        let diags = run(src);
        let d = only(&diags, 149);
        assert!(d.message.starts_with("node \"Join\""), "{}", d.message);
    }

    #[test]
    fn dip152_flags_uncovered_marker() {
        let src = "\
workflow W
  goal: \"x\"
  start: T
  exit: Done
  tool T
    command: echo ok
    timeout: 5s
    marker_grep: \"^(ok|bad|worse)$\"
  agent Done
    prompt: bye
  edges
    T -> Done  on ok
";
        let diags = run(src);
        let d = only(&diags, 152);
        assert_eq!(
            d.message,
            "tool node \"T\" emits markers that no edge routes and no else default covers: \"bad\", \"worse\""
        );
        assert_eq!(line(src, d), 5);
        let fallback = format!("{src}    T -> Done\n");
        assert!(with_code(&run(&fallback), 152).is_empty());
        // A non-literal regex cannot be enumerated.
        let regex = src.replace("^(ok|bad|worse)$", "^(ok|ba.)$");
        assert!(with_code(&run(&regex), 152).is_empty());
    }

    #[test]
    fn dip153_flags_edge_repeating_inline_fork() {
        let src = "\
workflow W
  goal: \"x\"
  start: Fan
  exit: Done
  parallel Fan -> A, B
  agent A
    prompt: a
  agent B
    prompt: b
  fan_in Join <- A, B
  agent Done
    prompt: bye
  edges
    Fan -> A
    B -> Join  label: joined
    Join -> Done
";
        let diags = run(src);
        let d = only(&diags, 153);
        assert_eq!(
            d.message,
            "edge \"Fan\" -> \"A\" repeats the inline parallel list; the inline list is authoritative"
        );
        assert_eq!(line(src, d), 14);
        // Fan-out and fan-in nodes never count as ambiguous routers.
        assert!(with_code(&diags, 149).is_empty(), "{diags:#?}");
    }

    #[test]
    fn long_chain_reports_only_the_unread_last_write() {
        // Speed is measured by `cargo bench -p dippin`; this checks the result on a
        // large input.
        use std::fmt::Write as _;
        let n: usize = 20_000;
        let mut src = String::from("workflow Big\n  goal: \"x\"\n  start: N0\n");
        let _ = writeln!(src, "  exit: N{}", n - 1);
        for i in 0..n {
            let _ = writeln!(src, "  tool N{i}\n    command: echo {i}\n    timeout: 5s");
            let _ = writeln!(src, "    writes: k{i}\n    reads: k{}", i.saturating_sub(1));
        }
        src.push_str("  edges\n");
        for i in 1..n {
            let _ = writeln!(src, "    N{} -> N{i}", i - 1);
        }
        let (wf, diags) = crate::parse_dip(&src);
        assert!(diags.is_empty());
        let mut out = Vec::new();
        lint(&Graph::new(&wf), &mut out);
        // N0 reads its own write (fine); the last write is never read.
        assert_eq!(
            with_code(&out, 112).len(),
            0,
            "{:?}",
            &out[..out.len().min(3)]
        );
        assert_eq!(with_code(&out, 107).len(), 1);
    }
}
