//! A cap on how many nodes of one kind run at once, shared by every run that
//! is given the same [`Limited`] handler: the run service uses it to cap the
//! agent sessions across all of its runs (`--max-agent-sessions`).
//!
//! A node waiting for a slot has started (its timeout counts) but has not yet
//! done anything; slots are handed out in the order nodes asked for them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::Semaphore;
use tracker_runtime::outcome::NodeResult;

use tracker_runtime::engine::NodeTask;
use tracker_runtime::gauge::Held;

use crate::{BoxFuture, HandlerEnv, NodeHandler};

/// Runs `inner` with at most `limit` of its nodes at once.
pub struct Limited {
    inner: Arc<dyn NodeHandler>,
    slots: Arc<Semaphore>,
    limit: usize,
    waiting: Arc<AtomicUsize>,
}

impl Limited {
    /// `inner`, at most `limit` (at least 1) at a time.
    pub fn new(inner: Arc<dyn NodeHandler>, limit: usize) -> Limited {
        let limit = limit.max(1);
        Limited {
            inner,
            slots: Arc::new(Semaphore::new(limit)),
            limit,
            waiting: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// How many nodes hold a slot now.
    pub fn in_use(&self) -> usize {
        self.limit - self.slots.available_permits()
    }

    /// How many nodes wait for a slot now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    /// The cap.
    pub fn limit(&self) -> usize {
        self.limit
    }
}

impl std::fmt::Debug for Limited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limited")
            .field("limit", &self.limit)
            .field("in_use", &self.in_use())
            .field("waiting", &self.waiting())
            .finish()
    }
}

impl NodeHandler for Limited {
    fn run(&self, task: NodeTask, env: HandlerEnv) -> BoxFuture<NodeResult> {
        let inner = Arc::clone(&self.inner);
        let slots = Arc::clone(&self.slots);
        let waiting = Arc::clone(&self.waiting);
        Box::pin(async move {
            // Counted until it has a slot, even if the node is cancelled
            // while it waits.
            let counted = Held::new(&waiting);
            // The semaphore is never closed, so acquiring only waits; the
            // slot is given back when the node ends, however it ends.
            let _slot = slots.acquire_owned().await;
            drop(counted);
            inner.run(task, env).await
        })
    }
}
