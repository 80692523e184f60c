//! `parla call` and `parla answer`: one call (or, with `--auto`, one after another) with
//! audio from a tone, a WAV file or silence, optional recording, DTMF, and a summary at
//! the end.

use std::time::Duration;

use tokio::sync::mpsc;

use super::output::{exit, print_json, CliError};
use super::{config, MediaArgs};
use crate::client::call::media::AudioSetup;
use crate::client::call::switchboard::{CallCommand, CallDone, CallNews, Switchboard};
use crate::client::call::{CallState, CallView};
use crate::client::session::ConnectionState;
use crate::client::{Client, Event};
use crate::ctl::calls::{self, CallAsk, CallOp};
use crate::ctl::frames::CallSummary;
use crate::ctl::status::{CallStatus, Status};
use crate::ctl::{CtlCall, CtlFailure, CtlRequest, CtlServer, InstanceEvent};
use crate::media::audio::{
    AudioSink, AudioSource, NullSink, Silence, Tone, WavRecorder, WavSource,
};
use crate::media::dtmf::{self, DtmfTiming};
use crate::media::stats::CallStats;
use crate::proto::EndReason;

fn audio_error(message: String) -> CliError {
    CliError {
        code: "audio_error".into(),
        message,
        exit: exit::USAGE,
    }
}

/// Builds the audio set-up, failing early on unreadable files.
pub(super) fn audio_setup(args: &MediaArgs, json: bool) -> Result<AudioSetup, CliError> {
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
        peer: crate::media::peer::PeerOptions {
            dscp: Some(args.dscp).filter(|d| *d != 0),
            ..crate::media::peer::PeerOptions::default()
        },
        ..AudioSetup::silent(&args.bind)
    })
}

pub(super) fn notice(json: bool, message: &str) {
    if json {
        print_json(&InstanceEvent::Notice {
            message: message.to_owned(),
        });
    } else {
        eprintln!("parla: {message}");
    }
}

async fn start_client(
    cli: &super::Cli,
) -> Result<(Client, tokio::sync::mpsc::UnboundedReceiver<Event>, String), CliError> {
    let settings = config::resolve(cli)?;
    start_with(settings.client_config()?).await
}

/// Starts a session with `config` and waits until it is signed in.
pub(super) async fn start_with(
    mut config: crate::client::ClientConfig,
) -> Result<(Client, tokio::sync::mpsc::UnboundedReceiver<Event>, String), CliError> {
    config.presence = false;
    let (client, mut events) = Client::start(config)?;
    // Wait until signed in, or fail with the session's reason.
    let ready = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(e) = events.recv().await {
            match e {
                Event::Ready { user_id, .. } => return Ok(user_id),
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
        Ok(Ok(user)) => Ok((client, events, user)),
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

pub(super) struct CallPlan {
    /// The signed-in user, once known.
    pub(super) user: String,
    /// The audio backend, as `status` reports it (`file`, `null`, `device`).
    audio: String,
    dtmf: Vec<char>,
    timing: DtmfTiming,
    hangup_after: Option<Duration>,
    stats_every: Option<Duration>,
}

/// One call that `parla call` or `parla answer` runs, through the same [`Switchboard`] as
/// the interface: session events and control requests in, lines out.
struct CallRun<'a> {
    client: &'a Client,
    room_id: String,
    board: Switchboard,
    plan: &'a CallPlan,
    json: bool,
    ctl: Option<&'a CtlServer>,
    answered: bool,
    held: bool,
    muted: bool,
    dtmf_sent: bool,
    dtmf_sent_as: Option<&'static str>,
    received: String,
    last: Option<CallView>,
    /// The session's state, as `status` reports it.
    connection: &'static str,
    hangup_at: Option<tokio::time::Instant>,
    /// Set once the call's task finished.
    finished: bool,
    /// The call's last statistics, once it finished.
    last_stats: Option<CallStats>,
    /// What went wrong with the call's media, if anything.
    failure: Option<String>,
    /// Where other calls that ring meanwhile are kept.
    rang: Option<&'a mut std::collections::VecDeque<String>>,
}

impl CallRun<'_> {
    /// Prints an event (a line of JSON, or text) and publishes it on the control socket.
    fn emit(&self, event: InstanceEvent, text: impl FnOnce() -> String) {
        if self.json {
            print_json(&event);
        } else {
            println!("call {}: {}", self.room_id, text());
        }
        if let Some(server) = self.ctl {
            server.publish(event);
        }
    }

    async fn on_session(&mut self, event: &Event) {
        if let Event::Connection { state } = event {
            self.connection = crate::ctl::status::connection_code(state);
        }
        let ours = match event {
            Event::Call { view } => view.call.room_id == self.room_id,
            Event::CallSignal { room_id, .. } => *room_id == self.room_id,
            Event::CallMoved { from_room, .. } => *from_room == self.room_id,
            _ => false,
        };
        // Another call ringing meanwhile is not this one's business, but `--auto` answers
        // it next.
        if !ours {
            if let (Event::CallIncoming { call }, Some(rang)) = (event, self.rang.as_deref_mut()) {
                rang.push_back(call.room_id.clone());
            }
            return;
        }
        self.board.route(event);
        if let Event::CallMoved { view, .. } = event {
            // The call goes on in another room (joined with, or transferred to, another
            // call of the other party's).
            self.room_id.clone_from(&view.call.room_id);
            let message = format!(
                "the call goes on as {} with {}",
                view.call.room_id,
                view.call.others(&view.me).join(", ")
            );
            self.emit(
                InstanceEvent::Notice {
                    message: message.clone(),
                },
                || message,
            );
        }
        let (Event::Call { view } | Event::CallMoved { view, .. }) = event else {
            return;
        };
        self.last = Some(view.clone());
        let state = view.state;
        let event = InstanceEvent::CallState {
            room_id: self.room_id.clone(),
            state,
        };
        self.emit(event, || state.as_str().to_owned());
        if state == CallState::Connected && !self.answered {
            self.answered = true;
            if let Some(d) = self.plan.hangup_after {
                self.hangup_at = Some(tokio::time::Instant::now() + d);
            }
        }
        if self.answered && !self.dtmf_sent {
            let digits: String = self.plan.dtmf.iter().collect();
            let outcome = self.board.request(&self.room_id, CallCommand::Dtmf(digits));
            if let Ok(Ok(CallDone::Dtmf { sent_as, .. })) = outcome.await {
                self.dtmf_sent = true;
                self.dtmf_sent_as = Some(sent_as);
            }
        }
    }

    async fn on_news(&mut self, news: CallNews) {
        match news {
            CallNews::Dtmf(_, d) => {
                self.received.push(d);
                let event = InstanceEvent::Dtmf {
                    room_id: self.room_id.clone(),
                    digit: d,
                };
                self.emit(event, || format!("DTMF {d}"));
            }
            CallNews::Media(_, state) => {
                let event = InstanceEvent::MediaState {
                    room_id: self.room_id.clone(),
                    state,
                };
                self.emit(event, || format!("media {}", state.as_str()));
            }
            CallNews::Stats(_, stats) => {
                let line = stats_line(&stats);
                let event = InstanceEvent::CallStats {
                    room_id: self.room_id.clone(),
                    stats,
                };
                self.emit(event, || line);
            }
            CallNews::Error(_, e) => {
                // The call cannot go on: end it, and fail once it is over.
                tracing::warn!(room = %self.room_id, error = %e, "call failed");
                if self.failure.is_none() {
                    self.failure = Some(e);
                    let _ = self.client.hangup(&self.room_id).await;
                }
            }
            CallNews::Finished(_, stats) => {
                self.finished = true;
                self.last_stats = stats;
            }
        }
    }

    /// What `status` answers (the schema in [`crate::ctl::status`]).
    fn status(&self) -> serde_json::Value {
        let calls = self
            .last
            .iter()
            .map(|v| {
                CallStatus::of(
                    v,
                    chrono::Utc::now(),
                    self.muted,
                    &self.received,
                    self.last_stats.as_ref(),
                )
            })
            .collect();
        let status = Status {
            user: self.plan.user.clone(),
            connection: self.connection,
            audio: self.plan.audio.clone(),
            audio_notice: None,
            current_channel: None,
            unread: 0,
            calls,
        };
        serde_json::to_value(status).unwrap_or(serde_json::Value::Null)
    }

    /// A control request while the call runs.
    async fn on_ctl(&mut self, call: CtlCall) {
        let CtlCall { request, reply } = call;
        let outcome = match (CallAsk::of(&request), request) {
            (_, CtlRequest::Status) => Ok(self.status()),
            (Some(ask), _) if ask.room_id().is_some_and(|r| r != self.room_id) => {
                Err(CtlFailure::new(
                    "no_call",
                    format!(
                        "there is no call {} here (this call is {})",
                        ask.room_id().unwrap_or_default(),
                        self.room_id
                    ),
                ))
            }
            (Some(CallAsk::Hangup { .. }), _) => match self.client.hangup(&self.room_id).await {
                Ok(_) => Ok(serde_json::json!({"room_id": self.room_id})),
                Err(e) => Err(CtlFailure::new(e.code(), e.to_string())),
            },
            (Some(CallAsk::Command { command, .. }), _) => {
                let outcome = self.board.request(&self.room_id, command);
                calls::reply(&self.room_id, outcome)
                    .await
                    .map(|(done, value)| {
                        match done {
                            CallDone::Hold(on) => self.held = on,
                            CallDone::Mute(on) => self.muted = on,
                            _ => {}
                        }
                        value
                    })
            }
            (Some(CallAsk::Operation { op, .. }), _) => self.operate(op).await,
            (None, _) => Err(not_supported()),
        };
        let _ = reply.send(outcome);
    }

    /// Ignore, forward or transfer this call (a transfer holds it first).
    async fn operate(&mut self, op: CallOp) -> Result<serde_json::Value, CtlFailure> {
        if matches!(op, CallOp::Transfer { .. }) && !self.held {
            let outcome = self.board.request(&self.room_id, CallCommand::Hold(true));
            calls::reply(&self.room_id, outcome).await?;
            self.held = true;
        }
        let result = match &op {
            CallOp::Ignore => self.client.ignore(&self.room_id).await,
            CallOp::Forward { to } => self.client.forward(&self.room_id, to).await,
            CallOp::Transfer { to } => self.client.transfer(&self.room_id, to).await,
        };
        result
            .map(|call| serde_json::to_value(&call).unwrap_or(serde_json::Value::Null))
            .map_err(|e| CtlFailure::new(e.code(), e.to_string()))
    }

    fn summary(&self) -> CallSummary {
        let reason = self.last.as_ref().and_then(|v| match v.state {
            CallState::Ended { reason } => Some(reason),
            _ => None,
        });
        let duration_ms = self
            .last
            .as_ref()
            .map_or(0, |v| v.duration(chrono::Utc::now()).num_milliseconds());
        CallSummary {
            room_id: self.room_id.clone(),
            answered: self.answered,
            end_reason: reason,
            #[allow(clippy::cast_precision_loss)] // a call's milliseconds fit 52 bits
            duration_s: duration_ms as f64 / 1000.0,
            dtmf_received: self.received.clone(),
            dtmf_sent_as: self.dtmf_sent_as,
            stats: self.last_stats.clone(),
        }
    }
}

fn not_supported() -> CtlFailure {
    CtlFailure::new(
        "not_supported",
        "parla answer handles status, hangup, hold, resume, mute, unmute and dtmf",
    )
}

/// Audio for the one call: the set-up made, once.
fn one_call_audio(audio: AudioSetup) -> crate::client::call::switchboard::AudioFactory {
    let bind = audio.bind.clone();
    let slot = std::sync::Mutex::new(Some(audio));
    Box::new(move || {
        slot.lock()
            .ok()
            .and_then(|mut a| a.take())
            .unwrap_or_else(|| AudioSetup::silent(&bind))
    })
}

/// Sleeps until `at`; for ever when there is none.
async fn until(at: Option<tokio::time::Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// The control socket of `parla answer`: its requests, and where events are published;
/// and the calls that rang while one was on (for `--auto` to take next).
#[derive(Default)]
pub(super) struct Ctl<'a> {
    calls: Option<&'a mut mpsc::Receiver<CtlCall>>,
    server: Option<&'a CtlServer>,
    rang: Option<&'a mut std::collections::VecDeque<String>>,
}

/// Runs call `room_id` until it ends; returns its summary.
pub(super) async fn drive(
    client: &Client,
    events: &mut mpsc::UnboundedReceiver<Event>,
    room_id: &str,
    audio: AudioSetup,
    plan: &CallPlan,
    json: bool,
    ctl: Ctl<'_>,
) -> Result<CallSummary, CliError> {
    let Ctl {
        calls: mut ctl_calls,
        server: ctl,
        rang,
    } = ctl;
    let (mut board, mut news) = Switchboard::new(client.clone(), one_call_audio(audio));
    board.stats_every = plan.stats_every.unwrap_or(Duration::from_hours(24));
    board.dtmf_timing = plan.timing;
    let mut run = CallRun {
        client,
        room_id: room_id.to_owned(),
        board,
        plan,
        json,
        ctl,
        answered: false,
        held: false,
        muted: false,
        dtmf_sent: plan.dtmf.is_empty(),
        dtmf_sent_as: None,
        received: String::new(),
        last: None,
        connection: "connected",
        hangup_at: None,
        finished: false,
        last_stats: None,
        failure: None,
        rang,
    };
    let mut interrupted = false;
    let mut terminate = crate::sys::terminate_signal();
    while !run.finished {
        tokio::select! {
            e = events.recv() => {
                let Some(e) = e else { break };
                run.on_session(&e).await;
            }
            Some(n) = news.recv() => run.on_news(n).await,
            () = until(run.hangup_at) => {
                run.hangup_at = None;
                let _ = client.hangup(room_id).await;
            }
            () = interrupt(&mut terminate), if !interrupted => {
                interrupted = true;
                let _ = client.hangup(room_id).await;
            }
            call = crate::ctl::next_call(ctl_calls.as_deref_mut()) => run.on_ctl(call).await,
        }
    }
    // (When the session went away first, the call's task ends its media now.)
    run.board.shutdown().await;
    while let Ok(n) = news.try_recv() {
        run.on_news(n).await;
    }
    if let Some(e) = run.failure.take() {
        return Err(CliError {
            code: "media_error".into(),
            message: e,
            exit: exit::FAILURE,
        });
    }
    Ok(run.summary())
}

/// Ctrl-C, or SIGTERM (`timeout`, a service manager): either hangs up the call first.
async fn interrupt(terminate: &mut Option<tokio::signal::unix::Signal>) {
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = crate::sys::terminated(terminate) => {}
    }
}

/// Runs one call to its end (no control socket) and prints its summary; the session is
/// shut down when the call could not be run.
pub(super) async fn drive_reported(
    client: &Client,
    events: &mut mpsc::UnboundedReceiver<Event>,
    room_id: &str,
    audio: AudioSetup,
    plan: &CallPlan,
    json: bool,
) -> Result<CallSummary, CliError> {
    match drive(client, events, room_id, audio, plan, json, Ctl::default()).await {
        Ok(summary) => {
            report(&summary, json);
            Ok(summary)
        }
        Err(e) => {
            client.shutdown().await;
            Err(e)
        }
    }
}

pub(super) fn report(summary: &CallSummary, json: bool) {
    if json {
        print_json(&InstanceEvent::CallSummary(summary.clone()));
    } else {
        let reason = summary
            .end_reason
            .map(EndReason::as_str)
            .unwrap_or_default();
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
        "audio: MOS {:.1}, RTT {}, loss {:.1} % ({:.1} % after repair), jitter {:.1} ms, buffer {:.0} ms, {:.0}/{:.0} kbit/s out/in, {} frames sent, {} played, {} concealed, playout steps +{:.0}/-{:.0} ms",
        s.mos.map_or("-".to_owned(), |m| format!("{m:.1}")),
        s.rtt_ms.map_or("-".to_owned(), |r| format!("{r:.1} ms")),
        s.loss_pct,
        s.concealed_pct,
        s.jitter_ms,
        s.jitter_buffer_ms,
        s.send_kbps,
        s.recv_kbps,
        s.frames_sent,
        s.frames_played,
        s.frames_concealed,
        s.playout_stretched_ms,
        s.playout_compressed_ms
    ) + &if s.device_overruns + s.device_underruns > 0 {
        format!(
            "; sound card: {} capture overruns, {} playback underruns",
            s.device_overruns, s.device_underruns
        )
    } else {
        String::new()
    }
}

fn unanswered(summary: &CallSummary) -> CliError {
    let reason = summary
        .end_reason
        .map_or("not_answered", EndReason::as_str)
        .to_owned();
    CliError {
        message: format!("the call was not answered ({reason})"),
        code: reason,
        exit: exit::NOT_FOUND,
    }
}

pub(super) fn plan(dtmf_digits: Option<&str>, args: &MediaArgs) -> Result<CallPlan, CliError> {
    let dtmf = match dtmf_digits {
        Some(d) => dtmf::parse(d).map_err(|e| CliError {
            code: "validation_error".into(),
            message: e.to_string(),
            exit: exit::USAGE,
        })?,
        None => Vec::new(),
    };
    Ok(CallPlan {
        user: String::new(),
        audio: args.audio.clone().unwrap_or_else(|| "file".to_owned()),
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
    voicemail: Option<&std::path::Path>,
    args: &MediaArgs,
) -> Result<(), CliError> {
    let mut plan = plan(dtmf_digits, args)?;
    // The message is recorded before anyone rings: a bad file fails first.
    let message = match voicemail {
        Some(_) if users.len() != 1 => {
            return Err(CliError::usage(
                "a voice message is left after a call to one person",
            ))
        }
        Some(path) => Some(super::voicemail::record_wav(path)?),
        None => None,
    };
    let audio = audio_setup(args, cli.json)?;
    let (client, mut events, user) = start_client(cli).await?;
    plan.user = user;
    // With a message to leave, a call to someone offline is not left ringing.
    let offline = match &message {
        Some(_) => !client
            .rest()
            .users(true)
            .await?
            .iter()
            .any(|u| users.contains(&u.user_id)),
        None => false,
    };
    let call = client.dial(users).await?;
    if offline {
        notice(cli.json, &format!("{} is offline", users.join(", ")));
        client.hangup(&call.room_id).await?;
    }
    let summary =
        drive_reported(&client, &mut events, &call.room_id, audio, &plan, cli.json).await?;
    let outcome = match message {
        _ if summary.answered => Ok(()),
        Some(recorded) => {
            super::voicemail::leave(client.rest(), &summary.room_id, recorded, cli.json).await
        }
        None => Err(unanswered(&summary)),
    };
    client.shutdown().await;
    outcome
}

/// Waits for a call to ring here, answering control requests meanwhile; `None` when
/// interrupted or when the session ended.
async fn next_incoming(
    events: &mut mpsc::UnboundedReceiver<Event>,
    mut ctl_calls: Option<&mut mpsc::Receiver<CtlCall>>,
    plan: &CallPlan,
) -> Option<String> {
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return None,
            e = events.recv() => match e {
                Some(Event::CallIncoming { call }) => return Some(call.room_id),
                Some(_) => {}
                None => return None,
            },
            call = crate::ctl::next_call(ctl_calls.as_deref_mut()) => {
                let reply = match (&call.request, CallAsk::of(&call.request)) {
                    (CtlRequest::Status, _) => Ok(waiting_status(plan)),
                    (_, Some(_)) => Err(CtlFailure::new(
                        "no_call",
                        "there is no call yet: parla answer is waiting for one",
                    )),
                    (_, None) => Err(not_supported()),
                };
                let _ = call.reply.send(reply);
            }
        }
    }
}

/// What `status` answers while `parla answer` waits for a call: no calls yet.
fn waiting_status(plan: &CallPlan) -> serde_json::Value {
    serde_json::to_value(Status {
        user: plan.user.clone(),
        connection: "connected",
        audio: plan.audio.clone(),
        audio_notice: None,
        current_channel: None,
        unread: 0,
        calls: Vec::new(),
    })
    .unwrap_or(serde_json::Value::Null)
}

/// The control socket, unless another instance has it.
async fn bind_ctl() -> (Option<CtlServer>, Option<mpsc::Receiver<CtlCall>>) {
    let socket = crate::ctl::default_socket_path();
    match CtlServer::bind(&socket).await {
        Ok((server, calls)) => (Some(server), Some(calls)),
        Err(e) => {
            tracing::warn!(error = %e, path = %socket.display(), "no control socket");
            (None, None)
        }
    }
}

pub async fn answer(
    cli: &super::Cli,
    auto: bool,
    dtmf_digits: Option<&str>,
    args: &MediaArgs,
) -> Result<(), CliError> {
    let mut plan = plan(dtmf_digits, args)?;
    // Check the files before waiting for anyone.
    drop(audio_setup(args, true)?);
    // Scripts drive this instance through the control socket, unless another one has it.
    let (server, mut ctl_calls) = bind_ctl().await;
    let (client, mut events, user) = start_client(cli).await?;
    plan.user = user;
    if !cli.json {
        println!("waiting for a call…");
    }
    let mut ctl = Ctl {
        calls: ctl_calls.as_mut(),
        server: server.as_ref(),
        rang: None,
    };
    let result = answer_calls(&client, &mut events, &plan, args, cli.json, auto, &mut ctl).await;
    client.shutdown().await;
    // Subscribers get the last events (the summary) before the socket goes.
    if let Some(server) = server {
        server.shutdown().await;
    }
    result
}

/// Answers calls as they ring here: one, or with `auto` one after another until
/// interrupted.
async fn answer_calls(
    client: &Client,
    events: &mut mpsc::UnboundedReceiver<Event>,
    plan: &CallPlan,
    args: &MediaArgs,
    json: bool,
    auto: bool,
    ctl: &mut Ctl<'_>,
) -> Result<(), CliError> {
    let mut rang = std::collections::VecDeque::new();
    loop {
        let next = match rang.pop_front() {
            Some(room) => Some(room),
            None => next_incoming(events, ctl.calls.as_deref_mut(), plan).await,
        };
        let Some(room_id) = next else { break };
        if let Err(e) = client.answer(&room_id).await {
            // Already answered elsewhere, or canceled meanwhile: wait for the next one.
            tracing::info!(error = %e, "could not answer");
            continue;
        }
        let audio = audio_setup(args, json)?;
        let call_ctl = Ctl {
            calls: ctl.calls.as_deref_mut(),
            server: ctl.server,
            rang: Some(&mut rang),
        };
        let summary = match drive(client, events, &room_id, audio, plan, json, call_ctl).await {
            Ok(summary) => summary,
            // One call that failed (a description that could not be used, say) has been
            // hung up; `--auto` goes on answering the next.
            Err(e) if auto => {
                super::output::print_error(&e, json);
                continue;
            }
            Err(e) => return Err(e),
        };
        report(&summary, json);
        if let Some(server) = ctl.server {
            server.publish(InstanceEvent::CallSummary(summary));
        }
        if !auto {
            break;
        }
    }
    Ok(())
}
