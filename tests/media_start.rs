//! The first moments of a call's media, between two peer connections on loopback: nothing
//! goes out before the connection (and so SRTP) is ready, where it would be thrown away, and
//! the first DTMF digit comes after some audio, so that a receiver whose playout starts
//! with the first packet (Chromium's) does not lose it.

use std::sync::Arc;
use std::time::Duration;

use parla::media::audio::{NullSink, Tone};
use parla::media::dtmf::DtmfTiming;
use parla::media::engine::AudioEngine;
use parla::media::impair::Impairment;
use parla::media::net::Outage;
use parla::media::peer::{AudioPeer, MediaState, PeerOptions, RtpAudio};
use parla::proto::Signal;
use tokio::sync::mpsc;

async fn peer() -> (AudioPeer, mpsc::Receiver<RtpAudio>) {
    peer_on(None).await
}

async fn peer_on(path: Option<&Outage>) -> (AudioPeer, mpsc::Receiver<RtpAudio>) {
    AudioPeer::new("127.0.0.1:0", &[], path, PeerOptions::default())
        .await
        .unwrap()
}

/// Forwards `from`'s trickled candidates to `to` until gathering is done.
fn trickle(from: &AudioPeer, to: Arc<AudioPeer>) {
    let mut candidates = from.take_candidates().unwrap();
    tokio::spawn(async move {
        while let Some(Some(Signal::Candidate {
            candidate,
            sdp_mid,
            sdp_mline_index,
        })) = candidates.recv().await
        {
            let _ = to.add_candidate(candidate, sdp_mid, sdp_mline_index).await;
        }
    });
}

/// A offers, B answers; A's audio engine starts as soon as the answer is in, before the
/// connection is up (as a call's does). Returns A's engine, B, and what B receives.
async fn a_sends_to_b(dtmf: &[char]) -> (AudioEngine, Arc<AudioPeer>, mpsc::Receiver<RtpAudio>) {
    a_sends_to(peer().await, dtmf).await
}

/// [`a_sends_to_b`] with a B of the caller's making.
async fn a_sends_to(
    (b, b_packets): (AudioPeer, mpsc::Receiver<RtpAudio>),
    dtmf: &[char],
) -> (AudioEngine, Arc<AudioPeer>, mpsc::Receiver<RtpAudio>) {
    let (a, a_packets) = peer().await;
    let (a, b) = (Arc::new(a), Arc::new(b));
    trickle(&a, b.clone());
    trickle(&b, a.clone());
    let answer = b.answer(a.offer().await.unwrap()).await.unwrap();
    a.accept_answer(answer).await.unwrap();
    let engine = AudioEngine::start(
        a.clone(),
        a_packets,
        Box::new(Tone::new(440.0)),
        Box::new(NullSink),
        false,
    );
    if !dtmf.is_empty() {
        engine
            .send_dtmf(
                dtmf,
                DtmfTiming {
                    duration: Duration::from_millis(100),
                    gap: Duration::from_millis(60),
                },
            )
            .await;
    }
    let mut state = b.state();
    tokio::time::timeout(
        Duration::from_secs(20),
        state.wait_for(|s| *s == MediaState::Connected),
    )
    .await
    .expect("never connected")
    .unwrap();
    (engine, b, b_packets)
}

/// Counts what B receives until `sent` packets came or none came for two seconds (the
/// sender has stopped, so nothing more is on its way after that).
async fn count_until(packets: &mut mpsc::Receiver<RtpAudio>, sent: u64) -> u64 {
    let mut received = 0;
    while received < sent {
        match tokio::time::timeout(Duration::from_secs(2), packets.recv()).await {
            Ok(Some(_)) => received += 1,
            _ => break,
        }
    }
    received
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_frame_sent_arrives_from_the_first_on() {
    let (engine, b, mut packets) = a_sends_to_b(&[]).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    // Frames sent after this count are not waited for.
    let sent = engine.stats().frames_sent;
    engine.stop().await.unwrap();
    let received = count_until(&mut packets, sent).await;
    let route = b.transport().await.route.expect("the pair in use");
    assert_eq!(route.local.kind, "host");
    assert!(route.remote.address.starts_with("127.0.0.1:"), "{route:?}");
    assert!(sent > 10, "only {sent} frames sent");
    assert_eq!(
        received, sent,
        "frames sent before the connection was ready were lost"
    );
    b.close().await;
}

/// B's socket hands on what it received in 200 ms bursts, as for a reader descheduled at
/// the wrong moment: the handshake's last flight and A's first packets reach B's stack
/// together, and the packets must wait for the keys that flight brings instead of being
/// thrown away for arriving before them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packets_read_with_the_last_handshake_flight_are_kept() {
    let bursty = Outage::default().impaired(Impairment {
        burst_ms: 200.0,
        ..Default::default()
    });
    let (engine, b, mut packets) = a_sends_to(peer_on(Some(&bursty)).await, &[]).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    // Frames sent after this count are not waited for.
    let sent = engine.stats().frames_sent;
    engine.stop().await.unwrap();
    let received = count_until(&mut packets, sent).await;
    assert!(sent > 10, "only {sent} frames sent");
    assert_eq!(received, sent, "frames read before the keys were lost");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_goes_ahead_of_the_first_digit() {
    let (engine, b, mut packets) = a_sends_to_b(&['4', '2']).await;
    let events = b.event_payload_types().await;
    let mut order = Vec::new();
    while order.len() < 12 {
        let p = tokio::time::timeout(Duration::from_secs(10), packets.recv())
            .await
            .expect("packets stopped")
            .unwrap();
        order.push(events.matches(p.payload_type));
    }
    let first_event = order
        .iter()
        .position(|e| *e)
        .expect("no telephone-event came");
    assert!(
        first_event >= 5,
        "the first digit came after {first_event} audio packets: {order:?}"
    );
    engine.stop().await.unwrap();
    b.close().await;
}
