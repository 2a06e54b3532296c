//! The inline tests of the former `lint/fields.rs` themes. Their cases live in the lint
//! corpus (`tests/data/lints`); what stays here checks the model catalog's name matching
//! over many spellings at once.

use super::fields_lints as lint;
use crate::diagnostic::{Code, Diagnostic};
use crate::graph::Graph;

/// Parses `src` (which must parse cleanly) and runs this module's lints.
fn lint_src(src: &str) -> Vec<Diagnostic> {
    let (wf, diags) = crate::parse_dip(src);
    assert!(diags.is_empty(), "parse diagnostics: {diags:#?}");
    let mut out = Vec::new();
    lint(&Graph::new(&wf), &mut out);
    out
}

/// A workflow `S -> <middle> -> E` with anthropic defaults; `nodes` are
/// indented two spaces, `edges` four.
fn flow(defaults: &str, nodes: &str, edges: &str) -> String {
    format!(
            "workflow T\n  start: S\n  exit: E\n  defaults\n    model: claude-sonnet-4-6\n    provider: anthropic\n{defaults}  agent S\n    prompt: go\n{nodes}  agent E\n    prompt: done\n  edges\n{edges}"
        )
}

/// A workflow with one extra agent `A` whose body is `body` (indented four).
fn with_agent(body: &str) -> Vec<Diagnostic> {
    lint_src(&flow(
        "",
        &format!("  agent A\n{body}"),
        "    S -> A\n    A -> E\n",
    ))
}

fn with_code(out: &[Diagnostic], code: u16) -> Vec<&Diagnostic> {
    out.iter().filter(|d| d.code == Code(code)).collect()
}

fn has(out: &[Diagnostic], code: u16) -> bool {
    !with_code(out, code).is_empty()
}

#[test]
fn dip108_dot_dash_insensitive_and_dated_models_are_known() {
    for model in [
        "claude-sonnet-4.6",
        "claude-haiku-4-5-20251001",
        "claude-opus-4-6",
    ] {
        let out = with_agent(&format!("    prompt: hi\n    model: {model}\n"));
        assert!(!has(&out, 108), "{model}: {out:#?}");
    }
    for (model, provider) in [("gpt-5.2", "openai"), ("gemini-3.5-flash", "gemini")] {
        let out = with_agent(&format!(
            "    prompt: hi\n    model: {model}\n    provider: {provider}\n"
        ));
        assert!(!has(&out, 108), "{model}: {out:#?}");
    }
}
