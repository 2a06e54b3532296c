//! `tracker validate <pipeline>`: parse, validate and lint; exit 1 on any error.

use std::io::Write;

use anyhow::Result;

use tracker_runtime::plan::{PlanError, SpawnPlan};

use crate::args::ValidateArgs;
use crate::exit;
use crate::pipeline::PipelineSource;
use crate::report::{write_human, Tally};

/// Prints diagnostics to stderr and a one-line verdict.
pub fn run(args: &ValidateArgs) -> Result<u8> {
    let (source, doc, diags) = super::analyse(&args.pipeline, false)?;
    verdict(&source, &doc, &diags)
}

/// Shared by `validate` and `check`: diagnostics to stderr, then the verdict line.
pub(crate) fn verdict(
    source: &PipelineSource,
    doc: &dippin::Document,
    diags: &[dippin::Diagnostic],
) -> Result<u8> {
    let name = &source.display_name();
    let mut stderr = std::io::stderr().lock();
    write_human(&mut stderr, doc, diags)?;
    let mut tally = Tally::of(diags);
    if tally.errors == 0 {
        // The language lets through some values the runtime cannot use (a
        // negative timeout, an unknown fan-in policy): said here, not only
        // when `run` refuses them.
        if let Err(refusal) = runnable(name, doc, source) {
            writeln!(stderr, "error: {refusal}")?;
            tally.errors += 1;
        }
    }
    if tally.errors > 0 {
        writeln!(
            stderr,
            "{name}: invalid: {} error(s), {} warning(s)",
            tally.errors, tally.warnings
        )?;
        return Ok(exit::FAILURE);
    }
    let nodes = doc.workflow.nodes.len();
    let edges = doc.workflow.all_edges().len();
    let mut stdout = std::io::stdout().lock();
    if tally.warnings > 0 {
        writeln!(
            stdout,
            "{name}: valid with {} warning(s) ({nodes} nodes, {edges} edges)",
            tally.warnings
        )?;
    } else {
        writeln!(stdout, "{name}: valid ({nodes} nodes, {edges} edges)")?;
    }
    Ok(exit::OK)
}

/// Whether the runtime can run `doc`: its plan compiles. The error names the
/// node's line and column.
fn runnable(name: &str, doc: &dippin::Document, source: &PipelineSource) -> Result<(), String> {
    match SpawnPlan::compile(&doc.workflow) {
        // Its child workflows too, those that are there.
        Ok(plan) => crate::load::children_runnable(&plan, source).map_err(|e| format!("{e:#}")),
        Err(PlanError::Setting(setting)) => {
            let at = doc.source.position(setting.offset);
            Err(format!(
                "{name}:{}:{}: {setting} (tracker cannot run this)",
                at.line, at.column
            ))
        }
        Err(other) => Err(format!("{name}: {other}")),
    }
}
