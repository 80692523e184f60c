//! The presence routes: what a user sets of their own presence, and anyone's presence.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::Json;

use super::parse_body;
use crate::proto::{ApiError, ErrorCode, Presence, PresenceSetting, MAX_NOTE_CHARS};
use crate::server::error::{bad, ApiResult};
use crate::server::ops::AuthUser;
use crate::server::AppState;

/// A setting as it is kept: the note trimmed, an empty one none; a note too long or with
/// control characters refused.
fn checked(mut setting: PresenceSetting) -> ApiResult<PresenceSetting> {
    if let Some(note) = setting.note.take() {
        let note = note.trim();
        if note.chars().count() > MAX_NOTE_CHARS {
            return Err(bad(
                ErrorCode::ValidationError,
                format!("a presence note holds at most {MAX_NOTE_CHARS} characters"),
            ));
        }
        if note.chars().any(char::is_control) {
            return Err(bad(
                ErrorCode::ValidationError,
                "a presence note is one line of text, without control characters",
            ));
        }
        if !note.is_empty() {
            setting.note = Some(note.to_owned());
        }
    }
    Ok(setting)
}

#[utoipa::path(put, path = "/v1/me/presence", security(("bearer" = [])),
    request_body = PresenceSetting,
    responses((status = 200, body = Presence, description = "Set and kept; everyone following the user gets a `presence` frame"),
              (status = 400, body = ApiError, description = "`validation_error` (a note too long or with control characters), `malformed_request` (an unknown availability or activity)"),
              (status = 401, body = ApiError)))]
pub(super) async fn set_presence(
    auth: AuthUser,
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Presence>> {
    let setting = checked(parse_body(body)?)?;
    let user = auth.user_id.clone();
    let kept = setting.clone();
    state.store(move |s| s.set_presence(&user, &kept)).await?;
    Ok(Json(state.hub.set_setting(&auth.user_id, setting)))
}

#[utoipa::path(get, path = "/v1/users/{user_id}/presence", security(("bearer" = [])),
    params(("user_id" = String, Path)),
    responses((status = 200, body = Presence),
              (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub(super) async fn get_presence(
    _auth: AuthUser,
    State(state): State<Arc<AppState>>,
    Path(user_id): Path<String>,
) -> ApiResult<Json<Presence>> {
    let id = user_id.clone();
    if state.store(move |s| s.get_user(&id)).await?.is_none() {
        return Err(bad(
            ErrorCode::UserNotFound,
            format!("user `{user_id}` does not exist"),
        ));
    }
    Ok(Json(state.hub.presence(&user_id)))
}
