//! Calls on loopback: set-up time, mouth-to-ear latency, CPU per call.
//!
//! - set-up: dial → both sides' media connected (signaling through the real server, ICE +
//!   DTLS between two webrtc-rs peers), repeated, p50/p95;
//! - mouth-to-ear: a source that emits short clicks at irregular known moments, a sink that
//!   timestamps the frame in which each click comes out of the jitter buffer; mouth = the
//!   source handing the frame to the encoder, ear = the playout side pulling it;
//! - CPU: process CPU time over wall time while N calls run with tones both ways, per call
//!   side (each call has two sides in this process; the server idles meanwhile).
//!
//! `make bench` runs it; `target/bench/calls.json` gets the figures. Knobs:
//! PARLA_BENCH_SETUPS (20), PARLA_BENCH_CALLS ("10,50"), PARLA_BENCH_CPU_SECONDS (5).

mod support;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{cpu_seconds, env_num, pct};

use parla::client::call::CallState;
use parla::client::media_call::AudioSetup;
use parla::client::phone::{CallDriver, CallEvent};
use parla::client::{Client, ClientConfig, Event, Rest, TokenSource};
use parla::media::audio::{AudioSink, AudioSource, NullSink, Silence, Tone};
use parla::media::net::Outage;
use parla::server::{Server, ServerConfig};
use tokio::sync::mpsc::UnboundedReceiver;

const KEY: &str = "bench-api-key-0123456789";
const LIMIT: Duration = Duration::from_secs(30);

struct Party {
    client: Client,
    events: UnboundedReceiver<Event>,
}

async fn party(server: &Server, user: &str) -> Party {
    let state = server.state().clone();
    let u = user.to_owned();
    let source = TokenSource::provider(move || {
        let state = state.clone();
        let u = u.clone();
        async move {
            state
                .mint_token(&u, chrono::Utc::now(), 3600)
                .await
                .map(|(t, _)| t)
                .map_err(|e| e.to_string())
        }
    });
    let mut config = ClientConfig::new(server.url(), source);
    config.presence = false;
    let (client, mut events) = Client::start(config).expect("client");
    loop {
        match tokio::time::timeout(LIMIT, events.recv()).await {
            Ok(Some(Event::Ready { .. })) => break,
            Ok(Some(_)) => continue,
            _ => panic!("{user} did not connect"),
        }
    }
    Party { client, events }
}

fn audio(source: Box<dyn AudioSource>, sink: Box<dyn AudioSink>) -> AudioSetup {
    AudioSetup {
        source,
        sink,
        ..AudioSetup::silent("127.0.0.1:0")
    }
}

/// Places one call and drives both sides until both see media connected. Returns the
/// drivers and the set-up time.
async fn connect(
    a: &mut Party,
    b: &mut Party,
    callee: &str,
    a_audio: AudioSetup,
    b_audio: AudioSetup,
) -> (CallDriver, CallDriver, Duration) {
    let start = Instant::now();
    let room = a
        .client
        .dial(&[callee.to_owned()])
        .await
        .expect("dial")
        .room_id;
    let mut da = CallDriver::new(a.client.clone(), &room, a_audio);
    let mut db = CallDriver::new(b.client.clone(), &room, b_audio);
    let (mut up_a, mut up_b, mut answered) = (false, false, false);
    let deadline = Instant::now() + LIMIT;
    while !(up_a && up_b) {
        assert!(Instant::now() < deadline, "call set-up timed out");
        tokio::select! {
            Some(e) = a.events.recv() => {
                if let Ok(Some(CallEvent::State(v))) = da.on_event(&e).await {
                    up_a |= v.state == CallState::Connected;
                }
            }
            Some(e) = b.events.recv() => {
                if !answered {
                    if let Event::CallIncoming { call } = &e {
                        if call.room_id == room {
                            answered = true;
                            b.client.answer(&room).await.expect("answer");
                        }
                    }
                }
                if let Ok(Some(CallEvent::State(v))) = db.on_event(&e).await {
                    up_b |= v.state == CallState::Connected;
                }
            }
        }
    }
    (da, db, start.elapsed())
}

async fn hang_up(a: &mut Party, da: CallDriver, db: CallDriver) {
    let room = da.room_id().to_owned();
    let _ = a.client.hangup(&room).await;
    let _ = da.finish().await;
    let _ = db.finish().await;
}

/// Clicks at irregular, known frames; records when each click frame was handed over.
struct ClickSource {
    frame: u64,
    next_click: u64,
    sent: Arc<Mutex<Vec<Instant>>>,
}

impl AudioSource for ClickSource {
    fn next_frame(&mut self, out: &mut [i16]) -> bool {
        out.fill(0);
        if self.frame == self.next_click {
            for (i, s) in out.iter_mut().take(240).enumerate() {
                *s = (((i as f64) * 0.4).sin() * 20_000.0) as i16;
            }
            if let Ok(mut v) = self.sent.lock() {
                v.push(Instant::now());
            }
            // 300-620 ms apart, never a fixed period.
            self.next_click += 15 + (self.frame * 7919) % 17;
        }
        self.frame += 1;
        true
    }
}

/// Records when frames carrying a click come out of the jitter buffer.
struct ClickSink {
    heard: Arc<Mutex<Vec<Instant>>>,
    loud: bool,
}

impl AudioSink for ClickSink {
    fn play(&mut self, frame: &[i16]) {
        let peak = frame.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        let loud = peak > 4000;
        if loud && !self.loud {
            if let Ok(mut v) = self.heard.lock() {
                v.push(Instant::now());
            }
        }
        self.loud = loud;
    }
}

fn main() {
    let setups = env_num("PARLA_BENCH_SETUPS", 20);
    let cpu_secs = env_num("PARLA_BENCH_CPU_SECONDS", 5);
    let call_counts: Vec<usize> = std::env::var("PARLA_BENCH_CALLS")
        .unwrap_or_else(|_| "10,50".into())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = ServerConfig::new("127.0.0.1:0".parse().expect("addr"), dir.path().into());
        config.api_key = Some(KEY.into());
        let server = Server::start(config).await.expect("server");
        let admin = Rest::new(&server.url()).expect("rest").with_api_key(KEY);
        let max_calls = call_counts.iter().copied().max().unwrap_or(1).max(1);
        for i in 0..max_calls {
            for side in ["a", "b"] {
                admin
                    .admin_create_user(&format!("{side}{i:03}"), None)
                    .await
                    .expect("user");
            }
        }

        // Set-up time.
        let mut a = party(&server, "a000").await;
        let mut b = party(&server, "b000").await;
        let mut times = Vec::new();
        for _ in 0..setups {
            let (da, db, t) = connect(
                &mut a,
                &mut b,
                "b000",
                audio(Box::new(Tone::new(440.0)), Box::new(NullSink)),
                audio(Box::new(Tone::new(880.0)), Box::new(NullSink)),
            )
            .await;
            times.push(t.as_secs_f64() * 1000.0);
            hang_up(&mut a, da, db).await;
            // Let the room end everywhere before the next dial.
            tokio::time::sleep(Duration::from_millis(50)).await;
            while a.events.try_recv().is_ok() {}
            while b.events.try_recv().is_ok() {}
        }
        times.sort_by(f64::total_cmp);

        // Mouth-to-ear.
        let sent = Arc::new(Mutex::new(Vec::new()));
        let heard = Arc::new(Mutex::new(Vec::new()));
        let (da, db, _) = connect(
            &mut a,
            &mut b,
            "b000",
            audio(
                Box::new(ClickSource {
                    frame: 0,
                    next_click: 25,
                    sent: sent.clone(),
                }),
                Box::new(NullSink),
            ),
            audio(
                Box::new(Silence),
                Box::new(ClickSink {
                    heard: heard.clone(),
                    loud: false,
                }),
            ),
        )
        .await;
        tokio::time::sleep(Duration::from_secs(10)).await;
        let jb = db.media().and_then(|m| m.stats());
        hang_up(&mut a, da, db).await;
        let (sent, heard) = (
            sent.lock().map(|v| v.clone()).unwrap_or_default(),
            heard.lock().map(|v| v.clone()).unwrap_or_default(),
        );
        // Pair each heard click with the latest click sent before it.
        let mut m2e: Vec<f64> = heard
            .iter()
            .filter_map(|h| sent.iter().rev().find(|s| *s <= h).map(|s| (*h - *s).as_secs_f64() * 1000.0))
            .filter(|ms| *ms < 250.0)
            .collect();
        m2e.sort_by(f64::total_cmp);

        // Path drop: alice's sockets go dead mid-call (as when a laptop changes network);
        // time until bob's tone is heard again over the new path found by an ICE restart.
        let mut recoveries = Vec::new();
        for _ in 0..env_num("PARLA_BENCH_PATH_DROPS", 5) {
            let outage = Outage::default();
            let heard = Arc::new(Mutex::new(Vec::new()));
            let mut a_audio = audio(
                Box::new(Silence),
                Box::new(ClickSink {
                    heard: heard.clone(),
                    loud: false,
                }),
            );
            a_audio.outage = Some(outage.clone());
            let (mut da, mut db, _) = connect(
                &mut a,
                &mut b,
                "b000",
                a_audio,
                audio(Box::new(Tone::new(440.0)), Box::new(NullSink)),
            )
            .await;
            tokio::time::sleep(Duration::from_millis(500)).await;
            let cut = Instant::now();
            outage.cut();
            let deadline = cut + LIMIT;
            let back = loop {
                let now = Instant::now();
                if let Some(t) = heard.lock().ok().and_then(|v| v.iter().copied().find(|t| *t > cut + Duration::from_millis(300))) {
                    break Some(t - cut);
                }
                if now > deadline {
                    break None;
                }
                tokio::select! {
                    Some(e) = a.events.recv() => { let _ = da.on_event(&e).await; }
                    Some(e) = b.events.recv() => { let _ = db.on_event(&e).await; }
                    _ = da.next_media_event() => {}
                    _ = db.next_media_event() => {}
                    _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                }
            };
            match back {
                Some(d) => recoveries.push(d.as_secs_f64() * 1000.0),
                None => eprintln!("audio did not come back after a path drop"),
            }
            hang_up(&mut a, da, db).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
            while a.events.try_recv().is_ok() {}
            while b.events.try_recv().is_ok() {}
        }
        recoveries.sort_by(f64::total_cmp);

        // CPU per call side.
        let mut cpu_rows = Vec::new();
        for &n in &call_counts {
            let mut pairs = Vec::new();
            for i in 0..n {
                pairs.push((
                    party(&server, &format!("a{i:03}")).await,
                    party(&server, &format!("b{i:03}")).await,
                ));
            }
            let mut calls = Vec::new();
            for (i, (pa, pb)) in pairs.iter_mut().enumerate() {
                let (da, db, _) = connect(
                    pa,
                    pb,
                    &format!("b{i:03}"),
                    audio(Box::new(Tone::new(440.0)), Box::new(NullSink)),
                    audio(Box::new(Tone::new(880.0)), Box::new(NullSink)),
                )
                .await;
                calls.push((da, db));
            }
            let (c0, t0) = (cpu_seconds(), Instant::now());
            tokio::time::sleep(Duration::from_secs(cpu_secs)).await;
            let (c1, wall) = (cpu_seconds(), t0.elapsed().as_secs_f64());
            let concealed: u64 = calls
                .iter()
                .flat_map(|(da, db)| [da, db])
                .filter_map(|d| d.media().and_then(|m| m.stats()))
                .map(|s| s.jitter.concealed)
                .sum();
            let per_side = (c1 - c0) / wall / (2 * n) as f64 * 100.0;
            cpu_rows.push(serde_json::json!({
                "calls": n, "cpu_percent_of_one_core_per_side": per_side,
                "process_cpu_percent": (c1 - c0) / wall * 100.0, "concealed_frames": concealed,
            }));
            for ((pa, _), (da, db)) in pairs.iter_mut().zip(calls) {
                hang_up(pa, da, db).await;
            }
            for (pa, pb) in pairs {
                pa.client.stop();
                pb.client.stop();
            }
        }

        println!();
        println!("calls on loopback (webrtc-rs, Opus 20 ms, adaptive jitter buffer)");
        println!(
            "set-up dial→connected: n={} p50 {:.1} ms, p95 {:.1} ms",
            times.len(),
            pct(&times, 0.5),
            pct(&times, 0.95)
        );
        println!(
            "mouth-to-ear: n={} p50 {:.1} ms, p95 {:.1} ms (jitter buffer target {:.0} ms)",
            m2e.len(),
            pct(&m2e, 0.5),
            pct(&m2e, 0.95),
            jb.as_ref().map(|s| s.buffer_target_ms).unwrap_or(f64::NAN)
        );
        println!(
            "path drop → audio back (ICE restart on new sockets): n={} p50 {:.0} ms, p95 {:.0} ms",
            recoveries.len(),
            pct(&recoveries, 0.5),
            pct(&recoveries, 0.95)
        );
        for r in &cpu_rows {
            println!(
                "{} concurrent calls: {:.2} % of one core per call side ({:.0} % for the process), {} frames concealed",
                r["calls"], r["cpu_percent_of_one_core_per_side"].as_f64().unwrap_or(f64::NAN),
                r["process_cpu_percent"].as_f64().unwrap_or(f64::NAN), r["concealed_frames"]
            );
        }
        let out = serde_json::json!({
            "suite": "calls",
            "setup_ms": {"n": times.len(), "p50": pct(&times, 0.5), "p95": pct(&times, 0.95), "all": times},
            "mouth_to_ear_ms": {"n": m2e.len(), "p50": pct(&m2e, 0.5), "p95": pct(&m2e, 0.95)},
            "path_drop_recovery_ms": {"n": recoveries.len(), "p50": pct(&recoveries, 0.5), "p95": pct(&recoveries, 0.95)},
            "cpu": cpu_rows,
        });
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("calls.json");
        match std::fs::write(&path, serde_json::to_string_pretty(&out).unwrap_or_default()) {
            Ok(()) => println!("wrote {}", path.display()),
            Err(e) => eprintln!("cannot write {}: {e}", path.display()),
        }
        a.client.stop();
        b.client.stop();
        server.shutdown().await;
    });
}
