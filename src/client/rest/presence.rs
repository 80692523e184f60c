//! Presence: what the user sets of their own, and anyone's.

use reqwest::Method;

use super::{encode_segment, AuthKind, Rest};
use crate::client::ClientError;
use crate::proto::{Presence, PresenceSetting};

impl Rest {
    /// Replaces what the user says of their presence; returns their presence as now shown.
    pub async fn set_presence(&self, setting: &PresenceSetting) -> Result<Presence, ClientError> {
        self.call(
            Method::PUT,
            "/v1/me/presence",
            &[],
            Some(setting),
            AuthKind::Bearer,
        )
        .await
    }

    pub async fn presence(&self, user_id: &str) -> Result<Presence, ClientError> {
        let path = format!("/v1/users/{}/presence", encode_segment(user_id));
        self.call(Method::GET, &path, &[], None, AuthKind::Bearer)
            .await
    }
}
