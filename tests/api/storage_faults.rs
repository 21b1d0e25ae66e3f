//! Storage faults under traffic: a full disk (SQLite on a small tmpfs this test mounts)
//! and a read-only database (PostgreSQL switched to `default_transaction_read_only`).
//! During the fault Slack gets 503 with `Retry-After` and `/readyz` fails; afterwards,
//! with no restart, every retried and new event is accepted and reaches Zendesk once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use sqlx::Connection;
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

use crate::support::{
    Backend, Options, TestApp, eventually, fake_slack, message_event, spawn_app_with,
};

const PUSH_PATH: &str = "/z/acme/api/v2/any_channel/push";

/// Zendesk's push: imports each external id once and answers `already_imported` for a
/// repeat (a push whose success slackdesk could not record during the fault is sent
/// again, as at-least-once delivery must).
#[derive(Default, Clone)]
struct ImportOnce {
    imported: std::sync::Arc<std::sync::Mutex<HashMap<String, usize>>>,
}

impl Respond for ImportOnce {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let mut imported = self.imported.lock().unwrap();
        let results: Vec<Value> = body["external_resources"]
            .as_array()
            .map(|all| {
                all.iter()
                    .map(|r| {
                        let id = r["external_id"].as_str().unwrap_or("").to_owned();
                        let count = imported.entry(id.clone()).or_default();
                        *count += 1;
                        let code = if *count == 1 {
                            "success"
                        } else {
                            "already_imported"
                        };
                        json!({"external_resource_id": id, "status": {"code": code}})
                    })
                    .collect()
            })
            .unwrap_or_default();
        ResponseTemplate::new(200).set_body_json(json!({ "results": results }))
    }
}

async fn linked_app(backend: Backend, sqlite_file: Option<PathBuf>) -> (TestApp, ImportOnce) {
    let app = spawn_app_with(
        backend,
        Options {
            workers: true,
            sqlite_file,
            ..Options::default()
        },
    )
    .await;
    let metadata = app.create_account(true).await;
    app.connect_slack(&metadata).await;
    fake_slack::echo_messages(&app.slack).await;
    fake_slack::serve_user(&app.slack, "U0ALICE", "Alice").await;
    let zendesk = ImportOnce::default();
    Mock::given(method("POST"))
        .and(path(PUSH_PATH))
        .respond_with(zendesk.clone())
        .mount(&app.zendesk)
        .await;
    (app, zendesk)
}

fn ts(n: usize) -> String {
    format!("1700{n:06}.000100")
}

fn external_id(n: usize) -> String {
    format!("slack:T0TEAM:C0CHAN:{}", ts(n))
}

async fn readyz(app: &TestApp) -> (u16, Value) {
    let response = app.get("/readyz").await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Sends events `from..` until one is refused with a 5xx (at most `limit`); returns the
/// refused events (to be retried, as Slack does) and how many were sent.
async fn send_until_refused(app: &TestApp, from: usize, limit: usize) -> (Vec<Value>, usize) {
    let mut refused = Vec::new();
    for n in from..from + limit {
        let event = message_event("U0ALICE", &ts(n), None, "Need help");
        let answer = app.post_slack_event(&event).await;
        if answer.status().is_server_error() {
            let status = answer.status();
            let has_retry_after = answer.headers().contains_key("retry-after");
            let body = answer.text().await.unwrap_or_default();
            assert_eq!(status, 503, "a storage fault is a 503: {body}");
            assert!(has_retry_after, "with Retry-After");
            refused.push(event);
            if refused.len() == 3 {
                return (refused, n + 1 - from);
            }
        } else {
            assert_eq!(answer.status(), 200);
        }
    }
    (refused, limit)
}

/// After the fault: Slack's retries of the refused events and new events are accepted,
/// and every accepted event reaches Zendesk exactly once.
async fn recovers(
    app: &TestApp,
    zendesk: &ImportOnce,
    refused: &[Value],
    sent_before: usize,
    what: &str,
) {
    eventually(
        &format!("/readyz to pass again after {what}"),
        30,
        || async { (readyz(app).await.0 == 200).then_some(()) },
    )
    .await;
    for event in refused {
        let retried = app
            .post_slack_raw(
                event.to_string().into_bytes(),
                chrono::Utc::now().timestamp(),
                Some(1),
            )
            .await;
        assert_eq!(
            retried.status(),
            200,
            "Slack's retry is accepted after {what}"
        );
    }
    for n in sent_before..sent_before + 5 {
        let answer = app
            .post_slack_event(&message_event("U0ALICE", &ts(n), None, "After"))
            .await;
        assert_eq!(answer.status(), 200, "new events are accepted after {what}");
    }
    let accepted: Vec<String> = sqlx::query_scalar("SELECT external_id FROM outbox")
        .fetch_all(app.state.db.pool())
        .await
        .unwrap();
    for event in refused {
        let id = format!(
            "slack:T0TEAM:C0CHAN:{}",
            event["event"]["ts"].as_str().unwrap()
        );
        assert!(accepted.contains(&id), "refused event {id} queued on retry");
    }
    eventually("every accepted event to reach Zendesk", 30, || async {
        let imported = zendesk.imported.lock().unwrap().clone();
        accepted
            .iter()
            .all(|id| imported.contains_key(id))
            .then_some(())
    })
    .await;
    eventually("the queue to drain", 30, || async {
        (slackdesk::storage::outbox::depth(&app.state.db).await.ok() == Some(0)).then_some(())
    })
    .await;
    let imported = zendesk.imported.lock().unwrap().clone();
    assert!(imported.contains_key(&external_id(sent_before + 4)));
    assert_eq!(
        imported.len(),
        accepted.len(),
        "Zendesk imported each accepted event once, and nothing else"
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("slackdesk_database_writable 1"),
        "{metrics}"
    );
    assert!(
        !metrics.contains("slackdesk_database_failed_writes_total 0\n"),
        "failed commits were counted: {metrics}"
    );
}

/// A tmpfs of `megabytes` mounted on `dir`, unmounted when dropped.
struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    fn mount(dir: &Path, megabytes: u32) -> Option<Self> {
        std::fs::create_dir_all(dir).ok()?;
        let done = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir)
            .output()
            .ok()?;
        done.status.success().then(|| Self {
            dir: dir.to_owned(),
        })
    }

    /// Fills the disk with a file until writes fail with ENOSPC.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let filler = self.dir.join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![0xA5u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        let _ = file.sync_all();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

#[tokio::test]
async fn sqlite_on_a_full_disk_answers_503_then_recovers_without_a_restart() {
    let root = tempfile::tempdir().unwrap();
    let Some(disk) = SmallDisk::mount(&root.path().join("disk"), 16) else {
        eprintln!(
            "SKIPPED: mounting a tmpfs needs root (CAP_SYS_ADMIN); the full-disk test did not run"
        );
        return;
    };
    let (app, zendesk) = linked_app(Backend::Sqlite, Some(disk.dir.join("slackdesk.db"))).await;
    for n in 0..5 {
        let answer = app
            .post_slack_event(&message_event("U0ALICE", &ts(n), None, "Before"))
            .await;
        assert_eq!(answer.status(), 200);
    }
    assert_eq!(readyz(&app).await.0, 200);

    let filler = disk.fill();
    let (refused, sent) = send_until_refused(&app, 5, 5_000).await;

    assert!(
        !refused.is_empty(),
        "a full disk refused no event in {sent} sent"
    );
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["reason"], "database_disk_full", "{body}");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("slackdesk_database_writable 0"),
        "{metrics}"
    );

    std::fs::remove_file(filler).unwrap();
    recovers(&app, &zendesk, &refused, 5 + sent, "the disk was freed").await;
}

/// The PostgreSQL test database of the app, and a connection to the server's `postgres`
/// database to administer it.
async fn admin_connection(app: &TestApp) -> (String, sqlx::PgConnection) {
    let url = url::Url::parse(&app.database_url).unwrap();
    let database = url.path().trim_start_matches('/').to_owned();
    let mut admin = url.clone();
    admin.set_path("/postgres");
    let connection = sqlx::PgConnection::connect(admin.as_str()).await.unwrap();
    (database, connection)
}

/// Sets the database read-only (or back) and ends its sessions, so the pool reconnects
/// into the new setting, as after a failover to a read-only server.
async fn set_read_only(admin: &mut sqlx::PgConnection, database: &str, read_only: bool) {
    let setting = if read_only { "on" } else { "off" };
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE \"{database}\" SET default_transaction_read_only = {setting}"
    )))
    .execute(&mut *admin)
    .await
    .unwrap();
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(database)
    .execute(&mut *admin)
    .await
    .unwrap();
}

#[tokio::test]
async fn postgres_read_only_answers_503_then_recovers_without_a_restart() {
    let (app, zendesk) = linked_app(Backend::Postgres, None).await;
    for n in 0..5 {
        let answer = app
            .post_slack_event(&message_event("U0ALICE", &ts(n), None, "Before"))
            .await;
        assert_eq!(answer.status(), 200);
    }
    let (database, mut admin) = admin_connection(&app).await;

    set_read_only(&mut admin, &database, true).await;
    let (refused, sent) = send_until_refused(&app, 5, 200).await;

    assert!(!refused.is_empty(), "a read-only database refused no event");
    let (status, body) = eventually("/readyz to fail while read-only", 20, || async {
        let (status, body) = readyz(&app).await;
        (body["reason"] == "database_read_only").then_some((status, body))
    })
    .await;
    assert_eq!(status, 503, "{body}");

    set_read_only(&mut admin, &database, false).await;
    recovers(
        &app,
        &zendesk,
        &refused,
        5 + sent,
        "the database became writable",
    )
    .await;
}
