//! The session's rules on one connection, without input or output of its own (str0m's
//! `handle_input` / `poll_output`): the connection task feeds it what arrived (a frame, a
//! message to send, a call request, the time) together with the time it happened, and
//! carries out what comes out of [`Protocol::poll_output`] in order: frames to transmit,
//! events for the application, answers for whoever waits. [`Protocol::poll_timeout`] says
//! when it next wants the time. Tests drive it with a made-up clock and no socket.
//!
//! [`Backoff`] is the other half: after a connection ends, whether and when to try again.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use super::call::{self, CallView};
use super::session::{ConnectionState, Cursors, Outbox, PendingMessage};
use super::{CallOperation, ClientError, Event, MediaChange, OperationStage};
use crate::proto::{ApiError, Call, ClientFrame, EndReason, ErrorCode, Message, ServerFrame};

/// When an input happened: monotonic time for timers, wall time for call state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    pub at: Instant,
    pub utc: DateTime<Utc>,
}

impl Now {
    /// The clock's time.
    #[must_use]
    pub fn of(clock: &crate::clock::Clock) -> Now {
        Now {
            at: clock.now(),
            utc: clock.utc(),
        }
    }

    /// `d` later.
    #[must_use]
    pub fn after(self, d: Duration) -> Now {
        Now {
            at: self.at + d,
            utc: self.utc + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX),
        }
    }
}

/// What the rules need to know of the configuration.
#[derive(Debug, Clone)]
pub struct Rules {
    pub device_id: String,
    /// Subscribe to everyone's presence on each connection.
    pub presence: bool,
    /// Silence from the server after which the connection is presumed dead (pinged every
    /// third of it).
    pub keepalive: Duration,
    /// A call answered but without media this long is ended with `error`.
    pub media_timeout: Duration,
    /// The token can be renewed (a command or a provider, not one fixed token).
    pub renewable: bool,
}

/// Why a connection ended.
#[derive(Debug, Clone)]
pub enum Ended {
    /// Lost or closed by the server: reconnect.
    Lost,
    /// The token expired or was refused: get a new one, then reconnect at once.
    TokenRejected(ClientError),
    /// Stop for good.
    Fatal(ClientError),
    /// Stopped on request.
    Stopped,
}

/// What the connection task is to do, in order.
#[derive(Debug)]
pub enum Output {
    Transmit(ClientFrame),
    Emit(Event),
    /// A queued message was stored (or refused for good).
    Settled {
        client_id: String,
        result: Result<Message, ClientError>,
    },
    /// A call request was answered.
    Answered {
        req_id: String,
        result: Result<Call, ClientError>,
    },
    /// Get a fresh token and hand it to [`Protocol::token_refreshed`].
    RefreshToken,
    /// The connection is over.
    End(Ended),
}

/// The session's state across connections: what it has seen, what it still has to send,
/// the calls of this device.
pub struct Protocol {
    rules: Rules,
    cursors: Cursors,
    outbox: Outbox,
    /// A connection is up and `ready` has arrived.
    connected: bool,
    connected_once: bool,
    /// Who the server says we are (from `ready`).
    user_id: String,
    /// Call requests waiting for their answer.
    requests: Vec<String>,
    /// Hang-up requests in flight: their room, by request id.
    hangups: HashMap<String, String>,
    /// Call operations in flight (ignore, forward, transfer): their room and name, by
    /// request id, to report how they end.
    operations: HashMap<String, (String, CallOperation)>,
    /// Calls of this device, by room id.
    calls: HashMap<String, CallView>,
    /// When messages refused with `rate_limited` are sent again.
    retry_at: Option<Instant>,
    last_heard: Instant,
    next_ping: Instant,
    out: VecDeque<Output>,
}

impl Protocol {
    #[must_use]
    pub fn new(rules: Rules, now: Now) -> Protocol {
        Protocol {
            rules,
            cursors: Cursors::default(),
            outbox: Outbox::default(),
            connected: false,
            connected_once: false,
            user_id: String::new(),
            requests: Vec::new(),
            hangups: HashMap::new(),
            operations: HashMap::new(),
            calls: HashMap::new(),
            retry_at: None,
            last_heard: now.at,
            next_ping: now.at,
            out: VecDeque::new(),
        }
    }

    /// The next thing to do.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When the rules next want [`Protocol::handle_timeout`] (none while disconnected).
    #[must_use]
    pub fn poll_timeout(&self, now: Now) -> Option<Instant> {
        if !self.connected {
            return None;
        }
        let media = self.media_deadline().map(|at| {
            let left = (at - now.utc).to_std().unwrap_or_default();
            now.at + left
        });
        [
            Some(self.next_ping),
            Some(self.last_heard + self.rules.keepalive),
            self.retry_at,
            media,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn emit(&mut self, e: Event) {
        self.out.push_back(Output::Emit(e));
    }

    fn transmit(&mut self, frame: ClientFrame) {
        self.out.push_back(Output::Transmit(frame));
    }

    // ---- the connection ----------------------------------------------------------------

    /// The first frame of a new connection, which must be `ready`.
    pub fn on_connected(&mut self, now: Now, first: ServerFrame) {
        let ServerFrame::Ready {
            user_id,
            device_id,
            expires_at,
            channels,
            calls,
            ..
        } = first
        else {
            let ended = match first {
                ServerFrame::Error { code, message, .. } => {
                    Ended::Fatal(ClientError::Api(ApiError::new(code, message)))
                }
                _ => Ended::Lost,
            };
            self.out.push_back(Output::End(ended));
            return;
        };
        if !self.connected_once {
            // Everything up to now is history; start live from here.
            for (ch, seq) in &channels {
                self.cursors.know(ch, *seq);
            }
        }
        self.user_id.clone_from(&user_id);
        self.end_orphaned_calls(&calls, &device_id);
        // A hold made while the connection was down reaches the server now.
        for call in &calls {
            let Some(view) = self.calls.get(&call.room_id) else {
                continue;
            };
            let recorded = call.participant(&user_id).is_some_and(|p| p.held);
            if view.local_hold != recorded {
                self.out.push_back(Output::Transmit(ClientFrame::CallHold {
                    req_id: None,
                    room_id: call.room_id.clone(),
                    hold: view.local_hold,
                }));
            }
        }
        self.emit(Event::Connection {
            state: ConnectionState::Connected,
        });
        self.emit(Event::Ready {
            user_id,
            device_id,
            expires_at,
        });
        if self.connected_once {
            let cursors = self.cursors.resume_map();
            self.transmit(ClientFrame::Resume { cursors });
        }
        self.connected_once = true;
        if self.rules.presence {
            self.transmit(ClientFrame::SubscribePresence { users: None });
        }
        // Queued messages go out in order, those refused for now included; the server
        // drops repeats of a client_id.
        let queued: Vec<ClientFrame> = self.outbox.pending().map(send_frame_of).collect();
        self.outbox.take_deferred();
        self.retry_at = None;
        for f in queued {
            self.transmit(f);
        }
        self.connected = true;
        self.last_heard = now.at;
        self.next_ping = now.at + self.rules.keepalive / 3;
    }

    /// The connection is gone: requests waiting on it fail (messages stay queued).
    pub fn on_disconnected(&mut self) {
        self.connected = false;
        for req_id in std::mem::take(&mut self.requests) {
            let e = ClientError::Unreachable("the connection was lost".into());
            self.operation_done(&req_id, Err(&e));
            self.out.push_back(Output::Answered {
                req_id,
                result: Err(e),
            });
        }
        self.hangups.clear();
    }

    /// Something arrived that is not a frame (ping, pong): the server is there.
    pub fn on_heard(&mut self, now: Now) {
        self.last_heard = now.at;
    }

    /// The time came that [`Protocol::poll_timeout`] asked for (or later).
    pub fn handle_timeout(&mut self, now: Now) {
        if !self.connected {
            return;
        }
        if now.at >= self.last_heard + self.rules.keepalive {
            tracing::info!("no traffic from the server; reconnecting");
            self.out.push_back(Output::End(Ended::Lost));
            return;
        }
        if self.retry_at.is_some_and(|t| now.at >= t) {
            self.retry_at = None;
            for pending in self.outbox.take_deferred() {
                self.transmit(send_frame_of(&pending));
            }
        }
        self.give_up_calls_without_media(now.utc);
        if now.at >= self.next_ping {
            self.next_ping = now.at + self.rules.keepalive / 3;
            self.transmit(ClientFrame::Ping { req_id: None });
        }
    }

    /// A fresh token to present on this connection.
    pub fn token_refreshed(&mut self, token: String) {
        if self.connected {
            self.transmit(ClientFrame::RefreshToken {
                access_token: token,
            });
        }
    }

    // ---- what the application asks -------------------------------------------------------

    /// A message to send: queued until the server stores it, sent now when connected.
    pub fn send(&mut self, pending: PendingMessage) {
        if self.connected {
            self.transmit(send_frame_of(&pending));
        }
        self.outbox.push(pending);
    }

    /// A call request, answered by `call_updated` or `error` with the same `req_id`.
    pub fn call_request(&mut self, req_id: String, frame: ClientFrame) {
        if let Some((room_id, operation)) = CallOperation::of(&frame) {
            self.emit(Event::CallOperation {
                room_id: room_id.clone(),
                operation,
                stage: OperationStage::Started,
            });
            self.operations.insert(req_id.clone(), (room_id, operation));
        }
        if !self.connected {
            let e = ClientError::Unreachable("not connected to the server".into());
            self.operation_done(&req_id, Err(&e));
            self.out.push_back(Output::Answered {
                req_id,
                result: Err(e),
            });
            return;
        }
        if let ClientFrame::CallHangup { room_id, .. } = &frame {
            self.hangups.insert(req_id.clone(), room_id.clone());
        }
        self.requests.push(req_id);
        self.transmit(frame);
    }

    /// A frame that expects no answer (signaling); dropped while disconnected.
    pub fn signal(&mut self, frame: ClientFrame) {
        if self.connected {
            self.transmit(frame);
        }
    }

    /// The media layer reports media up/down or hold for a call.
    pub fn media(&mut self, now: Now, room_id: &str, change: MediaChange) {
        let Some(view) = self.calls.get_mut(room_id) else {
            return;
        };
        let changed = match change {
            MediaChange::Up { leg, up } => view.on_media(&leg, up, now.utc),
            MediaChange::LocalHold(hold) => {
                // The server records it: while every call of this device is held, it may
                // dial or answer another. (Sent again after a reconnection if missed.)
                if view.local_hold != hold && self.connected {
                    self.out.push_back(Output::Transmit(ClientFrame::CallHold {
                        req_id: None,
                        room_id: room_id.to_owned(),
                        hold,
                    }));
                }
                view.set_local_hold(hold, now.utc)
            }
            MediaChange::RemoteHold { leg, hold } => view.set_remote_hold(&leg, hold, now.utc),
        };
        if changed.is_some() {
            let view = view.clone();
            self.emit(Event::Call { view });
        }
    }

    /// The session ends for good: every queued message fails with `error`.
    pub fn finish(&mut self, error: &ClientError) {
        for p in self.outbox.drain() {
            self.emit(Event::MessageFailed {
                client_id: p.client_id.clone(),
                channel_id: p.channel_id,
                code: error.code().to_owned(),
                error: error.to_string(),
            });
            self.out.push_back(Output::Settled {
                client_id: p.client_id,
                result: Err(error.clone()),
            });
        }
    }

    // ---- frames from the server -----------------------------------------------------------

    /// One frame from the server.
    pub fn on_frame(&mut self, now: Now, frame: ServerFrame) {
        self.last_heard = now.at;
        match frame {
            ServerFrame::Message { message } => self.on_message(message),
            ServerFrame::Ack { req_id, message } => {
                let client_id = req_id.unwrap_or_else(|| message.client_id.clone());
                if self.outbox.settle(&client_id).is_some() {
                    self.cursors.accept(&message.channel_id, message.seq);
                    self.settled(client_id, message);
                }
            }
            ServerFrame::Error {
                req_id,
                code,
                message,
                retry_after_ms,
            } => self.on_error(
                now,
                req_id,
                ApiError {
                    retry_after_ms,
                    ..ApiError::new(code, message)
                },
            ),
            ServerFrame::ChannelAdded { channel } => {
                // Messages of a channel new to us are wanted from its start.
                self.cursors.know(&channel.channel_id, 0);
                self.emit(Event::ChannelAdded { channel });
            }
            ServerFrame::ChannelRemoved { channel_id, .. } => {
                self.cursors.forget(&channel_id);
                self.emit(Event::ChannelRemoved { channel_id });
            }
            ServerFrame::Read { state, .. } => self.emit(Event::Read { state }),
            ServerFrame::Presence { presence } => self.emit(Event::Presence { presence }),
            ServerFrame::UserUpdated { user } => self.emit(Event::UserUpdated { user }),
            ServerFrame::Contact { change, contact } => {
                self.emit(Event::Contact { change, contact });
            }
            ServerFrame::Resumed { replayed } => self.emit(Event::Resumed { replayed }),
            ServerFrame::TokenAboutToExpire { expires_at } => {
                self.emit(Event::TokenAboutToExpire { expires_at });
                if self.rules.renewable {
                    self.out.push_back(Output::RefreshToken);
                }
            }
            ServerFrame::TokenRefreshed { expires_at } => {
                self.emit(Event::TokenRefreshed { expires_at });
            }
            ServerFrame::TokenExpired => {
                let e = ApiError::new(ErrorCode::AccessTokenExpired, "the access token expired");
                self.out
                    .push_back(Output::End(Ended::TokenRejected(ClientError::Api(e))));
            }
            ServerFrame::ForceDisconnect { reason } => {
                let e = ApiError::new(
                    ErrorCode::UserNotFound,
                    format!("disconnected by the server: {reason}"),
                );
                self.emit(Event::ForceDisconnect { reason });
                self.out
                    .push_back(Output::End(Ended::Fatal(ClientError::Api(e))));
            }
            ServerFrame::Ready { .. } | ServerFrame::Pong { .. } => {}
            ServerFrame::CallHistory {
                change,
                entry,
                room_id,
                missed_unseen,
            } => self.emit(Event::CallHistory {
                change,
                entry,
                room_id,
                missed_unseen,
            }),
            ServerFrame::Voicemail {
                change,
                voicemail_id,
                voicemail,
                indicator,
            } => self.emit(Event::Voicemail {
                change,
                voicemail_id,
                voicemail,
                indicator,
            }),
            ServerFrame::CallIncoming { call } => {
                let view = call::CallView::incoming(call.clone(), &self.user_id);
                self.calls.insert(call.room_id.clone(), view.clone());
                self.emit(Event::CallIncoming { call });
                self.emit(Event::Call { view });
            }
            ServerFrame::CallUpdated { req_id, call } => {
                if let Some(req_id) = req_id {
                    self.answer(&req_id, Ok(call.clone()));
                }
                self.on_call_update(call, now.utc);
            }
            ServerFrame::CallMoved { from_room, call } => {
                let Some(mut view) = self.calls.remove(&from_room) else {
                    return self.on_call_update(call, now.utc);
                };
                let device = self.rules.device_id.clone();
                view.moved();
                view.on_update(call, &self.user_id, &device, now.utc);
                self.calls.insert(view.call.room_id.clone(), view.clone());
                self.emit(Event::CallMoved { from_room, view });
            }
            ServerFrame::CallEnded { call, reason } => {
                let room_id = call.room_id.clone();
                if let Some(mut view) = self.calls.remove(&room_id) {
                    view.call = call;
                    if view.on_ended(reason, now.utc).is_some() {
                        self.emit(Event::Call { view });
                    }
                }
            }
            ServerFrame::CallSignal {
                room_id,
                from_user,
                from_device,
                signal,
            } => self.emit(Event::CallSignal {
                room_id,
                from_user,
                from_device,
                signal,
            }),
        }
    }

    fn settled(&mut self, client_id: String, message: Message) {
        self.out.push_back(Output::Settled {
            client_id,
            result: Ok(message.clone()),
        });
        self.emit(Event::MessageSent { message });
    }

    fn on_message(&mut self, message: Message) {
        if !self.cursors.accept(&message.channel_id, message.seq) {
            return;
        }
        // One of ours whose ack was lost with a connection, caught up by `resume`: it
        // counts as the ack, so the application sees it once.
        if message.sender == self.user_id && self.outbox.settle(&message.client_id).is_some() {
            self.settled(message.client_id.clone(), message);
        } else {
            self.emit(Event::Message { message });
        }
    }

    fn on_error(&mut self, now: Now, req_id: Option<String>, error: ApiError) {
        let Some(req_id) = req_id else {
            return self.on_connection_error(error);
        };
        if error.code == ErrorCode::RateLimited && self.outbox.defer(&req_id) {
            // Refused for now: the message stays queued and goes out again after the
            // server's hint (a second at most when it gave none).
            let wait_ms = error.retry_after_ms.unwrap_or(1000).clamp(10, 60_000);
            let at = now.at + Duration::from_millis(wait_ms);
            self.retry_at = Some(self.retry_at.map_or(at, |t| t.max(at)));
        } else if self.requests.contains(&req_id) {
            self.on_request_error(now, &req_id, error);
        } else if error.code != ErrorCode::MessageNotSaved {
            // A definite refusal of a queued message: retrying cannot help.
            if let Some(p) = self.outbox.settle(&req_id) {
                self.emit(Event::MessageFailed {
                    client_id: p.client_id.clone(),
                    channel_id: p.channel_id,
                    code: error.code.as_str().to_owned(),
                    error: error.message.clone(),
                });
                self.out.push_back(Output::Settled {
                    client_id: p.client_id,
                    result: Err(ClientError::Api(error)),
                });
            }
        } else {
            // `message_not_saved` stays queued and goes out again after a reconnect.
            self.on_connection_error(error);
        }
    }

    fn on_request_error(&mut self, now: Now, req_id: &str, error: ApiError) {
        if let Some(room_id) = self.hangups.remove(req_id) {
            if matches!(
                error.code,
                ErrorCode::CallNotFound | ErrorCode::InvalidCallStatus
            ) {
                // The server no longer has the call (it restarted, or the call ended
                // meanwhile): hanging up ends it here all the same.
                self.end_locally(&room_id, EndReason::HangUp, now.utc);
            }
        }
        self.answer(req_id, Err(ClientError::Api(error)));
    }

    fn on_connection_error(&mut self, error: ApiError) {
        tracing::warn!(code = %error.code, message = %error.message, "server reported an error");
        if error.code.is_auth() {
            self.out
                .push_back(Output::End(Ended::TokenRejected(ClientError::Api(
                    ApiError::new(error.code, error.message),
                ))));
        }
    }

    /// Reports how a call operation ended (nothing for other requests).
    fn operation_done(&mut self, req_id: &str, result: Result<(), &ClientError>) {
        let Some((room_id, operation)) = self.operations.remove(req_id) else {
            return;
        };
        let stage = match result {
            Ok(()) => OperationStage::Finished,
            Err(e) => OperationStage::Failed {
                code: e.code().to_owned(),
                message: e.detail(),
            },
        };
        self.emit(Event::CallOperation {
            room_id,
            operation,
            stage,
        });
    }

    fn answer(&mut self, req_id: &str, result: Result<Call, ClientError>) {
        self.hangups.remove(req_id);
        self.operation_done(req_id, result.as_ref().map(|_| ()));
        if let Some(i) = self.requests.iter().position(|id| id == req_id) {
            let req_id = self.requests.swap_remove(i);
            self.out.push_back(Output::Answered { req_id, result });
        }
    }

    // ---- calls ----------------------------------------------------------------------------

    fn on_call_update(&mut self, call: Call, now: DateTime<Utc>) {
        let device = self.rules.device_id.clone();
        // (A caller who transferred the call is out of it, though still its caller.)
        let mine = call.caller == self.user_id
            && call.participant(&self.user_id).is_some_and(|p| {
                p.state == crate::proto::ParticipantState::Calling
                    && p.device_id.as_deref() == Some(device.as_str())
            });
        if mine && !self.calls.contains_key(&call.room_id) {
            let view = call::CallView::outgoing(call.clone(), &self.user_id);
            self.calls.insert(call.room_id.clone(), view.clone());
            self.emit(Event::Call { view });
        }
        // A call this device joined without it ringing here (by access link): taken up as
        // an answered incoming one, so the update below connects it.
        let joined_here = call.participant(&self.user_id).is_some_and(|p| {
            p.state == crate::proto::ParticipantState::Joined
                && p.device_id.as_deref() == Some(device.as_str())
        });
        if joined_here && !self.calls.contains_key(&call.room_id) {
            let mut ringing = call.clone();
            if let Some(p) = ringing
                .participants
                .iter_mut()
                .find(|p| p.user_id == self.user_id)
            {
                p.state = crate::proto::ParticipantState::Ringing;
                p.device_id = None;
            }
            let view = call::CallView::incoming(ringing, &self.user_id);
            self.calls.insert(call.room_id.clone(), view);
        }
        let Some(view) = self.calls.get_mut(&call.room_id) else {
            return;
        };
        // Someone joining or leaving a call this device is in counts as a change too (a
        // group call's connections follow its participants).
        let others_moved = view.call.participants != call.participants
            && !matches!(view.state, call::CallState::Ringing);
        if view.on_update(call, &self.user_id, &device, now).is_some() || others_moved {
            let view = view.clone();
            self.emit(Event::Call { view });
        }
    }

    fn media_limit(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.rules.media_timeout).unwrap_or(chrono::Duration::MAX)
    }

    /// When the first call still without media is to be given up.
    fn media_deadline(&self) -> Option<DateTime<Utc>> {
        let since = self
            .calls
            .values()
            .filter(|v| !v.is_ended())
            .filter_map(|v| v.media_down_since)
            .min()?;
        Some(since + self.media_limit())
    }

    /// Calls the server has this device in that this session does not know: a parla that
    /// restarted (after a crash, say) has no media for them, so it leaves them at once
    /// (`media_lost`) instead of leaving the user busy.
    fn end_orphaned_calls(&mut self, calls: &[crate::proto::Call], device_id: &str) {
        for call in calls {
            let mine = call.participant(&self.user_id).is_some_and(|p| {
                matches!(
                    p.state,
                    crate::proto::ParticipantState::Calling
                        | crate::proto::ParticipantState::Joined
                ) && p.device_id.as_deref() == Some(device_id)
            });
            if mine && !self.calls.contains_key(&call.room_id) {
                tracing::info!(room = %call.room_id, "leaving a call this device no longer has");
                self.transmit(ClientFrame::CallHangup {
                    req_id: None,
                    room_id: call.room_id.clone(),
                    reason: Some(EndReason::MediaLost),
                });
            }
        }
    }

    /// The calls answered but without media for longer than the limit.
    fn calls_without_media(&self, now: DateTime<Utc>) -> Vec<String> {
        let limit = self.media_limit();
        self.calls
            .values()
            .filter(|v| v.media_given_up(now, limit))
            .map(|v| v.room_id().to_owned())
            .collect()
    }

    /// Ends the calls that have been without media for too long, here and on the server.
    fn give_up_calls_without_media(&mut self, now: DateTime<Utc>) {
        for room_id in self.calls_without_media(now) {
            tracing::warn!(room = %room_id, "no media for too long; ending the call");
            self.end_locally(&room_id, EndReason::MediaLost, now);
            self.transmit(ClientFrame::CallHangup {
                req_id: None,
                room_id,
                reason: Some(EndReason::MediaLost),
            });
        }
    }

    /// Ends a call of this device without the server (which no longer knows it).
    fn end_locally(&mut self, room_id: &str, reason: EndReason, now: DateTime<Utc>) {
        if let Some(mut view) = self.calls.remove(room_id) {
            if view.on_ended(reason, now).is_some() {
                self.emit(Event::Call { view });
            }
        }
    }
}

fn send_frame_of(p: &PendingMessage) -> ClientFrame {
    ClientFrame::SendMessage {
        req_id: Some(p.client_id.clone()),
        channel_id: p.channel_id.clone(),
        client_id: Some(p.client_id.clone()),
        text: p.text.clone(),
    }
}

/// After a connection ends: try again (at once, or after the reconnection schedule's wait
/// for `attempt`), or give up.
#[derive(Debug)]
pub enum Step {
    Retry {
        attempt: u32,
    },
    Finish {
        state: ConnectionState,
        error: ClientError,
    },
}

/// The reconnection rules (reference 002): attempts counted since the last connection
/// that came up; a refused token is renewed and tried again at once, a second refusal in a
/// row waits like any failure; a token that cannot be renewed ends the session.
#[derive(Debug, Default)]
pub struct Backoff {
    attempt: u32,
    rejections: u32,
}

impl Backoff {
    /// A connection came up.
    pub fn connected(&mut self) {
        self.attempt = 0;
        self.rejections = 0;
    }

    /// What to do after a connection (or an attempt at one) ended.
    pub fn after(&mut self, ended: Ended, renewable: bool) -> Step {
        let failed = |e: ClientError| Step::Finish {
            state: ConnectionState::Failed {
                code: e.code().to_owned(),
                message: e.to_string(),
            },
            error: e,
        };
        match ended {
            Ended::Stopped => Step::Finish {
                state: ConnectionState::Closed,
                error: ClientError::Closed,
            },
            Ended::Fatal(e) => failed(e),
            Ended::TokenRejected(e) if !renewable => failed(match e {
                ClientError::Api(a) => ClientError::Api(ApiError::new(
                    a.code,
                    format!("{} (no --token-cmd is set to renew it)", a.message),
                )),
                other => other,
            }),
            Ended::TokenRejected(_) => {
                self.rejections += 1;
                if self.rejections == 1 {
                    self.attempt = 0;
                } else {
                    self.attempt = self.attempt.saturating_add(1);
                }
                Step::Retry {
                    attempt: self.attempt,
                }
            }
            Ended::Lost => {
                self.attempt = self.attempt.saturating_add(1);
                Step::Retry {
                    attempt: self.attempt,
                }
            }
        }
    }
}

/// How a failed attempt to connect ends it: refused tokens are renewed, a deleted user is
/// final, anything else is tried again.
#[must_use]
pub fn ended_by_connect_error(e: ClientError) -> Ended {
    match e.api_code() {
        Some(code) if code.is_auth() => Ended::TokenRejected(e),
        Some(ErrorCode::UserNotFound) => Ended::Fatal(e),
        _ => {
            tracing::info!(error = %e, "connection attempt failed");
            Ended::Lost
        }
    }
}

#[cfg(test)]
mod tests;
