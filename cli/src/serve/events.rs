//! The service's events as clients read them: each run's lines in the
//! activity log's format, in order, so that a client arriving late replays
//! the run from any offset and then follows it live; and every run's lines
//! interleaved, for clients watching the whole service.
//!
//! A run's lines are held in memory while it goes. When it ends they are
//! released: its `activity.jsonl` on disk holds the same lines, and readers
//! are served from there. The service-wide log keeps only its most recent
//! lines; a reader asking for older ones starts at the oldest kept.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use actix::prelude::*;
use tokio::sync::Notify;
use tracker_actors::bus::Deliver;

/// How many lines the service-wide log keeps.
pub const SERVICE_LOG_LINES: usize = 100_000;

/// A log of event lines, shared by the subscriber that appends them and the
/// clients that read them.
#[derive(Default)]
pub struct EventLog {
    lines: Mutex<Lines>,
    changed: Notify,
}

#[derive(Default)]
struct Lines {
    /// The lines held, the first being line `base`.
    held: VecDeque<Arc<str>>,
    base: usize,
    /// The most lines held (none: all).
    cap: Option<usize>,
    closed: bool,
    /// Released to this file: line `i` of the log is line `first + i` of it.
    on_disk: Option<(PathBuf, usize)>,
}

impl Lines {
    fn len(&self) -> usize {
        self.base + self.held.len()
    }
}

/// What a reader gets from an offset: the lines from there, and whether the
/// log is complete (no more will come).
pub struct Slice {
    /// The offset of the first line (later than asked when older lines are no
    /// longer kept).
    pub start: usize,
    /// The lines from `start` on.
    pub lines: Vec<Arc<str>>,
    /// Whether the log is complete.
    pub closed: bool,
}

impl EventLog {
    /// A log keeping only its most recent `cap` lines.
    pub fn bounded(cap: usize) -> EventLog {
        EventLog {
            lines: Mutex::new(Lines {
                cap: Some(cap.max(1)),
                ..Lines::default()
            }),
            changed: Notify::new(),
        }
    }

    /// Appends lines and wakes readers.
    pub fn push(&self, new: impl IntoIterator<Item = Arc<str>>) {
        {
            let mut held = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
            held.held.extend(new);
            if let Some(cap) = held.cap {
                while held.held.len() > cap {
                    held.held.pop_front();
                    held.base += 1;
                }
            }
        }
        self.changed.notify_waiters();
    }

    /// Marks the log complete and wakes readers.
    pub fn close(&self) {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .closed = true;
        self.changed.notify_waiters();
    }

    /// Marks the log complete, and serves it from `file` from now on instead
    /// of memory. `file` ends with the lines the log holds (earlier lines in
    /// it, from a previous session of the run, are not the log's); if it does
    /// not, the lines stay in memory.
    pub fn close_to_disk(&self, file: &Path) {
        let on_disk = std::fs::read_to_string(file).ok();
        {
            let mut held = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
            held.closed = true;
            if let Some(text) = on_disk {
                let lines: Vec<&str> = text.lines().collect();
                let first = lines.len().checked_sub(held.held.len());
                let same = first.is_some_and(|first| {
                    lines[first..]
                        .iter()
                        .zip(&held.held)
                        .all(|(a, b)| *a == &**b)
                });
                if let (true, Some(first), 0) = (same, first, held.base) {
                    held.on_disk = Some((file.to_path_buf(), first));
                    held.base = held.held.len();
                    held.held = VecDeque::new();
                }
            }
        }
        self.changed.notify_waiters();
    }

    /// Whether it holds no line yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many lines it has had.
    pub fn len(&self) -> usize {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// The lines from `offset` there are now.
    pub fn snapshot_from(&self, offset: usize) -> Slice {
        let held = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        slice(&held, offset)
    }

    /// The lines from `offset`, waiting for some when there are none yet and
    /// the log is still open.
    pub async fn read_from(&self, offset: usize) -> Slice {
        loop {
            let changed = self.changed.notified();
            {
                let held = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
                if offset < held.len() || held.closed {
                    return slice(&held, offset);
                }
            }
            changed.await;
        }
    }
}

fn slice(held: &Lines, offset: usize) -> Slice {
    if let Some((file, first)) = &held.on_disk {
        let lines = std::fs::read_to_string(file)
            .map(|text| {
                text.lines()
                    .skip(first + offset)
                    .take(held.base.saturating_sub(offset))
                    .map(Arc::from)
                    .collect()
            })
            .unwrap_or_default();
        return Slice {
            start: offset,
            lines,
            closed: held.closed,
        };
    }
    let start = offset.max(held.base);
    Slice {
        start,
        lines: held.held.iter().skip(start - held.base).cloned().collect(),
        closed: held.closed,
    }
}

/// The bus subscriber that fills a run's [`EventLog`] and the service-wide
/// one.
pub struct EventRecorder {
    run: Arc<EventLog>,
    service: Arc<EventLog>,
}

impl EventRecorder {
    /// A recorder appending to `run` and `service`.
    pub fn new(run: Arc<EventLog>, service: Arc<EventLog>) -> EventRecorder {
        EventRecorder { run, service }
    }
}

impl Actor for EventRecorder {
    type Context = Context<Self>;
}

impl Handler<Deliver> for EventRecorder {
    type Result = ();

    fn handle(&mut self, msg: Deliver, _: &mut Self::Context) {
        let lines: Vec<Arc<str>> = msg.0.activity_lines().to_vec();
        self.service.push(lines.iter().cloned());
        self.run.push(lines);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(slice: &Slice) -> Vec<&str> {
        slice.lines.iter().map(|l| &**l).collect()
    }

    #[test]
    fn a_bounded_log_keeps_its_latest_lines_and_says_where_they_start() {
        let log = EventLog::bounded(2);
        log.push(["a", "b", "c"].map(Arc::from));
        let slice = log.snapshot_from(0);
        assert_eq!(slice.start, 1);
        assert_eq!(lines(&slice), ["b", "c"]);
        assert_eq!(lines(&log.snapshot_from(2)), ["c"]);
        assert_eq!(log.len(), 3);
    }

    #[test]
    fn a_log_closed_to_disk_is_read_from_its_file_past_a_previous_sessions_lines() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("activity.jsonl");
        std::fs::write(&file, "old\nx\ny\n").expect("file");
        let log = EventLog::default();
        log.push(["x", "y"].map(Arc::from));
        log.close_to_disk(&file);
        // Released from memory: served from the file's last two lines.
        assert!(log.lines.lock().expect("lock").held.is_empty());
        let slice = log.snapshot_from(0);
        assert_eq!((slice.start, slice.closed), (0, true));
        assert_eq!(lines(&slice), ["x", "y"]);
        assert_eq!(lines(&log.snapshot_from(1)), ["y"]);
        assert!(log.snapshot_from(2).lines.is_empty());
        assert_eq!(log.len(), 2);
    }

    #[test]
    fn a_log_whose_file_differs_keeps_its_lines() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("activity.jsonl");
        std::fs::write(&file, "x\nsomething else\n").expect("file");
        let log = EventLog::default();
        log.push(["x", "y"].map(Arc::from));
        log.close_to_disk(&file);
        assert_eq!(lines(&log.snapshot_from(0)), ["x", "y"]);
        assert!(log.snapshot_from(0).closed);
    }
}
