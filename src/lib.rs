//! parla: a terminal softphone and chat client, and the server it talks to.
//!
//! `proto` holds the wire types; `server` is `parla serve`; `client` is the async client
//! core the front ends share; `media` is audio; `cli` the command line.

pub mod media;
pub mod proto;
pub mod server;
pub mod client;
pub mod cli;
