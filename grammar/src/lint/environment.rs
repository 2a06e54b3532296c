//! Lints that look at the machine: `bash -n`, `PATH`, and referenced files.

use crate::diagnostic::Diagnostic;
use crate::ir::Workflow;

use super::LintOptions;

/// Appends environment-dependent findings for `wf` to `out`.
pub fn lint(_wf: &Workflow, _options: &LintOptions, _out: &mut Vec<Diagnostic>) {}
