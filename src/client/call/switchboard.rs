//! The calls of one device, each on its own task with its own [`CallDriver`]: session
//! events go to the call they are about, commands (hold, mute, DTMF, ring) to the call they
//! name, and what the calls notice (statistics every second, received DTMF, failures) comes
//! back as [`CallNews`]. The terminal interface and the demo's bots run their calls through
//! this.

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use super::media::{AudioSetup, CallMedia};
use super::phone::{CallDriver, CallEvent};
use crate::client::{Client, Event};
use crate::media::dtmf::{self, DtmfTiming};
use crate::media::peer::MediaState;
use crate::media::stats::CallStats;

/// What the calls report.
#[derive(Debug, Clone, PartialEq)]
pub enum CallNews {
    Stats(String, CallStats),
    Dtmf(String, char),
    /// The media connection (with one of the other parties) changed state.
    Media(String, MediaState),
    /// Something went wrong with a call's media or a command.
    Error(String, String),
    /// A call's media task finished (after the call ended), with its last statistics.
    Finished(String, Option<CallStats>),
}

/// What a call's task is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallCommand {
    Hold(bool),
    Mute(bool),
    /// Digits as typed (checked with [`dtmf::parse`]).
    Dtmf(String),
    Ring(bool),
}

/// What a command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallDone {
    Hold(bool),
    Mute(bool),
    /// The digits went out, as RFC 4733 events (`rfc4733`) or as tones (`inband`).
    Dtmf {
        digits: String,
        sent_as: &'static str,
    },
    Ring(bool),
}

/// Why a command did not happen, with a stable code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRefusal {
    /// `no_call`, `validation_error`, `not_connected` or `media_error`.
    pub code: &'static str,
    pub message: String,
}

impl CallRefusal {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        CallRefusal {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for CallRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Where the outcome of a command goes.
pub type CallReply = oneshot::Sender<Result<CallDone, CallRefusal>>;

enum Msg {
    Event(Box<Event>),
    Command(CallCommand, Option<CallReply>),
}

/// Makes the audio for each new call.
pub type AudioFactory = Box<dyn Fn() -> AudioSetup + Send>;

/// How a call's task reports and sends.
#[derive(Debug, Clone, Copy)]
struct Pace {
    stats_every: Duration,
    dtmf_timing: DtmfTiming,
}

pub struct Switchboard {
    client: Client,
    audio: AudioFactory,
    calls: HashMap<String, mpsc::UnboundedSender<Msg>>,
    /// The calls' tasks: [`Switchboard::shutdown`] waits for them.
    tasks: JoinSet<()>,
    news: mpsc::UnboundedSender<CallNews>,
    /// How often statistics are reported.
    pub stats_every: Duration,
    pub dtmf_timing: DtmfTiming,
}

impl Switchboard {
    pub fn new(
        client: Client,
        audio: AudioFactory,
    ) -> (Switchboard, mpsc::UnboundedReceiver<CallNews>) {
        let (news, rx) = mpsc::unbounded_channel();
        (
            Switchboard {
                client,
                audio,
                calls: HashMap::new(),
                tasks: JoinSet::new(),
                news,
                stats_every: Duration::from_secs(1),
                dtmf_timing: DtmfTiming {
                    duration: Duration::from_millis(120),
                    gap: Duration::from_millis(80),
                },
            },
            rx,
        )
    }

    /// Calls with a task running.
    pub fn active(&self) -> usize {
        self.calls.len()
    }

    /// The rooms of the calls with a task running.
    pub fn rooms(&self) -> Vec<String> {
        self.calls.keys().cloned().collect()
    }

    /// Hands a session event to the call it is about, starting that call's task when a
    /// call first shows up (placed here, or ringing here).
    pub fn route(&mut self, event: &Event) {
        // Reap the tasks of calls that finished.
        while self.tasks.try_join_next().is_some() {}
        let room = match event {
            Event::Call { view } => {
                if !self.calls.contains_key(&view.call.room_id) && !view.is_ended() {
                    self.start(&view.call.room_id);
                }
                view.call.room_id.clone()
            }
            Event::CallSignal { room_id, .. } => room_id.clone(),
            // The call's task goes on under its new room.
            Event::CallMoved { from_room, view } => {
                let room = view.call.room_id.clone();
                if let Some(tx) = self.calls.remove(from_room) {
                    self.calls.insert(room.clone(), tx);
                }
                room
            }
            _ => return,
        };
        if let Some(tx) = self.calls.get(&room) {
            if tx.send(Msg::Event(Box::new(event.clone()))).is_err() {
                self.calls.remove(&room);
            }
        }
        if let Event::Call { view } = event {
            if view.is_ended() {
                // The task finishes its media by itself once it has seen the end.
                self.calls.remove(&view.call.room_id);
            }
        }
    }

    /// A command for call `room`; what went wrong is reported as [`CallNews::Error`]
    /// (ignored when there is no such call).
    pub fn send(&self, room: &str, command: CallCommand) {
        if let Some(tx) = self.calls.get(room) {
            let _ = tx.send(Msg::Command(command, None));
        }
    }

    /// A command for call `room` whose outcome comes back on the receiver.
    pub fn request(
        &self,
        room: &str,
        command: CallCommand,
    ) -> oneshot::Receiver<Result<CallDone, CallRefusal>> {
        let (reply, outcome) = oneshot::channel();
        match self.calls.get(room) {
            Some(tx) => {
                if let Err(mpsc::error::SendError(Msg::Command(_, Some(reply)))) =
                    tx.send(Msg::Command(command, Some(reply)))
                {
                    let _ = reply.send(Err(gone(room)));
                }
            }
            None => {
                let _ = reply.send(Err(gone(room)));
            }
        }
        outcome
    }

    /// Waits for every call's task to finish its media (after the calls ended, or once
    /// the session is gone).
    pub async fn shutdown(&mut self) {
        self.calls.clear();
        while self.tasks.join_next().await.is_some() {}
    }

    fn start(&mut self, room: &str) {
        let (tx, rx) = mpsc::unbounded_channel();
        self.calls.insert(room.to_owned(), tx);
        let driver = CallDriver::new(self.client.clone(), room, (self.audio)());
        let pace = Pace {
            stats_every: self.stats_every,
            dtmf_timing: self.dtmf_timing,
        };
        self.tasks.spawn(run_call(
            driver,
            rx,
            self.news.clone(),
            room.to_owned(),
            pace,
        ));
    }
}

fn gone(room: &str) -> CallRefusal {
    CallRefusal::new("no_call", format!("there is no call {room} here"))
}

/// Carries out one command on a call.
async fn perform(
    driver: &mut CallDriver,
    command: CallCommand,
    timing: DtmfTiming,
) -> Result<CallDone, CallRefusal> {
    let media_error = |e: super::media::MediaError| CallRefusal::new("media_error", e.to_string());
    match command {
        CallCommand::Hold(on) => {
            driver.set_hold(on).await.map_err(media_error)?;
            Ok(CallDone::Hold(on))
        }
        CallCommand::Mute(on) => {
            driver.set_muted(on);
            Ok(CallDone::Mute(on))
        }
        CallCommand::Dtmf(digits) => {
            let d = dtmf::parse(&digits)
                .map_err(|e| CallRefusal::new("validation_error", e.to_string()))?;
            if d.is_empty() {
                return Err(CallRefusal::new("validation_error", "no DTMF digits given"));
            }
            if !driver.send_dtmf(&d, timing).await {
                return Err(CallRefusal::new(
                    "not_connected",
                    "the call has no media yet; try again once it is connected",
                ));
            }
            let events = driver.media().is_some_and(CallMedia::dtmf_as_events);
            Ok(CallDone::Dtmf {
                digits: d.into_iter().collect(),
                sent_as: if events { "rfc4733" } else { "inband" },
            })
        }
        CallCommand::Ring(on) => {
            driver.set_ring(on).await;
            Ok(CallDone::Ring(on))
        }
    }
}

/// Feeds one session event to the call; true once the call has ended. A description or
/// candidate that cannot be used ends the call for everyone, with its reason (the call's
/// end then comes as an event too).
async fn on_event(
    driver: &mut CallDriver,
    event: &Event,
    room: &str,
    fail: impl Fn(String),
) -> bool {
    match driver.on_event(event).await {
        Ok(Some(CallEvent::Ended(_))) => true,
        Ok(_) => false,
        Err(e) => {
            // Hung up with the reason before anyone hears of the failure (a front end that
            // hangs up on failures would otherwise get there first, with `hang_up`).
            if let Err(h) = driver.client().hangup_because(room, e.end_reason()).await {
                tracing::warn!(room = %room, error = %h, "could not hang up a failed call");
            }
            fail(e.to_string());
            false
        }
    }
}

/// One call's task: session events and commands in, news out, until the call ended.
async fn run_call(
    mut driver: CallDriver,
    mut rx: mpsc::UnboundedReceiver<Msg>,
    news: mpsc::UnboundedSender<CallNews>,
    room: String,
    pace: Pace,
) {
    let mut room = room;
    let mut stats = tokio::time::interval(pace.stats_every);
    stats.tick().await;
    let fail = |room: &str, e: String| {
        tracing::warn!(room = %room, error = %e, "call");
        let _ = news.send(CallNews::Error(room.to_owned(), e));
    };
    loop {
        tokio::select! {
            m = rx.recv() => match m {
                Some(Msg::Event(e)) => {
                    if on_event(&mut driver, &e, &room, |m| fail(&room, m)).await {
                        break;
                    }
                    if let Event::CallMoved { view, .. } = e.as_ref() {
                        room.clone_from(&view.call.room_id);
                    }
                }
                Some(Msg::Command(command, reply)) => {
                    let outcome = perform(&mut driver, command, pace.dtmf_timing).await;
                    match (reply, outcome) {
                        (Some(reply), outcome) => {
                            let _ = reply.send(outcome);
                        }
                        (None, Err(e)) => fail(&room, e.message),
                        (None, Ok(_)) => {}
                    }
                }
                None => break,
            },
            ev = driver.next_media_event() => match ev {
                CallEvent::Dtmf(d) => {
                    let _ = news.send(CallNews::Dtmf(room.clone(), d));
                }
                CallEvent::Media(state) => {
                    let _ = news.send(CallNews::Media(room.clone(), state));
                }
                _ => {}
            },
            _ = stats.tick() => {
                if let Some(s) = driver.stats().await {
                    let _ = news.send(CallNews::Stats(room.clone(), s));
                }
            }
        }
    }
    let last = match driver.finish().await {
        Ok(s) => s,
        Err(e) => {
            fail(&room, e.to_string());
            None
        }
    };
    let _ = news.send(CallNews::Finished(room, last));
}
