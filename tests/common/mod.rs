//! Shared set-up for the integration tests: a real server on port 0 with a temporary data
//! directory, users and real clients against it.

// Test code: fixtures convert numbers freely; scenarios read top to bottom.
#![allow(clippy::match_wild_err_arm)]
#![allow(dead_code)]

pub mod browser;
pub mod cli;
pub mod coturn;
pub mod gate;
pub mod headless;
pub mod netns;
pub mod party;
pub mod peer;
pub mod rawws;
pub mod serve;

use std::time::Duration;

use parla::client::session::ConnectionState;
pub use parla::client::ClientConfig;
use parla::client::{Client, Event, Rest, TokenSource};
use parla::server::{Server, ServerConfig};
use tokio::sync::mpsc::UnboundedReceiver;

pub const API_KEY: &str = "test-api-key-0123456789";
/// Upper bound for anything a test waits on; generous for a loaded 2-core machine.
pub const WAIT: Duration = Duration::from_secs(20);

pub struct TestServer {
    pub server: Server,
    pub dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().into());
        config.api_key = Some(API_KEY.into());
        tweak(&mut config);
        let server = Server::start(config).await.unwrap();
        TestServer { server, dir }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn admin(&self) -> Rest {
        Rest::new(&self.url()).unwrap().with_api_key(API_KEY)
    }

    /// Creates these users.
    pub async fn users(&self, ids: &[&str]) {
        for id in ids {
            self.admin().admin_create_user(id, None).await.unwrap();
        }
    }

    /// Creates a user and returns a REST client holding a fresh token for them.
    pub async fn user(&self, id: &str) -> Rest {
        self.admin().admin_create_user(id, None).await.unwrap();
        self.rest_for(id).await
    }

    pub async fn token(&self, id: &str) -> String {
        self.admin()
            .admin_credentials(id, None)
            .await
            .unwrap()
            .access_token
    }

    pub async fn rest_for(&self, id: &str) -> Rest {
        Rest::new(&self.url())
            .unwrap()
            .with_token(self.token(id).await)
    }

    /// A client whose tokens come from the admin API, like a `--token-cmd` would.
    pub fn client_config(&self, id: &str) -> ClientConfig {
        ClientConfig::new(self.url(), admin_tokens(&self.url(), id))
    }

    pub async fn client(&self, id: &str) -> (Client, Events) {
        start_client(self.client_config(id)).await
    }
}

/// Waits until `who` has a device online, as `viewer` sees it.
pub async fn wait_online(t: &TestServer, viewer: &str, who: &str) {
    let rest = t.rest_for(viewer).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while rest
        .users(true)
        .await
        .unwrap()
        .iter()
        .all(|u| u.user_id != who)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{who} never came online"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn admin_tokens(url: &str, id: &str) -> TokenSource {
    let admin = Rest::new(url).unwrap().with_api_key(API_KEY);
    let id = id.to_owned();
    TokenSource::provider(move || {
        let admin = admin.clone();
        let id = id.clone();
        async move {
            admin
                .admin_credentials(&id, None)
                .await
                .map(|c| c.access_token)
                .map_err(|e| e.to_string())
        }
    })
}

/// The `parla` binary with a clean environment: `PATH`, and `home` as its home with its
/// configuration and data below it.
pub fn parla_in(home: &std::path::Path) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_parla"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    c
}

/// A token for `user` from the admin API of the server at `url`.
pub async fn admin_token(url: &str, user: &str) -> String {
    Rest::new(url)
        .unwrap()
        .with_api_key(API_KEY)
        .admin_credentials(user, None)
        .await
        .unwrap()
        .access_token
}

/// What a finished command printed as JSON, once it is known to have succeeded.
pub fn json_output(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Creates alice and bob through `admin`; returns a token for alice (`lifetime` seconds,
/// or the server's default).
pub async fn create_alice_and_bob(admin: &Rest, lifetime: Option<u64>) -> String {
    for u in ["alice", "bob"] {
        admin.admin_create_user(u, None).await.unwrap();
    }
    admin
        .admin_credentials("alice", lifetime)
        .await
        .unwrap()
        .access_token
}

/// alice dials bob (both exist) and bob answers as soon as it rings: alice's session and
/// events, bob's, and the room.
pub async fn answered_call(t: &TestServer) -> (Client, Events, Client, Events, String) {
    let (alice, a) = t.client("alice").await;
    let (bob, mut b) = t.client("bob").await;
    let room = alice.dial(&["bob".into()]).await.unwrap().room_id;
    b.wait_seen("ring", |e| matches!(e, Event::CallIncoming { .. }))
        .await;
    bob.answer(&room).await.unwrap();
    (alice, a, bob, b, room)
}

/// Waits at most `limit` for a command to end and checks that it succeeded.
pub async fn succeeded(
    what: &str,
    limit: Duration,
    run: impl std::future::Future<Output = std::io::Result<std::process::Output>>,
) -> std::process::Output {
    let out = tokio::time::timeout(limit, run)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish"))
        .unwrap();
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub struct Events {
    pub rx: UnboundedReceiver<Event>,
    pub seen: Vec<Event>,
}

impl Events {
    /// Waits for the first event matching `pred` (earlier ones are kept in `seen`).
    pub async fn wait_for(&mut self, what: &str, pred: impl Fn(&Event) -> bool) -> Event {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(e)) => {
                    self.seen.push(e.clone());
                    if pred(&e) {
                        return e;
                    }
                }
                Ok(None) => panic!(
                    "event stream ended while waiting for {what}; saw {:#?}",
                    self.seen
                ),
                Err(_) => panic!("timed out waiting for {what}; saw {:#?}", self.seen),
            }
        }
    }

    /// Like `wait_for`, but an event that already went by counts too.
    pub async fn wait_seen(&mut self, what: &str, pred: impl Fn(&Event) -> bool) -> Event {
        if let Some(e) = self.seen.iter().find(|e| pred(e)) {
            return e.clone();
        }
        self.wait_for(what, pred).await
    }

    pub async fn connected(&mut self) {
        self.wait_for("connected", |e| matches!(e, Event::Ready { .. }))
            .await;
    }

    /// Collects events for `d` without waiting for anything in particular.
    pub async fn drain_for(&mut self, d: Duration) -> Vec<Event> {
        let deadline = tokio::time::Instant::now() + d;
        let mut out = Vec::new();
        while let Ok(Some(e)) = tokio::time::timeout_at(deadline, self.rx.recv()).await {
            self.seen.push(e.clone());
            out.push(e);
        }
        out
    }

    pub fn messages_seen(&self) -> Vec<(String, String)> {
        self.seen
            .iter()
            .filter_map(|e| match e {
                Event::Message { message } => Some((message.sender.clone(), message.text.clone())),
                _ => None,
            })
            .collect()
    }
}

pub async fn start_client(config: ClientConfig) -> (Client, Events) {
    let (client, rx) = Client::start(config).unwrap();
    let mut events = Events {
        rx,
        seen: Vec::new(),
    };
    events.connected().await;
    (client, events)
}

pub fn is_state(e: &Event, f: impl Fn(&ConnectionState) -> bool) -> bool {
    matches!(e, Event::Connection { state } if f(state))
}

/// `.1` frames of 20 ms of the tone `.0`, then the end.
pub struct ToneFrames(pub parla::media::audio::Tone, pub u32);

impl parla::media::audio::AudioSource for ToneFrames {
    fn next_frame(&mut self, out: &mut [i16]) -> bool {
        if self.1 == 0 {
            return false;
        }
        self.1 -= 1;
        self.0.next_frame(out)
    }
}

/// A voice message (Ogg Opus) of `millis` milliseconds of a `hz` tone.
pub fn tone_message(hz: f64, millis: u32) -> Vec<u8> {
    let mut tone = ToneFrames(parla::media::audio::Tone::new(hz), millis / 20);
    parla::media::voicemail::record(&mut tone, 120_000)
        .unwrap()
        .ogg
}
