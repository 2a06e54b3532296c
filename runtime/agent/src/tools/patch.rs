//! `apply_patch`: the v4a patch format, parsed and applied all-or-nothing.
//!
//! ```text
//! *** Begin Patch
//! *** Add File: docs/new.md
//! +first line
//! +second line
//! *** Delete File: old.txt
//! *** Update File: src/lib.rs
//! *** Move to: src/core.rs
//! @@ fn main() {
//!      let a = 1;
//! -    let b = 2;
//! +    let b = 3;
//!      let c = a + b;
//! *** End of File
//! *** End Patch
//! ```
//!
//! A hunk (`@@`, optionally followed by a hint: a line it comes after) is
//! located by its context and removed lines: exactly first, then ignoring
//! trailing whitespace, then ignoring surrounding whitespace, then also
//! treating Unicode dashes, quotes and spaces as their ASCII forms. Hunks of one
//! file apply in order, each searched for after the previous one. A hunk
//! marked `*** End of File` is matched at the end of the file first.
//!
//! Every operation is checked before anything is written; a patch that fails
//! anywhere leaves every file as it was. New contents are written to temporary
//! files next to their targets and renamed into place.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};

use super::{
    blocking, io_error, looks_binary, Args, Effect, Tool, ToolError, ToolOutput, Workspace,
};
use tracker_llm::ToolSpec;
use tracker_stdx::future::BoxFuture;

/// `apply_patch(patch*)`: adds, updates, deletes and moves files.
#[derive(Clone, Copy, Debug, Default)]
pub struct ApplyPatchTool;

impl Tool for ApplyPatchTool {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "apply_patch".into(),
            description: "Apply a patch in the v4a format to add, update, delete or move files. \
The patch starts with `*** Begin Patch` and ends with `*** End Patch`. Each file operation is \
one of `*** Add File: <path>` (followed by the new file's lines, each prefixed `+`), \
`*** Delete File: <path>`, or `*** Update File: <path>` (optionally followed by \
`*** Move to: <new path>`) followed by hunks. A hunk starts with `@@` (optionally followed by \
a line the change comes after, such as a function signature), then lines prefixed ` ` \
(context, unchanged), `-` (removed) or `+` (added). Give about 3 lines of context before and \
after each change so the hunk is found unambiguously. The patch is applied completely or not \
at all."
                .into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "patch": {"type": "string", "description": "The whole patch, from *** Begin Patch to *** End Patch"}
                },
                "required": ["patch"]
            }),
        }
    }

    fn output_cap(&self) -> usize {
        10_000
    }

    fn run(
        &self,
        args: Value,
        workspace: Arc<Workspace>,
    ) -> BoxFuture<Result<ToolOutput, ToolError>> {
        blocking(move || {
            let patch = Args(&args).string("patch")?;
            apply(patch, &workspace)
        })
    }
}

/// Parses `patch` and applies it inside `workspace`: everything or nothing.
pub fn apply(patch: &str, workspace: &Workspace) -> Result<ToolOutput, ToolError> {
    let operations = parse(patch).map_err(ToolError::Patch)?;
    let plan = plan(&operations, workspace)?;
    commit(&plan, workspace)?;
    let mut content = String::from("Applied the patch:\n");
    for line in &plan.summary {
        content.push_str(line);
        content.push('\n');
    }
    Ok(ToolOutput {
        content,
        effects: plan.effects,
    })
}

/// One file operation.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Operation {
    Add {
        path: String,
        contents: String,
    },
    Delete {
        path: String,
    },
    Update {
        path: String,
        move_to: Option<String>,
        hunks: Vec<Hunk>,
    },
}

/// One change to a file: `old` (context and removed lines) becomes `new`
/// (context and added lines).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Hunk {
    /// The text after `@@`: a line the hunk comes after (may be empty).
    hint: String,
    old: Vec<String>,
    new: Vec<String>,
    /// For each line of `new`, the line of `old` it repeats when it is
    /// context: the file's own text is kept for it (a loose match may differ
    /// in whitespace or punctuation).
    context: Vec<Option<usize>>,
    /// Marked `*** End of File`: the hunk ends the file.
    end_of_file: bool,
    /// How many of the last lines are blank lines with no prefix (kept as
    /// empty context unless they end the section).
    trailing_bare: usize,
}

const BEGIN: &str = "*** Begin Patch";
const END: &str = "*** End Patch";
const ADD: &str = "*** Add File:";
const DELETE: &str = "*** Delete File:";
const UPDATE: &str = "*** Update File:";
const MOVE: &str = "*** Move to:";
const END_OF_FILE: &str = "*** End of File";

/// The operations of a patch, or what is wrong with it (with its line
/// number). Text before `*** Begin Patch` and after `*** End Patch` is
/// ignored.
fn parse(patch: &str) -> Result<Vec<Operation>, String> {
    let lines: Vec<&str> = patch.lines().collect();
    let begin = lines
        .iter()
        .position(|l| l.trim() == BEGIN)
        .ok_or_else(|| format!("the patch must start with `{BEGIN}`"))?;
    let end = lines
        .iter()
        .rposition(|l| l.trim() == END)
        .filter(|end| *end > begin)
        .ok_or_else(|| format!("the patch must end with `{END}`"))?;
    let mut parser = Parser {
        lines: &lines[..end],
        at: begin + 1,
    };
    let mut operations = Vec::new();
    while let Some(line) = parser.peek() {
        if line.trim().is_empty() {
            parser.at += 1;
        } else if let Some(path) = header(line, ADD) {
            let path = parser.path(path, ADD)?;
            parser.at += 1;
            operations.push(parser.add(path)?);
        } else if let Some(path) = header(line, DELETE) {
            let path = parser.path(path, DELETE)?;
            parser.at += 1;
            operations.push(Operation::Delete { path });
        } else if let Some(path) = header(line, UPDATE) {
            let path = parser.path(path, UPDATE)?;
            parser.at += 1;
            operations.push(parser.update(path)?);
        } else {
            return Err(parser
                .unexpected("expected `*** Add File:`, `*** Delete File:` or `*** Update File:`"));
        }
    }
    if operations.is_empty() {
        return Err("the patch has no file operations".into());
    }
    Ok(operations)
}

struct Parser<'a> {
    lines: &'a [&'a str],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&str> {
        self.lines.get(self.at).copied()
    }

    fn unexpected(&self, expected: &str) -> String {
        let line = self.peek().unwrap_or_default();
        format!("line {}: {expected}, found {line:?}", self.at + 1)
    }

    fn path(&self, path: &str, header: &str) -> Result<String, String> {
        if path.is_empty() {
            return Err(format!("line {}: `{header}` needs a path", self.at + 1));
        }
        Ok(path.to_string())
    }

    /// The `+` lines of an `*** Add File:` section.
    fn add(&mut self, path: String) -> Result<Operation, String> {
        let mut contents = String::new();
        while let Some(line) = self.peek() {
            if let Some(text) = line.strip_prefix('+') {
                contents.push_str(text);
                contents.push('\n');
                self.at += 1;
            } else if line.is_empty() && self.more_added_lines() {
                // An empty line whose `+` was lost.
                contents.push('\n');
                self.at += 1;
            } else if line.trim().is_empty() || is_header(line) {
                break;
            } else {
                return Err(
                    self.unexpected(&format!("every line of `{ADD} {path}` must start with `+`"))
                );
            }
        }
        Ok(Operation::Add { path, contents })
    }

    /// Whether, past the current line and any empty ones, a `+` line follows.
    fn more_added_lines(&self) -> bool {
        self.lines[self.at..]
            .iter()
            .find(|l| !l.is_empty())
            .is_some_and(|l| l.starts_with('+'))
    }

    /// The optional `*** Move to:` and the hunks of an `*** Update File:`
    /// section.
    fn update(&mut self, path: String) -> Result<Operation, String> {
        let mut move_to = None;
        if let Some(to) = self.peek().and_then(|l| header(l, MOVE)) {
            move_to = Some(self.path(to, MOVE)?);
            self.at += 1;
        }
        let mut hunks: Vec<Hunk> = Vec::new();
        while let Some(line) = self.peek() {
            if is_header(line) {
                break;
            }
            if line.trim_end() == END_OF_FILE {
                match hunks.last_mut() {
                    Some(hunk) if !hunk.end_of_file => hunk.end_of_file = true,
                    _ => return Err(self.unexpected("`*** End of File` must end a hunk")),
                }
                self.at += 1;
                continue;
            }
            if let Some(hint) = line.strip_prefix("@@") {
                hunks.push(Hunk {
                    hint: hint.trim().to_string(),
                    ..Hunk::default()
                });
                self.at += 1;
                continue;
            }
            // The first hunk may leave out its `@@`.
            let hunk = match hunks.last_mut() {
                Some(hunk) if !hunk.end_of_file => hunk,
                Some(_) => return Err(self.unexpected("a new hunk must start with `@@`")),
                None => {
                    hunks.push(Hunk::default());
                    hunks.last_mut().ok_or("no hunk")?
                }
            };
            if line.is_empty() {
                // A blank context line whose leading space was lost.
                hunk.push_context(String::new());
                hunk.trailing_bare += 1;
                self.at += 1;
                continue;
            }
            let mut chars = line.chars();
            let sign = chars.next();
            let text = chars.as_str();
            match sign {
                Some(' ') => hunk.push_context(text.to_string()),
                Some('-') => hunk.old.push(text.to_string()),
                Some('+') => {
                    hunk.new.push(text.to_string());
                    hunk.context.push(None);
                }
                _ => {
                    return Err(self.unexpected(&format!(
                        "in `{UPDATE} {path}`, hunk lines start with ` `, `-` or `+`"
                    )))
                }
            }
            hunk.trailing_bare = 0;
            self.at += 1;
        }
        // Blank lines that end the section separate it from the next one.
        if let Some(hunk) = hunks.last_mut() {
            for _ in 0..hunk.trailing_bare {
                hunk.old.pop();
                hunk.new.pop();
                hunk.context.pop();
            }
            hunk.trailing_bare = 0;
        }
        if let Some(n) = hunks
            .iter()
            .position(|h| h.old.is_empty() && h.new.is_empty())
        {
            return Err(format!("`{UPDATE} {path}`: hunk {} is empty", n + 1));
        }
        if hunks.is_empty() && move_to.is_none() {
            return Err(format!("`{UPDATE} {path}` has no hunks"));
        }
        Ok(Operation::Update {
            path,
            move_to,
            hunks,
        })
    }
}

impl Hunk {
    fn push_context(&mut self, text: String) {
        self.context.push(Some(self.old.len()));
        self.old.push(text.clone());
        self.new.push(text);
    }

    /// The lines replacing `file[at..at + old.len()]`.
    fn replacement(&self, file: &[String], at: usize) -> Vec<String> {
        self.new
            .iter()
            .zip(&self.context)
            .map(
                |(text, source)| match source.and_then(|i| file.get(at + i)) {
                    Some(original) => original.clone(),
                    None => text.clone(),
                },
            )
            .collect()
    }
}

/// The path after `prefix`, when `line` is that header.
fn header<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    line.strip_prefix(prefix).map(str::trim)
}

fn is_header(line: &str) -> bool {
    [ADD, DELETE, UPDATE].iter().any(|h| line.starts_with(h))
}

/// What the patch will do, checked and ready to write.
#[derive(Debug, Default)]
struct Plan {
    /// Final states, in the order the paths were first touched: `None` is
    /// deleted.
    files: Vec<(PathBuf, Option<String>)>,
    summary: Vec<String>,
    effects: Vec<Effect>,
}

/// The files as the patch leaves them, computed without writing anything.
struct Overlay<'a> {
    workspace: &'a Workspace,
    changed: HashMap<PathBuf, Option<String>>,
    order: Vec<PathBuf>,
}

impl Overlay<'_> {
    fn set(&mut self, path: &Path, contents: Option<String>) {
        if self.changed.insert(path.to_path_buf(), contents).is_none() {
            self.order.push(path.to_path_buf());
        }
    }

    /// Whether a file is at `path` (a directory there is an error).
    fn exists(&self, path: &Path, op: &str) -> Result<bool, ToolError> {
        if let Some(state) = self.changed.get(path) {
            return Ok(state.is_some());
        }
        let shown = self.workspace.relative(path);
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                Err(ToolError::Patch(format!("{op} {shown}: it is a directory")))
            }
            Ok(_) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_error(&shown, e)),
        }
    }

    /// The text of the file at `path`.
    fn text(&self, path: &Path, op: &str) -> Result<String, ToolError> {
        let shown = self.workspace.relative(path);
        if !self.exists(path, op)? {
            return Err(ToolError::Patch(format!("{op} {shown}: file not found")));
        }
        if let Some(Some(text)) = self.changed.get(path) {
            return Ok(text.clone());
        }
        let bytes = std::fs::read(path).map_err(|e| io_error(&shown, e))?;
        if looks_binary(&bytes) {
            return Err(ToolError::Patch(format!(
                "{op} {shown}: it is a binary file"
            )));
        }
        String::from_utf8(bytes)
            .map_err(|_| ToolError::Patch(format!("{op} {shown}: it is not valid UTF-8 text")))
    }
}

fn plan(operations: &[Operation], workspace: &Workspace) -> Result<Plan, ToolError> {
    let mut overlay = Overlay {
        workspace,
        changed: HashMap::new(),
        order: Vec::new(),
    };
    let mut summary = Vec::new();
    for operation in operations {
        match operation {
            Operation::Add { path, contents } => {
                let file = workspace.resolve_for_writing(path)?;
                overlay.exists(&file, ADD)?;
                overlay.set(&file, Some(contents.clone()));
                summary.push(format!("A {}", workspace.relative(&file)));
            }
            Operation::Delete { path } => {
                let file = workspace.resolve_for_writing(path)?;
                if !overlay.exists(&file, DELETE)? {
                    return Err(ToolError::Patch(format!(
                        "{DELETE} {}: file not found",
                        workspace.relative(&file)
                    )));
                }
                overlay.set(&file, None);
                summary.push(format!("D {}", workspace.relative(&file)));
            }
            Operation::Update {
                path,
                move_to,
                hunks,
            } => {
                let file = workspace.resolve_for_writing(path)?;
                let shown = workspace.relative(&file);
                let text = overlay.text(&file, UPDATE)?;
                let updated = apply_hunks(&text, hunks)
                    .map_err(|e| ToolError::Patch(format!("{UPDATE} {shown}: {e}")))?;
                match move_to {
                    Some(to) => {
                        let target = workspace.resolve_for_writing(to)?;
                        if target != file && overlay.exists(&target, MOVE)? {
                            return Err(ToolError::Patch(format!(
                                "{MOVE} {}: a file is already there",
                                workspace.relative(&target)
                            )));
                        }
                        overlay.set(&file, None);
                        overlay.set(&target, Some(updated));
                        summary.push(format!("R {shown} -> {}", workspace.relative(&target)));
                    }
                    None => {
                        overlay.set(&file, Some(updated));
                        summary.push(format!("M {shown}"));
                    }
                }
            }
        }
    }
    let mut plan = Plan {
        summary,
        ..Plan::default()
    };
    for path in overlay.order {
        let state = overlay.changed.remove(&path).unwrap_or_default();
        let existed = std::fs::symlink_metadata(&path).is_ok();
        let shown = workspace.relative(&path);
        match (&state, existed) {
            (Some(_), true) => plan.effects.push(Effect::Modified(shown)),
            (Some(_), false) => plan.effects.push(Effect::Created(shown)),
            (None, true) => plan.effects.push(Effect::Deleted(shown)),
            (None, false) => {}
        }
        plan.files.push((path, state));
    }
    Ok(plan)
}

/// Writes the plan: new contents go to temporary files first, so a failure
/// there leaves every file as it was; then they are renamed into place and
/// deleted files removed.
fn commit(plan: &Plan, workspace: &Workspace) -> Result<(), ToolError> {
    let mut staged: Vec<(PathBuf, &Path)> = Vec::new();
    let discard = |staged: &[(PathBuf, &Path)]| {
        for (temp, _) in staged {
            let _ = std::fs::remove_file(temp);
        }
    };
    for (path, state) in &plan.files {
        let Some(contents) = state else { continue };
        match stage(path, contents) {
            Ok(temp) => staged.push((temp, path)),
            Err(e) => {
                discard(&staged);
                return Err(io_error(&workspace.relative(path), e));
            }
        }
    }
    for (n, (temp, path)) in staged.iter().enumerate() {
        if let Err(e) = std::fs::rename(temp, path) {
            discard(&staged[n..]);
            return Err(io_error(&workspace.relative(path), e));
        }
    }
    for (path, state) in &plan.files {
        if state.is_none() {
            match std::fs::remove_file(path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(io_error(&workspace.relative(path), e))
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Writes `contents` to a new temporary file beside `path` (with `path`'s
/// permissions, when it exists) and returns the temporary file's path.
fn stage(path: &Path, contents: &str) -> std::io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let parent = path
        .parent()
        .ok_or_else(|| std::io::Error::other("the path has no parent directory"))?;
    std::fs::create_dir_all(parent)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = parent.join(format!(
        ".{name}.{}.{}.patch-tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        std::fs::write(&temp, contents)?;
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&temp, meta.permissions())?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(temp),
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            Err(e)
        }
    }
}

/// `text` with every hunk applied, in order. Line ends (LF or CRLF) and
/// whether the text ends with a newline are kept.
fn apply_hunks(text: &str, hunks: &[Hunk]) -> Result<String, String> {
    let crlf = text.contains("\r\n");
    let ends_with_newline = text.is_empty() || text.ends_with('\n');
    let mut lines: Vec<String> = text
        .split('\n')
        .map(|l| {
            if crlf {
                l.strip_suffix('\r').unwrap_or(l)
            } else {
                l
            }
        })
        .map(str::to_string)
        .collect();
    if ends_with_newline {
        lines.pop();
    }
    let mut replacements = Vec::new();
    let mut cursor = 0;
    for (n, hunk) in hunks.iter().enumerate() {
        let at = locate(&lines, hunk, cursor).ok_or_else(|| {
            let hint = if hunk.hint.is_empty() {
                String::new()
            } else {
                format!(" after {:?}", hunk.hint)
            };
            format!(
                "hunk {} does not match the file{hint}; these lines were not found (in order, after the previous hunk):\n{}",
                n + 1,
                hunk.old.join("\n")
            )
        })?;
        replacements.push((at, hunk.old.len(), hunk.replacement(&lines, at)));
        cursor = at + hunk.old.len();
    }
    for (at, len, new) in replacements.into_iter().rev() {
        lines.splice(at..at + len, new);
    }
    let newline = if crlf { "\r\n" } else { "\n" };
    let mut out = lines.join(newline);
    if ends_with_newline && !lines.is_empty() {
        out.push_str(newline);
    }
    Ok(out)
}

/// Where `hunk`'s old lines start, searching from `cursor` (after its hint
/// line, when the hint is found there). A hunk with no old lines goes after
/// its hint line, or at the end of the file.
fn locate(lines: &[String], hunk: &Hunk, cursor: usize) -> Option<usize> {
    let after_hint = if hunk.hint.is_empty() {
        None
    } else {
        find_hint(lines, &hunk.hint, cursor).map(|at| at + 1)
    };
    if hunk.old.is_empty() {
        return Some(after_hint.unwrap_or(lines.len()));
    }
    after_hint
        .and_then(|from| seek(lines, &hunk.old, from, hunk.end_of_file))
        .or_else(|| seek(lines, &hunk.old, cursor, hunk.end_of_file))
}

/// The first line from `from` that is the hint (ignoring surrounding
/// whitespace), or failing that, contains it.
fn find_hint(lines: &[String], hint: &str, from: usize) -> Option<usize> {
    let hint = normalize(hint);
    let rest = lines.get(from..)?;
    rest.iter()
        .position(|l| normalize(l) == hint)
        .or_else(|| rest.iter().position(|l| normalize(l).contains(&hint)))
        .map(|i| from + i)
}

/// Where `pattern` first occurs in `lines` at or after `from`, trying ever
/// looser comparisons. With `end_of_file`, a match that ends the file is
/// tried first at each level.
fn seek(lines: &[String], pattern: &[String], from: usize, end_of_file: bool) -> Option<usize> {
    let last = lines.len().checked_sub(pattern.len())?;
    if from > last {
        return None;
    }
    let passes: [fn(&str, &str) -> bool; 4] = [
        |a, b| a == b,
        |a, b| a.trim_end() == b.trim_end(),
        |a, b| a.trim() == b.trim(),
        |a, b| normalize(a) == normalize(b),
    ];
    for same in passes {
        let matches_at = |at: usize| pattern.iter().zip(&lines[at..]).all(|(p, l)| same(l, p));
        if end_of_file && matches_at(last) {
            return Some(last);
        }
        if let Some(at) = (from..=last).find(|at| matches_at(*at)) {
            return Some(at);
        }
    }
    None
}

/// `text` trimmed, with Unicode dashes, quotes and spaces in their ASCII forms.
fn normalize(text: &str) -> String {
    text.trim()
        .chars()
        .map(|c| match c {
            '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
            '\u{2018}'..='\u{201B}' => '\'',
            '\u{201C}'..='\u{201F}' => '"',
            '\u{00A0}' | '\u{2002}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => ' ',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, Workspace) {
        let dir = tempfile::tempdir().expect("tempdir");
        let ws = Workspace::new(dir.path()).expect("workspace");
        (dir, ws)
    }

    fn read(dir: &tempfile::TempDir, path: &str) -> String {
        std::fs::read_to_string(dir.path().join(path)).expect("read")
    }

    #[test]
    fn adds_a_file_with_its_parents() {
        let (dir, ws) = setup();
        let out = apply(
            "*** Begin Patch\n*** Add File: src/new.txt\n+hello\n+\n+world\n\n+é\n\n*** End Patch\n",
            &ws,
        )
        .expect("applies");
        assert_eq!(out.content, "Applied the patch:\nA src/new.txt\n");
        assert_eq!(out.effects, [Effect::Created("src/new.txt".into())]);
        assert_eq!(read(&dir, "src/new.txt"), "hello\n\nworld\n\né\n");
    }

    #[test]
    fn updates_with_two_hunks_in_order() {
        let (dir, ws) = setup();
        let original = "fn a() {\n    1\n}\n\nfn b() {\n    2\n}\n\nfn c() {\n    3\n}\n";
        std::fs::write(dir.path().join("m.rs"), original).expect("write");
        let patch = "*** Begin Patch
*** Update File: m.rs
@@ fn a() {
-    1
+    10
 }
@@ fn c() {
-    3
+    30
+    31
 }
*** End Patch";
        let out = apply(patch, &ws).expect("applies");
        assert_eq!(out.content, "Applied the patch:\nM m.rs\n");
        assert_eq!(out.effects, [Effect::Modified("m.rs".into())]);
        assert_eq!(
            read(&dir, "m.rs"),
            "fn a() {\n    10\n}\n\nfn b() {\n    2\n}\n\nfn c() {\n    30\n    31\n}\n"
        );
    }

    #[test]
    fn hunks_are_found_after_the_previous_one() {
        let (dir, ws) = setup();
        std::fs::write(dir.path().join("r.txt"), "x\ny\nx\ny\n").expect("write");
        let patch = "*** Begin Patch\n*** Update File: r.txt\n@@\n x\n-y\n+first\n@@\n x\n-y\n+second\n*** End Patch";
        apply(patch, &ws).expect("applies");
        assert_eq!(read(&dir, "r.txt"), "x\nfirst\nx\nsecond\n");
    }

    #[test]
    fn deletes_and_moves() {
        let (dir, ws) = setup();
        std::fs::write(dir.path().join("gone.txt"), "bye\n").expect("write");
        std::fs::write(dir.path().join("old.txt"), "one\ntwo\n").expect("write");
        let patch = "*** Begin Patch
*** Delete File: gone.txt
*** Update File: old.txt
*** Move to: moved/new.txt
@@
 one
-two
+2
*** End Patch";
        let out = apply(patch, &ws).expect("applies");
        assert_eq!(
            out.content,
            "Applied the patch:\nD gone.txt\nR old.txt -> moved/new.txt\n"
        );
        assert_eq!(
            out.effects,
            [
                Effect::Deleted("gone.txt".into()),
                Effect::Deleted("old.txt".into()),
                Effect::Created("moved/new.txt".into()),
            ]
        );
        assert!(!dir.path().join("gone.txt").exists());
        assert!(!dir.path().join("old.txt").exists());
        assert_eq!(read(&dir, "moved/new.txt"), "one\n2\n");
    }

    #[test]
    fn a_failing_patch_leaves_every_file_untouched() {
        let (dir, ws) = setup();
        std::fs::write(dir.path().join("a.txt"), "alpha\n").expect("write");
        std::fs::write(dir.path().join("b.txt"), "beta\n").expect("write");
        std::fs::write(dir.path().join("c.txt"), "gamma\n").expect("write");
        let patch = "*** Begin Patch
*** Update File: a.txt
-alpha
+ALPHA
*** Add File: d.txt
+delta
*** Delete File: c.txt
*** Update File: b.txt
-not in the file
+BETA
*** End Patch";
        let err = apply(patch, &ws).expect_err("fails");
        let message = err.to_string();
        assert!(matches!(err, ToolError::Patch(_)));
        assert!(
            message.contains("Update File: b.txt: hunk 1 does not match"),
            "{message}"
        );
        assert!(message.contains("not in the file"), "{message}");
        assert_eq!(read(&dir, "a.txt"), "alpha\n");
        assert_eq!(read(&dir, "b.txt"), "beta\n");
        assert_eq!(read(&dir, "c.txt"), "gamma\n");
        assert!(!dir.path().join("d.txt").exists());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
    }

    #[test]
    fn missing_files_and_escapes_are_errors() {
        let (_dir, ws) = setup();
        let delete = apply(
            "*** Begin Patch\n*** Delete File: nope.txt\n*** End Patch",
            &ws,
        );
        assert!(
            matches!(&delete, Err(ToolError::Patch(m)) if m.contains("nope.txt: file not found"))
        );
        let update = apply(
            "*** Begin Patch\n*** Update File: nope.txt\n-a\n+b\n*** End Patch",
            &ws,
        );
        assert!(matches!(update, Err(ToolError::Patch(_))));
        let escape = apply(
            "*** Begin Patch\n*** Add File: ../evil.txt\n+x\n*** End Patch",
            &ws,
        );
        assert!(matches!(escape, Err(ToolError::Escapes(_))));
    }

    #[test]
    fn malformed_patches_are_refused_with_line_numbers() {
        let (_dir, ws) = setup();
        let cases = [
            ("*** Add File: a\n+x\n*** End Patch", "must start with"),
            ("*** Begin Patch\n*** Add File: a\n+x\n", "must end with"),
            ("*** Begin Patch\n*** End Patch", "no file operations"),
            ("*** Begin Patch\nhello\n*** End Patch", "line 2: expected"),
            (
                "*** Begin Patch\n*** Add File: a\nx\n*** End Patch",
                "line 3: every line",
            ),
            (
                "*** Begin Patch\n*** Update File: a\n@@\néclair\n*** End Patch",
                "line 4: in `*** Update File: a`",
            ),
            (
                "*** Begin Patch\n*** Update File: a\n*** End Patch",
                "has no hunks",
            ),
            (
                "*** Begin Patch\n*** Add File:\n+x\n*** End Patch",
                "needs a path",
            ),
        ];
        for (patch, expected) in cases {
            let err = apply(patch, &ws).expect_err(patch);
            assert!(err.to_string().contains(expected), "{patch:?}: {err}");
        }
    }

    #[test]
    fn whitespace_and_unicode_punctuation_are_matched_loosely() {
        let (dir, ws) = setup();
        std::fs::write(
            dir.path().join("w.py"),
            "def f():   \n    x = \u{201C}hi\u{201D}\n    return x\n",
        )
        .expect("write");
        let patch = "*** Begin Patch
*** Update File: w.py
@@ def f():
 def f():
-  x = \"hi\"
+    x = \"hello\"
     return x
*** End Patch";
        apply(patch, &ws).expect("applies");
        assert_eq!(
            read(&dir, "w.py"),
            "def f():   \n    x = \"hello\"\n    return x\n"
        );
    }

    #[test]
    fn end_of_file_hunks_match_at_the_end_and_crlf_is_kept() {
        let (dir, ws) = setup();
        std::fs::write(dir.path().join("e.txt"), "end\r\nmid\r\nend\r\n").expect("write");
        let patch = "*** Begin Patch
*** Update File: e.txt
@@
 end
+after
*** End of File
*** End Patch";
        apply(patch, &ws).expect("applies");
        assert_eq!(read(&dir, "e.txt"), "end\r\nmid\r\nend\r\nafter\r\n");
    }

    #[test]
    fn pure_insertions_go_after_the_hint_or_at_the_end() {
        let (dir, ws) = setup();
        std::fs::write(dir.path().join("i.txt"), "a\nb\n").expect("write");
        let patch =
            "*** Begin Patch\n*** Update File: i.txt\n@@ a\n+inserted\n@@\n+last\n*** End Patch";
        apply(patch, &ws).expect("applies");
        assert_eq!(read(&dir, "i.txt"), "a\ninserted\nb\nlast\n");
    }

    #[test]
    fn permissions_survive_an_update() {
        use std::os::unix::fs::PermissionsExt;
        let (dir, ws) = setup();
        let script = dir.path().join("run.sh");
        std::fs::write(&script, "echo 1\n").expect("write");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        apply(
            "*** Begin Patch\n*** Update File: run.sh\n-echo 1\n+echo 2\n*** End Patch",
            &ws,
        )
        .expect("applies");
        let mode = std::fs::metadata(&script)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
        assert_eq!(read(&dir, "run.sh"), "echo 2\n");
    }

    #[test]
    fn blank_lines_without_a_prefix_are_context_except_at_the_end() {
        let hunks =
            match parse("*** Begin Patch\n*** Update File: f\n@@\n a\n\n-b\n+c\n\n\n*** End Patch")
                .expect("parses")
                .remove(0)
            {
                Operation::Update { hunks, .. } => hunks,
                other => panic!("not an update: {other:?}"),
            };
        assert_eq!(hunks[0].old, ["a", "", "b"]);
        assert_eq!(hunks[0].new, ["a", "", "c"]);
    }

    #[test]
    fn text_around_the_markers_is_ignored() {
        let (dir, ws) = setup();
        apply(
            "apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: x.txt\n+x\n*** End Patch\nEOF\n",
            &ws,
        )
        .expect("applies");
        assert_eq!(read(&dir, "x.txt"), "x\n");
    }

    #[tokio::test]
    async fn the_tool_checks_its_argument() {
        let (_dir, ws) = setup();
        let err = ApplyPatchTool
            .run(json!({"patch": 3}), Arc::new(ws))
            .await
            .expect_err("bad argument");
        assert!(matches!(err, ToolError::InvalidArguments(m) if m.contains("`patch`")));
    }
}
