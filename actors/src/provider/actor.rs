//! The provider actor: concurrency cap, retries, and shared rate-limit
//! backoff around [`HttpTransport`].

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::{Actor, Context, Handler, Message, ResponseFuture};
use tokio::sync::{oneshot, Semaphore};
use tokio::time::Instant;
use tracker_runtime::gauge::Held;
use tracker_runtime::llm::backoff::RetryPolicy;
use tracker_runtime::llm::{ErrorKind, NoticeSink, ProviderError, Request, Response, TextSink};

use super::transport::{HttpTransport, DEFAULT_IDLE_TIMEOUT};

/// How a provider actor behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProviderOptions {
    /// Requests in flight at once, across every run.
    pub concurrency: usize,
    /// When and how often failed calls are sent again.
    pub retry: RetryPolicy,
    /// How long a stream may be silent.
    pub idle_timeout: Duration,
}

impl Default for ProviderOptions {
    fn default() -> ProviderOptions {
        ProviderOptions {
            concurrency: 8,
            retry: RetryPolicy::default(),
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
        }
    }
}

/// Counters of one provider actor, readable while it runs.
#[derive(Debug, Default)]
pub struct ProviderStats {
    /// HTTP attempts sent.
    pub attempts: AtomicU64,
    /// Attempts that were retries.
    pub retries: AtomicU64,
    /// Attempts refused with a rate limit.
    pub rate_limited: AtomicU64,
    /// Times a request waited for the shared rate-limit backoff.
    pub held_back: AtomicU64,
    /// Requests waiting now, for a slot or for a rate-limit pause to end (a
    /// gauge, not a count).
    pub waiting: AtomicUsize,
}

/// Asks for one completion; the answer comes after any retries (its text is
/// handed to the sink, when there is one, as it streams in).
#[derive(Message)]
#[rtype(result = "Result<Response, ProviderError>")]
pub struct Complete {
    /// What to ask.
    pub request: Arc<Request>,
    /// Where streamed text goes as it arrives.
    pub text: Option<TextSink>,
    /// Where the call says why it waits (a retry, a rate-limit pause).
    pub notices: Option<NoticeSink>,
    /// Resolves when the caller stops waiting (its sender is dropped with
    /// the caller's future: a cancelled run, an aborted node). The request
    /// is then abandoned wherever it is — waiting for a slot, waiting out a
    /// rate-limit pause, in flight, or between retries — so it frees its
    /// slot at once and is never sent again.
    pub caller_gone: oneshot::Receiver<()>,
}

impl std::fmt::Debug for Complete {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Complete")
            .field("model", &self.request.model)
            .field("streaming", &self.text.is_some())
            .finish()
    }
}

/// One provider and base URL, shared by every run in the process.
#[derive(Debug)]
pub struct ProviderActor {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    transport: HttpTransport,
    permits: Semaphore,
    /// Until when nobody may call the provider (after a 429).
    cooldown: Mutex<Option<Instant>>,
    retry: RetryPolicy,
    stats: Arc<ProviderStats>,
}

impl ProviderActor {
    /// An actor sending through `transport`.
    pub fn new(transport: HttpTransport, options: ProviderOptions) -> ProviderActor {
        ProviderActor {
            shared: Arc::new(Shared {
                transport,
                permits: Semaphore::new(options.concurrency.max(1)),
                cooldown: Mutex::new(None),
                retry: options.retry,
                stats: Arc::new(ProviderStats::default()),
            }),
        }
    }

    /// The actor's counters.
    pub fn stats(&self) -> Arc<ProviderStats> {
        Arc::clone(&self.shared.stats)
    }
}

impl Actor for ProviderActor {
    type Context = Context<Self>;
}

impl Handler<Complete> for ProviderActor {
    type Result = ResponseFuture<Result<Response, ProviderError>>;

    fn handle(&mut self, msg: Complete, _ctx: &mut Context<Self>) -> Self::Result {
        let shared = Arc::clone(&self.shared);
        let Complete {
            request,
            text,
            notices,
            caller_gone,
        } = msg;
        Box::pin(async move {
            tokio::select! {
                // Checked first: a caller already gone sends nothing.
                biased;
                // Nothing is ever sent: only the sender's drop resolves it.
                _ = caller_gone => Err(ProviderError::new(
                    ErrorKind::Network,
                    shared.transport.provider(),
                    "the request was abandoned: its caller stopped waiting",
                )),
                result = shared.complete(request, text, notices) => result,
            }
        })
    }
}

/// `d` as people read a wait: `1.5s`, `120s`.
fn seconds(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs >= 10.0 {
        format!("{secs:.0}s")
    } else {
        format!("{secs:.1}s")
    }
}

/// How long a 429 holds back every caller: the provider's `Retry-After` when
/// it gave one (capped), even once this call's retries are spent, since the
/// next caller's wait is the provider's to set; else this call's own retry
/// delay, else the backoff for its retry count.
fn shared_pause(
    policy: &RetryPolicy,
    error: &ProviderError,
    delay: Option<Duration>,
    retry: u32,
) -> Duration {
    error
        .retry_after
        .map(|after| after.min(policy.max_retry_after))
        .or(delay)
        .unwrap_or_else(|| policy.backoff(retry))
}

impl Shared {
    async fn complete(
        &self,
        request: Arc<Request>,
        text: Option<TextSink>,
        notices: Option<NoticeSink>,
    ) -> Result<Response, ProviderError> {
        let notice = |line: String| {
            if let Some(notices) = &notices {
                notices(&line);
            }
        };
        let mut retry = 0;
        loop {
            let result = {
                let waiting = Held::new(&self.stats.waiting);
                let _permit = self.permits.acquire().await.map_err(|_| {
                    ProviderError::new(
                        ErrorKind::Configuration,
                        self.transport.provider(),
                        "the provider client is shutting down",
                    )
                })?;
                // Checked with the permit held: a 429 seen by the request
                // before this one in line holds this one back too.
                self.wait_out_cooldown(&notice).await;
                drop(waiting);
                self.stats.attempts.fetch_add(1, Ordering::Relaxed);
                let result = self.transport.attempt(&request, text.clone()).await;
                result.map_err(|error| {
                    let delay = self.retry.delay(retry, &error, fastrand::f64());
                    if error.kind == ErrorKind::RateLimit {
                        self.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
                        // Everyone backs off, not just this caller; set
                        // before the permit goes, so the next in line waits.
                        let pause = shared_pause(&self.retry, &error, delay, retry);
                        self.hold_back_until(Instant::now() + pause);
                    }
                    (error, delay)
                })
            };
            let (error, delay) = match result {
                Ok(response) => return Ok(response),
                Err(failed) => failed,
            };
            let Some(delay) = delay else {
                return Err(error);
            };
            retry += 1;
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            notice(format!(
                "{error}; retrying in {} (retry {retry} of {})",
                seconds(delay),
                self.retry.max_retries
            ));
            tokio::time::sleep(delay).await;
        }
    }

    fn hold_back_until(&self, until: Instant) {
        if let Ok(mut cooldown) = self.cooldown.lock() {
            if cooldown.is_none_or(|current| current < until) {
                *cooldown = Some(until);
            }
        }
    }

    async fn wait_out_cooldown(&self, notice: &impl Fn(String)) {
        loop {
            let until = self.cooldown.lock().ok().and_then(|c| *c);
            match until {
                Some(until) if until > Instant::now() => {
                    self.stats.held_back.fetch_add(1, Ordering::Relaxed);
                    notice(format!(
                        "{} asked to slow down (rate limit); every call to it waits {}",
                        self.transport.provider(),
                        seconds(until - Instant::now())
                    ));
                    tokio::time::sleep_until(until).await;
                }
                _ => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_429s_shared_pause_is_its_retry_after_even_with_no_retry_left() {
        let policy = RetryPolicy::default();
        let mut error = ProviderError::new(ErrorKind::RateLimit, "p", "slow down");
        error.retry_after = Some(Duration::from_secs(1));
        // Retries spent: no delay of its own, yet the provider said 1 s.
        assert_eq!(
            shared_pause(&policy, &error, None, 5),
            Duration::from_secs(1)
        );
        error.retry_after = Some(Duration::from_secs(3600));
        assert_eq!(
            shared_pause(&policy, &error, None, 5),
            policy.max_retry_after
        );
        error.retry_after = None;
        assert_eq!(shared_pause(&policy, &error, None, 2), policy.backoff(2));
        let own = Some(Duration::from_millis(300));
        assert_eq!(
            shared_pause(&policy, &error, own, 2),
            Duration::from_millis(300)
        );
    }
}
