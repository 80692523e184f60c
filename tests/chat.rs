//! Chat and presence through the real server and real clients over loopback.

mod common;

use std::time::Duration;

use common::*;
use parla::client::Event;
use parla::proto::{ChannelKind, Direction, ErrorCode, PresenceStatus};

#[tokio::test]
async fn two_users_chat_both_ways_and_every_device_receives() {
    let t = TestServer::start().await;
    let alice_rest = t.user("alice").await;
    t.user("bob").await;
    let channel = alice_rest.open_direct("bob").await.unwrap();
    let ch = channel.channel_id.clone();

    let (alice1, mut a1) = t.client("alice").await;
    let (_alice2, mut a2) = t.client("alice").await;
    let (bob, mut b) = t.client("bob").await;

    let sent = alice1.send_message(&ch, "hello bob").await.unwrap();
    assert_eq!(sent.seq, 1);
    assert_eq!(sent.sender, "alice");
    for (who, ev) in [("bob", &mut b), ("alice's second device", &mut a2)] {
        let got = ev
            .wait_for(
                who,
                |e| matches!(e, Event::Message { message } if message.text == "hello bob"),
            )
            .await;
        let Event::Message { message } = got else {
            unreachable!()
        };
        assert_eq!(message.message_id, sent.message_id);
    }
    a1.wait_for(
        "ack event",
        |e| matches!(e, Event::MessageSent { message } if message.seq == 1),
    )
    .await;

    let reply = bob.send_message(&ch, "hi alice").await.unwrap();
    assert_eq!(reply.seq, 2);
    for ev in [&mut a1, &mut a2] {
        ev.wait_for(
            "reply",
            |e| matches!(e, Event::Message { message } if message.text == "hi alice"),
        )
        .await;
    }
    // The sending device gets an ack, not a copy of its own message.
    let extra = a1.drain_for(Duration::from_millis(300)).await;
    assert!(
        !extra
            .iter()
            .any(|e| matches!(e, Event::Message { message } if message.sender == "alice")),
        "sender's device got its own message back: {extra:?}"
    );
}

#[tokio::test]
async fn the_messages_route_searches_a_channels_text() {
    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    let bob = t.user("bob").await;
    t.user("carol").await;
    let carol = t.rest_for("carol").await;
    let ch = alice.open_direct("bob").await.unwrap().channel_id;
    for i in 1..=30 {
        let text = if i % 10 == 0 {
            format!("Lunch plan {i}")
        } else {
            format!("chatter {i}")
        };
        alice.send(&ch, &format!("c{i}"), &text).await.unwrap();
    }
    let seqs = |p: &parla::proto::MessagePage| p.messages.iter().map(|m| m.seq).collect::<Vec<_>>();
    let found = bob.search(&ch, "LUNCH", 2, None).await.unwrap();
    assert_eq!(seqs(&found), vec![20, 30]);
    assert!(found.has_more);
    let rest = bob.search(&ch, "lunch", 2, Some(20)).await.unwrap();
    assert_eq!((seqs(&rest), rest.has_more), (vec![10], false));
    assert!(bob
        .search(&ch, "nothing like it", 5, None)
        .await
        .unwrap()
        .messages
        .is_empty());
    // Someone outside the channel finds nothing, not even that it exists.
    let err = carol.search(&ch, "lunch", 5, None).await.unwrap_err();
    assert_eq!(
        err.api_code(),
        Some(parla::proto::ErrorCode::ChannelNotExists),
        "{err}"
    );
    // Empty and overlong searches are validation errors.
    let http = reqwest::Client::new();
    let token = bob.token().unwrap();
    for bad in [String::new(), "x".repeat(201)] {
        let resp = http
            .get(format!("{}/v1/channels/{ch}/messages", t.url()))
            .query(&[("search", bad.as_str())])
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "validation_error", "{body}");
    }
}

#[tokio::test]
async fn history_pages_backwards_and_forwards_with_anchors() {
    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    t.user("bob").await;
    let ch = alice.open_direct("bob").await.unwrap().channel_id;
    for i in 1..=25 {
        alice
            .send(&ch, &format!("c{i}"), &format!("m{i}"))
            .await
            .unwrap();
    }
    let seqs = |p: &parla::proto::MessagePage| p.messages.iter().map(|m| m.seq).collect::<Vec<_>>();

    let newest = alice
        .history(&ch, 10, None, Direction::Backwards)
        .await
        .unwrap();
    assert_eq!(seqs(&newest), (16..=25).collect::<Vec<_>>());
    assert!(newest.has_more);
    let older = alice
        .history(&ch, 10, Some(16), Direction::Backwards)
        .await
        .unwrap();
    assert_eq!(seqs(&older), (6..=15).collect::<Vec<_>>());
    let oldest = alice
        .history(&ch, 10, Some(6), Direction::Backwards)
        .await
        .unwrap();
    assert_eq!(seqs(&oldest), (1..=5).collect::<Vec<_>>());
    assert!(!oldest.has_more);

    let first = alice
        .history(&ch, 7, None, Direction::Forwards)
        .await
        .unwrap();
    assert_eq!(seqs(&first), (1..=7).collect::<Vec<_>>());
    let next = alice
        .history(&ch, 7, Some(7), Direction::Forwards)
        .await
        .unwrap();
    assert_eq!(seqs(&next), (8..=14).collect::<Vec<_>>());
    let tail = alice
        .history(&ch, 50, Some(20), Direction::Forwards)
        .await
        .unwrap();
    assert_eq!(seqs(&tail), (21..=25).collect::<Vec<_>>());
    assert!(!tail.has_more);

    // A message id is an anchor too; an unknown one is an anchor error.
    let http = reqwest::Client::new();
    let token = alice.token().unwrap();
    let anchor = &older.messages[0].message_id; // seq 6
    let page: parla::proto::MessagePage = http
        .get(format!(
            "{}/v1/channels/{ch}/messages?anchor={anchor}&direction=forwards&count=2",
            t.url()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seqs(&page), vec![7, 8]);
    let resp = http
        .get(format!(
            "{}/v1/channels/{ch}/messages?anchor=msg_nope",
            t.url()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let err: parla::proto::ApiError = resp.json().await.unwrap();
    assert_eq!(err.code, ErrorCode::MessageAnchorError);
    let err = alice
        .history(&ch, 0, None, Direction::Forwards)
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::ValidationError));
    let err = alice
        .history(&ch, 501, None, Direction::Forwards)
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::ValidationError));
}

#[tokio::test]
async fn unread_counts_follow_read_marks_on_every_device() {
    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    let bob = t.user("bob").await;
    let ch = alice.open_direct("bob").await.unwrap().channel_id;
    for i in 0..3 {
        alice.send(&ch, &format!("u{i}"), "ping").await.unwrap();
    }
    bob.send(&ch, "b0", "pong").await.unwrap();
    let bob_view = bob.channel(&ch).await.unwrap();
    assert_eq!((bob_view.unread_count, bob_view.last_seq), (3, 4));
    assert_eq!(alice.channel(&ch).await.unwrap().unread_count, 1);
    assert_eq!(bob.channels().await.unwrap()[0].unread_count, 3);

    let (_bob_dev, mut bob_events) = t.client("bob").await;
    let state = bob.mark_read(&ch, 2).await.unwrap();
    assert_eq!((state.read_seq, state.unread_count), (2, 1));
    bob_events
        .wait_for(
            "read sync",
            |e| matches!(e, Event::Read { state } if state.read_seq == 2),
        )
        .await;
    let state = bob.mark_read(&ch, 1000).await.unwrap();
    assert_eq!((state.read_seq, state.unread_count), (4, 0));
    assert_eq!(alice.channel(&ch).await.unwrap().unread_count, 1);
}

#[tokio::test]
async fn a_retried_client_id_stores_one_message() {
    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    t.user("bob").await;
    let ch = alice.open_direct("bob").await.unwrap().channel_id;
    // The status code tells the first send from a repeat: 201 Created, then 200 OK with
    // the message stored the first time.
    let http = reqwest::Client::new();
    let post = || {
        http.post(format!("{}/v1/channels/{ch}/messages", t.url()))
            .bearer_auth(alice.token().unwrap())
            .json(&serde_json::json!({"client_id": "same-id", "text": "only once"}))
            .send()
    };
    let first = post().await.unwrap();
    assert_eq!(first.status(), 201);
    let first: parla::proto::Message = first.json().await.unwrap();
    let again = post().await.unwrap();
    assert_eq!(again.status(), 200);
    let again: parla::proto::Message = again.json().await.unwrap();
    assert_eq!(first.message_id, again.message_id);
    assert_eq!(first.seq, again.seq);
    // The client API answers a repeat the same way.
    let third = alice.send(&ch, "same-id", "only once").await.unwrap();
    assert_eq!(third.message_id, first.message_id);
    let page = alice
        .history(&ch, 50, None, Direction::Backwards)
        .await
        .unwrap();
    assert_eq!(page.messages.len(), 1);
}

#[tokio::test]
async fn direct_channels_are_unique_and_groups_announce_themselves() {
    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    let bob = t.user("bob").await;
    t.user("carol").await;
    let a = alice.open_direct("bob").await.unwrap();
    let b = bob.open_direct("alice").await.unwrap();
    assert_eq!(a.channel_id, b.channel_id);
    assert_eq!(a.kind, ChannelKind::Direct);

    let (_c, mut carol) = t.client("carol").await;
    let group = alice
        .create_group("team", &["bob".into(), "carol".into()])
        .await
        .unwrap();
    assert_eq!(group.participants, vec!["alice", "bob", "carol"]);
    carol
        .wait_for("channel_added", |e| matches!(e, Event::ChannelAdded { channel } if channel.channel_id == group.channel_id))
        .await;
    bob.send(&group.channel_id, "g1", "hello team")
        .await
        .unwrap();
    carol
        .wait_for(
            "group message",
            |e| matches!(e, Event::Message { message } if message.text == "hello team"),
        )
        .await;

    // Removing deletes the messages for good and tells every participant.
    bob.remove_channel(&group.channel_id).await.unwrap();
    carol
        .wait_for("channel_removed", |e| matches!(e, Event::ChannelRemoved { channel_id } if *channel_id == group.channel_id))
        .await;
    let err = alice
        .history(&group.channel_id, 10, None, Direction::Backwards)
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::ChannelNotExists));
    assert_eq!(alice.channels().await.unwrap().len(), 1);

    // Not a participant: the channel does not exist for carol.
    let carol_rest = t.rest_for("carol").await;
    let err = carol_rest
        .send(&a.channel_id, "x", "sneaky")
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::ChannelNotExists));
    let err = alice.open_direct("nobody").await.unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::UserNotFound));
    let err = alice.open_direct("alice").await.unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::ValidationError));
}

#[tokio::test]
async fn presence_is_pushed_per_device_and_listed() {
    let t = TestServer::start().await;
    t.user("alice").await;
    let bob_rest = t.user("bob").await;
    let (_bob, mut bob) = t.client("bob").await;

    let (alice, _a) = t.client("alice").await;
    let p = bob
        .wait_for("alice online", |e| matches!(e, Event::Presence { presence } if presence.user_id == "alice" && presence.status == PresenceStatus::Online))
        .await;
    let Event::Presence { presence } = p else {
        unreachable!()
    };
    assert_eq!(presence.devices.len(), 1);
    let (alice2, _a2) = t.client("alice").await;
    bob.wait_for("second device", |e| matches!(e, Event::Presence { presence } if presence.user_id == "alice" && presence.devices.len() == 2))
        .await;

    let online = bob_rest.users(true).await.unwrap();
    let ids: Vec<_> = online.iter().map(|u| u.user_id.as_str()).collect();
    assert_eq!(ids, vec!["alice", "bob"]);
    assert_eq!(online[0].presence.devices.len(), 2);

    alice.stop();
    bob.wait_for("one device left", |e| matches!(e, Event::Presence { presence } if presence.user_id == "alice" && presence.devices.len() == 1))
        .await;
    // Dropping every handle of a client ends its session too.
    drop(alice2);
    wait_until_offline(&t, "alice").await;
}

async fn wait_until_offline(t: &TestServer, who: &str) {
    let bob = t.rest_for("bob").await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let users = bob.users(false).await.unwrap();
        let user = users.iter().find(|u| u.user_id == who).unwrap();
        if user.presence.status == PresenceStatus::Offline {
            assert!(user.presence.devices.is_empty());
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{who} never went offline"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_dropped_connection_resumes_without_gap_or_duplicate() {
    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    t.user("bob").await;
    t.user("carol").await;
    let ch = alice.open_direct("bob").await.unwrap().channel_id;
    alice.send(&ch, "a0", "before").await.unwrap();

    // Bob reaches the server through a relay the test can hold shut, so he stays away
    // for exactly as long as the test needs, however slow the machine.
    let gate = common::gate::Gate::start(&t.url()).await;
    let mut config = common::ClientConfig::new(gate.url.clone(), admin_tokens(&t.url(), "bob"));
    config.reconnect.schedule = vec![Duration::from_millis(100)];
    config.reconnect.then = Duration::from_millis(100);
    config.reconnect.max_jitter = Duration::ZERO;
    let (_bob, mut b) = start_client(config).await;
    alice.send(&ch, "a1", "live").await.unwrap();
    b.wait_for(
        "live",
        |e| matches!(e, Event::Message { message } if message.text == "live"),
    )
    .await;

    // The network between bob and the server goes down.
    gate.cut().await;
    b.wait_for("reconnecting", |e| {
        is_state(e, |s| {
            matches!(
                s,
                parla::client::session::ConnectionState::Reconnecting { .. }
            )
        })
    })
    .await;
    alice.send(&ch, "a2", "missed 1").await.unwrap();
    alice.send(&ch, "a3", "missed 2").await.unwrap();
    // A channel created while bob is away arrives with its history.
    let carol = t.rest_for("carol").await;
    let group = carol.create_group("away", &["bob".into()]).await.unwrap();
    carol
        .send(&group.channel_id, "g", "in the new group")
        .await
        .unwrap();
    gate.open();

    let resumed = b
        .wait_for("resumed", |e| matches!(e, Event::Resumed { .. }))
        .await;
    assert_eq!(resumed, Event::Resumed { replayed: 3 });
    b.drain_for(Duration::from_millis(300)).await;
    // Order holds within each channel.
    let in_channel = |id: &str| -> Vec<String> {
        b.seen
            .iter()
            .filter_map(|e| match e {
                Event::Message { message } if message.channel_id == id => {
                    Some(message.text.clone())
                }
                _ => None,
            })
            .collect()
    };
    assert_eq!(in_channel(&ch), ["live", "missed 1", "missed 2"]);
    assert_eq!(in_channel(&group.channel_id), ["in the new group"]);
    assert!(b.seen.iter().any(
        |e| matches!(e, Event::ChannelAdded { channel } if channel.channel_id == group.channel_id)
    ));
}
