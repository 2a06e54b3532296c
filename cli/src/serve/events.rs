//! Each run's events as the service keeps them: every line in the activity
//! log's format, in order, so that a client arriving late replays the run from
//! any offset and then follows it live.

use std::sync::{Arc, Mutex, PoisonError};

use actix::prelude::*;
use tokio::sync::Notify;
use tracker_actors::bus::Deliver;

/// One run's event lines, shared by the subscriber that appends them and the
/// clients that read them.
#[derive(Default)]
pub struct EventLog {
    lines: Mutex<Lines>,
    changed: Notify,
}

#[derive(Default)]
struct Lines {
    lines: Vec<Arc<str>>,
    closed: bool,
}

/// What a reader gets from an offset: the lines from there, and whether the
/// run has ended (no more will come).
pub struct Slice {
    /// The lines from the offset on.
    pub lines: Vec<Arc<str>>,
    /// Whether the log is complete.
    pub closed: bool,
}

impl EventLog {
    /// Appends lines and wakes readers.
    fn push(&self, new: impl IntoIterator<Item = Arc<str>>) {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .lines
            .extend(new);
        self.changed.notify_waiters();
    }

    /// Marks the log complete (the run ended) and wakes readers.
    pub fn close(&self) {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .closed = true;
        self.changed.notify_waiters();
    }

    /// Whether it holds no line yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many lines it holds.
    pub fn len(&self) -> usize {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .lines
            .len()
    }

    /// The lines from `offset` there are now.
    pub fn snapshot_from(&self, offset: usize) -> Slice {
        let held = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        Slice {
            lines: held.lines.get(offset..).unwrap_or_default().to_vec(),
            closed: held.closed,
        }
    }

    /// The lines from `offset`, waiting for some when there are none yet and
    /// the run is still going.
    pub async fn read_from(&self, offset: usize) -> Slice {
        loop {
            let changed = self.changed.notified();
            {
                let held = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
                if offset < held.lines.len() || held.closed {
                    return Slice {
                        lines: held.lines.get(offset..).unwrap_or_default().to_vec(),
                        closed: held.closed,
                    };
                }
            }
            changed.await;
        }
    }
}

/// The bus subscriber that fills a run's [`EventLog`].
pub struct EventRecorder {
    log: Arc<EventLog>,
}

impl EventRecorder {
    /// A recorder appending to `log`.
    pub fn new(log: Arc<EventLog>) -> EventRecorder {
        EventRecorder { log }
    }
}

impl Actor for EventRecorder {
    type Context = Context<Self>;
}

impl Handler<Deliver> for EventRecorder {
    type Result = ();

    fn handle(&mut self, msg: Deliver, _: &mut Self::Context) {
        self.log
            .push(msg.0.iter().map(|e| Arc::<str>::from(e.to_activity_line())));
    }
}
