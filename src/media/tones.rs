//! Call progress tones: the ring tone of an incoming call and the ringback an outgoing
//! caller hears while the other side rings, played through the call's audio sink before
//! media is up. A [`Ringer`] owns the sink while it plays and hands it back when stopped,
//! so the call's audio then goes to the same device.

use std::time::Duration;

use super::audio::{AudioSink, AudioSource};
use super::codec::{FRAME_SAMPLES, SAMPLE_RATE};

/// A cadenced tone: one or two frequencies mixed, switched on and off in a repeating
/// pattern of (on, off) steps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cadence {
    pub freqs: &'static [f64],
    /// Repeating (on, off) steps in milliseconds.
    pub steps: &'static [(u32, u32)],
}

/// Incoming call: 400 + 450 Hz, ring-ring (0.4 s on, 0.2 s off, 0.4 s on, 2 s off).
pub const RING: Cadence = Cadence {
    freqs: &[400.0, 450.0],
    steps: &[(400, 200), (400, 2000)],
};

/// Outgoing call while the other side rings: 425 Hz, 1 s on, 4 s off (ITU-T E.180).
pub const RINGBACK: Cadence = Cadence {
    freqs: &[425.0],
    steps: &[(1000, 4000)],
};

impl Cadence {
    fn period_samples(&self) -> u64 {
        self.steps
            .iter()
            .map(|(on, off)| u64::from(on + off) * u64::from(SAMPLE_RATE) / 1000)
            .sum::<u64>()
            .max(1)
    }

    /// Whether the tone sounds at sample `n` of the pattern.
    fn on_at(&self, n: u64) -> bool {
        let mut t = n % self.period_samples();
        for (on, off) in self.steps {
            let on = u64::from(*on) * u64::from(SAMPLE_RATE) / 1000;
            let off = u64::from(*off) * u64::from(SAMPLE_RATE) / 1000;
            if t < on {
                return true;
            }
            if t < on + off {
                return false;
            }
            t -= on + off;
        }
        false
    }
}

/// Generates a [`Cadence`] for ever.
pub struct CadenceSource {
    cadence: Cadence,
    n: u64,
}

impl CadenceSource {
    pub fn new(cadence: Cadence) -> Self {
        CadenceSource { cadence, n: 0 }
    }
}

impl AudioSource for CadenceSource {
    fn next_frame(&mut self, out: &mut [i16]) -> bool {
        let amplitude = 6000.0 / self.cadence.freqs.len().max(1) as f64;
        for s in out.iter_mut() {
            *s = if self.cadence.on_at(self.n) {
                let t = self.n as f64 / f64::from(SAMPLE_RATE);
                let v: f64 = self
                    .cadence
                    .freqs
                    .iter()
                    .map(|f| (std::f64::consts::TAU * f * t).sin() * amplitude)
                    .sum();
                super::pcm::saturate(v)
            } else {
                0
            };
            self.n += 1;
        }
        true
    }
}

/// Plays a cadence into a sink in real time until stopped.
pub struct Ringer {
    cadence: Cadence,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Box<dyn AudioSink>>,
}

impl Ringer {
    pub fn start(mut sink: Box<dyn AudioSink>, cadence: Cadence) -> Self {
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let mut source = CadenceSource::new(cadence);
            let mut frame = vec![0i16; FRAME_SAMPLES];
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = tick.tick() => {
                        source.next_frame(&mut frame);
                        sink.play(&frame);
                    }
                }
            }
            sink
        });
        Ringer {
            cadence,
            stop,
            task,
        }
    }

    pub fn cadence(&self) -> Cadence {
        self.cadence
    }

    /// Stops the tone and gives the sink back.
    pub async fn stop(self) -> Box<dyn AudioSink> {
        let _ = self.stop.send(());
        match self.task.await {
            Ok(sink) => sink,
            // The task cannot panic; if it was torn down anyway, nothing is left to play to.
            Err(_) => Box::new(super::audio::NullSink),
        }
    }
}

#[cfg(test)]
// Test fixtures: exact values and free conversions.
#[allow(clippy::cast_possible_truncation)]
mod tests {
    use super::*;
    use crate::media::audio::{tone_strength, Capture};

    fn render(cadence: Cadence, ms: u64) -> Vec<i16> {
        let mut src = CadenceSource::new(cadence);
        let mut out = vec![0i16; (ms as usize) * 48];
        for chunk in out.chunks_mut(FRAME_SAMPLES) {
            src.next_frame(chunk);
        }
        out
    }

    #[test]
    fn ringback_sounds_one_second_in_five() {
        let s = render(RINGBACK, 5000);
        let on = &s[48 * 100..48 * 900];
        let off = &s[48 * 1100..48 * 4900];
        assert!(tone_strength(on, 425.0) > 0.9);
        assert!(off.iter().all(|v| *v == 0));
        // The pattern repeats.
        let again = render(RINGBACK, 5500);
        assert!(tone_strength(&again[48 * 5100..48 * 5400], 425.0) > 0.9);
    }

    #[test]
    fn ring_has_two_bursts_then_a_pause() {
        let s = render(RING, 3000);
        let burst = |from: usize, to: usize| s[48 * from..48 * to].iter().any(|v| *v != 0);
        assert!(burst(0, 400));
        assert!(!burst(410, 590));
        assert!(burst(610, 1000));
        assert!(!burst(1010, 2990));
        let mixed = &s[0..48 * 400];
        assert!(tone_strength(mixed, 400.0) > 0.3);
        assert!(tone_strength(mixed, 450.0) > 0.3);
    }

    #[tokio::test]
    async fn a_ringer_plays_in_real_time_and_gives_the_sink_back() {
        let capture = Capture::default();
        let started = std::time::Instant::now();
        let ringer = Ringer::start(Box::new(capture.clone()), RINGBACK);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut sink = ringer.stop().await;
        let elapsed_ms = started.elapsed().as_millis() as usize;
        let heard = capture.samples().len();
        // Paced, not written as fast as possible: never more than the time that passed
        // (and a frame ahead), however busy the machine; and it did play.
        assert!(heard >= FRAME_SAMPLES, "nothing played");
        assert!(
            heard <= 48 * (elapsed_ms + 40),
            "{heard} samples in {elapsed_ms} ms"
        );
        assert!(tone_strength(&capture.samples(), 425.0) > 0.9);
        // The same sink comes back and keeps working.
        sink.play(&[1i16; FRAME_SAMPLES]);
        assert_eq!(capture.samples().len(), heard + FRAME_SAMPLES);
    }
}
