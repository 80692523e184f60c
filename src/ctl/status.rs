//! What `status` answers, the same for the interface and for `parla answer`: ids and codes,
//! never display names or translated text.
//!
//! ```text
//! {"user":"you","connection":"connected","audio":"null",
//!  "audio_notice":{"code":"no_device","message":"there is no default input device"},
//!  "current_channel":"ch_...","unread":2,
//!  "calls":[{"room_id":"call_...","state":"connected","direction":"outgoing",
//!            "with":["echo"],"duration_s":12,"muted":false,"on_hold":false,
//!            "remote_hold":false,"dtmf_received":"42","stats":{...}}]}
//! ```
//!
//! `connection` is `connecting`, `connected`, `reconnecting`, `failed` or `closed`; `state`
//! is `dialing`, `ringing`, `connecting`, `connected`, `on_hold` or `ended`. `audio` is the
//! sound in use (`device`, `null`, or what `parla answer` was given: `tone`, `wav`), and
//! `audio_notice` why calls are silent, when they are. `current_channel` and `unread` are
//! the interface's (`null` and 0 for `parla answer`); `stats` is `null` until the first
//! statistics arrive.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::client::call::{CallState, CallView, Direction};
use crate::client::session::ConnectionState;
use crate::media::stats::CallStats;

/// Why calls are silent: a stable code and the sound system's own words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AudioNotice {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    pub user: String,
    pub connection: &'static str,
    pub audio: String,
    pub audio_notice: Option<AudioNotice>,
    pub current_channel: Option<String>,
    pub unread: u64,
    pub calls: Vec<CallStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallStatus {
    pub room_id: String,
    pub state: &'static str,
    pub direction: &'static str,
    /// The other parties' user ids.
    pub with: Vec<String>,
    pub duration_s: i64,
    pub muted: bool,
    pub on_hold: bool,
    pub remote_hold: bool,
    pub dtmf_received: String,
    pub stats: Option<CallStats>,
}

/// The connection's state as a code.
#[must_use]
pub fn connection_code(state: &ConnectionState) -> &'static str {
    match state {
        ConnectionState::Connecting => "connecting",
        ConnectionState::Connected => "connected",
        ConnectionState::Reconnecting { .. } => "reconnecting",
        ConnectionState::Failed { .. } => "failed",
        ConnectionState::Closed => "closed",
    }
}

impl CallStatus {
    /// A call as `status` reports it.
    #[must_use]
    pub fn of(
        view: &CallView,
        now: DateTime<Utc>,
        muted: bool,
        dtmf_received: &str,
        stats: Option<&CallStats>,
    ) -> CallStatus {
        CallStatus {
            room_id: view.call.room_id.clone(),
            state: view.state.as_str(),
            direction: match view.direction {
                Direction::Incoming => "incoming",
                Direction::Outgoing => "outgoing",
            },
            with: view
                .call
                .participants
                .iter()
                .filter(|p| p.user_id != view.me)
                .map(|p| p.user_id.clone())
                .collect(),
            duration_s: view.duration(now).num_seconds(),
            muted,
            on_hold: view.local_hold,
            remote_hold: matches!(view.state, CallState::OnHold { remote: true, .. }),
            dtmf_received: dtmf_received.to_owned(),
            stats: stats.cloned(),
        }
    }
}
