//! The built-in offline provider, `stub`: deterministic completions with no
//! network and no API key, for trying pipelines out, for tests, and for the
//! conformance harness (whose fixtures pick a stub by file name).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use super::{
    Completer, ErrorKind, FinishReason, Message, NoticeSink, ProviderError, Request, Response,
    TextSink, Usage,
};
use tracker_stdx::future::BoxFuture;

/// The text the conformance harness's default stub answers with.
pub const GOLDEN_TEXT: &str = "golden-trace deterministic response";

/// The structured questions the conformance harness's interview stub answers with.
pub const INTERVIEW_QUESTIONS: &str = r#"{"questions":[{"text":"Which storage backend?","context":"two candidates found","options":["postgres","sqlite"]},{"text":"Proceed with the plan?","options":["yes","no"]}]}"#;

/// The error the conformance harness's billing stub fails with.
pub const BILLING_ERROR: &str = "stub: credit balance too low to access the API";

/// The stub's model name.
pub const STUB_MODEL: &str = "stub-model";

/// The stub's provider name.
pub const STUB_PROVIDER: &str = "stub";

/// What a [`StubCompleter`] does on every call.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Behaviour {
    /// Answer with this text and 100/50/150 tokens.
    Text(String),
    /// Answer with nothing and no tokens (an "empty API response").
    Empty,
    /// Fail with this message.
    Fail(String),
}

/// A completer that always does the same thing.
#[derive(Clone, Debug)]
pub struct StubCompleter {
    behaviour: Behaviour,
}

impl StubCompleter {
    /// The offline provider users run pipelines with: a fixed reply that ends
    /// with `STATUS: success`, so `auto_status` nodes succeed.
    pub fn offline() -> StubCompleter {
        StubCompleter {
            behaviour: Behaviour::Text(
                "This is the offline stub provider: no model was called.\n\nSTATUS: success".into(),
            ),
        }
    }

    /// Answers with `text`.
    pub fn text(text: impl Into<String>) -> StubCompleter {
        StubCompleter {
            behaviour: Behaviour::Text(text.into()),
        }
    }

    /// The conformance harness's default stub.
    pub fn golden() -> StubCompleter {
        StubCompleter::text(GOLDEN_TEXT)
    }

    /// Answers with an empty response every time.
    pub fn empty() -> StubCompleter {
        StubCompleter {
            behaviour: Behaviour::Empty,
        }
    }

    /// Fails with a credit-exhaustion error every time.
    pub fn billing() -> StubCompleter {
        StubCompleter {
            behaviour: Behaviour::Fail(BILLING_ERROR.into()),
        }
    }

    /// Answers with the interview fixture's questions.
    pub fn interview() -> StubCompleter {
        StubCompleter::text(INTERVIEW_QUESTIONS)
    }

    /// The conformance harness's stub for a fixture file named `base_name`: the
    /// first of `retry` (empty), `billing`, `interview` its name contains, else
    /// the default.
    pub fn for_fixture(base_name: &str) -> StubCompleter {
        if base_name.contains("retry") {
            StubCompleter::empty()
        } else if base_name.contains("billing") {
            StubCompleter::billing()
        } else if base_name.contains("interview") {
            StubCompleter::interview()
        } else {
            StubCompleter::golden()
        }
    }
}

/// The stub's answer with `text` and its fixed usage.
pub fn text_response(text: &str) -> Response {
    Response {
        id: "stub-response".into(),
        model: STUB_MODEL.into(),
        provider: STUB_PROVIDER.into(),
        message: Message::assistant(text),
        finish_reason: FinishReason::Stop,
        usage: Usage {
            input_tokens: 100,
            output_tokens: 50,
            total_tokens: 150,
            ..Usage::default()
        },
    }
}

/// The stub's empty answer.
pub fn empty_response() -> Response {
    Response {
        model: STUB_MODEL.into(),
        provider: STUB_PROVIDER.into(),
        finish_reason: FinishReason::Stop,
        ..Response::default()
    }
}

/// Models of the stub that misbehave on purpose, to try retry and
/// supervision policies offline: `chaos-panic` panics inside the agent's
/// node, `chaos-hang` never answers (the node's timeout ends it),
/// `chaos-fail` fails every call.
pub const CHAOS_MODELS: [&str; 3] = ["chaos-panic", "chaos-hang", "chaos-fail"];

impl Completer for StubCompleter {
    /// The stub's answer; its text handed to `text` in one piece.
    fn complete_noticed(
        &self,
        request: Arc<Request>,
        text: Option<TextSink>,
        _notices: Option<NoticeSink>,
    ) -> BoxFuture<Result<Response, ProviderError>> {
        match request.model.as_str() {
            "chaos-panic" => {
                return Box::pin(async {
                    panic!("stub model chaos-panic: a deliberate panic in the agent's node")
                })
            }
            "chaos-hang" => return Box::pin(std::future::pending()),
            "chaos-fail" => {
                return Box::pin(async {
                    Err(ProviderError::new(
                        ErrorKind::InvalidRequest,
                        STUB_PROVIDER,
                        "stub model chaos-fail: every call fails",
                    ))
                })
            }
            _ => {}
        }
        let result = match &self.behaviour {
            Behaviour::Text(said) => Ok(text_response(said)),
            Behaviour::Empty => Ok(empty_response()),
            Behaviour::Fail(message) => Err(ProviderError::from_stream(STUB_PROVIDER, "", message)),
        };
        if let (Some(text), Ok(response)) = (&text, &result) {
            let said = response.text();
            if !said.is_empty() {
                text(&said);
            }
        }
        Box::pin(async move { result })
    }
}

/// A completer that plays back a script, one entry per call, then repeats its
/// last entry: flaky providers and multi-turn sessions in tests.
#[derive(Debug)]
pub struct ScriptedCompleter {
    script: Mutex<VecDeque<Result<Response, ProviderError>>>,
    requests: Mutex<Vec<Arc<Request>>>,
}

impl ScriptedCompleter {
    /// A completer that answers with `script` in order.
    pub fn new(
        script: impl IntoIterator<Item = Result<Response, ProviderError>>,
    ) -> ScriptedCompleter {
        ScriptedCompleter {
            script: Mutex::new(script.into_iter().collect()),
            requests: Mutex::new(Vec::new()),
        }
    }

    /// Every request received so far, as it was when it was sent.
    pub fn requests(&self) -> Vec<Request> {
        self.requests
            .lock()
            .map(|r| r.iter().map(|request| Request::clone(request)).collect())
            .unwrap_or_default()
    }
}

impl Completer for ScriptedCompleter {
    fn complete_noticed(
        &self,
        request: Arc<Request>,
        _text: Option<TextSink>,
        _notices: Option<NoticeSink>,
    ) -> BoxFuture<Result<Response, ProviderError>> {
        if let Ok(mut requests) = self.requests.lock() {
            requests.push(request);
        }
        let result = match self.script.lock() {
            Ok(mut script) => {
                if script.len() > 1 {
                    script.pop_front()
                } else {
                    script.front().cloned()
                }
            }
            Err(_) => None,
        }
        .unwrap_or_else(|| {
            Err(ProviderError::new(
                ErrorKind::Configuration,
                STUB_PROVIDER,
                "script is empty",
            ))
        });
        Box::pin(async move { result })
    }
}
