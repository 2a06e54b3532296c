//! Data flow through the context: declared `writes` and `reads`.
//!
//! * `DIP107` — a key some node writes that no node reads;
//! * `DIP112` — a key a node reads that no upstream node writes (keys flow along
//!   forward edges in topological order, one bit set per frontier node).

use std::collections::{HashMap, HashSet, VecDeque};

use crate::diagnostic::{Code, Diagnostic};
use crate::graph::Graph;
use crate::ir::Workflow;

/// Appends the data-flow findings for the indexed workflow to `out`.
pub(super) fn lint(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    unread_writes(g.wf, out);
    reads_without_upstream_writes(g, out);
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
fn reads_without_upstream_writes(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    let wf = g.wf;
    let start_declared = g.at(&wf.start).is_some_and(|i| g.node_at(i).is_some());
    if !start_declared || wf.nodes.iter().all(|n| n.io.reads.is_empty()) {
        return;
    }
    let n = g.len();
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
        if let Some(p) = g.at(id).filter(|&p| g.node_at(p).is_some()) {
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
    for (k, &p) in g.declaration_indices().iter().enumerate().rev() {
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
                    Some(id) => match g.at(id).filter(|&q| g.node_at(q).is_some()) {
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
    for link in g.out_all.all().iter().filter(|l| !l.is_restart()) {
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
        if let Some(node) = g.node_at(curr) {
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
            g.out_all[curr]
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
