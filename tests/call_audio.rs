//! Real audio through a real call: two clients, the real server for signaling, webrtc-rs
//! peers over loopback, Opus, the jitter buffer; tones in, captures out.

mod common;

use std::time::Duration;

use common::*;
use parla::client::call::media::{AudioSetup, CallMedia};
use parla::client::call::CallState;
use parla::client::Event;
use parla::media::audio::{rms, tone_strength, Capture, Tone};

fn setup(freq: f64, capture: &Capture) -> AudioSetup {
    AudioSetup {
        source: Box::new(Tone::new(freq)),
        sink: Box::new(capture.clone()),
        ..AudioSetup::silent("127.0.0.1:0")
    }
}

/// The last `ms` milliseconds heard.
fn last(capture: &Capture, ms: usize) -> Vec<i16> {
    let s = capture.samples();
    let n = (48 * ms).min(s.len());
    s[s.len() - n..].to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tones_cross_a_call_both_ways_and_mute_silences() {
    let t = TestServer::start().await;
    t.users(&["alice", "bob"]).await;
    let (alice, mut a, bob, mut b, room) = answered_call(&t).await;
    let (heard_by_alice, heard_by_bob) = (Capture::default(), Capture::default());

    // The caller offers once the callee has answered.
    let room2 = room.clone();
    a.wait_seen("connecting", move |e| {
        matches!(e, Event::Call { view } if view.call.room_id == room2 && view.state == CallState::Connecting)
    })
    .await;
    let mut alice_media =
        CallMedia::new(alice.clone(), &room, "bob", setup(440.0, &heard_by_alice))
            .await
            .unwrap();
    alice_media.start_offer().await.unwrap();
    // Relay the offer, the answer and the trickled candidates until both sides see the
    // call connected once media flows.
    let mut bob_media: Option<CallMedia> = None;
    let (mut a_up, mut b_up) = (false, false);
    let deadline = tokio::time::Instant::now() + WAIT;
    while !(a_up && b_up) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "media never connected"
        );
        tokio::select! {
            Some(e) = a.rx.recv() => match e {
                Event::CallSignal { signal, .. } => alice_media.on_signal(signal).await.unwrap(),
                Event::Call { view } if view.state == CallState::Connected => a_up = true,
                _ => {}
            },
            Some(e) = b.rx.recv() => match e {
                Event::CallSignal { signal, .. } => {
                    if bob_media.is_none() {
                        bob_media = Some(
                            CallMedia::new(bob.clone(), &room, "alice", setup(880.0, &heard_by_bob))
                                .await
                                .unwrap(),
                        );
                    }
                    if let Some(m) = &mut bob_media {
                        m.on_signal(signal).await.unwrap();
                    }
                }
                Event::Call { view } if view.state == CallState::Connected => b_up = true,
                _ => {}
            },
            () = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    }
    let bob_media = bob_media.unwrap();

    // Poll until each side clearly hears the other's tone (bounded).
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (ab, ba) = (last(&heard_by_bob, 400), last(&heard_by_alice, 400));
        let bob_hears_440 = tone_strength(&ab, 440.0) > 0.5 && tone_strength(&ab, 880.0) < 0.1;
        let alice_hears_880 = tone_strength(&ba, 880.0) > 0.5 && tone_strength(&ba, 440.0) < 0.1;
        if bob_hears_440 && alice_hears_880 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "tones not heard: bob 440={:.2} 880={:.2}; alice 880={:.2} 440={:.2}",
            tone_strength(&ab, 440.0),
            tone_strength(&ab, 880.0),
            tone_strength(&ba, 880.0),
            tone_strength(&ba, 440.0)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Mute alice: bob hears silence, alice still hears bob.
    alice_media.set_muted(true);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if rms(&last(&heard_by_bob, 300)) < 50.0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "mute did not silence alice"
        );
    }
    // Alice still hears bob (polled: a busy machine may be mid-frame).
    let deadline = tokio::time::Instant::now() + WAIT;
    while tone_strength(&last(&heard_by_alice, 300), 880.0) <= 0.5 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "alice stopped hearing bob when she muted"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    alice_media.set_muted(false);

    let stats = alice_media.stats().unwrap();
    assert!(stats.frames_sent > 20, "{stats:?}");
    assert!(stats.jitter.played > 20, "{stats:?}");

    alice.hangup(&room).await.unwrap();
    alice_media.stop().await.unwrap();
    bob_media.stop().await.unwrap();
}

use parla::client::call::phone::{CallDriver, CallEvent};

/// Feeds both sessions' events to their drivers until `done` holds (bounded by WAIT).
async fn pump(
    a: &mut Events,
    da: &mut CallDriver,
    b: &mut Events,
    db: &mut CallDriver,
    what: &str,
    done: impl Fn(&[CallState], &[CallState]) -> bool,
) -> (Vec<CallState>, Vec<CallState>) {
    let (mut sa, mut sb) = (Vec::new(), Vec::new());
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if done(&sa, &sb) {
            return (sa, sb);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}: alice {sa:?}, bob {sb:?}"
        );
        tokio::select! {
            Some(e) = a.rx.recv() => {
                if let Some(CallEvent::State(v)) = da.on_event(&e).await.unwrap() { sa.push(v.state) }
            }
            Some(e) = b.rx.recv() => {
                if let Some(CallEvent::State(v)) = db.on_event(&e).await.unwrap() { sb.push(v.state) }
            }
            () = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_stops_audio_both_ways_and_resume_restores_it() {
    let t = TestServer::start().await;
    t.users(&["alice", "bob"]).await;
    let (alice, mut a, bob, mut b, room) = answered_call(&t).await;
    let (heard_by_alice, heard_by_bob) = (Capture::default(), Capture::default());
    let mut da = CallDriver::new(alice.clone(), &room, setup(440.0, &heard_by_alice));
    let mut db = CallDriver::new(bob.clone(), &room, setup(880.0, &heard_by_bob));
    for e in std::mem::take(&mut a.seen) {
        da.on_event(&e).await.unwrap();
    }
    for e in std::mem::take(&mut b.seen) {
        db.on_event(&e).await.unwrap();
    }
    let both =
        |s: CallState| move |x: &[CallState], y: &[CallState]| x.contains(&s) && y.contains(&s);
    pump(
        &mut a,
        &mut da,
        &mut b,
        &mut db,
        "connected",
        both(CallState::Connected),
    )
    .await;
    let hears = |c: &Capture, hz: f64| tone_strength(&last(c, 300), hz) > 0.5;
    let silent = |c: &Capture| rms(&last(c, 300)) < 50.0;

    // Both hear each other, then alice holds.
    let deadline = tokio::time::Instant::now() + WAIT;
    while !(hears(&heard_by_bob, 440.0) && hears(&heard_by_alice, 880.0)) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no audio before hold"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    da.set_hold(true).await.unwrap();
    let held_local = CallState::OnHold {
        local: true,
        remote: false,
    };
    let held_remote = CallState::OnHold {
        local: false,
        remote: true,
    };
    pump(
        &mut a,
        &mut da,
        &mut b,
        &mut db,
        "hold on both sides",
        |x, y| x.contains(&held_local) && y.contains(&held_remote),
    )
    .await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while !(silent(&heard_by_bob) && silent(&heard_by_alice)) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "hold did not silence both ways"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    da.set_hold(false).await.unwrap();
    pump(&mut a, &mut da, &mut b, &mut db, "resumed", |x, y| {
        x.last() == Some(&CallState::Connected) && y.last() == Some(&CallState::Connected)
    })
    .await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while !(hears(&heard_by_bob, 440.0) && hears(&heard_by_alice, 880.0)) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "resume did not restore audio: bob hears 440 {:.2} rms {:.0}, alice hears 880 {:.2} rms {:.0}; alice {:?} bob {:?}",
            tone_strength(&last(&heard_by_bob, 300), 440.0),
            rms(&last(&heard_by_bob, 300)),
            tone_strength(&last(&heard_by_alice, 300), 880.0),
            rms(&last(&heard_by_alice, 300)),
            da.media().and_then(parla::client::call::media::CallMedia::stats),
            db.media().and_then(parla::client::call::media::CallMedia::stats),
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Hold and resume at once: the second change waits for the first one's answer instead
    // of crossing it.
    da.set_hold(true).await.unwrap();
    da.set_hold(false).await.unwrap();
    // Changes made while an offer is out are folded into one later offer (bob may never see
    // the hold at all); every answer must still apply cleanly, which `pump` checks.
    pump(
        &mut a,
        &mut da,
        &mut b,
        &mut db,
        "hold then resume",
        |x, _| x.last() == Some(&CallState::Connected),
    )
    .await;
    let settle = tokio::time::Instant::now() + Duration::from_millis(500);
    while tokio::time::Instant::now() < settle {
        tokio::select! {
            Some(e) = a.rx.recv() => { da.on_event(&e).await.unwrap(); }
            Some(e) = b.rx.recv() => { db.on_event(&e).await.unwrap(); }
            () = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    while !(hears(&heard_by_bob, 440.0) && hears(&heard_by_alice, 880.0)) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "audio did not come back after a quick hold"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    alice.hangup(&room).await.unwrap();
    da.finish().await.unwrap();
    db.finish().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_stays_continuous_under_loss_and_jitter() {
    use parla::media::impair::Impairment;
    let t = TestServer::start().await;
    t.users(&["alice", "bob"]).await;
    let (alice, mut a) = t.client("alice").await;
    let (bob, mut b) = t.client("bob").await;
    let heard_by_bob = Capture::default();
    let room = alice.dial(&["bob".into()]).await.unwrap().room_id;
    b.wait_seen("ring", |e| matches!(e, Event::CallIncoming { .. }))
        .await;
    bob.answer(&room).await.unwrap();
    let mut bob_audio = setup(0.0, &heard_by_bob);
    bob_audio.source = Box::new(parla::media::audio::Silence);
    // 10 % of the packets bob receives are lost, the rest arrive up to 40 ms late.
    bob_audio.impair = Some(Impairment {
        loss_pct: 10.0,
        jitter_ms: 40.0,
        seed: 42,
        ..Default::default()
    });
    let mut da = CallDriver::new(alice.clone(), &room, setup(440.0, &Capture::default()));
    let mut db = CallDriver::new(bob.clone(), &room, bob_audio);
    for e in std::mem::take(&mut a.seen) {
        da.on_event(&e).await.unwrap();
    }
    for e in std::mem::take(&mut b.seen) {
        db.on_event(&e).await.unwrap();
    }
    pump(&mut a, &mut da, &mut b, &mut db, "connected", |x, y| {
        x.contains(&CallState::Connected) && y.contains(&CallState::Connected)
    })
    .await;
    // Wait (bounded) until the impairment has had its effect: loss seen and reported to
    // alice, whose redundancy then repairs most of it, the buffer grown; then for a
    // two-second stretch of tone with no gap.
    let deadline = tokio::time::Instant::now() + WAIT;
    let heard = loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let stats = db.media().unwrap().stats().unwrap();
        let heard = last(&heard_by_bob, 2000);
        let overall = rms(&heard);
        let gap = heard
            .chunks(4800)
            .position(|window| rms(window) <= overall * 0.3);
        // The two seconds looked at begin after the first second of the call, when the
        // buffer has adapted to the jitter.
        let settled = stats.jitter.played >= 150
            && stats.network_loss_pct > 5.0
            && stats.jitter.redundant > stats.jitter.concealed
            && stats.buffer_target_ms > 30.0;
        if settled && heard.len() == 96_000 && overall > 2000.0 && gap.is_none() {
            break heard;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never two clean seconds under 10 % loss and 40 ms jitter: loss {:.1} %, \
             redundant {} vs concealed {}, buffer {:.0} ms, rms {overall:.0}, gap at {:?} ({stats:?})",
            stats.network_loss_pct,
            stats.jitter.redundant,
            stats.jitter.concealed,
            stats.buffer_target_ms,
            gap.map(|i| i * 100)
        );
    };
    // Measured over 100 ms windows: stretching and shortening to follow the jitter moves
    // the pitch by a fraction of a hertz, which a two-second measurement would count.
    let windows: Vec<f64> = heard
        .chunks_exact(4_800)
        .map(|w| tone_strength(w, 440.0))
        .collect();
    let strength = windows.iter().sum::<f64>() / windows.len() as f64;
    assert!(strength > 0.7, "{strength}: {windows:?}");
    alice.hangup(&room).await.unwrap();
    da.finish().await.unwrap();
    db.finish().await.unwrap();
}
