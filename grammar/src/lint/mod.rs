//! Lints: the `DIP101`–`DIP162` warnings (and the few lint-level errors).
//!
//! Lints run only on a workflow that parsed and passed file-directive resolution.
//! Checks that look outside the file (bash syntax, `PATH`, referenced files) run
//! only when [`LintOptions::environment`] is set.
//!
//! * [`flow`] — routing and graph-shape lints (conditions, exhaustiveness, reads/writes);
//! * [`fields`] — node and defaults field values (retry, fidelity, models, schemas, access);
//! * [`inputs`] — declared pipeline inputs and their references;
//! * [`environment`] — checks against the machine: `bash -n`, `PATH`, referenced files.

pub mod environment;
pub mod fields;
pub mod flow;
pub mod inputs;

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
    flow::lint(graph, &mut out);
    fields::lint(graph, &mut out);
    inputs::lint(wf, &mut out);
    if options.environment {
        environment::lint(wf, options, &mut out);
    }
    out.sort_by_key(|d| (d.code, d.span.map(|s| s.start)));
    out
}
