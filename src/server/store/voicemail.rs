//! Voice messages: one row each (the audio is a file the server keeps beside the database).

use rusqlite::{params, Connection, OptionalExtension};

use super::rows::{millis_to_time, to_i64, to_u64};
use super::StoreResult;
use crate::proto::Voicemail;

const COLUMNS: &str =
    "voicemail_id, sender, room_id, created_at, duration_ms, bytes, heard, message_id";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Voicemail> {
    Ok(Voicemail {
        voicemail_id: r.get(0)?,
        from: r.get(1)?,
        room_id: r.get(2)?,
        created_at: millis_to_time(r.get(3)?),
        duration_ms: to_u64(r.get(4)?),
        bytes: to_u64(r.get(5)?),
        heard: r.get(6)?,
        message_id: r.get(7)?,
    })
}

/// Adds a message to `user`'s mailbox; false when one was left for the call already.
pub(super) fn add(
    c: &Connection,
    user: &str,
    v: &Voicemail,
    quota_bytes: u64,
) -> StoreResult<super::VoicemailAdded> {
    // The connection is the store's only one, held for the whole call: nothing comes
    // between the count and the insert.
    let (_, _, used) = counts(c, user)?;
    if used.saturating_add(v.bytes) > quota_bytes {
        return Ok(super::VoicemailAdded::OverQuota);
    }
    let n = c.execute(
        &format!(
            "INSERT INTO voicemail (user_id, {COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (room_id) DO NOTHING"
        ),
        params![
            user,
            v.voicemail_id,
            v.from,
            v.room_id,
            v.created_at.timestamp_millis(),
            to_i64(v.duration_ms),
            to_i64(v.bytes),
            v.heard,
            v.message_id
        ],
    )?;
    Ok(if n == 1 {
        super::VoicemailAdded::Added
    } else {
        super::VoicemailAdded::AlreadyLeft
    })
}

/// Notes the message that announced it.
pub(super) fn set_message(c: &Connection, id: &str, message_id: &str) -> StoreResult<()> {
    c.execute(
        "UPDATE voicemail SET message_id = ?2 WHERE voicemail_id = ?1",
        params![id, message_id],
    )?;
    Ok(())
}

/// The mailbox, newest first.
pub(super) fn list(c: &Connection, user: &str) -> StoreResult<Vec<Voicemail>> {
    let mut stmt = c.prepare(&format!(
        "SELECT {COLUMNS} FROM voicemail WHERE user_id = ?1 ORDER BY created_at DESC, rowid DESC"
    ))?;
    let rows = stmt.query_map([user], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn one(c: &Connection, user: &str, id: &str) -> StoreResult<Option<Voicemail>> {
    Ok(c.query_row(
        &format!("SELECT {COLUMNS} FROM voicemail WHERE user_id = ?1 AND voicemail_id = ?2"),
        params![user, id],
        row,
    )
    .optional()?)
}

/// Marks it heard; false when the mailbox has no such message.
pub(super) fn mark_heard(c: &Connection, user: &str, id: &str) -> StoreResult<bool> {
    let n = c.execute(
        "UPDATE voicemail SET heard = 1 WHERE user_id = ?1 AND voicemail_id = ?2",
        params![user, id],
    )?;
    Ok(n == 1)
}

/// Deletes it; false when the mailbox has no such message.
pub(super) fn delete(c: &Connection, user: &str, id: &str) -> StoreResult<bool> {
    let n = c.execute(
        "DELETE FROM voicemail WHERE user_id = ?1 AND voicemail_id = ?2",
        params![user, id],
    )?;
    Ok(n == 1)
}

/// Drops the records of these messages, whoever's.
pub(super) fn forget(c: &mut Connection, ids: &[String]) -> StoreResult<usize> {
    let tx = c.transaction()?;
    let mut n = 0;
    for id in ids {
        n += tx.execute("DELETE FROM voicemail WHERE voicemail_id = ?1", [id])?;
    }
    tx.commit()?;
    Ok(n)
}

/// Messages, unheard ones, and bytes in `user`'s mailbox.
pub(super) fn counts(c: &Connection, user: &str) -> StoreResult<(u64, u64, u64)> {
    let (total, unheard, bytes): (i64, i64, i64) = c.query_row(
        "SELECT COUNT(*), COALESCE(SUM(heard = 0), 0), COALESCE(SUM(bytes), 0)
         FROM voicemail WHERE user_id = ?1",
        [user],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    Ok((to_u64(total), to_u64(unheard), to_u64(bytes)))
}

/// Every voice message's id, whoever's.
pub(super) fn ids(c: &Connection) -> StoreResult<Vec<String>> {
    let mut stmt = c.prepare("SELECT voicemail_id FROM voicemail")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
