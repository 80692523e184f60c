//! Drives one call end to end from the session's events: plays the ring tone or ringback
//! while it rings, offers or answers media at the right moment (one peer connection per
//! other party: a group call is a mesh), relays signaling, restarts ICE when the path
//! drops, surfaces received DTMF, and tears media down at the end. The CLI's `call` and
//! `answer`, and the demo bots, are loops around this.

use std::collections::BTreeMap;

use super::media::{AudioSetup, CallMedia, MediaError};
use super::view::{CallState, CallView};
use crate::client::{Client, Event};
use crate::media::audio::NullSink;
use crate::media::dtmf::DtmfTiming;
use crate::media::engine::MediaEvent;
use crate::media::impair::Impairment;
use crate::media::mix::{Bridge, SharedAudio};
use crate::media::net::Outage;
use crate::media::peer::MediaState;
use crate::media::stats::CallStats;
use crate::media::tones::{Cadence, Ringer, RING, RINGBACK};
use crate::proto::{CallStatus, ParticipantState, Signal};

/// The wait before a second ICE restart while the media stays down, and between later
/// ones.
const RESTART_RETRY_FIRST: std::time::Duration = std::time::Duration::from_secs(2);
const RESTART_RETRY_EVERY: std::time::Duration = std::time::Duration::from_secs(4);

/// What happened to the driven call.
#[derive(Debug, Clone, PartialEq)]
pub enum CallEvent {
    /// The call's visible state changed.
    State(CallView),
    /// A DTMF digit arrived.
    Dtmf(char),
    /// The media connection (with one of the other parties) changed state.
    Media(MediaState),
    /// The call is over; the driver can be finished.
    Ended(CallView),
}

/// Settings every party's connection shares.
struct LegTemplate {
    bind: String,
    impair: Option<Impairment>,
    inband_dtmf: bool,
    outage: Option<Outage>,
    device: Option<std::sync::Arc<crate::media::device::DeviceCounters>>,
    peer: crate::media::peer::PeerOptions,
}

/// What a party's connection reports, tagged with the party.
enum LegReport {
    Dtmf(char),
    State(String, MediaState),
}

pub struct CallDriver {
    client: Client,
    room_id: String,
    /// Source and sink until the first connection (or the group bridge) takes them.
    audio: Option<AudioSetup>,
    template: LegTemplate,
    ring: bool,
    ringer: Option<Ringer>,
    /// Mixes several parties into one sink, in a group call.
    bridge: Option<Bridge>,
    /// The source and sink of a 1:1 call once its first connection started: kept here so
    /// that a connection to a new party (after a transfer) takes them up again.
    direct: Option<SharedAudio>,
    legs: BTreeMap<String, CallMedia>,
    /// Legs whose DTMF is already forwarded.
    listening: std::collections::BTreeSet<String>,
    reports_tx: tokio::sync::mpsc::UnboundedSender<LegReport>,
    reports: tokio::sync::mpsc::UnboundedReceiver<LegReport>,
    /// Legs whose media is down, with when to restart ICE again and the wait after that.
    restarts: BTreeMap<String, (tokio::time::Instant, std::time::Duration)>,
    forwarders: Vec<tokio::task::JoinHandle<()>>,
    held: bool,
    muted: bool,
    last: Option<CallView>,
    /// Final statistics of connections to parties who left a group call.
    departed: Vec<CallStats>,
}

impl CallDriver {
    /// Drives call `room_id` (either way: the call's own view says which way it goes).
    pub fn new(client: Client, room_id: &str, audio: AudioSetup) -> Self {
        let (reports_tx, reports) = tokio::sync::mpsc::unbounded_channel();
        CallDriver {
            client,
            room_id: room_id.to_owned(),
            template: LegTemplate {
                bind: audio.bind.clone(),
                impair: audio.impair,
                inband_dtmf: audio.inband_dtmf,
                outage: audio.outage.clone(),
                device: audio.device.clone(),
                peer: audio.peer,
            },
            ring: audio.ring,
            audio: Some(audio),
            ringer: None,
            bridge: None,
            direct: None,
            legs: BTreeMap::new(),
            listening: Default::default(),
            reports_tx,
            reports,
            restarts: BTreeMap::new(),
            forwarders: Vec::new(),
            held: false,
            muted: false,
            last: None,
            departed: Vec::new(),
        }
    }

    pub fn room_id(&self) -> &str {
        &self.room_id
    }

    /// The session the call runs on.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The media of the first other party (the only one in a 1:1 call).
    pub fn media(&self) -> Option<&CallMedia> {
        self.legs.values().next()
    }

    /// The parties this device has a media connection with.
    pub fn legs(&self) -> impl Iterator<Item = &CallMedia> {
        self.legs.values()
    }

    pub fn last_view(&self) -> Option<&CallView> {
        self.last.as_ref()
    }

    /// The progress tone playing now, if any.
    pub fn tone(&self) -> Option<Cadence> {
        self.ringer.as_ref().map(Ringer::cadence)
    }

    /// Plays or stops the ring tone / ringback (it plays by itself while the call rings when
    /// the audio set-up asked for it; a user can silence it, or bring it back).
    pub async fn set_ring(&mut self, on: bool) {
        self.ring = on;
        self.update_tone().await;
    }

    async fn update_tone(&mut self) {
        let want = match &self.last {
            Some(v) if self.ring && self.audio.is_some() => match v.state {
                CallState::Dialing => Some(RINGBACK),
                CallState::Ringing => Some(RING),
                _ => None,
            },
            _ => None,
        };
        if self.ringer.as_ref().map(Ringer::cadence) == want {
            return;
        }
        self.stop_tone().await;
        if let (Some(cadence), Some(audio)) = (want, self.audio.as_mut()) {
            let sink = std::mem::replace(&mut audio.sink, Box::new(NullSink));
            self.ringer = Some(Ringer::start(sink, cadence));
        }
    }

    async fn stop_tone(&mut self) {
        if let Some(r) = self.ringer.take() {
            let sink = r.stop().await;
            if let Some(audio) = self.audio.as_mut() {
                audio.sink = sink;
            }
        }
    }

    /// Whether the call has more than two parties in it or ringing (and so mixes through
    /// a bridge). Parties who left, forwarded or transferred it do not count: a 1:1 call
    /// handed to someone else stays 1:1.
    fn is_group(&self) -> bool {
        self.last.as_ref().is_some_and(|v| {
            v.call
                .participants
                .iter()
                .filter(|p| {
                    matches!(
                        p.state,
                        ParticipantState::Calling
                            | ParticipantState::Joined
                            | ParticipantState::Ringing
                    )
                })
                .count()
                > 2
        })
    }

    /// Audio for one more party's connection.
    async fn audio_for_leg(&mut self) -> Result<AudioSetup, MediaError> {
        self.stop_tone().await;
        let (source, sink) = if self.bridge.is_some() || self.is_group() {
            if self.bridge.is_none() {
                self.bridge = Some(match (self.audio.take(), &self.direct) {
                    (Some(audio), _) => Bridge::start(audio.source, audio.sink),
                    // Was 1:1 until now (someone joined): the connection that has the
                    // audio moves onto the bridge as it is.
                    (None, Some(direct)) => direct.bridge(),
                    (None, None) => return Err(MediaError::AlreadyStarted),
                });
            }
            match &self.bridge {
                Some(b) => b.add_leg(),
                None => return Err(MediaError::AlreadyStarted),
            }
        } else {
            if self.direct.is_none() {
                let audio = self.audio.take().ok_or(MediaError::AlreadyStarted)?;
                self.direct = Some(SharedAudio::new(audio.source, audio.sink));
            }
            // One connection at a time uses the call's audio.
            match &self.direct {
                Some(d) if self.legs.is_empty() => d.ports(),
                _ => return Err(MediaError::AlreadyStarted),
            }
        };
        Ok(AudioSetup {
            source,
            sink,
            bind: self.template.bind.clone(),
            impair: self.template.impair,
            inband_dtmf: self.template.inband_dtmf,
            ring: false,
            outage: self.template.outage.clone(),
            device: self.template.device.clone(),
            peer: self.template.peer,
        })
    }

    async fn add_leg(&mut self, remote: &str) -> Result<(), MediaError> {
        let audio = self.audio_for_leg().await?;
        let media = CallMedia::new(self.client.clone(), &self.room_id, remote, audio).await?;
        let mut state = media.media_state();
        let (tx, who) = (self.reports_tx.clone(), remote.to_owned());
        self.forwarders.push(tokio::spawn(async move {
            while state.changed().await.is_ok() {
                let s = *state.borrow_and_update();
                if tx.send(LegReport::State(who.clone(), s)).is_err() {
                    break;
                }
            }
        }));
        self.legs.insert(remote.to_owned(), media);
        Ok(())
    }

    /// Forwards received DTMF of legs whose audio has started.
    fn listen(&mut self) {
        for (who, media) in &self.legs {
            if self.listening.contains(who) {
                continue;
            }
            if let Some(mut rx) = media.take_events() {
                self.listening.insert(who.clone());
                let tx = self.reports_tx.clone();
                self.forwarders.push(tokio::spawn(async move {
                    while let Some(MediaEvent::Dtmf(d)) = rx.recv().await {
                        if tx.send(LegReport::Dtmf(d)).is_err() {
                            break;
                        }
                    }
                }));
            }
        }
    }

    /// Brings the connections in line with the call: one to each other party that has
    /// joined (who offers is fixed so that two parties never offer to each other at once:
    /// the caller to everyone, otherwise the smaller user id), none to those who left.
    async fn reconcile(&mut self, view: &CallView) -> Result<(), MediaError> {
        // An ending call keeps its connections for `finish` (and its final statistics).
        if view.call.status == CallStatus::Ended
            || !matches!(
                view.state,
                CallState::Connecting | CallState::Connected | CallState::OnHold { .. }
            )
        {
            return Ok(());
        }
        let me = view.me.as_str();
        // Out of the call (it was handed over, or left) while its end is on its way: no
        // new connections. A transfer's answer already shows its new parties.
        let in_call = view.call.participant(me).is_some_and(|p| {
            matches!(
                p.state,
                ParticipantState::Calling | ParticipantState::Joined
            )
        });
        if !in_call {
            return Ok(());
        }
        let caller = view.call.caller.as_str();
        let joined: Vec<String> = view
            .call
            .participants
            .iter()
            .filter(|p| {
                p.user_id != me
                    && matches!(
                        p.state,
                        ParticipantState::Calling | ParticipantState::Joined
                    )
            })
            .map(|p| p.user_id.clone())
            .collect();
        // Those gone first: a 1:1 call's audio passes to the next party.
        let gone: Vec<String> = self
            .legs
            .keys()
            .filter(|k| !joined.contains(k))
            .cloned()
            .collect();
        for who in gone {
            if let Some(m) = self.legs.remove(&who) {
                self.listening.remove(&who);
                if let Some(s) = m.call_stats().await {
                    self.departed.push(s);
                }
                m.stop().await?;
            }
        }
        for other in &joined {
            let i_offer = me == caller || (other != caller && me < other.as_str());
            if i_offer && !self.legs.contains_key(other) {
                self.add_leg(other).await?;
                if let Some(m) = self.legs.get_mut(other) {
                    m.set_muted(self.muted);
                    m.start_offer().await?;
                }
            }
        }
        Ok(())
    }

    /// Feeds one session event; returns what it meant for this call.
    pub async fn on_event(&mut self, event: &Event) -> Result<Option<CallEvent>, MediaError> {
        match event {
            Event::Call { view } if view.call.room_id == self.room_id => {
                self.last = Some(view.clone());
                if let CallState::Ended { .. } = view.state {
                    self.stop_tone().await;
                    return Ok(Some(CallEvent::Ended(view.clone())));
                }
                self.update_tone().await;
                self.reconcile(view).await?;
                Ok(Some(CallEvent::State(view.clone())))
            }
            Event::CallMoved { from_room, view } if *from_room == self.room_id => {
                self.moved(view).await?;
                let event = Event::Call { view: view.clone() };
                Box::pin(self.on_event(&event)).await
            }
            Event::CallSignal {
                room_id,
                from_user,
                signal,
                ..
            } if *room_id == self.room_id => {
                if !self.legs.contains_key(from_user) {
                    // Only an offer opens a connection; stray candidates of a party that
                    // has gone are dropped.
                    if !matches!(signal, Signal::Offer { .. }) {
                        return Ok(None);
                    }
                    self.add_leg(from_user).await?;
                }
                let (held, muted) = (self.held, self.muted);
                if let Some(m) = self.legs.get_mut(from_user) {
                    m.on_signal(signal.clone()).await?;
                    m.set_muted(muted);
                    if held {
                        m.set_hold(true).await?;
                    }
                }
                self.listen();
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    /// The call goes on in another room: the connections of the old one go (their
    /// figures kept for the summary); the call's audio stays for those of the new one.
    async fn moved(&mut self, view: &CallView) -> Result<(), MediaError> {
        for (_, m) in std::mem::take(&mut self.legs) {
            if let Some(s) = m.call_stats().await {
                self.departed.push(s);
            }
            m.stop().await?;
        }
        self.listening.clear();
        self.restarts.clear();
        tracing::info!(from = %self.room_id, room = %view.call.room_id, "the call goes on in another room");
        self.room_id.clone_from(&view.call.room_id);
        Ok(())
    }

    /// The next media event: a DTMF digit or a media state change (pends forever when there
    /// is none to come). A lost path starts an ICE restart before it is reported, and while
    /// the media stays down the restart is tried again after 2 s, then every 4 s, until it
    /// comes back or the call gives up (the session's media timeout).
    pub async fn next_media_event(&mut self) -> CallEvent {
        loop {
            let due = self.restarts.values().map(|(at, _)| *at).min();
            let report = tokio::select! {
                r = self.reports.recv() => r,
                () = async { tokio::time::sleep_until(due.unwrap_or_else(tokio::time::Instant::now)).await }, if due.is_some() => {
                    self.restart_due().await;
                    continue;
                }
            };
            let Some(report) = report else {
                return std::future::pending().await;
            };
            match report {
                LegReport::Dtmf(d) => return CallEvent::Dtmf(d),
                LegReport::State(who, state) => {
                    self.on_leg_state(&who, state).await;
                    if self.legs.contains_key(&who) {
                        return CallEvent::Media(state);
                    }
                }
            }
        }
    }

    /// ICE restarts for the legs whose path dropped, and the retries while it stays down.
    async fn on_leg_state(&mut self, who: &str, state: MediaState) {
        match state {
            MediaState::Disconnected | MediaState::Failed => {
                if self.restarts.contains_key(who) {
                    // Already restarting on its schedule.
                    return;
                }
                if self.restart(who).await {
                    let first = RESTART_RETRY_FIRST;
                    self.restarts
                        .insert(who.to_owned(), (tokio::time::Instant::now() + first, first));
                }
            }
            MediaState::Connected | MediaState::Closed => {
                self.restarts.remove(who);
            }
            MediaState::New | MediaState::Checking => {}
        }
    }

    /// Restarts ICE with a leg; true when this side is the one that restarts.
    async fn restart(&mut self, who: &str) -> bool {
        let Some(m) = self.legs.get_mut(who) else {
            return false;
        };
        match m.on_path_lost().await {
            Ok(restarts) => restarts,
            Err(e) => {
                tracing::warn!(error = %e, "ICE restart failed");
                true
            }
        }
    }

    async fn restart_due(&mut self) {
        let now = tokio::time::Instant::now();
        let due: Vec<(String, std::time::Duration)> = self
            .restarts
            .iter()
            .filter(|(_, (at, _))| *at <= now)
            .map(|(who, (_, wait))| (who.clone(), *wait))
            .collect();
        for (who, wait) in due {
            tracing::info!(leg = %who, "media still down; restarting ICE again");
            if self.restart(&who).await {
                let next = RESTART_RETRY_EVERY.max(wait);
                self.restarts.insert(who, (now + next, next));
            } else {
                self.restarts.remove(&who);
            }
        }
    }

    /// Holds or resumes the call (every party's connection).
    pub async fn set_hold(&mut self, hold: bool) -> Result<(), MediaError> {
        self.held = hold;
        for m in self.legs.values_mut() {
            m.set_hold(hold).await?;
        }
        Ok(())
    }

    /// Mutes or unmutes the microphone towards every party.
    pub fn set_muted(&mut self, muted: bool) {
        self.muted = muted;
        for m in self.legs.values() {
            m.set_muted(muted);
        }
    }

    /// Sends DTMF digits to every party; false before any media is up.
    pub async fn send_dtmf(&mut self, digits: &[char], timing: DtmfTiming) -> bool {
        let mut sent = false;
        for m in self.legs.values() {
            sent |= m.send_dtmf(digits, timing).await;
        }
        sent
    }

    /// Quality figures of the call so far: in a group, those of the worst connection.
    pub async fn stats(&mut self) -> Option<CallStats> {
        let mut worst: Option<CallStats> = None;
        for m in self.legs.values() {
            if let Some(s) = m.call_stats().await {
                if worst.as_ref().is_none_or(|w| s.mos < w.mos) {
                    worst = Some(s);
                }
            }
        }
        worst
    }

    /// Stops media; returns its final statistics.
    pub async fn finish(mut self) -> Result<Option<CallStats>, MediaError> {
        self.stop_tone().await;
        let mut stats = self.stats().await;
        if stats.is_none() {
            stats = self.departed.pop();
        }
        for f in self.forwarders.drain(..) {
            f.abort();
        }
        let mut result = Ok(());
        for (_, m) in std::mem::take(&mut self.legs) {
            if let Err(e) = m.stop().await {
                result = Err(e);
            }
        }
        if let Some(b) = self.bridge.take() {
            b.stop().await?;
        }
        if let Some(d) = self.direct.take() {
            d.finish()?;
        }
        // A call that never got media still closes its recording.
        if let Some(mut audio) = self.audio.take() {
            audio.sink.finish()?;
        }
        result.map(|()| stats)
    }
}
