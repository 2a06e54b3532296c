//! `tracker run A.dip B.dip …`: several pipelines in one process, each in its
//! own run directory, under one runtime supervisor that runs
//! `--max-concurrent` of them at a time (the others wait in order). One set
//! of provider clients serves them all, so a rate limit one run meets holds
//! the others back. Everything is checked before any run directory is
//! created; a table of the runs closes, and the exit code is 1 when any run
//! did not succeed.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use tracker_actors::clock::SystemClock;
use tracker_actors::launch::{launch, Finished, RunOptions};
use tracker_actors::process::Process;
use tracker_actors::run_dir::RunDir;
use tracker_actors::store::Durability;
use tracker_runtime::clock::Clock;
use tracker_runtime::plan::SpawnPlan;

use super::dash::{show, ProcessRequest, Source};
use super::run::{self, Output, Params, Ready};
use crate::args::RunArgs;
use crate::dashboard::app::{enter, interviewer_on, leave, read_keys, Msg, Restore};
use crate::dashboard::board::Board;
use crate::exit;
use crate::output::console::ConsolePrinter;
use crate::output::ndjson::NdjsonPrinter;
use crate::output::summary::{failure_line, table, Row};
use crate::pipeline;
use crate::signals::Interrupts;

/// One run about to be launched.
struct Planned {
    display: String,
    run_id: String,
    plan: SpawnPlan,
    options: RunOptions,
    /// Its gates answer themselves (`--auto-approve`).
    auto_approve: bool,
}

/// One run's end.
struct Ended {
    /// Its place on the command line.
    order: usize,
    display: String,
    run_id: String,
    finished: Finished,
    elapsed: Duration,
}

/// Runs every pipeline of `args`; returns the exit code.
pub(super) fn run(args: &RunArgs, cwd: &Path, workdir: PathBuf, root: &Path) -> Result<u8> {
    let mut loaded = Vec::with_capacity(args.pipelines.len());
    for arg in &args.pipelines {
        let source = pipeline::resolve(arg, cwd)?;
        let ready = run::ready(args, source.clone(), Some(arg), Params::Matching)?;
        loaded.push((source, ready));
    }
    check_params(args, &loaded)?;
    let mut used = BTreeMap::new();
    for (_, ready) in &loaded {
        for (provider, node) in crate::providers::providers_used(&ready.plan, &ready.subgraphs) {
            used.entry(provider).or_insert(node);
        }
    }
    let completers = run::completers(args, &workdir, &used)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
    let durability = if args.no_fsync {
        Durability::NoSync
    } else {
        Durability::Sync
    };

    // Every run directory, or none.
    let mut dirs: Vec<RunDir> = Vec::with_capacity(loaded.len());
    for (source, ready) in &loaded {
        let base = source.recorded_base();
        let copy = source.run_copy(&ready.text, base.as_deref());
        match RunDir::create(root, copy, clock.now(), durability) {
            Ok(dir) => dirs.push(dir),
            Err(e) => {
                for dir in dirs {
                    dir.discard();
                }
                return Err(e.into());
            }
        }
    }

    let mut planned = Vec::with_capacity(loaded.len());
    for ((_, ready), dir) in loaded.into_iter().zip(dirs) {
        let Ready {
            display,
            plan,
            subgraphs,
            settings,
            ..
        } = ready;
        if !args.json {
            // A reader gone from stdout does not stop the runs.
            let _ = writeln!(
                std::io::stdout(),
                "tracker: running {} (run {}, {})",
                dippin::diagnostic::printable_line(&display),
                dir.id(),
                dippin::diagnostic::printable_line(&dir.path().display().to_string())
            );
        }
        let run_id = dir.id().to_string();
        let auto_approve = settings.auto_approve;
        let mut options = settings.options(
            workdir.clone(),
            completers.clone(),
            subgraphs,
            Arc::clone(&clock),
        );
        options.run_dir = Some(dir);
        planned.push(Planned {
            display,
            run_id,
            plan,
            options,
            auto_approve,
        });
    }

    let ended = execute(planned, args.max_concurrent, Output::of(args), cwd)?;
    let rows: Vec<Row<'_>> = ended
        .iter()
        .map(|e| Row {
            pipeline: &e.display,
            run_id: &e.run_id,
            end: &e.finished.end,
            elapsed: e.elapsed,
            resume: crate::output::resume_hint::command(&e.run_id, &e.display, args),
        })
        .collect();
    for e in &ended {
        if let Some(line) = failure_line(&e.finished.end) {
            let _ = writeln!(std::io::stderr(), "error: {}: {line}", e.run_id);
        }
    }
    let text = table(&rows);
    if args.json {
        let _ = write!(std::io::stderr(), "{text}");
    } else {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())?;
        out.flush()?;
    }
    let codes: Vec<u8> = ended
        .iter()
        .map(|e| run::exit_code(&e.finished.end, args.fail_on_override))
        .collect();
    Ok(if codes.contains(&exit::FAILURE) {
        exit::FAILURE
    } else {
        codes.into_iter().max().unwrap_or(exit::OK)
    })
}

/// Each `--param` must be declared by at least one of the pipelines (each
/// gets the ones it declares).
fn check_params(args: &RunArgs, loaded: &[(pipeline::PipelineSource, Ready)]) -> Result<()> {
    for pair in &args.params {
        let key = pair
            .split_once('=')
            .map_or(pair.as_str(), |(k, _)| k)
            .trim();
        let declared = loaded.iter().any(|(_, ready)| {
            ready
                .plan
                .graph_attrs
                .contains_key(&format!("params.{key}"))
        });
        if !declared {
            bail!("--param {key:?}: none of the pipelines declares such a variable");
        }
    }
    Ok(())
}

/// Launches every run on one process and waits for them all, showing their
/// events as `shown` says (each console line labelled with its pipeline, or
/// the board of the runs, where their gates are answered). A signal cancels
/// them all; a second one exits at once.
fn execute(
    planned: Vec<Planned>,
    max_concurrent: usize,
    output: Output,
    cwd: &Path,
) -> Result<Vec<Ended>> {
    let system = actix::System::new();
    system.block_on(async move {
        use actix::Actor;
        let process = Process::start(max_concurrent);
        let mut interrupts = Interrupts::listen()?;
        // The terminal shows the board of the runs.
        let (board, requests) = match output {
            Output::Terminal => {
                let (board, requests) = BoardThread::start(&planned, cwd)?;
                (Some(board), Some(requests))
            }
            Output::Json | Output::Console => (None, None),
        };
        let started = Instant::now();
        let count = planned.len();
        let (tx, mut rx) = tokio::sync::mpsc::channel(count.max(1));
        let mut cancellers = Vec::with_capacity(count);
        for (order, planned) in planned.into_iter().enumerate() {
            let Planned {
                display,
                run_id,
                plan,
                mut options,
                auto_approve,
            } = planned;
            match (&board, output) {
                (Some(board), _) => {
                    // The board reads the runs' activity logs; their gates
                    // come to it.
                    if !auto_approve {
                        options.interviewer = Some(interviewer_on(board.tx.clone()));
                    }
                }
                (None, output) => {
                    if !auto_approve {
                        // Their gates ask on one console: each says whose it is.
                        options.interviewer = Some(Arc::new(
                            crate::interviewer::ConsoleInterviewer::labelled(display.clone()),
                        ));
                    }
                    let printer = if output == Output::Json {
                        NdjsonPrinter.start().recipient()
                    } else {
                        ConsolePrinter::labelled(display.clone()).start().recipient()
                    };
                    options.subscribers.push(printer);
                }
            }
            let handle = launch(&process, Arc::new(plan), options).await?;
            cancellers.push((run_id.clone(), handle.canceller()));
            let tx = tx.clone();
            actix::spawn(async move {
                let finished = handle.wait().await;
                let _ = tx
                    .send(finished.map(|finished| Ended {
                        order,
                        display,
                        run_id,
                        finished,
                        elapsed: started.elapsed(),
                    }))
                    .await;
            });
        }
        let cancellers = Arc::new(cancellers);
        if let Some(mut requests) = requests {
            let cancellers = Arc::clone(&cancellers);
            actix::spawn(async move {
                while let Some(request) = requests.recv().await {
                    for (id, canceller) in cancellers.iter() {
                        let this_one =
                            matches!(&request, ProcessRequest::Cancel(asked) if asked == id);
                        if this_one || request == ProcessRequest::CancelAll {
                            canceller.cancel().await;
                        }
                    }
                }
            });
        }
        drop(tx);
        actix::spawn(async move {
            let signal = interrupts.next().await;
            let _ = writeln!(
                std::io::stderr(),
                "\n{}: cancelling {count} runs (their checkpoints are kept; Ctrl-C again to quit at once)",
                signal.what()
            );
            for (_, canceller) in cancellers.iter() {
                canceller.cancel().await;
            }
            let signal = interrupts.next().await;
            // Exiting at once: the terminal is put back first.
            leave();
            std::process::exit(128 + signal.number());
        });
        let mut ended = Vec::with_capacity(count);
        while let Some(result) = rx.recv().await {
            let e = result?;
            if let Some(error) = &e.finished.activity_error {
                eprintln!("warning: activity log of run {}: {error}", e.run_id);
            }
            ended.push(e);
        }
        if let Some(board) = board {
            board.finish()?;
        }
        // The table follows the command line, whatever order the runs ended in.
        ended.sort_by_key(|e| e.order);
        Ok(ended)
    })
}

/// The board of a command's runs, on the terminal, in a thread of its own.
struct BoardThread {
    tx: crossbeam_channel::Sender<Msg>,
    drawing: std::thread::JoinHandle<std::io::Result<()>>,
}

impl BoardThread {
    /// Takes over the terminal and shows the runs of `planned`; with what
    /// the person asks of the runs.
    fn start(
        planned: &[Planned],
        cwd: &Path,
    ) -> Result<(
        BoardThread,
        tokio::sync::mpsc::UnboundedReceiver<ProcessRequest>,
    )> {
        let mut board = Board::tracking();
        for run in planned {
            if let Some(dir) = &run.options.run_dir {
                board.track_own(dir.path().to_path_buf());
            }
        }
        let (tx, rx) = crossbeam_channel::bounded(256);
        let (requests_tx, requests) = tokio::sync::mpsc::unbounded_channel();
        let terminal = enter().context("cannot open the dashboard (try --no-tui)")?;
        let keys = tx.clone();
        std::thread::spawn(move || read_keys(&keys));
        let cwd = cwd.to_path_buf();
        let drawing = std::thread::spawn(move || {
            let _restore = Restore;
            let source = Source::Process {
                requests: requests_tx,
                gates: Vec::new(),
            };
            show(terminal, board, source, &rx, &cwd)
        });
        Ok((BoardThread { tx, drawing }, requests))
    }

    /// The runs have ended: closes the board and gives the terminal back.
    fn finish(self) -> Result<()> {
        let _ = self.tx.send(Msg::Ended);
        match self.drawing.join() {
            Ok(result) => Ok(result?),
            Err(_) => Err(anyhow::anyhow!("the board's thread panicked")),
        }
    }
}
