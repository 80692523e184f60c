//! Persistent state of the server behind one trait, with SQLite as the embedded default.
//!
//! The trait is synchronous; the server calls it through `spawn_blocking`. Every method that
//! acts for a user checks that the user takes part in the channel, so the HTTP and WebSocket
//! layers cannot forget to.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::proto::{Channel, ChannelKind, Direction, Message, MessagePage, ReadState, User};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("user `{0}` does not exist")]
    UserNotFound(String),
    #[error("user `{0}` exists already")]
    UserExists(String),
    #[error("channel `{0}` does not exist")]
    ChannelNotExists(String),
    #[error("no message `{0}` in this channel")]
    Anchor(String),
    #[error("storage failed: {0}")]
    Backend(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Where a history page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchor {
    Seq(u64),
    MessageId(String),
}

impl Anchor {
    /// A number is a sequence number; anything else a message id.
    pub fn parse(s: &str) -> Anchor {
        match s.parse::<u64>() {
            Ok(n) => Anchor::Seq(n),
            Err(_) => Anchor::MessageId(s.to_owned()),
        }
    }
}

/// A message the store accepted.
#[derive(Debug, Clone)]
pub struct Stored {
    pub message: Message,
    /// False when the `client_id` had been used before and the earlier message is returned.
    pub inserted: bool,
    pub participants: Vec<String>,
}

pub trait Store: Send + Sync + 'static {
    fn get_setting(&self, key: &str) -> StoreResult<Option<String>>;
    fn set_setting(&self, key: &str, value: &str) -> StoreResult<()>;

    fn create_user(
        &self,
        user_id: &str,
        display_name: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<User>;
    /// Deletes the user and their channel memberships; returns false when there was none.
    fn delete_user(&self, user_id: &str) -> StoreResult<bool>;
    fn get_user(&self, user_id: &str) -> StoreResult<Option<User>>;
    fn list_users(&self) -> StoreResult<Vec<User>>;

    /// The direct channel between `user` and `other`, created when missing. The flag tells
    /// whether it was created now.
    fn open_direct_channel(
        &self,
        user: &str,
        other: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<(Channel, bool)>;
    fn create_group_channel(
        &self,
        user: &str,
        name: &str,
        others: &[String],
        now: DateTime<Utc>,
    ) -> StoreResult<Channel>;
    /// Deletes the channel and all its messages for good; returns its participants.
    fn remove_channel(&self, user: &str, channel_id: &str) -> StoreResult<Vec<String>>;
    /// The channel as `user` sees it (unread count and read mark are theirs).
    fn channel(&self, user: &str, channel_id: &str) -> StoreResult<Channel>;
    fn channels_for_user(&self, user: &str) -> StoreResult<Vec<Channel>>;
    /// Newest sequence number of every channel of the user.
    fn channel_cursors(&self, user: &str) -> StoreResult<BTreeMap<String, u64>>;

    fn insert_message(
        &self,
        user: &str,
        channel_id: &str,
        client_id: &str,
        text: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Stored>;
    fn messages(
        &self,
        user: &str,
        channel_id: &str,
        anchor: Option<&Anchor>,
        direction: Direction,
        count: u32,
    ) -> StoreResult<MessagePage>;
    fn mark_read(&self, user: &str, channel_id: &str, seq: u64) -> StoreResult<ReadState>;
}

pub struct SqliteStore {
    conn: Mutex<Connection>,
}

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    user_id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS channels (
    channel_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT,
    direct_key TEXT UNIQUE,
    created_at INTEGER NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS participants (
    channel_id TEXT NOT NULL REFERENCES channels(channel_id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    read_seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX IF NOT EXISTS participants_by_user ON participants(user_id);
CREATE TABLE IF NOT EXISTS messages (
    channel_id TEXT NOT NULL REFERENCES channels(channel_id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    sender TEXT NOT NULL,
    client_id TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (channel_id, seq),
    UNIQUE (channel_id, sender, client_id)
);
"#;

fn millis_to_time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn row_to_message(row: &rusqlite::Row<'_>) -> rusqlite::Result<Message> {
    Ok(Message {
        channel_id: row.get(0)?,
        seq: to_u64(row.get(1)?),
        message_id: row.get(2)?,
        sender: row.get(3)?,
        client_id: row.get(4)?,
        text: row.get(5)?,
        created_at: millis_to_time(row.get(6)?),
    })
}

const MESSAGE_COLUMNS: &str = "channel_id, seq, message_id, sender, client_id, text, created_at";

fn direct_key(a: &str, b: &str) -> String {
    // Ordered so both users find the same channel; NUL cannot appear in a user id.
    if a <= b {
        format!("{a}\u{0}{b}")
    } else {
        format!("{b}\u{0}{a}")
    }
}

fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

impl SqliteStore {
    /// Opens (creating when missing) the database file, in WAL mode.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let conn = Connection::open(path)?;
        Self::init(conn)
    }

    pub fn open_in_memory() -> StoreResult<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> StoreResult<Self> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> StoreResult<T>) -> StoreResult<T> {
        let mut guard = self
            .conn
            .lock()
            .map_err(|_| StoreError::Backend("store lock poisoned".into()))?;
        f(&mut guard)
    }
}

fn user_exists(conn: &Connection, user_id: &str) -> StoreResult<bool> {
    Ok(conn
        .query_row("SELECT 1 FROM users WHERE user_id = ?1", [user_id], |_| {
            Ok(())
        })
        .optional()?
        .is_some())
}

/// The caller's read mark, or `ChannelNotExists` when they are not a participant.
fn read_seq_of(conn: &Connection, user: &str, channel_id: &str) -> StoreResult<u64> {
    conn.query_row(
        "SELECT read_seq FROM participants WHERE channel_id = ?1 AND user_id = ?2",
        params![channel_id, user],
        |r| r.get::<_, i64>(0),
    )
    .optional()?
    .map(to_u64)
    .ok_or_else(|| StoreError::ChannelNotExists(channel_id.to_owned()))
}

fn participants_of(conn: &Connection, channel_id: &str) -> StoreResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT user_id FROM participants WHERE channel_id = ?1 ORDER BY user_id",
    )?;
    let rows = stmt.query_map([channel_id], |r| r.get(0))?;
    Ok(rows.collect::<Result<Vec<String>, _>>()?)
}

fn load_channel(conn: &Connection, user: &str, channel_id: &str) -> StoreResult<Channel> {
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

impl Store for SqliteStore {
    fn get_setting(&self, key: &str) -> StoreResult<Option<String>> {
        self.with(|c| {
            Ok(
                c.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                    r.get(0)
                })
                .optional()?,
            )
        })
    }

    fn set_setting(&self, key: &str, value: &str) -> StoreResult<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )?;
            Ok(())
        })
    }

    fn create_user(
        &self,
        user_id: &str,
        display_name: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<User> {
        self.with(|c| {
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
            })
        })
    }

    fn delete_user(&self, user_id: &str) -> StoreResult<bool> {
        self.with(|c| {
            let tx = c.transaction()?;
            let n = tx.execute("DELETE FROM users WHERE user_id = ?1", [user_id])?;
            tx.execute("DELETE FROM participants WHERE user_id = ?1", [user_id])?;
            tx.commit()?;
            Ok(n > 0)
        })
    }

    fn get_user(&self, user_id: &str) -> StoreResult<Option<User>> {
        self.with(|c| {
            Ok(c.query_row(
                "SELECT user_id, display_name, created_at FROM users WHERE user_id = ?1",
                [user_id],
                |r| {
                    Ok(User {
                        user_id: r.get(0)?,
                        display_name: r.get(1)?,
                        created_at: millis_to_time(r.get(2)?),
                    })
                },
            )
            .optional()?)
        })
    }

    fn list_users(&self) -> StoreResult<Vec<User>> {
        self.with(|c| {
            let mut stmt =
                c.prepare("SELECT user_id, display_name, created_at FROM users ORDER BY user_id")?;
            let rows = stmt.query_map([], |r| {
                Ok(User {
                    user_id: r.get(0)?,
                    display_name: r.get(1)?,
                    created_at: millis_to_time(r.get(2)?),
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    fn open_direct_channel(
        &self,
        user: &str,
        other: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<(Channel, bool)> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for u in [user, other] {
                if !user_exists(&tx, u)? {
                    return Err(StoreError::UserNotFound(u.to_owned()));
                }
            }
            let key = direct_key(user, other);
            let existing: Option<String> = tx
                .query_row(
                    "SELECT channel_id FROM channels WHERE direct_key = ?1",
                    [&key],
                    |r| r.get(0),
                )
                .optional()?;
            let created = existing.is_none();
            let channel_id = match existing {
                Some(id) => id,
                None => {
                    let id = new_id("ch");
                    tx.execute(
                        "INSERT INTO channels (channel_id, kind, name, direct_key, created_at)
                         VALUES (?1, 'direct', NULL, ?2, ?3)",
                        params![id, key, now.timestamp_millis()],
                    )?;
                    id
                }
            };
            // A user deleted and created again rejoins their old direct channel.
            for u in [user, other] {
                tx.execute(
                    "INSERT OR IGNORE INTO participants (channel_id, user_id) VALUES (?1, ?2)",
                    params![channel_id, u],
                )?;
            }
            let channel = load_channel(&tx, user, &channel_id)?;
            tx.commit()?;
            Ok((channel, created))
        })
    }

    fn create_group_channel(
        &self,
        user: &str,
        name: &str,
        others: &[String],
        now: DateTime<Utc>,
    ) -> StoreResult<Channel> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut members: Vec<&str> = vec![user];
            members.extend(others.iter().map(String::as_str));
            members.sort_unstable();
            members.dedup();
            for u in &members {
                if !user_exists(&tx, u)? {
                    return Err(StoreError::UserNotFound((*u).to_owned()));
                }
            }
            let id = new_id("ch");
            tx.execute(
                "INSERT INTO channels (channel_id, kind, name, direct_key, created_at)
                 VALUES (?1, 'group', ?2, NULL, ?3)",
                params![id, name, now.timestamp_millis()],
            )?;
            for u in &members {
                tx.execute(
                    "INSERT INTO participants (channel_id, user_id) VALUES (?1, ?2)",
                    params![id, u],
                )?;
            }
            let channel = load_channel(&tx, user, &id)?;
            tx.commit()?;
            Ok(channel)
        })
    }

    fn remove_channel(&self, user: &str, channel_id: &str) -> StoreResult<Vec<String>> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            read_seq_of(&tx, user, channel_id)?;
            let participants = participants_of(&tx, channel_id)?;
            tx.execute("DELETE FROM messages WHERE channel_id = ?1", [channel_id])?;
            tx.execute(
                "DELETE FROM participants WHERE channel_id = ?1",
                [channel_id],
            )?;
            tx.execute("DELETE FROM channels WHERE channel_id = ?1", [channel_id])?;
            tx.commit()?;
            Ok(participants)
        })
    }

    fn channel(&self, user: &str, channel_id: &str) -> StoreResult<Channel> {
        self.with(|c| load_channel(c, user, channel_id))
    }

    fn channels_for_user(&self, user: &str) -> StoreResult<Vec<Channel>> {
        self.with(|c| {
            let ids: Vec<String> = {
                let mut stmt = c.prepare_cached(
                    "SELECT p.channel_id FROM participants p JOIN channels ch USING (channel_id)
                     WHERE p.user_id = ?1 ORDER BY ch.created_at, ch.channel_id",
                )?;
                let rows = stmt.query_map([user], |r| r.get(0))?;
                rows.collect::<Result<_, _>>()?
            };
            ids.iter().map(|id| load_channel(c, user, id)).collect()
        })
    }

    fn channel_cursors(&self, user: &str) -> StoreResult<BTreeMap<String, u64>> {
        self.with(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT ch.channel_id, ch.last_seq FROM participants p JOIN channels ch USING (channel_id)
                 WHERE p.user_id = ?1",
            )?;
            let rows = stmt.query_map([user], |r| Ok((r.get(0)?, to_u64(r.get(1)?))))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    fn insert_message(
        &self,
        user: &str,
        channel_id: &str,
        client_id: &str,
        text: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Stored> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            read_seq_of(&tx, user, channel_id)?;
            let participants = participants_of(&tx, channel_id)?;
            let existing = tx
                .query_row(
                    &format!(
                        "SELECT {MESSAGE_COLUMNS} FROM messages
                         WHERE channel_id = ?1 AND sender = ?2 AND client_id = ?3"
                    ),
                    params![channel_id, user, client_id],
                    row_to_message,
                )
                .optional()?;
            if let Some(message) = existing {
                return Ok(Stored {
                    message,
                    inserted: false,
                    participants,
                });
            }
            let last: i64 = tx.query_row(
                "SELECT last_seq FROM channels WHERE channel_id = ?1",
                [channel_id],
                |r| r.get(0),
            )?;
            let seq = last + 1;
            let message = Message {
                message_id: new_id("msg"),
                channel_id: channel_id.to_owned(),
                seq: to_u64(seq),
                sender: user.to_owned(),
                text: text.to_owned(),
                created_at: millis_to_time(now.timestamp_millis()),
                client_id: client_id.to_owned(),
            };
            tx.prepare_cached(&format!(
                "INSERT INTO messages ({MESSAGE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ))?
            .execute(params![
                channel_id,
                seq,
                message.message_id,
                user,
                client_id,
                text,
                now.timestamp_millis()
            ])?;
            tx.prepare_cached("UPDATE channels SET last_seq = ?2 WHERE channel_id = ?1")?
                .execute(params![channel_id, seq])?;
            tx.commit()?;
            Ok(Stored {
                message,
                inserted: true,
                participants,
            })
        })
    }

    fn messages(
        &self,
        user: &str,
        channel_id: &str,
        anchor: Option<&Anchor>,
        direction: Direction,
        count: u32,
    ) -> StoreResult<MessagePage> {
        self.with(|c| {
            read_seq_of(c, user, channel_id)?;
            let anchor_seq: Option<i64> = match anchor {
                None => None,
                Some(Anchor::Seq(n)) => Some(to_i64(*n)),
                Some(Anchor::MessageId(id)) => Some(
                    c.query_row(
                        "SELECT seq FROM messages WHERE channel_id = ?1 AND message_id = ?2",
                        params![channel_id, id],
                        |r| r.get(0),
                    )
                    .optional()?
                    .ok_or_else(|| StoreError::Anchor(id.clone()))?,
                ),
            };
            let limit = i64::from(count) + 1;
            let mut messages = match direction {
                Direction::Backwards => {
                    let mut stmt = c.prepare_cached(&format!(
                        "SELECT {MESSAGE_COLUMNS} FROM messages
                         WHERE channel_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3"
                    ))?;
                    let rows = stmt.query_map(
                        params![channel_id, anchor_seq.unwrap_or(i64::MAX), limit],
                        row_to_message,
                    )?;
                    let mut v = rows.collect::<Result<Vec<_>, _>>()?;
                    v.reverse();
                    v
                }
                Direction::Forwards => {
                    let mut stmt = c.prepare_cached(&format!(
                        "SELECT {MESSAGE_COLUMNS} FROM messages
                         WHERE channel_id = ?1 AND seq > ?2 ORDER BY seq ASC LIMIT ?3"
                    ))?;
                    let rows = stmt.query_map(
                        params![channel_id, anchor_seq.unwrap_or(0), limit],
                        row_to_message,
                    )?;
                    rows.collect::<Result<Vec<_>, _>>()?
                }
            };
            let has_more = messages.len() > count as usize;
            if has_more {
                match direction {
                    Direction::Backwards => {
                        messages.remove(0);
                    }
                    Direction::Forwards => {
                        messages.pop();
                    }
                }
            }
            Ok(MessagePage { messages, has_more })
        })
    }

    fn mark_read(&self, user: &str, channel_id: &str, seq: u64) -> StoreResult<ReadState> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            read_seq_of(&tx, user, channel_id)?;
            let last: i64 = tx.query_row(
                "SELECT last_seq FROM channels WHERE channel_id = ?1",
                [channel_id],
                |r| r.get(0),
            )?;
            // The mark never moves backwards nor past the newest message.
            let target = to_i64(seq).min(last);
            tx.execute(
                "UPDATE participants SET read_seq = MAX(read_seq, ?3)
                 WHERE channel_id = ?1 AND user_id = ?2",
                params![channel_id, user, target],
            )?;
            let read_seq = read_seq_of(&tx, user, channel_id)?;
            let unread: i64 = tx.query_row(
                "SELECT COUNT(*) FROM messages WHERE channel_id = ?1 AND seq > ?2 AND sender != ?3",
                params![channel_id, to_i64(read_seq), user],
                |r| r.get(0),
            )?;
            tx.commit()?;
            Ok(ReadState {
                channel_id: channel_id.to_owned(),
                read_seq,
                unread_count: to_u64(unread),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> SqliteStore {
        let s = SqliteStore::open_in_memory().unwrap();
        for u in ["alice", "bob", "carol"] {
            s.create_user(u, u, Utc::now()).unwrap();
        }
        s
    }

    #[test]
    fn direct_channel_is_found_again_from_either_side() {
        let s = store();
        let (a, created) = s.open_direct_channel("alice", "bob", Utc::now()).unwrap();
        assert!(created);
        let (b, created) = s.open_direct_channel("bob", "alice", Utc::now()).unwrap();
        assert!(!created);
        assert_eq!(a.channel_id, b.channel_id);
        assert_eq!(a.participants, vec!["alice", "bob"]);
        assert!(matches!(
            s.open_direct_channel("alice", "nobody", Utc::now()),
            Err(StoreError::UserNotFound(u)) if u == "nobody"
        ));
    }

    #[test]
    fn sequence_numbers_idempotency_and_unread() {
        let s = store();
        let (ch, _) = s.open_direct_channel("alice", "bob", Utc::now()).unwrap();
        let id = &ch.channel_id;
        let m1 = s
            .insert_message("alice", id, "c1", "one", Utc::now())
            .unwrap();
        let again = s
            .insert_message("alice", id, "c1", "one", Utc::now())
            .unwrap();
        assert!(m1.inserted && !again.inserted);
        assert_eq!(m1.message.message_id, again.message.message_id);
        let m2 = s
            .insert_message("bob", id, "c1", "two", Utc::now())
            .unwrap();
        assert_eq!((m1.message.seq, m2.message.seq), (1, 2));
        assert_eq!(s.channel("bob", id).unwrap().unread_count, 1);
        assert_eq!(s.channel("alice", id).unwrap().unread_count, 1);
        let r = s.mark_read("bob", id, 99).unwrap();
        assert_eq!((r.read_seq, r.unread_count), (2, 0));
        // The mark never moves backwards.
        assert_eq!(s.mark_read("bob", id, 1).unwrap().read_seq, 2);
        assert!(matches!(
            s.insert_message("carol", id, "c9", "intruder", Utc::now()),
            Err(StoreError::ChannelNotExists(_))
        ));
    }

    #[test]
    fn paging_both_ways_and_anchor_errors() {
        let s = store();
        let (ch, _) = s.open_direct_channel("alice", "bob", Utc::now()).unwrap();
        let id = &ch.channel_id;
        for i in 1..=10 {
            s.insert_message("alice", id, &format!("c{i}"), &format!("m{i}"), Utc::now())
                .unwrap();
        }
        let seqs = |p: &MessagePage| p.messages.iter().map(|m| m.seq).collect::<Vec<_>>();
        let newest = s
            .messages("bob", id, None, Direction::Backwards, 3)
            .unwrap();
        assert_eq!(seqs(&newest), vec![8, 9, 10]);
        assert!(newest.has_more);
        let older = s
            .messages("bob", id, Some(&Anchor::Seq(8)), Direction::Backwards, 5)
            .unwrap();
        assert_eq!(seqs(&older), vec![3, 4, 5, 6, 7]);
        let oldest = s
            .messages("bob", id, Some(&Anchor::Seq(3)), Direction::Backwards, 5)
            .unwrap();
        assert_eq!(seqs(&oldest), vec![1, 2]);
        assert!(!oldest.has_more);
        let anchor = Anchor::MessageId(older.messages[0].message_id.clone());
        let fwd = s
            .messages("bob", id, Some(&anchor), Direction::Forwards, 4)
            .unwrap();
        assert_eq!(seqs(&fwd), vec![4, 5, 6, 7]);
        assert!(fwd.has_more);
        assert!(matches!(
            s.messages(
                "bob",
                id,
                Some(&Anchor::parse("msg_nope")),
                Direction::Forwards,
                4
            ),
            Err(StoreError::Anchor(_))
        ));
    }

    #[test]
    fn removing_a_channel_deletes_its_messages() {
        let s = store();
        let ch = s
            .create_group_channel("alice", "team", &["bob".into(), "carol".into()], Utc::now())
            .unwrap();
        s.insert_message("carol", &ch.channel_id, "x", "hello", Utc::now())
            .unwrap();
        assert_eq!(
            s.remove_channel("bob", &ch.channel_id).unwrap(),
            vec!["alice", "bob", "carol"]
        );
        assert!(matches!(
            s.channel("alice", &ch.channel_id),
            Err(StoreError::ChannelNotExists(_))
        ));
        assert!(s.channels_for_user("carol").unwrap().is_empty());
    }
}
