//! The activity log: every event of a run as one JSON line.
//!
//! The live log is written as events arrive to a private location outside the
//! working directory (`$TRACKER_AUDIT_DIR`, else `$XDG_STATE_HOME/tracker/runs`,
//! else `~/.local/state/tracker/runs`, else `<tmp>/tracker-audit`), mode 0600,
//! each line prefixed with the `\x1f\x1e` sentinel and sealed with a key only
//! this process knows ([`crate::seal`]). When the run finishes, a copy without
//! sentinels and seals goes to `<run dir>/activity.jsonl`, where the reference
//! puts it. Lines that were in the live log before this process opened it (an
//! earlier process of a resumed run) are copied as they are; of the lines
//! added since, only those this process sealed are: anything else (a tool
//! appending forged events) is left out of the copy and of the live log, and
//! reported.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use actix::prelude::*;
use tracker_runtime::event::{
    strip_activity_sentinel, EventKind, PipelineEvent, ACTIVITY_SENTINEL,
};
use tracker_runtime::private_files;
use tracker_runtime::usage::UsageSummary;

use crate::bus::Deliver;
use crate::seal::{self, SealKey};

/// The file name in both places.
pub const ACTIVITY_FILE: &str = "activity.jsonl";

/// Whether the run in `dir` completed: its activity log's copy says so. A
/// completed run has nothing to resume (the reference would run its exit
/// node again, an agent's call included).
pub fn completed(dir: &std::path::Path) -> bool {
    std::fs::read_to_string(dir.join(ACTIVITY_FILE))
        .is_ok_and(|log| log.contains("\"type\":\"pipeline_completed\""))
}

/// What run `run_id`'s earlier processes spent, by its live log under
/// `base` (or, when that is not there — another user's state directory —
/// the copy in its run directory `dir`): the usage its last top-level
/// `cost_updated` event reported (a child run's, `node_id` `G/A`, counts
/// only the child). `None` when no log reported usage; a line that does not
/// read is skipped.
pub fn earlier_usage(base: &Path, run_id: &str, dir: &Path) -> Option<UsageSummary> {
    use std::io::BufRead;
    let file = private_files::open(&base.join(run_id).join(ACTIVITY_FILE))
        .or_else(|_| private_files::open(&dir.join(ACTIVITY_FILE)))
        .ok()?;
    let mut last = None;
    for line in std::io::BufReader::new(file).split(b'\n') {
        let Ok(line) = line else { break };
        let line = String::from_utf8_lossy(&line);
        // Most lines are other events: the cheap test first.
        if !line.contains("\"type\":\"cost_updated\"") {
            continue;
        }
        let Ok(event) = PipelineEvent::from_line(&line) else {
            continue;
        };
        if event.node_id.as_deref().is_some_and(|n| n.contains('/')) {
            continue;
        }
        if let Some(cost) = event.cost {
            last = Some(cost.to_usage());
        }
    }
    last
}

/// Where live activity logs go, from the environment.
pub fn audit_base() -> PathBuf {
    if let Some(dir) = std::env::var_os("TRACKER_AUDIT_DIR").map(PathBuf::from) {
        if dir.is_absolute() {
            return dir;
        }
    }
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME").map(PathBuf::from) {
        if dir.is_absolute() {
            return dir.join("tracker").join("runs");
        }
    }
    if let Some(home) = std::env::var_os("HOME").map(PathBuf::from) {
        return home
            .join(".local")
            .join("state")
            .join("tracker")
            .join("runs");
    }
    std::env::temp_dir().join("tracker-audit")
}

/// Writes one run's activity log.
pub struct ActivityLog {
    live_path: PathBuf,
    copy_path: Option<PathBuf>,
    file: Option<File>,
    error: Option<ActivityError>,
    /// This process's sealing key (`None` when the system's randomness could
    /// not be read: lines are then unsealed, and all are copied).
    key: Option<SealKey>,
    /// The live log's length when this process opened it.
    history_len: u64,
    /// The seal of the last line this process wrote (each seal is chained to
    /// the one before).
    last_seal: String,
    /// Lines this process wrote.
    written: usize,
    /// Whether this process has opened the live log (it is closed while the
    /// run waits at a gate).
    opened: bool,
}

impl ActivityLog {
    /// A log for run `run_id` under `base`, copied into `run_dir` when finished.
    pub fn new(base: &Path, run_id: &str, run_dir: Option<&Path>) -> ActivityLog {
        ActivityLog {
            live_path: base.join(run_id).join(ACTIVITY_FILE),
            copy_path: run_dir.map(|d| d.join(ACTIVITY_FILE)),
            file: None,
            error: None,
            key: SealKey::random().ok(),
            history_len: 0,
            last_seal: String::new(),
            written: 0,
            opened: false,
        }
    }

    /// Where the live log is.
    pub fn live_path(&self) -> &Path {
        &self.live_path
    }

    fn open(&mut self) -> std::io::Result<&mut File> {
        if self.file.is_none() && self.opened {
            // Opened again after the run waited at a gate: this process's
            // lines are already in it, each ended.
            self.file = Some(private_files::append(&self.live_path)?);
        }
        if self.file.is_none() {
            if let Some(parent) = self.live_path.parent() {
                private_files::ensure_dir(parent)?;
            }
            let mut file = private_files::append(&self.live_path)?;
            self.history_len = file.metadata()?.len();
            if self.history_len > 0 && !ends_with_newline(&self.live_path, self.history_len)? {
                // An earlier process died mid-line: end that line, so this
                // process's first line stands on its own.
                file.write_all(b"\n")?;
                self.history_len += 1;
            }
            self.file = Some(file);
            self.opened = true;
        }
        self.file
            .as_mut()
            .ok_or_else(|| std::io::Error::other("activity log not open"))
    }
}

impl Actor for ActivityLog {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(64);
    }
}

impl Handler<Deliver> for ActivityLog {
    type Result = ();

    fn handle(&mut self, msg: Deliver, _: &mut Self::Context) {
        let mut text = String::new();
        for line in msg.0.activity_lines() {
            text.push_str(ACTIVITY_SENTINEL);
            match &self.key {
                Some(key) => {
                    let (sealed, seal) = key.seal(&self.last_seal, line);
                    text.push_str(&sealed);
                    self.last_seal = seal;
                }
                None => text.push_str(line),
            }
            text.push('\n');
            self.written += 1;
        }
        let result = self.open().and_then(|f| f.write_all(text.as_bytes()));
        if let Err(source) = result {
            self.error.get_or_insert_with(|| ActivityError::Write {
                path: self.live_path.clone(),
                source,
            });
        }
        // The run now waits for a person, maybe for hours: a service holding
        // thousands of such runs must not hold a file open for each.
        if msg
            .0
            .last()
            .is_some_and(|e| e.kind == EventKind::GateOpened)
        {
            self.file = None;
        }
    }
}

/// What went wrong with a run's activity log.
#[derive(Debug, thiserror::Error)]
pub enum ActivityError {
    /// A file could not be written (the live log, or the run directory's copy).
    #[error("write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The live log could not be read back to make the copy.
    #[error("read {}: {source}", path.display())]
    Read {
        /// The live log.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Another process changed the live log: it appended or replayed lines
    /// (left out of both logs), or removed some of this process's lines.
    #[error("{}", tampering(*foreign, *missing, path, copy))]
    Tampered {
        /// Lines this process did not write where they are.
        foreign: usize,
        /// Lines this process wrote that are gone.
        missing: usize,
        /// The live log.
        path: PathBuf,
        /// The run directory's copy.
        copy: PathBuf,
    },
}

/// Closes the log and writes the copy without sentinels; replies with the
/// first write error, if any.
#[derive(Message)]
#[rtype(result = "Result<(), ActivityError>")]
pub struct Finish;

impl Handler<Finish> for ActivityLog {
    type Result = Result<(), ActivityError>;

    fn handle(&mut self, _: Finish, ctx: &mut Self::Context) -> Self::Result {
        self.file = None;
        ctx.stop();
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        let Some(copy) = &self.copy_path else {
            return Ok(());
        };
        let live = match private_files::read_to_string(&self.live_path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(source) => {
                return Err(ActivityError::Read {
                    path: self.live_path.clone(),
                    source,
                })
            }
        };
        let sorted = self.sort_lines(&live);
        let write = || -> std::io::Result<()> {
            if sorted.foreign > 0 {
                private_files::replace(&self.live_path, sorted.live.as_bytes())?;
            }
            if let Some(parent) = copy.parent() {
                private_files::ensure_dir(parent)?;
            }
            private_files::replace(copy, sorted.copy.as_bytes())
        };
        write().map_err(|source| ActivityError::Write {
            path: copy.clone(),
            source,
        })?;
        if sorted.foreign == 0 && sorted.missing == 0 {
            return Ok(());
        }
        Err(ActivityError::Tampered {
            foreign: sorted.foreign,
            missing: sorted.missing,
            path: self.live_path.clone(),
            copy: copy.clone(),
        })
    }
}

/// The live log's lines, sorted into what is kept.
struct SortedLines {
    /// The live log without foreign lines.
    live: String,
    /// The run directory's copy: no sentinels, no seals.
    copy: String,
    /// Lines this process did not write, or not in that place.
    foreign: usize,
    /// Lines this process wrote that are gone (the log was cut).
    missing: usize,
}

/// How a tampered live log is reported.
fn tampering(foreign: usize, missing: usize, path: &Path, copy: &Path) -> String {
    let mut parts = Vec::new();
    if foreign > 0 {
        parts.push(format!(
            "{foreign} line(s) in {} were not written by tracker (another process appended or repeated them); they were left out of {}",
            path.display(),
            copy.display()
        ));
    }
    if missing > 0 {
        parts.push(format!(
            "{missing} line(s) tracker wrote to {} are missing (another process cut the log)",
            path.display()
        ));
    }
    parts.join("; ")
}

impl ActivityLog {
    fn sort_lines(&self, live: &str) -> SortedLines {
        let split = usize::try_from(self.history_len)
            .ok()
            .filter(|n| live.is_char_boundary(*n))
            .unwrap_or(0);
        let (history, recent) = live.split_at(split);
        let mut sorted = SortedLines {
            live: history.to_string(),
            copy: String::with_capacity(live.len()),
            foreign: 0,
            missing: 0,
        };
        for line in history.lines() {
            let json = seal::strip(strip_activity_sentinel(line));
            // A line an earlier process died writing is no event: the copy
            // (which readers parse line by line) leaves it out.
            if serde_json::from_str::<serde::de::IgnoredAny>(&json).is_err() {
                continue;
            }
            sorted.copy.push_str(&json);
            sorted.copy.push('\n');
        }
        let mut previous = String::new();
        let mut kept = 0;
        for line in recent.lines() {
            let json = match (&self.key, line.strip_prefix(ACTIVITY_SENTINEL)) {
                (Some(key), Some(sealed)) => key.open(&previous, sealed).map(|(json, seal)| {
                    previous = seal;
                    json
                }),
                (None, Some(plain)) => Some(plain.to_string()),
                (_, None) => None,
            };
            match json {
                Some(json) => {
                    kept += 1;
                    sorted.live.push_str(line);
                    sorted.live.push('\n');
                    sorted.copy.push_str(&json);
                    sorted.copy.push('\n');
                }
                None => sorted.foreign += 1,
            }
        }
        // Cut before this process opened it, the log lost lines of its own
        // too: count what this process wrote and did not find.
        sorted.missing = self.written.saturating_sub(kept);
        if live.len() < split || (split == 0 && self.history_len > 0) {
            sorted.missing = sorted.missing.max(1);
        }
        sorted
    }
}

/// Whether the file at `path`, `len` bytes long, ends in a newline.
fn ends_with_newline(path: &Path, len: u64) -> std::io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = private_files::open(path)?;
    file.seek(SeekFrom::Start(len - 1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}
