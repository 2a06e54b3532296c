//! One launch path for every run: `tracker run`, the conformance harness, the
//! tests and the benchmarks start a run with [`launch`], and get a
//! [`RunHandle`] to cancel it and wait for its end.
//!
//! A launch wires a run in one order, which matters: the activity log and the
//! subscribers are on the bus and the gates are routed *before* the run
//! starts, so nothing it publishes or asks is missed; when it ends, the
//! activity log is finished (sealed and copied) before the gates are unrouted,
//! the subscriptions dropped and the run directory's lock released.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix::prelude::*;
use tokio::sync::oneshot;
use tracker_handlers::child::Subgraphs;
use tracker_handlers::human::Interviewer;
use tracker_handlers::tool_safety::ToolPolicy;
use tracker_handlers::HandlerRegistry;
use tracker_runtime::clock::Clock;
use tracker_runtime::engine::{BudgetLimits, EngineConfig, RunEnd};
use tracker_runtime::llm::Completers;
use tracker_runtime::plan::SpawnPlan;
use tracker_runtime::supervision::SupervisionPolicy;

use crate::activity::{ActivityError, ActivityLog, Finish};
use crate::bus::{Deliver, SubscriptionId, Unsubscribe};
use crate::clock::SystemClock;
use crate::gate::Unroute;
use crate::process::Process;
use crate::run::RunSpec;
use crate::run_dir::{new_run_id, RunDir};
use crate::run_lock::RunLock;
use crate::supervisor::{CancelRun, RuntimeSupervisor};

/// Everything a run is launched with besides its plan.
pub struct RunOptions {
    /// Where its tools work.
    pub workdir: PathBuf,
    /// Its directory: the run is checkpointed there and writes its node files
    /// there. Without one the run keeps no checkpoint.
    pub run_dir: Option<RunDir>,
    /// Where node files go when there is no run directory (none: the working
    /// directory's node folders are not written).
    pub artifact_dir: Option<PathBuf>,
    /// The run's id when there is no run directory (a fresh one when unset).
    pub run_id: Option<String>,
    /// The child workflows its subgraph and manager-loop nodes run.
    pub subgraphs: Subgraphs,
    /// The handlers (the built-ins when unset).
    pub handlers: Option<HandlerRegistry>,
    /// The LLM clients by provider.
    pub completers: Completers,
    /// The tool deny and allow lists.
    pub tool_policy: ToolPolicy,
    /// How its nodes are supervised.
    pub supervision: SupervisionPolicy,
    /// Its ceilings.
    pub budget: BudgetLimits,
    /// Who answers its gates (none: gates fail closed).
    pub interviewer: Option<Arc<dyn Interviewer>>,
    /// Who gets its events, in order, from its first.
    pub subscribers: Vec<Recipient<Deliver>>,
    /// The base directory of live activity logs (none: no activity log).
    pub activity_log: Option<PathBuf>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// The seed of retry jitter.
    pub jitter_seed: u64,
    /// Its turn for a slot, when runs wait for one (see [`RunSpec::turn`]).
    pub turn: Option<u64>,
}

impl RunOptions {
    /// Options for a run in `workdir` with `completers`: no run directory, the
    /// built-in handlers, default policies, no interviewer, no subscriber, no
    /// activity log, the system clock and a jitter seed from it.
    pub fn new(workdir: PathBuf, completers: Completers) -> RunOptions {
        RunOptions {
            workdir,
            run_dir: None,
            artifact_dir: None,
            run_id: None,
            subgraphs: Subgraphs::new(),
            handlers: None,
            completers,
            tool_policy: ToolPolicy::default(),
            supervision: SupervisionPolicy::default(),
            budget: BudgetLimits::default(),
            interviewer: None,
            subscribers: Vec::new(),
            activity_log: None,
            clock: Arc::new(SystemClock::new()),
            jitter_seed: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64),
            turn: None,
        }
    }
}

/// Why a run could not be launched or waited for: one of the process's actors
/// is gone.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The event bus.
    #[error("event bus: {0}")]
    Bus(MailboxError),
    /// The gate router.
    #[error("gate router: {0}")]
    Gates(MailboxError),
    /// The runtime supervisor.
    #[error("runtime supervisor: {0}")]
    Supervisor(MailboxError),
    /// The run's end never came.
    #[error("the run ended without reporting")]
    Lost,
}

/// A launched run (running, or queued for a slot).
pub struct RunHandle {
    run_id: String,
    dir: Option<PathBuf>,
    done: oneshot::Receiver<RunEnd>,
    activity: Option<Addr<ActivityLog>>,
    subscriptions: Vec<SubscriptionId>,
    routed: bool,
    process: Process,
    lock: Option<RunLock>,
}

/// How a run ended.
#[derive(Debug)]
pub struct Finished {
    /// Its end.
    pub end: RunEnd,
    /// Why its activity log could not be kept, if it could not.
    pub activity_error: Option<ActivityError>,
}

/// Cancels one run; cheap to clone and send.
#[derive(Clone)]
pub struct Canceller {
    supervisor: Addr<RuntimeSupervisor>,
    run_id: String,
}

impl Canceller {
    /// A canceller of run `run_id` of `process` (launched, or about to be).
    pub fn new(process: &Process, run_id: &str) -> Canceller {
        Canceller {
            supervisor: process.supervisor.clone(),
            run_id: run_id.to_string(),
        }
    }

    /// Cancels the run (running or queued); whether it was found.
    pub async fn cancel(&self) -> bool {
        self.supervisor
            .send(CancelRun(self.run_id.clone()))
            .await
            .unwrap_or(false)
    }
}

/// Launches `plan` on `process` with `options`.
pub async fn launch(
    process: &Process,
    plan: Arc<SpawnPlan>,
    options: RunOptions,
) -> Result<RunHandle, LaunchError> {
    let RunOptions {
        workdir,
        run_dir,
        artifact_dir,
        run_id,
        subgraphs,
        handlers,
        completers,
        tool_policy,
        supervision,
        budget,
        interviewer,
        subscribers,
        activity_log,
        clock,
        jitter_seed,
        turn,
    } = options;
    let parts = run_dir.map(RunDir::into_parts);
    let run_id = match &parts {
        Some(parts) => parts.id.clone(),
        None => run_id.unwrap_or_else(new_run_id),
    };
    let dir = parts.as_ref().map(|p| p.path.clone());
    // What a resumed run spent before it stopped still counts: read from its
    // log before this process appends to it.
    let earlier_usage = parts
        .as_ref()
        .filter(|p| p.resume_from.is_some())
        .zip(activity_log.as_deref())
        .and_then(|(p, base)| crate::activity::earlier_usage(base, &run_id, &p.path));
    let services = process.services(
        handlers,
        completers,
        tool_policy,
        Arc::clone(&clock),
        supervision.clone(),
    );
    let activity =
        activity_log.map(|base| ActivityLog::new(&base, &run_id, dir.as_deref()).start());
    let mut subscriptions = Vec::new();
    let recipients = activity
        .iter()
        .map(|a| a.clone().recipient())
        .chain(subscribers);
    for recipient in recipients {
        let id = process
            .subscribe(&run_id, recipient)
            .await
            .map_err(LaunchError::Bus)?;
        subscriptions.push(id);
    }
    let routed = interviewer.is_some();
    if let Some(interviewer) = interviewer {
        process
            .route_gates(&run_id, interviewer)
            .await
            .map_err(LaunchError::Gates)?;
    }
    let (store, resume_from, lock) = match parts {
        Some(parts) => (Some(parts.store), parts.resume_from, Some(parts.lock)),
        None => (None, None, None),
    };

    let config = EngineConfig {
        run_id: run_id.clone(),
        artifact_dir: dir.clone().or(artifact_dir),
        checkpointing: store.is_some(),
        budget,
        earlier_usage,
        resume_from,
        jitter_seed,
        ..EngineConfig::default()
    };
    let mut spec = RunSpec::new(plan, config, services, workdir, process.sink(), clock);
    spec.subgraphs = Arc::new(subgraphs);
    spec.store = store;
    spec.supervision = supervision;
    spec.home = process.home();
    spec.turn = turn;
    let started = process
        .start_run(spec)
        .await
        .map_err(LaunchError::Supervisor)?;
    Ok(RunHandle {
        run_id,
        dir,
        done: started.done,
        activity,
        subscriptions,
        routed,
        process: process.clone(),
        lock,
    })
}

impl RunHandle {
    /// The run's id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Its directory, if it has one.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// A way to cancel it from elsewhere.
    pub fn canceller(&self) -> Canceller {
        Canceller::new(&self.process, &self.run_id)
    }

    /// Waits for the run's end, then finishes its activity log, unroutes its
    /// gates, drops its subscriptions and releases its directory.
    pub async fn wait(self) -> Result<Finished, LaunchError> {
        // The clean-up below happens however the run ended, a lost run too.
        let end = self.done.await;
        let activity_error = match &self.activity {
            Some(log) => match log.send(Finish).await {
                Ok(Err(e)) => Some(e),
                _ => None,
            },
            None => None,
        };
        if self.routed {
            self.process.gates.do_send(Unroute(self.run_id.clone()));
        }
        for id in self.subscriptions {
            self.process.bus.do_send(Unsubscribe(id));
        }
        drop(self.lock);
        let end = end.map_err(|_| LaunchError::Lost)?;
        Ok(Finished {
            end,
            activity_error,
        })
    }
}
