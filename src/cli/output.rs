//! How the subcommands print: human lines or JSON, errors with codes and exit statuses.

use std::io::Write;

use chrono::{DateTime, Local, Utc};
use serde::Serialize;

use crate::client::session::ConnectionState;
use crate::client::{ClientError, Event};
use crate::proto::{
    Activity, Availability, Channel, ChannelKind, ErrorCode, Message, Presence, PresenceStatus,
    UserEntry,
};

/// A failure of a subcommand: what to print and which exit status to use.
#[derive(Debug)]
pub struct CliError {
    pub code: String,
    pub message: String,
    pub exit: u8,
}

pub mod exit {
    pub const OK: u8 = 0;
    pub const FAILURE: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const AUTH: u8 = 3;
    pub const UNREACHABLE: u8 = 4;
    pub const NOT_FOUND: u8 = 5;
}

impl CliError {
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            code: "usage_error".into(),
            message: message.into(),
            exit: exit::USAGE,
        }
    }

    pub fn io(message: impl Into<String>) -> Self {
        CliError {
            code: "io_error".into(),
            message: message.into(),
            exit: exit::FAILURE,
        }
    }
}

/// The exit status for a server error code.
pub fn exit_for_code(code: ErrorCode) -> u8 {
    use ErrorCode::{
        ChannelNotExists, ContactNotFound, MalformedRequest, MessageAnchorError, MessageTooLarge,
        NotFound, UnknownFrameType, UserAlreadyExists, UserNotFound, ValidationError,
        VoicemailInvalid, VoicemailNotFound, VoicemailTooLong,
    };
    match code {
        c if c.is_auth() => exit::AUTH,
        UserNotFound | UserAlreadyExists | ChannelNotExists | NotFound | ValidationError
        | MalformedRequest | UnknownFrameType | MessageAnchorError | MessageTooLarge
        | VoicemailNotFound | VoicemailInvalid | VoicemailTooLong | ContactNotFound => {
            exit::NOT_FOUND
        }
        _ => exit::FAILURE,
    }
}

/// The exit status for a code reported as text (a server code or a client one).
pub fn exit_for_code_str(code: &str) -> u8 {
    serde_json::from_value::<ErrorCode>(serde_json::json!(code)).map_or(
        match code {
            "server_unreachable" => exit::UNREACHABLE,
            "token_unavailable" => exit::AUTH,
            "config_error" => exit::USAGE,
            _ => exit::FAILURE,
        },
        exit_for_code,
    )
}

impl From<ClientError> for CliError {
    fn from(e: ClientError) -> Self {
        let exit = match &e {
            ClientError::Api(a) => exit_for_code(a.code),
            ClientError::Unreachable(_) => exit::UNREACHABLE,
            ClientError::Token(_) => exit::AUTH,
            ClientError::Config(_) => exit::USAGE,
            ClientError::Protocol(_) | ClientError::Closed => exit::FAILURE,
        };
        let message = match &e {
            ClientError::Api(a) => a.message.clone(),
            other => other.to_string(),
        };
        CliError {
            code: e.code().to_owned(),
            message,
            exit,
        }
    }
}

impl From<crate::settings::ConfigError> for CliError {
    fn from(e: crate::settings::ConfigError) -> Self {
        // Every configuration problem (no token included) is the usage status: the
        // command cannot run as set up; authentication is for credentials the server refused.
        let exit = exit::USAGE;
        CliError {
            code: "config_error".into(),
            message: e.to_string(),
            exit,
        }
    }
}

impl From<crate::tui::TuiError> for CliError {
    fn from(e: crate::tui::TuiError) -> Self {
        use crate::tui::TuiError;
        match e {
            TuiError::Usage(m) => CliError::usage(m),
            TuiError::Io(m) => CliError::io(m),
            TuiError::Script(message) => CliError {
                code: "script_failed".into(),
                message,
                exit: exit::FAILURE,
            },
            TuiError::Client(e) => e.into(),
            TuiError::Settings(e) => e.into(),
        }
    }
}

pub fn print_error(e: &CliError, json: bool) {
    let mut err = std::io::stderr().lock();
    if json {
        let v = serde_json::json!({"error": {"code": e.code, "message": e.message}});
        let _ = writeln!(err, "{v}");
    } else {
        let _ = writeln!(err, "parla: error[{}]: {}", e.code, e.message);
    }
}

/// A command's result: one line of JSON with `--json`, else the text `text` prints.
pub fn show<T: Serialize>(json: bool, value: &T, text: impl FnOnce(&T)) {
    if json {
        print_json(value);
    } else {
        text(value);
    }
}

/// Prints a value as one line of JSON.
pub fn print_json<T: Serialize>(value: &T) {
    match serde_json::to_string(value) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("parla: cannot encode output: {e}"),
    }
}

fn local(t: &DateTime<Utc>) -> String {
    t.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string()
}

fn status_word(s: PresenceStatus) -> &'static str {
    match s {
        PresenceStatus::Online => "online",
        PresenceStatus::Offline => "offline",
        PresenceStatus::Busy => "busy",
    }
}

/// A presence in words: `online`, `busy with bob`, then what the user set (`do not
/// disturb, lunch "back at 3"`).
pub fn presence_words(p: &Presence) -> String {
    let mut words = status_word(p.status).to_owned();
    if !p.busy_with.is_empty() {
        words.push_str(&format!(" with {}", p.busy_with.join(", ")));
    }
    if p.availability != Availability::Available {
        words.push_str(&format!(", {}", p.availability.as_str().replace('_', " ")));
    }
    // While busy, `on the phone` says nothing `busy with` did not.
    if let Some(a) = p
        .activity
        .filter(|a| *a != Activity::OnThePhone || p.busy_with.is_empty())
    {
        words.push_str(&format!(", {}", a.as_str().replace('_', " ")));
    }
    if let Some(note) = &p.note {
        words.push_str(&format!(" \"{note}\""));
    }
    words
}

pub fn user_line(u: &UserEntry) -> String {
    let mut line = format!(
        "{:<20} {:<24} {}",
        u.user_id,
        u.display_name,
        presence_words(&u.presence)
    );
    if !u.presence.devices.is_empty() {
        line.push_str(&format!(" ({} device(s))", u.presence.devices.len()));
    }
    line
}

/// What a channel is called from `me`'s side: the group name or the other participant.
pub fn channel_title(c: &Channel, me: &str) -> String {
    match c.kind {
        ChannelKind::Group => format!("#{}", c.name.clone().unwrap_or_default()),
        ChannelKind::Direct => c
            .participants
            .iter()
            .find(|p| *p != me)
            .cloned()
            .unwrap_or_else(|| me.to_owned()),
    }
}

pub fn channel_line(c: &Channel, me: &str) -> String {
    let last = c
        .last_message
        .as_ref()
        .map(|m| format!("  {}: {}", m.sender, preview(&m.text, 40)))
        .unwrap_or_default();
    format!(
        "{:<36} {:<20} unread {:<4}{}",
        c.channel_id,
        channel_title(c, me),
        c.unread_count,
        last
    )
}

fn preview(text: &str, max: usize) -> String {
    let one_line = text.replace('\n', " ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

pub fn message_line(m: &Message) -> String {
    format!(
        "{:>6}  {}  {}: {}",
        m.seq,
        local(&m.created_at),
        m.sender,
        m.text
    )
}

/// How `parla watch` names channels: `#name` for a group, `@user` for a direct channel
/// (the other person), learnt from the channel list and from `channel_added`.
#[derive(Debug, Default)]
pub struct ChannelNames {
    me: String,
    names: std::collections::HashMap<String, String>,
}

impl ChannelNames {
    #[must_use]
    pub fn new(me: &str, channels: &[Channel]) -> ChannelNames {
        let mut n = ChannelNames {
            me: me.to_owned(),
            names: std::collections::HashMap::new(),
        };
        for c in channels {
            n.learn(c);
        }
        n
    }

    pub fn learn(&mut self, c: &Channel) {
        let name = match c.kind {
            ChannelKind::Group => format!("#{}", c.name.as_deref().unwrap_or(&c.channel_id)),
            ChannelKind::Direct => c
                .participants
                .iter()
                .find(|p| **p != self.me)
                .map_or_else(|| c.channel_id.clone(), |p| format!("@{p}")),
        };
        self.names.insert(c.channel_id.clone(), name);
    }

    /// The channel's name, or its id when it is not known (yet).
    #[must_use]
    pub fn of<'a>(&'a self, channel_id: &'a str) -> &'a str {
        self.names
            .get(channel_id)
            .map_or(channel_id, String::as_str)
    }
}

/// One human-readable line per event for `parla watch`.
pub fn event_line(e: &Event, names: &ChannelNames) -> String {
    match e {
        Event::Connection { state } => match state {
            ConnectionState::Connecting => "* connecting".into(),
            ConnectionState::Connected => "* connected".into(),
            ConnectionState::Reconnecting {
                attempt,
                retry_in_ms,
            } => format!(
                "* connection lost; attempt {attempt} in {:.1} s",
                *retry_in_ms as f64 / 1000.0
            ),
            ConnectionState::Failed { code, message } => {
                format!("* disconnected for good [{code}]: {message}")
            }
            ConnectionState::Closed => "* closed".into(),
        },
        Event::Ready { user_id, .. } => format!("* signed in as {user_id}"),
        Event::Message { message } | Event::MessageSent { message } => format!(
            "[{}] {} {}: {}",
            names.of(&message.channel_id),
            local(&message.created_at),
            message.sender,
            message.text
        ),
        Event::MessageFailed {
            client_id, code, ..
        } => format!("! message {client_id} not sent [{code}]"),
        Event::ChannelAdded { channel } => format!(
            "* new channel {} ({})",
            names.of(&channel.channel_id),
            channel.participants.join(", ")
        ),
        Event::ChannelRemoved { channel_id } => {
            format!("* channel {} removed", names.of(channel_id))
        }
        Event::Read { state } => format!(
            "* {} read up to {} ({} unread)",
            names.of(&state.channel_id),
            state.read_seq,
            state.unread_count
        ),
        Event::UserUpdated { user } => {
            format!("* {} is now {}", user.user_id, user.display_name)
        }
        Event::Contact { change, contact } => format!(
            "* contact {} {}",
            contact.primary_contact,
            match change {
                crate::proto::ContactChange::Added => "added",
                crate::proto::ContactChange::Updated => "updated",
                crate::proto::ContactChange::Removed => "removed",
            }
        ),
        Event::Presence { presence } => {
            format!("* {} is {}", presence.user_id, presence_words(presence))
        }
        Event::TokenAboutToExpire { expires_at } => {
            format!("* access token expires at {}", local(expires_at))
        }
        Event::TokenRefreshed { expires_at } => {
            format!("* access token renewed until {}", local(expires_at))
        }
        Event::ForceDisconnect { reason } => format!("* disconnected by the server: {reason}"),
        Event::Resumed { replayed } => format!("* caught up ({replayed} missed message(s))"),
        Event::CallIncoming { call } => {
            format!("* incoming call {} from {}", call.room_id, call.caller)
        }
        Event::Call { view } => match view.state {
            crate::client::call::CallState::Ended { reason } => {
                format!("* call {} ended: {}", view.call.room_id, reason.as_str())
            }
            state => format!("* call {} {}", view.call.room_id, state.as_str()),
        },
        Event::CallMoved { from_room, view } => {
            format!(
                "* call {from_room} goes on as {} with {}",
                view.call.room_id,
                view.call.others(&view.me).join(", ")
            )
        }
        Event::CallSignal {
            room_id, from_user, ..
        } => {
            format!("* call {room_id}: signaling from {from_user}")
        }
        Event::CallHistory {
            change,
            entry,
            room_id,
            missed_unseen,
        } => match (change, entry, room_id) {
            (crate::proto::CallHistoryChange::Added, Some(e), _) => format!(
                "* call history: {} {} with {}{} ({} missed unseen)",
                e.room_id,
                if e.missed {
                    "missed"
                } else {
                    e.end_reason.as_str()
                },
                e.with.join(", "),
                if e.duration_s > 0 {
                    format!(", {} s", e.duration_s)
                } else {
                    String::new()
                },
                missed_unseen
            ),
            (crate::proto::CallHistoryChange::Deleted, _, Some(room)) => {
                format!("* call history: {room} deleted")
            }
            (crate::proto::CallHistoryChange::Cleared, _, _) => "* call history cleared".into(),
            _ => format!("* call history: {missed_unseen} missed unseen"),
        },
        Event::Voicemail {
            voicemail,
            indicator,
            ..
        } => {
            let waiting = format!(
                "{} voice message(s), {} unheard",
                indicator.total_voice, indicator.unheard_voice
            );
            match voicemail {
                Some(v) => format!(
                    "* voice message from {} ({} s): {} · {waiting}",
                    v.from,
                    v.duration_ms.div_ceil(1000),
                    v.voicemail_id
                ),
                None => format!("* voicemail: {waiting}"),
            }
        }
        Event::CallOperation {
            room_id,
            operation,
            stage,
        } => {
            let op = operation.as_str();
            match stage {
                crate::client::OperationStage::Started => format!("* call {room_id}: {op}…"),
                crate::client::OperationStage::Finished => format!("* call {room_id}: {op} done"),
                crate::client::OperationStage::Failed { code, message } => {
                    format!("! call {room_id}: {op} failed [{code}]: {message}")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(id: &str, kind: ChannelKind, name: Option<&str>, who: &[&str]) -> Channel {
        Channel {
            channel_id: id.into(),
            kind,
            name: name.map(str::to_owned),
            participants: who.iter().map(|s| (*s).to_owned()).collect(),
            created_at: Utc::now(),
            last_seq: 0,
            unread_count: 0,
            read_seq: 0,
            last_message: None,
        }
    }

    #[test]
    fn watch_names_channels_by_group_name_or_the_other_person() {
        let mut names = ChannelNames::new(
            "alice",
            &[channel(
                "ch_1",
                ChannelKind::Direct,
                None,
                &["alice", "bob"],
            )],
        );
        let message = Message {
            message_id: "m1".into(),
            channel_id: "ch_1".into(),
            seq: 1,
            sender: "bob".into(),
            text: "hi".into(),
            created_at: Utc::now(),
            client_id: "c1".into(),
            voicemail_id: None,
        };
        let line = event_line(
            &Event::Message {
                message: message.clone(),
            },
            &names,
        );
        assert!(line.starts_with("[@bob] "), "{line}");
        let team = channel("ch_2", ChannelKind::Group, Some("team"), &["alice", "bob"]);
        names.learn(&team);
        let line = event_line(&Event::ChannelAdded { channel: team }, &names);
        assert!(line.contains("new channel #team"), "{line}");
        // Unknown: the id.
        let other = Message {
            channel_id: "ch_9".into(),
            ..message
        };
        assert!(event_line(&Event::Message { message: other }, &names).starts_with("[ch_9] "));
    }
}
