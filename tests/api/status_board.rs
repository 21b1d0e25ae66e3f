//! The status board page: sign-in with an API key, the agent table with the 7-day chart,
//! changing several agents at once, and the in-place refresh fragment.

use crate::statuses::{ADMIN, AGENT, BIG, get, new_key, ready, statuses};
use crate::support::{Backend, Options, TestApp, hidden_value};

async fn sign_in(app: &TestApp, key: &str) -> reqwest::Response {
    app.post_form("/zendesk/board/sign_in", &[("api_key", key)])
        .await
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

async fn an_admin_signs_in_sees_agents_and_changes_several_at_once(backend: Backend) {
    let (app, key) = ready(backend, Options::default()).await;
    wiremock::Mock::given(wiremock::matchers::path(
        "/z/acme/api/v2/users/show_many.json",
    ))
    .respond_with(
        wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "users": [{"id": AGENT, "name": "MARKER-Board-Name", "role": "agent"}]
        })),
    )
    .mount(&app.zendesk)
    .await;
    crate::statuses::post(
        &app,
        &key,
        &serde_json::json!({"user_statuses": [{"user_id": AGENT, "status": "online"}]}),
    )
    .await;
    app.clock.advance(2 * 3_600_000);

    let (status, anonymous) = page(&app, "", "/zendesk/board").await;
    assert_eq!(status, 200);
    assert!(anonymous.contains("name=\"api_key\""), "the sign-in form");
    assert_eq!(sign_in(&app, "sdk_wrong").await.status(), 401);
    let signed_in = sign_in(&app, &key).await;
    assert_eq!(signed_in.status(), 303);
    let set_cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        set_cookie.contains("HttpOnly")
            && set_cookie.contains("SameSite=Strict")
            && set_cookie.contains("Secure")
    );
    let cookie = set_cookie.split(';').next().unwrap().to_owned();

    let (status, board) = page(&app, &cookie, "/zendesk/board").await;
    assert_eq!(status, 200);
    assert!(board.contains("Status board: acme"));
    assert!(
        board.contains(&format!(
            "<span class=\"agent-name\">MARKER-Board-Name</span> <span class=\"muted\">{AGENT}</span>"
        )),
        "the agent Zendesk names is shown by name (read live)"
    );
    for id in [ADMIN, BIG] {
        assert!(
            board.contains(&format!("<td>{id}</td>")),
            "agent {id} listed by id"
        );
    }
    assert!(
        board.contains("2.0 h online"),
        "the chart shows AGENT's two hours"
    );
    assert!(!board.contains("Agent Smith"), "no names anywhere");
    let csrf = hidden_value(&board, "csrf").unwrap();

    let forged = app
        .http
        .post(app.url("/zendesk/board/change"))
        .header("Cookie", &cookie)
        .form(&[
            ("csrf", "nope"),
            ("status", "away"),
            ("user_id", &AGENT.to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let body = format!("csrf={csrf}&status=away&user_id={AGENT}&user_id={BIG}");
    let changed = app
        .http
        .post(app.url("/zendesk/board/change"))
        .header("Cookie", &cookie)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 303);

    let (_, current) = get(&app, &key, "/zendesk/user_statuses/current").await;
    assert_eq!(
        statuses(&current),
        vec![(AGENT, "away".to_owned()), (BIG, "away".to_owned())]
    );
    assert_eq!(
        current["user_statuses"][0]["updated_by"], ADMIN,
        "the key's owner"
    );
    let (status, rows) = page(&app, &cookie, "/zendesk/board/rows").await;
    assert_eq!(status, 200);
    assert!(
        rows.contains("status-away") && !rows.contains("<html"),
        "a fragment: {rows}"
    );
    assert_eq!(page(&app, "", "/zendesk/board/rows").await.0, 401);
}

async fn signed_in_cookie(app: &TestApp, key: &str) -> String {
    let signed_in = sign_in(app, key).await;
    let set_cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    set_cookie.split(';').next().unwrap().to_owned()
}

async fn post_keys(
    app: &TestApp,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let response = app
        .http
        .post(app.url(path))
        .header("Cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// An admin manages the account's API keys on a page: a new key is shown once and works,
/// revoking it stops it, and another account's key can be neither seen nor revoked.
async fn an_admin_creates_and_revokes_api_keys_on_a_page(backend: Backend) {
    let (app, key) = ready(backend, Options::default()).await;
    let other_key = new_key(&app, "globex").await;
    let unsigned = app.http.get(app.url("/zendesk/keys")).send().await.unwrap();
    assert_eq!(unsigned.status(), 303, "sends the visitor to sign in");
    let cookie = signed_in_cookie(&app, &key).await;
    let (status, listed) = page(&app, &cookie, "/zendesk/keys").await;
    assert_eq!(status, 200);
    let own_prefix = key.split('_').nth(1).unwrap();
    let other_prefix = other_key.split('_').nth(1).unwrap();
    assert!(listed.contains(own_prefix) && listed.contains("(this session)"));
    assert!(
        !listed.contains(other_prefix),
        "another account's key is not listed"
    );
    assert!(!listed.contains(&key), "a stored key is never shown");
    let csrf = hidden_value(&listed, "csrf").unwrap();

    let (status, _) = post_keys(
        &app,
        &cookie,
        "/zendesk/keys",
        &[("csrf", "forged"), ("owner", "7")],
    )
    .await;
    assert_eq!(status, 403, "a forged form creates nothing");
    let (status, refused) = post_keys(
        &app,
        &cookie,
        "/zendesk/keys",
        &[("csrf", &csrf), ("owner", "x")],
    )
    .await;
    assert_eq!(status, 400);
    assert!(refused.contains("owner:"), "the field is named");
    let (status, created) = post_keys(
        &app,
        &cookie,
        "/zendesk/keys",
        &[("csrf", &csrf), ("owner", "777")],
    )
    .await;
    assert_eq!(status, 200);
    let start = created.find("<code>sdk_").unwrap() + "<code>".len();
    let new = created[start..start + created[start..].find('<').unwrap()].to_owned();
    assert_eq!(
        get(&app, &new, "/zendesk/user_statuses/current").await.0,
        200,
        "the new key works"
    );
    let (_, again) = page(&app, &cookie, "/zendesk/keys").await;
    assert!(!again.contains(&new), "shown once only");

    let (status, _) = post_keys(
        &app,
        &cookie,
        "/zendesk/keys/revoke",
        &[("csrf", &csrf), ("prefix", other_prefix)],
    )
    .await;
    assert_eq!(status, 404, "another account's key cannot be revoked");
    assert_eq!(
        get(&app, &other_key, "/zendesk/user_statuses/current")
            .await
            .0,
        200
    );
    let new_prefix = new.split('_').nth(1).unwrap();
    let (status, _) = post_keys(
        &app,
        &cookie,
        "/zendesk/keys/revoke",
        &[("csrf", &csrf), ("prefix", new_prefix)],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(
        get(&app, &new, "/zendesk/user_statuses/current").await.0,
        401,
        "a revoked key stops working"
    );
}

/// An admin sets the status rules on a page: a bad value is named and nothing stored, a
/// good form is stored as the command line would store it.
async fn an_admin_sets_the_status_rules_on_a_page(backend: Backend) {
    let (app, key) = ready(backend, Options::default()).await;
    let cookie = signed_in_cookie(&app, &key).await;
    let (status, shown) = page(&app, &cookie, "/zendesk/board/rules").await;
    assert_eq!(status, 200);
    let csrf = hidden_value(&shown, "csrf").unwrap();
    let acme = slackdesk::domain::Subdomain::parse("acme").unwrap();

    let (status, _) = post_keys(
        &app,
        &cookie,
        "/zendesk/board/rules",
        &[("csrf", "0"), ("idle_minutes", "45")],
    )
    .await;
    assert_eq!(status, 403);
    let (status, refused) = post_keys(
        &app,
        &cookie,
        "/zendesk/board/rules",
        &[
            ("csrf", &csrf),
            ("idle_minutes", "45"),
            ("ooo_tag", "Bad Tag<"),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert!(refused.contains("ooo_tag"), "the field is named");
    assert!(refused.contains("value=\"45\""), "shown as typed");
    assert!(!refused.contains("Bad Tag<"), "escaped");
    let untouched = slackdesk::storage::status_rules::find(&app.state.db, &acme)
        .await
        .unwrap();
    assert_eq!(untouched.idle_minutes, None, "nothing stored");

    let (status, _) = post_keys(
        &app,
        &cookie,
        "/zendesk/board/rules",
        &[
            ("csrf", &csrf),
            ("idle_minutes", "45"),
            ("ooo_tag", "agent_ooo"),
            ("schedules", "on"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let rules = slackdesk::storage::status_rules::find(&app.state.db, &acme)
        .await
        .unwrap();
    assert_eq!(
        (
            rules.idle_minutes,
            rules.ooo_tag.as_deref(),
            rules.schedules_enabled
        ),
        (Some(45), Some("agent_ooo"), true)
    );
    let (_, shown) = page(&app, &cookie, "/zendesk/board/rules?saved=1").await;
    assert!(shown.contains("value=\"agent_ooo\"") && shown.contains("Rules saved."));
    let (status, _) = post_keys(
        &app,
        &cookie,
        "/zendesk/board/rules",
        &[("csrf", &csrf), ("idle_minutes", "")],
    )
    .await;
    assert_eq!(status, 303);
    let off = slackdesk::storage::status_rules::find(&app.state.db, &acme)
        .await
        .unwrap();
    assert_eq!(
        (off.idle_minutes, off.ooo_tag, off.schedules_enabled),
        (None, None, false),
        "blank turns off"
    );
}

/// An admin chooses the agents' schedules on a page: every choice or none, only the
/// account's synced schedules, only the account's agents.
async fn an_admin_chooses_the_agents_schedules_on_a_page(backend: Backend) {
    use slackdesk::storage::status_rules::{self, StoredSchedule};
    let (app, key) = ready(backend, Options::default()).await;
    let acme = slackdesk::domain::Subdomain::parse("acme").unwrap();
    let schedule = StoredSchedule {
        schedule_id: 7,
        time_zone: "Europe/Paris".into(),
        intervals: "[]".into(),
        holidays: "[]".into(),
    };
    status_rules::save_schedule(&app.state.db, &acme, &schedule, 0)
        .await
        .unwrap();
    let cookie = signed_in_cookie(&app, &key).await;
    let (status, shown) = page(&app, &cookie, "/zendesk/board/schedules").await;
    assert_eq!(status, 200);
    assert!(shown.contains("schedule 7 (Europe/Paris)"));
    let csrf = hidden_value(&shown, "csrf").unwrap();
    let (agent, big) = (AGENT.to_string(), BIG.to_string());
    let scheduled = |app: &TestApp| {
        let db = app.state.db.clone();
        let acme = acme.clone();
        async move {
            status_rules::scheduled_agents(&db, &acme)
                .await
                .unwrap()
                .into_iter()
                .map(|(user, s)| (user.get(), s.schedule_id))
                .collect::<Vec<_>>()
        }
    };

    let path = "/zendesk/board/schedules";
    let (status, refused) = post_keys(
        &app,
        &cookie,
        path,
        &[("csrf", &csrf), ("user_id", &agent), ("schedule", "99")],
    )
    .await;
    assert_eq!(status, 400);
    assert!(refused.contains("schedule 99 is not one of"), "{refused}");
    let (status, _) = post_keys(
        &app,
        &cookie,
        path,
        &[
            ("csrf", &csrf),
            ("user_id", &agent),
            ("schedule", "7"),
            ("user_id", "424242"),
            ("schedule", "0"),
        ],
    )
    .await;
    assert_eq!(status, 400, "a stranger in the form");
    assert!(scheduled(&app).await.is_empty(), "all or nothing");
    let (status, _) = post_keys(
        &app,
        &cookie,
        path,
        &[("csrf", "0"), ("user_id", &agent), ("schedule", "7")],
    )
    .await;
    assert_eq!(status, 403);

    let (status, _) = post_keys(
        &app,
        &cookie,
        path,
        &[
            ("csrf", &csrf),
            ("user_id", &agent),
            ("schedule", "7"),
            ("user_id", &big),
            ("schedule", "0"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(scheduled(&app).await, vec![(AGENT, 7)]);
    let (_, shown) = page(&app, &cookie, "/zendesk/board/schedules?saved=1").await;
    assert!(shown.contains("<option value=\"7\" selected>") && shown.contains("Schedules saved."));
}

on_both_databases!(
    an_admin_chooses_the_agents_schedules_on_a_page,
    an_admin_sets_the_status_rules_on_a_page,
    an_admin_signs_in_sees_agents_and_changes_several_at_once,
    an_admin_creates_and_revokes_api_keys_on_a_page
);
