//! `parla ctl`: sends one request to a running instance over its control socket.

use std::path::Path;

use serde_json::Value;

use super::output::{exit, print_json, CliError};
use super::{CtlArgs, CtlCommand};
use crate::ctl::{self, CtlError, CtlRequest};

pub async fn run(args: &CtlArgs, json: bool) -> Result<(), CliError> {
    let socket = args.socket.clone().unwrap_or_else(ctl::default_socket_path);
    let request = match &args.command {
        CtlCommand::Status => CtlRequest::Status,
        CtlCommand::Events => return stream_events(&socket).await,
        CtlCommand::Dial { users } => CtlRequest::Dial {
            users: users.clone(),
        },
        CtlCommand::Answer { room_id } => CtlRequest::Answer {
            room_id: room_id.clone(),
        },
        CtlCommand::Decline { room_id, reason } => CtlRequest::Decline {
            room_id: room_id.clone(),
            reason: Some(reason.clone()),
        },
        CtlCommand::Hangup { room_id } => CtlRequest::Hangup {
            room_id: room_id.clone(),
        },
        CtlCommand::Hold { room_id } => CtlRequest::Hold {
            room_id: room_id.clone(),
        },
        CtlCommand::Resume { room_id } => CtlRequest::Resume {
            room_id: room_id.clone(),
        },
        CtlCommand::Mute => CtlRequest::Mute,
        CtlCommand::Unmute => CtlRequest::Unmute,
        CtlCommand::Dtmf { digits } => CtlRequest::Dtmf {
            digits: digits.clone(),
        },
        CtlCommand::Send { target, text } => CtlRequest::Send {
            target: target.clone(),
            text: text.clone(),
        },
    };
    let result = ctl::request(&socket, &request)
        .await
        .map_err(|e| cli_error(e, &socket))?;
    super::output::show(json, &result, |r| println!("{}", human(&request, r)));
    Ok(())
}

/// Prints every event as one JSON line until the instance goes away or Ctrl-C.
async fn stream_events(socket: &Path) -> Result<(), CliError> {
    let mut events = ctl::events(socket)
        .await
        .map_err(|e| cli_error(e, socket))?;
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(event) => print_json(&event),
                None => break,
            },
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    Ok(())
}

fn cli_error(e: CtlError, socket: &Path) -> CliError {
    let code = e.code().to_owned();
    match e {
        CtlError::NotRunning => CliError {
            code,
            message: format!(
                "nothing is listening on {}; start `parla` or `parla answer` first",
                socket.display()
            ),
            exit: exit::UNREACHABLE,
        },
        CtlError::Failed(f) => CliError {
            code,
            message: f.message,
            exit: exit::NOT_FOUND,
        },
        CtlError::Timeout => CliError {
            code,
            message: format!(
                "the instance on {} did not answer within {} s",
                socket.display(),
                ctl::REQUEST_TIMEOUT.as_secs()
            ),
            exit: exit::FAILURE,
        },
        other => CliError {
            code,
            message: other.to_string(),
            exit: exit::FAILURE,
        },
    }
}

/// A short line saying what was done.
fn human(request: &CtlRequest, result: &Value) -> String {
    let room = result
        .get("room_id")
        .and_then(Value::as_str)
        .map(|r| format!(" (call {r})"))
        .unwrap_or_default();
    match request {
        CtlRequest::Status | CtlRequest::Events => {
            serde_json::to_string_pretty(result).unwrap_or_else(|_| result.to_string())
        }
        CtlRequest::Dial { users } => format!("calling {}{room}", users.join(", ")),
        CtlRequest::Answer { .. } => format!("answered{room}"),
        CtlRequest::Decline { .. } => format!("declined{room}"),
        CtlRequest::Hangup { .. } => format!("hung up{room}"),
        CtlRequest::Hold { .. } => format!("on hold{room}"),
        CtlRequest::Resume { .. } => format!("resumed{room}"),
        CtlRequest::Mute => format!("muted{room}"),
        CtlRequest::Unmute => format!("unmuted{room}"),
        CtlRequest::Dtmf { digits } => format!("sent DTMF {digits}{room}"),
        CtlRequest::Send { target, .. } => format!("sent to {target}"),
    }
}
