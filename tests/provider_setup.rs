//! `tracker doctor`, `tracker setup` and `tracker steer` as a user runs them.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use serde_json::json;
use tracker_tests::mock_provider::{MockProvider, Reply};
use tracker_tests::sse_bodies::{body, Turn, TurnUsage};
use tracker_tests::{in_dir, output_with_stdin, run_dirs, text};

const KEY: &str = "sk-ant-test-DOCTORCANARY-42";

/// Runs tracker in `dir` (see [`in_dir`]) with `vars` set and `stdin` as its
/// input.
fn run(dir: &Path, args: &[&str], vars: &[(&str, String)], stdin: &str) -> Output {
    let mut cmd = in_dir(dir);
    for (name, value) in vars {
        cmd.env(name, value);
    }
    output_with_stdin(cmd.args(args), stdin)
}

#[test]
fn doctor_without_providers_fails_with_a_setup_hint() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run(dir.path(), &["doctor"], &[], "");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("✗ no LLM providers configured"), "{stdout}");
    assert!(stdout.contains("tracker setup"), "{stdout}");
    assert!(stdout.contains("failures"), "{stdout}");
}

#[test]
fn doctor_says_plainly_when_the_workdir_is_missing_or_a_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("file"), "").expect("write");
    for (given, said) in [
        ("missing", "does not exist"),
        ("file", "is not a directory"),
    ] {
        let path = dir.path().join(given);
        let shown = path.display().to_string();
        let out = run(dir.path(), &["doctor", "-w", &shown], &[], "");
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{stdout}");
        assert!(stdout.contains(&format!("✗ {shown} {said}")), "{stdout}");
        assert!(
            !stdout.contains(&format!("{shown}/")),
            "no probe file named: {stdout}"
        );
    }
}

#[test]
fn doctor_probes_each_provider_and_tells_a_rejected_key_apart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ok = MockProvider::start([Reply::sse(body(
        "anthropic",
        &Turn::text("ok", TurnUsage::default()),
    ))]);
    let vars = [
        ("ANTHROPIC_API_KEY", KEY.to_string()),
        ("ANTHROPIC_BASE_URL", ok.url()),
    ];
    let out = run(dir.path(), &["doctor"], &vars, "");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("✓ anthropic: key sk-a...Y-42 from ANTHROPIC_API_KEY"),
        "{stdout}"
    );
    assert!(
        stdout.contains("✓ anthropic: reachable, key accepted"),
        "{stdout}"
    );
    assert!(!stdout.contains(KEY), "the key is masked: {stdout}");
    assert_eq!(ok.requests()[0].body["model"], "claude-haiku-4-5");
    assert!(matches!(out.status.code(), Some(0 | 2)), "{stdout}");

    let rejected = MockProvider::start([Reply::status(
        401,
        json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}).to_string(),
    )]);
    let vars = [
        ("ANTHROPIC_API_KEY", KEY.to_string()),
        ("ANTHROPIC_BASE_URL", rejected.url()),
    ];
    let out = run(dir.path(), &["doctor"], &vars, "");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("✗ anthropic: key rejected"), "{stdout}");

    let vars = [
        ("ANTHROPIC_API_KEY", KEY.to_string()),
        ("ANTHROPIC_BASE_URL", "http://127.0.0.1:9".to_string()),
    ];
    let out = run(dir.path(), &["doctor"], &vars, "");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("✗ anthropic: unreachable"), "{stdout}");
}

#[test]
fn setup_writes_a_private_env_file_that_runs_then_use() {
    let dir = tempfile::tempdir().expect("temp dir");
    let env_file = dir.path().join("home/.config/tracker/.env");
    std::fs::create_dir_all(env_file.parent().expect("parent")).expect("mkdir");
    std::fs::write(&env_file, "# my notes\nSOMETHING_ELSE=kept\n").expect("existing file");
    // anthropic key + default URL, skip openai, gemini key, skip compat.
    let answers = format!("{KEY}\n\n\n\ngemini-key-0123456789\n\n\n\n");
    let out = run(dir.path(), &["setup"], &[], &answers);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(!stdout.contains(KEY), "keys are not echoed: {stdout}");
    assert!(
        stdout.contains("providers with a key: anthropic, gemini"),
        "{stdout}"
    );
    let mode = std::fs::metadata(&env_file)
        .expect("written")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let written = std::fs::read_to_string(&env_file).expect("read");
    assert!(
        written.contains(&format!("ANTHROPIC_API_KEY={KEY}\n")),
        "{written}"
    );
    assert!(
        written.contains("GEMINI_API_KEY=gemini-key-0123456789\n"),
        "{written}"
    );
    assert!(
        written.starts_with("# my notes\nSOMETHING_ELSE=kept\n"),
        "the file's own lines stay: {written}"
    );

    let out = run(dir.path(), &["doctor", "--no-probe"], &[], "");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("✓ anthropic: key sk-a...Y-42"), "{stdout}");
    assert!(
        stdout.contains("gemini: key gemi...6789 from GEMINI_API_KEY"),
        "{stdout}"
    );

    // Input that ends at once changes nothing, and nothing is written.
    let before = std::fs::read(&env_file).expect("read");
    let out = run(dir.path(), &["setup"], &[], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("nothing changed"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(std::fs::read(&env_file).expect("read"), before);

    // `-` removes a key; Enter keeps the rest.
    let out = run(dir.path(), &["setup"], &[], "-\n\n\n\n\n\n\n\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(&env_file).expect("read");
    assert!(!written.contains("ANTHROPIC_API_KEY"), "{written}");
    assert!(
        written.contains("GEMINI_API_KEY=gemini-key-0123456789\n"),
        "{written}"
    );
}

#[test]
fn steer_refuses_runs_that_do_not_exist_and_bad_node_ids() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run(dir.path(), &["steer", "zzz", "Write", "hi"], &[], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no run"),
        "{}",
        text(&out.stderr)
    );
    for bad_run in ["..", "a/b"] {
        let out = run(dir.path(), &["steer", bad_run, "Write", "hi"], &[], "");
        assert_eq!(out.status.code(), Some(1), "{bad_run}");
        assert!(
            text(&out.stderr).contains("invalid run id"),
            "{}",
            text(&out.stderr)
        );
    }
    // A real run, stopped at its tool: its nodes are known.
    std::fs::write(
        dir.path().join("stops.dip"),
        "workflow Stops\n  start: Plan\n  exit: Done\n  agent Plan\n    prompt: plan\n  tool Check\n    timeout: 5s\n    command: exit 1\n  agent Done\n    prompt: done\n  edges\n    Plan -> Check\n    Check -> Done\n",
    )
    .expect("pipeline");
    let out = run(
        dir.path(),
        &["run", "stops.dip", "--provider", "stub"],
        &[],
        "",
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let run_dir = run_dirs(dir.path()).pop().expect("a run");
    let id = run_dir
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    for (node, message, needle) in [
        ("Plna", "hi", "has no node \"Plna\""),
        ("../x", "hi", "invalid node id"),
        ("Plan", "  ", "empty"),
        (
            "Check",
            "hi",
            "node \"Check\" is a tool node: only an agent node takes steering messages",
        ),
    ] {
        let out = run(dir.path(), &["steer", &id, node, message], &[], "");
        assert_eq!(out.status.code(), Some(1), "{node}");
        assert!(
            text(&out.stderr).contains(needle),
            "{node}: {}",
            text(&out.stderr)
        );
    }
    let out = run(dir.path(), &["steer", &id, "Plan", "be brief"], &[], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let queued: Vec<String> = std::fs::read_dir(run_dir.join("Plan/steering"))
        .expect("steering dir")
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).expect("message"))
        .collect();
    assert_eq!(queued, ["be brief"]);

    // A run that completed: nothing would read it.
    std::fs::remove_dir_all(&run_dir).expect("cleared");
    let out = run(
        dir.path(),
        &["run", "quickstart", "--provider", "stub"],
        &[],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let done = run_dirs(dir.path()).pop().expect("a run");
    let id = done
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let out = run(dir.path(), &["steer", &id, "Plan", "be brief"], &[], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("has completed"),
        "{}",
        text(&out.stderr)
    );
}
