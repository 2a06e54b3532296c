//! `tracker-runtime`: the pure core of running a pipeline.
//!
//! Everything here turns values into values: no actors, no sockets, no clock reads
//! (time and randomness are passed in). The modules so far are the on-disk and
//! on-the-wire formats the reference defines:
//!
//! * [`event`] — the 35 pipeline event types, their wire names, and the
//!   `activity.jsonl` / `--json` NDJSON line formats;
//! * [`checkpoint`] — `checkpoint.json`;
//! * [`usage`] — per-session statistics and the run's usage summary;
//! * [`gojson`] — JSON text byte-identical to Go's `encoding/json`, which the
//!   conformance goldens are written in.
//!
//! The spawn plan, context, routing and retry logic follow in later changes.

pub mod checkpoint;
pub mod event;
pub mod gojson;
pub mod usage;
