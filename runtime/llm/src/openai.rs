//! OpenAI's Responses API: `POST /v1/responses` with a Bearer key, streamed
//! as `response.*` events. The system prompt travels as `instructions`, the
//! conversation as `input` items (messages, `function_call`,
//! `function_call_output`), and `reasoning_effort` as `reasoning.effort`. An
//! `error` or `response.failed` event on an HTTP 200 is a typed error.

use std::borrow::Cow;

use serde_json::{json, Map, Value};

use super::codec::{json_data, str_at, typed_data, u64_at, Codec, Decoder};
use super::error::ProviderError;
use super::model::{FinishReason, Message, Part, Request, ResponseFormat, Role, ToolChoice, Usage};
use super::sse::SseEvent;
use super::stream::StreamEvent;

/// Where the API lives unless configured otherwise.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com";

/// The OpenAI Responses codec.
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenAiResponses;

impl Codec for OpenAiResponses {
    fn provider(&self) -> &'static str {
        "openai"
    }

    fn url(&self, base_url: &str, _request: &Request) -> String {
        format!("{base_url}/v1/responses")
    }

    fn headers(&self, api_key: &str) -> Vec<(&'static str, String)> {
        vec![("authorization", format!("Bearer {api_key}"))]
    }

    fn body(&self, request: &Request) -> Value {
        let mut body = Map::new();
        body.insert("model".into(), json!(request.model));
        if !request.system.is_empty() {
            body.insert("instructions".into(), json!(request.system));
        }
        body.insert("input".into(), Value::Array(input_items(&request.messages)));
        if !request.tools.is_empty() {
            let tools: Vec<Value> = request
                .tools
                .iter()
                .map(|t| {
                    json!({
                        "type": "function",
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                        "strict": false,
                    })
                })
                .collect();
            body.insert("tools".into(), Value::Array(tools));
            body.insert(
                "tool_choice".into(),
                match &request.tool_choice {
                    ToolChoice::Auto => json!("auto"),
                    ToolChoice::None => json!("none"),
                    ToolChoice::Required => json!("required"),
                    ToolChoice::Named(name) => json!({"type": "function", "name": name}),
                },
            );
        }
        if request.max_tokens > 0 {
            body.insert("max_output_tokens".into(), json!(request.max_tokens));
        }
        if !request.reasoning_effort.is_empty() {
            body.insert(
                "reasoning".into(),
                json!({"effort": request.reasoning_effort}),
            );
        }
        match &request.response_format {
            ResponseFormat::Text => {}
            ResponseFormat::JsonObject => {
                body.insert("text".into(), json!({"format": {"type": "json_object"}}));
            }
            ResponseFormat::JsonSchema(schema) => {
                body.insert(
                    "text".into(),
                    json!({"format": {"type": "json_schema", "name": "response", "schema": schema, "strict": false}}),
                );
            }
        }
        // Nothing refers back to stored responses: every turn sends the
        // whole conversation.
        body.insert("store".into(), json!(false));
        body.insert("stream".into(), json!(true));
        Value::Object(body)
    }

    fn decoder(&self) -> Box<dyn Decoder> {
        Box::new(ResponsesDecoder)
    }
}

/// The conversation as Responses `input` items.
fn input_items(conversation: &[Message]) -> Vec<Value> {
    let mut items = Vec::new();
    for message in conversation {
        let (role, text_type) = match message.role {
            Role::Assistant => ("assistant", "output_text"),
            Role::System => ("developer", "input_text"),
            Role::User | Role::Tool => ("user", "input_text"),
        };
        let mut texts = Vec::new();
        for part in &message.parts {
            match part {
                Part::Text(text) if !text.is_empty() => {
                    texts.push(json!({"type": text_type, "text": text}));
                }
                Part::ToolCall(call) => {
                    flush(&mut items, role, &mut texts);
                    items.push(json!({
                        "type": "function_call",
                        "call_id": call.id,
                        "name": call.name,
                        "arguments": arguments_text(&call.arguments),
                    }));
                }
                Part::ToolResult(result) => {
                    flush(&mut items, role, &mut texts);
                    items.push(json!({
                        "type": "function_call_output",
                        "call_id": result.call_id,
                        "output": result.content,
                    }));
                }
                // Reasoning is not replayed: without stored responses the API
                // takes no reasoning items back.
                Part::Text(_) | Part::Thinking { .. } => {}
            }
        }
        flush(&mut items, role, &mut texts);
    }
    items
}

fn flush(items: &mut Vec<Value>, role: &str, texts: &mut Vec<Value>) {
    if !texts.is_empty() {
        items.push(json!({"role": role, "content": std::mem::take(texts)}));
    }
}

/// Tool arguments as the JSON text the API expects.
pub(crate) fn arguments_text(arguments: &Value) -> String {
    match arguments {
        Value::String(raw) => raw.clone(),
        other => other.to_string(),
    }
}

/// Decodes one Responses stream.
#[derive(Debug, Default)]
struct ResponsesDecoder;

/// A `*.delta` event, read without building a JSON tree: most of a stream is
/// these.
#[derive(serde::Deserialize)]
struct Delta<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    output_index: u64,
    #[serde(borrow, default)]
    delta: Option<Cow<'a, str>>,
}

/// Decodes a text, arguments or reasoning delta on the fast path; whether it
/// was one.
fn fast_delta(event: &SseEvent, out: &mut Vec<StreamEvent>) -> bool {
    let Some(delta) = typed_data::<Delta<'_>>(event) else {
        return false;
    };
    let index = delta.output_index as usize;
    let text = delta.delta.map(Cow::into_owned).unwrap_or_default();
    out.push(match delta.kind.as_ref() {
        "response.output_text.delta" => StreamEvent::TextDelta { index, text },
        "response.function_call_arguments.delta" => StreamEvent::ToolCallDelta {
            index,
            arguments: text,
        },
        "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
            StreamEvent::ReasoningDelta { index, text }
        }
        _ => return false,
    });
    true
}

impl Decoder for ResponsesDecoder {
    fn decode_fast(&mut self, event: &SseEvent, out: &mut Vec<StreamEvent>) -> bool {
        fast_delta(event, out)
    }

    fn decode_full(
        &mut self,
        event: &SseEvent,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), ProviderError> {
        let Some(data) = json_data(event) else {
            return Ok(());
        };
        let index = u64_at(&data, "/output_index") as usize;
        match str_at(&data, "/type") {
            "response.created" => out.push(StreamEvent::Start {
                id: str_at(&data, "/response/id").to_string(),
                model: str_at(&data, "/response/model").to_string(),
            }),
            "response.output_item.added" if str_at(&data, "/item/type") == "function_call" => {
                out.push(StreamEvent::ToolCallStart {
                    index,
                    id: str_at(&data, "/item/call_id").to_string(),
                    name: str_at(&data, "/item/name").to_string(),
                });
                let arguments = str_at(&data, "/item/arguments");
                if !arguments.is_empty() {
                    out.push(StreamEvent::ToolCallDelta {
                        index,
                        arguments: arguments.to_string(),
                    });
                }
            }
            "response.output_text.delta" => out.push(StreamEvent::TextDelta {
                index,
                text: str_at(&data, "/delta").to_string(),
            }),
            "response.function_call_arguments.delta" => out.push(StreamEvent::ToolCallDelta {
                index,
                arguments: str_at(&data, "/delta").to_string(),
            }),
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
                out.push(StreamEvent::ReasoningDelta {
                    index,
                    text: str_at(&data, "/delta").to_string(),
                })
            }
            "response.completed" | "response.incomplete" => {
                let response = data.get("response").unwrap_or(&Value::Null);
                out.push(StreamEvent::Usage(usage(response)));
                let reason = match str_at(response, "/incomplete_details/reason") {
                    "" => FinishReason::Stop,
                    "max_output_tokens" => FinishReason::Length,
                    "content_filter" => FinishReason::ContentFilter,
                    other => FinishReason::Other(other.to_string()),
                };
                out.push(StreamEvent::Finish(reason));
            }
            "response.failed" => {
                return Err(ProviderError::from_stream(
                    "openai",
                    str_at(&data, "/response/error/code"),
                    str_at(&data, "/response/error/message"),
                ))
            }
            "error" => {
                let error = data.get("error").unwrap_or(&data);
                let code = [str_at(error, "/code"), str_at(error, "/type")]
                    .into_iter()
                    .find(|c| !c.is_empty())
                    .unwrap_or("");
                return Err(ProviderError::from_stream(
                    "openai",
                    code,
                    str_at(error, "/message"),
                ));
            }
            _ => {}
        }
        Ok(())
    }
}

/// A response's usage; the API counts cached input inside `input_tokens`.
fn usage(response: &Value) -> Usage {
    let input = u64_at(response, "/usage/input_tokens");
    let cached = u64_at(response, "/usage/input_tokens_details/cached_tokens");
    let output = u64_at(response, "/usage/output_tokens");
    Usage {
        input_tokens: input.saturating_sub(cached),
        output_tokens: output,
        total_tokens: u64_at(response, "/usage/total_tokens"),
        reasoning_tokens: u64_at(response, "/usage/output_tokens_details/reasoning_tokens"),
        cache_read_tokens: cached,
        cache_write_tokens: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_path_and_the_full_path_decode_alike() {
        crate::codec::assert_paths_agree::<ResponsesDecoder>(&[
            r#"{"type":"response.created","response":{"id":"r1","model":"gpt"}}"#,
            r#"{"type":"response.output_text.delta","output_index":0,"delta":"plain"}"#,
            r#"{"type":"response.output_text.delta","output_index":0,"delta":"esc \"q\" \\n \u00e9 ✓"}"#,
            r#"{"type":"response.output_text.delta","output_index":0}"#,
            r#"{"type":"response.output_text.delta","output_index":0,"delta":null}"#,
            r#"{"type":"response.output_text.delta","output_index":0,"delta":3}"#,
            r#"{"type":"response.output_text.delta","output_index":"1","delta":"str index"}"#,
            r#"{"type":"response.function_call_arguments.delta","output_index":1,"delta":"{\"a\""}"#,
            r#"{"type":"response.reasoning_summary_text.delta","output_index":2,"delta":"think"}"#,
            r#"{"type":"response.reasoning_text.delta","output_index":2,"delta":"more"}"#,
            r#"{"type":"response.completed","response":{"usage":{"input_tokens":3,"output_tokens":4}}}"#,
            r#"{"type":"response.failed","response":{"error":{"code":"server_error","message":"boom"}}}"#,
            r#"[1,2]"#,
        ]);
    }
    use crate::model::{ToolCall, ToolResult};

    #[test]
    fn calls_and_results_become_items() {
        let request = Request {
            model: "gpt-5.4".into(),
            system: "sys".into(),
            messages: vec![
                Message::user("go"),
                Message {
                    role: Role::Assistant,
                    parts: vec![
                        Part::Text("writing".into()),
                        Part::ToolCall(ToolCall {
                            id: "call_1".into(),
                            name: "write".into(),
                            arguments: json!({"path": "a"}),
                            signature: String::new(),
                        }),
                    ],
                },
                Message {
                    role: Role::Tool,
                    parts: vec![Part::ToolResult(ToolResult {
                        call_id: "call_1".into(),
                        name: "write".into(),
                        content: "ok".into(),
                        is_error: false,
                    })],
                },
            ],
            response_format: ResponseFormat::JsonObject,
            ..Request::default()
        };
        let body = OpenAiResponses.body(&request);
        assert_eq!(body["instructions"], "sys");
        let input = body["input"].as_array().expect("input");
        assert_eq!(input[0]["content"][0]["type"], "input_text");
        assert_eq!(input[1]["content"][0]["type"], "output_text");
        assert_eq!(input[2]["type"], "function_call");
        assert_eq!(input[2]["arguments"], r#"{"path":"a"}"#);
        assert_eq!(input[3]["type"], "function_call_output");
        assert_eq!(body["text"]["format"]["type"], "json_object");
    }

    #[test]
    fn failed_responses_are_errors() {
        let mut decoder = OpenAiResponses.decoder();
        let event = SseEvent {
            event: "response.failed".into(),
            data: r#"{"type":"response.failed","response":{"error":{"code":"insufficient_quota","message":"You exceeded your current quota"}}}"#.into(),
        };
        let err = decoder.decode(&event, &mut Vec::new()).expect_err("failed");
        assert!(err.is_billing());
    }
}
