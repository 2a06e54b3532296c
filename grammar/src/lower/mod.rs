//! Lowering: the statement tree becomes the [`Workflow`] IR.
//!
//! This is where the meaning of each line in its section is checked: section
//! keywords, node kinds, field names and value types. Every problem becomes a
//! located `DIP000` diagnostic and lowering carries on, so one run reports them all.

mod edges;
mod node;
mod sections;
pub(crate) mod values;

use std::collections::HashSet;

use crate::ast::{Head, Name, Stmt};
use crate::ir::{CommentAnchor, NodeConfig, NodeKind, Workflow};
use crate::lexer::{Field, RawBlock};
use crate::source::Span;

use edges::PendingOn;
use values::{suggest, FieldValue, Sink};

pub(crate) use node::{has_prompt, kind_fields};

/// The result of lowering a file.
pub(crate) struct Lowered {
    pub workflow: Workflow,
    pub diagnostics: Vec<crate::diagnostic::Diagnostic>,
    /// Byte offset where the workflow block ends, when there is one; the reference
    /// stops reading there.
    pub workflow_end: Option<usize>,
    /// Where each line comments can attach to starts, in source order.
    pub anchors: Vec<(usize, CommentAnchor)>,
}

/// Lowers a parsed file. `end` is the file's length, used to place "missing" errors.
pub(crate) fn lower(stmts: Vec<Stmt>, text: &str) -> Lowered {
    let workflow_end = stmts
        .iter()
        .find(|s| matches!(&s.head, Head::Words(w) if w[0].text == "workflow"))
        .map(last_end);
    let mut lowerer = Lowerer {
        sink: Sink {
            diagnostics: Vec::new(),
        },
        version: 1,
        pending_on: Vec::new(),
        anchors: Vec::new(),
    };
    let workflow = lowerer.file(stmts, text);
    Lowered {
        workflow,
        diagnostics: lowerer.sink.diagnostics,
        workflow_end,
        anchors: lowerer.anchors,
    }
}

/// Whether `offset` is at the start of a line (column 1).
fn starts_line(text: &str, offset: usize) -> bool {
    offset == 0 || text.as_bytes().get(offset - 1) == Some(&b'\n')
}

/// The end of a statement including everything indented under it.
fn last_end(stmt: &Stmt) -> usize {
    stmt.body
        .last()
        .map_or(stmt.span.end, last_end)
        .max(stmt.span.end)
}

pub(crate) struct Lowerer {
    pub sink: Sink,
    pub version: u32,
    pending_on: Vec<PendingOn>,
    /// Line starts that comments may attach to (see [`CommentAnchor`]).
    pub anchors: Vec<(usize, CommentAnchor)>,
}

pub(crate) fn field_value(f: Field) -> FieldValue {
    FieldValue {
        key: f.key,
        key_span: f.key_span,
        line_offsets: vec![f.value_span.start],
        text: f.value,
        span: f.value_span,
    }
}

pub(crate) fn block_value(b: RawBlock) -> FieldValue {
    let end = b.line_offsets.last().copied().unwrap_or(b.key_span.end) + 1;
    let start = b.line_offsets.first().copied().unwrap_or(b.key_span.end);
    FieldValue {
        key: b.key,
        key_span: b.key_span,
        text: b.text,
        span: Span::new(start, end.max(start)),
        line_offsets: b.line_offsets,
    }
}

/// The words that start a top-level statement, for "did you mean" hints.
const TOP_LEVEL: &[&str] = &[
    "agent",
    "human",
    "tool",
    "subgraph",
    "conditional",
    "manager_loop",
    "parallel",
    "fan_in",
    "defaults",
    "vars",
    "inputs",
    "edges",
];

impl Lowerer {
    fn file(&mut self, stmts: Vec<Stmt>, text: &str) -> Workflow {
        let end = text.len();
        let mut workflow: Option<Workflow> = None;
        let mut first = true;
        for stmt in stmts {
            let is_first = std::mem::replace(&mut first, false);
            match &stmt.head {
                Head::Words(words) if words[0].text == "dip" && is_first => {
                    self.version_line(words, stmt.span);
                    if !stmt.body.is_empty() {
                        self.sink.error(stmt.body[0].span, "unexpected indented block after `dip N`");
                    }
                }
                _ if workflow.is_some() && starts_line(text, stmt.span.start) => {
                    // The reference stops reading after the workflow block; say that
                    // the rest is ignored instead of dropping it silently.
                    self.sink.warn(
                        stmt.span,
                        "content after the end of the workflow block is ignored (a file holds one workflow)",
                    );
                    break;
                }
                Head::Words(words) if words[0].text == "workflow" => {
                    let name = match words.get(1) {
                        Some(n) => n.text.clone(),
                        None => {
                            self.sink.error(stmt.span, "`workflow` needs a name: `workflow MyPipeline`");
                            String::new()
                        }
                    };
                    if let Some(extra) = words.get(2) {
                        self.sink.error(extra.span, "a workflow name is one identifier (letters, digits, _ - . /)");
                    }
                    let span = stmt.span;
                    self.anchors.push((span.start, CommentAnchor::Workflow));
                    workflow = Some(self.workflow(name, span, stmt.body));
                }
                Head::Error => {}
                _ if workflow.is_some() => self.sink.error(
                    stmt.span,
                    "this line is indented less than the workflow body, so it falls outside the workflow block",
                ),
                _ => self.sink.error(
                    stmt.span,
                    "expected `workflow <Name>` (optionally preceded by `dip N`)",
                ),
            }
        }
        match workflow {
            Some(mut wf) => {
                wf.version = self.version;
                wf
            }
            None => {
                let message = if end == 0 {
                    "empty file: expected `workflow <Name>`"
                } else {
                    "no `workflow <Name>` declaration found"
                };
                self.sink.error(Span::at(end), message);
                Workflow {
                    version: self.version,
                    ..Workflow::default()
                }
            }
        }
    }

    fn version_line(&mut self, words: &[Name], span: Span) {
        match words.get(1) {
            None => self.sink.error(
                span,
                "invalid version declaration: expected integer after 'dip'",
            ),
            Some(n) => match n.text.parse::<u32>() {
                Ok(v) if v >= 1 => self.version = v,
                _ => self.sink.error(
                    n.span,
                    format!(
                        "invalid version declaration: expected integer >= 1 after 'dip', got {:?}",
                        n.text
                    ),
                ),
            },
        }
    }

    fn workflow(&mut self, name: String, span: Span, body: Vec<Stmt>) -> Workflow {
        let mut wf = Workflow {
            name,
            version: self.version,
            span,
            ..Workflow::default()
        };
        if body.is_empty() {
            self.sink.error(
                span,
                "workflow has no body: indent `start:`, `exit:`, nodes and `edges` under it",
            );
        }
        let mut ids: HashSet<String> = HashSet::new();
        for stmt in body {
            match stmt.head {
                Head::Field(f) => {
                    let v = field_value(f);
                    if !stmt.body.is_empty() {
                        self.unexpected_block(&v, &stmt.body);
                    }
                    self.header_field(&mut wf, v);
                }
                Head::Block(b) => self.header_field(&mut wf, block_value(b)),
                Head::Words(words) => self.words(&mut wf, &mut ids, words, stmt.span, stmt.body),
                Head::Fork {
                    keyword,
                    id,
                    targets,
                } => {
                    self.anchors
                        .push((stmt.span.start, CommentAnchor::Node(id.text.clone())));
                    let kind = self.fan_keyword(&keyword, "parallel", "->");
                    let node = self.node(NodeKind::Parallel, &id.text, id.span, Vec::new());
                    let mut node = self.fan_body(node, stmt.body);
                    if let NodeConfig::Parallel(p) = &mut node.config {
                        p.targets = targets.into_iter().map(|t| t.text).collect();
                    }
                    if kind {
                        wf.nodes.push(node);
                    }
                }
                Head::Join {
                    keyword,
                    id,
                    sources,
                } => {
                    self.anchors
                        .push((stmt.span.start, CommentAnchor::Node(id.text.clone())));
                    let kind = self.fan_keyword(&keyword, "fan_in", "<-");
                    let node = crate::ir::Node {
                        id: id.text.clone(),
                        label: String::new(),
                        classes: Vec::new(),
                        config: NodeConfig::FanIn(crate::ir::FanInConfig {
                            sources: sources.into_iter().map(|s| s.text).collect(),
                            params: Default::default(),
                        }),
                        retry: Default::default(),
                        io: Default::default(),
                        span: id.span,
                    };
                    let node = self.fan_body(node, stmt.body);
                    if kind {
                        wf.nodes.push(node);
                    }
                }
                Head::Edge { .. } => self
                    .sink
                    .error(stmt.span, "edges go inside an `edges` section"),
                Head::Error => {}
            }
        }
        self.resolve_on(&mut wf);
        wf
    }

    /// Checks that `keyword` is the expected fan keyword; returns whether it is.
    fn fan_keyword(&mut self, keyword: &Name, expected: &str, arrow: &str) -> bool {
        if keyword.text == expected {
            return true;
        }
        self.sink.error(
            keyword.span,
            format!(
                "`{} X {arrow} …` is not a statement; did you mean `{expected}`?",
                keyword.text
            ),
        );
        false
    }

    /// The optional `params:` body of an inline `parallel` or `fan_in`.
    fn fan_body(&mut self, mut node: crate::ir::Node, body: Vec<Stmt>) -> crate::ir::Node {
        for stmt in body {
            let v = match stmt.head {
                Head::Field(f) => field_value(f),
                Head::Block(b) => block_value(b),
                Head::Error => continue,
                _ => {
                    self.sink.error(
                        stmt.span,
                        format!("unexpected line in {:?}: expected `params:`", node.id),
                    );
                    continue;
                }
            };
            self.anchors.push((
                v.key_span.start,
                CommentAnchor::NodeField(node.id.clone(), v.key.clone()),
            ));
            match (&mut node.config, v.key.as_str()) {
                (NodeConfig::Parallel(p), "params") => p.params = self.sink.map(&v),
                (NodeConfig::FanIn(f), "params") => f.params = self.sink.map(&v),
                _ => self.sink.error(
                    v.key_span,
                    format!(
                        "unrecognized {} field {:?} (only `params:` is allowed here)",
                        node.kind().as_str(),
                        v.key
                    ),
                ),
            }
        }
        node
    }

    fn words(
        &mut self,
        wf: &mut Workflow,
        ids: &mut HashSet<String>,
        words: Vec<Name>,
        span: Span,
        body: Vec<Stmt>,
    ) {
        let first = &words[0];
        match first.text.as_str() {
            "defaults" | "vars" | "inputs" | "edges" => {
                self.anchors
                    .push((span.start, CommentAnchor::Section(first.text.clone())));
                if let Some(extra) = words.get(1) {
                    self.sink.error(
                        extra.span,
                        format!(
                            "`{}` takes no name; put its entries on indented lines",
                            first.text
                        ),
                    );
                }
                match first.text.as_str() {
                    "defaults" => self.defaults(wf, span, body),
                    "vars" => self.vars(wf, body),
                    "inputs" => self.inputs(wf, body),
                    _ => self.edges_section(wf, body),
                }
            }
            keyword => {
                let Some(kind) = NodeKind::from_keyword(keyword) else {
                    if words.len() == 2 && matches!(keyword, "goal" | "start" | "exit" | "requires")
                    {
                        self.sink.error(
                            first.span,
                            format!("`{keyword}` needs a colon: `{keyword}: {}`", words[1].text),
                        );
                        return;
                    }
                    let mut diag = crate::diagnostic::Diagnostic::parse(
                        first.span,
                        if words.len() == 2 {
                            format!("unknown node kind {keyword:?}")
                        } else {
                            format!("unexpected top-level identifier: {keyword}")
                        },
                    )
                    .with_help(
                        "expected a node kind (agent, human, tool, subgraph, conditional, manager_loop, parallel, fan_in) or a section (defaults, vars, inputs, edges)",
                    );
                    if let Some(s) = suggest(keyword, TOP_LEVEL.iter().copied()) {
                        diag = diag.with_fix(format!("did you mean `{s}`?"));
                    }
                    self.sink.diagnostics.push(diag);
                    return;
                };
                let Some(id) = words.get(1) else {
                    self.sink.error(
                        span,
                        format!("`{keyword}` needs a node id: `{keyword} MyNode`"),
                    );
                    return;
                };
                if let Some(extra) = words.get(2) {
                    self.sink.error(
                        extra.span,
                        "a node id is one identifier (letters, digits, _ - . /)",
                    );
                }
                if kind == NodeKind::FanIn {
                    self.sink.error(
                        span,
                        "fan_in lists its sources inline: `fan_in Join <- A, B`",
                    );
                    return;
                }
                self.anchors
                    .push((span.start, CommentAnchor::Node(id.text.clone())));
                let node = self.node(kind, &id.text, id.span, body);
                if kind == NodeKind::Parallel {
                    let empty =
                        matches!(&node.config, NodeConfig::Parallel(p) if p.targets.is_empty());
                    if empty {
                        self.sink.error(id.span, format!("parallel {:?} has no branches: write `parallel {} -> A, B` or indent `branch: A` lines", id.text, id.text));
                    }
                }
                ids.insert(id.text.clone());
                wf.nodes.push(node);
            }
        }
    }
}
