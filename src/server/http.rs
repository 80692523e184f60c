//! REST routes, their authentication, and the OpenAPI document generated from them.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use utoipa::OpenApi;

use super::auth::secrets_equal;
use super::hub::{close_code, ConnId};
use super::store::Anchor;
use super::AppState;
use crate::proto::*;

/// An error answer: the status follows from the code, the body is [`ApiError`].
#[derive(Debug)]
pub struct AppError(pub ApiError);

impl From<ApiError> for AppError {
    fn from(e: ApiError) -> Self {
        AppError(e)
    }
}

pub fn status_of(code: ErrorCode) -> StatusCode {
    use ErrorCode::*;
    match code {
        ValidationError | MalformedRequest | UnknownFrameType | MessageAnchorError => {
            StatusCode::BAD_REQUEST
        }
        AuthenticationError
        | ApiKeyInvalid
        | AccessTokenExpired
        | AccessTokenInvalid
        | AccessTokenInvalidSignature
        | AccessTokenInvalidUser => StatusCode::UNAUTHORIZED,
        UserNotFound | ChannelNotExists | NotFound => StatusCode::NOT_FOUND,
        UserAlreadyExists
        | AnotherCallInProgress
        | CurrentUserBusy
        | AllUsersBusy
        | InvalidCallStatus => StatusCode::CONFLICT,
        CallNotFound => StatusCode::NOT_FOUND,
        MessageTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        MessageNotSaved | InternalServerError => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        (status_of(self.0.code), Json(self.0)).into_response()
    }
}

type ApiResult<T> = Result<T, AppError>;

fn bad(code: ErrorCode, msg: impl Into<String>) -> AppError {
    AppError(ApiError::new(code, msg))
}

/// Parses a JSON body, answering `malformed_request` or `message_too_large` instead of
/// axum's plain-text rejections.
fn parse_body<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> ApiResult<T> {
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            bad(
                ErrorCode::MessageTooLarge,
                format!("request bodies are limited to {MAX_FRAME_BYTES} bytes"),
            )
        } else {
            bad(ErrorCode::MalformedRequest, e.body_text())
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        bad(
            ErrorCode::MalformedRequest,
            format!("invalid request body: {e}"),
        )
    })
}

fn parse_query<T: DeserializeOwned>(query: Option<String>) -> ApiResult<T> {
    serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
        .map_err(|e| bad(ErrorCode::ValidationError, format!("invalid query: {e}")))
}

// ---------------------------------------------------------------------------------------
// Validation shared with the WebSocket side
// ---------------------------------------------------------------------------------------

pub fn validate_user_id(id: &str) -> Result<(), ApiError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_USER_ID_BYTES
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::ValidationError,
            format!(
                "user ids are 1 to {MAX_USER_ID_BYTES} characters of A-Z a-z 0-9 _ - . @ (got {id:?})"
            ),
        ))
    }
}

fn validate_name(name: &str, what: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() || name.len() > MAX_NAME_BYTES || name.chars().any(char::is_control) {
        return Err(ApiError::new(
            ErrorCode::ValidationError,
            format!("{what} must be 1 to {MAX_NAME_BYTES} bytes of printable text"),
        ));
    }
    Ok(())
}

pub fn validate_text(text: &str) -> Result<(), ApiError> {
    if text.trim().is_empty() {
        return Err(ApiError::new(
            ErrorCode::ValidationError,
            "message text must not be empty",
        ));
    }
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(ApiError::new(
            ErrorCode::MessageTooLarge,
            format!(
                "message text is {} bytes; the limit is {MAX_MESSAGE_BYTES}",
                text.len()
            ),
        ));
    }
    Ok(())
}

fn validate_client_id(id: &str) -> Result<(), ApiError> {
    if id.is_empty() || id.len() > 128 {
        return Err(ApiError::new(
            ErrorCode::ValidationError,
            "client_id must be 1 to 128 bytes",
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Authentication
// ---------------------------------------------------------------------------------------

/// A request authorised with the admin `apikey` header.
pub struct Admin;

impl FromRequestParts<Arc<AppState>> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        match parts.headers.get("apikey").and_then(|v| v.to_str().ok()) {
            Some(key) if secrets_equal(key, &state.api_key) => Ok(Admin),
            Some(_) => Err(bad(ErrorCode::ApiKeyInvalid, "the apikey header is wrong")),
            None => Err(bad(
                ErrorCode::ApiKeyInvalid,
                "admin routes need the apikey header",
            )),
        }
    }
}

/// A request authorised with a user's access token.
pub struct AuthUser {
    pub user_id: String,
    pub expires_at: chrono::DateTime<Utc>,
}

pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// Verifies a token and that its user still exists.
pub async fn authenticate(state: &AppState, token: Option<&str>) -> Result<AuthUser, ApiError> {
    let token = token.ok_or_else(|| {
        ApiError::new(
            ErrorCode::AuthenticationError,
            "missing access token (Authorization: Bearer ...)",
        )
    })?;
    let claims = state.issuer.verify(token)?;
    let user_id = claims.sub.clone();
    let user = state
        .store(move |s| s.get_user(&user_id))
        .await?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::UserNotFound,
                format!("user `{}` does not exist", claims.sub),
            )
        })?;
    if user.created_at.timestamp_millis() != claims.gen {
        return Err(ApiError::new(
            ErrorCode::AccessTokenInvalid,
            format!(
                "the access token was issued to an earlier user `{}` that has been deleted",
                claims.sub
            ),
        ));
    }
    Ok(AuthUser {
        expires_at: claims.expires_at(),
        user_id: claims.sub,
    })
}

impl FromRequestParts<Arc<AppState>> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        Ok(authenticate(state, bearer(&parts.headers)).await?)
    }
}

// ---------------------------------------------------------------------------------------
// Operations shared by REST and WebSocket
// ---------------------------------------------------------------------------------------

/// Validates, stores and fans out a message. `origin` is the connection that sent it (it
/// gets an `ack` instead of the `message` frame).
pub async fn send_message(
    state: &AppState,
    user: &str,
    channel_id: &str,
    body: SendMessage,
    origin: Option<ConnId>,
) -> Result<(Message, bool), ApiError> {
    validate_text(&body.text)?;
    let client_id = match body.client_id {
        Some(id) => {
            validate_client_id(&id)?;
            id
        }
        None => uuid::Uuid::new_v4().to_string(),
    };
    let (u, ch, text) = (user.to_owned(), channel_id.to_owned(), body.text);
    let stored = state
        .store(move |s| s.insert_message(&u, &ch, &client_id, &text, Utc::now()))
        .await
        .map_err(|e| match e.code {
            ErrorCode::InternalServerError => ApiError::new(ErrorCode::MessageNotSaved, e.message),
            _ => e,
        })?;
    if stored.inserted {
        let frame = ServerFrame::Message {
            message: stored.message.clone(),
        };
        state
            .hub
            .send_to_users(&stored.participants, &frame, origin);
    }
    Ok((stored.message, stored.inserted))
}

/// Moves the read mark and tells every device of the user (the origin with its `req_id`).
pub async fn mark_read(
    state: &AppState,
    user: &str,
    channel_id: &str,
    seq: u64,
    origin: Option<ConnId>,
) -> Result<ReadState, ApiError> {
    let (u, ch) = (user.to_owned(), channel_id.to_owned());
    let read = state.store(move |s| s.mark_read(&u, &ch, seq)).await?;
    let frame = ServerFrame::Read {
        req_id: None,
        state: read.clone(),
    };
    state
        .hub
        .send_to_users(std::iter::once(&user.to_owned()), &frame, origin);
    Ok(read)
}

// ---------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------

#[derive(OpenApi)]
#[openapi(
    info(
        title = "parla",
        description = "REST API of parla serve. Live events use the WebSocket at /v1/ws, described in docs/protocol.md."
    ),
    paths(
        health, openapi_json, admin_create_user, admin_list_users, admin_delete_user,
        admin_credentials, me, list_users, ice_servers, list_channels, create_channel, get_channel,
        remove_channel, list_messages, post_message, post_read
    ),
    components(schemas(ApiError, ErrorCode)),
    modifiers(&SecuritySchemes)
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::SecurityScheme;
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "apikey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("apikey"))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document as pretty JSON (committed as `docs/openapi.json`).
pub fn openapi_document() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/openapi.json", get(openapi_json))
        .route(
            "/v1/admin/users",
            post(admin_create_user).get(admin_list_users),
        )
        .route(
            "/v1/admin/users/{user_id}",
            axum::routing::delete(admin_delete_user),
        )
        .route("/v1/admin/credentials", post(admin_credentials))
        .route("/v1/me", get(me))
        .route("/v1/users", get(list_users))
        .route("/v1/ice-servers", get(ice_servers))
        .route("/v1/channels", get(list_channels).post(create_channel))
        .route(
            "/v1/channels/{channel_id}",
            get(get_channel).delete(remove_channel),
        )
        .route(
            "/v1/channels/{channel_id}/messages",
            get(list_messages).post(post_message),
        )
        .route("/v1/channels/{channel_id}/read", post(post_read))
        .route("/v1/ws", get(super::ws::upgrade))
        .fallback(|| async { bad(ErrorCode::NotFound, "no such route") })
        .layer(DefaultBodyLimit::max(MAX_FRAME_BYTES))
        .with_state(state)
}

#[utoipa::path(get, path = "/v1/health", responses((status = 200, body = Health)))]
async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

#[utoipa::path(get, path = "/v1/openapi.json", responses((status = 200, description = "This document")))]
async fn openapi_json() -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        openapi_document(),
    )
}

#[utoipa::path(post, path = "/v1/admin/users", request_body = CreateUser,
    security(("apikey" = [])),
    responses((status = 201, body = User), (status = 400, body = ApiError),
              (status = 401, body = ApiError), (status = 409, body = ApiError)))]
async fn admin_create_user(
    _: Admin,
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let req: CreateUser = parse_body(body)?;
    validate_user_id(&req.user_id)?;
    let name = req.display_name.unwrap_or_else(|| req.user_id.clone());
    validate_name(&name, "display_name")?;
    let user = state
        .store(move |s| s.create_user(&req.user_id, &name, Utc::now()))
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[utoipa::path(get, path = "/v1/admin/users", security(("apikey" = [])),
    responses((status = 200, body = Vec<User>), (status = 401, body = ApiError)))]
async fn admin_list_users(
    _: Admin,
    State(state): State<Arc<AppState>>,
) -> ApiResult<Json<Vec<User>>> {
    Ok(Json(state.store(|s| s.list_users()).await?))
}

#[utoipa::path(delete, path = "/v1/admin/users/{user_id}", security(("apikey" = [])),
    params(("user_id" = String, Path)),
    responses((status = 204, description = "Deleted; the user's live sessions get force_disconnect"),
              (status = 401, body = ApiError), (status = 404, body = ApiError)))]
async fn admin_delete_user(
    _: Admin,
    State(state): State<Arc<AppState>>,
    Path(user_id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = user_id.clone();
    if !state.store(move |s| s.delete_user(&id)).await? {
        return Err(bad(
            ErrorCode::UserNotFound,
            format!("user `{user_id}` does not exist"),
        ));
    }
    state.hub.disconnect_user(
        &user_id,
        &ServerFrame::ForceDisconnect {
            reason: "user_deleted".into(),
        },
        close_code::FORCE_DISCONNECT,
    );
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/admin/credentials", request_body = CredentialsRequest,
    security(("apikey" = [])),
    responses((status = 200, body = Credentials), (status = 400, body = ApiError),
              (status = 401, body = ApiError), (status = 404, body = ApiError)))]
async fn admin_credentials(
    _: Admin,
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Credentials>> {
    let req: CredentialsRequest = parse_body(body)?;
    let expires_in = req.expires_in.unwrap_or(DEFAULT_EXPIRES_IN);
    if !(MIN_EXPIRES_IN..=MAX_EXPIRES_IN).contains(&expires_in) {
        return Err(bad(
            ErrorCode::ValidationError,
            format!("expires_in must be between {MIN_EXPIRES_IN} and {MAX_EXPIRES_IN} seconds"),
        ));
    }
    let lifetime = i64::try_from(expires_in).unwrap_or(i64::MAX);
    let (access_token, expires_at) = state.mint_token(&req.user_id, Utc::now(), lifetime).await?;
    Ok(Json(Credentials {
        access_token,
        expires_at,
        user_id: req.user_id,
    }))
}

#[utoipa::path(get, path = "/v1/me", security(("bearer" = [])),
    responses((status = 200, body = User), (status = 401, body = ApiError)))]
async fn me(auth: AuthUser, State(state): State<Arc<AppState>>) -> ApiResult<Json<User>> {
    let id = auth.user_id.clone();
    let user = state.store(move |s| s.get_user(&id)).await?;
    user.map(Json).ok_or_else(|| {
        bad(
            ErrorCode::UserNotFound,
            format!("user `{}` does not exist", auth.user_id),
        )
    })
}

#[utoipa::path(get, path = "/v1/ice-servers", security(("bearer" = [])),
    responses((status = 200, body = Vec<IceServer>), (status = 401, body = ApiError)))]
async fn ice_servers(auth: AuthUser, State(state): State<Arc<AppState>>) -> Json<Vec<IceServer>> {
    let mut servers = Vec::new();
    if !state.stun_urls.is_empty() {
        servers.push(IceServer {
            urls: state.stun_urls.clone(),
            username: None,
            credential: None,
        });
    }
    if let Some(turn) = &state.turn {
        let ttl = i64::try_from(turn.ttl.as_secs()).unwrap_or(86_400);
        let (username, credential) =
            super::turn_credentials(&turn.secret, &auth.user_id, Utc::now().timestamp() + ttl);
        servers.push(IceServer {
            urls: turn.urls.clone(),
            username: Some(username),
            credential: Some(credential),
        });
    }
    Json(servers)
}

#[derive(Deserialize, utoipa::IntoParams)]
struct UsersQuery {
    /// Only users with at least one connected device.
    #[serde(default)]
    online: Option<bool>,
}

#[utoipa::path(get, path = "/v1/users", security(("bearer" = [])), params(UsersQuery),
    responses((status = 200, body = Vec<UserEntry>), (status = 401, body = ApiError)))]
async fn list_users(
    _auth: AuthUser,
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Vec<UserEntry>>> {
    let q: UsersQuery = parse_query(query)?;
    let users = state.store(|s| s.list_users()).await?;
    let entries = users
        .into_iter()
        .map(|u| UserEntry {
            presence: state.hub.presence(&u.user_id),
            user_id: u.user_id,
            display_name: u.display_name,
        })
        .filter(|e| !q.online.unwrap_or(false) || e.presence.status != PresenceStatus::Offline)
        .collect();
    Ok(Json(entries))
}

#[utoipa::path(get, path = "/v1/channels", security(("bearer" = [])),
    responses((status = 200, body = Vec<Channel>), (status = 401, body = ApiError)))]
async fn list_channels(
    auth: AuthUser,
    State(state): State<Arc<AppState>>,
) -> ApiResult<Json<Vec<Channel>>> {
    Ok(Json(
        state
            .store(move |s| s.channels_for_user(&auth.user_id))
            .await?,
    ))
}

#[utoipa::path(post, path = "/v1/channels", security(("bearer" = [])), request_body = CreateChannel,
    responses((status = 201, body = Channel, description = "Created"),
              (status = 200, body = Channel, description = "The direct channel that already existed"),
              (status = 400, body = ApiError), (status = 404, body = ApiError)))]
async fn create_channel(
    auth: AuthUser,
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Channel>)> {
    let req: CreateChannel = parse_body(body)?;
    let others: Vec<String> = req
        .participants
        .iter()
        .filter(|p| **p != auth.user_id)
        .cloned()
        .collect();
    for p in &req.participants {
        validate_user_id(p)?;
    }
    if others.is_empty() {
        return Err(bad(
            ErrorCode::ValidationError,
            "a channel needs at least one participant besides you",
        ));
    }
    if others.len() >= MAX_PARTICIPANTS {
        return Err(bad(
            ErrorCode::ValidationError,
            format!("a channel has at most {MAX_PARTICIPANTS} participants"),
        ));
    }
    let kind = req
        .kind
        .unwrap_or(if others.len() == 1 && req.name.is_none() {
            ChannelKind::Direct
        } else {
            ChannelKind::Group
        });
    let user = auth.user_id.clone();
    let (channel, created) = match kind {
        ChannelKind::Direct => {
            if others.len() != 1 {
                return Err(bad(
                    ErrorCode::ValidationError,
                    "a direct channel has exactly one other participant",
                ));
            }
            let other = others[0].clone();
            state
                .store(move |s| s.open_direct_channel(&user, &other, Utc::now()))
                .await?
        }
        ChannelKind::Group => {
            let name = req.name.unwrap_or_default();
            validate_name(&name, "a group channel's name")?;
            let ch = state
                .store(move |s| s.create_group_channel(&user, &name, &others, Utc::now()))
                .await?;
            (ch, true)
        }
    };
    if created {
        state.hub.send_to_users(
            &channel.participants,
            &ServerFrame::ChannelAdded {
                channel: channel.clone(),
            },
            None,
        );
    }
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(channel)))
}

#[utoipa::path(get, path = "/v1/channels/{channel_id}", security(("bearer" = [])),
    params(("channel_id" = String, Path)),
    responses((status = 200, body = Channel), (status = 404, body = ApiError)))]
async fn get_channel(
    auth: AuthUser,
    State(state): State<Arc<AppState>>,
    Path(channel_id): Path<String>,
) -> ApiResult<Json<Channel>> {
    Ok(Json(
        state
            .store(move |s| s.channel(&auth.user_id, &channel_id))
            .await?,
    ))
}

#[utoipa::path(delete, path = "/v1/channels/{channel_id}", security(("bearer" = [])),
    params(("channel_id" = String, Path)),
    responses((status = 204, description = "Removed with all its messages"),
              (status = 404, body = ApiError)))]
async fn remove_channel(
    auth: AuthUser,
    State(state): State<Arc<AppState>>,
    Path(channel_id): Path<String>,
) -> ApiResult<StatusCode> {
    let ch = channel_id.clone();
    let participants = state
        .store(move |s| s.remove_channel(&auth.user_id, &ch))
        .await?;
    state.hub.send_to_users(
        &participants,
        &ServerFrame::ChannelRemoved {
            channel_id,
            participants: participants.clone(),
        },
        None,
    );
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
struct MessagesQuery {
    /// How many messages, 1..=500 (default 50).
    count: Option<u32>,
    /// A sequence number or a message id; the page starts next to it (exclusive).
    anchor: Option<String>,
    /// `backwards` (default: older than the anchor) or `forwards`.
    direction: Option<Direction>,
}

#[utoipa::path(get, path = "/v1/channels/{channel_id}/messages", security(("bearer" = [])),
    params(("channel_id" = String, Path), MessagesQuery),
    responses((status = 200, body = MessagePage), (status = 400, body = ApiError),
              (status = 404, body = ApiError)))]
async fn list_messages(
    auth: AuthUser,
    State(state): State<Arc<AppState>>,
    Path(channel_id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<MessagePage>> {
    let q: MessagesQuery = parse_query(query)?;
    let count = q.count.unwrap_or(DEFAULT_PAGE);
    if count == 0 || count > MAX_PAGE {
        return Err(bad(
            ErrorCode::ValidationError,
            format!("count must be between 1 and {MAX_PAGE}"),
        ));
    }
    let anchor = q.anchor.as_deref().map(Anchor::parse);
    let direction = q.direction.unwrap_or_default();
    Ok(Json(
        state
            .store(move |s| {
                s.messages(
                    &auth.user_id,
                    &channel_id,
                    anchor.as_ref(),
                    direction,
                    count,
                )
            })
            .await?,
    ))
}

#[utoipa::path(post, path = "/v1/channels/{channel_id}/messages", security(("bearer" = [])),
    params(("channel_id" = String, Path)), request_body = SendMessage,
    responses((status = 201, body = Message, description = "Stored"),
              (status = 200, body = Message, description = "Stored before under the same client_id"),
              (status = 400, body = ApiError), (status = 404, body = ApiError),
              (status = 413, body = ApiError), (status = 500, body = ApiError)))]
async fn post_message(
    auth: AuthUser,
    State(state): State<Arc<AppState>>,
    Path(channel_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Message>)> {
    let req: SendMessage = parse_body(body)?;
    let (message, inserted) = send_message(&state, &auth.user_id, &channel_id, req, None).await?;
    let status = if inserted {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(message)))
}

#[utoipa::path(post, path = "/v1/channels/{channel_id}/read", security(("bearer" = [])),
    params(("channel_id" = String, Path)), request_body = MarkRead,
    responses((status = 200, body = ReadState), (status = 404, body = ApiError)))]
async fn post_read(
    auth: AuthUser,
    State(state): State<Arc<AppState>>,
    Path(channel_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<ReadState>> {
    let req: MarkRead = parse_body(body)?;
    Ok(Json(
        mark_read(&state, &auth.user_id, &channel_id, req.seq, None).await?,
    ))
}
