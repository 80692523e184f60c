//! One party of a call under test: a real client whose events drive a `CallDriver` on its
//! own task (as `parla call` does), with what it hears captured and every state recorded.

// Test code: fixtures convert numbers freely; scenarios read top to bottom.
#![allow(clippy::trivially_copy_pass_by_ref)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use parla::client::call::media::AudioSetup;
use parla::client::call::phone::{CallDriver, CallEvent};
use parla::client::call::CallState;
use parla::client::{Client, Event};
use parla::media::audio::{rms, tone_strength, Capture, Tone};
use parla::media::device::DeviceCounters;
use parla::media::net::Outage;
use parla::media::peer::MediaState;
use parla::media::stats::CallStats;
use parla::media::tones::Cadence;
use tokio::sync::{mpsc, oneshot};

use super::{Events, WAIT};

enum Command {
    Dtmf(String),
    Hold(bool),
    Mute(bool),
    Ring(bool),
    Tone(oneshot::Sender<Option<Cadence>>),
    Legs(oneshot::Sender<(usize, u32)>),
    Stats(oneshot::Sender<Option<CallStats>>),
    Finish(oneshot::Sender<Option<CallStats>>),
}

pub struct Party {
    pub name: String,
    pub client: Client,
    pub heard: Capture,
    pub outage: Outage,
    /// Dropout counters, as a sound card would keep them.
    pub device: Arc<DeviceCounters>,
    states: Arc<Mutex<Vec<CallState>>>,
    media: Arc<Mutex<Vec<MediaState>>>,
    dtmf: Arc<Mutex<String>>,
    /// Every session event the party's task saw.
    events: Arc<Mutex<Vec<Event>>>,
    commands: mpsc::UnboundedSender<Command>,
    /// The task driving the call: a panic in it (a failed `on_event`, say) fails the test
    /// the next time the test asks the party anything.
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// Audio for a party: a tone out, a capture in, loopback only.
pub fn tone_setup(
    freq: f64,
    heard: &Capture,
    ring: bool,
    outage: &Outage,
    device: &Arc<DeviceCounters>,
) -> AudioSetup {
    AudioSetup {
        source: Box::new(Tone::new(freq)),
        sink: Box::new(heard.clone()),
        ring,
        outage: Some(outage.clone()),
        device: Some(device.clone()),
        ..AudioSetup::silent("127.0.0.1:0")
    }
}

impl Party {
    /// Starts driving call `room` for `client`, sending a `freq` Hz tone. Events already
    /// seen are fed first.
    pub fn start(
        name: &str,
        client: Client,
        events: Events,
        room: &str,
        freq: f64,
        ring: bool,
    ) -> Party {
        let heard = Capture::default();
        let outage = Outage::default();
        let device = Arc::new(DeviceCounters::default());
        let audio = tone_setup(freq, &heard, ring, &outage, &device);
        Self::drive(name, client, events, room, audio, heard, outage, device)
    }

    /// Like [`Party::start`], with audio of the test's own (what is heard then goes
    /// wherever `audio.sink` puts it, not to `heard`).
    pub fn start_with(
        name: &str,
        client: Client,
        events: Events,
        room: &str,
        audio: AudioSetup,
    ) -> Party {
        let device = audio.device.clone().unwrap_or_default();
        let outage = audio.outage.clone().unwrap_or_default();
        Self::drive(
            name,
            client,
            events,
            room,
            audio,
            Capture::default(),
            outage,
            device,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn drive(
        name: &str,
        client: Client,
        mut events: Events,
        room: &str,
        audio: AudioSetup,
        heard: Capture,
        outage: Outage,
        device: Arc<DeviceCounters>,
    ) -> Party {
        let mut driver = CallDriver::new(client.clone(), room, audio);
        let states: Arc<Mutex<Vec<CallState>>> = Arc::default();
        let media: Arc<Mutex<Vec<MediaState>>> = Arc::default();
        let (commands, mut rx) = mpsc::unbounded_channel();
        let dtmf: Arc<Mutex<String>> = Arc::default();
        let seen: Arc<Mutex<Vec<Event>>> = Arc::default();
        let (st, md, dt, sn) = (states.clone(), media.clone(), dtmf.clone(), seen.clone());
        let who = name.to_owned();
        let task = tokio::spawn(async move {
            let record = |ev: Option<CallEvent>| {
                if let Some(CallEvent::State(v) | CallEvent::Ended(v)) = ev {
                    st.lock().unwrap().push(v.state);
                }
            };
            for e in std::mem::take(&mut events.seen) {
                let ev = driver.on_event(&e).await;
                sn.lock().unwrap().push(e);
                record(ev.unwrap_or_else(|err| panic!("{who}: on_event failed: {err}")));
            }
            loop {
                tokio::select! {
                    e = events.rx.recv() => match e {
                        Some(e) => {
                            let ev = driver.on_event(&e).await;
                            sn.lock().unwrap().push(e);
                            record(ev.unwrap_or_else(|err| panic!("{who}: on_event failed: {err}")));
                        }
                        None => break,
                    },
                    ev = driver.next_media_event() => match ev {
                        CallEvent::Media(s) => md.lock().unwrap().push(s),
                        CallEvent::Dtmf(d) => dt.lock().unwrap().push(d),
                        _ => {}
                    },
                    c = rx.recv() => match c {
                        Some(Command::Dtmf(d)) => {
                            let digits = parla::media::dtmf::parse(&d).unwrap();
                            let timing = parla::media::dtmf::DtmfTiming {
                                duration: Duration::from_millis(120),
                                gap: Duration::from_millis(80),
                            };
                            assert!(driver.send_dtmf(&digits, timing).await, "no media yet");
                        }
                        Some(Command::Hold(h)) => driver
                            .set_hold(h)
                            .await
                            .unwrap_or_else(|e| panic!("{who}: hold failed: {e}")),
                        Some(Command::Mute(m)) => driver.set_muted(m),
                        Some(Command::Ring(r)) => driver.set_ring(r).await,
                        Some(Command::Tone(tx)) => { let _ = tx.send(driver.tone()); }
                        Some(Command::Stats(tx)) => { let _ = tx.send(driver.stats().await); }
                        Some(Command::Legs(tx)) => {
                            let restarts = driver.legs().map(parla::client::call::media::CallMedia::restarts).sum();
                            let _ = tx.send((driver.legs().count(), restarts));
                        }
                        Some(Command::Finish(tx)) => {
                            let stats = driver
                                .finish()
                                .await
                                .unwrap_or_else(|e| panic!("{who}: finishing the call failed: {e}"));
                            let _ = tx.send(stats);
                            break;
                        }
                        None => break,
                    },
                }
            }
        });
        Party {
            name: name.to_owned(),
            client,
            heard,
            outage,
            device,
            states,
            media,
            dtmf,
            events: seen,
            commands,
            task: Mutex::new(Some(task)),
        }
    }

    /// The task is gone without answering: fail with its panic, or say it ended.
    async fn task_failure(&self) -> ! {
        let task = self.task.lock().unwrap().take();
        match task {
            Some(t) => match t.await {
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                _ => panic!("{}: the call's task ended", self.name),
            },
            None => panic!("{}: the call's task ended", self.name),
        }
    }

    /// Fails the test if the task has panicked (or ended) meanwhile.
    pub async fn check(&self) {
        let finished = self
            .task
            .lock()
            .unwrap()
            .as_ref()
            .is_some_and(tokio::task::JoinHandle::is_finished);
        if finished {
            self.task_failure().await;
        }
    }

    /// Session events seen so far.
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap().clone()
    }

    pub fn states(&self) -> Vec<CallState> {
        self.states.lock().unwrap().clone()
    }

    pub fn media_states(&self) -> Vec<MediaState> {
        self.media.lock().unwrap().clone()
    }

    /// The current state.
    pub fn state(&self) -> Option<CallState> {
        self.states().last().copied()
    }

    /// Waits (bounded) until the latest state matches.
    pub async fn wait_state(&self, what: &str, pred: impl Fn(&CallState) -> bool) {
        self.wait(what, || self.state().as_ref().is_some_and(&pred))
            .await;
    }

    /// Polls `cond` every 50 ms until it holds; fails after WAIT (or at once if the
    /// party's task has died).
    pub async fn wait(&self, what: &str, cond: impl Fn() -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !cond() {
            self.check().await;
            assert!(
                tokio::time::Instant::now() < deadline,
                "{}: timed out waiting for {what}; states {:?}, media {:?}",
                self.name,
                self.states(),
                self.media_states()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The last `ms` milliseconds heard.
    pub fn last(&self, ms: usize) -> Vec<i16> {
        let s = self.heard.samples();
        let n = (48 * ms).min(s.len());
        s[s.len() - n..].to_vec()
    }

    /// Strength of `freq` in the last 300 ms heard.
    pub fn hears(&self, freq: f64) -> f64 {
        tone_strength(&self.last(300), freq)
    }

    pub fn silent(&self) -> bool {
        rms(&self.last(300)) < 50.0
    }

    pub async fn wait_hears(&self, freq: f64) {
        self.wait(&format!("{freq} Hz"), || self.hears(freq) > 0.3)
            .await;
    }

    /// DTMF digits heard so far.
    pub fn dtmf_heard(&self) -> String {
        self.dtmf.lock().unwrap().clone()
    }

    pub fn send_dtmf(&self, digits: &str) {
        let _ = self.commands.send(Command::Dtmf(digits.to_owned()));
    }

    pub fn hold(&self, on: bool) {
        let _ = self.commands.send(Command::Hold(on));
    }

    pub fn mute(&self, on: bool) {
        let _ = self.commands.send(Command::Mute(on));
    }

    pub fn ring(&self, on: bool) {
        let _ = self.commands.send(Command::Ring(on));
    }

    pub async fn tone(&self) -> Option<Cadence> {
        let (tx, rx) = oneshot::channel();
        let _ = self.commands.send(Command::Tone(tx));
        match rx.await {
            Ok(t) => t,
            Err(_) => self.task_failure().await,
        }
    }

    /// Media connections open, and ICE restarts this party started.
    pub async fn legs(&self) -> (usize, u32) {
        let (tx, rx) = oneshot::channel();
        let _ = self.commands.send(Command::Legs(tx));
        match rx.await {
            Ok(l) => l,
            Err(_) => self.task_failure().await,
        }
    }

    /// The call's statistics now.
    pub async fn stats_now(&self) -> Option<CallStats> {
        let (tx, rx) = oneshot::channel();
        let _ = self.commands.send(Command::Stats(tx));
        match rx.await {
            Ok(s) => s,
            Err(_) => self.task_failure().await,
        }
    }

    /// Stops the call's media; its final statistics. A failure to stop fails the test.
    pub async fn finish(self) -> Option<CallStats> {
        let (tx, rx) = oneshot::channel();
        let _ = self.commands.send(Command::Finish(tx));
        match rx.await {
            Ok(stats) => stats,
            Err(_) => self.task_failure().await,
        }
    }
}

pub fn connected(s: &CallState) -> bool {
    *s == CallState::Connected
}
