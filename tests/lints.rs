//! Every lint code (`DIP101`–`DIP162`, except the reserved `DIP138`) fires on a small,
//! realistic pipeline at the right line and column, through the real binary.
//!
//! Each file directly in `data/lints/` shows one mistake. Its first line is a comment
//! saying what the mistake is, and header lines `# expect: DIPnnn @ LINE:COL` name the
//! findings `tracker check --json` must report (other findings may appear too). Child
//! workflows that cross-file lints need live in `data/lints/children/` and are referenced
//! relative to the parent file, so every check runs in the file's own directory.
//!
//! The exit status must be 1 exactly when some finding has severity `error` (the
//! error-level lints `DIP155`–`DIP158`), and 0 otherwise; the binary must never panic.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tracker_tests::{data_dir, run_in};

/// A finding a file expects, or one the binary reported.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
struct Finding {
    code: String,
    line: u64,
    column: u64,
}

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

/// The file's name, for messages.
fn name_of(file: &Path) -> &str {
    file.file_name()
        .and_then(|n| n.to_str())
        .expect("UTF-8 file name")
}

/// The `# expect: CODE @ L:C` header lines of `text`.
fn expectations(text: &str) -> Vec<Finding> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# expect: "))
        .map(|rest| {
            let (code, pos) = rest.split_once(" @ ").expect("`CODE @ L:C`");
            let (line, column) = pos.split_once(':').expect("`L:C`");
            Finding {
                code: code.trim().to_string(),
                line: line.trim().parse().expect("line"),
                column: column.trim().parse().expect("column"),
            }
        })
        .collect()
}

/// Runs `tracker check --json` on `file` in its directory and returns
/// (exit code, report, stderr).
fn check(file: &Path) -> (Option<i32>, Value, String) {
    let dir = file.parent().expect("parent");
    let name = name_of(file);
    let out = run_in(dir, &["check", "--json", name]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let report: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{name}: stdout is not JSON ({e}): {stdout}\n{stderr}"));
    (out.status.code(), report, stderr)
}

/// Every diagnostic of a report, with its severity.
fn findings(report: &Value) -> Vec<(Finding, String)> {
    report["diagnostics"]
        .as_array()
        .expect("diagnostics array")
        .iter()
        .map(|d| {
            let finding = Finding {
                code: d["code"].as_str().unwrap_or_default().to_string(),
                line: d["line"].as_u64().unwrap_or(0),
                column: d["column"].as_u64().unwrap_or(0),
            };
            (
                finding,
                d["severity"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn every_lint_file_reports_its_codes_at_their_positions() {
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
        let expected = expectations(&text);
        assert!(!expected.is_empty(), "{name}: no `# expect:` header");
        let prefix = name.get(..6).unwrap_or_default().to_ascii_uppercase();
        assert!(
            expected.iter().any(|e| e.code == prefix),
            "{name}: the file name's code {prefix} is not among its expectations"
        );

        let (code, report, stderr) = check(&file);
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        let found = findings(&report);
        let reported: Vec<&Finding> = found.iter().map(|(f, _)| f).collect();
        for want in &expected {
            assert!(
                reported.contains(&want),
                "{name}: expected {want:?}, found {reported:?}"
            );
        }
        let has_error = found.iter().any(|(_, severity)| severity == "error");
        assert_eq!(
            code,
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
        covered.extend(expectations(&text).into_iter().map(|e| e.code));
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
            let exists = lints_dir().join(reference).is_file();
            assert!(
                exists || deliberate,
                "{}: child {reference} does not exist",
                name_of(&file)
            );
        }
    }
}
