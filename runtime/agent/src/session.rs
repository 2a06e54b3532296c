//! The agent's turn loop: ask the model, run the tools it calls, feed the
//! results back, until it answers without calling a tool.
//!
//! Per turn: deliver steering, send the conversation, account for usage and
//! cost, then either finish (no tool calls), run the calls in order, or —
//! when the answer was cut off at the output limit — refuse its calls and
//! ask the model to continue. The session stops early on the turn limit, on
//! a tool-call loop, after three empty answers in a row, or on a provider
//! error (the caller decides what each means for the node).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::compaction;
use super::events::{AgentEvent, SessionEvents};
use super::loops::LoopDetector;
use super::steering::Steering;
use super::tools::{execute, Effect, ToolRegistry, Workspace};
use crate::stats::SessionStats;
use tracker_llm::{
    Completer, ErrorKind, FinishReason, Message, Part, ProviderError, Request, ResponseFormat,
    Role, ToolCall, ToolResult, Usage,
};

/// Empty answers in a row after which a session gives up.
pub const MAX_EMPTY_RESPONSES: u32 = 3;

/// What a session is asked to do it with.
#[derive(Clone, Debug, Default)]
pub struct SessionConfig {
    /// The provider's name (for stats).
    pub provider: String,
    /// The model.
    pub model: String,
    /// The system prompt.
    pub system: String,
    /// The most LLM turns.
    pub max_turns: u64,
    /// `low`, `medium`, `high`, or empty.
    pub reasoning_effort: String,
    /// The final answer's shape.
    pub response_format: ResponseFormat,
    /// Compact the context past this share of the window (`None`: never).
    pub compaction_threshold: Option<f64>,
}

/// How a session ended.
#[derive(Clone, Debug, PartialEq)]
pub enum SessionEnd {
    /// The model answered without calling a tool.
    Completed,
    /// The turn limit was reached while the model was still working.
    TurnLimit,
    /// The model repeated one call (its signature) too often.
    LoopDetected(String),
    /// Three empty answers in a row.
    EmptyResponses,
    /// The provider failed (after the client's own retries).
    Failed(ProviderError),
}

/// What a session did.
#[derive(Clone, Debug)]
pub struct SessionReport {
    /// The model's last text.
    pub text: String,
    /// Every turn, readable (`TURN n`, `TEXT:`, `TOOL CALL:` lines).
    pub transcript: String,
    /// Usage, cost, tool calls, files.
    pub stats: SessionStats,
    /// Why it ended.
    pub end: SessionEnd,
}

/// One session's parts.
pub struct Session<'a> {
    /// Settings.
    pub config: SessionConfig,
    /// The model.
    pub completer: Arc<dyn Completer>,
    /// The tools on offer.
    pub tools: &'a ToolRegistry,
    /// Where they work.
    pub workspace: Arc<Workspace>,
    /// Messages from outside while it runs.
    pub steering: &'a dyn Steering,
    /// Where it reports what it does.
    pub events: &'a dyn SessionEvents,
}

impl std::fmt::Debug for Session<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Session<'_> {
    /// Runs the session on `prompt` to its end.
    pub async fn run(self, prompt: String) -> SessionReport {
        let Session {
            config,
            completer,
            tools,
            workspace,
            steering,
            events,
        } = self;
        events.emit(AgentEvent::SessionStart).await;
        let mut stats = SessionStats {
            provider: config.provider.clone(),
            ..SessionStats::default()
        };
        let mut transcript = Transcript::default();
        let mut loops = LoopDetector::default();
        let mut empty_in_a_row = 0;
        let mut text = String::new();
        let model = dippin::catalog::resolve(&config.model);
        let window = model.map_or(compaction::FALLBACK_WINDOW, |m| u64::from(m.context_window));
        // One request for the whole session: each turn appends to its
        // conversation. The completer only borrows it, so appending does not
        // copy the history.
        let mut request = Arc::new(Request {
            provider: config.provider.clone(),
            model: config.model.clone(),
            system: config.system.clone(),
            messages: vec![Message::user(prompt)],
            tools: tools.specs(),
            reasoning_effort: config.reasoning_effort.clone(),
            response_format: config.response_format.clone(),
            ..Request::default()
        });
        let end = loop {
            if stats.turns >= config.max_turns {
                break SessionEnd::TurnLimit;
            }
            for message in steering.drain() {
                transcript.line(format!("STEERING: {message}"));
                conversation(&mut request).push(Message::user(format!("[STEERING] {message}")));
                events.emit(AgentEvent::SteeringInjected { message }).await;
            }
            let started = Instant::now();
            let turn = stats.turns + 1;
            events.emit(AgentEvent::LlmRequestStart { turn }).await;
            let response = match super::streaming::complete(
                completer.as_ref(),
                Arc::clone(&request),
                events,
                turn,
            )
            .await
            {
                Ok(response) => response,
                Err(error) => break SessionEnd::Failed(error),
            };
            stats.turns += 1;
            // A lane of `llm_fallbacks` answered in the session's stead.
            let answered_by = (!response.provider.is_empty()
                && response.provider != config.provider)
                .then(|| (response.provider.clone(), response.model.clone()));
            events
                .emit(AgentEvent::LlmFinish {
                    turn,
                    finish_reason: response.finish_reason.as_str().to_string(),
                    usage: response.usage,
                    answered_by: answered_by.clone(),
                })
                .await;
            transcript.line(format!("TURN {}", stats.turns));
            // A call another model answered (an `llm_fallbacks` lane names
            // its own) is priced as that model; the session's provider
            // reporting a dated name for the session's model is not.
            let priced = if response.model.is_empty() || response.model == config.model {
                model
            } else {
                dippin::catalog::resolve(&response.model)
                    .or(model.filter(|_| response.provider == config.provider))
            };
            let cost = add_usage(&mut stats, priced, &response.usage);
            if let Some((provider, _)) = answered_by {
                add_lane_usage(&mut stats, provider, &response.usage, cost);
            }
            if response.finish_reason == FinishReason::ContentFilter
                && response.text().is_empty()
                && response.tool_calls().is_empty()
            {
                // Asking again would be blocked again: the prompt is what was
                // refused.
                break SessionEnd::Failed(ProviderError::new(
                    ErrorKind::ContentFilter,
                    &request.provider,
                    "the provider's safety filter blocked the reply, with nothing said (finish reason content_filter); change the prompt",
                ));
            }
            if response.is_empty() {
                empty_in_a_row += 1;
                transcript.line("(empty response)".to_string());
                if empty_in_a_row >= MAX_EMPTY_RESPONSES {
                    break SessionEnd::EmptyResponses;
                }
                continue;
            }
            empty_in_a_row = 0;
            let said = response.text();
            if !said.is_empty() {
                transcript.line(format!("TEXT: {said}"));
                text = said;
            }
            let usage = response.usage;
            let cut_off = response.finish_reason == FinishReason::Length;
            let calls: Vec<ToolCall> = response.tool_calls().into_iter().cloned().collect();
            conversation(&mut request).push(response.message);
            if calls.is_empty() && !cut_off {
                note_turn(&mut stats, started.elapsed());
                break SessionEnd::Completed;
            }
            let mut results = Vec::with_capacity(calls.len());
            let mut looping = None;
            for call in calls {
                let input = call.arguments.to_string();
                transcript.line(format!("TOOL CALL: {}({input})", call.name));
                if cut_off {
                    // The call may be incomplete: it is refused, and the model
                    // asked to issue it again.
                    results.push(Part::ToolResult(ToolResult {
                        call_id: call.id,
                        name: call.name,
                        content: "Not run: your reply was cut off at the output limit, so this call may be incomplete. Issue it again.".into(),
                        is_error: true,
                    }));
                    continue;
                }
                if looping.is_none() {
                    looping = loops.record(&call.name, &input);
                }
                events
                    .emit(AgentEvent::ToolCallStart {
                        turn,
                        call_id: call.id.clone(),
                        tool: call.name.clone(),
                        input,
                    })
                    .await;
                let executed = execute(tools, &call, Arc::clone(&workspace)).await;
                *stats.tool_calls.entry(call.name.clone()).or_default() += 1;
                stats.total_tool_calls += 1;
                for effect in &executed.effects {
                    note_effect(&mut stats, effect);
                }
                let marker = if executed.result.is_error {
                    "TOOL ERROR"
                } else {
                    "TOOL RESULT"
                };
                transcript.line(format!(
                    "{marker}: {}",
                    tracker_stdx::text::head(&executed.full_output, 2000)
                ));
                events
                    .emit(AgentEvent::ToolCallEnd {
                        turn,
                        call_id: call.id,
                        tool: call.name,
                        output: executed.full_output,
                        is_error: executed.result.is_error,
                        duration: executed.duration,
                    })
                    .await;
                results.push(Part::ToolResult(executed.result));
            }
            if !results.is_empty() {
                conversation(&mut request).push(Message {
                    role: Role::Tool,
                    parts: results,
                });
            }
            if cut_off {
                conversation(&mut request).push(Message::user(
                    "Your reply was cut off at the output token limit. Continue from where you stopped, in smaller steps.",
                ));
            }
            note_turn(&mut stats, started.elapsed());
            if let Some(signature) = looping {
                break SessionEnd::LoopDetected(signature);
            }
            if let Some(threshold) = config.compaction_threshold {
                let prompt_tokens =
                    usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens;
                if compaction::needed(prompt_tokens, window, threshold) {
                    let results = compaction::compact(conversation(&mut request));
                    if results > 0 {
                        stats.compactions += 1;
                        events.emit(AgentEvent::ContextCompaction { results }).await;
                    }
                }
            }
        };
        events
            .emit(AgentEvent::SessionEnd {
                summary: describe(&end),
                turns: stats.turns,
            })
            .await;
        SessionReport {
            text,
            transcript: transcript.text,
            stats,
            end,
        }
    }
}

/// How a session ended, in words.
fn describe(end: &SessionEnd) -> String {
    match end {
        SessionEnd::Completed => "completed".into(),
        SessionEnd::TurnLimit => "stopped at the turn limit".into(),
        SessionEnd::LoopDetected(signature) => format!("stopped: repeated call {signature}"),
        SessionEnd::EmptyResponses => {
            format!("stopped after {MAX_EMPTY_RESPONSES} empty responses")
        }
        SessionEnd::Failed(error) => format!("failed: {error}"),
    }
}

/// The session's conversation, to append to (copied only if a completer
/// still holds the previous turn's request).
fn conversation(request: &mut Arc<Request>) -> &mut Vec<Message> {
    &mut Arc::make_mut(request).messages
}

/// Adds a turn's tokens and cost (zero for a model the catalog does not
/// price) to the session's; returns the cost.
fn add_usage(
    stats: &mut SessionStats,
    model: Option<&dippin::catalog::ModelInfo>,
    usage: &Usage,
) -> f64 {
    stats.input_tokens += usage.input_tokens;
    stats.output_tokens += usage.output_tokens;
    stats.total_tokens += usage.total_tokens;
    stats.reasoning_tokens += usage.reasoning_tokens;
    stats.cache_read_tokens += usage.cache_read_tokens;
    stats.cache_write_tokens += usage.cache_write_tokens;
    let cost = model.map_or(0.0, |m| {
        m.cost_usd(
            usage.input_tokens,
            usage.output_tokens,
            usage.cache_read_tokens,
            usage.cache_write_tokens,
        )
    });
    stats.cost_usd += cost;
    cost
}

/// Notes a call another provider answered under that provider too.
fn add_lane_usage(stats: &mut SessionStats, provider: String, usage: &Usage, cost: f64) {
    let lane = stats.lanes.entry(provider).or_default();
    lane.input_tokens += usage.input_tokens;
    lane.output_tokens += usage.output_tokens;
    lane.total_tokens += usage.total_tokens;
    lane.reasoning_tokens += usage.reasoning_tokens;
    lane.cache_read_tokens += usage.cache_read_tokens;
    lane.cache_write_tokens += usage.cache_write_tokens;
    lane.cost_usd += cost;
}

fn note_turn(stats: &mut SessionStats, took: Duration) {
    stats.longest_turn = stats.longest_turn.max(took);
}

fn note_effect(stats: &mut SessionStats, effect: &Effect) {
    let (list, path) = match effect {
        Effect::Created(path) => (&mut stats.files_created, path),
        Effect::Modified(path) => (&mut stats.files_modified, path),
        _ => return,
    };
    if !list.contains(path) {
        list.push(path.clone());
    }
}

/// The session as text, for `response.md`.
#[derive(Debug, Default)]
struct Transcript {
    text: String,
}

impl Transcript {
    fn line(&mut self, line: String) {
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        self.text.push_str(&line);
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
