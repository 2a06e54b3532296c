//! The parts of a run's summary added up from its trace (user-surface §1.4):
//! the run's totals, each step's row, the tokens by provider and the path the
//! run took.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use dippin::diagnostic::printable_line;
use tracker_runtime::engine::{RunResult, TraceEntry};

/// The most steps the `Pipeline` line shows: the first ones and the last
/// ones, with how many were left out between them.
const PATH_SHOWN: usize = 24;

/// `Totals`: turns, tool calls by tool, files and compactions of every agent
/// session. Nothing when no agent ran.
pub fn write_totals(out: &mut String, result: &RunResult) {
    let sessions: Vec<_> = result
        .trace
        .iter()
        .filter_map(|e| e.stats.as_ref())
        .collect();
    if sessions.is_empty() {
        return;
    }
    let turns: u64 = sessions.iter().map(|s| s.turns).sum();
    let mut by_tool: BTreeMap<&str, u64> = BTreeMap::new();
    let mut created = BTreeSet::new();
    let mut modified = BTreeSet::new();
    for stats in &sessions {
        for (tool, calls) in &stats.tool_calls {
            *by_tool.entry(tool.as_str()).or_default() += calls;
        }
        created.extend(stats.files_created.iter());
        modified.extend(stats.files_modified.iter());
    }
    let compactions: u64 = sessions.iter().map(|s| s.compactions).sum();
    let calls: u64 = by_tool.values().sum();
    let _ = writeln!(out, "\nTotals");
    let _ = writeln!(out, "  Turns:       {turns}");
    let tools = by_tool
        .iter()
        .map(|(tool, n)| format!("{} {n}", printable_line(tool)))
        .collect::<Vec<_>>()
        .join(", ");
    if calls == 0 {
        let _ = writeln!(out, "  Tool calls:  0");
    } else {
        let _ = writeln!(out, "  Tool calls:  {calls} ({tools})");
    }
    // A file created and then changed counts as created.
    let modified = modified.difference(&created).count();
    if !created.is_empty() || modified > 0 {
        let _ = writeln!(
            out,
            "  Files:       {} created, {modified} modified",
            created.len()
        );
    }
    if compactions > 0 {
        let _ = writeln!(out, "  Compactions: {compactions}");
    }
}

/// The `Node Execution` row of one step: its mark, node, handler, time, and
/// for an agent its turns, tool calls and cost.
pub fn step_row(entry: &TraceEntry, time: &str) -> String {
    let mark = match entry.status.as_str() {
        "success" => "✓",
        "retry" => "↻",
        _ => "✗",
    };
    let mut row = format!(
        "  {mark} {:<24} {:<18} {time:>8}",
        printable_line(&entry.node_id),
        printable_line(&entry.handler_name),
    );
    if let Some(stats) = &entry.stats {
        let plural = |n: u64, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
        let _ = write!(
            row,
            "  {:<9} {:<10} ${:.4}",
            plural(stats.turns, "turn"),
            plural(stats.total_tool_calls, "tool"),
            stats.cost_usd
        );
    }
    row
}

/// `Tokens by Provider`: each provider's tokens, cost and sessions (child
/// runs' included).
pub fn write_providers(out: &mut String, result: &RunResult) {
    let Some(usage) = &result.usage else {
        return;
    };
    if usage.provider_totals.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nTokens by Provider");
    for (provider, totals) in &usage.provider_totals {
        let _ = writeln!(
            out,
            "  {:<14} {} (in {} / out {})  ${:.4}  {} session{}",
            printable_line(provider),
            totals.total_tokens,
            totals.input_tokens,
            totals.output_tokens,
            totals.cost_usd,
            totals.session_count,
            if totals.session_count == 1 { "" } else { "s" }
        );
    }
}

/// `Pipeline`: the steps in the order they ran (a long run's first and last
/// ones).
pub fn write_path(out: &mut String, result: &RunResult) {
    let steps: Vec<String> = result
        .trace
        .iter()
        .map(|e| printable_line(&e.node_id).into_owned())
        .collect();
    if steps.is_empty() {
        return;
    }
    let shown = if steps.len() <= PATH_SHOWN {
        steps.join(" → ")
    } else {
        let head = PATH_SHOWN * 2 / 3;
        let tail = PATH_SHOWN - head;
        format!(
            "{} → … {} more … → {}",
            steps[..head].join(" → "),
            steps.len() - head - tail,
            steps[steps.len() - tail..].join(" → ")
        )
    };
    let _ = writeln!(out, "\nPipeline\n  {shown}");
}
