//! What an agent session reports while it runs, for the event stream: the
//! session's start and end, each model call, each tool call, steering and
//! compaction. The `codergen` handler turns these into `agent` events.

use std::time::Duration;

use tracker_llm::Usage;
use tracker_stdx::future::BoxFuture;

/// One thing a session did.
#[derive(Clone, Debug, PartialEq)]
pub enum AgentEvent {
    /// The session began.
    SessionStart,
    /// Model call number `turn` is being sent.
    LlmRequestStart {
        /// The turn (from 1).
        turn: u64,
    },
    /// The turn's model call waits, and says why: a retry after an error, a
    /// provider's rate-limit pause, a spending ceiling.
    Notice {
        /// The turn.
        turn: u64,
        /// Why, in a line.
        message: String,
    },
    /// Text of the model's answer, as it streams in (gathered: a few of
    /// these a second at most, all of them before the turn's `LlmFinish`).
    TextDelta {
        /// The turn.
        turn: u64,
        /// The text since the last one.
        text: String,
    },
    /// The model answered.
    LlmFinish {
        /// The turn.
        turn: u64,
        /// Why it stopped (`stop`, `tool_calls`, `length`, …).
        finish_reason: String,
        /// The turn's tokens.
        usage: Usage,
        /// The provider and model that answered, when not the session's own
        /// (an `llm_fallbacks` lane took over).
        answered_by: Option<(String, String)>,
    },
    /// A tool call starts.
    ToolCallStart {
        /// The turn.
        turn: u64,
        /// The provider's call id.
        call_id: String,
        /// The tool.
        tool: String,
        /// Its arguments, as JSON text.
        input: String,
    },
    /// A tool call returned.
    ToolCallEnd {
        /// The turn.
        turn: u64,
        /// The provider's call id.
        call_id: String,
        /// The tool.
        tool: String,
        /// The whole output (the model may have seen less).
        output: String,
        /// Whether the call failed.
        is_error: bool,
        /// How long it took.
        duration: Duration,
    },
    /// A steering message was delivered.
    SteeringInjected {
        /// The message.
        message: String,
    },
    /// Older tool results were compacted.
    ContextCompaction {
        /// How many results shrank.
        results: usize,
    },
    /// The session ended.
    SessionEnd {
        /// How, in words.
        summary: String,
        /// Turns taken.
        turns: u64,
    },
}

/// Where a session's events go.
pub trait SessionEvents: Send + Sync {
    /// Publishes `event`; waits while consumers are behind.
    fn emit(&self, event: AgentEvent) -> BoxFuture<()>;
}

/// Events dropped (tests, and sessions nobody watches).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoEvents;

impl SessionEvents for NoEvents {
    fn emit(&self, _event: AgentEvent) -> BoxFuture<()> {
        Box::pin(async {})
    }
}
