//! parla: a terminal softphone and chat client, and the server it talks to.
//!
//! `proto` holds the wire types; `server` is `parla serve`; `client` is the async client
//! core the front ends share; `media` is audio; `tui` the terminal interface; `ctl` the
//! control socket through which scripts drive a running instance; `settings` the config
//! file and directories they share; `cli` the command line.

// Input from users, files and the network is never trusted to be well-formed.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod cli;
pub mod client;
pub mod clock;
pub mod ctl;
pub mod media;
pub mod proto;
pub mod server;
pub mod settings;
pub mod sys;
pub mod tui;
