//! A run's durable state on disk: `checkpoint.json` plus `checkpoint.journal`
//! (the format is [`tracker_runtime::journal`]'s).
//!
//! Every save appends one journal line and syncs it (`fdatasync`): one sync per
//! transition. When the journal outgrows the snapshot (four times over), the save
//! instead writes a new snapshot (temp file, `fsync`, rename) and a new journal,
//! then syncs the directory; that happens every so often, so the cost stays
//! proportional to what changed. `checkpoint.json` is only ever replaced by rename, so it parses
//! at every instant, and [`load`] always returns the last acknowledged state.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tracker_runtime::checkpoint::{Checkpoint, CheckpointError};
use tracker_runtime::clock::WallTime;
use tracker_runtime::journal::{self, Change, ReplayError};

use crate::commit_log::{self, CommitLog};
use tracker_runtime::private_files;

/// The snapshot file's name.
pub const CHECKPOINT_FILE: &str = "checkpoint.json";
pub use tracker_runtime::journal::JOURNAL_FILE;
/// The journal is folded into a new snapshot once it is this many times the
/// snapshot's size (and at least [`MIN_JOURNAL_BEFORE_COMPACTION`]): each save then
/// costs a constant share of a snapshot, and resuming replays a bounded journal.
const JOURNAL_TO_SNAPSHOT_RATIO: u64 = 4;
/// The smallest journal that is folded into a snapshot.
const MIN_JOURNAL_BEFORE_COMPACTION: u64 = 256 * 1024;

/// Whether writes are synced to the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Sync every save (the default): a save survives power loss.
    Sync,
    /// Never sync (benchmarks, tests that only need crash-of-process safety).
    NoSync,
}

impl Durability {
    /// Replaces `path` with `bytes` by rename (private, never through a link),
    /// the contents synced before the rename under [`Durability::Sync`].
    /// (Syncing the directory, to make the rename itself durable, is the
    /// caller's business.)
    pub fn replace(self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Durability::Sync => private_files::replace_synced(path, bytes),
            Durability::NoSync => private_files::replace(path, bytes),
        }
    }

    /// [`private_files::replace_all`]: each of `files` replaced by rename, in
    /// order, every new file synced (all at once) before the first rename under
    /// [`Durability::Sync`].
    pub fn replace_all(self, files: &[(&Path, &[u8])]) -> std::io::Result<()> {
        private_files::replace_all(files, self == Durability::Sync)
    }

    /// Syncs every directory of `dirs` (all at once) under
    /// [`Durability::Sync`]; nothing otherwise.
    pub fn sync_dirs(self, dirs: &[&Path]) -> std::io::Result<()> {
        match self {
            Durability::Sync => private_files::sync_dirs(dirs),
            Durability::NoSync => Ok(()),
        }
    }

    /// Syncs directory `dir` (the names made or renamed in it) under
    /// [`Durability::Sync`]; nothing otherwise.
    pub fn sync_dir(self, dir: &Path) -> std::io::Result<()> {
        match self {
            Durability::Sync => private_files::sync_dir(dir),
            Durability::NoSync => Ok(()),
        }
    }
}

/// Why a run's state could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The directory has no `checkpoint.json`.
    #[error("{} has no checkpoint.json", .0.display())]
    Missing(PathBuf),
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// `checkpoint.json` is not a checkpoint.
    #[error("{}: {source}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: CheckpointError,
    },
    /// `checkpoint.journal` has a damaged line: resuming would lose (or
    /// repeat) the saves after it.
    #[error("{}: {source}; the run's saved state is damaged and cannot be resumed safely", path.display())]
    DamagedJournal {
        /// The journal.
        path: PathBuf,
        /// Which line, and what is wrong with it.
        source: ReplayError,
    },
    /// The snapshot was written with a journal beside it, and the journal is
    /// gone: the saves it held are lost.
    #[error("{} is missing, but {} expects it (its saves since the snapshot would be lost); the run cannot be resumed safely", journal.display(), snapshot.display())]
    MissingJournal {
        /// Where the journal should be.
        journal: PathBuf,
        /// The snapshot that expects it.
        snapshot: PathBuf,
    },
}

/// Reads the last acknowledged state of the run in `dir`.
pub fn load(dir: &Path) -> Result<Checkpoint, LoadError> {
    let path = dir.join(CHECKPOINT_FILE);
    let text = match private_files::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(LoadError::Missing(dir.to_path_buf()))
        }
        Err(source) => return Err(LoadError::Io { path, source }),
    };
    let mut cp = Checkpoint::from_json(&text).map_err(|source| LoadError::Corrupt {
        path: path.clone(),
        source,
    })?;
    let journal_path = dir.join(JOURNAL_FILE);
    match private_files::open(&journal_path) {
        Ok(mut file) => {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut file, &mut bytes).map_err(|source| LoadError::Io {
                path: journal_path.clone(),
                source,
            })?;
            journal::replay(&mut cp, &String::from_utf8_lossy(&bytes)).map_err(|source| {
                LoadError::DamagedJournal {
                    path: journal_path,
                    source,
                }
            })?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if cp.journaled {
                return Err(LoadError::MissingJournal {
                    journal: journal_path,
                    snapshot: path,
                });
            }
        }
        Err(source) => {
            return Err(LoadError::Io {
                path: journal_path,
                source,
            })
        }
    }
    Ok(cp)
}

/// The writer of one run's state.
#[derive(Debug)]
pub struct RunStore {
    dir: PathBuf,
    cp: Checkpoint,
    snapshot_len: u64,
    /// The journal, open for appending; closed while the run is parked.
    journal: Option<File>,
    journal_len: u64,
    durability: Durability,
    last_save: WallTime,
    stats: Arc<StoreStats>,
    /// A journal write failed; the next save writes a snapshot instead.
    damaged: bool,
    /// Synced saves run on the caller's thread (see
    /// [`RunStore::sync_on_run_thread`]).
    inline: bool,
    /// Where a durable save's journal line is made durable, when not by a
    /// sync of the journal (see [`RunStore::commit_through`]).
    commit_log: Option<Arc<CommitLog>>,
    /// The timestamp of the snapshot the journal extends.
    base: String,
}

/// What a save did.
#[derive(Debug)]
pub struct Saved {
    /// The save's timestamp.
    pub timestamp: String,
    /// Its record for the store's commit log: with one, the save is durable
    /// only once the log has committed this.
    pub to_commit: Option<Vec<u8>>,
}

/// What a store has done, for benchmarks and reports; shared, so it can be read
/// while (and after) the store is owned by a writer.
#[derive(Debug, Default)]
pub struct StoreStats {
    /// Saves made.
    pub saves: AtomicU64,
    /// File and directory syncs issued.
    pub syncs: AtomicU64,
    /// Times the journal was folded into a new snapshot.
    pub compactions: AtomicU64,
    /// Bytes written (journal lines and snapshots).
    pub bytes_written: AtomicU64,
}

impl StoreStats {
    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// A counter's value.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

impl RunStore {
    /// Starts writing a new run's checkpoint `cp` to `dir`: writes it as the
    /// snapshot (stamped `now`) and starts an empty journal.
    pub fn create(
        dir: &Path,
        mut cp: Checkpoint,
        now: WallTime,
        durability: Durability,
    ) -> std::io::Result<RunStore> {
        cp.timestamp = now.rfc3339_nanos();
        RunStore::continue_from(dir, cp, now, durability)
    }

    /// [`RunStore::create`] in a run directory just made: the files `beside`
    /// (paths and contents) are written with the first snapshot and synced
    /// with it, and the directory is synced with its parent, where its name
    /// is — the syncs of each step all at once, so that a durable new run
    /// waits for two disk flushes rather than one per file. Without
    /// `sync_now` nothing is synced yet (the caller does it before the run
    /// starts); later saves still follow `durability`.
    pub fn create_in_new_dir(
        dir: &Path,
        beside: &[(&Path, &[u8])],
        mut cp: Checkpoint,
        now: WallTime,
        durability: Durability,
        sync_now: bool,
    ) -> std::io::Result<RunStore> {
        cp.timestamp = now.rfc3339_nanos();
        cp.journaled = true;
        let parent = dir.parent().unwrap_or(dir);
        let writes = if sync_now {
            durability
        } else {
            Durability::NoSync
        };
        let written = write_snapshot_with(dir, &cp, writes, beside, &[dir, parent])?;
        Ok(RunStore::open(dir, cp, now, durability, written))
    }

    /// Continues writing a resumed run's checkpoint `cp` (as [`load`] read it):
    /// folds it into a fresh snapshot that keeps its timestamp — the timestamp
    /// of the last acknowledged save, which identifies the node attempt that was
    /// in flight when the run stopped — and starts an empty journal.
    pub fn continue_from(
        dir: &Path,
        mut cp: Checkpoint,
        now: WallTime,
        durability: Durability,
    ) -> std::io::Result<RunStore> {
        private_files::ensure_dir(dir)?;
        cp.journaled = true;
        let written = write_snapshot(dir, &cp, durability)?;
        Ok(RunStore::open(dir, cp, now, durability, written))
    }

    /// The store of `cp` in `dir`, whose snapshot and journal were just
    /// written.
    fn open(
        dir: &Path,
        cp: Checkpoint,
        now: WallTime,
        durability: Durability,
        (snapshot_len, journal, journal_len): (u64, File, u64),
    ) -> RunStore {
        // Saves are never stamped before the snapshot they extend, whatever
        // this host's clock says (restored from an image, say): a journal is
        // told apart from an older one by its base's time.
        let last_save = WallTime::parse_rfc3339(&cp.timestamp).map_or(now, |saved| saved.max(now));
        RunStore {
            dir: dir.to_path_buf(),
            base: cp.timestamp.clone(),
            cp,
            snapshot_len,
            journal: Some(journal),
            journal_len,
            durability,
            last_save,
            stats: Arc::default(),
            damaged: false,
            inline: false,
            commit_log: None,
        }
    }

    /// Has the writer sync saves on the run's own thread instead of the
    /// blocking pool (where a sync would leave that thread free for other
    /// runs, at the cost of two thread hand-offs per save).
    pub fn sync_on_run_thread(&mut self) {
        self.inline = true;
    }

    /// Whether a save blocks its caller for a disk flush that another thread
    /// should wait out instead.
    pub fn syncs_off_thread(&self) -> bool {
        self.durability == Durability::Sync && !self.inline && self.commit_log.is_none()
    }

    /// Has durable saves made durable through `log`, with other runs' saves,
    /// rather than each by a sync of the journal: a save returns its record
    /// ([`Saved::to_commit`]), and is durable once the log has committed
    /// it. Nothing changes for a store that does not sync.
    pub fn commit_through(&mut self, log: Arc<CommitLog>) {
        if self.durability == Durability::Sync {
            self.commit_log = Some(log);
        }
    }

    /// The commit log saves go through, if any.
    pub fn commit_log(&self) -> Option<Arc<CommitLog>> {
        self.commit_log.clone()
    }

    /// The run directory the checkpoint is written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether saves are synced.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// The state as last saved.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.cp
    }

    /// [`RunStore::save`] while the current node's attempt is unfinished (the
    /// engine's `Effect::SaveInFlight`): the save keeps the last save's
    /// timestamp — the token the attempt's record carries — so that a resume
    /// still adopts what the attempt finished. With nothing to change, and no
    /// failed write to repair, nothing is written at all; changes are folded
    /// into a new snapshot, synced by itself (also under a commit log, whose
    /// records each name the journal they extend, never the new one).
    pub fn save_in_flight(&mut self, changes: &[Change]) -> std::io::Result<Saved> {
        if changes.is_empty() && !self.damaged {
            return Ok(Saved {
                timestamp: self.cp.timestamp.clone(),
                to_commit: None,
            });
        }
        for change in changes {
            self.cp.apply(change);
        }
        // Folded into a new snapshot rather than appended: a journal line
        // stamped like the snapshot a later fold writes could be replayed
        // onto it, after a crash between that fold's two renames, and
        // applied twice.
        StoreStats::add(&self.stats.saves, 1);
        self.compact()?;
        Ok(Saved {
            timestamp: self.cp.timestamp.clone(),
            to_commit: None,
        })
    }

    /// Records `changes` as of `now`: the save's timestamp, and what the
    /// commit log must commit, if saves go through one.
    pub fn save(&mut self, changes: &[Change], now: WallTime) -> std::io::Result<Saved> {
        for change in changes {
            self.cp.apply(change);
        }
        // Two saves within one clock tick still get distinct timestamps: a
        // journal names the snapshot it extends by timestamp.
        let now = if now > self.last_save {
            now
        } else {
            self.last_save.plus(std::time::Duration::from_nanos(1))
        };
        self.last_save = now;
        let timestamp = now.rfc3339_nanos();
        self.cp.timestamp.clone_from(&timestamp);
        self.write(changes, timestamp)
    }

    /// Writes applied `changes` as a journal line stamped `timestamp`, or
    /// folds the journal into a new snapshot when it is due (or damaged).
    fn write(&mut self, changes: &[Change], timestamp: String) -> std::io::Result<Saved> {
        let line = journal::record_line(&timestamp, changes);
        let threshold =
            (self.snapshot_len * JOURNAL_TO_SNAPSHOT_RATIO).max(MIN_JOURNAL_BEFORE_COMPACTION);
        StoreStats::add(&self.stats.saves, 1);
        // After a failed write the journal may end in a torn line that would
        // hide every later one on replay: start afresh from a snapshot.
        let mut to_commit = None;
        if self.damaged || self.journal_len + line.len() as u64 > threshold {
            self.compact()?;
        } else {
            // With a commit log, the log's sync stands for the journal's.
            let durability = match self.commit_log {
                Some(_) => Durability::NoSync,
                None => self.durability,
            };
            let stats = Arc::clone(&self.stats);
            let syncs = &stats.syncs;
            let appended = self.open_journal().and_then(|journal| {
                journal.write_all(line.as_bytes())?;
                if durability == Durability::Sync {
                    journal.sync_data()?;
                    StoreStats::add(syncs, 1);
                }
                Ok(())
            });
            if let Err(e) = appended {
                self.damaged = true;
                return Err(e);
            }
            self.journal_len += line.len() as u64;
            StoreStats::add(&self.stats.bytes_written, line.len() as u64);
            if self.commit_log.is_some() {
                to_commit = Some(commit_log::record(&self.dir, &self.base, &timestamp, &line));
            }
        }
        Ok(Saved {
            timestamp,
            to_commit,
        })
    }

    /// Closes the journal while the run waits for a long time (at a human
    /// gate): a service holding thousands of waiting runs would otherwise
    /// hold a file for each. The next save opens it again.
    pub fn park(&mut self) {
        self.journal = None;
    }

    /// The journal, opened again for appending if it was parked.
    fn open_journal(&mut self) -> std::io::Result<&mut File> {
        if self.journal.is_none() {
            self.journal = Some(private_files::append(&self.dir.join(JOURNAL_FILE))?);
        }
        self.journal
            .as_mut()
            .ok_or_else(|| std::io::Error::other("journal not open"))
    }

    /// Folds the journal into a fresh snapshot.
    pub fn compact(&mut self) -> std::io::Result<()> {
        let written = write_snapshot(&self.dir, &self.cp, self.durability);
        let (snapshot_len, journal, journal_len) = match written {
            Ok(written) => written,
            Err(e) => {
                self.damaged = true;
                return Err(e);
            }
        };
        self.damaged = false;
        self.base.clone_from(&self.cp.timestamp);
        self.snapshot_len = snapshot_len;
        self.journal = Some(journal);
        self.journal_len = journal_len;
        StoreStats::add(&self.stats.compactions, 1);
        StoreStats::add(&self.stats.bytes_written, snapshot_len + journal_len);
        if self.durability == Durability::Sync {
            // The snapshot file and the directory.
            StoreStats::add(&self.stats.syncs, 2);
        }
        Ok(())
    }

    /// What the store has done (a live, shared view).
    pub fn stats(&self) -> Arc<StoreStats> {
        Arc::clone(&self.stats)
    }
}

/// Writes `cp` as `checkpoint.json` and an empty journal extending it, both
/// by rename; returns the snapshot's size and the open journal.
///
/// Beside an existing snapshot, the new snapshot goes first: a crash between
/// the two renames leaves the old journal, which names the old snapshot and
/// is ignored. For a new run the journal goes first, so that a snapshot that
/// expects a journal never stands without one.
fn write_snapshot(
    dir: &Path,
    cp: &Checkpoint,
    durability: Durability,
) -> std::io::Result<(u64, File, u64)> {
    write_snapshot_with(dir, cp, durability, &[], &[dir])
}

/// [`write_snapshot`], with the files `beside` written (and synced) first, and
/// then `dirs` synced.
fn write_snapshot_with(
    dir: &Path,
    cp: &Checkpoint,
    durability: Durability,
    beside: &[(&Path, &[u8])],
    dirs: &[&Path],
) -> std::io::Result<(u64, File, u64)> {
    let text = cp.to_json();
    let header = journal::header_line(&cp.timestamp);
    let snapshot = dir.join(CHECKPOINT_FILE);
    let journal_path = dir.join(JOURNAL_FILE);
    let mut files = beside.to_vec();
    let (snapshot_file, journal_file) = (
        (snapshot.as_path(), text.as_bytes()),
        (journal_path.as_path(), header.as_bytes()),
    );
    if std::fs::symlink_metadata(&snapshot).is_ok() {
        files.extend([snapshot_file, journal_file]);
    } else {
        files.extend([journal_file, snapshot_file]);
    }
    // Every file synced before any is renamed: the order of the renames is
    // what a crash can cut short, as it was one file at a time.
    durability.replace_all(&files)?;
    durability.sync_dirs(dirs)?;
    let journal = private_files::append(&journal_path)?;
    Ok((text.len() as u64, journal, header.len() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(n: i128) -> WallTime {
        WallTime {
            unix_nanos: 1_764_583_200_000_000_000 + n * 1_000_000,
            utc_offset_minutes: 0,
        }
    }

    /// A new run's store in `dir`, unsynced, for run "abc".
    fn new_store(dir: &Path) -> RunStore {
        RunStore::create(dir, Checkpoint::new("abc"), at(0), Durability::NoSync).expect("create")
    }

    #[test]
    fn synced_saves_go_off_thread_unless_the_run_has_its_thread_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut synced = RunStore::create(
            &dir.path().join("synced"),
            Checkpoint::new("s"),
            at(0),
            Durability::Sync,
        )
        .expect("store");
        assert!(synced.syncs_off_thread());
        synced.sync_on_run_thread();
        assert!(!synced.syncs_off_thread());
        synced
            .save(&[Change::CurrentNode { node: "A".into() }], at(1))
            .expect("save");
        assert_eq!(
            load(&dir.path().join("synced")).expect("load").current_node,
            "A"
        );
        assert!(!new_store(&dir.path().join("unsynced")).syncs_off_thread());
    }

    #[test]
    fn a_parked_store_holds_no_journal_open_and_saves_after_it_load_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store =
            RunStore::create(dir.path(), Checkpoint::new("r"), at(0), Durability::NoSync)
                .expect("store");
        store
            .save(&[Change::CurrentNode { node: "A".into() }], at(1))
            .expect("save");
        store.park();
        assert!(store.journal.is_none());
        store
            .save(&[Change::CurrentNode { node: "B".into() }], at(2))
            .expect("save after parking");
        assert_eq!(load(dir.path()).expect("load").current_node, "B");
    }

    #[test]
    fn saves_after_a_resume_on_a_clock_behind_are_stamped_after_the_snapshot() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = new_store(dir.path());
        let saved = store
            .save(&[Change::CurrentNode { node: "A".into() }], at(50))
            .expect("save");
        drop(store);
        // Resumed on a host whose clock reads earlier than the last save.
        let loaded = load(dir.path()).expect("load");
        let mut store =
            RunStore::continue_from(dir.path(), loaded, at(10), Durability::NoSync).expect("open");
        let next = store.save(&[], at(11)).expect("save");
        let instant = |t: &str| WallTime::parse_rfc3339(t).expect("a time");
        assert!(instant(&next.timestamp) > instant(&saved.timestamp));
    }

    #[test]
    fn a_save_in_flight_keeps_the_last_timestamp_and_writes_only_changes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = new_store(dir.path());
        let first = store
            .save(&[Change::CurrentNode { node: "A".into() }], at(1))
            .expect("save");
        let journal = dir.path().join(JOURNAL_FILE);
        let before = std::fs::read_to_string(&journal).expect("journal");
        // Nothing to change: nothing written, the token stands.
        let kept = store.save_in_flight(&[]).expect("save");
        assert_eq!(kept.timestamp, first.timestamp);
        assert_eq!(std::fs::read_to_string(&journal).expect("journal"), before);
        // Changes are written, under the same timestamp, and load back.
        let change = Change::Context {
            key: "outcome".into(),
            value: String::new(),
        };
        let kept = store.save_in_flight(&[change]).expect("save");
        assert_eq!(kept.timestamp, first.timestamp);
        let loaded = load(dir.path()).expect("load");
        assert_eq!(&loaded, store.checkpoint());
        assert_eq!(loaded.timestamp, first.timestamp);
        assert_eq!(loaded.context.get("outcome").map(String::as_str), Some(""));
        // The next ordinary save moves on.
        let next = store.save(&[], at(4)).expect("save");
        assert_ne!(next.timestamp, first.timestamp);
    }

    #[test]
    fn saves_append_and_load_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = new_store(dir.path());
        store
            .save(&[Change::CurrentNode { node: "A".into() }], at(1))
            .expect("save");
        store
            .save(&[Change::Completed { node: "A".into() }], at(2))
            .expect("save");
        let loaded = load(dir.path()).expect("load");
        assert_eq!(&loaded, store.checkpoint());
        assert_eq!(loaded.completed_nodes, ["A"]);
        // The snapshot alone still reads as the state before the journal.
        let snapshot = std::fs::read_to_string(dir.path().join(CHECKPOINT_FILE)).expect("read");
        let snapshot = Checkpoint::from_json(&snapshot).expect("parses");
        assert!(snapshot.completed_nodes.is_empty());
    }

    #[test]
    fn a_large_journal_is_folded_into_the_snapshot() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = new_store(dir.path());
        let big = "x".repeat(1000);
        for i in 0..600 {
            store
                .save(
                    &[Change::Context {
                        key: format!("k{i}"),
                        value: big.clone(),
                    }],
                    at(i + 1),
                )
                .expect("save");
        }
        let journal_len = std::fs::metadata(dir.path().join(JOURNAL_FILE))
            .expect("meta")
            .len();
        let snapshot_len = std::fs::metadata(dir.path().join(CHECKPOINT_FILE))
            .expect("meta")
            .len();
        assert!(
            journal_len
                <= (snapshot_len * JOURNAL_TO_SNAPSHOT_RATIO).max(MIN_JOURNAL_BEFORE_COMPACTION),
            "journal {journal_len} bytes beside a {snapshot_len}-byte snapshot"
        );
        assert!(StoreStats::get(&store.stats().compactions) >= 1);
        let loaded = load(dir.path()).expect("load");
        assert_eq!(loaded.context.len(), 600);
        assert_eq!(&loaded, store.checkpoint());
    }

    #[test]
    fn a_stale_journal_is_ignored() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = new_store(dir.path());
        store
            .save(&[Change::CurrentNode { node: "A".into() }], at(1))
            .expect("save");
        let stale = std::fs::read(dir.path().join(JOURNAL_FILE)).expect("read");
        store.compact().expect("compact");
        // A crash between the snapshot rename and the journal rename leaves the
        // old journal beside the new snapshot.
        std::fs::write(dir.path().join(JOURNAL_FILE), stale).expect("write");
        store
            .save(&[Change::CurrentNode { node: "B".into() }], at(2))
            .expect("save");
        let loaded = load(dir.path()).expect("load");
        assert_eq!(loaded.current_node, "A");
    }

    #[test]
    fn state_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        new_store(dir.path());
        let mode = std::fs::metadata(dir.path().join(CHECKPOINT_FILE))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn missing_and_corrupt_checkpoints_are_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(matches!(load(dir.path()), Err(LoadError::Missing(_))));
        std::fs::write(dir.path().join(CHECKPOINT_FILE), "{not json").expect("write");
        assert!(matches!(load(dir.path()), Err(LoadError::Corrupt { .. })));
    }

    #[test]
    fn a_damaged_journal_line_is_an_error_naming_the_file_and_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = new_store(dir.path());
        for (i, node) in ["A", "B", "C"].into_iter().enumerate() {
            store
                .save(
                    &[Change::Completed { node: node.into() }],
                    at(i as i128 + 1),
                )
                .expect("save");
        }
        let path = dir.path().join(JOURNAL_FILE);
        let text = std::fs::read_to_string(&path).expect("read");
        let mut lines: Vec<&str> = text.lines().collect();
        lines[2] = "{\"ts\": garbage";
        std::fs::write(&path, lines.join("\n") + "\n").expect("write");
        let err = load(dir.path()).expect_err("damaged");
        let message = err.to_string();
        assert!(matches!(err, LoadError::DamagedJournal { .. }), "{message}");
        assert!(message.contains("checkpoint.journal: line 3"), "{message}");
    }

    #[test]
    fn a_missing_journal_is_an_error_unless_the_snapshot_never_had_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = new_store(dir.path());
        store
            .save(&[Change::Completed { node: "A".into() }], at(1))
            .expect("save");
        std::fs::remove_file(dir.path().join(JOURNAL_FILE)).expect("remove");
        let err = load(dir.path()).expect_err("missing journal");
        assert!(matches!(err, LoadError::MissingJournal { .. }), "{err}");
        assert!(
            err.to_string().contains("checkpoint.journal is missing"),
            "{err}"
        );
        // The reference writes no journal: its checkpoints load alone.
        let mut reference = Checkpoint::new("abc");
        reference.completed_nodes.push("A".into());
        std::fs::write(dir.path().join(CHECKPOINT_FILE), reference.to_json()).expect("write");
        assert_eq!(load(dir.path()).expect("loads"), reference);
    }

    #[test]
    fn planted_links_are_replaced_not_followed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").expect("write");
        let run = dir.path().join("run");
        std::fs::create_dir(&run).expect("dir");
        for name in [CHECKPOINT_FILE, JOURNAL_FILE, "checkpoint.json.tmp"] {
            std::os::unix::fs::symlink(&victim, run.join(name)).expect("symlink");
        }
        let mut store = RunStore::create(&run, Checkpoint::new("abc"), at(0), Durability::Sync)
            .expect("create");
        store
            .save(&[Change::Completed { node: "A".into() }], at(1))
            .expect("save");
        assert_eq!(std::fs::read_to_string(&victim).expect("read"), "precious");
        assert_eq!(load(&run).expect("load").completed_nodes, ["A"]);
    }
}
