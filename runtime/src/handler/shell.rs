//! Running a tool command so that a crash of tracker never runs it twice.
//!
//! The command runs as `sh -c <command>` under a small wrapper shell that leads
//! its own process group, sends stdout and stderr to files, and, when the
//! command ends, writes its exit status to a file (atomically, by rename). All
//! of it lives in the attempt's directory (`<node dir>/.inflight/`) next to a
//! `token` naming the checkpoint state the attempt started from:
//!
//! ```text
//! .inflight/token    which checkpoint save the attempt followed
//! .inflight/pgid     the wrapper's process group
//! .inflight/stdout   the command's output
//! .inflight/stderr
//! .inflight/exit     written when the command finished
//! ```
//!
//! If tracker dies while the command runs, the command keeps running and still
//! records how it ended. When the run resumes, the same node starts again with
//! the same token; instead of running the command a second time, [`run`] finds
//! the attempt: it adopts the recorded result, or waits for a command that is
//! still running and then adopts it. Only an attempt that was itself killed
//! (no exit status, no live process group) runs again.
//!
//! Timeouts stop the whole process group: `SIGTERM`, then `SIGKILL` after a
//! grace period. Dropping the future (the run was cancelled) kills the group.

use std::ffi::OsString;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

/// How long a timed-out command gets between `SIGTERM` and `SIGKILL`.
pub const KILL_GRACE: Duration = Duration::from_secs(2);

/// How often an adopted, still-running attempt is checked on.
const ADOPT_POLL: Duration = Duration::from_millis(50);

/// The wrapper: runs `$1` with output to `$2`/`$3`, then records the exit
/// status in `$4` by writing `$4.tmp` and renaming it.
const WRAPPER: &str = r#"sh -c "$1" >"$2" 2>"$3" </dev/null; c=$?; printf '%d' "$c" >"$4.tmp" && mv -f "$4.tmp" "$4"; exit "$c""#;

/// One command to run.
#[derive(Clone, Debug)]
pub struct ShellCommand {
    /// The script for `sh -c`.
    pub script: String,
    /// The working directory.
    pub cwd: PathBuf,
    /// The complete environment.
    pub env: Vec<(OsString, OsString)>,
    /// How long it may run.
    pub timeout: Duration,
    /// The attempt's directory (`<node dir>/.inflight`).
    pub attempt_dir: PathBuf,
    /// The checkpoint state the attempt follows (see the module docs).
    pub token: String,
    /// How many bytes of each stream to keep (the tail).
    pub output_limit: u64,
}

/// The end of a stream: what was kept and how much there was.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Captured {
    /// The last bytes, decoded as UTF-8 (lossily).
    pub text: String,
    /// Bytes written in all.
    pub total_bytes: u64,
    /// Bytes kept.
    pub captured_bytes: u64,
}

impl Captured {
    /// Whether the head was dropped.
    pub fn truncated(&self) -> bool {
        self.captured_bytes < self.total_bytes
    }
}

/// How a command ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShellOutput {
    /// The exit status (128 + N for a signal N).
    pub exit_code: i32,
    /// Its standard output.
    pub stdout: Captured,
    /// Its standard error.
    pub stderr: Captured,
    /// The result was recorded by an earlier, interrupted tracker process.
    pub adopted: bool,
}

/// Why a command did not produce an exit status.
#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    /// The shell could not be started.
    #[error("cannot start sh: {0}")]
    Spawn(std::io::Error),
    /// The command ran past its timeout and was killed.
    #[error("tool command timed out after {0:?}")]
    TimedOut(Duration),
    /// The attempt directory could not be prepared or read.
    #[error("{0}")]
    Io(String),
}

/// Runs (or adopts) the attempt described by `cmd`.
pub async fn run(cmd: &ShellCommand) -> Result<ShellOutput, ShellError> {
    if let Some(output) = adopt(cmd).await? {
        return Ok(output);
    }
    prepare(cmd)?;
    let out = cmd.attempt_dir.join("stdout");
    let err = cmd.attempt_dir.join("stderr");
    let exit = cmd.attempt_dir.join("exit");
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(WRAPPER)
        .arg("tracker-tool")
        .arg(&cmd.script)
        .arg(&out)
        .arg(&err)
        .arg(&exit)
        .current_dir(&cmd.cwd)
        .env_clear()
        .envs(cmd.env.iter().map(|(k, v)| (k, v)))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(ShellError::Spawn)?;
    let Some(pid) = child.id() else {
        return Err(ShellError::Io(
            "the shell exited before it could be tracked".into(),
        ));
    };
    let group = GroupGuard::new(pid);
    write(&cmd.attempt_dir.join("pgid"), &pid.to_string())?;
    let status = match tokio::time::timeout(cmd.timeout, child.wait()).await {
        Ok(status) => status.map_err(|e| ShellError::Io(format!("wait for sh: {e}")))?,
        Err(_) => {
            group.signal(Signal::SIGTERM);
            if tokio::time::timeout(KILL_GRACE, child.wait())
                .await
                .is_err()
            {
                group.signal(Signal::SIGKILL);
                let _ = child.wait().await;
            }
            // The wrapper is gone; make sure nothing it started outlives it.
            if !wait_gone(group.pgid, KILL_GRACE).await {
                group.signal(Signal::SIGKILL);
                wait_gone(group.pgid, KILL_GRACE).await;
            }
            group.disarm();
            return Err(ShellError::TimedOut(cmd.timeout));
        }
    };
    group.disarm();
    let exit_code = status
        .code()
        .or_else(|| {
            use std::os::unix::process::ExitStatusExt;
            status.signal().map(|s| 128 + s)
        })
        .unwrap_or(1);
    Ok(ShellOutput {
        exit_code,
        stdout: tail(&out, cmd.output_limit)?,
        stderr: tail(&err, cmd.output_limit)?,
        adopted: false,
    })
}

/// An earlier attempt with the same token: its recorded result, after waiting
/// for it if it is still running. `None` when there is nothing to adopt.
async fn adopt(cmd: &ShellCommand) -> Result<Option<ShellOutput>, ShellError> {
    let dir = &cmd.attempt_dir;
    let token = std::fs::read_to_string(dir.join("token")).unwrap_or_default();
    if token.is_empty() || token != cmd.token {
        return Ok(None);
    }
    let exit = dir.join("exit");
    let deadline = tokio::time::Instant::now() + cmd.timeout;
    // The attempt may still be running: its wrapper, the live process that names
    // its exit file among its arguments, is still there. (The process-group id
    // recorded before a crash is not trusted: by now it may be someone else's.)
    while !exit.exists() {
        let wrappers = processes_naming(&exit);
        if wrappers.is_empty() {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            for pid in wrappers {
                let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
            }
            return Err(ShellError::TimedOut(cmd.timeout));
        }
        tokio::time::sleep(ADOPT_POLL).await;
    }
    let Some(exit_code) = std::fs::read_to_string(&exit)
        .ok()
        .and_then(|t| t.trim().parse::<i32>().ok())
    else {
        return Ok(None);
    };
    Ok(Some(ShellOutput {
        exit_code,
        stdout: tail(&dir.join("stdout"), cmd.output_limit)?,
        stderr: tail(&dir.join("stderr"), cmd.output_limit)?,
        adopted: true,
    }))
}

/// The live processes that have `path` among their arguments (an attempt's
/// wrapper does, and leads its process group). Linux only; elsewhere none.
fn processes_naming(path: &Path) -> Vec<i32> {
    let needle = path.as_os_str().as_encoded_bytes();
    let Some(procs) = processes() else {
        return Vec::new();
    };
    procs
        .filter(|dir| {
            std::fs::read(dir.join("cmdline"))
                .ok()
                .is_some_and(|cmdline| cmdline.split(|b| *b == 0).any(|arg| arg == needle))
                && std::fs::read_to_string(dir.join("stat"))
                    .ok()
                    .is_some_and(|stat| !zombie(&stat))
        })
        .filter_map(|dir| dir.file_name()?.to_str()?.parse().ok())
        .collect()
}

/// A fresh attempt directory holding only the token.
fn prepare(cmd: &ShellCommand) -> Result<(), ShellError> {
    let dir = &cmd.attempt_dir;
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .map_err(|e| ShellError::Io(format!("clear {}: {e}", dir.display())))?;
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| ShellError::Io(format!("create {}: {e}", dir.display())))?;
    write(&dir.join("token"), &cmd.token)
}

fn write(path: &Path, text: &str) -> Result<(), ShellError> {
    std::fs::write(path, text).map_err(|e| ShellError::Io(format!("write {}: {e}", path.display())))
}

/// Whether any process of group `pgid` is alive. Zombies (exited, not yet
/// reaped) do not count: on Linux the group's members are read from `/proc`;
/// elsewhere a signal-0 probe answers.
fn alive(pgid: i32) -> bool {
    if pgid <= 0 {
        return false;
    }
    match processes() {
        Some(mut procs) => procs.any(|dir| {
            std::fs::read_to_string(dir.join("stat"))
                .ok()
                .is_some_and(|stat| live_member(&stat, pgid))
        }),
        None => killpg(Pid::from_raw(pgid), None).is_ok(),
    }
}

/// The `/proc/<pid>` directories of every process, when `/proc` exists.
fn processes() -> Option<impl Iterator<Item = PathBuf>> {
    let entries = std::fs::read_dir("/proc").ok()?;
    Some(entries.flatten().filter_map(|entry| {
        let is_pid = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
        is_pid.then(|| entry.path())
    }))
}

/// Whether a `/proc/<pid>/stat` line describes a live (non-zombie) member of
/// process group `pgid`. The command name is in parentheses and may contain
/// spaces, so fields are counted after the last `)`.
fn live_member(stat: &str, pgid: i32) -> bool {
    let Some(close) = stat.rfind(')') else {
        return false;
    };
    let mut fields = stat[close + 1..].split_whitespace();
    let _state = fields.next();
    let _ppid = fields.next();
    let group = fields.next().and_then(|g| g.parse::<i32>().ok());
    group == Some(pgid) && !zombie(stat)
}

/// Whether a `/proc/<pid>/stat` line describes a process that has exited
/// (a zombie, or one being reaped).
fn zombie(stat: &str) -> bool {
    let state = stat
        .rfind(')')
        .and_then(|close| stat[close + 1..].split_whitespace().next());
    matches!(state, Some("Z" | "X"))
}

/// Waits until group `pgid` has no live member, at most `limit`; returns
/// whether it is gone.
async fn wait_gone(pgid: i32, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while alive(pgid) {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}

/// The last `limit` bytes of the file at `path` (a missing file is empty).
pub fn tail(path: &Path, limit: u64) -> Result<Captured, ShellError> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Captured::default()),
        Err(e) => return Err(ShellError::Io(format!("read {}: {e}", path.display()))),
    };
    let io = |e: std::io::Error| ShellError::Io(format!("read {}: {e}", path.display()));
    let total = file.metadata().map_err(io)?.len();
    let keep = total.min(limit);
    file.seek(SeekFrom::Start(total - keep)).map_err(io)?;
    let mut bytes = Vec::with_capacity(usize::try_from(keep).unwrap_or(0));
    file.take(keep).read_to_end(&mut bytes).map_err(io)?;
    Ok(Captured {
        text: String::from_utf8_lossy(&bytes).into_owned(),
        total_bytes: total,
        captured_bytes: keep,
    })
}

/// Kills a process group when dropped, unless disarmed: a cancelled run leaves
/// no command behind.
struct GroupGuard {
    pgid: i32,
    armed: std::sync::atomic::AtomicBool,
}

impl GroupGuard {
    fn new(pid: u32) -> GroupGuard {
        GroupGuard {
            pgid: i32::try_from(pid).unwrap_or(0),
            armed: std::sync::atomic::AtomicBool::new(true),
        }
    }

    fn signal(&self, signal: Signal) {
        if self.pgid > 0 {
            let _ = killpg(Pid::from_raw(self.pgid), signal);
        }
    }

    fn disarm(&self) {
        self.armed
            .store(false, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if self.armed.load(std::sync::atomic::Ordering::Relaxed) {
            self.signal(Signal::SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt as _;

    fn command(dir: &Path, script: &str) -> ShellCommand {
        ShellCommand {
            script: script.into(),
            cwd: dir.to_path_buf(),
            env: vec![("PATH".into(), std::env::var_os("PATH").unwrap_or_default())],
            timeout: Duration::from_secs(30),
            attempt_dir: dir.join("N/.inflight"),
            token: "t1".into(),
            output_limit: 64 * 1024,
        }
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    #[test]
    fn runs_captures_and_records_the_exit_status() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out =
            block_on(run(&command(dir.path(), "echo out; echo err >&2; exit 3"))).expect("runs");
        assert_eq!(out.exit_code, 3);
        assert_eq!(out.stdout.text, "out\n");
        assert_eq!(out.stderr.text, "err\n");
        assert!(!out.adopted);
        let recorded =
            std::fs::read_to_string(dir.path().join("N/.inflight/exit")).expect("exit file");
        assert_eq!(recorded, "3");
    }

    #[test]
    fn a_recorded_attempt_is_adopted_not_rerun() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cmd = command(dir.path(), "echo once >> log.txt; echo done");
        block_on(run(&cmd)).expect("first run");
        let again = block_on(run(&cmd)).expect("second run");
        assert!(again.adopted);
        assert_eq!(again.stdout.text, "done\n");
        let log = std::fs::read_to_string(dir.path().join("log.txt")).expect("log");
        assert_eq!(log, "once\n");
        // A different token is a new attempt: it runs.
        let mut next = cmd.clone();
        next.token = "t2".into();
        assert!(!block_on(run(&next)).expect("runs").adopted);
        let log = std::fs::read_to_string(dir.path().join("log.txt")).expect("log");
        assert_eq!(log, "once\nonce\n");
    }

    #[test]
    fn a_still_running_attempt_is_waited_for_and_adopted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cmd = command(
            dir.path(),
            "touch started; while [ ! -f go ]; do sleep 0.01; done; echo once >> log.txt; echo done",
        );
        // The attempt an earlier tracker process started and did not outlive.
        prepare(&cmd).expect("prepare");
        let a = &cmd.attempt_dir;
        let mut orphan = std::process::Command::new("sh")
            .arg("-c")
            .arg(WRAPPER)
            .arg("tracker-tool")
            .arg(&cmd.script)
            .arg(a.join("stdout"))
            .arg(a.join("stderr"))
            .arg(a.join("exit"))
            .current_dir(dir.path())
            .process_group(0)
            .spawn()
            .expect("spawn");
        // Until the orphan has started (exec'd), nothing says it is running;
        // the script's first act is to say so.
        let guard = std::time::Instant::now() + Duration::from_secs(60);
        while !dir.path().join("started").exists() {
            assert!(
                std::time::Instant::now() < guard,
                "the orphan never started"
            );
            std::thread::yield_now();
        }
        assert_eq!(processes_naming(&a.join("exit")), [orphan.id() as i32]);
        // Let the orphan finish only once the new attempt is already waiting.
        let go = dir.path().join("go");
        let released = std::thread::spawn(move || {
            std::fs::write(go, "").expect("go");
        });
        let out = block_on(run(&cmd)).expect("adopted");
        released.join().expect("thread");
        let _ = orphan.wait();
        assert!(out.adopted);
        assert_eq!(out.stdout.text, "done\n");
        let log = std::fs::read_to_string(dir.path().join("log.txt")).expect("log");
        assert_eq!(log, "once\n");
    }

    #[test]
    fn timeouts_kill_the_process_group() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cmd = command(dir.path(), "sleep 30 & sleep 30; echo never");
        cmd.timeout = Duration::from_millis(200);
        let err = block_on(run(&cmd)).expect_err("times out");
        assert!(matches!(err, ShellError::TimedOut(_)));
        let pgid: i32 = std::fs::read_to_string(dir.path().join("N/.inflight/pgid"))
            .expect("pgid")
            .parse()
            .expect("number");
        assert!(!alive(pgid));
    }

    #[test]
    fn stat_lines_are_read_after_the_command_name() {
        assert!(live_member("42 (my (odd) cmd) S 1 42 42 0", 42));
        assert!(!live_member("42 (sh) Z 1 42 42 0", 42));
        assert!(!live_member("42 (sh) S 1 7 7 0", 42));
    }

    #[test]
    fn output_keeps_the_tail() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cmd = command(dir.path(), "printf 'abcdefghij'");
        cmd.output_limit = 4;
        let out = block_on(run(&cmd)).expect("runs");
        assert_eq!(out.stdout.text, "ghij");
        assert_eq!((out.stdout.total_bytes, out.stdout.captured_bytes), (10, 4));
        assert!(out.stdout.truncated());
    }
}
