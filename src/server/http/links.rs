//! Access links: made for a live call by one of its parties (or the admin), exchanged by
//! whoever opens one for a session restricted to that call, and the page a browser opens.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse};
use axum::Json;

use super::{parse_body, Admin};
use crate::proto::{
    is_guest, ApiError, CallLink, ChannelKind, CreateLinkRequest, ErrorCode, JoinRequest,
    LinkSession, ServerFrame, GUEST_PREFIX, LINK_SESSION_S,
};
use crate::server::auth::LinkClaim;
use crate::server::error::{bad, ApiResult, AppError};
use crate::server::ops::AuthUser;
use crate::server::ops::{authenticate, authenticate_any, bearer, validate_name, validate_user_id};
use crate::server::AppState;

/// The page a browser opens at an access link: plain HTML and JavaScript, no build step.
const JOIN_PAGE: &str = include_str!("join.html");

/// A request authorised with an access token or a link session's token (the few routes a
/// link session may use).
pub(super) struct AnyAuth(pub AuthUser);

impl FromRequestParts<Arc<AppState>> for AnyAuth {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        Ok(AnyAuth(
            authenticate_any(state, bearer(&parts.headers)).await?,
        ))
    }
}

/// A body that may be empty (all defaults).
fn optional_body<T: serde::de::DeserializeOwned + Default>(
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<T> {
    match &body {
        Ok(b) if b.iter().all(u8::is_ascii_whitespace) => Ok(T::default()),
        _ => parse_body(body),
    }
}

/// `{scheme}://{host}`, as the request reached the server.
fn origin(state: &AppState, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost");
    let scheme = if state.secure { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// Makes a link for `room_id`: the call's chat channel first, when it has none yet (a group
/// channel of its parties who have accounts; guests are added as they come).
async fn make_link(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    room_id: String,
    by: Option<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<CallLink>)> {
    let req: CreateLinkRequest = optional_body(body)?;
    if let Some(u) = &req.user_id {
        validate_user_id(u)?;
        let user = u.clone();
        if state.store(move |s| s.get_user(&user)).await?.is_none() {
            return Err(bad(
                ErrorCode::UserNotFound,
                format!("user `{u}` does not exist"),
            ));
        }
    }
    let (members, channel) = state.with_calls(|c| {
        c.link_members(&room_id, by.as_deref())
            .map(|m| (m, Vec::new()))
    })?;
    let channel_id = match channel {
        Some(id) => id,
        None => {
            let creator = members.first().cloned().unwrap_or_default();
            let others: Vec<String> = members.iter().skip(1).cloned().collect();
            let name = format!("Call: {}", members.join(", "));
            let name: String = name.chars().take(crate::proto::MAX_NAME_CHARS).collect();
            let now = state.clock.utc();
            let ch = state
                .store(move |s| s.create_group_channel(&creator, &name, &others, now))
                .await?;
            debug_assert_eq!(ch.kind, ChannelKind::Group);
            state.hub.send_to_users(
                &ch.participants,
                &ServerFrame::ChannelAdded {
                    channel: ch.clone(),
                },
                None,
            );
            ch.channel_id
        }
    };
    let (link_id, token, channel_id) = state.with_calls(|c| {
        c.add_link(&room_id, by.as_deref(), req.user_id.as_deref(), &channel_id)
            .map(|l| (l, Vec::new()))
    })?;
    let link = CallLink {
        url: format!("{}/join/{token}", origin(state, headers)),
        link_id,
        room_id,
        token,
        channel_id,
        created_by: by.unwrap_or_else(|| "admin".into()),
        created_at: state.clock.utc(),
        user_id: req.user_id,
    };
    tracing::info!(link = %link.link_id, room = %link.room_id, by = %link.created_by, "access link made");
    Ok((StatusCode::CREATED, Json(link)))
}

#[utoipa::path(post, path = "/v1/calls/{room_id}/links", security(("bearer" = [])),
    params(("room_id" = String, Path)),
    request_body(content = CreateLinkRequest, description = "Optional: whom the link admits"),
    responses((status = 201, body = CallLink), (status = 404, body = ApiError),
              (status = 409, body = ApiError)))]
pub(super) async fn create_link(
    auth: AuthUser,
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(room_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<CallLink>)> {
    make_link(&state, &headers, room_id, Some(auth.user_id), body).await
}

#[utoipa::path(post, path = "/v1/admin/calls/{room_id}/links", security(("apikey" = [])),
    params(("room_id" = String, Path)),
    request_body(content = CreateLinkRequest, description = "Optional: whom the link admits"),
    responses((status = 201, body = CallLink), (status = 404, body = ApiError),
              (status = 409, body = ApiError)))]
pub(super) async fn admin_create_link(
    _: Admin,
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(room_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<CallLink>)> {
    make_link(&state, &headers, room_id, None, body).await
}

#[utoipa::path(post, path = "/v1/join/{token}",
    params(("token" = String, Path)),
    request_body(content = JoinRequest, description = "Optional: a guest's name, or the access token of the user the link is for"),
    responses((status = 201, body = LinkSession), (status = 403, body = ApiError),
              (status = 404, body = ApiError), (status = 409, body = ApiError)))]
pub(super) async fn join(
    State(state): State<Arc<AppState>>,
    Path(token): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<LinkSession>)> {
    let req: JoinRequest = optional_body(body)?;
    let grant = state
        .calls
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .link_by_token(&token)?;
    let channel_id = grant.channel_id.clone().unwrap_or_default();
    let now = state.clock.utc();
    let claim = |guest_name: Option<String>| LinkClaim {
        link_id: grant.link_id.clone(),
        room_id: grant.room_id.clone(),
        channel_id: channel_id.clone(),
        guest_name,
    };
    let not_theirs = |who: &str| {
        AppError(ApiError::new(
            ErrorCode::UserNotAssociatedToLink,
            format!("the access link is not for {who}"),
        ))
    };
    let session = match (&grant.user_id, req.access_token.as_deref()) {
        // A link for one user: they present their own access token.
        (Some(for_user), token) => {
            let auth = match token {
                Some(t) => authenticate(&state, Some(t)).await?,
                None => return Err(not_theirs("a guest")),
            };
            if &auth.user_id != for_user {
                return Err(not_theirs(&format!("`{}`", auth.user_id)));
            }
            state.hub.may_connect(for_user, true)?;
            let uid = for_user.clone();
            let user = state
                .store(move |s| s.get_user(&uid))
                .await?
                .ok_or_else(|| bad(ErrorCode::UserNotFound, "the user no longer exists"))?;
            let (access_token, expires_at) = state.issuer.issue_link(
                for_user,
                user.created_at.timestamp_millis(),
                claim(None),
                now,
                LINK_SESSION_S,
            )?;
            // They chat in the call's channel like its other parties.
            let (ch, uid) = (channel_id.clone(), for_user.clone());
            state.store(move |s| s.add_call_member(&ch, &uid)).await?;
            LinkSession {
                access_token,
                expires_at,
                user_id: user.user_id,
                display_name: user.display_name,
                guest: false,
                room_id: grant.room_id.clone(),
                channel_id: channel_id.clone(),
            }
        }
        (None, Some(_)) => {
            return Err(bad(
                ErrorCode::ValidationError,
                "this access link is for guests: join without an access token",
            ))
        }
        (None, None) => {
            let name = req.display_name.unwrap_or_else(|| "Guest".into());
            let name = name.trim().to_owned();
            validate_name(&name, "display_name")?;
            let user_id = format!(
                "{GUEST_PREFIX}{}",
                &uuid::Uuid::new_v4().simple().to_string()[..12]
            );
            debug_assert!(is_guest(&user_id));
            let (access_token, expires_at) = state.issuer.issue_link(
                &user_id,
                0,
                claim(Some(name.clone())),
                now,
                LINK_SESSION_S,
            )?;
            let (ch, uid) = (channel_id.clone(), user_id.clone());
            state.store(move |s| s.add_call_member(&ch, &uid)).await?;
            LinkSession {
                access_token,
                expires_at,
                user_id,
                display_name: name,
                guest: true,
                room_id: grant.room_id.clone(),
                channel_id: channel_id.clone(),
            }
        }
    };
    tracing::info!(link = %grant.link_id, user = %session.user_id, "access link used");
    Ok((StatusCode::CREATED, Json(session)))
}

/// `GET /join/{token}`: the page that joins the call from a browser (it reads the token
/// from its own address).
pub(super) async fn page() -> impl IntoResponse {
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                 connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
            ),
        ],
        Html(JOIN_PAGE),
    )
}
