//! The real interface, headless: a `Runtime` with null audio, signed in as a user, running
//! a script of keys and expectations against its own screen, and serving its control
//! socket.

use std::path::PathBuf;

use parla::client::{Client, ClientConfig};

use super::{admin_tokens, TestServer};

/// `user`'s interface, headless (100x30) with null audio, running `script`; returns the
/// directory it lives in, its control socket and the running interface (its outcome, or
/// the failure of the script with the screen).
pub async fn interface(
    t: &TestServer,
    user: &str,
    script: &str,
) -> (
    tempfile::TempDir,
    PathBuf,
    tokio::task::JoinHandle<Result<(), String>>,
) {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("run").join("ctl.sock");
    let settings = parla::settings::Overrides {
        config: Some(dir.path().join("none.toml")),
        ..Default::default()
    };
    let file = parla::settings::ConfigFile::default();
    let mut look = parla::tui::run::Look::from_config(&settings, &file);
    look.audio.backend = "null".into();
    let config = ClientConfig::new(t.url(), admin_tokens(&t.url(), user));
    let (client, events) = Client::start(config).unwrap();
    let mut rt = parla::tui::run::Runtime::new(look, client, events, "127.0.0.1:0");
    rt.serve_ctl(socket.clone()).await;
    let script = parla::tui::script::parse(script).unwrap();
    let ui = tokio::spawn(async move {
        parla::tui::run::headless(&mut rt, script, 100, 30, None)
            .await
            .map_err(|e| e.to_string())
    });
    (dir, socket, ui)
}

/// Waits (bounded) until the interface behind `socket` is signed in as `user`.
pub async fn signed_in(socket: &std::path::Path, user: &str) {
    let deadline = tokio::time::Instant::now() + super::WAIT;
    while parla::ctl::request(socket, &parla::ctl::CtlRequest::Status)
        .await
        .ok()
        .is_none_or(|s| s["user"] != user)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{user} never signed in"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
