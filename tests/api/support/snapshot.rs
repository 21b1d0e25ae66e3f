//! Every row of every table, as text, so a test can show that a request changed nothing.

use std::collections::BTreeMap;

use slackdesk::storage::{Backend, Db};
use sqlx::Row;

/// Table name → every row rendered as one string, sorted.
pub type Snapshot = BTreeMap<String, Vec<String>>;

/// The application's tables (migration bookkeeping left out).
pub async fn tables(db: &Db) -> Vec<String> {
    let sql = match db.backend() {
        Backend::Sqlite => {
            "SELECT name AS t FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%' ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT) AS t FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%' ORDER BY table_name"
        }
    };
    sqlx::query(sql)
        .fetch_all(db.pool())
        .await
        .expect("list tables")
        .iter()
        .map(|row| row.get::<String, _>("t"))
        .collect()
}

/// Every row of every table. Blobs (sealed credentials) are included, as SQLite's
/// `X'…'` or PostgreSQL's `\x…` text.
pub async fn take(db: &Db) -> Snapshot {
    take_except(db, &[]).await
}

/// As [`take`], leaving out some `(table, column)`s: bookkeeping that a request may
/// legitimately touch, such as an API key's usage counter.
pub async fn take_except(db: &Db, ignore: &[(&str, &str)]) -> Snapshot {
    let mut snapshot = Snapshot::new();
    for table in tables(db).await {
        let columns_sql = match db.backend() {
            Backend::Sqlite => format!("SELECT name AS c FROM pragma_table_info('{table}')"),
            Backend::Postgres => format!(
                "SELECT CAST(column_name AS TEXT) AS c FROM information_schema.columns \
                 WHERE table_schema = 'public' AND table_name = '{table}' ORDER BY ordinal_position"
            ),
        };
        let columns: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(columns_sql))
            .fetch_all(db.pool())
            .await
            .expect("columns")
            .iter()
            .map(|row| row.get::<String, _>("c"))
            .filter(|c| !ignore.contains(&(table.as_str(), c.as_str())))
            .map(|c| match db.backend() {
                Backend::Sqlite => format!("quote(\"{c}\")"),
                Backend::Postgres => format!("COALESCE(CAST(\"{c}\" AS TEXT), 'NULL')"),
            })
            .collect();
        let sql = format!(
            "SELECT {} AS r FROM \"{table}\"",
            columns.join(" || '|' || ")
        );
        let mut rows: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(db.pool())
            .await
            .expect("rows")
            .iter()
            .map(|row| row.get::<String, _>("r"))
            .collect();
        rows.sort();
        snapshot.insert(table, rows);
    }
    snapshot
}

/// The tables whose rows differ, with what was added and removed (for the failure message).
pub fn diff(before: &Snapshot, after: &Snapshot) -> Vec<String> {
    let mut changes = Vec::new();
    for (table, rows) in after {
        let old = before.get(table).cloned().unwrap_or_default();
        if &old != rows {
            let added: Vec<_> = rows.iter().filter(|r| !old.contains(r)).collect();
            let removed: Vec<_> = old.iter().filter(|r| !rows.contains(r)).collect();
            changes.push(format!("{table}: added {added:?}, removed {removed:?}"));
        }
    }
    changes
}

/// Rows per table (a short summary for the printed figures).
pub fn rows(snapshot: &Snapshot) -> usize {
    snapshot.values().map(Vec::len).sum()
}
