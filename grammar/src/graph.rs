//! The graph index: one set of lookup tables over a workflow's nodes and edges, built
//! once per analysis and shared by validation ([`crate::validate`]) and every lint
//! ([`crate::lint`]).
//!
//! Every id named by a node declaration, an edge endpoint or a fan list gets a dense
//! number. Declared ids come first, in the order of their first declaration (so
//! `0..declared_count()` are the declared nodes); ids that no node declares follow and
//! have no node. Adjacency is kept in compressed rows (one flat vector per relation),
//! so building the index and every walk over it is linear in nodes plus edges.
//!
//! Three relations are kept:
//! * explicit outgoing edges per id, in source order ([`Graph::out_explicit`]);
//! * explicit incoming edges per id with their source ([`Graph::in_explicit`]);
//! * every outgoing edge, explicit then the implied fan edges that are not already
//!   written unconditionally, as [`Workflow::all_edges`] lists them ([`Graph::out_all`]).

use std::collections::{HashMap, HashSet, VecDeque};

use crate::ir::{Edge, Node, NodeConfig, Workflow};

/// One outgoing edge in the full graph: explicit, or implied by a fan node (`edge` is
/// `None`, and the edge is unconditional).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Link<'a> {
    /// Dense index of the target.
    pub to: usize,
    /// The explicit edge, if written in `edges`.
    pub edge: Option<&'a Edge>,
}

impl Link<'_> {
    /// Whether the edge carries a guard (implied fan edges never do).
    pub fn is_conditional(&self) -> bool {
        self.edge.is_some_and(|e| e.condition.is_some())
    }

    /// Whether the edge is a loop (restart) edge.
    pub fn is_restart(&self) -> bool {
        self.edge.is_some_and(|e| e.restart)
    }

    /// Whether the edge is implied by a `parallel` or `fan_in` list.
    pub fn is_implied(&self) -> bool {
        self.edge.is_none()
    }
}

/// Per-index lists in one flat vector (compressed rows): the items of index `i` are
/// `items[start[i]..start[i + 1]]`. One allocation instead of one per node.
pub(crate) struct Lists<T> {
    start: Vec<usize>,
    items: Vec<T>,
}

impl<T: Copy> Lists<T> {
    /// Groups `(owner, item)` pairs by owner (`owner < count`), keeping their order.
    fn build(count: usize, pairs: impl IntoIterator<Item = (usize, T)>) -> Lists<T> {
        let pairs: Vec<(usize, T)> = pairs.into_iter().collect();
        let mut start = vec![0; count + 1];
        for &(owner, _) in &pairs {
            start[owner + 1] += 1;
        }
        for i in 0..count {
            start[i + 1] += start[i];
        }
        let Some(&(_, filler)) = pairs.first() else {
            return Lists {
                start,
                items: Vec::new(),
            };
        };
        let mut next = start.clone();
        let mut items = vec![filler; pairs.len()];
        for (owner, item) in pairs {
            items[next[owner]] = item;
            next[owner] += 1;
        }
        Lists { start, items }
    }

    /// Every index's list, in index order.
    pub fn iter(&self) -> impl Iterator<Item = &[T]> + '_ {
        (0..self.start.len() - 1).map(|i| &self[i])
    }

    /// Every item of every list, in index order.
    pub fn all(&self) -> &[T] {
        &self.items
    }
}

impl<T> std::ops::Index<usize> for Lists<T> {
    type Output = [T];

    fn index(&self, i: usize) -> &[T] {
        &self.items[self.start[i]..self.start[i + 1]]
    }
}

/// The lookup tables over one workflow (see the module docs).
pub(crate) struct Graph<'a> {
    /// The indexed workflow.
    pub wf: &'a Workflow,
    /// Dense index of each id.
    pos: HashMap<&'a str, usize>,
    /// Dense index of each node declaration, parallel to `wf.nodes`.
    node_at: Vec<usize>,
    /// Dense indices of each explicit edge's endpoints, parallel to `wf.edges`.
    ends: Vec<(usize, usize)>,
    /// The declared node behind each index (first declaration wins, like the reference).
    node: Vec<Option<&'a Node>>,
    /// The id of each index.
    ids: Vec<&'a str>,
    /// How many ids are declared (they are `0..declared`).
    declared: usize,
    /// Explicit outgoing edges per index, in source order.
    pub out_explicit: Lists<&'a Edge>,
    /// Explicit incoming edges per index with their source's index, in source order.
    pub in_explicit: Lists<(usize, &'a Edge)>,
    /// Every outgoing edge per index: explicit ones, then implied fan edges that are not
    /// already written unconditionally (as [`Workflow::all_edges`]).
    pub out_all: Lists<Link<'a>>,
    /// The `else` target, when it names a declared node.
    else_target: Option<usize>,
    /// `defaults.on_failure` names a declared node.
    on_failure_declared: bool,
}

impl<'a> Graph<'a> {
    /// Indexes `wf`: one pass over the nodes, the edges and the fan lists.
    pub fn new(wf: &'a Workflow) -> Graph<'a> {
        let mut pos: HashMap<&str, usize> = HashMap::with_capacity(wf.nodes.len());
        let mut node: Vec<Option<&Node>> = Vec::with_capacity(wf.nodes.len());
        let node_at: Vec<usize> = wf
            .nodes
            .iter()
            .map(|n| {
                *pos.entry(n.id.as_str()).or_insert_with(|| {
                    node.push(Some(n));
                    node.len() - 1
                })
            })
            .collect();
        let declared = node.len();
        let mut intern = |id: &'a str, node: &mut Vec<Option<&'a Node>>| -> usize {
            *pos.entry(id).or_insert_with(|| {
                node.push(None);
                node.len() - 1
            })
        };
        let ends: Vec<(usize, usize)> = wf
            .edges
            .iter()
            .map(|e| (intern(&e.from, &mut node), intern(&e.to, &mut node)))
            .collect();
        let mut implied: Vec<(usize, usize)> = Vec::new();
        for n in &wf.nodes {
            match &n.config {
                NodeConfig::Parallel(p) => {
                    let from = intern(&n.id, &mut node);
                    for t in &p.targets {
                        implied.push((from, intern(t, &mut node)));
                    }
                }
                NodeConfig::FanIn(f) => {
                    let to = intern(&n.id, &mut node);
                    for s in &f.sources {
                        implied.push((intern(s, &mut node), to));
                    }
                }
                _ => {}
            }
        }
        let count = node.len();
        let explicit = || wf.edges.iter().zip(ends.iter().copied());
        let out_explicit = Lists::build(count, explicit().map(|(e, (from, _))| (from, e)));
        let in_explicit = Lists::build(count, explicit().map(|(e, (from, to))| (to, (from, e))));
        let mut links: Vec<(usize, Link<'_>)> = explicit()
            .map(|(e, (from, to))| (from, Link { to, edge: Some(e) }))
            .collect();
        if !implied.is_empty() {
            let written: HashSet<(usize, usize)> = wf
                .edges
                .iter()
                .zip(&ends)
                .filter(|(e, _)| e.is_unconditional())
                .map(|(_, &ends)| ends)
                .collect();
            for (from, to) in implied {
                if !written.contains(&(from, to)) {
                    links.push((from, Link { to, edge: None }));
                }
            }
        }
        let out_all = Lists::build(count, links);
        let mut ids = vec![""; count];
        for (&id, &i) in &pos {
            ids[i] = id;
        }
        let declared_at = |id: &str| pos.get(id).copied().filter(|&i| node[i].is_some());
        let else_target = wf.else_target.as_deref().and_then(declared_at);
        let on_failure_declared = declared_at(&wf.defaults.on_failure).is_some();
        Graph {
            wf,
            pos,
            node_at,
            ends,
            node,
            ids,
            declared,
            out_explicit,
            in_explicit,
            out_all,
            else_target,
            on_failure_declared,
        }
    }

    /// How many dense indices there are (declared and undeclared ids).
    pub fn len(&self) -> usize {
        self.node.len()
    }

    /// How many distinct ids are declared as nodes; they are `0..declared_count()`.
    pub fn declared_count(&self) -> usize {
        self.declared
    }

    /// The dense index of `id`; every node id, edge endpoint and fan list entry has one.
    pub fn at(&self, id: &str) -> Option<usize> {
        self.pos.get(id).copied()
    }

    /// The dense index of `id` when a node declares it.
    pub fn declared_at(&self, id: &str) -> Option<usize> {
        self.at(id).filter(|&i| self.node[i].is_some())
    }

    /// Whether a node declares `id`.
    pub fn is_declared(&self, id: &str) -> bool {
        self.declared_at(id).is_some()
    }

    /// The declared node named `id` (its first declaration).
    pub fn node(&self, id: &str) -> Option<&'a Node> {
        self.at(id).and_then(|i| self.node[i])
    }

    /// The declared node at dense index `i` (its first declaration), if any.
    pub fn node_at(&self, i: usize) -> Option<&'a Node> {
        self.node[i]
    }

    /// The id at index `i`.
    pub fn id(&self, i: usize) -> &'a str {
        self.ids[i]
    }

    /// The id at a declared index, or `"?"` for an undeclared one.
    pub fn name(&self, i: usize) -> &'a str {
        self.node[i].map_or("?", |n| n.id.as_str())
    }

    /// Each node declaration (duplicates included) with its dense index.
    pub fn nodes(&self) -> impl Iterator<Item = (usize, &'a Node)> + '_ {
        self.node_at.iter().copied().zip(&self.wf.nodes)
    }

    /// The dense index of each node declaration, parallel to `wf.nodes`.
    pub fn declaration_indices(&self) -> &[usize] {
        &self.node_at
    }

    /// Each declared id's first declaration with its dense index, in declaration order.
    pub fn first_declarations(&self) -> impl Iterator<Item = (usize, &'a Node)> + '_ {
        self.node[..self.declared]
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n.map(|n| (i, n)))
    }

    /// Each explicit edge with the dense indices of its endpoints.
    pub fn edges(&self) -> impl Iterator<Item = ((usize, usize), &'a Edge)> + '_ {
        self.ends.iter().copied().zip(&self.wf.edges)
    }

    /// The `else` target's index, when it names a declared node.
    pub fn else_target(&self) -> Option<usize> {
        self.else_target
    }

    /// Whether `defaults.on_failure` names a declared node.
    pub fn on_failure_declared(&self) -> bool {
        self.on_failure_declared
    }

    /// Breadth-first search from `starts`, following each link out of a reached index
    /// that `follow(from, link)` accepts. Returns which indices were reached; each index
    /// is visited once, so the walk is linear in nodes plus edges.
    pub fn reach(
        &self,
        starts: impl IntoIterator<Item = usize>,
        follow: impl FnMut(usize, &Link<'a>) -> bool,
    ) -> Vec<bool> {
        self.reach_also(starts, follow, |_| None::<usize>)
    }

    /// [`Graph::reach`], also stepping from each reached index `n` to the indices
    /// `also(n)` names (routes that are not edges, such as a `fallback_target`).
    pub fn reach_also<I: IntoIterator<Item = usize>>(
        &self,
        starts: impl IntoIterator<Item = usize>,
        mut follow: impl FnMut(usize, &Link<'a>) -> bool,
        mut also: impl FnMut(usize) -> I,
    ) -> Vec<bool> {
        let mut seen = vec![false; self.len()];
        let mut queue = VecDeque::new();
        for s in starts {
            if !seen[s] {
                seen[s] = true;
                queue.push_back(s);
            }
        }
        while let Some(n) = queue.pop_front() {
            let linked = self.out_all[n]
                .iter()
                .filter(|link| follow(n, link))
                .map(|link| link.to);
            let targets: Vec<usize> = linked.chain(also(n)).collect();
            for m in targets {
                if !seen[m] {
                    seen[m] = true;
                    queue.push_back(m);
                }
            }
        }
        seen
    }
}
