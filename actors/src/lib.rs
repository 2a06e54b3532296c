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
//! * [`launch`] — the one way a run is started: [`launch::launch`] wires it and
//!   returns a handle to cancel it and wait for it;
//! * [`run_dir`] — the run directory: creation, lookup by id prefix, resume,
//!   the workflow copy;
//! * [`gate`] — the gate router (who answers a run's gates; the console's
//!   interviewer is the command line's);
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
pub mod commit_log;
pub mod gate;
pub mod launch;
pub mod node;
pub mod process;
pub mod provider;
pub mod run;
pub mod run_dir;
pub mod run_lock;
pub mod seal;
pub mod store;
pub mod supervisor;
pub mod writer;
