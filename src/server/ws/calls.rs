//! The call frames of a connection: dial, answer, decline, hang up, hold, ignore, forward,
//! transfer (carried out by the call rooms, [`crate::server::calls`]), the signaling relay,
//! and taking up calls again after a reconnection.

use tokio::time::Instant;

use super::super::ops::validate_user_id;
use super::Connection;
use crate::proto::{
    ApiError, Availability, ClientFrame, EndReason, ErrorCode, ServerFrame, Signal,
    MAX_SIGNAL_BYTES,
};

impl Connection {
    /// A device that (re)connects rings for calls still ringing for its user, and shows busy
    /// when it is in a call.
    pub(super) fn restore_calls(&self) {
        let (ringing, busy, over) = {
            let mut calls = self
                .state
                .calls
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // Back within the grace period: the device keeps its call.
            calls.device_back(&self.user_id, &self.device_id);
            (
                calls.ringing_for(&self.user_id),
                calls.busy_with(&self.user_id, &self.device_id),
                calls.over_for(&self.user_id, &self.device_id),
            )
        };
        for (call, reason) in over {
            self.state.hub.send_to_device(
                &self.user_id,
                &self.device_id,
                true,
                &ServerFrame::CallEnded { call, reason },
            );
        }
        for call in ringing {
            self.state.hub.send_to_device(
                &self.user_id,
                &self.device_id,
                true,
                &ServerFrame::CallIncoming { call },
            );
        }
        if let Some(with) = busy {
            self.state
                .hub
                .set_device_busy(&self.user_id, &self.device_id, with);
        }
    }

    pub(super) async fn handle_call(&mut self, frame: ClientFrame, out: &mut Vec<ServerFrame>) {
        let now = self.state.clock.utc();
        let (req_id, result) = match frame {
            ClientFrame::CallDial { req_id, callees } => {
                if let Err(wait) = self.state.rates.dials.take(&self.user_id, Instant::now()) {
                    let e = ApiError::rate_limited(wait, "too many calls placed; wait a moment");
                    out.push(ServerFrame::error(req_id, e));
                    return;
                }
                let result = match self.check_users_exist(&callees).await {
                    Ok(()) => {
                        let (user, device) = (self.user_id.as_str(), self.device_id.as_str());
                        let quiet: Vec<String> = callees
                            .iter()
                            .filter(|u| {
                                self.state.hub.availability(u) == Availability::DoNotDisturb
                            })
                            .cloned()
                            .collect();
                        self.state
                            .with_calls(|c| c.dial(user, device, &callees, &quiet, now))
                    }
                    Err(e) => Err(e),
                };
                (req_id, result)
            }
            ClientFrame::CallAnswer { req_id, room_id } => (
                req_id,
                self.state
                    .with_calls(|c| c.answer(&self.user_id, &self.device_id, &room_id, now)),
            ),
            ClientFrame::CallDecline {
                req_id,
                room_id,
                reason,
            } => (
                req_id,
                self.state
                    .with_calls(|c| c.decline(&self.user_id, &room_id, reason, now)),
            ),
            ClientFrame::CallHangup {
                req_id,
                room_id,
                reason,
            } => {
                let reason = reason.unwrap_or(EndReason::HangUp);
                let result = if reason.is_hangup_reason() {
                    self.state.with_calls(|c| {
                        c.hangup_because(&self.user_id, &self.device_id, &room_id, reason, now)
                    })
                } else {
                    Err(ApiError::new(
                        ErrorCode::ValidationError,
                        "a hang-up reason is hang_up, error, incompatible_media or media_lost",
                    ))
                };
                (req_id, result)
            }
            ClientFrame::CallIgnore { req_id, room_id } => (
                req_id,
                self.state
                    .with_calls(|c| c.ignore(&self.user_id, &room_id, now)),
            ),
            ClientFrame::CallForward {
                req_id,
                room_id,
                to,
            } => {
                let result = match self.check_may_ring(&to).await {
                    Ok(()) => self
                        .state
                        .with_calls(|c| c.forward(&self.user_id, &room_id, &to, now)),
                    Err(e) => Err(e),
                };
                (req_id, result)
            }
            ClientFrame::CallTransfer {
                req_id,
                room_id,
                to,
            } => {
                let result = match self.check_may_ring(&to).await {
                    Ok(()) => self.state.with_calls(|c| {
                        c.transfer(&self.user_id, &self.device_id, &room_id, &to, now)
                    }),
                    Err(e) => Err(e),
                };
                (req_id, result)
            }
            frame @ (ClientFrame::CallConsultativeTransfer { .. }
            | ClientFrame::CallMerge { .. }) => {
                let transfer = matches!(frame, ClientFrame::CallConsultativeTransfer { .. });
                let (ClientFrame::CallConsultativeTransfer {
                    req_id,
                    room_id,
                    with_room,
                }
                | ClientFrame::CallMerge {
                    req_id,
                    room_id,
                    with_room,
                }) = frame
                else {
                    return;
                };
                let (user, device) = (self.user_id.as_str(), self.device_id.as_str());
                let result = self
                    .state
                    .with_calls(|c| c.merge(user, device, &room_id, &with_room, transfer, now));
                (req_id, result)
            }
            ClientFrame::CallHold {
                req_id,
                room_id,
                hold,
            } => (
                req_id,
                self.state
                    .with_calls(|c| c.hold(&self.user_id, &self.device_id, &room_id, hold, now)),
            ),
            ClientFrame::CallJoin { req_id, room_id } => {
                let result = match &self.link {
                    Some(link) => {
                        let guest = link.guest_name.clone();
                        self.state.with_calls(|c| {
                            c.join(
                                &self.user_id,
                                &self.device_id,
                                &room_id,
                                guest.as_deref(),
                                now,
                            )
                        })
                    }
                    None => Err(ApiError::new(
                        ErrorCode::ValidationError,
                        "call_join is for a session connected by access link; \
                         one connected by token answers (call_answer)",
                    )),
                };
                (req_id, result)
            }
            ClientFrame::CallSignal {
                room_id,
                to_user,
                signal,
            } => {
                self.relay_signal(room_id, to_user, signal, out);
                return;
            }
            _ => return,
        };
        out.push(match result {
            Ok(call) => ServerFrame::CallUpdated { req_id, call },
            Err(e) => ServerFrame::error(req_id, e),
        });
    }

    fn relay_signal(
        &mut self,
        room_id: String,
        to_user: String,
        signal: Signal,
        out: &mut Vec<ServerFrame>,
    ) {
        if let Err(wait) = self.signals.take(Instant::now()) {
            let e = ApiError::rate_limited(wait, "too many call signals; slow down");
            out.push(ServerFrame::error(None, e));
            return;
        }
        if signal.size() > MAX_SIGNAL_BYTES {
            out.push(ServerFrame::error(
                None,
                ApiError::new(
                    ErrorCode::ValidationError,
                    format!("signals are limited to {MAX_SIGNAL_BYTES} bytes"),
                ),
            ));
            return;
        }
        let (user, device) = (self.user_id.as_str(), self.device_id.as_str());
        let target = {
            let calls = self
                .state
                .calls
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            calls.signal_target(user, device, &room_id, &to_user)
        };
        match target {
            Ok(to_device) => self.state.hub.send_to_device(
                &to_user,
                &to_device,
                true,
                &ServerFrame::CallSignal {
                    room_id,
                    from_user: user.to_owned(),
                    from_device: device.to_owned(),
                    signal,
                },
            ),
            Err(e) => out.push(ServerFrame::error(None, e)),
        }
    }

    /// A forward or transfer may ring `to`: they exist and are not in do not disturb (the
    /// call is refused here, so it stays with whoever asked rather than ending at once).
    async fn check_may_ring(&self, to: &str) -> Result<(), ApiError> {
        self.check_users_exist(&[to.to_owned()]).await?;
        if self.state.hub.availability(to) == Availability::DoNotDisturb {
            return Err(ApiError::new(
                ErrorCode::UserDoNotDisturb,
                format!("`{to}` does not want to be disturbed"),
            ));
        }
        Ok(())
    }

    async fn check_users_exist(&self, users: &[String]) -> Result<(), ApiError> {
        for u in users {
            validate_user_id(u)?;
        }
        let list = users.to_vec();
        let missing = self
            .state
            .store(move |s| {
                let mut missing = Vec::new();
                for u in &list {
                    if s.get_user(u)?.is_none() {
                        missing.push(u.clone());
                    }
                }
                Ok(missing)
            })
            .await?;
        match missing.first() {
            None => Ok(()),
            Some(u) => Err(ApiError::new(
                ErrorCode::UserNotFound,
                format!("user `{u}` does not exist"),
            )),
        }
    }
}
