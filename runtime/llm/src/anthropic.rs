//! Anthropic's Messages API: `POST /v1/messages` with `x-api-key` and
//! `anthropic-version: 2023-06-01`, streamed as `message_start`,
//! `content_block_*`, `message_delta` and `message_stop` events.
//!
//! As the reference does, requests ask for at most 16,384 output tokens unless
//! the node says otherwise, mark the system prompt, the last tool and the last
//! user block for ephemeral prompt caching, and send `reasoning_effort` as
//! `output_config.effort`. Thinking blocks come back verbatim, signatures and
//! empty ones included.

use std::borrow::Cow;

use serde_json::{json, Map, Value};

use super::codec::{alternating_turns, json_data, str_at, typed_data, u64_at, Codec, Decoder};
use super::error::ProviderError;
use super::model::{FinishReason, Message, Part, Request, ResponseFormat, ToolChoice, Usage};
use super::sse::SseEvent;
use super::stream::StreamEvent;

/// The Messages API version header value.
pub const API_VERSION: &str = "2023-06-01";
/// Output tokens asked for when the node sets no limit.
pub const DEFAULT_MAX_TOKENS: u32 = 16_384;
/// Where the API lives unless configured otherwise.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";

/// The Anthropic Messages codec.
#[derive(Clone, Copy, Debug, Default)]
pub struct Anthropic;

impl Codec for Anthropic {
    fn provider(&self) -> &'static str {
        "anthropic"
    }

    fn url(&self, base_url: &str, _request: &Request) -> String {
        format!("{base_url}/v1/messages")
    }

    fn headers(&self, api_key: &str) -> Vec<(&'static str, String)> {
        vec![
            ("x-api-key", api_key.to_string()),
            ("anthropic-version", API_VERSION.to_string()),
        ]
    }

    fn body(&self, request: &Request) -> Value {
        let mut body = Map::new();
        body.insert("model".into(), json!(request.model));
        let max_tokens = match request.max_tokens {
            0 => DEFAULT_MAX_TOKENS,
            n => n,
        };
        body.insert("max_tokens".into(), json!(max_tokens));
        let system = system_text(request);
        if !system.is_empty() {
            body.insert(
                "system".into(),
                json!([{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}]),
            );
        }
        body.insert("messages".into(), Value::Array(messages(&request.messages)));
        if !request.tools.is_empty() {
            let mut tools: Vec<Value> = request
                .tools
                .iter()
                .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.parameters}))
                .collect();
            if let Some(Value::Object(last)) = tools.last_mut() {
                last.insert("cache_control".into(), json!({"type": "ephemeral"}));
            }
            body.insert("tools".into(), Value::Array(tools));
            body.insert(
                "tool_choice".into(),
                match &request.tool_choice {
                    ToolChoice::Auto => json!({"type": "auto"}),
                    ToolChoice::None => json!({"type": "none"}),
                    ToolChoice::Required => json!({"type": "any"}),
                    ToolChoice::Named(name) => json!({"type": "tool", "name": name}),
                },
            );
        }
        if !request.reasoning_effort.is_empty() {
            body.insert(
                "output_config".into(),
                json!({"effort": request.reasoning_effort}),
            );
        }
        body.insert("stream".into(), json!(true));
        Value::Object(body)
    }

    fn decoder(&self) -> Box<dyn Decoder> {
        Box::new(AnthropicDecoder::default())
    }
}

/// The system prompt, with the answer-shape instruction Anthropic has no
/// request field for.
fn system_text(request: &Request) -> String {
    let shape = match &request.response_format {
        ResponseFormat::Text => return request.system.clone(),
        ResponseFormat::JsonObject => "Respond with a single JSON object and nothing else.".to_string(),
        ResponseFormat::JsonSchema(schema) => format!(
            "Respond with a single JSON object that matches this JSON Schema, and nothing else:\n{schema}"
        ),
    };
    if request.system.is_empty() {
        shape
    } else {
        format!("{}\n\n{shape}", request.system)
    }
}

/// The conversation as Anthropic messages: roles alternate (tool results are
/// user content, and neighbours with the same role merge), and the last user
/// block is marked for caching.
fn messages(conversation: &[Message]) -> Vec<Value> {
    let mut out = alternating_turns(conversation, "assistant", block);
    if let Some((_, blocks)) = out.iter_mut().rev().find(|(role, _)| *role == "user") {
        if let Some(Value::Object(last)) = blocks.last_mut() {
            last.insert("cache_control".into(), json!({"type": "ephemeral"}));
        }
    }
    out.into_iter()
        .map(|(role, content)| json!({"role": role, "content": content}))
        .collect()
}

fn block(part: &Part) -> Option<Value> {
    Some(match part {
        Part::Text(text) if text.is_empty() => return None,
        Part::Text(text) => json!({"type": "text", "text": text}),
        Part::ToolCall(call) => {
            let input = if call.arguments.is_object() {
                call.arguments.clone()
            } else {
                json!({})
            };
            json!({"type": "tool_use", "id": call.id, "name": call.name, "input": input})
        }
        Part::ToolResult(result) => {
            let mut block = json!({
                "type": "tool_result",
                "tool_use_id": result.call_id,
                "content": result.content,
            });
            if result.is_error {
                block["is_error"] = json!(true);
            }
            block
        }
        Part::Thinking {
            text,
            redacted: true,
            ..
        } => json!({"type": "redacted_thinking", "data": text}),
        Part::Thinking {
            text, signature, ..
        } => json!({"type": "thinking", "thinking": text, "signature": signature}),
    })
}

/// Decodes one Anthropic response stream.
#[derive(Debug, Default)]
struct AnthropicDecoder {
    usage: Usage,
    stop_reason: String,
}

impl AnthropicDecoder {
    fn read_usage(&mut self, usage: &Value) {
        let field = |name: &str| usage.get(name).and_then(Value::as_u64);
        if let Some(n) = field("input_tokens") {
            self.usage.input_tokens = n;
        }
        if let Some(n) = field("output_tokens") {
            self.usage.output_tokens = n;
        }
        if let Some(n) = field("cache_read_input_tokens") {
            self.usage.cache_read_tokens = n;
        }
        if let Some(n) = field("cache_creation_input_tokens") {
            self.usage.cache_write_tokens = n;
        }
        self.usage.total_tokens = self.usage.input_tokens + self.usage.output_tokens;
    }
}

/// A `content_block_delta` event, read without building a JSON tree: most
/// of a stream is these.
#[derive(serde::Deserialize)]
struct BlockDelta<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    index: u64,
    #[serde(borrow)]
    delta: DeltaBody<'a>,
}

#[derive(serde::Deserialize)]
struct DeltaBody<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    partial_json: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    thinking: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    signature: Option<Cow<'a, str>>,
}

impl AnthropicDecoder {
    /// Decodes a `content_block_delta` on the fast path; whether it was one.
    fn block_delta(event: &SseEvent, out: &mut Vec<StreamEvent>) -> bool {
        let Some(delta) = typed_data::<BlockDelta<'_>>(event) else {
            return false;
        };
        if delta.kind != "content_block_delta" {
            return false;
        }
        let index = delta.index as usize;
        let body = delta.delta;
        let text = |t: Option<Cow<'_, str>>| t.map(Cow::into_owned).unwrap_or_default();
        match body.kind.as_ref() {
            "text_delta" => out.push(StreamEvent::TextDelta {
                index,
                text: text(body.text),
            }),
            "input_json_delta" => out.push(StreamEvent::ToolCallDelta {
                index,
                arguments: text(body.partial_json),
            }),
            "thinking_delta" => out.push(StreamEvent::ReasoningDelta {
                index,
                text: text(body.thinking),
            }),
            "signature_delta" => out.push(StreamEvent::Signature {
                index,
                signature: text(body.signature),
            }),
            _ => {}
        }
        true
    }
}

impl Decoder for AnthropicDecoder {
    fn decode_fast(&mut self, event: &SseEvent, out: &mut Vec<StreamEvent>) -> bool {
        AnthropicDecoder::block_delta(event, out)
    }

    fn decode_full(
        &mut self,
        event: &SseEvent,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), ProviderError> {
        let Some(data) = json_data(event) else {
            return Ok(());
        };
        let index = u64_at(&data, "/index") as usize;
        match str_at(&data, "/type") {
            "message_start" => {
                out.push(StreamEvent::Start {
                    id: str_at(&data, "/message/id").to_string(),
                    model: str_at(&data, "/message/model").to_string(),
                });
                if let Some(usage) = data.pointer("/message/usage") {
                    self.read_usage(usage);
                    out.push(StreamEvent::Usage(self.usage));
                }
            }
            "content_block_start" => {
                let block = data.get("content_block").unwrap_or(&Value::Null);
                match str_at(block, "/type") {
                    "text" => {
                        let text = str_at(block, "/text");
                        if !text.is_empty() {
                            out.push(StreamEvent::TextDelta {
                                index,
                                text: text.to_string(),
                            });
                        }
                    }
                    "thinking" => {
                        out.push(StreamEvent::ReasoningDelta {
                            index,
                            text: str_at(block, "/thinking").to_string(),
                        });
                        let signature = str_at(block, "/signature");
                        if !signature.is_empty() {
                            out.push(StreamEvent::Signature {
                                index,
                                signature: signature.to_string(),
                            });
                        }
                    }
                    "redacted_thinking" => out.push(StreamEvent::RedactedReasoning {
                        index,
                        data: str_at(block, "/data").to_string(),
                    }),
                    "tool_use" => out.push(StreamEvent::ToolCallStart {
                        index,
                        id: str_at(block, "/id").to_string(),
                        name: str_at(block, "/name").to_string(),
                    }),
                    _ => {}
                }
            }
            "content_block_delta" => {
                let delta = data.get("delta").unwrap_or(&Value::Null);
                match str_at(delta, "/type") {
                    "text_delta" => out.push(StreamEvent::TextDelta {
                        index,
                        text: str_at(delta, "/text").to_string(),
                    }),
                    "input_json_delta" => out.push(StreamEvent::ToolCallDelta {
                        index,
                        arguments: str_at(delta, "/partial_json").to_string(),
                    }),
                    "thinking_delta" => out.push(StreamEvent::ReasoningDelta {
                        index,
                        text: str_at(delta, "/thinking").to_string(),
                    }),
                    "signature_delta" => out.push(StreamEvent::Signature {
                        index,
                        signature: str_at(delta, "/signature").to_string(),
                    }),
                    _ => {}
                }
            }
            "message_delta" => {
                let reason = str_at(&data, "/delta/stop_reason");
                if !reason.is_empty() {
                    self.stop_reason = reason.to_string();
                }
                if let Some(usage) = data.get("usage") {
                    self.read_usage(usage);
                    out.push(StreamEvent::Usage(self.usage));
                }
            }
            "message_stop" => out.push(StreamEvent::Finish(finish_reason(&self.stop_reason))),
            "error" => {
                return Err(ProviderError::from_stream(
                    "anthropic",
                    str_at(&data, "/error/type"),
                    str_at(&data, "/error/message"),
                ))
            }
            _ => {}
        }
        Ok(())
    }
}

fn finish_reason(stop_reason: &str) -> FinishReason {
    match stop_reason {
        "end_turn" | "stop_sequence" | "" => FinishReason::Stop,
        "max_tokens" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "refusal" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_path_and_the_full_path_decode_alike() {
        crate::codec::assert_paths_agree::<AnthropicDecoder>(&[
            r#"{"type":"message_start","message":{"id":"m1","model":"claude","usage":{"input_tokens":5}}}"#,
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"plain"}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"esc \"q\" \\n \u00e9 ✓"}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":""}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta"}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":7}}"#,
            r#"{"type":"content_block_delta","index":-1,"delta":{"type":"text_delta","text":"neg"}}"#,
            r#"{"type":"content_block_delta","delta":{"type":"text_delta","text":"no index"}}"#,
            r#"{"type":"content_block_delta","index":0}"#,
            r#"{"type":"content_block_delta","index":0,"delta":null}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}}"#,
            r#"{"type":"content_block_delta","index":2,"delta":{"type":"thinking_delta","thinking":"hm"}}"#,
            r#"{"type":"content_block_delta","index":2,"delta":{"type":"signature_delta","signature":"sig"}}"#,
            r#"{"type":"content_block_delta","index":2,"delta":{"type":"mystery","text":"x"}}"#,
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":9}}"#,
            r#"{"type":"error","error":{"type":"overloaded_error","message":"busy"}}"#,
            r#"not json"#,
        ]);
    }
    use crate::model::{Role, ToolCall, ToolResult, ToolSpec};

    #[test]
    fn bodies_alternate_roles_and_mark_cache_points() {
        let request = Request {
            provider: "anthropic".into(),
            model: "claude-sonnet-4-6".into(),
            system: "Be brief.".into(),
            messages: vec![
                Message::user("make a file"),
                Message {
                    role: Role::Assistant,
                    parts: vec![
                        Part::Thinking {
                            text: String::new(),
                            signature: "sig".into(),
                            redacted: false,
                        },
                        Part::ToolCall(ToolCall {
                            id: "toolu_1".into(),
                            name: "write".into(),
                            arguments: json!({"path": "a"}),
                            signature: String::new(),
                        }),
                    ],
                },
                Message {
                    role: Role::Tool,
                    parts: vec![Part::ToolResult(ToolResult {
                        call_id: "toolu_1".into(),
                        name: "write".into(),
                        content: "ok".into(),
                        is_error: false,
                    })],
                },
                Message::user("[STEERING] hurry"),
            ],
            tools: vec![ToolSpec {
                name: "write".into(),
                description: "writes".into(),
                parameters: json!({"type": "object"}),
            }]
            .into(),
            reasoning_effort: "high".into(),
            ..Request::default()
        };
        let body = Anthropic.body(&request);
        assert_eq!(body["max_tokens"], 16384);
        assert_eq!(body["system"][0]["cache_control"]["type"], "ephemeral");
        assert_eq!(body["tools"][0]["cache_control"]["type"], "ephemeral");
        assert_eq!(body["output_config"]["effort"], "high");
        let messages = body["messages"].as_array().expect("messages");
        assert_eq!(
            messages.len(),
            3,
            "tool results and steering merge: {body:#}"
        );
        assert_eq!(messages[1]["content"][0]["type"], "thinking");
        assert_eq!(messages[1]["content"][0]["thinking"], "");
        assert_eq!(messages[2]["content"][0]["type"], "tool_result");
        assert_eq!(
            messages[2]["content"][1]["cache_control"]["type"],
            "ephemeral"
        );
        assert!(messages[2]["content"][0].get("cache_control").is_none());
    }

    #[test]
    fn thinking_blocks_come_back_verbatim() {
        let events = [
            r#"{"type":"message_start","message":{"id":"msg_1","model":"claude-opus-4-6","usage":{"input_tokens":10,"cache_read_input_tokens":90,"cache_creation_input_tokens":5,"output_tokens":1}}}"#,
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me "}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"think."}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"c2lnLWFiYw=="}}"#,
            r#"{"type":"content_block_stop","index":0}"#,
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"b3BhcXVl"}}"#,
            r#"{"type":"content_block_stop","index":1}"#,
            r#"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_9","name":"read","input":{}}}"#,
            r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"path\":\"a\"}"}}"#,
            r#"{"type":"content_block_stop","index":2}"#,
            r#"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":42}}"#,
            r#"{"type":"message_stop"}"#,
        ];
        let body: String = events.iter().map(|e| format!("data: {e}\n\n")).collect();
        let response = crate::reader::decode_body(&Anthropic, body.as_bytes()).expect("decodes");
        assert_eq!(response.usage.cache_read_tokens, 90);
        assert_eq!(response.usage.cache_write_tokens, 5);
        assert_eq!(response.usage.output_tokens, 42);
        assert_eq!(response.finish_reason, FinishReason::ToolCalls);
        let request = Request {
            model: "claude-opus-4-6".into(),
            messages: vec![Message::user("go"), response.message.clone()],
            ..Request::default()
        };
        let replayed = Anthropic.body(&request);
        let content = &replayed["messages"][1]["content"];
        assert_eq!(
            content[0],
            json!({"type": "thinking", "thinking": "Let me think.", "signature": "c2lnLWFiYw=="})
        );
        assert_eq!(
            content[1],
            json!({"type": "redacted_thinking", "data": "b3BhcXVl"})
        );
        assert_eq!(
            content[2],
            json!({"type": "tool_use", "id": "toolu_9", "name": "read", "input": {"path": "a"}})
        );
    }

    #[test]
    fn error_events_are_typed() {
        let mut decoder = Anthropic.decoder();
        let event = SseEvent {
            event: "error".into(),
            data: r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
                .into(),
        };
        let err = decoder
            .decode(&event, &mut Vec::new())
            .expect_err("error event");
        assert_eq!(err.kind, crate::ErrorKind::Server);
        assert!(err.retryable());
    }
}
