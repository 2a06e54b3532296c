//! Reading one streamed response body: bytes → SSE events → stream events →
//! the final [`Response`]. The transport feeds chunks as they arrive, in
//! whatever sizes the network delivers them.

use super::codec::{Codec, Decoder};
use super::error::ProviderError;
use super::model::Response;
use super::sse::{SseEvent, SseParser};
use super::stream::{Accumulator, StreamEvent};
use super::TextSink;

/// One response being read.
pub struct ResponseReader {
    provider: &'static str,
    parser: SseParser,
    decoder: Box<dyn Decoder>,
    accumulator: Accumulator,
    /// Scratch space for one SSE event's stream events.
    events: Vec<StreamEvent>,
    sse_events: u64,
    /// Where the answer's text goes as it arrives.
    text: Option<TextSink>,
}

impl std::fmt::Debug for ResponseReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseReader")
            .field("provider", &self.provider)
            .field("sse_events", &self.sse_events)
            .finish_non_exhaustive()
    }
}

impl ResponseReader {
    /// A reader for a response in `codec`'s format.
    pub fn new(codec: &dyn Codec) -> ResponseReader {
        ResponseReader {
            provider: codec.provider(),
            parser: SseParser::new(),
            decoder: codec.decoder(),
            accumulator: Accumulator::new(),
            events: Vec::new(),
            sse_events: 0,
            text: None,
        }
    }

    /// Hands the answer's text to `text` as it is read.
    pub fn with_text_sink(mut self, text: Option<TextSink>) -> ResponseReader {
        self.text = text;
        self
    }

    /// Feeds the next chunk of the body; an error event in the stream is
    /// returned as its error.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), ProviderError> {
        // Each event is decoded as the parser completes it; the first error
        // stops the decoding (the rest of the chunk is not read).
        let mut parser = std::mem::take(&mut self.parser);
        let mut failed = None;
        parser.push_each(chunk, |event| {
            if failed.is_none() {
                failed = self.decode(event).err();
            }
        });
        self.parser = parser;
        failed.map_or(Ok(()), Err)
    }

    /// Decodes one SSE event into the response so far. An error it carries
    /// records whether part of the answer had already arrived.
    fn decode(&mut self, event: &SseEvent) -> Result<(), ProviderError> {
        self.sse_events += 1;
        self.events.clear();
        let decoded = self.decoder.decode(event, &mut self.events);
        for event in &self.events {
            self.accumulator.push(event);
            if let (Some(sink), StreamEvent::TextDelta { text, .. }) = (&self.text, event) {
                sink(text);
            }
        }
        decoded.map_err(|mut error| {
            error.after_data = self.accumulator.has_content();
            error
        })
    }

    /// Whether any part of the answer (text, reasoning, a tool call) has
    /// arrived: after that, a failed call is not sent again.
    pub fn has_content(&self) -> bool {
        self.accumulator.has_content()
    }

    /// How many SSE events have been read.
    pub fn sse_events(&self) -> u64 {
        self.sse_events
    }

    /// The body ended: the whole response, or an error if the stream stopped
    /// before the provider said it was complete.
    pub fn finish(mut self) -> Result<Response, ProviderError> {
        if let Some(event) = self.parser.finish() {
            self.decode(&event)?;
        }
        self.events.clear();
        self.decoder.end(&mut self.events);
        for event in &self.events {
            self.accumulator.push(event);
        }
        let after_data = self.accumulator.has_content();
        self.accumulator.finish(self.provider).map_err(|mut e| {
            e.after_data = after_data;
            e
        })
    }
}

/// Decodes a whole body at once (tests, benchmarks).
pub fn decode_body(codec: &dyn Codec, body: &[u8]) -> Result<Response, ProviderError> {
    let mut reader = ResponseReader::new(codec);
    reader.push(body)?;
    reader.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gemini::Gemini;
    use crate::ErrorKind;

    #[test]
    fn an_error_closing_the_body_after_text_is_not_retried() {
        // Gemini bodies end without a blank line: the error is the tail event.
        let body = concat!(
            r#"data: {"candidates":[{"content":{"parts":[{"text":"hi"}]}}]}"#,
            "\r\n\r\n",
            r#"data: {"error":{"status":"UNAVAILABLE","message":"down"}}"#
        );
        let error = decode_body(&Gemini, body.as_bytes()).expect_err("error event");
        assert_eq!(error.kind, ErrorKind::Server);
        assert!(error.after_data);
        assert!(!error.retryable());
    }
}
