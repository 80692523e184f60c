//! `parla voicemail`: the voice messages left for you (list, play, save, mark heard,
//! delete), and leaving one after an unanswered call (`parla call --voicemail`).

use std::path::Path;
use std::time::Duration;

use super::output::{self, exit, CliError};
use super::{config, Cli, VoicemailAction};
use crate::client::Rest;
use crate::media::audio::{AudioSink, AudioSource, WavSource};
use crate::media::codec::FRAME_SAMPLES;
use crate::media::voicemail::{self, Recorded};
use crate::proto::{Voicemail, MAX_VOICEMAIL_S};

fn audio_error(e: &voicemail::VoicemailAudioError) -> CliError {
    CliError {
        code: "voicemail_invalid".into(),
        message: e.to_string(),
        exit: exit::FAILURE,
    }
}

pub async fn run(cli: &Cli, action: Option<&VoicemailAction>) -> Result<(), CliError> {
    let rest = config::user_rest(cli).await?;
    let json = cli.json;
    match action {
        None | Some(VoicemailAction::List) => {
            let mailbox = rest.voicemails().await?;
            output::show(json, &mailbox, |m| {
                for v in &m.voicemails {
                    println!("{}", line(v));
                }
                let i = &m.indicator;
                println!(
                    "{} voice message(s), {} unheard; {} of {} kB used",
                    i.total_voice,
                    i.unheard_voice,
                    i.bytes.div_ceil(1024),
                    i.quota_bytes / 1024
                );
            });
        }
        Some(VoicemailAction::Play {
            id,
            output: device,
            keep_unheard,
        }) => {
            let pcm = fetch(&rest, id).await?;
            let seconds = pcm.len() as f64 / 48_000.0;
            play(pcm, device.as_deref()).await?;
            let indicator = if *keep_unheard {
                None
            } else {
                Some(rest.mark_voicemail_heard(id).await?)
            };
            let done =
                serde_json::json!({"played": id, "seconds": seconds, "indicator": indicator});
            output::show(json, &done, |_| println!("played {id} ({seconds:.1} s)"));
        }
        Some(VoicemailAction::Save { id, file }) => {
            let bytes = rest.voicemail_audio(id).await?;
            let as_wav = file
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("wav"));
            if as_wav {
                let pcm = voicemail::decode(&bytes).map_err(|e| audio_error(&e))?;
                write_wav(file, &pcm)?;
            } else {
                std::fs::write(file, &bytes)
                    .map_err(|e| CliError::io(format!("{}: {e}", file.display())))?;
            }
            let done = serde_json::json!({"saved": id, "file": file, "format": if as_wav {"wav"} else {"ogg"}});
            output::show(json, &done, |_| {
                println!("saved {id} to {}", file.display());
            });
        }
        Some(VoicemailAction::Heard { id }) => {
            let indicator = rest.mark_voicemail_heard(id).await?;
            output::show(json, &indicator, |i| {
                println!("{id} marked heard; {} unheard", i.unheard_voice);
            });
        }
        Some(VoicemailAction::Rm { id }) => {
            rest.delete_voicemail(id).await?;
            let done = serde_json::json!({ "deleted": id });
            output::show(json, &done, |_| println!("deleted {id}"));
        }
    }
    Ok(())
}

/// `when  from  length  heard?  id`.
fn line(v: &Voicemail) -> String {
    let s = v.duration_ms.div_ceil(1000);
    format!(
        "{}  {:<20} {}:{:02}  {:<6} {}",
        v.created_at
            .with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M"),
        v.from,
        s / 60,
        s % 60,
        if v.heard { "heard" } else { "NEW" },
        v.voicemail_id
    )
}

async fn fetch(rest: &Rest, id: &str) -> Result<Vec<i16>, CliError> {
    let bytes = rest.voicemail_audio(id).await?;
    voicemail::decode(&bytes).map_err(|e| audio_error(&e))
}

fn write_wav(path: &Path, pcm: &[i16]) -> Result<(), CliError> {
    let io = |e: hound::Error| CliError::io(format!("{}: {e}", path.display()));
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).map_err(io)?;
    for s in pcm {
        w.write_sample(*s).map_err(io)?;
    }
    w.finalize().map_err(io)
}

/// Plays 48 kHz mono samples on the sound card, in real time.
async fn play(pcm: Vec<i16>, device: Option<&str>) -> Result<(), CliError> {
    let (_mic, mut speaker, _, _) =
        crate::media::device::open(None, device).map_err(|e| CliError {
            code: e.code().into(),
            message: format!("{e} (parla voicemail save ID FILE.wav keeps it instead)"),
            exit: exit::FAILURE,
        })?;
    let mut every = tokio::time::interval(Duration::from_millis(20));
    for frame in pcm.chunks(FRAME_SAMPLES) {
        every.tick().await;
        let mut f = frame.to_vec();
        f.resize(FRAME_SAMPLES, 0);
        speaker.play(&f);
    }
    // What is still in the card's buffer.
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(())
}

/// Records a WAV file as a voice message (cut at the length limit).
pub fn record_wav(path: &Path) -> Result<Recorded, CliError> {
    let mut source: Box<dyn AudioSource> =
        Box::new(WavSource::open(path).map_err(|e| CliError {
            code: "audio_error".into(),
            message: e.to_string(),
            exit: exit::USAGE,
        })?);
    voicemail::record(source.as_mut(), MAX_VOICEMAIL_S * 1000).map_err(|e| audio_error(&e))
}

/// Leaves `recorded` after the unanswered call `room_id`, and says so.
pub async fn leave(
    rest: &Rest,
    room_id: &str,
    recorded: Recorded,
    json: bool,
) -> Result<(), CliError> {
    let truncated = recorded.truncated;
    let v = rest.leave_voicemail(room_id, recorded.ogg).await?;
    let done =
        serde_json::json!({"event": "voicemail_left", "voicemail": v, "truncated": truncated});
    output::show(json, &done, |_| {
        println!(
            "voice message left ({} s{}): {}",
            v.duration_ms.div_ceil(1000),
            if truncated {
                format!(", cut at {MAX_VOICEMAIL_S} s")
            } else {
                String::new()
            },
            v.voicemail_id
        );
    });
    Ok(())
}
