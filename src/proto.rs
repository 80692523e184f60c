//! Every type that crosses the wire between `parla serve` and its clients.
//!
//! REST bodies and WebSocket frames are plain serde structs so the protocol lives in one
//! place; `docs/protocol.md` describes them with examples and `docs/openapi.json` is
//! generated from the REST part. Field names are `snake_case`; WebSocket frames carry their
//! kind in a `type` field.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Version of the WebSocket frame schema, sent in `ready`.
pub const PROTOCOL_VERSION: u32 = 1;
/// Longest message text accepted, in bytes of UTF-8.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;
/// Largest WebSocket frame or REST body the server reads, in bytes.
pub const MAX_FRAME_BYTES: usize = 256 * 1024;
/// Most messages one history request returns.
pub const MAX_PAGE: u32 = 500;
/// Default number of messages a history request returns.
pub const DEFAULT_PAGE: u32 = 50;
/// Access token lifetime bounds, in seconds.
pub const MIN_EXPIRES_IN: u64 = 360;
pub const MAX_EXPIRES_IN: u64 = 86_400;
pub const DEFAULT_EXPIRES_IN: u64 = 3600;
/// Longest user id, in bytes (its characters are ASCII).
pub const MAX_USER_ID_BYTES: usize = 64;
/// Longest display name or group name, in characters.
pub const MAX_NAME_CHARS: usize = 128;
/// Most participants in one group channel.
pub const MAX_PARTICIPANTS: usize = 256;
/// Most parties in one call, the caller included (a full mesh of peer connections).
pub const MAX_CALL_PARTIES: usize = 4;
/// Seconds a call rings before the server ends it with `timeout`.
pub const RING_TIMEOUT_S: u64 = 60;
/// Largest SDP or ICE candidate relayed, in bytes.
pub const MAX_SIGNAL_BYTES: usize = 64 * 1024;
/// Most users one WebSocket connection can follow with `subscribe_presence` (subscribing
/// to everyone counts as one).
pub const MAX_PRESENCE_SUBSCRIPTIONS: usize = 1000;
/// Shortest admin API key `parla serve` accepts, in characters.
pub const MIN_API_KEY_CHARS: usize = 16;

/// Stable error codes. The names follow the reference platform where it names one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A field is missing, of the wrong type, empty or out of range.
    ValidationError,
    /// A request body or frame is not valid JSON for its route or frame type.
    MalformedRequest,
    /// A WebSocket frame has a `type` the server does not know.
    UnknownFrameType,
    /// The request carries no credentials at all.
    AuthenticationError,
    /// The `apikey` header is missing or wrong.
    ApiKeyInvalid,
    /// The access token's `exp` has passed.
    AccessTokenExpired,
    /// The access token is not a well-formed HS256 JWT with `sub`, `iat` and `exp`.
    AccessTokenInvalid,
    /// The access token's signature does not verify with this server's key.
    AccessTokenInvalidSignature,
    /// A refreshed token belongs to a different user than the session.
    AccessTokenInvalidUser,
    /// The user does not exist (or was deleted).
    UserNotFound,
    /// A user with that id exists already.
    UserAlreadyExists,
    /// The channel does not exist, or the caller does not take part in it.
    ChannelNotExists,
    /// The history anchor names no message of the channel.
    MessageAnchorError,
    /// The message could not be stored; retry with the same `client_id`.
    MessageNotSaved,
    /// The message text is longer than [`MAX_MESSAGE_BYTES`].
    MessageTooLarge,
    /// The route does not exist.
    NotFound,
    /// This device is already placing or in a call.
    AnotherCallInProgress,
    /// The caller is in a call on another device.
    CurrentUserBusy,
    /// Every user called is in another call.
    AllUsersBusy,
    /// No call with that room id.
    CallNotFound,
    /// The call is not in a state that allows this (answering an ended call, ...).
    InvalidCallStatus,
    /// Too many requests of this kind in a short time; `retry_after_ms` says when to try
    /// again.
    RateLimited,
    /// `subscribe_presence` would follow more than [`MAX_PRESENCE_SUBSCRIPTIONS`] users.
    TooManySubscriptions,
    /// A `resume` arrived while this connection's previous one is still replaying.
    ResumeInProgress,
    /// The route exists but not with this HTTP method.
    MethodNotAllowed,
    /// Something failed on the server.
    InternalServerError,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ValidationError => "validation_error",
            ErrorCode::MalformedRequest => "malformed_request",
            ErrorCode::UnknownFrameType => "unknown_frame_type",
            ErrorCode::AuthenticationError => "authentication_error",
            ErrorCode::ApiKeyInvalid => "api_key_invalid",
            ErrorCode::AccessTokenExpired => "access_token_expired",
            ErrorCode::AccessTokenInvalid => "access_token_invalid",
            ErrorCode::AccessTokenInvalidSignature => "access_token_invalid_signature",
            ErrorCode::AccessTokenInvalidUser => "access_token_invalid_user",
            ErrorCode::UserNotFound => "user_not_found",
            ErrorCode::UserAlreadyExists => "user_already_exists",
            ErrorCode::ChannelNotExists => "channel_not_exists",
            ErrorCode::MessageAnchorError => "message_anchor_error",
            ErrorCode::MessageNotSaved => "message_not_saved",
            ErrorCode::MessageTooLarge => "message_too_large",
            ErrorCode::NotFound => "not_found",
            ErrorCode::AnotherCallInProgress => "another_call_in_progress",
            ErrorCode::CurrentUserBusy => "current_user_busy",
            ErrorCode::AllUsersBusy => "all_users_busy",
            ErrorCode::CallNotFound => "call_not_found",
            ErrorCode::InvalidCallStatus => "invalid_call_status",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::TooManySubscriptions => "too_many_subscriptions",
            ErrorCode::ResumeInProgress => "resume_in_progress",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::InternalServerError => "internal_server_error",
        }
    }

    /// True for the codes that mean "get a new token / credentials".
    pub fn is_auth(self) -> bool {
        matches!(
            self,
            ErrorCode::AuthenticationError
                | ErrorCode::ApiKeyInvalid
                | ErrorCode::AccessTokenExpired
                | ErrorCode::AccessTokenInvalid
                | ErrorCode::AccessTokenInvalidSignature
                | ErrorCode::AccessTokenInvalidUser
        )
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of every error response, and the payload of the `error` frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// With `rate_limited`: milliseconds until the request can succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            retry_after_ms: None,
        }
    }

    /// `rate_limited`, to be retried after `retry_after`.
    pub fn rate_limited(retry_after: std::time::Duration, message: impl Into<String>) -> Self {
        let ms = u64::try_from(retry_after.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        ApiError {
            code: ErrorCode::RateLimited,
            message: message.into(),
            retry_after_ms: Some(ms),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

/// Integers in request bodies: JSON Schema counts `12.0` as the integer 12, so the server
/// takes it as one (a fraction or a negative number is still refused).
mod whole_number {
    use serde::de::{Deserializer, Error, Visitor};

    struct Whole;

    impl Visitor<'_> for Whole {
        type Value = u64;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a whole number, 0 or more")
        }

        // The schema says int64: at most 2^63 - 1.
        fn visit_u64<E: Error>(self, v: u64) -> Result<u64, E> {
            if i64::try_from(v).is_ok() {
                Ok(v)
            } else {
                Err(E::custom(format!("{v} is larger than 2^63 - 1")))
            }
        }

        fn visit_i64<E: Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::custom(format!("{v} is negative")))
        }

        fn visit_f64<E: Error>(self, v: f64) -> Result<u64, E> {
            // Up to 2^53 every whole f64 is exact.
            if v.fract() == 0.0 && (0.0..=9_007_199_254_740_992.0).contains(&v) {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                Ok(v as u64)
            } else {
                Err(E::custom(format!("{v} is not a whole number")))
            }
        }
    }

    pub fn required<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        d.deserialize_any(Whole)
    }

    pub fn option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        struct Maybe;
        impl<'de> Visitor<'de> for Maybe {
            type Value = Option<u64>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a whole number or null")
            }
            fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(Whole).map(Some)
            }
        }
        d.deserialize_option(Maybe)
    }
}

// ---------------------------------------------------------------------------------------
// REST bodies
// ---------------------------------------------------------------------------------------

/// A user id in the OpenAPI document: 1 to 64 characters of `A-Z a-z 0-9 _ - . @`. (The
/// wire types keep plain strings; this only describes them.)
pub struct UserId;

impl utoipa::PartialSchema for UserId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(MAX_USER_ID_BYTES))
            .pattern(Some(r"^[A-Za-z0-9_.@-]{1,64}$"))
            .description(Some("1 to 64 characters of A-Z a-z 0-9 _ - . @"))
            .into()
    }
}

impl ToSchema for UserId {}

/// `POST /v1/admin/users`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreateUser {
    #[schema(value_type = UserId)]
    pub user_id: String,
    /// 1 to 128 characters, not blank, no control characters; the user id when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub user_id: String,
    pub display_name: String,
    pub created_at: DateTime<Utc>,
}

/// `POST /v1/admin/credentials`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CredentialsRequest {
    pub user_id: String,
    /// Lifetime in seconds, 360..=86400; 3600 when absent.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole_number::option"
    )]
    #[schema(minimum = 360, maximum = 86400)]
    pub expires_in: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Credentials {
    pub access_token: String,
    pub expires_at: DateTime<Utc>,
    pub user_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// Exactly two participants; at most one such channel per pair of users.
    Direct,
    /// Any number of participants, with a name.
    Group,
}

/// `POST /v1/channels`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreateChannel {
    /// The other participants (the caller is always added): at least one besides the
    /// caller, at most 255 different ones.
    #[schema(value_type = Vec<UserId>, min_items = 1, max_items = 255)]
    pub participants: Vec<String>,
    /// `direct` when absent and there is one other participant and no name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ChannelKind>,
    /// A group channel's name: 1 to 128 characters, not blank, no control characters.
    /// Without one, a group is named after its members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Channel {
    pub channel_id: String,
    pub kind: ChannelKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub participants: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// Sequence number of the newest message, 0 when there is none.
    pub last_seq: u64,
    /// The caller's unread count (messages of others after the caller's read mark).
    pub unread_count: u64,
    /// The caller's read mark.
    pub read_seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message: Option<Message>,
}

/// `POST /v1/channels/{channel_id}/messages`, and the `send_message` frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SendMessage {
    /// Chosen by the client; sending the same id again returns the stored message instead of
    /// storing a second one. The server makes one up when absent. 1 to 128 bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128)]
    pub client_id: Option<String>,
    /// 1 to 16384 bytes of UTF-8, not only whitespace.
    #[schema(min_length = 1, max_length = 16384, pattern = r"\S")]
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub message_id: String,
    pub channel_id: String,
    /// Per-channel sequence number, 1, 2, 3, ... without gaps.
    pub seq: u64,
    pub sender: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub client_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Older messages, ending just before the anchor (or the newest when no anchor).
    #[default]
    Backwards,
    /// Newer messages, starting just after the anchor (or the oldest when no anchor).
    Forwards,
}

/// `GET /v1/channels/{channel_id}/messages` answer. Messages are always oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MessagePage {
    pub messages: Vec<Message>,
    /// True when more messages lie beyond this page in the requested direction.
    pub has_more: bool,
}

/// `POST /v1/channels/{channel_id}/read`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MarkRead {
    #[serde(deserialize_with = "whole_number::required")]
    pub seq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReadState {
    pub channel_id: String,
    pub read_seq: u64,
    pub unread_count: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PresenceStatus {
    Online,
    Offline,
    /// In a call; `busy_with` names the other parties.
    Busy,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DevicePresence {
    pub device_id: String,
    pub device_name: String,
    pub status: PresenceStatus,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub busy_with: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Presence {
    pub user_id: String,
    /// `busy` when any device is busy, else `online` when any device is connected.
    pub status: PresenceStatus,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub busy_with: Vec<String>,
    pub devices: Vec<DevicePresence>,
}

/// One entry of `GET /v1/users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserEntry {
    pub user_id: String,
    pub display_name: String,
    pub presence: Presence,
}

// ---------------------------------------------------------------------------------------
// Calls
// ---------------------------------------------------------------------------------------

/// Where a call room stands on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallStatus {
    /// Ringing; nobody has answered yet.
    Dialing,
    /// At least one callee answered; media is set up peer to peer.
    Connected,
    Ended,
}

/// Why a call ended (for everyone, or for one device).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// Every callee declined.
    Declined,
    /// The caller gave up before anyone answered.
    Canceled,
    /// Another device of the same user answered (this device stops ringing).
    AnsweredOnAnotherDevice,
    /// Someone hung up (a 1:1 call), or fewer than two parties remain.
    HangUp,
    /// Nobody answered within the ring timeout.
    Timeout,
    /// The call failed (media could not be set up, the device went away, ...).
    Error,
}

impl EndReason {
    /// The reason's name, as JSON spells it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Declined => "declined",
            EndReason::Canceled => "canceled",
            EndReason::AnsweredOnAnotherDevice => "answered_on_another_device",
            EndReason::HangUp => "hang_up",
            EndReason::Timeout => "timeout",
            EndReason::Error => "error",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum DeclineReason {
    #[default]
    None,
    Error,
    DoNotDisturb,
    NoAnswer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantState {
    /// The caller, while in the call.
    Calling,
    Ringing,
    Joined,
    Declined,
    /// Did not answer within the ring timeout.
    Missed,
    Left,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CallParticipant {
    pub user_id: String,
    pub state: ParticipantState,
    /// The device taking part (caller, or the callee's answering device).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_reason: Option<DeclineReason>,
}

/// A call room as everyone in it sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Call {
    pub room_id: String,
    pub caller: String,
    pub created_at: DateTime<Utc>,
    pub status: CallStatus,
    /// The caller first.
    pub participants: Vec<CallParticipant>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<EndReason>,
}

impl Call {
    pub fn participant(&self, user_id: &str) -> Option<&CallParticipant> {
        self.participants.iter().find(|p| p.user_id == user_id)
    }

    /// Users other than `user_id` still in the call or being rung.
    pub fn others(&self, user_id: &str) -> Vec<String> {
        self.participants
            .iter()
            .filter(|p| p.user_id != user_id)
            .filter(|p| {
                matches!(
                    p.state,
                    ParticipantState::Calling
                        | ParticipantState::Ringing
                        | ParticipantState::Joined
                )
            })
            .map(|p| p.user_id.clone())
            .collect()
    }
}

/// WebRTC signaling relayed between two devices of a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Signal {
    Offer {
        sdp: String,
    },
    Answer {
        sdp: String,
    },
    Candidate {
        candidate: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sdp_mid: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sdp_mline_index: Option<u16>,
    },
    EndOfCandidates,
}

impl Signal {
    pub fn size(&self) -> usize {
        match self {
            Signal::Offer { sdp } | Signal::Answer { sdp } => sdp.len(),
            Signal::Candidate {
                candidate, sdp_mid, ..
            } => candidate.len() + sdp_mid.as_ref().map_or(0, String::len),
            Signal::EndOfCandidates => 0,
        }
    }
}

/// `GET /v1/ice-servers`: STUN/TURN servers for a call's peer connection. TURN entries
/// carry short-lived credentials (the TURN REST scheme coturn understands).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub status: String,
    pub version: String,
}

// ---------------------------------------------------------------------------------------
// WebSocket frames
// ---------------------------------------------------------------------------------------

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
    /// The call is over for this device, for `reason` (which can differ from the call's own
    /// end reason, e.g. `answered_on_another_device`).
    CallEnded {
        call: Call,
        reason: EndReason,
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

#[cfg(test)]
// Fixtures convert numbers freely and compare exact values.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap,
    clippy::float_cmp
)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_tagged_snake_case() {
        let frame = ClientFrame::SendMessage {
            req_id: Some("r1".into()),
            channel_id: "ch_1".into(),
            client_id: Some("c1".into()),
            text: "hi".into(),
        };
        let json = serde_json::to_value(&frame).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type":"send_message","req_id":"r1","channel_id":"ch_1","client_id":"c1","text":"hi"})
        );
        let read = ServerFrame::Read {
            req_id: None,
            state: ReadState {
                channel_id: "ch_1".into(),
                read_seq: 3,
                unread_count: 0,
            },
        };
        assert_eq!(
            serde_json::to_value(&read).unwrap(),
            serde_json::json!({"type":"read","channel_id":"ch_1","read_seq":3,"unread_count":0})
        );
        assert_eq!(
            serde_json::to_value(ServerFrame::TokenExpired).unwrap(),
            serde_json::json!({"type":"token_expired"})
        );
    }

    #[test]
    fn parse_tells_unknown_type_from_malformed() {
        assert_eq!(
            parse_client_frame("{nope").unwrap_err().code,
            ErrorCode::MalformedRequest
        );
        assert_eq!(
            parse_client_frame(r#"{"type":"dance"}"#).unwrap_err().code,
            ErrorCode::UnknownFrameType
        );
        assert_eq!(
            parse_client_frame(r#"{"type":"send_message","text":5}"#)
                .unwrap_err()
                .code,
            ErrorCode::MalformedRequest
        );
        assert_eq!(
            parse_client_frame(r"[1,2]").unwrap_err().code,
            ErrorCode::MalformedRequest
        );
        assert!(matches!(
            parse_client_frame(r#"{"type":"ping"}"#).unwrap(),
            ClientFrame::Ping { req_id: None }
        ));
        assert_eq!(
            frame_req_id(r#"{"type":"x","req_id":"abc"}"#).as_deref(),
            Some("abc")
        );
    }

    #[test]
    fn whole_numbers_may_be_written_with_a_point_zero() {
        let read: MarkRead = serde_json::from_str(r#"{"seq": 24521.0}"#).unwrap();
        assert_eq!(read.seq, 24521);
        let creds: CredentialsRequest =
            serde_json::from_str(r#"{"user_id": "a", "expires_in": 3.6e3}"#).unwrap();
        assert_eq!(creds.expires_in, Some(3600));
        let none: CredentialsRequest =
            serde_json::from_str(r#"{"user_id": "a", "expires_in": null}"#).unwrap();
        assert_eq!(none.expires_in, None);
        for bad in [
            r#"{"seq": 1.5}"#,
            r#"{"seq": -1}"#,
            r#"{"seq": "1"}"#,
            r#"{"seq": 1e300}"#,
            r#"{"seq": 9223372036854775808}"#,
        ] {
            assert!(serde_json::from_str::<MarkRead>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn error_code_names_match_serde() {
        for code in [
            ErrorCode::ValidationError,
            ErrorCode::AccessTokenExpired,
            ErrorCode::ChannelNotExists,
            ErrorCode::MessageAnchorError,
            ErrorCode::MessageNotSaved,
            ErrorCode::UnknownFrameType,
            ErrorCode::RateLimited,
            ErrorCode::TooManySubscriptions,
            ErrorCode::ResumeInProgress,
            ErrorCode::MethodNotAllowed,
            ErrorCode::InternalServerError,
        ] {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::json!(code.as_str())
            );
        }
    }
}
