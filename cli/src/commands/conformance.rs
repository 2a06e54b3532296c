//! `tracker conformance golden <fixture.dip>`: runs a conformance fixture the way
//! the reference's harness does and prints its normalized golden trace
//! (engine-semantics §9).
//!
//! The run is deterministic: a fresh temporary working directory, no artifact
//! directory or checkpoint, gates auto-approved, the stub completer the
//! fixture's file name selects (`retry` → empty answers, `billing` → credit
//! exhaustion, `interview` → structured questions, else the default answer),
//! `stub`/`stub-model` as the workflow's provider and model unless it names its
//! own, and a 10-token ceiling for fixtures named `budget`. Failures that leave
//! no result print `{"error": "..."}` and exit 1.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use tracker_actors::collect::{Collector, TakeEvents};
use tracker_actors::launch::{launch, RunOptions};
use tracker_actors::process::Process;
use tracker_handlers::human::AutoApprove;
use tracker_runtime::engine::BudgetLimits;
use tracker_runtime::golden::{golden_error, golden_trace};
use tracker_runtime::llm::stub::{StubCompleter, STUB_MODEL, STUB_PROVIDER};
use tracker_runtime::llm::Completers;

use crate::args::ConformanceArgs;
use crate::exit;
use crate::load::{self, Diagnostics};
use crate::pipeline::PipelineSource;

/// Runs the harness and prints its answer.
pub fn run(args: &ConformanceArgs) -> Result<u8> {
    let fixture = match args.args.as_slice() {
        [one] if !one.to_string_lossy().starts_with('-') => Some(Path::new(one)),
        _ => None,
    };
    let (text, code) = match fixture {
        None => (
            golden_error("usage: tracker-conformance golden <fixture.dip>"),
            exit::FAILURE,
        ),
        Some(fixture) => match golden(fixture) {
            Ok(text) => (text, exit::OK),
            Err(message) => (golden_error(&message), exit::FAILURE),
        },
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(code)
}

/// The golden trace of `fixture`, or the error the harness reports.
fn golden(fixture: &Path) -> Result<String, String> {
    if let Err(e) = std::fs::metadata(fixture) {
        return Err(format!(
            "read fixture: open {}: {}",
            fixture.display(),
            go_io_error(&e)
        ));
    }
    let loaded = load::load(
        &PipelineSource::File(fixture.to_path_buf()),
        Diagnostics::Quiet,
    )
    .map_err(|e| format!("parse fixture {}: {e:#}", fixture.display()))?;
    let base = fixture
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let workdir = tempfile::Builder::new()
        .prefix("golden-")
        .tempdir()
        .map_err(|e| format!("temp workdir: {e}"))?;

    let mut plan = loaded.plan;
    plan.graph_attrs
        .entry("llm_model".into())
        .or_insert_with(|| STUB_MODEL.into());
    plan.graph_attrs
        .entry("llm_provider".into())
        .or_insert_with(|| STUB_PROVIDER.into());
    let mut budget = BudgetLimits::default();
    if base.contains("budget") {
        budget.max_total_tokens = 10;
    }
    let mut completers = Completers::new();
    completers.answer_everything_with(Arc::new(StubCompleter::for_fixture(&base)));

    let mut options = RunOptions::new(workdir.path().to_path_buf(), completers);
    options.subgraphs = loaded.subgraphs;
    options.budget = budget;
    // The fixtures' gates are answered as --auto-approve answers them.
    options.interviewer = Some(Arc::new(AutoApprove));
    options.jitter_seed = 1;
    let system = actix::System::new();
    let outcome = system.block_on(async move {
        let process = Process::start(0);
        let collector = actix::Actor::start(Collector::default());
        options.subscribers.push(collector.clone().recipient());
        let handle = launch(&process, Arc::new(plan), options)
            .await
            .map_err(|e| e.to_string())?;
        let end = handle.wait().await.map_err(|e| e.to_string())?.end;
        let events = collector
            .send(TakeEvents)
            .await
            .map_err(|e| format!("event collector: {e}"))?;
        Ok::<_, String>((end, events))
    });
    drop(workdir);
    let (end, events) = outcome?;
    match end.result {
        Some(result) => Ok(golden_trace(&base, &result, &events)),
        None => Err(format!(
            "run produced no result: {}",
            end.error.unwrap_or_else(|| "unknown error".into())
        )),
    }
}

/// An I/O error as Go's `os` package words it (`no such file or directory`).
fn go_io_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}
