//! `glob` and `grep_search`: finding files by name and by content.
//!
//! Both walk the workspace with the `ignore` crate: `.gitignore` (and
//! `.ignore`) rules are respected, even outside a git repository, `.git` is
//! skipped, hidden files are included, and symlinks are not followed (so the
//! walk never leaves the workspace).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use globset::GlobBuilder;
use regex::Regex;
use serde_json::{json, Value};

use super::{blocking, io_error, looks_binary, Args, Tool, ToolError, ToolOutput, Workspace};
use tracker_llm::ToolSpec;
use tracker_stdx::future::BoxFuture;

/// The most paths `glob` lists.
pub const MAX_GLOB_RESULTS: usize = 200;

/// The most matching lines `grep_search` reports.
pub const MAX_GREP_HITS: usize = 100;

/// The most context lines `grep_search` shows on each side of a hit.
pub const MAX_CONTEXT_LINES: u64 = 20;

/// Lines longer than this many characters are cut in `grep_search` output.
const MAX_LINE_CHARS: usize = 500;

/// Files larger than this are not searched by `grep_search`.
const MAX_GREP_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// `glob(pattern*, path)`: files whose path matches a glob, newest first.
#[derive(Clone, Copy, Debug, Default)]
pub struct GlobTool;

impl Tool for GlobTool {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "glob".into(),
            description: "Find files by path pattern, such as `**/*.rs` or `src/*.json`. \
                          `*` does not cross `/`; `**` matches any number of directories. \
                          Returns paths relative to the working directory, most recently \
                          modified first. Files ignored by .gitignore are skipped."
                .into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "pattern": {"type": "string", "description": "The glob, relative to `path`"},
                    "path": {"type": "string", "description": "The directory to search (default: the working directory)"}
                },
                "required": ["pattern"]
            }),
        }
    }

    fn output_cap(&self) -> usize {
        8_000
    }

    fn run(
        &self,
        args: Value,
        workspace: Arc<Workspace>,
    ) -> BoxFuture<Result<ToolOutput, ToolError>> {
        blocking(move || glob(&args, &workspace))
    }
}

fn glob(args: &Value, workspace: &Workspace) -> Result<ToolOutput, ToolError> {
    let args = Args(args);
    let pattern = args.string("pattern")?;
    if pattern.trim().is_empty() {
        return Err(ToolError::InvalidArguments(
            "`pattern` must not be empty".into(),
        ));
    }
    let base = directory(workspace, args.optional_string("path")?.unwrap_or(""))?;
    let relative = relative_pattern(pattern, &base)?;
    let matcher = GlobBuilder::new(relative)
        .literal_separator(true)
        .build()
        .map_err(|e| ToolError::Glob {
            pattern: pattern.to_string(),
            message: e.kind().to_string(),
        })?
        .compile_matcher();
    let mut found: Vec<(Option<SystemTime>, String)> = walk(&base)
        .filter(|path| {
            path.strip_prefix(&base)
                .is_ok_and(|rel| matcher.is_match(rel))
        })
        .map(|path| {
            let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
            (modified, workspace.relative(&path))
        })
        .collect();
    if found.is_empty() {
        return Ok(ToolOutput::text(format!("No files match {pattern:?}")));
    }
    // Newest first (unknown times last), then by path.
    found.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let total = found.len();
    let mut out = String::new();
    for (_, path) in found.iter().take(MAX_GLOB_RESULTS) {
        out.push_str(path);
        out.push('\n');
    }
    if total > MAX_GLOB_RESULTS {
        out.push_str(&format!(
            "[showing the {MAX_GLOB_RESULTS} most recently modified of {total} matching files; narrow the pattern to see others]\n"
        ));
    }
    Ok(ToolOutput::text(out))
}

/// `pattern` relative to `base`: a leading `./` is dropped, and an absolute
/// pattern must start with `base`.
fn relative_pattern<'a>(pattern: &'a str, base: &Path) -> Result<&'a str, ToolError> {
    let pattern = pattern.trim();
    if !pattern.starts_with('/') {
        return Ok(pattern.strip_prefix("./").unwrap_or(pattern));
    }
    let base = base.to_string_lossy();
    pattern
        .strip_prefix(base.as_ref())
        .and_then(|rest| rest.strip_prefix('/'))
        .ok_or_else(|| ToolError::Escapes(pattern.to_string()))
}

/// `grep_search(pattern*, path, context_lines)`: lines matching a regex.
#[derive(Clone, Copy, Debug, Default)]
pub struct GrepSearchTool;

impl Tool for GrepSearchTool {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "grep_search".into(),
            description: "Search file contents with a regular expression (Rust regex syntax). \
                          Searches `path` (a file, or a directory recursively; default: the \
                          working directory), skipping binary files and files ignored by \
                          .gitignore. Reports at most 100 matching lines as `file:line:text`, \
                          sorted by file and line; with context_lines, surrounding lines are \
                          shown as `file-line-text`."
                .into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "pattern": {"type": "string", "description": "The regular expression"},
                    "path": {"type": "string", "description": "A file or directory to search (default: the working directory)"},
                    "context_lines": {"type": "integer", "description": "Lines of context to show before and after each match (default 0, at most 20)"}
                },
                "required": ["pattern"]
            }),
        }
    }

    fn output_cap(&self) -> usize {
        20_000
    }

    fn run(
        &self,
        args: Value,
        workspace: Arc<Workspace>,
    ) -> BoxFuture<Result<ToolOutput, ToolError>> {
        blocking(move || grep(&args, &workspace))
    }
}

fn grep(args: &Value, workspace: &Workspace) -> Result<ToolOutput, ToolError> {
    let args = Args(args);
    let pattern = args.string("pattern")?;
    if pattern.is_empty() {
        return Err(ToolError::InvalidArguments(
            "`pattern` must not be empty".into(),
        ));
    }
    let context = args
        .optional_count("context_lines")?
        .unwrap_or(0)
        .min(MAX_CONTEXT_LINES) as usize;
    let regex = Regex::new(pattern).map_err(|e| ToolError::Regex {
        pattern: pattern.to_string(),
        message: e.to_string(),
    })?;
    let target = args.optional_string("path")?.unwrap_or("");
    let resolved = workspace.resolve(target)?;
    let shown = workspace.relative(&resolved);
    let meta = std::fs::metadata(&resolved).map_err(|e| io_error(&shown, e))?;
    let files: Vec<(String, PathBuf)> = if meta.is_dir() {
        let mut files: Vec<_> = walk(&resolved)
            .map(|path| (workspace.relative(&path), path))
            .collect();
        files.sort();
        files
    } else {
        let bytes = std::fs::read(&resolved).map_err(|e| io_error(&shown, e))?;
        if looks_binary(&bytes) {
            return Err(ToolError::Binary(shown));
        }
        vec![(shown, resolved)]
    };
    let mut search = Search {
        regex: &regex,
        context,
        hits: 0,
        limited: false,
        out: String::new(),
    };
    for (shown, path) in &files {
        if search.limited {
            break;
        }
        search.file(shown, path);
    }
    if search.hits == 0 {
        return Ok(ToolOutput::text(format!("No matches for {pattern:?}")));
    }
    if search.limited {
        search.out.push_str(&format!(
            "[stopped at {MAX_GREP_HITS} matching lines; narrow the pattern or the path to see the rest]\n"
        ));
    }
    Ok(ToolOutput::text(search.out))
}

/// One search in progress.
struct Search<'a> {
    regex: &'a Regex,
    context: usize,
    hits: usize,
    /// There were more hits than [`MAX_GREP_HITS`].
    limited: bool,
    out: String,
}

impl Search<'_> {
    /// Searches one file (unreadable, binary and huge files are skipped).
    fn file(&mut self, shown: &str, path: &Path) {
        let too_big = std::fs::metadata(path).map_or(true, |m| m.len() > MAX_GREP_FILE_BYTES);
        if too_big {
            return;
        }
        let Ok(bytes) = std::fs::read(path) else {
            return;
        };
        if looks_binary(&bytes) {
            return;
        }
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.lines().collect();
        let mut matched = Vec::new();
        for (index, line) in lines.iter().enumerate() {
            if self.regex.is_match(line) {
                if self.hits == MAX_GREP_HITS {
                    self.limited = true;
                    break;
                }
                self.hits += 1;
                matched.push(index);
            }
        }
        if !matched.is_empty() {
            self.render(shown, &lines, &matched);
        }
    }

    /// Hits as `file:line:text`, context as `file-line-text`, and `--`
    /// between groups that are not adjacent (with context).
    fn render(&mut self, shown: &str, lines: &[&str], matched: &[usize]) {
        let mut printed: Option<usize> = None;
        for &hit in matched {
            let mut start = hit.saturating_sub(self.context);
            let end = (hit + self.context).min(lines.len() - 1);
            match printed {
                Some(last) if end <= last => continue,
                Some(last) => {
                    if start > last + 1 {
                        self.out.push_str("--\n");
                    }
                    start = start.max(last + 1);
                }
                None if self.context > 0 && !self.out.is_empty() => self.out.push_str("--\n"),
                None => {}
            }
            for (index, line) in lines.iter().enumerate().take(end + 1).skip(start) {
                let sep = if matched.binary_search(&index).is_ok() {
                    ':'
                } else {
                    '-'
                };
                let line = cut(line);
                self.out
                    .push_str(&format!("{shown}{sep}{}{sep}{line}\n", index + 1));
            }
            printed = Some(end);
        }
    }
}

/// `line`, cut to [`MAX_LINE_CHARS`] characters.
fn cut(line: &str) -> std::borrow::Cow<'_, str> {
    match line.char_indices().nth(MAX_LINE_CHARS) {
        Some((at, _)) => format!("{}[...]", &line[..at]).into(),
        None => line.into(),
    }
}

/// The directory `path` names in the workspace.
fn directory(workspace: &Workspace, path: &str) -> Result<PathBuf, ToolError> {
    let dir = workspace.resolve(path)?;
    let shown = workspace.relative(&dir);
    match std::fs::metadata(&dir) {
        Ok(meta) if meta.is_dir() => Ok(dir),
        Ok(_) => Err(ToolError::NotADirectory(shown)),
        Err(e) => Err(io_error(&shown, e)),
    }
}

/// The regular files under `base`, in no particular order: `.git` skipped,
/// ignore files respected, symlinks not followed, unreadable entries skipped.
fn walk(base: &Path) -> impl Iterator<Item = PathBuf> {
    ignore::WalkBuilder::new(base)
        .hidden(false)
        .git_global(false)
        .require_git(false)
        .follow_links(false)
        .filter_entry(|entry| entry.file_name() != ".git")
        .build()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_some_and(|t| t.is_file()))
        .map(ignore::DirEntry::into_path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::{self, File};
    use std::time::{Duration, UNIX_EPOCH};

    fn setup() -> (tempfile::TempDir, Arc<Workspace>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let ws = Workspace::new(dir.path()).expect("workspace");
        (dir, Arc::new(ws))
    }

    fn touch(dir: &Path, path: &str, content: &str, seconds: u64) {
        let file = dir.join(path);
        fs::create_dir_all(file.parent().expect("parent")).expect("dirs");
        fs::write(&file, content).expect("write");
        File::options()
            .write(true)
            .open(&file)
            .expect("open")
            .set_modified(UNIX_EPOCH + Duration::from_secs(seconds))
            .expect("mtime");
    }

    async fn run(tool: &dyn Tool, ws: &Arc<Workspace>, args: Value) -> Result<String, ToolError> {
        tool.run(args, ws.clone()).await.map(|o| o.content)
    }

    #[tokio::test]
    async fn glob_lists_newest_first_then_by_path() {
        let (dir, ws) = setup();
        touch(dir.path(), "old.rs", "", 1_000);
        touch(dir.path(), "src/b.rs", "", 3_000);
        touch(dir.path(), "src/a.rs", "", 3_000);
        touch(dir.path(), "src/deep/c.rs", "", 2_000);
        touch(dir.path(), "src/notes.txt", "", 4_000);
        touch(dir.path(), ".git/config.rs", "", 5_000);
        let all = run(&GlobTool, &ws, json!({"pattern": "**/*.rs"}))
            .await
            .expect("glob");
        assert_eq!(all, "src/a.rs\nsrc/b.rs\nsrc/deep/c.rs\nold.rs\n");
        let top = run(&GlobTool, &ws, json!({"pattern": "*.rs"}))
            .await
            .expect("glob");
        assert_eq!(top, "old.rs\n");
        let under = run(&GlobTool, &ws, json!({"pattern": "*.rs", "path": "src"}))
            .await
            .expect("glob");
        assert_eq!(under, "src/a.rs\nsrc/b.rs\n");
        let none = run(&GlobTool, &ws, json!({"pattern": "*.py"}))
            .await
            .expect("glob");
        assert_eq!(none, "No files match \"*.py\"");
    }

    #[tokio::test]
    async fn glob_respects_gitignore_and_refuses_bad_input() {
        let (dir, ws) = setup();
        touch(dir.path(), ".gitignore", "target/\n", 1);
        touch(dir.path(), "target/out.rs", "", 2);
        touch(dir.path(), "lib.rs", "", 3);
        let found = run(&GlobTool, &ws, json!({"pattern": "**/*.rs"}))
            .await
            .expect("glob");
        assert_eq!(found, "lib.rs\n");
        let bad = run(&GlobTool, &ws, json!({"pattern": "[a"})).await;
        assert!(matches!(bad, Err(ToolError::Glob { .. })));
        let outside = run(&GlobTool, &ws, json!({"pattern": "*", "path": ".."})).await;
        assert!(matches!(outside, Err(ToolError::Escapes(_))));
        let absolute = run(&GlobTool, &ws, json!({"pattern": "/etc/*"})).await;
        assert!(matches!(absolute, Err(ToolError::Escapes(_))));
        let inside = format!("{}/*.rs", ws.root().display());
        let found = run(&GlobTool, &ws, json!({"pattern": inside}))
            .await
            .expect("glob");
        assert_eq!(found, "lib.rs\n");
    }

    #[tokio::test]
    async fn grep_reports_sorted_hits() {
        let (dir, ws) = setup();
        touch(dir.path(), "b.txt", "one\ntwo fish\nthree\n", 1);
        touch(dir.path(), "a/z.txt", "fish\n", 1);
        touch(dir.path(), "bin.dat", "fish\0fish", 1);
        touch(dir.path(), ".git/fish", "fish\n", 1);
        let out = run(&GrepSearchTool, &ws, json!({"pattern": "fi.h"}))
            .await
            .expect("grep");
        assert_eq!(out, "a/z.txt:1:fish\nb.txt:2:two fish\n");
        let one = run(
            &GrepSearchTool,
            &ws,
            json!({"pattern": "^t", "path": "b.txt"}),
        )
        .await
        .expect("grep");
        assert_eq!(one, "b.txt:2:two fish\nb.txt:3:three\n");
        let none = run(&GrepSearchTool, &ws, json!({"pattern": "whale"}))
            .await
            .expect("grep");
        assert_eq!(none, "No matches for \"whale\"");
    }

    #[tokio::test]
    async fn grep_shows_context_lines() {
        let (dir, ws) = setup();
        let text: String = (1..=12).map(|i| format!("l{i}\n")).collect();
        touch(dir.path(), "f.txt", &text, 1);
        touch(dir.path(), "g.txt", "l2\n", 1);
        let out = run(
            &GrepSearchTool,
            &ws,
            json!({"pattern": "^l(2|4|11)$", "context_lines": 1}),
        )
        .await
        .expect("grep");
        assert_eq!(
            out,
            "f.txt-1-l1\nf.txt:2:l2\nf.txt-3-l3\nf.txt:4:l4\nf.txt-5-l5\n--\n\
             f.txt-10-l10\nf.txt:11:l11\nf.txt-12-l12\n--\ng.txt:1:l2\n"
        );
    }

    #[tokio::test]
    async fn grep_stops_at_the_hit_limit() {
        let (dir, ws) = setup();
        let text = "hit\n".repeat(150);
        touch(dir.path(), "many.txt", &text, 1);
        let out = run(&GrepSearchTool, &ws, json!({"pattern": "hit"}))
            .await
            .expect("grep");
        let hits = out.lines().filter(|l| l.starts_with("many.txt:")).count();
        assert_eq!(hits, MAX_GREP_HITS);
        assert!(out.contains("many.txt:100:hit\n"));
        assert!(out.ends_with(
            "[stopped at 100 matching lines; narrow the pattern or the path to see the rest]\n"
        ));
        // Exactly the limit is not reported as cut.
        touch(dir.path(), "many.txt", &"hit\n".repeat(100), 1);
        let out = run(&GrepSearchTool, &ws, json!({"pattern": "hit"}))
            .await
            .expect("grep");
        assert!(!out.contains("stopped"));
    }

    #[tokio::test]
    async fn grep_refuses_bad_regexes_and_paths() {
        let (dir, ws) = setup();
        let bad = run(&GrepSearchTool, &ws, json!({"pattern": "a(b"})).await;
        assert!(matches!(bad, Err(ToolError::Regex { .. })));
        let missing = run(
            &GrepSearchTool,
            &ws,
            json!({"pattern": "a", "path": "nope"}),
        )
        .await;
        assert!(matches!(missing, Err(ToolError::NotFound(_))));
        let outside = run(
            &GrepSearchTool,
            &ws,
            json!({"pattern": "a", "path": "/etc"}),
        )
        .await;
        assert!(matches!(outside, Err(ToolError::Escapes(_))));
        touch(dir.path(), "bin", "a\0", 1);
        let binary = run(&GrepSearchTool, &ws, json!({"pattern": "a", "path": "bin"})).await;
        assert!(matches!(binary, Err(ToolError::Binary(_))));
        let context = run(
            &GrepSearchTool,
            &ws,
            json!({"pattern": "a", "context_lines": "x"}),
        )
        .await;
        assert!(
            matches!(context, Err(ToolError::InvalidArguments(m)) if m.contains("context_lines"))
        );
    }

    #[test]
    fn long_lines_are_cut_on_character_boundaries() {
        let line = "é".repeat(MAX_LINE_CHARS + 10);
        let cut = cut(&line);
        assert_eq!(cut.chars().count(), MAX_LINE_CHARS + "[...]".len());
        assert_eq!(super::cut("short"), "short");
    }
}
