//! Stream events — what every adapter's decoder turns its provider's SSE into —
//! and the [`Accumulator`] that builds the final [`Response`] from them.
//!
//! Each content segment (a text block, a reasoning block, a tool call) has an
//! `index` that correlates its events; segments appear in the response in the
//! order their first event arrived.

use std::collections::BTreeMap;

use serde_json::Value;

use super::error::{ErrorKind, ProviderError};
use super::model::{FinishReason, Message, Part, Response, Role, ToolCall, Usage};

/// One decoded event of a streamed completion.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamEvent {
    /// The response began.
    Start {
        /// The provider's response id.
        id: String,
        /// The model answering.
        model: String,
    },
    /// More text for segment `index`.
    TextDelta {
        /// The segment.
        index: usize,
        /// The text.
        text: String,
    },
    /// More reasoning text for segment `index`.
    ReasoningDelta {
        /// The segment.
        index: usize,
        /// The text.
        text: String,
    },
    /// The signature of segment `index`: a reasoning block's, or a tool
    /// call's (Gemini); sent back verbatim.
    Signature {
        /// The segment.
        index: usize,
        /// The signature.
        signature: String,
    },
    /// A redacted reasoning block (opaque data, sent back verbatim).
    RedactedReasoning {
        /// The segment.
        index: usize,
        /// The data.
        data: String,
    },
    /// A tool call begins.
    ToolCallStart {
        /// The segment.
        index: usize,
        /// The call's id.
        id: String,
        /// The tool's name.
        name: String,
    },
    /// More of a tool call's JSON arguments.
    ToolCallDelta {
        /// The segment.
        index: usize,
        /// A fragment of the arguments' JSON text.
        arguments: String,
    },
    /// The usage so far (each event carries the whole running count).
    Usage(Usage),
    /// Generation stopped.
    Finish(FinishReason),
}

/// One segment being assembled.
#[derive(Debug)]
enum Segment {
    Text(String),
    Reasoning {
        text: String,
        signature: String,
        redacted: bool,
    },
    Call {
        id: String,
        name: String,
        arguments: String,
        signature: String,
    },
}

/// Builds a [`Response`] from stream events.
#[derive(Debug, Default)]
pub struct Accumulator {
    id: String,
    model: String,
    segments: BTreeMap<usize, (usize, Segment)>,
    arrivals: usize,
    usage: Usage,
    finish: Option<FinishReason>,
    /// Whether any content (not just a start) has arrived: after that, a failure
    /// must not be retried by re-sending the request.
    content: bool,
}

impl Accumulator {
    /// An empty accumulator.
    pub fn new() -> Accumulator {
        Accumulator::default()
    }

    /// Whether content has arrived.
    pub fn has_content(&self) -> bool {
        self.content
    }

    fn segment(&mut self, index: usize, make: impl FnOnce() -> Segment) -> &mut Segment {
        let arrivals = &mut self.arrivals;
        &mut self
            .segments
            .entry(index)
            .or_insert_with(|| {
                *arrivals += 1;
                (*arrivals, make())
            })
            .1
    }

    /// Takes one event.
    pub fn push(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::Start { id, model } => {
                if !id.is_empty() {
                    self.id.clone_from(id);
                }
                if !model.is_empty() {
                    self.model.clone_from(model);
                }
            }
            StreamEvent::TextDelta { index, text } => {
                self.content = true;
                if let Segment::Text(t) = self.segment(*index, || Segment::Text(String::new())) {
                    t.push_str(text);
                }
            }
            StreamEvent::ReasoningDelta { index, text } => {
                self.content = true;
                if let Segment::Reasoning { text: t, .. } = self.segment(*index, reasoning) {
                    t.push_str(text);
                }
            }
            StreamEvent::Signature { index, signature } => match self.segment(*index, reasoning) {
                Segment::Reasoning { signature: s, .. } | Segment::Call { signature: s, .. } => {
                    s.push_str(signature)
                }
                Segment::Text(_) => {}
            },
            StreamEvent::RedactedReasoning { index, data } => {
                self.content = true;
                if let Segment::Reasoning { text, redacted, .. } = self.segment(*index, reasoning) {
                    text.push_str(data);
                    *redacted = true;
                }
            }
            StreamEvent::ToolCallStart { index, id, name } => {
                self.content = true;
                let segment = self.segment(*index, new_call);
                // A repeated start may leave out what the first one said.
                if let Segment::Call { id: i, name: n, .. } = segment {
                    if !id.is_empty() {
                        i.clone_from(id);
                    }
                    if !name.is_empty() {
                        n.clone_from(name);
                    }
                }
            }
            StreamEvent::ToolCallDelta { index, arguments } => {
                self.content = true;
                let segment = self.segment(*index, new_call);
                if let Segment::Call { arguments: a, .. } = segment {
                    a.push_str(arguments);
                }
            }
            StreamEvent::Usage(usage) => self.usage = *usage,
            StreamEvent::Finish(reason) => self.finish = Some(reason.clone()),
        }
    }

    /// The response, for `provider`. A stream that ended without saying why
    /// it stopped is an error: an answer cut off mid-way must never pass for a
    /// complete one.
    pub fn finish(self, provider: &str) -> Result<Response, ProviderError> {
        let Some(mut finish) = self.finish else {
            return Err(ProviderError::new(
                ErrorKind::Stream,
                provider,
                "the stream ended before the response was complete",
            ));
        };
        let mut ordered: Vec<(usize, Segment)> = self.segments.into_values().collect();
        ordered.sort_by_key(|(arrival, _)| *arrival);
        let mut parts = Vec::new();
        for (_, segment) in ordered {
            parts.push(match segment {
                Segment::Text(text) => {
                    if text.is_empty() {
                        continue;
                    }
                    Part::Text(text)
                }
                Segment::Reasoning {
                    text,
                    signature,
                    redacted,
                } => Part::Thinking {
                    text,
                    signature,
                    redacted,
                },
                Segment::Call {
                    id,
                    name,
                    arguments,
                    signature,
                } => Part::ToolCall(ToolCall {
                    id,
                    name,
                    arguments: parse_arguments(&arguments),
                    signature,
                }),
            });
        }
        let has_calls = parts.iter().any(|p| matches!(p, Part::ToolCall(_)));
        if has_calls && finish == FinishReason::Stop {
            finish = FinishReason::ToolCalls;
        }
        let mut usage = self.usage;
        if usage.total_tokens == 0 {
            usage.total_tokens = usage.input_tokens + usage.output_tokens;
        }
        Ok(Response {
            id: self.id,
            model: self.model,
            provider: provider.to_string(),
            message: Message {
                role: Role::Assistant,
                parts,
            },
            finish_reason: finish,
            usage,
        })
    }
}

fn new_call() -> Segment {
    Segment::Call {
        id: String::new(),
        name: String::new(),
        arguments: String::new(),
        signature: String::new(),
    }
}

fn reasoning() -> Segment {
    Segment::Reasoning {
        text: String::new(),
        signature: String::new(),
        redacted: false,
    }
}

/// A tool call's arguments: the JSON the model wrote, `{}` when it wrote none,
/// or the raw text as a string when it is not JSON (the tool then reports the
/// problem to the model).
fn parse_arguments(text: &str) -> Value {
    if text.trim().is_empty() {
        return Value::Object(Default::default());
    }
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_assemble_in_arrival_order() {
        let mut acc = Accumulator::new();
        for e in [
            StreamEvent::Start {
                id: "r1".into(),
                model: "m".into(),
            },
            StreamEvent::ReasoningDelta {
                index: 0,
                text: "think".into(),
            },
            StreamEvent::Signature {
                index: 0,
                signature: "sig".into(),
            },
            StreamEvent::TextDelta {
                index: 1,
                text: "Hel".into(),
            },
            StreamEvent::ToolCallStart {
                index: 2,
                id: "c1".into(),
                name: "write".into(),
            },
            StreamEvent::TextDelta {
                index: 1,
                text: "lo".into(),
            },
            StreamEvent::ToolCallDelta {
                index: 2,
                arguments: "{\"path\":".into(),
            },
            StreamEvent::ToolCallDelta {
                index: 2,
                arguments: "\"a\"}".into(),
            },
            StreamEvent::Usage(Usage {
                input_tokens: 10,
                output_tokens: 5,
                ..Usage::default()
            }),
            StreamEvent::Finish(FinishReason::Stop),
        ] {
            acc.push(&e);
        }
        let r = acc.finish("anthropic").expect("complete");
        assert_eq!(r.id, "r1");
        assert_eq!(r.text(), "Hello");
        assert_eq!(r.finish_reason, FinishReason::ToolCalls);
        assert_eq!(r.usage.total_tokens, 15);
        assert!(
            matches!(&r.message.parts[0], Part::Thinking { signature, .. } if signature == "sig")
        );
        let calls = r.tool_calls();
        assert_eq!(calls[0].arguments, serde_json::json!({"path": "a"}));
    }

    #[test]
    fn a_stream_without_an_end_is_an_error() {
        let mut acc = Accumulator::new();
        acc.push(&StreamEvent::TextDelta {
            index: 0,
            text: "partial".into(),
        });
        assert!(acc.has_content());
        let err = acc.finish("openai").expect_err("truncated");
        assert_eq!(err.kind, ErrorKind::Stream);
    }
}
