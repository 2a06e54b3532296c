//! The run actor: one per pipeline run. It owns the run's [`Engine`] and acts on
//! its decisions: publishes events, has the checkpoint writer persist each
//! delta before going on, starts a [`NodeActor`] per node attempt, waits out
//! retry backoffs, and supervises node attempts (restarting crashed ones under
//! the run's [`SupervisionPolicy`]).
//!
//! Effects are carried out strictly in order and the next node starts only once
//! the checkpoint that precedes it is durable: a crash at any instant resumes
//! from a state the run really reached.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use actix::prelude::*;
use tokio::sync::{mpsc, oneshot, watch};
use tracker_handlers::child::Subgraphs;
use tracker_handlers::{EventSink, HandlerEnv, Services};
use tracker_runtime::clock::Clock;
use tracker_runtime::engine::{Effect, Engine, EngineConfig, Next, NodeTask, RunEnd};
use tracker_runtime::event::{EventKind, EventSource, PipelineEvent};
use tracker_runtime::outcome::{
    HandlerError, HandlerFailure, NodeResult, Outcome, FAIL, RETRY, SUCCESS,
};
use tracker_runtime::plan::{NodeIndex, SpawnPlan};
use tracker_runtime::supervision::{
    Decision, Escalation, ExitReason, Strategy, SupervisionPolicy, Supervisor,
};

use crate::node::{Abort, ExecuteNode, NodeActor, NodeExit};
use crate::store::RunStore;
use crate::writer::{CheckpointWriter, Compact, Park, Save, StoreError};

/// Everything a run needs.
pub struct RunSpec {
    /// The workflow.
    pub plan: Arc<SpawnPlan>,
    /// The engine's settings (run id, budget, resume point, …).
    pub config: EngineConfig,
    /// Shared services (handlers, completers, gates, child runs).
    pub services: Arc<Services>,
    /// Child workflows by reference.
    pub subgraphs: Arc<Subgraphs>,
    /// The working directory.
    pub workdir: PathBuf,
    /// The open checkpoint store, when the run persists its state.
    pub store: Option<RunStore>,
    /// Where the run's events go.
    pub events: Arc<dyn EventSink>,
    /// How node attempts are supervised.
    pub supervision: SupervisionPolicy,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Cancels the run when it turns `true` (a parent's cancellation).
    pub cancel: Option<watch::Receiver<bool>>,
    /// Steering updates from a manager loop.
    pub steering: Option<mpsc::Receiver<Vec<(String, String)>>>,
    /// The thread the run's actors run on, when not the supervisor's (a
    /// process spreading its runs over threads: see `Process::spawn`).
    pub home: Option<actix::ArbiterHandle>,
    /// Its turn when it has to wait for a slot: lower goes first (none: after
    /// every numbered run, in arrival order). Runs launched from several
    /// threads reach the supervisor in any order; this is the order they
    /// were accepted in.
    pub turn: Option<u64>,
    /// The run records agent file tools may not change: its own run
    /// directory (the artifact directory), or a child run's parent's.
    pub records: Option<PathBuf>,
}

impl RunSpec {
    /// A run of `plan` with `config`, publishing to `events`: no subgraphs, no
    /// checkpoint store, the default supervision, no parent.
    pub fn new(
        plan: Arc<SpawnPlan>,
        config: EngineConfig,
        services: Arc<Services>,
        workdir: PathBuf,
        events: Arc<dyn EventSink>,
        clock: Arc<dyn Clock>,
    ) -> RunSpec {
        RunSpec {
            records: config.artifact_dir.clone(),
            plan,
            config,
            services,
            subgraphs: Arc::new(Subgraphs::new()),
            workdir,
            store: None,
            events,
            supervision: SupervisionPolicy::default(),
            clock,
            cancel: None,
            steering: None,
            home: None,
            turn: None,
        }
    }
}

/// Cancels the run: the node in flight is aborted (its processes killed), the
/// checkpoint saved, and the run ends as `fail`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Cancel;

/// Context updates from a manager loop's steering.
#[derive(Message)]
#[rtype(result = "()")]
struct Steer(Vec<(String, String)>);

/// One pipeline run.
pub struct RunActor {
    engine: Engine,
    services: Arc<Services>,
    subgraphs: Arc<Subgraphs>,
    workdir: PathBuf,
    events: Arc<dyn EventSink>,
    clock: Arc<dyn Clock>,
    writer: Option<Addr<CheckpointWriter>>,
    store: Option<RunStore>,
    policy: SupervisionPolicy,
    supervisor: Supervisor,
    children: HashMap<NodeIndex, usize>,
    node: Option<Addr<NodeActor>>,
    current: Option<NodeTask>,
    resume_token: String,
    /// See [`RunSpec::records`].
    records: Option<PathBuf>,
    /// Supervisor restarts so far in this process: each restart's attempt gets a
    /// token of its own.
    restarts: u32,
    /// Saves that failed so far.
    unsaved: u32,
    /// The run was cancelled (its node aborted, not finished).
    cancelled: bool,
    /// This process started a node attempt (a resume that ends before its
    /// first, past its budget say, used no earlier attempt's result).
    ran_a_node: bool,
    done: Option<oneshot::Sender<RunEnd>>,
    cancel: Option<watch::Receiver<bool>>,
    steering: Option<mpsc::Receiver<Vec<(String, String)>>>,
}

impl RunActor {
    /// Builds the actor; `done` receives the run's end.
    pub fn new(spec: RunSpec, done: oneshot::Sender<RunEnd>) -> RunActor {
        let seed = spec.config.jitter_seed;
        let resume_token = spec
            .store
            .as_ref()
            .map(|s| s.checkpoint().timestamp.clone())
            .unwrap_or_default();
        RunActor {
            engine: Engine::new(spec.plan, spec.config, Arc::clone(&spec.clock)),
            services: spec.services,
            subgraphs: spec.subgraphs,
            workdir: spec.workdir,
            events: spec.events,
            clock: spec.clock,
            writer: None,
            store: spec.store,
            policy: spec.supervision,
            supervisor: Supervisor::new(Strategy::OneForOne, Vec::new(), seed ^ 0x5eed),
            children: HashMap::new(),
            node: None,
            current: None,
            resume_token,
            records: spec.records,
            restarts: 0,
            unsaved: 0,
            cancelled: false,
            ran_a_node: false,
            done: Some(done),
            cancel: spec.cancel,
            steering: spec.steering,
        }
    }

    /// The run's id.
    pub fn run_id(&self) -> &str {
        self.engine.run_id()
    }

    fn event(&self, kind: EventKind, node: &str) -> PipelineEvent {
        PipelineEvent::new(
            kind,
            EventSource::Pipeline,
            self.clock.now().event_timestamp(),
        )
        .with_run_id(self.engine.run_id())
        .with_node_id(node)
    }

    /// Carries out `effects` in order, then acts on `next`. Nothing else runs on
    /// this actor meanwhile.
    fn drive(&mut self, effects: Vec<Effect>, next: Next, ctx: &mut Context<Self>) {
        let sink = Arc::clone(&self.events);
        let writer = self.writer.clone();
        let clock = Arc::clone(&self.clock);
        let run_id = self.engine.run_id().to_string();
        let work = async move {
            let mut batch: Vec<PipelineEvent> = Vec::new();
            let mut token = None;
            let mut failed_save = false;
            let mut after_save = false;
            for effect in effects {
                match effect {
                    // The engine stamps what it decides when it decides it;
                    // what follows a save is published after it, and stamped
                    // so, or the log's times would go back at every step.
                    Effect::Emit(mut event) if after_save => {
                        event.ts = clock.now().event_timestamp();
                        batch.push(*event);
                    }
                    Effect::Emit(event) => batch.push(*event),
                    Effect::Save(_) | Effect::SaveInFlight(_) => {
                        let Some(writer) = &writer else { continue };
                        let (changes, in_flight) = match effect {
                            Effect::SaveInFlight(changes) => (changes, true),
                            Effect::Save(changes) => (changes, false),
                            Effect::Emit(_) => continue,
                        };
                        after_save = true;
                        let saved = writer
                            .send(Save {
                                changes,
                                now: clock.now(),
                                in_flight,
                            })
                            .await
                            .unwrap_or_else(|e| Err(StoreError::WriterGone(e)));
                        let event = PipelineEvent::new(
                            EventKind::CheckpointSaved,
                            EventSource::Pipeline,
                            clock.now().event_timestamp(),
                        )
                        .with_run_id(&run_id);
                        batch.push(match saved {
                            Ok(ts) => {
                                token = Some(ts);
                                event.with_message("checkpoint saved")
                            }
                            Err(error) => {
                                failed_save = true;
                                let mut failed = event
                                    .with_message("checkpoint save failed")
                                    .with_error(error.to_string());
                                failed.kind = EventKind::CheckpointFailed;
                                failed
                            }
                        });
                    }
                }
            }
            sink.emit_batch(batch).await;
            (token, failed_save)
        };
        ctx.wait(
            work.into_actor(self)
                .map(move |(token, failed_save), act, ctx| {
                    if let Some(token) = token {
                        act.resume_token = token;
                    }
                    if failed_save {
                        // The next attempt follows no durable save: it must not
                        // look like the attempt that followed the last one.
                        act.unsaved += 1;
                        act.resume_token = format!("{}+unsaved{}", act.resume_token, act.unsaved);
                    }
                    act.act_on(next, ctx);
                }),
        );
    }

    fn act_on(&mut self, next: Next, ctx: &mut Context<Self>) {
        match next {
            Next::Execute(task) => self.execute(task, 0, ctx),
            Next::Sleep(delay) => {
                ctx.run_later(delay, |act, ctx| {
                    if act.engine.is_done() {
                        return;
                    }
                    let mut out = Vec::new();
                    let next = act.engine.wake(&mut out);
                    act.drive(out, next, ctx);
                });
            }
            Next::Finished(end) => self.finish(end, ctx),
        }
    }

    /// Starts a node actor for `task`; `restart` counts the supervisor's
    /// restarts of this attempt (0 for the engine's own start).
    fn execute(&mut self, task: NodeTask, restart: u32, ctx: &mut Context<Self>) {
        self.ran_a_node = true;
        let Some(handler) = self.services.handlers.get(task.handler) else {
            let error = HandlerError::NoHandler {
                node: task.node_id.clone(),
                kind: task.handler.wire_name(),
            };
            // A configuration error: restarting cannot fix it, so it goes
            // straight to the engine rather than through supervision.
            drop(task);
            self.report(Err(error.into()), Vec::new(), ctx);
            return;
        };
        let env = HandlerEnv {
            plan: Arc::clone(self.engine.plan()),
            workdir: self.workdir.clone(),
            events: Arc::clone(&self.events),
            clock: Arc::clone(&self.clock),
            services: Arc::clone(&self.services),
            subgraphs: Arc::clone(&self.subgraphs),
            // A restart is a new attempt of its own: it must not find (and
            // adopt) the result of the attempt it replaces.
            resume_token: if restart == 0 {
                self.resume_token.clone()
            } else {
                format!("{}+restart{restart}", self.resume_token)
            },
            records: self.records.clone(),
        };
        if task.handler == tracker_runtime::plan::Handler::Human {
            // It may wait for hours: its journal need not stay open
            // meanwhile (the save before it is already in the writer's
            // mailbox, ahead of this).
            if let Some(writer) = &self.writer {
                let parked = writer.send(Park);
                ctx.spawn(parked.into_actor(self).map(|_, _, _| ()));
            }
        }
        let node = NodeActor::default().start();
        self.node = Some(node.clone());
        self.current = Some(task.clone());
        // A gate waits for a person as long as it takes (its own `timeout`
        // says how long): the supervision timeout is for work.
        let timeout = if task.handler == tracker_runtime::plan::Handler::Human {
            None
        } else {
            self.policy.for_node(&task.node_id).timeout
        };
        let attempt = node.send(ExecuteNode {
            task,
            env,
            handler,
            timeout,
        });
        ctx.spawn(attempt.into_actor(self).map(|exit, act, ctx| {
            act.node = None;
            let exit =
                exit.unwrap_or_else(|e| NodeExit::Panicked(format!("node actor stopped: {e}")));
            act.node_exited(exit, ctx);
        }));
    }

    /// Supervises a node attempt's exit: restart it, escalate, or hand the
    /// result to the engine.
    fn node_exited(&mut self, exit: NodeExit, ctx: &mut Context<Self>) {
        if self.engine.is_done() {
            return;
        }
        let Some(task) = self.current.take() else {
            return;
        };
        let (reason, result) = match exit {
            NodeExit::Aborted => return,
            NodeExit::Panicked(message) => (
                ExitReason::Crashed,
                Err(HandlerError::Panicked(message).into()),
            ),
            NodeExit::TimedOut(limit) => (
                ExitReason::TimedOut,
                Err(HandlerError::TimedOut {
                    node: task.node_id.clone(),
                    limit,
                }
                .into()),
            ),
            NodeExit::Finished(result) => (exit_reason(&result), *result),
        };
        let child = *self.children.entry(task.node).or_insert_with(|| {
            self.supervisor
                .add_child(self.policy.for_node(&task.node_id))
        });
        let decision = if reason == ExitReason::Normal {
            Decision::Leave
        } else {
            self.supervisor
                .child_exited(child, reason, self.clock.now())
        };
        match decision {
            Decision::Leave => {
                // Release the attempt's context snapshot before the engine
                // writes to the context, so the write does not copy it.
                drop(task);
                self.report(result, Vec::new(), ctx);
            }
            Decision::Restart { delay, count, .. } => {
                self.restarts += 1;
                let restart = self.restarts;
                let policy = self.policy.for_node(&task.node_id);
                let event = self
                    .event(EventKind::NodeRestarted, &task.node_id)
                    .with_message(format!(
                        "supervisor restarting node {:?} after {} (restart {count}/{} within {:?}, backoff {:?})",
                        task.node_id,
                        describe(&result),
                        policy.intensity.max_restarts,
                        policy.intensity.within,
                        delay
                    ))
                    .with_attempt(task.handler.wire_name(), task.attempt);
                let sink = Arc::clone(&self.events);
                ctx.wait(async move { sink.emit(event).await }.into_actor(self).map(
                    move |(), _, ctx| {
                        ctx.run_later(delay, move |act, ctx| {
                            if !act.engine.is_done() {
                                act.execute(task, restart, ctx);
                            }
                        });
                    },
                ));
            }
            Decision::Escalate {
                escalation,
                restarts,
            } => {
                let what = describe(&result);
                let event = self
                    .event(EventKind::SupervisorEscalated, &task.node_id)
                    .with_message(format!(
                        "supervisor gave up on node {:?} after {restarts} restart{} ({what}); escalating: {}",
                        task.node_id,
                        if restarts == 1 { "" } else { "s" },
                        match escalation {
                            Escalation::FailRun => "failing the run",
                            Escalation::FailNode => "the node fails",
                        }
                    ));
                let result = match escalation {
                    Escalation::FailRun => Err(HandlerError::RestartsSpent {
                        node: task.node_id.clone(),
                        what: what.clone(),
                        restarts,
                    }
                    .into()),
                    Escalation::FailNode => {
                        Ok(Outcome::with_status(FAIL).update("supervisor_error", what))
                    }
                };
                drop(task);
                self.report(result, vec![event], ctx);
            }
        }
    }

    /// Hands a node's result to the engine (after publishing `before`).
    fn report(&mut self, result: NodeResult, before: Vec<PipelineEvent>, ctx: &mut Context<Self>) {
        let mut out: Vec<Effect> = before
            .into_iter()
            .map(|e| Effect::Emit(Box::new(e)))
            .collect();
        let next = self.engine.finish_node(result, &mut out);
        self.drive(out, next, ctx);
    }

    /// The run is over: persist the final state, report, stop.
    ///
    /// A run that failed on its own has used the result of its last node
    /// attempt, even where the reference saves no checkpoint (a strict failure,
    /// spent retries): an empty save marks the state as past that attempt, so
    /// that a resume after fixing the cause runs the node again instead of
    /// adopting the result it already acted on. A run that succeeded keeps its
    /// token (its exit node's command, finished, is adopted if the run is
    /// resumed, never run twice), and so does a cancelled run, whose last
    /// attempt was cut short, not used, and a resumed run that ended before
    /// it started a node (past its budget already).
    ///
    /// A final save or fold that fails is not silent: a `warning` event says
    /// so before the end is reported, and the end carries it
    /// ([`RunEnd::checkpoint_error`]) for the summary.
    fn finish(&mut self, mut end: RunEnd, ctx: &mut Context<Self>) {
        let writer = self.writer.take();
        let succeeded = end.result.as_ref().is_some_and(|r| r.status.is_success());
        let mark_used = !self.cancelled && !succeeded && self.ran_a_node;
        let now = self.clock.now();
        let sink = Arc::clone(&self.events);
        let clock = Arc::clone(&self.clock);
        let run_id = self.engine.run_id().to_string();
        ctx.wait(
            async move {
                let writer = writer?;
                let mut failures = Vec::new();
                if mark_used {
                    let saved = writer
                        .send(Save {
                            changes: Vec::new(),
                            now,
                            in_flight: false,
                        })
                        .await
                        .unwrap_or_else(|e| Err(StoreError::WriterGone(e)));
                    if let Err(error) = saved {
                        failures.push(("final save failed", error));
                    }
                }
                let folded = writer
                    .send(Compact)
                    .await
                    .unwrap_or_else(|e| Err(StoreError::WriterGone(e)));
                if let Err(error) = folded {
                    failures.push(("fold failed", error));
                }
                if failures.is_empty() {
                    return None;
                }
                // Reported before the run's end is: whoever reads the end
                // (the summary) has seen the warning's cause too.
                let text = failures
                    .iter()
                    .map(|(what, error)| format!("{what}: {error}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                let warning = PipelineEvent::new(
                    EventKind::Warning,
                    EventSource::Pipeline,
                    clock.now().event_timestamp(),
                )
                .with_run_id(&run_id)
                .with_message(format!(
                    "checkpoint {}; the run directory's checkpoint may be behind the run",
                    failures
                        .iter()
                        .map(|(what, _)| *what)
                        .collect::<Vec<_>>()
                        .join(" and ")
                ))
                .with_error(text.clone());
                sink.emit(warning).await;
                Some(text)
            }
            .into_actor(self)
            .map(move |checkpoint_error, act, ctx| {
                end.checkpoint_error = checkpoint_error;
                if let Some(done) = act.done.take() {
                    let _ = done.send(end);
                }
                ctx.stop();
            }),
        );
    }
}

/// How a node's result counts for supervision.
fn exit_reason(result: &NodeResult) -> ExitReason {
    match result {
        Ok(outcome) if outcome.status == SUCCESS || outcome.status == RETRY => ExitReason::Normal,
        Ok(_) => ExitReason::Failed,
        Err(HandlerFailure {
            error: HandlerError::PausedBilling(_),
            ..
        }) => ExitReason::Normal,
        Err(HandlerFailure {
            error: HandlerError::Panicked(_),
            ..
        }) => ExitReason::Crashed,
        Err(_) => ExitReason::Failed,
    }
}

/// A short description of a non-normal result.
fn describe(result: &NodeResult) -> String {
    match result {
        Ok(outcome) => format!("outcome {:?}", outcome.status),
        Err(failure) => match &failure.error {
            HandlerError::Panicked(message) => format!("panicking: {message}"),
            HandlerError::TimedOut { limit, .. } => {
                format!("running past its timeout of {limit:?}")
            }
            other => format!("failing: {other}"),
        },
    }
}

impl Actor for RunActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        if let Some(store) = self.store.take() {
            self.writer = Some(CheckpointWriter::new(store).start());
        }
        if let Some(mut cancel) = self.cancel.take() {
            let me = ctx.address();
            actix::spawn(async move {
                // A parent that went away (its node was aborted, restarted or
                // timed out) cancels its child just as an explicit `true` does.
                loop {
                    match cancel.changed().await {
                        Ok(()) if !*cancel.borrow() => continue,
                        _ => {
                            me.do_send(Cancel);
                            return;
                        }
                    }
                }
            });
        }
        if let Some(mut steering) = self.steering.take() {
            let me = ctx.address();
            actix::spawn(async move {
                while let Some(updates) = steering.recv().await {
                    if me.send(Steer(updates)).await.is_err() {
                        return;
                    }
                }
            });
        }
        let mut out = Vec::new();
        let next = self.engine.start(&mut out);
        self.drive(out, next, ctx);
    }
}

impl Handler<Cancel> for RunActor {
    type Result = ();

    fn handle(&mut self, _: Cancel, ctx: &mut Self::Context) {
        if self.engine.is_done() {
            return;
        }
        if let Some(node) = self.node.take() {
            node.do_send(Abort);
        }
        self.cancelled = true;
        self.current = None;
        let mut out = Vec::new();
        let end = self.engine.cancel(&mut out);
        self.drive(out, Next::Finished(end), ctx);
    }
}

impl Handler<Steer> for RunActor {
    type Result = ();

    fn handle(&mut self, msg: Steer, _: &mut Self::Context) {
        self.engine.steer(msg.0);
    }
}

impl Drop for RunActor {
    /// An actor that stops without having reported (a panic in the actor
    /// itself) still answers whoever waits for the run.
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            let _ = done.send(RunEnd {
                checkpoint_error: None,
                result: None,
                error: Some(format!(
                    "run {} stopped unexpectedly (its actor panicked)",
                    self.engine.run_id()
                )),
            });
        }
    }
}
