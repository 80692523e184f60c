//! The interface's fixtures for the `TestBackend` tests: a user with conversations and
//! people around, one with a conversation open, one in a call; drawing and key helpers.

#![allow(dead_code)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;

use parla::client::call::{CallState, CallView};
use parla::client::Event;
use parla::media::stats::CallStats;
use parla::proto::{
    Call, CallParticipant, CallStatus, Channel, ChannelKind, DevicePresence, Message,
    ParticipantState, Presence, PresenceStatus, UserEntry,
};
use parla::tui::app::App;
use parla::tui::i18n::Strings;
use parla::tui::keymap::{Action, Keymap};
use parla::tui::theme::Theme;
use parla::tui::ui;

pub fn at(min: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap() + Duration::minutes(min)
}

pub fn user(id: &str, name: &str, status: PresenceStatus, busy_with: &[&str]) -> UserEntry {
    UserEntry {
        user_id: id.into(),
        display_name: name.into(),
        presence: Presence {
            user_id: id.into(),
            status,
            busy_with: busy_with
                .iter()
                .map(std::string::ToString::to_string)
                .collect(),
            devices: Vec::<DevicePresence>::new(),
            availability: parla::proto::Availability::Available,
            activity: None,
            note: None,
        },
        profile: parla::proto::Profile::default(),
    }
}

pub fn message(channel: &str, seq: u64, sender: &str, text: &str, min: i64) -> Message {
    Message {
        message_id: format!("m{seq}"),
        channel_id: channel.into(),
        seq,
        sender: sender.into(),
        text: text.into(),
        created_at: at(min),
        client_id: format!("c{seq}"),
        voicemail_id: None,
    }
}

pub fn channel(
    id: &str,
    kind: ChannelKind,
    name: Option<&str>,
    who: &[&str],
    unread: u64,
    last: Option<Message>,
) -> Channel {
    Channel {
        channel_id: id.into(),
        kind,
        name: name.map(str::to_owned),
        participants: who.iter().map(std::string::ToString::to_string).collect(),
        created_at: at(-3000),
        last_seq: last.as_ref().map_or(0, |m| m.seq),
        unread_count: unread,
        read_seq: 0,
        last_message: last,
    }
}

pub fn call(room: &str, with: &str, status: CallStatus) -> Call {
    Call {
        room_id: room.into(),
        caller: "you".into(),
        created_at: at(0),
        status,
        participants: vec![
            CallParticipant {
                device_id: Some("d1".into()),
                ..CallParticipant::new("you", ParticipantState::Calling)
            },
            CallParticipant {
                device_id: Some("d2".into()),
                ..CallParticipant::new(with, ParticipantState::Joined)
            },
        ],
        answered_at: None,
        ended_at: None,
        end_reason: None,
    }
}

/// A user with some conversations and people around, nothing open.
pub fn app(language: &str) -> App {
    app_with_keymap(language, "default")
}

/// The same, with the built-in keymap `keymap` (default or vim).
pub fn app_with_keymap(language: &str, keymap: &str) -> App {
    std::env::set_var("TZ", "UTC");
    let strings = Strings::for_language(language).unwrap();
    let (keymap, _) = Keymap::load(keymap, None);
    let mut app = App::new(strings, keymap);
    app.tick(at(30));
    let bob_last = message(
        "ch_bob",
        3,
        "bob",
        "Try calling the echo bot: it plays your voice back.",
        12,
    );
    app.on_loaded(
        "you".into(),
        vec![
            channel(
                "ch_bob",
                ChannelKind::Direct,
                None,
                &["you", "bob"],
                2,
                Some(bob_last),
            ),
            channel(
                "ch_team",
                ChannelKind::Group,
                Some("team"),
                &["you", "bob", "carol"],
                0,
                Some(message(
                    "ch_team",
                    1,
                    "carol",
                    "Stand-up moved to 10:30.",
                    5,
                )),
            ),
            channel(
                "ch_alice",
                ChannelKind::Direct,
                None,
                &["you", "alice"],
                0,
                None,
            ),
        ],
        vec![
            user("you", "You", PresenceStatus::Online, &[]),
            user("alice", "Alice", PresenceStatus::Online, &[]),
            user("bob", "Bob", PresenceStatus::Busy, &["carol"]),
            user("carol", "Carol", PresenceStatus::Busy, &["bob"]),
            user("echo", "Echo", PresenceStatus::Online, &[]),
            user("dave", "Dave", PresenceStatus::Offline, &[]),
        ],
    );
    app.on_event(&Event::Connection {
        state: parla::client::session::ConnectionState::Connected,
    });
    app
}

/// The same, with bob's conversation open (history across two days, one failed message).
pub fn chatting(language: &str) -> App {
    let mut app = app(language);
    app.open_channel("ch_bob");
    app.on_history(
        "ch_bob",
        vec![
            message("ch_bob", 1, "bob", "Hi! Welcome to parla.", -1440),
            message("ch_bob", 2, "you", "Thanks, looking around. This is a longer line that has to wrap inside the chat pane when the terminal is narrow.", 10),
            message("ch_bob", 3, "bob", "Try calling the echo bot: it plays your voice back.", 12),
        ],
        true,
    );
    app.on_queued("ch_bob", "q1", "on its way");
    app.on_queued("ch_bob", "q2", "this one failed");
    app.on_event(&Event::MessageFailed {
        client_id: "q2".into(),
        channel_id: "ch_bob".into(),
        code: "message_too_large".into(),
        error: "too large".into(),
    });
    // A draft left in the composer.
    app.on_action(Action::Compose);
    app.on_paste(
        "a draft
over two lines",
    );
    app.on_action(Action::Cancel);
    app
}

/// In a call with echo, with statistics.
pub fn in_call(language: &str) -> App {
    let mut app = chatting(language);
    let mut view = CallView::outgoing(call("call_1", "echo", CallStatus::Dialing), "you");
    app.on_event(&Event::Call { view: view.clone() });
    view.call = call("call_1", "echo", CallStatus::Connected);
    view.state = CallState::Connected;
    view.media_up = true;
    view.connected_at = Some(at(28));
    app.on_event(&Event::Call { view });
    for mos in [4.2, 4.3, 4.4, 4.1, 3.9, 4.4] {
        app.on_call_stats(
            "call_1",
            CallStats {
                rtt_ms: Some(1.0),
                loss_pct: 0.5,
                concealed_pct: 0.0,
                jitter_ms: 2.0,
                jitter_buffer_ms: 21.0,
                send_kbps: 140.0,
                recv_kbps: 139.0,
                send_level_dbfs: -12.0,
                recv_level_dbfs: -24.0,
                mos: Some(mos),
                frames_sent: 100,
                packets_received: 100,
                frames_played: 100,
                frames_concealed: 0,
                frames_recovered: 0,
                device_overruns: 0,
                device_underruns: 3,
                ..CallStats::default()
            },
        );
    }
    app
}

pub fn draw(app: &mut App, theme: &Theme, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| ui::render(f, app, theme)).unwrap();
    let areas = ui::areas(app, ratatui::layout::Rect::new(0, 0, w, h));
    app.on_drawn(areas);
    t
}

pub fn text(app: &mut App, w: u16, h: u16) -> String {
    let theme = Theme::builtin("dark").unwrap();
    let t = draw(app, &theme, w, h);
    ui::buffer_text(t.backend().buffer())
}

pub fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

pub fn alt(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::ALT)
}

pub fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

/// Types `text` key by key.
pub fn type_text(app: &mut App, text: &str) -> Vec<parla::tui::app::Job> {
    text.chars()
        .flat_map(|c| app.on_key(key(KeyCode::Char(c))))
        .collect()
}

/// An incoming call from `from`, announced and ringing.
pub fn ring(app: &mut App, room: &str, from: &str) -> Call {
    let mut incoming = call(room, "you", CallStatus::Dialing);
    incoming.caller = from.into();
    incoming.participants[0].user_id = from.into();
    incoming.participants[1].user_id = "you".into();
    incoming.participants[1].state = ParticipantState::Ringing;
    app.on_event(&Event::CallIncoming {
        call: incoming.clone(),
    });
    app.on_event(&Event::Call {
        view: CallView::incoming(incoming.clone(), "you"),
    });
    incoming
}

/// Call `room` ended with `reason` before it was answered.
pub fn ring_ended(app: &mut App, incoming: Call, reason: parla::proto::EndReason) {
    let mut view = CallView::incoming(incoming, "you");
    view.state = CallState::Ended { reason };
    app.on_event(&Event::Call { view });
}
