//! Shell completion, including what only the server knows: user ids, and the `#names` of
//! group channels for the commands that take a conversation.
//!
//! `parla completions SHELL` prints a small script that registers `parla` itself as the
//! completer: at each Tab the shell runs `parla` with `COMPLETE=SHELL` and the words typed
//! so far, and `main` answers before anything else runs. Names come from the server the
//! command would use (config file and environment), within [`ASK_FOR`]; without a server or
//! a token there are no names, and options and subcommands still complete.

use std::io::Write;
use std::time::Duration;

use clap::Parser;
use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};
use clap_complete::env::{Bash, Elvish, EnvCompleter, Fish, Powershell, Zsh};
use clap_complete::Shell;

use super::Cli;
use crate::proto::ChannelKind;

/// The environment variable that asks `parla` for completions.
pub const VAR: &str = "COMPLETE";

/// How long a Tab may wait for the server's names.
pub const ASK_FOR: Duration = Duration::from_millis(1500);

/// Completes user ids (with display names as help).
pub fn users() -> ArgValueCandidates {
    ArgValueCandidates::new(|| names(false))
}

/// Completes conversations: user ids and `#group-name`s.
pub fn conversations() -> ArgValueCandidates {
    ArgValueCandidates::new(|| names(true))
}

/// Answers the shell when it asks for completions (`COMPLETE` set); returns otherwise.
pub fn answer_shell() {
    clap_complete::CompleteEnv::with_factory(super::command)
        .var(VAR)
        .complete();
}

fn completer(shell: Shell) -> &'static dyn EnvCompleter {
    match shell {
        Shell::Zsh => &Zsh,
        Shell::Fish => &Fish,
        Shell::Elvish => &Elvish,
        Shell::PowerShell => &Powershell,
        _ => &Bash,
    }
}

/// The script that registers `parla` as its own completer in `shell`.
pub fn write_registration(shell: Shell, out: &mut dyn Write) -> std::io::Result<()> {
    completer(shell).write_registration(VAR, "parla", "parla", "parla", out)
}

fn names(groups: bool) -> Vec<CompletionCandidate> {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return Vec::new();
    };
    rt.block_on(async {
        match tokio::time::timeout(ASK_FOR, fetch(groups)).await {
            Ok(Some(names)) => names,
            _ => Vec::new(),
        }
    })
}

async fn fetch(groups: bool) -> Option<Vec<CompletionCandidate>> {
    // The server and token from the config file and environment, as the command would.
    let cli = Cli::try_parse_from(["parla"]).ok()?;
    let rest = super::config::user_rest(&cli).await.ok()?;
    let me = rest.me().await.ok()?.user_id;
    let users = rest.users(false).await.ok()?;
    let mut out: Vec<CompletionCandidate> = users
        .into_iter()
        .filter(|u| u.user_id != me)
        .map(|u| CompletionCandidate::new(u.user_id).help(Some(u.display_name.into())))
        .collect();
    if groups {
        let channels = rest.channels().await.ok()?;
        out.extend(
            channels
                .into_iter()
                .filter(|c| c.kind == ChannelKind::Group)
                .filter_map(|c| c.name)
                .map(|name| CompletionCandidate::new(format!("#{name}"))),
        );
    }
    Some(out)
}
