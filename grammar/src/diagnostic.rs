//! The one diagnostic type every phase reports through, its codes and its renderer.
//!
//! Parse errors carry code `DIP000`; structural validation errors are `DIP001`–`DIP010`;
//! lints are `DIP101`–`DIP162` (the reference catalogue). A diagnostic holds a span, never
//! pre-rendered text, so the same value prints like rustc on a terminal and serialises for
//! `--json`.

use std::borrow::Cow;
use std::fmt;

use crate::source::{Position, SourceFile, Span};

/// How serious a diagnostic is. Only errors make a file invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The file cannot be run.
    Error,
    /// Probably a mistake; the file still runs.
    Warning,
    /// Worth knowing; not counted.
    Info,
    /// A suggestion; not counted.
    Hint,
}

impl Severity {
    /// The lowercase name used in text and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
            Severity::Hint => "hint",
        }
    }
}

/// A diagnostic code such as `DIP005`; `DIP000` marks a parse error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Code(pub u16);

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DIP{:03}", self.0)
    }
}

impl Code {
    /// Any failure to read the file's structure (lexing or grammar).
    pub const PARSE: Code = Code(0);
}

/// One finding about a source file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The catalogue code.
    pub code: Code,
    /// How serious it is.
    pub severity: Severity,
    /// One lowercase line with no trailing period.
    pub message: String,
    /// Where it is; `None` for whole-file findings.
    pub span: Option<Span>,
    /// Extra explanation shown as `= help:`.
    pub help: Option<String>,
    /// A concrete fix shown as `= fix:` and listed in `suggested_actions`.
    pub fix: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with no span, help or fix.
    pub fn new(code: Code, severity: Severity, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity,
            message: message.into(),
            span: None,
            help: None,
            fix: None,
        }
    }

    /// An error with `code`.
    pub fn error(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(code, Severity::Error, message)
    }

    /// A warning with `code`.
    pub fn warning(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(code, Severity::Warning, message)
    }

    /// A parse error (`DIP000`) at `span`.
    pub fn parse(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(Code::PARSE, message).with_span(span)
    }

    /// Sets where the diagnostic points.
    pub fn with_span(mut self, span: Span) -> Diagnostic {
        self.span = Some(span);
        self
    }

    /// Sets the span only when one is known.
    pub fn with_opt_span(mut self, span: Option<Span>) -> Diagnostic {
        self.span = span;
        self
    }

    /// Adds a `= help:` line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Adds a `= fix:` line.
    pub fn with_fix(mut self, fix: impl Into<String>) -> Diagnostic {
        self.fix = Some(fix.into());
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The position of the span's start in `file`, if the diagnostic has a span.
    pub fn position(&self, file: &SourceFile) -> Option<Position> {
        self.span.map(|span| file.position(span.start))
    }

    /// Renders the diagnostic like rustc: header, location, source line, caret, help, fix.
    pub fn render(&self, file: &SourceFile) -> String {
        let mut out = format!(
            "{}[{}]: {}\n",
            self.severity.as_str(),
            self.code,
            printable_text(&self.message)
        );
        match self.span {
            Some(span) => {
                let pos = file.position(span.start);
                out.push_str(&format!(
                    "  --> {}:{}:{}\n",
                    file.path().display(),
                    pos.line,
                    pos.column
                ));
                if let Some(line) = file.line_text(pos.line) {
                    let gutter = pos.line.to_string();
                    let pad = " ".repeat(gutter.len());
                    let end = file.position(span.end.max(span.start));
                    let width = if end.line == pos.line && end.column > pos.column {
                        end.column - pos.column
                    } else {
                        1
                    };
                    let (shown, caret_col) = snippet(line, pos.column - 1);
                    out.push_str(&format!("{pad} |\n{gutter} | {shown}\n"));
                    out.push_str(&format!(
                        "{pad} | {}{}\n",
                        " ".repeat(caret_col),
                        "^".repeat(width.min(SNIPPET_WIDTH))
                    ));
                }
            }
            None => out.push_str(&format!("  --> {}\n", file.path().display())),
        }
        if let Some(help) = &self.help {
            out.push_str(&format!("  = help: {}\n", printable_text(help)));
        }
        if let Some(fix) = &self.fix {
            out.push_str(&format!("  = fix: {}\n", printable_text(fix)));
        }
        out
    }
}

/// The most characters of a source line a rendered diagnostic shows.
const SNIPPET_WIDTH: usize = 160;

/// How `c` is shown on a terminal: control characters (the ESC that starts a
/// terminal escape sequence, C1 controls such as CSI, a carriage return that
/// would overwrite the line, a binary file's bytes) and the bidirectional
/// overrides that reorder a line become U+FFFD; anything else is itself.
///
/// Text from a workflow, a model or a command passes through this (or
/// [`printable_text`], [`printable_line`]) before it reaches a terminal, so
/// it cannot rewrite what is already on the screen or pass for something else.
pub fn printable(c: char) -> char {
    match c {
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => '\u{FFFD}',
        c if c.is_control() => '\u{FFFD}',
        c => c,
    }
}

/// `text` with every character [`printable`], except that newlines and tabs
/// are kept (a `\r\n` line ending is a newline). Borrowed when nothing
/// changes.
pub fn printable_text(text: &str) -> Cow<'_, str> {
    shown(text, |c| c)
}

/// `text` on one line: line breaks and tabs become spaces and every other
/// character is [`printable`].
pub fn printable_line(text: &str) -> Cow<'_, str> {
    shown(text, |_| ' ')
}

/// `text` with newlines and tabs shown as `space` says, `\r\n` as a newline,
/// and every other character [`printable`].
fn shown(text: &str, space: fn(char) -> char) -> Cow<'_, str> {
    let show = |c: char| match c {
        '\n' | '\t' => space(c),
        c => printable(c),
    };
    if text.chars().all(|c| show(c) == c) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && chars.peek() == Some(&'\n') {
            continue;
        }
        out.push(show(c));
    }
    Cow::Owned(out)
}

/// The part of `line` to print under a diagnostic and the caret's column in it.
///
/// Tabs become spaces and other characters are shown [`printable`], one
/// character each so the caret stays aligned, and a very long line is cut to a
/// window around `column` (0-based, in chars).
fn snippet(line: &str, column: usize) -> (String, usize) {
    let count = line.chars().count();
    let start = if count <= SNIPPET_WIDTH {
        0
    } else {
        column.saturating_sub(SNIPPET_WIDTH / 2)
    };
    let mut shown: String = if start > 0 {
        "…".into()
    } else {
        String::new()
    };
    shown.extend(
        line.chars()
            .skip(start)
            .take(SNIPPET_WIDTH)
            .map(|c| match c {
                '\t' => ' ',
                c => printable(c),
            }),
    );
    if start + SNIPPET_WIDTH < count {
        shown.push('…');
    }
    (shown, column - start + usize::from(start > 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_location_source_line_and_caret() {
        let file = SourceFile::new("flow.dip", "workflow X\n  start: Nope\n");
        let diag = Diagnostic::error(Code(1), "start node \"Nope\" does not exist")
            .with_span(Span::new(20, 24))
            .with_fix("declare a node named Nope");
        let text = diag.render(&file);
        assert_eq!(
            text,
            "error[DIP001]: start node \"Nope\" does not exist\n  --> flow.dip:2:10\n  |\n2 |   start: Nope\n  |          ^^^^\n  = fix: declare a node named Nope\n"
        );
    }

    #[test]
    fn snippets_hide_control_characters_and_cut_long_lines() {
        let (shown, caret) = snippet("a\x1b[31mb", 0);
        assert_eq!(shown, "a\u{FFFD}[31mb");
        assert_eq!(caret, 0);

        let (shown, _) = snippet("a\u{202E}b\u{85}c", 0);
        assert_eq!(shown, "a\u{FFFD}b\u{FFFD}c");

        let long = "x".repeat(1000) + "HERE" + &"y".repeat(1000);
        let (shown, caret) = snippet(&long, 1000);
        assert!(shown.starts_with('…') && shown.ends_with('…'));
        assert_eq!(shown.chars().count(), SNIPPET_WIDTH + 2);
        assert_eq!(
            shown.chars().skip(caret).take(4).collect::<String>(),
            "HERE"
        );
    }

    #[test]
    fn printable_text_keeps_lines_and_hides_escapes() {
        assert!(matches!(printable_text("plain\n\ttext"), Cow::Borrowed(_)));
        assert_eq!(
            printable_text("a\x1b[2K\rb\r\nc\x1b]0;t\x07\u{9b}d"),
            "a\u{FFFD}[2K\u{FFFD}b\nc\u{FFFD}]0;t\u{FFFD}\u{FFFD}d"
        );
        assert_eq!(printable_line("a\nb\tc\r\nd\x1b"), "a b c d\u{FFFD}");
        assert!(matches!(printable_line("ünïcode ✓"), Cow::Borrowed(_)));
    }

    #[test]
    fn rendered_messages_hide_escapes() {
        let file = SourceFile::new("flow.dip", "workflow X\n");
        let diag = Diagnostic::error(Code(1), "bad \x1b[2Klabel").with_help("h\x1b]8;;x\x07");
        let text = diag.render(&file);
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
    }
}
