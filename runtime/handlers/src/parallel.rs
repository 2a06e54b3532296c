//! `parallel` and `parallel.fan_in` (engine-semantics §5.5, §5.6).
//!
//! A parallel node runs each branch's handler directly and concurrently, on a
//! copy of the context: branches get no retries, no `$name` expansion, no trace
//! entries and are never marked completed — the reference's contract. Their
//! results go to `parallel.results` in target order; the fan-in merges the
//! successful branches' updates.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::{BoxFuture, HandlerEnv, NodeHandler};
use tracker_runtime::engine::NodeTask;
use tracker_runtime::event::EventKind;
use tracker_runtime::gojson::{to_go_json_compact, GoValue};
use tracker_runtime::outcome::{HandlerError, NodeResult, Outcome, FAIL, SUCCESS};
use tracker_runtime::spec::{KindSpec, Setting};
use tracker_runtime::usage::{SessionStats, UsageSummary};

/// The context key holding branch results.
pub const RESULTS_KEY: &str = "parallel.results";

/// How many successful branches a join needs (defined with the node's spec).
pub use tracker_runtime::spec::JoinPolicy;

/// One branch's result.
#[derive(Clone, Debug)]
struct BranchResult {
    node_id: String,
    status: String,
    updates: BTreeMap<String, String>,
    error: String,
    stats: Option<SessionStats>,
    /// What a child-run branch (subgraph, manager loop) spent.
    child_usage: Option<UsageSummary>,
}

/// Runs `parallel` nodes.
#[derive(Debug)]
pub struct ParallelHandler;

impl NodeHandler for ParallelHandler {
    fn run(&self, task: NodeTask, env: HandlerEnv) -> BoxFuture<NodeResult> {
        Box::pin(async move { run_parallel(task, env).await })
    }
}

async fn run_parallel(task: NodeTask, env: HandlerEnv) -> NodeResult {
    let id = task.node_id.clone();
    let fail = |m: String| HandlerError::Config {
        node: id.clone(),
        message: format!("parallel node {id:?}: {m}"),
    };
    let plan = Arc::clone(&env.plan);
    let join = plan.join_of(task.node);
    let KindSpec::Parallel(fan_out) = &task.spec.kind else {
        return Err(fail("not a parallel node".into()).into());
    };
    let targets: Vec<String> = if fan_out.targets.is_empty() {
        plan.outgoing(task.node)
            .filter(|e| Some(e.to) != join)
            .map(|e| e.to_id.clone())
            .collect()
    } else {
        fan_out.targets.clone()
    };
    if targets.is_empty() {
        return Err(fail("no branches".into()).into());
    }
    let policy = fan_out.join.policy().map_err(|e| fail(e.to_string()))?;
    let mut branches = Vec::new();
    for (i, target) in targets.iter().enumerate() {
        let node = plan
            .node_index(target)
            .ok_or_else(|| fail(format!("branch target {target:?} does not exist")))?;
        let spec = plan.node(node);
        if !spec.spec.common.fallback_retry_target.is_empty() {
            return Err(fail(format!(
                "branch {target:?} declares a fallback target, which parallel branches cannot take"
            ))
            .into());
        }
        // Branches run their node's spec as declared (no `$name` expansion,
        // as in the reference), changed by the matching `branch` block.
        let mut branch_spec = spec.spec.as_ref().clone();
        if let Some(changes) = fan_out.overrides.get(i) {
            changes.apply(&mut branch_spec);
        }
        let Some(handler) = env.services.handlers.get(spec.handler) else {
            return Err(fail(format!("no handler for branch {target:?}")).into());
        };
        branches.push((
            NodeTask {
                node,
                node_id: spec.id.clone(),
                handler: spec.handler,
                attempt: 1,
                spec: Arc::new(branch_spec),
                context: Arc::clone(&task.context),
                run_id: task.run_id.clone(),
                artifact_dir: task.artifact_dir.clone(),
                budget: task.budget,
                usage: task.usage.clone(),
            },
            handler,
        ));
    }
    // An unusable limit or timeout means none, as in the reference (lint
    // DIP163 warns at load).
    let limit = fan_out
        .max_concurrency
        .as_ref()
        .and_then(Setting::ready)
        .map_or(branches.len(), |n| n.0);
    let branch_timeout = fan_out
        .branch_timeout
        .as_ref()
        .and_then(Setting::ready)
        .copied();

    let mut started = env.event(EventKind::ParallelStarted, &task);
    started.message = Some(format!(
        "parallel node {id:?} starting {} branches: {}",
        targets.len(),
        targets.join(", ")
    ));
    env.events.emit(started).await;

    let semaphore = Arc::new(tokio::sync::Semaphore::new(limit));
    let mut set = tokio::task::JoinSet::new();
    for (i, (branch, handler)) in branches.into_iter().enumerate() {
        let env = env.clone();
        let semaphore = Arc::clone(&semaphore);
        set.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            (i, run_branch(branch, handler, env, branch_timeout).await)
        });
    }
    let mut results: Vec<Option<Result<BranchResult, HandlerError>>> = vec![None; targets.len()];
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((i, result)) => results[i] = Some(result),
            Err(panic) => {
                return Err(HandlerError::Panicked(format!(
                    "a branch of parallel node {id:?} panicked: {panic}"
                ))
                .into())
            }
        }
    }
    let mut ordered = Vec::with_capacity(results.len());
    for (i, result) in results.into_iter().enumerate() {
        match result {
            Some(Ok(r)) => ordered.push(r),
            Some(Err(pause @ HandlerError::PausedBilling(_))) => return Err(pause.into()),
            Some(Err(other)) => ordered.push(BranchResult {
                node_id: targets[i].clone(),
                status: FAIL.into(),
                updates: BTreeMap::new(),
                error: other.to_string(),
                stats: None,
                child_usage: None,
            }),
            None => {
                return Err(HandlerError::BranchLost {
                    node: id.clone(),
                    branch: targets[i].clone(),
                }
                .into())
            }
        }
    }

    let succeeded = ordered.iter().filter(|r| r.status == SUCCESS).count();
    let ok = policy.satisfied(succeeded, ordered.len());
    let mut completed = env.event(EventKind::ParallelCompleted, &task);
    completed.message = Some(format!(
        "parallel node {id:?}: {succeeded}/{} branches succeeded",
        ordered.len()
    ));
    env.events.emit(completed).await;

    let mut outcome = Outcome::with_status(if ok { SUCCESS } else { FAIL })
        .update(RESULTS_KEY, results_json(&ordered));
    outcome.stats = merged_stats(&ordered);
    // Child runs' spending reaches the run's usage (and its budget) through
    // the parallel node.
    for usage in ordered.iter().filter_map(|r| r.child_usage.as_ref()) {
        outcome
            .child_usage
            .get_or_insert_with(UsageSummary::default)
            .add_child(usage);
    }
    if let Some(join) = join {
        if ok || policy == JoinPolicy::Any {
            outcome.suggested_next_nodes = vec![plan.node(join).id.clone()];
        }
    }
    Ok(outcome)
}

/// One branch: announce it, run its handler, report.
async fn run_branch(
    task: NodeTask,
    handler: Arc<dyn NodeHandler>,
    env: HandlerEnv,
    timeout: Option<Duration>,
) -> Result<BranchResult, HandlerError> {
    let started = env
        .event(EventKind::StageStarted, &task)
        .with_message(format!("executing parallel branch {:?}", task.node_id))
        .with_attempt(task.handler.wire_name(), 1);
    env.events.emit(started).await;
    let node_id = task.node_id.clone();
    let running = handler.run(task.clone(), env.clone());
    let result = match timeout {
        Some(limit) => match tokio::time::timeout(limit, running).await {
            Ok(result) => result,
            Err(_) => Err(HandlerError::BranchTimedOut {
                node: node_id.clone(),
                limit,
            }
            .into()),
        },
        None => running.await,
    };
    let branch = match result {
        Ok(outcome) => BranchResult {
            node_id: node_id.clone(),
            status: outcome.status,
            updates: outcome.context_updates,
            error: String::new(),
            stats: outcome.stats,
            child_usage: outcome.child_usage,
        },
        Err(failure) => {
            if let HandlerError::PausedBilling(_) = failure.error {
                return Err(failure.error);
            }
            BranchResult {
                node_id: node_id.clone(),
                status: FAIL.into(),
                updates: BTreeMap::new(),
                error: failure.error.to_string(),
                stats: None,
                child_usage: failure.child_usage.map(|u| *u),
            }
        }
    };
    let kind = if branch.status == FAIL {
        EventKind::StageFailed
    } else {
        EventKind::StageCompleted
    };
    let mut done = env
        .event(kind, &task)
        .with_message(format!("parallel branch {node_id:?}: {}", branch.status));
    if !branch.error.is_empty() {
        done.error = Some(branch.error.clone());
    }
    env.events.emit(done).await;
    Ok(branch)
}

/// `parallel.results`: `[{node_id, status, context_updates?, error?, stats?}]`.
fn results_json(results: &[BranchResult]) -> String {
    let items = results
        .iter()
        .map(|r| {
            let mut fields: Vec<(&str, GoValue)> = vec![
                ("node_id", r.node_id.as_str().into()),
                ("status", r.status.as_str().into()),
            ];
            if !r.updates.is_empty() {
                fields.push((
                    "context_updates",
                    GoValue::sorted_map(&r.updates, |v| v.as_str().into()),
                ));
            }
            if !r.error.is_empty() {
                fields.push(("error", r.error.as_str().into()));
            }
            if let Some(stats) = &r.stats {
                fields.push(("stats", tracker_runtime::usage::session_stats_value(stats)));
            }
            GoValue::object(fields)
        })
        .collect();
    to_go_json_compact(&GoValue::Array(items))
}

/// The branches' stats added up; provider, reasoning and cache-token counts are
/// not merged (the reference's behaviour: such usage is bucketed as `unknown`).
fn merged_stats(results: &[BranchResult]) -> Option<SessionStats> {
    let mut merged: Option<SessionStats> = None;
    for stats in results.iter().filter_map(|r| r.stats.as_ref()) {
        let m = merged.get_or_insert_with(SessionStats::default);
        m.turns += stats.turns;
        m.total_tool_calls += stats.total_tool_calls;
        for (tool, n) in &stats.tool_calls {
            *m.tool_calls.entry(tool.clone()).or_default() += n;
        }
        m.input_tokens += stats.input_tokens;
        m.output_tokens += stats.output_tokens;
        m.total_tokens += stats.total_tokens;
        m.cost_usd += stats.cost_usd;
        m.compactions += stats.compactions;
        m.cache_hits += stats.cache_hits;
        m.cache_misses += stats.cache_misses;
        m.files_modified
            .extend(stats.files_modified.iter().cloned());
        m.files_created.extend(stats.files_created.iter().cloned());
        m.longest_turn = m.longest_turn.max(stats.longest_turn);
    }
    merged
}

/// Runs `parallel.fan_in` nodes.
#[derive(Debug)]
pub struct FanInHandler;

impl NodeHandler for FanInHandler {
    fn run(&self, task: NodeTask, _env: HandlerEnv) -> BoxFuture<NodeResult> {
        Box::pin(async move { fan_in(&task).map_err(Into::into) })
    }
}

fn fan_in(task: &NodeTask) -> Result<Outcome, HandlerError> {
    let id = &task.node_id;
    let raw = task
        .context
        .get(RESULTS_KEY)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| HandlerError::Config {
            node: id.clone(),
            message: format!(
                "fan_in node {id:?}: no {RESULTS_KEY} in context (no parallel node ran before it)"
            ),
        })?;
    let results: Vec<serde_json::Value> =
        serde_json::from_str(raw).map_err(|e| HandlerError::Config {
            node: id.clone(),
            message: format!("fan_in node {id:?}: unreadable {RESULTS_KEY}: {e}"),
        })?;
    let config = |e: String| HandlerError::Config {
        node: id.clone(),
        message: format!("fan_in node {id:?}: {e}"),
    };
    let KindSpec::FanIn(fan_in) = &task.spec.kind else {
        return Err(config("not a fan-in node".into()));
    };
    let policy = fan_in.join.policy().map_err(|e| config(e.to_string()))?;
    let mut outcome = Outcome::success();
    let mut failed = Vec::new();
    let mut succeeded = 0;
    for result in &results {
        let node = result["node_id"].as_str().unwrap_or("");
        if result["status"].as_str() == Some(SUCCESS) {
            succeeded += 1;
            if let Some(updates) = result["context_updates"].as_object() {
                for (key, value) in updates {
                    let value = value
                        .as_str()
                        .map_or_else(|| value.to_string(), String::from);
                    outcome.context_updates.insert(key.clone(), value);
                }
            }
        } else {
            failed.push(node.to_string());
        }
    }
    if !policy.satisfied(succeeded, results.len()) {
        outcome.status = FAIL.into();
    }
    if policy != JoinPolicy::Any {
        let mut detail = format!(
            "policy {}: {succeeded}/{} branches succeeded",
            policy.name(),
            results.len()
        );
        if !failed.is_empty() {
            detail.push_str(&format!("; failed: {}", failed.join(", ")));
        }
        outcome
            .context_updates
            .insert("fan_in.policy_detail".into(), detail);
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_merge_without_provider() {
        let stats = SessionStats {
            turns: 1,
            input_tokens: 100,
            output_tokens: 50,
            total_tokens: 150,
            provider: "stub".into(),
            reasoning_tokens: 7,
            ..SessionStats::default()
        };
        let branch = |id: &str| BranchResult {
            node_id: id.into(),
            status: SUCCESS.into(),
            updates: BTreeMap::new(),
            error: String::new(),
            stats: Some(stats.clone()),
            child_usage: None,
        };
        let merged = merged_stats(&[branch("A"), branch("B")]).expect("stats");
        assert_eq!((merged.turns, merged.total_tokens), (2, 300));
        assert_eq!(merged.provider, "");
        assert_eq!(merged.reasoning_tokens, 0);
    }
}
