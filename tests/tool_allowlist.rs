//! `--tool-allowlist` and `tool_commands_allow` end to end: every command of
//! a list or pipeline must be allowed, syntax the patterns cannot see is
//! refused before anything runs, and the agent's `bash` is held to the same
//! list.

use std::path::Path;
use std::process::Output;

use tracker_tests::mock_provider::{MockProvider, Recorded, Reply};
use tracker_tests::sse_bodies::bash_then_done;
use tracker_tests::{in_dir, text};

/// `Start → Cmd (tool running `command`) → Done`, with `defaults` lines.
fn flow(command: &str, defaults: &str) -> String {
    format!(
        "workflow Flow\n  start: Start\n  exit: Done\n{defaults}  agent Start\n    label: Start\n  tool Cmd\n    timeout: 10s\n    command: {command}\n  agent Done\n    label: Done\n  edges\n    Start -> Cmd\n    Cmd -> Done\n"
    )
}

fn run(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut cmd = in_dir(dir);
    cmd.env("TRACKER_LLM_MAX_RETRIES", "0")
        .env("TRACKER_STREAM_IDLE_TIMEOUT", "5s");
    for (name, value) in vars {
        cmd.env(name, value);
    }
    cmd.args(args).output().expect("tracker runs")
}

#[test]
fn an_allowlist_lets_no_bypass_run() {
    let bypasses = [
        (
            "echo hi & touch P1",
            "P1",
            "\"touch P1\" is not in the allowlist",
        ),
        ("echo `touch P2`", "P2", "backquotes"),
        ("echo $(touch P3)", "P3", "command substitution"),
        (
            "echo x | tee P4",
            "P4",
            "\"tee P4\" is not in the allowlist",
        ),
        ("echo x > P5", "P5", "redirection to or from a file"),
    ];
    for (command, file, why) in bypasses {
        // From the command line, and from the workflow.
        for (defaults, args) in [
            (
                "",
                &["run", "flow.dip", "--no-tui", "--tool-allowlist", "echo *"][..],
            ),
            (
                "  defaults\n    tool_commands_allow: echo *\n",
                &["run", "flow.dip", "--no-tui"][..],
            ),
        ] {
            let dir = tempfile::tempdir().expect("temp dir");
            std::fs::write(dir.path().join("flow.dip"), flow(command, defaults)).expect("write");
            let out = run(dir.path(), args, &[]);
            let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
            assert!(
                !dir.path().join(file).exists(),
                "{command:?} ({args:?}) created {file}:\n{all}"
            );
            assert_eq!(out.status.code(), Some(1), "{command:?}: {all}");
            assert!(all.contains("allowlist"), "{command:?}: {all}");
            assert!(all.contains(why), "{command:?}: wanted {why:?} in {all}");
        }
    }
    // What the allowlist covers still runs.
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("flow.dip"),
        flow("echo 'a;b' \"$(not run)\" 2>&1 | echo ok", ""),
    )
    .expect("write");
    let out = run(
        dir.path(),
        &["run", "flow.dip", "--no-tui", "--tool-allowlist", "echo *"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "double quotes do not hide $(…)");
    std::fs::write(
        dir.path().join("flow.dip"),
        flow("echo 'a;b $(x)' 2>&1 | echo ok >/dev/null", ""),
    )
    .expect("write");
    let out = run(
        dir.path(),
        &["run", "flow.dip", "--no-tui", "--tool-allowlist", "echo *"],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// The tool result the model got back for its call (anthropic's shape).
fn tool_result(request: &Recorded) -> serde_json::Value {
    request.body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["role"] == "user")
        .flat_map(|m| m["content"].as_array().cloned().unwrap_or_default())
        .find(|b| b["type"] == "tool_result")
        .unwrap_or_default()
}

#[test]
fn the_agent_bash_tool_is_held_to_the_allowlist() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mock =
        MockProvider::start(bash_then_done("anthropic", "echo hi & touch P6").map(Reply::sse));
    let dip = "workflow Agent\n  start: Start\n  exit: Done\n  defaults\n    provider: anthropic\n    model: claude-sonnet-4-6\n  agent Start\n    label: Start\n  agent Work\n    prompt: Run the command.\n  agent Done\n    label: Done\n  edges\n    Start -> Work\n    Work -> Done\n";
    std::fs::write(dir.path().join("agent.dip"), dip).expect("write");
    let url = mock.url();
    let out = run(
        dir.path(),
        &["run", "agent.dip", "--no-tui", "--tool-allowlist", "echo *"],
        &[
            ("ANTHROPIC_API_KEY", "sk-ant-test-allowlist"),
            ("ANTHROPIC_BASE_URL", url.as_str()),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(!dir.path().join("P6").exists(), "the agent's command ran");
    let requests = mock.requests();
    assert_eq!(requests.len(), 2);
    let result = tool_result(&requests[1]);
    assert_eq!(result["is_error"], true, "{result}");
    let content = result["content"].to_string();
    assert!(
        content.contains("\\\"touch P6\\\" is not in the allowlist"),
        "{content}"
    );
}
