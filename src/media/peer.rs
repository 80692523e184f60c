//! One WebRTC peer connection carrying one Opus audio track each way.
//!
//! Offers standard Opus (`minptime=10;useinbandfec=1`) plus `telephone-event/48000`, host
//! candidates on the given addresses (and server-reflexive / relayed ones through the
//! configured STUN/TURN servers), and hands received RTP packets to the caller.
//! Candidates are trickled: a description goes out with the candidates found at once (host
//! addresses) and the rest follow as they are gathered, so a slow STUN or TURN server does
//! not hold up the call. An ICE restart
//! binds new sockets and gathers afresh, for when the network path changes.

use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::sdp::{EventTypes, Formats};
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::{
    MIME_TYPE_OPUS, MIME_TYPE_TELEPHONE_EVENT,
};
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use std::sync::atomic::{AtomicU16, AtomicU32, Ordering};
use tokio::sync::{mpsc, watch};

use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCConfigurationBuilder, RTCIceCandidateInit, RTCIceGatheringState, RTCIceServer,
    RTCPeerConnectionIceEvent, RTCPeerConnectionState, RTCSessionDescription, SettingEngineBuilder,
};

#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error("webrtc: {0}")]
    WebRtc(String),
    #[error("no local description after gathering")]
    NoDescription,
}

fn wrtc<E: std::fmt::Display>(e: E) -> PeerError {
    PeerError::WebRtc(e.to_string())
}

/// Media connection states, as the user sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaState {
    New,
    Checking,
    Connected,
    Disconnected,
    Failed,
    Closed,
}

impl MediaState {
    /// The state's name, as JSON spells it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            MediaState::New => "new",
            MediaState::Checking => "checking",
            MediaState::Connected => "connected",
            MediaState::Disconnected => "disconnected",
            MediaState::Failed => "failed",
            MediaState::Closed => "closed",
        }
    }
}

impl From<RTCPeerConnectionState> for MediaState {
    fn from(s: RTCPeerConnectionState) -> Self {
        match s {
            RTCPeerConnectionState::Connecting => MediaState::Checking,
            RTCPeerConnectionState::Connected => MediaState::Connected,
            RTCPeerConnectionState::Disconnected => MediaState::Disconnected,
            RTCPeerConnectionState::Failed => MediaState::Failed,
            RTCPeerConnectionState::Closed => MediaState::Closed,
            _ => MediaState::New,
        }
    }
}

/// An RTP packet of the remote audio track.
#[derive(Debug, Clone)]
pub struct RtpAudio {
    pub sequence: u16,
    pub timestamp: u32,
    pub payload_type: u8,
    pub marker: bool,
    pub payload: Bytes,
    pub arrived: Instant,
}

fn opus_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_OPUS.to_owned(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

fn telephone_event_codec() -> RTCRtpCodecParameters {
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: MIME_TYPE_TELEPHONE_EVENT.to_owned(),
            clock_rate: 48_000,
            channels: 1,
            sdp_fmtp_line: "0-16".to_owned(),
            rtcp_feedback: vec![],
        },
        payload_type: 101,
    }
}

/// G.711 μ-law and A-law (RFC 7874 §3), offered after Opus for peers without it.
fn g711_codecs() -> [RTCRtpCodecParameters; 2] {
    let codec = |mime: &str, payload_type| RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: mime.to_owned(),
            clock_rate: 8_000,
            channels: 0,
            sdp_fmtp_line: String::new(),
            rtcp_feedback: vec![],
        },
        payload_type,
    };
    [
        codec(
            rtc::peer_connection::configuration::media_engine::MIME_TYPE_PCMU,
            0,
        ),
        codec(
            rtc::peer_connection::configuration::media_engine::MIME_TYPE_PCMA,
            8,
        ),
    ]
}

/// telephone-event at 8 kHz: sent beside G.711, and accepted beside Opus when that is all a
/// peer has (a SIP gateway).
fn telephone_event_8k_codec() -> RTCRtpCodecParameters {
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: MIME_TYPE_TELEPHONE_EVENT.to_owned(),
            clock_rate: 8_000,
            channels: 1,
            sdp_fmtp_line: "0-16".to_owned(),
            rtcp_feedback: vec![],
        },
        payload_type: 126,
    }
}

/// Payload type parla offers for redundant audio (RFC 2198).
const RED_PT: u8 = 63;

fn red_codec() -> RTCRtpCodecParameters {
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: "audio/red".to_owned(),
            clock_rate: 48_000,
            channels: 2,
            sdp_fmtp_line: "111/111".to_owned(),
            rtcp_feedback: vec![],
        },
        payload_type: RED_PT,
    }
}

/// The codecs this peer knows. Redundant audio is left out altogether when it is off: a
/// codec the engine knows can come back in an answer even when the offer did not list it.
fn media_engine(redundancy: bool) -> Result<MediaEngine, PeerError> {
    let mut m = MediaEngine::default();
    m.register_codec(
        RTCRtpCodecParameters {
            rtp_codec: opus_codec(),
            payload_type: 111,
        },
        RtpCodecKind::Audio,
    )
    .map_err(wrtc)?;
    if redundancy {
        m.register_codec(red_codec(), RtpCodecKind::Audio)
            .map_err(wrtc)?;
    }
    for c in g711_codecs() {
        m.register_codec(c, RtpCodecKind::Audio).map_err(wrtc)?;
    }
    m.register_codec(telephone_event_codec(), RtpCodecKind::Audio)
        .map_err(wrtc)?;
    m.register_codec(telephone_event_8k_codec(), RtpCodecKind::Audio)
        .map_err(wrtc)?;
    Ok(m)
}

/// A local candidate to trickle to the other side, or `None` once gathering is complete.
pub type LocalCandidate = Option<crate::proto::Signal>;

struct Handler {
    gathering: watch::Sender<RTCIceGatheringState>,
    candidates: mpsc::UnboundedSender<LocalCandidate>,
    state: watch::Sender<MediaState>,
    packets: mpsc::Sender<RtpAudio>,
    /// Received packets thrown away because the call's queue was full.
    dropped: Arc<std::sync::atomic::AtomicU64>,
    /// The tasks reading the remote tracks; ended with the connection.
    readers: Readers,
}

/// The tasks reading remote tracks, shared by the connection's handler (which starts them)
/// and the peer (which ends them when it closes).
type Readers = Arc<std::sync::Mutex<tokio::task::JoinSet<()>>>;

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.candidates.send(None);
        }
        let _ = self.gathering.send(state);
    }

    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        match event.candidate.to_json() {
            // The empty candidate marks the end of a generation; gathering state says that.
            Ok(init) if init.candidate.is_empty() => {}
            Ok(init) => {
                let _ = self.candidates.send(Some(crate::proto::Signal::Candidate {
                    candidate: init.candidate,
                    sdp_mid: init.sdp_mid,
                    sdp_mline_index: init.sdp_mline_index,
                }));
            }
            Err(e) => tracing::warn!(error = %e, "cannot describe a local candidate"),
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        tracing::info!(?state, "media connection state");
        let _ = self.state.send(state.into());
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let packets = self.packets.clone();
        let dropped = self.dropped.clone();
        let mut readers = self
            .readers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Reap the readers of tracks that ended.
        while readers.try_join_next().is_some() {}
        readers.spawn(async move {
            // Other events (open, mute, ended on hold) change nothing here: the loop runs
            // until the connection drops the track for good.
            while let Some(event) = track.poll().await {
                let TrackRemoteEvent::OnRtpPacket(p) = event else {
                    continue;
                };
                let audio = RtpAudio {
                    sequence: p.header.sequence_number,
                    timestamp: p.header.timestamp,
                    payload_type: p.header.payload_type,
                    marker: p.header.marker,
                    payload: p.payload,
                    arrived: Instant::now(),
                };
                // Never block the connection's driver; a full queue drops the packet,
                // which concealment then covers (and the statistics count).
                match packets.try_send(audio) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        dropped.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => break,
                }
            }
        });
    }
}

pub struct AudioPeer {
    pc: Arc<dyn PeerConnection>,
    track: Arc<TrackLocalStaticRTP>,
    ssrc: u32,
    /// Audio and telephone-event packets share one sequence and timestamp space.
    sequence: AtomicU16,
    timestamp: AtomicU32,
    event_timestamp: AtomicU32,
    /// The payload types of the last remote description (an answer takes the offer's
    /// numbers, so both sides use these); read again after each new description.
    formats: std::sync::Mutex<Option<Formats>>,
    /// The last Opus frames sent (at most [`MAX_REDUNDANT`]) with their timestamps,
    /// repeated in the next RED packets.
    last_frames: std::sync::Mutex<std::collections::VecDeque<(u32, Bytes)>>,
    gathering: watch::Receiver<RTCIceGatheringState>,
    state: watch::Receiver<MediaState>,
    candidates: std::sync::Mutex<Option<mpsc::UnboundedReceiver<LocalCandidate>>>,
    /// Remote candidates that came before the remote description.
    early_candidates: tokio::sync::Mutex<Vec<RTCIceCandidateInit>>,
    /// Received packets thrown away because the call's queue was full.
    dropped: Arc<std::sync::atomic::AtomicU64>,
    /// The tasks reading the remote tracks.
    readers: Readers,
}

/// The most earlier frames one RED packet repeats.
pub const MAX_REDUNDANT: usize = 2;

/// How quickly a dead path is noticed: consent checks every second, `disconnected` after
/// 3 s without an answer, `failed` after 10 s.
const ICE_DISCONNECTED: Duration = Duration::from_secs(3);
const ICE_FAILED: Duration = Duration::from_secs(10);
const ICE_KEEPALIVE: Duration = Duration::from_secs(1);
/// How long a description waits for gathering before it goes out with what it has.
const HOST_GATHERING: Duration = Duration::from_millis(250);

/// Choices about a peer connection beyond where it binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerOptions {
    /// Offer (and accept) redundant audio (RFC 2198).
    pub redundancy: bool,
    /// Gather only relayed (TURN) candidates, so the other side never learns this
    /// machine's addresses and media always goes through the TURN server.
    pub relay_only: bool,
    /// Resolve the other side's mDNS (`.local`) candidates; off by default, since it needs
    /// a multicast socket.
    pub mdns: bool,
    /// The DSCP media packets are marked with ([`super::dscp`]); Expedited Forwarding by
    /// default, `None` leaves them unmarked.
    pub dscp: Option<u8>,
}

impl Default for PeerOptions {
    fn default() -> Self {
        PeerOptions {
            redundancy: true,
            relay_only: false,
            mdns: false,
            dscp: Some(super::dscp::EXPEDITED_FORWARDING),
        }
    }
}

impl AudioPeer {
    /// A peer bound to `bind` (for example `127.0.0.1:0`); received packets go to the
    /// returned receiver.
    pub async fn new(
        bind: &str,
        ice_servers: &[crate::proto::IceServer],
        outage: Option<&super::net::Outage>,
        options: PeerOptions,
    ) -> Result<(Self, mpsc::Receiver<RtpAudio>), PeerError> {
        let policy = if options.relay_only {
            rtc::peer_connection::configuration::RTCIceTransportPolicy::Relay
        } else {
            rtc::peer_connection::configuration::RTCIceTransportPolicy::All
        };
        let configuration = RTCConfigurationBuilder::default()
            .with_ice_transport_policy(policy)
            .with_ice_servers(
                ice_servers
                    .iter()
                    .map(|s| RTCIceServer {
                        urls: s.urls.clone(),
                        username: s.username.clone().unwrap_or_default(),
                        credential: s.credential.clone().unwrap_or_default(),
                    })
                    .collect(),
            )
            .build();
        let (gathering_tx, gathering) = watch::channel(RTCIceGatheringState::New);
        let (state_tx, state) = watch::channel(MediaState::New);
        let (packets_tx, packets) = mpsc::channel(512);
        let (candidates_tx, candidates) = mpsc::unbounded_channel();
        let dropped = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let readers: Readers = Arc::default();
        // Connectivity checks every 20 ms instead of 200 ms (as many attempts over the same
        // 1.4 s): on a direct path the first successful check decides set-up time (24 ms
        // p50 on loopback at 20 ms, 54 ms at 50 ms; RFC 8445 §14.2 allows pacing down to
        // 5 ms).
        let settings = SettingEngineBuilder::new()
            .with_ice_connection_attempts(Some(Duration::from_millis(20)), Some(70))
            .with_ice_timeouts(
                Some(ICE_DISCONNECTED),
                Some(ICE_FAILED),
                Some(ICE_KEEPALIVE),
            )
            // A restart binds new sockets: the old addresses may be gone with the old path.
            .with_discard_local_candidates_during_ice_restart(true)
            // How long a working pair of each kind waits before it is chosen, in case a
            // better one works too. A peer-reflexive pair is one the other side's own checks
            // showed to work (a browser that trickles its candidates after its description
            // is first known that way): waiting a second for it held set-up up that long.
            .with_host_acceptance_min_wait(Some(Duration::ZERO))
            .with_prflx_acceptance_min_wait(Some(Duration::ZERO))
            .with_srflx_acceptance_min_wait(Some(Duration::from_millis(200)))
            .with_relay_acceptance_min_wait(Some(if options.relay_only {
                Duration::ZERO
            } else {
                Duration::from_secs(1)
            }))
            // mDNS needs a multicast socket, which hosts with only a loopback interface
            // (containers, network namespaces) cannot open; peers' `.local` candidates are
            // then dropped, and their other candidates still connect.
            .with_multicast_dns_mode(if options.mdns {
                rtc::ice::mdns::MulticastDnsMode::QueryOnly
            } else {
                rtc::ice::mdns::MulticastDnsMode::Disabled
            })
            .build();
        let mut builder = PeerConnectionBuilder::new();
        let runtime = super::net::media_runtime(outage.cloned(), options.dscp);
        builder = builder.with_runtime(runtime);
        let pc = builder
            // RTCP sender and receiver reports (RFC 3550): the other side's reports of what
            // it received set this side's bitrate and protection (`super::rate`).
            .with_interceptor_registry(webrtc::peer_connection::configure_rtcp_reports(
                webrtc::peer_connection::Registry::new(),
            ))
            .with_media_engine(media_engine(options.redundancy)?)
            .with_setting_engine(settings)
            .with_configuration(configuration)
            .with_handler(Arc::new(Handler {
                gathering: gathering_tx,
                candidates: candidates_tx,
                state: state_tx,
                packets: packets_tx,
                dropped: dropped.clone(),
                readers: readers.clone(),
            }))
            .with_udp_addrs(vec![bind.to_owned()])
            .build()
            .await
            .map_err(wrtc)?;
        let pc: Arc<dyn PeerConnection> = Arc::new(pc);
        let ssrc = rand::random::<u32>();
        let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
            "parla".to_owned(),
            "parla-audio".to_owned(),
            "parla-audio".to_owned(),
            RtpCodecKind::Audio,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    ssrc: Some(ssrc),
                    ..Default::default()
                },
                codec: opus_codec(),
                ..Default::default()
            }],
        )));
        pc.add_track(Arc::clone(&track) as Arc<dyn TrackLocal>)
            .await
            .map_err(wrtc)?;
        // Offer redundant audio and telephone-event beside Opus (the track itself names
        // Opus only).
        let mut codecs = vec![RTCRtpCodecParameters {
            rtp_codec: opus_codec(),
            payload_type: 111,
        }];
        if options.redundancy {
            codecs.push(red_codec());
        }
        codecs.extend(g711_codecs());
        codecs.push(telephone_event_codec());
        codecs.push(telephone_event_8k_codec());
        for t in pc.get_transceivers().await {
            t.set_codec_preferences(codecs.clone())
                .await
                .map_err(wrtc)?;
        }
        Ok((
            AudioPeer {
                pc,
                track,
                ssrc,
                sequence: AtomicU16::new(rand::random()),
                timestamp: AtomicU32::new(rand::random()),
                event_timestamp: AtomicU32::new(0),
                formats: std::sync::Mutex::new(None),
                last_frames: std::sync::Mutex::default(),
                gathering,
                state,
                candidates: std::sync::Mutex::new(Some(candidates)),
                early_candidates: tokio::sync::Mutex::new(Vec::new()),
                dropped,
                readers,
            },
            packets,
        ))
    }

    /// The local description, once the candidates that come at once (host addresses) are
    /// in it; slower ones (STUN, TURN) are trickled after it.
    async fn local_sdp(&self) -> Result<String, PeerError> {
        let mut g = self.gathering.clone();
        let _ = tokio::time::timeout(
            HOST_GATHERING,
            g.wait_for(|s| *s == RTCIceGatheringState::Complete),
        )
        .await;
        self.pc
            .local_description()
            .await
            .map(|d| d.sdp)
            .ok_or(PeerError::NoDescription)
    }

    /// Local candidates as they are gathered (`None` when a gathering completes); taken
    /// once, to trickle them to the other side.
    pub fn take_candidates(&self) -> Option<mpsc::UnboundedReceiver<LocalCandidate>> {
        self.candidates.lock().ok().and_then(|mut c| c.take())
    }

    /// Creates the offer; returns its SDP (candidates gathered later follow by trickle).
    pub async fn offer(&self) -> Result<String, PeerError> {
        let offer = self.pc.create_offer(None).await.map_err(wrtc)?;
        self.pc.set_local_description(offer).await.map_err(wrtc)?;
        self.local_sdp().await
    }

    /// Takes the remote offer; returns the answer's SDP.
    pub async fn answer(&self, offer_sdp: String) -> Result<String, PeerError> {
        let offer = RTCSessionDescription::offer(offer_sdp).map_err(wrtc)?;
        self.pc.set_remote_description(offer).await.map_err(wrtc)?;
        self.forget_formats();
        self.add_early_candidates().await;
        let answer = self.pc.create_answer(None).await.map_err(wrtc)?;
        self.pc.set_local_description(answer).await.map_err(wrtc)?;
        self.local_sdp().await
    }

    /// Takes the remote answer to our offer.
    pub async fn accept_answer(&self, answer_sdp: String) -> Result<(), PeerError> {
        let answer = RTCSessionDescription::answer(answer_sdp).map_err(wrtc)?;
        self.pc.set_remote_description(answer).await.map_err(wrtc)?;
        self.forget_formats();
        self.add_early_candidates().await;
        Ok(())
    }

    /// A candidate trickled by the other side. One that comes before the other side's
    /// description is kept until it arrives.
    pub async fn add_candidate(
        &self,
        candidate: String,
        sdp_mid: Option<String>,
        sdp_mline_index: Option<u16>,
    ) -> Result<(), PeerError> {
        let init = RTCIceCandidateInit {
            candidate,
            sdp_mid,
            sdp_mline_index,
            ..Default::default()
        };
        let mut early = self.early_candidates.lock().await;
        if self.pc.remote_description().await.is_none() {
            early.push(init);
            return Ok(());
        }
        drop(early);
        self.pc.add_ice_candidate(init).await.map_err(wrtc)
    }

    async fn add_early_candidates(&self) {
        let early = std::mem::take(&mut *self.early_candidates.lock().await);
        for c in early {
            if let Err(e) = self.pc.add_ice_candidate(c).await {
                tracing::warn!(error = %e, "a trickled candidate was refused");
            }
        }
    }

    /// Withdraws an offer of ours that crossed an offer of the other side's (glare).
    pub async fn rollback(&self) -> Result<(), PeerError> {
        let rollback = RTCSessionDescription::rollback(None).map_err(wrtc)?;
        self.pc.set_local_description(rollback).await.map_err(wrtc)
    }

    /// Makes the next offer restart ICE: new credentials, new sockets, new candidates.
    pub async fn restart_ice(&self) -> Result<(), PeerError> {
        self.pc.restart_ice().await.map_err(wrtc)
    }

    /// Media connection state changes.
    pub fn state(&self) -> watch::Receiver<MediaState> {
        self.state.clone()
    }

    /// The payload types in use, from the other side's last description.
    pub async fn formats(&self) -> Formats {
        if let Some(f) = *self.formats.lock().unwrap_or_else(PoisonError::into_inner) {
            return f;
        }
        let Some(sdp) = self.pc.remote_description().await.map(|d| d.sdp) else {
            return Formats::default();
        };
        let f = Formats::of(&sdp);
        *self.formats.lock().unwrap_or_else(PoisonError::into_inner) = Some(f);
        f
    }

    /// A new remote description may renumber the formats.
    fn forget_formats(&self) {
        *self.formats.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// The payload type both sides use for Opus.
    pub async fn negotiated_payload_type(&self) -> Result<u8, PeerError> {
        self.formats()
            .await
            .opus
            .ok_or_else(|| PeerError::WebRtc("Opus was not negotiated".into()))
    }

    /// The telephone-event payload types in the other side's description (at 48 and
    /// 8 kHz), as far as it offers or accepts them.
    pub async fn event_payload_types(&self) -> EventTypes {
        self.formats().await.events
    }

    /// Whether digits can go out as telephone-events.
    pub async fn takes_events(&self) -> bool {
        self.event_payload_types().await.sending().is_some()
    }

    /// The codec audio goes out with, as the last descriptions settled it.
    pub async fn send_codec(&self) -> Result<crate::media::coding::CallCodec, PeerError> {
        self.formats()
            .await
            .codec()
            .ok_or_else(|| PeerError::WebRtc("no audio codec was negotiated".into()))
    }

    /// The payload type of `red/48000/2` when the other side's description has it: audio
    /// then goes out with the previous frame repeated (RFC 2198).
    pub async fn red_payload_type(&self) -> Option<u8> {
        self.formats().await.red
    }

    /// Received packets thrown away so far because the call did not take them in time.
    pub fn packets_dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Takes the next 20 ms of the RTP clock (`units` of it: 960 at 48 kHz, 160 at 8).
    fn claim_timestamp(&self, units: u32) -> u32 {
        self.timestamp.fetch_add(units, Ordering::Relaxed)
    }

    async fn write(
        &self,
        payload_type: u8,
        marker: bool,
        timestamp: u32,
        payload: Bytes,
    ) -> Result<(), PeerError> {
        let packet = rtc::rtp::Packet {
            header: rtc::rtp::Header {
                version: 2,
                marker,
                payload_type,
                sequence_number: self.sequence.fetch_add(1, Ordering::Relaxed),
                timestamp,
                ssrc: self.ssrc,
                ..Default::default()
            },
            payload,
        };
        self.track.write_rtp(packet).await.map_err(wrtc)
    }

    /// Sends one encoded 20 ms frame of `codec`: an Opus frame with the `redundant` frames
    /// before it (RFC 2198; 0, 1 or 2) when the other side takes RED. Returns the payload
    /// bytes sent.
    pub async fn send_audio(
        &self,
        codec: crate::media::coding::CallCodec,
        frame: &[u8],
        redundant: u8,
    ) -> Result<usize, PeerError> {
        let formats = self.formats().await;
        let pt = formats
            .pt_of(codec)
            .ok_or_else(|| PeerError::WebRtc(format!("{} was not negotiated", codec.name())))?;
        let ts = self.claim_timestamp(codec.frame_units());
        let frame = Bytes::copy_from_slice(frame);
        let red = formats
            .red
            .filter(|_| redundant > 0 && codec == crate::media::coding::CallCodec::Opus);
        // The frames sent last, newest last, are kept whenever the other side takes RED:
        // redundancy may come (back) on at any frame.
        let payload = match self.last_frames.lock() {
            Ok(mut last) if formats.red.is_some() => {
                let payload = red.map(|_| {
                    let skip = last.len().saturating_sub(usize::from(redundant));
                    let blocks = last
                        .iter()
                        .skip(skip)
                        .map(|(prev_ts, data)| (ts.wrapping_sub(*prev_ts), &data[..]));
                    super::red::encode(pt, blocks, &frame)
                });
                if last.len() == MAX_REDUNDANT {
                    last.pop_front();
                }
                last.push_back((ts, frame.clone()));
                payload
            }
            _ => None,
        };
        let (Some(red), Some(payload)) = (red, payload) else {
            let n = frame.len();
            self.write(pt, false, ts, frame).await?;
            return Ok(n);
        };
        let n = payload.len();
        self.write(red, false, ts, Bytes::from(payload)).await?;
        Ok(n)
    }

    /// Sends one telephone-event packet in place of 20 ms of audio (RFC 4733). Every packet
    /// of one event carries the timestamp of its first.
    /// At 8 kHz the duration is counted in that clock's units; the timestamp stays the
    /// stream's own.
    pub async fn send_event(&self, mut payload: [u8; 4], first: bool) -> Result<(), PeerError> {
        let formats = self.formats().await;
        let codec = formats
            .codec()
            .unwrap_or(crate::media::coding::CallCodec::Opus);
        let (pt, rate) = formats
            .events
            .sending_at(codec.clock_rate())
            .ok_or_else(|| PeerError::WebRtc("telephone-event was not negotiated".into()))?;
        if rate != 48_000 {
            let duration = u32::from(u16::from_be_bytes([payload[2], payload[3]])) * rate / 48_000;
            let duration = u16::try_from(duration).unwrap_or(u16::MAX).to_be_bytes();
            payload[2..4].copy_from_slice(&duration);
        }
        let ts = self.claim_timestamp(codec.frame_units());
        if first {
            self.event_timestamp.store(ts, Ordering::Relaxed);
        }
        let event_ts = self.event_timestamp.load(Ordering::Relaxed);
        self.write(pt, first, event_ts, Bytes::copy_from_slice(&payload))
            .await
    }

    /// Puts the audio on hold (direction `sendonly`, the usual way to hold a call, to which
    /// the other side answers `recvonly`) or back (`sendrecv`); the caller then renegotiates
    /// with [`AudioPeer::offer`]. The held side's audio loops send and play nothing.
    pub async fn set_direction(&self, hold: bool) -> Result<(), PeerError> {
        use webrtc::rtp_transceiver::RTCRtpTransceiverDirection as Dir;
        let dir = if hold { Dir::Sendonly } else { Dir::Sendrecv };
        for t in self.pc.get_transceivers().await {
            t.set_direction(dir).await.map_err(wrtc)?;
        }
        Ok(())
    }

    /// The other side's latest receiver report on this side's audio: how many reports have
    /// come so far and the fraction (0 to 1) of packets lost in the interval it covers.
    pub async fn remote_report(&self) -> Option<(u64, f64)> {
        let report = self
            .pc
            .get_stats(Instant::now(), webrtc::peer_connection::StatsSelector::None)
            .await;
        let found = report.iter().find_map(|e| match e {
            rtc::statistics::report::RTCStatsReportEntry::RemoteInboundRtp(r) => {
                Some((r.round_trip_time_measurements, r.fraction_lost))
            }
            _ => None,
        });
        found
    }

    /// Round-trip time of the selected candidate pair, from ICE consent checks.
    pub async fn rtt_ms(&self) -> Option<f64> {
        self.transport().await.rtt_ms
    }

    /// The candidate pair ICE selected, through the audio sender's transport.
    async fn selected_pair(&self) -> Option<rtc::peer_connection::transport::RTCIceCandidatePair> {
        let sender = self.pc.get_senders().await.into_iter().next()?;
        let dtls = sender.transport().await.ok()??;
        dtls.ice_transport()
            .get_selected_candidate_pair()
            .await
            .ok()?
    }

    /// The media path as ICE found it: the round trip, the candidate pair in use, and the
    /// local candidates gathered by type.
    pub async fn transport(&self) -> super::stats::Transport {
        use rtc::peer_connection::transport::RTCIceCandidateType::Relay;
        use webrtc::peer_connection::RTCStatsReportEntry as Entry;
        let report = self
            .pc
            .get_stats(Instant::now(), webrtc::peer_connection::StatsSelector::None)
            .await;
        let rtt_ms = report
            .candidate_pairs()
            .filter(|p| p.nominated && p.current_round_trip_time > 0.0)
            .map(|p| p.current_round_trip_time * 1000.0)
            .next();
        let route = self.selected_pair().await.map(|p| {
            let end =
                |c: &rtc::peer_connection::transport::RTCIceCandidate| super::stats::Candidate {
                    kind: c.typ.to_string(),
                    address: format!("{}:{}", c.address, c.port),
                    protocol: c.protocol.to_string(),
                    relay_protocol: None,
                };
            let mut local = end(p.local());
            // How the TURN server behind a relayed local candidate is reached: the URL it
            // was gathered from says (the statistics' own `relay_protocol` is always UDP).
            if p.local().typ == Relay {
                let url = report.iter().find_map(|entry| match entry {
                    Entry::LocalCandidate(c)
                        if c.address.as_deref() == Some(p.local().address.as_str())
                            && c.port == p.local().port =>
                    {
                        Some(c.url.clone())
                    }
                    _ => None,
                });
                local.relay_protocol = Some(
                    if url.is_some_and(|u| u.contains("transport=tcp")) {
                        "tcp"
                    } else {
                        "udp"
                    }
                    .to_owned(),
                );
            }
            super::stats::Route {
                local,
                remote: end(p.remote()),
            }
        });
        let mut gathered = std::collections::BTreeMap::new();
        for entry in report.iter() {
            if let Entry::LocalCandidate(c) = entry {
                *gathered.entry(c.candidate_type.to_string()).or_insert(0u32) += 1;
            }
        }
        super::stats::Transport {
            rtt_ms,
            route,
            gathered,
        }
    }

    pub async fn close(&self) {
        let _ = self.pc.close().await;
        self.readers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .abort_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_state_names_are_their_json_names() {
        for s in [
            MediaState::New,
            MediaState::Checking,
            MediaState::Connected,
            MediaState::Disconnected,
            MediaState::Failed,
            MediaState::Closed,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }
}
