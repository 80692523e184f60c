//! `parla serve`: REST + WebSocket server with an embedded SQLite store.
//!
//! [`Server::start`] binds, spawns the server and returns at once, so tests can bind port 0
//! and shut the server down cleanly; `parla serve` calls it and waits for Ctrl-C.

pub mod auth;
pub mod calls;
pub mod cors;
pub mod datadir;
pub mod error;
pub mod history;
pub mod http;
pub mod hub;
pub mod limits;
pub mod listen;
pub mod ops;
pub mod store;
pub mod voicemail;
pub mod ws;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::proto::{ApiError, ErrorCode, ServerFrame, MIN_API_KEY_CHARS};
use auth::TokenIssuer;
use hub::{Hub, Sockets};
use limits::{Limits, Rates};
use store::{SqliteStore, Store, StoreError};

/// How long before a token expires its connections are warned, by default.
pub const DEFAULT_TOKEN_WARNING: Duration = Duration::from_mins(1);

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Directory holding `parla.sqlite3`; created when missing.
    pub data_dir: PathBuf,
    /// The admin API key; when absent the one stored in the database is used, and one is
    /// generated on first start.
    pub api_key: Option<String>,
    /// How long before a token's expiry its connections get `token_about_to_expire`;
    /// zero turns the warning off.
    pub token_warning: Duration,
    /// How long a call rings before it ends with `timeout`.
    pub ring_timeout: Duration,
    /// How long a device in a call may stay disconnected before it leaves the call (with
    /// `connection_lost`); it keeps the call when it reconnects sooner.
    pub call_grace: Duration,
    /// STUN server URLs handed to clients (e.g. `stun:stun.example.org:3478`).
    pub stun_urls: Vec<String>,
    /// TURN servers and the secret shared with them for time-limited credentials.
    pub turn: Option<TurnConfig>,
    /// Rate limits on messages, dials, signals and frames.
    pub limits: Limits,
    /// Certificate chain and private key (PEM) to serve HTTPS and WSS instead of plain
    /// HTTP.
    pub tls: Option<TlsFiles>,
    /// Reverse proxies whose `X-Forwarded-For` is believed for the client's address.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Web origins (`https://chat.example.org`) whose pages may call the REST API.
    pub cors_origins: Vec<String>,
    /// A WebSocket that sends nothing for this long is closed (1001 `idle`).
    pub idle_timeout: Duration,
    /// Where the server reads the time (the system's; tests use one that follows tokio's
    /// paused clock).
    pub clock: crate::clock::Clock,
    /// Bytes of voice messages kept per user.
    pub voicemail_quota: u64,
}

#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone)]
pub struct TurnConfig {
    pub urls: Vec<String>,
    /// The `static-auth-secret` of coturn's `use-auth-secret` mode.
    pub secret: String,
    /// Lifetime of the credentials handed out.
    pub ttl: Duration,
}

/// TURN REST credentials: the username is `EXPIRY:USER`, the password the base64 of its
/// HMAC-SHA1 under the shared secret.
pub fn turn_credentials(secret: &str, user: &str, expires_unix: i64) -> (String, String) {
    let username = format!("{expires_unix}:{user}");
    let credential = turn_password(secret, &username);
    (username, credential)
}

/// base64(HMAC-SHA1(secret, username)), the TURN REST password.
fn turn_password(secret: &str, username: &str) -> String {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    match Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(username.as_bytes());
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        }
        // HMAC takes keys of any length; this cannot happen.
        Err(_) => String::new(),
    }
}

impl ServerConfig {
    pub fn new(listen: SocketAddr, data_dir: PathBuf) -> Self {
        ServerConfig {
            listen,
            data_dir,
            api_key: None,
            token_warning: DEFAULT_TOKEN_WARNING,
            ring_timeout: Duration::from_secs(crate::proto::RING_TIMEOUT_S),
            call_grace: Duration::from_secs(crate::proto::CALL_GRACE_S),
            stun_urls: Vec::new(),
            turn: None,
            limits: Limits::default(),
            tls: None,
            trusted_proxies: Vec::new(),
            cors_origins: Vec::new(),
            idle_timeout: ws::IDLE_TIMEOUT,
            clock: crate::clock::Clock::system(),
            voicemail_quota: crate::proto::DEFAULT_VOICEMAIL_QUOTA,
        }
    }
}

/// Checks an admin API key given to `parla serve`: at least [`MIN_API_KEY_CHARS`]
/// characters, none of them blank or control characters (it travels in a header).
pub fn check_api_key(key: &str) -> Result<(), ServerError> {
    if key.chars().count() < MIN_API_KEY_CHARS {
        return Err(ServerError::ApiKey(format!(
            "the admin API key must be at least {MIN_API_KEY_CHARS} characters (got {}); \
             leave it unset to have one generated",
            key.chars().count()
        )));
    }
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ServerError::ApiKey(
            "the admin API key must not contain spaces or control characters".into(),
        ));
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    ApiKey(String),
    #[error(transparent)]
    Locked(#[from] datadir::DataDirError),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("`{0}` is not a web origin: give scheme and host, like https://chat.example.org")]
    CorsOrigin(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Shared by every request and connection.
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub hub: Hub,
    pub issuer: TokenIssuer,
    pub api_key: String,
    pub token_warning: Duration,
    pub calls: std::sync::Mutex<calls::Calls>,
    pub call_grace: Duration,
    pub stun_urls: Vec<String>,
    pub turn: Option<TurnConfig>,
    pub rates: Rates,
    pub sockets: Arc<Sockets>,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    pub cors_origins: Vec<String>,
    /// Where the database lives (backups are staged there).
    pub data_dir: PathBuf,
    pub idle_timeout: Duration,
    /// The one clock of the server.
    pub clock: crate::clock::Clock,
    /// Where ended calls go to be recorded in the call history ([`history`]).
    pub call_log: std::sync::OnceLock<tokio::sync::mpsc::UnboundedSender<crate::proto::Call>>,
    /// Where voice messages are kept.
    pub voicemail: voicemail::Mailbox,
    /// Served over TLS (access links start with `https://`).
    pub secure: bool,
}

impl AppState {
    /// Runs a call-room operation and carries out its effects.
    pub fn with_calls<T>(
        &self,
        f: impl FnOnce(&mut calls::Calls) -> Result<(T, Vec<calls::Effect>), ApiError>,
    ) -> Result<T, ApiError> {
        let (value, effects) = {
            let mut calls = self
                .calls
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let (value, effects) = f(&mut calls)?;
            (value, calls.presence_after(effects))
        };
        self.apply(effects);
        Ok(value)
    }

    pub fn apply(&self, effects: Vec<calls::Effect>) {
        use calls::Effect;
        for e in effects {
            match e {
                Effect::ToUsers { users, frame } => self.hub.send_to_users(&users, &frame, None),
                Effect::ToOtherDevices {
                    user,
                    except_device,
                    frame,
                } => self
                    .hub
                    .send_to_device(&user, &except_device, false, &frame),
                Effect::ToDevice {
                    user,
                    device,
                    frame,
                } => self.hub.send_to_device(&user, &device, true, &frame),
                Effect::Busy { user, device, with } => {
                    self.hub.set_device_busy(&user, &device, with);
                }
                Effect::Free { user, device } => self.hub.set_device_busy(&user, &device, vec![]),
                Effect::Ended { call } => {
                    // A session connected by link lasts as long as its call.
                    self.hub.end_link_sessions(
                        &call.room_id,
                        &ServerFrame::ForceDisconnect {
                            reason: "call_ended".into(),
                        },
                        hub::close_code::FORCE_DISCONNECT,
                    );
                    if let Some(log) = self.call_log.get() {
                        let _ = log.send(call);
                    }
                }
            }
        }
    }
}

impl AppState {
    /// Runs a store call on the blocking pool.
    pub async fn store<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| ApiError::new(ErrorCode::InternalServerError, e.to_string()))?
            .map_err(store_error)
    }
}

impl AppState {
    /// Issues a token for an existing user.
    pub async fn mint_token(
        &self,
        user_id: &str,
        now: chrono::DateTime<chrono::Utc>,
        lifetime_s: i64,
    ) -> Result<(String, chrono::DateTime<chrono::Utc>), ApiError> {
        let id = user_id.to_owned();
        let user = self.store(move |s| s.get_user(&id)).await?.ok_or_else(|| {
            ApiError::new(
                ErrorCode::UserNotFound,
                format!("user `{user_id}` does not exist"),
            )
        })?;
        self.issuer.issue(&user, now, lifetime_s)
    }
}

/// The error code a store failure is reported with.
pub fn store_error(e: StoreError) -> ApiError {
    let code = match &e {
        StoreError::UserNotFound(_) => ErrorCode::UserNotFound,
        StoreError::UserExists(_) => ErrorCode::UserAlreadyExists,
        StoreError::ChannelNotExists(_) => ErrorCode::ChannelNotExists,
        StoreError::UserNameTaken(_) => ErrorCode::UserNameTaken,
        StoreError::ContactNotFound(_) => ErrorCode::ContactNotFound,
        StoreError::ContactExists(_) => ErrorCode::ContactAlreadyExists,
        StoreError::ContactsFull => ErrorCode::ContactLimitReached,
        StoreError::Anchor(_) => ErrorCode::MessageAnchorError,
        StoreError::Backend(_) | StoreError::SchemaTooNew { .. } => {
            tracing::error!(error = %e, "store failure");
            ErrorCode::InternalServerError
        }
    };
    ApiError::new(code, e.to_string())
}

pub struct Server {
    addr: SocketAddr,
    /// Held while the server runs: one server per data directory.
    _lock: datadir::DataDirLock,
    /// Serving HTTPS.
    secure: bool,
    state: Arc<AppState>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

const JWT_SECRET_KEY: &str = "jwt_secret";
/// How often, at most, freed memory is handed back to the system.
const TRIM_EVERY: Duration = Duration::from_secs(2);

/// How long a shutdown waits for open sockets to close.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
const API_KEY_KEY: &str = "api_key";

impl Server {
    pub async fn start(config: ServerConfig) -> Result<Server, ServerError> {
        if let Some(key) = &config.api_key {
            check_api_key(key)?;
        }
        if let Some(bad) = config.cors_origins.iter().find(|o| !cors::valid_origin(o)) {
            return Err(ServerError::CorsOrigin(bad.clone()));
        }
        let tls = match &config.tls {
            Some(files) => {
                Some(listen::tls_config(&files.cert, &files.key).map_err(ServerError::Tls)?)
            }
            None => None,
        };
        std::fs::create_dir_all(&config.data_dir).map_err(|source| ServerError::DataDir {
            path: config.data_dir.clone(),
            source,
        })?;
        let lock = datadir::DataDirLock::acquire(&config.data_dir)?;
        let db = datadir::database_path(&config.data_dir);
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db)?);
        let secret = match store.get_setting(JWT_SECRET_KEY)? {
            Some(s) => s,
            None => {
                let s = auth::random_secret(32);
                store.set_setting(JWT_SECRET_KEY, &s)?;
                s
            }
        };
        let api_key = match (&config.api_key, store.get_setting(API_KEY_KEY)?) {
            (Some(k), _) => k.clone(),
            (None, Some(k)) => k,
            (None, None) => {
                let k = auth::random_secret(24);
                store.set_setting(API_KEY_KEY, &k)?;
                k
            }
        };
        let state = Arc::new(AppState {
            store,
            hub: Hub::default(),
            issuer: TokenIssuer::new(secret.as_bytes()),
            api_key,
            token_warning: config.token_warning,
            calls: std::sync::Mutex::new(calls::Calls::new(config.ring_timeout)),
            call_grace: config.call_grace,
            stun_urls: config.stun_urls.clone(),
            turn: config.turn.clone(),
            rates: Rates::new(config.limits.clone()),
            sockets: Arc::new(Sockets::default()),
            trusted_proxies: config.trusted_proxies.clone(),
            cors_origins: config.cors_origins.clone(),
            data_dir: config.data_dir.clone(),
            idle_timeout: config.idle_timeout,
            clock: config.clock,
            call_log: std::sync::OnceLock::new(),
            voicemail: voicemail::Mailbox::new(&config.data_dir, config.voicemail_quota),
            secure: tls.is_some(),
        });
        state.voicemail.reconcile(state.store.as_ref())?;
        state.hub.load_settings(state.store.presence_settings()?);
        let _ = state
            .call_log
            .set(history::start_writer(Arc::downgrade(&state)));
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ServerError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: config.listen,
            source,
        })?;
        let secure = tls.is_some();
        let listener =
            listen::Listener::new(listener, tls).map_err(|source| ServerError::Bind {
                addr: config.listen,
                source,
            })?;
        let app =
            http::router(state.clone()).into_make_service_with_connect_info::<listen::PeerAddr>();
        // Ring timeouts: checked four times a second. Memory freed by sockets that ended
        // goes back to the system every few seconds.
        let ticker_state = Arc::downgrade(&state);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_millis(250));
            let mut last_trim = tokio::time::Instant::now();
            loop {
                every.tick().await;
                let Some(state) = ticker_state.upgrade() else {
                    break;
                };
                let _ = state.with_calls(|c| Ok(((), c.tick(state.clock.utc()))));
                let _ = state.with_calls(|c| {
                    let connected = |u: &str, d: &str| state.hub.device_connected(u, d);
                    Ok((
                        (),
                        c.expire_away(state.clock.utc(), state.call_grace, connected),
                    ))
                });
                if last_trim.elapsed() >= TRIM_EVERY && state.sockets.take_ended() > 0 {
                    last_trim = tokio::time::Instant::now();
                    tokio::task::spawn_blocking(crate::sys::release_free_memory);
                }
            }
        });
        let (tx, rx) = oneshot::channel::<()>();
        let hub_state = state.clone();
        let task = tokio::spawn(async move {
            let closing = hub_state.clone();
            let shutdown = async move {
                let _ = rx.await;
                // WebSocket connections would keep a graceful shutdown waiting forever.
                closing.hub.close_all();
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(error = %e, "server stopped");
            }
            // Upgraded sockets are no longer the HTTP server's: wait for each to send its
            // close frame, so clients see 1001 and not a dropped connection.
            if !hub_state.sockets.wait_idle(SHUTDOWN_GRACE).await {
                tracing::warn!(
                    left = hub_state.sockets.live(),
                    "sockets still open at the end of the shutdown grace period"
                );
            }
        });
        tracing::info!(%addr, db = %db.display(), "server listening");
        Ok(Server {
            addr,
            _lock: lock,
            secure,
            state,
            shutdown: Some(tx),
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        let scheme = if self.secure { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    pub fn api_key(&self) -> &str {
        &self.state.api_key
    }

    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Stops accepting, closes every connection and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), &mut self.task).await;
    }

    /// Waits until the server task ends (it does not on its own).
    pub async fn wait(&mut self) {
        let _ = (&mut self.task).await;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_turn_password_is_hmac_sha1_as_rfc_2202_computes_it() {
        // RFC 2202, test case 2: key "Jefe", data "what do ya want for nothing?",
        // HMAC-SHA1 effcdf6ae5eb2fa2d27416d5f184df9c259a7c79.
        assert_eq!(
            super::turn_password("Jefe", "what do ya want for nothing?"),
            "7/zfauXrL6LSdBbV8YTfnCWafHk="
        );
    }

    #[test]
    fn turn_credentials_follow_the_turn_rest_scheme() {
        // Reference value computed independently (Python's hmac + hashlib).
        let (user, pass) = super::turn_credentials("turn-secret", "alice", 1_800_003_600);
        assert_eq!(user, "1800003600:alice");
        assert_eq!(pass, "tVhfBCwdI1OAu4GIUqr4WLo2rIU=");
    }
}
