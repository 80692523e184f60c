//! The call history routes.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use super::{page_count, parse_query};
use crate::proto::{
    ApiError, CallHistoryChange, CallHistoryPage, ErrorCode, MissedCount, ServerFrame,
};
use crate::server::error::{bad, ApiResult};
use crate::server::ops::AuthUser;
use crate::server::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct CallHistoryQuery {
    /// How many entries, 1..=500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    count: Option<u32>,
    /// Entries older than this `seq` (the last one of the previous page).
    before: Option<u64>,
    /// Only missed calls.
    missed: Option<bool>,
}

#[utoipa::path(get, path = "/v1/calls/history", security(("bearer" = [])),
    params(CallHistoryQuery),
    responses((status = 200, body = CallHistoryPage), (status = 400, body = ApiError)))]
pub(super) async fn call_history(
    auth: AuthUser,
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<CallHistoryPage>> {
    let q: CallHistoryQuery = parse_query(query)?;
    let count = page_count(q.count)?;
    if q.before.is_some_and(|b| i64::try_from(b).is_err()) {
        return Err(bad(
            ErrorCode::ValidationError,
            "before is a seq of the history (at most 2^63 - 1)",
        ));
    }
    let (before, missed) = (q.before, q.missed.unwrap_or(false));
    Ok(Json(
        state
            .store(move |s| {
                let (entries, has_more) = s.call_history(&auth.user_id, count, before, missed)?;
                Ok(CallHistoryPage {
                    entries,
                    has_more,
                    missed_unseen: s.missed_unseen(&auth.user_id)?,
                })
            })
            .await?,
    ))
}

/// Tells the user's devices how their history changed.
async fn history_changed(
    state: &AppState,
    user: String,
    change: CallHistoryChange,
    room_id: Option<String>,
) -> ApiResult<u64> {
    let who = user.clone();
    let missed_unseen = state.store(move |s| s.missed_unseen(&who)).await?;
    state.hub.send_to_users(
        &[user],
        &ServerFrame::CallHistory {
            change,
            entry: None,
            room_id,
            missed_unseen,
        },
        None,
    );
    Ok(missed_unseen)
}

#[utoipa::path(delete, path = "/v1/calls/history", security(("bearer" = [])),
    responses((status = 204, description = "Every entry deleted")))]
pub(super) async fn clear_call_history(
    auth: AuthUser,
    State(state): State<Arc<AppState>>,
) -> ApiResult<StatusCode> {
    let user = auth.user_id.clone();
    state.store(move |s| s.delete_call_log(&user, None)).await?;
    history_changed(&state, auth.user_id, CallHistoryChange::Cleared, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/v1/calls/history/{room_id}", security(("bearer" = [])),
    params(("room_id" = String, Path)),
    responses((status = 204, description = "Deleted"),
              (status = 404, body = ApiError, description = "`call_not_found`: no such entry")))]
pub(super) async fn delete_call_log(
    auth: AuthUser,
    State(state): State<Arc<AppState>>,
    Path(room_id): Path<String>,
) -> ApiResult<StatusCode> {
    let (user, room) = (auth.user_id.clone(), room_id.clone());
    let gone = state
        .store(move |s| s.delete_call_log(&user, Some(&room)))
        .await?;
    if gone == 0 {
        return Err(bad(
            ErrorCode::CallNotFound,
            format!("no call `{room_id}` in your history"),
        ));
    }
    history_changed(
        &state,
        auth.user_id,
        CallHistoryChange::Deleted,
        Some(room_id),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/calls/history/seen", security(("bearer" = [])),
    responses((status = 200, body = MissedCount)))]
pub(super) async fn mark_calls_seen(
    auth: AuthUser,
    State(state): State<Arc<AppState>>,
) -> ApiResult<Json<MissedCount>> {
    let user = auth.user_id.clone();
    state.store(move |s| s.mark_calls_seen(&user)).await?;
    let missed_unseen =
        history_changed(&state, auth.user_id, CallHistoryChange::Seen, None).await?;
    Ok(Json(MissedCount { missed_unseen }))
}
