//! The scenario simulator (dippin-language §11): walks a plan without running
//! anything, choosing each next edge from a scenario's context the way
//! `dippin test` does, so that a workflow's routing can be tested without a
//! model, a shell or a person.
//!
//! The rules, in the order they apply at each node:
//!
//! - The scenario's `Node.key` values are applied when `Node` is visited (an
//!   empty value deletes the key); then the auto-defaults, what a run's node
//!   would set: an agent, a conditional node and a gate set `outcome=success`
//!   (a yes/no gate `fail` on a "no": its `preferred_label` or
//!   `human_response`, else its `default`), a tool sets `tool_stdout=success` and
//!   `outcome=success`, and a tool with `marker_grep` sets `tool_marker` to the
//!   marker a run would read from `tool_stdout` (the last matching line, its
//!   first group if the pattern has one: [`crate::marker::find`]) — each unless
//!   the scenario gives the key, globally or for that node. (The reference's
//!   simulator took the first whole match and set the outcome at agents with
//!   `auto_status` and tools only: tests passed on routes no run takes.)
//! - Reaching the exit node ends the walk `success`; a node with no outgoing
//!   edge ends it `dead_end`; it is stopped after [`step_limit`] visits —
//!   [`MAX_STEPS`], or more for a workflow large enough to need them without
//!   a loop (`simulation exceeded 500 steps (possible infinite loop)`) — with
//!   the path so far.
//! - A parallel node walks each branch (only those the scenario lists, when it
//!   lists any) up to its fan-in, then continues from the fan-in.
//! - A node visited more than the visit cap breaks its loop: a gate with a
//!   `default` takes the default's edge; otherwise the first conditional edge
//!   that does not match, else the first unconditional edge, else the first.
//! - A human gate with a `preferred_label` in the context takes the first edge
//!   whose label contains it (case-insensitively; an exact label first), and
//!   the key is cleared; one with a `default` and no preference takes the
//!   edge whose routing key is the default exactly, as a run does (a default
//!   naming no option takes none). The graph's attributes are in the context as `graph.<key>`.
//! - Otherwise the first conditional edge that matches, in declaration order,
//!   then the first unconditional edge, then the workflow's `else` target (as
//!   a run takes it), then the first edge.
//!
//! Conditions are evaluated by the runtime's own evaluator
//! ([`crate::condition`]). Where the simulator differs from a run on purpose:
//! it never fails a node (no retries, no `fallback_target`, no goal gates), and
//! edge weights do not order unconditional edges (declaration order does), as
//! in the reference's simulator.

use std::collections::{BTreeMap, HashMap};

use crate::condition::evaluate_condition;
use crate::plan::{Handler, NodeIndex, PlanEdge, SpawnPlan};
use crate::routing::guard;
use crate::spec::{GateMode, KindSpec, Setting};

/// The most node visits one walk may make, in a workflow of up to
/// `MAX_STEPS / (visit cap + 1)` nodes (the reference's limit).
pub const MAX_STEPS: usize = 500;

/// How many visits of one node a scenario test allows before it breaks the
/// loop (the reference runner's cap).
pub const TEST_VISIT_CAP: usize = 3;

/// What a scenario sets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scenario {
    /// Context keys set before the walk starts.
    pub context: BTreeMap<String, String>,
    /// Keys set when a node is visited, by node id (an empty value deletes).
    pub per_node: BTreeMap<String, BTreeMap<String, String>>,
    /// The parallel branches to walk (all when empty).
    pub branches: Vec<String>,
}

impl Scenario {
    /// A scenario from its flat map: `Node.key` entries, where `Node` is a node
    /// of `plan`, apply to that node; every other entry is a context key.
    pub fn from_map(plan: &SpawnPlan, map: BTreeMap<String, String>) -> Scenario {
        let mut scenario = Scenario::default();
        for (key, value) in map {
            match key.split_once('.') {
                Some((node, inner)) if plan.node_index(node).is_some() && !inner.is_empty() => {
                    scenario
                        .per_node
                        .entry(node.to_string())
                        .or_default()
                        .insert(inner.to_string(), value);
                }
                _ => {
                    scenario.context.insert(key, value);
                }
            }
        }
        scenario
    }

    /// Whether the scenario gives `key`, globally or for node `node`.
    fn gives(&self, node: &str, key: &str) -> bool {
        self.context.contains_key(key)
            || self
                .per_node
                .get(node)
                .is_some_and(|keys| keys.contains_key(key))
    }
}

/// How a walk ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// It reached the exit node.
    Success,
    /// It reached a node with no outgoing edge.
    DeadEnd,
    /// It was stopped after [`Walk::step_limit`] visits: it has no status.
    StepLimit,
}

impl Ending {
    /// The name scenario files use.
    pub fn as_str(self) -> &'static str {
        match self {
            Ending::Success => "success",
            Ending::DeadEnd => "dead_end",
            Ending::StepLimit => "stopped",
        }
    }
}

/// A finished walk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Walk {
    /// How it ended.
    pub ending: Ending,
    /// Every node visited, in order.
    pub path: Vec<String>,
    /// The nodes whose loop was broken by the visit cap, in order.
    pub loop_breaks: Vec<String>,
    /// The most visits it could make.
    pub step_limit: usize,
}

impl Walk {
    /// What a walk stopped by its step limit says.
    pub fn step_limit_message(&self) -> String {
        format!(
            "simulation exceeded {} steps (possible infinite loop)",
            self.step_limit
        )
    }
}

/// The most visits a walk of `plan` may make: [`MAX_STEPS`], or as many as
/// visiting every node past the visit cap takes, when that is more (a long
/// workflow without a loop must be able to end).
pub fn step_limit(plan: &SpawnPlan, visit_cap: usize) -> usize {
    MAX_STEPS.max(plan.nodes.len().saturating_mul(visit_cap.saturating_add(1)))
}

/// Walks `plan` under `scenario`, breaking loops after `visit_cap` visits of a
/// node.
pub fn walk(plan: &SpawnPlan, scenario: &Scenario, visit_cap: usize) -> Walk {
    // The graph's attributes, as a run seeds them (`graph.goal`, …), unless
    // the scenario gives them.
    let mut context = scenario.context.clone();
    for (key, value) in &plan.graph_attrs {
        context
            .entry(format!("graph.{key}"))
            .or_insert_with(|| value.clone());
    }
    let mut walker = Walker {
        plan,
        scenario,
        visit_cap,
        step_limit: step_limit(plan, visit_cap),
        context,
        visits: HashMap::new(),
        path: Vec::new(),
        loop_breaks: Vec::new(),
    };
    let ending = walker.from(plan.start, None);
    Walk {
        ending: ending.unwrap_or(Ending::Success),
        path: walker.path,
        loop_breaks: walker.loop_breaks,
        step_limit: walker.step_limit,
    }
}

struct Walker<'a> {
    plan: &'a SpawnPlan,
    scenario: &'a Scenario,
    visit_cap: usize,
    step_limit: usize,
    context: BTreeMap<String, String>,
    visits: HashMap<NodeIndex, usize>,
    path: Vec<String>,
    loop_breaks: Vec<String>,
}

impl Walker<'_> {
    /// Walks from `node` until the exit, a dead end, the step limit, or
    /// `stop` (a fan-in reached by a branch: `None` is returned then).
    fn from(&mut self, mut node: NodeIndex, stop: Option<NodeIndex>) -> Option<Ending> {
        loop {
            if Some(node) == stop {
                return None;
            }
            if self.path.len() >= self.step_limit {
                return Some(Ending::StepLimit);
            }
            self.visit(node);
            if node == self.plan.exit {
                return Some(Ending::Success);
            }
            if self.plan.node(node).handler == Handler::Parallel {
                if let Some(join) = self.plan.join_of(node) {
                    for branch in self.branches(node) {
                        if let Some(ending) = self.from(branch, Some(join)) {
                            return Some(ending);
                        }
                    }
                    node = join;
                    continue;
                }
            }
            match self.next(node) {
                Some(next) => node = next,
                None => return Some(Ending::DeadEnd),
            }
        }
    }

    /// Records a visit and applies the scenario's keys and the auto-defaults.
    fn visit(&mut self, node: NodeIndex) {
        let plan_node = self.plan.node(node);
        let id = plan_node.id.as_str();
        self.path.push(id.to_string());
        *self.visits.entry(node).or_default() += 1;
        if let Some(keys) = self.scenario.per_node.get(id) {
            for (key, value) in keys {
                if value.is_empty() {
                    self.context.remove(key);
                } else {
                    self.context.insert(key.clone(), value.clone());
                }
            }
        }
        let answered = self.gate_outcome(node);
        let mut default = |key: &str, value: &str| {
            if !self.scenario.gives(id, key) {
                self.context.insert(key.to_string(), value.to_string());
            }
        };
        match &plan_node.spec.kind {
            // A run's agent that returns succeeds, and so does a conditional
            // node (engine-semantics §10.1): each sets the outcome.
            KindSpec::Agent(_) => default("outcome", "success"),
            KindSpec::Plain if plan_node.handler == Handler::Conditional => {
                default("outcome", "success");
            }
            // A gate's answer is its outcome in a run.
            KindSpec::Human(_) => {
                if let Some(outcome) = answered {
                    default("outcome", outcome);
                }
            }
            KindSpec::Tool(tool) => {
                default("tool_stdout", "success");
                default("outcome", "success");
                if !tool.marker_grep.is_empty() && !self.scenario.gives(id, "tool_marker") {
                    let stdout = self.context.get("tool_stdout").cloned().unwrap_or_default();
                    if let Some(found) = regex::Regex::new(tool.marker_grep.as_str())
                        .ok()
                        .and_then(|re| crate::marker::find(&re, &stdout))
                    {
                        self.context.insert("tool_marker".into(), found);
                    }
                }
            }
            _ => {}
        }
    }

    /// The outcome a run's gate `node` would have: a yes/no gate fails on a
    /// "no" (its `preferred_label` or `human_response`, else its `default`)
    /// and succeeds otherwise, as an unattended run's "yes" does; any other
    /// gate succeeds. `None` when `node` is no gate.
    fn gate_outcome(&self, node: NodeIndex) -> Option<&'static str> {
        let KindSpec::Human(human) = &self.plan.node(node).spec.kind else {
            return None;
        };
        if !matches!(human.mode, Setting::Ready(GateMode::YesNo)) {
            return Some("success");
        }
        let yes_or_no = |answer: &str| match answer.trim().to_lowercase().as_str() {
            "yes" | "y" => Some("success"),
            "no" | "n" => Some("fail"),
            _ => None,
        };
        ["preferred_label", "human_response"]
            .iter()
            .filter_map(|key| self.context.get(*key))
            .find_map(|answer| yes_or_no(answer))
            .or_else(|| yes_or_no(human.default_choice.as_str()))
            .or(Some("success"))
    }

    /// The branches of parallel node `node` the scenario walks.
    fn branches(&self, node: NodeIndex) -> Vec<NodeIndex> {
        let KindSpec::Parallel(parallel) = &self.plan.node(node).spec.kind else {
            return Vec::new();
        };
        parallel
            .targets
            .iter()
            .filter(|t| self.scenario.branches.is_empty() || self.scenario.branches.contains(t))
            .filter_map(|t| self.plan.node_index(t))
            .collect()
    }

    /// The node after `node`, by the rules in the module docs.
    fn next(&mut self, node: NodeIndex) -> Option<NodeIndex> {
        let edges: Vec<&PlanEdge> = self.plan.outgoing(node).collect();
        let first = edges.first()?;
        let plan_node = self.plan.node(node);
        let gate_default = match &plan_node.spec.kind {
            KindSpec::Human(human) if !human.default_choice.is_empty() => {
                keyed(&edges, human.default_choice.as_str())
            }
            _ => None,
        };
        let over_cap = self.visits.get(&node).copied().unwrap_or(0) > self.visit_cap;
        if over_cap {
            self.loop_breaks.push(plan_node.id.clone());
            if let Some(edge) = gate_default {
                return Some(edge.to);
            }
            let unmatched = edges
                .iter()
                .find(|e| conditional(e) && !self.matches(e))
                .or_else(|| edges.iter().find(|e| !conditional(e)))
                .unwrap_or(first);
            return Some(unmatched.to);
        }
        if let [only] = edges.as_slice() {
            if !conditional(only) {
                return Some(only.to);
            }
        }
        if plan_node.handler == Handler::Human {
            let preferred = self
                .context
                .get("preferred_label")
                .filter(|p| !p.is_empty())
                .cloned();
            if let Some(preferred) = preferred {
                self.context.remove("preferred_label");
                if let Some(edge) = labelled(&edges, &preferred) {
                    return Some(edge.to);
                }
            }
            if let Some(edge) = gate_default {
                return Some(edge.to);
            }
        }
        let otherwise = self.plan.else_edge(node).map(|e| self.plan.edges[e].to);
        edges
            .iter()
            .find(|e| conditional(e) && self.matches(e))
            .or_else(|| edges.iter().find(|e| !conditional(e)))
            .map(|e| e.to)
            .or(otherwise)
            .or(Some(first.to))
    }

    /// Whether `edge`'s condition holds in the current context.
    fn matches(&self, edge: &PlanEdge) -> bool {
        guard(edge)
            .is_none_or(|condition| evaluate_condition(condition, &self.context).unwrap_or(false))
    }
}

/// Whether `edge` has a condition (the runtime's own test).
fn conditional(edge: &PlanEdge) -> bool {
    guard(edge).is_some()
}

/// The edge a gate's `default` picks in a run: the one whose routing key (its
/// `choice`, else its label, else its target) is `wanted` exactly. A default
/// that names no option picks none (a run then routes as if there were no
/// answer), whatever label merely contains it.
fn keyed<'e>(edges: &[&'e PlanEdge], wanted: &str) -> Option<&'e PlanEdge> {
    edges.iter().copied().find(|e| e.routing_key() == wanted)
}

/// The first edge whose label (or choice key) is `wanted`, else the first that
/// contains it, ignoring case: a default `approve` takes `approve`, not an
/// earlier `approve with changes`.
fn labelled<'e>(edges: &[&'e PlanEdge], wanted: &str) -> Option<&'e PlanEdge> {
    let wanted = wanted.to_lowercase();
    let texts = |e: &&'e PlanEdge| [e.label.to_lowercase(), e.choice.to_lowercase()];
    edges
        .iter()
        .copied()
        .find(|e| texts(e).contains(&wanted))
        .or_else(|| {
            edges.iter().copied().find(|e| {
                texts(e)
                    .iter()
                    .any(|t| !t.is_empty() && t.contains(&wanted))
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(source: &str) -> SpawnPlan {
        let doc = dippin::load_str("t.dip", source, None);
        assert!(!doc.has_errors(), "{:?}", doc.diagnostics);
        SpawnPlan::compile(&doc.workflow).expect("plan")
    }

    const LOOP: &str = "workflow L\n  start: A\n  exit: Z\n  agent A\n    label: A\n  agent B\n    label: B\n  agent Z\n    label: Z\n  edges\n    A -> B\n    B -> A  loop\n    B -> Z  when ctx.outcome = never\n";

    #[test]
    fn node_keys_apply_to_their_node_and_other_dotted_keys_are_context() {
        let plan = plan(LOOP);
        let map = [("B.outcome", "fail"), ("graph.goal", "g"), ("outcome", "x")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into_iter()
            .collect();
        let scenario = Scenario::from_map(&plan, map);
        assert_eq!(scenario.per_node["B"]["outcome"], "fail");
        assert_eq!(scenario.context["graph.goal"], "g");
        assert_eq!(scenario.context["outcome"], "x");
    }

    #[test]
    fn a_loop_breaks_after_the_visit_cap_by_its_unmatched_condition() {
        let walk = walk(&plan(LOOP), &Scenario::default(), 3);
        assert_eq!(walk.ending, Ending::Success);
        assert_eq!(walk.path, ["A", "B", "A", "B", "A", "B", "A", "B", "Z"]);
        // A too, though its only edge leads on to B anyway.
        assert_eq!(walk.loop_breaks, ["A", "B"]);
    }

    #[test]
    fn a_walk_that_never_ends_is_stopped_with_its_path() {
        let endless = "workflow E\n  start: A\n  exit: Z\n  agent A\n    label: A\n  agent B\n    label: B\n  agent Z\n    label: Z\n  edges\n    A -> B\n    B -> A  loop\n    Z -> A\n";
        let walk = walk(&plan(endless), &Scenario::default(), 3);
        assert_eq!(walk.ending, Ending::StepLimit);
        assert_eq!(walk.path.len(), MAX_STEPS);
        assert_eq!(
            walk.step_limit_message(),
            "simulation exceeded 500 steps (possible infinite loop)"
        );
    }

    #[test]
    fn a_long_chain_without_a_loop_is_walked_to_its_end() {
        let mut flow = String::from("workflow C\n  start: N0\n  exit: N599\n");
        for i in 0..600 {
            flow.push_str(&format!("  agent N{i}\n    label: N{i}\n"));
        }
        flow.push_str("  edges\n");
        for i in 0..599 {
            flow.push_str(&format!("    N{i} -> N{}\n", i + 1));
        }
        let walk = walk(&plan(&flow), &Scenario::default(), 3);
        assert_eq!(walk.ending, Ending::Success);
        assert_eq!(walk.path.len(), 600);
    }

    #[test]
    fn nodes_that_set_the_outcome_in_a_run_set_it_in_a_walk() {
        // A failed tool, then a conditional node and a yes/no gate: a run
        // sets the outcome at each, so the walk must too.
        let flow = "workflow O\n  start: T\n  exit: Z\n  tool T\n    timeout: 1s\n    command: false\n  conditional R\n    label: R\n  human G\n    mode: yes_no\n  agent Fix\n    prompt: fix\n  agent Z\n    label: Z\n  edges\n    T -> R\n    R -> G  when ctx.outcome = success\n    R -> Fix  when ctx.outcome = fail\n    G -> Z  when ctx.outcome = success\n    G -> Fix  when ctx.outcome = fail\n    Fix -> Z\n";
        let plan = plan(flow);
        let scenario = |pairs: &[(&str, &str)]| {
            let map = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            Scenario::from_map(&plan, map)
        };
        let refused = walk(
            &plan,
            &scenario(&[("T.outcome", "fail"), ("G.preferred_label", "No")]),
            3,
        );
        assert_eq!(refused.path, ["T", "R", "G", "Fix", "Z"]);
        let approved = walk(
            &plan,
            &scenario(&[("T.outcome", "fail"), ("G.human_response", "yes")]),
            3,
        );
        assert_eq!(approved.path, ["T", "R", "G", "Z"]);
        // An outcome the scenario gives wins over what the node would set.
        let given = walk(&plan, &scenario(&[("R.outcome", "fail")]), 3);
        assert_eq!(given.path, ["T", "R", "Fix", "Z"]);
    }

    #[test]
    fn the_else_target_comes_before_the_first_edge_fallback() {
        let flow = "workflow E\n  start: A\n  exit: Z\n  agent A\n    label: A\n  agent B\n    label: B\n  agent F\n    label: F\n  agent Z\n    label: Z\n  edges\n    A -> B  when ctx.x = 1\n    B -> Z\n    F -> Z\n    else -> F\n";
        let walk = walk(&plan(flow), &Scenario::default(), 3);
        assert_eq!(walk.path, ["A", "F", "Z"]);
    }

    #[test]
    fn a_gate_default_picks_only_the_option_it_names_exactly() {
        let flow = |default: &str| {
            format!("workflow G\n  start: A\n  exit: Z\n  agent A\n    label: A\n  human Ask\n    mode: choice\n    default: {default}\n  agent Later\n    label: Later\n  agent Release\n    label: Release\n  agent Z\n    label: Z\n  edges\n    A -> Ask\n    Ask -> Later  label: Wait\n    Ask -> Release  label: \"Ship it\"\n    Later -> Z\n    Release -> Z\n")
        };
        let named = walk(&plan(&flow("\"Ship it\"")), &Scenario::default(), 3);
        assert_eq!(named.path, ["A", "Ask", "Release", "Z"]);
        // "ship" is in "Ship it" but names no option: a run ignores it.
        let partial = walk(&plan(&flow("ship")), &Scenario::default(), 3);
        assert_eq!(partial.path, ["A", "Ask", "Later", "Z"]);
    }
}
