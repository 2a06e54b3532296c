//! Supervision of node attempts under the real actor runtime: panicking and
//! flaky node code, restart types, the intensity limit, escalation, and a paused
//! run resuming from its checkpoint.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tracker_actors::bus::Subscribe;
use tracker_actors::clock::SystemClock;
use tracker_actors::collect::{Collector, TakeEvents};
use tracker_actors::launch::{launch, RunOptions};
use tracker_actors::process::Process;
use tracker_actors::run_dir::{RunDir, WorkflowCopy};
use tracker_actors::store::{self, Durability};
use tracker_handlers::human::{AutoApprove, Interviewer};
use tracker_handlers::{BoxFuture, HandlerEnv, HandlerRegistry, NodeHandler};
use tracker_runtime::clock::{Clock, WallTime};
use tracker_runtime::engine::{NodeTask, RunEnd, TerminalStatus};
use tracker_runtime::event::{EventKind, PipelineEvent};
use tracker_runtime::llm::stub::{self, ScriptedCompleter, StubCompleter};
use tracker_runtime::llm::{Completers, ProviderError};
use tracker_runtime::outcome::{NodeResult, Outcome};
use tracker_runtime::plan::{Handler, SpawnPlan};
use tracker_runtime::supervision::SupervisionPolicy;

/// A tool handler that misbehaves a set number of times, then succeeds.
struct Flaky {
    misbehave: Misbehave,
    times: u32,
    calls: Arc<AtomicU32>,
}

#[derive(Clone, Copy)]
enum Misbehave {
    Panic,
    Fail,
    Hang,
}

impl NodeHandler for Flaky {
    fn run(&self, task: NodeTask, _env: HandlerEnv) -> BoxFuture<NodeResult> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let misbehave = call <= self.times && task.node_id == "Flaky";
        let how = self.misbehave;
        Box::pin(async move {
            if misbehave {
                match how {
                    Misbehave::Panic => panic!("flaky node code broke on call {call}"),
                    Misbehave::Fail => return Ok(Outcome::with_status("fail")),
                    Misbehave::Hang => std::future::pending::<()>().await,
                }
            }
            Ok(Outcome::success())
        })
    }
}

const FLOW: &str = "workflow F\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  tool Flaky\n    timeout: 5s\n    command: true\n  agent Done\n    label: Done\n  edges\n    Start -> Flaky\n    Flaky -> Done\n";

fn plan(src: &str) -> Arc<SpawnPlan> {
    let (wf, diags) = dippin::parse_dip(src);
    assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
    Arc::new(SpawnPlan::compile(&wf).expect("compiles"))
}

/// Wall time that moves with tokio's clock, so that under a paused runtime
/// the supervisor's intensity windows and its backoff waits (tokio timers)
/// pass together and instantly: no test waits in real time.
struct PausedClock {
    base: WallTime,
    start: tokio::time::Instant,
}

impl PausedClock {
    /// Pauses the current (single-threaded) runtime's clock and starts a
    /// wall clock on it.
    fn start() -> Arc<dyn Clock> {
        tokio::time::pause();
        Arc::new(PausedClock {
            base: SystemClock::new().now(),
            start: tokio::time::Instant::now(),
        })
    }
}

impl Clock for PausedClock {
    fn now(&self) -> WallTime {
        self.base.plus(self.start.elapsed())
    }
}

fn policy(spec: &str) -> SupervisionPolicy {
    let mut p = SupervisionPolicy::default();
    p.apply("backoff=100ms..5s").expect("backoff");
    if !spec.is_empty() {
        p.apply(spec).expect("policy");
    }
    p
}

struct Outcome2 {
    end: RunEnd,
    events: Vec<PipelineEvent>,
}

impl Outcome2 {
    fn status(&self) -> Option<TerminalStatus> {
        self.end.result.as_ref().map(|r| r.status)
    }

    fn count(&self, kind: EventKind) -> usize {
        self.events.iter().filter(|e| e.kind == kind).count()
    }

    fn kinds(&self) -> Vec<&'static str> {
        self.events.iter().map(|e| e.kind.wire_name()).collect()
    }
}

/// Runs `plan` to its end under a fresh actor system, its gates auto-approved.
fn run(
    plan: Arc<SpawnPlan>,
    handlers: HandlerRegistry,
    completers: Completers,
    supervision: SupervisionPolicy,
    run_dir: Option<RunDir>,
    run_id: &str,
) -> Outcome2 {
    let gates: Arc<dyn Interviewer> = Arc::new(AutoApprove);
    run_gated(
        plan,
        handlers,
        completers,
        supervision,
        run_dir,
        run_id,
        Some(gates),
    )
}

/// Runs `plan` to its end under a fresh actor system through the launch API,
/// its gates routed to `gates` (or nowhere), checkpointed in `run_dir` when
/// given (else named `run_id`).
fn run_gated(
    plan: Arc<SpawnPlan>,
    handlers: HandlerRegistry,
    completers: Completers,
    supervision: SupervisionPolicy,
    run_dir: Option<RunDir>,
    run_id: &str,
    gates: Option<Arc<dyn Interviewer>>,
) -> Outcome2 {
    let run_id = run_id.to_string();
    let workdir = tempfile::tempdir().expect("workdir");
    let mut options = RunOptions::new(workdir.path().to_path_buf(), completers);
    options.handlers = Some(handlers);
    options.supervision = supervision;
    options.interviewer = gates;
    options.run_id = Some(run_id);
    options.run_dir = run_dir;
    actix::System::new().block_on(async move {
        let process = Process::start(0);
        options.clock = PausedClock::start();
        let collector = actix::Actor::start(Collector::default());
        options.subscribers.push(collector.clone().recipient());
        let handle = launch(&process, plan, options).await.expect("launch");
        let end = handle.wait().await.expect("the run reports its end").end;
        let events = collector.send(TakeEvents).await.expect("events");
        Outcome2 { end, events }
    })
}

/// A new run directory under `root`.
fn new_run_dir(root: &std::path::Path) -> RunDir {
    let copy = WorkflowCopy {
        text: "",
        dot: false,
        base: None,
    };
    RunDir::create(root, copy, SystemClock::new().now(), Durability::NoSync).expect("run dir")
}

fn flaky(misbehave: Misbehave, times: u32) -> (HandlerRegistry, Arc<AtomicU32>) {
    let calls = Arc::new(AtomicU32::new(0));
    let mut handlers = HandlerRegistry::builtin();
    handlers.set(
        Handler::Tool,
        Arc::new(Flaky {
            misbehave,
            times,
            calls: Arc::clone(&calls),
        }),
    );
    (handlers, calls)
}

fn stub_completers() -> Completers {
    let mut c = Completers::new();
    c.answer_everything_with(Arc::new(StubCompleter::golden()));
    c
}

#[test]
fn restarts_spaced_beyond_the_intensity_window_never_exhaust_it() {
    // Each restart waits 10s of backoff, longer than the 1s window: no two
    // restarts are ever in the window together, so the supervisor keeps
    // restarting. On the paused clock the minute of waiting takes no time.
    let (handlers, calls) = flaky(Misbehave::Panic, 5);
    let out = run(
        plan(FLOW),
        handlers,
        stub_completers(),
        policy("intensity=1/1s,backoff=10s..10s"),
        None,
        "hhhhhhhhhhhh",
    );
    assert_eq!(
        out.status(),
        Some(TerminalStatus::Success),
        "{:?}",
        out.kinds()
    );
    assert_eq!(calls.load(Ordering::SeqCst), 6);
    assert_eq!(out.count(EventKind::NodeRestarted), 5);
    assert_eq!(out.count(EventKind::SupervisorEscalated), 0);
    // Five waits of 5s or more passed on the run's clock.
    let millis = |e: &PipelineEvent| e.ts.unix_millis().expect("timestamp");
    let span = millis(out.events.last().expect("events")) - millis(&out.events[0]);
    assert!(span >= 25_000, "{span}ms");
}

#[test]
fn a_panicking_node_is_restarted_with_an_event_for_every_restart() {
    let (handlers, calls) = flaky(Misbehave::Panic, 2);
    let out = run(
        plan(FLOW),
        handlers,
        stub_completers(),
        policy(""),
        None,
        "aaaaaaaaaaaa",
    );
    assert_eq!(
        out.status(),
        Some(TerminalStatus::Success),
        "{:?}",
        out.kinds()
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let restarts: Vec<&PipelineEvent> = out
        .events
        .iter()
        .filter(|e| e.kind == EventKind::NodeRestarted)
        .collect();
    assert_eq!(restarts.len(), 2);
    for (i, event) in restarts.iter().enumerate() {
        assert_eq!(event.node_id.as_deref(), Some("Flaky"));
        let message = event.message.as_deref().unwrap_or("");
        assert!(
            message.contains("panicking: flaky node code broke"),
            "{message}"
        );
        assert!(
            message.contains(&format!("restart {}/3", i + 1)),
            "{message}"
        );
    }
    assert_eq!(out.count(EventKind::SupervisorEscalated), 0);
    assert_eq!(out.count(EventKind::PipelineCompleted), 1);
}

#[test]
fn a_node_that_hangs_past_its_timeout_is_stopped_and_restarted() {
    let (handlers, calls) = flaky(Misbehave::Hang, 2);
    let out = run(
        plan(FLOW),
        handlers,
        stub_completers(),
        policy("Flaky:timeout=1s,backoff=1ms..1ms"),
        None,
        "aaaaaaaaaaab",
    );
    assert_eq!(
        out.status(),
        Some(TerminalStatus::Success),
        "{:?}",
        out.kinds()
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let restarts: Vec<String> = out
        .events
        .iter()
        .filter(|e| e.kind == EventKind::NodeRestarted)
        .map(|e| e.message.clone().unwrap_or_default())
        .collect();
    assert_eq!(restarts.len(), 2, "{restarts:?}");
    assert!(
        restarts
            .iter()
            .all(|m| m.contains("running past its timeout of 1s")),
        "{restarts:?}"
    );
}

#[test]
fn a_node_that_always_hangs_fails_the_run_once_its_restarts_are_spent() {
    let (handlers, calls) = flaky(Misbehave::Hang, u32::MAX);
    let out = run(
        plan(FLOW),
        handlers,
        stub_completers(),
        policy("Flaky:timeout=1s,backoff=1ms..1ms"),
        None,
        "aaaaaaaaaaac",
    );
    assert_eq!(
        out.status(),
        Some(TerminalStatus::Fail),
        "{:?}",
        out.kinds()
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        4,
        "the attempt and three restarts"
    );
    assert_eq!(out.count(EventKind::SupervisorEscalated), 1);
}

#[test]
fn the_intensity_limit_stops_restarts_and_fails_the_run() {
    let (handlers, calls) = flaky(Misbehave::Panic, u32::MAX);
    let out = run(
        plan(FLOW),
        handlers,
        stub_completers(),
        policy("intensity=2/1m"),
        None,
        "bbbbbbbbbbbb",
    );
    assert_eq!(out.status(), Some(TerminalStatus::Fail));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "one attempt and two restarts"
    );
    assert_eq!(out.count(EventKind::NodeRestarted), 2);
    assert_eq!(out.count(EventKind::SupervisorEscalated), 1);
    let kinds = out.kinds();
    let escalated = kinds
        .iter()
        .position(|k| *k == "supervisor_escalated")
        .expect("escalated");
    assert_eq!(
        &kinds[escalated..],
        ["supervisor_escalated", "stage_failed", "pipeline_failed"]
    );
    let error = out.end.error.clone().unwrap_or_default();
    assert!(error.contains("restart limit"), "{error}");
    assert_eq!(
        out.events
            .iter()
            .filter(|e| e.terminal_status.is_some())
            .count(),
        1
    );
}

#[test]
fn a_permanent_node_that_fails_is_restarted_until_it_succeeds() {
    let (handlers, calls) = flaky(Misbehave::Fail, 2);
    let out = run(
        plan(FLOW),
        handlers,
        stub_completers(),
        policy("Flaky:restart=permanent"),
        None,
        "cccccccccccc",
    );
    assert_eq!(
        out.status(),
        Some(TerminalStatus::Success),
        "{:?}",
        out.kinds()
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(out.count(EventKind::NodeRestarted), 2);
}

#[test]
fn transient_nodes_leave_failures_to_the_workflow() {
    let (handlers, calls) = flaky(Misbehave::Fail, 1);
    let out = run(
        plan(FLOW),
        handlers,
        stub_completers(),
        policy(""),
        None,
        "dddddddddddd",
    );
    // Strict failure, exactly as the reference: no restart.
    assert_eq!(out.status(), Some(TerminalStatus::Fail));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(out.count(EventKind::NodeRestarted), 0);
}

#[test]
fn escalating_to_a_node_failure_lets_the_workflow_route_to_a_gate() {
    let src = FLOW
        .replace("  agent Done\n", "  human Escalate\n    mode: choice\n  agent Done\n")
        .replace("    Flaky -> Done\n", "    Flaky -> Done  when ctx.outcome = success\n    Flaky -> Escalate  when ctx.outcome = fail\n    Escalate -> Done  label: accept\n");
    let (handlers, calls) = flaky(Misbehave::Panic, u32::MAX);
    let out = run(
        plan(&src),
        handlers,
        stub_completers(),
        policy("Flaky:intensity=1/1m,escalate=fail-node"),
        None,
        "eeeeeeeeeeee",
    );
    assert_eq!(
        out.status(),
        Some(TerminalStatus::Success),
        "{:?}",
        out.kinds()
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(out.count(EventKind::SupervisorEscalated), 1);
    assert_eq!(out.count(EventKind::GateOpened), 1);
    let completed = &out.end.result.as_ref().expect("result").completed_nodes;
    assert!(completed.contains(&"Escalate".to_string()));
}

/// Answers every gate with its first choice, after `after`.
struct SlowApprove {
    after: Duration,
}

impl Interviewer for SlowApprove {
    fn ask(
        &self,
        request: tracker_handlers::human::GateRequest,
    ) -> BoxFuture<Result<tracker_handlers::human::GateAnswer, tracker_runtime::outcome::GateError>>
    {
        let after = self.after;
        Box::pin(async move {
            tokio::time::sleep(after).await;
            Ok(tracker_handlers::human::GateAnswer {
                response: request.choices.first().cloned().unwrap_or_default(),
                answers: Vec::new(),
                actor: tracker_runtime::event::Actor::Human,
            })
        })
    }
}

#[test]
fn a_gate_waits_past_the_supervision_timeout_without_being_restarted() {
    let src = FLOW
        .replace(
            "  agent Done
",
            "  human Approve
    mode: choice
  agent Done
",
        )
        .replace(
            "    Flaky -> Done
",
            "    Flaky -> Approve
    Approve -> Done  label: yes
",
        );
    let (handlers, _) = flaky(Misbehave::Panic, 0);
    // Every node may work a second at most; the person takes longer.
    let out = run_gated(
        plan(&src),
        handlers,
        stub_completers(),
        policy("timeout=1s"),
        None,
        "ffffffffffff",
        Some(Arc::new(SlowApprove {
            after: Duration::from_millis(1500),
        })),
    );
    assert_eq!(
        out.status(),
        Some(TerminalStatus::Success),
        "{:?}",
        out.kinds()
    );
    assert_eq!(out.count(EventKind::NodeRestarted), 0);
    assert_eq!(out.count(EventKind::GateOpened), 1);
}

#[test]
fn a_gate_of_a_run_with_no_route_fails_closed() {
    let src = FLOW
        .replace(
            "  agent Done\n",
            "  human Approve\n    mode: choice\n  agent Done\n",
        )
        .replace(
            "    Flaky -> Done\n",
            "    Flaky -> Approve\n    Approve -> Done  label: accept\n",
        );
    let (handlers, _) = flaky(Misbehave::Fail, 0);
    let out = run_gated(
        plan(&src),
        handlers,
        stub_completers(),
        policy(""),
        None,
        "gggggggggggg",
        None,
    );
    assert_eq!(
        out.status(),
        Some(TerminalStatus::Fail),
        "{:?}",
        out.kinds()
    );
    let error = out.end.error.as_deref().unwrap_or("");
    assert!(
        error.contains(r#"gate "Approve": no interviewer answers the gates of run "gggggggggggg""#),
        "{error}"
    );
    let completed = &out.end.result.as_ref().expect("result").completed_nodes;
    assert!(!completed.contains(&"Approve".to_string()));
    assert!(!completed.contains(&"Done".to_string()));
}

#[test]
fn temporary_nodes_are_never_restarted() {
    let (handlers, calls) = flaky(Misbehave::Panic, 1);
    let out = run(
        plan(FLOW),
        handlers,
        stub_completers(),
        policy("restart=temporary"),
        None,
        "ffffffffffff",
    );
    assert_eq!(out.status(), Some(TerminalStatus::Fail));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(out.count(EventKind::NodeRestarted), 0);
    let failed = out
        .events
        .iter()
        .find(|e| e.kind == EventKind::StageFailed)
        .expect("stage_failed");
    assert!(
        failed.error.as_deref().unwrap_or("").contains("panic"),
        "{failed:?}"
    );
}

#[test]
fn a_billing_pause_resumes_from_its_checkpoint() {
    let src = "workflow B\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  agent Write\n    prompt: write\n  agent Done\n    label: Done\n  edges\n    Start -> Write\n    Write -> Done\n";
    let root = tempfile::tempdir().expect("runs");
    let run_dir = new_run_dir(root.path());
    let (id, dir) = (run_dir.id().to_string(), run_dir.path().to_path_buf());
    let script = Arc::new(ScriptedCompleter::new([
        Err(ProviderError::from_stream("stub", "", stub::BILLING_ERROR)),
        Ok(stub::text_response("done")),
    ]));
    let mut completers = Completers::new();
    completers.answer_everything_with(script.clone());
    let first = run(
        plan(src),
        HandlerRegistry::builtin(),
        completers.clone(),
        policy(""),
        Some(run_dir),
        "unused",
    );
    assert_eq!(first.status(), Some(TerminalStatus::PausedBilling));
    assert_eq!(first.count(EventKind::BillingPaused), 1);

    let cp = store::load(&dir).expect("checkpoint");
    assert_eq!(cp.current_node, "Write");
    assert_eq!(cp.completed_nodes, ["Start"]);
    let resumed = RunDir::resume(&dir, SystemClock::new().now(), Durability::NoSync)
        .expect("the paused run reopens");
    let second = run(
        plan(src),
        HandlerRegistry::builtin(),
        completers,
        policy(""),
        Some(resumed),
        "unused",
    );
    assert_eq!(second.status(), Some(TerminalStatus::Success));
    let result = second.end.result.expect("result");
    assert_eq!(result.run_id, id);
    assert_eq!(result.completed_nodes, ["Start", "Write", "Done"]);
    assert_eq!(script.requests().len(), 2);
}

#[test]
fn many_runs_at_once_all_finish_and_lose_no_event() {
    let (handlers, _calls) = flaky(Misbehave::Fail, 0);
    let ids: Vec<String> = (0..20).map(|i| format!("{i:012x}")).collect();
    let plan = plan(FLOW);
    actix::System::new().block_on(async move {
        let process = Process::start(4);
        let clock = PausedClock::start();
        let collector = actix::Actor::start(Collector::default());
        process
            .bus
            .send(Subscribe {
                run: None,
                recipient: collector.clone().recipient(),
            })
            .await
            .expect("subscribe");
        let mut handles = Vec::new();
        for id in &ids {
            let mut options = RunOptions::new(std::env::temp_dir(), stub_completers());
            options.handlers = Some(handlers.clone());
            options.supervision = policy("");
            options.clock = Arc::clone(&clock);
            options.run_id = Some(id.clone());
            handles.push(
                launch(&process, Arc::clone(&plan), options)
                    .await
                    .expect("launch"),
            );
        }
        for handle in handles {
            let end = tokio::time::timeout(Duration::from_secs(60), handle.wait())
                .await
                .expect("no run hangs")
                .expect("reports")
                .end;
            assert_eq!(end.result.map(|r| r.status), Some(TerminalStatus::Success));
        }
        let events = collector.send(TakeEvents).await.expect("events");
        for id in &ids {
            let mine: Vec<&str> = events
                .iter()
                .filter(|e| e.run_id.as_deref() == Some(id.as_str()))
                .map(|e| e.kind.wire_name())
                .collect();
            assert_eq!(mine.first(), Some(&"pipeline_started"), "{id}");
            assert_eq!(mine.last(), Some(&"pipeline_completed"), "{id}");
            assert_eq!(
                mine.iter().filter(|k| **k == "stage_started").count(),
                3,
                "{id}"
            );
            assert_eq!(
                mine.iter().filter(|k| **k == "stage_completed").count(),
                3,
                "{id}"
            );
        }
    });
}

#[test]
fn an_agent_that_answers_empty_is_retried_by_its_retry_policy() {
    let src = "workflow R\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  agent Think\n    prompt: think\n    max_retries: 2\n    base_delay: 1ms\n  agent Done\n    label: Done\n  edges\n    Start -> Think\n    Think -> Done\n";
    // Three empty answers make one `retry` outcome; the fourth call answers.
    let script = Arc::new(ScriptedCompleter::new([
        Ok(stub::empty_response()),
        Ok(stub::empty_response()),
        Ok(stub::empty_response()),
        Ok(stub::text_response("thought")),
    ]));
    let mut completers = Completers::new();
    completers.answer_everything_with(script.clone());
    let out = run(
        plan(src),
        HandlerRegistry::builtin(),
        completers,
        policy(""),
        None,
        "999999999999",
    );
    assert_eq!(
        out.status(),
        Some(TerminalStatus::Success),
        "{:?}",
        out.kinds()
    );
    assert_eq!(out.count(EventKind::StageRetrying), 1);
    assert_eq!(out.count(EventKind::NodeRestarted), 0);
    assert_eq!(script.requests().len(), 4);
    let result = out.end.result.expect("result");
    let think: Vec<&str> = result
        .trace
        .iter()
        .filter(|e| e.node_id == "Think")
        .map(|e| e.status.as_str())
        .collect();
    assert_eq!(think, ["retry", "success"]);
    assert_eq!(result.context["last_response"], "thought");
}

/// A tool handler that removes the run directory out from under the
/// checkpoint writer, then succeeds.
struct RemoveRunDir(std::path::PathBuf);

impl NodeHandler for RemoveRunDir {
    fn run(&self, _task: NodeTask, _env: HandlerEnv) -> BoxFuture<NodeResult> {
        let dir = self.0.clone();
        Box::pin(async move {
            std::fs::remove_dir_all(&dir).expect("remove the run directory");
            Ok(Outcome::success())
        })
    }
}

#[test]
fn a_failed_final_fold_is_a_warning_before_the_end_and_rides_on_the_end() {
    let parent = tempfile::tempdir().expect("temp dir");
    let run_dir = new_run_dir(parent.path());
    let dir = run_dir.path().to_path_buf();
    let mut handlers = HandlerRegistry::builtin();
    handlers.set(Handler::Tool, Arc::new(RemoveRunDir(dir.clone())));
    let out = run(
        plan(FLOW),
        handlers,
        stub_completers(),
        policy(""),
        Some(run_dir),
        "unused",
    );
    assert_eq!(
        out.status(),
        Some(TerminalStatus::Success),
        "{:?}",
        out.kinds()
    );
    let error = out
        .end
        .checkpoint_error
        .as_deref()
        .expect("a checkpoint error");
    assert!(
        error.contains("fold failed: checkpoint write failed"),
        "{error}"
    );
    let warning = out
        .events
        .iter()
        .rev()
        .find(|e| e.kind == EventKind::Warning)
        .expect("a warning event");
    assert_eq!(
        warning.source,
        tracker_runtime::event::EventSource::Pipeline
    );
    assert!(
        warning
            .message
            .as_deref()
            .unwrap_or("")
            .contains("fold failed"),
        "{warning:?}"
    );
    assert_eq!(warning.error.as_deref(), Some(error));
    // The warning comes after the run's own end event, before the end is
    // reported to whoever started the run.
    let completed = out
        .events
        .iter()
        .position(|e| e.kind == EventKind::PipelineCompleted)
        .expect("pipeline_completed");
    let warned = out
        .events
        .iter()
        .position(|e| e.kind == EventKind::Warning)
        .expect("warning");
    assert!(completed < warned, "{:?}", out.kinds());
}

#[test]
fn a_launched_run_keeps_its_activity_log_and_frees_its_directory_and_gates_at_the_end() {
    let root = tempfile::tempdir().expect("runs");
    let audit = tempfile::tempdir().expect("audit base");
    let workdir = tempfile::tempdir().expect("workdir");
    let (handlers, _calls) = flaky(Misbehave::Fail, 0);
    let run_dir = new_run_dir(root.path());
    let (id, dir) = (run_dir.id().to_string(), run_dir.path().to_path_buf());
    let mut options = RunOptions::new(workdir.path().to_path_buf(), stub_completers());
    options.handlers = Some(handlers);
    options.run_dir = Some(run_dir);
    options.activity_log = Some(audit.path().to_path_buf());
    options.interviewer = Some(Arc::new(AutoApprove));
    let (end, route_after) = actix::System::new().block_on(async {
        let process = Process::start(0);
        let handle = launch(&process, plan(FLOW), options).await.expect("launch");
        assert_eq!(handle.run_id(), id);
        assert_eq!(handle.dir(), Some(dir.as_path()));
        // While it runs, the directory is held: nobody else may resume it.
        let held = RunDir::resume(&dir, SystemClock::new().now(), Durability::NoSync);
        assert!(held.is_err(), "a running run's directory is locked");
        let finished = handle.wait().await.expect("end");
        assert!(finished.activity_error.is_none(), "{finished:?}");
        let route = process
            .gates
            .send(tracker_actors::gate::Resolve(id.clone()))
            .await
            .expect("router");
        (finished.end, route.is_some())
    });
    assert_eq!(end.result.map(|r| r.status), Some(TerminalStatus::Success));
    assert!(!route_after, "the run's gates are unrouted when it ends");
    let copy = std::fs::read_to_string(dir.join("activity.jsonl")).expect("the log's copy");
    assert!(
        copy.lines()
            .next()
            .unwrap_or("")
            .contains("pipeline_started"),
        "{copy}"
    );
    assert!(copy.contains("pipeline_completed"), "{copy}");
    RunDir::resume(&dir, SystemClock::new().now(), Durability::NoSync)
        .expect("the directory is free once the run ended");
}
