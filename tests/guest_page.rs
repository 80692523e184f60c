//! The page `parla serve` serves at an access link, in headless Chromium (Debian's
//! `chromium` and `chromium-driver`): a guest opens the link, types a name, joins the call
//! of two parla clients with the browser's fake microphone (a WAV tone), hears both parties
//! on their own streams and is heard by both, chats in the call's channel, is sent away
//! when the call ends, and the same link then answers `invalid_access_link`. And the same
//! for a guest in a terminal: `parla join LINK`.

mod common;

use std::path::Path;
use std::time::Duration;

use common::browser::Browser;
use common::cli::{call_summary, wav_channel, words};
use common::party::{connected, Party};
use common::*;
use parla::client::Event;
use parla::proto::Direction;
use serde_json::{json, Value};

const LIMIT: Duration = Duration::from_mins(1);

/// A mono 48 kHz WAV of `hz` (a whole number of cycles, so the loop has no click).
#[allow(clippy::cast_possible_truncation)]
fn tone_wav(path: &Path, hz: f64) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..96_000 {
        let t = f64::from(i) / 48_000.0;
        w.write_sample((12_000.0 * (std::f64::consts::TAU * hz * t).sin()) as i16)
            .unwrap();
    }
    w.finalize().unwrap();
}

/// The page's own account of itself (`window.parla.state()`).
async fn page_state(b: &Browser) -> Value {
    b.run("return window.parla.state()", json!([])).await
}

/// The text of the element `id` on the page.
async fn text_of(b: &Browser, id: &str) -> String {
    b.run(
        "const e = document.getElementById(arguments[0]); return e.hidden ? '' : e.textContent",
        json!([id]),
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

/// Polls the page until `cond` holds for `what` it returns from `script`.
async fn wait_page(b: &Browser, what: &str, script: &str, cond: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + LIMIT;
    loop {
        let v = b.run(script, json!([])).await;
        if cond(&v) {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the page never showed {what}: last {v}; state {}",
            page_state(b).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Types `name` and presses Join, with the voice processing box unticked (a steady test
/// tone is what noise suppression takes away).
async fn press_join(b: &Browser, name: &str) {
    b.run(
        "document.getElementById('name').value = arguments[0];
         document.getElementById('processing').checked = false;
         document.getElementById('join').click();",
        json!([name]),
    )
    .await;
}

/// Waits until the page hears `hz` on the stream of `user`.
async fn wait_page_hears(b: &Browser, user: &str, hz: f64) {
    let probe = format!(
        "const s = window.parla.streams()[{user:?}];
         if (!s) return {{hz: 0, db: -200}};
         window.probes = window.probes || {{}};
         let p = window.probes[{user:?}];
         if (!p) {{
           const ctx = new AudioContext();
           const a = ctx.createAnalyser();
           a.fftSize = 16384;
           ctx.createMediaStreamSource(s).connect(a);
           p = window.probes[{user:?}] = {{a, ctx}};
         }}
         const bins = new Float32Array(p.a.frequencyBinCount);
         p.a.getFloatFrequencyData(bins);
         let best = 1;
         for (let i = 2; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
         return {{hz: best * p.ctx.sampleRate / p.a.fftSize, db: bins[best]}};"
    );
    wait_page(b, &format!("{hz} Hz from {user}"), &probe, |v| {
        (v["hz"].as_f64().unwrap_or(0.0) - hz).abs() < 10.0
            && v["db"].as_f64().unwrap_or(-200.0) > -60.0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_joins_from_the_browser_talks_hears_and_chats_until_the_call_ends() {
    let t = TestServer::start().await;
    t.users(&["alice", "bob"]).await;
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("guest.wav");
    tone_wav(&wav, 880.0);

    let (alice, pa, bob, pb, room) = call_of_alice_and_bob(&t).await;
    let link = t
        .rest_for("alice")
        .await
        .create_link(&room, None)
        .await
        .unwrap();
    let fake_mic = format!("--use-file-for-fake-audio-capture={}", wav.display());
    let page = Browser::open(
        &link.url,
        &[
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            &fake_mic,
            "--disable-features=WebRtcHideLocalIpsWithMdns",
        ],
    )
    .await;
    press_join(&page, "Gina").await;

    // The guest is in the call, connected to both parties, and hears each on its stream.
    wait_page(
        &page,
        "both connections up",
        "return window.parla.media()",
        |v| v["alice"] == "connected" && v["bob"] == "connected",
    )
    .await;
    wait_page_hears(&page, "alice", 440.0).await;
    wait_page_hears(&page, "bob", 660.0).await;
    let shown = text_of(&page, "parties").await;
    for who in ["alice", "bob", "Gina (you)"] {
        assert!(shown.contains(who), "the page lists {who}: {shown}");
    }
    assert_eq!(text_of(&page, "error").await, "");

    // Both parties hear the guest's microphone, and see the guest by name.
    for p in [&pa, &pb] {
        p.wait("the guest's 880 Hz", || p.hears(880.0) > 0.2).await;
        p.wait("the guest named in the call", || {
            p.events().iter().any(|e| {
                matches!(e, Event::Call { view } if view.call.participants.iter()
                    .any(|q| q.guest && q.display_name.as_deref() == Some("Gina")))
            })
        })
        .await;
    }

    // Chat both ways in the call's channel.
    let channel = page_state(&page).await["channel"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(channel, link.channel_id);
    page.run(
        "document.getElementById('text').value = arguments[0];
         document.querySelector('#chat-form button').click();",
        json!(["hello from the browser"]),
    )
    .await;
    let alice_rest = t.rest_for("alice").await;
    let deadline = tokio::time::Instant::now() + LIMIT;
    loop {
        let got = alice_rest
            .history(&channel, 20, None, Direction::Backwards)
            .await
            .unwrap();
        if let Some(m) = got
            .messages
            .iter()
            .find(|m| m.text == "hello from the browser")
        {
            assert!(m.sender.starts_with("guest_"), "{m:?}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the guest's message never reached the channel"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    alice.send_message(&channel, "welcome, Gina").await.unwrap();
    wait_page(
        &page,
        "alice's message",
        "return document.getElementById('messages').textContent",
        |v| {
            let s = v.as_str().unwrap_or_default();
            s.contains("alice") && s.contains("welcome, Gina") && s.contains("Gina")
        },
    )
    .await;

    // The end of the call ends the guest's session; the link is void from then on.
    alice.hangup(&room).await.unwrap();
    bob.hangup(&room).await.unwrap();
    wait_page(
        &page,
        "the end of the call",
        "return window.parla.state().phase",
        |v| v == "ended",
    )
    .await;
    assert_eq!(text_of(&page, "status").await, "The call has ended.");
    pa.finish().await;
    pb.finish().await;

    page.goto(&link.url).await;
    press_join(&page, "Gina").await;
    let error = wait_page(
        &page,
        "the refusal",
        "return window.parla.state().error",
        |v| !v.is_null(),
    )
    .await;
    assert_eq!(error["code"], "invalid_access_link", "{error}");
    let shown = text_of(&page, "error").await;
    assert!(shown.contains("invalid_access_link"), "{shown}");
    assert_eq!(page_state(&page).await["phase"], "start");
    page.close().await;
}

/// alice calls bob (440 Hz and 660 Hz), who answers: both sides running, connected.
async fn call_of_alice_and_bob(
    t: &TestServer,
) -> (
    parla::client::Client,
    Party,
    parla::client::Client,
    Party,
    String,
) {
    let (alice, a) = t.client("alice").await;
    let (bob, mut b) = t.client("bob").await;
    let room = alice.dial(&["bob".into()]).await.unwrap().room_id;
    let pa = Party::start("alice", alice.clone(), a, &room, 440.0, false);
    b.wait_seen("ring", |e| matches!(e, Event::CallIncoming { .. }))
        .await;
    bob.answer(&room).await.unwrap();
    let pb = Party::start("bob", bob.clone(), b, &room, 660.0, false);
    pa.wait_state("connected", connected).await;
    pb.wait_hears(440.0).await;
    (alice, pa, bob, pb, room)
}

/// `parla join LINK --name Tess` with no account and no configuration: the guest hears
/// both parties (mixed), both hear the guest, and leaving ends only the guest's part.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_in_a_terminal_joins_by_link_hears_both_parties_and_is_heard() {
    let t = TestServer::start().await;
    t.users(&["alice", "bob"]).await;
    let (alice, pa, _bob, pb, room) = call_of_alice_and_bob(&t).await;
    let link = t
        .rest_for("alice")
        .await
        .create_link(&room, None)
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let recording = home.path().join("guest.wav");
    // No server or token configured: the link is all a guest has.
    let guest = parla_in(home.path())
        .args(["--json", "join", &link.url])
        .args(words(
            "--name Tess --tone 1000 --bind 127.0.0.1:0 --hangup-after 6 --record",
        ))
        .arg(&recording)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    for p in [&pa, &pb] {
        p.wait("the guest's 1000 Hz", || p.hears(1000.0) > 0.2)
            .await;
    }
    let out = succeeded("parla join", LIMIT, guest.wait_with_output()).await;
    assert_eq!(call_summary(&out)["answered"], true);
    // Somewhere in the recording (half a second at a time), once both connections were
    // up, the guest heard both parties at once.
    let heard = wav_channel(&recording, 1);
    let strength = |w: &[i16], hz| parla::media::audio::tone_strength(w, hz);
    let both = heard
        .windows(24_000)
        .step_by(4_800)
        .map(|w| strength(w, 440.0).min(strength(w, 660.0)))
        .fold(0.0, f64::max);
    assert!(
        both > 0.2,
        "the guest hears 440 Hz and 660 Hz together: {both}"
    );
    // The call goes on for its parties.
    pa.wait("the guest gone", || {
        pa.events().iter().rev().find_map(|e| match e {
            Event::Call { view } => Some(
                view.call
                    .participants
                    .iter()
                    .any(|q| q.guest && q.state == parla::proto::ParticipantState::Left),
            ),
            _ => None,
        }) == Some(true)
    })
    .await;
    assert!(pa.state().is_some_and(|s| connected(&s)));
    alice.hangup(&room).await.unwrap();
    pa.finish().await;
    pb.finish().await;
}
