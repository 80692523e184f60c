//! How an [`ApiError`] becomes an HTTP answer: the status follows from the code, the body is
//! the error as JSON, and `rate_limited` carries `Retry-After`.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::proto::{ApiError, ErrorCode};

/// An error answer of a REST route.
#[derive(Debug)]
pub struct AppError(pub ApiError);

impl From<ApiError> for AppError {
    fn from(e: ApiError) -> Self {
        AppError(e)
    }
}

pub fn status_of(code: ErrorCode) -> StatusCode {
    use ErrorCode::{
        AccessTokenExpired, AccessTokenInvalid, AccessTokenInvalidSignature,
        AccessTokenInvalidUser, AllUsersBusy, AnotherCallInProgress, ApiKeyInvalid,
        AuthenticationError, CallNotFound, ChannelNotExists, ContactAlreadyExists,
        ContactLimitReached, ContactNotFound, CurrentUserBusy, InternalServerError,
        InvalidAccessLink, InvalidCallStatus, LinkSessionRestricted, MalformedRequest,
        MessageAnchorError, MessageNotSaved, MessageTooLarge, MethodNotAllowed, NotFound,
        RateLimited, ResumeInProgress, SessionConflict, TooManySubscriptions, UnknownFrameType,
        UserAlreadyExists, UserDoNotDisturb, UserNameTaken, UserNotAssociatedToLink, UserNotFound,
        ValidationError, VoicemailInvalid, VoicemailNotAllowed, VoicemailNotFound,
        VoicemailQuotaExceeded, VoicemailTooLong,
    };
    match code {
        ValidationError | MalformedRequest | UnknownFrameType | MessageAnchorError
        | TooManySubscriptions | VoicemailInvalid => StatusCode::BAD_REQUEST,
        AuthenticationError
        | ApiKeyInvalid
        | AccessTokenExpired
        | AccessTokenInvalid
        | AccessTokenInvalidSignature
        | AccessTokenInvalidUser => StatusCode::UNAUTHORIZED,
        UserNotFound | ChannelNotExists | NotFound | CallNotFound | VoicemailNotFound
        | InvalidAccessLink | ContactNotFound => StatusCode::NOT_FOUND,
        UserNotAssociatedToLink | LinkSessionRestricted => StatusCode::FORBIDDEN,
        MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        UserAlreadyExists
        | AnotherCallInProgress
        | CurrentUserBusy
        | AllUsersBusy
        | InvalidCallStatus
        | ResumeInProgress
        | VoicemailNotAllowed
        | SessionConflict
        | UserDoNotDisturb
        | UserNameTaken
        | ContactAlreadyExists
        | ContactLimitReached => StatusCode::CONFLICT,
        MessageTooLarge | VoicemailTooLong => StatusCode::PAYLOAD_TOO_LARGE,
        VoicemailQuotaExceeded => StatusCode::INSUFFICIENT_STORAGE,
        RateLimited => StatusCode::TOO_MANY_REQUESTS,
        MessageNotSaved | InternalServerError => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let retry = self.0.retry_after_ms;
        let mut response = (status_of(self.0.code), Json(self.0)).into_response();
        if let Some(ms) = retry {
            // Whole seconds, rounded up: `Retry-After: 0` would invite a busy loop.
            let secs = ms.div_ceil(1000).max(1);
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, v);
            }
        }
        response
    }
}

pub type ApiResult<T> = Result<T, AppError>;

pub fn bad(code: ErrorCode, msg: impl Into<String>) -> AppError {
    AppError(ApiError::new(code, msg))
}
