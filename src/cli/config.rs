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
}

#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Profile used when none is named.
    pub profile: Option<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
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
}

pub fn resolve(cli: &Cli) -> Result<Resolved, ConfigError> {
    let (path, explicit) = match &cli.config {
        Some(p) => (Some(p.clone()), true),
        None => (default_config_path(), false),
    };
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
    })
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

/// `parla config path` and `parla config check`.
pub fn command(_cli: &Cli, _command: &super::ConfigCommand) -> Result<(), super::output::CliError> {
    Err(super::output::CliError::usage(
        "parla config is not available yet",
    ))
}
