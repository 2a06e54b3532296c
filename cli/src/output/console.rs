//! Console mode: one line per event,
//! `[HH:MM:SS] <type> node=<id> <message> (err: …)`, with the nodes a resumed
//! run skips folded into one line. Node ids, messages and errors (which may
//! carry a model's or a command's text) are shown printable: on one line,
//! without terminal escape sequences.

use std::io::Write;

use actix::prelude::*;
use dippin::diagnostic::printable_line;
use tracker_actors::bus::Deliver;
use tracker_runtime::event::{EventKind, PipelineEvent};

/// The longest message shown.
const MESSAGE_WIDTH: usize = 160;

/// Prints events for people.
#[derive(Default)]
pub struct ConsolePrinter {
    resumed: Vec<String>,
    /// Put before every line when several runs share the console.
    label: Option<String>,
}

impl ConsolePrinter {
    /// A printer whose lines start with `[label] ` (the pipeline, when several
    /// runs share the console).
    pub fn labelled(label: String) -> ConsolePrinter {
        ConsolePrinter {
            resumed: Vec::new(),
            label: Some(format!("[{}] ", printable_line(&label))),
        }
    }

    fn flush_resumed(&mut self, out: &mut String) {
        if self.resumed.is_empty() {
            return;
        }
        out.push_str(&format!(
            "  ✓ resumed {} completed node{}: {}\n",
            self.resumed.len(),
            if self.resumed.len() == 1 { "" } else { "s" },
            self.resumed.join(", ")
        ));
        self.resumed.clear();
    }
}

/// Whether the console shows `event`: streamed text is for the dashboard
/// (the console has each answer whole in the node's files and events).
pub fn shows(event: &PipelineEvent) -> bool {
    event.kind != EventKind::TextDelta
}

/// One event as a console line (without the newline).
pub fn line(event: &PipelineEvent) -> String {
    let clock = event.ts.as_str().get(11..19).unwrap_or("--:--:--");
    let node = printable_line(event.node_id.as_deref().unwrap_or(""));
    let said = match (event.message.as_deref(), &event.cost) {
        // The reference's cost events carry no message: say the running
        // total, which is what they are about.
        (None | Some(""), Some(cost)) => format!(
            "{} tokens, ${:.4} so far",
            cost.total_tokens.unwrap_or(0),
            cost.total_cost_usd.unwrap_or(0.0)
        ),
        (message, _) => message.unwrap_or("").to_string(),
    };
    let mut message: String = printable_line(&said).chars().take(MESSAGE_WIDTH).collect();
    if let Some(error) = &event.error {
        let error: String = printable_line(error).chars().take(MESSAGE_WIDTH).collect();
        message.push_str(&format!(" (err: {error})"));
    }
    format!(
        "[{clock}] {:<22} node={:<20} {message}",
        event.kind.wire_name(),
        node
    )
    .trim_end()
    .to_string()
}

impl Actor for ConsolePrinter {
    type Context = Context<Self>;
}

impl Handler<Deliver> for ConsolePrinter {
    type Result = ();

    fn handle(&mut self, msg: Deliver, _: &mut Self::Context) {
        let mut text = String::new();
        for event in msg.0.iter().filter(|e| shows(e)) {
            let resumed = event.kind == EventKind::StageCompleted
                && event.message.as_deref() == Some("previously completed (resumed)");
            if resumed {
                if let Some(node) = &event.node_id {
                    self.resumed.push(printable_line(node).into_owned());
                }
                continue;
            }
            self.flush_resumed(&mut text);
            if let Some(label) = &self.label {
                text.push_str(label);
            }
            text.push_str(&line(event));
            text.push('\n');
        }
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracker_runtime::event::{EventSource, Timestamp};

    #[test]
    fn lines_have_the_reference_columns() {
        let event = PipelineEvent::new(
            EventKind::StageFailed,
            EventSource::Pipeline,
            Timestamp::from_unix_millis(1_764_583_205_000, 0),
        )
        .with_node_id("Build")
        .with_message("handler error at node \"Build\"")
        .with_error("boom\nsecond line");
        assert_eq!(
            line(&event),
            "[10:00:05] stage_failed           node=Build                handler error at node \"Build\" (err: boom second line)"
        );
    }

    #[test]
    fn a_cost_event_says_the_running_total() {
        let mut event = PipelineEvent::new(
            EventKind::CostUpdated,
            EventSource::Pipeline,
            Timestamp::from_unix_millis(1_764_583_205_000, 0),
        )
        .with_node_id("Plan");
        event.cost = Some(tracker_runtime::event::CostSnapshot {
            total_tokens: Some(300),
            total_cost_usd: Some(0.0021),
            ..Default::default()
        });
        assert_eq!(
            line(&event),
            "[10:00:05] cost_updated           node=Plan                 300 tokens, $0.0021 so far"
        );
    }

    #[test]
    fn lines_show_no_terminal_escapes() {
        let event = PipelineEvent::new(
            EventKind::StageFailed,
            EventSource::Pipeline,
            Timestamp::from_unix_millis(1_764_583_205_000, 0),
        )
        .with_node_id("Build")
        .with_message("ran \x1b[2K\rrm -rf /\x1b]0;title\x07")
        .with_error("out\x1b[31m\u{9b}31m");
        let shown = line(&event);
        assert!(
            !shown.contains(['\x1b', '\r', '\x07', '\u{9b}']),
            "{shown:?}"
        );
        assert!(
            shown.contains("ran \u{FFFD}[2K\u{FFFD}rm -rf /"),
            "{shown:?}"
        );
    }
}
