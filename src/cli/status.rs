//! `parla status`: your presence or a user's, and setting what yours says.

use super::output::{self, CliError};
use super::{config, Cli, StatusAction};
use crate::proto::{Presence, PresenceSetting};

pub async fn run(cli: &Cli, action: Option<&StatusAction>) -> Result<(), CliError> {
    let rest = config::user_rest(cli).await?;
    let presence = match action {
        None | Some(StatusAction::Show { user: None }) => {
            let me = rest.me().await?;
            rest.presence(&me.user_id).await?
        }
        Some(StatusAction::Show { user: Some(user) }) => rest.presence(user).await?,
        Some(StatusAction::Set {
            availability,
            activity,
            note,
        }) => {
            let setting = PresenceSetting {
                availability: *availability,
                activity: *activity,
                note: note.clone(),
            };
            rest.set_presence(&setting).await?
        }
    };
    output::show(cli.json, &presence, |p: &Presence| {
        println!("{} is {}", p.user_id, output::presence_words(p));
    });
    Ok(())
}
