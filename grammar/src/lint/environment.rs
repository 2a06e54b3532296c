//! Lints that look at the machine: `bash -n`, `PATH`, and referenced files.
//!
//! * `DIP123` (warning) — `bash -n` rejects a tool command (skipped when bash is absent);
//! * `DIP125` (hint) — a tool command's first word is neither a shell builtin or keyword,
//!   nor an executable on `PATH`, nor an existing path;
//! * `DIP126` (warning) — a subgraph `ref` names no file;
//! * `DIP135` (warning, file half) — a manager_loop `subgraph_ref` names no file;
//! * `DIP143` (hint) — the workflow uses `tool_access` and runs child workflows, which it
//!   does not cover;
//! * `DIP146` (hint, cross-file) — this workflow restricts an agent but a child restricts
//!   none;
//! * `DIP160` (warning, cross-file) — a subgraph call omits a required child input.
//!
//! References resolve relative to [`LintOptions::base_dir`] (the current directory when
//! it is unset), with `.dip` appended to a path without an extension. Children are read
//! one level deep only, each at most once, so reference cycles cannot recurse.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::ir::{Node, NodeConfig, Workflow};

use super::LintOptions;

/// Appends environment-dependent findings for `wf` to `out`.
pub fn lint(wf: &Workflow, options: &LintOptions, out: &mut Vec<Diagnostic>) {
    let base = options.base_dir.as_deref();
    let mut bash = Bash::Unknown;
    let mut on_path: HashMap<String, bool> = HashMap::new();
    for node in &wf.nodes {
        if let Some(tool) = node.tool() {
            if tool.command.trim().is_empty() {
                continue;
            }
            if let Some(error) = bash.syntax_error(&tool.command) {
                out.push(
                    Diagnostic::warning(
                        Code(123),
                        format!(
                            "tool node \"{}\" command has a bash syntax error: {error}",
                            node.id
                        ),
                    )
                    .with_span(node.span)
                    .with_help("reported by `bash -n`; line numbers count from the first line of the command"),
                );
            }
            check_first_word(node, &tool.command, base, &mut on_path, out);
        }
    }
    check_children(wf, base, out);
}

/// Whether `bash` can be run, learnt from the first attempt.
enum Bash {
    /// Not tried yet.
    Unknown,
    /// It ran.
    Available,
    /// It could not be started: skip every check.
    Missing,
}

impl Bash {
    /// The first line of bash's complaint about `command`, or `None` when the
    /// syntax is fine or bash cannot be run.
    fn syntax_error(&mut self, command: &str) -> Option<String> {
        if matches!(self, Bash::Missing) {
            return None;
        }
        let spawned = Command::new("bash")
            .args(["--norc", "--noprofile", "-n"])
            .env_remove("BASH_ENV")
            .env_remove("ENV")
            .env("LC_ALL", "C")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(_) => {
                *self = Bash::Missing;
                return None;
            }
        };
        *self = Bash::Available;
        // Feed stdin from a thread so a large command cannot deadlock against stderr.
        let writer = child.stdin.take().map(|mut stdin| {
            let text = command.to_owned();
            std::thread::spawn(move || {
                // bash may stop reading at the first error; a broken pipe is fine.
                let _ = stdin.write_all(text.as_bytes());
            })
        });
        let output = child.wait_with_output().ok()?;
        if let Some(writer) = writer {
            let _ = writer.join();
        }
        if output.status.success() {
            return None;
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let line = stderr
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(|l| l.strip_prefix("bash: ").unwrap_or(l).to_string());
        Some(line.unwrap_or_else(|| format!("bash -n exited with {}", output.status)))
    }
}

/// Shell keywords and builtins: a command starting with one needs nothing on `PATH`.
const SHELL_WORDS: &[&str] = &[
    // keywords
    "if",
    "then",
    "else",
    "elif",
    "fi",
    "case",
    "esac",
    "for",
    "select",
    "while",
    "until",
    "do",
    "done",
    "in",
    "function",
    "time",
    "{",
    "}",
    "!",
    "[[",
    "]]",
    "coproc",
    // builtins
    ":",
    ".",
    "[",
    "alias",
    "bg",
    "bind",
    "break",
    "builtin",
    "caller",
    "cd",
    "command",
    "compgen",
    "complete",
    "compopt",
    "continue",
    "declare",
    "dirs",
    "disown",
    "echo",
    "enable",
    "eval",
    "exec",
    "exit",
    "export",
    "false",
    "fc",
    "fg",
    "getopts",
    "hash",
    "help",
    "history",
    "jobs",
    "kill",
    "let",
    "local",
    "logout",
    "mapfile",
    "popd",
    "printf",
    "pushd",
    "pwd",
    "read",
    "readarray",
    "readonly",
    "return",
    "set",
    "shift",
    "shopt",
    "source",
    "suspend",
    "test",
    "times",
    "trap",
    "true",
    "type",
    "typeset",
    "ulimit",
    "umask",
    "unalias",
    "unset",
    "wait",
];

/// The word a command runs first, or `None` when it starts with a shebang, a variable
/// assignment, a builtin or keyword, or other shell syntax (expansion, quoting,
/// redirection, grouping) that makes the program unknowable without running it.
fn first_command_word(command: &str) -> Option<&str> {
    if command.trim_start().starts_with("#!") {
        return None;
    }
    let line = command
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))?;
    let end = line
        .find(|c: char| c.is_whitespace() || matches!(c, ';' | '|' | '&' | '<' | '>' | '(' | ')'))
        .unwrap_or(line.len());
    let word = &line[..end];
    if word.is_empty() || SHELL_WORDS.contains(&word) {
        return None;
    }
    if word.contains(|c: char| {
        matches!(
            c,
            '=' | '$' | '`' | '"' | '\'' | '\\' | '*' | '?' | '{' | '}' | '[' | ']' | '~' | '!'
        )
    }) {
        return None;
    }
    Some(word)
}

/// `DIP125`: the first command word must be runnable.
fn check_first_word(
    node: &Node,
    command: &str,
    base: Option<&Path>,
    on_path: &mut HashMap<String, bool>,
    out: &mut Vec<Diagnostic>,
) {
    let Some(word) = first_command_word(command) else {
        return;
    };
    let (found, message, fix) = if word.contains('/') {
        let path = Path::new(word);
        let found = path.exists() || base.is_some_and(|b| b.join(path).exists());
        (
            found,
            format!(
                "tool node \"{}\" runs \"{word}\", which does not exist",
                node.id
            ),
            format!(
                "check the path \"{word}\" (relative paths resolve from the working directory)"
            ),
        )
    } else {
        let found = *on_path
            .entry(word.to_string())
            .or_insert_with(|| executable_on_path(word));
        (
            found,
            format!(
                "tool node \"{}\" runs \"{word}\", which is not on PATH",
                node.id
            ),
            format!("install \"{word}\" or call it by its full path"),
        )
    };
    if !found {
        out.push(
            Diagnostic::new(Code(125), Severity::Hint, message)
                .with_span(node.span)
                .with_help("this depends on the machine the pipeline runs on")
                .with_fix(fix),
        );
    }
}

/// Whether some `PATH` directory holds an executable file called `name`.
fn executable_on_path(name: &str) -> bool {
    let Some(paths) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&paths).any(|dir| is_executable(&dir.join(name)))
}

/// Whether `path` is a file the current user could execute.
fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        true
    }
}

/// Where a child reference points.
struct Resolved {
    /// The file found, or the path that was looked for.
    path: PathBuf,
    /// Whether `path` is an existing file.
    found: bool,
}

/// Resolves a `ref` / `subgraph_ref` against `base`, trying `<ref>.dip` when the
/// reference has no extension.
fn resolve(reference: &str, base: Option<&Path>) -> Resolved {
    let written = Path::new(reference);
    let full = match base {
        Some(dir) if !written.is_absolute() => dir.join(written),
        _ => written.to_path_buf(),
    };
    if written.extension().is_none() {
        let mut with_ext: OsString = full.clone().into_os_string();
        with_ext.push(".dip");
        let with_ext = PathBuf::from(with_ext);
        if with_ext.is_file() {
            return Resolved {
                path: with_ext,
                found: true,
            };
        }
        if full.is_file() {
            return Resolved {
                path: full,
                found: true,
            };
        }
        return Resolved {
            path: with_ext,
            found: false,
        };
    }
    let found = full.is_file();
    Resolved { path: full, found }
}

/// Whether an agent (or a parallel branch override) sets `tool_access: none`.
fn restricts_some_agent(wf: &Workflow) -> bool {
    wf.nodes.iter().any(|node| match &node.config {
        NodeConfig::Agent(a) => a.tool_access.eq_ignore_ascii_case("none"),
        NodeConfig::Parallel(p) => p
            .branches
            .iter()
            .any(|b| b.tool_access.eq_ignore_ascii_case("none")),
        _ => false,
    })
}

/// Whether any agent (or branch override) sets `tool_access` at all.
fn uses_tool_access(wf: &Workflow) -> bool {
    wf.nodes.iter().any(|node| match &node.config {
        NodeConfig::Agent(a) => !a.tool_access.is_empty(),
        NodeConfig::Parallel(p) => p.branches.iter().any(|b| !b.tool_access.is_empty()),
        _ => false,
    })
}

/// `DIP126`, `DIP135`, `DIP143`, `DIP146` and `DIP160`: subgraph and manager_loop
/// children.
fn check_children(wf: &Workflow, base: Option<&Path>, out: &mut Vec<Diagnostic>) {
    let parent_restricts = restricts_some_agent(wf);
    let mut first_child: Option<(&Node, &str)> = None;
    let mut loaded: HashMap<PathBuf, Option<Workflow>> = HashMap::new();

    for node in &wf.nodes {
        let (reference, is_subgraph) = match &node.config {
            NodeConfig::Subgraph(s) => (s.reference.trim(), true),
            NodeConfig::ManagerLoop(m) => (m.subgraph_ref.trim(), false),
            _ => continue,
        };
        if reference.is_empty() {
            continue;
        }
        first_child.get_or_insert((node, reference));

        let resolved = resolve(reference, base);
        if !resolved.found {
            out.push(missing_child(node, reference, &resolved.path, is_subgraph));
            continue;
        }

        // One level deep: the child is read, never its own children.
        let child = loaded
            .entry(resolved.path.clone())
            .or_insert_with(|| load_child(&resolved.path));
        let Some(child) = child.as_ref() else {
            continue;
        };

        let child_has_agents = child.nodes.iter().any(|n| n.agent().is_some());
        if parent_restricts && child_has_agents && !restricts_some_agent(child) {
            out.push(
                Diagnostic::new(
                    Code(146),
                    Severity::Hint,
                    format!(
                        "node \"{}\" runs child \"{reference}\", which restricts no agent with tool_access: none while this workflow does",
                        node.id
                    ),
                )
                .with_span(node.span)
                .with_help("tool_access does not carry into child workflows")
                .with_fix(format!(
                    "set tool_access: none on the agents in \"{reference}\" that should not run tools"
                )),
            );
        }

        if let NodeConfig::Subgraph(sub) = &node.config {
            for input in &child.inputs {
                if input.required && !input.has_default && !sub.params.contains_key(&input.name) {
                    out.push(
                        Diagnostic::warning(
                            Code(160),
                            format!(
                                "subgraph node \"{}\" does not pass required input \"{}\" of child \"{reference}\"",
                                node.id, input.name
                            ),
                        )
                        .with_span(node.span)
                        .with_fix(format!("add \"{}: <value>\" under params", input.name)),
                    );
                }
            }
        }
    }

    if let Some((node, reference)) = first_child {
        if uses_tool_access(wf) {
            out.push(
                Diagnostic::new(
                    Code(143),
                    Severity::Hint,
                    format!(
                        "this workflow sets tool_access but node \"{}\" runs child workflow \"{reference}\", which it does not cover",
                        node.id
                    ),
                )
                .with_span(node.span)
                .with_help("tool_access applies only to agents in this file; each child workflow sets its own"),
            );
        }
    }
}

/// The `DIP126` / `DIP135` warning for a reference that names no file.
fn missing_child(node: &Node, reference: &str, looked_for: &Path, is_subgraph: bool) -> Diagnostic {
    let help = format!("looked for {}", looked_for.display());
    if is_subgraph {
        let bare_name = !reference.contains('/') && Path::new(reference).extension().is_none();
        let message = if bare_name {
            format!(
                "subgraph node \"{}\" ref \"{reference}\" matches no file; it may name a built-in or registered workflow",
                node.id
            )
        } else {
            format!(
                "subgraph node \"{}\" ref \"{reference}\" does not exist",
                node.id
            )
        };
        Diagnostic::warning(Code(126), message)
            .with_span(node.span)
            .with_help(help)
            .with_fix("create the file or fix the path (relative to this file's directory)")
    } else {
        Diagnostic::warning(
            Code(135),
            format!(
                "manager_loop node \"{}\" subgraph_ref \"{reference}\" does not exist",
                node.id
            ),
        )
        .with_span(node.span)
        .with_help(help)
        .with_fix("create the file or fix the path (relative to this file's directory)")
    }
}

/// The child's workflow, or `None` when it cannot be read or does not parse. Only
/// a regular file of at most [`crate::MAX_CHILD_WORKFLOW_BYTES`] is read, and reading cannot block.
fn load_child(path: &Path) -> Option<Workflow> {
    let doc = crate::load_file_limited(path, crate::MAX_CHILD_WORKFLOW_BYTES).ok()?;
    if doc.has_errors() {
        return None;
    }
    Some(doc.workflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The cases of the other environment lints live in the lint corpus
    // (`tests/data/lints`). These two stay: the corpus tolerates an unlisted DIP125
    // "not on PATH" hint (it depends on the machine), so it cannot show the commands the
    // program scan must skip; and DIP123's message is bash's own, so the corpus names only
    // its start, while this checks that bash's "bash: " prefix is cut and that a machine
    // without bash skips the check.

    fn lint_src(src: &str, base: Option<&Path>) -> Vec<Diagnostic> {
        let (wf, diags) = crate::parse_dip(src);
        assert!(diags.is_empty(), "parse diagnostics: {diags:?}");
        let options = LintOptions {
            base_dir: base.map(Path::to_path_buf),
            environment: true,
        };
        let mut out = Vec::new();
        lint(&wf, &options, &mut out);
        out
    }

    fn with_code(diags: &[Diagnostic], code: u16) -> Vec<&Diagnostic> {
        diags.iter().filter(|d| d.code == Code(code)).collect()
    }

    fn tool_workflow(command: &str) -> String {
        let mut src = String::from(
            "workflow Demo\n  start: Plan\n  exit: Done\n  agent Plan\n    prompt: go\n  tool Run\n    timeout: 10s\n    command:\n",
        );
        for line in command.lines() {
            src.push_str("      ");
            src.push_str(line);
            src.push('\n');
        }
        src.push_str("  agent Done\n    prompt: bye\n  edges\n    Plan -> Run\n    Run -> Done\n");
        src
    }

    fn bash_available() -> bool {
        Command::new("bash")
            .args(["-c", "true"])
            .status()
            .is_ok_and(|s| s.success())
    }

    #[test]
    fn dip123_bash_syntax_error() {
        let diags = lint_src(&tool_workflow("if true; then\n  echo hi\n"), None);
        let found = with_code(&diags, 123);
        if !bash_available() {
            assert!(found.is_empty(), "bash missing must skip: {diags:?}");
            return;
        }
        assert_eq!(found.len(), 1, "{diags:?}");
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(
            found[0]
                .message
                .starts_with("tool node \"Run\" command has a bash syntax error: "),
            "{}",
            found[0].message
        );
        assert!(
            found[0].message.contains("syntax error"),
            "{}",
            found[0].message
        );
        assert!(!found[0].message.contains("bash: "), "{}", found[0].message);
    }

    #[test]
    fn dip125_skips_builtins_assignments_shebangs_and_syntax() {
        for command in [
            "echo hi",
            "cd /tmp && dippin-no-such-program-xyz",
            "FOO=1 dippin-no-such-program-xyz",
            "#!/bin/sh\ndippin-no-such-program-xyz",
            "# a comment\nset -e\n",
            "$TOOL run",
            "(dippin-no-such-program-xyz)",
            "[ -f x ] && echo y",
            "\"quoted\" arg",
        ] {
            let diags = lint_src(&tool_workflow(command), None);
            assert!(with_code(&diags, 125).is_empty(), "{command:?}: {diags:?}");
        }
    }
}
