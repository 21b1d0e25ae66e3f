//! Routing admin: the JSON settings API (queues, account settings, agent limits, dry run,
//! assignment log, skills resync) and the admin pages (sign-in, CSRF, dry run, report)
//! against a fake Zendesk view.

use reqwest::Method;
use serde_json::{Value, json};
use slackdesk::domain::Subdomain;
use slackdesk::routing::run::{CLAIM_MS, HOLD_MS};
use slackdesk::storage::routing::{self as store, NewAssignment, Written};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::statuses::{ADMIN, AGENT, BIG, new_key, ready};
use crate::support::{Backend, Options, TestApp, hidden_value};

const QUEUES: &str = "/zendesk/routing/api/queues";
const DAY_MS: i64 = 86_400_000;

async fn call(
    app: &TestApp,
    key: &str,
    verb: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app
        .http
        .request(verb, app.url(path))
        .header("X-API-Key", key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The manual test clock never moves, so the key's per-second limit would bite.
fn unlimited() -> Options {
    Options {
        status_limits: Some((100_000, 10_000_000)),
        ..Options::default()
    }
}

fn billing() -> Value {
    json!({"name": "Billing", "view_id": 42, "kind": "scheduled", "model": "least_active",
           "batch_size": 3, "audit_tag": "routed_by_slackdesk"})
}

async fn create_queue(app: &TestApp, key: &str, body: Value) -> i64 {
    let (status, created) = call(app, key, Method::POST, QUEUES, Some(body)).await;
    assert_eq!(status, 201, "{created}");
    created["queue"]["id"].as_i64().unwrap()
}

fn error_field(body: &Value) -> &str {
    body["error"]["field"].as_str().unwrap_or("<none>")
}

fn acme() -> Subdomain {
    Subdomain::parse("acme").unwrap()
}

async fn queues_round_trip_through_the_api(backend: Backend) {
    let (app, key) = ready(backend, unlimited()).await;

    let response = app
        .http
        .post(app.url(QUEUES))
        .header("X-API-Key", &key)
        .json(&billing())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = response.json().await.unwrap();
    let id = created["queue"]["id"].as_i64().unwrap();
    assert_eq!(location, format!("{QUEUES}/{id}"));
    let queue = &created["queue"];
    assert_eq!(queue["name"], "Billing");
    assert_eq!(
        (
            &queue["interval_secs"],
            &queue["enabled"],
            &queue["position"]
        ),
        (&json!(60), &json!(true), &json!(0)),
        "defaults filled in"
    );
    assert_eq!(queue["last_run_at"], Value::Null);

    let (status, list) = call(&app, &key, Method::GET, QUEUES, None).await;
    assert_eq!(status, 200);
    assert_eq!(list["queues"].as_array().unwrap().len(), 1);
    assert_eq!(list["queues"][0]["id"], id);

    let mut changed = billing();
    changed["model"] = json!("round_robin");
    changed["enabled"] = json!(false);
    changed["skills_timeout_minutes"] = json!(30);
    changed["audit_field_id"] = json!(360_001);
    changed["audit_field_value"] = json!("routed");
    changed["reassign"] = json!({"max_times": 0});
    let one = format!("{QUEUES}/{id}");
    let (status, refused) = call(&app, &key, Method::PUT, &one, Some(changed.clone())).await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(error_field(&refused), "reassign.max_times");
    changed["reassign"] = json!({"unanswered_minutes": 30});
    let (status, replaced) = call(&app, &key, Method::PUT, &one, Some(changed)).await;
    assert_eq!(status, 200, "{replaced}");
    let (status, fetched) = call(&app, &key, Method::GET, &one, None).await;
    assert_eq!(status, 200);
    assert_eq!(fetched["queue"], replaced["queue"]);
    assert_eq!(
        replaced["hooks"]["route"]["state"], "not_needed",
        "a write answers the Zendesk webhooks too: a scheduled queue needs none"
    );
    assert_eq!(fetched["queue"]["model"], "round_robin");
    assert_eq!(fetched["queue"]["enabled"], false);
    assert_eq!(fetched["queue"]["audit_field_id"], 360_001);
    assert_eq!(
        fetched["queue"]["reassign"],
        json!({"unanswered_minutes": 30, "when_away": false, "away_minutes": 5,
               "within_hours": null, "max_times": 2, "tag": "reassigned_by_slackdesk"}),
        "unset rules keep their defaults"
    );

    let secret = "zd-signing-secret-QmFzZTY0U2VjcmV0";
    let (status, settings) = call(
        &app,
        &key,
        Method::PUT,
        "/zendesk/routing/api/settings",
        Some(json!({"default_inbox_limit": 10,
                    "same_agent": {"enabled": true, "window_hours": 48, "tag": "same_agent"},
                    "same_agent_webhook_secret": secret})),
    )
    .await;
    assert_eq!(status, 200, "{settings}");
    let (_, settings) = call(
        &app,
        &key,
        Method::GET,
        "/zendesk/routing/api/settings",
        None,
    )
    .await;
    assert_eq!(settings["default_inbox_limit"], 10);
    assert_eq!(settings["default_daily_limit"], Value::Null);
    assert_eq!(settings["same_agent"]["window_hours"], 48);
    assert_eq!(settings["same_agent"]["only_online"], true, "default");
    assert_eq!(settings["same_agent_webhook_secret_set"], true);
    assert_eq!(
        settings["route_webhook_secret_set"], false,
        "each webhook has its own"
    );
    assert!(!settings.to_string().contains(secret), "write-only");

    let limits = |id: i64| format!("/zendesk/routing/api/agents/{id}/limits");
    let (status, agent) = call(
        &app,
        &key,
        Method::PUT,
        &limits(AGENT),
        Some(json!({"inbox_limit": 4})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        agent,
        json!({"user_id": AGENT, "inbox_limit": 4, "daily_limit": null})
    );
    let (status, big) = call(
        &app,
        &key,
        Method::PUT,
        &limits(BIG),
        Some(json!({"daily_limit": 7})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(big["user_id"].as_i64(), Some(BIG), "exact 64-bit id: {big}");
    assert_eq!(big["daily_limit"], 7, "{big}");
    let (status, _) = call(
        &app,
        &key,
        Method::PUT,
        &limits(999),
        Some(json!({"inbox_limit": 1})),
    )
    .await;
    assert_eq!(status, 404, "not an agent of the account");
    let (_, table) = call(
        &app,
        &key,
        Method::GET,
        "/zendesk/routing/api/agents/limits",
        None,
    )
    .await;
    assert_eq!(table["default_inbox_limit"], 10);
    let rows = table["agents"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "every active agent: {table}");
    let admin = rows.iter().find(|r| r["user_id"] == ADMIN).unwrap();
    assert_eq!(admin["inbox_limit"], Value::Null, "uses the default");
    assert_eq!(
        call(&app, &key, Method::GET, &limits(BIG), None).await.1["daily_limit"],
        7
    );

    let (status, accepted) = call(
        &app,
        &key,
        Method::POST,
        "/zendesk/routing/api/skills/resync",
        None,
    )
    .await;
    assert_eq!((status, &accepted["resync_requested"]), (202, &json!(true)));
    assert!(
        store::sync_state(&app.state.db, &acme())
            .await
            .unwrap()
            .skills_resync_requested
    );

    let (status, log) = call(
        &app,
        &key,
        Method::GET,
        "/zendesk/routing/api/assignments",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(log, json!({"assignments": [], "next_before_id": null}));

    let (status, _) = call(&app, &key, Method::DELETE, &one, None).await;
    assert_eq!(status, 204);
    assert_eq!(call(&app, &key, Method::GET, &one, None).await.0, 404);
    assert_eq!(call(&app, &key, Method::DELETE, &one, None).await.0, 404);
    let (_, list) = call(&app, &key, Method::GET, QUEUES, None).await;
    assert_eq!(list["queues"], json!([]));
    let (status, not_allowed) = call(&app, &key, Method::PATCH, &one, None).await;
    assert_eq!(status, 405);
    assert_eq!(not_allowed["error"]["code"], "method_not_allowed");
}

async fn a_bad_field_is_named_and_nothing_is_stored(backend: Backend) {
    let (app, key) = ready(backend, unlimited()).await;

    let mut bad = billing();
    bad["batch_size"] = json!(0);
    let (status, body) = call(&app, &key, Method::POST, QUEUES, Some(bad)).await;
    assert_eq!((status, error_field(&body)), (400, "batch_size"));
    let mut unknown = billing();
    unknown["colour"] = json!("blue");
    let (status, body) = call(&app, &key, Method::POST, QUEUES, Some(unknown)).await;
    assert_eq!((status, error_field(&body)), (400, "colour"));
    let mut wrong_type = billing();
    wrong_type["view_id"] = json!("forty-two");
    let (status, body) = call(&app, &key, Method::POST, QUEUES, Some(wrong_type)).await;
    assert_eq!((status, error_field(&body)), (400, "view_id"));
    let (_, list) = call(&app, &key, Method::GET, QUEUES, None).await;
    assert_eq!(list["queues"], json!([]), "nothing stored");

    let id = create_queue(&app, &key, billing()).await;
    let one = format!("{QUEUES}/{id}");
    let mut bad_tag = billing();
    bad_tag["audit_tag"] = json!("two words");
    bad_tag["name"] = json!("Renamed");
    let (status, body) = call(&app, &key, Method::PUT, &one, Some(bad_tag)).await;
    assert_eq!((status, error_field(&body)), (400, "audit_tag"));
    let (_, fetched) = call(&app, &key, Method::GET, &one, None).await;
    assert_eq!(fetched["queue"]["name"], "Billing", "unchanged");
    let (status, body) = call(&app, &key, Method::GET, &format!("{QUEUES}/abc"), None).await;
    assert_eq!((status, error_field(&body)), (400, "id"));

    let (status, body) = call(
        &app,
        &key,
        Method::PUT,
        "/zendesk/routing/api/settings",
        Some(json!({"default_inbox_limit": 5, "same_agent": {"window_hours": 9000}})),
    )
    .await;
    assert_eq!(
        (status, error_field(&body)),
        (400, "same_agent.window_hours")
    );
    let (status, body) = call(
        &app,
        &key,
        Method::PUT,
        "/zendesk/routing/api/settings",
        Some(json!({"default_inbox_limit": 5, "route_webhook_secret": "short"})),
    )
    .await;
    assert_eq!((status, error_field(&body)), (400, "route_webhook_secret"));
    let (_, settings) = call(
        &app,
        &key,
        Method::GET,
        "/zendesk/routing/api/settings",
        None,
    )
    .await;
    assert_eq!(settings["default_inbox_limit"], Value::Null, "unchanged");
    assert_eq!(settings["route_webhook_secret_set"], false);

    let (status, body) = call(
        &app,
        &key,
        Method::PUT,
        &format!("/zendesk/routing/api/agents/{AGENT}/limits"),
        Some(json!({"inbox_limit": -1})),
    )
    .await;
    assert_eq!((status, error_field(&body)), (400, "inbox_limit"));
    assert!(
        store::agent_limits(&app.state.db, &acme())
            .await
            .unwrap()
            .is_empty()
    );

    let (status, body) = call(
        &app,
        &key,
        Method::GET,
        "/zendesk/routing/api/assignments?limit=500",
        None,
    )
    .await;
    assert_eq!((status, error_field(&body)), (400, "limit"));
    let not_json = app
        .http
        .post(app.url(QUEUES))
        .header("X-API-Key", &key)
        .header("Content-Type", "text/plain")
        .body(billing().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 415);
}

async fn another_accounts_key_cannot_see_or_change_a_queue(backend: Backend) {
    let (app, acme_key) = ready(backend, unlimited()).await;
    let globex_key = new_key(&app, "globex").await;
    let id = create_queue(&app, &globex_key, billing()).await;
    let one = format!("{QUEUES}/{id}");

    assert_eq!(call(&app, &acme_key, Method::GET, &one, None).await.0, 404);
    assert_eq!(
        call(&app, &acme_key, Method::PUT, &one, Some(billing()))
            .await
            .0,
        404
    );
    assert_eq!(
        call(&app, &acme_key, Method::DELETE, &one, None).await.0,
        404
    );
    assert_eq!(
        call(
            &app,
            &acme_key,
            Method::POST,
            &format!("{one}/dry_run"),
            None
        )
        .await
        .0,
        404
    );
    let (_, acme_list) = call(&app, &acme_key, Method::GET, QUEUES, None).await;
    assert_eq!(acme_list["queues"], json!([]));
    let (status, theirs) = call(&app, &globex_key, Method::GET, &one, None).await;
    assert_eq!((status, &theirs["queue"]["name"]), (200, &json!("Billing")));
    assert_eq!(
        call(&app, "sdk_not_a_key", Method::GET, QUEUES, None)
            .await
            .0,
        401
    );

    // globex has no Zendesk connection: the dry run says so instead of failing.
    let (status, body) = call(
        &app,
        &globex_key,
        Method::POST,
        &format!("{one}/dry_run"),
        None,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["code"], "zendesk_not_connected");
}

/// Signs in through the routing page; returns the session cookie.
async fn sign_in(app: &TestApp, key: &str) -> String {
    let response = app
        .post_form("/zendesk/routing/sign_in", &[("api_key", key)])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/zendesk/routing");
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("Path=/zendesk") && cookie.contains("HttpOnly"));
    cookie.split(';').next().unwrap().to_owned()
}

async fn page(app: &TestApp, cookie: &str, path: &str) -> (u16, String) {
    let response = app
        .http
        .get(app.url(path))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn post_page(
    app: &TestApp,
    cookie: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let response = app
        .http
        .post(app.url(path))
        .header("Cookie", cookie)
        .form(fields)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn queue_form<'a>(csrf: &'a str, view_id: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("name", "Priority <VIP>"),
        ("view_id", view_id),
        ("kind", "trigger"),
        ("model", "skills"),
        ("interval_secs", "60"),
        ("batch_size", "2"),
        ("skills_timeout_minutes", "15"),
        ("audit_tag", ""),
        ("audit_field_id", ""),
        ("audit_field_value", ""),
        ("enabled", "on"),
        ("position", "1"),
        ("reassign_unanswered_minutes", "20"),
        ("reassign_when_away", "on"),
        ("reassign_away_minutes", "10"),
        ("reassign_within_hours", ""),
        ("reassign_max", "3"),
        ("reassign_tag", "moved_on"),
    ]
}

async fn the_pages_need_a_session_and_every_form_its_csrf_token(backend: Backend) {
    let (app, key) = ready(backend, unlimited()).await;

    let (status, anonymous) = page(&app, "", "/zendesk/routing").await;
    assert_eq!(status, 200);
    assert!(anonymous.contains("name=\"api_key\""), "the sign-in form");
    let (status, _) = post_page(&app, "", "/zendesk/routing/queues", &queue_form("x", "42")).await;
    assert_eq!(status, 401);
    for path in ["/zendesk/routing/sign_in", "/zendesk/board/sign_in"] {
        let from_elsewhere = app
            .http
            .post(app.url(path))
            .header("Sec-Fetch-Site", "cross-site")
            .form(&[("api_key", key.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(
            from_elsewhere.status(),
            403,
            "{path}: a sign-in posted from another site"
        );
        assert!(
            from_elsewhere.headers().get("set-cookie").is_none(),
            "{path}: no session"
        );
    }

    let cookie = sign_in(&app, &key).await;
    let response = app
        .http
        .get(app.url("/zendesk/routing"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("frame-ancestors 'self' https://*.zendesk.com"),
        "{csp}"
    );
    let overview = response.text().await.unwrap();
    assert!(overview.contains("Ticket routing: acme"));
    assert!(overview.contains("https://slackdesk.example.com/zendesk/webhooks/route?account=acme"));
    assert!(
        overview.contains("https://slackdesk.example.com/zendesk/webhooks/same_agent?account=acme")
    );
    assert!(
        overview.contains("{{ticket.id}}"),
        "the webhook body to paste"
    );
    assert!(
        overview.contains("none stored yet"),
        "no signing secret yet"
    );

    let (_, form) = page(&app, &cookie, "/zendesk/routing/queues/new").await;
    let csrf = hidden_value(&form, "csrf").unwrap();
    let mut no_token = queue_form(&csrf, "42");
    no_token.remove(0);
    let (status, _) = post_page(&app, &cookie, "/zendesk/routing/queues", &no_token).await;
    assert_eq!(status, 403);
    let (status, _) = post_page(
        &app,
        &cookie,
        "/zendesk/routing/queues",
        &queue_form("forged", "42"),
    )
    .await;
    assert_eq!(status, 403);
    let (status, refused) = post_page(
        &app,
        &cookie,
        "/zendesk/routing/queues",
        &queue_form(&csrf, "0"),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        refused.contains("view_id: must be a Zendesk view id"),
        "{refused}"
    );
    assert!(
        refused.contains("Priority &#60;VIP&#62;"),
        "typed values kept, escaped"
    );
    assert!(
        store::list_queues(&app.state.db, &acme())
            .await
            .unwrap()
            .is_empty()
    );
    let mut too_often = queue_form(&csrf, "42");
    too_often.retain(|(name, _)| *name != "reassign_max");
    too_often.push(("reassign_max", "11"));
    let (status, refused) = post_page(&app, &cookie, "/zendesk/routing/queues", &too_often).await;
    assert_eq!(status, 400);
    assert!(
        refused.contains("reassign.max_times: must be 1 to 10"),
        "{refused}"
    );
    assert!(
        refused.contains("value=\"moved_on\""),
        "the reassignment fields come back as typed"
    );

    let (status, _) = post_page(
        &app,
        &cookie,
        "/zendesk/routing/queues",
        &queue_form(&csrf, "42"),
    )
    .await;
    assert_eq!(status, 303);
    let queues = store::list_queues(&app.state.db, &acme()).await.unwrap();
    assert_eq!(queues.len(), 1);
    assert_eq!(queues[0].settings.skills_timeout_minutes, Some(15));
    let rules = &queues[0].settings.reassign;
    assert_eq!(
        (
            rules.unanswered_minutes,
            rules.when_away,
            rules.away_minutes,
            rules.within_hours,
            rules.max_times,
            rules.tag.as_deref()
        ),
        (Some(20), true, 10, None, 3, Some("moved_on")),
        "the reassignment rules as the form set them"
    );
    let (_, overview) = page(&app, &cookie, "/zendesk/routing").await;
    assert!(overview.contains("Priority &#60;VIP&#62;") && !overview.contains("<VIP>"));
    let id = queues[0].id;
    let (status, _) = post_page(
        &app,
        &cookie,
        &format!("/zendesk/routing/queues/{id}/delete"),
        &[("csrf", "forged")],
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        store::list_queues(&app.state.db, &acme())
            .await
            .unwrap()
            .len(),
        1
    );

    let secret = "zd-signing-secret-page-7f3a9c";
    let settings_form = [
        ("csrf", csrf.as_str()),
        ("default_inbox_limit", "8"),
        ("default_daily_limit", ""),
        ("same_agent_enabled", "on"),
        ("same_agent_window_hours", "24"),
        ("same_agent_only_online", "on"),
        ("same_agent_tag", "same_agent"),
        ("route_webhook_secret", secret),
    ];
    let (status, _) = post_page(
        &app,
        &cookie,
        "/zendesk/routing/settings",
        &settings_form[1..],
    )
    .await;
    assert_eq!(status, 403, "no token");
    let (_, stored) = store::account_settings(&app.state.db, &acme())
        .await
        .unwrap();
    assert!(!stored.route, "nothing stored");
    let (status, _) = post_page(&app, &cookie, "/zendesk/routing/settings", &settings_form).await;
    assert_eq!(status, 303);
    let (settings, stored) = store::account_settings(&app.state.db, &acme())
        .await
        .unwrap();
    assert!(stored.route && !stored.same_agent);
    assert_eq!(settings.default_inbox_limit, Some(8));
    assert!(settings.same_agent.enabled && !settings.same_agent.within_limits);
    let (_, shown) = page(&app, &cookie, "/zendesk/routing/settings").await;
    assert!(shown.contains("Route webhook (a secret is stored)") && !shown.contains(secret));

    let (_, agents) = page(&app, &cookie, "/zendesk/routing/agents").await;
    assert!(agents.contains(&format!("value=\"{BIG}\"")), "agents by id");
    let agent = AGENT.to_string();
    let big = BIG.to_string();
    let admin = ADMIN.to_string();
    let limits = [
        ("csrf", csrf.as_str()),
        ("user_id", agent.as_str()),
        ("inbox_limit", "3"),
        ("daily_limit", ""),
        ("user_id", admin.as_str()),
        ("inbox_limit", ""),
        ("daily_limit", ""),
        ("user_id", big.as_str()),
        ("inbox_limit", ""),
        ("daily_limit", "-2"),
    ];
    let (status, refused) = post_page(&app, &cookie, "/zendesk/routing/agents", &limits).await;
    assert_eq!(status, 400);
    assert!(
        refused.contains(&format!("daily_limit: agent {BIG}")),
        "{refused}"
    );
    assert!(
        store::agent_limits(&app.state.db, &acme())
            .await
            .unwrap()
            .is_empty(),
        "all or nothing"
    );
    let mut good = limits.to_vec();
    good[9] = ("daily_limit", "20");
    let (status, _) = post_page(&app, &cookie, "/zendesk/routing/agents", &good).await;
    assert_eq!(status, 303);
    let (_, table) = call(
        &app,
        &key,
        Method::GET,
        "/zendesk/routing/api/agents/limits",
        None,
    )
    .await;
    let rows = table["agents"].as_array().unwrap();
    let row = |id: i64| rows.iter().find(|r| r["user_id"] == id).unwrap().clone();
    assert_eq!(row(AGENT)["inbox_limit"], 3);
    assert_eq!(row(BIG)["daily_limit"], 20);

    let (status, _) = post_page(
        &app,
        &cookie,
        "/zendesk/routing/skills/resync",
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, 303);
    assert!(
        store::sync_state(&app.state.db, &acme())
            .await
            .unwrap()
            .skills_resync_requested
    );
}

async fn fake_view(app: &TestApp, view_id: i64, tickets: Value) {
    Mock::given(method("GET"))
        .and(path(format!("/z/acme/api/v2/views/{view_id}/tickets.json")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"tickets": tickets, "next_page": null, "count": 2})),
        )
        .mount(&app.zendesk)
        .await;
}

/// Zendesk's `users/show_many` names AGENT (and no one else) `MARKER-Ann-Zebra`.
async fn zendesk_names_the_agent(app: &TestApp) {
    Mock::given(method("GET"))
        .and(path("/z/acme/api/v2/users/show_many.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "users": [{"id": AGENT, "name": "MARKER-Ann-Zebra", "role": "agent"}]
        })))
        .mount(&app.zendesk)
        .await;
}

/// One routing sync against a Zendesk where nobody holds an open ticket.
async fn read_open_tickets(app: &TestApp) {
    Mock::given(method("GET"))
        .and(path("/z/acme/api/v2/search/export.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [], "facets": null,
            "meta": {"has_more": false, "after_cursor": null, "before_cursor": null},
            "links": {"prev": null, "next": null}})))
        .mount(&app.zendesk)
        .await;
    Mock::given(method("GET"))
        .and(path(
            "/z/acme/api/v2/incremental/routing/instance_values.json",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "instance_values": [], "attribute_values": [], "count": 0, "end_time": "0",
            "next_page": null})))
        .mount(&app.zendesk)
        .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(
            r"^/z/acme/api/v2/routing/agents/\d+/instance_values\.json$",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"attribute_values": []})))
        .mount(&app.zendesk)
        .await;
    let synced = slackdesk::routing::sync::sync_account(
        &app.state,
        &slackdesk::domain::Subdomain::parse("acme").unwrap(),
        "test-sync",
    )
    .await
    .unwrap();
    assert!(synced.is_some(), "the sync ran");
}

async fn the_dry_run_shows_which_agent_would_get_each_ticket_and_why(backend: Backend) {
    let (app, key) = ready(backend, unlimited()).await;
    zendesk_names_the_agent(&app).await;
    crate::statuses::post(
        &app,
        &key,
        &json!({"user_statuses": [{"user_id": AGENT, "status": "online"}]}),
    )
    .await;
    let id = create_queue(&app, &key, billing()).await;
    fake_view(
        &app,
        42,
        json!([
            {"id": 101, "status": "new", "priority": "high", "group_id": 77, "assignee_id": null,
             "subject": "Refund please", "created_at": "2026-03-28T10:00:00Z", "updated_at": "2026-03-28T10:00:00Z"},
            {"id": 102, "status": "open", "priority": "normal", "group_id": 99, "assignee_id": null,
             "created_at": "2026-03-28T09:00:00Z", "updated_at": "2026-03-28T09:00:00Z"}
        ]),
    )
    .await;
    // Before the agents' open tickets were read from Zendesk, nothing is decided.
    let (status, waiting) = call(
        &app,
        &key,
        Method::POST,
        &format!("{QUEUES}/{id}/dry_run"),
        None,
    )
    .await;
    assert_eq!(status, 422, "{waiting}");
    assert_eq!(waiting["error"]["code"], "waiting_for_inbox_counts");
    read_open_tickets(&app).await;

    let (status, run) = call(
        &app,
        &key,
        Method::POST,
        &format!("{QUEUES}/{id}/dry_run"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["considered"], 2);
    let decisions = run["assignments"].as_array().unwrap();
    assert_eq!(decisions.len(), 1, "{run}");
    assert_eq!(
        (&decisions[0]["ticket_id"], &decisions[0]["agent_id"]),
        (&json!(101), &json!(AGENT))
    );
    let reason = decisions[0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("least active: 0 open")
            && reason.contains("online")
            && reason.contains("group 77"),
        "{reason}"
    );
    assert_eq!(run["waiting"][0]["ticket_id"], 102);
    assert!(
        run["waiting"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("in group 99"),
        "{run}"
    );

    let cookie = sign_in(&app, &key).await;
    let (status, shown) = page(
        &app,
        &cookie,
        &format!("/zendesk/routing/queues/{id}/dry_run"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        shown.contains(&format!(
            "<tr class=\"decision\"><td>101</td><td>MARKER-Ann-Zebra ({AGENT})</td><td>least active: 0 open"
        )),
        "{shown}"
    );
    assert!(shown.contains(
        "<tr class=\"waiting\"><td>102</td><td>no agent is online and in schedule in group 99"
    ));
    assert!(!shown.contains("Refund please"), "no ticket content");

    assert!(
        store::log(&app.state.db, &acme(), None, 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing assigned"
    );
    let writes = app
        .zendesk
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() != "GET")
        .count();
    assert_eq!(writes, 0, "nothing written to Zendesk");
}

/// Claims as a run of `queue` holding its lease (taken in the test).
fn claimer(queue: i64) -> store::Claimer<'static> {
    store::Claimer::Queue {
        id: queue,
        owner: "report-test",
        lease_ms: 10 * DAY_MS,
    }
}

async fn the_report_charts_assignments_per_agent_day_and_queue_and_pages_the_log(backend: Backend) {
    let (app, key) = ready(backend, unlimited()).await;
    zendesk_names_the_agent(&app).await;
    let queue = create_queue(&app, &key, billing()).await;
    let now = app.clock.now_ms(); // 2026-03-29 00:30 UTC
    let db = &app.state.db;
    let assign = |ticket_id: i64, agent_id: i64| NewAssignment {
        ticket_id,
        agent_id,
        reason: format!("least active: 0 open vs 2; online; ticket {ticket_id}"),
        stamp: String::new(),
        set_group_id: None,
    };
    store::lease_queue(
        db,
        &acme(),
        queue,
        "report-test",
        now - DAY_MS,
        10 * DAY_MS,
        false,
    )
    .await
    .unwrap()
    .expect("the queue is free");
    let mut logged = store::claim_and_log(
        db,
        &acme(),
        claimer(queue),
        "least_active",
        &[assign(1, AGENT)],
        now - DAY_MS,
        CLAIM_MS,
    )
    .await
    .unwrap()
    .unwrap();
    logged.extend(
        store::claim_and_log(
            db,
            &acme(),
            claimer(queue),
            "least_active",
            &[
                assign(2, AGENT),
                assign(3, AGENT),
                assign(4, BIG),
                assign(5, BIG),
            ],
            now,
            CLAIM_MS,
        )
        .await
        .unwrap()
        .unwrap(),
    );
    logged.extend(
        store::claim_and_log(
            db,
            &acme(),
            store::Claimer::SameAgent,
            "same_agent",
            &[assign(6, BIG)],
            now,
            CLAIM_MS,
        )
        .await
        .unwrap()
        .unwrap(),
    );
    assert_eq!(logged.len(), 6);
    for a in &logged {
        let outcome = if a.ticket_id == 5 {
            Written::Skipped // changed in Zendesk meanwhile: not counted
        } else {
            Written::Assigned
        };
        store::record_written(db, a, outcome, None, a.decided_at, HOLD_MS)
            .await
            .unwrap();
    }

    let cookie = sign_in(&app, &key).await;
    let (status, report) = page(&app, &cookie, "/zendesk/routing/report").await;
    assert_eq!(status, 200);
    assert!(
        report.contains(&format!("MARKER-Ann-Zebra ({AGENT}): 3 assigned")),
        "{report}"
    );
    assert!(report.contains(&format!("agent {BIG}: 2 assigned")));
    assert!(
        report.contains(&format!("<td>MARKER-Ann-Zebra ({AGENT})</td>")),
        "the log names the agent"
    );
    assert!(report.contains(&format!("queue {queue}: 4 assigned")));
    assert!(report.contains("same-agent rule: 1 assigned"));
    assert!(report.contains("<title>2026-03-29: 2 assigned</title>"));
    assert!(report.contains("<title>2026-03-28: 1 assigned</title>"));
    assert!(
        report.contains("least active: 0 open vs 2; online; ticket 4"),
        "the log's reasons"
    );
    assert!(report.contains("<td>skipped</td>"));

    let (status, first) = call(
        &app,
        &key,
        Method::GET,
        "/zendesk/routing/api/assignments?limit=4",
        None,
    )
    .await;
    assert_eq!(status, 200);
    let tickets = |page: &Value| -> Vec<i64> {
        page["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["ticket_id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(tickets(&first), vec![6, 5, 4, 3], "newest first");
    assert_eq!(first["assignments"][1]["state"], "skipped");
    assert_eq!(first["assignments"][0]["queue_id"], Value::Null);
    let next = first["next_before_id"].as_i64().unwrap();
    let (_, second) = call(
        &app,
        &key,
        Method::GET,
        &format!("/zendesk/routing/api/assignments?limit=4&before_id={next}"),
        None,
    )
    .await;
    assert_eq!(tickets(&second), vec![2, 1]);
    assert_eq!(second["next_before_id"], Value::Null);
    assert_eq!(
        second["assignments"][1]["decided_at"],
        "2026-03-28T00:30:00.250Z"
    );
}

/// The limits page names agents as Zendesk does, read live and kept in memory only; an
/// agent Zendesk does not describe keeps their id, and a second look asks Zendesk nothing.
async fn the_agents_page_shows_names_read_live_and_never_stores_them(backend: Backend) {
    let (app, key) = ready(backend, unlimited()).await;
    zendesk_names_the_agent(&app).await;
    let cookie = sign_in(&app, &key).await;

    let (status, agents) = page(&app, &cookie, "/zendesk/routing/agents").await;

    assert_eq!(status, 200);
    assert!(agents.contains("MARKER-Ann-Zebra"), "the name from Zendesk");
    assert!(
        agents.contains(&format!("value=\"{BIG}\"")),
        "an agent without a name keeps the id"
    );
    let (_, again) = page(&app, &cookie, "/zendesk/routing/agents").await;
    assert!(again.contains("MARKER-Ann-Zebra"));
    let asked = app
        .zendesk
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path().ends_with("/users/show_many.json"))
        .count();
    assert_eq!(asked, 1, "the second page came from memory");
    if let Some(file) = app.database_url.strip_prefix("sqlite://") {
        let file = file.split('?').next().unwrap_or(file);
        let mut stored = Vec::new();
        for suffix in ["", "-wal"] {
            stored.extend(std::fs::read(format!("{file}{suffix}")).unwrap_or_default());
        }
        assert!(stored.len() > 10_000, "the database file was read");
        assert!(
            !stored.windows(16).any(|w| w == b"MARKER-Ann-Zebra"),
            "the name is not in the database"
        );
    }
}

/// The split is picked by group name (read live, deleted groups left out): weights per
/// group, blanks left out; typed as text when Zendesk cannot list the groups.
async fn the_queue_form_splits_between_groups_picked_by_name(backend: Backend) {
    let (app, key) = ready(backend, unlimited()).await;
    let cookie = sign_in(&app, &key).await;
    let (_, unreadable) = page(&app, &cookie, "/zendesk/routing/queues/new").await;
    assert!(
        unreadable.contains("id=\"groups-unavailable\""),
        "{unreadable}"
    );
    Mock::given(method("GET"))
        .and(path("/z/acme/api/v2/groups.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "groups": [{"id": 360_010, "name": "In-house <team>", "deleted": false},
                       {"id": 360_020, "name": "Outsourced", "deleted": false},
                       {"id": 360_030, "name": "Gone", "deleted": true}],
            "next_page": null, "count": 3
        })))
        .mount(&app.zendesk)
        .await;
    let (_, form) = page(&app, &cookie, "/zendesk/routing/queues/new").await;
    assert!(
        form.contains("In-house &#60;team&#62;") || form.contains("In-house &lt;team&gt;"),
        "names shown, escaped: {form}"
    );
    assert!(!form.contains("Gone"), "deleted groups are not offered");
    let csrf = hidden_value(&form, "csrf").unwrap();
    let mut fields = queue_form(&csrf, "42");
    fields.extend([
        ("split_group", "360010"),
        ("split_weight", "75"),
        ("split_group", "360020"),
        ("split_weight", "25"),
    ]);
    let (status, _) = post_page(&app, &cookie, "/zendesk/routing/queues", &fields).await;
    assert_eq!(status, 303);
    let queue = store::list_queues(&app.state.db, &acme()).await.unwrap()[0].clone();
    assert_eq!(
        queue
            .settings
            .split
            .iter()
            .map(|s| (s.group_id, s.weight))
            .collect::<Vec<_>>(),
        [(360_010, 75), (360_020, 25)]
    );
    let (_, edit) = page(
        &app,
        &cookie,
        &format!("/zendesk/routing/queues/{}", queue.id),
    )
    .await;
    assert!(
        edit.contains("name=\"split_weight\" value=\"75\""),
        "the weights come back on the form"
    );
    let mut alone = queue_form(&csrf, "42");
    alone.extend([
        ("split_group", "360010"),
        ("split_weight", "75"),
        ("split_group", "360020"),
        ("split_weight", ""),
    ]);
    let (status, refused) = post_page(&app, &cookie, "/zendesk/routing/queues", &alone).await;
    assert_eq!(status, 400);
    assert!(
        refused.contains("split: must list 2 to 10 groups"),
        "{refused}"
    );
}

/// The queue form offers the account's active views by title (read live), keeps a
/// queue's view that is no longer active, and asks for an id when Zendesk cannot say.
async fn the_queue_form_picks_a_view_by_its_title(backend: Backend) {
    let (app, key) = ready(backend, unlimited()).await;
    let cookie = sign_in(&app, &key).await;
    let (_, unreadable) = page(&app, &cookie, "/zendesk/routing/queues/new").await;
    assert!(
        unreadable.contains("id=\"views-unavailable\"")
            && unreadable.contains("type=\"number\" name=\"view_id\""),
        "without Zendesk's views, the id is typed"
    );
    Mock::given(method("GET"))
        .and(path("/z/acme/api/v2/views/active.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "views": [{"id": 42, "title": "Billing <urgent>", "active": true},
                      {"id": 7, "title": "All unsolved", "active": true}],
            "next_page": null, "count": 2
        })))
        .mount(&app.zendesk)
        .await;
    // A failed read is not kept, so the next form asks Zendesk again.
    let (_, fresh) = page(&app, &cookie, "/zendesk/routing/queues/new").await;
    assert!(fresh.contains("id=\"view-picker\""), "{fresh}");
    assert!(
        fresh.contains("<option value=\"42\">Billing &#60;urgent&#62; (42)</option>")
            || fresh.contains("<option value=\"42\">Billing &lt;urgent&gt; (42)</option>"),
        "titles escaped: {fresh}"
    );
    let all = fresh.find("All unsolved").unwrap();
    let billing = fresh.find("Billing").unwrap();
    assert!(all < billing, "sorted by title");

    let queue = create_queue(
        &app,
        &key,
        json!({"name": "Old", "view_id": 99, "kind": "scheduled", "model": "round_robin"}),
    )
    .await;
    let (_, edit) = page(&app, &cookie, &format!("/zendesk/routing/queues/{queue}")).await;
    assert!(
        edit.contains(
            "<option value=\"99\" selected>view 99 (not among the active views) (99)</option>"
        ),
        "a view no longer active stays chosen: {edit}"
    );
}

/// When Zendesk cannot say, the page still shows every agent, by id.
async fn the_agents_page_falls_back_to_ids_when_zendesk_cannot_name_them(backend: Backend) {
    let (app, key) = ready(backend, unlimited()).await;
    Mock::given(method("GET"))
        .and(path("/z/acme/api/v2/users/show_many.json"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&app.zendesk)
        .await;
    let cookie = sign_in(&app, &key).await;

    let (status, agents) = page(&app, &cookie, "/zendesk/routing/agents").await;

    assert_eq!(status, 200);
    for id in [AGENT, BIG] {
        assert!(
            agents.contains(&format!("value=\"{id}\"")),
            "agent {id} by id"
        );
    }
}

async fn dedicated_agents_are_set_listed_and_removed_through_the_api(backend: Backend) {
    let (app, key) = ready(backend, unlimited()).await;
    let one = "/zendesk/routing/api/dedicated/organization/77";
    let (status, refused) = call(&app, &key, Method::PUT, one, Some(json!({"agent_id": 42}))).await;
    assert_eq!(status, 404, "not an agent of the account: {refused}");
    let (status, refused) = call(
        &app,
        &key,
        Method::PUT,
        "/zendesk/routing/api/dedicated/team/77",
        Some(json!({"agent_id": AGENT})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(error_field(&refused), "kind");
    let (status, refused) = call(
        &app,
        &key,
        Method::PUT,
        one,
        Some(json!({"agent_id": AGENT, "fallback_agent_id": AGENT})),
    )
    .await;
    assert_eq!(status, 200, "{refused}");
    assert_eq!(
        refused["dedicated"]["fallback_agent_id"],
        json!(null),
        "the agent as their own fallback is no fallback"
    );
    let (status, saved) = call(
        &app,
        &key,
        Method::PUT,
        one,
        Some(json!({"agent_id": AGENT})),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(
        saved["dedicated"],
        json!({"kind": "organization", "id": 77, "agent_id": AGENT, "fallback_agent_id": null})
    );
    let (status, list) = call(
        &app,
        &key,
        Method::GET,
        "/zendesk/routing/api/dedicated",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list["dedicated"].as_array().unwrap().len(), 1);
    let other_key = new_key(&app, "globex").await;
    let (_, theirs) = call(
        &app,
        &other_key,
        Method::GET,
        "/zendesk/routing/api/dedicated",
        None,
    )
    .await;
    assert_eq!(theirs["dedicated"], json!([]), "another account sees none");
    assert_eq!(
        call(&app, &other_key, Method::DELETE, one, None).await.0,
        404
    );
    assert_eq!(call(&app, &key, Method::DELETE, one, None).await.0, 204);
    assert_eq!(call(&app, &key, Method::DELETE, one, None).await.0, 404);
}

fn refs(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

async fn the_dedicated_agents_page_sets_and_removes_them(backend: Backend) {
    let (app, key) = ready(backend, unlimited()).await;
    let cookie = sign_in(&app, &key).await;
    let (status, shown) = page(&app, &cookie, "/zendesk/routing/dedicated").await;
    assert_eq!(status, 200);
    assert!(shown.contains("No dedicated agent yet"), "{shown}");
    let csrf = hidden_value(&shown, "csrf").unwrap();
    let agent = AGENT.to_string();
    let form = |id: &'static str, fallback: String| {
        vec![
            ("csrf".to_owned(), csrf.clone()),
            ("kind".to_owned(), "requester".to_owned()),
            ("id".to_owned(), id.to_owned()),
            ("agent_id".to_owned(), agent.clone()),
            ("fallback_agent_id".to_owned(), fallback),
        ]
    };
    let bad = form("abc", String::new());
    let (status, refused) =
        post_page(&app, &cookie, "/zendesk/routing/dedicated", &refs(&bad)).await;
    assert_eq!(status, 400);
    assert!(
        refused.contains("id: must be a Zendesk organization or user id"),
        "{refused}"
    );
    let good = form("9001", BIG.to_string());
    let (status, _) = post_page(&app, &cookie, "/zendesk/routing/dedicated", &refs(&good)).await;
    assert_eq!(status, 303);
    let (_, listed) = page(&app, &cookie, "/zendesk/routing/dedicated?saved=1").await;
    assert!(listed.contains("class=\"dedication\""), "{listed}");
    assert!(listed.contains("<td>9001</td>"));
    let remove = [
        ("csrf", csrf.as_str()),
        ("kind", "requester"),
        ("id", "9001"),
    ];
    let (status, _) = post_page(&app, &cookie, "/zendesk/routing/dedicated/remove", &remove).await;
    assert_eq!(status, 303);
    let (_, after) = page(&app, &cookie, "/zendesk/routing/dedicated").await;
    assert!(after.contains("No dedicated agent yet"));
}

on_both_databases!(
    the_queue_form_splits_between_groups_picked_by_name,
    the_dedicated_agents_page_sets_and_removes_them,
    dedicated_agents_are_set_listed_and_removed_through_the_api,
    the_queue_form_picks_a_view_by_its_title,
    the_agents_page_shows_names_read_live_and_never_stores_them,
    the_agents_page_falls_back_to_ids_when_zendesk_cannot_name_them,
    queues_round_trip_through_the_api,
    a_bad_field_is_named_and_nothing_is_stored,
    another_accounts_key_cannot_see_or_change_a_queue,
    the_pages_need_a_session_and_every_form_its_csrf_token,
    the_dry_run_shows_which_agent_would_get_each_ticket_and_why,
    the_report_charts_assignments_per_agent_day_and_queue_and_pages_the_log,
);
