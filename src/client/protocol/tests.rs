//! The session's rules driven with a made-up clock and no socket.

// Scenario tests read top to bottom however long they are.
#![allow(clippy::cognitive_complexity)]

use std::collections::BTreeMap;

use super::*;

const KEEPALIVE: Duration = Duration::from_secs(30);

fn rules(renewable: bool) -> Rules {
    Rules {
        device_id: "dev_1".into(),
        presence: true,
        keepalive: KEEPALIVE,
        media_timeout: Duration::from_secs(30),
        renewable,
    }
}

/// A made-up time: `s` seconds after a fixed start.
fn at(start: Now, s: f64) -> Now {
    start.after(Duration::from_secs_f64(s))
}

fn start() -> Now {
    Now {
        at: Instant::now(),
        utc: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
    }
}

fn ready(channels: &[(&str, u64)]) -> ServerFrame {
    ServerFrame::Ready {
        protocol: 1,
        user_id: "you".into(),
        device_id: "dev_1".into(),
        expires_at: DateTime::from_timestamp(1_800_003_600, 0).unwrap(),
        server_time: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        channels: channels
            .iter()
            .map(|(c, s)| ((*c).to_owned(), *s))
            .collect::<BTreeMap<_, _>>(),
        calls: Vec::new(),
    }
}

fn message(seq: u64, sender: &str, client_id: &str) -> Message {
    Message {
        message_id: format!("m{seq}"),
        channel_id: "ch_1".into(),
        seq,
        sender: sender.into(),
        text: "hi".into(),
        created_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        client_id: client_id.into(),
        voicemail_id: None,
    }
}

fn pending(client_id: &str) -> PendingMessage {
    PendingMessage {
        client_id: client_id.into(),
        channel_id: "ch_1".into(),
        text: "hi".into(),
    }
}

fn drain(p: &mut Protocol) -> Vec<Output> {
    std::iter::from_fn(|| p.poll_output()).collect()
}

fn frames(out: &[Output]) -> Vec<&ClientFrame> {
    out.iter()
        .filter_map(|o| match o {
            Output::Transmit(f) => Some(f),
            _ => None,
        })
        .collect()
}

fn sends(out: &[Output]) -> Vec<String> {
    frames(out)
        .into_iter()
        .filter_map(|f| match f {
            ClientFrame::SendMessage { client_id, .. } => client_id.clone(),
            _ => None,
        })
        .collect()
}

#[test]
fn queued_messages_go_out_on_connect_and_a_reconnect_resumes_from_the_cursors() {
    let t0 = start();
    let mut p = Protocol::new(rules(true), t0);
    p.send(pending("c1"));
    assert!(
        drain(&mut p).is_empty(),
        "nothing goes out while disconnected"
    );
    p.on_connected(t0, ready(&[("ch_1", 5)]));
    let out = drain(&mut p);
    assert!(matches!(
        &out[..2],
        [
            Output::Emit(Event::Connection {
                state: ConnectionState::Connected
            }),
            Output::Emit(Event::Ready { .. })
        ]
    ));
    assert!(matches!(
        frames(&out)[0],
        ClientFrame::SubscribePresence { users: None }
    ));
    assert_eq!(sends(&out), ["c1"]);
    // The ack settles it; a repeat of the ack is nothing new.
    let ack = ServerFrame::Ack {
        req_id: Some("c1".into()),
        message: message(6, "you", "c1"),
    };
    p.on_frame(t0, ack.clone());
    let out = drain(&mut p);
    assert!(
        matches!(&out[0], Output::Settled { client_id, result: Ok(m) } if client_id == "c1" && m.seq == 6)
    );
    assert!(matches!(&out[1], Output::Emit(Event::MessageSent { .. })));
    p.on_frame(t0, ack);
    assert!(drain(&mut p).is_empty());
    // Someone else's message, once however often it comes.
    for _ in 0..2 {
        p.on_frame(
            t0,
            ServerFrame::Message {
                message: message(7, "bob", "b7"),
            },
        );
    }
    let out = drain(&mut p);
    assert_eq!(out.len(), 1);
    assert!(matches!(&out[0], Output::Emit(Event::Message { message }) if message.seq == 7));
    // Lost and back: the cursors say where to resume.
    p.on_disconnected();
    p.on_connected(at(t0, 5.0), ready(&[("ch_1", 9)]));
    let out = drain(&mut p);
    let resume = frames(&out)
        .into_iter()
        .find_map(|f| match f {
            ClientFrame::Resume { cursors } => Some(cursors.clone()),
            _ => None,
        })
        .expect("no resume");
    assert_eq!(resume.get("ch_1"), Some(&7));
}

#[test]
fn the_connection_is_pinged_and_given_up_after_a_silence() {
    let t0 = start();
    let mut p = Protocol::new(rules(true), t0);
    assert_eq!(p.poll_timeout(t0), None, "no timers while disconnected");
    p.on_connected(t0, ready(&[]));
    drain(&mut p);
    assert_eq!(p.poll_timeout(t0), Some(t0.at + KEEPALIVE / 3));
    // Early: nothing.
    p.handle_timeout(at(t0, 5.0));
    assert!(drain(&mut p).is_empty());
    p.handle_timeout(at(t0, 10.0));
    let out = drain(&mut p);
    assert!(matches!(frames(&out)[..], [ClientFrame::Ping { .. }]));
    // The server answers now and then, then goes quiet.
    p.on_heard(at(t0, 12.0));
    p.handle_timeout(at(t0, 41.9));
    assert!(!drain(&mut p).iter().any(|o| matches!(o, Output::End(_))));
    p.handle_timeout(at(t0, 42.0));
    assert!(matches!(
        drain(&mut p).last(),
        Some(Output::End(Ended::Lost))
    ));
}

#[test]
fn a_rate_limited_message_goes_out_again_after_the_hint() {
    let t0 = start();
    let mut p = Protocol::new(rules(true), t0);
    p.on_connected(t0, ready(&[]));
    drain(&mut p);
    p.send(pending("c1"));
    assert_eq!(sends(&drain(&mut p)), ["c1"]);
    p.on_frame(
        t0,
        ServerFrame::Error {
            req_id: Some("c1".into()),
            code: ErrorCode::RateLimited,
            message: "slow down".into(),
            retry_after_ms: Some(500),
        },
    );
    assert!(drain(&mut p).is_empty(), "refused for now is not failed");
    assert_eq!(p.poll_timeout(t0), Some(t0.at + Duration::from_millis(500)));
    p.handle_timeout(at(t0, 0.4));
    assert!(sends(&drain(&mut p)).is_empty());
    p.handle_timeout(at(t0, 0.5));
    assert_eq!(sends(&drain(&mut p)), ["c1"]);
    // A definite refusal fails it for good.
    p.on_frame(
        t0,
        ServerFrame::Error {
            req_id: Some("c1".into()),
            code: ErrorCode::MessageTooLarge,
            message: "too large".into(),
            retry_after_ms: None,
        },
    );
    let out = drain(&mut p);
    assert!(
        matches!(&out[0], Output::Emit(Event::MessageFailed { code, .. }) if code == "message_too_large")
    );
    assert!(matches!(&out[1], Output::Settled { result: Err(_), .. }));
}

#[test]
fn call_requests_are_answered_even_when_the_connection_goes() {
    let t0 = start();
    let mut p = Protocol::new(rules(true), t0);
    let dial = |req: &str| ClientFrame::CallDial {
        req_id: Some(req.into()),
        callees: vec!["bob".into()],
    };
    p.call_request("r1".into(), dial("r1"));
    assert!(
        matches!(&drain(&mut p)[..], [Output::Answered { req_id, result: Err(ClientError::Unreachable(_)) }] if req_id == "r1")
    );
    p.on_connected(t0, ready(&[]));
    drain(&mut p);
    p.call_request("r2".into(), dial("r2"));
    assert_eq!(frames(&drain(&mut p)).len(), 1);
    p.on_disconnected();
    assert!(
        matches!(&drain(&mut p)[..], [Output::Answered { req_id, result: Err(_) }] if req_id == "r2")
    );
    // Hanging up a call the server no longer knows answers the error.
    p.on_connected(t0, ready(&[]));
    drain(&mut p);
    p.call_request(
        "r3".into(),
        ClientFrame::CallHangup {
            req_id: Some("r3".into()),
            room_id: "call_9".into(),
            reason: None,
        },
    );
    drain(&mut p);
    p.on_frame(
        t0,
        ServerFrame::Error {
            req_id: Some("r3".into()),
            code: ErrorCode::CallNotFound,
            message: "no such call".into(),
            retry_after_ms: None,
        },
    );
    assert!(
        matches!(&drain(&mut p)[..], [Output::Answered { result: Err(e), .. }] if e.code() == "call_not_found")
    );
}

#[test]
fn token_warnings_ask_for_a_fresh_token_only_when_one_can_come() {
    let t0 = start();
    let warn = ServerFrame::TokenAboutToExpire {
        expires_at: t0.utc + chrono::Duration::seconds(60),
    };
    let mut renewable = Protocol::new(rules(true), t0);
    renewable.on_connected(t0, ready(&[]));
    drain(&mut renewable);
    renewable.on_frame(t0, warn.clone());
    let out = drain(&mut renewable);
    assert!(matches!(out.last(), Some(Output::RefreshToken)));
    renewable.token_refreshed("t2".into());
    assert!(matches!(
        frames(&drain(&mut renewable))[..],
        [ClientFrame::RefreshToken { access_token }] if access_token == "t2"
    ));
    let mut fixed = Protocol::new(rules(false), t0);
    fixed.on_connected(t0, ready(&[]));
    drain(&mut fixed);
    fixed.on_frame(t0, warn);
    assert!(!drain(&mut fixed)
        .iter()
        .any(|o| matches!(o, Output::RefreshToken)));
    // Expiry ends the connection for a new token; so does an auth error.
    fixed.on_frame(t0, ServerFrame::TokenExpired);
    assert!(matches!(
        drain(&mut fixed).last(),
        Some(Output::End(Ended::TokenRejected(_)))
    ));
}

#[test]
fn the_first_frame_must_be_ready() {
    let t0 = start();
    let mut p = Protocol::new(rules(true), t0);
    p.on_connected(
        t0,
        ServerFrame::Error {
            req_id: None,
            code: ErrorCode::UserNotFound,
            message: "gone".into(),
            retry_after_ms: None,
        },
    );
    assert!(matches!(&drain(&mut p)[..], [Output::End(Ended::Fatal(_))]));
    p.on_connected(t0, ServerFrame::Pong { req_id: None });
    assert!(matches!(&drain(&mut p)[..], [Output::End(Ended::Lost)]));
    assert_eq!(p.poll_timeout(t0), None);
}

#[test]
fn finishing_fails_every_queued_message() {
    let t0 = start();
    let mut p = Protocol::new(rules(true), t0);
    p.send(pending("c1"));
    p.send(pending("c2"));
    p.finish(&ClientError::Closed);
    let failed: Vec<String> = drain(&mut p)
        .into_iter()
        .filter_map(|o| match o {
            Output::Settled {
                client_id,
                result: Err(_),
            } => Some(client_id),
            _ => None,
        })
        .collect();
    assert_eq!(failed, ["c1", "c2"]);
}

#[test]
fn backoff_counts_attempts_renews_a_refused_token_once_and_gives_up_when_it_must() {
    let mut b = Backoff::default();
    let retry = |s: Step| match s {
        Step::Retry { attempt } => attempt,
        Step::Finish { state, .. } => panic!("gave up: {state:?}"),
    };
    assert_eq!(retry(b.after(Ended::Lost, true)), 1);
    assert_eq!(retry(b.after(Ended::Lost, true)), 2);
    b.connected();
    assert_eq!(retry(b.after(Ended::Lost, true)), 1);
    b.connected();
    let refused = || {
        Ended::TokenRejected(ClientError::Api(ApiError::new(
            ErrorCode::AccessTokenExpired,
            "expired",
        )))
    };
    // A refused token is renewed and tried at once; refused again, it waits.
    assert_eq!(retry(b.after(refused(), true)), 0);
    assert_eq!(retry(b.after(refused(), true)), 1);
    // A token that cannot be renewed ends the session, saying why.
    match Backoff::default().after(refused(), false) {
        Step::Finish {
            state: ConnectionState::Failed { code, message },
            ..
        } => {
            assert_eq!(code, "access_token_expired");
            assert!(message.contains("--token-cmd"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        Backoff::default().after(Ended::Stopped, true),
        Step::Finish {
            state: ConnectionState::Closed,
            ..
        }
    ));
    assert!(matches!(
        ended_by_connect_error(ClientError::Api(ApiError::new(
            ErrorCode::UserNotFound,
            "gone"
        ))),
        Ended::Fatal(_)
    ));
    assert!(matches!(
        ended_by_connect_error(ClientError::Unreachable("refused".into())),
        Ended::Lost
    ));
}
