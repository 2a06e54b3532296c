//! The checkpoint writer: one per run, persisting checkpoint deltas through a
//! [`RunStore`] off the actor thread (file syncs block).

use std::sync::{Arc, Mutex};

use actix::prelude::*;
use tracker_runtime::clock::WallTime;
use tracker_runtime::journal::Change;

use crate::store::RunStore;

/// Persists one run's checkpoint.
pub struct CheckpointWriter {
    store: Arc<Mutex<RunStore>>,
    /// Syncing blocks for a disk flush, so synced saves run on the blocking
    /// pool; unsynced ones only copy into the page cache and run inline.
    blocking: bool,
}

impl CheckpointWriter {
    /// A writer over an open store.
    pub fn new(store: RunStore) -> CheckpointWriter {
        let blocking = store.durability() == crate::store::Durability::Sync;
        CheckpointWriter {
            store: Arc::new(Mutex::new(store)),
            blocking,
        }
    }
}

impl Actor for CheckpointWriter {
    type Context = Context<Self>;
}

/// Saves changes; replies with the save's timestamp.
#[derive(Message)]
#[rtype(result = "Result<String, String>")]
pub struct Save {
    /// What changed.
    pub changes: Vec<Change>,
    /// When.
    pub now: WallTime,
}

/// Folds the journal into `checkpoint.json` (at the end of a run).
#[derive(Message)]
#[rtype(result = "Result<(), String>")]
pub struct Compact;

fn locked<T>(
    store: &Mutex<RunStore>,
    f: impl FnOnce(&mut RunStore) -> std::io::Result<T>,
) -> Result<T, String> {
    let mut store = store
        .lock()
        .map_err(|_| "checkpoint store is poisoned by an earlier panic".to_string())?;
    f(&mut store).map_err(|e| format!("checkpoint write failed: {e}"))
}

impl Handler<Save> for CheckpointWriter {
    type Result = AtomicResponse<Self, Result<String, String>>;

    fn handle(&mut self, msg: Save, _: &mut Self::Context) -> Self::Result {
        let store = Arc::clone(&self.store);
        if !self.blocking {
            let saved = locked(&store, |s| s.save(&msg.changes, msg.now));
            return AtomicResponse::new(Box::pin(actix::fut::ready(saved)));
        }
        AtomicResponse::new(Box::pin(
            async move {
                tokio::task::spawn_blocking(move || {
                    locked(&store, |s| s.save(&msg.changes, msg.now))
                })
                .await
                .unwrap_or_else(|e| Err(format!("checkpoint writer failed: {e}")))
            }
            .into_actor(self),
        ))
    }
}

impl Handler<Compact> for CheckpointWriter {
    type Result = AtomicResponse<Self, Result<(), String>>;

    fn handle(&mut self, _: Compact, _: &mut Self::Context) -> Self::Result {
        let store = Arc::clone(&self.store);
        AtomicResponse::new(Box::pin(
            async move {
                tokio::task::spawn_blocking(move || locked(&store, RunStore::compact))
                    .await
                    .unwrap_or_else(|e| Err(format!("checkpoint writer failed: {e}")))
            }
            .into_actor(self),
        ))
    }
}
