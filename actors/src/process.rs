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
    /// Publishes to the bus's subscribers.
    publisher: BusSink,
    /// Starts and tracks runs.
    pub supervisor: Addr<RuntimeSupervisor>,
    /// Routes human gates.
    pub gates: Addr<GateRouter>,
    /// Threads of its own that runs are spread over, in turn (none: runs share
    /// the thread that starts them).
    threads: Arc<Threads>,
}

/// A process's run threads: actix arbiters of its system, stopping with it.
#[derive(Default)]
struct Threads {
    arbiters: Vec<actix::ArbiterHandle>,
    next: std::sync::atomic::AtomicUsize,
}

impl Threads {
    /// The thread the next run goes to.
    fn next(&self) -> Option<&actix::ArbiterHandle> {
        if self.arbiters.is_empty() {
            return None;
        }
        let turn = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.arbiters.get(turn % self.arbiters.len())
    }
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
        Arc::new(self.publisher.clone())
    }

    /// Starts the actors (inside a running actix system). A run's gates are
    /// answered only once it is routed ([`crate::gate::Route`]): a gate of a
    /// run with no route fails its node. `max_concurrent` bounds concurrent
    /// runs (0: no bound).
    pub fn start(max_concurrent: usize) -> Process {
        Process::start_on_threads(max_concurrent, 0)
    }

    /// [`Process::start`], with `threads` threads of its own to spread runs
    /// over (see [`Process::spawn`]): for a process running many runs at once,
    /// so that their engines, node work and files use every core while the
    /// starting thread stays free for its own work.
    pub fn start_on_threads(max_concurrent: usize, threads: usize) -> Process {
        let bus = EventBus::default();
        Process {
            publisher: bus.sink(),
            bus: bus.start(),
            supervisor: RuntimeSupervisor::new(max_concurrent).start(),
            gates: GateRouter::new().start(),
            threads: Arc::new(Threads {
                arbiters: (0..threads)
                    .map(|_| actix::Arbiter::new().handle())
                    .collect(),
                next: Default::default(),
            }),
        }
    }

    /// Runs `work` — a run's launch and its wait — on the next of the
    /// process's run threads, or on the current thread when it has none. A
    /// run launched from there keeps that thread for all its actors. Returns
    /// false if the thread has stopped (the system is stopping).
    pub fn spawn(&self, work: impl std::future::Future<Output = ()> + Send + 'static) -> bool {
        match self.threads.next() {
            Some(thread) => thread.spawn(work),
            None => {
                actix::spawn(work);
                true
            }
        }
    }

    /// The thread a run launched now should keep: the current one, when the
    /// process spreads its runs over threads (it is then launched from one of
    /// them, by [`Process::spawn`]).
    pub(crate) fn home(&self) -> Option<actix::ArbiterHandle> {
        (!self.threads.arbiters.is_empty()).then(actix::Arbiter::current)
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
