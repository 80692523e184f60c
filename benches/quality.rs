//! Audio quality through a whole call: speech (espeak-ng) played into a call from both ends
//! at once, recorded whole on the other side of each, scored with wideband PESQ (`pesq`
//! from PyPI) against the reference: on a clean loopback path, the same with two CPU hogs
//! running beside the call, and with loss (random 5-20 %, bursty), jitter (20-60 ms, with
//! reordering) and a 200 ms round trip applied at the receiving sockets. Each score comes
//! with the length scored, the alignment lag, what the jitter buffer did and how the other
//! side was sending.
//!
//! Needs `espeak-ng`, `sox`, `stress-ng`, and Python with `numpy` and `pesq` (`make bench`
//! installs them). Prints a table and writes `target/bench/quality.json`.

// Test code: fixtures convert numbers freely; scenarios read top to bottom.
#![allow(clippy::cognitive_complexity)]

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use parla::client::call::media::AudioSetup;
use parla::client::call::phone::{CallDriver, CallEvent};
use parla::client::call::CallState;
use parla::client::{ClientConfig, Event, Rest, TokenSource};
use parla::media::audio::{AudioSink, Capture, WavSource};
use parla::media::impair::Impairment;
use parla::server::{Server, ServerConfig};
use support::KEY;

const TEXT: &str = "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue \
background. It is easy to tell the depth of a well. These days a chicken leg is a rare dish.";

fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn write_mono(path: &Path, samples: &[i16]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("wav");
    for s in samples {
        w.write_sample(*s).expect("write");
    }
    w.finalize().expect("finalize");
}

/// What one side heard, and what its jitter buffer did meanwhile.
struct Heard {
    samples: Vec<i16>,
    playout: serde_json::Value,
    /// How the other side was sending at the end.
    sent_with: serde_json::Value,
}

fn playout_of(d: &CallDriver) -> serde_json::Value {
    let Some(m) = d.media() else {
        return serde_json::Value::Null;
    };
    let Some(st) = m.stats() else {
        return serde_json::Value::Null;
    };
    serde_json::json!({
        "received": st.jitter.received, "played": st.jitter.played,
        "from_redundancy": st.jitter.redundant, "concealed": st.jitter.concealed,
        "fec": st.jitter.recovered, "expanded": st.jitter.expanded,
        "skipped": st.jitter.skipped, "late": st.jitter.late,
        "stretched_ms": st.playout.stretched_ms, "compressed_ms": st.playout.compressed_ms,
        "underrun_ms": st.playout.underrun_ms, "concealed_ms": st.playout.concealed_ms,
        "in_speech_ms": st.playout.in_speech_ms,
        // This side's sender, as the other side's reports last set it.
        "sending": st.send_settings,
        "packets_dropped": m.packets_dropped(), "target_ms": st.buffer_target_ms,
        "jitter_ms": st.jitter_ms,
    })
}

/// One call in which both sides play the reference; returns what each heard
/// (alice's hearing of bob, bob's hearing of alice). `impair` applies to both receivers,
/// alice's with a seed of its own (so the two directions lose different packets).
async fn one_call(
    server: &Server,
    reference: &[i16],
    impair: Option<Impairment>,
) -> (Heard, Heard) {
    let token = |user: &'static str| {
        let state = server.state().clone();
        TokenSource::provider(move || {
            let state = state.clone();
            async move {
                state
                    .mint_token(user, chrono::Utc::now(), 3600)
                    .await
                    .map(|(t, _)| t)
                    .map_err(|e| e.to_string())
            }
        })
    };
    let start = |user: &'static str| {
        let mut c = ClientConfig::new(server.url(), token(user));
        c.presence = false;
        parla::client::Client::start(c).expect("client")
    };
    let (alice, mut a) = start("alice");
    let (bob, mut b) = start("bob");
    for rx in [&mut a, &mut b] {
        while !matches!(rx.recv().await, Some(Event::Ready { .. })) {}
    }
    // Whole utterances: far more than the ten seconds a capture keeps by default.
    let (heard_by_alice, heard_by_bob) = (
        Capture::keeping(Duration::from_mins(2)),
        Capture::keeping(Duration::from_mins(2)),
    );
    let room = alice.dial(&["bob".into()]).await.expect("dial").room_id;
    let side = |sink: &Capture, impair: Option<Impairment>| AudioSetup {
        source: Box::new(WavSource::from_samples(reference.to_vec())),
        sink: Box::new(sink.clone()) as Box<dyn AudioSink>,
        impair,
        ..AudioSetup::silent("127.0.0.1:0")
    };
    let alices = impair.map(|i| Impairment {
        seed: i.seed + 1000,
        ..i
    });
    let mut da = CallDriver::new(alice.clone(), &room, side(&heard_by_alice, alices));
    let mut db = CallDriver::new(bob.clone(), &room, side(&heard_by_bob, impair));
    let (mut up_a, mut up_b, mut answered) = (false, false, false);
    while !(up_a && up_b) {
        tokio::select! {
            Some(e) = a.recv() => {
                if let Ok(Some(CallEvent::State(v))) = da.on_event(&e).await { up_a |= v.state == CallState::Connected; }
            }
            Some(e) = b.recv() => {
                if !answered && matches!(e, Event::CallIncoming { .. }) {
                    answered = true;
                    bob.answer(&room).await.expect("answer");
                }
                if let Ok(Some(CallEvent::State(v))) = db.on_event(&e).await { up_b |= v.state == CallState::Connected; }
            }
            () = tokio::time::sleep(Duration::from_secs(30)) => panic!("call did not connect"),
        }
    }
    // The reference plays once; give it its length plus two seconds.
    let secs = reference.len() as f64 / 48_000.0 + 2.0;
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    let (pa, pb) = (playout_of(&da), playout_of(&db));
    let (sa, sb) = (pa["sending"].clone(), pb["sending"].clone());
    let _ = alice.hangup(&room).await;
    let _ = da.finish().await;
    let _ = db.finish().await;
    alice.stop();
    bob.stop();
    (
        Heard {
            samples: heard_by_alice.samples(),
            sent_with: sb,
            playout: pa,
        },
        Heard {
            samples: heard_by_bob.samples(),
            sent_with: sa,
            playout: pb,
        },
    )
}

/// Two busy loops in processes of their own (`stress-ng --cpu 2`).
struct Hogs(Option<std::process::Child>);

impl Hogs {
    fn start() -> Hogs {
        Hogs(
            Command::new("stress-ng")
                .args(["--cpu", "2", "--quiet"])
                .spawn()
                .map_err(|e| eprintln!("no CPU hogs (stress-ng: {e})"))
                .ok(),
        )
    }
}

impl Drop for Hogs {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    // PARLA_BENCH_KEEP=1 keeps the recordings (target/bench/quality/) to listen to.
    let keep = std::env::var_os("PARLA_BENCH_KEEP").is_some();
    let p = |name: &str| dir.path().join(name);
    let speech = p("speech.wav");
    if let Err(e) = run(Command::new("espeak-ng").arg("-w").arg(&speech).arg(TEXT)) {
        eprintln!("quality benchmark skipped: {e}");
        return;
    }
    // Reference: the speech at 48 kHz mono with half a second of silence each side.
    let mut source = WavSource::open(&speech).expect("speech");
    let mut reference = vec![0i16; 24_000];
    let mut frame = vec![0i16; 960];
    while parla::media::audio::AudioSource::next_frame(&mut source, &mut frame) {
        reference.extend_from_slice(&frame);
    }
    reference.extend(std::iter::repeat_n(0, 24_000));
    write_mono(&p("ref48.wav"), &reference);
    let to16 =
        |from: &Path, to: &Path| run(Command::new("sox").arg(from).args(["-r", "16000"]).arg(to));
    if let Err(e) = to16(&p("ref48.wav"), &p("ref16.wav")) {
        eprintln!("quality benchmark skipped: {e}");
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/pesq_score.py");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("rt");
    let rows = rt.block_on(async {
        let mut config =
            ServerConfig::new("127.0.0.1:0".parse().expect("addr"), dir.path().join("db"));
        config.api_key = Some(KEY.into());
        let server = Server::start(config).await.expect("server");
        let admin = Rest::new(&server.url()).expect("rest").with_api_key(KEY);
        for u in ["alice", "bob"] {
            admin.admin_create_user(u, None).await.expect("user");
        }
        let path = |loss_pct, jitter_ms, seed| {
            Some(Impairment {
                loss_pct,
                jitter_ms,
                seed,
                ..Default::default()
            })
        };
        // (condition, impairment of each receiver, with two CPU hogs)
        let conditions: Vec<(&str, Option<Impairment>, bool)> = vec![
            ("clean loopback", None, false),
            ("clean loopback, two CPU hogs", None, true),
            ("5 % loss, 20 ms jitter", path(5.0, 20.0, 4), false),
            (
                "10 % loss, 40 ms jitter (seed 1)",
                path(10.0, 40.0, 1),
                false,
            ),
            (
                "10 % loss, 40 ms jitter (seed 2)",
                path(10.0, 40.0, 2),
                false,
            ),
            (
                "10 % loss, 40 ms jitter (seed 3)",
                path(10.0, 40.0, 3),
                false,
            ),
            ("20 % loss, 20 ms jitter", path(20.0, 20.0, 5), false),
            (
                "bursts (Gilbert-Elliott, ~9 %)",
                Some(Impairment {
                    burst_enter_pct: 2.5,
                    burst_leave_pct: 25.0,
                    jitter_ms: 10.0,
                    seed: 6,
                    ..Default::default()
                }),
                false,
            ),
            ("60 ms jitter, no loss", path(0.0, 60.0, 7), false),
            (
                "200 ms RTT, 2 % loss",
                Some(Impairment {
                    delay_ms: 100.0,
                    jitter_ms: 5.0,
                    loss_pct: 2.0,
                    seed: 8,
                    ..Default::default()
                }),
                false,
            ),
        ];
        // PARLA_BENCH_ONLY=TEXT runs the conditions whose name has TEXT in it.
        let only = std::env::var("PARLA_BENCH_ONLY").ok();
        let mut rows = Vec::new();
        for (i, (name, impair, busy)) in conditions.into_iter().enumerate() {
            if only.as_ref().is_some_and(|o| !name.contains(o.as_str())) {
                continue;
            }
            let hogs = busy.then(Hogs::start);
            let (by_alice, by_bob) = one_call(&server, &reference, impair).await;
            drop(hogs);
            for (dir, heard) in [("alice→bob", by_bob), ("bob→alice", by_alice)] {
                let deg48 = p(&format!("deg{i}-{}.wav", &dir[..3]));
                let deg16 = p(&format!("deg{i}-{}_16.wav", &dir[..3]));
                write_mono(&deg48, &heard.samples);
                let scored = to16(&deg48, &deg16).and_then(|_| {
                    run(Command::new("python3")
                        .arg(&script)
                        .arg(p("ref16.wav"))
                        .arg(&deg16))
                });
                let (score, lag, scored_s) = match scored {
                    Ok(out) => {
                        let v: Vec<f64> = out
                            .split_whitespace()
                            .filter_map(|x| x.parse().ok())
                            .collect();
                        (v.first().copied(), v.get(1).copied(), v.get(2).copied())
                    }
                    Err(e) => {
                        eprintln!("PESQ unavailable: {e}");
                        (None, None, None)
                    }
                };
                rows.push(serde_json::json!({
                    "condition": name, "direction": dir, "pesq_wb": score,
                    "lag_ms": lag, "scored_s": scored_s,
                    "reference_s": reference.len() as f64 / 48_000.0,
                    "recorded_s": heard.samples.len() as f64 / 48_000.0,
                    "playout": heard.playout,
                    "sent_with": heard.sent_with,
                }));
            }
        }
        server.shutdown().await;
        rows
    });
    if keep {
        let to = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench/quality");
        let _ = std::fs::create_dir_all(&to);
        for e in std::fs::read_dir(dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let _ = std::fs::copy(e.path(), to.join(e.file_name()));
        }
        println!("recordings kept in {}", to.display());
    }
    println!();
    println!("audio quality through a call (Opus 20 ms, in-band FEC, adaptive jitter buffer)");
    println!(
        "{:<34} {:<10} {:>7} {:>8} {:>8}  playout",
        "condition", "direction", "PESQ", "scored", "lag"
    );
    for r in &rows {
        let f = |k: &str, digits: usize| {
            r[k].as_f64()
                .map_or("n/a".to_owned(), |v| format!("{v:.digits$}"))
        };
        let pl = &r["playout"];
        println!(
            "{:<34} {:<10} {:>7} {:>7}s {:>6}ms  {} played, {} concealed ({} FEC), {} from RED, {} expanded, {} skipped, {} dropped; steps {:.0}/{:.0} ms stretched/compressed, {:.0} in speech; sent {}",
            r["condition"].as_str().unwrap_or(""),
            r["direction"].as_str().unwrap_or(""),
            f("pesq_wb", 2),
            f("scored_s", 1),
            f("lag_ms", 0),
            pl["played"], pl["concealed"], pl["fec"], pl["from_redundancy"],
            pl["expanded"], pl["skipped"], pl["packets_dropped"],
            pl["stretched_ms"].as_f64().unwrap_or(0.0),
            pl["compressed_ms"].as_f64().unwrap_or(0.0),
            pl["in_speech_ms"].as_f64().unwrap_or(0.0),
            r["sent_with"]
        );
    }
    let out = serde_json::json!({"suite": "quality", "rows": rows});
    support::write_json("quality", &out);
}
