//! `llm_fallbacks`: the provider/model lanes an agent falls back to when its
//! provider says the account is out of credit (user-surface §6). A comma-
//! separated list of `provider/model`, a node's `params:` entry (read by
//! [`tracker_runtime::spec::fallbacks`]); the session's own provider and
//! model are the first lane.
//!
//! Only a billing error moves a session to the next lane (a rate limit or an
//! outage is the provider client's to retry), and it stays there for the rest
//! of the session. Each move is a `provider_failover` event. When the last
//! lane is out of credit too, its error ends the session, and the run pauses
//! (`paused_billing`) as without fallbacks.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tracker_runtime::event::EventKind;
use tracker_runtime::future::BoxFuture;
use tracker_runtime::llm::{
    Completer, Completers, NoticeSink, ProviderError, Request, Response, TextSink,
};

use super::agent_events::NodeAgentEvents;

pub use tracker_runtime::spec::fallbacks::{lanes, Lane};

/// A session's completer that moves down its lanes on billing errors.
pub struct Failover {
    /// Each lane and its completer; the first is the session's own.
    lanes: Vec<(Lane, Arc<dyn Completer>)>,
    /// The lane in use (shared with the calls under way).
    current: Arc<AtomicUsize>,
    /// Where `provider_failover` goes.
    events: Arc<NodeAgentEvents>,
}

impl Failover {
    /// The session's own lane, then `fallbacks`, each with its provider's
    /// completer from `completers`; an error names a fallback provider that
    /// has none (no key, say).
    pub fn new(
        own: (Lane, Arc<dyn Completer>),
        fallbacks: Vec<Lane>,
        completers: &Completers,
        events: Arc<NodeAgentEvents>,
    ) -> Result<Failover, String> {
        let mut lanes = vec![own];
        for lane in fallbacks {
            let completer = completers.get(&lane.provider).ok_or_else(|| {
                format!(
                    "llm_fallbacks lane {lane}: {}",
                    tracker_runtime::llm::config::missing_key_message(&lane.provider)
                )
            })?;
            lanes.push((lane, completer));
        }
        Ok(Failover {
            lanes,
            current: Arc::new(AtomicUsize::new(0)),
            events,
        })
    }
}

impl Completer for Failover {
    fn complete_noticed(
        &self,
        request: Arc<Request>,
        text: Option<TextSink>,
        notices: Option<NoticeSink>,
    ) -> BoxFuture<Result<Response, ProviderError>> {
        let lanes = self.lanes.clone();
        let current = Arc::clone(&self.current);
        let start = current.load(Ordering::SeqCst);
        let events = Arc::clone(&self.events);
        Box::pin(async move {
            let mut index = start;
            loop {
                let (lane, completer) = &lanes[index];
                let asked = if index == 0 {
                    Arc::clone(&request)
                } else {
                    let mut moved = (*request).clone();
                    moved.provider.clone_from(&lane.provider);
                    moved.model.clone_from(&lane.model);
                    Arc::new(moved)
                };
                match completer
                    .complete_noticed(asked, text.clone(), notices.clone())
                    .await
                {
                    Err(error) if error.is_billing() && index + 1 < lanes.len() => {
                        let next = &lanes[index + 1].0;
                        let mut event = events.base_event(EventKind::ProviderFailover);
                        event.message =
                            Some(format!("{lane} is out of credit; switching to {next}"));
                        event.error = Some(error.to_string());
                        events.sink.emit(event).await;
                        index += 1;
                        // The session's later turns start here.
                        current.store(index, Ordering::SeqCst);
                    }
                    Ok(mut response) if index > 0 => {
                        // Priced and reported as the lane that answered.
                        response.provider.clone_from(&lane.provider);
                        response.model.clone_from(&lane.model);
                        return Ok(response);
                    }
                    result => return result,
                }
            }
        })
    }
}
