//! `parla call` and `parla answer` as real processes: audio both ways into WAV files, DTMF
//! digits reported in order, hang-up after a delay, exit codes when nobody answers, and bad
//! input refused before anything is dialed.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::cli::{call_summary, json_lines, parla, wav_channel, words};
use common::peer::strength;
use common::*;
use serde_json::Value;

/// alice and bob on `t`, and a home directory for the commands.
async fn alice_and_bob(t: &TestServer) -> tempfile::TempDir {
    t.user("alice").await;
    t.user("bob").await;
    tempfile::tempdir().unwrap()
}

/// `parla answer` (as bob) ended well.
async fn bob_done(bob: tokio::process::Child) -> std::process::Output {
    succeeded(
        "parla answer",
        Duration::from_secs(30),
        bob.wait_with_output(),
    )
    .await
}

/// Runs `parla ARGS` to the end.
async fn run(t: &TestServer, home: &Path, token: &str, args: &[&str]) -> std::process::Output {
    parla(t, home, token).args(args).output().await.unwrap()
}

/// The command ended with exit status `code` and `text` on its standard error.
fn failed_with(out: &std::process::Output, code: i32, text: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    assert!(stderr.contains(text), "no `{text}` in: {stderr}");
}

/// Starts bob's `parla --json answer ARGS…` and waits until his device is online.
async fn bob_answers(t: &TestServer, home: &Path, args: &[&str]) -> tokio::process::Child {
    let child = parla(t, home, &t.token("bob").await)
        .args(["--json", "answer"])
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    wait_online(t, "alice", "bob").await;
    child
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_and_answer_exchange_audio_and_dtmf() {
    let t = TestServer::start().await;
    let home = alice_and_bob(&t).await;
    let (alice_wav, bob_wav) = (home.path().join("alice.wav"), home.path().join("bob.wav"));

    let bob_wav_arg = bob_wav.to_str().unwrap().to_owned();
    let bob = bob_answers(
        &t,
        home.path(),
        &[
            "--tone",
            "880",
            "--bind",
            "127.0.0.1:0",
            "--record",
            &bob_wav_arg,
        ],
    )
    .await;

    let alice = parla(&t, home.path(), &t.token("alice").await)
        .args(words(
            "--json call bob --tone 440 --dtmf 12#9 --hangup-after 2.5 --bind 127.0.0.1:0 --record",
        ))
        .arg(&alice_wav)
        .output();
    let alice = succeeded("parla call", Duration::from_mins(1), alice).await;
    let bob = bob_done(bob).await;

    let a = json_lines(&alice.stdout);
    let summary = call_summary(&alice);
    assert_eq!(summary["answered"], true);
    assert_eq!(summary["end_reason"], "hang_up");
    assert_eq!(
        summary["dtmf_sent_as"], "rfc4733",
        "both sides take telephone-event"
    );
    assert!(summary["duration_s"].as_f64().unwrap() >= 2.0, "{summary}");
    assert!(a
        .iter()
        .any(|v| v["event"] == "call_state" && v["state"]["state"] == "connected"));

    let b = json_lines(&bob.stdout);
    let digits: String = b
        .iter()
        .filter(|v| v["event"] == "dtmf")
        .map(|v| v["digit"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(digits, "12#9");
    let bsum = b.iter().find(|v| v["event"] == "call_summary").unwrap();
    assert_eq!(bsum["dtmf_received"], "12#9");

    // Each recording holds both directions: its own tone left, the other's right. Look at
    // 60-85 % of it: past the DTMF at the start, clear of the hang-up at the end (where one
    // side may stop a little before the other).
    let tail = |s: Vec<i16>| s[s.len() * 6 / 10..s.len() * 85 / 100].to_vec();
    let heard_by_bob = wav_channel(&bob_wav, 1);
    assert!(
        heard_by_bob.len() > 48_000,
        "{} samples",
        heard_by_bob.len()
    );
    // Over 100 ms windows: a jitter buffer stretching time on a busy machine moves the
    // pitch by a fraction of a hertz.
    let strengths = [
        strength(&tail(heard_by_bob), 440.0),
        strength(&tail(wav_channel(&bob_wav, 0)), 880.0),
        strength(&tail(wav_channel(&alice_wav, 1)), 880.0),
        strength(&tail(wav_channel(&alice_wav, 0)), 440.0),
    ];
    assert!(
        strengths.iter().all(|s| *s > 0.5),
        "bob hears 440, bob says 880, alice hears 880, alice says 440: {strengths:?}; alice {a:#?}"
    );
}

/// DTMF as in-band tones, forced on the sending side, still arrives in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inband_dtmf_is_detected_in_the_audio() {
    let t = TestServer::start().await;
    let home = alice_and_bob(&t).await;
    let recording = home.path().join("bob-heard.wav");
    let bob = bob_answers(
        &t,
        home.path(),
        &[
            "--bind",
            "127.0.0.1:0",
            "--record",
            recording.to_str().unwrap(),
        ],
    )
    .await;
    let alice = parla(&t, home.path(), &t.token("alice").await)
        .args(words("--json call bob --audio null --dtmf 5*8D --dtmf-inband --hangup-after 2 --bind 127.0.0.1:0"))
        .output();
    let alice = succeeded("parla call", Duration::from_mins(1), alice).await;
    // Alice says how the digits went out: as tones in the audio, although both sides
    // could have used RFC 4733 events.
    let sent = call_summary(&alice);
    assert_eq!(sent["dtmf_sent_as"], "inband", "{sent}");
    let bob = bob_done(bob).await;
    let summary = call_summary(&bob);
    assert_eq!(summary["dtmf_received"], "5*8D");
    // And the digits are in what bob heard: a detector run over his recording (the
    // other side's channel, right) finds them, in order.
    let heard = wav_channel(&recording, 1);
    let mut detector = parla::media::dtmf::DtmfDetector::default();
    let found: String = heard
        .chunks(960)
        .filter_map(|frame| detector.feed(frame))
        .collect();
    assert_eq!(found, "5*8D", "digits in the recorded audio");
}

#[tokio::test]
async fn unanswered_calls_and_bad_input_exit_with_codes() {
    let t = TestServer::start_with(|c| c.ring_timeout = Duration::from_secs(1)).await;
    let home = alice_and_bob(&t).await;
    let token = t.token("alice").await;

    let args = "--json call bob --audio null --bind 127.0.0.1:0";
    let out = run(&t, home.path(), &token, &words(args)).await;
    failed_with(&out, 5, "timeout");
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["error"]["code"], "timeout");

    let out = run(&t, home.path(), &token, &words("call nobody --audio null")).await;
    failed_with(&out, 5, "user_not_found");
    let out = run(&t, home.path(), &token, &["call", "bob", "--dtmf", "12x"]).await;
    failed_with(&out, 2, "not a DTMF digit");

    let broken = home.path().join("broken.wav");
    std::fs::write(&broken, b"this is not audio").unwrap();
    for file in [broken, home.path().join("missing.wav")] {
        let file = file.to_string_lossy().into_owned();
        let out = run(&t, home.path(), &token, &["call", "bob", "--play", &file]).await;
        failed_with(&out, 2, "audio_error");
    }
    // Nothing was dialed by the refused commands: bob has no call ringing.
    let (_bob, mut b) = t.client("bob").await;
    let ev = b.drain_for(Duration::from_millis(300)).await;
    assert!(!ev
        .iter()
        .any(|e| matches!(e, parla::client::Event::CallIncoming { .. })));
}

/// The sound-card path end to end on ALSA's `null` device where it exists (capture gives
/// silence, playback discards), and the errors and fallbacks around it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_device_backend_runs_a_call_and_reports_missing_devices() {
    let t = TestServer::start().await;
    let home = alice_and_bob(&t).await;
    let token = t.token("alice").await;

    // A device asked for by name that does not exist: a clear error, nothing dialed.
    let args = words("call bob --audio device --input no-such-microphone");
    let out = run(&t, home.path(), &token, &args).await;
    failed_with(&out, 2, "device_not_found");

    let listed = run(&t, home.path(), &token, &["--json", "devices"]).await;
    assert!(listed.status.success());
    let devices: Vec<serde_json::Value> = serde_json::from_slice(&listed.stdout).unwrap();
    // ALSA's `null` device (there wherever alsa-lib is, which the build installs) is a
    // real device to cpal: the call below goes through the device code, callbacks and
    // rings included, not through the fallback.
    assert!(
        devices
            .iter()
            .any(|d| d["id"] == "alsa:null" && d["input"] == true && d["output"] == true),
        "ALSA's null device is not listed: {devices:?}"
    );
    let device_args = vec!["--input", "alsa:null", "--output", "alsa:null"];

    let bob = bob_answers(&t, home.path(), &["--tone", "440", "--bind", "127.0.0.1:0"]).await;
    let mut args = vec![
        "--json",
        "call",
        "bob",
        "--audio",
        "device",
        "--hangup-after",
        "2",
        "--bind",
        "127.0.0.1:0",
    ];
    args.extend(device_args);
    let alice = parla(&t, home.path(), &token).args(&args).output();
    let alice = succeeded("parla call", Duration::from_mins(1), alice).await;
    let lines = json_lines(&alice.stdout);
    let notice = lines
        .iter()
        .find(|v| v["event"] == "notice")
        .expect("no audio notice");
    let said = notice["message"].as_str().unwrap();
    assert!(
        said.starts_with("audio: ") && !said.contains("null (no sound"),
        "the device was not opened: {notice}"
    );
    let summary = lines.iter().find(|v| v["event"] == "call_summary").unwrap();
    assert_eq!(summary["answered"], true);
    assert!(
        summary["stats"]["frames_sent"].as_u64().unwrap() > 50,
        "{summary}"
    );
    assert!(
        summary["stats"]["frames_played"].as_u64().unwrap() > 50,
        "{summary}"
    );
    bob_done(bob).await;
}

/// Sends `signal` (`TERM`, `KILL`) to a child process.
fn signal_child(child: &tokio::process::Child, signal: &str) {
    let pid = child.id().unwrap().to_string();
    let sent = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// alice calls bob, who answers, for a second; the command succeeded.
async fn alice_calls_for_a_second(t: &TestServer, home: &Path) -> std::process::Output {
    let out = run(
        t,
        home,
        &t.token("alice").await,
        &words("--json call bob --hangup-after 1 --bind 127.0.0.1:0"),
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Starts alice's `parla --json call bob` and waits until it reports the call connected.
async fn alice_in_call(t: &TestServer, home: &Path) -> tokio::process::Child {
    use tokio::io::AsyncBufReadExt;
    let mut alice = parla(t, home, &t.token("alice").await)
        .args(words("--json call bob --bind 127.0.0.1:0"))
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(alice.stdout.take().unwrap()).lines();
    let connected = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            if v["event"] == "call_state" && v["state"]["state"] == "connected" {
                return;
            }
        }
        panic!("parla call ended before the call connected");
    };
    tokio::time::timeout(Duration::from_secs(30), connected)
        .await
        .expect("the call never connected");
    // Keep reading so the process never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    alice
}

/// A caller stopped by SIGTERM hangs up first; one killed outright leaves the call when
/// the server's grace period passes. Either way the other side sees the end, and both can
/// call again straight away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_terminated_or_killed_mid_call_ends_it_and_nobody_stays_busy() {
    let t = TestServer::start().await;
    let home = alice_and_bob(&t).await;
    for (signal, reason) in [("TERM", "hang_up"), ("KILL", "connection_lost")] {
        let bob = bob_answers(&t, home.path(), &["--bind", "127.0.0.1:0"]).await;
        let alice = alice_in_call(&t, home.path()).await;
        signal_child(&alice, signal);
        let bob = bob_done(bob).await;
        assert_eq!(
            call_summary(&bob)["end_reason"],
            reason,
            "after signal {signal}"
        );
        drop(alice);
    }
    // Nobody is busy: a new call from the same installation connects and ends normally.
    let bob = bob_answers(&t, home.path(), &["--bind", "127.0.0.1:0"]).await;
    alice_calls_for_a_second(&t, home.path()).await;
    assert_eq!(call_summary(&bob_done(bob).await)["end_reason"], "hang_up");
}

/// A parla killed in a call and started again at once, on the same installation, is the
/// same device: the server still has it in the call (within the grace period), and the new
/// process, which has no media for it, leaves that call at once (`media_lost`) before it
/// places the next one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_parla_leaves_the_call_it_lost_and_calls_again() {
    let t = TestServer::start().await;
    let home = alice_and_bob(&t).await;
    let mut bob = parla(&t, home.path(), &t.token("bob").await)
        .args(words("--json answer --auto --bind 127.0.0.1:0"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    wait_online(&t, "alice", "bob").await;
    let alice = alice_in_call(&t, home.path()).await;
    signal_child(&alice, "KILL");
    drop(alice);
    let again = alice_calls_for_a_second(&t, home.path()).await;
    assert_eq!(call_summary(&again)["answered"], true);
    bob.kill().await.unwrap();
    let out = bob.wait_with_output().await.unwrap();
    let reasons: Vec<Value> = json_lines(&out.stdout)
        .into_iter()
        .filter(|v| v["event"] == "call_summary")
        .map(|v| v["end_reason"].clone())
        .collect();
    assert_eq!(reasons, ["media_lost", "hang_up"], "bob's calls ended so");
}
