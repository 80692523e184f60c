//! WebSocket frames.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    ApiError, Call, CallHistoryChange, CallLogEntry, Channel, Contact, ContactChange,
    DeclineReason, EndReason, ErrorCode, Message, Presence, ReadState, Signal, UserEntry,
    Voicemail, VoicemailChange, VoicemailIndicator,
};

/// Frames a client sends on `GET /v1/ws`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Store a message; answered by `ack` (or `error`) carrying the same `req_id`.
    SendMessage {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        req_id: Option<String>,
        channel_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
        text: String,
    },
    /// Move the caller's read mark; every device of the caller gets `read`.
    MarkRead {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        req_id: Option<String>,
        channel_id: String,
        seq: u64,
    },
    /// Replay what was missed: every message with a sequence number above the cursor, per
    /// channel; channels absent from `cursors` are announced with `channel_added` and replay
    /// from the start. Ends with `resumed`.
    Resume { cursors: BTreeMap<String, u64> },
    /// Receive `presence` frames for these users (all users when `users` is absent).
    SubscribePresence {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        users: Option<Vec<String>>,
    },
    /// Replace the session's access token before it expires; answered by `token_refreshed`.
    RefreshToken { access_token: String },
    /// Start a call with one to three users; answered by `call_updated` with the new call.
    CallDial {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        req_id: Option<String>,
        callees: Vec<String>,
    },
    CallAnswer {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        req_id: Option<String>,
        room_id: String,
    },
    CallDecline {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        req_id: Option<String>,
        room_id: String,
        #[serde(default)]
        reason: DeclineReason,
    },
    /// Leave the call: cancels it when the caller does so while it rings, declines it when
    /// a ringing callee does.
    CallHangup {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        req_id: Option<String>,
        room_id: String,
        /// Why this party leaves: `hang_up` (the default), or what went wrong with its
        /// media (`error`, `incompatible_media`, `media_lost`); a 1:1 call ends with it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<EndReason>,
    },
    /// This party holds (`hold: true`) or resumes its call. The audio itself is held
    /// between the peers (SDP direction); the server records it so that a device whose calls
    /// are all held may dial or answer another. Answered by `call_updated`.
    CallHold {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        req_id: Option<String>,
        room_id: String,
        hold: bool,
    },
    /// Stop ringing on this user's devices for a call that rings for them; the caller is
    /// not told (their call goes on ringing). Answered by `call_updated`.
    CallIgnore {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        req_id: Option<String>,
        room_id: String,
    },
    /// Have a call that rings for this user ring for `to` instead; the caller's call goes
    /// on. Answered by `call_updated`.
    CallForward {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        req_id: Option<String>,
        room_id: String,
        to: String,
    },
    /// Hand a call this party holds over to `to` (a blind transfer): `to` rings and, on
    /// answering, talks with the remote party; this party leaves. Answered by `call_updated`.
    CallTransfer {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        req_id: Option<String>,
        room_id: String,
        to: String,
    },
    /// Connect the remote parties of two calls this party holds with each other (a
    /// consultative transfer): the party of `with_room` moves into `room_id` (it gets
    /// `call_moved`), and this party leaves both. Answered by `call_updated` (`room_id`).
    CallConsultativeTransfer {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        req_id: Option<String>,
        room_id: String,
        with_room: String,
    },
    /// Join two calls this party holds into one: the parties of `with_room` move into
    /// `room_id` (they get `call_moved`), which goes on with everyone; `with_room` ends.
    /// Answered by `call_updated` (`room_id`).
    CallMerge {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        req_id: Option<String>,
        room_id: String,
        with_room: String,
    },
    /// Join the call of the session's access link (only a session connected by link may):
    /// the device becomes a `joined` party, and media is set up with everyone in the call.
    /// Joining again after leaving is allowed while the call lasts. Answered by
    /// `call_updated`.
    CallJoin {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        req_id: Option<String>,
        room_id: String,
    },
    /// Relay a signal to another party of the call.
    CallSignal {
        room_id: String,
        to_user: String,
        signal: Signal,
    },
    Ping {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        req_id: Option<String>,
    },
}

/// Frames the server sends on `GET /v1/ws`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// First frame of every connection.
    Ready {
        protocol: u32,
        user_id: String,
        device_id: String,
        expires_at: DateTime<Utc>,
        server_time: DateTime<Utc>,
        /// Newest sequence number of every channel the user takes part in.
        channels: BTreeMap<String, u64>,
        /// The calls this device is in and those ringing for its user.
        #[serde(default)]
        calls: Vec<Call>,
    },
    /// A `send_message` was stored (or had been stored before under the same `client_id`).
    Ack {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        req_id: Option<String>,
        message: Message,
    },
    /// A request failed; the connection stays open unless a close follows.
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        req_id: Option<String>,
        code: ErrorCode,
        message: String,
        /// With `rate_limited`: milliseconds until the request can succeed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    /// A message in one of the user's channels (live, or replayed by `resume`).
    Message {
        message: Message,
    },
    ChannelAdded {
        channel: Channel,
    },
    ChannelRemoved {
        channel_id: String,
        participants: Vec<String>,
    },
    /// The user's read mark moved (on this or another device).
    Read {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        req_id: Option<String>,
        #[serde(flatten)]
        state: ReadState,
    },
    /// The end of a `resume` replay.
    Resumed {
        replayed: u64,
    },
    /// A user's display name or profile changed (sent to those following their presence
    /// and to the user's own devices).
    UserUpdated {
        user: UserEntry,
    },
    /// The user's address book changed (on this or another device).
    Contact {
        change: ContactChange,
        contact: Contact,
    },
    Presence {
        presence: Presence,
    },
    /// The access token expires soon: send `refresh_token`.
    TokenAboutToExpire {
        expires_at: DateTime<Utc>,
    },
    TokenRefreshed {
        expires_at: DateTime<Utc>,
    },
    /// The access token expired; the server closes the connection next.
    TokenExpired,
    /// The user was deleted; the server closes the connection next.
    ForceDisconnect {
        reason: String,
    },
    /// Someone calls this user; every device of theirs rings.
    CallIncoming {
        call: Call,
    },
    /// The call changed (and the answer to a call request, with its `req_id`).
    CallUpdated {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        req_id: Option<String>,
        call: Call,
    },
    /// This device's call `from_room` goes on as `call` (another of its rooms): its
    /// other party joined it with a call of theirs, or handed it over to a party of that
    /// call. The device sets up media with the parties of `call` and drops `from_room`,
    /// which it hears no more about.
    CallMoved {
        from_room: String,
        call: Call,
    },
    /// The call is over for this device, for `reason` (which can differ from the call's own
    /// end reason, e.g. `answered_on_another_device`).
    CallEnded {
        call: Call,
        reason: EndReason,
    },
    /// The user's call history changed (on every device of theirs).
    CallHistory {
        change: CallHistoryChange,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entry: Option<CallLogEntry>,
        /// With `deleted`: the entry that went.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room_id: Option<String>,
        missed_unseen: u64,
    },
    /// The user's voice messages changed (on every device of theirs).
    Voicemail {
        change: VoicemailChange,
        voicemail_id: String,
        /// With `added`: the message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        voicemail: Option<Voicemail>,
        indicator: VoicemailIndicator,
    },
    CallSignal {
        room_id: String,
        from_user: String,
        from_device: String,
        signal: Signal,
    },
    Pong {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        req_id: Option<String>,
    },
}

impl ServerFrame {
    /// The `error` frame for a failed request.
    pub fn error(req_id: Option<String>, e: ApiError) -> Self {
        ServerFrame::Error {
            req_id,
            code: e.code,
            message: e.message,
            retry_after_ms: e.retry_after_ms,
        }
    }
}

/// Names of every client frame type, for error messages and docs.
pub const CLIENT_FRAME_TYPES: &[&str] = &[
    "send_message",
    "mark_read",
    "resume",
    "subscribe_presence",
    "refresh_token",
    "call_dial",
    "call_answer",
    "call_decline",
    "call_hangup",
    "call_signal",
    "ping",
];

/// Parse a client frame, telling an unknown `type` apart from a malformed frame.
pub fn parse_client_frame(text: &str) -> Result<ClientFrame, ApiError> {
    // Well-formed frames, nearly all of them, are parsed once; the slower path below only
    // works out what is wrong with the others.
    if let Ok(frame) = serde_json::from_str::<ClientFrame>(text) {
        return Ok(frame);
    }
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| ApiError::new(ErrorCode::MalformedRequest, format!("invalid JSON: {e}")))?;
    let kind = value
        .get("type")
        .and_then(|t| t.as_str())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::MalformedRequest,
                "a frame must be a JSON object with a string field `type`",
            )
        })?
        .to_owned();
    if !CLIENT_FRAME_TYPES.contains(&kind.as_str()) {
        return Err(ApiError::new(
            ErrorCode::UnknownFrameType,
            format!(
                "unknown frame type `{kind}`; known types: {}",
                CLIENT_FRAME_TYPES.join(", ")
            ),
        ));
    }
    serde_json::from_value(value).map_err(|e| {
        ApiError::new(
            ErrorCode::MalformedRequest,
            format!("bad `{kind}` frame: {e}"),
        )
    })
}

/// The `req_id` of a frame, if the text is JSON carrying one (used to answer even frames
/// that fail to parse).
pub fn frame_req_id(text: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    value.get("req_id")?.as_str().map(str::to_owned)
}
