//! The legacy Graphviz (`.dot`) pipeline reader.
//!
//! tracker still reads pipelines written as Graphviz digraphs
//! (`digraph Name { graph [...]; Node [shape=…, …]; A -> B [condition=…]; }`) and lowers
//! them to the same [`Workflow`] IR as `.dip` files, with a deprecation warning. This
//! module is a small hand-written DOT lexer and recursive-descent parser followed by a
//! lowering pass that applies the conventions of the language reference (section 15):
//!
//! * node shapes choose the kind (`Mdiamond` start, `Msquare` exit, `box` agent,
//!   `hexagon` human, `parallelogram` tool, `diamond` conditional, `component`
//!   parallel, `tripleoctagon` fan_in, `tab` subgraph, `house` manager_loop; anything
//!   else is an agent), an explicit `type` attribute wins;
//! * tracker attribute names map back to IR fields (`llm_model` → model,
//!   `tool_command` → command, `default_choice` → default, …);
//! * parallel targets and fan_in sources come from `targets`/`sources` (or
//!   `parallel_targets`/`fan_in_sources`) or are inferred from the fan node's edges,
//!   which are then stored only in the node's configuration, as in the IR;
//! * DOT conditions (`outcome=success && context.x!=y`) are migrated to Dippin
//!   condition text (`ctx.outcome = success and ctx.x != y`), see [`migrate_condition`].
//!
//! Syntax errors are `DIP000` diagnostics with byte spans into the input. The reader
//! never panics, stops after a bounded number of errors, caps nesting depth and edge
//! fan-out, and runs in time linear in the input size.
//!
//! The reader runs three passes, lex → parse → lower, one module each:
//!
//! * `lexer` — tokens (identifiers, numerals, quoted and HTML strings, punctuation),
//!   comments skipped and strings unescaped;
//! * `parser` — the statement parser, building a flat graph of raw nodes, edges and
//!   graph attributes (defaults, subgraphs and edge chains resolved);
//! * `lower` — the raw graph becomes the IR: node kinds from shapes, attributes to
//!   fields, branches, graph attributes, fan lists, loop edges.
//!
//! Supporting modules: `attrs` (the attribute vocabulary), `values` (typed attribute
//! values) and `migrate` (condition migration, [`migrate_condition`]).

mod attrs;
mod lexer;
mod lower;
mod migrate;
mod parser;
#[cfg(test)]
mod tests;
mod values;

pub use migrate::migrate_condition;

use crate::diagnostic::{Code, Diagnostic};
use crate::ir::Workflow;
use crate::source::Span;

/// The warning every DOT file gets (code `DIP000`, severity warning).
pub const DEPRECATION_MESSAGE: &str = "DOT pipelines are deprecated; convert this file to .dip";

/// Syntax errors reported before the reader gives up.
const MAX_ERRORS: usize = 20;

/// Parses DOT text into a workflow.
///
/// Always returns the deprecation warning first, then any syntax errors (`DIP000`,
/// error severity, located) and attribute warnings (bad numbers, booleans,
/// durations), sorted by position. The workflow is best effort when there are errors.
pub fn parse_dot(text: &str) -> (Workflow, Vec<Diagnostic>) {
    let (tokens, mut diags, lex_fatal) = lexer::lex(text);
    let (g, parse_diags) = parser::parse(text, tokens, diags.len(), lex_fatal);
    diags.extend(parse_diags);
    let mut lower_diags = Vec::new();
    let workflow = lower::lower(g, &mut lower_diags);
    diags.extend(lower_diags);
    diags.sort_by_key(|d| d.span.map(|s| s.start));
    let warning = Diagnostic::warning(Code::PARSE, DEPRECATION_MESSAGE)
        .with_opt_span(workflow_keyword_span(&workflow))
        .with_help("run `tracker fmt` on the converted workflow or rewrite it as a .dip file");
    let mut out = Vec::with_capacity(diags.len() + 1);
    out.push(warning);
    out.extend(diags);
    (workflow, out)
}

fn workflow_keyword_span(wf: &Workflow) -> Option<Span> {
    (wf.span.end > wf.span.start).then_some(wf.span)
}
