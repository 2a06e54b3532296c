//! The working directory an agent's tools are confined to.
//!
//! Every path a model names goes through [`Workspace::resolve`]: relative paths
//! are taken from the root, absolute ones must already lie inside it, and the
//! path is resolved one component at a time, following symlinks the way the
//! kernel would, so that neither `..` nor a symlink can lead a tool outside the
//! root. The resolved path is the real one (symlinks replaced by their
//! targets), so what a tool then opens is exactly what was checked.

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::ToolError;
use crate::tool_safety::CommandRules;
use tracker_stdx::process_groups::Leftovers;

/// How long a `bash` command may run when the call does not say.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest a `bash` command may run, whatever the call asks for.
pub const MAX_COMMAND_TIMEOUT: Duration = Duration::from_secs(600);

/// How many symlinks one path may pass through (as Linux's `MAXSYMLINKS`).
const MAX_SYMLINKS: usize = 40;

/// Where an agent's tools work.
#[derive(Clone)]
pub struct Workspace {
    root: PathBuf,
    command_timeout: Duration,
    max_command_timeout: Duration,
    /// Made when a command first needs it: most sessions run none, and reading
    /// and filtering the process environment is per-node work otherwise.
    env: std::sync::OnceLock<Vec<(OsString, OsString)>>,
    /// The allowlist `bash` commands are held to, when one is in force.
    command_rules: Option<Arc<CommandRules>>,
    /// The process groups of finished `bash` commands, killed when the last
    /// copy of the workspace goes (the node is over): what a command left in
    /// the background may run for the rest of the session, not beyond it.
    leftovers: Arc<Leftovers>,
    /// Directories of run records outside `<root>/.tracker/` (a run directory
    /// under `--artifact-dir`), refused to tools that write like that one;
    /// as given (see [`Workspace::with_records`]).
    records: Vec<PathBuf>,
}

impl std::fmt::Debug for Workspace {
    // The environment's values stay out of logs; its size is enough.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspace")
            .field("root", &self.root)
            .field("command_timeout", &self.command_timeout)
            .field("max_command_timeout", &self.max_command_timeout)
            .field("env_vars", &self.env.get().map(Vec::len))
            .field("command_allowlist", &self.command_rules.is_some())
            .finish()
    }
}

impl Workspace {
    /// A workspace rooted at `root`, which must be an existing directory. The
    /// root is canonicalized; commands get [`DEFAULT_COMMAND_TIMEOUT`] and the
    /// environment of [`filtered_env`].
    pub fn new(root: &Path) -> Result<Workspace, ToolError> {
        let shown = root.display().to_string();
        let canonical = root.canonicalize().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ToolError::NotFound(shown.clone()),
            _ => ToolError::Io {
                path: shown.clone(),
                source: e,
            },
        })?;
        if !canonical.is_dir() {
            return Err(ToolError::NotADirectory(shown));
        }
        Ok(Workspace {
            root: canonical,
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            max_command_timeout: MAX_COMMAND_TIMEOUT,
            env: std::sync::OnceLock::new(),
            command_rules: None,
            leftovers: Arc::default(),
            records: Vec::new(),
        })
    }

    /// The same workspace with another default command timeout (at most the
    /// maximum).
    pub fn with_command_timeout(mut self, timeout: Duration) -> Workspace {
        self.command_timeout = timeout.min(self.max_command_timeout);
        self
    }

    /// The same workspace with another maximum command timeout; the default
    /// timeout is lowered to it if needed.
    pub fn with_max_command_timeout(mut self, max: Duration) -> Workspace {
        self.max_command_timeout = max;
        self.command_timeout = self.command_timeout.min(max);
        self
    }

    /// The same workspace with `env` as the complete environment of commands.
    pub fn with_env(mut self, env: Vec<(OsString, OsString)>) -> Workspace {
        self.env = std::sync::OnceLock::from(env);
        self
    }

    /// The same workspace with `bash` commands held to `rules`' allowlist
    /// (tool nodes' `--tool-allowlist` and `tool_commands_allow`); rules
    /// without an allowlist change nothing.
    pub fn with_command_rules(mut self, rules: Arc<CommandRules>) -> Workspace {
        self.command_rules = Some(rules).filter(|r| r.has_allowlist());
        self
    }

    /// The same workspace with `dir`, a directory of run records, refused to
    /// the tools that write as `<root>/.tracker/` is. A directory that does
    /// not exist, or that holds the root, is not added.
    pub fn with_records(mut self, dir: &Path) -> Workspace {
        // Checked when a tool writes (rarely), not here, on every session's
        // path.
        self.records.push(dir.to_path_buf());
        self
    }

    /// Whether `command` may run: always, unless an allowlist is in force
    /// and refuses it (see [`CommandRules::check_allowlist`]).
    pub fn check_command(&self, command: &str) -> Result<(), ToolError> {
        match &self.command_rules {
            Some(rules) => rules
                .check_allowlist(command)
                .map_err(|e| ToolError::Refused(e.to_string())),
            None => Ok(()),
        }
    }

    /// Where finished commands' process groups go, to be killed with the
    /// workspace.
    pub fn leftovers(&self) -> &Leftovers {
        &self.leftovers
    }

    /// The root: a canonical, existing directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// How long a command may run when the call does not say.
    pub fn command_timeout(&self) -> Duration {
        self.command_timeout
    }

    /// The longest a command may run.
    pub fn max_command_timeout(&self) -> Duration {
        self.max_command_timeout
    }

    /// The complete environment commands run with.
    pub fn env(&self) -> &[(OsString, OsString)] {
        self.env.get_or_init(filtered_env)
    }

    /// The real path `path` names, which must lie inside the root. Relative
    /// paths start at the root; `""` and `"."` are the root itself. Symlinks
    /// are followed (a dangling one to where it points); the part of the path
    /// that does not exist yet is kept as written.
    ///
    /// Refused: NUL bytes, and any path that ends up outside the root, by
    /// `..`, by being absolute elsewhere, or through a symlink.
    pub fn resolve(&self, path: &str) -> Result<PathBuf, ToolError> {
        if path.contains('\0') {
            return Err(ToolError::InvalidArguments(format!(
                "path {path:?} contains a NUL byte"
            )));
        }
        let real = real_path(&self.root, Path::new(path)).map_err(|source| ToolError::Io {
            path: path.to_string(),
            source,
        })?;
        if real.starts_with(&self.root) {
            Ok(real)
        } else {
            Err(ToolError::Escapes(path.to_string()))
        }
    }

    /// [`Workspace::resolve`], for a tool that changes the file: tracker's own
    /// records under `<root>/.tracker/` (run directories, checkpoints,
    /// activity logs) and in the directories of [`Workspace::with_records`]
    /// are refused, so that a model cannot forge what a resume
    /// trusts.
    pub fn resolve_for_writing(&self, path: &str) -> Result<PathBuf, ToolError> {
        let real = self.resolve(path)?;
        let in_records = |dir: &PathBuf| {
            dir.canonicalize()
                .is_ok_and(|dir| !self.root.starts_with(&dir) && real.starts_with(&dir))
        };
        if real.starts_with(self.root.join(RECORDS_DIR)) || self.records.iter().any(in_records) {
            return Err(ToolError::Records(path.to_string()));
        }
        Ok(real)
    }

    /// `path` (inside the root) relative to the root, for showing to the
    /// model: `.` for the root itself.
    pub fn relative(&self, path: &Path) -> String {
        match path.strip_prefix(&self.root) {
            Ok(rel) if rel.as_os_str().is_empty() => ".".to_string(),
            Ok(rel) => rel.display().to_string(),
            Err(_) => path.display().to_string(),
        }
    }
}

/// The directory under the workdir where tracker keeps its runs' records.
const RECORDS_DIR: &str = ".tracker";

/// The process environment without variables that look like secrets (see
/// [`tracker_stdx::secrets`]).
pub fn filtered_env() -> Vec<(OsString, OsString)> {
    filter_env(std::env::vars_os())
}

/// `vars` without the secrets.
pub fn filter_env(
    vars: impl IntoIterator<Item = (OsString, OsString)>,
) -> Vec<(OsString, OsString)> {
    tracker_stdx::secrets::without_secrets(vars)
}

/// Whether a variable of this name is kept from commands (the rule tool
/// nodes use too).
pub fn is_secret(name: &OsStr) -> bool {
    tracker_stdx::secrets::is_secret(name)
}

/// Resolves `path` against `base` (canonical) one component at a time. The
/// prefix built so far is always a real path, so `..` can simply drop its last
/// component; a symlink's target is spliced into the components still to walk.
fn real_path(base: &Path, path: &Path) -> std::io::Result<PathBuf> {
    let mut current = base.to_path_buf();
    let mut pending: VecDeque<OsString> = VecDeque::new();
    if path.is_absolute() {
        current = PathBuf::from("/");
    }
    push_front(&mut pending, path, &mut current);
    let mut links = 0;
    while let Some(part) = pending.pop_front() {
        if part == ".." {
            current.pop();
            continue;
        }
        let next = current.join(&part);
        match std::fs::symlink_metadata(&next) {
            Ok(meta) if meta.file_type().is_symlink() => {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(std::io::Error::other("too many levels of symbolic links"));
                }
                let target = std::fs::read_link(&next)?;
                push_front(&mut pending, &target, &mut current);
            }
            Ok(_) => current = next,
            // Not there (yet): kept as written.
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                current = next
            }
            Err(e) => return Err(e),
        }
    }
    Ok(current)
}

/// Puts `path`'s components in front of `pending`; an absolute `path` restarts
/// `current` at `/`.
fn push_front(pending: &mut VecDeque<OsString>, path: &Path, current: &mut PathBuf) {
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::RootDir | Component::Prefix(_) => {
                *current = PathBuf::from("/");
                parts.clear();
            }
            Component::CurDir => {}
            Component::ParentDir => parts.push(OsString::from("..")),
            Component::Normal(name) => parts.push(name.to_os_string()),
        }
    }
    for part in parts.into_iter().rev() {
        pending.push_front(part);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn setup() -> (tempfile::TempDir, Workspace) {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("root")).expect("root");
        let ws = Workspace::new(&dir.path().join("root")).expect("workspace");
        (dir, ws)
    }

    #[test]
    fn run_records_elsewhere_in_the_root_are_refused_too() {
        let (_dir, ws) = setup();
        let root = ws.root().to_path_buf();
        std::fs::create_dir_all(root.join("out/runs/r1")).expect("run dir");
        let ws = ws
            .with_records(&root.join("out/runs"))
            // The root itself, or what holds it, is no records directory.
            .with_records(&root)
            .with_records(root.parent().expect("parent"))
            .with_records(&root.join("missing"));
        for path in [
            "out/runs/r1/activity.jsonl",
            "out/runs/new",
            "out/x/../runs",
        ] {
            assert!(
                matches!(ws.resolve_for_writing(path), Err(ToolError::Records(_))),
                "{path}"
            );
        }
        assert_eq!(
            ws.resolve_for_writing("out/other")
                .expect("beside the runs"),
            root.join("out/other")
        );
        assert_eq!(
            ws.resolve_for_writing("a.txt").expect("a file"),
            root.join("a.txt")
        );
    }

    #[test]
    fn trackers_records_may_be_read_but_not_written() {
        let (_dir, ws) = setup();
        let root = ws.root().to_path_buf();
        let record = ".tracker/runs/abc/checkpoint.json";
        assert_eq!(ws.resolve(record).expect("readable"), root.join(record));
        for path in [record, "./a/../.tracker/x", ".tracker"] {
            assert!(
                matches!(ws.resolve_for_writing(path), Err(ToolError::Records(_))),
                "{path}"
            );
        }
        assert_eq!(
            ws.resolve_for_writing(".trackers/x").expect("another name"),
            root.join(".trackers/x")
        );
    }

    #[test]
    fn relative_paths_resolve_under_the_root() {
        let (_dir, ws) = setup();
        let root = ws.root().to_path_buf();
        assert_eq!(ws.resolve("a/b.txt").expect("ok"), root.join("a/b.txt"));
        assert_eq!(ws.resolve("./a/../b").expect("ok"), root.join("b"));
        assert_eq!(ws.resolve("").expect("ok"), root);
        assert_eq!(ws.resolve(".").expect("ok"), root);
        let absolute = root.join("x/y");
        let text = absolute.to_str().expect("utf-8");
        assert_eq!(ws.resolve(text).expect("ok"), absolute);
        assert_eq!(ws.relative(&absolute), "x/y");
        assert_eq!(ws.relative(&root), ".");
    }

    #[test]
    fn escapes_are_refused() {
        let (dir, ws) = setup();
        for bad in ["../x", "a/../../x", "/etc/passwd", "/"] {
            assert!(
                matches!(ws.resolve(bad), Err(ToolError::Escapes(_))),
                "{bad} was not refused"
            );
        }
        let outside = dir.path().join("outside.txt");
        let text = outside.to_str().expect("utf-8");
        assert!(matches!(ws.resolve(text), Err(ToolError::Escapes(_))));
        // `..` back into the root is fine.
        let back = format!("../{}/z", "root");
        assert_eq!(ws.resolve(&back).expect("ok"), ws.root().join("z"));
        assert!(matches!(
            ws.resolve("a\0b"),
            Err(ToolError::InvalidArguments(_))
        ));
    }

    #[test]
    fn symlinks_leading_outside_are_refused() {
        let (dir, ws) = setup();
        std::fs::create_dir(dir.path().join("secret")).expect("dir");
        std::fs::write(dir.path().join("secret/key"), "k").expect("file");
        symlink(dir.path().join("secret"), ws.root().join("link")).expect("symlink");
        assert!(matches!(ws.resolve("link"), Err(ToolError::Escapes(_))));
        assert!(matches!(ws.resolve("link/key"), Err(ToolError::Escapes(_))));
        assert!(matches!(ws.resolve("link/new"), Err(ToolError::Escapes(_))));
        // Passing through a path that does not exist does not stop the checks.
        assert!(matches!(
            ws.resolve("missing/../link/key"),
            Err(ToolError::Escapes(_))
        ));
        // A dangling link is followed to where it points.
        symlink(dir.path().join("nowhere"), ws.root().join("dangling")).expect("symlink");
        assert!(matches!(ws.resolve("dangling"), Err(ToolError::Escapes(_))));
        // `inside/..` is the root even when `inside` is a link elsewhere in it.
        std::fs::create_dir_all(ws.root().join("d/e")).expect("dirs");
        symlink(ws.root().join("d/e"), ws.root().join("inside")).expect("symlink");
        assert_eq!(ws.resolve("inside/f").expect("ok"), ws.root().join("d/e/f"));
        assert_eq!(
            ws.resolve("inside/../g").expect("ok"),
            ws.root().join("d/g")
        );
        // A relative link out of the root.
        symlink("../secret", ws.root().join("rel")).expect("symlink");
        assert!(matches!(ws.resolve("rel/key"), Err(ToolError::Escapes(_))));
    }

    #[test]
    fn symlink_loops_are_an_error() {
        let (_dir, ws) = setup();
        symlink("loop", ws.root().join("loop")).expect("symlink");
        assert!(matches!(ws.resolve("loop/x"), Err(ToolError::Io { .. })));
    }

    #[test]
    fn the_root_must_be_an_existing_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(matches!(
            Workspace::new(&dir.path().join("missing")),
            Err(ToolError::NotFound(_))
        ));
        std::fs::write(dir.path().join("file"), "").expect("file");
        assert!(matches!(
            Workspace::new(&dir.path().join("file")),
            Err(ToolError::NotADirectory(_))
        ));
    }

    #[test]
    fn timeouts_are_capped_and_secrets_filtered() {
        let (_dir, ws) = setup();
        assert_eq!(ws.command_timeout(), DEFAULT_COMMAND_TIMEOUT);
        let ws = ws.with_command_timeout(Duration::from_secs(3600));
        assert_eq!(ws.command_timeout(), MAX_COMMAND_TIMEOUT);
        let ws = ws.with_max_command_timeout(Duration::from_secs(5));
        assert_eq!(ws.command_timeout(), Duration::from_secs(5));
        assert!(is_secret(OsStr::new("OPENAI_API_KEY")));
        assert!(is_secret(OsStr::new("github_token")));
        assert!(is_secret(OsStr::new("AWS_CREDENTIALS")));
        assert!(!is_secret(OsStr::new("PATH")));
        assert!(!is_secret(OsStr::new("TOKENIZER")));
        assert!(is_secret(OsStr::new("MYSQL_PWD")));
        assert!(!is_secret(OsStr::new("PWD")));
    }
}
