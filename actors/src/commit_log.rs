//! Group commit: the durable checkpoint saves of many runs, made durable
//! together.
//!
//! In a service, a durable save writes its journal line to the run's
//! `checkpoint.journal` without syncing it, and sends the same line — with
//! the run's directory and the snapshot its journal extends — to the
//! service's commit log: one file, written by one thread. That thread takes
//! every record waiting, writes them with one `write`, syncs the file once
//! and only then lets each of those saves return. Saves that arrive while a
//! sync is in flight share the next one, so durable steps per second grow
//! with the number of runs instead of being held to one flush per step.
//!
//! After a power loss a run's journal may lack its last lines (they were in
//! the page cache); the commit log has them. Whoever opens the run next — the
//! service starting again, or `tracker resume` in another process — first
//! appends to the journal what the log holds for it and the journal lacks
//! (the run directory names its log in [`MARKER_FILE`]). A process crash
//! loses nothing the page cache had: there is then nothing to append.
//!
//! The log is emptied when it has grown past [`MAX_LOG_BYTES`], once the file
//! systems of the journals its records went to are flushed (`syncfs`): what it
//! held is then in the journals themselves.
//!
//! Other appends that must be durable before they are acknowledged — the
//! service's records of the runs it accepts — ride along: the writer syncs
//! each such file once per batch ([`CommitLog::sync_with`]), however many
//! appends to it are waiting.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use tracker_runtime::journal::JOURNAL_FILE;
use tracker_runtime::private_files;

/// The file in a run directory naming the commit log its saves go through.
pub const MARKER_FILE: &str = "commit-log";
/// The log is emptied once it holds this many bytes.
pub const MAX_LOG_BYTES: u64 = 16 << 20;
/// Most records written and synced at once.
const MAX_BATCH: usize = 4096;
/// Records waiting for the writer at most; a save beyond waits for room.
const QUEUE: usize = 4096;

/// Why a record was not made durable.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// Writing or syncing the log failed.
    #[error("commit log {}: {message}", path.display())]
    Failed {
        /// The log.
        path: PathBuf,
        /// The write's error.
        message: String,
    },
    /// The log's writer thread has stopped.
    #[error("the commit log's writer has stopped")]
    Stopped,
}

/// One record: run `dir`'s journal line `line`, saved at `ts`, in the journal
/// that extends the snapshot stamped `base`.
#[derive(Debug, Deserialize, Serialize)]
struct Entry {
    dir: PathBuf,
    base: String,
    ts: String,
    line: String,
}

/// What the writer is asked to make durable, and where the answer goes.
struct Request {
    what: Durable,
    done: oneshot::Sender<Result<(), String>>,
}

/// What a request makes durable.
enum Durable {
    /// A journal record, written to the log.
    Record {
        bytes: Vec<u8>,
        /// The run directory's parent (its file system is flushed before the
        /// log is emptied).
        root: PathBuf,
    },
    /// What was appended to another file so far.
    File(Arc<File>),
}

/// What the log has done (a live, shared view).
#[derive(Debug, Default)]
pub struct CommitStats {
    /// Records made durable.
    pub records: AtomicU64,
    /// Syncs of the log (one per batch of records).
    pub syncs: AtomicU64,
    /// Syncs of other files ([`CommitLog::sync_with`]; one per file per
    /// batch).
    pub file_syncs: AtomicU64,
    /// Times the log was emptied.
    pub emptied: AtomicU64,
}

/// A service's commit log, and the thread that writes it.
#[derive(Debug)]
pub struct CommitLog {
    path: PathBuf,
    queue: mpsc::Sender<Request>,
    stats: Arc<CommitStats>,
}

impl CommitLog {
    /// Opens the log at `path`: what a previous service left in it is applied
    /// to the journals first (a power loss may have left them behind it), the
    /// journals' file systems are flushed (a crash of the service alone leaves
    /// their lines in the page cache, where the log was their only durable
    /// copy), then it is emptied, and its writer thread started.
    pub fn open(path: &Path) -> std::io::Result<CommitLog> {
        let parent = path.parent().unwrap_or(Path::new("."));
        private_files::create_dir_all(parent)?;
        let entries = read_entries(path)?;
        let roots: HashSet<PathBuf> = entries
            .iter()
            .filter_map(|entry| entry.dir.parent().map(Path::to_path_buf))
            .collect();
        apply_entries(entries)?;
        flush_roots(&roots)?;
        let file = private_files::create(path)?;
        file.sync_all()?;
        private_files::sync_dir(parent)?;
        let file = private_files::append(path)?;
        let (queue, requests) = mpsc::channel(QUEUE);
        let stats = Arc::new(CommitStats::default());
        let writer = Writer {
            file,
            path: path.to_path_buf(),
            stats: Arc::clone(&stats),
            written: 0,
            roots: HashSet::new(),
        };
        std::thread::Builder::new()
            .name("commit-log".into())
            .spawn(move || writer.run(requests))?;
        Ok(CommitLog {
            path: path.to_path_buf(),
            queue,
            stats,
        })
    }

    /// The log's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the log has done.
    pub fn stats(&self) -> Arc<CommitStats> {
        Arc::clone(&self.stats)
    }

    /// Makes `record` (from [`record`]) durable, with whatever else is waiting.
    pub async fn commit(&self, record: Vec<u8>, dir: &Path) -> Result<(), CommitError> {
        let root = dir.parent().unwrap_or(dir).to_path_buf();
        self.request(Durable::Record {
            bytes: record,
            root,
        })
        .await
    }

    /// Makes what was written to `file` so far durable, with the next batch:
    /// appends to one file waiting together share one sync.
    pub async fn sync_with(&self, file: Arc<File>) -> Result<(), CommitError> {
        self.request(Durable::File(file)).await
    }

    async fn request(&self, what: Durable) -> Result<(), CommitError> {
        let (done, answer) = oneshot::channel();
        self.queue
            .send(Request { what, done })
            .await
            .map_err(|_| CommitError::Stopped)?;
        answer
            .await
            .map_err(|_| CommitError::Stopped)?
            .map_err(|message| CommitError::Failed {
                path: self.path.clone(),
                message,
            })
    }
}

/// The record of run `dir`'s journal line `line` (with its newline), saved
/// at `ts` in the journal extending the snapshot stamped `base`.
pub fn record(dir: &Path, base: &str, ts: &str, line: &str) -> Vec<u8> {
    let entry = Entry {
        dir: dir.to_path_buf(),
        base: base.to_string(),
        ts: ts.to_string(),
        line: line.trim_end_matches('\n').to_string(),
    };
    // Paths and strings always serialize.
    let mut bytes = serde_json::to_vec(&entry).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// The thread writing the log.
struct Writer {
    file: File,
    path: PathBuf,
    stats: Arc<CommitStats>,
    /// Bytes in the log.
    written: u64,
    /// The directories holding the runs whose records are in the log.
    roots: HashSet<PathBuf>,
}

impl Writer {
    fn run(mut self, mut requests: mpsc::Receiver<Request>) {
        while let Some(first) = requests.blocking_recv() {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match requests.try_recv() {
                    Ok(request) => batch.push(request),
                    Err(_) => break,
                }
            }
            self.commit(batch);
        }
    }

    /// Writes and syncs `batch` (and syncs each other file it names once),
    /// answers each of its requests, and empties the log when it is full.
    fn commit(&mut self, batch: Vec<Request>) {
        let mut saves = Vec::new();
        let mut files = Vec::new();
        for Request { what, done } in batch {
            match what {
                Durable::Record { bytes, root } => saves.push((bytes, root, done)),
                Durable::File(file) => files.push((file, done)),
            }
        }
        if !saves.is_empty() {
            let bytes: Vec<u8> = saves
                .iter()
                .flat_map(|(bytes, ..)| bytes.iter().copied())
                .collect();
            let result = self.write_records(&bytes, saves.len());
            // Answered at once: a save does not wait for the other files'
            // syncs.
            for (_, root, done) in saves {
                if result.is_ok() && !self.roots.contains(&root) {
                    self.roots.insert(root);
                }
                let _ = done.send(result.clone());
            }
        }
        // Each file once, however many requests name it.
        let mut synced: Vec<(Arc<File>, Result<(), String>)> = Vec::new();
        for (file, done) in files {
            let answer = match synced.iter().find(|(seen, _)| Arc::ptr_eq(seen, &file)) {
                Some((_, result)) => result.clone(),
                None => {
                    let result = file.sync_data().map_err(|e| e.to_string());
                    self.stats.file_syncs.fetch_add(1, Ordering::Relaxed);
                    synced.push((file, result.clone()));
                    result
                }
            };
            let _ = done.send(answer);
        }
        if self.written >= MAX_LOG_BYTES {
            match self.empty() {
                Ok(()) => {
                    self.stats.emptied.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    // It grows on; the next batch tries again.
                    tracing::warn!(path = %self.path.display(), error = %e, "cannot empty the commit log");
                }
            }
        }
    }

    /// Appends `bytes`, `records` records, to the log and syncs it.
    fn write_records(&mut self, bytes: &[u8], records: usize) -> Result<(), String> {
        let result = self
            .file
            .write_all(bytes)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| e.to_string());
        self.stats.syncs.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok(()) => {
                self.written += bytes.len() as u64;
                self.stats
                    .records
                    .fetch_add(records as u64, Ordering::Relaxed);
            }
            Err(_) => {
                // A batch written in part would glue its torn end to the next
                // batch's first record: cut it off (its saves all fail).
                let _ = self.file.set_len(self.written);
            }
        }
        result
    }

    /// Flushes the file systems of every journal the log has records for,
    /// then empties it.
    fn empty(&mut self) -> std::io::Result<()> {
        flush_roots(&self.roots)?;
        self.file.set_len(0)?;
        self.file.sync_all()?;
        self.written = 0;
        self.roots.clear();
        Ok(())
    }
}

/// Syncs the file system of each of `roots` (`syncfs`); one gone has nothing
/// to lose.
fn flush_roots(roots: &HashSet<PathBuf>) -> std::io::Result<()> {
    for root in roots {
        match File::open(root) {
            Ok(dir) => nix::unistd::syncfs(&dir).map_err(std::io::Error::from)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Appends to each run's journal the lines the log at `log` holds for it and
/// the journal lacks — to run `only`'s alone, when given — and syncs every
/// journal it changed; returns how many lines it appended. A log that is not
/// there holds nothing.
pub fn apply(log: &Path, only: Option<&Path>) -> std::io::Result<usize> {
    let mut entries = read_entries(log)?;
    if let Some(dir) = only {
        entries.retain(|entry| entry.dir == dir);
    }
    apply_entries(entries)
}

/// The whole records of the log at `log`, in order (none if it is not there).
fn read_entries(log: &Path) -> std::io::Result<Vec<Entry>> {
    let text = match private_files::read_to_string(log) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut entries = Vec::new();
    for line in text.split_inclusive('\n') {
        if !line.ends_with('\n') {
            // Torn by a crash: its save never returned.
            break;
        }
        match serde_json::from_str::<Entry>(line) {
            Ok(entry) => entries.push(entry),
            Err(_) => {
                tracing::warn!(path = %log.display(), "unreadable commit log record; skipped");
            }
        }
    }
    Ok(entries)
}

/// Brings each run's journal up to its `entries`; returns how many lines it
/// appended.
fn apply_entries(entries: Vec<Entry>) -> std::io::Result<usize> {
    let mut order: Vec<PathBuf> = Vec::new();
    let mut by_dir: HashMap<PathBuf, Vec<Entry>> = HashMap::new();
    for entry in entries {
        if !by_dir.contains_key(&entry.dir) {
            order.push(entry.dir.clone());
        }
        by_dir.entry(entry.dir.clone()).or_default().push(entry);
    }
    let mut appended = 0;
    for dir in order {
        if let Some(entries) = by_dir.get(&dir) {
            appended += catch_up(&dir, entries)?;
        }
    }
    Ok(appended)
}

/// Applies the commit log named in run directory `dir` (if it names one) to
/// its journal; see [`apply`].
pub fn apply_named(dir: &Path) -> std::io::Result<usize> {
    let named = match private_files::read_to_string(&dir.join(MARKER_FILE)) {
        Ok(text) => PathBuf::from(text.trim_end_matches('\n')),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    apply(&named, Some(dir))
}

/// What a journal line says of itself.
#[derive(Deserialize)]
struct Stamp {
    #[serde(default)]
    base: Option<String>,
    #[serde(default)]
    ts: Option<String>,
}

/// Appends to `dir`'s journal the `entries` it lacks: those extending the
/// snapshot its header names and saved at a time none of its lines has. What
/// follows its last whole, readable line (a power loss may leave a torn line
/// or zeros) is cut off first.
fn catch_up(dir: &Path, entries: &[Entry]) -> std::io::Result<usize> {
    let path = dir.join(JOURNAL_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        // The run is gone, or was never written: nothing to bring up.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut whole = 0;
    let mut base = None;
    let mut saved = HashSet::new();
    for line in bytes.split_inclusive(|b| *b == b'\n') {
        let stamp = line
            .ends_with(b"\n")
            .then(|| serde_json::from_slice::<Stamp>(line).ok())
            .flatten();
        match (stamp, &base) {
            (Some(Stamp { base: Some(b), .. }), None) => base = Some(b),
            (Some(Stamp { ts: Some(ts), .. }), Some(_)) => {
                saved.insert(ts);
            }
            _ => break,
        }
        whole += line.len();
    }
    let Some(base) = base else {
        return Ok(0);
    };
    let missing: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.base == base && !saved.contains(&e.ts))
        .collect();
    if missing.is_empty() {
        return Ok(0);
    }
    let mut journal = OpenOptions::new().write(true).open(&path)?;
    journal.set_len(whole as u64)?;
    let mut tail = Vec::new();
    for entry in &missing {
        tail.extend_from_slice(entry.line.as_bytes());
        tail.push(b'\n');
    }
    std::io::Seek::seek(&mut journal, std::io::SeekFrom::Start(whole as u64))?;
    journal.write_all(&tail)?;
    journal.sync_all()?;
    tracing::info!(dir = %dir.display(), lines = missing.len(), "journal brought up to the commit log");
    Ok(missing.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracker_runtime::journal::{header_line, record_line, Change};

    fn line(ts: &str, node: &str) -> String {
        record_line(
            ts,
            &[Change::Completed {
                node: node.to_string(),
            }],
        )
    }

    #[test]
    fn a_journal_behind_its_log_gets_the_lines_it_lacks_and_loses_its_torn_tail() {
        let dir = tempfile::tempdir().expect("tempdir");
        let run = dir.path().join("run");
        std::fs::create_dir(&run).expect("run dir");
        let lines: Vec<String> = (1..=4)
            .map(|n| line(&format!("t{n}"), &format!("N{n}")))
            .collect();
        // A power loss kept the first save and half of the second (and
        // zeros where the file had grown).
        let mut journal = header_line("t0").into_bytes();
        journal.extend(lines[0].as_bytes());
        journal.extend(&lines[1].as_bytes()[..10]);
        journal.extend([0u8; 16]);
        std::fs::write(run.join(JOURNAL_FILE), &journal).expect("journal");
        let log = dir.path().join("commits.log");
        let mut text = Vec::new();
        for (n, l) in lines.iter().enumerate() {
            text.extend(record(&run, "t0", &format!("t{}", n + 1), l));
        }
        // A record of an older journal (the snapshot moved on since).
        text.extend(record(&run, "old", "t9", &line("t9", "X")));
        std::fs::write(&log, &text).expect("log");

        assert_eq!(apply(&log, None).expect("apply"), 3);
        let expected = format!("{}{}", header_line("t0"), lines.concat());
        assert_eq!(
            std::fs::read_to_string(run.join(JOURNAL_FILE)).expect("journal"),
            expected
        );
        // Applied again, or through the run's marker: nothing more.
        std::fs::write(run.join(MARKER_FILE), log.to_string_lossy().as_bytes()).expect("marker");
        assert_eq!(apply_named(&run).expect("apply again"), 0);
    }

    #[test]
    fn records_for_other_runs_are_left_alone_when_one_run_is_asked_for() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        for run in [&a, &b] {
            std::fs::create_dir(run).expect("run dir");
            std::fs::write(run.join(JOURNAL_FILE), header_line("t0")).expect("journal");
        }
        let log = dir.path().join("commits.log");
        let mut text = record(&a, "t0", "t1", &line("t1", "A"));
        text.extend(record(&b, "t0", "t1", &line("t1", "B")));
        std::fs::write(&log, &text).expect("log");
        assert_eq!(apply(&log, Some(&b)).expect("apply"), 1);
        assert_eq!(
            std::fs::read_to_string(a.join(JOURNAL_FILE)).expect("a"),
            header_line("t0")
        );
        assert!(std::fs::read_to_string(b.join(JOURNAL_FILE))
            .expect("b")
            .ends_with(&line("t1", "B")));
    }

    /// A writer of the log `commits.log` in `dir`, not yet running.
    fn writer(dir: &Path) -> (Writer, Arc<CommitStats>, PathBuf) {
        let path = dir.join("commits.log");
        let file = private_files::append(&path).expect("log");
        let stats = Arc::new(CommitStats::default());
        let writer = Writer {
            file,
            path: path.clone(),
            stats: Arc::clone(&stats),
            written: 0,
            roots: HashSet::new(),
        };
        (writer, stats, path)
    }

    /// Queues `requests` before `writer` looks, runs it until they are all
    /// answered, and returns the answers in order.
    fn answers(writer: Writer, requests: Vec<Durable>) -> Vec<Result<(), String>> {
        let (queue, waiting) = mpsc::channel(QUEUE);
        let mut answers = Vec::new();
        for what in requests {
            let (done, answer) = oneshot::channel();
            queue.try_send(Request { what, done }).expect("queued");
            answers.push(answer);
        }
        drop(queue);
        writer.run(waiting);
        answers
            .into_iter()
            .map(|answer| answer.blocking_recv().expect("answered"))
            .collect()
    }

    /// A record of a save at `ts` of a run in `dir`.
    fn save(dir: &Path, ts: &str) -> Durable {
        Durable::Record {
            bytes: record(dir, "t0", ts, &line(ts, "N")),
            root: dir.to_path_buf(),
        }
    }

    #[test]
    fn records_waiting_together_share_one_sync() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (writer, stats, path) = writer(dir.path());
        // Fifty saves queued before the writer looks: one batch, one sync.
        let saves = (0..50)
            .map(|n| save(dir.path(), &format!("t{n}")))
            .collect();
        assert!(answers(writer, saves).iter().all(Result::is_ok));
        assert_eq!(stats.syncs.load(Ordering::Relaxed), 1);
        assert_eq!(stats.records.load(Ordering::Relaxed), 50);
        let text = std::fs::read_to_string(&path).expect("log");
        assert_eq!(text.lines().count(), 50);
    }

    #[test]
    fn other_files_waiting_are_synced_once_each_with_the_batch() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (writer, stats, path) = writer(dir.path());
        let open =
            |name: &str| Arc::new(private_files::append(&dir.path().join(name)).expect("file"));
        let (records_file, other) = (open("runs.log"), open("other.log"));
        let requests = (0..30)
            .map(|n| match n % 3 {
                0 => save(dir.path(), &format!("t{n}")),
                1 => Durable::File(Arc::clone(&records_file)),
                _ => Durable::File(Arc::clone(&other)),
            })
            .collect();
        assert!(answers(writer, requests).iter().all(Result::is_ok));
        // One sync of the log for its ten records, one of each other file.
        assert_eq!(stats.syncs.load(Ordering::Relaxed), 1);
        assert_eq!(stats.records.load(Ordering::Relaxed), 10);
        assert_eq!(stats.file_syncs.load(Ordering::Relaxed), 2);
        let text = std::fs::read_to_string(&path).expect("log");
        assert_eq!(text.lines().count(), 10);
    }

    #[test]
    fn a_batch_of_file_syncs_alone_leaves_the_log_untouched() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (writer, stats, path) = writer(dir.path());
        let records_file = private_files::append(&dir.path().join("runs.log")).expect("file");
        let requests = vec![Durable::File(Arc::new(records_file))];
        assert_eq!(answers(writer, requests), [Ok(())]);
        assert_eq!(stats.syncs.load(Ordering::Relaxed), 0);
        assert_eq!(stats.file_syncs.load(Ordering::Relaxed), 1);
        assert_eq!(std::fs::metadata(&path).expect("log").len(), 0);
    }
}
