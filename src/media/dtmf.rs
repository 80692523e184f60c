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
    (d.as_secs_f64() * f64::from(SAMPLE_RATE)) as usize
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
                    (samples, Some((v * 6000.0) as i16))
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

/// Finds digits in 20 ms frames: a row and a column tone that carry most of the energy in
/// two frames in a row make a digit, reported once until the tone stops.
#[derive(Default)]
pub struct DtmfDetector {
    candidate: Option<char>,
    run: u32,
    reported: bool,
}

fn goertzel_power(samples: &[i16], freq: f64) -> f64 {
    let w = std::f64::consts::TAU * freq / f64::from(SAMPLE_RATE);
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

impl DtmfDetector {
    fn digit_in(frame: &[i16]) -> Option<char> {
        let energy: f64 = frame.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
        if energy / (frame.len() as f64) < 1.0e5 {
            return None; // too quiet (RMS below ~300)
        }
        let best = |set: &[f64; 4]| {
            set.iter()
                .enumerate()
                .map(|(i, &f)| (i, goertzel_power(frame, f)))
                .max_by(|a, b| a.1.total_cmp(&b.1))
        };
        let (r, pr) = best(&ROWS)?;
        let (c, pc) = best(&COLS)?;
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
        match Self::digit_in(frame) {
            Some(d) if Some(d) == self.candidate => {
                self.run += 1;
                if self.run >= 2 && !self.reported {
                    self.reported = true;
                    return Some(d);
                }
            }
            Some(d) => {
                self.candidate = Some(d);
                self.run = 1;
                self.reported = false;
            }
            None => {
                self.candidate = None;
                self.run = 0;
                self.reported = false;
            }
        }
        None
    }
}

#[cfg(test)]
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
    fn a_pause_lets_audio_through() {
        let mut tx = DtmfSender::default();
        tx.queue(&[','], DtmfTiming::default());
        let mut frame = vec![1234i16; FRAME_SAMPLES];
        tx.fill(&mut frame);
        assert!(frame.iter().all(|&s| s == 1234));
        assert!(!tx.is_idle());
    }
}
