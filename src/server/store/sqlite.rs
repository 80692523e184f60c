//! The SQLite store: one connection in WAL mode with `synchronous=FULL`, so an
//! acknowledged message is on disk, not only in the operating system's cache. Messages go
//! to a writer thread that stores everything queued meanwhile in one transaction with one
//! sync (group commit), then reports each outcome in queue order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::commit::{checkpointer, writer, InsertRequest, Shared};
use super::rows::{
    direct_key, load_channel, new_id, participants_of, read_seq_of, row_to_message, to_i64, to_u64,
    user_exists, MESSAGE_COLUMNS,
};
use super::{
    contacts, history, presence, schema, users, voicemail, Anchor, Done, NewMessage, Store,
    StoreError, StoreResult, Stored,
};
use crate::proto::{
    CallLogEntry, Channel, Contact, ContactInput, Direction, MessagePage, PresenceSetting, Profile,
    ReadState, User, Voicemail,
};

pub struct SqliteStore {
    shared: Arc<Shared>,
    /// To the writer thread; dropping it ends the thread.
    writer: Mutex<Option<mpsc::Sender<InsertRequest>>>,
    /// Dropping it ends the checkpoint thread.
    _stop_checkpoints: mpsc::Sender<()>,
    /// The database file (`None` in memory), for backups on a connection of their own.
    path: Option<PathBuf>,
}

impl SqliteStore {
    /// Opens (creating when missing) the database file in WAL mode, migrating its schema.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let conn = Connection::open(path)?;
        Self::init(conn, Some(path.to_owned()))
    }

    pub fn open_in_memory() -> StoreResult<Self> {
        Self::init(Connection::open_in_memory()?, None)
    }

    fn init(mut conn: Connection, path: Option<PathBuf>) -> StoreResult<Self> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: every commit syncs the write-ahead log, so what was acknowledged survives
        // a power cut, not only a crash of the process.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        schema::migrate(&mut conn)?;
        if path.is_some() {
            // Checkpoints (copying the log into the database file, with a sync of its own)
            // would stall whichever commit set one off; a thread of their own does them.
            conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        }
        let shared = Arc::new(Shared {
            conn: Mutex::new(conn),
            insert_commits: AtomicU64::new(0),
            submitted: AtomicUsize::new(0),
        });
        let (tx, rx) = mpsc::channel();
        let writer_shared = shared.clone();
        std::thread::Builder::new()
            .name("parla-store-writer".into())
            .spawn(move || writer(&writer_shared, &rx))
            .map_err(|e| StoreError::Backend(format!("cannot start the writer thread: {e}")))?;
        let (stop, stopped) = mpsc::channel::<()>();
        if let Some(db) = &path {
            let checkpoints = Connection::open(db)?;
            checkpoints.busy_timeout(std::time::Duration::from_secs(5))?;
            std::thread::Builder::new()
                .name("parla-store-checkpoint".into())
                .spawn(move || checkpointer(&checkpoints, &stopped))
                .map_err(|e| {
                    StoreError::Backend(format!("cannot start the checkpoint thread: {e}"))
                })?;
        }
        Ok(SqliteStore {
            shared,
            writer: Mutex::new(Some(tx)),
            _stop_checkpoints: stop,
            path,
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> StoreResult<T>) -> StoreResult<T> {
        self.shared.with(f)
    }

    /// How many commits have written messages so far (fewer than the messages when
    /// they arrive together).
    pub fn insert_commits(&self) -> u64 {
        self.shared.insert_commits.load(Ordering::Relaxed)
    }

    /// How many messages have been submitted so far.
    pub fn submitted_inserts(&self) -> usize {
        self.shared.submitted.load(Ordering::Relaxed)
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // The writer finishes what is queued, then ends with its channel.
        if let Ok(mut w) = self.writer.lock() {
            w.take();
        }
    }
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
        self.with(|c| users::create(c, user_id, display_name, now))
    }

    fn delete_user(&self, user_id: &str) -> StoreResult<bool> {
        self.with(|c| {
            let tx = c.transaction()?;
            let n = tx.execute("DELETE FROM users WHERE user_id = ?1", [user_id])?;
            // The pair's key goes with the user: a later user with this id gets a new
            // direct channel instead of this one's history.
            tx.execute(
                "UPDATE channels SET direct_key = NULL
                 WHERE kind = 'direct' AND channel_id IN
                     (SELECT channel_id FROM participants WHERE user_id = ?1)",
                [user_id],
            )?;
            tx.execute("DELETE FROM participants WHERE user_id = ?1", [user_id])?;
            // Their mailbox goes too (the files are the caller's to remove).
            tx.execute("DELETE FROM voicemail WHERE user_id = ?1", [user_id])?;
            tx.execute("DELETE FROM presence WHERE user_id = ?1", [user_id])?;
            tx.execute("DELETE FROM contacts WHERE owner = ?1", [user_id])?;
            tx.commit()?;
            Ok(n > 0)
        })
    }

    fn get_user(&self, user_id: &str) -> StoreResult<Option<User>> {
        self.with(|c| users::get(c, user_id))
    }

    fn list_users(&self) -> StoreResult<Vec<User>> {
        self.with(|c| users::list(c))
    }

    fn set_profile(
        &self,
        user_id: &str,
        display_name: Option<&str>,
        profile: &Profile,
    ) -> StoreResult<User> {
        self.with(|c| users::set_profile(c, user_id, display_name, profile))
    }

    fn contacts(&self, owner: &str) -> StoreResult<Vec<Contact>> {
        self.with(|c| contacts::list(c, owner))
    }

    fn add_contact(
        &self,
        owner: &str,
        input: &ContactInput,
        now: DateTime<Utc>,
    ) -> StoreResult<Contact> {
        self.with(|c| contacts::add(c, owner, input, now))
    }

    fn update_contact(
        &self,
        owner: &str,
        contact_id: &str,
        input: &ContactInput,
        now: DateTime<Utc>,
    ) -> StoreResult<Contact> {
        self.with(|c| contacts::update(c, owner, contact_id, input, now))
    }

    fn remove_contact(&self, owner: &str, contact_id: &str) -> StoreResult<Contact> {
        self.with(|c| contacts::remove(c, owner, contact_id))
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

    fn add_call_member(&self, channel_id: &str, member: &str) -> StoreResult<bool> {
        self.with(|c| {
            let n = c.execute(
                "INSERT INTO participants (channel_id, user_id)
                 SELECT channel_id, ?2 FROM channels WHERE channel_id = ?1 AND kind = 'group'
                 ON CONFLICT DO NOTHING",
                params![channel_id, member],
            )?;
            Ok(n == 1)
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
        let (reply, answer) = mpsc::sync_channel(1);
        self.submit_message(
            NewMessage {
                user: user.to_owned(),
                channel_id: channel_id.to_owned(),
                client_id: client_id.to_owned(),
                text: text.to_owned(),
                now,
                voicemail_id: None,
            },
            Box::new(move |outcome| {
                let _ = reply.send(outcome);
            }),
        );
        answer
            .recv()
            .map_err(|_| StoreError::Backend("the write was lost".into()))?
    }

    fn submit_message(&self, message: NewMessage, done: Done) {
        let request = InsertRequest { message, done };
        let refused = match self.writer.lock() {
            Ok(w) => match w.as_ref() {
                Some(tx) => tx.send(request).err().map(|e| e.0),
                None => Some(request),
            },
            Err(_) => Some(request),
        };
        self.shared.submitted.fetch_add(1, Ordering::Relaxed);
        if let Some(r) = refused {
            (r.done)(Err(StoreError::Backend("the store is closed".into())));
        }
    }

    fn messages(
        &self,
        user: &str,
        channel_id: &str,
        anchor: Option<&Anchor>,
        direction: Direction,
        count: u32,
        search: Option<&str>,
    ) -> StoreResult<MessagePage> {
        // The needle in lower case; `?4` is NULL without a search.
        let needle = search.map(str::to_lowercase);
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
                         WHERE channel_id = ?1 AND seq < ?2
                           AND (?4 IS NULL OR instr(lower(text), ?4) > 0)
                         ORDER BY seq DESC LIMIT ?3"
                    ))?;
                    let rows = stmt.query_map(
                        params![channel_id, anchor_seq.unwrap_or(i64::MAX), limit, needle],
                        row_to_message,
                    )?;
                    let mut v = rows.collect::<Result<Vec<_>, _>>()?;
                    v.reverse();
                    v
                }
                Direction::Forwards => {
                    let mut stmt = c.prepare_cached(&format!(
                        "SELECT {MESSAGE_COLUMNS} FROM messages
                         WHERE channel_id = ?1 AND seq > ?2
                           AND (?4 IS NULL OR instr(lower(text), ?4) > 0)
                         ORDER BY seq ASC LIMIT ?3"
                    ))?;
                    let rows = stmt.query_map(
                        params![channel_id, anchor_seq.unwrap_or(0), limit, needle],
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

    fn log_call(&self, user: &str, entry: &CallLogEntry) -> StoreResult<CallLogEntry> {
        self.with(|c| history::log(c, user, entry))
    }

    fn call_history(
        &self,
        user: &str,
        count: u32,
        before: Option<u64>,
        missed_only: bool,
    ) -> StoreResult<(Vec<CallLogEntry>, bool)> {
        self.with(|c| history::page(c, user, count, before, missed_only))
    }

    fn delete_call_log(&self, user: &str, room_id: Option<&str>) -> StoreResult<u64> {
        self.with(|c| history::delete(c, user, room_id))
    }

    fn mark_calls_seen(&self, user: &str) -> StoreResult<()> {
        self.with(|c| history::mark_seen(c, user))
    }

    fn missed_unseen(&self, user: &str) -> StoreResult<u64> {
        self.with(|c| history::missed_unseen(c, user))
    }

    fn call_log_entry(&self, user: &str, room_id: &str) -> StoreResult<Option<CallLogEntry>> {
        self.with(|c| history::one(c, user, room_id))
    }

    fn add_voicemail(
        &self,
        user: &str,
        v: &Voicemail,
        quota_bytes: u64,
    ) -> StoreResult<super::VoicemailAdded> {
        self.with(|c| voicemail::add(c, user, v, quota_bytes))
    }

    fn set_voicemail_message(&self, id: &str, message_id: &str) -> StoreResult<()> {
        self.with(|c| voicemail::set_message(c, id, message_id))
    }

    fn voicemails(&self, user: &str) -> StoreResult<Vec<Voicemail>> {
        self.with(|c| voicemail::list(c, user))
    }

    fn voicemail(&self, user: &str, id: &str) -> StoreResult<Option<Voicemail>> {
        self.with(|c| voicemail::one(c, user, id))
    }

    fn mark_voicemail_heard(&self, user: &str, id: &str) -> StoreResult<bool> {
        self.with(|c| voicemail::mark_heard(c, user, id))
    }

    fn presence_settings(&self) -> StoreResult<Vec<(String, PresenceSetting)>> {
        self.with(|c| presence::all(c))
    }

    fn set_presence(&self, user: &str, setting: &PresenceSetting) -> StoreResult<()> {
        self.with(|c| presence::set(c, user, setting))
    }

    fn delete_voicemail(&self, user: &str, id: &str) -> StoreResult<bool> {
        self.with(|c| voicemail::delete(c, user, id))
    }

    fn voicemail_counts(&self, user: &str) -> StoreResult<(u64, u64, u64)> {
        self.with(|c| voicemail::counts(c, user))
    }

    fn voicemail_ids(&self) -> StoreResult<Vec<String>> {
        self.with(|c| voicemail::ids(c))
    }

    fn forget_voicemails(&self, ids: &[String]) -> StoreResult<usize> {
        self.with(|c| voicemail::forget(c, ids))
    }

    fn backup_to(&self, path: &Path) -> StoreResult<()> {
        let mut dst = Connection::open(path)?;
        match &self.path {
            // A connection of its own reads one consistent snapshot in a single step; in
            // WAL mode writers go on meanwhile.
            Some(db) => {
                let src = Connection::open(db)?;
                src.busy_timeout(std::time::Duration::from_secs(5))?;
                let backup = rusqlite::backup::Backup::new(&src, &mut dst)?;
                backup.step(-1)?;
            }
            None => self.with(|c| {
                rusqlite::backup::Backup::new(c, &mut dst)?.step(-1)?;
                Ok(())
            })?,
        }
        Ok(())
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

    /// The quota is checked as the message is added, whatever the caller checked before:
    /// two uploads that each fit alone do not both get in.
    #[test]
    fn a_voice_message_is_added_only_within_the_quota_and_once_per_call() {
        use super::super::VoicemailAdded;
        let s = store();
        let message = |id: &str, room: &str| Voicemail {
            voicemail_id: id.into(),
            from: "alice".into(),
            room_id: room.into(),
            created_at: Utc::now(),
            duration_ms: 1000,
            bytes: 600,
            heard: false,
            message_id: None,
        };
        let add = |v: &Voicemail, quota| s.add_voicemail("bob", v, quota).unwrap();
        assert_eq!(add(&message("vm_1", "call_1"), 1000), VoicemailAdded::Added);
        assert_eq!(
            add(&message("vm_2", "call_2"), 1000),
            VoicemailAdded::OverQuota
        );
        assert_eq!(
            add(&message("vm_3", "call_1"), 1 << 20),
            VoicemailAdded::AlreadyLeft
        );
        assert_eq!(add(&message("vm_2", "call_2"), 1200), VoicemailAdded::Added);
        assert_eq!(s.voicemail_counts("bob").unwrap(), (2, 2, 1200));
        // Another user's mailbox is counted apart.
        assert_eq!(
            s.add_voicemail("carol", &message("vm_4", "call_4"), 600)
                .unwrap(),
            VoicemailAdded::Added
        );
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
            .messages("bob", id, None, Direction::Backwards, 3, None)
            .unwrap();
        assert_eq!(seqs(&newest), vec![8, 9, 10]);
        assert!(newest.has_more);
        let older = s
            .messages(
                "bob",
                id,
                Some(&Anchor::Seq(8)),
                Direction::Backwards,
                5,
                None,
            )
            .unwrap();
        assert_eq!(seqs(&older), vec![3, 4, 5, 6, 7]);
        let oldest = s
            .messages(
                "bob",
                id,
                Some(&Anchor::Seq(3)),
                Direction::Backwards,
                5,
                None,
            )
            .unwrap();
        assert_eq!(seqs(&oldest), vec![1, 2]);
        assert!(!oldest.has_more);
        let anchor = Anchor::MessageId(older.messages[0].message_id.clone());
        let fwd = s
            .messages("bob", id, Some(&anchor), Direction::Forwards, 4, None)
            .unwrap();
        assert_eq!(seqs(&fwd), vec![4, 5, 6, 7]);
        assert!(fwd.has_more);
        assert!(matches!(
            s.messages(
                "bob",
                id,
                Some(&Anchor::parse("msg_nope")),
                Direction::Forwards,
                4,
                None
            ),
            Err(StoreError::Anchor(_))
        ));
    }

    #[test]
    fn search_finds_text_without_case_and_pages_back() {
        let s = store();
        let (ch, _) = s.open_direct_channel("alice", "bob", Utc::now()).unwrap();
        let id = &ch.channel_id;
        for (i, text) in [
            "Lunch at noon?",
            "no",
            "LUNCH tomorrow then",
            "Caffè dopo pranzo",
            "lunch: 100% sure",
        ]
        .iter()
        .enumerate()
        {
            s.insert_message("alice", id, &format!("c{i}"), text, Utc::now())
                .unwrap();
        }
        let seqs = |p: &MessagePage| p.messages.iter().map(|m| m.seq).collect::<Vec<_>>();
        let found = s
            .messages("bob", id, None, Direction::Backwards, 2, Some("lunch"))
            .unwrap();
        assert_eq!(seqs(&found), vec![3, 5]);
        assert!(found.has_more);
        let more = s
            .messages(
                "bob",
                id,
                Some(&Anchor::Seq(3)),
                Direction::Backwards,
                2,
                Some("lunch"),
            )
            .unwrap();
        assert_eq!((seqs(&more), more.has_more), (vec![1], false));
        // Not a pattern: % and _ are themselves.
        let pct = s
            .messages("bob", id, None, Direction::Backwards, 10, Some("100%"))
            .unwrap();
        assert_eq!(seqs(&pct), vec![5]);
        let accent = s
            .messages("bob", id, None, Direction::Backwards, 10, Some("caffè"))
            .unwrap();
        assert_eq!(seqs(&accent), vec![4]);
        // Someone else's channel stays closed.
        assert!(matches!(
            s.messages("carol", id, None, Direction::Backwards, 10, Some("lunch")),
            Err(StoreError::ChannelNotExists(_))
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

    #[test]
    fn inserts_that_arrive_together_share_one_commit() {
        let s = std::sync::Arc::new(store());
        let (ch, _) = s.open_direct_channel("alice", "bob", Utc::now()).unwrap();
        let before = s.insert_commits();
        // Hold the connection, as a commit in progress would, while 20 inserts queue up.
        let guard = s.shared.conn.lock().unwrap();
        let threads: Vec<_> = (0..20)
            .map(|i| {
                let (s, id) = (s.clone(), ch.channel_id.clone());
                std::thread::spawn(move || {
                    s.insert_message("alice", &id, &format!("c{i}"), "hi", Utc::now())
                })
            })
            .collect();
        while s.submitted_inserts() < 20 {
            std::thread::yield_now();
        }
        drop(guard);
        let mut seqs: Vec<u64> = threads
            .into_iter()
            .map(|t| t.join().unwrap().unwrap().message.seq)
            .collect();
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
        assert_eq!(
            s.insert_commits() - before,
            1,
            "one commit for the whole group"
        );
    }

    #[test]
    fn one_bad_insert_does_not_spoil_its_group() {
        let s = std::sync::Arc::new(store());
        let (ch, _) = s.open_direct_channel("alice", "bob", Utc::now()).unwrap();
        let guard = s.shared.conn.lock().unwrap();
        let spawn = |user: &'static str, id: String| {
            let s = s.clone();
            std::thread::spawn(move || s.insert_message(user, &id, "x", "hi", Utc::now()))
        };
        let good = spawn("alice", ch.channel_id.clone());
        let intruder = spawn("carol", ch.channel_id.clone());
        let gone = spawn("alice", "ch_nope".into());
        while s.submitted_inserts() < 3 {
            std::thread::yield_now();
        }
        drop(guard);
        assert_eq!(good.join().unwrap().unwrap().message.seq, 1);
        assert!(matches!(
            intruder.join().unwrap(),
            Err(StoreError::ChannelNotExists(_))
        ));
        assert!(matches!(
            gone.join().unwrap(),
            Err(StoreError::ChannelNotExists(_))
        ));
        assert_eq!(s.channel("bob", &ch.channel_id).unwrap().last_seq, 1);
    }

    #[test]
    fn acknowledged_writes_are_synced() {
        let s = store();
        let sync: i64 = s
            .with(|c| Ok(c.pragma_query_value(None, "synchronous", |r| r.get(0))?))
            .unwrap();
        assert_eq!(sync, 2, "synchronous=FULL");
    }

    #[test]
    fn a_deleted_users_conversations_do_not_pass_to_the_next_holder_of_the_id() {
        let s = store();
        let (old, _) = s.open_direct_channel("alice", "bob", Utc::now()).unwrap();
        s.insert_message("alice", &old.channel_id, "c1", "for bob only", Utc::now())
            .unwrap();
        let left = Voicemail {
            voicemail_id: "vm_1".into(),
            from: "bob".into(),
            room_id: "call_1".into(),
            created_at: Utc::now(),
            duration_ms: 1000,
            bytes: 600,
            heard: false,
            message_id: None,
        };
        s.add_voicemail("alice", &left, 1 << 20).unwrap();
        assert!(s.delete_user("alice").unwrap());
        s.create_user("alice", "Another Alice", Utc::now()).unwrap();
        assert!(
            s.voicemails("alice").unwrap().is_empty(),
            "the mailbox went with her"
        );
        assert!(s.channels_for_user("alice").unwrap().is_empty());
        let (new, created) = s.open_direct_channel("alice", "bob", Utc::now()).unwrap();
        assert!(created);
        assert_ne!(new.channel_id, old.channel_id);
        assert!(matches!(
            s.messages(
                "alice",
                &old.channel_id,
                None,
                Direction::Backwards,
                10,
                None
            ),
            Err(StoreError::ChannelNotExists(_))
        ));
        // Bob keeps the old conversation and its history.
        let kept = s
            .messages("bob", &old.channel_id, None, Direction::Backwards, 10, None)
            .unwrap();
        assert_eq!(kept.messages[0].text, "for bob only");
        assert_eq!(s.channels_for_user("bob").unwrap().len(), 2);
    }

    #[test]
    fn numeric_anchors_beyond_any_sequence_number_are_numbers() {
        assert_eq!(Anchor::parse("18446744073709551616"), Anchor::Seq(u64::MAX));
        assert_eq!(Anchor::parse("007"), Anchor::Seq(7));
        assert_eq!(Anchor::parse("-1"), Anchor::MessageId("-1".into()));
        assert_eq!(Anchor::parse("12a"), Anchor::MessageId("12a".into()));
        let s = store();
        let (ch, _) = s.open_direct_channel("alice", "bob", Utc::now()).unwrap();
        s.insert_message("alice", &ch.channel_id, "c1", "one", Utc::now())
            .unwrap();
        let huge = Anchor::parse("18446744073709551616");
        let back = s
            .messages(
                "bob",
                &ch.channel_id,
                Some(&huge),
                Direction::Backwards,
                5,
                None,
            )
            .unwrap();
        assert_eq!(back.messages.len(), 1);
        let fwd = s
            .messages(
                "bob",
                &ch.channel_id,
                Some(&huge),
                Direction::Forwards,
                5,
                None,
            )
            .unwrap();
        assert!(fwd.messages.is_empty());
    }

    #[test]
    fn a_backup_is_a_consistent_copy_that_opens_as_a_store() {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStore::open(&dir.path().join("db.sqlite3")).unwrap();
        s.create_user("alice", "Alice", Utc::now()).unwrap();
        s.create_user("bob", "Bob", Utc::now()).unwrap();
        let (ch, _) = s.open_direct_channel("alice", "bob", Utc::now()).unwrap();
        for i in 0..50 {
            s.insert_message("alice", &ch.channel_id, &format!("c{i}"), "m", Utc::now())
                .unwrap();
        }
        let copy = dir.path().join("copy.sqlite3");
        s.backup_to(&copy).unwrap();
        // Written after the backup: not in it.
        s.insert_message("alice", &ch.channel_id, "late", "m", Utc::now())
            .unwrap();
        let restored = SqliteStore::open(&copy).unwrap();
        assert_eq!(
            restored.channel("bob", &ch.channel_id).unwrap().last_seq,
            50
        );
        assert_eq!(restored.list_users().unwrap().len(), 2);
    }
}
