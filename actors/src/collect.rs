//! A subscriber that keeps every event it receives, in order (the conformance
//! harness and tests read them back).

use actix::prelude::*;
use tracker_runtime::event::PipelineEvent;

use crate::bus::Deliver;

/// Keeps events.
#[derive(Default)]
pub struct Collector {
    events: Vec<PipelineEvent>,
}

impl Actor for Collector {
    type Context = Context<Self>;
}

impl Handler<Deliver> for Collector {
    type Result = ();

    fn handle(&mut self, msg: Deliver, _: &mut Self::Context) {
        self.events.extend(msg.0.iter().cloned());
    }
}

/// Takes the events received so far.
#[derive(Message)]
#[rtype(result = "Vec<PipelineEvent>")]
pub struct TakeEvents;

impl Handler<TakeEvents> for Collector {
    type Result = MessageResult<TakeEvents>;

    fn handle(&mut self, _: TakeEvents, _: &mut Self::Context) -> Self::Result {
        MessageResult(std::mem::take(&mut self.events))
    }
}
