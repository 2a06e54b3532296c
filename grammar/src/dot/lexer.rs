//! The DOT lexer: splits the input into tokens, skipping comments and unescaping strings.

use super::MAX_ERRORS;
use crate::diagnostic::Diagnostic;
use crate::source::Span;

/// The kind of a DOT token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
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

/// A token: its kind, where it was written and, for IDs, its (unescaped) text.
#[derive(Clone, Debug)]
pub(super) struct Token {
    pub(super) kind: Kind,
    pub(super) span: Span,
    pub(super) text: String,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_char(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit()
}

/// Splits `src` into tokens. Returns the tokens (ending with `Eof`), lexical errors,
/// and whether lexing stopped early (unterminated string or comment, too many errors).
pub(super) fn lex(src: &str) -> (Vec<Token>, Vec<Diagnostic>, bool) {
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
