//! Operations on two calls at once, both held by one party: a consultative (warm)
//! transfer connects their remote parties with each other and the party leaves both; a
//! join makes one call of the two, with everyone in it. Either way the parties of the
//! second call move into the first (they get `call_moved`, and to them it is their call
//! going on), and the second call ends.

use chrono::{DateTime, Utc};

use super::{active, err, Calls, Effect};
use crate::proto::{
    is_guest, ApiError, Call, CallParticipant, CallStatus, EndReason, ErrorCode, ParticipantState,
    ServerFrame, MAX_CALL_PARTIES,
};

impl Calls {
    /// Checks that `user`'s `device` holds call `room_id`, connected, with no one still
    /// ringing in it; returns its other parties.
    fn held_here(
        &mut self,
        user: &str,
        device: &str,
        room_id: &str,
    ) -> Result<Vec<CallParticipant>, ApiError> {
        let room = self.room_mut(room_id, user)?;
        let call = &room.call;
        let me = call
            .participant(user)
            .filter(|p| active(p.state) && p.device_id.as_deref() == Some(device))
            .ok_or_else(|| {
                err(
                    ErrorCode::InvalidCallStatus,
                    format!("this device is not in call `{room_id}`"),
                )
            })?;
        if !me.held {
            return Err(err(
                ErrorCode::InvalidCallStatus,
                "hold both calls first (call_hold)",
            ));
        }
        if call.status != CallStatus::Connected
            || call
                .participants
                .iter()
                .any(|p| p.state == ParticipantState::Ringing)
        {
            return Err(err(
                ErrorCode::InvalidCallStatus,
                format!("call `{room_id}` still rings for someone"),
            ));
        }
        Ok(call
            .participants
            .iter()
            .filter(|p| p.user_id != user && active(p.state))
            .cloned()
            .collect())
    }

    /// `user` connects the remote parties of `room_id` and `with_room`, two calls their
    /// `device` holds: the parties of `with_room` move into `room_id`. With `transfer`
    /// (each call has one other party) `user` leaves both; otherwise `user` stays in
    /// `room_id` with everyone, still holding it until they resume. `with_room` ends
    /// (`transferred` or `joined`).
    pub fn merge(
        &mut self,
        user: &str,
        device: &str,
        room_id: &str,
        with_room: &str,
        transfer: bool,
        now: DateTime<Utc>,
    ) -> Result<(Call, Vec<Effect>), ApiError> {
        if room_id == with_room {
            return Err(err(ErrorCode::ValidationError, "name two different calls"));
        }
        let staying = self.held_here(user, device, room_id)?;
        let moving = self.held_here(user, device, with_room)?;
        if transfer && (staying.len() != 1 || moving.len() != 1) {
            return Err(err(
                ErrorCode::InvalidCallStatus,
                "a transfer connects two calls with one other party each",
            ));
        }
        if let Some(p) = moving
            .iter()
            .find(|m| staying.iter().any(|s| s.user_id == m.user_id))
        {
            return Err(err(
                ErrorCode::ValidationError,
                format!("`{}` is in both calls", p.user_id),
            ));
        }
        if let Some(p) = moving.iter().find(|m| is_guest(&m.user_id)) {
            return Err(err(
                ErrorCode::InvalidCallStatus,
                format!(
                    "`{}` joined by access link and cannot move to another call",
                    p.user_id
                ),
            ));
        }
        let parties = staying.len() + moving.len() + usize::from(!transfer);
        if parties > MAX_CALL_PARTIES {
            return Err(err(
                ErrorCode::InvalidCallStatus,
                format!("a call has at most {MAX_CALL_PARTIES} parties"),
            ));
        }
        let reason = if transfer {
            EndReason::Transferred
        } else {
            EndReason::Joined
        };
        let mut effects = Vec::new();

        // The first call: the movers join it (as the devices they are on), and with a
        // transfer the user leaves it.
        let Some(room) = self.rooms.get_mut(room_id) else {
            return Err(err(ErrorCode::CallNotFound, format!("no call `{room_id}`")));
        };
        for m in &moving {
            let entry = CallParticipant {
                device_id: m.device_id.clone(),
                held: m.held,
                ..CallParticipant::new(&m.user_id, ParticipantState::Joined)
            };
            match room
                .call
                .participants
                .iter_mut()
                .find(|p| p.user_id == m.user_id)
            {
                Some(p) => *p = entry,
                None => room.call.participants.push(entry),
            }
        }
        if transfer {
            let p = Self::participant_mut(&mut room.call, user)?;
            p.state = ParticipantState::Transferred;
            p.transferred_to = moving.first().map(|m| m.user_id.clone());
            p.held = false;
        }
        let call = room.call.clone();

        // The second call ends; its movers are told it goes on as the first.
        let Some(second) = self.rooms.get_mut(with_room) else {
            return Err(err(
                ErrorCode::CallNotFound,
                format!("no call `{with_room}`"),
            ));
        };
        for p in &mut second.call.participants {
            if moving.iter().any(|m| m.user_id == p.user_id) {
                p.state = ParticipantState::Left;
            }
        }
        let mut ending = Vec::new();
        Self::end(second, reason, now, &mut ending);
        for e in ending {
            match e {
                Effect::ToUsers {
                    mut users,
                    frame: frame @ ServerFrame::CallEnded { .. },
                } => {
                    for m in &moving {
                        users.retain(|u| *u != m.user_id);
                        let Some(device) = m.device_id.clone() else {
                            continue;
                        };
                        effects.push(Effect::ToDevice {
                            user: m.user_id.clone(),
                            device: device.clone(),
                            frame: ServerFrame::CallMoved {
                                from_room: with_room.to_owned(),
                                call: call.clone(),
                            },
                        });
                        effects.push(Effect::ToOtherDevices {
                            user: m.user_id.clone(),
                            except_device: device,
                            frame: frame.clone(),
                        });
                    }
                    effects.push(Effect::ToUsers { users, frame });
                }
                other => effects.push(other),
            }
        }
        if transfer {
            effects.extend(Effect::left(user, device, &call, reason));
        }
        effects.extend(Self::busy_effects(&call));
        effects.push(Self::update_all(&call));
        tracing::info!(%user, room = %room_id, with = %with_room, transfer, "calls connected");
        Ok((call, effects))
    }
}
