//! Broken input of every kind gives the right code at the right line and column,
//! exit status 1, and never a panic.
//!
//! Each file in `data/diagnostics/` declares what it must produce in header lines
//! `# expect: DIPnnn @ LINE:COL`; the earliest error must be the first expectation.

use tracker_tests::{
    check_json, data_dir, expectations, files_with_extension, run_in, text, Finding,
};

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
        let run = check_json(&file);
        assert!(!run.stderr.contains("panicked"), "{name}: {}", run.stderr);
        assert_eq!(run.status, Some(1), "{name}: exit status");
        assert_eq!(run.report["valid"], false, "{name}");
        let found = run.errors();
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
    let run = check_json(&data_dir().join("diagnostics").join("empty.dip"));
    assert_eq!(run.status, Some(1));
    assert_eq!(
        run.errors(),
        vec![Finding {
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
    let run = check_json(&dir.path().join("garbage.dip"));
    assert!(!run.stderr.contains("panicked"));
    assert_eq!(run.status, Some(1));
    // Independently of the code under test: the first non-ASCII byte is 0x80.
    let bad = bytes.iter().position(|b| *b >= 0x80).expect("non-ascii");
    let line = 1 + bytes[..bad].iter().filter(|b| **b == b'\n').count() as u64;
    let line_start = bytes[..bad]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let column = (bad - line_start + 1) as u64;
    assert_eq!(
        run.errors(),
        vec![Finding {
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
    let run = check_json(&dir.path().join("junk.dip"));
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert_eq!(run.status, Some(1));
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
    let run = check_json(&dir.path().join("big.dip"));
    assert_eq!(run.status, Some(1));
    assert_eq!(
        run.errors(),
        vec![Finding {
            code: "DIP009".into(),
            line: last_line,
            column: 5
        }]
    );
}

/// 200,000 chained `or`s (`||` in DOT) or 1,000,000 `not`s (`!`) in one condition
/// used to overflow the stack (abort, exit 134). They are a located DIP010 error
/// now, from both `check` and `validate`, and the message does not quote megabytes.
#[test]
fn huge_conditions_are_an_error_not_a_stack_overflow() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ors = vec!["ctx.outcome = a"; 200_001].join(" or ");
    let nots = format!("{}ctx.outcome = a", "not ".repeat(1_000_000));
    for (name, condition) in [("ors.dip", ors), ("nots.dip", nots)] {
        let src = format!(
            "workflow Huge\n  start: A\n  exit: B\n  agent A\n    prompt: hi\n  agent B\n    prompt: bye\n  edges\n    A -> B when {condition}\n    A -> B\n"
        );
        std::fs::write(dir.path().join(name), src).expect("write");
        let run = check_json(&dir.path().join(name));
        assert!(!run.stderr.contains("overflow"), "{name}: {}", run.stderr);
        assert_eq!(run.status, Some(1), "{name}: {}", run.stderr);
        assert_eq!(
            run.errors(),
            vec![Finding {
                code: "DIP010".into(),
                line: 9,
                column: 5
            }],
            "{name}"
        );
        let message = run.report["diagnostics"][0]["message"]
            .as_str()
            .expect("message")
            .to_string();
        assert!(
            message.contains("condition is too long") && message.len() < 1000,
            "{name}: {message}"
        );

        let out = run_in(dir.path(), &["validate", name]);
        let stderr = text(&out.stderr);
        assert!(!stderr.contains("overflow"), "{name}: {stderr}");
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(
            format!("{}{stderr}", text(&out.stdout)).contains("DIP010"),
            "{name}"
        );
    }

    let ors = vec!["outcome=a"; 200_001].join("||");
    let bangs = format!("{}outcome=a", "!".repeat(1_000_000));
    for (name, condition) in [("ors.dot", ors), ("bangs.dot", bangs)] {
        let src = format!(
            "digraph G {{\n  s [shape=Mdiamond];\n  e [shape=Msquare];\n  s -> e [condition=\"{condition}\"];\n  s -> e;\n}}\n"
        );
        std::fs::write(dir.path().join(name), src).expect("write");
        let out = run_in(dir.path(), &["validate", name]);
        let stderr = text(&out.stderr);
        assert!(!stderr.contains("overflow"), "{name}: {stderr}");
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        let shown = format!("{}{stderr}", text(&out.stdout));
        assert!(
            shown.contains("DIP010") && shown.contains("condition is too long"),
            "{name}: {}",
            shown.chars().take(2000).collect::<String>()
        );
    }
}
