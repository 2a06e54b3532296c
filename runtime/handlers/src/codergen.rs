//! The `codergen` handler: an LLM agent session (engine-semantics §5.2).
//!
//! The node's prompt is assembled (§3.4) and handed to a native agent
//! session ([`tracker_runtime::agent`]) with the built-in tools, working in the node's
//! `working_dir`. How the session ended decides the outcome: an exhausted
//! credit balance pauses the run, a provider error that retrying cannot fix
//! ends the node with an error, any other provider error or three empty
//! answers make it `retry`, a turn limit or a tool-call loop make it `fail`,
//! and a finished session succeeds (subject to `auto_status` and declared
//! writes). The node's files — `prompt.md`, `response.md` and `status.json`
//! — are always written.

use super::agent_events::NodeAgentEvents;
use super::failover;
use super::{write_status_in, BoxFuture, ContextVars, HandlerEnv, NodeHandler};
use std::path::Path;
use std::sync::Arc;
use tracker_runtime::agent::compaction;
use tracker_runtime::agent::session::{Session, SessionConfig, SessionEnd, SessionReport};
use tracker_runtime::agent::steering::{SteeringDir, STEERING_DIR};
use tracker_runtime::agent::tools::{ToolRegistry, Workspace, DEFAULT_COMMAND_TIMEOUT};
use tracker_runtime::attrs;
use tracker_runtime::context;
use tracker_runtime::engine::NodeTask;
use tracker_runtime::event::AutoStatusDetail;
use tracker_runtime::fidelity::Fidelity;
use tracker_runtime::interpolate::{expand_braces, Mode};
use tracker_runtime::llm::{Completer, ResponseFormat};
use tracker_runtime::outcome::{
    HandlerError, NodeFileError, NodeResult, Outcome, FAIL, RETRY, SUCCESS,
};
use tracker_runtime::spec::{AgentSpec, Backend, Setting, Text};
use tracker_runtime::usage::SessionStats;

/// The model a node uses when neither it nor the workflow names one.
pub const DEFAULT_MODEL: &str = "claude-sonnet-4-6";
/// The provider a node uses when neither it nor the workflow names one.
pub const DEFAULT_PROVIDER: &str = "anthropic";
/// The turn limit when the node sets none.
pub const DEFAULT_MAX_TURNS: u64 = 80;
/// How much of the previous node's output a prompt carries by default.
pub const DEFAULT_INJECTION_CAP: i64 = 4096;

/// Runs `codergen` nodes.
#[derive(Debug)]
pub struct CodergenHandler;

impl NodeHandler for CodergenHandler {
    fn run(&self, task: NodeTask, env: HandlerEnv) -> BoxFuture<NodeResult> {
        Box::pin(async move { run_codergen(task, env).await.map_err(Into::into) })
    }
}

/// The provider and model an agent runs with: its own, else the workflow's,
/// else the defaults.
pub fn provider_and_model(agent: &AgentSpec, graph: &attrs::Attrs) -> (String, String) {
    let pick = |own: &Text, key: &str, default: &str| {
        own.get()
            .or_else(|| graph.get(key).map(String::as_str).filter(|v| !v.is_empty()))
            .unwrap_or(default)
            .to_string()
    };
    (
        pick(&agent.provider, "llm_provider", DEFAULT_PROVIDER),
        pick(&agent.model, "llm_model", DEFAULT_MODEL),
    )
}

/// A node's own text setting, else the workflow's `key`.
fn node_or_graph<'a>(own: &'a Text, env: &'a HandlerEnv, key: &str) -> &'a str {
    own.get()
        .unwrap_or_else(|| attrs::get(&env.plan.graph_attrs, key))
}

/// The agent settings of `task`'s node.
pub(super) fn agent_spec(task: &NodeTask) -> Result<&AgentSpec, HandlerError> {
    task.spec.agent().ok_or_else(|| HandlerError::Config {
        node: task.node_id.clone(),
        message: format!("node {:?} is not an agent node", task.node_id),
    })
}

async fn run_codergen(task: NodeTask, env: HandlerEnv) -> Result<Outcome, HandlerError> {
    let id = task.node_id.clone();
    let fail = |message: String| HandlerError::Config {
        node: id.clone(),
        message,
    };
    let agent = agent_spec(&task)?;
    if agent.prompt.as_str().trim().is_empty() {
        return Err(fail(format!("agent node {id:?} has no prompt")));
    }
    match agent.backend.value() {
        Ok(Backend::Native) => {}
        Ok(other @ (Backend::ClaudeCode | Backend::Acp)) => {
            let name = if *other == Backend::Acp {
                "acp"
            } else {
                "claude-code"
            };
            return Err(fail(format!(
                "agent node {id:?}: backend {name:?} is not available in this build; use the native backend"
            )));
        }
        Err(e) => {
            return Err(fail(format!(
                "agent node {id:?}: unknown backend {:?}",
                e.value
            )))
        }
    }
    let (provider, model) = provider_and_model(agent, &env.plan.graph_attrs);
    let Some(completer) = env.services.completers.get(&provider) else {
        return Err(fail(tracker_runtime::llm::config::missing_key_message(
            &provider,
        )));
    };
    let workspace = session_workspace(&task, &env)?;
    let prompt = assemble_prompt(&task, &env, workspace.root())?;
    let max_turns = agent.max_turns.unwrap_or(DEFAULT_MAX_TURNS);
    let tools = if agent.tool_access.is_empty() {
        ToolRegistry::builtin(&provider)
    } else {
        // The reference registers no tools at all when `tool_access` is set.
        ToolRegistry::empty()
    };
    let compaction_threshold = match node_or_graph(&agent.compaction, &env, "context_compaction") {
        "auto" => Some(
            agent
                .compaction_threshold
                .or_else(|| {
                    attrs::get(&env.plan.graph_attrs, "context_compaction_threshold")
                        .parse::<f64>()
                        .ok()
                })
                .filter(|t| *t > 0.0 && *t <= 1.0)
                .unwrap_or(compaction::DEFAULT_THRESHOLD),
        ),
        _ => None,
    };
    let config = SessionConfig {
        provider: provider.clone(),
        model,
        system: system_prompt(agent, workspace.root()),
        max_turns,
        reasoning_effort: node_or_graph(&agent.reasoning_effort, &env, "reasoning_effort")
            .to_string(),
        response_format: ResponseFormat::from_attrs(
            agent.response_format.as_str(),
            agent.response_schema.as_str(),
        ),
        compaction_threshold,
    };
    let steering = SteeringDir::new(env.node_dir(&task).join(STEERING_DIR));
    let events = Arc::new(NodeAgentEvents {
        sink: Arc::clone(&env.events),
        clock: Arc::clone(&env.clock),
        run_id: task.run_id.clone(),
        node_id: task.node_id.clone(),
        provider: config.provider.clone(),
        model: config.model.clone(),
    });
    let lanes_text = node_or_graph(&agent.fallbacks, &env, "llm_fallbacks");
    let fallbacks = failover::lanes(lanes_text).map_err(|e| {
        fail(format!(
            "agent node {id:?}: llm_fallbacks {lanes_text:?} {e}"
        ))
    })?;
    let completer: Arc<dyn Completer> = if fallbacks.is_empty() {
        completer
    } else {
        let own = failover::Lane {
            provider: config.provider.clone(),
            model: config.model.clone(),
        };
        Arc::new(
            failover::Failover::new(
                (own, completer),
                fallbacks,
                &env.services.completers,
                Arc::clone(&events),
            )
            .map_err(|e| fail(format!("agent node {id:?}: {e}")))?,
        )
    };
    let report = Session {
        config,
        completer,
        tools: &tools,
        workspace: Arc::new(workspace),
        steering: &steering,
        events: events.as_ref(),
    }
    .run(prompt.clone())
    .await;
    let outcome = outcome_of(&task, agent, &report)?;
    let dir = env.node_dir(&task);
    let message = outcome
        .context_updates
        .get(&format!("response.{id}"))
        .map_or("", String::as_str);
    let response = match &report.end {
        SessionEnd::Completed if report.stats.total_tool_calls == 0 => report.text.clone(),
        SessionEnd::Completed => report.transcript.clone(),
        _ if report.transcript.is_empty() => message.to_string(),
        _ => format!("{}\n\n{message}", report.transcript),
    };
    write_files(&dir, &prompt, &response, &report.stats, &outcome).map_err(|source| {
        HandlerError::Io {
            node: id.clone(),
            source,
        }
    })?;
    Ok(outcome)
}

/// What a paused run says about the account out of credit: the provider's
/// message, which provider it was and where its key comes from (whose
/// account needs the credit).
fn billing_message(error: &tracker_runtime::llm::ProviderError) -> String {
    let vars = tracker_runtime::llm::config::key_vars(&error.provider);
    let key = if vars.is_empty() {
        String::new()
    } else {
        format!(", the account of the key in {}", vars.join(" or "))
    };
    format!(
        "{} (provider {}{key}): add credit, then resume",
        error.message, error.provider
    )
}

/// The node's outcome from how its session ended.
fn outcome_of(
    task: &NodeTask,
    agent: &AgentSpec,
    report: &SessionReport,
) -> Result<Outcome, HandlerError> {
    let id = &task.node_id;
    let stats = &report.stats;
    let ended = |status: &str, message: String| {
        Outcome::with_status(status)
            .update(context::LAST_RESPONSE, message.clone())
            .update(format!("response.{id}"), message)
    };
    let mut outcome = match &report.end {
        SessionEnd::Failed(error) if error.is_billing() => {
            return Err(HandlerError::PausedBilling(billing_message(error)))
        }
        SessionEnd::Failed(error) if !error.kind.retryable() => {
            return Err(HandlerError::Provider {
                node: id.clone(),
                source: Box::new(error.clone()),
            })
        }
        SessionEnd::Failed(error) => ended(RETRY, error.to_string()),
        SessionEnd::EmptyResponses => ended(
            RETRY,
            format!(
                "agent session failed: {} consecutive empty API responses",
                tracker_runtime::agent::session::MAX_EMPTY_RESPONSES
            ),
        ),
        SessionEnd::LoopDetected(signature) => ended(
            FAIL,
            format!(
                "agent session stopped: the same tool call was repeated {} times: {signature}",
                tracker_runtime::agent::loops::LOOP_THRESHOLD
            ),
        ),
        SessionEnd::TurnLimit if agent.auto_status => ended(SUCCESS, report.text.clone()),
        SessionEnd::TurnLimit => ended(
            FAIL,
            format!(
                "agent session reached its turn limit ({} turns) before finishing",
                stats.turns
            ),
        ),
        SessionEnd::Completed => {
            let text = &report.text;
            // (The reference's "no turns at all" case cannot arise here: a
            // session that made no call ends `Failed`.)
            let status =
                if text.is_empty() && stats.total_tool_calls == 0 && stats.output_tokens == 0 {
                    RETRY
                } else {
                    SUCCESS
                };
            ended(status, text.clone())
        }
    };
    outcome = outcome
        .update("last_turns", stats.turns.to_string())
        .update("last_cost", format!("{:.4}", stats.cost_usd));
    let finished = matches!(report.end, SessionEnd::Completed | SessionEnd::TurnLimit);
    if finished && outcome.status == SUCCESS && agent.auto_status {
        apply_auto_status(task, &report.text, &mut outcome);
    }
    if finished && outcome.status == SUCCESS {
        super::writes::apply(&task.spec.common.writes, &report.text, &mut outcome);
    }
    outcome.stats = Some(stats.clone());
    Ok(outcome)
}

/// Where the agent's tools work: the run's working directory, or its
/// `working_dir` below it (created if missing). The directory may not lead
/// outside the working directory, by `..`, an absolute path or a symlink, and
/// may not contain shell metacharacters.
fn session_workspace(task: &NodeTask, env: &HandlerEnv) -> Result<Workspace, HandlerError> {
    let fail = |message: String| HandlerError::Config {
        node: task.node_id.clone(),
        message: format!("agent node {:?}: {message}", task.node_id),
    };
    let base = Workspace::new(&env.workdir).map_err(|e| fail(format!("working directory: {e}")))?;
    let dir = agent_spec(task)?.working_dir.as_str();
    let workspace = if dir.is_empty() {
        base
    } else {
        let bad = dir.chars().any(|c| {
            matches!(
                c,
                '`' | '$' | ';' | '|' | '&' | '(' | ')' | '<' | '>' | '\n' | '\r' | '"' | '\0'
            )
        });
        if bad {
            return Err(fail(format!(
                "working_dir {dir:?} contains shell metacharacters"
            )));
        }
        let root = base.resolve(dir).map_err(|e| {
            fail(format!(
                "working_dir {dir:?} must stay inside the working directory: {e}"
            ))
        })?;
        std::fs::create_dir_all(&root)
            .map_err(|e| fail(format!("cannot create working_dir {}: {e}", root.display())))?;
        Workspace::new(&root).map_err(|e| fail(format!("working_dir {dir:?}: {e}")))?
    };
    // The agent's `bash` is held to the same allowlist as tool nodes.
    let graph = &env.plan.graph_attrs;
    let rules = tracker_runtime::tool_safety::CommandRules::new(
        &env.services.tool_policy,
        graph.get("tool_denylist_add").map_or("", String::as_str),
        graph.get("tool_commands_allow").map_or("", String::as_str),
    );
    // The run's records under `--artifact-dir` (other runs' beside them) are
    // as closed to the agent as `.tracker/` is.
    // (A child run's agents: the parent's run directory.)
    let workspace = match task.artifact_dir.as_deref().or(env.records.as_deref()) {
        Some(run_dir) => {
            let workspace = workspace.with_records(run_dir);
            match run_dir.parent() {
                Some(runs) => workspace.with_records(runs),
                None => workspace,
            }
        }
        None => workspace,
    };
    Ok(workspace
        .with_command_timeout(
            agent_spec(task)?
                .command_timeout
                .unwrap_or(DEFAULT_COMMAND_TIMEOUT),
        )
        .with_command_rules(Arc::new(rules)))
}

/// tracker's path rules, then the node's own system prompt.
fn system_prompt(agent: &AgentSpec, root: &Path) -> String {
    let rules = format!(
        "You are a coding agent working in {}. Every file path you use is relative to that directory; \
         do not read or write outside it. Use the tools to inspect and change files and to run commands, \
         and answer without calling a tool when the task is done.",
        root.display()
    );
    match agent.system_prompt.get() {
        None => rules,
        Some(own) => format!("{rules}\n\n{own}"),
    }
}

fn write_files(
    dir: &Path,
    prompt: &str,
    response: &str,
    stats: &SessionStats,
    outcome: &Outcome,
) -> Result<(), NodeFileError> {
    tracker_runtime::private_files::ensure_dir(dir).map_err(|e| NodeFileError::CreateDir {
        path: dir.to_path_buf(),
        source: Arc::new(e),
    })?;
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        // Nothing reads a node's files back: no temporary file and rename
        // needed when they are new.
        tracker_runtime::private_files::write(&path, text.as_bytes()).map_err(|e| {
            NodeFileError::Write {
                path,
                source: Arc::new(e),
            }
        })
    };
    write("prompt.md", prompt)?;
    write(
        "response.md",
        &format!(
            "{response}\n\n---\nturns: {}, tokens: {} in / {} out, cost: ${:.4}\n",
            stats.turns, stats.input_tokens, stats.output_tokens, stats.cost_usd
        ),
    )?;
    write_status_in(dir, outcome)
}

/// The prompt the model sees (§3.4): the node's prompt with `${…}` expanded, the
/// prior stages' context at the node's fidelity, and a runtime header.
pub fn assemble_prompt(
    task: &NodeTask,
    env: &HandlerEnv,
    workdir: &Path,
) -> Result<String, HandlerError> {
    // `last_response_truncate` shortens the previous output before anything
    // reads it, `${ctx.last_response}` in the prompt included.
    let agent = agent_spec(task)?;
    let truncated;
    let mut vars = ContextVars::of(task, &env.plan);
    if let Some(limit) = agent.last_response_truncate {
        let mut ctx = task.context.as_ref().clone();
        if let Some(value) = ctx.get_mut(context::LAST_RESPONSE) {
            *value = value.chars().take(limit).collect();
        }
        truncated = ctx;
        vars.ctx = &truncated;
    }
    let raw = agent.prompt.as_str();
    let mut prompt = expand_braces(raw, &vars, Mode::Prompt).map_err(|e| HandlerError::Config {
        node: task.node_id.clone(),
        message: format!("agent node {:?}: {e}", task.node_id),
    })?;
    let last_response = vars.get(context::LAST_RESPONSE);
    let human = vars.get(context::HUMAN_RESPONSE);
    let common = &task.spec.common;
    let fidelity = Fidelity::of(common.fidelity(), &env.plan.graph_attrs);
    if fidelity == Fidelity::Full {
        let cap = agent
            .injection_cap
            .as_ref()
            .and_then(Setting::ready)
            .copied()
            .unwrap_or(DEFAULT_INJECTION_CAP);
        let mut sections = Vec::new();
        if !human.is_empty() {
            sections.push(format!("## Human Response\n{human}"));
        }
        if !last_response.is_empty() {
            sections.push(format!(
                "## Previous Node Output\n{}",
                elide_middle(last_response, cap)
            ));
        }
        if !sections.is_empty() {
            prompt.push_str("\n\n---\n# Context from Prior Pipeline Stages\n\n");
            prompt.push_str(&sections.join("\n\n"));
        }
    } else {
        let summary = fidelity_summary(&vars, &common.reads, fidelity);
        if !summary.is_empty() {
            prompt = format!(
                "# Context Summary (fidelity: {})\n\n{summary}\n\n---\n\n{prompt}",
                fidelity.as_str()
            );
        }
    }
    let date = env.clock.now().rfc3339_nanos();
    let date = date.get(..10).unwrap_or("");
    let place = if task.artifact_dir.is_some() {
        format!("- Run: {}, node: {}", task.run_id, task.node_id)
    } else {
        format!("- Node: {}", task.node_id)
    };
    Ok(format!(
        "# Runtime\n- Working directory (absolute): {} — run commands and write files relative to it\n- Current date: {date}\n{place}\n\n{prompt}",
        workdir.display()
    ))
}

/// The context sections a non-`full` fidelity level carries, in key order (the
/// reference's order is that of a Go map, i.e. random; sorted is stable).
fn fidelity_summary(vars: &ContextVars<'_>, reads: &[String], fidelity: Fidelity) -> String {
    let reads: Vec<&str> = reads.iter().map(String::as_str).collect();
    let keys: Vec<&str> = match fidelity.keys(&reads) {
        Some(keys) => keys,
        None => vars.ctx.keys().map(String::as_str).collect(),
    };
    keys.into_iter()
        .filter_map(|key| {
            let value = vars.get(key);
            (!value.is_empty()).then(|| format!("## {key}\n{}", fidelity.shape(value)))
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// `text` cut to its first and last `cap / 2` bytes with a marker between, when
/// longer than `cap` (a negative cap keeps everything).
pub fn elide_middle(text: &str, cap: i64) -> String {
    let Ok(cap) = usize::try_from(cap) else {
        return text.to_string();
    };
    if text.len() <= cap {
        return text.to_string();
    }
    let head = tracker_runtime::text::head(text, cap / 2).len();
    let tail = text.len() - tracker_runtime::text::tail(text, cap - cap / 2).len();
    let elided = tail - head;
    format!(
        "{}\n[... tracker elided {elided} of {} bytes from the middle of this output ...]\n{}",
        &text[..head],
        text.len(),
        &text[tail..]
    )
}

/// `auto_status` (§3.7): the last `STATUS: success|fail|retry` line outside code
/// fences decides the outcome; without one a goal gate fails closed and any
/// other node succeeds, with an `auto_status_missing` event either way.
fn apply_auto_status(task: &NodeTask, text: &str, outcome: &mut Outcome) {
    match parse_status_line(text) {
        Some(status) => outcome.status = status.into(),
        None => {
            let gate = task.spec.common.goal_gate;
            outcome.status = if gate { FAIL } else { SUCCESS }.into();
            outcome.missing_auto_status = Some(AutoStatusDetail {
                tail: Some(tracker_runtime::text::tail(text, 256).to_string())
                    .filter(|t| !t.is_empty()),
                fail_closed: gate,
            });
        }
    }
}

/// The status of the last `STATUS:` line outside code fences.
pub fn parse_status_line(text: &str) -> Option<&'static str> {
    let mut in_fence = false;
    let mut found = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        let line = line.trim_start_matches('#').trim().trim_matches(['*', '_']);
        let Some(prefix) = line.get(..7) else {
            continue;
        };
        if !prefix.eq_ignore_ascii_case("status:") {
            continue;
        }
        let value = line[7..]
            .trim()
            .trim_matches(['*', '_'])
            .to_ascii_lowercase();
        found = match value.as_str() {
            "success" => Some(SUCCESS),
            "fail" => Some(FAIL),
            "retry" => Some(RETRY),
            _ => found,
        };
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_are_found_outside_fences() {
        assert_eq!(parse_status_line("done\nSTATUS: success"), Some("success"));
        assert_eq!(parse_status_line("## **Status: FAIL**"), Some("fail"));
        assert_eq!(
            parse_status_line("STATUS: fail\n```\nSTATUS: success\n```"),
            Some("fail")
        );
        assert_eq!(
            parse_status_line("status: retry\nSTATUS: success"),
            Some("success")
        );
        assert_eq!(parse_status_line("STATUS: maybe"), None);
        assert_eq!(parse_status_line("no status here"), None);
    }

    #[test]
    fn long_outputs_lose_their_middle() {
        let text = "a".repeat(100) + &"b".repeat(100);
        let cut = elide_middle(&text, 20);
        assert!(cut.starts_with("aaaaaaaaaa\n[... tracker elided 180 of 200 bytes"));
        assert!(cut.ends_with("\nbbbbbbbbbb"));
        assert_eq!(elide_middle("short", 20), "short");
        assert_eq!(elide_middle(&text, -1), text);
    }

    #[test]
    fn node_settings_beat_workflow_defaults() {
        let (wf, diags) = dippin::parse_dip(
            "workflow W\n  start: A\n  exit: A\n  agent A\n    prompt: go\n    model: m\n",
        );
        assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
        let plan = tracker_runtime::plan::SpawnPlan::compile(&wf).expect("plan");
        let agent = plan.nodes[0].spec.agent().expect("an agent");
        let graph: attrs::Attrs = [("llm_provider".to_string(), "stub".to_string())].into();
        assert_eq!(
            provider_and_model(agent, &graph),
            ("stub".to_string(), "m".to_string())
        );
        let bare = tracker_runtime::plan::SpawnPlan::compile(
            &dippin::parse_dip("workflow W\n  start: A\n  exit: B\n  agent A\n    prompt: go\n  agent B\n    prompt: end\n  edges\n    A -> B\n").0,
        )
        .expect("plan");
        assert_eq!(
            provider_and_model(
                bare.nodes[0].spec.agent().expect("agent"),
                &attrs::Attrs::new()
            ),
            (DEFAULT_PROVIDER.to_string(), DEFAULT_MODEL.to_string())
        );
    }
}
