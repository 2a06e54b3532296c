//! Admission and isolation in the service: `--max-runs` queues the runs
//! beyond it in order, visibly, and a stuck run is cancelled with its whole
//! process group killed while the others go on.

use serde_json::json;
use tracker_tests::service::{wait_until, Service};
use tracker_tests::{in_dir, text};

/// A pipeline whose one step waits for the file `go`, then appends `done` to
/// `ledger.txt`.
const WAITS: &str = "workflow Waits\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  tool Wait\n    timeout: 60s\n    command: while [ ! -e go ]; do sleep 0.05; done; echo done >> ledger.txt\n  agent Done\n    label: Done\n  edges\n    Start -> Wait\n    Wait -> Done\n";

#[test]
fn runs_beyond_max_runs_wait_queued_in_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("waits.dip"), WAITS).expect("pipeline");
    let service = Service::start_with(
        d,
        in_dir(d).args(["serve", "--no-fsync", "--max-runs", "2"]),
    );
    let ids: Vec<String> = (0..4).map(|_| service.submit_json("waits.dip")).collect();
    // The first two run (and wait for `go`); the other two wait for a slot.
    let runs = d.join(".tracker/runs");
    for id in &ids[..2] {
        wait_until("the first two runs in their step", || {
            runs.join(id).join("Wait").exists()
        });
    }
    let status = |id: &str| {
        let (_, run) = service.http("GET", &format!("/v1/runs/{id}"), None);
        run["status"].as_str().unwrap_or_default().to_string()
    };
    assert_eq!(status(&ids[0]), "running");
    assert_eq!(status(&ids[1]), "running");
    assert_eq!(status(&ids[2]), "queued");
    assert_eq!(status(&ids[3]), "queued");
    let out = service.client(&["ps"]).output().expect("ps");
    let listing = text(&out.stdout);
    assert_eq!(listing.matches("queued").count(), 2, "{listing}");
    // A queued run cancelled has no events: its followers say how it ended.
    let out = service
        .client(&["cancel", &ids[3]])
        .output()
        .expect("cancel");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let cancelled = service.wait_for_end(&ids[3]);
    let out = service
        .client(&["logs", "-f", &ids[3]])
        .output()
        .expect("logs");
    let said = text(&out.stderr);
    assert!(
        said.contains(&format!(
            "run {} ended ({cancelled}) before it started",
            ids[3]
        )),
        "{said}"
    );
    std::fs::write(d.join("go"), "").expect("go");
    for id in &ids[..3] {
        assert_eq!(service.wait_for_end(id), "success", "run {id}");
    }
    let ledger = std::fs::read_to_string(d.join("ledger.txt")).expect("ledger");
    assert_eq!(ledger.lines().count(), 3);
}

#[test]
fn a_stuck_run_is_cancelled_with_its_process_group_while_another_goes_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let stuck_dir = d.join("stuck");
    let other_dir = d.join("other");
    for w in [&stuck_dir, &other_dir] {
        std::fs::create_dir(w).expect("workdir");
    }
    // A command that never ends, with a child of its own.
    std::fs::write(
        stuck_dir.join("stuck.dip"),
        "workflow Stuck\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  tool Hang\n    timeout: 1h\n    command: sleep 3600 & echo $! > sleeper.pid; wait\n  agent Done\n    label: Done\n  edges\n    Start -> Hang\n    Hang -> Done\n",
    )
    .expect("pipeline");
    std::fs::write(other_dir.join("waits.dip"), WAITS).expect("pipeline");
    let service = Service::start(d);
    let submit = |pipeline: &std::path::Path, workdir: &std::path::Path| {
        let body = json!({ "pipeline": pipeline, "workdir": workdir }).to_string();
        let (status, reply) = service.http("POST", "/v1/runs", Some(body));
        assert_eq!(status, 201, "{reply}");
        reply["run_id"].as_str().expect("id").to_string()
    };
    let stuck = submit(&stuck_dir.join("stuck.dip"), &stuck_dir);
    let other = submit(&other_dir.join("waits.dip"), &other_dir);
    let pid_file = stuck_dir.join("sleeper.pid");
    let mut pid = String::new();
    wait_until("the stuck command's child", || {
        pid = std::fs::read_to_string(&pid_file).unwrap_or_default();
        pid.ends_with('\n')
    });
    assert!(tracker_tests::process_running(&pid));

    let out = service
        .client(&["cancel", &stuck])
        .output()
        .expect("cancel");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_ne!(service.wait_for_end(&stuck), "success");
    assert!(
        !tracker_tests::process_running(&pid),
        "the stuck command's child {pid} outlived the cancel"
    );

    // The other run was not touched.
    let (_, run) = service.http("GET", &format!("/v1/runs/{other}"), None);
    assert!(
        matches!(run["status"].as_str(), Some("running" | "queued")),
        "{run}"
    );
    std::fs::write(other_dir.join("go"), "").expect("go");
    assert_eq!(service.wait_for_end(&other), "success");
}
