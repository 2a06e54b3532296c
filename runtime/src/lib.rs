//! `tracker-runtime`: the pure core of running a pipeline.
//!
//! Everything here turns values into values: no actors, no sockets, no clock reads
//! (time and randomness are passed in). The modules so far:
//!
//! * [`plan`] — the spawn plan: a validated workflow compiled for execution
//!   (handlers, edges in iteration order, joins, graph attributes);
//! * [`event`] — the 35 pipeline event types, their wire names, and the
//!   `activity.jsonl` / `--json` NDJSON line formats;
//! * [`checkpoint`] — `checkpoint.json`;
//! * [`usage`] — per-session statistics and the run's usage summary;
//! * [`gojson`] — JSON text byte-identical to Go's `encoding/json`, which the
//!   conformance goldens are written in.
//!
//! * [`context`] — the pipeline context: values, dirty tracking, node scoping;
//! * [`interpolate`] — `${ns.key}` and `$name` expansion;
//! * [`condition`] — evaluating edge conditions against the context;
//! * [`routing`] — choosing the next edge, in the reference's priority order;
//! * [`retry`] — retry policies and backoff;
//! * [`llm`] — the LLM request/response model, provider codecs, SSE decoding,
//!   error classification and provider configuration (no sockets: HTTP is the
//!   provider actors');
//! * [`agent`] — the native coding agent: its turn loop and built-in tools;
//! * [`secrets`] — which environment variables never reach commands.

pub mod attrs;
pub mod checkpoint;
pub mod clock;
pub mod condition;
pub mod context;
pub mod engine;
pub mod event;
pub mod fidelity;
pub mod gojson;
pub mod golden;
pub mod handler;
pub mod interpolate;
pub mod journal;
pub mod outcome;
pub mod plan;
pub mod retry;
pub mod routing;
pub mod supervision;
pub mod time;
pub mod usage;

// The crates split off by role (ADR 0006), under the paths they had here, so
// that `tracker_runtime::llm::…` and `crate::agent::…` keep meaning the same.
pub use tracker_agent as agent;
pub use tracker_agent::tool_safety;
pub use tracker_llm as llm;
pub use tracker_stdx::{future, private_files, process_groups, secrets, text};

mod wire_enum;
