//! When to send a failed LLM call again, and after how long.
//!
//! As the reference: up to 3 retries, 2 s doubling each time, with a
//! provider's `Retry-After` honoured (clamped to 0–2 min) in place of the
//! backoff. Backoff delays are jittered by ×U(0.5, 1.5) so that many runs
//! hitting one provider do not retry in lockstep. Only transient errors whose
//! answer had not started to stream are retried (see
//! [`ProviderError::retryable`]).

use std::time::Duration;

use super::error::ProviderError;

/// A retry policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The delay before the first retry; each later one doubles it.
    pub base_delay: Duration,
    /// The longest backoff delay.
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured; longer values are clamped to it.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// How long to wait before retry number `retry` (0 for the first) after
    /// `error`, or `None` when the call must not be sent again. `jitter` is a
    /// uniform sample from [0, 1).
    pub fn delay(&self, retry: u32, error: &ProviderError, jitter: f64) -> Option<Duration> {
        if retry >= self.max_retries || !error.retryable() {
            return None;
        }
        if let Some(after) = error.retry_after {
            return Some(after.min(self.max_retry_after));
        }
        Some(self.backoff(retry).mul_f64(0.5 + jitter.clamp(0.0, 1.0)))
    }

    /// The nominal (unjittered) delay before retry number `retry`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(30));
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn error(kind: ErrorKind) -> ProviderError {
        ProviderError::new(kind, "p", "m")
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let policy = RetryPolicy::default();
        let nominal: Vec<u64> = (0..7).map(|n| policy.backoff(n).as_secs()).collect();
        assert_eq!(nominal, [2, 4, 8, 16, 32, 60, 60]);
    }

    #[test]
    fn jitter_stays_within_half_and_one_and_a_half() {
        let policy = RetryPolicy::default();
        let server = error(ErrorKind::Server);
        assert_eq!(policy.delay(1, &server, 0.0), Some(Duration::from_secs(2)));
        assert_eq!(policy.delay(1, &server, 0.5), Some(Duration::from_secs(4)));
        let high = policy.delay(1, &server, 0.999).expect("retried");
        assert!(high < Duration::from_secs(6));
    }

    #[test]
    fn only_transient_errors_are_retried_and_only_so_often() {
        let policy = RetryPolicy::default();
        assert!(policy
            .delay(0, &error(ErrorKind::Authentication), 0.5)
            .is_none());
        assert!(policy.delay(0, &error(ErrorKind::Quota), 0.5).is_none());
        assert!(policy.delay(3, &error(ErrorKind::Server), 0.5).is_none());
        let mut streamed = error(ErrorKind::Stream);
        streamed.after_data = true;
        assert!(policy.delay(0, &streamed, 0.5).is_none());
    }

    #[test]
    fn retry_after_replaces_the_backoff_and_is_clamped() {
        let policy = RetryPolicy::default();
        let mut limited = error(ErrorKind::RateLimit);
        limited.retry_after = Some(Duration::from_secs(7));
        assert_eq!(policy.delay(0, &limited, 0.9), Some(Duration::from_secs(7)));
        limited.retry_after = Some(Duration::from_secs(3600));
        assert_eq!(
            policy.delay(0, &limited, 0.9),
            Some(Duration::from_secs(120))
        );
    }
}
