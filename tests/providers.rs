//! The LLM client against a real local HTTP server speaking each provider's
//! wire format: stream decoding at every byte boundary, the error matrix
//! (classification, retried or not, clear messages), and rate limits shared
//! across callers.

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use serde_json::json;
use tracker_actors::provider::{ProviderOptions, ProviderPool};
use tracker_runtime::llm::backoff::RetryPolicy;
use tracker_runtime::llm::codecs;
use tracker_runtime::llm::config::{ApiKey, ProviderSettings};
use tracker_runtime::llm::reader::{decode_body, ResponseReader};
use tracker_runtime::llm::{ErrorKind, Message, ProviderError, Request, Response};
use tracker_tests::mock_provider::{MockProvider, Reply, StreamEnd};
use tracker_tests::sse_bodies::{body, Call, Turn, TurnUsage};

const PROVIDERS: [&str; 4] = ["anthropic", "openai", "gemini", "openai-compat"];
const KEY: &str = "sk-test-0123456789-SECRET";

fn usage() -> TurnUsage {
    TurnUsage {
        input: 120,
        output: 40,
        cache_read: 30,
        cache_write: 0,
        reasoning: 0,
    }
}

fn turns() -> Vec<Turn> {
    vec![
        Turn::text("Héllo — wörld ✓ done.\nSTATUS: success", usage()),
        Turn::calls(
            "Writing the file…",
            vec![
                Call::new(
                    "call_a",
                    "write",
                    json!({"path": "hello.txt", "content": "hi ✓\n"}),
                ),
                Call::new("call_b", "read", json!({"path": "hello.txt"})),
            ],
            usage(),
        ),
    ]
}

fn decode_in_pieces(provider: &str, pieces: &[&[u8]]) -> Result<Response, ProviderError> {
    let codec = codecs::for_provider(provider).expect("codec");
    let mut reader = ResponseReader::new(codec.as_ref());
    for piece in pieces {
        reader.push(piece)?;
    }
    reader.finish()
}

#[test]
fn decoded_streams_carry_text_calls_and_usage() {
    for provider in PROVIDERS {
        let codec = codecs::for_provider(provider).expect("codec");
        let [text, calls] = <[Turn; 2]>::try_from(turns()).expect("two turns");
        let r = decode_body(codec.as_ref(), body(provider, &text).as_bytes()).expect(provider);
        assert_eq!(r.text(), text.text, "{provider}");
        assert!(r.tool_calls().is_empty(), "{provider}");
        assert_eq!(r.usage.input_tokens, 120, "{provider}");
        assert_eq!(r.usage.output_tokens, 40, "{provider}");
        let r = decode_body(codec.as_ref(), body(provider, &calls).as_bytes()).expect(provider);
        assert_eq!(r.text(), calls.text, "{provider}");
        let got: Vec<(String, serde_json::Value)> = r
            .tool_calls()
            .iter()
            .map(|c| (c.name.clone(), c.arguments.clone()))
            .collect();
        let want: Vec<(String, serde_json::Value)> = calls
            .calls
            .iter()
            .map(|c| (c.name.clone(), c.arguments.clone()))
            .collect();
        assert_eq!(got, want, "{provider}");
        assert_eq!(r.finish_reason.as_str(), "tool_calls", "{provider}");
        if provider != "anthropic" {
            assert_eq!(
                r.usage.cache_read_tokens, 30,
                "{provider}: cached input is split out"
            );
        }
    }
}

#[test]
fn a_stream_split_at_every_byte_boundary_decodes_the_same() {
    for provider in PROVIDERS {
        for turn in turns() {
            let bytes = body(provider, &turn).into_bytes();
            let whole = decode_in_pieces(provider, &[&bytes]).expect("whole");
            for i in 0..=bytes.len() {
                let split = decode_in_pieces(provider, &[&bytes[..i], &bytes[i..]])
                    .unwrap_or_else(|e| panic!("{provider}: split at {i}: {e}"));
                assert_eq!(split, whole, "{provider}: split at {i}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any chunking at all (including one-byte chunks and empty ones).
    #[test]
    fn any_chunking_decodes_the_same(
        provider in prop::sample::select(PROVIDERS.to_vec()),
        which in 0usize..2,
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..40),
    ) {
        let turn = turns().swap_remove(which);
        let bytes = body(provider, &turn).into_bytes();
        let whole = decode_in_pieces(provider, &[&bytes]).expect("whole");
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut pieces: Vec<&[u8]> = Vec::new();
        let mut last = 0;
        for p in points {
            pieces.push(&bytes[last..p]);
            last = p;
        }
        pieces.push(&bytes[last..]);
        prop_assert_eq!(decode_in_pieces(provider, &pieces).expect("pieces"), whole);
    }
}

/// Runs `f` inside an actor system, with a pool whose retries are quick.
fn with_pool<T>(options: ProviderOptions, f: impl AsyncFnOnce(Arc<ProviderPool>) -> T) -> T {
    actix_rt::System::new().block_on(async move { f(ProviderPool::new(options)).await })
}

fn quick_options() -> ProviderOptions {
    ProviderOptions {
        concurrency: 4,
        retry: RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            max_retry_after: Duration::from_secs(2),
        },
        idle_timeout: Duration::from_millis(500),
    }
}

fn settings(provider: &'static str, mock: &MockProvider) -> ProviderSettings {
    ProviderSettings {
        provider,
        api_key: ApiKey::new(KEY),
        key_var: "TEST_API_KEY",
        base_url: mock.url(),
    }
}

fn request(provider: &str) -> Arc<Request> {
    Arc::new(Request {
        provider: provider.into(),
        model: "model-x".into(),
        messages: vec![Message::user("hi")],
        ..Request::default()
    })
}

fn ok_reply(provider: &str) -> Reply {
    Reply::sse(body(provider, &Turn::text("recovered", usage())))
}

/// One row of the error matrix.
struct Case {
    name: &'static str,
    first: Reply,
    kind: ErrorKind,
    retried: bool,
    billing: bool,
}

fn case(name: &'static str, first: Reply, kind: ErrorKind, retried: bool) -> Case {
    Case {
        name,
        first,
        kind,
        retried,
        billing: false,
    }
}

fn error_json(message: &str, kind: &str) -> String {
    json!({"type": "error", "error": {"type": kind, "message": message}}).to_string()
}

fn matrix(provider: &str) -> Vec<Case> {
    let text = body(
        provider,
        &Turn::text("partial answer that breaks off", usage()),
    );
    // Just past the first event that carries text.
    let first_text = text.find("partial").expect("text in the body");
    let cut = [
        text[first_text..].find("\n\n"),
        text[first_text..].find("\r\n\r\n"),
    ]
    .into_iter()
    .flatten()
    .min()
    .map_or(text.len(), |i| first_text + i + 4)
    .min(text.len());
    let head = |n: usize| text.as_bytes()[..n].to_vec();
    // Just the opening event: no content yet.
    let opening = text
        .find("\n\n")
        .or_else(|| text.find("\r\n\r\n"))
        .map_or(0, |i| i + 2);
    vec![
        case("400", Reply::status(400, error_json("bad field", "invalid_request_error")), ErrorKind::InvalidRequest, false),
        case("401", Reply::status(401, error_json("invalid x-api-key", "authentication_error")), ErrorKind::Authentication, false),
        case("403", Reply::status(403, error_json("forbidden", "permission_error")), ErrorKind::AccessDenied, false),
        case("404", Reply::status(404, error_json("model: model-x", "not_found_error")), ErrorKind::NotFound, false),
        case("408", Reply::status(408, "request timeout"), ErrorKind::RequestTimeout, true),
        case("413", Reply::status(413, error_json("request too large", "request_too_large")), ErrorKind::ContextLength, false),
        case("429", Reply::status(429, error_json("slow down", "rate_limit_error")), ErrorKind::RateLimit, true),
        case(
            "429 with Retry-After",
            Reply::status(429, error_json("slow down", "rate_limit_error")).with_header("retry-after", "1"),
            ErrorKind::RateLimit,
            true,
        ),
        case("500", Reply::status(500, error_json("internal", "api_error")), ErrorKind::Server, true),
        case("502", Reply::status(502, "<html>bad gateway</html>"), ErrorKind::Server, true),
        case("503", Reply::status(503, "unavailable"), ErrorKind::Server, true),
        case("529", Reply::status(529, error_json("Overloaded", "overloaded_error")), ErrorKind::Server, true),
        Case {
            billing: true,
            ..case(
                "429 insufficient_quota",
                Reply::status(429, json!({"error": {"message": "You exceeded your current quota", "type": "insufficient_quota"}}).to_string()),
                ErrorKind::Quota,
                false,
            )
        },
        Case {
            billing: true,
            ..case(
                "400 credit balance",
                Reply::status(400, error_json("Your credit balance is too low to access the API.", "invalid_request_error")),
                ErrorKind::Quota,
                false,
            )
        },
        case(
            "200 with a whole JSON answer",
            Reply::status(200, json!({"choices": [{"message": {"content": "hi"}}]}).to_string()),
            ErrorKind::InvalidRequest,
            false,
        ),
        case(
            "200 with an HTML page",
            Reply::status(200, "<html>sign in</html>").with_header("content-type", "text/html; charset=utf-8"),
            ErrorKind::InvalidRequest,
            false,
        ),
        case(
            "malformed SSE",
            Reply::sse("data: {not json\n\ndata: \u{0}\u{1}garbage\n\nevent: x\n\n"),
            ErrorKind::Stream,
            true,
        ),
        case(
            "reset before any content",
            Reply::Stream { chunks: vec![head(opening)], end: StreamEnd::Reset },
            ErrorKind::Stream,
            true,
        ),
        case(
            "reset mid-stream",
            Reply::Stream { chunks: vec![head(cut)], end: StreamEnd::Reset },
            ErrorKind::Stream,
            false,
        ),
        case(
            "idle stream",
            Reply::Stream { chunks: vec![head(cut)], end: StreamEnd::Stall },
            ErrorKind::StreamIdle,
            false,
        ),
        case(
            "idle before any content",
            Reply::Stream { chunks: vec![head(opening)], end: StreamEnd::Stall },
            ErrorKind::StreamIdle,
            true,
        ),
    ]
}

#[test]
fn the_error_matrix_is_classified_and_retried_as_the_reference() {
    for provider in PROVIDERS {
        for case in matrix(provider) {
            let what = format!("{provider}: {}", case.name);
            let mock = MockProvider::start([case.first, ok_reply(provider)]);
            let result = with_pool(quick_options(), async |pool| {
                pool.completer(settings(provider, &mock))
                    .complete(request(provider))
                    .await
            });
            let hits = mock.requests().len();
            if case.retried {
                let response = result.unwrap_or_else(|e| panic!("{what}: not recovered: {e}"));
                assert_eq!(response.text(), "recovered", "{what}");
                assert_eq!(hits, 2, "{what}: retried once");
            } else {
                let error = result.expect_err(&what);
                assert_eq!(error.kind, case.kind, "{what}: {error}");
                assert_eq!(error.is_billing(), case.billing, "{what}");
                assert_eq!(hits, 1, "{what}: never retried");
                let message = error.to_string();
                assert!(message.starts_with(provider), "{what}: {message}");
                assert!(!message.contains(KEY), "{what}: the key leaked: {message}");
            }
        }
    }
}

#[test]
fn answers_that_point_at_a_wrong_url_say_where_the_request_went() {
    for (reply, said) in [
        (
            Reply::status(404, error_json("not found", "not_found_error")),
            "check the model name and the base URL",
        ),
        (
            Reply::status(200, "<html>a proxy</html>").with_header("content-type", "text/html"),
            "the server answered with text/html, not an event stream: <html>a proxy</html>",
        ),
    ] {
        let mock = MockProvider::start([reply]);
        let error = with_pool(quick_options(), async |pool| {
            pool.completer(settings("anthropic", &mock))
                .complete(request("anthropic"))
                .await
        })
        .expect_err("refused");
        let message = error.to_string();
        assert!(message.contains(said), "{message}");
        let url = format!("(POST {}/v1/messages)", mock.url());
        assert!(message.ends_with(&url), "{message}");
    }
}

#[test]
fn retryable_errors_give_up_after_the_retry_budget_with_the_last_error() {
    let mock = MockProvider::start((0..5).map(|_| Reply::status(503, "unavailable")));
    let error = with_pool(quick_options(), async |pool| {
        pool.completer(settings("anthropic", &mock))
            .complete(request("anthropic"))
            .await
    })
    .expect_err("503 forever");
    assert_eq!(error.kind, ErrorKind::Server);
    assert_eq!(error.status, Some(503));
    assert_eq!(mock.requests().len(), 3, "one attempt and two retries");
    assert_eq!(
        error.to_string(),
        "anthropic: server error (503): unavailable"
    );
}

#[test]
fn a_rate_limit_seen_by_one_caller_holds_back_the_others() {
    let provider = "openai";
    let mock = MockProvider::start([
        Reply::status(429, error_json("slow down", "rate_limit_error"))
            .with_header("retry-after", "1"),
        ok_reply(provider),
        ok_reply(provider),
    ]);
    let options = ProviderOptions {
        concurrency: 1,
        ..quick_options()
    };
    let (a, b, held_back) = with_pool(options, async |pool| {
        let first = pool.completer(settings(provider, &mock));
        let second = pool.completer(settings(provider, &mock));
        let (a, b) = futures_util::future::join(
            first.complete(request(provider)),
            second.complete(request(provider)),
        )
        .await;
        let stats = pool.stats(provider, &mock.url()).expect("actor started");
        (
            a,
            b,
            stats.held_back.load(std::sync::atomic::Ordering::Relaxed),
        )
    });
    assert_eq!(a.expect("first recovers").text(), "recovered");
    assert_eq!(b.expect("second succeeds").text(), "recovered");
    assert!(held_back >= 1, "the second caller waited out the 429");
    assert_eq!(mock.requests().len(), 3);
}

#[test]
fn a_base_urls_credentials_never_add_a_second_authorization() {
    let mock = MockProvider::start([ok_reply("openai")]);
    let mut with_user = settings("openai", &mock);
    with_user.base_url = mock.url().replace("http://", "http://user:hunter2@");
    with_pool(quick_options(), async |pool| {
        pool.completer(with_user).complete(request("openai")).await
    })
    .expect("answered");
    let got = &mock.requests()[0];
    assert_eq!(
        got.headers.get("authorization"),
        Some(&format!("Bearer {KEY}")),
        "one Authorization, the key's"
    );
}

#[test]
fn requests_carry_each_providers_auth_headers_and_endpoint() {
    for provider in PROVIDERS {
        let mock = MockProvider::start([ok_reply(provider)]);
        with_pool(quick_options(), async |pool| {
            pool.completer(settings(provider, &mock))
                .complete(request(provider))
                .await
        })
        .expect(provider);
        let got = &mock.requests()[0];
        let (path, header, value) = match provider {
            "anthropic" => ("/v1/messages", "x-api-key", KEY.to_string()),
            "openai" => ("/v1/responses", "authorization", format!("Bearer {KEY}")),
            "gemini" => (
                "/v1beta/models/model-x:streamGenerateContent",
                "x-goog-api-key",
                KEY.to_string(),
            ),
            _ => (
                "/v1/chat/completions",
                "authorization",
                format!("Bearer {KEY}"),
            ),
        };
        assert_eq!(got.path, path, "{provider}");
        assert_eq!(got.headers.get(header), Some(&value), "{provider}");
        assert_eq!(
            got.headers.get("content-type").map(String::as_str),
            Some("application/json")
        );
        if provider == "anthropic" {
            assert_eq!(
                got.headers.get("anthropic-version").map(String::as_str),
                Some("2023-06-01")
            );
        }
        if provider == "gemini" {
            assert_eq!(got.query, "alt=sse");
        }
    }
}

#[test]
fn a_key_echoed_back_by_the_provider_is_redacted_from_the_error() {
    let echo = json!({"error": {"message": format!("Incorrect API key provided: {KEY}"), "type": "invalid_request_error"}});
    let mock = MockProvider::start([Reply::status(401, echo.to_string())]);
    let error = with_pool(quick_options(), async |pool| {
        pool.completer(settings("openai", &mock))
            .complete(request("openai"))
            .await
    })
    .expect_err("401");
    assert_eq!(error.kind, ErrorKind::Authentication);
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(KEY), "{shown}");
    assert!(
        shown.contains("Incorrect API key provided: [redacted]"),
        "{shown}"
    );
}
