//! The examples in the language guide (`docs/language.md`) behave as labelled.
//!
//! The guide tags its fenced code blocks:
//!
//! * ` ```dip ` — a complete workflow that must read, validate and lint with no
//!   error-severity diagnostic (warnings and hints are fine);
//! * ` ```dip-error DIPnnn ` — a complete workflow that must produce at least one
//!   error with code `DIPnnn`;
//! * ` ```dot ` — a complete legacy Graphviz pipeline that must load without errors;
//! * ` ```test-json ` — scenario tests for the `dip` example before it, which
//!   `tracker test` must pass, every one;
//! * ` ```text ` and ` ```sh ` — fragments, output and commands, not checked.
//!
//! Any other tag fails the test, so a typo cannot quietly exempt an example. Files
//! are read with `dippin::load_str` (no file directives are resolved, so examples
//! may name prompt files that do not exist) and, when they read without errors,
//! analysed with the default lint options (no checks against the machine).

use dippin::lint::LintOptions;
use dippin::{Diagnostic, Document};

/// The fewest checked examples the guide may have.
const MIN_CHECKED_EXAMPLES: usize = 25;

/// What a checked block must do.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Expect {
    /// A `.dip` file with no error.
    Valid,
    /// A `.dip` file with at least one error of this code (e.g. `DIP005`).
    Error(String),
    /// A `.dot` file with no error.
    DotValid,
    /// Scenario tests of the `dip` example before it, all passing.
    Scenarios,
}

/// One checked code block of the guide.
#[derive(Debug)]
struct Example {
    /// 1-based line of the opening fence in the guide.
    line: usize,
    expect: Expect,
    text: String,
}

/// Reads the guide.
fn guide() -> String {
    let path = tracker_tests::workspace_root().join("docs/language.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Extracts the checked blocks of `markdown`, panicking on unknown or unterminated
/// fences.
fn examples(markdown: &str) -> Vec<Example> {
    let mut out = Vec::new();
    let mut open: Option<(usize, Option<Expect>, String)> = None;
    for (index, line) in markdown.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim();
        match open.take() {
            Some((start, expect, text)) if trimmed == "```" => {
                if let Some(expect) = expect {
                    out.push(Example {
                        line: start,
                        expect,
                        text,
                    });
                }
            }
            Some((start, expect, mut text)) => {
                text.push_str(line);
                text.push('\n');
                open = Some((start, expect, text));
            }
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    let expect = parse_info(info.trim(), number);
                    open = Some((number, expect, String::new()));
                }
            }
        }
    }
    if let Some((start, _, _)) = open {
        panic!("docs/language.md:{start}: code block is never closed");
    }
    out
}

/// Interprets a fence's info string; `None` for blocks that are not checked.
fn parse_info(info: &str, line: usize) -> Option<Expect> {
    let mut words = info.split_whitespace();
    let tag = words.next().unwrap_or_default();
    let rest: Vec<&str> = words.collect();
    match (tag, rest.as_slice()) {
        ("dip", []) => Some(Expect::Valid),
        ("dot", []) => Some(Expect::DotValid),
        ("test-json", []) => Some(Expect::Scenarios),
        ("dip-error", [code]) => {
            let well_formed = code.len() == 6
                && code.starts_with("DIP")
                && code[3..].bytes().all(|b| b.is_ascii_digit());
            assert!(
                well_formed,
                "docs/language.md:{line}: `dip-error` needs a code like DIP005, got {code:?}"
            );
            Some(Expect::Error((*code).to_string()))
        }
        ("text" | "sh", []) => None,
        _ => panic!(
            "docs/language.md:{line}: unknown code block tag {info:?} \
             (use dip, dip-error DIPnnn, dot, test-json, text or sh)"
        ),
    }
}

/// Reads `text` as the file `name` and returns the document and every diagnostic:
/// reading problems, then (when it read cleanly) validation and lints.
fn diagnose(name: &str, text: &str) -> (Document, Vec<Diagnostic>) {
    let doc = dippin::load_str(name, text, None);
    let mut all = doc.diagnostics.clone();
    if !doc.has_errors() {
        all.extend(dippin::analyze(&doc, &LintOptions::default()));
    }
    (doc, all)
}

/// Why `example` does not behave as labelled, or `None` when it does.
fn failure(example: &Example) -> Option<String> {
    if example.expect == Expect::Scenarios {
        // Checked with their workflow, by `scenario_examples_pass`.
        return None;
    }
    let name = match example.expect {
        Expect::DotValid => "example.dot",
        _ => "example.dip",
    };
    let (doc, diagnostics) = diagnose(name, &example.text);
    let ok = match &example.expect {
        Expect::Valid | Expect::DotValid | Expect::Scenarios => {
            !diagnostics.iter().any(Diagnostic::is_error)
        }
        Expect::Error(code) => diagnostics
            .iter()
            .any(|d| d.is_error() && d.code.to_string() == *code),
    };
    if ok {
        return None;
    }
    let wanted = match &example.expect {
        Expect::Valid | Expect::DotValid | Expect::Scenarios => "no errors".to_string(),
        Expect::Error(code) => format!("an error {code}"),
    };
    let rendered: String = if diagnostics.is_empty() {
        "(no diagnostics)\n".to_string()
    } else {
        diagnostics.iter().map(|d| d.render(&doc.source)).collect()
    };
    Some(format!(
        "docs/language.md:{}: expected {wanted}\n--- example ---\n{}--- diagnostics ---\n{rendered}",
        example.line, example.text
    ))
}

#[test]
fn every_example_in_the_guide_behaves_as_labelled() {
    let examples = examples(&guide());
    let failures: Vec<String> = examples.iter().filter_map(failure).collect();
    assert!(
        failures.is_empty(),
        "{} of {} guide examples misbehave:\n\n{}",
        failures.len(),
        examples.len(),
        failures.join("\n")
    );
}

#[test]
fn scenario_examples_pass() {
    let examples = examples(&guide());
    let mut workflow: Option<&Example> = None;
    let mut checked = 0;
    for example in &examples {
        match example.expect {
            Expect::Valid => workflow = Some(example),
            Expect::Scenarios => {
                let flow = workflow.unwrap_or_else(|| {
                    panic!(
                        "docs/language.md:{}: scenario tests with no workflow before them",
                        example.line
                    )
                });
                let dir = tempfile::tempdir().expect("temp dir");
                std::fs::write(dir.path().join("example.dip"), &flow.text).expect("write");
                std::fs::write(dir.path().join("example.test.json"), &example.text).expect("write");
                let out = tracker_tests::run_in(dir.path(), &["test", "example.dip"]);
                assert_eq!(
                    out.status.code(),
                    Some(0),
                    "docs/language.md:{}: the scenarios do not all pass:\n{}{}",
                    example.line,
                    tracker_tests::text(&out.stdout),
                    tracker_tests::text(&out.stderr)
                );
                checked += 1;
            }
            _ => {}
        }
    }
    assert!(checked > 0, "the guide shows no scenario tests");
}

#[test]
fn the_guide_has_enough_checked_examples() {
    let examples = examples(&guide());
    let dip = examples
        .iter()
        .filter(|e| e.expect != Expect::DotValid)
        .count();
    assert!(
        dip >= MIN_CHECKED_EXAMPLES,
        "the guide has only {dip} checked Dippin examples (want at least {MIN_CHECKED_EXAMPLES})"
    );
    let errors = examples
        .iter()
        .filter(|e| matches!(e.expect, Expect::Error(_)))
        .count();
    assert!(errors > 0, "the guide shows no failing example");
}

#[test]
fn fences_are_extracted_with_their_labels() {
    let markdown = "intro\n```dip\nworkflow A\n```\n```text\nnot checked\n```\n```dip-error DIP005\nworkflow B\n  x\n```\n";
    let found = examples(markdown);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].line, 2);
    assert_eq!(found[0].expect, Expect::Valid);
    assert_eq!(found[0].text, "workflow A\n");
    assert_eq!(found[1].expect, Expect::Error("DIP005".to_string()));
    assert_eq!(found[1].text, "workflow B\n  x\n");
}

#[test]
#[should_panic(expected = "unknown code block tag")]
fn a_misspelled_tag_is_refused() {
    examples("```dip-eror DIP005\nworkflow A\n```\n");
}
