//! `parla demo`: a local server with demo users, some history and a chat bot.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::output::{exit, print_json, CliError};
use super::DemoArgs;
use crate::client::{Client, ClientConfig, Event, TokenSource};
use crate::server::{AppState, Server, ServerConfig};

/// The person trying parla, and the people they can talk to.
pub const DEMO_USER: &str = "you";
pub const DEMO_PEOPLE: &[(&str, &str)] = &[
    ("you", "You"),
    ("alice", "Alice (chat bot)"),
    ("bob", "Bob"),
    ("carol", "Carol"),
    ("echo", "Echo (answers calls, plays your voice back)"),
];

/// A token provider that mints tokens in-process, for the bots.
pub fn local_tokens(state: Arc<AppState>, user: &str) -> TokenSource {
    let user = user.to_owned();
    TokenSource::provider(move || {
        let state = state.clone();
        let user = user.clone();
        async move {
            state
                .mint_token(&user, Utc::now(), 3600)
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
    let existing = state.store(|s| s.list_users()).await.map_err(fail)?;
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
    let state = server.state().clone();
    let mut config = ClientConfig::new(server.url(), local_tokens(state, "alice"));
    config.device_name = "chat bot".into();
    config.presence = false;
    let (client, mut events) = Client::start(config)?;
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

/// The echo bot answers every call and plays what it hears back half a second later.
pub fn spawn_echo_bot(server: &Server, bind: &str) -> Result<Client, CliError> {
    use crate::client::media_call::AudioSetup;
    use crate::client::phone::{CallDriver, CallEvent};
    use crate::media::audio::echo;

    let state = server.state().clone();
    let mut config = ClientConfig::new(server.url(), local_tokens(state, "echo"));
    config.device_name = "echo bot".into();
    config.presence = false;
    let (client, mut events) = Client::start(config)?;
    let bot = client.clone();
    let bind = bind.to_owned();
    tokio::spawn(async move {
        let mut calls: Vec<CallDriver> = Vec::new();
        while let Some(event) = events.recv().await {
            if let Event::CallIncoming { call } = &event {
                if bot.answer(&call.room_id).await.is_ok() {
                    let (source, sink) = echo(Duration::from_millis(500));
                    let audio = AudioSetup {
                        source: Box::new(source),
                        sink: Box::new(sink),
                        bind: bind.clone(),
                        impair: None,
                        inband_dtmf: false,
                        ring: false,
                        outage: None,
                    };
                    calls.push(CallDriver::new(bot.clone(), &call.room_id, audio));
                }
            }
            let mut ended = Vec::new();
            for (i, driver) in calls.iter_mut().enumerate() {
                match driver.on_event(&event).await {
                    Ok(Some(CallEvent::Ended(_))) => ended.push(i),
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "echo bot media failed");
                        let room = driver.room_id().to_owned();
                        let _ = bot.hangup(&room).await;
                    }
                }
            }
            for i in ended.into_iter().rev() {
                let _ = calls.swap_remove(i).finish().await;
            }
        }
    });
    Ok(client)
}

pub async fn run(args: &DemoArgs, json: bool) -> Result<(), CliError> {
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
    let server = Server::start(ServerConfig::new(args.listen, data.clone()))
        .await
        .map_err(|e| CliError {
            code: "server_error".into(),
            message: e.to_string(),
            exit: exit::FAILURE,
        })?;
    seed(&server).await?;
    let bot = spawn_chat_bot(&server)?;
    let echo_bot = spawn_echo_bot(&server, &args.media_bind)?;
    let (token, _) = server
        .state()
        .mint_token(DEMO_USER, Utc::now(), 86_400)
        .await
        .map_err(|e| CliError::io(e.to_string()))?;
    if json {
        print_json(&serde_json::json!({
            "server": server.url(),
            "api_key": server.api_key(),
            "user": DEMO_USER,
            "token": token,
            "data": data,
        }));
    } else {
        println!("parla demo is running on {}", server.url());
        println!();
        println!("In another terminal, be `{DEMO_USER}`:");
        println!("  export PARLA_SERVER={}", server.url());
        println!("  export PARLA_TOKEN={token}");
        println!("  export PARLA_API_KEY={}", server.api_key());
        println!();
        println!("Then try:");
        println!("  parla channels                 # your conversations and unread counts");
        println!("  parla history bob              # what Bob wrote");
        println!("  parla send alice 'hello'       # Alice is a bot and answers");
        println!("  parla watch                    # live messages and presence (Ctrl-C to stop)");
        println!("  parla users --online");
        println!("  parla call echo --tone 440 --record echo.wav --hangup-after 5");
        println!("                                 # the echo bot plays your audio back");
        println!("  parla admin user add dave --name Dave");
        println!();
        println!("(`cargo run --quiet --` stands for `parla` inside the source tree.)");
        println!("Press Ctrl-C to stop the demo.");
    }
    if !args.no_wait {
        let _ = tokio::signal::ctrl_c().await;
    }
    bot.stop();
    echo_bot.stop();
    server.shutdown().await;
    Ok(())
}
