//! The canonical formatter behind `tracker fmt`.
//!
//! It prints a [`Workflow`] (as parsed, before file directives are resolved) in
//! one canonical layout: two-space indentation; the header (`goal`, `requires`,
//! `start`, `exit`); then blank-line-separated sections in the order inputs,
//! defaults, vars, nodes, stylesheet, edges. Values are bare when every character
//! is ASCII alphanumeric or one of `_ - . / :`, and double-quoted otherwise.
//! Multi-line values are written as `key:` plus an indented block, after the
//! single-line fields of their node.
//!
//! Guarantees, both checked over the whole corpus by tests: formatting never
//! changes the IR (`parse(format(w)) == w`, spans aside), and it is idempotent
//! (`format(parse(format(w))) == format(w)`). Unlike the reference we keep
//! trailing spaces inside multi-line values and edges that repeat a fan edge,
//! because dropping either would change the IR.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write;

use crate::duration::GoDuration;
use crate::ir::{
    CommentAnchor, Defaults, Edge, Input, Node, NodeConfig, Retry, Selector, StyleRule, Workflow,
};

/// The comments of a workflow, by the line they belong to. Printing a line takes its
/// comments; whatever is never taken is printed at the end, so nothing is lost.
struct Comments<'a> {
    by_anchor: HashMap<&'a CommentAnchor, (Vec<&'a str>, Vec<&'a str>)>,
    /// Anchors already printed: a second line with the same anchor (a duplicate
    /// node id, say) must not print the comments again.
    taken: RefCell<HashSet<&'a CommentAnchor>>,
}

impl<'a> Comments<'a> {
    fn new(wf: &'a Workflow) -> Comments<'a> {
        let mut by_anchor: HashMap<&CommentAnchor, (Vec<&str>, Vec<&str>)> = HashMap::new();
        for c in &wf.comments {
            let entry = by_anchor.entry(&c.anchor).or_default();
            if c.trailing {
                entry.1.push(&c.text);
            } else {
                entry.0.push(&c.text);
            }
        }
        Comments {
            by_anchor,
            taken: RefCell::new(HashSet::new()),
        }
    }

    /// Writes `line` at `indent` with its anchor's comments around it.
    fn line(&self, out: &mut String, indent: &str, line: &str, anchor: &CommentAnchor) {
        let (leading, trailing) = self.take(anchor);
        for c in leading {
            let _ = writeln!(out, "{indent}{c}");
        }
        if trailing.is_empty() {
            let _ = writeln!(out, "{indent}{line}");
        } else {
            let _ = writeln!(out, "{indent}{line}  {}", trailing.join(" "));
        }
    }

    fn take(&self, anchor: &CommentAnchor) -> (Vec<&'a str>, Vec<&'a str>) {
        match self.by_anchor.get_key_value(anchor) {
            Some((key, (leading, trailing))) if self.taken.borrow_mut().insert(key) => {
                (leading.clone(), trailing.clone())
            }
            _ => (Vec::new(), Vec::new()),
        }
    }

    /// Comments whose line was never printed (and `End` ones), in source order.
    fn rest(&self, wf: &'a Workflow) -> Vec<&'a str> {
        let taken = self.taken.borrow();
        wf.comments
            .iter()
            .filter(|c| !taken.contains(&c.anchor))
            .map(|c| c.text.as_str())
            .collect()
    }
}

/// Which anchor a field key of a [`Block`] belongs to.
#[derive(Clone, Copy)]
enum Scope<'a> {
    Header,
    Entry(&'a str),
    Node(&'a str),
}

impl Scope<'_> {
    fn anchor(self, key: &str) -> CommentAnchor {
        match self {
            Scope::Header => CommentAnchor::Header(key.to_string()),
            Scope::Entry(section) => CommentAnchor::Entry(section.to_string(), key.to_string()),
            Scope::Node(id) => CommentAnchor::NodeField(id.to_string(), key.to_string()),
        }
    }
}

/// Formats `wf` canonically. The output ends with exactly one newline.
pub fn format(wf: &Workflow) -> String {
    let comments = Comments::new(wf);
    let c = &comments;
    let mut out = String::new();
    for comment in &wf.leading_comments {
        out.push_str(comment);
        out.push('\n');
    }
    if wf.version > 1 {
        let _ = writeln!(out, "dip {}", wf.version);
    }
    c.line(
        &mut out,
        "",
        &format!("workflow {}", wf.name),
        &CommentAnchor::Workflow,
    );
    let mut header = Block::new(1, c, Scope::Header);
    header.text("goal", &wf.goal);
    if !wf.requires.is_empty() {
        header.list("requires", &wf.requires);
    }
    header.text("start", &wf.start);
    header.text("exit", &wf.exit);
    let mut sections: Vec<String> = Vec::new();
    let header = header.finish();
    if !header.is_empty() {
        sections.push(header);
    }
    if !wf.inputs.is_empty() {
        sections.push(inputs(c, &wf.inputs));
    }
    let defaults = defaults(c, &wf.defaults);
    if !defaults.is_empty() {
        sections.push(defaults);
    }
    if !wf.vars.is_empty() {
        let mut vars = Block::new(2, c, Scope::Entry("vars"));
        for (k, v) in &wf.vars {
            vars.text(k, v);
        }
        let mut section = String::new();
        c.line(
            &mut section,
            "  ",
            "vars",
            &CommentAnchor::Section("vars".into()),
        );
        sections.push(section + &vars.finish());
    }
    for node in &wf.nodes {
        sections.push(self::node(c, wf, node));
    }
    if !wf.stylesheet.is_empty() {
        sections.push(stylesheet(c, &wf.stylesheet));
    }
    if !wf.edges.is_empty() || wf.else_target.is_some() {
        sections.push(edges(c, wf));
    }
    out.push_str(&sections.join("\n"));
    let rest = c.rest(wf);
    if !rest.is_empty() {
        out.push('\n');
        for comment in rest {
            let _ = writeln!(out, "  {comment}");
        }
    }
    out
}

/// Whether `value` can be written without quotes.
fn is_bare(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ':'))
}

/// Double-quotes `value`, escaping `\` and `"`.
fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A single-line value, bare or quoted.
fn scalar(value: &str) -> String {
    if is_bare(value) {
        value.to_string()
    } else {
        quote(value)
    }
}

/// A single token for an edge attribute: a bare identifier or a quoted literal.
fn token(value: &str) -> String {
    let mut chars = value.chars();
    let ident = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'));
    if ident {
        value.to_string()
    } else {
        quote(value)
    }
}

/// Accumulates the fields of one indented block: single-line fields first, then
/// multi-line ones, each with its comments.
struct Block<'c, 'a> {
    indent: String,
    single: String,
    multi: String,
    comments: &'c Comments<'a>,
    scope: Scope<'c>,
}

impl<'c, 'a> Block<'c, 'a> {
    fn new(level: usize, comments: &'c Comments<'a>, scope: Scope<'c>) -> Block<'c, 'a> {
        Block {
            indent: "  ".repeat(level),
            single: String::new(),
            multi: String::new(),
            comments,
            scope,
        }
    }

    /// A text field, omitted when empty.
    fn text(&mut self, key: &str, value: &str) {
        // A block's blank lines at its end are not part of its value (a DOT
        // prompt's trailing newline, say): written, they would be dropped by
        // the next read, and fmt would not be idempotent.
        let value = value.trim_end_matches('\n');
        if value.is_empty() {
            return;
        }
        if value.contains('\n') {
            self.block(key, value.split('\n'));
        } else {
            self.raw(key, &scalar(value));
        }
    }

    /// `key:` and the indented lines of its value.
    fn block<'l>(&mut self, key: &str, lines: impl Iterator<Item = &'l str>) {
        let anchor = self.scope.anchor(key);
        self.comments
            .line(&mut self.multi, &self.indent, &format!("{key}:"), &anchor);
        for line in lines {
            if line.is_empty() {
                self.multi.push('\n');
            } else {
                let _ = writeln!(self.multi, "{}  {line}", self.indent);
            }
        }
    }

    /// A prose or code field (prompt, command, schema): written as a block unless it
    /// is a single bare word, so quotes and backslashes in shell and markdown never
    /// need escaping.
    fn prose(&mut self, key: &str, value: &str) {
        let value = value.trim_end_matches('\n');
        if value.is_empty() || is_bare(value) || value.contains('\n') {
            self.text(key, value);
            return;
        }
        self.block(key, std::iter::once(value));
    }

    /// A value written verbatim (already canonical: numbers, durations, lists).
    fn raw(&mut self, key: &str, value: &str) {
        let anchor = self.scope.anchor(key);
        self.comments.line(
            &mut self.single,
            &self.indent,
            &format!("{key}: {value}"),
            &anchor,
        );
    }

    fn int(&mut self, key: &str, value: i64) {
        if value != 0 {
            self.raw(key, &value.to_string());
        }
    }

    fn float(&mut self, key: &str, value: f64) {
        if value != 0.0 {
            self.raw(key, &value.to_string());
        }
    }

    fn duration(&mut self, key: &str, value: GoDuration) {
        if !value.is_zero() {
            self.raw(key, &value.to_short_string());
        }
    }

    fn flag(&mut self, key: &str, value: bool) {
        if value {
            self.raw(key, "true");
        }
    }

    /// A comma list, bare when every item is bare.
    fn list(&mut self, key: &str, items: &[String]) {
        if items.is_empty() {
            return;
        }
        let joined = items.join(", ");
        if joined.contains('\n') {
            // Only a raw block can hold this; the block reads back as the same list.
            self.block(key, joined.split('\n'));
        } else if items.iter().all(|i| is_bare(i)) {
            self.raw(key, &joined);
        } else {
            self.raw(key, &quote(&joined));
        }
    }

    /// A `key:` block of sorted `k: v` lines.
    fn map(&mut self, key: &str, map: &BTreeMap<String, String>) {
        if map.is_empty() {
            return;
        }
        let lines: Vec<String> = map
            .iter()
            .map(|(k, v)| format!("{k}: {}", scalar(v)))
            .collect();
        self.block(key, lines.iter().map(String::as_str));
    }

    fn finish(self) -> String {
        self.single + &self.multi
    }
}

fn inputs(c: &Comments<'_>, inputs: &[Input]) -> String {
    let mut out = String::new();
    c.line(
        &mut out,
        "  ",
        "inputs",
        &CommentAnchor::Section("inputs".into()),
    );
    for input in inputs {
        let kind = if input.kind.is_empty() {
            "\"\"".to_string()
        } else {
            scalar(&input.kind)
        };
        let anchor = CommentAnchor::Entry("inputs".into(), input.name.clone());
        c.line(
            &mut out,
            "    ",
            &format!("{}: {kind}", input.name),
            &anchor,
        );
        // Attribute lines share the input's anchor, already printed above.
        let mut b = Block::new(3, c, Scope::Entry("input-attribute"));
        b.flag("required", input.required);
        b.flag("multiline", input.multiline);
        b.int("max_length", input.max_length);
        if input.has_default {
            if input.default.is_empty() {
                b.raw("default", "\"\"");
            } else {
                b.text("default", &input.default);
            }
        }
        b.list("options", &input.options);
        b.text("min", &input.min);
        b.text("max", &input.max);
        b.text("pattern", &input.pattern);
        b.text("description", &input.description);
        b.text("prompt", &input.prompt);
        out.push_str(&b.finish());
    }
    out
}

fn defaults(c: &Comments<'_>, d: &Defaults) -> String {
    let mut b = Block::new(2, c, Scope::Entry("defaults"));
    b.text("model", &d.model);
    b.text("provider", &d.provider);
    b.text("retry_policy", &d.retry_policy);
    b.int("max_retries", d.max_retries);
    b.text("fidelity", &d.fidelity);
    b.int("max_restarts", d.max_restarts);
    b.text("restart_target", &d.restart_target);
    b.text("on_failure", &d.on_failure);
    b.flag("cache_tools", d.cache_tools);
    b.text("compaction", &d.compaction);
    b.text("on_resume", &d.on_resume);
    b.int("max_total_tokens", d.max_total_tokens);
    b.int("max_cost_cents", d.max_cost_cents);
    b.duration("max_wall_time", d.max_wall_time);
    b.duration("stall_timeout", d.stall_timeout);
    b.text("tool_commands_allow", &d.tool_commands_allow);
    b.text("tool_denylist_add", &d.tool_denylist_add);
    b.text("prompt_prefix_file", &d.prompt_prefix_file);
    b.text("prompt_suffix_file", &d.prompt_suffix_file);
    b.text("system_prompt_file", &d.system_prompt_file);
    b.text("prompt_prefix", &d.prompt_prefix);
    b.text("prompt_suffix", &d.prompt_suffix);
    let body = b.finish();
    if body.is_empty() {
        // An empty `defaults` section parses to the same IR when omitted.
        return String::new();
    }
    let mut out = String::new();
    c.line(
        &mut out,
        "  ",
        "defaults",
        &CommentAnchor::Section("defaults".into()),
    );
    out + &body
}

fn retry(b: &mut Block<'_, '_>, r: &Retry, version: u32) {
    b.text("retry_policy", &r.policy);
    b.int("max_retries", r.max_retries);
    b.duration("base_delay", r.base_delay);
    b.text("retry_target", &r.retry_target);
    let fallback = if version >= 2 {
        "fallback_retry_target"
    } else {
        "fallback_target"
    };
    b.text(fallback, &r.fallback_target);
}

fn io(b: &mut Block<'_, '_>, node: &Node) {
    b.list("reads", &node.io.reads);
    b.list("writes", &node.io.writes);
}

fn node(c: &Comments<'_>, wf: &Workflow, node: &Node) -> String {
    let scope = Scope::Node(&node.id);
    let anchor = CommentAnchor::Node(node.id.clone());
    let mut b = Block::new(2, c, scope);
    let mut header = String::new();
    match &node.config {
        NodeConfig::Parallel(p) if p.branches.is_empty() => {
            let line = format!("parallel {} -> {}", node.id, p.targets.join(", "));
            c.line(&mut header, "  ", &line, &anchor);
            b.map("params", &p.params);
            return header + &b.finish();
        }
        NodeConfig::Parallel(p) => {
            c.line(&mut header, "  ", &format!("parallel {}", node.id), &anchor);
            for branch in &p.branches {
                let _ = writeln!(header, "    branch: {}", branch.target);
                let mut bb = Block::new(3, c, Scope::Entry("branch"));
                bb.text("model", &branch.model);
                bb.text("provider", &branch.provider);
                bb.text("fidelity", &branch.fidelity);
                bb.text("tool_access", &branch.tool_access);
                bb.list("writable_paths", &branch.writable_paths);
                bb.int("last_response_truncate", branch.last_response_truncate);
                header.push_str(&bb.finish());
            }
            b.map("params", &p.params);
            return header + &b.finish();
        }
        NodeConfig::FanIn(f) => {
            let line = format!("fan_in {} <- {}", node.id, f.sources.join(", "));
            c.line(&mut header, "  ", &line, &anchor);
            b.map("params", &f.params);
            return header + &b.finish();
        }
        _ => {
            let line = format!("{} {}", node.kind().as_str(), node.id);
            c.line(&mut header, "  ", &line, &anchor);
        }
    }
    b.text("label", &node.label);
    b.list("class", &node.classes);
    match &node.config {
        NodeConfig::Agent(a) => {
            b.text("model", &a.model);
            b.text("provider", &a.provider);
            b.text("reasoning_effort", &a.reasoning_effort);
            b.text("fidelity", &a.fidelity);
            b.text("backend", &a.backend);
            b.text("working_dir", &a.working_dir);
            b.text("tool_access", &a.tool_access);
            b.list("writable_paths", &a.writable_paths);
            b.text("response_format", &a.response_format);
            b.prose("response_schema", &a.response_schema);
            b.flag("goal_gate", a.goal_gate);
            b.flag("auto_status", a.auto_status);
            b.int("max_turns", a.max_turns);
            b.int("last_response_truncate", a.last_response_truncate);
            b.duration("cmd_timeout", a.cmd_timeout);
            b.flag("cache_tools", a.cache_tools);
            b.text("compaction", &a.compaction);
            b.float("compaction_threshold", a.compaction_threshold);
            retry(&mut b, &node.retry, wf.version);
            io(&mut b, node);
            b.map("params", &a.params);
            b.text("prompt_prefix", &a.prompt_prefix);
            b.text("prompt_suffix", &a.prompt_suffix);
            b.text("prompt_include", &a.prompt_include);
            b.text("system_prompt_file", &a.system_prompt_file);
            b.prose("system_prompt", &a.system_prompt);
            b.text("prompt_file", &a.prompt_file);
            b.prose("prompt", &a.prompt);
        }
        NodeConfig::Human(h) => {
            b.text("mode", &h.mode);
            b.text("default", &h.default);
            b.text("questions_key", &h.questions_key);
            b.text("answers_key", &h.answers_key);
            b.duration("timeout", h.timeout);
            b.text("timeout_action", &h.timeout_action);
            retry(&mut b, &node.retry, wf.version);
            io(&mut b, node);
            b.prose("prompt", &h.prompt);
        }
        NodeConfig::Tool(t) => {
            b.list("outputs", &t.outputs);
            b.text("marker_grep", &t.marker_grep);
            b.flag("route_required", t.route_required);
            b.int("output_limit", t.output_limit);
            b.duration("timeout", t.timeout);
            retry(&mut b, &node.retry, wf.version);
            io(&mut b, node);
            b.text("command_file", &t.command_file);
            b.prose("command", &t.command);
        }
        NodeConfig::Subgraph(s) => {
            b.text("ref", &s.reference);
            retry(&mut b, &node.retry, wf.version);
            io(&mut b, node);
            b.map(if wf.version >= 2 { "inputs" } else { "params" }, &s.params);
        }
        NodeConfig::ManagerLoop(m) => {
            b.text("subgraph_ref", &m.subgraph_ref);
            b.duration("poll_interval", m.poll_interval);
            b.int("max_cycles", m.max_cycles);
            if let Some(c) = &m.stop_condition {
                b.text("stop_condition", &c.raw);
            }
            if let Some(c) = &m.steer_condition {
                b.text("steer_condition", &c.raw);
            }
            retry(&mut b, &node.retry, wf.version);
            io(&mut b, node);
            b.map("steer_context", &m.steer_context);
        }
        NodeConfig::Conditional => {
            retry(&mut b, &node.retry, wf.version);
            io(&mut b, node);
        }
        NodeConfig::Parallel(_) | NodeConfig::FanIn(_) => {}
    }
    let body = b.finish();
    if body.is_empty() {
        // A node needs a body to parse; an empty label is the IR's "unset".
        return format!("{header}    label: \"\"\n");
    }
    header + &body
}

fn stylesheet(c: &Comments<'_>, rules: &[StyleRule]) -> String {
    let mut out = String::new();
    c.line(
        &mut out,
        "  ",
        "stylesheet:",
        &CommentAnchor::Header("stylesheet".into()),
    );
    for rule in rules {
        let selector = match &rule.selector {
            Selector::Universal => "*".to_string(),
            Selector::Kind(k) => k.clone(),
            Selector::Class(c) => format!(".{c}"),
            Selector::Id(i) => format!("#{i}"),
        };
        let _ = writeln!(out, "    {selector}");
        for (k, v) in &rule.properties {
            let _ = writeln!(out, "      {k}: {}", scalar(v));
        }
    }
    out
}

fn edges(c: &Comments<'_>, wf: &Workflow) -> String {
    let mut out = String::new();
    c.line(
        &mut out,
        "  ",
        "edges",
        &CommentAnchor::Section("edges".into()),
    );
    let mut index: HashMap<&str, &Node> = HashMap::new();
    for node in &wf.nodes {
        index.entry(node.id.as_str()).or_insert(node);
    }
    for (i, edge) in wf.edges.iter().enumerate() {
        c.line(
            &mut out,
            "    ",
            &edge_line(&index, edge),
            &CommentAnchor::Edge(i),
        );
    }
    if let Some(target) = &wf.else_target {
        c.line(
            &mut out,
            "    ",
            &format!("else -> {target}"),
            &CommentAnchor::Else,
        );
    }
    out
}

fn edge_line(index: &HashMap<&str, &Node>, edge: &Edge) -> String {
    let mut parts = vec![format!("{} -> {}", edge.from, edge.to)];
    if let Some(cond) = &edge.condition {
        parts.push(match on_token(index, edge, &cond.raw) {
            Some(tok) => format!("on {tok}"),
            None => format!("when {}", cond.raw),
        });
    }
    if !edge.label.is_empty() {
        parts.push(format!("label: {}", token(&edge.label)));
    }
    if !edge.choice.is_empty() {
        parts.push(format!("choice: {}", token(&edge.choice)));
    }
    if edge.weight != 0 {
        parts.push(format!("weight: {}", edge.weight));
    }
    if edge.override_ {
        parts.push("override: true".to_string());
    }
    if edge.restart {
        parts.push("loop".to_string());
    }
    parts.join("  ")
}

/// The `on` token for a condition that is exactly `<source's channel> = TOKEN`.
fn on_token<'a>(index: &HashMap<&str, &Node>, edge: &Edge, raw: &'a str) -> Option<&'a str> {
    let channel = Workflow::outcome_channel(index.get(edge.from.as_str())?)?;
    let token = raw.strip_prefix(channel)?.strip_prefix(" = ")?;
    crate::ir::is_outcome_token(token).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(src: &str) -> String {
        let (wf, diags) = crate::parse_dip(src);
        assert!(diags.is_empty(), "{diags:?}");
        let out = format(&wf);
        let (again, diags) = crate::parse_dip(&out);
        assert!(
            diags.is_empty(),
            "formatted text failed to parse: {diags:?}\n{out}"
        );
        assert_eq!(
            again.without_spans(),
            wf.without_spans(),
            "IR changed:\n{out}"
        );
        assert_eq!(format(&again), out, "not idempotent");
        out
    }

    #[test]
    fn canonical_layout() {
        let src = "workflow  X\n  exit: B\n  start: A\n  goal: Ship it # really\n  edges\n    A -> B when ctx.outcome=success label: \"Go now\"\n  agent B\n    prompt: bye\n  agent A\n    prompt:\n      line one\n\n      line two\n    model: claude-sonnet-4-6\n";
        let out = roundtrip(src);
        assert_eq!(
            out,
            "workflow X\n  goal: \"Ship it\"  # really\n  start: A\n  exit: B\n\n  agent B\n    prompt: bye\n\n  agent A\n    model: claude-sonnet-4-6\n    prompt:\n      line one\n\n      line two\n\n  edges\n    A -> B  on success  label: \"Go now\"\n"
        );
    }

    #[test]
    fn comments_stay_with_their_lines() {
        let src = "# file header\nworkflow C\n  start: A  # the entry\n  exit: B\n  # about B\n  agent B\n    prompt: b\n  agent A\n    # why this model\n    model: claude-sonnet-4-6\n    prompt: a\n  edges\n    # the only edge\n    A -> B  # go\n  # trailing note\n";
        let out = roundtrip(src);
        assert_eq!(
            out,
            "# file header\nworkflow C\n  start: A  # the entry\n  exit: B\n\n  # about B\n  agent B\n    prompt: b\n\n  agent A\n    # why this model\n    model: claude-sonnet-4-6\n    prompt: a\n\n  edges\n    # the only edge\n    A -> B  # go\n\n  # trailing note\n"
        );
    }

    #[test]
    fn comments_print_once_when_two_nodes_share_an_id() {
        // Found by the fuzzer: a duplicate node id (a validation error, but it
        // parses) made a trailing comment print on both nodes and grow each pass.
        let src = "workflow D\n  start: A\n  exit: A\n  agent A\n    prompt_file: a.md  # first\n  agent A\n    prompt_file: b.md\n";
        let out = roundtrip(src);
        assert_eq!(out.matches("# first").count(), 1, "{out}");
    }

    #[test]
    fn inputs_without_a_type_are_an_error_not_a_broken_format() {
        // Found by the fuzzer: `name:` plus an indented block became a multi-line type.
        let (_, diags) = crate::parse_dip("workflow I\n  start: A\n  exit: A\n  inputs\n    idea:\n      required: true\n  agent A\n    prompt: a\n");
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(diags[0].message.starts_with("input \"idea\" has no type"));
    }

    #[test]
    fn list_fields_that_span_lines_are_written_as_blocks() {
        roundtrip("workflow L\n  start: A\n  exit: A\n  agent A\n    prompt: a\n    reads:\n      plan\n      notes\n");
    }

    #[test]
    fn comments_of_unprinted_lines_are_kept_at_the_end() {
        let src = "workflow C\n  start: A\n  exit: A\n  agent A\n    prompt: a\n    max_turns: 0  # zero means default\n";
        let out = roundtrip(src);
        assert!(out.ends_with("\n  # zero means default\n"), "{out}");
    }

    #[test]
    fn quotes_values_that_need_it() {
        assert_eq!(scalar("summary:high"), "summary:high");
        assert_eq!(scalar("has space"), "\"has space\"");
        assert_eq!(scalar("say \"hi\" \\ bye"), "\"say \\\"hi\\\" \\\\ bye\"");
        assert_eq!(token("approve"), "approve");
        assert_eq!(token("Request Changes"), "\"Request Changes\"");
    }

    #[test]
    fn fan_nodes_and_maps_roundtrip() {
        roundtrip("workflow P\n  start: S\n  exit: J\n  agent S\n    prompt: go\n  agent A\n    prompt: a\n    params:\n      quorum: 2\n      note: \"x y\"\n  agent B\n    prompt: b\n  parallel F -> A, B\n    params:\n      fan_in_policy: all\n  fan_in J <- A, B\n  edges\n    S -> F\n");
        roundtrip("workflow P\n  start: F\n  exit: J\n  agent A\n    prompt: a\n  agent B\n    prompt: b\n  parallel F\n    branch: A\n      model: claude-haiku-4-5\n    branch: B\n  fan_in J <- A, B\n");
    }
}
