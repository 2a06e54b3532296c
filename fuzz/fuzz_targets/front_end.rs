//! Fuzzes the whole front end: lexer, both lalrpop grammars, lowering, validation,
//! lints, the DOT reader and the formatter.
//!
//! Beyond "never panic", it checks the formatter's contract on every input that
//! parses cleanly: the formatted text parses to the same IR and formats to itself.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (wf, diags) = dippin::parse_dip(text);
    let _ = dippin::validate::validate(&wf);
    let _ = dippin::lint::lint(&wf, &dippin::lint::LintOptions::default());
    for d in &diags {
        // Every span must point inside the text, on character boundaries.
        if let Some(span) = d.span {
            assert!(span.start <= text.len() && span.end <= text.len().max(span.start));
            assert!(text.is_char_boundary(span.start.min(text.len())));
        }
    }
    if !diags.iter().any(|d| d.is_error()) {
        let once = dippin::format::format(&wf);
        let (again, diags) = dippin::parse_dip(&once);
        assert!(
            !diags.iter().any(|d| d.is_error()),
            "formatted text does not parse: {diags:?}\n{once}"
        );
        assert_eq!(again.without_spans(), wf.without_spans(), "fmt changed the IR:\n{once}");
        assert_eq!(dippin::format::format(&again), once, "fmt is not idempotent");
    }
    let _ = dippin::dot::parse_dot(text);
});
