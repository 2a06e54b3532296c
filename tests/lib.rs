//! Test support for the end-to-end suite: where the built `tracker` binary and the
//! shared corpus are, and a small wrapper to run the binary.
//!
//! The binary must be built first (`cargo build --workspace`, as the README's test
//! command does); [`tracker`] says so plainly if it is missing.

pub mod mock_provider;
pub mod service;
pub mod sse_bodies;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

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

/// Runs the binary with `args` in `dir` and returns its output. Live activity
/// logs go to `<dir>/.audit`, not the user's state directory.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    in_dir(dir).args(args).output().expect("tracker runs")
}

/// Variables that would point a test run at real providers, change provider
/// tuning, or change exit codes, wherever the developer set them.
const HOST_VARIABLES: [&str; 18] = [
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "OPENAI_COMPAT_API_KEY",
    "ANTHROPIC_BASE_URL",
    "OPENAI_BASE_URL",
    "GEMINI_BASE_URL",
    "OPENAI_COMPAT_BASE_URL",
    "TRACKER_GATEWAY_URL",
    "TRACKER_GATEWAY_KIND",
    "TRACKER_LLM_CONCURRENCY",
    "TRACKER_LLM_MAX_RETRIES",
    "TRACKER_LLM_RETRY_BASE",
    "TRACKER_STREAM_IDLE_TIMEOUT",
    "TRACKER_FAIL_ON_OVERRIDE",
    "TRACKER_PASS_ENV",
    "TRACKER_PASS_API_KEYS",
];

/// A `Command` for the built binary running in `dir`: its live activity logs
/// under `<dir>/.audit`, a home of its own under `<dir>/home` (so no user env
/// file is read), and none of the host's provider or tracker variables.
pub fn in_dir(dir: &Path) -> Command {
    let mut cmd = tracker();
    for var in HOST_VARIABLES {
        cmd.env_remove(var);
    }
    cmd.current_dir(dir)
        .env("TRACKER_AUDIT_DIR", dir.join(".audit"))
        .env("HOME", dir.join("home"))
        .env("XDG_CONFIG_HOME", dir.join("home/.config"));
    cmd
}

/// The output of `cmd` given `input` on its standard input.
///
/// # Panics
/// If the binary cannot be started (tests only).
pub fn output_with_stdin(cmd: &mut Command, input: &str) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tracker starts");
    // A closed pipe (the program did not read) is not the test's failure.
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes());
    child.wait_with_output().expect("tracker runs")
}

/// Lossy UTF-8 text of a process's output.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Run directories under `dir`'s default artifact directory, sorted.
pub fn run_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir.join(".tracker").join("runs"))
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs
}

/// The golden-trace fixtures beside the repository.
pub fn conformance_dir() -> PathBuf {
    shared_dir().join("conformance").join("golden")
}

/// Every file under `dir` (recursively) whose extension is `ext`, sorted.
pub fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some(ext))
        .collect()
}

/// Every file under `dir`, recursively, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
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
            } else {
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

/// A diagnostic position: expected by a test file's header, or reported by the binary.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
pub struct Finding {
    /// `DIPnnn`.
    pub code: String,
    /// 1-based line.
    pub line: u64,
    /// 1-based column.
    pub column: u64,
}

/// The `# expect: CODE @ LINE:COL` header lines of a test file.
///
/// # Panics
/// On a malformed header line, naming what is wrong.
pub fn expectations(text: &str) -> Vec<Finding> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# expect: "))
        .map(|rest| {
            let (code, pos) = rest.split_once(" @ ").expect("`CODE @ L:C`");
            let (line, column) = pos.split_once(':').expect("`L:C`");
            Finding {
                code: code.trim().to_string(),
                line: line.trim().parse().expect("line"),
                column: column.trim().parse().expect("column"),
            }
        })
        .collect()
}

/// What `tracker check --json` did with one file.
pub struct CheckRun {
    /// The exit status.
    pub status: Option<i32>,
    /// The parsed JSON report.
    pub report: Value,
    /// Everything printed on stderr.
    pub stderr: String,
}

impl CheckRun {
    /// Every reported diagnostic with its severity.
    pub fn findings(&self) -> Vec<(Finding, String)> {
        self.report["diagnostics"]
            .as_array()
            .expect("diagnostics array")
            .iter()
            .map(|d| {
                let finding = Finding {
                    code: d["code"].as_str().unwrap_or_default().to_string(),
                    line: d["line"].as_u64().unwrap_or(0),
                    column: d["column"].as_u64().unwrap_or(0),
                };
                (
                    finding,
                    d["severity"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    /// The error-severity findings, sorted by position.
    pub fn errors(&self) -> Vec<Finding> {
        let mut errors: Vec<Finding> = self
            .findings()
            .into_iter()
            .filter(|(_, severity)| severity == "error")
            .map(|(f, _)| f)
            .collect();
        errors.sort_by_key(|f| (f.line, f.column, f.code.clone()));
        errors
    }
}

/// Runs `tracker check --json` on `file` from its own directory.
///
/// # Panics
/// If stdout is not one JSON document.
pub fn check_json(file: &Path) -> CheckRun {
    let dir = file.parent().expect("file has a parent directory");
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .expect("UTF-8 file name");
    let out = run_in(dir, &["check", "--json", name]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let report: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{name}: stdout is not JSON ({e}): {stdout}\n{stderr}"));
    CheckRun {
        status: out.status.code(),
        report,
        stderr,
    }
}

/// Whether process `pid` is alive: it exists and is not a zombie.
pub fn process_running(pid: &str) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()));
    stat.is_ok_and(|s| {
        let state = s
            .rsplit(')')
            .next()
            .and_then(|r| r.split_whitespace().next());
        !matches!(state, Some("Z" | "X"))
    })
}
