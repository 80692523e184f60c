//! The people routes: the user list, one user, profiles (a user's own and the admin's),
//! the directory search, and each user's address book.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use super::{parse_body, parse_query, Admin};
use crate::proto::{
    ApiError, Contact, ContactChange, ContactInput, DirectoryPage, DirectoryQuery, ErrorCode,
    PresenceStatus, ProfileUpdate, ServerFrame, User, UserEntry, DEFAULT_DIRECTORY_PAGE,
    MAX_DIRECTORY_PAGE,
};
use crate::server::error::{bad, ApiResult};
use crate::server::ops::{validate_name, validate_user_id, AuthUser};
use crate::server::AppState;

/// A user as the directory lists them: with their presence.
fn entry(state: &AppState, user: User) -> UserEntry {
    UserEntry {
        presence: state.hub.presence(&user.user_id),
        user_id: user.user_id,
        display_name: user.display_name,
        profile: user.profile,
    }
}

fn no_such_user(user_id: &str) -> crate::server::error::AppError {
    bad(
        ErrorCode::UserNotFound,
        format!("user `{user_id}` does not exist"),
    )
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct UsersQuery {
    /// Only users with at least one connected device.
    #[serde(default)]
    online: Option<bool>,
}

#[utoipa::path(get, path = "/v1/users", security(("bearer" = [])), params(UsersQuery),
    responses((status = 200, body = Vec<UserEntry>),
              (status = 400, body = ApiError, description = "`validation_error`: a bad query parameter")))]
pub(super) async fn list_users(
    _auth: AuthUser,
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Vec<UserEntry>>> {
    let q: UsersQuery = parse_query(query)?;
    let users = state.store(crate::server::store::Store::list_users).await?;
    let entries = users
        .into_iter()
        .map(|u| entry(&state, u))
        .filter(|e| !q.online.unwrap_or(false) || e.presence.status != PresenceStatus::Offline)
        .collect();
    Ok(Json(entries))
}

#[utoipa::path(get, path = "/v1/users/{user_id}", security(("bearer" = [])),
    params(("user_id" = String, Path)),
    responses((status = 200, body = UserEntry),
              (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub(super) async fn get_user(
    _auth: AuthUser,
    State(state): State<Arc<AppState>>,
    Path(user_id): Path<String>,
) -> ApiResult<Json<UserEntry>> {
    let id = user_id.clone();
    match state.store(move |s| s.get_user(&id)).await? {
        Some(user) => Ok(Json(entry(&state, user))),
        None => Err(no_such_user(&user_id)),
    }
}

/// Checks and keeps `update` for `user_id`, and tells everyone who sees the user.
async fn set_profile(state: &AppState, user_id: &str, update: ProfileUpdate) -> ApiResult<User> {
    let display_name = match update.display_name {
        Some(name) => {
            validate_name(&name, "display_name")?;
            Some(name.trim_matches(' ').to_owned())
        }
        None => None,
    };
    let profile = update
        .profile
        .checked()
        .map_err(|e| bad(ErrorCode::ValidationError, e))?;
    let id = user_id.to_owned();
    let user = state
        .store(move |s| s.set_profile(&id, display_name.as_deref(), &profile))
        .await?;
    state.hub.send_to_followers(
        user_id,
        &ServerFrame::UserUpdated {
            user: entry(state, user.clone()),
        },
    );
    Ok(user)
}

#[utoipa::path(put, path = "/v1/me/profile", security(("bearer" = [])),
    request_body = ProfileUpdate,
    responses((status = 200, body = UserEntry, description = "Kept; everyone following the user and the user's devices get a `user_updated` frame"),
              (status = 400, body = ApiError, description = "`validation_error`: a field that is not valid (the message names it)"),
              (status = 401, body = ApiError),
              (status = 409, body = ApiError, description = "`user_name_taken`: another user has that user name")))]
pub(super) async fn set_own_profile(
    auth: AuthUser,
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<UserEntry>> {
    let update: ProfileUpdate = parse_body(body)?;
    let user = set_profile(&state, &auth.user_id, update).await?;
    Ok(Json(entry(&state, user)))
}

#[utoipa::path(put, path = "/v1/admin/users/{user_id}/profile", security(("apikey" = [])),
    params(("user_id" = String, Path)), request_body = ProfileUpdate,
    responses((status = 200, body = User),
              (status = 400, body = ApiError), (status = 401, body = ApiError),
              (status = 404, body = ApiError), (status = 409, body = ApiError)))]
pub(super) async fn admin_set_profile(
    _: Admin,
    State(state): State<Arc<AppState>>,
    Path(user_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<User>> {
    let update: ProfileUpdate = parse_body(body)?;
    Ok(Json(set_profile(&state, &user_id, update).await?))
}

#[utoipa::path(get, path = "/v1/directory", security(("bearer" = [])), params(DirectoryQuery),
    responses((status = 200, body = DirectoryPage),
              (status = 400, body = ApiError, description = "`validation_error`: an unknown `by` or a bad `limit`"),
              (status = 401, body = ApiError)))]
pub(super) async fn directory(
    _auth: AuthUser,
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<DirectoryPage>> {
    let q: DirectoryQuery = parse_query(query)?;
    let filter = q.filter();
    let limit = q.limit.unwrap_or(DEFAULT_DIRECTORY_PAGE);
    if !(1..=MAX_DIRECTORY_PAGE).contains(&limit) {
        return Err(bad(
            ErrorCode::ValidationError,
            format!("limit is 1 to {MAX_DIRECTORY_PAGE}"),
        ));
    }
    let users = state.store(crate::server::store::Store::list_users).await?;
    let mut matching = users
        .into_iter()
        .filter(|u| !crate::proto::is_guest(&u.user_id))
        .filter(|u| {
            q.after
                .as_deref()
                .is_none_or(|after| u.user_id.as_str() > after)
        })
        .map(|u| entry(&state, u))
        .filter(|e| filter.is_none_or(|(field, text)| field.matches(e, text)));
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let page: Vec<UserEntry> = matching.by_ref().take(limit).collect();
    let next = match matching.next() {
        Some(_) => page.last().map(|e| e.user_id.clone()),
        None => None,
    };
    Ok(Json(DirectoryPage { users: page, next }))
}

// ---------------------------------------------------------------------------------------
// The address book
// ---------------------------------------------------------------------------------------

fn checked_contact(owner: &str, input: ContactInput) -> ApiResult<ContactInput> {
    let input = input
        .checked()
        .map_err(|e| bad(ErrorCode::ValidationError, e))?;
    validate_user_id(&input.primary_contact)?;
    if input.primary_contact == owner {
        return Err(bad(
            ErrorCode::ValidationError,
            "your address book is for other people",
        ));
    }
    Ok(input)
}

/// Tells the owner's devices (this one included) what changed.
fn tell_owner(state: &AppState, owner: &str, change: ContactChange, contact: &Contact) {
    state.hub.send_to_users(
        [&owner.to_owned()],
        &ServerFrame::Contact {
            change,
            contact: contact.clone(),
        },
        None,
    );
}

#[utoipa::path(get, path = "/v1/contacts", security(("bearer" = [])),
    responses((status = 200, body = Vec<Contact>), (status = 401, body = ApiError)))]
pub(super) async fn list_contacts(
    auth: AuthUser,
    State(state): State<Arc<AppState>>,
) -> ApiResult<Json<Vec<Contact>>> {
    Ok(Json(state.store(move |s| s.contacts(&auth.user_id)).await?))
}

#[utoipa::path(post, path = "/v1/contacts", security(("bearer" = [])),
    request_body = ContactInput,
    responses((status = 201, body = Contact, description = "Added; the user's devices get a `contact` frame"),
              (status = 400, body = ApiError, description = "`validation_error`: a field that is not valid"),
              (status = 401, body = ApiError),
              (status = 404, body = ApiError, description = "`user_not_found`: `primary_contact` is no user of this server"),
              (status = 409, body = ApiError, description = "`contact_already_exists` (a contact for that user is in the book), `contact_limit_reached` (1000 contacts)")))]
pub(super) async fn add_contact(
    auth: AuthUser,
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Contact>)> {
    let input = checked_contact(&auth.user_id, parse_body(body)?)?;
    let owner = auth.user_id.clone();
    let now = state.clock.utc();
    let contact = state
        .store(move |s| s.add_contact(&owner, &input, now))
        .await?;
    tell_owner(&state, &auth.user_id, ContactChange::Added, &contact);
    Ok((StatusCode::CREATED, Json(contact)))
}

#[utoipa::path(put, path = "/v1/contacts/{contact_id}", security(("bearer" = [])),
    params(("contact_id" = String, Path)), request_body = ContactInput,
    responses((status = 200, body = Contact, description = "Replaced; the user's devices get a `contact` frame"),
              (status = 400, body = ApiError), (status = 401, body = ApiError),
              (status = 404, body = ApiError, description = "`contact_not_found`, or `user_not_found` for `primary_contact`"),
              (status = 409, body = ApiError, description = "`contact_already_exists`: another contact is that user")))]
pub(super) async fn update_contact(
    auth: AuthUser,
    State(state): State<Arc<AppState>>,
    Path(contact_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Contact>> {
    let input = checked_contact(&auth.user_id, parse_body(body)?)?;
    let owner = auth.user_id.clone();
    let now = state.clock.utc();
    let contact = state
        .store(move |s| s.update_contact(&owner, &contact_id, &input, now))
        .await?;
    tell_owner(&state, &auth.user_id, ContactChange::Updated, &contact);
    Ok(Json(contact))
}

#[utoipa::path(delete, path = "/v1/contacts/{contact_id}", security(("bearer" = [])),
    params(("contact_id" = String, Path)),
    responses((status = 204, description = "Removed; the user's devices get a `contact` frame"),
              (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub(super) async fn remove_contact(
    auth: AuthUser,
    State(state): State<Arc<AppState>>,
    Path(contact_id): Path<String>,
) -> ApiResult<StatusCode> {
    let owner = auth.user_id.clone();
    let contact = state
        .store(move |s| s.remove_contact(&owner, &contact_id))
        .await?;
    tell_owner(&state, &auth.user_id, ContactChange::Removed, &contact);
    Ok(StatusCode::NO_CONTENT)
}
