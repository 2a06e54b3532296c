//! The event bus: one per process. Runs publish batches of events; every
//! subscriber whose filter matches receives each batch, in publish order.
//!
//! The bus actor keeps the table of subscriptions (by run, so a batch finds
//! its subscribers without looking at any other run's: a service holds
//! thousands); a publisher reads the table, queues the batch to each of its
//! subscribers itself and awaits every delivery (subscribers have bounded
//! mailboxes): its publish completes only then. Delivery is so
//! back-pressured end to end, and a run's batches arrive in the order it
//! published them; a slow subscriber slows down the runs it follows, and only
//! those — runs on other threads publish at the same time. Nothing queues
//! without bound and nothing is dropped.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use actix::prelude::*;
use dashmap::DashMap;
use tracker_handlers::{BoxFuture, EventSink};
use tracker_runtime::event::PipelineEvent;

/// A batch of events from one run, shared by every subscriber, with their
/// activity-log lines made once for all of them (the run's log and the
/// service's each want them; encoding is most of what a subscriber does).
#[derive(Clone, Debug)]
pub struct Batch(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    events: Vec<PipelineEvent>,
    lines: OnceLock<Vec<Arc<str>>>,
}

impl Batch {
    /// A batch of `events`.
    pub fn new(events: Vec<PipelineEvent>) -> Batch {
        Batch(Arc::new(Shared {
            events,
            lines: OnceLock::new(),
        }))
    }

    /// Each event's activity-log line
    /// ([`PipelineEvent::to_activity_line`]), made by the first subscriber
    /// that asks.
    pub fn activity_lines(&self) -> &[Arc<str>] {
        self.0.lines.get_or_init(|| {
            self.0
                .events
                .iter()
                .map(|e| Arc::from(e.to_activity_line()))
                .collect()
        })
    }
}

impl std::ops::Deref for Batch {
    type Target = [PipelineEvent];

    fn deref(&self) -> &[PipelineEvent] {
        &self.0.events
    }
}

/// Delivers a batch to a subscriber.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct Deliver(pub Batch);

/// Identifies a subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SubscriptionId(u64);

/// Subscribes `recipient` to the events of run `run` (every run when `None`).
#[derive(Message)]
#[rtype(result = "SubscriptionId")]
pub struct Subscribe {
    /// The run to follow, or all.
    pub run: Option<String>,
    /// Who receives the events.
    pub recipient: Recipient<Deliver>,
}

/// Ends a subscription.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Unsubscribe(pub SubscriptionId);

#[derive(Clone)]
struct Subscription {
    id: SubscriptionId,
    recipient: Recipient<Deliver>,
}

/// Who follows what: changed by the bus actor, read by publishers.
#[derive(Default)]
struct Table {
    /// Subscriptions to every run.
    everything: RwLock<Vec<Subscription>>,
    /// Subscriptions to one run, by its id.
    by_run: DashMap<String, Vec<Subscription>>,
}

impl Table {
    /// Who receives a batch of run `run`: the subscribers to every run, then
    /// the run's own.
    fn targets(&self, run: Option<&str>) -> Vec<Recipient<Deliver>> {
        let everything = self
            .everything
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let mut targets: Vec<Recipient<Deliver>> =
            everything.iter().map(|s| s.recipient.clone()).collect();
        if let Some(of_run) = run.and_then(|r| self.by_run.get(r)) {
            targets.extend(of_run.iter().map(|s| s.recipient.clone()));
        }
        targets
    }
}

/// The process's event bus.
#[derive(Default)]
pub struct EventBus {
    table: Arc<Table>,
    /// The run each subscription follows (`None`: every run), to end it.
    runs: HashMap<SubscriptionId, Option<String>>,
    next_id: u64,
}

impl EventBus {
    /// A sink publishing to this bus's subscribers.
    pub fn sink(&self) -> BusSink {
        BusSink {
            table: Arc::clone(&self.table),
        }
    }
}

impl Actor for EventBus {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(256);
    }
}

impl Handler<Subscribe> for EventBus {
    type Result = MessageResult<Subscribe>;

    fn handle(&mut self, msg: Subscribe, _: &mut Self::Context) -> Self::Result {
        self.next_id += 1;
        let id = SubscriptionId(self.next_id);
        self.runs.insert(id, msg.run.clone());
        let subscription = Subscription {
            id,
            recipient: msg.recipient,
        };
        match msg.run {
            None => self
                .table
                .everything
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .push(subscription),
            Some(run) => self.table.by_run.entry(run).or_default().push(subscription),
        }
        MessageResult(id)
    }
}

impl Handler<Unsubscribe> for EventBus {
    type Result = ();

    fn handle(&mut self, msg: Unsubscribe, _: &mut Self::Context) {
        match self.runs.remove(&msg.0) {
            Some(None) => self
                .table
                .everything
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|s| s.id != msg.0),
            Some(Some(run)) => {
                let emptied = self.table.by_run.get_mut(&run).is_some_and(|mut list| {
                    list.retain(|s| s.id != msg.0);
                    list.is_empty()
                });
                if emptied {
                    self.table.by_run.remove_if(&run, |_, list| list.is_empty());
                }
            }
            None => {}
        }
    }
}

/// An [`EventSink`] that publishes to the bus's subscribers.
#[derive(Clone)]
pub struct BusSink {
    table: Arc<Table>,
}

impl EventSink for BusSink {
    fn emit(&self, event: PipelineEvent) -> BoxFuture<()> {
        self.emit_batch(vec![event])
    }

    fn emit_batch(&self, events: Vec<PipelineEvent>) -> BoxFuture<()> {
        let table = Arc::clone(&self.table);
        Box::pin(async move {
            let Some(first) = events.first() else {
                return;
            };
            let targets = table.targets(first.run_id.as_deref());
            let batch = Batch::new(events);
            // Queued to every subscriber before any is awaited (a send
            // enqueues at once when the mailbox has room), so a publisher
            // dropped meanwhile — a cancelled branch — leaves the subscribers
            // agreeing, and they take it in parallel.
            let deliveries: Vec<_> = targets
                .iter()
                .map(|target| target.send(Deliver(batch.clone())))
                .collect();
            for delivery in deliveries {
                // A subscriber that has stopped just misses the batch.
                let _ = delivery.await;
            }
        })
    }
}

/// An [`EventSink`] for a child run: prefixes node ids with `<parent>/`, drops
/// the child's own `pipeline_*` events, and forwards the rest to the parent's
/// sink (engine-semantics §5.7).
pub struct PrefixSink {
    parent: Arc<dyn EventSink>,
    prefix: String,
}

impl PrefixSink {
    /// Forwards to `parent`, prefixing with `<node>/`.
    pub fn new(parent: Arc<dyn EventSink>, node: &str) -> PrefixSink {
        PrefixSink {
            parent,
            prefix: format!("{node}/"),
        }
    }

    fn rewrite(&self, mut event: PipelineEvent) -> Option<PipelineEvent> {
        use tracker_runtime::event::EventKind;
        if matches!(
            event.kind,
            EventKind::PipelineStarted | EventKind::PipelineCompleted | EventKind::PipelineFailed
        ) {
            return None;
        }
        if let Some(node) = &event.node_id {
            event.node_id = Some(format!("{}{node}", self.prefix));
        }
        // The child's terminal status is its own; in the parent's stream only
        // the parent's terminal event may carry one.
        event.terminal_status = None;
        Some(event)
    }
}

impl EventSink for PrefixSink {
    fn emit(&self, event: PipelineEvent) -> BoxFuture<()> {
        match self.rewrite(event) {
            Some(event) => self.parent.emit(event),
            None => Box::pin(async {}),
        }
    }

    fn emit_batch(&self, events: Vec<PipelineEvent>) -> BoxFuture<()> {
        let events: Vec<PipelineEvent> =
            events.into_iter().filter_map(|e| self.rewrite(e)).collect();
        self.parent.emit_batch(events)
    }
}
