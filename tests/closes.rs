//! Every way the server ends a WebSocket, seen from the client: idle (1001), expired
//! token (4001, after its warning), a client too slow for its outbox (4008), a deleted
//! user (4003 after `force_disconnect`); and the limits on signals, channels and calls.

mod common;

use std::time::Duration;

use common::rawws::{Ending, RawWs, CLOSE, TEXT};
use common::*;
use futures_util::SinkExt;
use parla::client::Event;
use parla::proto::{ErrorCode, MAX_CALL_PARTIES, MAX_PARTICIPANTS, MAX_SIGNAL_BYTES};
use tokio_tungstenite::tungstenite::Message as Ws;

#[tokio::test]
async fn a_silent_connection_is_closed_as_idle() {
    let t = TestServer::start_with(|c| c.idle_timeout = Duration::from_secs(1)).await;
    t.user("alice").await;
    let token = t.token("alice").await;
    let mut quiet = RawWs::connect(&t.url(), &token).await;
    let mut talking = RawWs::connect(&t.url(), &token).await;
    // One keeps pinging and stays; the other says nothing and is closed.
    let ping = async {
        for i in 0..6 {
            tokio::time::sleep(Duration::from_millis(400)).await;
            talking
                .send_text(&format!(r#"{{"type":"ping","req_id":"{i}"}}"#))
                .await;
            assert_eq!(talking.next_json().await["type"], "pong");
        }
    };
    let (ending, ()) = tokio::join!(quiet.ending(), ping);
    assert_eq!(ending, Ending::Close(1001));
}

#[tokio::test]
async fn an_expiring_token_is_warned_then_closed_with_4001() {
    let t = TestServer::start_with(|c| c.token_warning = Duration::from_secs(2)).await;
    t.user("alice").await;
    // A token with three seconds to live (the admin API gives at least 360).
    let (token, _) = t
        .server
        .state()
        .mint_token("alice", chrono::Utc::now(), 3)
        .await
        .unwrap();
    let mut ws = RawWs::connect(&t.url(), &token).await;
    let mut kinds = Vec::new();
    let ending = loop {
        match ws.read_frame().await {
            Some((TEXT, payload)) => {
                let v: serde_json::Value = serde_json::from_slice(&payload).unwrap();
                if v["type"] != "presence" {
                    kinds.push(v["type"].as_str().unwrap().to_owned());
                }
            }
            Some((CLOSE, p)) => break Ending::Close(u16::from_be_bytes([p[0], p[1]])),
            Some(_) => {}
            None => break Ending::Dropped,
        }
    };
    assert_eq!(kinds, ["token_about_to_expire", "token_expired"]);
    assert_eq!(ending, Ending::Close(4001));
}

/// A client that reads nothing while its outbox fills is dropped with 4008 (not just
/// cut off), and nothing queued for it is lost: the messages are in the history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_too_slow_for_its_outbox_is_closed_with_4008() {
    use parla::server::limits::Limits;
    let t = TestServer::start_with(|c| c.limits = Limits::unlimited()).await;
    let alice = t.user("alice").await;
    t.user("slow").await;
    let channel = alice.open_direct("slow").await.unwrap().channel_id;
    let slow_token = t.token("slow").await;
    let mut slow = RawWs::connect(&t.url(), &slow_token).await;

    // 5 000 messages of 16 kB to it: far more than its socket buffers and 4096 frames.
    let url = format!(
        "{}/v1/ws?access_token={}",
        t.url().replace("http", "ws"),
        t.token("alice").await
    );
    let (sender, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let (mut tx, mut rx) = futures_util::StreamExt::split(sender);
    let drain = tokio::spawn(async move {
        use futures_util::StreamExt;
        while let Some(Ok(_)) = rx.next().await {}
    });
    let text = "s".repeat(16_000);
    for i in 0..5000 {
        let f = serde_json::json!({"type": "send_message", "channel_id": channel,
            "client_id": format!("m{i}"), "text": text});
        tx.send(Ws::text(f.to_string())).await.unwrap();
    }
    // The hub lets go of the slow connection (its presence goes).
    wait_offline(&t, "slow").await;
    // Reading at last: what the socket still held, then the close, with its code.
    assert_eq!(slow.ending().await, Ending::Close(4008));
    drain.abort();
    // Nothing was lost on the way: it is all stored, for `resume` to bring.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let ch = t.rest_for("slow").await.channel(&channel).await.unwrap();
        if ch.last_seq == 5000 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} stored",
            ch.last_seq
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_offline(t: &TestServer, who: &str) {
    let viewer = t.rest_for("alice").await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while viewer
        .users(true)
        .await
        .unwrap()
        .iter()
        .any(|u| u.user_id == who)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{who} stayed online"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn deleting_a_user_disconnects_every_device_with_4003() {
    let t = TestServer::start().await;
    t.user("alice").await;
    let token = t.token("alice").await;
    let mut one = RawWs::connect(&t.url(), &token).await;
    let mut two = RawWs::connect(&t.url(), &token).await;
    t.admin().admin_delete_user("alice").await.unwrap();
    for ws in [&mut one, &mut two] {
        let v = ws.next_json().await;
        assert_eq!(v["type"], "force_disconnect", "{v}");
        assert_eq!(v["reason"], "user_deleted");
        assert_eq!(ws.ending().await, Ending::Close(4003));
    }
}

#[tokio::test]
async fn signals_channels_and_calls_have_their_limits() {
    let t = TestServer::start().await;
    for u in ["alice", "bob", "carol", "dave", "erin"] {
        t.user(u).await;
    }
    let (alice, _a) = t.client("alice").await;
    let (bob, mut b) = t.client("bob").await;
    // A call of at most four: the caller and three others.
    assert_eq!(MAX_CALL_PARTIES, 4);
    let five = ["bob", "carol", "dave", "erin"].map(String::from).to_vec();
    assert_eq!(
        alice.dial(&five).await.unwrap_err().api_code(),
        Some(ErrorCode::ValidationError)
    );

    // Signals: alice's device here is a raw socket, so the test sees every answer.
    let token = t.token("alice").await;
    let mut ws = RawWs::connect(&t.url(), &token).await;
    ws.send_text(r#"{"type":"call_dial","req_id":"d","callees":["bob"]}"#)
        .await;
    let dialed = ws.next_json().await;
    let room = dialed["call"]["room_id"].as_str().unwrap().to_owned();
    b.wait_seen("ring", |e| matches!(e, Event::CallIncoming { .. }))
        .await;
    bob.answer(&room).await.unwrap();
    let offer = |sdp: String| {
        serde_json::json!({"type": "call_signal", "room_id": room, "to_user": "bob",
            "signal": {"kind": "offer", "sdp": sdp}})
        .to_string()
    };
    // Over 64 KiB: refused. At the limit: relayed.
    ws.send_text(&offer("v".repeat(MAX_SIGNAL_BYTES + 1))).await;
    let v = loop {
        let v = ws.next_json().await;
        if v["type"] == "error" {
            break v;
        }
    };
    assert_eq!(v["code"], "validation_error");
    ws.send_text(&offer("w".repeat(MAX_SIGNAL_BYTES))).await;
    b.wait_for("the signal at the limit", |e| {
        matches!(e, Event::CallSignal { signal: parla::proto::Signal::Offer { sdp }, .. } if sdp.len() == MAX_SIGNAL_BYTES)
    })
    .await;
    bob.hangup(&room).await.unwrap();

    // A channel of at most 256: the creator and 255 others.
    let admin = t.admin();
    let mut others = Vec::new();
    for i in 0..MAX_PARTICIPANTS {
        let id = format!("member{i:03}");
        admin.admin_create_user(&id, None).await.unwrap();
        others.push(id);
    }
    let rest = t.rest_for("alice").await;
    let err = rest.create_group("too big", &others).await.unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::ValidationError));
    let full = rest
        .create_group("just fits", &others[..MAX_PARTICIPANTS - 1])
        .await
        .unwrap();
    assert_eq!(full.participants.len(), MAX_PARTICIPANTS);
}
