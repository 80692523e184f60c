//! Calls: rooms, participants, signaling, ICE servers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
    /// The call failed (media could not be set up, a description could not be used, ...).
    Error,
    /// The two sides have no audio codec in common: the offer's audio was rejected.
    IncompatibleMedia,
    /// The media path went and ICE restarts could not bring it back.
    MediaLost,
    /// A party's device stayed disconnected from the server longer than the grace period.
    ConnectionLost,
    /// Only as the `reason` of a `call_ended` to the devices of a user who ignored a
    /// ringing call (the caller is not told).
    Ignored,
    /// Only as the `reason` of a `call_ended` to the devices of a user who forwarded a
    /// ringing call to someone else.
    Forwarded,
    /// Only as the `reason` of a `call_ended` to the devices of a user who transferred a
    /// call to someone else, and the end reason of the second call of a consultative
    /// transfer (its party now talks in the first).
    Transferred,
    /// The end reason of the second call of two joined into one (its parties now talk in
    /// the first).
    Joined,
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
            EndReason::IncompatibleMedia => "incompatible_media",
            EndReason::MediaLost => "media_lost",
            EndReason::ConnectionLost => "connection_lost",
            EndReason::Ignored => "ignored",
            EndReason::Forwarded => "forwarded",
            EndReason::Transferred => "transferred",
            EndReason::Joined => "joined",
        }
    }

    /// A reason a party may give when it hangs up (`call_hangup`'s `reason`).
    #[must_use]
    pub fn is_hangup_reason(self) -> bool {
        matches!(
            self,
            EndReason::HangUp
                | EndReason::Error
                | EndReason::IncompatibleMedia
                | EndReason::MediaLost
        )
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
    /// A callee who forwarded the ringing call (to `forwarded_to`).
    Forwarded,
    /// A party who transferred the call (to `transferred_to`) and left it.
    Transferred,
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
    /// This party holds the call (`call_hold`): while every call of a device is held, it
    /// may dial or answer another.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub held: bool,
    /// Who this callee forwarded the ringing call to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded_to: Option<String>,
    /// Who this party transferred the call to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transferred_to: Option<String>,
    /// A guest who joined by access link (no account: `user_id` is `guest_…`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub guest: bool,
    /// The name a guest gave when joining.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

impl CallParticipant {
    /// A party in `state`, with nothing else set.
    #[must_use]
    pub fn new(user_id: &str, state: ParticipantState) -> Self {
        CallParticipant {
            user_id: user_id.to_owned(),
            state,
            device_id: None,
            decline_reason: None,
            held: false,
            forwarded_to: None,
            transferred_to: None,
            guest: false,
            display_name: None,
        }
    }
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

/// Which way a call went, for one of its parties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallDirection {
    Incoming,
    Outgoing,
}

/// One call in a user's call history, as it ended for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CallLogEntry {
    /// Position in the user's history (newer entries have larger ones); the paging cursor.
    pub seq: u64,
    pub room_id: String,
    pub direction: CallDirection,
    /// The other users of the call (those rung included).
    pub with: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// When the call was first answered (absent when it never was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: DateTime<Utc>,
    /// From answer to end; 0 when never answered.
    pub duration_s: u64,
    pub end_reason: EndReason,
    /// It rang for this user and they neither answered, declined nor forwarded it.
    pub missed: bool,
    /// A missed call the user has marked seen.
    #[serde(default)]
    pub seen: bool,
    /// This user forwarded it (while it rang) to this user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded_to: Option<String>,
    /// This user transferred it to this user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transferred_to: Option<String>,
    /// It reached this user forwarded by this user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded_by: Option<String>,
    /// It reached this user transferred by this user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transferred_by: Option<String>,
}

/// A page of the call history, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CallHistoryPage {
    pub entries: Vec<CallLogEntry>,
    /// Older entries exist: ask again with `before` set to the last entry's `seq`.
    pub has_more: bool,
    /// Missed calls not yet marked seen.
    pub missed_unseen: u64,
}

/// What changed in a user's call history (`call_history` frames).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallHistoryChange {
    /// A call ended: `entry` is its record.
    Added,
    /// The entry for `room_id` was deleted.
    Deleted,
    /// Every entry was deleted.
    Cleared,
    /// The missed calls were marked seen.
    Seen,
}

/// The missed-call count after marking them seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MissedCount {
    pub missed_unseen: u64,
}
