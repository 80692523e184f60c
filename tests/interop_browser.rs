//! Calls between `parla call` / `parla answer` and headless Chromium, whose page
//! (`tests/peers/browser.html`) speaks parla's protocol as docs/protocol.md describes it,
//! with the browser's own WebRTC: its codecs and payload numbers, its trickle timing (every
//! candidate after the description), its re-offers and its DTLS checks.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::browser::{serve_page, Browser};
use common::cli::{call_summary, json_lines, parla, wav_channel as parla_wav, words};
use common::peer::assert_tone;
use common::*;
use serde_json::{json, Value};

const LIMIT: Duration = Duration::from_mins(1);

/// A browser signed in as `user`, on the page, with host candidates shown as addresses.
async fn browser(t: &TestServer, user: &str, tone: f64) -> (Browser, common::browser::Page) {
    browser_with(
        t,
        user,
        tone,
        &["--disable-features=WebRtcHideLocalIpsWithMdns"],
    )
    .await
}

/// The same, with these Chromium switches.
async fn browser_with(
    t: &TestServer,
    user: &str,
    tone: f64,
    switches: &[&str],
) -> (Browser, common::browser::Page) {
    let page = serve_page().await;
    let b = Browser::open(&page.url, switches).await;
    b.run(&format!("window.toneHz = {tone}"), json!([])).await;
    let ws = t.url().replacen("http", "ws", 1);
    let me = b
        .run(
            "return peer.connect(arguments[0], arguments[1], arguments[2])",
            json!([ws, t.token(user).await, "chromium"]),
        )
        .await;
    assert_eq!(me, user);
    (b, page)
}

/// Nothing the page got was refused, and no candidate came before its description.
async fn clean(b: &Browser) -> Vec<Value> {
    let events = b.events().await;
    for bad in ["signal_failed", "candidate_before_description", "error"] {
        assert!(
            !events.iter().any(|v| v["event"] == bad),
            "the browser reported `{bad}`: {events:#?}"
        );
    }
    events
}

async fn setup() -> (TestServer, tempfile::TempDir) {
    let t = TestServer::start().await;
    t.users(&["alice", "bob"]).await;
    (t, tempfile::tempdir().unwrap())
}

/// The browser as bob, answering calls, sending 880 Hz.
async fn browser_answering(t: &TestServer) -> (Browser, common::browser::Page) {
    let (b, page) = browser(t, "bob", 880.0).await;
    b.run("peer.answerCalls()", json!([])).await;
    (b, page)
}

/// alice's `parla --json call bob --tone 440 ARGS`, recording to `home/parla.wav`.
async fn alice_calls_bob(t: &TestServer, home: &Path, args: &str) -> tokio::process::Child {
    parla(t, home, &t.token("alice").await)
        .args(words(
            "--json call bob --tone 440 --bind 127.0.0.1:0 --record",
        ))
        .arg(home.join("parla.wav"))
        .args(words(args))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

/// alice's `parla --json answer --tone 440`, recording to `home/parla.wav`, online.
async fn alice_answers(t: &TestServer, home: &Path) -> tokio::process::Child {
    let child = parla(t, home, &t.token("alice").await)
        .args(words(
            "--json answer --tone 440 --bind 127.0.0.1:0 --record",
        ))
        .arg(home.join("parla.wav"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    wait_online(t, "bob", "alice").await;
    child
}

/// The DTMF digits a `--json` parla reported.
fn digits(out: &std::process::Output) -> String {
    json_lines(&out.stdout)
        .iter()
        .filter(|v| v["event"] == "dtmf")
        .filter_map(|v| v["digit"].as_str().map(str::to_owned))
        .collect()
}

/// The directions of the answers the browser received.
fn answer_directions(events: &[Value]) -> Vec<String> {
    let answers: Vec<Value> = events
        .iter()
        .filter(|v| v["event"] == "answer_received")
        .cloned()
        .collect();
    common::peer::directions(&answers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parla_calls_the_browser_and_audio_crosses_both_ways() {
    let (t, home) = setup().await;
    let (b, _page) = browser_answering(&t).await;
    let alice = alice_calls_bob(&t, home.path(), "--hangup-after 4").await;
    b.wait_hearing(440.0, LIMIT).await;
    let alice = succeeded("parla call", LIMIT, alice.wait_with_output()).await;
    assert_eq!(call_summary(&alice)["answered"], true);
    let heard = parla_wav(&home.path().join("parla.wav"), 1);
    assert_tone("parla hears the browser", &heard, 880.0);
    clean(&b).await;
    b.close().await;
}

/// The browser places the call; parla answers. Audio both ways, and the browser's DTMF
/// (RFC 4733, at the payload number the browser chose) reaches parla in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_calls_parla_with_audio_and_dtmf() {
    let (t, home) = setup().await;
    let alice = alice_answers(&t, home.path()).await;
    let (b, _page) = browser(&t, "bob", 880.0).await;
    b.run("peer.call('alice')", json!([])).await;
    b.wait_hearing(440.0, LIMIT).await;
    b.run("peer.dtmf('42#')", json!([])).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    b.run("peer.hangup()", json!([])).await;
    let alice = succeeded("parla answer", LIMIT, alice.wait_with_output()).await;
    assert_eq!(digits(&alice), "42#");
    let heard = parla_wav(&home.path().join("parla.wav"), 1);
    assert_tone("parla hears the browser", &heard, 880.0);
    clean(&b).await;
    b.close().await;
}

/// The side that did not place the call (the browser) holds with hold music, resumes, and
/// restarts ICE: parla's answers say `recvonly` then `sendrecv`, keep the DTLS roles (the
/// browser refuses a role change), parla plays the hold music, and audio flows again
/// after each step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_holds_resumes_and_restarts_ice_as_the_callee() {
    let (t, home) = setup().await;
    let (b, _page) = browser_answering(&t).await;
    let alice = alice_calls_bob(&t, home.path(), "--hangup-after 12").await;
    b.wait_hearing(440.0, LIMIT).await;
    b.run("return peer.hold('sendonly')", json!([])).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    b.run("return peer.hold('sendrecv')", json!([])).await;
    b.wait_hearing(440.0, LIMIT).await;
    let before: Value = b.run("return peer.stats()", json!([])).await;
    b.run("return peer.restartIce()", json!([])).await;
    // Audio keeps coming after the restart: more packets, the tone still heard.
    let deadline = tokio::time::Instant::now() + LIMIT;
    loop {
        let now: Value = b.run("return peer.stats()", json!([])).await;
        if now["inbound"]["packets"].as_u64()
            > before["inbound"]["packets"].as_u64().map(|n| n + 100)
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no audio after the ICE restart: {now}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.wait_hearing(440.0, LIMIT).await;
    b.run("peer.hangup()", json!([])).await;
    succeeded("parla call", LIMIT, alice.wait_with_output()).await;
    let events = clean(&b).await;
    assert_eq!(
        answer_directions(&events),
        ["recvonly", "sendrecv", "sendrecv"]
    );
    for a in events.iter().filter(|v| v["event"] == "answer_received") {
        assert!(
            a["sdp"].as_str().unwrap().contains("a=setup:passive"),
            "parla stays the DTLS server it was: {a}"
        );
    }
    let recording = home.path().join("parla.wav");
    assert!(
        common::peer::tone_while_silent(
            &parla_wav(&recording, 1),
            880.0,
            &parla_wav(&recording, 0)
        ),
        "parla plays the hold music while it sends nothing"
    );
    b.close().await;
}

/// The browser holds with `inactive`, then resumes: parla answers `inactive` and then sends
/// audio again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_holds_inactive_and_parla_sends_again() {
    let (t, home) = setup().await;
    let (b, _page) = browser_answering(&t).await;
    let alice = alice_calls_bob(&t, home.path(), "--hangup-after 8").await;
    b.wait_hearing(440.0, LIMIT).await;
    b.run("return peer.hold('inactive')", json!([])).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    b.run("return peer.hold('sendrecv')", json!([])).await;
    b.wait_hearing(440.0, LIMIT).await;
    b.run("peer.hangup()", json!([])).await;
    succeeded("parla call", LIMIT, alice.wait_with_output()).await;
    let events = clean(&b).await;
    assert_eq!(answer_directions(&events), ["inactive", "sendrecv"]);
    b.close().await;
}

/// The browser goes away mid-call (its process ends): parla's call ends with
/// `connection_lost` once the server's grace period has passed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_that_goes_away_ends_the_call() {
    let (t, home) = setup().await;
    let (b, page) = browser_answering(&t).await;
    let alice = alice_calls_bob(&t, home.path(), "--hangup-after 60").await;
    b.wait_hearing(440.0, LIMIT).await;
    b.close().await;
    drop(page);
    let alice = succeeded("parla call", LIMIT, alice.wait_with_output()).await;
    let summary = call_summary(&alice);
    assert_eq!(summary["end_reason"], "connection_lost", "{summary}");
}

/// A browser limited to G.711 μ-law (and telephone-event): the call uses PCMU, the tone
/// crosses both ways, and the browser's digits arrive as telephone-event at 8 kHz.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pcmu_only_browser_talks_and_dials_digits_at_8khz() {
    let (t, home) = setup().await;
    let alice = alice_answers(&t, home.path()).await;
    let (b, _page) = browser(&t, "bob", 880.0).await;
    b.run("window.codecs = ['pcmu', 'telephone-event']", json!([]))
        .await;
    b.run("peer.call('alice')", json!([])).await;
    b.wait_hearing(440.0, LIMIT).await;
    b.run("peer.dtmf('7*')", json!([])).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    b.run("peer.hangup()", json!([])).await;
    let alice = succeeded("parla answer", LIMIT, alice.wait_with_output()).await;
    let events = clean(&b).await;
    let offer = events.iter().find(|v| v["event"] == "offer_sent").unwrap();
    let sdp = offer["sdp"].as_str().unwrap();
    assert!(!sdp.contains("opus"), "{sdp}");
    assert!(sdp.contains("telephone-event/8000"), "{sdp}");
    assert_eq!(digits(&alice), "7*");
    let heard = parla_wav(&home.path().join("parla.wav"), 1);
    assert_tone("parla hears the browser over PCMU", &heard, 880.0);
    b.close().await;
}

/// A page may call the REST API from an origin the operator allows, and only then: the
/// browser itself enforces it (preflight, `Access-Control-Allow-Origin`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_an_allowed_origin_reads_the_rest_api() {
    let page = serve_page().await;
    let origin = page.url.trim_end_matches('/').to_owned();
    for allowed in [true, false] {
        let t = TestServer::start_with(|c| {
            if allowed {
                c.cors_origins = vec![origin.clone()];
            }
        })
        .await;
        t.users(&["alice", "bob"]).await;
        let b = Browser::open(&page.url, &[]).await;
        let got = b
            .run(
                "return fetch(arguments[0] + '/v1/channels', {method: 'POST', headers: {authorization: 'Bearer ' + arguments[1], 'content-type': 'application/json'}, body: JSON.stringify({participants: ['alice']})}).then(r => r.status).catch(e => 'refused: ' + e)",
                json!([t.url(), t.token("bob").await]),
            )
            .await;
        if allowed {
            assert_eq!(got, 201, "{got}");
        } else {
            assert!(
                got.as_str().is_some_and(|s| s.starts_with("refused")),
                "{got}"
            );
        }
        b.close().await;
    }
}

/// A browser that hides its addresses behind mDNS names (its default): parla, which does
/// not resolve them, drops those candidates and still connects, through the addresses the
/// browser's own checks come from.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_hiding_its_addresses_behind_mdns_still_connects() {
    let (t, home) = setup().await;
    let (b, _page) = browser_with(&t, "bob", 880.0, &[]).await;
    b.run("peer.answerCalls()", json!([])).await;
    let recording = home.path().join("parla.wav");
    let alice = alice_calls_bob(&t, home.path(), "--hangup-after 3").await;
    b.wait_hearing(440.0, LIMIT).await;
    succeeded("parla call", LIMIT, alice.wait_with_output()).await;
    assert_tone("parla hears the browser", &parla_wav(&recording, 1), 880.0);
    let sent: Vec<String> = b
        .run("return peer.candidatesSent()", json!([]))
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect();
    assert!(
        !sent.is_empty() && sent.iter().all(|c| c.contains(".local ")),
        "the browser hid every address: {sent:?}"
    );
    b.close().await;
}
