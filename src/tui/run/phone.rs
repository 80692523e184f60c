//! The interface's call jobs: dial, answer, decline, forward, transfer, join, hang up, and
//! the commands for a call's own task (hold, mute, DTMF, ring), each answering the control
//! socket when it asked.

use serde_json::{json, Value};
use tokio::sync::oneshot;

use super::{CtlReply, News, Runtime};
use crate::client::call::switchboard::CallCommand;
use crate::ctl::calls;
use crate::tui::app::Job;

impl Runtime {
    pub(super) fn call_job(&mut self, job: Job, reply: Option<CtlReply>) {
        match job {
            Job::Dial { users } => {
                // Calling someone offline rings nowhere until they connect: said here and
                // in the reply (`offline`).
                let offline = self.app.offline_among(&users);
                let client = self.client.clone();
                let holds = std::mem::take(&mut self.holding);
                self.spawn_answered("call", reply, async move {
                    for hold in holds {
                        let _ = hold.await;
                    }
                    let call = client.dial(&users).await?;
                    let mut v = serde_json::to_value(&call).unwrap_or(Value::Null);
                    if let Some(map) = v.as_object_mut() {
                        map.insert("offline".into(), json!(offline));
                    }
                    Ok(v)
                });
            }
            Job::Answer { room_id } => {
                let client = self.client.clone();
                let holds = std::mem::take(&mut self.holding);
                self.spawn_answered("answer", reply, async move {
                    for hold in holds {
                        let _ = hold.await;
                    }
                    let call = client.answer(&room_id).await?;
                    Ok(serde_json::to_value(&call).unwrap_or(Value::Null))
                });
            }
            Job::Ignore { room_id } => {
                let client = self.client.clone();
                self.spawn_answered("ignore", reply, async move {
                    let call = client.ignore(&room_id).await?;
                    Ok(serde_json::to_value(&call).unwrap_or(Value::Null))
                });
            }
            Job::Forward { room_id, to } => {
                let client = self.client.clone();
                self.spawn_answered("forward", reply, async move {
                    let call = client.forward(&room_id, &to).await?;
                    Ok(serde_json::to_value(&call).unwrap_or(Value::Null))
                });
            }
            Job::Transfer { room_id, to } => {
                let client = self.client.clone();
                let holds = std::mem::take(&mut self.holding);
                self.spawn_answered("transfer", reply, async move {
                    for hold in holds {
                        let _ = hold.await;
                    }
                    let call = client.transfer(&room_id, &to).await?;
                    Ok(serde_json::to_value(&call).unwrap_or(Value::Null))
                });
            }
            Job::ConnectCalls {
                room_id,
                with_room,
                transfer,
            } => {
                let client = self.client.clone();
                let holds = std::mem::take(&mut self.holding);
                self.spawn_answered("connect", reply, async move {
                    for hold in holds {
                        let _ = hold.await;
                    }
                    let call = if transfer {
                        client.consultative_transfer(&room_id, &with_room).await?
                    } else {
                        client.merge(&room_id, &with_room).await?
                    };
                    Ok(serde_json::to_value(&call).unwrap_or(Value::Null))
                });
            }
            Job::Decline { room_id, reason } => {
                let client = self.client.clone();
                self.spawn_answered("decline", reply, async move {
                    let call = client.decline(&room_id, reason).await?;
                    Ok(serde_json::to_value(&call).unwrap_or(Value::Null))
                });
            }
            Job::Hangup { room_id } => {
                let client = self.client.clone();
                self.spawn_answered("hangup", reply, async move {
                    let call = client.hangup(&room_id).await?;
                    Ok(serde_json::to_value(&call).unwrap_or(Value::Null))
                });
            }
            Job::Hold { room_id, on: true } if reply.is_none() => self.hold(room_id),
            Job::Hold { room_id, on } => self.call_command(room_id, CallCommand::Hold(on), reply),
            Job::Mute { room_id, on } => self.call_command(room_id, CallCommand::Mute(on), reply),
            Job::Dtmf { room_id, digits } => {
                self.call_command(room_id, CallCommand::Dtmf(digits), reply);
            }
            Job::Ring { room_id, on } => self.call_command(room_id, CallCommand::Ring(on), reply),
            _ => {}
        }
    }

    /// Holds a call, and keeps track of it until done so that a dial or answer that
    /// follows waits for it.
    fn hold(&mut self, room_id: String) {
        let outcome = self.phone.request(&room_id, CallCommand::Hold(true));
        let (done, wait) = oneshot::channel();
        self.holding
            .retain_mut(|w| matches!(w.try_recv(), Err(oneshot::error::TryRecvError::Empty)));
        self.holding.push(wait);
        let news = self.news_tx.clone();
        self.tasks.spawn(async move {
            if let Err(e) = calls::reply(&room_id, outcome).await {
                let _ = news.send(News::Failed {
                    what: "hold",
                    code: e.code.clone(),
                    detail: e.message,
                });
            }
            let _ = done.send(());
        });
    }

    /// A command for a call's task; with `reply`, its outcome answers a control request.
    fn call_command(&mut self, room_id: String, command: CallCommand, reply: Option<CtlReply>) {
        let Some(reply) = reply else {
            self.phone.send(&room_id, command);
            return;
        };
        let outcome = self.phone.request(&room_id, command);
        self.tasks.spawn(async move {
            let _ = reply.send(calls::reply(&room_id, outcome).await.map(|(_, v)| v));
        });
    }
}
