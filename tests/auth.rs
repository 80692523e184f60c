//! Tokens, API key, token refresh and expiry, and user deletion.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use common::*;
use parla::client::session::ConnectionState;
use parla::client::{ClientConfig, Event, Rest, TokenSource};
use parla::proto::{ApiError, ErrorCode};
use parla::server::auth::TokenIssuer;

async fn code_of(rest: &Rest) -> Option<ErrorCode> {
    rest.channels().await.unwrap_err().api_code()
}

#[tokio::test]
async fn bad_tokens_and_keys_get_their_codes() {
    let t = TestServer::start().await;
    t.user("alice").await;
    let url = t.url();
    let (expired, _) = t
        .server
        .state()
        .mint_token("alice", Utc::now() - chrono::Duration::hours(3), 600)
        .await
        .unwrap();
    let alice_user = t.admin().admin_list_users().await.unwrap().remove(0);
    let (forged, _) = TokenIssuer::new(b"not the server's secret")
        .issue(&alice_user, Utc::now(), 600)
        .unwrap();
    let cases = [
        (expired.clone(), ErrorCode::AccessTokenExpired),
        (forged, ErrorCode::AccessTokenInvalidSignature),
        ("garbage".to_owned(), ErrorCode::AccessTokenInvalid),
        (
            // `alg: none` with a payload that is right in every other way (the account's
            // `gen` included): refused for the algorithm alone.
            format!(
                "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
                base64_url(&format!(
                    r#"{{"sub":"alice","iat":{},"exp":{},"gen":{},"jti":"x"}}"#,
                    Utc::now().timestamp(),
                    Utc::now().timestamp() + 600,
                    alice_user.created_at.timestamp_millis()
                ))
            ),
            ErrorCode::AccessTokenInvalid,
        ),
    ];
    for (token, code) in &cases {
        let rest = Rest::new(&url).unwrap().with_token(token.clone());
        assert_eq!(code_of(&rest).await, Some(*code), "token {token}");
    }
    // No token at all.
    let resp = reqwest::get(format!("{url}/v1/channels")).await.unwrap();
    assert_eq!(resp.status(), 401);
    let err: ApiError = resp.json().await.unwrap();
    assert_eq!(err.code, ErrorCode::AuthenticationError);

    // Admin key.
    let wrong = Rest::new(&url).unwrap().with_api_key("wrong-key");
    let err = wrong.admin_create_user("x", None).await.unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::ApiKeyInvalid));
    let resp = reqwest::Client::new()
        .post(format!("{url}/v1/admin/credentials"))
        .json(&serde_json::json!({"user_id": "alice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // Lifetimes outside 360..=86400 and unknown users.
    for bad in [359, 86_401] {
        let err = t
            .admin()
            .admin_credentials("alice", Some(bad))
            .await
            .unwrap_err();
        assert_eq!(err.api_code(), Some(ErrorCode::ValidationError), "{bad}");
    }
    let err = t
        .admin()
        .admin_credentials("nobody", None)
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::UserNotFound));
    let creds = t
        .admin()
        .admin_credentials("alice", Some(360))
        .await
        .unwrap();
    let left = creds.expires_at - Utc::now();
    assert!((355..=360).contains(&left.num_seconds()), "{left:?}");

    // The WebSocket refuses the same tokens before upgrading, and a client with a fixed
    // token gives up with the code.
    let config = ClientConfig::new(url.clone(), TokenSource::Static(expired));
    let (_c, rx) = parla::client::Client::start(config).unwrap();
    let mut events = Events { rx, seen: vec![] };
    let failed = events
        .wait_for("failure", |e| {
            is_state(e, |s| matches!(s, ConnectionState::Failed { .. }))
        })
        .await;
    assert!(
        is_state(
            &failed,
            |s| matches!(s, ConnectionState::Failed { code, .. } if code == "access_token_expired")
        ),
        "{failed:?}"
    );
}

fn base64_url(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[tokio::test]
async fn deleting_a_user_forces_their_devices_off() {
    let t = TestServer::start().await;
    let alice_rest = t.user("alice").await;
    t.user("bob").await;
    let (_a1, mut a1) = t.client("alice").await;
    let (_a2, mut a2) = t.client("alice").await;

    t.admin().admin_delete_user("alice").await.unwrap();
    for ev in [&mut a1, &mut a2] {
        ev.wait_for("force_disconnect", |e| {
            matches!(e, Event::ForceDisconnect { .. })
        })
        .await;
        ev.wait_for("failed", |e| {
            is_state(
                e,
                |s| matches!(s, ConnectionState::Failed { code, .. } if code == "user_not_found"),
            )
        })
        .await;
    }
    assert_eq!(code_of(&alice_rest).await, Some(ErrorCode::UserNotFound));
    let err = t.admin().admin_delete_user("alice").await.unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::UserNotFound));
    // A new account with the same id does not revive the old account's tokens.
    tokio::time::sleep(Duration::from_millis(5)).await;
    t.admin().admin_create_user("alice", None).await.unwrap();
    assert_eq!(
        code_of(&alice_rest).await,
        Some(ErrorCode::AccessTokenInvalid)
    );
    let fresh = t.rest_for("alice").await;
    assert!(fresh.channels().await.unwrap().is_empty());
    let users = t.admin().admin_list_users().await.unwrap();
    assert_eq!(users.len(), 2, "bob and the new alice");
}

#[tokio::test]
async fn sessions_refresh_tokens_before_they_expire() {
    // Warn 10 s into a 3600 s token, so the warning comes at once but not in a loop.
    let t = TestServer::start_with(|c| c.token_warning = Duration::from_secs(3590)).await;
    t.user("alice").await;
    let (_c, mut ev) = t.client("alice").await;
    ev.wait_for("warning", |e| matches!(e, Event::TokenAboutToExpire { .. }))
        .await;
    ev.wait_for("refresh", |e| matches!(e, Event::TokenRefreshed { .. }))
        .await;
    // The session stayed up the whole time.
    assert!(!ev
        .seen
        .iter()
        .any(|e| is_state(e, |s| matches!(s, ConnectionState::Reconnecting { .. }))));
}

#[tokio::test]
async fn an_expired_session_reconnects_with_a_new_token() {
    // No warning ahead, so the token really runs out instead of being refreshed.
    let t = TestServer::start_with(|c| c.token_warning = Duration::ZERO).await;
    t.user("alice").await;
    let state = t.server.state().clone();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    // The first token lives two seconds; later ones an hour.
    let source = TokenSource::provider(move || {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        let state = state.clone();
        async move {
            let life = if n == 0 { 2 } else { 3600 };
            state
                .mint_token("alice", Utc::now(), life)
                .await
                .map(|(t, _)| t)
                .map_err(|e| e.to_string())
        }
    });
    let (_c, mut ev) = start_client(ClientConfig::new(t.url(), source)).await;
    ev.wait_for("second ready", |e| matches!(e, Event::Ready { .. }))
        .await;
    assert!(calls.load(Ordering::SeqCst) >= 2);

    // A fixed short-lived token ends the session with access_token_expired.
    let (short, _) = t
        .server
        .state()
        .mint_token("alice", Utc::now(), 2)
        .await
        .unwrap();
    let (_c2, mut ev2) = start_client(ClientConfig::new(t.url(), TokenSource::Static(short))).await;
    ev2.wait_for("expiry failure", |e| {
        is_state(
            e,
            |s| matches!(s, ConnectionState::Failed { code, .. } if code == "access_token_expired"),
        )
    })
    .await;
}
