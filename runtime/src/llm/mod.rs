//! The LLM layer's unified request and response, the [`Completer`] trait every
//! provider implements, and the built-in offline provider `stub`.
//!
//! Agent sessions speak only these types; provider adapters translate them to and
//! from each provider's wire format.

pub mod stub;

use std::collections::HashMap;
use std::sync::Arc;

use crate::handler::BoxFuture;

/// Who said something in a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The user (the pipeline's prompt, tool results).
    User,
    /// The model.
    Assistant,
}

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// Who said it.
    pub role: Role,
    /// Its text.
    pub text: String,
}

impl Message {
    /// A user message.
    pub fn user(text: impl Into<String>) -> Message {
        Message {
            role: Role::User,
            text: text.into(),
        }
    }

    /// An assistant message.
    pub fn assistant(text: impl Into<String>) -> Message {
        Message {
            role: Role::Assistant,
            text: text.into(),
        }
    }
}

/// A completion request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Request {
    /// Provider name (`anthropic`, `openai`, `gemini`, `stub`, …).
    pub provider: String,
    /// Model name.
    pub model: String,
    /// The system prompt.
    pub system: String,
    /// The conversation so far.
    pub messages: Vec<Message>,
    /// `low`, `medium` or `high`, when set.
    pub reasoning_effort: String,
    /// `json_object` and friends, when set.
    pub response_format: String,
}

/// Token counts of one completion.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Completion tokens.
    pub output_tokens: u64,
    /// As reported (usually input + output).
    pub total_tokens: u64,
    /// Reasoning tokens.
    pub reasoning_tokens: u64,
    /// Prompt tokens read from the provider's cache.
    pub cache_read_tokens: u64,
    /// Prompt tokens written to the provider's cache.
    pub cache_write_tokens: u64,
}

/// A completion.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Response {
    /// The provider's response id.
    pub id: String,
    /// The model that answered.
    pub model: String,
    /// The provider that answered.
    pub provider: String,
    /// The text.
    pub text: String,
    /// Why generation stopped (`stop`, `length`, `tool_use`, …).
    pub finish_reason: String,
    /// Token counts.
    pub usage: Usage,
}

/// Why a completion failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CompletionError {
    /// The account's credit or quota is exhausted: the run pauses.
    #[error("{0}")]
    Billing(String),
    /// Misconfiguration that retrying cannot fix (bad key, unknown model).
    #[error("{0}")]
    Fatal(String),
    /// Anything else; the node may be retried.
    #[error("{0}")]
    Other(String),
}

impl CompletionError {
    /// Classifies an untyped error message the way the reference does: a message
    /// mentioning exhausted credit or quota is a billing error.
    pub fn classify(message: impl Into<String>) -> CompletionError {
        let message = message.into();
        let lower = message.to_lowercase();
        const BILLING: [&str; 6] = [
            "credit balance",
            "too low to access",
            "insufficient_quota",
            "insufficient quota",
            "quota exceeded",
            "exceeded your current quota",
        ];
        if BILLING.iter().any(|needle| lower.contains(needle)) {
            CompletionError::Billing(message)
        } else {
            CompletionError::Other(message)
        }
    }
}

/// Something that answers completion requests: a provider client, or a stub.
pub trait Completer: Send + Sync {
    /// Completes `request`.
    fn complete(&self, request: Request) -> BoxFuture<Result<Response, CompletionError>>;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn billing_messages_are_recognised() {
        assert!(matches!(
            CompletionError::classify("stub: credit balance too low to access the API"),
            CompletionError::Billing(_)
        ));
        assert!(matches!(
            CompletionError::classify("You exceeded your current quota"),
            CompletionError::Billing(_)
        ));
        assert!(matches!(
            CompletionError::classify("connection reset"),
            CompletionError::Other(_)
        ));
    }
}
