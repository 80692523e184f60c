//! The voice message routes: leaving one after an unanswered call, and the recipient's
//! mailbox (list, play, mark heard, delete).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;

use super::parse_query;
use crate::proto::{
    ogg, ApiError, CallLogEntry, ErrorCode, ServerFrame, Voicemail, VoicemailBox, VoicemailChange,
    VoicemailIndicator, MAX_VOICEMAIL_BYTES, MAX_VOICEMAIL_S,
};
use crate::server::error::{bad, ApiResult};
use crate::server::history::entry_for;
use crate::server::ops::{message_outcome, store_message, AuthUser};
use crate::server::store::{NewMessage, VoicemailAdded};
use crate::server::voicemail::{announcement, indicator, recipient, Mailbox};
use crate::server::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct UploadQuery {
    /// The unanswered call the message is left after.
    room_id: String,
}

/// The mailbox's indicator, and it pushed to the user's devices with what changed.
async fn changed(
    state: &AppState,
    user: String,
    change: VoicemailChange,
    voicemail_id: String,
    voicemail: Option<Voicemail>,
) -> ApiResult<VoicemailIndicator> {
    let who = user.clone();
    let counts = state.store(move |s| s.voicemail_counts(&who)).await?;
    let indicator = indicator(counts, state.voicemail.quota_bytes);
    state.hub.send_to_users(
        &[user],
        &ServerFrame::Voicemail {
            change,
            voicemail_id,
            voicemail,
            indicator: indicator.clone(),
        },
        None,
    );
    Ok(indicator)
}

#[utoipa::path(post, path = "/v1/voicemail", security(("bearer" = [])),
    params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "The message as Opus in Ogg (an `audio/ogg` file, mono or stereo), at most 120 s and 1 MiB; the Content-Type header is not looked at"),
    responses((status = 201, body = Voicemail),
              (status = 400, body = ApiError, description = "`voicemail_invalid`: not a whole Ogg Opus file, or no audio in it; `validation_error`: no `room_id`"),
              (status = 409, body = ApiError, description = "`voicemail_not_allowed`: no unanswered call of yours to one person with this `room_id` ended in the last 10 minutes, or a message was left for it already"),
              (status = 413, body = ApiError, description = "`voicemail_too_long`: over 120 s or 1 MiB"),
              (status = 507, body = ApiError, description = "`voicemail_quota_exceeded`: the recipient's mailbox is full")))]
pub(super) async fn upload(
    auth: AuthUser,
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Voicemail>)> {
    let q: UploadQuery = parse_query(query)?;
    let now = state.clock.utc();
    let from = auth.user_id;
    let to = recipient(&ended_call(&state, &from, &q.room_id).await?, now)?;
    let (bytes, duration_ms) = checked_audio(body)?;
    let (user, quota) = (to.clone(), state.voicemail.quota_bytes);
    // Refused early when plainly full; the store checks again as it adds the message.
    let (_, _, used) = state.store(move |s| s.voicemail_counts(&user)).await?;
    if used + bytes.len() as u64 > quota {
        return Err(bad(
            ErrorCode::VoicemailQuotaExceeded,
            format!("{to}'s mailbox is full"),
        ));
    }
    let mut voicemail = Voicemail {
        voicemail_id: Mailbox::new_id(),
        from,
        room_id: q.room_id,
        created_at: now,
        duration_ms,
        bytes: bytes.len() as u64,
        heard: false,
        message_id: None,
    };
    store(&state, &to, &voicemail, bytes).await?;
    match announce(&state, &voicemail, &to).await {
        Ok(message_id) => voicemail.message_id = Some(message_id),
        // The message is kept all the same; only its announcement is missing.
        Err(e) => tracing::warn!(error = %e.0, "a voice message was not announced"),
    }
    changed(
        &state,
        to,
        VoicemailChange::Added,
        voicemail.voicemail_id.clone(),
        Some(voicemail.clone()),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(voicemail)))
}

/// `user`'s record of the ended call `room_id`: from the call rooms (ended calls stay there
/// for minutes), or from their history (after a restart).
async fn ended_call(state: &AppState, user: &str, room_id: &str) -> ApiResult<CallLogEntry> {
    let live = state
        .calls
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(room_id)
        .map(|c| entry_for(c, user));
    let entry = match live {
        Some(entry) => entry,
        None => {
            let (u, room) = (user.to_owned(), room_id.to_owned());
            state.store(move |s| s.call_log_entry(&u, &room)).await?
        }
    };
    entry.ok_or_else(|| {
        bad(
            ErrorCode::VoicemailNotAllowed,
            format!("no ended call `{room_id}` of yours"),
        )
    })
}

/// The upload, when it is a whole Ogg Opus file within the limits, and its length in
/// milliseconds.
fn checked_audio(body: Result<Bytes, BytesRejection>) -> ApiResult<(Bytes, u64)> {
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            bad(
                ErrorCode::VoicemailTooLong,
                format!("voice messages are limited to {MAX_VOICEMAIL_BYTES} bytes"),
            )
        } else {
            bad(ErrorCode::VoicemailInvalid, e.body_text())
        }
    })?;
    let audio = ogg::parse(&bytes).map_err(|e| bad(ErrorCode::VoicemailInvalid, e.to_string()))?;
    let ms = audio.duration_ms();
    if audio.packets.is_empty() || ms == 0 {
        return Err(bad(ErrorCode::VoicemailInvalid, "the file holds no audio"));
    }
    if ms > MAX_VOICEMAIL_S * 1000 {
        return Err(bad(
            ErrorCode::VoicemailTooLong,
            format!(
                "the message lasts {} s; voice messages are limited to {MAX_VOICEMAIL_S} s",
                ms.div_ceil(1000)
            ),
        ));
    }
    Ok((bytes, ms))
}

/// Puts the message in `to`'s mailbox: the file first, whole and synced, so that a row is
/// never without its audio.
async fn store(state: &AppState, to: &str, voicemail: &Voicemail, bytes: Bytes) -> ApiResult<()> {
    let (mailbox, id) = (state.voicemail.clone(), voicemail.voicemail_id.clone());
    tokio::task::spawn_blocking(move || mailbox.write(&id, &bytes))
        .await
        .map_err(|e| ApiError::new(ErrorCode::InternalServerError, e.to_string()))?
        .map_err(|e| {
            bad(
                ErrorCode::InternalServerError,
                format!("cannot store the voice message: {e}"),
            )
        })?;
    let (user, row, quota) = (
        to.to_owned(),
        voicemail.clone(),
        state.voicemail.quota_bytes,
    );
    let added = state
        .store(move |s| s.add_voicemail(&user, &row, quota))
        .await;
    let refused = match added {
        Ok(VoicemailAdded::Added) => return Ok(()),
        Ok(VoicemailAdded::AlreadyLeft) => bad(
            ErrorCode::VoicemailNotAllowed,
            "a voice message was left for this call already",
        ),
        Ok(VoicemailAdded::OverQuota) => bad(
            ErrorCode::VoicemailQuotaExceeded,
            format!("{to}'s mailbox is full"),
        ),
        Err(e) => e.into(),
    };
    state.voicemail.remove(&voicemail.voicemail_id);
    Err(refused)
}

/// Announces the message in the direct channel of its sender and `to`, from the sender;
/// returns the announcement's id.
async fn announce(state: &Arc<AppState>, voicemail: &Voicemail, to: &str) -> ApiResult<String> {
    let now = voicemail.created_at;
    let (a, b) = (voicemail.from.clone(), to.to_owned());
    let (channel, created) = state
        .store(move |s| s.open_direct_channel(&a, &b, now))
        .await?;
    if created {
        state.hub.send_to_users(
            &channel.participants,
            &ServerFrame::ChannelAdded {
                channel: channel.clone(),
            },
            None,
        );
    }
    let (message, _) = message_outcome(store_message(
        state,
        NewMessage {
            user: voicemail.from.clone(),
            channel_id: channel.channel_id,
            client_id: voicemail.voicemail_id.clone(),
            text: announcement(voicemail.duration_ms),
            now,
            voicemail_id: Some(voicemail.voicemail_id.clone()),
        },
        None,
    ))
    .await?;
    let (id, mid) = (voicemail.voicemail_id.clone(), message.message_id.clone());
    state
        .store(move |s| s.set_voicemail_message(&id, &mid))
        .await?;
    Ok(message.message_id)
}

#[utoipa::path(get, path = "/v1/voicemail", security(("bearer" = [])),
    responses((status = 200, body = VoicemailBox)))]
pub(super) async fn list(
    auth: AuthUser,
    State(state): State<Arc<AppState>>,
) -> ApiResult<Json<VoicemailBox>> {
    let quota = state.voicemail.quota_bytes;
    Ok(Json(
        state
            .store(move |s| {
                Ok(VoicemailBox {
                    voicemails: s.voicemails(&auth.user_id)?,
                    indicator: indicator(s.voicemail_counts(&auth.user_id)?, quota),
                })
            })
            .await?,
    ))
}

fn not_found(id: &str) -> crate::server::error::AppError {
    bad(
        ErrorCode::VoicemailNotFound,
        format!("no voice message `{id}` in your mailbox"),
    )
}

/// The user's voice message `id`, or `voicemail_not_found`.
async fn find(state: &AppState, user: &str, id: &str) -> ApiResult<Voicemail> {
    if !Mailbox::valid_id(id) {
        return Err(not_found(id));
    }
    let (u, v) = (user.to_owned(), id.to_owned());
    state
        .store(move |s| s.voicemail(&u, &v))
        .await?
        .ok_or_else(|| not_found(id))
}

#[utoipa::path(get, path = "/v1/voicemail/{voicemail_id}/audio", security(("bearer" = [])),
    params(("voicemail_id" = String, Path)),
    responses((status = 200, content_type = "audio/ogg", description = "The message as Opus in Ogg"),
              (status = 404, body = ApiError, description = "`voicemail_not_found`")))]
pub(super) async fn audio(
    auth: AuthUser,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let v = find(&state, &auth.user_id, &id).await?;
    let mailbox = state.voicemail.clone();
    let bytes = tokio::task::spawn_blocking(move || mailbox.read(&v.voicemail_id))
        .await
        .map_err(|e| ApiError::new(ErrorCode::InternalServerError, e.to_string()))?
        .map_err(|e| {
            bad(
                ErrorCode::InternalServerError,
                format!("cannot read the voice message: {e}"),
            )
        })?;
    Ok(([(axum::http::header::CONTENT_TYPE, "audio/ogg")], bytes))
}

#[utoipa::path(post, path = "/v1/voicemail/{voicemail_id}/heard", security(("bearer" = [])),
    params(("voicemail_id" = String, Path)),
    responses((status = 200, body = VoicemailIndicator),
              (status = 404, body = ApiError, description = "`voicemail_not_found`")))]
pub(super) async fn mark_heard(
    auth: AuthUser,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Json<VoicemailIndicator>> {
    find(&state, &auth.user_id, &id).await?;
    let (u, v) = (auth.user_id.clone(), id.clone());
    state.store(move |s| s.mark_voicemail_heard(&u, &v)).await?;
    Ok(Json(
        changed(&state, auth.user_id, VoicemailChange::Heard, id, None).await?,
    ))
}

#[utoipa::path(delete, path = "/v1/voicemail/{voicemail_id}", security(("bearer" = [])),
    params(("voicemail_id" = String, Path)),
    responses((status = 204, description = "Deleted"),
              (status = 404, body = ApiError, description = "`voicemail_not_found`")))]
pub(super) async fn remove(
    auth: AuthUser,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    find(&state, &auth.user_id, &id).await?;
    let (u, v) = (auth.user_id.clone(), id.clone());
    if !state.store(move |s| s.delete_voicemail(&u, &v)).await? {
        return Err(not_found(&id));
    }
    // The row first: a file left by a failed removal is swept at the next start.
    state.voicemail.remove(&id);
    changed(&state, auth.user_id, VoicemailChange::Deleted, id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}
