//! Where access tokens come from, and what a token says about its own expiry.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use rand::Rng;

use super::session::TokenRetryPolicy;
use super::ClientError;
use crate::proto::Credentials;

type ProviderFn = dyn Fn() -> BoxFuture<'static, Result<String, String>> + Send + Sync;

/// Where access tokens come from.
#[derive(Clone)]
pub enum TokenSource {
    /// One fixed token: the session ends when it expires.
    Static(String),
    /// A shell command that prints a fresh token (or the JSON of `POST /v1/admin/credentials`).
    Command(String),
    /// Any async function (used by `parla demo` and tests, which mint tokens in-process).
    Provider(Arc<ProviderFn>),
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenSource::Static(_) => f.write_str("Static(..)"),
            TokenSource::Command(c) => write!(f, "Command({c:?})"),
            TokenSource::Provider(_) => f.write_str("Provider(..)"),
        }
    }
}

impl TokenSource {
    pub fn provider<F, Fut>(f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<String, String>> + Send + 'static,
    {
        TokenSource::Provider(Arc::new(move || Box::pin(f())))
    }

    /// True when asking again can give a different token.
    pub fn renewable(&self) -> bool {
        !matches!(self, TokenSource::Static(_))
    }

    /// One attempt, bounded by `timeout`.
    pub async fn fetch(&self, timeout: Duration) -> Result<String, ClientError> {
        let fut = async {
            match self {
                TokenSource::Static(t) => Ok(t.clone()),
                TokenSource::Command(cmd) => run_token_command(cmd).await,
                TokenSource::Provider(f) => f().await,
            }
        };
        match tokio::time::timeout(timeout, fut).await {
            Ok(Ok(t)) if !t.trim().is_empty() => Ok(t.trim().to_owned()),
            Ok(Ok(_)) => Err(ClientError::Token(
                "the token source gave an empty token".into(),
            )),
            Ok(Err(e)) => Err(ClientError::Token(e)),
            Err(_) => Err(ClientError::Token(format!(
                "no token within {} s",
                timeout.as_secs()
            ))),
        }
    }

    /// Up to three attempts on the reference schedule.
    pub async fn fetch_with_retry(&self, policy: &TokenRetryPolicy) -> Result<String, ClientError> {
        let mut last = ClientError::Token("no attempt made".into());
        let mut attempt = 1;
        loop {
            let jitter: f64 = rand::rng().random();
            let Some(delay) = policy.delay(attempt, jitter) else {
                break;
            };
            tokio::time::sleep(delay).await;
            match self.fetch(policy.timeout).await {
                Ok(t) => return Ok(t),
                Err(e) => {
                    tracing::warn!(attempt, error = %e, "token attempt failed");
                    last = e;
                }
            }
            if !self.renewable() {
                break;
            }
            attempt += 1;
        }
        Err(last)
    }
}

async fn run_token_command(cmd: &str) -> Result<String, String> {
    let out = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| format!("cannot run token command: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "token command exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    // Accept the JSON that `parla admin token --json` prints, as well as a bare token.
    if text.starts_with('{') {
        let creds: Credentials = serde_json::from_str(&text)
            .map_err(|e| format!("token command printed JSON without access_token: {e}"))?;
        return Ok(creds.access_token);
    }
    Ok(text)
}

/// Reads `exp` from a JWT without verifying it (the server does that), to know when to
/// refresh.
pub fn token_expiry(token: &str) -> Option<DateTime<Utc>> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    DateTime::from_timestamp(v.get("exp")?.as_i64()?, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::User;

    #[test]
    fn token_expiry_reads_exp() {
        let issuer = crate::server::auth::TokenIssuer::new(b"k");
        let now = Utc::now();
        let alice = User {
            user_id: "alice".into(),
            display_name: "alice".into(),
            created_at: now,
            profile: crate::proto::Profile::default(),
        };
        let (token, exp) = issuer.issue(&alice, now, 600).unwrap();
        assert_eq!(token_expiry(&token), Some(exp));
        assert_eq!(token_expiry("garbage"), None);
    }

    #[tokio::test]
    async fn token_command_accepts_bare_and_json_tokens() {
        let bare = TokenSource::Command("echo abc.def.ghi".into());
        assert_eq!(
            bare.fetch(Duration::from_secs(5)).await.unwrap(),
            "abc.def.ghi"
        );
        let json = TokenSource::Command(
            r#"echo '{"access_token":"t1","expires_at":"2030-01-01T00:00:00Z","user_id":"a"}'"#
                .into(),
        );
        assert_eq!(json.fetch(Duration::from_secs(5)).await.unwrap(), "t1");
        let failing = TokenSource::Command("echo nope >&2; exit 3".into());
        let err = failing.fetch(Duration::from_secs(5)).await.unwrap_err();
        assert_eq!(err.code(), "token_unavailable");
        assert!(err.to_string().contains("nope"));
        let slow = TokenSource::Command("sleep 5".into());
        assert!(slow.fetch(Duration::from_millis(200)).await.is_err());
    }
}
