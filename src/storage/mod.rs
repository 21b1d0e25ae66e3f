//! The database: one handle over SQLite (default, one file, WAL) or PostgreSQL
//! (several replicas), the migrations, and one module of plain functions per table.
//!
//! Queries go through sqlx's `Any` driver, so the schema keeps to types both databases
//! decode the same way: integers (unix milliseconds for times, 0/1 for flags), text and
//! bytes. Where the two need different SQL (row locking), [`Backend`] says which to use.

pub mod accounts;
pub mod agents;
pub mod api_keys;
pub mod app_sessions;
pub mod app_settings;
pub mod app_sign_ins;
pub mod app_tokens;
pub mod attachment_jobs;
pub mod board_sessions;
pub mod channel_links;
pub mod channelbacks;
pub mod oauth_states;
pub mod outbox;
pub mod rotation;
pub mod routing;
pub mod setup_counts;
pub mod setup_sessions;
pub mod slack_events;
pub mod slack_jobs;
pub mod slack_workspaces;
pub mod status_rules;
pub mod statuses;
pub mod threads;
pub mod ticket_links;
pub mod workspace_grants;
pub mod zendesk_connections;
pub mod zendesk_hooks;

mod fault;

pub use fault::{StorageFault, WriteHealth};

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

use crate::config::DatabaseSettings;
use crate::crypto::CryptoError;

/// A write transaction.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create the database folder {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
    #[error("a stored value is corrupt: {0}")]
    Corrupt(&'static str),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("the Slack event writer has stopped")]
    WriterStopped,
}

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The shared database handle; cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    health: std::sync::Arc<WriteHealth>,
}

const SQLITE_PRAGMAS: [&str; 4] = [
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA busy_timeout = 10000",
    "PRAGMA foreign_keys = ON",
];

impl Db {
    /// Connects, creating the SQLite file (and its folder) when missing.
    pub async fn connect(settings: &DatabaseSettings) -> Result<Self, StorageError> {
        sqlx::any::install_default_drivers();
        let url = settings.database_url.expose();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let url = match backend {
            Backend::Sqlite => prepare_sqlite_url(url)?,
            Backend::Postgres => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
        let pool = AnyPoolOptions::new()
            .max_connections(settings.database_max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        for pragma in SQLITE_PRAGMAS {
                            conn.execute(pragma).await?;
                        }
                    }
                    Ok(())
                })
            })
            .after_release(|conn, _| Box::pin(fault::still_clean(conn)))
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            backend,
            health: std::sync::Arc::default(),
        })
    }

    /// Whether writes succeed, and how many commits failed (for `/readyz` and `/metrics`).
    pub fn health(&self) -> &WriteHealth {
        &self.health
    }

    /// Commits a write transaction, counting a failure and naming a storage fault (full
    /// disk, read-only, I/O error) in the log with what to do. Nothing of a failed commit
    /// is kept: the transaction is rolled back, and a connection the driver still thinks
    /// is inside it is discarded when it returns to the pool.
    pub async fn commit(&self, tx: Tx) -> Result<(), StorageError> {
        match tx.commit().await {
            Ok(()) => {
                self.health.record_success();
                Ok(())
            }
            Err(error) => {
                let error = StorageError::from(error);
                self.health.record_failure(&error);
                Err(error)
            }
        }
    }

    /// A write that touches one row of `health_probe` in a transaction: the readiness
    /// check. It fails while the database cannot take writes, and passes again by itself.
    pub async fn probe_write(&self) -> Result<(), StorageError> {
        let result = async {
            let mut tx = self.begin_write().await?;
            sqlx::query("UPDATE health_probe SET written_at = $1 WHERE id = 1")
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
            tx.commit().await.map_err(StorageError::from)
        }
        .await;
        match &result {
            Ok(()) => self.health.record_success(),
            Err(error) => self.health.record_failure(error),
        }
        result
    }

    /// Applies the migrations of this database kind.
    pub async fn migrate(&self) -> Result<(), StorageError> {
        match self.backend {
            Backend::Sqlite => {
                sqlx::migrate!("./migrations/sqlite")
                    .run(&self.pool)
                    .await?
            }
            Backend::Postgres => {
                sqlx::migrate!("./migrations/postgres")
                    .run(&self.pool)
                    .await?
            }
        }
        Ok(())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so two writers queue on the busy timeout instead of failing
    /// when a read lock is upgraded.
    pub async fn begin_write(&self) -> Result<Tx, StorageError> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(tx)
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Adds `mode=rwc` so the file is created, and creates its folder.
fn prepare_sqlite_url(url: &str) -> Result<String, StorageError> {
    let path_part = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let file = path_part.split('?').next().unwrap_or_default();
    let in_memory = file.is_empty() || file == ":memory:";
    let folder = Path::new(file)
        .parent()
        .filter(|d| !in_memory && !d.as_os_str().is_empty());
    if let Some(dir) = folder {
        std::fs::create_dir_all(dir).map_err(|source| StorageError::Folder {
            path: dir.display().to_string(),
            source,
        })?;
    }
    if url.contains("mode=") || in_memory {
        Ok(url.to_owned())
    } else if url.contains('?') {
        Ok(format!("{url}&mode=rwc"))
    } else {
        Ok(format!("{url}?mode=rwc"))
    }
}

/// Now, in unix milliseconds: the time unit of every stored time.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// `$1, $2, …, $n` starting after `offset` placeholders.
pub(crate) fn placeholders(offset: usize, n: usize) -> String {
    (1..=n)
        .map(|i| format!("${}", offset + i))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_get_create_mode() {
        let dir = std::env::temp_dir().join(format!("sd-{}", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}/x.db", dir.display());
        assert!(matches!(prepare_sqlite_url(&url), Ok(u) if u.ends_with("?mode=rwc")));
        assert!(dir.exists());
        assert_eq!(
            prepare_sqlite_url("sqlite::memory:").ok().as_deref(),
            Some("sqlite::memory:")
        );
    }

    #[test]
    fn placeholders_are_numbered_from_the_offset() {
        assert_eq!(placeholders(1, 3), "$2, $3, $4");
    }
}
