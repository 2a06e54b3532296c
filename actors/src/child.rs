//! Child runs (subgraphs, manager loops) as run actors of their own.

use std::sync::Arc;

use actix::prelude::*;
use tracker_handlers::child::{ChildRun, ChildRunner};
use tracker_runtime::clock::Clock;
use tracker_runtime::engine::{EngineConfig, RunEnd};
use tracker_runtime::future::BoxFuture;
use tracker_runtime::supervision::SupervisionPolicy;

use crate::bus::PrefixSink;
use crate::run::{RunActor, RunSpec};

/// Starts each child run as a [`RunActor`] whose events go, prefixed, to the
/// parent's sink. Children keep no checkpoint and no artifact directory, as in
/// the reference.
pub struct ActorChildRunner {
    clock: Arc<dyn Clock>,
    supervision: SupervisionPolicy,
}

impl ActorChildRunner {
    /// A runner whose children are supervised by `supervision`.
    pub fn new(clock: Arc<dyn Clock>, supervision: SupervisionPolicy) -> ActorChildRunner {
        ActorChildRunner { clock, supervision }
    }
}

impl ChildRunner for ActorChildRunner {
    fn run(&self, run: ChildRun) -> BoxFuture<RunEnd> {
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let spec = RunSpec {
            plan: run.plan,
            config: EngineConfig {
                run_id: run.run_id,
                budget: run.budget,
                baseline_usage: run.baseline_usage,
                initial_context: run.initial_context,
                ..EngineConfig::default()
            },
            services: run.services,
            subgraphs: run.subgraphs,
            workdir: run.workdir,
            store: None,
            events: Arc::new(PrefixSink::new(run.events, &run.parent_node)),
            supervision: self.supervision.clone(),
            clock: Arc::clone(&self.clock),
            cancel: Some(run.cancel),
            steering: run.steering,
            // Started below, on the parent's thread.
            home: None,
            turn: None,
            records: run.records,
        };
        // Handlers run in plain tasks; actors must be started from inside the
        // arbiter, so the child is started through the arbiter's handle.
        match actix::Arbiter::try_current() {
            Some(arbiter) => {
                arbiter.spawn_fn(move || {
                    RunActor::new(spec, done_tx).start();
                });
            }
            None => {
                let _ = done_tx.send(RunEnd {
                    checkpoint_error: None,
                    result: None,
                    error: Some("child runs need the actor runtime".into()),
                });
            }
        }
        Box::pin(async move {
            done_rx.await.unwrap_or_else(|_| RunEnd {
                checkpoint_error: None,
                result: None,
                error: Some("child run ended without reporting".into()),
            })
        })
    }
}
