//! Requests from the control socket: what they ask of the interface, as jobs whose outcome
//! is the reply, and the state `parla ctl status` reports.

use serde_json::{json, Value};

use super::{App, Job};
use crate::client::call::switchboard::CallCommand;
use crate::ctl::calls::{no_call, CallAsk, CallOp};
use crate::ctl::status::{connection_code, CallStatus, Status};
use crate::ctl::{CtlFailure, CtlRequest};
use crate::proto::{Activity, Availability, DeclineReason, PresenceSetting};

/// What a control request comes to.
#[derive(Debug, Clone, PartialEq)]
pub enum CtlPlan {
    /// The reply, now.
    Reply(Result<Value, CtlFailure>),
    /// Carry out the jobs in order; the outcome of the last one is the reply.
    Run(Vec<Job>),
}

/// The presence setting a control request names; the note is checked by the server.
fn ctl_presence(
    availability: &str,
    activity: Option<&str>,
    note: Option<&str>,
) -> Result<PresenceSetting, CtlFailure> {
    let availability = match availability {
        "dnd" => Some(Availability::DoNotDisturb),
        other => Availability::parse(other),
    }
    .ok_or_else(|| {
        CtlFailure::new(
            "validation_error",
            "availability must be available, away, busy or do_not_disturb",
        )
    })?;
    let activity = match activity {
        None => None,
        Some(a) => Some(Activity::parse(a).ok_or_else(|| {
            let known: Vec<&str> = Activity::ALL.iter().map(|a| a.as_str()).collect();
            CtlFailure::new(
                "validation_error",
                format!("activity must be one of {}", known.join(", ")),
            )
        })?),
    };
    Ok(PresenceSetting {
        availability,
        activity,
        note: note.map(str::to_owned).filter(|n| !n.trim().is_empty()),
    })
}

impl App {
    /// A request from the control socket. Like a key, it changes the state here and asks
    /// for jobs; unlike a key, the outcome of its last job goes back as the reply.
    pub fn on_ctl(&mut self, request: &CtlRequest) -> CtlPlan {
        self.dirty = true;
        if let Some(ask) = CallAsk::of(request) {
            return self.on_call_ask(ask);
        }
        match request {
            CtlRequest::Status => CtlPlan::Reply(Ok(self.status())),
            CtlRequest::Dial { users } => CtlPlan::Run(self.dial(users.clone())),
            CtlRequest::Answer { room_id } => {
                let jobs = self.answer(room_id.clone());
                if jobs.is_empty() {
                    CtlPlan::Reply(Err(no_call()))
                } else {
                    CtlPlan::Run(jobs)
                }
            }
            CtlRequest::Decline { room_id, reason } => {
                self.ctl_decline(room_id.as_deref(), reason.as_deref())
            }
            CtlRequest::Join { room_id, with_room }
            | CtlRequest::Connect { room_id, with_room } => {
                let transfer = matches!(request, CtlRequest::Connect { .. });
                let jobs = self.connect_calls(room_id.as_deref(), with_room.as_deref(), transfer);
                if jobs.is_empty() {
                    CtlPlan::Reply(Err(crate::ctl::CtlFailure::new(
                        "no_call",
                        "join and connect take two calls that are up",
                    )))
                } else {
                    CtlPlan::Run(jobs)
                }
            }
            CtlRequest::Link { room_id, for_user } => match self.link_room(room_id.as_deref()) {
                Some(room_id) => CtlPlan::Run(vec![Job::MakeLink {
                    room_id,
                    for_user: for_user.clone(),
                }]),
                None => CtlPlan::Reply(Err(no_call())),
            },
            CtlRequest::Send { target, text } => CtlPlan::Run(vec![Job::SendTo {
                target: target.clone(),
                text: text.clone(),
            }]),
            CtlRequest::Presence {
                availability,
                activity,
                note,
            } => match ctl_presence(availability, activity.as_deref(), note.as_deref()) {
                Ok(setting) => CtlPlan::Run(vec![Job::SetPresence { setting }]),
                Err(failure) => CtlPlan::Reply(Err(failure)),
            },
            // `events` is the socket's own; the rest are call asks.
            _ => CtlPlan::Reply(Ok(json!({}))),
        }
    }

    fn ctl_decline(&mut self, room_id: Option<&str>, reason: Option<&str>) -> CtlPlan {
        let reason = match reason.unwrap_or("none") {
            "none" => DeclineReason::None,
            "error" => DeclineReason::Error,
            "do_not_disturb" => DeclineReason::DoNotDisturb,
            "no_answer" => DeclineReason::NoAnswer,
            _ => {
                return CtlPlan::Reply(Err(CtlFailure::new(
                    "validation_error",
                    "reason must be none, error, do_not_disturb or no_answer",
                )))
            }
        };
        match room_id.map(str::to_owned).or_else(|| self.ringing_room()) {
            Some(room_id) => {
                if matches!(&self.modal, Some(super::Modal::Incoming { room_id: r }) if *r == room_id)
                {
                    self.modal = None;
                }
                CtlPlan::Run(vec![Job::Decline { room_id, reason }])
            }
            None => CtlPlan::Reply(Err(no_call())),
        }
    }

    fn on_call_ask(&mut self, ask: CallAsk) -> CtlPlan {
        let current = match &ask {
            // Ignore and forward act on the call that rings.
            CallAsk::Operation {
                op: CallOp::Ignore | CallOp::Forward { .. },
                ..
            } => self.ringing_room(),
            _ => self.active_call().map(|c| c.view.call.room_id.clone()),
        };
        let Some(room_id) = ask.room_id().map(str::to_owned).or(current) else {
            return CtlPlan::Reply(Err(no_call()));
        };
        let job = match ask {
            CallAsk::Hangup { .. } => Job::Hangup { room_id },
            CallAsk::Operation { op, .. } => {
                return CtlPlan::Run(match op {
                    CallOp::Ignore => {
                        if matches!(&self.modal, Some(super::Modal::Incoming { room_id: r }) if *r == room_id)
                        {
                            self.modal = None;
                        }
                        vec![Job::Ignore { room_id }]
                    }
                    CallOp::Forward { to } => self.hand_over(room_id, super::HandOver::Forward, to),
                    CallOp::Transfer { to } => {
                        self.hand_over(room_id, super::HandOver::Transfer, to)
                    }
                })
            }
            CallAsk::Command { command, .. } => match command {
                // The reply is the outcome of the last job: the hold itself.
                CallCommand::Hold(on) => return CtlPlan::Run(self.set_hold(room_id, on)),
                CallCommand::Mute(on) => {
                    if let Some(c) = self
                        .calls
                        .iter_mut()
                        .find(|c| c.view.call.room_id == room_id)
                    {
                        c.muted = on;
                    }
                    Job::Mute { room_id, on }
                }
                CallCommand::Dtmf(digits) => Job::Dtmf { room_id, digits },
                CallCommand::Ring(on) => Job::Ring { room_id, on },
            },
        };
        CtlPlan::Run(vec![job])
    }

    /// The state `parla ctl status` reports (the schema is in [`crate::ctl::status`]).
    pub fn status(&self) -> Value {
        let status = Status {
            user: self.me.clone(),
            connection: connection_code(&self.connection),
            audio: self.audio.clone(),
            audio_notice: self.audio_problem.clone(),
            current_channel: self.current.clone(),
            unread: self.channels.iter().map(|c| c.unread_count).sum::<u64>(),
            calls: self
                .calls
                .iter()
                .map(|c| {
                    CallStatus::of(
                        &c.view,
                        self.now,
                        c.muted,
                        &c.dtmf_received,
                        c.stats.as_ref(),
                    )
                })
                .collect(),
        };
        serde_json::to_value(status).unwrap_or(Value::Null)
    }
}
