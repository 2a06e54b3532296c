//! The service's runs: submitted through the API, launched on the process's
//! actors under one runtime supervisor, recorded on disk until they end so
//! that a service that crashed resumes them when it starts again.
//!
//! A submission is acknowledged only once the service's record of it is on
//! disk, with its run directory (synced then too, in a service without a
//! commit log; else just before the run starts, and made again from the
//! record if a power loss takes it first): whatever happens after, the next
//! service finds and resumes it, and the run's own checkpoint keeps every
//! finished step from running twice.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use actix::prelude::*;
use tracker_actors::clock::SystemClock;
use tracker_actors::commit_log::CommitLog;
use tracker_actors::launch::{launch, Canceller, RunOptions};
use tracker_actors::process::Process;
use tracker_actors::provider::ProviderPool;
use tracker_actors::run_dir::{self, RunDir};
use tracker_actors::store::Durability;
use tracker_handlers::human::{AutoApprove, Interviewer};
use tracker_handlers::limited::Limited;
use tracker_handlers::HandlerRegistry;
use tracker_runtime::clock::Clock;
use tracker_runtime::llm::config::Env;
use tracker_runtime::plan::{Handler as NodeKind, SpawnPlan};

use super::events::{EventLog, EventRecorder};
use super::gates::{Gates, ServiceInterviewer};
use super::ledger::{Ledger, Past};
use super::plans::PlanCache;
use super::records::{RecordLog, Unsynced};
pub use super::requests::{ApiError, ResumeRequest, Submission};
use super::runs::{Overrides, Record, RecordedPipeline};
pub use super::runs::{RunEntry, RunState, Runs};
use super::spending::Spending;
use crate::load::{self, Diagnostics};
use crate::pipeline::{self, PipelineSource};
use crate::providers;

mod recovery;

/// The commit log's file in the state directory.
const COMMIT_LOG_FILE: &str = "commits.log";

/// How the service shares the machine between its runs.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Limits {
    /// Runs at once (0: no limit); the others wait in order.
    pub max_runs: usize,
    /// Agent sessions at once across all runs (0: no limit).
    pub max_agent_sessions: usize,
    /// Requests in flight per provider across all runs (none: the
    /// environment's, else the default).
    pub provider_concurrency: Option<usize>,
    /// What all runs together may spend on LLM calls, in dollars.
    pub max_cost: Option<f64>,
}

/// What the service's actor and its API share.
#[derive(Clone)]
pub struct Shared {
    /// The runs by id.
    pub runs: Runs,
    /// The gates waiting for answers.
    pub gates: Arc<Gates>,
    /// Every run's events, interleaved.
    pub all_events: Arc<EventLog>,
    /// What the runs have spent, against the ceiling.
    pub spending: Arc<Spending>,
    /// The service is stopping: it takes no new run.
    pub stopping: Arc<std::sync::atomic::AtomicBool>,
}

impl Shared {
    /// No runs yet; spending metered against `--max-cost` (`max_cost`
    /// dollars), going on from `ledger`'s.
    pub fn new(max_cost: Option<f64>, ledger: Option<(Ledger, Past)>) -> Shared {
        Shared {
            runs: Arc::new(Mutex::new(BTreeMap::new())),
            gates: Arc::new(Gates::default()),
            all_events: Arc::new(EventLog::bounded(super::events::SERVICE_LOG_LINES)),
            spending: Spending::new(max_cost, ledger),
            stopping: Arc::default(),
        }
    }
}

/// The service: the process's actors, the shared provider clients and the
/// runs.
pub struct Service {
    process: Process,
    runs: Runs,
    gates: Arc<Gates>,
    pool: Option<Arc<ProviderPool>>,
    env_error: Option<String>,
    /// Every run's events, interleaved.
    all_events: Arc<EventLog>,
    /// The service's environment and env files, read once: keys and base
    /// URLs.
    env: Env,
    /// The handlers every run gets: the built-ins, agent sessions capped
    /// across runs when asked.
    handlers: HandlerRegistry,
    /// The cap on agent sessions, when there is one.
    sessions: Option<Arc<Limited>>,
    /// What the runs have spent, against the ceiling.
    spending: Arc<Spending>,
    /// Set when the service starts stopping.
    stopping: Arc<std::sync::atomic::AtomicBool>,
    /// The ended runs still listed, oldest first.
    finished: Arc<Mutex<std::collections::VecDeque<String>>>,
    /// The runs accepted and not yet ended, for the next service to resume.
    records: Arc<RecordLog>,
    /// Where the runs' durable saves are committed together (none without
    /// durability, or if it could not be opened: each run then syncs its
    /// own saves).
    commit_log: Option<Arc<CommitLog>>,
    texts: PathBuf,
    durability: Durability,
    clock: Arc<dyn Clock>,
    /// The plans the live runs use, shared between runs of one pipeline.
    plans: PlanCache,
    /// The next run's turn for a slot: runs start in the order they were
    /// accepted (or recovered), whichever run thread launches them first.
    next_turn: u64,
}

impl Service {
    /// A service keeping its records under `state`, sharing the machine as
    /// `limits` say.
    pub fn new(state: &Path, limits: Limits, durability: Durability, shared: Shared) -> Service {
        let Shared {
            runs,
            gates,
            all_events,
            spending,
            stopping,
        } = shared;
        // Keys as `tracker run` finds them where the service was started:
        // its environment over the user's and that directory's env files.
        let env = std::env::current_dir()
            .map_err(|e| e.to_string())
            .and_then(|cwd| Env::load(&cwd).map_err(|e| e.to_string()))
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "reading env files; using the environment alone");
                Env::from_process()
            });
        env.remember_secrets();
        let (pool, env_error) = match providers::options(&env) {
            Ok(mut options) => {
                if let Some(concurrency) = limits.provider_concurrency {
                    options.concurrency = concurrency.max(1);
                }
                (Some(ProviderPool::new(options)), None)
            }
            Err(e) => (None, Some(e.to_string())),
        };
        let mut handlers = HandlerRegistry::builtin();
        let sessions = (limits.max_agent_sessions > 0).then(|| {
            let agent = handlers
                .get(NodeKind::Codergen)
                .unwrap_or_else(|| Arc::new(tracker_handlers::codergen::CodergenHandler));
            Arc::new(Limited::new(agent, limits.max_agent_sessions))
        });
        if let Some(sessions) = &sessions {
            handlers.set(NodeKind::Codergen, Arc::clone(sessions) as _);
        }
        Service {
            // Runs on a thread per core; the service's own thread answers the
            // API and keeps the books.
            process: Process::start_on_threads(
                limits.max_runs,
                std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            ),
            runs,
            gates,
            pool,
            env_error,
            all_events,
            env,
            handlers,
            sessions,
            spending,
            stopping,
            finished: Arc::default(),
            records: Arc::new(RecordLog::new(state, durability)),
            commit_log: open_commit_log(state, durability),
            texts: state.join("submitted"),
            durability,
            clock: Arc::new(SystemClock::new()),
            plans: PlanCache::default(),
            next_turn: 0,
        }
    }

    /// What the service shares between its runs, and how much of it is in
    /// use: agent sessions, and each provider's counters.
    pub fn usage(&self) -> serde_json::Value {
        let providers: Vec<serde_json::Value> = self
            .pool
            .as_ref()
            .map(|pool| pool.all_stats())
            .unwrap_or_default()
            .into_iter()
            .map(|(provider, base_url, stats)| {
                let count =
                    |n: &std::sync::atomic::AtomicU64| n.load(std::sync::atomic::Ordering::Relaxed);
                serde_json::json!({
                    "provider": provider,
                    "base_url": base_url,
                    "attempts": count(&stats.attempts),
                    "retries": count(&stats.retries),
                    "rate_limited": count(&stats.rate_limited),
                    "held_back": count(&stats.held_back),
                    "waiting": stats.waiting.load(std::sync::atomic::Ordering::Relaxed),
                })
            })
            .collect();
        serde_json::json!({
            "cost": {
                "spent_usd": self.spending.spent_usd(),
                "max_cost_usd": self.spending.ceiling_usd(),
                "paused_calls": self.spending.paused(),
            },
            "agent_sessions": self.sessions.as_ref().map(|s| serde_json::json!({
                "limit": s.limit(),
                "in_use": s.in_use(),
                "waiting": s.waiting(),
            })),
            "providers": providers,
        })
    }

    /// The pipeline of `source`, checked, with `overrides` applied.
    fn load(
        &mut self,
        source: &PipelineSource,
        overrides: &Overrides<'_>,
    ) -> Result<
        (
            Arc<SpawnPlan>,
            tracker_handlers::child::Subgraphs,
            String,
            String,
        ),
        ApiError,
    > {
        // A submitted text's file is the service's own, deleted once loaded:
        // its errors name the request's field instead.
        let name = match source.file() {
            Some(file) if file.starts_with(&self.texts) => "pipeline_text".to_string(),
            _ => source.display_name(),
        };
        let loaded = load::load_as(source, Diagnostics::Listed, name)
            .map_err(|e| ApiError::Invalid(format!("pipeline: {e:#}")))?;
        let mut plan = loaded.plan;
        for (key, value) in overrides.params {
            let name = format!("params.{key}");
            if !plan.graph_attrs.contains_key(&name) {
                return Err(ApiError::Invalid(format!(
                    "params.{key}: {} declares no such variable",
                    loaded.name
                )));
            }
            plan.graph_attrs.insert(name, value.clone());
        }
        plan.override_agents(overrides.provider, overrides.model);
        let subgraphs = loaded
            .subgraphs
            .into_iter()
            .map(|(name, child)| {
                let mut child = (*child).clone();
                child.override_agents(overrides.provider, overrides.model);
                (name, self.plans.share(child))
            })
            .collect();
        let workflow = plan.name.clone();
        Ok((self.plans.share(plan), subgraphs, loaded.text, workflow))
    }

    /// Takes `submission` in: checks it, creates its run directory and
    /// writes its record. It is accepted once the record is synced, and then
    /// started ([`Service::launch_accepted`]).
    fn accept(&mut self, submission: Submission) -> Result<Accepted, ApiError> {
        self.refuse_when_stopping()?;
        if !submission.workdir.is_absolute() {
            return Err(ApiError::Invalid(
                "workdir: must be an absolute path".into(),
            ));
        }
        if !submission.workdir.is_dir() {
            return Err(ApiError::Invalid(format!(
                "workdir: {} is not a directory",
                submission.workdir.display()
            )));
        }
        let source = match (&submission.pipeline, &submission.pipeline_text) {
            (Some(name), None) => {
                match pipeline::resolve(std::ffi::OsStr::new(name), &submission.workdir)
                    .map_err(|e| ApiError::Invalid(format!("pipeline: {e:#}")))?
                {
                    // Relative to the run's working directory, not the
                    // service's.
                    PipelineSource::File(path) => {
                        let path = submission.workdir.join(path);
                        // Read on the service's thread: a FIFO or a device
                        // would block every run.
                        if std::fs::metadata(&path).is_ok_and(|m| !m.is_file()) {
                            return Err(ApiError::Invalid(format!(
                                "pipeline: {} is not a regular file",
                                path.display()
                            )));
                        }
                        PipelineSource::File(path)
                    }
                    other => other,
                }
            }
            // Its subgraphs and file directives resolve against the run's
            // working directory.
            (None, Some(text)) => PipelineSource::RunCopy {
                copy: self.keep_text(text)?,
                base: submission.workdir.clone(),
            },
            _ => {
                return Err(ApiError::Invalid(
                    "pipeline: give exactly one of pipeline and pipeline_text".into(),
                ))
            }
        };
        let loaded = self.load(
            &source,
            &Overrides {
                params: &submission.params,
                provider: submission.provider.as_deref(),
                model: submission.model.as_deref(),
            },
        );
        if submission.pipeline_text.is_some() {
            // Loaded (or refused): the run directory keeps its own copy.
            if let Some(kept) = source.file() {
                let _ = std::fs::remove_file(kept);
            }
        }
        let (plan, subgraphs, text, workflow) = loaded?;
        // A provider without a key is refused now, not when a node runs.
        let completers = self.completers(&plan, &subgraphs)?;
        let base = source.recorded_base();
        let copy = source.run_copy(&text, base.as_deref());
        let root = run_dir::default_root(&submission.workdir);
        // With a commit log, the acknowledgement waits for the record alone
        // (one sync, the pipeline in it); the run directory is synced just
        // before the run starts, and made again from the record if a power
        // loss takes it first.
        let sync_later = self.commit_log.is_some();
        let run_dir = RunDir::create_committed(
            &root,
            copy,
            self.clock.now(),
            self.durability,
            self.commit_log.as_ref(),
            sync_later,
        )
        .map_err(|e| {
            if e.out_of_files() {
                self.unavailable(&e)
            } else {
                ApiError::Internal(e.to_string())
            }
        })?;
        let record = Record {
            dir: run_dir.path().to_path_buf(),
            workdir: submission.workdir.clone(),
            params: submission.params.clone(),
            auto_approve: submission.auto_approve,
            provider: submission.provider.clone(),
            model: submission.model.clone(),
            pipeline: sync_later.then(|| RecordedPipeline {
                text: copy.text.to_string(),
                dot: copy.dot,
                base: copy.base.map(Path::to_path_buf),
            }),
        };
        let unsynced = match self.write_record(run_dir.id(), &record) {
            Ok(unsynced) => unsynced,
            Err(e) => {
                // Not acknowledged: nothing of it stays.
                run_dir.discard();
                return Err(e);
            }
        };
        Ok(Accepted {
            start: Start {
                run_dir,
                plan,
                subgraphs,
                completers,
                workflow,
                record,
            },
            unsynced,
        })
    }

    /// Starts a run whose record `synced` says is on the disk, and answers
    /// with its id; one whose record could not be synced is not
    /// acknowledged, and its record is removed (for good, unless that sync
    /// fails too) before its directory is deleted.
    fn launch_accepted(
        &mut self,
        start: Start,
        synced: std::io::Result<()>,
    ) -> Result<String, ApiError> {
        let run_id = start.run_dir.id().to_string();
        if let Err(e) = synced {
            // Its line may yet reach the disk (by writeback, or in a fold of
            // the log): the removal must be there first, or the next service
            // would make again a run whose submitter was told it failed.
            if let Err(removal) = self.records.remove(&run_id).and_then(Unsynced::sync_now) {
                tracing::error!(run_id, error = %removal, "cannot remove the record of a run that was not accepted; the next service may start it");
            }
            start.run_dir.discard();
            return Err(self.io_failure(self.records.path(), &e));
        }
        if self.stopping.load(std::sync::atomic::Ordering::SeqCst) {
            // The stop began while the record was synced, and cancels only
            // the runs going when it began: this one is left to the next
            // service, as the runs it cancels are.
            tracing::info!(
                run_id,
                "the service is stopping; the run starts when it restarts"
            );
            return Ok(run_id);
        }
        self.start(start);
        Ok(run_id)
    }

    /// Refuses new runs once the service is stopping: they would be cancelled
    /// at once.
    fn refuse_when_stopping(&self) -> Result<(), ApiError> {
        if self.stopping.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(ApiError::Unavailable(
                "the service is stopping; submit again once it has restarted".into(),
            ));
        }
        Ok(())
    }

    /// A refusal for want of open files: it passes as runs end.
    fn unavailable(&self, error: &dyn std::fmt::Display) -> ApiError {
        let runs = self
            .runs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        ApiError::Unavailable(format!(
            "the service has as many files open as it may ({runs} runs); try again once some \
             have ended, or raise its open-file limit (ulimit -n): {error}"
        ))
    }

    /// An I/O failure at `path`: unavailable for now when out of open files,
    /// else the service's own.
    fn io_failure(&self, path: &Path, error: &std::io::Error) -> ApiError {
        let what = format!("{}: {error}", path.display());
        if tracker_runtime::private_files::out_of_files(error) {
            self.unavailable(&what)
        } else {
            ApiError::Internal(what)
        }
    }

    /// Keeps a submitted pipeline text as a private file to load it from.
    fn keep_text(&self, text: &str) -> Result<PathBuf, ApiError> {
        tracker_runtime::private_files::create_dir_all(&self.texts)
            .map_err(|e| ApiError::Internal(format!("{}: {e}", self.texts.display())))?;
        let path = self.texts.join(format!("{}.dip", run_dir::new_run_id()));
        tracker_runtime::private_files::replace(&path, text.as_bytes())
            .map_err(|e| ApiError::Internal(format!("{}: {e}", path.display())))?;
        Ok(path)
    }

    /// Records run `id`; once the answer is synced (as the runs' checkpoints
    /// are: `--no-fsync` covers it too), a crash cannot lose the run.
    fn write_record(&self, id: &str, record: &Record) -> Result<Unsynced, ApiError> {
        self.records
            .add(id, record)
            .map_err(|e| self.io_failure(self.records.path(), &e))
    }

    /// Launches a run whose directory is ready, and follows it to its end.
    fn start(&mut self, start: Start) {
        let Start {
            mut run_dir,
            plan,
            subgraphs,
            completers,
            workflow,
            mut record,
        } = start;
        let auto_approve = record.auto_approve;
        // The log keeps the pipeline until the run ends; the run's entry
        // need not.
        record.pipeline = None;
        let pending_sync = run_dir.take_pending_sync();
        let run_id = run_dir.id().to_string();
        let events = Arc::new(EventLog::default());
        let mut options = RunOptions::new(record.workdir.clone(), completers);
        options.turn = Some(self.next_turn);
        self.next_turn += 1;
        options.run_dir = Some(run_dir);
        options.subgraphs = subgraphs;
        options.handlers = Some(self.handlers.clone());
        options.supervision = load::node_supervision(&plan);
        options.clock = Arc::clone(&self.clock);
        options.activity_log = Some(tracker_actors::activity::audit_base());
        options.interviewer = Some(if auto_approve {
            Arc::new(AutoApprove) as Arc<dyn Interviewer>
        } else {
            Arc::new(ServiceInterviewer::new(Arc::clone(&self.gates)))
        });
        options.subscribers.push(
            EventRecorder::new(Arc::clone(&events), Arc::clone(&self.all_events))
                .start()
                .recipient(),
        );
        // Listed before it is launched: a client that got the id back can ask
        // about it at once.
        let entry = Arc::new(RunEntry::new(
            run_id.clone(),
            workflow,
            Arc::clone(&events),
            record,
            Canceller::new(&self.process, &run_id),
        ));
        self.runs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(run_id.clone(), Arc::clone(&entry));
        let process = self.process.clone();
        let gates = Arc::clone(&self.gates);
        let runs = Arc::clone(&self.runs);
        let finished = Arc::clone(&self.finished);
        let records = Arc::clone(&self.records);
        let commit_log = self.commit_log.clone();
        // Boxed, both: a run's future lives as long as the run (waiting at a
        // gate for days, maybe), and an async block is as large as its
        // largest state — the launch's, were it inline.
        let options = Box::new(options);
        let (unstarted, unstarted_events) = (Arc::clone(&entry), Arc::clone(&events));
        let fut = async move {
            // (Out of its box at once, so the box is freed now, not when
            // the run ends.)
            if let Some(pending) = pending_sync {
                // On the disk before its first step, which a save makes
                // durable.
                let synced = tokio::task::spawn_blocking(move || pending.run())
                    .await
                    .unwrap_or_else(|e| Err(std::io::Error::other(e)));
                if let Err(e) = synced {
                    tracing::error!(run_id, error = %e, "cannot sync the new run's directory; it is left to the next service");
                    entry.finish("halted".into());
                    events.close();
                    return;
                }
            }
            let launching = {
                let options = *options;
                Box::pin(launch(&process, plan, options))
            };
            let handle = match launching.await {
                Ok(handle) => handle,
                Err(e) => {
                    tracing::error!(run_id, error = %e, "launch failed");
                    entry.finish("halted".into());
                    events.close();
                    return;
                }
            };
            tracing::info!(run_id, "run launched");
            if entry.cancel_requested() {
                handle.canceller().cancel().await;
            }
            let status = match handle.wait().await {
                Ok(finished) => finished
                    .end
                    .result
                    .map_or("halted".to_string(), |r| r.status.as_str().to_string()),
                Err(e) => {
                    tracing::error!(run_id, error = %e, "lost the run");
                    "halted".to_string()
                }
            };
            // Before the run is seen to have ended (this runs on a run thread,
            // and a resume request may follow at once): its gates, and its
            // record — the run's checkpoint says how it ended, so the service
            // need not resume it again, unless the service stopping cancelled
            // it, to be resumed by the next one.
            gates.forget(&run_id);
            if !entry.stopped_by_service() {
                forget_record(&records, commit_log, &run_id).await;
            }
            entry.finish(status.clone());
            // Its lines are in its activity log now: served from there.
            events.close_to_disk(&entry.dir().join(tracker_actors::activity::ACTIVITY_FILE));
            forget_oldest_finished(&runs, &finished, &run_id);
            tracing::info!(run_id, status, "run ended");
        };
        // A task of its own on one of the run threads, not one of the actor's:
        // an actor polls every future it holds whenever it wakes, and a
        // service holds thousands.
        if !self.process.spawn(fut) {
            tracing::error!("the service is stopping; the run was not started");
            unstarted.finish("halted".into());
            unstarted_events.close();
        }
    }

    /// The clients for the providers `plan` uses, from the shared pool; a
    /// provider it cannot serve (no key, bad tuning) is the submission's
    /// error.
    fn completers(
        &self,
        plan: &SpawnPlan,
        subgraphs: &tracker_handlers::child::Subgraphs,
    ) -> Result<tracker_runtime::llm::Completers, ApiError> {
        let used = providers::providers_used(plan, subgraphs);
        let pool = match &self.pool {
            Some(pool) => pool,
            None => {
                let real = used
                    .keys()
                    .any(|p| p != tracker_runtime::llm::stub::STUB_PROVIDER);
                if real {
                    return Err(ApiError::Invalid(format!(
                        "providers: the service cannot reach any ({})",
                        self.env_error.as_deref().unwrap_or("no settings")
                    )));
                }
                // Only the offline stub: no pool needed.
                return providers::completers(&self.env, &used)
                    .map_err(|e| ApiError::Invalid(format!("providers: {e:#}")));
            }
        };
        let completers = providers::completers_from(pool, &self.env, &used)
            .map_err(|e| ApiError::Invalid(format!("providers: {e:#}")))?;
        Ok(completers.wrapped(|completer| self.spending.meter(completer)))
    }
}

/// How many ended runs the service keeps listing (their files stay on disk;
/// only the service's entry goes).
pub const FINISHED_LISTED: usize = 10_000;

/// Lists `run_id` as ended, and forgets the oldest ended runs beyond
/// [`FINISHED_LISTED`].
fn forget_oldest_finished(
    runs: &Runs,
    finished: &Mutex<std::collections::VecDeque<String>>,
    run_id: &str,
) {
    let mut finished = finished.lock().unwrap_or_else(PoisonError::into_inner);
    finished.push_back(run_id.to_string());
    while finished.len() > FINISHED_LISTED {
        let Some(oldest) = finished.pop_front() else {
            break;
        };
        let mut runs = runs.lock().unwrap_or_else(PoisonError::into_inner);
        // Resumed since, it is listed again: kept.
        if runs
            .get(&oldest)
            .is_some_and(|run| matches!(run.state(), RunState::Finished(_)))
        {
            runs.remove(&oldest);
        }
    }
}

/// A submission taken in, its record written and not yet synced.
struct Accepted {
    start: Start,
    unsynced: Unsynced,
}

/// What [`Service::start`] launches.
struct Start {
    run_dir: RunDir,
    plan: Arc<SpawnPlan>,
    subgraphs: tracker_handlers::child::Subgraphs,
    completers: tracker_runtime::llm::Completers,
    workflow: String,
    /// What it is started with.
    record: Record,
}

/// The service's commit log under `state`, when its runs' saves are durable:
/// what a previous service left in it goes back to the runs' journals first.
fn open_commit_log(state: &Path, durability: Durability) -> Option<Arc<CommitLog>> {
    if durability != Durability::Sync {
        return None;
    }
    let path = state.join(COMMIT_LOG_FILE);
    match CommitLog::open(&path) {
        Ok(log) => Some(Arc::new(log)),
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "cannot open the commit log; each run syncs its own saves");
            None
        }
    }
}

/// Removes ended run `id`'s record; a synced removal waits for its disk off
/// the run's thread, which other runs share.
async fn forget_record(records: &RecordLog, commit_log: Option<Arc<CommitLog>>, id: &str) {
    let removed = match records.remove(id) {
        Ok(unsynced) => unsynced.sync(commit_log).await,
        Err(e) => Err(e),
    };
    if let Err(e) = removed {
        tracing::warn!(error = %e, "cannot record that a run ended; the next service may resume it");
    }
}

impl Actor for Service {
    type Context = Context<Self>;
}

/// Submits a run; replies with its id.
#[derive(Message)]
#[rtype(result = "Result<String, ApiError>")]
pub struct Submit(pub Submission);

impl Handler<Submit> for Service {
    type Result = ResponseActFuture<Self, Result<String, ApiError>>;

    fn handle(&mut self, msg: Submit, _: &mut Self::Context) -> Self::Result {
        let Accepted { start, unsynced } = match self.accept(msg.0) {
            Ok(accepted) => accepted,
            Err(e) => return Box::pin(actix::fut::ready(Err(e))),
        };
        // The service goes on meanwhile: submissions waiting for their
        // records share a sync.
        let synced = unsynced.sync(self.commit_log.clone());
        Box::pin(
            async move { (start, synced.await) }
                .into_actor(self)
                .map(|(start, synced), service, _| service.launch_accepted(start, synced)),
        )
    }
}

/// Resumes a run; replies with its id.
#[derive(Message)]
#[rtype(result = "Result<String, ApiError>")]
pub struct Resume {
    /// The run's id, or for a run this service does not know a unique prefix.
    pub id: String,
    /// How.
    pub request: ResumeRequest,
}

impl Handler<Resume> for Service {
    type Result = Result<String, ApiError>;

    fn handle(&mut self, msg: Resume, _: &mut Self::Context) -> Self::Result {
        self.resume_request(&msg.id, msg.request)
    }
}

/// Resumes the runs a previous service left; replies with how many.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct Recover;

impl Handler<Recover> for Service {
    type Result = usize;

    fn handle(&mut self, _: Recover, _: &mut Self::Context) -> usize {
        self.recover()
    }
}

/// Asks what the service shares and how much is in use.
#[derive(Message)]
#[rtype(result = "serde_json::Value")]
pub struct Usage;

impl Handler<Usage> for Service {
    type Result = MessageResult<Usage>;

    fn handle(&mut self, _: Usage, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.usage())
    }
}
