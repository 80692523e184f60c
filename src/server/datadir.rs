//! The server's data directory: the database file, the lock that keeps two servers (or a
//! server and a restore) from using it at once, and restoring a backup into it.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::store::{SqliteStore, SCHEMA_VERSION};

/// The database file in a data directory.
pub fn database_path(data_dir: &Path) -> PathBuf {
    data_dir.join("parla.sqlite3")
}

#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the data directory {0} is in use by a running parla serve; stop it first")]
    InUse(PathBuf),
    #[error("{path} is not a usable parla backup: {reason}")]
    BadBackup { path: PathBuf, reason: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DataDirError + '_ {
    move |source| DataDirError::Io {
        path: path.to_owned(),
        source,
    }
}

/// An exclusive lock on a data directory, held for as long as this value lives (the
/// operating system drops it with the process, so a killed server leaves no stale lock).
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    pub fn acquire(data_dir: &Path) -> Result<Self, DataDirError> {
        let path = data_dir.join("parla.lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        match file.try_lock() {
            Ok(()) => Ok(DataDirLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(DataDirError::InUse(data_dir.to_owned())),
            Err(std::fs::TryLockError::Error(e)) => Err(io(&path)(e)),
        }
    }
}

/// What [`restore`] did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Restored {
    pub database: PathBuf,
    /// Where the database that was there before now is (nothing is deleted).
    pub previous: Option<PathBuf>,
    pub schema_version: u32,
    pub users: usize,
}

/// Checks that `backup` is a whole parla database this version can open; returns its
/// schema version and how many users it holds.
pub fn check_backup(backup: &Path) -> Result<(u32, usize), DataDirError> {
    use rusqlite::OpenFlags;
    let bad = |reason: String| DataDirError::BadBackup {
        path: backup.to_owned(),
        reason,
    };
    let conn = rusqlite::Connection::open_with_flags(backup, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| bad(e.to_string()))?;
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| bad(e.to_string()))?;
    if check != "ok" {
        return Err(bad(format!("integrity check: {check}")));
    }
    let version: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| bad(e.to_string()))?;
    if version > SCHEMA_VERSION {
        return Err(bad(format!(
            "written by a newer parla (schema {version}; this one reads up to {SCHEMA_VERSION})"
        )));
    }
    let users: i64 = conn
        .query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))
        .map_err(|e| bad(format!("no parla tables ({e})")))?;
    conn.query_row("SELECT COUNT(*) FROM settings", [], |r| r.get::<_, i64>(0))
        .map_err(|e| bad(format!("no parla tables ({e})")))?;
    Ok((version, usize::try_from(users).unwrap_or(0)))
}

/// Puts a backup in place as the data directory's database, with the server stopped.
/// The backup is checked first; the database that was there is kept beside it under a
/// `.replaced-<time>` name, and the new one is migrated as a server start would.
pub fn restore(backup: &Path, data_dir: &Path) -> Result<Restored, DataDirError> {
    std::fs::create_dir_all(data_dir).map_err(io(data_dir))?;
    let _lock = DataDirLock::acquire(data_dir)?;
    let (_, users) = check_backup(backup)?;
    let db = database_path(data_dir);
    let incoming = data_dir.join("parla.sqlite3.restoring");
    std::fs::copy(backup, &incoming).map_err(io(&incoming))?;
    File::open(&incoming)
        .and_then(|f| f.sync_all())
        .map_err(io(&incoming))?;
    let previous = if db.exists() {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let aside = data_dir.join(format!("parla.sqlite3.replaced-{stamp}"));
        // The log files belong to the old database: they move with it.
        for suffix in ["-wal", "-shm"] {
            let from = PathBuf::from(format!("{}{suffix}", db.display()));
            let to = PathBuf::from(format!("{}{suffix}", aside.display()));
            // Gone already (the last connection to close removes its log files, and may
            // still be doing so): nothing to move.
            match std::fs::rename(&from, &to) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                other => other.map_err(io(&from))?,
            }
        }
        std::fs::rename(&db, &aside).map_err(io(&db))?;
        Some(aside)
    } else {
        None
    };
    std::fs::rename(&incoming, &db).map_err(io(&db))?;
    File::open(data_dir)
        .and_then(|d| d.sync_all())
        .map_err(io(data_dir))?;
    // Opening it runs the migrations, so the server starts on a current schema.
    drop(SqliteStore::open(&db).map_err(|e| DataDirError::BadBackup {
        path: backup.to_owned(),
        reason: e.to_string(),
    })?);
    Ok(Restored {
        database: db,
        previous,
        schema_version: SCHEMA_VERSION,
        users,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::Store;

    #[test]
    fn one_lock_per_data_directory() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(dir.path()).unwrap();
        assert!(matches!(
            DataDirLock::acquire(dir.path()),
            Err(DataDirError::InUse(_))
        ));
        drop(first);
        DataDirLock::acquire(dir.path()).unwrap();
    }

    #[test]
    fn restore_checks_the_backup_and_keeps_what_it_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let live = SqliteStore::open(&database_path(&data)).unwrap();
        live.create_user("alice", "Alice", chrono::Utc::now())
            .unwrap();
        let backup = dir.path().join("backup.sqlite3");
        live.backup_to(&backup).unwrap();
        live.create_user("bob", "Bob", chrono::Utc::now()).unwrap();
        drop(live);

        let junk = dir.path().join("junk");
        std::fs::write(&junk, b"not a database at all").unwrap();
        assert!(matches!(
            restore(&junk, &data),
            Err(DataDirError::BadBackup { .. })
        ));
        {
            // Refused while a server holds the directory.
            let _server = DataDirLock::acquire(&data).unwrap();
            assert!(matches!(
                restore(&backup, &data),
                Err(DataDirError::InUse(_))
            ));
        }
        let done = restore(&backup, &data).unwrap();
        assert_eq!(done.users, 1);
        let previous = done.previous.unwrap();
        let restored = SqliteStore::open(&database_path(&data)).unwrap();
        assert_eq!(restored.list_users().unwrap().len(), 1, "as at the backup");
        let kept = SqliteStore::open(&previous).unwrap();
        assert_eq!(kept.list_users().unwrap().len(), 2, "the old one is kept");
    }
}
