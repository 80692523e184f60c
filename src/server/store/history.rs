//! The call history: one record per user and call, written when the call ends, kept as
//! JSON beside the columns the queries need.

use rusqlite::{params, Connection, OptionalExtension};

use super::rows::{to_i64, to_u64};
use super::{StoreError, StoreResult};
use crate::proto::CallLogEntry;

fn backend(e: &serde_json::Error) -> StoreError {
    StoreError::Backend(format!("call history record: {e}"))
}

fn entry_of(seq: i64, json: &str, seen: bool) -> StoreResult<CallLogEntry> {
    let mut entry: CallLogEntry = serde_json::from_str(json).map_err(|e| backend(&e))?;
    entry.seq = to_u64(seq);
    entry.seen = seen;
    Ok(entry)
}

/// Records `entry` for `user`; a second record of the same call changes nothing. Returns
/// the entry as stored (with its `seq`).
pub(super) fn log(c: &Connection, user: &str, entry: &CallLogEntry) -> StoreResult<CallLogEntry> {
    let json = serde_json::to_string(entry).map_err(|e| backend(&e))?;
    c.execute(
        "INSERT INTO call_log (user_id, room_id, entry, missed) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (user_id, room_id) DO NOTHING",
        params![user, entry.room_id, json, entry.missed],
    )?;
    let (seq, json, seen): (i64, String, bool) = c.query_row(
        "SELECT seq, entry, seen FROM call_log WHERE user_id = ?1 AND room_id = ?2",
        params![user, entry.room_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    entry_of(seq, &json, seen)
}

/// Up to `count` entries older than `before` (all when `None`), newest first, and whether
/// there are more; with `missed_only`, missed calls only.
pub(super) fn page(
    c: &Connection,
    user: &str,
    count: u32,
    before: Option<u64>,
    missed_only: bool,
) -> StoreResult<(Vec<CallLogEntry>, bool)> {
    let before = before.map_or(i64::MAX, to_i64);
    let mut stmt = c.prepare(
        "SELECT seq, entry, seen FROM call_log
         WHERE user_id = ?1 AND seq < ?2 AND (?3 = 0 OR missed = 1)
         ORDER BY seq DESC LIMIT ?4",
    )?;
    let rows = stmt.query_map(
        params![user, before, missed_only, i64::from(count) + 1],
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
            ))
        },
    )?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, json, seen) = row?;
        out.push(entry_of(seq, &json, seen)?);
    }
    let more = out.len() > count as usize;
    out.truncate(count as usize);
    Ok((out, more))
}

/// Deletes the entry of call `room_id` (every entry when `None`); returns how many went.
pub(super) fn delete(c: &Connection, user: &str, room_id: Option<&str>) -> StoreResult<u64> {
    let n = match room_id {
        Some(room) => c.execute(
            "DELETE FROM call_log WHERE user_id = ?1 AND room_id = ?2",
            params![user, room],
        )?,
        None => c.execute("DELETE FROM call_log WHERE user_id = ?1", [user])?,
    };
    Ok(n as u64)
}

/// Marks every missed call seen.
pub(super) fn mark_seen(c: &Connection, user: &str) -> StoreResult<()> {
    c.execute(
        "UPDATE call_log SET seen = 1 WHERE user_id = ?1 AND missed = 1 AND seen = 0",
        [user],
    )?;
    Ok(())
}

/// Missed calls not marked seen.
pub(super) fn missed_unseen(c: &Connection, user: &str) -> StoreResult<u64> {
    let n: Option<i64> = c
        .query_row(
            "SELECT COUNT(*) FROM call_log WHERE user_id = ?1 AND missed = 1 AND seen = 0",
            [user],
            |r| r.get(0),
        )
        .optional()?;
    Ok(to_u64(n.unwrap_or(0)))
}

/// The entry of call `room_id`, when the user has one.
pub(super) fn one(c: &Connection, user: &str, room_id: &str) -> StoreResult<Option<CallLogEntry>> {
    let found: Option<(i64, String, bool)> = c
        .query_row(
            "SELECT seq, entry, seen FROM call_log WHERE user_id = ?1 AND room_id = ?2",
            params![user, room_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    found
        .map(|(seq, json, seen)| entry_of(seq, &json, seen))
        .transpose()
}
