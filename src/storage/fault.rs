//! Storage faults: which database errors mean the storage itself cannot take writes
//! (full disk, read-only, I/O errors, the server gone), what the log says to do about
//! them, the failed-commit count, and the pool's guard against poisoned connections.
//!
//! The guard: a failed `COMMIT` or `ROLLBACK` (SQLite's `SQLITE_FULL`, `SQLITE_READONLY`,
//! `SQLITE_IOERR`, which roll the transaction back themselves) leaves sqlx's count of
//! open transactions on that connection above zero, and every later `BEGIN` on it fails
//! ("begin_with at non-zero transaction depth") until the process restarts. The pool runs
//! [`still_clean`] on every connection it gets back and closes such a connection.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::Connection;

use super::StorageError;

/// A fault of the storage rather than of one statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StorageFault {
    /// No space left (`SQLITE_FULL`, PostgreSQL `53100`).
    DiskFull,
    /// Writes refused (`SQLITE_READONLY`, PostgreSQL `25006` on a read-only server).
    ReadOnly,
    /// The disk failed a read or write (`SQLITE_IOERR`, PostgreSQL `58030`).
    IoError,
    /// The database cannot be reached, or the pool has no connection to give.
    Unavailable,
}

impl StorageFault {
    pub fn code(self) -> &'static str {
        match self {
            Self::DiskFull => "database_disk_full",
            Self::ReadOnly => "database_read_only",
            Self::IoError => "database_io_error",
            Self::Unavailable => "database_unavailable",
        }
    }

    /// What an operator should do, for the log.
    pub fn advice(self) -> &'static str {
        match self {
            Self::DiskFull => {
                "the database's disk is full: free space or grow the volume; slackdesk resumes by itself within seconds"
            }
            Self::ReadOnly => {
                "the database refuses writes (read-only file, filesystem or server): make it writable or point DATABASE_URL at the primary; slackdesk resumes by itself"
            }
            Self::IoError => {
                "the database's disk reported an I/O error: check the volume and the kernel log; slackdesk resumes by itself when writes succeed"
            }
            Self::Unavailable => {
                "the database cannot be reached or has no free connection: check that it runs and DATABASE_MAX_CONNECTIONS"
            }
        }
    }
}

impl StorageError {
    /// The storage fault behind this error, if it is one (and not a bad statement).
    pub fn fault(&self) -> Option<StorageFault> {
        let Self::Database(error) = self else {
            return None;
        };
        match error {
            sqlx::Error::Database(db) => db.code().and_then(|code| fault_of_code(&code)),
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => Some(StorageFault::Unavailable),
            _ => None,
        }
    }
}

/// PostgreSQL SQLSTATEs (five characters) and SQLite result codes (at most four digits;
/// the primary code is the low byte of the extended code).
fn fault_of_code(code: &str) -> Option<StorageFault> {
    if code.len() != 5
        && let Ok(sqlite) = code.parse::<i64>()
    {
        return match sqlite & 0xff {
            13 => Some(StorageFault::DiskFull),
            8 => Some(StorageFault::ReadOnly),
            10 => Some(StorageFault::IoError),
            14 => Some(StorageFault::IoError), // SQLITE_CANTOPEN
            _ => None,
        };
    }
    match code {
        "53100" => Some(StorageFault::DiskFull),
        "25006" => Some(StorageFault::ReadOnly),
        "58030" => Some(StorageFault::IoError),
        "53000" | "53200" | "53300" | "57P01" | "57P02" | "57P03" | "08000" | "08003" | "08006" => {
            Some(StorageFault::Unavailable)
        }
        _ => None,
    }
}

/// Whether writes succeed now, and failed commits so far.
#[derive(Debug, Default)]
pub struct WriteHealth {
    failed_writes: AtomicU64,
    /// The fault of the last failed write, cleared by the next successful one.
    current: Mutex<Option<StorageFault>>,
}

impl WriteHealth {
    pub fn record_success(&self) {
        if let Ok(mut current) = self.current.lock()
            && let Some(fault) = current.take()
        {
            tracing::info!(fault = fault.code(), "database writes succeed again");
        }
    }

    pub fn record_failure(&self, error: &StorageError) {
        self.failed_writes.fetch_add(1, Ordering::Relaxed);
        let Some(fault) = error.fault() else {
            return;
        };
        if let Ok(mut current) = self.current.lock() {
            if *current != Some(fault) {
                tracing::error!(
                    fault = fault.code(),
                    advice = fault.advice(),
                    "database write failed"
                );
            }
            *current = Some(fault);
        }
    }

    /// Failed commits and write probes since the start.
    pub fn failed_writes(&self) -> u64 {
        self.failed_writes.load(Ordering::Relaxed)
    }

    /// The storage fault seen last, until a write succeeds.
    pub fn current_fault(&self) -> Option<StorageFault> {
        self.current.lock().ok().and_then(|c| *c)
    }
}

/// The pool's check of a returned connection: keep it only if the driver does not count
/// it as inside a transaction. A transaction dropped without commit (an error path) is
/// also still counted at this point (its rollback is queued), so that connection is
/// closed too: a reconnect on an error path, instead of a round trip on every release.
pub(super) async fn still_clean(conn: &mut sqlx::AnyConnection) -> Result<bool, sqlx::Error> {
    if conn.is_in_transaction() {
        tracing::warn!("a database connection was left inside a failed transaction; closing it");
        return Ok(false);
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_and_postgres_codes_name_the_fault() {
        assert_eq!(fault_of_code("13"), Some(StorageFault::DiskFull));
        assert_eq!(fault_of_code("1032"), Some(StorageFault::ReadOnly)); // READONLY_DBMOVED
        assert_eq!(fault_of_code("778"), Some(StorageFault::IoError)); // IOERR_WRITE
        assert_eq!(fault_of_code("2067"), None); // CONSTRAINT_UNIQUE
        assert_eq!(fault_of_code("53100"), Some(StorageFault::DiskFull));
        assert_eq!(fault_of_code("25006"), Some(StorageFault::ReadOnly));
        assert_eq!(fault_of_code("23505"), None);
    }
}
