//! Printing diagnostics: rustc-style text for people, and the `check` JSON report.

use std::io::Write;

use dippin::{Diagnostic, Document, Severity};
use serde::Serialize;

/// Counts of the diagnostics that matter for the exit code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Error-severity diagnostics.
    pub errors: usize,
    /// Warning-severity diagnostics (hints and infos are not counted).
    pub warnings: usize,
}

impl Tally {
    /// Counts `diags`.
    pub fn of(diags: &[Diagnostic]) -> Tally {
        Tally {
            errors: diags
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count(),
            warnings: diags
                .iter()
                .filter(|d| d.severity == Severity::Warning)
                .count(),
        }
    }
}

/// Writes every diagnostic, rendered against `doc`'s source, to `out`.
pub fn write_human(
    out: &mut impl Write,
    doc: &Document,
    diags: &[Diagnostic],
) -> std::io::Result<()> {
    for diag in diags {
        writeln!(out, "{}", diag.render(&doc.source))?;
    }
    Ok(())
}

/// One diagnostic in the `check` JSON report.
#[derive(Debug, Serialize)]
pub struct JsonDiagnostic {
    /// `DIP000`…`DIP162`.
    pub code: String,
    /// `error`, `warning`, `info` or `hint`.
    pub severity: &'static str,
    /// The one-line message.
    pub message: String,
    /// 1-based line, omitted when the diagnostic has no location.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column (characters), omitted with `line`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// The suggested fix, omitted when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// The `check --json` report, in the reference's key order.
#[derive(Debug, Serialize)]
pub struct CheckReport {
    /// No parse or structural error.
    pub valid: bool,
    /// Number of error-severity diagnostics.
    pub errors: usize,
    /// Number of warning-severity diagnostics.
    pub warnings: usize,
    /// Every diagnostic: parse, then validation, then lint.
    pub diagnostics: Vec<JsonDiagnostic>,
    /// The distinct fixes, in order (never null).
    pub suggested_actions: Vec<String>,
}

impl CheckReport {
    /// Builds the report for `diags` found in `doc`; `valid` is whether no parse or
    /// structural (`DIP000`–`DIP010`) error was found.
    pub fn new(doc: &Document, diags: &[Diagnostic]) -> CheckReport {
        let tally = Tally::of(diags);
        let valid = !diags.iter().any(|d| d.is_error() && d.code.0 < 100);
        let mut suggested_actions: Vec<String> = Vec::new();
        for fix in diags.iter().filter_map(|d| d.fix.as_ref()) {
            if !fix.is_empty() && !suggested_actions.contains(fix) {
                suggested_actions.push(fix.clone());
            }
        }
        let diagnostics = diags
            .iter()
            .map(|d| {
                let pos = d.position(&doc.source);
                JsonDiagnostic {
                    code: d.code.to_string(),
                    severity: d.severity.as_str(),
                    message: d.message.clone(),
                    line: pos.map(|p| p.line),
                    column: pos.map(|p| p.column),
                    fix: d.fix.clone().filter(|f| !f.is_empty()),
                }
            })
            .collect();
        CheckReport {
            valid,
            errors: tally.errors,
            warnings: tally.warnings,
            diagnostics,
            suggested_actions,
        }
    }
}
