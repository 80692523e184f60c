//! Calls between `parla call` / `parla answer` and a peer built on aiortc (PyPI, in the venv
//! `make test` sets up), which knows parla only through docs/protocol.md. Each case checks
//! the audio at both ends (frequency and level), and what the descriptions said.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::cli::{call_summary, parla, wav_channel as parla_wav, words};
use common::peer::{aiortc, assert_tone, directions, mono_wav, tone_while_silent};
use common::*;
use serde_json::Value;

const LIMIT: Duration = Duration::from_mins(1);

async fn setup() -> (TestServer, tempfile::TempDir) {
    let t = TestServer::start().await;
    t.users(&["alice", "bob"]).await;
    (t, tempfile::tempdir().unwrap())
}

/// No candidate or end of candidates ever came before the description it belongs to.
fn no_early_candidates(events: &[Value]) {
    assert!(
        !events
            .iter()
            .any(|v| v["event"] == "candidate_before_description"),
        "parla sent a candidate before its description: {events:#?}"
    );
}

/// parla (alice, with `parla_args`, which say when to hang up) calls the aiortc peer (bob),
/// which answers with `peer_args`. Returns parla's output, the peer's events and both
/// recordings.
async fn parla_calls_aiortc(
    t: &TestServer,
    home: &Path,
    peer_args: &str,
    parla_args: &str,
) -> (std::process::Output, Vec<Value>, Vec<i16>, Vec<i16>) {
    let heard_by_peer = home.join("peer.wav");
    let mut args = vec!["--role", "answer", "--tone", "880", "--record"];
    let heard = heard_by_peer.to_str().unwrap().to_owned();
    args.push(&heard);
    args.extend(words(peer_args));
    let peer = aiortc(&t.url(), &t.token("bob").await, &args);
    peer.wait_for("ready", LIMIT).await;
    let recording = home.join("parla.wav");
    let alice = parla(t, home, &t.token("alice").await)
        .args(words("--json call bob --tone 440 --bind 127.0.0.1:0"))
        .args(words(parla_args))
        .arg("--record")
        .arg(&recording)
        .stdout(Stdio::piped())
        .output();
    let alice = succeeded("parla call", LIMIT, alice).await;
    let events = peer.finish(LIMIT).await;
    no_early_candidates(&events);
    (
        alice,
        events,
        mono_wav(&heard_by_peer),
        parla_wav(&recording, 1),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parla_calls_aiortc_and_audio_crosses_both_ways() {
    let (t, home) = setup().await;
    let (alice, events, heard_by_peer, heard_by_parla) =
        parla_calls_aiortc(&t, home.path(), "", "--hangup-after 3").await;
    assert_eq!(call_summary(&alice)["answered"], true);
    assert!(events
        .iter()
        .any(|v| v["event"] == "connection" && v["state"] == "connected"));
    assert_tone("aiortc hears parla's 440 Hz", &heard_by_peer, 440.0);
    assert_tone("parla hears aiortc's 880 Hz", &heard_by_parla, 880.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aiortc_calls_parla_and_audio_crosses_both_ways() {
    let (t, home) = setup().await;
    let recording = home.path().join("parla.wav");
    let alice = parla(&t, home.path(), &t.token("alice").await)
        .args(words(
            "--json answer --tone 440 --bind 127.0.0.1:0 --record",
        ))
        .arg(&recording)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    wait_online(&t, "bob", "alice").await;
    let heard = home.path().join("peer.wav");
    let peer = aiortc(
        &t.url(),
        &t.token("bob").await,
        &[
            "--role",
            "call",
            "--callee",
            "alice",
            "--tone",
            "880",
            "--record",
            heard.to_str().unwrap(),
            "--step",
            "3:hangup",
        ],
    );
    let events = peer.finish(LIMIT).await;
    no_early_candidates(&events);
    let alice = succeeded("parla answer", LIMIT, alice.wait_with_output()).await;
    assert_eq!(call_summary(&alice)["end_reason"], "hang_up");
    let (heard_by_peer, heard_by_parla) = (mono_wav(&heard), parla_wav(&recording, 1));
    assert_tone("aiortc hears parla", &heard_by_peer, 440.0);
    assert_tone("parla hears aiortc", &heard_by_parla, 880.0);
}

/// The aiortc peer (bob) calls `parla answer` (alice) with `peer_args`, and ends the call
/// itself. Returns parla's output, the peer's events, what the peer heard, and parla's
/// recording (what it sent, what it heard).
async fn aiortc_calls_parla(
    t: &TestServer,
    home: &Path,
    peer_args: &str,
) -> (
    std::process::Output,
    Vec<Value>,
    Vec<i16>,
    Vec<i16>,
    Vec<i16>,
) {
    let recording = home.join("parla.wav");
    let alice = parla(t, home, &t.token("alice").await)
        .args(words(
            "--json answer --tone 440 --bind 127.0.0.1:0 --record",
        ))
        .arg(&recording)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    wait_online(t, "bob", "alice").await;
    let heard = home.join("peer.wav");
    let mut args = vec![
        "--role", "call", "--callee", "alice", "--tone", "880", "--record",
    ];
    let heard_arg = heard.to_str().unwrap().to_owned();
    args.push(&heard_arg);
    args.extend(words(peer_args));
    let peer = aiortc(&t.url(), &t.token("bob").await, &args);
    let events = peer.finish(LIMIT).await;
    no_early_candidates(&events);
    let alice = succeeded("parla answer", LIMIT, alice.wait_with_output()).await;
    (
        alice,
        events,
        mono_wav(&heard),
        parla_wav(&recording, 0),
        parla_wav(&recording, 1),
    )
}

fn answers_received(events: &[Value]) -> Vec<Value> {
    events
        .iter()
        .filter(|v| v["event"] == "answer_received")
        .cloned()
        .collect()
}

/// aiortc holds with `sendonly` (with hold music), then resumes: parla answers `recvonly`,
/// plays the hold music, sends nothing meanwhile, and sends again after `sendrecv`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aiortc_holds_with_music_and_resumes() {
    let (t, home) = setup().await;
    let (alice, events, heard_by_peer, sent_by_parla, heard_by_parla) = aiortc_calls_parla(
        &t,
        home.path(),
        "--step 1.5:sendonly --step 2:sendrecv --step 2.5:hangup",
    )
    .await;
    assert_eq!(call_summary(&alice)["end_reason"], "hang_up");
    let answers = answers_received(&events);
    assert_eq!(
        directions(&answers),
        ["sendrecv", "recvonly", "sendrecv"],
        "{answers:#?}"
    );
    assert!(
        tone_while_silent(&heard_by_parla, 880.0, &sent_by_parla),
        "parla plays the hold music while it sends nothing"
    );
    assert_tone("aiortc hears parla after the resume", &heard_by_peer, 440.0);
    assert_tone(
        "parla hears aiortc after the resume",
        &heard_by_parla,
        880.0,
    );
}

/// A hold with `inactive`, then `sendrecv`: answered `inactive` then `sendrecv`, and parla's
/// audio comes back (it used to stay `recvonly` for ever).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aiortc_holds_inactive_and_resumes() {
    let (t, home) = setup().await;
    let (_alice, events, heard_by_peer, _, heard_by_parla) = aiortc_calls_parla(
        &t,
        home.path(),
        "--step 1.5:inactive --step 2:sendrecv --step 2.5:hangup",
    )
    .await;
    let answers = answers_received(&events);
    assert_eq!(
        directions(&answers),
        ["sendrecv", "inactive", "sendrecv"],
        "{answers:#?}"
    );
    assert_tone("parla sends again", &heard_by_peer, 440.0);
    assert_tone("and hears again", &heard_by_parla, 880.0);
}

/// The side that did not place the call re-offers (hold with music, then resume): parla
/// answers `recvonly` then `sendrecv` with the payload numbers of each offer (aiortc
/// renumbers Opus in its re-offers), plays the hold music, and hears the peer again after.
/// (aiortc's receiver keeps the numbers of its first exchange, so what parla sends after
/// the renumbering is checked against Chromium, which keeps its numbers.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reoffers_from_the_side_that_did_not_place_the_call_are_answered() {
    let (t, home) = setup().await;
    let recording = home.path().join("parla.wav");
    let (_alice, events, _, heard_by_parla) = parla_calls_aiortc(
        &t,
        home.path(),
        "--step 1.5:sendonly --step 2:sendrecv",
        "--hangup-after 6",
    )
    .await;
    let offers: Vec<&Value> = events
        .iter()
        .filter(|v| v["event"] == "offer_sent")
        .collect();
    let answers = answers_received(&events);
    assert_eq!(
        directions(&answers),
        ["recvonly", "sendrecv"],
        "{answers:#?}"
    );
    for (offer, answer) in offers.iter().zip(&answers) {
        let formats = |v: &Value| -> Vec<String> {
            let sdp = v["sdp"].as_str().unwrap();
            let m = sdp.lines().find(|l| l.starts_with("m=audio")).unwrap();
            m.split_whitespace().skip(3).map(str::to_owned).collect()
        };
        let (offered, answered) = (formats(offer), formats(answer));
        assert!(
            answered.iter().all(|pt| offered.contains(pt)),
            "the answer's payload types {answered:?} come from the offer's {offered:?}"
        );
    }
    let sent_by_parla = parla_wav(&recording, 0);
    assert!(
        tone_while_silent(&heard_by_parla, 880.0, &sent_by_parla),
        "parla plays the hold music while it sends nothing"
    );
    assert_tone(
        "parla hears aiortc after the resume",
        &heard_by_parla,
        880.0,
    );
}

/// An answer whose candidates all follow it, one `candidate` signal each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_answer_connects() {
    let (t, home) = setup().await;
    let (alice, _events, heard_by_peer, heard_by_parla) =
        parla_calls_aiortc(&t, home.path(), "--trickle", "--hangup-after 3").await;
    assert_eq!(call_summary(&alice)["answered"], true);
    assert_tone("heard_by_peer", &heard_by_peer, 440.0);
    assert_tone("heard_by_parla", &heard_by_parla, 880.0);
}

/// An offer with nothing parla can use (G.722 only): the audio is rejected and the call
/// ends for both with `incompatible_media`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_without_a_common_codec_ends_the_call_as_incompatible() {
    let (t, home) = setup().await;
    let alice = parla(&t, home.path(), &t.token("alice").await)
        .args(words("--json answer --bind 127.0.0.1:0"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_online(&t, "bob", "alice").await;
    let peer = aiortc(
        &t.url(),
        &t.token("bob").await,
        &words("--role call --callee alice --codecs G722 --wait 20"),
    );
    let events = peer.finish(LIMIT).await;
    let ended: Vec<&Value> = events
        .iter()
        .filter(|v| v["event"] == "call_ended")
        .collect();
    assert_eq!(
        ended.first().map(|v| &v["reason"]),
        Some(&Value::from("incompatible_media")),
        "{events:#?}"
    );
    let answer = events
        .iter()
        .find(|v| v["event"] == "answer_received")
        .expect("no answer");
    assert!(
        answer["sdp"].as_str().unwrap().contains("m=audio 0 "),
        "{answer}"
    );
    let out = tokio::time::timeout(LIMIT, alice.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("no audio codec in common"), "{stderr}");
}

/// A description that is not SDP ends that call with `error`; `parla answer --auto` goes on
/// and answers the next call, whose audio flows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_sdp_ends_one_call_and_answer_auto_takes_the_next() {
    let (t, home) = setup().await;
    let mut alice = parla(&t, home.path(), &t.token("alice").await)
        .args(words("--json answer --auto --tone 440 --bind 127.0.0.1:0"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_online(&t, "bob", "alice").await;
    let token = t.token("bob").await;
    let bad = aiortc(
        &t.url(),
        &token,
        &[
            "--role", "call", "--callee", "alice", "--first", "garbage", "--wait", "20",
        ],
    );
    let events = bad.finish(LIMIT).await;
    let reason = events
        .iter()
        .find(|v| v["event"] == "call_ended")
        .map(|v| v["reason"].clone());
    assert_eq!(reason, Some(Value::from("error")), "{events:#?}");
    let heard = home.path().join("peer.wav");
    let good = aiortc(
        &t.url(),
        &token,
        &[
            "--role",
            "call",
            "--callee",
            "alice",
            "--record",
            heard.to_str().unwrap(),
            "--step",
            "3:hangup",
        ],
    );
    let events = good.finish(LIMIT).await;
    assert!(
        events
            .iter()
            .any(|v| v["event"] == "connection" && v["state"] == "connected"),
        "{events:#?}"
    );
    let heard = mono_wav(&heard);
    assert_tone("heard", &heard, 440.0);
    assert!(
        alice.try_wait().unwrap().is_none(),
        "parla answer --auto is still answering"
    );
    alice.kill().await.unwrap();
}

/// The peer's process dies mid-call: parla's call ends within the documented limit (the
/// server's grace period), and both users can call again at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_killed_mid_call_ends_it_and_both_can_call_again() {
    let (t, home) = setup().await;
    let (alice, _events, _, _) =
        parla_calls_aiortc(&t, home.path(), "--step 2:exit", "--hangup-after 60").await;
    let s = call_summary(&alice);
    // Not the 60 s hang-up: the server's grace period ended it.
    assert_eq!(s["end_reason"], "connection_lost", "{s}");
    let (alice, _, heard_by_peer, _) =
        parla_calls_aiortc(&t, home.path(), "", "--hangup-after 2").await;
    assert_eq!(call_summary(&alice)["answered"], true);
    assert_tone("heard_by_peer", &heard_by_peer, 440.0);
}

/// A peer with G.711 only (a gateway, an old phone), μ-law calling and A-law called: the
/// call uses it, with audio both ways.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g711_only_peers_are_heard_both_ways() {
    let (t, home) = setup().await;
    let (_alice, events, heard_by_peer, _, heard_by_parla) =
        aiortc_calls_parla(&t, home.path(), "--codecs PCMU --step 3:hangup").await;
    let answer = answers_received(&events).remove(0);
    let m = answer["sdp"]
        .as_str()
        .unwrap()
        .lines()
        .find(|l| l.starts_with("m=audio"))
        .unwrap()
        .to_owned();
    assert!(m.ends_with(" 0"), "PCMU only: {m}");
    assert_tone("aiortc hears parla over PCMU", &heard_by_peer, 440.0);
    assert_tone("parla hears aiortc over PCMU", &heard_by_parla, 880.0);

    let (alice, events, heard_by_peer, heard_by_parla) =
        parla_calls_aiortc(&t, home.path(), "--codecs PCMA", "--hangup-after 3").await;
    assert_eq!(call_summary(&alice)["answered"], true);
    let sent = events.iter().find(|v| v["event"] == "answer_sent").unwrap();
    assert!(
        sent["sdp"].as_str().unwrap().contains("PCMA/8000"),
        "{sent}"
    );
    assert_tone("aiortc hears parla over PCMA", &heard_by_peer, 440.0);
    assert_tone("parla hears aiortc over PCMA", &heard_by_parla, 880.0);
}

/// An answer that is not SDP: `parla call` hangs the call up (`error`, which the peer sees)
/// and exits with the media error, instead of leaving the call up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbage_answer_ends_the_call_for_both() {
    let (t, home) = setup().await;
    let peer = aiortc(
        &t.url(),
        &t.token("bob").await,
        &words("--role answer --first garbage --wait 20"),
    );
    peer.wait_for("ready", LIMIT).await;
    let alice = parla(&t, home.path(), &t.token("alice").await)
        .args(words("--json call bob --bind 127.0.0.1:0"))
        .output();
    let alice = tokio::time::timeout(LIMIT, alice).await.unwrap().unwrap();
    let stderr = String::from_utf8_lossy(&alice.stderr);
    assert_eq!(alice.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("media_error"), "{stderr}");
    let events = peer.finish(LIMIT).await;
    let reason = events
        .iter()
        .find(|v| v["event"] == "call_ended")
        .map(|v| v["reason"].clone());
    assert_eq!(reason, Some(Value::from("error")), "{events:#?}");
}

/// parla's RFC 4733 digits, as a receiver nobody here wrote sees them: at 48 kHz beside
/// Opus when the peer takes that, at 8 kHz (durations in its units) when that is all it
/// takes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parla_sends_rfc4733_digits_at_either_clock_rate() {
    let (t, home) = setup().await;
    for rate in [48_000_u64, 8_000] {
        let peer = aiortc(
            &t.url(),
            &t.token("bob").await,
            &words(&format!(
                "--role answer --events {rate} --codecs opus,telephone-event --wait 20"
            )),
        );
        peer.wait_for("ready", LIMIT).await;
        let alice = parla(&t, home.path(), &t.token("alice").await)
            .args(words(
                "--json call bob --dtmf 42 --hangup-after 3 --bind 127.0.0.1:0",
            ))
            .output();
        let alice = succeeded("parla call", LIMIT, alice).await;
        assert_eq!(call_summary(&alice)["dtmf_sent_as"], "rfc4733");
        let events = peer.finish(LIMIT).await;
        let got: Vec<&Value> = events
            .iter()
            .filter(|v| v["event"] == "telephone_event")
            .collect();
        let digits: Vec<u64> = got.iter().filter_map(|v| v["code"].as_u64()).collect();
        assert_eq!(digits, [4, 2], "at {rate} Hz: {events:#?}");
        for e in &got {
            assert_eq!(e["clock"], rate, "{e}");
            // 120 ms digits, counted in the event's own clock (±one 20 ms packet).
            let d = e["duration"].as_u64().unwrap();
            let want = rate * 120 / 1000;
            assert!(d.abs_diff(want) <= rate / 50, "{d} units at {rate} Hz");
        }
    }
}

/// DTMF as tones in the audio, both ways: parla hears the digits aiortc plays, and parla's
/// in-band digits are in what aiortc heard.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inband_dtmf_crosses_both_ways() {
    let (t, home) = setup().await;
    let (alice, _events, heard_by_peer, _) = parla_calls_aiortc(
        &t,
        home.path(),
        "--dtmf-tones 73",
        "--hangup-after 5 --dtmf ,59 --dtmf-inband",
    )
    .await;
    assert_eq!(call_summary(&alice)["dtmf_sent_as"], "inband");
    let heard_by_parla: String = common::cli::json_lines(&alice.stdout)
        .iter()
        .filter(|v| v["event"] == "dtmf")
        .filter_map(|v| v["digit"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(heard_by_parla, "73");
    let mut detector = parla::media::dtmf::DtmfDetector::default();
    let in_peer: String = heard_by_peer
        .chunks_exact(960)
        .filter_map(|f| detector.feed(f))
        .collect();
    assert_eq!(in_peer, "59", "parla's in-band digits in what aiortc heard");
}

/// parla holds (with `parla ctl hold`, offering `sendonly`) and resumes: the peer gets the
/// re-offers it expects and hears silence, then parla again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parla_holds_and_resumes_a_call_with_aiortc() {
    let (t, home) = setup().await;
    let alice = parla(&t, home.path(), &t.token("alice").await)
        .args(words("--json answer --tone 440 --bind 127.0.0.1:0"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    wait_online(&t, "bob", "alice").await;
    let heard = home.path().join("peer.wav");
    let peer = aiortc(
        &t.url(),
        &t.token("bob").await,
        &words(&format!(
            "--role call --callee alice --record {} --step 6:hangup",
            heard.display()
        )),
    );
    peer.wait_for("connection", LIMIT).await;
    let ctl = |what: &'static str| {
        let mut c = parla(&t, home.path(), "");
        c.args(["ctl", what]);
        c
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    succeeded("parla ctl hold", LIMIT, ctl("hold").output()).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    succeeded("parla ctl resume", LIMIT, ctl("resume").output()).await;
    let events = peer.finish(LIMIT).await;
    succeeded("parla answer", LIMIT, alice.wait_with_output()).await;
    let offers: Vec<Value> = events
        .iter()
        .filter(|v| v["event"] == "offer_received")
        .cloned()
        .collect();
    assert_eq!(directions(&offers), ["sendonly", "sendrecv"], "{offers:#?}");
    let sent: Vec<Value> = events
        .iter()
        .filter(|v| v["event"] == "answer_sent")
        .cloned()
        .collect();
    assert_eq!(directions(&sent), ["recvonly", "sendrecv"]);
    let heard = mono_wav(&heard);
    let start = 48_000 * 3 / 2;
    assert!(
        heard[start..]
            .chunks_exact(24_000)
            .any(|w| parla::media::audio::rms(w) < 50.0),
        "no silence while parla held the call"
    );
    assert_tone("aiortc hears parla after the resume", &heard, 440.0);
}
