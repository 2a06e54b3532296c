//! Resolving a pipeline argument: a path, a local `<name>.dip`, or a built-in.
//!
//! The order is the reference's: an argument containing a path separator or ending
//! in `.dip`, `.dipx` or `.dot` is a path; otherwise `./<name>.dip`, then
//! `./<name>`, then a built-in workflow of that name.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::workflows::{self, Builtin};

/// Where a pipeline comes from.
#[derive(Clone, Debug)]
pub enum PipelineSource {
    /// A file on disk.
    File(PathBuf),
    /// An embedded workflow.
    Builtin(&'static Builtin),
}

impl PipelineSource {
    /// How to refer to the pipeline in messages.
    pub fn display_name(&self) -> String {
        match self {
            PipelineSource::File(path) => path.display().to_string(),
            PipelineSource::Builtin(b) => b.name.to_string(),
        }
    }
}

/// Resolves `arg` relative to `cwd`.
pub fn resolve(arg: &str, cwd: &Path) -> Result<PipelineSource> {
    let looks_like_path = arg.contains('/')
        || arg.contains('\\')
        || [".dip", ".dipx", ".dot"]
            .iter()
            .any(|ext| arg.ends_with(ext));
    if looks_like_path {
        return Ok(PipelineSource::File(PathBuf::from(arg)));
    }
    let local_dip = cwd.join(format!("{arg}.dip"));
    if local_dip.is_file() {
        return Ok(PipelineSource::File(PathBuf::from(format!("{arg}.dip"))));
    }
    if cwd.join(arg).is_file() {
        return Ok(PipelineSource::File(PathBuf::from(arg)));
    }
    if let Some(builtin) = workflows::find(arg) {
        return Ok(PipelineSource::Builtin(builtin));
    }
    bail!(
        "unknown pipeline {arg:?}: no file ./{arg}.dip and no built-in workflow of that name (built-ins: {})",
        workflows::names().join(", ")
    )
}

/// Loads a resolved pipeline into a document.
pub fn load(source: &PipelineSource) -> Result<dippin::Document> {
    Ok(match source {
        PipelineSource::File(path) => dippin::load_file(path)?,
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
