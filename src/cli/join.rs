//! `parla join LINK`: joins a call by its access link, as a guest (no account needed) or
//! as the user the link was made for; `parla link ROOM_ID`: makes such a link.

use super::call::{audio_setup, drive_reported, plan, start_with};
use super::output::{exit, print_json, CliError};
use super::MediaArgs;
use crate::client::rest::AccessLink;
use crate::client::{ClientConfig, Rest, TokenSource};

/// `parla join` and `parla link`.
pub async fn run(cli: &super::Cli, command: &super::Command) -> Result<(), CliError> {
    match command {
        super::Command::Join {
            link,
            name,
            as_user,
            media,
        } => join(cli, link, name.as_deref(), *as_user, media).await,
        super::Command::Link { room_id, for_user } => {
            self::link(cli, room_id, for_user.as_deref()).await
        }
        _ => Ok(()),
    }
}

/// `parla link ROOM_ID [--for USER]`: prints the link (its JSON with `--json`).
pub async fn link(cli: &super::Cli, room_id: &str, for_user: Option<&str>) -> Result<(), CliError> {
    let rest = super::config::user_rest(cli).await?;
    let link = rest.create_link(room_id, for_user).await?;
    if cli.json {
        print_json(&link);
    } else {
        println!("{}", link.url);
    }
    Ok(())
}

/// `parla join LINK [--name NAME] [--as-user]`: runs the call as `parla call` does, until
/// it ends (or this side hangs up); the session ends with it.
pub async fn join(
    cli: &super::Cli,
    link: &str,
    name: Option<&str>,
    as_user: bool,
    args: &MediaArgs,
) -> Result<(), CliError> {
    let mut plan = plan(None, args)?;
    let link = AccessLink::parse(link)?;
    let audio = audio_setup(args, cli.json)?;
    // A guest needs nothing configured: the server is the link's. The user a link was
    // made for signs in with their own token, configured as usual.
    let (rest, device_id) = if as_user {
        let settings = super::config::resolve(cli)?;
        let config = settings.client_config()?;
        let token = super::config::user_rest(cli).await?.token();
        let rest = Rest::with_ca_file(link.server.as_str(), config.ca_file.as_deref())?
            .with_token(token.unwrap_or_default());
        (rest, Some(config.device_id))
    } else {
        (Rest::new(link.server.as_str())?, None)
    };
    let session = rest.join_link(&link.token, name, as_user).await?;
    let mut config = ClientConfig::new(
        link.server.as_str(),
        TokenSource::Static(session.access_token.clone()),
    );
    if let Some(id) = device_id {
        config.device_id = id;
    }
    let (client, mut events, user) = start_with(config).await?;
    plan.user = user;
    let call = match client.join(&session.room_id).await {
        Ok(call) => call,
        Err(e) => {
            client.shutdown().await;
            return Err(e.into());
        }
    };
    let summary =
        drive_reported(&client, &mut events, &call.room_id, audio, &plan, cli.json).await?;
    client.shutdown().await;
    if summary.answered {
        Ok(())
    } else {
        Err(CliError {
            code: "invalid_access_link".into(),
            message: "the call ended before it could be joined".into(),
            exit: exit::NOT_FOUND,
        })
    }
}
