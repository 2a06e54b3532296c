//! The unified request, response and conversation model every provider adapter
//! translates to and from its own wire format.

use std::ops::AddAssign;
use std::sync::Arc;

use serde_json::Value;

/// Who said something.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Instructions for the model (most providers take these separately).
    System,
    /// The user: the pipeline's prompt, steering.
    User,
    /// The model.
    Assistant,
    /// Results of the model's tool calls.
    Tool,
}

/// A call the model asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolCall {
    /// The provider's id for the call (Gemini gives none: one is made up).
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments, as the model wrote them (a JSON object, normally).
    pub arguments: Value,
    /// An opaque token the provider attached to the call and wants back with
    /// it (Gemini's `thoughtSignature`); empty when there is none.
    pub signature: String,
}

/// The answer to a tool call.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolResult {
    /// The call answered.
    pub call_id: String,
    /// The tool's name (Gemini matches results by name).
    pub name: String,
    /// What the tool returned, as text.
    pub content: String,
    /// Whether the tool failed.
    pub is_error: bool,
}

/// One piece of a message.
#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    /// Text.
    Text(String),
    /// A tool call (assistant messages).
    ToolCall(ToolCall),
    /// A tool result (tool messages).
    ToolResult(ToolResult),
    /// Reasoning the provider shows and wants back verbatim (Anthropic
    /// thinking, with its signature; `redacted` blocks carry opaque `text`).
    Thinking {
        /// The thinking text, or the redacted block's data.
        text: String,
        /// The provider's signature over it.
        signature: String,
        /// A redacted block.
        redacted: bool,
    },
}

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// Who said it.
    pub role: Role,
    /// What was said.
    pub parts: Vec<Part>,
}

impl Message {
    /// A user message with `text`.
    pub fn user(text: impl Into<String>) -> Message {
        Message {
            role: Role::User,
            parts: vec![Part::Text(text.into())],
        }
    }

    /// An assistant message with `text`.
    pub fn assistant(text: impl Into<String>) -> Message {
        Message {
            role: Role::Assistant,
            parts: vec![Part::Text(text.into())],
        }
    }

    /// The text parts, joined.
    pub fn text(&self) -> String {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The tool calls, in order.
    pub fn tool_calls(&self) -> Vec<&ToolCall> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::ToolCall(c) => Some(c),
                _ => None,
            })
            .collect()
    }
}

/// A tool the model may call.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolSpec {
    /// Its name (`[a-zA-Z][a-zA-Z0-9_]*`).
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// A JSON Schema for its arguments (an object schema).
    pub parameters: Value,
}

/// Whether and how the model must call tools.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ToolChoice {
    /// The model decides.
    #[default]
    Auto,
    /// No tool calls.
    None,
    /// At least one tool call.
    Required,
    /// This tool.
    Named(String),
}

/// The shape the answer must have.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum ResponseFormat {
    /// Free text.
    #[default]
    Text,
    /// Any JSON object.
    JsonObject,
    /// JSON matching this schema.
    JsonSchema(Value),
}

impl ResponseFormat {
    /// The format a node asks for with `response_format` (and
    /// `response_schema`): `json_object`, `json_schema`, or text.
    pub fn from_attrs(format: &str, schema: &str) -> ResponseFormat {
        match format {
            "json_object" | "json" => ResponseFormat::JsonObject,
            "json_schema" => serde_json::from_str(schema)
                .map(ResponseFormat::JsonSchema)
                .unwrap_or(ResponseFormat::JsonObject),
            _ => ResponseFormat::Text,
        }
    }
}

/// A completion request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Request {
    /// Provider name (`anthropic`, `openai`, `gemini`, `openai-compat`, `stub`).
    pub provider: String,
    /// The provider's model id, passed through unchanged.
    pub model: String,
    /// System instructions.
    pub system: String,
    /// The conversation so far.
    pub messages: Vec<Message>,
    /// Tools on offer.
    pub tools: Arc<[ToolSpec]>,
    /// Whether tools must be called.
    pub tool_choice: ToolChoice,
    /// The largest answer, in tokens (0: the adapter's default).
    pub max_tokens: u32,
    /// `low`, `medium` or `high`; empty to omit.
    pub reasoning_effort: String,
    /// The answer's shape.
    pub response_format: ResponseFormat,
}

/// Why generation stopped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum FinishReason {
    /// The model finished.
    #[default]
    Stop,
    /// The token limit cut it off.
    Length,
    /// It wants tool calls run.
    ToolCalls,
    /// A safety filter stopped it.
    ContentFilter,
    /// Anything else, as the provider named it.
    Other(String),
}

impl FinishReason {
    /// The unified name (`stop`, `length`, `tool_calls`, `content_filter`, or the
    /// provider's).
    pub fn as_str(&self) -> &str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::ContentFilter => "content_filter",
            FinishReason::Other(raw) => raw,
        }
    }
}

/// Token counts of one completion. `input_tokens` excludes cached input;
/// `output_tokens` includes reasoning.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Prompt tokens (not read from or written to the cache).
    pub input_tokens: u64,
    /// Completion tokens, reasoning included.
    pub output_tokens: u64,
    /// As reported, or input + output.
    pub total_tokens: u64,
    /// Reasoning tokens (part of the output).
    pub reasoning_tokens: u64,
    /// Prompt tokens read from the provider's cache.
    pub cache_read_tokens: u64,
    /// Prompt tokens written to the provider's cache.
    pub cache_write_tokens: u64,
}

impl AddAssign for Usage {
    fn add_assign(&mut self, other: Usage) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.total_tokens += other.total_tokens;
        self.reasoning_tokens += other.reasoning_tokens;
        self.cache_read_tokens += other.cache_read_tokens;
        self.cache_write_tokens += other.cache_write_tokens;
    }
}

/// A completion.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Response {
    /// The provider's response id.
    pub id: String,
    /// The model that answered (as the provider names it).
    pub model: String,
    /// The provider that answered.
    pub provider: String,
    /// The answer: text, tool calls, thinking.
    pub message: Message,
    /// Why generation stopped.
    pub finish_reason: FinishReason,
    /// Token counts.
    pub usage: Usage,
}

impl Default for Message {
    fn default() -> Message {
        Message {
            role: Role::Assistant,
            parts: Vec::new(),
        }
    }
}

impl Response {
    /// The answer's text.
    pub fn text(&self) -> String {
        self.message.text()
    }

    /// The answer's tool calls.
    pub fn tool_calls(&self) -> Vec<&ToolCall> {
        self.message.tool_calls()
    }

    /// No text, no tool calls and no output tokens: the "empty API response" a
    /// session retries.
    pub fn is_empty(&self) -> bool {
        self.text().is_empty() && self.tool_calls().is_empty() && self.usage.output_tokens == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_adds_field_by_field() {
        let mut a = Usage {
            input_tokens: 1,
            output_tokens: 2,
            total_tokens: 3,
            reasoning_tokens: 4,
            cache_read_tokens: 5,
            cache_write_tokens: 6,
        };
        a += a;
        assert_eq!(a.cache_write_tokens, 12);
        assert_eq!(a.total_tokens, 6);
    }

    #[test]
    fn messages_expose_text_and_calls() {
        let m = Message {
            role: Role::Assistant,
            parts: vec![
                Part::Text("a".into()),
                Part::ToolCall(ToolCall {
                    id: "1".into(),
                    name: "read".into(),
                    arguments: serde_json::json!({"path": "x"}),
                    signature: String::new(),
                }),
                Part::Text("b".into()),
            ],
        };
        assert_eq!(m.text(), "ab");
        assert_eq!(m.tool_calls().len(), 1);
        assert_eq!(
            ResponseFormat::from_attrs("json_schema", r#"{"type":"object"}"#),
            ResponseFormat::JsonSchema(serde_json::json!({"type": "object"}))
        );
    }
}
