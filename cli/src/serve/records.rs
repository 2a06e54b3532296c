//! The service's records of the runs it accepted and has not seen end — what
//! the next service resumes after a crash — kept in one append-only file,
//! `<state>/runs.log`: a line when a run is accepted (`{"add": id, "record":
//! {…}}`) and a line when it ends (`{"remove": id}`).
//!
//! One file rather than a file per run: recording a run is one append (and,
//! when durable, one `fdatasync`) instead of a new file, a rename and two
//! syncs on the API's thread, and an ended run leaves no deleted file behind
//! (on ext4 without a journal, freshly deleted inodes slow down every file
//! created near them for minutes). The sync is the caller's to wait for
//! ([`Unsynced`]): in a service with a commit log, every append waiting
//! shares the log's next batch, and a submission does not hold the service's
//! thread while its record is synced.
//!
//! A line torn by a crash can only be the last, and is one whose append never
//! returned or was never synced (so never acknowledged): replay ignores it. The file is rewritten with only the live
//! records when the service starts, and again whenever ended runs make up
//! most of it. Records a service of an earlier version left as a file per run
//! under `<state>/runs/` are taken over when the service starts.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use serde::{Deserialize, Serialize};
use tracker_actors::commit_log::CommitLog;
use tracker_actors::store::Durability;
use tracker_runtime::private_files;

use super::runs::Record;

/// The log's file name under the state directory.
const LOG_FILE: &str = "runs.log";
/// Where an earlier version kept a file per record.
const LEGACY_DIR: &str = "runs";
/// Lines beyond this many more than twice the live records fold the log.
const SLACK_BEFORE_FOLDING: usize = 1024;

/// One line of the log.
#[derive(Debug, Deserialize, Serialize)]
#[serde(untagged)]
enum Line {
    /// A run was accepted.
    Add {
        /// Its id.
        add: String,
        /// How to resume it.
        record: Record,
    },
    /// A run ended.
    Remove {
        /// Its id.
        remove: String,
    },
}

/// The records, appended to from the service's thread (new runs) and from
/// run threads (ended runs).
pub(super) struct RecordLog {
    state: PathBuf,
    path: PathBuf,
    durability: Durability,
    /// The file, open for appending: shared by appends (each line is one
    /// `write` to an `O_APPEND` file), taken alone to fold the log.
    file: RwLock<Option<Arc<File>>>,
    /// The ids recorded and not removed, and the lines in the file.
    live: Mutex<Live>,
    /// A write failed part-way, perhaps: the next starts a new line.
    torn: AtomicBool,
}

#[derive(Default)]
struct Live {
    ids: HashSet<String>,
    lines: usize,
}

impl RecordLog {
    /// The log under the state directory `state`; nothing is read or written
    /// until [`RecordLog::replay`] or an append.
    pub(super) fn new(state: &Path, durability: Durability) -> RecordLog {
        RecordLog {
            state: state.to_path_buf(),
            path: state.join(LOG_FILE),
            durability,
            file: RwLock::new(None),
            live: Mutex::default(),
            torn: AtomicBool::new(false),
        }
    }

    /// The live records, oldest first (a previous version's per-run files
    /// first of all), rewritten as the whole log.
    pub(super) fn replay(&self) -> std::io::Result<Vec<(String, Record)>> {
        let mut order: Vec<String> = Vec::new();
        let mut records: HashMap<String, Record> = HashMap::new();
        let legacy = legacy_records(&self.state.join(LEGACY_DIR));
        for (id, record) in legacy.iter().map(|(id, record, _)| (id, record)) {
            if records.insert(id.clone(), record.clone()).is_none() {
                order.push(id.clone());
            }
        }
        let text = match private_files::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        for (number, line) in text.split_inclusive('\n').enumerate() {
            if !line.ends_with('\n') {
                // Torn by a crash: its append never returned.
                break;
            }
            match serde_json::from_str::<Line>(line) {
                Ok(Line::Add { add, record }) => {
                    if records.insert(add.clone(), record).is_none() {
                        order.push(add);
                    }
                }
                Ok(Line::Remove { remove }) => {
                    records.remove(&remove);
                }
                Err(e) => tracing::warn!(
                    path = %self.path.display(),
                    line = number + 1,
                    error = %e,
                    "unreadable run record; skipped"
                ),
            }
        }
        let live: Vec<(String, Record)> = order
            .into_iter()
            .filter_map(|id| records.remove(&id).map(|record| (id, record)))
            .collect();
        {
            let mut shared = self.file.write().unwrap_or_else(PoisonError::into_inner);
            *shared = None;
            let lines = self.write_all(live.iter().map(|(id, record)| (id.as_str(), record)))?;
            *self.live.lock().unwrap_or_else(PoisonError::into_inner) = Live {
                ids: live.iter().map(|(id, _)| id.clone()).collect(),
                lines,
            };
        }
        // Taken over: the log holds them now.
        // (Synced, so that they cannot come back after a power loss, when
        // the log no longer says which of them ended.)
        let legacy_dir = self.state.join(LEGACY_DIR);
        for (_, _, path) in &legacy {
            let _ = std::fs::remove_file(path);
        }
        if !legacy.is_empty() {
            self.durability.sync_dir(&legacy_dir)?;
        }
        let _ = std::fs::remove_dir(&legacy_dir);
        self.durability.sync_dir(&self.state)?;
        Ok(live)
    }

    /// Records run `id`: once the answer is synced, a crash cannot lose it.
    pub(super) fn add(&self, id: &str, record: &Record) -> std::io::Result<Unsynced> {
        let line = encode(&Line::Add {
            add: id.to_string(),
            record: record.clone(),
        })?;
        let unsynced = self.append(&line)?;
        let fold = {
            let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
            live.ids.insert(id.to_string());
            live.lines += 1;
            live.lines > 2 * live.ids.len() + SLACK_BEFORE_FOLDING
        };
        // The record is written: a failed fold changes nothing for it (the
        // log is folded again later).
        if fold {
            if let Err(e) = self.fold() {
                tracing::warn!(path = %self.path.display(), error = %e, "cannot fold the run records");
            }
        }
        Ok(unsynced)
    }

    /// Forgets run `id` (it ended): once the answer is synced, the next
    /// service does not resume it.
    pub(super) fn remove(&self, id: &str) -> std::io::Result<Unsynced> {
        // Out of the live set first: a fold from now on leaves its record
        // out, whether or not this line is in the file yet.
        if !self
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .ids
            .remove(id)
        {
            return Ok(Unsynced(None));
        }
        let line = encode(&Line::Remove {
            remove: id.to_string(),
        })?;
        let unsynced = self.append(&line)?;
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .lines += 1;
        Ok(unsynced)
    }

    /// The log's file.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Whether run `id` is recorded.
    pub(super) fn contains(&self, id: &str) -> bool {
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .ids
            .contains(id)
    }

    /// Appends `line` (one `write`) — holding the file shared throughout, so
    /// that a fold never replaces the file under a line being written — and
    /// says what to sync when durable. (A fold meanwhile syncs the file it
    /// writes: syncing the one it replaced is then harmless.)
    fn append(&self, line: &[u8]) -> std::io::Result<Unsynced> {
        loop {
            {
                let shared = self.file.read().unwrap_or_else(PoisonError::into_inner);
                if let Some(file) = &*shared {
                    let mut writer: &File = file;
                    // After a failed write, a line of its own: a torn end
                    // must not swallow the next record.
                    if self.torn.swap(false, Ordering::SeqCst) {
                        writer.write_all(b"\n")?;
                    }
                    if let Err(e) = writer.write_all(line) {
                        self.torn.store(true, Ordering::SeqCst);
                        return Err(e);
                    }
                    return Ok(Unsynced(
                        (self.durability == Durability::Sync).then(|| Arc::clone(file)),
                    ));
                }
            }
            self.open()?;
        }
    }

    /// Opens (and creates) the file for appending, unless it is open.
    fn open(&self) -> std::io::Result<()> {
        let mut shared = self.file.write().unwrap_or_else(PoisonError::into_inner);
        if shared.is_some() {
            return Ok(());
        }
        private_files::create_dir_all(&self.state)?;
        let created = !self.path.exists();
        let file = private_files::append(&self.path)?;
        if created {
            self.durability.sync_dir(&self.state)?;
        }
        *shared = Some(Arc::new(file));
        Ok(())
    }

    /// Rewrites the log with only the live records, in the order they are
    /// in it.
    fn fold(&self) -> std::io::Result<()> {
        // Every append waits meanwhile.
        let mut shared = self.file.write().unwrap_or_else(PoisonError::into_inner);
        let text = private_files::read_to_string(&self.path)?;
        let ids = self
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .ids
            .clone();
        let kept: Vec<Line> = text
            .split_inclusive('\n')
            .filter(|line| line.ends_with('\n'))
            .filter_map(|line| serde_json::from_str::<Line>(line).ok())
            .filter(|line| matches!(line, Line::Add { add, .. } if ids.contains(add)))
            .collect();
        let records = kept.iter().filter_map(|line| match line {
            Line::Add { add, record } => Some((add.as_str(), record)),
            Line::Remove { .. } => None,
        });
        *shared = None;
        let count = self.write_all(records)?;
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .lines = count;
        Ok(())
    }

    /// Replaces the log with `records` (left closed: the next append opens
    /// it); returns how many lines it has.
    fn write_all<'a>(
        &self,
        records: impl Iterator<Item = (&'a str, &'a Record)>,
    ) -> std::io::Result<usize> {
        let mut text = Vec::new();
        let mut count = 0;
        for (id, record) in records {
            text.extend(encode(&Line::Add {
                add: id.to_string(),
                record: record.clone(),
            })?);
            count += 1;
        }
        private_files::create_dir_all(&self.state)?;
        self.durability.replace(&self.path, &text)?;
        self.durability.sync_dir(&self.state)?;
        Ok(count)
    }
}

/// A line appended to the log and not on the disk yet (`None`: the service
/// runs without durability, there is nothing to sync).
#[must_use = "a record is durable only once synced"]
pub(super) struct Unsynced(Option<Arc<File>>);

impl Unsynced {
    /// Syncs it here, on this thread.
    pub(super) fn sync_now(self) -> std::io::Result<()> {
        self.0.map_or(Ok(()), |file| file.sync_data())
    }

    /// Syncs it with the commit log's next batch (one sync for every append
    /// waiting), or on the blocking pool in a service without one.
    pub(super) async fn sync(self, log: Option<Arc<CommitLog>>) -> std::io::Result<()> {
        let Some(file) = self.0 else {
            return Ok(());
        };
        match log {
            Some(log) => log.sync_with(file).await.map_err(std::io::Error::other),
            None => tokio::task::spawn_blocking(move || file.sync_data())
                .await
                .unwrap_or_else(|e| Err(std::io::Error::other(e))),
        }
    }
}

/// `line` as one line of JSON.
fn encode(line: &Line) -> std::io::Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec(line).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// The records an earlier version left in `dir`, a file per run named by its
/// id, in the order they were written.
fn legacy_records(dir: &Path) -> Vec<(String, Record, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .map(|e| {
            let written = e
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            (written, e.path())
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|(_, path)| {
            let id = path.file_name()?.to_str()?.to_string();
            let record = std::fs::read(&path)
                .ok()
                .and_then(|bytes| serde_json::from_slice::<Record>(&bytes).ok());
            match record {
                Some(record) => Some((id, record, path)),
                None => {
                    tracing::warn!(path = %path.display(), "unreadable run record; left as it is");
                    None
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: usize) -> Record {
        Record {
            dir: PathBuf::from(format!("/work/.tracker/runs/r{n}")),
            workdir: PathBuf::from("/work"),
            params: std::collections::BTreeMap::new(),
            auto_approve: false,
            provider: None,
            model: None,
            pipeline: None,
        }
    }

    fn ids(live: &[(String, Record)]) -> Vec<&str> {
        live.iter().map(|(id, _)| id.as_str()).collect()
    }

    #[test]
    fn a_new_service_finds_the_runs_added_and_not_removed_in_order() {
        let state = tempfile::tempdir().expect("tempdir");
        let log = RecordLog::new(state.path(), Durability::Sync);
        for n in 0..4 {
            log.add(&format!("r{n}"), &record(n))
                .expect("add")
                .sync_now()
                .expect("synced");
        }
        log.remove("r1")
            .expect("remove")
            .sync_now()
            .expect("synced");
        log.remove("r9")
            .expect("an unknown run is nothing to remove")
            .sync_now()
            .expect("nothing to sync");
        assert!(log.contains("r2") && !log.contains("r1"));

        let next = RecordLog::new(state.path(), Durability::Sync);
        let live = next.replay().expect("replay");
        assert_eq!(ids(&live), ["r0", "r2", "r3"]);
        assert_eq!(live[1].1.dir, record(2).dir);
        // Rewritten with the live ones alone.
        let text = std::fs::read_to_string(state.path().join(LOG_FILE)).expect("log");
        assert_eq!(text.lines().count(), 3, "{text}");
        assert!(next.contains("r3") && !next.contains("r1"));
    }

    #[test]
    fn a_line_torn_by_a_crash_is_ignored_and_the_rest_kept() {
        let state = tempfile::tempdir().expect("tempdir");
        let log = RecordLog::new(state.path(), Durability::NoSync);
        log.add("r0", &record(0))
            .expect("add")
            .sync_now()
            .expect("synced");
        log.add("r1", &record(1))
            .expect("add")
            .sync_now()
            .expect("synced");
        let path = state.path().join(LOG_FILE);
        let mut text = std::fs::read_to_string(&path).expect("log");
        // The crash came in the middle of the removal of r0.
        text.push_str("{\"remove\":\"r");
        std::fs::write(&path, text).expect("tear");
        let live = RecordLog::new(state.path(), Durability::NoSync)
            .replay()
            .expect("replay");
        assert_eq!(ids(&live), ["r0", "r1"]);
    }

    #[test]
    fn the_log_is_folded_once_ended_runs_fill_it() {
        let state = tempfile::tempdir().expect("tempdir");
        let log = RecordLog::new(state.path(), Durability::NoSync);
        log.add("keep", &record(0))
            .expect("add")
            .sync_now()
            .expect("synced");
        for n in 1..=SLACK_BEFORE_FOLDING {
            log.add(&format!("r{n}"), &record(n))
                .expect("add")
                .sync_now()
                .expect("synced");
            log.remove(&format!("r{n}"))
                .expect("remove")
                .sync_now()
                .expect("synced");
        }
        let lines = std::fs::read_to_string(state.path().join(LOG_FILE))
            .expect("log")
            .lines()
            .count();
        assert!(
            lines < SLACK_BEFORE_FOLDING,
            "{lines} lines for one live run"
        );
        log.add("last", &record(9))
            .expect("add after folding")
            .sync_now()
            .expect("synced");
        let live = RecordLog::new(state.path(), Durability::NoSync)
            .replay()
            .expect("replay");
        assert_eq!(ids(&live), ["keep", "last"]);
    }

    #[test]
    fn records_an_earlier_version_left_a_file_each_are_taken_over() {
        let state = tempfile::tempdir().expect("tempdir");
        let legacy = state.path().join(LEGACY_DIR);
        std::fs::create_dir(&legacy).expect("legacy dir");
        std::fs::write(
            legacy.join("old"),
            serde_json::to_vec(&record(7)).expect("json"),
        )
        .expect("legacy record");
        std::fs::write(legacy.join("broken"), "{").expect("broken record");
        let log = RecordLog::new(state.path(), Durability::Sync);
        let live = log.replay().expect("replay");
        assert_eq!(ids(&live), ["old"]);
        assert!(!legacy.join("old").exists(), "taken over into the log");
        assert!(legacy.join("broken").exists(), "an unreadable one is left");
        let again = RecordLog::new(state.path(), Durability::Sync)
            .replay()
            .expect("replay");
        assert_eq!(ids(&again), ["old"]);
    }
}
