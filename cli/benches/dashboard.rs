//! What the dashboard costs. Run with `cargo bench -p tracker-cli --bench
//! dashboard`; prints Markdown tables for `docs/performance.md`.
//!
//! * **frame** — one frame of a 2,000-node pipeline whose log holds 10,000
//!   rows, drawn into an off-screen buffer at 80×24 and 200×50: the median,
//!   99th percentile and worst of 300 frames, plain and with a search on;
//! * **burst** — a real run of 11,200 agent nodes on the offline stub (over
//!   100,000 events; `BENCH_NODES=N` for another size) with the dashboard
//!   attached as `tracker run` attaches it (its subscriber in place of the
//!   console printer; drawing off-screen, every frame really rendered) and
//!   without it (a counter in the printer's place), alternated round by round
//!   in this one invocation: the time per node transition, and the ratio;
//! * **memory** — the process's resident size while a view folds a million
//!   events: it levels off, because the log keeps at most 10,000 rows.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::backend::TestBackend;
use ratatui::Terminal;
use tracker_actors::bus::Deliver;
use tracker_actors::launch::{launch, RunOptions};
use tracker_actors::process::Process;
use tracker_cli::dashboard::app::Dashboard;
use tracker_cli::dashboard::model::RunView;
use tracker_cli::dashboard::render::draw;
use tracker_cli::dashboard::ui::{Search, Ui};
use tracker_runtime::engine::TerminalStatus;
use tracker_runtime::event::{EventKind, EventSource, PipelineEvent};
use tracker_runtime::llm::stub::StubCompleter;
use tracker_runtime::llm::Completers;
use tracker_runtime::plan::SpawnPlan;
use tracker_runtime::time::Timestamp;

/// A linear pipeline of `n` agent nodes on the stub provider.
fn linear(n: usize) -> Arc<SpawnPlan> {
    let mut text = String::from(
        "workflow Linear\n  start: N0\n  exit: Done\n  defaults\n    provider: stub\n    model: stub-model\n\n",
    );
    for i in 0..n {
        text.push_str(&format!("  agent N{i}\n    prompt: step {i}\n\n"));
    }
    text.push_str("  agent Done\n    label: Done\n\n  edges\n");
    for i in 0..n {
        let next = if i + 1 == n {
            "Done".to_string()
        } else {
            format!("N{}", i + 1)
        };
        text.push_str(&format!("    N{i} -> {next}\n"));
    }
    let (workflow, diagnostics) = dippin::parse_dip(&text);
    assert!(diagnostics.iter().all(|d| !d.is_error()), "{diagnostics:?}");
    Arc::new(SpawnPlan::compile(&workflow).expect("compiles"))
}

fn event(kind: EventKind, node: &str, i: usize) -> PipelineEvent {
    let mut event = PipelineEvent::new(
        kind,
        EventSource::Agent,
        Timestamp::from_unix_millis(1_765_000_000_000 + i as i64, 0),
    );
    event.node_id = Some(node.to_string());
    event.message = Some(format!("event {i} of node {node}: some words of activity"));
    event
}

/// The events of a busy agent: tool calls with output, and lines of text.
fn busy_events(node: &str, n: usize) -> impl Iterator<Item = PipelineEvent> + '_ {
    (0..n).map(move |i| match i % 4 {
        0 => {
            let mut e = event(EventKind::ToolCallStart, node, i);
            e.tool_name = Some("bash".into());
            e.capture.tool_input = Some(format!(r#"{{"command":"cargo test --package p{i}"}}"#));
            e
        }
        1 => {
            let mut e = event(EventKind::ToolCallEnd, node, i);
            e.tool_name = Some("bash".into());
            e.content = Some((0..6).map(|l| format!("test t{l} ... ok\n")).collect());
            e
        }
        _ => event(EventKind::Warning, node, i),
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

/// A view of `nodes` nodes, half of them done, the one under way with a
/// full log (10,000 rows).
fn halfway(nodes: usize) -> RunView {
    let plan = linear(nodes - 1);
    let mut view = RunView::new(&plan, "bench0000000");
    let under_way = format!("N{}", nodes / 2);
    for i in 0..nodes / 2 {
        let node = format!("N{i}");
        view.apply(&event(EventKind::StageStarted, &node, i));
        view.apply(&event(EventKind::StageCompleted, &node, i));
    }
    view.apply(&event(EventKind::StageStarted, &under_way, 0));
    for e in busy_events(&under_way, 12_000) {
        view.apply(&e);
    }
    assert_eq!(view.nodes.len(), nodes);
    assert_eq!(view.log_rows(), 10_000);
    view
}

/// Frame times of a 2,000-node view with a full log (and of the burst's
/// 11,200-node one).
fn frames() {
    println!("| nodes | view | size | median ms | p99 ms | worst ms |");
    println!("|---|---|---|---|---|---|");
    for nodes in [2_000, 11_201] {
        let view = halfway(nodes);
        for (label, ui) in [
            ("plain", Ui::default()),
            ("search on", {
                let mut ui = Ui::default();
                ui.search = Some(Search {
                    query: "p77".into(),
                    typing: false,
                    current: Some(0),
                });
                ui
            }),
        ] {
            for (w, h) in [(80u16, 24u16), (200, 50)] {
                let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
                let mut times: Vec<Duration> = (0..300)
                    .map(|_| {
                        let start = Instant::now();
                        terminal
                            .draw(|frame| draw(frame, &view, &ui))
                            .expect("drawn");
                        start.elapsed()
                    })
                    .collect();
                times.sort();
                println!(
                    "| {nodes} | {label} | {w}×{h} | {} | {} | {} |",
                    ms(percentile(&times, 0.5)),
                    ms(percentile(&times, 0.99)),
                    ms(times[times.len() - 1])
                );
            }
        }
    }
}

/// Counts events, standing in for the console printer a run without the
/// dashboard has (the cheapest subscriber there could be).
#[derive(Default)]
struct Counter(Arc<std::sync::atomic::AtomicU64>);

impl actix::Actor for Counter {
    type Context = actix::Context<Self>;
}

impl actix::Handler<Deliver> for Counter {
    type Result = ();

    fn handle(&mut self, msg: Deliver, _: &mut Self::Context) {
        self.0
            .fetch_add(msg.0.len() as u64, std::sync::atomic::Ordering::Relaxed);
    }
}

/// One run of `plan`, with the dashboard attached or not: how long it took
/// and how many events it made.
fn run_once(plan: &Arc<SpawnPlan>, dashboard: bool) -> (Duration, u64) {
    // In memory where there is a tmpfs: the disk's writeback is not what is
    // measured.
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .expect("temp dir");
    let workdir = dir.path().to_path_buf();
    let plan = Arc::clone(plan);
    actix::System::new().block_on(async move {
        let process = Process::start(0);
        let mut completers = Completers::new();
        completers.answer_everything_with(Arc::new(StubCompleter::golden()));
        let mut options = RunOptions::new(workdir.clone(), completers);
        let counted = Arc::new(std::sync::atomic::AtomicU64::new(0));
        options.run_id = Some("bench0000000".to_string());
        options.artifact_dir = Some(workdir.join(".tracker/runs/bench0000000"));
        let (quit, _quit_asked) = tokio::sync::mpsc::unbounded_channel();
        // As `tracker run` has it: the dashboard in place of the console
        // printer (here the cheapest of printers, a counter).
        let board = if dashboard {
            let board = Dashboard::headless(RunView::new(&plan, "bench0000000"), quit, 200, 50)
                .expect("dashboard");
            options.subscribers.push(board.subscriber());
            Some(board)
        } else {
            options
                .subscribers
                .push(actix::Actor::start(Counter(Arc::clone(&counted))).recipient());
            None
        };
        let start = Instant::now();
        let handle = launch(&process, plan, options).await.expect("launch");
        let end = handle.wait().await.expect("end").end;
        let elapsed = start.elapsed();
        assert_eq!(end.result.map(|r| r.status), Some(TerminalStatus::Success));
        if let Some(board) = board {
            board.finish().expect("the dashboard ends cleanly");
        }
        (elapsed, counted.load(std::sync::atomic::Ordering::Relaxed))
    })
}

/// The run with and without the dashboard, alternated.
fn burst() {
    let nodes: usize = std::env::var("BENCH_NODES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(11_200);
    let rounds = 5;
    let plan = linear(nodes);
    println!("| round | events | without µs/transition | with µs/transition | ratio |");
    println!("|---|---|---|---|---|");
    let mut ratios = Vec::new();
    for round in 0..rounds {
        // Odd rounds start with the dashboard, even ones without.
        let (without, with) = if round % 2 == 0 {
            let a = run_once(&plan, false);
            (a, run_once(&plan, true))
        } else {
            let b = run_once(&plan, true);
            (run_once(&plan, false), b)
        };
        let per = |d: Duration| d.as_secs_f64() * 1e6 / (nodes + 1) as f64;
        let ratio = with.0.as_secs_f64() / without.0.as_secs_f64();
        ratios.push(ratio);
        println!(
            "| {} | {} | {:.1} | {:.1} | {ratio:.3} |",
            round + 1,
            without.1,
            per(without.0),
            per(with.0)
        );
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "\nmedian ratio with/without: {:.3}",
        ratios[ratios.len() / 2]
    );
}

/// The resident size now, in KiB (Linux).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// The resident size while a view folds a million events (and a hundred
/// thousand node visits).
fn memory() {
    let plan = linear(1_999);
    let mut view = RunView::new(&plan, "bench0000000");
    view.apply(&event(EventKind::StageStarted, "N0", 0));
    println!("| events folded | log rows | resident MiB | µs per event folded |");
    println!("|---|---|---|---|");
    let mut folded = 0usize;
    for checkpoint in [10_000usize, 100_000, 500_000, 1_000_000] {
        // Made ten thousand at a time, so that only the view grows.
        let mut took = Duration::ZERO;
        for from in (folded..checkpoint).step_by(10_000) {
            let events: Vec<PipelineEvent> =
                busy_events("N0", 10_000.min(checkpoint - from)).collect();
            // Nodes come round again and again: the trail and the ETA's
            // figures grow with them unless bounded.
            let visits: Vec<PipelineEvent> = (from..from + 10_000)
                .step_by(20)
                .flat_map(|i| {
                    let node = format!("N{}", i % 1_999);
                    [
                        event(EventKind::StageStarted, &node, i),
                        event(EventKind::StageCompleted, &node, i + 7),
                    ]
                })
                .collect();
            let start = Instant::now();
            for e in events.iter().chain(&visits) {
                view.apply(e);
            }
            took += start.elapsed();
        }
        println!(
            "| {checkpoint} | {} | {:.1} | {:.2} |",
            view.log_rows(),
            rss_kib() as f64 / 1024.0,
            took.as_secs_f64() * 1e6 / ((checkpoint - folded) as f64 * 1.1)
        );
        folded = checkpoint;
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    if only.is_empty() || only == "frame" {
        println!("## frame\n");
        frames();
    }
    if only.is_empty() || only == "memory" {
        println!("\n## memory\n");
        memory();
    }
    if only.is_empty() || only == "burst" {
        println!("\n## burst\n");
        burst();
    }
}
