//! Call media beyond two people talking: ring tone and ringback, group calls through the
//! mixing bridge, ICE restart when the network path drops, and both sides holding (also at
//! the same moment). Real server, real clients, webrtc-rs peers over loopback.

mod common;

use std::time::Duration;

use common::party::{connected, Party};
use common::*;
use parla::client::call::CallState;
use parla::client::Event;
use parla::media::peer::MediaState;
use parla::media::tones::{RING, RINGBACK};

async fn users(t: &TestServer, names: &[&str]) {
    for u in names {
        t.user(u).await;
    }
}

fn on_hold(local: bool, remote: bool) -> impl Fn(&CallState) -> bool {
    move |s| *s == CallState::OnHold { local, remote }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ringback_and_ring_tone_play_until_answered() {
    let t = TestServer::start().await;
    users(&t, &["alice", "bob"]).await;
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
    users(&t, &["alice", "bob", "carol"]).await;
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
    users(t, &["alice", "bob"]).await;
    let (alice, a) = t.client("alice").await;
    let (bob, mut b) = t.client("bob").await;
    let room = alice.dial(&["bob".into()]).await.unwrap().room_id;
    b.wait_seen("ring", |e| matches!(e, Event::CallIncoming { .. }))
        .await;
    bob.answer(&room).await.unwrap();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sound_card_dropouts_are_reported_in_the_call_statistics() {
    use std::sync::atomic::Ordering;
    let t = TestServer::start().await;
    let (pa, pb, room) = connected_pair(&t).await;
    pa.device.playback_underruns.fetch_add(3, Ordering::Relaxed);
    pa.device.capture_overruns.fetch_add(2, Ordering::Relaxed);
    pa.client.hangup(&room).await.unwrap();
    let stats = pa.finish().await.expect("statistics at the end");
    assert_eq!((stats.device_underruns, stats.device_overruns), (3, 2));
    let other = pb.finish().await.expect("statistics at the end");
    assert_eq!((other.device_underruns, other.device_overruns), (0, 0));
}
