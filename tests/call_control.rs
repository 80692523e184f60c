//! Call control beyond dial, answer and hang up: ignoring a ringing call, forwarding it,
//! and handing a held call over to someone else (a blind transfer), with the audio checked
//! where the parties change. Real server, real clients, webrtc-rs peers over loopback.

mod common;

use common::party::{connected, Party};
use common::*;
use parla::client::call::CallState;
use parla::client::{CallOperation, Client, Event, OperationStage};
use parla::proto::{Availability, EndReason, ErrorCode, ParticipantState, PresenceSetting};

/// Alice, Bob and Carol connected; Alice calls Bob (Bob's devices ring) and her side of
/// the call runs, sending 440 Hz.
#[allow(clippy::type_complexity)]
async fn alice_calls_bob() -> (
    TestServer,
    Client,
    Party,
    Client,
    Events,
    Client,
    Events,
    String,
) {
    let t = TestServer::start().await;
    t.users(&["alice", "bob", "carol"]).await;
    let (alice, a) = t.client("alice").await;
    let (bob, b) = t.client("bob").await;
    let (carol, c) = t.client("carol").await;
    let room = alice.dial(&["bob".into()]).await.unwrap().room_id;
    let pa = Party::start("alice", alice.clone(), a, &room, 440.0, false);
    (t, alice, pa, bob, b, carol, c, room)
}

/// The direct channel of alice and bob (opened by bob).
async fn alice_and_bob_channel(t: &TestServer) -> String {
    t.rest_for("bob")
        .await
        .open_direct("alice")
        .await
        .unwrap()
        .channel_id
}

async fn set_availability(t: &TestServer, user: &str, availability: Availability) {
    t.rest_for(user)
        .await
        .set_presence(&PresenceSetting {
            availability,
            ..PresenceSetting::default()
        })
        .await
        .unwrap();
}

fn ended(reason: EndReason) -> impl Fn(&Event) -> bool {
    move |e| matches!(e, Event::Call { view } if view.state == CallState::Ended { reason })
}

fn operation(op: CallOperation, stage: OperationStage) -> impl Fn(&Event) -> bool {
    move |e| {
        matches!(e, Event::CallOperation { operation, stage: s, .. }
            if *operation == op && *s == stage)
    }
}

#[tokio::test]
async fn ignoring_stops_the_ring_here_and_the_caller_is_not_told() {
    let t = TestServer::start().await;
    t.users(&["alice", "bob"]).await;
    let (alice, mut a) = t.client("alice").await;
    let (bob, mut b) = t.client("bob").await;
    let (_bob2, mut b2) = t.client("bob").await;
    let room = alice.dial(&["bob".into()]).await.unwrap().room_id;
    b.wait_for("ring", |e| matches!(e, Event::CallIncoming { .. }))
        .await;
    b2.wait_for("ring on the other device", |e| {
        matches!(e, Event::CallIncoming { .. })
    })
    .await;

    let call = bob.ignore(&room).await.unwrap();
    assert_eq!(
        call.participant("bob").unwrap().state,
        ParticipantState::Ringing,
        "to everyone else bob still rings"
    );
    b.wait_seen(
        "started",
        operation(CallOperation::Ignore, OperationStage::Started),
    )
    .await;
    b.wait_seen(
        "finished",
        operation(CallOperation::Ignore, OperationStage::Finished),
    )
    .await;
    // Both of bob's devices stop ringing.
    b.wait_for("ignored", ended(EndReason::Ignored)).await;
    b2.wait_for("ignored on the other device", ended(EndReason::Ignored))
        .await;
    // A device that connects now does not ring for it, and the caller heard nothing of
    // it. (A message sent after the ignore arrives after anything the ignore caused: each
    // connection's frames keep their order.)
    let (_bob3, mut b3) = t.client("bob").await;
    let dm = alice_and_bob_channel(&t).await;
    bob.send_message(&dm, "marker").await.unwrap();
    let is_marker = |e: &Event| matches!(e, Event::Message { message } if message.text == "marker");
    b3.wait_for("the marker", is_marker).await;
    assert!(
        !b3.seen
            .iter()
            .any(|e| matches!(e, Event::CallIncoming { .. })),
        "a new device rang for an ignored call: {:?}",
        b3.seen
    );
    a.wait_for("the marker", is_marker).await;
    assert!(
        !a.seen
            .iter()
            .any(|e| matches!(e, Event::Call { view } if view.state != CallState::Dialing)),
        "the caller was told: {:?}",
        a.seen
    );

    // Ignoring twice changes nothing; what does not ring cannot be ignored.
    bob.ignore(&room).await.unwrap();
    let err = alice.ignore(&room).await.unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::InvalidCallStatus));
    a.wait_seen("failed with its code", |e| {
        matches!(e, Event::CallOperation { stage: OperationStage::Failed { code, .. }, .. }
            if code == "invalid_call_status")
    })
    .await;
    alice.hangup(&room).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_call_rings_the_destination_and_connects_the_caller_with_them() {
    let (t, alice, pa, bob, mut b, carol, mut c, room) = alice_calls_bob().await;
    b.wait_for("ring", |e| matches!(e, Event::CallIncoming { .. }))
        .await;

    // Refusals, each with its code.
    for (to, code) in [
        ("bob", ErrorCode::ValidationError),
        ("alice", ErrorCode::ValidationError),
        ("nobody", ErrorCode::UserNotFound),
        ("bad id", ErrorCode::ValidationError),
    ] {
        let err = bob.forward(&room, to).await.unwrap_err();
        assert_eq!(err.api_code(), Some(code), "forward to {to}");
    }
    let err = alice.forward(&room, "carol").await.unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::InvalidCallStatus));
    // Not to someone in do not disturb: the call rings on for bob.
    set_availability(&t, "carol", Availability::DoNotDisturb).await;
    let err = bob.forward(&room, "carol").await.unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::UserDoNotDisturb));
    set_availability(&t, "carol", Availability::Available).await;

    let call = bob.forward(&room, "carol").await.unwrap();
    let me = call.participant("bob").unwrap();
    assert_eq!(me.state, ParticipantState::Forwarded);
    assert_eq!(me.forwarded_to.as_deref(), Some("carol"));
    b.wait_for("forwarded", ended(EndReason::Forwarded)).await;
    // Carol rings for the same call; the caller sees whom it rings now.
    let Event::CallIncoming { call } = c
        .wait_for("ring", |e| matches!(e, Event::CallIncoming { .. }))
        .await
    else {
        unreachable!()
    };
    assert_eq!(call.room_id, room);
    pa.wait("the caller sees carol ringing", || {
        pa.events().iter().any(|e| {
            matches!(e, Event::Call { view } if view.call.participant("carol")
                .is_some_and(|p| p.state == ParticipantState::Ringing))
        })
    })
    .await;
    assert_eq!(pa.state(), Some(CallState::Dialing));

    carol.answer(&room).await.unwrap();
    let pc = Party::start("carol", carol.clone(), c, &room, 880.0, false);
    pa.wait_state("connected", connected).await;
    pc.wait_state("connected", connected).await;
    pa.wait_hears(880.0).await;
    pc.wait_hears(440.0).await;
    alice.hangup(&room).await.unwrap();
    pc.wait_state("hung up", |s| {
        *s == CallState::Ended {
            reason: EndReason::HangUp,
        }
    })
    .await;
    pa.finish().await;
    pc.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_call_transferred_connects_the_remote_party_with_the_destination() {
    let (t, _alice, pa, bob, mut b, carol, mut c, room) = alice_calls_bob().await;
    b.wait_seen("ring", |e| matches!(e, Event::CallIncoming { .. }))
        .await;
    bob.answer(&room).await.unwrap();
    let pb = Party::start("bob", bob.clone(), b, &room, 660.0, false);
    pa.wait_state("connected", connected).await;
    pa.wait_hears(660.0).await;

    // Only a held call is transferred.
    let err = bob.transfer(&room, "carol").await.unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::InvalidCallStatus));
    pb.hold(true);
    pa.wait_state("bob holds", |s| {
        matches!(s, CallState::OnHold { remote: true, .. })
    })
    .await;
    // The server has recorded the hold (alice sees it in the call) before bob transfers.
    pa.wait("the server knows bob holds", || {
        pa.events().iter().any(|e| {
            matches!(e, Event::Call { view } if view.call.participant("bob").is_some_and(|p| p.held))
        })
    })
    .await;
    // Not to someone in do not disturb: bob keeps the call, held.
    set_availability(&t, "carol", Availability::DoNotDisturb).await;
    let err = bob.transfer(&room, "carol").await.unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::UserDoNotDisturb));
    set_availability(&t, "carol", Availability::Available).await;
    let call = bob.transfer(&room, "carol").await.unwrap();
    let me = call.participant("bob").unwrap();
    assert_eq!(me.state, ParticipantState::Transferred);
    assert_eq!(me.transferred_to.as_deref(), Some("carol"));
    pb.wait_state("bob is out", |s| {
        *s == CallState::Ended {
            reason: EndReason::Transferred,
        }
    })
    .await;

    // Carol rings for the same call, answers, and talks with alice; bob is gone.
    c.wait_for("ring", |e| matches!(e, Event::CallIncoming { .. }))
        .await;
    carol.answer(&room).await.unwrap();
    let pc = Party::start("carol", carol.clone(), c, &room, 880.0, false);
    pc.wait_state("connected", connected).await;
    pa.wait_state("alice resumes with carol", |s| *s == CallState::Connected)
        .await;
    pa.wait_hears(880.0).await;
    pc.wait_hears(440.0).await;
    assert!(pa.hears(660.0) < 0.1, "alice still hears bob");
    pb.finish().await;
    carol.hangup(&room).await.unwrap();
    pa.wait_state("hung up", |s| {
        *s == CallState::Ended {
            reason: EndReason::HangUp,
        }
    })
    .await;
    pa.finish().await;
    pc.finish().await;
}
