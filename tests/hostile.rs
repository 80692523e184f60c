//! The server against clients that misbehave: readers that stop reading, replays of long
//! histories, floods, oversized and broken frames, and a shutdown with many sockets open.
//! Memory is read from `/proc` of the real `parla serve` process.

// Test code: fixtures convert numbers freely; scenarios read top to bottom.
#![allow(clippy::items_after_statements)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::rawws::{Ending, RawWs, TEXT};
use common::serve::{Serve, ServeProcess};
use common::*;
use futures_util::{SinkExt, StreamExt};
use parla::client::{Event, Rest};
use parla::proto::{Direction, MAX_FRAME_BYTES, MAX_PRESENCE_SUBSCRIPTIONS};
use tokio_tungstenite::tungstenite::Message as Ws;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn socket(url: &str, token: &str, device: &str) -> Socket {
    let ws_url = format!(
        "{}/v1/ws?access_token={token}&device_id={device}",
        url.replace("http", "ws")
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url).await.unwrap();
    match tokio::time::timeout(WAIT, ws.next()).await {
        Ok(Some(Ok(Ws::Text(t)))) => assert!(t.as_str().contains("\"ready\""), "{t}"),
        other => panic!("no ready: {other:?}"),
    }
    ws
}

async fn next_json(ws: &mut Socket) -> serde_json::Value {
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await {
            Ok(Some(Ok(Ws::Text(t)))) => {
                let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
                if v["type"] != "presence" {
                    return v;
                }
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("no frame: {other:?}"),
        }
    }
}

async fn online(url: &str, viewer_token: &str, who: &str) -> bool {
    Rest::new(url)
        .unwrap()
        .with_token(viewer_token)
        .users(true)
        .await
        .unwrap()
        .iter()
        .any(|u| u.user_id == who)
}

const SEEDED: usize = 1500;
const TEXT_BYTES: usize = 16_000;

/// Stores `SEEDED` messages of 16 kB from alice to `slow`, from four connections at once.
async fn seed(server: &ServeProcess) -> String {
    let admin = Rest::new(&server.url).unwrap().with_api_key(API_KEY);
    for u in ["alice", "slow"] {
        admin.admin_create_user(u, None).await.unwrap();
    }
    let alice_token = admin_token(&server.url, "alice").await;
    let alice = Rest::new(&server.url)
        .unwrap()
        .with_token(alice_token.clone());
    let channel = alice.open_direct("slow").await.unwrap().channel_id;
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (url, token, channel) = (server.url.clone(), alice_token.clone(), channel.clone());
            tokio::spawn(async move {
                let ws = socket(&url, &token, &format!("seed{w}")).await;
                let (mut tx, mut rx) = ws.split();
                let text = "x".repeat(TEXT_BYTES);
                let n = SEEDED / 4;
                // Reading the acks while writing: a client that only writes would stop
                // reading, and the server closes those.
                let sender = tokio::spawn(async move {
                    for i in 0..n {
                        let frame = serde_json::json!({"type": "send_message", "req_id": format!("{w}-{i}"),
                            "channel_id": channel, "client_id": format!("{w}-{i}"), "text": text});
                        tx.send(Ws::text(frame.to_string())).await.unwrap();
                    }
                    tx
                });
                let mut acks = 0;
                while acks < n {
                    match tokio::time::timeout(WAIT, rx.next()).await {
                        Ok(Some(Ok(Ws::Text(t)))) => {
                            let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
                            // Alice's other seeding devices are told of each message too.
                            match v["type"].as_str() {
                                Some("ack") => acks += 1,
                                Some("presence" | "message") => {}
                                other => panic!("seeding: {other:?} {}", v["code"]),
                            }
                        }
                        other => panic!("seeding: {other:?}"),
                    }
                }
                drop(sender.await.unwrap());
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    channel
}

/// Readers that stop reading in the middle of a long replay are closed, the replays never
/// hold the history in memory, and a second `resume` on a connection is refused while the
/// first is still replaying.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replays_are_streamed_and_readers_that_stop_are_closed() {
    let (data, home) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let server = Serve::new(data.path(), home.path())
        .arg("--limit")
        .arg("messages=off")
        .arg("--limit")
        .arg("frames=off")
        .spawn()
        .await;
    let channel = seed(&server).await;
    let slow_token = admin_token(&server.url, "slow").await;
    let alice_token = admin_token(&server.url, "alice").await;

    // One complete replay read as it comes, so the baseline includes what a replay
    // normally allocates. Two `resume`s back to back: the second is refused, because the
    // first cannot finish before the client reads (24 MB do not fit in socket buffers).
    let mut reader = socket(&server.url, &slow_token, "reader").await;
    let resume = serde_json::json!({"type": "resume", "cursors": {}}).to_string();
    reader.send(Ws::text(resume.clone())).await.unwrap();
    reader.send(Ws::text(resume.clone())).await.unwrap();
    let (mut seqs, mut refused, mut resumed) = (BTreeSet::new(), 0, 0);
    while resumed == 0 {
        let v = next_json(&mut reader).await;
        match v["type"].as_str().unwrap() {
            "message" => assert!(seqs.insert(v["message"]["seq"].as_u64().unwrap())),
            "channel_added" => assert_eq!(v["channel"]["channel_id"], channel.as_str()),
            "error" => {
                assert_eq!(v["code"], "resume_in_progress", "{v}");
                refused += 1;
            }
            "resumed" => {
                assert_eq!(v["replayed"], SEEDED as u64);
                resumed += 1;
            }
            other => panic!("unexpected {other}: {v}"),
        }
    }
    assert_eq!(refused, 1, "the second resume is refused");
    assert_eq!(seqs.len(), SEEDED, "every message once");
    assert_eq!(seqs.last().copied(), Some(SEEDED as u64));
    reader.close(None).await.unwrap();
    drop(reader);
    let deadline = tokio::time::Instant::now() + WAIT;
    while online(&server.url, &alice_token, "slow").await {
        assert!(tokio::time::Instant::now() < deadline, "reader never left");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let baseline = server.rss_kib();

    // Eight devices ask for the whole history and then read nothing at all.
    let mut stalled = Vec::new();
    for d in 0..8 {
        let mut ws = socket(&server.url, &slow_token, &format!("stalled{d}")).await;
        ws.send(Ws::text(resume.clone())).await.unwrap();
        stalled.push(ws);
    }
    let mut peak = baseline;
    let stalled_at = tokio::time::Instant::now();
    let deadline = stalled_at + Duration::from_secs(90);
    while online(&server.url, &alice_token, "slow").await {
        peak = peak.max(server.rss_kib());
        assert!(
            tokio::time::Instant::now() < deadline,
            "stalled readers were never disconnected"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    peak = peak.max(server.rss_kib());
    eprintln!(
        "stalled readers closed after {:.1} s; server RSS {baseline} KiB before, {peak} KiB at most",
        stalled_at.elapsed().as_secs_f64()
    );
    // Held in memory, eight replays of 24 MB would take about 200 MB.
    let growth_mib = (peak.saturating_sub(baseline)) as f64 / 1024.0;
    assert!(
        growth_mib < 32.0,
        "server memory grew by {growth_mib:.1} MiB during eight stalled replays"
    );
    // And once they are gone, their memory is released.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let now = server.rss_kib();
        if now <= baseline + 8 * 1024 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "server memory stayed at {now} KiB (baseline {baseline} KiB)"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The server kept serving everyone else meanwhile.
    let page = Rest::new(&server.url)
        .unwrap()
        .with_token(alice_token)
        .history(&channel, 1, None, Direction::Backwards)
        .await
        .unwrap();
    assert_eq!(page.messages[0].seq, SEEDED as u64);
    drop(stalled);
}

#[tokio::test]
async fn presence_subscriptions_are_capped_per_connection() {
    let t = TestServer::start().await;
    t.user("carol").await;
    let token = t.token("carol").await;
    let ids = |from: usize, n: usize| -> Vec<String> {
        (from..from + n).map(|i| format!("u{i}")).collect()
    };
    let subscribe = |users: Vec<String>| {
        serde_json::json!({"type": "subscribe_presence", "users": users}).to_string()
    };

    let mut ws = RawWs::connect(&t.url(), &token).await;
    ws.send_text(&subscribe(ids(0, MAX_PRESENCE_SUBSCRIPTIONS)))
        .await;
    ws.send_text(r#"{"type":"ping","req_id":"p1"}"#).await;
    assert_eq!(
        ws.next_json().await["type"],
        "pong",
        "the full cap is allowed"
    );
    ws.send_text(&subscribe(ids(MAX_PRESENCE_SUBSCRIPTIONS, 1)))
        .await;
    assert_eq!(ws.next_json().await["code"], "too_many_subscriptions");
    ws.send_text(r#"{"type":"subscribe_presence"}"#).await;
    assert_eq!(ws.next_json().await["code"], "too_many_subscriptions");

    // A list far over the cap in one frame is refused whole, and the connection goes on.
    let mut other = RawWs::connect(&t.url(), &token).await;
    other.send_text(&subscribe(ids(0, 20_000))).await;
    assert_eq!(other.next_json().await["code"], "too_many_subscriptions");
    other.send_text(&subscribe(ids(0, 10))).await;
    other.send_text(r#"{"type":"ping","req_id":"p2"}"#).await;
    assert_eq!(other.next_json().await["type"], "pong");
    // A million ids do not even fit in a frame.
    let huge = subscribe(ids(0, 1_000_000));
    assert!(huge.len() > MAX_FRAME_BYTES);
    other.send_text(&huge).await;
    assert_eq!(other.ending().await, Ending::Close(1009));
    ws.send_text(r#"{"type":"ping","req_id":"p3"}"#).await;
    assert_eq!(ws.next_json().await["type"], "pong");
}

#[tokio::test]
async fn floods_get_rate_limited_with_a_retry_hint_and_nothing_is_lost() {
    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    t.user("bob").await;
    let channel = alice.open_direct("bob").await.unwrap().channel_id;
    let token = t.token("alice").await;
    let mut ws = RawWs::connect(&t.url(), &token).await;

    // 70 messages at once: the burst is stored, the rest refused with a hint.
    const N: usize = 70;
    for i in 0..N {
        let f = serde_json::json!({"type": "send_message", "req_id": format!("r{i}"),
            "channel_id": channel, "client_id": format!("c{i}"), "text": format!("m{i}")});
        ws.send_text(&f.to_string()).await;
    }
    let (mut acked, mut refused) = (BTreeSet::new(), Vec::new());
    let mut longest = 0;
    while acked.len() + refused.len() < N {
        let v = ws.next_json().await;
        let req = v["req_id"]
            .as_str()
            .unwrap()
            .trim_start_matches('r')
            .to_owned();
        match v["type"].as_str().unwrap() {
            "ack" => assert!(acked.insert(req.parse::<usize>().unwrap())),
            "error" => {
                assert_eq!(v["code"], "rate_limited", "{v}");
                let hint = v["retry_after_ms"].as_u64().expect("a retry hint");
                assert!((1..=60_000).contains(&hint), "{v}");
                longest = longest.max(hint);
                refused.push(req.parse::<usize>().unwrap());
            }
            other => panic!("unexpected {other}: {v}"),
        }
    }
    assert!(
        acked.len() >= 50,
        "the burst of 50 goes through: {}",
        acked.len()
    );
    assert!(
        refused.len() >= 10,
        "the rest is refused: {}",
        refused.len()
    );

    // REST shares the user's budget: 429 with Retry-After.
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/channels/{channel}/messages", t.url()))
        .bearer_auth(&token)
        .json(&serde_json::json!({"text": "over REST", "client_id": "rest-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");

    // Sent again with the same ids, after the hint, the refused ones are stored once each.
    let mut pending: Vec<usize> = refused;
    let deadline = tokio::time::Instant::now() + WAIT;
    while !pending.is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{pending:?} never stored"
        );
        tokio::time::sleep(Duration::from_millis(longest.max(100))).await;
        let i = pending[0];
        let f = serde_json::json!({"type": "send_message", "req_id": format!("r{i}"),
            "channel_id": channel, "client_id": format!("c{i}"), "text": format!("m{i}")});
        ws.send_text(&f.to_string()).await;
        let v = ws.next_json().await;
        if v["type"] == "ack" {
            pending.remove(0);
        } else {
            assert_eq!(v["code"], "rate_limited", "{v}");
        }
    }
    let page = alice
        .history(&channel, 500, None, Direction::Forwards)
        .await
        .unwrap();
    let seqs: Vec<u64> = page.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=N as u64).collect::<Vec<_>>(), "each stored once");
    let texts: BTreeSet<&str> = page.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts.len(), N);

    // Dials: ten, then a refusal (the check comes before the callee is even looked up).
    for i in 0..10 {
        let f = serde_json::json!({"type": "call_dial", "req_id": format!("d{i}"), "callees": ["nobody"]});
        ws.send_text(&f.to_string()).await;
        assert_eq!(ws.next_json().await["code"], "user_not_found");
    }
    ws.send_text(r#"{"type":"call_dial","req_id":"d10","callees":["nobody"]}"#)
        .await;
    let v = ws.next_json().await;
    assert_eq!(
        (v["code"].as_str(), v["req_id"].as_str()),
        (Some("rate_limited"), Some("d10"))
    );

    // The others' connections are untouched.
    ws.send_text(r#"{"type":"ping","req_id":"still"}"#).await;
    assert_eq!(ws.next_json().await["type"], "pong");
}

/// Over its frame rate a connection is read more slowly, not refused: every frame is
/// answered, in order, and the flood takes at least as long as the rate allows.
#[tokio::test]
async fn a_frame_flood_is_slowed_down_not_dropped() {
    use parla::server::limits::Rate;
    let t = TestServer::start_with(|c| c.limits.frames = Rate::new(50.0, 50)).await;
    t.user("alice").await;
    let token = t.token("alice").await;
    let mut flood = RawWs::connect(&t.url(), &token).await;
    let mut bystander = RawWs::connect(&t.url(), &token).await;
    let start = tokio::time::Instant::now();
    for i in 0..150 {
        flood
            .send_text(&format!(r#"{{"type":"ping","req_id":"f{i}"}}"#))
            .await;
    }
    // Someone else is served at once meanwhile.
    bystander.send_text(r#"{"type":"ping","req_id":"b"}"#).await;
    assert_eq!(bystander.next_json().await["req_id"], "b");
    for i in 0..150 {
        let v = flood.next_json().await;
        assert_eq!(v["type"], "pong", "{v}");
        assert_eq!(v["req_id"], format!("f{i}").as_str(), "in order");
    }
    // 50 at once, then 50 a second: the other 100 take two seconds at least, however
    // fast the machine.
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(1900), "not slowed: {took:?}");
}

/// The client core keeps what the server refuses for now and sends it again after the
/// hint: a burst written faster than the limit arrives whole, once, in order.
#[tokio::test]
async fn the_client_sends_refused_messages_again_after_the_hint() {
    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    t.user("bob").await;
    let channel = alice.open_direct("bob").await.unwrap().channel_id;
    let (client, mut events) = t.client("alice").await;
    let texts: Vec<String> = (0..65).map(|i| format!("burst {i}")).collect();
    // Polled in order, so queued in order, all before the first answer.
    let sent = tokio::time::timeout(
        WAIT,
        futures_util::future::join_all(texts.iter().map(|t| client.send_message(&channel, t))),
    )
    .await
    .expect("messages never went out");
    for (i, m) in sent.into_iter().enumerate() {
        let m = m.unwrap_or_else(|e| panic!("message {i} failed: {e}"));
        assert_eq!(m.text, format!("burst {i}"));
    }
    assert!(!events
        .drain_for(Duration::from_millis(100))
        .await
        .iter()
        .any(|e| matches!(e, Event::MessageFailed { .. })));
    let page = alice
        .history(&channel, 500, None, Direction::Forwards)
        .await
        .unwrap();
    let texts: Vec<String> = page.messages.iter().map(|m| m.text.clone()).collect();
    let want: Vec<String> = (0..65).map(|i| format!("burst {i}")).collect();
    let mut sorted = texts.clone();
    sorted.sort();
    let mut want_sorted = want.clone();
    want_sorted.sort();
    assert_eq!(sorted, want_sorted, "every message once");
    client.stop();
}

/// Every socket the server accepts, and the client's, has Nagle's algorithm off: checked
/// on the sockets themselves, in this process where both ends live.
#[tokio::test]
async fn sockets_on_both_sides_send_without_waiting_for_acks() {
    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    t.user("bob").await;
    let (client, _events) = t.client("alice").await;
    // An idle REST connection stays in the pool after this.
    alice.me().await.unwrap();
    let port = t.server.addr().port();
    let (mut server_side, mut client_side) = (0, 0);
    for entry in std::fs::read_dir("/proc/self/fd").unwrap() {
        let fd: i32 = match entry
            .unwrap()
            .file_name()
            .to_str()
            .and_then(|s| s.parse().ok())
        {
            Some(fd) => fd,
            None => continue,
        };
        let Some(sock) = parla::sys::tcp_socket(fd) else {
            continue;
        };
        if sock.local_port == port {
            server_side += 1;
            assert!(sock.nodelay, "server socket fd {fd} has Nagle on");
        } else if sock.peer_port == port {
            client_side += 1;
            assert!(
                sock.nodelay,
                "client socket fd {fd} (to the server) has Nagle on"
            );
        }
    }
    assert!(server_side >= 2, "found {server_side} accepted sockets");
    assert!(client_side >= 2, "found {client_side} client sockets");
    client.stop();
}

/// Frames that break the WebSocket rules get their close code (1009, 1007) instead of a
/// dropped socket, and only that connection ends.
#[tokio::test]
async fn broken_frames_are_answered_with_their_close_codes() {
    let t = TestServer::start().await;
    t.user("alice").await;
    let token = t.token("alice").await;
    let mut bystander = RawWs::connect(&t.url(), &token).await;

    let mut big = RawWs::connect(&t.url(), &token).await;
    big.send_text(&"x".repeat(MAX_FRAME_BYTES + 1)).await;
    assert_eq!(big.ending().await, Ending::Close(1009));

    let mut bad = RawWs::connect(&t.url(), &token).await;
    bad.send_frame(TEXT, &[b'{', 0xff, 0xfe, b'}']).await;
    assert_eq!(bad.ending().await, Ending::Close(1007));

    // Just under the limit is fine (a frame, not a message: it is refused as JSON).
    let mut edge = RawWs::connect(&t.url(), &token).await;
    edge.send_text(&"x".repeat(MAX_FRAME_BYTES)).await;
    assert_eq!(edge.next_json().await["code"], "malformed_request");

    bystander.send_text(r#"{"type":"ping","req_id":"b"}"#).await;
    assert_eq!(bystander.next_json().await["type"], "pong");
}

/// Ctrl-C with 200 sockets open: every one gets 1001 `server shutting down`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_closes_every_socket_with_1001() {
    let (data, home) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut server = Serve::new(data.path(), home.path()).spawn().await;
    let admin = Rest::new(&server.url).unwrap().with_api_key(API_KEY);
    admin.admin_create_user("alice", None).await.unwrap();
    let token = admin_token(&server.url, "alice").await;
    let mut sockets = Vec::new();
    for _ in 0..200 {
        sockets.push(RawWs::connect(&server.url, &token).await);
    }
    server.interrupt();
    let endings: Vec<Ending> =
        futures_util::future::join_all(sockets.iter_mut().map(|s| async move { s.ending().await }))
            .await;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for e in &endings {
        *counts.entry(format!("{e:?}")).or_default() += 1;
    }
    assert_eq!(counts.get("Close(1001)"), Some(&200), "{counts:?}");
    assert!(server.wait_exit().await.success());
}
