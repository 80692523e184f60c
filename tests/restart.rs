//! The real `parla serve` process is killed and started again on the same data directory:
//! clients reconnect by themselves, queued messages go out once and in order, missed
//! messages are caught up, and no acknowledged message is lost or duplicated.

mod common;

use common::serve::spawn_serve;
use common::*;
use parla::client::session::ConnectionState;
use parla::client::{ClientConfig, Event, Rest};
use parla::proto::Direction;

#[tokio::test]
async fn clients_survive_a_server_kill_and_restart() {
    let data = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut server = spawn_serve("127.0.0.1:0", data.path(), home.path()).await;
    let url = server.url.clone();
    let admin = Rest::new(&url).unwrap().with_api_key(API_KEY);
    for u in ["alice", "bob", "carol"] {
        admin.admin_create_user(u, None).await.unwrap();
    }
    let token = |u: &str| {
        let admin = admin.clone();
        let u = u.to_owned();
        async move {
            admin
                .admin_credentials(&u, None)
                .await
                .unwrap()
                .access_token
        }
    };
    let alice_rest = Rest::new(&url).unwrap().with_token(token("alice").await);
    let carol_rest = Rest::new(&url).unwrap().with_token(token("carol").await);
    let ch = alice_rest.open_direct("bob").await.unwrap().channel_id;
    let carol_ch = carol_rest.open_direct("bob").await.unwrap().channel_id;

    let (alice, mut a) =
        start_client(ClientConfig::new(url.clone(), admin_tokens(&url, "alice"))).await;
    let (_bob, mut b) =
        start_client(ClientConfig::new(url.clone(), admin_tokens(&url, "bob"))).await;

    let m1 = alice.send_message(&ch, "m1").await.unwrap();
    b.wait_for(
        "m1",
        |e| matches!(e, Event::Message { message } if message.text == "m1"),
    )
    .await;

    // Kill -9: no goodbye to anyone.
    server.child.kill().await.unwrap();
    for ev in [&mut a, &mut b] {
        ev.wait_for("reconnecting", |e| {
            is_state(e, |s| matches!(s, ConnectionState::Reconnecting { .. }))
        })
        .await;
    }
    // Sent while the server is down: queued, in order.
    alice.queue_message(&ch, "m2").unwrap();
    alice.queue_message(&ch, "m3").unwrap();
    let pending = {
        let alice = alice.clone();
        let ch = ch.clone();
        tokio::spawn(async move { alice.send_message(&ch, "m4").await })
    };

    let addr = url.trim_start_matches("http://").to_owned();
    let server2 = spawn_serve(&addr, data.path(), home.path()).await;
    assert_eq!(server2.url, url);
    // Very likely before bob's next attempt, so bob catches it up by resuming.
    carol_rest
        .send(&carol_ch, "c1", "while you were away")
        .await
        .unwrap();

    let m4 = tokio::time::timeout(WAIT, pending)
        .await
        .expect("m4 was never acknowledged")
        .unwrap()
        .unwrap();
    assert_eq!(m4.seq, 4);
    b.wait_seen(
        "m4",
        |e| matches!(e, Event::Message { message } if message.text == "m4"),
    )
    .await;
    b.wait_seen(
        "carol's message",
        |e| matches!(e, Event::Message { message } if message.text == "while you were away"),
    )
    .await;
    // Let any stray duplicate arrive before counting.
    b.drain_for(std::time::Duration::from_millis(500)).await;
    let from_alice: Vec<String> = b
        .messages_seen()
        .into_iter()
        .filter(|(s, _)| s == "alice")
        .map(|(_, t)| t)
        .collect();
    assert_eq!(
        from_alice,
        ["m1", "m2", "m3", "m4"],
        "bob saw {:#?}",
        b.seen
    );
    let from_carol = b
        .messages_seen()
        .into_iter()
        .filter(|(s, _)| s == "carol")
        .count();
    assert_eq!(from_carol, 1);

    a.drain_for(std::time::Duration::from_millis(200)).await;
    let sent: Vec<u64> = a
        .seen
        .iter()
        .filter_map(|e| match e {
            Event::MessageSent { message } => Some(message.seq),
            _ => None,
        })
        .collect();
    assert!(
        sent.starts_with(&[m1.seq]) && sent.contains(&2) && sent.contains(&3),
        "{sent:?}"
    );

    // The store agrees: four messages, each once, in order.
    let alice_rest = Rest::new(&url)
        .unwrap()
        .with_token(token_after_restart(&url, "alice").await);
    let page = alice_rest
        .history(&ch, 50, None, Direction::Forwards)
        .await
        .unwrap();
    let texts: Vec<_> = page.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["m1", "m2", "m3", "m4"]);
    let seqs: Vec<_> = page.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    drop(server2);
}

async fn token_after_restart(url: &str, user: &str) -> String {
    Rest::new(url)
        .unwrap()
        .with_api_key(API_KEY)
        .admin_credentials(user, None)
        .await
        .unwrap()
        .access_token
}

/// A connected call keeps its audio when the server dies: media is peer to peer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connected_call_survives_a_server_restart() {
    use parla::client::call::CallState;
    use parla::client::media_call::AudioSetup;
    use parla::client::phone::{CallDriver, CallEvent};
    use parla::media::audio::{tone_strength, Capture, Tone};

    let data = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut server = spawn_serve("127.0.0.1:0", data.path(), home.path()).await;
    let url = server.url.clone();
    let admin = Rest::new(&url).unwrap().with_api_key(API_KEY);
    for u in ["alice", "bob"] {
        admin.admin_create_user(u, None).await.unwrap();
    }
    let (alice, mut a) =
        start_client(ClientConfig::new(url.clone(), admin_tokens(&url, "alice"))).await;
    let (bob, mut b) =
        start_client(ClientConfig::new(url.clone(), admin_tokens(&url, "bob"))).await;
    let (heard_by_alice, heard_by_bob) = (Capture::default(), Capture::default());
    let setup = |hz: f64, cap: &Capture| AudioSetup {
        source: Box::new(Tone::new(hz)),
        sink: Box::new(cap.clone()),
        ..AudioSetup::silent("127.0.0.1:0")
    };

    let room = alice.dial(&["bob".into()]).await.unwrap().room_id;
    b.wait_seen("ring", |e| matches!(e, Event::CallIncoming { .. }))
        .await;
    bob.answer(&room).await.unwrap();
    let mut da = CallDriver::new(alice.clone(), &room, setup(440.0, &heard_by_alice));
    let mut db = CallDriver::new(bob.clone(), &room, setup(880.0, &heard_by_bob));
    // Feed both drivers until both calls are connected.
    let connected = |e: &Option<CallEvent>| matches!(e, Some(CallEvent::State(v)) if v.state == CallState::Connected);
    let (mut a_up, mut b_up) = (false, false);
    for e in a.seen.clone() {
        a_up |= connected(&da.on_event(&e).await.unwrap());
    }
    for e in b.seen.clone() {
        b_up |= connected(&db.on_event(&e).await.unwrap());
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    while !(a_up && b_up) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "call never connected"
        );
        tokio::select! {
            Some(e) = a.rx.recv() => a_up |= connected(&da.on_event(&e).await.unwrap()),
            Some(e) = b.rx.recv() => b_up |= connected(&db.on_event(&e).await.unwrap()),
            _ = tokio::time::sleep(std::time::Duration::from_millis(100)) => {}
        }
    }

    server.child.kill().await.unwrap();
    let killed_at = heard_by_bob.samples().len();
    // Audio keeps flowing both ways for a second and a half with no server at all.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let after = heard_by_bob.samples();
    assert!(after.len() > killed_at, "bob stopped hearing anything");
    let recent = &after[after.len() - 24_000..];
    assert!(
        tone_strength(recent, 440.0) > 0.5,
        "bob no longer hears alice"
    );
    let a_recent = heard_by_alice.samples();
    assert!(tone_strength(&a_recent[a_recent.len() - 24_000..], 880.0) > 0.5);

    // The server comes back; both sessions reconnect and the call goes on.
    let addr = url.trim_start_matches("http://").to_owned();
    let _server2 = spawn_serve(&addr, data.path(), home.path()).await;
    for ev in [&mut a, &mut b] {
        ev.wait_for("reconnected", |e| matches!(e, Event::Ready { .. }))
            .await;
    }
    let s = heard_by_bob.samples();
    assert!(tone_strength(&s[s.len() - 24_000..], 440.0) > 0.5);
    da.finish().await.unwrap();
    db.finish().await.unwrap();
}
