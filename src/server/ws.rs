//! One WebSocket per device: authentication at upgrade, the frame loop, token expiry.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::time::Instant;

use super::http::{authenticate, bearer, mark_read, send_message, validate_user_id, AppError};
use super::hub::{close_code, encode, ConnId, Outgoing};
use super::AppState;
use crate::proto::*;

#[derive(Deserialize, Default)]
struct WsQuery {
    access_token: Option<String>,
    /// Stable id of the device, chosen by the client (a fresh one when absent).
    device_id: Option<String>,
    /// Human-readable device name shown in presence.
    device_name: Option<String>,
}

/// `GET /v1/ws`: authenticates before upgrading, so a bad token gets an HTTP error with its
/// code instead of a socket that closes at once.
pub async fn upgrade(
    State(state): State<Arc<AppState>>,
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
    let auth = match authenticate(&state, token).await {
        Ok(a) => a,
        Err(e) => return AppError(e).into_response(),
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
    ws.max_message_size(MAX_FRAME_BYTES)
        // Small buffers: an idle connection should cost kilobytes, not the 128 KiB default.
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| async move {
            let conn = Connection {
                state,
                user_id: auth.user_id,
                device_id,
                expires_at: auth.expires_at,
                warned: false,
            };
            conn.run(socket, device_name).await;
        })
}

struct Connection {
    state: Arc<AppState>,
    user_id: String,
    device_id: String,
    expires_at: DateTime<Utc>,
    warned: bool,
}

/// A connection that sends nothing for this long is presumed dead (clients ping every
/// 10 s), so presence does not show a vanished device as online.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

fn instant_at(t: DateTime<Utc>) -> Instant {
    let left = (t - Utc::now()).to_std().unwrap_or(Duration::ZERO);
    Instant::now() + left
}

impl Connection {
    async fn run(mut self, socket: WebSocket, device_name: String) {
        let device_id = self.device_id.clone();
        let (mut sink, mut stream) = socket.split();
        // Register before reading the cursors for `ready`, so no message can fall between
        // the two: anything stored afterwards is queued in the outbox behind `ready`.
        let reg = self
            .state
            .hub
            .register(&self.user_id, &device_id, &device_name);
        let conn_id = reg.conn_id;
        let mut rx = reg.rx;
        let user = self.user_id.clone();
        let ready = match self.state.store(move |s| s.channel_cursors(&user)).await {
            Ok(channels) => ServerFrame::Ready {
                protocol: PROTOCOL_VERSION,
                user_id: self.user_id.clone(),
                device_id,
                expires_at: self.expires_at,
                server_time: Utc::now(),
                channels,
            },
            Err(e) => ServerFrame::Error {
                req_id: None,
                code: e.code,
                message: e.message,
            },
        };
        let mut closing: Option<(u16, &'static str)> = None;
        if sink.send(WsMessage::Text(encode(&ready))).await.is_err() {
            self.state.hub.unregister(conn_id);
            return;
        }
        self.restore_calls();
        let mut last_heard = Instant::now();
        loop {
            let warn_at = instant_at(self.expires_at - self.state.token_warning);
            let expire_at = instant_at(self.expires_at);
            let mut replies: Vec<ServerFrame> = Vec::new();
            // Every branch is cancel-safe: `recv`/`next` lose nothing when another branch
            // wins, and the timers are recomputed each turn.
            tokio::select! {
                out = rx.recv() => match out {
                    Some(Outgoing::Frame(text)) => {
                        if sink.send(WsMessage::Text(text)).await.is_err() {
                            break;
                        }
                    }
                    Some(Outgoing::Close(code, reason)) => {
                        closing = Some((code, reason));
                    }
                    None => closing = Some((close_code::GOING_AWAY, "closed")),
                },
                _ = tokio::time::sleep_until(last_heard + IDLE_TIMEOUT) => {
                    closing = Some((close_code::GOING_AWAY, "idle"));
                }
                incoming = stream.next() => match incoming {
                    Some(Ok(WsMessage::Text(text))) => {
                        last_heard = Instant::now();
                        self.handle(text.as_str(), conn_id, &mut replies).await;
                    }
                    Some(Ok(WsMessage::Binary(_))) => replies.push(ServerFrame::Error {
                        req_id: None,
                        code: ErrorCode::MalformedRequest,
                        message: "frames are JSON text; binary frames are not accepted".into(),
                    }),
                    Some(Ok(WsMessage::Close(_))) | None => break,
                    Some(Ok(_)) => last_heard = Instant::now(), // ping/pong: answered by the library
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "websocket read failed");
                        break;
                    }
                },
                _ = tokio::time::sleep_until(warn_at), if !self.warned && !self.state.token_warning.is_zero() => {
                    self.warned = true;
                    replies.push(ServerFrame::TokenAboutToExpire { expires_at: self.expires_at });
                }
                _ = tokio::time::sleep_until(expire_at) => {
                    replies.push(ServerFrame::TokenExpired);
                    closing = Some((close_code::TOKEN_EXPIRED, "access_token_expired"));
                }
                _ = reg.kicked.notified() => {
                    // The hub dropped this connection; flush what it queued (a final
                    // frame and the close) before closing.
                    while let Ok(out) = rx.try_recv() {
                        match out {
                            Outgoing::Frame(text) => { let _ = sink.send(WsMessage::Text(text)).await; }
                            Outgoing::Close(code, reason) => { closing = Some((code, reason)); }
                        }
                    }
                    closing = closing.or(Some((close_code::GOING_AWAY, "disconnected")));
                }
            }
            let mut failed = false;
            for frame in replies {
                if sink.send(WsMessage::Text(encode(&frame))).await.is_err() {
                    failed = true;
                    break;
                }
            }
            if failed {
                break;
            }
            if let Some((code, reason)) = closing {
                let _ = sink
                    .send(WsMessage::Close(Some(CloseFrame {
                        code,
                        reason: reason.into(),
                    })))
                    .await;
                break;
            }
        }
        self.state.hub.unregister(conn_id);
        let (user, device) = (self.user_id.clone(), self.device_id.clone());
        let _ = self
            .state
            .with_calls(|c| Ok(((), c.device_gone(&user, &device, Utc::now()))));
    }

    /// A device that (re)connects rings for calls still ringing for its user, and shows busy
    /// when it is in a call.
    fn restore_calls(&self) {
        let (ringing, busy) = {
            let calls = self.state.calls.lock().unwrap_or_else(|e| e.into_inner());
            (
                calls.ringing_for(&self.user_id),
                calls.busy_with(&self.user_id, &self.device_id),
            )
        };
        for call in ringing {
            self.state.hub.send_to_device(
                &self.user_id,
                &self.device_id,
                true,
                &ServerFrame::CallIncoming { call },
            );
        }
        if let Some(with) = busy {
            self.state
                .hub
                .set_device_busy(&self.user_id, &self.device_id, with);
        }
    }

    async fn handle_call(&self, frame: ClientFrame, out: &mut Vec<ServerFrame>) {
        let (user, device, now) = (self.user_id.as_str(), self.device_id.as_str(), Utc::now());
        let (req_id, result) = match frame {
            ClientFrame::CallDial { req_id, callees } => {
                let result = match self.check_users_exist(&callees).await {
                    Ok(()) => self
                        .state
                        .with_calls(|c| c.dial(user, device, &callees, now)),
                    Err(e) => Err(e),
                };
                (req_id, result)
            }
            ClientFrame::CallAnswer { req_id, room_id } => (
                req_id,
                self.state
                    .with_calls(|c| c.answer(user, device, &room_id, now)),
            ),
            ClientFrame::CallDecline {
                req_id,
                room_id,
                reason,
            } => (
                req_id,
                self.state
                    .with_calls(|c| c.decline(user, &room_id, reason, now)),
            ),
            ClientFrame::CallHangup { req_id, room_id } => (
                req_id,
                self.state
                    .with_calls(|c| c.hangup(user, device, &room_id, now)),
            ),
            ClientFrame::CallSignal {
                room_id,
                to_user,
                signal,
            } => {
                if signal.size() > MAX_SIGNAL_BYTES {
                    out.push(error_frame(
                        None,
                        ApiError::new(
                            ErrorCode::ValidationError,
                            format!("signals are limited to {MAX_SIGNAL_BYTES} bytes"),
                        ),
                    ));
                    return;
                }
                let target = {
                    let calls = self.state.calls.lock().unwrap_or_else(|e| e.into_inner());
                    calls.signal_target(user, device, &room_id, &to_user)
                };
                match target {
                    Ok(to_device) => self.state.hub.send_to_device(
                        &to_user,
                        &to_device,
                        true,
                        &ServerFrame::CallSignal {
                            room_id,
                            from_user: user.to_owned(),
                            from_device: device.to_owned(),
                            signal,
                        },
                    ),
                    Err(e) => out.push(error_frame(None, e)),
                }
                return;
            }
            _ => return,
        };
        out.push(match result {
            Ok(call) => ServerFrame::CallUpdated { req_id, call },
            Err(e) => error_frame(req_id, e),
        });
    }

    async fn check_users_exist(&self, users: &[String]) -> Result<(), ApiError> {
        for u in users {
            validate_user_id(u)?;
        }
        let list = users.to_vec();
        let missing = self
            .state
            .store(move |s| {
                let mut missing = Vec::new();
                for u in &list {
                    if s.get_user(u)?.is_none() {
                        missing.push(u.clone());
                    }
                }
                Ok(missing)
            })
            .await?;
        match missing.first() {
            None => Ok(()),
            Some(u) => Err(ApiError::new(
                ErrorCode::UserNotFound,
                format!("user `{u}` does not exist"),
            )),
        }
    }

    async fn handle(&mut self, text: &str, conn_id: ConnId, out: &mut Vec<ServerFrame>) {
        let frame = match parse_client_frame(text) {
            Ok(f) => f,
            Err(e) => {
                out.push(ServerFrame::Error {
                    req_id: frame_req_id(text),
                    code: e.code,
                    message: e.message,
                });
                return;
            }
        };
        let state = self.state.clone();
        match frame {
            ClientFrame::SendMessage {
                req_id,
                channel_id,
                client_id,
                text,
            } => {
                let body = SendMessage { client_id, text };
                out.push(
                    match send_message(&state, &self.user_id, &channel_id, body, Some(conn_id))
                        .await
                    {
                        Ok((message, _)) => ServerFrame::Ack { req_id, message },
                        Err(e) => error_frame(req_id, e),
                    },
                );
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
                    Err(e) => error_frame(req_id, e),
                },
            ),
            ClientFrame::Resume { cursors } => self.resume(cursors, out).await,
            ClientFrame::SubscribePresence { users } => {
                if let Some(list) = &users {
                    if let Some(bad) = list.iter().find_map(|u| validate_user_id(u).err()) {
                        out.push(error_frame(None, bad));
                        return;
                    }
                }
                state.hub.subscribe_presence(conn_id, users);
            }
            ClientFrame::RefreshToken { access_token } => {
                match state.issuer.verify(&access_token) {
                    Ok(claims) if claims.sub == self.user_id => {
                        self.expires_at = claims.expires_at();
                        self.warned = false;
                        out.push(ServerFrame::TokenRefreshed {
                            expires_at: self.expires_at,
                        });
                    }
                    Ok(claims) => out.push(error_frame(
                        None,
                        ApiError::new(
                            ErrorCode::AccessTokenInvalidUser,
                            format!(
                                "the token belongs to `{}`, this session to `{}`",
                                claims.sub, self.user_id
                            ),
                        ),
                    )),
                    Err(e) => out.push(error_frame(None, e)),
                }
            }
            ClientFrame::Ping { req_id } => out.push(ServerFrame::Pong { req_id }),
            call @ (ClientFrame::CallDial { .. }
            | ClientFrame::CallAnswer { .. }
            | ClientFrame::CallDecline { .. }
            | ClientFrame::CallHangup { .. }
            | ClientFrame::CallSignal { .. }) => self.handle_call(call, out).await,
        }
    }

    /// Replays every message after the client's cursors, channel by channel.
    async fn resume(
        &self,
        cursors: std::collections::BTreeMap<String, u64>,
        out: &mut Vec<ServerFrame>,
    ) {
        let user = self.user_id.clone();
        let result = self
            .state
            .store(move |s| {
                let mut frames = Vec::new();
                let mut replayed = 0u64;
                for (channel_id, last_seq) in s.channel_cursors(&user)? {
                    let from = match cursors.get(&channel_id) {
                        Some(c) => *c,
                        None => {
                            // A channel the client has not seen yet.
                            frames.push(ServerFrame::ChannelAdded {
                                channel: s.channel(&user, &channel_id)?,
                            });
                            0
                        }
                    };
                    let mut anchor = from;
                    while anchor < last_seq {
                        let page = s.messages(
                            &user,
                            &channel_id,
                            Some(&super::store::Anchor::Seq(anchor)),
                            Direction::Forwards,
                            MAX_PAGE,
                        )?;
                        let Some(last) = page.messages.last() else {
                            break;
                        };
                        anchor = last.seq;
                        replayed += page.messages.len() as u64;
                        frames.extend(
                            page.messages
                                .into_iter()
                                .map(|message| ServerFrame::Message { message }),
                        );
                        if !page.has_more {
                            break;
                        }
                    }
                }
                frames.push(ServerFrame::Resumed { replayed });
                Ok(frames)
            })
            .await;
        match result {
            Ok(frames) => out.extend(frames),
            Err(e) => out.push(error_frame(None, e)),
        }
    }
}

fn error_frame(req_id: Option<String>, e: ApiError) -> ServerFrame {
    ServerFrame::Error {
        req_id,
        code: e.code,
        message: e.message,
    }
}
