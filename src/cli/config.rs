//! `parla config` and the command line's view of the shared settings
//! ([`crate::settings`]): the options and environment as [`Overrides`].

use std::path::{Path, PathBuf};

pub use crate::settings::{
    default_server_data_dir, log_dir, user_file, AudioConfig, ConfigError, ConfigFile, Overrides,
    Profile, Resolved, DEFAULT_SERVER,
};

use super::Cli;

/// What the options and environment say.
pub fn overrides(cli: &Cli) -> Overrides {
    Overrides {
        server: cli.server.clone(),
        token: cli.token.clone(),
        token_cmd: cli.token_cmd.clone(),
        api_key: cli.api_key.clone(),
        ca_file: cli.ca_file.clone(),
        profile: cli.profile.clone(),
        config: cli.config.clone(),
    }
}

/// A REST client with a token from the configured source.
pub async fn user_rest(cli: &Cli) -> Result<crate::client::Rest, super::output::CliError> {
    use super::output::CliError;
    let settings = resolve(cli)?;
    let source = settings.token_source()?;
    let token = source
        .fetch_with_retry(&Default::default())
        .await
        .map_err(CliError::from)?;
    Ok(
        crate::client::Rest::with_ca_file(&settings.server, settings.ca_file.as_deref())?
            .with_token(token),
    )
}

pub fn config_path(cli: &Cli) -> (Option<PathBuf>, bool) {
    crate::settings::config_path(&overrides(cli))
}

pub fn load_file(cli: &Cli) -> Result<ConfigFile, ConfigError> {
    crate::settings::load_file(&overrides(cli))
}

pub fn resolve(cli: &Cli) -> Result<Resolved, ConfigError> {
    crate::settings::resolve(&overrides(cli))
}

/// `parla config path` and `parla config check`.
pub fn command(cli: &Cli, command: &super::ConfigCommand) -> Result<(), super::output::CliError> {
    use super::output::{exit, print_json, CliError};
    let (path, _) = config_path(cli);
    let keymap_file = user_file(path.as_deref(), "keymap.toml");
    let theme_file = user_file(path.as_deref(), "theme.toml");
    let exists = |p: &Option<PathBuf>| p.as_ref().is_some_and(|p| p.exists());
    let show = |p: &Option<PathBuf>| {
        p.as_ref().map_or_else(
            || "(no config directory)".into(),
            |p| p.display().to_string(),
        )
    };
    match command {
        super::ConfigCommand::Path => {
            let files = [
                ("config", &path, "settings and profiles"),
                (
                    "keymap",
                    &keymap_file,
                    "key bindings over the built-in keymap",
                ),
                ("theme", &theme_file, "colours over the built-in theme"),
            ];
            if cli.json {
                let v: serde_json::Value = files
                    .iter()
                    .map(|(name, p, _)| {
                        (
                            name.to_string(),
                            serde_json::json!({"path": show(p), "exists": exists(p)}),
                        )
                    })
                    .chain([(
                        "logs".to_string(),
                        serde_json::json!({"path": log_dir().display().to_string()}),
                    )])
                    .collect::<serde_json::Map<_, _>>()
                    .into();
                print_json(&v);
            } else {
                for (name, p, what) in files {
                    let state = if exists(p) {
                        ""
                    } else {
                        " (not there: defaults)"
                    };
                    println!("{name:<7} {}{state}  — {what}", show(p));
                }
                println!("{:<7} {}", "logs", log_dir().display());
            }
            Ok(())
        }
        super::ConfigCommand::Check => {
            let mut problems: Vec<String> = Vec::new();
            // The config file: every problem with its line (super::config_check).
            let file = match load_file(cli) {
                Ok(f) => f,
                Err(e) => {
                    match path.as_deref().map(std::fs::read_to_string) {
                        Some(Ok(text)) => {
                            let found = super::config_check::problems(
                                &text,
                                path.as_deref().unwrap_or(Path::new("config.toml")),
                            );
                            if found.is_empty() {
                                problems.push(e.to_string());
                            }
                            problems.extend(found);
                        }
                        _ => problems.push(e.to_string()),
                    }
                    crate::settings::ConfigFile::default()
                }
            };
            if problems.is_empty() {
                if let Some(Ok(text)) = path.as_deref().map(std::fs::read_to_string) {
                    problems.extend(super::config_check::problems(
                        &text,
                        path.as_deref().unwrap_or(Path::new("config.toml")),
                    ));
                }
            }
            let keymap_name = file.keymap.as_deref().unwrap_or("default");
            let (_, keymap_problem) =
                crate::tui::keymap::Keymap::load(keymap_name, keymap_file.as_deref());
            if let Some(e) =
                keymap_problem.filter(|_| keymap_file.as_ref().is_some_and(|p| p.exists()))
            {
                problems.push(e.to_string());
            }
            let theme_name = file.theme.as_deref().unwrap_or("dark");
            let (_, theme_problem) =
                crate::tui::theme::Theme::load(theme_name, theme_file.as_deref(), false);
            if let Some(e) =
                theme_problem.filter(|_| theme_file.as_ref().is_some_and(|p| p.exists()))
            {
                problems.push(e.to_string());
            }
            if problems.is_empty() {
                super::output::show(cli.json, &serde_json::json!({"ok": true}), |_| {
                    println!("config ok: {}", show(&path));
                });
                Ok(())
            } else {
                Err(CliError {
                    code: "config_invalid".into(),
                    message: problems.join("\n"),
                    exit: exit::USAGE,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn options_override_the_profile() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "profile = \"work\"\n[profiles.work]\nserver = \"http://w:1\"\ntoken_cmd = \"get-token\"\n\n[profiles.home]\nserver = \"http://h:2\"\n",
        )
        .unwrap();
        let p = path.to_str().unwrap();
        let cli = Cli::try_parse_from(["parla", "--config", p, "channels"]).unwrap();
        let r = resolve(&cli).unwrap();
        assert_eq!(r.server, "http://w:1");
        assert_eq!(r.token_cmd.as_deref(), Some("get-token"));

        let cli = Cli::try_parse_from(["parla", "--config", p, "-p", "home", "channels"]).unwrap();
        assert_eq!(resolve(&cli).unwrap().server, "http://h:2");

        let cli =
            Cli::try_parse_from(["parla", "--config", p, "--server", "http://x:3", "channels"])
                .unwrap();
        assert_eq!(resolve(&cli).unwrap().server, "http://x:3");

        let cli = Cli::try_parse_from(["parla", "--config", p, "-p", "nope", "channels"]).unwrap();
        assert!(matches!(resolve(&cli), Err(ConfigError::NoProfile { .. })));
    }

    #[test]
    fn broken_files_name_the_line() {
        let err = ConfigFile::parse("[profiles.a]\nserver = \n", Path::new("c.toml")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("c.toml") && text.contains("line 2"), "{text}");
        let err =
            ConfigFile::parse("[profiles.a]\nsrever = \"x\"\n", Path::new("c.toml")).unwrap_err();
        assert!(err.to_string().contains("srever"), "{err}");
    }
}
