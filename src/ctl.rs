//! The control socket: a running interface or `parla answer` takes requests from `parla ctl`
//! (or any program) as JSON lines over a local socket.
//!
//! # Where
//!
//! A Unix domain socket, by default `$XDG_RUNTIME_DIR/parla/ctl.sock`; without
//! `XDG_RUNTIME_DIR`, `ctl.sock` in parla's data directory; without that,
//! `/tmp/parla-$USER/ctl.sock` (see [`default_socket_path`]). The directory is created with
//! mode 0700 and the socket gets mode 0600: only its owner can drive the instance. One
//! instance serves a path at a time: a second one finds the first answering and goes on
//! without a socket ([`CtlError::InUse`]); a socket file left behind by an instance that
//! died (nobody answers on it) is replaced.
//!
//! # Wire format (schema version 1)
//!
//! Newline-delimited JSON, UTF-8, one object per line, both ways. A client may keep its
//! connection and send many requests on it, and many clients may be connected at once.
//!
//! A request names the schema version, an id of the client's choosing (echoed back in the
//! response; requests on one connection are carried out in order, but their responses may
//! come back in any order), the command and its arguments:
//!
//! ```text
//! {"v":1,"id":"1","cmd":"status"}
//! {"v":1,"id":"2","cmd":"dial","users":["bob"]}
//! {"v":1,"id":"3","cmd":"answer"}                       room_id is optional
//! {"v":1,"id":"4","cmd":"decline","reason":"do_not_disturb"}
//! {"v":1,"id":"5","cmd":"hangup","room_id":"..."}        also hold, resume
//! {"v":1,"id":"6","cmd":"mute"}                          also unmute
//! {"v":1,"id":"7","cmd":"dtmf","digits":"12#"}
//! {"v":1,"id":"8","cmd":"send","target":"bob","text":"hi"}
//! {"v":1,"id":"9","cmd":"events"}
//! ```
//!
//! Each request gets one response:
//!
//! ```text
//! {"v":1,"id":"1","ok":true,"result":{...}}
//! {"v":1,"id":"1","ok":false,"error":{"code":"no_call","message":"..."}}
//! ```
//!
//! Errors of the socket itself have these stable codes:
//!
//! | Code | When |
//! |------|------|
//! | `malformed_request` | The line is not a JSON object, has no `v` or `cmd`, has arguments of the wrong shape, or is longer than 64 KiB (the connection is then closed). `id` is `null` when it could not be read. |
//! | `unsupported_version` | `v` is not 1. |
//! | `unknown_command` | `cmd` is none of the commands above. |
//! | `instance_error` | The instance gave up the request without answering it (it is shutting down, for example). |
//!
//! Other codes come from the instance: `no_call`, `validation_error`, `not_supported`, or
//! the server's own error codes, for example.
//!
//! `events` turns the connection into a stream: after its response
//! (`"result":{"streaming":true}`) comes one line for every event the instance publishes,
//! `{"v":1,"event":{...}}`, until the client disconnects. A client that reads too slowly
//! to keep up gets `{"v":1,"event":{"type":"lagged","missed":N}}` for the `N` events it
//! lost, and the stream goes on. Further requests on a streaming connection are still
//! answered.
//!
//! # In code
//!
//! The instance calls [`CtlServer::bind`], takes [`CtlCall`]s from the receiver it returns
//! and answers each through its `reply`, and [`CtlServer::publish`]es its events. Clients
//! use [`request`] and [`events`].

use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};

/// The version of the wire format; requests name it in `v`.
pub const SCHEMA_VERSION: u32 = 1;
/// The longest request line the server reads.
pub const MAX_LINE: usize = 64 * 1024;
/// Events kept for a subscriber that reads slowly, before it misses some.
pub const EVENT_BUFFER: usize = 1024;
/// Requests waiting for the instance before connections stop reading.
pub const CALL_QUEUE: usize = 64;
/// How long [`request`] waits for its response.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest line a client reads (events carry call statistics, messages...).
const CLIENT_MAX_LINE: usize = 16 * 1024 * 1024;
/// How long `bind` waits on a socket file to learn whether someone is listening.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long `shutdown` lets connections write out what is queued for them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Every command name, as `cmd` spells it.
pub const COMMANDS: &[&str] = &[
    "status", "events", "dial", "answer", "decline", "hangup", "hold", "resume", "mute", "unmute",
    "dtmf", "send",
];

/// A request, as it travels (with `cmd` as the tag; `v` and `id` sit beside it).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum CtlRequest {
    /// The instance's state.
    Status,
    /// Stream the instance's events (handled by the server, never sent as a [`CtlCall`]).
    Events,
    /// Call one to three users.
    Dial {
        users: Vec<String>,
    },
    /// Answer the ringing call, or the one named.
    Answer {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room_id: Option<String>,
    },
    /// Decline the ringing call, or the one named (reason: none, error, do_not_disturb,
    /// no_answer).
    Decline {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Hang up the current call, or the one named.
    Hangup {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room_id: Option<String>,
    },
    /// Put the current call (or the one named) on hold.
    Hold {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room_id: Option<String>,
    },
    /// Take the current call (or the one named) off hold.
    Resume {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room_id: Option<String>,
    },
    Mute,
    Unmute,
    /// Send DTMF digits in the current call.
    Dtmf {
        digits: String,
    },
    /// Send a chat message to a user, a channel id or `#group`.
    Send {
        target: String,
        text: String,
    },
}

impl CtlRequest {
    /// The command name, as `cmd` spells it.
    pub fn name(&self) -> &'static str {
        match self {
            CtlRequest::Status => "status",
            CtlRequest::Events => "events",
            CtlRequest::Dial { .. } => "dial",
            CtlRequest::Answer { .. } => "answer",
            CtlRequest::Decline { .. } => "decline",
            CtlRequest::Hangup { .. } => "hangup",
            CtlRequest::Hold { .. } => "hold",
            CtlRequest::Resume { .. } => "resume",
            CtlRequest::Mute => "mute",
            CtlRequest::Unmute => "unmute",
            CtlRequest::Dtmf { .. } => "dtmf",
            CtlRequest::Send { .. } => "send",
        }
    }
}

/// A request refused or failed, with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CtlFailure {
    pub code: String,
    pub message: String,
}

impl CtlFailure {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        CtlFailure {
            code: code.into(),
            message: message.into(),
        }
    }

    fn malformed(message: impl Into<String>) -> Self {
        Self::new("malformed_request", message)
    }

    fn instance_gone() -> Self {
        Self::new(
            "instance_error",
            "the instance gave up the request without answering it",
        )
    }
}

impl std::fmt::Display for CtlFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} [{}]", self.message, self.code)
    }
}

/// One request for the instance to carry out; answer it through `reply`.
#[derive(Debug)]
pub struct CtlCall {
    pub request: CtlRequest,
    pub reply: oneshot::Sender<Result<Value, CtlFailure>>,
}

impl CtlCall {
    /// Answers the request (a client that went away meanwhile is no error).
    pub fn respond(self, result: Result<Value, CtlFailure>) {
        let _ = self.reply.send(result);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CtlError {
    #[error("another instance is already serving this control socket")]
    InUse,
    #[error("no instance is listening on the control socket")]
    NotRunning,
    #[error("the instance did not answer in time")]
    Timeout,
    #[error("{}", .0.message)]
    Failed(CtlFailure),
    #[error("control socket: {0}")]
    Io(#[from] io::Error),
}

impl CtlError {
    /// A stable code: `ctl_in_use`, `ctl_not_running`, `ctl_timeout`, `io_error`, or the
    /// code of the instance's failure.
    pub fn code(&self) -> &str {
        match self {
            CtlError::InUse => "ctl_in_use",
            CtlError::NotRunning => "ctl_not_running",
            CtlError::Timeout => "ctl_timeout",
            CtlError::Failed(f) => &f.code,
            CtlError::Io(_) => "io_error",
        }
    }
}

/// Where the control socket lives unless told otherwise: `$XDG_RUNTIME_DIR/parla/ctl.sock`,
/// else `ctl.sock` in parla's data directory, else `/tmp/parla-$USER/ctl.sock`.
pub fn default_socket_path() -> PathBuf {
    socket_path_for(
        std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from),
        crate::settings::project_dirs().map(|d| d.data_dir().to_owned()),
        std::env::var("USER").ok(),
    )
}

fn socket_path_for(
    runtime: Option<PathBuf>,
    data: Option<PathBuf>,
    user: Option<String>,
) -> PathBuf {
    // The XDG spec only allows an absolute runtime directory.
    if let Some(dir) = runtime.filter(|d| d.is_absolute()) {
        return dir.join("parla").join("ctl.sock");
    }
    if let Some(dir) = data {
        return dir.join("ctl.sock");
    }
    let user: String = user
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_'))
        .collect();
    let user = if user.is_empty() {
        "user".to_owned()
    } else {
        user
    };
    PathBuf::from("/tmp")
        .join(format!("parla-{user}"))
        .join("ctl.sock")
}

// ---------------------------------------------------------------------------------------
// Lines

enum Line {
    Data(Vec<u8>),
    TooLong,
}

/// Reads newline-terminated lines of at most `max` bytes. `next_line` is cancel safe: its
/// only await point is a read, and a partial line stays in the buffer.
struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// How much of `buf` is known to hold no newline.
    scanned: usize,
    max: usize,
    eof: bool,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    fn new(inner: R, max: usize) -> Self {
        LineReader {
            inner,
            buf: Vec::new(),
            scanned: 0,
            max,
            eof: false,
        }
    }

    /// The next line without its `\n` (or `\r\n`); `None` at the end of the stream.
    async fn next_line(&mut self) -> io::Result<Option<Line>> {
        loop {
            if let Some(at) = self.buf[self.scanned..].iter().position(|&b| b == b'\n') {
                let end = self.scanned + at;
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                self.scanned = 0;
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if line.len() > self.max {
                    return Ok(Some(Line::TooLong));
                }
                return Ok(Some(Line::Data(line)));
            }
            self.scanned = self.buf.len();
            if self.buf.len() > self.max {
                self.buf.clear();
                self.scanned = 0;
                return Ok(Some(Line::TooLong));
            }
            if self.eof {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                self.scanned = 0;
                return Ok(Some(Line::Data(std::mem::take(&mut self.buf))));
            }
            self.buf.reserve(8192);
            if self.inner.read_buf(&mut self.buf).await? == 0 {
                self.eof = true;
            }
        }
    }
}

async fn write_line<W: AsyncWrite + Unpin>(w: &mut W, value: &Value) -> io::Result<()> {
    let mut text = serde_json::to_string(value).map_err(io::Error::other)?;
    text.push('\n');
    w.write_all(text.as_bytes()).await
}

fn ok_response(id: &Value, result: Value) -> Value {
    json!({"v": SCHEMA_VERSION, "id": id, "ok": true, "result": result})
}

fn error_response(id: &Value, failure: &CtlFailure) -> Value {
    json!({
        "v": SCHEMA_VERSION,
        "id": id,
        "ok": false,
        "error": {"code": failure.code, "message": failure.message},
    })
}

fn event_line(event: Value) -> Value {
    json!({"v": SCHEMA_VERSION, "event": event})
}

/// Reads one request line: its id (`null` when it has none or cannot be read) and the
/// request, or what is wrong with it.
fn parse_line(bytes: &[u8]) -> Result<(Value, CtlRequest), (Value, CtlFailure)> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        (
            Value::Null,
            CtlFailure::malformed(format!("the request is not valid JSON: {e}")),
        )
    })?;
    let Value::Object(fields) = &value else {
        return Err((
            Value::Null,
            CtlFailure::malformed("a request is a JSON object"),
        ));
    };
    let id = fields.get("id").cloned().unwrap_or(Value::Null);
    match fields.get("v") {
        Some(v) if v.as_u64() == Some(u64::from(SCHEMA_VERSION)) => {}
        Some(v) => {
            return Err((
                id,
                CtlFailure::new(
                    "unsupported_version",
                    format!(
                    "schema version {v} is not supported (this instance speaks {SCHEMA_VERSION})"
                ),
                ),
            ))
        }
        None => {
            return Err((
                id,
                CtlFailure::malformed(format!(
                    "the request has no `v` (the schema version, {SCHEMA_VERSION})"
                )),
            ))
        }
    }
    let Some(cmd) = fields.get("cmd") else {
        return Err((id, CtlFailure::malformed("the request has no `cmd`")));
    };
    let Some(cmd) = cmd.as_str() else {
        return Err((id, CtlFailure::malformed("`cmd` must be a string")));
    };
    if !COMMANDS.contains(&cmd) {
        let mut shown: String = cmd.chars().take(64).collect();
        if shown.len() < cmd.len() {
            shown.push('…');
        }
        return Err((
            id,
            CtlFailure::new(
                "unknown_command",
                format!("unknown command `{shown}` (known: {})", COMMANDS.join(", ")),
            ),
        ));
    }
    match CtlRequest::deserialize(&value) {
        Ok(request) => Ok((id, request)),
        Err(e) => Err((
            id,
            CtlFailure::malformed(format!("bad arguments for `{cmd}`: {e}")),
        )),
    }
}

// ---------------------------------------------------------------------------------------
// Server

/// The serving end of the control socket. Dropping it stops accepting, closes the
/// connections and removes the socket file; [`CtlServer::shutdown`] does the same after
/// letting `events` subscribers have the events already published.
#[derive(Debug)]
pub struct CtlServer {
    path: PathBuf,
    events: broadcast::Sender<Value>,
    /// Tells the accept loop and the connections to finish.
    closing: watch::Sender<bool>,
    accept: Option<JoinHandle<()>>,
    /// Device and inode of the socket file bound, so that only that file is removed.
    identity: Option<(u64, u64)>,
}

impl CtlServer {
    /// Serves the control socket at `path`. Requests arrive as [`CtlCall`]s on the
    /// receiver; `events` is handled here.
    pub async fn bind(path: &Path) -> Result<(CtlServer, mpsc::Receiver<CtlCall>), CtlError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            // Only directories created here get 0700; an existing one is left as it is.
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)?;
        }
        match tokio::time::timeout(PROBE_TIMEOUT, UnixStream::connect(path)).await {
            Ok(Ok(_)) => return Err(CtlError::InUse),
            // Someone there, too busy to accept at once: not ours to take.
            Err(_) => return Err(CtlError::InUse),
            Ok(Err(e)) if e.kind() == io::ErrorKind::NotFound => {}
            Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => {
                let meta = std::fs::symlink_metadata(path)?;
                if !meta.file_type().is_socket() {
                    return Err(CtlError::Io(io::Error::new(
                        io::ErrorKind::AlreadyExists,
                        format!("{} exists and is not a socket", path.display()),
                    )));
                }
                tracing::info!(path = %path.display(), "removing a stale control socket");
                match std::fs::remove_file(path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(Err(e)) => {
                tracing::debug!(error = %e, path = %path.display(), "probing the control socket")
            }
        }
        let listener = match UnixListener::bind(path) {
            Ok(l) => l,
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => return Err(CtlError::InUse),
            Err(e) => return Err(e.into()),
        };
        let identity = std::fs::symlink_metadata(path)
            .ok()
            .map(|m| (m.dev(), m.ino()));
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let (calls_tx, calls_rx) = mpsc::channel(CALL_QUEUE);
        let (closing, closing_rx) = watch::channel(false);
        // From here on, dropping `server` removes the file.
        let mut server = CtlServer {
            path: path.to_owned(),
            events: events.clone(),
            closing,
            accept: None,
            identity,
        };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        server.accept = Some(tokio::spawn(accept_loop(
            listener, calls_tx, events, closing_rx,
        )));
        tracing::info!(path = %path.display(), "control socket listening");
        Ok((server, calls_rx))
    }

    /// Sends an event to every `events` subscriber.
    pub fn publish(&self, event: Value) {
        // No subscribers is not an error.
        let _ = self.events.send(event);
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops accepting, lets each connection write the events already published (for at
    /// most a second), closes them and removes the socket file.
    pub async fn shutdown(mut self) {
        let _ = self.closing.send(true);
        if let Some(mut task) = self.accept.take() {
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
            {
                task.abort();
                let _ = task.await;
            }
        }
    }
}

impl Drop for CtlServer {
    fn drop(&mut self) {
        if let Some(task) = self.accept.take() {
            task.abort();
        }
        let ours = std::fs::symlink_metadata(&self.path)
            .ok()
            .is_some_and(|m| Some((m.dev(), m.ino())) == self.identity);
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Accepts connections; dropping it (the server aborts it) drops the `JoinSet` and so ends
/// every connection.
async fn accept_loop(
    listener: UnixListener,
    calls: mpsc::Sender<CtlCall>,
    events: broadcast::Sender<Value>,
    mut closing: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = closing.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(
                        stream,
                        calls.clone(),
                        events.clone(),
                        closing.clone(),
                    ));
                }
                Err(e) => {
                    // Out of file descriptors, for example: wait instead of spinning.
                    tracing::warn!(error = %e, "control socket: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

async fn await_reply(
    id: Value,
    reply: oneshot::Receiver<Result<Value, CtlFailure>>,
) -> (Value, Result<Value, CtlFailure>) {
    let result = reply
        .await
        .unwrap_or_else(|_| Err(CtlFailure::instance_gone()));
    (id, result)
}

async fn next_event(
    subscription: &mut Option<broadcast::Receiver<Value>>,
) -> Result<Value, broadcast::error::RecvError> {
    match subscription {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// One client: reads requests, hands them to the instance, writes responses as they come,
/// and events once it asked for them.
async fn serve_connection(
    stream: UnixStream,
    calls: mpsc::Sender<CtlCall>,
    events: broadcast::Sender<Value>,
    mut closing: watch::Receiver<bool>,
) {
    let (read, mut write) = stream.into_split();
    let mut reader = LineReader::new(read, MAX_LINE);
    let mut reading = true;
    let mut subscription: Option<broadcast::Receiver<Value>> = None;
    let mut pending = FuturesUnordered::new();
    // A client that closed its sending side still gets its answers, and its events until
    // writing fails.
    while reading || subscription.is_some() || !pending.is_empty() {
        let out: Value = tokio::select! {
            line = reader.next_line(), if reading => match line {
                Ok(Some(Line::Data(bytes))) => {
                    if bytes.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    match parse_line(&bytes) {
                        Err((id, failure)) => error_response(&id, &failure),
                        Ok((id, CtlRequest::Events)) => {
                            if subscription.is_none() {
                                subscription = Some(events.subscribe());
                            }
                            ok_response(&id, json!({"streaming": true}))
                        }
                        Ok((id, request)) => {
                            let (reply, answer) = oneshot::channel();
                            match calls.send(CtlCall { request, reply }).await {
                                Ok(()) => {
                                    pending.push(await_reply(id, answer));
                                    continue;
                                }
                                Err(_) => error_response(&id, &CtlFailure::instance_gone()),
                            }
                        }
                    }
                }
                Ok(Some(Line::TooLong)) => {
                    let failure = CtlFailure::malformed(format!(
                        "the request is longer than {} KiB",
                        MAX_LINE / 1024
                    ));
                    let _ = write_line(&mut write, &error_response(&Value::Null, &failure)).await;
                    break;
                }
                Ok(None) => {
                    reading = false;
                    continue;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "control socket: read failed");
                    reading = false;
                    continue;
                }
            },
            Some((id, result)) = pending.next(), if !pending.is_empty() => match result {
                Ok(result) => ok_response(&id, result),
                Err(failure) => error_response(&id, &failure),
            },
            event = next_event(&mut subscription), if subscription.is_some() => match event {
                Ok(event) => event_line(event),
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    event_line(json!({"type": "lagged", "missed": missed}))
                }
                Err(broadcast::error::RecvError::Closed) => {
                    subscription = None;
                    continue;
                }
            },
            _ = closing.changed() => {
                // The instance is going away: out with what it published before.
                while let Some(rx) = subscription.as_mut() {
                    let line = match rx.try_recv() {
                        Ok(event) => event_line(event),
                        Err(broadcast::error::TryRecvError::Lagged(missed)) => {
                            event_line(json!({"type": "lagged", "missed": missed}))
                        }
                        Err(_) => break,
                    };
                    if write_line(&mut write, &line).await.is_err() {
                        break;
                    }
                }
                break;
            }
        };
        if let Err(e) = write_line(&mut write, &out).await {
            tracing::debug!(error = %e, "control socket: client went away");
            break;
        }
    }
}

/// The next request from an optional receiver, for a `select!` loop: pends for ever when
/// there is no receiver, or once it is closed.
pub async fn next_call(calls: Option<&mut mpsc::Receiver<CtlCall>>) -> CtlCall {
    if let Some(rx) = calls {
        if let Some(call) = rx.recv().await {
            return call;
        }
    }
    std::future::pending().await
}

// ---------------------------------------------------------------------------------------
// Client

async fn connect(path: &Path) -> Result<UnixStream, CtlError> {
    UnixStream::connect(path).await.map_err(|e| match e.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused => CtlError::NotRunning,
        _ => CtlError::Io(e),
    })
}

fn request_line(id: &str, request: &CtlRequest) -> Result<Value, CtlError> {
    let mut value = serde_json::to_value(request).map_err(io::Error::other)?;
    if let Value::Object(fields) = &mut value {
        fields.insert("v".into(), json!(SCHEMA_VERSION));
        fields.insert("id".into(), json!(id));
    }
    Ok(value)
}

fn invalid(message: &str) -> CtlError {
    CtlError::Io(io::Error::new(
        io::ErrorKind::InvalidData,
        message.to_owned(),
    ))
}

/// Sends `request` and reads lines until its response.
async fn exchange<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
    reader: &mut LineReader<R>,
    write: &mut W,
    request: &CtlRequest,
) -> Result<Value, CtlError> {
    let id = uuid::Uuid::new_v4().to_string();
    write_line(write, &request_line(&id, request)?).await?;
    loop {
        let bytes = match reader.next_line().await? {
            Some(Line::Data(bytes)) => bytes,
            Some(Line::TooLong) => return Err(invalid("the instance sent an overlong line")),
            None => {
                return Err(CtlError::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the instance closed the connection without answering",
                )))
            }
        };
        let Ok(response) = serde_json::from_slice::<Value>(&bytes) else {
            continue;
        };
        let ok = response.get("ok").and_then(Value::as_bool);
        let answer_id = response.get("id");
        // Our response, or a refusal of a line the server could not even read (ours: we
        // send one request at a time).
        let mine = answer_id.and_then(Value::as_str) == Some(id.as_str())
            || (ok == Some(false) && answer_id.is_none_or(Value::is_null));
        if !mine {
            continue;
        }
        return match ok {
            Some(true) => Ok(response.get("result").cloned().unwrap_or(Value::Null)),
            Some(false) => {
                let error = response.get("error");
                let text = |key: &str| {
                    error
                        .and_then(|e| e.get(key))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                };
                Err(CtlError::Failed(CtlFailure {
                    code: text("code").unwrap_or_else(|| "instance_error".into()),
                    message: text("message")
                        .unwrap_or_else(|| "the instance refused the request".into()),
                }))
            }
            None => Err(invalid("the response has no `ok`")),
        };
    }
}

/// Sends one request to the instance at `path` and returns its result; waits at most
/// [`REQUEST_TIMEOUT`].
pub async fn request(path: &Path, request: &CtlRequest) -> Result<Value, CtlError> {
    request_within(path, request, REQUEST_TIMEOUT).await
}

/// Like [`request`], with another time limit.
pub async fn request_within(
    path: &Path,
    request: &CtlRequest,
    limit: Duration,
) -> Result<Value, CtlError> {
    tokio::time::timeout(limit, async {
        let stream = connect(path).await?;
        let (read, mut write) = stream.into_split();
        let mut reader = LineReader::new(read, CLIENT_MAX_LINE);
        exchange(&mut reader, &mut write, request).await
    })
    .await
    .map_err(|_| CtlError::Timeout)?
}

/// Subscribes to the events of the instance at `path`. The receiver yields each event
/// (the object inside `{"v":1,"event":...}`, including `{"type":"lagged",...}`) and ends
/// when the instance goes away; dropping it closes the connection.
pub async fn events(path: &Path) -> Result<mpsc::Receiver<Value>, CtlError> {
    let (mut reader, write) = tokio::time::timeout(REQUEST_TIMEOUT, async {
        let stream = connect(path).await?;
        let (read, mut write) = stream.into_split();
        let mut reader = LineReader::new(read, CLIENT_MAX_LINE);
        exchange(&mut reader, &mut write, &CtlRequest::Events).await?;
        Ok::<_, CtlError>((reader, write))
    })
    .await
    .map_err(|_| CtlError::Timeout)??;
    let (tx, rx) = mpsc::channel(EVENT_BUFFER);
    tokio::spawn(async move {
        // Closing the sending side would not end the stream, but keep it for tidiness.
        let _write = write;
        loop {
            let line = tokio::select! {
                line = reader.next_line() => line,
                _ = tx.closed() => break,
            };
            let bytes = match line {
                Ok(Some(Line::Data(bytes))) => bytes,
                Ok(Some(Line::TooLong)) => continue,
                Ok(None) | Err(_) => break,
            };
            let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
                continue;
            };
            let Some(event) = value.get_mut("event").map(Value::take) else {
                continue;
            };
            if tx.send(event).await.is_err() {
                break;
            }
        }
    });
    Ok(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<(Value, CtlRequest), (Value, CtlFailure)> {
        parse_line(text.as_bytes())
    }

    fn code(text: &str) -> (Value, String) {
        match parse(text) {
            Ok(r) => panic!("{text} parsed as {r:?}"),
            Err((id, f)) => (id, f.code),
        }
    }

    #[test]
    fn ctl_requests_parse_with_their_arguments() {
        let cases = [
            (r#"{"v":1,"id":"a","cmd":"status"}"#, CtlRequest::Status),
            (r#"{"v":1,"id":"a","cmd":"events"}"#, CtlRequest::Events),
            (
                r#"{"v":1,"id":"a","cmd":"dial","users":["bob","carol"]}"#,
                CtlRequest::Dial {
                    users: vec!["bob".into(), "carol".into()],
                },
            ),
            (
                r#"{"v":1,"id":"a","cmd":"answer"}"#,
                CtlRequest::Answer { room_id: None },
            ),
            (
                r#"{"v":1,"id":"a","cmd":"decline","room_id":"r1","reason":"no_answer"}"#,
                CtlRequest::Decline {
                    room_id: Some("r1".into()),
                    reason: Some("no_answer".into()),
                },
            ),
            (
                r#"{"v":1,"id":"a","cmd":"hangup","room_id":null}"#,
                CtlRequest::Hangup { room_id: None },
            ),
            (r#"{"v":1,"cmd":"mute"}"#, CtlRequest::Mute),
            (
                r#"{"v":1,"id":"a","cmd":"dtmf","digits":"12#"}"#,
                CtlRequest::Dtmf {
                    digits: "12#".into(),
                },
            ),
            (
                r#"{"v":1,"id":"a","cmd":"send","target":"bob","text":"hi"}"#,
                CtlRequest::Send {
                    target: "bob".into(),
                    text: "hi".into(),
                },
            ),
        ];
        for (text, want) in cases {
            let (_, got) = parse(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
            assert_eq!(got, want, "{text}");
            assert!(COMMANDS.contains(&got.name()));
        }
        assert_eq!(parse(r#"{"v":1,"id":"x","cmd":"status"}"#).unwrap().0, "x");
        assert_eq!(parse(r#"{"v":1,"cmd":"status"}"#).unwrap().0, Value::Null);
    }

    #[test]
    fn ctl_requests_round_trip_through_their_encoding() {
        for request in [
            CtlRequest::Status,
            CtlRequest::Hold { room_id: None },
            CtlRequest::Decline {
                room_id: None,
                reason: Some("none".into()),
            },
            CtlRequest::Send {
                target: "#ops".into(),
                text: "line\nbreak \"quoted\"".into(),
            },
        ] {
            let line = request_line("id-1", &request).unwrap();
            let text = serde_json::to_string(&line).unwrap();
            assert!(!text.contains('\n'));
            let (id, back) = parse(&text).unwrap();
            assert_eq!(id, "id-1");
            assert_eq!(back, request);
        }
    }

    #[test]
    fn ctl_bad_lines_get_stable_codes() {
        assert_eq!(code("not json"), (Value::Null, "malformed_request".into()));
        assert_eq!(code("[1,2]"), (Value::Null, "malformed_request".into()));
        assert_eq!(
            code(r#"{"v":1,"id":"a"}"#),
            (json!("a"), "malformed_request".into())
        );
        assert_eq!(code(r#"{"v":1,"id":"a","cmd":7}"#).1, "malformed_request");
        assert_eq!(code(r#"{"id":"a","cmd":"status"}"#).1, "malformed_request");
        assert_eq!(
            code(r#"{"v":2,"id":"a","cmd":"status"}"#),
            (json!("a"), "unsupported_version".into())
        );
        assert_eq!(code(r#"{"v":"1","cmd":"status"}"#).1, "unsupported_version");
        assert_eq!(
            code(r#"{"v":1,"id":"a","cmd":"reboot"}"#),
            (json!("a"), "unknown_command".into())
        );
        assert_eq!(code(r#"{"v":1,"cmd":"dial"}"#).1, "malformed_request");
        assert_eq!(
            code(r#"{"v":1,"cmd":"dtmf","digits":5}"#).1,
            "malformed_request"
        );
    }

    #[test]
    fn ctl_socket_path_prefers_the_runtime_dir() {
        assert_eq!(
            socket_path_for(
                Some("/run/user/1000".into()),
                Some("/home/u/.local/share/parla".into()),
                Some("u".into())
            ),
            PathBuf::from("/run/user/1000/parla/ctl.sock")
        );
        assert_eq!(
            socket_path_for(
                Some("relative".into()),
                Some("/home/u/.local/share/parla".into()),
                None
            ),
            PathBuf::from("/home/u/.local/share/parla/ctl.sock")
        );
        assert_eq!(
            socket_path_for(None, None, Some("../evil".into())),
            PathBuf::from("/tmp/parla-evil/ctl.sock")
        );
        assert_eq!(
            socket_path_for(None, None, None),
            PathBuf::from("/tmp/parla-user/ctl.sock")
        );
    }

    #[tokio::test]
    async fn ctl_line_reader_splits_limits_and_ends() {
        let data: &[u8] = b"one\r\ntwo\n\nlast";
        let mut r = LineReader::new(data, 16);
        let mut got = Vec::new();
        while let Some(line) = r.next_line().await.unwrap() {
            match line {
                Line::Data(d) => got.push(String::from_utf8(d).unwrap()),
                Line::TooLong => got.push("<too long>".into()),
            }
        }
        assert_eq!(got, ["one", "two", "", "last"]);

        let long = [b'x'; 40];
        let mut r = LineReader::new(&long[..], 16);
        assert!(matches!(r.next_line().await.unwrap(), Some(Line::TooLong)));
    }

    #[test]
    fn ctl_error_codes_are_stable() {
        assert_eq!(CtlError::InUse.code(), "ctl_in_use");
        assert_eq!(CtlError::NotRunning.code(), "ctl_not_running");
        assert_eq!(CtlError::Timeout.code(), "ctl_timeout");
        assert_eq!(CtlError::Io(io::Error::other("x")).code(), "io_error");
        assert_eq!(
            CtlError::Failed(CtlFailure::new("no_call", "none")).code(),
            "no_call"
        );
    }
}
