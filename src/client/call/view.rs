//! A call as one device sees it: the states a user sees, hold on either side, duration.
//!
//! Plain data and transitions; time comes in as an argument. The session feeds it server
//! updates (`call_updated`, `call_ended`) and media events (connected, remote hold), and
//! reports each change of [`CallState`] as an event.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::proto::{Call, CallStatus, EndReason, ParticipantState};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Outgoing,
    Incoming,
}

/// What the user sees of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CallState {
    /// Outgoing, the others' devices ring.
    Dialing,
    /// Incoming, this device rings.
    Ringing,
    /// Answered; media is being set up.
    Connecting,
    Connected,
    /// Connected, with audio held by this side, the other side, or both.
    OnHold {
        local: bool,
        remote: bool,
    },
    Ended {
        reason: EndReason,
    },
}

impl CallState {
    /// The state's name, as it is tagged in JSON (`on_hold`, ...).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            CallState::Dialing => "dialing",
            CallState::Ringing => "ringing",
            CallState::Connecting => "connecting",
            CallState::Connected => "connected",
            CallState::OnHold { .. } => "on_hold",
            CallState::Ended { .. } => "ended",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallView {
    pub call: Call,
    /// The user of this device.
    pub me: String,
    pub direction: Direction,
    pub state: CallState,
    pub media_up: bool,
    pub local_hold: bool,
    pub remote_hold: bool,
    pub connected_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// The other parties whose media is connected (one in a 1:1 call, up to three in a
    /// group); the call's media is up while any is.
    #[serde(skip)]
    legs_up: std::collections::BTreeSet<String>,
    /// The other parties holding their side of the call.
    #[serde(skip)]
    legs_holding: std::collections::BTreeSet<String>,
    /// Since when the call has been answered without media flowing (set up not done yet,
    /// or the path lost); `None` while media flows.
    #[serde(skip)]
    pub media_down_since: Option<DateTime<Utc>>,
}

impl CallView {
    /// A call this device placed.
    pub fn outgoing(call: Call, me: &str) -> Self {
        Self::new(call, me, Direction::Outgoing, CallState::Dialing)
    }

    /// A call ringing on this device.
    pub fn incoming(call: Call, me: &str) -> Self {
        Self::new(call, me, Direction::Incoming, CallState::Ringing)
    }

    fn new(call: Call, me: &str, direction: Direction, state: CallState) -> Self {
        CallView {
            call,
            me: me.to_owned(),
            direction,
            state,
            media_up: false,
            local_hold: false,
            remote_hold: false,
            connected_at: None,
            ended_at: None,
            legs_up: Default::default(),
            legs_holding: Default::default(),
            media_down_since: None,
        }
    }

    /// True when the call has been answered without media for `limit`: set-up failed, or
    /// the path went and did not come back. Such a call is ended rather than left hanging.
    pub fn media_given_up(&self, now: DateTime<Utc>, limit: chrono::Duration) -> bool {
        !self.is_ended() && self.media_down_since.is_some_and(|t| now - t >= limit)
    }

    pub fn room_id(&self) -> &str {
        &self.call.room_id
    }

    pub fn is_ended(&self) -> bool {
        matches!(self.state, CallState::Ended { .. })
    }

    /// Recomputes the state; returns it when it changed.
    fn derive(&mut self, now: DateTime<Utc>) -> Option<CallState> {
        // An ended room is reported by `on_ended` (with this device's reason), never as a
        // step back to dialing.
        if self.is_ended() || self.call.status == CallStatus::Ended {
            return None;
        }
        let answered = self.call.status == CallStatus::Connected;
        let next = if !answered {
            match self.direction {
                Direction::Outgoing => CallState::Dialing,
                Direction::Incoming => CallState::Ringing,
            }
        } else if !self.media_up {
            CallState::Connecting
        } else if self.local_hold || self.remote_hold {
            CallState::OnHold {
                local: self.local_hold,
                remote: self.remote_hold,
            }
        } else {
            CallState::Connected
        };
        if self.media_up && self.connected_at.is_none() {
            self.connected_at = Some(now);
        }
        if self.media_up {
            self.media_down_since = None;
        } else if answered {
            self.media_down_since.get_or_insert(now);
        }
        (next != self.state).then(|| {
            self.state = next;
            next
        })
    }

    /// A `call_updated` from the server; `me` and `device` say who this device is.
    pub fn on_update(
        &mut self,
        call: Call,
        me: &str,
        device: &str,
        now: DateTime<Utc>,
    ) -> Option<CallState> {
        // An incoming call moves on only once this very device is the one in it.
        let joined_here = call.participant(me).is_some_and(|p| {
            matches!(
                p.state,
                ParticipantState::Joined | ParticipantState::Calling
            ) && p.device_id.as_deref() == Some(device)
        });
        self.call = call;
        // The media of parties no longer in the call (they left, or transferred it) counts
        // no more.
        let in_call = |leg: &String| {
            self.call.participant(leg).is_some_and(|p| {
                matches!(
                    p.state,
                    ParticipantState::Joined | ParticipantState::Calling
                )
            })
        };
        let before = (self.legs_up.len(), self.legs_holding.len());
        let (up, holding): (BTreeSet<String>, BTreeSet<String>) = (
            self.legs_up
                .iter()
                .filter(|l| in_call(l))
                .cloned()
                .collect(),
            self.legs_holding
                .iter()
                .filter(|l| in_call(l))
                .cloned()
                .collect(),
        );
        (self.legs_up, self.legs_holding) = (up, holding);
        if (self.legs_up.len(), self.legs_holding.len()) != before {
            self.recount();
        }
        if self.direction == Direction::Incoming && !joined_here {
            return None;
        }
        self.derive(now)
    }

    /// The call goes on in another room (`call_moved`): its connections are made anew.
    pub fn moved(&mut self) {
        self.legs_up.clear();
        self.legs_holding.clear();
        self.recount();
    }

    /// The call is over for this device.
    pub fn on_ended(&mut self, reason: EndReason, now: DateTime<Utc>) -> Option<CallState> {
        if self.is_ended() {
            return None;
        }
        self.state = CallState::Ended { reason };
        self.ended_at = Some(now);
        Some(self.state)
    }

    /// Media started or stopped flowing.
    fn recount(&mut self) {
        self.media_up = !self.legs_up.is_empty();
        // In a group the call is held remotely only when every connected party holds.
        self.remote_hold =
            !self.legs_up.is_empty() && self.legs_up.iter().all(|l| self.legs_holding.contains(l));
    }

    /// Media with party `leg` went up or down.
    pub fn on_media(&mut self, leg: &str, up: bool, now: DateTime<Utc>) -> Option<CallState> {
        if up {
            self.legs_up.insert(leg.to_owned());
        } else {
            self.legs_up.remove(leg);
        }
        self.recount();
        self.derive(now)
    }

    pub fn set_local_hold(&mut self, hold: bool, now: DateTime<Utc>) -> Option<CallState> {
        self.local_hold = hold;
        self.derive(now)
    }

    /// Party `leg` put its side on hold or resumed.
    pub fn set_remote_hold(
        &mut self,
        leg: &str,
        hold: bool,
        now: DateTime<Utc>,
    ) -> Option<CallState> {
        if hold {
            self.legs_holding.insert(leg.to_owned());
        } else {
            self.legs_holding.remove(leg);
        }
        self.recount();
        self.derive(now)
    }

    /// Time since media first connected, up to the end.
    pub fn duration(&self, now: DateTime<Utc>) -> chrono::Duration {
        match self.connected_at {
            Some(start) => self.ended_at.unwrap_or(now) - start,
            None => chrono::Duration::zero(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_and_reason_names_are_their_json_names() {
        use crate::proto::EndReason;
        let reasons = [
            EndReason::Declined,
            EndReason::Canceled,
            EndReason::AnsweredOnAnotherDevice,
            EndReason::HangUp,
            EndReason::Timeout,
            EndReason::Error,
        ];
        for r in reasons {
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        let states = [
            CallState::Dialing,
            CallState::Ringing,
            CallState::Connecting,
            CallState::Connected,
            CallState::OnHold {
                local: true,
                remote: false,
            },
            CallState::Ended {
                reason: EndReason::Timeout,
            },
        ];
        for s in states {
            assert_eq!(serde_json::to_value(s).unwrap()["state"], s.as_str());
        }
    }
    use crate::proto::CallParticipant;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    fn call(status: CallStatus, bob: ParticipantState) -> Call {
        Call {
            room_id: "call_1".into(),
            caller: "alice".into(),
            created_at: t(0),
            status,
            participants: vec![
                CallParticipant {
                    device_id: Some("a1".into()),
                    ..CallParticipant::new("alice", ParticipantState::Calling)
                },
                CallParticipant::new("bob", bob),
            ],
            answered_at: None,
            ended_at: None,
            end_reason: None,
        }
    }

    #[test]
    fn a_group_call_is_up_while_any_party_is_and_held_only_when_all_hold() {
        let mut v = CallView::outgoing(
            call(CallStatus::Connected, ParticipantState::Joined),
            "alice",
        );
        v.on_update(
            call(CallStatus::Connected, ParticipantState::Joined),
            "alice",
            "a1",
            t(1),
        );
        assert_eq!(v.on_media("bob", true, t(2)), Some(CallState::Connected));
        assert_eq!(v.on_media("carol", true, t(2)), None);
        assert_eq!(
            v.set_remote_hold("bob", true, t(3)),
            None,
            "carol still talks"
        );
        assert_eq!(
            v.set_remote_hold("carol", true, t(4)),
            Some(CallState::OnHold {
                local: false,
                remote: true
            })
        );
        assert_eq!(
            v.set_remote_hold("bob", false, t(5)),
            Some(CallState::Connected)
        );
        // Bob's media drops: carol, the one party left, holds.
        assert_eq!(
            v.on_media("bob", false, t(6)),
            Some(CallState::OnHold {
                local: false,
                remote: true
            })
        );
        assert_eq!(
            v.on_media("carol", false, t(7)),
            Some(CallState::Connecting)
        );
    }

    #[test]
    fn a_call_without_media_for_too_long_is_given_up() {
        let limit = chrono::Duration::seconds(30);
        let mut v = CallView::outgoing(
            call(CallStatus::Dialing, ParticipantState::Ringing),
            "alice",
        );
        // Ringing is not waiting for media.
        assert!(!v.media_given_up(t(100), limit));
        v.on_update(
            call(CallStatus::Connected, ParticipantState::Joined),
            "alice",
            "a1",
            t(2),
        );
        assert!(!v.media_given_up(t(31), limit));
        assert!(v.media_given_up(t(32), limit), "set-up never finished");
        v.on_media("bob", true, t(10));
        assert!(!v.media_given_up(t(1000), limit));
        // The path goes: counted from then, and back again in time, forgotten.
        v.on_media("bob", false, t(1000));
        assert!(!v.media_given_up(t(1029), limit));
        v.on_media("bob", true, t(1020));
        assert!(!v.media_given_up(t(2000), limit));
        v.on_media("bob", false, t(2000));
        assert!(v.media_given_up(t(2030), limit));
        v.on_ended(EndReason::Error, t(2030));
        assert!(!v.media_given_up(t(3000), limit), "an ended call is over");
    }

    #[test]
    fn outgoing_call_walks_through_every_state() {
        let mut v = CallView::outgoing(
            call(CallStatus::Dialing, ParticipantState::Ringing),
            "alice",
        );
        assert_eq!(v.state, CallState::Dialing);
        assert_eq!(
            v.on_update(
                call(CallStatus::Connected, ParticipantState::Joined),
                "alice",
                "a1",
                t(2)
            ),
            Some(CallState::Connecting)
        );
        assert_eq!(v.on_media("bob", true, t(3)), Some(CallState::Connected));
        assert_eq!(
            v.set_local_hold(true, t(10)),
            Some(CallState::OnHold {
                local: true,
                remote: false
            })
        );
        assert_eq!(
            v.set_remote_hold("bob", true, t(11)),
            Some(CallState::OnHold {
                local: true,
                remote: true
            })
        );
        assert_eq!(
            v.set_local_hold(false, t(12)),
            Some(CallState::OnHold {
                local: false,
                remote: true
            })
        );
        assert_eq!(
            v.set_remote_hold("bob", false, t(13)),
            Some(CallState::Connected)
        );
        assert_eq!(
            v.set_remote_hold("bob", false, t(13)),
            None,
            "no change, no event"
        );
        let mut over = call(CallStatus::Ended, ParticipantState::Left);
        over.end_reason = Some(EndReason::HangUp);
        assert_eq!(
            v.on_update(over, "alice", "a1", t(14)),
            None,
            "an ended room does not read as dialing"
        );
        assert_eq!(v.duration(t(33)).num_seconds(), 30);
        assert_eq!(
            v.on_ended(EndReason::HangUp, t(43)),
            Some(CallState::Ended {
                reason: EndReason::HangUp
            })
        );
        assert_eq!(v.duration(t(100)).num_seconds(), 40);
        assert_eq!(
            v.on_media("bob", false, t(101)),
            None,
            "nothing moves after the end"
        );
    }

    #[test]
    fn incoming_call_rings_until_answered_here() {
        let mut v = CallView::incoming(call(CallStatus::Dialing, ParticipantState::Ringing), "bob");
        assert_eq!(v.state, CallState::Ringing);
        // Answered, but by another device of bob's: this one keeps its state until the
        // server's `call_ended` (answered_on_another_device) arrives.
        let mut answered = call(CallStatus::Connected, ParticipantState::Joined);
        answered.participants[1].device_id = Some("b2".into());
        assert_eq!(v.on_update(answered.clone(), "bob", "b1", t(1)), None);
        assert_eq!(
            v.on_update(answered, "bob", "b2", t(1)),
            Some(CallState::Connecting)
        );
        assert_eq!(v.duration(t(5)).num_seconds(), 0, "no media yet");
    }
}
