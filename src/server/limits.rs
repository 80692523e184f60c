//! Rate limits: token buckets that take the time as an argument, so they are tested
//! without a clock.
//!
//! Each connection has buckets for every frame and for call signals; each user has buckets
//! for messages (shared by all their devices and REST) and for dials. A refused request is
//! answered `rate_limited` with the time after which it would succeed.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// A sustained rate with a burst allowance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Requests per second in the long run; `f64::INFINITY` for no limit.
    pub per_second: f64,
    /// How many can come at once after a quiet period.
    pub burst: u32,
}

impl Rate {
    pub const fn new(per_second: f64, burst: u32) -> Self {
        Rate { per_second, burst }
    }

    pub const fn unlimited() -> Self {
        Rate {
            per_second: f64::INFINITY,
            burst: u32::MAX,
        }
    }

    fn is_unlimited(&self) -> bool {
        self.per_second.is_infinite()
    }
}

/// The limits `parla serve` applies (see `docs/protocol.md`, Limits).
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Messages one user stores, over all their devices and REST.
    pub messages: Rate,
    /// Calls one user places.
    pub dials: Rate,
    /// `call_signal` frames one connection relays.
    pub signals: Rate,
    /// Frames of any type one connection sends. Over it the server reads the connection's
    /// frames more slowly rather than refusing them: the client's sends wait, nothing is
    /// lost.
    pub frames: Rate,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            messages: Rate::new(10.0, 50),
            dials: Rate::new(1.0, 10),
            signals: Rate::new(50.0, 200),
            frames: Rate::new(20.0, 200),
        }
    }
}

impl Limits {
    /// No limit at all (embedding programs and load tests).
    pub fn unlimited() -> Self {
        Limits {
            messages: Rate::unlimited(),
            dials: Rate::unlimited(),
            signals: Rate::unlimited(),
            frames: Rate::unlimited(),
        }
    }
}

/// The per-user buckets of a running server, with the limits the per-connection ones
/// are made from.
pub struct Rates {
    pub limits: Limits,
    pub messages: PerUser,
    pub dials: PerUser,
}

impl Rates {
    pub fn new(limits: Limits) -> Self {
        Rates {
            messages: PerUser::new(limits.messages),
            dials: PerUser::new(limits.dials),
            limits,
        }
    }
}

/// A token bucket: `burst` tokens, refilled at `per_second`; each request takes one.
#[derive(Debug, Clone)]
pub struct Bucket {
    rate: Rate,
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    /// A full bucket.
    pub fn new(rate: Rate, now: Instant) -> Self {
        Bucket {
            rate,
            tokens: f64::from(rate.burst),
            updated: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens =
            (self.tokens + elapsed * self.rate.per_second).min(f64::from(self.rate.burst));
        self.updated = now;
    }

    /// Takes a token, or tells how long until one is there.
    pub fn take(&mut self, now: Instant) -> Result<(), Duration> {
        if self.rate.is_unlimited() {
            return Ok(());
        }
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        if self.rate.per_second <= 0.0 {
            return Err(Duration::from_hours(1));
        }
        let wait = (1.0 - self.tokens) / self.rate.per_second;
        Err(Duration::from_secs_f64(wait.min(3600.0)))
    }

    /// How long until a token is there; `None` when one is there now.
    pub fn ready_in(&mut self, now: Instant) -> Option<Duration> {
        if self.rate.is_unlimited() {
            return None;
        }
        self.refill(now);
        if self.tokens >= 1.0 {
            return None;
        }
        if self.rate.per_second <= 0.0 {
            return Some(Duration::from_hours(1));
        }
        Some(Duration::from_secs_f64(
            ((1.0 - self.tokens) / self.rate.per_second).min(3600.0),
        ))
    }

    /// True when the bucket has refilled completely (it can be forgotten).
    fn is_full(&self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens + elapsed * self.rate.per_second >= f64::from(self.rate.burst)
    }
}

/// One bucket per user, created on first use; full buckets are forgotten so the map only
/// holds users who were active lately.
pub struct PerUser {
    rate: Rate,
    buckets: Mutex<Buckets>,
}

struct Buckets {
    map: HashMap<String, Bucket>,
    /// The size at which full buckets are next swept (doubling keeps sweeps amortised).
    sweep_at: usize,
}

/// How many users' buckets are kept before the full ones are swept.
const SWEEP_AT: usize = 1024;

impl PerUser {
    pub fn new(rate: Rate) -> Self {
        PerUser {
            rate,
            buckets: Mutex::new(Buckets {
                map: HashMap::new(),
                sweep_at: SWEEP_AT,
            }),
        }
    }

    pub fn take(&self, user: &str, now: Instant) -> Result<(), Duration> {
        if self.rate.is_unlimited() {
            return Ok(());
        }
        let mut guard = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let buckets = &mut *guard;
        if buckets.map.len() >= buckets.sweep_at && !buckets.map.contains_key(user) {
            buckets.map.retain(|_, b| !b.is_full(now));
            buckets.sweep_at = (buckets.map.len() * 2).max(SWEEP_AT);
        }
        buckets
            .map
            .entry(user.to_owned())
            .or_insert_with(|| Bucket::new(self.rate, now))
            .take(now)
    }

    pub fn tracked(&self) -> usize {
        self.buckets.lock().map_or(0, |b| b.map.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_sustained_rate() {
        let t0 = Instant::now();
        let mut b = Bucket::new(Rate::new(10.0, 3), t0);
        for _ in 0..3 {
            assert!(b.take(t0).is_ok());
        }
        let wait = b.take(t0).unwrap_err();
        assert_eq!(wait, Duration::from_millis(100));
        // Half the wait is not enough; the whole wait is.
        assert!(b.take(t0 + Duration::from_millis(50)).is_err());
        assert!(b.take(t0 + Duration::from_millis(100)).is_ok());
        assert!(b.take(t0 + Duration::from_millis(100)).is_err());
        // A long pause refills to the burst, not beyond it.
        let later = t0 + Duration::from_mins(1);
        for _ in 0..3 {
            assert!(b.take(later).is_ok());
        }
        assert!(b.take(later).is_err());
    }

    #[test]
    fn ready_in_tells_when_the_next_token_comes() {
        let t0 = Instant::now();
        let mut b = Bucket::new(Rate::new(20.0, 1), t0);
        assert_eq!(b.ready_in(t0), None);
        b.take(t0).unwrap();
        assert_eq!(b.ready_in(t0), Some(Duration::from_millis(50)));
        assert_eq!(b.ready_in(t0 + Duration::from_millis(50)), None);
        assert_eq!(Bucket::new(Rate::unlimited(), t0).ready_in(t0), None);
    }

    #[test]
    fn unlimited_never_refuses() {
        let t0 = Instant::now();
        let mut b = Bucket::new(Rate::unlimited(), t0);
        for _ in 0..100_000 {
            assert!(b.take(t0).is_ok());
        }
    }

    #[test]
    fn users_have_their_own_buckets_and_idle_ones_are_forgotten() {
        let t0 = Instant::now();
        let per = PerUser::new(Rate::new(1.0, 2));
        assert!(per.take("alice", t0).is_ok());
        assert!(per.take("alice", t0).is_ok());
        assert!(per.take("alice", t0).is_err());
        assert!(per.take("bob", t0).is_ok());
        for i in 0..SWEEP_AT {
            per.take(&format!("u{i}"), t0).unwrap();
        }
        assert!(per.tracked() > SWEEP_AT);
        // Ten seconds on, those buckets are full again: the next sweep (when the map has
        // doubled) forgets them and keeps only the users active since.
        let later = t0 + Duration::from_secs(10);
        for i in 0..1100 {
            per.take(&format!("v{i}"), later).unwrap();
        }
        assert!(per.tracked() <= 1100, "{}", per.tracked());
        // A forgotten user starts again with a full bucket.
        assert!(per.take("alice", later).is_ok());
        assert!(per.take("alice", later).is_ok());
    }
}
