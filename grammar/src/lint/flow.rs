//! Lints: flow (see the module list in `lint/mod.rs`).

use crate::diagnostic::Diagnostic;
use crate::ir::Workflow;

/// Appends this module's findings for `wf` to `out`.
pub fn lint(_wf: &Workflow, _out: &mut Vec<Diagnostic>) {}
