//! Access links against the real server: who may make one, the guest's restricted
//! session (joining, chat in the call's channel, everything else refused), links made for
//! one user, sessions by link and by token excluding each other, and the end of the call
//! ending the session and voiding the link.

mod common;

use common::rawws::{Ending, RawWs};
use common::*;
use parla::client::Event;
use parla::proto::{CallLink, ErrorCode, LinkSession, ParticipantState};
use serde_json::json;

async fn post(
    t: &TestServer,
    path: &str,
    token: Option<&str>,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}{path}", t.url()))
        .json(&body);
    if let Some(tok) = token {
        req = req.bearer_auth(tok);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

/// alice calls bob, who answers. Their clients run no media here, so the calls are kept
/// from ending for the want of it (`media_timeout`) while the test goes on.
async fn answered(
    t: &TestServer,
) -> (
    parla::client::Client,
    Events,
    parla::client::Client,
    Events,
    String,
) {
    let config = |id: &str| {
        let mut c = t.client_config(id);
        c.media_timeout = std::time::Duration::from_mins(10);
        c
    };
    let (alice, a) = start_client(config("alice")).await;
    let (bob, mut b) = start_client(config("bob")).await;
    let room = alice.dial(&["bob".into()]).await.unwrap().room_id;
    b.wait_seen("ring", |e| matches!(e, Event::CallIncoming { .. }))
        .await;
    bob.answer(&room).await.unwrap();
    (alice, a, bob, b, room)
}

/// A WebSocket upgrade with `token` that the server refuses: its status and error body.
async fn ws_refusal(t: &TestServer, token: &str) -> (u16, serde_json::Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = t.url().trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&host).await.unwrap();
    let req = format!(
        "GET /v1/ws?access_token={token} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade, close\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(WAIT, stream.read_to_end(&mut buf)).await;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or_default())
}

/// Frames until one of `kind` arrives.
async fn next_of(ws: &mut RawWs, kind: &str) -> serde_json::Value {
    loop {
        let v = ws.next_json().await;
        if v["type"] == kind {
            return v;
        }
    }
}

#[tokio::test]
async fn a_guest_joins_by_link_chats_in_the_call_and_is_sent_away_when_it_ends() {
    let t = TestServer::start().await;
    t.users(&["alice", "bob", "carol"]).await;
    let (alice, mut a, bob, mut b, room) = answered(&t).await;
    let alice_token = t.token("alice").await;

    // Someone outside the call cannot make a link to it; a party can.
    let (status, e) = post(
        &t,
        &format!("/v1/calls/{room}/links"),
        Some(&t.token("carol").await),
        json!({}),
    )
    .await;
    assert_eq!((status, e["code"].as_str()), (404, Some("call_not_found")));
    let (status, link) = post(
        &t,
        &format!("/v1/calls/{room}/links"),
        Some(&alice_token),
        json!({}),
    )
    .await;
    assert_eq!(status, 201, "{link}");
    let link: CallLink = serde_json::from_value(link).unwrap();
    assert!(
        link.url.ends_with(&format!("/join/{}", link.token)),
        "{}",
        link.url
    );
    assert_eq!(link.room_id, room);

    // A forged token is no link.
    let (status, e) = post(&t, "/v1/join/not-a-link", None, json!({})).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (404, Some("invalid_access_link"))
    );
    // A guests' link takes no token.
    let (status, e) = post(
        &t,
        &format!("/v1/join/{}", link.token),
        None,
        json!({"access_token": alice_token}),
    )
    .await;
    assert_eq!(
        (status, e["code"].as_str()),
        (400, Some("validation_error"))
    );

    let (status, s) = post(
        &t,
        &format!("/v1/join/{}", link.token),
        None,
        json!({"display_name": "Dana"}),
    )
    .await;
    assert_eq!(status, 201, "{s}");
    let s: LinkSession = serde_json::from_value(s).unwrap();
    assert!(s.guest && s.user_id.starts_with("guest_"), "{s:?}");
    assert_eq!(
        (s.room_id.as_str(), s.channel_id.as_str()),
        (room.as_str(), link.channel_id.as_str())
    );

    // The guest's token opens the WebSocket and the ICE servers, and no other route.
    let r = reqwest::Client::new()
        .get(format!("{}/v1/ice-servers", t.url()))
        .bearer_auth(&s.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    for path in ["/v1/channels", "/v1/users", "/v1/me", "/v1/calls/history"] {
        let r = reqwest::Client::new()
            .get(format!("{}{path}", t.url()))
            .bearer_auth(&s.access_token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403, "{path}");
        let e: serde_json::Value = r.json().await.unwrap();
        assert_eq!(e["code"], "link_session_restricted", "{path}");
    }
    let mut g = RawWs::connect(&t.url(), &s.access_token).await;

    // Beyond its call: refused with the documented code.
    for frame in [
        json!({"type": "call_dial", "req_id": "d", "callees": ["carol"]}),
        json!({"type": "subscribe_presence", "req_id": "p"}),
        json!({"type": "send_message", "req_id": "m", "channel_id": "ch_elsewhere", "text": "hi"}),
        json!({"type": "call_join", "req_id": "j", "room_id": "call_other"}),
    ] {
        g.send_text(&frame.to_string()).await;
        let e = next_of(&mut g, "error").await;
        assert_eq!(e["code"], "link_session_restricted", "{frame}: {e}");
    }

    // Joining: everyone in the call sees the guest, by name.
    g.send_text(&json!({"type": "call_join", "req_id": "j", "room_id": room}).to_string())
        .await;
    let joined = next_of(&mut g, "call_updated").await;
    let me = joined["call"]["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["user_id"] == s.user_id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(
        (
            me["state"].as_str(),
            me["guest"].as_bool(),
            me["display_name"].as_str()
        ),
        (Some("joined"), Some(true), Some("Dana"))
    );
    let guest_seen = |e: &Event| match e {
        Event::Call { view } => view
            .call
            .participant(&s.user_id)
            .is_some_and(|p| p.state == ParticipantState::Joined && p.guest),
        _ => false,
    };
    a.wait_for("alice sees the guest", guest_seen).await;
    b.wait_for("bob sees the guest", guest_seen).await;

    // Chat in the call's channel, both ways.
    g.send_text(&json!({"type": "send_message", "req_id": "m1", "channel_id": s.channel_id, "client_id": "g1", "text": "hello from Dana"}).to_string()).await;
    assert_eq!(
        next_of(&mut g, "ack").await["message"]["text"],
        "hello from Dana"
    );
    a.wait_for("alice gets the guest's message", |e| matches!(e, Event::Message { message } if message.text == "hello from Dana" && message.channel_id == link.channel_id)).await;
    alice
        .send_message(&link.channel_id, "welcome")
        .await
        .unwrap();
    loop {
        let m = next_of(&mut g, "message").await;
        if m["message"]["text"] == "welcome" {
            break;
        }
    }

    // Only the link session's user can be busy with it: the guest has no presence.
    let online = t.rest_for("alice").await.users(true).await.unwrap();
    assert!(
        online.iter().all(|u| !u.user_id.starts_with("guest_")),
        "{online:?}"
    );

    // The call ends: the guest is sent away, and the link is void.
    // With the guest in, the call goes on when alice leaves; it ends when bob does.
    alice.hangup(&room).await.unwrap();
    bob.hangup(&room).await.unwrap();
    let mut frames = Vec::new();
    let ending = loop {
        match g.read_frame().await {
            Some((common::rawws::TEXT, text)) => {
                frames.push(serde_json::from_slice::<serde_json::Value>(&text).unwrap());
            }
            Some((common::rawws::CLOSE, p)) => {
                break Ending::Close(u16::from_be_bytes([p[0], p[1]]));
            }
            Some(_) => {}
            None => break Ending::Dropped,
        }
    };
    assert_eq!(ending, Ending::Close(4003));
    let last = frames.last().cloned().unwrap_or_default();
    assert_eq!(
        (last["type"].as_str(), last["reason"].as_str()),
        (Some("force_disconnect"), Some("call_ended")),
        "{frames:#?}"
    );
    let (status, e) = post(&t, &format!("/v1/join/{}", link.token), None, json!({})).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (404, Some("invalid_access_link"))
    );
    let (status, e) = ws_refusal(&t, &s.access_token).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (404, Some("invalid_access_link"))
    );
    // Guests leave no call history; the parties' record the call.
    let history = t
        .rest_for("alice")
        .await
        .call_history(50, None, false)
        .await
        .unwrap();
    assert!(history.entries.iter().any(|h| h.room_id == room));
}

#[tokio::test]
async fn a_link_for_one_user_admits_only_them_and_not_beside_a_token_session() {
    let t = TestServer::start().await;
    t.users(&["alice", "bob", "carol", "dave"]).await;
    let (alice, _a, _bob, _b, room) = answered(&t).await;
    let (status, link) = post(
        &t,
        &format!("/v1/calls/{room}/links"),
        Some(&t.token("alice").await),
        json!({"user_id": "carol"}),
    )
    .await;
    assert_eq!(status, 201, "{link}");
    let link: CallLink = serde_json::from_value(link).unwrap();
    let join = format!("/v1/join/{}", link.token);
    // A guest, or another user, is refused.
    let (status, e) = post(&t, &join, None, json!({})).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (403, Some("user_not_associated_to_link"))
    );
    let (status, e) = post(
        &t,
        &join,
        None,
        json!({"access_token": t.token("dave").await}),
    )
    .await;
    assert_eq!(
        (status, e["code"].as_str()),
        (403, Some("user_not_associated_to_link"))
    );
    // carol, connected by token, must end that session first.
    let (carol, _c) = t.client("carol").await;
    let (status, e) = post(
        &t,
        &join,
        None,
        json!({"access_token": t.token("carol").await}),
    )
    .await;
    assert_eq!(
        (status, e["code"].as_str()),
        (409, Some("session_conflict"))
    );
    carol.shutdown().await;
    let (status, s) = post(
        &t,
        &join,
        None,
        json!({"access_token": t.token("carol").await}),
    )
    .await;
    assert_eq!(status, 201, "{s}");
    let s: LinkSession = serde_json::from_value(s).unwrap();
    assert_eq!((s.user_id.as_str(), s.guest), ("carol", false));
    let mut ws = RawWs::connect(&t.url(), &s.access_token).await;
    // The session hears of the call's chat only: dave's message to carol elsewhere stays
    // out of it (it was sent first, so it would have come first).
    let dave = t.rest_for("dave").await;
    let direct = dave.open_direct("carol").await.unwrap().channel_id;
    dave.send(&direct, "d-1", "not for the call").await.unwrap();
    alice
        .send_message(&s.channel_id, "for the call")
        .await
        .unwrap();
    loop {
        let f = next_of(&mut ws, "message").await;
        assert_ne!(f["message"]["text"], "not for the call", "{f}");
        if f["message"]["text"] == "for the call" {
            break;
        }
    }
    // ... and while connected by link, carol cannot connect by token.
    let (status, e) = ws_refusal(&t, &t.token("carol").await).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (409, Some(ErrorCode::SessionConflict.as_str()))
    );
}
