//! What a run prints: the console event lines, the `--json` stream, and the
//! summary at the end. The printers are event-bus subscribers.

pub mod console;
pub mod failure;
pub mod ndjson;
pub mod resume_hint;
pub mod summary;
pub mod totals;
