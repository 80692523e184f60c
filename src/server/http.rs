//! REST routes, their authentication, and the OpenAPI document generated from them.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use utoipa::OpenApi;

use super::auth::secrets_equal;
use super::error::{bad, ApiResult, AppError};
use super::hub::close_code;
use super::ops::{
    authenticate, bearer, default_group_name, mark_read, send_message, validate_name,
    validate_user_id, AuthUser,
};
use super::store::Anchor;
use super::AppState;

mod calls;
mod links;
mod people;
mod presence;
mod voicemail;
use crate::proto::{
    ApiError, Channel, ChannelKind, CreateChannel, CreateUser, Credentials, CredentialsRequest,
    Direction, ErrorCode, Health, IceServer, MarkRead, Message, MessagePage, ReadState,
    SendMessage, ServerFrame, User, DEFAULT_EXPIRES_IN, DEFAULT_PAGE, MAX_EXPIRES_IN,
    MAX_FRAME_BYTES, MAX_PAGE, MAX_PARTICIPANTS, MIN_EXPIRES_IN,
};

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
    // Every body is a JSON object (serde would take a struct from an array too).
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(bad(
            ErrorCode::MalformedRequest,
            "the request body is a JSON object",
        ));
    }
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
            // An empty header never matches, whatever the configured key.
            Some(key) if !key.is_empty() && secrets_equal(key, &state.api_key) => Ok(Admin),
            Some(_) => Err(bad(ErrorCode::ApiKeyInvalid, "the apikey header is wrong")),
            None => Err(bad(
                ErrorCode::ApiKeyInvalid,
                "admin routes need the apikey header",
            )),
        }
    }
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
        admin_credentials, admin_backup, me, people::list_users, ice_servers, list_channels,
        create_channel, get_channel, remove_channel, list_messages, post_message, post_read,
        calls::call_history, calls::clear_call_history, calls::delete_call_log,
        calls::mark_calls_seen, voicemail::upload, voicemail::list, voicemail::audio,
        voicemail::mark_heard, voicemail::remove, links::create_link,
        links::admin_create_link, links::join, presence::set_presence, presence::get_presence,
        people::get_user, people::set_own_profile, people::admin_set_profile, people::directory,
        people::list_contacts, people::add_contact, people::update_contact, people::remove_contact
    ),
    components(schemas(ApiError, ErrorCode, Direction)),
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

/// The answers every route of a kind can give, added to each operation that lacks them
/// so the document lists every status the server can send: 500 anywhere; 400 and 413 where
/// there is a body; 401 with a token or the API key; 404 with a token (its user may be
/// gone).
fn add_common_responses(doc: &mut serde_json::Value) {
    use serde_json::json;
    let error = |description: &str| {
        json!({
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}
        })
    };
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for op in item.values_mut() {
            let has_body = op.get("requestBody").is_some();
            let schemes: Vec<String> = op
                .get("security")
                .and_then(|s| s.as_array())
                .into_iter()
                .flatten()
                .filter_map(|r| r.as_object())
                .flat_map(|r| r.keys().cloned())
                .collect();
            let Some(responses) = op.get_mut("responses").and_then(|r| r.as_object_mut()) else {
                continue;
            };
            let mut add = |status: &str, description: &str| {
                responses
                    .entry(status.to_owned())
                    .or_insert_with(|| error(description));
            };
            if has_body {
                add(
                    "400",
                    "`malformed_request` (not JSON for this route) or `validation_error`",
                );
                add("413", "`message_too_large`: the body is over 262144 bytes");
            }
            if schemes.iter().any(|s| s == "bearer") {
                add("401", "A token error: `authentication_error`, `access_token_invalid`, `access_token_invalid_signature`, `access_token_expired`");
                add("404", "`user_not_found`: the token's user no longer exists");
            }
            if schemes.iter().any(|s| s == "apikey") {
                add(
                    "401",
                    "`api_key_invalid`: the apikey header is missing or wrong",
                );
            }
            add("500", "`internal_server_error`");
        }
    }
}

/// Links from the routes that create things to the routes that use them, so tools (and
/// readers) know where a `channel_id` or `user_id` comes from.
fn add_links(doc: &mut serde_json::Value) {
    use serde_json::json;
    let channel_links = json!({
        "GetChannel": {"operationId": "get_channel", "parameters": {"channel_id": "$response.body#/channel_id"}},
        "ListMessages": {"operationId": "list_messages", "parameters": {"channel_id": "$response.body#/channel_id"}},
        "PostMessage": {"operationId": "post_message", "parameters": {"channel_id": "$response.body#/channel_id"}},
        "PostRead": {"operationId": "post_read", "parameters": {"channel_id": "$response.body#/channel_id"}},
        "RemoveChannel": {"operationId": "remove_channel", "parameters": {"channel_id": "$response.body#/channel_id"}}
    });
    let user_links = json!({
        "DeleteUser": {"operationId": "admin_delete_user", "parameters": {"user_id": "$response.body#/user_id"}}
    });
    let contact_links = json!({
        "UpdateContact": {"operationId": "update_contact", "parameters": {"contact_id": "$response.body#/contact_id"}},
        "RemoveContact": {"operationId": "remove_contact", "parameters": {"contact_id": "$response.body#/contact_id"}}
    });
    for (path, method, status, links) in [
        ("/v1/contacts", "post", "201", &contact_links),
        ("/v1/channels", "post", "201", &channel_links),
        ("/v1/channels", "post", "200", &channel_links),
        ("/v1/admin/users", "post", "201", &user_links),
    ] {
        if let Some(response) = doc
            .pointer_mut(&format!(
                "/paths/{}/{method}/responses/{status}",
                path.replace('/', "~1")
            ))
            .and_then(|r| r.as_object_mut())
        {
            response.insert("links".into(), links.clone());
        }
    }
}

/// The OpenAPI document as pretty JSON (committed as `docs/openapi.json`).
pub fn openapi_document() -> String {
    let mut doc = match serde_json::to_value(ApiDoc::openapi()) {
        Ok(v) => v,
        Err(e) => return format!("{{\"error\":\"{e}\"}}"),
    };
    add_common_responses(&mut doc);
    add_links(&mut doc);
    serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
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
        .route("/v1/admin/backup", get(admin_backup))
        .route("/v1/me", get(me))
        .route("/v1/users", get(people::list_users))
        .route("/v1/users/{user_id}", get(people::get_user))
        .route(
            "/v1/me/profile",
            axum::routing::put(people::set_own_profile),
        )
        .route(
            "/v1/admin/users/{user_id}/profile",
            axum::routing::put(people::admin_set_profile),
        )
        .route("/v1/directory", get(people::directory))
        .route(
            "/v1/contacts",
            get(people::list_contacts).post(people::add_contact),
        )
        .route(
            "/v1/contacts/{contact_id}",
            axum::routing::put(people::update_contact).delete(people::remove_contact),
        )
        .route(
            "/v1/me/presence",
            axum::routing::put(presence::set_presence),
        )
        .route("/v1/users/{user_id}/presence", get(presence::get_presence))
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
        .route(
            "/v1/calls/history",
            get(calls::call_history).delete(calls::clear_call_history),
        )
        .route("/v1/calls/history/seen", post(calls::mark_calls_seen))
        .route(
            "/v1/calls/history/{room_id}",
            axum::routing::delete(calls::delete_call_log),
        )
        .route(
            "/v1/voicemail",
            get(voicemail::list)
                .post(voicemail::upload)
                .layer(DefaultBodyLimit::max(crate::proto::MAX_VOICEMAIL_BYTES)),
        )
        .route(
            "/v1/voicemail/{voicemail_id}",
            axum::routing::delete(voicemail::remove),
        )
        .route("/v1/voicemail/{voicemail_id}/audio", get(voicemail::audio))
        .route(
            "/v1/voicemail/{voicemail_id}/heard",
            post(voicemail::mark_heard),
        )
        .route("/v1/calls/{room_id}/links", post(links::create_link))
        .route(
            "/v1/admin/calls/{room_id}/links",
            post(links::admin_create_link),
        )
        .route("/v1/join/{token}", post(links::join))
        .route("/join/{token}", get(links::page))
        .route("/v1/ws", get(super::ws::upgrade))
        .fallback(|| async { bad(ErrorCode::NotFound, "no such route") })
        .method_not_allowed_fallback(|| async {
            bad(
                ErrorCode::MethodNotAllowed,
                "this route does not take that method (see the Allow header)",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_FRAME_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::cors::layer,
        ))
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
    if crate::proto::is_guest(&req.user_id) {
        return Err(bad(
            ErrorCode::ValidationError,
            format!(
                "user ids starting with `{}` are the guests' of access links",
                crate::proto::GUEST_PREFIX
            ),
        ));
    }
    let name = req.display_name.unwrap_or_else(|| req.user_id.clone());
    validate_name(&name, "display_name")?;
    let now = state.clock.utc();
    let user = state
        .store(move |s| s.create_user(&req.user_id, &name, now))
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[utoipa::path(get, path = "/v1/admin/users", security(("apikey" = [])),
    responses((status = 200, body = Vec<User>), (status = 401, body = ApiError)))]
async fn admin_list_users(
    _: Admin,
    State(state): State<Arc<AppState>>,
) -> ApiResult<Json<Vec<User>>> {
    Ok(Json(state.store(super::store::Store::list_users).await?))
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
    let (deleted, mailbox) = state
        .store(move |s| {
            let mailbox: Vec<String> = s
                .voicemails(&id)?
                .into_iter()
                .map(|v| v.voicemail_id)
                .collect();
            Ok((s.delete_user(&id)?, mailbox))
        })
        .await?;
    if !deleted {
        return Err(bad(
            ErrorCode::UserNotFound,
            format!("user `{user_id}` does not exist"),
        ));
    }
    // Their voice messages' files go with the records (a file missed here, of a message
    // left meanwhile, is swept at the next start).
    let files = state.voicemail.clone();
    let _ = tokio::task::spawn_blocking(move || {
        for id in mailbox {
            files.remove(&id);
        }
    })
    .await;
    state.hub.disconnect_user(
        &user_id,
        &ServerFrame::ForceDisconnect {
            reason: "user_deleted".into(),
        },
        close_code::FORCE_DISCONNECT,
    );
    state.hub.forget_setting(&user_id);
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
    let (access_token, expires_at) = state
        .mint_token(&req.user_id, state.clock.utc(), lifetime)
        .await?;
    Ok(Json(Credentials {
        access_token,
        expires_at,
        user_id: req.user_id,
    }))
}

#[utoipa::path(get, path = "/v1/admin/backup", security(("apikey" = [])),
    responses((status = 200, content_type = "application/vnd.sqlite3",
               description = "A consistent copy of the whole database, taken while the server runs")))]
async fn admin_backup(_: Admin, State(state): State<Arc<AppState>>) -> ApiResult<Response> {
    use futures_util::StreamExt;
    let failed = |e: std::io::Error| {
        bad(
            ErrorCode::InternalServerError,
            format!("cannot stage the backup: {e}"),
        )
    };
    let staged = tempfile::Builder::new()
        .prefix(".backup-")
        .suffix(".sqlite3")
        .tempfile_in(&state.data_dir)
        .map_err(failed)?;
    let path = staged.path().to_owned();
    state.store(move |s| s.backup_to(&path)).await?;
    let file = tokio::fs::File::open(staged.path()).await.map_err(failed)?;
    let len = file.metadata().await.map_err(failed)?.len();
    // The open file stays readable once its name is gone; nothing is left behind.
    drop(staged);
    let chunks = futures_util::stream::unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(Bytes::from(buf)), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    })
    .boxed();
    let name = format!(
        "attachment; filename=\"parla-{}.sqlite3\"",
        state.clock.utc().format("%Y%m%dT%H%M%SZ")
    );
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/vnd.sqlite3".to_owned(),
            ),
            (axum::http::header::CONTENT_LENGTH, len.to_string()),
            (axum::http::header::CONTENT_DISPOSITION, name),
        ],
        axum::body::Body::from_stream(chunks),
    )
        .into_response())
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
async fn ice_servers(
    links::AnyAuth(auth): links::AnyAuth,
    State(state): State<Arc<AppState>>,
) -> Json<Vec<IceServer>> {
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
        let (username, credential) = super::turn_credentials(
            &turn.secret,
            &auth.user_id,
            state.clock.utc().timestamp() + ttl,
        );
        servers.push(IceServer {
            urls: turn.urls.clone(),
            username: Some(username),
            credential: Some(credential),
        });
    }
    Json(servers)
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
    for p in &req.participants {
        validate_user_id(p)?;
    }
    let mut others: Vec<String> = req
        .participants
        .iter()
        .filter(|p| **p != auth.user_id)
        .cloned()
        .collect();
    others.sort_unstable();
    others.dedup();
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
            let now = state.clock.utc();
            state
                .store(move |s| s.open_direct_channel(&user, &other, now))
                .await?
        }
        ChannelKind::Group => {
            let name = match req.name {
                Some(name) => name,
                None => default_group_name(&user, &others),
            };
            validate_name(&name, "a group channel's name")?;
            let now = state.clock.utc();
            let ch = state
                .store(move |s| s.create_group_channel(&user, &name, &others, now))
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
#[into_params(parameter_in = Query)]
struct MessagesQuery {
    /// How many messages, 1..=500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    count: Option<u32>,
    /// A sequence number or a message id; the page starts next to it (exclusive).
    anchor: Option<String>,
    /// `backwards` (default: older than the anchor) or `forwards`.
    direction: Option<Direction>,
    /// Only messages whose text contains this (1 to 200 characters; letters compared
    /// without case, A to Z). Pages go on from the anchor as without it.
    search: Option<String>,
}

/// A page size asked for (the default when none): 1 to [`MAX_PAGE`].
fn page_count(count: Option<u32>) -> ApiResult<u32> {
    let count = count.unwrap_or(DEFAULT_PAGE);
    if count == 0 || count > MAX_PAGE {
        return Err(bad(
            ErrorCode::ValidationError,
            format!("count must be between 1 and {MAX_PAGE}"),
        ));
    }
    Ok(count)
}

/// The longest `search` the messages route takes, in characters.
const MAX_SEARCH: usize = 200;

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
    let count = page_count(q.count)?;
    if let Some(search) = &q.search {
        let n = search.chars().count();
        if n == 0 || n > MAX_SEARCH {
            return Err(bad(
                ErrorCode::ValidationError,
                format!("search must be 1 to {MAX_SEARCH} characters"),
            ));
        }
    }
    let anchor = q.anchor.as_deref().map(Anchor::parse);
    let direction = q.direction.unwrap_or_default();
    let search = q.search;
    Ok(Json(
        state
            .store(move |s| {
                s.messages(
                    &auth.user_id,
                    &channel_id,
                    anchor.as_ref(),
                    direction,
                    count,
                    search.as_deref(),
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
              (status = 413, body = ApiError),
              (status = 429, body = ApiError, description = "`rate_limited`: too many messages from this user; `Retry-After` says when to send again",
               headers(("Retry-After" = u64, description = "Seconds to wait"))),
              (status = 500, body = ApiError, description = "`message_not_saved` or `internal_server_error`")))]
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
