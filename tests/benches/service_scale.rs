//! The run service at scale, with durable (fsynced) checkpoints:
//!
//! * **pipelines N** — N 10-node pipelines (start, four tool nodes, four
//!   agent nodes on the offline stub, exit) submitted at once to one
//!   `tracker serve`: the time until the last one finishes, node steps per
//!   second, the service's peak memory and the file descriptors it held;
//! * **agents N** — the same with eight agent nodes instead of the tools and
//!   agents: no process is spawned, so what remains is the service's and the
//!   runtime's own cost;
//! * **gates N** — N runs that each stop at a human gate, all held by one
//!   service: the time until every one waits, and the service's memory per
//!   waiting run (its resident memory with them all waiting, less what it
//!   used before the first submission, divided by N).
//!
//! Run with `cargo build --release && cargo bench -p tracker-tests --bench
//! service_scale -- pipelines 1000` (or `-- gates 10000`; add `no-fsync` to
//! see what the runtime costs without the disk). Prints a Markdown
//! row for `docs/performance.md`. It drives the release binary over its
//! socket with a concurrent client and follows the service-wide event stream
//! to know when the runs' last events are out, keeping at most 1,000 runs
//! submitted and not yet done (or waiting) at a time (then polls the run list until
//! each has released its directory).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;

/// How many runs the client keeps submitted and not yet done (or at their
/// gate).
const WINDOW: usize = 1_000;

/// Start, four tools, four agents, exit: ten nodes.
const TEN_NODES: &str = "workflow Ten\n  start: Start\n  exit: Done\n  defaults\n    provider: stub\n  agent Start\n    label: Start\n  tool T1\n    timeout: 30s\n    command: true\n  agent A1\n    prompt: One.\n  tool T2\n    timeout: 30s\n    command: true\n  agent A2\n    prompt: Two.\n  tool T3\n    timeout: 30s\n    command: true\n  agent A3\n    prompt: Three.\n  tool T4\n    timeout: 30s\n    command: true\n  agent A4\n    prompt: Four.\n  agent Done\n    label: Done\n  edges\n    Start -> T1\n    T1 -> A1\n    A1 -> T2\n    T2 -> A2\n    A2 -> T3\n    T3 -> A3\n    A3 -> T4\n    T4 -> A4\n    A4 -> Done\n";

/// Start, eight agent nodes on the offline stub, exit: ten nodes, no process
/// spawned.
const TEN_AGENTS: &str = "workflow Agents\n  start: Start\n  exit: Done\n  defaults\n    provider: stub\n  agent Start\n    label: Start\n  agent A1\n    prompt: One.\n  agent A2\n    prompt: Two.\n  agent A3\n    prompt: Three.\n  agent A4\n    prompt: Four.\n  agent A5\n    prompt: Five.\n  agent A6\n    prompt: Six.\n  agent A7\n    prompt: Seven.\n  agent A8\n    prompt: Eight.\n  agent Done\n    label: Done\n  edges\n    Start -> A1\n    A1 -> A2\n    A2 -> A3\n    A3 -> A4\n    A4 -> A5\n    A5 -> A6\n    A6 -> A7\n    A7 -> A8\n    A8 -> Done\n";

/// Start, a gate, exit.
const GATED: &str = "workflow Gate\n  start: Start\n  exit: Done\n  agent Start\n    label: Start\n  human Ask\n    label: \"Go on?\"\n    mode: choice\n  agent Done\n    label: Done\n  edges\n    Start -> Ask\n    Ask -> Done  label: yes\n";

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let mode = args.next().unwrap_or_else(|| "pipelines".into());
    let n: usize = args
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(if mode == "gates" { 10_000 } else { 1_000 });
    let synced = args.next().as_deref() != Some("no-fsync");
    let dir = tempfile::tempdir().expect("temp dir");
    let (pipeline, wait_for) = match mode.as_str() {
        "pipelines" => (TEN_NODES, "\"type\":\"pipeline_completed\""),
        "agents" => (TEN_AGENTS, "\"type\":\"pipeline_completed\""),
        "gates" => (GATED, "\"type\":\"gate_opened\""),
        other => panic!("unknown mode {other:?}: pipelines N, agents N or gates N"),
    };
    std::fs::write(dir.path().join("flow.dip"), pipeline).expect("pipeline");
    let service = Killed(start(dir.path(), synced));
    let pid = service.0.id();
    let before = memory(pid, "VmRSS");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let socket = dir.path().join("s").join("tracker.sock");
    let workdir = dir.path().to_path_buf();
    let (took, submitted_in) = runtime.block_on(async move {
        let client = reqwest::Client::builder()
            .unix_socket(socket.as_path())
            .pool_max_idle_per_host(64)
            .build()
            .expect("client");
        // Follow every run's events from the start, before any exists.
        let events = client
            .get("http://tracker/v1/events?from=0&follow=true")
            .send()
            .await
            .expect("event stream");
        // At most WINDOW runs submitted and not yet at their end (or gate):
        // a client pacing itself, as one should against any service.
        let window = std::sync::Arc::new(tokio::sync::Semaphore::new(WINDOW));
        let counted = tokio::spawn(count_lines(
            events,
            wait_for,
            n,
            std::sync::Arc::clone(&window),
        ));
        let start = Instant::now();
        let submissions = futures_util::stream::iter(0..n).map(|_| {
            let client = client.clone();
            let window = std::sync::Arc::clone(&window);
            let body = json!({ "pipeline": "flow.dip", "workdir": workdir }).to_string();
            async move {
                window.acquire().await.expect("window").forget();
                let response = client
                    .post("http://tracker/v1/runs")
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .expect("submitted");
                let status = response.status().as_u16();
                let body = response.text().await.unwrap_or_default();
                assert_eq!(status, 201, "{body}");
            }
        });
        submissions.buffer_unordered(32).collect::<Vec<()>>().await;
        let submitted_in = start.elapsed();
        counted.await.expect("counted");
        // Its last event is out; the run ends once its logs are sealed and
        // its directory released.
        loop {
            let text = client
                .get("http://tracker/v1/runs")
                .send()
                .await
                .expect("list")
                .text()
                .await
                .expect("runs");
            let runs: serde_json::Value = serde_json::from_str(&text).expect("runs JSON");
            let going = runs["runs"].as_array().map_or(0, |r| {
                r.iter()
                    .filter(|r| r["status"] == "running" || r["status"] == "queued")
                    .count()
            });
            if going == 0 || wait_for.contains("gate_opened") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        (start.elapsed(), submitted_in)
    });
    let fds = open_files(pid);
    let peak = memory(pid, "VmHWM");
    let now = memory(pid, "VmRSS");
    let durability = if synced { "fsync" } else { "no fsync" };
    match mode.as_str() {
        "pipelines" | "agents" => {
            println!("| pipelines | nodes each | checkpoints | submitted in | all finished in | node steps/s | peak memory | fds held after |");
            println!("|---|---|---|---|---|---|---|---|");
            println!(
                "| {n} {mode} | 10 | {durability} | {:.2} s | {:.2} s | {:.0} | {:.0} MiB | {fds} |",
                submitted_in.as_secs_f64(),
                took.as_secs_f64(),
                (n * 10) as f64 / took.as_secs_f64(),
                peak as f64 / 1024.0,
            );
        }
        _ => {
            println!("| runs waiting at a gate | checkpoints | submitted in | all waiting after | memory before | memory with all waiting | per waiting run | fds held |");
            println!("|---|---|---|---|---|---|---|---|");
            println!(
                "| {n} | {durability} | {:.2} s | {:.2} s | {:.1} MiB | {:.1} MiB | {:.1} KiB | {fds} |",
                submitted_in.as_secs_f64(),
                took.as_secs_f64(),
                before as f64 / 1024.0,
                now as f64 / 1024.0,
                (now.saturating_sub(before)) as f64 / n as f64,
            );
        }
    }
    drop(service);
}

/// The service, killed when dropped (the bench may panic).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.0.id() as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
        let _ = self.0.wait();
    }
}

/// Reads the SSE stream until `n` lines contain `needle`.
async fn count_lines(
    mut events: reqwest::Response,
    needle: &'static str,
    n: usize,
    window: std::sync::Arc<tokio::sync::Semaphore>,
) {
    let mut seen = 0;
    let mut pending = Vec::new();
    while let Some(chunk) = events.chunk().await.expect("the stream goes on") {
        pending.extend_from_slice(&chunk);
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            if line.starts_with(b"data:")
                && line.windows(needle.len()).any(|w| w == needle.as_bytes())
            {
                seen += 1;
                window.add_permits(1);
            }
        }
        if seen >= n {
            return;
        }
    }
    panic!("the event stream ended after {seen} of {n}");
}

/// The release binary.
fn binary() -> PathBuf {
    let bin = tracker_tests::tracker_path();
    assert!(
        bin.to_string_lossy().contains("release"),
        "{} is not a release build: run `cargo build --release` and `cargo bench`",
        bin.display()
    );
    bin
}

/// Starts `tracker serve` (fsync on) in `dir` and waits until it listens.
fn start(dir: &Path, synced: bool) -> Child {
    let mut command = std::process::Command::new(binary());
    command.arg("serve");
    if !synced {
        command.arg("--no-fsync");
    }
    let mut child = command
        .current_dir(dir)
        .arg("--socket")
        .arg(dir.join("s").join("tracker.sock"))
        .arg("--state-dir")
        .arg(dir.join("state"))
        .env("RUST_LOG", "warn")
        .env("TRACKER_AUDIT_DIR", dir.join(".audit"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the service starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    // With RUST_LOG=warn it says nothing when it starts: wait for the socket.
    std::thread::spawn(move || {
        for line in lines.by_ref().map_while(Result::ok) {
            eprintln!("service: {line}");
        }
    });
    let socket = dir.join("s").join("tracker.sock");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !socket.exists() {
        assert!(Instant::now() < deadline, "the service did not start");
        std::thread::yield_now();
    }
    child
}

/// A memory figure of `pid` from `/proc` (`VmRSS`, `VmHWM`), in KiB.
fn memory(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse().ok())
        })
        .unwrap_or(0)
}

/// How many files `pid` holds open; with `TRACKER_BENCH_FDS=1`, what they are
/// goes to stderr.
fn open_files(pid: u32) -> usize {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return 0;
    };
    let targets: Vec<String> = dir
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .map(|t| {
            let t = t.to_string_lossy().into_owned();
            t.split(['[', ':']).next().unwrap_or("").to_string()
        })
        .collect();
    if std::env::var_os("TRACKER_BENCH_FDS").is_some() {
        let mut kinds = std::collections::BTreeMap::<&str, usize>::new();
        for t in &targets {
            *kinds.entry(t.as_str()).or_default() += 1;
        }
        eprintln!("open files: {kinds:?}");
    }
    targets.len()
}
