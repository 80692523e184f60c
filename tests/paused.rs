//! Timeouts on a paused clock: the real server on port 0 and real clients, with time that
//! only moves when everything waits (tokio's paused clock, which the server's and the
//! client's [`Clock`] follow). A ring timeout, an idle close, the reconnection schedule and
//! a token refresh each take their full length of virtual time and no real time, and each
//! is checked to come neither early nor late.

// Test code: fixtures convert numbers freely; scenarios read top to bottom.
#![allow(clippy::cast_possible_truncation)]

mod common;

use std::time::Duration;

use common::rawws::{Ending, RawWs};
use common::*;
use parla::client::session::ConnectionState;
use parla::client::{Event, TokenSource};
use parla::clock::Clock;
use tokio::time::Instant;

/// The longest any of these waits in virtual time.
const VIRTUAL_LIMIT: Duration = Duration::from_hours(1);

/// The next event, waiting at most [`VIRTUAL_LIMIT`] of virtual time.
async fn next_event(events: &mut Events) -> Event {
    let e = tokio::time::timeout(VIRTUAL_LIMIT, events.rx.recv())
        .await
        .expect("no event within the virtual limit")
        .expect("the session ended");
    events.seen.push(e.clone());
    e
}

async fn until_event(events: &mut Events, what: &str, pred: impl Fn(&Event) -> bool) -> Event {
    for _ in 0..10_000 {
        let e = next_event(events).await;
        if pred(&e) {
            return e;
        }
    }
    panic!("never saw {what}");
}

fn following_server(c: &mut parla::server::ServerConfig) {
    c.clock = Clock::following_tokio();
}

fn following_client(t: &TestServer, user: &str) -> ClientConfig {
    let mut config = t.client_config(user);
    config.clock = Clock::following_tokio();
    config
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_idle_timeout_and_not_before() {
    let idle = Duration::from_secs(15);
    let t = TestServer::start_with(|c| {
        following_server(c);
        c.idle_timeout = idle;
    })
    .await;
    t.user("alice").await;
    let token = t.token("alice").await;
    // The last thing alice sent was the handshake: the server heard it at some moment
    // between these two (real time passes until the clock is paused).
    let before = Instant::now();
    let mut ws = RawWs::connect(&t.url(), &token).await;
    let after = Instant::now();
    tokio::time::pause();
    assert_eq!(ws.ending().await, Ending::Close(1001));
    let closed = Instant::now();
    assert!(
        closed - before >= idle,
        "closed {:?} after the handshake began, before {idle:?}",
        closed - before
    );
    assert!(
        closed - after < idle + Duration::from_secs(1),
        "closed only {:?} after the handshake",
        closed - after
    );
}

#[tokio::test]
async fn an_unanswered_call_ends_with_timeout_after_the_ring_timeout() {
    let ring = Duration::from_secs(10);
    let t = TestServer::start_with(|c| {
        following_server(c);
        c.ring_timeout = ring;
    })
    .await;
    t.user("alice").await;
    t.user("bob").await;
    let mut bob = RawWs::connect(&t.url(), &t.token("bob").await).await;
    let mut alice = RawWs::connect(&t.url(), &t.token("alice").await).await;
    tokio::time::pause();
    alice
        .send_text(r#"{"type":"call_dial","req_id":"d1","callees":["bob"]}"#)
        .await;
    let dialed = Instant::now();
    let mut rang = false;
    let ended = loop {
        let f = alice.next_json().await;
        if f["type"] == "call_ended" {
            break f;
        }
        if !rang {
            let b = bob.next_json().await;
            rang = b["type"] == "call_incoming";
        }
    };
    let waited = Instant::now() - dialed;
    assert!(rang, "bob's device never rang");
    assert_eq!(ended["reason"], "timeout", "{ended}");
    assert!(waited >= ring, "ended after {waited:?}, before {ring:?}");
    // The server looks at ringing calls four times a second.
    assert!(
        waited <= ring + Duration::from_millis(300),
        "ended only after {waited:?}"
    );
}

#[tokio::test]
async fn reconnection_attempts_follow_the_schedule() {
    let t = TestServer::start_with(following_server).await;
    t.user("alice").await;
    let config = following_client(&t, "alice");
    let schedule = config.reconnect.clone();
    let (client, mut events) = start_client(config).await;
    tokio::time::pause();
    // The server goes away for good: attempts are refused at once, and wait in between.
    let TestServer { server, dir: _dir } = t;
    server.shutdown().await;
    let mut seen: Vec<(Instant, u32, u64)> = Vec::new();
    while seen.len() < 6 {
        if let Event::Connection {
            state:
                ConnectionState::Reconnecting {
                    attempt,
                    retry_in_ms,
                },
        } = next_event(&mut events).await
        {
            seen.push((Instant::now(), attempt, retry_in_ms));
        }
    }
    for (i, (_, attempt, retry_in_ms)) in seen.iter().enumerate() {
        assert_eq!(*attempt as usize, i + 1);
        let base = schedule.schedule[i].as_millis() as u64;
        let jitter = if base == 0 {
            0
        } else {
            schedule.max_jitter.as_millis() as u64
        };
        assert!(
            (base..=base + jitter).contains(retry_in_ms),
            "attempt {attempt} waits {retry_in_ms} ms, the schedule says {base} ms + up to {jitter} ms"
        );
    }
    // Each attempt came when the one before said it would.
    for pair in seen.windows(2) {
        let ((at, _, wait), (next_at, _, _)) = (pair[0], pair[1]);
        let gap = (next_at - at).as_millis() as u64;
        assert!(
            gap >= wait && gap <= wait + 50,
            "announced {wait} ms, came after {gap} ms"
        );
    }
    client.shutdown().await;
}

#[tokio::test]
async fn a_token_about_to_expire_is_renewed_on_the_same_connection() {
    let warning = Duration::from_mins(1);
    let lifetime: u64 = 600;
    let t = TestServer::start_with(|c| {
        following_server(c);
        c.token_warning = warning;
    })
    .await;
    t.user("alice").await;
    let mut config = following_client(&t, "alice");
    // Short-lived tokens from the admin API, like a `--token-cmd` that asks for them.
    let admin = t.admin();
    config.token = TokenSource::provider(move || {
        let admin = admin.clone();
        async move {
            admin
                .admin_credentials("alice", Some(lifetime))
                .await
                .map(|c| c.access_token)
                .map_err(|e| e.to_string())
        }
    });
    let (client, mut events) = start_client(config).await;
    let ready = match events
        .seen
        .iter()
        .find(|e| matches!(e, Event::Ready { .. }))
    {
        Some(e) => e.clone(),
        None => until_event(&mut events, "ready", |e| matches!(e, Event::Ready { .. })).await,
    };
    let Event::Ready {
        expires_at: first_expiry,
        ..
    } = ready
    else {
        unreachable!()
    };
    let clock_at_ready = chrono::Utc::now();
    tokio::time::pause();
    let started = Instant::now();
    let warned = until_event(&mut events, "the expiry warning", |e| {
        matches!(e, Event::TokenAboutToExpire { .. })
    })
    .await;
    let warned_after = Instant::now() - started;
    let refreshed = until_event(&mut events, "the refresh", |e| {
        matches!(e, Event::TokenRefreshed { .. })
    })
    .await;
    let Event::TokenAboutToExpire { expires_at } = warned else {
        unreachable!()
    };
    assert_eq!(expires_at, first_expiry);
    // The warning comes `warning` before the expiry, not earlier (a second of slack for
    // the token's whole-second expiry).
    let due = (first_expiry - clock_at_ready)
        .to_std()
        .unwrap()
        .saturating_sub(warning);
    assert!(
        warned_after + Duration::from_secs(1) >= due,
        "warned after {warned_after:?}, due after {due:?}"
    );
    assert!(
        warned_after <= due + Duration::from_secs(1),
        "warned after {warned_after:?}, due after {due:?}"
    );
    let Event::TokenRefreshed {
        expires_at: renewed,
    } = refreshed
    else {
        unreachable!()
    };
    assert!(
        renewed > first_expiry,
        "{renewed} is not after {first_expiry}"
    );
    // On the same connection: no reconnection in between.
    let reconnected = events
        .seen
        .iter()
        .skip_while(|e| !matches!(e, Event::Ready { .. }))
        .skip(1)
        .any(|e| matches!(e, Event::Ready { .. } | Event::Connection { .. }));
    assert!(!reconnected, "the session reconnected: {:?}", events.seen);
    // And the connection outlives the first token.
    let past_first = (first_expiry - clock_at_ready).to_std().unwrap() + Duration::from_secs(30);
    tokio::time::sleep_until(started + past_first).await;
    let quiet = tokio::time::timeout(Duration::from_millis(10), events.rx.recv()).await;
    assert!(
        !matches!(quiet, Ok(Some(Event::Connection { .. }))),
        "the connection changed past the first token's expiry: {quiet:?}"
    );
    client.shutdown().await;
}
