//! `tracker run A.dip B.dip …`: several pipelines in one process, each in its
//! own run directory, a table at the end, exit 1 when any run did not
//! succeed, `--max-concurrent`, and bad input that leaves nothing behind.

use std::path::Path;

use tracker_tests::{run_dirs, run_in, text};

/// A pipeline whose one tool node runs `command`.
fn pipeline(name: &str, command: &str) -> String {
    format!(
        "workflow {name}\n  start: Start\n  exit: Done\n  vars\n    who: nobody\n  agent Start\n    label: Start\n  tool Work\n    timeout: 20s\n    command: {command}\n  agent Done\n    label: Done\n  edges\n    Start -> Work\n    Work -> Done\n"
    )
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write a pipeline");
}

#[test]
fn two_pipelines_run_in_one_process_each_with_its_own_run_directory() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "a.dip", &pipeline("A", "echo from-a > a.txt"));
    write(dir.path(), "b.dip", &pipeline("B", "echo from-b > b.txt"));
    let out = run_in(dir.path(), &["run", "--provider", "stub", "a.dip", "b.dip"]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    let runs = run_dirs(dir.path());
    assert_eq!(runs.len(), 2, "{runs:?}");
    for run in &runs {
        let id = run.file_name().and_then(|n| n.to_str()).expect("an id");
        assert!(run.join("activity.jsonl").is_file(), "{run:?}");
        // The table has a row for the run, and says it succeeded.
        let row = stdout
            .lines()
            .find(|l| l.contains(id) && !l.starts_with("tracker:"))
            .unwrap_or_else(|| panic!("no row for {id} in {stdout}"));
        assert!(row.contains("success"), "{row}");
    }
    assert!(stdout.contains("═══ Runs ═══"), "{stdout}");
    assert!(
        stdout.contains("2 runs: 2 succeeded, 0 did not"),
        "{stdout}"
    );
    // Each pipeline's lines are labelled with it.
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("[a.dip] ") && l.contains("pipeline_completed")),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("[b.dip] ") && l.contains("pipeline_completed")),
        "{stdout}"
    );
    for (file, says) in [("a.txt", "from-a"), ("b.txt", "from-b")] {
        let written = std::fs::read_to_string(dir.path().join(file)).expect(file);
        assert_eq!(written.trim(), says);
    }
}

#[test]
fn a_failing_run_among_several_makes_the_exit_code_one_and_says_how_to_resume_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "good.dip", &pipeline("Good", "true"));
    write(dir.path(), "bad.dip", &pipeline("Bad", "exit 3"));
    let out = run_in(
        dir.path(),
        &["run", "--provider", "stub", "good.dip", "bad.dip"],
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains("2 runs: 1 succeeded, 1 did not"),
        "{stdout}"
    );
    let resume = stdout
        .lines()
        .find(|l| l.starts_with("Resume: tracker -r "))
        .unwrap_or_else(|| panic!("no resume line in {stdout}"));
    // With the flags the runs were started with: pasted, it runs as they did.
    assert!(resume.ends_with(" bad.dip --provider stub"), "{resume}");
    let failed_id = resume
        .split_whitespace()
        .nth(3)
        .expect("the failed run's id");
    assert!(
        dir.path().join(".tracker/runs").join(failed_id).is_dir(),
        "{failed_id}"
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("error: {failed_id}: ✗ Run failed")),
        "{stderr}"
    );
}

#[test]
fn a_broken_pipeline_among_several_stops_them_all_before_anything_is_created() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "good.dip", &pipeline("Good", "true"));
    write(
        dir.path(),
        "broken.dip",
        "workflow Broken\n  start: Nowhere\n",
    );
    let out = run_in(
        dir.path(),
        &["run", "--provider", "stub", "good.dip", "broken.dip"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        run_dirs(dir.path()).is_empty(),
        "{:?}",
        run_dirs(dir.path())
    );
    assert!(!dir.path().join("a.txt").exists());

    let out = run_in(dir.path(), &["run", "-r", "abc", "good.dip", "good.dip"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--resume takes at most one pipeline"),
        "{}",
        text(&out.stderr)
    );

    let out = run_in(
        dir.path(),
        &[
            "run",
            "--provider",
            "stub",
            "--param",
            "nobody=x",
            "good.dip",
            "good.dip",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("none of the pipelines declares"),
        "{}",
        text(&out.stderr)
    );
    assert!(run_dirs(dir.path()).is_empty());
}

#[test]
fn max_concurrent_one_runs_the_pipelines_one_after_another() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Each run writes a start and an end line around a pause; with one slot,
    // no run's lines can fall between another's.
    let step = |name: &str| {
        format!("echo start-{name} >> ledger.txt && sleep 0.2 && echo end-{name} >> ledger.txt")
    };
    for name in ["p", "q", "r"] {
        write(
            dir.path(),
            &format!("{name}.dip"),
            &pipeline(name, &step(name)),
        );
    }
    let out = run_in(
        dir.path(),
        &[
            "run",
            "--provider",
            "stub",
            "--max-concurrent",
            "1",
            "--param",
            "who=someone",
            "p.dip",
            "q.dip",
            "r.dip",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let ledger = std::fs::read_to_string(dir.path().join("ledger.txt")).expect("ledger");
    let lines: Vec<&str> = ledger.lines().collect();
    assert_eq!(lines.len(), 6, "{ledger}");
    for pair in lines.chunks(2) {
        let started = pair[0].strip_prefix("start-").expect("a start");
        assert_eq!(pair[1], format!("end-{started}"), "{ledger}");
    }
    assert_eq!(run_dirs(dir.path()).len(), 3);
}

#[test]
fn each_runs_gate_on_the_console_says_whose_it_is() {
    let dir = tempfile::tempdir().expect("temp dir");
    let gated = |name: &str| {
        format!(
            "workflow {name}\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  human Pick\n    mode: choice\n    default: on\n  agent Done\n    label: Done\n  agent Other\n    label: Other\n  edges\n    Start -> Pick\n    Pick -> Done  label: on\n    Pick -> Other  label: off\n    Other -> Done\n"
        )
    };
    write(dir.path(), "a.dip", &gated("A"));
    write(dir.path(), "b.dip", &gated("B"));
    // No input: each gate takes its default at the end of input.
    let out = run_in(dir.path(), &["run", "--provider", "stub", "a.dip", "b.dip"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    for name in ["a.dip", "b.dip"] {
        assert!(
            stderr.contains(&format!("── gate Pick (choice) of {name} ──")),
            "{stderr}"
        );
    }
}
