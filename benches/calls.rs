//! Calls on loopback: set-up time, mouth-to-ear latency, CPU per call.
//!
//! - set-up: dial → both sides' media connected (signaling through the real server, ICE +
//!   DTLS between two webrtc-rs peers), repeated, p50/p95;
//! - mouth-to-ear, stamped at the sample: each side's source writes short chirps at known
//!   sample offsets of irregular frames (mouth = the moment the source hands that frame to
//!   the encoder, plus the chirp's offset in it); each side's sink keeps every frame it is
//!   given with the moment it was pulled from the jitter buffer (ear = that moment plus the
//!   offset at which cross-correlation finds the chirp). Both directions at once, several
//!   calls, then again with two CPU hogs running beside them;
//! - CPU: process CPU time over wall time while N calls run with tones both ways, per call
//!   side (each call has two sides in this process; the server idles meanwhile); and one
//!   call with each side in a process of its own, as baresip runs one user agent a process.
//!
//! Every audio figure comes with what the jitter buffer did to get it: frames concealed
//! (lost), expanded (ran dry), skipped, and packets dropped before the buffer.
//!
//! `make bench` runs it; `target/bench/calls.json` gets the figures. Knobs:
//! PARLA_BENCH_SETUPS (20), PARLA_BENCH_CALLS ("10,50"), PARLA_BENCH_CPU_SECONDS (5),
//! PARLA_BENCH_M2E_CALLS (3), PARLA_BENCH_M2E_SECONDS (8), PARLA_BENCH_PATH_DROPS (5).

// Test code: fixtures convert numbers freely; scenarios read top to bottom.
#![allow(clippy::cast_possible_truncation, clippy::needless_continue)]

#[path = "support/baresip.rs"]
mod baresip;
mod support;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{cpu_seconds, env_num, pct, KEY};

use parla::client::call::media::AudioSetup;
use parla::client::call::phone::{CallDriver, CallEvent};
use parla::client::call::CallState;
use parla::client::{Client, ClientConfig, Event, Rest, TokenSource};
use parla::media::audio::{AudioSink, AudioSource, NullSink, Silence, Tone};
use parla::media::net::Outage;
use parla::server::Server;
use tokio::sync::mpsc::UnboundedReceiver;

const LIMIT: Duration = Duration::from_secs(30);

struct Party {
    client: Client,
    events: UnboundedReceiver<Event>,
}

async fn party(server: &Server, user: &str) -> Party {
    let mut config = ClientConfig::new(server.url(), support::minted_tokens(server, user));
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

/// The chirp written into the audio: 5 ms from 500 Hz to 4 kHz under a Hann window.
fn chirp() -> Vec<f64> {
    let n = 240;
    (0..n)
        .map(|i| {
            let t = f64::from(i) / 48_000.0;
            let dur = f64::from(n) / 48_000.0;
            let phase =
                std::f64::consts::TAU * (500.0 * t + (4000.0 - 500.0) * t * t / (2.0 * dur));
            let window =
                0.5 - 0.5 * (std::f64::consts::TAU * f64::from(i) / f64::from(n - 1)).cos();
            phase.sin() * window
        })
        .collect()
}

/// Writes a chirp at an irregular sample offset of irregular frames, and records for each
/// the moment its frame was handed to the encoder and the chirp's offset in it.
struct ChirpSource {
    frame: u64,
    next: u64,
    seed: u64,
    template: Vec<f64>,
    sent: Arc<Mutex<Vec<(Instant, usize)>>>,
}

impl ChirpSource {
    fn new(seed: u64, sent: Arc<Mutex<Vec<(Instant, usize)>>>) -> Self {
        ChirpSource {
            frame: 0,
            next: 25 + seed % 7,
            seed,
            template: chirp(),
            sent,
        }
    }
}

impl AudioSource for ChirpSource {
    fn next_frame(&mut self, out: &mut [i16]) -> bool {
        out.fill(0);
        if self.frame == self.next {
            let offset = ((self.frame * 131 + self.seed * 17) % 700) as usize;
            for (i, v) in self.template.iter().enumerate() {
                out[offset + i] = (v * 20_000.0) as i16;
            }
            if let Ok(mut v) = self.sent.lock() {
                v.push((Instant::now(), offset));
            }
            // 300-640 ms apart, never a fixed period.
            self.next += 15 + (self.frame * 7919 + self.seed) % 17;
        }
        self.frame += 1;
        true
    }
}

/// Frames with the moment each was pulled from the jitter buffer.
type TimedFrames = Vec<(Instant, Vec<i16>)>;

/// Keeps every frame played, with the moment it was pulled from the jitter buffer.
#[derive(Clone, Default)]
struct TimedSink {
    frames: Arc<Mutex<TimedFrames>>,
}

impl AudioSink for TimedSink {
    fn play(&mut self, frame: &[i16]) {
        if let Ok(mut v) = self.frames.lock() {
            v.push((Instant::now(), frame.to_vec()));
        }
    }
}

/// For every chirp sent, the mouth-to-ear latency in ms: where cross-correlation finds it
/// in what was played (a strong match within 280 ms of the mouth moment: less than the
/// 300 ms between chirps, so a chirp that never came out cannot be matched with the next
/// one), to the sample.
fn locate_chirps(sent: &[(Instant, usize)], played: &[(Instant, Vec<i16>)]) -> Vec<f64> {
    let template = chirp();
    let energy: f64 = template.iter().map(|v| v * v).sum::<f64>().sqrt();
    let stream: Vec<f64> = played
        .iter()
        .flat_map(|(_, f)| f.iter().map(|s| f64::from(*s)))
        .collect();
    // Where each hand-over starts in the stream (they vary in length: the playout stretches
    // and compresses).
    let mut starts = Vec::with_capacity(played.len() + 1);
    let mut at = 0;
    for (_, f) in played {
        starts.push(at);
        at += f.len();
    }
    starts.push(at);
    let mut out = Vec::new();
    for (at, offset) in sent {
        let mouth = *at + Duration::from_secs_f64(*offset as f64 / 48_000.0);
        // Frames pulled from the mouth moment to 280 ms after it (all of them recorded).
        let horizon = mouth + Duration::from_millis(280);
        if played.last().is_none_or(|(t, _)| *t < horizon) {
            continue;
        }
        let first = played.partition_point(|(t, _)| *t + Duration::from_millis(20) < mouth);
        let last = played.partition_point(|(t, _)| *t <= horizon);
        if first >= last {
            continue;
        }
        let (from, to) = (starts[first], starts[last].min(stream.len()));
        let mut best = (0.0f64, 0usize);
        for start in from..to.saturating_sub(template.len()) {
            let window = &stream[start..start + template.len()];
            let dot: f64 = window.iter().zip(&template).map(|(a, b)| a * b).sum();
            let norm = window.iter().map(|v| v * v).sum::<f64>().sqrt() * energy;
            let score = if norm > 0.0 { dot / norm } else { 0.0 };
            if score > best.0 {
                best = (score, start);
            }
        }
        if best.0 < 0.6 {
            continue;
        }
        let k = starts.partition_point(|s| *s <= best.1) - 1;
        let j = best.1 - starts[k];
        let ear = played[k].0 + Duration::from_secs_f64(j as f64 / 48_000.0);
        if ear > mouth {
            out.push((ear - mouth).as_secs_f64() * 1000.0);
        }
    }
    out
}

/// Records the moments at which loud audio starts again after quiet.
struct LoudSink {
    heard: Arc<Mutex<Vec<Instant>>>,
    loud: bool,
}

impl AudioSink for LoudSink {
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

/// What the jitter buffer did to the audio of a call side.
#[derive(Debug, Default, Clone, Copy)]
struct Playout {
    played: u64,
    concealed: u64,
    expanded: u64,
    skipped: u64,
    dropped: u64,
    /// Playout time stretched (underruns included) and compressed, ms.
    stretched_ms: f64,
    compressed_ms: f64,
}

impl Playout {
    fn of(d: &CallDriver) -> Playout {
        let Some(m) = d.media() else {
            return Playout::default();
        };
        let Some(s) = m.stats() else {
            return Playout::default();
        };
        Playout {
            played: s.jitter.played,
            concealed: s.jitter.concealed,
            expanded: s.jitter.expanded,
            skipped: s.jitter.skipped,
            dropped: m.packets_dropped(),
            stretched_ms: s.playout.stretched_ms + s.playout.underrun_ms,
            compressed_ms: s.playout.compressed_ms + s.playout.skipped_ms,
        }
    }

    fn add(&mut self, o: Playout) {
        self.played += o.played;
        self.concealed += o.concealed;
        self.expanded += o.expanded;
        self.skipped += o.skipped;
        self.dropped += o.dropped;
        self.stretched_ms += o.stretched_ms;
        self.compressed_ms += o.compressed_ms;
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({"frames_played": self.played, "frames_concealed": self.concealed,
            "frames_expanded": self.expanded, "frames_skipped": self.skipped,
            "packets_dropped": self.dropped, "stretched_ms": self.stretched_ms,
            "compressed_ms": self.compressed_ms})
    }

    fn line(&self) -> String {
        format!(
            "{} frames played: {} concealed, {} expanded (ran dry), {} skipped, {} packets dropped; playout stretched {:.0} ms, compressed {:.0} ms",
            self.played, self.concealed, self.expanded, self.skipped, self.dropped,
            self.stretched_ms, self.compressed_ms
        )
    }
}

/// Two busy loops in processes of their own, as `stress-ng --cpu 2` would run (stress-ng
/// when it is installed).
struct Hogs(Vec<std::process::Child>);

impl Hogs {
    fn start() -> Hogs {
        let stress = std::process::Command::new("stress-ng")
            .args(["--cpu", "2", "--quiet"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        match stress {
            Ok(c) => Hogs(vec![c]),
            Err(_) => Hogs(
                (0..2)
                    .filter_map(|_| {
                        std::process::Command::new("sh")
                            .args(["-c", "while :; do :; done"])
                            .spawn()
                            .ok()
                    })
                    .collect(),
            ),
        }
    }
}

impl Drop for Hogs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Mouth-to-ear both ways over `calls` calls of `seconds` each: (a→b, b→a, playout).
async fn mouth_to_ear(
    a: &mut Party,
    b: &mut Party,
    calls: u64,
    seconds: u64,
) -> (Vec<f64>, Vec<f64>, Playout) {
    let (mut ab, mut ba, mut playout) = (Vec::new(), Vec::new(), Playout::default());
    for call in 0..calls {
        let (sent_a, sent_b) = (
            Arc::new(Mutex::new(Vec::new())),
            Arc::new(Mutex::new(Vec::new())),
        );
        let (sink_a, sink_b) = (TimedSink::default(), TimedSink::default());
        let (da, db, _) = connect(
            a,
            b,
            "b000",
            audio(
                Box::new(ChirpSource::new(call * 2, sent_a.clone())),
                Box::new(sink_a.clone()),
            ),
            audio(
                Box::new(ChirpSource::new(call * 2 + 1, sent_b.clone())),
                Box::new(sink_b.clone()),
            ),
        )
        .await;
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        playout.add(Playout::of(&da));
        playout.add(Playout::of(&db));
        hang_up(a, da, db).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        while a.events.try_recv().is_ok() {}
        while b.events.try_recv().is_ok() {}
        let take =
            |m: &Arc<Mutex<Vec<(Instant, usize)>>>| m.lock().map(|v| v.clone()).unwrap_or_default();
        let frames = |s: &TimedSink| s.frames.lock().map(|v| v.clone()).unwrap_or_default();
        ab.extend(locate_chirps(&take(&sent_a), &frames(&sink_b)));
        ba.extend(locate_chirps(&take(&sent_b), &frames(&sink_a)));
    }
    ab.sort_by(f64::total_cmp);
    ba.sort_by(f64::total_cmp);
    (ab, ba, playout)
}

/// One side of one call in a process of its own (the bench runs itself with
/// `PARLA_BENCH_SIDE`): connects, dials or answers, keeps the call for the given seconds
/// with a tone each way, and prints its own CPU use as JSON.
fn one_side(spec: &str) {
    let spec: serde_json::Value = serde_json::from_str(spec).expect("side spec");
    let url = spec["url"].as_str().expect("url").to_owned();
    let token = spec["token"].as_str().expect("token").to_owned();
    let peer = spec["peer"].as_str().map(str::to_owned);
    let seconds = spec["seconds"].as_u64().unwrap_or(5);
    // The runtime the `parla` binary gives a client.
    let rt = parla::client::runtime::runtime().expect("runtime");
    rt.block_on(async move {
        let mut config = ClientConfig::new(url, TokenSource::Static(token));
        config.presence = false;
        let (client, mut events) = Client::start(config).expect("client");
        loop {
            match tokio::time::timeout(LIMIT, events.recv()).await {
                Ok(Some(Event::Ready { .. })) => break,
                Ok(Some(_)) => continue,
                _ => panic!("did not connect"),
            }
        }
        println!("ready");
        let room = match &peer {
            Some(p) => client.dial(std::slice::from_ref(p)).await.expect("dial").room_id,
            None => loop {
                match tokio::time::timeout(LIMIT, events.recv()).await {
                    Ok(Some(Event::CallIncoming { call })) => {
                        client.answer(&call.room_id).await.expect("answer");
                        break call.room_id;
                    }
                    Ok(Some(_)) => continue,
                    _ => panic!("no call came"),
                }
            },
        };
        let mut driver = CallDriver::new(
            client.clone(),
            &room,
            audio(Box::new(Tone::new(440.0)), Box::new(NullSink)),
        );
        let mut measuring: Option<(f64, Instant)> = None;
        let deadline = Instant::now() + LIMIT + Duration::from_secs(seconds);
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tokio::select! {
                Some(e) = events.recv() => {
                    match driver.on_event(&e).await {
                        Ok(Some(CallEvent::State(v))) if v.state == CallState::Connected && measuring.is_none() => {
                            measuring = Some((cpu_seconds(), Instant::now()));
                        }
                        Ok(Some(CallEvent::Ended(_))) => break,
                        _ => {}
                    }
                }
                _ = driver.next_media_event() => {}
                _ = tick.tick() => {
                    if let Some((_, t0)) = measuring {
                        if t0.elapsed() >= Duration::from_secs(seconds) {
                            break;
                        }
                    }
                    assert!(Instant::now() < deadline, "the call never settled");
                }
            }
        }
        let (c0, t0) = measuring.expect("the call never connected");
        let (cpu, wall) = (cpu_seconds() - c0, t0.elapsed().as_secs_f64());
        let playout = Playout::of(&driver);
        if peer.is_some() {
            let _ = client.hangup(&room).await;
        }
        let _ = driver.finish().await;
        println!(
            "{}",
            serde_json::json!({"cpu_percent": cpu / wall * 100.0, "playout": playout.json()})
        );
        client.stop();
    });
}

/// One call, each side in a process of its own: each side's CPU in % of one core.
async fn one_call_per_process(server: &Server, seconds: u64) -> Vec<(f64, serde_json::Value)> {
    use tokio::io::AsyncBufReadExt;
    let exe = std::env::current_exe().expect("the bench binary");
    let token = |user: &str| {
        let state = server.state().clone();
        let user = user.to_owned();
        async move {
            state
                .mint_token(&user, chrono::Utc::now(), 3600)
                .await
                .expect("token")
                .0
        }
    };
    let spawn = |spec: serde_json::Value| {
        tokio::process::Command::new(&exe)
            .env("PARLA_BENCH_SIDE", spec.to_string())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("a side process")
    };
    let mut callee = spawn(
        serde_json::json!({"url": server.url(), "token": token("b001").await, "seconds": seconds}),
    );
    let mut callee_out = tokio::io::BufReader::new(callee.stdout.take().expect("stdout")).lines();
    assert_eq!(
        callee_out.next_line().await.ok().flatten().as_deref(),
        Some("ready")
    );
    let mut caller = spawn(
        serde_json::json!({"url": server.url(), "token": token("a001").await,
        "peer": "b001", "seconds": seconds}),
    );
    let mut caller_out = tokio::io::BufReader::new(caller.stdout.take().expect("stdout")).lines();
    let mut results = Vec::new();
    for out in [&mut caller_out, &mut callee_out] {
        while let Ok(Some(line)) = out.next_line().await {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                results.push((
                    v["cpu_percent"].as_f64().unwrap_or(f64::NAN),
                    v["playout"].clone(),
                ));
            }
        }
    }
    let _ = caller.wait().await;
    let _ = callee.wait().await;
    results
}

fn main() {
    if let Ok(spec) = std::env::var("PARLA_BENCH_SIDE") {
        one_side(&spec);
        return;
    }
    let setups = env_num("PARLA_BENCH_SETUPS", 20);
    let m2e_calls = env_num("PARLA_BENCH_M2E_CALLS", 3);
    let m2e_seconds = env_num("PARLA_BENCH_M2E_SECONDS", 8);
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
        let server = support::call_server(dir.path()).await;
        let admin = Rest::new(&server.url()).expect("rest").with_api_key(KEY);
        // a000/b000 for set-up and mouth-to-ear, a001/b001 for the call in two processes.
        let max_calls = call_counts.iter().copied().max().unwrap_or(1).max(2);
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

        // Mouth-to-ear, both directions, on an idle machine and with two CPU hogs.
        let (ab, ba, playout_idle) = mouth_to_ear(&mut a, &mut b, m2e_calls, m2e_seconds).await;
        let (ab_busy, ba_busy, playout_busy) = {
            let _hogs = Hogs::start();
            mouth_to_ear(&mut a, &mut b, m2e_calls, m2e_seconds).await
        };

        // Path drop: alice's sockets go dead mid-call (as when a laptop changes network);
        // time until bob's tone is heard again over the new path found by an ICE restart.
        let mut recoveries = Vec::new();
        for _ in 0..env_num("PARLA_BENCH_PATH_DROPS", 5) {
            let outage = Outage::default();
            let heard = Arc::new(Mutex::new(Vec::new()));
            let mut a_audio = audio(
                Box::new(Silence),
                Box::new(LoudSink {
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
                    () = tokio::time::sleep(Duration::from_millis(20)) => {}
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
            let mut playout = Playout::default();
            for (da, db) in &calls {
                playout.add(Playout::of(da));
                playout.add(Playout::of(db));
            }
            let per_side = (c1 - c0) / wall / (2 * n) as f64 * 100.0;
            cpu_rows.push(serde_json::json!({
                "calls": n, "cpu_percent_of_one_core_per_side": per_side,
                "process_cpu_percent": (c1 - c0) / wall * 100.0, "playout": playout.json(),
                "playout_line": playout.line(),
            }));
            for ((pa, _), (da, db)) in pairs.iter_mut().zip(calls) {
                hang_up(pa, da, db).await;
            }
            for (pa, pb) in pairs {
                pa.client.stop();
                pb.client.stop();
            }
        }

        // One call, one side per process (baresip's figure is one user agent a process),
        // over as long as baresip's (ticks of 10 ms: at least 10 s for a 0.1 % step).
        let baresip_secs = cpu_secs.max(10);
        let sides = one_call_per_process(&server, baresip_secs).await;
        // baresip's, in the same run.
        let baresip = tokio::task::spawn_blocking(move || baresip::one_call(baresip_secs))
            .await
            .unwrap_or_else(|e| Err(e.to_string()));

        println!();
        println!("calls on loopback (webrtc-rs, Opus 20 ms, adaptive jitter buffer)");
        println!(
            "set-up dial→connected: n={} p50 {:.1} ms, p95 {:.1} ms",
            times.len(),
            pct(&times, 0.5),
            pct(&times, 0.95)
        );
        let m2e_line = |label: &str, v: &Vec<f64>| {
            println!(
                "mouth-to-ear {label}: n={} p50 {:.1} ms, p95 {:.1} ms",
                v.len(),
                pct(v, 0.5),
                pct(v, 0.95)
            );
        };
        println!("mouth-to-ear, stamped at the sample ({m2e_calls} calls of {m2e_seconds} s each way):");
        m2e_line("a→b, idle", &ab);
        m2e_line("b→a, idle", &ba);
        println!("  playout: {}", playout_idle.line());
        m2e_line("a→b, two CPU hogs", &ab_busy);
        m2e_line("b→a, two CPU hogs", &ba_busy);
        println!("  playout: {}", playout_busy.line());
        println!(
            "path drop → audio back (ICE restart on new sockets): n={} p50 {:.0} ms, p95 {:.0} ms",
            recoveries.len(),
            pct(&recoveries, 0.5),
            pct(&recoveries, 0.95)
        );
        for (cpu, playout) in &sides {
            println!(
                "one call, one side per process: {cpu:.2} % of one core; {} frames played, {} concealed, {} expanded, {} skipped, {} packets dropped",
                playout["frames_played"], playout["frames_concealed"], playout["frames_expanded"],
                playout["frames_skipped"], playout["packets_dropped"]
            );
        }
        match &baresip {
            Ok((a, b)) => {
                let parla_mean =
                    sides.iter().map(|(c, _)| c).sum::<f64>() / sides.len().max(1) as f64;
                let baresip_mean = (a + b) / 2.0;
                println!(
                    "baresip 1.0, one call, one user agent per process (plain RTP): {a:.2} % and {b:.2} % of one core; parla / baresip = {:.2} (target ≤ 0.6)",
                    parla_mean / baresip_mean
                );
            }
            Err(e) => println!("baresip not measured: {e}"),
        }
        for r in &cpu_rows {
            println!(
                "{} concurrent calls in one process: {:.2} % of one core per call side ({:.0} % for the process); {}",
                r["calls"], r["cpu_percent_of_one_core_per_side"].as_f64().unwrap_or(f64::NAN),
                r["process_cpu_percent"].as_f64().unwrap_or(f64::NAN),
                r["playout_line"].as_str().unwrap_or_default()
            );
        }
        let out = serde_json::json!({
            "suite": "calls",
            "setup_ms": {"n": times.len(), "p50": pct(&times, 0.5), "p95": pct(&times, 0.95), "all": times},
            "mouth_to_ear_ms": {
                "idle": {"a_to_b": {"n": ab.len(), "p50": pct(&ab, 0.5), "p95": pct(&ab, 0.95)},
                         "b_to_a": {"n": ba.len(), "p50": pct(&ba, 0.5), "p95": pct(&ba, 0.95)},
                         "playout": playout_idle.json()},
                "two_cpu_hogs": {"a_to_b": {"n": ab_busy.len(), "p50": pct(&ab_busy, 0.5), "p95": pct(&ab_busy, 0.95)},
                                 "b_to_a": {"n": ba_busy.len(), "p50": pct(&ba_busy, 0.5), "p95": pct(&ba_busy, 0.95)},
                                 "playout": playout_busy.json()},
            },
            "baresip_one_call_per_process": baresip.as_ref().ok().map(|(a, b)| serde_json::json!([a, b])),
            "one_call_per_process": sides.iter().map(|(cpu, p)| serde_json::json!({"cpu_percent": cpu, "playout": p})).collect::<Vec<_>>(),
            "path_drop_recovery_ms": {"n": recoveries.len(), "p50": pct(&recoveries, 0.5), "p95": pct(&recoveries, 0.95)},
            "cpu": cpu_rows,
        });
        support::write_json("calls", &out);
        a.client.stop();
        b.client.stop();
        server.shutdown().await;
    });
}
