//! `parla demo`: a local server with demo users, some history and bots — alice answers
//! chat, echo plays your voice back, menu reads back the digits you press, carol calls you
//! shortly after you come online — then the interface, as the demo user.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::output::{exit, print_json, CliError};
use super::{Cli, DemoArgs};
use crate::client::call::media::AudioSetup;
use crate::client::call::switchboard::{AudioFactory, CallCommand, CallNews, Switchboard};
use crate::client::call::CallState;
use crate::client::{Client, ClientConfig, Event, TokenSource};
use crate::media::audio::{echo, AudioSink, AudioSource, NullSink, Silence, Tone};
use crate::server::{AppState, Server, ServerConfig};

/// The person trying parla, and the people they can talk to.
pub const DEMO_USER: &str = "you";
pub const DEMO_PEOPLE: &[(&str, &str)] = &[
    ("you", "You"),
    ("alice", "Alice (chat bot)"),
    ("bob", "Bob"),
    ("carol", "Carol (calls you)"),
    ("echo", "Echo (answers calls, plays your voice back)"),
    ("menu", "Menu (answers calls, reads back your keypad)"),
];

/// A token provider that mints tokens in-process, for the bots.
pub fn local_tokens(state: Arc<AppState>, user: &str) -> TokenSource {
    let user = user.to_owned();
    TokenSource::provider(move || {
        let state = state.clone();
        let user = user.clone();
        async move {
            state
                .mint_token(&user, state.clock.utc(), 3600)
                .await
                .map(|(t, _)| t)
                .map_err(|e| e.to_string())
        }
    })
}

/// Creates the demo users and a little history.
pub async fn seed(server: &Server) -> Result<(), CliError> {
    let state = server.state().clone();
    let fail = |e: crate::proto::ApiError| CliError {
        code: e.code.as_str().into(),
        message: e.message,
        exit: exit::FAILURE,
    };
    let existing = state
        .store(super::super::server::store::Store::list_users)
        .await
        .map_err(fail)?;
    if existing.iter().any(|u| u.user_id == DEMO_USER) {
        return Ok(()); // a kept data directory is seeded already
    }
    state
        .store(|s| {
            for (id, name) in DEMO_PEOPLE {
                s.create_user(id, name, Utc::now())?;
            }
            let (bob, _) = s.open_direct_channel("bob", DEMO_USER, Utc::now())?;
            for (i, (who, text)) in [
                ("bob", "Hi! Welcome to parla."),
                (DEMO_USER, "Thanks, looking around."),
                (
                    "bob",
                    "Try `parla history bob` and `parla send alice hello`.",
                ),
                (
                    "bob",
                    "(In another terminal, `eval \"$(parla demo env)\"` sets up those commands.)",
                ),
            ]
            .iter()
            .enumerate()
            {
                s.insert_message(who, &bob.channel_id, &format!("seed-{i}"), text, Utc::now())?;
            }
            let team = s.create_group_channel(
                "carol",
                "team",
                &[DEMO_USER.to_owned(), "bob".to_owned(), "alice".to_owned()],
                Utc::now(),
            )?;
            s.insert_message(
                "carol",
                &team.channel_id,
                "seed-team",
                "Stand-up moved to 10:30.",
                Utc::now(),
            )?;
            Ok(())
        })
        .await
        .map_err(fail)
}

/// Alice answers every message sent to her, quoting it.
pub fn spawn_chat_bot(server: &Server) -> Result<Client, CliError> {
    let (client, mut events) = bot_client(server, "alice", false)?;
    let bot = client.clone();
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            if let Event::Message { message } = event {
                if message.sender == "alice" {
                    continue;
                }
                let reply = format!("You said: \u{201c}{}\u{201d}", message.text);
                tokio::time::sleep(Duration::from_millis(300)).await;
                if let Err(e) = bot.send_message(&message.channel_id, &reply).await {
                    tracing::warn!(error = %e, "chat bot could not reply");
                }
            }
        }
    });
    Ok(client)
}

/// A bot's session; `presence` when it needs to see who comes online.
fn bot_client(
    server: &Server,
    user: &str,
    presence: bool,
) -> Result<(Client, tokio::sync::mpsc::UnboundedReceiver<Event>), CliError> {
    let state = server.state().clone();
    let mut config = ClientConfig::new(server.url(), local_tokens(state, user));
    config.device_name = format!("{user} bot");
    config.presence = presence;
    Ok(Client::start(config)?)
}

/// A bot that answers every call with audio from `audio`; with `read_back`, every DTMF
/// digit it hears is sent back as the same digit.
fn spawn_answering_bot(
    server: &Server,
    user: &str,
    audio: AudioFactory,
    read_back: bool,
) -> Result<Client, CliError> {
    let (client, mut events) = bot_client(server, user, false)?;
    let bot = client.clone();
    tokio::spawn(async move {
        let (mut board, mut news) = Switchboard::new(bot.clone(), audio);
        loop {
            tokio::select! {
                e = events.recv() => {
                    let Some(e) = e else { break };
                    if let Event::CallIncoming { call } = &e {
                        // A bot takes one call at a time: one that rings while it is in
                        // another (call waiting) is declined, not left to ring out.
                        if let Err(err) = bot.answer(&call.room_id).await {
                            tracing::info!(error = %err, "bot could not answer");
                            if err.api_code() == Some(crate::proto::ErrorCode::AnotherCallInProgress) {
                                let _ = bot.decline(&call.room_id, crate::proto::DeclineReason::None).await;
                            }
                        }
                    }
                    board.route(&e);
                }
                n = news.recv() => match n {
                    Some(CallNews::Dtmf(room, digit)) if read_back => {
                        board.send(&room, CallCommand::Dtmf(digit.to_string()));
                    }
                    Some(CallNews::Error(room, e)) => {
                        tracing::warn!(room = %room, error = %e, "bot call failed");
                    }
                    Some(_) => {}
                    None => break,
                },
            }
        }
    });
    Ok(client)
}

fn bot_audio(
    bind: &str,
    make: impl Fn() -> (Box<dyn AudioSource>, Box<dyn AudioSink>) + Send + 'static,
) -> AudioFactory {
    let bind = bind.to_owned();
    Box::new(move || {
        let (source, sink) = make();
        AudioSetup {
            source,
            sink,
            ..AudioSetup::silent(&bind)
        }
    })
}

/// The echo bot answers every call and plays what it hears back half a second later.
pub fn spawn_echo_bot(server: &Server, bind: &str) -> Result<Client, CliError> {
    let audio = bot_audio(bind, || {
        let (source, sink) = echo(Duration::from_millis(500));
        (Box::new(source), Box::new(sink))
    });
    spawn_answering_bot(server, "echo", audio, false)
}

/// The menu bot answers every call and reads back each DTMF digit you press, as the same
/// tone.
pub fn spawn_ivr_bot(server: &Server, bind: &str) -> Result<Client, CliError> {
    let audio = bot_audio(bind, || (Box::new(Silence), Box::new(NullSink)));
    spawn_answering_bot(server, "menu", audio, true)
}

/// Carol calls the demo user once, `after` they come online, talks (a tone) and hangs up
/// after half a minute if nobody does before.
pub fn spawn_caller_bot(server: &Server, bind: &str, after: Duration) -> Result<Client, CliError> {
    let (client, mut events) = bot_client(server, "carol", true)?;
    let bot = client.clone();
    let audio = bot_audio(bind, || (Box::new(Tone::new(392.0)), Box::new(NullSink)));
    tokio::spawn(async move {
        let _ = bot.rest().me().await;
        // Wait for the demo user.
        let online = |e: &Event| {
            matches!(e, Event::Presence { presence } if presence.user_id == DEMO_USER
                && presence.status != crate::proto::PresenceStatus::Offline)
        };
        let already = bot
            .rest()
            .users(true)
            .await
            .is_ok_and(|u| u.iter().any(|u| u.user_id == DEMO_USER));
        if !already {
            loop {
                match events.recv().await {
                    Some(e) if online(&e) => break,
                    Some(_) => {}
                    None => return,
                }
            }
        }
        tokio::time::sleep(after).await;
        // Call once the demo user is free (not in another call); try again while busy.
        let room = loop {
            let free = bot.rest().users(true).await.is_ok_and(|u| {
                u.iter().any(|u| {
                    u.user_id == DEMO_USER
                        && u.presence.status == crate::proto::PresenceStatus::Online
                })
            });
            if free {
                match bot.dial(&[DEMO_USER.to_owned()]).await {
                    Ok(call) => break call.room_id,
                    Err(e) => tracing::info!(error = %e, "carol could not call yet"),
                }
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
            // Drop what queued up meanwhile.
            while events.try_recv().is_ok() {}
        };
        let (mut board, _news) = Switchboard::new(bot.clone(), audio);
        let mut hang_up_at: Option<tokio::time::Instant> = None;
        loop {
            let timer = async {
                match hang_up_at {
                    Some(t) => tokio::time::sleep_until(t).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                e = events.recv() => {
                    let Some(e) = e else { break };
                    board.route(&e);
                    if let Event::Call { view } = &e {
                        if view.call.room_id == room {
                            if view.is_ended() {
                                break;
                            }
                            if view.state == CallState::Connected && hang_up_at.is_none() {
                                hang_up_at = Some(tokio::time::Instant::now() + Duration::from_secs(30));
                            }
                        }
                    }
                }
                () = timer => {
                    let _ = bot.hangup(&room).await;
                    hang_up_at = None;
                }
            }
        }
    });
    Ok(client)
}

/// Where a running demo leaves the shell settings that script against it (beside the
/// control socket, mode 0600): `parla demo env` prints them.
pub fn env_path() -> std::path::PathBuf {
    crate::ctl::default_socket_path().with_file_name("demo.env")
}

/// `parla demo env`: the running demo's settings, as `export` lines (or JSON).
fn print_env(json: bool) -> Result<(), CliError> {
    let path = env_path();
    let text = std::fs::read_to_string(&path).map_err(|_| CliError {
        code: "demo_not_running".into(),
        message: format!(
            "no demo is running (nothing at {}); start one with `parla demo`",
            path.display()
        ),
        exit: exit::UNREACHABLE,
    })?;
    if json {
        let vars: serde_json::Map<String, serde_json::Value> = text
            .lines()
            .filter_map(|l| l.strip_prefix("export ")?.split_once('='))
            .map(|(k, v)| (k.to_owned(), serde_json::Value::String(unquote(v))))
            .collect();
        print_json(&serde_json::Value::Object(vars));
    } else {
        print!("{text}");
    }
    Ok(())
}

/// A value as the env file writes it (single-quoted).
fn unquote(v: &str) -> String {
    v.strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .unwrap_or(v)
        .replace("'\\''", "'")
}

fn quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "'\\''"))
}

/// Writes the env file for this demo; removed again when dropped.
struct EnvFile(std::path::PathBuf);

impl EnvFile {
    fn write(vars: &[(&str, String)]) -> Option<EnvFile> {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt;
        let path = env_path();
        std::fs::create_dir_all(path.parent()?).ok()?;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .ok()?;
        for (k, v) in vars {
            writeln!(f, "export {k}={}", quote(v)).ok()?;
        }
        Some(EnvFile(path))
    }
}

impl Drop for EnvFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

pub async fn run(cli: &Cli, args: &DemoArgs) -> Result<(), CliError> {
    use std::io::IsTerminal;
    if let Some(super::DemoCommand::Env) = &args.command {
        return print_env(cli.json);
    }
    let json = cli.json;
    let temp;
    let data = match &args.data {
        Some(d) => d.clone(),
        None => {
            temp = tempfile::Builder::new()
                .prefix("parla-demo-")
                .tempdir()
                .map_err(|e| CliError::io(format!("cannot create a temporary directory: {e}")))?;
            temp.path().to_owned()
        }
    };
    let size = parse_size(&args.size)?;
    let script = match &args.script {
        Some(path) => Some(crate::tui::script::load(path).map_err(|e| CliError {
            code: "script_invalid".into(),
            message: e.to_string(),
            exit: exit::USAGE,
        })?),
        None => None,
    };
    let server = Server::start(ServerConfig::new(args.listen, data.clone()))
        .await
        .map_err(|e| CliError {
            code: "server_error".into(),
            message: e.to_string(),
            exit: exit::FAILURE,
        })?;
    seed(&server).await?;
    let bots = vec![
        spawn_chat_bot(&server)?,
        spawn_echo_bot(&server, &args.media_bind)?,
        spawn_ivr_bot(&server, &args.media_bind)?,
        spawn_caller_bot(
            &server,
            &args.media_bind,
            Duration::from_secs_f64(args.call_after.max(0.0)),
        )?,
    ];
    let interactive = !args.no_wait && script.is_none() && std::io::stdout().is_terminal();
    let token = demo_token(&server).await?;
    let mut vars = vec![
        ("PARLA_SERVER", server.url()),
        ("PARLA_TOKEN", token.clone()),
        ("PARLA_API_KEY", server.api_key().to_owned()),
    ];
    let mut env = None;
    let result = if let Some(script) = script {
        let mut rt = demo_interface(cli, &server, &args.media_bind)?;
        crate::tui::run::headless(&mut rt, script, size.0, size.1, cli.record_cast.as_deref()).await
    } else if interactive {
        let mut rt = demo_interface(cli, &server, &args.media_bind)?;
        // `parla ctl` drives the demo's interface too (another instance's socket taken:
        // one of its own), and `parla demo env` tells scripts where everything is.
        if let Some(socket) = rt.serve_ctl(crate::ctl::default_socket_path()).await {
            vars.push(("PARLA_CTL_SOCKET", socket.display().to_string()));
        }
        env = EnvFile::write(&vars);
        let hint = rt.app().strings().get("demo.env_hint").to_owned();
        rt.notify(&hint);
        crate::tui::run::in_terminal(&mut rt, cli.record_cast.as_deref()).await
    } else {
        env = EnvFile::write(&vars);
        instructions(&server, &token, &data, json, args.no_wait);
        if !args.no_wait {
            let _ = tokio::signal::ctrl_c().await;
        }
        Ok(())
    };
    drop(env);
    for b in bots {
        b.stop();
    }
    server.shutdown().await;
    Ok(result?)
}

/// The interface, signed in as the demo user.
fn demo_interface(
    cli: &Cli,
    server: &Server,
    bind: &str,
) -> Result<crate::tui::run::Runtime, CliError> {
    let file = super::config::load_file(cli)?;
    let mut look = crate::tui::run::Look::from_config(&super::config::overrides(cli), &file);
    // The demo's media stay where the bots are.
    bind.clone_into(&mut look.audio.bind);
    let config = ClientConfig::new(
        server.url(),
        local_tokens(server.state().clone(), DEMO_USER),
    );
    let (client, events) = Client::start(config)?;
    Ok(crate::tui::run::Runtime::new(look, client, events, bind))
}

fn parse_size(text: &str) -> Result<(u16, u16), CliError> {
    let bad = || CliError::usage(format!("size `{text}` is not COLSxROWS, e.g. 100x30"));
    let (c, r) = text.split_once(['x', 'X']).ok_or_else(bad)?;
    let (c, r): (u16, u16) = (c.parse().map_err(|_| bad())?, r.parse().map_err(|_| bad())?);
    if c < 40 || r < 12 {
        return Err(CliError::usage("the smallest interface is 40x12"));
    }
    Ok((c, r))
}

/// A token for the demo user, valid for a day.
async fn demo_token(server: &Server) -> Result<String, CliError> {
    let (token, _) = server
        .state()
        .mint_token(DEMO_USER, server.state().clock.utc(), 86_400)
        .await
        .map_err(|e| CliError::io(e.to_string()))?;
    Ok(token)
}

/// Without a terminal (or with --no-wait): how to use the demo from another one.
fn instructions(server: &Server, token: &str, data: &std::path::Path, json: bool, no_wait: bool) {
    if json {
        print_json(&serde_json::json!({
            "server": server.url(),
            "api_key": server.api_key(),
            "user": DEMO_USER,
            "token": token,
            "data": data,
        }));
        return;
    }
    println!("parla demo is running on {}", server.url());
    println!();
    println!("In another terminal, be `{DEMO_USER}`:");
    println!("  eval \"$(parla demo env)\"       # or set these yourself:");
    println!("  export PARLA_SERVER={}", server.url());
    println!("  export PARLA_TOKEN={token}");
    println!("  export PARLA_API_KEY={}", server.api_key());
    println!();
    println!("Then try:");
    println!("  parla                          # the interface");
    println!("  parla channels                 # your conversations and unread counts");
    println!("  parla history bob              # what Bob wrote");
    println!("  parla send alice 'hello'       # Alice is a bot and answers");
    println!("  parla watch                    # live messages and presence (Ctrl-C to stop)");
    println!("  parla users --online");
    println!("  parla call echo --tone 440 --record echo.wav --hangup-after 5");
    println!("                                 # the echo bot plays your audio back");
    println!("  parla call menu --dtmf 123 --hangup-after 5");
    println!("                                 # the menu bot reads the digits back");
    println!("  parla admin user add dave --name Dave");
    println!();
    println!("(`cargo run --quiet --` stands for `parla` inside the source tree.)");
    if no_wait {
        println!("(--no-wait: the demo stops now; run `parla demo` without it to keep it up.)");
    } else {
        println!("Press Ctrl-C to stop the demo.");
    }
}
