//! Voice messages: left by a caller whose call was not answered, kept by the server for the
//! callee, and the indicator of how many wait unheard (reference 004's voicemail data).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Longest voice message, in seconds.
pub const MAX_VOICEMAIL_S: u64 = 120;
/// Largest voice message file, in bytes (two minutes of speech at 64 kbit/s fit).
pub const MAX_VOICEMAIL_BYTES: usize = 1024 * 1024;
/// Bytes of voice messages the server keeps per user unless told otherwise.
pub const DEFAULT_VOICEMAIL_QUOTA: u64 = 16 * 1024 * 1024;
/// Minutes after an unanswered call ends during which its caller may leave a message.
pub const VOICEMAIL_WINDOW_MIN: i64 = 10;

/// A voice message in its recipient's mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Voicemail {
    pub voicemail_id: String,
    /// Who left it.
    pub from: String,
    /// The unanswered call it was left after.
    pub room_id: String,
    pub created_at: DateTime<Utc>,
    pub duration_ms: u64,
    /// Size of the Ogg Opus file.
    pub bytes: u64,
    pub heard: bool,
    /// The message in the direct channel that announces it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
}

/// How many voice messages wait (reference 004's `voicemail` data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
pub struct VoicemailIndicator {
    pub total_voice: u64,
    pub unheard_voice: u64,
    /// Some are unheard.
    pub new_messages_waiting: bool,
    /// Bytes used of the quota, and the quota.
    pub bytes: u64,
    pub quota_bytes: u64,
}

/// `GET /v1/voicemail`: the mailbox, newest first, and its indicator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VoicemailBox {
    pub voicemails: Vec<Voicemail>,
    pub indicator: VoicemailIndicator,
}

/// What changed in a mailbox (`voicemail` frames).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VoicemailChange {
    /// A message was left: `voicemail` is it.
    Added,
    /// A message was marked heard.
    Heard,
    /// A message was deleted.
    Deleted,
}
