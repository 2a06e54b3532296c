//! The process's actors, started together: the event bus, the runtime
//! supervisor and the gate router, plus the shared [`Services`] runs use.

use std::sync::Arc;

use actix::prelude::*;
use tracker_handlers::human::Interviewer;
use tracker_handlers::tool_safety::ToolPolicy;
use tracker_handlers::{HandlerRegistry, Services};
use tracker_runtime::clock::Clock;
use tracker_runtime::llm::Completers;
use tracker_runtime::supervision::SupervisionPolicy;

use crate::bus::{BusSink, Deliver, EventBus, Subscribe, SubscriptionId};
use crate::child::ActorChildRunner;
use crate::gate::{GateRouter, Route, RoutedInterviewer};
use crate::run::RunSpec;
use crate::supervisor::RuntimeSupervisor;
use crate::supervisor::{StartRun, StartedRun};

/// The process-wide actors.
#[derive(Clone)]
pub struct Process {
    /// The event bus.
    pub bus: Addr<EventBus>,
    /// Starts and tracks runs.
    pub supervisor: Addr<RuntimeSupervisor>,
    /// Routes human gates.
    pub gates: Addr<GateRouter>,
}

impl Process {
    /// Subscribes `recipient` to the events of run `run_id`.
    pub async fn subscribe(
        &self,
        run_id: &str,
        recipient: Recipient<Deliver>,
    ) -> Result<SubscriptionId, MailboxError> {
        self.bus
            .send(Subscribe {
                run: Some(run_id.to_string()),
                recipient,
            })
            .await
    }

    /// Sends run `run_id`'s gates to `interviewer` (until it is unrouted).
    pub async fn route_gates(
        &self,
        run_id: &str,
        interviewer: Arc<dyn Interviewer>,
    ) -> Result<(), MailboxError> {
        self.gates
            .send(Route {
                run_id: run_id.to_string(),
                interviewer,
            })
            .await
    }

    /// Starts (or queues) a run.
    pub async fn start_run(&self, spec: RunSpec) -> Result<StartedRun, MailboxError> {
        self.supervisor.send(StartRun(spec)).await
    }

    /// A sink publishing to the bus.
    pub fn sink(&self) -> Arc<dyn tracker_handlers::EventSink> {
        Arc::new(BusSink::new(self.bus.clone()))
    }

    /// Starts the actors (inside a running actix system). A run's gates are
    /// answered only once it is routed ([`crate::gate::Route`]): a gate of a
    /// run with no route fails its node. `max_concurrent` bounds concurrent
    /// runs (0: no bound).
    pub fn start(max_concurrent: usize) -> Process {
        Process {
            bus: EventBus::default().start(),
            supervisor: RuntimeSupervisor::new(max_concurrent).start(),
            gates: GateRouter::new().start(),
        }
    }

    /// The services runs share: the built-in handlers (or `handlers`), these
    /// completers and tool policy, gates through the router, and child runs as
    /// run actors.
    pub fn services(
        &self,
        handlers: Option<HandlerRegistry>,
        completers: Completers,
        tool_policy: ToolPolicy,
        clock: Arc<dyn Clock>,
        supervision: SupervisionPolicy,
    ) -> Arc<Services> {
        Arc::new(Services {
            handlers: handlers.unwrap_or_else(HandlerRegistry::builtin),
            completers,
            interviewer: Arc::new(RoutedInterviewer::new(self.gates.clone())),
            tool_policy,
            children: Some(Arc::new(ActorChildRunner::new(clock, supervision))),
        })
    }
}
