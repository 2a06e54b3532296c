//! The checkpoint writer: one per run, persisting checkpoint deltas through a
//! [`RunStore`] off the actor thread (file syncs block).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use actix::prelude::*;
use tracker_runtime::clock::WallTime;
use tracker_runtime::journal::Change;

use crate::commit_log::{CommitError, CommitLog};
use crate::store::{RunStore, Saved};

/// Persists one run's checkpoint.
pub struct CheckpointWriter {
    store: Arc<Mutex<RunStore>>,
    /// Syncing blocks for a disk flush, so synced saves run on the blocking
    /// pool (unless the run has its thread to itself); unsynced ones only
    /// copy into the page cache and run inline.
    blocking: bool,
    /// Where durable saves are committed with other runs', if anywhere, and
    /// the run directory they are for.
    commit_log: Option<(Arc<CommitLog>, Arc<Path>)>,
}

impl CheckpointWriter {
    /// A writer over an open store.
    pub fn new(store: RunStore) -> CheckpointWriter {
        let blocking = store.syncs_off_thread();
        let commit_log = store.commit_log().map(|log| (log, Arc::from(store.dir())));
        CheckpointWriter {
            store: Arc::new(Mutex::new(store)),
            blocking,
            commit_log,
        }
    }
}

impl Actor for CheckpointWriter {
    type Context = Context<Self>;
}

/// Why a checkpoint save or fold did not happen.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Writing the checkpoint's files failed.
    #[error("checkpoint write failed: {source}")]
    Io {
        /// The run directory the checkpoint is written to.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// An earlier write panicked while holding the store.
    #[error("checkpoint store is poisoned by an earlier panic")]
    Poisoned,
    /// The blocking task doing the write failed (panicked or was cancelled).
    #[error("checkpoint writer failed: {0}")]
    TaskFailed(#[source] tokio::task::JoinError),
    /// The commit log did not make the save durable.
    #[error("checkpoint save not committed: {0}")]
    Commit(#[source] CommitError),
    /// The writer actor is gone (its mailbox is closed).
    #[error("checkpoint writer unavailable: {0}")]
    WriterGone(#[source] MailboxError),
}

/// Saves changes; replies with the save's timestamp.
#[derive(Message)]
#[rtype(result = "Result<String, StoreError>")]
pub struct Save {
    /// What changed.
    pub changes: Vec<Change>,
    /// When.
    pub now: WallTime,
    /// The current node's attempt is unfinished: see
    /// [`RunStore::save_in_flight`].
    pub in_flight: bool,
}

impl Save {
    /// Carries the save out on `store`.
    fn apply(&self, store: &mut RunStore) -> std::io::Result<Saved> {
        if self.in_flight {
            store.save_in_flight(&self.changes)
        } else {
            store.save(&self.changes, self.now)
        }
    }
}

/// Closes the journal until the next save: the run waits at a human gate.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Park;

impl Handler<Park> for CheckpointWriter {
    type Result = ();

    fn handle(&mut self, _: Park, _: &mut Self::Context) {
        if let Ok(mut store) = self.store.lock() {
            store.park();
        }
    }
}

/// Folds the journal into `checkpoint.json` (at the end of a run).
#[derive(Message)]
#[rtype(result = "Result<(), StoreError>")]
pub struct Compact;

fn locked<T>(
    store: &Mutex<RunStore>,
    f: impl FnOnce(&mut RunStore) -> std::io::Result<T>,
) -> Result<T, StoreError> {
    let mut store = store.lock().map_err(|_| StoreError::Poisoned)?;
    f(&mut store).map_err(|source| StoreError::Io {
        path: store.dir().to_path_buf(),
        source,
    })
}

impl Handler<Save> for CheckpointWriter {
    type Result = AtomicResponse<Self, Result<String, StoreError>>;

    fn handle(&mut self, msg: Save, _: &mut Self::Context) -> Self::Result {
        let store = Arc::clone(&self.store);
        if let Some((log, dir)) = self.commit_log.clone() {
            // Written now, durable once the log has committed it with
            // whatever other runs saved meanwhile: no thread waits.
            let saved = locked(&store, |s| msg.apply(s));
            return AtomicResponse::new(Box::pin(
                async move {
                    let saved = saved?;
                    if let Some(record) = saved.to_commit {
                        log.commit(record, &dir).await.map_err(StoreError::Commit)?;
                    }
                    Ok(saved.timestamp)
                }
                .into_actor(self),
            ));
        }
        if !self.blocking {
            let saved = locked(&store, |s| msg.apply(s));
            return AtomicResponse::new(Box::pin(actix::fut::ready(saved.map(|s| s.timestamp))));
        }
        AtomicResponse::new(Box::pin(
            async move {
                tokio::task::spawn_blocking(move || {
                    locked(&store, |s| msg.apply(s).map(|s| s.timestamp))
                })
                .await
                .unwrap_or_else(|e| Err(StoreError::TaskFailed(e)))
            }
            .into_actor(self),
        ))
    }
}

impl Handler<Compact> for CheckpointWriter {
    type Result = AtomicResponse<Self, Result<(), StoreError>>;

    fn handle(&mut self, _: Compact, _: &mut Self::Context) -> Self::Result {
        let store = Arc::clone(&self.store);
        AtomicResponse::new(Box::pin(
            async move {
                tokio::task::spawn_blocking(move || locked(&store, RunStore::compact))
                    .await
                    .unwrap_or_else(|e| Err(StoreError::TaskFailed(e)))
            }
            .into_actor(self),
        ))
    }
}
