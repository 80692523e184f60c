//! Time-stretching of decoded audio one pitch period at a time, the way WebRTC's NetEq does
//! it ("accelerate" and "preemptive expand", a WSOLA variant): the playout delay moves by
//! 2.5-10 ms within a frame of speech instead of a whole 20 ms frame being dropped or
//! repeated, and voiced speech keeps its pitch because the part removed or repeated is one
//! period of it.
//!
//! The period is the lag at which the frame best matches itself (normalised
//! cross-correlation), searched on a 12 kHz copy first and refined at 48 kHz. Frames that
//! are neither periodic enough nor quiet (noise-like consonants, onsets) are left alone;
//! the caller tries again on the next frame.
//!
//! Quiet frames (the pauses between words) take larger steps of their own ([`squeeze`],
//! [`pad`]): up to nearly a whole frame at once, with a short cross-fade. The playout prefers
//! them, because any step inside speech shifts the rest of the word in time, which a
//! listener (and PESQ) hears; a step in a pause is not heard at all.

/// Shortest and longest period looked for at 48 kHz: 400 Hz and 100 Hz.
pub const MIN_PERIOD: usize = 120;
pub const MAX_PERIOD: usize = 480;
/// Samples compared at each lag (5 ms).
const WINDOW: usize = 240;
/// Decimation of the coarse search.
const DECIMATE: usize = 4;
/// How alike two periods must be for one to stand in for the other.
const MIN_CORRELATION: f64 = 0.7;
/// Below this RMS a frame is silence or close to it: any lag will do.
pub const QUIET_RMS: f64 = 150.0;

/// The period found in a frame, and how alike its two copies are (1 = the same).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Period {
    pub samples: usize,
    pub correlation: f64,
}

fn correlation(a: impl Iterator<Item = f64> + Clone, b: impl Iterator<Item = f64> + Clone) -> f64 {
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (x, y) in a.zip(b) {
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa <= f64::EPSILON || bb <= f64::EPSILON {
        return 0.0;
    }
    ab / (aa * bb).sqrt()
}

/// The best period of `x` between [`MIN_PERIOD`] and `max` samples (`x` must hold at least
/// `max + WINDOW` samples for the longest lags to be tried).
pub fn period(x: &[i16], max: usize) -> Option<Period> {
    let max = max.min(MAX_PERIOD).min(x.len().saturating_sub(WINDOW));
    if max < MIN_PERIOD {
        return None;
    }
    // Coarse: a 12 kHz copy (means of four samples).
    let coarse: Vec<f64> = x
        .chunks_exact(DECIMATE)
        .map(|c| c.iter().map(|&s| f64::from(s)).sum::<f64>())
        .collect();
    let w = WINDOW / DECIMATE;
    let best_coarse = (MIN_PERIOD / DECIMATE..=max / DECIMATE)
        .filter(|lag| lag + w <= coarse.len())
        .map(|lag| {
            let c = correlation(
                coarse[..w].iter().copied(),
                coarse[lag..lag + w].iter().copied(),
            );
            (lag, c)
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))?
        .0;
    // Fine: around the coarse lag, at 48 kHz.
    let centre = best_coarse * DECIMATE;
    let lo = centre.saturating_sub(DECIMATE).max(MIN_PERIOD);
    let hi = (centre + DECIMATE).min(max);
    (lo..=hi)
        .map(|lag| {
            let c = correlation(
                x[..WINDOW].iter().map(|&s| f64::from(s)),
                x[lag..lag + WINDOW].iter().map(|&s| f64::from(s)),
            );
            Period {
                samples: lag,
                correlation: c,
            }
        })
        .max_by(|a, b| a.correlation.total_cmp(&b.correlation))
}

fn rms(x: &[i16]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    (x.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

/// The period to remove or repeat in `x`, at most `max` samples, or `None` when `x` should
/// be left as it is.
fn usable_period(x: &[i16], max: usize) -> Option<usize> {
    if rms(x) < QUIET_RMS {
        // Silence: nothing to keep in tune; take a period as long as allowed.
        let p = max.min(x.len() / 2).min(MAX_PERIOD);
        return (p >= MIN_PERIOD).then_some(p);
    }
    let p = period(x, max.min(x.len() / 2))?;
    (p.correlation >= MIN_CORRELATION).then_some(p.samples)
}

/// The cross-fade of a quiet step (2 ms).
pub const FADE: usize = 96;

/// The RMS level of `x`.
pub fn level(x: &[i16]) -> f64 {
    rms(x)
}

/// Shortens a quiet `x` by up to `max` samples (at most all but [`FADE`]): its start fades
/// into what follows the part removed. Returns the samples removed.
pub fn squeeze(x: &[i16], max: usize, out: &mut Vec<i16>) -> usize {
    let r = max.min(x.len().saturating_sub(FADE));
    if r == 0 {
        out.extend_from_slice(x);
        return 0;
    }
    crossfade(&x[..FADE], &x[r..r + FADE], out);
    out.extend_from_slice(&x[r + FADE..]);
    r
}

/// Lengthens a quiet `x` by up to `max` samples (at most all but two [`FADE`]s): a stretch
/// of it is played twice, the second time faded in from the first. Returns the samples
/// added.
pub fn pad(x: &[i16], max: usize, out: &mut Vec<i16>) -> usize {
    let r = max.min(x.len().saturating_sub(2 * FADE));
    if r == 0 {
        out.extend_from_slice(x);
        return 0;
    }
    let m = r + FADE;
    out.extend_from_slice(&x[..m]);
    crossfade(&x[m..m + FADE], &x[m - r..m - r + FADE], out);
    out.extend_from_slice(&x[m - r + FADE..]);
    r
}

/// `a` fading out into `b` fading in, sample by sample, appended to `out`.
fn crossfade(a: &[i16], b: &[i16], out: &mut Vec<i16>) {
    let n = a.len().min(b.len());
    for i in 0..n {
        let w = (i as f64 + 0.5) / n as f64;
        let v = f64::from(a[i]) * (1.0 - w) + f64::from(b[i]) * w;
        out.push(super::pcm::saturate(v));
    }
}

/// Shortens `x` by one period of at most `max` samples (NetEq's accelerate): the first
/// period cross-fades into the second, and the rest follows. Returns the samples removed
/// (0 when `x` was left alone).
pub fn accelerate(x: &[i16], max: usize, out: &mut Vec<i16>) -> usize {
    let Some(p) = usable_period(x, max) else {
        out.extend_from_slice(x);
        return 0;
    };
    crossfade(&x[..p], &x[p..2 * p], out);
    out.extend_from_slice(&x[2 * p..]);
    p
}

/// Lengthens `x` by one period of at most `max` samples (NetEq's preemptive expand): the
/// first period, then the second cross-fading back into the first, then the rest from the
/// second on. Returns the samples added (0 when `x` was left alone).
pub fn expand(x: &[i16], max: usize, out: &mut Vec<i16>) -> usize {
    let Some(p) = usable_period(x, max) else {
        out.extend_from_slice(x);
        return 0;
    };
    out.extend_from_slice(&x[..p]);
    crossfade(&x[p..2 * p], &x[..p], out);
    out.extend_from_slice(&x[p..]);
    p
}

#[cfg(test)]
// Test fixtures: exact values and free conversions.
#[allow(clippy::cast_possible_truncation)]
mod tests {
    use super::*;

    /// A voiced-like signal: a 160 Hz fundamental with two harmonics.
    fn voiced(n: usize, start: usize) -> Vec<i16> {
        (start..start + n)
            .map(|i| {
                let t = i as f64 / 48_000.0;
                let f = 160.0 * std::f64::consts::TAU * t;
                (6000.0 * f.sin() + 3000.0 * (2.0 * f).sin() + 1500.0 * (3.0 * f).sin()) as i16
            })
            .collect()
    }

    fn noise(n: usize) -> Vec<i16> {
        let mut s: u32 = 12345;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1_103_515_245).wrapping_add(12345);
                ((s >> 16) as i16) / 3
            })
            .collect()
    }

    /// Largest jump between neighbouring samples.
    fn max_step(x: &[i16]) -> i32 {
        x.windows(2)
            .map(|w| (i32::from(w[1]) - i32::from(w[0])).abs())
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn the_period_of_a_voiced_frame_is_its_pitch() {
        let x = voiced(960, 0);
        let p = period(&x, MAX_PERIOD).unwrap();
        assert_eq!(p.samples, 300, "48000 / 160 Hz");
        assert!(p.correlation > 0.99, "{p:?}");
    }

    #[test]
    fn accelerate_removes_one_period_without_a_click() {
        let x = voiced(960, 0);
        let mut out = Vec::new();
        let removed = accelerate(&x, MAX_PERIOD, &mut out);
        assert_eq!(removed, 300);
        assert_eq!(out.len(), 660);
        // The shortened frame is as smooth as the original (no discontinuity) and ends in
        // phase with what follows it.
        let original = max_step(&x);
        assert!(max_step(&out) <= original + 50, "{}", max_step(&out));
        let next = voiced(10, 960);
        let seam = (i32::from(next[0]) - i32::from(out[out.len() - 1])).abs();
        assert!(seam <= original + 50, "{seam}");
    }

    #[test]
    fn expand_adds_one_period_without_a_click() {
        let x = voiced(960, 0);
        let mut out = Vec::new();
        let added = expand(&x, MAX_PERIOD, &mut out);
        assert_eq!(added, 300);
        assert_eq!(out.len(), 1260);
        assert!(max_step(&out) <= max_step(&x) + 50);
        // Still a 160 Hz signal throughout.
        let p = period(&out[300..], MAX_PERIOD).unwrap();
        assert!(p.samples.abs_diff(300) <= 2, "{p:?}");
    }

    #[test]
    fn noise_is_left_alone_and_silence_takes_the_longest_step() {
        let x = noise(960);
        let mut out = Vec::new();
        assert_eq!(accelerate(&x, MAX_PERIOD, &mut out), 0);
        assert_eq!(out, x);
        out.clear();
        let quiet = vec![3i16; 960];
        assert_eq!(accelerate(&quiet, 240, &mut out), 240);
        assert_eq!(out.len(), 720);
        out.clear();
        // A short slice is never cut below two periods.
        assert_eq!(expand(&quiet[..100], MAX_PERIOD, &mut out), 0);
        assert_eq!(out.len(), 100);
    }

    #[test]
    fn quiet_frames_take_nearly_a_frame_at_once_without_a_click() {
        let hush: Vec<i16> = (0..960)
            .map(|i| ((f64::from(i) * 0.05).sin() * 40.0) as i16)
            .collect();
        let mut out = Vec::new();
        assert_eq!(squeeze(&hush, 2000, &mut out), 960 - FADE);
        assert_eq!(out.len(), FADE);
        out.clear();
        assert_eq!(squeeze(&hush, 300, &mut out), 300);
        assert_eq!(out.len(), 660);
        out.clear();
        assert_eq!(pad(&hush, 2000, &mut out), 960 - 2 * FADE);
        assert_eq!(out.len(), 2 * 960 - 2 * FADE);
        out.clear();
        assert_eq!(pad(&hush, 300, &mut out), 300);
        assert_eq!(out.len(), 1260);
        // No sample jumps by more than the quiet signal itself does.
        for w in out.windows(2) {
            assert!((i32::from(w[1]) - i32::from(w[0])).abs() <= 40, "{w:?}");
        }
        out.clear();
        assert_eq!(
            squeeze(&hush[..50], 300, &mut out),
            0,
            "too short to take from"
        );
        assert_eq!(out, &hush[..50]);
    }
}
