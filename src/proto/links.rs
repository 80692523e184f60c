//! Access links: a URL that lets whoever opens it join one call, as a guest or as the one
//! user it was made for, with a session restricted to that call and its chat.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The user ids of guests (who have no account) start with this; no account may.
pub const GUEST_PREFIX: &str = "guest_";
/// Most access links one call has.
pub const MAX_LINKS_PER_CALL: usize = 16;
/// Longest lifetime of a link session's token, in seconds; it ends with the call sooner.
pub const LINK_SESSION_S: i64 = 12 * 3600;

/// Whether `user_id` is a guest's.
#[must_use]
pub fn is_guest(user_id: &str) -> bool {
    user_id.starts_with(GUEST_PREFIX)
}

/// `POST /v1/calls/{room_id}/links` (and the admin route): what the link admits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreateLinkRequest {
    /// Only this user may use the link (with their access token); absent: anyone, as a
    /// guest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// An access link to a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CallLink {
    pub link_id: String,
    pub room_id: String,
    /// The page a browser opens to join (`{server}/join/{token}`); `parla join` takes it
    /// too.
    pub url: String,
    /// The secret part of the URL, for `POST /v1/join/{token}`.
    pub token: String,
    /// The call's chat channel, shared by its parties and its guests.
    pub channel_id: String,
    /// Who made it: a party of the call, or `admin`.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// `POST /v1/join/{token}`: who joins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JoinRequest {
    /// A guest's name as the call shows it (1–128 characters; default `Guest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// For a link made for one user: that user's access token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
}

/// A session connected by access link: a token for `GET /v1/ws` valid for this call only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LinkSession {
    pub access_token: String,
    pub expires_at: DateTime<Utc>,
    pub user_id: String,
    pub display_name: String,
    pub guest: bool,
    pub room_id: String,
    pub channel_id: String,
}
