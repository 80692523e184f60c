//! Chat fan-out on loopback against the real `parla serve` process.
//!
//! - latency: 200 connected clients in one group channel, one sender at a steady rate;
//!   every delivery's latency (sender's clock at send → receiver's clock at arrival, one
//!   machine so one clock), p50/p95/p99;
//! - throughput: the same 200 clients, messages pipelined as fast as the server acks them;
//!   stored messages/s and deliveries/s until every client has every message;
//! - memory: server RSS before and after opening idle connections, per connection;
//! - load: 1 000 connected clients and 10 senders at a combined 10 000 msg/s (each sender
//!   spread over direct channels with 100 of the clients), every acknowledgement durable;
//!   ack and delivery latency p50/p99 and the rate reached;
//! - flood: 200 clients sending as fast as they can against the default rate limits, while
//!   10 ordinary clients send 5 msg/s each: the ordinary clients' ack latency;
//! - round trips: answers of two frames back to back (a `resume` that announces a channel,
//!   a dial and its hang-up), which a socket with Nagle on would hold ~40 ms.
//!
//! Runs with `make bench` (`cargo bench --bench fanout`); prints a table and writes
//! `target/bench/fanout.json`. Options by environment: PARLA_BENCH_CLIENTS (200),
//! PARLA_BENCH_RATE (msg/s, 200), PARLA_BENCH_SECONDS (5), PARLA_BENCH_BURST (2000),
//! PARLA_BENCH_IDLE (1000), PARLA_BENCH_RUNS (3), PARLA_BENCH_LOAD_CLIENTS (1000),
//! PARLA_BENCH_LOAD_SENDERS (10), PARLA_BENCH_LOAD_RATE (combined msg/s, 10000),
//! PARLA_BENCH_FLOODERS (200).

// Test code: fixtures convert numbers freely; scenarios read top to bottom.
#![allow(
    clippy::assigning_clones,
    clippy::cast_possible_truncation,
    clippy::cognitive_complexity,
    clippy::items_after_statements
)]

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
const PHASE_LIMIT: Duration = Duration::from_mins(2);

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

/// A WebSocket whose send buffer is small: a client writing flat out then waits on the
/// server's pace instead of filling megabytes of kernel buffer (and the machine's CPU)
/// first.
async fn connect_small_buffers(url: &str, token: &str) -> WsStream {
    let addr: std::net::SocketAddr = url
        .trim_start_matches("http://")
        .parse()
        .expect("server address");
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_send_buffer_size(16 * 1024).expect("SO_SNDBUF");
    let tcp = socket.connect(addr).await.expect("connect");
    let ws_url = format!("{}/v1/ws?access_token={token}", url.replace("http", "ws"));
    let (mut ws, _) = tokio_tungstenite::client_async(ws_url, tcp)
        .await
        .expect("websocket handshake");
    let _ = ws.next().await;
    ws
}

type WsStream = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

fn now_us(epoch: Instant) -> u64 {
    epoch.elapsed().as_micros() as u64
}

struct Server {
    child: tokio::process::Child,
    url: String,
    _dir: tempfile::TempDir,
}

async fn start_server() -> Server {
    start_server_with(&[]).await
}

async fn start_server_with(extra: &[&str]) -> Server {
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
        .args(extra)
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

/// Rate limits off: these phases measure what the server can carry, not its limiter.
const UNLIMITED: &[&str] = &[
    "--limit",
    "messages=off",
    "--limit",
    "frames=off",
    "--limit",
    "dials=off",
];

async fn one_run(clients: usize, rate: u64, seconds: u64, burst: u64) -> RunResult {
    let server = start_server_with(UNLIMITED).await;
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
    lat.sort_by(f64::total_cmp);
    drop(server);
    RunResult {
        latency_ms: lat,
        rate_sent: total,
        burst_msgs: burst,
        burst_secs,
    }
}

/// Users, tokens and direct channels for the load phases: `senders` senders, each with
/// direct channels to `per_sender` of the `clients` receivers.
struct Population {
    sender_tokens: Vec<String>,
    receiver_tokens: Vec<String>,
    /// Per sender, its channels.
    channels: Vec<Vec<String>>,
}

async fn populate(url: &str, senders: usize, clients: usize) -> Population {
    let admin = Rest::new(url).expect("rest").with_api_key(API_KEY);
    let mut receiver_tokens = Vec::new();
    for i in 0..clients {
        let id = format!("r{i:04}");
        admin
            .admin_create_user(&id, None)
            .await
            .expect("create user");
        receiver_tokens.push(
            admin
                .admin_credentials(&id, Some(86_400))
                .await
                .expect("token")
                .access_token,
        );
    }
    let per_sender = clients.div_ceil(senders.max(1));
    let (mut sender_tokens, mut channels) = (Vec::new(), Vec::new());
    for s in 0..senders {
        let id = format!("s{s:02}");
        admin
            .admin_create_user(&id, None)
            .await
            .expect("create user");
        let token = admin
            .admin_credentials(&id, Some(86_400))
            .await
            .expect("token")
            .access_token;
        let rest = Rest::new(url).expect("rest").with_token(token.clone());
        let mut mine = Vec::new();
        for r in (s * per_sender)..((s + 1) * per_sender).min(clients) {
            mine.push(
                rest.open_direct(&format!("r{r:04}"))
                    .await
                    .expect("direct channel")
                    .channel_id,
            );
        }
        sender_tokens.push(token);
        channels.push(mine);
    }
    Population {
        sender_tokens,
        receiver_tokens,
        channels,
    }
}

/// Receivers that record each message's delivery latency (the text carries its send time).
/// Returns once every one of them is connected.
async fn spawn_receivers(
    url: &str,
    tokens: &[String],
    epoch: Instant,
) -> (Arc<Mutex<Vec<f64>>>, Vec<tokio::task::JoinHandle<()>>) {
    let latencies = Arc::new(Mutex::new(Vec::<f64>::new()));
    let ready = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for token in tokens {
        let (url, token, latencies) = (url.to_owned(), token.clone(), latencies.clone());
        let ready = ready.clone();
        tasks.push(tokio::spawn(async move {
            let mut ws = connect(&url, &token).await;
            ready.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            while let Some(Ok(msg)) = ws.next().await {
                let Ws::Text(t) = msg else { continue };
                let at = now_us(epoch);
                let Some(rest) = t.as_str().split("\"text\":\"t:").nth(1) else {
                    continue;
                };
                if let Some(sent) = rest.split('"').next().and_then(|v| v.parse::<u64>().ok()) {
                    latencies
                        .lock()
                        .await
                        .push(at.saturating_sub(sent) as f64 / 1000.0);
                }
            }
        }));
    }
    let deadline = Instant::now() + PHASE_LIMIT;
    while ready.load(std::sync::atomic::Ordering::Relaxed) < tokens.len() {
        assert!(Instant::now() < deadline, "receivers did not connect");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (latencies, tasks)
}

/// The value of `"key":"..."` in a frame's text, without parsing the whole frame.
fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let start = text.find(&format!("\"{key}\":\""))? + key.len() + 4;
    text[start..].split('"').next()
}

/// One sender: `rate` messages a second for `seconds`, round-robin over `channels`, evenly
/// paced; every ack's latency.
async fn steady_sender(
    url: String,
    token: String,
    channels: Vec<String>,
    rate: u64,
    seconds: u64,
    epoch: Instant,
) -> (Vec<f64>, u64, u64) {
    let ws = connect(&url, &token).await;
    let (mut sink, mut stream) = ws.split();
    let sent_at = Arc::new(Mutex::new(HashMap::<String, u64>::new()));
    let acks = {
        let sent_at = sent_at.clone();
        tokio::spawn(async move {
            let (mut lat, mut refused) = (Vec::new(), 0u64);
            while let Ok(Some(Ok(msg))) =
                tokio::time::timeout(Duration::from_secs(10), stream.next()).await
            {
                let Ws::Text(t) = msg else { continue };
                let at = now_us(epoch);
                let text = t.as_str();
                let Some(req) = field(text, "req_id") else {
                    continue;
                };
                let Some(sent) = sent_at.lock().await.remove(req) else {
                    continue;
                };
                if text.starts_with("{\"type\":\"ack\"") {
                    lat.push(at.saturating_sub(sent) as f64 / 1000.0);
                } else {
                    refused += 1;
                }
                if lat.len() as u64 + refused >= rate * seconds {
                    break;
                }
            }
            (lat, refused)
        })
    };
    // Steps of 1 ms, or one message a step for lower rates.
    let (per_step, step) = if rate >= 1000 {
        (rate / 1000, Duration::from_millis(1))
    } else {
        (1, Duration::from_secs_f64(1.0 / rate as f64))
    };
    let mut ticker = tokio::time::interval(step);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut n = 0u64;
    let total = rate * seconds;
    while n < total {
        ticker.tick().await;
        for _ in 0..per_step.min(total - n) {
            let req = format!("m{n}");
            let channel = &channels[(n as usize) % channels.len()];
            let now = now_us(epoch);
            sent_at.lock().await.insert(req.clone(), now);
            let frame = serde_json::json!({"type": "send_message", "req_id": req,
                "channel_id": channel, "client_id": req, "text": format!("t:{now}")});
            if sink.send(Ws::text(frame.to_string())).await.is_err() {
                break;
            }
            n += 1;
        }
    }
    let (mut lat, refused) = acks.await.unwrap_or_default();
    lat.sort_by(f64::total_cmp);
    (lat, n, refused)
}

struct LoadResult {
    ack_ms: Vec<f64>,
    delivery_ms: Vec<f64>,
    sent: u64,
    refused: u64,
    seconds: f64,
}

async fn load_run(clients: usize, senders: usize, rate: u64, seconds: u64) -> LoadResult {
    let server = start_server_with(UNLIMITED).await;
    let pop = populate(&server.url, senders, clients).await;
    let epoch = Instant::now();
    let (deliveries, receivers) = spawn_receivers(&server.url, &pop.receiver_tokens, epoch).await;
    let start = Instant::now();
    let per_sender = rate / senders as u64;
    let tasks: Vec<_> = pop
        .sender_tokens
        .iter()
        .zip(&pop.channels)
        .map(|(token, channels)| {
            tokio::spawn(steady_sender(
                server.url.clone(),
                token.clone(),
                channels.clone(),
                per_sender,
                seconds,
                epoch,
            ))
        })
        .collect();
    let (mut ack_ms, mut sent, mut refused) = (Vec::new(), 0, 0);
    for t in tasks {
        let (lat, n, r) = t.await.expect("sender");
        ack_ms.extend(lat);
        sent += n;
        refused += r;
    }
    let secs = start.elapsed().as_secs_f64();
    let deadline = Instant::now() + Duration::from_secs(10);
    while (deliveries.lock().await.len() as u64) < sent - refused && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for r in receivers {
        r.abort();
    }
    ack_ms.sort_by(f64::total_cmp);
    let mut delivery_ms = deliveries.lock().await.clone();
    delivery_ms.sort_by(f64::total_cmp);
    drop(server);
    LoadResult {
        ack_ms,
        delivery_ms,
        sent,
        refused,
        seconds: secs,
    }
}

/// 200 clients flat out against the default limits; 10 ordinary clients at 5 msg/s each.
async fn flood_run(flooders: usize, seconds: u64) -> (Vec<f64>, u64, u64) {
    let server = start_server().await;
    let pop = populate(&server.url, 10, 10).await;
    let admin = Rest::new(&server.url).expect("rest").with_api_key(API_KEY);
    let mut flood_tokens = Vec::new();
    for i in 0..flooders {
        let id = format!("f{i:03}");
        admin
            .admin_create_user(&id, None)
            .await
            .expect("create user");
        flood_tokens.push(
            admin
                .admin_credentials(&id, Some(86_400))
                .await
                .expect("token")
                .access_token,
        );
    }
    let flood_rest = Rest::new(&server.url)
        .expect("rest")
        .with_token(flood_tokens[0].clone());
    let flood_channel = flood_rest
        .open_direct("r0000")
        .await
        .expect("channel")
        .channel_id;
    let epoch = Instant::now();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut flood = Vec::new();
    for token in &flood_tokens {
        let (url, token, stop, channel) = (
            server.url.clone(),
            token.clone(),
            stop.clone(),
            flood_channel.clone(),
        );
        flood.push(tokio::spawn(async move {
            let ws = connect_small_buffers(&url, &token).await;
            let (mut sink, mut stream) = ws.split();
            let drain = tokio::spawn(async move { while let Some(Ok(_)) = stream.next().await {} });
            // Messages to a channel it is not in: refused either way, after the limit.
            let frame = serde_json::json!({"type": "send_message", "channel_id": channel,
                "text": "flood"})
            .to_string();
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if sink.send(Ws::text(frame.clone())).await.is_err() {
                    break;
                }
                n += 1;
                if n.is_multiple_of(64) {
                    tokio::task::yield_now().await;
                }
            }
            drain.abort();
            n
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let tasks: Vec<_> = pop
        .sender_tokens
        .iter()
        .zip(&pop.channels)
        .map(|(token, channels)| {
            tokio::spawn(steady_sender(
                server.url.clone(),
                token.clone(),
                channels.clone(),
                5,
                seconds,
                epoch,
            ))
        })
        .collect();
    let mut ack_ms = Vec::new();
    let mut refused = 0;
    for t in tasks {
        let (lat, _, r) = t.await.expect("sender");
        ack_ms.extend(lat);
        refused += r;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut flooded = 0;
    for f in flood {
        flooded += f.await.unwrap_or(0);
    }
    ack_ms.sort_by(f64::total_cmp);
    drop(server);
    (ack_ms, flooded, refused)
}

/// Answers of two frames: `resume` announcing one channel (`channel_added`, `resumed`) and
/// a dial followed by its hang-up; milliseconds from the request to the second frame.
async fn round_trips(n: usize) -> (Vec<f64>, Vec<f64>) {
    let server = start_server_with(UNLIMITED).await;
    let pop = populate(&server.url, 1, 1).await;
    let mut ws = connect(&server.url, &pop.sender_tokens[0]).await;
    async fn until(ws: &mut Socket, pred: impl Fn(&serde_json::Value) -> bool) {
        while let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_secs(10), ws.next()).await
        {
            if let Ws::Text(t) = msg {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(t.as_str()) {
                    if pred(&v) {
                        return;
                    }
                }
            }
        }
        panic!("no answer");
    }
    let (mut resume, mut dial) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let t = Instant::now();
        ws.send(Ws::text(r#"{"type":"resume","cursors":{}}"#))
            .await
            .expect("send");
        until(&mut ws, |v| v["type"] == "resumed").await;
        resume.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    for i in 0..n {
        let t = Instant::now();
        let frame = format!(r#"{{"type":"call_dial","req_id":"d{i}","callees":["r0000"]}}"#);
        ws.send(Ws::text(frame)).await.expect("send");
        let mut room = String::new();
        while room.is_empty() {
            if let Ok(Some(Ok(Ws::Text(t)))) =
                tokio::time::timeout(Duration::from_secs(10), ws.next()).await
            {
                let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap_or_default();
                if v["req_id"] == format!("d{i}").as_str() {
                    room = v["call"]["room_id"].as_str().unwrap_or("?").to_owned();
                }
            } else {
                panic!("no dial answer");
            }
        }
        let frame = format!(r#"{{"type":"call_hangup","req_id":"h{i}","room_id":"{room}"}}"#);
        ws.send(Ws::text(frame)).await.expect("send");
        let want = format!("h{i}");
        until(&mut ws, |v| v["req_id"] == want.as_str()).await;
        dial.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    resume.sort_by(f64::total_cmp);
    dial.sort_by(f64::total_cmp);
    drop(server);
    (resume, dial)
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
    let load_clients = env_num("PARLA_BENCH_LOAD_CLIENTS", 1000).max(1) as usize;
    let load_senders = env_num("PARLA_BENCH_LOAD_SENDERS", 10).max(1) as usize;
    let load_rate = env_num("PARLA_BENCH_LOAD_RATE", 10_000).max(1);
    let flooders = env_num("PARLA_BENCH_FLOODERS", 200).max(1) as usize;
    // A comma-separated subset of fanout,load,flood,round,idle (all by default).
    let phases = std::env::var("PARLA_BENCH_PHASES")
        .unwrap_or_else(|_| "fanout,load,flood,round,idle".into());
    let phase = |name: &str| phases.split(',').any(|p| p.trim() == name);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut rows = Vec::new();
        for run in (1..=runs).filter(|_| phase("fanout")) {
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
        let mut loads = Vec::new();
        for run in (1..=runs).filter(|_| phase("load")) {
            let r = load_run(load_clients, load_senders, load_rate, seconds).await;
            loads.push(serde_json::json!({
                "run": run,
                "clients": load_clients,
                "senders": load_senders,
                "offered_msgs_per_s": load_rate,
                "stored_msgs_per_s": (r.sent - r.refused) as f64 / r.seconds,
                "sent": r.sent,
                "refused": r.refused,
                "acks": r.ack_ms.len(),
                "deliveries": r.delivery_ms.len(),
                "ack_p50_ms": percentile(&r.ack_ms, 0.50),
                "ack_p99_ms": percentile(&r.ack_ms, 0.99),
                "delivery_p50_ms": percentile(&r.delivery_ms, 0.50),
                "delivery_p99_ms": percentile(&r.delivery_ms, 0.99),
            }));
        }
        let (flood_ack, flooded, flood_refused) = if phase("flood") {
            flood_run(flooders, seconds).await
        } else {
            (Vec::new(), 0, 0)
        };
        let (resume_ms, dial_ms) = if phase("round") {
            round_trips(20).await
        } else {
            (Vec::new(), Vec::new())
        };
        let (before, after, per_conn) = if phase("idle") {
            idle_memory(idle).await
        } else {
            (0, 0, f64::NAN)
        };
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
        println!();
        println!(
            "load: {load_clients} clients, {load_senders} senders, {load_rate} msg/s offered over direct channels, durable acks"
        );
        println!(
            "{:>4} {:>12} {:>10} {:>10} {:>12} {:>12} {:>12}",
            "run", "stored/s", "ack p50", "ack p99", "deliv p50", "deliv p99", "delivered"
        );
        for r in &loads {
            println!(
                "{:>4} {:>12.0} {:>10.2} {:>10.2} {:>12.2} {:>12.2} {:>12}",
                r["run"],
                r["stored_msgs_per_s"].as_f64().unwrap_or(f64::NAN),
                r["ack_p50_ms"].as_f64().unwrap_or(f64::NAN),
                r["ack_p99_ms"].as_f64().unwrap_or(f64::NAN),
                r["delivery_p50_ms"].as_f64().unwrap_or(f64::NAN),
                r["delivery_p99_ms"].as_f64().unwrap_or(f64::NAN),
                format!("{}/{}", r["deliveries"], r["sent"]),
            );
        }
        println!();
        println!(
            "flood: {flooders} clients writing flat out ({flooded} frames written, read at their frame rate); 10 ordinary clients at 5 msg/s: ack p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} acks, {flood_refused} refused)",
            percentile(&flood_ack, 0.50),
            percentile(&flood_ack, 0.99),
            flood_ack.last().copied().unwrap_or(f64::NAN),
            flood_ack.len(),
        );
        println!(
            "two-frame answers: resume p50 {:.2} ms p95 {:.2} ms; dial + hang-up p50 {:.2} ms p95 {:.2} ms",
            percentile(&resume_ms, 0.50),
            percentile(&resume_ms, 0.95),
            percentile(&dial_ms, 0.50),
            percentile(&dial_ms, 0.95),
        );
        println!(
            "idle connections: {idle}, server RSS {before} KiB -> {after} KiB, {:.1} KiB per connection",
            per_conn / 1024.0
        );
        let out = serde_json::json!({
            "suite": "fanout",
            "runs": rows,
            "load": loads,
            "flood": {"flooders": flooders, "flood_frames": flooded,
                      "ordinary_acks": flood_ack.len(), "ordinary_refused": flood_refused,
                      "ack_p50_ms": percentile(&flood_ack, 0.50),
                      "ack_p99_ms": percentile(&flood_ack, 0.99)},
            "round_trips": {"resume_p50_ms": percentile(&resume_ms, 0.50),
                            "resume_p95_ms": percentile(&resume_ms, 0.95),
                            "dial_hangup_p50_ms": percentile(&dial_ms, 0.50),
                            "dial_hangup_p95_ms": percentile(&dial_ms, 0.95)},
            "idle": {"connections": idle, "rss_before_kib": before, "rss_after_kib": after,
                     "bytes_per_connection": per_conn},
        });
        support::write_json("fanout", &out);
    });
}
