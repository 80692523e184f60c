//! Call signaling through the real server: ringing on every device, answer on one, decline,
//! cancel, busy, timeout, group calls, signal relay, presence while in a call.

mod common;

use std::time::Duration;

use common::*;
use parla::client::call::CallState;
use parla::client::{Client, Event, MediaChange};
use parla::proto::{CallStatus, DeclineReason, EndReason, ErrorCode, PresenceStatus, Signal};

fn state_of(e: &Event, room: &str) -> Option<CallState> {
    match e {
        Event::Call { view } if view.call.room_id == room => Some(view.state),
        _ => None,
    }
}

async fn wait_state(ev: &mut Events, room: &str, want: CallState) {
    let room = room.to_owned();
    ev.wait_for(&format!("{want:?}"), move |e| {
        state_of(e, &room) == Some(want)
    })
    .await;
}

async fn wait_ended(events: &mut Events, room: &str, reason: EndReason) {
    wait_state(events, room, CallState::Ended { reason }).await;
}

/// `user` is online, not busy in a call.
async fn assert_online(t: &TestServer, user: &str) {
    assert_eq!(presence_of(t, user).await.status, PresenceStatus::Online);
}

async fn wait_incoming(ev: &mut Events) -> String {
    match ev
        .wait_seen("incoming call", |e| matches!(e, Event::CallIncoming { .. }))
        .await
    {
        Event::CallIncoming { call } => call.room_id,
        _ => unreachable!(),
    }
}

async fn presence_of(t: &TestServer, user: &str) -> parla::proto::Presence {
    let users = t.rest_for(user).await.users(false).await.unwrap();
    users
        .into_iter()
        .find(|u| u.user_id == user)
        .unwrap()
        .presence
}

#[tokio::test]
async fn answer_on_one_device_stops_the_other_and_hang_up_ends_both() {
    let t = TestServer::start().await;
    t.users(&["alice", "bob"]).await;
    let (alice, mut a) = t.client("alice").await;
    let (_bob1, mut b1) = t.client("bob").await;
    let (bob2, mut b2) = t.client("bob").await;

    let call = alice.dial(&["bob".into()]).await.unwrap();
    assert_eq!(call.status, CallStatus::Dialing);
    let room = call.room_id.clone();
    wait_state(&mut a, &room, CallState::Dialing).await;
    assert_eq!(wait_incoming(&mut b1).await, room);
    assert_eq!(wait_incoming(&mut b2).await, room);
    wait_state(&mut b1, &room, CallState::Ringing).await;

    let answered = bob2.answer(&room).await.unwrap();
    assert_eq!(answered.status, CallStatus::Connected);
    wait_ended(&mut b1, &room, EndReason::AnsweredOnAnotherDevice).await;
    wait_state(&mut a, &room, CallState::Connecting).await;
    wait_state(&mut b2, &room, CallState::Connecting).await;

    // Busy with each other while the call lasts.
    let p = presence_of(&t, "alice").await;
    assert_eq!(p.status, PresenceStatus::Busy);
    assert_eq!(p.busy_with, vec!["bob"]);
    assert_eq!(presence_of(&t, "bob").await.busy_with, vec!["alice"]);

    // Signaling reaches the answering device only.
    alice
        .signal(
            &room,
            "bob",
            Signal::Offer {
                sdp: "v=0 test".into(),
            },
        )
        .unwrap();
    let got = b2
        .wait_for("offer", |e| matches!(e, Event::CallSignal { .. }))
        .await;
    assert!(
        matches!(got, Event::CallSignal { from_user, signal: Signal::Offer { sdp }, .. } if from_user == "alice" && sdp == "v=0 test")
    );
    let stray = b1.drain_for(Duration::from_millis(200)).await;
    assert!(!stray.iter().any(|e| matches!(e, Event::CallSignal { .. })));

    // Media up, hold, resume: the visible states follow.
    alice.media_changed(
        &room,
        MediaChange::Up {
            leg: "bob".into(),
            up: true,
        },
    );
    wait_state(&mut a, &room, CallState::Connected).await;
    alice.media_changed(&room, MediaChange::LocalHold(true));
    wait_state(
        &mut a,
        &room,
        CallState::OnHold {
            local: true,
            remote: false,
        },
    )
    .await;
    alice.media_changed(&room, MediaChange::LocalHold(false));
    wait_state(&mut a, &room, CallState::Connected).await;

    let ended = bob2.hangup(&room).await.unwrap();
    assert_eq!(ended.end_reason, Some(EndReason::HangUp));
    wait_ended(&mut a, &room, EndReason::HangUp).await;
    assert_online(&t, "alice").await;
    // Answering a call that ended is refused.
    let err = bob2.answer(&room).await.unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::InvalidCallStatus));
}

#[tokio::test]
async fn decline_cancel_and_refusals() {
    let t = TestServer::start().await;
    for u in ["alice", "bob", "carol"] {
        t.user(u).await;
    }
    let (alice, mut a) = t.client("alice").await;
    let (bob, mut b) = t.client("bob").await;
    let (carol, _c) = t.client("carol").await;

    let room = alice.dial(&["bob".into()]).await.unwrap().room_id;
    wait_incoming(&mut b).await;
    let declined = bob
        .decline(&room, DeclineReason::DoNotDisturb)
        .await
        .unwrap();
    assert_eq!(declined.end_reason, Some(EndReason::Declined));
    assert_eq!(
        declined.participant("bob").unwrap().decline_reason,
        Some(DeclineReason::DoNotDisturb)
    );
    wait_ended(&mut a, &room, EndReason::Declined).await;

    let room = alice.dial(&["bob".into()]).await.unwrap().room_id;
    b.wait_for(
        "second ring",
        |e| matches!(e, Event::CallIncoming { call } if call.room_id == room),
    )
    .await;
    // One call at a time from this device, and not while busy elsewhere.
    let err = alice.dial(&["carol".into()]).await.unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::AnotherCallInProgress));
    let (alice2, _a2) = t.client("alice").await;
    let err = alice2.dial(&["carol".into()]).await.unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::CurrentUserBusy));
    // The caller cancels while it rings.
    alice.hangup(&room).await.unwrap();
    wait_ended(&mut b, &room, EndReason::Canceled).await;

    // Call waiting: Bob, in a call, still rings; he answers once he holds the first call
    // (the hold reaches the server from the media layer, as a hold made in a call does).
    let room = alice.dial(&["bob".into()]).await.unwrap().room_id;
    bob.answer(&room).await.unwrap();
    let waiting = carol.dial(&["bob".into()]).await.unwrap().room_id;
    b.wait_for(
        "call waiting",
        |e| matches!(e, Event::CallIncoming { call } if call.room_id == waiting),
    )
    .await;
    let err = bob.answer(&waiting).await.unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::AnotherCallInProgress));
    bob.media_changed(&room, MediaChange::LocalHold(true));
    let answered = bob.answer(&waiting).await.unwrap();
    assert_eq!(answered.status, CallStatus::Connected);
    // Alice sees Bob's hold recorded on the first call.
    a.wait_for(
        "bob holds",
        |e| matches!(e, Event::Call { view } if view.call.room_id == room && view.call.participant("bob").is_some_and(|p| p.held)),
    )
    .await;
    // Presence stays busy while Bob has either call.
    assert_eq!(
        presence_of(&t, "bob").await.busy_with,
        vec!["alice", "carol"]
    );
    carol.hangup(&waiting).await.unwrap();
    wait_ended(&mut b, &waiting, EndReason::HangUp).await;
    let p = presence_of(&t, "bob").await;
    assert_eq!(
        (p.status, p.busy_with),
        (PresenceStatus::Busy, vec!["alice".to_owned()])
    );
    alice.hangup(&room).await.unwrap();
    wait_ended(&mut b, &room, EndReason::HangUp).await;
    assert_online(&t, "bob").await;

    // Bad input.
    for (callees, code) in [
        (vec!["nobody".to_owned()], ErrorCode::UserNotFound),
        (vec!["carol".to_owned()], ErrorCode::ValidationError),
        (vec![], ErrorCode::ValidationError),
        (vec!["bad id".to_owned()], ErrorCode::ValidationError),
    ] {
        let err = carol.dial(&callees).await.unwrap_err();
        assert_eq!(err.api_code(), Some(code), "{callees:?}");
    }
    let err = carol.answer("call_nope").await.unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::CallNotFound));
    // Carol was never in that call: to her it does not exist, ended or not.
    let err = carol.hangup(&room).await.unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::CallNotFound));
    // Alice was: she learns it has ended.
    let err = alice.hangup(&room).await.unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::InvalidCallStatus));
}

#[tokio::test]
async fn unanswered_calls_time_out() {
    let t = TestServer::start_with(|c| c.ring_timeout = Duration::from_secs(1)).await;
    t.users(&["alice", "bob"]).await;
    let (alice, mut a) = t.client("alice").await;
    let (_bob, mut b) = t.client("bob").await;
    let room = alice.dial(&["bob".into()]).await.unwrap().room_id;
    wait_incoming(&mut b).await;
    wait_ended(&mut b, &room, EndReason::Timeout).await;
    wait_ended(&mut a, &room, EndReason::Timeout).await;
    // The caller is free again.
    assert_online(&t, "alice").await;
    alice.dial(&["bob".into()]).await.unwrap();
}

#[tokio::test]
async fn a_group_call_goes_on_while_two_remain() {
    let t = TestServer::start().await;
    for u in ["alice", "bob", "carol"] {
        t.user(u).await;
    }
    let (alice, mut a) = t.client("alice").await;
    let (bob, mut b) = t.client("bob").await;
    let (carol, mut c) = t.client("carol").await;
    let room = alice
        .dial(&["bob".into(), "carol".into()])
        .await
        .unwrap()
        .room_id;
    wait_incoming(&mut b).await;
    wait_incoming(&mut c).await;
    bob.answer(&room).await.unwrap();
    carol.answer(&room).await.unwrap();
    wait_state(&mut a, &room, CallState::Connecting).await;

    let after = alice.hangup(&room).await.unwrap();
    assert_eq!(after.status, CallStatus::Connected);
    wait_ended(&mut a, &room, EndReason::HangUp).await;
    // bob and carol still talk; bob can signal carol.
    bob.signal(&room, "carol", Signal::EndOfCandidates).unwrap();
    c.wait_for(
        "signal",
        |e| matches!(e, Event::CallSignal { from_user, .. } if from_user == "bob"),
    )
    .await;
    carol.hangup(&room).await.unwrap();
    wait_ended(&mut b, &room, EndReason::HangUp).await;
}

#[tokio::test]
async fn a_device_that_connects_while_a_call_rings_rings_too() {
    let t = TestServer::start().await;
    t.users(&["alice", "bob"]).await;
    let (alice, _a) = t.client("alice").await;
    let room = alice.dial(&["bob".into()]).await.unwrap().room_id;
    let (bob, mut b): (Client, Events) = t.client("bob").await;
    assert_eq!(wait_incoming(&mut b).await, room);
    bob.answer(&room).await.unwrap();
    wait_state(&mut b, &room, CallState::Connecting).await;
}

#[tokio::test]
async fn ice_servers_carry_fresh_turn_credentials() {
    let t = TestServer::start_with(|c| {
        c.stun_urls = vec!["stun:127.0.0.1:3478".into()];
        c.turn = Some(parla::server::TurnConfig {
            urls: vec!["turn:127.0.0.1:3478?transport=udp".into()],
            secret: "turn-secret".into(),
            ttl: Duration::from_mins(10),
        });
    })
    .await;
    let alice = t.user("alice").await;
    let servers = alice.ice_servers().await.unwrap();
    assert_eq!(servers.len(), 2);
    assert_eq!(servers[0].urls, vec!["stun:127.0.0.1:3478"]);
    assert!(servers[0].username.is_none());
    let turn = &servers[1];
    let username = turn.username.clone().unwrap();
    let (expiry, user) = username.split_once(':').unwrap();
    assert_eq!(user, "alice");
    let expiry: i64 = expiry.parse().unwrap();
    let left = expiry - chrono::Utc::now().timestamp();
    assert!((590..=600).contains(&left), "{left}");
    // The password is base64(HMAC-SHA1(secret, username)), computed here on its own
    // (the HMAC itself is checked against RFC 2202 in the server's unit tests).
    let expected = {
        use base64::Engine;
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(b"turn-secret").unwrap();
        mac.update(username.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    };
    assert_eq!(turn.credential.as_deref(), Some(expected.as_str()));

    // Without configuration: an empty list, and calls still connect on host candidates.
    let plain = TestServer::start().await;
    assert!(plain
        .user("bob")
        .await
        .ice_servers()
        .await
        .unwrap()
        .is_empty());
    // Not without a token.
    let anon = parla::client::Rest::new(&t.url()).unwrap();
    assert!(anon.ice_servers().await.is_err());
}
