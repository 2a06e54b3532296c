//! Chaos in the service: 200 runs, a seeded tenth of whose agent nodes panic,
//! hang past their supervision timeout, or fail. Every run ends in the
//! status its supervision policy dictates, none stays stuck, the service
//! stays up, and every run's events as the service streamed them equal its
//! `activity.jsonl`.

use std::collections::BTreeMap;

use serde_json::json;
use tracker_tests::service::Service;

/// How a run's agent behaves, and the status its policy then dictates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// Answers.
    Healthy,
    /// Panics every time: restarted three times, then the run fails.
    Panics,
    /// Panics every time, but its policy hands the failure to the workflow,
    /// which routes it to a recovery step: the run succeeds.
    PanicsAndRecovers,
    /// Never answers: stopped at its 3 s timeout, restarted three times, then
    /// the run fails.
    Hangs,
    /// Fails every call: a provider error no restart fixes; the run fails.
    Fails,
}

impl Kind {
    fn pipeline(self) -> &'static str {
        match self {
            Kind::Healthy => "healthy.dip",
            Kind::Panics => "panics.dip",
            Kind::PanicsAndRecovers => "recovers.dip",
            Kind::Hangs => "hangs.dip",
            Kind::Fails => "fails.dip",
        }
    }

    fn expected_status(self) -> &'static str {
        match self {
            Kind::Healthy | Kind::PanicsAndRecovers => "success",
            Kind::Panics | Kind::Hangs | Kind::Fails => "fail",
        }
    }
}

/// A pipeline whose agent `Work` runs on the offline stub's `model`, under
/// `supervise`, with `edges` from `Work` (a node that reports `fail` can be
/// routed to `Recover`; a handler error cannot).
fn pipeline(model: &str, supervise: &str, edges: &str) -> String {
    format!(
        "workflow Chaos\n  start: Start\n  exit: Done\n  defaults\n    provider: stub\n  agent Start\n    label: Start\n  agent Work\n    model: {model}\n    prompt: Do the work.\n    params:\n      supervise: {supervise}\n  tool Recover\n    timeout: 10s\n    command: echo recovered >> ledger.txt\n  agent Done\n    label: Done\n  edges\n    Start -> Work\n{edges}    Recover -> Done\n"
    )
}

/// A small deterministic generator (the run's faults are the same every time).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

#[test]
fn two_hundred_runs_with_a_tenth_misbehaving_each_end_as_their_policy_dictates() {
    const RUNS: usize = 200;
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    // Generous enough for a healthy attempt on a loaded machine.
    let restarts = "timeout=3s,backoff=10ms..50ms";
    let routed = "    Work -> Done  when ctx.outcome = success\n    Work -> Recover  when ctx.outcome = fail\n";
    for (kind, text) in [
        (Kind::Healthy, pipeline("stub-model", restarts, routed)),
        (Kind::Panics, pipeline("chaos-panic", restarts, routed)),
        (
            Kind::PanicsAndRecovers,
            pipeline(
                "chaos-panic",
                &format!("{restarts},escalate=fail-node"),
                routed,
            ),
        ),
        (Kind::Hangs, pipeline("chaos-hang", restarts, routed)),
        (Kind::Fails, pipeline("chaos-fail", restarts, routed)),
    ] {
        std::fs::write(d.join(kind.pipeline()), text).expect("pipeline");
    }
    // A seeded tenth misbehave, in each of the four ways.
    let mut rng = Lcg(0x7261_636b_6572);
    let faults = [
        Kind::Panics,
        Kind::PanicsAndRecovers,
        Kind::Hangs,
        Kind::Fails,
    ];
    let kinds: Vec<Kind> = (0..RUNS)
        .map(|_| {
            if rng.next() % 10 == 0 {
                faults[(rng.next() % 4) as usize]
            } else {
                Kind::Healthy
            }
        })
        .collect();
    let misbehaving = kinds.iter().filter(|k| **k != Kind::Healthy).count();
    assert!((10..=35).contains(&misbehaving), "{misbehaving} misbehave");

    let service = Service::start(d);
    let mut runs = Vec::new();
    for (i, kind) in kinds.iter().enumerate() {
        let workdir = d.join(format!("w{i:03}"));
        std::fs::create_dir(&workdir).expect("workdir");
        let body = json!({ "pipeline": d.join(kind.pipeline()), "workdir": workdir }).to_string();
        let (status, reply) = service.http("POST", "/v1/runs", Some(body));
        assert_eq!(status, 201, "{reply}");
        let id = reply["run_id"].as_str().expect("run id").to_string();
        runs.push((id, *kind, workdir));
    }

    let mut wrong = Vec::new();
    let mut seen: BTreeMap<Kind, usize> = BTreeMap::new();
    for (id, kind, workdir) in &runs {
        *seen.entry(*kind).or_default() += 1;
        let status = service.wait_for_end(id);
        if status != kind.expected_status() {
            wrong.push(format!("{id} ({kind:?}): {status}"));
        }
        let recovered = workdir.join("ledger.txt").exists();
        assert_eq!(
            recovered,
            *kind == Kind::PanicsAndRecovers,
            "{id} ({kind:?})"
        );
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert_eq!(seen.len(), 5, "every kind occurred: {seen:?}");

    // The service is up and idle, and what it streamed is what each run
    // logged.
    let (status, health) = service.http("GET", "/v1/health", None);
    assert_eq!(status, 200);
    assert_eq!(health["runs"], RUNS, "{health}");
    let all = service.sse_lines("/v1/events?from=0&follow=false");
    let mut streamed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in all {
        let event: serde_json::Value = serde_json::from_str(&line).expect("an event line");
        let id = event["run_id"].as_str().expect("run_id").to_string();
        streamed.entry(id).or_default().push(line);
    }
    for (id, _, workdir) in &runs {
        let path = workdir
            .join(".tracker/runs")
            .join(id)
            .join("activity.jsonl");
        let logged = std::fs::read_to_string(path).expect("activity log");
        let logged: Vec<&str> = logged.lines().collect();
        assert_eq!(
            streamed.get(id).map(Vec::len),
            Some(logged.len()),
            "run {id}"
        );
        assert_eq!(streamed[id], logged, "run {id}");
    }
}
