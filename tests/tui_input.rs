//! What a person at the keyboard does to the interface's state, checked on `App` and on
//! the drawn screen: typing while a call arrives, answering after silencing, missed calls,
//! quitting with a call up, the composer's editing keys and history, pastes, the vim
//! keymap's modes, and reading a long channel.

#[path = "common/tui_fixtures.rs"]
mod fixtures;

use fixtures::*;
use parla::client::Event;
use parla::proto::{DeclineReason, EndReason};
use parla::tui::app::{Job, Modal, Pane};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn shift(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::SHIFT)
}

fn send_of(jobs: &[Job]) -> Option<&str> {
    jobs.iter().find_map(|j| match j {
        Job::Send { text, .. } => Some(text.as_str()),
        _ => None,
    })
}

fn is_call_job(j: &Job) -> bool {
    matches!(
        j,
        Job::Answer { .. } | Job::Decline { .. } | Job::Hangup { .. } | Job::Hold { .. }
    )
}

/// In bob's conversation, writing, the old draft cleared.
fn writing() -> parla::tui::app::App {
    let mut a = chatting("en");
    a.on_key(key(KeyCode::Char('i')));
    a.on_key(ctrl('u'));
    a.on_key(ctrl('u'));
    a.on_key(ctrl('u'));
    assert_eq!(a.draft("ch_bob"), None, "the fixture's draft is gone");
    a
}

#[test]
fn keys_typed_while_a_call_arrives_stay_in_the_composer() {
    let mut a = writing();
    type_text(&mut a, "see you at ");
    ring(&mut a, "call_2", "carol");
    assert!(matches!(a.modal(), Some(Modal::Incoming { .. })));
    // The keys that used to answer, decline and silence are text now.
    let jobs = type_text(&mut a, "about 10, bad");
    assert!(!jobs.iter().any(is_call_job), "{jobs:?}");
    assert_eq!(a.draft("ch_bob"), Some("see you at about 10, bad"));
    let screen = text(&mut a, 80, 24);
    assert!(screen.contains("Carol is calling you"), "{screen}");
    assert!(
        screen.contains("What you type stays in the composer"),
        "{screen}"
    );
    assert!(screen.contains("alt-a answer"), "{screen}");
    // Enter sends the message, and the call still rings.
    let sent = a.on_key(key(KeyCode::Enter));
    assert_eq!(send_of(&sent), Some("see you at about 10, bad"));
    assert!(!sent.iter().any(is_call_job), "{sent:?}");
    // Esc leaves the composer (it does not silence); the answer key answers.
    assert!(a.on_key(key(KeyCode::Esc)).is_empty());
    assert!(!a.composing());
    assert_eq!(
        a.on_key(alt('a')),
        vec![Job::Answer {
            room_id: "call_2".into()
        }]
    );
}

#[test]
fn a_silenced_call_is_answered_from_the_call_bar_or_the_calls_pane() {
    let mut a = app("en");
    ring(&mut a, "call_2", "carol");
    assert_eq!(
        a.on_key(key(KeyCode::Esc)),
        vec![Job::Ring {
            room_id: "call_2".into(),
            on: false
        }]
    );
    assert!(a.modal().is_none());
    // The call bar says it still rings and how to answer.
    let screen = text(&mut a, 80, 24);
    assert!(screen.contains("Carol is calling"), "{screen}");
    assert!(screen.contains("alt-a answer · alt-x decline"), "{screen}");
    // From the Calls pane, Enter on the ringing call answers it.
    a.on_key(key(KeyCode::Tab));
    a.on_key(key(KeyCode::Tab));
    assert_eq!(a.focus(), Pane::Calls);
    assert_eq!(
        a.on_key(key(KeyCode::Enter)),
        vec![Job::Answer {
            room_id: "call_2".into()
        }]
    );
    // A second silenced ring: declined from anywhere, as busy.
    let mut a = app("en");
    ring(&mut a, "call_3", "bob");
    a.on_key(alt('z'));
    assert_eq!(
        a.on_key(alt('n')),
        vec![Job::Decline {
            room_id: "call_3".into(),
            reason: DeclineReason::DoNotDisturb
        }]
    );
}

/// The server's record of a call that ended (as a `call_history` event brings it).
fn logged(
    a: &mut parla::tui::app::App,
    seq: u64,
    room: &str,
    with: &str,
    missed: bool,
    unseen: u64,
) -> Vec<Job> {
    use parla::proto::{CallDirection, CallHistoryChange, CallLogEntry};
    a.on_event(&parla::client::Event::CallHistory {
        change: CallHistoryChange::Added,
        entry: Some(CallLogEntry {
            seq,
            room_id: room.into(),
            direction: CallDirection::Incoming,
            with: vec![with.into()],
            created_at: at(30),
            answered_at: None,
            ended_at: at(30),
            duration_s: 0,
            end_reason: if missed {
                EndReason::Timeout
            } else {
                EndReason::Declined
            },
            missed,
            seen: false,
            forwarded_to: None,
            transferred_to: None,
            forwarded_by: None,
            transferred_by: None,
        }),
        room_id: None,
        missed_unseen: unseen,
    })
}

#[test]
fn a_missed_call_stays_listed_and_counted_until_seen() {
    let mut a = app("en");
    let first = ring(&mut a, "call_2", "carol");
    a.on_key(key(KeyCode::Esc));
    ring_ended(&mut a, first, EndReason::Timeout);
    logged(&mut a, 1, "call_2", "carol", true, 1);
    let second = ring(&mut a, "call_3", "bob");
    ring_ended(&mut a, second, EndReason::Canceled);
    logged(&mut a, 2, "call_3", "bob", true, 2);
    // Declined here is not missed.
    let third = ring(&mut a, "call_4", "alice");
    a.on_key(alt('x'));
    ring_ended(&mut a, third, EndReason::Declined);
    logged(&mut a, 3, "call_4", "alice", false, 2);
    // A repeat of a record changes nothing.
    logged(&mut a, 2, "call_3", "bob", true, 2);
    assert_eq!(a.recent_calls().len(), 3);
    assert_eq!(a.missed_unseen(), 2);
    let screen = text(&mut a, 80, 24);
    assert!(screen.contains("missed calls: 2"), "{screen}");
    assert!(screen.contains("Missed: Bob 09:30"), "{screen}");
    assert!(screen.contains("← Alice 09:30 · declin"), "{screen}");
    let wide = text(&mut a, 160, 48);
    assert!(wide.contains("Missed: Carol 09:30"), "{wide}");
    assert!(wide.contains("← Alice 09:30 · declined"), "{wide}");
    assert!(
        screen.contains("Missed call from Bob"),
        "the toast: {screen}"
    );
    insta::assert_snapshot!("missed_80x24", screen);
    insta::assert_snapshot!("missed_160x48", text(&mut a, 160, 48));
    // Visiting the Calls pane marks them seen on the server; Enter calls back the newest.
    a.on_key(key(KeyCode::Tab));
    assert_eq!(a.on_key(key(KeyCode::Tab)), vec![Job::MarkCallsSeen]);
    assert_eq!(a.missed_unseen(), 0);
    assert!(!text(&mut a, 80, 24).contains("missed calls:"));
    assert_eq!(
        a.on_key(key(KeyCode::Enter)),
        vec![Job::Dial {
            users: vec!["alice".into()]
        }]
    );
    a.on_key(key(KeyCode::Down));
    assert_eq!(
        a.on_key(key(KeyCode::Enter)),
        vec![Job::Dial {
            users: vec!["bob".into()]
        }]
    );
    // Another missed call while the pane is open is seen at once.
    assert_eq!(
        logged(&mut a, 4, "call_5", "dave", true, 1),
        vec![Job::MarkCallsSeen]
    );
}

#[test]
fn missed_calls_seen_on_another_device_are_seen_here() {
    let mut b = app("en");
    logged(&mut b, 1, "call_2", "carol", true, 1);
    b.on_event(&parla::client::Event::CallHistory {
        change: parla::proto::CallHistoryChange::Seen,
        entry: None,
        room_id: None,
        missed_unseen: 0,
    });
    assert_eq!(b.missed_unseen(), 0);
    assert!(b.recent_calls()[0].seen);
    // `d` on it in the Calls pane deletes it from the history; the server's event takes it
    // off the list.
    b.on_key(key(KeyCode::Tab));
    b.on_key(key(KeyCode::Tab));
    assert_eq!(b.focus(), Pane::Calls);
    assert_eq!(
        b.on_key(key(KeyCode::Char('d'))),
        vec![Job::DeleteCallLog {
            room_id: "call_2".into()
        }]
    );
    b.on_event(&parla::client::Event::CallHistory {
        change: parla::proto::CallHistoryChange::Deleted,
        entry: None,
        room_id: Some("call_2".into()),
        missed_unseen: 0,
    });
    assert!(b.recent_calls().is_empty());
    assert!(text(&mut b, 80, 24).contains("No calls"));
}

#[test]
fn quitting_asks_first_with_a_call_up_or_a_draft_unsent() {
    // Nothing open: ctrl-c quits at once, and so does q in the lists.
    let mut a = app("en");
    assert_eq!(a.on_key(ctrl('c')), vec![Job::Quit]);
    assert_eq!(a.on_key(key(KeyCode::Char('q'))), vec![Job::Quit]);
    // In a call (with a draft): asked; n stays.
    let mut a = in_call("en");
    assert!(a.on_key(ctrl('c')).is_empty());
    assert!(matches!(
        a.modal(),
        Some(Modal::ConfirmQuit {
            calls: 1,
            drafts: 1
        })
    ));
    let screen = text(&mut a, 80, 24);
    assert!(
        screen.contains("Quit parla? Still open: calls: 1, unsent drafts: 1"),
        "{screen}"
    );
    insta::assert_snapshot!("quit_80x24", screen);
    assert!(a.on_key(key(KeyCode::Char('n'))).is_empty());
    assert!(a.modal().is_none());
    // Keys are not passed through while asking; y (or ctrl-c again) quits.
    a.on_key(ctrl('c'));
    assert!(a.on_key(alt('e')).is_empty());
    assert_eq!(a.on_key(ctrl('c')), vec![Job::Quit]);
    let mut a = chatting("en");
    a.on_key(key(KeyCode::Tab));
    a.on_key(key(KeyCode::Char('q')));
    assert!(matches!(
        a.modal(),
        Some(Modal::ConfirmQuit {
            calls: 0,
            drafts: 1
        })
    ));
    assert_eq!(a.on_key(key(KeyCode::Char('y'))), vec![Job::Quit]);
}

#[test]
fn readline_keys_edit_the_draft_anywhere() {
    let mut a = writing();
    type_text(&mut a, "world");
    a.on_key(ctrl('a'));
    type_text(&mut a, "hello ");
    a.on_key(key(KeyCode::End));
    type_text(&mut a, " again");
    assert_eq!(a.draft("ch_bob"), Some("hello world again"));
    // alt-b twice, alt-d deletes "world"; ctrl-y puts it back at the end.
    a.on_key(alt('b'));
    a.on_key(alt('b'));
    a.on_key(alt('d'));
    assert_eq!(a.draft("ch_bob"), Some("hello  again"));
    a.on_key(ctrl('e'));
    a.on_key(ctrl('y'));
    assert_eq!(a.draft("ch_bob"), Some("hello  againworld"));
    // ctrl-w, Left/Right, Backspace and Delete.
    a.on_key(ctrl('w'));
    assert_eq!(a.draft("ch_bob"), Some("hello  "));
    a.on_key(key(KeyCode::Left));
    a.on_key(key(KeyCode::Backspace));
    assert_eq!(a.draft("ch_bob"), Some("hello "));
    a.on_key(ctrl('b'));
    a.on_key(key(KeyCode::Delete));
    a.on_key(key(KeyCode::Right));
    type_text(&mut a, "o,");
    assert_eq!(a.draft("ch_bob"), Some("hell o,"));
    // ctrl-u / ctrl-k around the cursor.
    a.on_key(key(KeyCode::Home));
    a.on_key(ctrl('f'));
    a.on_key(ctrl('f'));
    a.on_key(ctrl('f'));
    a.on_key(ctrl('k'));
    assert_eq!(a.draft("ch_bob"), Some("hel"));
    a.on_key(ctrl('u'));
    assert_eq!(a.draft("ch_bob"), None);
    // The cursor shows where the next key goes (the terminal's cursor too).
    type_text(&mut a, "abc");
    a.on_key(key(KeyCode::Left));
    let theme = parla::tui::theme::Theme::builtin("dark").unwrap();
    let mut t = draw(&mut a, &theme, 80, 24);
    let cursor = t.get_cursor_position().unwrap();
    let buf = t.backend().buffer();
    assert_eq!(buf[(cursor.x, cursor.y)].symbol(), "c", "on the c");
    assert_eq!(buf[(cursor.x - 2, cursor.y)].symbol(), "a");
}

#[test]
fn new_lines_come_from_keys_terminals_deliver() {
    let mut a = writing();
    type_text(&mut a, "one");
    a.on_key(alt_key(KeyCode::Enter));
    type_text(&mut a, "two");
    a.on_key(ctrl('j'));
    type_text(&mut a, "three");
    // shift-enter, as terminals with the kitty keyboard protocol report it.
    a.on_key(shift(KeyCode::Enter));
    type_text(&mut a, "four");
    assert_eq!(a.draft("ch_bob"), Some("one\ntwo\nthree\nfour"));
    let sent = a.on_key(key(KeyCode::Enter));
    assert_eq!(send_of(&sent), Some("one\ntwo\nthree\nfour"));
}

fn alt_key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::ALT)
}

#[test]
fn up_and_down_move_between_lines_then_through_sent_messages() {
    let mut a = writing();
    for m in ["first", "second"] {
        type_text(&mut a, m);
        a.on_key(key(KeyCode::Enter));
    }
    type_text(&mut a, "line a");
    a.on_key(ctrl('j'));
    type_text(&mut a, "b");
    // Up: first to the draft's upper line, then into the history.
    a.on_key(key(KeyCode::Up));
    assert_eq!(a.draft("ch_bob"), Some("line a\nb"));
    a.on_key(key(KeyCode::Up));
    assert_eq!(a.draft("ch_bob"), Some("second"));
    a.on_key(ctrl('p'));
    assert_eq!(a.draft("ch_bob"), Some("first"));
    a.on_key(key(KeyCode::Up));
    assert_eq!(a.draft("ch_bob"), Some("first"), "the oldest stays");
    a.on_key(key(KeyCode::Down));
    assert_eq!(a.draft("ch_bob"), Some("second"));
    a.on_key(ctrl('n'));
    assert_eq!(a.draft("ch_bob"), Some("line a\nb"), "the draft comes back");
    // A message taken from the history is sent as edited.
    a.on_key(ctrl('u'));
    a.on_key(ctrl('u'));
    a.on_key(ctrl('u'));
    a.on_key(key(KeyCode::Up));
    type_text(&mut a, "!");
    assert_eq!(send_of(&a.on_key(key(KeyCode::Enter))), Some("second!"));
}

#[test]
fn a_multi_line_paste_is_text_at_the_cursor_never_keys() {
    let mut a = writing();
    type_text(&mut a, "[]");
    a.on_key(key(KeyCode::Left));
    a.on_paste("first line\rq\r\nc\nlast");
    assert_eq!(a.draft("ch_bob"), Some("[first line\nq\nc\nlast]"));
    // Pasted into the chat pane (not writing): the composer opens with it.
    let mut a = chatting("en");
    a.on_paste("x");
    assert!(a.composing());
    assert_eq!(a.draft("ch_bob"), Some("a draft\nover two linesx"));
    // Pasted into the lists with no conversation open: nothing happens.
    let mut a = app("en");
    a.on_paste("q\rc");
    assert!(a.modal().is_none() && !a.composing());
}

#[test]
fn the_vim_keymap_gives_the_composer_normal_and_insert_modes() {
    let mut a = app_with_keymap("en", "vim");
    a.open_channel("ch_bob");
    a.on_key(key(KeyCode::Char('i')));
    type_text(&mut a, "hello wrld");
    a.on_key(key(KeyCode::Esc));
    assert!(a.composing() && a.composer_normal(), "esc: normal mode");
    assert!(text(&mut a, 80, 24).contains("NORMAL"));
    // In normal mode keys move: b back a word, l right, i inserts there.
    type_text(&mut a, "bl");
    type_text(&mut a, "i");
    assert!(!a.composer_normal());
    type_text(&mut a, "o");
    assert_eq!(a.draft("ch_bob"), Some("hello world"));
    a.on_key(key(KeyCode::Esc));
    // x deletes, $ and A append at the end, 0 goes to the start.
    type_text(&mut a, "0x");
    assert_eq!(a.draft("ch_bob"), Some("ello world"));
    type_text(&mut a, "A!");
    assert_eq!(a.draft("ch_bob"), Some("ello world!"));
    a.on_key(key(KeyCode::Esc));
    // Esc again leaves the composer, the draft kept.
    a.on_key(key(KeyCode::Esc));
    assert!(!a.composing());
    assert_eq!(a.draft("ch_bob"), Some("ello world!"));
    // h / l move between panes; j / k scroll the chat.
    assert_eq!(a.focus(), Pane::Chat);
    a.on_key(key(KeyCode::Char('l')));
    assert_eq!(a.focus(), Pane::Channels);
    a.on_key(key(KeyCode::Char('h')));
    assert_eq!(a.focus(), Pane::Chat);
}

/// Bob's conversation with `n` messages, alternating senders a minute apart.
fn long_channel(n: u64) -> parla::tui::app::App {
    let mut a = app("en");
    a.open_channel("ch_bob");
    let messages = (1..=n)
        .map(|i| {
            let who = if i % 2 == 0 { "you" } else { "bob" };
            message(
                "ch_bob",
                i,
                who,
                &format!("message number {i}"),
                i.cast_signed(),
            )
        })
        .collect();
    a.on_history("ch_bob", messages, true);
    a
}

#[test]
fn scrolling_stops_at_the_oldest_message_and_end_comes_back() {
    let mut a = long_channel(150);
    text(&mut a, 80, 24);
    a.on_key(key(KeyCode::Tab)); // from the chat to Channels and back
    a.on_key(key(KeyCode::BackTab));
    assert_eq!(a.focus(), Pane::Chat);
    for _ in 0..40 {
        a.on_key(key(KeyCode::PageUp));
        text(&mut a, 80, 24);
    }
    let screen = text(&mut a, 80, 24);
    let chat: Vec<&str> = screen.lines().skip(2).take(16).collect();
    let first = chat.iter().find(|l| l.contains("message number")).unwrap();
    assert!(first.contains("message number 1 "), "{screen}");
    assert!(
        chat[0].contains("Today"),
        "the top of the channel:\n{screen}"
    );
    assert!(
        chat.iter().filter(|l| l.contains("message number")).count() >= 6,
        "the pane is full from the oldest message down:\n{screen}"
    );
    insta::assert_snapshot!("scrolled_top_80x24", screen);
    // The view did not run on past the top: one PageDown moves it at once.
    a.on_key(key(KeyCode::PageDown));
    let screen = text(&mut a, 80, 24);
    assert!(!screen.contains("message number 1 "), "{screen}");
    assert!(screen.contains("message number 11 "), "{screen}");
    // End jumps to the newest; the mark below is gone.
    a.on_key(key(KeyCode::End));
    let screen = text(&mut a, 80, 24);
    assert!(screen.contains("message number 150"), "{screen}");
    assert!(!screen.contains("more below"), "{screen}");
    // Home goes to the oldest.
    a.on_key(key(KeyCode::Home));
    assert!(text(&mut a, 80, 24).contains("message number 1 "));
}

#[test]
fn while_scrolled_up_new_messages_are_marked_below() {
    let mut a = long_channel(40);
    text(&mut a, 80, 24);
    a.on_key(key(KeyCode::PageUp));
    let screen = text(&mut a, 80, 24);
    assert!(screen.contains("↓ more below · end newest"), "{screen}");
    a.on_event(&Event::Message {
        message: message("ch_bob", 41, "bob", "are you there?", 50),
    });
    a.on_event(&Event::Message {
        message: message("ch_bob", 42, "bob", "hello?", 50),
    });
    let screen = text(&mut a, 80, 24);
    assert!(screen.contains("↓ 2 new below · end newest"), "{screen}");
    // The chat pane's columns at 80x24.
    let chat = |screen: &str| -> String {
        screen
            .lines()
            .map(|l| l.chars().skip(26).take(52).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        !chat(&screen).contains("hello?"),
        "the view stays put:\n{screen}"
    );
    a.on_key(key(KeyCode::End));
    let screen = text(&mut a, 80, 24);
    assert!(
        chat(&screen).contains("hello?") && !screen.contains("new below"),
        "{screen}"
    );
}

#[test]
fn consecutive_messages_share_a_header_and_the_unread_line_shows_where_you_left_off() {
    let mut a = app("en");
    let mut channels = a.channels().to_vec();
    let bob = channels
        .iter_mut()
        .find(|c| c.channel_id == "ch_bob")
        .unwrap();
    bob.read_seq = 2;
    bob.unread_count = 2;
    bob.last_seq = 4;
    let users = a.visible_users().into_iter().cloned().collect();
    a.on_loaded("you".into(), channels, users);
    a.open_channel("ch_bob");
    a.on_history(
        "ch_bob",
        vec![
            message("ch_bob", 1, "bob", "one", 1),
            message("ch_bob", 2, "bob", "two", 2),
            message("ch_bob", 3, "bob", "three", 3),
            message("ch_bob", 4, "bob", "four, much later", 20),
        ],
        true,
    );
    let screen = text(&mut a, 80, 24);
    let chat: Vec<String> = screen
        .lines()
        .map(|l| l.chars().skip(26).take(52).collect::<String>())
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    let joined = chat.join("\n");
    // One header for one and two; the unread line breaks the group before three; four
    // is too late to join it.
    assert_eq!(
        joined.matches("Bob  09:").count(),
        3,
        "headers: 09:01, 09:03, 09:20\n{screen}"
    );
    let unread = chat.iter().position(|l| l.contains(" new ")).unwrap();
    assert!(chat[unread - 1].contains("two"), "{joined}");
    assert!(chat[unread + 2].contains("three"), "{joined}");
    insta::assert_snapshot!("grouped_80x24", screen);
}

#[test]
fn call_keys_shown_are_the_ones_that_work_where_the_keys_go() {
    let mut a = in_call("en");
    // Writing: alt-d deletes a word, so the dialpad's other key is shown.
    assert_eq!(a.focus(), Pane::Chat);
    a.on_key(key(KeyCode::Char('i')));
    let screen = text(&mut a, 80, 24);
    assert!(screen.contains("f9 dialpad"), "{screen}");
    // On hold the bar offers resume; muted, unmute.
    a.on_key(key(KeyCode::Esc));
    a.on_key(alt('m'));
    let mut view = a.active_call().unwrap().view.clone();
    view.local_hold = true;
    view.state = parla::client::call::CallState::OnHold {
        local: true,
        remote: false,
    };
    a.on_event(&Event::Call { view });
    let screen = text(&mut a, 80, 24);
    assert!(screen.contains("alt-h resume"), "{screen}");
    assert!(screen.contains("alt-m unmute"), "{screen}");
    assert!(screen.contains("MUTED"), "{screen}");
    // Digits the other side sent show in the bar.
    a.on_call_dtmf("call_1", '4');
    a.on_call_dtmf("call_1", '2');
    assert!(text(&mut a, 80, 24).contains("heard: 42"));
}

#[test]
fn slash_filters_channels_too_and_one_cursor_marks_the_selection() {
    let mut a = app("en");
    a.on_key(key(KeyCode::Char('/')));
    type_text(&mut a, "te");
    let shown: Vec<String> = a
        .visible_channels()
        .iter()
        .map(|c| c.channel_id.clone())
        .collect();
    assert_eq!(shown, vec!["ch_team"]);
    assert_eq!(a.visible_users().len(), 5, "people are not filtered");
    let screen = text(&mut a, 80, 24);
    assert!(screen.contains("Channels · filter: te"), "{screen}");
    assert_eq!(
        a.on_key(key(KeyCode::Enter)),
        Vec::<Job>::new(),
        "enter ends the filter"
    );
    assert_eq!(
        a.on_key(key(KeyCode::Enter)),
        vec![Job::OpenChannel {
            channel_id: "ch_team".into()
        }]
    );
    // No marker glyph besides the selection: the open channel is underlined.
    let screen = text(&mut a, 80, 24);
    assert!(!screen.contains('▸'), "{screen}");
    let theme = parla::tui::theme::Theme::builtin("dark").unwrap();
    let t = draw(&mut a, &theme, 80, 24);
    let buf = t.backend().buffer();
    let row = (0..24u16)
        .find(|y| {
            (0..26u16)
                .map(|x| buf[(x, *y)].symbol().to_owned())
                .collect::<String>()
                .contains("#team")
        })
        .unwrap();
    let cell = &buf[(2, row)];
    assert!(
        cell.modifier.contains(ratatui::style::Modifier::UNDERLINED),
        "{cell:?}"
    );
}

#[test]
fn the_switcher_finds_channels_and_people_by_name() {
    let mut a = chatting("en");
    a.on_key(ctrl('k'));
    assert!(matches!(a.modal(), Some(Modal::Switcher { .. })));
    let all = a.switcher_items("");
    assert_eq!(
        all.len(),
        3 + 3,
        "3 channels, and carol, echo, dave without one"
    );
    type_text(&mut a, "TEA");
    let screen = text(&mut a, 80, 24);
    assert!(screen.contains("> TEA"), "{screen}");
    assert!(screen.contains("#team"), "{screen}");
    assert_eq!(
        a.on_key(key(KeyCode::Enter)),
        vec![Job::OpenChannel {
            channel_id: "ch_team".into()
        }]
    );
    assert!(a.modal().is_none());
    assert_eq!(a.current(), Some("ch_team"));
    // A person without a conversation: opening creates it. Down moves the selection.
    a.on_key(key(KeyCode::F(2)));
    type_text(&mut a, "e");
    let labels: Vec<String> = a.switcher_items("e").into_iter().map(|i| i.label).collect();
    assert_eq!(labels, vec!["#team", "Alice", "Echo", "Dave"]);
    a.on_key(key(KeyCode::Down));
    a.on_key(key(KeyCode::Down));
    assert_eq!(
        a.on_key(key(KeyCode::Enter)),
        vec![Job::OpenDirect {
            user_id: "echo".into()
        }]
    );
    // Esc closes it, nothing done.
    a.on_key(ctrl('k'));
    a.on_paste("dav\nignored");
    assert_eq!(a.switcher_items("dav").len(), 1);
    assert!(a.on_key(key(KeyCode::Esc)).is_empty());
    assert!(a.modal().is_none());
}

#[test]
fn search_asks_the_server_and_shows_the_matches() {
    let mut a = chatting("en");
    a.on_key(key(KeyCode::Char('/')));
    assert!(matches!(a.modal(), Some(Modal::Search { .. })));
    assert!(
        a.on_key(key(KeyCode::Enter)).is_empty(),
        "nothing to search yet"
    );
    type_text(&mut a, "echo");
    assert_eq!(
        a.on_key(key(KeyCode::Enter)),
        vec![Job::Search {
            channel_id: "ch_bob".into(),
            query: "echo".into()
        }]
    );
    assert!(text(&mut a, 80, 24).contains("Searching…"));
    // An answer to another query is not shown.
    a.on_search_results("ch_bob", "other", &[message("ch_bob", 1, "bob", "x", 1)]);
    assert!(text(&mut a, 80, 24).contains("Searching…"));
    a.on_search_results(
        "ch_bob",
        "echo",
        &[
            message("ch_bob", 1, "bob", "Hi! Welcome to parla.", -1440),
            message(
                "ch_bob",
                3,
                "bob",
                "Try calling the echo bot: it plays your voice back.",
                12,
            ),
        ],
    );
    let screen = text(&mut a, 80, 24);
    assert!(screen.contains("2 found, newest first"), "{screen}");
    insta::assert_snapshot!("search_80x24", screen);
    // Enter on the second (older) match scrolls the chat to it.
    a.on_key(key(KeyCode::Down));
    a.on_key(key(KeyCode::Enter));
    assert!(a.modal().is_none());
    let log = a.log("ch_bob").unwrap();
    assert_eq!(log.rows[log.rows.len() - 1 - log.scroll].seq, Some(1));
    // A failed search is reported and the query can be sent again.
    a.on_key(key(KeyCode::Char('/')));
    type_text(&mut a, "zzz");
    a.on_key(key(KeyCode::Enter));
    a.on_search_failed("server_unreachable", "connection refused");
    assert!(text(&mut a, 80, 24).contains("Search: the server cannot be reached"));
    assert_eq!(a.on_key(key(KeyCode::Enter)).len(), 1);
}

#[test]
fn without_colour_reverse_video_marks_the_cursor_and_the_focus() {
    let (plain, _) = parla::tui::theme::Theme::load("dark", None, true);
    let mut a = app("en");
    let t = draw(&mut a, &plain, 80, 24);
    let buf = t.backend().buffer();
    // The first channel (selected, Channels focused) is drawn reversed.
    let reversed = |x: u16, y: u16| {
        buf[(x, y)]
            .modifier
            .contains(ratatui::style::Modifier::REVERSED)
    };
    assert!(reversed(3, 2), "{:?}", buf[(3, 2)]);
    assert!(!reversed(3, 3), "only the selection");
    // The focused pane's title too; the status line as well.
    assert!(reversed(3, 1), "{:?}", buf[(3, 1)]);
    assert!(reversed(3, 23), "{:?}", buf[(3, 23)]);
}

#[test]
fn long_names_give_way_to_the_call_state_and_the_caller_hears_why() {
    let mut a = in_call("en");
    let mut users: Vec<parla::proto::UserEntry> = a.visible_users().into_iter().cloned().collect();
    for u in &mut users {
        if u.user_id == "echo" {
            u.display_name = "Echo (answers calls, plays your voice back)".into();
        }
    }
    let channels = a.channels().to_vec();
    a.on_loaded("you".into(), channels, users);
    let mut view = a.active_call().unwrap().view.clone();
    view.local_hold = true;
    view.state = parla::client::call::CallState::OnHold {
        local: true,
        remote: false,
    };
    a.on_event(&Event::Call { view: view.clone() });
    for (w, h) in [(80, 24), (160, 48)] {
        let screen = text(&mut a, w, h);
        // In the Calls pane and in the call bar, the state shows whole.
        let with_state = screen
            .lines()
            .filter(|l| l.contains("Echo (a") && l.contains("on hold") && l.contains("02:00"))
            .count();
        assert_eq!(with_state, 2, "{w}x{h}:\n{screen}");
    }
    // The other side declined as do-not-disturb: the toast says so.
    let mut ended = view;
    ended.call.participants[1].decline_reason = Some(DeclineReason::DoNotDisturb);
    ended.state = parla::client::call::CallState::Ended {
        reason: EndReason::Declined,
    };
    a.on_event(&Event::Call { view: ended });
    let screen = text(&mut a, 160, 48);
    assert!(screen.contains("declined: do not disturb"), "{screen}");
}

#[test]
fn while_reconnecting_the_status_line_does_not_claim_online() {
    let mut a = app("en");
    assert!(text(&mut a, 80, 24).contains("Connected · online"));
    a.on_event(&Event::Connection {
        state: parla::client::session::ConnectionState::Reconnecting {
            attempt: 1,
            retry_in_ms: 2000,
        },
    });
    let screen = text(&mut a, 80, 24);
    let status = screen.lines().last().unwrap();
    assert!(status.contains("· offline"), "{status}");
    assert!(!screen.contains("You · online"), "{screen}");
}

#[test]
fn errors_are_translated_readable_in_full_and_kept_as_notices() {
    let mut a = app("it");
    a.on_failure("call", "user_not_found", "no user `nosuch`");
    let screen = text(&mut a, 80, 24);
    assert!(screen.contains("Chiamata: l'utente non esiste"), "{screen}");
    assert!(screen.contains("avvisi: 1 (f10)"), "{screen}");
    // A long one wraps inside its toast rather than being cut.
    a.on_failure(
        "send",
        "some_new_code",
        "the server refused the message for a reason this version does not know about",
    );
    let screen = text(&mut a, 80, 24);
    assert!(screen.contains("does not know about"), "{screen}");
    // Help is never covered by a toast.
    a.on_key(key(KeyCode::F(1)));
    let screen = text(&mut a, 80, 24);
    assert!(!screen.contains("l'utente non esiste"), "{screen}");
    a.on_key(key(KeyCode::Esc));
    // The notices window keeps both, newest first, with the untranslated detail.
    a.on_key(key(KeyCode::F(10)));
    assert_eq!(a.notices_unseen(), 0);
    let screen = text(&mut a, 160, 48);
    let first = screen.find("Messaggio: the server refused").unwrap();
    let second = screen.find("Chiamata: l'utente non esiste").unwrap();
    assert!(first < second, "{screen}");
    assert!(
        screen.contains("user_not_found: no user `nosuch`"),
        "{screen}"
    );
    insta::assert_snapshot!("notices_160x48", screen);
    a.on_key(key(KeyCode::Esc));
    assert!(a.modal().is_none());
    // Seen: the status line stops counting; the toasts time out, the notices stay.
    for i in 0..60 {
        a.tick(at(31) + chrono::Duration::milliseconds(250 * i));
    }
    let screen = text(&mut a, 80, 24);
    assert!(!screen.contains("avvisi:"), "{screen}");
    assert!(!screen.contains("l'utente non esiste"), "{screen}");
    assert_eq!(a.notices().len(), 2);
}

#[test]
fn help_scrolls_to_its_end_filters_as_you_type_and_lists_the_dialpad() {
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        let mut a = app("en");
        a.on_key(key(KeyCode::Char('?')));
        let first = text(&mut a, w, h);
        assert!(first.contains("Everywhere"), "{first}");
        // tab's row comes before backtab's.
        let tab = first.find("Move to the next pane").unwrap();
        let backtab = first.find("Move to the previous pane").unwrap();
        assert!(tab < backtab, "{first}");
        // PageDown to the end: the last section (the dialpad) is in view, digits included.
        for _ in 0..30 {
            a.on_key(key(KeyCode::PageDown));
        }
        let last = text(&mut a, w, h);
        assert!(last.contains("0-9 * # A-D"), "{w}x{h}:\n{last}");
        assert!(last.contains("Close the dialpad"), "{w}x{h}:\n{last}");
        // Nothing runs past the window's right border.
        for line in last.lines().filter(|l| l.contains("Close the dialpad")) {
            assert!(line.trim_end().ends_with('│'), "{line}");
        }
        // Typing filters; esc clears the filter, then closes.
        type_text(&mut a, "hold");
        let filtered = text(&mut a, w, h);
        assert!(
            filtered.contains("Hold or resume the current call"),
            "{filtered}"
        );
        assert!(!filtered.contains("Quit parla"), "{filtered}");
        a.on_key(key(KeyCode::Esc));
        assert!(matches!(a.modal(), Some(Modal::Help { .. })));
        a.on_key(key(KeyCode::Esc));
        assert!(a.modal().is_none());
    }
    insta::assert_snapshot!("help_filtered_80x24", {
        let mut a = app("en");
        a.on_key(key(KeyCode::F(1)));
        type_text(&mut a, "call");
        text(&mut a, 80, 24)
    });
}

#[test]
fn n_in_the_lists_creates_a_group_channel() {
    let mut a = app("en");
    a.on_key(key(KeyCode::Char('n')));
    assert!(matches!(a.modal(), Some(Modal::NewGroup { .. })));
    type_text(&mut a, "#lunch");
    let screen = text(&mut a, 80, 24);
    assert!(
        screen.contains("a name and at least one person"),
        "{screen}"
    );
    assert!(
        a.on_key(key(KeyCode::Enter)).is_empty(),
        "not without members"
    );
    a.on_paste(" alice, @bob\nignored");
    assert!(text(&mut a, 80, 24).contains("enter creates it"));
    assert_eq!(
        a.on_key(key(KeyCode::Enter)),
        vec![Job::CreateGroup {
            name: "lunch".into(),
            members: vec!["alice".into(), "bob".into()]
        }]
    );
    assert!(a.modal().is_none());
}

#[test]
fn call_quality_is_one_row_of_bars_under_its_figure() {
    let mut a = in_call("en");
    let screen = text(&mut a, 80, 24);
    let bar: Vec<&str> = screen.lines().skip(20).take(3).collect();
    let right = |l: &str| l.rsplit('│').next().unwrap_or("").trim().to_owned();
    assert_eq!(right(bar[0]), "MOS 4.4", "{screen}");
    assert!(
        right(bar[1]).chars().all(|c| "▁▂▃▄▅▆▇█".contains(c)),
        "{screen}"
    );
    assert!(right(bar[2]).is_empty(), "no solid block:\n{screen}");
}

/// Someone who comes online while the interface loads its list of people (the list was
/// read before) is shown online, and calling them offers no voice message instead; the
/// next session's list is taken as it is.
#[test]
fn presence_news_that_overtakes_the_list_of_people_is_kept() {
    use parla::proto::{Presence, PresenceStatus};
    let mut a = app("en");
    let ready = Event::Ready {
        user_id: "you".into(),
        device_id: "d1".into(),
        expires_at: chrono::Utc::now(),
    };
    a.on_event(&ready);
    let online = Presence {
        user_id: "dave".into(),
        status: PresenceStatus::Online,
        busy_with: Vec::new(),
        devices: Vec::new(),
        availability: parla::proto::Availability::Available,
        activity: None,
        note: None,
    };
    a.on_event(&Event::Presence {
        presence: online.clone(),
    });
    let stale = vec![user("dave", "Dave", PresenceStatus::Offline, &[])];
    a.on_loaded("you".into(), Vec::new(), stale.clone());
    assert_eq!(
        a.presence_of("dave").map(|p| p.status),
        Some(PresenceStatus::Online)
    );
    assert!(a.offline_among(&["dave".to_owned()]).is_empty());
    // Seen online, then the session drops and comes back: the new session's list
    // stands (dave left meanwhile).
    a.on_event(&Event::Presence { presence: online });
    a.on_event(&ready);
    a.on_loaded("you".into(), Vec::new(), stale);
    assert_eq!(
        a.presence_of("dave").map(|p| p.status),
        Some(PresenceStatus::Offline)
    );
}

#[test]
fn calling_someone_offline_says_so() {
    let mut a = app("en");
    let offline = a.offline_among(&["dave".to_owned(), "alice".to_owned()]);
    assert_eq!(offline, vec!["dave"]);
    assert!(
        a.notices()[0].text.contains("Dave is offline"),
        "{:?}",
        a.notices()
    );
    assert!(a.offline_among(&["alice".to_owned()]).is_empty());
    assert_eq!(a.notices().len(), 1, "nothing said for someone online");
}

#[test]
fn a_match_further_back_loads_older_pages_until_it_is_shown() {
    let mut a = app("en");
    a.open_channel("ch_bob");
    let page = |from: u64, to: u64| -> Vec<parla::proto::Message> {
        (from..=to)
            .map(|s| message("ch_bob", s, "bob", &format!("line {s}"), 0))
            .collect()
    };
    a.on_history("ch_bob", page(301, 400), false);
    a.on_key(key(KeyCode::Char('/')));
    type_text(&mut a, "needle");
    a.on_key(key(KeyCode::Enter));
    a.on_search_results(
        "ch_bob",
        "needle",
        &[message("ch_bob", 150, "bob", "needle", 0)],
    );
    // Enter: the match is not loaded, so the page before the oldest is asked for.
    assert_eq!(
        a.on_key(key(KeyCode::Enter)),
        vec![Job::LoadOlder {
            channel_id: "ch_bob".into(),
            before_seq: 301
        }]
    );
    assert!(text(&mut a, 80, 24).contains("Loading older messages back to it"));
    // One page on its way at a time: scrolling meanwhile asks for nothing more.
    assert!(!a
        .on_key(key(KeyCode::PageUp))
        .iter()
        .any(|j| matches!(j, Job::LoadOlder { .. })));
    // Each page that does not reach it asks for the next; the one that does scrolls to it.
    let jobs = a.on_history("ch_bob", page(201, 300), false);
    assert!(
        jobs.contains(&Job::LoadOlder {
            channel_id: "ch_bob".into(),
            before_seq: 201
        }),
        "{jobs:?}"
    );
    let jobs = a.on_history("ch_bob", page(101, 200), false);
    assert!(
        !jobs.iter().any(|j| matches!(j, Job::LoadOlder { .. })),
        "{jobs:?}"
    );
    let log = a.log("ch_bob").unwrap();
    assert_eq!(log.rows[log.rows.len() - 1 - log.scroll].seq, Some(150));
    assert_eq!(log.seek, None);
    // A match the history does not hold (gone): the seek stops at the start.
    a.on_key(key(KeyCode::Char('/')));
    type_text(&mut a, "gone");
    a.on_key(key(KeyCode::Enter));
    a.on_search_results("ch_bob", "gone", &[message("ch_bob", 5, "bob", "gone", 0)]);
    assert_eq!(a.on_key(key(KeyCode::Enter)).len(), 1);
    let jobs = a.on_history(
        "ch_bob",
        page(1, 4).into_iter().chain(page(6, 100)).collect(),
        true,
    );
    assert!(!jobs.iter().any(|j| matches!(j, Job::LoadOlder { .. })));
    assert_eq!(a.log("ch_bob").unwrap().seek, None);
}

#[test]
fn a_ringing_call_is_ignored_or_forwarded_to_a_person_picked() {
    use parla::tui::app::{HandOver, SwitchPurpose};
    let mut a = app("en");
    ring(&mut a, "call_9", "carol");
    // Ignore: the window goes, the server is asked.
    assert_eq!(
        a.on_key(alt('i')),
        vec![Job::Ignore {
            room_id: "call_9".into()
        }]
    );
    assert!(a.modal().is_none());

    // Forward: a person picker that leaves out you and the caller.
    ring(&mut a, "call_8", "carol");
    assert!(a.on_key(alt('r')).is_empty());
    assert!(matches!(
        a.modal(),
        Some(Modal::Switcher {
            purpose: SwitchPurpose::HandOver {
                op: HandOver::Forward,
                ..
            },
            ..
        })
    ));
    let screen = text(&mut a, 80, 24);
    assert!(screen.contains("Forward Carol's call to"), "{screen}");
    insta::assert_snapshot!("forward_picker_160x48", text(&mut a, 160, 48));
    let Some(Modal::Switcher { purpose, .. }) = a.modal().cloned() else {
        unreachable!()
    };
    let people: Vec<String> = a
        .switcher_items_for(&purpose, "")
        .into_iter()
        .map(|i| i.label)
        .collect();
    assert!(people.contains(&"Alice".to_owned()), "{people:?}");
    assert!(!people.contains(&"Carol".to_owned()), "{people:?}");
    assert!(!people.contains(&"You".to_owned()), "{people:?}");
    type_text(&mut a, "ali");
    assert_eq!(
        a.on_key(key(KeyCode::Enter)),
        vec![Job::Forward {
            room_id: "call_8".into(),
            to: "alice".into()
        }]
    );
}

#[test]
fn a_call_is_transferred_to_a_person_picked_after_holding_it() {
    // Transfer: the current call, held first.
    let mut a = in_call("en");
    assert!(a.on_key(alt('t')).is_empty());
    let screen = text(&mut a, 80, 24);
    assert!(
        screen.contains("Transfer the call with Echo to"),
        "{screen}"
    );
    insta::assert_snapshot!("transfer_picker_80x24", screen);
    type_text(&mut a, "dave");
    assert_eq!(
        a.on_key(key(KeyCode::Enter)),
        vec![
            Job::Hold {
                room_id: "call_1".into(),
                on: true
            },
            Job::Transfer {
                room_id: "call_1".into(),
                to: "dave".into()
            },
        ]
    );
    // From the control socket the same, with the reply being the transfer's.
    let plan = a.on_ctl(&parla::ctl::CtlRequest::Transfer {
        to: "alice".into(),
        room_id: None,
    });
    assert!(
        matches!(&plan, parla::tui::app::CtlPlan::Run(jobs)
            if matches!(jobs.last(), Some(Job::Transfer { to, .. }) if to == "alice")),
        "{plan:?}"
    );
    // Nothing rings: nothing to ignore or forward.
    assert!(a.on_key(alt('i')).is_empty());
    assert!(a.on_key(alt('r')).is_empty());
    assert!(!matches!(a.modal(), Some(Modal::Switcher { .. })));
}

/// A voice message left for this user: a toast and a bell, and the status line counts the
/// unheard ones until they are heard (here or on another device).
#[test]
fn a_voice_message_is_announced_and_counted_until_heard() {
    use parla::proto::{Voicemail, VoicemailChange, VoicemailIndicator};
    let mut a = app("en");
    let waiting = |unheard: u64| VoicemailIndicator {
        total_voice: 1,
        unheard_voice: unheard,
        new_messages_waiting: unheard > 0,
        bytes: 12_000,
        quota_bytes: 16 << 20,
    };
    assert!(!text(&mut a, 80, 24).contains("voice messages:"));
    let jobs = a.on_event(&Event::Voicemail {
        change: VoicemailChange::Added,
        voicemail_id: "vm_1".into(),
        voicemail: Some(Voicemail {
            voicemail_id: "vm_1".into(),
            from: "carol".into(),
            room_id: "call_2".into(),
            created_at: chrono::Utc::now(),
            duration_ms: 12_000,
            bytes: 12_000,
            heard: false,
            message_id: None,
        }),
        indicator: waiting(1),
    });
    assert!(jobs.contains(&Job::Bell), "{jobs:?}");
    let screen = text(&mut a, 80, 24);
    assert!(screen.contains("voice messages: 1 new"), "{screen}");
    assert!(screen.contains("Voice message from Carol"), "{screen}");
    a.on_event(&Event::Voicemail {
        change: VoicemailChange::Heard,
        voicemail_id: "vm_1".into(),
        voicemail: None,
        indicator: waiting(0),
    });
    assert!(!text(&mut a, 80, 24).contains("voice messages:"));
}
