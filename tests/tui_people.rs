//! The interface and people: the status picker (drawn, keys, paste), away after the
//! configured time without input and back with the next key or click, notifications without
//! the bell while the user is not to be disturbed; contacts first in People, `+` adding and
//! removing them, profiles followed as they change, and the People filter asking the
//! directory.

#[path = "common/tui_fixtures.rs"]
mod fixtures;

use chrono::Duration;
use fixtures::*;
use parla::client::Event;
use parla::proto::{
    Activity, Availability, Contact, ContactChange, Presence, PresenceSetting, PresenceStatus,
    Profile,
};
use parla::tui::app::{App, Job, Modal, Picker};
use ratatui::crossterm::event::{KeyCode, MouseButton, MouseEvent, MouseEventKind};

/// The server telling what `you` set (as it does after `PUT /v1/me/presence`).
fn own_presence(app: &mut App, setting: &PresenceSetting) {
    app.on_event(&Event::Presence {
        presence: Presence {
            availability: setting.availability,
            activity: setting.activity,
            note: setting.note.clone(),
            ..user("you", "You", PresenceStatus::Online, &[]).presence
        },
    });
}

fn set(
    availability: Availability,
    activity: Option<Activity>,
    note: Option<&str>,
) -> PresenceSetting {
    PresenceSetting {
        availability,
        activity,
        note: note.map(str::to_owned),
    }
}

fn typed(app: &mut App, text: &str) -> Vec<Job> {
    text.chars()
        .flat_map(|c| app.on_key(key(KeyCode::Char(c))))
        .collect()
}

fn picker(app: &App) -> Picker {
    match app.modal() {
        Some(Modal::Presence(p)) => p.clone(),
        other => panic!("the picker is not open: {other:?}"),
    }
}

#[test]
fn the_picker_sets_availability_activity_and_note() {
    let mut a = app("en");
    assert!(a.on_key(alt('p')).is_empty());
    // Opens on what is set now: available, no activity, no note.
    assert_eq!(picker(&a).setting(), PresenceSetting::default());
    for (w, h) in [(80, 24), (160, 48)] {
        insta::assert_snapshot!(format!("presence_picker_{w}x{h}"), text(&mut a, w, h));
    }
    // Down twice: busy; Up once: away. Right: the first activity (meeting).
    a.on_key(key(KeyCode::Down));
    a.on_key(key(KeyCode::Down));
    assert_eq!(picker(&a).setting().availability, Availability::Busy);
    a.on_key(key(KeyCode::Up));
    a.on_key(key(KeyCode::Right));
    assert!(
        typed(&mut a, "back at 3pm").is_empty(),
        "typing only edits the note"
    );
    // Pasted text joins the note, on one line.
    a.on_paste("\n(room 4)");
    a.on_key(key(KeyCode::Backspace));
    let screen = text(&mut a, 80, 24);
    assert!(screen.contains("back at 3pm (room 4"), "{screen}");
    let jobs = a.on_key(key(KeyCode::Enter));
    assert_eq!(
        jobs,
        vec![Job::SetPresence {
            setting: set(
                Availability::Away,
                Some(Activity::Meeting),
                Some("back at 3pm (room 4")
            )
        }]
    );
    assert!(a.modal().is_none());

    // Opened again after the server told the setting: it starts from there. Left from the
    // first activity wraps round to the last, Esc leaves without a change.
    own_presence(
        &mut a,
        &set(
            Availability::DoNotDisturb,
            Some(Activity::Lunch),
            Some("out"),
        ),
    );
    a.on_key(alt('p'));
    assert_eq!(
        picker(&a).setting(),
        set(
            Availability::DoNotDisturb,
            Some(Activity::Lunch),
            Some("out")
        )
    );
    a.on_key(key(KeyCode::Down));
    assert_eq!(picker(&a).setting().availability, Availability::Available);
    assert!(a.on_key(key(KeyCode::Esc)).is_empty());
    assert!(a.modal().is_none());

    // A note emptied (or spaces only) is none; the note stops at 140 characters.
    a.on_key(alt('p'));
    for _ in 0..3 {
        a.on_key(key(KeyCode::Backspace));
    }
    typed(&mut a, "   ");
    assert_eq!(picker(&a).setting().note, None);
    typed(&mut a, &"x".repeat(200));
    assert_eq!(picker(&a).note.chars().count(), 140);
}

#[test]
fn idle_long_enough_sets_away_and_the_next_key_comes_back() {
    let mut a = app("en");
    // Off unless configured.
    a.tick(at(500));
    assert!(a.idle_jobs().is_empty());

    let mut a = app("en");
    a.set_away_after(Some(std::time::Duration::from_mins(10)));
    own_presence(
        &mut a,
        &set(
            Availability::Available,
            Some(Activity::Travelling),
            Some("on the train"),
        ),
    );
    // The first tick starts the count.
    assert!(a.idle_jobs().is_empty());
    a.tick(at(39));
    assert!(a.idle_jobs().is_empty(), "nine minutes is not ten");
    a.on_key(key(KeyCode::Down));
    a.tick(at(48));
    assert!(a.idle_jobs().is_empty(), "the key started the count again");
    a.tick(at(49));
    let away = set(
        Availability::Away,
        Some(Activity::Travelling),
        Some("on the train"),
    );
    assert_eq!(
        a.idle_jobs(),
        vec![Job::SetPresence {
            setting: away.clone()
        }]
    );
    // Asked once, not on every tick.
    a.tick(at(50));
    assert!(a.idle_jobs().is_empty());
    own_presence(&mut a, &away);

    // A key: back to what was set before, and the key still does what it does.
    let jobs = a.on_key(key(KeyCode::Char('?')));
    assert_eq!(
        jobs,
        vec![Job::SetPresence {
            setting: set(
                Availability::Available,
                Some(Activity::Travelling),
                Some("on the train")
            )
        }]
    );
    assert!(matches!(a.modal(), Some(Modal::Help { .. })));
    own_presence(
        &mut a,
        &set(
            Availability::Available,
            Some(Activity::Travelling),
            Some("on the train"),
        ),
    );
    assert!(a.on_key(key(KeyCode::Esc)).is_empty(), "back once only");

    // A click is input too.
    a.tick(at(70));
    assert_eq!(a.idle_jobs().len(), 1);
    own_presence(&mut a, &away);
    let click = MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: 0,
        row: 0,
        modifiers: ratatui::crossterm::event::KeyModifiers::NONE,
    };
    assert!(a.on_mouse(click).contains(&Job::SetPresence {
        setting: set(
            Availability::Available,
            Some(Activity::Travelling),
            Some("on the train")
        )
    }));

    // And a paste.
    a.tick(at(90));
    assert_eq!(a.idle_jobs().len(), 1);
    own_presence(&mut a, &away);
    assert_eq!(a.on_paste("hi").len(), 1);
}

#[test]
fn away_leaves_alone_what_the_user_set_themselves() {
    let mut a = app("en");
    a.set_away_after(Some(std::time::Duration::from_mins(1)));
    // Set busy: idle does not make them away.
    own_presence(&mut a, &set(Availability::Busy, None, None));
    a.tick(at(40));
    a.idle_jobs();
    a.tick(at(50));
    assert!(a.idle_jobs().is_empty());

    // Away by idle, then set to do not disturb elsewhere meanwhile: the next key keeps it.
    own_presence(&mut a, &set(Availability::Available, None, None));
    a.tick(at(60));
    assert_eq!(a.idle_jobs().len(), 1);
    own_presence(&mut a, &set(Availability::DoNotDisturb, None, None));
    assert!(a.on_key(key(KeyCode::Down)).is_empty());

    // Away by idle, then set by hand in the picker: the next key does not undo that.
    own_presence(&mut a, &set(Availability::Available, None, None));
    a.tick(at(70));
    assert_eq!(a.idle_jobs().len(), 1);
    own_presence(&mut a, &set(Availability::Away, None, None));
    // Opening the picker is itself a key: back to available first.
    assert_eq!(a.on_key(alt('p')).len(), 1);
    // It opens on what comes back, not on away.
    assert_eq!(picker(&a).setting().availability, Availability::Available);
    let jobs = a.on_key(key(KeyCode::Enter));
    assert_eq!(
        jobs,
        vec![Job::SetPresence {
            setting: set(Availability::Available, None, None)
        }]
    );

    // Not while disconnected: the server could not be told.
    let mut a = app("en");
    a.set_away_after(Some(std::time::Duration::from_mins(1)));
    a.idle_jobs();
    a.on_event(&Event::Connection {
        state: parla::client::session::ConnectionState::Connecting,
    });
    a.tick(at(30) + Duration::minutes(5));
    assert!(a.idle_jobs().is_empty());
}

#[test]
fn do_not_disturb_keeps_notifications_quiet() {
    let mut a = chatting("en");
    own_presence(&mut a, &set(Availability::DoNotDisturb, None, None));
    let out = a.on_event(&Event::Message {
        message: message("ch_team", 2, "carol", "lunch?", 29),
    });
    assert!(!out.contains(&Job::Bell), "{out:?}");
    // Still shown, still counted.
    assert!(text(&mut a, 80, 24).contains("Carol: lunch?"));
    assert_eq!(
        a.channels()
            .iter()
            .find(|c| c.channel_id == "ch_team")
            .map(|c| c.unread_count),
        Some(1)
    );
    // Available again: the bell rings.
    own_presence(&mut a, &set(Availability::Available, None, None));
    let out = a.on_event(&Event::Message {
        message: message("ch_team", 3, "carol", "now?", 29),
    });
    assert_eq!(out, vec![Job::Bell]);
}

fn contact(id: &str, user: &str) -> Contact {
    Contact {
        contact_id: id.into(),
        primary_contact: user.into(),
        first_name: None,
        last_name: None,
        email_address: None,
        home_phone: None,
        work_phone: None,
        mobile_phone: None,
        group_list: "friends".into(),
        friend_status: false,
        updated_at: at(0),
    }
}

fn shown(app: &App) -> Vec<String> {
    app.visible_users()
        .iter()
        .map(|u| u.user_id.clone())
        .collect()
}

#[test]
fn contacts_come_first_with_a_star_and_plus_adds_or_removes_them() {
    let mut a = app("en");
    assert_eq!(shown(&a), ["alice", "bob", "carol", "echo", "dave"]);
    a.on_contacts(vec![contact("ct_1", "dave")]);
    // A contact first even when offline.
    assert_eq!(shown(&a), ["dave", "alice", "bob", "carol", "echo"]);
    for (w, h) in [(80, 24), (160, 48)] {
        insta::assert_snapshot!(format!("contacts_{w}x{h}"), text(&mut a, w, h));
    }

    // People, the second person (alice): `+` adds her.
    a.on_key(key(KeyCode::Tab));
    a.on_key(key(KeyCode::Down));
    let jobs = a.on_key(key(KeyCode::Char('+')));
    assert_eq!(
        jobs,
        vec![Job::AddContact {
            user_id: "alice".into()
        }]
    );
    assert!(text(&mut a, 80, 24).contains("Alice added to your contacts"));
    // The server tells every device; the list follows.
    a.on_event(&Event::Contact {
        change: ContactChange::Added,
        contact: contact("ct_2", "alice"),
    });
    assert_eq!(shown(&a), ["alice", "dave", "bob", "carol", "echo"]);
    // `+` on a contact takes them out.
    a.on_key(key(KeyCode::Up));
    let jobs = a.on_key(key(KeyCode::Char('+')));
    assert_eq!(
        jobs,
        vec![Job::RemoveContact {
            contact_id: "ct_2".into()
        }]
    );
    a.on_event(&Event::Contact {
        change: ContactChange::Removed,
        contact: contact("ct_2", "alice"),
    });
    assert_eq!(shown(&a), ["dave", "alice", "bob", "carol", "echo"]);
    // Elsewhere than People, `+` does nothing.
    a.on_key(key(KeyCode::Tab));
    assert!(a.on_key(key(KeyCode::Char('+'))).is_empty());
}

#[test]
fn the_people_filter_matches_profiles_and_asks_the_directory() {
    let mut a = app("en");
    // Bob's profile arrives as he changes it.
    a.on_event(&Event::UserUpdated {
        user: parla::proto::UserEntry {
            display_name: "Bob B.".into(),
            profile: Profile {
                first_name: Some("Robert".into()),
                user_name: Some("builder".into()),
                ..Profile::default()
            },
            ..user("bob", "Bob", PresenceStatus::Online, &[])
        },
    });
    // Presence is its own frames': bob stays busy.
    assert_eq!(
        a.presence_of("bob").map(|p| p.status),
        Some(PresenceStatus::Busy)
    );

    a.on_key(key(KeyCode::Tab));
    let mut jobs = a.on_key(key(KeyCode::Char('/')));
    jobs.extend(a.on_key(key(KeyCode::Char('r'))));
    assert!(jobs.is_empty(), "one letter is not asked: {jobs:?}");
    jobs.extend(typed(&mut a, "ob"));
    assert_eq!(
        jobs,
        vec![
            Job::SearchDirectory { text: "ro".into() },
            Job::SearchDirectory { text: "rob".into() },
        ]
    );
    // By first name; the user name too.
    assert_eq!(shown(&a), ["bob"]);
    // Someone the list did not have, found by the directory.
    a.on_directory(
        "rob",
        vec![parla::proto::UserEntry {
            profile: Profile {
                last_name: Some("Robson".into()),
                ..Profile::default()
            },
            ..user("rachel", "Rachel", PresenceStatus::Offline, &[])
        }],
    );
    assert_eq!(shown(&a), ["bob", "rachel"]);
    let screen = text(&mut a, 80, 24);
    assert!(screen.contains("Rachel"), "{screen}");
    // Nothing asked again for the same text (moving, opening).
    assert!(a
        .on_key(key(KeyCode::Enter))
        .iter()
        .all(|j| !matches!(j, Job::SearchDirectory { .. })));

    // The names the user gave a contact match too.
    let mut a = app("en");
    let mut c = contact("ct_1", "echo");
    c.first_name = Some("Parrot".into());
    a.on_contacts(vec![c]);
    a.on_key(key(KeyCode::Tab));
    a.on_key(key(KeyCode::Char('/')));
    typed(&mut a, "parr");
    assert_eq!(shown(&a), ["echo"]);
}
