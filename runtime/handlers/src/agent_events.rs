//! Agent session events as `agent`-source events on the run's stream, with
//! the reference's wire names and capture fields (`turn_no`, `call_id`,
//! `tool_input`, `tool_duration_ms`, `finish_reason`, per-turn tokens).

use std::sync::Arc;

use super::{BoxFuture, EventSink};
use tracker_runtime::agent::events::{AgentEvent, SessionEvents};
use tracker_runtime::clock::Clock;
use tracker_runtime::event::{EventKind, EventSource, PipelineEvent};

/// The most of a tool's output an event carries (its tail).
const MAX_EVENT_OUTPUT: usize = 64 * 1024;
/// The most of a tool call's arguments an event carries.
const MAX_EVENT_INPUT: usize = 16 * 1024;
/// How much of an input or output a console message shows.
const MESSAGE_SNIPPET: usize = 120;

/// Publishes one node's session events.
pub struct NodeAgentEvents {
    /// Where events go.
    pub sink: Arc<dyn EventSink>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// The run.
    pub run_id: String,
    /// The node.
    pub node_id: String,
    /// The session's provider.
    pub provider: String,
    /// The session's model.
    pub model: String,
}

impl std::fmt::Debug for NodeAgentEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeAgentEvents")
            .field("node_id", &self.node_id)
            .finish_non_exhaustive()
    }
}

impl SessionEvents for NodeAgentEvents {
    fn emit(&self, event: AgentEvent) -> BoxFuture<()> {
        self.sink.emit(self.to_pipeline_event(event))
    }
}

impl NodeAgentEvents {
    /// An event of `kind` from this node's session, with nothing else said.
    pub fn base_event(&self, kind: EventKind) -> PipelineEvent {
        self.base(kind)
    }

    fn base(&self, kind: EventKind) -> PipelineEvent {
        let mut event =
            PipelineEvent::new(kind, EventSource::Agent, self.clock.now().event_timestamp())
                .with_run_id(&self.run_id)
                .with_node_id(&self.node_id);
        event.provider = Some(self.provider.clone());
        event.model = Some(self.model.clone());
        event
    }

    /// The stream event for `event`.
    pub fn to_pipeline_event(&self, event: AgentEvent) -> PipelineEvent {
        match event {
            AgentEvent::SessionStart => self.base(EventKind::SessionStart).with_message(format!(
                "agent session started ({} {})",
                self.provider, self.model
            )),
            AgentEvent::LlmRequestStart { turn } => {
                let mut e = self
                    .base(EventKind::LlmRequestStart)
                    .with_message(format!("turn {turn}: calling the model"));
                e.capture.turn_no = i64::try_from(turn).ok();
                e
            }
            AgentEvent::Notice { turn, message } => {
                let mut e = self.base(EventKind::Warning).with_message(message);
                e.capture.turn_no = i64::try_from(turn).ok();
                e
            }
            AgentEvent::TextDelta { turn, text } => {
                let mut e = self.base(EventKind::TextDelta);
                e.content = Some(text);
                e.capture.turn_no = i64::try_from(turn).ok();
                e
            }
            AgentEvent::LlmFinish {
                turn,
                finish_reason,
                usage,
                answered_by,
            } => {
                let mut e = self.base(EventKind::LlmFinish);
                if let Some((provider, model)) = answered_by {
                    e.provider = Some(provider);
                    e.model = Some(model);
                }
                let mut e = e
                    .with_message(format!(
                        "turn {turn}: {finish_reason} ({} in / {} out)",
                        usage.input_tokens, usage.output_tokens
                    ))
                    .with_tokens(usage.input_tokens, usage.output_tokens);
                e.capture.turn_no = i64::try_from(turn).ok();
                e.capture.finish_reason = Some(finish_reason);
                e.capture.cache_read_tokens = Some(usage.cache_read_tokens);
                e.capture.cache_write_tokens = Some(usage.cache_write_tokens);
                e.capture.reasoning_tokens = Some(usage.reasoning_tokens);
                e
            }
            AgentEvent::ToolCallStart {
                turn,
                call_id,
                tool,
                input,
            } => {
                let mut e = self
                    .base(EventKind::ToolCallStart)
                    .with_message(format!("{tool} {}", snippet(&input)));
                e.tool_name = Some(tool);
                e.capture.turn_no = i64::try_from(turn).ok();
                e.capture.call_id = Some(call_id);
                e.capture.tool_input =
                    Some(tracker_runtime::text::head(&input, MAX_EVENT_INPUT).to_string());
                e
            }
            AgentEvent::ToolCallEnd {
                turn,
                call_id,
                tool,
                output,
                is_error,
                duration,
            } => {
                // A failed call says why on its `Tool error (…)` line, which
                // follows any partial output (a command that timed out).
                let lines = || output.lines().filter(|l| !l.trim().is_empty());
                let said = if is_error {
                    lines()
                        .find(|l| l.starts_with("Tool error ("))
                        .or_else(|| lines().next())
                } else {
                    lines().next()
                };
                let first = snippet(said.unwrap_or(""));
                let mut e = self
                    .base(EventKind::ToolCallEnd)
                    .with_message(format!("{tool}: {first}"));
                if is_error {
                    e = e.with_error(first);
                }
                e.tool_name = Some(tool);
                e.content =
                    Some(tracker_runtime::text::tail(&output, MAX_EVENT_OUTPUT).to_string());
                e.capture.turn_no = i64::try_from(turn).ok();
                e.capture.call_id = Some(call_id);
                e.capture.tool_duration_ms = u64::try_from(duration.as_millis()).ok();
                e
            }
            AgentEvent::SteeringInjected { message } => {
                self.base(EventKind::SteeringInjected).with_message(message)
            }
            AgentEvent::ContextCompaction { results } => self
                .base(EventKind::ContextCompaction)
                .with_message(format!("{results} older tool results compacted")),
            AgentEvent::SessionEnd { summary, turns } => {
                self.base(EventKind::SessionEnd).with_message(format!(
                    "agent session {summary} after {turns} turn{}",
                    if turns == 1 { "" } else { "s" }
                ))
            }
        }
    }
}

/// The start of `text` on one line, for console messages.
fn snippet(text: &str) -> String {
    let mut chars = text.chars();
    let mut cut: String = chars
        .by_ref()
        .take(MESSAGE_SNIPPET)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if chars.next().is_some() {
        cut.push('…');
    }
    cut
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tracker_runtime::clock::{FixedClock, WallTime};

    use super::*;

    /// A sink nothing reaches (the conversion alone is tested).
    struct Nowhere;

    impl EventSink for Nowhere {
        fn emit(&self, _: PipelineEvent) -> BoxFuture<()> {
            Box::pin(async {})
        }
    }

    #[test]
    fn a_failed_calls_error_is_its_tool_error_line_not_its_partial_output() {
        let events = NodeAgentEvents {
            sink: Arc::new(Nowhere),
            clock: Arc::new(FixedClock::new(WallTime {
                unix_nanos: 0,
                utc_offset_minutes: 0,
            })),
            run_id: "r".into(),
            node_id: "n".into(),
            provider: "p".into(),
            model: "m".into(),
        };
        let end = |output: &str, is_error: bool| {
            events.to_pipeline_event(AgentEvent::ToolCallEnd {
                turn: 1,
                call_id: "c".into(),
                tool: "bash".into(),
                output: output.into(),
                is_error,
                duration: Duration::ZERO,
            })
        };
        let timed_out = end(
            "started\nTool error (bash): command timed out after 1s (the output above is partial)",
            true,
        );
        assert_eq!(
            timed_out.error.as_deref(),
            Some("Tool error (bash): command timed out after 1s (the output above is partial)")
        );
        let plain = end("exit code: 2", true);
        assert_eq!(plain.error.as_deref(), Some("exit code: 2"));
        let fine = end("\nhello\nworld", false);
        assert_eq!(fine.message.as_deref(), Some("bash: hello"));
        assert_eq!(fine.error, None);
    }
}
