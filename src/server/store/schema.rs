//! The schema and its migrations. `PRAGMA user_version` holds the version a database is
//! at; [`migrate`] brings any older one up to [`SCHEMA_VERSION`] at start, each step in its
//! own transaction, and refuses a database written by a newer parla.

use rusqlite::Connection;

use super::{StoreError, StoreResult};

/// The version this build writes.
#[allow(clippy::cast_possible_truncation)] // a short list of steps
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Step `i` takes a database from version `i` to `i + 1`. Never edit a step that has
/// shipped; add one.
const MIGRATIONS: &[&str] = &[
    // 1: the first schema. Databases made before versions were recorded are at 0 with
    // these tables already there, hence `IF NOT EXISTS`.
    r"
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
",
    // 2: a direct channel whose pair lost a member (a deleted user) no longer belongs to
    // the pair, so a new user with the same id starts a new conversation.
    r"
UPDATE channels SET direct_key = NULL
WHERE kind = 'direct' AND direct_key IS NOT NULL
  AND (SELECT COUNT(*) FROM participants p WHERE p.channel_id = channels.channel_id) < 2;
",
    // 3: the call history, one record per user and call.
    r"
CREATE TABLE call_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    room_id TEXT NOT NULL,
    entry TEXT NOT NULL,
    missed INTEGER NOT NULL,
    seen INTEGER NOT NULL DEFAULT 0,
    UNIQUE (user_id, room_id)
);
CREATE INDEX call_log_by_user ON call_log(user_id, seq);
",
    // 4: voice messages (their audio is a file each under `voicemail/`), and the messages
    // that announce them.
    r"
CREATE TABLE voicemail (
    voicemail_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    room_id TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    heard INTEGER NOT NULL DEFAULT 0,
    message_id TEXT
);
CREATE INDEX voicemail_by_user ON voicemail(user_id, created_at);
ALTER TABLE messages ADD COLUMN voicemail_id TEXT;
",
    // 5: what each user set of their presence.
    r"
CREATE TABLE presence (
    user_id TEXT PRIMARY KEY,
    availability TEXT NOT NULL,
    activity TEXT,
    note TEXT,
    updated_at INTEGER NOT NULL
);
",
    // 6: profiles (on the users' rows) and personal address books.
    r"
ALTER TABLE users ADD COLUMN first_name TEXT;
ALTER TABLE users ADD COLUMN last_name TEXT;
ALTER TABLE users ADD COLUMN user_name TEXT;
ALTER TABLE users ADD COLUMN email TEXT;
ALTER TABLE users ADD COLUMN home_phone TEXT;
ALTER TABLE users ADD COLUMN work_phone TEXT;
ALTER TABLE users ADD COLUMN mobile_phone TEXT;
CREATE UNIQUE INDEX users_user_name ON users (lower(user_name));
CREATE TABLE contacts (
    contact_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    primary_contact TEXT NOT NULL,
    first_name TEXT,
    last_name TEXT,
    email_address TEXT,
    home_phone TEXT,
    work_phone TEXT,
    mobile_phone TEXT,
    group_list TEXT NOT NULL,
    friend_status INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (owner, primary_contact)
);
",
];

/// The version a database is at.
pub fn version(conn: &Connection) -> StoreResult<u32> {
    let v: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    Ok(u32::try_from(v).unwrap_or(u32::MAX))
}

/// Brings the database up to [`SCHEMA_VERSION`]; returns the version it was at.
pub fn migrate(conn: &mut Connection) -> StoreResult<u32> {
    let found = version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (i, step) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
        tracing::info!(to = i + 1, "database schema migrated");
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_database_gets_every_step_and_a_second_run_does_nothing() {
        let mut c = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut c).unwrap(), 0);
        assert_eq!(version(&c).unwrap(), SCHEMA_VERSION);
        assert_eq!(migrate(&mut c).unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn a_database_from_a_newer_parla_is_refused() {
        let mut c = Connection::open_in_memory().unwrap();
        c.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        assert!(matches!(
            migrate(&mut c),
            Err(StoreError::SchemaTooNew { found, supported })
                if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION
        ));
    }
}
