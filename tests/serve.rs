//! `tracker serve` and its clients, the real binary over its real socket:
//! submitted runs finish in the service, the clients see them, the event
//! stream replays the run's `activity.jsonl`, bad requests get the right 4xx,
//! a missing or stale service is said plainly, and a service killed mid-run
//! resumes its runs when started again without running a finished step twice.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use tracker_tests::service::{follow_sse, sse_lines, wait_until, Service};
use tracker_tests::{in_dir, text};

/// A pipeline that writes `before`, waits at gate `Gate` (`yes`, `no`), and
/// on `yes` writes `after`.
const GATED: &str = "workflow Gated\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  tool Before\n    timeout: 10s\n    command: echo before >> ledger.txt\n  human Gate\n    label: \"Go on?\"\n    mode: choice\n  tool After\n    timeout: 10s\n    command: echo after >> ledger.txt\n  agent Done\n    label: Done\n  edges\n    Start -> Before\n    Before -> Gate\n    Gate -> After  label: yes\n    Gate -> Done  label: no\n    After -> Done\n";

/// A pipeline of two tool nodes.
fn pipeline(first: &str, second: &str) -> String {
    format!(
        "workflow Served\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  tool First\n    timeout: 30s\n    command: {first}\n  tool Second\n    timeout: 30s\n    command: {second}\n  agent Done\n    label: Done\n  edges\n    Start -> First\n    First -> Second\n    Second -> Done\n"
    )
}

#[test]
fn submitted_runs_finish_in_the_service_and_its_clients_see_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("flow.dip"),
        pipeline("echo one >> ledger.txt", "echo two >> ledger.txt"),
    )
    .expect("pipeline");
    let service = Service::start(dir.path());

    let out = service
        .client(&["submit", "flow.dip", "--wait"])
        .output()
        .expect("submit");
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    let id = stdout
        .lines()
        .next()
        .expect("the run id")
        .trim()
        .to_string();
    assert!(stdout.contains("pipeline_completed"), "{stdout}");
    let ledger = std::fs::read_to_string(dir.path().join("ledger.txt")).expect("ledger");
    assert_eq!(ledger, "one\ntwo\n");

    let out = service
        .client(&["ps", "--all", "--json"])
        .output()
        .expect("ps");
    let runs: Value = serde_json::from_str(text(&out.stdout).trim()).expect("ps JSON");
    let run = runs
        .as_array()
        .and_then(|r| r.iter().find(|r| r["run_id"] == id.as_str()))
        .unwrap_or_else(|| panic!("{id} not in {runs}"));
    assert_eq!(run["status"], "success");
    assert_eq!(run["workflow"], "Served");

    // The stream replayed from 0 is the run's activity log.
    let run_dir = dir.path().join(".tracker/runs").join(&id);
    let activity = std::fs::read_to_string(run_dir.join("activity.jsonl")).expect("activity");
    let activity: Vec<&str> = activity.lines().collect();
    let streamed = service.events(&id);
    assert_eq!(streamed, activity);

    let out = service.client(&["logs", &id]).output().expect("logs");
    assert!(
        text(&out.stdout).contains("pipeline_completed"),
        "{}",
        text(&out.stdout)
    );
    let (status, health) = service.http("GET", "/v1/health", None);
    assert_eq!((status, health["ok"].clone()), (200, json!(true)));
}

#[test]
fn bad_requests_get_the_right_4xx_naming_the_field() {
    let dir = tempfile::tempdir().expect("temp dir");
    let service = Service::start(dir.path());
    let workdir = dir.path().display().to_string();
    // A FIFO named as the pipeline would block the service's thread on open.
    nix::unistd::mkfifo(
        &dir.path().join("fifo.dip"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .expect("fifo");
    let cases = [
        (
            "POST",
            "/v1/runs",
            Some("{not json".to_string()),
            400,
            "body",
        ),
        (
            "POST",
            "/v1/runs",
            Some(json!({"pipeline": "fifo.dip", "workdir": workdir}).to_string()),
            400,
            "pipeline",
        ),
        (
            "POST",
            "/v1/runs",
            Some(json!({"pipeline": "quickstart", "workdir": workdir, "colour": 1}).to_string()),
            400,
            "colour",
        ),
        (
            "POST",
            "/v1/runs",
            Some(json!({"pipeline": "quickstart", "workdir": "relative"}).to_string()),
            400,
            "workdir",
        ),
        (
            "POST",
            "/v1/runs",
            Some(json!({"pipeline": "no-such.dip", "workdir": workdir}).to_string()),
            400,
            "pipeline",
        ),
        (
            "POST",
            "/v1/runs",
            Some(
                json!({"pipeline": "quickstart", "workdir": workdir, "params": {"nope": "1"}})
                    .to_string(),
            ),
            400,
            "params.nope",
        ),
        ("GET", "/v1/runs/zzzzzzzzzzzz", None, 404, "zzzzzzzzzzzz"),
        (
            "POST",
            "/v1/runs/zzzzzzzzzzzz/cancel",
            None,
            404,
            "zzzzzzzzzzzz",
        ),
        (
            "GET",
            "/v1/runs/zzzzzzzzzzzz/events",
            None,
            404,
            "zzzzzzzzzzzz",
        ),
        ("GET", "/v1/nothing", None, 404, "no such endpoint"),
        (
            "POST",
            "/v1/runs",
            Some(format!(
                "{{\"pipeline_text\": \"{}\"}}",
                "x".repeat(8 * 1024 * 1024)
            )),
            413,
            "",
        ),
    ];
    for (method, path, body, want, says) in cases {
        let (status, answer) = service.http(method, path, body);
        assert_eq!(status, want, "{method} {path}: {answer}");
        assert!(
            answer.to_string().contains(says),
            "{method} {path}: {answer}"
        );
    }
    // A submitted text's errors, every one, at their lines in the text: it has
    // no file a client could look at.
    let text = "workflow X\n  start: A\n  exit: B\n  agent A\n    label: A\n  edges\n    A -> C\n";
    let (status, answer) = service.http(
        "POST",
        "/v1/runs",
        Some(json!({"pipeline_text": text, "workdir": workdir}).to_string()),
    );
    assert_eq!(status, 400, "{answer}");
    let error = answer["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("pipeline_text:3:9: exit node \"B\""),
        "{error}"
    );
    assert!(
        error.contains("pipeline_text:7:10: edge references unknown target node \"C\""),
        "{error}"
    );
    assert!(!error.contains(".dip"), "{error}");
    // Nothing was created for any of them.
    assert!(!dir.path().join(".tracker").exists());
}

#[test]
fn clients_say_plainly_when_no_service_listens_and_a_second_service_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("flow.dip"), pipeline("true", "true")).expect("pipeline");
    // No socket at all, and a stale one (its service died): every client
    // says so in one line, with how to start one.
    let missing = dir.path().join("nowhere.sock");
    let stale = dir.path().join("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).expect("bind"));
    let clients: [&[&str]; 5] = [
        &["ps"],
        &["logs", "abc"],
        &["cancel", "abc"],
        &["answer", "abc", "Gate", "yes"],
        &["submit", "flow.dip"],
    ];
    for socket in [&missing, &stale] {
        for args in clients {
            let out = in_dir(dir.path())
                .args(args)
                .arg("--socket")
                .arg(socket)
                .output()
                .expect("client");
            assert_eq!(out.status.code(), Some(1), "{args:?}");
            let stderr = text(&out.stderr);
            assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
            assert!(
                stderr.contains("no tracker service is listening on")
                    && stderr.contains("tracker serve"),
                "{args:?}: {stderr}"
            );
        }
    }

    // A socket directory others may enter is refused.
    std::fs::create_dir_all(dir.path().join("s")).expect("dir");
    let out = in_dir(dir.path())
        .args(["serve", "--socket"])
        .arg(dir.path().join("s/tracker.sock"))
        .output()
        .expect("serve");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("open to other users"),
        "{}",
        text(&out.stderr)
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path().join("s"), std::fs::Permissions::from_mode(0o700))
        .expect("chmod");

    // A socket file nobody listens on (a service that died) is cleared.
    drop(std::os::unix::net::UnixListener::bind(dir.path().join("s/tracker.sock")).expect("bind"));
    let service = Service::start(dir.path());
    let out = in_dir(dir.path())
        .args(["serve", "--socket"])
        .arg(&service.socket)
        .output()
        .expect("second service");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("already listening"),
        "{}",
        text(&out.stderr)
    );
    let out = service
        .client(&["cancel", "zzzzzzzzzzzz"])
        .output()
        .expect("cancel");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no run \"zzzzzzzzzzzz\""),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_service_killed_mid_run_resumes_its_runs_and_no_finished_step_runs_twice() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fifo = dir.path().join("gate.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("fifo");
    // The second step waits on the FIFO, so the service is killed while it
    // is in flight.
    std::fs::write(
        dir.path().join("flow.dip"),
        pipeline(
            "echo first >> ledger.txt",
            "read line < gate.fifo && echo second >> ledger.txt",
        ),
    )
    .expect("pipeline");
    let mut service = Service::start(dir.path());
    let id = service.submit("flow.dip");
    // Wait until the first step is done and the second started.
    let started = dir.path().join(".tracker/runs").join(&id).join("Second");
    wait_until("the second step", || started.exists());
    service.child.kill().expect("SIGKILL the service");
    service.child.wait().expect("reaped");
    drop(service);

    let service = Service::start(dir.path());
    // The waiting command (left running by the dead service, or started
    // again) gets its line.
    std::fs::write(&fifo, "go\n").expect("open the gate");
    service.follow_to_completion(&id);
    let ledger = std::fs::read_to_string(dir.path().join("ledger.txt")).expect("ledger");
    assert_eq!(ledger, "first\nsecond\n", "every step exactly once");
}

#[test]
fn a_gate_waits_for_its_answer_over_the_api_and_is_answered_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("gated.dip"), GATED).expect("pipeline");
    let service = Service::start(dir.path());
    let id = service.submit("gated.dip");
    // The run waits at its gate until someone answers.
    service.wait_for_gate(&id);
    let out = service.client(&["ps"]).output().expect("ps");
    let row = text(&out.stdout)
        .lines()
        .find(|l| l.starts_with(id.as_str()))
        .map(String::from)
        .unwrap_or_default();
    assert!(row.trim_end().ends_with("waiting"), "{}", text(&out.stdout));
    let (status, gates) = service.http("GET", &format!("/v1/runs/{id}/gates"), None);
    assert_eq!(status, 200);
    assert_eq!(gates["gates"][0]["node_id"], "Gate");
    assert_eq!(gates["gates"][0]["choices"], json!(["yes", "no"]));

    // A mistyped answer takes no branch: it is refused, naming the options,
    // and the gate goes on waiting.
    let (status, body) = service.http(
        "POST",
        &format!("/v1/runs/{id}/gates/Gate"),
        Some(json!({"answer": "yse"}).to_string()),
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("\"yse\"") && e.contains("yes, no")),
        "{body}"
    );
    let out = service
        .client(&["answer", &id, "Gate", "maybe"])
        .output()
        .expect("mistyped answer");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not one of gate \"Gate\"'s choices"),
        "{}",
        text(&out.stderr)
    );
    // An empty answer (an unset `$ANSWER`) to a gate with no default picks
    // nothing either.
    let (status, body) = service.http(
        "POST",
        &format!("/v1/runs/{id}/gates/Gate"),
        Some(json!({"answer": ""}).to_string()),
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("has no default")),
        "{body}"
    );
    let (_, gates) = service.http("GET", &format!("/v1/runs/{id}/gates"), None);
    assert_eq!(gates["gates"][0]["node_id"], "Gate", "still waiting");

    let out = service
        .client(&["answer", &id, "Gate", "yes"])
        .output()
        .expect("answer");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = service
        .client(&["answer", &id, "Gate", "no"])
        .output()
        .expect("second answer");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("answered already"),
        "{}",
        text(&out.stderr)
    );
    let (status, _) = service.http(
        "POST",
        &format!("/v1/runs/{id}/gates/Gate"),
        Some(json!({"answer": "no"}).to_string()),
    );
    assert_eq!(status, 409);

    service.follow_to_completion(&id);
    let ledger = std::fs::read_to_string(dir.path().join("ledger.txt")).expect("ledger");
    assert_eq!(ledger, "before\nafter\n", "the route answered was taken");
    // Still answered once the run has ended; a gate it never had is unknown.
    let (status, _) = service.http(
        "POST",
        &format!("/v1/runs/{id}/gates/Gate"),
        Some(json!({"answer": "no"}).to_string()),
    );
    assert_eq!(status, 409);
    let (status, _) = service.http(
        "POST",
        &format!("/v1/runs/{id}/gates/Nowhere"),
        Some(json!({"answer": "no"}).to_string()),
    );
    assert_eq!(status, 404);
}

#[test]
fn a_run_the_service_drives_cannot_be_resumed_by_another_process_meanwhile() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("gated.dip"), GATED).expect("pipeline");
    let service = Service::start(dir.path());
    let id = service.submit("gated.dip");
    service.wait_for_gate(&id);
    // A second driver of the same run, from another process, is refused.
    let out = in_dir(dir.path())
        .args([
            "run",
            "--provider",
            "stub",
            "--auto-approve",
            "-r",
            &id,
            "gated.dip",
        ])
        .output()
        .expect("a second resume");
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("already running in tracker process"),
        "{stderr}"
    );
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "{stderr}"
    );

    let out = service
        .client(&["answer", &id, "Gate", "yes"])
        .output()
        .expect("answer");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    service.follow_to_completion(&id);
    let ledger = std::fs::read_to_string(dir.path().join("ledger.txt")).expect("ledger");
    assert_eq!(ledger, "before\nafter\n", "every side effect once");

    // An unreadable pipeline is one line and exit 1, and creates nothing new.
    let out = service
        .client(&["submit", "missing.dip"])
        .output()
        .expect("submit");
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: pipeline:"), "{stderr}");
}

#[test]
fn a_service_stopped_by_sigterm_keeps_its_runs_for_the_next_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("gated.dip"), GATED).expect("pipeline");
    let mut service = Service::start(dir.path());
    let id = service.submit("gated.dip");
    service.wait_for_gate(&id);
    // A client follows the run: stopping must not wait for it to leave.
    let mut follower = service
        .client(&["logs", "-f", &id])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("a follower");
    // It is connected once it has printed the run's first event.
    let mut follower_lines = BufReader::new(follower.stdout.take().expect("stdout")).lines();
    let first = follower_lines
        .next()
        .expect("a first event")
        .expect("a line");
    assert!(first.contains("pipeline_started"), "{first}");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(service.child.id()).expect("pid")),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("SIGTERM");
    let status = service.child.wait().expect("the service stops");
    assert_eq!(status.code(), Some(0));
    assert!(!service.socket.exists(), "the socket is removed");
    // The follower's stream ends with the run's cancellation.
    let rest: Vec<String> = follower_lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("pipeline")), "{rest:?}");
    // And it says the run was cut short, not ended, with exit 1: the stream
    // told it so before the service went.
    let mut said = String::new();
    std::io::Read::read_to_string(&mut follower.stderr.take().expect("stderr"), &mut said)
        .expect("stderr");
    let status = follower.wait().expect("the follower is let go");
    assert_eq!(status.code(), Some(1), "{said}");
    assert!(
        said.contains(&format!(
            "the service stopped before run {id} ended; the next service resumes it"
        )),
        "{said}"
    );
    drop(service);

    // The next service resumes the run; it waits at its gate again.
    let service = Service::start(dir.path());
    service.wait_for_gate(&id);
    let out = service
        .client(&["answer", &id, "Gate", "yes"])
        .output()
        .expect("answer");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    service.follow_to_completion(&id);
    let ledger = std::fs::read_to_string(dir.path().join("ledger.txt")).expect("ledger");
    assert_eq!(ledger, "before\nafter\n", "every side effect once");
}

#[test]
fn clients_writing_to_a_closed_pipe_exit_quietly() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("gated.dip"), GATED).expect("pipeline");
    let service = Service::start(dir.path());
    let id = service.submit("gated.dip");
    for args in [
        &["ps"][..],
        &["ps", "-a", "--json"],
        &["submit", "gated.dip"],
        &["logs", &id],
        &["cancel", &id],
    ] {
        // The reader is gone before the client writes: `tracker ps | true`.
        let (read, write) = nix::unistd::pipe().expect("pipe");
        drop(read);
        let out = service
            .client(args)
            .stdout(Stdio::from(write))
            .stderr(Stdio::piped())
            .output()
            .expect("client");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(out.stderr.is_empty(), "{args:?}: {}", text(&out.stderr));
    }
}

#[test]
fn live_streams_of_one_run_and_of_the_whole_service_equal_each_runs_activity_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let fifo = d.join("gate.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("fifo");
    std::fs::write(
        d.join("held.dip"),
        pipeline("echo one >> ledger.txt", "read line < gate.fifo"),
    )
    .expect("pipeline");
    std::fs::write(d.join("quick.dip"), pipeline("true", "true")).expect("pipeline");
    let service = Service::start(d);
    let held = service.submit_json("held.dip");
    // Followed live from its first event while it waits in its second step.
    let follower = {
        let socket = service.socket.clone();
        let held = held.clone();
        std::thread::spawn(move || {
            sse_lines(
                &socket,
                &format!("/v1/runs/{held}/events?from=0&follow=true"),
            )
        })
    };
    let quick = service.submit_json("quick.dip");
    assert_eq!(service.wait_for_end(&quick), "success");
    std::fs::write(&fifo, "go\n").expect("open the gate");
    assert_eq!(service.wait_for_end(&held), "success");
    let followed = follower.join().expect("the follower");

    let activity = |id: &str| -> Vec<String> {
        let path = d.join(".tracker/runs").join(id).join("activity.jsonl");
        let text = std::fs::read_to_string(path).expect("activity");
        text.lines().map(str::to_string).collect()
    };
    assert_eq!(followed, activity(&held));
    // The service-wide stream holds both runs' lines, each run's in order.
    let all = service.sse_lines("/v1/events?from=0&follow=false");
    for id in [&held, &quick] {
        let tag = format!("\"run_id\":\"{id}\"");
        let own: Vec<String> = all.iter().filter(|l| l.contains(&tag)).cloned().collect();
        assert_eq!(own, activity(id), "run {id}");
    }
    assert_eq!(all.len(), activity(&held).len() + activity(&quick).len());
}

#[test]
fn logs_can_be_json_one_object_per_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let service = Service::start_with(
        d,
        in_dir(d).args(["serve", "--no-fsync", "--log-format", "json"]),
    );
    let banner: Value = serde_json::from_str(&service.banner).expect("a JSON log line");
    assert_eq!(
        banner["fields"]["message"], "tracker service listening",
        "{banner}"
    );
    assert_eq!(banner["level"], "INFO", "{banner}");
}

#[test]
fn over_tcp_every_request_needs_the_services_token() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(
        d.join("flow.dip"),
        pipeline("echo one >> ledger.txt", "true"),
    )
    .expect("pipeline");
    // Only a loopback address is taken without --allow-remote.
    let out = in_dir(d)
        .args(["serve", "--socket"])
        .arg(d.join("s/tracker.sock"))
        .arg("--state-dir")
        .arg(d.join("state"))
        .args(["--listen", "0.0.0.0:0"])
        .output()
        .expect("serve");
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("--allow-remote"), "{stderr}");

    let service = Service::start_with(
        d,
        in_dir(d).args(["serve", "--no-fsync", "--listen", "127.0.0.1:0"]),
    );
    let address = service
        .banner
        .split("tcp=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the TCP address in the log")
        .to_string();
    let token_file = d.join("state").join("token");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&token_file)
            .expect("token file")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    let token = std::fs::read_to_string(&token_file).expect("token");
    let token = token.trim();

    let call = |method: &str, path: &str, token: Option<&str>, body: Option<String>| {
        let url = format!("http://{address}{path}");
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let token = token.map(str::to_string);
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(async move {
                let mut request = reqwest::Client::new().request(method, url);
                if let Some(token) = token {
                    request = request.bearer_auth(token);
                }
                if let Some(body) = body {
                    request = request
                        .header("content-type", "application/json")
                        .body(body);
                }
                let response = request.send().await.expect("an answer");
                let status = response.status().as_u16();
                let text = response.text().await.expect("a body");
                (
                    status,
                    serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text)),
                )
            })
    };
    for token in [None, Some("wrong"), Some(&token[1..])] {
        let (status, reply) = call("GET", "/v1/health", token, None);
        assert_eq!(status, 401, "{token:?}: {reply}");
        let body = json!({ "pipeline": "flow.dip", "workdir": d }).to_string();
        let (status, _) = call("POST", "/v1/runs", token, Some(body));
        assert_eq!(status, 401, "{token:?}");
    }
    assert!(!d.join(".tracker").exists(), "nothing was submitted");
    let (status, reply) = call("GET", "/v1/health", Some(token), None);
    assert_eq!((status, &reply["ok"]), (200, &json!(true)), "{reply}");
    let body = json!({ "pipeline": "flow.dip", "workdir": d }).to_string();
    let (status, reply) = call("POST", "/v1/runs", Some(token), Some(body));
    assert_eq!(status, 201, "{reply}");
    let id = reply["run_id"].as_str().expect("run id");
    assert_eq!(service.wait_for_end(id), "success");
    let (status, reply) = call("GET", &format!("/v1/runs/{id}"), Some(token), None);
    assert_eq!(
        (status, &reply["status"]),
        (200, &json!("success")),
        "{reply}"
    );
}

#[test]
fn pipelines_are_found_in_the_runs_working_directory_and_built_ins_run_offline() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let work = d.join("work");
    std::fs::create_dir(&work).expect("workdir");
    std::fs::write(
        work.join("flow.dip"),
        pipeline("echo one >> ledger.txt", "true"),
    )
    .expect("pipeline");
    let service = Service::start(d);
    // By name, from a directory where it is not: found in the workdir.
    let out = service
        .client(&["submit", "flow", "-w", "work", "--wait"])
        .output()
        .expect("submit");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Over the API, a relative path is the workdir's, not the service's.
    let body = json!({ "pipeline": "flow.dip", "workdir": work }).to_string();
    let (status, reply) = service.http("POST", "/v1/runs", Some(body));
    assert_eq!(status, 201, "{reply}");
    let id = reply["run_id"].as_str().expect("run id").to_string();
    assert_eq!(service.wait_for_end(&id), "success");
    let ledger = std::fs::read_to_string(work.join("ledger.txt")).expect("ledger");
    assert_eq!(ledger, "one\none\n");
    // A pipeline's text resolves its subgraphs against the workdir too.
    std::fs::write(
        work.join("child.dip"),
        pipeline("echo child >> ledger.txt", "true"),
    )
    .expect("child");
    let parent = "workflow Parent\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  subgraph Child\n    ref: child.dip\n  agent Done\n    label: Done\n  edges\n    Start -> Child\n    Child -> Done\n";
    let body = json!({ "pipeline_text": parent, "workdir": work }).to_string();
    let (status, reply) = service.http("POST", "/v1/runs", Some(body));
    assert_eq!(status, 201, "{reply}");
    let id = reply["run_id"].as_str().expect("run id").to_string();
    assert_eq!(service.wait_for_end(&id), "success");
    let ledger = std::fs::read_to_string(work.join("ledger.txt")).expect("ledger");
    assert_eq!(ledger, "one\none\nchild\n");
    // A built-in on the offline provider, no key needed.
    let out = service
        .client(&[
            "submit",
            "quickstart",
            "--provider",
            "stub",
            "--auto-approve",
            "--wait",
        ])
        .output()
        .expect("submit");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    // A run that completed is not resumed again, whoever recorded it.
    let (status, reply) = service.http(
        "POST",
        &format!("/v1/runs/{id}/resume"),
        Some(json!({ "workdir": work }).to_string()),
    );
    assert_eq!(status, 409, "{reply}");
}

#[test]
fn a_stopping_service_ends_every_event_stream_and_exits_cleanly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("gated.dip"), GATED).expect("pipeline");
    let socket = d.join("s").join("tracker.sock");
    let mut child = in_dir(d)
        .args(["serve", "--no-fsync", "--socket"])
        .arg(&socket)
        .arg("--state-dir")
        .arg(d.join("state"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let mut log = BufReader::new(child.stderr.take().expect("stderr")).lines();
    for line in log.by_ref() {
        if line
            .expect("a log line")
            .contains("tracker service listening")
        {
            break;
        }
    }
    let id = {
        let body = json!({ "pipeline": "gated.dip", "workdir": d }).to_string();
        let (status, reply) =
            tracker_tests::service::request(&socket, "POST", "/v1/runs", Some(body))
                .expect("submit");
        assert_eq!(status, 201, "{reply}");
        reply["run_id"].as_str().expect("id").to_string()
    };
    // Followers of the run and of the whole service.
    let followers: Vec<_> = [
        format!("/v1/runs/{id}/events?follow=true"),
        "/v1/events?follow=true".into(),
    ]
    .into_iter()
    .map(|path| follow_sse(&socket, &path))
    .collect();
    // Stopped while its run waits at its gate.
    wait_until("the run at its gate", || {
        let (_, run) =
            tracker_tests::service::request(&socket, "GET", &format!("/v1/runs/{id}"), None)
                .expect("status");
        run["waiting_gate"] == json!(true)
    });
    // Both are connected before the service is told to stop.
    for (connected, _) in &followers {
        connected
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("a follower connected");
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("SIGTERM");
    let rest: Vec<String> = log.map_while(Result::ok).collect();
    let status = child.wait().expect("the service exits");
    assert_eq!(status.code(), Some(0), "{rest:?}");
    assert!(!rest.iter().any(|l| l.contains("panicked")), "{rest:?}");
    for (_, follower) in followers {
        let lines = follower.join().expect("the stream ended");
        assert!(
            lines.iter().any(|l| l.contains("pipeline_started")),
            "{lines:?}"
        );
    }
}

#[test]
fn a_service_out_of_open_files_refuses_submissions_with_503_and_stays_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let gate_only = "workflow Gate\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  human Ask\n    label: \"Go on?\"\n    mode: choice\n  agent Done\n    label: Done\n  edges\n    Start -> Ask\n    Ask -> Done  label: yes\n";
    std::fs::write(d.join("gated.dip"), gate_only).expect("pipeline");
    // A tight open-file limit (soft and hard): each run waiting at its gate
    // keeps its directory's lock open.
    let mut command = Command::new("bash");
    command
        .current_dir(d)
        .arg("-c")
        .arg("ulimit -n 48 && exec \"$0\" \"$@\"")
        .arg(tracker_tests::tracker_path())
        .args(["serve", "--no-fsync"]);
    let service = Service::start_with(d, &mut command);
    let mut accepted = 0;
    let refusal = loop {
        let body = json!({ "pipeline": "gated.dip", "workdir": d }).to_string();
        let (status, reply) = service.http("POST", "/v1/runs", Some(body));
        match status {
            201 => {
                accepted += 1;
                let id = reply["run_id"].as_str().expect("run id").to_string();
                service.wait_for_gate(&id);
            }
            _ => break (status, reply),
        }
        assert!(accepted < 48, "never refused");
    };
    assert_eq!(refusal.0, 503, "{}", refusal.1);
    let message = refusal.1["error"].as_str().unwrap_or_default();
    assert!(message.contains("ulimit -n"), "{message}");
    // Nothing of the refused submission stays, and the service still answers.
    assert_eq!(tracker_tests::run_dirs(d).len(), accepted, "{message}");
    let (status, health) = service.http("GET", "/v1/health", None);
    assert_eq!((status, &health["runs"]), (200, &json!(accepted)));
}
