//! The real `parla` binary, full screen in a pseudo-terminal, against a real server with
//! the demo's people and bots: what it draws is fed into a terminal emulator (`vt100`) and
//! checked as text while keys are typed into it — log in, chat with the bot, call the echo
//! bot, DTMF, hold, resume, hang up, quit with the terminal restored.

// Test code: fixtures convert numbers freely; scenarios read top to bottom.
#![allow(clippy::unused_self)]

mod common;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use parla::cli::demo;
use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};

const ROWS: u16 = 30;
const COLS: u16 = 100;
/// What must never show on the screen: text from C libraries or a panic that went to the
/// terminal instead of the log file.
const FORBIDDEN: &[&str] = &["ALSA lib", "panicked at", "RUST_BACKTRACE"];
/// The sequence that leaves the alternate screen.
const LEAVE_ALT_SCREEN: &[u8] = b"\x1b[?1049l";

/// The child in its pseudo-terminal, what it wrote (raw and as a screen), and the way to
/// type into it. Dropping it kills the child if it is still running.
struct Pty {
    child: Box<dyn Child + Send + Sync>,
    /// Kept open for as long as the child runs (closing it hangs the child up).
    _master: Box<dyn MasterPty + Send>,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    parser: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Pty {
    fn spawn(cmd: CommandBuilder) -> Pty {
        Pty::spawn_as(cmd, false)
    }

    /// Starts the child in a terminal that answers the questions a terminal is asked
    /// (primary device attributes), and with `kitty` says it speaks the kitty keyboard
    /// protocol.
    fn spawn_as(cmd: CommandBuilder, kitty: bool) -> Pty {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pseudo-terminal");
        let child = pair.slave.spawn_command(cmd).expect("start parla");
        // Only the child holds the slave end: its output ends when it exits.
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = Arc::new(Mutex::new(pair.master.take_writer().unwrap()));
        let parser = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let (p, r, w) = (parser.clone(), raw.clone(), writer.clone());
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    // EOF, or EIO once the child closed its side.
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let chunk = &buf[..n];
                        r.lock().unwrap().extend_from_slice(chunk);
                        p.lock().unwrap().process(chunk);
                        // Asked what it is: a VT220-class terminal (and kitty keyboard
                        // flags, when it has them).
                        if contains(chunk, b"\x1b[c") {
                            let mut w = w.lock().unwrap();
                            if kitty && contains(chunk, b"\x1b[?u") {
                                let _ = w.write_all(b"\x1b[?0u");
                            }
                            let _ = w.write_all(b"\x1b[?62;22c");
                            let _ = w.flush();
                        }
                    }
                }
            }
        });
        Pty {
            child,
            _master: pair.master,
            writer,
            parser,
            raw,
            reader: Some(reader),
        }
    }

    fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    fn send(&mut self, bytes: &[u8]) {
        let mut w = self.writer.lock().unwrap();
        w.write_all(bytes).expect("type into the terminal");
        w.flush().unwrap();
    }

    /// Esc alone, then waits until the screen shows it was taken (`done`), so the next
    /// key cannot be read with it as Alt+key, however slow the machine.
    async fn esc_until(&mut self, what: &str, done: impl Fn(&str) -> bool) {
        self.send(b"\x1b");
        self.wait(what, done).await;
    }

    fn check_clean(&self, screen: &str, when: &str) {
        for bad in FORBIDDEN {
            assert!(
                !screen.contains(bad),
                "`{bad}` on the screen {when}:\n{}",
                frame(screen)
            );
        }
    }

    /// Waits (bounded) until the screen satisfies `pred`; fails with the screen.
    async fn wait(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let screen = self.screen();
            self.check_clean(&screen, &format!("while waiting for {what}"));
            if pred(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {WAIT:?} waiting for {what}; the screen:\n{}",
                frame(&screen)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// In People (focused): filter for `who` and call them, as a person types it.
    fn call_from_people(&mut self, who: &str) {
        self.send(b"/");
        self.send(who.as_bytes());
        self.send(b"\r");
        self.send(b"c");
    }

    /// Waits for the call bar to show a call with `who` connected (its timer running).
    async fn wait_in_call(&self, who: &str) {
        let bar = format!("In a call with {who}");
        self.wait(&format!("the call with {who}"), |s| {
            s.lines().any(|l| l.contains(&bar) && l.contains("00:0"))
        })
        .await;
    }

    async fn wait_text(&self, text: &str) -> String {
        self.wait(&format!("{text:?}"), |s| s.contains(text)).await
    }

    /// `ctrl-c` with nothing open that asks first: the process ends well.
    async fn quit(&mut self) {
        self.send(b"\x03");
        let status = self.wait_exit(Duration::from_secs(10)).await;
        assert!(status.success(), "parla exited with {status:?}");
    }

    /// Waits (bounded) for the child to exit; kills it and fails when it does not.
    async fn wait_exit(&mut self, within: Duration) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the child") {
                return status;
            }
            if Instant::now() >= deadline {
                let screen = self.screen();
                let _ = self.child.kill();
                panic!(
                    "parla did not exit within {within:?} after ctrl-c; the screen:\n{}",
                    frame(&screen)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Everything the child wrote, once its output has ended (bounded).
    async fn output_after_exit(&mut self) -> Vec<u8> {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.reader.as_ref().is_some_and(|r| !r.is_finished()) {
            if Instant::now() >= deadline {
                break; // a grandchild holding the terminal: check what we have
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if self
            .reader
            .as_ref()
            .is_some_and(std::thread::JoinHandle::is_finished)
        {
            let _ = self.reader.take().unwrap().join();
        }
        self.raw.lock().unwrap().clone()
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The screen with a border, so that trailing spaces and empty lines show in a failure.
fn frame(screen: &str) -> String {
    let mut out = format!("+{}+\n", "-".repeat(COLS as usize));
    for line in screen.split('\n') {
        out.push_str(&format!("|{line:<w$}|\n", w = COLS as usize));
    }
    out.push_str(&format!("+{}+", "-".repeat(COLS as usize)));
    out
}

/// The bottom line of the screen, trimmed.
fn status_line(screen: &str) -> &str {
    screen.lines().last().unwrap_or("").trim()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// An hour's token for the demo user.
async fn demo_token(t: &TestServer) -> String {
    t.server
        .state()
        .mint_token(demo::DEMO_USER, chrono::Utc::now(), 3600)
        .await
        .unwrap()
        .0
}

/// `parla` in a pseudo-terminal, signed in as the demo user against `t`, with a home of
/// its own (config, logs, the control socket); returns the runtime directory too.
fn launch(
    t: &TestServer,
    token: &str,
    kitty: bool,
) -> (Pty, tempfile::TempDir, std::path::PathBuf) {
    launch_with(
        t,
        token,
        kitty,
        "[audio]\nbackend = \"null\"\nbind = \"127.0.0.1:0\"\n",
    )
}

/// The same with `config_text` as the config file.
fn launch_with(
    t: &TestServer,
    token: &str,
    kitty: bool,
    config_text: &str,
) -> (Pty, tempfile::TempDir, std::path::PathBuf) {
    // A home of its own: config, logs, the control socket.
    let home = tempfile::tempdir().unwrap();
    let dir = |name: &str| {
        let d = home.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        d
    };
    let (config, data, runtime) = (dir("config"), dir("data"), dir("runtime"));
    std::fs::create_dir_all(config.join("parla")).unwrap();
    std::fs::write(config.join("parla/config.toml"), config_text).unwrap();

    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_parla"));
    cmd.env_clear();
    for keep in ["PATH", "LD_LIBRARY_PATH"] {
        if let Some(v) = std::env::var_os(keep) {
            cmd.env(keep, v);
        }
    }
    cmd.env("PARLA_SERVER", t.url());
    cmd.env("PARLA_TOKEN", token);
    cmd.env("TERM", "xterm-256color");
    cmd.env("LANG", "C.UTF-8"); // English whatever the machine's locale
    cmd.env("HOME", home.path());
    cmd.env("XDG_CONFIG_HOME", &config);
    cmd.env("XDG_DATA_HOME", &data);
    cmd.env("XDG_RUNTIME_DIR", &runtime);
    cmd.cwd(home.path());
    (Pty::spawn_as(cmd, kitty), home, runtime)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_interface_chats_and_calls_in_a_real_terminal() {
    let t = TestServer::start().await;
    demo::seed(&t.server).await.unwrap();
    let chat_bot = demo::spawn_chat_bot(&t.server).unwrap();
    let echo_bot = demo::spawn_echo_bot(&t.server, "127.0.0.1:0").unwrap();
    let menu_bot = demo::spawn_ivr_bot(&t.server, "127.0.0.1:0").unwrap();
    let token = demo_token(&t).await;

    let started = Instant::now();
    let (mut pty, _home, runtime) = launch(&t, &token, false);

    // Signed in, with the demo's people listed.
    pty.wait("\"Connected\" in the status line", |s| {
        status_line(s).starts_with("Connected")
    })
    .await;
    pty.wait_text("Alice (chat bot)").await;
    // The pane is narrower than echo's full name ("Echo (answers calls, plays your voice
    // back)"): its start shows.
    pty.wait_text("Echo (answers calls").await;

    // People: find alice, open the (new) conversation with her.
    pty.send(b"\t");
    pty.send(b"/");
    pty.send(b"alice");
    pty.send(b"\r");
    pty.send(b"\r");
    pty.wait_text("No messages yet").await;

    // Write to her; the bot answers.
    pty.send(b"i");
    pty.send(b"hello from the pty");
    pty.send(b"\r");
    pty.wait("the message and alice's reply", |s| {
        s.contains("hello from the pty") && s.contains("You said:")
    })
    .await;
    pty.esc_until("the composer left", |s| !s.contains("esc back"))
        .await;

    // Back to People (Chat -> Channels -> People), find echo and call.
    pty.send(b"\t");
    pty.send(b"\t");
    pty.call_from_people("echo");
    pty.wait_in_call("Echo").await;

    // The dialpad sends DTMF.
    pty.send(b"\x1bd");
    pty.send(b"123");
    pty.wait_text("Sent: 123").await;
    pty.esc_until("the dialpad closed", |s| !s.contains("Press 0-9"))
        .await;

    // Hold and resume.
    pty.send(b"\x1bh");
    pty.wait_text("on hold").await;
    pty.send(b"\x1bh");
    pty.wait("the call resumed", |s| {
        !s.contains("on hold") && s.contains("In a call with Echo")
    })
    .await;

    // Hang up.
    pty.send(b"\x1be");
    // The call is gone, and the Calls pane lists it among the recent ones.
    pty.wait("the call gone", |s| {
        s.contains("ended: hung up") && s.contains("→ Echo") && !s.contains("In a call with")
    })
    .await;

    // The dialpad's digits really go out: Menu reads back what it receives, and what
    // comes back is in the call's status on the control socket.
    pty.call_from_people("menu");
    pty.wait_in_call("Menu").await;
    pty.send(b"\x1bd");
    pty.send(b"47");
    pty.wait_text("Sent: 47").await;
    let socket = runtime.join("parla/ctl.sock");
    let deadline = Instant::now() + WAIT;
    loop {
        let status = parla::ctl::request(&socket, &parla::ctl::CtlRequest::Status)
            .await
            .expect("ctl status");
        let back = status["result"]["calls"][0]["dtmf_received"]
            .as_str()
            .or_else(|| status["calls"][0]["dtmf_received"].as_str())
            .unwrap_or_default()
            .to_owned();
        if back == "47" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Menu never read the digits back: {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    pty.esc_until("the dialpad closed", |s| !s.contains("Press 0-9"))
        .await;
    pty.send(b"\x1be");
    pty.wait("the call with Menu gone", |s| {
        s.contains("→ Menu") && !s.contains("In a call with")
    })
    .await;

    // Quit: the process ends well and gives the terminal back.
    pty.send(b"\x03");
    let status = pty.wait_exit(Duration::from_secs(10)).await;
    let raw = pty.output_after_exit().await;
    let after = pty.screen();
    assert!(
        status.success(),
        "parla exited with {status:?}; the screen:\n{}",
        frame(&after)
    );
    let tail = &raw[raw.len().saturating_sub(256)..];
    assert!(
        contains(tail, LEAVE_ALT_SCREEN),
        "the last output does not leave the alternate screen: {:?}",
        String::from_utf8_lossy(tail)
    );
    // Nothing ever written that does not belong, and nothing left on the normal screen.
    let all = String::from_utf8_lossy(&raw);
    for bad in FORBIDDEN {
        assert!(!all.contains(bad), "`{bad}` was written to the terminal");
    }
    assert!(
        after.trim().is_empty(),
        "text left on the terminal after quitting:\n{}",
        frame(&after)
    );
    eprintln!("the tour took {:?}", started.elapsed());

    chat_bot.stop();
    echo_bot.stop();
    menu_bot.stop();
}

/// Two calls as on a desk phone, typed by a person: calling a second bot holds the first
/// call, `alt-s` switches between them, hanging up one leaves the other held until it is
/// resumed, and both end up among the recent calls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_holds_one_call_takes_another_and_switches() {
    // Echo called, then Menu: Echo's call goes on hold first.
    let (_t, mut pty, _home, _bots) = two_bot_calls().await;

    // Switch: back to Echo, Menu held.
    pty.send(b"\x1bs");
    pty.wait("Echo live again", |s| {
        s.contains("In a call with Echo") && s.contains("on hold")
    })
    .await;

    // Hang up Echo: Menu stays, held, until resumed.
    pty.send(b"\x1be");
    pty.wait("Echo gone, Menu held", |s| {
        s.contains("→ Echo") && s.contains("on hold") && !s.contains("In a call with Echo")
    })
    .await;
    pty.send(b"\x1bh");
    pty.wait("Menu resumed", |s| {
        s.contains("In a call with Menu") && !s.contains("on hold")
    })
    .await;
    pty.send(b"\x1be");
    pty.wait("both among the recent calls", |s| {
        s.contains("→ Menu") && s.contains("→ Echo") && !s.contains("In a call with")
    })
    .await;

    pty.quit().await;
}

/// The demo with its two bots, and a person's terminal on it, signed in.
async fn demo_terminal() -> (TestServer, Pty, tempfile::TempDir, BotPair) {
    let t = TestServer::start().await;
    demo::seed(&t.server).await.unwrap();
    let bots = BotPair(
        demo::spawn_echo_bot(&t.server, "127.0.0.1:0").unwrap(),
        demo::spawn_ivr_bot(&t.server, "127.0.0.1:0").unwrap(),
    );
    let token = demo_token(&t).await;
    let (pty, home, _runtime) = launch(&t, &token, false);
    pty.wait("\"Connected\" in the status line", |s| {
        status_line(s).starts_with("Connected")
    })
    .await;
    pty.wait_text("Echo (answers calls").await;
    (t, pty, home, bots)
}

/// [`demo_terminal`], where the person has called Echo and then Menu (Echo's call held by
/// the second dial).
async fn two_bot_calls() -> (TestServer, Pty, tempfile::TempDir, BotPair) {
    let (t, mut pty, home, bots) = demo_terminal().await;
    pty.send(b"\t");
    pty.call_from_people("echo");
    pty.wait_in_call("Echo").await;
    pty.call_from_people("menu");
    pty.wait("Menu live, Echo held", |s| {
        s.contains("In a call with Menu") && s.contains("on hold") && s.contains("2/2")
    })
    .await;
    (t, pty, home, bots)
}

/// The two demo bots, stopped when the test is over.
struct BotPair(parla::client::Client, parla::client::Client);

impl Drop for BotPair {
    fn drop(&mut self) {
        self.0.stop();
        self.1.stop();
    }
}

/// Whether some line shows a call in progress with all of `who` (the call bar does when
/// the Calls pane cuts the names).
fn in_call_with(screen: &str, who: &[&str]) -> bool {
    screen.lines().any(|l| {
        l.contains("In a call with") && l.contains("00:") && who.iter().all(|w| l.contains(w))
    })
}

/// Waits until the terminal has no call left, its last one ended as transferred.
async fn handed_over(pty: &Pty) {
    pty.wait("no call left, the last one transferred", |s| {
        !in_call_with(s, &[]) && s.contains("ended: transferred") && !s.contains("on hold")
    })
    .await;
}

/// Two calls made one, as a person does it: `alt-j` joins Echo's held call with Menu's,
/// and the terminal shows one call with both, talking (no longer one of two, nothing on
/// hold, the timer running); `alt-e` leaves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_joins_two_calls_into_one() {
    let (_t, mut pty, _home, _bots) = two_bot_calls().await;
    pty.send(b"\x1bj");
    pty.wait("one call with Echo and Menu", |s| {
        in_call_with(s, &["Echo", "Menu"]) && !s.contains("2/2") && !s.contains("on hold")
    })
    .await;
    pty.send(b"\x1be");
    pty.wait("the call left", |s| !in_call_with(s, &[])).await;
    pty.quit().await;
}

/// A consultative transfer, as a person does it: `alt-k` connects Echo and Menu with each
/// other, and the terminal is left with no call, both among the recent calls as
/// transferred.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_connects_the_two_parties_of_their_calls() {
    let (_t, mut pty, _home, _bots) = two_bot_calls().await;
    pty.send(b"\x1bk");
    handed_over(&pty).await;
    pty.quit().await;
}

/// A direct transfer, as a person does it: in a call with Echo, `alt-t` asks to whom, and
/// Menu picked by name takes the call over (it rings for Menu, who answers); the terminal
/// is left with no call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_transfers_a_call_to_someone_picked_by_name() {
    let (_t, mut pty, _home, _bots) = demo_terminal().await;
    pty.send(b"\t");
    pty.call_from_people("echo");
    pty.wait_in_call("Echo").await;
    pty.send(b"\x1bt");
    pty.wait_text("Transfer the call with Echo").await;
    pty.send(b"menu");
    pty.send(b"\r");
    handed_over(&pty).await;
    pty.quit().await;
}

/// When the interface cannot go on after taking over the terminal (here: its recording
/// cannot be written), it gives the terminal back before reporting the error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_after_taking_the_terminal_gives_it_back() {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_parla"));
    cmd.env_clear();
    if let Some(v) = std::env::var_os("PATH") {
        cmd.env("PATH", v);
    }
    cmd.env("PARLA_SERVER", "http://127.0.0.1:9");
    cmd.env("PARLA_TOKEN", "not-a-token");
    cmd.env("TERM", "xterm-256color");
    cmd.env("HOME", home.path());
    cmd.env("XDG_CONFIG_HOME", home.path().join("config"));
    cmd.env("XDG_DATA_HOME", home.path().join("data"));
    cmd.env("XDG_RUNTIME_DIR", home.path().join("run"));
    cmd.args(["--record-cast", "/nonexistent/dir/session.cast"]);
    let mut pty = Pty::spawn(cmd);
    let status = pty.wait_exit(Duration::from_secs(20)).await;
    assert!(!status.success());
    let out = pty.output_after_exit().await;
    let entered = out
        .windows(8)
        .position(|w| w == b"\x1b[?1049h")
        .expect("never took over the screen");
    let left = out
        .windows(8)
        .rposition(|w| w == b"\x1b[?1049l")
        .expect("the alternate screen was not left");
    assert!(left > entered);
    let after = String::from_utf8_lossy(&out[left..]);
    assert!(
        after.contains("session.cast"),
        "no error after leaving: {after:?}"
    );
    assert!(pty.screen().contains("session.cast"), "{}", pty.screen());
}

/// A person at the keyboard, in a terminal that speaks the kitty keyboard protocol: edits
/// a message in the middle, ends a line with shift-enter, pastes several lines, scrolls past
/// the top of a long conversation and back, keeps typing while a call arrives (the keys
/// that used to answer it stay text), silences it, answers it afterwards, and is asked
/// before quitting with the call up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_edits_pastes_scrolls_and_types_through_an_incoming_call() {
    let t = TestServer::start().await;
    demo::seed(&t.server).await.unwrap();
    let chat_bot = demo::spawn_chat_bot(&t.server).unwrap();
    // Bob's conversation holds more than a screen.
    let bob = t.rest_for("bob").await;
    let ch = bob.open_direct(demo::DEMO_USER).await.unwrap();
    for i in 1..=40 {
        bob.send(&ch.channel_id, &format!("b{i}"), &format!("backlog {i}"))
            .await
            .unwrap();
    }
    let token = demo_token(&t).await;
    let (mut pty, _home, _runtime) = launch(&t, &token, true);
    pty.wait("\"Connected\" in the status line", |s| {
        status_line(s).starts_with("Connected")
    })
    .await;
    assert!(
        contains(&pty.raw.lock().unwrap(), b"\x1b[>1u"),
        "the kitty keyboard flags were not pushed"
    );

    // Bob's conversation is the newest: open it, scroll past the top, come back.
    pty.send(b"\r");
    pty.wait_text("backlog 40").await;
    // PageUp until the top (older pages load on the way), then more: the view stays with
    // the oldest message at the top and the pane full.
    let top = |s: &str| {
        s.contains("Hi! Welcome to parla.") && s.contains("backlog 3") && s.contains("more below")
    };
    for _ in 0..40 {
        if top(&pty.screen()) {
            break;
        }
        pty.send(b"\x1b[5~"); // PageUp
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    pty.send(b"\x1b[5~\x1b[5~\x1b[5~");
    pty.wait("the oldest message at the top, the pane full", top)
        .await;
    pty.send(b"\x1b[F"); // End
    pty.wait("the newest message again", |s| {
        s.contains("backlog 40") && !s.contains("more below")
    })
    .await;

    // Search the conversation (the server finds it), and go to the match.
    pty.send(b"/");
    pty.wait_text("Search Bob").await;
    pty.send(b"BACKLOG 7\r");
    pty.wait_text("1 found, newest first").await;
    pty.send(b"\r");
    pty.wait("the match in view, scrolled back", |s| {
        !s.contains("Search Bob") && s.contains("  backlog 7") && s.contains("more below")
    })
    .await;
    pty.send(b"\x1b[F"); // End

    // The quick switcher: alice by name, a new conversation.
    pty.send(b"\x0b"); // ctrl-k
    pty.wait_text("Go to").await;
    pty.send(b"ali\r");
    pty.wait_text("No messages yet").await;
    // Write with the cursor moved back, a shift-enter line, then send.
    pty.send(b"i");
    pty.send(b"wrld");
    pty.send(b"\x1b[D\x1b[D\x1b[D"); // Left x3
    pty.send(b"o");
    pty.send(b"\x01hello "); // ctrl-a
    pty.send(b"\x05"); // ctrl-e
    pty.send(b"\x1b[13;2u"); // shift-enter, as the kitty protocol sends it
    pty.send(b"second line\r");
    pty.wait("the edited message and alice's reply", |s| {
        s.lines()
            .any(|l| l.contains("  hello world") && !l.contains("second"))
            && s.contains("  second line")
            && s.contains("You said:")
    })
    .await;

    // A paste of several lines (CR line ends) is text, line breaks kept.
    pty.send(b"\x1b[200~pasted one\rpasted two\x1b[201~\r");
    pty.wait("the pasted message on two lines", |s| {
        s.lines()
            .any(|l| l.contains("pasted one") && !l.contains("two"))
            && s.contains("  pasted two")
    })
    .await;

    // A group made from the lists opens at once; back to alice with the switcher.
    pty.esc_until("the composer left", |s| !s.contains("esc back"))
        .await;
    pty.send(b"\t"); // Chat -> Channels
    pty.send(b"n");
    pty.wait_text("New group").await;
    pty.send(b"lunch alice bob\r");
    pty.wait("the new group open", |s| {
        s.contains("#lunch") && s.contains("No messages yet")
    })
    .await;
    pty.send(b"\x0bAlice (chat\r");
    pty.wait_text("pasted two").await;
    pty.send(b"i");

    // Carol calls while a message is being written.
    pty.send(b"draft: ");
    let caller = demo::spawn_caller_bot(&t.server, "127.0.0.1:0", Duration::ZERO).unwrap();
    pty.wait_text("is calling you").await;
    pty.send(b"bad enough");
    pty.wait("the keys typed while it rings, in the composer", |s| {
        s.contains("draft: bad enough")
    })
    .await;
    let s = pty.screen();
    assert!(
        s.contains("is calling you") && !s.contains("In a call with Carol"),
        "typing answered or declined the call:\n{}",
        frame(&s)
    );
    // Esc leaves the composer; Esc again silences; the call bar still offers to answer.
    pty.esc_until("the composer left", |s| !s.contains("esc back"))
        .await;
    pty.esc_until("the window closed", |s| !s.contains("is calling you"))
        .await;
    pty.wait("the call still ringing in the call bar", |s| {
        s.contains("Carol (calls you) is calling") && s.contains("alt-a answer")
    })
    .await;
    pty.send(b"\x1ba"); // alt-a
    pty.wait_text("In a call with Carol").await;

    // Quitting asks first; n stays, y quits (and hangs up).
    pty.send(b"\x03");
    pty.wait_text("Quit parla? Still open: calls: 1, unsent drafts: 1")
        .await;
    pty.send(b"n");
    pty.wait("the question gone", |s| {
        !s.contains("Quit parla?") && s.contains("In a call with Carol")
    })
    .await;
    pty.send(b"\x03");
    pty.wait_text("Quit parla?").await;
    pty.send(b"y");
    let status = pty.wait_exit(Duration::from_secs(10)).await;
    assert!(status.success(), "parla exited with {status:?}");
    let raw = pty.output_after_exit().await;
    assert!(
        contains(&raw, b"\x1b[<1u"),
        "the kitty keyboard flags were not popped"
    );
    caller.stop();
    chat_bot.stop();
}

/// The sound card is looked for at start: with the configured one missing, the status line
/// says calls will be silent before any call is made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_sound_card_shows_before_the_first_call() {
    let t = TestServer::start().await;
    demo::seed(&t.server).await.unwrap();
    let token = demo_token(&t).await;
    let config =
        "[audio]\nbackend = \"device\"\ninput = \"no-such-sound-card\"\nbind = \"127.0.0.1:0\"\n";
    let (mut pty, _home, _runtime) = launch_with(&t, &token, false, config);
    pty.wait("the fallback on the status line", |s| {
        status_line(s).contains("audio: null (no sound device)")
    })
    .await;
    pty.quit().await;
}

/// A voice message waiting when the interface starts: counted on the status line, opened
/// with the key the help lists, played (marked heard), deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_plays_and_deletes_a_voice_message() {
    use parla::client::Event;
    let t = TestServer::start_with(|c| c.ring_timeout = Duration::from_secs(1)).await;
    demo::seed(&t.server).await.unwrap();
    // Alice calls while nobody is there to answer; it rings out and she leaves a message.
    let (alice, mut a) = t.client("alice").await;
    let room = alice.dial(&[demo::DEMO_USER.into()]).await.unwrap().room_id;
    a.wait_for(
        "it rang out",
        |e| matches!(e, Event::Call { view } if view.call.room_id == room && view.is_ended()),
    )
    .await;
    alice
        .rest()
        .leave_voicemail(&room, tone_message(440.0, 4000))
        .await
        .unwrap();

    let token = demo_token(&t).await;
    let (mut pty, _home, _runtime) = launch(&t, &token, false);
    pty.wait("the message counted", |s| {
        status_line(s).contains("voice messages: 1 new")
    })
    .await;
    pty.send(b"\x1bv");
    pty.wait_text("▸ Alice").await;
    pty.send(b"\r");
    pty.wait_text("playing").await;
    pty.wait("heard: counted no more", |s| {
        !status_line(s).contains("voice messages")
    })
    .await;
    pty.send(b"d");
    pty.wait_text("No voice messages.").await;
    pty.esc_until("the mailbox closed", |s| !s.contains("No voice messages."))
        .await;
    pty.quit().await;
    assert!(t
        .rest_for(demo::DEMO_USER)
        .await
        .voicemails()
        .await
        .unwrap()
        .voicemails
        .is_empty());
}

/// The status picker as a person uses it: `alt-p` opens it, `down` picks away, the note is
/// typed, `enter` sets it on the server and the status line shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_sets_their_status_with_the_picker() {
    let (t, mut pty, _home, _bots) = demo_terminal().await;
    pty.send(b"\x1bp");
    pty.wait_text("Note: ").await;
    pty.send(b"\x1b[B");
    pty.send(b"back at 3");
    pty.wait_text("Note: back at 3").await;
    pty.send(b"\r");
    pty.wait("the picker closed", |s| !s.contains("Note: back at 3"))
        .await;
    let rest = t.rest_for(demo::DEMO_USER).await;
    let deadline = Instant::now() + WAIT;
    loop {
        let p = rest.presence(demo::DEMO_USER).await.unwrap();
        if p.availability == parla::proto::Availability::Away {
            assert_eq!(p.note.as_deref(), Some("back at 3"));
            break;
        }
        assert!(Instant::now() < deadline, "not set on the server: {p:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    pty.quit().await;
}
