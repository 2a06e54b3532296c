//! The statement parser: runs the lexer, feeds lalrpop, and turns its errors into
//! located diagnostics. lalrpop's types stop here.

use lalrpop_util::{lalrpop_mod, ErrorRecovery, ParseError};

use crate::ast::Stmt;
use crate::diagnostic::Diagnostic;
use crate::lexer::{self, Tok};
use crate::source::Span;

lalrpop_mod!(
    #[allow(
        clippy::all,
        clippy::pedantic,
        clippy::unwrap_used,
        missing_docs,
        unused_parens
    )]
    statement,
    "/statement.rs"
);

/// The statement tree of a file plus every lexical and syntax diagnostic.
#[derive(Debug)]
pub struct ParsedStatements {
    /// Top-level statements.
    pub stmts: Vec<Stmt>,
    /// Lexical errors (tabs, indentation, unterminated strings), in source order.
    pub lexical: Vec<Diagnostic>,
    /// Grammar errors, in source order.
    pub diagnostics: Vec<Diagnostic>,
    /// Comment lines before the first statement.
    pub leading_comments: Vec<String>,
    /// Every later comment outside raw blocks.
    pub comments: Vec<lexer::LexedComment>,
}

/// Lexes and parses `src` into a statement tree. Never fails: bad lines are
/// reported and skipped.
pub fn parse_statements(src: &str) -> ParsedStatements {
    let lexed = lexer::lex(src);
    let mut diagnostics = Vec::new();
    let mut recovered: Vec<ErrorRecovery<usize, Tok, ()>> = Vec::new();
    let parser = statement::FileParser::new();
    let result = parser.parse(&mut recovered, lexed.tokens);
    for err in recovered {
        diagnostics.push(describe(err.error, src.len()));
    }
    let stmts = match result {
        Ok(stmts) => stmts,
        Err(err) => {
            diagnostics.push(describe(err, src.len()));
            Vec::new()
        }
    };
    diagnostics.sort_by_key(|d| d.span.map(|s| s.start));
    ParsedStatements {
        stmts,
        lexical: lexed.diagnostics,
        diagnostics,
        leading_comments: lexed.leading_comments,
        comments: lexed.comments,
    }
}

fn token_text(tok: &Tok) -> String {
    match tok {
        Tok::Newline => "end of line".into(),
        Tok::Indent => "an indented line".into(),
        Tok::Outdent => "the end of an indented block".into(),
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Str(q) => format!("string {}", q.raw),
        Tok::Colon => "`:`".into(),
        Tok::Comma => "`,`".into(),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::LBracket => "`[`".into(),
        Tok::Arrow => "`->`".into(),
        Tok::BackArrow => "`<-`".into(),
        Tok::Op(op) => format!("`{}`", op.as_str()),
        Tok::When => "`when`".into(),
        Tok::On => "`on`".into(),
        Tok::Loop => "`loop`".into(),
        Tok::Else => "`else`".into(),
        Tok::AttrKey(k) => format!("`{}:`", k.as_str()),
        Tok::Field(f) => format!("`{}:`", f.key),
        Tok::Block(b) => format!("`{}:` block", b.key),
    }
}

fn describe(err: ParseError<usize, Tok, ()>, end: usize) -> Diagnostic {
    match err {
        ParseError::UnrecognizedToken {
            token: (l, tok, r),
            expected,
        } => {
            let wanted = expectation(&expected);
            let found = token_text(&tok);
            let message = match tok {
                Tok::Newline if wanted.is_empty() => "unexpected end of line".to_string(),
                Tok::Newline => format!("unexpected end of line: expected {wanted}"),
                _ if wanted.is_empty() => format!("unexpected {found}"),
                _ => format!("unexpected {found}: expected {wanted}"),
            };
            Diagnostic::parse(Span::new(l, r), message)
        }
        ParseError::UnrecognizedEof { location, expected } => {
            let wanted = expectation(&expected);
            Diagnostic::parse(
                Span::at(location.min(end)),
                format!("unexpected end of file: expected {wanted}"),
            )
        }
        ParseError::ExtraToken { token: (l, tok, r) } => {
            Diagnostic::parse(Span::new(l, r), format!("unexpected {}", token_text(&tok)))
        }
        ParseError::InvalidToken { location } => {
            Diagnostic::parse(Span::at(location), "invalid token")
        }
        ParseError::User { .. } => Diagnostic::parse(Span::at(0), "invalid input"),
    }
}

/// Summarises lalrpop's expected-token list in words.
fn expectation(expected: &[String]) -> String {
    let has = |t: &str| expected.iter().any(|e| e == t);
    let mut parts = Vec::new();
    if has("\"ident\"") {
        parts.push("an identifier".to_string());
    }
    for (tok, text) in [
        ("\"->\"", "`->`"),
        ("\"<-\"", "`<-`"),
        ("\",\"", "`,`"),
        ("\":\"", "`:`"),
        ("\"string\"", "a quoted string"),
    ] {
        if has(tok) {
            parts.push(text.to_string());
        }
    }
    if has("\"when\"") && has("\"attr\"") {
        parts.push("an edge attribute (when, on, label:, choice:, weight:, loop)".to_string());
    }
    parts.join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{EdgeAttr, Head};

    #[test]
    fn parses_a_tree_of_lines() {
        let parsed = parse_statements(
            "workflow X\n  start: A\n  edges\n    A -> B  when ctx.outcome = success  label: go\n",
        );
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        assert_eq!(parsed.stmts.len(), 1);
        let edges = &parsed.stmts[0].body[1];
        let Head::Edge { attrs, .. } = &edges.body[0].head else {
            panic!("expected an edge, got {:?}", edges.body[0].head);
        };
        assert_eq!(attrs.len(), 2);
        let EdgeAttr::When { pieces, .. } = &attrs[0] else {
            panic!("expected when");
        };
        let raw: Vec<&str> = pieces.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(raw.join(" "), "ctx.outcome = success");
    }

    #[test]
    fn one_bad_line_does_not_hide_the_next() {
        let parsed = parse_statements("workflow X\n  edges\n    A -> -> B\n    C ->\n    D -> E\n");
        assert_eq!(parsed.diagnostics.len(), 2, "{:?}", parsed.diagnostics);
        assert!(parsed.lexical.is_empty());
        let edges = &parsed.stmts[0].body[0];
        assert!(matches!(edges.body[2].head, Head::Edge { .. }));
    }
}
