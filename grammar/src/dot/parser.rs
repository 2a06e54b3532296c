//! The DOT statement parser: builds a flat graph of nodes, edges and graph attributes.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use super::attrs::{is_known_node_key, EDGE_KEYS};
use super::lexer::{Kind, Token};
use super::MAX_ERRORS;
use crate::diagnostic::Diagnostic;
use crate::source::Span;

/// Deepest subgraph nesting accepted (keeps recursion bounded).
const MAX_DEPTH: usize = 64;
/// Edges allowed beyond one per input byte. Pairwise `A -> B` statements can never
/// reach the limit; only subgraph operands (`{a b} -> {c d}`, a cross product) can,
/// and the limit keeps their output linear in the input size.
const EDGE_ALLOWANCE: usize = 10_000;

/// An attribute value and where it was written.
#[derive(Clone, Debug)]
pub(super) struct Val {
    pub(super) text: String,
    pub(super) span: Span,
}

/// Attributes by name.
pub(super) type AttrMap = HashMap<String, Val>;

/// A node as written: its id, first mention and attributes.
#[derive(Debug)]
pub(super) struct RawNode {
    pub(super) id: String,
    pub(super) span: Span,
    /// Attributes written on the node's own statements (later statements win).
    pub(super) attrs: AttrMap,
    /// The `node [...]` defaults in force when the node was created.
    pub(super) defaults: Rc<AttrMap>,
    /// Classes from labelled clusters the node belongs to.
    pub(super) clusters: Vec<String>,
}

impl RawNode {
    /// The attribute `key`: the node's own value, else the default.
    pub(super) fn get(&self, key: &str) -> Option<&Val> {
        self.attrs.get(key).or_else(|| self.defaults.get(key))
    }

    /// The text of attribute `key`, if set.
    pub(super) fn text(&self, key: &str) -> Option<&str> {
        self.get(key).map(|v| v.text.as_str())
    }
}

/// One edge of an edge statement (chains and subgraph operands are expanded).
#[derive(Debug)]
pub(super) struct RawEdge {
    /// Index of the source node.
    pub(super) from: usize,
    /// Index of the target node.
    pub(super) to: usize,
    pub(super) from_span: Span,
    pub(super) to_span: Span,
    /// The whole edge statement.
    pub(super) span: Span,
    attrs: Rc<Vec<(String, Val)>>,
    defaults: Rc<AttrMap>,
}

impl RawEdge {
    /// The attribute `key`: the statement's last value, else the default.
    pub(super) fn get(&self, key: &str) -> Option<&Val> {
        self.attrs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
            .or_else(|| self.defaults.get(key))
    }
}

/// The root graph or a subgraph being parsed.
#[derive(Debug, Default)]
struct Scope {
    node_defaults: Rc<AttrMap>,
    edge_defaults: Rc<AttrMap>,
    /// Nodes referenced inside this subgraph (unused for the root scope).
    members: Vec<usize>,
    /// The subgraph's `label`, which becomes a class of its members.
    label: Option<String>,
}

/// The parsed graph: subgraphs flattened, nodes in order of first mention.
#[derive(Debug, Default)]
pub(super) struct Graph {
    pub(super) name: String,
    /// From the `digraph` keyword to the graph name.
    pub(super) header: Span,
    pub(super) nodes: Vec<RawNode>,
    /// Node index by id.
    pub(super) index: HashMap<String, usize>,
    pub(super) edges: Vec<RawEdge>,
    /// Root-level graph attributes in source order.
    pub(super) graph_attrs: Vec<(String, Val)>,
    scopes: Vec<Scope>,
}

impl Graph {
    fn scope(&mut self) -> &mut Scope {
        if self.scopes.is_empty() {
            self.scopes.push(Scope::default());
        }
        let last = self.scopes.len() - 1;
        &mut self.scopes[last]
    }

    /// The node `id`, created (with the current node defaults) on first mention.
    fn touch(&mut self, id: &str, span: Span) -> usize {
        let idx = match self.index.get(id) {
            Some(&i) => i,
            None => {
                let defaults = Rc::clone(&self.scope().node_defaults);
                let i = self.nodes.len();
                self.nodes.push(RawNode {
                    id: id.to_string(),
                    span,
                    attrs: HashMap::new(),
                    defaults,
                    clusters: Vec::new(),
                });
                self.index.insert(id.to_string(), i);
                i
            }
        };
        if self.scopes.len() > 1 {
            self.scope().members.push(idx);
        }
        idx
    }
}

/// Parses the tokens of `src` into a graph. `errors` counts the lexical errors already
/// reported and `lex_fatal` says whether lexing stopped early; returns the graph and
/// the syntax errors.
pub(super) fn parse(
    src: &str,
    toks: Vec<Token>,
    errors: usize,
    lex_fatal: bool,
) -> (Graph, Vec<Diagnostic>) {
    let mut parser = Parser {
        src,
        toks,
        pos: 0,
        diags: Vec::new(),
        errors,
        lex_fatal,
        abort: false,
        depth: 0,
        g: Graph::default(),
    };
    parser.file();
    (parser.g, parser.diags)
}

/// A recursive-descent parser over the token stream.
struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    diags: Vec<Diagnostic>,
    /// Errors so far, lexical ones included.
    errors: usize,
    /// Lexing stopped early, so the token stream ends abruptly.
    lex_fatal: bool,
    /// Too many errors: stop parsing.
    abort: bool,
    depth: usize,
    g: Graph,
}

type PResult<T> = Result<T, ()>;

impl Parser<'_> {
    fn peek(&self) -> &Token {
        let last = self.toks.len().saturating_sub(1);
        &self.toks[self.pos.min(last)]
    }

    fn peek_kind(&self) -> Kind {
        self.peek().kind
    }

    fn peek2_kind(&self) -> Kind {
        self.toks.get(self.pos + 1).map_or(Kind::Eof, |t| t.kind)
    }

    fn bump(&mut self) -> Token {
        let tok = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        tok
    }

    fn is_keyword(&self, word: &str) -> bool {
        let t = self.peek();
        t.kind == Kind::Ident && t.text.eq_ignore_ascii_case(word)
    }

    fn error(&mut self, span: Span, message: impl Into<String>) {
        self.error_diag(Diagnostic::parse(span, message));
    }

    fn error_diag(&mut self, diag: Diagnostic) {
        if self.abort {
            return;
        }
        self.errors += 1;
        self.diags.push(diag);
        if self.errors >= MAX_ERRORS {
            self.abort = true;
        }
    }

    /// Reports the current token as unexpected.
    fn unexpected(&mut self, expected: &str) {
        let tok = self.peek().clone();
        if tok.kind == Kind::Eof && self.lex_fatal {
            // The lexer already reported why the input ends here.
            self.abort = true;
            return;
        }
        self.error(
            tok.span,
            format!("expected {expected}, found {}", describe(&tok)),
        );
    }

    fn expect_kind(&mut self, kind: Kind, expected: &str) -> PResult<Token> {
        if self.peek_kind() == kind {
            Ok(self.bump())
        } else {
            self.unexpected(expected);
            Err(())
        }
    }

    /// `digraph Name { … }` with an optional `strict` and `graph` accepted.
    fn file(&mut self) {
        self.g.scopes.push(Scope::default());
        let first = self.peek().clone();
        if first.kind == Kind::Eof {
            if !self.lex_fatal {
                self.error(
                    Span::at(self.src.len()),
                    "empty input: expected `digraph Name { … }`",
                );
            }
            return;
        }
        let header_start = first.span.start;
        if self.is_keyword("strict") {
            self.bump();
        }
        if self.is_keyword("digraph") || self.is_keyword("graph") {
            self.bump();
        } else {
            self.unexpected("`digraph`");
            return;
        }
        let mut header_end = self.toks[self.pos.saturating_sub(1)].span.end;
        if self.peek_kind() != Kind::LBrace {
            match self.id() {
                Ok((name, span)) => {
                    self.g.name = name;
                    header_end = span.end;
                }
                Err(()) => return,
            }
        }
        self.g.header = Span::new(header_start, header_end);
        let Ok(open) = self.expect_kind(Kind::LBrace, "`{` to open the graph body") else {
            return;
        };
        self.stmt_list();
        if self.abort {
            return;
        }
        if self.peek_kind() == Kind::RBrace {
            self.bump();
        } else {
            self.missing_brace(open.span, "graph body");
            return;
        }
        let tok = self.peek().clone();
        if tok.kind != Kind::Eof {
            self.error_diag(
                Diagnostic::parse(
                    tok.span,
                    format!("unexpected {} after the graph", describe(&tok)),
                )
                .with_help("a DOT pipeline file holds exactly one `digraph { … }`"),
            );
        }
    }

    fn missing_brace(&mut self, open: Span, what: &str) {
        if self.lex_fatal {
            return;
        }
        let (line, column) = line_col(self.src, open.start);
        self.error_diag(
            Diagnostic::parse(
                Span::at(self.src.len()),
                format!("expected `}}` to close the {what}, found end of input"),
            )
            .with_help(format!("the `{{` at {line}:{column} is never closed")),
        );
    }

    /// Statements until `}` or end of input (neither consumed).
    fn stmt_list(&mut self) {
        loop {
            if self.abort {
                return;
            }
            match self.peek_kind() {
                Kind::RBrace | Kind::Eof => return,
                Kind::Semi | Kind::Comma => {
                    self.bump();
                }
                _ => {
                    if self.stmt().is_err() {
                        self.recover();
                    }
                }
            }
        }
    }

    /// Skips to the end of the broken statement: past `;`, or to a `}` closing the
    /// current block, keeping braces balanced.
    fn recover(&mut self) {
        let mut depth = 0usize;
        loop {
            match self.peek_kind() {
                Kind::Eof => return,
                Kind::Semi if depth == 0 => {
                    self.bump();
                    return;
                }
                Kind::RBrace if depth == 0 => return,
                Kind::RBrace => depth -= 1,
                Kind::LBrace => depth += 1,
                _ => {}
            }
            self.bump();
        }
    }

    fn stmt(&mut self) -> PResult<()> {
        let tok = self.peek().clone();
        match tok.kind {
            Kind::Ident
                if ["graph", "node", "edge"]
                    .iter()
                    .any(|k| tok.text.eq_ignore_ascii_case(k)) =>
            {
                self.bump();
                let attrs = self.attr_lists(true)?;
                let which = tok.text.to_ascii_lowercase();
                self.attr_stmt(&which, attrs);
                Ok(())
            }
            Kind::Ident if tok.text.eq_ignore_ascii_case("subgraph") => self.edge_or_node_stmt(),
            Kind::LBrace => self.edge_or_node_stmt(),
            Kind::Ident | Kind::Quoted | Kind::Html => {
                if self.peek2_kind() == Kind::Equals {
                    let (key, _) = self.id()?;
                    self.bump();
                    let (value, span) = self.id()?;
                    self.graph_attr(key, Val { text: value, span });
                    Ok(())
                } else {
                    self.edge_or_node_stmt()
                }
            }
            _ => {
                self.unexpected("a statement");
                Err(())
            }
        }
    }

    fn attr_stmt(&mut self, which: &str, attrs: Vec<(String, Val)>) {
        match which {
            "graph" => {
                for (k, v) in attrs {
                    self.graph_attr(k, v);
                }
            }
            "node" => {
                let scope = self.g.scope();
                let defaults = Rc::make_mut(&mut scope.node_defaults);
                for (k, v) in attrs {
                    // Only attributes the lowering reads are kept, which bounds the
                    // cost of copying defaults.
                    if is_known_node_key(&k) {
                        defaults.insert(k, v);
                    }
                }
            }
            _ => {
                let scope = self.g.scope();
                let defaults = Rc::make_mut(&mut scope.edge_defaults);
                for (k, v) in attrs {
                    if EDGE_KEYS.contains(&k.as_str()) {
                        defaults.insert(k, v);
                    }
                }
            }
        }
    }

    fn graph_attr(&mut self, key: String, val: Val) {
        if self.g.scopes.len() > 1 {
            if key == "label" {
                self.g.scope().label = Some(val.text);
            }
        } else {
            self.g.graph_attrs.push((key, val));
        }
    }

    /// A node statement, an edge statement (chains and subgraph operands included) or a
    /// lone subgraph.
    fn edge_or_node_stmt(&mut self) -> PResult<()> {
        let stmt_start = self.peek().span.start;
        let first = self.operand()?;
        if !matches!(self.peek_kind(), Kind::Arrow | Kind::Line) {
            if let Operand::Node(idx, _) = first {
                let attrs = self.attr_lists(false)?;
                let node = &mut self.g.nodes[idx];
                for (k, v) in attrs {
                    node.attrs.insert(k, v);
                }
            }
            return Ok(());
        }
        let mut operands = vec![first];
        while matches!(self.peek_kind(), Kind::Arrow | Kind::Line) {
            self.bump();
            operands.push(self.operand()?);
        }
        let attrs = Rc::new(self.attr_lists(false)?);
        let stmt_end = self.toks[self.pos.saturating_sub(1)].span.end;
        let span = Span::new(stmt_start, stmt_end.max(stmt_start));
        let defaults = Rc::clone(&self.g.scope().edge_defaults);
        for pair in operands.windows(2) {
            for &(from, from_span) in pair[0].members() {
                for &(to, to_span) in pair[1].members() {
                    let limit = self.src.len() + EDGE_ALLOWANCE;
                    if self.g.edges.len() >= limit {
                        self.error(
                            span,
                            format!("too many edges (more than {limit}) from subgraph operands"),
                        );
                        self.abort = true;
                        return Err(());
                    }
                    self.g.edges.push(RawEdge {
                        from,
                        to,
                        from_span,
                        to_span,
                        span,
                        attrs: Rc::clone(&attrs),
                        defaults: Rc::clone(&defaults),
                    });
                }
            }
        }
        Ok(())
    }

    /// A node id (with an optional, ignored `:port[:compass]`) or a subgraph.
    fn operand(&mut self) -> PResult<Operand> {
        if self.is_keyword("subgraph") || self.peek_kind() == Kind::LBrace {
            return Ok(Operand::Set(self.subgraph()?));
        }
        let (id, span) = self.id()?;
        for _ in 0..2 {
            if self.peek_kind() == Kind::Colon {
                self.bump();
                self.id()?;
            }
        }
        let idx = self.g.touch(&id, span);
        Ok(Operand::Node(idx, [(idx, span)]))
    }

    /// `subgraph [id] { … }` or `{ … }`: flattened; returns the nodes it references.
    fn subgraph(&mut self) -> PResult<Vec<(usize, Span)>> {
        if self.is_keyword("subgraph") {
            self.bump();
            if self.peek_kind() != Kind::LBrace {
                self.id()?;
            }
        }
        let open = self.expect_kind(Kind::LBrace, "`{` to open the subgraph")?;
        if self.depth >= MAX_DEPTH {
            self.error(
                open.span,
                format!("subgraphs nested too deeply (more than {MAX_DEPTH} levels)"),
            );
            self.abort = true;
            return Err(());
        }
        self.depth += 1;
        let parent = self.g.scope();
        let scope = Scope {
            node_defaults: Rc::clone(&parent.node_defaults),
            edge_defaults: Rc::clone(&parent.edge_defaults),
            members: Vec::new(),
            label: None,
        };
        self.g.scopes.push(scope);
        self.stmt_list();
        self.depth -= 1;
        let scope = self.g.scopes.pop().unwrap_or_default();
        if self.abort {
            return Err(());
        }
        if self.peek_kind() == Kind::RBrace {
            self.bump();
        } else {
            self.missing_brace(open.span, "subgraph");
            self.abort = true;
            return Err(());
        }
        let mut seen = HashSet::new();
        let members: Vec<usize> = scope
            .members
            .into_iter()
            .filter(|m| seen.insert(*m))
            .collect();
        if let Some(class) = scope.label.as_deref().map(cluster_class) {
            if !class.is_empty() {
                for &m in &members {
                    let clusters = &mut self.g.nodes[m].clusters;
                    if !clusters.contains(&class) {
                        clusters.push(class.clone());
                    }
                }
            }
        }
        if self.g.scopes.len() > 1 {
            self.g.scope().members.extend(members.iter().copied());
        }
        Ok(members
            .into_iter()
            .map(|m| (m, self.g.nodes[m].span))
            .collect())
    }

    /// One or more `[ k=v, … ]` lists. `required` demands at least one.
    fn attr_lists(&mut self, required: bool) -> PResult<Vec<(String, Val)>> {
        let mut out = Vec::new();
        if required && self.peek_kind() != Kind::LBracket {
            self.unexpected("`[` to start an attribute list");
            return Err(());
        }
        while self.peek_kind() == Kind::LBracket {
            let open = self.bump();
            loop {
                match self.peek_kind() {
                    Kind::RBracket => {
                        self.bump();
                        break;
                    }
                    Kind::Eof => {
                        if !self.lex_fatal {
                            self.error(
                                open.span,
                                "unclosed attribute list: this `[` has no matching `]`",
                            );
                        }
                        self.abort = true;
                        return Err(());
                    }
                    _ => {}
                }
                let (key, key_span) = self.id()?;
                let val = if self.peek_kind() == Kind::Equals {
                    self.bump();
                    let (text, span) = self.id()?;
                    Val { text, span }
                } else {
                    Val {
                        text: "true".to_string(),
                        span: key_span,
                    }
                };
                out.push((key, val));
                if matches!(self.peek_kind(), Kind::Comma | Kind::Semi) {
                    self.bump();
                }
            }
        }
        Ok(out)
    }

    /// An ID: bare word, numeral, quoted string (with `+` concatenation) or HTML string.
    fn id(&mut self) -> PResult<(String, Span)> {
        let tok = self.peek().clone();
        match tok.kind {
            Kind::Ident | Kind::Html => {
                self.bump();
                Ok((tok.text, tok.span))
            }
            Kind::Quoted => {
                self.bump();
                let mut text = tok.text;
                let mut span = tok.span;
                while self.peek_kind() == Kind::Plus {
                    self.bump();
                    let next = self.expect_kind(Kind::Quoted, "a quoted string after `+`")?;
                    text.push_str(&next.text);
                    span.end = next.span.end;
                }
                Ok((text, span))
            }
            _ => {
                self.unexpected("an identifier or quoted string");
                Err(())
            }
        }
    }
}

/// One side of an edge: a node or the nodes of a subgraph.
enum Operand {
    Node(usize, [(usize, Span); 1]),
    Set(Vec<(usize, Span)>),
}

impl Operand {
    fn members(&self) -> &[(usize, Span)] {
        match self {
            Operand::Node(_, one) => one,
            Operand::Set(v) => v,
        }
    }
}

/// How a token is named in error messages.
fn describe(tok: &Token) -> String {
    match tok.kind {
        Kind::Ident => format!("`{}`", truncate(&tok.text)),
        Kind::Quoted => "a quoted string".to_string(),
        Kind::Html => "an HTML string".to_string(),
        Kind::LBrace => "`{`".to_string(),
        Kind::RBrace => "`}`".to_string(),
        Kind::LBracket => "`[`".to_string(),
        Kind::RBracket => "`]`".to_string(),
        Kind::Equals => "`=`".to_string(),
        Kind::Semi => "`;`".to_string(),
        Kind::Comma => "`,`".to_string(),
        Kind::Colon => "`:`".to_string(),
        Kind::Arrow => "`->`".to_string(),
        Kind::Line => "`--`".to_string(),
        Kind::Plus => "`+`".to_string(),
        Kind::Eof => "end of input".to_string(),
    }
}

/// The first 40 characters of `s`, with `…` when cut.
fn truncate(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// 1-based line and character column of byte `offset` (error paths only).
fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = src.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before
        .get(line_start..)
        .map_or(1, |s| s.chars().count() + 1);
    (line, column)
}

/// A cluster label as a class: lowercase, spaces → `-`, only `[a-z0-9-]` kept.
fn cluster_class(label: &str) -> String {
    label
        .to_lowercase()
        .chars()
        .map(|c| if c == ' ' { '-' } else { c })
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
        .collect()
}
