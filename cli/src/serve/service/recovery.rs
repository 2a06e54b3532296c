//! Runs the service finds unfinished: those a previous service left (its
//! records replayed at start, each resumed, or made again from its record if a
//! power loss took its directory before it started) and those a client asks
//! to resume.

use std::path::Path;
use std::sync::PoisonError;

use tracker_actors::run_dir::{self, RunDir};

use super::{Service, Start};
use crate::pipeline::PipelineSource;
use crate::serve::records::Unsynced;
use crate::serve::requests::{ApiError, ResumeRequest};
use crate::serve::runs::{completed, Record, RunState};

impl Service {
    /// Resumes every run a previous service left unfinished, in the order
    /// they were submitted (queued runs keep their turn); returns how many.
    pub fn recover(&mut self) -> usize {
        let live = match self.records.replay() {
            Ok(live) => live,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the run records; no run resumed");
                return 0;
            }
        };
        let mut resumed = 0;
        for (id, record) in live {
            // Its end was not recorded (the service stopped first): nothing
            // to do again.
            if completed(&record.dir) {
                let _ = self.records.remove(&id).and_then(Unsynced::sync_now);
                continue;
            }
            let resumed_or_remade = match &record.pipeline {
                Some(_) if never_started(&record.dir) => self.remake(record),
                Some(pipeline) => {
                    // Its directory may have reached the disk in part: the
                    // copy a resume reads comes from the record if it must.
                    if let Err(e) = RunDir::restore_copy(&record.dir, pipeline.copy()) {
                        tracing::warn!(run_id = id, error = %e, "cannot restore the run's pipeline copy");
                    }
                    self.resume(record)
                }
                None => self.resume(record),
            };
            match resumed_or_remade {
                Ok(run_id) => {
                    tracing::info!(run_id, "resumed a run the previous service left");
                    resumed += 1;
                }
                Err(e) => {
                    // Kept: the run may be held by another process for now, or
                    // the failure may pass; the next start tries again.
                    tracing::warn!(run_id = id, error = %e, "cannot resume a recorded run; its record is kept");
                }
            }
        }
        resumed
    }

    /// Makes again, from its record, an accepted run whose directory a power
    /// loss took before it was synced, and starts it.
    fn remake(&mut self, record: Record) -> Result<String, ApiError> {
        let Some(pipeline) = &record.pipeline else {
            return Err(ApiError::Internal(format!(
                "{}: no pipeline recorded to make the run again from",
                record.dir.display()
            )));
        };
        let run_dir = RunDir::recreate(
            &record.dir,
            pipeline.copy(),
            self.clock.now(),
            self.durability,
            self.commit_log.as_ref(),
        )
        .map_err(|e| ApiError::Internal(e.to_string()))?;
        tracing::info!(
            run_id = run_dir.id(),
            "made a run again that a crash took before it started"
        );
        self.start_recorded(run_dir, record)
    }

    pub(super) fn resume(&mut self, record: Record) -> Result<String, ApiError> {
        let mut run_dir = RunDir::resume(&record.dir, self.clock.now(), self.durability).map_err(
            |e| match e {
                run_dir::RunDirError::Held(_) => ApiError::Conflict(e.to_string()),
                e => ApiError::Internal(e.to_string()),
            },
        )?;
        if let Some(log) = &self.commit_log {
            run_dir
                .commit_through(log)
                .map_err(|e| self.io_failure(&record.dir, &e))?;
        }
        self.start_recorded(run_dir, record)
    }

    /// Loads the pipeline of a run from its directory's copy, with its
    /// record's overrides, and starts it.
    fn start_recorded(&mut self, run_dir: RunDir, record: Record) -> Result<String, ApiError> {
        let source =
            PipelineSource::of_run(&record.dir).map_err(|e| ApiError::Internal(e.to_string()))?;
        let (plan, subgraphs, _text, workflow) = self.load(&source, &record.overrides())?;
        let completers = self.completers(&plan, &subgraphs)?;
        let run_id = run_dir.id().to_string();
        self.start(Start {
            run_dir,
            plan,
            subgraphs,
            completers,
            workflow,
            record,
        });
        Ok(run_id)
    }

    /// Resumes run `id` on a client's request: one of this service's runs
    /// that ended without success, or a run recorded under
    /// `request.workdir` by another process.
    pub(super) fn resume_request(
        &mut self,
        id: &str,
        request: ResumeRequest,
    ) -> Result<String, ApiError> {
        self.refuse_when_stopping()?;
        let known = self
            .runs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned();
        let record = match (known, request.workdir) {
            (Some(run), _) => match run.state() {
                RunState::Finished(_) if completed(run.dir()) => {
                    return Err(ApiError::Conflict(format!(
                        "run {id} completed; there is nothing to resume"
                    )))
                }
                RunState::Finished(_) => {
                    // What the request asks (another provider for a run
                    // whose own failed, say) applies to this resume.
                    let mut record = run.record.clone();
                    record.provider = request.provider.or(record.provider);
                    record.model = request.model.or(record.model);
                    record.params.extend(request.params);
                    record.auto_approve |= request.auto_approve;
                    record
                }
                _ => {
                    return Err(ApiError::Conflict(format!(
                        "run {id} is going in this service already"
                    )))
                }
            },
            (None, Some(workdir)) => {
                if !workdir.is_absolute() {
                    return Err(ApiError::Invalid(
                        "workdir: must be an absolute path".into(),
                    ));
                }
                let dir =
                    run_dir::find(&run_dir::default_root(&workdir), id).map_err(|e| match e {
                        run_dir::RunDirError::NoMatch { .. } => {
                            ApiError::UnknownRun(id.to_string())
                        }
                        e => ApiError::Invalid(format!("workdir: {e}")),
                    })?;
                if completed(&dir) {
                    return Err(ApiError::Conflict(format!(
                        "run {id} completed; there is nothing to resume"
                    )));
                }
                Record {
                    dir,
                    workdir,
                    params: request.params,
                    auto_approve: request.auto_approve,
                    provider: request.provider,
                    model: request.model,
                    pipeline: None,
                }
            }
            (None, None) => return Err(ApiError::UnknownRun(id.to_string())),
        };
        let run_id = record
            .dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(id)
            .to_string();
        // A prefix may name a run this service drives under its full id.
        if let Some(run) = self
            .runs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&run_id)
        {
            if !matches!(run.state(), RunState::Finished(_)) {
                return Err(ApiError::Conflict(format!(
                    "run {run_id} is going in this service already"
                )));
            }
        }
        // A record already there is another start's (a stopped service's, to
        // be resumed): it is neither replaced nor removed here.
        let ours = !self.records.contains(&run_id);
        if ours {
            self.write_record(&run_id, &record)?
                .sync_now()
                .map_err(|e| self.io_failure(self.records.path(), &e))?;
        }
        self.resume(record).inspect_err(|_| {
            // Not resumed: nothing to resume after a restart either.
            if ours {
                let _ = self.records.remove(&run_id).and_then(Unsynced::sync_now);
            }
        })
    }
}

/// Whether the run in `dir` never started: its checkpoint is missing or cut
/// short (or the directory is gone), its journal holds no save, and no node
/// has a directory in it. Only such a run may be made again from its record:
/// one that ran a step may not run it twice, and a checkpoint that cannot be
/// read for another reason (an I/O error) is no sign of anything.
fn never_started(dir: &Path) -> bool {
    use tracker_actors::store::{self, LoadError};
    match store::load(dir) {
        Err(
            LoadError::Missing(_)
            | LoadError::Corrupt { .. }
            | LoadError::MissingJournal { .. }
            | LoadError::DamagedJournal { .. },
        ) => {}
        _ => return false,
    }
    // Whole lines: the header, then one per save.
    let whole_lines = std::fs::read(dir.join(store::JOURNAL_FILE))
        .map(|journal| journal.iter().filter(|b| **b == b'\n').count())
        .unwrap_or(0);
    if whole_lines > 1 {
        return false;
    }
    match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .flatten()
            .all(|e| e.file_type().is_ok_and(|t| !t.is_dir())),
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}
