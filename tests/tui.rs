//! The interface drawn into a `TestBackend`: every pane, modal and theme at 80x24 and
//! 160x48, compared with the snapshots in tests/snapshots (review changes with
//! `cargo insta review`, or accept them with `INSTA_UPDATE=always`). Plus the state
//! changes input makes, and the keymap and theme loading.

#[path = "common/tui_fixtures.rs"]
mod fixtures;

use chrono::Duration;
use fixtures::*;
use parla::client::call::{CallState, CallView};
use parla::client::Event;
use parla::proto::{CallStatus, EndReason, Message, ParticipantState};
use parla::tui::app::{Job, Modal, Pane};
use parla::tui::keymap::Action;
use parla::tui::theme::Theme;
use parla::tui::ui;
use ratatui::crossterm::event::{KeyCode, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

#[test]
fn every_pane_and_modal_at_both_sizes() {
    for (w, h) in [(80, 24), (160, 48)] {
        let size = format!("{w}x{h}");
        insta::assert_snapshot!(format!("lists_{size}"), text(&mut app("en"), w, h));
        insta::assert_snapshot!(format!("chat_{size}"), text(&mut chatting("en"), w, h));
        let mut c = chatting("en");
        c.on_key(key(KeyCode::Char('i')));
        insta::assert_snapshot!(format!("composer_{size}"), text(&mut c, w, h));
        insta::assert_snapshot!(format!("call_{size}"), text(&mut in_call("en"), w, h));
        let mut c = in_call("en");
        c.on_key(alt('d'));
        c.on_key(key(KeyCode::Char('1')));
        c.on_key(key(KeyCode::Char('#')));
        assert!(matches!(c.modal(), Some(Modal::Dialpad { .. })));
        insta::assert_snapshot!(format!("dialpad_{size}"), text(&mut c, w, h));
        let mut c = app("en");
        c.on_key(key(KeyCode::Char('?')));
        insta::assert_snapshot!(format!("help_{size}"), text(&mut c, w, h));
        let mut c = app("en");
        let mut incoming = call("call_2", "you", CallStatus::Dialing);
        incoming.caller = "carol".into();
        incoming.participants[0].user_id = "carol".into();
        incoming.participants[1].user_id = "you".into();
        incoming.participants[1].state = ParticipantState::Ringing;
        c.on_event(&Event::CallIncoming {
            call: incoming.clone(),
        });
        c.on_event(&Event::Call {
            view: CallView::incoming(incoming, "you"),
        });
        insta::assert_snapshot!(format!("incoming_{size}"), text(&mut c, w, h));
    }
}

/// The mailbox window (one message new, one heard, one playing after Enter) and the offer
/// to leave a message after an unanswered call, before and while recording.
#[test]
fn the_voice_message_windows() {
    use parla::proto::Voicemail;
    let mut c = app("en");
    let jobs = c.on_key(alt('v'));
    assert_eq!(jobs, vec![Job::LoadMailbox]);
    let message = |id: &str, from: &str, min: i64, ms: u64, heard: bool| -> Voicemail {
        serde_json::from_value(serde_json::json!({
            "voicemail_id": id, "from": from, "room_id": "call_1",
            "created_at": at(min), "duration_ms": ms, "bytes": 4000, "heard": heard,
        }))
        .unwrap()
    };
    c.on_mailbox(vec![
        message("vm_2", "bob", 20, 12_300, false),
        message("vm_1", "dave", 5, 61_000, true),
    ]);
    insta::assert_snapshot!("mailbox_80x24", text(&mut c, 80, 24));
    c.on_key(key(KeyCode::Down));
    let jobs = c.on_key(key(KeyCode::Enter));
    assert_eq!(
        jobs,
        vec![Job::PlayVoicemail {
            voicemail_id: "vm_1".into()
        }]
    );
    insta::assert_snapshot!("mailbox_playing_80x24", text(&mut c, 80, 24));
    let jobs = c.on_key(key(KeyCode::Char('d')));
    assert_eq!(
        jobs,
        vec![
            Job::StopPlayback,
            Job::DeleteVoicemail {
                voicemail_id: "vm_1".into()
            }
        ]
    );
    assert_eq!(c.mailbox().len(), 1);

    // A call of yours that rang out: the offer, then recording.
    let mut c = app("en");
    let placed = call("call_9", "bob", CallStatus::Dialing);
    let view = CallView::outgoing(placed.clone(), "you");
    c.on_event(&Event::Call { view: view.clone() });
    let mut ended = view;
    ended.call.status = CallStatus::Ended;
    ended.on_ended(EndReason::Timeout, at(31));
    c.on_event(&Event::Call { view: ended });
    assert!(matches!(c.modal(), Some(Modal::LeaveVoicemail { .. })));
    insta::assert_snapshot!("leave_voicemail_80x24", text(&mut c, 80, 24));
    let jobs = c.on_key(key(KeyCode::Char('r')));
    assert!(matches!(&jobs[..], [Job::RecordVoicemail { room_id, .. }] if room_id == "call_9"));
    insta::assert_snapshot!("leave_voicemail_recording_80x24", text(&mut c, 80, 24));
    assert_eq!(
        c.on_key(key(KeyCode::Enter)),
        vec![Job::FinishRecording { send: true }]
    );
    assert!(c.modal().is_none());

    // An answered call, or one you hung up yourself, offers nothing.
    let mut c = app("en");
    let view = CallView::outgoing(call("call_8", "bob", CallStatus::Dialing), "you");
    c.on_event(&Event::Call { view: view.clone() });
    let mut ended = view;
    ended.on_ended(EndReason::Canceled, at(31));
    c.on_event(&Event::Call { view: ended });
    assert!(c.modal().is_none());
}

/// Calling someone offline: the message is offered at once; recording gives the call up
/// first, `Esc` leaves it ringing, and an answer after all closes the offer.
#[test]
fn calling_someone_offline_offers_a_voice_message_at_once() {
    let mut c = app("en");
    let view = CallView::outgoing(call("call_7", "dave", CallStatus::Dialing), "you");
    c.on_event(&Event::Call { view: view.clone() });
    assert!(matches!(
        c.modal(),
        Some(Modal::LeaveVoicemail { ringing: true, .. })
    ));
    insta::assert_snapshot!("leave_voicemail_offline_80x24", text(&mut c, 80, 24));
    let jobs = c.on_key(key(KeyCode::Char('r')));
    assert!(
        matches!(&jobs[..], [Job::Hangup { room_id: a }, Job::RecordVoicemail { room_id: b, .. }]
            if a == "call_7" && b == "call_7"),
        "{jobs:?}"
    );
    // The call ending (given up) does not offer a second time over the recording.
    let mut ended = view.clone();
    ended.on_ended(EndReason::Canceled, at(31));
    c.on_event(&Event::Call { view: ended });
    assert!(matches!(
        c.modal(),
        Some(Modal::LeaveVoicemail { since: Some(_), .. })
    ));
    // Still open when the call rings out: the offer becomes the one after no answer.
    let mut c = app("en");
    c.on_event(&Event::Call { view: view.clone() });
    let mut rang_out = view.clone();
    rang_out.call.status = CallStatus::Ended;
    rang_out.on_ended(EndReason::Timeout, at(31));
    c.on_event(&Event::Call { view: rang_out });
    assert!(
        matches!(
            c.modal(),
            Some(Modal::LeaveVoicemail {
                ringing: false,
                since: None,
                ..
            })
        ),
        "{:?}",
        c.modal()
    );
    assert!(matches!(
        &c.on_key(key(KeyCode::Char('r')))[..],
        [Job::RecordVoicemail { .. }]
    ));
    // Esc leaves it ringing; dave connecting and answering closes an open offer.
    let mut c = app("en");
    c.on_event(&Event::Call { view: view.clone() });
    assert!(c.on_key(key(KeyCode::Esc)).is_empty());
    assert!(c.modal().is_none());
    assert!(!c.calls().is_empty());
    let mut c = app("en");
    c.on_event(&Event::Call { view: view.clone() });
    let mut answered = view;
    answered.call.status = CallStatus::Connected;
    c.on_event(&Event::Call { view: answered });
    assert!(c.modal().is_none(), "{:?}", c.modal());
}

#[test]
fn every_theme_styles_the_call_and_chat() {
    for name in ["dark", "light", "high-contrast"] {
        let theme = Theme::builtin(name).unwrap();
        for (w, h) in [(80, 24), (160, 48)] {
            let mut a = in_call("en");
            let t = draw(&mut a, &theme, w, h);
            insta::assert_debug_snapshot!(format!("theme_{name}_{w}x{h}"), t.backend().buffer());
        }
    }
    // NO_COLOR keeps the layout and drops the colours.
    let (plain, _) = Theme::load("dark", None, true);
    let mut a = in_call("en");
    let t = draw(&mut a, &plain, 80, 24);
    let buf = t.backend().buffer();
    assert!(buf
        .content()
        .iter()
        .all(|c| c.fg == ratatui::style::Color::Reset && c.bg == ratatui::style::Color::Reset));
}

#[test]
fn every_language_draws_the_call() {
    for lang in ["it", "es", "pt"] {
        insta::assert_snapshot!(format!("call_{lang}"), text(&mut in_call(lang), 80, 24));
    }
}

#[test]
fn keys_move_focus_open_write_and_send() {
    let mut a = app("en");
    assert_eq!(a.focus(), Pane::Channels);
    a.on_key(key(KeyCode::Tab));
    assert_eq!(a.focus(), Pane::Users);
    a.on_key(key(KeyCode::BackTab));
    assert_eq!(a.focus(), Pane::Channels);
    // Channels are listed newest first: bob's conversation is on top.
    let open = a.on_key(key(KeyCode::Enter));
    assert_eq!(
        open,
        vec![Job::OpenChannel {
            channel_id: "ch_bob".into()
        }]
    );
    assert_eq!(a.focus(), Pane::Chat);
    a.on_key(key(KeyCode::Char('i')));
    for c in "hi? c".chars() {
        assert!(
            a.on_key(key(KeyCode::Char(c))).is_empty(),
            "`{c}` is text while writing"
        );
    }
    assert!(a.modal().is_none());
    let sent = a.on_key(key(KeyCode::Enter));
    assert_eq!(
        sent,
        vec![Job::Send {
            channel_id: "ch_bob".into(),
            text: "hi? c".into()
        }]
    );
    // Drafts are per channel.
    a.on_key(key(KeyCode::Char('x')));
    a.on_key(key(KeyCode::Esc));
    a.open_channel("ch_team");
    assert_eq!(a.draft("ch_bob"), Some("x"));
    assert_eq!(a.draft("ch_team"), None);
}

#[test]
fn the_people_filter_narrows_the_list_and_c_calls() {
    let mut a = app("en");
    a.on_key(key(KeyCode::Tab));
    a.on_key(key(KeyCode::Char('/')));
    for c in "ech".chars() {
        a.on_key(key(KeyCode::Char(c)));
    }
    let shown: Vec<String> = a
        .visible_users()
        .iter()
        .map(|u| u.user_id.clone())
        .collect();
    assert_eq!(shown, vec!["echo"]);
    a.on_key(key(KeyCode::Enter));
    let dial = a.on_key(key(KeyCode::Char('c')));
    assert_eq!(
        dial,
        vec![Job::Dial {
            users: vec!["echo".into()]
        }]
    );
    let screen = text(&mut a, 80, 24);
    assert!(screen.contains("filter: ech"), "{screen}");
}

#[test]
fn call_keys_act_on_the_current_call() {
    let mut a = in_call("en");
    assert_eq!(
        a.on_key(alt('h')),
        vec![Job::Hold {
            room_id: "call_1".into(),
            on: true
        }]
    );
    assert_eq!(
        a.on_key(alt('m')),
        vec![Job::Mute {
            room_id: "call_1".into(),
            on: true
        }]
    );
    assert!(text(&mut a, 80, 24).contains("MUTED"));
    a.on_key(alt('d'));
    assert_eq!(
        a.on_key(key(KeyCode::Char('5'))),
        vec![Job::Dtmf {
            room_id: "call_1".into(),
            digits: "5".into()
        }]
    );
    a.on_key(key(KeyCode::Esc));
    assert!(a.modal().is_none());
    assert_eq!(
        a.on_key(alt('e')),
        vec![Job::Hangup {
            room_id: "call_1".into()
        }]
    );
}

#[test]
fn an_incoming_call_rings_answers_and_holds_the_other() {
    let mut a = in_call("en");
    let mut incoming = call("call_2", "you", CallStatus::Dialing);
    incoming.caller = "carol".into();
    incoming.participants[0].user_id = "carol".into();
    incoming.participants[1].user_id = "you".into();
    let bell = a.on_event(&Event::CallIncoming {
        call: incoming.clone(),
    });
    assert_eq!(bell, vec![Job::Bell]);
    a.on_event(&Event::Call {
        view: CallView::incoming(incoming, "you"),
    });
    assert!(matches!(a.modal(), Some(Modal::Incoming { .. })));
    assert!(text(&mut a, 80, 24).contains("Carol is calling you"));
    let answer = a.on_key(alt('a'));
    assert_eq!(
        answer,
        vec![
            Job::Hold {
                room_id: "call_1".into(),
                on: true
            },
            Job::Answer {
                room_id: "call_2".into()
            },
        ]
    );
    assert!(a.modal().is_none());
    // Esc on a ringing call silences it; alt-n declines as busy.
    let mut a = app("en");
    let mut incoming = call("call_3", "you", CallStatus::Dialing);
    incoming.caller = "bob".into();
    a.on_event(&Event::CallIncoming {
        call: incoming.clone(),
    });
    a.on_event(&Event::Call {
        view: CallView::incoming(incoming.clone(), "you"),
    });
    assert_eq!(
        a.on_key(key(KeyCode::Esc)),
        vec![Job::Ring {
            room_id: "call_3".into(),
            on: false
        }]
    );
    assert!(a.modal().is_none());
    // It rings again (another device's ring, say): the prompt is back.
    a.on_event(&Event::CallIncoming { call: incoming });
    assert!(matches!(a.modal(), Some(Modal::Incoming { .. })));
    assert_eq!(
        a.on_key(alt('n')),
        vec![Job::Decline {
            room_id: "call_3".into(),
            reason: parla::proto::DeclineReason::DoNotDisturb
        }]
    );
}

#[test]
fn messages_in_other_channels_ring_the_bell_and_show_a_toast() {
    let mut a = chatting("en");
    let out = a.on_event(&Event::Message {
        message: message("ch_team", 2, "carol", "lunch?", 29),
    });
    assert_eq!(out, vec![Job::Bell]);
    assert!(text(&mut a, 80, 24).contains("Carol: lunch?"));
    let team = a
        .channels()
        .iter()
        .find(|c| c.channel_id == "ch_team")
        .unwrap();
    assert_eq!(team.unread_count, 1);
    // In the open channel: no bell, marked read.
    let out = a.on_event(&Event::Message {
        message: message("ch_bob", 4, "bob", "here?", 29),
    });
    assert_eq!(
        out,
        vec![Job::MarkRead {
            channel_id: "ch_bob".into(),
            seq: 4
        }]
    );
    // The pending message is confirmed in place.
    let mut mine = message("ch_bob", 5, "you", "on its way", 29);
    mine.client_id = "q1".into();
    a.on_event(&Event::MessageSent { message: mine });
    let screen = text(&mut a, 80, 24);
    assert!(!screen.contains("sending…"), "{screen}");
}

#[test]
fn the_mouse_selects_panes_and_items() {
    let mut a = app("en");
    text(&mut a, 80, 24);
    let users = ui::areas(&a, ratatui::layout::Rect::new(0, 0, 80, 24)).users;
    let click = MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: users.x + 3,
        // alice, bob, carol, echo (online first): the fourth line.
        row: users.y + 4,
        modifiers: KeyModifiers::NONE,
    };
    let out = a.on_mouse(click);
    assert_eq!(a.focus(), Pane::Users);
    assert_eq!(a.selection(Pane::Users), 3);
    assert_eq!(
        out,
        vec![Job::OpenDirect {
            user_id: "echo".into()
        }]
    );
    // bob has a conversation already: a click opens it.
    let out = a.on_mouse(MouseEvent {
        row: users.y + 2,
        ..click
    });
    assert_eq!(a.focus(), Pane::Chat);
    assert_eq!(a.current(), Some("ch_bob"));
    assert_eq!(
        out,
        vec![Job::OpenChannel {
            channel_id: "ch_bob".into()
        }]
    );
}

#[test]
fn a_hundred_thousand_messages_draw_only_what_fits() {
    let mut a = app("en");
    a.open_channel("ch_bob");
    let many: Vec<Message> = (1..=100_000)
        .map(|i| {
            message(
                "ch_bob",
                i,
                if i % 2 == 0 { "you" } else { "bob" },
                &format!("message number {i}"),
                20,
            )
        })
        .collect();
    a.on_history("ch_bob", many, true);
    let screen = text(&mut a, 80, 24);
    assert!(screen.contains("message number 100000"), "{screen}");
    // Scrolling back a page shows older ones and asks for nothing (all loaded).
    let out = a.on_key(key(KeyCode::PageUp));
    assert!(out.is_empty());
    let screen = text(&mut a, 80, 24);
    assert!(screen.contains("message number 99990"), "{screen}");
    assert!(!screen.contains("message number 100000"), "{screen}");
}

#[test]
fn terminal_resizes_are_drawn_at_the_new_size() {
    let mut a = in_call("en");
    for (w, h) in [(80, 24), (120, 40), (60, 18), (200, 60)] {
        let screen = text(&mut a, w, h);
        assert_eq!(screen.lines().count(), h as usize);
        assert!(screen.contains("Echo"), "{w}x{h}: {screen}");
    }
}

#[test]
fn dialing_or_resuming_holds_the_call_in_progress_first() {
    let mut a = in_call("en");
    // From the people list, `c` on Carol: the call with Echo is held before the dial.
    while a.focus() != Pane::Users {
        a.on_action(Action::FocusNext);
    }
    a.on_key(key(KeyCode::Char('/')));
    for c in "car".chars() {
        a.on_key(key(KeyCode::Char(c)));
    }
    a.on_key(key(KeyCode::Enter));
    assert_eq!(
        a.on_key(key(KeyCode::Char('c'))),
        vec![
            Job::Hold {
                room_id: "call_1".into(),
                on: true
            },
            Job::Dial {
                users: vec!["carol".into()]
            },
        ]
    );
    // The same from the control socket.
    let plan = a.on_ctl(&parla::ctl::CtlRequest::Dial {
        users: vec!["carol".into()],
    });
    assert!(
        matches!(&plan, parla::tui::app::CtlPlan::Run(jobs) if jobs.len() == 2 && matches!(jobs[0], Job::Hold { on: true, .. })),
        "{plan:?}"
    );
    // Echo's call held, Carol's up: resuming Echo's holds Carol's first.
    let mut first = a.active_call().unwrap().view.clone();
    first.local_hold = true;
    first.state = CallState::OnHold {
        local: true,
        remote: false,
    };
    a.on_event(&Event::Call { view: first });
    let mut second = CallView::outgoing(call("call_2", "carol", CallStatus::Dialing), "you");
    a.on_event(&Event::Call {
        view: second.clone(),
    });
    second.call = call("call_2", "carol", CallStatus::Connected);
    second.state = CallState::Connected;
    second.media_up = true;
    a.on_event(&Event::Call { view: second });
    let plan = a.on_ctl(&parla::ctl::CtlRequest::Resume {
        room_id: Some("call_1".into()),
    });
    let parla::tui::app::CtlPlan::Run(jobs) = plan else {
        panic!("{plan:?}");
    };
    assert_eq!(
        jobs,
        vec![
            Job::Hold {
                room_id: "call_2".into(),
                on: true
            },
            Job::Hold {
                room_id: "call_1".into(),
                on: false
            },
        ]
    );
    assert_eq!(a.active_call().unwrap().view.call.room_id, "call_1");
}

#[test]
fn switching_calls_holds_one_and_takes_the_other() {
    let mut a = in_call("en");
    let mut second = CallView::outgoing(call("call_2", "carol", CallStatus::Dialing), "you");
    a.on_event(&Event::Call {
        view: second.clone(),
    });
    second.call = call("call_2", "carol", CallStatus::Connected);
    second.state = CallState::OnHold {
        local: true,
        remote: false,
    };
    second.local_hold = true;
    second.media_up = true;
    second.connected_at = Some(at(29));
    a.on_event(&Event::Call { view: second });
    // Back to the call with echo (the one placed last became current), then switch.
    while a.focus() != Pane::Calls {
        a.on_action(Action::FocusNext);
    }
    a.on_key(key(KeyCode::Up));
    assert_eq!(a.active_call().unwrap().view.call.room_id, "call_1");
    assert_eq!(
        a.on_key(alt('s')),
        vec![
            Job::Hold {
                room_id: "call_1".into(),
                on: true
            },
            Job::Hold {
                room_id: "call_2".into(),
                on: false
            },
        ]
    );
    assert_eq!(a.active_call().unwrap().view.call.room_id, "call_2");
    let screen = text(&mut a, 80, 24);
    assert!(screen.contains("2/2"), "{screen}");
}

#[test]
fn the_status_line_counts_down_to_the_next_connection_attempt() {
    let mut a = app("en");
    a.on_event(&Event::Connection {
        state: parla::client::session::ConnectionState::Reconnecting {
            attempt: 3,
            retry_in_ms: 9_000,
        },
    });
    assert!(text(&mut a, 80, 24).contains("Reconnecting in 9 s (attempt 3)"));
    a.tick(a.now() + Duration::milliseconds(4_500));
    assert!(text(&mut a, 80, 24).contains("Reconnecting in 5 s (attempt 3)"));
    a.on_event(&Event::Connection {
        state: parla::client::session::ConnectionState::Connected,
    });
    a.on_event(&Event::TokenRefreshed { expires_at: at(90) });
    assert!(text(&mut a, 80, 24).contains("Session renewed"));
    for i in 0..20 {
        a.tick(at(31) + Duration::milliseconds(250 * i));
    }
    let screen = text(&mut a, 80, 24);
    assert!(
        screen.contains("Connected") && !screen.contains("Session renewed"),
        "{screen}"
    );
}

#[test]
fn scrolling_back_asks_for_each_older_page_once() {
    let mut a = app("en");
    let open = a.open_channel("ch_team");
    assert_eq!(
        open,
        vec![Job::OpenChannel {
            channel_id: "ch_team".into()
        }]
    );
    // Opening again while the first page is on its way asks for nothing more.
    assert!(a.open_channel("ch_team").is_empty());
    let page = |from: u64| -> Vec<Message> {
        (from..from + 5)
            .map(|seq| message("ch_team", seq, "carol", "hello", 1))
            .collect()
    };
    a.on_history("ch_team", page(101), false);
    // Four presses at the top: one request for the page before 101.
    let mut asked = Vec::new();
    for _ in 0..4 {
        asked.extend(a.on_key(key(KeyCode::PageUp)));
    }
    assert_eq!(
        asked,
        vec![Job::LoadOlder {
            channel_id: "ch_team".into(),
            before_seq: 101
        }]
    );
    // The page arrives: the next press at the new top asks for the one before it.
    a.on_history("ch_team", page(96), false);
    let again = a.on_key(key(KeyCode::PageUp));
    assert_eq!(
        again,
        vec![Job::LoadOlder {
            channel_id: "ch_team".into(),
            before_seq: 96
        }]
    );
    // A page that failed to load is asked for again.
    a.on_history_failed("ch_team", "server_unreachable", "connection refused");
    let retried = a.on_key(key(KeyCode::PageUp));
    assert_eq!(
        retried,
        vec![Job::LoadOlder {
            channel_id: "ch_team".into(),
            before_seq: 96
        }]
    );
}
