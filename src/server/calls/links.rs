//! Access links of call rooms: made by a party (or the admin), presented by whoever joins.
//! A link lives with its room: when the call ends, or the server restarts, it is void.

use chrono::{DateTime, Utc};

use super::{active, err, Calls, Effect, Room};
use crate::proto::{
    ApiError, Call, CallParticipant, CallStatus, ErrorCode, ParticipantState, MAX_CALL_PARTIES,
    MAX_LINKS_PER_CALL,
};

/// One access link of a room.
#[derive(Debug, Clone)]
#[allow(clippy::struct_field_names)]
pub(super) struct Link {
    link_id: String,
    token: String,
    /// The only user it admits, when made for one.
    user_id: Option<String>,
}

/// What presenting a valid link gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkGrant {
    pub link_id: String,
    pub room_id: String,
    pub user_id: Option<String>,
    pub channel_id: Option<String>,
}

fn invalid() -> ApiError {
    err(
        ErrorCode::InvalidAccessLink,
        "the access link is not valid, or its call has ended",
    )
}

impl Calls {
    /// The live room `room_id`, for `user` who must be in the call (`None`: the admin).
    fn live_room(&mut self, room_id: &str, user: Option<&str>) -> Result<&mut Room, ApiError> {
        self.live_room_where(room_id, |call| {
            user.is_none_or(|u| call.participant(u).is_some_and(|p| active(p.state)))
        })
    }

    /// The parties of a live call who have accounts (its chat's members), for `user` who
    /// must be in it (`None`: the admin), and the call's chat channel when it has one.
    pub fn link_members(
        &mut self,
        room_id: &str,
        user: Option<&str>,
    ) -> Result<(Vec<String>, Option<String>), ApiError> {
        let room = self.live_room(room_id, user)?;
        let members = room
            .call
            .participants
            .iter()
            .filter(|p| !p.guest)
            .map(|p| p.user_id.clone())
            .collect();
        Ok((members, room.channel_id.clone()))
    }

    /// Adds an access link to a live call; `channel_id` is the call's chat (kept if the
    /// call had one already). Returns the link's id and secret token, and the channel.
    pub fn add_link(
        &mut self,
        room_id: &str,
        by: Option<&str>,
        for_user: Option<&str>,
        channel_id: &str,
    ) -> Result<(String, String, String), ApiError> {
        let room = self.live_room(room_id, by)?;
        if room.links.len() >= MAX_LINKS_PER_CALL {
            return Err(err(
                ErrorCode::ValidationError,
                format!("a call has at most {MAX_LINKS_PER_CALL} access links"),
            ));
        }
        let channel = room
            .channel_id
            .get_or_insert_with(|| channel_id.to_owned())
            .clone();
        let link = Link {
            link_id: format!("link_{}", &uuid::Uuid::new_v4().simple().to_string()[..16]),
            token: crate::server::auth::random_secret(24),
            user_id: for_user.map(str::to_owned),
        };
        let out = (link.link_id.clone(), link.token.clone(), channel);
        room.links.push(link);
        Ok(out)
    }

    /// The link whose secret is `token`, if its call is live.
    pub fn link_by_token(&self, token: &str) -> Result<LinkGrant, ApiError> {
        self.rooms
            .values()
            .filter(|r| r.call.status != CallStatus::Ended)
            .find_map(|r| {
                let l = r
                    .links
                    .iter()
                    .find(|l| crate::server::auth::secrets_equal(&l.token, token))?;
                Some(LinkGrant {
                    link_id: l.link_id.clone(),
                    room_id: r.call.room_id.clone(),
                    user_id: l.user_id.clone(),
                    channel_id: r.channel_id.clone(),
                })
            })
            .ok_or_else(invalid)
    }

    /// The link `link_id` of `room_id`, if its call is live (a link session's check on
    /// every use of its token).
    pub fn link_by_id(&self, room_id: &str, link_id: &str) -> Result<LinkGrant, ApiError> {
        let room = self
            .rooms
            .get(room_id)
            .filter(|r| r.call.status != CallStatus::Ended)
            .ok_or_else(invalid)?;
        let l = room
            .links
            .iter()
            .find(|l| l.link_id == link_id)
            .ok_or_else(invalid)?;
        Ok(LinkGrant {
            link_id: l.link_id.clone(),
            room_id: room_id.to_owned(),
            user_id: l.user_id.clone(),
            channel_id: room.channel_id.clone(),
        })
    }

    /// `user`'s `device`, connected by a link to `room_id`, joins the call (again, if it
    /// left): a guest under `guest_name`, or the user the link was made for.
    pub fn join(
        &mut self,
        user: &str,
        device: &str,
        room_id: &str,
        guest_name: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(Call, Vec<Effect>), ApiError> {
        let room = self.rooms.get_mut(room_id).ok_or_else(invalid)?;
        if room.call.status == CallStatus::Ended {
            return Err(invalid());
        }
        let in_call = room
            .call
            .participants
            .iter()
            .filter(|p| {
                p.user_id != user && (active(p.state) || p.state == ParticipantState::Ringing)
            })
            .count();
        if in_call + 1 > MAX_CALL_PARTIES {
            return Err(err(
                ErrorCode::InvalidCallStatus,
                format!("the call has {in_call} parties, the most one has"),
            ));
        }
        match room
            .call
            .participants
            .iter_mut()
            .find(|p| p.user_id == user)
        {
            Some(p) if active(p.state) => {
                return Err(err(
                    ErrorCode::InvalidCallStatus,
                    "you are in this call already",
                ))
            }
            Some(p) => {
                p.state = ParticipantState::Joined;
                p.device_id = Some(device.to_owned());
                p.held = false;
                p.decline_reason = None;
            }
            None => room.call.participants.push(CallParticipant {
                device_id: Some(device.to_owned()),
                guest: guest_name.is_some(),
                display_name: guest_name.map(str::to_owned),
                ..CallParticipant::new(user, ParticipantState::Joined)
            }),
        }
        if room.call.status == CallStatus::Dialing {
            room.call.status = CallStatus::Connected;
            room.call.answered_at = Some(now);
        }
        let call = room.call.clone();
        let mut effects = Self::busy_effects(&call);
        effects.push(Self::update_all(&call));
        Ok((call, effects))
    }
}
