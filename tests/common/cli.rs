//! `parla` as a command in the tests: signed in to a test server, its words, and what it
//! printed as JSON.

use std::path::Path;

use serde_json::Value;

use super::{parla_in, TestServer};

/// `parla` with `home` as its home, signed in to `t` with `token`.
pub fn parla(t: &TestServer, home: &Path, token: &str) -> tokio::process::Command {
    let mut c = parla_in(home);
    c.env("PARLA_SERVER", t.url()).env("PARLA_TOKEN", token);
    c
}

/// A command line's words.
pub fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// The JSON lines of a command's output.
pub fn json_lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The `call_summary` line a `--json` call or answer printed.
pub fn call_summary(out: &std::process::Output) -> Value {
    json_lines(&out.stdout)
        .into_iter()
        .find(|v| v["event"] == "call_summary")
        .unwrap_or_else(|| {
            panic!(
                "no call summary; stderr {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

/// One channel of a stereo call recording of parla: 0 = what it sent, 1 = what it heard.
pub fn wav_channel(path: &Path, channel: usize) -> Vec<i16> {
    let reader = hound::WavReader::open(path).unwrap();
    assert_eq!(reader.spec().channels, 2);
    let all: Vec<i16> = reader.into_samples::<i16>().map(Result::unwrap).collect();
    all.into_iter().skip(channel).step_by(2).collect()
}
