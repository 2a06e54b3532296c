//! `tracker-runtime`: the engine, its rules and the on-disk formats (ADR 0006).
//!
//! **Owns** what a run *means*: the engine as a state machine with no I/O
//! ([`engine`]), the rules it and the handlers apply ([`routing`], [`retry`],
//! [`condition`], [`context`], [`interpolate`], [`fidelity`], [`supervision`]
//! decisions), the spawn [`plan`] and its typed node [`spec`]s, and the formats
//! ([`event`], [`time`], [`checkpoint`], [`journal`], [`usage`], [`gojson`],
//! [`golden`]). **Must not depend on** actix, open a socket or run a node: the
//! actors drive the engine and do the HTTP, and the built-in handlers are
//! `tracker-handlers`, which builds on this crate. It reads the time only
//! through a [`clock::Clock`], and the engine does no I/O.
//!
//! The crates split off by role are re-exported under the paths they had here:
//! [`llm`] (`tracker-llm`), [`agent`] and [`tool_safety`] (`tracker-agent`), and
//! [`future`], [`private_files`], [`process_groups`], [`secrets`] and [`text`]
//! (`tracker-stdx`).

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
pub mod interpolate;
pub mod jitter;
pub mod journal;
pub mod marker;
pub mod outcome;
pub mod plan;
pub mod retry;
pub mod routing;
pub mod scenario;
pub mod spec;
pub mod supervision;
pub mod time;
pub mod usage;

// The crates split off by role (ADR 0006), under the paths they had here, so
// that `tracker_runtime::llm::…` and `crate::agent::…` keep meaning the same.
pub use tracker_agent as agent;
pub use tracker_agent::tool_safety;
pub use tracker_llm as llm;
pub use tracker_stdx::{future, gauge, private_files, process_groups, secrets, text};

mod wire_enum;
