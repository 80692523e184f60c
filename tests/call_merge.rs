//! Two calls one party holds, made one: a consultative (warm) transfer connects their
//! remote parties with each other, and a join makes one three-party call. Real server,
//! real clients, each running its calls through a `Switchboard` as the interface does
//! (the party moved into the other room gets `call_moved` and its call goes on), with
//! the audio checked where the parties change.

// Test code: scenarios read top to bottom.
#![allow(clippy::cognitive_complexity)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::party::{connected, tone_setup};
use common::*;
use parla::client::call::switchboard::{AudioFactory, CallCommand, CallNews, Switchboard};
use parla::client::call::CallState;
use parla::client::{CallOperation, Client, Event, OperationStage};
use parla::media::audio::{tone_strength, Capture};
use parla::media::device::DeviceCounters;
use parla::media::net::Outage;
use parla::proto::{EndReason, ErrorCode, ParticipantState};

/// A user's client with its calls on a switchboard, sending `freq` Hz in every call, and
/// what it hears (each call into a capture of its own, as each would play on its own).
struct Phone {
    name: String,
    client: Client,
    board: Arc<tokio::sync::Mutex<Switchboard>>,
    heard: Arc<Mutex<Vec<Capture>>>,
    seen: Arc<Mutex<Vec<Event>>>,
    errors: Arc<Mutex<Vec<String>>>,
    _task: tokio::task::JoinHandle<()>,
}

impl Phone {
    fn start(name: &str, client: Client, mut events: Events, freq: f64) -> Phone {
        let heard: Arc<Mutex<Vec<Capture>>> = Arc::default();
        let captures = heard.clone();
        let audio: AudioFactory = Box::new(move || {
            let sink = Capture::default();
            captures.lock().unwrap().push(sink.clone());
            tone_setup(
                freq,
                &sink,
                false,
                &Outage::default(),
                &Arc::new(DeviceCounters::default()),
            )
        });
        let (board, mut news) = Switchboard::new(client.clone(), audio);
        let board = Arc::new(tokio::sync::Mutex::new(board));
        let seen: Arc<Mutex<Vec<Event>>> = Arc::default();
        let errors: Arc<Mutex<Vec<String>>> = Arc::default();
        let (b, s, errs) = (board.clone(), seen.clone(), errors.clone());
        let task = tokio::spawn(async move {
            for e in std::mem::take(&mut events.seen) {
                b.lock().await.route(&e);
                s.lock().unwrap().push(e);
            }
            loop {
                tokio::select! {
                    e = events.rx.recv() => match e {
                        Some(e) => {
                            b.lock().await.route(&e);
                            s.lock().unwrap().push(e);
                        }
                        None => break,
                    },
                    n = news.recv() => match n {
                        Some(CallNews::Error(room, e)) => errs.lock().unwrap().push(format!("{room}: {e}")),
                        Some(_) => {}
                        None => break,
                    },
                }
            }
        });
        Phone {
            name: name.to_owned(),
            client,
            board,
            heard,
            seen,
            errors,
            _task: task,
        }
    }

    async fn hold(&self, room: &str, on: bool) {
        let outcome = self.board.lock().await.request(room, CallCommand::Hold(on));
        outcome.await.unwrap().unwrap();
    }

    /// Strength of `hz` in the last 300 ms heard in this phone's `n`th call (from 0).
    fn hears_in(&self, n: usize, hz: f64) -> f64 {
        let captures = self.heard.lock().unwrap();
        let s = captures.get(n).map(Capture::samples).unwrap_or_default();
        let len = (48 * 300).min(s.len());
        tone_strength(&s[s.len() - len..], hz)
    }

    /// Strength of `hz` in the last 300 ms heard, in the call that hears it best.
    fn hears(&self, hz: f64) -> f64 {
        self.heard
            .lock()
            .unwrap()
            .iter()
            .map(|c| {
                let s = c.samples();
                let n = (48 * 300).min(s.len());
                tone_strength(&s[s.len() - n..], hz)
            })
            .fold(0.0, f64::max)
    }

    /// The states this phone's call `room` went through (under that room, or moved to it).
    fn states(&self, room: &str) -> Vec<CallState> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                Event::Call { view } | Event::CallMoved { view, .. }
                    if view.call.room_id == room =>
                {
                    Some(view.state)
                }
                _ => None,
            })
            .collect()
    }

    fn saw(&self, pred: impl Fn(&Event) -> bool) -> bool {
        self.seen.lock().unwrap().iter().any(pred)
    }

    /// Polls `cond` every 50 ms until it holds; fails after WAIT.
    async fn wait(&self, what: &str, cond: impl Fn() -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !cond() {
            let errors = self.errors.lock().unwrap().clone();
            assert!(errors.is_empty(), "{}: call errors {errors:?}", self.name);
            assert!(
                tokio::time::Instant::now() < deadline,
                "{}: timed out waiting for {what}",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// No call of this phone's failed (checked as it waits too, but an error after the
    /// last wait would go unseen).
    fn no_errors(&self) {
        let errors = self.errors.lock().unwrap().clone();
        assert!(errors.is_empty(), "{}: call errors {errors:?}", self.name);
    }

    async fn wait_hears(&self, hz: f64) {
        self.wait(&format!("{hz} Hz"), || self.hears(hz) > 0.2)
            .await;
    }

    async fn wait_state(&self, room: &str, what: &str, pred: impl Fn(&CallState) -> bool) {
        self.wait(what, || self.states(room).last().is_some_and(&pred))
            .await;
    }

    /// Waits until the server has recorded `who`'s hold of `room` (as this phone sees it).
    async fn wait_held_by(&self, room: &str, who: &str) {
        self.wait(&format!("{who} holding {room}"), || {
            self.saw(|e| {
                matches!(e, Event::Call { view } if view.call.room_id == room
                    && view.call.participant(who).is_some_and(|p| p.held))
            })
        })
        .await;
    }
}

fn ended(reason: EndReason) -> impl Fn(&CallState) -> bool {
    move |s| *s == CallState::Ended { reason }
}

/// alice calls bob (A), bob holds it and calls carol (B), carol answers; audio checked on
/// both. Tones: alice 440 Hz, bob 660 Hz, carol 880 Hz.
async fn bob_with_two_calls() -> (TestServer, Phone, Phone, Phone, String, String) {
    let t = TestServer::start().await;
    t.users(&["alice", "bob", "carol"]).await;
    let (alice, a) = t.client("alice").await;
    let (bob, mut b) = t.client("bob").await;
    let (carol, mut c) = t.client("carol").await;
    let room_a = alice.dial(&["bob".into()]).await.unwrap().room_id;
    b.wait_seen("ring", |e| matches!(e, Event::CallIncoming { .. }))
        .await;
    let pa = Phone::start("alice", alice, a, 440.0);
    let pb = Phone::start("bob", bob.clone(), b, 660.0);
    bob.answer(&room_a).await.unwrap();
    pa.wait_hears(660.0).await;
    pb.wait_hears(440.0).await;
    pb.hold(&room_a, true).await;
    pa.wait_held_by(&room_a, "bob").await;
    pa.wait_state(&room_a, "bob's hold", |s| {
        matches!(s, CallState::OnHold { remote: true, .. })
    })
    .await;

    let room_b = bob.dial(&["carol".into()]).await.unwrap().room_id;
    c.wait_seen("ring", |e| matches!(e, Event::CallIncoming { .. }))
        .await;
    let pc = Phone::start("carol", carol.clone(), c, 880.0);
    carol.answer(&room_b).await.unwrap();
    pc.wait_hears(660.0).await;
    pb.wait_hears(880.0).await;
    (t, pa, pb, pc, room_a, room_b)
}

fn operation(op: CallOperation, stage: OperationStage) -> impl Fn(&Event) -> bool {
    move |e| {
        matches!(e, Event::CallOperation { operation, stage: s, .. }
            if *operation == op && *s == stage)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consultative_transfer_connects_the_two_remote_parties_and_ends_both_calls() {
    let (_t, pa, pb, pc, room_a, room_b) = bob_with_two_calls().await;
    let bob = pb.client.clone();

    // Refusals: the second call is not held yet; one call twice; a call that is not his.
    let e = bob
        .consultative_transfer(&room_a, &room_b)
        .await
        .unwrap_err();
    assert_eq!(e.api_code(), Some(ErrorCode::InvalidCallStatus), "{e}");
    let e = bob
        .consultative_transfer(&room_a, &room_a)
        .await
        .unwrap_err();
    assert_eq!(e.api_code(), Some(ErrorCode::ValidationError), "{e}");
    let e = bob
        .consultative_transfer(&room_a, "call_0000")
        .await
        .unwrap_err();
    assert_eq!(e.api_code(), Some(ErrorCode::CallNotFound), "{e}");
    pb.wait("the failures reported", || {
        pb.saw(|e| {
            matches!(e, Event::CallOperation {
                operation: CallOperation::ConsultativeTransfer,
                stage: OperationStage::Failed { code, .. },
                ..
            } if code == "invalid_call_status")
        })
    })
    .await;

    pb.hold(&room_b, true).await;
    pc.wait_held_by(&room_b, "bob").await;
    let call = bob.consultative_transfer(&room_a, &room_b).await.unwrap();
    let me = call.participant("bob").unwrap();
    assert_eq!(me.state, ParticipantState::Transferred);
    assert_eq!(me.transferred_to.as_deref(), Some("carol"));
    assert_eq!(
        call.participant("carol").map(|p| p.state),
        Some(ParticipantState::Joined)
    );

    // Both of bob's calls end; alice and carol talk to each other.
    pb.wait_state(&room_a, "A over", ended(EndReason::Transferred))
        .await;
    pb.wait_state(&room_b, "B over", ended(EndReason::Transferred))
        .await;
    pa.wait_hears(880.0).await;
    pc.wait_hears(440.0).await;
    pa.wait("bob no longer heard", || pa.hears(660.0) < 0.05)
        .await;
    pc.wait("bob no longer heard", || pc.hears(660.0) < 0.05)
        .await;
    // To each it is a remote resume of the call they had: alice's room is the same,
    // carol's goes on under alice's.
    pa.wait_state(&room_a, "talking again", connected).await;
    assert!(pa
        .states(&room_a)
        .iter()
        .any(|s| matches!(s, CallState::OnHold { remote: true, .. })));
    assert!(pc.saw(
        |e| matches!(e, Event::CallMoved { from_room, view } if *from_room == room_b
            && view.call.room_id == room_a)
    ));
    pc.wait_state(&room_a, "talking with alice", connected)
        .await;
    assert!(
        !pc.states(&room_b)
            .iter()
            .any(|s| matches!(s, CallState::Ended { .. })),
        "carol's call did not end: {:?}",
        pc.states(&room_b)
    );
    pb.wait("finished", || {
        pb.saw(operation(
            CallOperation::ConsultativeTransfer,
            OperationStage::Finished,
        ))
    })
    .await;

    // The call ends as any: carol hangs up, alice's call is over.
    pc.client.hangup(&room_a).await.unwrap();
    pa.wait_state(&room_a, "hung up", ended(EndReason::HangUp))
        .await;
    for p in [&pa, &pb, &pc] {
        p.no_errors();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joining_two_held_calls_makes_one_call_of_three_that_everyone_hears() {
    let (_t, pa, pb, pc, room_a, room_b) = bob_with_two_calls().await;
    let bob = pb.client.clone();
    pb.hold(&room_b, true).await;
    pc.wait_held_by(&room_b, "bob").await;
    let call = bob.merge(&room_a, &room_b).await.unwrap();
    for who in ["alice", "bob", "carol"] {
        assert!(
            call.participant(who).is_some_and(|p| matches!(
                p.state,
                ParticipantState::Calling | ParticipantState::Joined
            )),
            "{who} in the joined call: {call:?}"
        );
    }
    pb.wait_state(&room_b, "B over", ended(EndReason::Joined))
        .await;
    pb.hold(&room_a, false).await;

    // Everyone hears both others, in the call each had with bob at first (bob's other
    // call has ended).
    for (p, hz) in [
        (&pa, [660.0, 880.0]),
        (&pb, [440.0, 880.0]),
        (&pc, [440.0, 660.0]),
    ] {
        p.wait(&format!("{hz:?}"), || {
            p.hears_in(0, hz[0]) > 0.2 && p.hears_in(0, hz[1]) > 0.2
        })
        .await;
    }
    assert!(pc.saw(
        |e| matches!(e, Event::CallMoved { from_room, view } if *from_room == room_b
            && view.call.room_id == room_a)
    ));
    pb.wait("finished", || {
        pb.saw(operation(CallOperation::Join, OperationStage::Finished))
    })
    .await;

    // alice leaves: bob and carol go on, and still hear each other.
    pa.client.hangup(&room_a).await.unwrap();
    pa.wait_state(&room_a, "left", ended(EndReason::HangUp))
        .await;
    pc.wait("only bob", || {
        pc.hears_in(0, 660.0) > 0.5 && pc.hears_in(0, 440.0) < 0.05
    })
    .await;
    assert!(pc
        .states(&room_a)
        .last()
        .is_some_and(|s| !matches!(s, CallState::Ended { .. })));
    bob.hangup(&room_a).await.unwrap();
    pc.wait_state(&room_a, "over", ended(EndReason::HangUp))
        .await;
    for p in [&pa, &pb, &pc] {
        p.no_errors();
    }
}
