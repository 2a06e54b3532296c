//! What a provider's wire format is, as data: where a request goes, which
//! headers it carries, its JSON body, and how the SSE answer decodes into
//! [`StreamEvent`]s. The HTTP itself happens elsewhere (the provider actors);
//! everything here is pure and tested without a socket.
//!
//! The wire formats implement [`Codec`] in their own files; [`super::codecs`]
//! chooses one by provider name.

use serde_json::Value;

use super::error::ProviderError;
use super::model::{Message, Part, Request, Role};
use super::sse::SseEvent;
use super::stream::StreamEvent;

/// One provider's wire format.
pub trait Codec: Send + Sync + std::fmt::Debug {
    /// The provider's name (`anthropic`, `openai`, `gemini`, `openai-compat`).
    fn provider(&self) -> &'static str;

    /// The streaming endpoint for `request`, under `base_url` (no trailing
    /// slash).
    fn url(&self, base_url: &str, request: &Request) -> String;

    /// The request headers, the API key's among them. `content-type` and
    /// `accept` are the transport's.
    fn headers(&self, api_key: &str) -> Vec<(&'static str, String)>;

    /// The JSON body of a streaming request.
    fn body(&self, request: &Request) -> Value;

    /// A fresh decoder for one response stream.
    fn decoder(&self) -> Box<dyn Decoder>;
}

/// Where `codec` sends `request` under `base_url`: its endpoint under the
/// base URL's path, with the base URL's query (an `api-version`, a proxy's
/// `key`) kept as the query, after the endpoint's own parameters. Joined as
/// text, the endpoint's path would land inside the query.
pub fn endpoint(codec: &dyn Codec, base_url: &str, request: &Request) -> String {
    let (base, query) = match base_url.split_once('?') {
        Some((base, query)) => (base.trim_end_matches('/'), query),
        None => (base_url, ""),
    };
    let mut url = codec.url(base, request);
    if !query.is_empty() {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(query);
    }
    url
}

/// Turns one response's SSE events into stream events.
pub trait Decoder: Send {
    /// Decodes `event`, appending what it means to `out`: on the fast path
    /// if it takes the event, else on the full one. An error event (or a
    /// failed response) is returned as the error it reports.
    fn decode(
        &mut self,
        event: &SseEvent,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), ProviderError> {
        if self.decode_fast(event, out) {
            return Ok(());
        }
        self.decode_full(event, out)
    }

    /// Decodes one of the events a stream is mostly made of without building
    /// a JSON tree; whether it took `event` (the default takes none). It
    /// must mean what [`Decoder::decode_full`] would make of it.
    fn decode_fast(&mut self, _event: &SseEvent, _out: &mut Vec<StreamEvent>) -> bool {
        false
    }

    /// Decodes any event by reading it as a JSON tree.
    fn decode_full(
        &mut self,
        event: &SseEvent,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), ProviderError>;

    /// The body ended; emits whatever the format implies at its end.
    fn end(&mut self, _out: &mut Vec<StreamEvent>) {}
}

/// An SSE event's data read straight into `T` (strings borrowed from the
/// event where they need no unescaping), or `None` when it does not fit:
/// the decoders' fast paths for the events a stream is mostly made of, each
/// falling back to [`json_data`] for the rest.
pub(crate) fn typed_data<'a, T: serde::Deserialize<'a>>(event: &'a SseEvent) -> Option<T> {
    serde_json::from_str(&event.data).ok()
}

/// An SSE event's data as JSON, or `None` for data that does not parse:
/// unparseable events are skipped, as the reference does (a stream that never
/// completes because of them still fails, at its end).
pub(crate) fn json_data(event: &SseEvent) -> Option<Value> {
    serde_json::from_str(&event.data).ok()
}

/// The string at `pointer` in `value`, or "".
pub(crate) fn str_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The unsigned number at `pointer` in `value`, or 0.
pub(crate) fn u64_at(value: &Value, pointer: &str) -> u64 {
    value.pointer(pointer).and_then(Value::as_u64).unwrap_or(0)
}

/// The conversation as turns of two roles — the model's (`assistant_role`)
/// and everyone else's (`"user"`: prompts, tool results, steering) — with
/// neighbours of the same role merged and parts `convert` drops left out.
/// Anthropic and Gemini both require roles to alternate this way.
pub(crate) fn alternating_turns(
    conversation: &[Message],
    assistant_role: &'static str,
    convert: impl Fn(&Part) -> Option<Value>,
) -> Vec<(&'static str, Vec<Value>)> {
    let mut out: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for message in conversation {
        let role = match message.role {
            Role::Assistant => assistant_role,
            Role::User | Role::Tool | Role::System => "user",
        };
        let parts: Vec<Value> = message.parts.iter().filter_map(&convert).collect();
        if parts.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some((last, existing)) if *last == role => existing.extend(parts),
            _ => out.push((role, parts)),
        }
    }
    out
}

/// Feeds each of `datas` (one SSE event's data each) to a decoder (its
/// fast path first) and to another's full path, and checks that they agree on
/// every event: what it means, and whether it is an error.
#[cfg(test)]
pub(crate) fn assert_paths_agree<D: Decoder + Default>(datas: &[&str]) {
    let mut fast = D::default();
    let mut slow = D::default();
    for data in datas {
        let event = SseEvent {
            event: String::new(),
            data: (*data).to_string(),
        };
        let (mut by_fast, mut by_full) = (Vec::new(), Vec::new());
        let fast_result = fast.decode(&event, &mut by_fast);
        let full_result = slow.decode_full(&event, &mut by_full);
        assert_eq!(by_fast, by_full, "{data}");
        assert_eq!(
            format!("{fast_result:?}"),
            format!("{full_result:?}"),
            "{data}"
        );
    }
}
