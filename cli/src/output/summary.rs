//! The summary printed when a run ends. Node ids, the pipeline's name and
//! error details are shown printable (no terminal escape sequences).

use std::fmt::Write as _;
use std::time::Duration;

use dippin::diagnostic::{printable_line, printable_text};
use tracker_runtime::engine::{RunEnd, RunResult, TerminalStatus};

use super::failure::{self, FailureKind};
use super::totals;

/// Everything the summary shows.
pub struct Summary<'a> {
    /// The run's id.
    pub run_id: &'a str,
    /// How the pipeline was named on the command line.
    pub pipeline: &'a str,
    /// How the run ended.
    pub end: &'a RunEnd,
    /// How long it took.
    pub elapsed: Duration,
    /// The command that resumes the run, if it persisted a checkpoint (see
    /// [`super::resume_hint`]).
    pub resume: Option<String>,
    /// The `--param` values it was given (`KEY=VALUE`).
    pub params: &'a [String],
}

impl Summary<'_> {
    /// The summary text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "\n═══ Run Complete ═══");
        let _ = writeln!(out, "Run ID:    {}", printable_line(self.run_id));
        let _ = writeln!(out, "Status:    {}", status_line(self.end));
        if !self.params.is_empty() {
            // A key given as a parameter stays off the screen.
            let params =
                tracker_runtime::secrets::redact_known(&self.params.join(", ")).into_owned();
            let _ = writeln!(out, "Params:    {}", printable_line(&params));
        }
        let _ = writeln!(out, "Duration:  {}", human_duration(self.elapsed));
        if let Some(result) = &self.end.result {
            render_result(&mut out, result);
        }
        if let Some(error) = &self.end.checkpoint_error {
            let _ = writeln!(out, "\nCheckpoint: {}", printable_line(error));
        }
        let succeeded = self
            .end
            .result
            .as_ref()
            .is_some_and(|r| r.status.is_success());
        if let Some(resume) = self.resume.as_ref().filter(|_| !succeeded) {
            let _ = writeln!(out, "\nResume: {}", printable_line(resume));
        }
        out
    }
}

fn render_result(out: &mut String, result: &RunResult) {
    if let Some(usage) = &result.usage {
        let _ = write!(
            out,
            "Tokens:    {} (in {} / out {})  ${:.4}",
            usage.total_tokens,
            usage.total_input_tokens,
            usage.total_output_tokens,
            usage.total_cost_usd
        );
        // The steps below are this process's; the totals are the run's.
        if let Some(earlier) = &result.earlier_usage {
            let _ = write!(
                out,
                "  (of which {} tokens, ${:.4} before the resume)",
                earlier.total_tokens, earlier.total_cost_usd
            );
        }
        out.push('\n');
        // Tokens of models tracker has no price for count as $0: said, since
        // a cost budget cannot bound them.
        let unpriced: Vec<String> = usage
            .provider_totals
            .iter()
            .filter(|(_, p)| p.total_tokens > 0 && p.cost_usd == 0.0)
            .map(|(name, p)| format!("{} tokens on {}", p.total_tokens, printable_line(name)))
            .collect();
        if !unpriced.is_empty() {
            let _ = writeln!(
                out,
                "Unpriced:  {} (models with no known price, counted at $0)",
                unpriced.join(", ")
            );
        }
    }
    totals::write_totals(out, result);
    if !result.trace.is_empty() {
        let _ = writeln!(out, "\nNode Execution");
        for entry in &result.trace {
            let row = totals::step_row(entry, &human_duration(entry.duration));
            let _ = writeln!(out, "{row}");
        }
    }
    totals::write_providers(out, result);
    totals::write_path(out, result);
    if !result.budget_limits_hit.is_empty() {
        let _ = writeln!(
            out,
            "\nHALTED: budget exceeded ({})",
            printable_line(&result.budget_limits_hit.join(", "))
        );
    } else if result.status == TerminalStatus::Fail {
        if let Some(reason) = failure::reason(result) {
            let kind = reason.kind();
            let _ = writeln!(out, "\n{}\n  {reason}", kind.title());
            if let Some(step) = kind.next_step() {
                let _ = writeln!(out, "  {step}");
            }
        }
    }
}

/// `● success`, `● fail`, `⏸ paused — …`, `● validation_overridden — at …`.
fn status_line(end: &RunEnd) -> String {
    match &end.result {
        None => "● fail (halted)".into(),
        Some(result) => match result.status {
            TerminalStatus::PausedBilling => {
                "⏸ paused — billing/quota (add credit, then resume)".into()
            }
            TerminalStatus::ValidationOverridden => {
                let at = result
                    .validation_overrides
                    .first()
                    .map(|o| format!(" — at {} (label {:?})", o.gate_node_id, o.label))
                    .unwrap_or_default();
                format!("● validation_overridden{at}")
            }
            status => format!("● {}", status.as_str()),
        },
    }
}

/// One run's line in the table printed after several runs.
pub struct Row<'a> {
    /// How the pipeline was named on the command line.
    pub pipeline: &'a str,
    /// The run's id.
    pub run_id: &'a str,
    /// How it ended.
    pub end: &'a RunEnd,
    /// How long it took, its wait for a slot included.
    pub elapsed: Duration,
    /// The command that resumes it (see [`super::resume_hint`]).
    pub resume: String,
}

/// The table closing a run of several pipelines: one row each, a count, and
/// how to resume each run that did not succeed.
pub fn table(rows: &[Row<'_>]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n═══ Runs ═══");
    let _ = writeln!(
        out,
        "{:<28} {:<14} {:<22} {:>9} {:>10} {:>9}",
        "PIPELINE", "RUN ID", "STATUS", "DURATION", "TOKENS", "COST"
    );
    let mut succeeded = 0;
    for row in rows {
        let result = row.end.result.as_ref();
        let status = result.map_or("halted", |r| r.status.as_str());
        if result.is_some_and(|r| r.status.is_success()) {
            succeeded += 1;
        }
        let usage = result.and_then(|r| r.usage.as_ref());
        let _ = writeln!(
            out,
            "{:<28} {:<14} {:<22} {:>9} {:>10} {:>9}",
            printable_line(row.pipeline),
            printable_line(row.run_id),
            status,
            human_duration(row.elapsed),
            usage.map_or(0, |u| u.total_tokens),
            format!("${:.4}", usage.map_or(0.0, |u| u.total_cost_usd)),
        );
    }
    let _ = writeln!(
        out,
        "{} runs: {succeeded} succeeded, {} did not",
        rows.len(),
        rows.len() - succeeded
    );
    for row in rows {
        if !row
            .end
            .result
            .as_ref()
            .is_some_and(|r| r.status.is_success())
        {
            let _ = writeln!(out, "Resume: {}", printable_line(&row.resume));
        }
    }
    out
}

/// The one line a failed run leaves on stderr.
pub fn failure_line(end: &RunEnd) -> Option<String> {
    let status = end.result.as_ref().map(|r| r.status);
    let detail = printable_text(end.error.as_deref().unwrap_or(""));
    let with = |title: &str| {
        if detail.is_empty() {
            title.to_string()
        } else {
            format!("{title}: {detail}")
        }
    };
    match status {
        Some(TerminalStatus::Success | TerminalStatus::ValidationOverridden) => None,
        Some(TerminalStatus::BudgetExceeded) => Some(format!(
            "⏳ budget exceeded ({})",
            end.result
                .as_ref()
                .map(|r| r.budget_limits_hit.join(", "))
                .unwrap_or_default()
        )),
        Some(TerminalStatus::PausedBilling) => {
            Some(with("💳 paused: provider credit or quota exhausted"))
        }
        Some(TerminalStatus::Fail) => {
            let reason = end.result.as_ref().and_then(failure::reason);
            let kind = match reason.as_ref().map(failure::Reason::kind) {
                Some(kind) if kind != FailureKind::Generic => kind,
                _ => FailureKind::of(&detail),
            };
            // Compared as one line each: the run's error often is the step's.
            let one_line = printable_line(end.error.as_deref().unwrap_or(""));
            Some(match reason {
                Some(reason) if detail.is_empty() => format!("{}: {reason}", kind.title()),
                Some(reason) if !one_line.contains(&reason.said) => {
                    format!("{}: {detail} ({reason})", kind.title())
                }
                _ => with(kind.title()),
            })
        }
        None => Some(with("✗ Run halted")),
    }
}

/// `850ms`, `12.3s`, `4m05s`.
pub fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        let secs = d.as_secs();
        format!("{}m{:02}s", secs / 60, secs % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(Duration::from_millis(850)), "850ms");
        assert_eq!(human_duration(Duration::from_millis(12_340)), "12.3s");
        assert_eq!(human_duration(Duration::from_secs(245)), "4m05s");
    }

    #[test]
    fn halted_runs_have_a_failure_line() {
        let end = RunEnd {
            checkpoint_error: None,
            result: None,
            error: Some("no outgoing edges".into()),
        };
        assert_eq!(
            failure_line(&end).as_deref(),
            Some("✗ Run halted: no outgoing edges")
        );
    }

    #[test]
    fn a_failure_line_says_the_steps_reason_once() {
        let said = "gate \"G\": no answer: the gate was closed without one";
        let end = RunEnd {
            checkpoint_error: None,
            result: Some(crate::output::failure::tests::failed_at(
                "wait.human",
                said,
                &[],
            )),
            error: Some(said.into()),
        };
        assert_eq!(failure_line(&end), Some(format!("✗ Run failed: {said}")));
        let end = RunEnd {
            error: Some("pipeline failed".into()),
            ..end
        };
        assert_eq!(
            failure_line(&end),
            Some(format!(
                "✗ Run failed: pipeline failed (node \"T\": {said})"
            ))
        );
        // Over several lines, it is still the same reason.
        let lines = "tool node \"T\": first\nsecond";
        let end = RunEnd {
            checkpoint_error: None,
            result: Some(crate::output::failure::tests::failed_at("tool", lines, &[])),
            error: Some(lines.into()),
        };
        assert_eq!(failure_line(&end), Some(format!("✗ Run failed: {lines}")));
        // Cut for the line, it is still the same reason.
        let long = format!("tool node \"T\": {}", "x".repeat(400));
        let end = RunEnd {
            checkpoint_error: None,
            result: Some(crate::output::failure::tests::failed_at("tool", &long, &[])),
            error: Some(long.clone()),
        };
        assert_eq!(failure_line(&end), Some(format!("✗ Run failed: {long}")));
    }

    #[test]
    fn failure_lines_show_no_terminal_escapes() {
        let end = RunEnd {
            checkpoint_error: None,
            result: None,
            error: Some("tool said \x1b[2K\rall good".into()),
        };
        assert_eq!(
            failure_line(&end).as_deref(),
            Some("✗ Run halted: tool said \u{FFFD}[2K\u{FFFD}all good")
        );
    }

    #[test]
    fn a_failed_checkpoint_fold_shows_in_the_summary() {
        let end = RunEnd {
            checkpoint_error: Some(
                "fold failed: checkpoint write failed: No such file or directory (os error 2)"
                    .into(),
            ),
            result: None,
            error: None,
        };
        let summary = Summary {
            run_id: "r",
            pipeline: "p.dip",
            end: &end,
            elapsed: Duration::from_secs(1),
            resume: None,
            params: &[],
        }
        .render();
        assert!(
            summary.contains(
                "\nCheckpoint: fold failed: checkpoint write failed: No such file or directory (os error 2)\n"
            ),
            "{summary}"
        );
    }

    #[test]
    fn tokens_of_unpriced_models_are_said_to_be_counted_at_nothing() {
        use tracker_runtime::usage::{SessionStats, UsageSummary};
        let mut usage = UsageSummary::default();
        for (provider, cost_usd) in [("anthropic", 0.25), ("openai-compat", 0.0)] {
            usage.add_session(&SessionStats {
                input_tokens: 100,
                output_tokens: 20,
                total_tokens: 120,
                cost_usd,
                provider: provider.into(),
                ..SessionStats::default()
            });
        }
        let mut result = crate::output::failure::tests::failed_at("codergen", "", &[]);
        result.usage = Some(usage);
        let end = RunEnd {
            checkpoint_error: None,
            result: Some(result),
            error: None,
        };
        let summary = Summary {
            run_id: "r",
            pipeline: "p.dip",
            end: &end,
            elapsed: Duration::from_secs(1),
            resume: None,
            params: &[],
        }
        .render();
        assert!(
            summary.contains(
                "\nUnpriced:  120 tokens on openai-compat (models with no known price, counted at $0)\n"
            ),
            "{summary}"
        );
        assert!(!summary.contains("on anthropic"), "{summary}");
    }
}
