//! What each user set of their presence (availability, activity, note), one row a user who
//! set something; the live part (devices, calls) is the hub's.

use rusqlite::{params, Connection};

use super::rows::user_exists;
use super::{StoreError, StoreResult};
use crate::proto::{Activity, Availability, PresenceSetting};

/// Every user's setting.
pub(super) fn all(c: &Connection) -> StoreResult<Vec<(String, PresenceSetting)>> {
    let mut stmt =
        c.prepare("SELECT user_id, availability, activity, note FROM presence ORDER BY user_id")?;
    let rows = stmt.query_map([], |r| {
        let availability: String = r.get(1)?;
        let activity: Option<String> = r.get(2)?;
        Ok((
            r.get::<_, String>(0)?,
            PresenceSetting {
                // A value this build does not know (written by a newer one) reads as the
                // default rather than failing the whole list.
                availability: Availability::parse(&availability).unwrap_or_default(),
                activity: activity.as_deref().and_then(Activity::parse),
                note: r.get(3)?,
            },
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Replaces `user`'s setting.
pub(super) fn set(c: &Connection, user: &str, setting: &PresenceSetting) -> StoreResult<()> {
    if !user_exists(c, user)? {
        return Err(StoreError::UserNotFound(user.to_owned()));
    }
    c.execute(
        "INSERT INTO presence (user_id, availability, activity, note, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(user_id) DO UPDATE SET availability = excluded.availability,
             activity = excluded.activity, note = excluded.note,
             updated_at = excluded.updated_at",
        params![
            user,
            setting.availability.as_str(),
            setting.activity.map(Activity::as_str),
            setting.note,
            chrono::Utc::now().timestamp_millis()
        ],
    )?;
    Ok(())
}
