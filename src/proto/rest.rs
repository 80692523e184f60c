//! REST bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::MAX_USER_ID_BYTES;

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
    /// First and last name, user name, email, phones: what was set of them.
    #[serde(default, skip_serializing_if = "super::Profile::is_empty")]
    pub profile: super::Profile,
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
    /// A voice message's announcement: the voice message (see `GET /v1/voicemail`); only its
    /// recipient can play it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voicemail_id: Option<String>,
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

/// How available a user says they are (reference 004's presence status), set by the user
/// and kept by the server across connections and restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    #[default]
    Available,
    Away,
    Busy,
    /// Calls are declined with `do_not_disturb` without ringing; chat notifications are
    /// quiet.
    DoNotDisturb,
}

impl Availability {
    pub const ALL: [Availability; 4] = [
        Availability::Available,
        Availability::Away,
        Availability::Busy,
        Availability::DoNotDisturb,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Available => "available",
            Availability::Away => "away",
            Availability::Busy => "busy",
            Availability::DoNotDisturb => "do_not_disturb",
        }
    }

    pub fn parse(s: &str) -> Option<Availability> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// What a user is doing (reference 004's presence activity). `on_the_phone` is also what
/// the server shows on its own while the user is in a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    OnThePhone,
    Meeting,
    Lunch,
    Travelling,
    Vacation,
    Other,
}

impl Activity {
    pub const ALL: [Activity; 6] = [
        Activity::OnThePhone,
        Activity::Meeting,
        Activity::Lunch,
        Activity::Travelling,
        Activity::Vacation,
        Activity::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Activity::OnThePhone => "on_the_phone",
            Activity::Meeting => "meeting",
            Activity::Lunch => "lunch",
            Activity::Travelling => "travelling",
            Activity::Vacation => "vacation",
            Activity::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Activity> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// The part of a user's presence the user sets; the body of `PUT /v1/me/presence`, which
/// replaces the whole of it (an activity or note left out is cleared).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
pub struct PresenceSetting {
    pub availability: Availability,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<Activity>,
    /// Free text shown beside the status, at most [`MAX_NOTE_CHARS`] characters without
    /// control characters; empty is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 140, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub note: Option<String>,
}

/// Most characters a presence note holds.
pub const MAX_NOTE_CHARS: usize = 140;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Presence {
    pub user_id: String,
    /// `busy` when any device is busy, else `online` when any device is connected.
    pub status: PresenceStatus,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub busy_with: Vec<String>,
    pub devices: Vec<DevicePresence>,
    /// What the user set (`available` until they set something).
    #[serde(default)]
    pub availability: Availability,
    /// `on_the_phone` while the user is in a call, else the activity they set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<Activity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One entry of `GET /v1/users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserEntry {
    pub user_id: String,
    pub display_name: String,
    pub presence: Presence,
    #[serde(default, skip_serializing_if = "super::Profile::is_empty")]
    pub profile: super::Profile,
}
