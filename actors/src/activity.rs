//! The activity log: every event of a run as one JSON line.
//!
//! The live log is written as events arrive to a private location outside the
//! working directory (`$TRACKER_AUDIT_DIR`, else `$XDG_STATE_HOME/tracker/runs`,
//! else `~/.local/state/tracker/runs`, else `<tmp>/tracker-audit`), mode 0600,
//! each line prefixed with the `\x1f\x1e` sentinel. When the run finishes, a copy
//! without the sentinels goes to `<run dir>/activity.jsonl`, where the reference
//! puts it.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use actix::prelude::*;
use tracker_runtime::event::{strip_activity_sentinel, ACTIVITY_SENTINEL};
use tracker_runtime::private_files;

use crate::bus::Deliver;

/// The file name in both places.
pub const ACTIVITY_FILE: &str = "activity.jsonl";

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
    error: Option<String>,
}

impl ActivityLog {
    /// A log for run `run_id` under `base`, copied into `run_dir` when finished.
    pub fn new(base: &Path, run_id: &str, run_dir: Option<&Path>) -> ActivityLog {
        ActivityLog {
            live_path: base.join(run_id).join(ACTIVITY_FILE),
            copy_path: run_dir.map(|d| d.join(ACTIVITY_FILE)),
            file: None,
            error: None,
        }
    }

    /// Where the live log is.
    pub fn live_path(&self) -> &Path {
        &self.live_path
    }

    fn open(&mut self) -> std::io::Result<&mut File> {
        if self.file.is_none() {
            if let Some(parent) = self.live_path.parent() {
                private_files::ensure_dir(parent)?;
            }
            let file = private_files::append(&self.live_path)?;
            self.file = Some(file);
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
        for event in msg.0.iter() {
            text.push_str(ACTIVITY_SENTINEL);
            text.push_str(&event.to_activity_line());
            text.push('\n');
        }
        let result = self.open().and_then(|f| f.write_all(text.as_bytes()));
        if let Err(e) = result {
            self.error
                .get_or_insert_with(|| format!("write {}: {e}", self.live_path.display()));
        }
    }
}

/// Closes the log and writes the copy without sentinels; replies with the
/// first write error, if any.
#[derive(Message)]
#[rtype(result = "Result<(), String>")]
pub struct Finish;

impl Handler<Finish> for ActivityLog {
    type Result = Result<(), String>;

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
            Err(e) => return Err(format!("read {}: {e}", self.live_path.display())),
        };
        let stripped: String = live
            .lines()
            .map(|line| format!("{}\n", strip_activity_sentinel(line)))
            .collect();
        let write = || -> std::io::Result<()> {
            if let Some(parent) = copy.parent() {
                private_files::ensure_dir(parent)?;
            }
            private_files::replace(copy, stripped.as_bytes())
        };
        write().map_err(|e| format!("write {}: {e}", copy.display()))
    }
}
