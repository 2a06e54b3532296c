//! OpenAI-compatible Chat Completions (`openai-compat`: OpenRouter, vLLM,
//! Ollama, LiteLLM, …): `POST /v1/chat/completions` with a Bearer key,
//! streamed as `chat.completion.chunk` objects ending with `data: [DONE]`.
//! Tool calls stream as `delta.tool_calls[i]` fragments keyed by `index`;
//! usage arrives in a last chunk because the request asks for it
//! (`stream_options.include_usage`).

use std::borrow::Cow;

use serde_json::{json, Map, Value};

use super::codec::{json_data, str_at, typed_data, u64_at, Codec, Decoder};
use super::error::ProviderError;
use super::model::{FinishReason, Message, Part, Request, ResponseFormat, Role, ToolChoice, Usage};
use super::openai::arguments_text;
use super::sse::SseEvent;
use super::stream::StreamEvent;

/// Where requests go unless configured otherwise (OpenRouter, as the
/// reference).
pub const DEFAULT_BASE_URL: &str = "https://openrouter.ai/api";

/// Segment of the answer's text.
const TEXT: usize = 0;
/// Segment of the answer's reasoning.
const REASONING: usize = 1;
/// Segment of tool call 0; call `i` is `FIRST_CALL + i`.
const FIRST_CALL: usize = 2;

/// The Chat Completions codec.
#[derive(Clone, Copy, Debug, Default)]
pub struct ChatCompletions;

impl Codec for ChatCompletions {
    fn provider(&self) -> &'static str {
        "openai-compat"
    }

    fn url(&self, base_url: &str, _request: &Request) -> String {
        format!("{base_url}/v1/chat/completions")
    }

    fn headers(&self, api_key: &str) -> Vec<(&'static str, String)> {
        vec![("authorization", format!("Bearer {api_key}"))]
    }

    fn body(&self, request: &Request) -> Value {
        let mut body = Map::new();
        body.insert("model".into(), json!(request.model));
        let mut messages = Vec::new();
        if !request.system.is_empty() {
            messages.push(json!({"role": "system", "content": request.system}));
        }
        for message in &request.messages {
            push_message(&mut messages, message);
        }
        body.insert("messages".into(), Value::Array(messages));
        if !request.tools.is_empty() {
            let tools: Vec<Value> = request
                .tools
                .iter()
                .map(|t| {
                    json!({"type": "function", "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    }})
                })
                .collect();
            body.insert("tools".into(), Value::Array(tools));
            body.insert(
                "tool_choice".into(),
                match &request.tool_choice {
                    ToolChoice::Auto => json!("auto"),
                    ToolChoice::None => json!("none"),
                    ToolChoice::Required => json!("required"),
                    ToolChoice::Named(name) => {
                        json!({"type": "function", "function": {"name": name}})
                    }
                },
            );
        }
        if request.max_tokens > 0 {
            body.insert("max_tokens".into(), json!(request.max_tokens));
        }
        if !request.reasoning_effort.is_empty() {
            body.insert("reasoning_effort".into(), json!(request.reasoning_effort));
        }
        match &request.response_format {
            ResponseFormat::Text => {}
            ResponseFormat::JsonObject => {
                body.insert("response_format".into(), json!({"type": "json_object"}));
            }
            ResponseFormat::JsonSchema(schema) => {
                body.insert(
                    "response_format".into(),
                    json!({"type": "json_schema", "json_schema": {"name": "response", "schema": schema}}),
                );
            }
        }
        body.insert("stream".into(), json!(true));
        body.insert("stream_options".into(), json!({"include_usage": true}));
        Value::Object(body)
    }

    fn decoder(&self) -> Box<dyn Decoder> {
        Box::new(ChatDecoder::default())
    }
}

/// Appends `message` as chat messages: one per tool result, text and calls
/// together for the assistant.
fn push_message(out: &mut Vec<Value>, message: &Message) {
    let text = message.text();
    match message.role {
        Role::Assistant => {
            let calls: Vec<Value> = message
                .tool_calls()
                .into_iter()
                .map(|c| {
                    json!({"id": c.id, "type": "function", "function": {
                        "name": c.name,
                        "arguments": arguments_text(&c.arguments),
                    }})
                })
                .collect();
            let mut value = json!({"role": "assistant", "content": if text.is_empty() { Value::Null } else { json!(text) }});
            if !calls.is_empty() {
                value["tool_calls"] = Value::Array(calls);
            }
            out.push(value);
        }
        Role::Tool => {
            for part in &message.parts {
                if let Part::ToolResult(result) = part {
                    out.push(json!({"role": "tool", "tool_call_id": result.call_id, "content": result.content}));
                }
            }
            if !text.is_empty() {
                out.push(json!({"role": "user", "content": text}));
            }
        }
        Role::User => out.push(json!({"role": "user", "content": text})),
        Role::System => out.push(json!({"role": "system", "content": text})),
    }
}

/// Decodes one chat completion stream.
#[derive(Debug, Default)]
struct ChatDecoder {
    started: bool,
    finish_reason: Option<String>,
    finished: bool,
}

impl ChatDecoder {
    fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        if !self.finished {
            self.finished = true;
            let reason = self.finish_reason.as_deref().unwrap_or("stop");
            out.push(StreamEvent::Finish(finish_reason(reason)));
        }
    }
}

/// A chunk that carries only answer text or reasoning (the bulk of a
/// stream), read without building a JSON tree. Anything else in it — an
/// error, usage, a finish reason, tool calls — sends the chunk down the full
/// path.
#[derive(serde::Deserialize)]
struct TextChunk<'a> {
    #[serde(borrow)]
    choices: Vec<TextChoice<'a>>,
    #[serde(default)]
    usage: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    error: Option<serde::de::IgnoredAny>,
}

#[derive(serde::Deserialize)]
struct TextChoice<'a> {
    #[serde(borrow)]
    delta: TextOnly<'a>,
    #[serde(borrow, default)]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(serde::Deserialize)]
struct TextOnly<'a> {
    #[serde(borrow, default)]
    content: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    reasoning_content: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    reasoning: Option<Cow<'a, str>>,
    #[serde(default)]
    tool_calls: Option<serde::de::IgnoredAny>,
}

impl ChatDecoder {
    /// Decodes a chunk of answer text or reasoning on the fast path;
    /// whether it was one.
    fn text_chunk(&self, event: &SseEvent, out: &mut Vec<StreamEvent>) -> bool {
        if !self.started {
            return false;
        }
        let Some(chunk) = typed_data::<TextChunk<'_>>(event) else {
            return false;
        };
        let only_text = chunk.usage.is_none()
            && chunk.error.is_none()
            && chunk.choices.first().is_some_and(|choice| {
                choice.finish_reason.as_deref().unwrap_or("").is_empty()
                    && choice.delta.tool_calls.is_none()
            });
        let Some(choice) = chunk.choices.into_iter().next().filter(|_| only_text) else {
            return false;
        };
        let delta = choice.delta;
        // Servers name it one way or the other (some send both).
        let reasoning = [delta.reasoning_content, delta.reasoning]
            .into_iter()
            .flatten()
            .find(|t| !t.is_empty());
        if let Some(text) = reasoning {
            out.push(StreamEvent::ReasoningDelta {
                index: REASONING,
                text: text.into_owned(),
            });
        }
        let text = delta.content.unwrap_or_default();
        if !text.is_empty() {
            out.push(StreamEvent::TextDelta {
                index: TEXT,
                text: text.into_owned(),
            });
        }
        true
    }
}

impl Decoder for ChatDecoder {
    fn decode_fast(&mut self, event: &SseEvent, out: &mut Vec<StreamEvent>) -> bool {
        self.text_chunk(event, out)
    }

    fn decode_full(
        &mut self,
        event: &SseEvent,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), ProviderError> {
        if event.data.trim() == "[DONE]" {
            self.finish(out);
            return Ok(());
        }
        let Some(data) = json_data(event) else {
            return Ok(());
        };
        if let Some(error) = data.get("error") {
            let code = match error.get("code") {
                Some(Value::String(code)) => code.clone(),
                _ => str_at(error, "/type").to_string(),
            };
            return Err(ProviderError::from_stream(
                "openai-compat",
                &code,
                str_at(error, "/message"),
            ));
        }
        if !self.started {
            self.started = true;
            out.push(StreamEvent::Start {
                id: str_at(&data, "/id").to_string(),
                model: str_at(&data, "/model").to_string(),
            });
        }
        if let Some(delta) = data.pointer("/choices/0/delta") {
            // Servers name it one way or the other (some send both).
            let reasoning = [
                str_at(delta, "/reasoning_content"),
                str_at(delta, "/reasoning"),
            ]
            .into_iter()
            .find(|t| !t.is_empty());
            if let Some(text) = reasoning {
                out.push(StreamEvent::ReasoningDelta {
                    index: REASONING,
                    text: text.to_string(),
                });
            }
            let text = str_at(delta, "/content");
            if !text.is_empty() {
                out.push(StreamEvent::TextDelta {
                    index: TEXT,
                    text: text.to_string(),
                });
            }
            let calls = delta.get("tool_calls").and_then(Value::as_array);
            for (position, call) in calls.into_iter().flatten().enumerate() {
                // Some servers leave out `index`; the position stands in.
                let index = FIRST_CALL
                    + call
                        .get("index")
                        .and_then(Value::as_u64)
                        .map_or(position, |i| i as usize);
                let id = str_at(call, "/id");
                if !id.is_empty() {
                    out.push(StreamEvent::ToolCallStart {
                        index,
                        id: id.to_string(),
                        name: str_at(call, "/function/name").to_string(),
                    });
                }
                let arguments = str_at(call, "/function/arguments");
                if !arguments.is_empty() {
                    out.push(StreamEvent::ToolCallDelta {
                        index,
                        arguments: arguments.to_string(),
                    });
                }
            }
        }
        let reason = str_at(&data, "/choices/0/finish_reason");
        if !reason.is_empty() {
            self.finish_reason = Some(reason.to_string());
        }
        if let Some(usage) = data.get("usage").filter(|u| u.is_object()) {
            let prompt = u64_at(usage, "/prompt_tokens");
            let cached = u64_at(usage, "/prompt_tokens_details/cached_tokens");
            out.push(StreamEvent::Usage(Usage {
                input_tokens: prompt.saturating_sub(cached),
                output_tokens: u64_at(usage, "/completion_tokens"),
                total_tokens: u64_at(usage, "/total_tokens"),
                reasoning_tokens: u64_at(usage, "/completion_tokens_details/reasoning_tokens"),
                cache_read_tokens: cached,
                cache_write_tokens: 0,
            }));
        }
        Ok(())
    }

    /// Servers that end the body without `[DONE]` after a finish reason
    /// still count as complete.
    fn end(&mut self, out: &mut Vec<StreamEvent>) {
        if self.finish_reason.is_some() {
            self.finish(out);
        }
    }
}

fn finish_reason(reason: &str) -> FinishReason {
    match reason {
        "stop" => FinishReason::Stop,
        "length" => FinishReason::Length,
        "tool_calls" | "function_call" => FinishReason::ToolCalls,
        "content_filter" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_path_and_the_full_path_decode_alike() {
        crate::codec::assert_paths_agree::<ChatDecoder>(&[
            r#"{"id":"c1","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#,
            r#"{"id":"c1","choices":[{"index":0,"delta":{"content":"plain"},"finish_reason":null}]}"#,
            r#"{"id":"c1","choices":[{"index":0,"delta":{"content":"esc \"q\" \\n \u00e9 ✓"}}],"usage":null}"#,
            r#"{"id":"c1","choices":[{"index":0,"delta":{"content":""}}]}"#,
            r#"{"id":"c1","choices":[{"index":0,"delta":{"content":null,"tool_calls":null}}]}"#,
            r#"{"id":"c1","choices":[{"index":0,"delta":{"content":5}}]}"#,
            r#"{"id":"c1","choices":[{"index":0,"delta":null}]}"#,
            r#"{"id":"c1","choices":[{"index":0}]}"#,
            r#"{"id":"c1","choices":[]}"#,
            r#"{"id":"c1","choices":[{"index":0,"delta":{"reasoning_content":"why"}}]}"#,
            r#"{"id":"c1","choices":[{"index":0,"delta":{"reasoning":"why","content":"and"}}]}"#,
            r#"{"id":"c1","choices":[{"index":0,"delta":{"reasoning_content":"","reasoning":"second name"}}]}"#,
            r#"{"id":"c1","choices":[{"index":0,"delta":{"reasoning_content":"both","reasoning":"named"}}]}"#,
            r#"{"id":"c1","choices":[{"index":0,"delta":{"reasoning_content":4}}]}"#,
            r#"{"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"t1","function":{"name":"f","arguments":""}}]}}]}"#,
            r#"{"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}}]}"#,
            r#"{"id":"c1","choices":[{"index":0,"delta":{"content":"last"},"finish_reason":"stop"}]}"#,
            r#"{"id":"c1","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}"#,
            r#"{"error":{"code":"rate_limit","message":"slow down"}}"#,
            r#"{"error":null}"#,
            r#"[DONE]"#,
        ]);
    }
    use crate::model::{ToolCall, ToolResult};

    #[test]
    fn tool_results_become_tool_messages() {
        let request = Request {
            model: "m".into(),
            system: "sys".into(),
            messages: vec![
                Message::user("go"),
                Message {
                    role: Role::Assistant,
                    parts: vec![Part::ToolCall(ToolCall {
                        id: "c1".into(),
                        name: "write".into(),
                        arguments: json!({"path": "a"}),
                        signature: String::new(),
                    })],
                },
                Message {
                    role: Role::Tool,
                    parts: vec![Part::ToolResult(ToolResult {
                        call_id: "c1".into(),
                        name: "write".into(),
                        content: "ok".into(),
                        is_error: false,
                    })],
                },
            ],
            ..Request::default()
        };
        let body = ChatCompletions.body(&request);
        let messages = body["messages"].as_array().expect("messages");
        assert_eq!(messages[0]["role"], "system");
        assert_eq!(messages[2]["content"], Value::Null);
        assert_eq!(
            messages[2]["tool_calls"][0]["function"]["arguments"],
            r#"{"path":"a"}"#
        );
        assert_eq!(messages[3]["role"], "tool");
        assert_eq!(messages[3]["tool_call_id"], "c1");
        assert_eq!(body["stream_options"]["include_usage"], true);
    }
}
