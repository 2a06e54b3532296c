//! `dippin`: the Dippin (`.dip`) pipeline language.
//!
//! Reading a pipeline goes through these modules, in order:
//!
//! * [`lexer`] — line-oriented, indentation-aware tokens (raw blocks, fields);
//! * [`parser`] — the lalrpop statement grammar, producing an [`ast`] tree of lines;
//! * `lower` — the tree becomes the [`ir::Workflow`], with located `DIP000` errors;
//! * [`resolve`] — `prompt_file`, `command_file`, … are read relative to the file;
//! * [`validate`] — structural errors `DIP001`–`DIP010`;
//! * [`lint`] — warnings `DIP101`–`DIP162`;
//! * [`format`] — the canonical formatter behind `tracker fmt`;
//! * [`dot`] — the legacy Graphviz reader, lowering `.dot` files to the same IR.
//!
//! Supporting modules: [`condition`] (the edge condition language), [`duration`]
//! (Go duration syntax), [`catalog`] (known models and prices), [`diagnostic`] and
//! [`source`].
//!
//! The usual entry point is [`load_file`] followed by [`analyze`]:
//!
//! ```
//! let src = "workflow Hello\n  start: A\n  exit: B\n  agent A\n    prompt: hi\n  agent B\n    prompt: bye\n  edges\n    A -> B\n";
//! let doc = dippin::load_str("hello.dip", src, None);
//! assert!(doc.diagnostics.is_empty());
//! let errors = dippin::validate::validate(&doc.workflow);
//! assert!(errors.is_empty());
//! assert_eq!(doc.workflow.nodes.len(), 2);
//! ```

pub mod ast;
/// The model catalog: its own crate, `tracker-catalog`, which the runtime reads too.
pub use tracker_catalog as catalog;
pub mod condition;
pub mod diagnostic;
pub mod dot;
pub mod duration;
pub mod format;
mod graph;
pub mod ir;
pub mod lexer;
pub mod lint;
mod lower;
pub mod parser;
pub mod resolve;
pub mod source;
pub mod validate;

use std::path::{Path, PathBuf};

pub use diagnostic::{Code, Diagnostic, Severity};
pub use ir::Workflow;
pub use source::{Position, SourceFile, Span};

/// The input formats a pipeline can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Dippin.
    Dip,
    /// Legacy Graphviz DOT (deprecated).
    Dot,
}

impl Format {
    /// The format implied by a path's extension (`.dot` or `.gv` → DOT, else Dippin).
    pub fn from_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some("dot" | "gv") => Format::Dot,
            _ => Format::Dip,
        }
    }
}

/// A parsed file: its text, its workflow and what was found while reading it.
#[derive(Clone, Debug)]
pub struct Document {
    /// The text the workflow came from.
    pub source: SourceFile,
    /// The workflow (best effort when there are parse errors).
    pub workflow: Workflow,
    /// Parse and load diagnostics (`DIP000`), plus the DOT deprecation warning.
    pub diagnostics: Vec<Diagnostic>,
    /// The format the text was read as.
    pub format: Format,
}

impl Document {
    /// Whether reading the file produced any error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Why a file could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be opened or read.
    #[error("cannot read {}", path.display())]
    Io {
        /// The path given.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// Parses Dippin text into a workflow without touching the file system.
pub fn parse_dip(text: &str) -> (Workflow, Vec<Diagnostic>) {
    let parsed = parser::parse_statements(text);
    let lowered = lower::lower(parsed.stmts, text);
    let mut workflow = lowered.workflow;
    workflow.leading_comments = parsed.leading_comments;
    // Syntax errors and lexical warnings after the workflow block are in text the
    // reference never reads; lowering has already warned that it is ignored.
    let end = lowered.workflow_end.unwrap_or(usize::MAX);
    let mut diagnostics: Vec<Diagnostic> = parsed
        .lexical
        .into_iter()
        .filter(|d| d.is_error() || d.span.is_none_or(|s| s.start < end))
        .collect();
    diagnostics.extend(
        parsed
            .diagnostics
            .into_iter()
            .filter(|d| d.span.is_none_or(|s| s.start < end)),
    );
    diagnostics.extend(lowered.diagnostics);
    workflow.comments = attach_comments(parsed.comments, lowered.anchors);
    diagnostics.sort_by_key(|d| d.span.map(|s| s.start));
    (workflow, diagnostics)
}

/// Attaches each comment to a line: a trailing comment to the line it ends, a
/// whole-line comment to the next line that can hold one (or the end).
fn attach_comments(
    comments: Vec<lexer::LexedComment>,
    mut anchors: Vec<(usize, ir::CommentAnchor)>,
) -> Vec<ir::Comment> {
    anchors.sort_by_key(|(offset, _)| *offset);
    comments
        .into_iter()
        .map(|c| {
            let anchor = if c.trailing {
                // The anchor on this line: the last one starting at or before it.
                let i = anchors.partition_point(|(offset, _)| *offset <= c.offset);
                i.checked_sub(1).map(|i| anchors[i].1.clone())
            } else {
                let i = anchors.partition_point(|(offset, _)| *offset <= c.offset);
                anchors.get(i).map(|a| a.1.clone())
            };
            ir::Comment {
                anchor: anchor.unwrap_or(ir::CommentAnchor::End),
                text: c.text,
                trailing: c.trailing,
            }
        })
        .collect()
}

/// Parses `text` as if read from `path` (format from the extension) and, when
/// `base_dir` is given, resolves file directives relative to it.
pub fn load_str(path: impl Into<PathBuf>, text: &str, base_dir: Option<&Path>) -> Document {
    // A byte-order mark some editors put first is not part of the text (and
    // editors do not show it, so columns are counted without it).
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let path = path.into();
    let format = Format::from_path(&path);
    let (mut workflow, mut diagnostics) = match format {
        Format::Dip => parse_dip(text),
        Format::Dot => dot::parse_dot(text),
    };
    if let Some(dir) = base_dir {
        if !diagnostics.iter().any(Diagnostic::is_error) {
            diagnostics.extend(resolve::resolve_file_directives(&mut workflow, dir));
        }
    }
    Document {
        source: SourceFile::new(path, text),
        workflow,
        diagnostics,
        format,
    }
}

/// Reads and parses a pipeline file, resolving its file directives relative to
/// its directory. Text that is not UTF-8 is reported as a located `DIP000` error.
pub fn load_file(path: &Path) -> Result<Document, LoadError> {
    read_file(path, true)
}

/// Reads and parses a pipeline file as written, without loading its file
/// directives: what the formatter needs, since it must print `prompt_file: x.md`
/// and not the file's text.
pub fn parse_file(path: &Path) -> Result<Document, LoadError> {
    read_file(path, false)
}

/// The largest child workflow (a subgraph's `ref`) that is read.
pub const MAX_CHILD_WORKFLOW_BYTES: u64 = 16 * 1024 * 1024;

/// Like [`load_file`] for a file the workflow names (a child workflow): only a
/// regular file of at most `limit` bytes is read, and reading it cannot block
/// (see [`resolve::read_regular_file`]).
pub fn load_file_limited(path: &Path, limit: u64) -> Result<Document, LoadError> {
    let bytes = resolve::read_regular_file(path, limit).map_err(|err| LoadError::Io {
        path: path.to_path_buf(),
        source: err.into(),
    })?;
    Ok(from_bytes(path, bytes, true))
}

/// The largest pipeline file read: far beyond any real pipeline, small enough
/// that a path that leads to `/dev/zero` (or a huge file) fails at once
/// instead of filling memory. A FIFO (`tracker validate <(gen)`) is still read.
pub const MAX_WORKFLOW_BYTES: u64 = 64 * 1024 * 1024;

fn read_file(path: &Path, resolve: bool) -> Result<Document, LoadError> {
    let io = |source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(file, MAX_WORKFLOW_BYTES + 1),
        &mut bytes,
    )
    .map_err(io)?;
    if bytes.len() as u64 > MAX_WORKFLOW_BYTES {
        return Err(io(std::io::Error::other(format!(
            "larger than {} MiB; not a pipeline file",
            MAX_WORKFLOW_BYTES / (1024 * 1024)
        ))));
    }
    Ok(from_bytes(path, bytes, resolve))
}

/// Parses a file's bytes, resolving its file directives when `resolve` is set.
fn from_bytes(path: &Path, bytes: Vec<u8>, resolve: bool) -> Document {
    let base_dir = path.parent().map(|p| {
        if p.as_os_str().is_empty() {
            Path::new(".")
        } else {
            p
        }
    });
    match String::from_utf8(bytes) {
        Ok(text) => load_str(path, &text, base_dir.filter(|_| resolve)),
        Err(err) => {
            let valid = err.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
            let source = SourceFile::new(path, text);
            // The lossy text has the same bytes up to the first invalid one.
            let diag = Diagnostic::parse(
                Span::new(valid, valid + 1),
                "file is not valid UTF-8 text (is it a binary file?)",
            );
            Document {
                workflow: Workflow::default(),
                diagnostics: vec![diag],
                format: Format::from_path(path),
                source,
            }
        }
    }
}

/// Validates and lints a document that read without errors: structural errors
/// (`DIP001`–`DIP010`) then lint findings (`DIP1xx`).
pub fn analyze(doc: &Document, options: &lint::LintOptions) -> Vec<Diagnostic> {
    let graph = graph::Graph::new(&doc.workflow);
    let mut out = validate::validate_graph(&graph);
    out.extend(lint::lint_graph(&graph, options));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_order_mark_first_is_not_part_of_the_text() {
        let text = "\u{feff}workflow W\n  start: A\n  exit: A\n  agent A\n    prompt: hi\n";
        let doc = load_str("w.dip", text, None);
        assert!(doc.diagnostics.is_empty(), "{:?}", doc.diagnostics);
        assert_eq!(doc.workflow.name, "W");
        assert!(doc.source.text().starts_with("workflow W"));
    }
}
