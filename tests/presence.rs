//! Presence a user sets (availability, activity, note) against the real server: pushed to
//! followers, kept across a restart and while offline, do not disturb declining calls
//! without ringing, and bad settings refused with their codes and nothing kept.

mod common;

use common::*;
use parla::client::{Event, Rest};
use parla::proto::{
    Activity, Availability, CallStatus, DeclineReason, EndReason, ParticipantState,
    PresenceSetting, PresenceStatus, MAX_NOTE_CHARS,
};
use parla::server::{Server, ServerConfig};

fn setting(availability: Availability, activity: Option<Activity>, note: &str) -> PresenceSetting {
    PresenceSetting {
        availability,
        activity,
        note: (!note.is_empty()).then(|| note.to_owned()),
    }
}

fn presence_of<'a>(e: &'a Event, user: &str) -> Option<&'a parla::proto::Presence> {
    match e {
        Event::Presence { presence } if presence.user_id == user => Some(presence),
        _ => None,
    }
}

#[tokio::test]
async fn a_setting_reaches_followers_and_every_read_of_presence() {
    let t = TestServer::start().await;
    t.users(&["alice", "bob"]).await;
    let (_bob, mut b) = t.client("bob").await;
    let (_alice, mut a) = t.client("alice").await;
    let alice = t.rest_for("alice").await;

    let shown = alice
        .set_presence(&setting(
            Availability::Away,
            Some(Activity::Lunch),
            "  back at 3 ",
        ))
        .await
        .unwrap();
    // The note is kept trimmed; the device status stays what the connection says.
    assert_eq!(shown.availability, Availability::Away);
    assert_eq!(shown.activity, Some(Activity::Lunch));
    assert_eq!(shown.note.as_deref(), Some("back at 3"));
    assert_eq!(shown.status, PresenceStatus::Online);

    let pushed = b
        .wait_for("alice away", |e| {
            presence_of(e, "alice").is_some_and(|p| p.availability == Availability::Away)
        })
        .await;
    assert_eq!(presence_of(&pushed, "alice"), Some(&shown));
    // Her own other devices follow too.
    a.wait_for("alice's own away", |e| {
        presence_of(e, "alice").is_some_and(|p| p.note.as_deref() == Some("back at 3"))
    })
    .await;

    let bob = t.rest_for("bob").await;
    assert_eq!(bob.presence("alice").await.unwrap(), shown);
    let listed = bob.users(false).await.unwrap();
    let entry = listed.iter().find(|u| u.user_id == "alice").unwrap();
    assert_eq!(entry.presence, shown);

    // The whole setting is replaced: activity and note left out are cleared.
    let back = alice
        .set_presence(&setting(Availability::Available, None, ""))
        .await
        .unwrap();
    assert_eq!(back.availability, Availability::Available);
    assert_eq!((back.activity, back.note.as_deref()), (None, None));
    b.wait_for("alice available again", |e| {
        presence_of(e, "alice")
            .is_some_and(|p| p.availability == Availability::Available && p.note.is_none())
    })
    .await;

    // Someone who never set anything is available, with nothing more.
    let plain = alice.presence("bob").await.unwrap();
    assert_eq!(plain.availability, Availability::Available);
    assert_eq!((plain.activity, plain.note), (None, None));
}

#[tokio::test]
async fn a_setting_holds_while_offline_and_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = || {
        let mut c = ServerConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().into());
        c.api_key = Some(API_KEY.into());
        c
    };
    let rest = |server: &Server, token: String| Rest::new(&server.url()).unwrap().with_token(token);

    let server = Server::start(config()).await.unwrap();
    let admin = Rest::new(&server.url()).unwrap().with_api_key(API_KEY);
    admin.admin_create_user("alice", None).await.unwrap();
    admin.admin_create_user("bob", None).await.unwrap();
    rest(&server, admin_token(&server.url(), "alice").await)
        .set_presence(&setting(
            Availability::DoNotDisturb,
            Some(Activity::Vacation),
            "until Monday",
        ))
        .await
        .unwrap();
    server.shutdown().await;

    let server = Server::start(config()).await.unwrap();
    let admin = Rest::new(&server.url()).unwrap().with_api_key(API_KEY);
    let seen = rest(&server, admin_token(&server.url(), "bob").await)
        .presence("alice")
        .await
        .unwrap();
    // Offline, and still saying so.
    assert_eq!(seen.status, PresenceStatus::Offline);
    assert_eq!(seen.availability, Availability::DoNotDisturb);
    assert_eq!(seen.activity, Some(Activity::Vacation));
    assert_eq!(seen.note.as_deref(), Some("until Monday"));

    // A deleted user's setting goes with them: the same id made again starts available.
    admin.admin_delete_user("alice").await.unwrap();
    admin.admin_create_user("alice", None).await.unwrap();
    let fresh = rest(&server, admin_token(&server.url(), "bob").await)
        .presence("alice")
        .await
        .unwrap();
    assert_eq!(fresh.availability, Availability::Available);
    assert_eq!(fresh.note, None);
    server.shutdown().await;
}

#[tokio::test]
async fn do_not_disturb_declines_calls_without_ringing() {
    let t = TestServer::start().await;
    t.users(&["alice", "bob", "carol"]).await;
    let (alice, _a) = t.client("alice").await;
    let (_bob, mut b) = t.client("bob").await;
    let (carol, mut c) = t.client("carol").await;
    let bob_rest = t.rest_for("bob").await;
    bob_rest
        .set_presence(&setting(Availability::DoNotDisturb, None, "focus"))
        .await
        .unwrap();

    // A call to bob alone ends at once, and says why.
    let call = alice.dial(&["bob".to_owned()]).await.unwrap();
    assert_eq!(call.status, CallStatus::Ended, "{call:?}");
    assert_eq!(call.end_reason, Some(EndReason::Declined));
    let bob_part = call
        .participants
        .iter()
        .find(|p| p.user_id == "bob")
        .unwrap();
    assert_eq!(bob_part.state, ParticipantState::Declined);
    assert_eq!(bob_part.decline_reason, Some(DeclineReason::DoNotDisturb));
    let dnd_room = call.room_id.clone();

    // A group call rings only those who take calls; bob shows declined from the start.
    let group = alice
        .dial(&["bob".to_owned(), "carol".to_owned()])
        .await
        .unwrap();
    assert_ne!(group.status, CallStatus::Ended);
    let bob_part = group
        .participants
        .iter()
        .find(|p| p.user_id == "bob")
        .unwrap();
    assert_eq!(bob_part.decline_reason, Some(DeclineReason::DoNotDisturb));
    c.wait_for(
        "carol rung",
        |e| matches!(e, Event::CallIncoming { call } if call.room_id == group.room_id),
    )
    .await;
    alice.hangup(&group.room_id).await.unwrap();

    // Once bob takes calls again, the first call that rings him is carol's: neither of
    // alice's calls ever did.
    bob_rest
        .set_presence(&setting(Availability::Available, None, ""))
        .await
        .unwrap();
    let from_carol = carol.dial(&["bob".to_owned()]).await.unwrap();
    let rung = b
        .wait_for("bob rung", |e| matches!(e, Event::CallIncoming { .. }))
        .await;
    match rung {
        Event::CallIncoming { call } => {
            assert_eq!(call.room_id, from_carol.room_id);
            assert_ne!(call.room_id, dnd_room);
        }
        other => panic!("{other:?}"),
    }
}

/// A raw PUT, to send what the typed client cannot.
async fn put_raw(t: &TestServer, token: Option<&str>, body: &str) -> (u16, serde_json::Value) {
    let mut req = reqwest::Client::new()
        .put(format!("{}/v1/me/presence", t.url()))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(serde_json::Value::Null))
}

#[tokio::test]
async fn bad_settings_are_refused_and_nothing_is_kept() {
    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    t.users(&["bob"]).await;
    let kept = alice
        .set_presence(&setting(Availability::Busy, None, "writing"))
        .await
        .unwrap();
    let token = t.token("alice").await;

    let long = "é".repeat(MAX_NOTE_CHARS + 1);
    let just_fits = "é".repeat(MAX_NOTE_CHARS);
    let cases = [
        (
            serde_json::json!({"availability": "away", "note": long}).to_string(),
            400,
            "validation_error",
        ),
        (
            r#"{"availability":"away","note":"two\nlines"}"#.to_owned(),
            400,
            "validation_error",
        ),
        (
            r#"{"availability":"asleep"}"#.to_owned(),
            400,
            "malformed_request",
        ),
        (
            r#"{"availability":"away","activity":"napping"}"#.to_owned(),
            400,
            "malformed_request",
        ),
        (
            r#"{"note":"no availability"}"#.to_owned(),
            400,
            "malformed_request",
        ),
        ("not json".to_owned(), 400, "malformed_request"),
    ];
    for (body, status, code) in &cases {
        let (got, err) = put_raw(&t, Some(&token), body).await;
        assert_eq!(
            (got, err["code"].as_str()),
            (*status, Some(*code)),
            "{body}"
        );
    }
    let (got, err) = put_raw(&t, None, r#"{"availability":"away"}"#).await;
    assert_eq!(got, 401, "{err}");
    let (got, err) = put_raw(&t, Some("forged.token.here"), r#"{"availability":"away"}"#).await;
    assert_eq!(got, 401, "{err}");
    assert_eq!(alice.presence("alice").await.unwrap(), kept);

    // Exactly the limit is fine (characters, not bytes).
    let (got, shown) = put_raw(
        &t,
        Some(&token),
        &serde_json::json!({"availability": "away", "note": just_fits}).to_string(),
    )
    .await;
    assert_eq!(got, 200, "{shown}");
    assert_eq!(
        shown["note"].as_str().map(|n| n.chars().count()),
        Some(MAX_NOTE_CHARS)
    );

    let err = alice.presence("nobody").await.unwrap_err();
    assert_eq!(err.code(), "user_not_found");
    let err = alice.presence("not a user id!").await.unwrap_err();
    assert_eq!(err.code(), "user_not_found");
}
