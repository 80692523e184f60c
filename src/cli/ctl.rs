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
        CtlCommand::Ignore { room_id } => CtlRequest::Ignore {
            room_id: room_id.clone(),
        },
        CtlCommand::Forward { to, room_id } => CtlRequest::Forward {
            to: to.clone(),
            room_id: room_id.clone(),
        },
        CtlCommand::Transfer { to, room_id } => CtlRequest::Transfer {
            to: to.clone(),
            room_id: room_id.clone(),
        },
        CtlCommand::Join { room_id, with_room } => CtlRequest::Join {
            room_id: room_id.clone(),
            with_room: with_room.clone(),
        },
        CtlCommand::Connect { room_id, with_room } => CtlRequest::Connect {
            room_id: room_id.clone(),
            with_room: with_room.clone(),
        },
        CtlCommand::Link { room_id, for_user } => CtlRequest::Link {
            room_id: room_id.clone(),
            for_user: for_user.clone(),
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
        CtlCommand::Presence {
            availability,
            activity,
            note,
        } => CtlRequest::Presence {
            availability: availability.clone(),
            activity: activity.clone(),
            note: note.clone(),
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
        CtlRequest::Status => human_status(result),
        CtlRequest::Events => result.to_string(),
        CtlRequest::Dial { users } => {
            let offline: Vec<&str> = result["offline"]
                .as_array()
                .map(|o| o.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut line = format!("calling {}{room}", users.join(", "));
            if !offline.is_empty() {
                line.push_str(&format!(
                    "; offline: {} (nothing rings until they connect)",
                    offline.join(", ")
                ));
            }
            line
        }
        CtlRequest::Answer { .. } => format!("answered{room}"),
        CtlRequest::Decline { .. } => format!("declined{room}"),
        CtlRequest::Hangup { .. } => format!("hung up{room}"),
        CtlRequest::Hold { .. } => format!("on hold{room}"),
        CtlRequest::Resume { .. } => format!("resumed{room}"),
        CtlRequest::Ignore { .. } => format!("ignored{room}"),
        CtlRequest::Forward { to, .. } => format!("forwarded to {to}{room}"),
        CtlRequest::Transfer { to, .. } => format!("transferred to {to}{room}"),
        CtlRequest::Join { .. } => format!("joined the calls{room}"),
        CtlRequest::Connect { .. } => format!("connected your two calls' parties; you left{room}"),
        CtlRequest::Link { .. } => result["url"].as_str().unwrap_or_default().to_owned(),
        CtlRequest::Mute => format!("muted{room}"),
        CtlRequest::Unmute => format!("unmuted{room}"),
        CtlRequest::Dtmf { digits } => format!("sent DTMF {digits}{room}"),
        CtlRequest::Send { target, .. } => format!("sent to {target}"),
        CtlRequest::Presence { .. } => {
            serde_json::from_value::<crate::proto::Presence>(result.clone())
                .map(|p| super::output::presence_words(&p))
                .unwrap_or_default()
        }
    }
}

/// `status` in lines: who and how connected, then one line per call.
fn human_status(s: &Value) -> String {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let mut first = vec![text(&s["user"]), text(&s["connection"])];
    first.retain(|p| !p.is_empty());
    let audio = text(&s["audio"]);
    if !audio.is_empty() {
        first.push(format!("audio {audio}"));
    }
    if let Some(code) = s["audio_notice"]["code"].as_str() {
        first.push(format!("({code})"));
    }
    if let Some(unread) = s["unread"].as_u64().filter(|n| *n > 0) {
        first.push(format!("{unread} unread"));
    }
    let mut lines = vec![first.join(" · ")];
    let calls = s["calls"].as_array().cloned().unwrap_or_default();
    if calls.is_empty() {
        lines.push("no calls".to_owned());
    }
    for c in calls {
        let with: Vec<String> = c["with"]
            .as_array()
            .map(|w| w.iter().map(text).collect())
            .unwrap_or_default();
        let secs = c["duration_s"].as_i64().unwrap_or(0);
        let mut parts = vec![format!(
            "{} {:02}:{:02}",
            text(&c["state"]),
            secs / 60,
            secs % 60
        )];
        if c["muted"] == true {
            parts.push("muted".into());
        }
        let dtmf = text(&c["dtmf_received"]);
        if !dtmf.is_empty() {
            parts.push(format!("heard {dtmf}"));
        }
        lines.push(format!(
            "{} with {}: {}",
            text(&c["room_id"]),
            with.join(", "),
            parts.join(", ")
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dial_says_who_is_offline_and_status_is_lines() {
        let dial = CtlRequest::Dial {
            users: vec!["dave".into()],
        };
        let line = human(
            &dial,
            &serde_json::json!({"room_id": "call_1", "offline": ["dave"]}),
        );
        assert_eq!(
            line,
            "calling dave (call call_1); offline: dave (nothing rings until they connect)"
        );
        let status = serde_json::json!({"user": "you", "connection": "connected",
            "audio": "null", "unread": 2, "calls": [{"room_id": "call_1", "with": ["echo"],
            "state": "connected", "duration_s": 75, "muted": true, "dtmf_received": "42"}]});
        assert_eq!(
            human(&CtlRequest::Status, &status),
            "you · connected · audio null · 2 unread\ncall_1 with echo: connected 01:15, muted, heard 42"
        );
    }
}
