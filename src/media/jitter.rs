//! Adaptive jitter buffer: reorders packets by sequence number and decides, once per 20 ms
//! playout tick, whether to play a packet, conceal a missing one, or wait.
//!
//! The target depth follows the measured arrival jitter (an RFC 3550-style running
//! estimate, in milliseconds), between `min_ms` and `max_ms`. Sans-IO: arrival times come
//! in as arguments.

use std::collections::BTreeMap;
use std::time::Instant;

use bytes::Bytes;

const FRAME_MS: f64 = 20.0;

#[derive(Debug, Clone, PartialEq)]
pub enum Playout {
    /// Decode this packet.
    Packet(Bytes),
    /// The packet is missing: conceal it, using FEC from `next` when it is there.
    Lost { next: Option<Bytes> },
    /// Nothing to play yet (start-up, or the buffer ran dry): play silence.
    Wait,
}

#[derive(Debug, Clone)]
pub struct JitterConfig {
    pub min_ms: f64,
    pub max_ms: f64,
}

impl Default for JitterConfig {
    fn default() -> Self {
        JitterConfig {
            min_ms: 20.0,
            max_ms: 200.0,
        }
    }
}

pub struct JitterBuffer {
    config: JitterConfig,
    /// Packets waiting, by extended sequence number.
    queue: BTreeMap<u64, Bytes>,
    /// Next sequence number to play, once started.
    next: Option<u64>,
    /// Highest extended sequence number seen (for unwrapping 16-bit numbers).
    highest: Option<u64>,
    jitter_ms: f64,
    last_arrival: Option<(Instant, u32)>,
    pub stats: JitterStats,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct JitterStats {
    pub received: u64,
    pub played: u64,
    pub concealed: u64,
    pub late: u64,
    pub duplicates: u64,
}

impl JitterBuffer {
    pub fn new(config: JitterConfig) -> Self {
        JitterBuffer {
            config,
            queue: BTreeMap::new(),
            next: None,
            highest: None,
            jitter_ms: 0.0,
            last_arrival: None,
            stats: JitterStats::default(),
        }
    }

    fn extend(&self, seq: u16) -> u64 {
        let Some(high) = self.highest else {
            return u64::from(seq) + (1 << 16);
        };
        // Pick the candidate nearest to the highest seen (handles wrap-around both ways).
        let base = high & !0xffff;
        [base.wrapping_sub(1 << 16), base, base + (1 << 16)]
            .into_iter()
            .map(|b| b + u64::from(seq))
            .min_by_key(|c| c.abs_diff(high))
            .unwrap_or(base + u64::from(seq))
    }

    /// The current target depth in milliseconds.
    pub fn target_ms(&self) -> f64 {
        (FRAME_MS + 3.0 * self.jitter_ms).clamp(self.config.min_ms, self.config.max_ms)
    }

    /// Milliseconds of audio waiting.
    pub fn depth_ms(&self) -> f64 {
        self.queue.len() as f64 * FRAME_MS
    }

    /// A packet arrived (`timestamp` in 48 kHz RTP units).
    pub fn push(&mut self, seq: u16, timestamp: u32, payload: Bytes, now: Instant) {
        let ext = self.extend(seq);
        self.stats.received += 1;
        if let Some((t0, ts0)) = self.last_arrival {
            let arrival_ms = now.saturating_duration_since(t0).as_secs_f64() * 1000.0;
            let media_ms = f64::from(timestamp.wrapping_sub(ts0) as i32) / 48.0;
            let d = (arrival_ms - media_ms).abs();
            self.jitter_ms += (d - self.jitter_ms) / 16.0;
        }
        self.last_arrival = Some((now, timestamp));
        if self.highest.is_none_or(|h| ext > h) {
            self.highest = Some(ext);
        }
        if self.next.is_some_and(|n| ext < n) {
            self.stats.late += 1;
            return;
        }
        if self.queue.insert(ext, payload).is_some() {
            self.stats.duplicates += 1;
        }
    }

    /// A packet of this sequence number carried something other than audio (a DTMF event):
    /// its slot plays silence instead of counting as lost.
    pub fn push_filler(&mut self, seq: u16) {
        let ext = self.extend(seq);
        if self.highest.is_none_or(|h| ext > h) {
            self.highest = Some(ext);
        }
        if self.next.is_some_and(|n| ext < n) {
            return;
        }
        self.queue.entry(ext).or_default();
    }

    /// Called every 20 ms by the playout clock.
    pub fn pop(&mut self) -> Playout {
        let Some(next) = self.next else {
            // Start once the target depth is buffered.
            if self.depth_ms() + 0.5 < self.target_ms() {
                return Playout::Wait;
            }
            let Some((&first, _)) = self.queue.iter().next() else {
                return Playout::Wait;
            };
            self.next = Some(first);
            return self.pop();
        };
        if self.queue.is_empty() {
            // Ran dry: the next packet restarts playout after the target depth again.
            self.next = None;
            return Playout::Wait;
        }
        // Far behind the target (a burst after a stall): skip ahead to stay near it.
        let max_frames = (self.target_ms() / FRAME_MS).ceil() as usize + 3;
        while self.queue.len() > max_frames {
            if let Some((&k, _)) = self.queue.iter().next() {
                self.queue.remove(&k);
                self.next = Some(k + 1);
            }
        }
        let n = self.next.unwrap_or(next);
        self.next = Some(n + 1);
        match self.queue.remove(&n) {
            Some(p) => {
                self.stats.played += 1;
                Playout::Packet(p)
            }
            None => {
                self.stats.concealed += 1;
                Playout::Lost {
                    next: self.queue.get(&(n + 1)).cloned(),
                }
            }
        }
    }

    pub fn jitter_ms(&self) -> f64 {
        self.jitter_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn pkt(n: u8) -> Bytes {
        Bytes::from(vec![n])
    }

    #[test]
    fn reorders_conceals_and_drops_late_packets() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig {
            min_ms: 40.0,
            max_ms: 200.0,
        });
        assert_eq!(jb.pop(), Playout::Wait);
        jb.push(10, 0, pkt(10), t0);
        assert_eq!(jb.pop(), Playout::Wait, "waits for the target depth");
        jb.push(12, 1920, pkt(12), t0 + Duration::from_millis(40));
        jb.push(11, 960, pkt(11), t0 + Duration::from_millis(41));
        assert_eq!(jb.pop(), Playout::Packet(pkt(10)));
        assert_eq!(jb.pop(), Playout::Packet(pkt(11)));
        jb.push(14, 3840, pkt(14), t0 + Duration::from_millis(80));
        assert_eq!(jb.pop(), Playout::Packet(pkt(12)));
        // 13 is missing: concealed with 14's FEC.
        assert_eq!(
            jb.pop(),
            Playout::Lost {
                next: Some(pkt(14))
            }
        );
        // 13 turns up too late.
        jb.push(13, 2880, pkt(13), t0 + Duration::from_millis(90));
        assert_eq!(jb.stats.late, 1);
        assert_eq!(jb.pop(), Playout::Packet(pkt(14)));
        assert_eq!(jb.pop(), Playout::Wait, "ran dry");
        assert_eq!(jb.stats.concealed, 1);
    }

    #[test]
    fn sequence_numbers_wrap() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig {
            min_ms: 20.0,
            max_ms: 200.0,
        });
        jb.push(65535, 0, pkt(1), t0);
        jb.push(0, 960, pkt(2), t0 + Duration::from_millis(20));
        assert_eq!(jb.pop(), Playout::Packet(pkt(1)));
        assert_eq!(jb.pop(), Playout::Packet(pkt(2)));
    }

    #[test]
    fn target_depth_follows_jitter() {
        let t0 = Instant::now();
        let mut steady = JitterBuffer::new(JitterConfig::default());
        let mut shaky = JitterBuffer::new(JitterConfig::default());
        for i in 0..200u32 {
            let ts = i * 960;
            steady.push(
                i as u16,
                ts,
                pkt(0),
                t0 + Duration::from_millis(u64::from(i) * 20),
            );
            let wobble = if i % 2 == 0 { 0 } else { 35 };
            shaky.push(
                i as u16,
                ts,
                pkt(0),
                t0 + Duration::from_millis(u64::from(i) * 20 + wobble),
            );
        }
        assert!(steady.target_ms() <= 25.0, "{}", steady.target_ms());
        assert!(shaky.target_ms() > 60.0, "{}", shaky.target_ms());
    }
}
