//! A `tracker serve` started by a test: the real binary on a socket in the
//! test's directory, its clients, and raw requests to its API.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

use crate::{in_dir, text};

/// A running `tracker serve`, killed when dropped.
pub struct Service {
    /// The service's process.
    pub child: Child,
    /// Its socket.
    pub socket: PathBuf,
    /// The directory it was started in.
    pub dir: PathBuf,
    /// The log line saying where it listens.
    pub banner: String,
}

impl Service {
    /// Starts a service in `dir` on `dir/s/tracker.sock` and waits until it
    /// says it is listening.
    pub fn start(dir: &Path) -> Service {
        Service::start_with(dir, in_dir(dir).arg("serve").arg("--no-fsync"))
    }

    /// Starts `serve`, as `command` has it (its arguments and environment),
    /// in `dir` on `dir/s/tracker.sock`, and waits until it says it is
    /// listening.
    pub fn start_with(dir: &Path, command: &mut Command) -> Service {
        let socket = dir.join("s").join("tracker.sock");
        let mut child = command
            .arg("--socket")
            .arg(&socket)
            .arg("--state-dir")
            .arg(dir.join("state"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the service starts");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let mut said = Vec::new();
        let banner = loop {
            let Some(Ok(line)) = lines.next() else {
                panic!("the service exited before it listened: {said:#?}");
            };
            if line.contains("tracker service listening") {
                break line;
            }
            said.push(line);
        };
        // Keep draining its log so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Service {
            child,
            socket,
            dir: dir.to_path_buf(),
            banner,
        }
    }

    /// A client command against this service.
    pub fn client(&self, args: &[&str]) -> Command {
        let mut cmd = in_dir(&self.dir);
        cmd.args(args).arg("--socket").arg(&self.socket);
        cmd
    }

    /// A raw HTTP request to the API: its status and JSON body.
    pub fn http(&self, method: &str, path: &str, body: Option<String>) -> (u16, Value) {
        request(&self.socket, method, path, body).expect("the service answers")
    }

    /// Follows run `id` with `tracker logs -f` until it ends, and asserts it
    /// completed.
    pub fn follow_to_completion(&self, id: &str) {
        let out = self.client(&["logs", "-f", id]).output().expect("logs");
        let stdout = text(&out.stdout);
        assert!(stdout.contains("pipeline_completed"), "{stdout}");
    }

    /// Run `id`'s events as the service streams them, from 0, without
    /// following.
    pub fn events(&self, id: &str) -> Vec<String> {
        self.sse_lines(&format!("/v1/runs/{id}/events?from=0&follow=false"))
    }

    /// The data lines of the server-sent events at `path` (which must end).
    pub fn sse_lines(&self, path: &str) -> Vec<String> {
        sse_lines(&self.socket, path)
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Service {
    /// Submits `pipeline` with `tracker submit` and returns the run's id.
    pub fn submit(&self, pipeline: &str) -> String {
        let out = self.client(&["submit", pipeline]).output().expect("submit");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        text(&out.stdout).trim().to_string()
    }

    /// Waits until run `id` waits at a gate (failing if it ends first).
    pub fn wait_for_gate(&self, id: &str) {
        wait_until(&format!("run {id} at its gate"), || {
            let (_, run) = self.http("GET", &format!("/v1/runs/{id}"), None);
            assert!(
                run["waiting_gate"] == json!(true)
                    || matches!(run["status"].as_str(), Some("queued" | "running")),
                "the run ended before its gate: {run}"
            );
            run["waiting_gate"] == json!(true)
        });
    }
}

/// Runs `future` to its end on a runtime of its own.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

/// An HTTP client speaking over the Unix socket `socket`.
fn unix_client(socket: &Path, timeout: Option<std::time::Duration>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder().unix_socket(socket);
    if let Some(timeout) = timeout {
        builder = builder.timeout(timeout);
    }
    builder.build().expect("client")
}

/// Waits until `done` holds, failing after a minute with `what` (a test that
/// would otherwise hang fails instead).
///
/// # Panics
/// When the minute passes.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "gave up waiting: {what}"
        );
        std::thread::yield_now();
    }
}

/// A raw HTTP request to the API on `socket`: its status and JSON body, or
/// why no answer came (the service is gone).
pub fn request(
    socket: &Path,
    method: &str,
    path: &str,
    body: Option<String>,
) -> Result<(u16, Value), String> {
    let url = format!("http://tracker{path}");
    let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
    let client = unix_client(socket, Some(std::time::Duration::from_secs(60)));
    block_on(async move {
        let mut request = client
            .request(method, url)
            .header("content-type", "application/json");
        if let Some(body) = body {
            request = request.body(body);
        }
        // The whole chain of causes (a reset, a timeout...), for the rare
        // failure under load.
        let response = request.send().await.map_err(|e| format!("{e:?}"))?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| format!("{e:?}"))?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    })
}

/// The data lines of the server-sent events at `path` of the service on
/// `socket` (the stream must end).
pub fn sse_lines(socket: &Path, path: &str) -> Vec<String> {
    let client = unix_client(socket, None);
    let url = format!("http://tracker{path}");
    let body = block_on(async move {
        client
            .get(url)
            .send()
            .await
            .expect("answer")
            .text()
            .await
            .expect("body")
    });
    data_lines(&body)
}

/// The data lines of a server-sent events body.
fn data_lines(body: &str) -> Vec<String> {
    body.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l).to_string())
        .collect()
}

/// Follows the server-sent events at `path` on a thread: the receiver gets a
/// message once the first event has arrived (the follower is connected), and
/// the thread returns every data line once the stream ends.
pub fn follow_sse(
    socket: &Path,
    path: &str,
) -> (
    std::sync::mpsc::Receiver<()>,
    std::thread::JoinHandle<Vec<String>>,
) {
    let (connected, on_connect) = std::sync::mpsc::channel();
    let client = unix_client(socket, None);
    let url = format!("http://tracker{path}");
    let thread = std::thread::spawn(move || {
        block_on(async move {
            let mut response = client.get(url).send().await.expect("answer");
            let mut body = Vec::new();
            while let Ok(Some(chunk)) = response.chunk().await {
                body.extend_from_slice(&chunk);
                if body.windows(5).any(|w| w == b"data:") {
                    let _ = connected.send(());
                }
            }
            data_lines(&String::from_utf8_lossy(&body))
        })
    });
    (on_connect, thread)
}

impl Service {
    /// Submits `pipeline` (a path relative to the service's directory) over
    /// the API and returns the run's id.
    pub fn submit_json(&self, pipeline: &str) -> String {
        let body = json!({ "pipeline": pipeline, "workdir": self.dir }).to_string();
        let (status, reply) = self.http("POST", "/v1/runs", Some(body));
        assert_eq!(status, 201, "{reply}");
        reply["run_id"].as_str().expect("a run id").to_string()
    }

    /// Waits until run `id` ends (by following its event stream to its end)
    /// and returns its status.
    pub fn wait_for_end(&self, id: &str) -> String {
        sse_lines(
            &self.socket,
            &format!("/v1/runs/{id}/events?from=0&follow=true"),
        );
        let (_, run) = self.http("GET", &format!("/v1/runs/{id}"), None);
        run["status"].as_str().expect("a status").to_string()
    }
}
