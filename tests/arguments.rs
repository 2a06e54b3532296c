//! Command-line values that used to be misread: a wall time too large to
//! represent, an empty `--tool-allowlist` (which meant no allowlist at all),
//! and paths that are not UTF-8.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use tracker_tests::{in_dir, run_dirs, run_in, text};

/// Two tool nodes; the first writes `out.txt` in the working directory.
const FLOW: &str = "workflow U\n  start: A\n  exit: B\n  tool A\n    timeout: 5s\n    command: echo hi > out.txt\n  tool B\n    timeout: 5s\n    command: true\n  edges\n    A -> B\n";

#[test]
fn a_wall_time_too_large_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("flow.dip"), FLOW).expect("write");
    let out = run_in(d, &["run", "flow.dip", "--max-wall-time", "2562048h"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("--max-wall-time \"2562048h\": too large"),
        "{stderr}"
    );
    assert!(!stderr.contains("not a duration"), "{stderr}");
    assert!(run_dirs(d).is_empty());
    // The largest one is accepted.
    let out = run_in(d, &["run", "flow.dip", "--max-wall-time", "2562047h"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn an_empty_tool_allowlist_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("flow.dip"), FLOW).expect("write");
    for value in ["", " ", ",", " , "] {
        let out = run_in(d, &["run", "flow.dip", "--tool-allowlist", value]);
        assert_eq!(out.status.code(), Some(1), "{value:?}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("--tool-allowlist") && stderr.contains("no pattern given"),
            "{value:?}: {stderr}"
        );
        assert!(!d.join("out.txt").exists(), "{value:?}: the run started");
    }
    assert!(run_dirs(d).is_empty());
}

/// A directory under `root` whose name has the byte 0xff (not UTF-8), holding
/// `flow.dip`.
fn non_utf8_dir(root: &Path) -> std::path::PathBuf {
    let dir = root.join(OsStr::from_bytes(b"we\xffird"));
    std::fs::create_dir(&dir).expect("create");
    std::fs::write(dir.join("flow.dip"), FLOW).expect("write");
    dir
}

#[test]
fn pipelines_and_working_directories_need_not_be_utf8() {
    let root = tempfile::tempdir().expect("temp dir");
    let weird = non_utf8_dir(root.path());
    let pipeline = weird.join("flow.dip");

    // `tracker run <path>` and `tracker <path>`, from outside.
    for args in [
        vec![OsStr::new("run"), pipeline.as_os_str()],
        vec![pipeline.as_os_str()],
    ] {
        let out = in_dir(root.path()).args(&args).output().expect("runs");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(
            std::fs::read_to_string(root.path().join("out.txt")).expect("out.txt"),
            "hi\n"
        );
        std::fs::remove_file(root.path().join("out.txt")).expect("clean");
    }

    // `-w <dir>`: the run, its artifacts and its tools live there.
    let out = in_dir(root.path())
        .arg("run")
        .arg("-w")
        .arg(&weird)
        .arg(&pipeline)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(weird.join("out.txt").is_file());
    assert_eq!(run_dirs(&weird).len(), 1);

    // From inside it, by name.
    let out = in_dir(root.path())
        .current_dir(&weird)
        .args(["run", "flow"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // With the shell's `PWD` and `HOME` there too (as `cd` into it sets them).
    let out = in_dir(root.path())
        .current_dir(&weird)
        .env("PWD", &weird)
        .env("HOME", &weird)
        .args(["run", "flow"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("panicked"));

    // And the commands that only read it.
    for command in ["validate", "check", "simulate"] {
        let out = in_dir(root.path())
            .arg(command)
            .arg(&pipeline)
            .output()
            .expect("runs");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{command}: {}",
            text(&out.stderr)
        );
    }
}
