//! Peers nobody here wrote, run as processes that speak the documented protocol and report
//! what they see as JSON lines: an aiortc peer (`tests/peers/aiortc_peer.py`, in the venv
//! `make test` sets up under `target/test-venv`) and a headless Chromium page.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

/// The venv's Python, with aiortc in it.
pub fn venv_python() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-venv/bin/python")
}

/// A running external peer and the events it has reported so far.
pub struct ExternalPeer {
    child: tokio::process::Child,
    events: Arc<Mutex<Vec<Value>>>,
    notify: Arc<tokio::sync::Notify>,
    stderr: Arc<Mutex<Vec<String>>>,
    _reader: tokio::task::JoinHandle<()>,
}

impl ExternalPeer {
    /// Starts `command` (stdout: JSON lines) and collects what it reports.
    pub fn spawn(mut command: tokio::process::Command) -> ExternalPeer {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("cannot start the peer: run `make test` to install it");
        let events: Arc<Mutex<Vec<Value>>> = Arc::default();
        let notify = Arc::new(tokio::sync::Notify::new());
        let stderr: Arc<Mutex<Vec<String>>> = Arc::default();
        let (out, err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
        let (ev, n, se) = (events.clone(), notify.clone(), stderr.clone());
        let reader = tokio::spawn(async move {
            let mut errs = BufReader::new(err).lines();
            tokio::spawn(async move {
                while let Ok(Some(l)) = errs.next_line().await {
                    se.lock().unwrap().push(l);
                }
            });
            let mut lines = BufReader::new(out).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    ev.lock().unwrap().push(v);
                    n.notify_waiters();
                }
            }
            n.notify_waiters();
        });
        ExternalPeer {
            child,
            events,
            notify,
            stderr,
            _reader: reader,
        }
    }

    /// The events so far.
    pub fn events(&self) -> Vec<Value> {
        self.events.lock().unwrap().clone()
    }

    /// Events named `name`, so far.
    pub fn named(&self, name: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|v| v["event"] == name)
            .collect()
    }

    /// Waits (at most `limit`) until the peer has reported `name`; returns that event.
    pub async fn wait_for(&self, name: &str, limit: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.notify.notified();
            if let Some(v) = self.named(name).into_iter().next() {
                return v;
            }
            assert!(
                tokio::time::timeout_at(deadline, notified).await.is_ok(),
                "the peer never reported `{name}`; events {:#?}\nstderr:\n{}",
                self.events(),
                self.stderr.lock().unwrap().join("\n")
            );
        }
    }

    /// Waits for the peer to exit (at most `limit`); returns every event it reported.
    pub async fn finish(mut self, limit: Duration) -> Vec<Value> {
        let status = tokio::time::timeout(limit, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("the peer did not finish; events {:#?}", self.events()))
            .unwrap();
        // Let the reader take the last lines.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            status.success(),
            "the peer failed ({status}); events {:#?}\nstderr:\n{}",
            self.events(),
            self.stderr.lock().unwrap().join("\n")
        );
        self.events()
    }

    /// The process id, to signal it.
    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }
}

/// The aiortc peer as `user` on the server at `http_url`, with these extra arguments.
pub fn aiortc(http_url: &str, token: &str, args: &[&str]) -> ExternalPeer {
    let mut c = tokio::process::Command::new(venv_python());
    c.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/aiortc_peer.py"))
        .arg("--url")
        .arg(http_url.replacen("http", "ws", 1))
        .arg("--token")
        .arg(token)
        .args(args)
        .env("PYTHONUNBUFFERED", "1");
    ExternalPeer::spawn(c)
}

/// The direction attribute of the audio section of each SDP in these events.
pub fn directions(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|v| {
            parla::media::sdp::audio_direction(v["sdp"].as_str().unwrap_or(""))
                .as_str()
                .to_owned()
        })
        .collect()
}

/// Reads a mono 48 kHz WAV file.
pub fn mono_wav(path: &Path) -> Vec<i16> {
    let reader = hound::WavReader::open(path).unwrap();
    let channels = usize::from(reader.spec().channels);
    let all: Vec<i16> = reader.into_samples::<i16>().map(Result::unwrap).collect();
    all.into_iter().step_by(channels).collect()
}

/// How clearly `freq` is in the last `secs` seconds before the final tenth of `samples`
/// (48 kHz; the final tenth may be cut by the hang-up), with the level there, for messages.
pub fn tone_near_end(samples: &[i16], freq: f64, millis: usize) -> (f64, f64) {
    let end = samples.len() * 9 / 10;
    let n = millis * 48;
    let tail = &samples[end.saturating_sub(n)..end];
    (strength(tail, freq), parla::media::audio::rms(tail))
}

/// How clearly `freq` is in `samples`, measured over 100 ms windows (10 Hz wide, so that a
/// peer's clock a little off, or a jitter buffer stretching time, still counts) and
/// averaged.
pub fn strength(samples: &[i16], freq: f64) -> f64 {
    let windows: Vec<f64> = samples
        .chunks_exact(4_800)
        .map(|w| parla::media::audio::tone_strength(w, freq))
        .collect();
    if windows.is_empty() {
        return 0.0;
    }
    windows.iter().sum::<f64>() / windows.len() as f64
}

/// Asserts that `freq` is clearly there near the end of `samples` (see [`tone_near_end`]).
#[track_caller]
pub fn assert_tone(what: &str, samples: &[i16], freq: f64) {
    let (strength, level) = tone_near_end(samples, freq, 1_000);
    assert!(
        strength > 0.5 && level > 300.0,
        "{what}: {freq} Hz strength {strength:.2}, level {level:.0} rms, over {:.1} s",
        samples.len() as f64 / 48_000.0
    );
}

/// Whether some half second of `samples` holds `freq` clearly while the same half second
/// of `quiet` is silent.
pub fn tone_while_silent(samples: &[i16], freq: f64, quiet: &[i16]) -> bool {
    let w = 24_000;
    (0..samples.len().min(quiet.len()) / w).any(|i| {
        let (a, b) = (&samples[i * w..(i + 1) * w], &quiet[i * w..(i + 1) * w]);
        strength(a, freq) > 0.5 && parla::media::audio::rms(b) < 50.0
    })
}
