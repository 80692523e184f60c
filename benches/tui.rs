//! The interface's costs: time to draw a frame and from a key press to the new frame with
//! 100 000 messages in the open channel and 1 000 people, and memory — for those messages,
//! and for the interface while it is in a call (headless, with the real server and the demo's
//! echo bot in the same process).
//!
//! Prints a table and writes `target/bench/tui.json`.

// Test code: fixtures convert numbers freely; scenarios read top to bottom.
#![allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]

mod support;
use std::time::{Duration, Instant};
use support::{env_num, pct, rss_kib};

use chrono::{TimeZone, Utc};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;

use parla::proto::{Channel, ChannelKind, Message, Presence, PresenceStatus, UserEntry};
use parla::tui::app::App;
use parla::tui::i18n::Strings;
use parla::tui::keymap::Keymap;
use parla::tui::theme::Theme;
use parla::tui::ui;

fn big_app(messages: u64, people: u64) -> App {
    let (keymap, _) = Keymap::load("default", None);
    let mut app = App::new(Strings::english(), keymap);
    let t0 = Utc.with_ymd_and_hms(2026, 11, 1, 8, 0, 0).unwrap();
    let users: Vec<UserEntry> = (0..people)
        .map(|i| {
            let id = format!("user{i:04}");
            UserEntry {
                user_id: id.clone(),
                display_name: format!("Person {i}"),
                presence: Presence {
                    user_id: id,
                    status: if i % 3 == 0 {
                        PresenceStatus::Offline
                    } else {
                        PresenceStatus::Online
                    },
                    busy_with: Vec::new(),
                    devices: Vec::new(),
                    availability: parla::proto::Availability::Available,
                    activity: None,
                    note: None,
                },
                profile: parla::proto::Profile::default(),
            }
        })
        .collect();
    let channel = Channel {
        channel_id: "ch_big".into(),
        kind: ChannelKind::Group,
        name: Some("everyone".into()),
        participants: vec!["you".into(), "user0001".into()],
        created_at: t0,
        last_seq: messages,
        unread_count: 0,
        read_seq: messages,
        last_message: None,
    };
    app.on_loaded("you".into(), vec![channel], users);
    app.open_channel("ch_big");
    let history: Vec<Message> = (1..=messages)
        .map(|seq| Message {
            message_id: format!("m{seq}"),
            channel_id: "ch_big".into(),
            seq,
            sender: if seq % 2 == 0 {
                "you".into()
            } else {
                format!("user{:04}", seq % people.max(1))
            },
            text: format!(
                "message {seq}: the quick brown fox jumps over the lazy dog, again and again"
            ),
            created_at: t0 + chrono::Duration::seconds(seq as i64 * 7),
            client_id: format!("c{seq}"),
            voicemail_id: None,
        })
        .collect();
    app.on_history("ch_big", history, true);
    app.tick(t0 + chrono::Duration::days(2));
    app
}

fn main() {
    let messages = env_num("PARLA_BENCH_MESSAGES", 100_000);
    let people = env_num("PARLA_BENCH_PEOPLE", 1_000);
    let frames = env_num("PARLA_BENCH_FRAMES", 500) as usize;
    let theme = Theme::builtin("dark").unwrap_or_else(|| panic!("no dark theme"));

    // Memory first, before the big channel below leaves its pages in the allocator.
    let call = in_call_memory();

    let before = rss_kib("self");
    let mut app = big_app(messages, people);
    let loaded_kib = rss_kib("self").saturating_sub(before);

    let mut rows = Vec::new();
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap_or_else(|e| panic!("{e}"));
        // Frame time: redraw the whole screen (the app marks everything dirty).
        let mut times = Vec::with_capacity(frames);
        for _ in 0..frames {
            let t = Instant::now();
            terminal
                .draw(|f| ui::render(f, &app, &theme))
                .unwrap_or_else(|e| panic!("{e}"));
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        // Input to screen: a key press handled and the frame drawn, alternating scrolling
        // back and forth and typing into the composer.
        let mut input = Vec::with_capacity(frames);
        for i in 0..frames {
            let key = match i % 4 {
                0 => KeyEvent::new(KeyCode::PageUp, KeyModifiers::NONE),
                1 => KeyEvent::new(KeyCode::PageDown, KeyModifiers::NONE),
                2 => KeyEvent::new(KeyCode::Char('i'), KeyModifiers::NONE),
                _ => KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE),
            };
            let t = Instant::now();
            let _ = app.on_key(key);
            terminal
                .draw(|f| ui::render(f, &app, &theme))
                .unwrap_or_else(|e| panic!("{e}"));
            input.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        input.sort_by(f64::total_cmp);
        rows.push(serde_json::json!({
            "size": format!("{w}x{h}"),
            "frame_ms": {"p50": pct(&times, 0.5), "p95": pct(&times, 0.95), "p99": pct(&times, 0.99)},
            "input_to_frame_ms": {"p50": pct(&input, 0.5), "p95": pct(&input, 0.95), "p99": pct(&input, 0.99)},
        }));
    }
    drop(app);

    println!();
    println!("interface with {messages} messages in the open channel and {people} people");
    for r in &rows {
        println!(
            "{}: frame p50 {:.3} ms, p99 {:.3} ms; key → frame p50 {:.3} ms, p99 {:.3} ms",
            r["size"].as_str().unwrap_or(""),
            r["frame_ms"]["p50"].as_f64().unwrap_or(f64::NAN),
            r["frame_ms"]["p99"].as_f64().unwrap_or(f64::NAN),
            r["input_to_frame_ms"]["p50"].as_f64().unwrap_or(f64::NAN),
            r["input_to_frame_ms"]["p99"].as_f64().unwrap_or(f64::NAN),
        );
    }
    println!(
        "memory for the messages and people: {:.1} MiB",
        loaded_kib as f64 / 1024.0
    );
    match &call {
        Some((idle, peak)) => println!(
            "interface signed in: +{:.1} MiB; in a call with the echo bot: +{:.1} MiB more (peak)",
            *idle as f64 / 1024.0,
            peak.saturating_sub(*idle) as f64 / 1024.0
        ),
        None => println!("memory in a call: not measured (the call did not connect)"),
    }
    let out = serde_json::json!({
        "suite": "tui",
        "messages": messages,
        "people": people,
        "frames": frames,
        "sizes": rows,
        "messages_memory_kib": loaded_kib,
        "signed_in_kib": call.map(|c| c.0),
        "in_call_extra_kib": call.map(|c| c.1.saturating_sub(c.0)),
    });
    support::write_json("tui", &out);
}

/// Memory of a headless interface signed in, and at its peak during a call with the echo
/// bot (both over the server and bot already running in this process).
fn in_call_memory() -> Option<(u64, u64)> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .ok()?;
    rt.block_on(async {
        let dir = tempfile::tempdir().ok()?;
        let server = parla::server::Server::start(parla::server::ServerConfig::new(
            "127.0.0.1:0".parse().ok()?,
            dir.path().into(),
        ))
        .await
        .ok()?;
        parla::cli::demo::seed(&server).await.ok()?;
        let echo = parla::cli::demo::spawn_echo_bot(&server, "127.0.0.1:0").ok()?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let base = rss_kib("self");
        let settings = parla::settings::Overrides {
            config: Some("/nonexistent/parla.toml".into()),
            ..Default::default()
        };
        let file = parla::settings::ConfigFile::default();
        let mut look = parla::tui::run::Look::from_config(&settings, &file);
        look.audio.backend = "null".into();
        let config = parla::client::ClientConfig::new(
            server.url(),
            parla::cli::demo::local_tokens(server.state().clone(), "you"),
        );
        let (client, events) = parla::client::Client::start(config).ok()?;
        let mut runtime = parla::tui::run::Runtime::new(look, client.clone(), events, "127.0.0.1:0");
        let script = parla::tui::script::parse(
            "expect-timeout 20000\npace 20\nexpect Connected\nexpect Echo\nwait 2500\nkey tab\nkey /\ntype echo\nkey enter\nkey c\nexpect 00:0\nwait 4000\nkey alt-e\nexpect ended: hung up\nquit\n",
        )
        .ok()?;
        let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let idle = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (p, i) = (peak.clone(), idle.clone());
        let sampler = tokio::spawn(async move {
            let start = Instant::now();
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let now = rss_kib("self").saturating_sub(base);
                if start.elapsed() < Duration::from_millis(1500) {
                    i.fetch_max(now, std::sync::atomic::Ordering::Relaxed);
                }
                p.fetch_max(now, std::sync::atomic::Ordering::Relaxed);
            }
        });
        let played = parla::tui::run::headless(&mut runtime, script, 100, 30, None).await;
        sampler.abort();
        client.stop();
        echo.stop();
        server.shutdown().await;
        played.ok()?;
        Some((
            idle.load(std::sync::atomic::Ordering::Relaxed),
            peak.load(std::sync::atomic::Ordering::Relaxed),
        ))
    })
}
