//! The spawn plan: a validated workflow compiled for execution.
//!
//! Compiling decides, once, everything the run loop would otherwise recompute per
//! step: which handler runs each node (a bare start or exit agent becomes a no-op
//! `start`/`exit` handler), every edge in the reference's iteration order (explicit
//! edges first, then those implied by `parallel` and `fan_in`), each node's outgoing
//! edge list, each `parallel`'s join, and the graph attributes the run context is
//! seeded with (`graph.goal`, `graph.max_restarts`, …).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use dippin::ir::{Condition, Node, NodeConfig, Selector, StyleRule, Workflow};

use crate::attrs::{node_attrs, Attrs};
use crate::spec::{KindSpec, NodeSpec, SpecError, Styled, Text};
use crate::wire_enum::wire_enum;

wire_enum! {
    /// What executes a node. The wire names are the reference's handler names, which
    /// appear in events, traces and the conformance goldens.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum Handler {
        /// The start node when it is a bare agent: a no-op that succeeds.
        Start => "start",
        /// The exit node when it is a bare agent: a no-op that succeeds.
        Exit => "exit",
        /// An LLM agent session.
        Codergen => "codergen",
        /// A shell command.
        Tool => "tool",
        /// A human gate.
        Human => "wait.human",
        /// A routing-only node: always succeeds.
        Conditional => "conditional",
        /// Fan-out over branches.
        Parallel => "parallel",
        /// Fan-in of branch results.
        FanIn => "parallel.fan_in",
        /// A child workflow run to completion.
        Subgraph => "subgraph",
        /// A supervised child pipeline.
        ManagerLoop => "stack.manager_loop",
    }
}

impl Handler {
    /// The Graphviz shape the reference gives the node (used by stylesheet kind
    /// selectors and shown by `simulate`).
    pub fn shape(self) -> &'static str {
        match self {
            Handler::Start => "Mdiamond",
            Handler::Exit => "Msquare",
            Handler::Codergen => "box",
            Handler::Tool => "parallelogram",
            Handler::Human => "hexagon",
            Handler::Conditional => "diamond",
            Handler::Parallel => "component",
            Handler::FanIn => "tripleoctagon",
            Handler::Subgraph => "tab",
            Handler::ManagerLoop => "house",
        }
    }

    /// The handler a node of this configuration runs, before the start/exit rule.
    fn for_config(config: &NodeConfig) -> Handler {
        match config {
            NodeConfig::Agent(_) => Handler::Codergen,
            NodeConfig::Human(_) => Handler::Human,
            NodeConfig::Tool(_) => Handler::Tool,
            NodeConfig::Parallel(_) => Handler::Parallel,
            NodeConfig::FanIn(_) => Handler::FanIn,
            NodeConfig::Subgraph(_) => Handler::Subgraph,
            NodeConfig::Conditional => Handler::Conditional,
            NodeConfig::ManagerLoop(_) => Handler::ManagerLoop,
        }
    }
}

/// Index of a node in [`SpawnPlan::nodes`].
pub type NodeIndex = usize;

/// One node ready to execute.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanNode {
    /// The node's id.
    pub id: String,
    /// Display name: the label, or the id when the label is empty.
    pub label: String,
    /// What runs it.
    pub handler: Handler,
    /// The node as declared.
    pub declared: Node,
    /// Its settings, typed: what the engine and its handler read. Shared, so
    /// that an attempt of a node whose settings name no `$variable` costs no
    /// copy.
    pub spec: Arc<NodeSpec>,
    /// Its settings as the reference's string attributes (§1.2): a derived
    /// view for `simulate` and the command line; nothing at run time reads it.
    pub attrs: Attrs,
}

/// One edge in iteration order.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanEdge {
    /// Source node.
    pub from: NodeIndex,
    /// Target node.
    pub to: NodeIndex,
    /// Target id (the routing key of last resort).
    pub to_id: String,
    /// Display label.
    pub label: String,
    /// Explicit human-gate choice key.
    pub choice: String,
    /// The guard, if any.
    pub condition: Option<Condition>,
    /// Weight for the unconditional tiebreak (0 when unset).
    pub weight: i64,
    /// Marked `loop`/`restart: true` (informational: every edge into a completed
    /// node restarts, as in the reference).
    pub restart: bool,
    /// May override a failed validation.
    pub override_: bool,
    /// Implied by a `parallel` or `fan_in` rather than written.
    pub implicit: bool,
    /// The workflow's `else` default out of a node whose edges all have
    /// conditions: taken only when none holds, and not among the node's
    /// [`outgoing`](SpawnPlan::outgoing) edges (so never a gate's option).
    pub otherwise: bool,
}

impl PlanEdge {
    /// An edge from `from` to `to` (`to_id`) with nothing on it: no label,
    /// no condition, no weight, no marks.
    fn bare(from: NodeIndex, to: NodeIndex, to_id: &str) -> PlanEdge {
        PlanEdge {
            from,
            to,
            to_id: to_id.to_string(),
            label: String::new(),
            choice: String::new(),
            condition: None,
            weight: 0,
            restart: false,
            override_: false,
            implicit: false,
            otherwise: false,
        }
    }

    /// The key a preferred label is matched against: `choice`, else `label`, else
    /// the target id.
    pub fn routing_key(&self) -> &str {
        if !self.choice.is_empty() {
            &self.choice
        } else if !self.label.is_empty() {
            &self.label
        } else {
            &self.to_id
        }
    }
}

/// Why a workflow could not be compiled. Validation catches all of these first;
/// the plan checks again so it never holds dangling indexes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// `start:` names no node.
    #[error("start node {0:?} does not exist")]
    UnknownStart(String),
    /// `exit:` names no node.
    #[error("exit node {0:?} does not exist")]
    UnknownExit(String),
    /// An edge endpoint names no node.
    #[error("edge {from} -> {to} references an unknown node")]
    UnknownEndpoint {
        /// Source id.
        from: String,
        /// Target id.
        to: String,
    },
    /// Two nodes share an id.
    #[error("duplicate node id {0:?}")]
    DuplicateNode(String),
    /// A node declares a setting the runtime cannot use.
    #[error(transparent)]
    Setting(#[from] SpecError),
}

/// A workflow compiled for execution.
#[derive(Clone, Debug, PartialEq)]
pub struct SpawnPlan {
    /// The workflow's name.
    pub name: String,
    /// Nodes in declaration order.
    pub nodes: Vec<PlanNode>,
    /// Edges in iteration order: explicit, then implied.
    pub edges: Vec<PlanEdge>,
    /// The start node.
    pub start: NodeIndex,
    /// The exit node.
    pub exit: NodeIndex,
    /// Graph attributes, seeded into the context as `graph.<key>`.
    pub graph_attrs: BTreeMap<String, String>,
    index: HashMap<String, NodeIndex>,
    outgoing: Vec<Vec<usize>>,
    joins: HashMap<NodeIndex, NodeIndex>,
    /// The `else` edge of each node that has one, by node.
    otherwise: HashMap<NodeIndex, usize>,
}

impl SpawnPlan {
    /// Compiles a workflow that passed validation.
    pub fn compile(wf: &Workflow) -> Result<SpawnPlan, PlanError> {
        let mut index: HashMap<String, NodeIndex> = HashMap::with_capacity(wf.nodes.len());
        for (i, node) in wf.nodes.iter().enumerate() {
            if index.insert(node.id.clone(), i).is_some() {
                return Err(PlanError::DuplicateNode(node.id.clone()));
            }
        }
        let start = *index
            .get(&wf.start)
            .ok_or_else(|| PlanError::UnknownStart(wf.start.clone()))?;
        let exit = *index
            .get(&wf.exit)
            .ok_or_else(|| PlanError::UnknownExit(wf.exit.clone()))?;
        let nodes = wf
            .nodes
            .iter()
            .enumerate()
            .map(|(i, node)| {
                let handler = handler_for(node, i == start, i == exit);
                let styled = styled(node, handler, &wf.stylesheet);
                Ok(PlanNode {
                    id: node.id.clone(),
                    label: if node.label.is_empty() {
                        node.id.clone()
                    } else {
                        node.label.clone()
                    },
                    handler,
                    attrs: styled_attrs(node, &styled),
                    spec: Arc::new(NodeSpec::compile(
                        node,
                        matches!(handler, Handler::Start | Handler::Exit),
                        &styled,
                    )?),
                    declared: node.clone(),
                })
            })
            .collect::<Result<Vec<_>, SpecError>>()?;
        let mut plan = SpawnPlan {
            name: wf.name.clone(),
            nodes,
            edges: Vec::with_capacity(wf.edges.len()),
            start,
            exit,
            graph_attrs: graph_attrs(wf),
            index,
            outgoing: vec![Vec::new(); wf.nodes.len()],
            joins: HashMap::new(),
            otherwise: HashMap::new(),
        };
        for edge in &wf.edges {
            let (Some(&from), Some(&to)) = (plan.index.get(&edge.from), plan.index.get(&edge.to))
            else {
                return Err(PlanError::UnknownEndpoint {
                    from: edge.from.clone(),
                    to: edge.to.clone(),
                });
            };
            plan.push_edge(PlanEdge {
                from,
                to,
                to_id: edge.to.clone(),
                label: edge.label.clone(),
                choice: edge.choice.clone(),
                condition: edge.condition.clone(),
                weight: edge.weight,
                restart: edge.restart,
                override_: edge.override_,
                implicit: false,
                otherwise: false,
            });
        }
        plan.add_implicit_edges(wf)?;
        if let Some(target) = &wf.else_target {
            plan.add_else_edges(target)?;
        }
        Ok(plan)
    }

    /// Makes the workflow and every agent node use `provider` and `model` where
    /// given (`--provider`, `--model`), whatever they declare. A forced
    /// provider also drops the `llm_fallbacks` lanes: they would send calls to
    /// the providers it was given to replace.
    pub fn override_agents(&mut self, provider: Option<&str>, model: Option<&str>) {
        if provider.is_some() {
            self.graph_attrs.remove("llm_fallbacks");
            for node in &mut self.nodes {
                if let KindSpec::Agent(agent) = &mut Arc::make_mut(&mut node.spec).kind {
                    agent.fallbacks = Text::default();
                }
            }
        }
        for (key, value) in [("llm_provider", provider), ("llm_model", model)] {
            let Some(value) = value else { continue };
            self.graph_attrs.insert(key.into(), value.to_string());
            for node in self
                .nodes
                .iter_mut()
                .filter(|n| n.handler == Handler::Codergen)
            {
                node.attrs.insert(key.into(), value.to_string());
                if let KindSpec::Agent(agent) = &mut Arc::make_mut(&mut node.spec).kind {
                    let slot = if key == "llm_provider" {
                        &mut agent.provider
                    } else {
                        &mut agent.model
                    };
                    *slot = Text::new(value);
                }
            }
        }
    }

    /// The index of the node with `id`.
    pub fn node_index(&self, id: &str) -> Option<NodeIndex> {
        self.index.get(id).copied()
    }

    /// The node at `index`.
    pub fn node(&self, index: NodeIndex) -> &PlanNode {
        &self.nodes[index]
    }

    /// Outgoing edges of `node`, in iteration order.
    pub fn outgoing(&self, node: NodeIndex) -> impl Iterator<Item = &PlanEdge> + '_ {
        self.outgoing[node].iter().map(move |&e| &self.edges[e])
    }

    /// Outgoing edges of `node` with their indexes in [`SpawnPlan::edges`], in
    /// iteration order.
    pub fn outgoing_indexed(
        &self,
        node: NodeIndex,
    ) -> impl Iterator<Item = (usize, &PlanEdge)> + '_ {
        self.outgoing[node]
            .iter()
            .map(move |&e| (e, &self.edges[e]))
    }

    /// The index in [`SpawnPlan::edges`] of the workflow's `else` edge out of
    /// `node`, when it has one: where it goes when none of its conditions
    /// holds.
    pub fn else_edge(&self, node: NodeIndex) -> Option<usize> {
        self.otherwise.get(&node).copied()
    }

    /// The `fan_in` a `parallel` joins at, if any.
    pub fn join_of(&self, parallel: NodeIndex) -> Option<NodeIndex> {
        self.joins.get(&parallel).copied()
    }

    /// `from` and every node reachable from it (breadth-first, each once): what a
    /// restart or retry clears.
    pub fn downstream(&self, from: NodeIndex) -> Vec<NodeIndex> {
        let mut seen = vec![false; self.nodes.len()];
        let mut order = vec![from];
        seen[from] = true;
        let mut queue = VecDeque::from([from]);
        while let Some(n) = queue.pop_front() {
            for edge in self.outgoing(n) {
                if !seen[edge.to] {
                    seen[edge.to] = true;
                    order.push(edge.to);
                    queue.push_back(edge.to);
                }
            }
        }
        order
    }

    fn push_edge(&mut self, edge: PlanEdge) {
        self.outgoing[edge.from].push(self.edges.len());
        self.edges.push(edge);
    }

    /// Gives every node whose outgoing edges all have conditions an edge to
    /// the workflow's `else` target (dippin-language §4: "any node whose
    /// guards all fail and that has no unconditional edge goes to X"). A
    /// node with no edge at all gets none: it is an exit or a dead end.
    fn add_else_edges(&mut self, target: &str) -> Result<(), PlanError> {
        let Some(&to) = self.index.get(target) else {
            return Err(PlanError::UnknownEndpoint {
                from: "else".to_string(),
                to: target.to_string(),
            });
        };
        for from in 0..self.nodes.len() {
            let guarded = !self.outgoing[from].is_empty()
                && self.outgoing(from).all(|e| {
                    e.condition
                        .as_ref()
                        .is_some_and(|c| !c.raw.trim().is_empty())
                });
            if guarded {
                self.otherwise.insert(from, self.edges.len());
                self.edges.push(PlanEdge {
                    otherwise: true,
                    ..PlanEdge::bare(from, to, target)
                });
            }
        }
        Ok(())
    }

    /// Adds the edges `parallel` and `fan_in` imply, skipping pairs already present,
    /// and records each `parallel`'s join: the `fan_in` listing its first target.
    fn add_implicit_edges(&mut self, wf: &Workflow) -> Result<(), PlanError> {
        let mut present: HashSet<(NodeIndex, NodeIndex)> =
            self.edges.iter().map(|e| (e.from, e.to)).collect();
        let mut join_by_first_source: HashMap<&str, &str> = HashMap::new();
        for node in &wf.nodes {
            if let NodeConfig::FanIn(f) = &node.config {
                for source in &f.sources {
                    join_by_first_source
                        .entry(source.as_str())
                        .or_insert(&node.id);
                }
            }
        }
        for node in &wf.nodes {
            let pairs: Vec<(&str, &str)> = match &node.config {
                NodeConfig::Parallel(p) => {
                    let mut pairs: Vec<(&str, &str)> = p
                        .targets
                        .iter()
                        .map(|t| (node.id.as_str(), t.as_str()))
                        .collect();
                    let join = p
                        .targets
                        .first()
                        .and_then(|first| join_by_first_source.get(first.as_str()));
                    if let Some(join) = join {
                        pairs.push((node.id.as_str(), join));
                        if let (Some(&fork), Some(&join)) =
                            (self.index.get(&node.id), self.index.get(*join))
                        {
                            self.joins.insert(fork, join);
                        }
                    }
                    pairs
                }
                NodeConfig::FanIn(f) => f
                    .sources
                    .iter()
                    .map(|s| (s.as_str(), node.id.as_str()))
                    .collect(),
                _ => continue,
            };
            for (from_id, to_id) in pairs {
                let (Some(&from), Some(&to)) = (self.index.get(from_id), self.index.get(to_id))
                else {
                    return Err(PlanError::UnknownEndpoint {
                        from: from_id.to_string(),
                        to: to_id.to_string(),
                    });
                };
                if present.insert((from, to)) {
                    self.push_edge(PlanEdge {
                        implicit: true,
                        ..PlanEdge::bare(from, to, to_id)
                    });
                }
            }
        }
        Ok(())
    }
}

/// What the workflow's stylesheet gives `node`: the matching rules' `llm_model`,
/// `llm_provider` and `reasoning_effort`, the most specific rule winning (`*` <
/// kind < `.class` < `#id`, later rules winning ties). A kind selector matches
/// the node's shape (`box`, as the reference does) or its Dippin kind (`agent`).
/// They apply only where the node sets none itself.
fn styled(node: &Node, handler: Handler, stylesheet: &[StyleRule]) -> Styled {
    let mut styled = Styled::default();
    if stylesheet.is_empty() {
        return styled;
    }
    let mut matching: Vec<(u8, usize, &StyleRule)> = stylesheet
        .iter()
        .enumerate()
        .filter_map(|(order, rule)| {
            let specificity = match &rule.selector {
                Selector::Universal => 0,
                Selector::Kind(k) if k == handler.shape() || k == node.kind().as_str() => 1,
                Selector::Class(c) if node.classes.contains(c) => 2,
                Selector::Id(id) if *id == node.id => 3,
                _ => return None,
            };
            Some((specificity, order, rule))
        })
        .collect();
    // Most specific (and, among equals, latest) first: the first to set a
    // property wins.
    matching.sort_by_key(|&(specificity, order, _)| std::cmp::Reverse((specificity, order)));
    for (_, _, rule) in matching {
        for (property, value) in &rule.properties {
            let slot = match property.as_str() {
                "llm_model" | "model" => &mut styled.model,
                "llm_provider" | "provider" => &mut styled.provider,
                "reasoning_effort" => &mut styled.reasoning_effort,
                _ => continue,
            };
            if !value.is_empty() && slot.is_none() {
                *slot = Some(value.clone());
            }
        }
    }
    styled
}

/// `node`'s reference attributes with the stylesheet's values filled in where
/// it sets none.
fn styled_attrs(node: &Node, styled: &Styled) -> Attrs {
    let mut attrs = node_attrs(node);
    for (key, value) in [
        ("llm_model", &styled.model),
        ("llm_provider", &styled.provider),
        ("reasoning_effort", &styled.reasoning_effort),
    ] {
        if let Some(value) = value {
            attrs
                .entry(key.to_string())
                .or_insert_with(|| value.clone());
        }
    }
    attrs
}

/// The handler for `node`: bare start/exit agents (no prompt) become no-ops;
/// anything else keeps its real handler.
fn handler_for(node: &Node, is_start: bool, is_exit: bool) -> Handler {
    let handler = Handler::for_config(&node.config);
    let bare = matches!(&node.config, NodeConfig::Agent(a) if a.prompt.trim().is_empty());
    match (bare, is_start, is_exit) {
        (true, true, _) => Handler::Start,
        (true, _, true) => Handler::Exit,
        _ => handler,
    }
}

/// The graph attributes of §1.2, under the reference's names. Empty and zero values
/// are left out, as the reference's adapter does.
fn graph_attrs(wf: &Workflow) -> BTreeMap<String, String> {
    let d = &wf.defaults;
    let mut attrs = BTreeMap::new();
    let mut put = |key: &str, value: String| {
        if !value.is_empty() {
            attrs.insert(key.to_string(), value);
        }
    };
    let nonzero = |n: i64| if n == 0 { String::new() } else { n.to_string() };
    put("goal", wf.goal.clone());
    put("version", wf.version.to_string());
    put("llm_model", d.model.clone());
    put("llm_provider", d.provider.clone());
    put("tool_commands_allow", d.tool_commands_allow.clone());
    put("tool_denylist_add", d.tool_denylist_add.clone());
    put("default_retry_policy", d.retry_policy.clone());
    put("default_max_retry", nonzero(d.max_retries));
    put("default_fidelity", d.fidelity.clone());
    put("max_restarts", nonzero(d.max_restarts));
    put("restart_target", d.restart_target.clone());
    put("fallback_target", d.on_failure.clone());
    put(
        "cache_tool_results",
        if d.cache_tools {
            "true".into()
        } else {
            String::new()
        },
    );
    put("context_compaction", d.compaction.clone());
    put("on_resume", d.on_resume.clone());
    put("max_total_tokens", nonzero(d.max_total_tokens));
    put("max_cost_cents", nonzero(d.max_cost_cents));
    if !d.max_wall_time.is_zero() {
        put("max_wall_time", d.max_wall_time.to_string());
    }
    if !d.stall_timeout.is_zero() {
        put("stall_timeout", d.stall_timeout.to_string());
    }
    put("requires", wf.requires.join(","));
    for (key, value) in &wf.vars {
        put(&format!("params.{key}"), value.clone());
    }
    attrs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(src: &str) -> SpawnPlan {
        let (wf, diags) = dippin::parse_dip(src);
        assert!(diags.is_empty(), "{diags:?}");
        SpawnPlan::compile(&wf).expect("compiles")
    }

    fn golden(name: &str) -> SpawnPlan {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/conformance/golden")
            .join(name);
        let doc = dippin::load_file(&path).expect("fixture readable");
        assert!(!doc.has_errors(), "{:?}", doc.diagnostics);
        SpawnPlan::compile(&doc.workflow).expect("compiles")
    }

    #[test]
    fn bare_start_and_exit_agents_become_no_ops() {
        let plan = golden("control_flow.dip");
        let handler = |id: &str| plan.node(plan.node_index(id).expect("node")).handler;
        assert_eq!(handler("Start").wire_name(), "start");
        assert_eq!(handler("Done").wire_name(), "exit");
        assert_eq!(handler("Setup").wire_name(), "tool");
        assert_eq!(handler("Approve").wire_name(), "wait.human");
        assert_eq!(handler("Ship").wire_name(), "codergen");
    }

    #[test]
    fn start_with_a_prompt_keeps_its_handler() {
        let plan = compile("workflow W\n  start: A\n  exit: B\n  agent A\n    prompt: go\n  agent B\n    label: B\n  edges\n    A -> B\n");
        assert_eq!(plan.node(plan.start).handler, Handler::Codergen);
        assert_eq!(plan.node(plan.exit).handler, Handler::Exit);
    }

    #[test]
    fn implicit_fan_edges_follow_explicit_ones_and_find_the_join() {
        let plan = compile("workflow P\n  start: S\n  exit: J\n  agent S\n    prompt: s\n  agent A\n    prompt: a\n  agent B\n    prompt: b\n  parallel F -> A, B\n  fan_in J <- A, B\n  edges\n    S -> F\n    A -> J\n");
        let order: Vec<(String, String, bool)> = plan
            .edges
            .iter()
            .map(|e| (plan.node(e.from).id.clone(), e.to_id.clone(), e.implicit))
            .collect();
        let expected = [
            ("S", "F", false),
            ("A", "J", false),
            ("F", "A", true),
            ("F", "B", true),
            ("F", "J", true),
            ("B", "J", true),
        ];
        let expected: Vec<(String, String, bool)> = expected
            .iter()
            .map(|(a, b, i)| (a.to_string(), b.to_string(), *i))
            .collect();
        assert_eq!(order, expected);
        let fork = plan.node_index("F").expect("F");
        assert_eq!(plan.join_of(fork), plan.node_index("J"));
    }

    #[test]
    fn routing_key_prefers_choice_then_label_then_target() {
        let plan = compile("workflow G\n  start: H\n  exit: X\n  human H\n    mode: choice\n  agent Y\n    prompt: y\n  agent X\n    label: X\n  edges\n    H -> X  label: Ship  choice: s\n    H -> Y  label: Again\n    Y -> X\n");
        let keys: Vec<&str> = plan
            .outgoing(plan.start)
            .map(PlanEdge::routing_key)
            .collect();
        assert_eq!(keys, ["s", "Again"]);
        let y = plan.node_index("Y").expect("Y");
        assert_eq!(
            plan.outgoing(y).next().map(PlanEdge::routing_key),
            Some("X")
        );
    }

    #[test]
    fn downstream_is_breadth_first_and_inclusive() {
        let plan = compile("workflow D\n  start: A\n  exit: D\n  agent A\n    prompt: a\n  agent B\n    prompt: b\n  agent C\n    prompt: c\n  agent D\n    label: D\n  edges\n    A -> B\n    A -> C\n    B -> D\n    C -> A  loop\n");
        let ids: Vec<&str> = plan
            .downstream(plan.node_index("B").expect("B"))
            .into_iter()
            .map(|i| plan.node(i).id.as_str())
            .collect();
        assert_eq!(ids, ["B", "D"]);
        assert_eq!(plan.downstream(plan.start).len(), 4);
    }

    #[test]
    fn graph_attributes_use_the_reference_names() {
        let plan = compile("workflow G\n  goal: ship\n  start: A\n  exit: A\n  defaults\n    model: m\n    on_failure: A\n    max_restarts: 3\n    max_wall_time: 5m\n  vars\n    repo: x\n  agent A\n    label: A\n");
        let attrs = &plan.graph_attrs;
        assert_eq!(attrs["goal"], "ship");
        assert_eq!(attrs["llm_model"], "m");
        assert_eq!(attrs["fallback_target"], "A");
        assert_eq!(attrs["max_restarts"], "3");
        assert_eq!(attrs["max_wall_time"], "5m0s");
        assert_eq!(attrs["params.repo"], "x");
        assert_eq!(attrs["version"], "1");
    }

    #[test]
    fn the_stylesheet_fills_unset_models_by_specificity() {
        let plan = compile("workflow S\n  start: A\n  exit: C\n  agent A\n    class: fast\n    prompt: a\n  agent B\n    model: mine\n    prompt: b\n  agent C\n    prompt: c\n  stylesheet:\n    *\n      llm_model: base\n      llm_provider: anthropic\n    agent\n      llm_model: kind\n    .fast\n      llm_model: quick\n    #C\n      reasoning_effort: high\n  edges\n    A -> B\n    B -> C\n");
        let attrs = |id: &str| plan.node(plan.node_index(id).expect("node")).attrs.clone();
        assert_eq!(attrs("A")["llm_model"], "quick");
        assert_eq!(attrs("B")["llm_model"], "mine");
        assert_eq!(attrs("C")["llm_model"], "kind");
        assert_eq!(attrs("C")["llm_provider"], "anthropic");
        assert_eq!(attrs("C")["reasoning_effort"], "high");
        assert!(!attrs("A").contains_key("reasoning_effort"));
    }

    #[test]
    fn every_conformance_fixture_compiles() {
        for name in [
            "agent_linear.dip",
            "control_flow.dip",
            "parallel_fanin.dip",
            "retry_exhausted.dip",
            "subgraph.dip",
            "tool_failure.dip",
        ] {
            let plan = golden(name);
            assert!(!plan.nodes.is_empty(), "{name}");
        }
    }

    #[test]
    fn a_forced_provider_drops_the_fallback_lanes() {
        let mut plan = compile("workflow F\n  start: A\n  exit: B\n  agent A\n    prompt: a\n    params:\n      llm_fallbacks: openai/gpt-5.4\n  agent B\n    label: B\n  edges\n    A -> B\n");
        let lanes = |plan: &SpawnPlan| match &plan.node(0).spec.kind {
            KindSpec::Agent(agent) => agent.fallbacks.as_str().to_string(),
            _ => String::new(),
        };
        assert_eq!(lanes(&plan), "openai/gpt-5.4");
        plan.override_agents(None, Some("m"));
        assert_eq!(lanes(&plan), "openai/gpt-5.4", "a model alone keeps them");
        plan.override_agents(Some("stub"), None);
        assert_eq!(lanes(&plan), "");
    }
}
