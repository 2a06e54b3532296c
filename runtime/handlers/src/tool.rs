//! The `tool` handler: a shell command (engine-semantics §5.3).
//!
//! Configuration problems — no command, a denied command, an unsafe
//! `${ctx.*}` reference, a bad timeout or limit — and a timeout or a shell that
//! will not start are handler errors, which end the run; they are not outcomes
//! a workflow can route on. A command that runs is `success` when it exits 0
//! and `fail` otherwise.

use std::ffi::OsString;
use std::sync::OnceLock;
use std::time::Duration;

use dippin::duration::GoDuration;
use regex::Regex;

use super::shell::{self, Captured, ShellCommand, ShellError};
use super::{write_status, BoxFuture, ContextVars, HandlerEnv, NodeHandler};
use tracker_runtime::engine::NodeTask;
use tracker_runtime::event::{MarkerDetail, RouteDetail, Truncation};
use tracker_runtime::interpolate::{expand_braces, Mode};
use tracker_runtime::outcome::{HandlerError, NodeResult, Outcome, FAIL, SUCCESS};
use tracker_runtime::spec::KindSpec;
use tracker_runtime::tool_safety::CommandRules;

/// A tool's timeout when the node sets none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How much of each stream is kept when the node sets no `output_limit`.
pub const DEFAULT_OUTPUT_LIMIT: u64 = 64 * 1024;
/// The largest `output_limit` allowed unless `--max-output-limit` says otherwise.
pub const MAX_OUTPUT_LIMIT: u64 = 10 * 1024 * 1024;
/// How much of stdout a missing-marker or missing-route event quotes.
const DIAGNOSTIC_TAIL: usize = 256;

/// Runs `tool` nodes.
#[derive(Debug)]
pub struct ToolHandler;

impl NodeHandler for ToolHandler {
    fn run(&self, task: NodeTask, env: HandlerEnv) -> BoxFuture<NodeResult> {
        Box::pin(async move { run_tool(task, env).await.map_err(Into::into) })
    }
}

async fn run_tool(task: NodeTask, env: HandlerEnv) -> Result<Outcome, HandlerError> {
    let id = &task.node_id;
    let config = |message: String| HandlerError::Config {
        node: id.clone(),
        message,
    };
    let command_error = |message: String| HandlerError::Command {
        node: id.clone(),
        message,
    };
    let KindSpec::Tool(tool) = &task.spec.kind else {
        return Err(config(format!("node {id:?} is not a tool node")));
    };
    let raw = tool.command.as_str();
    if raw.trim().is_empty() {
        return Err(config(format!("tool node {id:?} has no command")));
    }
    let vars = ContextVars::of(&task, &env.plan);
    let command = expand_braces(raw, &vars, Mode::ToolCommand)
        .map_err(|e| config(format!("tool node {id:?}: {e}")))?;
    if command.trim().is_empty() {
        return Err(config(format!(
            "tool node {id:?}: the command is empty after interpolation"
        )));
    }
    // Checked, then dropped: the rules are not kept while the command runs.
    let graph = &env.plan.graph_attrs;
    CommandRules::new(
        &env.services.tool_policy,
        graph.get("tool_denylist_add").map_or("", String::as_str),
        graph.get("tool_commands_allow").map_or("", String::as_str),
    )
    .check(&command)
    .map_err(|e| command_error(format!("tool node {id:?}: {e}")))?;
    let timeout = tool.timeout.unwrap_or(DEFAULT_TIMEOUT);
    let cap = match env.services.tool_policy.max_output_limit {
        0 => MAX_OUTPUT_LIMIT,
        n => n,
    };
    let output_limit = tool.output_limit.unwrap_or(DEFAULT_OUTPUT_LIMIT).min(cap);
    // Without a checkpoint (a child run's node) nothing can resume this
    // attempt: its files go to a private directory of its own, removed after
    // it, not to the node's directory, which other runs of the same child
    // workflow share (`<workdir>/<node>`). It is under the working directory's
    // `.tracker/`, on the disk the output would go to anyway (a temporary
    // directory may be memory).
    let scratch = if env.resume_token.is_empty() {
        let scratch_error = |e: std::io::Error| {
            command_error(format!(
                "tool node {id:?}: cannot make a directory for the command's output: {e}"
            ))
        };
        let parent = env.workdir.join(".tracker").join("tmp");
        tracker_runtime::private_files::create_dir_all(&parent).map_err(scratch_error)?;
        Some(
            tempfile::Builder::new()
                .prefix("attempt-")
                .tempdir_in(&parent)
                .map_err(scratch_error)?,
        )
    } else {
        None
    };
    let node_dir = env.node_dir(&task);
    let attempt_dir = match &scratch {
        Some(dir) => dir.path().join(".inflight"),
        None => node_dir.join(".inflight"),
    };
    let cmd = ShellCommand {
        script: command,
        written: raw.to_string(),
        cwd: env.workdir.clone(),
        env: tool_environment(&task, &env),
        timeout,
        attempt_dir,
        token: env.resume_token.clone(),
        output_limit,
    };
    let ran = shell::run(&cmd).await;
    drop(scratch);
    let output = ran.map_err(|e| match e {
        ShellError::TimedOut(d) => command_error(format!(
            "tool node {id:?}: command timed out after {}",
            GoDuration::from_std(d)
        )),
        other => command_error(format!("tool node {id:?}: {other}")),
    })?;

    if output.replaced {
        let mut event = env.event(tracker_runtime::event::EventKind::Warning, &task);
        event.message = Some(format!(
            "tool node {id:?}: the command changed since it was started before tracker stopped; ran the new command (the old one was stopped, if it still ran)"
        ));
        env.events.emit(event).await;
    }
    if output.adopted {
        let mut event = env.event(tracker_runtime::event::EventKind::Warning, &task);
        event.message = Some(format!(
            "tool node {id:?}: the command started before tracker stopped (it may have finished); adopted its result (exit {}) instead of running it again",
            output.exit_code
        ));
        env.events.emit(event).await;
    }
    let mut outcome = Outcome::with_status(if output.exit_code == 0 { SUCCESS } else { FAIL });
    let stdout = trim_end(&output.stdout.text);
    let stderr = trim_end(&output.stderr.text);
    outcome = outcome
        .update("tool_stdout", stdout)
        .update("tool_stderr", stderr);
    for (name, captured) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        if captured.truncated() {
            outcome
                .truncations
                .push(truncation(name, captured, output_limit));
        }
    }
    apply_marker(tool.marker_grep.as_str(), &output.stdout.text, &mut outcome);
    apply_route(tool.route_required, &output.stdout.text, &mut outcome);
    if outcome.status == SUCCESS {
        super::writes::apply(&task.spec.common.writes, &output.stdout.text, &mut outcome);
    }
    write_status(&node_dir, &outcome).map_err(|source| HandlerError::Io {
        node: id.clone(),
        source,
    })?;
    Ok(outcome)
}

fn trim_end(text: &str) -> String {
    text.trim_end_matches([' ', '\t', '\n', '\r']).to_string()
}

fn truncation(stream: &str, captured: &Captured, limit: u64) -> Truncation {
    Truncation {
        stream: Some(stream.into()),
        limit: Some(limit),
        captured_bytes: Some(captured.captured_bytes),
        dropped_bytes: Some(captured.total_bytes - captured.captured_bytes),
        total_bytes: Some(captured.total_bytes),
    }
}

/// The environment a tool sees: tracker's own, minus anything that looks like a
/// secret ([`tracker_runtime::secrets::is_secret`], the rule the agent's `bash` follows
/// too; unless `TRACKER_PASS_ENV=1`), plus `TRACKER_RUN_ID`, `TRACKER_RUN_DIR`
/// (with an artifact directory) and `TRACKER_WORKDIR`.
pub fn tool_environment(task: &NodeTask, env: &HandlerEnv) -> Vec<(OsString, OsString)> {
    // Filtered once: tracker never changes its own environment, and looking
    // at every variable for secrets was a fortieth of a tool node's time.
    static INHERITED: OnceLock<Vec<(OsString, OsString)>> = OnceLock::new();
    let inherited = INHERITED.get_or_init(|| {
        let pass_all = tracker_runtime::secrets::pass_all();
        std::env::vars_os()
            .filter(|(name, value)| {
                pass_all || !tracker_runtime::secrets::is_secret_var(name, value)
            })
            .filter(|(name, _)| {
                !matches!(
                    name.to_str(),
                    Some("TRACKER_RUN_ID" | "TRACKER_RUN_DIR" | "TRACKER_WORKDIR")
                )
            })
            .collect()
    });
    let mut vars = Vec::with_capacity(inherited.len() + 3);
    vars.extend_from_slice(inherited);
    vars.push(("TRACKER_RUN_ID".into(), task.run_id.clone().into()));
    if let Some(dir) = &task.artifact_dir {
        vars.push(("TRACKER_RUN_DIR".into(), dir.clone().into()));
    }
    vars.push(("TRACKER_WORKDIR".into(), env.workdir.clone().into()));
    vars
}

/// The last `DIAGNOSTIC_TAIL` bytes of `text`, on a character boundary.
fn diagnostic_tail(text: &str) -> String {
    tracker_runtime::text::tail(text, DIAGNOSTIC_TAIL).to_string()
}

/// `marker_grep`: the last line matching the pattern sets `tool_marker` (its
/// first group, else the whole match); no match, or a bad pattern, fails the
/// node.
fn apply_marker(pattern: &str, stdout: &str, outcome: &mut Outcome) {
    if pattern.is_empty() {
        return;
    }
    outcome
        .context_updates
        .insert("tool_marker".into(), String::new());
    outcome
        .context_updates
        .insert("tool_marker_error".into(), String::new());
    let re = match Regex::new(pattern) {
        Ok(re) => re,
        Err(e) => {
            outcome.status = FAIL.into();
            outcome
                .context_updates
                .insert("tool_marker_error".into(), e.to_string());
            outcome.missing_marker = Some(MarkerDetail {
                pattern: Some(pattern.into()),
                tail: Some(diagnostic_tail(stdout)).filter(|t| !t.is_empty()),
                error: Some(e.to_string()),
            });
            return;
        }
    };
    match tracker_runtime::marker::find(&re, stdout) {
        Some(marker) => {
            outcome.context_updates.insert("tool_marker".into(), marker);
        }
        None => {
            outcome.status = FAIL.into();
            outcome.missing_marker = Some(MarkerDetail {
                pattern: Some(pattern.into()),
                tail: Some(diagnostic_tail(stdout)).filter(|t| !t.is_empty()),
                error: None,
            });
        }
    }
}

/// The routing sentinel: the last `_TRACKER_ROUTE=<value>` line sets
/// `tool_route`; with `route_required`, its absence fails the node.
fn apply_route(route_required: bool, stdout: &str, outcome: &mut Outcome) {
    let sentinel = stdout.lines().rev().find_map(|line| {
        line.trim()
            .strip_prefix("_TRACKER_ROUTE=")
            .map(str::trim)
            .filter(|v| !v.is_empty())
    });
    outcome.context_updates.insert(
        "tool_route".into(),
        sentinel.map_or(String::new(), String::from),
    );
    if sentinel.is_none() && route_required {
        outcome.status = FAIL.into();
        outcome.missing_route = Some(RouteDetail {
            tail: Some(diagnostic_tail(stdout)).filter(|t| !t.is_empty()),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostic_tails_respect_char_boundaries() {
        let text = "é".repeat(200);
        let tail = diagnostic_tail(&text);
        assert!(tail.len() <= DIAGNOSTIC_TAIL);
        assert!(tail.chars().all(|c| c == 'é'));
    }
}
