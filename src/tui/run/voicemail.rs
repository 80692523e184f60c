//! The interface's voice message jobs: fetching the mailbox, playing a message through the
//! audio backend (which marks it heard), deleting one, and recording one after an
//! unanswered call until the user sends it (or it reaches the length limit).

use std::time::Duration;

use tokio::sync::oneshot;

use super::{failed, look, News, Runtime};
use crate::media::codec::FRAME_SAMPLES;
use crate::media::voicemail::{decode, Recorder};
use crate::proto::MAX_VOICEMAIL_S;
use crate::tui::app::Job;

/// A failure of the audio of a voice message, as the interface reports failures.
fn audio_failed(detail: impl std::fmt::Display) -> News {
    News::Failed {
        what: "voicemail",
        code: "audio_error".into(),
        detail: detail.to_string(),
    }
}

impl Runtime {
    pub(super) fn voicemail_job(&mut self, job: Job) {
        match job {
            Job::LoadMailbox => {
                let (rest, news) = (self.rest.clone(), self.news_tx.clone());
                self.spawn_request("voicemail", async move {
                    let mailbox = rest.voicemails().await?;
                    let _ = news.send(News::Mailbox(mailbox.voicemails));
                    Ok(())
                });
            }
            Job::PlayVoicemail { voicemail_id } => self.play(voicemail_id),
            Job::StopPlayback => {
                if let Some(stop) = self.playback.take() {
                    let _ = stop.send(());
                }
            }
            Job::DeleteVoicemail { voicemail_id } => {
                let rest = self.rest.clone();
                self.spawn_request("voicemail", async move {
                    rest.delete_voicemail(&voicemail_id).await
                });
            }
            Job::RecordVoicemail { room_id, who } => self.record(room_id, who),
            Job::FinishRecording { send } => {
                if let Some(finish) = self.recording.take() {
                    let _ = finish.send(send);
                }
            }
            _ => {}
        }
    }

    /// Plays a message in real time on the audio backend's speaker; it counts as heard
    /// once it starts.
    fn play(&mut self, voicemail_id: String) {
        let (stop_tx, mut stop) = oneshot::channel();
        if let Some(old) = self.playback.replace(stop_tx) {
            let _ = old.send(());
        }
        let (rest, news, audio) = (self.rest.clone(), self.news_tx.clone(), self.audio.clone());
        self.tasks.spawn(async move {
            let pcm = match rest.voicemail_audio(&voicemail_id).await {
                Ok(bytes) => decode(&bytes),
                Err(e) => {
                    let _ = news.send(failed("voicemail", &e));
                    let _ = news.send(News::Played(voicemail_id));
                    return;
                }
            };
            let pcm = match pcm {
                Ok(pcm) => pcm,
                Err(e) => {
                    let _ = news.send(audio_failed(e));
                    let _ = news.send(News::Played(voicemail_id));
                    return;
                }
            };
            if let Err(e) = rest.mark_voicemail_heard(&voicemail_id).await {
                let _ = news.send(failed("voicemail", &e));
            }
            let (_mic, mut speaker, _) = look::open_audio(&audio, &news);
            let mut every = tokio::time::interval(Duration::from_millis(20));
            for chunk in pcm.chunks(FRAME_SAMPLES) {
                tokio::select! {
                    _ = &mut stop => break,
                    _ = every.tick() => {}
                }
                let mut frame = chunk.to_vec();
                frame.resize(FRAME_SAMPLES, 0);
                speaker.play(&frame);
            }
            if let Err(e) = speaker.finish() {
                let _ = news.send(audio_failed(e));
            }
            let _ = news.send(News::Played(voicemail_id));
        });
    }

    /// Records from the audio backend's microphone, 20 ms at a time, until told to send
    /// (or drop) the message, or until the length limit; then leaves it.
    fn record(&mut self, room_id: String, who: String) {
        let (finish_tx, mut finish) = oneshot::channel::<bool>();
        if let Some(old) = self.recording.replace(finish_tx) {
            let _ = old.send(false);
        }
        let (rest, news, audio) = (self.rest.clone(), self.news_tx.clone(), self.audio.clone());
        self.tasks.spawn(async move {
            let mut recorder = match Recorder::new(MAX_VOICEMAIL_S * 1000) {
                Ok(r) => r,
                Err(e) => {
                    let _ = news.send(audio_failed(e));
                    return;
                }
            };
            let (mut mic, _speaker, _) = look::open_audio(&audio, &news);
            let mut frame = vec![0i16; FRAME_SAMPLES];
            let mut every = tokio::time::interval(Duration::from_millis(20));
            let send = loop {
                tokio::select! {
                    send = &mut finish => break send.unwrap_or(false),
                    _ = every.tick() => {}
                }
                if !mic.next_frame(&mut frame) {
                    break true;
                }
                match recorder.push(&frame) {
                    Ok(true) => {}
                    // At the length limit: what there is goes out.
                    Ok(false) => break true,
                    Err(e) => {
                        let _ = news.send(audio_failed(e));
                        return;
                    }
                }
            };
            if !send {
                return;
            }
            match rest.leave_voicemail(&room_id, recorder.finish()).await {
                Ok(v) => {
                    let _ = news.send(News::VoicemailLeft {
                        who,
                        seconds: v.duration_ms.div_ceil(1000),
                    });
                }
                Err(e) => {
                    let _ = news.send(failed("voicemail", &e));
                }
            }
        });
    }
}
