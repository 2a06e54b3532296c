//! Stopping a run from outside: SIGINT (Ctrl-C), SIGTERM (`kill`, a service
//! manager, a container stopping) and SIGHUP (the terminal went away) each
//! cancel the run the same way. The running tool's process group is killed,
//! the run directory keeps its activity log and checkpoint, tracker exits 1,
//! and `-r` resumes the run.

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tracker_tests::{in_dir, run_dirs, text};

/// A tool node that records its shell's pid and then sleeps for long, unless
/// the run is being resumed (file `resume`), when it finishes at once.
const LONG: &str = "workflow Long\n  start: Wait\n  exit: Done\n  tool Wait\n    timeout: 600s\n    command:\n      if [ -f resume ]; then echo resumed > resumed.txt; exit 0; fi\n      echo $$ > pid.tmp && mv pid.tmp pid\n      sleep 300\n  tool Done\n    timeout: 10s\n    command: true\n  edges\n    Wait -> Done\n";

/// How long a test waits for something that takes well under a second.
const DEADLINE: Duration = Duration::from_secs(60);

/// Polls `ready` until it gives a value or [`DEADLINE`] passes.
fn poll<T>(what: &str, mut ready: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = ready() {
            return value;
        }
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `(state, process group)` of process `pid`, from `/proc/<pid>/stat`.
fn proc_stat(pid: &str) -> Option<(char, String)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid pgrp …`; comm may hold spaces and parentheses.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    Some((state, fields.next()?.to_string()))
}

/// The processes of group `pgid` that are still running (zombies are not).
fn live_members(pgid: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str().map(String::from))
                .filter(|name| name.bytes().all(|b| b.is_ascii_digit()))
                .filter(|pid| {
                    proc_stat(pid).is_some_and(|(state, group)| state != 'Z' && group == pgid)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Kills what a failed test leaves behind: a tracker still running, and the
/// tool's process group (which outlives a tracker killed by a signal it does
/// not handle).
struct Cleanup {
    tracker: Option<Child>,
    group: Option<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(child) = &mut self.tracker {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(group) = &self.group {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{group}")])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Starts `tracker run flow.dip` in `dir`, its output in files there.
fn start(dir: &Path) -> Child {
    in_dir(dir)
        .args(["run", "flow.dip"])
        .stdin(Stdio::null())
        .stdout(File::create(dir.join("stdout.txt")).expect("stdout file"))
        .stderr(File::create(dir.join("stderr.txt")).expect("stderr file"))
        .spawn()
        .expect("tracker starts")
}

/// Waits for `child` to exit.
fn wait(child: &mut Child) -> ExitStatus {
    poll("tracker to exit", || child.try_wait().expect("status"))
}

/// Sends `signal` (`INT`, `TERM`, `HUP`) to tracker mid-run and checks that
/// the run was cancelled as Ctrl-C cancels it, then resumes it.
fn cancels_like_ctrl_c(signal: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("flow.dip"), LONG).expect("write");
    let mut cleanup = Cleanup {
        tracker: Some(start(d)),
        group: None,
    };
    let pid = poll("the tool to start", || {
        std::fs::read_to_string(d.join("pid"))
            .ok()
            .map(|p| p.trim().to_string())
    });
    let (_, group) = proc_stat(&pid).expect("the tool is running");
    cleanup.group = Some(group.clone());

    let tracker = cleanup.tracker.as_mut().expect("tracker");
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &tracker.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let status = wait(tracker);
    cleanup.tracker = None;
    let stdout = std::fs::read_to_string(d.join("stdout.txt")).unwrap_or_default();
    let stderr = std::fs::read_to_string(d.join("stderr.txt")).unwrap_or_default();

    // Exit 1 with the cancellation said, as for Ctrl-C (not killed by the
    // signal, which would leave the tool running).
    assert_eq!(status.code(), Some(1), "SIG{signal}: {status:?}\n{stderr}");
    assert!(stderr.contains("cancelling run"), "SIG{signal}: {stderr}");
    assert!(
        stdout.contains("Status:    ● fail"),
        "SIG{signal}: {stdout}"
    );
    // The tool's whole process group is gone.
    poll("the tool's processes to end", || {
        live_members(&group).is_empty().then_some(())
    });
    cleanup.group = None;

    // The run directory has the activity log, ending with the failure, and a
    // checkpoint.
    let runs = run_dirs(d);
    assert_eq!(runs.len(), 1, "{runs:?}");
    let run = &runs[0];
    let activity = std::fs::read_to_string(run.join("activity.jsonl")).expect("activity.jsonl");
    let last = activity.lines().last().expect("events");
    let last: serde_json::Value = serde_json::from_str(last).expect("JSON line");
    assert_eq!(last["type"], "pipeline_failed", "SIG{signal}: {activity}");
    let checkpoint: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(run.join("checkpoint.json")).expect("checkpoint.json"),
    )
    .expect("checkpoint parses");
    let id = run
        .file_name()
        .and_then(|n| n.to_str())
        .expect("run id")
        .to_string();
    assert_eq!(checkpoint["run_id"], id.as_str());

    // And the run resumes to its end.
    std::fs::write(d.join("resume"), "").expect("write");
    let out = in_dir(d)
        .args(["run", "flow.dip", "-r", &id])
        .output()
        .expect("resume runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "SIG{signal} resume: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(d.join("resumed.txt").is_file());
}

#[test]
fn sigint_cancels_the_run_and_kills_its_tool() {
    cancels_like_ctrl_c("INT");
}

#[test]
fn sigterm_cancels_the_run_like_ctrl_c() {
    cancels_like_ctrl_c("TERM");
}

#[test]
fn sighup_cancels_the_run_like_ctrl_c() {
    cancels_like_ctrl_c("HUP");
}

/// A fan-out of X (done at once) and Y (waits, until `release` exists).
const FAN_OUT: &str = "workflow Fan\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  parallel P -> X, Y\n  tool X\n    timeout: 60s\n    command: echo X >> log.txt\n  tool Y\n    timeout: 600s\n    command:\n      if [ -f release ]; then echo Y >> log.txt; exit 0; fi\n      echo $$ > pid.tmp && mv pid.tmp pid\n      sleep 300\n  fan_in J <- X, Y\n  agent Done\n    label: Done\n  edges\n    Start -> P\n    J -> Done\n";

#[test]
fn a_branch_that_finished_before_ctrl_c_is_not_run_again_on_resume() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("flow.dip"), FAN_OUT).expect("write");
    let mut cleanup = Cleanup {
        tracker: Some(start(d)),
        group: None,
    };
    // X has finished and Y is running.
    let pid = poll("Y to start", || {
        std::fs::read_to_string(d.join("pid"))
            .ok()
            .map(|p| p.trim().to_string())
    });
    poll("X to finish", || {
        std::fs::read_to_string(d.join("log.txt"))
            .ok()
            .filter(|log| log == "X\n")
    });
    let (_, group) = proc_stat(&pid).expect("Y is running");
    cleanup.group = Some(group);
    let tracker = cleanup.tracker.as_mut().expect("tracker");
    let sent = Command::new("kill")
        .args(["-INT", &tracker.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    assert_eq!(wait(tracker).code(), Some(1));
    cleanup.tracker = None;

    // The resume adopts X's result and runs Y, which was cut short, again.
    std::fs::write(d.join("release"), "").expect("write");
    let runs = run_dirs(d);
    let id = runs[0].file_name().and_then(|n| n.to_str()).expect("id");
    let out = in_dir(d)
        .args(["run", "flow.dip", "-r", id])
        .output()
        .expect("resume runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(d.join("log.txt")).expect("log"),
        "X\nY\n"
    );
    cleanup.group = None;
}
