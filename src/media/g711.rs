//! G.711 (PCMU: μ-law, PCMA: A-law), the narrowband codecs RFC 7874 makes mandatory for
//! WebRTC endpoints beside Opus, used when the other side (a gateway, an old phone) has
//! nothing better. parla's audio runs at 48 kHz; these codecs at 8 kHz: a low-pass filter
//! and a factor of six lie between.

use super::codec::FRAME_SAMPLES;

/// Samples per 20 ms at 8 kHz.
pub const NARROW_SAMPLES: usize = FRAME_SAMPLES / FACTOR;
const FACTOR: usize = 6;

/// Which law.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Law {
    /// PCMU, payload type 0.
    Mu,
    /// PCMA, payload type 8.
    A,
}

impl Law {
    /// The static payload type of RFC 3551.
    #[must_use]
    pub fn payload_type(self) -> u8 {
        match self {
            Law::Mu => 0,
            Law::A => 8,
        }
    }

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Law::Mu => "PCMU",
            Law::A => "PCMA",
        }
    }

    fn encode_one(self, x: i16) -> u8 {
        match self {
            Law::Mu => linear_to_ulaw(x),
            Law::A => linear_to_alaw(x),
        }
    }

    fn decode_one(self, x: u8) -> i16 {
        match self {
            Law::Mu => ulaw_to_linear(x),
            Law::A => alaw_to_linear(x),
        }
    }
}

const ULAW_BIAS: i32 = 0x84;
const ULAW_CLIP: i32 = 8159;
const SEG_ULAW_END: [i32; 8] = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];
const SEG_ALAW_END: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];

fn segment(value: i32, ends: &[i32; 8]) -> i32 {
    ends.iter()
        .position(|&end| value <= end)
        .map_or(8, |s| i32::try_from(s).unwrap_or(8))
}

/// 16-bit linear to μ-law (ITU-T G.711, as in the reference implementation).
#[must_use]
pub fn linear_to_ulaw(sample: i16) -> u8 {
    let mut v = i32::from(sample) >> 2;
    let mask = if v < 0 {
        v = -v;
        0x7F
    } else {
        0xFF
    };
    v = v.min(ULAW_CLIP) + (ULAW_BIAS >> 2);
    let seg = segment(v, &SEG_ULAW_END);
    let u = if seg >= 8 {
        0x7F
    } else {
        (seg << 4) | ((v >> (seg + 1)) & 0xF)
    };
    low_byte(u ^ mask)
}

/// μ-law to 16-bit linear.
#[must_use]
pub fn ulaw_to_linear(u: u8) -> i16 {
    let u = i32::from(!u);
    let t = (((u & 0x0F) << 3) + ULAW_BIAS) << ((u & 0x70) >> 4);
    let v = if u & 0x80 == 0 {
        t - ULAW_BIAS
    } else {
        ULAW_BIAS - t
    };
    clamp16(v)
}

/// 16-bit linear to A-law.
#[must_use]
pub fn linear_to_alaw(sample: i16) -> u8 {
    let mut v = i32::from(sample) >> 3;
    let mask = if v >= 0 {
        0xD5
    } else {
        v = -v - 1;
        0x55
    };
    let seg = segment(v, &SEG_ALAW_END);
    let a = if seg >= 8 {
        0x7F
    } else if seg < 2 {
        (seg << 4) | ((v >> 1) & 0x0F)
    } else {
        (seg << 4) | ((v >> seg) & 0x0F)
    };
    low_byte(a ^ mask)
}

/// A-law to 16-bit linear.
#[must_use]
pub fn alaw_to_linear(a: u8) -> i16 {
    let a = i32::from(a ^ 0x55);
    let mut t = (a & 0x0F) << 4;
    let seg = (a & 0x70) >> 4;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= seg - 1;
        }
    }
    clamp16(if a & 0x80 == 0 { -t } else { t })
}

fn low_byte(v: i32) -> u8 {
    u8::try_from(v & 0xFF).unwrap_or(0)
}

fn clamp16(v: i32) -> i16 {
    i16::try_from(v.clamp(i32::from(i16::MIN), i32::from(i16::MAX))).unwrap_or(0)
}

/// Taps of the low-pass filter shared by both directions: a Blackman-windowed sinc cut off
/// at 3.6 kHz (of 48 kHz), 72 taps (12 per output phase).
fn taps() -> &'static [f64; TAPS] {
    static T: std::sync::OnceLock<[f64; TAPS]> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        let mut h = [0f64; TAPS];
        let cutoff = 3_600.0 / 48_000.0;
        let mid = (TAPS - 1) as f64 / 2.0;
        let mut sum = 0.0;
        for (i, tap) in h.iter_mut().enumerate() {
            let n = i as f64 - mid;
            let sinc = if n == 0.0 {
                2.0 * cutoff
            } else {
                (2.0 * std::f64::consts::PI * cutoff * n).sin() / (std::f64::consts::PI * n)
            };
            let w = 2.0 * std::f64::consts::PI * i as f64 / (TAPS - 1) as f64;
            let blackman = 0.42 - 0.5 * w.cos() + 0.08 * (2.0 * w).cos();
            let v = sinc * blackman;
            *tap = v;
            sum += v;
        }
        for tap in &mut h {
            *tap /= sum;
        }
        h
    })
}
const TAPS: usize = 72;

/// 48 kHz frames in, G.711 payloads (160 bytes per 20 ms) out.
pub struct G711Encoder {
    law: Law,
    /// The last input samples, for the filter.
    history: Vec<f64>,
    out: Vec<u8>,
}

impl G711Encoder {
    #[must_use]
    pub fn new(law: Law) -> Self {
        G711Encoder {
            law,
            history: vec![0.0; TAPS],
            out: Vec::with_capacity(NARROW_SAMPLES),
        }
    }

    /// Encodes one 20 ms frame of 48 kHz audio.
    pub fn encode(&mut self, pcm: &[i16]) -> &[u8] {
        let h = taps();
        self.history.extend(pcm.iter().map(|&x| f64::from(x)));
        self.out.clear();
        let start = self.history.len() - pcm.len();
        for n in (0..pcm.len()).step_by(FACTOR) {
            let at = start + n;
            let acc: f64 = h
                .iter()
                .enumerate()
                .map(|(k, tap)| tap * self.history[at - k])
                .sum();
            self.out.push(self.law.encode_one(to_i16(acc)));
        }
        let keep = self.history.len() - TAPS;
        self.history.drain(..keep);
        &self.out
    }
}

/// G.711 payloads in, 48 kHz frames out.
pub struct G711Decoder {
    law: Law,
    /// The last 8 kHz samples, for the interpolating filter.
    history: Vec<f64>,
    last: Vec<i16>,
}

impl G711Decoder {
    #[must_use]
    pub fn new(law: Law) -> Self {
        G711Decoder {
            law,
            history: vec![0.0; TAPS / FACTOR],
            last: Vec::new(),
        }
    }

    /// Decodes one payload into `pcm` (48 kHz); returns the samples written.
    pub fn decode(&mut self, payload: &[u8], pcm: &mut [i16]) -> usize {
        let h = taps();
        let per_phase = TAPS / FACTOR;
        let mut written = 0;
        for &byte in payload {
            if written + FACTOR > pcm.len() {
                break;
            }
            self.history.push(f64::from(self.law.decode_one(byte)));
            let newest = self.history.len() - 1;
            for p in 0..FACTOR {
                let acc: f64 = (0..per_phase)
                    .map(|j| h[j * FACTOR + p] * self.history[newest - j])
                    .sum();
                pcm[written + p] = to_i16(acc * 6.0);
            }
            written += FACTOR;
        }
        let keep = self.history.len().saturating_sub(per_phase);
        self.history.drain(..keep);
        self.last.clear();
        self.last.extend_from_slice(&pcm[..written]);
        written
    }

    /// Conceals a lost frame: the last one again, fading, then silence.
    pub fn conceal(&mut self, pcm: &mut [i16]) -> usize {
        let n = self.last.len().min(pcm.len());
        for (o, x) in pcm.iter_mut().zip(self.last.iter_mut()) {
            *x /= 2;
            *o = *x;
        }
        n
    }
}

fn to_i16(v: f64) -> i16 {
    super::pcm::saturate(v.round())
}

#[cfg(test)]
#[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
mod tests {
    use super::*;

    /// Reference values from an independent implementation (CPython's `audioop`).
    #[test]
    fn the_laws_match_a_reference_implementation() {
        let linear: [i16; 13] = [
            0, 1, -1, 100, -100, 1000, -1000, 5000, -5000, 12345, -12345, 32767, -32768,
        ];
        let mu: Vec<u8> = linear.iter().map(|&x| linear_to_ulaw(x)).collect();
        assert_eq!(
            mu,
            [255, 255, 126, 242, 114, 206, 78, 171, 43, 151, 23, 128, 0]
        );
        let a: Vec<u8> = linear.iter().map(|&x| linear_to_alaw(x)).collect();
        assert_eq!(
            a,
            [213, 213, 85, 211, 83, 250, 122, 134, 6, 189, 61, 170, 42]
        );
        let codes: Vec<u8> = (0..=255).step_by(17).collect();
        let mu_back: Vec<i16> = codes.iter().map(|&c| ulaw_to_linear(c)).collect();
        assert_eq!(
            mu_back,
            [
                -32124, -15484, -7420, -3516, -1628, -716, -276, -64, 23932, 11388, 5372, 2492,
                1116, 460, 148, 0
            ]
        );
        let a_back: Vec<i16> = codes.iter().map(|&c| alaw_to_linear(c)).collect();
        assert_eq!(
            a_back,
            [
                -5504, -2624, -24064, -11520, -280, -8, -1248, -592, 7552, 3648, 32256, 15616, 408,
                136, 1760, 848
            ]
        );
    }

    fn tone(freq: f64, frames: usize) -> Vec<i16> {
        (0..frames * FRAME_SAMPLES)
            .map(|i| ((i as f64 * freq * std::f64::consts::TAU / 48_000.0).sin() * 10_000.0) as i16)
            .collect()
    }

    #[test]
    fn a_voice_band_tone_survives_and_what_is_above_it_does_not() {
        for law in [Law::Mu, Law::A] {
            for (freq, passes) in [(440.0, true), (1_000.0, true), (8_000.0, false)] {
                let mut enc = G711Encoder::new(law);
                let mut dec = G711Decoder::new(law);
                let mut out = Vec::new();
                for frame in tone(freq, 25).chunks(FRAME_SAMPLES) {
                    let payload = enc.encode(frame).to_vec();
                    assert_eq!(payload.len(), NARROW_SAMPLES);
                    let mut pcm = vec![0i16; FRAME_SAMPLES];
                    assert_eq!(dec.decode(&payload, &mut pcm), FRAME_SAMPLES);
                    out.extend_from_slice(&pcm);
                }
                let tail = &out[FRAME_SAMPLES * 5..];
                let strength = crate::media::audio::tone_strength(tail, freq);
                let level = crate::media::audio::rms(tail);
                if passes {
                    assert!(
                        strength > 0.9 && level > 5_000.0,
                        "{law:?} {freq} Hz: {strength} {level}"
                    );
                } else {
                    assert!(level < 500.0, "{law:?} {freq} Hz leaks through: {level}");
                }
            }
        }
    }

    #[test]
    fn a_lost_frame_fades_instead_of_clicking() {
        let mut enc = G711Encoder::new(Law::Mu);
        let mut dec = G711Decoder::new(Law::Mu);
        let mut pcm = vec![0i16; FRAME_SAMPLES];
        for frame in tone(440.0, 3).chunks(FRAME_SAMPLES) {
            let payload = enc.encode(frame).to_vec();
            dec.decode(&payload, &mut pcm);
        }
        let before = crate::media::audio::rms(&pcm);
        assert_eq!(dec.conceal(&mut pcm), FRAME_SAMPLES);
        let once = crate::media::audio::rms(&pcm);
        dec.conceal(&mut pcm);
        let twice = crate::media::audio::rms(&pcm);
        assert!(once < before && twice < once, "{before} {once} {twice}");
    }
}
