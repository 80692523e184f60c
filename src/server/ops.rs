//! What the REST routes and the WebSocket share: input validation, authentication with an
//! access token, and the chat operations that store and fan out.

use std::sync::Arc;

use axum::http::HeaderMap;
use chrono::Utc;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::auth::LinkClaim;
use super::hub::ConnId;
use super::store::NewMessage;
use super::{store_error, AppState};
use crate::proto::{
    ApiError, ErrorCode, Message, ReadState, SendMessage, ServerFrame, MAX_MESSAGE_BYTES,
    MAX_NAME_CHARS, MAX_USER_ID_BYTES,
};

// ---------------------------------------------------------------------------------------
// Validation
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

pub fn validate_name(name: &str, what: &str) -> Result<(), ApiError> {
    if name.trim().is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(ApiError::new(
            ErrorCode::ValidationError,
            format!("{what} must be 1 to {MAX_NAME_CHARS} characters of printable text"),
        ));
    }
    Ok(())
}

/// The name of a group created without one: its members' ids, as many as fit.
pub fn default_group_name(creator: &str, others: &[String]) -> String {
    let mut name = creator.to_owned();
    for o in others {
        if name.chars().count() + 2 + o.chars().count() > MAX_NAME_CHARS {
            break;
        }
        name.push_str(", ");
        name.push_str(o);
    }
    name
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

pub fn validate_client_id(id: &str) -> Result<(), ApiError> {
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

/// A request or session authorised with a user's access token (or, where
/// [`authenticate_any`] is used, a link session's).
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user_id: String,
    pub expires_at: chrono::DateTime<Utc>,
    /// Set for a session connected by access link: all it may touch is this call.
    pub link: Option<LinkClaim>,
}

/// The token of an `Authorization: Bearer TOKEN` header. The scheme is case-insensitive
/// (RFC 7235 §2.1), so `bearer` and `BEARER` are accepted too.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Verifies a user's access token and that the account it was issued for still exists. A
/// link session's token is refused here (`link_session_restricted`): it is good only where
/// [`authenticate_any`] is used.
pub async fn authenticate(state: &AppState, token: Option<&str>) -> Result<AuthUser, ApiError> {
    let auth = authenticate_any(state, token).await?;
    if auth.link.is_some() {
        return Err(link_restricted());
    }
    Ok(auth)
}

/// What a link session may not do.
pub fn link_restricted() -> ApiError {
    ApiError::new(
        ErrorCode::LinkSessionRestricted,
        "a session connected by access link is limited to its call and the call's chat",
    )
}

/// Verifies an access token or a link session's token. A link session's call must still
/// be live, and its link still valid (`invalid_access_link`).
pub async fn authenticate_any(state: &AppState, token: Option<&str>) -> Result<AuthUser, ApiError> {
    let token = token.ok_or_else(|| {
        ApiError::new(
            ErrorCode::AuthenticationError,
            "missing access token (Authorization: Bearer ...)",
        )
    })?;
    let claims = state.issuer.verify(token, state.clock.utc())?;
    if let Some(link) = &claims.link {
        state
            .calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .link_by_id(&link.room_id, &link.link_id)?;
        if link.guest_name.is_some() {
            return Ok(AuthUser {
                expires_at: claims.expires_at(),
                user_id: claims.sub,
                link: claims.link,
            });
        }
    }
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
        link: claims.link,
    })
}

// ---------------------------------------------------------------------------------------
// Chat operations
// ---------------------------------------------------------------------------------------

/// What a submitted message comes to: the message (stored now, or before under the same
/// `client_id`, `false`) or why it was not stored.
pub type SendOutcome = Result<(Message, bool), ApiError>;

/// Validates a message and queues it for storing; returns at once. Once it is durable it
/// is fanned out to the channel's participants (except `origin`, the connection that sent
/// it, which gets an `ack` instead), in the order messages were submitted, and the outcome
/// arrives on the receiver. The sender's message rate is checked first, over all their
/// devices and REST.
pub fn submit_message(
    state: &Arc<AppState>,
    user: &str,
    channel_id: &str,
    body: SendMessage,
    origin: Option<ConnId>,
) -> Result<oneshot::Receiver<SendOutcome>, ApiError> {
    validate_text(&body.text)?;
    let client_id = match body.client_id {
        Some(id) => {
            validate_client_id(&id)?;
            id
        }
        None => uuid::Uuid::new_v4().to_string(),
    };
    state
        .rates
        .messages
        .take(user, Instant::now())
        .map_err(|wait| {
            ApiError::rate_limited(wait, "too many messages; send this one again later")
        })?;
    let message = NewMessage {
        user: user.to_owned(),
        channel_id: channel_id.to_owned(),
        client_id,
        text: body.text,
        now: state.clock.utc(),
        voicemail_id: None,
    };
    Ok(store_message(state, message, origin))
}

/// Queues a checked message for storing; once durable it is fanned out as
/// [`submit_message`] says.
pub fn store_message(
    state: &Arc<AppState>,
    message: NewMessage,
    origin: Option<ConnId>,
) -> oneshot::Receiver<SendOutcome> {
    let (tx, rx) = oneshot::channel();
    let fan_out = state.clone();
    state.store.submit_message(
        message,
        Box::new(move |outcome| {
            let outcome = outcome.map_err(|e| match store_error(e) {
                e if e.code == ErrorCode::InternalServerError => {
                    ApiError::new(ErrorCode::MessageNotSaved, e.message)
                }
                e => e,
            });
            if let Ok(stored) = &outcome {
                if stored.inserted {
                    let frame = ServerFrame::Message {
                        message: stored.message.clone(),
                    };
                    fan_out
                        .hub
                        .send_to_users(&stored.participants, &frame, origin);
                }
            }
            let _ = tx.send(outcome.map(|s| (s.message, s.inserted)));
        }),
    );
    rx
}

/// What a submitted message came to, once it is known.
pub async fn message_outcome(rx: oneshot::Receiver<SendOutcome>) -> SendOutcome {
    rx.await.unwrap_or_else(|_| {
        Err(ApiError::new(
            ErrorCode::MessageNotSaved,
            "the store stopped before the message was written",
        ))
    })
}

/// Validates, stores and fans out a message, and waits for the outcome.
pub async fn send_message(
    state: &Arc<AppState>,
    user: &str,
    channel_id: &str,
    body: SendMessage,
    origin: Option<ConnId>,
) -> SendOutcome {
    message_outcome(submit_message(state, user, channel_id, body, origin)?).await
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

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(axum::http::header::AUTHORIZATION, v.parse().unwrap());
        h
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for v in ["Bearer abc", "bearer abc", "BEARER abc", "  Bearer   abc  "] {
            assert_eq!(bearer(&headers(v)), Some("abc"), "{v:?}");
        }
        for v in ["Basic abc", "Bearer", "Bearer ", "Bearerabc", "abc"] {
            assert_eq!(bearer(&headers(v)), None, "{v:?}");
        }
    }
}
