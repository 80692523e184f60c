//! Running the server for real: the admin key, error codes at the edges of the protocol,
//! TLS, backup and restore, databases from earlier versions, and writes that the disk
//! refuses.

mod common;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use common::serve::Serve;
use common::*;
use futures_util::{SinkExt, StreamExt};
use parla::client::{ClientConfig, Rest, TokenSource};
use parla::proto::{Direction, ErrorCode};
use parla::server::{Server, ServerConfig, ServerError};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Ws;

fn parla(home: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_parla"));
    c.env("HOME", home)
        .env("XDG_DATA_HOME", home)
        .env("XDG_CONFIG_HOME", home)
        .env_remove("PARLA_API_KEY")
        .env_remove("PARLA_SERVER")
        .env_remove("PARLA_TOKEN");
    c
}

#[tokio::test]
async fn empty_and_short_admin_keys_are_refused_at_start() {
    let home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let serve = |key: Option<&str>, env: Option<&str>| {
        let mut c = parla(home.path());
        c.args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data.path());
        if let Some(k) = key {
            c.args(["--api-key", k]);
        }
        if let Some(e) = env {
            c.env("PARLA_API_KEY", e);
        }
        c.output().unwrap()
    };
    for (key, env) in [
        (Some(""), None),
        (None, Some("")),
        (Some("k"), None),
        (Some("fifteen-chars-x"), None),
        (Some("has a space in it!"), None),
    ] {
        let out = serve(key, env);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{key:?}/{env:?} was accepted");
        assert!(
            stderr.contains("admin API key"),
            "{key:?}/{env:?}: unclear error: {stderr}"
        );
    }
    // Embedding programs get the same answer.
    let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap(), data.path().into());
    config.api_key = Some(String::new());
    assert!(matches!(
        Server::start(config).await,
        Err(ServerError::ApiKey(_))
    ));

    // A server with a good key never takes an empty header for it.
    let t = TestServer::start().await;
    let http = reqwest::Client::new();
    for header in ["", " "] {
        let resp = http
            .get(format!("{}/v1/admin/users", t.url()))
            .header("apikey", header)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{header:?}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "api_key_invalid");
    }
}

#[tokio::test]
async fn error_codes_at_the_edges() {
    let t = TestServer::start().await;
    let alice = t.user("alice").await;
    t.user("bob").await;
    let channel = alice.open_direct("bob").await.unwrap().channel_id;
    alice.send(&channel, "c1", "one").await.unwrap();
    alice.send(&channel, "c2", "two").await.unwrap();
    let token = t.token("alice").await;
    let http = reqwest::Client::new();

    // The auth scheme is case-insensitive, on REST and at the WebSocket upgrade.
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let resp = http
            .get(format!("{}/v1/me", t.url()))
            .header("authorization", format!("{scheme} {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{scheme}");
    }
    let mut req = format!("{}/v1/ws", t.url().replace("http", "ws"))
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("authorization", format!("bearer {token}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    drop(ws.next().await);

    // A numeric anchor need not name a message, however large.
    let page: serde_json::Value = http
        .get(format!(
            "{}/v1/channels/{channel}/messages?anchor=18446744073709551616&count=5",
            t.url()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["messages"].as_array().unwrap().len(), 2, "{page}");
    let resp = http
        .get(format!("{}/v1/users?online=maybe", t.url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);

    // Unsupported methods: 405 with the code and the methods that are allowed.
    let resp = http
        .patch(format!("{}/v1/channels/{channel}", t.url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    let allow = resp.headers()["allow"].to_str().unwrap().to_owned();
    assert!(allow.contains("GET") && allow.contains("DELETE"), "{allow}");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "method_not_allowed");

    // The WebSocket route asked without an upgrade: a plain-text 400, as documented.
    let resp = http
        .get(format!("{}/v1/ws", t.url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(!resp.text().await.unwrap().is_empty());
    // The OpenAPI document is served, as JSON.
    let resp = http
        .get(format!("{}/v1/openapi.json", t.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let doc: serde_json::Value = resp.json().await.unwrap();
    assert!(doc["paths"]["/v1/channels"].is_object());
}

/// A token of a deleted account cannot renew a session of the account that now has the
/// same id, and a recreated user does not inherit the old one's conversations.
#[tokio::test]
async fn a_recreated_user_id_is_a_new_person() {
    let t = TestServer::start().await;
    let old_alice = t.user("alice").await;
    let bob = t.user("bob").await;
    let old_channel = old_alice.open_direct("bob").await.unwrap().channel_id;
    old_alice
        .send(&old_channel, "c1", "for bob's eyes")
        .await
        .unwrap();
    let old_token = t.token("alice").await;
    t.admin().admin_delete_user("alice").await.unwrap();
    t.admin().admin_create_user("alice", None).await.unwrap();
    let new_token = t.token("alice").await;

    let url = format!(
        "{}/v1/ws?access_token={new_token}",
        t.url().replace("http", "ws")
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let ready: serde_json::Value = match ws.next().await {
        Some(Ok(Ws::Text(t))) => serde_json::from_str(t.as_str()).unwrap(),
        other => panic!("{other:?}"),
    };
    assert!(ready["channels"].as_object().unwrap().is_empty(), "{ready}");
    let refresh = serde_json::json!({"type": "refresh_token", "access_token": old_token});
    ws.send(Ws::text(refresh.to_string())).await.unwrap();
    let answer = loop {
        match ws.next().await {
            Some(Ok(Ws::Text(t))) => {
                let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
                if v["type"] != "presence" {
                    break v;
                }
            }
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(answer["code"], "access_token_invalid", "{answer}");

    let new_alice = Rest::new(&t.url()).unwrap().with_token(new_token);
    assert!(new_alice.channels().await.unwrap().is_empty());
    let fresh = new_alice.open_direct("bob").await.unwrap();
    assert_ne!(fresh.channel_id, old_channel);
    assert_eq!(
        new_alice
            .history(&old_channel, 10, None, Direction::Backwards)
            .await
            .unwrap_err()
            .api_code(),
        Some(ErrorCode::ChannelNotExists)
    );
    // Bob keeps both conversations.
    let ids: BTreeSet<String> = bob
        .channels()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.channel_id)
        .collect();
    assert!(ids.contains(&old_channel) && ids.contains(&fresh.channel_id));
}

/// A data directory written before schema versions existed opens, its history intact,
/// and the migration detaches a deleted user's direct channel from the pair.
#[tokio::test]
async fn a_database_from_the_previous_version_opens() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = rusqlite::Connection::open(dir.path().join("parla.sqlite3")).unwrap();
        db.execute_batch(include_str!("fixtures/data-unversioned.sql"))
            .unwrap();
    }
    let t = TestServer::start_with(|c| c.data_dir = dir.path().into()).await;
    let version: u32 = rusqlite::Connection::open(dir.path().join("parla.sqlite3"))
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, parla::server::store::SCHEMA_VERSION);
    let bob = t.rest_for("bob").await;
    let channels = bob.channels().await.unwrap();
    assert_eq!(channels.len(), 2, "{channels:?}");
    let with_alice = channels
        .iter()
        .find(|c| c.participants.contains(&"alice".to_owned()))
        .unwrap();
    let page = bob
        .history(&with_alice.channel_id, 50, None, Direction::Forwards)
        .await
        .unwrap();
    let texts: Vec<&str> = page.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["hi bob", "hi alice", "see you"]);
    // carol was deleted before the upgrade; a new carol starts afresh.
    t.admin().admin_create_user("carol", None).await.unwrap();
    let carol = t.rest_for("carol").await;
    assert!(carol.channels().await.unwrap().is_empty());
    let (fresh, created) = {
        let c = carol.open_direct("bob").await.unwrap();
        let created = !channels.iter().any(|old| old.channel_id == c.channel_id);
        (c, created)
    };
    assert!(created, "{fresh:?} is the old channel");
}

#[tokio::test]
async fn backup_while_running_and_restore() {
    let (data, home) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut server = Serve::new(data.path(), home.path()).spawn().await;
    let admin = Rest::new(&server.url).unwrap().with_api_key(API_KEY);
    let token = create_alice_and_bob(&admin, None).await;
    let alice = Rest::new(&server.url).unwrap().with_token(token.clone());
    let channel = alice.open_direct("bob").await.unwrap().channel_id;
    for i in 0..20 {
        alice
            .send(&channel, &format!("b{i}"), &format!("before {i}"))
            .await
            .unwrap();
    }
    // Writes go on while the backup is taken.
    let writer = {
        let (alice, channel) = (alice.clone(), channel.clone());
        tokio::spawn(async move {
            for i in 0..20 {
                alice
                    .send(&channel, &format!("d{i}"), &format!("during {i}"))
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let file = home.path().join("backup.sqlite3");
    let out = parla(home.path())
        .args(["--json", "--server", &server.url, "--api-key", API_KEY])
        .args(["admin", "backup"])
        .arg(&file)
        .output()
        .unwrap();
    let report = json_output(&out);
    assert_eq!(report["users"], 2);
    assert!(report["bytes"].as_u64().unwrap() > 0);
    assert!(!home.path().join("backup.sqlite3.part").exists());
    writer.await.unwrap();

    // Not while the server runs.
    let restore = || {
        parla(home.path())
            .args(["--json", "admin", "restore"])
            .arg(&file)
            .arg("--data")
            .arg(data.path())
            .output()
            .unwrap()
    };
    let out = restore();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("data_dir_in_use"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let everything = alice
        .history(&channel, 100, None, Direction::Forwards)
        .await
        .unwrap();
    assert_eq!(everything.messages.len(), 40);

    server.interrupt();
    assert!(server.wait_exit().await.success());
    let out = restore();
    let done = json_output(&out);
    assert!(done["previous"].as_str().unwrap().contains("replaced"));

    let server = Serve::new(data.path(), home.path()).spawn().await;
    // Tokens issued before the backup still work: the signing secret is in it.
    let alice = Rest::new(&server.url).unwrap().with_token(token);
    let page = alice
        .history(&channel, 100, None, Direction::Forwards)
        .await
        .unwrap();
    let n = page.messages.len();
    assert!((20..=40).contains(&n), "{n} messages");
    let seqs: Vec<u64> = page.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=n as u64).collect::<Vec<_>>(), "a consistent cut");
    assert!(page.messages[..20]
        .iter()
        .enumerate()
        .all(|(i, m)| m.text == format!("before {i}")));
    drop(server);
}

/// Acknowledged means on disk: with the disk refusing writes, sends are refused with
/// `message_not_saved` and nothing acknowledged is lost; sent again after the disk has
/// room, each refused message is stored exactly once.
#[tokio::test]
async fn a_full_disk_refuses_writes_and_loses_nothing_acknowledged() {
    let (data, home) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut server = Serve::new(data.path(), home.path());
    // Room for the empty database and its log, not for much history.
    server.file_size_limit_kib = Some(1024);
    let mut server = server.spawn().await;
    let admin = Rest::new(&server.url).unwrap().with_api_key(API_KEY);
    let token = create_alice_and_bob(&admin, None).await;
    let alice = Rest::new(&server.url).unwrap().with_token(token.clone());
    let channel = alice.open_direct("bob").await.unwrap().channel_id;
    let text = "y".repeat(8000);
    let (mut acked, mut refused) = (Vec::new(), Vec::new());
    for i in 0..400 {
        let client_id = format!("c{i}");
        match alice.send(&channel, &client_id, &text).await {
            Ok(m) => acked.push((client_id, m.seq)),
            Err(e) => {
                assert_eq!(e.api_code(), Some(ErrorCode::MessageNotSaved), "{e}");
                refused.push(client_id);
                if refused.len() >= 5 {
                    break;
                }
            }
        }
        // Stay under the message rate.
        if i % 40 == 39 {
            tokio::time::sleep(Duration::from_secs(4)).await;
        }
    }
    eprintln!(
        "disk full after {} acknowledged messages; {} refused",
        acked.len(),
        refused.len()
    );
    assert!(!acked.is_empty(), "nothing fit at all");
    assert!(!refused.is_empty(), "the disk never filled");
    server.child.kill().await.unwrap();

    let server = Serve::new(data.path(), home.path()).spawn().await;
    let alice = Rest::new(&server.url).unwrap().with_token(token);
    for id in &refused {
        alice.send(&channel, id, &text).await.unwrap();
    }
    let page = alice
        .history(&channel, 500, None, Direction::Forwards)
        .await
        .unwrap();
    let ids: Vec<&str> = page.messages.iter().map(|m| m.client_id.as_str()).collect();
    let want: Vec<&str> = acked
        .iter()
        .map(|(id, _)| id.as_str())
        .chain(refused.iter().map(String::as_str))
        .collect();
    assert_eq!(
        ids, want,
        "every acknowledged message, then the resent ones, once each"
    );
    for (id, seq) in &acked {
        let m = page.messages.iter().find(|m| &m.client_id == id).unwrap();
        assert_eq!(m.seq, *seq, "{id} kept its sequence number");
    }
}

/// HTTPS and WSS with a certificate from a private authority: trusted with `--ca-file`,
/// refused without it.
#[tokio::test]
async fn tls_with_a_private_certificate_authority() {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType};
    let dir = tempfile::tempdir().unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    leaf.subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
    let (ca, cert, key) = (
        dir.path().join("ca.pem"),
        dir.path().join("cert.pem"),
        dir.path().join("key.pem"),
    );
    std::fs::write(&ca, ca_cert.pem()).unwrap();
    std::fs::write(&cert, leaf_cert.pem()).unwrap();
    std::fs::write(&key, leaf_key.serialize_pem()).unwrap();

    let t = TestServer::start_with(|c| {
        c.tls = Some(parla::server::TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        });
    })
    .await;
    let url = t.url();
    assert!(url.starts_with("https://"), "{url}");

    // Without the authority: a certificate error, not a hang.
    let plain = Rest::new(&url).unwrap().with_api_key(API_KEY);
    let err = plain.admin_create_user("alice", None).await.unwrap_err();
    assert!(
        format!("{err:?}").to_lowercase().contains("certificate"),
        "{err:?}"
    );
    let admin = Rest::with_ca_file(&url, Some(&ca))
        .unwrap()
        .with_api_key(API_KEY);
    let token = create_alice_and_bob(&admin, None).await;

    // The client core over WSS.
    let mut config = ClientConfig::new(url.clone(), TokenSource::Static(token.clone()));
    config.ca_file = Some(ca.clone());
    let (client, mut events) = start_client(config).await;
    let alice = Rest::with_ca_file(&url, Some(&ca))
        .unwrap()
        .with_token(token);
    let channel = alice.open_direct("bob").await.unwrap().channel_id;
    let sent = client.send_message(&channel, "over TLS").await.unwrap();
    assert_eq!(sent.seq, 1);
    client.stop();
    drop(events.drain_for(Duration::from_millis(10)).await);

    // The command line, with --ca-file (run off this runtime's thread: the server is in
    // this process).
    let home = tempfile::tempdir().unwrap();
    let run = |mut c: Command| async move {
        tokio::task::spawn_blocking(move || c.output().unwrap())
            .await
            .unwrap()
    };
    let mut with_ca = parla(home.path());
    with_ca
        .args([
            "--json",
            "--server",
            &url,
            "--api-key",
            API_KEY,
            "--ca-file",
        ])
        .arg(&ca)
        .args(["admin", "user", "list"]);
    let out = run(with_ca).await;
    let users = json_output(&out);
    assert_eq!(users.as_array().unwrap().len(), 2);
    let mut without = parla(home.path());
    without
        .args(["--json", "--server", &url, "--api-key", API_KEY])
        .args(["admin", "user", "list"]);
    let out = run(without).await;
    assert_eq!(out.status.code(), Some(4), "unreachable without the CA");
    let stderr = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(stderr.contains("certificate"), "{stderr}");
}

/// The client keeps a message the server could not save (`message_not_saved`) and sends it
/// again once it is connected to a server that can: it is stored once, and the send that
/// was waiting all along completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_the_disk_refused_is_sent_again_after_reconnecting() {
    let (data, home) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut full = Serve::new(data.path(), home.path());
    full.file_size_limit_kib = Some(1024);
    let mut server = full.spawn().await;
    let url = server.url.clone();
    let admin = Rest::new(&url).unwrap().with_api_key(API_KEY);
    let token = create_alice_and_bob(&admin, None).await;
    let rest = Rest::new(&url).unwrap().with_token(token);
    let channel = rest.open_direct("bob").await.unwrap().channel_id;
    // Fill the disk.
    let text = "z".repeat(8000);
    let mut filled = false;
    for i in 0..400 {
        if let Err(e) = rest.send(&channel, &format!("fill{i}"), &text).await {
            assert_eq!(e.api_code(), Some(ErrorCode::MessageNotSaved), "{e}");
            filled = true;
            break;
        }
        if i % 40 == 39 {
            tokio::time::sleep(Duration::from_secs(4)).await;
        }
    }
    assert!(filled, "the disk never filled");

    let mut config = ClientConfig::new(url.clone(), common::admin_tokens(&url, "alice"));
    config.reconnect.schedule = vec![Duration::from_millis(200)];
    config.reconnect.then = Duration::from_millis(200);
    config.reconnect.max_jitter = Duration::ZERO;
    let (client, mut events) = start_client(config).await;
    let pending = {
        let (client, channel) = (client.clone(), channel.clone());
        tokio::spawn(async move { client.send_message(&channel, "kept for later").await })
    };
    // Refused for now, not failed: nothing settles while the disk is full.
    let refused = events
        .drain_for(Duration::from_millis(500))
        .await
        .into_iter()
        .any(|e| matches!(e, parla::client::Event::MessageFailed { .. }));
    assert!(!refused, "the message was given up");
    assert!(!pending.is_finished());

    // A server with room on the same address; the client reconnects and sends it again.
    server.child.kill().await.unwrap();
    let addr = url.trim_start_matches("http://").to_owned();
    let _server = Serve::new(data.path(), home.path())
        .listen(addr)
        .spawn()
        .await;
    let stored = tokio::time::timeout(WAIT, pending)
        .await
        .expect("the kept message never went out")
        .unwrap()
        .expect("the kept message failed");
    let page = rest
        .history(&channel, 500, None, Direction::Forwards)
        .await
        .unwrap();
    let copies = page
        .messages
        .iter()
        .filter(|m| m.text == "kept for later")
        .count();
    assert_eq!(copies, 1);
    assert_eq!(page.messages.last().unwrap().seq, stored.seq);
    client.stop();
}
