//! The config file (TOML, in the user config directory) with named profiles, merged under
//! the command-line options and environment.
//!
//! ```toml
//! profile = "work"            # used when --profile / PARLA_PROFILE is absent
//!
//! [profiles.work]
//! server = "https://chat.example.org"
//! token_cmd = "ssh admin@chat parla admin token $USER"
//!
//! [profiles.local]
//! server = "http://127.0.0.1:7340"
//! api_key = "..."
//!
//! # The terminal interface
//! keymap = "vim"              # default or vim; keymap.toml beside this file overrides keys
//! theme = "light"             # dark, light or high-contrast; theme.toml overrides elements
//! language = "it"             # en, it, es or pt (default: from the locale)
//!
//! [audio]
//! backend = "device"          # device (falls back to null without a sound card) or null
//! input = "USB"               # device id or part of its name
//! output = "USB"
//! ring = true                 # ring tone and ringback through the speaker
//! bind = "0.0.0.0:0"          # local address for media sockets
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::Cli;

pub const DEFAULT_SERVER: &str = "http://127.0.0.1:7340";

#[derive(Debug, Default, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub server: Option<String>,
    pub token: Option<String>,
    pub token_cmd: Option<String>,
    pub api_key: Option<String>,
    /// Extra certificate authorities (PEM) for the server's certificate.
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Profile used when none is named.
    pub profile: Option<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
    /// Built-in keymap the interface starts from (`default`, `vim`).
    pub keymap: Option<String>,
    /// Built-in theme (`dark`, `light`, `high-contrast`).
    pub theme: Option<String>,
    /// Interface language (`en`, `it`, `es`, `pt`).
    pub language: Option<String>,
    #[serde(default)]
    pub audio: AudioConfig,
}

/// Sound for calls in the interface.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AudioConfig {
    /// `device` or `null`.
    #[serde(default = "default_backend")]
    pub backend: String,
    pub input: Option<String>,
    pub output: Option<String>,
    /// Ring tone and ringback through the speaker.
    #[serde(default = "yes")]
    pub ring: bool,
    /// Local address for media sockets.
    #[serde(default = "any_address")]
    pub bind: String,
}

fn any_address() -> String {
    "0.0.0.0:0".into()
}

fn default_backend() -> String {
    "device".into()
}

fn yes() -> bool {
    true
}

impl Default for AudioConfig {
    fn default() -> Self {
        AudioConfig {
            backend: default_backend(),
            input: None,
            output: None,
            ring: true,
            bind: any_address(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("no profile `{name}` in {path}")]
    NoProfile { name: String, path: PathBuf },
}

pub fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "parla")
}

pub fn default_config_path() -> Option<PathBuf> {
    project_dirs().map(|d| d.config_dir().join("config.toml"))
}

/// Where the server keeps its database unless `--data` says otherwise.
pub fn default_server_data_dir() -> PathBuf {
    project_dirs()
        .map(|d| d.data_dir().join("server"))
        .unwrap_or_else(|| PathBuf::from("parla-data"))
}

/// The user keymap and theme files, beside the config file.
pub fn user_file(config: Option<&Path>, name: &str) -> Option<PathBuf> {
    config
        .and_then(Path::parent)
        .map(|d| d.join(name))
        .or_else(|| project_dirs().map(|d| d.config_dir().join(name)))
}

/// The config file in use: `--config`/`PARLA_CONFIG`, else the default location, and
/// whether it was named explicitly.
pub fn config_path(cli: &Cli) -> (Option<PathBuf>, bool) {
    match &cli.config {
        Some(p) => (Some(p.clone()), true),
        None => (default_config_path(), false),
    }
}

/// The config file's contents (empty when the default file does not exist).
pub fn load_file(cli: &Cli) -> Result<ConfigFile, ConfigError> {
    match config_path(cli) {
        (Some(p), explicit) => ConfigFile::load(&p, explicit),
        (None, _) => Ok(ConfigFile::default()),
    }
}

/// Where log files go.
pub fn log_dir() -> PathBuf {
    project_dirs()
        .map(|d| d.data_dir().join("logs"))
        .unwrap_or_else(|| std::env::temp_dir().join("parla-logs"))
}

impl ConfigFile {
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            // toml's message already names the line and column.
            message: e.to_string(),
        })
    }

    /// Reads the file; a missing default file is an empty config, a missing file named
    /// explicitly is an error.
    pub fn load(path: &Path, explicit: bool) -> Result<Self, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
                Ok(ConfigFile::default())
            }
            Err(source) => Err(ConfigError::Read {
                path: path.to_owned(),
                source,
            }),
        }
    }
}

/// Settings after merging options, environment and the chosen profile (in that order of
/// precedence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub server: String,
    pub token: Option<String>,
    pub token_cmd: Option<String>,
    pub api_key: Option<String>,
    pub ca_file: Option<PathBuf>,
}

pub fn resolve(cli: &Cli) -> Result<Resolved, ConfigError> {
    let (path, explicit) = config_path(cli);
    let file = match &path {
        Some(p) => ConfigFile::load(p, explicit)?,
        None => ConfigFile::default(),
    };
    let profile_name = cli.profile.clone().or_else(|| file.profile.clone());
    let profile = match profile_name {
        Some(name) => file
            .profiles
            .get(&name)
            .cloned()
            .ok_or_else(|| ConfigError::NoProfile {
                name,
                path: path.clone().unwrap_or_default(),
            })?,
        None => Profile::default(),
    };
    Ok(Resolved {
        server: cli
            .server
            .clone()
            .or(profile.server)
            .unwrap_or_else(|| DEFAULT_SERVER.to_owned()),
        token: cli.token.clone().or(profile.token),
        token_cmd: cli.token_cmd.clone().or(profile.token_cmd),
        api_key: cli.api_key.clone().or(profile.api_key),
        ca_file: cli.ca_file.clone().or(profile.ca_file),
    })
}

/// `parla config path` and `parla config check`.
pub fn command(cli: &Cli, command: &super::ConfigCommand) -> Result<(), super::output::CliError> {
    use super::output::{exit, print_json, CliError};
    let (path, _) = config_path(cli);
    let keymap_file = user_file(path.as_deref(), "keymap.toml");
    let theme_file = user_file(path.as_deref(), "theme.toml");
    let exists = |p: &Option<PathBuf>| p.as_ref().is_some_and(|p| p.exists());
    let show = |p: &Option<PathBuf>| {
        p.as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "(no config directory)".into())
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
            let file = match load_file(cli) {
                Ok(f) => Some(f),
                Err(e) => {
                    problems.push(e.to_string());
                    None
                }
            };
            let file = file.unwrap_or_default();
            if let Some(name) = &file.profile {
                if !file.profiles.contains_key(name) {
                    problems.push(format!("profile `{name}` is not defined under [profiles]"));
                }
            }
            let keymap_name = file.keymap.as_deref().unwrap_or("default");
            let (_, keymap_problem) =
                crate::tui::keymap::Keymap::load(keymap_name, keymap_file.as_deref());
            if let Some(e) = keymap_problem {
                problems.push(e.to_string());
            }
            let theme_name = file.theme.as_deref().unwrap_or("dark");
            let (_, theme_problem) =
                crate::tui::theme::Theme::load(theme_name, theme_file.as_deref(), false);
            if let Some(e) = theme_problem {
                problems.push(e.to_string());
            }
            if let Some(lang) = &file.language {
                if crate::tui::i18n::Strings::for_language(lang).is_none() {
                    problems.push(format!(
                        "language `{lang}` is not available (en, it, es, pt)"
                    ));
                }
            }
            if !["device", "null"].contains(&file.audio.backend.as_str()) {
                problems.push(format!(
                    "audio backend `{}` is unknown (device or null)",
                    file.audio.backend
                ));
            }
            if problems.is_empty() {
                if cli.json {
                    print_json(&serde_json::json!({"ok": true}));
                } else {
                    println!("config ok: {}", show(&path));
                }
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
