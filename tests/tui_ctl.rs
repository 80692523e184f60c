//! `parla ctl` against the interface: a headless interface (the same loop `parla` runs)
//! signed in to a real server serves the control socket; a script drives it from outside —
//! dial, status, DTMF, hold, resume, mute, send, hang up — and watches its event stream.

mod common;

use std::time::Duration;

use common::*;
use parla::cli::demo;
use parla::client::{Client, ClientConfig};
use parla::ctl::{self, CtlError, CtlRequest};
use serde_json::Value;

async fn status(path: &std::path::Path) -> Value {
    ctl::request(path, &CtlRequest::Status).await.unwrap()
}

/// Polls the status until `pred` holds (bounded).
async fn wait_status(path: &std::path::Path, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let s = status(path).await;
        if pred(&s) {
            return s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}: {s:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn call_state(s: &Value) -> String {
    s["calls"][0]["state"].as_str().unwrap_or("").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_drives_the_interface_over_the_control_socket() {
    let t = TestServer::start().await;
    demo::seed(&t.server).await.unwrap();
    let menu = demo::spawn_ivr_bot(&t.server, "127.0.0.1:0").unwrap();
    let chat = demo::spawn_chat_bot(&t.server).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("run").join("ctl.sock");

    // Nothing runs yet.
    assert!(matches!(
        ctl::request(&socket, &CtlRequest::Status).await,
        Err(CtlError::NotRunning)
    ));

    let settings = parla::settings::Overrides {
        config: Some(dir.path().join("none.toml")),
        ..Default::default()
    };
    let file = parla::settings::ConfigFile::default();
    let mut look = parla::tui::run::Look::from_config(&settings, &file);
    look.audio.backend = "null".into();
    let config = ClientConfig::new(
        t.url(),
        demo::local_tokens(t.server.state().clone(), demo::DEMO_USER),
    );
    let (client, events) = Client::start(config).unwrap();
    let mut rt = parla::tui::run::Runtime::new(look, client.clone(), events, "127.0.0.1:0");
    rt.serve_ctl(socket.clone()).await;
    // The interface runs until the script's last step, which waits for the call to end.
    let script = parla::tui::script::parse(
        "expect-timeout 60000\nexpect Connected\nexpect In a call with Menu\nexpect ended: hung up\nwait 300\nquit\n",
    )
    .unwrap();
    let ui = tokio::spawn(async move {
        let r = parla::tui::run::headless(&mut rt, script, 100, 30, None).await;
        (r, rt.screen.clone())
    });

    let mut stream = ctl::events(&socket).await.unwrap();
    let s = wait_status(&socket, "signed in", |s| s["user"] == "you").await;
    assert_eq!(s["calls"], serde_json::json!([]));
    assert_eq!(s["audio"], "null");

    // Chat through the socket: the message goes out and alice's bot answers.
    let sent = ctl::request(
        &socket,
        &CtlRequest::Send {
            target: "alice".into(),
            text: "hello from a script".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(sent["text"], "hello from a script");

    // Call the menu; it answers at once.
    ctl::request(
        &socket,
        &CtlRequest::Dial {
            users: vec!["menu".into()],
        },
    )
    .await
    .unwrap();
    let s = wait_status(&socket, "connected", |s| call_state(s) == "connected").await;
    // Ids, not display names.
    assert_eq!(s["calls"][0]["with"], serde_json::json!(["menu"]));
    assert_eq!(s["calls"][0]["direction"], "outgoing");

    // Digits: the menu reads them back, and the interface hears them.
    let r = ctl::request(
        &socket,
        &CtlRequest::Dtmf {
            digits: "12".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(r["digits"], "12");
    wait_status(&socket, "digits echoed", |s| {
        s["calls"][0]["dtmf_received"]
            .as_str()
            .unwrap_or("")
            .contains("12")
    })
    .await;
    let bad = ctl::request(
        &socket,
        &CtlRequest::Dtmf {
            digits: "1x".into(),
        },
    )
    .await;
    assert!(
        matches!(&bad, Err(CtlError::Failed(f)) if f.code == "validation_error"),
        "{bad:?}"
    );

    // Hold, resume, mute.
    ctl::request(&socket, &CtlRequest::Hold { room_id: None })
        .await
        .unwrap();
    wait_status(&socket, "on hold", |s| call_state(s) == "on_hold").await;
    ctl::request(&socket, &CtlRequest::Resume { room_id: None })
        .await
        .unwrap();
    wait_status(&socket, "resumed", |s| call_state(s) == "connected").await;
    let m = ctl::request(&socket, &CtlRequest::Mute).await.unwrap();
    assert_eq!(m["muted"], true);
    assert_eq!(status(&socket).await["calls"][0]["muted"], true);

    // Hang up: no calls left, and the interface's own tour ends.
    ctl::request(&socket, &CtlRequest::Hangup { room_id: None })
        .await
        .unwrap();
    wait_status(&socket, "no calls", |s| s["calls"] == serde_json::json!([])).await;
    let none = ctl::request(&socket, &CtlRequest::Hangup { room_id: None }).await;
    assert!(
        matches!(&none, Err(CtlError::Failed(f)) if f.code == "no_call"),
        "{none:?}"
    );

    // The event stream saw the chat and the call go by.
    let mut seen = Vec::new();
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(300), stream.recv()).await {
        seen.push(e);
    }
    let kinds: Vec<String> = seen
        .iter()
        .filter_map(|e| e["event"].as_str().map(str::to_owned))
        .collect();
    // (Subscribed after the session started: what came before, `ready` say, may be missed.)
    for kind in ["message_sent", "call", "dtmf"] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind} in {kinds:?}");
    }
    assert!(
        seen.iter()
            .any(|e| e["event"] == "message" && e["message"]["sender"] == "alice"),
        "alice's answer is not in {seen:#?}"
    );

    let (result, screen) = tokio::time::timeout(WAIT, ui).await.unwrap().unwrap();
    result.unwrap_or_else(|e| panic!("{e:?}\n{screen}"));
    // Gone with the interface.
    assert!(matches!(
        ctl::request(&socket, &CtlRequest::Status).await,
        Err(CtlError::NotRunning)
    ));
    client.stop();
    menu.stop();
    chat.stop();
}

/// Carol's interface, headless with null audio, running `script` and serving its control
/// socket.
async fn carol_interface(
    t: &TestServer,
    script: &str,
) -> (
    tempfile::TempDir,
    std::path::PathBuf,
    tokio::task::JoinHandle<Result<(), String>>,
) {
    common::headless::interface(t, "carol", script).await
}

/// Quitting the interface in the middle of a call hangs it up first: the other side sees
/// `hang_up` at once, not the server's `connection_lost` a grace period later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quitting_in_a_call_hangs_it_up() {
    use common::party::{connected, Party};
    use parla::client::call::CallState;
    use parla::client::Event;
    let t = TestServer::start().await;
    t.users(&["carol", "bob"]).await;
    let (_dir, socket, ui) = carol_interface(
        &t,
        // A moment in the call before quitting: the side that sends DTLS's last flight is
        // connected a little before the other.
        "expect-timeout 60000\nexpect Connected\nexpect In a call with\nwait 500\nquit\n",
    )
    .await;
    let (bob, mut b) = t.client("bob").await;
    wait_status(&socket, "signed in", |s| s["user"] == "carol").await;
    ctl::request(
        &socket,
        &CtlRequest::Dial {
            users: vec!["bob".into()],
        },
    )
    .await
    .unwrap();
    let Event::CallIncoming { call } = b
        .wait_for("ring", |e| matches!(e, Event::CallIncoming { .. }))
        .await
    else {
        unreachable!()
    };
    let room = call.room_id;
    bob.answer(&room).await.unwrap();
    let pb = Party::start("bob", bob, b, &room, 880.0, false);
    // The script sees the call and quits.
    tokio::time::timeout(WAIT, ui)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    pb.wait_state("hung up", |s| {
        *s == CallState::Ended {
            reason: parla::proto::EndReason::HangUp,
        }
    })
    .await;
    assert!(pb.states().iter().any(connected), "{:?}", pb.states());
    pb.finish().await;
}

/// Two calls from one interface, as a desk phone has them: dialing a second call holds the
/// first (the server lets a device take another call only while its others are held), and
/// resuming the first holds the second. Both other parties see each hold as a remote hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_call_holds_the_first_and_resuming_switches_back() {
    use common::party::connected;
    use parla::client::call::CallState;
    let t = TestServer::start().await;
    t.users(&["carol", "bob", "dave", "erin"]).await;
    let (_dir, socket, ui) = carol_interface(
        &t,
        "expect-timeout 90000\nexpect Connected\nexpect 2/2\nexpect ended: transferred\nwait 300\nquit\n",
    )
    .await;
    let (bob_room, pb, dave_room, pd) = carol_with_two_calls(&t, &socket).await;
    pb.wait_state("bob sees the hold", |s| {
        matches!(s, CallState::OnHold { remote: true, .. })
    })
    .await;
    let of = |s: &Value, room: &str| {
        s["calls"]
            .as_array()
            .and_then(|calls| calls.iter().find(|c| c["room_id"] == room))
            .map(|c| c["state"].as_str().unwrap_or("").to_owned())
            .unwrap_or_default()
    };
    wait_status(&socket, "bob held, dave connected", |s| {
        of(s, &bob_room) == "on_hold" && of(s, &dave_room) == "connected"
    })
    .await;

    // Back to Bob: Dave's call is held, Bob's resumed.
    ctl::request(
        &socket,
        &CtlRequest::Resume {
            room_id: Some(bob_room.clone()),
        },
    )
    .await
    .unwrap();
    pd.wait_state("dave sees the hold", |s| {
        matches!(s, CallState::OnHold { remote: true, .. })
    })
    .await;
    pb.wait_state("bob resumed", |s| *s == CallState::Connected)
        .await;
    wait_status(&socket, "bob connected, dave held", |s| {
        of(s, &bob_room) == "connected" && of(s, &dave_room) == "on_hold"
    })
    .await;

    ctl::request(
        &socket,
        &CtlRequest::Hangup {
            room_id: Some(dave_room.clone()),
        },
    )
    .await
    .unwrap();

    // Bob's call handed over to Erin: the interface holds it, transfers it and is out of
    // it; Erin answers and Bob hears her.
    let (erin, e) = t.client("erin").await;
    let erin_side = tokio::spawn(answer_call("erin", erin, e, 990.0));
    let r = ctl::request(
        &socket,
        &CtlRequest::Transfer {
            to: "erin".into(),
            room_id: None,
        },
    )
    .await;
    assert!(r.is_ok(), "{r:?}");
    let (erin_room, pe) = erin_side.await.unwrap();
    assert_eq!(erin_room, bob_room, "Erin takes up the same call");
    pe.wait_state("erin connected", connected).await;
    pb.wait_state("bob talks with erin", |s| *s == CallState::Connected)
        .await;
    pb.wait_hears(990.0).await;
    wait_status(&socket, "no calls left here", |s| {
        s["calls"] == serde_json::json!([])
    })
    .await;
    tokio::time::timeout(WAIT, ui)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    pe.finish().await;
    pb.finish().await;
    pd.finish().await;
}

/// `request` is refused with `no_call`: there is no call (or no second call) for it.
async fn refused_for_no_call(socket: &std::path::Path, request: CtlRequest) {
    let refused = ctl::request(socket, &request).await;
    assert!(
        matches!(&refused, Err(CtlError::Failed(f)) if f.code == "no_call"),
        "{refused:?}"
    );
}

/// `name` answers the call that rings for them first, and runs it sending `freq` Hz.
async fn answer_call(
    name: &'static str,
    c: Client,
    mut ev: Events,
    freq: f64,
) -> (String, common::party::Party) {
    use parla::client::Event;
    let Event::CallIncoming { call } = ev
        .wait_for("ring", |e| matches!(e, Event::CallIncoming { .. }))
        .await
    else {
        unreachable!()
    };
    c.answer(&call.room_id).await.unwrap();
    let party = common::party::Party::start(name, c, ev, &call.room_id, freq, false);
    (call.room_id.clone(), party)
}

/// Carol's interface calls Bob (660 Hz) and then Dave (770 Hz), who answer; Bob's call is
/// held by the second dial. Returns each room with its party.
async fn carol_with_two_calls(
    t: &TestServer,
    socket: &std::path::Path,
) -> (String, common::party::Party, String, common::party::Party) {
    use common::party::connected;
    let (bob, b) = t.client("bob").await;
    let (dave, d) = t.client("dave").await;
    wait_status(socket, "signed in", |s| s["user"] == "carol").await;
    let dial = |who: &str| CtlRequest::Dial {
        users: vec![who.to_owned()],
    };
    let bob_side = tokio::spawn(answer_call("bob", bob, b, 660.0));
    ctl::request(socket, &dial("bob")).await.unwrap();
    let (bob_room, pb) = bob_side.await.unwrap();
    pb.wait_state("bob connected", connected).await;
    let dave_side = tokio::spawn(answer_call("dave", dave, d, 770.0));
    ctl::request(socket, &dial("dave")).await.unwrap();
    let (dave_room, pd) = dave_side.await.unwrap();
    pd.wait_state("dave connected", connected).await;
    (bob_room, pb, dave_room, pd)
}

/// `parla ctl join` makes one call of Carol's two: Dave's call moves into Bob's, all
/// three are in it, Bob and Dave hear each other, and Carol's interface shows one call,
/// talking again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_interface_joins_its_two_calls_into_one() {
    use parla::client::call::CallState;
    let t = TestServer::start().await;
    t.users(&["carol", "bob", "dave"]).await;
    let (_dir, socket, ui) = carol_interface(
        &t,
        "expect-timeout 90000\nexpect 2/2\nexpect joined with another call\nexpect In a call with dave, bob\nexpect ended: hung up\nwait 300\nquit\n",
    )
    .await;
    let (bob_room, pb, dave_room, pd) = carol_with_two_calls(&t, &socket).await;
    let r = ctl::request(
        &socket,
        &CtlRequest::Join {
            room_id: Some(dave_room.clone()),
            with_room: None,
        },
    )
    .await;
    assert!(r.is_ok(), "{r:?}");
    pb.wait_hears(770.0).await;
    pd.wait_hears(660.0).await;
    wait_status(&socket, "one call, talking", |s| {
        s["calls"].as_array().is_some_and(|c| c.len() == 1)
            && s["calls"][0]["room_id"] == dave_room.as_str()
            && call_state(s) == "connected"
    })
    .await;
    pb.wait_state("bob's call goes on, off hold", |s| {
        *s == CallState::Connected
    })
    .await;
    assert!(pb.events().iter().any(
        |e| matches!(e, parla::client::Event::CallMoved { from_room, .. } if *from_room == bob_room)
    ));
    // Both leave; the interface sees the call end, and its script quits.
    pb.client.hangup(&dave_room).await.unwrap();
    pd.client.hangup(&dave_room).await.unwrap();
    tokio::time::timeout(WAIT, ui)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    pb.finish().await;
    pd.finish().await;
}

/// The key for a consultative transfer (`alt-k`, pressed once both calls are up): Bob and
/// Dave are connected with each other and Carol's interface is left with no call; then
/// `parla ctl join`, with no call, is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_interface_connects_the_parties_of_its_two_calls_and_leaves() {
    let t = TestServer::start().await;
    t.users(&["carol", "bob", "dave", "erin"]).await;
    let (_dir, socket, ui) = carol_interface(
        &t,
        "expect-timeout 90000\nexpect 2/2\nexpect In a call with dave\nkey alt-k\n\
         expect ended: transferred\nexpect Incoming call from erin\nwait 300\nquit\n",
    )
    .await;
    let (_bob_room, pb, _dave_room, pd) = carol_with_two_calls(&t, &socket).await;
    pb.wait_hears(770.0).await;
    pd.wait_hears(660.0).await;
    wait_status(&socket, "no calls left here", |s| {
        s["calls"] == serde_json::json!([])
    })
    .await;
    refused_for_no_call(
        &socket,
        CtlRequest::Join {
            room_id: None,
            with_room: None,
        },
    )
    .await;
    // A call from Erin rings: the interface's script sees it and quits.
    let (erin, _e) = t.client("erin").await;
    erin.dial(&["carol".into()]).await.unwrap();
    tokio::time::timeout(WAIT, ui)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    pb.finish().await;
    pd.finish().await;
}

/// `parla ctl link` makes an access link to the interface's current call: the answer is
/// the link, the screen shows its address, and a guest can exchange it for a session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_interface_makes_a_link_to_its_call() {
    use common::party::connected;
    let t = TestServer::start().await;
    t.users(&["carol", "bob"]).await;
    let (_dir, socket, ui) = carol_interface(
        &t,
        "expect-timeout 60000\nexpect In a call with\nexpect Link to the call\nwait 300\nquit\n",
    )
    .await;
    let (bob, b) = t.client("bob").await;
    wait_status(&socket, "signed in", |s| s["user"] == "carol").await;
    // No call yet: nothing to link to.
    refused_for_no_call(
        &socket,
        CtlRequest::Link {
            room_id: None,
            for_user: None,
        },
    )
    .await;
    let bob_side = tokio::spawn(answer_call("bob", bob, b, 660.0));
    ctl::request(
        &socket,
        &CtlRequest::Dial {
            users: vec!["bob".into()],
        },
    )
    .await
    .unwrap();
    let (room, pb) = bob_side.await.unwrap();
    pb.wait_state("connected", connected).await;
    let link = ctl::request(
        &socket,
        &CtlRequest::Link {
            room_id: None,
            for_user: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(link["room_id"], room.as_str(), "{link}");
    let url = link["url"].as_str().unwrap().to_owned();
    let token = link["token"].as_str().unwrap();
    assert!(url.ends_with(&format!("/join/{token}")), "{url}");
    let session = reqwest::Client::new()
        .post(format!("{}/v1/join/{token}", t.url()))
        .json(&serde_json::json!({"display_name": "Gina"}))
        .send()
        .await
        .unwrap();
    assert_eq!(session.status().as_u16(), 201);
    tokio::time::timeout(WAIT, ui)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    pb.finish().await;
}
