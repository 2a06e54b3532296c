//! Retries and failure routes: what happens when a node fails.
//!
//! * `DIP104` — retry configured with no bound and no failure route;
//! * `DIP113` — an unknown retry policy (defaults or node);
//! * `DIP115` — a goal gate with no failure route;
//! * `DIP134` — `defaults.max_retries` set where `max_restarts` was probably meant;
//! * `DIP144` — an agent with no failure route.
//!
//! A *failure route* is an `outcome = fail|failure` edge, a `fallback_target`, a
//! `retry_target` with `max_retries > 0`, or an existing `defaults.on_failure`.

use super::common::{closest_fix, defaults_span, is_outcome_var, maybe_fix, simple_equality};
use crate::diagnostic::{Code, Diagnostic};
use crate::graph::Graph;
use crate::ir::{Edge, Node, NodeKind, Workflow};

/// Unknown retry policy.
pub(crate) const RETRY_POLICY: Code = Code(113);

const RETRY_POLICIES: &[&str] = &["standard", "aggressive", "patient", "linear", "none"];

/// Appends the failure-handling findings for the indexed workflow to `out`.
pub(super) fn lint(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    let wf = g.wf;
    default_retry_policy(wf, out);
    for node in &wf.nodes {
        retry_policy(node, out);
    }
    unbounded_retry(g, out);
    goal_gate_without_failure_route(g, out);
    retries_meant_as_restarts(wf, out);
    agent_without_failure_route(g, out);
}

/// Whether the edge routes the failure outcome (`outcome = fail|failure`).
fn routes_on_failure(edge: &Edge) -> bool {
    simple_equality(edge).is_some_and(|c| {
        is_outcome_var(&c.variable) && matches!(c.value.as_str(), "fail" | "failure")
    })
}

/// Whether `node`, at index `i`, has a failure route (see the module docs).
fn has_failure_route(g: &Graph<'_>, i: usize, node: &Node) -> bool {
    let retry = &node.retry;
    g.on_failure_declared()
        || !retry.fallback_target.is_empty()
        || (!retry.retry_target.is_empty() && retry.max_retries > 0)
        || g.out_explicit[i].iter().any(|e| routes_on_failure(e))
}

/// DIP113 on the workflow's default retry policy.
fn default_retry_policy(wf: &Workflow, out: &mut Vec<Diagnostic>) {
    let d = &wf.defaults;
    if !d.retry_policy.is_empty() && !RETRY_POLICIES.contains(&d.retry_policy.as_str()) {
        let diag = Diagnostic::warning(
            RETRY_POLICY,
            format!(
                "workflow default retry_policy {:?} is not a recognized policy name",
                d.retry_policy
            ),
        )
        .with_span(defaults_span(wf))
        .with_help(format!("valid policies: {}", RETRY_POLICIES.join(", ")));
        out.push(maybe_fix(
            diag,
            closest_fix("retry_policy", &d.retry_policy, RETRY_POLICIES),
        ));
    }
}

/// DIP113 on a node's own retry policy.
fn retry_policy(node: &Node, out: &mut Vec<Diagnostic>) {
    let policy = &node.retry.policy;
    if policy.is_empty() || RETRY_POLICIES.contains(&policy.as_str()) {
        return;
    }
    let diag = Diagnostic::warning(
        RETRY_POLICY,
        format!(
            "node {:?} has retry_policy {policy:?} which is not a recognized policy name",
            node.id
        ),
    )
    .with_span(node.span)
    .with_help(format!("valid policies: {}", RETRY_POLICIES.join(", ")));
    out.push(maybe_fix(
        diag,
        closest_fix("retry_policy", policy, RETRY_POLICIES),
    ));
}

/// DIP104: retry configured with no retry bound and no way out on failure.
///
/// `retry_policy: none` alone does not count as retry configuration, and a
/// `defaults.max_retries` bound is inherited by nodes that leave theirs unset.
fn unbounded_retry(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    for (i, node) in g.nodes() {
        let retry = &node.retry;
        let configured =
            (!retry.policy.is_empty() && retry.policy != "none") || !retry.retry_target.is_empty();
        if !configured || retry.max_retries != 0 || g.wf.defaults.max_retries > 0 {
            continue;
        }
        if has_failure_route(g, i, node) {
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

/// DIP115: a goal gate that cannot recover when the gate fails.
fn goal_gate_without_failure_route(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    for (i, node) in g.nodes() {
        if !node.agent().is_some_and(|a| a.goal_gate) || has_failure_route(g, i, node) {
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
fn agent_without_failure_route(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    for (i, node) in g.nodes() {
        if node.kind() != NodeKind::Agent || node.id == g.wf.exit {
            continue;
        }
        if g.out_all[i].is_empty() || has_failure_route(g, i, node) {
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
