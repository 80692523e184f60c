//! The session's decisions as plain data: retry schedules, per-channel cursors, and the
//! queue of messages not yet acknowledged. Nothing here touches a socket or a clock, so
//! every rule is unit-tested directly.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use serde::Serialize;

/// Delays between reconnection attempts (reference 002): attempt 1 at once, then 3, 9, 27,
/// 60, 120 s, then every 60 s, each plus a random jitter of up to 2 s.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconnectPolicy {
    pub schedule: Vec<Duration>,
    pub then: Duration,
    pub max_jitter: Duration,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            schedule: [0, 3, 9, 27, 60, 120]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
            then: Duration::from_mins(1),
            max_jitter: Duration::from_secs(2),
        }
    }
}

impl ReconnectPolicy {
    /// The wait before attempt `attempt` (1-based). `jitter` in 0..=1 picks the share of the
    /// maximum jitter; the first, immediate attempt gets none.
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        let idx = attempt.saturating_sub(1) as usize;
        let base = self.schedule.get(idx).copied().unwrap_or(self.then);
        if base.is_zero() {
            return base;
        }
        base + self.max_jitter.mul_f64(jitter.clamp(0.0, 1.0))
    }
}

/// Attempts to get a token (reference 002): at once, after 1 s, after 4 s, each plus up to
/// 2 s of jitter; an attempt that takes longer than `timeout` fails.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRetryPolicy {
    pub delays: Vec<Duration>,
    pub max_jitter: Duration,
    pub timeout: Duration,
}

impl Default for TokenRetryPolicy {
    fn default() -> Self {
        TokenRetryPolicy {
            delays: [0, 1, 4].into_iter().map(Duration::from_secs).collect(),
            max_jitter: Duration::from_secs(2),
            timeout: Duration::from_secs(15),
        }
    }
}

impl TokenRetryPolicy {
    /// The wait before token attempt `attempt` (1-based), or `None` when attempts ran out.
    pub fn delay(&self, attempt: u32, jitter: f64) -> Option<Duration> {
        let base = *self.delays.get(attempt.checked_sub(1)? as usize)?;
        if base.is_zero() {
            return Some(base);
        }
        Some(base + self.max_jitter.mul_f64(jitter.clamp(0.0, 1.0)))
    }
}

/// What the user sees of the connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionState {
    Connecting,
    Connected,
    /// Waiting `retry_in_ms` before attempt `attempt`.
    Reconnecting {
        attempt: u32,
        retry_in_ms: u64,
    },
    /// Given up for good (the token can never be renewed, the user was deleted, ...).
    Failed {
        code: String,
        message: String,
    },
    /// Stopped on request.
    Closed,
}

/// Which messages of one channel the client holds, to drop duplicates and to know where to
/// resume. Messages can arrive out of order (a live message overtaking a replay), so the
/// cursor is the highest sequence number below which nothing is missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelCursor {
    contiguous: u64,
    ahead: BTreeSet<u64>,
}

impl ChannelCursor {
    pub fn at(seq: u64) -> Self {
        ChannelCursor {
            contiguous: seq,
            ahead: BTreeSet::new(),
        }
    }

    /// Records `seq`; false when it had been seen before.
    pub fn accept(&mut self, seq: u64) -> bool {
        if seq <= self.contiguous || !self.ahead.insert(seq) {
            return false;
        }
        while self.ahead.remove(&(self.contiguous + 1)) {
            self.contiguous += 1;
        }
        true
    }

    pub fn resume_from(&self) -> u64 {
        self.contiguous
    }
}

/// Cursors of every channel the session knows.
#[derive(Debug, Clone, Default)]
pub struct Cursors {
    channels: BTreeMap<String, ChannelCursor>,
}

impl Cursors {
    /// Records a message; false for a duplicate. A channel heard of for the first time
    /// starts at this message (older ones are history, fetched on demand).
    pub fn accept(&mut self, channel_id: &str, seq: u64) -> bool {
        match self.channels.get_mut(channel_id) {
            Some(c) => c.accept(seq),
            None => {
                self.channels
                    .insert(channel_id.to_owned(), ChannelCursor::at(seq));
                true
            }
        }
    }

    /// Starts tracking a channel at `seq` unless it is tracked already.
    pub fn know(&mut self, channel_id: &str, seq: u64) {
        self.channels
            .entry(channel_id.to_owned())
            .or_insert_with(|| ChannelCursor::at(seq));
    }

    pub fn forget(&mut self, channel_id: &str) {
        self.channels.remove(channel_id);
    }

    pub fn is_empty(&self) -> bool {
        self.channels.is_empty()
    }

    pub fn resume_map(&self) -> BTreeMap<String, u64> {
        self.channels
            .iter()
            .map(|(k, v)| (k.clone(), v.resume_from()))
            .collect()
    }
}

/// A message waiting for the server's acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingMessage {
    pub client_id: String,
    pub channel_id: String,
    pub text: String,
}

/// Messages in the order the user sent them. They stay queued until acknowledged, are sent
/// again after a reconnect (the server drops repeats of a `client_id`), and leave the queue
/// only by an ack or a definite refusal.
#[derive(Debug, Clone, Default)]
pub struct Outbox {
    queue: VecDeque<PendingMessage>,
    /// Queued messages the server refused for now (`rate_limited`), to be sent again
    /// when the session's retry time comes.
    deferred: BTreeSet<String>,
}

impl Outbox {
    pub fn push(&mut self, m: PendingMessage) {
        self.queue.push_back(m);
    }

    /// Removes and returns the message with this `client_id`.
    pub fn settle(&mut self, client_id: &str) -> Option<PendingMessage> {
        self.deferred.remove(client_id);
        let idx = self.queue.iter().position(|m| m.client_id == client_id)?;
        self.queue.remove(idx)
    }

    /// Marks a queued message as refused for now; false when it is not queued.
    pub fn defer(&mut self, client_id: &str) -> bool {
        let queued = self.queue.iter().any(|m| m.client_id == client_id);
        if queued {
            self.deferred.insert(client_id.to_owned());
        }
        queued
    }

    /// The deferred messages still queued, in queue order, and clears the marks.
    pub fn take_deferred(&mut self) -> Vec<PendingMessage> {
        let deferred = std::mem::take(&mut self.deferred);
        self.queue
            .iter()
            .filter(|m| deferred.contains(&m.client_id))
            .cloned()
            .collect()
    }

    pub fn pending(&self) -> impl Iterator<Item = &PendingMessage> {
        self.queue.iter()
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Every queued message, for failing them all when the session ends for good.
    pub fn drain(&mut self) -> Vec<PendingMessage> {
        self.deferred.clear();
        self.queue.drain(..).collect()
    }
}

#[cfg(test)]
// Test fixtures: exact values and free conversions.
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    #[test]
    fn reconnect_schedule_follows_the_reference() {
        let p = ReconnectPolicy::default();
        let secs = |a, j| p.delay(a, j).as_secs_f64();
        assert_eq!(secs(1, 1.0), 0.0);
        assert_eq!(secs(2, 0.0), 3.0);
        assert_eq!(secs(3, 0.0), 9.0);
        assert_eq!(secs(4, 0.0), 27.0);
        assert_eq!(secs(5, 0.0), 60.0);
        assert_eq!(secs(6, 0.0), 120.0);
        assert_eq!(secs(7, 0.0), 60.0);
        assert_eq!(secs(1000, 0.0), 60.0);
        // Jitter adds 0..2 s.
        assert_eq!(secs(2, 1.0), 5.0);
        assert_eq!(secs(7, 0.5), 61.0);
        assert_eq!(secs(7, 7.0), 62.0);
    }

    #[test]
    fn token_retry_schedule_follows_the_reference() {
        let p = TokenRetryPolicy::default();
        assert_eq!(p.delay(1, 1.0), Some(Duration::ZERO));
        assert_eq!(p.delay(2, 0.0), Some(Duration::from_secs(1)));
        assert_eq!(p.delay(3, 0.5), Some(Duration::from_secs(5)));
        assert_eq!(p.delay(4, 0.0), None);
        assert_eq!(p.delay(0, 0.0), None);
        assert_eq!(p.timeout, Duration::from_secs(15));
    }

    #[test]
    fn cursor_drops_duplicates_and_tolerates_reordering() {
        let mut c = ChannelCursor::at(3);
        assert!(!c.accept(2));
        assert!(!c.accept(3));
        assert!(c.accept(5));
        assert_eq!(c.resume_from(), 3, "4 is still missing");
        assert!(!c.accept(5));
        assert!(c.accept(4));
        assert_eq!(c.resume_from(), 5);
        assert!(c.accept(6));
        assert_eq!(c.resume_from(), 6);
    }

    #[test]
    fn cursors_start_new_channels_at_first_sight() {
        let mut cs = Cursors::default();
        assert!(cs.accept("a", 10));
        assert!(!cs.accept("a", 10));
        cs.know("a", 2);
        cs.know("b", 7);
        let map = cs.resume_map();
        assert_eq!(map.get("a"), Some(&10));
        assert_eq!(map.get("b"), Some(&7));
        cs.forget("a");
        assert_eq!(cs.resume_map().len(), 1);
    }

    #[test]
    fn deferred_messages_come_back_in_order_once() {
        let mut o = Outbox::default();
        for id in ["a", "b", "c"] {
            o.push(PendingMessage {
                client_id: id.into(),
                channel_id: "ch".into(),
                text: id.into(),
            });
        }
        assert!(o.defer("c"));
        assert!(o.defer("a"));
        assert!(!o.defer("zz"), "only queued messages can be deferred");
        // Settled meanwhile: not sent again.
        o.settle("c");
        let ids: Vec<_> = o.take_deferred().into_iter().map(|m| m.client_id).collect();
        assert_eq!(ids, ["a"]);
        assert!(o.take_deferred().is_empty());
        assert_eq!(o.len(), 2, "deferring never drops a message");
    }

    #[test]
    fn outbox_keeps_order_and_settles_by_id() {
        let mut o = Outbox::default();
        for i in 0..3 {
            o.push(PendingMessage {
                client_id: format!("c{i}"),
                channel_id: "ch".into(),
                text: format!("t{i}"),
            });
        }
        assert_eq!(o.settle("c1").map(|m| m.text), Some("t1".into()));
        assert!(o.settle("c1").is_none());
        let order: Vec<_> = o.pending().map(|m| m.client_id.as_str()).collect();
        assert_eq!(order, ["c0", "c2"]);
        assert_eq!(o.drain().len(), 2);
        assert!(o.is_empty());
    }
}
