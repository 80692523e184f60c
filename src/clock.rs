//! The one clock the server and the client read. Monotonic time is tokio's (so tests can
//! pause and advance it); wall time is the system's, or — for tests — follows tokio's from
//! the moment the clock was made, so a test that advances time moves token expiry, ring
//! timeouts and timestamps together.

use chrono::{DateTime, Utc};
use tokio::time::Instant;

/// Where time comes from; cheap to copy.
#[derive(Debug, Clone, Copy, Default)]
pub struct Clock {
    /// With a paused test clock: the instant and wall time it started from.
    follows: Option<(Instant, DateTime<Utc>)>,
}

impl Clock {
    /// The system's clocks.
    #[must_use]
    pub fn system() -> Clock {
        Clock::default()
    }

    /// Wall time that follows tokio's clock from now on: pausing and advancing tokio's
    /// time (`tokio::time::pause`, `advance`, `start_paused`) moves both.
    #[must_use]
    pub fn following_tokio() -> Clock {
        Clock {
            follows: Some((Instant::now(), Utc::now())),
        }
    }

    /// Monotonic time, for deadlines and timers.
    #[must_use]
    pub fn now(&self) -> Instant {
        Instant::now()
    }

    /// Wall time, for timestamps and token expiry.
    #[must_use]
    pub fn utc(&self) -> DateTime<Utc> {
        match self.follows {
            None => Utc::now(),
            Some((at, utc)) => {
                utc + chrono::Duration::from_std(Instant::now() - at)
                    .unwrap_or(chrono::Duration::MAX)
            }
        }
    }

    /// The instant wall time `t` comes (now, when it is past).
    #[must_use]
    pub fn instant_at(&self, t: DateTime<Utc>) -> Instant {
        let left = (t - self.utc()).to_std().unwrap_or_default();
        self.now() + left
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn a_following_clock_moves_with_paused_time() {
        let clock = Clock::following_tokio();
        let (t0, u0) = (clock.now(), clock.utc());
        tokio::time::advance(Duration::from_secs(90)).await;
        assert_eq!(clock.now() - t0, Duration::from_secs(90));
        assert_eq!(clock.utc() - u0, chrono::Duration::seconds(90));
        let at = clock.instant_at(clock.utc() + chrono::Duration::seconds(5));
        assert_eq!(at - clock.now(), Duration::from_secs(5));
        // A time gone by is now.
        assert_eq!(clock.instant_at(u0), clock.now());
    }

    #[test]
    fn the_system_clock_is_the_system_time() {
        let clock = Clock::system();
        let drift = (clock.utc() - Utc::now()).num_milliseconds().abs();
        assert!(drift < 1000, "{drift} ms");
    }
}
