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
        .with_token(admin_token(&url, "alice").await);
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

/// A connected call keeps its audio when the server dies (media is peer to peer), the
/// sessions come back when it does, and the call can still be ended from either side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connected_call_survives_a_server_restart() {
    use common::party::{connected, Party};
    use parla::client::call::CallState;
    use parla::media::audio::tone_strength;

    let data = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut server = spawn_serve("127.0.0.1:0", data.path(), home.path()).await;
    let url = server.url.clone();
    let admin = Rest::new(&url).unwrap().with_api_key(API_KEY);
    for u in ["alice", "bob"] {
        admin.admin_create_user(u, None).await.unwrap();
    }
    let (alice, a) =
        start_client(ClientConfig::new(url.clone(), admin_tokens(&url, "alice"))).await;
    let mut bob_config = ClientConfig::new(url.clone(), admin_tokens(&url, "bob"));
    // Bob gives a call up after 5 s without media (30 s by default).
    bob_config.media_timeout = std::time::Duration::from_secs(5);
    let (bob, mut b) = start_client(bob_config).await;
    let room = alice.dial(&["bob".into()]).await.unwrap().room_id;
    b.wait_seen("ring", |e| matches!(e, Event::CallIncoming { .. }))
        .await;
    bob.answer(&room).await.unwrap();
    // Each party's events drive its call on a task of its own, all along.
    let pa = Party::start("alice", alice.clone(), a, &room, 440.0, false);
    let pb = Party::start("bob", bob.clone(), b, &room, 880.0, false);
    pa.wait_state("connected", connected).await;
    pb.wait_state("connected", connected).await;
    pa.wait_hears(880.0).await;
    pb.wait_hears(440.0).await;

    // No server for three seconds: each keeps hearing the other all that time.
    let (from_a, from_b) = (pa.heard.samples().len(), pb.heard.samples().len());
    server.child.kill().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    pa.check().await;
    pb.check().await;
    for (p, freq, from) in [(&pa, 880.0, from_a), (&pb, 440.0, from_b)] {
        let heard = p.heard.samples();
        let during = &heard[from..];
        assert!(
            during.len() >= 48 * 2500,
            "{}: only {} ms played without the server",
            p.name,
            during.len() / 48
        );
        // The tone in every 20 ms of it but a few (measured a window at a time: the playout
        // moves the tone's phase when it stretches or compresses to follow the network).
        let windows = during.chunks(960).count();
        let weak = during
            .chunks(960)
            .filter(|w| tone_strength(w, freq) < 0.5)
            .count();
        assert!(
            weak * 20 <= windows,
            "{}: {freq} Hz missing in {weak} of {windows} windows without the server",
            p.name
        );
        assert_eq!(p.state(), Some(CallState::Connected), "{}", p.name);
    }

    // The server comes back; both sessions reconnect and the call goes on.
    let addr = url.trim_start_matches("http://").to_owned();
    let before = [pa.events().len(), pb.events().len()];
    let _server2 = spawn_serve(&addr, data.path(), home.path()).await;
    for (p, seen) in [(&pa, before[0]), (&pb, before[1])] {
        p.wait("reconnected", || {
            p.events()[seen..]
                .iter()
                .any(|e| matches!(e, Event::Ready { .. }))
        })
        .await;
    }
    pa.wait_hears(880.0).await;
    pb.wait_hears(440.0).await;
    assert_eq!(pa.state(), Some(CallState::Connected));
    assert_eq!(pb.state(), Some(CallState::Connected));

    // The restarted server knows nothing of the call, yet alice can end it (her hang-up
    // is answered `call_not_found`), and once her media is gone bob's side gives the call
    // up instead of staying in a call with nobody.
    let refused = alice.hangup(&room).await.unwrap_err();
    assert_eq!(
        refused.api_code(),
        Some(parla::proto::ErrorCode::CallNotFound)
    );
    pa.wait_state("ended", |s| {
        *s == CallState::Ended {
            reason: parla::proto::EndReason::HangUp,
        }
    })
    .await;
    pa.finish().await;
    pb.wait_state("given up", |s| {
        *s == CallState::Ended {
            reason: parla::proto::EndReason::MediaLost,
        }
    })
    .await;
    pb.finish().await;
}
