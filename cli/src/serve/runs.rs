//! The service's runs as it tracks them: where each is, how to cancel it,
//! and the record it keeps on disk of each until it ends (what the next
//! service resumes it with).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use tracker_actors::launch::Canceller;

use super::events::EventLog;

/// Where a run is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunState {
    /// Launched and waiting for a slot (`--max-runs`), or about to start.
    Queued,
    /// Its first event is out.
    Running,
    /// Over: its terminal status, or `halted`.
    Finished(String),
}

impl RunState {
    /// The name clients see.
    pub fn name(&self) -> &str {
        match self {
            RunState::Queued => "queued",
            RunState::Running => "running",
            RunState::Finished(status) => status,
        }
    }
}

/// One run of the service.
pub struct RunEntry {
    /// Its id.
    pub run_id: String,
    /// Its workflow's name.
    pub workflow: String,
    /// Its events.
    pub events: Arc<EventLog>,
    /// What it was started with, to resume it.
    pub(super) record: Record,
    finished: Mutex<Option<String>>,
    canceller: Canceller,
    /// A cancel asked for before the run reached the supervisor: carried out
    /// as soon as it does.
    cancel_requested: AtomicBool,
    /// Cancelled because the service is stopping: its record stays, for the
    /// next service to resume it.
    stopped_by_service: AtomicBool,
}

impl RunEntry {
    /// A run about to be launched, listed under `run_id`.
    pub(super) fn new(
        run_id: String,
        workflow: String,
        events: Arc<EventLog>,
        record: Record,
        canceller: Canceller,
    ) -> RunEntry {
        RunEntry {
            run_id,
            workflow,
            events,
            record,
            finished: Mutex::new(None),
            canceller,
            cancel_requested: AtomicBool::new(false),
            stopped_by_service: AtomicBool::new(false),
        }
    }

    /// Its directory.
    pub fn dir(&self) -> &Path {
        &self.record.dir
    }

    /// Records how it ended.
    pub(super) fn finish(&self, status: String) {
        *self.finished.lock().unwrap_or_else(PoisonError::into_inner) = Some(status);
    }

    /// Whether a cancel was asked for (before it reached the supervisor,
    /// perhaps).
    pub(super) fn cancel_requested(&self) -> bool {
        self.cancel_requested.load(Ordering::SeqCst)
    }

    /// Whether the service stopping cancelled it (its record then stays).
    pub(super) fn stopped_by_service(&self) -> bool {
        self.stopped_by_service.load(Ordering::SeqCst)
    }

    /// Where the run is now.
    pub fn state(&self) -> RunState {
        if let Some(status) = self
            .finished
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
        {
            return RunState::Finished(status);
        }
        if !self.events.is_empty() {
            RunState::Running
        } else {
            RunState::Queued
        }
    }

    /// Cancels it; whether it was still going.
    pub async fn cancel(&self) -> bool {
        self.cancel_requested.store(true, Ordering::SeqCst);
        let found = self.canceller.cancel().await;
        // Not at the supervisor yet (just submitted): it is cancelled when it
        // gets there.
        found || !matches!(self.state(), RunState::Finished(_))
    }

    /// Cancels it because the service is stopping: its record stays.
    pub async fn stop(&self) {
        // A run a client cancelled stays cancelled: not resumed by the next
        // service.
        if !self.cancel_requested() {
            self.stopped_by_service.store(true, Ordering::SeqCst);
        }
        self.cancel().await;
    }
}

/// The runs by id, readable from the API's tasks.
pub type Runs = Arc<Mutex<BTreeMap<String, Arc<RunEntry>>>>;

/// What a run's pipeline is loaded with: values for its variables, and the
/// provider and model for all its agents.
pub(super) struct Overrides<'a> {
    pub(super) params: &'a BTreeMap<String, String>,
    pub(super) provider: Option<&'a str>,
    pub(super) model: Option<&'a str>,
}

impl Record {
    /// What its pipeline is loaded with.
    pub(super) fn overrides(&self) -> Overrides<'_> {
        Overrides {
            params: &self.params,
            provider: self.provider.as_deref(),
            model: self.model.as_deref(),
        }
    }
}

pub(super) use tracker_actors::activity::completed;

/// What the service records of a run until it ends, to resume it after a
/// crash.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub(super) struct Record {
    /// The run's directory.
    pub(super) dir: PathBuf,
    /// Where its tools work.
    pub(super) workdir: PathBuf,
    /// Values for its variables.
    pub(super) params: BTreeMap<String, String>,
    /// Whether its gates are answered automatically.
    pub(super) auto_approve: bool,
    /// Its agents' provider, when the submission named one.
    #[serde(default)]
    pub(super) provider: Option<String>,
    /// Its agents' model, when the submission named one.
    #[serde(default)]
    pub(super) model: Option<String>,
    /// Its pipeline, kept while its run directory may not be on the disk yet
    /// (a durable service syncs the directory just before the run starts):
    /// after a power loss the run is made again from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) pipeline: Option<RecordedPipeline>,
}

/// A run's pipeline as its run directory keeps it.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub(super) struct RecordedPipeline {
    /// The text.
    pub(super) text: String,
    /// Whether it is a legacy Graphviz pipeline.
    pub(super) dot: bool,
    /// The original pipeline's directory, for its file directives.
    pub(super) base: Option<PathBuf>,
}

impl RecordedPipeline {
    /// The copy a run directory is made with.
    pub(super) fn copy(&self) -> tracker_actors::run_dir::WorkflowCopy<'_> {
        tracker_actors::run_dir::WorkflowCopy {
            text: &self.text,
            dot: self.dot,
            base: self.base.as_deref(),
        }
    }
}
