//! What happens after a node attempt: applying its outcome, retries, the exit node
//! and goal gates, strict failure, edge selection, restarts and overrides
//! (engine-semantics §2.2 steps 6–13, §2.3–2.6, §2.9).

use std::sync::Arc;

use super::{
    halt, Effect, Engine, Flow, Pending, PendingRetry, RunEnd, TerminalStatus, TraceEntry,
};
use crate::checkpoint::OverrideDetail;
use crate::context;
use crate::event::{self, Actor, Decision, EventKind};
use crate::outcome::{HandlerError, NodeResult, Outcome, FAIL, RETRY, SUCCESS};
use crate::plan::NodeIndex;
use crate::retry::{goal_gate_budget, restart_budget, RetryPolicy};
use crate::routing::{self, RoutingError, RoutingHints, Selection};
use crate::spec::NodeSpec;

impl Engine {
    /// §2.2 steps 6–13 for the attempt in `pending`.
    pub(super) fn after_node(
        &mut self,
        pending: Pending,
        result: NodeResult,
        out: &mut Vec<Effect>,
    ) -> Flow {
        let node = pending.node;
        let id = self.plan.node(node).id.clone();
        let handler = self.plan.node(node).handler.wire_name().to_string();
        let duration = self.clock.now().since(pending.started);
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(failure) => {
                self.trace.push(TraceEntry {
                    node_id: id.clone(),
                    handler_name: handler,
                    status: "error".into(),
                    edge_to: String::new(),
                    stats: None,
                    child_usage: failure.child_usage,
                    error: failure.error.to_string(),
                    duration,
                });
                return Flow::end(self.handler_error(&id, &failure.error, out));
            }
        };

        let mut entry = TraceEntry {
            node_id: id.clone(),
            handler_name: handler,
            status: outcome.status.clone(),
            edge_to: String::new(),
            stats: outcome.stats.clone().map(Box::new),
            child_usage: outcome.child_usage.clone().map(Box::new),
            error: String::new(),
            duration,
        };
        self.emit_diagnostics(&id, &outcome, out);
        self.apply_outcome(node, &pending.spec, &outcome, out);
        self.ctx.scope_dirty_to_node(&id);
        let steering = std::mem::take(&mut self.steering);
        self.ctx.merge_quiet(steering);

        if outcome.status == RETRY {
            return self.retry_or_give_up(node, entry, &pending.spec, out);
        }
        if self.is_prompt_consumer(node) {
            self.ctx
                .clear_human_response_if_unchanged(&pending.human_response_before);
        }
        match outcome.status.as_str() {
            SUCCESS => {
                let event = self
                    .event(EventKind::StageCompleted)
                    .with_node_id(&id)
                    .with_message(format!("node {id:?} completed"));
                self.emit(out, event);
                self.record.mark_completed(&id);
            }
            FAIL => {
                let event = self
                    .event(EventKind::StageFailed)
                    .with_node_id(&id)
                    .with_message(format!("node {id:?} failed"));
                self.emit(out, event);
                self.record.mark_completed(&id);
            }
            other => {
                let event = self
                    .event(EventKind::StageFailed)
                    .with_node_id(&id)
                    .with_message(format!(
                        "node {id:?} returned unknown outcome status {other:?}; treating as failure"
                    ));
                self.emit(out, event);
                self.ctx.set(context::OUTCOME, FAIL);
            }
        }
        if node == self.plan.exit {
            return self.exit_node(node, &mut entry, &outcome, out);
        }
        self.advance(node, entry, out)
    }

    /// A handler error: the run fails, or pauses for a billing exhaustion.
    fn handler_error(&mut self, id: &str, error: &HandlerError, out: &mut Vec<Effect>) -> RunEnd {
        let event = self
            .event(EventKind::StageFailed)
            .with_node_id(id)
            .with_message(format!("handler error at node {id:?}"))
            .with_error(error.to_string());
        self.emit(out, event);
        self.save(out);
        let error_text = format!("handler error at node {id:?}: {error}");
        if let HandlerError::PausedBilling(message) = error {
            let event = self
                .event(EventKind::BillingPaused)
                .with_node_id(id)
                .with_message(format!(
                    "run paused at node {id:?}: provider credit or quota exhausted — add credit, then resume"
                ))
                .with_error(message.clone())
                .with_terminal_status(TerminalStatus::PausedBilling.as_str());
            self.emit(out, event);
            return RunEnd {
                checkpoint_error: None,
                result: Some(self.result(TerminalStatus::PausedBilling, Vec::new())),
                error: Some(error_text),
            };
        }
        self.fail(error_text.clone(), Some(error_text), out)
    }

    /// Tool and agent diagnostics that ride on the outcome (§2.2 step 7).
    fn emit_diagnostics(&mut self, id: &str, outcome: &Outcome, out: &mut Vec<Effect>) {
        for t in &outcome.truncations {
            let mut event = self
                .event(EventKind::ToolOutputTruncated)
                .with_node_id(id)
                .with_message(format!(
                    "tool node {id:?}: {} truncated — captured last {} bytes, dropped {} bytes from head (limit {})",
                    t.stream.as_deref().unwrap_or(""),
                    t.captured_bytes.unwrap_or(0),
                    t.dropped_bytes.unwrap_or(0),
                    t.limit.unwrap_or(0)
                ));
            event.truncation = Some(t.clone());
            self.emit(out, event);
        }
        if let Some(marker) = &outcome.missing_marker {
            let pattern = marker.pattern.as_deref().unwrap_or("");
            let message = match &marker.error {
                Some(error) => format!(
                    "tool node {id:?}: marker_grep regex {pattern:?} failed to compile: {error} — failing node to avoid silent fallback"
                ),
                None => format!(
                    "tool node {id:?}: marker_grep {pattern:?} matched nothing in captured stdout — failing node to avoid silent fallback"
                ),
            };
            let mut event = self
                .event(EventKind::ToolMarkerMissing)
                .with_node_id(id)
                .with_message(message);
            event.marker = Some(marker.clone());
            self.emit(out, event);
        }
        if let Some(route) = &outcome.missing_route {
            let mut event = self
                .event(EventKind::ToolRouteMissing)
                .with_node_id(id)
                .with_message(format!(
                    "tool node {id:?}: route_required is set but no _TRACKER_ROUTE= sentinel line was emitted to stdout — failing node to avoid silent fallback"
                ));
            event.route = Some(route.clone());
            self.emit(out, event);
        }
        if let Some(status) = &outcome.missing_auto_status {
            let mut event = self
                .event(EventKind::AutoStatusMissing)
                .with_node_id(id)
                .with_message(format!(
                    "node {id:?}: auto_status is set but the response has no STATUS: line"
                ));
            event.auto_status = Some(status.clone());
            self.emit(out, event);
        }
    }

    /// §2.2 step 8: merge the outcome into the context and announce it.
    fn apply_outcome(
        &mut self,
        node: NodeIndex,
        spec: &NodeSpec,
        outcome: &Outcome,
        out: &mut Vec<Effect>,
    ) {
        let id = self.plan.node(node).id.clone();
        self.last_actor = outcome.actor;
        self.ctx.merge(outcome.context_updates.clone());
        if spec.common.goal_gate {
            self.record.set_recheck(&id, false);
            self.record.set_overridden(&id, false);
        }
        if !outcome.status.is_empty() {
            self.ctx.set(context::OUTCOME, outcome.status.clone());
            self.record.set_node_outcome(&id, &outcome.status);
        }
        if !outcome.preferred_label.is_empty() {
            self.ctx
                .set(context::PREFERRED_LABEL, outcome.preferred_label.clone());
        }
        if !outcome.suggested_next_nodes.is_empty() {
            self.ctx.set(
                context::SUGGESTED_NEXT_NODES,
                outcome.suggested_next_nodes.join(","),
            );
        }
        let decision = Decision {
            outcome_status: Some(outcome.status.clone()),
            context_updates: outcome.context_updates.clone(),
            context_snapshot: self.ctx.routing_snapshot(),
            ..Decision::default()
        };
        let mut event = self
            .event(EventKind::DecisionOutcome)
            .with_node_id(&id)
            .with_message(format!("node {id:?} outcome: {}", outcome.status))
            .with_decision(decision);
        if let Some(stats) = &outcome.stats {
            event = event.with_tokens(stats.input_tokens, stats.output_tokens);
        }
        self.emit(out, event);
        if !outcome.child_overrides.is_empty() {
            for detail in &outcome.child_overrides {
                self.record.add_override(detail.clone());
                let mut event = self
                    .event(EventKind::ValidationOverridden)
                    .with_node_id(&id)
                    .with_message(format!(
                        "validation override propagated from subgraph child via {id:?}"
                    ));
                event.validation_override = Some(event_override(detail));
                self.emit(out, event);
            }
            self.save(out);
        }
    }

    // -- retries (§2.5a) ---------------------------------------------------------

    fn retry_or_give_up(
        &mut self,
        node: NodeIndex,
        mut entry: TraceEntry,
        spec: &Arc<NodeSpec>,
        out: &mut Vec<Effect>,
    ) -> Flow {
        let id = self.plan.node(node).id.clone();
        let policy = RetryPolicy::resolve(&self.plan, node);
        let used = self.record.retry_count(&id);
        if used < u64::from(policy.max_retries) {
            self.record.set_retry_count(&id, used + 1);
            let attempt = u32::try_from(used).unwrap_or(u32::MAX);
            let backoff = policy.backoff(attempt, self.rng.jitter());
            let retry = PendingRetry {
                node,
                entry,
                spec: Arc::clone(spec),
                max_retries: policy.max_retries,
                policy: policy.name.as_str(),
            };
            if backoff.is_zero() {
                return self.retry_after_backoff(retry, out);
            }
            self.retry = Some(retry);
            return Flow::Sleep(backoff);
        }
        if let Some(fallback) = spec.common.fallback_retry_target.get().map(String::from) {
            entry.edge_to.clone_from(&fallback);
            self.trace.push(entry);
            self.emit_cost(&id, out);
            if let Some(end) = self.check_budget(out) {
                return Flow::end(end);
            }
            let Some(target) = self.plan.node_index(&fallback) else {
                return Flow::end(halt(format!("node {fallback:?} not found in graph")));
            };
            self.clear_downstream(target);
            self.record.set_current(&fallback);
            self.save(out);
            return Flow::Goto(target);
        }
        self.trace.push(entry);
        let event = self
            .event(EventKind::StageFailed)
            .with_node_id(&id)
            .with_message(format!("retries exhausted for node {id:?}"));
        self.emit(out, event);
        Flow::end(self.fail("pipeline failed".into(), None, out))
    }

    /// The retry after its backoff: announce it and go to the retry target.
    pub(super) fn retry_after_backoff(
        &mut self,
        retry: PendingRetry,
        out: &mut Vec<Effect>,
    ) -> Flow {
        let PendingRetry {
            node,
            mut entry,
            spec,
            max_retries,
            policy,
        } = retry;
        let id = self.plan.node(node).id.clone();
        let count = self.record.retry_count(&id);
        let event = self
            .event(EventKind::StageRetrying)
            .with_node_id(&id)
            .with_message(format!(
                "retrying node {id:?} (attempt {count}/{max_retries}, policy={policy})"
            ))
            .with_attempt(
                self.plan.node(node).handler.wire_name(),
                u32::try_from(count).unwrap_or(u32::MAX),
            );
        self.emit(out, event);
        let target_id = spec
            .common
            .retry_target
            .get()
            .map_or_else(|| id.clone(), String::from);
        let Some(target) = self.plan.node_index(&target_id) else {
            self.trace.push(entry);
            let message = format!("retry target {target_id:?} of node {id:?} does not exist");
            return Flow::end(self.fail(message.clone(), Some(message), out));
        };
        entry.edge_to.clone_from(&target_id);
        self.trace.push(entry);
        self.emit_cost(&id, out);
        if let Some(end) = self.check_budget(out) {
            return Flow::end(end);
        }
        self.clear_downstream(target);
        self.record.set_current(&target_id);
        self.save(out);
        Flow::Goto(target)
    }

    // -- the exit node and goal gates (§2.6) -------------------------------------

    fn exit_node(
        &mut self,
        node: NodeIndex,
        entry: &mut TraceEntry,
        outcome: &Outcome,
        out: &mut Vec<Effect>,
    ) -> Flow {
        let id = self.plan.node(node).id.clone();
        if let Some(gate) = self.unsatisfied_goal_gate() {
            return self.goal_gate_unsatisfied(gate, entry.clone(), out);
        }
        self.trace.push(entry.clone());
        if outcome.status == FAIL {
            return Flow::end(self.fail(format!("exit node {id:?} failed"), None, out));
        }
        self.emit_cost(&id, out);
        if let Some(end) = self.check_budget(out) {
            return Flow::end(end);
        }
        Flow::end(self.complete(out))
    }

    /// The first goal gate that is neither satisfied nor overridden: completed
    /// nodes in completion order, then gates waiting for a re-check.
    fn unsatisfied_goal_gate(&self) -> Option<NodeIndex> {
        let completed = self.record.completed_nodes().iter();
        let pending = self
            .record
            .recheck_pending_gates()
            .filter(|g| !self.record.is_completed(g));
        completed
            .chain(pending)
            .filter_map(|id| self.plan.node_index(id))
            .find(|&n| {
                let spec = self.plan.node(n);
                if !spec.spec.common.goal_gate {
                    return false;
                }
                let outcome = self
                    .record
                    .node_outcomes()
                    .get(&spec.id)
                    .map_or("", String::as_str);
                let satisfied = outcome == SUCCESS || outcome == "partial_success";
                !satisfied && !self.record.is_overridden(&spec.id)
            })
    }

    fn goal_gate_unsatisfied(
        &mut self,
        gate: NodeIndex,
        mut entry: TraceEntry,
        out: &mut Vec<Effect>,
    ) -> Flow {
        let gate_id = self.plan.node(gate).id.clone();
        if self.record.recheck_pending(&gate_id) && !self.record.is_completed(&gate_id) {
            entry.edge_to.clone_from(&gate_id);
            self.trace.push(entry);
            self.clear_downstream(gate);
            self.record.set_current(&gate_id);
            self.save(out);
            return Flow::Goto(gate);
        }
        let used = self.record.retry_count(&gate_id);
        let budget = goal_gate_budget(&self.plan, gate);
        if used < u64::from(budget) {
            if let Some(target) = self.goal_gate_retry_target(gate) {
                let target_id = self.plan.node(target).id.clone();
                self.record.set_retry_count(&gate_id, used + 1);
                let event = self
                    .event(EventKind::StageRetrying)
                    .with_node_id(&gate_id)
                    .with_message(format!(
                        "goal-gate retry for {gate_id:?} → {target_id:?} (attempt {}/{budget})",
                        used + 1
                    ));
                self.emit(out, event);
                entry.edge_to.clone_from(&target_id);
                self.trace.push(entry);
                self.record.set_recheck(&gate_id, true);
                self.clear_downstream(target);
                self.record.set_current(&target_id);
                self.save(out);
                return Flow::Goto(target);
            }
        } else if let Some(fallback) =
            routing::fallback_target(&self.plan, gate, self.record.fallback_taken(&gate_id))
        {
            let fallback_id = self.plan.node(fallback).id.clone();
            self.record.take_fallback(&gate_id);
            let event = self
                .event(EventKind::StageFailed)
                .with_node_id(&gate_id)
                .with_message(format!(
                    "goal-gate retries exhausted for {gate_id:?} after {used} attempts, routing to fallback {fallback_id:?}"
                ));
            self.emit(out, event);
            entry.edge_to.clone_from(&fallback_id);
            self.trace.push(entry);
            self.record.set_recheck(&gate_id, true);
            self.clear_downstream(fallback);
            self.record.set_current(&fallback_id);
            self.save(out);
            return Flow::Goto(fallback);
        }
        let event = self
            .event(EventKind::StageFailed)
            .with_node_id(&gate_id)
            .with_message(format!(
                "goal-gate retries exhausted for {gate_id:?} after {used} attempts"
            ));
        self.emit(out, event);
        self.trace.push(entry);
        Flow::end(self.fail("pipeline failed: goal gate unsatisfied".into(), None, out))
    }

    /// Where an unsatisfied goal gate is sent back to: the first existing of the
    /// gate's `retry_target`, `fallback_target`, `fallback_retry_target`, then the
    /// graph's.
    fn goal_gate_retry_target(&self, gate: NodeIndex) -> Option<NodeIndex> {
        let common = &self.plan.node(gate).spec.common;
        let graph = &self.plan.graph_attrs;
        let keys = ["retry_target", "fallback_target", "fallback_retry_target"];
        // A node has no `fallback_target` of its own: the language spells it
        // `fallback_retry_target`.
        [&common.retry_target, &common.fallback_retry_target]
            .into_iter()
            .map(|t| t.as_str())
            .chain(
                keys.iter()
                    .map(|k| graph.get(*k).map_or("", String::as_str)),
            )
            .filter(|id| !id.is_empty())
            .find_map(|id| self.plan.node_index(id))
    }

    // -- leaving a node (§2.3, §2.4) ---------------------------------------------

    fn advance(&mut self, node: NodeIndex, mut entry: TraceEntry, out: &mut Vec<Effect>) -> Flow {
        let id = self.plan.node(node).id.clone();
        if self.plan.outgoing(node).next().is_none() {
            self.trace.push(entry);
            return Flow::end(halt(format!("no outgoing edges from non-exit node {id:?}")));
        }
        let outcome = self.ctx.get_or_empty(context::OUTCOME).to_string();
        if routing::strict_failure_applies(&self.plan, node, &outcome) {
            return self.strict_failure(node, entry, out);
        }
        let vars = self.vars();
        let hints = RoutingHints::from_lookup(&vars);
        let selected = routing::select_edge(&self.plan, node, &vars, &hints);
        let tried = match &selected {
            Ok(s) => s.conditions_tried.clone(),
            Err(e) => e.conditions_tried().to_vec(),
        };
        for t in &tried {
            let decision = Decision {
                edge_from: Some(id.clone()),
                edge_to: Some(t.to_id.clone()),
                edge_condition: Some(t.condition_raw.clone()),
                condition_match: t.matched,
                ..Decision::default()
            };
            let event = self
                .event(EventKind::DecisionCondition)
                .with_node_id(&id)
                .with_message(format!(
                    "condition {:?} on edge {id} -> {} evaluated to {}",
                    t.condition_raw, t.to_id, t.matched
                ))
                .with_decision(decision);
            self.emit(out, event);
        }
        let selection = match selected {
            Ok(selection) => selection,
            Err(err) => {
                self.trace.push(entry);
                return Flow::end(halt(routing_error_text(&id, &err)));
            }
        };
        self.emit_selection(&id, &selection, out);
        let edge = selection.edge(&self.plan).clone();
        if edge.override_ {
            self.record_override(node, &edge.label, out);
        }
        entry.edge_to.clone_from(&edge.to_id);
        self.trace.push(entry);
        self.emit_cost(&id, out);
        if let Some(end) = self.check_budget(out) {
            return Flow::end(end);
        }
        self.last_progress = self.clock.now();
        self.record.select_edge(&id, &edge.to_id);
        if self.record.is_completed(&edge.to_id) {
            return self.restart(edge.to, out);
        }
        self.record.set_current(&edge.to_id);
        self.save(out);
        Flow::Goto(edge.to)
    }

    /// `edge_tiebreaker`, `decision_edge` and `conditional_fallthrough`, in order.
    fn emit_selection(&mut self, id: &str, selection: &Selection, out: &mut Vec<Effect>) {
        let edge = selection.edge(&self.plan).clone();
        if selection.tiebreaker {
            let decision = Decision {
                edge_from: Some(id.to_string()),
                edge_to: Some(edge.to_id.clone()),
                edge_priority: Some(event::EdgePriority::Lexical),
                ..Decision::default()
            };
            let event = self
                .event(EventKind::EdgeTiebreaker)
                .with_node_id(id)
                .with_message(format!(
                    "{} unconditional edges share the top weight; chose {:?} by target id",
                    selection.unconditional_candidates, edge.to_id
                ))
                .with_decision(decision);
            self.emit(out, event);
        }
        let priority = selection.priority;
        let decision = Decision {
            edge_from: Some(id.to_string()),
            edge_to: Some(edge.to_id.clone()),
            edge_condition: routing::guard(&edge).map(|c| c.raw.clone()),
            condition_match: routing::guard(&edge).is_some(),
            edge_priority: Some(priority),
            context_snapshot: self.ctx.routing_snapshot(),
            ..Decision::default()
        };
        let event = self
            .event(EventKind::DecisionEdge)
            .with_node_id(id)
            .with_message(format!(
                "edge selected: {id} -> {} (priority: {})",
                edge.to_id,
                priority.wire_name()
            ))
            .with_decision(decision);
        self.emit(out, event);
        if selection.fallthrough {
            let decision = Decision {
                edge_from: Some(id.to_string()),
                edge_to: Some(edge.to_id.clone()),
                conditions_tried: selection
                    .conditions_tried
                    .iter()
                    .map(|t| event::ConditionEval {
                        edge_to: t.to_id.clone(),
                        condition: t.condition_raw.clone(),
                    })
                    .collect(),
                ..Decision::default()
            };
            let event = self
                .event(EventKind::ConditionalFallthrough)
                .with_node_id(id)
                .with_message(format!(
                    "no condition matched on {id}; fell through to unconditional edge -> {}",
                    edge.to_id
                ))
                .with_decision(decision);
            self.emit(out, event);
        }
    }

    /// §2.3: a failed node with only unconditional edges takes its once-only
    /// fallback or stops the run.
    fn strict_failure(
        &mut self,
        node: NodeIndex,
        mut entry: TraceEntry,
        out: &mut Vec<Effect>,
    ) -> Flow {
        let id = self.plan.node(node).id.clone();
        let taken = self.record.fallback_taken(&id);
        if let Some(fallback) = routing::fallback_target(&self.plan, node, taken) {
            let fallback_id = self.plan.node(fallback).id.clone();
            entry.edge_to.clone_from(&fallback_id);
            self.trace.push(entry);
            self.emit_cost(&id, out);
            if let Some(end) = self.check_budget(out) {
                return Flow::end(end);
            }
            self.record.take_fallback(&id);
            let event = self
                .event(EventKind::StageFailed)
                .with_node_id(&id)
                .with_message(format!(
                    "node {id:?} failed with no failure edge — routing to fallback {fallback_id:?}"
                ));
            self.emit(out, event);
            self.clear_downstream(fallback);
            self.record.set_current(&fallback_id);
            self.save(out);
            return Flow::Goto(fallback);
        }
        let message = format!("node {id:?} failed with no failure edge — stopping pipeline");
        let event = self
            .event(EventKind::StageFailed)
            .with_node_id(&id)
            .with_message(message.clone());
        self.emit(out, event);
        self.trace.push(entry);
        Flow::end(RunEnd {
            checkpoint_error: None,
            result: Some(self.result(TerminalStatus::Fail, Vec::new())),
            error: Some(message),
        })
    }

    /// §2.5b: an edge into a completed node restarts that part of the graph,
    /// against the run's one restart budget.
    fn restart(&mut self, next: NodeIndex, out: &mut Vec<Effect>) -> Flow {
        let max = restart_budget(&self.plan);
        let used = self.record.restart_count();
        if used >= u64::from(max) {
            let message = format!("max restarts ({max}) exceeded");
            let event = self
                .event(EventKind::PipelineFailed)
                .with_message(message.clone())
                .with_terminal_status(TerminalStatus::Fail.as_str());
            self.emit(out, event);
            self.save(out);
            return Flow::end(RunEnd {
                checkpoint_error: None,
                result: Some(self.result(TerminalStatus::Fail, Vec::new())),
                error: Some(message),
            });
        }
        let count = used + 1;
        self.record.set_restart_count(count);
        let target = self
            .plan
            .graph_attrs
            .get("restart_target")
            .and_then(|t| self.plan.node_index(t))
            .unwrap_or(next);
        let target_id = self.plan.node(target).id.clone();
        let event = self
            .event(EventKind::LoopRestart)
            .with_node_id(&target_id)
            .with_message(format!(
                "loop detected, restarting from {target_id:?} (restart {count}/{max})"
            ));
        self.emit(out, event);
        let cleared: Vec<String> = self
            .plan
            .downstream(target)
            .into_iter()
            .map(|n| self.plan.node(n).id.clone())
            .collect();
        let decision = Decision {
            restart_count: Some(u32::try_from(count).unwrap_or(u32::MAX)),
            cleared_nodes: cleared.clone(),
            context_snapshot: self.ctx.routing_snapshot(),
            ..Decision::default()
        };
        let event = self
            .event(EventKind::DecisionRestart)
            .with_node_id(&target_id)
            .with_message(format!(
                "restart {count}: clearing {} nodes from {target_id:?}",
                cleared.len()
            ))
            .with_decision(decision);
        self.emit(out, event);
        for id in &cleared {
            self.record.clear_completed(id);
            self.record.set_retry_count(id, 0);
        }
        self.record.set_current(&target_id);
        self.save(out);
        Flow::Goto(target)
    }

    /// §2.9: taking an override edge out of `gate`.
    fn record_override(&mut self, gate: NodeIndex, label: &str, out: &mut Vec<Effect>) {
        let gate_id = self.plan.node(gate).id.clone();
        if self
            .record
            .overrides()
            .iter()
            .any(|o| o.gate_node_id == gate_id && o.label == label && o.subgraph_path.is_empty())
        {
            return;
        }
        let actor = self.last_actor.unwrap_or(Actor::Unknown);
        let mut covered = Vec::new();
        if actor == Actor::Human {
            for n in 0..self.plan.nodes.len() {
                let spec = self.plan.node(n);
                if !spec.spec.common.goal_gate {
                    continue;
                }
                let failed = self
                    .record
                    .node_outcomes()
                    .get(&spec.id)
                    .is_some_and(|s| s != SUCCESS);
                let routes_here = self.plan.outgoing(n).any(|e| e.to == gate)
                    || routing::fallback_target(&self.plan, n, false) == Some(gate);
                if failed && routes_here {
                    covered.push(spec.id.clone());
                }
            }
            for g in &covered {
                self.record.set_overridden(g, true);
            }
        }
        let detail = OverrideDetail {
            gate_node_id: gate_id.clone(),
            label: label.to_string(),
            actor: actor.wire_name().to_string(),
            covered_gates: covered,
            subgraph_path: Vec::new(),
            timestamp: self.clock.now().rfc3339_nanos(),
        };
        let mut event = self
            .event(EventKind::ValidationOverridden)
            .with_node_id(&gate_id)
            .with_message(format!(
                "validation overridden at {gate_id:?} via edge {label:?} (actor: {})",
                actor.wire_name()
            ));
        event.validation_override = Some(event_override(&detail));
        self.record.add_override(detail);
        self.emit(out, event);
        self.save(out);
    }
}

/// The event payload of an override record.
fn event_override(detail: &OverrideDetail) -> event::OverrideDetail {
    event::OverrideDetail {
        gate: Some(detail.gate_node_id.clone()),
        label: Some(detail.label.clone()).filter(|l| !l.is_empty()),
        actor: Actor::from_wire_name(&detail.actor),
        subgraph_path: detail.subgraph_path.clone(),
    }
}

fn routing_error_text(id: &str, err: &RoutingError) -> String {
    format!("select edge from {id:?}: {err}")
}
