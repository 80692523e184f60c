//! `parla call` and `parla answer`: one call (or, with `--auto`, one after another) with
//! audio from a tone, a WAV file or silence, optional recording, DTMF, and a summary at
//! the end.

use std::time::Duration;

use serde::Serialize;

use super::output::{exit, print_json, CliError};
use super::{config, MediaArgs};
use crate::client::call::{CallState, CallView};
use crate::client::media_call::AudioSetup;
use crate::client::phone::{CallDriver, CallEvent};
use crate::client::session::ConnectionState;
use crate::client::{Client, ClientConfig, Event};
use crate::media::audio::{
    AudioSink, AudioSource, NullSink, Silence, Tone, WavRecorder, WavSource,
};
use crate::media::dtmf::{self, DtmfTiming};
use crate::media::stats::CallStats;
use crate::proto::EndReason;

#[derive(Debug, Serialize)]
struct Summary {
    event: &'static str,
    room_id: String,
    answered: bool,
    end_reason: Option<EndReason>,
    duration_s: f64,
    dtmf_received: String,
    /// How the digits of `--dtmf` went out: `rfc4733` or `inband`.
    #[serde(skip_serializing_if = "Option::is_none")]
    dtmf_sent_as: Option<&'static str>,
    stats: Option<CallStats>,
}

fn audio_error(message: String) -> CliError {
    CliError {
        code: "audio_error".into(),
        message,
        exit: exit::USAGE,
    }
}

/// Builds the audio set-up, failing early on unreadable files.
fn audio_setup(args: &MediaArgs, json: bool) -> Result<AudioSetup, CliError> {
    let backend = args.audio.as_deref().unwrap_or("file");
    let mut device = None;
    let (source, sink): (Box<dyn AudioSource>, Box<dyn AudioSink>) = match backend {
        "null" => (Box::new(Silence), Box::new(NullSink)),
        "device" => match crate::media::device::open(args.input.as_deref(), args.output.as_deref())
        {
            Ok((source, sink, description, counters)) => {
                notice(json, &format!("audio: {description}"));
                device = Some(counters);
                (Box::new(source), Box::new(sink))
            }
            // A device asked for by name must exist.
            Err(e @ crate::media::device::DeviceError::NotFound(_)) => {
                return Err(CliError {
                    code: e.code().into(),
                    message: e.to_string(),
                    exit: exit::USAGE,
                })
            }
            // No sound card at all (ssh, CI): carry on with silence, and say so.
            Err(e) => {
                notice(json, &format!("{e}; using the null audio device instead"));
                (Box::new(Silence), Box::new(NullSink))
            }
        },
        "file" => {
            let source: Box<dyn AudioSource> = match (&args.play, args.tone) {
                (Some(path), _) => {
                    Box::new(WavSource::open(path).map_err(|e| audio_error(e.to_string()))?)
                }
                (None, Some(hz)) => Box::new(Tone::new(hz)),
                (None, None) => Box::new(Silence),
            };
            let sink: Box<dyn AudioSink> = match &args.record {
                Some(path) => {
                    Box::new(WavRecorder::create(path).map_err(|e| audio_error(e.to_string()))?)
                }
                None => Box::new(NullSink),
            };
            (source, sink)
        }
        other => {
            return Err(CliError::usage(format!(
                "unknown audio backend `{other}` (device, file or null)"
            )))
        }
    };
    Ok(AudioSetup {
        source,
        sink,
        inband_dtmf: args.dtmf_inband,
        // Ring tones belong on a speaker, not in a recording.
        ring: backend == "device",
        device,
        ..AudioSetup::silent(&args.bind)
    })
}

fn notice(json: bool, message: &str) {
    if json {
        print_json(&serde_json::json!({"event": "notice", "message": message}));
    } else {
        eprintln!("parla: {message}");
    }
}

fn state_word(state: CallState) -> String {
    serde_json::to_value(state)
        .ok()
        .and_then(|v| v.get("state").and_then(|s| s.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

fn reason_word(reason: EndReason) -> String {
    serde_json::to_value(reason)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

async fn start_client(
    cli: &super::Cli,
) -> Result<(Client, tokio::sync::mpsc::UnboundedReceiver<Event>), CliError> {
    let settings = config::resolve(cli)?;
    let source = settings.token_source()?;
    let mut config = ClientConfig::new(settings.server.clone(), source);
    config.ca_file.clone_from(&settings.ca_file);
    config.presence = false;
    let (client, mut events) = Client::start(config)?;
    // Wait until signed in, or fail with the session's reason.
    let ready = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(e) = events.recv().await {
            match e {
                Event::Ready { .. } => return Ok(()),
                Event::Connection {
                    state: ConnectionState::Failed { code, message },
                } => return Err((code, message)),
                _ => {}
            }
        }
        Err(("client_closed".to_owned(), "the session ended".to_owned()))
    })
    .await;
    match ready {
        Ok(Ok(())) => Ok((client, events)),
        Ok(Err((code, message))) => Err(CliError {
            exit: super::output::exit_for_code_str(&code),
            code,
            message,
        }),
        Err(_) => Err(CliError {
            code: "server_unreachable".into(),
            message: "could not connect to the server within 30 s".into(),
            exit: exit::UNREACHABLE,
        }),
    }
}

struct CallPlan {
    dtmf: Vec<char>,
    timing: DtmfTiming,
    hangup_after: Option<Duration>,
    stats_every: Option<Duration>,
}

/// Runs one call until it ends; returns its summary.
async fn drive(
    client: &Client,
    events: &mut tokio::sync::mpsc::UnboundedReceiver<Event>,
    mut driver: CallDriver,
    plan: &CallPlan,
    json: bool,
    mut ctl_calls: Option<&mut tokio::sync::mpsc::Receiver<crate::ctl::CtlCall>>,
    ctl: Option<&crate::ctl::CtlServer>,
) -> Result<Summary, CliError> {
    use crate::ctl::{CtlFailure, CtlRequest};
    // Every event printed goes to the control socket's subscribers too.
    let publish = |event: &serde_json::Value| {
        if let Some(server) = ctl {
            server.publish(event.clone());
        }
    };
    let room_id = driver.room_id().to_owned();
    let mut held = false;
    let mut muted = false;
    let mut hangup_at: Option<tokio::time::Instant> = None;
    let mut dtmf_sent = plan.dtmf.is_empty();
    let mut dtmf_mode = None;
    let mut answered = false;
    let mut received = String::new();
    let mut end: Option<CallView> = None;
    let mut interrupted = false;
    let mut stats_tick =
        tokio::time::interval(plan.stats_every.unwrap_or(Duration::from_secs(3600)));
    stats_tick.tick().await;
    while end.is_none() {
        let hangup_timer = async {
            match hangup_at {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            e = events.recv() => {
                let Some(e) = e else { break };
                let outcome = driver.on_event(&e).await.map_err(|e| CliError {
                    code: "media_error".into(),
                    message: e.to_string(),
                    exit: exit::FAILURE,
                })?;
                match outcome {
                    Some(CallEvent::State(view)) => {
                        let event = serde_json::json!({"event": "call_state", "room_id": room_id, "state": view.state});
                        publish(&event);
                        if json {
                            print_json(&event);
                        } else {
                            println!("call {room_id}: {}", state_word(view.state));
                        }
                        if view.state == CallState::Connected && !answered {
                            answered = true;
                            if let Some(d) = plan.hangup_after {
                                hangup_at = Some(tokio::time::Instant::now() + d);
                            }
                        }
                        if answered && !dtmf_sent {
                            dtmf_sent = driver.send_dtmf(&plan.dtmf, plan.timing).await;
                            if dtmf_sent {
                                dtmf_mode = driver.media().map(|m| if m.dtmf_as_events() { "rfc4733" } else { "inband" });
                            }
                        }
                    }
                    Some(CallEvent::Ended(view)) => end = Some(view),
                    _ => {}
                }
            }
            ev = driver.next_media_event() => match ev {
                CallEvent::Dtmf(d) => {
                    received.push(d);
                    let event = serde_json::json!({"event": "dtmf", "room_id": room_id, "digit": d.to_string()});
                    publish(&event);
                    if json {
                        print_json(&event);
                    } else {
                        println!("call {room_id}: DTMF {d}");
                    }
                }
                CallEvent::Media(state) => {
                    let event = serde_json::json!({"event": "media_state", "room_id": room_id, "state": state});
                    publish(&event);
                    if json {
                        print_json(&event);
                    } else {
                        println!("call {room_id}: media {}", serde_json::to_value(state).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default());
                    }
                }
                _ => {}
            },
            _ = stats_tick.tick(), if plan.stats_every.is_some() => {
                if let Some(s) = driver.stats().await {
                    let event = serde_json::json!({"event": "call_stats", "room_id": room_id, "stats": s});
                    publish(&event);
                    if json {
                        print_json(&event);
                    } else {
                        println!("call {room_id}: {}", stats_line(&s));
                    }
                }
            }
            _ = hangup_timer => {
                hangup_at = None;
                let _ = client.hangup(&room_id).await;
            }
            _ = tokio::signal::ctrl_c(), if !interrupted => {
                interrupted = true;
                let _ = client.hangup(&room_id).await;
            }
            call = crate::ctl::next_call(ctl_calls.as_deref_mut()) => {
                let crate::ctl::CtlCall { request, reply: answer_to } = call;
                let failure = |code: &str, message: String| Err(CtlFailure::new(code, message));
                // A request naming another call is not about this one.
                let other_room = |named: &Option<String>| {
                    named.as_ref().filter(|r| **r != room_id).map(|r| {
                        failure("not_found", format!("no call {r} here (this call is {room_id})"))
                    })
                };
                let hold = matches!(request, CtlRequest::Hold { .. });
                let mute = matches!(request, CtlRequest::Mute);
                let reply = match request {
                    CtlRequest::Status => Ok(serde_json::json!({
                        "room_id": room_id,
                        "state": driver.last_view().map(|v| state_word(v.state)).unwrap_or_else(|| "connecting".into()),
                        "answered": answered,
                        "dtmf_received": received,
                        "muted": muted,
                        "hold": held,
                    })),
                    CtlRequest::Hangup { room_id: named } => match other_room(&named) {
                        Some(refused) => refused,
                        None => match client.hangup(&room_id).await {
                            Ok(_) => Ok(serde_json::json!({"room_id": room_id})),
                            Err(e) => failure(e.code(), e.to_string()),
                        },
                    },
                    CtlRequest::Hold { room_id: named } | CtlRequest::Resume { room_id: named } => {
                        match other_room(&named) {
                            Some(refused) => refused,
                            None => match driver.set_hold(hold).await {
                                Ok(()) => {
                                    held = hold;
                                    Ok(serde_json::json!({"room_id": room_id, "hold": hold}))
                                }
                                Err(e) => failure("media_error", e.to_string()),
                            },
                        }
                    }
                    CtlRequest::Mute | CtlRequest::Unmute => {
                        muted = mute;
                        driver.set_muted(mute);
                        Ok(serde_json::json!({"room_id": room_id, "muted": mute}))
                    }
                    CtlRequest::Dtmf { digits } => match dtmf::parse(&digits) {
                        Err(e) => failure("validation_error", e.to_string()),
                        Ok(d) if d.is_empty() => failure("validation_error", "no DTMF digits given".into()),
                        Ok(d) => {
                            if driver.send_dtmf(&d, plan.timing).await {
                                let sent_as = driver.media().map(|m| if m.dtmf_as_events() { "rfc4733" } else { "inband" });
                                Ok(serde_json::json!({"room_id": room_id, "digits": d.iter().collect::<String>(), "sent_as": sent_as}))
                            } else {
                                failure("not_connected", "the call has no media yet; try again once it is connected".into())
                            }
                        }
                    },
                    _ => failure(
                        "not_supported",
                        "parla answer handles status, hangup, hold, resume, mute, unmute and dtmf".into(),
                    ),
                };
                let _ = answer_to.send(reply);
            }
        }
    }
    let last = end.clone().or_else(|| driver.last_view().cloned());
    let stats = driver.finish().await.map_err(|e| CliError {
        code: "audio_error".into(),
        message: e.to_string(),
        exit: exit::FAILURE,
    })?;
    let reason = last.as_ref().and_then(|v| match v.state {
        CallState::Ended { reason } => Some(reason),
        _ => None,
    });
    Ok(Summary {
        event: "call_summary",
        room_id,
        answered,
        end_reason: reason,
        duration_s: last
            .map(|v| v.duration(chrono::Utc::now()).num_milliseconds() as f64 / 1000.0)
            .unwrap_or(0.0),
        dtmf_received: received,
        dtmf_sent_as: dtmf_mode,
        stats,
    })
}

fn report(summary: &Summary, json: bool) {
    if json {
        print_json(summary);
    } else {
        let reason = summary.end_reason.map(reason_word).unwrap_or_default();
        println!(
            "call {} ended ({reason}) after {:.1} s{}",
            summary.room_id,
            summary.duration_s,
            if summary.dtmf_received.is_empty() {
                String::new()
            } else {
                format!("; DTMF received: {}", summary.dtmf_received)
            }
        );
        if let Some(s) = &summary.stats {
            println!("{}", stats_line(s));
        }
    }
}

fn stats_line(s: &CallStats) -> String {
    format!(
        "audio: MOS {:.1}, RTT {}, loss {:.1} % ({:.1} % after repair), jitter {:.1} ms, buffer {:.0} ms, {:.0}/{:.0} kbit/s out/in, {} frames sent, {} played, {} concealed",
        s.mos,
        s.rtt_ms.map_or("-".to_owned(), |r| format!("{r:.1} ms")),
        s.loss_pct,
        s.concealed_pct,
        s.jitter_ms,
        s.jitter_buffer_ms,
        s.send_kbps,
        s.recv_kbps,
        s.frames_sent,
        s.frames_played,
        s.frames_concealed
    ) + &if s.device_overruns + s.device_underruns > 0 {
        format!(
            "; sound card: {} capture overruns, {} playback underruns",
            s.device_overruns, s.device_underruns
        )
    } else {
        String::new()
    }
}

fn unanswered(summary: &Summary) -> CliError {
    let reason = summary
        .end_reason
        .map(reason_word)
        .unwrap_or_else(|| "not_answered".into());
    CliError {
        message: format!("the call was not answered ({reason})"),
        code: reason,
        exit: exit::NOT_FOUND,
    }
}

fn plan(dtmf_digits: Option<&str>, args: &MediaArgs) -> Result<CallPlan, CliError> {
    let dtmf = match dtmf_digits {
        Some(d) => dtmf::parse(d).map_err(|e| CliError {
            code: "validation_error".into(),
            message: e.to_string(),
            exit: exit::USAGE,
        })?,
        None => Vec::new(),
    };
    Ok(CallPlan {
        dtmf,
        timing: DtmfTiming {
            duration: Duration::from_millis(args.dtmf_duration),
            gap: Duration::from_millis(args.dtmf_gap),
        },
        hangup_after: args.hangup_after.map(Duration::from_secs_f64),
        stats_every: args
            .stats_every
            .filter(|s| *s > 0.0)
            .map(Duration::from_secs_f64),
    })
}

pub async fn call(
    cli: &super::Cli,
    users: &[String],
    dtmf_digits: Option<&str>,
    args: &MediaArgs,
) -> Result<(), CliError> {
    let plan = plan(dtmf_digits, args)?;
    let audio = audio_setup(args, cli.json)?;
    let (client, mut events) = start_client(cli).await?;
    let call = client.dial(users).await?;
    let driver = CallDriver::new(client.clone(), &call.room_id, audio);
    let summary = drive(&client, &mut events, driver, &plan, cli.json, None, None).await;
    client.stop();
    let summary = summary?;
    report(&summary, cli.json);
    if summary.answered {
        Ok(())
    } else {
        Err(unanswered(&summary))
    }
}

pub async fn answer(
    cli: &super::Cli,
    auto: bool,
    dtmf_digits: Option<&str>,
    args: &MediaArgs,
) -> Result<(), CliError> {
    let plan = plan(dtmf_digits, args)?;
    // Check the files before waiting for anyone.
    drop(audio_setup(args, true)?);
    // Scripts drive this instance through the control socket, unless another one has it.
    let socket = crate::ctl::default_socket_path();
    let (ctl, mut ctl_calls) = match crate::ctl::CtlServer::bind(&socket).await {
        Ok((server, calls)) => (Some(server), Some(calls)),
        Err(e) => {
            tracing::warn!(error = %e, path = %socket.display(), "no control socket");
            (None, None)
        }
    };
    let (client, mut events) = start_client(cli).await?;
    if !cli.json {
        println!("waiting for a call…");
    }
    loop {
        let room_id = tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            e = events.recv() => match e {
                Some(Event::CallIncoming { call }) => call.room_id,
                Some(_) => continue,
                None => break,
            },
            call = crate::ctl::next_call(ctl_calls.as_mut()) => {
                use crate::ctl::{CtlFailure, CtlRequest};
                let reply = match call.request {
                    CtlRequest::Status => Ok(serde_json::json!({"state": "waiting"})),
                    CtlRequest::Hangup { .. }
                    | CtlRequest::Hold { .. }
                    | CtlRequest::Resume { .. }
                    | CtlRequest::Mute
                    | CtlRequest::Unmute
                    | CtlRequest::Dtmf { .. } => Err(CtlFailure::new(
                        "no_call",
                        "there is no call yet: parla answer is waiting for one",
                    )),
                    _ => Err(CtlFailure::new(
                        "not_supported",
                        "parla answer handles status, hangup, hold, resume, mute, unmute and dtmf",
                    )),
                };
                let _ = call.reply.send(reply);
                continue;
            }
        };
        if let Err(e) = client.answer(&room_id).await {
            // Already answered elsewhere, or canceled meanwhile: wait for the next one.
            tracing::info!(error = %e, "could not answer");
            continue;
        }
        let audio = audio_setup(args, cli.json)?;
        let driver = CallDriver::new(client.clone(), &room_id, audio);
        let summary = drive(
            &client,
            &mut events,
            driver,
            &plan,
            cli.json,
            ctl_calls.as_mut(),
            ctl.as_ref(),
        )
        .await?;
        report(&summary, cli.json);
        if let (Some(server), Ok(event)) = (&ctl, serde_json::to_value(&summary)) {
            server.publish(event);
        }
        if !auto {
            break;
        }
    }
    client.stop();
    // Subscribers get the last events (the summary) before the socket goes.
    if let Some(server) = ctl {
        server.shutdown().await;
    }
    Ok(())
}
