//! Drives one call end to end from the session's events: offers or answers media at the
//! right moment, relays signaling, surfaces received DTMF, and tears media down at the end.
//! The CLI's `call` and `answer`, and the demo bots, are loops around this.

use super::call::{CallState, CallView};
use super::media_call::{AudioSetup, CallMedia, MediaError};
use super::{Client, Event};
use crate::media::engine::MediaEvent;
use crate::media::peer::MediaState;
use crate::media::stats::CallStats;
use crate::proto::ParticipantState;

/// What happened to the driven call.
#[derive(Debug, Clone, PartialEq)]
pub enum CallEvent {
    /// The call's visible state changed.
    State(CallView),
    /// A DTMF digit arrived.
    Dtmf(char),
    /// The media connection changed state.
    Media(MediaState),
    /// The call is over; the driver can be finished.
    Ended(CallView),
}

pub struct CallDriver {
    client: Client,
    room_id: String,
    outgoing: bool,
    audio: Option<AudioSetup>,
    media: Option<CallMedia>,
    media_events: Option<tokio::sync::mpsc::UnboundedReceiver<MediaEvent>>,
    media_state: Option<tokio::sync::watch::Receiver<MediaState>>,
    last: Option<CallView>,
}

impl CallDriver {
    pub fn new(client: Client, room_id: &str, outgoing: bool, audio: AudioSetup) -> Self {
        CallDriver {
            client,
            room_id: room_id.to_owned(),
            outgoing,
            audio: Some(audio),
            media: None,
            media_events: None,
            media_state: None,
            last: None,
        }
    }

    pub fn room_id(&self) -> &str {
        &self.room_id
    }

    pub fn media(&self) -> Option<&CallMedia> {
        self.media.as_ref()
    }

    pub fn media_mut(&mut self) -> Option<&mut CallMedia> {
        self.media.as_mut()
    }

    pub fn last_view(&self) -> Option<&CallView> {
        self.last.as_ref()
    }

    async fn create_media(&mut self, remote: &str) -> Result<(), MediaError> {
        let audio = self.audio.take().ok_or(MediaError::AlreadyStarted)?;
        let media = CallMedia::new(self.client.clone(), &self.room_id, remote, audio).await?;
        self.media_state = Some(media.media_state());
        self.media = Some(media);
        Ok(())
    }

    fn grab_media_events(&mut self) {
        if self.media_events.is_none() {
            self.media_events = self.media.as_ref().and_then(CallMedia::take_events);
        }
    }

    /// Feeds one session event; returns what it meant for this call.
    pub async fn on_event(&mut self, event: &Event) -> Result<Option<CallEvent>, MediaError> {
        match event {
            Event::Call { view } if view.call.room_id == self.room_id => {
                self.last = Some(view.clone());
                if let CallState::Ended { .. } = view.state {
                    return Ok(Some(CallEvent::Ended(view.clone())));
                }
                // The caller offers as soon as someone has answered.
                if self.outgoing && view.state == CallState::Connecting && self.media.is_none() {
                    let me = view.call.caller.clone();
                    let remote = view
                        .call
                        .participants
                        .iter()
                        .find(|p| p.user_id != me && p.state == ParticipantState::Joined)
                        .map(|p| p.user_id.clone());
                    if let Some(remote) = remote {
                        self.create_media(&remote).await?;
                        if let Some(m) = &mut self.media {
                            m.offer().await?;
                        }
                    }
                }
                Ok(Some(CallEvent::State(view.clone())))
            }
            Event::CallSignal {
                room_id,
                from_user,
                signal,
                ..
            } if *room_id == self.room_id => {
                if self.media.is_none() && !self.outgoing {
                    self.create_media(from_user).await?;
                }
                if let Some(m) = &mut self.media {
                    m.on_signal(signal.clone()).await?;
                }
                self.grab_media_events();
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    /// The next media event: a DTMF digit or a media state change (pends forever when there
    /// is none to come).
    pub async fn next_media_event(&mut self) -> CallEvent {
        loop {
            let dtmf = async {
                match &mut self.media_events {
                    Some(rx) => rx.recv().await,
                    None => std::future::pending().await,
                }
            };
            let state = async {
                match &mut self.media_state {
                    Some(rx) => rx.changed().await.ok().map(|()| *rx.borrow_and_update()),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                d = dtmf => match d {
                    Some(MediaEvent::Dtmf(d)) => return CallEvent::Dtmf(d),
                    None => self.media_events = None,
                },
                s = state => match s {
                    Some(s) => return CallEvent::Media(s),
                    None => self.media_state = None,
                },
            }
        }
    }

    /// Quality figures of the call so far.
    pub async fn stats(&self) -> Option<CallStats> {
        match &self.media {
            Some(m) => m.call_stats().await,
            None => None,
        }
    }

    /// Stops media; returns its final statistics.
    pub async fn finish(mut self) -> Result<Option<CallStats>, MediaError> {
        match self.media.take() {
            Some(m) => {
                let stats = m.call_stats().await;
                m.stop().await?;
                Ok(stats)
            }
            None => Ok(None),
        }
    }
}
