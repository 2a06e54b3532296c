//! Choosing the next edge, in the reference's priority order (engine-semantics §2.4),
//! and the strict-failure rule that runs before it (§2.3).
//!
//! [`select_edge`] tries, over a node's outgoing edges in iteration order:
//!
//! 1. **condition** — every edge with a condition, in order; each evaluation is
//!    recorded ([`ConditionTried`], the engine's `decision_condition` events) and the
//!    first true one wins;
//! 2. **label** — a non-empty preferred label picks the first edge of *all* edges
//!    (conditional ones included, even those that just evaluated false) whose
//!    [`PlanEdge::routing_key`] equals it;
//! 3. **suggested** — a non-empty `suggested_next_nodes` picks the first edge whose
//!    target id equals any trimmed comma-separated entry (also over all edges);
//! 4. **weight** — unconditional edges only, stably sorted by weight (descending) then
//!    target id (ascending); two or more sharing the top weight is a tiebreak and
//!    reports priority `lexical`, else `weight`. No unconditional edge left takes
//!    the workflow's `else` edge (priority `weight`), and without one is the
//!    "no matching edges" error.
//!
//! An `override` edge always reports priority `override`. Pure: the caller turns the
//! [`Selection`] into events (`edge_tiebreaker` → `decision_edge` →
//! `conditional_fallthrough`).

use dippin::ir::Condition;

use crate::condition::{evaluate_condition, ConditionEvalError, Lookup};
pub use crate::event::EdgePriority;
use crate::plan::{NodeIndex, PlanEdge, SpawnPlan};

/// The handler's routing hints: the context's `preferred_label` and
/// `suggested_next_nodes` after the node ran. Empty means "no hint".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoutingHints {
    /// Matched against each edge's routing key.
    pub preferred_label: String,
    /// Comma-separated node ids, matched against edge targets.
    pub suggested_next_nodes: String,
}

impl RoutingHints {
    /// Hints from explicit values.
    pub fn new(
        preferred_label: impl Into<String>,
        suggested_next_nodes: impl Into<String>,
    ) -> RoutingHints {
        RoutingHints {
            preferred_label: preferred_label.into(),
            suggested_next_nodes: suggested_next_nodes.into(),
        }
    }

    /// Hints read from the context keys `preferred_label` and `suggested_next_nodes`
    /// (missing reads as empty), as the reference does.
    pub fn from_lookup<L: Lookup + ?Sized>(vars: &L) -> RoutingHints {
        RoutingHints::new(
            vars.lookup("preferred_label").unwrap_or(""),
            vars.lookup("suggested_next_nodes").unwrap_or(""),
        )
    }
}

/// One condition evaluated during selection: a `decision_condition` event, and an
/// entry of `conditional_fallthrough.conditions_tried`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionTried {
    /// Index of the edge in [`SpawnPlan::edges`].
    pub edge: usize,
    /// The edge's target.
    pub to: NodeIndex,
    /// The target's id (`edge_to`).
    pub to_id: String,
    /// The condition text (`edge_condition`).
    pub condition_raw: String,
    /// What it evaluated to (`condition_match`).
    pub matched: bool,
}

/// The chosen edge and how it was chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    /// Index of the chosen edge in [`SpawnPlan::edges`].
    pub edge: usize,
    /// The chosen edge's target.
    pub to: NodeIndex,
    /// The reported priority: [`EdgePriority::Override`] for an override edge, else
    /// the step that chose it.
    pub priority: EdgePriority,
    /// The step that chose the edge (never [`EdgePriority::Override`]).
    pub step: EdgePriority,
    /// Every condition evaluated, in order (the last one is the match when `step` is
    /// [`EdgePriority::Condition`]).
    pub conditions_tried: Vec<ConditionTried>,
    /// Two or more unconditional edges shared the top weight (`edge_tiebreaker`).
    pub tiebreaker: bool,
    /// How many unconditional edges the weight step ranked (0 when an earlier step
    /// chose); the `edge_tiebreaker` message reports it.
    pub unconditional_candidates: usize,
    /// Conditions were tried and the chosen edge is unconditional
    /// (`conditional_fallthrough`).
    pub fallthrough: bool,
}

impl Selection {
    /// The chosen edge.
    pub fn edge<'p>(&self, plan: &'p SpawnPlan) -> &'p PlanEdge {
        &plan.edges[self.edge]
    }
}

/// Why no edge could be chosen. Each is a hard error in the reference (the run ends
/// with no result).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RoutingError {
    /// The node has no outgoing edges at all.
    #[error("no outgoing edges from node {node:?}")]
    NoOutgoingEdges {
        /// The node's id.
        node: String,
    },
    /// A condition could not be evaluated.
    #[error("evaluate condition on edge {from}->{to}: {source}")]
    Condition {
        /// Source node id.
        from: String,
        /// Target node id.
        to: String,
        /// What went wrong.
        source: ConditionEvalError,
        /// Conditions evaluated before this one (their events were emitted).
        tried: Vec<ConditionTried>,
    },
    /// Every outgoing edge is conditional and every condition was false.
    #[error("no matching edges: all {tried} edges have conditions that evaluated to false")]
    NoMatch {
        /// How many edges there were (all conditional, all tried).
        tried: usize,
        /// The evaluations, in order (their events were emitted).
        conditions: Vec<ConditionTried>,
    },
}

impl RoutingError {
    /// The conditions evaluated before the error (for `decision_condition` events).
    pub fn conditions_tried(&self) -> &[ConditionTried] {
        match self {
            RoutingError::NoOutgoingEdges { .. } => &[],
            RoutingError::Condition { tried, .. } => tried,
            RoutingError::NoMatch { conditions, .. } => conditions,
        }
    }
}

/// The edge's guard, if it has a non-empty condition. An empty condition text is
/// unconditional, as in the reference (which keys on `condition != ""`).
pub fn guard(edge: &PlanEdge) -> Option<&Condition> {
    edge.condition.as_ref().filter(|c| !c.raw.trim().is_empty())
}

/// The weight the tiebreak sorts by: the edge weight, with anything below zero read
/// as 0 (the reference only records positive weights).
fn weight(edge: &PlanEdge) -> i64 {
    edge.weight.max(0)
}

/// Chooses the edge to leave `node` by (engine-semantics §2.4). `vars` supplies
/// condition variables; `hints` the handler's preferred label and suggestions.
pub fn select_edge<L: Lookup + ?Sized>(
    plan: &SpawnPlan,
    node: NodeIndex,
    vars: &L,
    hints: &RoutingHints,
) -> Result<Selection, RoutingError> {
    let edges: Vec<(usize, &PlanEdge)> = plan.outgoing_indexed(node).collect();
    if edges.is_empty() {
        return Err(RoutingError::NoOutgoingEdges {
            node: plan.node(node).id.clone(),
        });
    }

    let mut tried: Vec<ConditionTried> = Vec::new();
    for &(index, edge) in &edges {
        let Some(condition) = guard(edge) else {
            continue;
        };
        let matched = match evaluate_condition(condition, vars) {
            Ok(matched) => matched,
            Err(source) => {
                return Err(RoutingError::Condition {
                    from: plan.node(edge.from).id.clone(),
                    to: edge.to_id.clone(),
                    source,
                    tried,
                })
            }
        };
        tried.push(ConditionTried {
            edge: index,
            to: edge.to,
            to_id: edge.to_id.clone(),
            condition_raw: condition.raw.clone(),
            matched,
        });
        if matched {
            return Ok(chosen(plan, index, EdgePriority::Condition, tried, None));
        }
    }

    if !hints.preferred_label.is_empty() {
        if let Some(&(index, _)) = edges
            .iter()
            .find(|(_, e)| e.routing_key() == hints.preferred_label)
        {
            return Ok(chosen(plan, index, EdgePriority::Label, tried, None));
        }
    }

    if !hints.suggested_next_nodes.is_empty() {
        let suggested: Vec<&str> = hints
            .suggested_next_nodes
            .split(',')
            .map(str::trim)
            .collect();
        if let Some(&(index, _)) = edges
            .iter()
            .find(|(_, e)| suggested.contains(&e.to_id.as_str()))
        {
            return Ok(chosen(plan, index, EdgePriority::Suggested, tried, None));
        }
    }

    let mut unconditional: Vec<(usize, &PlanEdge)> = edges
        .iter()
        .copied()
        .filter(|(_, e)| guard(e).is_none())
        .collect();
    // `sort_by` is stable, like the reference's `sort.SliceStable`.
    unconditional.sort_by(|(_, a), (_, b)| {
        weight(b)
            .cmp(&weight(a))
            .then_with(|| a.to_id.cmp(&b.to_id))
    });
    match unconditional.as_slice() {
        [] => match plan.else_edge(node) {
            // The workflow's `else`: where a node goes when none of its
            // conditions holds.
            Some(index) => Ok(chosen(plan, index, EdgePriority::Weight, tried, Some(1))),
            None => Err(RoutingError::NoMatch {
                tried: edges.len(),
                conditions: tried,
            }),
        },
        [(index, first), rest @ ..] => {
            let tie = rest
                .first()
                .is_some_and(|(_, second)| weight(second) == weight(first));
            let step = if tie {
                EdgePriority::Lexical
            } else {
                EdgePriority::Weight
            };
            Ok(chosen(plan, *index, step, tried, Some(unconditional.len())))
        }
    }
}

/// Builds the selection for `index` chosen by `step`; `ranked` is the number of
/// unconditional edges the weight step ranked, when it was that step.
fn chosen(
    plan: &SpawnPlan,
    index: usize,
    step: EdgePriority,
    conditions_tried: Vec<ConditionTried>,
    ranked: Option<usize>,
) -> Selection {
    let edge = &plan.edges[index];
    let priority = if edge.override_ {
        EdgePriority::Override
    } else {
        step
    };
    let fallthrough = !conditions_tried.is_empty() && guard(edge).is_none();
    Selection {
        edge: index,
        to: edge.to,
        priority,
        step,
        conditions_tried,
        tiebreaker: step == EdgePriority::Lexical,
        unconditional_candidates: ranked.unwrap_or(0),
        fallthrough,
    }
}

/// Whether the strict-failure rule stops `node` before edge selection (§2.3): the
/// outcome is `fail` and no outgoing edge has a condition. (A node with no outgoing
/// edges at all is caught earlier, by [`RoutingError::NoOutgoingEdges`].)
pub fn strict_failure_applies(plan: &SpawnPlan, node: NodeIndex, outcome: &str) -> bool {
    outcome == "fail" && plan.outgoing(node).all(|e| guard(e).is_none())
}

/// Where a strictly failed `node` goes instead of stopping (§2.3), unless it already
/// took its once-only fallback: the first of the node's `fallback_target`, the graph
/// `fallback_target` (`defaults.on_failure`) and the graph `fallback_retry_target`
/// that names an existing node.
pub fn fallback_target(
    plan: &SpawnPlan,
    node: NodeIndex,
    fallback_taken: bool,
) -> Option<NodeIndex> {
    if fallback_taken {
        return None;
    }
    let node_target = plan.node(node).declared.retry.fallback_target.as_str();
    let graph = |key: &str| plan.graph_attrs.get(key).map_or("", String::as_str);
    [
        node_target,
        graph("fallback_target"),
        graph("fallback_retry_target"),
    ]
    .into_iter()
    .filter(|id| !id.is_empty())
    .find_map(|id| plan.node_index(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::condition::MapLookup;

    fn compile(src: &str) -> SpawnPlan {
        let (wf, diags) = dippin::parse_dip(src);
        assert!(diags.is_empty(), "{diags:?}");
        SpawnPlan::compile(&wf).expect("compiles")
    }

    /// A workflow whose node `N` has the given edge lines (targets among A, B, C, D)
    /// and whose defaults section is `defaults` (may be empty).
    fn fanout(edges: &[&str], defaults: &str) -> SpawnPlan {
        let mut src = String::from("workflow R\n  start: N\n  exit: D\n");
        if !defaults.is_empty() {
            src.push_str("  defaults\n");
            for line in defaults.lines() {
                src.push_str(&format!("    {line}\n"));
            }
        }
        src.push_str("  agent N\n    prompt: n\n");
        for id in ["A", "B", "C"] {
            src.push_str(&format!("  agent {id}\n    prompt: {id}\n"));
        }
        src.push_str("  agent D\n    label: D\n  edges\n");
        for edge in edges {
            src.push_str(&format!("    {edge}\n"));
        }
        src.push_str("    A -> D\n    B -> D\n    C -> D\n");
        compile(&src)
    }

    fn select(
        plan: &SpawnPlan,
        vars: &MapLookup,
        hints: &RoutingHints,
    ) -> Result<Selection, RoutingError> {
        let node = plan.node_index("N").expect("N");
        select_edge(plan, node, vars, hints)
    }

    fn target(plan: &SpawnPlan, selection: &Selection) -> String {
        plan.node(selection.to).id.clone()
    }

    struct Case {
        name: &'static str,
        edges: &'static [&'static str],
        vars: &'static [(&'static str, &'static str)],
        label: &'static str,
        suggested: &'static str,
        want_to: &'static str,
        want_priority: EdgePriority,
        want_tried: &'static [(&'static str, bool)],
        want_tiebreak: bool,
        want_fallthrough: bool,
    }

    const CASES: &[Case] = &[
        Case {
            name: "first true condition wins",
            edges: &[
                "N -> A  when ctx.outcome = fail",
                "N -> B  when ctx.outcome = success",
                "N -> C  when ctx.outcome = success",
            ],
            vars: &[("outcome", "success")],
            label: "",
            suggested: "",
            want_to: "B",
            want_priority: EdgePriority::Condition,
            want_tried: &[("A", false), ("B", true)],
            want_tiebreak: false,
            want_fallthrough: false,
        },
        Case {
            name: "condition beats label and suggestion",
            edges: &["N -> A  label: go", "N -> B  when ctx.outcome = success"],
            vars: &[("outcome", "success")],
            label: "go",
            suggested: "A",
            want_to: "B",
            want_priority: EdgePriority::Condition,
            want_tried: &[("B", true)],
            want_tiebreak: false,
            want_fallthrough: false,
        },
        Case {
            name: "and/or words are operators",
            edges: &[
                "N -> A  when ctx.outcome = success and ctx.flag = on",
                "N -> B  when ctx.outcome = fail or ctx.flag = on",
                "N -> C",
            ],
            vars: &[("outcome", "success"), ("flag", "off")],
            label: "",
            suggested: "",
            want_to: "C",
            want_priority: EdgePriority::Weight,
            want_tried: &[("A", false), ("B", false)],
            want_tiebreak: false,
            want_fallthrough: true,
        },
        Case {
            name: "and/not words combine",
            edges: &[
                "N -> A  when ctx.outcome = success and ctx.flag = on",
                "N -> B  when ctx.outcome = success and not ctx.flag = on",
                "N -> C",
            ],
            vars: &[("outcome", "success"), ("flag", "off")],
            label: "",
            suggested: "",
            want_to: "B",
            want_priority: EdgePriority::Condition,
            want_tried: &[("A", false), ("B", true)],
            want_tiebreak: false,
            want_fallthrough: false,
        },
        Case {
            name: "label matches a conditional edge that just evaluated false",
            edges: &[
                "N -> A  when ctx.outcome = fail  label: retry",
                "N -> B  label: ship",
            ],
            vars: &[("outcome", "success")],
            label: "retry",
            suggested: "",
            want_to: "A",
            want_priority: EdgePriority::Label,
            want_tried: &[("A", false)],
            want_tiebreak: false,
            want_fallthrough: false,
        },
        Case {
            name: "label uses the routing key: choice before label",
            edges: &["N -> A  label: Ship  choice: s", "N -> B  label: s"],
            vars: &[],
            label: "s",
            suggested: "",
            want_to: "A",
            want_priority: EdgePriority::Label,
            want_tried: &[],
            want_tiebreak: false,
            want_fallthrough: false,
        },
        Case {
            name: "label falls back to the target id",
            edges: &["N -> A", "N -> B"],
            vars: &[],
            label: "B",
            suggested: "",
            want_to: "B",
            want_priority: EdgePriority::Label,
            want_tried: &[],
            want_tiebreak: false,
            want_fallthrough: false,
        },
        Case {
            name: "label onto an unconditional edge after conditions is a fallthrough",
            edges: &["N -> A  when ctx.outcome = fail", "N -> B  label: ship"],
            vars: &[("outcome", "success")],
            label: "ship",
            suggested: "",
            want_to: "B",
            want_priority: EdgePriority::Label,
            want_tried: &[("A", false)],
            want_tiebreak: false,
            want_fallthrough: true,
        },
        Case {
            name: "unmatched label falls through to suggestions",
            edges: &["N -> A", "N -> B", "N -> C"],
            vars: &[],
            label: "nope",
            suggested: " X , C ,A",
            want_to: "A",
            want_priority: EdgePriority::Suggested,
            want_tried: &[],
            want_tiebreak: false,
            want_fallthrough: false,
        },
        Case {
            name: "suggestion can pick a conditional edge",
            edges: &["N -> A", "N -> B  when ctx.outcome = fail"],
            vars: &[],
            label: "",
            suggested: "B",
            want_to: "B",
            want_priority: EdgePriority::Suggested,
            want_tried: &[("B", false)],
            want_tiebreak: false,
            want_fallthrough: false,
        },
        Case {
            name: "unmatched suggestion falls through to weight",
            edges: &["N -> B", "N -> A  weight: 2"],
            vars: &[],
            label: "",
            suggested: "C, D",
            want_to: "A",
            want_priority: EdgePriority::Weight,
            want_tried: &[],
            want_tiebreak: false,
            want_fallthrough: false,
        },
        Case {
            name: "single unconditional edge is by weight",
            edges: &["N -> B"],
            vars: &[],
            label: "",
            suggested: "",
            want_to: "B",
            want_priority: EdgePriority::Weight,
            want_tried: &[],
            want_tiebreak: false,
            want_fallthrough: false,
        },
        Case {
            name: "equal weights break lexically by target id",
            edges: &["N -> C", "N -> A", "N -> B"],
            vars: &[],
            label: "",
            suggested: "",
            want_to: "A",
            want_priority: EdgePriority::Lexical,
            want_tried: &[],
            want_tiebreak: true,
            want_fallthrough: false,
        },
        Case {
            name: "tie only among the top weight",
            edges: &["N -> A", "N -> C  weight: 3", "N -> B  weight: 3"],
            vars: &[],
            label: "",
            suggested: "",
            want_to: "B",
            want_priority: EdgePriority::Lexical,
            want_tried: &[],
            want_tiebreak: true,
            want_fallthrough: false,
        },
        Case {
            name: "weight step ignores conditional edges",
            edges: &[
                "N -> A  when ctx.outcome = fail  weight: 9",
                "N -> C  weight: 1",
                "N -> B",
            ],
            vars: &[("outcome", "success")],
            label: "",
            suggested: "",
            want_to: "C",
            want_priority: EdgePriority::Weight,
            want_tried: &[("A", false)],
            want_tiebreak: false,
            want_fallthrough: true,
        },
        Case {
            name: "override edge reports override whatever chose it",
            edges: &["N -> A  label: ok  override: true", "N -> B"],
            vars: &[],
            label: "ok",
            suggested: "",
            want_to: "A",
            want_priority: EdgePriority::Override,
            want_tried: &[],
            want_tiebreak: false,
            want_fallthrough: false,
        },
        Case {
            name: "override edge chosen by condition",
            edges: &["N -> A  when ctx.outcome = success  override: true"],
            vars: &[("outcome", "success")],
            label: "",
            suggested: "",
            want_to: "A",
            want_priority: EdgePriority::Override,
            want_tried: &[("A", true)],
            want_tiebreak: false,
            want_fallthrough: false,
        },
        Case {
            name: "override edge chosen by lexical tiebreak keeps the tiebreak",
            edges: &["N -> B", "N -> A  override: true"],
            vars: &[],
            label: "",
            suggested: "",
            want_to: "A",
            want_priority: EdgePriority::Override,
            want_tried: &[],
            want_tiebreak: true,
            want_fallthrough: false,
        },
    ];

    #[test]
    fn routing_priority_table() {
        for case in CASES {
            let plan = fanout(case.edges, "");
            let mut vars = MapLookup::new();
            for (k, v) in case.vars {
                vars = vars.with(*k, *v);
            }
            let hints = RoutingHints::new(case.label, case.suggested);
            let sel = select(&plan, &vars, &hints)
                .unwrap_or_else(|e| panic!("{}: unexpected error {e}", case.name));
            assert_eq!(target(&plan, &sel), case.want_to, "{}: target", case.name);
            assert_eq!(sel.priority, case.want_priority, "{}: priority", case.name);
            let tried: Vec<(&str, bool)> = sel
                .conditions_tried
                .iter()
                .map(|t| (t.to_id.as_str(), t.matched))
                .collect();
            assert_eq!(tried, case.want_tried, "{}: tried", case.name);
            assert_eq!(
                sel.tiebreaker, case.want_tiebreak,
                "{}: tiebreak",
                case.name
            );
            assert_eq!(
                sel.fallthrough, case.want_fallthrough,
                "{}: fallthrough",
                case.name
            );
            assert_eq!(sel.edge(&plan).to, sel.to, "{}: edge index", case.name);
            assert_ne!(sel.step, EdgePriority::Override, "{}: step", case.name);
        }
    }

    #[test]
    fn routing_records_condition_text_and_edge_indexes() {
        let plan = fanout(
            &[
                "N -> A  when ctx.outcome = fail",
                "N -> B  when ctx.outcome in success, partial",
            ],
            "",
        );
        let vars = MapLookup::new().with("outcome", "partial");
        let sel = select(&plan, &vars, &RoutingHints::default()).expect("selects");
        assert_eq!(sel.step, EdgePriority::Condition);
        let raws: Vec<&str> = sel
            .conditions_tried
            .iter()
            .map(|t| t.condition_raw.as_str())
            .collect();
        assert_eq!(
            raws,
            ["ctx.outcome = fail", "ctx.outcome in success , partial"]
        );
        for tried in &sel.conditions_tried {
            assert_eq!(plan.edges[tried.edge].to, tried.to);
            assert_eq!(plan.node(tried.to).id, tried.to_id);
        }
        assert_eq!(sel.edge, sel.conditions_tried[1].edge);
    }

    #[test]
    fn routing_tiebreak_counts_ranked_unconditional_edges() {
        let plan = fanout(&["N -> C", "N -> B", "N -> A  when ctx.x = y"], "");
        let sel = select(&plan, &MapLookup::new(), &RoutingHints::default()).expect("selects");
        assert_eq!(target(&plan, &sel), "B");
        assert!(sel.tiebreaker);
        assert_eq!(sel.unconditional_candidates, 2);
        assert_eq!(sel.priority.wire_name(), "lexical");
    }

    #[test]
    fn routing_no_match_error_text() {
        let plan = fanout(
            &[
                "N -> A  when ctx.outcome = fail",
                "N -> B  when ctx.outcome = retry",
                "N -> C  when ctx.outcome = x",
            ],
            "",
        );
        let vars = MapLookup::new().with("outcome", "success");
        let err = select(&plan, &vars, &RoutingHints::new("nope", "D")).expect_err("no match");
        assert_eq!(
            err.to_string(),
            "no matching edges: all 3 edges have conditions that evaluated to false"
        );
        assert!(matches!(err, RoutingError::NoMatch { tried: 3, .. }));
        assert_eq!(err.conditions_tried().len(), 3);
        assert!(err.conditions_tried().iter().all(|t| !t.matched));
    }

    #[test]
    fn routing_takes_the_else_edge_when_no_condition_holds() {
        let plan = fanout(
            &[
                "N -> A  when ctx.outcome = fail",
                "N -> B  when ctx.outcome = retry",
                "else -> C",
            ],
            "",
        );
        let vars = MapLookup::new().with("outcome", "success");
        let sel = select(&plan, &vars, &RoutingHints::default()).expect("the else edge");
        assert_eq!(target(&plan, &sel), "C");
        assert_eq!(sel.priority.wire_name(), "weight");
        assert_eq!(sel.conditions_tried.len(), 2);
        assert!(sel.fallthrough);
        assert!(sel.edge(&plan).otherwise);
        // A holding condition still wins, and the else edge is no option of
        // the node's own (a gate would not offer it).
        let vars = MapLookup::new().with("outcome", "fail");
        let sel = select(&plan, &vars, &RoutingHints::default()).expect("selects");
        assert_eq!(target(&plan, &sel), "A");
        let node = plan.node_index("N").expect("N");
        assert!(plan.outgoing(node).all(|e| !e.otherwise));
        // Nodes with an unconditional edge never take it.
        let a = plan.node_index("A").expect("A");
        assert_eq!(plan.else_edge(a), None);
    }

    #[test]
    fn routing_no_outgoing_edges() {
        let plan = fanout(&["N -> A"], "");
        let exit = plan.node_index("D").expect("D");
        let err = select_edge(&plan, exit, &MapLookup::new(), &RoutingHints::default())
            .expect_err("no edges");
        assert_eq!(
            err,
            RoutingError::NoOutgoingEdges {
                node: "D".to_string()
            }
        );
        assert!(err.conditions_tried().is_empty());
    }

    #[test]
    fn routing_unparsed_condition_is_an_error() {
        let mut plan = fanout(&["N -> A  when ctx.outcome = fail", "N -> B"], "");
        let second = plan
            .edges
            .iter()
            .position(|e| e.to_id == "B" && plan.node(e.from).id == "N")
            .expect("N -> B");
        plan.edges[second].condition = Some(Condition::new("ctx.outcome >= 3"));
        let vars = MapLookup::new().with("outcome", "success");
        let err = select(&plan, &vars, &RoutingHints::default()).expect_err("bad condition");
        assert!(
            err.to_string()
                .starts_with("evaluate condition on edge N->B: cannot evaluate condition"),
            "{err}"
        );
        assert_eq!(err.conditions_tried().len(), 1);
    }

    #[test]
    fn routing_empty_condition_text_is_unconditional() {
        let mut plan = fanout(&["N -> A"], "");
        let only = plan
            .edges
            .iter()
            .position(|e| plan.node(e.from).id == "N")
            .expect("N -> A");
        plan.edges[only].condition = Some(Condition::new("  "));
        let sel = select(&plan, &MapLookup::new(), &RoutingHints::default()).expect("selects");
        assert_eq!(sel.priority, EdgePriority::Weight);
        assert!(sel.conditions_tried.is_empty());
        assert!(!sel.fallthrough);
    }

    #[test]
    fn routing_hints_from_lookup() {
        let vars = MapLookup::new()
            .with("preferred_label", "Yes")
            .with("suggested_next_nodes", "A,B");
        assert_eq!(
            RoutingHints::from_lookup(&vars),
            RoutingHints::new("Yes", "A,B")
        );
        assert_eq!(
            RoutingHints::from_lookup(&MapLookup::new()),
            RoutingHints::default()
        );
    }

    #[test]
    fn routing_priority_wire_names() {
        let all = [
            (EdgePriority::Condition, "condition"),
            (EdgePriority::Label, "label"),
            (EdgePriority::Suggested, "suggested"),
            (EdgePriority::Weight, "weight"),
            (EdgePriority::Lexical, "lexical"),
            (EdgePriority::Override, "override"),
        ];
        for (priority, name) in all {
            assert_eq!(priority.wire_name(), name);
            assert_eq!(priority.to_string(), name);
            assert_eq!(
                serde_json::to_string(&priority).expect("serializes"),
                format!("\"{name}\"")
            );
        }
    }

    #[test]
    fn routing_strict_failure_keys_on_condition_presence() {
        let unconditional = fanout(&["N -> A", "N -> B"], "");
        let guarded = fanout(&["N -> A  when ctx.outcome = success", "N -> B"], "");
        let n = |p: &SpawnPlan| p.node_index("N").expect("N");
        assert!(strict_failure_applies(
            &unconditional,
            n(&unconditional),
            "fail"
        ));
        assert!(!strict_failure_applies(
            &unconditional,
            n(&unconditional),
            "success"
        ));
        assert!(!strict_failure_applies(
            &unconditional,
            n(&unconditional),
            "retry"
        ));
        assert!(!strict_failure_applies(&guarded, n(&guarded), "fail"));
    }

    #[test]
    fn routing_strict_failure_golden_tool_failure() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/conformance/golden/tool_failure.dip");
        let doc = dippin::load_file(&path).expect("fixture readable");
        let plan = SpawnPlan::compile(&doc.workflow).expect("compiles");
        let boom = plan.node_index("Boom").expect("Boom");
        assert!(strict_failure_applies(&plan, boom, "fail"));
        assert_eq!(fallback_target(&plan, boom, false), None);
    }

    #[test]
    fn routing_fallback_target_order() {
        let src = |node_fallback: &str, defaults: &str| {
            let mut src = String::from("workflow F\n  start: N\n  exit: D\n");
            if !defaults.is_empty() {
                src.push_str(&format!("  defaults\n    {defaults}\n"));
            }
            src.push_str("  agent N\n    prompt: n\n");
            if !node_fallback.is_empty() {
                src.push_str(&format!("    fallback_target: {node_fallback}\n"));
            }
            src.push_str(
                "  agent A\n    prompt: a\n  agent B\n    prompt: b\n  agent D\n    label: D\n",
            );
            src.push_str("  edges\n    N -> D\n    A -> D\n    B -> D\n");
            compile(&src)
        };
        let cases: &[(&str, &str, bool, Option<&str>)] = &[
            ("A", "on_failure: B", false, Some("A")),
            ("", "on_failure: B", false, Some("B")),
            ("Ghost", "on_failure: B", false, Some("B")),
            ("Ghost", "", false, None),
            ("", "", false, None),
            ("A", "on_failure: B", true, None),
        ];
        for (node_fb, defaults, taken, want) in cases {
            let plan = src(node_fb, defaults);
            let n = plan.node_index("N").expect("N");
            let got = fallback_target(&plan, n, *taken).map(|i| plan.node(i).id.as_str());
            assert_eq!(
                got, *want,
                "node={node_fb:?} defaults={defaults:?} taken={taken}"
            );
        }
    }

    #[test]
    fn routing_golden_control_flow_approve() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/conformance/golden/control_flow.dip");
        let doc = dippin::load_file(&path).expect("fixture readable");
        let plan = SpawnPlan::compile(&doc.workflow).expect("compiles");
        let approve = plan.node_index("Approve").expect("Approve");
        let vars = MapLookup::new().with("outcome", "success");
        let sel =
            select_edge(&plan, approve, &vars, &RoutingHints::new("Yes", "")).expect("selects");
        assert_eq!(plan.node(sel.to).id, "Ship");
        assert_eq!(sel.priority, EdgePriority::Condition);
        assert_eq!(sel.conditions_tried.len(), 1);
        // Ship has a single unconditional edge: priority weight, no tiebreak.
        let ship = plan.node_index("Ship").expect("Ship");
        let sel = select_edge(&plan, ship, &vars, &RoutingHints::default()).expect("selects");
        assert_eq!(plan.node(sel.to).id, "Done");
        assert_eq!(sel.priority, EdgePriority::Weight);
        assert!(!sel.tiebreaker && !sel.fallthrough);
    }
}
