//! The runtime supervisor: one per process. It starts runs, keeps the registry
//! of every run (queued, running, finished), enforces a global limit on
//! concurrent runs, and cancels runs on request.
//!
//! A run that ends — normally, by cancellation, or because its actor died —
//! always reports: its waiter gets a [`RunEnd`] and the registry its status.

use std::collections::VecDeque;
use std::sync::Arc;

use actix::prelude::*;
use dashmap::DashMap;
use tokio::sync::oneshot;
use tracker_runtime::engine::RunEnd;

use crate::run::{Cancel, RunActor, RunSpec};

/// Where a run is in its life.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunStatus {
    /// Waiting for a slot.
    Queued,
    /// Running.
    Running,
    /// Over: the terminal status, or `halted` when the run had no result.
    Finished(String),
}

/// What the registry knows about a run.
#[derive(Clone, Debug)]
pub struct RunInfo {
    /// The run's id.
    pub run_id: String,
    /// The workflow's name.
    pub workflow: String,
    /// Where it is.
    pub status: RunStatus,
}

/// The registry of runs, readable from any thread.
pub type Registry = Arc<DashMap<String, RunInfo>>;

/// Starts a run. The reply's receiver yields the run's end.
#[derive(Message)]
#[rtype(result = "StartedRun")]
pub struct StartRun(pub RunSpec);

/// A started (or queued) run.
#[derive(Debug)]
pub struct StartedRun {
    /// The run's id.
    pub run_id: String,
    /// Resolves when the run ends.
    pub done: oneshot::Receiver<RunEnd>,
}

/// Cancels a run by id; replies whether the run was found.
#[derive(Message)]
#[rtype(result = "bool")]
pub struct CancelRun(pub String);

/// A run ended (sent by the supervisor to itself).
#[derive(Message)]
#[rtype(result = "()")]
struct RunEnded(String);

/// The process's supervisor of runs.
pub struct RuntimeSupervisor {
    registry: Registry,
    max_concurrent: usize,
    running: usize,
    queue: VecDeque<(RunSpec, oneshot::Sender<RunEnd>)>,
    addrs: std::collections::HashMap<String, Addr<RunActor>>,
}

impl RuntimeSupervisor {
    /// A supervisor running at most `max_concurrent` runs at once (0: no limit).
    pub fn new(max_concurrent: usize) -> RuntimeSupervisor {
        RuntimeSupervisor {
            registry: Arc::new(DashMap::new()),
            max_concurrent: if max_concurrent == 0 {
                usize::MAX
            } else {
                max_concurrent
            },
            running: 0,
            queue: VecDeque::new(),
            addrs: std::collections::HashMap::new(),
        }
    }

    /// The registry (shared; stays current).
    pub fn registry(&self) -> Registry {
        Arc::clone(&self.registry)
    }

    fn launch(&mut self, spec: RunSpec, waiter: oneshot::Sender<RunEnd>, ctx: &mut Context<Self>) {
        let run_id = spec.config.run_id.clone();
        self.running += 1;
        if let Some(mut info) = self.registry.get_mut(&run_id) {
            info.status = RunStatus::Running;
        }
        let (done_tx, done_rx) = oneshot::channel();
        // On the run's own thread when it has one (see `Process::spawn`).
        let addr = match spec.home.clone() {
            Some(home) => RunActor::start_in_arbiter(&home, move |_| RunActor::new(spec, done_tx)),
            None => RunActor::new(spec, done_tx).start(),
        };
        self.addrs.insert(run_id.clone(), addr);
        let registry = Arc::clone(&self.registry);
        let me = ctx.address();
        actix::spawn(async move {
            let end = done_rx.await.unwrap_or_else(|_| RunEnd {
                checkpoint_error: None,
                result: None,
                error: Some("run ended without reporting".into()),
            });
            let status = end
                .result
                .as_ref()
                .map_or("halted".to_string(), |r| r.status.as_str().to_string());
            if let Some(mut info) = registry.get_mut(&run_id) {
                info.status = RunStatus::Finished(status);
            }
            me.do_send(RunEnded(run_id));
            let _ = waiter.send(end);
        });
    }
}

impl Actor for RuntimeSupervisor {
    type Context = Context<Self>;
}

impl Handler<StartRun> for RuntimeSupervisor {
    type Result = MessageResult<StartRun>;

    fn handle(&mut self, msg: StartRun, ctx: &mut Self::Context) -> Self::Result {
        let spec = msg.0;
        let run_id = spec.config.run_id.clone();
        let (waiter, done) = oneshot::channel();
        self.registry.insert(
            run_id.clone(),
            RunInfo {
                run_id: run_id.clone(),
                workflow: spec.plan.name.clone(),
                status: RunStatus::Queued,
            },
        );
        if self.running < self.max_concurrent {
            self.launch(spec, waiter, ctx);
        } else {
            // In turn order (arrival order among equal turns): runs launched
            // from several threads arrive in any order.
            let turn = |spec: &RunSpec| spec.turn.unwrap_or(u64::MAX);
            let at = self
                .queue
                .partition_point(|(queued, _)| turn(queued) <= turn(&spec));
            self.queue.insert(at, (spec, waiter));
        }
        MessageResult(StartedRun { run_id, done })
    }
}

impl Handler<RunEnded> for RuntimeSupervisor {
    type Result = ();

    fn handle(&mut self, msg: RunEnded, ctx: &mut Self::Context) {
        self.addrs.remove(&msg.0);
        self.running = self.running.saturating_sub(1);
        while self.running < self.max_concurrent {
            let Some((spec, waiter)) = self.queue.pop_front() else {
                break;
            };
            self.launch(spec, waiter, ctx);
        }
    }
}

impl Handler<CancelRun> for RuntimeSupervisor {
    type Result = bool;

    fn handle(&mut self, msg: CancelRun, _: &mut Self::Context) -> bool {
        if let Some(addr) = self.addrs.get(&msg.0) {
            addr.do_send(Cancel);
            return true;
        }
        if let Some(pos) = self
            .queue
            .iter()
            .position(|(spec, _)| spec.config.run_id == msg.0)
        {
            if let Some((_, waiter)) = self.queue.remove(pos) {
                if let Some(mut info) = self.registry.get_mut(&msg.0) {
                    info.status = RunStatus::Finished("cancelled".into());
                }
                let _ = waiter.send(RunEnd {
                    checkpoint_error: None,
                    result: None,
                    error: Some("run cancelled before it started".into()),
                });
            }
            return true;
        }
        false
    }
}
