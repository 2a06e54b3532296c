//! Structured responses: `response_format` and `response_schema`.
//!
//! * `DIP130` — an unknown `response_format`;
//! * `DIP131` — a schema without `json_schema` format, or that format without a schema;
//! * `DIP132` — a `response_schema` that is not JSON.

use super::common::{closest_fix, maybe_fix};
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::graph::Graph;
use crate::ir::{AgentConfig, Node};

/// Unknown `response_format`.
pub(crate) const RESPONSE_FORMAT: Code = Code(130);

/// `response_schema` and `response_format` disagree.
pub(crate) const SCHEMA_FORMAT_MISMATCH: Code = Code(131);

/// `response_schema` is not JSON.
pub(crate) const SCHEMA_JSON: Code = Code(132);

const RESPONSE_FORMATS: &[&str] = &["json_object", "json_schema"];

/// Appends the structured-response findings for the indexed workflow to `out`.
pub(super) fn lint(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    for node in &g.wf.nodes {
        if let Some(a) = node.agent() {
            response(node, a, out);
        }
    }
}

/// DIP130, DIP131 and DIP132.
fn response(node: &Node, a: &AgentConfig, out: &mut Vec<Diagnostic>) {
    let id = &node.id;
    let format = a.response_format.as_str();
    let schema = a.response_schema.trim();
    if !format.is_empty() && !RESPONSE_FORMATS.contains(&format) {
        let diag = Diagnostic::warning(
            RESPONSE_FORMAT,
            format!("node {id:?} has response_format {format:?} which is not recognized"),
        )
        .with_span(node.span)
        .with_help("valid values: json_object, json_schema");
        out.push(maybe_fix(
            diag,
            closest_fix("response_format", format, RESPONSE_FORMATS),
        ));
    }
    if !schema.is_empty() && format != "json_schema" {
        let described = if format.is_empty() {
            "not set".to_string()
        } else {
            format!("{format:?}")
        };
        out.push(
            Diagnostic::warning(
                SCHEMA_FORMAT_MISMATCH,
                format!(
                    "node {id:?} has response_schema but response_format is {described} (the schema will be ignored)"
                ),
            )
            .with_span(node.span)
            .with_fix("set response_format: json_schema, or remove response_schema"),
        );
    }
    if schema.is_empty() && format == "json_schema" {
        out.push(
            Diagnostic::new(
                SCHEMA_FORMAT_MISMATCH,
                Severity::Hint,
                format!(
                    "node {id:?} has response_format json_schema but no response_schema provided"
                ),
            )
            .with_span(node.span)
            .with_help("add a response_schema block, or use json_object if no schema is needed"),
        );
    }
    if !schema.is_empty() {
        if let Err(err) = serde_json::from_str::<serde_json::Value>(schema) {
            out.push(
                Diagnostic::warning(
                    SCHEMA_JSON,
                    format!("node {id:?} has response_schema that is not valid JSON"),
                )
                .with_span(node.span)
                .with_help(format!("JSON error: {err}")),
            );
        }
    }
}
