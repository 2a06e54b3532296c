//! Runtime overhead per node transition, and a 1,000-node linear pipeline.
//!
//! Run with `cargo bench -p tracker-actors --bench transitions`. Prints Markdown
//! tables for `docs/performance.md`. Each figure is the best of several runs.
//!
//! * **engine** — the state machine alone: what routing, context, trace and
//!   checkpoint bookkeeping cost per transition, with no actors and no I/O;
//! * **actors** — the full runtime (run actor, a node actor per attempt, the
//!   event bus, the checkpoint writer) with a handler that returns at once, so
//!   the time is the runtime's own; with and without fsync;
//! * **stub agents** — every node an agent on the stub completer, which also
//!   writes each node's `prompt.md`, `response.md` and `status.json`.
//!
//! `BENCH_ENGINE_ONLY=1` stops after the engine figure and `BENCH_NOSYNC_ONLY=1`
//! runs only the unsynced configuration (handy under a profiler).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracker_actors::bus::Deliver;
use tracker_actors::clock::SystemClock;
use tracker_actors::launch::{launch, RunOptions};
use tracker_actors::process::Process;
use tracker_actors::run_dir::{RunDir, WorkflowCopy};
use tracker_actors::store::{Durability, RunStore, StoreStats};
use tracker_handlers::{BoxFuture, HandlerEnv, HandlerRegistry, NodeHandler};
use tracker_runtime::checkpoint::Checkpoint;
use tracker_runtime::clock::Clock;
use tracker_runtime::engine::{Engine, EngineConfig, Next, NodeTask, TerminalStatus};
use tracker_runtime::llm::stub::StubCompleter;
use tracker_runtime::llm::Completers;
use tracker_runtime::outcome::{NodeResult, Outcome};
use tracker_runtime::plan::{Handler, SpawnPlan};
use tracker_runtime::usage::SessionStats;

/// A handler that succeeds at once with stub-sized usage.
struct Instant0;

impl NodeHandler for Instant0 {
    fn run(&self, _task: NodeTask, _env: HandlerEnv) -> BoxFuture<NodeResult> {
        Box::pin(async {
            let mut outcome = Outcome::success().update("last_response", "ok");
            outcome.stats = Some(SessionStats {
                turns: 1,
                input_tokens: 100,
                output_tokens: 50,
                total_tokens: 150,
                provider: "stub".into(),
                ..SessionStats::default()
            });
            Ok(outcome)
        })
    }
}

/// A subscriber that only counts, standing in for a printer.
#[derive(Default)]
struct Counter(u64);

impl actix::Actor for Counter {
    type Context = actix::Context<Self>;
}

impl actix::Handler<Deliver> for Counter {
    type Result = ();

    fn handle(&mut self, msg: Deliver, _: &mut Self::Context) {
        self.0 += msg.0.len() as u64;
    }
}

/// A linear pipeline of `n` agent nodes.
fn linear(n: usize) -> Arc<SpawnPlan> {
    let mut text = String::from("workflow Linear\n  start: N0\n  exit: Done\n  defaults\n    provider: stub\n    model: stub-model\n\n");
    for i in 0..n {
        text.push_str(&format!(
            "  agent N{i}\n    prompt: step {i} of the goal\n\n"
        ));
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
    let (wf, diags) = dippin::parse_dip(&text);
    assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
    Arc::new(SpawnPlan::compile(&wf).expect("compiles"))
}

fn best_of(runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    (0..runs).map(|_| f()).min().unwrap_or_default()
}

/// The engine alone, checkpointing on (deltas computed, not written).
fn engine_only(plan: &Arc<SpawnPlan>) -> Duration {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
    let start = Instant::now();
    let mut engine = Engine::new(
        Arc::clone(plan),
        EngineConfig {
            run_id: "bench0000000".into(),
            checkpointing: true,
            ..EngineConfig::default()
        },
        clock,
    );
    let mut out = Vec::new();
    let mut next = engine.start(&mut out);
    loop {
        out.clear();
        next = match next {
            Next::Execute(task) => {
                // The handler is done with the context snapshot.
                drop(task);
                let mut outcome = Outcome::success().update("last_response", "ok");
                outcome.stats = Some(SessionStats {
                    turns: 1,
                    total_tokens: 150,
                    provider: "stub".into(),
                    ..SessionStats::default()
                });
                engine.finish_node(Ok(outcome), &mut out)
            }
            Next::Sleep(_) => engine.wake(&mut out),
            Next::Finished(end) => {
                assert_eq!(end.result.map(|r| r.status), Some(TerminalStatus::Success));
                break;
            }
        };
    }
    start.elapsed()
}

/// What one actor-runtime run cost.
struct ActorRun {
    elapsed: Duration,
    compactions: u64,
    saves: u64,
    syncs: u64,
    bytes: u64,
}

/// The full actor runtime.
fn actors(plan: &Arc<SpawnPlan>, durability: Option<Durability>, instant: bool) -> ActorRun {
    let dir = tempfile::tempdir().expect("temp dir");
    let workdir = dir.path().to_path_buf();
    let plan = Arc::clone(plan);
    actix::System::new().block_on(async move {
        let process = Process::start(0);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
        let mut handlers = HandlerRegistry::builtin();
        if instant {
            handlers.set(Handler::Codergen, Arc::new(Instant0));
        }
        let mut completers = Completers::new();
        completers.answer_everything_with(Arc::new(StubCompleter::golden()));
        let counter = actix::Actor::start(Counter::default());
        let mut options = RunOptions::new(workdir.clone(), completers);
        options.handlers = Some(handlers);
        options.subscribers.push(counter.recipient());
        options.clock = Arc::clone(&clock);
        let root = workdir.join(".tracker").join("runs");
        let stats = match durability {
            Some(d) => {
                let copy = WorkflowCopy {
                    text: "",
                    dot: false,
                    base: None,
                };
                let run_dir = RunDir::create(&root, copy, clock.now(), d).expect("run dir");
                let stats = run_dir.store_stats();
                options.run_dir = Some(run_dir);
                Some(stats)
            }
            None => {
                options.run_id = Some("bench0000000".to_string());
                options.artifact_dir = Some(root.join("bench0000000"));
                None
            }
        };
        let start = Instant::now();
        let handle = launch(&process, plan, options).await.expect("launch");
        let end = handle.wait().await.expect("end").end;
        let elapsed = start.elapsed();
        assert_eq!(end.result.map(|r| r.status), Some(TerminalStatus::Success));
        let get = |f: fn(&StoreStats) -> &std::sync::atomic::AtomicU64| {
            stats.as_ref().map_or(0, |s| f(s).load(Ordering::Relaxed))
        };
        ActorRun {
            elapsed,
            saves: get(|s| &s.saves),
            compactions: get(|s| &s.compactions),
            syncs: get(|s| &s.syncs),
            bytes: get(|s| &s.bytes_written),
        }
    })
}

/// The checkpoint store alone: `n` saves of a transition's typical changes.
fn store_only(n: usize, durability: Durability) -> Duration {
    use tracker_runtime::journal::Change;
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = SystemClock::new();
    let mut store = RunStore::create(
        dir.path(),
        Checkpoint::new("bench0000000"),
        clock.now(),
        durability,
    )
    .expect("store");
    let start = Instant::now();
    for i in 0..n {
        let node = format!("N{i}");
        let mut changes = vec![
            Change::NodeOutcome {
                node: node.clone(),
                status: "success".into(),
            },
            Change::Completed { node: node.clone() },
            Change::EdgeSelection {
                node: node.clone(),
                to: format!("N{}", i + 1),
            },
            Change::CurrentNode {
                node: format!("N{}", i + 1),
            },
        ];
        for key in [
            "outcome",
            "last_response",
            "preferred_label",
            "suggested_next_nodes",
        ] {
            changes.push(Change::Context {
                key: format!("node.{node}.{key}"),
                value: "ok".into(),
            });
        }
        store.save(&changes, clock.now()).expect("save");
    }
    start.elapsed()
}

fn us(d: Duration, n: usize) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6 / n as f64)
}

fn main() {
    let n = 1000;
    let plan = linear(n);
    let transitions = n + 1;
    println!("## Runtime overhead per node transition ({transitions} transitions, best of 9)\n");
    println!("| configuration | per transition | 1,000-node run | saves | snapshots | fsyncs / transition | checkpoint bytes / transition |");
    println!("|---|---|---|---|---|---|---|");
    let engine = best_of(9, || engine_only(&plan));
    let store = best_of(9, || store_only(n, Durability::NoSync));
    println!(
        "| checkpoint store only, without fsync | {} | {:.1} ms | {n} | — | 0.00 | — |",
        us(store, n),
        store.as_secs_f64() * 1e3
    );
    if std::env::var_os("BENCH_ENGINE_ONLY").is_some() {
        println!("engine only: {}", us(engine, transitions));
        return;
    }
    println!(
        "| engine only (no actors, no I/O) | {} | {:.1} ms | — | — | — | — |",
        us(engine, transitions),
        engine.as_secs_f64() * 1e3
    );
    let mut rows = Vec::new();
    let only_nosync = std::env::var_os("BENCH_NOSYNC_ONLY").is_some();
    for (label, durability, instant) in [
        ("actors, no checkpoint", None, true),
        (
            "actors, checkpoint without fsync",
            Some(Durability::NoSync),
            true,
        ),
        (
            "actors, checkpoint with fsync",
            Some(Durability::Sync),
            true,
        ),
        (
            "stub agents (node files), checkpoint with fsync",
            Some(Durability::Sync),
            false,
        ),
    ] {
        let only_actors = std::env::var_os("BENCH_ACTORS_ONLY").is_some();
        if (only_nosync && durability != Some(Durability::NoSync))
            || (only_actors && durability.is_some())
        {
            continue;
        }
        let mut best: Option<ActorRun> = None;
        for _ in 0..9 {
            let run = actors(&plan, durability, instant);
            if best.as_ref().is_none_or(|b| run.elapsed < b.elapsed) {
                best = Some(run);
            }
        }
        let run = best.expect("ran");
        rows.push((label, run));
    }
    for (label, run) in &rows {
        println!(
            "| {label} | {} | {:.1} ms | {} | {} | {:.2} | {:.0} |",
            us(run.elapsed, transitions),
            run.elapsed.as_secs_f64() * 1e3,
            run.saves,
            run.compactions,
            run.syncs as f64 / transitions as f64,
            run.bytes as f64 / transitions as f64,
        );
    }
}
