//! Voice messages on disk: one Ogg Opus file each under `voicemail/` in the data directory,
//! written whole and synced under a temporary name, then renamed, before its row is stored,
//! so that nothing half-written is ever listed. What a crash leaves behind (a temporary
//! file, a file whose row was never stored) is swept away at start.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::proto::{
    ApiError, CallDirection, CallLogEntry, ErrorCode, VoicemailIndicator, VOICEMAIL_WINDOW_MIN,
};
use crate::server::store::{Store, StoreResult};

/// Where the voice messages live, and how much each user may keep.
#[derive(Debug, Clone)]
pub struct Mailbox {
    dir: PathBuf,
    pub quota_bytes: u64,
}

const SUFFIX: &str = ".ogg";
const PARTIAL: &str = ".part";

impl Mailbox {
    #[must_use]
    pub fn new(data_dir: &Path, quota_bytes: u64) -> Self {
        Mailbox {
            dir: data_dir.join("voicemail"),
            quota_bytes,
        }
    }

    /// A new voice message id.
    #[must_use]
    pub fn new_id() -> String {
        format!("vm_{}", uuid::Uuid::new_v4().simple())
    }

    /// Whether `id` has the form of a voice message id (so it can name a file).
    #[must_use]
    pub fn valid_id(id: &str) -> bool {
        id.strip_prefix("vm_")
            .is_some_and(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()))
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}{SUFFIX}"))
    }

    /// Writes the file of voice message `id`: whole, synced, then under its name.
    pub fn write(&self, id: &str, bytes: &[u8]) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let partial = self.dir.join(format!("{id}{PARTIAL}"));
        let written = (|| {
            let mut f = std::fs::File::create(&partial)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            std::fs::rename(&partial, self.path(id))?;
            std::fs::File::open(&self.dir)?.sync_all()
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        written
    }

    pub fn read(&self, id: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.path(id))
    }

    /// Removes the file of voice message `id` (gone already is fine).
    pub fn remove(&self, id: &str) {
        if let Err(e) = std::fs::remove_file(self.path(id)) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(error = %e, voicemail = id, "cannot remove a voice message file");
            }
        }
    }

    /// Brings the records and the files in line at start: a record whose file is gone (a
    /// backup restored without the `voicemail/` directory, a file removed by hand) is
    /// dropped, so that nothing is listed that cannot be played; then the files without a
    /// record are swept. Returns (records dropped, files removed).
    pub fn reconcile(&self, store: &dyn Store) -> StoreResult<(usize, usize)> {
        let known = store.voicemail_ids()?;
        let (present, missing): (Vec<String>, Vec<String>) =
            known.into_iter().partition(|id| self.path(id).is_file());
        let dropped = if missing.is_empty() {
            0
        } else {
            let n = store.forget_voicemails(&missing)?;
            tracing::warn!(dropped = n, "voice messages without their file dropped");
            n
        };
        Ok((dropped, self.sweep(&present)))
    }

    /// Removes temporary files and files of voice messages the store does not know; returns
    /// how many went.
    pub fn sweep(&self, known: &[String]) -> usize {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let keep = name
                .strip_suffix(SUFFIX)
                .is_some_and(|id| known.iter().any(|k| k == id));
            if !keep && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        if removed > 0 {
            tracing::info!(removed, "voice message files without a record removed");
        }
        removed
    }
}

/// Whether `entry` (the uploader's record of the call) allows leaving a voice message now:
/// an outgoing call to one user, never answered, ended in the last minutes. Returns who the
/// message is for.
pub fn recipient(entry: &CallLogEntry, now: DateTime<Utc>) -> Result<String, ApiError> {
    let refuse = |why: &str| ApiError::new(ErrorCode::VoicemailNotAllowed, why);
    if entry.direction != CallDirection::Outgoing {
        return Err(refuse(
            "only the caller of a call can leave a voice message",
        ));
    }
    if entry.answered_at.is_some() {
        return Err(refuse("the call was answered"));
    }
    let [to] = entry.with.as_slice() else {
        return Err(refuse("voice messages are left after a call to one person"));
    };
    if now - entry.ended_at > chrono::Duration::minutes(VOICEMAIL_WINDOW_MIN) {
        return Err(refuse(&format!(
            "a voice message is left within {VOICEMAIL_WINDOW_MIN} minutes of the call"
        )));
    }
    Ok(to.clone())
}

/// The indicator for counts from the store.
#[must_use]
pub fn indicator((total, unheard, bytes): (u64, u64, u64), quota_bytes: u64) -> VoicemailIndicator {
    VoicemailIndicator {
        total_voice: total,
        unheard_voice: unheard,
        new_messages_waiting: unheard > 0,
        bytes,
        quota_bytes,
    }
}

/// The announcement in the direct channel: "Voice message, 0:12".
#[must_use]
pub fn announcement(duration_ms: u64) -> String {
    let s = duration_ms.div_ceil(1000);
    format!("Voice message, {}:{:02}", s / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::EndReason;

    fn entry() -> CallLogEntry {
        let t = Utc::now();
        CallLogEntry {
            seq: 1,
            room_id: "room_1".into(),
            direction: CallDirection::Outgoing,
            with: vec!["bob".into()],
            created_at: t,
            answered_at: None,
            ended_at: t,
            duration_s: 0,
            end_reason: EndReason::Timeout,
            missed: false,
            seen: false,
            forwarded_to: None,
            transferred_to: None,
            forwarded_by: None,
            transferred_by: None,
        }
    }

    #[test]
    fn only_the_caller_of_a_recent_unanswered_call_leaves_one() {
        let now = Utc::now();
        assert_eq!(recipient(&entry(), now).unwrap(), "bob");
        let code = |e: CallLogEntry, now| recipient(&e, now).unwrap_err().code;
        let mut answered = entry();
        answered.answered_at = Some(now);
        assert_eq!(code(answered, now), ErrorCode::VoicemailNotAllowed);
        let mut incoming = entry();
        incoming.direction = CallDirection::Incoming;
        assert_eq!(code(incoming, now), ErrorCode::VoicemailNotAllowed);
        let mut group = entry();
        group.with.push("carol".into());
        assert_eq!(code(group, now), ErrorCode::VoicemailNotAllowed);
        let later = now + chrono::Duration::minutes(VOICEMAIL_WINDOW_MIN + 1);
        assert_eq!(code(entry(), later), ErrorCode::VoicemailNotAllowed);
    }

    #[test]
    fn files_are_written_whole_and_strays_swept() {
        let dir = tempfile::tempdir().unwrap();
        let m = Mailbox::new(dir.path(), 1000);
        let (a, b) = (Mailbox::new_id(), Mailbox::new_id());
        assert!(Mailbox::valid_id(&a) && !Mailbox::valid_id("vm_../../etc"));
        m.write(&a, b"one").unwrap();
        m.write(&b, b"two").unwrap();
        std::fs::write(dir.path().join("voicemail").join(format!("{a}.part")), b"x").unwrap();
        assert_eq!(m.sweep(std::slice::from_ref(&a)), 2);
        assert_eq!(m.read(&a).unwrap(), b"one");
        assert!(m.read(&b).is_err());
        m.remove(&a);
        m.remove(&a);
        assert!(m.read(&a).is_err());
    }

    /// A record without its file (a backup restored without `voicemail/`) is dropped at
    /// start, a file without its record removed, and a whole message kept.
    #[test]
    fn records_and_files_are_brought_in_line_at_start() {
        use crate::proto::Voicemail;
        use crate::server::store::SqliteStore;
        let dir = tempfile::tempdir().unwrap();
        let m = Mailbox::new(dir.path(), 1 << 20);
        let store = SqliteStore::open_in_memory().unwrap();
        let (kept, lost, stray) = (Mailbox::new_id(), Mailbox::new_id(), Mailbox::new_id());
        for (i, id) in [&kept, &lost].into_iter().enumerate() {
            let v = Voicemail {
                voicemail_id: id.clone(),
                from: "alice".into(),
                room_id: format!("call_{i}"),
                created_at: Utc::now(),
                duration_ms: 1000,
                bytes: 3,
                heard: false,
                message_id: None,
            };
            store.add_voicemail("bob", &v, 1 << 20).unwrap();
        }
        m.write(&kept, b"one").unwrap();
        m.write(&stray, b"two").unwrap();
        assert_eq!(m.reconcile(&store).unwrap(), (1, 1));
        let left: Vec<String> = store
            .voicemails("bob")
            .unwrap()
            .into_iter()
            .map(|v| v.voicemail_id)
            .collect();
        assert_eq!(left, vec![kept.clone()]);
        assert_eq!(m.read(&kept).unwrap(), b"one");
        assert!(m.read(&stray).is_err());
        assert_eq!(m.reconcile(&store).unwrap(), (0, 0));
    }

    #[test]
    fn announcements_read_as_minutes_and_seconds() {
        assert_eq!(announcement(12_300), "Voice message, 0:13");
        assert_eq!(announcement(120_000), "Voice message, 2:00");
    }
}
