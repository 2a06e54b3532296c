//! The LLM client's own costs: SSE decoding throughput per provider, and the
//! per-request overhead of the provider actor path against a local server.
//!
//! Run with `cargo bench -p tracker-tests --bench llm`. Prints Markdown tables
//! for `docs/performance.md`. Each figure is the best of several runs.
//!
//! * **decode** — a long streamed answer (4,000 text deltas, then a tool call)
//!   fed to the response reader in 1,400-byte chunks, as a socket delivers
//!   it: SSE parsing, JSON decoding of every event, and accumulation;
//! * **request overhead** — completions against the local mock server, the
//!   median of 1,000, three ways interleaved: through the provider pool
//!   (actor mailbox on the provider arbiter, semaphore, codec, reqwest, SSE
//!   decode), through the HTTP transport alone, and the same request sent
//!   with a bare reqwest client that only reads the body. The difference is
//!   what tracker adds per call.

use std::time::{Duration, Instant};

use serde_json::json;
use tracker_actors::provider::transport::HttpTransport;
use tracker_actors::provider::{ProviderOptions, ProviderPool};
use tracker_runtime::llm::codecs;
use tracker_runtime::llm::config::{ApiKey, ProviderSettings};
use tracker_runtime::llm::reader::ResponseReader;
use tracker_runtime::llm::{Message, Request};
use tracker_tests::mock_provider::{MockProvider, Reply};
use tracker_tests::sse_bodies::{body, body_in_pieces, Call, Turn, TurnUsage};

const PROVIDERS: [&str; 4] = ["anthropic", "openai", "gemini", "openai-compat"];
const DELTAS: usize = 4_000;
const CHUNK: usize = 1_400;
const RUNS: usize = 7;
const REQUESTS: usize = 1_000;

/// A long answer: `DELTAS` text deltas, then one tool call.
fn long_body(provider: &str) -> String {
    let words: String = (0..DELTAS).map(|i| format!("word{i} ")).collect();
    let turn = Turn::calls(
        &words,
        vec![Call::new(
            "c1",
            "write",
            json!({"path": "a.txt", "content": "x"}),
        )],
        TurnUsage {
            input: 100,
            output: 5000,
            ..TurnUsage::default()
        },
    );
    body_in_pieces(provider, &turn, DELTAS)
}

fn decode_bench() {
    println!("| provider | body bytes | SSE events | decode time | events/s | MB/s |");
    println!("|---|---|---|---|---|---|");
    for provider in PROVIDERS {
        let text = long_body(provider);
        let bytes = text.as_bytes();
        let codec = codecs::for_provider(provider).expect("codec");
        let mut best = Duration::MAX;
        let mut decoded_events = 0;
        for _ in 0..RUNS {
            let started = Instant::now();
            let mut reader = ResponseReader::new(codec.as_ref());
            for chunk in bytes.chunks(CHUNK) {
                reader.push(chunk).expect("decodes");
            }
            decoded_events = reader.sse_events();
            let response = reader.finish().expect("complete");
            std::hint::black_box(response);
            best = best.min(started.elapsed());
        }
        assert!(
            decoded_events >= DELTAS as u64,
            "{provider}: {decoded_events} events"
        );
        let secs = best.as_secs_f64();
        println!(
            "| {provider} | {} | {decoded_events} | {:.2} ms | {:.0} | {:.1} |",
            bytes.len(),
            secs * 1e3,
            decoded_events as f64 / secs,
            bytes.len() as f64 / secs / 1e6
        );
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn overhead_bench() {
    println!();
    println!("| provider | provider actor | transport alone | bare reqwest | tracker's overhead |");
    println!("|---|---|---|---|---|");
    for provider in PROVIDERS {
        let reply = body(
            provider,
            &Turn::text(
                "ok",
                TurnUsage {
                    input: 10,
                    output: 1,
                    ..TurnUsage::default()
                },
            ),
        );
        let mock = MockProvider::start((0..REQUESTS * 3 + 3).map(|_| Reply::sse(reply.clone())));
        let settings = ProviderSettings {
            provider: codecs::for_provider(provider).expect("codec").provider(),
            api_key: ApiKey::new("sk-bench"),
            key_var: "BENCH_KEY",
            base_url: mock.url(),
        };
        let request = std::sync::Arc::new(Request {
            provider: provider.into(),
            model: "bench-model".into(),
            messages: vec![Message::user("hi")],
            ..Request::default()
        });
        let codec = codecs::for_provider(provider).expect("codec");
        let url = codec.url(&mock.url(), &request);
        let headers = codec.headers("sk-bench");
        let payload = serde_json::to_vec(&codec.body(&request)).expect("json");
        let transport = HttpTransport::new(
            codecs::for_provider(provider).expect("codec"),
            settings.clone(),
            Duration::from_secs(60),
        )
        .expect("transport");
        let (ours, direct, bare) = actix_rt::System::new().block_on(async move {
            let pool = ProviderPool::new(ProviderOptions::default());
            let completer = pool.completer(settings);
            let client = reqwest::Client::new();
            let bare = || {
                let mut builder = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("accept", "text/event-stream");
                for (name, value) in &headers {
                    builder = builder.header(*name, value);
                }
                let send = builder.body(payload.clone()).send();
                async move { send.await.expect("request").bytes().await.expect("body") }
            };
            // Warm up every connection pool.
            completer
                .complete(std::sync::Arc::clone(&request))
                .await
                .expect("warm-up");
            transport.attempt(&request, None).await.expect("warm-up");
            bare().await;
            // Interleaved, so that machine noise hits all three alike.
            let (mut ours, mut direct, mut plain) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..REQUESTS {
                let t = Instant::now();
                completer
                    .complete(request.clone())
                    .await
                    .expect("completion");
                ours.push(t.elapsed());
                let t = Instant::now();
                transport.attempt(&request, None).await.expect("completion");
                direct.push(t.elapsed());
                let t = Instant::now();
                std::hint::black_box(bare().await);
                plain.push(t.elapsed());
            }
            (median(ours), median(direct), median(plain))
        });
        println!(
            "| {provider} | {:.1} µs | {:.1} µs | {:.1} µs | {:.1} µs |",
            micros(ours),
            micros(direct),
            micros(bare),
            micros(ours) - micros(bare)
        );
    }
}

fn main() {
    // `BENCH_ONLY=decode` or `BENCH_ONLY=overhead` runs one of the two.
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    if only.is_empty() || only == "decode" {
        decode_bench();
    }
    if only.is_empty() || only == "overhead" {
        overhead_bench();
    }
}
