//! baresip's figure for the CPU comparison, measured in the same run as parla's: two baresip
//! user agents (Debian `baresip-core`), one a process, in a loopback call. The caller plays
//! a 440 Hz tone from a WAV file (`aufile`); the callee answers by itself and sends back
//! what it hears (`aubridge`, which also plays at the pace of real time, as a sound card
//! would): Opus at 64 kbit/s each way, as parla sends on a clean path. baresip's default
//! media path is plain RTP without ICE, so its figure leaves out what SRTP, DTLS and ICE
//! cost parla. Each process's CPU time over `seconds` once both report the call
//! established.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn config(dir: &Path, port: u16, source: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let modules = ["opus.so", "aubridge.so", "aufile.so"];
    let mut text = format!(
        "poll_method epoll\nsip_listen 127.0.0.1:{port}\naudio_player aubridge,loop\n\
         audio_source {source}\naudio_alert aubridge,alert\n\
         module_path /usr/lib/baresip/modules\nopus_bitrate 64000\nopus_stereo no\n\
         opus_sprop_stereo no\nmodule_app account.so\nmodule_app menu.so\n"
    );
    for m in modules {
        text.push_str(&format!("module {m}\n"));
    }
    std::fs::write(dir.join("config"), text)?;
    std::fs::write(
        dir.join("accounts"),
        format!("<sip:ua@127.0.0.1:{port}>;regint=0;answermode=auto\n"),
    )?;
    std::fs::write(dir.join("contacts"), "")
}

fn tone(path: &Path, seconds: u64) -> Result<(), hound::Error> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec)?;
    for i in 0..48_000 * seconds {
        let t = i as f64 / 48_000.0;
        w.write_sample((8000.0 * (440.0 * std::f64::consts::TAU * t).sin()) as i16)?;
    }
    w.finalize()
}

/// A free loopback port (and the one after it, which baresip takes for SIP over TLS).
fn free_port() -> Option<u16> {
    for _ in 0..20 {
        let p = std::net::UdpSocket::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        if p < 65_000 && std::net::TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            return Some(p);
        }
    }
    None
}

fn ticks(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let f: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    Some(f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?)
}

struct Ua(Child);

impl Drop for Ua {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(dir: &Path, dial: Option<String>) -> std::io::Result<Ua> {
    let log = std::fs::File::create(dir.join("log"))?;
    let mut c = Command::new("baresip");
    c.arg("-f").arg(dir);
    if let Some(uri) = dial {
        c.args(["-e", &format!("/dial {uri}")]);
    }
    c.stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .map(Ua)
}

fn established(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("log")).is_ok_and(|l| l.contains("Call established"))
}

/// Percent of one core used by the caller's and the callee's process; `Err` says why
/// there is no figure (baresip missing, the call not set up).
pub fn one_call(seconds: u64) -> Result<(f64, f64), String> {
    if Command::new("baresip")
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        return Err("baresip is not installed (make bench installs baresip-core)".into());
    }
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (a, b) = (dir.path().join("caller"), dir.path().join("callee"));
    let wav = dir.path().join("tone.wav");
    tone(&wav, seconds + 20).map_err(|e| e.to_string())?;
    let (pa, pb) = free_port().zip(free_port()).ok_or("no free port")?;
    config(&a, pa, &format!("aufile,{}", wav.display())).map_err(|e| e.to_string())?;
    config(&b, pb, "aubridge,loop").map_err(|e| e.to_string())?;
    let callee = start(&b, None).map_err(|e| e.to_string())?;
    std::thread::sleep(Duration::from_millis(500));
    let caller = start(&a, Some(format!("sip:ua@127.0.0.1:{pb}"))).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(15);
    while !(established(&a) && established(&b)) {
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(a.join("log")).unwrap_or_default();
            return Err(format!("the baresip call was not established: {log}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Let the media settle as parla's sides do before they are measured.
    std::thread::sleep(Duration::from_secs(1));
    let (ida, idb) = (caller.0.id(), callee.0.id());
    let before = (ticks(ida), ticks(idb));
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds));
    let after = (ticks(ida), ticks(idb));
    let wall = t0.elapsed().as_secs_f64();
    // Clock ticks of 100 Hz on Linux.
    let pct = |b: Option<f64>, a: Option<f64>| {
        a.zip(b)
            .map(|(a, b)| (a - b) / 100.0 / wall * 100.0)
            .ok_or_else(|| "a baresip process ended early".to_owned())
    };
    let figures = (pct(before.0, after.0)?, pct(before.1, after.1)?);
    drop(caller);
    drop(callee);
    Ok(figures)
}
