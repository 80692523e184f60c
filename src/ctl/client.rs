//! The client end: one request and its response, or a stream of events.

use std::io;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::UnixStream;
use tokio::sync::mpsc;

use super::frames::{CtlRequest, RequestLine, Response};
use super::lines::{write_line, Line, LineReader};
use super::{CtlError, EVENT_BUFFER, REQUEST_TIMEOUT};

/// The longest line a client reads (events carry call statistics, messages...).
const CLIENT_MAX_LINE: usize = 16 * 1024 * 1024;

async fn connect(path: &Path) -> Result<UnixStream, CtlError> {
    UnixStream::connect(path).await.map_err(|e| match e.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused => CtlError::NotRunning,
        _ => CtlError::Io(e),
    })
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
    write_line(write, &RequestLine::new(&id, request)).await?;
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
        let Ok(value) = serde_json::from_slice::<Value>(&bytes) else {
            continue;
        };
        if value.get("event").is_some() {
            continue; // an event on a streaming connection
        }
        let answer_id = value.get("id").cloned().unwrap_or(Value::Null);
        let response = serde_json::from_value::<Response>(value);
        // Our response, or a refusal of a line the server could not even read (ours: we
        // send one request at a time).
        let mine = answer_id.as_str() == Some(id.as_str())
            || (answer_id.is_null() && response.as_ref().is_ok_and(|r| !r.ok));
        if !mine {
            continue;
        }
        return match response {
            Ok(r) => r.into_outcome().map_err(CtlError::Failed),
            Err(e) => Err(invalid(&format!("the response is not one: {e}"))),
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
/// (the object inside `{"v":1,"event":...}`, including `{"event":"lagged",...}`) and ends
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
                () = tx.closed() => break,
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
