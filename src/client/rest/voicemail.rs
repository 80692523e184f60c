//! The voicemail routes: leaving a voice message, and the mailbox.

use reqwest::Method;

use super::{api_error_from, encode_segment, AuthKind, Rest};
use crate::client::ClientError;
use crate::proto::{Voicemail, VoicemailBox, VoicemailIndicator};

impl Rest {
    /// Sends `body` (or nothing) and returns the answer's bytes, for the routes whose
    /// bodies are audio rather than JSON.
    async fn call_bytes(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<(Vec<u8>, &str)>,
    ) -> Result<Vec<u8>, ClientError> {
        let url = self
            .base
            .join(path)
            .map_err(|e| ClientError::Config(e.to_string()))?;
        let token = self.token().ok_or_else(|| {
            ClientError::Config(
                "no access token: pass --token, --token-cmd or set PARLA_TOKEN".into(),
            )
        })?;
        let mut req = self
            .http
            .request(method, url)
            .query(query)
            .bearer_auth(token);
        if let Some((bytes, content_type)) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(bytes);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| ClientError::from_reqwest(&e))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| ClientError::from_reqwest(&e))?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        Err(ClientError::Api(api_error_from(
            status,
            &String::from_utf8_lossy(&bytes),
        )))
    }

    /// Leaves a voice message (Opus in Ogg) after the unanswered call `room_id`.
    pub async fn leave_voicemail(
        &self,
        room_id: &str,
        ogg: Vec<u8>,
    ) -> Result<Voicemail, ClientError> {
        let q = [("room_id", room_id.to_owned())];
        let answer = self
            .call_bytes(Method::POST, "/v1/voicemail", &q, Some((ogg, "audio/ogg")))
            .await?;
        serde_json::from_slice(&answer).map_err(|e| {
            ClientError::Protocol(format!("unexpected answer to a voice message: {e}"))
        })
    }

    /// The mailbox, newest first, with its indicator.
    pub async fn voicemails(&self) -> Result<VoicemailBox, ClientError> {
        self.call(Method::GET, "/v1/voicemail", &[], None, AuthKind::Bearer)
            .await
    }

    /// The audio of voice message `id` (Opus in Ogg).
    pub async fn voicemail_audio(&self, id: &str) -> Result<Vec<u8>, ClientError> {
        let path = format!("/v1/voicemail/{}/audio", encode_segment(id));
        self.call_bytes(Method::GET, &path, &[], None).await
    }

    pub async fn mark_voicemail_heard(&self, id: &str) -> Result<VoicemailIndicator, ClientError> {
        let path = format!("/v1/voicemail/{}/heard", encode_segment(id));
        self.call(Method::POST, &path, &[], None, AuthKind::Bearer)
            .await
    }

    pub async fn delete_voicemail(&self, id: &str) -> Result<(), ClientError> {
        let path = format!("/v1/voicemail/{}", encode_segment(id));
        self.delete(&path, AuthKind::Bearer).await
    }
}
