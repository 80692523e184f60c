//! The serving end: binds the socket, accepts connections, hands requests to the instance
//! and streams its events.

use std::future::Future;
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::io::AsyncWrite;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};

use super::frames::{
    parse_line, CtlEvent, CtlFailure, CtlRequest, EventLine, InstanceEvent, Response,
};
use super::lines::{write_line, Line, LineReader};
use super::{CtlError, CALL_QUEUE, EVENT_BUFFER, MAX_LINE};

/// How long `bind` waits on a socket file to learn whether someone is listening.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long `shutdown` lets connections write out what is queued for them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

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

/// The serving end of the control socket. Dropping it stops accepting, closes the
/// connections and removes the socket file; [`CtlServer::shutdown`] does the same after
/// letting `events` subscribers have the events already published.
#[derive(Debug)]
pub struct CtlServer {
    path: PathBuf,
    events: broadcast::Sender<CtlEvent>,
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
        claim(path).await?;
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
    pub fn publish(&self, event: impl Into<CtlEvent>) {
        // No subscribers is not an error.
        let _ = self.events.send(event.into());
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

/// Makes `path` free to bind: nobody may be answering on it, and a socket file left by an
/// instance that died is removed.
async fn claim(path: &Path) -> Result<(), CtlError> {
    match tokio::time::timeout(PROBE_TIMEOUT, UnixStream::connect(path)).await {
        // Someone there (even one too busy to accept at once): not ours to take.
        Ok(Ok(_)) | Err(_) => Err(CtlError::InUse),
        Ok(Err(e)) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => remove_stale(path),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, path = %path.display(), "probing the control socket");
            Ok(())
        }
    }
}

/// Removes a socket file nobody answers on (and nothing that is not a socket).
fn remove_stale(path: &Path) -> Result<(), CtlError> {
    let meta = std::fs::symlink_metadata(path)?;
    if !meta.file_type().is_socket() {
        return Err(CtlError::Io(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists and is not a socket", path.display()),
        )));
    }
    tracing::info!(path = %path.display(), "removing a stale control socket");
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Accepts connections; dropping it (the server aborts it) drops the `JoinSet` and so ends
/// every connection.
async fn accept_loop(
    listener: UnixListener,
    calls: mpsc::Sender<CtlCall>,
    events: broadcast::Sender<CtlEvent>,
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

/// A line to write to a client.
#[derive(Serialize)]
#[serde(untagged)]
enum Out {
    Response(Response),
    Event(EventLine),
}

type Pending = Pin<Box<dyn Future<Output = Response> + Send>>;

async fn await_reply(id: Value, reply: oneshot::Receiver<Result<Value, CtlFailure>>) -> Response {
    let outcome = reply
        .await
        .unwrap_or_else(|_| Err(CtlFailure::instance_gone()));
    Response::new(id, outcome)
}

async fn next_event(
    subscription: &mut Option<broadcast::Receiver<CtlEvent>>,
) -> Result<CtlEvent, broadcast::error::RecvError> {
    match subscription {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

fn lagged(missed: u64) -> Out {
    Out::Event(EventLine::new(InstanceEvent::Lagged { missed }.into()))
}

/// One client's connection.
struct Connection {
    calls: mpsc::Sender<CtlCall>,
    events: broadcast::Sender<CtlEvent>,
    subscription: Option<broadcast::Receiver<CtlEvent>>,
    /// Requests handed to the instance, waiting for their answers.
    pending: FuturesUnordered<Pending>,
    /// The client may still send requests.
    reading: bool,
}

impl Connection {
    /// A request line: answered at once, or handed to the instance (`None`).
    async fn on_line(&mut self, bytes: &[u8]) -> Option<Out> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        let response = match parse_line(bytes) {
            Err((id, failure)) => Response::new(id, Err(failure)),
            Ok((id, CtlRequest::Events)) => {
                if self.subscription.is_none() {
                    self.subscription = Some(self.events.subscribe());
                }
                Response::new(id, Ok(json!({"streaming": true})))
            }
            Ok((id, request)) => {
                let (reply, answer) = oneshot::channel();
                if self.calls.send(CtlCall { request, reply }).await.is_ok() {
                    self.pending.push(Box::pin(await_reply(id, answer)));
                    return None;
                }
                Response::new(id, Err(CtlFailure::instance_gone()))
            }
        };
        Some(Out::Response(response))
    }

    /// The next event for a subscriber, or a note of those it missed.
    fn on_event(&mut self, event: Result<CtlEvent, broadcast::error::RecvError>) -> Option<Out> {
        match event {
            Ok(event) => Some(Out::Event(EventLine::new(event))),
            Err(broadcast::error::RecvError::Lagged(missed)) => Some(lagged(missed)),
            Err(broadcast::error::RecvError::Closed) => {
                self.subscription = None;
                None
            }
        }
    }

    /// The instance is going away: out with what it published before.
    async fn drain<W: AsyncWrite + Unpin>(&mut self, write: &mut W) {
        while let Some(rx) = self.subscription.as_mut() {
            let line = match rx.try_recv() {
                Ok(event) => Out::Event(EventLine::new(event)),
                Err(broadcast::error::TryRecvError::Lagged(missed)) => lagged(missed),
                Err(_) => break,
            };
            if write_line(write, &line).await.is_err() {
                break;
            }
        }
    }
}

/// What to do after one turn of a connection's loop.
enum Step {
    Write(Out),
    Wait,
    /// Write this last line (if any) and close.
    Close(Option<Out>),
}

impl Connection {
    /// What reading a line came to.
    async fn on_read(&mut self, line: io::Result<Option<Line>>) -> Step {
        match line {
            Ok(Some(Line::Data(bytes))) => {
                self.on_line(&bytes).await.map_or(Step::Wait, Step::Write)
            }
            Ok(Some(Line::TooLong)) => {
                let failure = CtlFailure::malformed(format!(
                    "the request is longer than {} KiB",
                    MAX_LINE / 1024
                ));
                Step::Close(Some(Out::Response(Response::new(
                    Value::Null,
                    Err(failure),
                ))))
            }
            Ok(None) => {
                self.reading = false;
                Step::Wait
            }
            Err(e) => {
                tracing::debug!(error = %e, "control socket: read failed");
                self.reading = false;
                Step::Wait
            }
        }
    }

    /// Whether there is anything left to do: a client that closed its sending side still
    /// gets its answers, and its events until writing fails.
    fn open(&self) -> bool {
        self.reading || self.subscription.is_some() || !self.pending.is_empty()
    }
}

/// One client: reads requests, hands them to the instance, writes responses as they come,
/// and events once it asked for them.
async fn serve_connection(
    stream: UnixStream,
    calls: mpsc::Sender<CtlCall>,
    events: broadcast::Sender<CtlEvent>,
    mut closing: watch::Receiver<bool>,
) {
    let (read, mut write) = stream.into_split();
    let mut reader = LineReader::new(read, MAX_LINE);
    let mut conn = Connection {
        calls,
        events,
        subscription: None,
        pending: FuturesUnordered::new(),
        reading: true,
    };
    while conn.open() {
        let step = tokio::select! {
            line = reader.next_line(), if conn.reading => conn.on_read(line).await,
            Some(response) = conn.pending.next(), if !conn.pending.is_empty() => {
                Step::Write(Out::Response(response))
            }
            event = next_event(&mut conn.subscription), if conn.subscription.is_some() => {
                conn.on_event(event).map_or(Step::Wait, Step::Write)
            }
            _ = closing.changed() => {
                conn.drain(&mut write).await;
                Step::Close(None)
            }
        };
        if !take_step(&mut write, step).await {
            break;
        }
    }
}

/// Writes what a turn produced; false when the connection is to close.
async fn take_step<W: AsyncWrite + Unpin>(write: &mut W, step: Step) -> bool {
    let (out, last) = match step {
        Step::Write(out) => (out, false),
        Step::Wait => return true,
        Step::Close(Some(out)) => (out, true),
        Step::Close(None) => return false,
    };
    if let Err(e) = write_line(write, &out).await {
        tracing::debug!(error = %e, "control socket: client went away");
        return false;
    }
    !last
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
