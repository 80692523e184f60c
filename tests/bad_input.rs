//! Malformed and hostile input over raw WebSocket and REST: each gets its error code, the
//! connection stays usable where that makes sense, and the server keeps serving.

mod common;

use common::*;
use futures_util::{SinkExt, StreamExt};
use parla::proto::{ApiError, ErrorCode, MAX_FRAME_BYTES, MAX_MESSAGE_BYTES};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Ws;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn raw_socket(t: &TestServer, user: &str) -> Socket {
    let token = t.token(user).await;
    let url = format!(
        "{}/v1/ws?access_token={token}",
        t.url().replace("http", "ws")
    );
    let req = url.into_client_request().unwrap();
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let ready = next_json(&mut ws).await;
    assert_eq!(ready["type"], "ready");
    ws
}

async fn next_json(ws: &mut Socket) -> serde_json::Value {
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("no frame in time")
            .expect("socket ended")
            .expect("socket error");
        if let Ws::Text(t) = msg {
            let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
            if v["type"] != "presence" {
                return v;
            }
        }
    }
}

async fn send_text(ws: &mut Socket, text: impl Into<String>) {
    ws.send(Ws::text(text.into())).await.unwrap();
}

async fn expect_error(ws: &mut Socket, code: &str) -> serde_json::Value {
    let v = next_json(ws).await;
    assert_eq!(v["type"], "error", "{v}");
    assert_eq!(v["code"], code, "{v}");
    v
}

#[tokio::test]
async fn bad_frames_get_codes_and_the_connection_survives() {
    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    t.user("bob").await;
    let ch = alice.open_direct("bob").await.unwrap().channel_id;
    let mut ws = raw_socket(&t, "alice").await;

    send_text(&mut ws, "{not json").await;
    expect_error(&mut ws, "malformed_request").await;
    send_text(&mut ws, r#"{"type":"teleport","req_id":"r1"}"#).await;
    let v = expect_error(&mut ws, "unknown_frame_type").await;
    assert_eq!(
        v["req_id"], "r1",
        "errors echo the req_id when there is one"
    );
    send_text(&mut ws, r#"{"type":"send_message","req_id":"r2","text":7}"#).await;
    expect_error(&mut ws, "malformed_request").await;
    send_text(&mut ws, "[]").await;
    expect_error(&mut ws, "malformed_request").await;
    ws.send(Ws::binary(vec![1u8, 2, 3])).await.unwrap();
    expect_error(&mut ws, "malformed_request").await;

    let frame = |text: &str, ch: &str| {
        serde_json::json!({"type":"send_message","req_id":"s","channel_id":ch,"text":text})
            .to_string()
    };
    send_text(&mut ws, frame("   ", &ch)).await;
    expect_error(&mut ws, "validation_error").await;
    send_text(&mut ws, frame(&"x".repeat(MAX_MESSAGE_BYTES + 1), &ch)).await;
    expect_error(&mut ws, "message_too_large").await;
    send_text(&mut ws, frame("hi", "ch_does_not_exist")).await;
    expect_error(&mut ws, "channel_not_exists").await;
    send_text(
        &mut ws,
        r#"{"type":"mark_read","channel_id":"ch_nope","seq":1}"#,
    )
    .await;
    expect_error(&mut ws, "channel_not_exists").await;
    send_text(&mut ws, r#"{"type":"refresh_token","access_token":"junk"}"#).await;
    expect_error(&mut ws, "access_token_invalid").await;
    let bob_token = t.token("bob").await;
    send_text(
        &mut ws,
        serde_json::json!({"type":"refresh_token","access_token":bob_token}).to_string(),
    )
    .await;
    expect_error(&mut ws, "access_token_invalid_user").await;

    // Still the same, working connection; exactly the limit is accepted.
    send_text(&mut ws, frame(&"y".repeat(MAX_MESSAGE_BYTES), &ch)).await;
    let ack = next_json(&mut ws).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(ack["message"]["seq"], 1);
    send_text(&mut ws, r#"{"type":"ping","req_id":"p"}"#).await;
    assert_eq!(next_json(&mut ws).await["type"], "pong");
    // Nothing refused was stored.
    let page = alice
        .history(&ch, 50, None, parla::proto::Direction::Backwards)
        .await
        .unwrap();
    assert_eq!(page.messages.len(), 1);
}

#[tokio::test]
async fn an_oversize_frame_closes_only_that_connection() {
    use common::rawws::{Ending, RawWs};
    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    t.user("bob").await;
    let ch = alice.open_direct("bob").await.unwrap().channel_id;
    let token = t.token("alice").await;
    // Two connections of the same user: only the one that sent the frame ends.
    let mut other = RawWs::connect(&t.url(), &token).await;
    let mut ws = RawWs::connect(&t.url(), &token).await;
    ws.send_text(&"z".repeat(MAX_FRAME_BYTES + 10)).await;
    assert_eq!(ws.ending().await, Ending::Close(1009));
    other.send_text(r#"{"type":"ping","req_id":"still"}"#).await;
    let pong = other.next_json().await;
    assert_eq!(
        (pong["type"].as_str(), pong["req_id"].as_str()),
        (Some("pong"), Some("still"))
    );
    // The other connection still gets messages live, and REST is fine.
    let m = alice.send(&ch, "after", "still here").await.unwrap();
    assert_eq!(m.seq, 1);
    let live = other.next_json().await;
    assert_eq!(live["type"], "message", "{live}");
    assert_eq!(live["message"]["text"], "still here");
}

#[tokio::test]
async fn rest_bad_input_gets_json_errors() {
    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    t.user("bob").await;
    let ch = alice.open_direct("bob").await.unwrap().channel_id;
    let token = alice.token().unwrap();
    let http = reqwest::Client::new();
    let url = t.url();

    let check = |resp: reqwest::Response, status: u16, code: ErrorCode| async move {
        assert_eq!(resp.status().as_u16(), status);
        let err: ApiError = resp.json().await.unwrap();
        assert_eq!(err.code, code, "{}", err.message);
    };
    let post = |path: String, body: String| {
        http.post(format!("{url}{path}"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    check(
        post(format!("/v1/channels/{ch}/messages"), "{oops".into())
            .await
            .unwrap(),
        400,
        ErrorCode::MalformedRequest,
    )
    .await;
    check(
        post(
            format!("/v1/channels/{ch}/messages"),
            r#"{"text":""}"#.into(),
        )
        .await
        .unwrap(),
        400,
        ErrorCode::ValidationError,
    )
    .await;
    // Over the message limit, and over the frame limit too.
    for len in [MAX_MESSAGE_BYTES + 1, MAX_FRAME_BYTES * 2] {
        let body = serde_json::json!({"text": "a".repeat(len)}).to_string();
        let resp = post(format!("/v1/channels/{ch}/messages"), body).await;
        check(resp.unwrap(), 413, ErrorCode::MessageTooLarge).await;
    }
    check(
        post(
            "/v1/channels/ch_nope/messages".into(),
            r#"{"text":"x"}"#.into(),
        )
        .await
        .unwrap(),
        404,
        ErrorCode::ChannelNotExists,
    )
    .await;
    // Nobody to talk to; a user id that cannot be one.
    for body in [
        r#"{"participants":[]}"#,
        r#"{"participants":["bob","x y"]}"#,
    ] {
        let resp = post("/v1/channels".into(), body.into()).await;
        check(resp.unwrap(), 400, ErrorCode::ValidationError).await;
    }
    check(
        http.get(format!("{url}/v1/nowhere")).send().await.unwrap(),
        404,
        ErrorCode::NotFound,
    )
    .await;
    check(
        http.get(format!("{url}/v1/channels/{ch}/messages?count=abc"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        400,
        ErrorCode::ValidationError,
    )
    .await;
    let admin = t.admin();
    for bad in ["", "has space", &"x".repeat(65)] {
        let err = admin.admin_create_user(bad, None).await.unwrap_err();
        assert_eq!(err.api_code(), Some(ErrorCode::ValidationError), "{bad:?}");
    }
    let err = admin.admin_create_user("alice", None).await.unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::UserAlreadyExists));
    // Nothing above was stored; the server still answers.
    let page = alice
        .history(&ch, 10, None, parla::proto::Direction::Backwards)
        .await
        .unwrap();
    assert!(page.messages.is_empty());
    assert_eq!(alice.health().await.unwrap().status, "ok");
}
