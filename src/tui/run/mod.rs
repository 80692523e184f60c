//! Runs the interface: in a terminal (`parla`, [`terminal`]), or headless with a scripted
//! tour (`parla demo --script`, [`headless`]). Network and media live on their own tasks —
//! the session, one task per call, one per request — and report back as messages; the
//! loop here only hands input and news to the [`App`], carries out the [`Job`]s it asks
//! for, answers the control socket with their outcome, and redraws when something changed.
//! Every task it starts is its own: the loop waits for them before it returns.

mod headless;
mod look;
mod people;
mod phone;
mod terminal;
mod voicemail;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::Event as TermEvent;
use ratatui::layout::Rect;
use ratatui::Terminal;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

pub use headless::headless;
pub use look::Look;
pub use terminal::{in_terminal, interactive};

use super::app::{App, CtlPlan, Job};
use super::theme::Theme;
use super::ui;
use super::TuiError;
use crate::client::call::switchboard::{CallNews, Switchboard};
use crate::client::{Client, ClientError, Event, Rest};
use crate::ctl::{CtlCall, CtlFailure, CtlServer, InstanceEvent};
use crate::proto::Direction;
use crate::settings::{self, Overrides};

/// How long the loop waits, once it is told to stop, for its requests and calls to finish.
const STOP_GRACE: Duration = Duration::from_secs(5);

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
    /// A page of history could not be loaded.
    HistoryFailed {
        channel_id: String,
        code: String,
        detail: String,
    },
    /// A channel to show (a direct channel just opened).
    Open(Box<crate::proto::Channel>),
    /// A request failed: what it was (`call`, `send`, ...), the error's code and detail.
    Failed {
        what: &'static str,
        code: String,
        detail: String,
    },
    /// The matches of a search.
    Found {
        channel_id: String,
        query: String,
        messages: Vec<crate::proto::Message>,
    },
    /// A search could not be made.
    SearchFailed { code: String, detail: String },
    /// The call history at start (and after each reconnection).
    RecentCalls(crate::proto::CallHistoryPage),
    /// The address book, at start.
    Contacts(Vec<crate::proto::Contact>),
    /// What the directory found for the People filter `text`.
    Directory {
        text: String,
        users: Vec<crate::proto::UserEntry>,
    },
    /// The voice messages waiting, at start.
    Voicemail(crate::proto::VoicemailIndicator),
    /// The sound card cannot be used: the error's code and message.
    AudioNotice { code: String, message: String },
    /// The voice messages, for the mailbox window.
    Mailbox(Vec<crate::proto::Voicemail>),
    /// A voice message finished playing (or could not be played).
    Played(String),
    /// A voice message was left for `who`.
    VoicemailLeft { who: String, seconds: u64 },
    /// A link to a call was made: its address.
    Link(String),
}

/// Input for the loop: from the terminal, or from a scripted tour.
pub enum Input {
    Term(TermEvent),
    /// The tour is over (or failed with a message).
    Done(Option<String>),
}

/// Where the outcome of a job goes, when a control request asked for it.
pub(super) type CtlReply = oneshot::Sender<Result<Value, CtlFailure>>;

fn failure(e: &ClientError) -> CtlFailure {
    CtlFailure::new(e.code(), e.to_string())
}

/// The next control request, when there is a socket.
/// The news of a failed request.
fn failed(what: &'static str, e: &ClientError) -> News {
    News::Failed {
        what,
        code: e.code().to_owned(),
        detail: e.detail(),
    }
}

async fn next_ctl(ctl: &mut Option<(CtlServer, mpsc::Receiver<CtlCall>)>) -> Option<CtlCall> {
    match ctl {
        Some((_, rx)) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Hands a tour the screen when it changed.
fn publish_screen(screens: &tokio::sync::watch::Sender<String>, screen: &str) {
    screens.send_if_modified(|old| {
        if old == screen {
            false
        } else {
            screen.clone_into(old);
            true
        }
    });
}

/// The interface's loop, over any terminal writer.
pub struct Runtime {
    app: App,
    theme: Theme,
    client: Client,
    rest: Rest,
    phone: Switchboard,
    calls: mpsc::UnboundedReceiver<CallNews>,
    news_tx: mpsc::UnboundedSender<News>,
    news: mpsc::UnboundedReceiver<News>,
    events: mpsc::UnboundedReceiver<Event>,
    ctl: Option<(CtlServer, mpsc::Receiver<CtlCall>)>,
    /// Requests on their way (history, opening a channel, dialing, ...).
    tasks: JoinSet<()>,
    /// Holds on their way. A dial or answer waits for them: the server lets a device take
    /// another call only once its others are held.
    holding: Vec<oneshot::Receiver<()>>,
    /// The text of the last frame drawn.
    pub screen: String,
    /// The recording, told about resizes.
    cast: Option<crate::tui::cast::CastHandle>,
    quit: bool,
    /// Where the sound comes from and goes (for voice messages; calls have the factory).
    audio: crate::settings::AudioConfig,
    /// Stops the voice message playing.
    playback: Option<oneshot::Sender<()>>,
    /// Ends the recording of a voice message: send it (`true`) or drop it.
    recording: Option<oneshot::Sender<bool>>,
}

/// Starts the session for the interface.
pub fn start_client(
    overrides: &Overrides,
) -> Result<(Client, mpsc::UnboundedReceiver<Event>), TuiError> {
    let config = settings::resolve(overrides)?.client_config()?;
    Ok(Client::start(config)?)
}

fn io_error(what: &str, e: std::io::Error) -> TuiError {
    TuiError::Io(format!("{what}: {e}"))
}

impl Runtime {
    pub fn new(
        look: Look,
        client: Client,
        events: mpsc::UnboundedReceiver<Event>,
        bind: &str,
    ) -> Runtime {
        let (news_tx, news) = mpsc::unbounded_channel();
        let mut app = App::new(look.strings, look.keymap).with_audio(&look.audio.backend);
        app.set_away_after(look.away_after);
        for p in &look.problems {
            let text = app.strings().fmt("notice.config", &[("message", p)]);
            app.toast(text);
        }
        let mut tasks = JoinSet::new();
        // The sound card is looked for at start, so the status line tells the truth
        // before the first call.
        if look.audio.backend == "device" {
            let (input, output) = (look.audio.input.clone(), look.audio.output.clone());
            let news = news_tx.clone();
            tasks.spawn(async move {
                let probed = tokio::task::spawn_blocking(move || {
                    crate::media::device::probe(input.as_deref(), output.as_deref())
                })
                .await;
                if let Ok(Err(e)) = probed {
                    let _ = news.send(News::AudioNotice {
                        code: e.code().to_owned(),
                        message: e.to_string(),
                    });
                }
            });
        }
        let audio = look.audio.clone();
        let (phone, calls) = Switchboard::new(
            client.clone(),
            look::audio_factory(look.audio, bind.to_owned(), news_tx.clone()),
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
            tasks,
            holding: Vec::new(),
            screen: String::new(),
            cast: None,
            quit: false,
            audio,
            playback: None,
            recording: None,
        }
    }

    /// The interface's state (for tests and tours).
    pub fn app(&self) -> &App {
        &self.app
    }

    /// Serves the control socket at `path` (a second instance goes on without one).
    /// Serves the control socket at `path`; when another instance has it, at a path of
    /// this process's own beside it, and the user is told which. Returns the path served.
    pub async fn serve_ctl(&mut self, path: PathBuf) -> Option<PathBuf> {
        match CtlServer::bind(&path).await {
            Ok(pair) => {
                self.ctl = Some(pair);
                return Some(path);
            }
            Err(crate::ctl::CtlError::InUse) => {}
            Err(e) => {
                tracing::warn!(error = %e, "no control socket");
                let text = self
                    .app
                    .strings()
                    .fmt("notice.no_ctl", &[("reason", &e.to_string())]);
                self.app.on_error(&text);
                return None;
            }
        }
        let own = path.with_file_name(format!("ctl-{}.sock", std::process::id()));
        match CtlServer::bind(&own).await {
            Ok(pair) => {
                self.ctl = Some(pair);
                let text = self.app.strings().fmt(
                    "notice.ctl_elsewhere",
                    &[("path", &own.display().to_string())],
                );
                self.app.on_error(&text);
                Some(own)
            }
            Err(e) => {
                tracing::warn!(error = %e, "no control socket");
                None
            }
        }
    }

    /// Tells the user something (a toast, kept in the notices).
    pub fn notify(&mut self, text: &str) {
        self.app.on_error(text);
    }

    fn draw<W: Write>(&mut self, terminal: &mut Terminal<CrosstermBackend<W>>) {
        if !self.app.take_dirty() {
            return;
        }
        let (app, theme) = (&self.app, &self.theme);
        let mut area = Rect::default();
        match terminal.draw(|f| {
            area = f.area();
            ui::render(f, app, theme);
        }) {
            Ok(frame) => self.screen = ui::buffer_text(frame.buffer),
            Err(e) => tracing::warn!(error = %e, "drawing failed"),
        }
        let areas = ui::areas(&self.app, area);
        self.app.on_drawn(areas);
    }

    /// Runs until the user quits (or the input ends); then waits for the requests and
    /// calls it started.
    pub async fn run<W: Write>(
        &mut self,
        terminal: &mut Terminal<CrosstermBackend<W>>,
        input: &mut mpsc::UnboundedReceiver<Input>,
        screens: Option<tokio::sync::watch::Sender<String>>,
    ) -> Result<(), String> {
        let result = self.serve(terminal, input, screens).await;
        self.finish().await;
        result
    }

    async fn serve<W: Write>(
        &mut self,
        terminal: &mut Terminal<CrosstermBackend<W>>,
        input: &mut mpsc::UnboundedReceiver<Input>,
        screens: Option<tokio::sync::watch::Sender<String>>,
    ) -> Result<(), String> {
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        // SIGTERM (a service manager, `timeout`) ends the interface as quitting does: its
        // calls are hung up first.
        let mut terminate = crate::sys::terminate_signal();
        loop {
            self.draw(terminal);
            if let Some(s) = &screens {
                publish_screen(s, &self.screen);
            }
            if self.quit {
                return Ok(());
            }
            tokio::select! {
                i = input.recv() => match i {
                    Some(Input::Term(ev)) => {
                        let jobs = self.on_term(ev);
                        self.execute(jobs, terminal);
                    }
                    Some(Input::Done(None)) | None => return Ok(()),
                    Some(Input::Done(Some(failure))) => return Err(failure),
                },
                e = self.events.recv() => {
                    let Some(e) = e else { return Ok(()) };
                    let jobs = self.on_session(e);
                    self.execute(jobs, terminal);
                }
                Some(n) = self.calls.recv() => self.on_call_news(n),
                Some(n) = self.news.recv() => {
                    let jobs = self.on_news(n);
                    self.execute(jobs, terminal);
                }
                Some(call) = next_ctl(&mut self.ctl) => self.on_ctl(call, terminal),
                Some(done) = self.tasks.join_next(), if !self.tasks.is_empty() => {
                    if let Err(e) = done {
                        tracing::warn!(error = %e, "a request task failed");
                    }
                }
                _ = tick.tick() => {
                    self.app.tick(chrono::Utc::now());
                    let jobs = self.app.idle_jobs();
                    self.execute(jobs, terminal);
                }
                () = crate::sys::terminated(&mut terminate) => return Ok(()),
            }
        }
    }

    /// Hangs up the calls still on (leaving with a call up would leave the other side in
    /// it until the server's grace period passed), then waits (a while) for the requests on
    /// their way and the calls' media to finish.
    async fn finish(&mut self) {
        hang_up_all(&self.client.clone(), self.phone.rooms()).await;
        let wait = async {
            while self.tasks.join_next().await.is_some() {}
            self.phone.shutdown().await;
        };
        if tokio::time::timeout(STOP_GRACE, wait).await.is_err() {
            tracing::warn!("requests still running at the end; abandoning them");
            self.tasks.abort_all();
        }
    }

    fn on_term(&mut self, ev: TermEvent) -> Vec<Job> {
        match ev {
            TermEvent::Key(k) => self.app.on_key(k),
            TermEvent::Mouse(m) => self.app.on_mouse(m),
            TermEvent::Paste(text) => self.app.on_paste(&text),
            TermEvent::Resize(width, height) => {
                if let Some(cast) = &self.cast {
                    if let Err(e) = cast.resize(width, height) {
                        tracing::warn!(error = %e, "recording the resize");
                    }
                }
                self.app.on_resize();
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn on_session(&mut self, e: Event) -> Vec<Job> {
        if let Event::Ready { .. } = &e {
            self.load();
        }
        self.phone.route(&e);
        let jobs = self.app.on_event(&e);
        if let Some((server, _)) = &self.ctl {
            if !matches!(e, Event::CallSignal { .. }) {
                server.publish(e);
            }
        }
        jobs
    }

    /// Runs `work` on a task of the loop's own; a failure is reported to the user.
    fn spawn_request<F>(&mut self, what: &'static str, work: F)
    where
        F: std::future::Future<Output = Result<(), ClientError>> + Send + 'static,
    {
        let news = self.news_tx.clone();
        self.tasks.spawn(async move {
            if let Err(e) = work.await {
                let _ = news.send(failed(what, &e));
            }
        });
    }

    /// Runs a request whose outcome answers a control request (when there is one) and is
    /// reported to the user when it fails.
    fn spawn_answered<F>(&mut self, what: &'static str, reply: Option<CtlReply>, work: F)
    where
        F: std::future::Future<Output = Result<Value, ClientError>> + Send + 'static,
    {
        let news = self.news_tx.clone();
        self.tasks.spawn(async move {
            let outcome = work.await;
            if let Err(e) = &outcome {
                let _ = news.send(failed(what, e));
            }
            if let Some(reply) = reply {
                let _ = reply.send(outcome.map_err(|e| failure(&e)));
            }
        });
    }

    fn load(&mut self) {
        let rest = self.rest.clone();
        let news = self.news_tx.clone();
        self.spawn_request("loading", async move {
            let me = rest.me().await?;
            let channels = rest.channels().await?;
            let users = rest.users(false).await?;
            // (Without the history the rest still works: it is only missing from the pane.)
            match rest.call_history(50, None, false).await {
                Ok(page) => {
                    let _ = news.send(News::RecentCalls(page));
                }
                Err(e) => tracing::warn!(error = %e, "no call history"),
            }
            match rest.contacts().await {
                Ok(contacts) => {
                    let _ = news.send(News::Contacts(contacts));
                }
                Err(e) => tracing::warn!(error = %e, "no address book"),
            }
            match rest.voicemails().await {
                Ok(mailbox) => {
                    let _ = news.send(News::Voicemail(mailbox.indicator));
                }
                Err(e) => tracing::warn!(error = %e, "no voicemail indicator"),
            }
            let _ = news.send(News::Loaded {
                me: me.user_id,
                channels,
                users,
            });
            Ok(())
        });
    }

    fn on_news(&mut self, n: News) -> Vec<Job> {
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
            News::RecentCalls(page) => {
                self.app.on_call_history_page(page);
                Vec::new()
            }
            News::Voicemail(indicator) => {
                self.app.on_voicemail_indicator(indicator);
                Vec::new()
            }
            News::Contacts(contacts) => {
                self.app.on_contacts(contacts);
                Vec::new()
            }
            News::Directory { text, users } => {
                self.app.on_directory(&text, users);
                Vec::new()
            }
            News::HistoryFailed {
                channel_id,
                code,
                detail,
            } => {
                self.app.on_history_failed(&channel_id, &code, &detail);
                Vec::new()
            }
            News::Found {
                channel_id,
                query,
                messages,
            } => {
                self.app.on_search_results(&channel_id, &query, &messages);
                Vec::new()
            }
            News::SearchFailed { code, detail } => {
                self.app.on_search_failed(&code, &detail);
                Vec::new()
            }
            News::Open(channel) => self.app.on_opened(*channel),
            News::Failed { what, code, detail } => {
                self.app.on_failure(what, &code, &detail);
                Vec::new()
            }
            News::AudioNotice { code, message } => {
                self.app.on_audio_fallback(&code, &message);
                Vec::new()
            }
            News::Mailbox(list) => {
                self.app.on_mailbox(list);
                Vec::new()
            }
            News::Link(url) => {
                self.app.on_link(&url);
                Vec::new()
            }
            News::Played(id) => {
                self.app.on_played(&id);
                Vec::new()
            }
            News::VoicemailLeft { who, seconds } => {
                self.app.on_voicemail_left(&who, seconds);
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
                    server.publish(InstanceEvent::Dtmf {
                        room_id: room,
                        digit: d,
                    });
                }
            }
            CallNews::Error(_, message) => self.app.on_failure("call", "call_failed", &message),
            CallNews::Media(..) | CallNews::Finished(..) => {}
        }
    }

    fn execute<W: Write>(&mut self, jobs: Vec<Job>, terminal: &mut Terminal<CrosstermBackend<W>>) {
        for job in jobs {
            self.run_job(job, None, terminal);
        }
    }

    /// Carries out one job; with `reply`, its outcome answers a control request.
    fn run_job<W: Write>(
        &mut self,
        job: Job,
        reply: Option<CtlReply>,
        terminal: &mut Terminal<CrosstermBackend<W>>,
    ) {
        let answer = |reply: Option<CtlReply>, outcome: Result<Value, CtlFailure>| {
            if let Some(reply) = reply {
                let _ = reply.send(outcome);
            }
        };
        match job {
            Job::Quit => {
                self.quit = true;
                answer(reply, Ok(json!({})));
            }
            Job::Bell => {
                let _ = terminal.backend_mut().write_all(b"\x07");
                let _ = terminal.backend_mut().flush();
                answer(reply, Ok(json!({})));
            }
            Job::Send { channel_id, text } | Job::Retry { channel_id, text } => {
                match self.client.queue_message(&channel_id, &text) {
                    Ok(client_id) => {
                        self.app.on_queued(&channel_id, &client_id, &text);
                        answer(reply, Ok(json!({"client_id": client_id})));
                    }
                    Err(e) => {
                        self.app.on_failure("send", e.code(), &e.detail());
                        answer(reply, Err(failure(&e)));
                    }
                }
            }
            Job::SendTo { target, text } => {
                let (rest, client) = (self.rest.clone(), self.client.clone());
                self.spawn_answered("send", reply, async move {
                    let channel_id = rest.resolve_target(&target).await?;
                    let message = client.send_message(&channel_id, &text).await?;
                    Ok(serde_json::to_value(&message).unwrap_or(Value::Null))
                });
            }
            Job::OpenChannel { channel_id } => self.history(channel_id, None, 50),
            Job::Search { channel_id, query } => self.search(channel_id, query),
            Job::CreateGroup { name, members } => {
                let (rest, news) = (self.rest.clone(), self.news_tx.clone());
                self.spawn_request("group", async move {
                    let channel = rest.create_group(&name, &members).await?;
                    let _ = news.send(News::Open(Box::new(channel)));
                    Ok(())
                });
            }
            Job::LoadOlder {
                channel_id,
                before_seq,
            } => self.history(channel_id, Some(before_seq), 100),
            Job::OpenDirect { user_id } => {
                let (rest, news) = (self.rest.clone(), self.news_tx.clone());
                self.spawn_answered("open", reply, async move {
                    let ch = rest.open_direct(&user_id).await?;
                    let value = json!({"channel_id": ch.channel_id});
                    let _ = news.send(News::Open(Box::new(ch)));
                    Ok(value)
                });
            }
            Job::MarkRead { channel_id, seq } => {
                let rest = self.rest.clone();
                self.spawn_answered("read", reply, async move {
                    let state = rest.mark_read(&channel_id, seq).await?;
                    Ok(serde_json::to_value(&state).unwrap_or(Value::Null))
                });
            }
            Job::DeleteCallLog { room_id } => {
                let rest = self.rest.clone();
                self.spawn_request("history", async move {
                    rest.delete_call_history(Some(&room_id)).await?;
                    Ok(())
                });
            }
            Job::MarkCallsSeen => {
                let rest = self.rest.clone();
                self.spawn_request("history", async move {
                    rest.mark_calls_seen().await?;
                    Ok(())
                });
            }
            job @ (Job::Dial { .. }
            | Job::Answer { .. }
            | Job::Ignore { .. }
            | Job::Forward { .. }
            | Job::Transfer { .. }
            | Job::ConnectCalls { .. }
            | Job::Decline { .. }
            | Job::Hangup { .. }
            | Job::Hold { .. }
            | Job::Mute { .. }
            | Job::Dtmf { .. }
            | Job::Ring { .. }) => self.call_job(job, reply),
            job @ (Job::SetPresence { .. }
            | Job::SearchDirectory { .. }
            | Job::AddContact { .. }
            | Job::RemoveContact { .. }) => self.people_job(job, reply),
            job @ (Job::LoadMailbox
            | Job::PlayVoicemail { .. }
            | Job::StopPlayback
            | Job::DeleteVoicemail { .. }
            | Job::RecordVoicemail { .. }
            | Job::FinishRecording { .. }) => self.voicemail_job(job),
            Job::MakeLink { room_id, for_user } => {
                let (rest, news) = (self.rest.clone(), self.news_tx.clone());
                self.spawn_answered("link", reply, async move {
                    let link = rest.create_link(&room_id, for_user.as_deref()).await?;
                    let _ = news.send(News::Link(link.url.clone()));
                    Ok(serde_json::to_value(&link).unwrap_or(Value::Null))
                });
            }
        }
    }

    fn history(&mut self, channel_id: String, before: Option<u64>, count: u32) {
        let (rest, news) = (self.rest.clone(), self.news_tx.clone());
        self.tasks.spawn(async move {
            let page = rest
                .history(&channel_id, count, before, Direction::Backwards)
                .await;
            let _ = news.send(match page {
                Ok(page) => News::History {
                    channel_id,
                    complete: !page.has_more,
                    messages: page.messages,
                },
                Err(e) => News::HistoryFailed {
                    channel_id,
                    code: e.code().to_owned(),
                    detail: e.detail(),
                },
            });
        });
    }

    fn search(&mut self, channel_id: String, query: String) {
        let (rest, news) = (self.rest.clone(), self.news_tx.clone());
        self.tasks.spawn(async move {
            let page = rest.search(&channel_id, &query, 50, None).await;
            let _ = news.send(match page {
                Ok(page) => News::Found {
                    channel_id,
                    query,
                    messages: page.messages,
                },
                Err(e) => News::SearchFailed {
                    code: e.code().to_owned(),
                    detail: e.detail(),
                },
            });
        });
    }

    /// A request from the control socket: the interface decides, the jobs run, and the
    /// last job's outcome is the reply.
    fn on_ctl<W: Write>(&mut self, call: CtlCall, terminal: &mut Terminal<CrosstermBackend<W>>) {
        let CtlCall { request, reply } = call;
        match self.app.on_ctl(&request) {
            CtlPlan::Reply(outcome) => {
                let _ = reply.send(outcome);
            }
            CtlPlan::Run(mut jobs) => {
                let last = jobs.pop();
                self.execute(jobs, terminal);
                match last {
                    Some(job) => self.run_job(job, Some(reply), terminal),
                    None => {
                        let _ = reply.send(Ok(json!({})));
                    }
                }
            }
        }
    }
}

/// Hangs up `rooms` on the way out, each within the stop grace.
async fn hang_up_all(client: &Client, rooms: Vec<String>) {
    for room in rooms {
        let outcome = tokio::time::timeout(STOP_GRACE, client.hangup(&room)).await;
        tracing::info!(%room, ?outcome, "hung up on the way out");
    }
}
