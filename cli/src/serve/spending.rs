//! The service's cost ceiling (`--max-cost`): every run's LLM calls are
//! metered against one total, and once it reaches the ceiling new calls wait
//! until the ceiling is raised (`POST /v1/limits`) or their run is
//! cancelled. Calls already under way finish: their cost is only known when
//! they do, so the total may pass the ceiling by what they cost.
//!
//! Costs come from the model catalog's prices; a model it does not price
//! costs nothing here. What was spent, and a ceiling set over the API, are
//! kept in the state directory's [ledger](super::ledger) and outlive a
//! restart.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;
use tracker_runtime::future::BoxFuture;
use tracker_runtime::gauge::Held;
use tracker_runtime::llm::{Completer, NoticeSink, ProviderError, Request, Response, TextSink};

use super::ledger::{Ledger, Past, SetCeiling};

/// What the service's runs have spent, against its ceiling.
#[derive(Debug, Default)]
pub struct Spending {
    /// Spent, in billionths of a dollar (added atomically).
    spent_nano_usd: AtomicU64,
    ceiling_usd: Mutex<Option<f64>>,
    raised: Notify,
    paused: AtomicUsize,
    /// The service's `--max-cost`.
    flag: Option<f64>,
    /// Where spending and ceilings are kept (none: nowhere).
    ledger: Option<Ledger>,
}

impl Spending {
    /// Metering against the service's `--max-cost` (`flag`, none: no
    /// ceiling), going on from what `ledger` recorded before: its total, and
    /// a ceiling set over the API while the flag was the same.
    pub fn new(flag: Option<f64>, ledger: Option<(Ledger, Past)>) -> Arc<Spending> {
        let (ledger, past) = match ledger {
            Some((ledger, past)) => (Some(ledger), past),
            None => (None, Past::default()),
        };
        Arc::new(Spending {
            spent_nano_usd: AtomicU64::new(past.spent_nano_usd),
            ceiling_usd: Mutex::new(SetCeiling::applied_over(past.ceiling, flag)),
            flag,
            ledger,
            ..Spending::default()
        })
    }

    /// Dollars spent so far.
    pub fn spent_usd(&self) -> f64 {
        self.spent_nano_usd.load(Ordering::SeqCst) as f64 / 1e9
    }

    /// The ceiling.
    pub fn ceiling_usd(&self) -> Option<f64> {
        *self
            .ceiling_usd
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Calls waiting for the ceiling to be raised.
    pub fn paused(&self) -> usize {
        self.paused.load(Ordering::SeqCst)
    }

    /// Sets the ceiling (none: lifts it) and lets waiting calls go if they
    /// are now under it.
    pub fn set_ceiling(&self, ceiling_usd: Option<f64>) {
        let mut ceiling = self
            .ceiling_usd
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *ceiling = ceiling_usd;
        // Under the lock: two changes at once are recorded in the order
        // they took effect.
        if let Some(ledger) = &self.ledger {
            ledger.ceiling(SetCeiling {
                max_cost_usd: ceiling_usd,
                flag: self.flag,
            });
        }
        drop(ceiling);
        self.raised.notify_waiters();
    }

    fn reached(&self) -> bool {
        self.ceiling_usd().is_some_and(|c| self.spent_usd() >= c)
    }

    /// Waits while the ceiling is reached.
    async fn wait_under_ceiling(&self) {
        if !self.reached() {
            return;
        }
        // Counted while it waits, even if its run is cancelled meanwhile.
        let _paused = Held::new(&self.paused);
        loop {
            let raised = self.raised.notified();
            if !self.reached() {
                break;
            }
            raised.await;
        }
    }

    fn add(&self, usd: f64) {
        if usd.is_finite() && usd > 0.0 {
            let nano_usd = (usd * 1e9).round() as u64;
            self.spent_nano_usd.fetch_add(nano_usd, Ordering::SeqCst);
            if let Some(ledger) = &self.ledger {
                ledger.spent(nano_usd);
            }
        }
    }

    /// `inner`, metered here.
    pub fn meter(self: &Arc<Self>, inner: Arc<dyn Completer>) -> Arc<dyn Completer> {
        Arc::new(Metered {
            inner,
            spending: Arc::clone(self),
        })
    }
}

/// A completer whose calls wait under the ceiling and add their cost.
struct Metered {
    inner: Arc<dyn Completer>,
    spending: Arc<Spending>,
}

impl Completer for Metered {
    fn complete_noticed(
        &self,
        request: Arc<Request>,
        text: Option<TextSink>,
        notices: Option<NoticeSink>,
    ) -> BoxFuture<Result<Response, ProviderError>> {
        let inner = Arc::clone(&self.inner);
        let spending = Arc::clone(&self.spending);
        Box::pin(async move {
            if spending.reached() {
                if let Some(notices) = &notices {
                    notices(&format!(
                        "the service's cost ceiling (${:.2}) is reached; the call waits until it is raised",
                        spending.ceiling_usd().unwrap_or_default()
                    ));
                }
            }
            spending.wait_under_ceiling().await;
            let response = inner
                .complete_noticed(Arc::clone(&request), text, notices)
                .await?;
            if let Some(model) = dippin::catalog::resolve(&request.model) {
                let usage = &response.usage;
                spending.add(model.cost_usd(
                    usage.input_tokens,
                    usage.output_tokens,
                    usage.cache_read_tokens,
                    usage.cache_write_tokens,
                ));
            }
            Ok(response)
        })
    }
}
