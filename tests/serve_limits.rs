//! One service shares the providers between its runs, against the mock
//! provider server: a provider's cap on requests in flight holds across all
//! runs, a 429 seen by one run holds the others back, and
//! `--max-agent-sessions` caps the agent sessions of all runs together.

use tracker_tests::in_dir;
use tracker_tests::mock_provider::{MockProvider, Reply};
use tracker_tests::service::{wait_until, Service};
use tracker_tests::sse_bodies::{body, Turn, TurnUsage};

/// A pipeline whose one agent node asks the model once.
const ASK: &str = "workflow Ask\n  start: Start\n  exit: Done\n  defaults\n    provider: anthropic\n    model: claude-sonnet-4-6\n  agent Start\n    label: Start\n  agent Ask\n    prompt: Say hello.\n  agent Done\n    label: Done\n  edges\n    Start -> Ask\n    Ask -> Done\n";

/// The model's answer to [`ASK`]'s agent.
fn hello() -> Reply {
    let usage = TurnUsage {
        input: 10,
        output: 5,
        ..TurnUsage::default()
    };
    Reply::sse(body("anthropic", &Turn::text("hello", usage)))
}

/// An answer to [`ASK`]'s agent costing 100,000 input tokens at $3 per
/// million: $0.30.
fn costly() -> Reply {
    let usage = TurnUsage {
        input: 100_000,
        ..TurnUsage::default()
    };
    Reply::sse(body("anthropic", &Turn::text("hello", usage)))
}

/// A service in `dir` whose Anthropic calls go to `mock`, started with
/// `flags`, with [`ASK`] written as `ask.dip`.
fn serve(dir: &std::path::Path, mock: &MockProvider, flags: &[&str]) -> Service {
    std::fs::write(dir.join("ask.dip"), ASK).expect("pipeline");
    let mut command = in_dir(dir);
    command
        .env("ANTHROPIC_API_KEY", "sk-ant-test-shared-limits")
        .env("ANTHROPIC_BASE_URL", mock.url())
        .env("TRACKER_LLM_MAX_RETRIES", "3")
        .args(["serve", "--no-fsync"])
        .args(flags);
    Service::start_with(dir, &mut command)
}

/// Submits `n` runs of `ask.dip` and waits for them all; their statuses.
fn run_many(service: &Service, n: usize) -> Vec<String> {
    let ids: Vec<String> = (0..n).map(|_| service.submit_json("ask.dip")).collect();
    ids.iter().map(|id| service.wait_for_end(id)).collect()
}

/// Runs `n` runs of `ask.dip` against a gated `mock`, answering the model's
/// requests a batch at a time, and returns the most that were ever at the
/// server at once.
///
/// Before each batch it waits until every run still going has its request
/// either at the server or held back by the service (waiting for a provider
/// slot, or for an agent-session slot). A service that let more through than
/// its cap would then have them all at the server: the count is exact, not a
/// matter of timing.
fn most_at_the_server(service: &Service, mock: &MockProvider, n: usize) -> usize {
    let ids: Vec<String> = (0..n).map(|_| service.submit_json("ask.dip")).collect();
    let mut most = 0;
    while mock.answered() < n {
        let answered = mock.answered();
        let mut here = 0;
        wait_until("every run going at the server or held back", || {
            let (_, health) = service.http("GET", "/v1/health", None);
            let usage = &health["usage"];
            let held = usage["providers"][0]["waiting"].as_u64().unwrap_or(0)
                + usage["agent_sessions"]["waiting"].as_u64().unwrap_or(0);
            here = mock.in_flight();
            here + held as usize == n - answered
        });
        most = most.max(here);
        mock.release(here);
        wait_until("the batch answered", || mock.answered() >= answered + here);
    }
    for id in &ids {
        assert_eq!(service.wait_for_end(id), "success", "run {id}");
    }
    most
}

#[test]
fn a_providers_cap_on_requests_in_flight_holds_across_forty_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mock = MockProvider::gated((0..40).map(|_| hello()));
    let service = serve(dir.path(), &mock, &["--provider-concurrency", "4"]);
    assert_eq!(most_at_the_server(&service, &mock, 40), 4);
    assert_eq!(mock.most_in_flight(), 4);
    assert_eq!(mock.requests().len(), 40);
}

#[test]
fn max_agent_sessions_caps_the_sessions_of_all_runs_together() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mock = MockProvider::gated((0..12).map(|_| hello()));
    // The provider would take eight at once; the sessions are capped at two.
    let service = serve(
        dir.path(),
        &mock,
        &["--max-agent-sessions", "2", "--provider-concurrency", "8"],
    );
    assert_eq!(most_at_the_server(&service, &mock, 12), 2);
    assert_eq!(mock.most_in_flight(), 2);
    let (_, health) = service.http("GET", "/v1/health", None);
    assert_eq!(health["usage"]["agent_sessions"]["limit"], 2, "{health}");
    assert_eq!(health["usage"]["agent_sessions"]["in_use"], 0, "{health}");
}

#[test]
fn a_429_seen_by_one_run_holds_back_the_other_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let refused = Reply::Status {
        status: 429,
        headers: vec![("retry-after".into(), "1".into())],
        body: r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#
            .into(),
    };
    let mock = MockProvider::start(std::iter::once(refused).chain((0..6).map(|_| hello())));
    let service = serve(dir.path(), &mock, &["--provider-concurrency", "1"]);
    let statuses = run_many(&service, 6);
    assert!(statuses.iter().all(|s| s == "success"), "{statuses:?}");
    let requests = mock.requests();
    assert_eq!(requests.len(), 7, "six answers and the refused one");
    // No run, the refused one's or another's, called the provider again
    // before the second the 429 asked for had passed.
    let refused_at = requests[0].at;
    for (i, later) in requests.iter().enumerate().skip(1) {
        let after = later.at.duration_since(refused_at);
        assert!(
            after >= std::time::Duration::from_secs(1),
            "request {i} came {after:?} after the 429"
        );
    }
    let (_, health) = service.http("GET", "/v1/health", None);
    let provider = &health["usage"]["providers"][0];
    assert_eq!(provider["provider"], "anthropic", "{health}");
    assert_eq!(provider["rate_limited"], 1, "{health}");
    assert!(provider["held_back"].as_u64() >= Some(1), "{health}");
}

#[test]
fn the_cost_ceiling_pauses_new_calls_until_it_is_raised() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mock = MockProvider::start((0..3).map(|_| costly()));
    let service = serve(dir.path(), &mock, &["--max-cost", "0.5"]);
    for _ in 0..2 {
        let id = service.submit_json("ask.dip");
        assert_eq!(service.wait_for_end(&id), "success");
    }
    // $0.60 spent: the third run's call waits.
    let third = service.submit_json("ask.dip");
    let mut cost = serde_json::Value::Null;
    wait_until("the third run's call paused", || {
        let (_, health) = service.http("GET", "/v1/health", None);
        cost = health["usage"]["cost"].clone();
        cost["paused_calls"] == 1
    });
    assert!(
        (cost["spent_usd"].as_f64().unwrap_or(0.0) - 0.6).abs() < 1e-9,
        "{cost}"
    );
    assert_eq!(cost["max_cost_usd"], 0.5, "{cost}");
    assert_eq!(mock.requests().len(), 2, "the paused call was not sent");
    let (_, run) = service.http("GET", &format!("/v1/runs/{third}"), None);
    assert_eq!(run["status"], "running", "{run}");

    // A bad ceiling is refused, naming the field, and so is none at all (an
    // empty body does not lift it); a higher one lets it go.
    for body in [r#"{"max_cost_usd": -1}"#, "{}"] {
        let (status, reply) = service.http("POST", "/v1/limits", Some(body.into()));
        assert_eq!(status, 400, "{body}: {reply}");
        assert!(
            reply["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("max_cost_usd")),
            "{reply}"
        );
    }
    assert_eq!(mock.requests().len(), 2, "still paused");
    let (status, reply) = service.http(
        "POST",
        "/v1/limits",
        Some(r#"{"max_cost_usd": 1.0}"#.into()),
    );
    assert_eq!(status, 200, "{reply}");
    assert_eq!(service.wait_for_end(&third), "success");
    assert_eq!(mock.requests().len(), 3);
}

#[test]
fn cancelling_a_run_abandons_its_call_and_frees_its_provider_slot() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The server holds every request until released: the first run's call
    // never ends on its own.
    let mock = MockProvider::gated((0..2).map(|_| hello()));
    let service = serve(dir.path(), &mock, &["--provider-concurrency", "1"]);
    let first = service.submit_json("ask.dip");
    wait_until("the first run's call at the server", || {
        mock.requests().len() == 1
    });
    let (status, reply) = service.http("POST", &format!("/v1/runs/{first}/cancel"), None);
    assert_eq!(status, 200, "{reply}");
    assert_ne!(service.wait_for_end(&first), "success");

    // The one slot is free again: the next run's call reaches the server
    // while the first one's is still held there (a call that went on after
    // its run was cancelled would keep the slot until the server answered).
    let second = service.submit_json("ask.dip");
    wait_until("the second run's call at the server", || {
        mock.requests().len() == 2
    });
    let (_, health) = service.http("GET", "/v1/health", None);
    assert_eq!(health["usage"]["providers"][0]["waiting"], 0, "{health}");
    mock.release(2);
    assert_eq!(service.wait_for_end(&second), "success");
    assert_eq!(
        mock.requests().len(),
        2,
        "the cancelled call was not sent again"
    );
}

#[test]
fn spending_and_a_ceiling_set_over_the_api_outlive_a_crash_of_the_service() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mock = MockProvider::start((0..3).map(|_| costly()));
    let cost = |service: &Service| {
        let (_, health) = service.http("GET", "/v1/health", None);
        health["usage"]["cost"].clone()
    };
    let service = serve(dir.path(), &mock, &["--max-cost", "2"]);
    for _ in 0..2 {
        let id = service.submit_json("ask.dip");
        assert_eq!(service.wait_for_end(&id), "success");
    }
    let (status, reply) = service.http(
        "POST",
        "/v1/limits",
        Some(r#"{"max_cost_usd": 0.5}"#.into()),
    );
    assert_eq!(status, 200, "{reply}");
    // Killed, as a crash would.
    drop(service);

    // Started again as before: it goes on from $0.60 under the ceiling set
    // over the API, so a new run's call waits.
    let service = serve(dir.path(), &mock, &["--max-cost", "2"]);
    let spent = cost(&service);
    assert!(
        (spent["spent_usd"].as_f64().unwrap_or(0.0) - 0.6).abs() < 1e-9,
        "{spent}"
    );
    assert_eq!(spent["max_cost_usd"], 0.5, "{spent}");
    let third = service.submit_json("ask.dip");
    wait_until("the third run's call paused", || {
        cost(&service)["paused_calls"] == 1
    });
    assert_eq!(mock.requests().len(), 2, "the paused call was not sent");
    let (_, run) = service.http("POST", &format!("/v1/runs/{third}/cancel"), None);
    assert_eq!(run["cancelled"], true, "{run}");
    service.wait_for_end(&third);
    drop(service);

    // Started with another `--max-cost`: the operator's new flag applies,
    // and the spending still counts.
    let service = serve(dir.path(), &mock, &["--max-cost", "3"]);
    let spent = cost(&service);
    assert_eq!(spent["max_cost_usd"], 3.0, "{spent}");
    assert!(
        (spent["spent_usd"].as_f64().unwrap_or(0.0) - 0.6).abs() < 1e-9,
        "{spent}"
    );
}
