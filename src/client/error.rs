//! What can go wrong in the client, with a stable code for each kind.

use crate::proto::{ApiError, ErrorCode};

#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error code.
    #[error("{0}")]
    Api(ApiError),
    /// The server could not be reached.
    #[error("server unreachable: {0}")]
    Unreachable(String),
    /// The token provider failed or timed out.
    #[error("could not get an access token: {0}")]
    Token(String),
    /// The server answered something that is not our protocol.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// Local settings are missing or wrong.
    #[error("{0}")]
    Config(String),
    /// The client was stopped (or gave up) before the request finished.
    #[error("the client has stopped")]
    Closed,
}

impl ClientError {
    /// A stable code for scripts: the server's code, or one of `server_unreachable`,
    /// `token_unavailable`, `protocol_error`, `config_error`, `client_closed`.
    pub fn code(&self) -> &str {
        match self {
            ClientError::Api(e) => e.code.as_str(),
            ClientError::Unreachable(_) => "server_unreachable",
            ClientError::Token(_) => "token_unavailable",
            ClientError::Protocol(_) => "protocol_error",
            ClientError::Config(_) => "config_error",
            ClientError::Closed => "client_closed",
        }
    }

    /// What went wrong without the code in front (the code is [`ClientError::code`]).
    pub fn detail(&self) -> String {
        match self {
            ClientError::Api(e) => e.message.clone(),
            other => other.to_string(),
        }
    }

    pub fn api_code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Api(e) => Some(e.code),
            _ => None,
        }
    }

    pub(crate) fn from_reqwest(e: &reqwest::Error) -> Self {
        // reqwest's own text ("error sending request for url ...") says nothing of why;
        // the causes below it do ("Connection refused", "invalid peer certificate: ...").
        let mut text = e.to_string();
        let mut cause = std::error::Error::source(e);
        while let Some(c) = cause {
            let part = c.to_string();
            if !text.contains(&part) {
                text = format!("{text}: {part}");
            }
            cause = c.source();
        }
        if e.is_connect() || e.is_timeout() {
            // Where, and the innermost reason ("connection refused", "timed out"), without
            // the HTTP library's layers.
            let mut root: Option<&dyn std::error::Error> = std::error::Error::source(e);
            while let Some(next) = root.and_then(std::error::Error::source) {
                root = Some(next);
            }
            let why = root.map_or_else(
                || {
                    if e.is_timeout() {
                        "timed out".to_owned()
                    } else {
                        text.clone()
                    }
                },
                |r| {
                    let w = r.to_string();
                    // "Connection refused (os error 111)" -> "connection refused"
                    let w = w.split(" (os error").next().unwrap_or(&w).to_owned();
                    let mut c = w.chars();
                    c.next()
                        .map_or_else(String::new, |f| f.to_lowercase().chain(c).collect())
                },
            );
            let at = e
                .url()
                .map(|u| u.origin().ascii_serialization())
                .unwrap_or_default();
            ClientError::Unreachable(if at.is_empty() {
                why
            } else {
                format!("{at}: {why}")
            })
        } else if e.is_request() {
            ClientError::Unreachable(text)
        } else {
            ClientError::Protocol(text)
        }
    }
}
