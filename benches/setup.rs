//! Call set-up against a peer that trickles every candidate after its description (headless
//! Chromium on the test page, its default behaviour) and against parla, in the same run:
//! dial → the caller's media connected, repeated, p50/p95. The caller is parla either way;
//! the callee answers as soon as the call rings.
//!
//! And parla → parla with relayed candidates only, through a TURN server (coturn) on
//! loopback, credentials from the server's TURN REST secret: allocation, permissions and
//! checks through the relay.
//!
//! `make bench` runs it (Chromium, chromium-driver and coturn come with `make test`'s
//! set-up); `target/bench/setup.json` gets the figures. Knobs: PARLA_BENCH_SETUPS (20);
//! PARLA_LOG (a log filter such as `webrtc=debug`, printed to stderr).

// Test code: fixtures convert numbers freely; scenarios read top to bottom.
#![allow(clippy::cast_possible_truncation)]

// The browser the interop tests drive; the benchmark uses part of it.
#[allow(dead_code)]
#[path = "../tests/common/browser.rs"]
mod browser;
#[allow(dead_code)]
#[path = "../tests/common/coturn.rs"]
mod coturn;
mod support;

use std::time::{Duration, Instant};

use parla::client::call::media::AudioSetup;
use parla::client::call::phone::{CallDriver, CallEvent};
use parla::client::call::CallState;
use parla::client::{Client, ClientConfig, Event, Rest};
use parla::media::audio::{NullSink, Tone};
use parla::media::peer::PeerOptions;
use parla::server::Server;
use serde_json::json;
use support::{env_num, pct, KEY};
use tokio::sync::mpsc::UnboundedReceiver;

const LIMIT: Duration = Duration::from_secs(30);

async fn client(server: &Server, user: &str) -> (Client, UnboundedReceiver<Event>) {
    let mut config = ClientConfig::new(server.url(), support::minted_tokens(server, user));
    config.presence = false;
    let (client, mut events) = Client::start(config).expect("client");
    loop {
        match tokio::time::timeout(LIMIT, events.recv()).await {
            Ok(Some(Event::Ready { .. })) => return (client, events),
            Ok(Some(_)) => {}
            _ => panic!("{user} did not connect"),
        }
    }
}

fn audio(freq: f64, relay_only: bool) -> AudioSetup {
    AudioSetup {
        source: Box::new(Tone::new(freq)),
        sink: Box::new(NullSink),
        peer: PeerOptions {
            relay_only,
            ..PeerOptions::default()
        },
        ..AudioSetup::silent("127.0.0.1:0")
    }
}

const TURN_SECRET: &str = "bench-turn-secret-0123";

/// coturn on a free loopback port, in the mode `parla serve --turn-secret` hands out
/// credentials for; `None` when it is not installed.
fn start_coturn(dir: &std::path::Path) -> Option<(std::process::Child, u16)> {
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let args = coturn::Coturn {
        port,
        listen: &["127.0.0.1"],
        secret: Some(TURN_SECRET),
        relay_ports: Some(coturn::relay_ports(port, 400)),
        dir,
    }
    .args();
    let child = std::process::Command::new("turnserver")
        .args(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    // Up once it answers a STUN binding request.
    let probe = std::net::UdpSocket::bind("127.0.0.1:0").ok()?;
    probe
        .set_read_timeout(Some(Duration::from_millis(200)))
        .ok()?;
    let req = coturn::binding_request();
    for _ in 0..50 {
        let _ = probe.send_to(&req, ("127.0.0.1", port));
        let mut buf = [0u8; 512];
        if probe
            .recv_from(&mut buf)
            .is_ok_and(|(n, _)| coturn::is_binding_response(&buf[..n]))
        {
            return Some((child, port));
        }
    }
    None
}

/// A parla callee that answers every call and drives its media, on a task of its own.
fn parla_callee(client: Client, mut events: UnboundedReceiver<Event>, relay_only: bool) {
    tokio::spawn(async move {
        let mut driver: Option<CallDriver> = None;
        while let Some(e) = events.recv().await {
            if let Event::CallIncoming { call } = &e {
                let _ = client.answer(&call.room_id).await;
                driver = Some(CallDriver::new(
                    client.clone(),
                    &call.room_id,
                    audio(880.0, relay_only),
                ));
            }
            if let Some(d) = driver.as_mut() {
                if let Ok(Some(CallEvent::Ended(_))) = d.on_event(&e).await {
                    if let Some(d) = driver.take() {
                        let _ = d.finish().await;
                    }
                }
            }
        }
    });
}

/// Dials `callee` and drives the call until the caller's media is connected; returns the
/// time that took, and hangs up.
async fn one_setup(
    a: &Client,
    events: &mut UnboundedReceiver<Event>,
    callee: &str,
    relay_only: bool,
) -> f64 {
    let start = Instant::now();
    let room = a.dial(&[callee.to_owned()]).await.expect("dial").room_id;
    let mut driver = CallDriver::new(a.clone(), &room, audio(440.0, relay_only));
    let deadline = Instant::now() + LIMIT;
    let took = loop {
        assert!(
            Instant::now() < deadline,
            "call set-up to {callee} timed out"
        );
        let Ok(Some(e)) = tokio::time::timeout(LIMIT, events.recv()).await else {
            panic!("the session ended");
        };
        if let Ok(Some(CallEvent::State(v))) = driver.on_event(&e).await {
            if v.state == CallState::Connected {
                break start.elapsed();
            }
        }
    };
    let _ = a.hangup(&room).await;
    let _ = driver.finish().await;
    // Let the room end everywhere before the next dial.
    tokio::time::sleep(Duration::from_millis(100)).await;
    while events.try_recv().is_ok() {}
    took.as_secs_f64() * 1000.0
}

fn main() {
    // PARLA_LOG=<filter> prints the media stack's log to stderr, to see where set-up waits.
    support::log_from_env();
    let setups = env_num("PARLA_BENCH_SETUPS", 20);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let dir = tempfile::tempdir().expect("tempdir");
        let coturn = start_coturn(dir.path());
        if coturn.is_none() {
            eprintln!("no TURN figure: coturn (turnserver) is not installed or did not start");
        }
        let turn_port = coturn.as_ref().map(|(_, p)| *p);
        let server = support::call_server_with(dir.path(), |c| {
            c.turn = turn_port.map(|port| parla::server::TurnConfig {
                urls: vec![format!("turn:127.0.0.1:{port}?transport=udp")],
                secret: TURN_SECRET.into(),
                ttl: Duration::from_mins(10),
            });
        })
        .await;
        let admin = Rest::new(&server.url()).expect("rest").with_api_key(KEY);
        for u in ["alice", "bob", "chromium", "carol", "dave"] {
            admin.admin_create_user(u, None).await.expect("user");
        }
        let (alice, mut a) = client(&server, "alice").await;
        let (bob, b) = client(&server, "bob").await;
        parla_callee(bob, b, false);
        let (carol, mut c) = client(&server, "carol").await;
        let (dave, d) = client(&server, "dave").await;
        parla_callee(dave, d, true);

        let page = browser::serve_page().await;
        let chromium = browser::Browser::open(
            &page.url,
            &["--disable-features=WebRtcHideLocalIpsWithMdns"],
        )
        .await;
        let (token, _) = server
            .state()
            .mint_token("chromium", chrono::Utc::now(), 3600)
            .await
            .expect("token");
        chromium
            .run(
                "return peer.connect(arguments[0], arguments[1], 'chromium')",
                json!([server.url().replacen("http", "ws", 1), token]),
            )
            .await;
        chromium.run("peer.answerCalls()", json!([])).await;

        // Alternating, so that both see the same machine.
        let (mut to_parla, mut to_browser, mut relayed) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..setups {
            to_parla.push(one_setup(&alice, &mut a, "bob", false).await);
            to_browser.push(one_setup(&alice, &mut a, "chromium", false).await);
            if coturn.is_some() {
                relayed.push(one_setup(&carol, &mut c, "dave", true).await);
            }
        }
        to_parla.sort_by(f64::total_cmp);
        to_browser.sort_by(f64::total_cmp);
        relayed.sort_by(f64::total_cmp);
        println!();
        println!("call set-up, dial → caller's media connected, on loopback");
        for (label, v) in [
            ("parla → parla", &to_parla),
            ("parla → Chromium (answer at once, every candidate trickled after it)", &to_browser),
            ("parla → parla through TURN (relayed candidates only, coturn on loopback)", &relayed),
        ] {
            println!(
                "{label}: n={} p50 {:.1} ms, p95 {:.1} ms",
                v.len(),
                pct(v, 0.5),
                pct(v, 0.95)
            );
        }
        let out = json!({
            "suite": "setup",
            "parla_to_parla_ms": {"n": to_parla.len(), "p50": pct(&to_parla, 0.5), "p95": pct(&to_parla, 0.95), "all": to_parla},
            "parla_to_chromium_ms": {"n": to_browser.len(), "p50": pct(&to_browser, 0.5), "p95": pct(&to_browser, 0.95), "all": to_browser},
            "parla_to_parla_through_turn_ms": {"n": relayed.len(), "p50": pct(&relayed, 0.5), "p95": pct(&relayed, 0.95), "all": relayed},
        });
        support::write_json("setup", &out);
        chromium.close().await;
        alice.stop();
        carol.stop();
        if let Some((mut child, _)) = coturn {
            let _ = child.kill();
            let _ = child.wait();
        }
        server.shutdown().await;
    });
}
