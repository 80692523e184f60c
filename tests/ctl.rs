//! The control socket over real Unix sockets: requests and responses, the stable error
//! codes, one instance per socket (and stale sockets replaced), many clients, the event
//! stream; and `parla ctl` driving a real `parla answer` in a call.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use common::*;
use parla::client::call::media::AudioSetup;
use parla::client::call::phone::{CallDriver, CallEvent};
use parla::client::call::CallState;
use parla::ctl::{self, CtlCall, CtlError, CtlFailure, CtlRequest, CtlServer, InstanceEvent};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::UnixStream;
use tokio::sync::mpsc;

fn socket_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("run").join("parla").join("ctl.sock")
}

/// A socket served by [`instance`] in a fresh directory, and a raw connection to it.
async fn serving() -> (tempfile::TempDir, PathBuf, CtlServer, Raw) {
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    let (server, calls) = CtlServer::bind(&path).await.unwrap();
    instance(calls);
    let raw = Raw::connect(&path).await;
    (dir, path, server, raw)
}

/// An instance that answers `status`, echoes `dial`, and refuses the rest.
fn instance(mut calls: mpsc::Receiver<CtlCall>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(call) = calls.recv().await {
            let reply = match &call.request {
                CtlRequest::Status => Ok(json!({"state": "idle", "user": "alice"})),
                CtlRequest::Dial { users } => Ok(json!({"dialing": users})),
                other => Err(CtlFailure::new(
                    "not_supported",
                    format!("{} is not supported here", other.name()),
                )),
            };
            call.respond(reply);
        }
    })
}

struct Raw {
    lines: tokio::io::Lines<BufReader<OwnedReadHalf>>,
    write: OwnedWriteHalf,
}

impl Raw {
    async fn connect(path: &Path) -> Raw {
        let (read, write) = UnixStream::connect(path).await.unwrap().into_split();
        Raw {
            lines: BufReader::new(read).lines(),
            write,
        }
    }

    async fn send(&mut self, line: &str) {
        self.write.write_all(line.as_bytes()).await.unwrap();
        self.write.write_all(b"\n").await.unwrap();
    }

    /// The next line as JSON; `None` when the server closed the connection.
    async fn next(&mut self) -> Option<Value> {
        let line = tokio::time::timeout(WAIT, self.lines.next_line())
            .await
            .expect("no line from the control socket")
            .unwrap_or(None)?;
        Some(serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line:?}: {e}")))
    }

    async fn ask(&mut self, line: &str) -> Value {
        self.send(line).await;
        self.next().await.expect("connection closed")
    }
}

fn error_code(v: &Value) -> &str {
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["v"], 1, "{v}");
    v["error"]["code"].as_str().unwrap()
}

#[tokio::test]
async fn ctl_status_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    let (server, calls) = CtlServer::bind(&path).await.unwrap();
    instance(calls);
    assert_eq!(server.path(), path);

    // Only the owner may reach it.
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);

    let status = ctl::request(&path, &CtlRequest::Status).await.unwrap();
    assert_eq!(status, json!({"state": "idle", "user": "alice"}));

    // The raw wire: the id comes back, and one connection takes many requests.
    let mut raw = Raw::connect(&path).await;
    let v = raw.ask(r#"{"v":1,"id":"s-1","cmd":"status"}"#).await;
    assert_eq!(
        v,
        json!({"v": 1, "id": "s-1", "ok": true, "result": {"state": "idle", "user": "alice"}})
    );
    let v = raw
        .ask(r#"{"v":1,"id":"s-2","cmd":"dial","users":["bob"]}"#)
        .await;
    assert_eq!(v["id"], "s-2");
    assert_eq!(v["result"], json!({"dialing": ["bob"]}));
    let v = raw.ask(r#"{"v":1,"id":"s-3","cmd":"mute"}"#).await;
    assert_eq!(v["id"], "s-3");
    assert_eq!(error_code(&v), "not_supported");

    // A refusal of the instance comes to `request` as Failed, with its code.
    match ctl::request(&path, &CtlRequest::Unmute).await {
        Err(e @ CtlError::Failed(_)) => assert_eq!(e.code(), "not_supported"),
        other => panic!("{other:?}"),
    }

    server.shutdown().await;
    assert!(!path.exists(), "the socket file stays after shutdown");
    assert!(matches!(
        ctl::request(&path, &CtlRequest::Status).await,
        Err(CtlError::NotRunning)
    ));
}

#[tokio::test]
async fn ctl_unknown_command() {
    let (_dir, _path, _server, mut raw) = serving().await;
    let v = raw.ask(r#"{"v":1,"id":"u","cmd":"reboot"}"#).await;
    assert_eq!(v["id"], "u");
    assert_eq!(error_code(&v), "unknown_command");
    assert!(v["error"]["message"].as_str().unwrap().contains("reboot"));
    // The connection goes on.
    let v = raw.ask(r#"{"v":1,"id":"u2","cmd":"status"}"#).await;
    assert_eq!(v["ok"], true);
}

#[tokio::test]
async fn ctl_malformed_lines() {
    let (_dir, path, _server, mut raw) = serving().await;

    let v = raw.ask("this is not json").await;
    assert_eq!(v["id"], Value::Null);
    assert_eq!(error_code(&v), "malformed_request");
    let v = raw.ask(r#"{"v":1,"id":"m1"}"#).await;
    assert_eq!(v["id"], "m1");
    assert_eq!(error_code(&v), "malformed_request");
    let v = raw.ask(r#"{"v":1,"id":"m2","cmd":"dial"}"#).await;
    assert_eq!(v["id"], "m2");
    assert_eq!(error_code(&v), "malformed_request");
    let v = raw.ask(r#""just a string""#).await;
    assert_eq!(error_code(&v), "malformed_request");
    // Blank lines are no requests; what follows still is.
    raw.send("").await;
    let v = raw.ask(r#"{"v":1,"id":"m3","cmd":"status"}"#).await;
    assert_eq!(v["id"], "m3");
    assert_eq!(v["ok"], true);

    // A line over 64 KiB is refused and the connection closed.
    let huge = format!(
        r#"{{"v":1,"id":"big","cmd":"send","target":"bob","text":"{}"}}"#,
        "x".repeat(70 * 1024)
    );
    let v = raw.ask(&huge).await;
    assert_eq!(v["id"], Value::Null);
    assert_eq!(error_code(&v), "malformed_request");
    assert_eq!(raw.next().await, None, "the connection stays open");

    // Through the client API too.
    match ctl::request(
        &path,
        &CtlRequest::Send {
            target: "bob".into(),
            text: "y".repeat(70 * 1024),
        },
    )
    .await
    {
        Err(e) => assert_eq!(e.code(), "malformed_request"),
        Ok(v) => panic!("{v}"),
    }
    // The server lives on.
    assert!(ctl::request(&path, &CtlRequest::Status).await.is_ok());
}

#[tokio::test]
async fn ctl_wrong_version() {
    let (_dir, _path, _server, mut raw) = serving().await;
    let v = raw.ask(r#"{"v":2,"id":"w","cmd":"status"}"#).await;
    assert_eq!(v["id"], "w");
    assert_eq!(error_code(&v), "unsupported_version");
    let v = raw.ask(r#"{"v":1,"id":"w2","cmd":"status"}"#).await;
    assert_eq!(v["ok"], true);
}

#[tokio::test]
async fn ctl_second_bind_on_a_live_socket_is_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    let (first, calls) = CtlServer::bind(&path).await.unwrap();
    instance(calls);
    match CtlServer::bind(&path).await {
        Err(e @ CtlError::InUse) => assert_eq!(e.code(), "ctl_in_use"),
        Err(e) => panic!("{e:?}"),
        Ok(_) => panic!("a second instance took a live socket"),
    }
    // The first one still serves, from the same file.
    assert!(path.exists());
    assert_eq!(
        ctl::request(&path, &CtlRequest::Status).await.unwrap()["state"],
        "idle"
    );
    drop(first);
    assert!(!path.exists(), "dropping the server leaves its socket file");
}

#[tokio::test]
async fn ctl_stale_socket_file_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    // A socket file whose listener is gone, as a crashed instance leaves it.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    assert!(matches!(
        ctl::request(&path, &CtlRequest::Status).await,
        Err(CtlError::NotRunning)
    ));

    let (_server, calls) = CtlServer::bind(&path).await.unwrap();
    instance(calls);
    assert_eq!(
        ctl::request(&path, &CtlRequest::Status).await.unwrap()["state"],
        "idle"
    );

    // A file that is not a socket is left alone.
    let other = dir.path().join("plain");
    std::fs::write(&other, "keep me").unwrap();
    assert!(CtlServer::bind(&other).await.is_err());
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "keep me");
}

#[tokio::test]
async fn ctl_two_clients_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    let (_server, mut calls) = CtlServer::bind(&path).await.unwrap();
    // The instance takes both requests before answering either, last first: both
    // clients must be connected and waiting at the same time.
    tokio::spawn(async move {
        let a = calls.recv().await.unwrap();
        let b = calls.recv().await.unwrap();
        for call in [b, a] {
            let reply = match &call.request {
                CtlRequest::Dial { users } => Ok(json!({"dialing": users})),
                other => Err(CtlFailure::new("not_supported", other.name())),
            };
            call.respond(reply);
        }
    });
    let dial = |who: &str| CtlRequest::Dial {
        users: vec![who.to_owned()],
    };
    let (to_carol, to_dave) = (dial("carol"), dial("dave"));
    let (carol, dave) = tokio::join!(
        ctl::request(&path, &to_carol),
        ctl::request(&path, &to_dave),
    );
    assert_eq!(carol.unwrap(), json!({"dialing": ["carol"]}));
    assert_eq!(dave.unwrap(), json!({"dialing": ["dave"]}));
}

#[tokio::test]
async fn ctl_events_stream_gets_published_events() {
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    let (server, calls) = CtlServer::bind(&path).await.unwrap();
    instance(calls);

    let mut events = ctl::events(&path).await.unwrap();
    let mut raw = Raw::connect(&path).await;
    let v = raw.ask(r#"{"v":1,"id":"e","cmd":"events"}"#).await;
    assert_eq!(
        v,
        json!({"v": 1, "id": "e", "ok": true, "result": {"streaming": true}})
    );

    server.publish(InstanceEvent::Notice {
        message: "one".into(),
    });
    server.publish(InstanceEvent::Dtmf {
        room_id: "r1".into(),
        digit: '5',
    });
    for want in [
        json!({"event": "notice", "message": "one"}),
        json!({"event": "dtmf", "room_id": "r1", "digit": "5"}),
    ] {
        let got = tokio::time::timeout(WAIT, events.recv()).await.unwrap();
        assert_eq!(got.as_ref(), Some(&want));
        assert_eq!(raw.next().await, Some(json!({"v": 1, "event": want})));
    }
    // Requests on a streaming connection are still answered.
    let v = raw.ask(r#"{"v":1,"id":"e2","cmd":"status"}"#).await;
    assert_eq!(v["id"], "e2");
    assert_eq!(v["ok"], true);

    // A subscriber that does not read falls behind, hears how many it missed, and goes on.
    let mut slow = Raw::connect(&path).await;
    let v = slow.ask(r#"{"v":1,"id":"slow","cmd":"events"}"#).await;
    assert_eq!(v["ok"], true);
    let total = 5000u64;
    let padding = "p".repeat(1024);
    for n in 0..total {
        server.publish(InstanceEvent::Notice {
            message: format!("{n} {padding}"),
        });
    }
    server.publish(InstanceEvent::Notice {
        message: "last".into(),
    });
    let (mut seen, mut missed, mut lagged) = (0u64, 0u64, false);
    loop {
        let v = slow.next().await.expect("stream closed");
        let event = &v["event"];
        if event["event"] == "lagged" {
            lagged = true;
            missed += event["missed"].as_u64().unwrap();
        } else if event["message"] == "last" {
            break;
        } else {
            seen += 1;
        }
    }
    assert!(lagged, "the slow subscriber never lagged");
    assert_eq!(seen + missed, total, "seen {seen}, missed {missed}");

    // Shutting down delivers what was published, then ends the stream.
    server.publish(InstanceEvent::Notice {
        message: "bye".into(),
    });
    server.shutdown().await;
    let mut rest = Vec::new();
    while let Some(e) = tokio::time::timeout(WAIT, events.recv()).await.unwrap() {
        rest.push(e);
    }
    assert_eq!(
        rest.last(),
        Some(&json!({"event": "notice", "message": "bye"}))
    );
}

#[tokio::test]
async fn ctl_dropped_reply_is_instance_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    let (_server, mut calls) = CtlServer::bind(&path).await.unwrap();
    tokio::spawn(async move {
        while let Some(call) = calls.recv().await {
            drop(call);
        }
    });
    match ctl::request(&path, &CtlRequest::Status).await {
        Err(CtlError::Failed(f)) => assert_eq!(f.code, "instance_error"),
        other => panic!("{other:?}"),
    }

    // An instance that stopped taking requests altogether: the same.
    let dir2 = tempfile::tempdir().unwrap();
    let path2 = socket_in(&dir2);
    let (_server2, calls2) = CtlServer::bind(&path2).await.unwrap();
    drop(calls2);
    let err = ctl::request(&path2, &CtlRequest::Status).await.unwrap_err();
    assert_eq!(err.code(), "instance_error");
}

#[tokio::test]
async fn ctl_request_to_a_missing_socket_is_not_running() {
    let dir = tempfile::tempdir().unwrap();
    let path = socket_in(&dir);
    let err = ctl::request(&path, &CtlRequest::Status).await.unwrap_err();
    assert!(matches!(err, CtlError::NotRunning), "{err:?}");
    assert_eq!(err.code(), "ctl_not_running");
    assert!(matches!(
        ctl::events(&path).await,
        Err(CtlError::NotRunning)
    ));
}

// ---------------------------------------------------------------------------------------
// `parla ctl` against a real `parla answer`

/// `parla` with a clean environment: its own home and runtime directory.
fn parla(home: &Path, runtime: &Path) -> tokio::process::Command {
    let mut c = parla_in(home);
    c.env("XDG_RUNTIME_DIR", runtime);
    c
}

async fn run_ctl(home: &Path, runtime: &Path, args: &[&str]) -> Output {
    let out = parla(home, runtime).arg("ctl").args(args).output();
    tokio::time::timeout(WAIT, out)
        .await
        .expect("parla ctl did not finish")
        .unwrap()
}

fn stdout_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "parla ctl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// The error code `parla --json ctl` printed on stderr.
fn stderr_code(out: &Output) -> String {
    let v: Value = serde_json::from_slice(&out.stderr)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    v["error"]["code"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctl_drives_parla_answer_end_to_end() {
    let t = TestServer::start().await;
    t.user("alice").await;
    t.user("bob").await;
    let home = tempfile::tempdir().unwrap();
    let runtime = home.path().join("run");
    let socket = runtime.join("parla").join("ctl.sock");

    let bob = parla(home.path(), &runtime)
        .env("PARLA_SERVER", t.url())
        .env("PARLA_TOKEN", t.token("bob").await)
        .args(["--json", "answer", "--tone", "440", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_online(&t, "alice", "bob").await;
    assert!(socket.exists(), "parla answer opened no control socket");

    // Waiting for a call.
    let out = run_ctl(home.path(), &runtime, &["--json", "status"]).await;
    let waiting = stdout_json(&out);
    assert_eq!(waiting["user"], "bob");
    assert_eq!(waiting["audio"], "file");
    assert_eq!(waiting["calls"], json!([]));
    let out = run_ctl(home.path(), &runtime, &["--json", "dial", "carol"]).await;
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(stderr_code(&out), "not_supported");

    // Alice calls bob, with media of her own, and reports the digits she hears.
    let (alice, mut alice_events) = t.client("alice").await;
    let call = alice.dial(&["bob".into()]).await.unwrap();
    let room_id = call.room_id.clone();
    let (digits_tx, mut digits) = mpsc::unbounded_channel();
    let (states_tx, mut states) = mpsc::unbounded_channel();
    let mut driver = CallDriver::new(alice.clone(), &room_id, AudioSetup::silent("127.0.0.1:0"));
    let alice_task = tokio::spawn(async move {
        loop {
            tokio::select! {
                e = alice_events.rx.recv() => {
                    let Some(e) = e else { break };
                    match driver.on_event(&e).await.unwrap() {
                        Some(CallEvent::State(v)) => { let _ = states_tx.send(v.state); }
                        Some(CallEvent::Ended(v)) => {
                            let _ = states_tx.send(v.state);
                            break;
                        }
                        _ => {}
                    }
                }
                ev = driver.next_media_event() => {
                    if let CallEvent::Dtmf(d) = ev {
                        let _ = digits_tx.send(d);
                    }
                }
            }
        }
        driver.finish().await.unwrap();
    });

    // Bob's side connects; `status` shows it.
    let deadline = tokio::time::Instant::now() + WAIT;
    let status = loop {
        let out = run_ctl(home.path(), &runtime, &["--json", "status"]).await;
        let status = stdout_json(&out);
        if status["calls"][0]["state"] == "connected" {
            break status;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "bob never connected: {status}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // The schema the interface reports too: ids and codes.
    let call = &status["calls"][0];
    assert_eq!(call["room_id"], room_id.as_str());
    assert_eq!(call["direction"], "incoming");
    assert_eq!(call["with"], serde_json::json!(["alice"]));
    assert_eq!(call["dtmf_received"], "");
    assert_eq!(status["user"], "bob");
    assert_eq!(status["connection"], "connected");
    // Without --json: lines, not pretty JSON.
    let out = run_ctl(home.path(), &runtime, &["status"]).await;
    let human = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(human.starts_with("bob · connected"), "{human}");
    assert!(
        human.contains(&format!("{room_id} with alice: connected")),
        "{human}"
    );
    assert!(!human.contains('{'), "{human}");

    let mut bob_events = ctl::events(&socket).await.unwrap();

    // DTMF: bad digits are refused, good ones reach alice.
    let out = run_ctl(home.path(), &runtime, &["--json", "dtmf", "1x"]).await;
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(stderr_code(&out), "validation_error");
    let out = run_ctl(home.path(), &runtime, &["dtmf", "12"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("sent DTMF 12"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let mut heard = String::new();
    while heard.len() < 2 {
        let d = tokio::time::timeout(WAIT, digits.recv())
            .await
            .unwrap_or_else(|_| panic!("alice heard only {heard:?}"))
            .unwrap();
        heard.push(d);
    }
    assert_eq!(heard, "12");

    // Hang up: the call ends on both sides and `parla answer` exits.
    let out = run_ctl(home.path(), &runtime, &["--json", "hangup"]).await;
    assert_eq!(stdout_json(&out)["room_id"], room_id.as_str());
    let ended = async {
        while let Some(s) = states.recv().await {
            if matches!(s, CallState::Ended { .. }) {
                return;
            }
        }
        panic!("alice's call never ended");
    };
    tokio::time::timeout(WAIT, ended)
        .await
        .expect("alice's call did not end");
    let bob = succeeded("parla answer", WAIT, bob.wait_with_output()).await;
    let printed: Vec<Value> = String::from_utf8_lossy(&bob.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let summary = printed
        .iter()
        .find(|v| v["event"] == "call_summary")
        .expect("no summary printed");
    assert_eq!(summary["end_reason"], "hang_up");
    assert_eq!(summary["answered"], true);

    // The event stream got the summary, then closed with the instance.
    let mut published = Vec::new();
    while let Some(e) = tokio::time::timeout(WAIT, bob_events.recv())
        .await
        .expect("the event stream did not end")
    {
        published.push(e);
    }
    assert_eq!(
        published.iter().find(|e| e["event"] == "call_summary"),
        Some(summary),
        "{published:#?}"
    );

    // Gone with it: the socket file, and `parla ctl` says nothing runs.
    assert!(!socket.exists());
    let out = run_ctl(home.path(), &runtime, &["--json", "status"]).await;
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(stderr_code(&out), "ctl_not_running");
    let out = run_ctl(home.path(), &runtime, &["status"]).await;
    assert!(String::from_utf8_lossy(&out.stderr).contains("parla answer"));

    tokio::time::timeout(WAIT, alice_task)
        .await
        .expect("alice's driver did not finish")
        .unwrap();
    alice.stop();
}
