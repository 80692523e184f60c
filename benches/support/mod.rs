//! Helpers the benchmarks share: knobs from the environment, percentiles, what
//! `/proc` says about a process, the figures file and the log.

// Test code: fixtures convert numbers freely; scenarios read top to bottom.
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
#![allow(dead_code)]

/// A numeric knob from the environment, or its default.
pub fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `p` quantile (0 to 1) of sorted values; NaN when there are none.
pub fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Resident memory of a process (`self` or a pid), in KiB; 0 when unknown.
pub fn rss_kib(pid: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU time (user + system) this process has used, in seconds.
pub fn cpu_seconds() -> f64 {
    // utime + stime from /proc (clock ticks of 100 Hz on Linux).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// The admin key of the benchmarks' servers.
pub const KEY: &str = "bench-api-key-0123456789";

/// A server on loopback port 0 with its data in `dir`, the admin key [`KEY`], and no rate
/// limits (the benchmarks place calls back to back, far over what a person would).
pub async fn call_server(dir: &std::path::Path) -> parla::server::Server {
    call_server_with(dir, |_| {}).await
}

/// [`call_server`], with the configuration changed by `change` first.
pub async fn call_server_with(
    dir: &std::path::Path,
    change: impl FnOnce(&mut parla::server::ServerConfig),
) -> parla::server::Server {
    let mut config =
        parla::server::ServerConfig::new("127.0.0.1:0".parse().expect("addr"), dir.into());
    config.api_key = Some(KEY.into());
    config.limits = parla::server::limits::Limits::unlimited();
    change(&mut config);
    parla::server::Server::start(config).await.expect("server")
}

/// Tokens for `user` minted by the server itself, as a `--token-cmd` would fetch them.
pub fn minted_tokens(server: &parla::server::Server, user: &str) -> parla::client::TokenSource {
    let state = server.state().clone();
    let u = user.to_owned();
    parla::client::TokenSource::provider(move || {
        let state = state.clone();
        let u = u.clone();
        async move {
            state
                .mint_token(&u, chrono::Utc::now(), 3600)
                .await
                .map(|(t, _)| t)
                .map_err(|e| e.to_string())
        }
    })
}

/// Writes the figures to `target/bench/NAME.json` and says where (or why not).
pub fn write_json(name: &str, out: &serde_json::Value) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{name}.json"));
    match std::fs::write(&path, serde_json::to_string_pretty(out).unwrap_or_default()) {
        Ok(()) => println!("wrote {}", path.display()),
        Err(e) => eprintln!("cannot write {}: {e}", path.display()),
    }
}

/// With PARLA_LOG set (a log filter such as `webrtc=debug`), the log goes to stderr.
pub fn log_from_env() {
    if let Ok(filter) = std::env::var("PARLA_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .init();
    }
}
