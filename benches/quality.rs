//! Audio quality through a whole call: speech (espeak-ng) played into a call, recorded on the
//! other side, scored with wideband PESQ (`pesq` from PyPI) against the reference, on a clean
//! loopback path and with 10 % random loss and 40 ms jitter on the receiving side.
//!
//! Needs `espeak-ng`, `sox`, and Python with `numpy` and `pesq` (`make bench` installs them).
//! Prints a table and writes `target/bench/quality.json`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use parla::client::call::CallState;
use parla::client::media_call::AudioSetup;
use parla::client::phone::{CallDriver, CallEvent};
use parla::client::{ClientConfig, Event, Rest, TokenSource};
use parla::media::audio::{AudioSink, Capture, Silence, WavSource};
use parla::media::impair::Impairment;
use parla::server::{Server, ServerConfig};

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

async fn one_call(server: &Server, reference: &[i16], impair: Option<Impairment>) -> Vec<i16> {
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
    let capture = Capture::default();
    let room = alice.dial(&["bob".into()]).await.expect("dial").room_id;
    let mut da = CallDriver::new(
        alice.clone(),
        &room,
        AudioSetup {
            source: Box::new(WavSource::from_samples(reference.to_vec())),
            sink: Box::new(parla::media::audio::NullSink),
            ..AudioSetup::silent("127.0.0.1:0")
        },
    );
    let mut db = CallDriver::new(
        bob.clone(),
        &room,
        AudioSetup {
            source: Box::new(Silence),
            sink: Box::new(capture.clone()) as Box<dyn AudioSink>,
            impair,
            ..AudioSetup::silent("127.0.0.1:0")
        },
    );
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
            _ = tokio::time::sleep(Duration::from_secs(30)) => panic!("call did not connect"),
        }
    }
    // The reference plays once; give it its length plus a second.
    let secs = reference.len() as f64 / 48_000.0 + 1.0;
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    if let Some(st) = db.media().and_then(|m| m.stats()) {
        eprintln!(
            "  received {} played {} (from RED {}) concealed {} (FEC {}) stretched {} late {} target {:.0} ms jitter {:.1} ms",
            st.jitter.received,
            st.jitter.played,
            st.jitter.redundant,
            st.jitter.concealed,
            st.jitter.recovered,
            st.jitter.expanded,
            st.jitter.late,
            st.buffer_target_ms,
            st.jitter_ms
        );
    }
    let _ = alice.hangup(&room).await;
    let _ = da.finish().await;
    let _ = db.finish().await;
    alice.stop();
    bob.stop();
    capture.samples()
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
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
        config.api_key = Some("bench-api-key-0123456789".into());
        let server = Server::start(config).await.expect("server");
        let admin = Rest::new(&server.url()).expect("rest").with_api_key("k");
        for u in ["alice", "bob"] {
            admin.admin_create_user(u, None).await.expect("user");
        }
        let conditions: Vec<(&str, Option<Impairment>)> = vec![
            ("clean loopback", None),
            (
                "10 % loss, 40 ms jitter (seed 1)",
                Some(Impairment {
                    loss_pct: 10.0,
                    jitter_ms: 40.0,
                    seed: 1,
                }),
            ),
            (
                "10 % loss, 40 ms jitter (seed 2)",
                Some(Impairment {
                    loss_pct: 10.0,
                    jitter_ms: 40.0,
                    seed: 2,
                }),
            ),
            (
                "10 % loss, 40 ms jitter (seed 3)",
                Some(Impairment {
                    loss_pct: 10.0,
                    jitter_ms: 40.0,
                    seed: 3,
                }),
            ),
        ];
        let mut rows = Vec::new();
        for (i, (name, impair)) in conditions.into_iter().enumerate() {
            let heard = one_call(&server, &reference, impair).await;
            let deg48 = p(&format!("deg{i}.wav"));
            let deg16 = p(&format!("deg{i}_16.wav"));
            write_mono(&deg48, &heard);
            let scored = to16(&deg48, &deg16).and_then(|_| {
                run(Command::new("python3")
                    .arg(&script)
                    .arg(p("ref16.wav"))
                    .arg(&deg16))
            });
            let (score, delay) = match scored {
                Ok(out) => {
                    let mut it = out.split_whitespace();
                    (
                        it.next().and_then(|v| v.parse::<f64>().ok()),
                        it.next().and_then(|v| v.parse::<f64>().ok()),
                    )
                }
                Err(e) => {
                    eprintln!("PESQ unavailable: {e}");
                    (None, None)
                }
            };
            rows.push(
                serde_json::json!({"condition": name, "pesq_wb": score, "alignment_ms": delay}),
            );
        }
        server.shutdown().await;
        rows
    });
    println!();
    println!("audio quality through a call (Opus 20 ms, in-band FEC, adaptive jitter buffer)");
    for r in &rows {
        println!(
            "{:<36} PESQ-WB {}",
            r["condition"].as_str().unwrap_or(""),
            r["pesq_wb"]
                .as_f64()
                .map_or("n/a".into(), |v| format!("{v:.2}"))
        );
    }
    let out = serde_json::json!({"suite": "quality", "rows": rows});
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    let _ = std::fs::create_dir_all(&target);
    let path = target.join("quality.json");
    match std::fs::write(
        &path,
        serde_json::to_string_pretty(&out).unwrap_or_default(),
    ) {
        Ok(()) => println!("wrote {}", path.display()),
        Err(e) => eprintln!("cannot write {}: {e}", path.display()),
    }
}
