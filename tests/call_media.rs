//! Call media beyond two people talking: ring tone and ringback, group calls through the
//! mixing bridge, ICE restart when the network path drops, and both sides holding (also at
//! the same moment). Real server, real clients, webrtc-rs peers over loopback.

// Test code: fixtures convert numbers freely; scenarios read top to bottom.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::float_cmp,
    clippy::items_after_statements,
    clippy::used_underscore_binding
)]

mod common;

use std::time::Duration;

use common::party::{connected, Party};
use common::*;
use parla::client::call::CallState;
use parla::client::Event;
use parla::media::peer::MediaState;
use parla::media::tones::{RING, RINGBACK};

fn on_hold(local: bool, remote: bool) -> impl Fn(&CallState) -> bool {
    move |s| *s == CallState::OnHold { local, remote }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ringback_and_ring_tone_play_until_answered() {
    let t = TestServer::start().await;
    t.users(&["alice", "bob"]).await;
    let (alice, a) = t.client("alice").await;
    let (bob, mut b) = t.client("bob").await;
    let room = alice.dial(&["bob".into()]).await.unwrap().room_id;
    let pa = Party::start("alice", alice.clone(), a, &room, 440.0, true);
    b.wait_seen("ring", |e| matches!(e, Event::CallIncoming { .. }))
        .await;
    let pb = Party::start("bob", bob.clone(), b, &room, 880.0, true);

    // The caller hears ringback, the callee's device rings.
    pa.wait("ringback", || pa.hears(425.0) > 0.8).await;
    assert_eq!(pa.tone().await, Some(RINGBACK));
    pb.wait("ring tone", || {
        pb.hears(400.0) > 0.3 && pb.hears(450.0) > 0.3
    })
    .await;
    assert_eq!(pb.tone().await, Some(RING));

    // Stopping the ring tone silences it; playing it brings it back.
    pb.ring(false);
    assert_eq!(pb.tone().await, None);
    let stopped_at = pb.heard.samples().len();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        pb.heard.samples().len(),
        stopped_at,
        "ring tone still playing"
    );
    pb.ring(true);
    assert_eq!(pb.tone().await, Some(RING));

    // Answered: both tones stop, and the call's audio comes through the same sinks.
    bob.answer(&room).await.unwrap();
    pa.wait_state("connected", connected).await;
    pb.wait_state("connected", connected).await;
    assert_eq!(pa.tone().await, None);
    assert_eq!(pb.tone().await, None);
    // Once the last 300 ms are all call audio, no ringback is mixed in.
    pa.wait("only bob", || pa.hears(880.0) > 0.8).await;
    pb.wait("only alice", || pb.hears(440.0) > 0.8).await;
    assert!(pa.hears(425.0) < 0.05, "ringback after answer");
    assert!(pb.hears(400.0) < 0.05, "ring tone after answer");
    alice.hangup(&room).await.unwrap();
    pa.finish().await;
    pb.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_call_mixes_every_party_and_goes_on_when_one_leaves() {
    let t = TestServer::start().await;
    t.users(&["alice", "bob", "carol"]).await;
    let (alice, a) = t.client("alice").await;
    let (bob, mut b) = t.client("bob").await;
    let (carol, mut c) = t.client("carol").await;
    let room = alice
        .dial(&["bob".into(), "carol".into()])
        .await
        .unwrap()
        .room_id;
    for ev in [&mut b, &mut c] {
        ev.wait_seen("ring", |e| matches!(e, Event::CallIncoming { .. }))
            .await;
    }
    bob.answer(&room).await.unwrap();
    carol.answer(&room).await.unwrap();
    let pa = Party::start("alice", alice.clone(), a, &room, 500.0, false);
    let pb = Party::start("bob", bob.clone(), b, &room, 800.0, false);
    let pc = Party::start("carol", carol.clone(), c, &room, 1300.0, false);
    let parties = [(&pa, 500.0), (&pb, 800.0), (&pc, 1300.0)];
    for (p, own) in parties {
        p.wait_state("connected", connected).await;
        for (other, freq) in parties {
            if other.name != p.name {
                p.wait_hears(freq).await;
            }
        }
        assert!(p.hears(own) < 0.05, "{} hears itself", p.name);
    }
    for p in [&pa, &pb, &pc] {
        assert_eq!(p.legs().await.0, 2, "{}: a mesh of three", p.name);
    }

    // Carol leaves: alice and bob go on, and carol's tone is gone from the mix.
    carol.hangup(&room).await.unwrap();
    pc.wait_state("ended", |s| matches!(s, CallState::Ended { .. }))
        .await;
    pa.wait("carol gone", || pa.hears(1300.0) < 0.05).await;
    pb.wait("carol gone", || pb.hears(1300.0) < 0.05).await;
    assert_eq!(pa.state(), Some(CallState::Connected));
    pa.wait_hears(800.0).await;
    pb.wait_hears(500.0).await;
    assert_eq!(pa.legs().await.0, 1);
    alice.hangup(&room).await.unwrap();
    pb.wait_state("ended", |s| matches!(s, CallState::Ended { .. }))
        .await;
    for p in [pa, pb, pc] {
        p.finish().await;
    }
}

/// Sets up a connected 1:1 call between alice (caller) and bob, both hearing each other.
async fn connected_pair(t: &TestServer) -> (Party, Party, String) {
    t.users(&["alice", "bob"]).await;
    let (alice, a, bob, b, room) = answered_call(t).await;
    let pa = Party::start("alice", alice, a, &room, 440.0, false);
    let pb = Party::start("bob", bob, b, &room, 880.0, false);
    pa.wait_hears(880.0).await;
    pb.wait_hears(440.0).await;
    (pa, pb, room)
}

async fn path_drop_recovers(cut_caller: bool) {
    let t = TestServer::start().await;
    let (pa, pb, _room) = connected_pair(&t).await;
    let cut = if cut_caller { &pa } else { &pb };
    let sockets = cut.outage.sockets();
    cut.outage.cut();
    // Both notice, the caller restarts ICE on new sockets, audio comes back both ways.
    pa.wait("media lost", || {
        pa.media_states()
            .iter()
            .any(|s| matches!(s, MediaState::Disconnected | MediaState::Failed))
    })
    .await;
    pa.wait("media back", || {
        pa.media_states().last() == Some(&MediaState::Connected)
    })
    .await;
    pa.wait_hears(880.0).await;
    pb.wait_hears(440.0).await;
    pa.wait_state("connected", connected).await;
    pb.wait_state("connected", connected).await;
    assert!(pa.legs().await.1 >= 1, "no ICE restart");
    assert_eq!(pb.legs().await.1, 0, "only the caller restarts");
    assert!(
        cut.outage.sockets() > sockets,
        "the restart did not bind new sockets"
    );
    pa.client.hangup(&_room).await.unwrap();
    pa.finish().await;
    pb.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_caller_losing_its_path_restarts_ice_and_audio_returns() {
    path_drop_recovers(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callee_losing_its_path_restarts_ice_and_audio_returns() {
    path_drop_recovers(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_sides_can_hold_even_at_the_same_moment() {
    let t = TestServer::start().await;
    let (pa, pb, room) = connected_pair(&t).await;

    // One after the other: each sees its own hold and the other's.
    pa.hold(true);
    pb.wait_state("remote hold", on_hold(false, true)).await;
    pb.hold(true);
    pa.wait_state("both hold", on_hold(true, true)).await;
    pb.wait_state("both hold", on_hold(true, true)).await;
    pa.wait("silence", || pa.silent()).await;
    pb.wait("silence", || pb.silent()).await;
    pa.hold(false);
    pa.wait_state("bob still holds", on_hold(false, true)).await;
    pb.wait_state("alice resumed", on_hold(true, false)).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(pa.silent() && pb.silent(), "audio while bob holds");
    pb.hold(false);
    pa.wait_state("connected", connected).await;
    pb.wait_state("connected", connected).await;
    pa.wait_hears(880.0).await;
    pb.wait_hears(440.0).await;

    // Both at once: the offers cross, one side answers the other's first, and both end
    // up held; then both resume at once.
    pa.hold(true);
    pb.hold(true);
    pa.wait_state("both hold", on_hold(true, true)).await;
    pb.wait_state("both hold", on_hold(true, true)).await;
    pa.hold(false);
    pb.hold(false);
    pa.wait_state("connected", connected).await;
    pb.wait_state("connected", connected).await;
    pa.wait_hears(880.0).await;
    pb.wait_hears(440.0).await;
    pa.client.hangup(&room).await.unwrap();
    pa.finish().await;
    pb.finish().await;
}

/// A sound card at 44.1 kHz under alice, its clock played by the test: the call resamples
/// both ways, a card whose clock runs fast drops samples, and the dropouts the device
/// callbacks count reach the call's statistics (bob's card is fine: none on his side).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sound_card_resampling_drift_and_dropouts_reach_the_call_statistics() {
    use parla::media::audio::tone_strength;
    use parla::media::device::VirtualCard;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::{Arc, Mutex};

    let t = TestServer::start().await;
    t.users(&["alice", "bob"]).await;
    let (alice, a, bob, b, room) = answered_call(&t).await;

    const RATE: u32 = 44_100;
    let (mut card, mic, speaker) = VirtualCard::open(RATE, RATE);
    let counters = card.counters();
    let audio = parla::client::call::media::AudioSetup {
        source: Box::new(mic),
        sink: Box::new(speaker),
        device: Some(counters.clone()),
        ..parla::client::call::media::AudioSetup::silent("127.0.0.1:0")
    };
    let pa = Party::start_with("alice", alice.clone(), a, &room, audio);
    let pb = Party::start("bob", bob.clone(), b, &room, 880.0, false);

    // The card's own clock: every few milliseconds it takes and gives what the time that
    // passed is worth (times `speed` percent), whatever the scheduler did meanwhile.
    let played: Arc<Mutex<Vec<i16>>> = Arc::default();
    let (capture_speed, playback_speed) =
        (Arc::new(AtomicU32::new(100)), Arc::new(AtomicU32::new(100)));
    let clock = {
        let (played, cs, ps) = (
            played.clone(),
            capture_speed.clone(),
            playback_speed.clone(),
        );
        tokio::spawn(async move {
            let mut tone = (0usize, 600.0f64);
            let (mut captured, mut given) = (0f64, 0f64);
            let mut last = std::time::Instant::now();
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                let dt = last.elapsed().as_secs_f64();
                last = std::time::Instant::now();
                captured += dt * f64::from(RATE) * f64::from(cs.load(Ordering::Relaxed)) / 100.0;
                given += dt * f64::from(RATE) * f64::from(ps.load(Ordering::Relaxed)) / 100.0;
                let n_in = captured as usize;
                captured -= n_in as f64;
                let mic: Vec<f32> = (tone.0..tone.0 + n_in)
                    .map(|i| {
                        ((i as f64 * tone.1 / f64::from(RATE) * std::f64::consts::TAU).sin() * 0.5)
                            as f32
                    })
                    .collect();
                tone.0 += n_in;
                card.capture(&mic);
                let n_out = given as usize;
                given -= n_out as f64;
                let mut out = vec![0f32; n_out];
                card.playback(&mut out);
                played
                    .lock()
                    .unwrap()
                    .extend(out.iter().map(|v| (v * 32767.0) as i16));
            }
        })
    };
    // How much of what alice's speaker played lately is `freq`: the median over 20 ms
    // pieces of the last 300 ms (short pieces, because a card that drops samples shifts
    // the tone's phase at every gap), read as 48 kHz samples (so f Hz shows at f × 48/44.1).
    let speaker_hears = |freq: f64| {
        let p = played.lock().unwrap();
        let n = (RATE as usize * 3 / 10).min(p.len());
        let mut pieces: Vec<f64> = p[p.len() - n..]
            .chunks(RATE as usize / 50)
            .map(|c| tone_strength(c, freq * 48_000.0 / f64::from(RATE)))
            .collect();
        pieces.sort_by(f64::total_cmp);
        pieces.get(pieces.len() / 2).copied().unwrap_or(0.0)
    };

    // In tune: bob hears alice's microphone, alice's speaker plays bob.
    pb.wait_hears(600.0).await;
    pa.wait("bob on alice's speaker", || speaker_hears(880.0) > 0.5)
        .await;
    let overruns_in_tune = counters.capture_overruns.load(Ordering::Relaxed);

    // The speaker's clock runs 10 % fast: it plays samples the call has not delivered yet
    // (underruns), yet bob can still be heard; the microphone's runs at twice the rate
    // the call reads, so its half second of room fills up (overruns).
    playback_speed.store(110, Ordering::Relaxed);
    capture_speed.store(200, Ordering::Relaxed);
    let underruns_in_tune = counters.playback_underruns.load(Ordering::Relaxed);
    pa.wait("dropouts counted", || {
        counters.playback_underruns.load(Ordering::Relaxed) > underruns_in_tune
            && counters.capture_overruns.load(Ordering::Relaxed) > overruns_in_tune
    })
    .await;
    pa.wait("bob still on alice's speaker", || {
        speaker_hears(880.0) > 0.3
    })
    .await;

    alice.hangup(&room).await.unwrap();
    let stats = pa.finish().await.expect("statistics at the end");
    clock.abort();
    assert!(stats.device_underruns > 0, "{stats:?}");
    assert!(stats.device_overruns > 0, "{stats:?}");
    let other = pb.finish().await.expect("statistics at the end");
    assert_eq!((other.device_underruns, other.device_overruns), (0, 0));
}

/// Four parties, the most a call takes: each hears the other three and not itself, over a
/// mesh of three connections each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_four_party_call_mixes_everyone() {
    let t = TestServer::start().await;
    t.users(&["alice", "bob", "carol", "dave"]).await;
    let (alice, a) = t.client("alice").await;
    let mut others = Vec::new();
    for u in ["bob", "carol", "dave"] {
        others.push(t.client(u).await);
    }
    let room = alice
        .dial(&["bob".into(), "carol".into(), "dave".into()])
        .await
        .unwrap()
        .room_id;
    for (_, ev) in &mut others {
        ev.wait_seen("ring", |e| matches!(e, Event::CallIncoming { .. }))
            .await;
    }
    for (c, _) in &others {
        c.answer(&room).await.unwrap();
    }
    let freqs = [400.0, 700.0, 1000.0, 1300.0];
    let mut parties = vec![Party::start(
        "alice",
        alice.clone(),
        a,
        &room,
        freqs[0],
        false,
    )];
    for ((client, ev), (name, freq)) in
        others
            .into_iter()
            .zip([("bob", freqs[1]), ("carol", freqs[2]), ("dave", freqs[3])])
    {
        parties.push(Party::start(name, client, ev, &room, freq, false));
    }
    for (p, own) in parties.iter().zip(freqs) {
        p.wait_state("connected", connected).await;
        for other in freqs.iter().filter(|f| **f != own) {
            p.wait_hears(*other).await;
        }
        assert!(p.hears(own) < 0.05, "{} hears itself", p.name);
        assert_eq!(p.legs().await.0, 3, "{}: a mesh of four", p.name);
    }
    alice.hangup(&room).await.unwrap();
    for p in parties {
        p.finish().await;
    }
}

/// A callee who never answers is `missed` at the ring timeout and told so; the call goes on
/// between those who did.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callee_who_does_not_answer_is_missed_at_the_ring_timeout() {
    use parla::proto::{EndReason, ParticipantState};
    let t = TestServer::start_with(|c| c.ring_timeout = Duration::from_secs(2)).await;
    t.users(&["alice", "bob", "carol"]).await;
    let (alice, a) = t.client("alice").await;
    let (bob, mut b) = t.client("bob").await;
    let (_carol, mut c) = t.client("carol").await;
    let room = alice
        .dial(&["bob".into(), "carol".into()])
        .await
        .unwrap()
        .room_id;
    b.wait_seen("ring", |e| matches!(e, Event::CallIncoming { .. }))
        .await;
    c.wait_seen("ring", |e| matches!(e, Event::CallIncoming { .. }))
        .await;
    bob.answer(&room).await.unwrap();
    let pa = Party::start("alice", alice.clone(), a, &room, 440.0, false);
    let pb = Party::start("bob", bob.clone(), b, &room, 880.0, false);
    pa.wait_hears(880.0).await;
    // Carol's device stops ringing: the call ended for her, as a timeout.
    let ended = c
        .wait_for(
            "carol's ring over",
            |e| matches!(e, Event::Call { view } if matches!(view.state, CallState::Ended { .. })),
        )
        .await;
    let Event::Call { view } = ended else {
        unreachable!()
    };
    assert_eq!(
        view.state,
        CallState::Ended {
            reason: EndReason::Timeout
        }
    );
    let carol = view.call.participant("carol").unwrap();
    assert_eq!(carol.state, ParticipantState::Missed);
    // Alice and bob talk on.
    pa.wait("the call goes on", || pa.hears(880.0) > 0.3).await;
    pb.wait_hears(440.0).await;
    assert_eq!(pa.state(), Some(CallState::Connected));
    alice.hangup(&room).await.unwrap();
    pa.finish().await;
    pb.finish().await;
}

/// When one side does not offer redundant audio (RFC 2198), the other sends plain Opus
/// instead: the call works, loss is repaired by Opus FEC and concealment alone, and no
/// frame is ever rebuilt from redundancy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redundancy_on_one_side_the_call_falls_back_to_plain_opus() {
    use parla::client::call::media::AudioSetup;
    use parla::media::audio::{Capture, Tone};
    use parla::media::impair::Impairment;
    use parla::media::peer::PeerOptions;

    let t = TestServer::start().await;
    t.users(&["alice", "bob"]).await;
    let (alice, a, bob, b, room) = answered_call(&t).await;
    // Alice's client has redundancy off; bob loses 10 % of what he receives.
    let alice_audio = AudioSetup {
        source: Box::new(Tone::new(440.0)),
        sink: Box::new(Capture::default()),
        peer: PeerOptions {
            redundancy: false,
            ..PeerOptions::default()
        },
        ..AudioSetup::silent("127.0.0.1:0")
    };
    let heard_by_bob = Capture::default();
    let bob_audio = AudioSetup {
        source: Box::new(Tone::new(880.0)),
        sink: Box::new(heard_by_bob.clone()),
        impair: Some(Impairment {
            loss_pct: 10.0,
            jitter_ms: 0.0,
            seed: 7,
            ..Default::default()
        }),
        ..AudioSetup::silent("127.0.0.1:0")
    };
    let pa = Party::start_with("alice", alice.clone(), a, &room, alice_audio);
    let pb = Party::start_with("bob", bob.clone(), b, &room, bob_audio);
    pa.wait_state("connected", connected).await;
    pb.wait_state("connected", connected).await;
    let strength = || {
        let s = heard_by_bob.samples();
        let n = (48 * 300).min(s.len());
        parla::media::audio::tone_strength(&s[s.len() - n..], 440.0)
    };
    pb.wait("alice's tone", || strength() > 0.5).await;
    // Three seconds of call from there, long enough for the loss to show (bounded); the
    // loss hits the set-up too, which may take a DTLS retransmission longer.
    let from = heard_by_bob.samples().len();
    let deadline = tokio::time::Instant::now() + WAIT;
    while heard_by_bob.samples().len() < from + 48 * 3000 {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    alice.hangup(&room).await.unwrap();
    pa.finish().await;
    let stats = pb.finish().await.expect("bob's statistics");
    assert!(stats.loss_pct > 5.0, "{stats:?}");
    assert_eq!(
        stats.frames_recovered, 0,
        "rebuilt from redundancy it never got: {stats:?}"
    );
    // The loss was covered (FEC and concealment): the tone is there throughout, in all but
    // a few of the 20 ms windows of the last two seconds (measured a window at a time: the
    // playout moves the tone's phase when it conceals, stretches or compresses).
    let heard = heard_by_bob.samples();
    let last_two = &heard[heard.len() - 48 * 2000..];
    let weak = last_two
        .chunks(960)
        .map(|w| parla::media::audio::tone_strength(w, 440.0))
        .filter(|s| *s < 0.5)
        .count();
    assert!(
        weak <= 10,
        "{weak} of 100 windows without the tone: {stats:?}"
    );
}

/// The call's statistics follow what the network does: a clean call shows no loss, a
/// measured round trip and a high MOS; the same call with 10 % loss and 40 ms of jitter
/// on bob's side shows that loss and jitter, a grown buffer and a lower MOS. The sender
/// follows bob's receiver reports: plain Opus at full rate on the clean path, FEC and
/// redundancy once loss is reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_follow_a_known_impairment() {
    use parla::client::call::media::AudioSetup;
    use parla::media::audio::{Capture, Tone};
    use parla::media::impair::Impairment;
    use parla::media::stats::CallStats;

    let t = TestServer::start().await;
    t.users(&["alice", "bob"]).await;

    /// One call of a few seconds between fresh sessions; bob's and alice's statistics at
    /// its end.
    async fn one_call(t: &TestServer, impair: Option<Impairment>) -> (CallStats, CallStats) {
        let (alice, a, bob, b, room) = answered_call(t).await;
        let audio = |freq: f64, impair| AudioSetup {
            source: Box::new(Tone::new(freq)),
            sink: Box::new(Capture::default()),
            impair,
            ..AudioSetup::silent("127.0.0.1:0")
        };
        let pa = Party::start_with("alice", alice.clone(), a, &room, audio(440.0, None));
        let pb = Party::start_with("bob", bob.clone(), b, &room, audio(880.0, impair));
        pa.wait_state("connected", connected).await;
        pb.wait_state("connected", connected).await;
        // Four seconds of call (bounded by what bob has played).
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let played = pb.stats_now().await.map_or(0, |s| s.frames_played);
            if played >= 200 {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "{played} frames");
        }
        let stats = pb.stats_now().await.expect("bob's statistics");
        let sender = pa.stats_now().await.expect("alice's statistics");
        alice.hangup(&room).await.unwrap();
        pa.finish().await;
        pb.finish().await;
        alice.stop();
        bob.stop();
        (stats, sender)
    }

    let (clean, clean_sender) = one_call(&t, None).await;
    // Bob's receiver reports told alice the path is clean: plain Opus at full rate.
    let sending = clean_sender.sending.expect("alice's send settings");
    assert!(!sending.redundancy && !sending.fec, "{sending:?}");
    assert_eq!(sending.bitrate, 64_000);
    assert!(clean.loss_pct < 1.0, "{clean:?}");
    let rtt = clean.rtt_ms.expect("a round trip is measured");
    assert!(rtt > 0.0 && rtt < 50.0, "loopback round trip {rtt} ms");
    assert!(clean.mos.is_some_and(|m| m > 4.0), "{clean:?}");
    // Opus alone once the first report came (RED before it), at up to 64 kbit/s.
    assert!(
        (8.0..110.0).contains(&clean.recv_kbps),
        "{} kbit/s",
        clean.recv_kbps
    );

    let (impaired, impaired_sender) = one_call(
        &t,
        Some(Impairment {
            loss_pct: 10.0,
            jitter_ms: 40.0,
            seed: 3,
            ..Default::default()
        }),
    )
    .await;
    assert!(
        (5.0..=15.0).contains(&impaired.loss_pct),
        "10 % lost, {} % seen",
        impaired.loss_pct
    );
    assert!(impaired.jitter_ms > 5.0, "{impaired:?}");
    // ... and with 10 % lost, each frame repeated in the next packet (in-band FEC would
    // repair the same losses again, with bits taken from the frame), Opus told the loss
    // left after that repair.
    let sending = impaired_sender.sending.expect("alice's send settings");
    assert!(
        sending.redundancy && !sending.fec && sending.loss_pct <= 5,
        "{sending:?}"
    );
    assert!(
        impaired.jitter_buffer_ms > clean.jitter_buffer_ms + 10.0,
        "buffer {} ms vs {} ms clean",
        impaired.jitter_buffer_ms,
        clean.jitter_buffer_ms
    );
    assert!(
        impaired.mos < clean.mos,
        "MOS {:?} impaired vs {:?} clean",
        impaired.mos,
        clean.mos
    );
}

/// The network goes down for a while, then comes back: the caller keeps restarting ICE
/// (2 s after the first try, then every 4 s) while the media is down, instead of waiting
/// on a restart that went nowhere, and the audio returns once the network does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ice_restarts_go_on_while_the_network_is_down() {
    let t = TestServer::start().await;
    t.users(&["alice", "bob"]).await;
    let patient = |id: &str| {
        let mut c = t.client_config(id);
        // This test's outage is longer than the 12 s after which a call is given up.
        c.media_timeout = Duration::from_mins(1);
        c
    };
    let (alice, a) = start_client(patient("alice")).await;
    let (bob, mut b) = start_client(patient("bob")).await;
    let room = alice.dial(&["bob".into()]).await.unwrap().room_id;
    b.wait_seen("ring", |e| matches!(e, Event::CallIncoming { .. }))
        .await;
    bob.answer(&room).await.unwrap();
    let pa = Party::start("alice", alice, a, &room, 440.0, false);
    let pb = Party::start("bob", bob, b, &room, 880.0, false);
    pa.wait_hears(880.0).await;
    pb.wait_hears(440.0).await;

    pa.outage.blackout();
    pa.wait("media lost", || {
        pa.media_states()
            .iter()
            .any(|s| matches!(s, MediaState::Disconnected | MediaState::Failed))
    })
    .await;
    // Three restarts with the network still down (the first, and two retries).
    let deadline = tokio::time::Instant::now() + WAIT;
    while pa.legs().await.1 < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} ICE restarts while the media was down",
            pa.legs().await.1
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    pa.outage.restore();
    pa.wait("media back", || {
        pa.media_states().last() == Some(&MediaState::Connected)
    })
    .await;
    pa.wait_hears(880.0).await;
    pb.wait_hears(440.0).await;
    pa.client.hangup(&room).await.unwrap();
    pa.finish().await;
    pb.finish().await;
}
