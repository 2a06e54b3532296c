//! Many runs survive the service's crash: 50 pipelines of tool nodes are
//! submitted, the service is killed with SIGKILL while they run (and while
//! submissions still arrive), and the next service finishes every
//! acknowledged run with each of its steps done exactly once.

use std::path::Path;

use serde_json::json;
use tracker_tests::service::{request, Service};

/// Three steps, each appending a line to `ledger.txt` in the run's working
/// directory; the second waits for `../go` first, so the service dies while
/// runs are in it.
const STEPS: &str = "workflow Steps\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  tool One\n    timeout: 60s\n    command: echo one >> ledger.txt\n  tool Two\n    timeout: 120s\n    command: while [ ! -e ../go ]; do sleep 0.05; done; echo two >> ledger.txt\n  tool Three\n    timeout: 60s\n    command: echo three >> ledger.txt\n  agent Done\n    label: Done\n  edges\n    Start -> One\n    One -> Two\n    Two -> Three\n    Three -> Done\n";

/// Submits `steps.dip` to work in `workdir`; the run id once acknowledged.
fn submit(socket: &Path, pipeline: &Path, workdir: &Path) -> Option<String> {
    let body = json!({ "pipeline": pipeline, "workdir": workdir }).to_string();
    match request(socket, "POST", "/v1/runs", Some(body)) {
        Ok((201, reply)) => reply["run_id"].as_str().map(str::to_string),
        _ => None,
    }
}

/// Whether run `id` working in `workdir` has started its second step.
fn in_two(workdir: &Path, id: &str) -> bool {
    workdir.join(".tracker/runs").join(id).join("Two").exists()
}

#[test]
fn fifty_runs_killed_with_the_service_all_finish_after_it_restarts_each_step_once() {
    const RUNS: usize = 50;
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let pipeline = d.join("steps.dip");
    std::fs::write(&pipeline, STEPS).expect("pipeline");
    let workdirs: Vec<_> = (0..RUNS).map(|i| d.join(format!("w{i:02}"))).collect();
    for workdir in &workdirs {
        std::fs::create_dir(workdir).expect("workdir");
    }
    let mut service = Service::start(d);

    // One client submits the fifty, each once the one before is in its
    // second step, and keeps what was acknowledged: the service is killed
    // while runs are going and submissions are still coming.
    let socket = service.socket.clone();
    let (acked_tx, acked_rx) = std::sync::mpsc::channel();
    let killed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let submitter = {
        let killed = std::sync::Arc::clone(&killed);
        let pipeline = pipeline.clone();
        let workdirs = workdirs.clone();
        std::thread::spawn(move || {
            for (i, workdir) in workdirs.iter().enumerate() {
                let Some(id) = submit(&socket, &pipeline, workdir) else {
                    return;
                };
                acked_tx.send((i, id.clone())).expect("main thread listens");
                while !in_two(workdir, &id) {
                    if killed.load(std::sync::atomic::Ordering::SeqCst) {
                        return;
                    }
                    std::thread::yield_now();
                }
            }
        })
    };
    // Killed once twenty acknowledged runs are in their second step.
    let mut acked = Vec::new();
    loop {
        while let Ok(run) = acked_rx.try_recv() {
            acked.push(run);
        }
        let in_second = acked
            .iter()
            .filter(|(i, id)| in_two(&workdirs[*i], id))
            .count();
        if in_second >= 20 {
            break;
        }
        std::thread::yield_now();
    }
    killed.store(true, std::sync::atomic::Ordering::SeqCst);
    service.child.kill().expect("SIGKILL the service");
    service.child.wait().expect("reaped");
    submitter.join().expect("the submitter ends");
    acked.extend(acked_rx.try_iter());
    drop(service);

    let service = Service::start(d);
    // What was not acknowledged is submitted again, as a client would.
    let mut runs = acked.clone();
    let answered: std::collections::BTreeSet<usize> = acked.iter().map(|(i, _)| *i).collect();
    for i in (0..RUNS).filter(|i| !answered.contains(i)) {
        let again = d.join(format!("w{i:02}-again"));
        std::fs::create_dir(&again).expect("workdir");
        let id = submit(&service.socket, &pipeline, &again).expect("accepted");
        runs.push((i + RUNS, id));
    }
    std::fs::write(d.join("go"), "").expect("go");
    for (_, id) in &runs {
        assert_eq!(service.wait_for_end(id), "success", "run {id}");
    }
    for (i, id) in &acked {
        let ledger = std::fs::read_to_string(workdirs[*i].join("ledger.txt")).expect("a ledger");
        assert_eq!(ledger, "one\ntwo\nthree\n", "run {id} in w{i:02}");
    }
    assert!(acked.len() >= 20, "{} acknowledged", acked.len());
    assert!(
        acked.len() < RUNS,
        "the service died before every submission"
    );
}

/// Appends `one`, then `two` only once the file `ok` exists (failing before).
const FLAKY: &str = "workflow Flaky\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  tool One\n    timeout: 30s\n    command: echo one >> ledger.txt\n  tool Two\n    timeout: 30s\n    command: test -e ok && echo two >> ledger.txt\n  agent Done\n    label: Done\n  edges\n    Start -> One\n    One -> Two\n    Two -> Done\n";

#[test]
fn two_resumes_of_one_run_at_once_over_the_api_run_it_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("flaky.dip"), FLAKY).expect("pipeline");
    let service = Service::start(d);
    let id = service.submit_json("flaky.dip");
    let status = service.wait_for_end(&id);
    assert_ne!(status, "success", "the second step fails the first time");
    std::fs::write(d.join("ok"), "").expect("ok");

    // Two clients resume it at the same moment.
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let resumes: Vec<_> = (0..2)
        .map(|_| {
            let (socket, id) = (service.socket.clone(), id.clone());
            let barrier = std::sync::Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                request(&socket, "POST", &format!("/v1/runs/{id}/resume"), None)
                    .expect("the service answers")
            })
        })
        .collect();
    let mut answers: Vec<(u16, serde_json::Value)> = resumes
        .into_iter()
        .map(|t| t.join().expect("a client"))
        .collect();
    answers.sort_by_key(|(status, _)| *status);
    assert_eq!(answers[0].0, 200, "{answers:?}");
    assert_eq!(answers[0].1["run_id"], id.as_str());
    assert_eq!(answers[1].0, 409, "{answers:?}");
    assert!(
        answers[1].1["error"]
            .as_str()
            .is_some_and(|e| e.contains(&id)),
        "{answers:?}"
    );
    assert_eq!(service.wait_for_end(&id), "success");
    let ledger = std::fs::read_to_string(d.join("ledger.txt")).expect("ledger");
    assert_eq!(ledger, "one\ntwo\n", "the first step ran once");
    // A run that succeeded has nothing to resume.
    let (status, reply) = service.http("POST", &format!("/v1/runs/{id}/resume"), None);
    assert_eq!(status, 409, "{reply}");
}

#[test]
fn the_service_refuses_to_resume_a_run_another_process_drives_then_resumes_it_once_free() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let fifo = d.join("gate.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("fifo");
    std::fs::write(
        d.join("held.dip"),
        FLAKY.replace(
            "test -e ok && echo two >> ledger.txt",
            "read line < gate.fifo && echo two >> ledger.txt",
        ),
    )
    .expect("pipeline");
    let service = Service::start(d);
    // `tracker run` drives it in its own process, waiting in step two.
    let mut other = tracker_tests::in_dir(d)
        .args(["run", "held.dip", "--provider", "stub", "--no-tui"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("tracker run");
    let runs = d.join(".tracker/runs");
    let id = loop {
        let started = std::fs::read_dir(&runs).ok().and_then(|entries| {
            entries
                .flatten()
                .find(|e| e.path().join("Two").exists())
                .map(|e| e.file_name().to_string_lossy().into_owned())
        });
        if let Some(id) = started {
            break id;
        }
        std::thread::yield_now();
    };
    let body = json!({ "workdir": d }).to_string();
    let (status, reply) = service.http(
        "POST",
        &format!("/v1/runs/{}/resume", &id[..6]),
        Some(body.clone()),
    );
    assert_eq!(status, 409, "{reply}");
    let message = reply["error"].as_str().unwrap_or_default();
    assert!(
        message.contains(&format!("tracker process {}", other.id())),
        "{message}"
    );
    // Once that process is gone, the service takes the run over and
    // finishes it; step one is not run again.
    other.kill().expect("kill tracker run");
    other.wait().expect("reaped");
    let (status, reply) = service.http("POST", &format!("/v1/runs/{id}/resume"), Some(body));
    assert_eq!(status, 200, "{reply}");
    std::fs::write(&fifo, "go\n").expect("open the gate");
    assert_eq!(service.wait_for_end(&id), "success");
    let ledger = std::fs::read_to_string(d.join("ledger.txt")).expect("ledger");
    assert_eq!(ledger, "one\ntwo\n", "every step once");
}
