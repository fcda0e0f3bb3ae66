//! The one retry policy every GitHub call shares.
//!
//! GitHub's "Best practices for using the REST API" and "Rate limits for the
//! REST API" ask a client to: wait for `Retry-After` seconds when a response
//! carries it; when `x-ratelimit-remaining` is `0`, wait until
//! `x-ratelimit-reset`; otherwise, for a secondary rate limit, wait at least a
//! minute and back off exponentially. Server errors (5xx) are worth another
//! try after a short, growing, jittered pause.
//!
//! Waits go through a [`Clock`] so tests run the whole policy without
//! sleeping, and the total wait is bounded, as is the number of attempts.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long to wait, and for how many attempts.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// The first backoff; each later one doubles, up to `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// The wait after a secondary rate limit that names no time.
    pub rate_limit_delay: Duration,
    /// The most one call may spend waiting, over all its retries. A
    /// `Retry-After` beyond what is left ends the call with an error that
    /// says how long GitHub asked for.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            rate_limit_delay: Duration::from_secs(60),
            budget: Duration::from_secs(180),
        }
    }
}

impl RetryPolicy {
    /// The pause before attempt `attempt + 1` after a server or network
    /// error: `base * 2^(attempt-1)`, capped, with "equal jitter" (half
    /// fixed, half random) so many runners hitting one outage do not retry
    /// in step.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let capped = exp.min(self.max_delay);
        let half = capped / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

pub type Sleep<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Where waiting happens.
pub trait Clock: Send + Sync {
    fn sleep(&self, duration: Duration) -> Sleep<'_>;
}

/// Real time on the tokio runtime. `scale` multiplies every real sleep (the
/// policy still counts the full wait): end-to-end tests of the binary, which
/// cannot inject a [`Clock`], set it to 0 through a hidden option.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    pub scale: f64,
}

impl Default for TokioClock {
    fn default() -> Self {
        TokioClock { scale: 1.0 }
    }
}

impl Clock for TokioClock {
    fn sleep(&self, duration: Duration) -> Sleep<'_> {
        let duration = if self.scale.is_finite() && self.scale >= 0.0 {
            duration.mul_f64(self.scale)
        } else {
            duration
        };
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A clock that never sleeps and remembers every wait it was asked for.
#[derive(Debug, Clone, Default)]
pub struct RecordingClock {
    waits: Arc<Mutex<Vec<Duration>>>,
}

impl RecordingClock {
    pub fn waits(&self) -> Vec<Duration> {
        self.waits.lock().map(|w| w.clone()).unwrap_or_default()
    }
}

impl Clock for RecordingClock {
    fn sleep(&self, duration: Duration) -> Sleep<'_> {
        if let Ok(mut waits) = self.waits.lock() {
            waits.push(duration);
        }
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = RetryPolicy::default();
        for attempt in 1..=10 {
            let d = policy.backoff(attempt);
            let full = (policy.base_delay * 2u32.pow(attempt - 1)).min(policy.max_delay);
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
        }
        assert!(policy.backoff(40) <= policy.max_delay);
    }
}
