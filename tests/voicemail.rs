//! Voice messages: left by the caller of an unanswered call, announced in the direct channel,
//! counted by the indicator on every device of the callee, played back, marked heard and
//! deleted; kept across a restart; refused with their codes when the call was answered, the
//! file is not Ogg Opus, cut short, too long or too large, or the mailbox is full; and an
//! upload killed halfway leaves nothing. `parla call --voicemail` and `parla voicemail`
//! from the command line. Real server and clients.

// Test fixtures: samples of a tone, figures of a few seconds.
#![allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]

mod common;

use std::time::Duration;

use common::cli::{json_lines, parla};
use common::*;
use parla::client::{Client, Event, Rest};
use parla::media::voicemail::decode;
use parla::proto::ogg::OggOpusWriter;
use parla::proto::{DeclineReason, ErrorCode, VoicemailChange};
use parla::server::{Server, ServerConfig};

/// The tone's frequency, from zero crossings after the first 100 ms.
fn frequency(pcm: &[i16]) -> f64 {
    let pcm = &pcm[4800..];
    let crossings = pcm.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
    crossings as f64 / 2.0 / (pcm.len() as f64 / 48_000.0)
}

/// Alice calls bob, who declines it (`reason`); returns the room once alice saw it end.
async fn declined_call(
    alice: &Client,
    a: &mut Events,
    bob: &Client,
    b: &mut Events,
    reason: DeclineReason,
) -> String {
    let room = alice.dial(&["bob".into()]).await.unwrap().room_id;
    b.wait_for(
        "bob rings",
        |e| matches!(e, Event::CallIncoming { call } if call.room_id == room),
    )
    .await;
    bob.decline(&room, reason).await.unwrap();
    a.wait_for("alice sees it end", |e| ended(e, &room)).await;
    room
}

/// The call `room` ended, as this device sees it.
fn ended(e: &Event, room: &str) -> bool {
    matches!(e, Event::Call { view }
        if view.call.room_id == room
            && matches!(view.state, parla::client::call::CallState::Ended { .. }))
}

fn code(e: &parla::client::ClientError) -> Option<ErrorCode> {
    e.api_code()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_left_after_an_unanswered_call_is_announced_played_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let start = || async {
        let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().into());
        config.api_key = Some(API_KEY.into());
        Server::start(config).await.unwrap()
    };
    let server = start().await;
    let url = server.url();
    let admin = Rest::new(&url).unwrap().with_api_key(API_KEY);
    for u in ["alice", "bob", "carol"] {
        admin.admin_create_user(u, None).await.unwrap();
    }
    let client = |u: &str| {
        start_client(parla::client::ClientConfig::new(
            url.clone(),
            admin_tokens(&url, u),
        ))
    };
    let (alice, mut a) = client("alice").await;
    let (bob, mut b) = client("bob").await;
    let (bob2, mut b2) = client("bob").await;
    let (carol, mut c) = client("carol").await;

    let room = declined_call(&alice, &mut a, &bob, &mut b, DeclineReason::DoNotDisturb).await;
    let left = alice
        .rest()
        .leave_voicemail(&room, tone_message(440.0, 2000))
        .await
        .unwrap();
    assert_eq!(left.from, "alice");
    assert_eq!(left.room_id, room);
    assert_eq!(left.duration_ms, 2000);
    assert!(!left.heard);
    let announced = left.message_id.clone().expect("announced in the channel");

    // Every device of bob's hears of it, with the indicator.
    for (who, events) in [("bob", &mut b), ("bob's other device", &mut b2)] {
        let Event::Voicemail {
            change: VoicemailChange::Added,
            voicemail: Some(v),
            indicator,
            ..
        } = events
            .wait_for(who, |e| matches!(e, Event::Voicemail { .. }))
            .await
        else {
            panic!("{who}: not an added message")
        };
        assert_eq!(v.voicemail_id, left.voicemail_id);
        assert_eq!((indicator.total_voice, indicator.unheard_voice), (1, 1));
        assert!(indicator.new_messages_waiting);
    }
    // The announcement in alice and bob's channel, pointing at it.
    let Event::Message { message } = b
        .wait_seen(
            "the announcement",
            |e| matches!(e, Event::Message { message } if message.message_id == announced),
        )
        .await
    else {
        unreachable!()
    };
    assert_eq!(message.sender, "alice");
    assert_eq!(
        message.voicemail_id.as_deref(),
        Some(left.voicemail_id.as_str())
    );
    assert_eq!(message.text, "Voice message, 0:02");

    // A second message for the same call, one by the callee, and one after an answered
    // call are all refused.
    let again = alice
        .rest()
        .leave_voicemail(&room, tone_message(440.0, 1000))
        .await
        .unwrap_err();
    assert_eq!(
        code(&again),
        Some(ErrorCode::VoicemailNotAllowed),
        "{again}"
    );
    let callee = bob
        .rest()
        .leave_voicemail(&room, tone_message(440.0, 1000))
        .await
        .unwrap_err();
    assert_eq!(code(&callee), Some(ErrorCode::VoicemailNotAllowed));
    let talked = alice.dial(&["carol".into()]).await.unwrap().room_id;
    c.wait_for("carol rings", |e| matches!(e, Event::CallIncoming { .. }))
        .await;
    carol.answer(&talked).await.unwrap();
    carol.hangup(&talked).await.unwrap();
    a.wait_for("the talk ended", |e| ended(e, &talked)).await;
    let answered = alice
        .rest()
        .leave_voicemail(&talked, tone_message(440.0, 1000))
        .await
        .unwrap_err();
    assert_eq!(code(&answered), Some(ErrorCode::VoicemailNotAllowed));
    let nowhere = alice
        .rest()
        .leave_voicemail("call_nope", tone_message(440.0, 1000))
        .await
        .unwrap_err();
    assert_eq!(code(&nowhere), Some(ErrorCode::VoicemailNotAllowed));

    // Nobody but bob has it.
    assert!(carol
        .rest()
        .voicemails()
        .await
        .unwrap()
        .voicemails
        .is_empty());
    let foreign = carol
        .rest()
        .voicemail_audio(&left.voicemail_id)
        .await
        .unwrap_err();
    assert_eq!(code(&foreign), Some(ErrorCode::VoicemailNotFound));
    let odd = bob
        .rest()
        .voicemail_audio("..%2f..%2fparla")
        .await
        .unwrap_err();
    assert_eq!(code(&odd), Some(ErrorCode::VoicemailNotFound));

    // Across a restart it is all there, audio included.
    drop((alice, bob, carol, bob2));
    server.shutdown().await;
    let server = start().await;
    let bob = Rest::new(&server.url())
        .unwrap()
        .with_token(admin_token(&server.url(), "bob").await);
    let mailbox = bob.voicemails().await.unwrap();
    assert_eq!(mailbox.voicemails.len(), 1);
    assert_eq!(mailbox.voicemails[0].voicemail_id, left.voicemail_id);
    assert_eq!(
        mailbox.voicemails[0].message_id.as_deref(),
        Some(announced.as_str())
    );
    assert_eq!(mailbox.indicator.unheard_voice, 1);
    let pcm = decode(&bob.voicemail_audio(&left.voicemail_id).await.unwrap()).unwrap();
    assert!(
        (pcm.len() as f64 / 48_000.0 - 2.0).abs() < 0.02,
        "{}",
        pcm.len()
    );
    let hz = frequency(&pcm);
    assert!((hz - 440.0).abs() < 5.0, "{hz}");

    let heard = bob.mark_voicemail_heard(&left.voicemail_id).await.unwrap();
    assert_eq!((heard.total_voice, heard.unheard_voice), (1, 0));
    assert!(!heard.new_messages_waiting);
    bob.delete_voicemail(&left.voicemail_id).await.unwrap();
    assert!(bob.voicemails().await.unwrap().voicemails.is_empty());
    let gone = bob.voicemail_audio(&left.voicemail_id).await.unwrap_err();
    assert_eq!(code(&gone), Some(ErrorCode::VoicemailNotFound));
    let twice = bob.delete_voicemail(&left.voicemail_id).await.unwrap_err();
    assert_eq!(code(&twice), Some(ErrorCode::VoicemailNotFound));
    server.shutdown().await;
    let files: Vec<_> = std::fs::read_dir(dir.path().join("voicemail"))
        .unwrap()
        .collect();
    assert!(files.is_empty(), "{files:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_files_give_their_codes_and_a_full_mailbox_refuses() {
    // A mailbox with room for the first of these two messages, not for both.
    let (three, four) = (tone_message(300.0, 3000), tone_message(300.0, 4000));
    let quota = (three.len() + four.len() - 1) as u64;
    let t = TestServer::start_with(|c| c.voicemail_quota = quota).await;
    t.users(&["alice", "bob"]).await;
    let (alice, mut a) = t.client("alice").await;
    let (bob, mut b) = t.client("bob").await;
    let room = declined_call(&alice, &mut a, &bob, &mut b, DeclineReason::NoAnswer).await;
    let refused = |bytes: Vec<u8>| {
        let rest = alice.rest().clone();
        let room = room.clone();
        async move { rest.leave_voicemail(&room, bytes).await.unwrap_err() }
    };
    let good = tone_message(440.0, 2000);
    for (what, bytes) in [
        ("not Ogg", b"RIFF\x24\x00\x00\x00WAVEfmt ".to_vec()),
        ("empty", Vec::new()),
        ("cut short", good[..good.len() / 2].to_vec()),
        ("no audio", OggOpusWriter::new(1, 1, 48_000).finish()),
    ] {
        let e = refused(bytes).await;
        assert_eq!(code(&e), Some(ErrorCode::VoicemailInvalid), "{what}: {e}");
    }
    // Longer than two minutes, though small.
    let mut long = OggOpusWriter::new(2, 1, 48_000);
    for _ in 0..6001 {
        long.push(&[0xf8], 960);
    }
    let e = refused(long.finish()).await;
    assert_eq!(code(&e), Some(ErrorCode::VoicemailTooLong), "{e}");
    // Over a mebibyte.
    let e = refused(vec![0u8; parla::proto::MAX_VOICEMAIL_BYTES + 1]).await;
    assert_eq!(code(&e), Some(ErrorCode::VoicemailTooLong), "{e}");
    // Missing the call.
    let raw = reqwest::Client::new()
        .post(format!("{}/v1/voicemail", t.url()))
        .bearer_auth(t.token("alice").await)
        .body(good.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    assert_eq!(
        raw.json::<serde_json::Value>().await.unwrap()["code"],
        "validation_error"
    );
    assert!(bob.rest().voicemails().await.unwrap().voicemails.is_empty());

    // The quota: the 3 s message fits, the next of 4 s does not.
    let first = alice.rest().leave_voicemail(&room, three).await.unwrap();
    let room2 = declined_call(&alice, &mut a, &bob, &mut b, DeclineReason::NoAnswer).await;
    let full = alice
        .rest()
        .leave_voicemail(&room2, four.clone())
        .await
        .unwrap_err();
    assert_eq!(
        code(&full),
        Some(ErrorCode::VoicemailQuotaExceeded),
        "{full}"
    );
    let mailbox = bob.rest().voicemails().await.unwrap();
    assert_eq!(mailbox.voicemails.len(), 1);
    assert_eq!(mailbox.indicator.bytes, first.bytes);
    assert_eq!(mailbox.indicator.quota_bytes, quota);
    // Room again once bob deletes it.
    bob.rest()
        .delete_voicemail(&first.voicemail_id)
        .await
        .unwrap();
    alice.rest().leave_voicemail(&room2, four).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_killed_halfway_leaves_nothing_and_a_deleted_user_leaves_no_mailbox() {
    use tokio::io::AsyncWriteExt;
    let t = TestServer::start().await;
    t.users(&["alice", "bob"]).await;
    let (alice, mut a) = t.client("alice").await;
    let (bob, mut b) = t.client("bob").await;
    let room = declined_call(&alice, &mut a, &bob, &mut b, DeclineReason::NoAnswer).await;
    let good = tone_message(440.0, 3000);
    let addr = t.url().trim_start_matches("http://").to_owned();
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /v1/voicemail?room_id={room} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: audio/ogg\r\nContent-Length: {}\r\n\r\n",
        t.token("alice").await,
        good.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&good[..good.len() / 2]).await.unwrap();
    s.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(s);
    // The server saw the connection go; nothing is listed, nothing lies on disk.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(bob.rest().voicemails().await.unwrap().voicemails.is_empty());
    let dir = t.dir.path().join("voicemail");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(files.is_empty(), "{files:?}");
    // The same message whole goes through.
    alice.rest().leave_voicemail(&room, good).await.unwrap();
    assert_eq!(bob.rest().voicemails().await.unwrap().voicemails.len(), 1);
    let files = || -> usize { std::fs::read_dir(&dir).map_or(0, Iterator::count) };
    assert_eq!(files(), 1);

    // Bob's account deleted: his mailbox goes, files and all; a new bob finds it empty.
    drop(bob);
    t.admin().admin_delete_user("bob").await.unwrap();
    assert_eq!(files(), 0, "the message's file outlived its mailbox");
    t.users(&["bob"]).await;
    assert!(t
        .rest_for("bob")
        .await
        .voicemails()
        .await
        .unwrap()
        .voicemails
        .is_empty());
}

/// `parla call --voicemail` to someone offline leaves the message at once; `parla
/// voicemail` lists, saves (decoded to WAV), marks heard and deletes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_leaves_lists_saves_and_deletes_messages() {
    let t = TestServer::start().await;
    t.users(&["alice", "bob"]).await;
    let home = tempfile::tempdir().unwrap();
    let wav = home.path().join("hello.wav");
    {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 16_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&wav, spec).unwrap();
        for i in 0..16_000 * 3 {
            let v = (f64::from(i) * std::f64::consts::TAU * 500.0 / 16_000.0).sin() * 8000.0;
            w.write_sample(v as i16).unwrap();
        }
        w.finalize().unwrap();
    }
    let alice_token = t.token("alice").await;
    let bob_token = t.token("bob").await;
    let out = succeeded(
        "parla call --voicemail",
        WAIT,
        parla(&t, home.path(), &alice_token)
            .args(["--json", "call", "bob", "--audio", "null", "--voicemail"])
            .arg(&wav)
            .output(),
    )
    .await;
    let lines = json_lines(&out.stdout);
    let left = lines
        .iter()
        .find(|v| v["event"] == "voicemail_left")
        .unwrap_or_else(|| panic!("{lines:?}"));
    let id = left["voicemail"]["voicemail_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(left["voicemail"]["duration_ms"], 3000);
    assert_eq!(left["truncated"], false);

    let list = succeeded(
        "voicemail list",
        WAIT,
        parla(&t, home.path(), &bob_token)
            .args(["--json", "voicemail"])
            .output(),
    )
    .await;
    let mailbox: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(mailbox["voicemails"][0]["voicemail_id"], id.as_str());
    assert_eq!(mailbox["voicemails"][0]["from"], "alice");
    assert_eq!(mailbox["indicator"]["unheard_voice"], 1);
    let text = succeeded(
        "voicemail list",
        WAIT,
        parla(&t, home.path(), &bob_token)
            .args(["voicemail"])
            .output(),
    )
    .await;
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("alice") && text.contains("0:03") && text.contains("NEW"),
        "{text}"
    );

    let saved = home.path().join("saved.wav");
    succeeded(
        "voicemail save",
        WAIT,
        parla(&t, home.path(), &bob_token)
            .args(["voicemail", "save", &id])
            .arg(&saved)
            .output(),
    )
    .await;
    let pcm: Vec<i16> = hound::WavReader::open(&saved)
        .unwrap()
        .into_samples::<i16>()
        .map(Result::unwrap)
        .collect();
    let hz = frequency(&pcm);
    assert!((hz - 500.0).abs() < 6.0, "{hz}");

    succeeded(
        "voicemail heard",
        WAIT,
        parla(&t, home.path(), &bob_token)
            .args(["voicemail", "heard", &id])
            .output(),
    )
    .await;
    succeeded(
        "voicemail rm",
        WAIT,
        parla(&t, home.path(), &bob_token)
            .args(["voicemail", "rm", &id])
            .output(),
    )
    .await;
    let missing = parla(&t, home.path(), &bob_token)
        .args(["--json", "voicemail", "rm", &id])
        .output()
        .await
        .unwrap();
    assert_eq!(missing.status.code(), Some(5));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("voicemail_not_found"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
    // A file that is not audio fails before anyone rings.
    let bad = home.path().join("bad.wav");
    std::fs::write(&bad, b"not a wav").unwrap();
    let refused = parla(&t, home.path(), &alice_token)
        .args(["--json", "call", "bob", "--audio", "null", "--voicemail"])
        .arg(&bad)
        .output()
        .await
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("audio_error"));
}
