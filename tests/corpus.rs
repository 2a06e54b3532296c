//! The whole third-party corpus parses, and every file the reference accepts
//! validates with zero errors. Files the reference rejects are listed with why.

use std::collections::BTreeMap;

use dippin::lint::LintOptions;
use tracker_tests::{corpus_dir, corpus_name, files_with_extension};

/// Corpus files the reference itself rejects, with the reason and the codes we
/// report. Anything else with an error is a regression.
const REJECTED: &[(&str, &str, &[&str])] = &[
    (
        "dippin-lang/parser/testdata/defaults_budget.dip",
        "parser fixture: `exit: A` with an `A -> A` edge (exit has an outgoing edge, and a cycle without loop)",
        &["DIP005", "DIP006"],
    ),
    (
        "dippin-lang/parser/testdata/defaults_complex.dip",
        "parser fixture: `exit: A` with an `A -> A` edge (exit has an outgoing edge, and a cycle without loop)",
        &["DIP005", "DIP006"],
    ),
    (
        "tracker/pipeline/testdata/cycle.dot",
        "cycle-detection fixture: `a -> b -> a` with no condition and no loop_restart",
        &["DIP005"],
    ),
    (
        "tracker/testdata/expand_child.dip",
        "uses the DOT attribute `llm_model` as an agent field; the Dippin parser rejects unknown agent fields",
        &["DIP000"],
    ),
    (
        "tracker/pipeline/testdata/filedirectives/workflow_missing.dip",
        "negative fixture: its command_file names a script that does not exist",
        &["DIP000"],
    ),
];

fn error_codes(path: &std::path::Path) -> Vec<String> {
    let doc = dippin::load_file(path).expect("corpus file is readable");
    let mut diags = doc.diagnostics.clone();
    if !doc.has_errors() {
        let options = LintOptions {
            base_dir: path.parent().map(|p| p.to_path_buf()),
            environment: false,
        };
        diags.extend(dippin::analyze(&doc, &options));
    }
    let mut codes: Vec<String> = diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code.to_string())
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

#[test]
fn every_corpus_file_is_accepted_or_listed_as_rejected() {
    let files: Vec<_> = files_with_extension(&corpus_dir(), "dip")
        .into_iter()
        .chain(files_with_extension(&corpus_dir(), "dot"))
        .collect();
    assert!(
        files.len() >= 100,
        "corpus not found at {}",
        corpus_dir().display()
    );
    let mut unexpected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut rejected_seen = 0;
    for path in &files {
        let name = corpus_name(path);
        let codes = error_codes(path);
        match REJECTED.iter().find(|(n, _, _)| *n == name) {
            Some((_, _, expected)) => {
                rejected_seen += 1;
                assert_eq!(
                    codes, *expected,
                    "{name}: expected exactly these error codes"
                );
            }
            None if !codes.is_empty() => {
                unexpected.insert(name, codes);
            }
            None => {}
        }
    }
    assert!(
        unexpected.is_empty(),
        "corpus files with unexpected errors: {unexpected:#?}"
    );
    assert_eq!(
        rejected_seen,
        REJECTED.len(),
        "a listed rejected file is missing from the corpus"
    );
}

#[test]
fn corpus_parses_to_plausible_workflows() {
    // Parsing is not vacuous: every accepted file yields its declared start and exit
    // nodes, and the corpus as a whole has the node kinds the language reference
    // counts (≈510 agents, ≈200 tools, ≈55 human gates).
    let mut kinds: BTreeMap<&'static str, usize> = BTreeMap::new();
    for path in files_with_extension(&corpus_dir(), "dip") {
        let doc = dippin::load_file(&path).expect("readable");
        if doc.has_errors() {
            continue;
        }
        let wf = &doc.workflow;
        assert!(
            !wf.name.is_empty(),
            "{}: no workflow name",
            corpus_name(&path)
        );
        assert!(
            wf.node(&wf.start).is_some(),
            "{}: start not a node",
            corpus_name(&path)
        );
        for node in &wf.nodes {
            *kinds.entry(node.kind().as_str()).or_default() += 1;
        }
    }
    assert!(kinds["agent"] >= 450, "{kinds:?}");
    assert!(kinds["tool"] >= 180, "{kinds:?}");
    assert!(kinds["human"] >= 50, "{kinds:?}");
    assert!(
        kinds["parallel"] >= 40 && kinds["fan_in"] >= 40,
        "{kinds:?}"
    );
}
