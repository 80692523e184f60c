//! Access links: making one for a call, and joining a call by one.

use reqwest::Method;
use url::Url;

use super::{encode_segment, AuthKind, Rest};
use crate::client::ClientError;
use crate::proto::{CallLink, CreateLinkRequest, JoinRequest, LinkSession};

/// An access link taken apart: the server it belongs to and its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLink {
    pub server: Url,
    pub token: String,
}

impl AccessLink {
    /// Reads `{server}/join/{token}` (with or without a trailing slash, query or fragment).
    pub fn parse(link: &str) -> Result<AccessLink, ClientError> {
        let invalid = |why: &str| {
            ClientError::Api(crate::proto::ApiError::new(
                crate::proto::ErrorCode::InvalidAccessLink,
                format!("`{link}` is not an access link: {why}"),
            ))
        };
        let url = Url::parse(link.trim()).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("it is not an http or https address"));
        }
        let segments: Vec<&str> = url
            .path_segments()
            .map(|s| s.filter(|p| !p.is_empty()).collect())
            .unwrap_or_default();
        let [prefix @ .., "join", token] = segments.as_slice() else {
            return Err(invalid("its path does not end in /join/TOKEN"));
        };
        let mut server = url.clone();
        server.set_query(None);
        server.set_fragment(None);
        let mut base = prefix.join("/");
        if !base.is_empty() {
            base.push('/');
        }
        server.set_path(&format!("/{base}"));
        Ok(AccessLink {
            server,
            token: (*token).to_owned(),
        })
    }
}

impl Rest {
    /// Makes an access link to a live call of this user's (`for_user`: the only user it
    /// admits; absent: guests).
    pub async fn create_link(
        &self,
        room_id: &str,
        for_user: Option<&str>,
    ) -> Result<CallLink, ClientError> {
        let body = CreateLinkRequest {
            user_id: for_user.map(str::to_owned),
        };
        self.call(
            Method::POST,
            &format!("/v1/calls/{}/links", encode_segment(room_id)),
            &[],
            Some(&body),
            AuthKind::Bearer,
        )
        .await
    }

    /// Exchanges an access link's token for a session restricted to its call: as a guest
    /// named `name`, or, with this client's token, as the user the link was made for.
    pub async fn join_link(
        &self,
        token: &str,
        name: Option<&str>,
        as_user: bool,
    ) -> Result<LinkSession, ClientError> {
        let body = JoinRequest {
            display_name: name.map(str::to_owned),
            access_token: if as_user { self.token() } else { None },
        };
        self.call(
            Method::POST,
            &format!("/v1/join/{}", encode_segment(token)),
            &[],
            Some(&body),
            AuthKind::None,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_is_read_into_its_server_and_token() {
        let l = AccessLink::parse("http://127.0.0.1:8080/join/abc-DEF_1").unwrap();
        assert_eq!(l.server.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(l.token, "abc-DEF_1");
        let l = AccessLink::parse("https://talk.example.org/parla/join/tok/?x=1#y").unwrap();
        assert_eq!(l.server.as_str(), "https://talk.example.org/parla/");
        assert_eq!(l.token, "tok");
    }

    #[test]
    fn anything_else_is_invalid_access_link() {
        for bad in [
            "",
            "not a url",
            "ftp://h/join/t",
            "http://h/joins/t",
            "http://h/join/",
        ] {
            match AccessLink::parse(bad) {
                Err(ClientError::Api(e)) => {
                    assert_eq!(e.code, crate::proto::ErrorCode::InvalidAccessLink, "{bad}");
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
