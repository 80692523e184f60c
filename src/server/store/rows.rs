//! Rows to and from the tables, and the small queries every store operation shares.

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::{StoreError, StoreResult};
use crate::proto::{Channel, ChannelKind, Message};

pub(super) fn millis_to_time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

pub(super) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(super) fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

pub(super) fn row_to_message(row: &rusqlite::Row<'_>) -> rusqlite::Result<Message> {
    Ok(Message {
        channel_id: row.get(0)?,
        seq: to_u64(row.get(1)?),
        message_id: row.get(2)?,
        sender: row.get(3)?,
        client_id: row.get(4)?,
        text: row.get(5)?,
        created_at: millis_to_time(row.get(6)?),
        voicemail_id: row.get(7)?,
    })
}

pub(super) const MESSAGE_COLUMNS: &str =
    "channel_id, seq, message_id, sender, client_id, text, created_at, voicemail_id";

pub(super) fn direct_key(a: &str, b: &str) -> String {
    // Ordered so both users find the same channel; NUL cannot appear in a user id.
    if a <= b {
        format!("{a}\u{0}{b}")
    } else {
        format!("{b}\u{0}{a}")
    }
}

pub(super) fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

pub(super) fn user_exists(conn: &Connection, user_id: &str) -> StoreResult<bool> {
    Ok(conn
        .query_row("SELECT 1 FROM users WHERE user_id = ?1", [user_id], |_| {
            Ok(())
        })
        .optional()?
        .is_some())
}

/// The caller's read mark, or `ChannelNotExists` when they are not a participant.
pub(super) fn read_seq_of(conn: &Connection, user: &str, channel_id: &str) -> StoreResult<u64> {
    conn.query_row(
        "SELECT read_seq FROM participants WHERE channel_id = ?1 AND user_id = ?2",
        params![channel_id, user],
        |r| r.get::<_, i64>(0),
    )
    .optional()?
    .map(to_u64)
    .ok_or_else(|| StoreError::ChannelNotExists(channel_id.to_owned()))
}

pub(super) fn participants_of(conn: &Connection, channel_id: &str) -> StoreResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT user_id FROM participants WHERE channel_id = ?1 ORDER BY user_id",
    )?;
    let rows = stmt.query_map([channel_id], |r| r.get(0))?;
    Ok(rows.collect::<Result<Vec<String>, _>>()?)
}

pub(super) fn load_channel(
    conn: &Connection,
    user: &str,
    channel_id: &str,
) -> StoreResult<Channel> {
    let read_seq = read_seq_of(conn, user, channel_id)?;
    let (kind, name, created_at, last_seq): (String, Option<String>, i64, i64) = conn
        .query_row(
            "SELECT kind, name, created_at, last_seq FROM channels WHERE channel_id = ?1",
            [channel_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?
        .ok_or_else(|| StoreError::ChannelNotExists(channel_id.to_owned()))?;
    let unread: i64 = conn.query_row(
        "SELECT COUNT(*) FROM messages WHERE channel_id = ?1 AND seq > ?2 AND sender != ?3",
        params![channel_id, to_i64(read_seq), user],
        |r| r.get(0),
    )?;
    let last_message = conn
        .query_row(
            &format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE channel_id = ?1 ORDER BY seq DESC LIMIT 1"
            ),
            [channel_id],
            row_to_message,
        )
        .optional()?;
    Ok(Channel {
        channel_id: channel_id.to_owned(),
        kind: if kind == "group" {
            ChannelKind::Group
        } else {
            ChannelKind::Direct
        },
        name,
        participants: participants_of(conn, channel_id)?,
        created_at: millis_to_time(created_at),
        last_seq: to_u64(last_seq),
        unread_count: to_u64(unread),
        read_seq,
        last_message,
    })
}
