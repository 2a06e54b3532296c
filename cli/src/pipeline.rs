//! Resolving a pipeline argument: a path, a local `<name>.dip`, or a built-in.
//!
//! The order is the reference's: an argument containing a path separator or ending
//! in `.dip`, `.dipx` or `.dot` is a path; otherwise `./<name>.dip`, then
//! `./<name>`, then a built-in workflow of that name.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use tracker_actors::run_dir::{self, RunDirError, WorkflowCopy};

use crate::workflows::{self, Builtin};

/// Where a pipeline comes from.
#[derive(Clone, Debug)]
pub enum PipelineSource {
    /// A file on disk.
    File(PathBuf),
    /// A run's copy of its pipeline (`workflow.dip`), whose file directives and
    /// subgraphs resolve against `base`, the directory the original was in.
    RunCopy {
        /// The copy in the run directory.
        copy: PathBuf,
        /// The original pipeline's directory.
        base: PathBuf,
    },
    /// An embedded workflow.
    Builtin(&'static Builtin),
}

impl PipelineSource {
    /// The pipeline a run resumed without its pipeline argument reloads: its
    /// own copy, resolving against the original's directory when recorded.
    pub fn of_run(dir: &Path) -> Result<PipelineSource, RunDirError> {
        Ok(match run_dir::resumable_workflow(dir)? {
            (copy, Some(base)) => PipelineSource::RunCopy { copy, base },
            (copy, None) => PipelineSource::File(copy),
        })
    }

    /// The directory a new run records as its pipeline's, made absolute.
    pub fn recorded_base(&self) -> Option<PathBuf> {
        self.base_dir()
            .map(|dir| std::fs::canonicalize(&dir).unwrap_or(dir))
    }

    /// The copy of this pipeline, whose text is `text`, a new run keeps
    /// (`base` from [`recorded_base`](Self::recorded_base)).
    pub fn run_copy<'a>(&self, text: &'a str, base: Option<&'a Path>) -> WorkflowCopy<'a> {
        let dot = matches!(self, PipelineSource::File(p)
            if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("dot")));
        WorkflowCopy { text, dot, base }
    }

    /// How to refer to the pipeline in messages.
    pub fn display_name(&self) -> String {
        match self {
            PipelineSource::File(path) | PipelineSource::RunCopy { copy: path, .. } => {
                path.display().to_string()
            }
            PipelineSource::Builtin(b) => b.name.to_string(),
        }
    }

    /// The file it was read from, if any.
    pub fn file(&self) -> Option<&Path> {
        match self {
            PipelineSource::File(path) | PipelineSource::RunCopy { copy: path, .. } => Some(path),
            PipelineSource::Builtin(_) => None,
        }
    }

    /// The directory its file directives and subgraphs are relative to.
    pub fn base_dir(&self) -> Option<PathBuf> {
        match self {
            PipelineSource::File(path) => Some(match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            }),
            PipelineSource::RunCopy { base, .. } => Some(base.clone()),
            PipelineSource::Builtin(_) => None,
        }
    }
}

/// Resolves `arg` relative to `cwd`. Paths need not be UTF-8; names of
/// built-in workflows are.
pub fn resolve(arg: impl AsRef<OsStr>, cwd: &Path) -> Result<PipelineSource> {
    let arg = arg.as_ref();
    let bytes = arg.as_encoded_bytes();
    let looks_like_path = bytes.contains(&b'/')
        || bytes.contains(&b'\\')
        || [".dip", ".dipx", ".dot"]
            .iter()
            .any(|ext| bytes.ends_with(ext.as_bytes()));
    if looks_like_path {
        return Ok(PipelineSource::File(PathBuf::from(arg)));
    }
    let mut local_dip = arg.to_os_string();
    local_dip.push(".dip");
    if cwd.join(&local_dip).is_file() {
        return Ok(PipelineSource::File(PathBuf::from(local_dip)));
    }
    if cwd.join(arg).is_file() {
        return Ok(PipelineSource::File(PathBuf::from(arg)));
    }
    if let Some(builtin) = arg.to_str().and_then(workflows::find) {
        return Ok(PipelineSource::Builtin(builtin));
    }
    let name = arg.to_string_lossy();
    bail!(
        "unknown pipeline {name:?}: no file ./{name}.dip and no built-in workflow of that name (built-ins: {})",
        workflows::names().join(", ")
    )
}

/// Loads a resolved pipeline into a document.
pub fn load(source: &PipelineSource) -> Result<dippin::Document> {
    Ok(match source {
        PipelineSource::File(path) => dippin::load_file(path)?,
        PipelineSource::RunCopy { copy, base } => {
            let text = std::fs::read_to_string(copy)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", copy.display()))?;
            dippin::load_str(copy.clone(), &text, Some(base))
        }
        PipelineSource::Builtin(b) => dippin::load_str(format!("{}.dip", b.name), b.source, None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_names_and_builtins_resolve_in_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(matches!(
            resolve("x/y.dip", dir.path()),
            Ok(PipelineSource::File(_))
        ));
        assert!(matches!(
            resolve("quickstart", dir.path()),
            Ok(PipelineSource::Builtin(_))
        ));
        std::fs::write(dir.path().join("quickstart.dip"), "x").expect("write");
        assert!(matches!(
            resolve("quickstart", dir.path()),
            Ok(PipelineSource::File(_))
        ));
        let err = resolve("nope", dir.path()).expect_err("unknown name");
        assert!(err.to_string().contains("built-ins: quickstart"));
    }
}
