//! Settings every front end shares: the config file (TOML, in the user config directory)
//! with named profiles, merged under the command-line options and environment, and the
//! directories parla keeps its files in.
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
//! dscp = 46                   # DSCP of media packets (46 Expedited Forwarding; 0 none)
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::client::TokenSource;

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
    /// Minutes without a key after which the interface sets you away (back with the next
    /// key); 0 never. Default 10.
    pub away_after_minutes: Option<u32>,
    #[serde(default)]
    pub audio: AudioConfig,
    #[serde(default)]
    pub server: ServerSection,
}

/// Settings of `parla serve`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// Web origins whose pages may call the REST API (CORS), beside `--cors-origin`.
    #[serde(default)]
    pub cors_origins: Vec<String>,
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
    /// DSCP of media packets (reference 004's `dscpControls`): 46, Expedited Forwarding,
    /// by default; 0 leaves them unmarked.
    #[serde(default = "expedited_forwarding")]
    pub dscp: u8,
}

/// Expedited Forwarding (RFC 3246), the value `media::dscp` marks with by default.
fn expedited_forwarding() -> u8 {
    46
}

impl AudioConfig {
    /// The DSCP media packets are marked with, if any.
    pub fn dscp_mark(&self) -> Option<u8> {
        Some(self.dscp).filter(|d| *d != 0)
    }
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
            dscp: expedited_forwarding(),
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
    #[error(
        "no access token: pass --token or --token-cmd (or PARLA_TOKEN / PARLA_TOKEN_CMD, or a config profile)"
    )]
    NoToken,
}

/// What the command line and the environment say, over the config file and its profiles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub server: Option<String>,
    pub token: Option<String>,
    pub token_cmd: Option<String>,
    pub api_key: Option<String>,
    pub ca_file: Option<PathBuf>,
    /// The profile to use instead of the file's `profile`.
    pub profile: Option<String>,
    /// The config file instead of the default one.
    pub config: Option<PathBuf>,
}

pub fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "parla")
}

pub fn default_config_path() -> Option<PathBuf> {
    project_dirs().map(|d| d.config_dir().join("config.toml"))
}

/// Where the server keeps its database unless `--data` says otherwise.
pub fn default_server_data_dir() -> PathBuf {
    project_dirs().map_or_else(
        || PathBuf::from("parla-data"),
        |d| d.data_dir().join("server"),
    )
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
pub fn config_path(o: &Overrides) -> (Option<PathBuf>, bool) {
    match &o.config {
        Some(p) => (Some(p.clone()), true),
        None => (default_config_path(), false),
    }
}

/// The config file's contents (empty when the default file does not exist).
pub fn load_file(o: &Overrides) -> Result<ConfigFile, ConfigError> {
    match config_path(o) {
        (Some(p), explicit) => ConfigFile::load(&p, explicit),
        (None, _) => Ok(ConfigFile::default()),
    }
}

/// This installation's device id, kept in the data directory so that a restarted parla is
/// the same device to the server (it can end the call it was in). Each parla process of the
/// user at one time holds one slot: the first `dev_…`, the next `dev_…-2`, and so on, each
/// with a lock the operating system drops with the process. `None` when the directory
/// cannot be used (a random id per process then).
pub fn device_id() -> Option<String> {
    static ID: std::sync::OnceLock<Option<(String, std::fs::File)>> = std::sync::OnceLock::new();
    ID.get_or_init(|| claim_device_id(&project_dirs()?.data_dir().join("device")))
        .as_ref()
        .map(|(id, _)| id.clone())
}

/// The base id in `dir/id` (made once), and the first slot whose lock is free.
fn claim_device_id(dir: &Path) -> Option<(String, std::fs::File)> {
    std::fs::create_dir_all(dir).ok()?;
    let id_file = dir.join("id");
    let base = match std::fs::read_to_string(&id_file) {
        Ok(s)
            if (1..=40).contains(&s.trim().len())
                && s.trim()
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
        {
            s.trim().to_owned()
        }
        _ => {
            let id = format!("dev_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
            std::fs::write(&id_file, &id).ok()?;
            id
        }
    };
    (1..=32).find_map(|slot| {
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(format!("slot-{slot}.lock")))
            .ok()?;
        lock.try_lock().ok()?;
        let id = if slot == 1 {
            base.clone()
        } else {
            format!("{base}-{slot}")
        };
        Some((id, lock))
    })
}

/// Where log files go.
pub fn log_dir() -> PathBuf {
    project_dirs().map_or_else(
        || std::env::temp_dir().join("parla-logs"),
        |d| d.data_dir().join("logs"),
    )
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

pub fn resolve(o: &Overrides) -> Result<Resolved, ConfigError> {
    let (path, explicit) = config_path(o);
    let file = match &path {
        Some(p) => ConfigFile::load(p, explicit)?,
        None => ConfigFile::default(),
    };
    let profile_name = o.profile.clone().or_else(|| file.profile.clone());
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
        server: o
            .server
            .clone()
            .or(profile.server)
            .unwrap_or_else(|| DEFAULT_SERVER.to_owned()),
        token: o.token.clone().or(profile.token),
        token_cmd: o.token_cmd.clone().or(profile.token_cmd),
        api_key: o.api_key.clone().or(profile.api_key),
        ca_file: o.ca_file.clone().or(profile.ca_file),
    })
}

impl Resolved {
    /// Where access tokens come from: the command when there is one, else the fixed token.
    pub fn token_source(&self) -> Result<TokenSource, ConfigError> {
        match (&self.token_cmd, &self.token) {
            (Some(cmd), _) => Ok(TokenSource::Command(cmd.clone())),
            (None, Some(t)) => Ok(TokenSource::Static(t.clone())),
            (None, None) => Err(ConfigError::NoToken),
        }
    }

    /// The settings for the client core's session.
    pub fn client_config(&self) -> Result<crate::client::ClientConfig, ConfigError> {
        let mut config =
            crate::client::ClientConfig::new(self.server.clone(), self.token_source()?);
        config.ca_file.clone_from(&self.ca_file);
        if let Some(id) = device_id() {
            config.device_id = id;
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_is_marked_expedited_forwarding_unless_told_otherwise() {
        let a: AudioConfig = toml::from_str("").unwrap();
        assert_eq!(a.dscp_mark(), Some(46));
        let a: AudioConfig = toml::from_str("dscp = 34").unwrap();
        assert_eq!(a.dscp_mark(), Some(34));
        let a: AudioConfig = toml::from_str("dscp = 0").unwrap();
        assert_eq!(a.dscp_mark(), None);
        assert_eq!(AudioConfig::default().dscp, 46);
    }

    #[test]
    fn the_device_id_is_kept_and_two_processes_get_distinct_ones() {
        let dir = tempfile::tempdir().unwrap();
        let (first, held) = claim_device_id(dir.path()).unwrap();
        assert!(first.starts_with("dev_"), "{first}");
        // A second parla of the same user while the first runs.
        let (second, held2) = claim_device_id(dir.path()).unwrap();
        assert_eq!(second, format!("{first}-2"));
        drop(held);
        drop(held2);
        // The next start is the same device again.
        let (again, held) = claim_device_id(dir.path()).unwrap();
        assert_eq!(again, first);
        drop(held);
        // A damaged id file is replaced, not used.
        std::fs::write(dir.path().join("id"), "../../etc").unwrap();
        let (fresh, _held) = claim_device_id(dir.path()).unwrap();
        assert!(fresh.starts_with("dev_") && fresh != first, "{fresh}");
    }
}
