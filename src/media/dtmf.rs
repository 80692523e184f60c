//! DTMF as in-band tones: a sender that replaces outgoing audio with digit tones (and `,`
//! pauses), and a detector that finds digits in received audio frame by frame.

use std::collections::VecDeque;
use std::time::Duration;

use super::codec::SAMPLE_RATE;

const ROWS: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
const COLS: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
const KEYS: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];
/// How long `,` waits.
pub const PAUSE: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a DTMF digit (use 0-9 * # A-D, and `,` for a 2 s pause)")]
pub struct BadDigit(pub char);

/// Checks a digit string; lower-case a-d are accepted.
pub fn parse(digits: &str) -> Result<Vec<char>, BadDigit> {
    digits
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| {
            let c = c.to_ascii_uppercase();
            if c == ',' || freqs(c).is_some() {
                Ok(c)
            } else {
                Err(BadDigit(c))
            }
        })
        .collect()
}

fn freqs(digit: char) -> Option<(f64, f64)> {
    KEYS.iter().enumerate().find_map(|(r, row)| {
        row.iter()
            .position(|&k| k == digit)
            .map(|c| (ROWS[r], COLS[c]))
    })
}

#[derive(Debug, Clone, Copy)]
pub struct DtmfTiming {
    pub duration: Duration,
    pub gap: Duration,
}

impl Default for DtmfTiming {
    fn default() -> Self {
        DtmfTiming {
            duration: Duration::from_millis(120),
            gap: Duration::from_millis(80),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Tone {
        low: f64,
        high: f64,
        samples: usize,
    },
    Silence {
        samples: usize,
    },
    /// Pass the normal audio through for a while.
    Pause {
        samples: usize,
    },
}

fn samples_of(d: Duration) -> usize {
    super::pcm::samples_in(d)
}

/// Queues digits and overwrites outgoing frames with their tones.
#[derive(Default)]
pub struct DtmfSender {
    steps: VecDeque<Step>,
    pos: usize,
}

impl DtmfSender {
    pub fn queue(&mut self, digits: &[char], timing: DtmfTiming) {
        for &d in digits {
            if d == ',' {
                self.steps.push_back(Step::Pause {
                    samples: samples_of(PAUSE),
                });
            } else if let Some((low, high)) = freqs(d) {
                self.steps.push_back(Step::Tone {
                    low,
                    high,
                    samples: samples_of(timing.duration),
                });
                self.steps.push_back(Step::Silence {
                    samples: samples_of(timing.gap),
                });
            }
        }
    }

    pub fn is_idle(&self) -> bool {
        self.steps.is_empty()
    }

    /// Writes tone or silence over `frame` where a digit is due.
    pub fn fill(&mut self, frame: &mut [i16]) {
        for s in frame.iter_mut() {
            let Some(step) = self.steps.front().copied() else {
                return;
            };
            let (len, value) = match step {
                Step::Tone { low, high, samples } => {
                    let t = self.pos as f64 / f64::from(SAMPLE_RATE);
                    let v = (t * low * std::f64::consts::TAU).sin()
                        + (t * high * std::f64::consts::TAU).sin();
                    (samples, Some(super::pcm::saturate(v * 6000.0)))
                }
                Step::Silence { samples } => (samples, Some(0)),
                Step::Pause { samples } => (samples, None),
            };
            if let Some(v) = value {
                *s = v;
            }
            self.pos += 1;
            if self.pos >= len {
                self.pos = 0;
                self.steps.pop_front();
            }
        }
    }
}

/// RFC 4733 event code of a digit.
pub fn event_code(digit: char) -> Option<u8> {
    match digit {
        '0'..='9' => Some(digit as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        'A'..='D' => Some(12 + (digit as u8 - b'A')),
        _ => None,
    }
}

/// The digit of an RFC 4733 event code.
pub fn event_digit(code: u8) -> Option<char> {
    match code {
        0..=9 => Some((b'0' + code) as char),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some((b'A' + code - 12) as char),
        _ => None,
    }
}

/// One 20 ms tick of RFC 4733 sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventTick {
    /// No digit: send audio.
    Audio,
    /// Send this telephone-event payload instead of audio. `first` marks the first packet of
    /// an event (RTP marker bit, and a new timestamp).
    Event { payload: [u8; 4], first: bool },
}

#[derive(Debug, Clone, Copy)]
enum EventStep {
    Digit { code: u8, frames: u32, gap: u32 },
    Pause { frames: u32 },
}

/// Sends digits as RFC 4733 telephone-events: one packet per 20 ms while the key is down
/// (growing duration), the final packet three times with the end bit, then a gap of audio.
#[derive(Default)]
pub struct EventSender {
    steps: VecDeque<EventStep>,
    tick: u32,
}

/// Volume field: -10 dBm0.
const EVENT_VOLUME: u8 = 10;
/// Samples per 20 ms at the 48 kHz RTP clock.
const TICK_UNITS: u32 = 960;

impl EventSender {
    pub fn queue(&mut self, digits: &[char], timing: DtmfTiming) {
        let frames = |d: Duration| super::pcm::millis_u32(d).div_ceil(20).max(1);
        for &d in digits {
            if d == ',' {
                self.steps.push_back(EventStep::Pause {
                    frames: frames(PAUSE),
                });
            } else if let Some(code) = event_code(d) {
                self.steps.push_back(EventStep::Digit {
                    code,
                    frames: frames(timing.duration),
                    gap: frames(timing.gap),
                });
            }
        }
    }

    pub fn is_idle(&self) -> bool {
        self.steps.is_empty()
    }

    pub fn next_tick(&mut self) -> EventTick {
        let Some(step) = self.steps.front().copied() else {
            return EventTick::Audio;
        };
        let t = self.tick;
        self.tick += 1;
        let (out, len) = match step {
            EventStep::Pause { frames } => (EventTick::Audio, frames),
            EventStep::Digit { code, frames, gap } => {
                // `frames` packets while down, 3 end packets, then `gap` ticks of audio.
                let out = if t < frames + 3 {
                    let end = t >= frames;
                    let duration = (t.min(frames - 1) + 1) * TICK_UNITS;
                    let d = u16::try_from(duration).unwrap_or(u16::MAX).to_be_bytes();
                    EventTick::Event {
                        payload: [code, if end { 0x80 } else { 0 } | EVENT_VOLUME, d[0], d[1]],
                        first: t == 0,
                    }
                } else {
                    EventTick::Audio
                };
                (out, frames + 3 + gap)
            }
        };
        if self.tick >= len {
            self.tick = 0;
            self.steps.pop_front();
        }
        out
    }
}

/// Reports each telephone-event once, keyed by its RTP timestamp.
#[derive(Default)]
pub struct EventReceiver {
    last_timestamp: Option<u32>,
}

impl EventReceiver {
    pub fn receive(&mut self, timestamp: u32, payload: &[u8]) -> Option<char> {
        let code = *payload.first()?;
        if payload.len() < 4 || self.last_timestamp == Some(timestamp) {
            return None;
        }
        self.last_timestamp = Some(timestamp);
        event_digit(code)
    }
}

/// Finds digits in 20 ms frames: a row and a column tone that carry most of the energy in
/// two frames in a row make a digit, reported once until the tone stops.
#[derive(Default)]
pub struct DtmfDetector {
    candidate: Option<char>,
    run: u32,
    /// The digit last reported, until two frames without it have passed: a one-frame
    /// dropout inside a tone (concealment, codec) must not count as a second press.
    reported: Option<char>,
    quiet: u32,
}

/// The power at each of the eight keypad frequencies (rows, then columns) in `samples`:
/// eight Goertzel filters run side by side in one pass, in `f32` lanes the compiler
/// vectorises (one pass over the frame instead of eight; this runs on every frame played).
// The coefficients lie in [-2, 2]: `f32` holds them to well within what detection needs.
#[allow(clippy::cast_possible_truncation)]
fn keypad_powers(samples: &[i16]) -> [f32; 8] {
    let mut coeff = [0.0f32; 8];
    for (c, f) in coeff.iter_mut().zip(ROWS.iter().chain(COLS.iter())) {
        *c = (2.0 * (std::f64::consts::TAU * f / f64::from(SAMPLE_RATE)).cos()) as f32;
    }
    let (mut s1, mut s2) = ([0.0f32; 8], [0.0f32; 8]);
    for &x in samples {
        let x = f32::from(x);
        for k in 0..8 {
            let s0 = x + coeff[k] * s1[k] - s2[k];
            s2[k] = s1[k];
            s1[k] = s0;
        }
    }
    let mut power = [0.0f32; 8];
    for k in 0..8 {
        power[k] = s1[k] * s1[k] + s2[k] * s2[k] - coeff[k] * s1[k] * s2[k];
    }
    power
}

impl DtmfDetector {
    fn digit_in(frame: &[i16]) -> Option<char> {
        let energy = frame
            .iter()
            .map(|&x| i64::from(x) * i64::from(x))
            .sum::<i64>() as f64;
        if energy / (frame.len() as f64) < 1.0e5 {
            return None; // too quiet (RMS below ~300)
        }
        let power = keypad_powers(frame);
        let best = |set: &[f32]| {
            let (i, p) =
                set.iter()
                    .enumerate()
                    .fold((0, f32::MIN), |b, (i, &p)| if p > b.1 { (i, p) } else { b });
            (i, f64::from(p))
        };
        let (r, pr) = best(&power[..4]);
        let (c, pc) = best(&power[4..]);
        // Each tone's share of the energy (a pure tone gives about 1 with this scaling).
        let n = frame.len() as f64;
        let share = |p: f64| 2.0 * p / (energy * n);
        if share(pr) > 0.2 && share(pc) > 0.2 && share(pr) + share(pc) > 0.6 {
            Some(KEYS[r][c])
        } else {
            None
        }
    }

    /// Feeds one frame; returns a digit when one starts.
    pub fn feed(&mut self, frame: &[i16]) -> Option<char> {
        let digit = Self::digit_in(frame);
        if digit.is_some() && digit == self.reported {
            // Still the same key (or the same key back after a brief dropout).
            self.quiet = 0;
            return None;
        }
        match digit {
            Some(d) if Some(d) == self.candidate => {
                self.run += 1;
                if self.run >= 2 {
                    self.reported = Some(d);
                    self.quiet = 0;
                    return Some(d);
                }
            }
            Some(d) => {
                self.candidate = Some(d);
                self.run = 1;
            }
            None => {
                self.candidate = None;
                self.run = 0;
                self.quiet += 1;
                if self.quiet >= 2 {
                    self.reported = None;
                }
            }
        }
        None
    }
}

#[cfg(test)]
// Test fixtures: exact values and free conversions.
#[allow(clippy::cast_possible_truncation)]
mod tests {
    use super::*;
    use crate::media::codec::FRAME_SAMPLES;

    #[test]
    fn parse_accepts_the_keypad_and_refuses_the_rest() {
        assert_eq!(
            parse("12#*ab,9").unwrap(),
            vec!['1', '2', '#', '*', 'A', 'B', ',', '9']
        );
        assert_eq!(parse("12x"), Err(BadDigit('X')));
        assert_eq!(parse("5!"), Err(BadDigit('!')));
    }

    #[test]
    fn sent_digits_are_detected_in_order() {
        let mut tx = DtmfSender::default();
        tx.queue(&parse("159#*0D").unwrap(), DtmfTiming::default());
        let mut rx = DtmfDetector::default();
        let mut got = String::new();
        let mut frame = vec![0i16; FRAME_SAMPLES];
        for _ in 0..100 {
            // Some background audio under the tones.
            for (i, s) in frame.iter_mut().enumerate() {
                *s = ((i as f64 * 0.05).sin() * 200.0) as i16;
            }
            tx.fill(&mut frame);
            if let Some(d) = rx.feed(&frame) {
                got.push(d);
            }
        }
        assert_eq!(got, "159#*0D");
        assert!(tx.is_idle());
    }

    #[test]
    fn rfc4733_events_round_trip() {
        let mut tx = EventSender::default();
        tx.queue(
            &parse("9,#").unwrap(),
            DtmfTiming {
                duration: Duration::from_millis(100),
                gap: Duration::from_millis(40),
            },
        );
        let mut rx = EventReceiver::default();
        let mut got = String::new();
        let mut ts = 0u32;
        let mut event_ts = 0u32;
        let mut ticks = Vec::new();
        while !tx.is_idle() {
            let tick = tx.next_tick();
            if let EventTick::Event { payload, first } = tick {
                if first {
                    event_ts = ts;
                }
                if let Some(d) = rx.receive(event_ts, &payload) {
                    got.push(d);
                }
            }
            ticks.push(tick);
            ts += 960;
        }
        assert_eq!(got, "9#");
        // 5 packets down + 3 end packets for "9", then gap and pause.
        let first: Vec<_> = ticks.iter().take(8).collect();
        assert!(
            matches!(first[0], EventTick::Event { first: true, payload } if payload[0] == 9 && payload[1] & 0x80 == 0)
        );
        assert!(
            matches!(first[5], EventTick::Event { first: false, payload } if payload[1] & 0x80 != 0 && u16::from_be_bytes([payload[2], payload[3]]) == 4800)
        );
        assert_eq!(ticks[8], EventTick::Audio);
        // 8 + 2 gap + 100 pause + 8 + 2.
        assert_eq!(ticks.len(), 8 + 2 + 100 + 8 + 2);
        for c in "0123456789*#ABCD".chars() {
            assert_eq!(event_digit(event_code(c).unwrap()), Some(c));
        }
    }

    #[test]
    fn a_one_frame_dropout_is_not_a_second_press() {
        let mut tx = DtmfSender::default();
        tx.queue(
            &['8', '8'],
            DtmfTiming {
                duration: Duration::from_millis(200),
                gap: Duration::from_millis(80),
            },
        );
        let mut rx = DtmfDetector::default();
        let mut got = String::new();
        let mut frame = vec![0i16; FRAME_SAMPLES];
        for i in 0..40 {
            frame.fill(0);
            tx.fill(&mut frame);
            if i == 5 {
                frame.fill(0); // a lost frame in the middle of the first tone
            }
            if let Some(d) = rx.feed(&frame) {
                got.push(d);
            }
        }
        assert_eq!(got, "88", "two presses, each reported once");
    }

    #[test]
    fn a_pause_lets_audio_through() {
        let mut tx = DtmfSender::default();
        tx.queue(&[','], DtmfTiming::default());
        let mut frame = vec![1234i16; FRAME_SAMPLES];
        tx.fill(&mut frame);
        assert!(frame.iter().all(|&s| s == 1234));
        assert!(!tx.is_idle());
    }
}
