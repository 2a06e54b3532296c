//! The legacy Graphviz (`.dot`) pipeline reader.

use crate::diagnostic::Diagnostic;
use crate::ir::Workflow;

/// Parses DOT text into a workflow.
pub fn parse_dot(_text: &str) -> (Workflow, Vec<Diagnostic>) {
    (Workflow::default(), Vec::new())
}
