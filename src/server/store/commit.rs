//! Group commit: a writer thread stores every message queued while the previous commit
//! ran in one transaction with one sync, then reports each outcome in queue order; and
//! checkpoints, on a thread of their own so that no commit waits for one.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::rows::{
    millis_to_time, new_id, participants_of, read_seq_of, row_to_message, to_u64, MESSAGE_COLUMNS,
};
use super::{Done, NewMessage, StoreError, StoreResult, Stored};
use crate::proto::Message;

/// What the store and its writer thread share.
pub(super) struct Shared {
    pub(super) conn: Mutex<Connection>,
    /// Commits that wrote inserted messages, for tests and diagnostics.
    pub(super) insert_commits: AtomicU64,
    /// Messages submitted so far.
    pub(super) submitted: AtomicUsize,
}

/// Most messages written by one commit.
const MAX_BATCH: usize = 1024;

/// One message waiting for a commit, with what to call when it is done.
pub(super) struct InsertRequest {
    pub(super) message: NewMessage,
    pub(super) done: Done,
}

impl Shared {
    pub(super) fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut guard = self
            .conn
            .lock()
            .map_err(|_| StoreError::Backend("store lock poisoned".into()))?;
        f(&mut guard)
    }
}

/// The writer thread: waits for a message, takes the connection, gathers everything
/// queued by then, and commits it as one group.
pub(super) fn writer(shared: &Shared, rx: &mpsc::Receiver<InsertRequest>) {
    while let Ok(first) = rx.recv() {
        let mut conn = match shared.conn.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        let outcomes = commit_batch(&mut conn, &batch);
        drop(conn);
        shared.insert_commits.fetch_add(1, Ordering::Relaxed);
        for (r, outcome) in batch.into_iter().zip(outcomes) {
            (r.done)(outcome);
        }
    }
}

/// How often the log is copied into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// The checkpoint thread: copies the write-ahead log into the database file every second
/// without holding writers up (a passive checkpoint), until the store goes away.
pub(super) fn checkpointer(conn: &Connection, stop: &mpsc::Receiver<()>) {
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(CHECKPOINT_EVERY) {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "checkpoint failed");
        }
    }
    // A last full one, so a clean stop leaves a small log behind.
    let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
}

/// Writes a batch in one transaction with one sync. One failing insert (say, a channel
/// that is gone) is rolled back alone; a commit that fails (disk full, I/O error) fails
/// them all, and none of them is stored.
fn commit_batch(conn: &mut Connection, batch: &[InsertRequest]) -> Vec<StoreResult<Stored>> {
    let written = (|| -> StoreResult<Vec<StoreResult<Stored>>> {
        let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut outcomes = Vec::with_capacity(batch.len());
        for r in batch {
            let sp = tx.savepoint()?;
            match insert_one(&sp, &r.message) {
                Ok(stored) => {
                    sp.commit()?;
                    outcomes.push(Ok(stored));
                }
                // Dropping the savepoint rolls this one insert back.
                Err(e) => outcomes.push(Err(e)),
            }
        }
        tx.commit()?;
        Ok(outcomes)
    })();
    match written {
        Ok(outcomes) => outcomes,
        Err(e) => {
            tracing::error!(error = %e, messages = batch.len(), "a group commit failed");
            batch
                .iter()
                .map(|_| Err(StoreError::Backend(e.to_string())))
                .collect()
        }
    }
}

/// Stores one message (or finds the one stored before under its `client_id`).
fn insert_one(conn: &Connection, r: &NewMessage) -> StoreResult<Stored> {
    let (user, channel_id, client_id) = (&r.user, &r.channel_id, &r.client_id);
    read_seq_of(conn, user, channel_id)?;
    let participants = participants_of(conn, channel_id)?;
    let existing = conn
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE channel_id = ?1 AND sender = ?2 AND client_id = ?3"
        ))?
        .query_row(params![channel_id, user, client_id], row_to_message)
        .optional()?;
    if let Some(message) = existing {
        return Ok(Stored {
            message,
            inserted: false,
            participants,
        });
    }
    let last: i64 = conn
        .prepare_cached("SELECT last_seq FROM channels WHERE channel_id = ?1")?
        .query_row([channel_id], |r| r.get(0))?;
    let seq = last + 1;
    let message = Message {
        message_id: new_id("msg"),
        channel_id: channel_id.clone(),
        seq: to_u64(seq),
        sender: user.clone(),
        text: r.text.clone(),
        created_at: millis_to_time(r.now.timestamp_millis()),
        client_id: client_id.clone(),
        voicemail_id: r.voicemail_id.clone(),
    };
    conn.prepare_cached(&format!(
        "INSERT INTO messages ({MESSAGE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    ))?
    .execute(params![
        channel_id,
        seq,
        message.message_id,
        user,
        client_id,
        r.text,
        r.now.timestamp_millis(),
        r.voicemail_id
    ])?;
    conn.prepare_cached("UPDATE channels SET last_seq = ?2 WHERE channel_id = ?1")?
        .execute(params![channel_id, seq])?;
    Ok(Stored {
        message,
        inserted: true,
        participants,
    })
}
