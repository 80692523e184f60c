//! The call history the server keeps per user: what each party's record says (missed,
//! answered, forwarded), paging, the missed count marked seen, deleting, the events every
//! device gets, and a server restart in between. Real server and clients; calls without
//! media (the history is the server's).

mod common;

use common::*;
use parla::client::{Client, Event};
use parla::proto::{CallDirection, CallHistoryChange, EndReason, ErrorCode};
use parla::server::{Server, ServerConfig};

fn added(room: &str) -> impl Fn(&Event) -> bool + '_ {
    move |e| {
        matches!(e, Event::CallHistory { change: CallHistoryChange::Added, entry: Some(en), .. }
            if en.room_id == room)
    }
}

/// Alice calls `callee`, who is rung; `then` decides how it ends. Returns the room.
async fn call(alice: &Client, ringing: &mut Events, callee: &str) -> String {
    let room = alice.dial(&[callee.to_owned()]).await.unwrap().room_id;
    ringing
        .wait_for(
            "ring",
            |e| matches!(e, Event::CallIncoming { call } if call.room_id == room),
        )
        .await;
    room
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_party_has_a_record_of_each_call_and_it_outlives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let start = || async {
        let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().into());
        config.api_key = Some(API_KEY.into());
        Server::start(config).await.unwrap()
    };
    let server = start().await;
    let url = server.url();
    let admin = parla::client::Rest::new(&url)
        .unwrap()
        .with_api_key(API_KEY);
    for u in ["alice", "bob", "carol"] {
        admin.admin_create_user(u, None).await.unwrap();
    }
    let client = |u: &str| {
        start_client(parla::client::ClientConfig::new(
            url.clone(),
            admin_tokens(&url, u),
        ))
    };
    let (alice, mut a) = client("alice").await;
    let (bob, mut b) = client("bob").await;
    let (_bob2, mut b2) = client("bob").await;
    let (carol, mut c) = client("carol").await;

    // 1. Bob does not answer; alice gives up: missed for bob, canceled for alice.
    let missed = call(&alice, &mut b, "bob").await;
    alice.hangup(&missed).await.unwrap();
    let Event::CallHistory {
        entry: Some(bob_missed),
        missed_unseen,
        ..
    } = b.wait_for("bob's record", added(&missed)).await
    else {
        unreachable!()
    };
    assert!(bob_missed.missed);
    assert_eq!(missed_unseen, 1);
    assert_eq!(bob_missed.direction, CallDirection::Incoming);
    assert_eq!(bob_missed.with, vec!["alice"]);
    assert_eq!(bob_missed.end_reason, EndReason::Canceled);
    assert_eq!(bob_missed.answered_at, None);
    b2.wait_for("on bob's other device too", added(&missed))
        .await;
    let Event::CallHistory {
        entry: Some(alice_rec),
        ..
    } = a.wait_for("alice's record", added(&missed)).await
    else {
        unreachable!()
    };
    assert!(!alice_rec.missed);
    assert_eq!(alice_rec.direction, CallDirection::Outgoing);

    // 2. Answered, then hung up.
    let talked = call(&alice, &mut b, "bob").await;
    bob.answer(&talked).await.unwrap();
    bob.hangup(&talked).await.unwrap();
    let Event::CallHistory {
        entry: Some(rec), ..
    } = b.wait_for("record of the talk", added(&talked)).await
    else {
        unreachable!()
    };
    assert!(!rec.missed);
    assert!(rec.answered_at.is_some());
    assert_eq!(rec.end_reason, EndReason::HangUp);

    // 3. Forwarded by bob to carol, who declines.
    let forwarded = call(&alice, &mut b, "bob").await;
    bob.forward(&forwarded, "carol").await.unwrap();
    c.wait_for("carol rings", |e| matches!(e, Event::CallIncoming { .. }))
        .await;
    carol
        .decline(&forwarded, parla::proto::DeclineReason::None)
        .await
        .unwrap();
    let Event::CallHistory {
        entry: Some(bob_fw),
        ..
    } = b.wait_for("bob's forward", added(&forwarded)).await
    else {
        unreachable!()
    };
    assert_eq!(bob_fw.forwarded_to.as_deref(), Some("carol"));
    assert!(!bob_fw.missed, "a forwarded call is not missed");
    let Event::CallHistory {
        entry: Some(carol_fw),
        ..
    } = c.wait_for("carol's record", added(&forwarded)).await
    else {
        unreachable!()
    };
    assert_eq!(carol_fw.forwarded_by.as_deref(), Some("bob"));
    assert!(!carol_fw.missed, "declined is not missed");

    // Paging, newest first; the missed filter.
    let bob_rest = bob.rest();
    let page = bob_rest.call_history(2, None, false).await.unwrap();
    let rooms: Vec<&str> = page.entries.iter().map(|e| e.room_id.as_str()).collect();
    assert_eq!(rooms, vec![forwarded.as_str(), talked.as_str()]);
    assert!(page.has_more);
    assert_eq!(page.missed_unseen, 1);
    let rest = bob_rest
        .call_history(2, Some(page.entries[1].seq), false)
        .await
        .unwrap();
    assert_eq!(rest.entries.len(), 1);
    assert!(!rest.has_more);
    assert_eq!(rest.entries[0].room_id, missed);
    let only = bob_rest.call_history(50, None, true).await.unwrap();
    assert_eq!(only.entries.len(), 1);
    assert!(only.entries[0].missed);
    let err = bob_rest.call_history(0, None, false).await.unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::ValidationError));

    // Across a restart the history is all there.
    drop((alice, bob, carol, a, b, b2, c));
    server.shutdown().await;
    let server = start().await;
    let url = server.url();
    let client = |u: &str| {
        start_client(parla::client::ClientConfig::new(
            url.clone(),
            admin_tokens(&url, u),
        ))
    };
    let (bob, _b) = client("bob").await;
    let (_bob2, mut b2) = client("bob").await;
    let page = bob.rest().call_history(50, None, false).await.unwrap();
    assert_eq!(page.entries.len(), 3);
    assert_eq!(page.missed_unseen, 1);

    // Marked seen (every device hears), then deleted one by one and all at once.
    let seen = bob.rest().mark_calls_seen().await.unwrap();
    assert_eq!(seen.missed_unseen, 0);
    b2.wait_for("seen", |e| {
        matches!(
            e,
            Event::CallHistory {
                change: CallHistoryChange::Seen,
                missed_unseen: 0,
                ..
            }
        )
    })
    .await;
    let page = bob.rest().call_history(50, None, true).await.unwrap();
    assert!(page.entries[0].seen);
    bob.rest().delete_call_history(Some(&missed)).await.unwrap();
    b2.wait_for("deleted", |e| {
        matches!(e, Event::CallHistory { change: CallHistoryChange::Deleted, room_id: Some(r), .. } if *r == missed)
    })
    .await;
    let err = bob
        .rest()
        .delete_call_history(Some(&missed))
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::CallNotFound));
    bob.rest().delete_call_history(None).await.unwrap();
    assert!(bob
        .rest()
        .call_history(50, None, false)
        .await
        .unwrap()
        .entries
        .is_empty());
    server.shutdown().await;
}
