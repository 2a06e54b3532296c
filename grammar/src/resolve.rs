//! File directives: `prompt_file`, `system_prompt_file`, `command_file`,
//! `prompt_include` and the defaults prompt cascade files, read relative to the
//! `.dip` file's directory.
//!
//! Paths must stay inside that directory: absolute paths, `..` escapes and a
//! symlinked final component are refused, and files over 4 MiB are rejected.
//! After loading, each agent's prompt is composed as the reference does:
//! defaults prefix, body, include, defaults suffix, joined by blank lines
//! (agents with no body are left empty).

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

/// Reads one directive's file.
pub fn read_directive(dir: &Path, written: &str) -> Result<String, DirectiveError> {
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
    let meta = std::fs::symlink_metadata(&path).map_err(|source| DirectiveError::Io {
        path: written.to_string(),
        source,
    })?;
    if meta.file_type().is_symlink() {
        return Err(DirectiveError::Symlink(written.to_string()));
    }
    if meta.len() > MAX_DIRECTIVE_BYTES {
        return Err(DirectiveError::TooLarge(written.to_string()));
    }
    std::fs::read_to_string(&path).map_err(|source| DirectiveError::Io {
        path: written.to_string(),
        source,
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
}
