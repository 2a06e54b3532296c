//! Running a tool command so that a crash of tracker never runs it twice.
//!
//! The command runs as `sh -c <command>` under a small wrapper shell that leads
//! its own process group, sends stdout and stderr to files, and, when the
//! command ends, writes its exit status to a file (with one small write of
//! the shell's own: no other process). All
//! of it lives in the attempt's directory (`<node dir>/.inflight/`) next to a
//! `token` naming the checkpoint state the attempt started from:
//!
//! ```text
//! .inflight/token    which checkpoint save the attempt followed
//! .inflight/pgid     the wrapper's process group, and its start time
//! .inflight/stdout   the command's output
//! .inflight/stderr
//! .inflight/exit     written when the command finished
//! ```
//!
//! The directory is 0700 and its files 0600, whatever the umask. When the
//! command ends, whatever it left running in the background is killed with
//! its process group, and the output files are cut to the tail that is kept
//! (the full sizes are recorded after the exit status, for the truncation
//! report of a later adoption).
//!
//! If tracker dies while the command runs, the command keeps running and still
//! records how it ended. When the run resumes, the same node starts again with
//! the same token; instead of running the command a second time, [`run`] finds
//! the attempt: it adopts the recorded result, or waits for a command that is
//! still running and then adopts it. Only an attempt that was itself killed
//! (no exit status, no live wrapper) runs again. A process counts as the
//! attempt's wrapper only if it is the one recorded in `pgid` (same pid, same
//! start time) or, when tracker died before recording it, a process-group
//! leader running exactly the wrapper's command line for this attempt.
//!
//! Timeouts stop the whole process group: `SIGTERM`, then `SIGKILL` after a
//! grace period. Dropping the future (the run was cancelled) kills the group.

use std::ffi::OsString;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use tracker_runtime::process_groups::{live_member, start_time};

/// How long a timed-out command gets between `SIGTERM` and `SIGKILL`.
pub const KILL_GRACE: Duration = Duration::from_secs(2);

/// How often an adopted, still-running attempt is checked on.
const ADOPT_POLL: Duration = Duration::from_millis(50);

/// The wrapper: runs `$1` with output to `$2`/`$3`, then records the exit
/// status in `$4` with the shell's own `printf` (one small write, no `mv`
/// process: a reader takes an empty record for none, as it took a missing
/// one).
const WRAPPER: &str =
    r#"sh -c "$1" >"$2" 2>"$3" </dev/null; c=$?; printf '%d\n' "$c" >"$4"; exit "$c""#;

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
    let started = start_time(group.pgid);
    write(
        &cmd.attempt_dir.join("pgid"),
        &format!("{pid} {}", started.unwrap_or(0)),
    )?;
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
            // What it printed is not kept past the limit, timed out or not.
            for name in ["stdout", "stderr"] {
                cut_to_tail(&cmd.attempt_dir.join(name), cmd.output_limit)?;
            }
            return Err(ShellError::TimedOut(cmd.timeout));
        }
    };
    // The node is over: nothing the command started in the background may
    // outlive it.
    group.disarm();
    // Waited for here without blocking the runtime's thread (a signal is
    // delivered, not acted on at once).
    if tracker_runtime::process_groups::kill_if_ours(group.pgid, started) {
        wait_gone(group.pgid, KILL_GRACE).await;
    }
    let exit_code = status
        .code()
        .or_else(|| {
            use std::os::unix::process::ExitStatusExt;
            status.signal().map(|s| 128 + s)
        })
        .unwrap_or(1);
    finish(cmd, exit_code, false)
}

/// Reads the attempt's result, cuts its output files down to what is kept and
/// records the full sizes beside the exit status.
fn finish(cmd: &ShellCommand, exit_code: i32, adopted: bool) -> Result<ShellOutput, ShellError> {
    let dir = &cmd.attempt_dir;
    let recorded = read_exit(&dir.join("exit"));
    let mut streams = [Captured::default(), Captured::default()];
    for (i, name) in ["stdout", "stderr"].into_iter().enumerate() {
        let path = dir.join(name);
        let mut captured = tail(&path, cmd.output_limit)?;
        if captured.truncated() {
            cut_to_tail(&path, cmd.output_limit)?;
        }
        // A file cut by an earlier tracker process: its full size is recorded.
        if let Some(total) = recorded.and_then(|r| r.totals[i]) {
            captured.total_bytes = captured.total_bytes.max(total);
        }
        streams[i] = captured;
    }
    let [stdout, stderr] = streams;
    replace(
        &dir.join("exit"),
        format!("{exit_code} {} {}", stdout.total_bytes, stderr.total_bytes).as_bytes(),
    )?;
    Ok(ShellOutput {
        exit_code,
        stdout,
        stderr,
        adopted,
    })
}

/// Cuts the file at `path` to its last `limit` bytes (as they are, not
/// decoded), if it is longer.
fn cut_to_tail(path: &Path, limit: u64) -> Result<(), ShellError> {
    let io = |e: std::io::Error| ShellError::Io(format!("cut {}: {e}", path.display()));
    let mut file = match tracker_runtime::private_files::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(e)),
    };
    let total = file.metadata().map_err(io)?.len();
    if total <= limit {
        return Ok(());
    }
    file.seek(SeekFrom::Start(total - limit)).map_err(io)?;
    let mut bytes = Vec::with_capacity(usize::try_from(limit).unwrap_or(0));
    file.take(limit).read_to_end(&mut bytes).map_err(io)?;
    replace(path, &bytes)
}

/// What an `exit` file records: the status, then (once tracker has cut the
/// output files) the full size of stdout and stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ExitRecord {
    code: i32,
    totals: [Option<u64>; 2],
}

/// The attempt's exit record; `None` when there is none or it does not read
/// (a symlink or special file in its place does not count).
fn read_exit(path: &Path) -> Option<ExitRecord> {
    let text = tracker_runtime::private_files::read_to_string(path).ok()?;
    let mut words = text.split_ascii_whitespace();
    let code = words.next()?.parse().ok()?;
    let mut totals = [None, None];
    for total in &mut totals {
        *total = words.next().and_then(|w| w.parse().ok());
    }
    Some(ExitRecord { code, totals })
}

/// An earlier attempt with the same token: its recorded result, after waiting
/// for it if it is still running. `None` when there is nothing to adopt.
async fn adopt(cmd: &ShellCommand) -> Result<Option<ShellOutput>, ShellError> {
    let dir = &cmd.attempt_dir;
    let token =
        tracker_runtime::private_files::read_to_string(&dir.join("token")).unwrap_or_default();
    if token.is_empty() || token != cmd.token {
        return Ok(None);
    }
    let exit = dir.join("exit");
    let deadline = tokio::time::Instant::now() + cmd.timeout;
    // The attempt may still be running: its wrapper is still there.
    while read_exit(&exit).is_none() {
        let Some(wrapper) = live_wrapper(cmd) else {
            break;
        };
        if tokio::time::Instant::now() >= deadline {
            let _ = killpg(Pid::from_raw(wrapper), Signal::SIGKILL);
            return Err(ShellError::TimedOut(cmd.timeout));
        }
        tokio::time::sleep(ADOPT_POLL).await;
    }
    let Some(record) = read_exit(&exit) else {
        return Ok(None);
    };
    // Whatever the adopted command left in the background ends with it.
    if let Some(pgid) = recorded_wrapper(dir).map(|(pid, _)| pid) {
        if !alive_process(pgid) {
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
        }
    }
    finish(cmd, record.code, true).map(Some)
}

/// The pid and start time recorded in the attempt's `pgid` file.
fn recorded_wrapper(dir: &Path) -> Option<(i32, u64)> {
    let text = tracker_runtime::private_files::read_to_string(&dir.join("pgid")).ok()?;
    let mut words = text.split_ascii_whitespace();
    let pid = words.next()?.parse().ok().filter(|p| *p > 0)?;
    let started = words.next()?.parse().ok()?;
    Some((pid, started))
}

/// The attempt's wrapper, if it is still running: the process recorded in
/// `pgid` when it is still that process (same start time, not a zombie), or,
/// with no record (tracker died right after starting it), a process-group
/// leader whose command line is exactly this attempt's wrapper. Any other
/// process naming the attempt's files is not trusted.
fn live_wrapper(cmd: &ShellCommand) -> Option<i32> {
    if let Some((pid, started)) = recorded_wrapper(&cmd.attempt_dir) {
        let alive = alive_process(pid) && start_time(pid) == Some(started);
        return alive.then_some(pid);
    }
    let expected = wrapper_args(cmd);
    processes()?.find_map(|dir| {
        let pid: i32 = dir.file_name()?.to_str()?.parse().ok()?;
        let cmdline = std::fs::read(dir.join("cmdline")).ok()?;
        let args: Vec<&[u8]> = cmdline
            .strip_suffix(&[0])
            .unwrap_or(&cmdline)
            .split(|b| *b == 0)
            .collect();
        let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
        let leads = live_member(&stat, pid);
        (leads && args == expected.iter().map(Vec::as_slice).collect::<Vec<_>>()).then_some(pid)
    })
}

/// The command line a wrapper for `cmd` runs with.
fn wrapper_args(cmd: &ShellCommand) -> Vec<Vec<u8>> {
    let dir = &cmd.attempt_dir;
    let path = |name: &str| dir.join(name).into_os_string().into_encoded_bytes();
    vec![
        b"sh".to_vec(),
        b"-c".to_vec(),
        WRAPPER.as_bytes().to_vec(),
        b"tracker-tool".to_vec(),
        cmd.script.as_bytes().to_vec(),
        path("stdout"),
        path("stderr"),
        path("exit"),
    ]
}

/// Whether process `pid` is alive (not a zombie).
fn alive_process(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .is_some_and(|stat| !zombie(&stat))
}

/// A fresh attempt directory holding the token and the (empty, private)
/// files the wrapper writes to, so that they are private whatever the umask.
fn prepare(cmd: &ShellCommand) -> Result<(), ShellError> {
    let dir = &cmd.attempt_dir;
    if let Ok(meta) = std::fs::symlink_metadata(dir) {
        let removed = if meta.is_dir() {
            std::fs::remove_dir_all(dir)
        } else {
            std::fs::remove_file(dir)
        };
        removed.map_err(|e| ShellError::Io(format!("clear {}: {e}", dir.display())))?;
    }
    if let Some(node_dir) = dir.parent() {
        tracker_runtime::private_files::ensure_dir(node_dir)
            .map_err(|e| ShellError::Io(format!("create {}: {e}", node_dir.display())))?;
    }
    tracker_runtime::private_files::create_dir(dir)
        .map_err(|e| ShellError::Io(format!("create {}: {e}", dir.display())))?;
    for name in ["stdout", "stderr", "exit"] {
        let path = dir.join(name);
        tracker_runtime::private_files::create(&path)
            .map_err(|e| ShellError::Io(format!("create {}: {e}", path.display())))?;
    }
    write(&dir.join("token"), &cmd.token)
}

fn write(path: &Path, text: &str) -> Result<(), ShellError> {
    replace(path, text.as_bytes())
}

fn replace(path: &Path, bytes: &[u8]) -> Result<(), ShellError> {
    tracker_runtime::private_files::replace(path, bytes)
        .map_err(|e| ShellError::Io(format!("write {}: {e}", path.display())))
}

/// Whether any process of group `pgid` is alive (zombies do not count).
fn alive(pgid: i32) -> bool {
    pgid > 0 && tracker_runtime::process_groups::group_alive(pgid)
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
    let mut file = match tracker_runtime::private_files::open(path) {
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
        assert_eq!(recorded, "3 4 4");
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
        assert_eq!(live_wrapper(&cmd), Some(orphan.id() as i32));
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
    fn a_timed_out_commands_output_is_cut_too() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cmd = command(dir.path(), "head -c 100000 /dev/zero; sleep 30");
        cmd.timeout = Duration::from_millis(300);
        cmd.output_limit = 10;
        let err = block_on(run(&cmd)).expect_err("times out");
        assert!(matches!(err, ShellError::TimedOut(_)));
        let kept = std::fs::metadata(cmd.attempt_dir.join("stdout"))
            .expect("stdout")
            .len();
        assert_eq!(kept, 10);
    }

    #[test]
    fn timeouts_kill_the_process_group() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cmd = command(dir.path(), "sleep 30 & sleep 30; echo never");
        cmd.timeout = Duration::from_millis(200);
        let err = block_on(run(&cmd)).expect_err("times out");
        assert!(matches!(err, ShellError::TimedOut(_)));
        let (pgid, _) = recorded_wrapper(&cmd.attempt_dir).expect("pgid recorded");
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

    #[test]
    fn background_children_end_with_the_command() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cmd = command(dir.path(), "sleep 300 & echo $! > bg.pid");
        let out = block_on(run(&cmd)).expect("runs");
        assert_eq!(out.exit_code, 0);
        let pid: i32 = std::fs::read_to_string(dir.path().join("bg.pid"))
            .expect("pid")
            .trim()
            .parse()
            .expect("number");
        // Killed with the group before `run` returned; once reaped by init it
        // is gone, and until then it is a zombie, which `alive_process` skips.
        assert!(
            !alive_process(pid),
            "the background sleep outlived its node"
        );
    }

    #[test]
    fn output_beyond_the_limit_is_not_kept_on_disk() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cmd = command(dir.path(), "head -c 1000000 /dev/zero | tr '\\0' x");
        cmd.output_limit = 100;
        let out = block_on(run(&cmd)).expect("runs");
        assert_eq!(out.stdout.total_bytes, 1_000_000);
        let kept = std::fs::metadata(dir.path().join("N/.inflight/stdout"))
            .expect("stdout")
            .len();
        assert_eq!(kept, 100);
        // Adopted again (another crash before the checkpoint), the report still
        // knows how much there was.
        let again = block_on(run(&cmd)).expect("adopted");
        assert!(again.adopted);
        assert_eq!(again.stdout.total_bytes, 1_000_000);
        assert_eq!(again.stdout.text, out.stdout.text);
    }

    #[test]
    fn attempt_files_are_private_whatever_the_umask() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let cmd = command(dir.path(), "echo out; echo err >&2");
        let old = nix::sys::stat::umask(nix::sys::stat::Mode::empty());
        let ran = block_on(run(&cmd));
        nix::sys::stat::umask(old);
        ran.expect("runs");
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&cmd.attempt_dir), 0o700);
        for name in ["token", "pgid", "stdout", "stderr", "exit"] {
            assert_eq!(mode(&cmd.attempt_dir.join(name)), 0o600, "{name}");
        }
    }

    #[test]
    fn a_process_merely_naming_the_exit_file_is_not_taken_for_the_wrapper() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cmd = command(dir.path(), "echo once >> log.txt");
        prepare(&cmd).expect("prepare");
        let exit = cmd.attempt_dir.join("exit");
        // Someone else's process with the path among its arguments.
        let mut impostor = std::process::Command::new("sh")
            .arg("-c")
            .arg("sleep 300; true")
            .arg("x")
            .arg(&exit)
            .process_group(0)
            .spawn()
            .expect("spawn");
        assert_eq!(live_wrapper(&cmd), None);
        // The attempt was killed before it finished: it runs again, at once.
        let out = block_on(run(&cmd)).expect("runs");
        // The impostor's shell and its sleep: the whole group.
        let _ = killpg(Pid::from_raw(impostor.id() as i32), Signal::SIGKILL);
        let _ = impostor.wait();
        assert!(!out.adopted);
        let log = std::fs::read_to_string(dir.path().join("log.txt")).expect("log");
        assert_eq!(log, "once\n");
    }

    #[test]
    fn a_recorded_wrapper_is_known_by_its_start_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cmd = command(dir.path(), "true");
        prepare(&cmd).expect("prepare");
        // A pgid record naming a live process that started at another time
        // (pid reuse) does not count as the wrapper.
        let me = std::process::id() as i32;
        let started = start_time(me).expect("own start time");
        write(
            &cmd.attempt_dir.join("pgid"),
            &format!("{me} {}", started + 1),
        )
        .expect("write");
        assert_eq!(live_wrapper(&cmd), None);
        write(&cmd.attempt_dir.join("pgid"), &format!("{me} {started}")).expect("write");
        assert_eq!(live_wrapper(&cmd), Some(me));
    }
}
