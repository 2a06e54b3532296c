//! `tracker-actors`: the actor layer (actix).
//!
//! * [`supervisor`] — the process's [`RuntimeSupervisor`](supervisor::RuntimeSupervisor):
//!   starts, queues, cancels and registers runs;
//! * [`run`] — one [`RunActor`](run::RunActor) per run, driving the runtime's engine
//!   and supervising node attempts;
//! * [`node`] — one [`NodeActor`](node::NodeActor) per node attempt, catching panics;
//! * [`writer`] and [`store`] — the per-run checkpoint writer and its files;
//! * [`bus`] — the process's event bus and the event sinks runs publish through;
//! * [`activity`] — the `activity.jsonl` subscriber, and [`seal`], which tells its lines from forged ones;
//! * [`gate`] — the gate router and the console interviewer;
//! * [`child`] — child runs (subgraphs, manager loops) as run actors;
//! * [`collect`] — a subscriber that keeps events (conformance, tests);
//! * [`provider`] — LLM provider actors shared by every run, and their HTTP transport;
//! * [`process`] — the process-wide actors started together, and the shared services;
//! * [`clock`] — the system clock.

pub mod activity;
pub mod bus;
pub mod child;
pub mod clock;
pub mod collect;
pub mod gate;
pub mod node;
pub mod process;
pub mod provider;
pub mod run;
pub mod run_lock;
pub mod seal;
pub mod store;
pub mod supervisor;
pub mod writer;
