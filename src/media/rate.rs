//! What the sender does with the receiver's reports (RTCP receiver reports, RFC 3550): the
//! Opus bitrate, in-band FEC, the loss Opus is told to expect, and whether each packet
//! repeats the previous frame (RFC 2198), so that a clean path gets the best quality its
//! bitrate allows and a lossy or narrow one gets protection and a rate it can carry.
//!
//! The rate follows the loss-based half of Google's congestion control (draft-ietf-rmcat-
//! gcc §6): over 10 % reported loss the payload rate is cut by half the loss, under 2 % it
//! grows by 8 % a report (up to 96 kbit/s, Opus asked for at most 64); in between it holds.
//! Redundancy is on while loss of 1 % or more is reported (off again once it falls under
//! 0.3 %) and then shares the same rate: each frame gets half, so a path that loses packets
//! because it is full is not sent more. From 7 % reported loss (back under 5 %) each packet
//! repeats the two frames before it, and the three share the rate. In-band FEC is used
//! where redundancy is not (the other side does not take RED, or the rate is too low for
//! two frames): both repair a packet from the next one. Opus is told the loss that is left after that repair.
//! Sans-IO: reports come in as arguments.

/// Payload rate bounds and the rate a call starts with, bits per second (RED's two frames
/// share it); 6 kbit/s is Opus' floor.
pub const MAX_BPS: f64 = 96_000.0;
pub const START_BPS: f64 = 96_000.0;
pub const MIN_BPS: f64 = 6_000.0;
/// The highest bitrate asked of Opus. Mono speech scores PESQ-WB 3.83 at 32 kbit/s, 4.22 at
/// 48 and 4.38 at 64 (libopus, `voip`, the benchmark's sentences, codec alone): 64 kbit/s
/// leaves room for what the network and playout cost.
const MAX_OPUS_BPS: f64 = 64_000.0;
/// The bitrate before the first report (with FEC and RED on, a little under twice this).
const UNKNOWN_PATH_BPS: f64 = 48_000.0;
/// The loss assumed until the first report.
const UNKNOWN_LOSS_PCT: i32 = 5;
/// Reported loss (smoothed) at which redundancy goes on, and under which it goes off again.
/// It costs no bandwidth (the two frames share the rate) and little quality at the rates
/// a clean path reaches; concealment of even 1 % of frames is heard.
const RED_ON: f64 = 0.01;
const RED_OFF: f64 = 0.003;
/// Redundancy needs room for two frames of at least this rate (three for two copies).
const MIN_RED_FRAME_BPS: f64 = 8_000.0;
/// Reported loss (smoothed) at which each packet repeats the two frames before it, and
/// under which it goes back to one. With one copy a frame is lost when its packet and the
/// next are (the loss squared: 1 % at 10 %), with two when three in a row are (0.1 %); the
/// three frames then share the rate, which costs less than the concealment saved does
/// from here on.
const RED_DEEP_ON: f64 = 0.07;
const RED_DEEP_OFF: f64 = 0.05;

/// A rate or percentage (bounded above) as a whole number.
#[allow(clippy::cast_possible_truncation)] // float-to-int `as` saturates; the values are small
fn whole_i32(x: f64) -> i32 {
    x as i32
}

/// How the encoder and packetiser are to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SendSettings {
    /// Opus target bitrate, bits per second.
    pub bitrate: i32,
    /// In-band FEC, and the loss (percent) Opus is told to expect.
    pub fec: bool,
    pub loss_pct: i32,
    /// Repeat earlier frames in each packet (when the other side takes RED).
    pub redundancy: bool,
    /// How many: the previous frame, or the two before it on a path that loses many
    /// packets (0 without redundancy).
    pub redundant_frames: u8,
}

#[derive(Debug, Clone)]
pub struct RateControl {
    estimate: f64,
    /// Reported loss, smoothed over reports (fraction).
    loss: f64,
    redundancy: bool,
    /// Two copies rather than one.
    deep: bool,
    reports: u64,
    /// Whether the other side takes redundant audio at all.
    red_possible: bool,
}

impl Default for RateControl {
    fn default() -> Self {
        RateControl {
            estimate: START_BPS,
            loss: 0.0,
            redundancy: false,
            deep: false,
            reports: 0,
            red_possible: true,
        }
    }
}

impl RateControl {
    /// A receiver report said `fraction_lost` (0 to 1) of the packets since the last one
    /// were lost.
    pub fn on_report(&mut self, fraction_lost: f64) {
        let f = fraction_lost.clamp(0.0, 1.0);
        self.reports += 1;
        self.loss = if self.reports == 1 {
            f
        } else {
            0.5 * self.loss + 0.5 * f
        };
        if f > 0.10 {
            self.estimate *= 1.0 - 0.5 * f;
        } else if f < 0.02 {
            self.estimate *= 1.08;
        }
        self.estimate = self.estimate.clamp(MIN_BPS, MAX_BPS);
        if self.loss >= RED_ON {
            self.redundancy = true;
        } else if self.loss < RED_OFF {
            self.redundancy = false;
        }
        if self.loss >= RED_DEEP_ON {
            self.deep = true;
        } else if self.loss < RED_DEEP_OFF {
            self.deep = false;
        }
    }

    /// Whether the other side takes redundant audio (RFC 2198 negotiated, Opus sent):
    /// without it, in-band FEC is the protection.
    pub fn set_red_possible(&mut self, possible: bool) {
        self.red_possible = possible;
    }

    /// Reports taken so far.
    pub fn reports(&self) -> u64 {
        self.reports
    }

    /// The payload rate the path is thought to carry, bits per second.
    pub fn estimate_bps(&self) -> f64 {
        self.estimate
    }

    pub fn settings(&self) -> SendSettings {
        if self.reports == 0 {
            // Nothing known of the path yet (or the other side sends no reports): protect
            // against loss as if some were likely, with bitrate to spare for the FEC.
            return SendSettings {
                bitrate: whole_i32(UNKNOWN_PATH_BPS),
                fec: !self.red_possible,
                loss_pct: UNKNOWN_LOSS_PCT,
                redundancy: self.red_possible,
                redundant_frames: u8::from(self.red_possible),
            };
        }
        let redundancy =
            self.redundancy && self.red_possible && self.estimate >= 2.0 * MIN_RED_FRAME_BPS;
        let copies: u8 = match (redundancy, self.deep) {
            (false, _) => 0,
            (true, true) if self.estimate >= 3.0 * MIN_RED_FRAME_BPS => 2,
            (true, _) => 1,
        };
        let per_frame = self.estimate / f64::from(1 + copies);
        // What the decoder will still miss: with redundancy, only a packet lost together
        // with the next one or two (the encoder's robustness costs quality on every frame).
        let residual = self.loss.powi(1 + i32::from(copies));
        let loss_pct = (residual * 100.0).round().clamp(0.0, 30.0);
        SendSettings {
            bitrate: whole_i32(per_frame.min(MAX_OPUS_BPS)),
            // In-band FEC carries a coarse copy of the previous frame; with redundancy the
            // next packet already carries it whole, and FEC's bits would come out of the
            // frame's own.
            fec: loss_pct >= 1.0 && !redundancy,
            loss_pct: whole_i32(loss_pct),
            redundancy,
            redundant_frames: copies,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_path_gets_full_rate_and_no_protection() {
        let mut r = RateControl::default();
        let s = r.settings();
        assert!(
            !s.fec && s.redundancy,
            "protected until a report says otherwise: {s:?}"
        );
        r.set_red_possible(false);
        assert!(r.settings().fec, "by FEC where RED is not taken");
        r.set_red_possible(true);
        r.on_report(0.0);
        let s = r.settings();
        assert!(!s.fec && !s.redundancy && s.loss_pct == 0, "{s:?}");
        assert_eq!(s.bitrate, 64_000);
        for _ in 0..20 {
            r.on_report(0.0);
        }
        let s = r.settings();
        assert_eq!(s.bitrate, 64_000, "capped at what Opus needs");
        assert!(!s.fec && !s.redundancy, "{s:?}");
    }

    #[test]
    fn random_loss_turns_on_redundancy_or_fec_and_clean_reports_turn_them_off() {
        let mut r = RateControl::default();
        for _ in 0..5 {
            r.on_report(0.05);
        }
        let s = r.settings();
        assert!(s.redundancy && !s.fec, "redundancy, not FEC as well: {s:?}");
        assert_eq!(s.loss_pct, 0, "5 % lost, 0.25 % left after redundancy");
        // 5 % is below the cut: the rate holds, and each of the two frames gets half.
        assert_eq!(s.bitrate, 48_000);
        // A peer without RED gets FEC instead, and the whole rate (up to Opus' cap).
        r.set_red_possible(false);
        let s = r.settings();
        assert!(!s.redundancy && s.fec, "{s:?}");
        assert_eq!(s.bitrate, 64_000);
        assert_eq!(s.loss_pct, 5);
        r.set_red_possible(true);
        for _ in 0..10 {
            r.on_report(0.0);
        }
        let s = r.settings();
        assert!(!s.redundancy && !s.fec, "{s:?}");
        assert_eq!(s.bitrate, 64_000);
    }

    #[test]
    fn heavy_loss_repeats_two_frames_and_less_loss_one_again() {
        let mut r = RateControl::default();
        for _ in 0..5 {
            r.on_report(0.10);
        }
        let s = r.settings();
        assert_eq!((s.redundant_frames, s.fec), (2, false), "{s:?}");
        // The three frames share the rate (96 kbit/s, held at 10 %).
        assert_eq!(s.bitrate, 32_000);
        assert_eq!(s.loss_pct, 0, "10 % lost, 0.1 % left after two copies");
        for _ in 0..3 {
            r.on_report(0.06);
        }
        assert_eq!(
            r.settings().redundant_frames,
            2,
            "held between the thresholds"
        );
        for _ in 0..5 {
            r.on_report(0.03);
        }
        let s = r.settings();
        assert_eq!((s.redundant_frames, s.redundancy), (1, true), "{s:?}");
        assert_eq!(s.bitrate, 48_000);
    }

    #[test]
    fn a_narrow_path_brings_the_rate_down_until_the_loss_stops() {
        // A 32 kbit/s link whose packet overhead leaves ~10 kbit/s of payload: what is sent
        // beyond that is lost.
        let capacity = 10_000.0;
        let mut r = RateControl::default();
        let mut sent_over = Vec::new();
        r.on_report(0.0);
        for _ in 0..30 {
            let s = r.settings();
            let sent = f64::from(s.bitrate) * f64::from(1 + s.redundant_frames);
            let lost = ((sent - capacity) / sent).max(0.0);
            r.on_report(lost);
            sent_over.push(sent / capacity);
        }
        // Within a few seconds, the rate sits around what the path carries.
        let tail = &sent_over[15..];
        assert!(
            tail.iter().all(|x| *x < 1.35),
            "sent / capacity: {sent_over:?}"
        );
        assert!(r.estimate_bps() >= MIN_BPS);
    }
}
