//! Workflow header fields and the `defaults`, `vars`, `inputs` and `stylesheet` sections.

use std::collections::HashSet;

use crate::ast::{Head, Stmt};
use crate::ir::{CommentAnchor, Input, Selector, StyleRule, Workflow};
use crate::source::Span;

use super::values::{csv_nonempty, suggest, FieldValue};
use super::{block_value, field_value, Lowerer};

const HEADER_FIELDS: &[&str] = &["goal", "start", "exit", "requires", "stylesheet"];

const DEFAULTS_FIELDS: &[&str] = &[
    "model",
    "provider",
    "retry_policy",
    "max_retries",
    "fidelity",
    "max_restarts",
    "restart_target",
    "on_failure",
    "cache_tools",
    "compaction",
    "on_resume",
    "max_total_tokens",
    "max_cost_cents",
    "max_wall_time",
    "stall_timeout",
    "tool_commands_allow",
    "tool_denylist_add",
    "prompt_prefix",
    "prompt_suffix",
    "prompt_prefix_file",
    "prompt_suffix_file",
    "system_prompt_file",
];

const INPUT_FIELDS: &[&str] = &[
    "required",
    "multiline",
    "max_length",
    "prompt",
    "description",
    "pattern",
    "default",
    "options",
    "min",
    "max",
];

impl Lowerer {
    pub(super) fn header_field(&mut self, wf: &mut Workflow, v: FieldValue) {
        self.anchors
            .push((v.key_span.start, CommentAnchor::Header(v.key.clone())));
        match v.key.as_str() {
            "goal" => wf.goal = v.text,
            "start" => {
                wf.start = v.text.trim().to_string();
                wf.start_span = Some(v.span);
            }
            "exit" => {
                wf.exit = v.text.trim().to_string();
                wf.exit_span = Some(v.span);
            }
            "requires" => wf.requires = csv_nonempty(&v.text),
            "stylesheet" => wf.stylesheet = self.stylesheet(&v),
            key => {
                let mut diag = crate::diagnostic::Diagnostic::parse(
                    v.key_span,
                    format!("unknown workflow field {key:?}"),
                )
                .with_help("workflow fields are goal, start, exit, requires and stylesheet");
                if let Some(s) = suggest(key, HEADER_FIELDS.iter().copied()) {
                    diag = diag.with_fix(format!("did you mean `{s}:`?"));
                }
                self.sink.diagnostics.push(diag);
            }
        }
    }

    /// `defaults` with its indented `key: value` lines.
    pub(super) fn defaults(&mut self, wf: &mut Workflow, span: Span, body: Vec<Stmt>) {
        wf.defaults.span = Some(span);
        for stmt in body {
            let Some(v) = self.entry(stmt, "defaults") else {
                continue;
            };
            self.anchors.push((
                v.key_span.start,
                CommentAnchor::Entry("defaults".into(), v.key.clone()),
            ));
            let d = &mut wf.defaults;
            let sink = &mut self.sink;
            match v.key.as_str() {
                "model" => d.model = v.text,
                "provider" => d.provider = v.text,
                "retry_policy" => d.retry_policy = v.text,
                "max_retries" => d.max_retries = sink.int(&v),
                "fidelity" => d.fidelity = v.text,
                "max_restarts" => d.max_restarts = sink.int(&v),
                "restart_target" => d.restart_target = v.text,
                "on_failure" => {
                    d.on_failure = v.text;
                    d.on_failure_span = Some(v.span);
                }
                "cache_tools" => d.cache_tools = sink.bool(&v),
                "compaction" => d.compaction = v.text,
                "on_resume" => d.on_resume = v.text,
                "max_total_tokens" => d.max_total_tokens = sink.int(&v),
                "max_cost_cents" => d.max_cost_cents = sink.int(&v),
                "max_wall_time" => d.max_wall_time = sink.duration(&v),
                "stall_timeout" => d.stall_timeout = sink.duration(&v),
                "tool_commands_allow" => d.tool_commands_allow = v.text,
                "tool_denylist_add" => d.tool_denylist_add = v.text,
                "prompt_prefix" => d.prompt_prefix = v.text,
                "prompt_suffix" => d.prompt_suffix = v.text,
                "prompt_prefix_file" => d.prompt_prefix_file = v.text,
                "prompt_suffix_file" => d.prompt_suffix_file = v.text,
                "system_prompt_file" => d.system_prompt_file = v.text,
                "system_prompt" => sink.error(
                    v.key_span,
                    "defaults cannot hold an inline system_prompt; use system_prompt_file",
                ),
                key => {
                    let mut diag = crate::diagnostic::Diagnostic::parse(
                        v.key_span,
                        format!("unknown defaults field {key:?}"),
                    );
                    if let Some(s) = suggest(key, DEFAULTS_FIELDS.iter().copied()) {
                        diag = diag.with_help(format!("did you mean `{s}`?"));
                    }
                    sink.diagnostics.push(diag);
                }
            }
        }
        let d = &wf.defaults;
        for (inline, file, side) in [
            (&d.prompt_prefix, &d.prompt_prefix_file, "prefix"),
            (&d.prompt_suffix, &d.prompt_suffix_file, "suffix"),
        ] {
            if !inline.is_empty() && !file.is_empty() {
                self.sink.error(
                    span,
                    format!("defaults set both prompt_{side} and prompt_{side}_file; choose one"),
                );
            }
        }
    }

    /// `vars` with its indented `key: value` lines.
    pub(super) fn vars(&mut self, wf: &mut Workflow, body: Vec<Stmt>) {
        for stmt in body {
            if let Some(v) = self.entry(stmt, "vars") {
                self.anchors.push((
                    v.key_span.start,
                    CommentAnchor::Entry("vars".into(), v.key.clone()),
                ));
                if wf.vars.insert(v.key.clone(), v.text).is_some() {
                    self.sink.warn(
                        v.key_span,
                        format!("duplicate var {:?} (last value wins)", v.key),
                    );
                }
            }
        }
    }

    /// `inputs`: `name: type` lines, each with optional indented attributes.
    pub(super) fn inputs(&mut self, wf: &mut Workflow, body: Vec<Stmt>) {
        let mut names: HashSet<String> = wf.inputs.iter().map(|i| i.name.clone()).collect();
        for stmt in body {
            let attrs = stmt.body;
            let v = match stmt.head {
                Head::Field(f) => field_value(f),
                Head::Block(b) => {
                    // `idea:` followed by indented lines: the type was forgotten, so
                    // the attributes were read as a raw block.
                    self.sink.error(
                        b.key_span,
                        format!(
                            "input {:?} has no type: write `{}: text` (or number, bool, enum, file, secret) and indent its attributes under it",
                            b.key, b.key
                        ),
                    );
                    continue;
                }
                Head::Error => continue,
                _ => {
                    self.sink.error(stmt.span, "expected an input `name: type`");
                    continue;
                }
            };
            self.anchors.push((
                v.key_span.start,
                CommentAnchor::Entry("inputs".into(), v.key.clone()),
            ));
            let mut input = Input {
                name: v.key.clone(),
                kind: v.text.trim().to_string(),
                span: v.key_span,
                ..Input::default()
            };
            for attr in attrs {
                let Some(a) = self.entry(attr, "input") else {
                    continue;
                };
                self.anchors.push((
                    a.key_span.start,
                    CommentAnchor::Entry("inputs".into(), input.name.clone()),
                ));
                let sink = &mut self.sink;
                match a.key.as_str() {
                    "required" => input.required = sink.bool(&a),
                    "multiline" => input.multiline = sink.bool(&a),
                    "max_length" => input.max_length = sink.int(&a),
                    "prompt" => input.prompt = a.text,
                    "description" => input.description = a.text,
                    "pattern" => input.pattern = a.text,
                    "default" => {
                        input.default = a.text;
                        input.has_default = true;
                    }
                    "options" => input.options = csv_nonempty(&a.text),
                    "min" => input.min = a.text,
                    "max" => input.max = a.text,
                    key => {
                        let mut diag = crate::diagnostic::Diagnostic::parse(
                            a.key_span,
                            format!("unrecognized input field {key:?}"),
                        );
                        if let Some(s) = suggest(key, INPUT_FIELDS.iter().copied()) {
                            diag = diag.with_help(format!("did you mean `{s}`?"));
                        }
                        sink.diagnostics.push(diag);
                    }
                }
            }
            if !names.insert(input.name.clone()) {
                self.sink
                    .error(input.span, format!("duplicate input {:?}", input.name));
            }
            wf.inputs.push(input);
        }
    }

    /// One `key: value` line of a section; reports anything else.
    fn entry(&mut self, stmt: Stmt, section: &str) -> Option<FieldValue> {
        let v = match stmt.head {
            Head::Field(f) => field_value(f),
            Head::Block(b) => block_value(b),
            Head::Error => return None,
            _ => {
                self.sink
                    .error(stmt.span, format!("expected `key: value` in {section}"));
                return None;
            }
        };
        if !stmt.body.is_empty() {
            self.unexpected_block(&v, &stmt.body);
        }
        Some(v)
    }

    /// Parses stylesheet rules: a selector line, then deeper `prop: value` lines.
    fn stylesheet(&mut self, v: &FieldValue) -> Vec<StyleRule> {
        let mut rules: Vec<StyleRule> = Vec::new();
        for (n, line) in v.text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let indented = line.starts_with([' ', '\t']);
            let text = line.trim();
            if !indented {
                let selector = text.trim_end_matches('{').trim();
                let selector = if selector == "*" {
                    Some(Selector::Universal)
                } else if let Some(class) = selector.strip_prefix('.') {
                    Some(Selector::Class(class.to_string()))
                } else if let Some(id) = selector.strip_prefix('#') {
                    Some(Selector::Id(id.to_string()))
                } else if crate::ir::NodeKind::from_keyword(selector).is_some() {
                    Some(Selector::Kind(selector.to_string()))
                } else {
                    None
                };
                match selector {
                    Some(selector) => rules.push(StyleRule {
                        selector,
                        properties: Vec::new(),
                        span: Some(v.line_span(n)),
                    }),
                    None => self.sink.error(
                        v.line_span(n),
                        format!("invalid stylesheet selector {text:?} (use *, a node kind, .class or #id)"),
                    ),
                }
                continue;
            }
            let Some((key, value)) = text.split_once(':') else {
                self.sink.error(
                    v.line_span(n),
                    format!("expected `property: value` in stylesheet, got {text:?}"),
                );
                continue;
            };
            match rules.last_mut() {
                Some(rule) => rule
                    .properties
                    .push((key.trim().to_string(), crate::lexer::unquote(value.trim()))),
                None => self
                    .sink
                    .error(v.line_span(n), "stylesheet property before any selector"),
            }
        }
        rules
    }
}
