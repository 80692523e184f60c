//! Connects a call's signaling (through the client session) to its media (a WebRTC peer and
//! the audio engine). The caller offers once a callee has answered; the callee answers the
//! offer; both start the audio loops and report media state to the session, which turns it
//! into the call states the user sees.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::negotiation::{Action, Input, Negotiation};
use crate::client::{Client, MediaChange};
use crate::media::audio::{AudioSink, AudioSource};
use crate::media::dtmf::DtmfTiming;
use crate::media::engine::{AudioEngine, AudioStats, MediaEvent};
use crate::media::impair::Impairment;
use crate::media::peer::{AudioPeer, MediaState, PeerError, RtpAudio};
use crate::media::sdp::{audio_rejected, has_audio};
use crate::media::stats::{dbfs, impaired_pct, mos, CallStats};
use crate::proto::Signal;

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error(transparent)]
    Peer(#[from] PeerError),
    #[error(transparent)]
    Client(#[from] crate::client::ClientError),
    #[error(transparent)]
    Audio(#[from] crate::media::audio::AudioError),
    #[error("the call's media has already been set up")]
    AlreadyStarted,
    #[error("the other side has no audio codec in common with parla (Opus, with telephone-event for DTMF)")]
    Incompatible,
}

impl MediaError {
    /// The end reason of a call this error ends.
    #[must_use]
    pub fn end_reason(&self) -> crate::proto::EndReason {
        match self {
            MediaError::Incompatible => crate::proto::EndReason::IncompatibleMedia,
            _ => crate::proto::EndReason::Error,
        }
    }
}

/// Where a call's audio comes from and goes.
pub struct AudioSetup {
    pub source: Box<dyn AudioSource>,
    pub sink: Box<dyn AudioSink>,
    /// Local address for media sockets, e.g. `127.0.0.1:0` or `0.0.0.0:0`.
    pub bind: String,
    /// Simulated packet loss and jitter on the receiving side (tests and benchmarks).
    pub impair: Option<Impairment>,
    /// Send DTMF as in-band tones even when the other side takes RFC 4733 events.
    pub inband_dtmf: bool,
    /// Play the ring tone (incoming) and ringback (outgoing) into the sink while the call
    /// rings.
    pub ring: bool,
    /// A path that tests and benchmarks can cut, to see the call recover.
    pub outage: Option<crate::media::net::Outage>,
    /// The sound card's dropout counters, when the audio is a sound card.
    pub device: Option<Arc<crate::media::device::DeviceCounters>>,
    /// Redundant audio and relay-only ICE (see [`PeerOptions`]).
    pub peer: crate::media::peer::PeerOptions,
}

impl AudioSetup {
    /// Null audio on `bind`, no ringing: a starting point for bots and tests.
    pub fn silent(bind: &str) -> Self {
        AudioSetup {
            source: Box::new(crate::media::audio::Silence),
            sink: Box::new(crate::media::audio::NullSink),
            bind: bind.to_owned(),
            impair: None,
            inband_dtmf: false,
            ring: false,
            outage: None,
            device: None,
            peer: crate::media::peer::PeerOptions::default(),
        }
    }
}

pub struct CallMedia {
    client: Client,
    room_id: String,
    remote_user: String,
    peer: Arc<AudioPeer>,
    /// Packets and audio waiting for the engine to start (behind a lock only so that the
    /// call can be shared across tasks: sources and sinks need not be `Sync`).
    pending: std::sync::Mutex<Option<(tokio::sync::mpsc::Receiver<RtpAudio>, AudioSetup)>>,
    engine: Option<AudioEngine>,
    watcher: Option<tokio::task::JoinHandle<()>>,
    trickle: Option<tokio::task::JoinHandle<()>>,
    /// The last description this side sent (none before the first).
    described: tokio::sync::watch::Sender<Option<String>>,
    /// Held while a description is made and sent: candidates wait for it.
    describing: Arc<tokio::sync::Mutex<()>>,
    /// The offer/answer rules.
    negotiation: Negotiation,
    started: Option<std::time::Instant>,
    device: Option<Arc<crate::media::device::DeviceCounters>>,
}

impl CallMedia {
    pub async fn new(
        client: Client,
        room_id: &str,
        remote_user: &str,
        audio: AudioSetup,
    ) -> Result<Self, MediaError> {
        // STUN/TURN servers from the server; a call on a direct path works without them.
        let ice = match client.rest().ice_servers().await {
            Ok(list) => list,
            Err(e) => {
                tracing::warn!(error = %e, "no ICE server list; using host candidates only");
                Vec::new()
            }
        };
        let bind = audio.bind.clone();
        let device = audio.device.clone();
        // An impairment acts on the sockets, below the WebRTC stack, as a network would.
        let path = match audio.impair {
            Some(config) => Some(audio.outage.clone().unwrap_or_default().impaired(config)),
            None => audio.outage.clone(),
        };
        let (peer, packets) = AudioPeer::new(&bind, &ice, path.as_ref(), audio.peer).await?;
        let peer = Arc::new(peer);
        // Media state changes move the call's visible state.
        let mut state = peer.state();
        let (c, room, leg) = (client.clone(), room_id.to_owned(), remote_user.to_owned());
        let watcher = tokio::spawn(async move {
            while state.changed().await.is_ok() {
                let s = *state.borrow_and_update();
                let up = match s {
                    MediaState::Connected => true,
                    MediaState::Disconnected | MediaState::Failed | MediaState::Closed => false,
                    _ => continue,
                };
                c.media_changed(
                    &room,
                    MediaChange::Up {
                        leg: leg.clone(),
                        up,
                    },
                );
            }
        });
        // Local candidates go to the other side as they are found, except those the
        // description sent already carries. They wait for this side's first description: the
        // other side makes its connection when that arrives, and would have nowhere to put a
        // candidate before it. While a description is being made and sent (a new ICE
        // generation gathers meanwhile) they wait for it too: `describing` is held then.
        let (described, mut described_rx) = tokio::sync::watch::channel(None::<String>);
        let describing = Arc::new(tokio::sync::Mutex::new(()));
        let gate = describing.clone();
        let trickle = peer.take_candidates().map(|mut candidates| {
            let (c, room, to) = (client.clone(), room_id.to_owned(), remote_user.to_owned());
            tokio::spawn(async move {
                if described_rx.wait_for(Option::is_some).await.is_err() {
                    return;
                }
                while let Some(candidate) = candidates.recv().await {
                    let _described = gate.lock().await;
                    if let Some(Signal::Candidate {
                        candidate: line, ..
                    }) = &candidate
                    {
                        let known = described_rx
                            .borrow()
                            .as_ref()
                            .is_some_and(|sdp| sdp.contains(line.as_str()));
                        if known {
                            continue;
                        }
                    }
                    let signal = candidate.unwrap_or(Signal::EndOfCandidates);
                    if c.signal(&room, &to, signal).is_err() {
                        break;
                    }
                }
            })
        });
        Ok(CallMedia {
            client,
            room_id: room_id.to_owned(),
            remote_user: remote_user.to_owned(),
            peer,
            pending: std::sync::Mutex::new(Some((packets, audio))),
            engine: None,
            watcher: Some(watcher),
            trickle,
            described,
            describing,
            negotiation: Negotiation::new(),
            started: None,
            device,
        })
    }

    /// The side that sets the call up: send the first offer.
    pub async fn start_offer(&mut self) -> Result<(), MediaError> {
        self.run(Input::Start).await
    }

    /// Signaling from the other party.
    pub async fn on_signal(&mut self, signal: Signal) -> Result<(), MediaError> {
        match signal {
            Signal::Offer { sdp } => self.run(Input::Offer(sdp)).await,
            Signal::Answer { sdp } => self.run(Input::Answer(sdp)).await,
            Signal::Candidate {
                candidate,
                sdp_mid,
                sdp_mline_index,
            } => {
                // A bad candidate costs that one path, not the call.
                if let Err(e) = self
                    .peer
                    .add_candidate(candidate, sdp_mid, sdp_mline_index)
                    .await
                {
                    tracing::warn!(error = %e, "remote candidate refused");
                }
                Ok(())
            }
            Signal::EndOfCandidates => Ok(()),
        }
    }

    /// Feeds the negotiation and carries out what it asks for, in order. After a failed
    /// step the rest of that input's steps are dropped: the call is failing.
    async fn run(&mut self, input: Input) -> Result<(), MediaError> {
        self.negotiation.handle_input(input);
        let actions: Vec<Action> = std::iter::from_fn(|| self.negotiation.poll_output()).collect();
        for action in actions {
            self.perform(action).await?;
        }
        Ok(())
    }

    async fn perform(&mut self, action: Action) -> Result<(), MediaError> {
        match action {
            Action::Rollback => self.peer.rollback().await?,
            Action::RestartIce => self.peer.restart_ice().await?,
            Action::SetDirection { hold } => self.peer.set_direction(hold).await?,
            Action::Offer => {
                let _describing = self.describing.clone().lock_owned().await;
                let sdp = self.peer.offer().await?;
                self.client.signal(
                    &self.room_id,
                    &self.remote_user,
                    Signal::Offer { sdp: sdp.clone() },
                )?;
                self.described.send_replace(Some(sdp));
            }
            Action::Answer(offer) => {
                let _describing = self.describing.clone().lock_owned().await;
                let sdp = self.peer.answer(offer).await?;
                let rejected = audio_rejected(&sdp);
                // A rejected audio section still goes out: it tells the offerer why.
                self.client.signal(
                    &self.room_id,
                    &self.remote_user,
                    Signal::Answer { sdp: sdp.clone() },
                )?;
                self.described.send_replace(Some(sdp));
                if rejected {
                    return Err(MediaError::Incompatible);
                }
            }
            Action::AcceptAnswer(sdp) => {
                if audio_rejected(&sdp) {
                    return Err(MediaError::Incompatible);
                }
                let audio = has_audio(&sdp);
                self.peer.accept_answer(sdp).await?;
                if !audio {
                    return Err(MediaError::Incompatible);
                }
            }
            Action::StartMedia => self.start_engine()?,
            Action::Audio { send, play } => {
                if let Some(e) = &self.engine {
                    e.control.send_paused.store(!send, Ordering::Relaxed);
                    e.control.play_paused.store(!play, Ordering::Relaxed);
                }
            }
            Action::LocalHold(hold) => self
                .client
                .media_changed(&self.room_id, MediaChange::LocalHold(hold)),
            Action::RemoteHold(hold) => self.client.media_changed(
                &self.room_id,
                MediaChange::RemoteHold {
                    leg: self.remote_user.clone(),
                    hold,
                },
            ),
        }
        Ok(())
    }

    fn start_engine(&mut self) -> Result<(), MediaError> {
        let (packets, audio) = self
            .pending
            .lock()
            .ok()
            .and_then(|mut p| p.take())
            .ok_or(MediaError::AlreadyStarted)?;
        self.started = Some(std::time::Instant::now());
        self.engine = Some(AudioEngine::start(
            self.peer.clone(),
            packets,
            audio.source,
            audio.sink,
            audio.inband_dtmf,
        ));
        Ok(())
    }

    /// Holds or resumes the call: stops audio both ways and tells the other side by
    /// renegotiating with the new direction.
    pub async fn set_hold(&mut self, hold: bool) -> Result<(), MediaError> {
        self.run(Input::Hold(hold)).await
    }

    /// The path dropped (media disconnected or failed): the side that made the first offer
    /// restarts ICE on new sockets and offers again; the other side answers. Returns
    /// whether a restart was started here.
    pub async fn on_path_lost(&mut self) -> Result<bool, MediaError> {
        self.run(Input::PathLost).await?;
        Ok(self.negotiation.is_offerer())
    }

    /// ICE restarts this side has started.
    pub fn restarts(&self) -> u32 {
        self.negotiation.restarts()
    }

    pub fn set_muted(&self, muted: bool) {
        if let Some(e) = &self.engine {
            e.control.muted.store(muted, Ordering::Relaxed);
        }
    }

    /// Queues DTMF digits (checked with [`crate::media::dtmf::parse`]); false before media
    /// is up.
    pub async fn send_dtmf(&self, digits: &[char], timing: DtmfTiming) -> bool {
        match &self.engine {
            Some(e) => {
                e.send_dtmf(digits, timing).await;
                true
            }
            None => false,
        }
    }

    /// Whether digits go out as RFC 4733 events (else as tones).
    pub fn dtmf_as_events(&self) -> bool {
        self.engine
            .as_ref()
            .is_some_and(AudioEngine::dtmf_as_events)
    }

    pub fn dtmf_pending(&self) -> bool {
        self.engine.as_ref().is_some_and(AudioEngine::dtmf_pending)
    }

    /// Media events (received DTMF); available once, after media started.
    pub fn take_events(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<MediaEvent>> {
        self.engine.as_ref().and_then(AudioEngine::take_events)
    }

    /// Media state changes of the connection (new, checking, connected, ...).
    pub fn media_state(&self) -> tokio::sync::watch::Receiver<MediaState> {
        self.peer.state()
    }

    /// Quality figures of the call so far.
    pub async fn call_stats(&self) -> Option<CallStats> {
        let a = self.stats()?;
        let secs = self.started?.elapsed().as_secs_f64().max(0.001);
        let transport = self.peer.transport().await;
        let rtt_ms = transport.rtt_ms;
        let expected = a.jitter.played + a.jitter.concealed;
        let concealed_pct = if expected == 0 {
            0.0
        } else {
            a.jitter.concealed as f64 * 100.0 / expected as f64
        };
        let p = &a.playout;
        // One-way delay: half the round trip plus buffering and one frame of packetisation.
        let delay = rtt_ms.unwrap_or(0.0) / 2.0 + a.buffer_target_ms + 20.0;
        Some(CallStats {
            rtt_ms,
            loss_pct: a.network_loss_pct,
            concealed_pct,
            jitter_ms: a.jitter_ms,
            jitter_buffer_ms: a.buffer_target_ms,
            send_kbps: a.bytes_sent as f64 * 8.0 / 1000.0 / secs,
            recv_kbps: a.bytes_received as f64 * 8.0 / 1000.0 / secs,
            send_level_dbfs: dbfs(a.send_rms),
            recv_level_dbfs: dbfs(a.recv_rms),
            // No score for audio that never came.
            mos: (a.jitter.played > 0).then(|| mos(delay, impaired_pct(p))),
            frames_sent: a.frames_sent,
            packets_received: a.jitter.received,
            frames_played: a.jitter.played,
            frames_concealed: a.jitter.concealed,
            frames_expanded: a.jitter.expanded,
            frames_skipped: a.jitter.skipped,
            frames_discarded: a.jitter.discarded,
            playout_stretched_ms: p.stretched_ms + p.underrun_ms,
            playout_compressed_ms: p.compressed_ms + p.skipped_ms,
            playout_concealed_ms: p.concealed_ms,
            packets_dropped: self.peer.packets_dropped(),
            frames_recovered: a.jitter.redundant,
            sending: a.send_settings,
            route: transport.route,
            candidates: transport.gathered,
            device_overruns: self
                .device
                .as_ref()
                .map_or(0, |d| d.capture_overruns.load(Ordering::Relaxed)),
            device_underruns: self
                .device
                .as_ref()
                .map_or(0, |d| d.playback_underruns.load(Ordering::Relaxed)),
        })
    }

    /// Received packets thrown away because the call did not take them in time.
    pub fn packets_dropped(&self) -> u64 {
        self.peer.packets_dropped()
    }

    pub fn stats(&self) -> Option<AudioStats> {
        self.engine.as_ref().map(AudioEngine::stats)
    }

    /// Stops audio, finishes the sink (closing recordings) and closes the connection.
    pub async fn stop(mut self) -> Result<(), MediaError> {
        if let Some(w) = self.watcher.take() {
            w.abort();
        }
        if let Some(t) = self.trickle.take() {
            t.abort();
        }
        let result = match self.engine.take() {
            Some(e) => e.stop().await.map_err(MediaError::from),
            None => Ok(()),
        };
        self.peer.close().await;
        result
    }
}
