//! Streamed response bodies in each provider's documented SSE format, built
//! from a small description of one model turn. Text and tool arguments are
//! split across several deltas, as real providers send them.

use serde_json::{json, Value};

/// One tool call the model makes.
#[derive(Clone, Debug)]
pub struct Call {
    /// The call id (Gemini sends none; it is left out there).
    pub id: String,
    /// The tool.
    pub name: String,
    /// Its arguments.
    pub arguments: Value,
}

impl Call {
    /// A call of `name` with `arguments`.
    pub fn new(id: &str, name: &str, arguments: Value) -> Call {
        Call {
            id: id.into(),
            name: name.into(),
            arguments,
        }
    }
}

/// One model turn.
#[derive(Clone, Debug, Default)]
pub struct Turn {
    /// Text before any calls.
    pub text: String,
    /// Tool calls, in order.
    pub calls: Vec<Call>,
    /// Reported usage.
    pub usage: TurnUsage,
}

/// Usage a turn reports (`input` excludes cache traffic).
#[derive(Clone, Copy, Debug, Default)]
pub struct TurnUsage {
    /// Uncached prompt tokens.
    pub input: u64,
    /// Output tokens (reasoning included).
    pub output: u64,
    /// Prompt tokens read from the cache.
    pub cache_read: u64,
    /// Prompt tokens written to the cache (Anthropic).
    pub cache_write: u64,
    /// Reasoning tokens.
    pub reasoning: u64,
}

impl Turn {
    /// A turn that only says `text`.
    pub fn text(text: &str, usage: TurnUsage) -> Turn {
        Turn {
            text: text.into(),
            calls: Vec::new(),
            usage,
        }
    }

    /// A turn that makes `calls`, after `text`.
    pub fn calls(text: &str, calls: Vec<Call>, usage: TurnUsage) -> Turn {
        Turn {
            text: text.into(),
            calls,
            usage,
        }
    }
}

/// `turn` as `provider` streams it.
///
/// # Panics
/// For an unknown provider (tests only).
pub fn body(provider: &str, turn: &Turn) -> String {
    body_in_pieces(provider, turn, 2)
}

/// `turn` as `provider` streams it, its text in `pieces` deltas (at least
/// one).
///
/// # Panics
/// For an unknown provider (tests only).
pub fn body_in_pieces(provider: &str, turn: &Turn, pieces: usize) -> String {
    let text = split(&turn.text, pieces);
    match provider {
        "anthropic" => anthropic(turn, &text),
        "openai" => openai(turn, &text),
        "gemini" => gemini(turn, &text),
        "openai-compat" => chat(turn, &text),
        other => panic!("no SSE format for {other}"),
    }
}

/// Splits `text` into `n` pieces on character boundaries (so deltas arrive
/// in pieces).
fn split(text: &str, n: usize) -> Vec<&str> {
    let n = n.max(1);
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    let chars = bounds.len() - 1;
    (0..n)
        .map(|k| &text[bounds[k * chars / n]..bounds[(k + 1) * chars / n]])
        .collect()
}

/// Splits `text` in two on a character boundary.
fn halves(text: &str) -> Vec<&str> {
    split(text, 2)
}

fn event(out: &mut String, name: &str, data: &Value) {
    out.push_str(&format!("event: {name}\ndata: {data}\n\n"));
}

fn anthropic(turn: &Turn, text: &[&str]) -> String {
    let u = turn.usage;
    let mut out = String::new();
    event(
        &mut out,
        "message_start",
        &json!({"type": "message_start", "message": {
            "id": "msg_mock", "type": "message", "role": "assistant", "model": "claude-sonnet-4-6",
            "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": u.input, "cache_creation_input_tokens": u.cache_write,
                      "cache_read_input_tokens": u.cache_read, "output_tokens": 1}}}),
    );
    out.push_str("event: ping\ndata: {\"type\": \"ping\"}\n\n");
    let mut index = 0;
    if !turn.text.is_empty() {
        event(
            &mut out,
            "content_block_start",
            &json!({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}),
        );
        for piece in text {
            event(
                &mut out,
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}}),
            );
        }
        event(
            &mut out,
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": index}),
        );
        index += 1;
    }
    for call in &turn.calls {
        event(
            &mut out,
            "content_block_start",
            &json!({"type": "content_block_start", "index": index, "content_block": {
                "type": "tool_use", "id": call.id, "name": call.name, "input": {}}}),
        );
        let args = call.arguments.to_string();
        for piece in halves(&args) {
            event(
                &mut out,
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": piece}}),
            );
        }
        event(
            &mut out,
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": index}),
        );
        index += 1;
    }
    let stop = if turn.calls.is_empty() {
        "end_turn"
    } else {
        "tool_use"
    };
    event(
        &mut out,
        "message_delta",
        &json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null},
                "usage": {"output_tokens": u.output}}),
    );
    event(&mut out, "message_stop", &json!({"type": "message_stop"}));
    out
}

fn openai(turn: &Turn, text: &[&str]) -> String {
    let u = turn.usage;
    let mut out = String::new();
    let mut seq = 0;
    let mut emit = |out: &mut String, mut data: Value| {
        data["sequence_number"] = json!(seq);
        seq += 1;
        let name = data["type"].as_str().unwrap_or("").to_string();
        event(out, &name, &data);
    };
    emit(
        &mut out,
        json!({"type": "response.created", "response": {"id": "resp_mock", "object": "response",
               "status": "in_progress", "model": "gpt-5.4", "output": []}}),
    );
    let mut index = 0;
    if !turn.text.is_empty() {
        emit(
            &mut out,
            json!({"type": "response.output_item.added", "output_index": index,
                   "item": {"id": "msg_mock", "type": "message", "status": "in_progress", "role": "assistant", "content": []}}),
        );
        emit(
            &mut out,
            json!({"type": "response.content_part.added", "item_id": "msg_mock", "output_index": index,
                   "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}}),
        );
        for piece in text {
            emit(
                &mut out,
                json!({"type": "response.output_text.delta", "item_id": "msg_mock", "output_index": index,
                       "content_index": 0, "delta": piece}),
            );
        }
        emit(
            &mut out,
            json!({"type": "response.output_text.done", "item_id": "msg_mock", "output_index": index,
                   "content_index": 0, "text": turn.text}),
        );
        emit(
            &mut out,
            json!({"type": "response.output_item.done", "output_index": index,
                   "item": {"id": "msg_mock", "type": "message", "status": "completed", "role": "assistant",
                            "content": [{"type": "output_text", "text": turn.text, "annotations": []}]}}),
        );
        index += 1;
    }
    for call in &turn.calls {
        let item_id = format!("fc_{index}");
        emit(
            &mut out,
            json!({"type": "response.output_item.added", "output_index": index,
                   "item": {"id": item_id, "type": "function_call", "status": "in_progress",
                            "arguments": "", "call_id": call.id, "name": call.name}}),
        );
        let args = call.arguments.to_string();
        for piece in halves(&args) {
            emit(
                &mut out,
                json!({"type": "response.function_call_arguments.delta", "item_id": item_id,
                       "output_index": index, "delta": piece}),
            );
        }
        emit(
            &mut out,
            json!({"type": "response.function_call_arguments.done", "item_id": item_id,
                   "output_index": index, "arguments": args}),
        );
        emit(
            &mut out,
            json!({"type": "response.output_item.done", "output_index": index,
                   "item": {"id": item_id, "type": "function_call", "status": "completed",
                            "arguments": args, "call_id": call.id, "name": call.name}}),
        );
        index += 1;
    }
    emit(
        &mut out,
        json!({"type": "response.completed", "response": {"id": "resp_mock", "object": "response",
               "status": "completed", "model": "gpt-5.4", "output": [],
               "usage": {"input_tokens": u.input + u.cache_read,
                         "input_tokens_details": {"cached_tokens": u.cache_read},
                         "output_tokens": u.output,
                         "output_tokens_details": {"reasoning_tokens": u.reasoning},
                         "total_tokens": u.input + u.cache_read + u.output}}}),
    );
    out
}

fn gemini(turn: &Turn, text: &[&str]) -> String {
    let u = turn.usage;
    let mut out = String::new();
    let chunk = |out: &mut String, parts: Value, last: bool| {
        let mut data = json!({
            "candidates": [{"content": {"parts": parts, "role": "model"}, "index": 0}],
            "modelVersion": "gemini-2.5-flash",
            "responseId": "mock-response",
        });
        if last {
            data["candidates"][0]["finishReason"] = json!("STOP");
            data["usageMetadata"] = json!({
                "promptTokenCount": u.input + u.cache_read,
                "cachedContentTokenCount": u.cache_read,
                "candidatesTokenCount": u.output - u.reasoning,
                "thoughtsTokenCount": u.reasoning,
                "totalTokenCount": u.input + u.cache_read + u.output,
            });
        }
        // Gemini separates events with CRLF pairs.
        out.push_str(&format!("data: {data}\r\n\r\n"));
    };
    let (last, leading) = text.split_last().unwrap_or((&"", &[]));
    for piece in leading {
        if !piece.is_empty() {
            chunk(&mut out, json!([{"text": piece}]), false);
        }
    }
    let mut parts = Vec::new();
    if !last.is_empty() {
        parts.push(json!({"text": last}));
    }
    for call in &turn.calls {
        parts.push(json!({"functionCall": {"name": call.name, "args": call.arguments}}));
    }
    chunk(&mut out, Value::Array(parts), true);
    out
}

fn chat(turn: &Turn, text: &[&str]) -> String {
    let u = turn.usage;
    let mut out = String::new();
    let chunk = |out: &mut String, delta: Value, finish: Value| {
        let data = json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 1,
                          "model": "mock-model", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
        out.push_str(&format!("data: {data}\n\n"));
    };
    chunk(
        &mut out,
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    );
    for piece in text {
        if !piece.is_empty() {
            chunk(&mut out, json!({"content": piece}), Value::Null);
        }
    }
    for (i, call) in turn.calls.iter().enumerate() {
        chunk(
            &mut out,
            json!({"tool_calls": [{"index": i, "id": call.id, "type": "function",
                                   "function": {"name": call.name, "arguments": ""}}]}),
            Value::Null,
        );
        let args = call.arguments.to_string();
        for piece in halves(&args) {
            chunk(
                &mut out,
                json!({"tool_calls": [{"index": i, "function": {"arguments": piece}}]}),
                Value::Null,
            );
        }
    }
    let finish = if turn.calls.is_empty() {
        "stop"
    } else {
        "tool_calls"
    };
    chunk(&mut out, json!({}), json!(finish));
    let usage = json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 1,
                       "model": "mock-model", "choices": [],
                       "usage": {"prompt_tokens": u.input + u.cache_read, "completion_tokens": u.output,
                                 "total_tokens": u.input + u.cache_read + u.output,
                                 "prompt_tokens_details": {"cached_tokens": u.cache_read},
                                 "completion_tokens_details": {"reasoning_tokens": u.reasoning}}});
    out.push_str(&format!("data: {usage}\n\ndata: [DONE]\n\n"));
    out
}

/// The two turns of a model that runs one `bash` command and then answers
/// `done`, as `provider`'s SSE bodies (no usage).
pub fn bash_then_done(provider: &str, command: &str) -> [String; 2] {
    [
        body(
            provider,
            &Turn::calls(
                "",
                vec![Call::new(
                    "call_bash",
                    "bash",
                    serde_json::json!({ "command": command }),
                )],
                TurnUsage::default(),
            ),
        ),
        body(provider, &Turn::text("done", TurnUsage::default())),
    ]
}
