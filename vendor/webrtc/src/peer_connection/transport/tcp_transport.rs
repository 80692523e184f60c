use crate::peer_connection::driver::PeerConnectionDriverEvent;
use crate::peer_connection::transport::{TcpReadResult, is_retryable_socket_recv_error};
use crate::runtime::{AsyncTcpListener, AsyncTcpStream, Runtime, Sender};
use bytes::BytesMut;
use futures::FutureExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use log::{error, trace};
use rtc::ice::candidate::Candidate;
use rtc::peer_connection::transport::{
    CandidateConfig, CandidateHostConfig, RTCIceCandidate, RTCIceCandidateInit,
};
use rtc::shared::FourTuple;
use rtc::shared::error::Result;
use rtc::shared::tcp_framing::{TcpFrameDecoder, frame_packet};
use rtc::shared::{TaggedBytesMut, TransportContext, TransportProtocol};
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

const TCP_READ_BUF_LEN: usize = 4096;

pub(crate) type TcpAcceptResult = (
    SocketAddr,
    io::Result<(Arc<dyn AsyncTcpStream>, SocketAddr)>,
);

/// How the packets on one TCP stream are delimited.
enum Framing {
    /// ICE over TCP: each packet behind a 2-byte length (RFC 4571).
    Ice(TcpFrameDecoder),
    /// parla patch: a connection to a TURN server (RFC 8656 §12.5): STUN messages and
    /// ChannelData back to back, each delimited by its own header.
    Turn(TurnFrameDecoder),
}

/// parla patch: splits the byte stream of a TURN-over-TCP connection into STUN messages and
/// ChannelData messages. A STUN message is its 20-byte header plus the length in it; a
/// ChannelData message is its 4-byte header plus its length padded to a multiple of four,
/// as it must be over TCP. Anything else on the stream is a protocol error.
#[derive(Default)]
pub(crate) struct TurnFrameDecoder {
    buf: BytesMut,
}

/// The stream carries something that is neither STUN nor ChannelData.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct NotTurn;

impl TurnFrameDecoder {
    pub(crate) fn extend_from_slice(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole message, `None` until one has arrived in full.
    pub(crate) fn next_packet(&mut self) -> std::result::Result<Option<BytesMut>, NotTurn> {
        if self.buf.len() < 4 {
            return Ok(None);
        }
        let len = usize::from(u16::from_be_bytes([self.buf[2], self.buf[3]]));
        let total = match self.buf[0] >> 6 {
            0b00 => 20 + len,
            0b01 => 4 + len.div_ceil(4) * 4,
            _ => return Err(NotTurn),
        };
        if self.buf.len() < total {
            return Ok(None);
        }
        Ok(Some(self.buf.split_to(total)))
    }
}

pub(crate) struct RTCTcpTransport {
    listeners: HashMap<SocketAddr, Arc<dyn AsyncTcpListener>>,
    streams: HashMap<FourTuple, Arc<dyn AsyncTcpStream>>,
    decoders: HashMap<FourTuple, Framing>,
    pub(crate) accept_futures: FuturesUnordered<BoxFuture<'static, TcpAcceptResult>>,
    pub(crate) read_futures: FuturesUnordered<BoxFuture<'static, TcpReadResult>>,
}

impl RTCTcpTransport {
    pub(crate) fn new(tcp_listeners: HashMap<SocketAddr, Arc<dyn AsyncTcpListener>>) -> Self {
        let accept_futures = FuturesUnordered::new();
        for (local_addr, listener) in &tcp_listeners {
            let local_addr = *local_addr;
            let listener = listener.clone();
            accept_futures.push(
                async move {
                    match listener.accept().await {
                        Ok((stream, peer_addr)) => (local_addr, Ok((stream, peer_addr))),
                        Err(err) => (local_addr, Err(err)),
                    }
                }
                .boxed(),
            );
        }

        Self {
            listeners: tcp_listeners,
            streams: HashMap::new(),
            decoders: HashMap::new(),
            accept_futures,
            read_futures: FuturesUnordered::new(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.listeners.is_empty()
    }

    pub(crate) fn listener_count(&self) -> usize {
        self.listeners.len()
    }

    pub(crate) fn has_stream_for(&self, four_tuple: &FourTuple) -> bool {
        self.streams.contains_key(four_tuple)
    }

    fn find_stream(&self, four_tuple: &FourTuple) -> Option<Arc<dyn AsyncTcpStream>> {
        self.streams.get(four_tuple).cloned().or_else(|| {
            self.streams
                .values()
                .find(|stream| {
                    stream
                        .peer_addr()
                        .is_ok_and(|peer| peer == four_tuple.peer_addr)
                })
                .cloned()
        })
    }

    fn remove_stream(&mut self, four_tuple: &FourTuple) {
        self.streams.remove(four_tuple);
        self.decoders.remove(four_tuple);
    }

    pub(crate) fn write<'a>(
        &self,
        msg: &'a TaggedBytesMut,
    ) -> Pin<Box<dyn Future<Output = Result<usize>> + Send + 'a>> {
        let four_tuple = FourTuple::from(&msg.transport);
        let Some(stream) = self.find_stream(&four_tuple) else {
            trace!("No TCP stream found for {:?}", four_tuple);
            return Box::pin(async { Ok(0) });
        };

        let turn = matches!(self.decoders.get(&four_tuple), Some(Framing::Turn(_)));
        let framed = if turn {
            // parla patch: a TURN message delimits itself.
            msg.message.to_vec()
        } else {
            frame_packet(&msg.message)
        };
        let len = msg.message.len();
        Box::pin(async move {
            stream.write_all(&framed).await?;
            Ok(len)
        })
    }

    fn arm_accept(&mut self, local_addr: SocketAddr) {
        if let Some(listener) = self.listeners.get(&local_addr).cloned() {
            self.accept_futures.push(
                async move {
                    match listener.accept().await {
                        Ok((stream, peer_addr)) => (local_addr, Ok((stream, peer_addr))),
                        Err(err) => (local_addr, Err(err)),
                    }
                }
                .boxed(),
            );
        }
    }

    fn arm_read(&mut self, four_tuple: FourTuple, stream: Arc<dyn AsyncTcpStream>) {
        self.read_futures.push(
            async move {
                let mut buf = vec![0u8; TCP_READ_BUF_LEN];
                match stream.read(&mut buf).await {
                    Ok(n) => TcpReadResult::Packet { four_tuple, n, buf },
                    Err(err) => TcpReadResult::Error {
                        four_tuple,
                        err,
                        buf,
                    },
                }
            }
            .boxed(),
        );
    }

    pub(crate) fn register_stream(
        &mut self,
        four_tuple: FourTuple,
        stream: Arc<dyn AsyncTcpStream>,
    ) {
        self.streams.insert(four_tuple, stream.clone());
        self.decoders
            .insert(four_tuple, Framing::Ice(TcpFrameDecoder::new()));
        self.arm_read(four_tuple, stream);
    }

    /// parla patch: a connection to a TURN server, framed as TURN frames it.
    pub(crate) fn register_turn_stream(
        &mut self,
        four_tuple: FourTuple,
        stream: Arc<dyn AsyncTcpStream>,
    ) {
        self.streams.insert(four_tuple, stream.clone());
        self.decoders
            .insert(four_tuple, Framing::Turn(TurnFrameDecoder::default()));
        self.arm_read(four_tuple, stream);
    }

    pub(crate) fn on_accept(
        &mut self,
        local_addr: SocketAddr,
        res: io::Result<(Arc<dyn AsyncTcpStream>, SocketAddr)>,
    ) -> Option<FourTuple> {
        let accepted = match res {
            Ok((stream, peer_addr)) => Some((stream, peer_addr)),
            Err(err) => {
                error!("TCP accept error: {}", err);
                None
            }
        };

        self.arm_accept(local_addr);

        let (stream, peer_addr) = accepted?;

        let stream_local_addr = stream.local_addr().unwrap_or(local_addr);
        let four_tuple = FourTuple {
            local_addr: stream_local_addr,
            peer_addr,
        };
        trace!(
            "Accepted TCP stream on {} from {}",
            stream_local_addr, peer_addr
        );
        self.register_stream(four_tuple, stream);
        Some(four_tuple)
    }

    /// `now` is when these bytes were observed; the caller supplies it so the packets carry the
    /// driver's clock rather than the wall clock.
    pub(crate) fn on_read(&mut self, now: Instant, res: TcpReadResult) -> Vec<TaggedBytesMut> {
        let mut out = Vec::new();
        match res {
            TcpReadResult::Packet { four_tuple, n, buf } => {
                if n == 0 {
                    trace!("TCP connection EOF for {:?}", four_tuple);
                    self.remove_stream(&four_tuple);
                } else {
                    let tagged = |message: BytesMut| TaggedBytesMut {
                        now,
                        transport: TransportContext {
                            local_addr: four_tuple.local_addr,
                            peer_addr: four_tuple.peer_addr,
                            ecn: None,
                            transport_protocol: TransportProtocol::TCP,
                        },
                        message,
                    };
                    let mut broken = false;
                    match self.decoders.get_mut(&four_tuple) {
                        Some(Framing::Ice(decoder)) => {
                            decoder.extend_from_slice(&buf[..n]);
                            while let Some(packet) = decoder.next_packet() {
                                out.push(tagged(BytesMut::from(&packet[..])));
                            }
                        }
                        Some(Framing::Turn(decoder)) => {
                            decoder.extend_from_slice(&buf[..n]);
                            loop {
                                match decoder.next_packet() {
                                    Ok(Some(packet)) => out.push(tagged(packet)),
                                    Ok(None) => break,
                                    Err(NotTurn) => {
                                        error!(
                                            "TURN server {} sent something that is not TURN",
                                            four_tuple.peer_addr
                                        );
                                        broken = true;
                                        break;
                                    }
                                }
                            }
                        }
                        None => {}
                    }
                    if broken {
                        self.remove_stream(&four_tuple);
                    } else if let Some(stream) = self.streams.get(&four_tuple).cloned() {
                        self.arm_read(four_tuple, stream);
                    }
                }
            }
            TcpReadResult::Error {
                four_tuple,
                err,
                buf: _,
            } => {
                if is_retryable_socket_recv_error(&err) {
                    trace!("Transient TCP read error on {:?}: {}", four_tuple, err);
                    if let Some(stream) = self.streams.get(&four_tuple).cloned() {
                        self.arm_read(four_tuple, stream);
                    }
                } else {
                    error!("TCP read error on {:?}: {}", four_tuple, err);
                    self.remove_stream(&four_tuple);
                }
            }
        }
        out
    }

    pub(crate) fn gather_candidates(&self) -> Vec<RTCIceCandidateInit> {
        let mut candidates = Vec::new();
        for local_addr in self.listeners.keys() {
            // Gather passive TCP candidate
            let passive_config = CandidateHostConfig {
                base_config: CandidateConfig {
                    network: "tcp".to_owned(),
                    address: local_addr.ip().to_string(),
                    port: local_addr.port(),
                    component: 1,
                    ..Default::default()
                },
                tcp_type: rtc::ice::tcp_type::TcpType::Passive,
            };
            if let Ok(candidate) = passive_config.new_candidate_host()
                && let Ok(candidate_init) = RTCIceCandidate::from(&candidate).to_json()
            {
                candidates.push(candidate_init);
            }

            // Gather active TCP candidate
            let active_config = CandidateHostConfig {
                base_config: CandidateConfig {
                    network: "tcp".to_owned(),
                    address: local_addr.ip().to_string(),
                    port: 9, // Discard port placeholder for active candidates
                    component: 1,
                    ..Default::default()
                },
                tcp_type: rtc::ice::tcp_type::TcpType::Active,
            };
            if let Ok(candidate) = active_config.new_candidate_host()
                && let Ok(candidate_init) = RTCIceCandidate::from(&candidate).to_json()
            {
                candidates.push(candidate_init);
            }
        }
        candidates
    }

    pub(crate) fn connect(
        candidate: &Candidate,
        runtime: Arc<dyn Runtime>,
        tx: Sender<PeerConnectionDriverEvent>,
    ) {
        if candidate.network_type().is_tcp()
            && candidate.tcp_type() == rtc::ice::tcp_type::TcpType::Passive
            && let Ok(ip) = candidate.address().parse::<IpAddr>()
        {
            let remote_addr = SocketAddr::new(ip, candidate.port());
            let runtime_clone = runtime.clone();
            runtime.spawn(Box::pin(async move {
                trace!("Initiating TCP connect to {:?}", remote_addr);
                match runtime_clone.connect_tcp(remote_addr).await {
                    Ok(stream) => {
                        let local_addr = stream
                            .local_addr()
                            .unwrap_or_else(|_| "0.0.0.0:0".parse().unwrap());
                        let peer_addr = stream.peer_addr().unwrap_or(remote_addr);
                        let four_tuple = FourTuple {
                            local_addr,
                            peer_addr,
                        };
                        // overflow: detached — this is a per-candidate task spawned by
                        // `connect`, whose only remaining job is to hand the stream over. A
                        // full channel parks this task alone; the driver is unaffected.
                        let _ = tx
                            .send(PeerConnectionDriverEvent::IncomingTcpStream(
                                four_tuple, stream,
                            ))
                            .await;
                    }
                    Err(err) => {
                        error!("Failed to connect TCP to {:?}: {}", remote_addr, err);
                    }
                }
            }));
        }
    }
}

#[cfg(test)]
mod turn_framing_tests {
    use super::*;

    #[test]
    fn stun_and_padded_channel_data_split_wherever_the_reads_end() {
        // A STUN message with 8 bytes of attributes, then ChannelData of 5 bytes padded to 8.
        let mut stun = vec![0x01, 0x01, 0x00, 0x08];
        stun.extend_from_slice(&[0x21, 0x12, 0xa4, 0x42]);
        stun.extend_from_slice(&[7u8; 12]);
        stun.extend_from_slice(&[9u8; 8]);
        let chan = vec![0x40, 0x00, 0x00, 0x05, 1, 2, 3, 4, 5, 0, 0, 0];
        let stream = [stun.clone(), chan.clone()].concat();
        for cut in 0..stream.len() {
            let mut d = TurnFrameDecoder::default();
            let mut got = Vec::new();
            for part in [&stream[..cut], &stream[cut..]] {
                d.extend_from_slice(part);
                while let Some(p) = d.next_packet().unwrap() {
                    got.push(p.to_vec());
                }
            }
            assert_eq!(got, vec![stun.clone(), chan.clone()], "cut {cut}");
        }
    }

    #[test]
    fn bytes_that_are_not_turn_are_refused() {
        let mut d = TurnFrameDecoder::default();
        d.extend_from_slice(&[0x80, 0, 0, 4, 1, 2, 3, 4]);
        assert_eq!(d.next_packet(), Err(NotTurn));
    }
}
