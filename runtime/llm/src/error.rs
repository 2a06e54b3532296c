//! Provider errors and how they are classified: what may be retried, what
//! pauses the run for billing, what ends it.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use tracker_stdx::wire_enum;

wire_enum! {
    names: as_str, from_wire_name;
    /// What went wrong with a provider call.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum ErrorKind {
        /// 401: the key is wrong.
        Authentication => "authentication",
        /// 403: the key may not do this.
        AccessDenied => "access_denied",
        /// 404: no such model or endpoint.
        NotFound => "not_found",
        /// 400/422: the request was malformed.
        InvalidRequest => "invalid_request",
        /// 413, or a message saying the prompt is too long.
        ContextLength => "context_length",
        /// 408: the provider gave up waiting for the request.
        RequestTimeout => "request_timeout",
        /// 429: slow down.
        RateLimit => "rate_limit",
        /// 5xx and 529: the provider is in trouble.
        Server => "server",
        /// Credit or quota exhausted: the run pauses until someone adds credit.
        Quota => "quota",
        /// A safety filter refused.
        ContentFilter => "content_filter",
        /// The connection failed or broke.
        Network => "network",
        /// The stream was malformed or cut short.
        Stream => "stream",
        /// The stream went silent past the idle deadline.
        StreamIdle => "stream_idle",
        /// Tracker itself is misconfigured (no key, unknown provider).
        Configuration => "configuration",
    }
}

impl ErrorKind {
    /// Whether a call failing this way may be sent again.
    pub fn retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimit
                | ErrorKind::Server
                | ErrorKind::RequestTimeout
                | ErrorKind::Network
                | ErrorKind::Stream
                | ErrorKind::StreamIdle
        )
    }
}

/// A failed provider call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// The provider.
    pub provider: String,
    /// The HTTP status, when there was one.
    pub status: Option<u16>,
    /// The provider's error code or type (`rate_limit_error`, `insufficient_quota`).
    pub code: String,
    /// The provider's message.
    pub message: String,
    /// How long the provider asked us to wait (`Retry-After`).
    pub retry_after: Option<Duration>,
    /// Part of the answer had already streamed in when the call failed: the
    /// call is not sent again, because the model may already have acted.
    pub after_data: bool,
}

impl fmt::Display for ProviderError {
    /// `anthropic: rate limited (429 rate_limit_error): Too many requests`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.provider, describe(self.kind))?;
        match (self.status, self.code.is_empty()) {
            (Some(status), false) => write!(f, " ({status} {})", self.code)?,
            (Some(status), true) => write!(f, " ({status})")?,
            (None, false) => write!(f, " ({})", self.code)?,
            (None, true) => {}
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ProviderError {}

fn describe(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Authentication => "authentication failed (check the API key)",
        ErrorKind::AccessDenied => "access denied",
        ErrorKind::NotFound => "not found (check the model name and the base URL)",
        ErrorKind::InvalidRequest => "invalid request",
        ErrorKind::ContextLength => "the prompt is too long for the model's context window",
        ErrorKind::RequestTimeout => "request timed out",
        ErrorKind::RateLimit => "rate limited",
        ErrorKind::Server => "server error",
        ErrorKind::Quota => "credit or quota exhausted",
        ErrorKind::ContentFilter => "refused by a content filter",
        ErrorKind::Network => "network error",
        ErrorKind::Stream => "stream error",
        ErrorKind::StreamIdle => "the stream went silent",
        ErrorKind::Configuration => "configuration error",
    }
}

/// Phrases that mean the account has run out of credit or quota.
const BILLING_PHRASES: [&str; 6] = [
    "credit balance",
    "too low to access",
    "insufficient_quota",
    "insufficient quota",
    "quota exceeded",
    "exceeded your current quota",
];

/// Whether `text` says the account is out of credit or quota.
pub fn mentions_billing(text: &str) -> bool {
    let lower = text.to_lowercase();
    BILLING_PHRASES.iter().any(|p| lower.contains(p))
}

impl ProviderError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, provider: &str, message: impl Into<String>) -> ProviderError {
        ProviderError {
            kind,
            provider: provider.to_string(),
            status: None,
            code: String::new(),
            message: message.into(),
            retry_after: None,
            after_data: false,
        }
    }

    /// Whether the call may be sent again: its kind is transient and no part
    /// of the answer had arrived.
    pub fn retryable(&self) -> bool {
        self.kind.retryable() && !self.after_data
    }

    /// Whether this error means the account is out of credit or quota (the
    /// run pauses as `paused_billing`). Classification already turned every
    /// billing message into [`ErrorKind::Quota`].
    pub fn is_billing(&self) -> bool {
        self.kind == ErrorKind::Quota
    }

    /// Classifies an HTTP error response: the status decides, refined by the
    /// body (`{"error": {"message", "type"|"code"|"status"}}` in all three
    /// providers' shapes) — a 402, a 429 whose code or message says
    /// `insufficient_quota` or "credit balance", or another status that speaks
    /// of exhausted credit is [`ErrorKind::Quota`]; any other 429 is a rate
    /// limit (Gemini's per-minute limits also say "quota exceeded"); a 400
    /// about the prompt's length is [`ErrorKind::ContextLength`].
    pub fn from_http(
        provider: &str,
        status: u16,
        retry_after: Option<Duration>,
        body: &str,
    ) -> ProviderError {
        let json: Option<Value> = serde_json::from_str(body).ok();
        let error = json.as_ref().map(|v| v.get("error").unwrap_or(v));
        let text_of = |key: &str| -> String {
            error
                .and_then(|e| e.get(key))
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => String::new(),
                })
                .unwrap_or_default()
        };
        let mut message = text_of("message");
        if message.is_empty() && json.is_none() {
            message = tracker_stdx::text::head(body.trim(), 500).to_string();
        }
        let code = [text_of("type"), text_of("status"), text_of("code")]
            .into_iter()
            .find(|c| !c.is_empty() && c.parse::<u16>().is_err())
            .unwrap_or_default();
        let lower = format!("{message} {code}").to_lowercase();
        let out_of_credit = if status == 429 {
            lower.contains("insufficient_quota") || lower.contains("credit balance")
        } else {
            mentions_billing(&lower)
        };
        let kind = if out_of_credit || status == 402 || code == "billing_error" {
            ErrorKind::Quota
        } else {
            match status {
                401 => ErrorKind::Authentication,
                403 => ErrorKind::AccessDenied,
                404 => ErrorKind::NotFound,
                408 => ErrorKind::RequestTimeout,
                413 => ErrorKind::ContextLength,
                429 => ErrorKind::RateLimit,
                500..=599 => ErrorKind::Server,
                // Gemini refuses a bad key with a 400 (`INVALID_ARGUMENT`,
                // reason `API_KEY_INVALID`), not a 401.
                400 if body.contains("API_KEY_INVALID") || lower.contains("api key not valid") => {
                    ErrorKind::Authentication
                }
                400 | 422 => match kind_of_message(&lower) {
                    Some(kind @ (ErrorKind::ContextLength | ErrorKind::ContentFilter)) => kind,
                    _ => ErrorKind::InvalidRequest,
                },
                // An unexpected status: the code or message may say more;
                // other client errors are not retried, anything else is.
                _ => kind_of_code(&code)
                    .or_else(|| kind_of_message(&lower))
                    .unwrap_or(if (400..500).contains(&status) {
                        ErrorKind::InvalidRequest
                    } else {
                        ErrorKind::Server
                    }),
            }
        };
        ProviderError {
            kind,
            provider: provider.to_string(),
            status: Some(status),
            code,
            message,
            retry_after,
            after_data: false,
        }
    }
}

impl ProviderError {
    /// An error the provider reported inside a 200 response's stream (an
    /// Anthropic `error` event, an OpenAI `response.failed`): classified by
    /// its code (`overloaded_error`, `rate_limit_error`, `insufficient_quota`,
    /// …) and message; unknown codes count as server errors, which are
    /// retried.
    pub fn from_stream(provider: &str, code: &str, message: &str) -> ProviderError {
        let lower = format!("{message} {code}").to_lowercase();
        let by_code = kind_of_code(code);
        // As for a 429: a rate limit is billing only when it says so plainly.
        let out_of_credit = if by_code == Some(ErrorKind::RateLimit) {
            lower.contains("insufficient_quota") || lower.contains("credit balance")
        } else {
            mentions_billing(&lower)
        };
        let kind = if out_of_credit || code == "billing_error" {
            ErrorKind::Quota
        } else {
            by_code.unwrap_or_else(|| kind_of_message(&lower).unwrap_or(ErrorKind::Server))
        };
        ProviderError {
            kind,
            code: code.to_string(),
            ..ProviderError::new(kind, provider, message)
        }
    }
}

/// The kind a provider's error code names (Anthropic and OpenAI error types,
/// Gemini's gRPC statuses).
fn kind_of_code(code: &str) -> Option<ErrorKind> {
    Some(match code {
        "authentication_error" | "invalid_api_key" | "UNAUTHENTICATED" => ErrorKind::Authentication,
        "permission_error" | "PERMISSION_DENIED" => ErrorKind::AccessDenied,
        "not_found_error" | "model_not_found" | "NOT_FOUND" => ErrorKind::NotFound,
        "invalid_request_error" | "INVALID_ARGUMENT" | "FAILED_PRECONDITION" => {
            ErrorKind::InvalidRequest
        }
        "context_length_exceeded" | "request_too_large" => ErrorKind::ContextLength,
        "rate_limit_error" | "rate_limit_exceeded" | "RESOURCE_EXHAUSTED" => ErrorKind::RateLimit,
        "overloaded_error" | "api_error" | "server_error" | "UNAVAILABLE" | "INTERNAL" => {
            ErrorKind::Server
        }
        "DEADLINE_EXCEEDED" => ErrorKind::RequestTimeout,
        _ => return None,
    })
}

/// The kind an error message implies when the status says little.
fn kind_of_message(lower: &str) -> Option<ErrorKind> {
    let has = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));
    if has(&[
        "context length",
        "too many tokens",
        "prompt is too long",
        "context_length",
        "maximum context",
    ]) {
        Some(ErrorKind::ContextLength)
    } else if has(&["content filter", "safety"]) {
        Some(ErrorKind::ContentFilter)
    } else if has(&["not found", "does not exist"]) {
        Some(ErrorKind::NotFound)
    } else if has(&["unauthorized", "invalid key", "invalid api key"]) {
        Some(ErrorKind::Authentication)
    } else {
        None
    }
}

/// A `Retry-After` header value: whole seconds (an HTTP date is not honoured).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    value
        .parse::<u64>()
        .map(Duration::from_secs)
        .ok()
        .or_else(|| {
            value
                .parse::<f64>()
                .ok()
                .and_then(|s| Duration::try_from_secs_f64(s).ok())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(status: u16, body: &str) -> ErrorKind {
        ProviderError::from_http("p", status, None, body).kind
    }

    #[test]
    fn statuses_map_to_kinds() {
        assert_eq!(kind(400, "{}"), ErrorKind::InvalidRequest);
        assert_eq!(kind(401, "{}"), ErrorKind::Authentication);
        assert_eq!(kind(403, "{}"), ErrorKind::AccessDenied);
        assert_eq!(kind(404, "{}"), ErrorKind::NotFound);
        assert_eq!(kind(408, "{}"), ErrorKind::RequestTimeout);
        assert_eq!(kind(413, "{}"), ErrorKind::ContextLength);
        assert_eq!(kind(429, "{}"), ErrorKind::RateLimit);
        assert_eq!(kind(500, "oops"), ErrorKind::Server);
        assert_eq!(
            kind(
                529,
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
            ),
            ErrorKind::Server
        );
    }

    #[test]
    fn bodies_refine_the_status() {
        assert_eq!(
            kind(
                400,
                r#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}"#
            ),
            ErrorKind::Authentication,
            "Gemini's bad key"
        );
        assert_eq!(
            kind(
                429,
                r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota"}}"#
            ),
            ErrorKind::Quota
        );
        assert_eq!(
            kind(
                400,
                r#"{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API."}}"#
            ),
            ErrorKind::Quota
        );
        assert_eq!(
            kind(
                429,
                r#"{"error":{"code":429,"message":"Quota exceeded for metric: generate_content_requests_per_minute","status":"RESOURCE_EXHAUSTED"}}"#
            ),
            ErrorKind::RateLimit,
            "a per-minute quota is a rate limit"
        );
        assert_eq!(
            kind(402, r#"{"error":{"message":"Insufficient credits"}}"#),
            ErrorKind::Quota
        );
        assert_eq!(kind(418, "teapot"), ErrorKind::InvalidRequest);
        assert_eq!(
            kind(
                400,
                r#"{"error":{"message":"prompt is too long: 250000 tokens > 200000 maximum"}}"#
            ),
            ErrorKind::ContextLength
        );
        let e = ProviderError::from_http(
            "gemini",
            429,
            Some(Duration::from_secs(7)),
            r#"{"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED"}}"#,
        );
        assert_eq!(e.kind, ErrorKind::RateLimit);
        assert_eq!(e.code, "RESOURCE_EXHAUSTED");
        assert!(e.retryable());
        assert_eq!(
            e.to_string(),
            "gemini: rate limited (429 RESOURCE_EXHAUSTED): Resource has been exhausted"
        );
    }

    #[test]
    fn retry_after_reads_seconds() {
        assert_eq!(parse_retry_after("12"), Some(Duration::from_secs(12)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("1e30"), None, "too long, and no panic");
        assert_eq!(parse_retry_after("-3"), None);
    }
}
