//! The event bus: one per process. Runs publish batches of events; every
//! subscriber whose filter matches receives each batch, in publish order.
//!
//! Delivery is back-pressured end to end: the bus hands a batch to each
//! subscriber with `send(..).await` (subscribers have bounded mailboxes) and
//! does not take the next batch until this one is delivered, and a publisher's
//! `send` completes only then. A slow subscriber slows its runs down; nothing
//! queues without bound and nothing is dropped.

use std::sync::Arc;

use actix::prelude::*;
use tracker_handlers::{BoxFuture, EventSink};
use tracker_runtime::event::PipelineEvent;

/// A batch of events from one run, shared by every subscriber.
pub type Batch = Arc<Vec<PipelineEvent>>;

/// Publishes a batch.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Publish(pub Batch);

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

struct Subscription {
    id: SubscriptionId,
    run: Option<String>,
    recipient: Recipient<Deliver>,
}

/// The process's event bus.
#[derive(Default)]
pub struct EventBus {
    subscriptions: Vec<Subscription>,
    next_id: u64,
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
        self.subscriptions.push(Subscription {
            id,
            run: msg.run,
            recipient: msg.recipient,
        });
        MessageResult(id)
    }
}

impl Handler<Unsubscribe> for EventBus {
    type Result = ();

    fn handle(&mut self, msg: Unsubscribe, _: &mut Self::Context) {
        self.subscriptions.retain(|s| s.id != msg.0);
    }
}

impl Handler<Publish> for EventBus {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, msg: Publish, _: &mut Self::Context) -> Self::Result {
        let run = msg.0.first().and_then(|e| e.run_id.clone());
        let targets: Vec<Recipient<Deliver>> = self
            .subscriptions
            .iter()
            .filter(|s| s.run.is_none() || s.run == run)
            .map(|s| s.recipient.clone())
            .collect();
        let batch = msg.0;
        AtomicResponse::new(Box::pin(
            async move {
                for target in targets {
                    // A subscriber that has stopped just misses the batch.
                    let _ = target.send(Deliver(Arc::clone(&batch))).await;
                }
            }
            .into_actor(self),
        ))
    }
}

/// An [`EventSink`] that publishes to the bus.
#[derive(Clone)]
pub struct BusSink {
    bus: Addr<EventBus>,
}

impl BusSink {
    /// A sink publishing to `bus`.
    pub fn new(bus: Addr<EventBus>) -> BusSink {
        BusSink { bus }
    }
}

impl EventSink for BusSink {
    fn emit(&self, event: PipelineEvent) -> BoxFuture<()> {
        self.emit_batch(vec![event])
    }

    fn emit_batch(&self, events: Vec<PipelineEvent>) -> BoxFuture<()> {
        let bus = self.bus.clone();
        Box::pin(async move {
            if !events.is_empty() {
                let _ = bus.send(Publish(Arc::new(events))).await;
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
