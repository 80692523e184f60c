//! Adaptive jitter buffer: reorders packets by sequence number and says, each time the
//! playout needs another 20 ms, whether to play a packet, conceal a missing one, stretch
//! while a late one is awaited, or wait.
//!
//! The target depth follows the measured arrival jitter (an RFC 3550-style running
//! estimate, in milliseconds), between `min_ms` and `max_ms`. The buffer never drops a frame
//! to shorten the delay: [`super::playout`] compresses decoded audio a pitch period at a
//! time for that. Only a burst far beyond the target (the sender's packets held up for
//! hundreds of milliseconds) is skipped; such a burst before playout starts (the connection's
//! keys came late) is discarded instead, down to the target, since nothing was playing.
//! Sans-IO: arrival times come in as arguments.

use std::collections::BTreeMap;
use std::time::Instant;

use bytes::Bytes;

const FRAME_MS: f64 = 20.0;
/// Frames of concealment played while waiting for a late packet before giving up on it
/// (half a second: a burst of loss is waited out, a sender that stopped is not; Opus'
/// concealment has faded to silence long before).
const MAX_EXPAND: u32 = 25;
/// The buffer holds one frame more, so that the next packet, which carries a lost one
/// again (RED) or its FEC, is there when the lost one is due, once two of the last 100
/// slots (2 s) lost their packet on the way; it gives the frame back after 250 slots (5 s)
/// without a loss. When the sender repeats each frame in the two packets after it (RED
/// depth 2, sent on a path losing more), it holds two frames more, so that the second copy,
/// which arrives 40 ms after the original would have, is there too when two in a row are
/// lost; back to one frame once no such copy came for 250 packets.
const REPAIR_SEEN: usize = 100;
const REPAIR_ON_LOSSES: usize = 2;
const REPAIR_CLEAN: usize = 250;
/// The deepest copy of a frame the buffer waits for (packets after the original).
const MAX_REPAIR_FRAMES: u16 = 2;
/// Frames beyond the target after which a burst is skipped rather than compressed.
const SKIP_BEYOND: usize = 6;
/// Packets whose delays the target is taken from (4 s), and the share of them it covers
/// (NetEq's histogram quantile, 95 %).
const DELAY_HISTORY: usize = 200;
const DELAY_QUANTILE: f64 = 0.95;
/// Packets over which the earliest arrival is the baseline of the delays (1 s).
const BASELINE: usize = 50;

#[derive(Debug, Clone, PartialEq)]
pub enum Pop {
    /// Decode this packet.
    Packet(Bytes),
    /// The packet is missing (later ones are here): conceal it, using FEC from `next` when
    /// it is there.
    Lost { next: Option<Bytes> },
    /// The buffer ran dry: the packet due is late rather than lost. Stretch the audio
    /// (concealment) while waiting for it; the delay grows by what is stretched.
    Underrun,
    /// Nothing to play (start-up, or the other side stopped sending): play silence.
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
    /// Lowest extended sequence number that arrived, and how many packets arrived (audio and
    /// events, not counting redundant copies): the network's loss.
    lowest: Option<u64>,
    arrived: u64,
    jitter_ms: f64,
    last_arrival: Option<(Instant, u32)>,
    /// The last second's arrivals relative to their media times (ms, against the first
    /// packet), the last four seconds' delays beyond the earliest of those, and the delay
    /// the target covers (recomputed every few packets).
    relative: std::collections::VecDeque<f64>,
    delays: std::collections::VecDeque<f64>,
    sorted: Vec<f64>,
    first_arrival: Option<(Instant, u32)>,
    delay_ms: f64,
    /// Frames of concealment played in a row while the buffer was empty.
    expanding: u32,
    /// Whether each of the last slots lost its packet on the way, and whether the target
    /// holds a frame more for repairing them.
    slots: std::collections::VecDeque<bool>,
    room_to_repair: bool,
    /// Frames the target holds for repair now, and the change not yet taken by the playout.
    repair_frames: u16,
    room_change: i32,
    /// The highest packet (extended sequence number) that carried a copy two or more
    /// packets back, and how far back.
    deep_copy: Option<(u64, u16)>,
    /// Queued frames that came as redundant copies (the original may still turn up).
    from_redundancy: std::collections::BTreeSet<u64>,
    /// When each queued packet arrived (not for redundant copies and fillers), and when the
    /// last packet popped did.
    arrivals: BTreeMap<u64, Instant>,
    popped_arrival: Option<Instant>,
    pub stats: JitterStats,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct JitterStats {
    pub received: u64,
    pub played: u64,
    pub concealed: u64,
    /// Concealed frames whose next packet was there, so Opus FEC could rebuild them.
    pub recovered: u64,
    /// Frames of concealment played while waiting for a late packet (the buffer grew).
    pub expanded: u64,
    /// Frames of concealment played while waiting for a packet that turned out lost: they
    /// count as its concealment (in `concealed`), not as waiting.
    pub waited_for_lost: u64,
    /// Frames taken from the redundant copy in the next packet, the original being lost.
    pub redundant: u64,
    /// Frames thrown away to skip ahead after a burst left the buffer far over its target.
    pub skipped: u64,
    /// Frames already stale when playout started or restarted (they came in a burst far
    /// beyond the target): discarded before anything played, so not a step of the delay.
    pub discarded: u64,
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
            lowest: None,
            arrived: 0,
            jitter_ms: 0.0,
            last_arrival: None,
            relative: std::collections::VecDeque::with_capacity(BASELINE + 1),
            delays: std::collections::VecDeque::with_capacity(DELAY_HISTORY + 1),
            sorted: Vec::with_capacity(DELAY_HISTORY + 1),
            first_arrival: None,
            delay_ms: 0.0,
            expanding: 0,
            slots: std::collections::VecDeque::with_capacity(REPAIR_CLEAN + 1),
            room_to_repair: false,
            repair_frames: 0,
            room_change: 0,
            deep_copy: None,
            from_redundancy: Default::default(),
            arrivals: BTreeMap::new(),
            popped_arrival: None,
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

    /// The current target depth in milliseconds: a frame, and the delay beyond the earliest
    /// arrival that 95 % of the recent packets kept to (so that a sender or path that now
    /// and then holds packets up, a busy machine's scheduler among them, is covered, and an
    /// average jitter estimate does not hide it).
    pub fn target_ms(&self) -> f64 {
        let repair = f64::from(self.repair_frames) * FRAME_MS;
        (FRAME_MS + self.delay_ms + repair).clamp(self.config.min_ms, self.config.max_ms)
    }

    /// Frames held for repair: none on a clean path; on a lossy one, as many as the deepest
    /// copy of a frame recently sent is behind its original (one for the next packet's copy
    /// or FEC).
    fn refresh_repair(&mut self) {
        let depth = match (self.deep_copy, self.highest) {
            (Some((at, back)), Some(high)) if high.saturating_sub(at) < REPAIR_CLEAN as u64 => back,
            _ => 1,
        };
        let frames = if self.room_to_repair { depth } else { 0 };
        if frames != self.repair_frames {
            self.room_change += i32::from(frames) - i32::from(self.repair_frames);
            self.repair_frames = frames;
        }
    }

    /// Notes whether the slot just played had lost its packet on the way (whether
    /// redundancy, FEC or concealment then stood in).
    fn note_slot(&mut self, lost: bool) {
        self.slots.push_back(lost);
        if self.slots.len() > REPAIR_CLEAN {
            self.slots.pop_front();
        }
        let recent = self
            .slots
            .iter()
            .rev()
            .take(REPAIR_SEEN)
            .filter(|l| **l)
            .count();
        let room = if recent >= REPAIR_ON_LOSSES {
            true
        } else if self.slots.len() == REPAIR_CLEAN && !self.slots.iter().any(|l| *l) {
            false
        } else {
            self.room_to_repair
        };
        self.room_to_repair = room;
        self.refresh_repair();
    }

    /// Frames the target grew (positive) or shrank by for repair since last asked: the
    /// playout stretches or compresses by as much at once rather than waiting for its
    /// margins to show it.
    pub fn take_room_change(&mut self) -> i32 {
        std::mem::take(&mut self.room_change)
    }

    /// Notes a packet's arrival against its media time: how much later than the earliest
    /// packet of the last second (relative to their media times) it came. The second keeps
    /// the clocks' drift out of it.
    fn note_delay(&mut self, timestamp: u32, now: Instant) {
        let (t0, ts0) = *self.first_arrival.get_or_insert((now, timestamp));
        let arrival_ms = now.saturating_duration_since(t0).as_secs_f64() * 1000.0;
        let media_ms = f64::from(timestamp.wrapping_sub(ts0).cast_signed()) / 48.0;
        self.relative.push_back(arrival_ms - media_ms);
        if self.relative.len() > BASELINE {
            self.relative.pop_front();
        }
        let earliest = self.relative.iter().copied().fold(f64::MAX, f64::min);
        self.delays.push_back(arrival_ms - media_ms - earliest);
        if self.delays.len() > DELAY_HISTORY {
            self.delays.pop_front();
        }
        // Every fifth packet (and the first few): the quantile.
        if self.delays.len() < 10 || self.stats.received.is_multiple_of(5) {
            self.sorted.clear();
            self.sorted.extend(self.delays.iter().copied());
            self.sorted.sort_by(f64::total_cmp);
            let k = super::pcm::whole((self.sorted.len() - 1) as f64 * DELAY_QUANTILE);
            self.delay_ms = self.sorted.get(k).copied().unwrap_or(0.0);
        }
    }

    /// Milliseconds of audio waiting.
    pub fn depth_ms(&self) -> f64 {
        self.queue.len() as f64 * FRAME_MS
    }

    /// Frames waiting.
    pub fn depth(&self) -> usize {
        self.queue.len()
    }

    /// Whether playout has started (and not given up after a long gap).
    pub fn playing(&self) -> bool {
        self.next.is_some()
    }

    fn count_arrival(&mut self, ext: u64) {
        self.arrived += 1;
        if self.lowest.is_none_or(|l| ext < l) {
            self.lowest = Some(ext);
        }
    }

    /// Packets lost on the way, in percent of those sent since the first that arrived
    /// (before any repair by redundancy or FEC).
    pub fn network_loss_pct(&self) -> f64 {
        match (self.lowest, self.highest) {
            (Some(low), Some(high)) if high >= low => {
                let expected = (high - low + 1) as f64;
                ((expected - self.arrived as f64) / expected * 100.0).clamp(0.0, 100.0)
            }
            _ => 0.0,
        }
    }

    /// A packet arrived (`timestamp` in 48 kHz RTP units).
    pub fn push(&mut self, seq: u16, timestamp: u32, payload: Bytes, now: Instant) {
        let ext = self.extend(seq);
        self.count_arrival(ext);
        self.stats.received += 1;
        if let Some((t0, ts0)) = self.last_arrival {
            let arrival_ms = now.saturating_duration_since(t0).as_secs_f64() * 1000.0;
            let media_ms = f64::from(timestamp.wrapping_sub(ts0).cast_signed()) / 48.0;
            let d = (arrival_ms - media_ms).abs();
            self.jitter_ms += (d - self.jitter_ms) / 16.0;
        }
        self.last_arrival = Some((now, timestamp));
        self.note_delay(timestamp, now);
        if self.highest.is_none_or(|h| ext > h) {
            self.highest = Some(ext);
        }
        if self.next.is_some_and(|n| ext < n) {
            self.stats.late += 1;
            return;
        }
        if self.from_redundancy.remove(&ext) {
            // The original after all: it was only late, not lost.
            self.stats.redundant -= 1;
            self.queue.insert(ext, payload);
        } else if self.queue.insert(ext, payload).is_some() {
            self.stats.duplicates += 1;
            return;
        }
        self.arrivals.insert(ext, now);
    }

    /// A redundant copy of packet `seq` (RFC 2198) arrived inside a later packet, `back`
    /// packets after it: it takes the place of the original if that has not arrived and is
    /// not yet due.
    pub fn push_redundant(&mut self, seq: u16, back: u16, payload: Bytes) {
        let ext = self.extend(seq);
        if back >= 2 {
            let carrier = ext + u64::from(back);
            let back = back.min(MAX_REPAIR_FRAMES);
            if self.deep_copy.is_none_or(|(at, _)| carrier >= at) {
                self.deep_copy = Some((carrier, back));
            }
        }
        if self.next.is_some_and(|n| ext < n) || self.queue.contains_key(&ext) {
            return;
        }
        if self.highest.is_none_or(|h| ext > h) {
            self.highest = Some(ext);
        }
        self.stats.redundant += 1;
        self.from_redundancy.insert(ext);
        self.queue.insert(ext, payload);
    }

    /// A packet of this sequence number carried something other than audio (a DTMF event):
    /// its slot plays silence instead of counting as lost.
    pub fn push_filler(&mut self, seq: u16) {
        let ext = self.extend(seq);
        self.count_arrival(ext);
        if self.highest.is_none_or(|h| ext > h) {
            self.highest = Some(ext);
        }
        if self.next.is_some_and(|n| ext < n) {
            return;
        }
        self.queue.entry(ext).or_default();
    }

    /// The next 20 ms, called each time the playout needs them.
    pub fn pop(&mut self) -> Pop {
        self.popped_arrival = None;
        let Some(next) = self.next else {
            // Start once the target depth is buffered.
            if self.depth_ms() + 0.5 < self.target_ms() {
                return Pop::Wait;
            }
            // A burst far beyond the target at the start (the connection's keys came late and
            // what was sent meanwhile arrives at once, or the other side resumes sending that
            // way): nothing is playing yet, so the stale part is discarded and playout starts
            // at the target's worth of the newest audio. No step is heard.
            let keep = super::pcm::whole((self.target_ms() / FRAME_MS).ceil()).max(1);
            if self.queue.len() > keep + SKIP_BEYOND {
                while self.queue.len() > keep {
                    if let Some((k, _)) = self.queue.pop_first() {
                        self.arrivals.remove(&k);
                        if self.from_redundancy.remove(&k) {
                            self.stats.redundant -= 1;
                        }
                        self.stats.discarded += 1;
                    }
                }
            }
            let Some((&first, _)) = self.queue.iter().next() else {
                return Pop::Wait;
            };
            self.next = Some(first);
            return self.pop();
        };
        if self.queue.is_empty() {
            // Ran dry: the packet due is late, or lost. Stretch the audio by a frame of
            // concealment and wait for it; if it is lost, that frame was its concealment
            // (below). Silence and a fresh start only after a long gap (the other side
            // stopped sending: hold, a dropped path).
            if self.expanding < MAX_EXPAND {
                self.expanding += 1;
                self.stats.expanded += 1;
                return Pop::Underrun;
            }
            self.next = None;
            self.expanding = 0;
            return Pop::Wait;
        }
        let waited = std::mem::take(&mut self.expanding);
        if waited > 0 {
            // Something came after a wait. The frames played meanwhile stand in for the
            // packets that turn out lost (NetEq's expand, then merge): those are passed over,
            // so the playout is back on time, and the delay has grown only if what was
            // waited for came after all (late). A copy of a lost one from redundancy that
            // came with the next packet is passed over too: played now, it would only add
            // the wait to the delay.
            let mut n = next;
            let mut covered = 0;
            while covered < waited
                && (!self.queue.contains_key(&n) || self.from_redundancy.contains(&n))
            {
                if self.queue.remove(&n).is_some() {
                    self.from_redundancy.remove(&n);
                    self.stats.redundant -= 1;
                }
                n += 1;
                covered += 1;
            }
            for _ in 0..covered {
                self.note_slot(true);
            }
            if covered > 0 {
                self.next = Some(n);
                self.stats.expanded -= u64::from(covered);
                self.stats.concealed += u64::from(covered);
                self.stats.waited_for_lost += u64::from(covered);
            }
        }
        // Far behind the target (a burst after a stall): skip ahead to stay near it.
        let max_frames = super::pcm::whole((self.target_ms() / FRAME_MS).ceil()) + SKIP_BEYOND;
        while self.queue.len() > max_frames {
            if let Some((&k, _)) = self.queue.iter().next() {
                self.queue.remove(&k);
                self.arrivals.remove(&k);
                self.next = Some(k + 1);
                self.stats.skipped += 1;
            }
        }
        let n = self.next.unwrap_or(next);
        self.next = Some(n + 1);
        let redundant = self.from_redundancy.contains(&n);
        while self.from_redundancy.first().is_some_and(|k| *k <= n) {
            self.from_redundancy.pop_first();
        }
        self.popped_arrival = self.arrivals.remove(&n);
        while self.arrivals.first_key_value().is_some_and(|(k, _)| *k < n) {
            self.arrivals.pop_first();
        }
        match self.queue.remove(&n) {
            Some(p) => {
                self.stats.played += 1;
                self.note_slot(redundant);
                Pop::Packet(p)
            }
            None => {
                self.note_slot(true);
                self.stats.concealed += 1;
                let next = self.queue.get(&(n + 1)).cloned();
                if next.as_ref().is_some_and(|p| !p.is_empty()) {
                    self.stats.recovered += 1;
                }
                Pop::Lost { next }
            }
        }
    }

    /// Puts back the packet just popped, to be popped again next (the playout chose to
    /// play a little silence before it).
    pub fn unpop(&mut self, payload: Bytes) {
        if let Some(k) = self.next.and_then(|n| n.checked_sub(1)) {
            self.queue.insert(k, payload);
            if let Some(a) = self.popped_arrival.take() {
                self.arrivals.insert(k, a);
            }
            self.next = Some(k);
            self.stats.played = self.stats.played.saturating_sub(1);
        }
    }

    /// When the packet just popped arrived (none for a redundant copy, a filler or a gap).
    pub fn popped_arrival(&self) -> Option<Instant> {
        self.popped_arrival
    }

    pub fn jitter_ms(&self) -> f64 {
        self.jitter_ms
    }
}

#[cfg(test)]
// Test fixtures: exact values and free conversions.
#[allow(clippy::cast_possible_truncation)]
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
        assert_eq!(jb.pop(), Pop::Wait);
        jb.push(10, 0, pkt(10), t0);
        assert_eq!(jb.pop(), Pop::Wait, "waits for the target depth");
        jb.push(12, 1920, pkt(12), t0 + Duration::from_millis(40));
        jb.push(11, 960, pkt(11), t0 + Duration::from_millis(41));
        assert_eq!(jb.pop(), Pop::Packet(pkt(10)));
        assert_eq!(jb.pop(), Pop::Packet(pkt(11)));
        jb.push(14, 3840, pkt(14), t0 + Duration::from_millis(80));
        assert_eq!(jb.pop(), Pop::Packet(pkt(12)));
        // 13 is missing: concealed with 14's FEC.
        assert_eq!(
            jb.pop(),
            Pop::Lost {
                next: Some(pkt(14))
            }
        );
        // 13 turns up too late.
        jb.push(13, 2880, pkt(13), t0 + Duration::from_millis(90));
        assert_eq!(jb.stats.late, 1);
        assert_eq!(jb.pop(), Pop::Packet(pkt(14)));
        // Ran dry: 15 is late; the audio is stretched while waiting for it.
        assert_eq!(jb.pop(), Pop::Underrun);
        jb.push(15, 4800, pkt(15), t0 + Duration::from_millis(130));
        assert_eq!(jb.pop(), Pop::Packet(pkt(15)), "late, not lost");
        assert_eq!(jb.stats.late, 1);
        // A long gap: a little concealment, then silence until the buffer fills again.
        for _ in 0..MAX_EXPAND {
            assert_eq!(jb.pop(), Pop::Underrun);
        }
        assert_eq!(jb.pop(), Pop::Wait, "gave up waiting");
        assert_eq!(jb.stats.expanded, u64::from(MAX_EXPAND) + 1);
        assert_eq!(jb.stats.concealed, 1);
        assert_eq!(jb.stats.recovered, 1);
    }

    #[test]
    fn a_burst_before_playout_starts_is_discarded_not_skipped() {
        // The keys came a second late: fifty packets sent meanwhile arrive at once.
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig::default());
        for n in 0..50u16 {
            jb.push(n, u32::from(n) * 960, pkt(n as u8), t0);
        }
        let keep = super::super::pcm::whole((jb.target_ms() / FRAME_MS).ceil());
        assert!(keep < 5, "{}", jb.target_ms());
        // Playout starts at the newest target's worth; the rest was stale before it was due.
        let first = 50 - keep;
        assert_eq!(jb.pop(), Pop::Packet(pkt(first as u8)));
        assert_eq!(jb.stats.discarded, first as u64);
        assert_eq!(jb.stats.skipped, 0, "nothing played, so nothing skipped");
        assert_eq!(jb.stats.played, 1);
        // Once playing, a burst far beyond the target is a step: skipped and counted.
        for n in 50..70u16 {
            jb.push(
                n,
                u32::from(n) * 960,
                pkt(n as u8),
                t0 + Duration::from_millis(20),
            );
        }
        assert!(matches!(jb.pop(), Pop::Packet(_)));
        assert!(jb.stats.skipped > 0, "{:?}", jb.stats);
        assert_eq!(jb.stats.discarded, first as u64);
    }

    #[test]
    fn a_start_within_reach_of_the_target_keeps_every_frame() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig::default());
        for n in 0..4u16 {
            jb.push(n, u32::from(n) * 960, pkt(n as u8), t0);
        }
        assert_eq!(jb.pop(), Pop::Packet(pkt(0)));
        assert_eq!(jb.stats.discarded, 0);
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
        assert_eq!(jb.pop(), Pop::Packet(pkt(1)));
        assert_eq!(jb.pop(), Pop::Packet(pkt(2)));
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
        assert!(shaky.target_ms() >= 54.0, "{}", shaky.target_ms());
    }

    #[test]
    fn a_redundant_copy_fills_the_gap_of_a_lost_packet() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig {
            min_ms: 40.0,
            max_ms: 200.0,
        });
        jb.push(1, 0, pkt(1), t0);
        // 2 is lost; 3 carries a copy of it.
        jb.push(3, 1920, pkt(3), t0 + Duration::from_millis(40));
        jb.push_redundant(2, 1, pkt(2));
        // A copy of something already there or already played changes nothing.
        jb.push_redundant(1, 2, pkt(99));
        assert_eq!(jb.pop(), Pop::Packet(pkt(1)));
        assert_eq!(jb.pop(), Pop::Packet(pkt(2)));
        assert_eq!(jb.pop(), Pop::Packet(pkt(3)));
        jb.push_redundant(2, 1, pkt(98));
        assert_eq!(jb.stats.redundant, 1);
        // One packet of three was lost on the way, whatever the repair.
        assert!((jb.network_loss_pct() - 100.0 / 3.0).abs() < 0.01);
        // A copy whose original turns up before it is due does not count as a recovery.
        jb.push(5, 3840, pkt(5), t0 + Duration::from_millis(80));
        jb.push_redundant(4, 1, pkt(4));
        jb.push(4, 2880, pkt(4), t0 + Duration::from_millis(81));
        assert_eq!(jb.stats.redundant, 1);
        assert_eq!(jb.stats.duplicates, 0);
        assert_eq!(jb.stats.concealed, 0);
    }

    #[test]
    fn a_lossy_path_gets_a_frame_more_so_that_the_next_packet_can_repair() {
        // Packets on time, 1 in 25 lost: the next packet's copy of a lost one comes 20 ms
        // after the lost one would have, so the buffer holds a frame more while loss goes
        // on, and gives it back once the path is clean.
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig::default());
        let clean_target = {
            for k in 0..50u16 {
                jb.push(
                    k,
                    u32::from(k) * 960,
                    pkt(1),
                    t0 + Duration::from_millis(u64::from(k) * 20),
                );
                jb.pop();
            }
            jb.target_ms()
        };
        for k in 50..550u16 {
            if k % 25 != 0 {
                let at = t0 + Duration::from_millis(u64::from(k) * 20);
                jb.push(k, u32::from(k) * 960, pkt(1), at);
            }
            if k % 25 == 1 {
                jb.push_redundant(k - 1, 1, pkt(2));
            }
            jb.pop();
        }
        assert!(
            jb.target_ms() >= clean_target + 19.0,
            "{} ms, clean {clean_target} ms",
            jb.target_ms()
        );
        for k in 550..1500u16 {
            let at = t0 + Duration::from_millis(u64::from(k) * 20);
            jb.push(k, u32::from(k) * 960, pkt(1), at);
            jb.pop();
        }
        assert!(jb.target_ms() < clean_target + 1.0, "{} ms", jb.target_ms());
    }

    /// Pops the slot of one packet time as the playout does, taking the frames the buffer
    /// wants more (or less) for repair as they are: a pop left out for each frame more, one
    /// more for each frame less. `held` carries what is still to take; returns the change
    /// taken.
    fn play_slot(jb: &mut JitterBuffer, held: &mut i32) -> i32 {
        let change = jb.take_room_change();
        *held += change;
        if *held > 0 {
            *held -= 1;
            return change;
        }
        jb.pop();
        if *held < 0 {
            *held += 1;
            jb.pop();
        }
        change
    }

    /// Packets on time, one in five lost at random (a fixed generator); each packet carries
    /// copies of the two frames before it when `depth` is 2. Returns the share of frames
    /// concealed over the last 1000 slots, and the target at the end.
    fn twenty_percent_loss(depth: u16, slots: u16) -> (f64, f64) {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig::default());
        let mut seed = 0x2545_f491_u32;
        let mut concealed_before = 0;
        let mut held = 0;
        for k in 0..slots {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let lost = (seed >> 8).is_multiple_of(5) && k > 10;
            if !lost {
                let at = t0 + Duration::from_millis(u64::from(k) * 20);
                jb.push(k, u32::from(k) * 960, pkt(1), at);
                for back in 1..=depth.min(k) {
                    jb.push_redundant(k - back, back, pkt(2));
                }
            }
            play_slot(&mut jb, &mut held);
            if k == slots - 1000 {
                concealed_before = jb.stats.concealed;
            }
        }
        let concealed = (jb.stats.concealed - concealed_before) as f64 / 1000.0;
        (concealed, jb.target_ms())
    }

    #[test]
    fn copies_two_packets_back_are_waited_for() {
        // With one copy, a frame is concealed when it and the next are lost (4 %); with two,
        // only when three in a row are (0.8 %), if the buffer waits for the second copy.
        let (one, one_target) = twenty_percent_loss(1, 1500);
        let (two, two_target) = twenty_percent_loss(2, 1500);
        assert!(one > 0.025, "one copy: {one}");
        assert!(two < 0.015, "two copies: {two}");
        assert!(
            two_target >= one_target + 19.0,
            "{two_target} ms against {one_target} ms"
        );
    }

    #[test]
    fn the_second_frame_of_room_goes_once_copies_two_back_stop() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig::default());
        let (mut change, mut held) = (0, 0);
        for k in 0..1200u16 {
            // 1 in 10 lost throughout; copies two back only for the first 400 packets.
            if k % 10 != 5 {
                let at = t0 + Duration::from_millis(u64::from(k) * 20);
                jb.push(k, u32::from(k) * 960, pkt(1), at);
                let depth = if k < 400 { 2 } else { 1 };
                for back in 1..=depth.min(k) {
                    jb.push_redundant(k - back, back, pkt(2));
                }
            }
            change += play_slot(&mut jb, &mut held);
            if k == 399 {
                assert_eq!(jb.repair_frames, 2);
                assert_eq!(change, 2, "the playout was told of both frames");
            }
        }
        assert_eq!(jb.repair_frames, 1);
        assert_eq!(change, 1, "and of the one given back");
    }
}
