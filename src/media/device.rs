//! Sound-card audio through cpal. The device callbacks run in real time: they only move
//! samples through lock-free ring buffers (no locks, no allocation, no logging); resampling
//! between the device rate and 48 kHz happens on the call's side of the rings.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use ringbuf::traits::{Consumer, Producer, Split};
use ringbuf::{HeapCons, HeapProd, HeapRb};
use serde::Serialize;

use super::audio::{AudioSink, AudioSource};
use super::codec::SAMPLE_RATE;
use super::pcm;

#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("no audio device matches `{0}` (see `parla devices`)")]
    NotFound(String),
    #[error("there is no default {0} device")]
    NoDefault(&'static str),
    #[error("{0}")]
    Unsupported(String),
    #[error("audio device error: {0}")]
    Backend(String),
}

impl DeviceError {
    pub fn code(&self) -> &'static str {
        match self {
            DeviceError::NotFound(_) => "device_not_found",
            DeviceError::NoDefault(_) => "no_device",
            DeviceError::Unsupported(_) => "device_unsupported",
            DeviceError::Backend(_) => "device_error",
        }
    }
}

fn backend<E: std::fmt::Display>(e: E) -> DeviceError {
    DeviceError::Backend(e.to_string())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    pub id: String,
    pub name: String,
    pub input: bool,
    pub output: bool,
    pub default_input: bool,
    pub default_output: bool,
}

fn device_id(d: &cpal::Device) -> String {
    d.id().map(|i| i.to_string()).unwrap_or_default()
}

fn device_name(d: &cpal::Device) -> String {
    d.description()
        .map_or_else(|_| device_id(d), |desc| desc.to_string())
}

/// Whether calls could use the sound card: the configured devices (or the defaults)
/// exist. Nothing is opened.
pub fn probe(input: Option<&str>, output: Option<&str>) -> Result<(), DeviceError> {
    let devices = list()?;
    for (want, is_input) in [(input, true), (output, false)] {
        let kind = if is_input { "input" } else { "output" };
        let ok = devices.iter().any(|d| {
            let right_kind = if is_input { d.input } else { d.output };
            right_kind
                && match want {
                    Some(w) => d.id == w || d.name.contains(w),
                    None => {
                        if is_input {
                            d.default_input
                        } else {
                            d.default_output
                        }
                    }
                }
        });
        if !ok {
            return Err(match want {
                Some(w) => DeviceError::NotFound(w.to_owned()),
                None => DeviceError::NoDefault(kind),
            });
        }
    }
    Ok(())
}

/// Every device of the default host.
pub fn list() -> Result<Vec<DeviceInfo>, DeviceError> {
    let host = cpal::default_host();
    let default_in = host.default_input_device().map(|d| device_id(&d));
    let default_out = host.default_output_device().map(|d| device_id(&d));
    let mut out = Vec::new();
    for d in host.devices().map_err(backend)? {
        let id = device_id(&d);
        out.push(DeviceInfo {
            name: device_name(&d),
            input: d.default_input_config().is_ok(),
            output: d.default_output_config().is_ok(),
            default_input: default_in.as_deref() == Some(id.as_str()),
            default_output: default_out.as_deref() == Some(id.as_str()),
            id,
        });
    }
    Ok(out)
}

fn find(host: &cpal::Host, wanted: Option<&str>, input: bool) -> Result<cpal::Device, DeviceError> {
    match wanted {
        None => {
            let d = if input {
                host.default_input_device()
            } else {
                host.default_output_device()
            };
            d.ok_or(DeviceError::NoDefault(if input {
                "input"
            } else {
                "output"
            }))
        }
        Some(name) => {
            let lower = name.to_lowercase();
            host.devices()
                .map_err(backend)?
                .find(|d| {
                    let usable = if input {
                        d.default_input_config().is_ok()
                    } else {
                        d.default_output_config().is_ok()
                    };
                    usable
                        && (device_id(d) == name || device_name(d).to_lowercase().contains(&lower))
                })
                .ok_or_else(|| DeviceError::NotFound(name.to_owned()))
        }
    }
}

/// Counters shared with the callbacks (atomics only).
#[derive(Debug, Default)]
pub struct DeviceCounters {
    pub capture_overruns: AtomicU64,
    pub playback_underruns: AtomicU64,
}

/// Keeps the cpal streams alive on their own thread (streams are not `Send` on every
/// platform) until every handle is dropped.
struct StreamsGuard {
    stop: Option<std::sync::mpsc::Sender<()>>,
}

impl Drop for StreamsGuard {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// Linear resampling state for one direction.
struct Resampler {
    step: f64,
    pos: f64,
    pending: Vec<f32>,
}

impl Resampler {
    fn new(from: u32, to: u32) -> Self {
        Resampler {
            step: f64::from(from) / f64::from(to),
            pos: 0.0,
            pending: Vec::new(),
        }
    }

    /// Produces `out.len()` samples from `pending`; false when input ran short (the rest is
    /// silence).
    fn produce(&mut self, out: &mut [i16]) -> bool {
        for (i, s) in out.iter_mut().enumerate() {
            let j = pcm::whole(self.pos);
            if j + 1 >= self.pending.len() {
                out[i..].fill(0);
                self.pending.clear();
                self.pos = 0.0;
                return false;
            }
            let frac = pcm::frac(self.pos);
            let v = self.pending[j] + (self.pending[j + 1] - self.pending[j]) * frac;
            *s = pcm::from_unit(v);
            self.pos += self.step;
        }
        let used = pcm::whole(self.pos).min(self.pending.len());
        self.pending.drain(..used);
        self.pos -= used as f64;
        true
    }
}

/// Microphone frames at 48 kHz.
pub struct DeviceSource {
    cons: HeapCons<f32>,
    resampler: Resampler,
    rate: u32,
    scratch: Vec<f32>,
    guard: Arc<StreamsGuard>,
}

/// Speaker output fed at 48 kHz.
pub struct DeviceSink {
    prod: HeapProd<f32>,
    rate: u32,
    pos: f64,
    last: f32,
    scratch: Vec<f32>,
    guard: Arc<StreamsGuard>,
}

impl AudioSource for DeviceSource {
    fn next_frame(&mut self, out: &mut [i16]) -> bool {
        let need = pcm::whole(out.len() as f64 * f64::from(self.rate) / f64::from(SAMPLE_RATE)) + 2;
        self.scratch.resize(need.max(self.scratch.len()), 0.0);
        while self.resampler.pending.len() < need {
            let n = self.cons.pop_slice(&mut self.scratch[..need]);
            if n == 0 {
                break;
            }
            self.resampler.pending.extend_from_slice(&self.scratch[..n]);
        }
        self.resampler.produce(out);
        true
    }
}

impl AudioSink for DeviceSink {
    fn play(&mut self, frame: &[i16]) {
        // 48 kHz → device rate, linear, continuing across frames.
        let step = f64::from(SAMPLE_RATE) / f64::from(self.rate);
        self.scratch.clear();
        while self.pos < frame.len() as f64 {
            let j = pcm::whole(self.pos);
            let a = if j == 0 {
                self.last
            } else {
                pcm::to_unit(frame[j - 1])
            };
            let b = pcm::to_unit(frame[j]);
            let frac = pcm::frac(self.pos);
            self.scratch.push(a + (b - a) * frac);
            self.pos += step;
        }
        self.pos -= frame.len() as f64;
        self.last = frame.last().map_or(0.0, |s| pcm::to_unit(*s));
        // A full ring means the device is not draining: drop rather than wait.
        self.prod.push_slice(&self.scratch);
    }
}

/// Opens capture and playback. Devices are chosen by id or by part of their name; `None`
/// takes the default. Returns the source, the sink, a description, and the counters.
pub fn open(
    input: Option<&str>,
    output: Option<&str>,
) -> Result<(DeviceSource, DeviceSink, String, Arc<DeviceCounters>), DeviceError> {
    let host = cpal::default_host();
    let in_dev = find(&host, input, true)?;
    let out_dev = find(&host, output, false)?;
    let in_cfg = in_dev.default_input_config().map_err(backend)?;
    let out_cfg = out_dev.default_output_config().map_err(backend)?;
    let (in_rate, out_rate) = (in_cfg.sample_rate(), out_cfg.sample_rate());
    let description = format!(
        "{} ({} Hz) → {} ({} Hz)",
        device_name(&in_dev),
        in_rate,
        device_name(&out_dev),
        out_rate
    );
    let (source, sink, cap_prod, play_cons) = rings(in_rate, out_rate);
    let counters = Arc::new(DeviceCounters::default());
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), DeviceError>>();
    let c = counters.clone();
    std::thread::Builder::new()
        .name("parla-audio".into())
        .spawn(move || {
            let streams = build_streams(&in_dev, in_cfg, cap_prod, &out_dev, out_cfg, play_cons, c);
            match streams {
                Ok(streams) => {
                    let _ = ready_tx.send(Ok(()));
                    // Blocks until every handle is dropped.
                    let _ = stop_rx.recv();
                    drop(streams);
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            }
        })
        .map_err(backend)?;
    ready_rx
        .recv()
        .map_err(|_| DeviceError::Backend("the audio thread ended".into()))??;
    let guard = Arc::new(StreamsGuard {
        stop: Some(stop_tx),
    });
    Ok((
        source.guarded(&guard),
        sink.guarded(&guard),
        description,
        counters,
    ))
}

/// The rings between a device and a call (half a second of room each way), with the
/// call's ends of them.
fn rings(in_rate: u32, out_rate: u32) -> (DeviceSource, DeviceSink, HeapProd<f32>, HeapCons<f32>) {
    let (cap_prod, cap_cons) = HeapRb::<f32>::new(in_rate as usize / 2).split();
    let (play_prod, play_cons) = HeapRb::<f32>::new(out_rate as usize / 2).split();
    let unguarded = Arc::new(StreamsGuard { stop: None });
    (
        DeviceSource {
            cons: cap_cons,
            resampler: Resampler::new(in_rate, SAMPLE_RATE),
            rate: in_rate,
            scratch: Vec::new(),
            guard: unguarded.clone(),
        },
        DeviceSink {
            prod: play_prod,
            rate: out_rate,
            pos: 0.0,
            last: 0.0,
            scratch: Vec::new(),
            guard: unguarded,
        },
        cap_prod,
        play_cons,
    )
}

impl DeviceSource {
    fn guarded(mut self, guard: &Arc<StreamsGuard>) -> Self {
        self.guard = guard.clone();
        self
    }
}

impl DeviceSink {
    fn guarded(mut self, guard: &Arc<StreamsGuard>) -> Self {
        self.guard = guard.clone();
        self
    }
}

/// What a capture callback does: mixes each frame of `channels` samples to mono and queues
/// it for the call; a sample that does not fit (the call is not reading) is an overrun.
fn capture_block<T: Copy>(
    data: &[T],
    channels: usize,
    to_f32: impl Fn(T) -> f32,
    ring: &mut HeapProd<f32>,
    counters: &DeviceCounters,
) {
    for frame in data.chunks(channels) {
        let v = frame.iter().map(|s| to_f32(*s)).sum::<f32>() / channels as f32;
        if ring.try_push(v).is_err() {
            counters.capture_overruns.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// What a playback callback does: fills each frame of `channels` samples with the call's
/// next sample; a sample the call has not delivered in time (silence instead) is an
/// underrun.
fn playback_block<T: Copy>(
    data: &mut [T],
    channels: usize,
    from_f32: impl Fn(f32) -> T,
    ring: &mut HeapCons<f32>,
    counters: &DeviceCounters,
) {
    for frame in data.chunks_mut(channels) {
        let v = ring.try_pop().unwrap_or_else(|| {
            counters.playback_underruns.fetch_add(1, Ordering::Relaxed);
            0.0
        });
        frame.fill(from_f32(v));
    }
}

/// A sound card whose clock is the caller's: the same rings, resampling and dropout counts
/// as a device opened with [`open`], with the two callbacks called by hand. For tests and
/// benchmarks on machines without a sound card (and to play clocks that drift).
pub struct VirtualCard {
    capture: HeapProd<f32>,
    playback: HeapCons<f32>,
    counters: Arc<DeviceCounters>,
}

impl VirtualCard {
    /// Opens a card running at `in_rate` (microphone) and `out_rate` (speaker), mono.
    pub fn open(in_rate: u32, out_rate: u32) -> (Self, DeviceSource, DeviceSink) {
        let (source, sink, capture, playback) = rings(in_rate, out_rate);
        let card = VirtualCard {
            capture,
            playback,
            counters: Arc::new(DeviceCounters::default()),
        };
        (card, source, sink)
    }

    pub fn counters(&self) -> Arc<DeviceCounters> {
        self.counters.clone()
    }

    /// The microphone delivers `samples`, as a capture callback would.
    pub fn capture(&mut self, samples: &[f32]) {
        capture_block(samples, 1, |s| s, &mut self.capture, &self.counters);
    }

    /// The speaker asks for `out.len()` samples, as a playback callback would.
    pub fn playback(&mut self, out: &mut [f32]) {
        playback_block(out, 1, |s| s, &mut self.playback, &self.counters);
    }
}

fn build_streams(
    in_dev: &cpal::Device,
    in_cfg: cpal::SupportedStreamConfig,
    mut cap: HeapProd<f32>,
    out_dev: &cpal::Device,
    out_cfg: cpal::SupportedStreamConfig,
    mut play: HeapCons<f32>,
    counters: Arc<DeviceCounters>,
) -> Result<(cpal::Stream, cpal::Stream), DeviceError> {
    let in_ch = usize::from(in_cfg.channels()).max(1);
    let out_ch = usize::from(out_cfg.channels()).max(1);
    let on_err = |e: cpal::Error| tracing::warn!(error = %e, "audio stream error");
    let c_in = counters.clone();
    let input = match in_cfg.sample_format() {
        cpal::SampleFormat::F32 => in_dev.build_input_stream(
            in_cfg.config(),
            move |data: &[f32], _: &cpal::InputCallbackInfo| {
                capture_block(data, in_ch, |s| s, &mut cap, &c_in);
            },
            on_err,
            None,
        ),
        cpal::SampleFormat::I16 => in_dev.build_input_stream(
            in_cfg.config(),
            move |data: &[i16], _: &cpal::InputCallbackInfo| {
                capture_block(data, in_ch, pcm::to_unit, &mut cap, &c_in);
            },
            on_err,
            None,
        ),
        other => {
            return Err(DeviceError::Unsupported(format!(
                "input sample format {other:?} is not supported"
            )))
        }
    }
    .map_err(backend)?;
    let c_out = counters;
    let output = match out_cfg.sample_format() {
        cpal::SampleFormat::F32 => out_dev.build_output_stream(
            out_cfg.config(),
            move |data: &mut [f32], _: &cpal::OutputCallbackInfo| {
                playback_block(data, out_ch, |v| v, &mut play, &c_out);
            },
            on_err,
            None,
        ),
        cpal::SampleFormat::I16 => out_dev.build_output_stream(
            out_cfg.config(),
            move |data: &mut [i16], _: &cpal::OutputCallbackInfo| {
                playback_block(data, out_ch, pcm::from_unit, &mut play, &c_out);
            },
            on_err,
            None,
        ),
        other => {
            return Err(DeviceError::Unsupported(format!(
                "output sample format {other:?} is not supported"
            )))
        }
    }
    .map_err(backend)?;
    input.play().map_err(backend)?;
    output.play().map_err(backend)?;
    Ok((input, output))
}

#[cfg(test)]
// Test fixtures: exact values and free conversions.
#[allow(clippy::cast_possible_truncation)]
mod tests {
    use super::*;

    #[test]
    fn capture_resampling_keeps_a_tone() {
        // 44.1 kHz input of a 1 kHz tone → 48 kHz frames.
        let mut r = Resampler::new(44_100, SAMPLE_RATE);
        r.pending = (0..44_100)
            .map(|i| ((f64::from(i) / 44.1 * std::f64::consts::TAU).sin() * 0.5) as f32)
            .collect();
        let mut all = Vec::new();
        let mut frame = vec![0i16; 960];
        for _ in 0..40 {
            assert!(r.produce(&mut frame));
            all.extend_from_slice(&frame);
        }
        assert!(super::super::audio::tone_strength(&all, 1000.0) > 0.9);
        // Running out of input yields silence and says so.
        r.pending.truncate(10);
        r.pos = 0.0;
        assert!(!r.produce(&mut frame));
        assert!(frame[20..].iter().all(|&s| s == 0));
    }

    fn tone_f32(freq: f64, rate: u32, from: usize, n: usize) -> Vec<f32> {
        (from..from + n)
            .map(|i| {
                ((i as f64 * freq / f64::from(rate) * std::f64::consts::TAU).sin() * 0.5) as f32
            })
            .collect()
    }

    #[test]
    fn a_card_at_44_1_khz_carries_tones_both_ways_and_counts_its_dropouts() {
        let (mut card, mut source, mut sink) = VirtualCard::open(44_100, 44_100);
        let counters = card.counters();
        // Microphone: 1 kHz at 44.1 kHz in, 48 kHz frames out.
        let (mut mic, mut speaker) = (Vec::new(), Vec::new());
        let mut frame = vec![0i16; 960];
        let mut out_tone = crate::media::audio::Tone::new(700.0);
        let mut played = vec![0f32; 882];
        for tick in 0..50 {
            card.capture(&tone_f32(1000.0, 44_100, tick * 882, 882));
            assert!(source.next_frame(&mut frame));
            mic.extend_from_slice(&frame);
            // Speaker: 700 Hz at 48 kHz in, 44.1 kHz out.
            out_tone.next_frame(&mut frame);
            sink.play(&frame);
            card.playback(&mut played);
            speaker.extend(played.iter().map(|v| (v * 32767.0) as i16));
        }
        let mic_48k = &mic[mic.len() / 2..];
        assert!(super::super::audio::tone_strength(mic_48k, 1000.0) > 0.9);
        // The speaker's samples are at 44.1 kHz: 700 Hz there reads as 700 × 48/44.1 at
        // the 48 kHz the strength function assumes.
        let spk = &speaker[speaker.len() / 2..];
        assert!(super::super::audio::tone_strength(spk, 700.0 * 48_000.0 / 44_100.0) > 0.9);
        assert_eq!(counters.playback_underruns.load(Ordering::Relaxed), 0);
        assert_eq!(counters.capture_overruns.load(Ordering::Relaxed), 0);

        // The speaker asks for more than the call delivered: each missing sample counts.
        card.playback(&mut vec![0f32; 44_100]);
        assert!(counters.playback_underruns.load(Ordering::Relaxed) > 40_000);
        // The microphone delivers while the call reads nothing: past half a second of
        // room, each sample that does not fit counts.
        card.capture(&vec![0.1f32; 44_100]);
        assert_eq!(
            counters.capture_overruns.load(Ordering::Relaxed),
            44_100 - 22_050
        );
    }

    #[test]
    fn listing_devices_never_panics() {
        // On a machine without a sound card this is an empty list or an error with a code.
        match list() {
            Ok(devices) => {
                for d in devices {
                    assert!(!d.id.is_empty() || !d.name.is_empty());
                }
            }
            Err(e) => assert!(!e.code().is_empty()),
        }
        let missing = open(Some("no-such-device-here"), None);
        assert!(matches!(
            missing,
            Err(DeviceError::NotFound(_) | DeviceError::Backend(_))
        ));
    }
}
