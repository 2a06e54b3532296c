//! Lints: the `DIP101`–`DIP162` warnings (and the few lint-level errors).
//!
//! Lints run only on a workflow that parsed and passed file-directive resolution.
//! Checks that look outside the file (bash syntax, `PATH`, referenced files) run
//! only when [`LintOptions::environment`] is set. Every graph question is answered
//! from the one graph index (`graph.rs`) built for the analysis, so the whole
//! pass stays linear in nodes plus edges.
//!
//! One theme per file:
//!
//! * `routing` — whether edges decide where the run goes (`DIP101`–`DIP103`, `DIP105`,
//!   `DIP149`, `DIP152`);
//! * `failure` — retries and failure routes (`DIP104`, `DIP113`, `DIP115`, `DIP134`,
//!   `DIP144`);
//! * `conditions` — the variables and values edge guards test (`DIP120`–`DIP122`);
//! * `dataflow` — declared `writes` and `reads` (`DIP107`, `DIP112`);
//! * `edges` — edge attributes (`DIP150`, `DIP151`, `DIP153`);
//! * `prompts` — agent prompts and params (`DIP106`, `DIP110`, `DIP133`, `DIP154`);
//! * `tools` — tool commands (`DIP111`, `DIP124`);
//! * `models` — models and providers against the catalog (`DIP108`, `DIP119`,
//!   `DIP161`, `DIP162`);
//! * `context` — fidelity, compaction and truncation (`DIP114`, `DIP116`, `DIP148`);
//! * `responses` — structured responses (`DIP130`–`DIP132`);
//! * `humans` — human gates (`DIP127`–`DIP129`);
//! * `subgraphs` — subgraph calls and manager loops (`DIP109`, `DIP135`–`DIP137`);
//! * `access` — tool access and information flow (`DIP139`–`DIP142`, `DIP147`);
//! * `budgets` — run budgets (`DIP145`);
//! * `stylesheet` — stylesheet selectors (`DIP117`, `DIP118`);
//! * [`inputs`] — declared pipeline inputs and their references (`DIP155`–`DIP159`);
//! * [`environment`] — checks against the machine: `bash -n`, `PATH`, referenced files
//!   (`DIP123`, `DIP125`, `DIP126`, `DIP135`, `DIP143`, `DIP146`, `DIP160`).
//!
//! `common` holds the vocabulary the themes share. Which finding each file must
//! produce, with its position and message, is pinned by the lint corpus
//! (`tests/data/lints`); the unit tests here cover internals the corpus cannot reach.

mod access;
mod budgets;
mod common;
mod conditions;
mod context;
mod dataflow;
mod edges;
pub mod environment;
mod failure;
mod humans;
pub mod inputs;
mod models;
mod params;
mod prompts;
mod responses;
mod routing;
mod stylesheet;
mod subgraphs;
#[cfg(test)]
mod tests;
mod tools;

use std::path::PathBuf;

use crate::diagnostic::Diagnostic;
use crate::graph::Graph;
use crate::ir::Workflow;

/// What the lints may look at beyond the workflow itself.
#[derive(Clone, Debug, Default)]
pub struct LintOptions {
    /// The directory of the `.dip` file, for checks on referenced files.
    pub base_dir: Option<PathBuf>,
    /// Run environment-dependent checks (`bash -n`, `PATH`, files on disk).
    pub environment: bool,
}

/// Runs every lint and returns the findings, ordered by code then position.
pub fn lint(wf: &Workflow, options: &LintOptions) -> Vec<Diagnostic> {
    lint_graph(&Graph::new(wf), options)
}

/// [`lint`] on a workflow already indexed.
pub(crate) fn lint_graph(graph: &Graph<'_>, options: &LintOptions) -> Vec<Diagnostic> {
    let wf = graph.wf;
    let mut out = Vec::new();
    themes(graph, &mut out);
    inputs::lint(wf, &mut out);
    if options.environment {
        environment::lint(wf, options, &mut out);
    }
    out.sort_by_key(|d| (d.code, d.span.map(|s| s.start)));
    out
}

/// The themes that read only the workflow (not its inputs or the machine).
fn themes(graph: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    routing::lint(graph, out);
    failure::lint(graph, out);
    conditions::lint(graph, out);
    dataflow::lint(graph, out);
    edges::lint(graph, out);
    prompts::lint(graph, out);
    tools::lint(graph, out);
    models::lint(graph, out);
    context::lint(graph, out);
    responses::lint(graph, out);
    humans::lint(graph, out);
    subgraphs::lint(graph, out);
    access::lint(graph, out);
    budgets::lint(graph, out);
    params::lint(graph, out);
    stylesheet::lint(graph, out);
}
