//! The audio gap when the parties of a call change (reference 004's operations), against
//! the set-up of a call in the same run: from the operation to the moment every party
//! that now talks hears every other, in milliseconds.
//!
//! - **set-up**: the callee answers → caller and callee hear each other (each call made
//!   below gives one figure);
//! - **consultative transfer**: bob holds his calls with alice and carol and connects
//!   them → alice and carol hear each other;
//! - **join**: bob joins the two held calls and resumes the joined one → all three hear
//!   both others;
//! - **direct transfer**: bob transfers his held call with alice to carol, carol answers
//!   → alice and carol hear each other.
//!
//! Each client runs its calls through a `Switchboard`, as the interface does, sending a
//! tone of its own (alice 440 Hz, bob 660 Hz, carol 880 Hz); a party hears another when
//! a played frame carries that tone. The target: no gap longer than the set-up time
//! (`gap p50 ≤ set-up p50` and the same for p95, within a 20 ms frame and 10 %).
//!
//! `make bench` runs it; `target/bench/moves.json` gets the figures. Knobs:
//! PARLA_BENCH_MOVES (rounds of the three operations, 10); PARLA_BENCH_PAIRS (set: each
//! pair's time on stderr); PARLA_LOG (a log filter such as `parla=debug`, on stderr).

// Test code: fixtures convert numbers freely; scenarios read top to bottom.
#![allow(clippy::cast_possible_truncation)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use parla::client::call::media::AudioSetup;
use parla::client::call::switchboard::{AudioFactory, CallCommand, Switchboard};
use parla::client::{Client, ClientConfig, Event, Rest};
use parla::media::audio::{tone_strength, AudioSink, Tone};
use parla::server::Server;
use serde_json::json;
use support::{env_num, pct, KEY};

const LIMIT: Duration = Duration::from_secs(30);
const TONES: [f64; 3] = [440.0, 660.0, 880.0];
/// A frame carries a tone when this share of its energy is at that frequency (two tones
/// mixed give about half each).
const HEARD: f64 = 0.2;

/// One played frame: when, and how strong each of [`TONES`] was in it.
type Played = (Instant, [f64; 3]);

/// What one call played.
#[derive(Clone, Default)]
struct Ear(Arc<Mutex<Vec<Played>>>);

impl AudioSink for Ear {
    fn play(&mut self, frame: &[i16]) {
        let strengths = TONES.map(|hz| tone_strength(frame, hz));
        if let Ok(mut v) = self.0.lock() {
            // A minute of 20 ms frames is more than any round needs.
            if v.len() >= 3000 {
                v.drain(..1000);
            }
            v.push((Instant::now(), strengths));
        }
    }
}

/// A user's client with its calls on a switchboard, and what its calls played.
struct Phone {
    name: String,
    client: Client,
    board: Arc<tokio::sync::Mutex<Switchboard>>,
    ears: Arc<Mutex<Vec<Ear>>>,
    seen: Arc<Mutex<Vec<Event>>>,
}

impl Phone {
    async fn start(server: &Server, user: &str, tone: f64) -> Phone {
        let mut config = ClientConfig::new(server.url(), support::minted_tokens(server, user));
        config.presence = false;
        let (client, mut events) = Client::start(config).expect("client");
        loop {
            match tokio::time::timeout(LIMIT, events.recv()).await {
                Ok(Some(Event::Ready { .. })) => break,
                Ok(Some(_)) => {}
                _ => panic!("{user} did not connect"),
            }
        }
        let ears: Arc<Mutex<Vec<Ear>>> = Arc::default();
        let made = ears.clone();
        let audio: AudioFactory = Box::new(move || {
            let ear = Ear::default();
            if let Ok(mut v) = made.lock() {
                v.push(ear.clone());
            }
            AudioSetup {
                source: Box::new(Tone::new(tone)),
                sink: Box::new(ear),
                ..AudioSetup::silent("127.0.0.1:0")
            }
        });
        let (board, mut news) = Switchboard::new(client.clone(), audio);
        let board = Arc::new(tokio::sync::Mutex::new(board));
        let seen: Arc<Mutex<Vec<Event>>> = Arc::default();
        let (b, s) = (board.clone(), seen.clone());
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    e = events.recv() => match e {
                        Some(e) => {
                            b.lock().await.route(&e);
                            if let Ok(mut v) = s.lock() {
                                v.push(e);
                            }
                        }
                        None => break,
                    },
                    n = news.recv() => if n.is_none() { break },
                }
            }
        });
        Phone {
            name: user.to_owned(),
            client,
            board,
            ears,
            seen,
        }
    }

    async fn hold(&self, room: &str, on: bool) {
        let outcome = self.board.lock().await.request(room, CallCommand::Hold(on));
        outcome.await.expect("call task").expect("hold");
    }

    /// The first played frame at or after `since` carrying the tone `hz`, in any call.
    fn heard(&self, hz: f64, since: Instant) -> Option<Instant> {
        let i = TONES.iter().position(|t| (*t - hz).abs() < 1.0)?;
        let ears = self.ears.lock().ok()?;
        ears.iter()
            .filter_map(|ear| {
                let frames = ear.0.lock().ok()?;
                frames
                    .iter()
                    .find(|(at, s)| *at >= since && s[i] > HEARD)
                    .map(|(at, _)| *at)
            })
            .min()
    }

    fn saw(&self, pred: impl Fn(&Event) -> bool) -> bool {
        self.seen.lock().is_ok_and(|v| v.iter().any(pred))
    }

    /// Forgets what was seen and heard (between rounds).
    fn forget(&self) {
        if let Ok(mut v) = self.seen.lock() {
            v.clear();
        }
        if let Ok(mut v) = self.ears.lock() {
            v.clear();
        }
    }
}

/// Polls `cond` every 2 ms until it holds; panics after [`LIMIT`].
async fn until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + LIMIT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Waits until each `(phone, hz)` has heard `hz` since `since`; the time that took, in ms.
async fn all_heard(what: &str, since: Instant, pairs: &[(&Phone, f64)]) -> f64 {
    until(what, || {
        pairs.iter().all(|(p, hz)| p.heard(*hz, since).is_some())
    })
    .await;
    if std::env::var("PARLA_BENCH_PAIRS").is_ok() {
        let each: Vec<String> = pairs
            .iter()
            .filter_map(|(p, hz)| {
                let at = p.heard(*hz, since)?;
                Some(format!(
                    "{} hears {hz}: {:.1}",
                    p.name,
                    at.duration_since(since).as_secs_f64() * 1000.0
                ))
            })
            .collect();
        eprintln!("{what}: {}", each.join(", "));
    }
    let last = pairs
        .iter()
        .filter_map(|(p, hz)| p.heard(*hz, since))
        .max()
        .unwrap_or(since);
    last.duration_since(since).as_secs_f64() * 1000.0
}

fn rings(e: &Event, room: &str) -> bool {
    matches!(e, Event::CallIncoming { call } if call.room_id == room)
}

fn held_by(e: &Event, room: &str, who: &str) -> bool {
    matches!(e, Event::Call { view } if view.call.room_id == room
        && view.call.participant(who).is_some_and(|p| p.held))
}

fn over(e: &Event, room: &str) -> bool {
    matches!(e, Event::Call { view } | Event::CallMoved { view, .. }
        if view.call.room_id == room && view.is_ended())
}

/// `caller` dials `callee`, who answers; returns the room and the set-up time (answer →
/// both hear each other).
async fn call(caller: (&Phone, f64), callee: (&Phone, f64)) -> (String, f64) {
    let room = caller
        .0
        .client
        .dial(&[callee_id(callee.0)])
        .await
        .expect("dial")
        .room_id;
    until("the ring", || callee.0.saw(|e| rings(e, &room))).await;
    let start = Instant::now();
    callee.0.client.answer(&room).await.expect("answer");
    let took = all_heard(
        "set-up",
        start,
        &[(caller.0, callee.1), (callee.0, caller.1)],
    )
    .await;
    (room, took)
}

fn callee_id(p: &Phone) -> String {
    p.name.clone()
}

/// Holds `room` from `holder`'s side and waits until `other` sees the server record it.
async fn hold(holder: &Phone, other: &Phone, room: &str) {
    holder.hold(room, true).await;
    let who = callee_id(holder);
    until("the hold recorded", || {
        other.saw(|e| held_by(e, room, &who))
    })
    .await;
}

/// alice calls bob, who holds it and calls carol, and holds that too; returns the two
/// rooms, and adds the two set-up times to `setup`.
async fn bob_holding_two(
    alice: (&Phone, f64),
    bob: (&Phone, f64),
    carol: (&Phone, f64),
    setup: &mut Vec<f64>,
) -> (String, String) {
    let (room_a, t1) = call(alice, bob).await;
    hold(bob.0, alice.0, &room_a).await;
    let (room_b, t2) = call(bob, carol).await;
    hold(bob.0, carol.0, &room_b).await;
    setup.extend([t1, t2]);
    (room_a, room_b)
}

/// Hangs up what is left of `room` everywhere and waits until it is over for everyone.
async fn clear(phones: &[&Phone], room: &str) {
    for p in phones {
        let _ = p.client.hangup(room).await;
    }
    for p in phones {
        until("the call over", || p.saw(|e| over(e, room))).await;
    }
    // Let the call tasks finish before the next round.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for p in phones {
        p.forget();
    }
}

fn summary(v: &mut [f64]) -> serde_json::Value {
    v.sort_by(f64::total_cmp);
    json!({"n": v.len(), "p50": pct(v, 0.5), "p95": pct(v, 0.95), "all": v})
}

fn main() {
    support::log_from_env();
    let rounds = env_num("PARLA_BENCH_MOVES", 10);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let dir = tempfile::tempdir().expect("tempdir");
        let server = support::call_server(dir.path()).await;
        let admin = Rest::new(&server.url()).expect("rest").with_api_key(KEY);
        for u in ["alice", "bob", "carol"] {
            admin.admin_create_user(u, None).await.expect("user");
        }
        let alice = Phone::start(&server, "alice", TONES[0]).await;
        let bob = Phone::start(&server, "bob", TONES[1]).await;
        let carol = Phone::start(&server, "carol", TONES[2]).await;
        let (a, b, c) = ((&alice, TONES[0]), (&bob, TONES[1]), (&carol, TONES[2]));
        let everyone = [&alice, &bob, &carol];

        let (mut setup, mut warm, mut join, mut blind) = (vec![], vec![], vec![], vec![]);
        for _ in 0..rounds {
            // Consultative transfer: bob's two held calls connected.
            let (room_a, room_b) = bob_holding_two(a, b, c, &mut setup).await;
            let start = Instant::now();
            bob.client
                .consultative_transfer(&room_a, &room_b)
                .await
                .expect("consultative transfer");
            warm.push(
                all_heard(
                    "the transferred parties",
                    start,
                    &[(&alice, TONES[2]), (&carol, TONES[0])],
                )
                .await,
            );
            clear(&everyone, &room_a).await;

            // Join: the same two held calls made one, and resumed.
            let (room_a, room_b) = bob_holding_two(a, b, c, &mut setup).await;
            let start = Instant::now();
            bob.client.merge(&room_a, &room_b).await.expect("join");
            bob.hold(&room_a, false).await;
            join.push(
                all_heard(
                    "the joined parties",
                    start,
                    &[
                        (&alice, TONES[1]),
                        (&alice, TONES[2]),
                        (&bob, TONES[0]),
                        (&bob, TONES[2]),
                        (&carol, TONES[0]),
                        (&carol, TONES[1]),
                    ],
                )
                .await,
            );
            clear(&everyone, &room_a).await;

            // Direct transfer: alice ↔ bob held, transferred to carol, who answers.
            let (room, t1) = call(a, b).await;
            hold(&bob, &alice, &room).await;
            setup.push(t1);
            bob.client.transfer(&room, "carol").await.expect("transfer");
            until("carol's ring", || carol.saw(|e| rings(e, &room))).await;
            let start = Instant::now();
            carol.client.answer(&room).await.expect("answer");
            blind.push(
                all_heard(
                    "the transferred call",
                    start,
                    &[(&alice, TONES[2]), (&carol, TONES[0])],
                )
                .await,
            );
            clear(&everyone, &room).await;
        }

        let setup = summary(&mut setup);
        let rows = [
            ("consultative_transfer_ms", summary(&mut warm)),
            ("join_ms", summary(&mut join)),
            ("direct_transfer_ms", summary(&mut blind)),
        ];
        println!();
        println!("audio gap when the parties change, on loopback (operation → all heard)");
        let line = |label: &str, v: &serde_json::Value| {
            println!(
                "{label}: n={} p50 {:.1} ms, p95 {:.1} ms",
                v["n"],
                v["p50"].as_f64().unwrap_or(f64::NAN),
                v["p95"].as_f64().unwrap_or(f64::NAN)
            );
        };
        line("set-up (answer → both heard)", &setup);
        // Within the target: no longer than set-up, give or take a frame and 10 %.
        let within = |gap: &serde_json::Value, q: &str| {
            let (g, s) = (gap[q].as_f64(), setup[q].as_f64());
            g.zip(s).is_some_and(|(g, s)| g <= s * 1.1 + 20.0)
        };
        let mut out = json!({"suite": "moves", "setup_ms": setup.clone()});
        for (name, v) in &rows {
            line(name.trim_end_matches("_ms"), v);
            let ok = within(v, "p50") && within(v, "p95");
            println!(
                "  {}",
                if ok {
                    "within set-up"
                } else {
                    "LONGER than set-up"
                }
            );
            out[*name] = v.clone();
            out[format!("{}_within_setup", name.trim_end_matches("_ms"))] = json!(ok);
        }
        support::write_json("moves", &out);
        for p in everyone {
            p.client.stop();
        }
        server.shutdown().await;
    });
}
