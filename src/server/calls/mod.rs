//! Call rooms: dial, ring, answer, decline, cancel, hang up, ring timeout, busy rules.
//!
//! Sans-IO: every operation takes the time as an argument and returns the call plus a list
//! of [`Effect`]s (frames to deliver, devices to mark busy or free) that the WebSocket layer
//! carries out. That keeps every rule testable without sockets or clocks.

mod control;
mod links;
mod merge;

pub use links::LinkGrant;

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::proto::{
    ApiError, Call, CallParticipant, CallStatus, DeclineReason, EndReason, ErrorCode,
    ParticipantState, ServerFrame, MAX_CALLS_PER_DEVICE, MAX_CALL_PARTIES, RING_TIMEOUT_S,
};

/// Something the connection layer must do after a call operation.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Deliver to every device of each user.
    ToUsers {
        users: Vec<String>,
        frame: ServerFrame,
    },
    /// Deliver to every device of `user` except `except_device`.
    ToOtherDevices {
        user: String,
        except_device: String,
        frame: ServerFrame,
    },
    /// Deliver to one device.
    ToDevice {
        user: String,
        device: String,
        frame: ServerFrame,
    },
    /// The device is in a call with these users (presence: busy).
    Busy {
        user: String,
        device: String,
        with: Vec<String>,
    },
    /// The device left its call.
    Free { user: String, device: String },
    /// The call ended: every party's history records it.
    Ended { call: Call },
}

impl Effect {
    /// The call is over for one device (it left, or handed the call over): `call_ended`
    /// to it with `reason`.
    fn ended_for(user: &str, device: &str, call: &Call, reason: EndReason) -> Effect {
        Effect::ToDevice {
            user: user.to_owned(),
            device: device.to_owned(),
            frame: ServerFrame::CallEnded {
                call: call.clone(),
                reason,
            },
        }
    }

    /// The call is over (rings no more) on every device of `user`.
    fn ended_for_user(user: &str, call: &Call, reason: EndReason) -> Effect {
        Effect::ToUsers {
            users: vec![user.to_owned()],
            frame: ServerFrame::CallEnded {
                call: call.clone(),
                reason,
            },
        }
    }

    /// The device leaves a call that goes on: it is free, and told the call is over for it.
    fn left(user: &str, device: &str, call: &Call, reason: EndReason) -> [Effect; 2] {
        [
            Effect::Free {
                user: user.to_owned(),
                device: device.to_owned(),
            },
            Effect::ended_for(user, device, call, reason),
        ]
    }
}

/// How long an ended room is kept so late requests get `invalid_call_status`.
const KEEP_ENDED: chrono::Duration = chrono::Duration::minutes(10);

struct Room {
    call: Call,
    ring_deadline: DateTime<Utc>,
    /// Callees who ignored the call: it rings no more on their devices (nor on one that
    /// connects), though to everyone else they still ring.
    ignored: std::collections::HashSet<String>,
    /// Access links to the call, and its chat channel once it has one.
    links: Vec<links::Link>,
    channel_id: Option<String>,
}

pub struct Calls {
    rooms: HashMap<String, Room>,
    ring_timeout: Duration,
    /// Devices in a call whose connection closed, and since when: they leave their calls
    /// once away longer than the grace period.
    away: HashMap<(String, String), DateTime<Utc>>,
}

fn err(code: ErrorCode, msg: impl Into<String>) -> ApiError {
    ApiError::new(code, msg)
}

fn active(state: ParticipantState) -> bool {
    matches!(state, ParticipantState::Calling | ParticipantState::Joined)
}

impl Calls {
    pub fn new(ring_timeout: Duration) -> Self {
        Calls {
            rooms: HashMap::new(),
            ring_timeout,
            away: HashMap::new(),
        }
    }

    /// The live calls `user` takes part in, each with the device and whether the user
    /// holds it.
    fn live_calls_of<'a>(
        &'a self,
        user: &'a str,
    ) -> impl Iterator<Item = (&'a Call, Option<&'a str>, bool)> + 'a {
        self.rooms.values().filter_map(move |r| {
            if r.call.status == CallStatus::Ended {
                return None;
            }
            let p = r.call.participant(user)?;
            active(p.state).then_some((&r.call, p.device_id.as_deref(), p.held))
        })
    }

    pub fn get(&self, room_id: &str) -> Option<&Call> {
        self.rooms.get(room_id).map(|r| &r.call)
    }

    /// Calls ringing for `user`, for a device that connects while they ring.
    pub fn ringing_for(&self, user: &str) -> Vec<Call> {
        self.rooms
            .values()
            .filter(|r| r.call.status != CallStatus::Ended && !r.ignored.contains(user))
            .filter(|r| {
                r.call
                    .participant(user)
                    .is_some_and(|p| p.state == ParticipantState::Ringing)
            })
            .map(|r| r.call.clone())
            .collect()
    }

    /// The calls `user`'s `device` is in, and those ringing for the user: what `ready` lists,
    /// so that a device that reconnects can take up or end its call.
    pub fn calls_of(&self, user: &str, device: &str) -> Vec<Call> {
        self.rooms
            .values()
            .filter(|r| r.call.status != CallStatus::Ended)
            .filter(|r| {
                r.call.participant(user).is_some_and(|p| {
                    (p.state == ParticipantState::Ringing && !r.ignored.contains(user))
                        || (active(p.state) && p.device_id.as_deref() == Some(device))
                })
            })
            .map(|r| r.call.clone())
            .collect()
    }

    /// Calls that are over for `user`'s `device` (ended, or left by it) and still kept, with
    /// the reason for it: repeated to a device that reconnects, which may have been away when
    /// they ended and would not know (a repeat of a `call_ended` it had is ignored).
    pub fn over_for(&self, user: &str, device: &str) -> Vec<(Call, EndReason)> {
        self.rooms
            .values()
            .filter_map(|r| {
                let p = r.call.participant(user)?;
                if p.device_id.as_deref() != Some(device) {
                    return None;
                }
                if let Some(reason) = r.call.end_reason {
                    return Some((r.call.clone(), reason));
                }
                (p.state == ParticipantState::Left)
                    .then(|| (r.call.clone(), EndReason::ConnectionLost))
            })
            .collect()
    }

    /// A device connected again: it keeps its calls.
    pub fn device_back(&mut self, user: &str, device: &str) {
        self.away.remove(&(user.to_owned(), device.to_owned()));
    }

    /// Devices away from their calls for `grace` or longer, and not connected again (by
    /// `connected`), leave them with `connection_lost`.
    pub fn expire_away(
        &mut self,
        now: DateTime<Utc>,
        grace: Duration,
        connected: impl Fn(&str, &str) -> bool,
    ) -> Vec<Effect> {
        let grace = chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::MAX);
        let due: Vec<(String, String)> = self
            .away
            .iter()
            .filter(|(_, since)| now - **since >= grace)
            .map(|(k, _)| k.clone())
            .collect();
        let mut effects = Vec::new();
        for (user, device) in due {
            self.away.remove(&(user.clone(), device.clone()));
            if connected(&user, &device) {
                continue;
            }
            let rooms: Vec<String> = self
                .rooms
                .values()
                .filter(|r| r.call.status != CallStatus::Ended)
                .filter(|r| {
                    r.call.participant(&user).is_some_and(|p| {
                        active(p.state) && p.device_id.as_deref() == Some(device.as_str())
                    })
                })
                .map(|r| r.call.room_id.clone())
                .collect();
            for room in rooms {
                tracing::info!(%user, %device, %room, "device gone too long; it leaves the call");
                if let Ok((_, fx)) =
                    self.hangup_because(&user, &device, &room, EndReason::ConnectionLost, now)
                {
                    effects.extend(fx);
                }
            }
        }
        effects
    }

    /// Who `user`'s device is in a call with, when it is.
    pub fn busy_with(&self, user: &str, device: &str) -> Option<Vec<String>> {
        let mut with: Vec<String> = Vec::new();
        let mut any = false;
        for (call, _, _) in self
            .live_calls_of(user)
            .filter(|(_, dev, _)| *dev == Some(device))
        {
            any = true;
            for u in call.others(user) {
                if !with.contains(&u) {
                    with.push(u);
                }
            }
        }
        with.sort();
        any.then_some(with)
    }

    /// Presence after an operation: a device that left one call but is still in another
    /// stays busy, with the parties of the calls it still has.
    pub fn presence_after(&self, effects: Vec<Effect>) -> Vec<Effect> {
        effects
            .into_iter()
            .map(|e| match e {
                Effect::Free { user, device } => match self.busy_with(&user, &device) {
                    Some(with) => Effect::Busy { user, device, with },
                    None => Effect::Free { user, device },
                },
                Effect::Busy {
                    user,
                    device,
                    mut with,
                } => {
                    for u in self.busy_with(&user, &device).unwrap_or_default() {
                        if !with.contains(&u) {
                            with.push(u);
                        }
                    }
                    with.sort();
                    Effect::Busy { user, device, with }
                }
                other => other,
            })
            .collect()
    }

    /// Places a call. Callees in `do_not_disturb` are declined with `do_not_disturb` at once,
    /// without ringing; when nobody is left to ring, the call ends declined as it starts.
    pub fn dial(
        &mut self,
        caller: &str,
        device: &str,
        callees: &[String],
        do_not_disturb: &[String],
        now: DateTime<Utc>,
    ) -> Result<(Call, Vec<Effect>), ApiError> {
        let mut unique: Vec<String> = Vec::new();
        for c in callees {
            if c == caller {
                return Err(err(ErrorCode::ValidationError, "you cannot call yourself"));
            }
            if !unique.contains(c) {
                unique.push(c.clone());
            }
        }
        if unique.is_empty() || unique.len() >= MAX_CALL_PARTIES {
            return Err(err(
                ErrorCode::ValidationError,
                format!("a call has 1 to {} callees", MAX_CALL_PARTIES - 1),
            ));
        }
        self.may_take_another(caller, device, "")?;
        // Someone in a call still rings (call waiting: they may hold it and answer), unless
        // they are in as many calls as a device takes.
        let available: Vec<String> = unique
            .into_iter()
            .filter(|u| self.live_calls_of(u).count() < MAX_CALLS_PER_DEVICE)
            .collect();
        if available.is_empty() {
            return Err(err(
                ErrorCode::AllUsersBusy,
                "everyone you called is in as many calls as they can take",
            ));
        }
        let mut participants = vec![CallParticipant {
            device_id: Some(device.to_owned()),
            ..CallParticipant::new(caller, ParticipantState::Calling)
        }];
        let (quiet, available): (Vec<String>, Vec<String>) = available
            .into_iter()
            .partition(|u| do_not_disturb.contains(u));
        participants.extend(
            available
                .iter()
                .map(|u| CallParticipant::new(u, ParticipantState::Ringing)),
        );
        participants.extend(quiet.iter().map(|u| CallParticipant {
            decline_reason: Some(DeclineReason::DoNotDisturb),
            ..CallParticipant::new(u, ParticipantState::Declined)
        }));
        let call = Call {
            room_id: format!("call_{}", uuid::Uuid::new_v4().simple()),
            caller: caller.to_owned(),
            created_at: now,
            status: CallStatus::Dialing,
            participants,
            answered_at: None,
            ended_at: None,
            end_reason: None,
        };
        let deadline = self.ring_deadline(now);
        let mut room = Room {
            call: call.clone(),
            ring_deadline: deadline,
            ignored: std::collections::HashSet::new(),
            links: Vec::new(),
            channel_id: None,
        };
        let mut effects = Vec::new();
        let call = if available.is_empty() {
            Self::end(&mut room, EndReason::Declined, now, &mut effects)
        } else {
            effects.push(Effect::ToUsers {
                users: available.clone(),
                frame: ServerFrame::CallIncoming { call: call.clone() },
            });
            effects.push(Effect::Busy {
                user: caller.to_owned(),
                device: device.to_owned(),
                with: available,
            });
            call
        };
        self.rooms.insert(call.room_id.clone(), room);
        Ok((call, effects))
    }

    /// The room, for one of its participants. Someone who is not in the call gets
    /// `call_not_found` whatever its state, so an ended call does not give away that it
    /// existed.
    fn room_mut(&mut self, room_id: &str, user: &str) -> Result<&mut Room, ApiError> {
        self.live_room_where(room_id, |call| call.participant(user).is_some())
    }

    /// The room `room_id`, which must not have ended and whose call must pass `theirs`
    /// (whoever asks takes part in it): `call_not_found` otherwise.
    fn live_room_where(
        &mut self,
        room_id: &str,
        theirs: impl Fn(&Call) -> bool,
    ) -> Result<&mut Room, ApiError> {
        let room = self
            .rooms
            .get_mut(room_id)
            .filter(|r| theirs(&r.call))
            .ok_or_else(|| err(ErrorCode::CallNotFound, format!("no call `{room_id}`")))?;
        if room.call.status == CallStatus::Ended {
            return Err(err(
                ErrorCode::InvalidCallStatus,
                format!("call `{room_id}` has ended"),
            ));
        }
        Ok(room)
    }

    fn participant_mut<'a>(
        call: &'a mut Call,
        user: &str,
    ) -> Result<&'a mut CallParticipant, ApiError> {
        let room_id = call.room_id.clone();
        call.participants
            .iter_mut()
            .find(|p| p.user_id == user)
            .ok_or_else(|| {
                err(
                    ErrorCode::CallNotFound,
                    format!("you are not in call `{room_id}`"),
                )
            })
    }

    /// The caller's entry in the call, which must be ringing.
    fn ringing_mut<'a>(
        call: &'a mut Call,
        user: &str,
        refusal: &str,
    ) -> Result<&'a mut CallParticipant, ApiError> {
        let p = Self::participant_mut(call, user)?;
        if p.state != ParticipantState::Ringing {
            return Err(err(ErrorCode::InvalidCallStatus, refusal));
        }
        Ok(p)
    }

    pub fn answer(
        &mut self,
        user: &str,
        device: &str,
        room_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(Call, Vec<Effect>), ApiError> {
        self.may_take_another(user, device, room_id)?;
        let room = self.room_mut(room_id, user)?;
        let p = Self::ringing_mut(
            &mut room.call,
            user,
            "this call is not ringing for you (answered on another device, or over)",
        )?;
        p.state = ParticipantState::Joined;
        p.device_id = Some(device.to_owned());
        if room.call.status == CallStatus::Dialing {
            room.call.status = CallStatus::Connected;
            room.call.answered_at = Some(now);
        }
        let call = room.call.clone();
        let mut effects = vec![Effect::ToOtherDevices {
            user: user.to_owned(),
            except_device: device.to_owned(),
            frame: ServerFrame::CallEnded {
                call: call.clone(),
                reason: EndReason::AnsweredOnAnotherDevice,
            },
        }];
        effects.extend(Self::busy_effects(&call));
        effects.push(Self::update_all(&call));
        Ok((call, effects))
    }

    pub fn decline(
        &mut self,
        user: &str,
        room_id: &str,
        reason: DeclineReason,
        now: DateTime<Utc>,
    ) -> Result<(Call, Vec<Effect>), ApiError> {
        let room = self.room_mut(room_id, user)?;
        let p = Self::ringing_mut(&mut room.call, user, "only a ringing call can be declined")?;
        p.state = ParticipantState::Declined;
        p.decline_reason = Some(reason);
        // Every device of the decliner stops ringing, whatever happens to the call.
        let mut effects = vec![Effect::ended_for_user(
            user,
            &room.call,
            EndReason::Declined,
        )];
        let call = Self::settle(room, EndReason::Declined, now, &mut effects);
        Ok((call, effects))
    }

    fn ring_deadline(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + chrono::Duration::from_std(self.ring_timeout)
            .unwrap_or_else(|_| chrono::Duration::seconds(RING_TIMEOUT_S.cast_signed()))
    }

    pub fn hangup(
        &mut self,
        user: &str,
        device: &str,
        room_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(Call, Vec<Effect>), ApiError> {
        self.hangup_because(user, device, room_id, EndReason::HangUp, now)
    }

    /// Leaves a call for `reason`: the end reason of a call this ends (`hang_up`, or what
    /// went wrong with the party's media or connection).
    pub fn hangup_because(
        &mut self,
        user: &str,
        device: &str,
        room_id: &str,
        reason: EndReason,
        now: DateTime<Utc>,
    ) -> Result<(Call, Vec<Effect>), ApiError> {
        let room = self.room_mut(room_id, user)?;
        let status = room.call.status;
        let p = Self::participant_mut(&mut room.call, user)?;
        match p.state {
            ParticipantState::Ringing => {
                return self.decline(user, room_id, DeclineReason::None, now)
            }
            ParticipantState::Calling | ParticipantState::Joined => {
                if p.device_id.as_deref() != Some(device) {
                    return Err(err(
                        ErrorCode::InvalidCallStatus,
                        "the call is on another of your devices",
                    ));
                }
            }
            _ => {
                return Err(err(
                    ErrorCode::InvalidCallStatus,
                    "you are no longer in this call",
                ))
            }
        }
        let was_caller = p.state == ParticipantState::Calling;
        p.state = ParticipantState::Left;
        let mut effects = vec![Effect::Free {
            user: user.to_owned(),
            device: device.to_owned(),
        }];
        if was_caller && status == CallStatus::Dialing {
            let call = Self::end(room, EndReason::Canceled, now, &mut effects);
            return Ok((call, effects));
        }
        let call = Self::settle(room, reason, now, &mut effects);
        if call.status != CallStatus::Ended {
            // The others go on; the call is over for the device that left.
            effects.push(Effect::ended_for(user, device, &call, reason));
        }
        Ok((call, effects))
    }

    /// Ends rings past their deadline and forgets rooms long over.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Vec<Effect> {
        let mut effects = Vec::new();
        for room in self.rooms.values_mut() {
            if room.call.status == CallStatus::Ended || now < room.ring_deadline {
                continue;
            }
            let mut missed = Vec::new();
            for p in &mut room.call.participants {
                if p.state == ParticipantState::Ringing {
                    p.state = ParticipantState::Missed;
                    missed.push(p.user_id.clone());
                }
            }
            if missed.is_empty() {
                continue;
            }
            effects.push(Effect::ToUsers {
                users: missed,
                frame: ServerFrame::CallEnded {
                    call: room.call.clone(),
                    reason: EndReason::Timeout,
                },
            });
            Self::settle(room, EndReason::Timeout, now, &mut effects);
        }
        self.rooms
            .retain(|_, r| r.call.ended_at.is_none_or(|ended| now - ended < KEEP_ENDED));
        effects
    }

    /// A device's connection closed. A call still ringing from it is canceled; a connected
    /// call goes on (media flows peer to peer) for the grace period, in which the device can
    /// come back (see [`Calls::expire_away`]).
    pub fn device_gone(&mut self, user: &str, device: &str, now: DateTime<Utc>) -> Vec<Effect> {
        let in_call = self.rooms.values().any(|r| {
            r.call.status == CallStatus::Connected
                && r.call
                    .participant(user)
                    .is_some_and(|p| active(p.state) && p.device_id.as_deref() == Some(device))
        });
        if in_call {
            self.away
                .entry((user.to_owned(), device.to_owned()))
                .or_insert(now);
        }
        let dialing: Vec<String> = self
            .rooms
            .values()
            .filter(|r| r.call.status == CallStatus::Dialing)
            .filter(|r| {
                r.call.participant(user).is_some_and(|p| {
                    p.state == ParticipantState::Calling && p.device_id.as_deref() == Some(device)
                })
            })
            .map(|r| r.call.room_id.clone())
            .collect();
        dialing
            .iter()
            .filter_map(|id| self.hangup(user, device, id, now).ok())
            .flat_map(|(_, e)| e)
            .collect()
    }

    /// After someone left or declined: end the call when it can no longer go on, else tell
    /// everyone how it stands.
    fn settle(
        room: &mut Room,
        reason: EndReason,
        now: DateTime<Utc>,
        effects: &mut Vec<Effect>,
    ) -> Call {
        let call = &room.call;
        let in_call = call.participants.iter().filter(|p| active(p.state)).count();
        let ringing = call
            .participants
            .iter()
            .filter(|p| p.state == ParticipantState::Ringing)
            .count();
        // A 1:1 call ends with the first to leave; a group goes on while two remain (or
        // may still join).
        let one_to_one = call.participants.len() == 2;
        let over =
            one_to_one || in_call == 0 || in_call + ringing < 2 || (in_call < 2 && ringing == 0);
        if over {
            let reason = if call.status == CallStatus::Dialing && reason == EndReason::HangUp {
                EndReason::Canceled
            } else {
                reason
            };
            return Self::end(room, reason, now, effects);
        }
        let call = room.call.clone();
        effects.extend(Self::busy_effects(&call));
        effects.push(Self::update_all(&call));
        call
    }

    fn end(
        room: &mut Room,
        reason: EndReason,
        now: DateTime<Utc>,
        effects: &mut Vec<Effect>,
    ) -> Call {
        let call = &mut room.call;
        call.status = CallStatus::Ended;
        call.ended_at = Some(now);
        call.end_reason = Some(reason);
        let mut notify = Vec::new();
        for p in &mut call.participants {
            if active(p.state) {
                if let Some(d) = &p.device_id {
                    effects.push(Effect::Free {
                        user: p.user_id.clone(),
                        device: d.clone(),
                    });
                }
            }
            if matches!(
                p.state,
                ParticipantState::Calling | ParticipantState::Joined | ParticipantState::Ringing
            ) {
                if p.state == ParticipantState::Ringing {
                    p.state = ParticipantState::Missed;
                } else {
                    p.state = ParticipantState::Left;
                }
            }
            notify.push(p.user_id.clone());
        }
        effects.push(Effect::ToUsers {
            users: notify,
            frame: ServerFrame::CallEnded {
                call: call.clone(),
                reason,
            },
        });
        effects.push(Effect::Ended { call: call.clone() });
        call.clone()
    }

    fn busy_effects(call: &Call) -> Vec<Effect> {
        call.participants
            .iter()
            .filter(|p| active(p.state))
            .filter_map(|p| {
                Some(Effect::Busy {
                    user: p.user_id.clone(),
                    device: p.device_id.clone()?,
                    with: call.others(&p.user_id),
                })
            })
            .collect()
    }

    fn update_all(call: &Call) -> Effect {
        Effect::ToUsers {
            users: call
                .participants
                .iter()
                .map(|p| p.user_id.clone())
                .collect(),
            frame: ServerFrame::CallUpdated {
                req_id: None,
                call: call.clone(),
            },
        }
    }

    /// Checks that `from` (on `from_device`) may send a signal to `to` in this room;
    /// returns `to`'s device.
    pub fn signal_target(
        &self,
        from: &str,
        from_device: &str,
        room_id: &str,
        to: &str,
    ) -> Result<String, ApiError> {
        let call = &self
            .rooms
            .get(room_id)
            .filter(|r| r.call.participant(from).is_some())
            .ok_or_else(|| err(ErrorCode::CallNotFound, format!("no call `{room_id}`")))?
            .call;
        if call.status == CallStatus::Ended {
            return Err(err(ErrorCode::InvalidCallStatus, "the call has ended"));
        }
        call.participant(from)
            .filter(|p| active(p.state) && p.device_id.as_deref() == Some(from_device))
            .ok_or_else(|| {
                err(
                    ErrorCode::InvalidCallStatus,
                    "this device is not in this call",
                )
            })?;
        call.participant(to)
            .filter(|p| active(p.state))
            .and_then(|p| p.device_id.clone())
            .ok_or_else(|| {
                err(
                    ErrorCode::InvalidCallStatus,
                    format!("`{to}` is not connected to this call"),
                )
            })
    }
}

#[cfg(test)]
mod tests;
