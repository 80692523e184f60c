//! Runs the interface: in a terminal (`parla`), or headless with a scripted tour (`parla demo
//! --script`). Network and media live on their own tasks — the session, one task per call —
//! and report back as messages; the loop here only turns input and news into state, carries
//! out the commands the state asks for, and redraws when something changed.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::Event as TermEvent;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use tokio::sync::mpsc;

use super::app::{App, Command};
use super::cast::CastWriter;
use super::i18n::Strings;
use super::keymap::Keymap;
use super::theme::Theme;
use super::ui;
use super::{Launch, TuiError};
use crate::client::media_call::AudioSetup;
use crate::client::switchboard::{AudioFactory, CallCommand, CallNews, Switchboard};
use crate::client::{Client, Event, Rest};
use crate::ctl::{CtlCall, CtlRequest, CtlServer};
use crate::media::audio::{AudioSink, AudioSource, NullSink, Silence};
use crate::media::dtmf;
use crate::proto::{DeclineReason, Direction};
use crate::settings::{self, AudioConfig, ConfigFile, Overrides};

/// Everything the interface needs from the config: strings, keys, colours, sound.
pub struct Look {
    pub strings: Strings,
    pub keymap: Keymap,
    pub theme: Theme,
    pub audio: AudioConfig,
    /// Problems found loading the user's files (shown once, defaults kept).
    pub problems: Vec<String>,
}

impl Look {
    pub fn from_config(overrides: &Overrides, file: &ConfigFile) -> Look {
        let (path, _) = settings::config_path(overrides);
        let mut problems = Vec::new();
        let keymap_file = settings::user_file(path.as_deref(), "keymap.toml");
        let (keymap, p) = Keymap::load(
            file.keymap.as_deref().unwrap_or("default"),
            keymap_file.as_deref(),
        );
        problems.extend(p.map(|e| e.to_string()));
        let theme_file = settings::user_file(path.as_deref(), "theme.toml");
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let (theme, p) = Theme::load(
            file.theme.as_deref().unwrap_or("dark"),
            theme_file.as_deref(),
            no_color,
        );
        problems.extend(p.map(|e| e.to_string()));
        Look {
            strings: Strings::choose(file.language.as_deref()),
            keymap,
            theme,
            audio: file.audio.clone(),
            problems,
        }
    }
}

/// News for the interface from the tasks it started.
#[derive(Debug)]
pub enum News {
    Loaded {
        me: String,
        channels: Vec<crate::proto::Channel>,
        users: Vec<crate::proto::UserEntry>,
    },
    History {
        channel_id: String,
        messages: Vec<crate::proto::Message>,
        complete: bool,
    },
    /// A channel to show (a direct channel just opened).
    Open(crate::proto::Channel),
    Error(String),
    AudioNotice(String),
}

/// Audio for each call from the config: the sound card (silence when there is none, and
/// the interface is told) or silence.
fn audio_factory(
    audio: AudioConfig,
    bind: String,
    news: mpsc::UnboundedSender<News>,
) -> AudioFactory {
    Box::new(move || {
        let mut device = None;
        let (source, sink): (Box<dyn AudioSource>, Box<dyn AudioSink>) =
            if audio.backend == "device" {
                match crate::media::device::open(audio.input.as_deref(), audio.output.as_deref()) {
                    Ok((source, sink, _description, counters)) => {
                        device = Some(counters);
                        (Box::new(source), Box::new(sink))
                    }
                    Err(e) => {
                        let _ = news.send(News::AudioNotice(e.to_string()));
                        (Box::new(Silence), Box::new(NullSink))
                    }
                }
            } else {
                (Box::new(Silence), Box::new(NullSink))
            };
        AudioSetup {
            source,
            sink,
            ring: audio.ring,
            device,
            ..AudioSetup::silent(&bind)
        }
    })
}

/// Input for the loop: from the terminal, or from a scripted tour.
pub enum Input {
    Term(TermEvent),
    /// The tour is over (or failed with a message).
    Done(Option<String>),
}

/// The interface's loop, over any terminal writer.
pub struct Runtime {
    pub app: App,
    theme: Theme,
    client: Client,
    rest: Rest,
    phone: Switchboard,
    calls: mpsc::UnboundedReceiver<CallNews>,
    news_tx: mpsc::UnboundedSender<News>,
    news: mpsc::UnboundedReceiver<News>,
    events: mpsc::UnboundedReceiver<Event>,
    ctl: Option<(CtlServer, mpsc::Receiver<CtlCall>)>,
    /// The text of the last frame drawn.
    pub screen: String,
    /// The recording, told about resizes.
    cast: Option<super::cast::CastHandle>,
    quit: bool,
}

/// Starts the session for the interface.
pub fn start_client(
    overrides: &Overrides,
) -> Result<(Client, mpsc::UnboundedReceiver<Event>), TuiError> {
    let config = settings::resolve(overrides)?.client_config()?;
    Ok(Client::start(config)?)
}

impl Runtime {
    pub fn new(
        look: Look,
        client: Client,
        events: mpsc::UnboundedReceiver<Event>,
        bind: &str,
    ) -> Runtime {
        let (news_tx, news) = mpsc::unbounded_channel();
        let mut app = App::new(look.strings, look.keymap);
        app.audio.clone_from(&look.audio.backend);
        for p in &look.problems {
            let text = app.strings.fmt("notice.config", &[("message", p)]);
            app.toast(text);
        }
        let (phone, calls) = Switchboard::new(
            client.clone(),
            audio_factory(look.audio, bind.to_owned(), news_tx.clone()),
        );
        Runtime {
            app,
            theme: look.theme,
            rest: client.rest().clone(),
            client,
            phone,
            calls,
            news_tx,
            news,
            events,
            ctl: None,
            screen: String::new(),
            cast: None,
            quit: false,
        }
    }

    /// Serves the control socket at `path` (a second instance goes on without one).
    pub async fn serve_ctl(&mut self, path: PathBuf) {
        match CtlServer::bind(&path).await {
            Ok(pair) => self.ctl = Some(pair),
            Err(e) => tracing::warn!(error = %e, "no control socket"),
        }
    }

    fn draw<W: Write>(&mut self, terminal: &mut Terminal<CrosstermBackend<W>>) {
        if !self.app.dirty {
            return;
        }
        self.app.dirty = false;
        let (app, theme) = (&self.app, &self.theme);
        let mut area = Rect::default();
        match terminal.draw(|f| {
            area = f.area();
            ui::render(f, app, theme)
        }) {
            Ok(frame) => self.screen = ui::buffer_text(frame.buffer),
            Err(e) => tracing::warn!(error = %e, "drawing failed"),
        }
        self.app.areas = ui::areas(&self.app, area);
    }

    /// Runs until the user quits (or the input ends).
    pub async fn run<W: Write>(
        &mut self,
        terminal: &mut Terminal<CrosstermBackend<W>>,
        input: &mut mpsc::UnboundedReceiver<Input>,
        screens: Option<tokio::sync::watch::Sender<String>>,
    ) -> Result<(), String> {
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            self.draw(terminal);
            if let Some(s) = &screens {
                s.send_if_modified(|old| {
                    if *old != self.screen {
                        old.clone_from(&self.screen);
                        true
                    } else {
                        false
                    }
                });
            }
            if self.quit {
                return Ok(());
            }
            let ctl = async {
                match &mut self.ctl {
                    Some((_, rx)) => rx.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                i = input.recv() => match i {
                    Some(Input::Term(ev)) => {
                        let commands = self.on_term(ev);
                        self.execute(commands, terminal);
                    }
                    Some(Input::Done(None)) | None => return Ok(()),
                    Some(Input::Done(Some(failure))) => return Err(failure),
                },
                e = self.events.recv() => match e {
                    Some(e) => {
                        let commands = self.on_session(e);
                        self.execute(commands, terminal);
                    }
                    None => return Ok(()),
                },
                n = self.calls.recv() => {
                    if let Some(n) = n {
                        self.on_call_news(n);
                    }
                }
                n = self.news.recv() => {
                    if let Some(n) = n {
                        let commands = self.on_news(n);
                        self.execute(commands, terminal);
                    }
                }
                c = ctl => {
                    if let Some(call) = c {
                        let commands = self.on_ctl(call);
                        self.execute(commands, terminal);
                    }
                }
                _ = tick.tick() => self.app.tick(chrono::Utc::now()),
            }
        }
    }

    fn on_term(&mut self, ev: TermEvent) -> Vec<Command> {
        match ev {
            TermEvent::Key(k) => self.app.on_key(k),
            TermEvent::Mouse(m) => self.app.on_mouse(m),
            TermEvent::Paste(text) => {
                self.app.on_paste(&text);
                Vec::new()
            }
            TermEvent::Resize(width, height) => {
                if let Some(cast) = &self.cast {
                    if let Err(e) = cast.resize(width, height) {
                        tracing::warn!(error = %e, "recording the resize");
                    }
                }
                self.app.dirty = true;
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn on_session(&mut self, e: Event) -> Vec<Command> {
        if let Event::Ready { .. } = &e {
            self.load();
        }
        self.phone.route(&e);
        if let Some((server, _)) = &self.ctl {
            if !matches!(e, Event::CallSignal { .. }) {
                if let Ok(v) = serde_json::to_value(&e) {
                    server.publish(v);
                }
            }
        }
        self.app.on_event(&e)
    }

    fn load(&self) {
        let rest = self.rest.clone();
        let news = self.news_tx.clone();
        tokio::spawn(async move {
            let loaded = async {
                let me = rest.me().await?;
                let channels = rest.channels().await?;
                let users = rest.users(false).await?;
                Ok::<_, crate::client::ClientError>((me.user_id, channels, users))
            };
            match loaded.await {
                Ok((me, channels, users)) => {
                    let _ = news.send(News::Loaded {
                        me,
                        channels,
                        users,
                    });
                }
                Err(e) => {
                    let _ = news.send(News::Error(e.to_string()));
                }
            }
        });
    }

    fn on_news(&mut self, n: News) -> Vec<Command> {
        match n {
            News::Loaded {
                me,
                channels,
                users,
            } => {
                self.app.on_loaded(me, channels, users);
                Vec::new()
            }
            News::History {
                channel_id,
                messages,
                complete,
            } => self.app.on_history(&channel_id, messages, complete),
            News::Open(channel) => {
                let id = channel.channel_id.clone();
                if !self.app.channels.iter().any(|c| c.channel_id == id) {
                    self.app.channels.push(channel);
                }
                self.app.open_channel(&id)
            }
            News::Error(message) => {
                self.app.on_error(&message);
                Vec::new()
            }
            News::AudioNotice(reason) => {
                self.app.audio = "null".into();
                if self.app.audio_notice.is_none() {
                    let toast = self
                        .app
                        .strings
                        .fmt("toast.audio_fallback", &[("reason", &reason)]);
                    self.app.toast(toast);
                }
                self.app.audio_notice =
                    Some(self.app.strings.get("notice.audio_fallback").to_owned());
                self.app.dirty = true;
                Vec::new()
            }
        }
    }

    fn on_call_news(&mut self, n: CallNews) {
        match n {
            CallNews::Stats(room, stats) => self.app.on_call_stats(&room, stats),
            CallNews::Dtmf(room, d) => {
                self.app.on_call_dtmf(&room, d);
                if let Some((server, _)) = &self.ctl {
                    server.publish(serde_json::json!({"event": "dtmf", "room_id": room, "digit": d.to_string()}));
                }
            }
            CallNews::Error(_, message) => self.app.on_error(&message),
            CallNews::Finished(_) => {}
        }
    }

    fn spawn_request<F>(&self, what: &'static str, f: F)
    where
        F: std::future::Future<Output = Result<(), crate::client::ClientError>> + Send + 'static,
    {
        let news = self.news_tx.clone();
        tokio::spawn(async move {
            if let Err(e) = f.await {
                let _ = news.send(News::Error(format!("{what}: {e}")));
            }
        });
    }

    fn execute<W: Write>(
        &mut self,
        commands: Vec<Command>,
        terminal: &mut Terminal<CrosstermBackend<W>>,
    ) {
        for c in commands {
            match c {
                Command::Quit => self.quit = true,
                Command::Bell => {
                    let _ = terminal.backend_mut().write_all(b"\x07");
                    let _ = terminal.backend_mut().flush();
                }
                Command::Send { channel_id, text } | Command::Retry { channel_id, text } => {
                    match self.client.queue_message(&channel_id, &text) {
                        Ok(client_id) => self.app.on_queued(&channel_id, &client_id, &text),
                        Err(e) => self.app.on_error(&e.to_string()),
                    }
                }
                Command::OpenChannel { channel_id } => {
                    self.history(channel_id, None, 50);
                }
                Command::LoadOlder {
                    channel_id,
                    before_seq,
                } => self.history(channel_id, Some(before_seq), 100),
                Command::OpenDirect { user_id } => {
                    let (rest, news) = (self.rest.clone(), self.news_tx.clone());
                    self.spawn_request("open", async move {
                        let ch = rest.open_direct(&user_id).await?;
                        let _ = news.send(News::Open(ch));
                        Ok(())
                    });
                }
                Command::MarkRead { channel_id, seq } => {
                    let rest = self.rest.clone();
                    self.spawn_request("read", async move {
                        rest.mark_read(&channel_id, seq).await.map(|_| ())
                    });
                }
                Command::Dial { users } => {
                    let client = self.client.clone();
                    self.spawn_request(
                        "call",
                        async move { client.dial(&users).await.map(|_| ()) },
                    );
                }
                Command::Answer { room_id } => {
                    let client = self.client.clone();
                    self.spawn_request("answer", async move {
                        client.answer(&room_id).await.map(|_| ())
                    });
                }
                Command::Decline { room_id, reason } => {
                    let client = self.client.clone();
                    self.spawn_request("decline", async move {
                        client.decline(&room_id, reason).await.map(|_| ())
                    });
                }
                Command::Hangup { room_id } => {
                    let client = self.client.clone();
                    self.spawn_request("hang up", async move {
                        client.hangup(&room_id).await.map(|_| ())
                    });
                }
                Command::Hold { room_id, on } => self.phone.send(&room_id, CallCommand::Hold(on)),
                Command::Mute { room_id, on } => self.phone.send(&room_id, CallCommand::Mute(on)),
                Command::Dtmf { room_id, digits } => {
                    self.phone.send(&room_id, CallCommand::Dtmf(digits))
                }
                Command::Ring { room_id, on } => self.phone.send(&room_id, CallCommand::Ring(on)),
            }
        }
    }

    fn history(&self, channel_id: String, before: Option<u64>, count: u32) {
        let (rest, news) = (self.rest.clone(), self.news_tx.clone());
        self.spawn_request("history", async move {
            let page = rest
                .history(&channel_id, count, before, Direction::Backwards)
                .await?;
            let _ = news.send(News::History {
                channel_id,
                complete: !page.has_more,
                messages: page.messages,
            });
            Ok(())
        });
    }

    /// A request from the control socket.
    fn on_ctl(&mut self, call: CtlCall) -> Vec<Command> {
        let app = &self.app;
        let current_room = app.active_call().map(|c| c.view.call.room_id.clone());
        let ringing = app
            .calls
            .iter()
            .find(|c| c.view.state == crate::client::call::CallState::Ringing)
            .map(|c| c.view.call.room_id.clone());
        let fail = |code: &str, message: &str| {
            Err(crate::ctl::CtlFailure {
                code: code.into(),
                message: message.into(),
            })
        };
        let no_call = || fail("no_call", "there is no call to do that to");
        let hold = |room: Option<String>, on: bool| match room {
            Some(room_id) => (
                vec![Command::Hold {
                    room_id: room_id.clone(),
                    on,
                }],
                Ok(serde_json::json!({"room_id": room_id, "hold": on})),
            ),
            None => (Vec::new(), no_call()),
        };
        let (commands, reply): (Vec<Command>, Result<serde_json::Value, _>) = match call.request {
            CtlRequest::Status => (Vec::new(), Ok(self.status())),
            CtlRequest::Events => (Vec::new(), Ok(serde_json::json!({}))),
            CtlRequest::Dial { users } => (
                vec![Command::Dial { users }],
                Ok(serde_json::json!({"dialing": true})),
            ),
            CtlRequest::Answer { room_id } => {
                let commands = self.app.answer(room_id);
                match commands.iter().find_map(|c| match c {
                    Command::Answer { room_id } => Some(room_id.clone()),
                    _ => None,
                }) {
                    Some(room_id) => (commands, Ok(serde_json::json!({"room_id": room_id}))),
                    None => (Vec::new(), no_call()),
                }
            }
            CtlRequest::Decline { room_id, reason } => {
                let reason = serde_json::from_value::<DeclineReason>(serde_json::json!(reason
                    .as_deref()
                    .unwrap_or("none")));
                match (room_id.or(ringing), reason) {
                    (_, Err(_)) => (
                        Vec::new(),
                        fail(
                            "validation_error",
                            "reason must be none, error, do_not_disturb or no_answer",
                        ),
                    ),
                    (Some(room_id), Ok(reason)) => (
                        vec![Command::Decline {
                            room_id: room_id.clone(),
                            reason,
                        }],
                        Ok(serde_json::json!({"room_id": room_id})),
                    ),
                    (None, _) => (Vec::new(), no_call()),
                }
            }
            CtlRequest::Hangup { room_id } => match room_id.or(current_room) {
                Some(room_id) => (
                    vec![Command::Hangup {
                        room_id: room_id.clone(),
                    }],
                    Ok(serde_json::json!({"room_id": room_id})),
                ),
                None => (Vec::new(), no_call()),
            },
            CtlRequest::Hold { room_id } => hold(room_id.or(current_room), true),
            CtlRequest::Resume { room_id } => hold(room_id.or(current_room), false),
            CtlRequest::Mute => self.mute(true),
            CtlRequest::Unmute => self.mute(false),
            CtlRequest::Dtmf { digits } => match (dtmf::parse(&digits), current_room) {
                (Err(e), _) => (Vec::new(), fail("validation_error", &e.to_string())),
                (Ok(_), Some(room_id)) => (
                    vec![Command::Dtmf {
                        room_id: room_id.clone(),
                        digits: digits.clone(),
                    }],
                    Ok(serde_json::json!({"room_id": room_id, "digits": digits})),
                ),
                (Ok(_), None) => (Vec::new(), no_call()),
            },
            CtlRequest::Send { target, text } => {
                // Resolved and queued on a task: the channel may have to be found first.
                let (rest, client, news) =
                    (self.rest.clone(), self.client.clone(), self.news_tx.clone());
                let reply = call.reply;
                tokio::spawn(async move {
                    let result = async {
                        let channel_id = rest
                            .resolve_target(&target)
                            .await
                            .map_err(|e| (e.code().to_owned(), e.to_string()))?;
                        let message = client
                            .send_message(&channel_id, &text)
                            .await
                            .map_err(|e| (e.code().to_owned(), e.to_string()))?;
                        Ok::<_, (String, String)>(message)
                    }
                    .await;
                    let _ = reply.send(match result {
                        Ok(m) => serde_json::to_value(&m).map_err(|e| crate::ctl::CtlFailure {
                            code: "io_error".into(),
                            message: e.to_string(),
                        }),
                        Err((code, message)) => {
                            let _ = news.send(News::Error(message.clone()));
                            Err(crate::ctl::CtlFailure { code, message })
                        }
                    });
                });
                return Vec::new();
            }
        };
        let _ = call.reply.send(reply);
        commands
    }

    fn mute(
        &mut self,
        on: bool,
    ) -> (
        Vec<Command>,
        Result<serde_json::Value, crate::ctl::CtlFailure>,
    ) {
        match self.app.calls.get_mut(self.app.current_call) {
            Some(c) => {
                c.muted = on;
                self.app.dirty = true;
                (
                    vec![Command::Mute {
                        room_id: c.view.call.room_id.clone(),
                        on,
                    }],
                    Ok(serde_json::json!({"muted": on})),
                )
            }
            None => (
                Vec::new(),
                Err(crate::ctl::CtlFailure {
                    code: "no_call".into(),
                    message: "there is no call to do that to".into(),
                }),
            ),
        }
    }

    /// The state `parla ctl status` reports.
    pub fn status(&self) -> serde_json::Value {
        let app = &self.app;
        let calls: Vec<serde_json::Value> = app
            .calls
            .iter()
            .map(|c| {
                serde_json::json!({
                    "room_id": c.view.call.room_id,
                    "state": c.view.state,
                    "with": app.call_peers(&c.view),
                    "duration_s": c.view.duration(app.now).num_seconds(),
                    "muted": c.muted,
                    "dtmf_received": c.dtmf_received,
                    "stats": c.stats,
                })
            })
            .collect();
        serde_json::json!({
            "user": app.me,
            "connection": app.connection,
            "audio": app.audio,
            "audio_notice": app.audio_notice,
            "current_channel": app.current,
            "calls": calls,
            "unread": app.channels.iter().map(|c| c.unread_count).sum::<u64>(),
        })
    }
}

/// Puts the terminal into the interface's mode and back, also when a panic unwinds.
struct TerminalGuard;

impl TerminalGuard {
    fn enter() -> std::io::Result<TerminalGuard> {
        use ratatui::crossterm::{event, execute, terminal};
        terminal::enable_raw_mode()?;
        let guard = TerminalGuard;
        execute!(
            std::io::stdout(),
            terminal::EnterAlternateScreen,
            event::EnableMouseCapture,
            event::EnableBracketedPaste
        )?;
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            previous(info);
        }));
        Ok(guard)
    }
}

fn restore_terminal() {
    use ratatui::crossterm::{cursor, event, execute, terminal};
    let _ = execute!(
        std::io::stdout(),
        event::DisableBracketedPaste,
        event::DisableMouseCapture,
        terminal::LeaveAlternateScreen,
        cursor::Show
    );
    let _ = terminal::disable_raw_mode();
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Reads terminal input on a thread of its own (reading blocks) until the loop goes away.
fn read_terminal(tx: mpsc::UnboundedSender<Input>) {
    std::thread::spawn(move || {
        use ratatui::crossterm::event;
        while !tx.is_closed() {
            match event::poll(Duration::from_millis(200)) {
                Ok(true) => match event::read() {
                    Ok(ev) => {
                        if tx.send(Input::Term(ev)).is_err() {
                            break;
                        }
                    }
                    Err(_) => break,
                },
                Ok(false) => {}
                Err(_) => break,
            }
        }
    });
}

fn io_error(what: &str, e: std::io::Error) -> TuiError {
    TuiError::Io(format!("{what}: {e}"))
}

/// While the interface owns the terminal, whatever writes to standard error (C libraries
/// such as ALSA print there) goes to the log file instead; restored on drop.
struct StderrToLog {
    saved: Option<std::os::fd::OwnedFd>,
}

impl StderrToLog {
    fn redirect() -> StderrToLog {
        let dir = settings::log_dir();
        let file = std::fs::create_dir_all(&dir).and_then(|()| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join("stderr.log"))
        });
        let Ok(file) = file else {
            return StderrToLog { saved: None };
        };
        StderrToLog {
            saved: crate::sys::redirect_stderr(&file),
        }
    }
}

impl Drop for StderrToLog {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            crate::sys::restore_stderr(saved);
        }
    }
}

/// `parla` with no subcommand: the interface in this terminal.
pub async fn interactive(launch: &Launch) -> Result<(), TuiError> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return Err(TuiError::Usage(
            "the interface needs a terminal; for scripts use the subcommands (see `parla --help`)"
                .into(),
        ));
    }
    let file = settings::load_file(&launch.settings)?;
    let look = Look::from_config(&launch.settings, &file);
    let (client, events) = start_client(&launch.settings)?;
    let mut rt = Runtime::new(look, client.clone(), events, &file.audio.bind);
    rt.serve_ctl(crate::ctl::default_socket_path()).await;
    let result = in_terminal(&mut rt, launch.record_cast.as_deref()).await;
    client.stop();
    result
}

/// Runs a prepared interface in this terminal until the user quits.
pub async fn in_terminal(rt: &mut Runtime, cast: Option<&std::path::Path>) -> Result<(), TuiError> {
    let (width, height) =
        ratatui::crossterm::terminal::size().map_err(|e| io_error("no terminal size", e))?;
    let guard = TerminalGuard::enter().map_err(|e| io_error("cannot set up the terminal", e))?;
    let stderr = StderrToLog::redirect();
    let writer: Box<dyn Write + Send> = match cast {
        Some(path) => {
            let writer = CastWriter::create(path, std::io::stdout(), width, height, "parla")
                .map_err(|e| io_error(&format!("cannot write {}", path.display()), e))?;
            rt.cast = Some(writer.handle());
            Box::new(writer)
        }
        None => Box::new(std::io::stdout()),
    };
    let mut terminal = Terminal::new(CrosstermBackend::new(writer))
        .map_err(|e| io_error("cannot start drawing", e))?;
    let _ = terminal.clear();
    let (tx, mut rx) = mpsc::unbounded_channel();
    read_terminal(tx);
    let result = rt.run(&mut terminal, &mut rx, None).await;
    let _ = terminal.flush();
    drop(terminal);
    drop(stderr);
    drop(guard);
    result.map_err(TuiError::Io)
}

/// Plays a scripted tour in an interface drawn off screen (`cols` x `rows`), recording it
/// when `cast` is given. Fails when an `expect` step does not see its text in time.
pub async fn headless(
    rt: &mut Runtime,
    script: super::script::Script,
    cols: u16,
    rows: u16,
    cast: Option<&std::path::Path>,
) -> Result<(), TuiError> {
    let writer: Box<dyn Write + Send> = match cast {
        Some(path) => Box::new(
            CastWriter::create(path, std::io::sink(), cols, rows, "parla demo")
                .map_err(|e| io_error(&format!("cannot write {}", path.display()), e))?,
        ),
        None => Box::new(std::io::sink()),
    };
    let mut terminal = Terminal::with_options(
        CrosstermBackend::new(writer),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, cols, rows)),
        },
    )
    .map_err(|e| io_error("cannot start drawing", e))?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (screens_tx, mut screens) = tokio::sync::watch::channel(String::new());
    let player = tokio::spawn(async move {
        use super::script::{Player, PlayerStep};
        let mut player = Player::new(script);
        loop {
            let screen = screens.borrow_and_update().clone();
            let step = player.next(&screen, std::time::Instant::now());
            for name in player.take_snapshots() {
                tracing::info!(snapshot = %name, %screen, "tour");
            }
            match step {
                PlayerStep::Press(key) => {
                    if tx.send(Input::Term(TermEvent::Key(key))).is_err() {
                        return;
                    }
                    tokio::task::yield_now().await;
                }
                PlayerStep::Sleep(d) => {
                    // Wake early when the screen changes (an `expect` may be met).
                    let _ = tokio::time::timeout(d, screens.changed()).await;
                }
                PlayerStep::Done => {
                    let _ = tx.send(Input::Done(None));
                    return;
                }
                PlayerStep::Failed(m) => {
                    let _ = tx.send(Input::Done(Some(m)));
                    return;
                }
            }
        }
    });
    let result = rt.run(&mut terminal, &mut rx, Some(screens_tx)).await;
    player.abort();
    let _ = terminal.flush();
    if result.is_err() {
        tracing::warn!(screen = %rt.screen, "the tour stopped here");
    }
    result.map_err(TuiError::Script)
}
