//! Calls as the interface shows them: placing, answering, declining, switching, the
//! dialpad, and what the calls report.

use std::collections::VecDeque;

use super::{
    App, CallRow, HandOver, Job, Modal, Pane, SwitchPurpose, QUALITY_HISTORY, RECENT_CALLS,
};
use crate::client::call::{CallState, CallView};
use crate::media::stats::CallStats;
use crate::proto::{ChannelKind, DeclineReason};

impl App {
    pub(super) fn dial_selected(&mut self) -> Vec<Job> {
        let user = match self.focus {
            Pane::Users => self
                .visible_users()
                .get(self.selection(Pane::Users))
                .map(|u| u.user_id.clone()),
            Pane::Channels | Pane::Chat => {
                let ch = if self.focus == Pane::Chat {
                    self.current_channel()
                } else {
                    self.visible_channels()
                        .get(self.selection(Pane::Channels))
                        .copied()
                };
                ch.filter(|c| c.kind == ChannelKind::Direct)
                    .and_then(|c| c.participants.iter().find(|p| **p != self.me).cloned())
            }
            Pane::Calls => None,
        };
        match user {
            Some(u) => self.dial(vec![u]),
            None => Vec::new(),
        }
    }

    /// Calls `users`; the call in progress is held first.
    pub fn dial(&mut self, users: Vec<String>) -> Vec<Job> {
        let mut out = self.hold_others(None);
        out.push(Job::Dial { users });
        out
    }

    /// Holds every call in progress but `except`: taking up another call (dialing,
    /// answering, resuming) holds the one in progress, as a desk phone does. The server
    /// lets a device take another call only while its others are held.
    pub(super) fn hold_others(&self, except: Option<&str>) -> Vec<Job> {
        self.calls
            .iter()
            .filter(|c| Some(c.view.call.room_id.as_str()) != except)
            .filter(|c| {
                c.view.call.status == crate::proto::CallStatus::Connected
                    && !c.view.is_ended()
                    && !c.view.local_hold
            })
            .map(|c| Job::Hold {
                room_id: c.view.call.room_id.clone(),
                on: true,
            })
            .collect()
    }

    /// Holds or resumes call `room_id`; resuming holds whichever other call is in progress
    /// and makes this one the call the keys act on.
    pub(super) fn set_hold(&mut self, room_id: String, on: bool) -> Vec<Job> {
        let mut out = Vec::new();
        if !on {
            out = self.hold_others(Some(&room_id));
            if let Some(i) = self
                .calls
                .iter()
                .position(|c| c.view.call.room_id == room_id)
            {
                self.current_call = i;
            }
        }
        out.push(Job::Hold { room_id, on });
        out
    }

    /// Which of `users` are known to be offline (no device connected). The user is told:
    /// a call to them rings nowhere until they connect.
    pub fn offline_among(&mut self, users: &[String]) -> Vec<String> {
        let offline: Vec<String> = users
            .iter()
            .filter(|u| {
                self.presence_of(u)
                    .is_some_and(|p| p.status == crate::proto::PresenceStatus::Offline)
            })
            .cloned()
            .collect();
        if !offline.is_empty() {
            let who: Vec<String> = offline.iter().map(|u| self.display_name(u)).collect();
            let text = self
                .strings
                .fmt("call.offline", &[("who", &who.join(", "))]);
            self.notice(text, String::new());
        }
        offline
    }

    pub(super) fn ringing_room(&self) -> Option<String> {
        if let Some(Modal::Incoming { room_id }) = &self.modal {
            return Some(room_id.clone());
        }
        self.calls
            .iter()
            .find(|c| c.view.state == CallState::Ringing)
            .map(|c| c.view.call.room_id.clone())
    }

    /// Answers call `room_id`, or the one ringing; a call in progress is held.
    pub fn answer(&mut self, room_id: Option<String>) -> Vec<Job> {
        let Some(room_id) = room_id.or_else(|| self.ringing_room()) else {
            return Vec::new();
        };
        self.modal = None;
        // Taking a second call holds the one in progress.
        let mut out = self.hold_others(Some(&room_id));
        if let Some(i) = self
            .calls
            .iter()
            .position(|c| c.view.call.room_id == room_id)
        {
            self.current_call = i;
        }
        out.push(Job::Answer { room_id });
        out
    }

    /// Silences the ring tone of the ringing call; it keeps ringing on screen, where it
    /// can still be answered (call bar, Calls pane, the answer key).
    pub(super) fn silence(&mut self) -> Vec<Job> {
        let Some(room_id) = self.ringing_room() else {
            return Vec::new();
        };
        if matches!(self.modal, Some(Modal::Incoming { .. })) {
            self.modal = None;
        }
        vec![Job::Ring { room_id, on: false }]
    }

    /// Enter on the Calls pane: a ringing call is answered, a missed one called back,
    /// any other becomes the call the keys act on.
    pub(super) fn open_call_row(&mut self) -> Vec<Job> {
        let i = self.selection(Pane::Calls);
        if let Some(c) = self.calls.get(i) {
            if c.view.state == CallState::Ringing {
                let room = c.view.call.room_id.clone();
                return self.answer(Some(room));
            }
            self.current_call = i;
            return Vec::new();
        }
        // A call of the history: call them back.
        match self.recent_calls.get(i - self.calls.len()) {
            Some(e) if !e.with.is_empty() => {
                let users = e.with.clone();
                self.dial(users)
            }
            _ => Vec::new(),
        }
    }

    /// The ringing call stops ringing here; the caller is not told.
    pub(super) fn ignore_ringing(&mut self) -> Vec<Job> {
        let Some(room_id) = self.ringing_room() else {
            return Vec::new();
        };
        if matches!(&self.modal, Some(Modal::Incoming { room_id: r }) if *r == room_id) {
            self.modal = None;
        }
        vec![Job::Ignore { room_id }]
    }

    /// Asks whom the ringing call goes to (forward) or the current call (transfer).
    pub(super) fn pick_hand_over(&mut self, op: HandOver) {
        let room_id = match op {
            HandOver::Forward => self.ringing_room(),
            HandOver::Transfer => self
                .active_call()
                .filter(|c| c.view.call.status == crate::proto::CallStatus::Connected)
                .filter(|c| !c.view.is_ended())
                .map(|c| c.view.call.room_id.clone()),
        };
        if let Some(room_id) = room_id {
            self.open_switcher_for(SwitchPurpose::HandOver { room_id, op });
        }
    }

    /// Hands call `room_id` over to `to`: forwarded as it rings, or transferred (held
    /// first, as a transfer takes a held call).
    pub(super) fn hand_over(&mut self, room_id: String, op: HandOver, to: String) -> Vec<Job> {
        match op {
            HandOver::Forward => vec![Job::Forward { room_id, to }],
            HandOver::Transfer => {
                let held = self
                    .calls
                    .iter()
                    .any(|c| c.view.call.room_id == room_id && c.view.local_hold);
                let mut out = Vec::new();
                if !held {
                    out.push(Job::Hold {
                        room_id: room_id.clone(),
                        on: true,
                    });
                }
                out.push(Job::Transfer { room_id, to });
                out
            }
        }
    }

    /// The call a link is made to: `room_id`, or the current call while it is up.
    pub(super) fn link_room(&self, room_id: Option<&str>) -> Option<String> {
        room_id.map(str::to_owned).or_else(|| {
            self.active_call()
                .filter(|c| !c.view.is_ended())
                .map(|c| c.view.call.room_id.clone())
        })
    }

    /// Makes a link to the current call, for guests.
    pub(super) fn make_link(&mut self) -> Vec<Job> {
        match self.link_room(None) {
            Some(room_id) => vec![Job::MakeLink {
                room_id,
                for_user: None,
            }],
            None => Vec::new(),
        }
    }

    /// A link to a call was made: its address, to hand out (kept in the notices).
    pub fn on_link(&mut self, url: &str) {
        let text = self.strings.fmt("toast.link", &[("url", url)]);
        self.notice(text, String::new());
    }

    /// The two calls a join or a consultative transfer takes: `room_id` (by default the
    /// current call) and `with_room` (by default the other call that is up).
    fn call_pair(
        &self,
        room_id: Option<&str>,
        with_room: Option<&str>,
    ) -> Option<(String, String)> {
        let first = room_id
            .map(str::to_owned)
            .or_else(|| self.active_call().map(|c| c.view.call.room_id.clone()))?;
        let second = with_room.map(str::to_owned).or_else(|| {
            self.calls
                .iter()
                .filter(|c| !c.view.is_ended())
                .filter(|c| c.view.call.status == crate::proto::CallStatus::Connected)
                .map(|c| c.view.call.room_id.clone())
                .find(|r| *r != first)
        })?;
        (first != second).then_some((first, second))
    }

    /// Joins the current call with the other one (`transfer`: connects their other
    /// parties with each other and leaves both); both are held first.
    pub(super) fn connect_calls(
        &mut self,
        room_id: Option<&str>,
        with_room: Option<&str>,
        transfer: bool,
    ) -> Vec<Job> {
        let Some((room_id, with_room)) = self.call_pair(room_id, with_room) else {
            self.toast(self.strings.get("toast.two_calls").to_owned());
            return Vec::new();
        };
        let mut out = Vec::new();
        for room in [&room_id, &with_room] {
            let held = self
                .calls
                .iter()
                .any(|c| c.view.call.room_id == *room && c.view.local_hold);
            if !held {
                out.push(Job::Hold {
                    room_id: room.clone(),
                    on: true,
                });
            }
        }
        out.push(Job::ConnectCalls {
            room_id,
            with_room,
            transfer,
        });
        out
    }

    /// Two calls were joined into `room_id`: it becomes the current call, off hold.
    pub(super) fn on_calls_joined(&mut self, room_id: &str) -> Vec<Job> {
        if let Some(i) = self
            .calls
            .iter()
            .position(|c| c.view.call.room_id == room_id)
        {
            self.current_call = i;
        }
        vec![Job::Hold {
            room_id: room_id.to_owned(),
            on: false,
        }]
    }

    /// The call history changed on the server (a call ended, entries were deleted, the
    /// missed ones were seen on some device). Seen at once while the Calls pane is open.
    pub fn on_call_history(
        &mut self,
        change: crate::proto::CallHistoryChange,
        entry: Option<&crate::proto::CallLogEntry>,
        room_id: Option<&str>,
        missed_unseen: u64,
    ) -> Vec<Job> {
        use crate::proto::CallHistoryChange;
        match (change, entry, room_id) {
            (CallHistoryChange::Added, Some(e), _) => {
                self.recent_calls.retain(|h| h.room_id != e.room_id);
                let at = self
                    .recent_calls
                    .iter()
                    .position(|h| h.seq < e.seq)
                    .unwrap_or(self.recent_calls.len());
                self.recent_calls.insert(at, e.clone());
                self.recent_calls.truncate(RECENT_CALLS);
            }
            (CallHistoryChange::Deleted, _, Some(room)) => {
                self.recent_calls.retain(|h| h.room_id != room);
            }
            (CallHistoryChange::Cleared, _, _) => self.recent_calls.clear(),
            (CallHistoryChange::Seen, _, _) => {
                for h in &mut self.recent_calls {
                    h.seen = true;
                }
            }
            _ => {}
        }
        self.missed_unseen = missed_unseen;
        if self.focus == Pane::Calls && self.missed_unseen > 0 {
            self.missed_unseen = 0;
            return vec![Job::MarkCallsSeen];
        }
        Vec::new()
    }

    /// `d` on a recent call in the Calls pane: it goes from the history (on the server; the
    /// `call_history` event that follows takes it off the list).
    pub(super) fn delete_selected_call(&mut self) -> Vec<Job> {
        if self.focus != Pane::Calls {
            return Vec::new();
        }
        let i = self.selection(Pane::Calls);
        match i
            .checked_sub(self.calls.len())
            .and_then(|j| self.recent_calls.get(j))
        {
            Some(e) => vec![Job::DeleteCallLog {
                room_id: e.room_id.clone(),
            }],
            None => Vec::new(),
        }
    }

    /// The history as the server had it at start.
    pub fn on_call_history_page(&mut self, page: crate::proto::CallHistoryPage) {
        self.dirty = true;
        self.recent_calls = page.entries;
        self.recent_calls.truncate(RECENT_CALLS);
        self.missed_unseen = page.missed_unseen;
    }

    pub(super) fn decline_ringing(&mut self, reason: DeclineReason) -> Vec<Job> {
        let Some(room_id) = self.ringing_room() else {
            return Vec::new();
        };
        self.modal = None;
        vec![Job::Decline { room_id, reason }]
    }

    pub(super) fn switch_call(&mut self) -> Vec<Job> {
        if self.calls.len() < 2 {
            return Vec::new();
        }
        let next = (self.current_call + 1) % self.calls.len();
        let mut out = Vec::new();
        if let Some(c) = self.active_call() {
            if !c.view.local_hold && !c.view.is_ended() {
                out.push(Job::Hold {
                    room_id: c.view.call.room_id.clone(),
                    on: true,
                });
            }
        }
        self.current_call = next;
        self.select(Pane::Calls, next);
        if let Some(c) = self.active_call() {
            if c.view.local_hold {
                out.push(Job::Hold {
                    room_id: c.view.call.room_id.clone(),
                    on: false,
                });
            }
        }
        out
    }

    pub(super) fn dialpad_digit(&mut self, digit: char) -> Vec<Job> {
        if let Some(Modal::Dialpad { room_id, sent }) = &mut self.modal {
            sent.push(digit);
            return vec![Job::Dtmf {
                room_id: room_id.clone(),
                digits: digit.to_string(),
            }];
        }
        Vec::new()
    }

    /// A call goes on in another room (its other party joined it with, or transferred it
    /// to, a call of theirs): the same row, under the new room.
    pub(super) fn on_call_moved(&mut self, from_room: &str, view: &CallView) {
        if let Some(row) = self
            .calls
            .iter_mut()
            .find(|c| c.view.call.room_id == from_room)
        {
            row.view.call.room_id.clone_from(&view.call.room_id);
        }
        let who = self.call_peers(view);
        self.toast(self.strings.fmt("toast.call_moved", &[("who", &who)]));
        self.on_call_view(view);
    }

    pub(super) fn on_call_view(&mut self, view: &CallView) {
        let room = view.call.room_id.clone();
        let new = !self.calls.iter().any(|c| c.view.call.room_id == room);
        match self.calls.iter_mut().find(|c| c.view.call.room_id == room) {
            Some(row) => row.view = view.clone(),
            None => {
                if view.is_ended() {
                    return;
                }
                self.calls.push(CallRow {
                    view: view.clone(),
                    stats: None,
                    quality: VecDeque::new(),
                    muted: false,
                    dtmf_received: String::new(),
                });
                // A call placed here becomes the current one.
                if view.state == CallState::Dialing {
                    self.current_call = self.calls.len() - 1;
                }
            }
        }
        if view.state != CallState::Ringing
            && matches!(&self.modal, Some(Modal::Incoming { room_id }) if *room_id == room)
        {
            self.modal = None;
        }
        self.offer_voicemail_while_ringing(view, new);
        if view.is_ended() {
            self.offer_voicemail(view);
            if let CallState::Ended { reason } = view.state {
                let who = self.call_peers(view);
                let mut reason_text = self.strings.get(&reason_key(reason)).to_owned();
                // Declined: why, when the other side said.
                let why = view
                    .call
                    .participants
                    .iter()
                    .filter(|p| p.user_id != view.me)
                    .find_map(|p| p.decline_reason)
                    .and_then(|r| match r {
                        DeclineReason::None => None,
                        DeclineReason::Error => Some("decline.error"),
                        DeclineReason::DoNotDisturb => Some("decline.do_not_disturb"),
                        DeclineReason::NoAnswer => Some("decline.no_answer"),
                    });
                if let (crate::proto::EndReason::Declined, Some(why)) = (reason, why) {
                    reason_text = format!("{reason_text}: {}", self.strings.get(why));
                }
                let text = if is_missed(view) {
                    self.strings.fmt("toast.missed", &[("who", &who)])
                } else {
                    self.strings
                        .fmt("call.ended", &[("who", &who), ("reason", &reason_text)])
                };
                self.notice(text, String::new());
            }
            if matches!(&self.modal, Some(Modal::Dialpad { room_id, .. }) if *room_id == room) {
                self.modal = None;
            }
            self.calls.retain(|c| c.view.call.room_id != room);
            if self.current_call >= self.calls.len() {
                self.current_call = self.calls.len().saturating_sub(1);
            }
        }
    }

    /// Fresh statistics of a call (every second or so).
    pub fn on_call_stats(&mut self, room_id: &str, stats: CallStats) {
        if let Some(c) = self
            .calls
            .iter_mut()
            .find(|c| c.view.call.room_id == room_id)
        {
            if let Some(mos) = stats.mos {
                c.quality.push_back(mos);
            }
            while c.quality.len() > QUALITY_HISTORY {
                c.quality.pop_front();
            }
            c.stats = Some(stats);
            self.dirty = true;
        }
    }

    pub fn on_call_dtmf(&mut self, room_id: &str, digit: char) {
        if let Some(c) = self
            .calls
            .iter_mut()
            .find(|c| c.view.call.room_id == room_id)
        {
            c.dtmf_received.push(digit);
            self.dirty = true;
        }
    }
}

/// An incoming call that ended before it was answered, without being declined here: it
/// rang out, or the caller gave up.
fn is_missed(view: &CallView) -> bool {
    use crate::proto::EndReason;
    view.direction == crate::client::call::Direction::Incoming
        && view.connected_at.is_none()
        && matches!(
            view.state,
            CallState::Ended {
                reason: EndReason::Timeout | EndReason::Canceled
            }
        )
}

pub fn reason_key(reason: crate::proto::EndReason) -> String {
    format!("reason.{}", reason.as_str())
}
