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

/// Runs GATED once (it fails at the gate) and returns the run directory.
fn failed_gated_run(d: &Path) -> PathBuf {
    std::fs::write(d.join("flow.dip"), GATED).expect("write");
    let first = run_in(d, &["flow.dip", "--provider", "stub"]);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stderr));
    only_run(d)
}

/// Resumes the only run in `d`; returns (exit code, stderr).
fn resume(d: &Path, run: &Path) -> (Option<i32>, String) {
    let out = run_in(d, &["flow.dip", "--provider", "stub", "-r", &run_id(run)]);
    (out.status.code(), text(&out.stderr))
}

#[test]
fn a_damaged_or_missing_journal_is_refused_naming_the_file_and_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let run = failed_gated_run(d);
    let journal = run.join("checkpoint.journal");
    let header = std::fs::read_to_string(&journal).expect("journal");
    let header = header.lines().next().expect("header line").to_string();
    std::fs::write(
        &journal,
        format!("{header}\n{{\"ts\":\"x\",\"chan\n{{\"ts\":\"y\",\"changes\":[]}}\n"),
    )
    .expect("damage");
    let (code, stderr) = resume(d, &run);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("checkpoint.journal: line 2: not a journal record"),
        "{stderr}"
    );
    std::fs::remove_file(&journal).expect("remove");
    let (code, stderr) = resume(d, &run);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("checkpoint.journal is missing"), "{stderr}");
}

#[test]
fn a_run_id_in_the_checkpoint_is_never_used_as_a_path() {
    for bad in ["/tmp/tracker-escape", "../../..", "other-run"] {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        let run = failed_gated_run(d);
        let path = run.join("checkpoint.json");
        let mut cp: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        cp["run_id"] = bad.into();
        std::fs::write(&path, serde_json::to_string_pretty(&cp).expect("json")).expect("write");
        let before = tracker_tests::files_under(d);
        let (code, stderr) = resume(d, &run);
        assert_eq!(code, Some(1), "{bad}: {stderr}");
        assert!(
            stderr.contains("does not match the run directory's name"),
            "{bad}: {stderr}"
        );
        assert_eq!(tracker_tests::files_under(d), before, "{bad}: wrote files");
    }
    assert!(!Path::new("/tmp/tracker-escape").exists());
}

#[test]
fn links_planted_in_the_run_directory_are_never_followed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(
        d.join("flow.dip"),
        GATED.replace("Gate -> Done", "Gate -> Work").replace(
            "  agent Done\n",
            "  agent Work\n    label: Work\n    prompt: Say hi.\n  agent Done\n",
        ) + "    Work -> Done\n",
    )
    .expect("write");
    let first = run_in(d, &["flow.dip", "--provider", "stub"]);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stderr));
    let run = only_run(d);
    let victim = d.join("victim.txt");
    std::fs::write(&victim, "precious").expect("write");
    let id = run_id(&run);
    let live = d.join(".audit").join(&id).join("activity.jsonl");
    let planted = [
        run.join("activity.jsonl"),
        run.join("Gate").join("status.json"),
        run.join("Work").join("prompt.md"),
        run.join("Work").join("response.md"),
        run.join("Work").join("status.json"),
        live.clone(),
    ];
    std::fs::create_dir_all(run.join("Work")).expect("dir");
    for link in &planted {
        let _ = std::fs::remove_file(link);
        std::os::unix::fs::symlink(&victim, link).expect("symlink");
    }
    std::fs::write(d.join("ok"), "").expect("touch ok");
    let (code, stderr) = resume(d, &run);
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "precious",
        "{stderr}"
    );
    // The live log is refused (no event is written through the link, and the
    // run says so); the node files are replaced by real ones.
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("activity log"), "{stderr}");
    for link in &planted[1..5] {
        let meta = std::fs::symlink_metadata(link).expect("exists");
        assert!(meta.is_file(), "{} is still a link", link.display());
    }
}

#[test]
fn run_files_are_private_whatever_the_umask() {
    // One that leaves every bit, and ones that take the owner's write bit, and
    // the owner's write and execute bits (tracker sets the modes plainly then).
    for umask in ["000", "277", "377"] {
        run_files_are_private_under(umask);
    }
}

fn run_files_are_private_under(umask: &str) {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("ok"), "").expect("touch ok");
    std::fs::write(d.join("flow.dip"), GATED).expect("write");
    let tracker = tracker_tests::tracker_path();
    let template = in_dir(d);
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
        .arg(&tracker)
        .args(["flow.dip", "--provider", "stub"])
        .current_dir(d)
        .env_clear()
        .envs(
            template
                .get_envs()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
        )
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .expect("runs");
    assert_eq!(status.status.code(), Some(0), "{}", text(&status.stderr));
    let run = only_run(d);
    let mut checked = 0;
    let mut stack = vec![run.clone(), d.join(".audit")];
    while let Some(path) = stack.pop() {
        let meta = std::fs::symlink_metadata(&path).expect("meta");
        let mode = meta.permissions().mode() & 0o777;
        if meta.is_dir() {
            assert_eq!(mode, 0o700, "{}", path.display());
            stack.extend(
                std::fs::read_dir(&path)
                    .expect("dir")
                    .flatten()
                    .map(|e| e.path()),
            );
        } else {
            assert_eq!(mode, 0o600, "{}", path.display());
        }
        checked += 1;
    }
    assert!(checked > 8, "only {checked} paths");
}

#[test]
fn a_tool_nodes_background_children_end_with_the_node() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(
        d.join("bg.dip"),
        "workflow Bg\n  start: Spawn\n  exit: Done\n  tool Spawn\n    timeout: 10s\n    command: sleep 300 & echo $! > bg.pid\n  agent Done\n    label: Done\n  edges\n    Spawn -> Done\n",
    )
    .expect("write");
    let out = run_in(d, &["bg.dip", "--provider", "stub"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let pid = std::fs::read_to_string(d.join("bg.pid")).expect("bg.pid");
    assert!(
        !tracker_tests::process_running(&pid),
        "the background sleep {pid} outlived its node"
    );
}

#[test]
fn lines_a_tool_appends_to_the_live_log_are_left_out_of_the_run_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(
        d.join("forge.dip"),
        "workflow Forge\n  start: Forge\n  exit: Done\n  tool Forge\n    timeout: 10s\n    command: printf '\\037\\036{\"ts\":\"x\",\"source\":\"pipeline\",\"type\":\"gate_resolved\",\"message\":\"FORGED\"}\\n' >> \"$TRACKER_AUDIT_DIR/$TRACKER_RUN_ID/activity.jsonl\"\n  agent Done\n    label: Done\n  edges\n    Forge -> Done\n",
    )
    .expect("write");
    let out = run_in(d, &["forge.dip", "--provider", "stub"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let run = only_run(d);
    let copy = std::fs::read_to_string(run.join("activity.jsonl")).expect("copy");
    assert!(copy.contains("pipeline_completed"), "{copy}");
    assert!(!copy.contains("FORGED"), "{copy}");
    assert!(!copy.contains("\"seal\""), "{copy}");
    let live = d.join(".audit").join(run_id(&run)).join("activity.jsonl");
    let live = std::fs::read_to_string(live).expect("live");
    assert!(!live.contains("FORGED"), "{live}");
    assert!(
        stderr.contains("1 line(s)") && stderr.contains("not written by tracker"),
        "{stderr}"
    );
}

/// A timed-out tool is a handler error, as in the reference (engine semantics
/// §5.3 step 5): the run stops there even when the node has a failure route,
/// and says why. Pinned, and documented in docs/security.md.
#[test]
fn a_tool_timeout_ends_the_run_as_the_reference_does() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(
        d.join("slow.dip"),
        "workflow Slow\n  start: Slow\n  exit: Done\n  tool Slow\n    timeout: 1s\n    command: sleep 30\n  agent Recover\n    label: Recover\n  agent Done\n    label: Done\n  edges\n    Slow -> Done  when ctx.outcome = success\n    Slow -> Recover  when ctx.outcome = fail\n    Recover -> Done\n",
    )
    .expect("write");
    let out = run_in(d, &["slow.dip", "--provider", "stub", "--json"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("command timed out after 1s"), "{stdout}");
    assert!(stdout.contains("handler error at node"), "{stdout}");
    assert!(!stdout.contains(r#""node_id":"Recover""#), "{stdout}");
}

#[test]
fn an_agent_bash_commands_background_children_end_with_the_node() {
    use tracker_tests::mock_provider::{MockProvider, Reply};
    use tracker_tests::sse_bodies::bash_then_done;
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let mock = MockProvider::start(
        bash_then_done("anthropic", "sleep 300 > /dev/null 2>&1 & echo $! > bg.pid")
            .map(Reply::sse),
    );
    std::fs::write(
        d.join("agent.dip"),
        "workflow Agent\n  start: Start\n  exit: Done\n  defaults\n    provider: anthropic\n    model: claude-sonnet-4-6\n  agent Start\n    label: Start\n  agent Work\n    prompt: Start a server.\n  agent Done\n    label: Done\n  edges\n    Start -> Work\n    Work -> Done\n",
    )
    .expect("write");
    let out = in_dir(d)
        .env("ANTHROPIC_API_KEY", "sk-ant-test-background")
        .env("ANTHROPIC_BASE_URL", mock.url())
        .env("TRACKER_LLM_MAX_RETRIES", "0")
        .args(["run", "agent.dip", "--no-tui"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let pid = std::fs::read_to_string(d.join("bg.pid")).expect("bg.pid");
    assert!(
        !tracker_tests::process_running(&pid),
        "the agent's background sleep {pid} outlived its node"
    );
}

#[test]
fn a_subgraph_that_names_a_fifo_or_a_device_is_refused_without_blocking() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::os::unix::fs::symlink("/dev/zero", d.join("zero.dip")).expect("symlink");
    let status = std::process::Command::new("mkfifo")
        .arg(d.join("fifo.dip"))
        .status()
        .expect("mkfifo");
    assert!(status.success());
    for child in ["zero.dip", "fifo.dip"] {
        std::fs::write(
            d.join("flow.dip"),
            format!("workflow Flow\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  subgraph Child\n    ref: {child}\n  agent Done\n    label: Done\n  edges\n    Start -> Child\n    Child -> Done\n"),
        )
        .expect("write");
        let out = run_in(d, &["flow.dip", "--provider", "stub"]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{child}: {stderr}");
        assert!(
            stderr.contains(&format!("subgraph \"{child}\"")),
            "{stderr}"
        );
        assert!(run_dirs(d).is_empty(), "{child}");
    }
}

#[test]
fn a_tool_nodes_output_beyond_its_limit_is_not_kept_on_disk() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(
        d.join("loud.dip"),
        "workflow Loud\n  start: Loud\n  exit: Done\n  tool Loud\n    timeout: 30s\n    output_limit: 1024\n    command: head -c 20000000 /dev/zero | tr '\\000' x\n  agent Done\n    label: Done\n  edges\n    Loud -> Done\n",
    )
    .expect("write");
    let out = run_in(d, &["loud.dip", "--provider", "stub"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let inflight = only_run(d).join("Loud").join(".inflight");
    let kept = std::fs::metadata(inflight.join("stdout"))
        .expect("stdout")
        .len();
    assert_eq!(kept, 1024);
}

/// Review findings against the allowlist: a quote or backslash in a comment,
/// bash arithmetic in a parameter expansion, and a workflow widening the
/// user's list.
#[test]
fn the_allowlist_holds_against_comments_expansions_and_the_workflow() {
    let cases: [(&str, &str, &str); 4] = [
        ("      echo hi # '\n      touch P1\n      # '\n", "", "P1"),
        ("      echo hi # \\\n      touch P2\n", "", "P2"),
        ("      echo ${y:=a[$(touch P3)]} ${x:y}\n", "", "P3"),
        (
            "      echo hi\n      touch P4\n",
            "  defaults\n    tool_commands_allow: *\n",
            "P4",
        ),
    ];
    for (command, defaults, file) in cases {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        std::fs::write(
            d.join("flow.dip"),
            format!("workflow Flow\n  start: Cmd\n  exit: Done\n{defaults}  tool Cmd\n    timeout: 10s\n    command:\n{command}  agent Done\n    label: Done\n  edges\n    Cmd -> Done\n"),
        )
        .expect("write");
        let out = run_in(
            d,
            &[
                "flow.dip",
                "--provider",
                "stub",
                "--tool-allowlist",
                "echo *",
            ],
        );
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(1), "{command:?}: {all}");
        assert!(all.contains("allowlist"), "{command:?}: {all}");
        assert!(!d.join(file).exists(), "{command:?} created {file}");
    }
}

#[test]
fn a_run_still_going_cannot_be_resumed_by_a_second_process() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(
        d.join("flow.dip"),
        "workflow Live\n  start: Wait\n  exit: Done\n  tool Wait\n    timeout: 60s\n    command:\n      touch started\n      while [ ! -f go ]; do sleep 0.01; done\n  tool After\n    timeout: 10s\n    command: echo after >> count.txt\n  tool Done\n    timeout: 10s\n    command: true\n  edges\n    Wait -> After\n    After -> Done\n",
    )
    .expect("write");
    let mut first = in_dir(d)
        .args(["run", "flow.dip"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("starts");
    // Wait (polling with a deadline) until its tool is running.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !d.join("started").exists() {
        assert!(std::time::Instant::now() < deadline, "never started");
        std::thread::yield_now();
    }
    let run = only_run(d);
    let second = run_in(d, &["run", "flow.dip", "-r", &run_id(&run)]);
    std::fs::write(d.join("go"), "").expect("release");
    let stderr = text(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "is already running in tracker process {}",
            first.id()
        )),
        "{stderr}"
    );
    let first = first.wait().expect("first ends");
    assert_eq!(first.code(), Some(0));
    let count = std::fs::read_to_string(d.join("count.txt")).expect("count");
    assert_eq!(count, "after\n");
}

#[test]
fn a_planted_workflow_copy_or_a_device_pipeline_fails_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let run = failed_gated_run(d);
    let copy = run.join("workflow.dip");
    std::fs::remove_file(&copy).expect("remove");
    std::os::unix::fs::symlink("/dev/zero", &copy).expect("symlink");
    let out = run_in(d, &["run", "-r", &run_id(&run)]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("is not the regular file tracker wrote"),
        "{stderr}"
    );
    // A pipeline path that leads to a device is refused without reading it all.
    std::os::unix::fs::symlink("/dev/zero", d.join("zero.dip")).expect("symlink");
    let out = run_in(d, &["validate", "zero.dip"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("larger than 64 MiB"), "{stderr}");
}

#[test]
fn doctor_shows_no_escape_sequence_from_a_base_url() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = in_dir(dir.path())
        .env("ANTHROPIC_API_KEY", "sk-ant-test-doctor")
        .env("ANTHROPIC_BASE_URL", "http://127.0.0.1:1/\u{1b}[31mred")
        .arg("doctor")
        .output()
        .expect("runs");
    assert!(!out.stdout.contains(&0x1b), "{}", text(&out.stdout));
    assert!(!out.stderr.contains(&0x1b), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("anthropic"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn secrets_by_value_and_short_names_stay_out_of_tool_commands() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(
        d.join("env.dip"),
        "workflow E\n  start: A\n  exit: B\n  tool A\n    timeout: 5s\n    command: env > env.txt\n  agent B\n    label: B\n  edges\n    A -> B\n",
    )
    .expect("write");
    let out = in_dir(d)
        .args(["env.dip", "--provider", "stub"])
        .env("DB_PASS", "secret-1")
        .env("STRIPE_KEY", "secret-2")
        .env("GH_PAT", "secret-3")
        .env("REDIS_URL", "redis://:secret-4@localhost:6379")
        .env("HTTPS_PROXY", "http://u:secret-5@proxy:3128")
        .env("PLAIN_URL", "https://example.com/visible")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let env = std::fs::read_to_string(d.join("env.txt")).expect("env.txt");
    assert!(!env.contains("secret-"), "{env}");
    assert!(
        env.contains("PLAIN_URL=https://example.com/visible"),
        "{env}"
    );
}

#[test]
fn replayed_or_removed_live_log_lines_are_noticed() {
    for (command, expect) in [
        (
            "grep stage_started \\\"$L\\\" | head -1 >> \\\"$L\\\"",
            "were not written by tracker",
        ),
        (": > \\\"$L\\\"", "are missing"),
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        std::fs::write(
            d.join("tamper.dip"),
            format!("workflow Tamper\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  tool Tamper\n    timeout: 10s\n    command: L=\"$TRACKER_AUDIT_DIR/$TRACKER_RUN_ID/activity.jsonl\"; {command}\n  agent Done\n    label: Done\n  edges\n    Start -> Tamper\n    Tamper -> Done\n")
                .replace("\\\"", "\""),
        )
        .expect("write");
        let out = run_in(d, &["tamper.dip", "--provider", "stub"]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(stderr.contains(expect), "{command}: {stderr}");
        let copy = std::fs::read_to_string(only_run(d).join("activity.jsonl")).expect("copy");
        let started = copy.matches("\"stage_started\"").count();
        // Start, Tamper, Done: never a repeated line.
        assert!(started <= 3, "{command}: {copy}");
    }
}

#[test]
fn resume_without_the_pipeline_resolves_its_files_where_the_original_was() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let project = d.join("project");
    std::fs::create_dir_all(project.join("prompts")).expect("dirs");
    std::fs::write(project.join("prompts/work.md"), "Do the work.").expect("prompt");
    std::fs::write(
        project.join("flow.dip"),
        GATED.replace("Gate -> Done", "Gate -> Work").replace(
            "  agent Done\n",
            "  agent Work\n    label: Work\n    prompt_file: prompts/work.md\n  agent Done\n",
        ) + "    Work -> Done\n",
    )
    .expect("write");
    // Run from elsewhere, so neither the working directory nor the run
    // directory holds the prompt file.
    let first = run_in(d, &["project/flow.dip", "--provider", "stub"]);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stderr));
    std::fs::write(d.join("ok"), "").expect("touch ok");
    let run = only_run(d);
    let again = run_in(d, &["run", "--provider", "stub", "-r", &run_id(&run)]);
    let stderr = text(&again.stderr);
    assert_eq!(again.status.code(), Some(0), "{stderr}");
    let prompt = std::fs::read_to_string(run.join("Work").join("prompt.md")).expect("prompt.md");
    assert!(prompt.contains("Do the work."), "{prompt}");
}

/// `Start → Ask (an agent) → Gate (test -f ok) → Tell (an agent) → Done`.
const SPEND_THEN_GATE: &str = "workflow Spend\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  agent Ask\n    prompt: ask\n  tool Gate\n    timeout: 10s\n    command: test -f ok\n  agent Tell\n    prompt: tell\n  agent Done\n    label: Done\n  edges\n    Start -> Ask\n    Ask -> Gate\n    Gate -> Tell  when ctx.outcome = success\n    Tell -> Done\n";

#[test]
fn a_resumed_run_counts_what_it_spent_before_against_its_budget_and_in_its_totals() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("flow.dip"), SPEND_THEN_GATE).expect("write");
    // Ask spends 150 stub tokens, then the gate fails the run.
    let first = run_in(d, &["flow.dip", "--provider", "stub"]);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stdout));
    let id = run_id(&only_run(d));
    std::fs::write(d.join("ok"), "").expect("touch ok");
    // Tell's 150 more are over a 200-token budget only with Ask's counted.
    let again = run_in(
        d,
        &[
            "flow.dip",
            "--provider",
            "stub",
            "-r",
            &id,
            "--max-tokens",
            "200",
        ],
    );
    let stdout = text(&again.stdout);
    assert_eq!(again.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("budget_exceeded"), "{stdout}");
    assert!(
        stdout.contains("Tokens:    300 (in 200 / out 100)  $0.0021  (of which 150 tokens, $0.0010 before the resume)"),
        "{stdout}"
    );
    let events = std::fs::read_to_string(only_run(d).join("activity.jsonl")).expect("log");
    let last_cost = events
        .lines()
        .rev()
        .find(|l| l.contains("\"type\":\"cost_updated\""))
        .expect("a cost line");
    assert!(last_cost.contains("\"total_tokens\":300"), "{last_cost}");
    assert!(last_cost.contains("\"session_count\":2"), "{last_cost}");
    // Resumed again under the same budget, it is past it before it starts:
    // it spends nothing more.
    let third = run_in(
        d,
        &[
            "flow.dip",
            "--provider",
            "stub",
            "-r",
            &id,
            "--max-tokens",
            "200",
        ],
    );
    let stdout = text(&third.stdout);
    assert_eq!(third.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("budget_exceeded"), "{stdout}");
    assert!(stdout.contains("Tokens:    300 "), "{stdout}");
    assert!(
        !stdout.contains("llm_finish"),
        "no model was called: {stdout}"
    );
}

#[test]
fn a_resume_given_an_edited_pipeline_updates_the_runs_copy() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let run = failed_gated_run(d);
    let copy = run.join("workflow.dip");
    assert!(std::fs::read_to_string(&copy)
        .expect("copy")
        .contains("test -f ok"));
    // An edit without the node the run resumes at cannot go on: the run
    // halts, and its copy stays as it was.
    let renamed = GATED.replace("Gate", "Check");
    std::fs::write(d.join("flow.dip"), &renamed).expect("edit");
    let halted = run_in(d, &["flow.dip", "--provider", "stub", "-r", &run_id(&run)]);
    assert_eq!(halted.status.code(), Some(1), "{}", text(&halted.stdout));
    assert_eq!(std::fs::read_to_string(&copy).expect("copy"), GATED);
    // The user fixes the pipeline rather than the world.
    let fixed = GATED.replace("test -f ok", "echo fixed > fixed.txt");
    std::fs::write(d.join("flow.dip"), &fixed).expect("edit");
    let again = run_in(d, &["flow.dip", "--provider", "stub", "-r", &run_id(&run)]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert!(
        text(&again.stderr).contains("differs from the pipeline run"),
        "{}",
        text(&again.stderr)
    );
    assert!(d.join("fixed.txt").is_file());
    // `tracker -r ID` alone would now run what the run went on with.
    assert_eq!(std::fs::read_to_string(&copy).expect("copy"), fixed);
}

#[test]
fn the_printed_resume_command_works_as_pasted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::create_dir(d.join("work")).expect("workdir");
    std::fs::write(d.join("flow.dip"), GATED).expect("write");
    // Elsewhere than `.`, on the offline provider, with a parameter.
    let first = run_in(
        d,
        &[
            "flow.dip",
            "-w",
            "work",
            "--artifact-dir",
            "my runs",
            "--provider",
            "stub",
        ],
    );
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stderr));
    let stdout = text(&first.stdout);
    let hint = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Resume: "))
        .unwrap_or_else(|| panic!("no resume line: {stdout}"));
    assert!(
        hint.contains("-w work --artifact-dir 'my runs' --provider stub"),
        "{hint}"
    );
    std::fs::write(d.join("work").join("ok"), "").expect("touch ok");
    let words = shlex::split(hint).expect("a shell command");
    assert_eq!(words[0], "tracker");
    let again = tracker_tests::in_dir(d)
        .args(&words[1..])
        .output()
        .expect("resume");
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
}

#[test]
fn a_line_cut_short_by_a_crash_stays_out_of_the_resumed_runs_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let run = failed_gated_run(d);
    let id = run_id(&run);
    // The process died writing a line of its live log.
    let live = d.join(".audit").join(&id).join("activity.jsonl");
    let mut log = std::fs::read(&live).expect("live log");
    log.extend_from_slice(b"\x1f\x1e{\"ts\":\"2026-12-08T00:00:00Z\",\"source\":\"pipe");
    std::fs::write(&live, log).expect("torn line");
    std::fs::write(d.join("ok"), "").expect("touch ok");
    let (code, stderr) = resume(d, &run);
    assert_eq!(code, Some(0), "{stderr}");
    let copy = std::fs::read_to_string(run.join("activity.jsonl")).expect("copy");
    for line in copy.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    }
    assert!(copy.contains("\"pipeline_completed\""), "{copy}");
}
