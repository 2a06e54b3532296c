//! Child runs: `subgraph` (run another workflow inline, as one node) and
//! `stack.manager_loop` (launch one and supervise it: poll, steer, stop)
//! (engine-semantics §5.7, §5.8).
//!
//! Both hand the child to a [`ChildRunner`], which the actor runtime provides:
//! the child is a full run of its own (its events prefixed `<node>/`, its
//! pipeline events dropped) sharing the parent's budget.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use dippin::condition::Expr;

use super::{BoxFuture, EventSink, HandlerEnv, NodeHandler, Services};
use tracker_runtime::checkpoint::OverrideDetail;
use tracker_runtime::engine::{BudgetLimits, NodeTask, RunEnd, TerminalStatus};
use tracker_runtime::event::EventKind;
use tracker_runtime::interpolate::{expand_braces, Mode, Sources};
use tracker_runtime::outcome::{HandlerError, HandlerFailure, NodeResult, Outcome, FAIL, SUCCESS};
use tracker_runtime::plan::SpawnPlan;
use tracker_runtime::spec::{KindSpec, Setting};
use tracker_runtime::usage::UsageSummary;

/// How often a manager loop looks at its child when the node sets nothing.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(45);
/// A manager loop's cycle limit when the node sets none.
pub const DEFAULT_MAX_CYCLES: u64 = 1000;
/// How long a cancelled child gets to stop.
const CANCEL_GRACE: Duration = Duration::from_secs(30);

/// A child run to start.
pub struct ChildRun {
    /// The parent node: child event node ids become `<parent_node>/<child node>`.
    pub parent_node: String,
    /// The child workflow.
    pub plan: Arc<SpawnPlan>,
    /// The child's starting context (the parent's).
    pub initial_context: BTreeMap<String, String>,
    /// The run id the child's events carry (the parent's).
    pub run_id: String,
    /// The parent's ceilings.
    pub budget: BudgetLimits,
    /// What the parent has spent, counted against those ceilings.
    pub baseline_usage: Option<UsageSummary>,
    /// Steering updates from a manager loop.
    pub steering: Option<tokio::sync::mpsc::Receiver<Vec<(String, String)>>>,
    /// Set to `true` to cancel the child.
    pub cancel: tokio::sync::watch::Receiver<bool>,
    /// Where the child's (prefixed) events go.
    pub events: Arc<dyn EventSink>,
    /// The services the parent runs with.
    pub services: Arc<Services>,
    /// The child workflows nested children may name.
    pub subgraphs: Arc<Subgraphs>,
    /// The working directory (the parent's).
    pub workdir: PathBuf,
    /// The parent's run records, closed to the child's agents too.
    pub records: Option<PathBuf>,
}

impl ChildRun {
    /// A child of `task`'s node running `plan`, sharing the parent's context,
    /// run id, budget, services and working directory.
    pub fn of(
        task: &NodeTask,
        env: &HandlerEnv,
        plan: Arc<SpawnPlan>,
        steering: Option<tokio::sync::mpsc::Receiver<Vec<(String, String)>>>,
        cancel: tokio::sync::watch::Receiver<bool>,
    ) -> ChildRun {
        ChildRun {
            parent_node: task.node_id.clone(),
            plan,
            initial_context: task.context.as_ref().clone(),
            run_id: task.run_id.clone(),
            budget: task.budget,
            baseline_usage: task.usage.clone(),
            steering,
            cancel,
            events: Arc::clone(&env.events),
            services: Arc::clone(&env.services),
            subgraphs: Arc::clone(&env.subgraphs),
            workdir: env.workdir.clone(),
            records: env.records.clone(),
        }
    }
}

impl std::fmt::Debug for ChildRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildRun")
            .field("parent_node", &self.parent_node)
            .field("workflow", &self.plan.name)
            .finish_non_exhaustive()
    }
}

/// Runs child workflows to completion.
pub trait ChildRunner: Send + Sync {
    /// Runs `run` and returns how it ended.
    fn run(&self, run: ChildRun) -> BoxFuture<RunEnd>;
}

/// The compiled child workflows of a run, keyed by the `subgraph_ref` text that
/// names them.
pub type Subgraphs = BTreeMap<String, Arc<SpawnPlan>>;

/// Runs `subgraph` nodes.
#[derive(Debug)]
pub struct SubgraphHandler;

impl NodeHandler for SubgraphHandler {
    fn run(&self, task: NodeTask, env: HandlerEnv) -> BoxFuture<NodeResult> {
        Box::pin(async move { run_subgraph(task, env).await })
    }
}

async fn run_subgraph(task: NodeTask, env: HandlerEnv) -> NodeResult {
    let id = task.node_id.clone();
    let KindSpec::Subgraph(subgraph) = &task.spec.kind else {
        return Err(config(&id, format!("node {id:?} is not a subgraph node")).into());
    };
    let reference = subgraph.reference.as_str();
    let (runner, child) = launch_parts(&task, &env, reference)?;
    let overrides: Vec<(&str, &str)> = subgraph
        .params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let params = subgraph_params(&child, &overrides);
    let plan = Arc::new(inject_params(&child, &params));
    let (_cancel, cancel_rx) = tokio::sync::watch::channel(false);
    let end = runner
        .run(ChildRun::of(&task, &env, plan, None, cancel_rx))
        .await;
    child_outcome(&id, end, false)
}

/// The runner and the child plan for `reference`, or the handler error that
/// stops the node.
fn launch_parts(
    task: &NodeTask,
    env: &HandlerEnv,
    reference: &str,
) -> Result<(Arc<dyn ChildRunner>, Arc<SpawnPlan>), HandlerFailure> {
    let id = &task.node_id;
    if reference.is_empty() {
        return Err(config(id, format!("node {id:?} has no subgraph_ref")).into());
    }
    let Some(child) = env.subgraphs.get(reference).cloned() else {
        return Err(config(
            id,
            format!("node {id:?}: subgraph {reference:?} was not loaded"),
        )
        .into());
    };
    let Some(runner) = env.services.children.clone() else {
        return Err(config(
            id,
            format!("node {id:?}: child runs are not available here"),
        )
        .into());
    };
    Ok((runner, child))
}

/// The child's parameters: its own `params.*` defaults overlaid by the node's
/// `subgraph_params`.
pub fn subgraph_params(child: &SpawnPlan, overrides: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut params: BTreeMap<String, String> = child
        .graph_attrs
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("params.")
                .map(|k| (k.to_string(), v.clone()))
        })
        .collect();
    for (k, v) in overrides {
        params.insert(k.to_string(), v.to_string());
    }
    params
}

/// A copy of `child` with `params.*` set to `params` and `${…}` expanded in every
/// node attribute and label, with no context (so `${ctx.…}` expands to nothing,
/// as in the reference).
pub fn inject_params(child: &SpawnPlan, params: &BTreeMap<String, String>) -> SpawnPlan {
    let mut plan = child.clone();
    plan.graph_attrs.retain(|k, _| !k.starts_with("params."));
    for (k, v) in params {
        plan.graph_attrs.insert(format!("params.{k}"), v.clone());
    }
    let graph = plan.graph_attrs.clone();
    let sources = Sources::injection(&graph, params);
    let expand = |text: &str| {
        expand_braces(text, &sources, Mode::Prompt).unwrap_or_else(|_| text.to_string())
    };
    for node in &mut plan.nodes {
        for value in node.attrs.values_mut() {
            *value = expand(value);
        }
        Arc::make_mut(&mut node.spec).map_text(&expand);
        node.label = expand(&node.label);
    }
    plan
}

/// A finished child as the parent node's result (engine-semantics §5.7, §5.8).
///
/// A subgraph whose child halted or failed strictly (it has an error) fails
/// with a handler error; a manager loop takes any child with a result as a
/// routable outcome, and only a child with no result is its handler error.
/// A child that succeeded, was overridden or hit the budget is `success` (the
/// parent's own budget check then reports the breach); any other ending is
/// A configuration error of node `id`.
fn config(id: &str, message: String) -> HandlerError {
    HandlerError::Config {
        node: id.to_string(),
        message,
    }
}

/// `fail`. The outcome carries the child's whole context, usage and overrides.
fn child_outcome(id: &str, end: RunEnd, manager: bool) -> NodeResult {
    let usage = end.result.as_ref().and_then(|r| r.usage.clone());
    let result = match (&end.result, &end.error) {
        (Some(result), _) if manager => result,
        (Some(result), None) => result,
        _ => {
            let error = end
                .error
                .unwrap_or_else(|| "child run ended without a result".into());
            return Err(HandlerFailure {
                error: HandlerError::Child {
                    node: id.to_string(),
                    message: error,
                },
                child_usage: usage.map(Box::new),
            });
        }
    };
    let ok = match result.status {
        TerminalStatus::Success | TerminalStatus::ValidationOverridden => true,
        TerminalStatus::BudgetExceeded => true,
        TerminalStatus::Fail | TerminalStatus::PausedBilling => false,
    };
    let mut outcome = Outcome::with_status(if ok { SUCCESS } else { FAIL });
    outcome.context_updates = result.context.clone();
    if manager {
        outcome.context_updates.insert(
            "stack.child.status".into(),
            if result.status.is_success() {
                "success"
            } else {
                "failed"
            }
            .into(),
        );
        outcome.context_updates.insert(
            "stack.child.exit_status".into(),
            result.status.as_str().into(),
        );
    }
    outcome.child_usage = usage;
    outcome.child_overrides = result
        .validation_overrides
        .iter()
        .map(|o| OverrideDetail {
            subgraph_path: std::iter::once(id.to_string())
                .chain(o.subgraph_path.iter().cloned())
                .collect(),
            ..o.clone()
        })
        .collect();
    Ok(outcome)
}

/// Runs `stack.manager_loop` nodes.
#[derive(Debug)]
pub struct ManagerLoopHandler;

impl NodeHandler for ManagerLoopHandler {
    fn run(&self, task: NodeTask, env: HandlerEnv) -> BoxFuture<NodeResult> {
        Box::pin(async move { run_manager(task, env).await })
    }
}

async fn run_manager(task: NodeTask, env: HandlerEnv) -> NodeResult {
    let id = task.node_id.clone();
    let fail =
        |m: String| -> HandlerFailure { config(&id, format!("manager loop {id:?}: {m}")).into() };
    let KindSpec::Manager(manager) = &task.spec.kind else {
        return Err(fail("not a manager loop node".into()));
    };
    let reference = manager.reference.as_str().to_string();
    let (runner, plan) = launch_parts(&task, &env, &reference)?;
    let poll = manager.poll_interval.unwrap_or(DEFAULT_POLL_INTERVAL);
    let max_cycles = manager.max_cycles.unwrap_or(DEFAULT_MAX_CYCLES);
    let condition = |name: &str, c: &Option<Setting<Expr>>| match c {
        None => Ok(None),
        Some(c) => c
            .value()
            .cloned()
            .map(Some)
            .map_err(|e| fail(format!("invalid {name} {:?}", e.value))),
    };
    let stop = condition("stop_condition", &manager.stop_condition)?;
    let steer = condition("steer_condition", &manager.steer_condition)?;
    let steer_context: Vec<(String, String)> = manager
        .steer_context
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().to_string()))
        .collect();

    let (steer_tx, steer_rx) = tokio::sync::mpsc::channel(1);
    let (cancel_tx, cancel_rx) = tokio::sync::watch::channel(false);
    let mut child = runner.run(ChildRun::of(&task, &env, plan, Some(steer_rx), cancel_rx));
    let launched = env
        .event(EventKind::StageStarted, &task)
        .with_message(format!("manager_loop: child {reference:?} launched"));
    env.events.emit(launched).await;

    let mut vars: BTreeMap<String, String> = task.context.as_ref().clone();
    vars.insert("stack.child.status".into(), "running".into());
    let mut cycles = 0u64;
    loop {
        tokio::select! {
            biased;
            end = &mut child => {
                let succeeded = end.result.as_ref().is_some_and(|r| r.status.is_success());
                let result = child_outcome(&id, end, true);
                let kind = if succeeded {
                    EventKind::StageCompleted
                } else {
                    EventKind::StageFailed
                };
                let done = env
                    .event(kind, &task)
                    .with_message(format!("manager_loop: child {reference:?} finished"));
                env.events.emit(done).await;
                return result.map(|mut o| {
                    o.context_updates.insert("stack.child.cycles".into(), cycles.to_string());
                    o
                });
            }
            _ = tokio::time::sleep(poll) => {
                cycles += 1;
                vars.insert("stack.child.cycles".into(), cycles.to_string());
                let tick = env
                    .event(EventKind::ManagerCycleTick, &task)
                    .with_message(format!("manager_loop: cycle {cycles}/{max_cycles}"));
                env.events.emit(tick).await;
                if cycles >= max_cycles {
                    stop_child(&cancel_tx, child).await;
                    return Ok(stopped(&task, &env, "max_cycles_exceeded", FAIL, cycles).await);
                }
                if let Some(condition) = &stop {
                    if tracker_runtime::condition::evaluate(condition, &vars) {
                        stop_child(&cancel_tx, child).await;
                        return Ok(stopped(&task, &env, "stop_condition_met", SUCCESS, cycles).await);
                    }
                }
                if let Some(condition) = &steer {
                    if tracker_runtime::condition::evaluate(condition, &vars)
                        && steer_tx.try_send(steer_context.clone()).is_ok()
                    {
                        let tick = env
                            .event(EventKind::ManagerCycleTick, &task)
                            .with_message(format!("manager_loop: steered child at cycle {cycles}"));
                        env.events.emit(tick).await;
                    }
                }
            }
        }
    }
}

/// Cancels the child and waits (a bounded time) for it to stop.
async fn stop_child(cancel: &tokio::sync::watch::Sender<bool>, child: BoxFuture<RunEnd>) {
    let _ = cancel.send(true);
    let _ = tokio::time::timeout(CANCEL_GRACE, child).await;
}

/// The outcome of a manager loop that stopped its child.
async fn stopped(
    task: &NodeTask,
    env: &HandlerEnv,
    why: &str,
    status: &str,
    cycles: u64,
) -> Outcome {
    let kind = if status == SUCCESS {
        EventKind::StageCompleted
    } else {
        EventKind::StageFailed
    };
    let event = env
        .event(kind, task)
        .with_message(format!("manager_loop: {why}"));
    env.events.emit(event).await;
    Outcome::with_status(status)
        .update("stack.child.status", why)
        .update("stack.child.cycles", cycles.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(src: &str) -> SpawnPlan {
        let (wf, diags) = dippin::parse_dip(src);
        assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
        SpawnPlan::compile(&wf).expect("compiles")
    }

    #[test]
    fn params_overlay_defaults_and_are_injected() {
        let child = plan("workflow C\n  start: S\n  exit: S\n  vars\n    target: prod\n    region: eu\n  agent S\n    label: \"Deploy ${params.target}\"\n    prompt: deploy ${params.target} in ${params.region} for ${ctx.user}\n");
        let params = subgraph_params(&child, &[("target", "staging")]);
        assert_eq!(params["target"], "staging");
        assert_eq!(params["region"], "eu");
        let injected = inject_params(&child, &params);
        let node = injected.node(injected.start);
        assert_eq!(node.attrs["prompt"], "deploy staging in eu for ");
        let agent = node.spec.agent().expect("an agent");
        assert_eq!(agent.prompt.as_str(), "deploy staging in eu for ");
        assert_eq!(node.label, "Deploy staging");
        assert_eq!(injected.graph_attrs["params.target"], "staging");
    }
}
