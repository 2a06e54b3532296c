//! Hardening: what a hostile but fair user tries against resume, the run
//! directory and tool processes (issue 8). Each test reproduces one finding.

use std::path::{Path, PathBuf};

use tracker_tests::{in_dir, run_dirs, run_in, text};

/// `Start → Gate (test -f ok) → Done when ctx.outcome = success`.
const GATED: &str = "workflow Gated\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  tool Gate\n    timeout: 10s\n    command: test -f ok\n  agent Done\n    label: Done\n  edges\n    Start -> Gate\n    Gate -> Done  when ctx.outcome = success\n";

/// The only run directory under `dir`.
fn only_run(dir: &Path) -> PathBuf {
    let mut runs = run_dirs(dir);
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs.remove(0)
}

fn run_id(run: &Path) -> String {
    run.file_name()
        .and_then(|n| n.to_str())
        .expect("run id")
        .to_string()
}

#[test]
fn resume_retries_a_tool_node_that_failed_when_the_run_ended() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("flow.dip"), GATED).expect("write");
    let first = run_in(d, &["flow.dip", "--provider", "stub"]);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stdout));
    let id = run_id(&only_run(d));
    // The summary's own advice must work: fix the cause, resume.
    assert!(text(&first.stdout).contains(&id), "{}", text(&first.stdout));
    std::fs::write(d.join("ok"), "").expect("touch ok");
    let again = run_in(d, &["flow.dip", "--provider", "stub", "-r", &id]);
    let stdout = text(&again.stdout);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&again.stderr)
    );
    assert!(!stdout.contains("adopted"), "{stdout}");
    assert!(stdout.contains("Status:    ● success"), "{stdout}");
}
