//! One HTTP attempt at a completion: build the request with the provider's
//! codec, send it, and read the SSE answer as it streams, under an idle
//! deadline. No retries here: the provider actor decides about those.

use std::time::Duration;

use tracker_runtime::llm::codec::{self, Codec};
use tracker_runtime::llm::config::ProviderSettings;
use tracker_runtime::llm::error::parse_retry_after;
use tracker_runtime::llm::reader::ResponseReader;
use tracker_runtime::llm::redact::{redact_url, url_secrets, HIDDEN};
use tracker_runtime::llm::{ErrorKind, ProviderError, Request, Response, TextSink};

/// How long a stream may go without a single byte before the call fails
/// (the reference's `DefaultStreamIdleTimeout`).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(600);

/// How long establishing a connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The shortest credential of a base URL scrubbed from error messages.
const MIN_SCRUBBED: usize = 6;

/// The largest error body read for classification.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// An HTTP client for one provider and base URL.
pub struct HttpTransport {
    client: reqwest::Client,
    codec: Box<dyn Codec>,
    settings: ProviderSettings,
    idle_timeout: Duration,
}

impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTransport")
            .field("provider", &self.settings.provider)
            .field("base_url", &redact_url(&self.settings.base_url))
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

impl HttpTransport {
    /// A transport for `settings`, speaking `codec`.
    pub fn new(
        codec: Box<dyn Codec>,
        settings: ProviderSettings,
        idle_timeout: Duration,
    ) -> Result<HttpTransport, ProviderError> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| {
                ProviderError::new(
                    ErrorKind::Configuration,
                    settings.provider,
                    format!("cannot build the HTTP client: {e}"),
                )
            })?;
        Ok(HttpTransport {
            client,
            codec,
            settings,
            idle_timeout,
        })
    }

    /// The provider's name.
    pub fn provider(&self) -> &'static str {
        self.settings.provider
    }

    /// Sends `request` once and reads the whole streamed answer. Error
    /// messages never carry the key, nor the credentials of the base URL
    /// (see [`redact_url`]), even if the provider echoes them.
    /// The answer's text goes to `text`, when given, as it is read.
    pub async fn attempt(
        &self,
        request: &Request,
        text: Option<TextSink>,
    ) -> Result<Response, ProviderError> {
        self.send(request, text).await.map_err(|mut error| {
            let key = self.settings.api_key.expose();
            let mut secrets = vec![(key, "[redacted]")];
            // Short values (a query's `sig=1`) would scrub ordinary words.
            secrets.extend(
                url_secrets(&self.settings.base_url)
                    .into_iter()
                    .filter(|s| s.len() >= MIN_SCRUBBED)
                    .map(|s| (s, HIDDEN)),
            );
            for (secret, shown) in secrets.into_iter().filter(|(s, _)| !s.is_empty()) {
                for text in [&mut error.message, &mut error.code] {
                    if text.contains(secret) {
                        *text = text.replace(secret, shown);
                    }
                }
            }
            error
        })
    }

    async fn send(
        &self,
        request: &Request,
        text: Option<TextSink>,
    ) -> Result<Response, ProviderError> {
        let provider = self.settings.provider;
        let url = codec::endpoint(self.codec.as_ref(), &self.settings.base_url, request);
        let headers = self.codec.headers(self.settings.api_key.expose());
        // A base URL's `user:password` becomes a `Basic` Authorization
        // header; beside the key's `Bearer` one, a server would see two.
        // The key wins.
        let target = match reqwest::Url::parse(&url) {
            Ok(mut parsed)
                if headers.iter().any(|(name, _)| *name == "authorization")
                    && (!parsed.username().is_empty() || parsed.password().is_some()) =>
            {
                let _ = parsed.set_username("");
                let _ = parsed.set_password(None);
                parsed.to_string()
            }
            _ => url.clone(),
        };
        let mut builder = self
            .client
            .post(&target)
            .header("content-type", "application/json")
            .header("accept", "text/event-stream");
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        let body = serde_json::to_vec(&self.codec.body(request))
            .map_err(|e| ProviderError::new(ErrorKind::InvalidRequest, provider, e.to_string()))?;
        let sent = tokio::time::timeout(self.idle_timeout, builder.body(body).send()).await;
        let mut response = match sent {
            Err(_) => return Err(idle(provider, self.idle_timeout, false)),
            Ok(Err(e)) => return Err(network(provider, &e)),
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        if !status.is_success() {
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            let body = self.error_body(&mut response).await;
            let mut error = ProviderError::from_http(provider, status.as_u16(), retry_after, &body);
            if error.kind == ErrorKind::NotFound {
                // A wrong base URL (a doubled `/v1`, a missing prefix) looks
                // the same as a wrong model: say where the request went.
                error.message = with_url(&error.message, &url);
            }
            return Err(error);
        }
        if let Some(kind) = not_a_stream(&response) {
            // A complete JSON answer (a server that ignores `stream`) or an
            // HTML page (a proxy's login or error page) would only read as a
            // stream cut short, and be sent again.
            let body = self.error_body(&mut response).await;
            let head = tracker_runtime::text::head(body.trim(), 200);
            return Err(ProviderError::new(
                ErrorKind::InvalidRequest,
                provider,
                with_url(
                    &format!("the server answered with {kind}, not an event stream: {head}"),
                    &url,
                ),
            ));
        }
        let mut reader = ResponseReader::new(self.codec.as_ref()).with_text_sink(text);
        loop {
            match tokio::time::timeout(self.idle_timeout, response.chunk()).await {
                Err(_) => return Err(idle(provider, self.idle_timeout, reader.has_content())),
                Ok(Err(e)) => {
                    let mut error = ProviderError::new(
                        ErrorKind::Stream,
                        provider,
                        format!("the stream broke off: {}", describe(&e)),
                    );
                    error.after_data = reader.has_content();
                    return Err(error);
                }
                Ok(Ok(None)) => return reader.finish(),
                Ok(Ok(Some(chunk))) => {
                    reader.push(&chunk)?;
                }
            }
        }
    }

    /// The start of an error response's body (for its message and code).
    async fn error_body(&self, response: &mut reqwest::Response) -> String {
        let mut body = Vec::new();
        while body.len() < MAX_ERROR_BODY {
            match tokio::time::timeout(self.idle_timeout, response.chunk()).await {
                Ok(Ok(Some(chunk))) => body.extend_from_slice(&chunk),
                _ => break,
            }
        }
        String::from_utf8_lossy(&body).into_owned()
    }
}

/// The content type of a successful answer that cannot be an event stream
/// (`application/json`, `text/html`); `None` for a stream, or an answer
/// that does not say (some servers send streams untyped).
fn not_a_stream(response: &reqwest::Response) -> Option<String> {
    let kind = response
        .headers()
        .get("content-type")?
        .to_str()
        .ok()?
        .split(';')
        .next()?
        .trim()
        .to_ascii_lowercase();
    matches!(kind.as_str(), "application/json" | "text/html").then_some(kind)
}

/// `message` with the request's URL (its secrets masked) after it.
fn with_url(message: &str, url: &str) -> String {
    let shown = redact_url(url);
    if message.is_empty() {
        format!("POST {shown}")
    } else {
        format!("{message} (POST {shown})")
    }
}

fn idle(provider: &str, after: Duration, after_data: bool) -> ProviderError {
    let mut error = ProviderError::new(
        ErrorKind::StreamIdle,
        provider,
        format!("no data for {}s", after.as_secs_f64()),
    );
    error.after_data = after_data;
    error
}

fn network(provider: &str, error: &reqwest::Error) -> ProviderError {
    ProviderError::new(ErrorKind::Network, provider, describe(error))
}

/// A reqwest error with its causes. Keys travel in headers, but a base URL
/// may carry credentials of its own (`?api_key=…`): the URL reqwest quotes is
/// shown redacted.
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    match error.url() {
        Some(url) if redact_url(url.as_str()) != url.as_str() => {
            text.replace(url.as_str(), &redact_url(url.as_str()))
        }
        _ => text,
    }
}
