//! A call through a TURN relay nobody here wrote: coturn (Debian's `turnserver`) on
//! loopback with the TURN REST shared secret `parla serve` hands out credentials for. Both
//! parties gather relayed candidates only, so the media can only have crossed coturn;
//! they reach coturn over UDP in one call and over TCP in the other.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::party::{connected, Party};
use common::*;
use parla::client::call::media::AudioSetup;
use parla::client::Event;
use parla::media::audio::{Capture, Tone};
use parla::media::peer::PeerOptions;
use parla::proto::Signal;
use tokio::io::{AsyncBufReadExt, BufReader};

const SECRET: &str = "coturn-shared-secret";

struct Coturn {
    _child: tokio::process::Child,
    _dir: tempfile::TempDir,
    port: u16,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Does the server answer a STUN binding request on `port` yet?
async fn answers_stun(port: u16) -> bool {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let req = common::coturn::binding_request();
    if socket.send_to(&req, ("127.0.0.1", port)).await.is_err() {
        return false;
    }
    let mut buf = [0u8; 512];
    matches!(
        tokio::time::timeout(Duration::from_millis(200), socket.recv_from(&mut buf)).await,
        Ok(Ok((n, _))) if common::coturn::is_binding_response(&buf[..n])
    )
}

async fn start_coturn() -> Coturn {
    let port = free_udp_port();
    let dir = tempfile::tempdir().unwrap();
    let args = common::coturn::Coturn {
        port,
        listen: &["127.0.0.1"],
        secret: Some(SECRET),
        relay_ports: Some(common::coturn::relay_ports(port, 200)),
        dir: dir.path(),
    }
    .args();
    let mut child = tokio::process::Command::new("turnserver")
        .args(&args)
        .arg("--verbose")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("turnserver (coturn) is missing: run `make test` to install it");
    let log: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let keep = log.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            keep.lock().unwrap().push(line);
        }
    });
    let deadline = tokio::time::Instant::now() + WAIT;
    while !answers_stun(port).await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "coturn did not come up: {:?}",
            log.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Coturn {
        _child: child,
        _dir: dir,
        port,
        log,
    }
}

fn relayed(freq: f64, heard: &Capture) -> AudioSetup {
    AudioSetup {
        source: Box::new(Tone::new(freq)),
        sink: Box::new(heard.clone()),
        peer: PeerOptions {
            relay_only: true,
            ..PeerOptions::default()
        },
        ..AudioSetup::silent("127.0.0.1:0")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_through_coturn_with_relayed_candidates_only() {
    let log = relayed_call("udp").await;
    assert!(!tcp_sessions(&log), "a TCP session on a UDP URL:\n{log}");
}

/// The same with the TURN server reached over TCP (RFC 8656 §3.1): each client opens a TCP
/// connection to coturn, allocates a UDP relay on it, and the media crosses as ChannelData
/// framed on the two TCP streams.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_through_coturn_reached_over_tcp() {
    let log = relayed_call("tcp").await;
    assert!(tcp_sessions(&log), "coturn saw no TCP connection:\n{log}");
}

/// Whether coturn's log shows clients connected over TCP.
fn tcp_sessions(log: &str) -> bool {
    log.lines().any(|l| l.contains("tcp or tls connected to"))
}

/// A call between alice and bob that can only go through coturn, reached over `transport`;
/// coturn's log.
async fn relayed_call(transport: &str) -> String {
    let turn = start_coturn().await;
    let t = TestServer::start_with(|c| {
        c.turn = Some(parla::server::TurnConfig {
            urls: vec![format!(
                "turn:127.0.0.1:{}?transport={transport}",
                turn.port
            )],
            secret: SECRET.into(),
            ttl: Duration::from_mins(10),
        });
    })
    .await;
    t.user("alice").await;
    t.user("bob").await;
    let (alice, a, bob, b, room) = answered_call(&t).await;
    let (heard_a, heard_b) = (Capture::default(), Capture::default());
    let started = std::time::Instant::now();
    let pa = Party::start_with("alice", alice.clone(), a, &room, relayed(440.0, &heard_a));
    let pb = Party::start_with("bob", bob.clone(), b, &room, relayed(880.0, &heard_b));
    pa.wait_state("connected", connected).await;
    pb.wait_state("connected", connected).await;
    // Nothing in the set-up waits for a timer: every DTLS flight through the relay goes out
    // as soon as the one before it has arrived (vendor/webrtc/PATCHES.md). Before that fix
    // each of the handshake's flights and events waited for the ICE agent's 200 ms tick, and
    // this took 1.2–1.4 s; it takes ~30 ms on an idle machine now (`make bench`, `setup`).
    // The bound is a guard against that regression, not a target: 25 times what it takes.
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(800),
        "set-up through the relay took {took:?}: flights waited for timers"
    );
    let hears = |c: &Capture, f: f64| {
        let s = c.samples();
        let n = (48 * 300).min(s.len());
        parla::media::audio::tone_strength(&s[s.len() - n..], f)
    };
    pa.wait("bob through the relay", || hears(&heard_a, 880.0) > 0.5)
        .await;
    pb.wait("alice through the relay", || hears(&heard_b, 440.0) > 0.5)
        .await;

    // Every candidate alice offered bob was a relayed one (none of her own addresses).
    let candidates: Vec<String> = pb
        .events()
        .iter()
        .filter_map(|e| match e {
            Event::CallSignal {
                signal: Signal::Candidate { candidate, .. },
                ..
            } => Some(candidate.clone()),
            Event::CallSignal {
                signal: Signal::Offer { sdp },
                ..
            } => Some(
                sdp.lines()
                    .filter(|l| l.starts_with("a=candidate"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            _ => None,
        })
        .filter(|c| !c.is_empty())
        .collect();
    assert!(!candidates.is_empty(), "no candidates from alice");
    for c in candidates.iter().flat_map(|c| c.lines()) {
        assert!(
            c.contains("typ relay"),
            "a candidate that is not relayed: {c}"
        );
    }
    // coturn says it made allocations with the credentials parla serve handed out.
    let log = turn.log.lock().unwrap().join("\n");
    assert!(
        log.contains("ALLOCATE") && log.contains("success"),
        "coturn allocated nothing:\n{log}"
    );
    alice.hangup(&room).await.unwrap();
    pa.finish().await;
    pb.finish().await;
    log
}
