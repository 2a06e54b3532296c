//! The `edges` section: edges, their attributes, `on` shorthand and `else`.

use crate::ast::{EdgeAttr, Head, Name, Stmt};
use crate::diagnostic::Diagnostic;
use crate::ir::{is_outcome_token, Condition, Edge, Workflow};
use crate::lexer::AttrKey;
use crate::source::Span;

use super::Lowerer;

/// An `on TOKEN` waiting for the source node's kind, known once every node is read.
pub(super) struct PendingOn {
    pub edge: usize,
    pub token: String,
    pub span: Span,
}

impl Lowerer {
    pub(super) fn edges_section(&mut self, wf: &mut Workflow, body: Vec<Stmt>) {
        for stmt in body {
            if !stmt.body.is_empty() {
                let span = stmt.body[0].span;
                self.sink.error(
                    span,
                    "unexpected indented block in `edges`: write one edge per line",
                );
            }
            let anchor = match &stmt.head {
                Head::Edge { from, .. } if from.text == "else" => {
                    Some(crate::ir::CommentAnchor::Else)
                }
                Head::Edge { .. } => Some(crate::ir::CommentAnchor::Edge(wf.edges.len())),
                _ => None,
            };
            if let Some(anchor) = anchor {
                self.anchors.push((stmt.span.start, anchor));
            }
            match stmt.head {
                Head::Edge { from, to, attrs } if from.text == "else" => {
                    self.else_edge(wf, to, stmt.span, &attrs);
                }
                Head::Edge { from, to, attrs } => self.edge(wf, from, to, stmt.span, attrs),
                Head::Error => {}
                _ => self.sink.error(
                    stmt.span,
                    "expected an edge `From -> To` (with optional when/on/label/choice/weight/loop)",
                ),
            }
        }
    }

    fn else_edge(&mut self, wf: &mut Workflow, to: Name, span: Span, attrs: &[EdgeAttr]) {
        if wf.else_target.is_some() {
            self.sink.error(
                span,
                "duplicate `else` default; an edges block may declare at most one `else`",
            );
            return;
        }
        if !attrs.is_empty() {
            self.sink
                .warn(span, "`else -> X` takes no attributes; they are ignored");
        }
        wf.else_target = Some(to.text);
        wf.else_span = Some(to.span);
    }

    fn edge(&mut self, wf: &mut Workflow, from: Name, to: Name, span: Span, attrs: Vec<EdgeAttr>) {
        let mut edge = Edge {
            from: from.text,
            to: to.text,
            label: String::new(),
            choice: String::new(),
            condition: None,
            weight: 0,
            restart: false,
            override_: false,
            span,
            from_span: from.span,
            to_span: to.span,
        };
        let mut previous_keyed = false;
        for attr in attrs {
            let was_keyed = previous_keyed;
            previous_keyed = false;
            match attr {
                EdgeAttr::When { span, pieces } => {
                    if pieces.is_empty() {
                        self.sink.error(span, "`when` needs a condition, e.g. `when ctx.outcome = success`");
                        continue;
                    }
                    let raw: Vec<&str> = pieces.iter().map(|p| p.text.as_str()).collect();
                    edge.condition = Some(Condition::new(raw.join(" ")));
                }
                EdgeAttr::On { span, value: None } => self.sink.error(
                    span,
                    "`on` requires an outcome token (e.g. `on success`)",
                ),
                EdgeAttr::On {
                    value: Some(v), ..
                } => {
                    if v.quoted || !is_outcome_token(&v.text) {
                        self.sink.error(
                            v.span,
                            format!(
                                "`on` value {:?} must be a bare identifier such as success or fail; use `when` for anything else",
                                v.text
                            ),
                        );
                        continue;
                    }
                    self.pending_on.push(PendingOn {
                        edge: wf.edges.len(),
                        token: v.text,
                        span: v.span,
                    });
                }
                EdgeAttr::Keyed { key, span, value } => {
                    let Some(v) = value else {
                        self.sink.error(
                            span,
                            format!("`{}:` needs a value", key.as_str()),
                        );
                        continue;
                    };
                    previous_keyed = true;
                    match key {
                        AttrKey::Label => edge.label = v.text,
                        AttrKey::Choice => edge.choice = v.text,
                        AttrKey::Weight => match v.text.parse::<i64>() {
                            Ok(w) => edge.weight = w,
                            Err(_) => self.sink.error(
                                v.span,
                                format!("invalid integer {:?} for weight", v.text),
                            ),
                        },
                        AttrKey::Restart => edge.restart = v.text == "true",
                        AttrKey::Override => edge.override_ = v.text == "true",
                    }
                }
                EdgeAttr::Loop { span, value } => {
                    edge.restart = true;
                    if value.is_some() {
                        self.sink.error(span, "`loop` takes no value; write `loop` (no colon)");
                    }
                }
                EdgeAttr::Unknown { name, .. } => {
                    let mut diag = Diagnostic::parse(
                        name.span,
                        format!("unknown edge attribute {:?}", name.text),
                    );
                    if was_keyed {
                        diag = diag.with_help(
                            "values are one token: quote multi-word values, e.g. label: \"Request Changes\"",
                        );
                    } else {
                        diag = diag.with_help(
                            "edge attributes are when, on, label:, choice:, weight:, loop, restart:, override:",
                        );
                    }
                    self.sink.diagnostics.push(diag);
                }
                EdgeAttr::Bracket { span } => self.sink.error(
                    span,
                    "bracket syntax [label: ...] is not supported; use keyword syntax instead, e.g. `A -> B  label: go  when ctx.outcome = success`",
                ),
            }
        }
        if self.version >= 2 && edge.condition.is_none() && !edge.restart && edge.label.is_empty() {
            if let Some(node) = self.fan_declared(wf, &edge.from, &edge.to) {
                self.sink.error(
                    span,
                    format!(
                        "edge {} -> {} repeats the fan edge implied by {node:?}; remove it (`dip 2`)",
                        edge.from, edge.to
                    ),
                );
            }
        }
        wf.edges.push(edge);
    }

    /// The fan node (already declared) that implies `from -> to`, if any.
    fn fan_declared(&self, wf: &Workflow, from: &str, to: &str) -> Option<String> {
        wf.nodes.iter().find_map(|n| match &n.config {
            crate::ir::NodeConfig::Parallel(p)
                if n.id == from && p.targets.iter().any(|t| t == to) =>
            {
                Some(n.id.clone())
            }
            crate::ir::NodeConfig::FanIn(f)
                if n.id == to && f.sources.iter().any(|s| s == from) =>
            {
                Some(n.id.clone())
            }
            _ => None,
        })
    }

    /// Turns every `on TOKEN` into `when <channel> = TOKEN` now that all nodes are known.
    pub(super) fn resolve_on(&mut self, wf: &mut Workflow) {
        let pending_on = std::mem::take(&mut self.pending_on);
        if pending_on.is_empty() {
            return;
        }
        // First declaration wins, as everywhere else; indexed once to stay linear.
        let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for (i, node) in wf.nodes.iter().enumerate() {
            index.entry(node.id.as_str()).or_insert(i);
        }
        let mut resolved: Vec<(usize, Condition)> = Vec::new();
        for pending in pending_on {
            let Some(edge) = wf.edges.get(pending.edge) else {
                continue;
            };
            // An unknown source is reported by DIP003; the shorthand is dropped.
            let Some(source) = index.get(edge.from.as_str()).map(|&i| &wf.nodes[i]) else {
                continue;
            };
            match Workflow::outcome_channel(source) {
                Some(channel) => {
                    let raw = format!("{channel} = {}", pending.token);
                    resolved.push((pending.edge, Condition::new(raw)));
                }
                None => self.sink.error(
                    pending.span,
                    format!(
                        "`on` shorthand requires a source node with a defined outcome channel (agent, or tool with marker_grep); {:?} is a {}: use `when` instead",
                        source.id,
                        source.kind().as_str()
                    ),
                ),
            }
        }
        for (edge, condition) in resolved {
            wf.edges[edge].condition = Some(condition);
        }
    }
}
