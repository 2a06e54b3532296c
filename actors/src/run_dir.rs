//! The run directory: where a run keeps its checkpoint, its workflow copy, its
//! node files and a copy of its activity log. [`RunDir`] creates one, finds
//! one by id prefix and reopens one to resume, always under the run's lock, so
//! that no two processes drive one run (ADR 0005).
//!
//! Creating a run writes, in this order and under the lock: the workflow's
//! copy, the original pipeline's directory (`workflow.base`), then the first
//! checkpoint. A failure on the way removes the directory: nothing half-made
//! is left for `-r` to find.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tracker_runtime::checkpoint::Checkpoint;
use tracker_runtime::clock::WallTime;
use tracker_runtime::private_files;

use crate::commit_log::{self, CommitLog};
use crate::run_lock::RunLock;
use crate::store::{self, Durability, RunStore};

/// The file a run directory keeps its workflow's source in.
pub const WORKFLOW_COPY: &str = "workflow.dip";
/// The same, for a legacy Graphviz pipeline (the reader goes by extension).
pub const WORKFLOW_COPY_DOT: &str = "workflow.dot";
/// The file a run directory keeps its pipeline's original directory in, so
/// that `-r` without the pipeline argument resolves the copy's file directives
/// (`prompt_file`, subgraphs) where the original did.
pub const WORKFLOW_BASE: &str = "workflow.base";

/// Why a run directory could not be created, found or reopened. The messages
/// are complete sentences (no field is a `source`), so that an error chain
/// prints each once.
#[derive(Debug, thiserror::Error)]
pub enum RunDirError {
    /// A run id that could not name a directory.
    #[error("invalid run id {0:?}")]
    InvalidId(String),
    /// The directory of runs cannot be read.
    #[error("no runs to resume in {}: {error}", root.display())]
    NoRuns {
        /// The directory of runs.
        root: PathBuf,
        /// Why it cannot be read.
        error: std::io::Error,
    },
    /// No run's id starts with the prefix.
    #[error("no run matches {prefix:?} in {}", root.display())]
    NoMatch {
        /// The directory of runs.
        root: PathBuf,
        /// The prefix.
        prefix: String,
    },
    /// The run's directory is there, but it has no checkpoint to resume
    /// from (stopped before its first save, or the file was removed).
    #[error("run {} has no {} to resume from (stopped before its first save, or the file is gone): {}", dir.file_name().unwrap_or_default().to_string_lossy(), store::CHECKPOINT_FILE, dir.display())]
    NoCheckpoint {
        /// The run's directory.
        dir: PathBuf,
    },
    /// Several runs' ids start with the prefix.
    #[error("run id {prefix:?} is ambiguous: it matches {}", matches.join(", "))]
    Ambiguous {
        /// The prefix.
        prefix: String,
        /// The matching ids, sorted.
        matches: Vec<String>,
    },
    /// The directory of runs cannot be created.
    #[error("cannot create the artifact directory {}: {error}", root.display())]
    CreateRoot {
        /// The directory of runs.
        root: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// A run's directory cannot be created.
    #[error("cannot create the run directory {}: {error}", dir.display())]
    CreateDir {
        /// The run's directory.
        dir: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// A run's directory cannot be written (its lock, workflow copy or
    /// checkpoint).
    #[error("cannot write the run directory {}: {error}", dir.display())]
    Write {
        /// The run's directory.
        dir: PathBuf,
        /// What failed.
        error: String,
        /// The system's error number, when the system refused.
        os_error: Option<i32>,
    },
    /// The run is held by another process (or another owner in this one).
    #[error("cannot resume: {0}")]
    Held(crate::run_lock::LockError),
    /// The run cannot be reopened: its checkpoint cannot be read.
    #[error("cannot resume: {0}")]
    Resume(String),
    /// The directory's name is not a run id.
    #[error("cannot resume: {} is not a run directory", .0.display())]
    NotARunDir(PathBuf),
    /// The checkpoint names another run than its directory.
    #[error(
        "cannot resume: {}: run_id {found:?} does not match the run directory's name {name:?}",
        checkpoint.display()
    )]
    IdMismatch {
        /// The checkpoint file.
        checkpoint: PathBuf,
        /// The id it records.
        found: String,
        /// The directory's name.
        name: String,
    },
    /// The workflow copy is not the regular file tracker wrote.
    #[error(
        "cannot resume: {} is not the regular file tracker wrote; give the pipeline as an argument",
        .0.display()
    )]
    PlantedCopy(PathBuf),
}

impl RunDirError {
    /// Whether the process (or the system) ran out of open files: a passing
    /// condition, unlike the others.
    pub fn out_of_files(&self) -> bool {
        match self {
            RunDirError::Write {
                os_error: Some(code),
                ..
            } => private_files::out_of_files(&std::io::Error::from_raw_os_error(*code)),
            RunDirError::CreateDir { error, .. } | RunDirError::CreateRoot { error, .. } => {
                private_files::out_of_files(error)
            }
            _ => false,
        }
    }
}

/// A fresh run id: 12 lowercase hex digits, as the reference makes them.
pub fn new_run_id() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    // `RandomState` is seeded from the OS's randomness; hashing the clock with
    // it gives unpredictable bits without another dependency.
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.write_u32(std::process::id());
    format!("{:012x}", hasher.finish() & 0xffff_ffff_ffff)
}

/// Whether `id` can name a run: a non-empty file name of letters, digits, `-`
/// and `_` (the reference makes 12 hex digits; older or hand-made runs may
/// differ), so it never leaves the directory it is joined to.
pub fn is_valid_run_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Where runs live by default: `<workdir>/.tracker/runs`.
pub fn default_root(workdir: &Path) -> PathBuf {
    workdir.join(".tracker").join("runs")
}

/// The run directory under `root` whose name starts with `prefix` (an exact
/// match wins). Only directories holding a checkpoint count.
pub fn find(root: &Path, prefix: &str) -> Result<PathBuf, RunDirError> {
    if prefix.is_empty() || prefix.contains(['/', '\\']) || prefix == "." || prefix == ".." {
        return Err(RunDirError::InvalidId(prefix.to_string()));
    }
    let entries = std::fs::read_dir(root).map_err(|error| RunDirError::NoRuns {
        root: root.to_path_buf(),
        error,
    })?;
    let mut matches: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().join(store::CHECKPOINT_FILE).is_file())
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .filter(|name| name.starts_with(prefix))
        .collect();
    matches.sort();
    if matches.iter().any(|m| m == prefix) {
        return Ok(root.join(prefix));
    }
    match matches.len() {
        // A directory by that name without its checkpoint is said to be so,
        // not to be missing.
        0 if root.join(prefix).is_dir() && is_valid_run_id(prefix) => {
            Err(RunDirError::NoCheckpoint {
                dir: root.join(prefix),
            })
        }
        0 => Err(RunDirError::NoMatch {
            root: root.to_path_buf(),
            prefix: prefix.to_string(),
        }),
        1 => Ok(root.join(&matches[0])),
        _ => Err(RunDirError::Ambiguous {
            prefix: prefix.to_string(),
            matches,
        }),
    }
}

/// The workflow copy in run directory `dir`.
pub fn workflow_copy(dir: &Path) -> PathBuf {
    let dot = dir.join(WORKFLOW_COPY_DOT);
    if dot.is_file() {
        dot
    } else {
        dir.join(WORKFLOW_COPY)
    }
}

/// The workflow a run resumed without its pipeline argument reloads: its copy,
/// and the original pipeline's directory when recorded and still there. The
/// copy must be the regular file tracker wrote; anything else in its place (a
/// link to a device, a FIFO) was planted.
pub fn resumable_workflow(dir: &Path) -> Result<(PathBuf, Option<PathBuf>), RunDirError> {
    let copy = workflow_copy(dir);
    if !std::fs::symlink_metadata(&copy).is_ok_and(|m| m.is_file()) {
        return Err(RunDirError::PlantedCopy(copy));
    }
    Ok((copy, recorded_base(dir)))
}

/// The original pipeline's directory recorded in run directory `dir`, if it
/// is recorded and still a directory.
fn recorded_base(dir: &Path) -> Option<PathBuf> {
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut private_files::open(&dir.join(WORKFLOW_BASE)).ok()?,
        &mut bytes,
    )
    .ok()?;
    let base = PathBuf::from(std::ffi::OsStr::from_bytes(&bytes));
    (base.is_absolute() && base.is_dir()).then_some(base)
}

/// The workflow a new run keeps a copy of.
#[derive(Clone, Copy, Debug)]
pub struct WorkflowCopy<'a> {
    /// Its source text.
    pub text: &'a str,
    /// Whether it is a legacy Graphviz pipeline.
    pub dot: bool,
    /// The original pipeline's directory, for its file directives.
    pub base: Option<&'a Path>,
}

/// A run's directory, locked, with its checkpoint store open. Dropping it
/// releases the lock.
#[derive(Debug)]
pub struct RunDir {
    id: String,
    path: PathBuf,
    store: RunStore,
    resume_from: Option<Checkpoint>,
    lock: RunLock,
    /// A new durable run's files not synced yet.
    pending_sync: Option<PendingSync>,
}

/// A new run directory's lock, store, and what it still needs synced.
type Populated = (RunLock, RunStore, Option<PendingSync>);

/// What a new durable run directory still needs synced before its run may
/// start (see [`RunDir::create_committed`]).
#[derive(Debug)]
pub struct PendingSync {
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
}

impl PendingSync {
    /// Syncs the files, all at once, then the directory and its parent.
    pub fn run(self) -> std::io::Result<()> {
        let files = self
            .files
            .iter()
            .map(|path| private_files::open(path))
            .collect::<std::io::Result<Vec<_>>>()?;
        private_files::sync_together(&files)?;
        let dirs: Vec<&Path> = self.dirs.iter().map(PathBuf::as_path).collect();
        private_files::sync_dirs(&dirs)
    }
}

/// A [`RunDir`] taken apart for a launch.
pub(crate) struct RunDirParts {
    pub(crate) id: String,
    pub(crate) path: PathBuf,
    pub(crate) store: RunStore,
    pub(crate) resume_from: Option<Checkpoint>,
    pub(crate) lock: RunLock,
}

impl RunDir {
    /// Creates a new run's directory under `root`: its workflow copy and its
    /// first checkpoint. On failure, nothing is left behind.
    pub fn create(
        root: &Path,
        workflow: WorkflowCopy<'_>,
        now: WallTime,
        durability: Durability,
    ) -> Result<RunDir, RunDirError> {
        RunDir::create_committed(root, workflow, now, durability, None, false)
    }

    /// [`RunDir::create`], with the run's durable saves committed through
    /// `commit_log` (a service's, shared by its runs), which the directory
    /// names for whoever resumes the run. With `sync_later`, a durable run's
    /// new files are not synced yet: [`RunDir::take_pending_sync`] says what
    /// to sync before the run starts (its caller can make the run again until
    /// then).
    pub fn create_committed(
        root: &Path,
        workflow: WorkflowCopy<'_>,
        now: WallTime,
        durability: Durability,
        commit_log: Option<&Arc<CommitLog>>,
        sync_later: bool,
    ) -> Result<RunDir, RunDirError> {
        private_files::create_dir_all(root).map_err(|error| RunDirError::CreateRoot {
            root: root.to_path_buf(),
            error,
        })?;
        let (id, path) = loop {
            let id = new_run_id();
            let dir = root.join(&id);
            match private_files::create_dir(&dir) {
                Ok(()) => break (id, dir),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(error) => return Err(RunDirError::CreateDir { dir, error }),
            }
        };
        RunDir::populate(id, path, workflow, now, durability, commit_log, sync_later)
    }

    /// Writes `workflow` again as the copy (and base) of the run in `dir`
    /// where what is there differs from it — missing, or cut short by a power
    /// loss that came before the directory was synced; synced. Returns
    /// whether anything was written.
    pub fn restore_copy(dir: &Path, workflow: WorkflowCopy<'_>) -> std::io::Result<bool> {
        let files = workflow_files(dir, &workflow);
        let stale: Vec<(&Path, &[u8])> = files
            .iter()
            .filter(|(path, bytes)| std::fs::read(path).ok().as_deref() != Some(*bytes))
            .map(|(path, bytes)| (path.as_path(), *bytes))
            .collect();
        if stale.is_empty() {
            return Ok(false);
        }
        Durability::Sync.replace_all(&stale)?;
        Durability::Sync.sync_dir(dir)?;
        Ok(true)
    }

    /// Makes run directory `dir` again, from nothing, with the same id: for a
    /// run that was accepted but whose directory a power loss took before it
    /// was synced (it had not started). Whatever is there is removed first.
    pub fn recreate(
        dir: &Path,
        workflow: WorkflowCopy<'_>,
        now: WallTime,
        durability: Durability,
        commit_log: Option<&Arc<CommitLog>>,
    ) -> Result<RunDir, RunDirError> {
        let id = id_of(dir)?;
        match std::fs::remove_dir_all(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(RunDirError::CreateDir {
                    dir: dir.to_path_buf(),
                    error,
                })
            }
        }
        if let Some(root) = dir.parent() {
            private_files::create_dir_all(root).map_err(|error| RunDirError::CreateRoot {
                root: root.to_path_buf(),
                error,
            })?;
        }
        private_files::create_dir(dir).map_err(|error| RunDirError::CreateDir {
            dir: dir.to_path_buf(),
            error,
        })?;
        RunDir::populate(
            id,
            dir.to_path_buf(),
            workflow,
            now,
            durability,
            commit_log,
            false,
        )
    }

    /// Fills the new, empty directory `path` of run `id`.
    fn populate(
        id: String,
        path: PathBuf,
        workflow: WorkflowCopy<'_>,
        now: WallTime,
        durability: Durability,
        commit_log: Option<&Arc<CommitLog>>,
        sync_later: bool,
    ) -> Result<RunDir, RunDirError> {
        let commit_log = commit_log.filter(|_| durability == Durability::Sync);
        let sync_later = sync_later && durability == Durability::Sync;
        let io = |e: std::io::Error| (e.to_string(), e.raw_os_error());
        let setup = || -> Result<Populated, (String, Option<i32>)> {
            let lock = RunLock::acquire(&path).map_err(|e| {
                let os_error = match &e {
                    crate::run_lock::LockError::Io { source, .. } => source.raw_os_error(),
                    _ => None,
                };
                (e.to_string(), os_error)
            })?;
            let copies = workflow_files(&path, &workflow);
            let mut beside: Vec<(&Path, &[u8])> = copies
                .iter()
                .map(|(file, bytes)| (file.as_path(), *bytes))
                .collect();
            let marker =
                commit_log.map(|log| (path.join(commit_log::MARKER_FILE), marker_text(log.path())));
            if let Some((marker_path, text)) = &marker {
                beside.push((marker_path.as_path(), text.as_bytes()));
            }
            // The pipeline's copy is what a resume reads: synced with the
            // first checkpoint, and the new directory's name in `root` too,
            // so that a durable run is never a record pointing at nothing.
            let mut store = RunStore::create_in_new_dir(
                &path,
                &beside,
                Checkpoint::new(id.clone()),
                now,
                durability,
                !sync_later,
            )
            .map_err(io)?;
            if let Some(log) = commit_log {
                store.commit_through(Arc::clone(log));
            }
            let pending = sync_later.then(|| {
                let mut files: Vec<PathBuf> = beside.iter().map(|(p, _)| p.to_path_buf()).collect();
                files.push(path.join(store::JOURNAL_FILE));
                files.push(path.join(store::CHECKPOINT_FILE));
                let root = path.parent().unwrap_or(&path).to_path_buf();
                PendingSync {
                    files,
                    dirs: vec![path.clone(), root],
                }
            });
            Ok((lock, store, pending))
        };
        match setup() {
            Ok((lock, store, pending_sync)) => Ok(RunDir {
                id,
                path,
                store,
                resume_from: None,
                lock,
                pending_sync,
            }),
            Err((error, os_error)) => {
                let _ = std::fs::remove_dir_all(&path);
                Err(RunDirError::Write {
                    dir: path,
                    error,
                    os_error,
                })
            }
        }
    }

    /// Reopens the run in `dir` at its last saved state.
    ///
    /// The run's id is its directory's name. A `run_id` in `checkpoint.json`
    /// that says otherwise is refused rather than used: it becomes a path and
    /// `TRACKER_RUN_ID`.
    pub fn resume(
        dir: &Path,
        now: WallTime,
        durability: Durability,
    ) -> Result<RunDir, RunDirError> {
        // Locked before anything is read: a run still going in another
        // process must not be driven by two.
        let lock = RunLock::acquire(dir).map_err(RunDirError::Held)?;
        // Saves a power loss kept from the journal, but not from the commit
        // log they went through, go back in first.
        commit_log::apply_named(dir).map_err(|e| {
            RunDirError::Resume(format!("bringing the journal up to its commit log: {e}"))
        })?;
        let mut checkpoint = store::load(dir).map_err(|e| RunDirError::Resume(e.to_string()))?;
        let id = id_of(dir)?;
        if checkpoint.run_id.is_empty() {
            checkpoint.run_id.clone_from(&id);
        } else if checkpoint.run_id != id {
            return Err(RunDirError::IdMismatch {
                checkpoint: dir.join(store::CHECKPOINT_FILE),
                found: checkpoint.run_id,
                name: id,
            });
        }
        let store =
            RunStore::continue_from(dir, checkpoint.clone(), now, durability).map_err(|e| {
                RunDirError::Write {
                    dir: dir.to_path_buf(),
                    error: e.to_string(),
                    os_error: e.raw_os_error(),
                }
            })?;
        Ok(RunDir {
            id,
            path: dir.to_path_buf(),
            store,
            resume_from: Some(checkpoint),
            pending_sync: None,
            lock,
        })
    }

    /// Makes the run's workflow copy (and its recorded base) `workflow`, the
    /// pipeline a resume was given, when it differs from the copy: the copy
    /// is what `tracker -r ID` alone runs next, and must be what the run goes
    /// on with, not what it started with. Whether it changed.
    pub fn update_workflow(&self, workflow: &WorkflowCopy<'_>) -> Result<bool, RunDirError> {
        let write = |e: std::io::Error| RunDirError::Write {
            dir: self.path.clone(),
            error: e.to_string(),
            os_error: e.raw_os_error(),
        };
        let files = workflow_files(&self.path, workflow);
        let unchanged = files
            .iter()
            .all(|(path, bytes)| private_files::read(path).is_ok_and(|old| old == *bytes));
        let other = self.path.join(if workflow.dot {
            WORKFLOW_COPY
        } else {
            WORKFLOW_COPY_DOT
        });
        if unchanged && !other.exists() {
            return Ok(false);
        }
        let durability = self.store.durability();
        let named: Vec<(&Path, &[u8])> = files.iter().map(|(p, b)| (p.as_path(), *b)).collect();
        private_files::replace_all(&named, durability == Durability::Sync).map_err(write)?;
        if workflow.base.is_none() {
            // The given pipeline has no directory of its own (a built-in).
            remove_if_there(&self.path.join(WORKFLOW_BASE)).map_err(write)?;
        }
        // A copy of the other kind (`.dot` for `.dip`) would be read first.
        remove_if_there(&other).map_err(write)?;
        durability.sync_dir(&self.path).map_err(write)?;
        Ok(true)
    }

    /// The node a reopened run resumes at (empty: its start), if it is one.
    pub fn resumes_at(&self) -> Option<&str> {
        self.resume_from.as_ref().map(|cp| cp.current_node.as_str())
    }

    /// The run's id (its directory's name).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this reopens a run (rather than starting one).
    pub fn is_resumed(&self) -> bool {
        self.resume_from.is_some()
    }

    /// The checkpoint store's counters (saves, fsyncs, bytes), live.
    pub fn store_stats(&self) -> std::sync::Arc<store::StoreStats> {
        self.store.stats()
    }

    /// Has the run sync its saves on its own thread rather than hand each to
    /// the blocking pool: for a process whose thread hosts this run alone,
    /// where the hand-off costs more than the thread could do meanwhile.
    pub fn sync_on_run_thread(&mut self) {
        self.store.sync_on_run_thread();
    }

    /// Has the run's durable saves committed through `log` from now on (a
    /// run resumed by a service); the directory is made to name it, synced.
    pub fn commit_through(&mut self, log: &Arc<CommitLog>) -> std::io::Result<()> {
        if self.store.durability() != Durability::Sync {
            return Ok(());
        }
        let marker = self.path.join(commit_log::MARKER_FILE);
        let text = marker_text(log.path());
        if private_files::read_to_string(&marker).ok().as_deref() != Some(text.as_str()) {
            Durability::Sync.replace(&marker, text.as_bytes())?;
            Durability::Sync.sync_dir(&self.path)?;
        }
        self.store.commit_through(Arc::clone(log));
        Ok(())
    }

    /// What the run's new files still need synced before it starts, if
    /// anything (taken: the caller syncs them).
    pub fn take_pending_sync(&mut self) -> Option<PendingSync> {
        self.pending_sync.take()
    }

    /// Removes a run that never started: its lock is released and its
    /// directory deleted (several runs are created all or none).
    pub fn discard(self) {
        let path = self.path.clone();
        drop(self);
        let _ = std::fs::remove_dir_all(path);
    }

    pub(crate) fn into_parts(self) -> RunDirParts {
        RunDirParts {
            id: self.id,
            path: self.path,
            store: self.store,
            resume_from: self.resume_from,
            lock: self.lock,
        }
    }
}

/// The files a run directory keeps of its pipeline (the copy, and the base
/// when there is one), and their contents.
fn workflow_files<'a>(dir: &Path, workflow: &WorkflowCopy<'a>) -> Vec<(PathBuf, &'a [u8])> {
    let copy = if workflow.dot {
        WORKFLOW_COPY_DOT
    } else {
        WORKFLOW_COPY
    };
    let mut files = vec![(dir.join(copy), workflow.text.as_bytes())];
    if let Some(base) = workflow.base {
        files.push((dir.join(WORKFLOW_BASE), base.as_os_str().as_bytes()));
    }
    files
}

/// Removes `path`, which may not be there.
fn remove_if_there(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// The id of the run in `dir`: the directory's name, if it is a run id.
fn id_of(dir: &Path) -> Result<String, RunDirError> {
    dir.file_name()
        .and_then(|n| n.to_str())
        .filter(|n| is_valid_run_id(n))
        .map(str::to_string)
        .ok_or_else(|| RunDirError::NotARunDir(dir.to_path_buf()))
}

/// What a run directory's [`commit_log::MARKER_FILE`] says: the log's path.
fn marker_text(log: &Path) -> String {
    format!("{}\n", log.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> WallTime {
        WallTime::utc(
            std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000),
        )
    }

    const WORKFLOW: WorkflowCopy<'static> = WorkflowCopy {
        text: "workflow W\n",
        dot: false,
        base: None,
    };

    #[test]
    fn only_plain_names_are_run_ids() {
        assert!(is_valid_run_id("a1b2c3d4e5f6"));
        assert!(is_valid_run_id("my-run_2"));
        for bad in ["", "..", "../../..", "/tmp/x", "a/b", "a b", "x\n"] {
            assert!(!is_valid_run_id(bad), "{bad:?}");
        }
        let (a, b) = (new_run_id(), new_run_id());
        assert_eq!(a.len(), 12);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
    }

    #[test]
    fn a_run_is_found_by_a_unique_prefix_and_an_exact_name_wins() {
        let root = tempfile::tempdir().expect("temp dir");
        for id in ["abc111111111", "abc222222222", "abc"] {
            let dir = root.path().join(id);
            std::fs::create_dir(&dir).expect("dir");
            std::fs::write(dir.join(store::CHECKPOINT_FILE), "{}").expect("checkpoint");
        }
        std::fs::create_dir(root.path().join("abd-no-checkpoint")).expect("dir");
        assert_eq!(
            find(root.path(), "abc").expect("exact"),
            root.path().join("abc")
        );
        assert_eq!(
            find(root.path(), "abc1").expect("unique"),
            root.path().join("abc111111111")
        );
        let ambiguous = find(root.path(), "ab").expect_err("ambiguous").to_string();
        assert!(
            ambiguous.contains("abc, abc111111111, abc222222222"),
            "{ambiguous}"
        );
        std::fs::create_dir(root.path().join("halfmade")).expect("dir");
        assert!(matches!(
            find(root.path(), "halfmade"),
            Err(RunDirError::NoCheckpoint { .. })
        ));
        assert!(matches!(
            find(root.path(), "abd"),
            Err(RunDirError::NoMatch { .. })
        ));
        assert!(matches!(
            find(root.path(), "../x"),
            Err(RunDirError::InvalidId(_))
        ));
    }

    #[test]
    fn a_created_run_holds_its_lock_until_dropped_and_reopens_as_itself() {
        let root = tempfile::tempdir().expect("temp dir");
        let run = RunDir::create(root.path(), WORKFLOW, now(), Durability::NoSync).expect("create");
        let path = run.path().to_path_buf();
        assert_eq!(path.file_name().and_then(|n| n.to_str()), Some(run.id()));
        assert_eq!(
            std::fs::read_to_string(workflow_copy(&path)).expect("copy"),
            "workflow W\n"
        );
        assert!(!run.is_resumed());
        let held = RunDir::resume(&path, now(), Durability::NoSync).expect_err("locked");
        assert!(matches!(held, RunDirError::Held(_)), "{held}");
        let id = run.id().to_string();
        drop(run);
        let again = RunDir::resume(&path, now(), Durability::NoSync).expect("resume");
        assert_eq!(again.id(), id);
        assert!(again.is_resumed());
    }

    #[test]
    fn a_failed_create_leaves_nothing_behind() {
        let root = tempfile::tempdir().expect("temp dir");
        let file = root.path().join("not-a-dir");
        std::fs::write(&file, "x").expect("file");
        let error = RunDir::create(&file, WORKFLOW, now(), Durability::NoSync)
            .expect_err("a file is no directory of runs");
        assert!(matches!(error, RunDirError::CreateRoot { .. }), "{error}");
    }
}
