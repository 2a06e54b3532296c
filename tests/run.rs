//! `tracker run`: the built-in workflows offline, exit codes, bad input (one
//! clear line, the right exit code, no run directory left behind), supervision
//! from the command line, and the run files.

use std::path::Path;

use serde_json::Value;
use tracker_tests::{in_dir, run_dirs, run_in, text};

/// Asserts a failed invocation: exit 1, exactly one stderr line starting
/// `error:` and containing `needle`, and no run directory.
fn assert_clean_failure(dir: &Path, args: &[&str], needle: &str) {
    let out = run_in(dir, args);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("warning:"))
        .collect();
    assert_eq!(errors.len(), 1, "{args:?}: {stderr}");
    assert!(errors[0].starts_with("error: "), "{args:?}: {stderr}");
    assert!(errors[0].contains(needle), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        run_dirs(dir).is_empty(),
        "{args:?} left {:?}",
        run_dirs(dir)
    );
}

const FLOW: &str = "workflow Flow\n  start: Start\n  exit: Done\n  vars\n    name: world\n  agent Start\n    label: Start\n  tool Hello\n    timeout: 10s\n    command: echo hello ${params.name} > hello.txt\n  agent Done\n    label: Done\n  edges\n    Start -> Hello\n    Hello -> Done\n";

#[test]
fn builtin_workflows_run_offline_on_the_stub_provider() {
    for args in [
        &["run", "quickstart", "--provider", "stub"][..],
        &["review_loop", "--provider", "stub", "--auto-approve"][..],
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = run_in(dir.path(), args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}\n{}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let stdout = text(&out.stdout);
        assert!(stdout.contains("pipeline_completed"), "{stdout}");
        assert!(stdout.contains("Status:    ● success"), "{stdout}");
        let runs = run_dirs(dir.path());
        assert_eq!(runs.len(), 1);
        for file in ["checkpoint.json", "activity.jsonl", "workflow.dip"] {
            assert!(
                runs[0].join(file).is_file(),
                "{file} missing in {:?}",
                runs[0]
            );
        }
    }
}

#[test]
fn params_reach_tool_commands_and_unknown_params_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("flow.dip"), FLOW).expect("write");
    let out = run_in(dir.path(), &["flow.dip", "--param", "name=tracker"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let hello = std::fs::read_to_string(dir.path().join("hello.txt")).expect("hello.txt");
    assert_eq!(hello, "hello tracker\n");
    // The summary says what the run was given (user-surface §1.4).
    assert!(
        text(&out.stdout).contains("\nParams:    name=tracker\n"),
        "{}",
        text(&out.stdout)
    );
    std::fs::remove_dir_all(dir.path().join(".tracker")).expect("clean");
    assert_clean_failure(
        dir.path(),
        &["flow.dip", "--param", "nmae=x"],
        "declares no such variable (declared: name)",
    );
}

#[test]
fn bad_input_gives_one_clear_line_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("flow.dip"), FLOW).expect("write");
    std::fs::write(
        d.join("broken.dip"),
        "workflow X\n  start: A\n  exit: B\n  agnt A\n",
    )
    .expect("write");
    std::fs::write(d.join("cycle.dip"), "workflow C\n  start: A\n  exit: B\n  agent A\n    prompt: a\n  agent B\n    prompt: b\n  edges\n    A -> B\n    B -> A\n").expect("write");
    assert_clean_failure(
        d,
        &["run", "no_such_workflow"],
        "unknown pipeline \"no_such_workflow\"",
    );
    assert_clean_failure(
        d,
        &["run", "missing/flow.dip"],
        "cannot read missing/flow.dip",
    );
    assert_clean_failure(
        d,
        &["run", "broken.dip"],
        "broken.dip:4:3: unknown node kind \"agnt\"",
    );
    assert_clean_failure(d, &["run", "cycle.dip"], "cycle.dip:");
    assert_clean_failure(d, &["run", "flow.dip", "--param", "x=1"], "--param \"x\"");
    assert_clean_failure(
        d,
        &["run", "flow.dip", "--param", "novalue"],
        "expected KEY=VALUE",
    );
    assert_clean_failure(
        d,
        &["run", "flow.dip", "--max-wall-time", "10 minutes"],
        "--max-wall-time",
    );
    assert_clean_failure(
        d,
        &["run", "flow.dip", "--supervise", "restart=sometimes"],
        "supervision policy restart",
    );
    assert_clean_failure(
        d,
        &["run", "flow.dip", "--supervise", "Helo:restart=permanent"],
        "flow.dip has no node \"Helo\"",
    );
    assert_clean_failure(
        d,
        &["run", "flow.dip", "-w", "no/such/dir"],
        "working directory",
    );
    assert_clean_failure(d, &["run", "flow.dip", "-r", "abc"], "no runs to resume");
    assert_clean_failure(d, &["run", "quickstart"], "set ANTHROPIC_API_KEY");
    // Usage errors come from the argument parser, with its usage text.
    let out = run_in(d, &["run", "flow.dip", "--frobnicate"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("error: unexpected argument '--frobnicate'"));
    let out = run_in(d, &["run", "flow.dip", "--gateway-kind", "cf-ai"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("error: invalid value 'cf-ai' for '--gateway-kind <KIND>'")
    );
    assert!(run_dirs(d).is_empty());
}

#[test]
fn an_unwritable_artifact_directory_is_refused_before_running() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("flow.dip"), FLOW).expect("write");
    // A plain file where a directory must be: unwritable even for root.
    std::fs::write(dir.path().join("blocker"), "").expect("write");
    let out = run_in(
        dir.path(),
        &["run", "flow.dip", "--artifact-dir", "blocker/runs"],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("cannot create the artifact directory"),
        "{stderr}"
    );
    assert!(!dir.path().join("hello.txt").exists(), "nothing ran");
}

#[test]
fn resume_ids_must_match_exactly_one_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("flow.dip"), FLOW).expect("write");
    let runs = d.join(".tracker").join("runs");
    for id in ["abc111111111", "abc222222222"] {
        std::fs::create_dir_all(runs.join(id)).expect("dir");
        std::fs::write(
            runs.join(id).join("checkpoint.json"),
            format!("{{\"run_id\":\"{id}\",\"current_node\":\"Start\",\"completed_nodes\":[],\"retry_counts\":{{}},\"context\":{{}},\"timestamp\":\"0001-01-01T00:00:00Z\",\"restart_count\":0}}"),
        )
        .expect("checkpoint");
    }
    let out = run_in(d, &["run", "flow.dip", "-r", "abc"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("ambiguous"), "{stderr}");
    assert!(stderr.contains("abc111111111, abc222222222"), "{stderr}");
    let out = run_in(d, &["run", "flow.dip", "-r", "zzz"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no run matches \"zzz\""));
    // A unique prefix resumes (and finishes) that run.
    let out = run_in(d, &["run", "flow.dip", "-r", "abc2"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("abc222222222"));
}

#[test]
fn exit_codes_follow_the_reference() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("fail.dip"), "workflow F\n  start: A\n  exit: B\n  tool A\n    timeout: 5s\n    command: echo building; echo cannot find libfoo >&2; exit 3\n  agent B\n    label: B\n  edges\n    A -> B\n").expect("write");
    let out = run_in(d, &["fail.dip"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    // The failure line says where the run stopped and what the step said.
    assert!(
        stderr.lines().any(|l| l.starts_with("error: ✗ Run failed")
            && l.ends_with("(node \"A\": cannot find libfoo)")),
        "{stderr}"
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("✗ Run failed\n  node \"A\": cannot find libfoo\n"),
        "{stdout}"
    );
    assert!(stdout.contains("Resume: tracker -r "));

    std::fs::write(d.join("over.dip"), "workflow O\n  start: A\n  exit: C\n  tool A\n    timeout: 5s\n    command: exit 1\n  human G\n    mode: choice\n  agent C\n    label: C\n  edges\n    A -> C  when ctx.outcome = success\n    A -> G  when ctx.outcome = fail\n    G -> C  label: accept  override: true\n").expect("write");
    let out = run_in(d, &["over.dip", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("validation_overridden"));
    let out = run_in(d, &["over.dip", "--auto-approve", "--fail-on-override"]);
    assert_eq!(out.status.code(), Some(2));

    let out = run_in(
        d,
        &["quickstart", "--provider", "stub", "--max-tokens", "100"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("budget exceeded (tokens)"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_flaky_command_is_restarted_when_its_policy_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    // Fails twice, then succeeds (state in files, so each attempt is a new process).
    std::fs::write(d.join("flaky.dip"), "workflow K\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  tool Flaky\n    timeout: 10s\n    command:\n      n=$(cat count 2>/dev/null || echo 0); echo $((n+1)) > count; [ $n -ge 2 ]\n  agent Done\n    label: Done\n  edges\n    Start -> Flaky\n    Flaky -> Done\n").expect("write");
    let out = run_in(d, &["flaky.dip", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "by default a failure is the workflow's to route"
    );
    std::fs::remove_file(d.join("count")).expect("reset");
    let out = run_in(
        d,
        &[
            "flaky.dip",
            "--json",
            "--supervise",
            "Flaky:restart=permanent,backoff=1ms..5ms",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let events: Vec<Value> = text(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let restarts = events
        .iter()
        .filter(|e| e["type"] == "node_restarted")
        .count();
    assert_eq!(restarts, 2);
    assert_eq!(
        std::fs::read_to_string(d.join("count"))
            .expect("count")
            .trim(),
        "3"
    );
}

#[test]
fn a_key_given_as_a_parameter_stays_out_of_the_checkpoint_and_the_summary() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("flow.dip"), FLOW).expect("write");
    let key = "sk-ant-param-0123456789abcdef";
    let out = in_dir(d)
        .args(["flow.dip", "--provider", "stub", "--param"])
        .arg(format!("name={key}"))
        .env("ANTHROPIC_API_KEY", key)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // The command got it (the user's choice)...
    let hello = std::fs::read_to_string(d.join("hello.txt")).expect("hello.txt");
    assert_eq!(hello, format!("hello {key}\n"));
    // ...the run's records and its summary did not.
    assert!(!text(&out.stdout).contains(key), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("Params:    name=****"),
        "{}",
        text(&out.stdout)
    );
    let run = &run_dirs(d)[0];
    for name in ["checkpoint.json", "checkpoint.journal", "activity.jsonl"] {
        let bytes = std::fs::read(run.join(name)).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(key),
            "the key is in {name}"
        );
    }
}

#[test]
fn secrets_never_reach_tool_commands() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("env.dip"), "workflow E\n  start: A\n  exit: B\n  tool A\n    timeout: 5s\n    command: env > env.txt\n  agent B\n    label: B\n  edges\n    A -> B\n").expect("write");
    let out = in_dir(d)
        .args(["env.dip"])
        .env("ANTHROPIC_API_KEY", "sk-ant-secret-1")
        .env("MY_SERVICE_TOKEN", "tok-secret-2")
        .env("HARMLESS", "visible")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let env = std::fs::read_to_string(d.join("env.txt")).expect("env.txt");
    assert!(
        !env.contains("secret-1") && !env.contains("secret-2"),
        "{env}"
    );
    assert!(env.contains("HARMLESS=visible"));
    assert!(env.contains("TRACKER_RUN_ID="));
    assert!(env.contains("TRACKER_WORKDIR="));
}

#[test]
fn simulate_prints_the_plan_without_running_anything() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("flow.dip"), FLOW).expect("write");
    let out = run_in(dir.path(), &["simulate", "flow.dip"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Execution Plan"), "{stdout}");
    assert!(stdout.contains("└─> Hello"), "{stdout}");
    assert!(!dir.path().join("hello.txt").exists());
    assert!(run_dirs(dir.path()).is_empty());
}

#[test]
fn init_copies_a_builtin_and_never_overwrites() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run_in(dir.path(), &["init", "quickstart"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(dir.path().join("quickstart.dip").is_file());
    let out = run_in(dir.path(), &["init", "quickstart"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("already exists"));
    let out = run_in(dir.path(), &["init"]);
    assert_eq!(out.status.code(), Some(1));
    // The local copy now shadows the built-in and runs, and its scenario
    // tests came with it.
    let out = run_in(dir.path(), &["quickstart", "--provider", "stub"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(dir.path().join("quickstart.test.json").is_file());
    let out = run_in(dir.path(), &["test", "quickstart"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn gates_are_answered_on_the_console() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("gate.dip"), "workflow G\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  human Pick\n    label: \"Which way?\"\n    mode: choice\n  tool Left\n    timeout: 5s\n    command: echo left > way.txt\n  tool Right\n    timeout: 5s\n    command: echo right > way.txt\n  agent Done\n    label: Done\n  edges\n    Start -> Pick\n    Pick -> Left  label: left\n    Pick -> Right  label: right\n    Left -> Done\n    Right -> Done\n").expect("write");
    let mut child = in_dir(d)
        .args(["gate.dip"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"rihgt\n2\n")
        .expect("answer");
    let out = child.wait_with_output().expect("finishes");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("Which way?"), "{stderr}");
    assert!(
        stderr.contains("  1. left (default)") && stderr.contains("  2. right"),
        "{stderr}"
    );
    // A line that names no choice is asked again, not taken as a route.
    assert!(
        stderr.contains("\"rihgt\" is not one of gate \"Pick\"'s choices: left, right"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("way.txt")).expect("way"),
        "right\n"
    );

    // The end of input picks the gate's default, as the reference's console
    // does, given as the edge's `choice:` key.
    let with_default = std::fs::read_to_string(d.join("gate.dip"))
        .expect("read")
        .replace(
            "    mode: choice\n",
            "    mode: choice\n    default: go_right\n",
        )
        .replace("label: right", "label: right  choice: go_right");
    std::fs::write(d.join("default.dip"), with_default).expect("write");
    let out = run_in(d, &["default.dip"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("end of input: taking the default, \"go_right\""));
    assert_eq!(
        std::fs::read_to_string(d.join("way.txt")).expect("way"),
        "right\n"
    );

    // A gate with no default fails its run at the end of input: no hang, and
    // no answer made up (its first option, a yes/no gate's "Yes", is nobody's).
    std::fs::write(d.join("text.dip"), "workflow T\n  start: Ask\n  exit: Done\n  human Ask\n    mode: freeform\n  agent Done\n    label: Done\n  edges\n    Ask -> Done\n").expect("write");
    for file in ["gate.dip", "text.dip"] {
        let out = run_in(d, &[file]);
        assert_eq!(out.status.code(), Some(1), "{file}");
        assert!(
            text(&out.stderr).contains("standard input is closed"),
            "{file}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn a_console_gate_that_times_out_takes_its_default_and_the_process_exits() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("wait.dip"), "workflow W\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  human Ask\n    mode: choice\n    default: later\n    timeout: 200ms\n  tool Now\n    timeout: 5s\n    command: true\n  agent Done\n    label: Done\n  edges\n    Start -> Ask\n    Ask -> Now  label: now\n    Ask -> Done  label: later\n    Now -> Done\n").expect("write");
    // stdin stays open and silent: nobody answers.
    let mut child = in_dir(d)
        .args(["wait.dip", "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    let stdin = child.stdin.take();
    let out = child
        .wait_with_output()
        .expect("finishes without an answer");
    drop(stdin);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let resolved = text(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| e["type"] == "gate_resolved")
        .expect("gate resolved");
    assert_eq!(resolved["gate_timed_out"], true);
    assert_eq!(resolved["gate_response"], "later");
}

#[test]
fn a_graphviz_run_resumes_from_its_own_copy() {
    let dir = tempfile::tempdir().expect("temp dir");
    // It fails at `check` until the file `ok` exists.
    let dot = "digraph d {\n  start [shape=Mdiamond];\n  work [shape=box prompt=\"Do it\"];\n  check [shape=parallelogram tool_command=\"test -e ok\" timeout=\"10s\"];\n  done [shape=Msquare];\n  start -> work;\n  work -> check;\n  check -> done;\n}\n";
    std::fs::write(dir.path().join("flow.dot"), dot).expect("write");
    let out = run_in(dir.path(), &["run", "flow.dot", "--provider", "stub"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    std::fs::write(dir.path().join("ok"), "").expect("ok");
    let run = run_dirs(dir.path()).pop().expect("a run");
    assert!(run.join("workflow.dot").is_file(), "kept as Graphviz");
    let id = run
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let out = run_in(dir.path(), &["run", "-r", &id, "--provider", "stub"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// Runs [`FLOW`] to its end in `d`: its run directory and activity log.
fn completed_flow(d: &Path) -> (std::path::PathBuf, String) {
    std::fs::write(d.join("flow.dip"), FLOW).expect("write");
    let out = run_in(d, &["run", "flow.dip", "--provider", "stub"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let [run] = run_dirs(d).try_into().expect("one run");
    let log = std::fs::read_to_string(run.join("activity.jsonl")).expect("log");
    (run, log)
}

#[test]
fn the_activity_log_never_goes_back_in_time() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, log) = completed_flow(dir.path());
    let stamps: Vec<String> = log
        .lines()
        .map(|line| {
            let event: Value = serde_json::from_str(line).expect("a JSON line");
            event["ts"].as_str().expect("ts").to_string()
        })
        .collect();
    assert!(stamps.len() > 10, "{log}");
    // Every stamp has the same layout, so text order is time order.
    for pair in stamps.windows(2) {
        assert!(pair[0] <= pair[1], "{} then {}\n{log}", pair[0], pair[1]);
    }
}

#[test]
fn a_completed_run_is_not_resumed_and_its_exit_step_not_run_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    // Its exit node is an agent: resuming would call the model again.
    let (run, log) = completed_flow(d);
    let id = run.file_name().expect("id").to_string_lossy().into_owned();
    let out = run_in(d, &["run", "flow.dip", "-r", &id, "--provider", "stub"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("run {id} completed; there is nothing to resume")),
        "{stderr}"
    );
    let after = std::fs::read_to_string(run.join("activity.jsonl")).expect("log");
    assert_eq!(after, log, "nothing ran");
}

/// A child workflow whose tool prints `PASS` once every copy of it runs (a
/// barrier: each copy waits for the others' `started.*` files).
const CHILD: &str = "workflow Child\n  start: CStart\n  exit: CDone\n  agent CStart\n    label: CStart\n  tool Work\n    timeout: 60s\n    marker_grep: \"(PASS|FAIL)\"\n    command:\n      touch started.$$\n      while [ $(ls started.* | wc -l) -lt 2 ]; do sleep 0.05; done\n      echo PASS\n  agent CDone\n    label: CDone\n  edges\n    CStart -> Work\n    Work -> CDone  on PASS\n    Work -> CDone  on FAIL\n";

#[test]
fn copies_of_one_child_workflow_running_at_once_keep_their_own_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("child.dip"), CHILD).expect("write");
    let parent = "workflow Parent\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  subgraph Sub\n    ref: child.dip\n  agent Done\n    label: Done\n  edges\n    Start -> Sub\n    Sub -> Done\n";
    std::fs::write(d.join("a.dip"), parent).expect("write");
    std::fs::write(d.join("b.dip"), parent).expect("write");
    // Both children's commands run at the same time (the barrier); each must
    // read its own PASS.
    let out = run_in(
        d,
        &["run", "a.dip", "b.dip", "--provider", "stub", "--json"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let passed = text(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| {
            e["type"] == "decision_outcome"
                && e["node_id"].as_str().is_some_and(|n| n.ends_with("Work"))
        })
        .filter(|e| e["context_updates"]["tool_stdout"] == "PASS")
        .count();
    assert_eq!(passed, 2);
    // And nothing of theirs is left in the working directory: their private
    // directories (under `.tracker/tmp`, on the workdir's disk) are gone.
    assert!(!d.join("Work/.inflight").exists());
    let left: Vec<_> = std::fs::read_dir(d.join(".tracker/tmp"))
        .expect("the scratch directory")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
