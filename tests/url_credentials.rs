//! Credentials in a provider's base URL (`https://user:PASSWORD@host/?api_key=KEY`)
//! are never shown: `tracker doctor` prints the URL redacted, and when the
//! provider cannot be reached the network error (which quotes the URL) is
//! redacted before it becomes a message, so the secrets reach neither the
//! terminal nor the run directory (checkpoint, `status.json`, prompt and
//! response files, activity log).

use std::path::Path;
use std::process::Output;

use tracker_tests::{files_under, in_dir, text};

const PASSWORD: &str = "PASSWORD-CANARY-9d2c";
const QUERY_KEY: &str = "QUERYKEY-CANARY-4e1f";
const API_KEY: &str = "sk-test-URLCANARY-0000";

/// A base URL with both kinds of credential, on a port nothing listens on.
fn closed_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://user:{PASSWORD}@127.0.0.1:{port}/v1?api_key={QUERY_KEY}")
}

const AGENT: &str = "workflow A\n  start: Start\n  exit: Done\n  defaults\n    provider: openai\n    model: gpt-5.4\n  agent Start\n    label: Start\n  agent Ask\n    prompt: Say hello.\n  agent Done\n    label: Done\n  edges\n    Start -> Ask\n    Ask -> Done\n";

fn assert_no_credentials(dir: &Path, out: &Output) {
    for secret in [PASSWORD, QUERY_KEY, API_KEY] {
        assert!(
            !text(&out.stdout).contains(secret),
            "{secret} in stdout: {}",
            text(&out.stdout)
        );
        assert!(
            !text(&out.stderr).contains(secret),
            "{secret} in stderr: {}",
            text(&out.stderr)
        );
        for file in files_under(dir) {
            let bytes = std::fs::read(&file).unwrap_or_default();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(secret),
                "{secret} leaked into {}",
                file.display()
            );
        }
    }
}

#[test]
fn doctor_shows_base_urls_without_their_credentials() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = in_dir(dir.path())
        .args(["doctor"])
        .env("OPENAI_API_KEY", API_KEY)
        .env("OPENAI_BASE_URL", closed_url())
        .output()
        .expect("doctor runs");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("http://user:****@127.0.0.1:"), "{stdout}");
    assert!(stdout.contains("?api_key=****"), "{stdout}");
    // The probe failed on the network, and says so without the URL's secrets.
    assert!(stdout.contains("openai: unreachable"), "{stdout}");
    assert_no_credentials(dir.path(), &out);
}

#[test]
fn an_unreachable_provider_leaks_no_url_credentials_into_the_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("agent.dip"), AGENT).expect("write");
    let out = in_dir(d)
        .args(["run", "agent.dip"])
        .env("OPENAI_API_KEY", API_KEY)
        .env("OPENAI_BASE_URL", closed_url())
        .env("TRACKER_LLM_MAX_RETRIES", "0")
        .output()
        .expect("tracker runs");
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{all}");
    // The failure is there to see, with the URL redacted.
    let activity = files_under(&d.join(".tracker/runs"))
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "activity.jsonl"))
        .map(|p| std::fs::read_to_string(p).expect("activity"))
        .collect::<String>();
    assert!(activity.contains("network error"), "{activity}");
    assert!(activity.contains("api_key=****"), "{activity}");
    assert_no_credentials(d, &out);
}
