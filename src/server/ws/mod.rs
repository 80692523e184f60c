//! One WebSocket per device: authentication at upgrade, the frame loop, token expiry.
//!
//! What keeps one connection from hurting the server or the others:
//! - every write has a deadline ([`SEND_TIMEOUT`]): a client that stops reading is closed
//!   and its memory released, instead of holding a task and its buffers for ever;
//! - a `resume` replay is streamed page by page through a short queue, so it costs a few
//!   pages of memory however long the history, and only one runs per connection;
//! - messages, dials and signals are rate limited ([`super::limits`]) and answered
//!   `rate_limited` over their limit; frames of any kind over the connection's frame rate
//!   are read more slowly (the client's socket holds them), never refused;
//! - messages are stored in the background, several in flight per connection (their
//!   acks in order), so a sender's throughput is not one disk sync per message;
//! - presence subscriptions are capped ([`MAX_PRESENCE_SUBSCRIPTIONS`]);
//! - frames that break the WebSocket rules are answered with their close code (1009 too
//!   big, 1007 bad UTF-8, 1002 protocol error) before the socket is closed.

mod calls;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message as WsMessage, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use std::future::Future;
use std::pin::Pin;

use futures_util::stream::{FuturesOrdered, SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::auth::LinkClaim;
use super::error::AppError;
use super::hub::{close_code, encode, ConnId};
use super::limits::Bucket;
use super::listen::ClientIp;
use super::ops::{
    authenticate, authenticate_any, bearer, link_restricted, mark_read, message_outcome,
    submit_message, validate_user_id,
};
use super::store::Anchor;
use super::AppState;
use crate::proto::{
    frame_req_id, parse_client_frame, ApiError, ClientFrame, Direction, ErrorCode, SendMessage,
    ServerFrame, MAX_FRAME_BYTES, PROTOCOL_VERSION,
};

#[derive(Deserialize, Default)]
struct WsQuery {
    access_token: Option<String>,
    /// Stable id of the device, chosen by the client (a fresh one when absent).
    device_id: Option<String>,
    /// Human-readable device name shown in presence.
    device_name: Option<String>,
}

/// A connection that sends nothing for this long is presumed dead (clients ping every
/// 10 s), so presence does not show a vanished device as online. (`ServerConfig::
/// idle_timeout` changes it.)
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// A frame the socket cannot take within this time closes the connection: the client has
/// stopped reading (or its network has).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a close frame may take before the socket is dropped without one.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);
/// Messages read from the store at a time during a replay.
pub const REPLAY_PAGE: u32 = 100;
/// Replay frames read ahead of the socket.
const REPLAY_QUEUE: usize = 32;
/// Messages of one connection being stored at once; past that, its frames wait unread.
const MAX_IN_FLIGHT: usize = 64;

/// Acks of messages being stored, in the order they were sent.
type InFlight = FuturesOrdered<Pin<Box<dyn Future<Output = ServerFrame> + Send>>>;

/// `GET /v1/ws`: authenticates before upgrading, so a bad token gets an HTTP error with its
/// code instead of a socket that closes at once.
pub async fn upgrade(
    State(state): State<Arc<AppState>>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    ws: WebSocketUpgrade,
) -> Response {
    let q: WsQuery = match serde_urlencoded::from_str(query.as_deref().unwrap_or("")) {
        Ok(q) => q,
        Err(e) => {
            return AppError(ApiError::new(
                ErrorCode::ValidationError,
                format!("invalid query: {e}"),
            ))
            .into_response()
        }
    };
    let token = bearer(&headers).or(q.access_token.as_deref());
    let auth = match authenticate_any(&state, token).await.and_then(|a| {
        state
            .hub
            .may_connect(&a.user_id, a.link.is_some())
            .map(|()| a)
    }) {
        Ok(a) => a,
        Err(e) => {
            tracing::info!(client = ?client, code = %e.code, "websocket refused");
            return AppError(e).into_response();
        }
    };
    let device_id = match q.device_id {
        Some(id) => {
            if let Err(e) = validate_user_id(&id) {
                return AppError(ApiError::new(
                    ErrorCode::ValidationError,
                    format!("device_id: {}", e.message),
                ))
                .into_response();
            }
            id
        }
        None => format!("dev_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
    };
    let device_name: String = q
        .device_name
        .unwrap_or_else(|| "unnamed".into())
        .chars()
        .filter(|c| !c.is_control())
        .take(64)
        .collect();
    // Counted from here, so a shutdown waits for this socket's close frame.
    let guard = state.sockets.enter();
    ws.max_message_size(MAX_FRAME_BYTES)
        // Small buffers: an idle connection should cost kilobytes, not the 128 KiB default.
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| async move {
            tracing::debug!(client = ?client, user = %auth.user_id, "websocket open");
            let now = Instant::now();
            let limits = state.rates.limits.clone();
            let conn = Connection {
                state,
                user_id: auth.user_id,
                device_id,
                expires_at: auth.expires_at,
                link: auth.link,
                warned: false,
                frames: Bucket::new(limits.frames, now),
                signals: Bucket::new(limits.signals, now),
            };
            conn.run(socket, device_name).await;
            drop(guard);
        })
}

struct Connection {
    state: Arc<AppState>,
    user_id: String,
    device_id: String,
    expires_at: DateTime<Utc>,
    /// A session connected by access link: what it is restricted to.
    link: Option<LinkClaim>,
    warned: bool,
    /// Every frame the client sends: read only when it has a token.
    frames: Bucket,
    /// `call_signal` frames.
    signals: Bucket,
}

/// What the loop does after a turn.
type Closing = Option<(u16, &'static str)>;

/// The writing half, where every send has a deadline.
struct Writer {
    sink: SplitSink<WebSocket, WsMessage>,
}

#[derive(Debug, PartialEq, Eq)]
enum SendFailed {
    /// The socket is gone (reset, closed).
    Gone,
    /// The client did not take the frame within [`SEND_TIMEOUT`].
    Stalled,
}

impl Writer {
    async fn text(&mut self, text: Utf8Bytes) -> Result<(), SendFailed> {
        match tokio::time::timeout(SEND_TIMEOUT, self.sink.send(WsMessage::Text(text))).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(SendFailed::Gone),
            Err(_) => Err(SendFailed::Stalled),
        }
    }

    async fn frame(&mut self, frame: &ServerFrame) -> Result<(), SendFailed> {
        self.text(encode(frame)).await
    }

    /// Sends a close frame if the socket still takes one, then reads and drops what the
    /// client still sends until its own close frame, the end of the stream, or
    /// [`CLOSE_TIMEOUT`]. Closing with unread data would make the kernel reset the
    /// connection, and a reset makes the client drop the close frame unread.
    async fn close(mut self, mut stream: SplitStream<WebSocket>, code: u16, reason: &'static str) {
        let frame = WsMessage::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }));
        if !matches!(
            tokio::time::timeout(CLOSE_TIMEOUT, self.sink.send(frame)).await,
            Ok(Ok(()))
        ) {
            return;
        }
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
            while let Some(Ok(msg)) = stream.next().await {
                if matches!(msg, WsMessage::Close(_)) {
                    break;
                }
            }
        })
        .await;
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, self.sink.close()).await;
    }
}

/// The hub dropped this connection: flushes what it queued (a final `force_disconnect`,
/// say) unless the client was too slow for what was queued in the first place; the close
/// the hub asked for.
async fn close_kicked(
    writer: &mut Writer,
    rx: &mut mpsc::Receiver<Utf8Bytes>,
    kicked: &super::hub::Kicked,
) -> (u16, &'static str) {
    let close = kicked
        .close()
        .unwrap_or((close_code::GOING_AWAY, "disconnected"));
    if close.0 != close_code::TOO_SLOW {
        while let Ok(text) = rx.try_recv() {
            if writer.text(text).await.is_err() {
                break;
            }
        }
    }
    close
}

/// The close for a frame the WebSocket layer refused while reading, if it has one.
fn close_for_read_error(e: axum::Error) -> Closing {
    use tokio_tungstenite::tungstenite::Error as WsError;
    let inner = e.into_inner();
    match inner.downcast_ref::<WsError>() {
        Some(WsError::Capacity(_)) => Some((close_code::MESSAGE_TOO_BIG, "frame too large")),
        Some(WsError::Utf8(_)) => Some((close_code::INVALID_PAYLOAD, "invalid UTF-8")),
        Some(WsError::Protocol(_)) => Some((close_code::PROTOCOL_ERROR, "protocol error")),
        other => {
            tracing::debug!(error = ?other, "websocket read failed");
            None
        }
    }
}

/// A `resume` replay in progress: a task reads the store a page at a time and queues
/// encoded frames, waiting while the queue is full (the socket's pace sets the store's).
struct Replay {
    rx: mpsc::Receiver<Utf8Bytes>,
    task: JoinHandle<()>,
}

impl Drop for Replay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The next frame of the replay, or `None` when it is over; pends when there is none.
async fn next_replayed(replay: &mut Option<Replay>) -> Option<Utf8Bytes> {
    match replay {
        Some(r) => r.rx.recv().await,
        None => std::future::pending().await,
    }
}

/// What woke the connection's loop.
enum Turn {
    /// A frame the hub queued for this device (`None`: the hub let go of it).
    Queued(Option<Utf8Bytes>),
    /// A frame of the replay (`None`: the replay is over).
    Replayed(Option<Utf8Bytes>),
    /// A stored message's ack.
    Stored(Box<ServerFrame>),
    /// The frame rate allows reading again.
    Readable,
    /// Nothing heard for the idle timeout.
    Idle,
    Read(Option<Result<WsMessage, axum::Error>>),
    /// Time to warn that the token is about to expire.
    Warn,
    Expired,
    Kicked,
}

/// How the loop goes on after a turn.
enum Flow {
    Go,
    Close((u16, &'static str)),
    /// The socket is gone: no close frame.
    Gone,
}

/// The connection's moving parts besides its rules: the socket's writing half, what is
/// queued for it, and what is being stored or replayed.
struct Link {
    writer: Writer,
    rx: mpsc::Receiver<Utf8Bytes>,
    replay: Option<Replay>,
    in_flight: InFlight,
    last_heard: Instant,
    conn_id: ConnId,
}

impl Connection {
    async fn run(mut self, socket: WebSocket, device_name: String) {
        let device_id = self.device_id.clone();
        let (sink, mut stream) = socket.split();
        // Register before reading the cursors for `ready`, so no message can fall between
        // the two: anything stored afterwards is queued in the outbox behind `ready`.
        let scope = self.link.as_ref().map(|l| crate::server::hub::LinkScope {
            room_id: l.room_id.clone(),
            channel_id: l.channel_id.clone(),
        });
        let registered =
            self.state
                .hub
                .register_session(&self.user_id, &device_id, &device_name, scope);
        // The call of a link session may have ended since the token was checked.
        let registered = registered.and_then(|reg| match &self.link {
            Some(l) => {
                let valid = self
                    .state
                    .calls
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .link_by_id(&l.room_id, &l.link_id);
                match valid {
                    Ok(_) => Ok(reg),
                    Err(e) => {
                        self.state.hub.unregister(reg.conn_id);
                        Err(e)
                    }
                }
            }
            None => Ok(reg),
        });
        let reg = match registered {
            Ok(reg) => reg,
            Err(e) => {
                let mut writer = Writer { sink };
                let _ = writer.frame(&ServerFrame::error(None, e)).await;
                writer
                    .close(stream, close_code::FORCE_DISCONNECT, "refused")
                    .await;
                return;
            }
        };
        let mut link = Link {
            writer: Writer { sink },
            rx: reg.rx,
            replay: None,
            in_flight: FuturesOrdered::new(),
            last_heard: Instant::now(),
            conn_id: reg.conn_id,
        };
        let mut closing: Closing = match link.writer.frame(&self.ready().await).await {
            Ok(()) => {
                self.restore_calls();
                None
            }
            Err(_) => Some((close_code::TOO_SLOW, "too slow")),
        };
        while closing.is_none() {
            // Dropped by the hub while busy writing (a slow client, most likely): close
            // now rather than write on what is queued.
            if reg.kicked.close().is_some() {
                closing = Some(close_kicked(&mut link.writer, &mut link.rx, &reg.kicked).await);
                break;
            }
            let turn = self.next_turn(&mut link, &mut stream, &reg.kicked).await;
            let turn = match turn {
                Turn::Kicked => {
                    Flow::Close(close_kicked(&mut link.writer, &mut link.rx, &reg.kicked).await)
                }
                turn => self.on_turn(turn, &mut link).await,
            };
            match turn {
                Flow::Go => {}
                Flow::Close(close) => closing = Some(close),
                Flow::Gone => break,
            }
        }
        // Stop reading the store for a client that is leaving.
        drop(link.replay.take());
        self.state.hub.unregister(link.conn_id);
        if let Some((code, reason)) = closing {
            link.writer.close(stream, code, reason).await;
        }
        let (user, device) = (self.user_id.clone(), self.device_id.clone());
        let _ = self
            .state
            .with_calls(|c| Ok(((), c.device_gone(&user, &device, self.state.clock.utc()))));
    }

    /// The first frame: who the client is and where each channel stands.
    async fn ready(&self) -> ServerFrame {
        let user = self.user_id.clone();
        match self.state.store(move |s| s.channel_cursors(&user)).await {
            Ok(mut channels) => ServerFrame::Ready {
                channels: {
                    if let Some(l) = &self.link {
                        channels.retain(|ch, _| *ch == l.channel_id);
                    }
                    channels
                },
                protocol: PROTOCOL_VERSION,
                user_id: self.user_id.clone(),
                device_id: self.device_id.clone(),
                expires_at: self.expires_at,
                server_time: self.state.clock.utc(),
                calls: self
                    .state
                    .calls
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .calls_of(&self.user_id, &self.device_id),
            },
            Err(e) => ServerFrame::error(None, e),
        }
    }

    /// Waits for whatever comes first. Every branch is cancel-safe: `recv`/`next` lose
    /// nothing when another branch wins, and the timers are recomputed each turn.
    async fn next_turn(
        &mut self,
        link: &mut Link,
        stream: &mut SplitStream<WebSocket>,
        kicked: &super::hub::Kicked,
    ) -> Turn {
        let warn_at = self
            .state
            .clock
            .instant_at(self.expires_at - self.state.token_warning);
        let expire_at = self.state.clock.instant_at(self.expires_at);
        let warn = !self.warned && !self.state.token_warning.is_zero();
        // Over its frame rate, or with too many messages being stored, the connection is
        // not read until that passes.
        let read_wait = self.frames.ready_in(Instant::now());
        let readable = read_wait.is_none() && link.in_flight.len() < MAX_IN_FLIGHT;
        let idle_at = link.last_heard + self.state.idle_timeout;
        tokio::select! {
            out = link.rx.recv() => Turn::Queued(out),
            frame = next_replayed(&mut link.replay) => Turn::Replayed(frame),
            Some(ack) = link.in_flight.next(), if !link.in_flight.is_empty() => Turn::Stored(Box::new(ack)),
            () = tokio::time::sleep(read_wait.unwrap_or_default()), if read_wait.is_some() => Turn::Readable,
            () = tokio::time::sleep_until(idle_at) => Turn::Idle,
            incoming = stream.next(), if readable => Turn::Read(incoming),
            () = tokio::time::sleep_until(warn_at), if warn => Turn::Warn,
            () = tokio::time::sleep_until(expire_at) => Turn::Expired,
            () = kicked.wait() => Turn::Kicked,
        }
    }

    /// Carries out one turn: what it reads, writes and replies. A write has its own
    /// deadline, so no turn can hang.
    async fn on_turn(&mut self, turn: Turn, link: &mut Link) -> Flow {
        let mut replies: Vec<ServerFrame> = Vec::new();
        let sent = match turn {
            Turn::Queued(Some(text)) | Turn::Replayed(Some(text)) => link.writer.text(text).await,
            Turn::Queued(None) => return Flow::Close((close_code::GOING_AWAY, "closed")),
            Turn::Replayed(None) => {
                link.replay = None;
                Ok(())
            }
            Turn::Stored(ack) => link.writer.frame(&ack).await,
            Turn::Readable | Turn::Kicked => Ok(()),
            Turn::Idle => return Flow::Close((close_code::GOING_AWAY, "idle")),
            Turn::Read(incoming) => {
                if let Some(flow) = self.on_read(incoming, link, &mut replies).await {
                    return flow;
                }
                Ok(())
            }
            Turn::Warn => {
                self.warned = true;
                replies.push(ServerFrame::TokenAboutToExpire {
                    expires_at: self.expires_at,
                });
                Ok(())
            }
            Turn::Expired => {
                let _ = link.writer.frame(&ServerFrame::TokenExpired).await;
                return Flow::Close((close_code::TOKEN_EXPIRED, "access_token_expired"));
            }
        };
        let mut sent = sent;
        for frame in &replies {
            if sent.is_err() {
                break;
            }
            sent = link.writer.frame(frame).await;
        }
        match sent {
            Ok(()) => Flow::Go,
            Err(SendFailed::Stalled) => {
                tracing::info!(
                    conn = link.conn_id,
                    user = %self.user_id,
                    "client stopped reading; closing the connection"
                );
                Flow::Close((close_code::TOO_SLOW, "too slow"))
            }
            Err(SendFailed::Gone) => Flow::Gone,
        }
    }

    /// A frame read from the client (or the end of the stream); `Some` ends the loop.
    async fn on_read(
        &mut self,
        incoming: Option<Result<WsMessage, axum::Error>>,
        link: &mut Link,
        replies: &mut Vec<ServerFrame>,
    ) -> Option<Flow> {
        match incoming {
            Some(Ok(WsMessage::Text(text))) => {
                link.last_heard = Instant::now();
                let _ = self.frames.take(link.last_heard);
                self.handle(
                    text.as_str(),
                    link.conn_id,
                    replies,
                    &mut link.replay,
                    &mut link.in_flight,
                )
                .await;
                None
            }
            Some(Ok(WsMessage::Binary(_))) => {
                link.last_heard = Instant::now();
                let _ = self.frames.take(link.last_heard);
                replies.push(ServerFrame::error(
                    None,
                    ApiError::new(
                        ErrorCode::MalformedRequest,
                        "frames are JSON text; binary frames are not accepted",
                    ),
                ));
                None
            }
            Some(Ok(WsMessage::Close(_))) | None => Some(Flow::Gone),
            // Ping and pong: answered by the library.
            Some(Ok(_)) => {
                link.last_heard = Instant::now();
                None
            }
            Some(Err(e)) => Some(close_for_read_error(e).map_or(Flow::Gone, Flow::Close)),
        }
    }

    async fn handle(
        &mut self,
        text: &str,
        conn_id: ConnId,
        out: &mut Vec<ServerFrame>,
        replay: &mut Option<Replay>,
        in_flight: &mut InFlight,
    ) {
        let frame = match parse_client_frame(text) {
            Ok(f) => f,
            Err(e) => {
                out.push(ServerFrame::error(frame_req_id(text), e));
                return;
            }
        };
        if let Some(link) = &self.link {
            if let Err(e) = link_permits(link, &frame) {
                out.push(ServerFrame::error(frame_req_id(text), e));
                return;
            }
        }
        let state = self.state.clone();
        match frame {
            ClientFrame::SendMessage {
                req_id,
                channel_id,
                client_id,
                text,
            } => {
                let body = SendMessage { client_id, text };
                match submit_message(&state, &self.user_id, &channel_id, body, Some(conn_id)) {
                    Ok(outcome) => in_flight.push_back(Box::pin(async move {
                        match message_outcome(outcome).await {
                            Ok((message, _)) => ServerFrame::Ack { req_id, message },
                            Err(e) => ServerFrame::error(req_id, e),
                        }
                    })),
                    Err(e) => out.push(ServerFrame::error(req_id, e)),
                }
            }
            ClientFrame::MarkRead {
                req_id,
                channel_id,
                seq,
            } => out.push(
                match mark_read(&state, &self.user_id, &channel_id, seq, Some(conn_id)).await {
                    Ok(read) => ServerFrame::Read {
                        req_id,
                        state: read,
                    },
                    Err(e) => ServerFrame::error(req_id, e),
                },
            ),
            ClientFrame::Resume { cursors } => {
                if replay.is_some() {
                    out.push(ServerFrame::error(
                        None,
                        ApiError::new(
                            ErrorCode::ResumeInProgress,
                            "a resume is still replaying on this connection; wait for `resumed`",
                        ),
                    ));
                } else {
                    let only = self.link.as_ref().map(|l| l.channel_id.clone());
                    *replay = Some(start_replay(state, self.user_id.clone(), cursors, only));
                }
            }
            ClientFrame::SubscribePresence { users } => {
                if let Some(list) = &users {
                    if let Some(bad) = list.iter().find_map(|u| validate_user_id(u).err()) {
                        out.push(ServerFrame::error(None, bad));
                        return;
                    }
                }
                if let Err(e) = state.hub.subscribe_presence(conn_id, users) {
                    out.push(ServerFrame::error(None, e));
                }
            }
            ClientFrame::RefreshToken { access_token } => {
                // The same checks as at connect time: signature, expiry, and that the
                // account the token was issued for is the one still behind this user id.
                match authenticate(&state, Some(&access_token)).await {
                    Ok(auth) if auth.user_id == self.user_id => {
                        self.expires_at = auth.expires_at;
                        self.warned = false;
                        out.push(ServerFrame::TokenRefreshed {
                            expires_at: self.expires_at,
                        });
                    }
                    Ok(auth) => out.push(ServerFrame::error(
                        None,
                        ApiError::new(
                            ErrorCode::AccessTokenInvalidUser,
                            format!(
                                "the token belongs to `{}`, this session to `{}`",
                                auth.user_id, self.user_id
                            ),
                        ),
                    )),
                    Err(e) => out.push(ServerFrame::error(None, e)),
                }
            }
            ClientFrame::Ping { req_id } => out.push(ServerFrame::Pong { req_id }),
            call @ (ClientFrame::CallDial { .. }
            | ClientFrame::CallAnswer { .. }
            | ClientFrame::CallDecline { .. }
            | ClientFrame::CallHangup { .. }
            | ClientFrame::CallHold { .. }
            | ClientFrame::CallIgnore { .. }
            | ClientFrame::CallForward { .. }
            | ClientFrame::CallTransfer { .. }
            | ClientFrame::CallConsultativeTransfer { .. }
            | ClientFrame::CallMerge { .. }
            | ClientFrame::CallJoin { .. }
            | ClientFrame::CallSignal { .. }) => self.handle_call(call, out).await,
        }
    }
}

/// What a session connected by access link may send: what concerns its call and the
/// call's chat, and nothing else (`link_session_restricted`).
fn link_permits(link: &LinkClaim, frame: &ClientFrame) -> Result<(), ApiError> {
    let ok = match frame {
        ClientFrame::SendMessage { channel_id, .. } | ClientFrame::MarkRead { channel_id, .. } => {
            *channel_id == link.channel_id
        }
        ClientFrame::Resume { .. } | ClientFrame::Ping { .. } => true,
        ClientFrame::CallJoin { room_id, .. }
        | ClientFrame::CallHangup { room_id, .. }
        | ClientFrame::CallHold { room_id, .. }
        | ClientFrame::CallSignal { room_id, .. } => *room_id == link.room_id,
        ClientFrame::SubscribePresence { .. }
        | ClientFrame::RefreshToken { .. }
        | ClientFrame::CallDial { .. }
        | ClientFrame::CallAnswer { .. }
        | ClientFrame::CallDecline { .. }
        | ClientFrame::CallIgnore { .. }
        | ClientFrame::CallForward { .. }
        | ClientFrame::CallTransfer { .. }
        | ClientFrame::CallConsultativeTransfer { .. }
        | ClientFrame::CallMerge { .. } => false,
    };
    if ok {
        Ok(())
    } else {
        Err(link_restricted())
    }
}

/// Starts replaying every message after the client's cursors, channel by channel, then
/// `resumed`. Channels the client did not name are announced with `channel_added` and
/// replayed from the start. The newest sequence numbers are taken once at the start:
/// anything stored later arrives live.
fn start_replay(
    state: Arc<AppState>,
    user: String,
    cursors: BTreeMap<String, u64>,
    only: Option<String>,
) -> Replay {
    let (tx, rx) = mpsc::channel(REPLAY_QUEUE);
    let task = tokio::spawn(async move {
        if let Err(e) = replay(&state, &user, &cursors, only.as_deref(), &tx).await {
            let _ = tx.send(encode(&ServerFrame::error(None, e))).await;
        }
    });
    Replay { rx, task }
}

/// Why a replay stopped early.
enum ReplayStop {
    /// The connection went away: nothing more to do.
    Gone,
    Failed(ApiError),
}

impl From<ApiError> for ReplayStop {
    fn from(e: ApiError) -> Self {
        ReplayStop::Failed(e)
    }
}

async fn replay(
    state: &Arc<AppState>,
    user: &str,
    cursors: &BTreeMap<String, u64>,
    only: Option<&str>,
    tx: &mpsc::Sender<Utf8Bytes>,
) -> Result<(), ApiError> {
    match replay_pages(state, user, cursors, only, tx).await {
        Ok(()) | Err(ReplayStop::Gone) => Ok(()),
        Err(ReplayStop::Failed(e)) => Err(e),
    }
}

async fn replay_pages(
    state: &Arc<AppState>,
    user: &str,
    cursors: &BTreeMap<String, u64>,
    only: Option<&str>,
    tx: &mpsc::Sender<Utf8Bytes>,
) -> Result<(), ReplayStop> {
    let send = |frame: ServerFrame| async move {
        tx.send(encode(&frame)).await.map_err(|_| ReplayStop::Gone)
    };
    let u = user.to_owned();
    let mut heads = state.store(move |s| s.channel_cursors(&u)).await?;
    // A link session sees its call's chat only.
    if let Some(only) = only {
        heads.retain(|ch, _| ch == only);
    }
    let mut replayed = 0u64;
    for (channel_id, last_seq) in heads {
        let mut anchor = match cursors.get(&channel_id) {
            Some(c) => *c,
            None => {
                let (u, ch) = (user.to_owned(), channel_id.clone());
                match state.store(move |s| s.channel(&u, &ch)).await {
                    Ok(channel) => send(ServerFrame::ChannelAdded { channel }).await?,
                    // Removed since the replay began: nothing to announce or replay.
                    Err(e) if e.code == ErrorCode::ChannelNotExists => continue,
                    Err(e) => return Err(e.into()),
                }
                0
            }
        };
        while anchor < last_seq {
            let (u, ch) = (user.to_owned(), channel_id.clone());
            let page = match state
                .store(move |s| {
                    s.messages(
                        &u,
                        &ch,
                        Some(&Anchor::Seq(anchor)),
                        Direction::Forwards,
                        REPLAY_PAGE,
                        None,
                    )
                })
                .await
            {
                Ok(page) => page,
                Err(e) if e.code == ErrorCode::ChannelNotExists => break,
                Err(e) => return Err(e.into()),
            };
            let Some(last) = page.messages.last() else {
                break;
            };
            anchor = last.seq;
            for message in page.messages {
                if message.seq > last_seq {
                    break;
                }
                replayed += 1;
                send(ServerFrame::Message { message }).await?;
            }
            if !page.has_more {
                break;
            }
        }
    }
    send(ServerFrame::Resumed { replayed }).await
}
