//! `read`, `write` and `edit`: one file at a time.

use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Value};

use super::{
    blocking, io_error, looks_binary, Args, Effect, Tool, ToolError, ToolOutput, Workspace,
};
use tracker_llm::ToolSpec;
use tracker_stdx::future::BoxFuture;

/// How many lines `read` returns when the call does not say.
pub const DEFAULT_READ_LIMIT: u64 = 2000;
/// The most characters of a `read` the model sees. A page stops before it,
/// so that the page is never cut (which would hide its start) and the
/// footer's offset is right.
const READ_CAP: usize = 50_000;
/// Room kept under [`READ_CAP`] for the footer.
const FOOTER_ROOM: usize = 200;

/// `read(path*, offset, limit)`: a text file's lines, numbered from 1.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadTool;

impl Tool for ReadTool {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "read".into(),
            description: "Read a text file from the working directory. Lines are returned \
                          numbered from 1 (line number, a tab, then the line). Use offset and \
                          limit to page through long files."
                .into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "The file, relative to the working directory"},
                    "offset": {"type": "integer", "description": "The first line to return (1-based, default 1)"},
                    "limit": {"type": "integer", "description": "How many lines to return (default 2000)"}
                },
                "required": ["path"]
            }),
        }
    }

    fn output_cap(&self) -> usize {
        READ_CAP
    }

    fn run(
        &self,
        args: Value,
        workspace: Arc<Workspace>,
    ) -> BoxFuture<Result<ToolOutput, ToolError>> {
        blocking(move || read(&args, &workspace))
    }
}

fn read(args: &Value, workspace: &Workspace) -> Result<ToolOutput, ToolError> {
    let args = Args(args);
    let path = non_empty_path(&args)?;
    // An offset of 0 is taken as "from the start", as models often mean it.
    let offset = args.optional_count("offset")?.unwrap_or(1).max(1);
    let limit = args.optional_count("limit")?.unwrap_or(DEFAULT_READ_LIMIT);
    if limit == 0 {
        return Err(ToolError::InvalidArguments(
            "`limit` must be at least 1".into(),
        ));
    }
    let file = workspace.resolve(path)?;
    let shown = workspace.relative(&file);
    let text = read_text(&file, &shown)?;
    if text.is_empty() {
        return Ok(ToolOutput::text(format!("{shown} is empty.")));
    }
    let total = text.lines().count() as u64;
    if offset > total {
        return Err(ToolError::InvalidArguments(format!(
            "`offset` {offset} is past the end of {shown}, which has {total} lines"
        )));
    }
    let mut out = String::new();
    let mut chars = 0;
    let mut last = offset - 1;
    let window = text.lines().enumerate().skip((offset - 1) as usize);
    for (index, line) in window.take(usize::try_from(limit).unwrap_or(usize::MAX)) {
        let numbered = format!("{:>6}\t{line}\n", index + 1);
        let len = numbered.chars().count();
        // Always at least one line, even an overlong one (truncation then
        // keeps its end).
        if last >= offset && chars + len > READ_CAP - FOOTER_ROOM {
            break;
        }
        chars += len;
        out.push_str(&numbered);
        last = index as u64 + 1;
    }
    if last < total {
        out.push_str(&format!(
            "... {} more lines; read on with offset={}\n",
            total - last,
            last + 1
        ));
    }
    Ok(ToolOutput::text(out))
}

/// `write(path*, content*)`: creates or replaces a file (and its parents).
#[derive(Clone, Copy, Debug, Default)]
pub struct WriteTool;

impl Tool for WriteTool {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "write".into(),
            description: "Write a file in the working directory, replacing it if it exists. \
                          Parent directories are created."
                .into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "The file, relative to the working directory"},
                    "content": {"type": "string", "description": "The complete new content"}
                },
                "required": ["path", "content"]
            }),
        }
    }

    fn output_cap(&self) -> usize {
        1_000
    }

    fn run(
        &self,
        args: Value,
        workspace: Arc<Workspace>,
    ) -> BoxFuture<Result<ToolOutput, ToolError>> {
        blocking(move || write(&args, &workspace))
    }
}

fn write(args: &Value, workspace: &Workspace) -> Result<ToolOutput, ToolError> {
    let args = Args(args);
    let path = non_empty_path(&args)?;
    let content = args.string("content")?;
    let file = workspace.resolve_for_writing(path)?;
    let shown = workspace.relative(&file);
    let existed = match std::fs::metadata(&file) {
        Ok(meta) if meta.is_dir() => return Err(ToolError::IsDirectory(shown)),
        Ok(_) => true,
        Err(_) => false,
    };
    if existed {
        // The agent read this file with a key tracker loaded cut out: its
        // copy says `****`, and writing it back would destroy the key.
        let old = std::fs::read_to_string(&file).unwrap_or_default();
        if tracker_stdx::secrets::erases_known(&old, content) {
            return Err(ToolError::InvalidArguments(format!(
                "{shown} holds a key that was shown to you as ****; writing the whole file would replace the key with ****. Change the other lines with `edit` instead"
            )));
        }
    }
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io_error(&shown, e))?;
    }
    std::fs::write(&file, content).map_err(|e| io_error(&shown, e))?;
    let effect = if existed {
        Effect::Modified(shown.clone())
    } else {
        Effect::Created(shown.clone())
    };
    Ok(ToolOutput {
        content: format!("Wrote {} bytes to {shown}", content.len()),
        effects: vec![effect],
    })
}

/// `edit(path*, old_string*, new_string*)`: replaces the one occurrence of
/// `old_string`.
#[derive(Clone, Copy, Debug, Default)]
pub struct EditTool;

impl Tool for EditTool {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "edit".into(),
            description: "Replace text in a file. old_string must match the file exactly \
                          (including whitespace and indentation) and occur exactly once; \
                          include enough surrounding lines to make it unique. Read the file \
                          first."
                .into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "The file, relative to the working directory"},
                    "old_string": {"type": "string", "description": "The exact text to replace"},
                    "new_string": {"type": "string", "description": "The replacement text"}
                },
                "required": ["path", "old_string", "new_string"]
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
        blocking(move || edit(&args, &workspace))
    }
}

fn edit(args: &Value, workspace: &Workspace) -> Result<ToolOutput, ToolError> {
    let args = Args(args);
    let path = non_empty_path(&args)?;
    let old = args.string("old_string")?;
    let new = args.string("new_string")?;
    if old.is_empty() {
        return Err(ToolError::InvalidArguments(
            "`old_string` must not be empty (use write to create a file)".into(),
        ));
    }
    if old == new {
        return Err(ToolError::InvalidArguments(
            "`old_string` and `new_string` are the same; there is nothing to change".into(),
        ));
    }
    let file = workspace.resolve_for_writing(path)?;
    let shown = workspace.relative(&file);
    let text = read_text(&file, &shown)?;
    // A file with CRLF line ends matches an old_string written with LF ones.
    let (old, new) = match count(&text, old) {
        0 if text.contains("\r\n") && old.contains('\n') && !old.contains("\r\n") => {
            (old.replace('\n', "\r\n"), new.replace('\n', "\r\n"))
        }
        _ => (old.to_string(), new.to_string()),
    };
    match count(&text, &old) {
        0 => return Err(ToolError::NoMatch(shown)),
        1 => {}
        n => {
            return Err(ToolError::AmbiguousMatch {
                path: shown,
                count: n,
            })
        }
    }
    let updated = text.replacen(&old, &new, 1);
    std::fs::write(&file, &updated).map_err(|e| io_error(&shown, e))?;
    Ok(ToolOutput {
        content: format!(
            "Edited {shown}: replaced 1 occurrence ({} lines removed, {} added)",
            old.lines().count(),
            new.lines().count()
        ),
        effects: vec![Effect::Modified(shown)],
    })
}

/// The `path` argument, which must not be empty.
fn non_empty_path<'a>(args: &Args<'a>) -> Result<&'a str, ToolError> {
    let path = args.string("path")?;
    if path.trim().is_empty() {
        return Err(ToolError::InvalidArguments(
            "`path` must not be empty".into(),
        ));
    }
    Ok(path)
}

/// A text file's content. Refused: a missing file, a directory, a binary file
/// and a file that is not UTF-8.
fn read_text(file: &Path, shown: &str) -> Result<String, ToolError> {
    match std::fs::metadata(file) {
        Ok(meta) if meta.is_dir() => return Err(ToolError::IsDirectory(shown.to_string())),
        Ok(_) => {}
        Err(e) => return Err(io_error(shown, e)),
    }
    let bytes = std::fs::read(file).map_err(|e| io_error(shown, e))?;
    if looks_binary(&bytes) {
        return Err(ToolError::Binary(shown.to_string()));
    }
    String::from_utf8(bytes).map_err(|_| ToolError::NotUtf8(shown.to_string()))
}

/// How many times `needle` occurs in `text`, overlapping occurrences included.
fn count(text: &str, needle: &str) -> usize {
    let mut n = 0;
    let mut from = 0;
    while let Some(at) = text[from..].find(needle) {
        n += 1;
        let start = from + at;
        // Step one character past the start of this occurrence.
        from = start + text[start..].chars().next().map_or(1, char::len_utf8);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, Arc<Workspace>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let ws = Workspace::new(dir.path()).expect("workspace");
        (dir, Arc::new(ws))
    }

    async fn run(
        tool: &dyn Tool,
        ws: &Arc<Workspace>,
        args: Value,
    ) -> Result<ToolOutput, ToolError> {
        tool.run(args, ws.clone()).await
    }

    #[tokio::test]
    async fn read_numbers_lines_and_pages() {
        let (dir, ws) = setup();
        let text: String = (1..=10).map(|i| format!("line {i}\n")).collect();
        std::fs::write(dir.path().join("f.txt"), text).expect("write");
        let out = run(&ReadTool, &ws, json!({"path": "f.txt", "limit": 2}))
            .await
            .expect("read");
        assert_eq!(
            out.content,
            "     1\tline 1\n     2\tline 2\n... 8 more lines; read on with offset=3\n"
        );
        let out = run(&ReadTool, &ws, json!({"path": "f.txt", "offset": 9}))
            .await
            .expect("read");
        assert_eq!(out.content, "     9\tline 9\n    10\tline 10\n");
        let out = run(
            &ReadTool,
            &ws,
            json!({"path": "f.txt", "offset": "4", "limit": 1}),
        )
        .await
        .expect("read");
        assert!(out.content.starts_with("     4\tline 4\n"));
        assert!(out.effects.is_empty());
        let past = run(&ReadTool, &ws, json!({"path": "f.txt", "offset": 11})).await;
        assert!(matches!(past, Err(ToolError::InvalidArguments(m)) if m.contains("offset")));
        let zero = run(&ReadTool, &ws, json!({"path": "f.txt", "limit": 0})).await;
        assert!(matches!(zero, Err(ToolError::InvalidArguments(m)) if m.contains("limit")));
        let negative = run(&ReadTool, &ws, json!({"path": "f.txt", "offset": -2})).await;
        assert!(matches!(negative, Err(ToolError::InvalidArguments(m)) if m.contains("offset")));
    }

    #[tokio::test]
    async fn a_long_page_stops_under_the_cap_and_says_where_to_go_on() {
        let (dir, ws) = setup();
        let line = "x".repeat(60);
        let text: String = (0..3000).map(|_| format!("{line}\n")).collect();
        std::fs::write(dir.path().join("big.txt"), text).expect("write");
        let out = run(&ReadTool, &ws, json!({"path": "big.txt"}))
            .await
            .expect("reads")
            .content;
        assert!(out.chars().count() <= READ_CAP, "never truncated");
        let shown = out.lines().filter(|l| l.ends_with(&line)).count();
        assert!(shown > 100 && shown < 2000, "{shown}");
        let footer = out.lines().last().expect("footer");
        assert!(
            footer.ends_with(&format!("offset={}", shown + 1)),
            "{footer}"
        );
    }

    #[tokio::test]
    async fn read_refuses_binaries_directories_and_missing_files() {
        let (dir, ws) = setup();
        std::fs::write(dir.path().join("bin"), b"abc\0def").expect("write");
        std::fs::create_dir(dir.path().join("d")).expect("dir");
        std::fs::write(dir.path().join("empty"), "").expect("write");
        assert!(matches!(
            run(&ReadTool, &ws, json!({"path": "bin"})).await,
            Err(ToolError::Binary(p)) if p == "bin"
        ));
        assert!(matches!(
            run(&ReadTool, &ws, json!({"path": "d"})).await,
            Err(ToolError::IsDirectory(_))
        ));
        assert!(matches!(
            run(&ReadTool, &ws, json!({"path": "nope"})).await,
            Err(ToolError::NotFound(_))
        ));
        let empty = run(&ReadTool, &ws, json!({"path": "empty"}))
            .await
            .expect("read");
        assert_eq!(empty.content, "empty is empty.");
        assert!(matches!(
            run(&ReadTool, &ws, json!({"path": "../etc/passwd"})).await,
            Err(ToolError::Escapes(_))
        ));
    }

    #[tokio::test]
    async fn write_creates_parents_and_reports_effects() {
        let (dir, ws) = setup();
        let out = run(
            &WriteTool,
            &ws,
            json!({"path": "a/b/c.txt", "content": "héllo"}),
        )
        .await
        .expect("write");
        assert_eq!(out.content, "Wrote 6 bytes to a/b/c.txt");
        assert_eq!(out.effects, [Effect::Created("a/b/c.txt".into())]);
        let out = run(
            &WriteTool,
            &ws,
            json!({"path": "a/b/c.txt", "content": "bye"}),
        )
        .await
        .expect("write");
        assert_eq!(out.effects, [Effect::Modified("a/b/c.txt".into())]);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("a/b/c.txt")).expect("read"),
            "bye"
        );
        assert!(matches!(
            run(&WriteTool, &ws, json!({"path": "a", "content": "x"})).await,
            Err(ToolError::IsDirectory(_))
        ));
        let outside = dir.path().parent().expect("parent").join("escaped.txt");
        let escape = run(
            &WriteTool,
            &ws,
            json!({"path": outside.to_str().expect("utf-8"), "content": "x"}),
        )
        .await;
        assert!(matches!(escape, Err(ToolError::Escapes(_))));
        assert!(!outside.exists());
    }

    #[tokio::test]
    async fn write_through_a_symlink_outside_is_refused() {
        let outer = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(outer.path().join("root")).expect("dir");
        let ws = Arc::new(Workspace::new(&outer.path().join("root")).expect("workspace"));
        std::os::unix::fs::symlink(outer.path(), ws.root().join("up")).expect("symlink");
        let escape = run(
            &WriteTool,
            &ws,
            json!({"path": "up/evil.txt", "content": "x"}),
        )
        .await;
        assert!(matches!(escape, Err(ToolError::Escapes(_))));
        assert!(!outer.path().join("evil.txt").exists());
    }

    #[tokio::test]
    async fn edit_replaces_a_unique_match() {
        let (dir, ws) = setup();
        let file = dir.path().join("m.rs");
        std::fs::write(&file, "fn a() {}\nfn b() {}\n").expect("write");
        let out = run(
            &EditTool,
            &ws,
            json!({"path": "m.rs", "old_string": "fn b() {}", "new_string": "fn b() { a() }"}),
        )
        .await
        .expect("edit");
        assert!(out.content.starts_with("Edited m.rs"));
        assert_eq!(out.effects, [Effect::Modified("m.rs".into())]);
        assert_eq!(
            std::fs::read_to_string(&file).expect("read"),
            "fn a() {}\nfn b() { a() }\n"
        );
    }

    #[tokio::test]
    async fn edit_refuses_missing_ambiguous_and_empty_matches() {
        let (dir, ws) = setup();
        let file = dir.path().join("m.txt");
        std::fs::write(&file, "x = 1\nx = 1\ny = 2\n").expect("write");
        let edit = |old: &str| json!({"path": "m.txt", "old_string": old, "new_string": "z = 3"});
        let none = run(&EditTool, &ws, edit("w = 0")).await;
        assert!(matches!(&none, Err(ToolError::NoMatch(p)) if p == "m.txt"));
        let message = none.expect_err("no match").to_string();
        assert!(
            message.contains("old_string not found in m.txt"),
            "{message}"
        );
        let two = run(&EditTool, &ws, edit("x = 1")).await;
        assert!(matches!(
            two,
            Err(ToolError::AmbiguousMatch { count: 2, .. })
        ));
        let empty = run(&EditTool, &ws, edit("")).await;
        assert!(matches!(empty, Err(ToolError::InvalidArguments(m)) if m.contains("old_string")));
        // Overlapping occurrences are ambiguous too.
        std::fs::write(&file, "aaa").expect("write");
        let overlap = run(&EditTool, &ws, edit("aa")).await;
        assert!(matches!(
            overlap,
            Err(ToolError::AmbiguousMatch { count: 2, .. })
        ));
        assert_eq!(std::fs::read_to_string(&file).expect("read"), "aaa");
    }

    #[tokio::test]
    async fn edit_matches_lf_text_in_a_crlf_file() {
        let (dir, ws) = setup();
        let file = dir.path().join("w.txt");
        std::fs::write(&file, "one\r\ntwo\r\nthree\r\n").expect("write");
        run(
            &EditTool,
            &ws,
            json!({"path": "w.txt", "old_string": "one\ntwo", "new_string": "1\n2"}),
        )
        .await
        .expect("edit");
        assert_eq!(
            std::fs::read_to_string(&file).expect("read"),
            "1\r\n2\r\nthree\r\n"
        );
    }

    #[test]
    fn occurrences_are_counted_with_overlaps() {
        assert_eq!(count("abcabc", "abc"), 2);
        assert_eq!(count("aaaa", "aa"), 3);
        assert_eq!(count("éé", "é"), 2);
        assert_eq!(count("abc", "x"), 0);
    }
}
