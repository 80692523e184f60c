//! The calls of one device, each on its own task with its own [`CallDriver`]: session
//! events go to the call they are about, commands (hold, mute, DTMF, ring) to the call they
//! name, and what the calls notice (statistics every second, received DTMF, failures) comes
//! back as [`CallNews`]. The terminal interface and the demo's bots run their calls through
//! this.

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::mpsc;

use super::media_call::AudioSetup;
use super::phone::{CallDriver, CallEvent};
use super::{Client, Event};
use crate::media::dtmf::{self, DtmfTiming};
use crate::media::stats::CallStats;

/// What the calls report.
#[derive(Debug, Clone, PartialEq)]
pub enum CallNews {
    Stats(String, CallStats),
    Dtmf(String, char),
    /// Something went wrong with a call's media or a command.
    Error(String, String),
    /// A call's media task finished (after the call ended).
    Finished(String),
}

/// What a call's task is told.
#[derive(Debug, Clone)]
pub enum CallCommand {
    Hold(bool),
    Mute(bool),
    Dtmf(String),
    Ring(bool),
}

enum Msg {
    Event(Box<Event>),
    Command(CallCommand),
}

/// Makes the audio for each new call.
pub type AudioFactory = Box<dyn Fn() -> AudioSetup + Send>;

pub struct Switchboard {
    client: Client,
    audio: AudioFactory,
    calls: HashMap<String, mpsc::UnboundedSender<Msg>>,
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

    /// Hands a session event to the call it is about, starting that call's task when a
    /// call first shows up (placed here, or ringing here).
    pub fn route(&mut self, event: &Event) {
        let room = match event {
            Event::Call { view } => {
                if !self.calls.contains_key(&view.call.room_id) && !view.is_ended() {
                    self.start(&view.call.room_id);
                }
                view.call.room_id.clone()
            }
            Event::CallSignal { room_id, .. } => room_id.clone(),
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

    /// A command for call `room` (ignored when there is no such call).
    pub fn send(&self, room: &str, command: CallCommand) {
        if let Some(tx) = self.calls.get(room) {
            let _ = tx.send(Msg::Command(command));
        }
    }

    fn start(&mut self, room: &str) {
        let (tx, mut rx) = mpsc::unbounded_channel();
        self.calls.insert(room.to_owned(), tx);
        let mut driver = CallDriver::new(self.client.clone(), room, (self.audio)());
        let news = self.news.clone();
        let room = room.to_owned();
        let (every, timing) = (self.stats_every, self.dtmf_timing);
        tokio::spawn(async move {
            let mut stats = tokio::time::interval(every);
            let fail = |e: String| {
                tracing::warn!(room = %room, error = %e, "call");
                let _ = news.send(CallNews::Error(room.clone(), e));
            };
            loop {
                tokio::select! {
                    m = rx.recv() => match m {
                        Some(Msg::Event(e)) => match driver.on_event(&e).await {
                            Ok(Some(CallEvent::Ended(_))) => break,
                            Ok(_) => {}
                            Err(e) => fail(e.to_string()),
                        },
                        Some(Msg::Command(CallCommand::Hold(on))) => {
                            if let Err(e) = driver.set_hold(on).await {
                                fail(e.to_string());
                            }
                        }
                        Some(Msg::Command(CallCommand::Mute(on))) => driver.set_muted(on),
                        Some(Msg::Command(CallCommand::Dtmf(digits))) => match dtmf::parse(&digits) {
                            Ok(d) => {
                                if !driver.send_dtmf(&d, timing).await {
                                    fail("no audio yet to send the digits in".into());
                                }
                            }
                            Err(e) => fail(e.to_string()),
                        },
                        Some(Msg::Command(CallCommand::Ring(on))) => driver.set_ring(on).await,
                        None => break,
                    },
                    ev = driver.next_media_event() => {
                        if let CallEvent::Dtmf(d) = ev {
                            let _ = news.send(CallNews::Dtmf(room.clone(), d));
                        }
                    }
                    _ = stats.tick() => {
                        if let Some(s) = driver.stats().await {
                            let _ = news.send(CallNews::Stats(room.clone(), s));
                        }
                    }
                }
            }
            if let Err(e) = driver.finish().await {
                fail(e.to_string());
            }
            let _ = news.send(CallNews::Finished(room));
        });
    }
}
