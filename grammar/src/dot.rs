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

use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;

use crate::diagnostic::{Code, Diagnostic};
use crate::duration::GoDuration;
use crate::ir::{
    AgentConfig, Branch, Condition, Edge, FanInConfig, HumanConfig, ManagerLoopConfig, Node,
    NodeConfig, NodeIo, NodeKind, ParallelConfig, Retry, Selector, StyleRule, SubgraphConfig,
    ToolConfig, Workflow,
};
use crate::source::Span;

/// The warning every DOT file gets (code `DIP000`, severity warning).
pub const DEPRECATION_MESSAGE: &str = "DOT pipelines are deprecated; convert this file to .dip";

/// Syntax errors reported before the reader gives up.
const MAX_ERRORS: usize = 20;
/// Deepest subgraph nesting accepted (keeps recursion bounded).
const MAX_DEPTH: usize = 64;
/// Edges allowed beyond one per input byte. Pairwise `A -> B` statements can never
/// reach the limit; only subgraph operands (`{a b} -> {c d}`, a cross product) can,
/// and the limit keeps their output linear in the input size.
const EDGE_ALLOWANCE: usize = 10_000;

/// Parses DOT text into a workflow.
///
/// Always returns the deprecation warning first, then any syntax errors (`DIP000`,
/// error severity, located) and attribute warnings (bad numbers, booleans,
/// durations), sorted by position. The workflow is best effort when there are errors.
pub fn parse_dot(text: &str) -> (Workflow, Vec<Diagnostic>) {
    let (tokens, mut diags, lex_fatal) = lex(text);
    let mut parser = Parser {
        src: text,
        toks: tokens,
        pos: 0,
        diags: Vec::new(),
        errors: diags.len(),
        lex_fatal,
        abort: false,
        depth: 0,
        g: Graph::default(),
    };
    parser.file();
    let Parser {
        diags: parse_diags,
        g,
        ..
    } = parser;
    diags.extend(parse_diags);
    let mut lower_diags = Vec::new();
    let workflow = lower(g, &mut lower_diags);
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

// ---------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A bare identifier or numeral (`text` holds it).
    Ident,
    /// A double-quoted string (`text` holds the unescaped value).
    Quoted,
    /// An HTML string `<…>` (`text` holds the inner text).
    Html,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Equals,
    Semi,
    Comma,
    Colon,
    /// `->`
    Arrow,
    /// `--`
    Line,
    Plus,
    Eof,
}

#[derive(Clone, Debug)]
struct Token {
    kind: Kind,
    span: Span,
    text: String,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_char(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit()
}

/// Splits `src` into tokens. Returns the tokens (ending with `Eof`), lexical errors,
/// and whether lexing stopped early (unterminated string or comment, too many errors).
fn lex(src: &str) -> (Vec<Token>, Vec<Diagnostic>, bool) {
    let bytes = src.as_bytes();
    let len = bytes.len();
    let mut toks = Vec::new();
    let mut diags = Vec::new();
    let mut fatal = false;
    // A UTF-8 byte order mark is not part of the graph.
    let mut pos = if src.starts_with('\u{feff}') { 3 } else { 0 };
    let mut line_start = true;
    let simple = |kind: Kind, start: usize, end: usize| Token {
        kind,
        span: Span::new(start, end),
        text: String::new(),
    };
    while pos < len {
        let b = bytes[pos];
        let next = bytes.get(pos + 1).copied();
        match b {
            b'\n' => {
                pos += 1;
                line_start = true;
                continue;
            }
            b' ' | b'\t' | b'\r' | 0x0b | 0x0c => {
                pos += 1;
                continue;
            }
            b'#' if line_start => {
                pos = skip_line(bytes, pos);
                continue;
            }
            b'/' if next == Some(b'/') => {
                pos = skip_line(bytes, pos);
                continue;
            }
            b'/' if next == Some(b'*') => {
                match find(bytes, pos + 2, b"*/") {
                    Some(end) => pos = end + 2,
                    None => {
                        diags.push(Diagnostic::parse(
                            Span::new(pos, pos + 2),
                            "unterminated block comment: `/*` has no closing `*/`",
                        ));
                        fatal = true;
                        break;
                    }
                }
                continue;
            }
            _ => {}
        }
        line_start = false;
        let start = pos;
        let single = match b {
            b'{' => Some(Kind::LBrace),
            b'}' => Some(Kind::RBrace),
            b'[' => Some(Kind::LBracket),
            b']' => Some(Kind::RBracket),
            b'=' => Some(Kind::Equals),
            b';' => Some(Kind::Semi),
            b',' => Some(Kind::Comma),
            b':' => Some(Kind::Colon),
            b'+' => Some(Kind::Plus),
            _ => None,
        };
        if let Some(kind) = single {
            toks.push(simple(kind, start, start + 1));
            pos += 1;
            continue;
        }
        let digit_after = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
        match b {
            b'-' if next == Some(b'>') => {
                toks.push(simple(Kind::Arrow, start, start + 2));
                pos += 2;
            }
            b'-' if next == Some(b'-') => {
                toks.push(simple(Kind::Line, start, start + 2));
                pos += 2;
            }
            b'-' | b'.' | b'0'..=b'9'
                if b.is_ascii_digit()
                    || digit_after(pos + 1)
                    || (b == b'-' && next == Some(b'.') && digit_after(pos + 2)) =>
            {
                pos = lex_number(bytes, pos);
                toks.push(Token {
                    kind: Kind::Ident,
                    span: Span::new(start, pos),
                    text: src[start..pos].to_string(),
                });
            }
            b'"' => match lex_quoted(src, pos) {
                Ok((end, text)) => {
                    toks.push(Token {
                        kind: Kind::Quoted,
                        span: Span::new(start, end),
                        text,
                    });
                    pos = end;
                }
                Err(()) => {
                    diags.push(Diagnostic::parse(
                        Span::new(start, start + 1),
                        "unterminated string: this `\"` has no closing quote",
                    ));
                    fatal = true;
                    break;
                }
            },
            b'<' => match lex_html(bytes, pos) {
                Some(end) => {
                    toks.push(Token {
                        kind: Kind::Html,
                        span: Span::new(start, end),
                        text: src[start + 1..end - 1].to_string(),
                    });
                    pos = end;
                }
                None => {
                    diags.push(Diagnostic::parse(
                        Span::new(start, start + 1),
                        "unterminated HTML string: this `<` has no matching `>`",
                    ));
                    fatal = true;
                    break;
                }
            },
            _ if is_ident_start(b) => {
                pos += 1;
                while pos < len {
                    let c = bytes[pos];
                    if is_ident_char(c)
                        || (c == b'.' && bytes.get(pos + 1).is_some_and(|&n| is_ident_char(n)))
                    {
                        pos += 1;
                    } else {
                        break;
                    }
                }
                toks.push(Token {
                    kind: Kind::Ident,
                    span: Span::new(start, pos),
                    text: src[start..pos].to_string(),
                });
            }
            _ => {
                // An ASCII byte that starts no token (non-ASCII bytes are identifier
                // characters, so this is always one byte wide).
                diags.push(Diagnostic::parse(
                    Span::new(start, start + 1),
                    format!("unexpected character {:?}", b as char),
                ));
                pos += 1;
                if diags.len() >= MAX_ERRORS {
                    fatal = true;
                    break;
                }
            }
        }
    }
    toks.push(Token {
        kind: Kind::Eof,
        span: Span::at(len),
        text: String::new(),
    });
    (toks, diags, fatal)
}

fn skip_line(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() && bytes[pos] != b'\n' {
        pos += 1;
    }
    pos
}

/// The offset of the first `needle` at or after `from`.
fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// A DOT numeral (`-? (.[0-9]+ | [0-9]+(.[0-9]*)?)`), leniently extended by trailing
/// identifier characters so durations such as `900s` stay one token.
fn lex_number(bytes: &[u8], mut pos: usize) -> usize {
    if bytes.get(pos) == Some(&b'-') {
        pos += 1;
    }
    while bytes.get(pos).is_some_and(u8::is_ascii_digit) {
        pos += 1;
    }
    if bytes.get(pos) == Some(&b'.') {
        pos += 1;
        while bytes.get(pos).is_some_and(u8::is_ascii_digit) {
            pos += 1;
        }
    }
    while bytes.get(pos).is_some_and(|&c| is_ident_char(c)) {
        pos += 1;
    }
    pos
}

/// A double-quoted string starting at `start`: returns the offset after the closing
/// quote and the unescaped value (`\n \t \\ \"`, `\l`/`\r` → newline, backslash-newline
/// continues the line, other escapes are kept verbatim).
fn lex_quoted(src: &str, start: usize) -> Result<(usize, String), ()> {
    let bytes = src.as_bytes();
    let mut out = String::new();
    let mut i = start + 1;
    let mut seg = i;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                out.push_str(&src[seg..i]);
                return Ok((i + 1, out));
            }
            b'\\' => {
                out.push_str(&src[seg..i]);
                let Some(&c) = bytes.get(i + 1) else {
                    return Err(());
                };
                let mut consumed = 2;
                match c {
                    b'n' | b'l' | b'r' => out.push('\n'),
                    b't' => out.push('\t'),
                    b'\\' => out.push('\\'),
                    b'"' => out.push('"'),
                    b'\n' => {}
                    b'\r' if bytes.get(i + 2) == Some(&b'\n') => consumed = 3,
                    _ => {
                        out.push('\\');
                        consumed = 1;
                    }
                }
                i += consumed;
                seg = i;
            }
            _ => i += 1,
        }
    }
    Err(())
}

/// An HTML string `<…>` with nested angle brackets; the offset after its final `>`.
fn lex_html(bytes: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, &b) in bytes.iter().enumerate().skip(start) {
        match b {
            b'<' => depth += 1,
            b'>' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

// ---------------------------------------------------------------------------
// Parser: builds a flat graph of nodes, edges and graph attributes
// ---------------------------------------------------------------------------

/// An attribute value and where it was written.
#[derive(Clone, Debug)]
struct Val {
    text: String,
    span: Span,
}

type AttrMap = HashMap<String, Val>;

#[derive(Debug)]
struct RawNode {
    id: String,
    span: Span,
    /// Attributes written on the node's own statements (later statements win).
    attrs: AttrMap,
    /// The `node [...]` defaults in force when the node was created.
    defaults: Rc<AttrMap>,
    /// Classes from labelled clusters the node belongs to.
    clusters: Vec<String>,
}

impl RawNode {
    fn get(&self, key: &str) -> Option<&Val> {
        self.attrs.get(key).or_else(|| self.defaults.get(key))
    }

    fn text(&self, key: &str) -> Option<&str> {
        self.get(key).map(|v| v.text.as_str())
    }
}

#[derive(Debug)]
struct RawEdge {
    from: usize,
    to: usize,
    from_span: Span,
    to_span: Span,
    span: Span,
    attrs: Rc<Vec<(String, Val)>>,
    defaults: Rc<AttrMap>,
}

impl RawEdge {
    fn get(&self, key: &str) -> Option<&Val> {
        self.attrs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
            .or_else(|| self.defaults.get(key))
    }
}

#[derive(Debug, Default)]
struct Scope {
    node_defaults: Rc<AttrMap>,
    edge_defaults: Rc<AttrMap>,
    /// Nodes referenced inside this subgraph (unused for the root scope).
    members: Vec<usize>,
    /// The subgraph's `label`, which becomes a class of its members.
    label: Option<String>,
}

#[derive(Debug, Default)]
struct Graph {
    name: String,
    /// From the `digraph` keyword to the graph name.
    header: Span,
    nodes: Vec<RawNode>,
    index: HashMap<String, usize>,
    edges: Vec<RawEdge>,
    graph_attrs: Vec<(String, Val)>,
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

// ---------------------------------------------------------------------------
// Attribute vocabulary
// ---------------------------------------------------------------------------

const EDGE_KEYS: &[&str] = &[
    "label",
    "condition",
    "weight",
    "loop_restart",
    "restart",
    "choice",
    "override",
];

const COMMON_NODE_KEYS: &[&str] = &[
    "shape",
    "type",
    "label",
    "class",
    "retry_policy",
    "max_retries",
    "base_delay",
    "retry_target",
    "fallback_target",
    "fallback_retry_target",
    "reads",
    "writes",
];

const AGENT_KEYS: &[&str] = &[
    "prompt",
    "prompt_file",
    "system_prompt",
    "system_prompt_file",
    "prompt_include",
    "prompt_prefix",
    "prompt_suffix",
    "llm_model",
    "model",
    "llm_provider",
    "provider",
    "reasoning_effort",
    "fidelity",
    "goal_gate",
    "auto_status",
    "max_turns",
    "command_timeout",
    "cmd_timeout",
    "cache_tool_results",
    "cache_tools",
    "context_compaction",
    "compaction",
    "context_compaction_threshold",
    "compaction_threshold",
    "response_format",
    "response_schema",
    "backend",
    "working_dir",
    "tool_access",
    "writable_paths",
    "last_response_truncate",
];

const OTHER_KIND_KEYS: &[&str] = &[
    // human
    "mode",
    "default_choice",
    "default",
    "questions_key",
    "answers_key",
    "timeout",
    "timeout_action",
    // tool
    "tool_command",
    "command",
    "command_file",
    "outputs",
    "marker_grep",
    "route_required",
    "output_limit",
    // parallel / fan_in
    "targets",
    "parallel_targets",
    "branches",
    "parallel_join",
    "sources",
    "fan_in_sources",
    // subgraph / manager_loop
    "subgraph_ref",
    "ref",
    "subgraph_params",
    "params",
    "poll_interval",
    "max_cycles",
    "stop_condition",
    "steer_condition",
    "steer_context",
];

/// Graphviz presentation attributes: read by nobody, never passed through.
const LAYOUT_KEYS: &[&str] = &[
    "area",
    "bgcolor",
    "center",
    "charset",
    "color",
    "colorscheme",
    "comment",
    "compound",
    "concentrate",
    "distortion",
    "dpi",
    "fillcolor",
    "fixedsize",
    "fontcolor",
    "fontname",
    "fontnames",
    "fontpath",
    "fontsize",
    "gradientangle",
    "group",
    "height",
    "href",
    "id",
    "image",
    "imagepos",
    "imagescale",
    "label",
    "labeljust",
    "labelloc",
    "landscape",
    "layer",
    "layers",
    "layout",
    "margin",
    "mclimit",
    "newrank",
    "nodesep",
    "nojustify",
    "nslimit",
    "ordering",
    "orientation",
    "outputorder",
    "overlap",
    "pad",
    "page",
    "pagedir",
    "pencolor",
    "penwidth",
    "peripheries",
    "pos",
    "quantum",
    "rank",
    "rankdir",
    "ranksep",
    "ratio",
    "regular",
    "remincross",
    "rotate",
    "searchsize",
    "shape",
    "showboxes",
    "sides",
    "size",
    "skew",
    "sortv",
    "splines",
    "style",
    "stylesheet",
    "tooltip",
    "URL",
    "width",
    "xlabel",
    "z",
];

fn is_known_node_key(key: &str) -> bool {
    COMMON_NODE_KEYS.contains(&key) || AGENT_KEYS.contains(&key) || OTHER_KIND_KEYS.contains(&key)
}

/// Whether a node attribute is passed through as a parameter of a node of `kind`:
/// attributes the IR has no field for. An agent's `timeout` (a node-level attribute
/// in tracker, with no agent field in the IR) is kept this way too.
fn is_passthrough(key: &str, kind: NodeKind) -> bool {
    (kind == NodeKind::Agent && key == "timeout")
        || (!is_known_node_key(key) && !LAYOUT_KEYS.contains(&key) && !key.starts_with("branch."))
}

// ---------------------------------------------------------------------------
// Lowering to the IR
// ---------------------------------------------------------------------------

/// Typed-value conversions that report bad values as located warnings.
struct Values<'d> {
    diags: &'d mut Vec<Diagnostic>,
}

impl Values<'_> {
    fn warn(&mut self, span: Span, message: String) {
        self.diags
            .push(Diagnostic::warning(Code::PARSE, message).with_span(span));
    }

    fn int(&mut self, key: &str, v: &Val) -> i64 {
        match v.text.trim().parse::<i64>() {
            Ok(n) => n,
            Err(_) => {
                self.warn(
                    v.span,
                    format!("`{key}` expects an integer, got {:?}; ignored", v.text),
                );
                0
            }
        }
    }

    fn float(&mut self, key: &str, v: &Val) -> f64 {
        match v.text.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => n,
            _ => {
                self.warn(
                    v.span,
                    format!("`{key}` expects a number, got {:?}; ignored", v.text),
                );
                0.0
            }
        }
    }

    /// Go's `strconv.ParseBool` spellings.
    fn boolean(&mut self, key: &str, v: &Val) -> bool {
        match v.text.trim() {
            "1" | "t" | "T" | "true" | "TRUE" | "True" => true,
            "0" | "f" | "F" | "false" | "FALSE" | "False" | "" => false,
            other => {
                self.warn(
                    v.span,
                    format!("`{key}` expects true or false, got {other:?}; treated as false"),
                );
                false
            }
        }
    }

    /// Go duration syntax; a bare integer is read as seconds.
    fn duration(&mut self, key: &str, v: &Val) -> GoDuration {
        let text = v.text.trim();
        if let Ok(d) = GoDuration::parse(text) {
            return d;
        }
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            if let Some(ns) = text
                .parse::<i64>()
                .ok()
                .and_then(|s| s.checked_mul(1_000_000_000))
            {
                return GoDuration(ns);
            }
        }
        self.warn(
            v.span,
            format!("`{key}` expects a duration such as 30s or 5m, got {text:?}; ignored"),
        );
        GoDuration::ZERO
    }
}

/// Splits a comma list, trimming items and dropping empty ones.
fn csv(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Decodes `%XX` escapes (invalid ones are kept verbatim).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| {
                let h = std::str::from_utf8(h).ok()?;
                u8::from_str_radix(h, 16).ok()
            });
            if let Some(byte) = hex {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `k=v,k=v` with percent-encoded keys and values (`steer_context`,
/// `subgraph_params`).
fn kv_list(text: &str) -> BTreeMap<String, String> {
    text.split(',')
        .filter_map(|part| {
            let (k, v) = part.split_once('=')?;
            let k = percent_decode(k.trim());
            (!k.is_empty()).then(|| (k, percent_decode(v.trim())))
        })
        .collect()
}

/// Rewrites a DOT condition into Dippin condition text.
///
/// Bare variables get the `ctx.` prefix (`context.` becomes `ctx.`; `ctx.`, `graph.`,
/// `params.`, `inputs.` and `stack.` are kept), `&&`/`||` become `and`/`or`, `!x`
/// becomes `not x`, and tokens are re-joined with single spaces, so
/// `outcome!=fail && context.tool_stdout contains done` becomes
/// `ctx.outcome != fail and ctx.tool_stdout contains done`. Quoted values are kept as
/// written.
pub fn migrate_condition(text: &str) -> String {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Var,
        Op,
        Value,
        After,
    }
    let mut out: Vec<String> = Vec::new();
    let mut state = State::Var;
    for tok in condition_tokens(text) {
        match tok {
            CondTok::And => {
                out.push("and".into());
                state = State::Var;
            }
            CondTok::Or => {
                out.push("or".into());
                state = State::Var;
            }
            CondTok::Bang => out.push("not".into()),
            CondTok::LParen => {
                out.push("(".into());
                state = State::Var;
            }
            CondTok::RParen => {
                out.push(")".into());
                state = State::After;
            }
            CondTok::Op(op) => {
                out.push(op.into());
                state = State::Value;
            }
            CondTok::Quoted(q) => {
                out.push(q.into());
                state = match state {
                    State::Var => State::Op,
                    State::Value => State::After,
                    other => other,
                };
            }
            CondTok::Word(word) => {
                let lower = word.to_ascii_lowercase();
                if state == State::Value {
                    out.push(word.into());
                    state = State::After;
                    continue;
                }
                match lower.as_str() {
                    "and" | "or" => {
                        out.push(lower);
                        state = State::Var;
                    }
                    "not" if matches!(state, State::Var | State::Op) => out.push(lower),
                    "contains" | "startswith" | "endswith" | "in" | "matches"
                        if state == State::Op =>
                    {
                        out.push(lower);
                        state = State::Value;
                    }
                    _ if state == State::Var => {
                        out.push(qualify(word));
                        state = State::Op;
                    }
                    _ => out.push(word.into()),
                }
            }
        }
    }
    out.join(" ")
}

/// Adds the `ctx.` namespace to a bare condition variable.
fn qualify(var: &str) -> String {
    if let Some(rest) = var.strip_prefix("context.") {
        return format!("ctx.{rest}");
    }
    let namespaced = ["ctx.", "graph.", "params.", "inputs.", "stack."]
        .iter()
        .any(|p| var.starts_with(p));
    if namespaced {
        var.to_string()
    } else {
        format!("ctx.{var}")
    }
}

enum CondTok<'a> {
    And,
    Or,
    Bang,
    LParen,
    RParen,
    Op(&'a str),
    Quoted(&'a str),
    Word(&'a str),
}

fn condition_tokens(text: &str) -> Vec<CondTok<'_>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let next = bytes.get(i + 1).copied();
        let start = i;
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'&' if next == Some(b'&') => {
                out.push(CondTok::And);
                i += 2;
            }
            b'|' if next == Some(b'|') => {
                out.push(CondTok::Or);
                i += 2;
            }
            b'(' => {
                out.push(CondTok::LParen);
                i += 1;
            }
            b')' => {
                out.push(CondTok::RParen);
                i += 1;
            }
            b'!' if next != Some(b'=') => {
                out.push(CondTok::Bang);
                i += 1;
            }
            b'=' | b'!' | b'<' | b'>' => {
                i += if next == Some(b'=') { 2 } else { 1 };
                out.push(CondTok::Op(&text[start..i]));
            }
            b'"' | b'\'' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b {
                    if b == b'"' && bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i = (i + 1).min(bytes.len());
                out.push(CondTok::Quoted(&text[start..i]));
            }
            _ => {
                while i < bytes.len() {
                    let c = bytes[i];
                    let pair = bytes.get(i + 1).copied();
                    let stop = matches!(
                        c,
                        b' ' | b'\t'
                            | b'\n'
                            | b'\r'
                            | b'('
                            | b')'
                            | b'='
                            | b'!'
                            | b'<'
                            | b'>'
                            | b'"'
                            | b'\''
                    ) || (c == b'&' && pair == Some(b'&'))
                        || (c == b'|' && pair == Some(b'|'));
                    if stop {
                        break;
                    }
                    i += 1;
                }
                out.push(CondTok::Word(&text[start..i]));
            }
        }
    }
    out
}

/// Parses a `model_stylesheet` (`selector { prop: value; … } …`).
fn stylesheet(v: &Val, values: &mut Values<'_>) -> Vec<StyleRule> {
    let mut rules = Vec::new();
    let mut rest = v.text.as_str();
    while let Some(open) = rest.find('{') {
        let selector_text = rest[..open].trim();
        let after = &rest[open + 1..];
        let (body, next) = match after.find('}') {
            Some(close) => (&after[..close], &after[close + 1..]),
            None => (after, ""),
        };
        rest = next;
        let selector = if selector_text == "*" {
            Some(Selector::Universal)
        } else if let Some(class) = selector_text.strip_prefix('.') {
            Some(Selector::Class(class.to_string()))
        } else if let Some(id) = selector_text.strip_prefix('#') {
            Some(Selector::Id(id.to_string()))
        } else if NodeKind::from_keyword(selector_text).is_some() {
            Some(Selector::Kind(selector_text.to_string()))
        } else {
            None
        };
        let Some(selector) = selector else {
            values.warn(
                v.span,
                format!("model_stylesheet selector {selector_text:?} is not *, a kind, .class or #id; rule ignored"),
            );
            continue;
        };
        let properties = body
            .split(';')
            .filter_map(|p| {
                let (k, val) = p.split_once(':')?;
                let k = k.trim();
                (!k.is_empty()).then(|| (k.to_string(), crate::lexer::unquote(val.trim())))
            })
            .collect();
        rules.push(StyleRule {
            selector,
            properties,
        });
    }
    rules
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Plain,
    Start,
    Exit,
}

/// The node's kind, its start/exit role, and whether it is a diamond migrated to an
/// agent (which implies `auto_status`).
fn classify(n: &RawNode) -> (NodeKind, Role, bool) {
    let shape = n.text("shape").unwrap_or("").trim().to_ascii_lowercase();
    let role = match shape.as_str() {
        "mdiamond" => Role::Start,
        "msquare" => Role::Exit,
        _ => Role::Plain,
    };
    if let Some(ty) = n.text("type") {
        let kind = match ty.trim() {
            "codergen" | "agent" => Some((NodeKind::Agent, role)),
            "wait.human" | "human" => Some((NodeKind::Human, role)),
            "tool" => Some((NodeKind::Tool, role)),
            "parallel" => Some((NodeKind::Parallel, role)),
            "parallel.fan_in" | "fan_in" => Some((NodeKind::FanIn, role)),
            "subgraph" => Some((NodeKind::Subgraph, role)),
            "conditional" => Some((NodeKind::Conditional, role)),
            "stack.manager_loop" | "manager_loop" => Some((NodeKind::ManagerLoop, role)),
            "start" => Some((NodeKind::Agent, Role::Start)),
            "exit" => Some((NodeKind::Agent, Role::Exit)),
            _ => None,
        };
        if let Some((kind, role)) = kind {
            return (kind, role, false);
        }
    }
    let has = |k: &str| n.text(k).is_some_and(|v| !v.trim().is_empty());
    let kind = match shape.as_str() {
        "hexagon" => NodeKind::Human,
        "parallelogram" => NodeKind::Tool,
        "diamond" if has("tool_command") => NodeKind::Tool,
        "diamond" if has("prompt") => return (NodeKind::Agent, role, true),
        "diamond" => NodeKind::Conditional,
        "component" => NodeKind::Parallel,
        "tripleoctagon" => NodeKind::FanIn,
        "tab" => NodeKind::Subgraph,
        "house" => NodeKind::ManagerLoop,
        _ => NodeKind::Agent,
    };
    (kind, role, false)
}

/// Every attribute of `n` (own ones over defaults), in a deterministic order.
fn all_attrs(n: &RawNode) -> Vec<(&str, &Val)> {
    let mut out: BTreeMap<&str, &Val> = n.defaults.iter().map(|(k, v)| (k.as_str(), v)).collect();
    for (k, v) in &n.attrs {
        out.insert(k.as_str(), v);
    }
    out.into_iter().collect()
}

fn lower_node(n: &RawNode, kind: NodeKind, migrated: bool, values: &mut Values<'_>) -> Node {
    let text = |k: &str| n.text(k).unwrap_or("").to_string();
    let first = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| n.get(k))
            .map(|v| v.text.clone())
            .unwrap_or_default()
    };
    let mut classes = n.text("class").map(csv).unwrap_or_default();
    for c in &n.clusters {
        if !classes.contains(c) {
            classes.push(c.clone());
        }
    }
    let mut retry = Retry {
        policy: text("retry_policy"),
        retry_target: text("retry_target"),
        fallback_target: first(&["fallback_retry_target", "fallback_target"]),
        ..Retry::default()
    };
    if let Some(v) = n.get("max_retries") {
        retry.max_retries = values.int("max_retries", v);
    }
    if let Some(v) = n.get("base_delay") {
        retry.base_delay = values.duration("base_delay", v);
    }
    let io = NodeIo {
        reads: n.text("reads").map(csv).unwrap_or_default(),
        writes: n.text("writes").map(csv).unwrap_or_default(),
    };
    let passthrough = || -> BTreeMap<String, String> {
        all_attrs(n)
            .into_iter()
            .filter(|(k, _)| is_passthrough(k, kind))
            .map(|(k, v)| (k.to_string(), v.text.clone()))
            .collect()
    };
    let config = match kind {
        NodeKind::Agent => {
            let mut a = AgentConfig {
                prompt: text("prompt"),
                prompt_file: text("prompt_file"),
                system_prompt: text("system_prompt"),
                system_prompt_file: text("system_prompt_file"),
                prompt_include: text("prompt_include"),
                prompt_prefix: text("prompt_prefix"),
                prompt_suffix: text("prompt_suffix"),
                model: first(&["llm_model", "model"]),
                provider: first(&["llm_provider", "provider"]),
                reasoning_effort: text("reasoning_effort"),
                fidelity: text("fidelity"),
                compaction: first(&["context_compaction", "compaction"]),
                response_format: text("response_format"),
                response_schema: text("response_schema"),
                backend: text("backend"),
                working_dir: text("working_dir"),
                tool_access: text("tool_access"),
                writable_paths: n.text("writable_paths").map(csv).unwrap_or_default(),
                auto_status: migrated,
                params: passthrough(),
                ..AgentConfig::default()
            };
            for (key, v) in all_attrs(n) {
                match key {
                    "goal_gate" => a.goal_gate = values.boolean(key, v),
                    "auto_status" => a.auto_status = values.boolean(key, v),
                    "max_turns" => a.max_turns = values.int(key, v),
                    "last_response_truncate" => a.last_response_truncate = values.int(key, v),
                    "command_timeout" | "cmd_timeout" => {
                        a.cmd_timeout = values.duration(key, v);
                    }
                    "cache_tool_results" | "cache_tools" => {
                        a.cache_tools = values.boolean(key, v);
                    }
                    "context_compaction_threshold" | "compaction_threshold" => {
                        a.compaction_threshold = values.float(key, v);
                    }
                    _ => {}
                }
            }
            NodeConfig::Agent(a)
        }
        NodeKind::Human => {
            let mut h = HumanConfig {
                mode: text("mode"),
                default: first(&["default_choice", "default"]),
                prompt: text("prompt"),
                questions_key: text("questions_key"),
                answers_key: text("answers_key"),
                timeout_action: text("timeout_action"),
                ..HumanConfig::default()
            };
            if let Some(v) = n.get("timeout") {
                h.timeout = values.duration("timeout", v);
            }
            NodeConfig::Human(h)
        }
        NodeKind::Tool => {
            let mut t = ToolConfig {
                command: first(&["tool_command", "command"]),
                command_file: text("command_file"),
                outputs: n.text("outputs").map(csv).unwrap_or_default(),
                marker_grep: text("marker_grep"),
                ..ToolConfig::default()
            };
            if let Some(v) = n.get("timeout") {
                t.timeout = values.duration("timeout", v);
            }
            if let Some(v) = n.get("route_required") {
                t.route_required = values.boolean("route_required", v);
            }
            if let Some(v) = n.get("output_limit") {
                t.output_limit = values.int("output_limit", v);
            }
            NodeConfig::Tool(t)
        }
        NodeKind::Parallel => {
            let mut p = ParallelConfig {
                targets: n
                    .get("parallel_targets")
                    .or_else(|| n.get("targets"))
                    .map(|v| csv(&v.text))
                    .unwrap_or_default(),
                branches: branches(n, values),
                params: passthrough(),
            };
            if p.targets.is_empty() {
                p.targets = p.branches.iter().map(|b| b.target.clone()).collect();
            }
            NodeConfig::Parallel(p)
        }
        NodeKind::FanIn => NodeConfig::FanIn(FanInConfig {
            sources: n
                .get("fan_in_sources")
                .or_else(|| n.get("sources"))
                .map(|v| csv(&v.text))
                .unwrap_or_default(),
            params: passthrough(),
        }),
        NodeKind::Subgraph => NodeConfig::Subgraph(SubgraphConfig {
            reference: first(&["subgraph_ref", "ref"]),
            params: n
                .get("subgraph_params")
                .or_else(|| n.get("params"))
                .map(|v| kv_list(&v.text))
                .unwrap_or_default(),
        }),
        NodeKind::ManagerLoop => {
            let mut m = ManagerLoopConfig {
                subgraph_ref: text("subgraph_ref"),
                steer_context: n.text("steer_context").map(kv_list).unwrap_or_default(),
                ..ManagerLoopConfig::default()
            };
            if let Some(v) = n.get("poll_interval") {
                m.poll_interval = values.duration("poll_interval", v);
            }
            if let Some(v) = n.get("max_cycles") {
                m.max_cycles = values.int("max_cycles", v);
            }
            let cond = |k: &str| {
                n.text(k)
                    .filter(|t| !t.trim().is_empty())
                    .map(|t| Condition::new(migrate_condition(t)))
            };
            m.stop_condition = cond("stop_condition");
            m.steer_condition = cond("steer_condition");
            NodeConfig::ManagerLoop(m)
        }
        NodeKind::Conditional => NodeConfig::Conditional,
    };
    Node {
        id: n.id.clone(),
        label: text("label"),
        classes,
        config,
        retry,
        io,
        span: n.span,
    }
}

/// Per-branch overrides, from `branches` (`target=a;model=m,target=b`) or from
/// `branch.<i>.<key>` attributes (ordered by index).
fn branches(n: &RawNode, values: &mut Values<'_>) -> Vec<Branch> {
    fn set(b: &mut Branch, key: &str, value: String, v: &Val, values: &mut Values<'_>) {
        match key {
            "target" => b.target = value,
            "model" | "llm_model" => b.model = value,
            "provider" | "llm_provider" => b.provider = value,
            "fidelity" => b.fidelity = value,
            "tool_access" => b.tool_access = value,
            "writable_paths" => b.writable_paths = csv(&value),
            "last_response_truncate" => {
                let tmp = Val {
                    text: value,
                    span: v.span,
                };
                b.last_response_truncate = values.int("last_response_truncate", &tmp);
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Some(v) = n.get("branches") {
        for entry in v.text.split(',') {
            let mut b = Branch::default();
            for field in entry.split(';') {
                if let Some((k, val)) = field.split_once('=') {
                    set(&mut b, k.trim(), percent_decode(val.trim()), v, values);
                }
            }
            if !b.target.is_empty() {
                out.push(b);
            }
        }
        return out;
    }
    let mut indexed: BTreeMap<u64, Branch> = BTreeMap::new();
    for (key, v) in all_attrs(n) {
        let Some(rest) = key.strip_prefix("branch.") else {
            continue;
        };
        let Some((i, field)) = rest.split_once('.') else {
            continue;
        };
        let Ok(i) = i.parse::<u64>() else {
            continue;
        };
        set(
            indexed.entry(i).or_default(),
            field,
            v.text.clone(),
            v,
            values,
        );
    }
    out.extend(indexed.into_values().filter(|b| !b.target.is_empty()));
    out
}

fn lower_edge(g: &Graph, e: &RawEdge, values: &mut Values<'_>) -> Edge {
    let text = |k: &str| e.get(k).map(|v| v.text.clone()).unwrap_or_default();
    let mut edge = Edge {
        from: g.nodes[e.from].id.clone(),
        to: g.nodes[e.to].id.clone(),
        label: text("label"),
        choice: text("choice"),
        condition: e
            .get("condition")
            .filter(|v| !v.text.trim().is_empty())
            .map(|v| Condition::new(migrate_condition(&v.text))),
        weight: 0,
        restart: false,
        override_: false,
        span: e.span,
        from_span: e.from_span,
        to_span: e.to_span,
    };
    if let Some(v) = e.get("weight") {
        edge.weight = values.int("weight", v);
    }
    for key in ["loop_restart", "restart"] {
        if let Some(v) = e.get(key) {
            edge.restart |= values.boolean(key, v);
        }
    }
    if let Some(v) = e.get("override") {
        edge.override_ = values.boolean("override", v);
    }
    edge
}

fn lower_graph_attrs(wf: &mut Workflow, attrs: &[(String, Val)], values: &mut Values<'_>) {
    for (key, v) in attrs {
        let text = v.text.clone();
        let d = &mut wf.defaults;
        match key.as_str() {
            "goal" => wf.goal = text,
            "version" => match v.text.trim() {
                "1" => wf.version = 1,
                "2" => wf.version = 2,
                other => values.warn(
                    v.span,
                    format!("unknown pipeline version {other:?}; using 1"),
                ),
            },
            "requires" => wf.requires = csv(&text),
            "llm_model" | "model" => d.model = text,
            "llm_provider" | "provider" => d.provider = text,
            "default_fidelity" => d.fidelity = text,
            "default_retry_policy" => d.retry_policy = text,
            "default_max_retry" | "default_max_retries" => {
                d.max_retries = values.int(key, v);
            }
            "max_restarts" => d.max_restarts = values.int(key, v),
            "restart_target" => d.restart_target = text,
            "fallback_target" => {
                d.on_failure = text;
                d.on_failure_span = Some(v.span);
            }
            "cache_tool_results" | "cache_tools" => d.cache_tools = values.boolean(key, v),
            "context_compaction" | "compaction" => d.compaction = text,
            "on_resume" => d.on_resume = text,
            "max_total_tokens" => d.max_total_tokens = values.int(key, v),
            "max_cost_cents" => d.max_cost_cents = values.int(key, v),
            "max_wall_time" => d.max_wall_time = values.duration(key, v),
            "stall_timeout" => d.stall_timeout = values.duration(key, v),
            "tool_commands_allow" => d.tool_commands_allow = text,
            "tool_denylist_add" => d.tool_denylist_add = text,
            "prompt_prefix" => d.prompt_prefix = text,
            "prompt_suffix" => d.prompt_suffix = text,
            "prompt_prefix_file" => d.prompt_prefix_file = text,
            "prompt_suffix_file" => d.prompt_suffix_file = text,
            "system_prompt_file" => d.system_prompt_file = text,
            "model_stylesheet" => wf.stylesheet = stylesheet(v, values),
            k if LAYOUT_KEYS.contains(&k) => {}
            k => {
                let name = k.strip_prefix("params.").unwrap_or(k);
                wf.vars.insert(name.to_string(), text);
            }
        }
    }
}

/// Lowers the parsed graph: nodes, edges, fan inference, graph attributes.
fn lower(g: Graph, diags: &mut Vec<Diagnostic>) -> Workflow {
    let mut values = Values { diags };
    let mut wf = Workflow {
        name: g.name.clone(),
        version: 1,
        span: g.header,
        ..Workflow::default()
    };
    lower_graph_attrs(&mut wf, &g.graph_attrs, &mut values);

    let mut starts = Vec::new();
    let mut exits = Vec::new();
    for (i, raw) in g.nodes.iter().enumerate() {
        let (kind, role, migrated) = classify(raw);
        match role {
            Role::Start => starts.push(i),
            Role::Exit => exits.push(i),
            Role::Plain => {}
        }
        wf.nodes.push(lower_node(raw, kind, migrated, &mut values));
    }
    for (role, found, fallback) in [
        ("start", &starts, &["start", "Start"][..]),
        ("exit", &exits, &["exit", "Exit", "end", "End"][..]),
    ] {
        let chosen = match found.as_slice() {
            [] => fallback.iter().find_map(|id| g.index.get(*id).copied()),
            [one, rest @ ..] => {
                for &dup in rest {
                    values.diags.push(
                        Diagnostic::parse(
                            g.nodes[dup].span,
                            format!(
                                "more than one {role} node: {:?} and {:?}",
                                g.nodes[*one].id, g.nodes[dup].id
                            ),
                        )
                        .with_help(format!(
                            "a pipeline has exactly one {} node",
                            if role == "start" {
                                "Mdiamond"
                            } else {
                                "Msquare"
                            }
                        )),
                    );
                }
                Some(*one)
            }
        };
        if let Some(i) = chosen {
            let id = g.nodes[i].id.clone();
            let span = Some(g.nodes[i].span);
            if role == "start" {
                wf.start = id;
                wf.start_span = span;
            } else {
                wf.exit = id;
                wf.exit_span = span;
            }
        }
    }

    let edges: Vec<Edge> = g
        .edges
        .iter()
        .map(|e| lower_edge(&g, e, &mut values))
        .collect();
    let mut keep = vec![true; edges.len()];
    let mut outgoing: Vec<Vec<usize>> = vec![Vec::new(); g.nodes.len()];
    let mut incoming: Vec<Vec<usize>> = vec![Vec::new(); g.nodes.len()];
    for (i, e) in g.edges.iter().enumerate() {
        outgoing[e.from].push(i);
        incoming[e.to].push(i);
    }
    let fan_edge = |e: &Edge| e.condition.is_none() && !e.restart;
    for (i, node) in wf.nodes.iter_mut().enumerate() {
        let (list, adjacent, outward) = match &mut node.config {
            NodeConfig::Parallel(p) => (&mut p.targets, &outgoing[i], true),
            NodeConfig::FanIn(f) => (&mut f.sources, &incoming[i], false),
            _ => continue,
        };
        let other = |e: &Edge| {
            if outward {
                e.to.clone()
            } else {
                e.from.clone()
            }
        };
        if list.is_empty() {
            let mut seen = HashSet::new();
            for &ei in adjacent {
                let e = &edges[ei];
                if keep[ei] && fan_edge(e) {
                    keep[ei] = false;
                    let name = other(e);
                    if seen.insert(name.clone()) {
                        list.push(name);
                    }
                }
            }
        } else {
            let named: HashSet<&String> = list.iter().collect();
            for &ei in adjacent {
                if keep[ei] && fan_edge(&edges[ei]) && named.contains(&other(&edges[ei])) {
                    keep[ei] = false;
                }
            }
        }
    }
    wf.edges = edges
        .into_iter()
        .zip(keep)
        .filter_map(|(e, k)| k.then_some(e))
        .collect();
    mark_loops(&mut wf);
    wf
}

/// Marks the guarded back edges of DOT cycles as loop (`restart`) edges.
///
/// DOT pipelines close retry loops with ordinary edges, while the IR requires every
/// cycle to contain a loop edge (DIP005). A depth-first search from the start node
/// (then from every node in declaration order), following explicit non-loop edges in
/// source order, finds the edges that close a cycle. Such a back edge becomes a loop
/// edge when the cycle it closes has a condition somewhere (the loop can be left), as
/// in the hand-converted `.dip` twins of the corpus. A cycle made only of
/// unconditional edges is left alone, so DIP005 still reports it.
fn mark_loops(wf: &mut Workflow) {
    const NEW: usize = usize::MAX;
    const DONE: usize = usize::MAX - 1;
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(wf.nodes.len());
    for (i, n) in wf.nodes.iter().enumerate() {
        index.entry(n.id.as_str()).or_insert(i);
    }
    let mut adj: Vec<Vec<(usize, usize)>> = vec![Vec::new(); wf.nodes.len()];
    for (ei, e) in wf.edges.iter().enumerate() {
        if e.restart {
            continue;
        }
        if let (Some(&a), Some(&b)) = (index.get(e.from.as_str()), index.get(e.to.as_str())) {
            adj[a].push((b, ei));
        }
    }
    let conditional = |ei: usize| wf.edges[ei].condition.is_some();
    let mut back = Vec::new();
    // For an active node: its depth on the DFS stack; otherwise NEW or DONE.
    let mut state = vec![NEW; wf.nodes.len()];
    let roots = index
        .get(wf.start.as_str())
        .copied()
        .into_iter()
        .chain(0..wf.nodes.len());
    for root in roots {
        if state[root] != NEW {
            continue;
        }
        state[root] = 0;
        // (node, next child, conditional tree edges from the root to this node)
        let mut stack: Vec<(usize, usize, usize)> = vec![(root, 0, 0)];
        while let Some(top) = stack.last_mut() {
            let (n, next, guards) = *top;
            match adj[n].get(next) {
                Some(&(m, ei)) => {
                    top.1 += 1;
                    let guards_to_m = guards + usize::from(conditional(ei));
                    match state[m] {
                        NEW => {
                            state[m] = stack.len();
                            stack.push((m, 0, guards_to_m));
                        }
                        DONE => {}
                        depth => {
                            // The cycle is m → … → n → m; its guards are the
                            // conditional tree edges below m plus this edge.
                            if guards_to_m > stack[depth].2 {
                                back.push(ei);
                            }
                        }
                    }
                }
                None => {
                    state[n] = DONE;
                    stack.pop();
                }
            }
        }
    }
    for ei in back {
        wf.edges[ei].restart = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Severity;
    use std::path::{Path, PathBuf};

    fn errors(diags: &[Diagnostic]) -> Vec<&Diagnostic> {
        diags.iter().filter(|d| d.is_error()).collect()
    }

    fn parse_ok(text: &str) -> Workflow {
        let (wf, diags) = parse_dot(text);
        assert!(errors(&diags).is_empty(), "unexpected errors: {diags:#?}");
        wf
    }

    fn first_error(text: &str) -> Diagnostic {
        let (_, diags) = parse_dot(text);
        diags
            .into_iter()
            .find(Diagnostic::is_error)
            .unwrap_or_else(|| panic!("expected an error for {text:?}"))
    }

    fn dot_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dot_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "dot") {
                out.push(path);
            }
        }
    }

    fn corpus() -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus"))
    }

    /// Corpus files the reference itself rejects, with the reason.
    const KNOWN_INVALID: &[(&str, &str)] = &[(
        "tracker/pipeline/testdata/cycle.dot",
        "fixture for cycle detection: a -> b -> a has no loop_restart edge (DIP005)",
    )];

    #[test]
    fn corpus_dot_files_parse_and_validate() {
        let root = corpus();
        let mut files = Vec::new();
        dot_files(&root, &mut files);
        files.sort();
        assert!(
            files.len() >= 21,
            "expected the .dot corpus, found {files:?}"
        );
        let mut failures = Vec::new();
        for path in &files {
            let rel = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(path).unwrap();
            let (wf, diags) = parse_dot(&text);
            assert_eq!(diags[0].message, DEPRECATION_MESSAGE, "{rel}");
            assert_eq!(diags[0].severity, Severity::Warning);
            let parse_errors: Vec<_> = errors(&diags);
            assert!(parse_errors.is_empty(), "{rel}: {parse_errors:#?}");
            assert!(!wf.nodes.is_empty(), "{rel}: no nodes");
            let problems = crate::validate::validate(&wf);
            let expected_invalid = KNOWN_INVALID.iter().any(|(f, _)| *f == rel);
            if expected_invalid {
                assert!(
                    !problems.is_empty(),
                    "{rel} is listed invalid but validates"
                );
            } else if !problems.is_empty() {
                failures.push(format!(
                    "{rel}: {:?}",
                    problems.iter().map(|d| &d.message).collect::<Vec<_>>()
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn cycle_fixture_is_rejected_for_its_cycle() {
        let text =
            std::fs::read_to_string(corpus().join("tracker/pipeline/testdata/cycle.dot")).unwrap();
        let wf = parse_ok(&text);
        let problems = crate::validate::validate(&wf);
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert_eq!(problems[0].code, crate::validate::CYCLE);
    }

    /// `.dot` files whose `.dip` sibling describes a different (newer) workflow.
    const DIVERGENT_SIBLINGS: &[(&str, &str)] = &[
        (
            "ask_and_execute",
            "the .dip is a worktree/cook-off redesign with other nodes and exit `Done`",
        ),
        (
            "consensus_task",
            "the .dip adds parallel/fan_in nodes the .dot does not have",
        ),
    ];

    type EdgeKey = (String, String, Option<String>, String);

    fn edge_keys(wf: &Workflow) -> HashSet<EdgeKey> {
        wf.edges
            .iter()
            .map(|e| {
                (
                    e.from.clone(),
                    e.to.clone(),
                    e.condition.as_ref().map(|c| c.raw.clone()),
                    e.label.clone(),
                )
            })
            .collect()
    }

    /// Compares a `.dot` with its hand-converted `.dip` twin: same name, goal,
    /// start, exit, node ids and kinds, labels, fan lists; every DOT edge (with its
    /// migrated condition) exists in the `.dip`, and every edge the migration marks as
    /// a loop is a loop there too. (The `.dip` twins add fallback edges, timeouts,
    /// models and retry counts, so those are not compared.)
    fn compare_with_dip(stem: &str) {
        let base = corpus().join("tracker/examples");
        let dot = std::fs::read_to_string(base.join(format!("{stem}.dot"))).unwrap();
        let dip = std::fs::read_to_string(base.join(format!("{stem}.dip"))).unwrap();
        let from_dot = parse_ok(&dot);
        let (from_dip, dip_diags) = crate::parse_dip(&dip);
        assert!(errors(&dip_diags).is_empty(), "{stem}.dip: {dip_diags:#?}");
        let kinds = |wf: &Workflow| -> BTreeMap<String, NodeKind> {
            wf.nodes.iter().map(|n| (n.id.clone(), n.kind())).collect()
        };
        assert_eq!(
            kinds(&from_dot),
            kinds(&from_dip),
            "{stem}: node ids and kinds"
        );
        assert_eq!(from_dot.name, from_dip.name, "{stem}: name");
        assert_eq!(from_dot.goal, from_dip.goal, "{stem}: goal");
        assert_eq!(from_dot.start, from_dip.start, "{stem}: start");
        assert_eq!(from_dot.exit, from_dip.exit, "{stem}: exit");
        for node in &from_dot.nodes {
            let twin = from_dip.node(&node.id).unwrap();
            match (&node.config, &twin.config) {
                (NodeConfig::Parallel(a), NodeConfig::Parallel(b)) => {
                    assert_eq!(a.targets, b.targets, "{stem}: targets of {}", node.id);
                }
                (NodeConfig::FanIn(a), NodeConfig::FanIn(b)) => {
                    assert_eq!(a.sources, b.sources, "{stem}: sources of {}", node.id);
                }
                _ => assert_eq!(node.label, twin.label, "{stem}: label of {}", node.id),
            }
        }
        let dip_edges = edge_keys(&from_dip);
        for key in edge_keys(&from_dot) {
            assert!(
                dip_edges.contains(&key),
                "{stem}: edge {key:?} missing from the .dip"
            );
        }
        let dip_loops: HashSet<(&str, &str)> = from_dip
            .edges
            .iter()
            .filter(|e| e.restart)
            .map(|e| (e.from.as_str(), e.to.as_str()))
            .collect();
        for e in from_dot.edges.iter().filter(|e| e.restart) {
            assert!(
                dip_loops.contains(&(e.from.as_str(), e.to.as_str())),
                "{stem}: {} -> {} is a loop edge only in the .dot",
                e.from,
                e.to
            );
        }
    }

    #[test]
    fn dot_files_match_their_dip_siblings() {
        let mut files = Vec::new();
        dot_files(&corpus().join("tracker"), &mut files);
        files.sort();
        let mut compared = Vec::new();
        for path in files {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            if !path.with_extension("dip").exists()
                || DIVERGENT_SIBLINGS.iter().any(|(s, _)| *s == stem)
                || !path.parent().unwrap().ends_with("examples")
            {
                continue;
            }
            compare_with_dip(&stem);
            compared.push(stem);
        }
        assert!(compared.len() >= 15, "compared only {compared:?}");
    }

    #[test]
    fn human_gate_showcase_matches_its_dip() {
        compare_with_dip("human_gate_showcase");
        let text =
            std::fs::read_to_string(corpus().join("tracker/examples/human_gate_showcase.dot"))
                .unwrap();
        let wf = parse_ok(&text);
        let gate = wf.node("DefaultGate").unwrap().human().unwrap();
        assert_eq!(gate.default, "[M] Medium");
        assert_eq!(
            wf.node("FreeformGate").unwrap().human().unwrap().mode,
            "freeform"
        );
        assert_eq!(wf.defaults.fidelity, "summary:medium");
        assert!(wf.vars.is_empty(), "{:?}", wf.vars);
    }

    #[test]
    fn sprint_exec_matches_its_dip() {
        compare_with_dip("sprint_exec");
        let text =
            std::fs::read_to_string(corpus().join("tracker/examples/sprint_exec.dot")).unwrap();
        let wf = parse_ok(&text);
        let back = wf
            .edges
            .iter()
            .find(|e| e.from == "ValidateBuild" && e.to == "ImplementSprint")
            .unwrap();
        assert!(back.restart, "guarded back edge becomes a loop edge");
        assert_eq!(back.condition.as_ref().unwrap().raw, "ctx.outcome = fail");
    }

    #[test]
    fn semport_matches_its_dip() {
        compare_with_dip("semport");
        let text = std::fs::read_to_string(corpus().join("tracker/examples/semport.dot")).unwrap();
        let wf = parse_ok(&text);
        let restart: Vec<_> = wf
            .edges
            .iter()
            .filter(|e| e.restart)
            .map(|e| (e.from.as_str(), e.to.as_str()))
            .collect();
        assert_eq!(
            restart,
            [("MarkPorted", "PickFile"), ("VerifyBuild", "LoadErrors")]
        );
        let cmd = &wf.node("InitLedger").unwrap().tool().unwrap().command;
        assert!(
            cmd.contains("printf 'filepath\\tiso8601\\tdisposition\\n'"),
            "{cmd}"
        );
        assert!(cmd.contains("\"references/openai-agents-python/src/agents/$f\""));
        // `timeout=600` on an agent has no IR field; it is passed through as a param.
        let port = wf.node("PortFile").unwrap().agent().unwrap();
        assert_eq!(port.params.get("timeout").map(String::as_str), Some("600"));
        assert!(port.auto_status);
    }

    #[test]
    fn consensus_task_parity_matches_its_dip() {
        compare_with_dip("consensus_task_parity");
    }

    #[test]
    fn migrates_conditions() {
        let cases = [
            ("outcome=success", "ctx.outcome = success"),
            ("outcome!=fail", "ctx.outcome != fail"),
            ("outcome == success", "ctx.outcome == success"),
            ("tool_stdout contains done", "ctx.tool_stdout contains done"),
            (
                "context.tool_stdout!=a && context.tool_stdout!=b",
                "ctx.tool_stdout != a and ctx.tool_stdout != b",
            ),
            ("outcome=a||outcome=b", "ctx.outcome = a or ctx.outcome = b"),
            ("!outcome=fail", "not ctx.outcome = fail"),
            ("not outcome=fail", "not ctx.outcome = fail"),
            ("ctx.x=1 and graph.goal=g", "ctx.x = 1 and graph.goal = g"),
            ("stack.child.status=done", "stack.child.status = done"),
            ("params.p=1 or inputs.i=2", "params.p = 1 or inputs.i = 2"),
            ("x = \"a b\"", "ctx.x = \"a b\""),
            ("x not in a,b", "ctx.x not in a,b"),
            (
                "(a=1 || b=2) && c=3",
                "( ctx.a = 1 or ctx.b = 2 ) and ctx.c = 3",
            ),
            (
                "context.internal.loop_restart_count=0",
                "ctx.internal.loop_restart_count = 0",
            ),
            ("x=not", "ctx.x = not"),
        ];
        for (dot, dip) in cases {
            assert_eq!(migrate_condition(dot), dip, "migrating {dot:?}");
            assert!(
                crate::condition::parse(dip).is_ok(),
                "{dip:?} should parse as a dippin condition"
            );
        }
    }

    #[test]
    fn edge_conditions_are_migrated_and_parsed() {
        let wf = parse_ok(
            "digraph G { s [shape=Mdiamond]; e [shape=Msquare]; s -> e [condition=\"outcome=success && context.k!=v\", weight=3, loop_restart=true, label=go] }",
        );
        let edge = &wf.edges[0];
        let cond = edge.condition.as_ref().unwrap();
        assert_eq!(cond.raw, "ctx.outcome = success and ctx.k != v");
        assert!(cond.parsed.is_ok());
        assert_eq!(edge.weight, 3);
        assert!(edge.restart);
        assert_eq!(edge.label, "go");
    }

    #[test]
    fn repeated_node_statements_merge_attributes() {
        let wf = parse_ok(
            "digraph G {\n  A [shape=box, label=\"One\"]\n  A [prompt=\"hi\"]\n  A [label=Two]\n}",
        );
        assert_eq!(wf.nodes.len(), 1);
        let node = &wf.nodes[0];
        assert_eq!(node.label, "Two");
        assert_eq!(node.agent().unwrap().prompt, "hi");
        assert_eq!(node.span, Span::new(14, 15));
    }

    #[test]
    fn node_and_edge_defaults_apply_to_later_statements_in_scope() {
        let wf = parse_ok(
            "digraph G {\n  A\n  node [shape=parallelogram, timeout=\"30s\"]\n  edge [weight=2]\n  B [tool_command=\"ls\"]\n  subgraph cluster_x { node [shape=hexagon]; label=\"Loop A\"; C; C -> D }\n  E\n  A -> B\n}",
        );
        let kind = |id: &str| wf.node(id).unwrap().kind();
        assert_eq!(kind("A"), NodeKind::Agent);
        assert_eq!(kind("B"), NodeKind::Tool);
        assert_eq!(
            wf.node("B").unwrap().tool().unwrap().timeout,
            GoDuration::parse("30s").unwrap()
        );
        assert_eq!(kind("C"), NodeKind::Human);
        assert_eq!(kind("D"), NodeKind::Human);
        assert_eq!(kind("E"), NodeKind::Tool, "subgraph defaults do not leak");
        assert_eq!(wf.node("C").unwrap().classes, ["loop-a"]);
        assert!(wf.node("E").unwrap().classes.is_empty());
        assert!(wf.edges.iter().all(|e| e.weight == 2));
    }

    #[test]
    fn unescapes_quoted_strings() {
        let wf = parse_ok(
            "digraph G { A [prompt=\"a\\nb\\tc\\\\d\\\"e\\lf\\rg\\Nh\", label=\"x\" + \"y\"] }",
        );
        let node = &wf.nodes[0];
        assert_eq!(node.agent().unwrap().prompt, "a\nb\tc\\d\"e\nf\ng\\Nh");
        assert_eq!(node.label, "xy");
        let wf = parse_ok("digraph G { A [prompt=\"one \\\ntwo\"] }");
        assert_eq!(wf.nodes[0].agent().unwrap().prompt, "one two");
    }

    #[test]
    fn edge_chains_expand_pairwise_with_shared_attributes() {
        let text = "digraph G { s [shape=Mdiamond]; e [shape=Msquare]; s -> a -> b -> e [label=next]; {x y} -> z }";
        let wf = parse_ok(text);
        let pairs: Vec<_> = wf
            .edges
            .iter()
            .map(|e| (e.from.as_str(), e.to.as_str(), e.label.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("s", "a", "next"),
                ("a", "b", "next"),
                ("b", "e", "next"),
                ("x", "z", ""),
                ("y", "z", ""),
            ]
        );
        let ids: Vec<_> = wf.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["s", "e", "a", "b", "x", "y", "z"]);
        let a_at = text.find("a -> b").unwrap();
        assert_eq!(wf.edges[1].from_span, Span::new(a_at, a_at + 1));
    }

    #[test]
    fn shapes_map_to_kinds_with_migrations() {
        let wf = parse_ok(concat!(
            "strict digraph \"My Flow\" {\n",
            "  s [shape=Mdiamond]; x [shape=Msquare, prompt=\"bye\"]\n",
            "  h [shape=hexagon, default_choice=\"[Y] Yes\", timeout=60]\n",
            "  t [shape=parallelogram, tool_command=\"make\", outputs=\"a, b\"]\n",
            "  c [shape=diamond]; dt [shape=diamond, tool_command=ls]; da [shape=diamond, prompt=p]\n",
            "  sg [shape=tab, subgraph_ref=\"child.dip\", subgraph_params=\"a=1,b=2\"]\n",
            "  m [shape=house, subgraph_ref=kid, poll_interval=\"5s\", max_cycles=3, stop_condition=\"stack.child.status=done\", steer_context=\"k=a%2Cb,z=1%3D2\"]\n",
            "  u [shape=ellipse, llm_model=m1, llm_provider=p1, goal_gate=true, max_retries=2, fallback_retry_target=s, thread_id=t1, color=red]\n",
            "  typed [shape=box, type=\"wait.human\"]\n",
            "}",
        ));
        assert_eq!(wf.name, "My Flow");
        assert_eq!((wf.start.as_str(), wf.exit.as_str()), ("s", "x"));
        let kind = |id: &str| wf.node(id).unwrap().kind();
        assert_eq!(kind("s"), NodeKind::Agent);
        assert_eq!(wf.node("x").unwrap().agent().unwrap().prompt, "bye");
        assert_eq!(kind("h"), NodeKind::Human);
        let h = wf.node("h").unwrap().human().unwrap();
        assert_eq!(h.default, "[Y] Yes");
        assert_eq!(h.timeout, GoDuration::parse("1m").unwrap());
        assert_eq!(wf.node("t").unwrap().tool().unwrap().outputs, ["a", "b"]);
        assert_eq!(kind("c"), NodeKind::Conditional);
        assert_eq!(kind("dt"), NodeKind::Tool);
        assert_eq!(kind("da"), NodeKind::Agent);
        assert!(wf.node("da").unwrap().agent().unwrap().auto_status);
        match &wf.node("sg").unwrap().config {
            NodeConfig::Subgraph(s) => {
                assert_eq!(s.reference, "child.dip");
                assert_eq!(s.params.get("b").map(String::as_str), Some("2"));
            }
            other => panic!("{other:?}"),
        }
        match &wf.node("m").unwrap().config {
            NodeConfig::ManagerLoop(m) => {
                assert_eq!(m.subgraph_ref, "kid");
                assert_eq!(m.max_cycles, 3);
                assert_eq!(m.poll_interval, GoDuration::parse("5s").unwrap());
                let stop = m.stop_condition.as_ref().unwrap();
                assert_eq!(stop.raw, "stack.child.status = done");
                assert_eq!(m.steer_context.get("k").map(String::as_str), Some("a,b"));
                assert_eq!(m.steer_context.get("z").map(String::as_str), Some("1=2"));
            }
            other => panic!("{other:?}"),
        }
        let u = wf.node("u").unwrap();
        let a = u.agent().unwrap();
        assert_eq!((a.model.as_str(), a.provider.as_str()), ("m1", "p1"));
        assert!(a.goal_gate);
        assert_eq!(u.retry.max_retries, 2);
        assert_eq!(u.retry.fallback_target, "s");
        assert_eq!(a.params.get("thread_id").map(String::as_str), Some("t1"));
        assert!(!a.params.contains_key("color"));
        assert_eq!(kind("typed"), NodeKind::Human);
    }

    #[test]
    fn fan_edges_move_into_the_fan_configuration() {
        let wf = parse_ok(concat!(
            "digraph G {\n",
            "  s [shape=Mdiamond]; e [shape=Msquare]\n",
            "  P [shape=component]; J [shape=tripleoctagon]\n",
            "  s -> P; P -> a; P -> b; a -> J; b -> J; J -> e\n",
            "}",
        ));
        match (&wf.node("P").unwrap().config, &wf.node("J").unwrap().config) {
            (NodeConfig::Parallel(p), NodeConfig::FanIn(f)) => {
                assert_eq!(p.targets, ["a", "b"]);
                assert_eq!(f.sources, ["a", "b"]);
            }
            other => panic!("{other:?}"),
        }
        let pairs: Vec<_> = wf
            .edges
            .iter()
            .map(|e| (e.from.as_str(), e.to.as_str()))
            .collect();
        assert_eq!(pairs, [("s", "P"), ("J", "e")]);
        assert!(crate::validate::validate(&wf).is_empty());

        let wf = parse_ok(
            "digraph G { P [shape=component, targets=\"a,b\"]; J [shape=tripleoctagon, sources=\"a,b\"]; P -> a; P -> c; a -> J }",
        );
        let pairs: Vec<_> = wf
            .edges
            .iter()
            .map(|e| (e.from.as_str(), e.to.as_str()))
            .collect();
        assert_eq!(pairs, [("P", "c")]);
    }

    #[test]
    fn graph_attributes_map_to_defaults_and_vars() {
        let wf = parse_ok(concat!(
            "digraph G {\n",
            "  graph [goal=\"Ship\", rankdir=LR, default_max_retry=3, default_fidelity=full, max_restarts=7]\n",
            "  max_total_tokens=1000; max_cost_cents=250; max_wall_time=\"1h\"\n",
            "  target_name=\"glimpser\"; \"params.p\"=1; fallback_target=s\n",
            "  model_stylesheet=\"* { llm_model: m; } .fast { reasoning_effort: low; }\"\n",
            "  s [shape=Mdiamond]\n",
            "}",
        ));
        assert_eq!(wf.goal, "Ship");
        assert_eq!(wf.defaults.max_retries, 3);
        assert_eq!(wf.defaults.fidelity, "full");
        assert_eq!(wf.defaults.max_restarts, 7);
        assert_eq!(wf.defaults.max_total_tokens, 1000);
        assert_eq!(wf.defaults.max_cost_cents, 250);
        assert_eq!(wf.defaults.max_wall_time, GoDuration::parse("1h").unwrap());
        assert_eq!(wf.defaults.on_failure, "s");
        assert_eq!(
            wf.vars.get("target_name").map(String::as_str),
            Some("glimpser")
        );
        assert_eq!(wf.vars.get("p").map(String::as_str), Some("1"));
        assert!(!wf.vars.contains_key("rankdir"));
        assert_eq!(wf.stylesheet.len(), 2);
        assert_eq!(wf.stylesheet[1].selector, Selector::Class("fast".into()));
        assert_eq!(
            wf.stylesheet[0].properties,
            [("llm_model".to_string(), "m".to_string())]
        );
    }

    #[test]
    fn comments_are_skipped() {
        let wf = parse_ok(
            "# preprocessor line\n// line comment\ndigraph G { /* block\n comment */ A [label=\"// not /* a comment\"]\n  # hash line\n}",
        );
        assert_eq!(wf.nodes.len(), 1);
        let wf = parse_ok("\u{feff}digraph G { A }");
        assert_eq!(wf.name, "G");
    }

    #[test]
    fn always_warns_that_dot_is_deprecated() {
        let (_, diags) = parse_dot("digraph G { A }");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, Code(0));
        assert_eq!(diags[0].severity, Severity::Warning);
        assert_eq!(diags[0].message, DEPRECATION_MESSAGE);
        assert_eq!(diags[0].span, Some(Span::new(0, 9)));
        let (_, diags) = parse_dot("");
        assert_eq!(diags[0].message, DEPRECATION_MESSAGE);
    }

    #[test]
    fn syntax_errors_have_precise_spans() {
        let text = "digraph G {\n  A [label=\"open\n}";
        let err = first_error(text);
        assert_eq!(err.code, Code::PARSE);
        assert_eq!(err.span, Some(Span::new(23, 24)));
        assert!(
            err.message.contains("unterminated string"),
            "{}",
            err.message
        );

        let err = first_error("digraph G { A /* never closed");
        assert_eq!(err.span, Some(Span::new(14, 16)));
        assert!(err.message.contains("block comment"));

        let text = "digraph G {\n  A -> B\n";
        let err = first_error(text);
        assert_eq!(err.span, Some(Span::at(text.len())));
        assert!(err.message.contains("expected `}`"), "{}", err.message);
        assert_eq!(err.help.as_deref(), Some("the `{` at 1:11 is never closed"));

        let err = first_error("digraph G { A -> ; }");
        assert_eq!(err.span, Some(Span::new(17, 18)));
        assert!(err.message.contains("found `;`"), "{}", err.message);

        let err = first_error("digraph G { A [label=] }");
        assert_eq!(err.span, Some(Span::new(21, 22)));

        let err = first_error("digraph G { A [label=x }");
        assert!(err.message.contains("found `}`"), "{}", err.message);

        let err = first_error("graph { } digraph H { }");
        assert_eq!(err.span, Some(Span::new(10, 17)));

        let err = first_error("workflow X\n  start: A\n");
        assert_eq!(err.span, Some(Span::new(0, 8)));
        assert!(err.message.contains("expected `digraph`"));

        let err = first_error("digraph G { A @ B }");
        assert_eq!(err.span, Some(Span::new(14, 15)));

        let err = first_error("");
        assert_eq!(err.span, Some(Span::at(0)));
    }

    #[test]
    fn recovers_after_a_bad_statement() {
        let (wf, diags) = parse_dot("digraph G { A -> ; B [label=ok]; }");
        assert_eq!(errors(&diags).len(), 1);
        assert_eq!(wf.node("B").unwrap().label, "ok");
    }

    #[test]
    fn garbage_input_never_panics() {
        let mut inputs: Vec<String> = vec![
            String::new(),
            "\0\u{1}\u{7f}ÿ\u{fffd}".into(),
            "digraph".into(),
            "digraph {".into(),
            "digraph G { A [".into(),
            "digraph G { A [x=".into(),
            "digraph G { A -> }".into(),
            "digraph G { \"a\" + }".into(),
            "digraph G { <a<b> }".into(),
            "digraph G { A:p:q:r -> B }".into(),
            "digraph G { -> -> }".into(),
            "digraph G { subgraph }".into(),
            "}}}}]]]]".into(),
            "digraph G { A [label=\"\\".into(),
            "digraph G { -.5 -> .5 -> - }".into(),
        ];
        inputs.push(format!("digraph G {{ {} }}", "{".repeat(10_000)));
        inputs.push(format!("digraph G {{ {} }}", "@".repeat(10_000)));
        let bytes: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 256) as u8).collect();
        inputs.push(String::from_utf8_lossy(&bytes).into_owned());
        for input in &inputs {
            let (_, diags) = parse_dot(input);
            assert_eq!(diags[0].message, DEPRECATION_MESSAGE);
            assert!(diags.len() <= MAX_ERRORS + 2, "{} diagnostics", diags.len());
            for d in &diags {
                if let Some(span) = d.span {
                    assert!(span.start <= span.end && span.end <= input.len(), "{d:?}");
                    assert!(input.is_char_boundary(span.start) && input.is_char_boundary(span.end));
                }
            }
        }
        let err = first_error(&format!("digraph G {{ {} }}", "{".repeat(100)));
        assert!(err.message.contains("nested too deeply"));
        let side: Vec<String> = (0..200).map(|i| format!("n{i}")).collect();
        let text = format!(
            "digraph G {{ {{{}}} -> {{{}}} -> {{{}}} }}",
            side.join(" "),
            side.join(" "),
            side.join(" ")
        );
        let err = first_error(&text);
        assert!(err.message.contains("too many edges"), "{}", err.message);
    }

    #[test]
    fn large_inputs_parse_in_linear_time() {
        let mut text = String::from("digraph Big {\n  s [shape=Mdiamond]\n  e [shape=Msquare]\n");
        let n = 20_000;
        for i in 0..n {
            text.push_str(&format!(
                "  n{i} [label=\"Node {i}\", prompt=\"do {i}\"]\n  node [reasoning_effort=high]\n"
            ));
        }
        text.push_str("  s -> n0\n");
        for i in 1..n {
            text.push_str(&format!(
                "  n{} -> n{i} [condition=\"outcome=success\"]\n",
                i - 1
            ));
        }
        text.push_str(&format!("  n{} -> e\n}}\n", n - 1));
        let started = std::time::Instant::now();
        let wf = parse_ok(&text);
        assert_eq!(wf.nodes.len(), n + 2);
        assert_eq!(wf.edges.len(), n + 1);
        assert!(started.elapsed().as_secs() < 10);
    }
}
