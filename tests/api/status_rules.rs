//! The optional status rules, on a manual clock across the night Europe moves to summer
//! time (2026-03-29, 02:00 CET -> 03:00 CEST): automatic idle, schedules, out of office.

use serde_json::{Value, json};
use slackdesk::domain::Subdomain;
use slackdesk::statuses::status_rules::run_once;
use slackdesk::storage::status_rules::{self, Rules};
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::statuses::{ADMIN, AGENT, get, pair, post, ready, statuses};
use crate::support::{Backend, Options, eventually};

const MINUTE: i64 = 60_000;

fn acme() -> Subdomain {
    Subdomain::parse("acme").unwrap()
}

async fn set_rules(app: &crate::support::TestApp, rules: Rules) {
    status_rules::save(&app.state.db, &acme(), &rules, 0)
        .await
        .unwrap();
}

async fn status_of(app: &crate::support::TestApp, key: &str, id: i64) -> Value {
    get(app, key, &format!("/zendesk/users/{id}/statuses/current"))
        .await
        .1["user_status"]
        .clone()
}

async fn idle_agents_become_away_after_real_minutes_not_wall_clock_minutes(backend: Backend) {
    let (app, key) = ready(backend, Options::default()).await;
    set_rules(
        &app,
        Rules {
            idle_minutes: Some(30),
            ..Rules::default()
        },
    )
    .await;
    post(
        &app,
        &key,
        &json!({"user_statuses": [
            {"user_id": AGENT, "status": "online"}, {"user_id": ADMIN, "status": "offline"}
        ]}),
    )
    .await;

    // 01:30 CET + 29:59 = 03:59:59 CEST on the wall clock, but 29:59 really passed.
    app.clock.advance(30 * MINUTE - 1_000);
    assert_eq!(run_once(&app.state).await.unwrap().idled, 0);
    let heartbeat = app
        .http
        .post(app.url(&format!("/zendesk/users/{AGENT}/heartbeat")))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(heartbeat.status(), 204);
    app.clock.advance(30 * MINUTE - 1_000);
    assert_eq!(
        run_once(&app.state).await.unwrap().idled,
        0,
        "the heartbeat counted"
    );
    app.clock.advance(2_000);
    assert_eq!(run_once(&app.state).await.unwrap().idled, 1);

    let (_, current) = get(&app, &key, "/zendesk/user_statuses/current").await;
    assert_eq!(
        statuses(&current),
        vec![pair(AGENT, "away"), pair(ADMIN, "offline")]
    );
    let agent = &current["user_statuses"][0];
    assert_eq!(agent["updated_by"], AGENT, "the rule acts for the agent");
    // One real hour after 01:30 CET: 03:30 CEST on the wall clock.
    assert_eq!(agent["updated_at"], "2026-03-29T01:30:00.250Z");
    assert_eq!(
        run_once(&app.state).await.unwrap().idled,
        0,
        "away stays away"
    );
}

async fn schedules_set_agents_online_and_offline_in_local_time_across_dst(backend: Backend) {
    let (app, key) = ready(backend, Options::default()).await;
    Mock::given(method("GET"))
        .and(path("/z/acme/api/v2/business_hours/schedules.json"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"schedules": [{
                "id": 31, "name": "Paris desk", "time_zone": "Europe/Paris",
                "intervals": [{"start_time": 540, "end_time": 1020}]
            }]})),
        )
        .mount(&app.zendesk)
        .await;
    Mock::given(method("GET"))
        .and(path(
            "/z/acme/api/v2/business_hours/schedules/31/holidays.json",
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"holidays": [
                {"id": 1, "name": "Easter", "start_date": "2026-04-05", "end_date": "2026-04-05"}
            ]})),
        )
        .mount(&app.zendesk)
        .await;
    slackdesk::jobs::sync_agents_once(&app.state).await.unwrap();
    let user = slackdesk::domain::ZendeskUserId::new(AGENT).unwrap();
    assert!(
        status_rules::set_agent_schedule(&app.state.db, &acme(), user, Some(31))
            .await
            .unwrap()
    );
    set_rules(
        &app,
        Rules {
            schedules_enabled: true,
            ..Rules::default()
        },
    )
    .await;
    assert_eq!(
        run_once(&app.state).await.unwrap().scheduled,
        0,
        "the first round only starts"
    );

    // Sunday 09:00 in Paris is 07:00 UTC after the change (it was 08:00 UTC a week ago).
    app.clock.set(1_774_767_599_000); // 2026-03-29T06:59:59Z
    assert_eq!(run_once(&app.state).await.unwrap().scheduled, 0);
    app.clock.advance(1_000);
    assert_eq!(run_once(&app.state).await.unwrap().scheduled, 1);
    let online = status_of(&app, &key, AGENT).await;
    assert_eq!(
        (online["status"].clone(), online["updated_at"].clone()),
        (json!("online"), json!("2026-03-29T07:00:00.000Z"))
    );

    app.clock.set(1_774_796_400_000); // 2026-03-29T15:00:00Z = 17:00 CEST
    assert_eq!(run_once(&app.state).await.unwrap().scheduled, 1);
    assert_eq!(status_of(&app, &key, AGENT).await["status"], "offline");

    app.clock.set(1_775_372_400_000); // 2026-04-05T07:00:00Z, Easter Sunday 09:00
    assert_eq!(
        run_once(&app.state).await.unwrap().scheduled,
        0,
        "holidays are off"
    );
    assert_eq!(status_of(&app, &key, AGENT).await["status"], "offline");
    let (_, history) = get(
        &app,
        &key,
        "/zendesk/user_statuses/incremental?start_time=0",
    )
    .await;
    assert_eq!(
        statuses(&history),
        vec![pair(AGENT, "online"), pair(AGENT, "offline")]
    );
}

async fn leaving_online_tags_open_tickets_and_coming_back_untags_them(backend: Backend) {
    let (app, key) = ready(backend, Options::default()).await;
    set_rules(
        &app,
        Rules {
            ooo_tag: Some("agent_ooo".into()),
            ..Rules::default()
        },
    )
    .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/z/acme/api/v2/users/{AGENT}/tickets/assigned.json"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"tickets": [
            {"id": 1, "status": "open", "subject": "Printer on fire"},
            {"id": 2, "status": "solved"},
            {"id": 3, "status": "pending"}
        ], "next_page": null})))
        .mount(&app.zendesk)
        .await;
    Mock::given(method("PUT"))
        .and(path("/z/acme/api/v2/tickets/update_many.json"))
        .and(query_param("ids", "1,3"))
        .and(body_json(
            json!({"ticket": {"additional_tags": ["agent_ooo"]}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"job_status": {"id": "j1"}})))
        .expect(1)
        .named("tag on leaving")
        .mount(&app.zendesk)
        .await;
    Mock::given(method("PUT"))
        .and(path("/z/acme/api/v2/tickets/update_many.json"))
        .and(body_json(json!({"ticket": {"remove_tags": ["agent_ooo"]}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"job_status": {"id": "j2"}})))
        .expect(1)
        .named("untag on return")
        .mount(&app.zendesk)
        .await;

    for (status, puts) in [("online", 0), ("away", 1), ("offline", 1), ("online", 2)] {
        app.clock.advance(1_000);
        let (code, _) = post(
            &app,
            &key,
            &json!({"user_statuses": [{"user_id": AGENT, "status": status}]}),
        )
        .await;
        assert_eq!(code, 200);
        eventually("the tag calls", 10, || async {
            let count = app
                .zendesk
                .received_requests()
                .await?
                .iter()
                .filter(|r| r.method.as_str() == "PUT")
                .count();
            (count == puts).then_some(())
        })
        .await;
    }
}

on_both_databases!(
    idle_agents_become_away_after_real_minutes_not_wall_clock_minutes,
    schedules_set_agents_online_and_offline_in_local_time_across_dst,
    leaving_online_tags_open_tickets_and_coming_back_untags_them,
);
