//! The service's HTTP/JSON API, on its Unix socket:
//!
//! | method and path | what |
//! |---|---|
//! | `GET /v1/health` | `{"ok": true, "runs": N, "usage": …}`: agent sessions in use, each provider's attempts, retries, 429s and held-back requests |
//! | `POST /v1/runs` | submit a [`Submission`]; `201 {"run_id": …}` |
//! | `GET /v1/runs` | every run: id, workflow, status, directory, events so far |
//! | `GET /v1/runs/{id}` | one run |
//! | `POST /v1/runs/{id}/cancel` | cancel it; `{"cancelled": bool}` |
//! | `POST /v1/runs/{id}/resume` | resume one of its runs that ended without success, or (`{"workdir": …}`) a run recorded there by another process; `{"run_id": …}`, 409 when it is going or held |
//! | `GET /v1/runs/{id}/gates` | its gates waiting for an answer |
//! | `POST /v1/runs/{id}/gates/{node}` | answer one: `{"answer": …, "answers": [… per interview question]}`; 400 when a choice or yes/no gate's answer names none of its options (or is empty with no default) or an interview gets more answers than questions, 409 when answered already |
//! | `POST /v1/limits` | `{"max_cost_usd": 12.5}` sets (or `null` lifts) the cost ceiling; calls paused at the old one go on if under the new |
//! | `GET /v1/events?from=N&follow=B` | every run's events, interleaved, as server-sent events from the service-wide `N`th (the service keeps the latest lines; an older `N` starts at the oldest kept) |
//! | `GET /v1/runs/{id}/events?from=N&follow=B` | its events as server-sent events, from the `N`th (0 = the whole run), then live until it ends (`follow=false`: those there now) |
//!
//! Bad requests get a 4xx with `{"error": …}` naming the field: malformed or
//! oversized JSON 400/413, an unknown run or gate 404, a gate answered twice
//! or a run resumed while it is going 409. A submission the service has no
//! room for (out of open files) gets 503.

use std::convert::Infallible;
use std::sync::{Arc, PoisonError};

use actix::Addr;
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::events::EventLog;
use super::gates::{AnswerError, Gates};
use super::service::{
    ApiError, Resume, ResumeRequest, RunEntry, Service, Shared, Submission, Submit, Usage,
};

/// The largest request body taken.
pub const MAX_BODY: usize = 1024 * 1024;
/// The most of a refused body read (and dropped) before the 413 is sent.
const MAX_DRAINED: usize = 64 * 1024 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct Api {
    /// The service actor (submissions go through it).
    pub service: Addr<Service>,
    /// The runs, gates, events and spending, read directly.
    pub shared: Shared,
}

/// The router.
pub fn router(api: Api) -> Router {
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/events", get(all_events))
        .route("/v1/limits", post(limits))
        .route("/v1/runs", post(submit).get(list))
        .route("/v1/runs/{id}", get(status))
        .route("/v1/runs/{id}/cancel", post(cancel))
        .route("/v1/runs/{id}/resume", post(resume))
        .route("/v1/runs/{id}/events", get(events))
        .route("/v1/runs/{id}/gates", get(gates))
        .route("/v1/runs/{id}/gates/{node}", post(answer))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such endpoint".into()) })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(refuse_oversized))
        .with_state(api)
}

/// Answers a body declared larger than [`MAX_BODY`] with 413 once it has been
/// read and dropped (up to [`MAX_DRAINED`]): answered at once, a client still
/// writing it would find its connection closed instead of the answer.
async fn refuse_oversized(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|length| *length > MAX_BODY);
    let Some(length) = declared else {
        return next.run(request).await;
    };
    let mut body = request.into_body().into_data_stream();
    let mut read = 0;
    while read <= MAX_DRAINED {
        match futures_util::StreamExt::next(&mut body).await {
            Some(Ok(chunk)) => read += chunk.len(),
            _ => break,
        }
    }
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("body: {length} bytes, more than the {MAX_BODY} taken"),
    )
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::Invalid(_) => StatusCode::BAD_REQUEST,
            ApiError::UnknownRun(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        error(status, self.to_string())
    }
}

/// An unreadable body: too large stays 413, anything else is the client's
/// malformed request (400).
fn rejected(rejection: JsonRejection) -> Response {
    let status = match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::BAD_REQUEST,
    };
    error(status, format!("body: {}", rejection.body_text()))
}

fn describe(run: &RunEntry, gates: &Gates) -> Value {
    json!({
        "run_id": run.run_id,
        "workflow": run.workflow,
        "status": run.state().name(),
        "waiting_gate": gates.any_waiting(&run.run_id),
        "dir": run.dir().display().to_string(),
        "events": run.events.len(),
        // Cut short by the service stopping: the next service resumes it.
        "stopped_by_service": run.stopped_by_service(),
    })
}

fn find(api: &Api, id: &str) -> Result<Arc<RunEntry>, ApiError> {
    api.shared
        .runs
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(id)
        .cloned()
        .ok_or_else(|| ApiError::UnknownRun(id.to_string()))
}

async fn health(State(api): State<Api>) -> Json<Value> {
    let runs = api
        .shared
        .runs
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .len();
    let usage = api.service.send(Usage).await.unwrap_or(Value::Null);
    Json(json!({ "ok": true, "runs": runs, "usage": usage }))
}

async fn submit(
    State(api): State<Api>,
    body: Result<Json<Submission>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(submission) = match body {
        Ok(json) => json,
        Err(rejection) => return Ok(rejected(rejection)),
    };
    let run_id = api
        .service
        .send(Submit(submission))
        .await
        .map_err(|e| ApiError::Internal(format!("service: {e}")))??;
    Ok((StatusCode::CREATED, Json(json!({ "run_id": run_id }))).into_response())
}

async fn list(State(api): State<Api>) -> Json<Value> {
    let runs: Vec<Value> = api
        .shared
        .runs
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .values()
        .map(|run| describe(run, &api.shared.gates))
        .collect();
    Json(json!({ "runs": runs }))
}

async fn status(State(api): State<Api>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let run = find(&api, &id)?;
    Ok(Json(describe(&run, &api.shared.gates)))
}

async fn cancel(State(api): State<Api>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let run = find(&api, &id)?;
    Ok(Json(json!({ "cancelled": run.cancel().await })))
}

/// New service-wide limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewLimits {
    /// The cost ceiling in dollars (`null`: none); absent is refused, not
    /// taken for `null` (an empty body must not lift a spending limit).
    #[serde(default, deserialize_with = "present")]
    max_cost_usd: Option<Option<f64>>,
}

/// A field that is there, `null` or not (absent stays `None`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<f64>>, D::Error> {
    Option::<f64>::deserialize(d).map(Some)
}

async fn limits(
    State(api): State<Api>,
    body: Result<Json<NewLimits>, JsonRejection>,
) -> Result<Response, ApiError> {
    let limits = match body {
        Ok(Json(limits)) => limits,
        Err(rejection) => return Ok(rejected(rejection)),
    };
    let Some(ceiling) = limits.max_cost_usd else {
        return Err(ApiError::Invalid(
            "max_cost_usd: required (dollars, or null to lift the ceiling)".into(),
        ));
    };
    if let Some(usd) = ceiling {
        if !usd.is_finite() || usd < 0.0 {
            return Err(ApiError::Invalid(format!(
                "max_cost_usd: {usd} is not an amount of dollars"
            )));
        }
    }
    api.shared.spending.set_ceiling(ceiling);
    Ok(Json(json!({ "max_cost_usd": ceiling })).into_response())
}

async fn resume(
    State(api): State<Api>,
    Path(id): Path<String>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            return Ok(error(
                rejection.status(),
                format!("body: {}", rejection.body_text()),
            ))
        }
    };
    // No body is a plain resume.
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        ResumeRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::Invalid(format!("body: {e}")))?
    };
    let run_id = api
        .service
        .send(Resume { id, request })
        .await
        .map_err(|e| ApiError::Internal(format!("service: {e}")))??;
    Ok(Json(json!({ "run_id": run_id })).into_response())
}

async fn gates(State(api): State<Api>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    find(&api, &id)?;
    Ok(Json(json!({ "gates": api.shared.gates.waiting(&id) })))
}

/// An answer to a gate.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GateReply {
    /// The choice or text.
    #[serde(default)]
    answer: String,
    /// One per question, for an interview.
    #[serde(default)]
    answers: Vec<String>,
}

async fn answer(
    State(api): State<Api>,
    Path((id, node)): Path<(String, String)>,
    body: Result<Json<GateReply>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(reply) = match body {
        Ok(json) => json,
        Err(rejection) => return Ok(rejected(rejection)),
    };
    let run = find(&api, &id)?;
    match api
        .shared
        .gates
        .answer(&id, &node, reply.answer, reply.answers)
    {
        Ok(()) => Ok(Json(json!({ "answered": true })).into_response()),
        Err(e @ AnswerError::AlreadyAnswered { .. }) => {
            Ok(error(StatusCode::CONFLICT, e.to_string()))
        }
        // The run is ending or has ended (and the service forgot its
        // gates): its log says whether the gate was answered.
        Err(AnswerError::NotWaiting { .. }) if resolved_in(&run, &node) => Ok(error(
            StatusCode::CONFLICT,
            AnswerError::AlreadyAnswered { run: id, node }.to_string(),
        )),
        Err(e @ AnswerError::NotWaiting { .. }) => Ok(error(StatusCode::NOT_FOUND, e.to_string())),
        Err(
            e @ (AnswerError::NotAChoice(_)
            | AnswerError::Empty { .. }
            | AnswerError::AnswerCount { .. }),
        ) => Ok(error(StatusCode::BAD_REQUEST, e.to_string())),
    }
}

/// Whether gate `node` of `run` was answered: its events say so. (Not only
/// once the run is seen to have ended: its gates are forgotten just before.)
fn resolved_in(run: &RunEntry, node: &str) -> bool {
    let node = format!("\"node_id\":{}", serde_json::Value::from(node));
    run.events
        .snapshot_from(0)
        .lines
        .iter()
        .any(|line| line.contains("\"type\":\"gate_resolved\"") && line.contains(&node))
}

/// `?from=N&follow=false`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct From {
    /// The first event sent (0: the whole run).
    #[serde(default)]
    from: usize,
    /// Keep the stream open until the run ends (default), or send what there
    /// is and stop.
    #[serde(default = "yes")]
    follow: bool,
}

fn yes() -> bool {
    true
}

async fn events(
    State(api): State<Api>,
    Path(id): Path<String>,
    query: Result<Query<From>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(from) = query.map_err(|e| ApiError::Invalid(format!("from: {}", e.body_text())))?;
    let run = find(&api, &id)?;
    // A run the service's stop cut short ends its stream saying so, before
    // the service goes: a follower cannot ask afterwards.
    let stopped = Arc::clone(&run);
    Ok(stream(
        Arc::clone(&run.events),
        from,
        Some(Box::new(move || stopped.stopped_by_service())),
    ))
}

async fn all_events(
    State(api): State<Api>,
    query: Result<Query<From>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(from) = query.map_err(|e| ApiError::Invalid(format!("from: {}", e.body_text())))?;
    Ok(stream(Arc::clone(&api.shared.all_events), from, None))
}

/// The SSE event type that ends a run's stream when the service's stop cut
/// the run short (the next service resumes it); its data is a sentence
/// saying so.
pub const SERVICE_STOPPED_EVENT: &str = "service_stopped";

/// Whether a stream's run was stopped by the service, asked when its log
/// closes.
type StoppedByService = Box<dyn Fn() -> bool + Send + Sync>;

/// `log` as server-sent events from `from.from`, each with its offset as its
/// id; following it until it closes when `from.follow`, and then, if
/// `stopped` says the service's stop closed it, a [`SERVICE_STOPPED_EVENT`].
fn stream(
    log: Arc<EventLog>,
    From { from, follow }: From,
    stopped: Option<StoppedByService>,
) -> Response {
    let stopped = stopped.map(Arc::new);
    let stream = futures_util::stream::unfold(Some(from), move |next| {
        let log = Arc::clone(&log);
        let stopped = stopped.clone();
        async move {
            let offset = next?;
            let slice = if follow {
                log.read_from(offset).await
            } else {
                log.snapshot_from(offset)
            };
            let start = slice.start;
            let count = slice.lines.len();
            let mut events: Vec<Result<Event, Infallible>> = slice
                .lines
                .iter()
                .enumerate()
                .map(|(i, line)| Ok(Event::default().id((start + i).to_string()).data(&**line)))
                .collect();
            if follow && slice.closed && stopped.is_some_and(|stopped| stopped()) {
                events.push(Ok(Event::default().event(SERVICE_STOPPED_EVENT).data(
                    "the service stopped before the run ended; the next service resumes it",
                )));
            }
            let next = if slice.closed || !follow {
                None
            } else {
                Some(start + count)
            };
            Some((futures_util::stream::iter(events), next))
        }
    });
    use futures_util::StreamExt;
    Sse::new(stream.flatten()).into_response()
}
