//! `bash`: runs a shell command in the workspace.
//!
//! The command runs as `bash -c <command>` (`/bin/sh` when there is no bash)
//! in the workspace root, in its own process group, with stdin closed and the
//! workspace's environment (nothing else). On timeout the whole group is
//! SIGKILLed and the model gets what the command printed so far. When the
//! shell exits on its own, processes it left in the background keep running
//! (their output is read for a moment and then no longer) until the node ends:
//! then the workspace kills their group.
//!
//! When the run has a tool-command allowlist (`--tool-allowlist`,
//! `tool_commands_allow`), a command it refuses is not run: the model gets
//! the reason as the tool's error.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::Instant;

use super::{Args, Tool, ToolError, ToolOutput, Workspace};
use tracker_llm::ToolSpec;
use tracker_stdx::future::BoxFuture;
use tracker_stdx::process_groups::start_time;

/// How long output is still read once the shell has exited (or was killed)
/// while something else holds its pipes open.
const OUTPUT_GRACE: Duration = Duration::from_millis(500);

/// The most bytes kept of each stream (its tail); a command that prints more
/// loses its head, which truncation would drop anyway.
const MAX_CAPTURE_BYTES: usize = 4 * 1024 * 1024;

/// `bash(command*, timeout)`: runs a command, returns stdout, stderr and a
/// non-zero exit code.
#[derive(Clone, Copy, Debug, Default)]
pub struct BashTool;

impl Tool for BashTool {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "bash".into(),
            description: "Run a bash command in the working directory and return its stdout \
                          and stderr (and its exit code when it is not 0). Stdin is closed. \
                          The command is killed after `timeout` seconds (default 10, at most \
                          600); give long builds and test runs a longer timeout."
                .into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "command": {"type": "string", "description": "The command, run with bash -c"},
                    "timeout": {"type": "number", "description": "Seconds before the command is killed (default 10, at most 600)"}
                },
                "required": ["command"]
            }),
        }
    }

    fn output_cap(&self) -> usize {
        30_000
    }

    fn run(
        &self,
        args: Value,
        workspace: Arc<Workspace>,
    ) -> BoxFuture<Result<ToolOutput, ToolError>> {
        Box::pin(async move { bash(&args, &workspace).await })
    }
}

async fn bash(args: &Value, workspace: &Workspace) -> Result<ToolOutput, ToolError> {
    let args = Args(args);
    let command = args.string("command")?;
    if command.trim().is_empty() {
        return Err(ToolError::InvalidArguments(
            "`command` must not be empty".into(),
        ));
    }
    workspace.check_command(command)?;
    let timeout = args
        .optional_seconds("timeout")?
        .unwrap_or(workspace.command_timeout())
        .min(workspace.max_command_timeout());
    let shell = find_shell(workspace.env());
    let mut child = tokio::process::Command::new(&shell)
        .arg("-c")
        .arg(command)
        .current_dir(workspace.root())
        .env_clear()
        .envs(workspace.env().iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|source| ToolError::Spawn {
            shell: shell.display().to_string(),
            source,
        })?;
    let mut group = GroupGuard::new(child.id());
    let started = group.pgid.and_then(|p| start_time(p.as_raw()));
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let mut out = Capture::default();
    let mut err = Capture::default();
    let deadline = Instant::now() + timeout;
    let status = {
        let io = async {
            tokio::join!(
                pump(stdout.as_mut(), &mut out),
                pump(stderr.as_mut(), &mut err)
            )
        };
        tokio::pin!(io);
        let finished = tokio::select! {
            status = child.wait() => {
                let grace = OUTPUT_GRACE.min(deadline.saturating_duration_since(Instant::now()));
                let _ = tokio::time::timeout(grace, &mut io).await;
                Some(status)
            }
            _ = &mut io => tokio::time::timeout_at(deadline, child.wait()).await.ok(),
            _ = tokio::time::sleep_until(deadline) => None,
        };
        if finished.is_none() {
            group.kill();
            let _ = child.wait().await;
            let _ = tokio::time::timeout(OUTPUT_GRACE, &mut io).await;
        }
        finished
    };
    let Some(status) = status else {
        // Nothing printed is no partial output (not "(no output)").
        let partial_output = if out.text().is_empty() && err.text().is_empty() {
            String::new()
        } else {
            render(&out.text(), &err.text(), None)
        };
        return Err(ToolError::TimedOut {
            timeout,
            partial_output,
        });
    };
    // Whatever the command left running in the background may go on, for as
    // long as the node runs.
    if let Some(pgid) = group.pgid {
        workspace.leftovers().add(pgid.as_raw(), started);
    }
    group.disarm();
    let status = status.map_err(|source| ToolError::Io {
        path: shell.display().to_string(),
        source,
    })?;
    let code = status.code().or_else(|| {
        use std::os::unix::process::ExitStatusExt;
        status.signal().map(|s| 128 + s)
    });
    Ok(ToolOutput::text(render(&out.text(), &err.text(), code)))
}

/// Stdout, then stderr, then `exit code: N` when it is not 0; `(no output)`
/// when there is nothing at all.
fn render(stdout: &str, stderr: &str, code: Option<i32>) -> String {
    let mut out = String::new();
    let exit = code.filter(|c| *c != 0).map(|c| format!("exit code: {c}"));
    for part in [stdout, stderr, exit.as_deref().unwrap_or_default()] {
        if part.is_empty() {
            continue;
        }
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(part);
    }
    if out.is_empty() {
        out.push_str("(no output)");
    }
    out
}

/// `bash` on the environment's `PATH` (or the process's), else `/bin/sh`.
fn find_shell(env: &[(OsString, OsString)]) -> PathBuf {
    let path = env
        .iter()
        .find(|(name, _)| name == "PATH")
        .map(|(_, value)| value.clone())
        .or_else(|| std::env::var_os("PATH"))
        .unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("bash"))
        .chain([PathBuf::from("/bin/bash"), PathBuf::from("/usr/bin/bash")])
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| PathBuf::from("/bin/sh"))
}

/// The tail of one output stream.
#[derive(Debug, Default)]
struct Capture {
    bytes: Vec<u8>,
    dropped: usize,
}

impl Capture {
    fn push(&mut self, data: &[u8]) {
        self.bytes.extend_from_slice(data);
        if self.bytes.len() > 2 * MAX_CAPTURE_BYTES {
            let cut = self.bytes.len() - MAX_CAPTURE_BYTES;
            self.bytes.drain(..cut);
            self.dropped += cut;
        }
    }

    fn text(&self) -> String {
        let text = String::from_utf8_lossy(&self.bytes);
        if self.dropped == 0 {
            return text.into_owned();
        }
        format!("[... {} bytes of output dropped ...]\n{text}", self.dropped)
    }
}

/// Reads `reader` to its end into `capture`. Each chunk is stored as soon as
/// it is read, so cancelling this keeps everything read so far.
async fn pump<R: AsyncRead + Unpin>(reader: Option<&mut R>, capture: &mut Capture) {
    let Some(reader) = reader else { return };
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => capture.push(&buf[..n]),
        }
    }
}

/// SIGKILLs a command's process group when dropped (the call was cancelled),
/// unless disarmed.
struct GroupGuard {
    pgid: Option<Pid>,
}

impl GroupGuard {
    fn new(pid: Option<u32>) -> GroupGuard {
        GroupGuard {
            pgid: pid
                .and_then(|p| i32::try_from(p).ok())
                .filter(|p| *p > 0)
                .map(Pid::from_raw),
        }
    }

    /// Kills the group, once: after this the group id may be reused by the
    /// system, so the guard forgets it.
    fn kill(&mut self) {
        if let Some(pgid) = self.pgid.take() {
            let _ = killpg(pgid, Signal::SIGKILL);
        }
    }

    fn disarm(&mut self) {
        self.pgid = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::filter_env;

    fn workspace() -> (tempfile::TempDir, Arc<Workspace>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let ws = Workspace::new(dir.path()).expect("workspace");
        (dir, Arc::new(ws))
    }

    async fn run(ws: &Arc<Workspace>, args: Value) -> Result<String, ToolError> {
        BashTool.run(args, ws.clone()).await.map(|o| o.content)
    }

    #[tokio::test]
    async fn reports_stdout_stderr_and_a_failing_exit_code() {
        let (_dir, ws) = workspace();
        let out = run(&ws, json!({"command": "echo out; echo err >&2; exit 3"}))
            .await
            .expect("runs");
        assert_eq!(out, "out\nerr\nexit code: 3");
        let ok = run(&ws, json!({"command": "printf done"}))
            .await
            .expect("runs");
        assert_eq!(ok, "done");
        let quiet = run(&ws, json!({"command": "true"})).await.expect("runs");
        assert_eq!(quiet, "(no output)");
        let stdin = run(&ws, json!({"command": "cat; echo end"}))
            .await
            .expect("runs");
        assert_eq!(stdin, "end\n");
    }

    #[tokio::test]
    async fn runs_in_the_workspace_root() {
        let (dir, ws) = workspace();
        std::fs::write(dir.path().join("here.txt"), "").expect("write");
        let out = run(&ws, json!({"command": "pwd; ls"})).await.expect("runs");
        assert_eq!(out, format!("{}\nhere.txt\n", ws.root().display()));
    }

    #[tokio::test]
    async fn a_timeout_kills_the_group_and_keeps_the_partial_output() {
        let (_dir, ws) = workspace();
        let result = run(
            &ws,
            json!({"command": "echo started; sleep 30 & sleep 30", "timeout": 1}),
        )
        .await;
        match result {
            Err(ToolError::TimedOut {
                timeout,
                partial_output,
            }) => {
                assert_eq!(timeout, Duration::from_secs(1));
                assert_eq!(partial_output, "started\n");
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn background_processes_do_not_hold_the_call() {
        let (_dir, ws) = workspace();
        // The background job keeps the output pipe open well past the moment
        // the shell exits; the call returns without it.
        let out = run(
            &ws,
            json!({"command": "(sleep 5; echo late) & echo now", "timeout": 60}),
        )
        .await
        .expect("runs");
        assert_eq!(out, "now\n");
    }

    #[tokio::test]
    async fn secrets_are_kept_out_of_the_environment() {
        let (_dir, ws) = workspace();
        let ws = Arc::new(Workspace::clone(&ws).with_env(filter_env(vec![
            ("FOO_API_KEY".into(), "sk-parent-secret".into()),
            ("TRACKER_AGENT_TOOLS_VISIBLE".into(), "yes".into()),
        ])));
        let out = run(
            &ws,
            json!({"command": "echo \"key=${FOO_API_KEY:-unset} visible=$TRACKER_AGENT_TOOLS_VISIBLE\""}),
        )
        .await
        .expect("runs");
        assert_eq!(out, "key=unset visible=yes\n");
        let custom = Arc::new(Workspace::clone(&ws).with_env(vec![("ONLY".into(), "this".into())]));
        let out = run(
            &custom,
            json!({"command": "echo \"$ONLY ${HOME:-nohome}\""}),
        )
        .await
        .expect("runs");
        assert_eq!(out, "this nohome\n");
    }

    #[tokio::test]
    async fn an_allowlist_refuses_commands_before_they_run() {
        use crate::tool_safety::{CommandRules, ToolPolicy};
        let (dir, ws) = workspace();
        let policy = ToolPolicy {
            allowlist: vec!["echo *".into()],
            ..ToolPolicy::default()
        };
        let ws = Arc::new(
            Workspace::clone(&ws).with_command_rules(Arc::new(CommandRules::new(&policy, "", ""))),
        );
        for command in [
            "touch made",
            "echo hi & touch made",
            "echo $(touch made)",
            "echo x > made",
        ] {
            let err = run(&ws, json!({"command": command}))
                .await
                .expect_err("refused");
            assert!(matches!(err, ToolError::Refused(_)), "{command}: {err}");
            assert!(err.to_string().contains("allowlist"), "{err}");
        }
        assert!(!dir.path().join("made").exists());
        let out = run(&ws, json!({"command": "echo 'a;b' | echo ok"}))
            .await
            .expect("allowed");
        assert_eq!(out, "ok\n");
        // Rules with no allowlist (only the denylist) leave `bash` alone.
        let open = Arc::new(
            Workspace::clone(&ws).with_command_rules(Arc::new(CommandRules::new(
                &ToolPolicy::default(),
                "",
                "",
            ))),
        );
        let out = run(&open, json!({"command": "eval echo ran"}))
            .await
            .expect("runs");
        assert!(out.contains("ran"), "{out}");
    }

    #[tokio::test]
    async fn arguments_are_checked() {
        let (_dir, ws) = workspace();
        for args in [
            json!({"command": "  "}),
            json!({"command": "true", "timeout": 0}),
            json!({"command": "true", "timeout": -5}),
            json!({"command": "true", "timeout": "soon"}),
            json!({"command": ["ls"]}),
        ] {
            let err = run(&ws, args.clone()).await.expect_err("refused");
            assert!(
                matches!(err, ToolError::InvalidArguments(_)),
                "{args}: {err}"
            );
        }
        let fractional = run(&ws, json!({"command": "echo ok", "timeout": 2.5}))
            .await
            .expect("runs");
        assert_eq!(fractional, "ok\n");
    }

    #[test]
    fn output_parts_are_joined_on_line_breaks() {
        assert_eq!(render("a", "b", Some(1)), "a\nb\nexit code: 1");
        assert_eq!(render("", "", Some(2)), "exit code: 2");
        assert_eq!(render("a\n", "", Some(0)), "a\n");
        let mut capture = Capture::default();
        capture.push(&vec![b'x'; 2 * MAX_CAPTURE_BYTES + 10]);
        assert_eq!(capture.dropped, MAX_CAPTURE_BYTES + 10);
        assert!(capture.text().starts_with(&format!(
            "[... {} bytes of output dropped ...]\n",
            MAX_CAPTURE_BYTES + 10
        )));
    }
}
