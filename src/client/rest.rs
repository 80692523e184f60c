//! The REST half of the client: one method per route, errors mapped to [`ClientError`].

use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;

use super::ClientError;
use crate::proto::{
    ApiError, Channel, ChannelKind, CreateChannel, CreateUser, Credentials, CredentialsRequest,
    Direction, ErrorCode, Health, IceServer, MarkRead, Message, MessagePage, ReadState,
    SendMessage, User, UserEntry,
};

mod links;
mod people;
mod presence;
mod voicemail;

pub use links::AccessLink;

#[derive(Clone)]
pub struct Rest {
    http: reqwest::Client,
    base: Url,
    token: Arc<RwLock<Option<String>>>,
    api_key: Option<String>,
    /// TLS settings for the WebSocket to an `https://` server (the same trust as REST).
    ws_tls: Option<Arc<tokio_rustls::rustls::ClientConfig>>,
}

/// Reads the certificates of a PEM CA file (for a server with a self-signed or private
/// certificate authority).
fn load_ca_file(
    path: &Path,
) -> Result<Vec<tokio_rustls::rustls::pki_types::CertificateDer<'static>>, ClientError> {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::CertificateDer;
    let pem = std::fs::read(path)
        .map_err(|e| ClientError::Config(format!("cannot read CA file {}: {e}", path.display())))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| {
            ClientError::Config(format!(
                "{}: not a PEM certificate file: {e}",
                path.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(ClientError::Config(format!(
            "{}: no certificate in it",
            path.display()
        )));
    }
    Ok(certs)
}

/// Certificate checks for the WebSocket: the system's trust store (as for REST) plus the
/// extra roots.
fn ws_tls_config(
    extra: Vec<tokio_rustls::rustls::pki_types::CertificateDer<'static>>,
) -> Result<Arc<tokio_rustls::rustls::ClientConfig>, ClientError> {
    use tokio_rustls::rustls;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
            .map_err(|e| ClientError::Config(format!("TLS set-up failed: {e}")))?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Config(format!("TLS set-up failed: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

enum AuthKind {
    None,
    Bearer,
    ApiKey,
}

/// Parses a server address; a bare `host:port` means `http://host:port`.
pub fn parse_server_url(server: &str) -> Result<Url, ClientError> {
    let with_scheme = if server.contains("://") {
        server.to_owned()
    } else {
        format!("http://{server}")
    };
    let url = Url::parse(&with_scheme)
        .map_err(|e| ClientError::Config(format!("bad server address `{server}`: {e}")))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(ClientError::Config(format!(
            "the server address must be http:// or https://, not {other}://"
        ))),
    }
}

impl Rest {
    pub fn new(server: &str) -> Result<Self, ClientError> {
        Self::with_ca_file(server, None)
    }

    /// A client that also trusts the certificate authorities in `ca_file` (PEM), for a
    /// server whose certificate the system does not know.
    pub fn with_ca_file(server: &str, ca_file: Option<&Path>) -> Result<Self, ClientError> {
        let base = parse_server_url(server)?;
        let extra = match ca_file {
            Some(p) => load_ca_file(p)?,
            None => Vec::new(),
        };
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            .user_agent(concat!("parla/", env!("CARGO_PKG_VERSION")));
        for der in &extra {
            let cert = reqwest::Certificate::from_der(der)
                .map_err(|e| ClientError::Config(format!("bad CA certificate: {e}")))?;
            builder = builder.tls_certs_merge([cert]);
        }
        let http = builder
            .build()
            .map_err(|e| ClientError::Config(e.to_string()))?;
        let ws_tls = if base.scheme() == "https" {
            Some(ws_tls_config(extra)?)
        } else {
            None
        };
        Ok(Rest {
            http,
            base,
            token: Arc::new(RwLock::new(None)),
            api_key: None,
            ws_tls,
        })
    }

    /// How the WebSocket connects: TLS with the same trust as REST, or plain.
    pub fn ws_connector(&self) -> tokio_tungstenite::Connector {
        match &self.ws_tls {
            Some(config) => tokio_tungstenite::Connector::Rustls(config.clone()),
            None => tokio_tungstenite::Connector::Plain,
        }
    }

    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    pub fn with_token(self, token: impl Into<String>) -> Self {
        self.set_token(token.into());
        self
    }

    /// Replaces the access token used by every clone of this client.
    pub fn set_token(&self, token: String) {
        if let Ok(mut t) = self.token.write() {
            *t = Some(token);
        }
    }

    pub fn token(&self) -> Option<String> {
        self.token.read().ok().and_then(|t| t.clone())
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&dyn erased::Body>,
        auth: AuthKind,
    ) -> Result<T, ClientError> {
        let text = self.call_raw(method, path, query, body, auth).await?;
        let text = if text.is_empty() { "null".into() } else { text };
        serde_json::from_str(&text)
            .map_err(|e| ClientError::Protocol(format!("unexpected answer from {path}: {e}")))
    }

    async fn call_raw(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&dyn erased::Body>,
        auth: AuthKind,
    ) -> Result<String, ClientError> {
        let url = self
            .base
            .join(path)
            .map_err(|e| ClientError::Config(e.to_string()))?;
        let mut req = self.http.request(method, url).query(query);
        match auth {
            AuthKind::None => {}
            AuthKind::Bearer => {
                let token = self.token().ok_or_else(|| {
                    ClientError::Config(
                        "no access token: pass --token, --token-cmd or set PARLA_TOKEN".into(),
                    )
                })?;
                req = req.bearer_auth(token);
            }
            AuthKind::ApiKey => {
                let key = self.api_key.clone().ok_or_else(|| {
                    ClientError::Config("no API key: pass --api-key or set PARLA_API_KEY".into())
                })?;
                req = req.header("apikey", key);
            }
        }
        if let Some(b) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b.to_json());
        }
        let resp = req
            .send()
            .await
            .map_err(|e| ClientError::from_reqwest(&e))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| ClientError::from_reqwest(&e))?;
        if status.is_success() {
            return Ok(text);
        }
        Err(ClientError::Api(api_error_from(status, &text)))
    }

    /// The channel a user names on the command line or in a script: a channel id
    /// (`ch_...`) as it is, `#name` for a group channel of theirs with that name, anything
    /// else a user id, whose direct channel is opened (created when missing).
    pub async fn resolve_target(&self, target: &str) -> Result<String, ClientError> {
        if target.starts_with("ch_") {
            return Ok(target.to_owned());
        }
        if let Some(name) = target.strip_prefix('#') {
            let channels = self.channels().await?;
            let matches: Vec<_> = channels
                .iter()
                .filter(|c| c.name.as_deref() == Some(name))
                .collect();
            return match matches.as_slice() {
                [one] => Ok(one.channel_id.clone()),
                [] => Err(ClientError::Api(ApiError::new(
                    ErrorCode::ChannelNotExists,
                    format!("you take part in no group channel named `{name}`"),
                ))),
                _ => Err(ClientError::Api(ApiError::new(
                    ErrorCode::ValidationError,
                    format!("several channels are named `{name}`; use the channel id"),
                ))),
            };
        }
        Ok(self.open_direct(target).await?.channel_id)
    }

    // -- admin ------------------------------------------------------------------------

    pub async fn admin_create_user(
        &self,
        user_id: &str,
        display_name: Option<&str>,
    ) -> Result<User, ClientError> {
        let body = CreateUser {
            user_id: user_id.to_owned(),
            display_name: display_name.map(str::to_owned),
        };
        self.call(
            Method::POST,
            "/v1/admin/users",
            &[],
            Some(&body),
            AuthKind::ApiKey,
        )
        .await
    }

    /// Downloads a backup of the server's database into the file `dest` (created or
    /// truncated, synced to disk at the end); returns its size. A failed download removes
    /// what was written.
    pub async fn admin_backup(&self, dest: &Path) -> Result<u64, ClientError> {
        use tokio::io::AsyncWriteExt;
        let key = self.api_key.clone().ok_or_else(|| {
            ClientError::Config("no API key: pass --api-key or set PARLA_API_KEY".into())
        })?;
        let url = self
            .base
            .join("/v1/admin/backup")
            .map_err(|e| ClientError::Config(e.to_string()))?;
        let mut resp = self
            .http
            .get(url)
            .header("apikey", key)
            // A large database takes a while; the usual 30 s is for small answers.
            .timeout(Duration::from_hours(1))
            .send()
            .await
            .map_err(|e| ClientError::from_reqwest(&e))?;
        let status = resp.status();
        if !status.is_success() {
            let text = resp.text().await.unwrap_or_default();
            return Err(ClientError::Api(api_error_from(status, &text)));
        }
        let part = dest;
        let io = |e: std::io::Error| ClientError::Config(format!("{}: {e}", part.display()));
        let mut file = tokio::fs::File::create(&part).await.map_err(io)?;
        let mut written = 0u64;
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    file.write_all(&chunk).await.map_err(io)?;
                    written += chunk.len() as u64;
                }
                Ok(None) => break,
                Err(e) => {
                    drop(file);
                    let _ = tokio::fs::remove_file(&part).await;
                    return Err(ClientError::from_reqwest(&e));
                }
            }
        }
        file.sync_all().await.map_err(io)?;
        Ok(written)
    }

    pub async fn admin_list_users(&self) -> Result<Vec<User>, ClientError> {
        self.call(Method::GET, "/v1/admin/users", &[], None, AuthKind::ApiKey)
            .await
    }

    pub async fn admin_delete_user(&self, user_id: &str) -> Result<(), ClientError> {
        let path = format!("/v1/admin/users/{}", encode_segment(user_id));
        self.delete(&path, AuthKind::ApiKey).await
    }

    async fn delete(&self, path: &str, auth: AuthKind) -> Result<(), ClientError> {
        self.call_raw(Method::DELETE, path, &[], None, auth)
            .await
            .map(|_| ())
    }

    pub async fn admin_credentials(
        &self,
        user_id: &str,
        expires_in: Option<u64>,
    ) -> Result<Credentials, ClientError> {
        let body = CredentialsRequest {
            user_id: user_id.to_owned(),
            expires_in,
        };
        self.call(
            Method::POST,
            "/v1/admin/credentials",
            &[],
            Some(&body),
            AuthKind::ApiKey,
        )
        .await
    }

    // -- user -------------------------------------------------------------------------

    pub async fn health(&self) -> Result<Health, ClientError> {
        self.call(Method::GET, "/v1/health", &[], None, AuthKind::None)
            .await
    }

    pub async fn me(&self) -> Result<User, ClientError> {
        self.call(Method::GET, "/v1/me", &[], None, AuthKind::Bearer)
            .await
    }

    pub async fn users(&self, online_only: bool) -> Result<Vec<UserEntry>, ClientError> {
        let q = if online_only {
            vec![("online", "true".to_owned())]
        } else {
            vec![]
        };
        self.call(Method::GET, "/v1/users", &q, None, AuthKind::Bearer)
            .await
    }

    /// STUN/TURN servers for calls (TURN with fresh credentials).
    pub async fn ice_servers(&self) -> Result<Vec<IceServer>, ClientError> {
        self.call(Method::GET, "/v1/ice-servers", &[], None, AuthKind::Bearer)
            .await
    }

    pub async fn channels(&self) -> Result<Vec<Channel>, ClientError> {
        self.call(Method::GET, "/v1/channels", &[], None, AuthKind::Bearer)
            .await
    }

    pub async fn channel(&self, channel_id: &str) -> Result<Channel, ClientError> {
        let path = format!("/v1/channels/{}", encode_segment(channel_id));
        self.call(Method::GET, &path, &[], None, AuthKind::Bearer)
            .await
    }

    /// The direct channel with `user_id`, created when missing.
    pub async fn open_direct(&self, user_id: &str) -> Result<Channel, ClientError> {
        let body = CreateChannel {
            participants: vec![user_id.to_owned()],
            kind: Some(ChannelKind::Direct),
            name: None,
        };
        self.create_channel(&body).await
    }

    async fn create_channel(&self, body: &CreateChannel) -> Result<Channel, ClientError> {
        self.call(
            Method::POST,
            "/v1/channels",
            &[],
            Some(body),
            AuthKind::Bearer,
        )
        .await
    }

    pub async fn create_group(
        &self,
        name: &str,
        participants: &[String],
    ) -> Result<Channel, ClientError> {
        let body = CreateChannel {
            participants: participants.to_vec(),
            kind: Some(ChannelKind::Group),
            name: Some(name.to_owned()),
        };
        self.create_channel(&body).await
    }

    pub async fn remove_channel(&self, channel_id: &str) -> Result<(), ClientError> {
        let path = format!("/v1/channels/{}", encode_segment(channel_id));
        self.delete(&path, AuthKind::Bearer).await
    }

    pub async fn history(
        &self,
        channel_id: &str,
        count: u32,
        anchor: Option<u64>,
        direction: Direction,
    ) -> Result<MessagePage, ClientError> {
        let path = format!("/v1/channels/{}/messages", encode_segment(channel_id));
        let mut q = vec![
            ("count", count.to_string()),
            (
                "direction",
                match direction {
                    Direction::Backwards => "backwards",
                    Direction::Forwards => "forwards",
                }
                .to_owned(),
            ),
        ];
        if let Some(a) = anchor {
            q.push(("anchor", a.to_string()));
        }
        self.call(Method::GET, &path, &q, None, AuthKind::Bearer)
            .await
    }

    /// Messages of a channel whose text contains `text` (the letters A to Z compared without case),
    /// the newest `count` older than `before`, oldest first.
    pub async fn search(
        &self,
        channel_id: &str,
        text: &str,
        count: u32,
        before: Option<u64>,
    ) -> Result<MessagePage, ClientError> {
        let path = format!("/v1/channels/{}/messages", encode_segment(channel_id));
        let mut q = vec![("count", count.to_string()), ("search", text.to_owned())];
        if let Some(b) = before {
            q.push(("anchor", b.to_string()));
        }
        self.call(Method::GET, &path, &q, None, AuthKind::Bearer)
            .await
    }

    /// Sends over REST; the same `client_id` makes a retry harmless.
    pub async fn send(
        &self,
        channel_id: &str,
        client_id: &str,
        text: &str,
    ) -> Result<Message, ClientError> {
        let path = format!("/v1/channels/{}/messages", encode_segment(channel_id));
        let body = SendMessage {
            client_id: Some(client_id.to_owned()),
            text: text.to_owned(),
        };
        self.call(Method::POST, &path, &[], Some(&body), AuthKind::Bearer)
            .await
    }

    /// A page of the user's call history, newest first (`before`: the last `seq` of the
    /// previous page); `missed_only` for missed calls.
    pub async fn call_history(
        &self,
        count: u32,
        before: Option<u64>,
        missed_only: bool,
    ) -> Result<crate::proto::CallHistoryPage, ClientError> {
        let mut q = vec![("count", count.to_string())];
        if let Some(b) = before {
            q.push(("before", b.to_string()));
        }
        if missed_only {
            q.push(("missed", "true".to_owned()));
        }
        self.call(Method::GET, "/v1/calls/history", &q, None, AuthKind::Bearer)
            .await
    }

    /// Deletes one entry of the call history (`Some(room_id)`), or all of it.
    pub async fn delete_call_history(&self, room_id: Option<&str>) -> Result<(), ClientError> {
        match room_id {
            Some(room) => {
                let path = format!("/v1/calls/history/{}", encode_segment(room));
                self.delete(&path, AuthKind::Bearer).await
            }
            None => self.delete("/v1/calls/history", AuthKind::Bearer).await,
        }
    }

    /// Marks the missed calls seen; returns how many are unseen now (none).
    pub async fn mark_calls_seen(&self) -> Result<crate::proto::MissedCount, ClientError> {
        self.call(
            Method::POST,
            "/v1/calls/history/seen",
            &[],
            None,
            AuthKind::Bearer,
        )
        .await
    }

    pub async fn mark_read(&self, channel_id: &str, seq: u64) -> Result<ReadState, ClientError> {
        let path = format!("/v1/channels/{}/read", encode_segment(channel_id));
        self.call(
            Method::POST,
            &path,
            &[],
            Some(&MarkRead { seq }),
            AuthKind::Bearer,
        )
        .await
    }
}

/// Reads an error body, falling back to the status when it is not one of ours.
pub fn api_error_from(status: StatusCode, body: &str) -> ApiError {
    serde_json::from_str::<ApiError>(body).unwrap_or_else(|_| {
        let code = match status {
            StatusCode::NOT_FOUND => ErrorCode::NotFound,
            StatusCode::UNAUTHORIZED => ErrorCode::AuthenticationError,
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::MessageTooLarge,
            s if s.is_client_error() => ErrorCode::ValidationError,
            _ => ErrorCode::InternalServerError,
        };
        ApiError::new(code, format!("HTTP {status}: {}", body.trim()))
    })
}

fn encode_segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// Lets `call` take any serialisable body without being generic over it.
mod erased {
    pub trait Body: Send + Sync {
        fn to_json(&self) -> String;
    }

    impl<T: serde::Serialize + Send + Sync> Body for T {
        fn to_json(&self) -> String {
            serde_json::to_string(self).unwrap_or_default()
        }
    }
}
