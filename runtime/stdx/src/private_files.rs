//! Writing a run's files so that nothing planted beside them can redirect the
//! write, and nobody else can read them.
//!
//! A run directory holds prompts, model output and tool output: the same
//! material as the 0600 checkpoint. Every file tracker writes there is created
//! 0600 and every directory 0700, whatever the umask (a umask only removes
//! bits). A symlink planted where a run file goes (`status.json` →
//! `~/.bashrc`) is never followed: files are replaced by writing a fresh
//! temporary file and renaming it over the name (a rename replaces the link,
//! not its target), new files nothing reads back are created exclusively with
//! `O_NOFOLLOW` (a planted name makes that fail, and the rename path takes
//! over), and files that are appended to are opened with `O_NOFOLLOW`. A directory on the way that is a symlink (or not a directory)
//! is refused.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::OFlag;

/// The mode of every file tracker writes in a run.
pub const FILE_MODE: u32 = 0o600;
/// The mode of every directory tracker creates for a run.
pub const DIR_MODE: u32 = 0o700;

/// Open flags that refuse to follow a symlink in the last component and keep
/// the descriptor out of child processes.
fn no_follow() -> i32 {
    (OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC).bits()
}

/// Makes `dir` (and any missing parents) a private directory. A directory
/// that already exists is kept as it is, but must be a real directory: a
/// symlink in its place is an error.
pub fn ensure_dir(dir: &Path) -> std::io::Result<()> {
    // The usual case on a run's hot path, a new node's directory under an
    // existing one, in one call: `mkdir` makes it ours or fails, and never
    // follows a symlink in its place.
    match std::fs::DirBuilder::new().mode(DIR_MODE).create(dir) {
        Ok(()) => return set_dir_mode(dir),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_missing(dir)?,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    // What is there may be a symlink (to a directory or not), planted or put
    // there meanwhile: look at the name itself.
    let meta = std::fs::symlink_metadata(dir)?;
    if meta.is_dir() {
        Ok(())
    } else {
        Err(not_a_directory(dir, &meta))
    }
}

/// Makes a directory the user named (an artifact directory): missing parts are
/// created private, and an existing path is used as it is, a symlink included
/// — it is the user's choice, not something planted in a run.
pub fn create_dir_all(dir: &Path) -> std::io::Result<()> {
    create_missing(dir)
}

/// Creates `dir` and its missing parents, each private; what exists is left
/// as it is.
fn create_missing(dir: &Path) -> std::io::Result<()> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    match std::fs::DirBuilder::new().mode(DIR_MODE).create(dir) {
        Ok(()) => return set_dir_mode(dir),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = dir.parent() {
                create_missing(parent)?;
            }
        }
        // Made meanwhile by another thread, or there already: as std's
        // `create_dir_all`, a directory there is success, whatever the error.
        Err(_) if dir.is_dir() => return Ok(()),
        Err(e) => return Err(e),
    }
    match std::fs::DirBuilder::new().mode(DIR_MODE).create(dir) {
        Ok(()) => set_dir_mode(dir),
        Err(_) if dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

/// Creates `dir` itself, private; it must not exist yet.
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new().mode(DIR_MODE).create(dir)?;
    set_dir_mode(dir)
}

/// Gives the directory tracker just made its mode, when the umask took any
/// of the owner's bits (`DIR_MODE` has no others).
fn set_dir_mode(dir: &Path) -> std::io::Result<()> {
    if !umask_masks(DIR_MODE) {
        return Ok(());
    }
    let mode = std::fs::Permissions::from_mode(DIR_MODE);
    // Through a descriptor of the directory itself: a symlink put in its place
    // meanwhile is refused, never followed. A umask that took the owner's
    // read bit leaves no way to open it; then by name.
    match OpenOptions::new()
        .read(true)
        .custom_flags((OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC).bits())
        .open(dir)
    {
        Ok(handle) => handle.set_permissions(mode),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            std::fs::set_permissions(dir, mode)
        }
        Err(e) => Err(e),
    }
}

/// Gives a file tracker made or opened its mode, when the umask took any of
/// the owner's bits.
fn set_file_mode(file: &File) -> std::io::Result<()> {
    if umask_masks(FILE_MODE) {
        file.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))?;
    }
    Ok(())
}

/// Whether the process's umask takes any of `mode`'s bits away. Read once:
/// tracker never changes its umask. When it cannot be read, it is assumed
/// to (and modes are set plainly after creating).
fn umask_masks(mode: u32) -> bool {
    use std::sync::OnceLock;
    static UMASK: OnceLock<Option<u32>> = OnceLock::new();
    let umask = UMASK.get_or_init(|| {
        // `umask(2)` can only be read by setting it, which would race with
        // threads creating files; Linux shows it in the process's status.
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find_map(|l| l.strip_prefix("Umask:"))?;
        u32::from_str_radix(line.trim(), 8).ok()
    });
    umask.is_none_or(|umask| umask & mode != 0)
}

fn not_a_directory(dir: &Path, meta: &std::fs::Metadata) -> std::io::Error {
    let what = if meta.file_type().is_symlink() {
        "a symlink"
    } else {
        "not a directory"
    };
    std::io::Error::other(format!(
        "{} is {what}; refusing to write through it",
        dir.display()
    ))
}

/// Replaces the file at `path` with `bytes`: a new private file written beside
/// it, then renamed over the name, so a reader sees the old or the new
/// contents and a symlink at `path` is replaced rather than followed.
pub fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    replace_all(&[(path, bytes)], false)
}

/// [`replace`], with the new contents synced to the disk before the rename, so
/// that after a power loss the name holds the old or the new contents, never
/// an empty file. (Syncing the directory, to make the rename itself durable,
/// is the caller's business.)
pub fn replace_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    replace_all(&[(path, bytes)], true)
}

/// Syncs directory `dir`, so that the names made or renamed in it are on the
/// disk.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Syncs every directory of `dirs`, all at once (see [`sync_together`]).
pub fn sync_dirs(dirs: &[&Path]) -> std::io::Result<()> {
    let opened = dirs
        .iter()
        .map(File::open)
        .collect::<std::io::Result<Vec<File>>>()?;
    sync_together(&opened)
}

/// [`replace`] for each of `files` (a path and its new contents), renamed into
/// place in the order given; with `sync`, every new file is synced before any
/// is renamed, and the syncs are issued at once, so that the disk flushes them
/// together rather than one after another. A failure leaves the files not yet
/// renamed as they were.
pub fn replace_all(files: &[(&Path, &[u8])], sync: bool) -> std::io::Result<()> {
    let mut staged: Vec<PathBuf> = Vec::with_capacity(files.len());
    let mut renamed = 0;
    let result = (|| {
        let mut written = Vec::with_capacity(files.len());
        for (path, bytes) in files {
            let tmp = temp_name(path);
            let mut file = create_new(&tmp)?;
            staged.push(tmp);
            file.write_all(bytes)?;
            written.push(file);
        }
        if sync {
            sync_together(&written)?;
        }
        drop(written);
        for ((path, _), tmp) in files.iter().zip(&staged) {
            std::fs::rename(tmp, path)?;
            renamed += 1;
        }
        Ok(())
    })();
    if result.is_err() {
        for tmp in &staged[renamed..] {
            let _ = std::fs::remove_file(tmp);
        }
    }
    result
}

/// Syncs every one of `files` (`fsync`), each on a thread of its own but the
/// first: syncs in flight together share the disk's flushes, where one after
/// another each waits for its own. Returns the first failure.
pub fn sync_together(files: &[File]) -> std::io::Result<()> {
    let Some((first, rest)) = files.split_first() else {
        return Ok(());
    };
    std::thread::scope(|scope| {
        let others: Vec<_> = rest
            .iter()
            .map(|file| scope.spawn(move || file.sync_all()))
            .collect();
        let mut result = first.sync_all();
        for other in others {
            let synced = other
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("a sync thread panicked")));
            result = result.and(synced);
        }
        result
    })
}

/// Whether `error` is the process or the system running out of open files
/// (`EMFILE`, `ENFILE`): a passing condition, unlike most.
pub fn out_of_files(error: &std::io::Error) -> bool {
    use nix::errno::Errno;
    error
        .raw_os_error()
        .is_some_and(|code| code == Errno::EMFILE as i32 || code == Errno::ENFILE as i32)
}

/// Writes `bytes` to `path` as [`replace`] does, but without the temporary
/// file and the rename when nothing is there yet — the usual case for a
/// node's files, on a hot path: the file is then created in place,
/// exclusively and never through a link (a planted link makes the create fail,
/// and the write falls back to [`replace`], which replaces the link). Unlike
/// [`replace`], a reader may see a new file half-written: use it only for
/// files nothing reads back to decide anything.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    match create_new(path) {
        Ok(mut file) => file.write_all(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => replace(path, bytes),
        Err(e) => Err(e),
    }
}

/// A fresh, empty private file at `path`, whatever was there before (a file or
/// a symlink is removed first, never followed).
pub fn create(path: &Path) -> std::io::Result<File> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    create_new(path)
}

/// Opens `path` for appending, creating it private if it is missing. A symlink
/// at `path`, or anything but a regular file, is refused.
pub fn append(path: &Path) -> std::io::Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(FILE_MODE)
        .custom_flags(no_follow())
        .open(path)
        .map_err(|e| said_of_a_link(path, e))?;
    let file = regular(path, file)?;
    set_file_mode(&file)?;
    Ok(file)
}

/// Opens `path` for reading; a symlink at `path`, or anything but a regular
/// file, is refused (a FIFO planted there cannot block the reader).
pub fn open(path: &Path) -> std::io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(no_follow() | OFlag::O_NONBLOCK.bits())
        .open(path)
        .map_err(|e| said_of_a_link(path, e))?;
    regular(path, file)
}

/// `error` from opening `path` without following a link, said plainly when a
/// link was what it met (the system says only "too many levels of symbolic
/// links").
fn said_of_a_link(path: &Path, error: std::io::Error) -> std::io::Error {
    if error.raw_os_error() == Some(nix::libc::ELOOP) {
        std::io::Error::new(
            error.kind(),
            format!(
                "{} is a symbolic link, which is refused here (tracker wrote a file)",
                path.display()
            ),
        )
    } else {
        error
    }
}

/// The bytes of the whole regular file at `path` (see [`open`]).
pub fn read(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut open(path)?, &mut bytes)?;
    Ok(bytes)
}

/// Reads the whole regular file at `path` (see [`open`]).
pub fn read_to_string(path: &Path) -> std::io::Result<String> {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut open(path)?, &mut text)?;
    Ok(text)
}

fn regular(path: &Path, file: File) -> std::io::Result<File> {
    if file.metadata()?.is_file() {
        Ok(file)
    } else {
        Err(std::io::Error::other(format!(
            "{} is not a regular file",
            path.display()
        )))
    }
}

/// A new private file; fails if anything (a symlink included) is at `path`.
pub fn create_new(path: &Path) -> std::io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .custom_flags(no_follow())
        .open(path)?;
    set_file_mode(&file)?;
    Ok(file)
}

/// `<dir>/.<name>.<pid>.<n>.tmp`: unique to this process and call, so two
/// writers never share a temporary file, and a planted one is never reused.
fn temp_name(path: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    }

    #[test]
    fn a_link_where_a_file_should_be_is_refused_saying_so() {
        let dir = tempfile::tempdir().expect("tempdir");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").expect("write");
        let path = dir.path().join("checkpoint.json");
        symlink(&victim, &path).expect("symlink");
        for error in [open(&path).err(), append(&path).err()] {
            let said = error.expect("refused").to_string();
            assert!(
                said.contains("checkpoint.json is a symbolic link"),
                "{said}"
            );
        }
        assert_eq!(std::fs::read_to_string(&victim).expect("read"), "precious");
    }

    #[test]
    fn replace_writes_private_files_and_never_follows_a_planted_link() {
        let dir = tempfile::tempdir().expect("tempdir");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").expect("write");
        let path = dir.path().join("status.json");
        symlink(&victim, &path).expect("symlink");
        replace(&path, b"{}").expect("replace");
        assert_eq!(std::fs::read_to_string(&victim).expect("read"), "precious");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "{}");
        assert_eq!(mode(&path), FILE_MODE);
        assert!(!std::fs::symlink_metadata(&path)
            .expect("meta")
            .file_type()
            .is_symlink());
    }

    #[test]
    fn write_creates_in_place_replaces_what_is_there_and_never_follows_a_link() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("status.json");
        write(&path, b"first").expect("new");
        write(&path, b"second").expect("again");
        assert_eq!(std::fs::read(&path).expect("read"), b"second");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, FILE_MODE);
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").expect("victim");
        let planted = dir.path().join("prompt.md");
        std::os::unix::fs::symlink(&victim, &planted).expect("link");
        write(&planted, b"mine").expect("through the fallback");
        assert_eq!(std::fs::read_to_string(&victim).expect("victim"), "keep");
        assert!(!std::fs::symlink_metadata(&planted)
            .expect("meta")
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&planted).expect("read"), b"mine");
    }

    #[test]
    fn append_and_open_refuse_links_and_special_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").expect("write");
        let log = dir.path().join("activity.jsonl");
        symlink(&victim, &log).expect("symlink");
        assert!(append(&log).is_err());
        assert!(open(&log).is_err());
        assert_eq!(std::fs::read_to_string(&victim).expect("read"), "precious");
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).expect("mkfifo");
        assert!(open(&fifo).is_err());
        let fresh = dir.path().join("fresh.jsonl");
        append(&fresh)
            .expect("append")
            .write_all(b"x")
            .expect("write");
        assert_eq!(mode(&fresh), FILE_MODE);
    }

    #[test]
    fn directories_are_private_and_links_in_their_place_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let nested = dir.path().join("a/b/c");
        ensure_dir(&nested).expect("ensure");
        assert_eq!(mode(&nested), DIR_MODE);
        // One more under an existing parent (the one-call path), and one that
        // is already there.
        let sibling = dir.path().join("a/b/d");
        ensure_dir(&sibling).expect("ensure");
        assert_eq!(mode(&sibling), DIR_MODE);
        ensure_dir(&nested).expect("already there");
        let link = dir.path().join("node");
        symlink(dir.path().join("a"), &link).expect("symlink");
        assert!(ensure_dir(&link).is_err());
        create_dir(&dir.path().join("run")).expect("create");
        assert_eq!(mode(&dir.path().join("run")), DIR_MODE);
    }

    #[test]
    fn replace_all_renames_every_file_or_leaves_them_all_as_they_were() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, "old a").expect("a");
        replace_all(&[(&a, b"new a"), (&b, b"new b")], true).expect("replace all");
        assert_eq!(std::fs::read_to_string(&a).expect("a"), "new a");
        assert_eq!(std::fs::read_to_string(&b).expect("b"), "new b");
        assert_eq!((mode(&a), mode(&b)), (FILE_MODE, FILE_MODE));
        // The second cannot be staged (its directory is missing): the first
        // keeps its contents, and no temporary file is left.
        let nowhere = dir.path().join("missing/c");
        assert!(replace_all(&[(&a, b"newer a"), (&nowhere, b"c")], true).is_err());
        assert_eq!(std::fs::read_to_string(&a).expect("a"), "new a");
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("list")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        sync_dirs(&[dir.path(), &dir.path().join(".")]).expect("sync dirs");
        assert!(sync_dirs(&[dir.path(), &dir.path().join("missing")]).is_err());
    }
}
