//! Many runs survive the service's crash: 50 pipelines of tool nodes are
//! submitted, the service is killed with SIGKILL while they run (and while
//! another client's submissions still arrive), and the next service finishes
//! every acknowledged run with each of its steps done exactly once. Resumes
//! over the API: two at once run the run once, and a run another process
//! drives is refused until it is free.

use std::path::Path;

use serde_json::json;
use tracker_tests::service::{request, wait_until, Service};

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

    // The fifty are submitted; meanwhile another client keeps submitting
    // more, one after another, so that submissions are still arriving when
    // the service is killed. Each client keeps what was acknowledged.
    let mut acked: Vec<(std::path::PathBuf, String)> = Vec::new();
    for workdir in &workdirs {
        let id = submit(&service.socket, &pipeline, workdir).expect("accepted");
        acked.push((workdir.clone(), id));
    }
    let killed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let late_count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let late = {
        let killed = std::sync::Arc::clone(&killed);
        let late_count = std::sync::Arc::clone(&late_count);
        let (socket, pipeline, d) = (service.socket.clone(), pipeline.clone(), d.to_path_buf());
        std::thread::spawn(move || {
            let mut acked = Vec::new();
            for i in 0.. {
                if killed.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let workdir = d.join(format!("late{i:03}"));
                std::fs::create_dir(&workdir).expect("workdir");
                match submit(&socket, &pipeline, &workdir) {
                    Some(id) => {
                        acked.push((workdir, id));
                        late_count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                    None => break,
                }
            }
            acked
        })
    };
    // Killed once thirty of the fifty are in their second step (the others
    // anywhere before it) and the late client is under way.
    wait_until("thirty runs in their second step", || {
        late_count.load(std::sync::atomic::Ordering::SeqCst) >= 3
            && acked.iter().filter(|(w, id)| in_two(w, id)).count() >= 30
    });
    killed.store(true, std::sync::atomic::Ordering::SeqCst);
    service.child.kill().expect("SIGKILL the service");
    service.child.wait().expect("reaped");
    let late_acked = late.join().expect("the late client ends");
    drop(service);

    // Every acknowledged run, of the fifty and of the late ones, finishes in
    // the next service, each step exactly once.
    let service = Service::start(d);
    std::fs::write(d.join("go"), "").expect("go");
    acked.extend(late_acked);
    for (workdir, id) in &acked {
        assert_eq!(service.wait_for_end(id), "success", "run {id}");
        let ledger = std::fs::read_to_string(workdir.join("ledger.txt")).expect("a ledger");
        assert_eq!(
            ledger,
            "one\ntwo\nthree\n",
            "run {id} in {}",
            workdir.display()
        );
    }
    assert!(acked.len() > RUNS, "the late client got some in");
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
    let mut id = String::new();
    wait_until("the run in its second step", || {
        let started = std::fs::read_dir(&runs).ok().and_then(|entries| {
            entries
                .flatten()
                .find(|e| e.path().join("Two").exists())
                .map(|e| e.file_name().to_string_lossy().into_owned())
        });
        id = started.unwrap_or_default();
        !id.is_empty()
    });
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
    let (status, reply) =
        service.http("POST", &format!("/v1/runs/{id}/resume"), Some(body.clone()));
    assert_eq!(status, 200, "{reply}");
    // Asked again, by a prefix, while the service drives it: refused, and
    // the service's record of it stays.
    let (status, reply) =
        service.http("POST", &format!("/v1/runs/{}/resume", &id[..6]), Some(body));
    assert_eq!(status, 409, "{reply}");
    assert!(recorded(&d.join("state"), &id), "the record stays");
    std::fs::write(&fifo, "go\n").expect("open the gate");
    assert_eq!(service.wait_for_end(&id), "success");
    let ledger = std::fs::read_to_string(d.join("ledger.txt")).expect("ledger");
    assert_eq!(ledger, "one\ntwo\n", "every step once");
}

/// Whether the service's record log (`runs.log` in `state`) holds run `id`:
/// added and not removed since.
fn recorded(state: &std::path::Path, id: &str) -> bool {
    let log = std::fs::read_to_string(state.join("runs.log")).unwrap_or_default();
    log.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .fold(false, |live, line| {
            if line["add"] == id {
                true
            } else if line["remove"] == id {
                false
            } else {
                live
            }
        })
}

/// Cuts run `id`'s journal (in `workdir`) back to its header and leaves
/// zeros after it, as a power loss does to lines that were only in the page
/// cache; returns how many saves it took away.
fn lose_unsynced_saves(workdir: &Path, id: &str) -> usize {
    let journal = workdir
        .join(".tracker/runs")
        .join(id)
        .join("checkpoint.journal");
    let text = std::fs::read_to_string(&journal).expect("a journal");
    let header = text.lines().next().expect("a header");
    let mut cut = format!("{header}\n").into_bytes();
    cut.extend([0u8; 32]);
    std::fs::write(&journal, cut).expect("cut the journal");
    text.lines().count() - 1
}

#[test]
fn saves_a_power_loss_took_from_the_journals_come_back_from_the_commit_log() {
    const RUNS: usize = 4;
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let pipeline = d.join("steps.dip");
    std::fs::write(&pipeline, STEPS).expect("pipeline");
    // A durable service: its runs' saves go through its commit log.
    let durable = |d: &Path| Service::start_with(d, tracker_tests::in_dir(d).arg("serve"));
    let mut service = durable(d);
    let mut acked = Vec::new();
    for i in 0..RUNS {
        let workdir = d.join(format!("w{i}"));
        std::fs::create_dir(&workdir).expect("workdir");
        let id = submit(&service.socket, &pipeline, &workdir).expect("accepted");
        acked.push((workdir, id));
    }
    wait_until("every run in its second step", || {
        acked.iter().all(|(w, id)| in_two(w, id))
    });
    service.child.kill().expect("SIGKILL the service");
    service.child.wait().expect("reaped");
    drop(service);
    // The power goes: every save since each run's snapshot is gone from its
    // journal (`One` was among them); the commit log, synced, kept them.
    for (workdir, id) in &acked {
        assert!(lose_unsynced_saves(workdir, id) >= 2, "run {id} had saved");
    }
    let log = std::fs::read_to_string(d.join("state/commits.log")).expect("commit log");
    assert!(!log.is_empty());

    // The last run is resumed by `tracker run -r` in its own process (its
    // directory names the log), the others by the next service, which finds
    // that one ended: none runs `One` again.
    std::fs::write(d.join("go"), "").expect("go");
    let (own_workdir, own_id) = acked.pop().expect("a run");
    let out = tracker_tests::in_dir(&own_workdir)
        .args(["run", "-r", &own_id, "--no-tui"])
        .output()
        .expect("tracker run -r");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ledger = std::fs::read_to_string(own_workdir.join("ledger.txt")).expect("a ledger");
    assert_eq!(ledger, "one\ntwo\nthree\n", "run {own_id}");
    let service = durable(d);
    for (workdir, id) in &acked {
        assert_eq!(service.wait_for_end(id), "success", "run {id}");
        let ledger = std::fs::read_to_string(workdir.join("ledger.txt")).expect("a ledger");
        assert_eq!(ledger, "one\ntwo\nthree\n", "run {id}");
    }
    assert_eq!(
        std::fs::read_to_string(own_workdir.join("ledger.txt")).expect("a ledger"),
        "one\ntwo\nthree\n",
        "the next service left the ended run alone"
    );
}

#[test]
fn runs_accepted_before_their_directories_were_on_the_disk_are_made_whole_from_their_records() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let pipeline = d.join("steps.dip");
    std::fs::write(&pipeline, STEPS).expect("pipeline");
    // Durable, one run at a time: the second and third wait, not started.
    let durable = |d: &Path| {
        Service::start_with(
            d,
            tracker_tests::in_dir(d).args(["serve", "--max-runs", "1"]),
        )
    };
    let mut service = durable(d);
    let workdirs: Vec<_> = (0..3).map(|i| d.join(format!("w{i}"))).collect();
    for w in &workdirs {
        std::fs::create_dir(w).expect("workdir");
    }
    let first = submit(&service.socket, &pipeline, &workdirs[0]).expect("accepted");
    wait_until("the first run in its second step", || {
        in_two(&workdirs[0], &first)
    });
    let second = submit(&service.socket, &pipeline, &workdirs[1]).expect("accepted");
    let third = submit(&service.socket, &pipeline, &workdirs[2]).expect("accepted");
    for id in [&second, &third] {
        let (_, run) = service.http("GET", &format!("/v1/runs/{id}"), None);
        assert_eq!(run["status"], "queued", "{run}");
    }
    service.child.kill().expect("SIGKILL the service");
    service.child.wait().expect("reaped");
    drop(service);
    // The power goes before their directories were synced: only the records
    // (synced when accepted) are sure to be there. The second run's
    // directory is gone; the third's reached the disk but for its pipeline
    // copy, which is empty.
    let lost = workdirs[1].join(".tracker/runs").join(&second);
    std::fs::remove_dir_all(&lost).expect("lose the directory");
    let cut = workdirs[2]
        .join(".tracker/runs")
        .join(&third)
        .join("workflow.dip");
    std::fs::write(&cut, "").expect("empty the copy");

    let service = durable(d);
    std::fs::write(d.join("go"), "").expect("go");
    for (workdir, id) in workdirs.iter().zip([&first, &second, &third]) {
        assert_eq!(service.wait_for_end(id), "success", "run {id}");
        let ledger = std::fs::read_to_string(workdir.join("ledger.txt")).expect("a ledger");
        assert_eq!(ledger, "one\ntwo\nthree\n", "run {id}");
    }
    assert!(
        lost.join("workflow.dip").exists(),
        "made again where it was"
    );
    assert_eq!(
        std::fs::read_to_string(&cut).expect("the copy"),
        STEPS,
        "the copy restored from the record"
    );
}

#[test]
fn a_resume_of_a_run_the_service_drove_takes_what_the_request_changes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(
        d.join("gated.dip"),
        "workflow Gated\n  start: Start\n  exit: Done\n  vars\n    go: no\n  agent Start\n    label: Start\n  tool Check\n    timeout: 30s\n    command: test ${params.go} = yes && echo ran >> ledger.txt\n  agent Done\n    label: Done\n  edges\n    Start -> Check\n    Check -> Done\n",
    )
    .expect("pipeline");
    let service = Service::start(d);
    let id = service.submit_json("gated.dip");
    assert_ne!(service.wait_for_end(&id), "success", "go is no");

    // Resumed with the variable changed, the step that failed runs with it.
    let body = serde_json::json!({"params": {"go": "yes"}}).to_string();
    let (status, reply) = service.http("POST", &format!("/v1/runs/{id}/resume"), Some(body));
    assert_eq!(status, 200, "{reply}");
    assert_eq!(service.wait_for_end(&id), "success");
    let ledger = std::fs::read_to_string(d.join("ledger.txt")).expect("ledger");
    assert_eq!(ledger, "ran\n");
}

/// A fan-out of X (done at once) and Y (waits for `release`).
const FAN_OUT: &str = "workflow Fan\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  parallel P -> X, Y\n  tool X\n    timeout: 60s\n    command: echo X >> ledger.txt\n  tool Y\n    timeout: 600s\n    command: while [ ! -e release ]; do sleep 0.05; done; echo Y >> ledger.txt\n  fan_in J <- X, Y\n  agent Done\n    label: Done\n  edges\n    Start -> P\n    J -> Done\n";

#[test]
fn a_branch_finished_before_a_durable_service_stopped_is_not_run_again_by_the_next() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("fan.dip"), FAN_OUT).expect("pipeline");
    // Durable (saves through the commit log), not `--no-fsync`.
    let mut service = Service::start_with(d, tracker_tests::in_dir(d).arg("serve"));
    let id = service.submit("fan.dip");
    wait_until("X done and Y going", || {
        std::fs::read_to_string(d.join("ledger.txt")).is_ok_and(|l| l == "X\n")
            && d.join(".tracker/runs").join(&id).join("Y").exists()
    });
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(service.child.id()).expect("pid")),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("SIGTERM");
    assert_eq!(service.child.wait().expect("stops").code(), Some(0));
    drop(service);
    std::fs::write(d.join("release"), "").expect("release");
    let service = Service::start_with(d, tracker_tests::in_dir(d).arg("serve"));
    assert_eq!(service.wait_for_end(&id), "success");
    let ledger = std::fs::read_to_string(d.join("ledger.txt")).expect("ledger");
    assert_eq!(
        ledger, "X\nY\n",
        "X finished before the stop: not run again"
    );
}
