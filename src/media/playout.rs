//! Playout: the audio clock that says when the next audio is due, and the pipeline from
//! the jitter buffer through the decoder to the speaker, which keeps the delay where the
//! network's jitter asks by time-stretching decoded audio a pitch period at a time
//! ([`super::stretch`], NetEq's accelerate and preemptive expand) instead of dropping or
//! repeating whole frames.
//!
//! Each packet's audio is handed over as one piece, 20 ms give or take what was stretched
//! or compressed, and the clock schedules the next hand-over when that piece has played:
//! stretching by 5 ms moves every later packet's deadline 5 ms later. The margin of each
//! packet (from its arrival to the hand-over that needs it) is noted; over a window of
//! packets its low-water mark says how much room arrivals really had. Much more than the
//! jitter needs: the next frames are compressed until the excess is gone. Less: stretched.
//! A packet that is not there when due is concealed (a loss) or waited for with
//! concealment (an underrun), and every millisecond added or removed is counted. Margins
//! seen by a hand-over that ran late (the process was starved of CPU) say nothing about
//! the network and are left out. Sans-IO: time comes in as arguments.

use std::time::{Duration, Instant};

use super::codec::FRAME_SAMPLES;
use super::jitter::{JitterBuffer, JitterConfig, Pop};
use super::stretch;

/// 48 kHz samples per millisecond.
const PER_MS: usize = 48;
/// Packets over which the margin's low-water mark is watched (200 ms).
const WINDOW: u32 = 10;
/// The least margin kept, whatever the jitter (3 ms).
const MIN_MARGIN_MS: f64 = 3.0;
/// Excess margin tolerated before compressing (8 ms, or half the margin wanted if more),
/// and how much above the margin wanted compression stops (3 ms).
const EXCESS_MS: f64 = 8.0;
const EXCESS_KEPT_MS: f64 = 3.0;
/// Shortfall tolerated before stretching (1 ms, or a quarter of the margin wanted if more).
const SHORTFALL_MS: f64 = 1.0;
/// How much longer than the budget a stretching period may be (a period is rarely exactly
/// the budget; 5 ms).
const PERIOD_SLACK: usize = 5 * PER_MS;
/// Frames tried in a row without a usable period (noise, onsets) before a budget is given
/// up; the next window sets a new one.
const TRIES: u32 = 8;
/// Frames a step waits for a pause before it is taken inside speech: compression a second,
/// stretching half a second (a shortfall risks running dry).
const PATIENCE_COMPRESS: u32 = 50;
const PATIENCE_STRETCH: u32 = 25;
/// Excess (ms) that is compressed at once, pause or not; a margin (ms) under which
/// stretching does not wait for a pause.
const URGENT_EXCESS_MS: f64 = 40.0;
const URGENT_MARGIN_MS: f64 = 1.0;
/// A frame this far below the speech level (20 dB), or under [`stretch::QUIET_RMS`], is a
/// pause; the level follows the loudest frames and decays by about 1 dB a second.
const PAUSE_BELOW_LEVEL: f64 = 0.1;
const LEVEL_DECAY: f64 = 0.9975;
/// A hand-over this late (ms) was held up by the scheduler: its margins are not counted.
const LATE_MS: f64 = 2.0;
/// Longest stall the clock catches up on by playing owed audio at once (1 s); beyond, the
/// time is skipped (a suspended laptop, a debugger).
const MAX_OWED: Duration = Duration::from_secs(1);

fn nanos_of(samples: u64) -> Duration {
    Duration::from_nanos(
        u64::try_from(u128::from(samples) * 1_000_000_000 / 48_000).unwrap_or(u64::MAX),
    )
}

/// The audio clock, counted in samples handed over: the next hand-over is due when what
/// was handed over so far has played. A late wake-up owes every hand-over that fell due
/// meanwhile, and they are all made; none is dropped.
#[derive(Debug, Clone)]
pub struct PlayoutClock {
    start: Instant,
    handed: u64,
    /// Milliseconds given up on after stalls longer than a second.
    pub skipped_ms: f64,
    /// Wake-ups that found more than one hand-over owed.
    pub late_wakeups: u64,
}

impl PlayoutClock {
    pub fn new(start: Instant) -> Self {
        PlayoutClock {
            start,
            handed: 0,
            skipped_ms: 0.0,
            late_wakeups: 0,
        }
    }

    /// When the next hand-over falls due.
    pub fn next_due(&self) -> Instant {
        self.start + nanos_of(self.handed)
    }

    /// Whether a hand-over is due at `now`; after a stall of over a second the clock first
    /// skips ahead to a second before `now`.
    pub fn is_due(&mut self, now: Instant) -> bool {
        let due = self.next_due();
        if now < due {
            return false;
        }
        let behind = now - due;
        if let Some(skip) = behind.checked_sub(MAX_OWED).filter(|s| !s.is_zero()) {
            let samples = u64::try_from(skip.as_micros() * 48 / 1000).unwrap_or(0);
            self.handed += samples;
            self.skipped_ms += samples as f64 / PER_MS as f64;
        }
        true
    }

    /// Counts `samples` handed over; `late` says whether the wake-up was behind by more
    /// than one hand-over.
    pub fn handed(&mut self, samples: usize, now: Instant) {
        self.handed += samples as u64;
        if now >= self.next_due() {
            self.late_wakeups += 1;
        }
    }
}

/// A decoder as the playout uses it: one frame from a packet, or one frame of concealment
/// (from FEC data in the next packet where there is some). Both return samples written.
pub trait FrameDecoder {
    fn decode(&mut self, packet: &[u8], pcm: &mut [i16]) -> usize;
    fn conceal(&mut self, next: Option<&[u8]>, pcm: &mut [i16]) -> usize;
}

impl FrameDecoder for super::coding::AnyDecoder {
    fn decode(&mut self, packet: &[u8], pcm: &mut [i16]) -> usize {
        super::coding::AnyDecoder::decode(self, packet, pcm).unwrap_or(0)
    }

    fn conceal(&mut self, next: Option<&[u8]>, pcm: &mut [i16]) -> usize {
        super::coding::AnyDecoder::conceal(self, next, pcm).unwrap_or(0)
    }
}

/// Milliseconds of playout time added and removed, by cause.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlayoutStats {
    /// Removed by compressing decoded audio (the delay was above what the jitter needs).
    pub compressed_ms: f64,
    /// Added by stretching decoded audio (the delay was below what the jitter needs).
    pub stretched_ms: f64,
    /// Added by concealment while the buffer was dry (a late packet: an underrun).
    pub underrun_ms: f64,
    /// Concealment in place of lost packets (not a change of delay).
    pub concealed_ms: f64,
    /// Removed by skipping whole frames after a burst far beyond the target.
    pub skipped_ms: f64,
    /// Silence played while there was nothing to play (start, hold, the other side silent).
    pub silence_ms: f64,
    /// Audio played from packets, in milliseconds.
    pub played_ms: f64,
    /// The margin of the last window: the least time a packet waited before it was needed.
    pub margin_ms: f64,
    /// Of what was compressed and stretched, what went inside speech rather than in a pause.
    pub in_speech_ms: f64,
}

impl PlayoutStats {
    /// Every step of the playout delay, in milliseconds: what was stretched, compressed,
    /// waited for or skipped.
    pub fn steps_ms(&self) -> f64 {
        self.compressed_ms + self.stretched_ms + self.underrun_ms + self.skipped_ms
    }
}

fn ms(samples: usize) -> f64 {
    samples as f64 / PER_MS as f64
}

/// The receiving half of a call's audio, from packets to the audio played.
pub struct Playout {
    pub jb: JitterBuffer,
    decoded: Vec<i16>,
    /// Packets played in the current window, and the least margin seen in it (ms).
    window: u32,
    low_water: f64,
    /// Samples still to remove (positive) or add (negative) by time-stretching, and frames
    /// tried since the budget was set.
    budget: i64,
    tries: u32,
    /// Frames the current budget has waited for a pause, and the speech level (RMS).
    waited: u32,
    level: f64,
    /// Stretching that frames played while waiting for a packet stood in for (samples).
    underrun_credit: i64,
    pub stats: PlayoutStats,
}

impl Playout {
    pub fn new(config: JitterConfig) -> Self {
        Playout {
            jb: JitterBuffer::new(config),
            decoded: vec![0; FRAME_SAMPLES],
            window: 0,
            low_water: f64::MAX,
            budget: 0,
            tries: 0,
            waited: 0,
            level: 0.0,
            underrun_credit: 0,
            stats: PlayoutStats::default(),
        }
    }

    /// The margin the jitter asks for, in milliseconds.
    fn wanted_ms(&self) -> f64 {
        (self.jb.target_ms() - 20.0).max(MIN_MARGIN_MS)
    }

    /// The audio due at `due` (the clock's time for it), handed over at `now`: one
    /// packet's worth, stretched or compressed, or concealment, or silence. `out` is
    /// replaced; it is never empty.
    pub fn next(
        &mut self,
        decoder: &mut impl FrameDecoder,
        out: &mut Vec<i16>,
        due: Instant,
        now: Instant,
    ) {
        out.clear();
        let was_playing = self.jb.playing();
        let skipped = self.jb.stats.skipped;
        let waited_for_lost = self.jb.stats.waited_for_lost;
        let pop = self.jb.pop();
        self.stats.skipped_ms += (self.jb.stats.skipped - skipped) as f64 * 20.0;
        // Frames played while waiting for packets that turned out lost were their
        // concealment, not a step of the delay.
        let relabelled = (self.jb.stats.waited_for_lost - waited_for_lost) as f64 * 20.0;
        self.stats.underrun_ms = (self.stats.underrun_ms - relabelled).max(0.0);
        self.stats.concealed_ms += relabelled;
        if relabelled > 0.0 {
            // Nor did it do the stretching it stood in for.
            self.budget -= std::mem::take(&mut self.underrun_credit);
        } else if !matches!(pop, Pop::Underrun) {
            self.underrun_credit = 0;
        }
        // The buffer now wants a frame more (or less) to repair losses: that step is taken
        // as it is, in the next pauses, without waiting for margins to show it.
        let room = self.jb.take_room_change();
        if room != 0 {
            self.budget -= i64::from(room) * i64::try_from(FRAME_SAMPLES).unwrap_or(960);
            self.waited = 0;
            self.window = 0;
            self.low_water = f64::MAX;
        }
        match pop {
            Pop::Wait => {
                self.budget = 0;
                self.window = 0;
                self.low_water = f64::MAX;
                out.resize(FRAME_SAMPLES, 0);
                self.stats.silence_ms += 20.0;
            }
            Pop::Packet(data) if data.is_empty() => {
                // A slot that carried a telephone-event: silence, played as is.
                out.resize(FRAME_SAMPLES, 0);
            }
            Pop::Packet(data) => {
                let margin = self
                    .jb
                    .popped_arrival()
                    .map(|a| due.saturating_duration_since(a).as_secs_f64() * 1000.0);
                if !was_playing {
                    // The first packet after silence: start with the margin wanted, so that
                    // the next packet is not due the moment this one plays.
                    let short = self.wanted_ms() - margin.unwrap_or(0.0);
                    if short > 0.0 {
                        out.resize(super::pcm::whole(short * PER_MS as f64).max(1), 0);
                        self.stats.silence_ms += ms(out.len());
                        self.jb.unpop(data);
                        return;
                    }
                }
                let late = now.saturating_duration_since(due).as_secs_f64() * 1000.0 > LATE_MS;
                if let Some(m) = margin.filter(|_| !late) {
                    self.low_water = self.low_water.min(m);
                }
                let n = decoder.decode(&data, &mut self.decoded);
                self.stats.played_ms += ms(n);
                self.stretch_into(n, out);
                self.watch_margin();
            }
            Pop::Lost { next } => {
                let n = decoder.conceal(next.as_deref(), &mut self.decoded);
                self.stats.concealed_ms += ms(n);
                out.extend_from_slice(&self.decoded[..n]);
            }
            Pop::Underrun => {
                let n = decoder.conceal(None, &mut self.decoded);
                self.stats.underrun_ms += ms(n);
                // The delay just grew by this frame (if the packet was late): so much less
                // to stretch, given back if the packet turns out lost.
                let frame = i64::try_from(n).unwrap_or(0);
                let take = (-self.budget).clamp(0, frame);
                self.budget += take;
                self.underrun_credit += take;
                out.extend_from_slice(&self.decoded[..n]);
            }
        }
        if out.is_empty() {
            out.resize(FRAME_SAMPLES, 0);
        }
    }

    /// Hands over `decoded[..n]`, compressed or stretched when the budget asks: at once in a
    /// pause, by a pitch period inside speech only once the step has waited long enough for
    /// a pause or cannot wait.
    fn stretch_into(&mut self, n: usize, out: &mut Vec<i16>) {
        let frame = &self.decoded[..n];
        let level = stretch::level(frame);
        self.level = (self.level * LEVEL_DECAY).max(level);
        if self.budget == 0 {
            out.extend_from_slice(frame);
            return;
        }
        let pause = level < stretch::QUIET_RMS.max(self.level * PAUSE_BELOW_LEVEL);
        let budget = usize::try_from(self.budget.unsigned_abs()).unwrap_or(0);
        self.waited += 1;
        let mut in_speech = false;
        let changed = if self.budget > 0 {
            let urgent = budget >= super::pcm::whole(URGENT_EXCESS_MS * PER_MS as f64);
            let removed = if pause {
                stretch::squeeze(frame, budget, out)
            } else if urgent || self.waited > PATIENCE_COMPRESS {
                in_speech = true;
                // Never past the margin wanted: the budget leaves a little above it, which
                // the last step (only) may take when a period is longer than what is left.
                let slack = super::pcm::whole(EXCESS_KEPT_MS * PER_MS as f64);
                let max = if budget >= stretch::MAX_PERIOD {
                    budget
                } else {
                    budget + slack
                };
                stretch::accelerate(frame, max, out)
            } else {
                out.extend_from_slice(frame);
                0
            };
            self.budget = (self.budget - i64::try_from(removed).unwrap_or(0)).max(0);
            self.stats.compressed_ms += ms(removed);
            removed
        } else {
            // A window whose packets came with less than a millisecond to spare: the next
            // late one runs dry.
            let urgent = self.wanted_ms() - ms(budget) < URGENT_MARGIN_MS;
            let added = if pause {
                stretch::pad(frame, budget, out)
            } else if urgent || self.waited > PATIENCE_STRETCH {
                in_speech = true;
                stretch::expand(frame, budget + PERIOD_SLACK, out)
            } else {
                out.extend_from_slice(frame);
                0
            };
            self.budget = (self.budget + i64::try_from(added).unwrap_or(0)).min(0);
            self.stats.stretched_ms += ms(added);
            added
        };
        if in_speech {
            self.tries += 1;
        }
        if changed > 0 {
            if in_speech {
                self.stats.in_speech_ms += ms(changed);
            }
            // Margins seen before this step no longer hold: the next decision waits for a
            // window measured after it.
            self.window = 0;
            self.low_water = f64::MAX;
            self.tries = 0;
        }
        if self.tries >= TRIES {
            // Nothing in these frames lent itself to it: the next window decides again.
            self.budget = 0;
            self.tries = 0;
        }
        if self.budget == 0 {
            self.waited = 0;
        }
    }

    /// After each packet: the margin's low-water mark over a window sets the next budget.
    fn watch_margin(&mut self) {
        self.window += 1;
        if self.window < WINDOW || self.budget != 0 {
            return;
        }
        let (wanted, low) = (self.wanted_ms(), self.low_water);
        self.window = 0;
        self.low_water = f64::MAX;
        if low >= f64::MAX {
            // Every hand-over of the window ran late: nothing learnt.
            return;
        }
        self.stats.margin_ms = low;
        let samples = |ms: f64| i64::try_from(super::pcm::whole(ms * PER_MS as f64)).unwrap_or(0);
        // The tolerances grow with the margin: on a jittery path the window's low-water mark
        // itself wanders by a fair part of it, and chasing that would stretch and compress
        // back and forth.
        self.waited = 0;
        let excess = EXCESS_MS.max(wanted / 2.0);
        let shortfall = SHORTFALL_MS.max(wanted / 4.0);
        if low > wanted + excess {
            self.budget = samples(low - wanted - EXCESS_KEPT_MS);
        } else if low + shortfall < wanted {
            self.budget = -samples(wanted - low);
        }
    }
}

#[cfg(test)]
// Test fixtures: exact values and free conversions.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::float_cmp
)]
mod tests {
    use super::*;
    use bytes::Bytes;

    /// A decoder whose packets say which frame they are; it plays a 160 Hz voiced-like
    /// signal continuing from that frame (with `pauses`, 400 ms of it then 200 ms of near
    /// silence, as speech has), and its concealment continues the last frame.
    #[derive(Default)]
    struct Voice {
        last: u32,
        pauses: bool,
    }

    impl Voice {
        fn talking() -> Self {
            Voice {
                last: 0,
                pauses: true,
            }
        }

        fn play(&self, pcm: &mut [i16]) {
            let amplitude = if self.pauses && (self.last / 10) % 3 == 2 {
                0.01
            } else {
                1.0
            };
            for (i, s) in pcm.iter_mut().enumerate() {
                let t = (self.last as usize * FRAME_SAMPLES + i) as f64 / 48_000.0;
                let f = 160.0 * std::f64::consts::TAU * t;
                *s = (amplitude * (6000.0 * f.sin() + 3000.0 * (2.0 * f).sin())) as i16;
            }
        }
    }

    impl FrameDecoder for Voice {
        fn decode(&mut self, packet: &[u8], pcm: &mut [i16]) -> usize {
            self.last = u32::from_be_bytes(packet[..4].try_into().unwrap());
            self.play(pcm);
            pcm.len()
        }
        fn conceal(&mut self, _next: Option<&[u8]>, pcm: &mut [i16]) -> usize {
            self.last += 1;
            self.play(pcm);
            pcm.len()
        }
    }

    fn packet(n: u32) -> Bytes {
        Bytes::copy_from_slice(&n.to_be_bytes())
    }

    /// A sender every 20 ms (its clock `drift` faster: 1.001 = 0.1 %), a network delay per
    /// packet, and a receiver that wakes up `late(k)` after its hand-over `k` falls due,
    /// taking in what arrived before it hands over what it owes. Returns the playout and
    /// each packet's margin (from arrival to the hand-over that played it), in ms.
    fn run(
        frames: u32,
        drift: f64,
        delay: impl Fn(u32) -> f64,
        late: impl Fn(u64) -> f64,
    ) -> (Playout, Vec<f64>) {
        run_with(Voice::default(), frames, drift, delay, late)
    }

    fn run_with(
        mut decoder: Voice,
        frames: u32,
        drift: f64,
        delay: impl Fn(u32) -> f64,
        late: impl Fn(u64) -> f64,
    ) -> (Playout, Vec<f64>) {
        let t0 = Instant::now();
        let at = |ms: f64| t0 + Duration::from_micros((ms * 1000.0) as u64);
        let mut arrivals: Vec<(f64, u32)> = (0..frames)
            .map(|k| (f64::from(k) * 20.0 / drift + delay(k), k))
            .collect();
        arrivals.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut playout = Playout::new(JitterConfig::default());
        // The receiver's clock has a phase of its own.
        let mut clock = PlayoutClock::new(at(7.0));
        let mut out = Vec::new();
        let mut margins = Vec::new();
        let mut next_arrival = 0;
        let end = f64::from(frames) * 20.0 / drift;
        let mut k = 0;
        loop {
            let wake_ms =
                clock.next_due().duration_since(t0).as_secs_f64() * 1000.0 + late(k).max(0.0);
            if wake_ms > end {
                break;
            }
            while next_arrival < arrivals.len() && arrivals[next_arrival].0 <= wake_ms {
                let (t, n) = arrivals[next_arrival];
                playout.jb.push(n as u16, n * 960, packet(n), at(t));
                next_arrival += 1;
            }
            let now = at(wake_ms);
            while clock.is_due(now) {
                let due = clock.next_due();
                playout.next(&mut decoder, &mut out, due, now);
                if let Some(a) = playout.jb.popped_arrival() {
                    margins.push(due.duration_since(a).as_secs_f64() * 1000.0);
                }
                clock.handed(out.len(), now);
                k += 1;
            }
        }
        (playout, margins)
    }

    /// After a burst at packet 200: the margins of the last 40 packets are no more than
    /// 5 ms over those before it.
    fn back_where_it_was(margins: &[f64]) {
        let before = margins[150..195].iter().copied().fold(f64::MIN, f64::max);
        let after = margins[margins.len() - 40..]
            .iter()
            .copied()
            .fold(f64::MIN, f64::max);
        assert!(
            after <= before + 5.0,
            "before {before} ms, after {after} ms"
        );
    }

    /// 0.3-2 ms of network jitter, as a quiet loopback or LAN has.
    fn lan(k: u32) -> f64 {
        0.3 + f64::from((k * 7919) % 17) / 10.0
    }

    #[test]
    fn late_wake_ups_cost_no_frame_of_delay() {
        // Every 15th frame the receiver wakes 35 ms late (a busy machine): the frames owed
        // are all played, from packets that were waiting, and nothing is stretched.
        let late = |k: u64| if k % 15 == 7 { 35.0 } else { 0.2 };
        let (p, margins) = run(1500, 1.0, lan, late);
        assert_eq!(p.jb.stats.expanded, 0, "{:?}", p.stats);
        assert_eq!(p.jb.stats.concealed, 0);
        assert_eq!(p.stats.underrun_ms, 0.0);
        assert_eq!(p.stats.skipped_ms, 0.0);
        assert!(p.stats.played_ms > 29_000.0, "{:?}", p.stats);
        // Settled within the first second, to the margin wanted plus the network's own
        // jitter: the delay holds steady, no step.
        assert!(p.stats.steps_ms() < 30.0, "{:?}", p.stats);
        let settled = &margins[50..];
        let (lo, hi) = settled
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), c| (lo.min(*c), hi.max(*c)));
        assert!(
            lo > 0.0 && hi < MIN_MARGIN_MS + EXCESS_MS + 2.0,
            "margins {lo}..{hi} ms"
        );
    }

    #[test]
    fn a_burst_is_waited_for_then_compressed_back_a_period_at_a_time() {
        // Packets 200-204 are held up 80 ms and come together: concealment while waiting,
        // then the extra delay goes, in steps no longer than a pitch period.
        let delay = |k: u32| {
            lan(k)
                + if (200..205).contains(&k) {
                    80.0 - f64::from(k - 200) * 20.0
                } else {
                    0.0
                }
        };
        let (p, margins) = run(1000, 1.0, delay, |_| 0.2);
        assert!(p.stats.underrun_ms >= 60.0, "{:?}", p.stats);
        assert_eq!(p.jb.stats.concealed, 0, "late, not lost");
        assert!(
            p.stats.compressed_ms >= p.stats.underrun_ms - EXCESS_MS,
            "{:?}",
            p.stats
        );
        assert_eq!(p.stats.skipped_ms, 0.0, "{:?}", p.stats);
        // After the burst, each packet's delay changes by at most a period and the
        // network's jitter: no frame-sized step.
        for w in margins[215..].windows(2) {
            assert!((w[1] - w[0]).abs() <= 12.0, "{w:?} {:?}", p.stats);
        }
        // Back near where it was before the burst.
        back_where_it_was(&margins);
    }

    #[test]
    fn clock_drift_is_absorbed_without_frame_steps() {
        // The sender's clock runs 0.5 % fast (far more than sound cards do) for a minute:
        // the buffer would fill by 300 ms; compression keeps it near its target instead.
        let (p, margins) = run(3000, 1.005, lan, |_| 0.2);
        assert_eq!(p.stats.skipped_ms, 0.0, "{:?}", p.stats);
        assert_eq!(p.jb.stats.expanded, 0);
        assert!(p.stats.compressed_ms > 250.0, "{:?}", p.stats);
        let tail = margins[margins.len() - 500..]
            .iter()
            .copied()
            .fold(f64::MIN, f64::max);
        assert!(tail < 20.0, "margin grew to {tail} ms");
        // And a slow sender: the buffer drains; stretching keeps it from running dry.
        let (p, _) = run(3000, 0.995, lan, |_| 0.2);
        assert!(p.stats.stretched_ms > 250.0, "{:?}", p.stats);
        assert!(p.jb.stats.expanded <= 2, "{:?} {:?}", p.stats, p.jb.stats);
    }

    #[test]
    fn steps_wait_for_the_pauses_between_words() {
        // Speech with pauses: drift both ways (0.2 %, more than sound cards have) and a burst
        // are all absorbed in the pauses, none of it inside speech, where it would shift the
        // rest of a word in time.
        for drift in [1.002, 0.998] {
            let (p, margins) = run_with(Voice::talking(), 3000, drift, lan, |_| 0.2);
            assert!(
                p.stats.compressed_ms + p.stats.stretched_ms > 100.0,
                "{:?}",
                p.stats
            );
            assert_eq!(p.stats.in_speech_ms, 0.0, "{:?}", p.stats);
            assert_eq!(p.jb.stats.expanded, 0, "{:?} {:?}", p.stats, p.jb.stats);
            assert_eq!(p.stats.underrun_ms, 0.0, "{:?}", p.stats);
            let tail = margins[margins.len() - 500..]
                .iter()
                .copied()
                .fold(f64::MIN, f64::max);
            assert!(tail < 25.0, "margin grew to {tail} ms");
        }
        let delay = |k: u32| lan(k) + if (200..203).contains(&k) { 40.0 } else { 0.0 };
        let (p, margins) = run_with(Voice::talking(), 1000, 1.0, delay, |_| 0.2);
        assert!(p.stats.underrun_ms > 0.0, "{:?}", p.stats);
        assert!(p.stats.compressed_ms >= p.stats.underrun_ms - EXCESS_MS);
        assert_eq!(p.stats.in_speech_ms, 0.0, "{:?}", p.stats);
        back_where_it_was(&margins);
    }

    #[test]
    fn a_lossy_path_is_concealed_in_place_and_a_late_one_waited_for() {
        // 5 % of packets never come (a path that loses them, little jitter): after the
        // first few, the buffer running dry on one conceals it in its place instead of
        // waiting and growing the delay by a frame each time.
        let lost = |k: u32| k % 20 == 7 && k > 20;
        let delay = |k: u32| if lost(k) { 1e9 } else { lan(k) };
        let (p, _) = run(1500, 1.0, delay, |_| 0.2);
        let lost_n = (0..1500).filter(|k| lost(*k)).count() as u64;
        assert!(p.jb.stats.expanded <= 3, "{:?} {:?}", p.stats, p.jb.stats);
        assert!(
            p.jb.stats.concealed >= lost_n - 3,
            "{:?} {:?}",
            p.stats,
            p.jb.stats
        );
        assert!(p.stats.steps_ms() < 200.0, "{:?}", p.stats);
        // The buffer took a frame more, so that the next packet (with the lost one's copy
        // or FEC) is there in time: also when every wake-up is late, so that no margin is
        // ever measured.
        assert!(p.stats.stretched_ms >= 19.0, "{:?}", p.stats);
        let (p, _) = run(1500, 1.0, delay, |_| 5.0);
        assert!(p.stats.stretched_ms >= 19.0, "{:?}", p.stats);
        // Every 50th packet 15 ms late, none lost: each is waited for, none concealed.
        let delay = |k: u32| lan(k) + if k % 50 == 25 { 15.0 } else { 0.0 };
        let (p, _) = run(1500, 1.0, delay, |_| 0.2);
        assert_eq!(p.jb.stats.concealed, 0, "{:?} {:?}", p.stats, p.jb.stats);
        assert_eq!(p.jb.stats.late, 0, "{:?} {:?}", p.stats, p.jb.stats);
    }

    #[test]
    fn the_clock_owes_every_hand_over_after_a_late_wake_up() {
        let t0 = Instant::now();
        let mut c = PlayoutClock::new(t0);
        assert!(c.is_due(t0));
        c.handed(960, t0);
        assert!(!c.is_due(t0 + Duration::from_millis(5)));
        assert_eq!(c.next_due(), t0 + Duration::from_millis(20));
        // Woken 55 ms late: hand-overs of 960, 720 (compressed) and 1200 (stretched)
        // samples are owed, and the next is due when they have played.
        let now = t0 + Duration::from_millis(75);
        let mut owed = 0;
        for n in [960, 720, 1200, 960] {
            if !c.is_due(now) {
                break;
            }
            c.handed(n, now);
            owed += 1;
        }
        assert_eq!(owed, 3);
        assert_eq!(c.next_due(), t0 + Duration::from_millis(20 + 20 + 15 + 25));
        assert_eq!(c.late_wakeups, 2);
        // A stall of 5 s: a second of audio is handed over, the rest skipped and counted.
        let now = t0 + Duration::from_secs(5);
        let mut n = 0;
        while c.is_due(now) {
            c.handed(960, now);
            n += 1;
        }
        assert_eq!(n, 51);
        assert!(
            (c.skipped_ms - (5000.0 - 80.0 - 1000.0)).abs() < 0.1,
            "{}",
            c.skipped_ms
        );
    }
}
