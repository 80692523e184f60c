//! Calls outlive a short break in a device's connection to the server, and end when the
//! device stays away: the server's grace period. The device reaches the server through a
//! relay the test holds shut, so it is away exactly as long as the test says.

mod common;

use std::time::Duration;

use common::gate::Gate;
use common::party::{connected, Party};
use common::*;
use parla::client::call::CallState;
use parla::client::Event;
use parla::proto::EndReason;

const GRACE: Duration = Duration::from_secs(3);

/// alice (through `gate`, reconnecting every 100 ms) in a connected call with bob.
async fn call_through_gate(t: &TestServer, gate: &Gate) -> (Party, Party, String) {
    let mut config = ClientConfig::new(gate.url.clone(), admin_tokens(&t.url(), "alice"));
    config.reconnect.schedule = vec![Duration::from_millis(100)];
    config.reconnect.then = Duration::from_millis(100);
    config.reconnect.max_jitter = Duration::ZERO;
    let (alice, a) = start_client(config).await;
    let (bob, mut b) = t.client("bob").await;
    let room = alice.dial(&["bob".into()]).await.unwrap().room_id;
    b.wait_seen("ring", |e| matches!(e, Event::CallIncoming { .. }))
        .await;
    bob.answer(&room).await.unwrap();
    let pa = Party::start("alice", alice, a, &room, 440.0, false);
    let pb = Party::start("bob", bob, b, &room, 880.0, false);
    pa.wait_state("connected", connected).await;
    pb.wait_state("connected", connected).await;
    pa.wait_hears(880.0).await;
    pb.wait_hears(440.0).await;
    (pa, pb, room)
}

async fn server() -> TestServer {
    let t = TestServer::start_with(|c| c.call_grace = GRACE).await;
    t.users(&["alice", "bob"]).await;
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_back_within_the_grace_period_keeps_its_call() {
    let t = server().await;
    let gate = Gate::start(&t.url()).await;
    let (pa, pb, room) = call_through_gate(&t, &gate).await;
    gate.cut().await;
    tokio::time::sleep(GRACE / 3).await;
    gate.open();
    // Well past the grace period from the cut: the call is still on, both ways.
    tokio::time::sleep(GRACE * 2).await;
    pa.check().await;
    pb.check().await;
    assert!(connected(&pb.state().unwrap()), "{:?}", pb.states());
    assert!(connected(&pa.state().unwrap()), "{:?}", pa.states());
    pa.wait_hears(880.0).await;
    pb.wait_hears(440.0).await;
    // And the device that came back is the one in the call: it can hang up.
    pa.client.hangup(&room).await.unwrap();
    pb.wait_state("ended", |s| {
        *s == CallState::Ended {
            reason: EndReason::HangUp,
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_away_longer_leaves_the_call_and_nobody_stays_busy() {
    let t = server().await;
    let gate = Gate::start(&t.url()).await;
    let (pa, pb, _room) = call_through_gate(&t, &gate).await;
    gate.cut().await;
    pb.wait_state("connection lost", |s| {
        *s == CallState::Ended {
            reason: EndReason::ConnectionLost,
        }
    })
    .await;
    // bob is free at once: carol can reach him.
    t.users(&["carol"]).await;
    let (carol, _c) = t.client("carol").await;
    let call = carol.dial(&["bob".into()]).await.unwrap();
    carol.hangup(&call.room_id).await.unwrap();
    // alice comes back: the server tells her the call ended while she was away, and she
    // can call again.
    gate.open();
    pa.wait_state("told it ended", |s| {
        *s == CallState::Ended {
            reason: EndReason::ConnectionLost,
        }
    })
    .await;
    let again = pa.client.dial(&["bob".into()]).await.unwrap();
    pa.client.hangup(&again.room_id).await.unwrap();
}
