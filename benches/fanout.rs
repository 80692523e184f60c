//! Chat fan-out on loopback against the real `parla serve` process.
//!
//! - latency: 200 connected clients in one group channel, one sender at a steady rate;
//!   every delivery's latency (sender's clock at send → receiver's clock at arrival, one
//!   machine so one clock), p50/p95/p99;
//! - throughput: the same 200 clients, messages pipelined as fast as the server acks them;
//!   stored messages/s and deliveries/s until every client has every message;
//! - memory: server RSS before and after opening idle connections, per connection.
//!
//! Runs with `make bench` (`cargo bench --bench fanout`); prints a table and writes
//! `target/bench/fanout.json`. Options by environment: PARLA_BENCH_CLIENTS (200),
//! PARLA_BENCH_RATE (msg/s, 200), PARLA_BENCH_SECONDS (5), PARLA_BENCH_BURST (2000),
//! PARLA_BENCH_IDLE (1000), PARLA_BENCH_RUNS (3).

mod support;
use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{env_num, pct as percentile, rss_kib};

use futures_util::{SinkExt, StreamExt};
use parla::client::Rest;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message as Ws;

const API_KEY: &str = "bench-api-key-0123456789";
/// Hard ceiling on any single phase, so a broken server cannot hang the run.
const PHASE_LIMIT: Duration = Duration::from_secs(120);

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: &str, token: &str) -> Socket {
    let ws_url = format!("{}/v1/ws?access_token={token}", url.replace("http", "ws"));
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url)
        .await
        .expect("websocket connect");
    // `ready`
    let _ = ws.next().await;
    ws
}

fn now_us(epoch: Instant) -> u64 {
    epoch.elapsed().as_micros() as u64
}

struct Server {
    child: tokio::process::Child,
    url: String,
    _dir: tempfile::TempDir,
}

async fn start_server() -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_parla"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--api-key",
            API_KEY,
            "--data",
        ])
        .arg(dir.path())
        .env("XDG_DATA_HOME", dir.path())
        .env("PARLA_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start parla serve");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut url = String::new();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(u) = line.strip_prefix("parla serve: listening on ") {
            url = u.to_owned();
            break;
        }
    }
    assert!(!url.is_empty(), "parla serve did not start");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Server {
        child,
        url,
        _dir: dir,
    }
}

struct RunResult {
    latency_ms: Vec<f64>,
    rate_sent: u64,
    burst_msgs: u64,
    burst_secs: f64,
}

async fn one_run(clients: usize, rate: u64, seconds: u64, burst: u64) -> RunResult {
    let server = start_server().await;
    let admin = Rest::new(&server.url).expect("rest").with_api_key(API_KEY);
    let mut tokens = Vec::new();
    for i in 0..clients {
        let id = format!("u{i:04}");
        admin
            .admin_create_user(&id, None)
            .await
            .expect("create user");
        tokens.push(
            admin
                .admin_credentials(&id, None)
                .await
                .expect("token")
                .access_token,
        );
    }
    let sender_rest = Rest::new(&server.url)
        .expect("rest")
        .with_token(tokens[0].clone());
    let others: Vec<String> = (1..clients).map(|i| format!("u{i:04}")).collect();
    let channel = sender_rest
        .create_group("bench", &others)
        .await
        .expect("group")
        .channel_id;

    let epoch = Instant::now();
    // Receivers record (message text → arrival time) per delivery.
    let latencies = Arc::new(Mutex::new(Vec::<f64>::new()));
    let burst_seen = Arc::new(Mutex::new(HashMap::<usize, u64>::new()));
    let mut receivers = Vec::new();
    for (i, token) in tokens.iter().enumerate().skip(1) {
        let mut ws = connect(&server.url, token).await;
        let latencies = latencies.clone();
        let burst_seen = burst_seen.clone();
        receivers.push(tokio::spawn(async move {
            while let Some(Ok(msg)) = ws.next().await {
                let Ws::Text(t) = msg else { continue };
                let at = now_us(epoch);
                let v: serde_json::Value = match serde_json::from_str(t.as_str()) {
                    Ok(v) => v,
                    Err(_) => continue,
                };
                if v["type"] != "message" {
                    continue;
                }
                let text = v["message"]["text"].as_str().unwrap_or_default();
                if let Some(sent) = text
                    .strip_prefix("lat:")
                    .and_then(|s| s.parse::<u64>().ok())
                {
                    latencies
                        .lock()
                        .await
                        .push(at.saturating_sub(sent) as f64 / 1000.0);
                } else if text.starts_with("burst:") {
                    *burst_seen.lock().await.entry(i).or_default() += 1;
                }
            }
        }));
    }
    let mut sender = connect(&server.url, &tokens[0]).await;

    // Phase 1: steady rate.
    let total = rate * seconds;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let mut ticker = tokio::time::interval(interval);
    let start = Instant::now();
    for n in 0..total {
        ticker.tick().await;
        let frame = serde_json::json!({
            "type": "send_message", "channel_id": channel,
            "client_id": format!("lat-{n}"), "text": format!("lat:{}", now_us(epoch)),
        });
        sender
            .send(Ws::text(frame.to_string()))
            .await
            .expect("send");
        if start.elapsed() > PHASE_LIMIT {
            break;
        }
    }
    let expected = total as usize * (clients - 1);
    let deadline = Instant::now() + PHASE_LIMIT;
    while latencies.lock().await.len() < expected && Instant::now() < deadline {
        // Drain acks meanwhile so the sender's socket never backs up.
        let _ = tokio::time::timeout(Duration::from_millis(20), sender.next()).await;
    }

    // Phase 2: burst, pipelined.
    let burst_start = Instant::now();
    let sink_task = {
        let channel = channel.clone();
        let (mut sink, mut stream) = sender.split();
        let drain = tokio::spawn(async move { while let Some(Ok(_)) = stream.next().await {} });
        let t = tokio::spawn(async move {
            for n in 0..burst {
                let frame = serde_json::json!({
                    "type": "send_message", "channel_id": channel,
                    "client_id": format!("burst-{n}"), "text": format!("burst:{n}"),
                });
                if sink.send(Ws::text(frame.to_string())).await.is_err() {
                    break;
                }
            }
            sink
        });
        (t, drain)
    };
    let deadline = Instant::now() + PHASE_LIMIT;
    loop {
        let done = {
            let seen = burst_seen.lock().await;
            seen.len() == clients - 1 && seen.values().all(|n| *n >= burst)
        };
        if done || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let burst_secs = burst_start.elapsed().as_secs_f64();
    let _ = sink_task.0.await;
    sink_task.1.abort();
    for r in receivers {
        r.abort();
    }
    let mut lat = latencies.lock().await.clone();
    lat.sort_by(|a, b| a.total_cmp(b));
    drop(server);
    RunResult {
        latency_ms: lat,
        rate_sent: total,
        burst_msgs: burst,
        burst_secs,
    }
}

async fn idle_memory(idle: usize) -> (u64, u64, f64) {
    let server = start_server().await;
    let pid = server.child.id().unwrap_or(0);
    let admin = Rest::new(&server.url).expect("rest").with_api_key(API_KEY);
    admin.admin_create_user("idle", None).await.expect("user");
    let token = admin
        .admin_credentials("idle", None)
        .await
        .expect("token")
        .access_token;
    // Warm up allocator and the first connection's one-time costs.
    let mut socks = vec![connect(&server.url, &token).await];
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = rss_kib(&pid.to_string());
    for _ in 1..idle {
        socks.push(connect(&server.url, &token).await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib(&pid.to_string());
    let per_conn = (after.saturating_sub(before)) as f64 * 1024.0 / (idle - 1) as f64;
    drop(socks);
    drop(server);
    (before, after, per_conn)
}

fn main() {
    // `cargo bench` passes --bench; nothing else is expected.
    let clients = env_num("PARLA_BENCH_CLIENTS", 200).max(2) as usize;
    let rate = env_num("PARLA_BENCH_RATE", 200).max(1);
    let seconds = env_num("PARLA_BENCH_SECONDS", 5).max(1);
    let burst = env_num("PARLA_BENCH_BURST", 2000).max(1);
    let idle = env_num("PARLA_BENCH_IDLE", 1000).max(2) as usize;
    let runs = env_num("PARLA_BENCH_RUNS", 3).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut rows = Vec::new();
        for run in 1..=runs {
            let r = one_run(clients, rate, seconds, burst).await;
            let deliveries = r.burst_msgs as f64 * (clients - 1) as f64;
            let row = serde_json::json!({
                "run": run,
                "clients": clients,
                "rate_msgs_per_s": rate,
                "latency_deliveries": r.latency_ms.len(),
                "latency_expected": r.rate_sent as usize * (clients - 1),
                "latency_p50_ms": percentile(&r.latency_ms, 0.50),
                "latency_p95_ms": percentile(&r.latency_ms, 0.95),
                "latency_p99_ms": percentile(&r.latency_ms, 0.99),
                "burst_messages": r.burst_msgs,
                "burst_seconds": r.burst_secs,
                "burst_msgs_per_s": r.burst_msgs as f64 / r.burst_secs,
                "burst_deliveries_per_s": deliveries / r.burst_secs,
            });
            rows.push(row);
        }
        let (before, after, per_conn) = idle_memory(idle).await;
        println!();
        println!("chat fan-out, {clients} clients in one channel, loopback, real `parla serve`");
        println!(
            "{:>4} {:>10} {:>10} {:>10} {:>12} {:>14} {:>16}",
            "run", "p50 ms", "p95 ms", "p99 ms", "delivered", "burst msg/s", "deliveries/s"
        );
        for r in &rows {
            println!(
                "{:>4} {:>10.2} {:>10.2} {:>10.2} {:>12} {:>14.0} {:>16.0}",
                r["run"],
                r["latency_p50_ms"].as_f64().unwrap_or(f64::NAN),
                r["latency_p95_ms"].as_f64().unwrap_or(f64::NAN),
                r["latency_p99_ms"].as_f64().unwrap_or(f64::NAN),
                format!("{}/{}", r["latency_deliveries"], r["latency_expected"]),
                r["burst_msgs_per_s"].as_f64().unwrap_or(f64::NAN),
                r["burst_deliveries_per_s"].as_f64().unwrap_or(f64::NAN),
            );
        }
        println!(
            "idle connections: {idle}, server RSS {before} KiB -> {after} KiB, {:.1} KiB per connection",
            per_conn / 1024.0
        );
        let out = serde_json::json!({
            "suite": "fanout",
            "runs": rows,
            "idle": {"connections": idle, "rss_before_kib": before, "rss_after_kib": after,
                     "bytes_per_connection": per_conn},
        });
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("fanout.json");
        match std::fs::write(&path, serde_json::to_string_pretty(&out).unwrap_or_default()) {
            Ok(()) => println!("wrote {}", path.display()),
            Err(e) => eprintln!("cannot write {}: {e}", path.display()),
        }
    });
}
