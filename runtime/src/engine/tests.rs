//! Engine tests: scripted handler results in, events and results out.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::clock::FixedClock;
use crate::outcome::{HandlerError, HandlerFailure, Outcome};
use crate::usage::SessionStats;

/// What a test run produced.
struct Run {
    events: Vec<PipelineEvent>,
    end: RunEnd,
    saves: Vec<Vec<Change>>,
    executed: Vec<String>,
    slept: Vec<Duration>,
}

impl Run {
    /// `type` of every event about `node`, in order.
    fn node_events(&self, node: &str) -> Vec<&'static str> {
        self.events
            .iter()
            .filter(|e| e.node_id.as_deref() == Some(node))
            .map(|e| e.kind.wire_name())
            .collect()
    }

    /// `type` of every node-less event, in order.
    fn pipeline_events(&self) -> Vec<&'static str> {
        self.events
            .iter()
            .filter(|e| e.node_id.is_none())
            .map(|e| e.kind.wire_name())
            .collect()
    }

    fn result(&self) -> &RunResult {
        self.end.result.as_ref().expect("run has a result")
    }

    fn status(&self) -> TerminalStatus {
        self.result().status
    }

    fn terminal_events(&self) -> usize {
        self.events
            .iter()
            .filter(|e| e.terminal_status.is_some())
            .count()
    }
}

fn plan(src: &str) -> Arc<SpawnPlan> {
    let (wf, diags) = dippin::parse_dip(src);
    assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
    Arc::new(SpawnPlan::compile(&wf).expect("compiles"))
}

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(WallTime {
        unix_nanos: 1_764_583_200_000_000_000,
        utc_offset_minutes: 0,
    }))
}

fn config() -> EngineConfig {
    EngineConfig {
        run_id: "0123456789ab".into(),
        checkpointing: true,
        ..EngineConfig::default()
    }
}

fn drive(
    plan: Arc<SpawnPlan>,
    config: EngineConfig,
    mut handler: impl FnMut(&NodeTask) -> NodeResult,
) -> Run {
    let mut engine = Engine::new(plan, config, clock());
    let mut out = Vec::new();
    let mut next = engine.start(&mut out);
    let mut executed = Vec::new();
    let mut slept = Vec::new();
    let mut steps = 0;
    let end = loop {
        steps += 1;
        assert!(steps < 1000, "engine did not finish");
        next = match next {
            Next::Execute(task) => {
                executed.push(task.node_id.clone());
                let result = handler(&task);
                engine.finish_node(result, &mut out)
            }
            Next::Sleep(d) => {
                slept.push(d);
                engine.wake(&mut out)
            }
            Next::Finished(end) => break end,
        };
    };
    assert!(engine.is_done());
    let mut events = Vec::new();
    let mut saves = Vec::new();
    for effect in out {
        match effect {
            Effect::Emit(e) => events.push(*e),
            Effect::Save(changes) | Effect::SaveInFlight(changes) => saves.push(changes),
        }
    }
    Run {
        events,
        end,
        saves,
        executed,
        slept,
    }
}

fn stub_stats() -> SessionStats {
    SessionStats {
        turns: 1,
        input_tokens: 100,
        output_tokens: 50,
        total_tokens: 150,
        provider: "stub".into(),
        ..SessionStats::default()
    }
}

/// Every node succeeds; agents with a prompt report stub usage.
fn all_succeed(task: &NodeTask) -> NodeResult {
    let mut outcome = Outcome::success();
    if task.handler == Handler::Codergen {
        outcome.stats = Some(stub_stats());
    }
    Ok(outcome)
}

const LINEAR: &str = "workflow L\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  agent Build\n    prompt: build it\n  agent Done\n    label: Done\n  edges\n    Start -> Build\n    Build -> Done\n";

#[test]
fn a_linear_run_emits_the_reference_sequence() {
    let run = drive(plan(LINEAR), config(), all_succeed);
    assert_eq!(run.status(), TerminalStatus::Success);
    assert_eq!(
        run.pipeline_events(),
        ["pipeline_started", "pipeline_completed"]
    );
    assert_eq!(
        run.node_events("Start"),
        [
            "stage_started",
            "decision_outcome",
            "stage_completed",
            "decision_edge"
        ]
    );
    assert_eq!(
        run.node_events("Build"),
        [
            "stage_started",
            "decision_outcome",
            "stage_completed",
            "decision_edge",
            "cost_updated"
        ]
    );
    assert_eq!(
        run.node_events("Done"),
        [
            "stage_started",
            "decision_outcome",
            "stage_completed",
            "cost_updated"
        ]
    );
    assert_eq!(run.result().completed_nodes, ["Start", "Build", "Done"]);
    let usage = run.result().usage.as_ref().expect("usage");
    assert_eq!((usage.total_tokens, usage.session_count), (150, 1));
    assert_eq!(run.terminal_events(), 1);
}

#[test]
fn saves_replay_to_the_engines_checkpoint() {
    let p = plan(LINEAR);
    let mut engine = Engine::new(Arc::clone(&p), config(), clock());
    let mut out = Vec::new();
    let mut next = engine.start(&mut out);
    while let Next::Execute(task) = next {
        next = engine.finish_node(all_succeed(&task), &mut out);
    }
    let mut replayed = Checkpoint::new("0123456789ab");
    for effect in &out {
        if let Effect::Save(changes) = effect {
            for change in changes {
                replayed.apply(change);
            }
        }
    }
    let live = engine.checkpoint();
    // The exit's success is not saved (as in the reference): compare the state
    // as of the last save, i.e. before Done ran.
    assert_eq!(replayed.current_node, "Done");
    assert_eq!(replayed.completed_nodes, ["Start", "Build"]);
    assert_eq!(
        replayed.context.get("graph.goal"),
        live.context.get("graph.goal")
    );
    assert_eq!(replayed.context["node.Build.outcome"], "success");
    // Each save carries only what changed: the second save does not repeat the
    // first save's context keys.
    let saves: Vec<&Vec<Change>> = out
        .iter()
        .filter_map(|e| match e {
            Effect::Save(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(saves.len(), 2);
    assert!(saves[0]
        .iter()
        .any(|c| matches!(c, Change::Context { key, .. } if key.starts_with("graph."))));
    assert!(
        !saves[1]
            .iter()
            .any(|c| matches!(c, Change::Context { key, .. } if key.starts_with("graph.") || key.starts_with("node.Start."))),
        "{:?}",
        saves[1]
    );
}

const TOOL_FAILURE: &str = "workflow T\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  tool Boom\n    command: exit 1\n  agent Done\n    label: Done\n  edges\n    Start -> Boom\n    Boom -> Done\n";

fn fail_tools(task: &NodeTask) -> NodeResult {
    if task.handler == Handler::Tool {
        Ok(Outcome::with_status("fail"))
    } else {
        all_succeed(task)
    }
}

#[test]
fn strict_failure_stops_with_a_result_and_one_pipeline_failed() {
    let run = drive(plan(TOOL_FAILURE), config(), fail_tools);
    assert_eq!(run.status(), TerminalStatus::Fail);
    assert!(run.end.error.is_some());
    assert_eq!(
        run.node_events("Boom"),
        [
            "stage_started",
            "decision_outcome",
            "stage_failed",
            "stage_failed"
        ]
    );
    assert_eq!(
        run.pipeline_events(),
        ["pipeline_started", "pipeline_failed"]
    );
    assert_eq!(run.result().completed_nodes, ["Start", "Boom"]);
    let boom = &run.result().trace[1];
    assert_eq!((boom.status.as_str(), boom.edge_to.as_str()), ("fail", ""));
    assert!(run.result().usage.is_none());
}

#[test]
fn strict_failure_takes_the_workflow_fallback_once() {
    let src = TOOL_FAILURE.replace(
        "  exit: Done\n",
        "  exit: Done\n  defaults\n    on_failure: Done\n",
    );
    let run = drive(plan(&src), config(), fail_tools);
    assert_eq!(run.status(), TerminalStatus::Success);
    assert_eq!(run.executed, ["Start", "Boom", "Done"]);
    assert_eq!(
        run.node_events("Boom"),
        [
            "stage_started",
            "decision_outcome",
            "stage_failed",
            "stage_failed"
        ]
    );
}

const RETRY: &str = "workflow R\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  agent Flaky\n    prompt: p\n    max_retries: 2\n    base_delay: 1ms\n  agent Done\n    label: Done\n  edges\n    Start -> Flaky\n    Flaky -> Done\n";

#[test]
fn retries_back_off_then_exhaust_without_an_error() {
    let run = drive(plan(RETRY), config(), |task| {
        if task.node_id == "Flaky" {
            let mut outcome = Outcome::with_status("retry");
            outcome.stats = Some(SessionStats {
                turns: 3,
                provider: "stub".into(),
                ..SessionStats::default()
            });
            Ok(outcome)
        } else {
            all_succeed(task)
        }
    });
    assert_eq!(run.status(), TerminalStatus::Fail);
    assert!(run.end.error.is_none());
    assert_eq!(
        run.node_events("Flaky"),
        [
            "stage_started",
            "decision_outcome",
            "stage_retrying",
            "cost_updated",
            "stage_started",
            "decision_outcome",
            "stage_retrying",
            "cost_updated",
            "stage_started",
            "decision_outcome",
            "stage_failed"
        ]
    );
    assert_eq!(
        run.pipeline_events(),
        ["pipeline_started", "pipeline_failed"]
    );
    // Exponential from 1ms with jitter in [0.75, 1.25).
    assert_eq!(run.slept.len(), 2);
    assert!(
        run.slept[0] >= Duration::from_micros(750) && run.slept[0] < Duration::from_micros(1250)
    );
    assert!(
        run.slept[1] >= Duration::from_micros(1500) && run.slept[1] < Duration::from_micros(2500)
    );
    let attempts: Vec<u32> = run
        .events
        .iter()
        .filter(|e| e.kind == EventKind::StageStarted && e.node_id.as_deref() == Some("Flaky"))
        .filter_map(|e| e.capture.attempt_no)
        .collect();
    assert_eq!(attempts, [1, 2, 3]);
    assert_eq!(
        run.result().usage.as_ref().map(|u| u.session_count),
        Some(3)
    );
}

#[test]
fn a_flaky_node_that_recovers_within_its_policy_succeeds() {
    let mut calls = 0;
    let run = drive(plan(RETRY), config(), |task| {
        if task.node_id == "Flaky" {
            calls += 1;
            if calls < 3 {
                return Ok(Outcome::with_status("retry"));
            }
        }
        all_succeed(task)
    });
    assert_eq!(run.status(), TerminalStatus::Success);
    assert_eq!(run.executed, ["Start", "Flaky", "Flaky", "Flaky", "Done"]);
}

#[test]
fn handler_errors_fail_the_run_and_billing_pauses_it() {
    let run = drive(plan(LINEAR), config(), |task| {
        if task.node_id == "Build" {
            Err(HandlerFailure::from(HandlerError::Config {
                node: "Build".into(),
                message: "boom".into(),
            }))
        } else {
            all_succeed(task)
        }
    });
    assert_eq!(run.status(), TerminalStatus::Fail);
    assert_eq!(run.node_events("Build"), ["stage_started", "stage_failed"]);
    assert_eq!(
        run.pipeline_events(),
        ["pipeline_started", "pipeline_failed"]
    );
    assert_eq!(run.result().trace[1].status, "error");

    let run = drive(plan(LINEAR), config(), |task| {
        if task.node_id == "Build" {
            Err(HandlerError::PausedBilling("credit balance too low".into()).into())
        } else {
            all_succeed(task)
        }
    });
    assert_eq!(run.status(), TerminalStatus::PausedBilling);
    assert_eq!(
        run.node_events("Build"),
        ["stage_started", "stage_failed", "billing_paused"]
    );
    assert_eq!(run.pipeline_events(), ["pipeline_started"]);
    assert_eq!(run.result().completed_nodes, ["Start"]);
    assert_eq!(run.terminal_events(), 1);
}

#[test]
fn a_token_budget_halts_between_nodes() {
    let mut cfg = config();
    cfg.budget.max_total_tokens = 10;
    cfg.checkpointing = false;
    let run = drive(plan(LINEAR), cfg, all_succeed);
    assert_eq!(run.status(), TerminalStatus::BudgetExceeded);
    assert_eq!(
        run.pipeline_events(),
        ["pipeline_started", "budget_exceeded"]
    );
    assert_eq!(
        run.node_events("Build"),
        [
            "stage_started",
            "decision_outcome",
            "stage_completed",
            "decision_edge",
            "cost_updated"
        ]
    );
    assert_eq!(run.result().budget_limits_hit, ["tokens"]);
    assert!(run.saves.is_empty());
}

const OVERRIDE: &str = "workflow V\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  tool Check\n    command: exit 1\n  human Escalate\n    mode: freeform\n  agent Cleanup\n    prompt: clean\n  agent Done\n    label: Done\n  edges\n    Start -> Check\n    Check -> Cleanup  when ctx.outcome = success\n    Check -> Escalate  when ctx.outcome = fail\n    Escalate -> Cleanup  label: accept  override: true\n    Escalate -> Done  label: abandon\n    Cleanup -> Done\n";

#[test]
fn an_override_edge_ends_validation_overridden() {
    let run = drive(plan(OVERRIDE), config(), |task| match task.handler {
        Handler::Tool => Ok(Outcome::with_status("fail")),
        Handler::Human => {
            let mut outcome = Outcome::success();
            outcome.preferred_label = "accept".into();
            outcome.actor = Some(Actor::Autopilot);
            Ok(outcome)
        }
        _ => all_succeed(task),
    });
    assert_eq!(run.status(), TerminalStatus::ValidationOverridden);
    assert_eq!(
        run.node_events("Check"),
        [
            "stage_started",
            "decision_outcome",
            "stage_failed",
            "decision_condition",
            "decision_condition",
            "decision_edge"
        ]
    );
    let escalate = run.node_events("Escalate");
    assert_eq!(
        escalate[escalate.len() - 2..],
        ["decision_edge", "validation_overridden"]
    );
    let overrides = &run.result().validation_overrides;
    assert_eq!(overrides.len(), 1);
    assert_eq!(overrides[0].actor, "autopilot");
    assert_eq!(overrides[0].label, "accept");
}

const LOOP: &str = "workflow Loop\n  start: Start\n  exit: Done\n  defaults\n    max_restarts: 2\n  agent Start\n    label: Start\n  tool Work\n    command: x\n  agent Done\n    label: Done\n  edges\n    Start -> Work\n    Work -> Start  when ctx.outcome = fail  loop\n    Work -> Done  when ctx.outcome = success\n";

#[test]
fn loops_restart_until_the_global_budget_is_spent() {
    let run = drive(plan(LOOP), config(), fail_tools);
    assert_eq!(run.status(), TerminalStatus::Fail);
    assert_eq!(run.end.error.as_deref(), Some("max restarts (2) exceeded"));
    assert_eq!(
        run.executed,
        ["Start", "Work", "Start", "Work", "Start", "Work"]
    );
    let restarts: Vec<u32> = run
        .events
        .iter()
        .filter(|e| e.kind == EventKind::DecisionRestart)
        .filter_map(|e| e.decision.as_ref().and_then(|d| d.restart_count))
        .collect();
    assert_eq!(restarts, [1, 2]);
    assert_eq!(run.terminal_events(), 1);
}

const GATE: &str = "workflow G\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  agent Impl\n    prompt: do it\n  agent Verify\n    prompt: check\n    goal_gate: true\n    retry_target: Impl\n    max_retries: 1\n  agent Report\n    prompt: report\n  agent Done\n    label: Done\n  edges\n    Start -> Impl\n    Impl -> Verify\n    Verify -> Done  when ctx.outcome = success\n    Verify -> Report  when ctx.outcome = fail\n    Report -> Done\n";

#[test]
fn an_unsatisfied_goal_gate_is_retried_then_fails_the_run() {
    let run = drive(plan(GATE), config(), |task| {
        if task.node_id == "Verify" {
            Ok(Outcome::with_status("fail"))
        } else {
            all_succeed(task)
        }
    });
    assert_eq!(run.status(), TerminalStatus::Fail);
    assert!(run.end.error.is_none());
    assert_eq!(
        run.executed,
        ["Start", "Impl", "Verify", "Report", "Done", "Impl", "Verify", "Report", "Done"]
    );
    let verify = run.node_events("Verify");
    assert_eq!(verify.iter().filter(|e| **e == "stage_retrying").count(), 1);
    assert_eq!(verify.last(), Some(&"stage_failed"));
    assert_eq!(
        run.pipeline_events(),
        ["pipeline_started", "pipeline_failed"]
    );
    assert_eq!(run.terminal_events(), 1);
}

#[test]
fn a_goal_gate_that_passes_on_the_second_try_completes() {
    let mut verify_calls = 0;
    let run = drive(plan(GATE), config(), |task| {
        if task.node_id == "Verify" {
            verify_calls += 1;
            let status = if verify_calls == 1 { "fail" } else { "success" };
            return Ok(Outcome::with_status(status));
        }
        all_succeed(task)
    });
    assert_eq!(run.status(), TerminalStatus::Success);
    assert_eq!(
        run.executed,
        ["Start", "Impl", "Verify", "Report", "Done", "Impl", "Verify", "Done"]
    );
    assert!(run
        .events
        .iter()
        .any(|e| e.kind == EventKind::StageRetrying && e.node_id.as_deref() == Some("Verify")));
}

#[test]
fn resuming_skips_completed_nodes_along_their_stored_edges() {
    // A run that stopped while Build was running: Start completed, current Build.
    let p = plan(LINEAR);
    let mut first = Engine::new(Arc::clone(&p), config(), clock());
    let mut out = Vec::new();
    let next = first.start(&mut out);
    let Next::Execute(task) = next else {
        panic!("expected Start to execute")
    };
    let next = first.finish_node(all_succeed(&task), &mut out);
    assert!(matches!(&next, Next::Execute(t) if t.node_id == "Build"));
    let mut cp = Checkpoint::new("0123456789ab");
    for effect in &out {
        if let Effect::Save(changes) = effect {
            for c in changes {
                cp.apply(c);
            }
        }
    }
    let mut cfg = config();
    cfg.resume_from = Some(cp);
    cfg.run_id = "ffffffffffff".into();
    let run = drive(p, cfg, all_succeed);
    assert_eq!(run.status(), TerminalStatus::Success);
    assert_eq!(run.result().run_id, "0123456789ab");
    assert_eq!(run.executed, ["Build", "Done"]);
}

#[test]
fn resuming_at_an_unknown_node_halts_without_a_result() {
    let mut cp = Checkpoint::new("0123456789ab");
    cp.current_node = "Gone".into();
    let mut cfg = config();
    cfg.resume_from = Some(cp);
    let run = drive(plan(LINEAR), cfg, all_succeed);
    assert!(run.end.result.is_none());
    assert_eq!(
        run.pipeline_events(),
        ["pipeline_started", "pipeline_failed"]
    );
}

#[test]
fn a_condition_no_edge_matches_halts_without_a_result() {
    let src = "workflow N\n  start: A\n  exit: Done\n  tool A\n    command: x\n  agent Done\n    label: Done\n  edges\n    A -> Done  when ctx.outcome = nope\n";
    let run = drive(plan(src), config(), all_succeed);
    assert!(run.end.result.is_none());
    assert!(run
        .end
        .error
        .as_deref()
        .is_some_and(|e| e.contains("no matching edges")));
    assert_eq!(run.node_events("A").last(), Some(&"decision_condition"));
    assert_eq!(run.terminal_events(), 1);
}

#[test]
fn cancelling_saves_and_fails() {
    let mut engine = Engine::new(plan(LINEAR), config(), clock());
    let mut out = Vec::new();
    let _ = engine.start(&mut out);
    let end = engine.cancel(&mut out);
    assert_eq!(end.result.map(|r| r.status), Some(TerminalStatus::Fail));
    assert!(matches!(out.last(), Some(Effect::Emit(e)) if e.kind == EventKind::PipelineFailed));
    // The attempt under way keeps its token: a resume adopts what it did.
    assert!(out.iter().any(|e| matches!(e, Effect::SaveInFlight(_))));
    assert!(!out.iter().any(|e| matches!(e, Effect::Save(_))));
}
