//! The agent status API (SPEC 4) against a fake Zendesk: connecting an account, API keys,
//! `current`, `create_many` and its rules, the history, rate limits and `notify_app`.

use serde_json::{Value, json};
use slackdesk::clock::Clock;
use slackdesk::config::Secret;
use slackdesk::domain::{Subdomain, ZendeskUserId};
use slackdesk::statuses::{connect, keys};
use slackdesk::storage::{agents, api_keys};
use slackdesk::zendesk::connection::{ConnectionError, Grant};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{
    Backend, Options, PUBLIC_URL, TestApp, eventually, spawn_app, spawn_app_with,
};

pub(crate) const ADMIN: i64 = 361_576_231_073;
pub(crate) const AGENT: i64 = 12_345;
/// Above 2^53: a float would round it to ...992.
pub(crate) const BIG: i64 = 9_007_199_254_740_993;
const END_USER: i64 = 555;
pub(crate) const EMAIL: &str = "admin@acme.example";
pub(crate) const API_TOKEN: &str = "zd-api-token-31c9d";
/// 2026-03-29 00:30:00.250 UTC (the night Europe moves its clocks).
pub(crate) const T0: i64 = 1_774_744_200_250;

fn subdomain(name: &str) -> Subdomain {
    Subdomain::parse(name).unwrap()
}

/// Fakes Zendesk's users (two pages, with names and emails we must not keep), group
/// memberships and `users/me` for `name`, then connects it with an API token.
pub(crate) async fn connect_account(app: &TestApp, name: &str, agent_ids: &[i64]) {
    let base = format!("/z/{name}/api/v2");
    Mock::given(method("GET"))
        .and(path(format!("{base}/users/me.json")))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"user": {"id": ADMIN, "name": "Ada Admin", "email": EMAIL, "role": "admin"}}),
        ))
        .mount(&app.zendesk)
        .await;
    let user = |id: i64, role: &str| {
        json!({"id": id, "name": format!("Agent Smith {id}"), "email": format!("agent{id}@acme.example"),
               "role": role, "default_group_id": 77, "iana_time_zone": "Europe/Paris",
               "active": true, "suspended": false})
    };
    let (first, rest) = agent_ids.split_at(agent_ids.len().min(1));
    let mut page1: Vec<Value> = vec![user(ADMIN, "admin")];
    page1.extend(first.iter().map(|id| user(*id, "agent")));
    page1.push(user(END_USER, "end-user"));
    let page2: Vec<Value> = rest.iter().map(|id| user(*id, "agent")).collect();
    let users_url = format!("{}/z/{name}/api/v2/users.json", app.zendesk.uri());
    Mock::given(method("GET"))
        .and(path(format!("{base}/users.json")))
        .and(query_param("role[]", "agent"))
        .and(query_param_is_missing("page"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"users": page1, "next_page": format!("{users_url}?role%5B%5D=agent&role%5B%5D=admin&page=2")}),
        ))
        .mount(&app.zendesk)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{base}/users.json")))
        .and(query_param("page", "2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"users": page2, "next_page": null})),
        )
        .mount(&app.zendesk)
        .await;
    let memberships: Vec<Value> = agent_ids
        .iter()
        .map(|id| json!({"user_id": id, "group_id": 77, "default": true}))
        .chain([json!({"user_id": ADMIN, "group_id": 88, "default": false})])
        .collect();
    Mock::given(method("GET"))
        .and(path(format!("{base}/group_memberships.json")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"group_memberships": memberships, "next_page": null})),
        )
        .mount(&app.zendesk)
        .await;
    let grant = Grant::ApiToken {
        email: EMAIL.into(),
        api_token: Secret::from(API_TOKEN),
    };
    let report = connect::connect(&app.state, &subdomain(name), grant)
        .await
        .expect("connects");
    assert_eq!(report.connected_as.map(ZendeskUserId::get), Some(ADMIN));
    assert_eq!(report.agents, agent_ids.len() + 1);
}

pub(crate) async fn new_key(app: &TestApp, name: &str) -> String {
    keys::create(
        &app.state.db,
        &subdomain(name),
        ZendeskUserId::new(ADMIN).unwrap(),
        0,
    )
    .await
    .unwrap()
    .key
}

/// An app on a manual clock with acme connected (agents AGENT and BIG) and a key.
pub(crate) async fn ready(backend: Backend, options: Options) -> (TestApp, String) {
    let app = spawn_app_with(
        backend,
        Options {
            clock: Some(options.clock.clone().unwrap_or_else(|| Clock::manual(T0))),
            ..options
        },
    )
    .await;
    connect_account(&app, "acme", &[AGENT, BIG]).await;
    let key = new_key(&app, "acme").await;
    (app, key)
}

pub(crate) async fn get(app: &TestApp, key: &str, path: &str) -> (u16, Value) {
    let response = app
        .http
        .get(app.url(path))
        .header("X-API-Key", key)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn post(app: &TestApp, key: &str, body: &Value) -> (u16, Value) {
    let response = app
        .http
        .post(app.url("/zendesk/user_statuses/create_many"))
        .header("X-API-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub(crate) fn statuses(body: &Value) -> Vec<(i64, String)> {
    body["user_statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["user_id"].as_i64().unwrap(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

pub(crate) fn pair(id: i64, status: &str) -> (i64, String) {
    (id, status.to_owned())
}

async fn connecting_syncs_agents_by_id_and_keeps_no_names_emails_or_plain_token(backend: Backend) {
    let app = spawn_app(backend).await;

    connect_account(&app, "acme", &[AGENT, BIG]).await;

    let synced = agents::list_active(&app.state.db, &subdomain("acme"))
        .await
        .unwrap();
    let ids: Vec<i64> = synced.iter().map(|a| a.user_id.get()).collect();
    assert_eq!(
        ids,
        vec![AGENT, ADMIN, BIG],
        "both pages, end users left out"
    );
    let agent = &synced[0];
    assert_eq!(
        (agent.role.as_str(), agent.group_ids.as_slice()),
        ("agent", &[77][..])
    );
    assert_eq!(agent.time_zone.as_deref(), Some("Europe/Paris"));
    let auth = app
        .zendesk
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            r.headers
                .get("authorization")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect::<Vec<_>>();
    assert!(
        auth.iter().all(|a| a.starts_with("Basic ")),
        "API token basic auth"
    );
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT credential FROM zendesk_connections")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert!(!contains(&sealed, API_TOKEN.as_bytes()) && !contains(&sealed, EMAIL.as_bytes()));
    if backend == Backend::Sqlite {
        let raw = app.sqlite_bytes();
        for needle in [API_TOKEN, EMAIL, "Agent Smith", "agent12345@"] {
            assert!(!contains(&raw, needle.as_bytes()), "{needle} is not stored");
        }
    }
}

async fn wrong_zendesk_credentials_are_refused_and_nothing_is_stored(backend: Backend) {
    let app = spawn_app(backend).await;
    Mock::given(method("GET"))
        .and(path("/z/acme/api/v2/users/me.json"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"error": "Couldn't authenticate you"})),
        )
        .mount(&app.zendesk)
        .await;
    let grant = Grant::ApiToken {
        email: EMAIL.into(),
        api_token: Secret::from("wrong"),
    };

    let result = connect::connect(&app.state, &subdomain("acme"), grant).await;

    assert!(
        matches!(result, Err(ConnectionError::Zendesk(_))),
        "{result:?}"
    );
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM zendesk_connections")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(count, 0);
}

async fn the_spec_examples_work_as_documented(backend: Backend) {
    let (app, key) = ready(backend, Options::default()).await;

    let (status, body) = post(
        &app,
        &key,
        &json!({"user_statuses": [{"user_id": AGENT, "status": "online"}, {"user_id": ADMIN, "status": "away"}], "notify_app": true}),
    )
    .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"user_statuses": [{"user_id": AGENT, "status": "online"}, {"user_id": ADMIN, "status": "away"}]})
    );
    let (status, body) = get(&app, &key, "/zendesk/user_statuses/current").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"user_statuses": [
            {"user_id": AGENT, "status": "online", "updated_at": "2026-03-29T00:30:00.250Z", "updated_by": ADMIN},
            {"user_id": ADMIN, "status": "away", "updated_at": "2026-03-29T00:30:00.250Z", "updated_by": ADMIN}
        ]})
    );
    let (status, body) = get(
        &app,
        &key,
        &format!("/zendesk/users/{ADMIN}/statuses/current"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"user_status": {"user_id": ADMIN, "status": "away", "updated_at": "2026-03-29T00:30:00.250Z", "updated_by": ADMIN}})
    );
}

async fn no_op_updates_and_duplicates_are_ignored_and_only_changes_returned(backend: Backend) {
    let (app, key) = ready(backend, Options::default()).await;
    post(
        &app,
        &key,
        &json!({"user_statuses": [{"user_id": AGENT, "status": "online"}]}),
    )
    .await;
    app.clock.advance(60_000);

    let (status, body) = post(
        &app,
        &key,
        &json!({"user_statuses": [
            {"user_id": AGENT, "status": "online"},
            {"user_id": ADMIN, "status": "invisible"},
            {"user_id": ADMIN, "status": "online"},
            {"user_id": AGENT, "status": "offline"}
        ]}),
    )
    .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(statuses(&body), vec![pair(ADMIN, "invisible")]);
    let (_, one) = get(
        &app,
        &key,
        &format!("/zendesk/users/{AGENT}/statuses/current"),
    )
    .await;
    assert_eq!(one["user_status"]["status"], "online");
    assert_eq!(
        one["user_status"]["updated_at"], "2026-03-29T00:30:00.250Z",
        "an ignored update keeps the original time"
    );
    app.clock.advance(2_000);
    let (_, history) = get(
        &app,
        &key,
        "/zendesk/user_statuses/incremental?start_time=0",
    )
    .await;
    assert_eq!(history["count"], 2, "{history}");
}

async fn a_bad_item_rejects_the_whole_batch_naming_item_and_field(backend: Backend) {
    let (app, key) = ready(backend, Options::default()).await;
    let ok = json!({"user_id": AGENT, "status": "online"});
    let cases = [
        (
            json!({"user_statuses": [ok, {"user_id": ADMIN, "status": "busy"}]}),
            "user_statuses[1].status",
        ),
        (
            json!({"user_statuses": [ok, {"user_id": "12345", "status": "away"}]}),
            "user_statuses[1].user_id",
        ),
        (
            json!({"user_statuses": [ok, {"user_id": 1.5, "status": "away"}]}),
            "user_statuses[1].user_id",
        ),
        (
            json!({"user_statuses": [ok, {"status": "away"}]}),
            "user_statuses[1].user_id",
        ),
        (
            json!({"user_statuses": [ok, {"user_id": ADMIN}]}),
            "user_statuses[1].status",
        ),
        (
            json!({"user_statuses": [ok], "notify_app": "yes"}),
            "notify_app",
        ),
        (json!({"user_statuses": []}), "user_statuses"),
        (
            json!({"user_statuses": vec![ok.clone(); 101]}),
            "user_statuses",
        ),
        (json!({}), "user_statuses"),
        (json!([ok]), "body"),
    ];

    for (body, field) in cases {
        app.clock.advance(1_000);
        let (status, answer) = post(&app, &key, &body).await;
        assert_eq!(status, 400, "{body} -> {answer}");
        assert_eq!(answer["error"]["field"], field, "{body} -> {answer}");
    }

    for unknown in [999, END_USER] {
        app.clock.advance(1_000);
        let body = json!({"user_statuses": [ok, {"user_id": unknown, "status": "away"}]});
        let (status, answer) = post(&app, &key, &body).await;
        assert_eq!(status, 422, "{body} -> {answer}");
        assert_eq!(answer["error"]["field"], "user_statuses[1].user_id");
    }
    let (_, current) = get(&app, &key, "/zendesk/user_statuses/current").await;
    assert_eq!(current, json!({"user_statuses": []}), "nothing was applied");
}

async fn ids_above_two_to_the_53_survive_exactly(backend: Backend) {
    let (app, key) = ready(backend, Options::default()).await;

    let (status, body) = post(
        &app,
        &key,
        &json!({"user_statuses": [{"user_id": BIG, "status": "online"}]}),
    )
    .await;

    assert_eq!(status, 200, "{body}");
    let text = app
        .http
        .get(app.url(&format!("/zendesk/users/{BIG}/statuses/current")))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("\"user_id\":9007199254740993"), "{text}");
    assert!(text.contains("\"updated_by\":361576231073"), "{text}");
    let (status, _) = get(
        &app,
        &key,
        "/zendesk/users/9007199254740992/statuses/current",
    )
    .await;
    assert_eq!(status, 404, "the neighbouring id is a different user");
}

async fn missing_wrong_or_revoked_keys_get_401_json(backend: Backend) {
    let (app, key) = ready(backend, Options::default()).await;
    let prefix = key.split('_').nth(1).unwrap().to_owned();
    let forged = format!("sdk_{prefix}_{}", "A".repeat(43));

    let missing = app.get("/zendesk/user_statuses/current").await;
    assert_eq!(missing.status(), 401);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    for bad in ["nonsense", forged.as_str()] {
        assert_eq!(
            get(&app, bad, "/zendesk/user_statuses/current").await.0,
            401
        );
    }
    assert_eq!(
        get(&app, &key, "/zendesk/user_statuses/current").await.0,
        200
    );
    assert!(api_keys::revoke(&app.state.db, &prefix, 1).await.unwrap());
    assert_eq!(
        get(&app, &key, "/zendesk/user_statuses/current").await.0,
        401
    );
    let listed = api_keys::list(&app.state.db, None).await.unwrap();
    assert_eq!(listed[0].prefix, prefix);
    assert_eq!(listed[0].owner, ADMIN);
    assert_eq!(listed[0].last_used_at, Some(T0), "last use is shown");
    let stored: String = sqlx::query_scalar("SELECT secret_hash FROM api_keys")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert!(!stored.contains(&key[17..]), "only a hash is stored");
}

async fn a_key_never_sees_or_changes_another_accounts_agents(backend: Backend) {
    let (app, acme_key) = ready(backend, Options::default()).await;
    connect_account(&app, "beta", &[777]).await;
    let beta_key = new_key(&app, "beta").await;
    post(
        &app,
        &acme_key,
        &json!({"user_statuses": [{"user_id": AGENT, "status": "online"}]}),
    )
    .await;

    let (status, body) = post(
        &app,
        &beta_key,
        &json!({"user_statuses": [{"user_id": AGENT, "status": "offline"}]}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (422, json!("user_statuses[0].user_id"))
    );
    let (status, _) = get(
        &app,
        &beta_key,
        &format!("/zendesk/users/{AGENT}/statuses/current"),
    )
    .await;
    assert_eq!(status, 404);
    post(
        &app,
        &beta_key,
        &json!({"user_statuses": [{"user_id": 777, "status": "away"}]}),
    )
    .await;

    let (_, beta) = get(&app, &beta_key, "/zendesk/user_statuses/current").await;
    assert_eq!(statuses(&beta), vec![pair(777, "away")]);
    let (_, acme) = get(&app, &acme_key, "/zendesk/user_statuses/current").await;
    assert_eq!(statuses(&acme), vec![pair(AGENT, "online")]);
    app.clock.advance(2_000);
    let (_, history) = get(
        &app,
        &beta_key,
        "/zendesk/user_statuses/incremental?start_time=0",
    )
    .await;
    assert_eq!(statuses(&history), vec![pair(777, "away")]);
}

async fn unknown_agents_get_404_and_bad_ids_400(backend: Backend) {
    let (app, key) = ready(backend, Options::default()).await;

    let (status, body) = get(&app, &key, "/zendesk/users/424242/statuses/current").await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (404, json!("not_found"))
    );
    let (status, body) = get(&app, &key, "/zendesk/users/abc/statuses/current").await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (400, json!("user_id"))
    );
}

async fn the_history_pages_in_order_with_a_cursor(backend: Backend) {
    let (app, key) = ready(backend, Options::default()).await;
    let steps = [
        (AGENT, "online"),
        (ADMIN, "online"),
        (AGENT, "away"),
        (BIG, "invisible"),
        (AGENT, "offline"),
    ];
    for (i, (id, status)) in steps.iter().enumerate() {
        // Two changes share a millisecond, so the cursor must tell them apart.
        if i != 2 {
            app.clock.advance(1_500);
        }
        post(
            &app,
            &key,
            &json!({"user_statuses": [{"user_id": id, "status": status}]}),
        )
        .await;
    }

    app.clock.advance(2_000);
    let mut seen = Vec::new();
    let mut next = format!(
        "/zendesk/user_statuses/incremental?start_time={}&per_page=2",
        T0 / 1000
    );
    let mut pages = 0;
    loop {
        let (status, page) = get(&app, &key, &next).await;
        assert_eq!(status, 200, "{page}");
        pages += 1;
        seen.extend(statuses(&page));
        assert!(page["end_time"].as_i64().unwrap() >= T0 / 1000);
        let url = page["next_page"].as_str().unwrap();
        assert!(url.starts_with(PUBLIC_URL), "{url}");
        next = url.trim_start_matches(PUBLIC_URL).to_owned();
        if page["end_of_stream"] == true {
            break;
        }
        assert!(pages < 10, "paging must end");
    }

    let expected: Vec<(i64, String)> = steps.iter().map(|(id, s)| pair(*id, s)).collect();
    assert_eq!(seen, expected);
    assert_eq!(pages, 3);
    app.clock.advance(1_000);
    post(
        &app,
        &key,
        &json!({"user_statuses": [{"user_id": ADMIN, "status": "away"}]}),
    )
    .await;
    let (_, fresh) = get(&app, &key, &next).await;
    assert_eq!(
        fresh["count"], 0,
        "a change shows once it is 2 s old: {fresh}"
    );
    app.clock.advance(2_000);
    let (_, later) = get(&app, &key, &next).await;
    assert_eq!(
        statuses(&later),
        vec![pair(ADMIN, "away")],
        "the last next_page resumes"
    );
    let (_, since) = get(
        &app,
        &key,
        &format!(
            "/zendesk/user_statuses/incremental?start_time={}",
            (T0 + 4_000) / 1000
        ),
    )
    .await;
    assert_eq!(
        since["count"], 3,
        "start_time filters older changes: {since}"
    );
    assert_eq!(since["user_statuses"][0]["updated_by"], ADMIN);
    let (status, body) = get(&app, &key, "/zendesk/user_statuses/incremental").await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (400, json!("start_time"))
    );
}

async fn keys_are_rate_limited_per_second_and_per_day(backend: Backend) {
    let (app, key) = ready(
        backend,
        Options {
            status_limits: Some((3, 5)),
            ..Options::default()
        },
    )
    .await;
    let other = new_key(&app, "acme").await;
    let current = "/zendesk/user_statuses/current";

    for _ in 0..3 {
        assert_eq!(get(&app, &key, current).await.0, 200);
    }
    let over = app
        .http
        .get(app.url(current))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(over.status(), 429);
    assert_eq!(over.headers()["retry-after"], "1");
    let body: Value = over.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    assert_eq!(
        get(&app, &other, current).await.0,
        200,
        "another key has its own budget"
    );

    app.clock.advance(1_000);
    assert_eq!(
        get(&app, &key, current).await.0,
        200,
        "the next second is open"
    );
    assert_eq!(get(&app, &key, current).await.0, 200, "5th request today");
    let over = app
        .http
        .get(app.url(current))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(over.status(), 429, "the daily budget of 5 is spent");
    // T0 + 1s is 00:30:01.250 UTC; midnight is 23h29m59s away, rounded up.
    assert_eq!(over.headers()["retry-after"], "84599");

    app.clock.advance(84_599_000);
    assert_eq!(get(&app, &key, current).await.0, 200, "a new UTC day");
}

async fn notify_app_tells_each_changed_agents_app_and_never_fails_the_change(backend: Backend) {
    let (app, key) = ready(
        backend,
        Options {
            zendesk_app_id: Some(4242),
            ..Options::default()
        },
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/z/acme/api/v2/apps/notify"))
        .and(header("content-type", "application/json"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&app.zendesk)
        .await;

    let (status, _) = post(
        &app,
        &key,
        &json!({"user_statuses": [{"user_id": AGENT, "status": "online"}, {"user_id": BIG, "status": "away"}]}),
    )
    .await;
    assert_eq!(
        status, 200,
        "a failing notification does not fail the change"
    );
    let (status, _) = post(
        &app,
        &key,
        &json!({"user_statuses": [{"user_id": ADMIN, "status": "online"}], "notify_app": false}),
    )
    .await;
    assert_eq!(status, 200);

    let notified = eventually("two notifications", 10, || async {
        let bodies: Vec<Value> = app
            .zendesk
            .received_requests()
            .await?
            .iter()
            .filter(|r| r.url.path().ends_with("/apps/notify"))
            .map(|r| serde_json::from_slice(&r.body).unwrap())
            .collect();
        (bodies.len() >= 2).then_some(bodies)
    })
    .await;
    assert_eq!(
        notified[0],
        json!({"app_id": 4242, "event": "status_changed", "body": {"user_id": AGENT, "status": "online"}, "agent_id": AGENT})
    );
    assert_eq!(notified[1]["agent_id"], BIG);
    let (_, current) = get(&app, &key, "/zendesk/user_statuses/current").await;
    assert_eq!(statuses(&current).len(), 3);
    assert!(
        notified.iter().all(|n| n["agent_id"] != ADMIN),
        "notify_app: false sends nothing"
    );
}

async fn the_openapi_document_lists_every_status_route(backend: Backend) {
    let app = spawn_app(backend).await;

    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();

    let paths = doc["paths"].as_object().unwrap();
    let operations: Vec<(&str, &str)> = slackdesk::statuses::openapi::OPERATIONS
        .into_iter()
        .chain(slackdesk::routing::api::OPERATIONS)
        .collect();
    let distinct: std::collections::BTreeSet<&str> = operations
        .iter()
        .chain(&slackdesk::statuses::openapi::CALLBACK_OPERATIONS)
        .map(|(_, p)| *p)
        .collect();
    assert_eq!(paths.len(), distinct.len());
    for (method, route) in operations {
        assert!(paths[route][method].is_object());
        let concrete = route.replace("{user_id}", "12345").replace("{id}", "1");
        let response = app
            .http
            .request(method.to_uppercase().parse().unwrap(), app.url(&concrete))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            401,
            "{method} {route} is routed and needs a key"
        );
    }
    // The calls Zendesk makes are routed too: the app's need its token (401); the
    // webhooks and the event callbacks refuse an empty object (never 404 or 405).
    for (method, route) in slackdesk::statuses::openapi::CALLBACK_OPERATIONS {
        assert!(paths[route][method].is_object(), "{method} {route}");
        let response = app
            .http
            .request(method.to_uppercase().parse().unwrap(), app.url(route))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert!(
            ![404, 405].contains(&status),
            "{method} {route} is routed ({status})"
        );
        if route.starts_with("/app/") {
            assert_eq!(status, 401, "{method} {route} needs the app token");
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

on_both_databases!(
    connecting_syncs_agents_by_id_and_keeps_no_names_emails_or_plain_token,
    wrong_zendesk_credentials_are_refused_and_nothing_is_stored,
    the_spec_examples_work_as_documented,
    no_op_updates_and_duplicates_are_ignored_and_only_changes_returned,
    a_bad_item_rejects_the_whole_batch_naming_item_and_field,
    ids_above_two_to_the_53_survive_exactly,
    missing_wrong_or_revoked_keys_get_401_json,
    a_key_never_sees_or_changes_another_accounts_agents,
    unknown_agents_get_404_and_bad_ids_400,
    the_history_pages_in_order_with_a_cursor,
    keys_are_rate_limited_per_second_and_per_day,
    notify_app_tells_each_changed_agents_app_and_never_fails_the_change,
    the_openapi_document_lists_every_status_route,
);
