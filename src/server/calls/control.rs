//! Call control beyond dial, answer and hang up: holding (and the rule it serves: a device
//! takes another call only while its others are held), ignoring a ringing call, forwarding
//! it, and handing a held call over.

use chrono::{DateTime, Utc};

use super::{active, err, Calls, Effect, Room};
use crate::proto::{
    ApiError, Call, CallParticipant, EndReason, ErrorCode, ParticipantState, ServerFrame,
    MAX_CALLS_PER_DEVICE,
};

impl Calls {
    /// Why `user` on `device` may not take up another call: a call they do not hold (on
    /// this device, or on another), or as many calls as a device takes.
    pub(super) fn may_take_another(
        &self,
        user: &str,
        device: &str,
        except: &str,
    ) -> Result<(), ApiError> {
        let mut count = 0;
        for (call, dev, held) in self.live_calls_of(user) {
            if call.room_id == except {
                continue;
            }
            count += 1;
            if held {
                continue;
            }
            return Err(if dev == Some(device) {
                err(
                    ErrorCode::AnotherCallInProgress,
                    format!(
                        "this device is in call {}; hold it first (call_hold)",
                        call.room_id
                    ),
                )
            } else {
                err(
                    ErrorCode::CurrentUserBusy,
                    "you are in a call on another device",
                )
            });
        }
        if count >= MAX_CALLS_PER_DEVICE {
            return Err(err(
                ErrorCode::AnotherCallInProgress,
                format!("you are in {count} calls already, the most one takes part in"),
            ));
        }
        Ok(())
    }

    /// `user`'s `device` holds (or resumes) its part of a call. The server only records
    /// it (the peers hold the audio between them); the busy rules of `dial` and `answer`
    /// follow it.
    pub fn hold(
        &mut self,
        user: &str,
        device: &str,
        room_id: &str,
        hold: bool,
        _now: DateTime<Utc>,
    ) -> Result<(Call, Vec<Effect>), ApiError> {
        let room = self.room_mut(room_id, user)?;
        let p = Self::participant_mut(&mut room.call, user)?;
        if !active(p.state) || p.device_id.as_deref() != Some(device) {
            return Err(err(
                ErrorCode::InvalidCallStatus,
                "this device is not in this call",
            ));
        }
        if p.held == hold {
            return Ok((room.call.clone(), Vec::new()));
        }
        p.held = hold;
        let call = room.call.clone();
        Ok((call.clone(), vec![Self::update_all(&call)]))
    }

    /// `user` stops a call ringing on their devices without telling the caller, whose call
    /// goes on ringing (until the timeout, or another callee answers). The user may still
    /// answer it until then.
    pub fn ignore(
        &mut self,
        user: &str,
        room_id: &str,
        _now: DateTime<Utc>,
    ) -> Result<(Call, Vec<Effect>), ApiError> {
        let room = self.room_mut(room_id, user)?;
        Self::ringing_mut(
            &mut room.call,
            user,
            "only a call ringing for you can be ignored",
        )?;
        let call = room.call.clone();
        if !room.ignored.insert(user.to_owned()) {
            return Ok((call, Vec::new()));
        }
        let effects = vec![Effect::ended_for_user(user, &call, EndReason::Ignored)];
        Ok((call, effects))
    }

    /// Whether `to` can be rung for call `room_id` (forward and transfer): not the user
    /// themself, not in the call already, not in as many calls as a device takes.
    fn check_destination(&self, user: &str, room_id: &str, to: &str) -> Result<(), ApiError> {
        if to == user {
            return Err(err(
                ErrorCode::ValidationError,
                "the call cannot go to yourself",
            ));
        }
        if let Some(p) = self.rooms.get(room_id).and_then(|r| r.call.participant(to)) {
            if active(p.state) || p.state == ParticipantState::Ringing {
                return Err(err(
                    ErrorCode::ValidationError,
                    format!("`{to}` is in this call already"),
                ));
            }
        }
        if self.live_calls_of(to).count() >= MAX_CALLS_PER_DEVICE {
            return Err(err(
                ErrorCode::AllUsersBusy,
                format!("`{to}` is in as many calls as they can take"),
            ));
        }
        Ok(())
    }

    /// `to` rings for the room (again, when they were in it before), until a fresh ring
    /// timeout.
    fn ring_for(room: &mut Room, to: &str, deadline: DateTime<Utc>) {
        room.ignored.remove(to);
        match room.call.participants.iter_mut().find(|p| p.user_id == to) {
            Some(p) => {
                p.state = ParticipantState::Ringing;
                p.device_id = None;
                p.decline_reason = None;
                p.held = false;
            }
            None => room
                .call
                .participants
                .push(CallParticipant::new(to, ParticipantState::Ringing)),
        }
        room.ring_deadline = deadline;
    }

    /// Checks that `user` may hand call `room_id` to `to` (the call is theirs and live,
    /// `to` can be rung); returns when `to`'s ring times out.
    fn may_ring(
        &mut self,
        user: &str,
        room_id: &str,
        to: &str,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, ApiError> {
        self.room_mut(room_id, user)?;
        self.check_destination(user, room_id, to)?;
        Ok(self.ring_deadline(now))
    }

    /// `user` has a call that rings for them ring for `to` instead: the caller's call goes
    /// on (they see whom it rings now), the user's devices stop ringing.
    pub fn forward(
        &mut self,
        user: &str,
        room_id: &str,
        to: &str,
        now: DateTime<Utc>,
    ) -> Result<(Call, Vec<Effect>), ApiError> {
        let deadline = self.may_ring(user, room_id, to, now)?;
        let room = self.room_mut(room_id, user)?;
        let p = Self::ringing_mut(
            &mut room.call,
            user,
            "only a call ringing for you can be forwarded",
        )?;
        p.state = ParticipantState::Forwarded;
        p.forwarded_to = Some(to.to_owned());
        room.ignored.remove(user);
        Self::ring_for(room, to, deadline);
        let call = room.call.clone();
        let effects = vec![
            Effect::ended_for_user(user, &call, EndReason::Forwarded),
            Effect::ToUsers {
                users: vec![to.to_owned()],
                frame: ServerFrame::CallIncoming { call: call.clone() },
            },
            Self::update_all(&call),
        ];
        Ok((call, effects))
    }

    /// `user` hands a call they hold, with one other party, over to `to` (a blind
    /// transfer): `to` rings and, on answering, talks with that party; `user` leaves now.
    /// Should `to` not answer, the call ends as an unanswered one would.
    pub fn transfer(
        &mut self,
        user: &str,
        device: &str,
        room_id: &str,
        to: &str,
        now: DateTime<Utc>,
    ) -> Result<(Call, Vec<Effect>), ApiError> {
        let deadline = self.may_ring(user, room_id, to, now)?;
        let room = self.room_mut(room_id, user)?;
        let others = room
            .call
            .participants
            .iter()
            .filter(|p| p.user_id != user && active(p.state))
            .count();
        let p = Self::participant_mut(&mut room.call, user)?;
        if !active(p.state) || p.device_id.as_deref() != Some(device) {
            return Err(err(
                ErrorCode::InvalidCallStatus,
                "this device is not in this call",
            ));
        }
        if !p.held {
            return Err(err(
                ErrorCode::InvalidCallStatus,
                "hold the call before transferring it",
            ));
        }
        if others != 1 {
            return Err(err(
                ErrorCode::InvalidCallStatus,
                "a transfer hands over a call with one other party in it",
            ));
        }
        p.state = ParticipantState::Transferred;
        p.transferred_to = Some(to.to_owned());
        p.held = false;
        Self::ring_for(room, to, deadline);
        let call = room.call.clone();
        let mut effects = Effect::left(user, device, &call, EndReason::Transferred).to_vec();
        effects.push(Effect::ToUsers {
            users: vec![to.to_owned()],
            frame: ServerFrame::CallIncoming { call: call.clone() },
        });
        effects.extend(Self::busy_effects(&call));
        effects.push(Self::update_all(&call));
        Ok((call, effects))
    }
}
