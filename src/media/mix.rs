//! The audio bridge of a group call. Every other party has its own peer connection (a
//! mesh), so one microphone feeds several senders and several received streams are mixed
//! into one speaker. The bridge reads the real source and plays the real sink on its own
//! 20 ms clock; each leg gets a source that repeats the microphone and a sink that feeds
//! the mix.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::audio::{AudioError, AudioSink, AudioSource};
use super::codec::FRAME_SAMPLES;

/// Frames a leg may queue each way before the oldest is dropped: enough to ride out the
/// phase difference between the bridge's clock and a leg's, small enough to add no
/// lasting delay.
const MAX_QUEUED: usize = 3;

#[derive(Default)]
struct Leg {
    /// Microphone frames waiting for this leg's sender.
    to_send: VecDeque<Vec<i16>>,
    /// This party's decoded audio waiting to be mixed (its playout hands over frames of
    /// varying length as it follows the network).
    heard: VecDeque<i16>,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    legs: Vec<Leg>,
    source_done: bool,
}

type SharedState = Arc<Mutex<Shared>>;

pub struct Bridge {
    shared: SharedState,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), AudioError>>,
}

impl Bridge {
    pub fn start(mut source: Box<dyn AudioSource>, mut sink: Box<dyn AudioSink>) -> Self {
        let shared: SharedState = Arc::default();
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let state = shared.clone();
        let task = tokio::spawn(async move {
            let mut mic = vec![0i16; FRAME_SAMPLES];
            let mut mixed = vec![0i32; FRAME_SAMPLES];
            let mut out = vec![0i16; FRAME_SAMPLES];
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let tap = sink.wants_sent();
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = tick.tick() => {}
                }
                let Ok(mut s) = state.lock() else { break };
                // Nobody to talk to yet: leave the source where it is.
                if s.legs.iter().all(|l| l.closed) {
                    continue;
                }
                let have_mic = !s.source_done && source.next_frame(&mut mic);
                if !have_mic {
                    s.source_done = true;
                    mic.fill(0);
                }
                mixed.fill(0);
                let mut any = false;
                for leg in s.legs.iter_mut().filter(|l| !l.closed) {
                    if have_mic {
                        leg.to_send.push_back(mic.clone());
                        while leg.to_send.len() > MAX_QUEUED {
                            leg.to_send.pop_front();
                        }
                    }
                    let excess = leg.heard.len().saturating_sub(MAX_QUEUED * FRAME_SAMPLES);
                    leg.heard.drain(..excess);
                    if !leg.heard.is_empty() {
                        any = true;
                        let n = leg.heard.len().min(FRAME_SAMPLES);
                        for (m, v) in mixed.iter_mut().zip(leg.heard.drain(..n)) {
                            *m += i32::from(v);
                        }
                    }
                }
                drop(s);
                for (o, m) in out.iter_mut().zip(&mixed) {
                    *o = super::pcm::saturate_i32(*m);
                }
                if any {
                    sink.play(&out);
                }
                if tap {
                    sink.sent(&mic);
                }
            }
            sink.finish()
        });
        Bridge { shared, stop, task }
    }

    /// A source and sink for one more party's connection.
    pub fn add_leg(&self) -> (Box<dyn AudioSource>, Box<dyn AudioSink>) {
        let index = match self.shared.lock() {
            Ok(mut s) => {
                s.legs.push(Leg::default());
                s.legs.len() - 1
            }
            Err(_) => usize::MAX,
        };
        (
            Box::new(LegSource {
                shared: self.shared.clone(),
                index,
            }),
            Box::new(LegSink {
                shared: self.shared.clone(),
                index,
            }),
        )
    }

    /// How many legs are open.
    pub fn legs(&self) -> usize {
        self.shared
            .lock()
            .map_or(0, |s| s.legs.iter().filter(|l| !l.closed).count())
    }

    /// Stops mixing and finishes the real sink (closing a recording).
    pub async fn stop(self) -> Result<(), AudioError> {
        let _ = self.stop.send(());
        self.task.await.unwrap_or(Ok(()))
    }
}

struct LegSource {
    shared: SharedState,
    index: usize,
}

impl AudioSource for LegSource {
    fn next_frame(&mut self, out: &mut [i16]) -> bool {
        let Ok(mut s) = self.shared.lock() else {
            return false;
        };
        let done = s.source_done;
        match s
            .legs
            .get_mut(self.index)
            .and_then(|l| l.to_send.pop_front())
        {
            Some(frame) => {
                out.copy_from_slice(&frame[..out.len().min(frame.len())]);
                true
            }
            None => {
                out.fill(0);
                !done
            }
        }
    }
}

struct LegSink {
    shared: SharedState,
    index: usize,
}

impl AudioSink for LegSink {
    fn play(&mut self, frame: &[i16]) {
        if let Ok(mut s) = self.shared.lock() {
            if let Some(l) = s.legs.get_mut(self.index) {
                l.heard.extend(frame.iter().copied());
            }
        }
    }

    fn finish(&mut self) -> Result<(), AudioError> {
        if let Ok(mut s) = self.shared.lock() {
            if let Some(l) = s.legs.get_mut(self.index) {
                l.closed = true;
                l.heard.clear();
                l.to_send.clear();
            }
        }
        Ok(())
    }
}

/// The microphone and speaker of a 1:1 call, kept by the call rather than by its one
/// connection: when the other party changes (a transfer, a forward) the next connection
/// takes them up where the last left off, and the call finishes the sink once, at its end.
/// When a third party comes (someone joins by link, two calls are joined), the
/// connections already using the audio move onto a [`Bridge`] without being rebuilt.
pub struct SharedAudio {
    source: Arc<Mutex<Box<dyn AudioSource>>>,
    sink: Arc<Mutex<Box<dyn AudioSink>>>,
    /// Where each connection's ports get their audio once bridged (`None`: directly).
    issued: Mutex<Vec<Ports>>,
}

/// A port's audio taken elsewhere: a bridge leg instead of the call's own devices.
type Slot<T> = Arc<Mutex<Option<Box<T>>>>;

/// Where one connection's source and sink get their audio.
type Ports = (Slot<dyn AudioSource>, Slot<dyn AudioSink>);

impl SharedAudio {
    pub fn new(source: Box<dyn AudioSource>, sink: Box<dyn AudioSink>) -> Self {
        SharedAudio {
            source: Arc::new(Mutex::new(source)),
            sink: Arc::new(Mutex::new(sink)),
            issued: Mutex::default(),
        }
    }

    /// A source and sink for one connection (finishing it leaves the real sink open).
    pub fn ports(&self) -> (Box<dyn AudioSource>, Box<dyn AudioSink>) {
        let (via_source, via_sink): (Slot<dyn AudioSource>, Slot<dyn AudioSink>) =
            (Arc::default(), Arc::default());
        if let Ok(mut issued) = self.issued.lock() {
            // Ports whose connection is gone hold no other reference.
            issued.retain(|(s, _)| Arc::strong_count(s) > 1);
            issued.push((via_source.clone(), via_sink.clone()));
        }
        (
            Box::new(SharedSource {
                direct: self.source.clone(),
                via: via_source,
            }),
            Box::new(SharedSink {
                direct: self.sink.clone(),
                via: via_sink,
            }),
        )
    }

    /// Starts a bridge on the call's devices and moves every connection using them onto
    /// a leg of it. The bridge leaves the real sink open: [`SharedAudio::finish`] closes it.
    pub fn bridge(&self) -> Bridge {
        let bridge = Bridge::start(
            Box::new(SharedSource {
                direct: self.source.clone(),
                via: Arc::default(),
            }),
            Box::new(SharedSink {
                direct: self.sink.clone(),
                via: Arc::default(),
            }),
        );
        if let Ok(mut issued) = self.issued.lock() {
            issued.retain(|(s, _)| Arc::strong_count(s) > 1);
            for (source, sink) in issued.iter() {
                let (leg_source, leg_sink) = bridge.add_leg();
                if let (Ok(mut s), Ok(mut k)) = (source.lock(), sink.lock()) {
                    *s = Some(leg_source);
                    *k = Some(leg_sink);
                }
            }
        }
        bridge
    }

    /// Finishes the real sink (closing a recording).
    pub fn finish(&self) -> Result<(), AudioError> {
        match self.sink.lock() {
            Ok(mut sink) => sink.finish(),
            Err(_) => Ok(()),
        }
    }
}

struct SharedSource {
    direct: Arc<Mutex<Box<dyn AudioSource>>>,
    via: Slot<dyn AudioSource>,
}

impl AudioSource for SharedSource {
    fn next_frame(&mut self, out: &mut [i16]) -> bool {
        if let Ok(mut via) = self.via.lock() {
            if let Some(leg) = via.as_mut() {
                return leg.next_frame(out);
            }
        }
        self.direct.lock().is_ok_and(|mut s| s.next_frame(out))
    }
}

struct SharedSink {
    direct: Arc<Mutex<Box<dyn AudioSink>>>,
    via: Slot<dyn AudioSink>,
}

impl SharedSink {
    /// Runs `f` on where this port's audio goes now.
    fn with<R>(&self, f: impl FnOnce(&mut dyn AudioSink) -> R) -> Option<R> {
        if let Ok(mut via) = self.via.lock() {
            if let Some(leg) = via.as_mut() {
                return Some(f(leg.as_mut()));
            }
        }
        self.direct.lock().ok().map(|mut s| f(s.as_mut()))
    }
}

impl AudioSink for SharedSink {
    fn play(&mut self, frame: &[i16]) {
        self.with(|s| s.play(frame));
    }

    fn sent(&mut self, frame: &[i16]) {
        self.with(|s| s.sent(frame));
    }

    fn wants_sent(&self) -> bool {
        self.with(|s| s.wants_sent()).unwrap_or(false)
    }

    /// A connection ending closes its bridge leg, if it has one; the real sink stays open.
    fn finish(&mut self) -> Result<(), AudioError> {
        if let Ok(mut via) = self.via.lock() {
            if let Some(leg) = via.as_mut() {
                return leg.finish();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::audio::{tone_strength, Capture, Tone};

    type Ports = (Box<dyn AudioSource>, Box<dyn AudioSink>);

    /// Two parties (440 Hz and 880 Hz) talk through their ports every 20 ms until the
    /// speaker has `frames` frames (bounded in time, however the bridge is scheduled);
    /// returns what each was sent.
    async fn talk(
        a: &mut Ports,
        b: &mut Ports,
        capture: &Capture,
        frames: usize,
    ) -> (Vec<i16>, Vec<i16>) {
        let (mut tone_a, mut tone_b) = (Tone::new(440.0), Tone::new(880.0));
        let mut frame = vec![0i16; FRAME_SAMPLES];
        let (mut mic_a, mut mic_b) = (Vec::new(), Vec::new());
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while capture.samples().len() < FRAME_SAMPLES * frames {
            assert!(tokio::time::Instant::now() < deadline, "the bridge stalled");
            tick.tick().await;
            tone_a.next_frame(&mut frame);
            a.1.play(&frame);
            tone_b.next_frame(&mut frame);
            b.1.play(&frame);
            assert!(a.0.next_frame(&mut frame));
            mic_a.extend_from_slice(&frame);
            assert!(b.0.next_frame(&mut frame));
            mic_b.extend_from_slice(&frame);
        }
        (mic_a, mic_b)
    }

    #[tokio::test]
    async fn two_parties_are_mixed_and_each_hears_the_microphone() {
        let capture = Capture::default();
        let bridge = Bridge::start(Box::new(Tone::new(1000.0)), Box::new(capture.clone()));
        let mut a = bridge.add_leg();
        let mut b = bridge.add_leg();
        assert_eq!(bridge.legs(), 2);
        let (mic_a, mic_b) = talk(&mut a, &mut b, &capture, 20).await;
        a.1.finish().unwrap();
        assert_eq!(bridge.legs(), 1);
        bridge.stop().await.unwrap();
        let heard = capture.samples();
        assert!(heard.len() >= FRAME_SAMPLES * 15, "{} samples", heard.len());
        // Both parties in the mix, the microphone not.
        assert!(tone_strength(&heard, 440.0) > 0.3);
        assert!(tone_strength(&heard, 880.0) > 0.3);
        assert!(tone_strength(&heard, 1000.0) < 0.05);
        // Each party is sent the microphone.
        let tail = |v: &Vec<i16>| v[v.len() / 2..].to_vec();
        assert!(tone_strength(&tail(&mic_a), 1000.0) > 0.8);
        assert!(tone_strength(&tail(&mic_b), 1000.0) > 0.8);
    }

    #[tokio::test]
    async fn shared_audio_outlives_each_connection_and_finishes_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        /// Counts frames played and finishes.
        struct Counting(Arc<AtomicUsize>, Arc<AtomicUsize>);
        impl AudioSink for Counting {
            fn play(&mut self, _frame: &[i16]) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
            fn finish(&mut self) -> Result<(), AudioError> {
                self.1.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        }
        let (played, finished) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let sink = Counting(played.clone(), finished.clone());
        let shared = SharedAudio::new(
            Box::new(crate::media::audio::Tone::new(440.0)),
            Box::new(sink),
        );
        let mut frame = vec![0i16; FRAME_SAMPLES];
        for _ in 0..2 {
            let (mut source, mut sink) = shared.ports();
            assert!(source.next_frame(&mut frame));
            assert!(frame.iter().any(|s| *s != 0));
            sink.play(&frame);
            // A connection that ends finishes its ports, not the call's sink.
            sink.finish().unwrap();
        }
        assert_eq!(played.load(Ordering::SeqCst), 2);
        assert_eq!(finished.load(Ordering::SeqCst), 0);
        shared.finish().unwrap();
        assert_eq!(finished.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn the_source_running_out_ends_every_leg() {
        let bridge = Bridge::start(
            Box::new(crate::media::audio::WavSource::from_samples(vec![
                100;
                FRAME_SAMPLES
                    * 2
            ])),
            Box::new(crate::media::audio::NullSink),
        );
        let (mut src, _sink) = bridge.add_leg();
        let mut frame = vec![0i16; FRAME_SAMPLES];
        let ended = async {
            loop {
                tokio::time::sleep(Duration::from_millis(20)).await;
                if !src.next_frame(&mut frame) {
                    break;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(2), ended)
            .await
            .unwrap();
        bridge.stop().await.unwrap();
    }

    #[tokio::test]
    async fn a_connection_using_shared_audio_moves_onto_a_bridge_when_a_party_joins() {
        let capture = Capture::default();
        let shared = SharedAudio::new(Box::new(Tone::new(1000.0)), Box::new(capture.clone()));
        let (mut src_a, mut sink_a) = shared.ports();
        let mut frame = vec![0i16; FRAME_SAMPLES];
        // 1:1: the connection reads the microphone and plays into the speaker itself.
        assert!(src_a.next_frame(&mut frame));
        assert!(tone_strength(&frame, 1000.0) > 0.8);
        let mut tone_a = Tone::new(440.0);
        tone_a.next_frame(&mut frame);
        sink_a.play(&frame);
        assert_eq!(capture.samples().len(), FRAME_SAMPLES);

        // A second party: both connections are legs of one bridge.
        let bridge = shared.bridge();
        assert_eq!(bridge.legs(), 1, "the first connection is on the bridge");
        let mut a = (src_a, sink_a);
        let mut b = bridge.add_leg();
        let (mic_a, mic_b) = talk(&mut a, &mut b, &capture, 21).await;
        let heard = capture.samples()[FRAME_SAMPLES * 5..].to_vec();
        assert!(
            tone_strength(&heard, 440.0) > 0.3,
            "the first party is mixed"
        );
        assert!(
            tone_strength(&heard, 880.0) > 0.3,
            "the second party is mixed"
        );
        let tail = |v: &Vec<i16>| v[v.len() / 2..].to_vec();
        assert!(tone_strength(&tail(&mic_a), 1000.0) > 0.8);
        assert!(tone_strength(&tail(&mic_b), 1000.0) > 0.8);
        // The first connection ending closes its leg, not the speaker.
        a.1.finish().unwrap();
        assert_eq!(bridge.legs(), 1);
        bridge.stop().await.unwrap();
        shared.finish().unwrap();
    }
}
