//! Broken input of every kind gives the right code at the right line and column,
//! exit status 1, and never a panic.
//!
//! Each file in `data/diagnostics/` declares what it must produce in header lines
//! `# expect: DIPnnn @ LINE:COL`; the earliest error must be the first expectation.

use std::path::Path;

use serde_json::Value;
use tracker_tests::{data_dir, files_with_extension, run_in};

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
struct Expected {
    line: u64,
    column: u64,
    code: String,
}

fn expectations(text: &str) -> Vec<Expected> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# expect: "))
        .map(|rest| {
            let (code, pos) = rest.split_once(" @ ").expect("`CODE @ L:C`");
            let (line, column) = pos.split_once(':').expect("`L:C`");
            Expected {
                code: code.trim().to_string(),
                line: line.trim().parse().expect("line"),
                column: column.trim().parse().expect("column"),
            }
        })
        .collect()
}

/// Runs `tracker check --json` on `file` and returns (exit code, report, stderr).
fn check(file: &Path) -> (Option<i32>, Value, String) {
    let dir = file.parent().expect("parent");
    let name = file.file_name().and_then(|n| n.to_str()).expect("name");
    let out = run_in(dir, &["check", "--json", name]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let report: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{name}: stdout is not JSON ({e}): {stdout}\n{stderr}"));
    (out.status.code(), report, stderr)
}

fn errors(report: &Value) -> Vec<Expected> {
    let mut errs: Vec<Expected> = report["diagnostics"]
        .as_array()
        .expect("diagnostics array")
        .iter()
        .filter(|d| d["severity"] == "error")
        .map(|d| Expected {
            code: d["code"].as_str().unwrap_or_default().to_string(),
            line: d["line"].as_u64().unwrap_or(0),
            column: d["column"].as_u64().unwrap_or(0),
        })
        .collect();
    errs.sort();
    errs
}

#[test]
fn every_broken_file_reports_its_code_at_its_position() {
    let files = files_with_extension(&data_dir().join("diagnostics"), "dip");
    assert!(files.len() >= 20);
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        let expected = expectations(&text);
        let name = file.display().to_string();
        if text.is_empty() {
            continue; // covered by `empty_file_is_an_error_at_1_1`
        }
        assert!(!expected.is_empty(), "{name}: no `# expect:` header");
        let (code, report, stderr) = check(&file);
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        assert_eq!(code, Some(1), "{name}: exit status");
        assert_eq!(report["valid"], false, "{name}");
        let found = errors(&report);
        for want in &expected {
            assert!(
                found.contains(want),
                "{name}: expected {want:?}, found {found:?}"
            );
        }
        assert_eq!(
            found.first(),
            expected.iter().min(),
            "{name}: an earlier error was reported first"
        );
    }
}

#[test]
fn every_structural_code_is_covered() {
    let mut covered = std::collections::BTreeSet::new();
    for file in files_with_extension(&data_dir().join("diagnostics"), "dip") {
        let text = std::fs::read_to_string(&file).expect("read");
        covered.extend(expectations(&text).into_iter().map(|e| e.code));
    }
    for code in 0..=10 {
        assert!(
            covered.contains(&format!("DIP{code:03}")),
            "no test file for DIP{code:03}"
        );
    }
}

#[test]
fn empty_file_is_an_error_at_1_1() {
    let (code, report, _) = check(&data_dir().join("diagnostics").join("empty.dip"));
    assert_eq!(code, Some(1));
    assert_eq!(
        errors(&report),
        vec![Expected {
            code: "DIP000".into(),
            line: 1,
            column: 1
        }]
    );
}

#[test]
fn binary_garbage_is_reported_at_the_first_bad_byte() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bytes: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    std::fs::write(dir.path().join("garbage.dip"), &bytes).expect("write");
    let (code, report, stderr) = check(&dir.path().join("garbage.dip"));
    assert!(!stderr.contains("panicked"));
    assert_eq!(code, Some(1));
    // Independently of the code under test: the first non-ASCII byte is 0x80.
    let bad = bytes.iter().position(|b| *b >= 0x80).expect("non-ascii");
    let line = 1 + bytes[..bad].iter().filter(|b| **b == b'\n').count() as u64;
    let line_start = bytes[..bad]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let column = (bad - line_start + 1) as u64;
    assert_eq!(
        errors(&report),
        vec![Expected {
            code: "DIP000".into(),
            line,
            column
        }]
    );
}

#[test]
fn printable_garbage_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let junk: String = (0..20_000)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            b" \n\t:->\"'#abcXYZ019_(),[]=!<"
                .get((seed % 28) as usize)
                .map_or('x', |b| *b as char)
        })
        .collect();
    std::fs::write(dir.path().join("junk.dip"), junk).expect("write");
    let (code, _, stderr) = check(&dir.path().join("junk.dip"));
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(code, Some(1));
}

#[test]
fn ten_megabyte_file_reports_the_error_near_its_end() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut text = String::from("workflow Big\n  start: N0\n  exit: Last\n");
    let prompt_line = "      Summarise the previous step and decide what to do next, carefully.\n";
    let mut n = 0;
    while text.len() < 10 * 1024 * 1024 {
        text.push_str(&format!("  agent N{n}\n    prompt:\n"));
        for _ in 0..6 {
            text.push_str(prompt_line);
        }
        n += 1;
    }
    text.push_str("  agent Last\n    prompt: done\n  edges\n");
    for i in 0..n {
        let next = if i + 1 == n {
            "Last".to_string()
        } else {
            format!("N{}", i + 1)
        };
        text.push_str(&format!("    N{i} -> {next}\n"));
    }
    // The one mistake, on the last line: a duplicate edge.
    text.push_str(&format!("    N{} -> Last\n", n - 1));
    let last_line = text.lines().count() as u64;
    std::fs::write(dir.path().join("big.dip"), &text).expect("write");
    let (code, report, _) = check(&dir.path().join("big.dip"));
    assert_eq!(code, Some(1));
    assert_eq!(
        errors(&report),
        vec![Expected {
            code: "DIP009".into(),
            line: last_line,
            column: 5
        }]
    );
}
