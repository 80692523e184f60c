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
//! {"v":1,"id":"9","cmd":"presence","availability":"away","note":"back at 3"}
//! {"v":1,"id":"10","cmd":"events"}
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
//! Other codes come from the instance: `no_call`, `validation_error`, `not_connected` (the
//! call has no media yet), `media_error`, `not_supported`, or the server's own error codes.
//! A response comes once the command has run and says what it did: `dial`, `answer`,
//! `decline` and `hangup` answer with the call as the server has it; `hold`, `resume`,
//! `mute` and `unmute` with `room_id` and the new `hold` or `muted`; `dtmf` with the
//! `digits` and `sent_as` (`rfc4733` or `inband`); `send` with the stored message;
//! `presence` with the user's presence as the server now has it.
//!
//! `events` turns the connection into a stream: after its response
//! (`"result":{"streaming":true}`) comes one line for every event the instance publishes,
//! `{"v":1,"event":{...}}`, until the client disconnects. Every event is an object tagged
//! `event`: the session's (`message`, `presence`, `call`, ...) and the instance's own
//! ([`InstanceEvent`]: `dtmf`, `call_state`, `media_state`, `call_stats`, `call_summary`,
//! `notice`, `lagged`). A client that reads too slowly
//! to keep up gets `{"v":1,"event":{"event":"lagged","missed":N}}` for the `N` events it
//! lost, and the stream goes on. Further requests on a streaming connection are still
//! answered.
//!
//! # In code
//!
//! The instance calls [`CtlServer::bind`], takes [`CtlCall`]s from the receiver it returns
//! and answers each through its `reply`, and [`CtlServer::publish`]es its events. Clients
//! use [`request`] and [`events`]. Every frame is one type in [`frames`]; what a request
//! asks of a call, the same for every kind of instance, is in [`calls`].

pub mod calls;
mod client;
pub mod frames;
mod lines;
mod server;
pub mod status;

use std::io;
use std::path::PathBuf;
use std::time::Duration;

pub use client::{events, request, request_within};
pub use frames::{CtlEvent, CtlFailure, CtlRequest, InstanceEvent, SCHEMA_VERSION};
pub use server::{next_call, CtlCall, CtlServer};

/// The longest request line the server reads.
pub const MAX_LINE: usize = 64 * 1024;
/// Events kept for a subscriber that reads slowly, before it misses some.
pub const EVENT_BUFFER: usize = 1024;
/// Requests waiting for the instance before connections stop reading.
pub const CALL_QUEUE: usize = 64;
/// How long [`request`] waits for its response.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

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

#[cfg(test)]
mod tests {
    use super::*;

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
