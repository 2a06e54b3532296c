//! File directives: `prompt_file`, `system_prompt_file`, `command_file`,
//! `prompt_include` and the defaults prompt cascade files, read relative to the
//! `.dip` file's directory.
//!
//! Paths must stay inside that directory: absolute paths, `..` escapes and a
//! symlinked final component are refused, and so is a path whose symlinked
//! directory leads outside it (the canonical file must lie under the canonical
//! directory). Only regular files are read, never more than 4 MiB of them, and
//! never in a way that can block: a FIFO or a device is refused before it is
//! opened, and the open itself does not wait.
//! After loading, each agent's prompt is composed as the reference does:
//! defaults prefix, body, include, defaults suffix, joined by blank lines
//! (agents with no body are left empty).

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::ir::{NodeConfig, Workflow};

/// Largest file a directive may load.
pub const MAX_DIRECTIVE_BYTES: u64 = 4 * 1024 * 1024;

/// Why one directive could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DirectiveError {
    /// The path is absolute or climbs out of the workflow's directory.
    #[error("path {0:?} must be relative and stay inside the workflow's directory")]
    Escapes(String),
    /// The final component is a symbolic link.
    #[error("path {0:?} is a symbolic link, which is not allowed")]
    Symlink(String),
    /// A symbolic link among the directories leads outside the workflow's directory.
    #[error(
        "path {0:?} leads outside the workflow's directory through a symbolic link, which is not allowed"
    )]
    Outside(String),
    /// The path names a directory, FIFO, socket or device.
    #[error("path {0:?} is not a regular file")]
    NotAFile(String),
    /// The file is larger than [`MAX_DIRECTIVE_BYTES`].
    #[error("file {0:?} is larger than 4 MiB")]
    TooLarge(String),
    /// The file could not be read.
    #[error("cannot read {path:?}: {source}")]
    Io {
        /// The path as written.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// Why [`read_regular_file`] read nothing.
#[derive(Debug, thiserror::Error)]
pub enum ReadFileError {
    /// The path names a directory, FIFO, socket or device.
    #[error("not a regular file")]
    NotAFile,
    /// The file holds more than the limit.
    #[error("larger than {0} bytes")]
    TooLarge(u64),
    /// The file could not be opened or read.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl From<ReadFileError> for std::io::Error {
    fn from(err: ReadFileError) -> std::io::Error {
        match err {
            ReadFileError::Io(err) => err,
            other => std::io::Error::new(std::io::ErrorKind::InvalidInput, other.to_string()),
        }
    }
}

/// Reads the regular file at `path` (symbolic links followed), refusing anything
/// else and anything over `limit` bytes.
///
/// It cannot block or read without bound: the type is checked before opening, the
/// open does not wait for a FIFO's writer (`O_NONBLOCK`, in case the path was
/// swapped in between), the opened file's type is checked again, and at most
/// `limit + 1` bytes are read whatever size the file claims.
pub fn read_regular_file(path: &Path, limit: u64) -> Result<Vec<u8>, ReadFileError> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(ReadFileError::NotAFile);
    }
    if meta.len() > limit {
        return Err(ReadFileError::TooLarge(limit));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(ReadFileError::NotAFile);
    }
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadFileError::TooLarge(limit));
    }
    Ok(bytes)
}

/// Reads one directive's file.
pub fn read_directive(dir: &Path, written: &str) -> Result<String, DirectiveError> {
    let io = |source: std::io::Error| DirectiveError::Io {
        path: written.to_string(),
        source,
    };
    let rel = Path::new(written);
    if rel.is_absolute()
        || rel.components().any(|c| {
            matches!(
                c,
                Component::ParentDir | Component::RootDir | Component::Prefix(_)
            )
        })
    {
        return Err(DirectiveError::Escapes(written.to_string()));
    }
    let path: PathBuf = dir.join(rel);
    let meta = std::fs::symlink_metadata(&path).map_err(io)?;
    if meta.file_type().is_symlink() {
        return Err(DirectiveError::Symlink(written.to_string()));
    }
    // Every component, not only the last: a symlinked directory on the way
    // (`root -> /`, `root/etc/passwd`) must not lead out of the directory.
    let inside = std::fs::canonicalize(dir).map_err(io)?;
    let real = std::fs::canonicalize(&path).map_err(io)?;
    if !real.starts_with(&inside) {
        return Err(DirectiveError::Outside(written.to_string()));
    }
    if !meta.is_file() {
        return Err(DirectiveError::NotAFile(written.to_string()));
    }
    let bytes = read_regular_file(&real, MAX_DIRECTIVE_BYTES).map_err(|err| match err {
        ReadFileError::NotAFile => DirectiveError::NotAFile(written.to_string()),
        ReadFileError::TooLarge(_) => DirectiveError::TooLarge(written.to_string()),
        ReadFileError::Io(source) => io(source),
    })?;
    String::from_utf8(bytes).map_err(|_| {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        ))
    })
}

/// Loads every file directive of `wf` from `dir` and composes agent prompts.
/// Returns one located error per directive that failed.
pub fn resolve_file_directives(wf: &mut Workflow, dir: &Path) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let wf_span = wf.span;
    let load = |written: &str, what: &str, span, out: &mut Vec<Diagnostic>| -> Option<String> {
        if written.is_empty() {
            return None;
        }
        match read_directive(dir, written) {
            Ok(text) => Some(text),
            Err(err) => {
                out.push(Diagnostic::parse(span, format!("{what}: {err}")));
                None
            }
        }
    };
    let d = &wf.defaults;
    let span = d.span.unwrap_or(wf_span);
    let prefix = load(
        &d.prompt_prefix_file,
        "defaults prompt_prefix_file",
        span,
        &mut out,
    )
    .unwrap_or_else(|| d.prompt_prefix.clone());
    let suffix = load(
        &d.prompt_suffix_file,
        "defaults prompt_suffix_file",
        span,
        &mut out,
    )
    .unwrap_or_else(|| d.prompt_suffix.clone());
    let default_system = load(
        &d.system_prompt_file,
        "defaults system_prompt_file",
        span,
        &mut out,
    );
    for node in &mut wf.nodes {
        let id = node.id.clone();
        let span = node.span;
        match &mut node.config {
            NodeConfig::Agent(a) => {
                if let Some(text) = load(
                    &a.prompt_file,
                    &format!("prompt_file for node {id:?}"),
                    span,
                    &mut out,
                ) {
                    a.prompt = text;
                }
                if let Some(text) = load(
                    &a.system_prompt_file,
                    &format!("system_prompt_file for node {id:?}"),
                    span,
                    &mut out,
                ) {
                    a.system_prompt = text;
                } else if a.system_prompt.is_empty() {
                    if let Some(text) = &default_system {
                        a.system_prompt = text.clone();
                    }
                }
                let include = load(
                    &a.prompt_include,
                    &format!("prompt_include for node {id:?}"),
                    span,
                    &mut out,
                );
                if a.prompt.trim().is_empty() {
                    continue;
                }
                let mut parts: Vec<String> = Vec::new();
                if a.prompt_prefix != "none" && !prefix.trim().is_empty() {
                    parts.push(prefix.trim_end().to_string());
                }
                parts.push(a.prompt.clone());
                if let Some(text) = include {
                    parts.push(text.trim_end().to_string());
                }
                if a.prompt_suffix != "none" && !suffix.trim().is_empty() {
                    parts.push(suffix.trim_end().to_string());
                }
                a.prompt = parts.join("\n\n");
            }
            NodeConfig::Tool(t) => {
                if let Some(text) = load(
                    &t.command_file,
                    &format!("command_file for node {id:?}"),
                    span,
                    &mut out,
                ) {
                    t.command = text;
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_escapes_and_missing_files() {
        let dir = std::env::temp_dir();
        assert!(matches!(
            read_directive(&dir, "/etc/passwd"),
            Err(DirectiveError::Escapes(_))
        ));
        assert!(matches!(
            read_directive(&dir, "../x"),
            Err(DirectiveError::Escapes(_))
        ));
        assert!(matches!(
            read_directive(&dir, "definitely-not-here-4242.md"),
            Err(DirectiveError::Io { .. })
        ));
    }

    /// A scratch directory under the system temp dir, removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(test: &str) -> Scratch {
            let dir =
                std::env::temp_dir().join(format!("dippin-resolve-{test}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("create scratch dir");
            Scratch(dir)
        }

        fn write(&self, rel: &str, bytes: &[u8]) {
            let path = self.0.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("create parent");
            }
            std::fs::write(path, bytes).expect("write");
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Runs `read_directive` on another thread and gives up after five seconds,
    /// so a read that blocks or never ends fails the test instead of hanging it.
    fn read_soon(dir: &Path, written: &str) -> Result<String, DirectiveError> {
        let (tx, rx) = std::sync::mpsc::channel();
        let (dir, written) = (dir.to_path_buf(), written.to_string());
        std::thread::spawn(move || {
            let _ = tx.send(read_directive(&dir, &written));
        });
        rx.recv_timeout(std::time::Duration::from_secs(5))
            .expect("reading a directive must not block")
    }

    fn agent_workflow(field: &str) -> String {
        format!("workflow W\n  start: A\n  exit: A\n  agent A\n    {field}\n")
    }

    #[cfg(unix)]
    #[test]
    fn symlinked_directory_leading_outside_is_refused() {
        let scratch = Scratch::new("outside");
        std::os::unix::fs::symlink("/", scratch.0.join("root")).expect("symlink");
        assert!(
            matches!(
                read_soon(&scratch.0, "root/etc/passwd"),
                Err(DirectiveError::Outside(_))
            ),
            "a symlinked directory must not lead out"
        );

        // Through the loader: a located error naming the directive, nothing loaded.
        for field in [
            "prompt_file: root/etc/passwd",
            "system_prompt_file: root/etc/passwd",
            "prompt_include: root/etc/passwd",
        ] {
            let src = agent_workflow(field);
            let file = scratch.0.join("w.dip");
            std::fs::write(&file, &src).expect("write");
            let doc = crate::load_file(&file).expect("loads");
            let directive = field.split(':').next().unwrap_or_default();
            let diag = doc
                .diagnostics
                .iter()
                .find(|d| d.message.contains(directive))
                .unwrap_or_else(|| panic!("no diagnostic for {field}: {:?}", doc.diagnostics));
            assert_eq!(
                diag.message,
                format!(
                    "{directive} for node \"A\": path \"root/etc/passwd\" leads outside the workflow's directory through a symbolic link, which is not allowed"
                )
            );
            assert_eq!(diag.code.0, 0);
            let at = diag.span.expect("located").start;
            // At the node's id.
            assert_eq!(
                at,
                src.find("agent A").expect("node") + "agent ".len(),
                "{diag:?}"
            );
            let agent = doc.workflow.nodes[0].agent().expect("agent");
            assert!(!agent.prompt.contains("root:"), "{}", agent.prompt);
            assert!(!agent.system_prompt.contains("root:"));
        }
    }

    #[cfg(unix)]
    #[test]
    fn symlinked_directory_inside_is_allowed_but_a_symlinked_leaf_is_not() {
        let scratch = Scratch::new("inside");
        scratch.write("shared/plan.md", b"Plan the work.\n");
        std::os::unix::fs::symlink("shared", scratch.0.join("prompts")).expect("symlink");
        assert_eq!(
            read_soon(&scratch.0, "prompts/plan.md").expect("stays inside"),
            "Plan the work.\n"
        );
        // The documented rule for the final component is unchanged, even when the
        // link's target is inside.
        std::os::unix::fs::symlink("shared/plan.md", scratch.0.join("plan.md")).expect("symlink");
        assert!(matches!(
            read_soon(&scratch.0, "plan.md"),
            Err(DirectiveError::Symlink(_))
        ));
    }

    #[cfg(unix)]
    #[test]
    fn fifo_is_refused_without_blocking() {
        let scratch = Scratch::new("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(scratch.0.join("pipe"))
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        assert!(matches!(
            read_soon(&scratch.0, "pipe"),
            Err(DirectiveError::NotAFile(_))
        ));
        // The shared reader refuses it too (a child workflow named by a `ref`).
        assert!(matches!(
            read_regular_file(&scratch.0.join("pipe"), MAX_DIRECTIVE_BYTES),
            Err(ReadFileError::NotAFile)
        ));
        assert!(crate::load_file_limited(&scratch.0.join("pipe"), MAX_DIRECTIVE_BYTES).is_err());

        let src = agent_workflow("prompt_file: pipe");
        std::fs::write(scratch.0.join("w.dip"), &src).expect("write");
        let doc = crate::load_file(&scratch.0.join("w.dip")).expect("loads");
        assert_eq!(
            doc.diagnostics
                .iter()
                .map(|d| d.message.as_str())
                .collect::<Vec<_>>(),
            vec!["prompt_file for node \"A\": path \"pipe\" is not a regular file"]
        );
    }

    #[cfg(unix)]
    #[test]
    fn dev_zero_through_a_link_is_refused_quickly() {
        let scratch = Scratch::new("zero");
        std::os::unix::fs::symlink("/dev", scratch.0.join("dev")).expect("symlink");
        std::os::unix::fs::symlink("/dev/zero", scratch.0.join("zero")).expect("symlink");
        assert!(matches!(
            read_soon(&scratch.0, "dev/zero"),
            Err(DirectiveError::Outside(_))
        ));
        assert!(matches!(
            read_soon(&scratch.0, "zero"),
            Err(DirectiveError::Symlink(_))
        ));
        // A device reports size 0 but never ends: refused by type, not by size.
        assert!(matches!(
            read_regular_file(Path::new("/dev/zero"), MAX_DIRECTIVE_BYTES),
            Err(ReadFileError::NotAFile)
        ));
    }

    #[test]
    fn files_over_4_mib_are_refused() {
        let scratch = Scratch::new("large");
        let limit = MAX_DIRECTIVE_BYTES as usize;
        scratch.write("exact.md", &vec![b'x'; limit]);
        scratch.write("over.md", &vec![b'x'; limit + 1]);
        assert_eq!(
            read_soon(&scratch.0, "exact.md").expect("at the cap").len(),
            limit
        );
        assert!(matches!(
            read_soon(&scratch.0, "over.md"),
            Err(DirectiveError::TooLarge(_))
        ));
        // The reader's own cap holds whatever the caller's limit.
        assert!(matches!(
            read_regular_file(&scratch.0.join("exact.md"), 10),
            Err(ReadFileError::TooLarge(10))
        ));
    }
}
