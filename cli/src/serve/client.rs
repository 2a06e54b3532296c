//! The service's clients: `tracker submit`, `ps`, `logs` and `cancel`, over
//! the service's Unix socket. Each says plainly when no service is listening
//! and how to start one.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Result};
use serde_json::{json, Value};
use tracker_handlers::human::{GateAnswer, GateMode, GateRequest};
use tracker_handlers::questions::Question;
use tracker_runtime::event::PipelineEvent;

use super::api::SERVICE_STOPPED_EVENT;
use super::socket;
use crate::args::{AnswerArgs, CancelArgs, LogsArgs, PsArgs, SubmitArgs};
use crate::exit;
use crate::output::console;
use crate::pipeline::PipelineSource;

/// A connection to the service.
struct Client {
    http: reqwest::Client,
    socket: PathBuf,
}

impl Client {
    fn new(socket: Option<&Path>) -> Result<Client> {
        let socket = socket::socket_path(socket);
        let http = reqwest::Client::builder()
            .unix_socket(socket.as_path())
            .build()
            .map_err(|e| anyhow!("http client: {e}"))?;
        Ok(Client { http, socket })
    }

    fn url(path: &str) -> String {
        format!("http://tracker{path}")
    }

    /// What a failed connection means to the user.
    fn unreachable(&self, e: &reqwest::Error) -> anyhow::Error {
        if e.is_connect() {
            anyhow!(
                "no tracker service is listening on {} (start one with `tracker serve`)",
                self.socket.display()
            )
        } else {
            anyhow!("tracker service on {}: {e}", self.socket.display())
        }
    }

    /// The JSON answer to `request`; a 4xx or 5xx is an error with the
    /// service's message.
    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Value> {
        let response = request.send().await.map_err(|e| self.unreachable(&e))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|e| anyhow!("tracker service answered {status} with no JSON: {e}"))?;
        if !status.is_success() {
            bail!(
                "{}",
                body["error"].as_str().map_or_else(
                    || format!("tracker service answered {status}"),
                    String::from
                )
            );
        }
        Ok(body)
    }

    async fn get(&self, path: &str) -> Result<Value> {
        self.call(self.http.get(Client::url(path))).await
    }

    async fn post(&self, path: &str, body: &Value) -> Result<Value> {
        self.call(self.http.post(Client::url(path)).json(body))
            .await
    }

    /// Whether run `id`'s followed stream was cut short by the service
    /// stopping (the next service resumes the run), said on stderr if so:
    /// the stream said so, or, for a service that did not, the service
    /// does when asked. (A run the stop cancelled ends as cancelled, yet is
    /// resumed.)
    async fn was_cut(&self, id: &str, followed: &Followed) -> bool {
        let saw_end = followed.status.is_some();
        let cut = followed.stopped_by_service
            || match self.get(&format!("/v1/runs/{id}")).await {
                Ok(run) => {
                    run["stopped_by_service"] == Value::Bool(true)
                        || (!saw_end
                            && matches!(run["status"].as_str(), Some("queued" | "running")))
                }
                // Gone already: only a stream with no end in it was cut.
                Err(_) => !saw_end,
            };
        if cut {
            eprintln!(
                "error: the service stopped before run {id} ended; the next service resumes \
                 it (`tracker logs -f {id}` then)"
            );
        }
        cut
    }

    /// How run `id` ended, when its stream ended without saying (a run
    /// cancelled while it was queued has no events): said on stderr.
    async fn ended_unseen(&self, id: &str, followed: &Followed) -> Option<String> {
        if followed.status.is_some() || followed.stopped_by_service {
            return None;
        }
        let run = self.get(&format!("/v1/runs/{id}")).await.ok()?;
        let status = run["status"].as_str()?;
        if matches!(status, "queued" | "running") {
            return None;
        }
        eprintln!("error: run {id} ended ({status}) before it started");
        Some(status.to_string())
    }

    /// Prints run `id`'s events from `from` as console lines (NDJSON with
    /// `json`), until it ends (with `follow`) or until those there now are
    /// printed; returns the run's terminal status when it saw the end, and
    /// whether the stream said the service's stop cut the run short.
    async fn follow(&self, id: &str, follow: bool, json: bool) -> Result<Followed> {
        let path = format!("/v1/runs/{id}/events?from=0&follow={follow}");
        let mut response = self
            .http
            .get(Client::url(&path))
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        if !response.status().is_success() {
            let body: Value = response.json().await.unwrap_or(Value::Null);
            bail!(
                "{}",
                body["error"]
                    .as_str()
                    .unwrap_or("the service refused the request")
            );
        }
        // Bytes until an event is whole: a character may be split across
        // chunks.
        let mut pending: Vec<u8> = Vec::new();
        let mut followed = Followed::default();
        loop {
            let chunk = match response.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                // The service went away mid-stream (killed, say).
                Err(e) => bail!(
                    "the connection to the service closed before run {id} ended ({e}); if the \
                     service stopped, the next one resumes the run (`tracker logs -f {id}` then)"
                ),
            };
            pending.extend_from_slice(&chunk);
            while let Some(end) = pending.windows(2).position(|w| w == b"\n\n") {
                let bytes: Vec<u8> = pending.drain(..end + 2).collect();
                let event = String::from_utf8_lossy(&bytes);
                if event
                    .lines()
                    .any(|l| l.strip_prefix("event:").map(str::trim) == Some(SERVICE_STOPPED_EVENT))
                {
                    followed.stopped_by_service = true;
                    continue;
                }
                for data in event.lines().filter_map(|l| l.strip_prefix("data:")) {
                    let line = data.strip_prefix(' ').unwrap_or(data);
                    if let Ok(parsed) = PipelineEvent::from_line(line) {
                        if let Some(s) = &parsed.terminal_status {
                            followed.status = Some(s.clone());
                        }
                        let shown = if json {
                            parsed.to_ndjson_line()
                        } else if console::shows(&parsed) {
                            console::line(&parsed)
                        } else {
                            continue;
                        };
                        let mut out = std::io::stdout().lock();
                        // The reader gone (`| head`), following is pointless.
                        writeln!(out, "{shown}")?;
                    }
                }
            }
        }
        Ok(followed)
    }
}

/// What following a run's stream saw.
#[derive(Debug, Default)]
struct Followed {
    /// The run's terminal status, when its end was in the stream.
    status: Option<String>,
    /// The stream ended saying the service's stop cut the run short.
    stopped_by_service: bool,
}

/// The run directories of the service's runs, as it lists them (for the
/// dashboard attached to it).
pub fn run_dirs(socket: Option<&Path>) -> Result<Vec<PathBuf>> {
    block_on(async {
        let client = Client::new(socket)?;
        let listed = client.get("/v1/runs").await?;
        Ok(listed["runs"]
            .as_array()
            .map(|runs| {
                runs.iter()
                    .filter_map(|r| r["dir"].as_str().map(PathBuf::from))
                    .collect()
            })
            .unwrap_or_default())
    })
}

/// Cancels run `id` of the service; whether it was still going.
pub fn cancel_run(socket: Option<&Path>, id: &str) -> Result<bool> {
    block_on(async {
        let client = Client::new(socket)?;
        let answer = client
            .post(&format!("/v1/runs/{id}/cancel"), &Value::Null)
            .await?;
        Ok(answer["cancelled"].as_bool().unwrap_or(false))
    })
}

/// The gates run `id` of the service waits at, as the dashboard asks them.
pub fn waiting_gates(socket: Option<&Path>, id: &str) -> Result<Vec<GateRequest>> {
    block_on(async {
        let client = Client::new(socket)?;
        let listed = client.get(&format!("/v1/runs/{id}/gates")).await?;
        Ok(listed["gates"]
            .as_array()
            .map(|gates| gates.iter().map(|g| gate_request(id, g)).collect())
            .unwrap_or_default())
    })
}

/// A gate as the service lists it.
fn gate_request(run: &str, gate: &Value) -> GateRequest {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let texts = |v: &Value| {
        v.as_array()
            .map(|a| a.iter().map(text).collect())
            .unwrap_or_default()
    };
    GateRequest {
        run_id: run.to_string(),
        node_id: text(&gate["node_id"]),
        mode: GateMode::parse(gate["mode"].as_str().unwrap_or("choice")),
        label: text(&gate["label"]),
        prompt: text(&gate["prompt"]),
        choices: texts(&gate["choices"]),
        keys: Vec::new(),
        default: text(&gate["default"]),
        questions: gate["question_forms"]
            .as_array()
            .map(|forms| {
                forms
                    .iter()
                    .map(|q| Question {
                        id: text(&q["id"]),
                        text: text(&q["text"]),
                        context: text(&q["context"]),
                        options: texts(&q["options"]),
                        is_yes_no: q["yes_no"].as_bool().unwrap_or(false),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// Answers gate `node` of the service's run `id`.
pub fn answer_gate(socket: Option<&Path>, id: &str, node: &str, answer: &GateAnswer) -> Result<()> {
    block_on(async {
        let client = Client::new(socket)?;
        let answers: Vec<&str> = answer.answers.iter().map(|a| a.answer.as_str()).collect();
        client
            .post(
                &format!("/v1/runs/{id}/gates/{node}"),
                &json!({ "answer": answer.response, "answers": answers }),
            )
            .await?;
        Ok(())
    })
}

/// Resumes the service's run `id`; the id of the run going on from it.
pub fn resume_run(socket: Option<&Path>, id: &str) -> Result<String> {
    block_on(async {
        let client = Client::new(socket)?;
        let answer = client
            .post(&format!("/v1/runs/{id}/resume"), &json!({}))
            .await?;
        Ok(answer["run_id"].as_str().unwrap_or(id).to_string())
    })
}

/// Submits the pipeline file `path` (run in `workdir`); the new run's id.
pub fn submit_file(
    socket: Option<&Path>,
    pipeline: &std::ffi::OsStr,
    workdir: &Path,
    provider: Option<&str>,
) -> Result<String> {
    let pipeline = pipeline_argument(pipeline, workdir);
    block_on(async {
        let client = Client::new(socket)?;
        let mut body = json!({ "pipeline": pipeline, "workdir": workdir });
        if let Some(provider) = provider {
            body["provider"] = json!(provider);
        }
        let answer = client.post("/v1/runs", &body).await?;
        answer["run_id"]
            .as_str()
            .map(String::from)
            .ok_or_else(|| anyhow!("the service gave no run id"))
    })
}

/// The `pipeline` a submission sends for `given`: a file found from `cwd`
/// (as `tracker run` finds it: `flow` for `./flow.dip`) by its absolute path,
/// the service running elsewhere; anything else as given, for the service to
/// find in the run's working directory or among the built-ins.
fn pipeline_argument(given: &std::ffi::OsStr, cwd: &Path) -> String {
    match crate::pipeline::resolve(given, cwd) {
        Ok(PipelineSource::File(path)) if cwd.join(&path).is_file() => {
            let path = cwd.join(path);
            std::fs::canonicalize(&path)
                .unwrap_or(path)
                .to_string_lossy()
                .into_owned()
        }
        _ => given.to_string_lossy().into_owned(),
    }
}

/// Runs `future` on a small runtime of its own.
fn block_on<T>(future: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow!("runtime: {e}"))?
        .block_on(future)
}

/// `tracker submit`.
pub fn submit(args: &SubmitArgs) -> Result<u8> {
    let cwd = std::env::current_dir()?;
    let workdir = args
        .workdir
        .as_ref()
        .map_or_else(|| cwd.clone(), |w| cwd.join(w));
    let workdir = std::fs::canonicalize(&workdir)
        .map_err(|e| anyhow!("working directory {}: {e}", workdir.display()))?;
    let pipeline = pipeline_argument(&args.pipeline, &cwd);
    let mut params = serde_json::Map::new();
    for pair in &args.params {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| anyhow!("--param {pair:?}: expected KEY=VALUE"))?;
        params.insert(key.trim().to_string(), Value::String(value.to_string()));
    }
    let body = json!({
        "pipeline": pipeline,
        "workdir": workdir,
        "params": params,
        "auto_approve": args.auto_approve,
        "provider": args.provider,
        "model": args.model,
    });
    block_on(async {
        let client = Client::new(args.socket.as_deref())?;
        let answer = client.post("/v1/runs", &body).await?;
        let id = answer["run_id"]
            .as_str()
            .ok_or_else(|| anyhow!("the service gave no run id"))?
            .to_string();
        writeln!(std::io::stdout(), "{id}")?;
        if !args.wait {
            return Ok(exit::OK);
        }
        let followed = client.follow(&id, true, args.json).await?;
        Ok(match followed.status.as_deref() {
            Some("success" | "validation_overridden") if !followed.stopped_by_service => exit::OK,
            _ => {
                if client.ended_unseen(&id, &followed).await.is_none() {
                    client.was_cut(&id, &followed).await;
                }
                exit::FAILURE
            }
        })
    })
}

/// `tracker ps`.
pub fn ps(args: &PsArgs) -> Result<u8> {
    block_on(async {
        let client = Client::new(args.socket.as_deref())?;
        let answer = client.get("/v1/runs").await?;
        let runs = answer["runs"].as_array().cloned().unwrap_or_default();
        let shown: Vec<&Value> = runs
            .iter()
            .filter(|r| args.all || matches!(r["status"].as_str(), Some("queued" | "running")))
            .collect();
        if args.json {
            let shown = Value::Array(shown.into_iter().cloned().collect());
            writeln!(std::io::stdout(), "{shown}")?;
            return Ok(exit::OK);
        }
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "{:<14} {:<24} {:<22} {:>7}  GATE",
            "RUN ID", "WORKFLOW", "STATUS", "EVENTS"
        )?;
        for run in shown {
            let text = |key: &str| {
                dippin::diagnostic::printable_line(run[key].as_str().unwrap_or("")).into_owned()
            };
            // A run waiting for someone to answer a gate says so.
            let gate = if run["waiting_gate"].as_bool() == Some(true) {
                "waiting"
            } else {
                ""
            };
            writeln!(
                out,
                "{:<14} {:<24} {:<22} {:>7}  {gate}",
                text("run_id"),
                text("workflow"),
                text("status"),
                run["events"].as_u64().unwrap_or(0)
            )?;
        }
        Ok(exit::OK)
    })
}

/// `tracker logs`.
pub fn logs(args: &LogsArgs) -> Result<u8> {
    block_on(async {
        let client = Client::new(args.socket.as_deref())?;
        let followed = client.follow(&args.run, args.follow, args.json).await?;
        let ended_well = matches!(
            followed.status.as_deref(),
            Some("success" | "validation_overridden")
        ) && !followed.stopped_by_service;
        // A run that ended badly was still shown in full (exit 0, as for a
        // failed run); one the service's stop cut short was not.
        let cut = args.follow
            && !ended_well
            && client.ended_unseen(&args.run, &followed).await.is_none()
            && client.was_cut(&args.run, &followed).await;
        Ok(if cut { exit::FAILURE } else { exit::OK })
    })
}

/// `tracker answer`.
pub fn answer(args: &AnswerArgs) -> Result<u8> {
    block_on(async {
        let client = Client::new(args.socket.as_deref())?;
        client
            .post(
                &format!("/v1/runs/{}/gates/{}", args.run, args.node),
                &json!({ "answer": args.answer, "answers": args.answers }),
            )
            .await?;
        writeln!(
            std::io::stdout(),
            "answered gate {} of run {}",
            args.node,
            args.run
        )?;
        Ok(exit::OK)
    })
}

/// `tracker cancel`.
pub fn cancel(args: &CancelArgs) -> Result<u8> {
    block_on(async {
        let client = Client::new(args.socket.as_deref())?;
        let answer = client
            .post(&format!("/v1/runs/{}/cancel", args.run), &json!({}))
            .await?;
        if answer["cancelled"].as_bool() == Some(true) {
            writeln!(std::io::stdout(), "cancelling run {}", args.run)?;
        } else {
            writeln!(std::io::stdout(), "run {} had already ended", args.run)?;
        }
        Ok(exit::OK)
    })
}
