//! `parla demo`: seeded users and history, and a chat bot that answers.

mod common;

use std::process::Command;

use common::*;
use parla::cli::demo;
use parla::client::{ClientConfig, Event};
use parla::proto::Direction;

#[tokio::test]
async fn the_demo_is_seeded_and_the_bot_answers() {
    let t = TestServer::start().await;
    demo::seed(&t.server).await.unwrap();
    // Seeding twice (a kept data directory) changes nothing.
    demo::seed(&t.server).await.unwrap();
    let bot = demo::spawn_chat_bot(&t.server).unwrap();

    let state = t.server.state().clone();
    let config = ClientConfig::new(t.url(), demo::local_tokens(state, demo::DEMO_USER));
    let (you, mut events) = start_client(config).await;
    let channels = you.rest().channels().await.unwrap();
    assert_eq!(
        channels.len(),
        2,
        "a direct channel with bob and the team group"
    );
    let bob = channels
        .iter()
        .find(|c| {
            c.kind == parla::proto::ChannelKind::Direct
                && c.participants.contains(&"bob".to_owned())
        })
        .unwrap();
    let history = you
        .rest()
        .history(&bob.channel_id, 10, None, Direction::Backwards)
        .await
        .unwrap();
    assert_eq!(history.messages.len(), 4);

    let alice = you.rest().open_direct("alice").await.unwrap();
    you.send_message(&alice.channel_id, "ciao").await.unwrap();
    events
        .wait_for("bot reply", |e| {
            matches!(e, Event::Message { message } if message.sender == "alice" && message.text.contains("ciao"))
        })
        .await;
    bot.stop();
}

#[test]
fn the_demo_command_starts_and_reports_how_to_connect() {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_parla"))
        .args(["--json", "demo", "--no-wait"])
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path())
        .output()
        .unwrap();
    let v = json_output(&out);
    assert_eq!(v["user"], "you");
    assert!(v["server"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:"));
    assert!(v["token"].as_str().unwrap().split('.').count() == 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_echo_bot_plays_your_audio_back() {
    use parla::client::call::media::AudioSetup;
    use parla::client::call::phone::{CallDriver, CallEvent};
    use parla::client::call::CallState;
    use parla::media::audio::{tone_strength, Capture, Tone};

    let t = TestServer::start().await;
    demo::seed(&t.server).await.unwrap();
    let bot = demo::spawn_echo_bot(&t.server, "127.0.0.1:0").unwrap();
    let state = t.server.state().clone();
    let config = ClientConfig::new(t.url(), demo::local_tokens(state, demo::DEMO_USER));
    let (you, mut events) = start_client(config).await;
    let heard = Capture::default();
    let room = you.dial(&["echo".into()]).await.unwrap().room_id;
    let mut driver = CallDriver::new(
        you.clone(),
        &room,
        AudioSetup {
            source: Box::new(Tone::new(660.0)),
            sink: Box::new(heard.clone()),
            ..AudioSetup::silent("127.0.0.1:0")
        },
    );
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "echo call never connected"
        );
        let e = tokio::time::timeout(WAIT, events.rx.recv())
            .await
            .unwrap()
            .unwrap();
        if let Some(CallEvent::State(v)) = driver.on_event(&e).await.unwrap() {
            if v.state == CallState::Connected {
                break;
            }
        }
    }
    // The echo comes back half a second later: wait for it, bounded.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let s = heard.samples();
        let recent = &s[s.len().saturating_sub(9600)..];
        if tone_strength(recent, 660.0) > 0.5 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no echo heard");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // A second caller while the bot is busy is declined at once (call waiting would ring
    // the bot, which takes one call at a time), not left to ring out.
    let config = ClientConfig::new(t.url(), demo::local_tokens(state_of(&t), "alice"));
    let (alice, mut a) = start_client(config).await;
    let second = alice.dial(&["echo".into()]).await.unwrap().room_id;
    a.wait_for("declined", |e| {
        matches!(e, parla::client::Event::Call { view } if view.call.room_id == second && view.call.end_reason == Some(parla::proto::EndReason::Declined))
    })
    .await;
    alice.stop();
    you.hangup(&room).await.unwrap();
    driver.finish().await.unwrap();
    bot.stop();
}

fn state_of(t: &TestServer) -> std::sync::Arc<parla::server::AppState> {
    t.server.state().clone()
}

/// `parla demo --script` plays the tour headless and records it; the recording, replayed
/// through a terminal emulator, holds the screens the tour went through. The recording is
/// kept as `target/demo/demo.cast` (CI keeps it as an artifact).
#[test]
fn the_scripted_demo_tour_is_recorded() {
    let home = tempfile::tempdir().unwrap();
    let target = std::path::Path::new(env!("CARGO_BIN_EXE_parla"))
        .parent()
        .and_then(|p| p.parent())
        .unwrap()
        .to_path_buf();
    let cast_path = target.join("demo").join("demo.cast");
    std::fs::create_dir_all(cast_path.parent().unwrap()).unwrap();
    let tour = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/demo.tour");
    let out = Command::new(env!("CARGO_BIN_EXE_parla"))
        .args(["demo", "--script"])
        .arg(&tour)
        .arg("--record-cast")
        .arg(&cast_path)
        .args([
            "--call-after",
            "30",
            "--media-bind",
            "127.0.0.1:0",
            "--size",
            "100x30",
        ])
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_RUNTIME_DIR", home.path().join("run"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the tour failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cast = parla::tui::cast::read_cast(&cast_path).unwrap();
    assert_eq!((cast.width, cast.height), (100, 30));
    // Replay the output and collect every distinct screen.
    let mut parser = vt100::Parser::new(30, 100, 0);
    let mut screens: Vec<String> = Vec::new();
    let mut last_t = 0.0;
    for (t, kind, data) in &cast.events {
        assert!(*t >= last_t, "time goes backwards");
        last_t = *t;
        if kind == "o" {
            parser.process(data.as_bytes());
            let s = parser.screen().contents();
            if screens.last() != Some(&s) {
                screens.push(s);
            }
        }
    }
    let seen = |text: &str| screens.iter().any(|s| s.contains(text));
    for text in [
        "Connected",
        "You said: \u{201c}Hello Alice, this is the parla tour!\u{201d}",
        "In a call with Echo",
        "Sent: 123#",
        "on hold",
        "is calling you",
        "In a call with Carol",
        "Notices",
        "ended: hung up",
        "Keys",
    ] {
        assert!(seen(text), "no screen shows `{text}`");
    }
    // Bob's two last messages share one header: the line above the second is the first.
    let grouped = screens.iter().any(|s| {
        let lines: Vec<&str> = s.lines().collect();
        lines
            .iter()
            .position(|l| l.contains("parla demo env"))
            .is_some_and(|i| i > 0 && lines[i - 1].contains("parla send alice hello"))
    });
    assert!(grouped, "Bob's messages did not share a header");
    // In order: the chat before the call, the call before the hang-up.
    let first = |text: &str| screens.iter().position(|s| s.contains(text)).unwrap();
    assert!(first("You said") < first("In a call with Echo"));
    assert!(first("Sent: 123#") < first("on hold"));
    assert!(first("In a call with Echo") < first("is calling you"));
    // A timer ran during the call.
    assert!(seen("00:01") || seen("00:02"), "no call timer");
}

/// The menu bot answers and reads back every digit you press; Carol calls you once you are
/// online.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_menu_reads_digits_back_and_carol_calls() {
    use common::party::{connected, Party};
    use std::time::Duration;

    let t = TestServer::start().await;
    demo::seed(&t.server).await.unwrap();
    let menu = demo::spawn_ivr_bot(&t.server, "127.0.0.1:0").unwrap();
    let state = t.server.state().clone();
    let config = ClientConfig::new(t.url(), demo::local_tokens(state.clone(), demo::DEMO_USER));
    let (you, events) = start_client(config).await;
    let room = you.dial(&["menu".into()]).await.unwrap().room_id;
    let p = Party::start("you", you.clone(), events, &room, 440.0, false);
    p.wait_state("connected", connected).await;
    p.send_dtmf("42#");
    p.wait("digits read back", || p.dtmf_heard() == "42#").await;
    you.hangup(&room).await.unwrap();
    p.finish().await;
    menu.stop();

    // Carol calls shortly after the demo user comes online.
    let carol =
        demo::spawn_caller_bot(&t.server, "127.0.0.1:0", Duration::from_millis(200)).unwrap();
    let config = ClientConfig::new(t.url(), demo::local_tokens(state, demo::DEMO_USER));
    let (you, mut events) = start_client(config).await;
    let ring = events
        .wait_for("carol's call", |e| matches!(e, Event::CallIncoming { .. }))
        .await;
    let Event::CallIncoming { call } = ring else {
        unreachable!()
    };
    assert_eq!(call.caller, "carol");
    you.answer(&call.room_id).await.unwrap();
    let p = Party::start("you", you.clone(), events, &call.room_id, 440.0, false);
    p.wait_state("connected", connected).await;
    p.wait_hears(392.0).await;
    you.hangup(&call.room_id).await.unwrap();
    p.finish().await;
    carol.stop();
}

/// A running demo tells scripts where it is: `parla demo env` gives the server, a token and
/// the API key, and `parla history bob` works with them; once the demo stops, `demo env`
/// says no demo runs (exit 4).
#[tokio::test]
async fn demo_env_gives_what_scripts_need_while_the_demo_runs() {
    let home = tempfile::tempdir().unwrap();
    let runtime = home.path().join("run");
    std::fs::create_dir_all(&runtime).unwrap();
    let env_of = |args: &[&str]| {
        let mut c = parla_in(home.path());
        c.env("XDG_RUNTIME_DIR", &runtime).args(args);
        c
    };
    let out = env_of(&["demo", "env"]).output().await.unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("demo_not_running"));

    // Without a terminal the demo waits until interrupted.
    let mut demo_run = env_of(&["demo", "--call-after", "600"]);
    demo_run.stdout(std::process::Stdio::null());
    let mut child = demo_run.spawn().unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    let vars = loop {
        let out = env_of(&["--json", "demo", "env"]).output().await.unwrap();
        if out.status.success() {
            break json_output(&out);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no demo env came up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let server = vars["PARLA_SERVER"].as_str().unwrap().to_owned();
    assert!(server.starts_with("http://127.0.0.1:"), "{vars}");
    let shell = env_of(&["demo", "env"]).output().await.unwrap();
    let text = String::from_utf8_lossy(&shell.stdout).to_string();
    assert!(
        text.contains(&format!("export PARLA_SERVER='{server}'")),
        "{text}"
    );
    // The seeded hint works with them.
    let mut history = env_of(&["history", "bob"]);
    for key in ["PARLA_SERVER", "PARLA_TOKEN"] {
        history.env(key, vars[key].as_str().unwrap());
    }
    let out = history.output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Welcome to parla"));
    // Stopped: no demo any more.
    let pid = child.id().unwrap();
    std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    let _ = tokio::time::timeout(WAIT, child.wait()).await;
    let out = env_of(&["demo", "env"]).output().await.unwrap();
    assert_eq!(out.status.code(), Some(4));
}
