//! Running a tool command so that a crash of tracker never runs it twice.
//!
//! The command runs as one `/bin/sh -c` process leading its own process
//! group, with stdout and stderr sent to files, and the shell itself records
//! how the command ended: the script runs behind an `EXIT` trap that appends
//! the exit status to the attempt's record. No wrapper process, no second
//! shell. All of it lives in the attempt's directory (`<node dir>/.inflight/`):
//!
//! ```text
//! .inflight/attempt  the record: which checkpoint save the attempt followed
//!                    (`token`), the shell's process group and start time
//!                    (`pgid`), its exit status (`exit`), and the full sizes of
//!                    its output once cut to the kept tail (`sizes`)
//! .inflight/stdout   the command's output
//! .inflight/stderr
//! ```
//!
//! Each record is one line appended to `attempt` (a short `O_APPEND` write, so
//! lines from tracker and from the shell never interleave), and the last line
//! of a kind wins. The directory is 0700 and its files 0600, whatever the
//! umask. When the command ends, whatever it left running in the background is
//! killed with its process group, and the output files are cut to the tail
//! that is kept.
//!
//! A script that could take the trap away from the shell — replace the shell
//! with `exec`, set its own `trap`, or run code the wrapper cannot see (`eval`,
//! `.`) — runs in a second `sh -c` under the trapping one instead, so its end
//! is still recorded (one exec more, for those scripts only; the words are
//! looked for as written, see `keeps_the_trap`). When the shell
//! ends without the trap's line (a signal, a first line that does not parse),
//! tracker writes the status before anything can depend on it.
//!
//! If tracker dies while the command runs, the command keeps running and still
//! records how it ended. When the run resumes, the same node starts again with
//! the same token; instead of running the command a second time, [`run`] finds
//! the attempt: it adopts the recorded result, or waits for a command that is
//! still running and then adopts it. Only an attempt that was itself killed
//! (no exit status, no live shell) runs again. A process counts as the
//! attempt's shell only if it is the one recorded in `pgid` (same pid, same
//! start time) or, when tracker died before recording it, a process-group
//! leader running exactly this attempt's command line.
//!
//! Timeouts stop the whole process group: `SIGTERM`, then `SIGKILL` after a
//! grace period. Dropping the future (the run was cancelled) kills the group.

use std::ffi::OsString;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use tracker_runtime::process_groups::{live_member, start_time};

/// How long a timed-out command gets between `SIGTERM` and `SIGKILL`.
pub const KILL_GRACE: Duration = Duration::from_secs(2);

/// How often an adopted, still-running attempt is checked on.
const ADOPT_POLL: Duration = Duration::from_millis(50);

/// The shell, by its path: no search of `PATH`, and the standard library can
/// then start it with `posix_spawn` (no copy of tracker's page tables).
const SHELL: &str = "/bin/sh";

/// One command to run.
#[derive(Clone, Debug)]
pub struct ShellCommand {
    /// The script for `sh -c`.
    pub script: String,
    /// The command as the pipeline writes it, before its `${…}` are filled
    /// in: an earlier attempt is adopted only if it ran the same one (a
    /// resume may fill them in otherwise, and still means the same command).
    pub written: String,
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
    /// An earlier, interrupted attempt ran another command (the pipeline
    /// was edited since): it was set aside (stopped, if it still ran), and
    /// this command run instead.
    pub replaced: bool,
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
    let replaced = match adopt(cmd).await? {
        Earlier::Adopted(output) => return Ok(output),
        Earlier::Replaced => true,
        Earlier::Nothing => false,
    };
    let Prepared {
        mut record,
        stdout,
        stderr,
    } = prepare(cmd)?;
    let mut child = tokio::process::Command::from(shell_command(cmd))
        .env_clear()
        .envs(cmd.env.iter().map(|(k, v)| (k, v)))
        .stdin(std::process::Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .map_err(ShellError::Spawn)?;
    let Some(pid) = child.id() else {
        return Err(ShellError::Io(
            "the shell exited before it could be tracked".into(),
        ));
    };
    let group = GroupGuard::new(pid);
    let started = start_time(group.pgid);
    append(
        cmd,
        &mut record,
        &format!("pgid {pid} {}\n", started.unwrap_or(0)),
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
            // The shell is gone; make sure nothing it started outlives it.
            if !wait_gone(group.pgid, KILL_GRACE).await {
                group.signal(Signal::SIGKILL);
                wait_gone(group.pgid, KILL_GRACE).await;
            }
            group.disarm();
            // What it printed is not kept past the limit, timed out or not,
            // nor a key tracker loaded.
            for name in ["stdout", "stderr"] {
                let path = cmd.attempt_dir.join(name);
                cut_to_tail(&path, cmd.output_limit)?;
                redact_kept(&path, &mut tail(&path, cmd.output_limit)?)?;
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
    let mut output = finish(cmd, exit_code, false, Some(record))?;
    output.replaced = replaced;
    Ok(output)
}

/// Cuts the keys tracker loaded out of an output file's kept tail (a command
/// may print one it read from a file: its environment has none), on disk and
/// in `captured`; a piece of a key the cut left at the tail's start goes too.
/// Rare, so reading the kept tail again to rewrite it is cheap enough. The
/// bytes are rewritten as they were around each key: output that is not text
/// stays as it was.
fn redact_kept(path: &Path, captured: &mut Captured) -> Result<(), ShellError> {
    if let std::borrow::Cow::Borrowed(_) = tracker_runtime::secrets::redact_known(&captured.text) {
        return Ok(());
    }
    let io = |e: std::io::Error| ShellError::Io(format!("rewrite {}: {e}", path.display()));
    let kept = std::fs::read(path).map_err(io)?;
    let redacted = tracker_runtime::secrets::redact_known_bytes(&kept);
    tracker_runtime::private_files::replace(path, &redacted).map_err(io)?;
    let kept = redacted.len() as u64;
    captured.total_bytes = captured.total_bytes.saturating_sub(captured.captured_bytes) + kept;
    captured.captured_bytes = kept;
    captured.text = String::from_utf8_lossy(&redacted).into_owned();
    Ok(())
}

/// Reads the attempt's result, cuts its output files down to what is kept and
/// records the full sizes, for a later adoption's truncation report.
fn finish(
    cmd: &ShellCommand,
    exit_code: i32,
    adopted: bool,
    record: Option<std::fs::File>,
) -> Result<ShellOutput, ShellError> {
    let dir = &cmd.attempt_dir;
    let recorded = read_record(dir).unwrap_or_default();
    let mut record = match record {
        Some(file) => file,
        None => tracker_runtime::private_files::append(&dir.join("attempt"))
            .map_err(|e| ShellError::Io(format!("open {}: {e}", dir.display())))?,
    };
    // The trap records the status, unless the shell never ran it (a signal
    // ended the shell, a first line that does not parse, no room to write):
    // then tracker does, before anything can depend on it.
    if recorded.exit.is_none() {
        append(cmd, &mut record, &format!("exit {exit_code}\n"))?;
    }
    let mut streams = [Captured::default(), Captured::default()];
    for (i, name) in ["stdout", "stderr"].into_iter().enumerate() {
        let path = dir.join(name);
        let mut captured = tail(&path, cmd.output_limit)?;
        if captured.truncated() {
            cut_to_tail(&path, cmd.output_limit)?;
        }
        redact_kept(&path, &mut captured)?;
        // A file cut by an earlier tracker process: its full size is recorded.
        if let Some(sizes) = recorded.sizes {
            captured.total_bytes = captured.total_bytes.max(sizes[i]);
        }
        streams[i] = captured;
    }
    let [stdout, stderr] = streams;
    append(
        cmd,
        &mut record,
        &format!("sizes {} {}\n", stdout.total_bytes, stderr.total_bytes),
    )?;
    Ok(ShellOutput {
        exit_code,
        stdout,
        stderr,
        adopted,
        replaced: false,
    })
}

/// Appends one line to the attempt's record.
fn append(cmd: &ShellCommand, record: &mut std::fs::File, line: &str) -> Result<(), ShellError> {
    record.write_all(line.as_bytes()).map_err(|e| {
        ShellError::Io(format!(
            "write {}: {e}",
            cmd.attempt_dir.join("attempt").display()
        ))
    })
}

/// What an attempt's record says (the last line of each kind).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Record {
    token: Option<String>,
    /// The digest of the script the attempt ran ([`script_digest`]); none
    /// in a record an older tracker wrote.
    script: Option<String>,
    pgid: Option<(i32, u64)>,
    exit: Option<i32>,
    sizes: Option<[u64; 2]>,
}

/// Reads the attempt's record; `None` when there is none or it does not read
/// (a symlink or special file in its place does not count). A line that does
/// not parse (cut short by a crash) is skipped.
fn read_record(dir: &Path) -> Option<Record> {
    let text = tracker_runtime::private_files::read_to_string(&dir.join("attempt")).ok()?;
    Some(parse_record(&text))
}

fn parse_record(text: &str) -> Record {
    let mut record = Record::default();
    // Only whole lines: a crash may leave the last one cut short.
    for line in text.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
        let line = line.trim_end_matches('\n');
        let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
        let mut words = rest.split(' ');
        let mut number = || words.next().and_then(|w| w.parse::<u64>().ok());
        match kind {
            "token" if !rest.is_empty() => record.token = Some(rest.to_string()),
            "script" if !rest.is_empty() => record.script = Some(rest.to_string()),
            "pgid" => {
                if let (Some(pid), Some(started)) = (number(), number()) {
                    if let Ok(pid @ 1..) = i32::try_from(pid) {
                        record.pgid = Some((pid, started));
                    }
                }
            }
            "exit" => {
                if let Ok(code) = rest.parse() {
                    record.exit = Some(code);
                }
            }
            "sizes" => {
                if let (Some(out), Some(err)) = (number(), number()) {
                    record.sizes = Some([out, err]);
                }
            }
            _ => {}
        }
    }
    record
}

/// A digest of `script` (64-bit FNV-1a, in hex): the same in every tracker
/// version, so a record written before an upgrade still compares.
fn script_digest(script: &str) -> String {
    let hash = script
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    format!("{hash:016x}")
}

/// What was found of an earlier attempt.
enum Earlier {
    /// Nothing to adopt: run the command.
    Nothing,
    /// An attempt of another command (the pipeline was edited): set aside.
    Replaced,
    /// Its recorded result.
    Adopted(ShellOutput),
}

/// An earlier attempt with the same token: its recorded result, after waiting
/// for it if it is still running. An attempt of another command is stopped
/// if it still runs, and set aside.
async fn adopt(cmd: &ShellCommand) -> Result<Earlier, ShellError> {
    let dir = &cmd.attempt_dir;
    let Some(mut record) = read_record(dir) else {
        return Ok(Earlier::Nothing);
    };
    if record.token.as_deref() != Some(cmd.token.as_str()) || cmd.token.is_empty() {
        return Ok(Earlier::Nothing);
    }
    if record
        .script
        .as_ref()
        .is_some_and(|digest| *digest != script_digest(&cmd.written))
    {
        // The command was edited since: what the old one did is not this
        // command's result, and the old one must not run beside the new.
        if let Some(shell) = live_shell(cmd, &record) {
            let _ = killpg(Pid::from_raw(shell), Signal::SIGKILL);
            wait_gone(shell, KILL_GRACE).await;
        }
        return Ok(Earlier::Replaced);
    }
    let deadline = tokio::time::Instant::now() + cmd.timeout;
    // A run cancelled while it waits here ends the adopted command, as it
    // would end one it started (checked alive at each poll).
    let mut guard: Option<GroupGuard> = None;
    // The attempt may still be running: its shell is still there.
    while record.exit.is_none() {
        let Some(shell) = live_shell(cmd, &record) else {
            break;
        };
        guard.get_or_insert_with(|| GroupGuard::new(u32::try_from(shell).unwrap_or(0)));
        if tokio::time::Instant::now() >= deadline {
            let _ = killpg(Pid::from_raw(shell), Signal::SIGKILL);
            return Err(ShellError::TimedOut(cmd.timeout));
        }
        tokio::time::sleep(ADOPT_POLL).await;
        record = read_record(dir).unwrap_or_default();
    }
    if let Some(guard) = guard {
        guard.disarm();
    }
    // Read again: the shell may have recorded its end and exited between the
    // last read and the look for it.
    if record.exit.is_none() {
        record = read_record(dir).unwrap_or_default();
    }
    let Some(code) = record.exit else {
        return Ok(Earlier::Nothing);
    };
    // Whatever the adopted command left in the background ends with it.
    if let Some((pgid, _)) = record.pgid {
        if !alive_process(pgid) {
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
        }
    }
    finish(cmd, code, true, None).map(Earlier::Adopted)
}

/// The attempt's shell, if it is still running: the process recorded in
/// `pgid` when it is still that process (same start time, not a zombie), or,
/// with no record (tracker died right after starting it), a process-group
/// leader whose command line is exactly this attempt's. Any other process
/// naming the attempt's files is not trusted.
fn live_shell(cmd: &ShellCommand, record: &Record) -> Option<i32> {
    if let Some((pid, started)) = record.pgid {
        let alive = alive_process(pid) && start_time(pid) == Some(started);
        return alive.then_some(pid);
    }
    // The wrapper's shape for this attempt: the shell, `-c`, and the trap
    // naming this attempt's record, whatever script follows (a resume may
    // fill the command's `${…}` in otherwise, or the command was edited).
    let trap = trap_prefix(cmd);
    processes()?.find_map(|dir| {
        let pid: i32 = dir.file_name()?.to_str()?.parse().ok()?;
        let cmdline = std::fs::read(dir.join("cmdline")).ok()?;
        let args: Vec<&[u8]> = cmdline
            .strip_suffix(&[0])
            .unwrap_or(&cmdline)
            .split(|b| *b == 0)
            .collect();
        let wrapper = matches!(args.as_slice(), [shell, c, script, ..]
            if *shell == SHELL.as_bytes() && *c == b"-c" && script.starts_with(&trap));
        if !wrapper {
            return None;
        }
        let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
        live_member(&stat, pid).then_some(pid)
    })
}

/// The command that runs the attempt: the shell, in its own process group, in
/// the command's directory (environment and streams are the caller's).
fn shell_command(cmd: &ShellCommand) -> std::process::Command {
    use std::os::unix::process::CommandExt as _;
    let mut args = shell_args(cmd).into_iter().skip(1);
    let mut command = std::process::Command::new(SHELL);
    command
        .args(args.by_ref().map(OsString::from_vec))
        .current_dir(&cmd.cwd)
        .process_group(0);
    command
}

/// The attempt's command line: `sh -c`, the trap that records the exit status,
/// and the script (run by the same shell when it cannot take the trap away,
/// else by a second `sh -c`; see the module docs).
fn shell_args(cmd: &ShellCommand) -> Vec<Vec<u8>> {
    let mut script = trap_prefix(cmd);
    let mut args = vec![SHELL.as_bytes().to_vec(), b"-c".to_vec()];
    if keeps_the_trap(&cmd.script) {
        script.extend_from_slice(cmd.script.as_bytes());
        args.push(script);
    } else {
        script.extend_from_slice(SHELL.as_bytes());
        script.extend_from_slice(b" -c \"$1\"");
        args.extend([script, b"sh".to_vec(), cmd.script.as_bytes().to_vec()]);
    }
    args
}

/// The start of the wrapper's script: the trap that records the exit status
/// in this attempt's record.
fn trap_prefix(cmd: &ShellCommand) -> Vec<u8> {
    let record = cmd.attempt_dir.join("attempt").into_os_string().into_vec();
    // `command`: a function the script defines cannot stand in for printf.
    let mut action = b"command printf 'exit %d\\n' \"$?\" >>".to_vec();
    action.extend(quoted(&record));
    let mut script = b"trap ".to_vec();
    script.extend(quoted(&action));
    script.extend_from_slice(b" EXIT; ");
    script
}

/// Whether `script` may run under the trapping shell itself: it names no
/// `exec` or `trap`, and runs no code the wrapper cannot read (`eval`, or a
/// file sourced with `.`). Cautious — a word merely containing one of these
/// only costs the second shell — but a guard against accidents, not against a
/// script bent on it: a command spelt with quotes or built from a variable
/// (`"ex"ec`, `$RUN` holding `exec …`) is not seen. Such a script still has
/// its end recorded by tracker when tracker outlives it; only across a crash
/// of tracker could its finished command run again.
fn keeps_the_trap(script: &str) -> bool {
    let risky = ["exec", "trap", "eval", "source"];
    let sources = script
        .split(|c: char| c.is_whitespace() || ";&|(){}`".contains(c))
        .any(|word| word == ".");
    !sources && !risky.iter().any(|word| script.contains(word))
}

/// `bytes` in single quotes for the shell (a quote inside becomes `'\''`).
fn quoted(bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![b'\''];
    for &b in bytes {
        if b == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(b);
        }
    }
    out.push(b'\'');
    out
}

/// Whether process `pid` is alive (not a zombie).
fn alive_process(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .is_some_and(|stat| !zombie(&stat))
}

/// A fresh attempt's open files.
struct Prepared {
    record: std::fs::File,
    stdout: std::fs::File,
    stderr: std::fs::File,
}

/// A fresh attempt directory holding the record (its token written) and the
/// empty, private output files, opened for the shell.
fn prepare(cmd: &ShellCommand) -> Result<Prepared, ShellError> {
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
    // The directory is new and private: nothing can be planted in it.
    let create = |name: &str| {
        let path = dir.join(name);
        tracker_runtime::private_files::create_new(&path)
            .map_err(|e| ShellError::Io(format!("create {}: {e}", path.display())))
    };
    let mut record = create("attempt")?;
    // Appending, as the shell's trap does: each line lands after the others
    // whichever writes first.
    nix::fcntl::fcntl(
        &record,
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_APPEND),
    )
    .map_err(|e| ShellError::Io(format!("open {}: {e}", dir.join("attempt").display())))?;
    // One write, before the command can start: a crash leaves the whole token
    // or a line that does not count.
    append(
        cmd,
        &mut record,
        &format!(
            "token {}\nscript {}\n",
            cmd.token,
            script_digest(&cmd.written)
        ),
    )?;
    Ok(Prepared {
        record,
        stdout: create("stdout")?,
        stderr: create("stderr")?,
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
#[path = "shell_tests.rs"]
mod tests;
