//! `tracker test <pipeline> [tests.json]`: runs a pipeline's scenario tests
//! through the simulator ([`tracker_runtime::scenario`]), as `dippin test`
//! does. The tests are `<pipeline>.test.json` beside the pipeline (a built-in's
//! ship inside the binary) unless a file is given:
//!
//! ```json
//! {"tests": [{"name": "…", "scenario": {"outcome": "fail", "Review.preferred_label": "approve"},
//!             "branch": ["WorkerA"],
//!             "expect": {"status": "success", "visited": ["…"], "not_visited": ["…"],
//!                        "path_contains": ["…"], "immediately_after": {"A": "B"}}}]}
//! ```
//!
//! Exit status: 0 when every test passes, 1 when one fails (or the pipeline
//! does not load), [`BAD_TESTS`] when the tests cannot be used: no file,
//! malformed JSON, an unknown field, a node the pipeline does not have, a
//! `--run` that selects nothing, or bad arguments.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use dippin::diagnostic::printable_line as shown;
use serde::Deserialize;
use tracker_runtime::plan::SpawnPlan;
use tracker_runtime::scenario::{self, Ending, Scenario, Walk};

use crate::args::{TestArgs, TestFormat};
use crate::exit;
use crate::pipeline::PipelineSource;

/// The exit status when the tests themselves cannot be used.
pub const BAD_TESTS: u8 = 2;

/// A scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    tests: Vec<TestCase>,
}

/// One scenario and what must happen.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestCase {
    name: String,
    #[serde(default)]
    scenario: BTreeMap<String, String>,
    #[serde(default)]
    branch: Vec<String>,
    #[serde(default)]
    expect: Expect,
}

/// A scenario's expectations; every one given must hold.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    status: Option<String>,
    #[serde(default)]
    visited: Vec<String>,
    #[serde(default)]
    not_visited: Vec<String>,
    #[serde(default)]
    path_contains: Vec<String>,
    #[serde(default)]
    immediately_after: BTreeMap<String, String>,
}

/// One scenario's result.
#[derive(Debug)]
struct Outcome {
    name: String,
    path: Vec<String>,
    /// The walk was stopped by the step limit (a loop it never left).
    stopped: bool,
    /// The nodes whose loop the visit cap broke, in order.
    loop_breaks: Vec<String>,
    /// Why it failed; empty when it passed.
    errors: Vec<String>,
}

/// Runs the tests and prints their results.
pub fn run(args: &TestArgs) -> Result<u8> {
    // A pipeline that cannot be read is a bad argument, as a missing test file is.
    let (source, doc, diags) = match super::analyse(&args.pipeline, false) {
        Ok(analysed) => analysed,
        Err(e) => return refuse(args, BAD_TESTS, &format!("{e:#}"), None),
    };
    // What `validate` and `run` refuse (an unconditional cycle, a node
    // nothing reaches) is refused here too: tests passing on a pipeline that
    // cannot run would say nothing.
    if doc.has_errors() || crate::report::Tally::of(&diags).errors > 0 {
        let code = super::validate::verdict(&source, &doc, &diags)?;
        let report = crate::report::CheckReport::new(&doc, &diags);
        let message = format!("{}: the pipeline is invalid", source.display_name());
        return refuse_quietly(args, code, &message, Some(report));
    }
    let plan = match SpawnPlan::compile(&doc.workflow) {
        Ok(plan) => plan,
        Err(e) => {
            let message = format!("{}: {}", source.display_name(), shown(&e.to_string()));
            eprintln!("{message}");
            return refuse_quietly(args, exit::FAILURE, &message, None);
        }
    };
    let (origin, text) = match read_tests(&source, args.tests.as_deref()) {
        Ok(found) => found,
        Err(message) => return refuse(args, BAD_TESTS, &message, None),
    };
    let file = match parse(&origin, &text, &plan) {
        Ok(file) => file,
        Err(message) => return refuse(args, BAD_TESTS, &message, None),
    };
    let selected: Vec<&TestCase> = file
        .tests
        .iter()
        .filter(|t| {
            args.run
                .as_deref()
                .is_none_or(|wanted| t.name.contains(wanted))
        })
        .collect();
    if selected.is_empty() {
        let which = args.run.as_deref().map_or("at all".to_string(), |w| {
            format!("whose name contains {w:?}")
        });
        return refuse(args, BAD_TESTS, &format!("{origin}: no test {which}"), None);
    }
    let outcomes: Vec<Outcome> = selected.into_iter().map(|t| check(&plan, t)).collect();
    let failed = outcomes.iter().filter(|o| !o.errors.is_empty()).count();
    let mut stdout = std::io::stdout().lock();
    match args.format {
        TestFormat::Json => writeln!(stdout, "{}", as_json(&outcomes))?,
        TestFormat::Text => write_text(&mut stdout, &outcomes)?,
    }
    Ok(if failed == 0 { exit::OK } else { exit::FAILURE })
}

/// Says why no test ran, as `error: …` on stderr, and exits with `code`.
fn refuse(
    args: &TestArgs,
    code: u8,
    message: &str,
    report: Option<crate::report::CheckReport>,
) -> Result<u8> {
    eprintln!("error: {message}");
    refuse_quietly(args, code, message, report)
}

/// With `--format json`, says why no test ran on stdout too, as
/// `{"error": …}` (with the pipeline's diagnostics when it is invalid), so a
/// script reading the JSON is never left with nothing to read.
fn refuse_quietly(
    args: &TestArgs,
    code: u8,
    message: &str,
    report: Option<crate::report::CheckReport>,
) -> Result<u8> {
    if args.format == TestFormat::Json {
        let mut json = serde_json::json!({ "error": message });
        if let Some(report) = report {
            json["diagnostics"] = serde_json::to_value(report.diagnostics)?;
        }
        writeln!(std::io::stdout().lock(), "{json}")?;
    }
    Ok(code)
}

/// The tests' text and where it came from: `given`, or `<stem>.test.json`
/// beside the pipeline, or a built-in's own.
fn read_tests(source: &PipelineSource, given: Option<&Path>) -> Result<(String, String), String> {
    let path: PathBuf = match (given, source) {
        (Some(path), _) => path.to_path_buf(),
        (None, PipelineSource::Builtin(builtin)) => {
            return builtin
                .tests
                .map(|text| {
                    (
                        format!("{}.test.json (built in)", builtin.name),
                        text.to_string(),
                    )
                })
                .ok_or_else(|| format!("the built-in {:?} has no tests", builtin.name));
        }
        (None, PipelineSource::File(path) | PipelineSource::RunCopy { copy: path, .. }) => {
            path.with_extension("test.json")
        }
    };
    let shown_path = path.display().to_string();
    std::fs::read_to_string(&path)
        .map(|text| (shown_path.clone(), text))
        .map_err(|e| format!("{shown_path}: {e}"))
}

/// The test file, checked against the pipeline: every node an expectation or
/// a branch names must exist.
fn parse(origin: &str, text: &str, plan: &SpawnPlan) -> Result<TestFile, String> {
    let file: TestFile = serde_json::from_str(text).map_err(|e| {
        // serde_json's message ends with "at line L column C".
        format!(
            "{origin}:{}:{}: {}",
            e.line(),
            e.column(),
            strip_position(&e.to_string())
        )
    })?;
    for test in &file.tests {
        let expect = &test.expect;
        let named = expect
            .visited
            .iter()
            .map(|n| ("expect.visited", n))
            .chain(expect.not_visited.iter().map(|n| ("expect.not_visited", n)))
            .chain(
                expect
                    .path_contains
                    .iter()
                    .map(|n| ("expect.path_contains", n)),
            )
            .chain(expect.immediately_after.iter().flat_map(|(a, b)| {
                [
                    ("expect.immediately_after", a),
                    ("expect.immediately_after", b),
                ]
            }))
            .chain(test.branch.iter().map(|n| ("branch", n)));
        for (field, node) in named {
            if plan.node_index(node).is_none() {
                let (line, column) = position_of(text, &test.name, node);
                return Err(format!(
                    "{origin}:{line}:{column}: test {:?}: {field} names {:?}, which {} has no node of",
                    test.name, node, plan.name
                ));
            }
        }
        // A branch that no `parallel` node fans out to would leave every
        // branch unwalked (the walk takes only those listed).
        let branches: Vec<&String> = plan
            .nodes
            .iter()
            .filter_map(|n| match &n.spec.kind {
                tracker_runtime::spec::KindSpec::Parallel(p) => Some(p.targets.iter()),
                _ => None,
            })
            .flatten()
            .collect();
        if let Some(node) = test.branch.iter().find(|n| !branches.contains(n)) {
            let (line, column) = position_of(text, &test.name, node);
            return Err(format!(
                "{origin}:{line}:{column}: test {:?}: branch names {node:?}, which no parallel node of {} fans out to",
                test.name, plan.name
            ));
        }
        if let Some(status) = &expect.status {
            if !matches!(status.as_str(), "success" | "dead_end") {
                let (line, column) = position_of(text, &test.name, status);
                return Err(format!(
                    "{origin}:{line}:{column}: test {:?}: expect.status is {status:?}; it can be \"success\" or \"dead_end\"",
                    test.name
                ));
            }
        }
    }
    Ok(file)
}

/// `message` without serde_json's trailing " at line L column C".
fn strip_position(message: &str) -> &str {
    message
        .rfind(" at line ")
        .map_or(message, |at| &message[..at])
}

/// The line and column of the JSON string `value` in `text`, looked for after
/// the test named `test` (first the test's name, then the value).
fn position_of(text: &str, test: &str, value: &str) -> (usize, usize) {
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let start = text.find(&quoted(test)).unwrap_or(0);
    let at = text[start..]
        .find(&quoted(value))
        .map_or(start, |offset| start + offset);
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(at, |nl| at - nl - 1) + 1;
    (line, column)
}

/// Walks one scenario and checks its expectations.
fn check(plan: &SpawnPlan, test: &TestCase) -> Outcome {
    let mut scenario = Scenario::from_map(plan, test.scenario.clone());
    scenario.branches = test.branch.clone();
    let walk = scenario::walk(plan, &scenario, scenario::TEST_VISIT_CAP);
    let errors = failures(&test.expect, &walk);
    Outcome {
        name: test.name.clone(),
        stopped: walk.ending == Ending::StepLimit,
        path: walk.path,
        loop_breaks: walk.loop_breaks,
        errors,
    }
}

/// Each expectation of `expect` that `walk` does not meet, said plainly.
fn failures(expect: &Expect, walk: &Walk) -> Vec<String> {
    let path = &walk.path;
    let visited = |node: &String| path.contains(node);
    let mut errors = Vec::new();
    if walk.ending == Ending::StepLimit {
        // A walk that never ends fails whatever else it shows; what else
        // failed on the way is still said.
        errors.push(walk.step_limit_message());
    } else if let Some(status) = &expect.status {
        if status != walk.ending.as_str() {
            errors.push(format!(
                "expect.status: wanted {status:?}, the walk ended {:?}",
                walk.ending.as_str()
            ));
        }
    }
    for node in expect.visited.iter().filter(|n| !visited(n)) {
        errors.push(format!("expect.visited: {node:?} was not visited"));
    }
    for node in expect.not_visited.iter().filter(|n| visited(n)) {
        errors.push(format!("expect.not_visited: {node:?} was visited"));
    }
    if let Some(missing) = first_missing_in_order(path, &expect.path_contains) {
        errors.push(format!(
            "expect.path_contains: {:?} does not follow {} in the path",
            expect.path_contains[missing],
            if missing == 0 {
                "the start".to_string()
            } else {
                format!("{:?}", expect.path_contains[missing - 1])
            }
        ));
    }
    for (before, after) in &expect.immediately_after {
        let next: Vec<&String> = path
            .windows(2)
            .filter(|pair| &pair[0] == before)
            .map(|pair| &pair[1])
            .collect();
        if !next.contains(&after) {
            errors.push(if !path.contains(before) {
                format!(
                    "expect.immediately_after: wanted {after:?} right after {before:?}, but {before:?} was not visited"
                )
            } else if next.is_empty() {
                format!(
                    "expect.immediately_after: wanted {after:?} right after {before:?}, but the walk ended there"
                )
            } else {
                format!(
                    "expect.immediately_after: wanted {after:?} right after {before:?}, got {}",
                    next.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ")
                )
            });
        }
    }
    errors
}

/// The index in `wanted` of the first node that does not appear, in order
/// (gaps allowed), in `path`; `None` when all do.
fn first_missing_in_order(path: &[String], wanted: &[String]) -> Option<usize> {
    let mut rest = path.iter();
    wanted
        .iter()
        .position(|node| !rest.by_ref().any(|step| step == node))
}

fn write_text(out: &mut impl std::io::Write, outcomes: &[Outcome]) -> std::io::Result<()> {
    for outcome in outcomes {
        let mark = if outcome.errors.is_empty() {
            "✓"
        } else {
            "✗"
        };
        writeln!(out, "{mark} {}", shown(&outcome.name))?;
        if outcome.stopped {
            // The loop it was caught in: its last steps.
            let tail = &outcome.path[outcome.path.len().saturating_sub(12)..];
            let path: Vec<String> = tail.iter().map(|n| shown(n).into_owned()).collect();
            // (The step limit itself is among the errors below.)
            writeln!(out, "    path, its last steps: … → {}", path.join(" → "))?;
        } else if !outcome.path.is_empty() {
            let path: Vec<String> = outcome.path.iter().map(|n| shown(n).into_owned()).collect();
            writeln!(out, "    path: {}", path.join(" → "))?;
        }
        if !outcome.loop_breaks.is_empty() && !outcome.stopped {
            let nodes: Vec<String> = outcome
                .loop_breaks
                .iter()
                .map(|n| shown(n).into_owned())
                .collect();
            writeln!(out, "    loops broken at: {}", nodes.join(", "))?;
        }
        for error in &outcome.errors {
            writeln!(out, "    {}", shown(error))?;
        }
    }
    let failed = outcomes.iter().filter(|o| !o.errors.is_empty()).count();
    writeln!(
        out,
        "\n{} passed, {failed} failed, {} total",
        outcomes.len() - failed,
        outcomes.len()
    )
}

/// The reference's JSON shape: `{"results":[{"name","passed","path"|"errors"}],
/// "passed","failed","total"}`.
fn as_json(outcomes: &[Outcome]) -> serde_json::Value {
    let results: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|o| {
            if o.errors.is_empty() {
                serde_json::json!({"name": o.name, "passed": true, "path": o.path})
            } else {
                serde_json::json!({"name": o.name, "passed": false, "errors": o.errors})
            }
        })
        .collect();
    let failed = outcomes.iter().filter(|o| !o.errors.is_empty()).count();
    serde_json::json!({
        "results": results,
        "passed": outcomes.len() - failed,
        "failed": failed,
        "total": outcomes.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_contains_allows_gaps_but_keeps_order() {
        let path: Vec<String> = ["A", "B", "C", "D"].map(String::from).to_vec();
        let wanted = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(first_missing_in_order(&path, &wanted(&["A", "C"])), None);
        assert_eq!(first_missing_in_order(&path, &wanted(&["C", "A"])), Some(1));
        assert_eq!(first_missing_in_order(&path, &wanted(&["E"])), Some(0));
    }

    #[test]
    fn positions_are_found_after_the_tests_name() {
        let text = "{\"tests\": [\n  {\"name\": \"one\", \"expect\": {\"visited\": [\"X\"]}},\n  {\"name\": \"two\",\n   \"expect\": {\"visited\": [\"X\"]}}]}";
        assert_eq!(position_of(text, "two", "X"), (4, 27));
    }
}
