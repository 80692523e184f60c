//! Where call audio comes from and goes to, one 20 ms frame of 48 kHz mono at a time:
//! a tone generator, a WAV file, silence; a WAV recorder, a discarding sink, and a
//! frequency analyser used by tests and the IVR.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::codec::{FRAME_SAMPLES, SAMPLE_RATE};
use super::pcm;

#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("cannot read {path}: {message}")]
    WavRead { path: PathBuf, message: String },
    #[error("{path} is not audio parla can play: {message}")]
    WavFormat { path: PathBuf, message: String },
    #[error("cannot write {path}: {message}")]
    WavWrite { path: PathBuf, message: String },
}

/// Gives one frame at a time; `false` when it has nothing more to give.
pub trait AudioSource: Send {
    fn next_frame(&mut self, out: &mut [i16]) -> bool;
}

pub trait AudioSink: Send {
    /// A frame of the other side's audio, as it is played.
    fn play(&mut self, frame: &[i16]);
    /// A frame of this side's audio, as it is sent (recorders keep both directions).
    fn sent(&mut self, _frame: &[i16]) {}
    /// Whether [`AudioSink::sent`] is wanted; the engine copies sent frames only then.
    fn wants_sent(&self) -> bool {
        false
    }
    /// Called once when the call ends, to flush files.
    fn finish(&mut self) -> Result<(), AudioError> {
        Ok(())
    }
}

/// A sine tone.
pub struct Tone {
    freq: f64,
    phase: f64,
    amplitude: f64,
}

impl Tone {
    pub fn new(freq_hz: f64) -> Self {
        Tone {
            freq: freq_hz,
            phase: 0.0,
            amplitude: 8000.0,
        }
    }
}

impl AudioSource for Tone {
    fn next_frame(&mut self, out: &mut [i16]) -> bool {
        // A rotating phasor instead of a `sin` per sample, started afresh from the exact
        // phase each frame so that rounding cannot build up.
        let step = std::f64::consts::TAU * self.freq / f64::from(SAMPLE_RATE);
        let (ds, dc) = step.sin_cos();
        let (mut s, mut c) = self.phase.sin_cos();
        for o in out.iter_mut() {
            *o = pcm::saturate(s * self.amplitude);
            (s, c) = (s * dc + c * ds, c * dc - s * ds);
        }
        self.phase = (self.phase + step * out.len() as f64) % std::f64::consts::TAU;
        true
    }
}

pub struct Silence;

impl AudioSource for Silence {
    fn next_frame(&mut self, out: &mut [i16]) -> bool {
        out.fill(0);
        true
    }
}

/// A WAV file converted to 48 kHz mono up front (channels mixed down, rate converted
/// linearly), played once.
pub struct WavSource {
    samples: Vec<i16>,
    pos: usize,
}

impl WavSource {
    pub fn open(path: &Path) -> Result<Self, AudioError> {
        let reader = hound::WavReader::open(path).map_err(|e| AudioError::WavRead {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let spec = reader.spec();
        let format_err = |message: String| AudioError::WavFormat {
            path: path.to_owned(),
            message,
        };
        if spec.channels == 0 || spec.sample_rate < 4000 || spec.sample_rate > 192_000 {
            return Err(format_err(format!(
                "{} channel(s) at {} Hz",
                spec.channels, spec.sample_rate
            )));
        }
        let raw: Vec<f32> = match (spec.sample_format, spec.bits_per_sample) {
            (hound::SampleFormat::Int, bits @ 1..=32) => {
                let scale = 2f32.powi(i32::from(bits) - 1);
                reader
                    .into_samples::<i32>()
                    .map(|s| s.map(|v| v as f32 / scale))
                    .collect::<Result<_, _>>()
                    .map_err(|e| format_err(e.to_string()))?
            }
            (hound::SampleFormat::Float, 32) => reader
                .into_samples::<f32>()
                .collect::<Result<_, _>>()
                .map_err(|e| format_err(e.to_string()))?,
            (f, b) => return Err(format_err(format!("{b}-bit {f:?} samples"))),
        };
        let ch = usize::from(spec.channels);
        let mono: Vec<f32> = raw
            .chunks(ch)
            .map(|c| c.iter().sum::<f32>() / ch as f32)
            .collect();
        let ratio = f64::from(spec.sample_rate) / f64::from(SAMPLE_RATE);
        let out_len = pcm::whole(mono.len() as f64 / ratio);
        let samples = (0..out_len)
            .map(|i| {
                let x = i as f64 * ratio;
                let j = pcm::whole(x);
                let frac = pcm::frac(x);
                let a = mono.get(j).copied().unwrap_or(0.0);
                let b = mono.get(j + 1).copied().unwrap_or(a);
                pcm::from_unit(a + (b - a) * frac)
            })
            .collect();
        Ok(WavSource { samples, pos: 0 })
    }

    pub fn from_samples(samples: Vec<i16>) -> Self {
        WavSource { samples, pos: 0 }
    }
}

impl AudioSource for WavSource {
    fn next_frame(&mut self, out: &mut [i16]) -> bool {
        if self.pos >= self.samples.len() {
            return false;
        }
        let n = out.len().min(self.samples.len() - self.pos);
        out[..n].copy_from_slice(&self.samples[self.pos..self.pos + n]);
        out[n..].fill(0);
        self.pos += n;
        true
    }
}

/// Records both directions of a call to a 48 kHz 16-bit stereo WAV file: this side on the
/// left channel, the other side on the right.
pub struct WavRecorder {
    path: PathBuf,
    writer: Option<hound::WavWriter<std::io::BufWriter<std::fs::File>>>,
    error: Option<String>,
    local: std::collections::VecDeque<i16>,
    remote: std::collections::VecDeque<i16>,
}

impl WavRecorder {
    pub fn create(path: &Path) -> Result<Self, AudioError> {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: SAMPLE_RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let writer = hound::WavWriter::create(path, spec).map_err(|e| AudioError::WavWrite {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        Ok(WavRecorder {
            path: path.to_owned(),
            writer: Some(writer),
            error: None,
            local: Default::default(),
            remote: Default::default(),
        })
    }

    /// Writes the samples both directions have, or all of them when `flush` (the shorter
    /// side padded with silence).
    fn write_pairs(&mut self, flush: bool) {
        let Some(w) = &mut self.writer else {
            self.local.clear();
            self.remote.clear();
            return;
        };
        let n = if flush {
            self.local.len().max(self.remote.len())
        } else {
            self.local.len().min(self.remote.len())
        };
        for _ in 0..n {
            let l = self.local.pop_front().unwrap_or(0);
            let r = self.remote.pop_front().unwrap_or(0);
            if let Err(e) = w.write_sample(l).and_then(|()| w.write_sample(r)) {
                self.error = Some(e.to_string());
                self.writer = None;
                return;
            }
        }
    }
}

impl AudioSink for WavRecorder {
    fn play(&mut self, frame: &[i16]) {
        self.remote.extend(frame);
        self.write_pairs(false);
    }

    fn wants_sent(&self) -> bool {
        true
    }

    fn sent(&mut self, frame: &[i16]) {
        self.local.extend(frame);
        // Keep the two directions from drifting far apart if one of them stalls.
        if self.local.len() > SAMPLE_RATE as usize {
            self.write_pairs(true);
        }
        self.write_pairs(false);
    }

    fn finish(&mut self) -> Result<(), AudioError> {
        self.write_pairs(true);
        let err = |message: String| AudioError::WavWrite {
            path: self.path.clone(),
            message,
        };
        if let Some(e) = self.error.take() {
            return Err(err(e));
        }
        match self.writer.take() {
            Some(w) => w.finalize().map_err(|e| err(e.to_string())),
            None => Ok(()),
        }
    }
}

pub struct NullSink;

impl AudioSink for NullSink {
    fn play(&mut self, _frame: &[i16]) {}
}

/// A delay line: what the sink hears, the source says again `delay` later (the demo's echo
/// bot).
pub fn echo(delay: std::time::Duration) -> (EchoSource, EchoSink) {
    let samples = pcm::samples_in(delay);
    let line = std::sync::Arc::new(std::sync::Mutex::new(std::collections::VecDeque::from(
        vec![0i16; samples],
    )));
    (EchoSource { line: line.clone() }, EchoSink { line })
}

type Line = std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<i16>>>;

pub struct EchoSource {
    line: Line,
}

pub struct EchoSink {
    line: Line,
}

impl AudioSource for EchoSource {
    fn next_frame(&mut self, out: &mut [i16]) -> bool {
        out.fill(0);
        if let Ok(mut line) = self.line.lock() {
            for s in out.iter_mut() {
                match line.pop_front() {
                    Some(v) => *s = v,
                    None => break,
                }
            }
        }
        true
    }
}

impl AudioSink for EchoSink {
    fn play(&mut self, frame: &[i16]) {
        if let Ok(mut line) = self.line.lock() {
            line.extend(frame);
            // Never let it grow past two seconds if the source stalls.
            let max = SAMPLE_RATE as usize * 2;
            if line.len() > max {
                let cut = line.len() - max;
                line.drain(..cut);
            }
        }
    }
}

/// Keeps the last samples heard (ten seconds' worth unless told otherwise), shared with
/// whoever inspects them.
#[derive(Clone)]
pub struct Capture {
    inner: std::sync::Arc<std::sync::Mutex<Vec<i16>>>,
    max: usize,
}

impl Default for Capture {
    fn default() -> Self {
        Self::keeping(Duration::from_secs(10))
    }
}

impl Capture {
    /// A capture that keeps the last `span` of audio.
    pub fn keeping(span: Duration) -> Self {
        Capture {
            inner: Default::default(),
            max: pcm::samples_in(span),
        }
    }

    pub fn samples(&self) -> Vec<i16> {
        self.inner.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl AudioSink for Capture {
    fn play(&mut self, frame: &[i16]) {
        if let Ok(mut v) = self.inner.lock() {
            v.extend_from_slice(frame);
            if v.len() > self.max {
                let cut = v.len() - self.max;
                v.drain(..cut);
            }
        }
    }
}

/// Strength of `freq` in `samples` (Goertzel), normalised to the signal's energy: close to
/// 1 for a pure tone at that frequency, close to 0 for anything else.
pub fn tone_strength(samples: &[i16], freq: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let w = std::f64::consts::TAU * freq / f64::from(SAMPLE_RATE);
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    let mut energy = 0.0;
    for &x in samples {
        let x = f64::from(x);
        energy += x * x;
        let s0 = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    if energy <= f64::EPSILON {
        return 0.0;
    }
    (2.0 * power / (energy * samples.len() as f64)).min(1.0)
}

/// Root mean square level of the samples.
pub fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / samples.len() as f64).sqrt()
}

/// Samples in one frame, for callers sizing buffers.
pub const FRAME: usize = FRAME_SAMPLES;

#[cfg(test)]
// Test fixtures: exact values and free conversions.
#[allow(clippy::cast_possible_truncation)]
mod tests {
    use super::*;

    fn frames(src: &mut dyn AudioSource, n: usize) -> Vec<i16> {
        let mut all = Vec::new();
        let mut f = vec![0i16; FRAME];
        for _ in 0..n {
            assert!(src.next_frame(&mut f));
            all.extend_from_slice(&f);
        }
        all
    }

    #[test]
    fn echo_repeats_after_the_delay() {
        let (mut src, mut sink) = echo(std::time::Duration::from_millis(40));
        let mut f = vec![0i16; FRAME];
        sink.play(&vec![7i16; FRAME]);
        // Two frames of silence first (40 ms), then the echo.
        assert!(src.next_frame(&mut f) && f.iter().all(|&s| s == 0));
        assert!(src.next_frame(&mut f) && f.iter().all(|&s| s == 0));
        assert!(src.next_frame(&mut f) && f.iter().all(|&s| s == 7));
        assert!(
            src.next_frame(&mut f) && f.iter().all(|&s| s == 0),
            "nothing more heard"
        );
    }

    #[test]
    fn a_tone_is_the_sine_of_its_phase_across_frames() {
        let pcm = frames(&mut Tone::new(440.0), 50);
        let step = std::f64::consts::TAU * 440.0 / f64::from(SAMPLE_RATE);
        for (i, &s) in pcm.iter().enumerate() {
            let exact = ((i as f64 * step).sin() * 8000.0).round();
            assert!(
                (f64::from(s) - exact).abs() <= 1.0,
                "sample {i}: {s} vs {exact}"
            );
        }
    }

    #[test]
    fn tone_strength_finds_the_tone() {
        let pcm = frames(&mut Tone::new(440.0), 10);
        assert!(tone_strength(&pcm, 440.0) > 0.9);
        assert!(tone_strength(&pcm, 880.0) < 0.05);
        assert!(tone_strength(&frames(&mut Silence, 5), 440.0) == 0.0);
        assert!(rms(&pcm) > 5000.0);
    }

    #[test]
    fn wav_files_round_trip_and_convert() {
        let dir = tempfile::tempdir().unwrap();
        // A stereo 16 kHz file of a 1 kHz tone.
        let path = dir.path().join("in.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 16_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        for i in 0..16_000 {
            let v = ((f64::from(i) / 16.0 * std::f64::consts::TAU).sin() * 10_000.0) as i16;
            w.write_sample(v).unwrap();
            w.write_sample(v).unwrap();
        }
        w.finalize().unwrap();
        let mut src = WavSource::open(&path).unwrap();
        let pcm = frames(&mut src, 40);
        assert!(
            tone_strength(&pcm, 1000.0) > 0.8,
            "{}",
            tone_strength(&pcm, 1000.0)
        );
        // One second of audio is 50 frames, then the source ends.
        let _ = frames(&mut src, 10);
        let mut f = vec![0i16; FRAME];
        assert!(!src.next_frame(&mut f));

        let out = dir.path().join("out.wav");
        let mut rec = WavRecorder::create(&out).unwrap();
        let mine = frames(&mut Tone::new(300.0), 40);
        rec.play(&pcm);
        rec.sent(&mine);
        rec.finish().unwrap();
        // Stereo: this side left, the other side right.
        let reader = hound::WavReader::open(&out).unwrap();
        assert_eq!(reader.spec().channels, 2);
        let all: Vec<i16> = reader.into_samples::<i16>().map(Result::unwrap).collect();
        let left: Vec<i16> = all.iter().step_by(2).copied().collect();
        let right: Vec<i16> = all.iter().skip(1).step_by(2).copied().collect();
        assert_eq!(left.len(), pcm.len());
        assert!(tone_strength(&left, 300.0) > 0.9);
        assert!(tone_strength(&right, 1000.0) > 0.8);
    }

    #[test]
    fn broken_wav_files_are_refused_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.wav");
        std::fs::write(&junk, b"RIFF\x00\x00 not really a wav").unwrap();
        assert!(matches!(
            WavSource::open(&junk),
            Err(AudioError::WavRead { .. })
        ));
        let missing = dir.path().join("missing.wav");
        let err = WavSource::open(&missing).err().unwrap();
        assert!(err.to_string().contains("missing.wav"));
        let unwritable = dir.path().join("no/such/dir/out.wav");
        assert!(WavRecorder::create(&unwritable).is_err());
    }
}
