//! `tracker fmt` over the whole corpus: formatting never changes the IR and is
//! idempotent.

use tracker_tests::{corpus_dir, corpus_name, files_with_extension};

#[test]
fn fmt_preserves_the_ir_and_is_idempotent_over_the_corpus() {
    let mut checked = 0;
    for path in files_with_extension(&corpus_dir(), "dip") {
        let name = corpus_name(&path);
        let text = std::fs::read_to_string(&path).expect("readable");
        let (wf, diags) = dippin::parse_dip(&text);
        if diags.iter().any(|d| d.is_error()) {
            continue;
        }
        let once = dippin::format::format(&wf);
        let (again, diags) = dippin::parse_dip(&once);
        let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
        assert!(
            errors.is_empty(),
            "{name}: formatted text has errors: {errors:?}\n{once}"
        );
        assert_eq!(
            again.without_spans(),
            wf.without_spans(),
            "{name}: fmt changed the IR"
        );
        let twice = dippin::format::format(&again);
        assert_eq!(twice, once, "{name}: fmt is not idempotent");
        checked += 1;
    }
    assert!(checked >= 75, "only {checked} corpus files were checked");
}

#[test]
fn fmt_of_a_dot_file_is_idempotent_over_the_corpus() {
    let mut checked = 0;
    for path in files_with_extension(&corpus_dir(), "dot") {
        let name = corpus_name(&path);
        let doc = dippin::load_file(&path).expect("readable");
        if doc.has_errors() {
            continue;
        }
        let once = dippin::format::format(&doc.workflow);
        let (again, diags) = dippin::parse_dip(&once);
        assert!(
            diags.iter().all(|d| !d.is_error()),
            "{name}: formatted text has errors: {diags:?}"
        );
        let twice = dippin::format::format(&again);
        assert_eq!(twice, once, "{name}: fmt is not idempotent");
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} DOT files were checked");
}

#[test]
fn one_line_values_ending_in_a_newline_format_idempotently() {
    let dot = "digraph G {\n  Start [shape=Mdiamond];\n  Work [shape=box, label=\"Ship it\\n\", prompt=\"make\\n\"];\n  Done [shape=Msquare];\n  Start -> Work;\n  Work -> Done;\n}\n";
    let doc = dippin::load_str("g.dot", dot, None);
    assert!(!doc.has_errors(), "{:?}", doc.diagnostics);
    let once = dippin::format::format(&doc.workflow);
    let (again, _) = dippin::parse_dip(&once);
    assert_eq!(dippin::format::format(&again), once, "{once}");
}

#[test]
fn fmt_of_a_dot_file_says_which_labels_dippin_cannot_hold() {
    let dot = corpus_dir().join("tracker/examples/kitchen-sink.dot");
    let out = tracker_tests::run_in(&corpus_dir(), &["fmt", &dot.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = tracker_tests::text(&out.stderr);
    assert!(
        stderr.contains(
            "node \"OmakaseFanOut\": its label \"Omakase: Parallel Design Exploration\" has no place in Dippin and is left out"
        ),
        "{stderr}"
    );
    // Labels Dippin keeps are not mentioned.
    assert!(!stderr.contains("node \"Start\""), "{stderr}");
}

#[test]
fn fmt_check_and_write_on_the_real_binary() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("flow.dip");
    std::fs::write(
        &file,
        "workflow  Flow\n  exit: B\n  start: A\n  agent A\n    prompt: hi\n  agent B\n    prompt: bye\n  edges\n    A -> B\n",
    )
    .expect("write");
    let check = tracker_tests::run_in(dir.path(), &["fmt", "flow.dip", "--check"]);
    assert_eq!(
        check.status.code(),
        Some(1),
        "unformatted file must fail --check"
    );
    let said = String::from_utf8_lossy(&check.stderr);
    assert!(
        said.contains("run `tracker fmt --write flow.dip`"),
        "{said}"
    );
    // A .dot file is never canonical, and `--write` refuses it: the way out
    // offered is a conversion to a new file.
    std::fs::write(
        dir.path().join("flow.dot"),
        "digraph Flow {\n  start [shape=Mdiamond];\n  exit [shape=Msquare];\n  start -> exit;\n}\n",
    )
    .expect("write");
    let check = tracker_tests::run_in(dir.path(), &["fmt", "flow.dot", "--check"]);
    assert_eq!(check.status.code(), Some(1));
    let said = String::from_utf8_lossy(&check.stderr);
    assert!(said.contains("`tracker fmt flow.dot > NAME.dip`"), "{said}");
    assert!(!said.contains("--write"), "{said}");
    let write = tracker_tests::run_in(dir.path(), &["fmt", "flow.dip", "--write"]);
    assert_eq!(
        write.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&write.stderr)
    );
    let formatted = std::fs::read_to_string(&file).expect("read back");
    assert!(
        formatted.starts_with("workflow Flow\n  start: A\n  exit: B\n"),
        "{formatted}"
    );
    let check = tracker_tests::run_in(dir.path(), &["fmt", "flow.dip", "--check"]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "formatted file must pass --check"
    );

    // Through a symbolic link, the file it names is rewritten; the link stays.
    let real = dir.path().join("real.dip");
    std::fs::write(
        &real,
        "workflow  Real
  start: A
  exit: A
  agent A
    prompt: hi
",
    )
    .expect("write");
    std::os::unix::fs::symlink("real.dip", dir.path().join("link.dip")).expect("link");
    let write = tracker_tests::run_in(dir.path(), &["fmt", "link.dip", "--write"]);
    assert_eq!(write.status.code(), Some(0));
    let link = std::fs::symlink_metadata(dir.path().join("link.dip")).expect("link");
    assert!(link.file_type().is_symlink(), "still a link");
    let rewritten = std::fs::read_to_string(&real).expect("read back");
    assert!(rewritten.starts_with("workflow Real\n"), "{rewritten}");
}

#[test]
fn fmt_refuses_to_rewrite_a_file_with_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("bad.dip");
    let original = "workflow Bad\n  start: A\n  agent A\n    prompt: \"unterminated\n";
    std::fs::write(&file, original).expect("write");
    let out = tracker_tests::run_in(dir.path(), &["fmt", "bad.dip", "--write"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(&file).expect("read"),
        original,
        "file must be untouched"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.dip:4:13"), "{stderr}");
}

#[test]
fn corpus_names_are_stable() {
    // Guards the helper the other corpus tests rely on for their file lists.
    let first = files_with_extension(&corpus_dir(), "dip");
    assert!(corpus_name(&first[0]).ends_with(".dip"));
    assert!(!corpus_name(&first[0]).starts_with('/'));
}

#[test]
fn fmt_write_keeps_file_directives_and_the_prompt_cascade_as_written() {
    // Regression: fmt once printed the resolved workflow, inlining prompt files and
    // appending the defaults prompt suffix again on every run.
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("hi.md"), "Say hello.\n").expect("write prompt");
    let source = "workflow Cascade\n  start: Ask\n  exit: Hello\n\n  defaults\n    prompt_suffix: \"Be brief.\"\n\n  agent Ask\n    prompt:\n      Name a colour.\n\n  agent Hello\n    prompt_file: hi.md\n\n  edges\n    Ask -> Hello\n";
    let file = dir.path().join("cascade.dip");
    std::fs::write(&file, source).expect("write");
    for _ in 0..2 {
        let out = tracker_tests::run_in(dir.path(), &["fmt", "cascade.dip", "--write"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(std::fs::read_to_string(&file).expect("read"), source);
    let out = tracker_tests::run_in(dir.path(), &["validate", "cascade.dip"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
