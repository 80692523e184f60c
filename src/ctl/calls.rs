//! What a control request asks of a call, the same for every instance that has calls (the
//! interface, `parla answer`): which call, which command, and what the reply says. The
//! command itself runs on the call's task ([`Switchboard::request`]), so the reply tells
//! what happened, not what was asked.
//!
//! [`Switchboard::request`]: crate::client::call::switchboard::Switchboard::request

use serde_json::{json, Value};
use tokio::sync::oneshot;

use super::{CtlFailure, CtlRequest};
use crate::client::call::switchboard::{CallCommand, CallDone, CallRefusal};

/// A request about a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallAsk {
    /// Hang up the named call (`None`: the current one).
    Hangup { room_id: Option<String> },
    /// A command for the named call (`None`: the current one).
    Command {
        room_id: Option<String>,
        command: CallCommand,
    },
    /// An operation the server carries out on the named call (`None`: the ringing one for
    /// ignore and forward, the current one for transfer).
    Operation { room_id: Option<String>, op: CallOp },
}

/// A call operation the server carries out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallOp {
    Ignore,
    Forward { to: String },
    Transfer { to: String },
}

impl CallAsk {
    /// What `request` asks of a call; `None` when it is not about one.
    #[must_use]
    pub fn of(request: &CtlRequest) -> Option<CallAsk> {
        let command = |room_id: &Option<String>, command| {
            Some(CallAsk::Command {
                room_id: room_id.clone(),
                command,
            })
        };
        match request {
            CtlRequest::Hangup { room_id } => Some(CallAsk::Hangup {
                room_id: room_id.clone(),
            }),
            CtlRequest::Hold { room_id } => command(room_id, CallCommand::Hold(true)),
            CtlRequest::Resume { room_id } => command(room_id, CallCommand::Hold(false)),
            CtlRequest::Mute => command(&None, CallCommand::Mute(true)),
            CtlRequest::Unmute => command(&None, CallCommand::Mute(false)),
            CtlRequest::Dtmf { digits } => command(&None, CallCommand::Dtmf(digits.clone())),
            CtlRequest::Ignore { room_id } => Some(CallAsk::Operation {
                room_id: room_id.clone(),
                op: CallOp::Ignore,
            }),
            CtlRequest::Forward { room_id, to } => Some(CallAsk::Operation {
                room_id: room_id.clone(),
                op: CallOp::Forward { to: to.clone() },
            }),
            CtlRequest::Transfer { room_id, to } => Some(CallAsk::Operation {
                room_id: room_id.clone(),
                op: CallOp::Transfer { to: to.clone() },
            }),
            _ => None,
        }
    }

    /// The call named, if any.
    #[must_use]
    pub fn room_id(&self) -> Option<&str> {
        match self {
            CallAsk::Hangup { room_id }
            | CallAsk::Command { room_id, .. }
            | CallAsk::Operation { room_id, .. } => room_id.as_deref(),
        }
    }
}

/// The reply to a command carried out on call `room_id`.
#[must_use]
pub fn done_reply(room_id: &str, done: &CallDone) -> Value {
    match done {
        CallDone::Hold(on) => json!({"room_id": room_id, "hold": on}),
        CallDone::Mute(on) => json!({"room_id": room_id, "muted": on}),
        CallDone::Dtmf { digits, sent_as } => {
            json!({"room_id": room_id, "digits": digits, "sent_as": sent_as})
        }
        CallDone::Ring(on) => json!({"room_id": room_id, "ring": on}),
    }
}

impl From<CallRefusal> for CtlFailure {
    fn from(r: CallRefusal) -> Self {
        CtlFailure::new(r.code, r.message)
    }
}

/// The refusal when there is no call to act on.
#[must_use]
pub fn no_call() -> CtlFailure {
    CtlFailure::new("no_call", "there is no call to do that to")
}

/// Waits for the outcome of a command on call `room_id` and makes it the reply.
pub async fn reply(
    room_id: &str,
    outcome: oneshot::Receiver<Result<CallDone, CallRefusal>>,
) -> Result<(CallDone, Value), CtlFailure> {
    match outcome.await {
        Ok(Ok(done)) => {
            let value = done_reply(room_id, &done);
            Ok((done, value))
        }
        Ok(Err(refusal)) => Err(refusal.into()),
        Err(_) => Err(no_call()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_map_to_the_call_commands_once() {
        let hold = CtlRequest::Hold {
            room_id: Some("r1".into()),
        };
        assert_eq!(
            CallAsk::of(&hold),
            Some(CallAsk::Command {
                room_id: Some("r1".into()),
                command: CallCommand::Hold(true)
            })
        );
        assert_eq!(CallAsk::of(&hold).unwrap().room_id(), Some("r1"));
        assert_eq!(
            CallAsk::of(&CtlRequest::Resume { room_id: None }),
            Some(CallAsk::Command {
                room_id: None,
                command: CallCommand::Hold(false)
            })
        );
        assert_eq!(
            CallAsk::of(&CtlRequest::Unmute),
            Some(CallAsk::Command {
                room_id: None,
                command: CallCommand::Mute(false)
            })
        );
        assert_eq!(
            CallAsk::of(&CtlRequest::Dtmf {
                digits: "1#".into()
            }),
            Some(CallAsk::Command {
                room_id: None,
                command: CallCommand::Dtmf("1#".into())
            })
        );
        assert_eq!(
            CallAsk::of(&CtlRequest::Hangup { room_id: None }),
            Some(CallAsk::Hangup { room_id: None })
        );
        for other in [
            CtlRequest::Status,
            CtlRequest::Events,
            CtlRequest::Dial { users: vec![] },
            CtlRequest::Answer { room_id: None },
        ] {
            assert_eq!(CallAsk::of(&other), None, "{other:?}");
        }
    }

    #[test]
    fn replies_say_what_was_done() {
        assert_eq!(
            done_reply(
                "r1",
                &CallDone::Dtmf {
                    digits: "12".into(),
                    sent_as: "inband"
                }
            ),
            json!({"room_id": "r1", "digits": "12", "sent_as": "inband"})
        );
        assert_eq!(
            done_reply("r1", &CallDone::Mute(true)),
            json!({"room_id": "r1", "muted": true})
        );
        assert_eq!(
            done_reply("r1", &CallDone::Hold(false)),
            json!({"room_id": "r1", "hold": false})
        );
    }

    #[tokio::test]
    async fn a_gone_call_is_no_call() {
        let (tx, rx) = oneshot::channel();
        drop(tx);
        assert_eq!(reply("r1", rx).await.unwrap_err().code, "no_call");
        let (tx, rx) = oneshot::channel();
        let _ = tx.send(Err(CallRefusal {
            code: "not_connected",
            message: "no media yet".into(),
        }));
        assert_eq!(reply("r1", rx).await.unwrap_err().code, "not_connected");
    }
}
