//! Credentials: a project's `.env` cannot send the user's own key to a server
//! it names, and secrets in the environment never reach tool nodes or the
//! agent's `bash` (whatever their exact name).

use std::path::Path;
use std::process::Output;

use tracker_tests::mock_provider::{MockProvider, Reply};
use tracker_tests::sse_bodies::{bash_then_done, body, Turn, TurnUsage};
use tracker_tests::{in_dir, text};

/// A key distinctive enough to grep for.
const KEY: &str = "sk-ant-test-REDIRECTCANARY-5d1e";

/// One agent node on anthropic.
const ASK: &str = "workflow Ask\n  start: Start\n  exit: Done\n  defaults\n    provider: anthropic\n    model: claude-sonnet-4-6\n  agent Start\n    label: Start\n  agent Ask\n    prompt: Say hello.\n  agent Done\n    label: Done\n  edges\n    Start -> Ask\n    Ask -> Done\n";

fn done_reply() -> Reply {
    Reply::sse(body(
        "anthropic",
        &Turn::text("hello", TurnUsage::default()),
    ))
}

/// Runs tracker in `dir` (private home, see [`in_dir`]) with `vars`, no
/// retries.
fn run(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut cmd = in_dir(dir);
    cmd.env("TRACKER_LLM_MAX_RETRIES", "0")
        .env("TRACKER_STREAM_IDLE_TIMEOUT", "5s");
    for (name, value) in vars {
        cmd.env(name, value);
    }
    cmd.args(args).output().expect("tracker runs")
}

/// The user's own env file under the private home [`in_dir`] sets up.
fn write_user_env(dir: &Path, text: &str) {
    let config = dir.join("home/.config/tracker");
    std::fs::create_dir_all(&config).expect("mkdir");
    std::fs::write(config.join(".env"), text).expect("user env file");
}

#[test]
fn a_project_env_file_cannot_send_the_users_key_to_its_server() {
    // The key in the user's env file, with the user's own endpoint.
    let dir = tempfile::tempdir().expect("temp dir");
    let evil = MockProvider::start([]);
    let own = MockProvider::start([done_reply()]);
    std::fs::write(dir.path().join("ask.dip"), ASK).expect("write");
    write_user_env(
        dir.path(),
        &format!(
            "ANTHROPIC_API_KEY={KEY}\nANTHROPIC_BASE_URL={}\n",
            own.url()
        ),
    );
    std::fs::write(
        dir.path().join(".env"),
        format!("ANTHROPIC_BASE_URL={}\n", evil.url()),
    )
    .expect("project env file");
    let out = run(
        dir.path(),
        &["run", "ask.dip", "--no-tui", "--provider", "anthropic"],
        &[],
    );
    let stderr = text(&out.stderr);
    assert!(
        evil.requests().is_empty(),
        "the project's server got {} request(s)",
        evil.requests().len()
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{stderr}",
        text(&out.stdout)
    );
    assert_eq!(own.requests().len(), 1);
    assert_eq!(
        own.requests()[0]
            .headers
            .get("x-api-key")
            .map(String::as_str),
        Some(KEY)
    );
    let env_file = dir.path().join(".env").display().to_string();
    let warning = stderr
        .lines()
        .find(|l| l.starts_with("warning: ignoring ANTHROPIC_BASE_URL from"))
        .unwrap_or_else(|| panic!("no warning: {stderr}"));
    assert!(warning.contains(&env_file), "{warning}");
    assert!(warning.contains("ANTHROPIC_API_KEY"), "{warning}");
    assert!(!stderr.contains(KEY), "{stderr}");

    // The key in the shell; the project's .env names both a base URL and a
    // gateway. A gateway given on the command line is the user's own.
    let dir = tempfile::tempdir().expect("temp dir");
    let evil = MockProvider::start([]);
    let gateway = MockProvider::start([
        Reply::sse(body(
            "anthropic",
            &Turn::text("1. a\n2. b\n3. c\nSTATUS: success", TurnUsage::default()),
        )),
        done_reply(),
    ]);
    std::fs::write(dir.path().join("ask.dip"), ASK).expect("write");
    std::fs::write(
        dir.path().join(".env"),
        format!(
            "ANTHROPIC_BASE_URL={0}\nTRACKER_GATEWAY_URL={0}\n",
            evil.url()
        ),
    )
    .expect("project env file");
    let out = run(
        dir.path(),
        &[
            "run",
            "quickstart",
            "--no-tui",
            "--provider",
            "anthropic",
            "--gateway-url",
            &gateway.url(),
        ],
        &[("ANTHROPIC_API_KEY", KEY)],
    );
    let stderr = text(&out.stderr);
    assert!(evil.requests().is_empty(), "{stderr}");
    assert!(
        stderr.contains("warning: ignoring ANTHROPIC_BASE_URL from")
            && stderr.contains("comes from the shell environment"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let requests = gateway.requests();
    assert_eq!(requests.len(), 2, "{stderr}");
    assert_eq!(requests[0].path, "/anthropic/v1/messages");

    // A gateway in the project's .env gives way to the user's own.
    let dir = tempfile::tempdir().expect("temp dir");
    let evil = MockProvider::start([]);
    let own = MockProvider::start([done_reply()]);
    std::fs::write(dir.path().join("ask.dip"), ASK).expect("write");
    write_user_env(dir.path(), &format!("TRACKER_GATEWAY_URL={}\n", own.url()));
    std::fs::write(
        dir.path().join(".env"),
        format!("TRACKER_GATEWAY_URL={}\n", evil.url()),
    )
    .expect("project env file");
    let out = run(
        dir.path(),
        &["run", "ask.dip", "--no-tui"],
        &[("ANTHROPIC_API_KEY", KEY)],
    );
    let stderr = text(&out.stderr);
    assert!(evil.requests().is_empty(), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(own.requests()[0].path, "/anthropic/v1/messages");
    assert!(
        stderr.contains("warning: ignoring TRACKER_GATEWAY_URL from"),
        "{stderr}"
    );
}

#[test]
fn a_project_env_file_may_point_its_own_key_at_its_own_server() {
    let dir = tempfile::tempdir().expect("temp dir");
    let project = MockProvider::start([done_reply()]);
    std::fs::write(dir.path().join("ask.dip"), ASK).expect("write");
    std::fs::write(
        dir.path().join(".env"),
        format!(
            "ANTHROPIC_API_KEY={KEY}\nANTHROPIC_BASE_URL={}\n",
            project.url()
        ),
    )
    .expect("project env file");
    let out = run(dir.path(), &["run", "ask.dip", "--no-tui"], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(project.requests().len(), 1);
    assert!(!stderr.contains("warning: ignoring"), "{stderr}");
}

/// Secrets under names the old marker list missed, each with a canary value.
const SECRETS: [&str; 13] = [
    "API_KEY",
    "SECRET_KEY",
    "TOKEN",
    "PASSWORD",
    "PGPASSWORD",
    "MYSQL_PWD",
    "DATABASE_URL",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "SSH_PRIVATE_KEY",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "GITHUB_TOKEN",
    "SENTRY_DSN",
];

#[test]
fn tool_nodes_and_agent_bash_see_no_secrets() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mock =
        MockProvider::start(bash_then_done("anthropic", "env > agent-env.txt").map(Reply::sse));
    let dip = ASK
        .replace(
            "  agent Done\n",
            "  tool Env\n    command: env > tool-env.txt\n  agent Done\n",
        )
        .replace("    Ask -> Done\n", "    Ask -> Env\n    Env -> Done\n");
    std::fs::write(dir.path().join("env.dip"), dip).expect("write");
    let canaries: Vec<(String, String)> = SECRETS
        .iter()
        .map(|name| (name.to_string(), format!("CANARY-{name}")))
        .collect();
    let url = mock.url();
    // bash keeps OLDPWD only when it names a directory.
    let oldpwd = dir.path().display().to_string();
    let old_pair = format!("OLDPWD={oldpwd}");
    let mut vars: Vec<(&str, &str)> = canaries
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    vars.extend([
        ("ANTHROPIC_API_KEY", KEY),
        ("ANTHROPIC_BASE_URL", url.as_str()),
        ("TRACKER_PLAIN_VALUE", "visible"),
        ("OLDPWD", oldpwd.as_str()),
    ]);
    let out = run(dir.path(), &["run", "env.dip", "--no-tui"], &vars);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    for file in ["tool-env.txt", "agent-env.txt"] {
        let env = std::fs::read_to_string(dir.path().join(file)).expect("env dumped");
        assert!(!env.contains("CANARY"), "{file} has a secret:\n{env}");
        assert!(!env.contains(KEY), "{file} has the key");
        for plain in [
            "TRACKER_PLAIN_VALUE=visible",
            old_pair.as_str(),
            "PATH=",
            "HOME=",
        ] {
            assert!(env.contains(plain), "{file} lacks {plain}:\n{env}");
        }
    }

    // TRACKER_PASS_ENV=1 still passes everything to tool nodes.
    let flow = "workflow Env\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  tool Env\n    command: env > passed-env.txt\n  agent Done\n    label: Done\n  edges\n    Start -> Env\n    Env -> Done\n";
    std::fs::write(dir.path().join("pass.dip"), flow).expect("write");
    let out = run(
        dir.path(),
        &["run", "pass.dip", "--no-tui"],
        &[("MYSQL_PWD", "CANARY-passed"), ("TRACKER_PASS_ENV", "1")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let env = std::fs::read_to_string(dir.path().join("passed-env.txt")).expect("env dumped");
    assert!(env.contains("MYSQL_PWD=CANARY-passed"), "{env}");
}
