//! The subcommands.

use std::io::Read;
use std::time::Duration;

use super::config;
use super::output::{self, exit, CliError};
use super::{AdminCommand, Cli, Command, UserCommand};
use crate::client::session::ConnectionState;
use crate::client::{Client, ClientError, Event, Rest};
use crate::proto::{Direction, ErrorCode};
use crate::server::{Server, ServerConfig};

/// Runs the parsed command line; returns the exit status.
pub async fn run(cli: Cli) -> u8 {
    let json = cli.json;
    match dispatch(cli).await {
        Ok(()) => exit::OK,
        Err(e) => {
            output::print_error(&e, json);
            e.exit
        }
    }
}

async fn dispatch(cli: Cli) -> Result<(), CliError> {
    let Some(command) = &cli.command else {
        return Ok(crate::tui::run::interactive(&launch(&cli)).await?);
    };
    let json = cli.json;
    match command {
        Command::Ctl(args) => super::ctl::run(args, json).await,
        Command::Config { command } => super::config::command(&cli, command),
        Command::Completions { shell } => {
            super::complete::write_registration(*shell, &mut std::io::stdout())
                .map_err(|e| CliError::io(format!("cannot write the script: {e}")))
        }
        Command::Man { dir } => super::write_man_pages(dir)
            .map_err(|e| CliError::io(format!("cannot write man pages: {e}"))),
        Command::Serve(args) => serve(&cli, args).await,
        Command::Demo(args) => super::demo::run(&cli, args).await,
        Command::Admin { command } => admin(&cli, command).await,
        Command::Group { name, members } => create_group(&cli, name, members).await,
        Command::Channels => channels(&cli).await,
        Command::Calls {
            action,
            missed,
            count,
            before,
        } => super::history::calls(&cli, action.as_ref(), *missed, *count, *before).await,
        Command::Send { target, text } => send(&cli, target, text).await,
        Command::History {
            target,
            count,
            before,
            after,
            search,
        } => history(&cli, target, *count, (*before, *after), search.as_deref()).await,
        Command::Read { target, seq } => read(&cli, target, *seq).await,
        Command::Watch => watch(&cli).await,
        Command::Devices => devices(json),
        Command::Voicemail { action } => super::voicemail::run(&cli, action.as_ref()).await,
        Command::Call { .. }
        | Command::Answer { .. }
        | Command::Join { .. }
        | Command::Link { .. } => calling(&cli, command).await,
        Command::Users { .. }
        | Command::Profile { .. }
        | Command::Contacts { .. }
        | Command::Status { .. } => super::people::run(&cli, command).await,
    }
}

/// The commands that place, answer or join a call.
async fn calling(cli: &Cli, command: &Command) -> Result<(), CliError> {
    match command {
        Command::Call {
            users,
            dtmf,
            voicemail,
            media,
        } => super::call::call(cli, users, dtmf.as_deref(), voicemail.as_deref(), media).await,
        Command::Join { .. } | Command::Link { .. } => super::join::run(cli, command).await,
        Command::Answer { auto, dtmf, media } => {
            super::call::answer(cli, *auto, dtmf.as_deref(), media).await
        }
        _ => Ok(()),
    }
}

/// `parla send TARGET TEXT` (`-`: the text is standard input).
async fn send(cli: &Cli, target: &str, text: &str) -> Result<(), CliError> {
    let text = if text == "-" {
        let mut buf = String::new();
        std::io::stdin()
            .read_to_string(&mut buf)
            .map_err(|e| CliError::io(format!("cannot read standard input: {e}")))?;
        buf.trim_end_matches(['\n', '\r']).to_owned()
    } else {
        text.to_owned()
    };
    let rest = config::user_rest(cli).await?;
    let channel_id = rest.resolve_target(target).await?;
    let message = send_with_retry(&rest, &channel_id, &text).await?;
    output::show(cli.json, &message, |m| {
        println!("sent to {} as #{} ({})", m.channel_id, m.seq, m.message_id);
    });
    Ok(())
}

/// `parla history TARGET`: a page before or after an anchor, or the latest; with
/// `--search`, the newest matches (older than `--before`).
async fn history(
    cli: &Cli,
    target: &str,
    count: u32,
    (before, after): (Option<u64>, Option<u64>),
    search: Option<&str>,
) -> Result<(), CliError> {
    let rest = config::user_rest(cli).await?;
    let channel_id = rest.resolve_target(target).await?;
    let page = match (search, before, after) {
        (Some(text), ..) => rest.search(&channel_id, text, count, before).await?,
        (None, _, Some(a)) => {
            rest.history(&channel_id, count, Some(a), Direction::Forwards)
                .await?
        }
        (None, b, None) => {
            rest.history(&channel_id, count, b, Direction::Backwards)
                .await?
        }
    };
    show_page(cli, &page);
    Ok(())
}

/// `parla group NAME USER...`: creates a group channel and prints it.
async fn create_group(cli: &Cli, name: &str, members: &[String]) -> Result<(), CliError> {
    let rest = config::user_rest(cli).await?;
    let name = name.strip_prefix('#').unwrap_or(name);
    let channel = rest.create_group(name, members).await?;
    output::show(cli.json, &channel, |c| {
        println!(
            "created #{} ({}) with {}",
            c.name.as_deref().unwrap_or(name),
            c.channel_id,
            c.participants.join(", ")
        );
    });
    Ok(())
}

/// A page of messages, one line each (or the page as JSON).
fn show_page(cli: &Cli, page: &crate::proto::MessagePage) {
    output::show(cli.json, page, |page| {
        for m in &page.messages {
            println!("{}", output::message_line(m));
        }
    });
}

/// `parla read TARGET [SEQ]`: marks read up to SEQ, or everything.
async fn read(cli: &Cli, target: &str, seq: Option<u64>) -> Result<(), CliError> {
    let rest = config::user_rest(cli).await?;
    let channel_id = rest.resolve_target(target).await?;
    let seq = match seq {
        Some(s) => s,
        None => rest.channel(&channel_id).await?.last_seq,
    };
    let state = rest.mark_read(&channel_id, seq).await?;
    output::show(cli.json, &state, |s| {
        println!(
            "{} read up to #{} ({} unread)",
            s.channel_id, s.read_seq, s.unread_count
        );
    });
    Ok(())
}

/// `parla devices`: the sound devices calls can use.
fn devices(json: bool) -> Result<(), CliError> {
    let devices = crate::media::device::list().map_err(|e| CliError {
        code: e.code().into(),
        message: e.to_string(),
        exit: exit::FAILURE,
    })?;
    output::show(json, &devices, |devices| {
        if devices.is_empty() {
            println!("no audio devices (calls fall back to the null device)");
        }
        for d in devices {
            let input = match (d.input, d.default_input) {
                (true, true) => Some("input (default)"),
                (true, false) => Some("input"),
                _ => None,
            };
            let out = match (d.output, d.default_output) {
                (true, true) => Some("output (default)"),
                (true, false) => Some("output"),
                _ => None,
            };
            let flags: Vec<&str> = input.into_iter().chain(out).collect();
            println!("{:<32} {:<40} {}", d.id, d.name, flags.join(", "));
        }
    });
    Ok(())
}

async fn channels(cli: &Cli) -> Result<(), CliError> {
    let rest = config::user_rest(cli).await?;
    let me = rest.me().await?;
    let channels = rest.channels().await?;
    output::show(cli.json, &channels, |channels| {
        for c in channels {
            println!("{}", output::channel_line(c, &me.user_id));
        }
    });
    Ok(())
}

/// Sends over REST, retrying transient failures with the same `client_id` so the server
/// stores the message once.
async fn send_with_retry(
    rest: &Rest,
    channel_id: &str,
    text: &str,
) -> Result<crate::proto::Message, CliError> {
    let client_id = uuid::Uuid::new_v4().to_string();
    let mut delay = Duration::from_millis(500);
    let mut tries = 0;
    loop {
        tries += 1;
        match rest.send(channel_id, &client_id, text).await {
            Ok(m) => return Ok(m),
            Err(e) if tries < 4 && is_transient(&e) => {
                tracing::warn!(error = %e, tries, "send failed; retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

fn is_transient(e: &ClientError) -> bool {
    matches!(
        e.api_code(),
        Some(ErrorCode::MessageNotSaved | ErrorCode::InternalServerError)
    ) || matches!(e, ClientError::Unreachable(_))
}

async fn admin(cli: &Cli, command: &AdminCommand) -> Result<(), CliError> {
    if let AdminCommand::Restore { file, data } = command {
        // Offline: works on the data directory, needs no server and no key.
        return admin_restore(cli, file, data.as_deref());
    }
    let settings = config::resolve(cli)?;
    let key = settings.api_key.clone().ok_or_else(|| CliError {
        code: ErrorCode::ApiKeyInvalid.as_str().into(),
        message: "admin commands need --api-key (or PARLA_API_KEY)".into(),
        exit: exit::AUTH,
    })?;
    let rest = Rest::with_ca_file(&settings.server, settings.ca_file.as_deref())?.with_api_key(key);
    match command {
        AdminCommand::User { command } => match command {
            UserCommand::Add { user_id, name } => {
                let user = rest.admin_create_user(user_id, name.as_deref()).await?;
                output::show(cli.json, &user, |u| {
                    println!("created {} ({})", u.user_id, u.display_name);
                });
            }
            UserCommand::Rm { user_id } => {
                rest.admin_delete_user(user_id).await?;
                output::show(cli.json, &serde_json::json!({"deleted": user_id}), |_| {
                    println!("deleted {user_id}");
                });
            }
            UserCommand::Profile {
                user_id,
                display_name,
                fields,
            } => {
                super::people::admin_profile(cli, &rest, user_id, display_name.as_ref(), fields)
                    .await?;
            }
            UserCommand::List => {
                let users = rest.admin_list_users().await?;
                output::show(cli.json, &users, |users| {
                    for u in users {
                        println!("{:<20} {}", u.user_id, u.display_name);
                    }
                });
            }
        },
        AdminCommand::Token {
            user_id,
            expires_in,
        } => {
            let creds = rest.admin_credentials(user_id, Some(*expires_in)).await?;
            // Bare token on stdout, so `--token-cmd "parla admin token alice"` works.
            output::show(cli.json, &creds, |c| println!("{}", c.access_token));
        }
        AdminCommand::Backup { file } => admin_backup(cli, &rest, file).await?,
        AdminCommand::Restore { .. } => {}
    }
    Ok(())
}

/// `parla admin backup FILE`: downloads next to FILE, checks that what arrived is a whole
/// database, and only then gives it the name.
async fn admin_backup(cli: &Cli, rest: &Rest, file: &std::path::Path) -> Result<(), CliError> {
    let part = std::path::PathBuf::from(format!("{}.part", file.display()));
    let bytes = match rest.admin_backup(&part).await {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            return Err(e.into());
        }
    };
    let (schema, users) = match crate::server::datadir::check_backup(&part) {
        Ok(found) => found,
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            return Err(CliError {
                code: "backup_invalid".into(),
                message: e.to_string(),
                exit: exit::FAILURE,
            });
        }
    };
    std::fs::rename(&part, file)
        .map_err(|e| CliError::io(format!("cannot write {}: {e}", file.display())))?;
    let done = serde_json::json!({
        "backup": file,
        "bytes": bytes,
        "schema_version": schema,
        "users": users,
    });
    output::show(cli.json, &done, |_| {
        println!(
            "backup written to {} ({bytes} bytes, schema {schema}, {users} users)",
            file.display()
        );
    });
    Ok(())
}

/// `parla admin restore FILE`: with the server stopped, puts the backup in place.
fn admin_restore(
    cli: &Cli,
    file: &std::path::Path,
    data: Option<&std::path::Path>,
) -> Result<(), CliError> {
    use crate::server::datadir::{restore, DataDirError};
    let data = data.map_or_else(
        config::default_server_data_dir,
        std::path::Path::to_path_buf,
    );
    let done = restore(file, &data).map_err(|e| CliError {
        code: match &e {
            DataDirError::InUse(_) => "data_dir_in_use",
            DataDirError::BadBackup { .. } => "backup_invalid",
            DataDirError::Io { .. } => "io_error",
        }
        .into(),
        message: e.to_string(),
        exit: exit::FAILURE,
    })?;
    output::show(cli.json, &done, |done| {
        println!(
            "restored {} into {}",
            file.display(),
            done.database.display()
        );
        if let Some(previous) = &done.previous {
            println!("the database it replaced is kept as {}", previous.display());
        }
    });
    Ok(())
}

async fn serve(cli: &Cli, args: &super::ServeArgs) -> Result<(), CliError> {
    let data = args
        .data
        .clone()
        .unwrap_or_else(config::default_server_data_dir);
    let mut config = ServerConfig::new(args.listen, data.clone());
    config.api_key = cli.api_key.clone();
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        config.tls = Some(crate::server::TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        });
    }
    config.trusted_proxies.clone_from(&args.trusted_proxy);
    config.call_grace = std::time::Duration::from_secs(args.call_grace);
    config.cors_origins = config::load_file(cli)?.server.cors_origins;
    config.cors_origins.extend(args.cors_origin.iter().cloned());
    for (name, rate) in &args.limit {
        let limits = &mut config.limits;
        match name.as_str() {
            "messages" => limits.messages = *rate,
            "dials" => limits.dials = *rate,
            "signals" => limits.signals = *rate,
            _ => limits.frames = *rate,
        }
    }
    config.token_warning = Duration::from_secs(args.token_warning);
    config.voicemail_quota = args.voicemail_quota * 1024 * 1024;
    config.stun_urls.clone_from(&args.stun);
    if let (false, Some(secret)) = (args.turn.is_empty(), &args.turn_secret) {
        config.turn = Some(crate::server::TurnConfig {
            urls: args.turn.clone(),
            secret: secret.clone(),
            ttl: Duration::from_secs(args.turn_ttl),
        });
    }
    let mut server = Server::start(config).await.map_err(|e| CliError {
        code: "server_error".into(),
        message: e.to_string(),
        exit: exit::FAILURE,
    })?;
    let started = serde_json::json!({
        "listening": server.url(),
        "data": data,
        "api_key": server.api_key(),
    });
    output::show(cli.json, &started, |_| {
        println!("parla serve: listening on {}", server.url());
        println!("data directory: {}", data.display());
        println!("admin API key: {}", server.api_key());
    });
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {
            server.shutdown().await;
        }
        () = server.wait() => {}
    }
    Ok(())
}

async fn watch(cli: &Cli) -> Result<(), CliError> {
    let settings = config::resolve(cli)?;
    let config = settings.client_config()?;
    let (client, mut events) = Client::start(config)?;
    let mut names = output::ChannelNames::default();
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                client.shutdown().await;
                return Ok(());
            }
            event = events.recv() => {
                let Some(event) = event else { return Ok(()) };
                // Channels by name for people: learnt once signed in, and as they come.
                match &event {
                    Event::Ready { user_id, .. } if !cli.json => {
                        let channels = client.rest().channels().await.unwrap_or_default();
                        names = output::ChannelNames::new(user_id, &channels);
                    }
                    Event::ChannelAdded { channel } => names.learn(channel),
                    _ => {}
                }
                output::show(cli.json, &event, |e| println!("{}", output::event_line(e, &names)));
                if let Event::Connection { state: ConnectionState::Failed { code, message } } = &event {
                    return Err(CliError {
                        code: code.clone(),
                        message: message.clone(),
                        exit: output::exit_for_code_str(code),
                    });
                }
            }
        }
    }
}

/// How the interface is started from this command line.
pub fn launch(cli: &Cli) -> crate::tui::Launch {
    crate::tui::Launch {
        settings: config::overrides(cli),
        record_cast: cli.record_cast.clone(),
    }
}
