//! Test support for the end-to-end suite: where the built `tracker` binary and the
//! shared corpus are, and a small wrapper to run the binary.
//!
//! The binary must be built first (`cargo build --workspace`, as the README's test
//! command does); [`tracker`] says so plainly if it is missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The shared knowledge folder beside the repository (`../shared`).
pub fn shared_dir() -> PathBuf {
    workspace_root().join("..").join("shared")
}

/// The third-party `.dip`/`.dot` corpus.
pub fn corpus_dir() -> PathBuf {
    shared_dir().join("corpus")
}

/// This crate's test data.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

/// The built `tracker` binary next to the running test executable.
///
/// # Panics
/// If the binary has not been built, with instructions.
pub fn tracker_path() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable has a path");
    // target/<profile>/deps/tests-<hash> → target/<profile>/tracker
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test executable lives in target/<profile>/deps");
    let bin = profile_dir.join(format!("tracker{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} not found: build it first with `cargo build --workspace`",
        bin.display()
    );
    bin
}

/// A `Command` for the built binary, with a clean environment for determinism.
pub fn tracker() -> Command {
    let mut cmd = Command::new(tracker_path());
    cmd.env_remove("RUST_BACKTRACE");
    cmd
}

/// Runs the binary with `args` in `dir` and returns its output.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    tracker()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("tracker runs")
}

/// Every file under `dir` (recursively) whose extension is `ext`, sorted.
pub fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().and_then(|e| e.to_str()) == Some(ext) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// `path` relative to the corpus root, with `/` separators, for stable names.
pub fn corpus_name(path: &Path) -> String {
    path.strip_prefix(corpus_dir())
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}
