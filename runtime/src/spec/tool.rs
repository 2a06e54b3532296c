//! A tool node's spec.

use std::time::Duration;

use dippin::ir::ToolConfig;

use super::{Source, SpecError, Text};

/// What a tool node runs.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolSpec {
    /// The shell command (`${…}` references are expanded when it runs).
    pub command: Text,
    /// How long it may run (the default when unset).
    pub timeout: Option<Duration>,
    /// How many bytes of output are kept (the default when unset).
    pub output_limit: Option<u64>,
    /// A pattern whose last match on stdout sets `tool_marker`.
    pub marker_grep: Text,
    /// The command must print a `_TRACKER_ROUTE=` line.
    pub route_required: bool,
}

impl ToolSpec {
    pub(super) fn compile(t: &ToolConfig, source: &Source<'_>) -> Result<ToolSpec, SpecError> {
        if t.timeout.is_negative() {
            return Err(source.error("timeout", &t.timeout.to_string(), "a positive duration"));
        }
        Ok(ToolSpec {
            command: Text::new(&t.command),
            timeout: t.timeout.to_std().filter(|d| !d.is_zero()),
            output_limit: u64::try_from(t.output_limit).ok().filter(|n| *n > 0),
            marker_grep: Text::new(&t.marker_grep),
            route_required: t.route_required,
        })
    }

    pub(super) fn visit_text(&mut self, f: &mut dyn FnMut(&mut Text)) {
        f(&mut self.command);
        f(&mut self.marker_grep);
    }
}
