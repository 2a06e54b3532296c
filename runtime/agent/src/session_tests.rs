//! The turn loop against scripted models, on real temp directories.

use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::events::NoEvents;
use crate::steering::{NoSteering, SteeringDir};
use tracker_llm::stub::ScriptedCompleter;
use tracker_llm::{ErrorKind, Response, ToolCall};

fn answer(parts: Vec<Part>, finish: FinishReason) -> Result<Response, ProviderError> {
    Ok(Response {
        id: "r".into(),
        model: "claude-sonnet-4-6".into(),
        provider: "anthropic".into(),
        message: Message {
            role: Role::Assistant,
            parts,
        },
        finish_reason: finish,
        usage: Usage {
            input_tokens: 1000,
            output_tokens: 100,
            total_tokens: 1100,
            ..Usage::default()
        },
    })
}

fn text(t: &str) -> Result<Response, ProviderError> {
    answer(vec![Part::Text(t.into())], FinishReason::Stop)
}

fn call(id: &str, name: &str, args: serde_json::Value) -> Part {
    Part::ToolCall(ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: args,
        signature: String::new(),
    })
}

fn calls(parts: Vec<Part>) -> Result<Response, ProviderError> {
    answer(parts, FinishReason::ToolCalls)
}

struct Run {
    report: SessionReport,
    model: Arc<ScriptedCompleter>,
    dir: tempfile::TempDir,
}

async fn run_with(
    script: Vec<Result<Response, ProviderError>>,
    max_turns: u64,
    steering: &dyn Steering,
    dir: tempfile::TempDir,
) -> Run {
    let model = Arc::new(ScriptedCompleter::new(script));
    let tools = ToolRegistry::builtin("anthropic");
    let workspace = Arc::new(Workspace::new(dir.path()).expect("workspace"));
    let report = Session {
        config: SessionConfig {
            provider: "anthropic".into(),
            model: "claude-sonnet-4-6".into(),
            system: "sys".into(),
            max_turns,
            ..SessionConfig::default()
        },
        completer: model.clone(),
        tools: &tools,
        workspace,
        steering,
        events: &NoEvents,
    }
    .run("do the task".into())
    .await;
    Run { report, model, dir }
}

async fn run(script: Vec<Result<Response, ProviderError>>, max_turns: u64) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    run_with(script, max_turns, &NoSteering, dir).await
}

#[tokio::test]
async fn a_tool_call_then_an_answer_completes_the_session() {
    let r = run(
        vec![
            calls(vec![
                Part::Text("writing".into()),
                call("c1", "write", json!({"path": "a/b.txt", "content": "hi"})),
                call("c2", "read", json!({"path": "a/b.txt"})),
            ]),
            text("done"),
        ],
        10,
    )
    .await;
    assert_eq!(r.report.end, SessionEnd::Completed);
    assert_eq!(r.report.text, "done");
    assert_eq!(
        std::fs::read_to_string(r.dir.path().join("a/b.txt")).expect("written"),
        "hi"
    );
    let stats = &r.report.stats;
    assert_eq!(stats.turns, 2);
    assert_eq!(stats.total_tool_calls, 2);
    assert_eq!(stats.files_created, ["a/b.txt"]);
    assert_eq!(stats.input_tokens, 2000);
    let expected = dippin::catalog::cost_usd("claude-sonnet-4-6", 2000, 200, 0, 0).expect("priced");
    assert!((stats.cost_usd - expected).abs() < 1e-12);
    assert!(r.report.transcript.contains("TOOL CALL: write"));
    // The second request carries both results, in call order.
    let second = &r.model.requests()[1];
    let results: Vec<&ToolResult> = second
        .messages
        .iter()
        .flat_map(|m| &m.parts)
        .filter_map(|p| match p {
            Part::ToolResult(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].call_id, "c1");
    assert_eq!(results[1].call_id, "c2");
    assert!(results[1].content.contains("hi"));
    assert!(!second.tools.is_empty());
}

#[tokio::test]
async fn the_same_call_four_times_is_a_loop() {
    let r = run(
        vec![calls(vec![call("c", "glob", json!({"pattern": "*.rs"}))])],
        80,
    )
    .await;
    assert!(matches!(&r.report.end, SessionEnd::LoopDetected(sig) if sig.starts_with("glob(")));
    assert_eq!(r.report.stats.turns, 4);
}

#[tokio::test]
async fn the_turn_limit_stops_a_working_model() {
    let r = run(
        vec![calls(vec![call("c", "glob", json!({"pattern": "*"}))])],
        2,
    )
    .await;
    assert_eq!(r.report.end, SessionEnd::TurnLimit);
    assert_eq!(r.report.stats.turns, 2);
    assert_eq!(r.model.requests().len(), 2);
}

#[tokio::test]
async fn three_empty_answers_end_the_session() {
    let empty = Ok(Response::default());
    let r = run(vec![empty], 80).await;
    assert_eq!(r.report.end, SessionEnd::EmptyResponses);
    assert_eq!(r.report.stats.turns, 3);
}

#[tokio::test]
async fn a_reply_blocked_by_a_safety_filter_fails_at_once_saying_so() {
    let r = run(vec![answer(Vec::new(), FinishReason::ContentFilter)], 80).await;
    let SessionEnd::Failed(error) = &r.report.end else {
        panic!("{:?}", r.report.end);
    };
    assert_eq!(error.kind, ErrorKind::ContentFilter);
    assert!(error.to_string().contains("safety filter"), "{error}");
    assert_eq!(r.model.requests().len(), 1, "not asked again");
}

#[tokio::test]
async fn calls_from_a_cut_off_answer_are_refused_and_the_model_continues() {
    let r = run(
        vec![
            answer(
                vec![call(
                    "c1",
                    "write",
                    json!({"path": "x.txt", "content": "half"}),
                )],
                FinishReason::Length,
            ),
            text("finished"),
        ],
        10,
    )
    .await;
    assert_eq!(r.report.end, SessionEnd::Completed);
    assert!(
        !r.dir.path().join("x.txt").exists(),
        "the cut-off call did not run"
    );
    let second = &r.model.requests()[1];
    let refused =
        second.messages.iter().flat_map(|m| &m.parts).any(
            |p| matches!(p, Part::ToolResult(r) if r.is_error && r.content.contains("cut off")),
        );
    assert!(refused, "{second:?}");
    let last = second.messages.last().expect("messages");
    assert!(last.text().contains("Continue"));
}

#[tokio::test]
async fn steering_reaches_the_model_as_a_user_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let steering = SteeringDir::new(dir.path().join("steer"));
    steering.send("use tabs, not spaces").expect("send");
    let r = run_with(vec![text("ok")], 5, &steering, dir).await;
    let first = &r.model.requests()[0];
    let texts: Vec<String> = first.messages.iter().map(Message::text).collect();
    assert_eq!(texts, ["do the task", "[STEERING] use tabs, not spaces"]);
    assert!(r.report.transcript.contains("STEERING: use tabs"));
}

#[tokio::test]
async fn provider_errors_end_the_session_with_the_error() {
    let error = ProviderError::new(ErrorKind::Authentication, "anthropic", "bad key");
    let r = run(vec![Err(error.clone())], 5).await;
    assert_eq!(r.report.end, SessionEnd::Failed(error));
    assert_eq!(r.report.stats.turns, 0);
}

#[tokio::test]
async fn tool_errors_go_back_to_the_model_and_the_session_goes_on() {
    let r = run(
        vec![
            calls(vec![call("c1", "read", json!({"path": "../outside"}))]),
            calls(vec![call("c2", "nope", json!({}))]),
            text("gave up"),
        ],
        10,
    )
    .await;
    assert_eq!(r.report.end, SessionEnd::Completed);
    let requests = r.model.requests();
    let result = |i: usize| -> ToolResult {
        requests[i]
            .messages
            .iter()
            .flat_map(|m| &m.parts)
            .filter_map(|p| match p {
                Part::ToolResult(r) => Some(r.clone()),
                _ => None,
            })
            .next_back()
            .expect("a result")
    };
    assert!(result(1).is_error);
    assert!(result(2).is_error);
    assert!(
        result(2).content.contains("Unknown tool: nope"),
        "{}",
        result(2).content
    );
}
