//! Resolving a pipeline argument: a path, a local `<name>.dip`, or a built-in.
//!
//! The order is the reference's: an argument containing a path separator or ending
//! in `.dip`, `.dipx` or `.dot` is a path; otherwise `./<name>.dip`, then
//! `./<name>`, then a built-in workflow of that name.

use std::ffi::OsStr;
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
