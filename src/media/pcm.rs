//! Conversions between sample formats, durations and positions.
//!
//! Every numeric conversion the audio path needs lives here, so each lossy cast is written
//! once, with the range argument that makes it safe beside it.

use std::time::Duration;

use super::codec::SAMPLE_RATE;

/// A float sample in [-1, 1] (values outside are clipped) as a 16-bit sample.
#[must_use]
#[allow(clippy::cast_possible_truncation)] // clamped to [-32767, 32767] first
pub fn from_unit(v: f32) -> i16 {
    (v.clamp(-1.0, 1.0) * 32767.0) as i16
}

/// A 16-bit sample as a float in [-1, 1).
#[must_use]
pub fn to_unit(s: i16) -> f32 {
    f32::from(s) / 32768.0
}

/// A value already on the 16-bit scale, rounded toward zero and saturated at the ends.
#[must_use]
#[allow(clippy::cast_possible_truncation)] // float-to-int `as` saturates; NaN becomes 0
pub fn saturate(v: f64) -> i16 {
    v as i16
}

/// A 32-bit mix sum saturated to 16 bits.
#[must_use]
pub fn saturate_i32(v: i32) -> i16 {
    i16::try_from(v.clamp(i32::from(i16::MIN), i32::from(i16::MAX))).unwrap_or(0)
}

/// The whole part of a non-negative position (negative or NaN gives 0).
#[must_use]
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // saturating cast
pub fn whole(x: f64) -> usize {
    x as usize
}

/// The fractional part of a position as the f32 the interpolators use.
#[must_use]
#[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)] // in [0, 1)
pub fn frac(x: f64) -> f32 {
    (x - x.floor()) as f32
}

/// The number of samples at the codec rate in `d` (rounded down).
#[must_use]
pub fn samples_in(d: Duration) -> usize {
    whole(d.as_secs_f64() * f64::from(SAMPLE_RATE))
}

/// Whole milliseconds in `d`, saturated to `u32`.
#[must_use]
pub fn millis_u32(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_clip_and_saturate() {
        assert_eq!(from_unit(2.0), 32767);
        assert_eq!(from_unit(-2.0), -32767);
        assert_eq!(from_unit(0.5), 16383);
        assert_eq!(saturate(1e9), i16::MAX);
        assert_eq!(saturate(-1e9), i16::MIN);
        assert_eq!(saturate(f64::NAN), 0);
        assert_eq!(saturate_i32(40_000), i16::MAX);
        assert_eq!(saturate_i32(-40_000), i16::MIN);
        assert_eq!(whole(-3.5), 0);
        assert_eq!(whole(3.99), 3);
        assert!((frac(3.25) - 0.25).abs() < 1e-6);
        assert_eq!(samples_in(Duration::from_millis(20)), 960);
        assert_eq!(millis_u32(Duration::from_secs(u64::MAX)), u32::MAX);
        assert!((to_unit(i16::MIN) + 1.0).abs() < 1e-6);
    }
}
