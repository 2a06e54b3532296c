//! Every lint code (`DIP101`–`DIP162`, except the reserved `DIP138`) fires on a small,
//! realistic pipeline at the right line and column, through the real binary.
//!
//! Each file directly in `data/lints/` shows one mistake. Its first line is a comment
//! saying what the mistake is, and header lines `# expect: DIPnnn @ LINE:COL MESSAGE`
//! name every finding `tracker check --json` must report: its code, its position and
//! its message (or a distinctive part of it). Any finding the header does not list
//! fails the test, with one exception: a `DIP125` hint that a program is not on `PATH`
//! depends on the machine, so an unlisted one is tolerated. A file is named after a code
//! its header expects (`dipNNN_*.dip`), except a counter-example named `clean_*.dip`: it
//! shows a case a lint must *not* flag, has no `# expect:` header, and must produce no
//! finding at all (the `DIP125` exception aside). Child
//! workflows that cross-file lints need live in `data/lints/children/` and are referenced
//! relative to the parent file, so every check runs in the file's own directory (as do
//! the scripts in `data/lints/scripts/` and prompt files in `data/lints/prompts/`).
//!
//! The exit status must be 1 exactly when some finding has severity `error` (the
//! error-level lints `DIP155`–`DIP158`), and 0 otherwise; the binary must never panic.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use tracker_tests::{check_json, data_dir, Finding};

/// The directory of the lint examples.
fn lints_dir() -> PathBuf {
    data_dir().join("lints")
}

/// The `.dip` files directly in `data/lints/` (not the children), sorted.
fn lint_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(lints_dir())
        .expect("data/lints exists")
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_file() && path.extension().and_then(|e| e.to_str()) == Some("dip"))
        .collect();
    files.sort();
    files
}

/// One `# expect: CODE @ LINE:COL MESSAGE` header line.
#[derive(Debug)]
struct Expected {
    /// Code and position.
    finding: Finding,
    /// The message, or a distinctive part of it.
    message: String,
}

/// The `# expect:` header lines of a lint file.
///
/// # Panics
/// On a malformed header line, naming what is wrong.
fn expectations(name: &str, text: &str) -> Vec<Expected> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# expect: "))
        .map(|rest| {
            let (code, rest) = rest
                .split_once(" @ ")
                .unwrap_or_else(|| panic!("{name}: `CODE @ L:C MESSAGE` in {rest:?}"));
            let (pos, message) = rest
                .split_once(' ')
                .unwrap_or_else(|| panic!("{name}: no message in {rest:?}"));
            let (line, column) = pos.split_once(':').expect("`L:C`");
            let message = message.trim().to_string();
            assert!(!message.is_empty(), "{name}: empty message in {rest:?}");
            Expected {
                finding: Finding {
                    code: code.trim().to_string(),
                    line: line.trim().parse().expect("line"),
                    column: column.trim().parse().expect("column"),
                },
                message,
            }
        })
        .collect()
}

/// The file's name, for messages.
fn name_of(file: &Path) -> &str {
    file.file_name()
        .and_then(|n| n.to_str())
        .expect("UTF-8 file name")
}

/// Whether the file is a counter-example that must produce no finding (`clean_*.dip`).
fn is_clean(name: &str) -> bool {
    name.starts_with("clean_")
}

/// Whether the finding is the machine-dependent `DIP125` hint that a program is not on
/// `PATH` (tolerated when unlisted; a missing relative path is not).
fn not_on_path(finding: &Finding, message: &str) -> bool {
    finding.code == "DIP125" && message.ends_with("which is not on PATH")
}

#[test]
fn every_lint_file_reports_exactly_its_findings() {
    let files = lint_files();
    assert!(files.len() >= 61, "only {} lint files", files.len());
    for file in files {
        let name = name_of(&file);
        let text = std::fs::read_to_string(&file).expect("read");
        let first = text.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("# ") && !first.starts_with("# expect:"),
            "{name}: the first line must be a comment saying what mistake the file shows"
        );
        let expected = expectations(name, &text);
        if is_clean(name) {
            assert!(
                expected.is_empty(),
                "{name}: a clean_ file expects no finding, so it has no `# expect:` header"
            );
        } else {
            assert!(!expected.is_empty(), "{name}: no `# expect:` header");
            let prefix = name.get(..6).unwrap_or_default().to_ascii_uppercase();
            assert!(
                expected.iter().any(|e| e.finding.code == prefix),
                "{name}: the file name's code {prefix} is not among its expectations"
            );
        }

        let run = check_json(&file);
        assert!(!run.stderr.contains("panicked"), "{name}: {}", run.stderr);
        let found = run.findings();
        let diagnostics = run.report["diagnostics"]
            .as_array()
            .expect("diagnostics array");
        let reported: Vec<(&Finding, &str)> = found
            .iter()
            .zip(diagnostics)
            .map(|((f, _), d)| (f, d["message"].as_str().unwrap_or_default()))
            .collect();
        // Each expectation claims one reported finding with its code, position and message.
        let mut claimed = vec![false; reported.len()];
        for want in &expected {
            let hit = reported.iter().enumerate().position(|(i, (f, message))| {
                !claimed[i] && **f == want.finding && message.contains(&want.message)
            });
            match hit {
                Some(i) => claimed[i] = true,
                None => panic!("{name}: expected {want:?}, found {reported:#?}"),
            }
        }
        let unlisted: Vec<&(&Finding, &str)> = reported
            .iter()
            .zip(&claimed)
            .filter(|((f, message), claimed)| !**claimed && !not_on_path(f, message))
            .map(|(r, _)| r)
            .collect();
        assert!(
            unlisted.is_empty(),
            "{name}: findings the header does not list: {unlisted:#?}"
        );
        let has_error = found.iter().any(|(_, severity)| severity == "error");
        assert_eq!(
            run.status,
            Some(if has_error { 1 } else { 0 }),
            "{name}: exit status (error-severity findings: {has_error}); {found:?}"
        );
    }
}

#[test]
fn every_lint_code_is_covered() {
    let mut covered = BTreeSet::new();
    for file in lint_files() {
        let text = std::fs::read_to_string(&file).expect("read");
        covered.extend(
            expectations(name_of(&file), &text)
                .into_iter()
                .map(|e| e.finding.code),
        );
    }
    for code in (101..=162).filter(|c| *c != 138) {
        let code = format!("DIP{code:03}");
        assert!(covered.contains(&code), "no lint test file expects {code}");
    }
    assert!(
        !covered.contains("DIP138"),
        "DIP138 is reserved and never emitted"
    );
}

#[test]
fn referenced_children_exist() {
    // The cross-file lints only mean something if the children they read are there;
    // a missing child must be deliberate (DIP126 / DIP135 examples).
    let children = lints_dir().join("children");
    for name in ["code_review.dip", "run_tests.dip", "summarise_topic.dip"] {
        assert!(children.join(name).is_file(), "children/{name} is missing");
    }
    for file in lint_files() {
        let text = std::fs::read_to_string(&file).expect("read");
        let deliberate = text.contains("# expect: DIP126") || text.contains("# expect: DIP135");
        for line in text.lines() {
            let Some(reference) = line
                .trim()
                .strip_prefix("ref: ")
                .or_else(|| line.trim().strip_prefix("subgraph_ref: "))
            else {
                continue;
            };
            // A ref may leave out the `.dip` extension.
            let exists = lints_dir().join(reference).is_file()
                || lints_dir().join(format!("{reference}.dip")).is_file();
            assert!(
                exists || deliberate,
                "{}: child {reference} does not exist",
                name_of(&file)
            );
        }
    }
}
