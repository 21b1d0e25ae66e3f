//! Playlist's Agent Status Incremental Export (`GET /zendesk/incremental/user_statuses`)
//! against the real service: finished periods paged 3,000 at a time by an opaque cursor,
//! every period exactly once, per-account isolation, errors naming the field, and reads
//! that never count as an agent's activity for automatic idle.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Value, json};
use slackdesk::domain::Subdomain;
use slackdesk::statuses::status_rules::run_once;
use slackdesk::storage::status_rules::{self, Rules};
use sqlx::Row;

use crate::statuses::{ADMIN, AGENT, BIG, T0, get, new_key, post, ready};
use crate::support::{Backend, Options, PUBLIC_URL, TestApp};

const EXPORT: &str = "/zendesk/incremental/user_statuses";
const MINUTE: i64 = 60_000;

/// A period as the test computes it from the raw history: (id, user, status, by, start, end).
type Expected = (i64, i64, String, i64, i64, i64);

/// Writes history rows straight into `status_changes` (fast), in the order given.
async fn seed(app: &TestApp, subdomain: &str, rows: &[(i64, &str, i64)]) {
    let mut tx = app.state.db.pool().begin().await.unwrap();
    for chunk in rows.chunks(400) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let b = i * 4;
                format!(
                    "($1, ${}, ${}, ${}, ${}, 'api')",
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO status_changes (subdomain, user_id, status, changed_at, changed_by, \
             source) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(subdomain.to_owned());
        for (user_id, status, at) in chunk {
            query = query
                .bind(*user_id)
                .bind((*status).to_owned())
                .bind(*at)
                .bind(ADMIN);
        }
        query.execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// The finished periods of a subdomain, computed here from the raw rows (each change up to
/// the same agent's next one), in `(ended_at, end row)` order.
async fn expected_periods(app: &TestApp, subdomain: &str) -> Vec<Expected> {
    let rows = sqlx::query(
        "SELECT seq, user_id, status, changed_by, changed_at FROM status_changes \
         WHERE subdomain = $1 ORDER BY seq",
    )
    .bind(subdomain.to_owned())
    .fetch_all(app.state.db.pool())
    .await
    .unwrap();
    let mut last: BTreeMap<i64, (i64, String, i64, i64)> = BTreeMap::new();
    let mut periods = Vec::new();
    let mut end_seqs = Vec::new();
    for row in rows {
        let seq: i64 = row.try_get("seq").unwrap();
        let user: i64 = row.try_get("user_id").unwrap();
        let status: String = row.try_get("status").unwrap();
        let by: i64 = row.try_get("changed_by").unwrap();
        let at: i64 = row.try_get("changed_at").unwrap();
        if let Some((id, s, b, start)) = last.insert(user, (seq, status, by, at)) {
            periods.push((id, user, s, b, start, at));
            end_seqs.push(seq);
        }
    }
    // Sorted by ended_at, ties in the order their ends were recorded.
    let mut keyed: Vec<(i64, i64, Expected)> = periods
        .into_iter()
        .zip(end_seqs)
        .map(|(p, end)| (p.5, end, p))
        .collect();
    keyed.sort_by_key(|(at, end, _)| (*at, *end));
    keyed.into_iter().map(|(_, _, p)| p).collect()
}

fn ms_of(iso: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(iso.as_str().unwrap())
        .unwrap()
        .timestamp_millis()
}

fn as_expected(item: &Value) -> Expected {
    (
        item["id"].as_i64().unwrap(),
        item["user_id"].as_i64().unwrap(),
        item["status"].as_str().unwrap().to_owned(),
        item["updater_id"].as_i64().unwrap(),
        ms_of(&item["started_at"]),
        ms_of(&item["ended_at"]),
    )
}

/// Follows `next_page` from `first` until `end_of_stream`; returns the pages.
async fn all_pages(app: &TestApp, key: &str, first: &str) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut next = first.to_owned();
    loop {
        let (status, page) = get(app, key, &next).await;
        assert_eq!(status, 200, "{page}");
        let url = page["next_page"].as_str().unwrap().to_owned();
        let cursor = page["cursor"].as_str().unwrap();
        assert_eq!(url, format!("{PUBLIC_URL}{EXPORT}?cursor={cursor}"));
        next = url.trim_start_matches(PUBLIC_URL).to_owned();
        let done = page["end_of_stream"] == true;
        pages.push(page);
        if done {
            return pages;
        }
        assert!(pages.len() < 20, "paging must end");
    }
}

/// Seven agents changing status in the same milliseconds, 1,001 changes each: 7,000
/// periods, so page boundaries fall between periods that end in the same millisecond.
async fn more_than_3000_periods_page_by_cursor_each_exactly_once_in_ended_at_order(
    backend: Backend,
) {
    let (app, key) = ready(backend, Options::default()).await;
    let base = T0 - 3_000_000;
    let agents: Vec<i64> = (1..=7).map(|i| AGENT + i).collect();
    let mut rows = Vec::new();
    for step in 0..1001_i64 {
        for agent in &agents {
            let status = if step % 2 == 0 { "online" } else { "away" };
            rows.push((*agent, status, base + step * 1_000 + step % 3));
        }
    }
    seed(&app, "acme", &rows).await;
    let expected = expected_periods(&app, "acme").await;
    assert_eq!(expected.len(), 7_000);

    let pages = all_pages(&app, &key, &format!("{EXPORT}?start_time=0")).await;

    let sizes: Vec<usize> = pages
        .iter()
        .map(|p| p["user_statuses"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, vec![3_000, 3_000, 1_000]);
    let ends: Vec<bool> = pages.iter().map(|p| p["end_of_stream"] == true).collect();
    assert_eq!(ends, vec![false, false, true]);
    let seen: Vec<Expected> = pages
        .iter()
        .flat_map(|p| {
            p["user_statuses"]
                .as_array()
                .unwrap()
                .iter()
                .map(as_expected)
        })
        .collect();
    let ids: HashSet<i64> = seen.iter().map(|p| p.0).collect();
    assert_eq!(ids.len(), seen.len(), "no period twice");
    assert_eq!(
        seen, expected,
        "none missing, sorted by ended_at then by when the end was recorded"
    );
    for page in &pages {
        let last = page["user_statuses"].as_array().unwrap().last().unwrap();
        assert_eq!(
            page["end_time"].as_i64().unwrap(),
            ms_of(&last["ended_at"]).div_euclid(1000)
        );
    }
    let first = &pages[0]["user_statuses"][0];
    assert_eq!(first["status"], "online");
    assert_eq!(first["duration_in_seconds"], 1, "1.001 s rounds to 1");
    assert_eq!(first["started_at"], "2026-03-28T23:40:00.250Z");
    assert_eq!(first["ended_at"], "2026-03-28T23:40:01.251Z");

    // Polling the last next_page: a period shows once its end is 2 s old, then only it.
    let last_next = pages[2]["next_page"]
        .as_str()
        .unwrap()
        .trim_start_matches(PUBLIC_URL)
        .to_owned();
    seed(&app, "acme", &[(agents[0], "offline", T0 - 1_000)]).await;
    let (_, early) = get(&app, &key, &last_next).await;
    assert_eq!(early["user_statuses"], json!([]), "{early}");
    assert_eq!(early["end_of_stream"], true);
    assert_eq!(
        early["cursor"], pages[2]["cursor"],
        "an empty page keeps its place"
    );
    app.clock.advance(1_500);
    let (_, later) = get(&app, &key, &last_next).await;
    let fresh = later["user_statuses"].as_array().unwrap();
    assert_eq!(fresh.len(), 1, "{later}");
    assert_eq!(fresh[0]["user_id"], agents[0]);
    assert_eq!(fresh[0]["status"], "online", "the period that just ended");
    assert_eq!(later["end_of_stream"], true);

    // start_time skips periods that ended before it.
    let cut = base + 500 * 1_000;
    let (_, since) = get(&app, &key, &format!("{EXPORT}?start_time={}", cut / 1000)).await;
    let first_since = as_expected(&since["user_statuses"][0]);
    let want = expected.iter().find(|p| p.5 >= cut / 1000 * 1000).unwrap();
    assert_eq!(&first_since, want);
}

/// The same user id in two accounts: each key sees its own account's periods only, and
/// a period never starts in one account and ends in the other.
async fn a_key_only_sees_its_own_accounts_periods(backend: Backend) {
    let (app, acme_key) = ready(backend, Options::default()).await;
    let globex_key = new_key(&app, "globex").await;
    let t = T0 - 600_000;
    // Interleaved, so an agent's previous change in the other account comes in between.
    for (subdomain, user, status, at) in [
        ("acme", AGENT, "online", t),
        ("globex", AGENT, "offline", t + 1_000),
        ("acme", AGENT, "away", t + 2_000),
        ("globex", AGENT, "online", t + 3_000),
        ("globex", BIG, "online", t + 4_000),
        ("globex", BIG, "away", t + 9_000),
    ] {
        seed(&app, subdomain, &[(user, status, at)]).await;
    }

    let (_, acme) = get(&app, &acme_key, &format!("{EXPORT}?start_time=0")).await;
    let (_, globex) = get(&app, &globex_key, &format!("{EXPORT}?start_time=0")).await;

    let acme: Vec<Expected> = acme["user_statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(as_expected)
        .collect();
    let globex: Vec<Expected> = globex["user_statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(as_expected)
        .collect();
    assert_eq!(acme, expected_periods(&app, "acme").await);
    assert_eq!(globex, expected_periods(&app, "globex").await);
    assert_eq!(
        acme.iter()
            .map(|p| (p.2.as_str(), p.4, p.5))
            .collect::<Vec<_>>(),
        vec![("online", t, t + 2_000)]
    );
    assert_eq!(
        globex
            .iter()
            .map(|p| (p.1, p.2.as_str(), p.4, p.5))
            .collect::<Vec<_>>(),
        vec![
            (AGENT, "offline", t + 1_000, t + 3_000),
            (BIG, "online", t + 4_000, t + 9_000)
        ]
    );
    // Another account's cursor position reveals nothing either.
    let (_, from_acme) = get(&app, &globex_key, &acme_cursor_path(&app, &acme_key).await).await;
    assert!(
        from_acme["user_statuses"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["id"].as_i64() != Some(acme[0].0)),
        "{from_acme}"
    );
}

async fn acme_cursor_path(app: &TestApp, key: &str) -> String {
    let (_, page) = get(app, key, &format!("{EXPORT}?start_time=0")).await;
    let cursor = page["cursor"].as_str().unwrap();
    format!("{EXPORT}?cursor={cursor}")
}

async fn bad_cursors_and_start_times_are_400_naming_the_field(backend: Backend) {
    let (app, key) = ready(backend, Options::default()).await;
    for (query, field) in [
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=MTYyNDIwMTgyMy45NzZ8fDE0NDczMjN8", "cursor"),
        ("cursor=", "cursor"),
        ("start_time=yesterday", "start_time"),
        ("start_time=-5", "start_time"),
        ("start_time=1.5", "start_time"),
    ] {
        let (status, body) = get(&app, &key, &format!("{EXPORT}?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["code"], "invalid_field", "{query}");
        assert_eq!(body["error"]["field"], field, "{query}");
    }
    let (status, body) = get(&app, "sk_wrong", EXPORT).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (401, json!("unauthorized"))
    );
    let (status, body) = get(&app, &key, EXPORT).await;
    assert_eq!(status, 200, "no start_time: from the beginning");
    assert_eq!(body["user_statuses"], json!([]));
    assert_eq!(body["end_of_stream"], true);
    assert_eq!(body["end_time"], 0);
    let posted = app
        .http
        .post(app.url(EXPORT))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 405);
}

async fn last_active(app: &TestApp, user_id: i64) -> Option<i64> {
    sqlx::query(
        "SELECT last_active_at FROM zendesk_agents WHERE subdomain = 'acme' AND user_id = $1",
    )
    .bind(user_id)
    .fetch_one(app.state.db.pool())
    .await
    .unwrap()
    .try_get("last_active_at")
    .unwrap()
}

/// A dashboard that polls statuses must not keep an agent online forever.
async fn reading_statuses_never_counts_as_the_agents_activity(backend: Backend) {
    let (app, key) = ready(backend, Options::default()).await;
    status_rules::save(
        &app.state.db,
        &Subdomain::parse("acme").unwrap(),
        &Rules {
            idle_minutes: Some(30),
            ..Rules::default()
        },
        0,
    )
    .await
    .unwrap();
    let (status, _) = post(
        &app,
        &key,
        &json!({"user_statuses": [{"user_id": AGENT, "status": "online"}], "notify_app": false}),
    )
    .await;
    assert_eq!(status, 200);
    let set_at = last_active(&app, AGENT).await;

    app.clock.advance(20 * MINUTE);
    for path in [
        format!("/zendesk/users/{AGENT}/statuses/current"),
        "/zendesk/user_statuses/current".to_owned(),
        format!("{EXPORT}?start_time=0"),
        "/zendesk/user_statuses/incremental?start_time=0".to_owned(),
    ] {
        let (status, body) = get(&app, &key, &path).await;
        assert_eq!(status, 200, "{path}: {body}");
    }

    assert_eq!(
        last_active(&app, AGENT).await,
        set_at,
        "reads touch nothing"
    );
    app.clock.advance(10 * MINUTE + 1_000);
    assert_eq!(
        run_once(&app.state).await.unwrap().idled,
        1,
        "30 min after the change, reads in between notwithstanding"
    );
    let (_, now) = get(
        &app,
        &key,
        &format!("/zendesk/users/{AGENT}/statuses/current"),
    )
    .await;
    assert_eq!(now["user_status"]["status"], "away");
}

/// Zendesk schedules in every Rails time zone name (and an IANA one) sync and are stored
/// with their IANA zone; an unknown name is skipped, not guessed.
async fn schedules_in_every_rails_time_zone_name_sync_with_their_iana_zone(backend: Backend) {
    use slackdesk::statuses::time_zones::RAILS_ZONES;
    use wiremock::matchers::{method, path, path_regex};
    use wiremock::{Mock, ResponseTemplate};

    let (app, _key) = ready(backend, Options::default()).await;
    let mut names: Vec<&str> = RAILS_ZONES.iter().map(|(rails, _)| *rails).collect();
    names.push("Asia/Kathmandu");
    names.push("Somewhere Time (Nowhere)");
    let schedules: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, zone)| {
            json!({"id": i + 1, "name": "desk", "time_zone": zone,
                   "intervals": [{"start_time": 540, "end_time": 1020}]})
        })
        .collect();
    Mock::given(method("GET"))
        .and(path("/z/acme/api/v2/business_hours/schedules.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"schedules": schedules})))
        .mount(&app.zendesk)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(
            r"^/z/acme/api/v2/business_hours/schedules/[0-9]+/holidays\.json$",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"holidays": []})))
        .mount(&app.zendesk)
        .await;

    slackdesk::jobs::sync_agents_once(&app.state).await.unwrap();

    let rows = sqlx::query(
        "SELECT schedule_id, time_zone FROM zendesk_schedules WHERE subdomain = 'acme' \
         ORDER BY schedule_id",
    )
    .fetch_all(app.state.db.pool())
    .await
    .unwrap();
    let stored: Vec<(i64, String)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get("schedule_id").unwrap(),
                r.try_get("time_zone").unwrap(),
            )
        })
        .collect();
    let mut expected: Vec<(i64, String)> = RAILS_ZONES
        .iter()
        .enumerate()
        .map(|(i, (_, iana))| (i as i64 + 1, (*iana).to_owned()))
        .collect();
    expected.push((RAILS_ZONES.len() as i64 + 1, "Asia/Kathmandu".to_owned()));
    assert_eq!(stored, expected, "the unknown name is skipped");
}

on_both_databases!(
    schedules_in_every_rails_time_zone_name_sync_with_their_iana_zone,
    more_than_3000_periods_page_by_cursor_each_exactly_once_in_ended_at_order,
    a_key_only_sees_its_own_accounts_periods,
    bad_cursors_and_start_times_are_400_naming_the_field,
    reading_statuses_never_counts_as_the_agents_activity,
);
