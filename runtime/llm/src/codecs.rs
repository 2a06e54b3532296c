//! The codec registry: which wire format each provider speaks. Kept apart from
//! [`super::codec`] (the trait) so that the wire formats, which use the
//! trait, are not imported by the module they import.

use super::anthropic::Anthropic;
use super::chat::ChatCompletions;
use super::codec::Codec;
use super::gemini::Gemini;
use super::openai::OpenAiResponses;

/// The codec for `provider`, or `None` for a provider with no wire format
/// (`stub`, unknown names).
pub fn for_provider(provider: &str) -> Option<Box<dyn Codec>> {
    Some(match provider {
        "anthropic" => Box::new(Anthropic),
        "openai" => Box::new(OpenAiResponses),
        "gemini" => Box::new(Gemini),
        "openai-compat" => Box::new(ChatCompletions),
        _ => return None,
    })
}
