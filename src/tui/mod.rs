//! The terminal interface: one `Action` enum that input maps to, keymaps and themes
//! (defaults compiled in from `keymaps/` and `themes/`, user files merged on top), the
//! application state and its rendering, and the loop that runs it in a terminal.

pub mod app;
pub mod cast;
pub mod i18n;
pub mod keymap;
pub mod run;
pub mod script;
pub mod theme;
pub mod ui;

use std::path::PathBuf;

/// What the interface is started with: the settings the command line gave and where to
/// record the session, if anywhere.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    pub settings: crate::settings::Overrides,
    pub record_cast: Option<PathBuf>,
}

/// Why the interface could not run (or stopped).
#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    /// Started where it cannot run (no terminal, say).
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Io(String),
    /// A scripted tour did not see what it expected.
    #[error("{0}")]
    Script(String),
    #[error(transparent)]
    Client(#[from] crate::client::ClientError),
    #[error(transparent)]
    Settings(#[from] crate::settings::ConfigError),
}
