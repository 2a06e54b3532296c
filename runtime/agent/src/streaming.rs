//! A model call whose answer text is reported while it streams: the pieces
//! the provider hands over are gathered and published as `TextDelta` events
//! at most every [`EVERY`] (or once [`PIECE`] bytes wait), so a fast stream
//! makes a few events a second, not one per token. Whatever is left goes out
//! before the call's result is returned, so the deltas always come before
//! the turn's `LlmFinish`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tracker_llm::{Completer, NoticeSink, ProviderError, Request, Response, TextSink};

use super::events::{AgentEvent, SessionEvents};

/// The longest text waits before it is published.
pub const EVERY: Duration = Duration::from_millis(100);

/// How much text is published at once, at most waiting for [`EVERY`].
pub const PIECE: usize = 2048;

/// Calls `completer` for turn `turn`, publishing its text on `events` as it
/// streams in; the call's result.
pub async fn complete(
    completer: &dyn Completer,
    request: Arc<Request>,
    events: &dyn SessionEvents,
    turn: u64,
) -> Result<Response, ProviderError> {
    let (tx, rx) = mpsc::unbounded_channel::<String>();
    let sink: TextSink = Arc::new(move |text: &str| {
        // The session reads until the call is over; after that nobody
        // listens, and nothing needs to.
        let _ = tx.send(text.to_string());
    });
    let (notice_tx, notice_rx) = mpsc::channel::<String>(NOTICES);
    let notices: NoticeSink = Arc::new(move |line: &str| {
        // Bounded: a call that waits that often says enough in the first.
        let _ = notice_tx.try_send(line.to_string());
    });
    let call = completer.complete_noticed(request, Some(sink), Some(notices));
    let result = relay(call, rx, events, turn);
    noticed(result, notice_rx, events, turn).await
}

/// How many notices of one call wait to be published at most.
const NOTICES: usize = 16;

/// Waits for `call`, publishing each notice (why the call waits) meanwhile as
/// a `Notice` event, and any left before the result.
async fn noticed<T>(
    call: impl Future<Output = T>,
    mut notices: mpsc::Receiver<String>,
    events: &dyn SessionEvents,
    turn: u64,
) -> T {
    tokio::pin!(call);
    loop {
        tokio::select! {
            biased;
            result = &mut call => {
                while let Ok(message) = notices.try_recv() {
                    events.emit(AgentEvent::Notice { turn, message }).await;
                }
                return result;
            }
            Some(message) = notices.recv() => {
                events.emit(AgentEvent::Notice { turn, message }).await;
            }
        }
    }
}

/// Waits for `call`, publishing the text arriving on `pieces` meanwhile.
async fn relay<T>(
    call: impl Future<Output = T>,
    mut pieces: mpsc::UnboundedReceiver<String>,
    events: &dyn SessionEvents,
    turn: u64,
) -> T {
    tokio::pin!(call);
    let mut waiting = String::new();
    // One timer for the whole call, set again when text starts waiting (not
    // made anew for every piece).
    let due = tokio::time::sleep(EVERY);
    tokio::pin!(due);
    loop {
        tokio::select! {
            biased;
            result = &mut call => {
                while let Ok(piece) = pieces.try_recv() {
                    waiting.push_str(&piece);
                }
                publish(events, turn, &mut waiting).await;
                return result;
            }
            piece = pieces.recv() => match piece {
                Some(piece) => {
                    if waiting.is_empty() {
                        due.as_mut().reset(Instant::now() + EVERY);
                    }
                    waiting.push_str(&piece);
                    if waiting.len() >= PIECE {
                        publish(events, turn, &mut waiting).await;
                    }
                }
                // The call let go of its sink: only its result is to come.
                None => {
                    let result = call.await;
                    publish(events, turn, &mut waiting).await;
                    return result;
                }
            },
            () = &mut due, if !waiting.is_empty() => {
                publish(events, turn, &mut waiting).await;
            }
        }
    }
}

async fn publish(events: &dyn SessionEvents, turn: u64, waiting: &mut String) {
    if !waiting.is_empty() {
        let text = std::mem::take(waiting);
        events.emit(AgentEvent::TextDelta { turn, text }).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use tracker_stdx::future::BoxFuture;

    /// Keeps what it is given.
    #[derive(Default)]
    struct Kept(Mutex<Vec<AgentEvent>>);

    impl SessionEvents for Kept {
        fn emit(&self, event: AgentEvent) -> BoxFuture<()> {
            if let Ok(mut kept) = self.0.lock() {
                kept.push(event);
            }
            Box::pin(async {})
        }
    }

    fn deltas(kept: &Kept) -> Vec<String> {
        kept.0
            .lock()
            .map(|events| {
                events
                    .iter()
                    .filter_map(|e| match e {
                        AgentEvent::TextDelta { text, .. } => Some(text.clone()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    #[tokio::test(start_paused = true)]
    async fn pieces_are_gathered_and_all_published_before_the_result() {
        let (tx, rx) = mpsc::unbounded_channel();
        let kept = Kept::default();
        let call = async move {
            // A thousand tokens in a burst, then a pause, then the rest.
            for i in 0..1000 {
                let _ = tx.send(format!("t{i} "));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            let _ = tx.send("last".to_string());
            "done"
        };
        assert_eq!(relay(call, rx, &kept, 1).await, "done");
        let published = deltas(&kept);
        // Gathered: a handful of events, not a thousand.
        assert!(published.len() < 20, "{}", published.len());
        let whole: String = published.concat();
        let sent: String = (0..1000).map(|i| format!("t{i} ")).collect::<String>() + "last";
        assert_eq!(whole, sent, "nothing lost, nothing reordered");
        assert!(published.iter().all(|p| p.len() <= PIECE + 8));
        assert_eq!(published.last().map(String::as_str), Some("last"));
    }

    #[tokio::test(start_paused = true)]
    async fn text_that_waits_goes_out_within_the_interval() {
        let (tx, rx) = mpsc::unbounded_channel();
        let kept = Arc::new(Kept::default());
        let seen = Arc::clone(&kept);
        let call = async move {
            let _ = tx.send("hello".to_string());
            tokio::time::sleep(EVERY * 3).await;
            // By now the waiting text was published, before the call ends.
            let before_end = deltas(&seen);
            drop(tx);
            before_end
        };
        let before_end = relay(call, rx, kept.as_ref(), 1).await;
        assert_eq!(before_end, ["hello"]);
    }
}
