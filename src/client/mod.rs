//! The async client core: commands in, events out, no knowledge of any terminal.
//!
//! [`Client::start`] spawns the session task, which keeps one WebSocket to the server alive
//! (tokens from a [`TokenSource`], reconnects on the reference schedule, resumes chat from
//! its cursors) and returns a handle plus an event stream. The TUI, the CLI subcommands and
//! the control socket are front ends over this one API.

pub mod call;
pub mod rest;
pub mod session;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::proto::{
    ApiError, Call, Channel, ClientFrame, Credentials, DeclineReason, EndReason, ErrorCode,
    Message, Presence, ReadState, ServerFrame, Signal,
};
pub use rest::Rest;
use session::{
    ConnectionState, Cursors, Outbox, PendingMessage, ReconnectPolicy, TokenRetryPolicy,
};

#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error code.
    #[error("{0}")]
    Api(ApiError),
    /// The server could not be reached.
    #[error("server unreachable: {0}")]
    Unreachable(String),
    /// The token provider failed or timed out.
    #[error("could not get an access token: {0}")]
    Token(String),
    /// The server answered something that is not our protocol.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// Local settings are missing or wrong.
    #[error("{0}")]
    Config(String),
    /// The client was stopped (or gave up) before the request finished.
    #[error("the client has stopped")]
    Closed,
}

impl ClientError {
    /// A stable code for scripts: the server's code, or one of `server_unreachable`,
    /// `token_unavailable`, `protocol_error`, `config_error`, `client_closed`.
    pub fn code(&self) -> &str {
        match self {
            ClientError::Api(e) => e.code.as_str(),
            ClientError::Unreachable(_) => "server_unreachable",
            ClientError::Token(_) => "token_unavailable",
            ClientError::Protocol(_) => "protocol_error",
            ClientError::Config(_) => "config_error",
            ClientError::Closed => "client_closed",
        }
    }

    pub fn api_code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Api(e) => Some(e.code),
            _ => None,
        }
    }

    pub(crate) fn from_reqwest(e: &reqwest::Error) -> Self {
        // reqwest's own text ("error sending request for url ...") says nothing of why;
        // the causes below it do ("Connection refused", "invalid peer certificate: ...").
        let mut text = e.to_string();
        let mut cause = std::error::Error::source(e);
        while let Some(c) = cause {
            let part = c.to_string();
            if !text.contains(&part) {
                text = format!("{text}: {part}");
            }
            cause = c.source();
        }
        if e.is_connect() || e.is_timeout() || e.is_request() {
            ClientError::Unreachable(text)
        } else {
            ClientError::Protocol(text)
        }
    }
}

type ProviderFn = dyn Fn() -> BoxFuture<'static, Result<String, String>> + Send + Sync;

/// Where access tokens come from.
#[derive(Clone)]
pub enum TokenSource {
    /// One fixed token: the session ends when it expires.
    Static(String),
    /// A shell command that prints a fresh token (or the JSON of `POST /v1/admin/credentials`).
    Command(String),
    /// Any async function (used by `parla demo` and tests, which mint tokens in-process).
    Provider(Arc<ProviderFn>),
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenSource::Static(_) => f.write_str("Static(..)"),
            TokenSource::Command(c) => write!(f, "Command({c:?})"),
            TokenSource::Provider(_) => f.write_str("Provider(..)"),
        }
    }
}

impl TokenSource {
    pub fn provider<F, Fut>(f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<String, String>> + Send + 'static,
    {
        TokenSource::Provider(Arc::new(move || Box::pin(f())))
    }

    /// True when asking again can give a different token.
    pub fn renewable(&self) -> bool {
        !matches!(self, TokenSource::Static(_))
    }

    /// One attempt, bounded by `timeout`.
    pub async fn fetch(&self, timeout: Duration) -> Result<String, ClientError> {
        let fut = async {
            match self {
                TokenSource::Static(t) => Ok(t.clone()),
                TokenSource::Command(cmd) => run_token_command(cmd).await,
                TokenSource::Provider(f) => f().await,
            }
        };
        match tokio::time::timeout(timeout, fut).await {
            Ok(Ok(t)) if !t.trim().is_empty() => Ok(t.trim().to_owned()),
            Ok(Ok(_)) => Err(ClientError::Token(
                "the token source gave an empty token".into(),
            )),
            Ok(Err(e)) => Err(ClientError::Token(e)),
            Err(_) => Err(ClientError::Token(format!(
                "no token within {} s",
                timeout.as_secs()
            ))),
        }
    }

    /// Up to three attempts on the reference schedule.
    pub async fn fetch_with_retry(&self, policy: &TokenRetryPolicy) -> Result<String, ClientError> {
        let mut last = ClientError::Token("no attempt made".into());
        let mut attempt = 1;
        loop {
            let jitter: f64 = rand::rng().random();
            let Some(delay) = policy.delay(attempt, jitter) else {
                break;
            };
            tokio::time::sleep(delay).await;
            match self.fetch(policy.timeout).await {
                Ok(t) => return Ok(t),
                Err(e) => {
                    tracing::warn!(attempt, error = %e, "token attempt failed");
                    last = e;
                }
            }
            if !self.renewable() {
                break;
            }
            attempt += 1;
        }
        Err(last)
    }
}

async fn run_token_command(cmd: &str) -> Result<String, String> {
    let out = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| format!("cannot run token command: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "token command exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    // Accept the JSON that `parla admin token --json` prints, as well as a bare token.
    if text.starts_with('{') {
        let creds: Credentials = serde_json::from_str(&text)
            .map_err(|e| format!("token command printed JSON without access_token: {e}"))?;
        return Ok(creds.access_token);
    }
    Ok(text)
}

/// Reads `exp` from a JWT without verifying it (the server does that), to know when to
/// refresh.
pub fn token_expiry(token: &str) -> Option<DateTime<Utc>> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    DateTime::from_timestamp(v.get("exp")?.as_i64()?, 0)
}

#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub server: String,
    pub token: TokenSource,
    /// Stable id of this device (presence shows one entry per device).
    pub device_id: String,
    pub device_name: String,
    pub reconnect: ReconnectPolicy,
    pub token_retry: TokenRetryPolicy,
    /// Subscribe to everyone's presence after connecting.
    pub presence: bool,
    /// Silence after which the connection is presumed dead.
    pub keepalive: Duration,
    /// Extra certificate authorities (PEM) for a server with a private certificate.
    pub ca_file: Option<std::path::PathBuf>,
    /// A call answered but without media this long (set-up failed, or the path went and
    /// ICE could not bring it back) is ended with `error`, not left hanging.
    pub media_timeout: Duration,
}

impl ClientConfig {
    pub fn new(server: impl Into<String>, token: TokenSource) -> Self {
        ClientConfig {
            server: server.into(),
            token,
            device_id: format!("dev_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
            device_name: default_device_name(),
            reconnect: ReconnectPolicy::default(),
            token_retry: TokenRetryPolicy::default(),
            presence: true,
            keepalive: Duration::from_secs(30),
            ca_file: None,
            media_timeout: Duration::from_secs(30),
        }
    }
}

fn default_device_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "terminal".into());
    format!("parla@{host}")
}

/// Everything the session reports, in the order it happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Connection {
        #[serde(flatten)]
        state: ConnectionState,
    },
    Ready {
        user_id: String,
        device_id: String,
        expires_at: DateTime<Utc>,
    },
    /// A message from someone else, or from another device of ours; live or caught up.
    Message {
        message: Message,
    },
    /// A message we sent is stored, with its server id and sequence number.
    MessageSent {
        message: Message,
    },
    /// A message we sent was refused and will not be retried.
    MessageFailed {
        client_id: String,
        channel_id: String,
        code: String,
        error: String,
    },
    ChannelAdded {
        channel: Channel,
    },
    ChannelRemoved {
        channel_id: String,
    },
    Read {
        #[serde(flatten)]
        state: ReadState,
    },
    Presence {
        presence: Presence,
    },
    TokenAboutToExpire {
        expires_at: DateTime<Utc>,
    },
    TokenRefreshed {
        expires_at: DateTime<Utc>,
    },
    /// The user was deleted on the server; the session ends.
    ForceDisconnect {
        reason: String,
    },
    /// A call rings on this device.
    CallIncoming {
        call: Call,
    },
    /// A call of this device changed state (dialing, ringing, connecting, connected, on
    /// hold, ended with its reason).
    Call {
        view: call::CallView,
    },
    /// Signaling from another party, for the media layer.
    CallSignal {
        room_id: String,
        from_user: String,
        from_device: String,
        signal: Signal,
    },
    /// A resume finished; `replayed` messages were caught up.
    Resumed {
        replayed: u64,
    },
}

type Reply = oneshot::Sender<Result<Call, ClientError>>;

enum Command {
    Send {
        pending: PendingMessage,
        done: Option<oneshot::Sender<Result<Message, ClientError>>>,
    },
    /// A call request, answered by `call_updated` or `error` with the same `req_id`.
    CallRequest {
        req_id: String,
        frame: ClientFrame,
        done: Reply,
    },
    /// A frame that expects no answer (signaling).
    Frame(ClientFrame),
    /// The media layer reports media up/down or hold for a call.
    Media {
        room_id: String,
        change: MediaChange,
    },
    Stop,
}

/// What the media layer tells the session about a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaChange {
    /// Media with the named party went up or down.
    Up {
        leg: String,
        up: bool,
    },
    LocalHold(bool),
    /// The named party held or resumed.
    RemoteHold {
        leg: String,
        hold: bool,
    },
}

/// Handle to a running session. Cloning is cheap; the session stops when [`Client::stop`]
/// is called or every handle is dropped.
#[derive(Clone)]
pub struct Client {
    commands: mpsc::UnboundedSender<Command>,
    rest: Rest,
}

impl Client {
    /// Starts the session task; events arrive on the returned receiver.
    pub fn start(
        config: ClientConfig,
    ) -> Result<(Client, mpsc::UnboundedReceiver<Event>), ClientError> {
        let rest = Rest::with_ca_file(&config.server, config.ca_file.as_deref())?;
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let session = Session {
            config,
            rest: rest.clone(),
            events: ev_tx,
            commands: cmd_rx,
            cursors: Cursors::default(),
            outbox: Outbox::default(),
            waiters: Vec::new(),
            token: None,
            connected_once: false,
            user_id: String::new(),
            requests: Vec::new(),
            retry_at: None,
            hangups: std::collections::HashMap::new(),
            calls: std::collections::HashMap::new(),
        };
        tokio::spawn(session.run());
        Ok((
            Client {
                commands: cmd_tx,
                rest,
            },
            ev_rx,
        ))
    }

    /// REST access with the session's current token.
    pub fn rest(&self) -> &Rest {
        &self.rest
    }

    /// Queues a message and returns its `client_id` at once; `MessageSent` or
    /// `MessageFailed` follows. Queued messages survive disconnections.
    pub fn queue_message(&self, channel_id: &str, text: &str) -> Result<String, ClientError> {
        let client_id = uuid::Uuid::new_v4().to_string();
        self.commands
            .send(Command::Send {
                pending: PendingMessage {
                    client_id: client_id.clone(),
                    channel_id: channel_id.to_owned(),
                    text: text.to_owned(),
                },
                done: None,
            })
            .map_err(|_| ClientError::Closed)?;
        Ok(client_id)
    }

    /// Sends a message and waits until the server stores it (however many reconnects that
    /// takes) or refuses it.
    pub async fn send_message(&self, channel_id: &str, text: &str) -> Result<Message, ClientError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Send {
                pending: PendingMessage {
                    client_id: uuid::Uuid::new_v4().to_string(),
                    channel_id: channel_id.to_owned(),
                    text: text.to_owned(),
                },
                done: Some(tx),
            })
            .map_err(|_| ClientError::Closed)?;
        rx.await.map_err(|_| ClientError::Closed)?
    }

    pub fn stop(&self) {
        let _ = self.commands.send(Command::Stop);
    }

    async fn call_request(
        &self,
        make: impl FnOnce(Option<String>) -> ClientFrame,
    ) -> Result<Call, ClientError> {
        let req_id = uuid::Uuid::new_v4().to_string();
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::CallRequest {
                frame: make(Some(req_id.clone())),
                req_id,
                done: tx,
            })
            .map_err(|_| ClientError::Closed)?;
        rx.await.map_err(|_| ClientError::Closed)?
    }

    /// Calls one to three users; returns the new call (their devices ring).
    pub async fn dial(&self, callees: &[String]) -> Result<Call, ClientError> {
        let callees = callees.to_vec();
        self.call_request(|req_id| ClientFrame::CallDial { req_id, callees })
            .await
    }

    pub async fn answer(&self, room_id: &str) -> Result<Call, ClientError> {
        let room_id = room_id.to_owned();
        self.call_request(|req_id| ClientFrame::CallAnswer { req_id, room_id })
            .await
    }

    pub async fn decline(&self, room_id: &str, reason: DeclineReason) -> Result<Call, ClientError> {
        let room_id = room_id.to_owned();
        self.call_request(|req_id| ClientFrame::CallDecline {
            req_id,
            room_id,
            reason,
        })
        .await
    }

    /// Hangs up (or cancels an outgoing call that still rings, or declines one ringing).
    pub async fn hangup(&self, room_id: &str) -> Result<Call, ClientError> {
        let room_id = room_id.to_owned();
        self.call_request(|req_id| ClientFrame::CallHangup { req_id, room_id })
            .await
    }

    /// Relays WebRTC signaling to another party of a call.
    pub fn signal(&self, room_id: &str, to_user: &str, signal: Signal) -> Result<(), ClientError> {
        self.commands
            .send(Command::Frame(ClientFrame::CallSignal {
                room_id: room_id.to_owned(),
                to_user: to_user.to_owned(),
                signal,
            }))
            .map_err(|_| ClientError::Closed)
    }

    /// Reports media changes of a call, which move its visible state.
    pub fn media_changed(&self, room_id: &str, change: MediaChange) {
        let _ = self.commands.send(Command::Media {
            room_id: room_id.to_owned(),
            change,
        });
    }
}

struct Session {
    config: ClientConfig,
    rest: Rest,
    events: mpsc::UnboundedSender<Event>,
    commands: mpsc::UnboundedReceiver<Command>,
    cursors: Cursors,
    outbox: Outbox,
    waiters: Vec<(String, oneshot::Sender<Result<Message, ClientError>>)>,
    /// The token in use and when it expires.
    token: Option<(String, Option<DateTime<Utc>>)>,
    connected_once: bool,
    /// Who the server says we are (from `ready`).
    user_id: String,
    /// Call requests waiting for their answer.
    requests: Vec<(String, Reply)>,
    /// Calls of this device, by room id.
    calls: std::collections::HashMap<String, call::CallView>,
    /// When messages refused with `rate_limited` are sent again.
    retry_at: Option<Instant>,
    /// Hang-up requests in flight: their room, by request id.
    hangups: std::collections::HashMap<String, String>,
}

type WsStream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Why a connection ended.
enum Ended {
    /// Lost or closed by the server: reconnect.
    Lost,
    /// The token expired or was refused: get a new one, then reconnect at once.
    TokenRejected(ClientError),
    /// Stop for good.
    Fatal(ClientError),
    Stopped,
}

impl Session {
    fn emit(&self, e: Event) {
        let _ = self.events.send(e);
    }

    fn state(&self, s: ConnectionState) {
        self.emit(Event::Connection { state: s });
    }

    #[allow(clippy::cognitive_complexity)] // split into the sans-IO session next
    async fn run(mut self) {
        let mut attempt: u32 = 0;
        let mut rejections: u32 = 0;
        loop {
            if attempt > 0 {
                let jitter: f64 = rand::rng().random();
                let delay = self.config.reconnect.delay(attempt, jitter);
                self.state(ConnectionState::Reconnecting {
                    attempt,
                    retry_in_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                });
                if !self.idle(delay).await {
                    return self.finish(ConnectionState::Closed, ClientError::Closed);
                }
            } else {
                self.state(ConnectionState::Connecting);
            }
            let ended = match self.current_token().await {
                Ok(token) => match self.connect(&token).await {
                    Ok(ws) => {
                        attempt = 0;
                        rejections = 0;
                        let ended = self.serve(ws).await;
                        for (_, done) in self.requests.drain(..) {
                            let e = ClientError::Unreachable("the connection was lost".into());
                            let _ = done.send(Err(e));
                        }
                        self.hangups.clear();
                        ended
                    }
                    Err(e) => match e.api_code() {
                        Some(code) if code.is_auth() => Ended::TokenRejected(e),
                        Some(ErrorCode::UserNotFound) => Ended::Fatal(e),
                        _ => {
                            tracing::info!(error = %e, "connection attempt failed");
                            Ended::Lost
                        }
                    },
                },
                Err(e) => {
                    tracing::warn!(error = %e, "no token");
                    if self.config.token.renewable() {
                        Ended::Lost
                    } else {
                        Ended::Fatal(e)
                    }
                }
            };
            match ended {
                Ended::Stopped => {
                    return self.finish(ConnectionState::Closed, ClientError::Closed);
                }
                Ended::Fatal(e) => {
                    let state = ConnectionState::Failed {
                        code: e.code().to_owned(),
                        message: e.to_string(),
                    };
                    return self.finish(state, e);
                }
                Ended::TokenRejected(e) => {
                    self.token = None;
                    if !self.config.token.renewable() {
                        let e = match e {
                            ClientError::Api(a) => ClientError::Api(ApiError::new(
                                a.code,
                                format!("{} (no --token-cmd is set to renew it)", a.message),
                            )),
                            other => other,
                        };
                        let state = ConnectionState::Failed {
                            code: e.code().to_owned(),
                            message: e.to_string(),
                        };
                        return self.finish(state, e);
                    }
                    // The first refusal in a row is retried at once with a fresh token;
                    // a fresh token refused again waits on the backoff schedule.
                    rejections += 1;
                    if rejections == 1 {
                        attempt = 0;
                        continue;
                    }
                }
                Ended::Lost => {}
            }
            attempt = attempt.saturating_add(1);
        }
    }

    /// Fails everything still waiting and reports the final state.
    fn finish(&mut self, state: ConnectionState, error: ClientError) {
        for p in self.outbox.drain() {
            self.emit(Event::MessageFailed {
                client_id: p.client_id,
                channel_id: p.channel_id,
                code: error.code().to_owned(),
                error: error.to_string(),
            });
        }
        for (_, w) in self.waiters.drain(..) {
            let _ = w.send(Err(error.clone()));
        }
        self.state(state);
    }

    /// Waits `delay` while queueing commands; false when asked to stop.
    async fn idle(&mut self, delay: Duration) -> bool {
        let deadline = Instant::now() + delay;
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => return true,
                cmd = self.commands.recv() => match cmd {
                    Some(Command::Send { pending, done }) => self.enqueue(pending, done),
                    Some(Command::CallRequest { done, .. }) => {
                        let e = ClientError::Unreachable("not connected to the server".into());
                        let _ = done.send(Err(e));
                    }
                    Some(Command::Frame(_)) => {}
                    Some(Command::Media { room_id, change }) => self.on_media(&room_id, change),
                    Some(Command::Stop) | None => return false,
                },
            }
        }
    }

    fn enqueue(
        &mut self,
        pending: PendingMessage,
        done: Option<oneshot::Sender<Result<Message, ClientError>>>,
    ) {
        if let Some(tx) = done {
            self.waiters.push((pending.client_id.clone(), tx));
        }
        self.outbox.push(pending);
    }

    async fn current_token(&mut self) -> Result<String, ClientError> {
        if let Some((t, exp)) = &self.token {
            let fresh = exp.is_none_or(|e| e > Utc::now() + chrono::Duration::seconds(5));
            if fresh {
                return Ok(t.clone());
            }
        }
        let t = self
            .config
            .token
            .fetch_with_retry(&self.config.token_retry)
            .await?;
        self.rest.set_token(t.clone());
        self.token = Some((t.clone(), token_expiry(&t)));
        Ok(t)
    }

    async fn connect(&self, token: &str) -> Result<WsStream, ClientError> {
        let mut url = self
            .rest
            .base()
            .join("/v1/ws")
            .map_err(|e| ClientError::Config(e.to_string()))?;
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        url.set_scheme(scheme)
            .map_err(|()| ClientError::Config("cannot build the WebSocket address".into()))?;
        url.query_pairs_mut()
            .append_pair("device_id", &self.config.device_id)
            .append_pair("device_name", &self.config.device_name);
        let mut req = url
            .as_str()
            .into_client_request()
            .map_err(|e| ClientError::Config(e.to_string()))?;
        let header = format!("Bearer {token}")
            .parse()
            .map_err(|_| ClientError::Token("the token is not valid header text".into()))?;
        req.headers_mut().insert("authorization", header);
        // No Nagle: a frame must not wait for the server's delayed ACK of the one before.
        let connect = tokio_tungstenite::connect_async_tls_with_config(
            req,
            None,
            true,
            Some(self.rest.ws_connector()),
        );
        match tokio::time::timeout(Duration::from_secs(15), connect).await {
            Err(_) => Err(ClientError::Unreachable("connecting timed out".into())),
            Ok(Ok((ws, _))) => Ok(ws),
            Ok(Err(tokio_tungstenite::tungstenite::Error::Http(resp))) => {
                let body = resp
                    .body()
                    .as_ref()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default();
                Err(ClientError::Api(rest::api_error_from(resp.status(), &body)))
            }
            Ok(Err(e)) => Err(ClientError::Unreachable(e.to_string())),
        }
    }

    async fn send_frame(ws: &mut WsStream, frame: &ClientFrame) -> bool {
        match serde_json::to_string(frame) {
            Ok(text) => ws.send(WsMessage::text(text)).await.is_ok(),
            Err(_) => false,
        }
    }

    /// Runs one connection until it ends.
    #[allow(clippy::cognitive_complexity)] // split into the sans-IO session next
    async fn serve(&mut self, mut ws: WsStream) -> Ended {
        // The first frame is `ready`.
        let ready = match tokio::time::timeout(Duration::from_secs(15), ws.next()).await {
            Ok(Some(Ok(WsMessage::Text(t)))) => serde_json::from_str::<ServerFrame>(t.as_str()),
            _ => return Ended::Lost,
        };
        match ready {
            Ok(ServerFrame::Ready {
                user_id,
                device_id,
                expires_at,
                channels,
                ..
            }) => {
                if let Some((_, exp)) = &mut self.token {
                    *exp = Some(expires_at);
                }
                if !self.connected_once {
                    // Everything up to now is history; start live from here.
                    for (ch, seq) in &channels {
                        self.cursors.know(ch, *seq);
                    }
                }
                self.user_id.clone_from(&user_id);
                self.state(ConnectionState::Connected);
                self.emit(Event::Ready {
                    user_id,
                    device_id,
                    expires_at,
                });
            }
            Ok(ServerFrame::Error { code, message, .. }) => {
                return Ended::Fatal(ClientError::Api(ApiError::new(code, message)))
            }
            _ => return Ended::Lost,
        }
        if self.connected_once {
            let resume = ClientFrame::Resume {
                cursors: self.cursors.resume_map(),
            };
            if !Self::send_frame(&mut ws, &resume).await {
                return Ended::Lost;
            }
        }
        self.connected_once = true;
        if self.config.presence
            && !Self::send_frame(&mut ws, &ClientFrame::SubscribePresence { users: None }).await
        {
            return Ended::Lost;
        }
        // Queued messages go out in order; the server drops repeats of a client_id.
        let queued: Vec<ClientFrame> = self.outbox.pending().map(send_frame_of).collect();
        // Everything queued goes out now, the messages refused for now included.
        self.outbox.take_deferred();
        self.retry_at = None;
        for f in &queued {
            if !Self::send_frame(&mut ws, f).await {
                return Ended::Lost;
            }
        }

        let mut last_heard = Instant::now();
        let mut tick = tokio::time::interval(self.config.keepalive / 3);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let (refresh_tx, mut refresh_rx) = mpsc::channel::<Result<String, ClientError>>(1);
        loop {
            let media_deadline = self.media_deadline();
            // Cancel safety: `recv` and `next` lose nothing when another branch wins.
            tokio::select! {
                cmd = self.commands.recv() => match cmd {
                    Some(Command::Send { pending, done }) => {
                        let frame = send_frame_of(&pending);
                        self.enqueue(pending, done);
                        if !Self::send_frame(&mut ws, &frame).await {
                            return Ended::Lost;
                        }
                    }
                    Some(Command::CallRequest { req_id, frame, done }) => {
                        if let ClientFrame::CallHangup { room_id, .. } = &frame {
                            self.hangups.insert(req_id.clone(), room_id.clone());
                        }
                        self.requests.push((req_id, done));
                        if !Self::send_frame(&mut ws, &frame).await {
                            return Ended::Lost;
                        }
                    }
                    Some(Command::Frame(frame)) => {
                        if !Self::send_frame(&mut ws, &frame).await {
                            return Ended::Lost;
                        }
                    }
                    Some(Command::Media { room_id, change }) => self.on_media(&room_id, change),
                    Some(Command::Stop) | None => {
                        let _ = ws.close(None).await;
                        return Ended::Stopped;
                    }
                },
                incoming = ws.next() => {
                    last_heard = Instant::now();
                    let text = match incoming {
                        Some(Ok(WsMessage::Text(t))) => t,
                        Some(Ok(WsMessage::Close(_)) | Err(_)) | None => return Ended::Lost,
                        Some(Ok(_)) => continue,
                    };
                    let frame = match serde_json::from_str::<ServerFrame>(text.as_str()) {
                        Ok(f) => f,
                        Err(e) => {
                            tracing::warn!(error = %e, "ignoring a frame parla does not understand");
                            continue;
                        }
                    };
                    if let Some(ended) = self.on_frame(frame, &refresh_tx) {
                        return ended;
                    }
                },
                refreshed = refresh_rx.recv() => {
                    match refreshed {
                        Some(Ok(token)) => {
                            self.rest.set_token(token.clone());
                            self.token = Some((token.clone(), token_expiry(&token)));
                            if !Self::send_frame(&mut ws, &ClientFrame::RefreshToken { access_token: token }).await {
                                return Ended::Lost;
                            }
                        }
                        Some(Err(e)) => tracing::warn!(error = %e, "token refresh failed; reconnecting when it expires"),
                        None => {}
                    }
                },
                () = tokio::time::sleep_until(media_deadline.unwrap_or_else(Instant::now)), if media_deadline.is_some() => {
                    for room_id in self.calls_without_media() {
                        tracing::warn!(room = %room_id, "no media for too long; ending the call");
                        self.end_locally(&room_id, EndReason::Error);
                        let hangup = ClientFrame::CallHangup { req_id: None, room_id };
                        if !Self::send_frame(&mut ws, &hangup).await {
                            return Ended::Lost;
                        }
                    }
                },
                () = tokio::time::sleep_until(self.retry_at.unwrap_or_else(Instant::now)), if self.retry_at.is_some() => {
                    self.retry_at = None;
                    for pending in self.outbox.take_deferred() {
                        if !Self::send_frame(&mut ws, &send_frame_of(&pending)).await {
                            return Ended::Lost;
                        }
                    }
                },
                _ = tick.tick() => {
                    if last_heard.elapsed() > self.config.keepalive {
                        tracing::info!("no traffic from the server; reconnecting");
                        return Ended::Lost;
                    }
                    if !Self::send_frame(&mut ws, &ClientFrame::Ping { req_id: None }).await {
                        return Ended::Lost;
                    }
                },
            }
        }
    }

    /// Handles one server frame; `Some` ends the connection.
    #[allow(clippy::cognitive_complexity)] // split into the sans-IO session next
    fn on_frame(
        &mut self,
        frame: ServerFrame,
        refresh: &mpsc::Sender<Result<String, ClientError>>,
    ) -> Option<Ended> {
        match frame {
            ServerFrame::Message { message } => {
                if !self.cursors.accept(&message.channel_id, message.seq) {
                    return None;
                }
                // One of ours whose ack was lost with a connection, caught up by `resume`:
                // it counts as the ack, so the application sees it once.
                if message.sender == self.user_id
                    && self.outbox.settle(&message.client_id).is_some()
                {
                    self.resolve(&message.client_id, Ok(message.clone()));
                    self.emit(Event::MessageSent { message });
                } else {
                    self.emit(Event::Message { message });
                }
            }
            ServerFrame::Ack { req_id, message } => {
                let client_id = req_id.unwrap_or_else(|| message.client_id.clone());
                if self.outbox.settle(&client_id).is_some() {
                    self.cursors.accept(&message.channel_id, message.seq);
                    self.resolve(&client_id, Ok(message.clone()));
                    self.emit(Event::MessageSent { message });
                }
            }
            ServerFrame::Error {
                req_id: Some(req_id),
                code: ErrorCode::RateLimited,
                retry_after_ms,
                ..
            } if self.outbox.defer(&req_id) => {
                // Refused for now: the message stays queued and goes out again after the
                // server's hint (a second at most when it gave none).
                let wait = Duration::from_millis(retry_after_ms.unwrap_or(1000).clamp(10, 60_000));
                let at = Instant::now() + wait;
                self.retry_at = Some(self.retry_at.map_or(at, |t| t.max(at)));
            }
            ServerFrame::Error {
                req_id: Some(req_id),
                code,
                message,
                retry_after_ms,
            } if self.requests.iter().any(|(id, _)| *id == req_id) => {
                if let Some(room_id) = self.hangups.remove(&req_id) {
                    if matches!(code, ErrorCode::CallNotFound | ErrorCode::InvalidCallStatus) {
                        // The server no longer has the call (it restarted, or the call
                        // ended meanwhile): hanging up ends it here all the same.
                        self.end_locally(&room_id, EndReason::HangUp);
                    }
                }
                let err = ClientError::Api(ApiError {
                    retry_after_ms,
                    ..ApiError::new(code, message)
                });
                self.answer_request(&req_id, Err(err));
            }
            ServerFrame::Error {
                req_id: Some(req_id),
                code,
                message,
                ..
            } if code != ErrorCode::MessageNotSaved => {
                // A definite refusal of a queued message: retrying cannot help.
                if let Some(p) = self.outbox.settle(&req_id) {
                    let err = ApiError::new(code, message.clone());
                    self.resolve(&req_id, Err(ClientError::Api(err)));
                    self.emit(Event::MessageFailed {
                        client_id: p.client_id,
                        channel_id: p.channel_id,
                        code: code.as_str().to_owned(),
                        error: message,
                    });
                }
            }
            ServerFrame::Error { code, message, .. } => {
                // `message_not_saved` stays queued and goes out again after a reconnect.
                tracing::warn!(%code, %message, "server reported an error");
                if code.is_auth() {
                    return Some(Ended::TokenRejected(ClientError::Api(ApiError::new(
                        code, message,
                    ))));
                }
            }
            ServerFrame::ChannelAdded { channel } => {
                // Messages of a channel new to us are wanted from its start.
                self.cursors.know(&channel.channel_id, 0);
                self.emit(Event::ChannelAdded { channel });
            }
            ServerFrame::ChannelRemoved { channel_id, .. } => {
                self.cursors.forget(&channel_id);
                self.emit(Event::ChannelRemoved { channel_id });
            }
            ServerFrame::Read { state, .. } => self.emit(Event::Read { state }),
            ServerFrame::Presence { presence } => self.emit(Event::Presence { presence }),
            ServerFrame::Resumed { replayed } => self.emit(Event::Resumed { replayed }),
            ServerFrame::TokenAboutToExpire { expires_at } => {
                self.emit(Event::TokenAboutToExpire { expires_at });
                if self.config.token.renewable() {
                    let source = self.config.token.clone();
                    let policy = self.config.token_retry.clone();
                    let tx = refresh.clone();
                    tokio::spawn(async move {
                        let _ = tx.send(source.fetch_with_retry(&policy).await).await;
                    });
                }
            }
            ServerFrame::TokenRefreshed { expires_at } => {
                self.emit(Event::TokenRefreshed { expires_at });
            }
            ServerFrame::TokenExpired => {
                return Some(Ended::TokenRejected(ClientError::Api(ApiError::new(
                    ErrorCode::AccessTokenExpired,
                    "the access token expired",
                ))))
            }
            ServerFrame::ForceDisconnect { reason } => {
                self.emit(Event::ForceDisconnect {
                    reason: reason.clone(),
                });
                return Some(Ended::Fatal(ClientError::Api(ApiError::new(
                    ErrorCode::UserNotFound,
                    format!("disconnected by the server: {reason}"),
                ))));
            }
            ServerFrame::Ready { .. } | ServerFrame::Pong { .. } => {}
            ServerFrame::CallIncoming { call } => {
                let view = call::CallView::incoming(call.clone(), &self.user_id);
                self.calls.insert(call.room_id.clone(), view.clone());
                self.emit(Event::CallIncoming { call });
                self.emit(Event::Call { view });
            }
            ServerFrame::CallUpdated { req_id, call } => {
                if let Some(req_id) = req_id {
                    self.answer_request(&req_id, Ok(call.clone()));
                }
                self.on_call_update(call);
            }
            ServerFrame::CallEnded { call, reason } => {
                let room_id = call.room_id.clone();
                if let Some(view) = self.calls.get_mut(&room_id) {
                    view.call = call;
                    if view.on_ended(reason, Utc::now()).is_some() {
                        let view = view.clone();
                        self.emit(Event::Call { view });
                    }
                }
                self.calls.remove(&room_id);
            }
            ServerFrame::CallSignal {
                room_id,
                from_user,
                from_device,
                signal,
            } => self.emit(Event::CallSignal {
                room_id,
                from_user,
                from_device,
                signal,
            }),
        }
        None
    }

    /// Settles a call request; false when no request had this id.
    fn media_limit(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.config.media_timeout).unwrap_or(chrono::Duration::MAX)
    }

    /// When the first call still without media is to be given up.
    fn media_deadline(&self) -> Option<Instant> {
        let since = self
            .calls
            .values()
            .filter(|v| !v.is_ended())
            .filter_map(|v| v.media_down_since)
            .min()?;
        let left = (since + self.media_limit() - Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO);
        Some(Instant::now() + left)
    }

    /// The calls answered but without media for longer than the limit.
    fn calls_without_media(&self) -> Vec<String> {
        let (now, limit) = (Utc::now(), self.media_limit());
        self.calls
            .values()
            .filter(|v| v.media_given_up(now, limit))
            .map(|v| v.room_id().to_owned())
            .collect()
    }

    /// Ends a call of this device without the server (which no longer knows it).
    fn end_locally(&mut self, room_id: &str, reason: EndReason) {
        if let Some(mut view) = self.calls.remove(room_id) {
            if view.on_ended(reason, Utc::now()).is_some() {
                self.emit(Event::Call { view });
            }
        }
    }

    fn answer_request(&mut self, req_id: &str, result: Result<Call, ClientError>) -> bool {
        self.hangups.remove(req_id);
        match self.requests.iter().position(|(id, _)| id == req_id) {
            Some(i) => {
                let (_, done) = self.requests.swap_remove(i);
                let _ = done.send(result);
                true
            }
            None => false,
        }
    }

    fn on_call_update(&mut self, call: Call) {
        let device = self.config.device_id.clone();
        let mine = call.caller == self.user_id
            && call
                .participant(&self.user_id)
                .is_some_and(|p| p.device_id.as_deref() == Some(device.as_str()));
        if mine && !self.calls.contains_key(&call.room_id) {
            let view = call::CallView::outgoing(call.clone(), &self.user_id);
            self.calls.insert(call.room_id.clone(), view.clone());
            self.emit(Event::Call { view });
        }
        let Some(view) = self.calls.get_mut(&call.room_id) else {
            return;
        };
        // Someone joining or leaving a call this device is in counts as a change too (a
        // group call's connections follow its participants).
        let others_moved = view.call.participants != call.participants
            && !matches!(view.state, call::CallState::Ringing);
        if view
            .on_update(call, &self.user_id, &device, Utc::now())
            .is_some()
            || others_moved
        {
            let view = view.clone();
            self.emit(Event::Call { view });
        }
    }

    fn on_media(&mut self, room_id: &str, change: MediaChange) {
        let Some(view) = self.calls.get_mut(room_id) else {
            return;
        };
        let now = Utc::now();
        let changed = match change {
            MediaChange::Up { leg, up } => view.on_media(&leg, up, now),
            MediaChange::LocalHold(h) => view.set_local_hold(h, now),
            MediaChange::RemoteHold { leg, hold } => view.set_remote_hold(&leg, hold, now),
        };
        if changed.is_some() {
            let view = view.clone();
            self.emit(Event::Call { view });
        }
    }

    fn resolve(&mut self, client_id: &str, result: Result<Message, ClientError>) {
        if let Some(i) = self.waiters.iter().position(|(id, _)| id == client_id) {
            let (_, tx) = self.waiters.swap_remove(i);
            let _ = tx.send(result);
        }
    }
}

fn send_frame_of(p: &PendingMessage) -> ClientFrame {
    ClientFrame::SendMessage {
        req_id: Some(p.client_id.clone()),
        channel_id: p.channel_id.clone(),
        client_id: Some(p.client_id.clone()),
        text: p.text.clone(),
    }
}

#[cfg(test)]
// Fixtures convert numbers freely and compare exact values.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap,
    clippy::float_cmp
)]
mod tests {
    use super::*;
    use crate::proto::User;

    #[test]
    fn token_expiry_reads_exp() {
        let issuer = crate::server::auth::TokenIssuer::new(b"k");
        let now = Utc::now();
        let alice = User {
            user_id: "alice".into(),
            display_name: "alice".into(),
            created_at: now,
        };
        let (token, exp) = issuer.issue(&alice, now, 600).unwrap();
        assert_eq!(token_expiry(&token), Some(exp));
        assert_eq!(token_expiry("garbage"), None);
    }

    #[tokio::test]
    async fn token_command_accepts_bare_and_json_tokens() {
        let bare = TokenSource::Command("echo abc.def.ghi".into());
        assert_eq!(
            bare.fetch(Duration::from_secs(5)).await.unwrap(),
            "abc.def.ghi"
        );
        let json = TokenSource::Command(
            r#"echo '{"access_token":"t1","expires_at":"2030-01-01T00:00:00Z","user_id":"a"}'"#
                .into(),
        );
        assert_eq!(json.fetch(Duration::from_secs(5)).await.unwrap(), "t1");
        let failing = TokenSource::Command("echo nope >&2; exit 3".into());
        let err = failing.fetch(Duration::from_secs(5)).await.unwrap_err();
        assert_eq!(err.code(), "token_unavailable");
        assert!(err.to_string().contains("nope"));
        let slow = TokenSource::Command("sleep 5".into());
        assert!(slow.fetch(Duration::from_millis(200)).await.is_err());
    }
}
