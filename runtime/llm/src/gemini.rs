//! Google's Gemini API: `POST /v1beta/models/{model}:streamGenerateContent?alt=sse`
//! with `x-goog-api-key`. Each SSE event is a whole `GenerateContentResponse`
//! chunk; the model's role is `model`, the system prompt travels as
//! `systemInstruction`, and tool calls and results are `functionCall` /
//! `functionResponse` parts. Gemini gives calls no ids, so the decoder makes
//! them up (`call_0`, `call_1`, … within a response); results are matched by
//! name. A call's `thoughtSignature` is sent back with it.

use std::borrow::Cow;

use serde_json::{json, Map, Value};

use super::codec::{alternating_turns, json_data, str_at, typed_data, u64_at, Codec, Decoder};
use super::error::ProviderError;
use super::model::{FinishReason, Message, Part, Request, ResponseFormat, ToolChoice, Usage};
use super::sse::SseEvent;
use super::stream::StreamEvent;

/// Where the API lives unless configured otherwise.
pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";

/// The Gemini codec.
#[derive(Clone, Copy, Debug, Default)]
pub struct Gemini;

impl Codec for Gemini {
    fn provider(&self) -> &'static str {
        "gemini"
    }

    fn url(&self, base_url: &str, request: &Request) -> String {
        format!(
            "{base_url}/v1beta/models/{}:streamGenerateContent?alt=sse",
            request.model
        )
    }

    fn headers(&self, api_key: &str) -> Vec<(&'static str, String)> {
        vec![("x-goog-api-key", api_key.to_string())]
    }

    fn body(&self, request: &Request) -> Value {
        let mut body = Map::new();
        body.insert("contents".into(), Value::Array(contents(&request.messages)));
        if !request.system.is_empty() {
            body.insert(
                "systemInstruction".into(),
                json!({"parts": [{"text": request.system}]}),
            );
        }
        if !request.tools.is_empty() {
            let declarations: Vec<Value> = request
                .tools
                .iter()
                .map(|t| json!({"name": t.name, "description": t.description, "parameters": t.parameters}))
                .collect();
            body.insert(
                "tools".into(),
                json!([{"functionDeclarations": declarations}]),
            );
            let config = match &request.tool_choice {
                ToolChoice::Auto => json!({"mode": "AUTO"}),
                ToolChoice::None => json!({"mode": "NONE"}),
                ToolChoice::Required => json!({"mode": "ANY"}),
                ToolChoice::Named(name) => json!({"mode": "ANY", "allowedFunctionNames": [name]}),
            };
            body.insert(
                "toolConfig".into(),
                json!({"functionCallingConfig": config}),
            );
        }
        let mut generation = Map::new();
        if request.max_tokens > 0 {
            generation.insert("maxOutputTokens".into(), json!(request.max_tokens));
        }
        match &request.response_format {
            ResponseFormat::Text => {}
            ResponseFormat::JsonObject => {
                generation.insert("responseMimeType".into(), json!("application/json"));
            }
            ResponseFormat::JsonSchema(schema) => {
                generation.insert("responseMimeType".into(), json!("application/json"));
                generation.insert("responseJsonSchema".into(), schema.clone());
            }
        }
        // Only Gemini 3 models take a thinking level.
        if !request.reasoning_effort.is_empty() && request.model.contains("gemini-3") {
            generation.insert(
                "thinkingConfig".into(),
                json!({"thinkingLevel": request.reasoning_effort}),
            );
        }
        if !generation.is_empty() {
            body.insert("generationConfig".into(), Value::Object(generation));
        }
        Value::Object(body)
    }

    fn decoder(&self) -> Box<dyn Decoder> {
        Box::new(GeminiDecoder::default())
    }
}

/// The conversation as Gemini `contents`: roles `user` and `model`, with
/// neighbours of the same role merged.
fn contents(conversation: &[Message]) -> Vec<Value> {
    alternating_turns(conversation, "model", part)
        .into_iter()
        .map(|(role, parts)| json!({"role": role, "parts": parts}))
        .collect()
}

fn part(part: &Part) -> Option<Value> {
    Some(match part {
        Part::Text(text) if text.is_empty() => return None,
        Part::Text(text) => json!({"text": text}),
        Part::ToolCall(call) => {
            let mut value = json!({"functionCall": {"name": call.name, "args": call.arguments}});
            if !call.signature.is_empty() {
                value["thoughtSignature"] = json!(call.signature);
            }
            value
        }
        Part::ToolResult(result) => {
            let key = if result.is_error { "error" } else { "content" };
            json!({"functionResponse": {"name": result.name, "response": {key: result.content}}})
        }
        Part::Thinking { .. } => return None,
    })
}

/// Decodes one Gemini response stream.
#[derive(Debug, Default)]
struct GeminiDecoder {
    started: bool,
    next_index: usize,
    text_index: Option<usize>,
    thought_index: Option<usize>,
    calls: usize,
}

impl GeminiDecoder {
    fn allocate(&mut self) -> usize {
        self.next_index += 1;
        self.next_index - 1
    }
}

/// Whether a field was there at all (even as `null`).
#[derive(Default)]
struct Seen(bool);

impl<'de> serde::Deserialize<'de> for Seen {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Seen, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| Seen(true))
    }
}

/// A field's value, `null` included, when it was there.
#[derive(Default)]
struct Present(Option<Value>);

impl<'de> serde::Deserialize<'de> for Present {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Present, D::Error> {
        Value::deserialize(d).map(|v| Present(Some(v)))
    }
}

/// A chunk of answer text or thoughts (with usage and a finish reason, as
/// Gemini sends them), read without building a JSON tree for it; anything
/// else — an error, a function call, prompt feedback — goes down the full
/// path.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct TextChunk<'a> {
    #[serde(default)]
    error: Seen,
    #[serde(default)]
    prompt_feedback: Seen,
    #[serde(borrow, default)]
    candidates: Vec<Candidate<'a>>,
    #[serde(default)]
    usage_metadata: Present,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate<'a> {
    #[serde(borrow, default)]
    content: Option<Content<'a>>,
    #[serde(borrow, default)]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(serde::Deserialize)]
struct Content<'a> {
    #[serde(borrow, default)]
    parts: Option<Vec<TextPart<'a>>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct TextPart<'a> {
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(default)]
    thought: Option<bool>,
    #[serde(borrow, default)]
    thought_signature: Option<Cow<'a, str>>,
    #[serde(default)]
    function_call: Seen,
}

impl GeminiDecoder {
    /// Decodes a chunk of text or thoughts on the fast path; whether it was
    /// one.
    fn text_chunk(&mut self, event: &SseEvent, out: &mut Vec<StreamEvent>) -> bool {
        if !self.started {
            return false;
        }
        let Some(chunk) = typed_data::<TextChunk<'_>>(event) else {
            return false;
        };
        if chunk.error.0 || chunk.prompt_feedback.0 {
            return false;
        }
        let first = chunk.candidates.into_iter().next();
        let (parts, reason) = match first {
            Some(candidate) => (
                candidate.content.and_then(|c| c.parts).unwrap_or_default(),
                candidate.finish_reason,
            ),
            None => (Vec::new(), None),
        };
        if parts.iter().any(|p| p.function_call.0) {
            return false;
        }
        for part in parts {
            let Some(text) = part.text else {
                continue;
            };
            if part.thought == Some(true) {
                let index = slot(&mut self.next_index, &mut self.thought_index);
                out.push(StreamEvent::ReasoningDelta {
                    index,
                    text: text.into_owned(),
                });
                if let Some(signature) = part.thought_signature.filter(|s| !s.is_empty()) {
                    out.push(StreamEvent::Signature {
                        index,
                        signature: signature.into_owned(),
                    });
                }
            } else {
                let index = slot(&mut self.next_index, &mut self.text_index);
                out.push(StreamEvent::TextDelta {
                    index,
                    text: text.into_owned(),
                });
            }
        }
        if let Some(meta) = &chunk.usage_metadata.0 {
            out.push(StreamEvent::Usage(usage(meta)));
        }
        if let Some(reason) = reason.filter(|r| !r.is_empty()) {
            out.push(StreamEvent::Finish(finish_reason(&reason)));
        }
        true
    }
}

/// The segment index kept in `kept` (text, or thoughts), given out from
/// `next` the first time.
fn slot(next: &mut usize, kept: &mut Option<usize>) -> usize {
    *kept.get_or_insert_with(|| {
        *next += 1;
        *next - 1
    })
}

/// What `usageMetadata` says.
fn usage(meta: &Value) -> Usage {
    let prompt = u64_at(meta, "/promptTokenCount");
    let cached = u64_at(meta, "/cachedContentTokenCount");
    let thoughts = u64_at(meta, "/thoughtsTokenCount");
    let candidates = u64_at(meta, "/candidatesTokenCount");
    Usage {
        input_tokens: prompt.saturating_sub(cached),
        output_tokens: candidates + thoughts,
        total_tokens: u64_at(meta, "/totalTokenCount"),
        reasoning_tokens: thoughts,
        cache_read_tokens: cached,
        cache_write_tokens: 0,
    }
}

impl Decoder for GeminiDecoder {
    fn decode_fast(&mut self, event: &SseEvent, out: &mut Vec<StreamEvent>) -> bool {
        self.text_chunk(event, out)
    }

    fn decode_full(
        &mut self,
        event: &SseEvent,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), ProviderError> {
        let Some(data) = json_data(event) else {
            return Ok(());
        };
        if let Some(error) = data.get("error") {
            return Err(ProviderError::from_stream(
                "gemini",
                str_at(error, "/status"),
                str_at(error, "/message"),
            ));
        }
        if !self.started {
            self.started = true;
            out.push(StreamEvent::Start {
                id: str_at(&data, "/responseId").to_string(),
                model: str_at(&data, "/modelVersion").to_string(),
            });
        }
        let parts = data
            .pointer("/candidates/0/content/parts")
            .and_then(Value::as_array);
        for p in parts.into_iter().flatten() {
            let signature = str_at(p, "/thoughtSignature");
            if let Some(call) = p.get("functionCall") {
                let index = self.allocate();
                self.text_index = None;
                self.thought_index = None;
                let id = match str_at(call, "/id") {
                    "" => format!("call_{}", self.calls),
                    id => id.to_string(),
                };
                self.calls += 1;
                out.push(StreamEvent::ToolCallStart {
                    index,
                    id,
                    name: str_at(call, "/name").to_string(),
                });
                out.push(StreamEvent::ToolCallDelta {
                    index,
                    arguments: call.get("args").cloned().unwrap_or(json!({})).to_string(),
                });
                if !signature.is_empty() {
                    out.push(StreamEvent::Signature {
                        index,
                        signature: signature.to_string(),
                    });
                }
            } else if let Some(text) = p.get("text").and_then(Value::as_str) {
                if p.get("thought").and_then(Value::as_bool) == Some(true) {
                    let index = slot(&mut self.next_index, &mut self.thought_index);
                    out.push(StreamEvent::ReasoningDelta {
                        index,
                        text: text.to_string(),
                    });
                    if !signature.is_empty() {
                        out.push(StreamEvent::Signature {
                            index,
                            signature: signature.to_string(),
                        });
                    }
                } else {
                    let index = slot(&mut self.next_index, &mut self.text_index);
                    out.push(StreamEvent::TextDelta {
                        index,
                        text: text.to_string(),
                    });
                }
            }
        }
        if let Some(meta) = data.get("usageMetadata") {
            out.push(StreamEvent::Usage(usage(meta)));
        }
        let reason = str_at(&data, "/candidates/0/finishReason");
        if !reason.is_empty() {
            out.push(StreamEvent::Finish(finish_reason(reason)));
        } else if !str_at(&data, "/promptFeedback/blockReason").is_empty() {
            out.push(StreamEvent::Finish(FinishReason::ContentFilter));
        }
        Ok(())
    }
}

fn finish_reason(reason: &str) -> FinishReason {
    match reason {
        "STOP" => FinishReason::Stop,
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" => {
            FinishReason::ContentFilter
        }
        other => FinishReason::Other(other.to_lowercase()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_path_and_the_full_path_decode_alike() {
        crate::codec::assert_paths_agree::<GeminiDecoder>(&[
            r#"{"responseId":"g1","modelVersion":"gemini","candidates":[{"content":{"parts":[{"text":""}],"role":"model"}}]}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"plain"}],"role":"model"},"index":0}]}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"esc \"q\" \\n \u00e9 ✓"},{"text":"two"}]}}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":2,"totalTokenCount":7}}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"x","thoughtSignature":"s"}]}}]}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"t","thought":true,"thoughtSignature":"s"}]}}]}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"t","thought":"yes"}]}}]}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"more","thought":true},{"text":"then text"}]}}]}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"sig","thought":true,"thoughtSignature":""}]}}]}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"odd","thought":true,"thoughtSignature":9}]}}]}"#,
            r#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{"a":1}}}]}}]}"#,
            r#"{"candidates":[{"content":{"parts":[{"functionCall":null}]}}]}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":5}]}}]}"#,
            r#"{"candidates":[{"content":null}]}"#,
            r#"{"candidates":[{"content":{"parts":{"text":"not a list"}}}]}"#,
            r#"{"candidates":[]}"#,
            r#"{"usageMetadata":null}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"end"}]},"finishReason":"MAX_TOKENS"}]}"#,
            r#"{"candidates":[{"finishReason":""}],"promptFeedback":{"blockReason":"SAFETY"}}"#,
            r#"{"promptFeedback":null}"#,
            r#"{"error":{"status":"RESOURCE_EXHAUSTED","message":"quota"}}"#,
            r#"{"error":null}"#,
        ]);
    }
    use crate::model::{Role, ToolCall, ToolResult};

    #[test]
    fn a_base_urls_query_stays_the_query_after_the_endpoints_path() {
        let request = Request {
            model: "gemini-3-flash-preview".into(),
            ..Request::default()
        };
        assert_eq!(
            crate::codec::endpoint(&Gemini, "http://h/x/?key=k&v=2", &request),
            "http://h/x/v1beta/models/gemini-3-flash-preview:streamGenerateContent?alt=sse&key=k&v=2"
        );
        assert_eq!(
            crate::codec::endpoint(
                &crate::anthropic::Anthropic,
                "http://h/x?api-version=1",
                &request
            ),
            "http://h/x/v1/messages?api-version=1"
        );
        assert_eq!(
            crate::codec::endpoint(&crate::anthropic::Anthropic, "http://h", &request),
            "http://h/v1/messages"
        );
    }

    #[test]
    fn bodies_use_model_role_and_function_parts() {
        let request = Request {
            model: "gemini-3-flash-preview".into(),
            system: "sys".into(),
            messages: vec![
                Message::user("go"),
                Message {
                    role: Role::Assistant,
                    parts: vec![Part::ToolCall(ToolCall {
                        id: "call_0".into(),
                        name: "write".into(),
                        arguments: json!({"path": "a"}),
                        signature: "sig".into(),
                    })],
                },
                Message {
                    role: Role::Tool,
                    parts: vec![Part::ToolResult(ToolResult {
                        call_id: "call_0".into(),
                        name: "write".into(),
                        content: "ok".into(),
                        is_error: false,
                    })],
                },
            ],
            reasoning_effort: "low".into(),
            ..Request::default()
        };
        let body = Gemini.body(&request);
        assert_eq!(body["systemInstruction"]["parts"][0]["text"], "sys");
        assert_eq!(body["contents"][1]["role"], "model");
        assert_eq!(body["contents"][1]["parts"][0]["thoughtSignature"], "sig");
        assert_eq!(
            body["contents"][2]["parts"][0]["functionResponse"]["response"]["content"],
            "ok"
        );
        assert_eq!(
            body["generationConfig"]["thinkingConfig"]["thinkingLevel"],
            "low"
        );
        assert_eq!(
            Gemini.url("http://h", &request),
            "http://h/v1beta/models/gemini-3-flash-preview:streamGenerateContent?alt=sse"
        );
    }
}
