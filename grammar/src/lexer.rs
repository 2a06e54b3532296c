//! The indentation-aware lexer that feeds the lalrpop statement grammar.
//!
//! Dippin is line-oriented, and most of its rules are decided per line before any
//! grammar runs, which is why this lexer is hand-written:
//!
//! * blank lines and lines whose first non-blank character is `#` vanish;
//! * a trailing `#` comment is cut when it is outside quotes and preceded by a blank;
//! * indentation becomes `Indent` / `Outdent` tokens (a stack of widths);
//! * a line that is exactly `name:` followed by a deeper line opens a **raw block**:
//!   every deeper line is taken verbatim (de-indented) as one [`Tok::Block`], with no
//!   indentation tokens of its own, so shell scripts and markdown survive untouched;
//! * a line `key: value` becomes one [`Tok::Field`] whose value is read from the
//!   physical line (after the first `:`), not from tokens, so `summary:high` or
//!   `^[a-z]+$` need no quotes;
//! * any other line is split into identifiers, quoted strings, arrows, operators and
//!   punctuation; unknown bytes are skipped, as the reference does.
//!
//! Lexing never fails: problems become [`Diagnostic`]s and a best-effort token stream.

use crate::diagnostic::Diagnostic;
use crate::source::Span;

/// A token with its byte span, in the shape lalrpop expects.
pub type Spanned = (usize, Tok, usize);

/// One lexical token.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// End of a logical line.
    Newline,
    /// The next lines are indented deeper.
    Indent,
    /// An indented block ended.
    Outdent,
    /// An identifier such as `agent`, `claude-sonnet-4-6`, `30s` or `ctx.outcome`.
    Ident(String),
    /// A quoted literal.
    Str(Quoted),
    /// `:`
    Colon,
    /// `,`
    Comma,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[` (only ever an error: bracket edge attributes are not Dippin)
    LBracket,
    /// `->`
    Arrow,
    /// `<-`
    BackArrow,
    /// A comparison operator.
    Op(Op),
    /// The word `when`.
    When,
    /// The word `on`.
    On,
    /// The word `loop`.
    Loop,
    /// The word `else`.
    Else,
    /// `label:`, `choice:`, `weight:`, `restart:` or `override:` inside a line.
    AttrKey(AttrKey),
    /// A whole `key: value` line.
    Field(Field),
    /// A `key:` line plus the raw block indented under it.
    Block(RawBlock),
}

/// A quoted literal: its decoded value and its exact source text.
#[derive(Clone, Debug, PartialEq)]
pub struct Quoted {
    /// The value with quotes removed and escapes applied.
    pub value: String,
    /// The literal as written, quotes included.
    pub raw: String,
    /// Whether it used double quotes.
    pub double: bool,
}

impl Quoted {
    /// The literal as it appears inside a re-joined condition: double-quoted,
    /// with the escapes of a double-quoted original preserved.
    pub fn condition_text(&self) -> String {
        if self.double {
            self.raw.clone()
        } else {
            let mut out = String::with_capacity(self.value.len() + 2);
            out.push('"');
            for c in self.value.chars() {
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('"');
            out
        }
    }
}

/// Comparison operators as lexed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `==`
    EqEq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `!`
    Bang,
}

impl Op {
    /// The operator's source text.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::EqEq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Bang => "!",
        }
    }
}

/// The edge attributes that take a `: value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttrKey {
    /// `label:`
    Label,
    /// `choice:`
    Choice,
    /// `weight:`
    Weight,
    /// `restart:`
    Restart,
    /// `override:`
    Override,
}

impl AttrKey {
    fn from_word(word: &str) -> Option<AttrKey> {
        Some(match word {
            "label" => AttrKey::Label,
            "choice" => AttrKey::Choice,
            "weight" => AttrKey::Weight,
            "restart" => AttrKey::Restart,
            "override" => AttrKey::Override,
            _ => return None,
        })
    }

    /// The attribute's name.
    pub fn as_str(self) -> &'static str {
        match self {
            AttrKey::Label => "label",
            AttrKey::Choice => "choice",
            AttrKey::Weight => "weight",
            AttrKey::Restart => "restart",
            AttrKey::Override => "override",
        }
    }
}

/// A single-line `key: value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The key.
    pub key: String,
    /// Where the key is.
    pub key_span: Span,
    /// The value: unquoted, trailing comment removed.
    pub value: String,
    /// Where the value is (empty at the end of the line when there is none).
    pub value_span: Span,
    /// Whether the value was written in quotes (so `"true"` is text, not a flag).
    pub quoted: bool,
}

/// A `key:` line with the verbatim text indented beneath it.
#[derive(Clone, Debug, PartialEq)]
pub struct RawBlock {
    /// The key.
    pub key: String,
    /// Where the key is.
    pub key_span: Span,
    /// The block with its common indentation removed and no final newline.
    pub text: String,
    /// Byte offset of the start of each line of `text` in the source.
    pub line_offsets: Vec<usize>,
}

/// The result of lexing: tokens and any lexical diagnostics.
#[derive(Debug, Default)]
pub struct Lexed {
    /// The token stream, ending with the `Outdent`s that close open blocks.
    pub tokens: Vec<Spanned>,
    /// Problems found while lexing.
    pub diagnostics: Vec<Diagnostic>,
    /// `#` comment lines before the first statement, kept by the formatter.
    pub leading_comments: Vec<String>,
    /// Every other comment outside raw blocks, in source order.
    pub comments: Vec<LexedComment>,
}

/// A comment the formatter should keep, before it is attached to a line.
#[derive(Clone, Debug, PartialEq)]
pub struct LexedComment {
    /// For a whole-line comment, where it starts; for a trailing comment, where
    /// the content of its line starts (so it can be matched to that line).
    pub offset: usize,
    /// The comment text, `#` included.
    pub text: String,
    /// Whether it follows code on the same line.
    pub trailing: bool,
}

/// Lexes a whole file.
pub fn lex(src: &str) -> Lexed {
    Lexer::new(src).run()
}

/// One physical line: its offset, its text without `\r` or trailing blanks,
/// and its text with only `\r` removed (raw blocks keep trailing blanks).
struct Line<'a> {
    start: usize,
    trimmed: &'a str,
    raw: &'a str,
}

impl Line<'_> {
    fn is_blank(&self) -> bool {
        self.trimmed.trim_start_matches([' ', '\t']).is_empty()
    }

    fn indent(&self) -> usize {
        self.trimmed.len() - self.trimmed.trim_start_matches([' ', '\t']).len()
    }

    fn content(&self) -> &str {
        &self.trimmed[self.indent()..]
    }
}

struct Lexer<'a> {
    lines: Vec<Line<'a>>,
    out: Lexed,
    stack: Vec<usize>,
    end: usize,
}

impl<'a> Lexer<'a> {
    fn new(src: &'a str) -> Lexer<'a> {
        let mut lines = Vec::new();
        let mut start = 0;
        for piece in src.split('\n') {
            let raw = piece.strip_suffix('\r').unwrap_or(piece);
            let trimmed = raw.trim_end_matches([' ', '\t', '\r']);
            lines.push(Line {
                start,
                trimmed,
                raw,
            });
            start += piece.len() + 1;
        }
        Lexer {
            lines,
            out: Lexed::default(),
            stack: vec![0],
            end: src.len(),
        }
    }

    fn run(mut self) -> Lexed {
        let mut i = 0;
        let mut seen_statement = false;
        while i < self.lines.len() {
            let line = &self.lines[i];
            let content = line.content();
            if content.is_empty() {
                i += 1;
                continue;
            }
            if content.starts_with('#') {
                if seen_statement {
                    let offset = line.start + line.indent();
                    self.out.comments.push(LexedComment {
                        offset,
                        text: content.to_string(),
                        trailing: false,
                    });
                } else {
                    self.out.leading_comments.push(content.to_string());
                }
                i += 1;
                continue;
            }
            seen_statement = true;
            i = self.line(i);
        }
        while self.stack.len() > 1 {
            self.stack.pop();
            self.push(self.end, Tok::Outdent, self.end);
        }
        self.out
    }

    fn push(&mut self, start: usize, tok: Tok, end: usize) {
        self.out.tokens.push((start, tok, end));
    }

    fn error(&mut self, span: Span, message: impl Into<String>) {
        self.out.diagnostics.push(Diagnostic::parse(span, message));
    }

    /// Lexes the structural line `i` and returns the index of the next line to look at.
    fn line(&mut self, i: usize) -> usize {
        let (start, indent, trimmed) = {
            let line = &self.lines[i];
            (line.start, line.indent(), line.trimmed)
        };
        if let Some(tab) = trimmed[..indent].find('\t') {
            self.error(
                Span::new(start + tab, start + tab + 1),
                "tab character in indentation; indent with spaces (two per level)",
            );
        }
        self.indentation(start, indent);

        let code = strip_comment(trimmed);
        let content = &code[indent..];
        let content_start = start + indent;
        if code.len() < trimmed.len() {
            self.out.comments.push(LexedComment {
                offset: content_start,
                text: trimmed[code.len()..].trim_start().to_string(),
                trailing: true,
            });
        }
        let line_end = start + code.len();

        if let Some(key) = key_line(content) {
            let key_span = Span::new(content_start, content_start + key.len());
            if let Some(next) = self.raw_block_end(i, indent) {
                self.raw_block(i, key, key_span, next);
                return next;
            }
            let field = Field {
                key: key.to_string(),
                key_span,
                value: String::new(),
                value_span: Span::at(line_end),
                quoted: false,
            };
            self.push(content_start, Tok::Field(field), line_end);
        } else if let Some(key_len) = field_key_len(content) {
            let field = self.field(trimmed, start, content_start, key_len);
            let end = field.value_span.end.max(field.key_span.end);
            self.push(content_start, Tok::Field(field), end);
        } else {
            self.tokens(content, content_start);
        }
        self.push(line_end, Tok::Newline, line_end);
        i + 1
    }

    fn indentation(&mut self, offset: usize, indent: usize) {
        let top = *self.stack.last().unwrap_or(&0);
        if indent > top {
            self.stack.push(indent);
            self.push(offset, Tok::Indent, offset + indent);
            return;
        }
        while indent < *self.stack.last().unwrap_or(&0) {
            self.stack.pop();
            self.push(offset + indent, Tok::Outdent, offset + indent);
        }
        if indent != *self.stack.last().unwrap_or(&0) {
            self.error(
                Span::new(offset, offset + indent),
                format!(
                    "inconsistent indentation: this line is indented {indent} columns, which matches no enclosing block"
                ),
            );
        }
    }

    /// If a raw block follows the key line `i`, returns the index of the first line after it.
    fn raw_block_end(&self, i: usize, indent: usize) -> Option<usize> {
        let next = (i + 1..self.lines.len()).find(|&j| !self.lines[j].is_blank())?;
        if self.lines[next].indent() <= indent {
            return None;
        }
        let end = (next..self.lines.len())
            .find(|&j| !self.lines[j].is_blank() && self.lines[j].indent() <= indent)
            .unwrap_or(self.lines.len());
        Some(end)
    }

    fn raw_block(&mut self, i: usize, key: &str, key_span: Span, end: usize) {
        let mut last = end;
        while last > i + 1 && self.lines[last - 1].is_blank() {
            last -= 1;
        }
        let block = &self.lines[i + 1..last];
        let baseline = block
            .iter()
            .find(|line| !line.is_blank())
            .map_or(0, |line| line.indent());
        let mut text = String::new();
        let mut line_offsets = Vec::with_capacity(block.len());
        for (n, line) in block.iter().enumerate() {
            if n > 0 {
                text.push('\n');
            }
            let strip = line
                .raw
                .bytes()
                .take(baseline)
                .take_while(|b| *b == b' ' || *b == b'\t')
                .count();
            line_offsets.push(line.start + strip);
            text.push_str(&line.raw[strip..]);
        }
        let block_end = block
            .last()
            .map_or(key_span.end, |line| line.start + line.raw.len());
        let tok = Tok::Block(RawBlock {
            key: key.to_string(),
            key_span,
            text,
            line_offsets,
        });
        self.push(key_span.start, tok, block_end);
        self.push(block_end, Tok::Newline, block_end);
    }

    /// Builds a `key: value` field from the physical line (see module docs).
    fn field(
        &mut self,
        trimmed: &str,
        start: usize,
        content_start: usize,
        key_len: usize,
    ) -> Field {
        let key = &trimmed[content_start - start..content_start - start + key_len];
        let colon = trimmed.find(':').unwrap_or(trimmed.len());
        let after = &trimmed[(colon + 1).min(trimmed.len())..];
        let lead = after.len() - after.trim_start().len();
        let rest = after.trim();
        let rest_start = start + colon + 1 + lead;
        let (value, len, quoted) = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => match closing_quote(rest, q) {
                Some(close) => (unquote(&rest[..=close]), close + 1, true),
                None => {
                    self.error(
                        Span::new(rest_start, rest_start + 1),
                        format!("unterminated string: missing closing {q}"),
                    );
                    (rest[1..].to_string(), rest.len(), true)
                }
            },
            Some('#') => (rest.to_string(), rest.len(), false),
            _ => {
                let kept = strip_comment(rest).trim_end();
                let comment = rest[kept.len()..].trim_start();
                if comment[1.min(comment.len())..]
                    .chars()
                    .next()
                    .is_some_and(char::is_alphanumeric)
                {
                    // `goal: Fix issue #42` reads as `Fix issue`; the reference drops
                    // `#42` silently, which surprises people.
                    let at = rest_start + rest.len() - comment.len();
                    self.out.diagnostics.push(
                        Diagnostic::new(
                            crate::diagnostic::Code::PARSE,
                            crate::diagnostic::Severity::Warning,
                            format!("`{comment}` is read as a comment, so {key} is {kept:?}"),
                        )
                        .with_span(Span::new(at, at + comment.len()))
                        .with_fix(format!(
                            "quote the value if `#` belongs to it: {key}: \"{rest}\""
                        )),
                    );
                }
                (kept.to_string(), kept.len(), false)
            }
        };
        Field {
            key: key.to_string(),
            key_span: Span::new(content_start, content_start + key_len),
            value,
            value_span: Span::new(rest_start, rest_start + len),
            quoted,
        }
    }

    /// Splits an ordinary line into tokens.
    fn tokens(&mut self, content: &str, base: usize) {
        let bytes = content.as_bytes();
        let mut pos = 0;
        while pos < bytes.len() {
            let start = base + pos;
            let two = |a: u8, b: u8| bytes[pos] == a && bytes.get(pos + 1) == Some(&b);
            let (tok, len) = match bytes[pos] {
                b' ' | b'\t' => {
                    pos += 1;
                    continue;
                }
                b':' => (Tok::Colon, 1),
                b',' => (Tok::Comma, 1),
                b'(' => (Tok::LParen, 1),
                b')' => (Tok::RParen, 1),
                b'[' => (Tok::LBracket, 1),
                _ if two(b'-', b'>') => (Tok::Arrow, 2),
                _ if two(b'<', b'-') => (Tok::BackArrow, 2),
                _ if two(b'=', b'=') => (Tok::Op(Op::EqEq), 2),
                _ if two(b'!', b'=') => (Tok::Op(Op::Ne), 2),
                _ if two(b'<', b'=') => (Tok::Op(Op::Le), 2),
                _ if two(b'>', b'=') => (Tok::Op(Op::Ge), 2),
                b'=' => (Tok::Op(Op::Eq), 1),
                b'<' => (Tok::Op(Op::Lt), 1),
                b'>' => (Tok::Op(Op::Gt), 1),
                b'!' => (Tok::Op(Op::Bang), 1),
                q @ (b'"' | b'\'') => {
                    let rest = &content[pos..];
                    match closing_quote(rest, q as char) {
                        Some(close) => {
                            let raw = &rest[..=close];
                            let value = if q == b'"' {
                                decode_double(raw)
                            } else {
                                raw[1..raw.len() - 1].replace("''", "'")
                            };
                            let quoted = Quoted {
                                value,
                                raw: raw.to_string(),
                                double: q == b'"',
                            };
                            (Tok::Str(quoted), close + 1)
                        }
                        None => {
                            self.error(
                                Span::new(start, start + 1),
                                format!("unterminated string: missing closing {}", q as char),
                            );
                            return;
                        }
                    }
                }
                b if b.is_ascii_alphanumeric() => {
                    let len = bytes[pos..]
                        .iter()
                        .take_while(|b| is_ident_byte(**b))
                        .count();
                    let mut word = &content[pos..pos + len];
                    if word.ends_with('-') && bytes.get(pos + len) == Some(&b'>') {
                        // `A->B` lexes as `A-` `>` in the reference and then fails to
                        // parse; say what is wrong and read it as `A -> B`.
                        self.error(
                            Span::new(start, start + len + 1),
                            "missing space before `->`: write `A -> B`",
                        );
                        word = &word[..word.len() - 1];
                    }
                    let after = pos + word.len();
                    let (tok, len) = self.word(word, &content[after..]);
                    (tok, word.len() + len)
                }
                _ => {
                    // Unknown bytes are skipped, as in the reference; step over a
                    // whole character so offsets stay on char boundaries.
                    let width = content[pos..].chars().next().map_or(1, char::len_utf8);
                    let starts_word = pos == 0 || matches!(bytes[pos - 1], b' ' | b'\t');
                    if starts_word && bytes.get(pos + width).is_some_and(|b| is_ident_byte(*b)) {
                        // `endswith .rs` silently becomes `endswith rs` in the
                        // reference; say so.
                        let word_len = content[pos..]
                            .find([' ', '\t'])
                            .unwrap_or(content.len() - pos);
                        let word = &content[pos..pos + word_len];
                        self.out.diagnostics.push(
                            Diagnostic::new(
                                crate::diagnostic::Code::PARSE,
                                crate::diagnostic::Severity::Warning,
                                format!(
                                    "`{}` is not part of an unquoted value and is ignored, so `{word}` reads as `{}`",
                                    &content[pos..pos + width],
                                    &word[width..]
                                ),
                            )
                            .with_span(Span::new(start, start + width))
                            .with_fix(format!("quote it: \"{word}\"")),
                        );
                    }
                    pos += width;
                    continue;
                }
            };
            self.push(start, tok, start + len);
            pos += len;
        }
    }

    /// Classifies a word; returns the token and how many bytes after the word it consumed.
    fn word(&self, word: &str, after: &str) -> (Tok, usize) {
        let tok = match word {
            "when" => Tok::When,
            "on" => Tok::On,
            "loop" => Tok::Loop,
            "else" => Tok::Else,
            _ => {
                if let Some(key) = AttrKey::from_word(word) {
                    let gap = after.len() - after.trim_start_matches([' ', '\t']).len();
                    if after[gap..].starts_with(':') {
                        return (Tok::AttrKey(key), gap + 1);
                    }
                }
                Tok::Ident(word.to_string())
            }
        };
        (tok, 0)
    }
}

/// Identifier bytes after the first: `[A-Za-z0-9_\-./]`.
fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/')
}

/// If `content` is exactly `name:` with `name` of letters, digits and `_`, returns `name`.
fn key_line(content: &str) -> Option<&str> {
    let name = content.strip_suffix(':')?;
    let valid = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    valid.then_some(name)
}

/// If `content` starts with an identifier followed by `:`, returns the identifier's length.
fn field_key_len(content: &str) -> Option<usize> {
    let bytes = content.as_bytes();
    if !bytes.first()?.is_ascii_alphanumeric() {
        return None;
    }
    let len = bytes.iter().take_while(|b| is_ident_byte(**b)).count();
    let rest = content[len..].trim_start_matches([' ', '\t']);
    rest.starts_with(':').then_some(len)
}

/// Cuts a trailing `#` comment: the first `#` outside quotes that starts the text
/// or follows a blank. Quotes: `"` honours backslashes; `'` opens only at a token
/// boundary so apostrophes in prose do not; `''` inside `'…'` is a quote.
pub(crate) fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'\''
                if i == 0
                    || matches!(
                        bytes[i - 1],
                        b' ' | b'\t' | b':' | b'=' | b'(' | b',' | b'>'
                    ) =>
            {
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == b'\'' {
                        if bytes.get(i + 1) == Some(&b'\'') {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                    i += 1;
                }
            }
            b'#' if i == 0 || matches!(bytes[i - 1], b' ' | b'\t') => {
                return line[..i].trim_end_matches([' ', '\t']);
            }
            _ => {}
        }
        i += 1;
    }
    line
}

/// The byte index of the quote closing the literal that starts `text`.
fn closing_quote(text: &str, quote: char) -> Option<usize> {
    let bytes = text.as_bytes();
    let q = quote as u8;
    let mut i = 1;
    while i < bytes.len() {
        let b = bytes[i];
        if q == b'"' && b == b'\\' {
            i += 2;
            continue;
        }
        if b == q {
            if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Decodes a double-quoted token: a backslash makes the next character literal.
fn decode_double(raw: &str) -> String {
    let inner = &raw[1..raw.len() - 1];
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Unquotes a single-line field value: `"…"` drops the quotes and decodes only
/// `\"` and `\\`; `'…'` drops the quotes and turns `''` into `'`; anything else is kept.
pub fn unquote(value: &str) -> String {
    let wrapped = |q: char| value.len() >= 2 && value.starts_with(q) && value.ends_with(q);
    if wrapped('"') {
        let inner = &value[1..value.len() - 1];
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, chars.peek()) {
                ('\\', Some(&next @ ('"' | '\\'))) => {
                    out.push(next);
                    chars.next();
                }
                _ => out.push(c),
            }
        }
        out
    } else if wrapped('\'') {
        value[1..value.len() - 1].replace("''", "'")
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok> {
        lex(src).tokens.into_iter().map(|(_, t, _)| t).collect()
    }

    fn field(tok: &Tok) -> &Field {
        match tok {
            Tok::Field(f) => f,
            other => panic!("expected field, got {other:?}"),
        }
    }

    #[test]
    fn indentation_becomes_indent_and_outdent() {
        let toks = kinds("workflow X\n  agent A\n    prompt: hi\n  edges\n");
        let shape: Vec<String> = toks
            .iter()
            .map(|t| match t {
                Tok::Ident(s) => s.clone(),
                Tok::Field(f) => format!("{}={}", f.key, f.value),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            shape,
            [
                "workflow",
                "X",
                "Newline",
                "Indent",
                "agent",
                "A",
                "Newline",
                "Indent",
                "prompt=hi",
                "Newline",
                "Outdent",
                "edges",
                "Newline",
                "Outdent"
            ]
        );
    }

    #[test]
    fn field_values_are_read_from_the_line() {
        let toks = kinds("fidelity: summary:high\npattern: ^[a-z]+$ # note\nlabel: it's fine\n");
        assert_eq!(field(&toks[0]).value, "summary:high");
        assert_eq!(field(&toks[2]).value, "^[a-z]+$");
        assert_eq!(field(&toks[4]).value, "it's fine");
    }

    #[test]
    fn quoted_field_values_are_unquoted_and_keep_hashes() {
        let toks =
            kinds("goal: \"Fix issue #42\" # trailing\nlabel: 'it''s'\nx: \"a\\\"b\\\\c\"\n");
        assert_eq!(field(&toks[0]).value, "Fix issue #42");
        assert_eq!(field(&toks[2]).value, "it's");
        assert_eq!(field(&toks[4]).value, "a\"b\\c");
    }

    #[test]
    fn unquoted_hash_after_blank_is_a_comment() {
        let lexed = lex("goal: Fix issue #42\nlabel: Build # the step\n");
        let toks: Vec<Tok> = lexed.tokens.into_iter().map(|t| t.1).collect();
        assert_eq!(field(&toks[0]).value, "Fix issue");
        assert_eq!(field(&toks[2]).value, "Build");
        // Only the comment that looks like data is worth a warning.
        assert_eq!(lexed.diagnostics.len(), 1);
        assert!(!lexed.diagnostics[0].is_error());
        assert_eq!(lexed.diagnostics[0].span, Some(Span::new(16, 19)));
    }

    #[test]
    fn raw_blocks_keep_text_verbatim() {
        let src = "  command:\n    #!/bin/sh\n    echo \"${ctx.x}\" # kept\n\n      nested\n\n  timeout: 5s\n";
        let toks = kinds(src);
        let block = toks
            .iter()
            .find_map(|t| match t {
                Tok::Block(b) => Some(b),
                _ => None,
            })
            .expect("a raw block");
        assert_eq!(block.key, "command");
        assert_eq!(
            block.text,
            "#!/bin/sh\necho \"${ctx.x}\" # kept\n\n  nested"
        );
        assert_eq!(block.line_offsets.len(), 4);
    }

    #[test]
    fn key_line_without_deeper_text_is_an_empty_field() {
        let toks = kinds("goal:\nstart: A\n");
        assert_eq!(field(&toks[0]).value, "");
        assert_eq!(field(&toks[2]).value, "A");
    }

    #[test]
    fn edge_attribute_keys_absorb_their_colon() {
        let toks = kinds("A -> B  when ctx.x = y  label: Go  loop\n");
        assert!(toks.contains(&Tok::AttrKey(AttrKey::Label)));
        assert!(toks.contains(&Tok::When));
        assert!(toks.contains(&Tok::Loop));
        assert!(!toks.contains(&Tok::Colon));
    }

    #[test]
    fn tabs_and_bad_dedent_are_reported() {
        let lexed = lex("workflow X\n\tstart: A\n");
        assert!(lexed.diagnostics[0].message.contains("tab"));
        let lexed = lex("a\n    b\n  c\n");
        assert!(lexed.diagnostics[0]
            .message
            .contains("inconsistent indentation"));
    }

    #[test]
    fn missing_space_before_arrow_is_reported_and_recovered() {
        let lexed = lex("A->B\n");
        assert!(lexed.diagnostics[0].message.contains("missing space"));
        let toks: Vec<Tok> = lexed.tokens.into_iter().map(|t| t.1).collect();
        assert_eq!(
            toks[..3],
            [Tok::Ident("A".into()), Tok::Arrow, Tok::Ident("B".into())]
        );
    }

    #[test]
    fn unterminated_string_points_at_the_opening_quote() {
        let lexed = lex("A -> B when ctx.x = \"oops\n");
        let d = &lexed.diagnostics[0];
        assert!(d.message.contains("unterminated"));
        assert_eq!(d.span, Some(Span::new(20, 21)));
    }

    #[test]
    fn leading_punctuation_in_a_value_is_reported() {
        let lexed = lex("A -> B  when ctx.file endswith .rs\n");
        assert_eq!(lexed.diagnostics.len(), 1, "{:?}", lexed.diagnostics);
        assert!(lexed.diagnostics[0].message.contains("`.rs` reads as `rs`"));
        assert!(!lexed.diagnostics[0].is_error());
        // Skipped bytes that do not start a word are not worth a warning.
        assert!(lex("A -> B  label: x\n").diagnostics.is_empty());
    }

    #[test]
    fn comment_stripping_respects_quotes_and_apostrophes() {
        assert_eq!(strip_comment("a \"b # c\" # d"), "a \"b # c\"");
        assert_eq!(strip_comment("it's # x"), "it's");
        assert_eq!(strip_comment("foo#bar"), "foo#bar");
    }
}
