//! Voice messages in the interface: the mailbox window (play through the audio backend,
//! which marks a message heard; delete), and the offer to leave a message after a call
//! nobody answered (recorded from the microphone, sent when the user says so).

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::{App, Job, Modal};
use crate::client::call::{CallView, Direction};
use crate::proto::{DeclineReason, EndReason, Voicemail};

impl App {
    /// Opens the mailbox (its list is fetched).
    pub(super) fn open_mailbox(&mut self) -> Vec<Job> {
        self.modal = Some(Modal::Mailbox { selected: 0 });
        vec![Job::LoadMailbox]
    }

    /// The user's voice messages, newest first, as last fetched.
    pub fn mailbox(&self) -> &[Voicemail] {
        &self.mailbox
    }

    /// The message being played, if any.
    pub fn playing(&self) -> Option<&str> {
        self.playing.as_deref()
    }

    pub fn on_mailbox(&mut self, list: Vec<Voicemail>) {
        self.dirty = true;
        self.mailbox = list;
        if let Some(Modal::Mailbox { selected }) = &mut self.modal {
            *selected = (*selected).min(self.mailbox.len().saturating_sub(1));
        }
    }

    /// A message finished playing (or could not be played).
    pub fn on_played(&mut self, voicemail_id: &str) {
        self.dirty = true;
        if self.playing.as_deref() == Some(voicemail_id) {
            self.playing = None;
        }
        if let Some(v) = self
            .mailbox
            .iter_mut()
            .find(|v| v.voicemail_id == voicemail_id)
        {
            v.heard = true;
        }
    }

    pub(super) fn on_mailbox_key(&mut self, key: &KeyEvent) -> Vec<Job> {
        let Some(Modal::Mailbox { selected }) = &mut self.modal else {
            return Vec::new();
        };
        let chosen = self.mailbox.get(*selected).map(|v| v.voicemail_id.clone());
        match key.code {
            KeyCode::Down | KeyCode::Char('j') => {
                *selected = (*selected + 1).min(self.mailbox.len().saturating_sub(1));
            }
            KeyCode::Up | KeyCode::Char('k') => *selected = selected.saturating_sub(1),
            KeyCode::Enter | KeyCode::Char('p') => {
                if let Some(id) = chosen {
                    let mut out = Vec::new();
                    if self.playing.is_some() {
                        out.push(Job::StopPlayback);
                    }
                    self.playing = Some(id.clone());
                    out.push(Job::PlayVoicemail { voicemail_id: id });
                    return out;
                }
            }
            KeyCode::Char('d') | KeyCode::Delete => {
                if let Some(id) = chosen {
                    self.mailbox.retain(|v| v.voicemail_id != id);
                    *selected = (*selected).min(self.mailbox.len().saturating_sub(1));
                    let mut out = Vec::new();
                    if self.playing.as_deref() == Some(id.as_str()) {
                        self.playing = None;
                        out.push(Job::StopPlayback);
                    }
                    out.push(Job::DeleteVoicemail { voicemail_id: id });
                    return out;
                }
            }
            KeyCode::Esc | KeyCode::Char('q') => {
                self.modal = None;
                if self.playing.take().is_some() {
                    return vec![Job::StopPlayback];
                }
            }
            _ => {}
        }
        Vec::new()
    }

    /// After a call of this user's to one person that nobody answered (it rang out, or
    /// was declined as no answer or do not disturb): offers to leave a voice message.
    pub(super) fn offer_voicemail(&mut self, view: &CallView) {
        let crate::client::call::CallState::Ended { reason } = view.state else {
            return;
        };
        let callee = view.call.participants.iter().find(|p| p.user_id != view.me);
        let unanswered = match reason {
            EndReason::Timeout => true,
            EndReason::Declined => callee.is_some_and(|p| {
                matches!(
                    p.decline_reason,
                    Some(DeclineReason::NoAnswer | DeclineReason::DoNotDisturb)
                )
            }),
            _ => false,
        };
        let one_to_one = view.call.participants.len() == 2;
        // The offer made while it rang (for someone shown offline) gives way to this one.
        let offered_while_ringing = matches!(&self.modal, Some(Modal::LeaveVoicemail {
            room_id, ringing: true, since: None, ..
        }) if *room_id == view.call.room_id);
        if view.direction != Direction::Outgoing
            || view.connected_at.is_some()
            || !unanswered
            || !one_to_one
            || (self.modal.is_some() && !offered_while_ringing)
        {
            return;
        }
        if let Some(p) = callee {
            self.modal = Some(Modal::LeaveVoicemail {
                room_id: view.call.room_id.clone(),
                who: self.display_name(&p.user_id),
                ringing: false,
                since: None,
            });
        }
    }

    /// A call of this user's to one person who is offline rings nowhere until they
    /// connect: the message is offered at once. Recording hangs the call up; `Esc` leaves
    /// it ringing. Someone answering after all closes the offer.
    pub(super) fn offer_voicemail_while_ringing(&mut self, view: &CallView, new: bool) {
        let room = &view.call.room_id;
        if let Some(Modal::LeaveVoicemail {
            room_id,
            ringing: true,
            since: None,
            ..
        }) = &self.modal
        {
            if room_id == room && view.call.status == crate::proto::CallStatus::Connected {
                self.modal = None;
            }
            return;
        }
        let callee = view.call.participants.iter().find(|p| p.user_id != view.me);
        let offline = callee.is_some_and(|p| {
            self.presence_of(&p.user_id)
                .is_some_and(|pr| pr.status == crate::proto::PresenceStatus::Offline)
        });
        if !new
            || view.direction != Direction::Outgoing
            || view.is_ended()
            || view.call.participants.len() != 2
            || !offline
            || self.modal.is_some()
        {
            return;
        }
        if let Some(p) = callee {
            self.modal = Some(Modal::LeaveVoicemail {
                room_id: room.clone(),
                who: self.display_name(&p.user_id),
                ringing: true,
                since: None,
            });
        }
    }

    pub(super) fn on_leave_voicemail_key(&mut self, key: &KeyEvent) -> Vec<Job> {
        let now = self.now;
        let Some(Modal::LeaveVoicemail {
            room_id,
            who,
            ringing,
            since,
        }) = &mut self.modal
        else {
            return Vec::new();
        };
        match (since.is_some(), key.code) {
            (false, KeyCode::Char('r') | KeyCode::Enter) => {
                *since = Some(now);
                let mut jobs = Vec::new();
                // Still ringing (for someone offline): the call is given up first, and the
                // message is left after it.
                if std::mem::take(ringing) {
                    jobs.push(Job::Hangup {
                        room_id: room_id.clone(),
                    });
                }
                jobs.push(Job::RecordVoicemail {
                    room_id: room_id.clone(),
                    who: who.clone(),
                });
                return jobs;
            }
            (false, KeyCode::Esc | KeyCode::Char('n')) => self.modal = None,
            (true, KeyCode::Enter) => {
                self.modal = None;
                return vec![Job::FinishRecording { send: true }];
            }
            (true, KeyCode::Esc) => {
                self.modal = None;
                return vec![Job::FinishRecording { send: false }];
            }
            _ => {}
        }
        Vec::new()
    }

    /// The message was left (or the recording reached its length limit and was sent).
    pub fn on_voicemail_left(&mut self, who: &str, seconds: u64) {
        if matches!(self.modal, Some(Modal::LeaveVoicemail { .. })) {
            self.modal = None;
        }
        let text = self.strings.fmt(
            "toast.voicemail_left",
            &[("who", who), ("s", &seconds.to_string())],
        );
        self.toast(text);
    }
}
