//! `tracker-llm`: the LLM clients' pure part. One request / response / stream model ([`model`],
//! [`stream`]), the [`Completer`] trait every provider implements, error
//! classification ([`error`]), the SSE decoder ([`sse`]), URLs shown without
//! their credentials ([`redact`]), and the built-in offline provider `stub`.
//!
//! Agent sessions speak only these types; each provider's wire module
//! translates them to and from its own format.
//!
//! **Owns:** the wire formats of Anthropic Messages, OpenAI Responses, Gemini
//! and Chat Completions, their SSE decoding, error classification, retry
//! timing, and provider settings from the environment. **Must not depend on**
//! anything else of tracker but `tracker-stdx`, and never opens a socket:
//! HTTP is the provider actors' (`tracker-actors`), which drive a [`Codec`]
//! (see [`codec`]).

pub mod anthropic;
pub mod backoff;
pub mod chat;
pub mod codec;
pub mod codecs;
pub mod config;
pub mod error;
pub mod gemini;
pub mod model;
pub mod openai;
pub mod reader;
pub mod redact;
pub mod sse;
pub mod stream;
pub mod stub;

use std::collections::HashMap;
use std::sync::Arc;

use tracker_stdx::future::BoxFuture;

pub use error::{ErrorKind, ProviderError};
pub use model::{
    FinishReason, Message, Part, Request, Response, ResponseFormat, Role, ToolCall, ToolChoice,
    ToolResult, ToolSpec, Usage,
};

/// Where a streamed answer's text goes, piece by piece, as it arrives (for
/// people watching: the whole answer is in the [`Response`] anyway).
pub type TextSink = Arc<dyn Fn(&str) + Send + Sync>;

/// Where a call says why it waits, as it starts waiting: a retry after an
/// error, a provider's rate-limit pause, a spending ceiling (one line each).
pub type NoticeSink = Arc<dyn Fn(&str) + Send + Sync>;

/// Something that answers completion requests: a provider client, or a stub.
pub trait Completer: Send + Sync {
    /// Completes `request`: one model turn (which may ask for tool calls),
    /// handing the answer's text to `text`, when given, as it streams in (a
    /// completer that does not stream may hand it nothing), and saying on
    /// `notices` why the call waits whenever it starts waiting (a completer
    /// that never waits, such as the stubs, ignores them). The request is
    /// shared, not copied: a session keeps growing the same conversation
    /// between turns, and retries resend it as is.
    fn complete_noticed(
        &self,
        request: Arc<Request>,
        text: Option<TextSink>,
        notices: Option<NoticeSink>,
    ) -> BoxFuture<Result<Response, ProviderError>>;

    /// [`Completer::complete_noticed`], nobody told why it waits.
    fn complete_with(
        &self,
        request: Arc<Request>,
        text: Option<TextSink>,
    ) -> BoxFuture<Result<Response, ProviderError>> {
        self.complete_noticed(request, text, None)
    }

    /// [`Completer::complete_with`], nobody watching the text.
    fn complete(&self, request: Arc<Request>) -> BoxFuture<Result<Response, ProviderError>> {
        self.complete_with(request, None)
    }
}

/// Completers by provider name.
#[derive(Clone, Default)]
pub struct Completers {
    by_provider: HashMap<String, Arc<dyn Completer>>,
    every_provider: Option<Arc<dyn Completer>>,
}

impl Completers {
    /// No completers.
    pub fn new() -> Completers {
        Completers::default()
    }

    /// Registers `completer` for `provider`.
    pub fn insert(&mut self, provider: impl Into<String>, completer: Arc<dyn Completer>) {
        self.by_provider.insert(provider.into(), completer);
    }

    /// Answers every provider with `completer` (the conformance harness, and
    /// `--provider stub`).
    pub fn answer_everything_with(&mut self, completer: Arc<dyn Completer>) {
        self.every_provider = Some(completer);
    }

    /// The completer for `provider`.
    pub fn get(&self, provider: &str) -> Option<Arc<dyn Completer>> {
        self.every_provider
            .clone()
            .or_else(|| self.by_provider.get(provider).cloned())
    }

    /// The same completers, each wrapped by `wrap` (a service's metering,
    /// for one).
    pub fn wrapped(&self, wrap: impl Fn(Arc<dyn Completer>) -> Arc<dyn Completer>) -> Completers {
        Completers {
            by_provider: self
                .by_provider
                .iter()
                .map(|(provider, completer)| (provider.clone(), wrap(Arc::clone(completer))))
                .collect(),
            every_provider: self.every_provider.clone().map(&wrap),
        }
    }

    /// Whether `provider` has a completer.
    pub fn has(&self, provider: &str) -> bool {
        self.every_provider.is_some() || self.by_provider.contains_key(provider)
    }
}

impl std::fmt::Debug for Completers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut providers: Vec<&String> = self.by_provider.keys().collect();
        providers.sort();
        f.debug_struct("Completers")
            .field("providers", &providers)
            .field("every_provider", &self.every_provider.is_some())
            .finish()
    }
}
