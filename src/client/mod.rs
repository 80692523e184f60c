//! The async client core: commands in, events out, no knowledge of any terminal.
//!
//! [`Client::start`] spawns the session task, which keeps one WebSocket to the server alive
//! (tokens from a [`TokenSource`], reconnects on the reference schedule, resumes chat from
//! its cursors) and returns a handle plus an event stream. The TUI, the CLI subcommands and
//! the control socket are front ends over this one API.

pub mod call;
mod connection;
mod error;
pub mod protocol;
pub mod rest;
pub mod runtime;
pub mod session;
mod token;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::proto::{
    Call, Channel, ClientFrame, DeclineReason, Message, Presence, ReadState, Signal,
};
pub use error::ClientError;
pub use rest::Rest;
use session::{ConnectionState, PendingMessage, ReconnectPolicy, TokenRetryPolicy};
pub use token::{token_expiry, TokenSource};

#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub server: String,
    pub token: TokenSource,
    /// Stable id of this device (presence shows one entry per device).
    pub device_id: String,
    pub device_name: String,
    pub reconnect: ReconnectPolicy,
    pub token_retry: TokenRetryPolicy,
    /// Subscribe to everyone's presence after connecting.
    pub presence: bool,
    /// Silence after which the connection is presumed dead.
    pub keepalive: Duration,
    /// Extra certificate authorities (PEM) for a server with a private certificate.
    pub ca_file: Option<std::path::PathBuf>,
    /// A call answered but without media this long (set-up failed, or the path went and
    /// ICE could not bring it back) is ended with `error`, not left hanging.
    pub media_timeout: Duration,
    /// Where the session reads the time.
    pub clock: crate::clock::Clock,
}

impl ClientConfig {
    pub fn new(server: impl Into<String>, token: TokenSource) -> Self {
        ClientConfig {
            server: server.into(),
            token,
            device_id: format!("dev_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
            device_name: default_device_name(),
            reconnect: ReconnectPolicy::default(),
            token_retry: TokenRetryPolicy::default(),
            presence: true,
            keepalive: Duration::from_secs(30),
            ca_file: None,
            media_timeout: Duration::from_secs(12),
            clock: crate::clock::Clock::system(),
        }
    }
}

fn default_device_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "terminal".into());
    format!("parla@{host}")
}

/// Everything the session reports, in the order it happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Connection {
        #[serde(flatten)]
        state: ConnectionState,
    },
    Ready {
        user_id: String,
        device_id: String,
        expires_at: DateTime<Utc>,
    },
    /// A message from someone else, or from another device of ours; live or caught up.
    Message {
        message: Message,
    },
    /// A message we sent is stored, with its server id and sequence number.
    MessageSent {
        message: Message,
    },
    /// A message we sent was refused and will not be retried.
    MessageFailed {
        client_id: String,
        channel_id: String,
        code: String,
        error: String,
    },
    ChannelAdded {
        channel: Channel,
    },
    ChannelRemoved {
        channel_id: String,
    },
    Read {
        #[serde(flatten)]
        state: ReadState,
    },
    Presence {
        presence: Presence,
    },
    /// Someone's display name or profile changed (the user's own too).
    UserUpdated {
        user: crate::proto::UserEntry,
    },
    /// The user's address book changed, here or on another device.
    Contact {
        change: crate::proto::ContactChange,
        contact: crate::proto::Contact,
    },
    TokenAboutToExpire {
        expires_at: DateTime<Utc>,
    },
    TokenRefreshed {
        expires_at: DateTime<Utc>,
    },
    /// The user was deleted on the server; the session ends.
    ForceDisconnect {
        reason: String,
    },
    /// A call rings on this device.
    CallIncoming {
        call: Call,
    },
    /// A call of this device changed state (dialing, ringing, connecting, connected, on
    /// hold, ended with its reason).
    Call {
        view: call::CallView,
    },
    /// Signaling from another party, for the media layer.
    CallSignal {
        room_id: String,
        from_user: String,
        from_device: String,
        signal: Signal,
    },
    /// A resume finished; `replayed` messages were caught up.
    Resumed {
        replayed: u64,
    },
    /// The user's call history changed: a call ended (`entry`), one was deleted
    /// (`room_id`), all were, or the missed ones were marked seen.
    CallHistory {
        change: crate::proto::CallHistoryChange,
        #[serde(skip_serializing_if = "Option::is_none")]
        entry: Option<crate::proto::CallLogEntry>,
        #[serde(skip_serializing_if = "Option::is_none")]
        room_id: Option<String>,
        missed_unseen: u64,
    },
    /// The user's voice messages changed: one was left (`voicemail`), heard or deleted;
    /// `indicator` counts them now.
    Voicemail {
        change: crate::proto::VoicemailChange,
        voicemail_id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        voicemail: Option<crate::proto::Voicemail>,
        indicator: crate::proto::VoicemailIndicator,
    },
    /// This device's call `from_room` goes on as `view` (another room): its other party
    /// joined it with a call of theirs, or transferred it to a party of that call. Media
    /// is set up anew with the parties of `view`.
    CallMoved {
        from_room: String,
        view: call::CallView,
    },
    /// How a call operation (ignore, forward, transfer, consultative transfer, join) goes:
    /// started, then finished or failed with a code.
    CallOperation {
        room_id: String,
        operation: CallOperation,
        #[serde(flatten)]
        stage: OperationStage,
    },
}

/// A call operation beyond dial, answer and hang up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOperation {
    Ignore,
    Forward,
    Transfer,
    ConsultativeTransfer,
    Join,
}

impl CallOperation {
    /// The operation a request frame makes, with its room.
    #[must_use]
    pub fn of(frame: &ClientFrame) -> Option<(String, CallOperation)> {
        match frame {
            ClientFrame::CallIgnore { room_id, .. } => Some((room_id.clone(), Self::Ignore)),
            ClientFrame::CallForward { room_id, .. } => Some((room_id.clone(), Self::Forward)),
            ClientFrame::CallTransfer { room_id, .. } => Some((room_id.clone(), Self::Transfer)),
            ClientFrame::CallConsultativeTransfer { room_id, .. } => {
                Some((room_id.clone(), Self::ConsultativeTransfer))
            }
            ClientFrame::CallMerge { room_id, .. } => Some((room_id.clone(), Self::Join)),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ignore => "ignore",
            Self::Forward => "forward",
            Self::Transfer => "transfer",
            Self::ConsultativeTransfer => "consultative_transfer",
            Self::Join => "join",
        }
    }
}

/// Where a call operation stands.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum OperationStage {
    Started,
    Finished,
    Failed { code: String, message: String },
}

type Reply = oneshot::Sender<Result<Call, ClientError>>;

/// What a [`Client`] handle tells its session task.
enum Order {
    Send {
        pending: PendingMessage,
        done: Option<oneshot::Sender<Result<Message, ClientError>>>,
    },
    /// A call request, answered by `call_updated` or `error` with the same `req_id`.
    CallRequest {
        req_id: String,
        frame: ClientFrame,
        done: Reply,
    },
    /// A frame that expects no answer (signaling).
    Frame(ClientFrame),
    /// The media layer reports media up/down or hold for a call.
    Media {
        room_id: String,
        change: MediaChange,
    },
    Stop,
}

/// What the media layer tells the session about a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaChange {
    /// Media with the named party went up or down.
    Up {
        leg: String,
        up: bool,
    },
    LocalHold(bool),
    /// The named party held or resumed.
    RemoteHold {
        leg: String,
        hold: bool,
    },
}

/// Handle to a running session. Cloning is cheap; the session stops when [`Client::stop`]
/// is called or every handle is dropped.
#[derive(Clone)]
pub struct Client {
    commands: mpsc::UnboundedSender<Order>,
    rest: Rest,
    /// The session task, for [`Client::shutdown`] to wait on.
    session: Arc<std::sync::Mutex<Option<JoinHandle<()>>>>,
}

impl Client {
    /// Starts the session task; events arrive on the returned receiver.
    pub fn start(
        config: ClientConfig,
    ) -> Result<(Client, mpsc::UnboundedReceiver<Event>), ClientError> {
        let rest = Rest::with_ca_file(&config.server, config.ca_file.as_deref())?;
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let session = connection::Session::new(config, rest.clone(), ev_tx, cmd_rx);
        let task = tokio::spawn(session.run());
        Ok((
            Client {
                commands: cmd_tx,
                rest,
                session: Arc::new(std::sync::Mutex::new(Some(task))),
            },
            ev_rx,
        ))
    }

    /// REST access with the session's current token.
    pub fn rest(&self) -> &Rest {
        &self.rest
    }

    /// Queues a message and returns its `client_id` at once; `MessageSent` or
    /// `MessageFailed` follows. Queued messages survive disconnections.
    pub fn queue_message(&self, channel_id: &str, text: &str) -> Result<String, ClientError> {
        let client_id = uuid::Uuid::new_v4().to_string();
        self.commands
            .send(Order::Send {
                pending: PendingMessage {
                    client_id: client_id.clone(),
                    channel_id: channel_id.to_owned(),
                    text: text.to_owned(),
                },
                done: None,
            })
            .map_err(|_| ClientError::Closed)?;
        Ok(client_id)
    }

    /// Sends a message and waits until the server stores it (however many reconnects that
    /// takes) or refuses it.
    pub async fn send_message(&self, channel_id: &str, text: &str) -> Result<Message, ClientError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Order::Send {
                pending: PendingMessage {
                    client_id: uuid::Uuid::new_v4().to_string(),
                    channel_id: channel_id.to_owned(),
                    text: text.to_owned(),
                },
                done: Some(tx),
            })
            .map_err(|_| ClientError::Closed)?;
        rx.await.map_err(|_| ClientError::Closed)?
    }

    /// Asks the session to stop (it closes its connection and reports `closed`).
    pub fn stop(&self) {
        let _ = self.commands.send(Order::Stop);
    }

    /// Stops the session and waits until it has.
    pub async fn shutdown(&self) {
        self.stop();
        let task = self
            .session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }

    async fn call_request(
        &self,
        make: impl FnOnce(Option<String>) -> ClientFrame,
    ) -> Result<Call, ClientError> {
        let req_id = uuid::Uuid::new_v4().to_string();
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Order::CallRequest {
                frame: make(Some(req_id.clone())),
                req_id,
                done: tx,
            })
            .map_err(|_| ClientError::Closed)?;
        rx.await.map_err(|_| ClientError::Closed)?
    }

    /// Calls one to three users; returns the new call (their devices ring).
    pub async fn dial(&self, callees: &[String]) -> Result<Call, ClientError> {
        let callees = callees.to_vec();
        self.call_request(|req_id| ClientFrame::CallDial { req_id, callees })
            .await
    }

    pub async fn answer(&self, room_id: &str) -> Result<Call, ClientError> {
        let room_id = room_id.to_owned();
        self.call_request(|req_id| ClientFrame::CallAnswer { req_id, room_id })
            .await
    }

    pub async fn decline(&self, room_id: &str, reason: DeclineReason) -> Result<Call, ClientError> {
        let room_id = room_id.to_owned();
        self.call_request(|req_id| ClientFrame::CallDecline {
            req_id,
            room_id,
            reason,
        })
        .await
    }

    /// Joins the call of this session's access link (a session connected by link only).
    pub async fn join(&self, room_id: &str) -> Result<Call, ClientError> {
        let room_id = room_id.to_owned();
        self.call_request(|req_id| ClientFrame::CallJoin { req_id, room_id })
            .await
    }

    /// Stops a call ringing on this user's devices; the caller is not told.
    pub async fn ignore(&self, room_id: &str) -> Result<Call, ClientError> {
        let room_id = room_id.to_owned();
        self.call_request(|req_id| ClientFrame::CallIgnore { req_id, room_id })
            .await
    }

    /// Has a call ringing for this user ring for `to` instead.
    pub async fn forward(&self, room_id: &str, to: &str) -> Result<Call, ClientError> {
        let (room_id, to) = (room_id.to_owned(), to.to_owned());
        self.call_request(|req_id| ClientFrame::CallForward {
            req_id,
            room_id,
            to,
        })
        .await
    }

    /// Hands a call this device holds over to `to` (a blind transfer); this side leaves.
    pub async fn transfer(&self, room_id: &str, to: &str) -> Result<Call, ClientError> {
        let (room_id, to) = (room_id.to_owned(), to.to_owned());
        self.call_request(|req_id| ClientFrame::CallTransfer {
            req_id,
            room_id,
            to,
        })
        .await
    }

    /// Connects the remote parties of two calls this device holds with each other (a
    /// consultative transfer): the party of `with_room` moves into `room_id`, and this
    /// side leaves both.
    pub async fn consultative_transfer(
        &self,
        room_id: &str,
        with_room: &str,
    ) -> Result<Call, ClientError> {
        let (room_id, with_room) = (room_id.to_owned(), with_room.to_owned());
        self.call_request(|req_id| ClientFrame::CallConsultativeTransfer {
            req_id,
            room_id,
            with_room,
        })
        .await
    }

    /// Joins two calls this device holds into one (`room_id`, which this side still holds
    /// until it resumes it): the parties of `with_room` move into it.
    pub async fn merge(&self, room_id: &str, with_room: &str) -> Result<Call, ClientError> {
        let (room_id, with_room) = (room_id.to_owned(), with_room.to_owned());
        self.call_request(|req_id| ClientFrame::CallMerge {
            req_id,
            room_id,
            with_room,
        })
        .await
    }

    /// Hangs up (or cancels an outgoing call that still rings, or declines one ringing).
    pub async fn hangup(&self, room_id: &str) -> Result<Call, ClientError> {
        self.hangup_because(room_id, crate::proto::EndReason::HangUp)
            .await
    }

    /// Leaves a call because its media failed (`error`, `incompatible_media`,
    /// `media_lost`): a 1:1 call ends with that reason for both sides.
    pub async fn hangup_because(
        &self,
        room_id: &str,
        reason: crate::proto::EndReason,
    ) -> Result<Call, ClientError> {
        let room_id = room_id.to_owned();
        let reason = (reason != crate::proto::EndReason::HangUp).then_some(reason);
        self.call_request(|req_id| ClientFrame::CallHangup {
            req_id,
            room_id,
            reason,
        })
        .await
    }

    /// Relays WebRTC signaling to another party of a call.
    pub fn signal(&self, room_id: &str, to_user: &str, signal: Signal) -> Result<(), ClientError> {
        self.commands
            .send(Order::Frame(ClientFrame::CallSignal {
                room_id: room_id.to_owned(),
                to_user: to_user.to_owned(),
                signal,
            }))
            .map_err(|_| ClientError::Closed)
    }

    /// Reports media changes of a call, which move its visible state.
    pub fn media_changed(&self, room_id: &str, change: MediaChange) {
        let _ = self.commands.send(Order::Media {
            room_id: room_id.to_owned(),
            change,
        });
    }
}
