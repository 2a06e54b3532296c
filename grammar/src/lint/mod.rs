//! Lints: the `DIP101`–`DIP162` warnings (and the few lint-level errors).
//!
//! Lints run only on a workflow that parsed and passed file-directive resolution.
//! Checks that look outside the file (bash syntax, `PATH`, referenced files) run
//! only when [`LintOptions::environment`] is set.

use std::path::PathBuf;

use crate::diagnostic::Diagnostic;
use crate::ir::Workflow;

/// What the lints may look at beyond the workflow itself.
#[derive(Clone, Debug, Default)]
pub struct LintOptions {
    /// The directory of the `.dip` file, for checks on referenced files.
    pub base_dir: Option<PathBuf>,
    /// Run environment-dependent checks (`bash -n`, `PATH`, files on disk).
    pub environment: bool,
}

/// Runs every lint and returns the findings in a stable order.
pub fn lint(_wf: &Workflow, _options: &LintOptions) -> Vec<Diagnostic> {
    Vec::new()
}
