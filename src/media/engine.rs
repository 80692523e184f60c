//! The two loops of a call's audio: capture → encode → send every 20 ms, and receive →
//! jitter buffer → decode (or conceal) → play every 20 ms.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::audio::{AudioError, AudioSink, AudioSource};
use super::codec::FRAME_SAMPLES;
use super::coding::{AnyDecoder, AnyEncoder, CallCodec};
use super::dtmf::{DtmfDetector, DtmfSender, DtmfTiming, EventReceiver, EventSender, EventTick};
use super::jitter::{JitterConfig, JitterStats};
use super::peer::{AudioPeer, RtpAudio};
use super::playout::{Playout, PlayoutClock, PlayoutStats};
use super::sdp::Formats;

const FRAME: Duration = Duration::from_millis(20);

/// Switches shared with the loops.
#[derive(Default)]
pub struct AudioControl {
    /// Send silence instead of the source.
    pub muted: AtomicBool,
    /// Send nothing (either side holds, or the other side takes no audio).
    pub send_paused: AtomicBool,
    /// Play nothing (this side holds; the other side's hold music is played).
    pub play_paused: AtomicBool,
    /// Digits waiting to be sent as tones.
    pub dtmf: Mutex<DtmfSender>,
    /// Digits waiting to be sent as RFC 4733 telephone-events.
    pub events: Mutex<EventSender>,
    /// Whether digits go out as telephone-events (negotiated and not turned off).
    pub rfc4733: AtomicBool,
}

/// What the audio loops notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    /// A DTMF digit was heard.
    Dtmf(char),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AudioStats {
    pub frames_sent: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// RMS of the last frame sent and the last frame played.
    pub send_rms: f64,
    pub recv_rms: f64,
    pub send_errors: u64,
    pub jitter: JitterStats,
    /// Playout time added and removed.
    pub playout: PlayoutStats,
    /// Wake-ups of the playout that found frames overdue, and frames given up on after
    /// stalls of over a second.
    pub late_wakeups: u64,
    pub clock_skipped_ms: f64,
    pub jitter_ms: f64,
    pub buffer_target_ms: f64,
    /// Packets lost on the way (before redundancy and FEC repaired them), in percent.
    pub network_loss_pct: f64,
    /// How the encoder runs now, after the other side's latest receiver report.
    pub send_settings: Option<super::rate::SendSettings>,
}

/// Audio frames sent before the first telephone-event: a receiver that starts its playout
/// with the first packet would otherwise lose the first digit (Chromium does).
const AUDIO_BEFORE_EVENTS: u32 = 5;

/// The sending side of a call's audio: every 20 ms a frame from the source (or a
/// telephone-event in its place), encoded with whichever codec the call settled on.
struct Sending {
    peer: Arc<AudioPeer>,
    source: Box<dyn AudioSource>,
    ctl: Arc<AudioControl>,
    stats: Arc<Mutex<AudioStats>>,
    /// Copies of what is sent, for a sink that records both directions.
    tap: Option<mpsc::Sender<Vec<i16>>>,
    state: watch::Receiver<super::peer::MediaState>,
    codec: CallCodec,
    encoder: AnyEncoder,
    pcm: Vec<i16>,
    /// Audio frames sent so far, and ticks seen connected before the first.
    sent: u32,
    up_ticks: u32,
    /// Bitrate and protection, following the other side's receiver reports; the reports
    /// taken so far.
    rate: super::rate::RateControl,
    reports: u64,
}

/// Frames between looks at the other side's receiver reports (they come every second).
const REPORT_EVERY: u32 = 50;

impl Sending {
    async fn new(
        peer: Arc<AudioPeer>,
        source: Box<dyn AudioSource>,
        ctl: Arc<AudioControl>,
        stats: Arc<Mutex<AudioStats>>,
        tap: Option<mpsc::Sender<Vec<i16>>>,
    ) -> Result<Self, super::codec::CodecError> {
        let codec = peer.send_codec().await.unwrap_or(CallCodec::Opus);
        let mut rate = super::rate::RateControl::default();
        rate.set_red_possible(codec == CallCodec::Opus && peer.red_payload_type().await.is_some());
        let mut encoder = AnyEncoder::new(codec, 0)?;
        encoder.apply(&rate.settings())?;
        Ok(Sending {
            state: peer.state(),
            encoder,
            rate,
            reports: 0,
            codec,
            peer,
            source,
            ctl,
            stats,
            tap,
            pcm: vec![0; FRAME_SAMPLES],
            sent: 0,
            up_ticks: 0,
        })
    }

    fn record(&self, frame: Vec<i16>) {
        if let Some(tap) = &self.tap {
            let _ = tap.try_send(frame);
        }
    }

    fn count(&self, update: impl FnOnce(&mut AudioStats)) {
        if let Ok(mut s) = self.stats.lock() {
            update(&mut s);
        }
    }

    /// One 20 ms step.
    async fn frame(&mut self) {
        // Nothing goes out on hold, nor before the connection is up: packets sent before
        // SRTP is ready are thrown away (the first 50-70 ms of the call, once). The first
        // packet waits one more tick after this side is connected: the side that sends
        // DTLS's last flight is connected before the other has read it. parla keeps packets
        // that beat the keys (vendor/rtc, `handler/srtp.rs`); other stacks may drop them.
        // Recorders keep time with silence.
        let up = *self.state.borrow() == super::peer::MediaState::Connected;
        if self.sent == 0 {
            self.up_ticks = if up { self.up_ticks + 1 } else { 0 };
        }
        if self.ctl.send_paused.load(Ordering::Relaxed) || (self.sent == 0 && self.up_ticks < 2) {
            self.record(vec![0; FRAME_SAMPLES]);
            return;
        }
        if !self.source.next_frame(&mut self.pcm) {
            self.pcm.fill(0);
        }
        // A telephone-event packet takes the place of this frame's audio, once some audio
        // has gone ahead of it.
        let event = if self.sent >= AUDIO_BEFORE_EVENTS {
            self.ctl
                .events
                .lock()
                .map_or(EventTick::Audio, |mut e| e.next_tick())
        } else {
            EventTick::Audio
        };
        if let EventTick::Event { payload, first } = event {
            self.record(vec![0; FRAME_SAMPLES]);
            if self.peer.send_event(payload, first).await.is_err() {
                self.count(|s| s.send_errors += 1);
            }
            return;
        }
        if self.ctl.muted.load(Ordering::Relaxed) {
            self.pcm.fill(0);
        }
        // Digits go out even while muted.
        if let Ok(mut d) = self.ctl.dtmf.lock() {
            d.fill(&mut self.pcm);
        }
        let level = super::audio::rms(&self.pcm);
        self.record(self.pcm.clone());
        self.follow_codec().await;
        if self.sent.is_multiple_of(REPORT_EVERY) {
            self.follow_reports().await;
        }
        let redundant = self.rate.settings().redundant_frames;
        let sent = match self.encoder.encode(&self.pcm) {
            Ok(packet) => self
                .peer
                .send_audio(self.codec, packet, redundant)
                .await
                .ok(),
            Err(_) => None,
        };
        self.sent += 1;
        self.count(|s| {
            s.send_rms = level;
            match sent {
                Some(n) => {
                    s.frames_sent += 1;
                    s.bytes_sent += n as u64;
                }
                None => s.send_errors += 1,
            }
        });
    }

    /// A new receiver report from the other side sets the bitrate and the protection.
    async fn follow_reports(&mut self) {
        let before = self.rate.settings();
        let red = self.codec == CallCodec::Opus && self.peer.red_payload_type().await.is_some();
        self.rate.set_red_possible(red);
        let report = self.peer.remote_report().await;
        if let Some((count, f)) = report.filter(|(count, _)| *count != self.reports) {
            self.reports = count;
            self.rate.on_report(f);
        }
        self.apply_if_changed(before);
    }

    fn apply_if_changed(&mut self, before: super::rate::SendSettings) {
        let now = self.rate.settings();
        if now != before {
            tracing::debug!(?now, "sending settings follow the receiver");
            if let Err(e) = self.encoder.apply(&now) {
                tracing::warn!(error = %e, "cannot change the encoder's settings");
            }
        }
        self.count(|s| s.send_settings = Some(now));
    }

    /// A renegotiation can settle on another codec.
    async fn follow_codec(&mut self) {
        if let Ok(now) = self.peer.send_codec().await {
            if now != self.codec {
                if let Ok(mut e) = AnyEncoder::new(now, 0) {
                    tracing::info!(codec = now.name(), "sending another codec");
                    let _ = e.apply(&self.rate.settings());
                    (self.codec, self.encoder) = (now, e);
                }
            }
        }
    }
}

/// The receiving side of a call's audio: packets into the jitter buffer, frames out of
/// the decoder of whichever codec they came in.
struct Receiving {
    /// The payload types, as the last description settled them (read again when a packet
    /// of an unknown type comes: a re-offer can renumber them).
    formats: Formats,
    playout: Playout,
    events: EventReceiver,
    codec: CallCodec,
    decoder: AnyDecoder,
}

impl Receiving {
    async fn new(peer: &AudioPeer) -> Result<Self, super::codec::CodecError> {
        let formats = peer.formats().await;
        let codec = formats.codec().unwrap_or(CallCodec::Opus);
        Ok(Receiving {
            formats,
            playout: Playout::new(JitterConfig::default()),
            events: EventReceiver::default(),
            codec,
            decoder: AnyDecoder::new(codec)?,
        })
    }

    /// Takes one packet; returns the audio bytes it brought and a digit it completed.
    async fn on_packet(&mut self, peer: &AudioPeer, p: RtpAudio) -> (u64, Option<char>) {
        if !self.formats.knows(p.payload_type) {
            self.formats = peer.formats().await;
        }
        let f = self.formats;
        if f.events.matches(p.payload_type) {
            self.playout.jb.push_filler(p.sequence);
            return (0, self.events.receive(p.timestamp, &p.payload));
        }
        let bytes = p.payload.len() as u64;
        if f.red == Some(p.payload_type) {
            // The previous frame rides along: it fills the gap when the packet before this
            // one was lost.
            self.use_codec(CallCodec::Opus);
            match super::red::decode(&p.payload) {
                Ok(blocks) => {
                    for b in blocks {
                        if b.timestamp_offset == 0 {
                            self.playout.jb.push(
                                p.sequence,
                                p.timestamp,
                                p.payload.slice_ref(b.data),
                                p.arrived,
                            );
                        } else if let Some(back) = redundant_distance(b.timestamp_offset) {
                            // A copy of the frame one or two packets back (frames and
                            // packets go in step: 20 ms, one frame a packet).
                            self.playout.jb.push_redundant(
                                p.sequence.wrapping_sub(back),
                                back,
                                p.payload.slice_ref(b.data),
                            );
                        }
                    }
                }
                Err(e) => tracing::debug!(error = %e, "malformed RED packet"),
            }
            return (bytes, None);
        }
        let codec = match f.codec_of(p.payload_type) {
            Some(c) => c,
            // Nothing says what it is: taken as Opus, as before any description settled it.
            None if f.opus.is_none() => CallCodec::Opus,
            None => return (0, None),
        };
        self.use_codec(codec);
        // The jitter buffer counts in 48 kHz units.
        let timestamp = p.timestamp.wrapping_mul(48_000 / codec.clock_rate());
        self.playout
            .jb
            .push(p.sequence, timestamp, p.payload, p.arrived);
        (bytes, None)
    }

    /// Packets of another codec from now on (the other side changed its mind).
    fn use_codec(&mut self, codec: CallCodec) {
        if codec != self.codec {
            match AnyDecoder::new(codec) {
                Ok(d) => {
                    tracing::info!(codec = codec.name(), "receiving another codec");
                    self.decoder = d;
                    self.codec = codec;
                }
                Err(e) => tracing::warn!(error = %e, "cannot decode {}", codec.name()),
            }
        }
    }

    /// The audio due at `due`: a packet's worth, decoded and perhaps stretched, or
    /// concealment, or silence.
    fn next_audio(&mut self, pcm: &mut Vec<i16>, due: std::time::Instant, now: std::time::Instant) {
        self.playout.next(&mut self.decoder, pcm, due, now);
    }
}

/// How many packets back a RED block at `offset` (48 kHz units) is, when it is a whole
/// number of frames within what a packet repeats.
fn redundant_distance(offset: u32) -> Option<u16> {
    let frames = u16::try_from(offset / 960).ok()?;
    (offset.is_multiple_of(960) && frames >= 1 && usize::from(frames) <= super::peer::MAX_REDUNDANT)
        .then_some(frames)
}

pub struct AudioEngine {
    pub control: Arc<AudioControl>,
    stats: Arc<Mutex<AudioStats>>,
    stop: watch::Sender<bool>,
    peer: Arc<AudioPeer>,
    inband_dtmf: bool,
    events: Mutex<Option<mpsc::UnboundedReceiver<MediaEvent>>>,
    sender: JoinHandle<()>,
    receiver: JoinHandle<Result<(), AudioError>>,
}

impl AudioEngine {
    /// Starts both loops. DTMF goes out as RFC 4733 telephone-events when the other side
    /// accepted them, unless `inband_dtmf`; as tones otherwise.
    pub fn start(
        peer: Arc<AudioPeer>,
        mut packets: mpsc::Receiver<RtpAudio>,
        source: Box<dyn AudioSource>,
        mut sink: Box<dyn AudioSink>,
        inband_dtmf: bool,
    ) -> Self {
        let control = Arc::new(AudioControl::default());
        let stats = Arc::new(Mutex::new(AudioStats::default()));
        let (stop, stop_rx) = watch::channel(false);
        let (events_tx, events) = mpsc::unbounded_channel();
        // Copies of sent frames, only for sinks that record both directions.
        let (sent_tx, mut sent_rx) = mpsc::channel::<Vec<i16>>(50);
        let tap = sink.wants_sent();

        let (ctl, st, mut stop_tx_side) = (control.clone(), stats.clone(), stop_rx.clone());
        let send_peer = peer.clone();
        let peer_for_dtmf = peer.clone();
        let sender = tokio::spawn(async move {
            let mut tx =
                match Sending::new(send_peer, source, ctl, st, tap.then_some(sent_tx)).await {
                    Ok(tx) => tx,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot create the audio encoder");
                        return;
                    }
                };
            let mut tick = tokio::time::interval(FRAME);
            loop {
                tokio::select! {
                    _ = tick.tick() => tx.frame().await,
                    _ = stop_tx_side.changed() => break,
                }
            }
        });

        let (ctl, st, mut stop_rx_side) = (control.clone(), stats.clone(), stop_rx);
        let receiver = tokio::spawn(async move {
            let mut rx = match Receiving::new(&peer).await {
                Ok(rx) => rx,
                Err(e) => {
                    tracing::error!(error = %e, "cannot create the audio decoder");
                    return sink.finish();
                }
            };
            let mut detector = DtmfDetector::default();
            let mut pcm = Vec::with_capacity(2 * FRAME_SAMPLES);
            let mut clock = PlayoutClock::new(tokio::time::Instant::now().into_std());
            loop {
                let due = tokio::time::Instant::from_std(clock.next_due());
                tokio::select! {
                    // Packets first: a frame that falls due while packets wait (the process
                    // was starved of CPU) plays them instead of concealing.
                    biased;
                    _ = stop_rx_side.changed() => break,
                    p = packets.recv() => match p {
                        Some(p) => {
                            let (bytes, digit) = rx.on_packet(&peer, p).await;
                            if let Ok(mut s) = st.lock() {
                                s.bytes_received += bytes;
                            }
                            if let Some(d) = digit {
                                let _ = events_tx.send(MediaEvent::Dtmf(d));
                            }
                        }
                        None => break,
                    },
                    () = tokio::time::sleep_until(due) => {
                        // Everything owed since the last wake-up is played; nothing dropped.
                        let now = tokio::time::Instant::now().into_std();
                        while clock.is_due(now) {
                            let held = ctl.play_paused.load(Ordering::Relaxed);
                            rx.next_audio(&mut pcm, clock.next_due(), now);
                            clock.handed(pcm.len(), now);
                            if let Some(d) = detector.feed(&pcm) {
                                let _ = events_tx.send(MediaEvent::Dtmf(d));
                            }
                            if held {
                                pcm.fill(0);
                            }
                            while let Ok(frame) = sent_rx.try_recv() {
                                sink.sent(&frame);
                            }
                            sink.play(&pcm);
                            if let Ok(mut s) = st.lock() {
                                s.recv_rms = super::audio::rms(&pcm);
                                s.jitter = rx.playout.jb.stats.clone();
                                s.playout = rx.playout.stats.clone();
                                s.late_wakeups = clock.late_wakeups;
                                s.clock_skipped_ms = clock.skipped_ms;
                                s.jitter_ms = rx.playout.jb.jitter_ms();
                                s.buffer_target_ms = rx.playout.jb.target_ms();
                                s.network_loss_pct = rx.playout.jb.network_loss_pct();
                            }
                        }
                    }
                }
            }
            sink.finish()
        });
        AudioEngine {
            control,
            stats,
            stop,
            peer: peer_for_dtmf,
            inband_dtmf,
            events: Mutex::new(Some(events)),
            sender,
            receiver,
        }
    }

    /// The stream of [`MediaEvent`]s; there is one, for the first caller.
    pub fn take_events(&self) -> Option<mpsc::UnboundedReceiver<MediaEvent>> {
        self.events.lock().ok()?.take()
    }

    /// Queues digits (already checked with [`super::dtmf::parse`]).
    pub async fn send_dtmf(&self, digits: &[char], timing: DtmfTiming) {
        let events = !self.inband_dtmf && self.peer.takes_events().await;
        self.control.rfc4733.store(events, Ordering::Relaxed);
        if events {
            if let Ok(mut e) = self.control.events.lock() {
                e.queue(digits, timing);
            }
        } else if let Ok(mut d) = self.control.dtmf.lock() {
            d.queue(digits, timing);
        }
    }

    /// True while digits are still being sent.
    pub fn dtmf_pending(&self) -> bool {
        let tones = self.control.dtmf.lock().is_ok_and(|d| !d.is_idle());
        let events = self.control.events.lock().is_ok_and(|e| !e.is_idle());
        tones || events
    }

    /// Whether digits go out as RFC 4733 telephone-events.
    pub fn dtmf_as_events(&self) -> bool {
        self.control.rfc4733.load(Ordering::Relaxed)
    }

    pub fn stats(&self) -> AudioStats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Stops both loops and finishes the sink (closing a recording).
    pub async fn stop(self) -> Result<(), AudioError> {
        let _ = self.stop.send(true);
        let _ = self.sender.await;
        self.receiver.await.unwrap_or(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn red_blocks_one_or_two_frames_back_are_taken_and_others_not() {
        assert_eq!(redundant_distance(960), Some(1));
        assert_eq!(redundant_distance(1920), Some(2));
        for offset in [0, 480, 1000, 2880, 16_383] {
            assert_eq!(redundant_distance(offset), None, "{offset}");
        }
    }
}
