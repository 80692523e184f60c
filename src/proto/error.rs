//! Error codes and the error body every failure carries.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
    /// No unanswered call of the uploader's, ended in the last minutes, to leave a voice
    /// message after (or one was left for it already).
    VoicemailNotAllowed,
    /// The upload is not a well-formed Ogg Opus file (or is cut short).
    VoicemailInvalid,
    /// The voice message is longer than [`super::MAX_VOICEMAIL_S`] or larger than
    /// [`super::MAX_VOICEMAIL_BYTES`].
    VoicemailTooLong,
    /// The recipient's mailbox is full.
    VoicemailQuotaExceeded,
    /// No such voice message in the user's mailbox.
    VoicemailNotFound,
    /// The access link is not one of this server's, or its call has ended.
    InvalidAccessLink,
    /// The access link was made for another user than the one presenting it.
    UserNotAssociatedToLink,
    /// A session connected by access link may do only what concerns its call (and its
    /// call's chat); this is something else.
    LinkSessionRestricted,
    /// The user is connected by access link and tries to connect by access token, or the
    /// reverse: the other session must end first.
    SessionConflict,
    UserDoNotDisturb,
    UserNameTaken,
    ContactNotFound,
    ContactAlreadyExists,
    ContactLimitReached,
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
            ErrorCode::VoicemailNotAllowed => "voicemail_not_allowed",
            ErrorCode::VoicemailInvalid => "voicemail_invalid",
            ErrorCode::VoicemailTooLong => "voicemail_too_long",
            ErrorCode::VoicemailQuotaExceeded => "voicemail_quota_exceeded",
            ErrorCode::VoicemailNotFound => "voicemail_not_found",
            ErrorCode::InvalidAccessLink => "invalid_access_link",
            ErrorCode::UserNotAssociatedToLink => "user_not_associated_to_link",
            ErrorCode::LinkSessionRestricted => "link_session_restricted",
            ErrorCode::SessionConflict => "session_conflict",
            ErrorCode::UserDoNotDisturb => "user_do_not_disturb",
            ErrorCode::UserNameTaken => "user_name_taken",
            ErrorCode::ContactNotFound => "contact_not_found",
            ErrorCode::ContactAlreadyExists => "contact_already_exists",
            ErrorCode::ContactLimitReached => "contact_limit_reached",
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
