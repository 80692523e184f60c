//! The users' rows: who exists, their display name and the profile kept with it.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::rows::millis_to_time;
use super::{StoreError, StoreResult};
use crate::proto::{Profile, User};

const COLUMNS: &str = "user_id, display_name, created_at, first_name, last_name, user_name, \
                       email, home_phone, work_phone, mobile_phone";

fn row_to_user(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        user_id: r.get(0)?,
        display_name: r.get(1)?,
        created_at: millis_to_time(r.get(2)?),
        profile: Profile {
            first_name: r.get(3)?,
            last_name: r.get(4)?,
            user_name: r.get(5)?,
            email: r.get(6)?,
            home_phone: r.get(7)?,
            work_phone: r.get(8)?,
            mobile_phone: r.get(9)?,
        },
    })
}

pub(super) fn create(
    c: &Connection,
    user_id: &str,
    display_name: &str,
    now: DateTime<Utc>,
) -> StoreResult<User> {
    let changed = c.execute(
        "INSERT OR IGNORE INTO users (user_id, display_name, created_at) VALUES (?1, ?2, ?3)",
        params![user_id, display_name, now.timestamp_millis()],
    )?;
    if changed == 0 {
        return Err(StoreError::UserExists(user_id.to_owned()));
    }
    Ok(User {
        user_id: user_id.to_owned(),
        display_name: display_name.to_owned(),
        created_at: millis_to_time(now.timestamp_millis()),
        profile: Profile::default(),
    })
}

pub(super) fn get(c: &Connection, user_id: &str) -> StoreResult<Option<User>> {
    Ok(c.query_row(
        &format!("SELECT {COLUMNS} FROM users WHERE user_id = ?1"),
        [user_id],
        row_to_user,
    )
    .optional()?)
}

pub(super) fn list(c: &Connection) -> StoreResult<Vec<User>> {
    let mut stmt = c.prepare(&format!("SELECT {COLUMNS} FROM users ORDER BY user_id"))?;
    let rows = stmt.query_map([], row_to_user)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Replaces `user_id`'s profile and, when given, their display name. A user name another
/// user has (case aside) is refused, and nothing changes.
pub(super) fn set_profile(
    c: &Connection,
    user_id: &str,
    display_name: Option<&str>,
    profile: &Profile,
) -> StoreResult<User> {
    if let Some(name) = &profile.user_name {
        let holder: Option<String> = c
            .query_row(
                "SELECT user_id FROM users WHERE lower(user_name) = lower(?1) AND user_id != ?2",
                params![name, user_id],
                |r| r.get(0),
            )
            .optional()?;
        if holder.is_some() {
            return Err(StoreError::UserNameTaken(name.clone()));
        }
    }
    let changed = c.execute(
        "UPDATE users SET display_name = COALESCE(?2, display_name), first_name = ?3,
             last_name = ?4, user_name = ?5, email = ?6, home_phone = ?7, work_phone = ?8,
             mobile_phone = ?9
         WHERE user_id = ?1",
        params![
            user_id,
            display_name,
            profile.first_name,
            profile.last_name,
            profile.user_name,
            profile.email,
            profile.home_phone,
            profile.work_phone,
            profile.mobile_phone
        ],
    )?;
    if changed == 0 {
        return Err(StoreError::UserNotFound(user_id.to_owned()));
    }
    get(c, user_id)?.ok_or_else(|| StoreError::UserNotFound(user_id.to_owned()))
}
