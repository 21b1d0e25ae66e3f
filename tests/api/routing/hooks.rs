//! The webhooks and triggers slackdesk makes in Zendesk itself, as an admin sees them:
//! turning the same-agent rule on makes the webhook and its trigger and stores the
//! signing secret read from Zendesk (a call signed with it is then accepted); turning it
//! off removes them; a webhook deleted in Zendesk shows as missing and Recreate makes it
//! once; each trigger queue gets its trigger; a Zendesk failure leaves the settings saved
//! and says why; a secret typed by hand is left alone; the home checklist follows what
//! Zendesk has.

use reqwest::Method;
use serde_json::{Value, json};
use slackdesk::routing::hooks::{self, Repair};
use slackdesk::routing::settings::Hook;
use slackdesk::storage::routing as store;

use super::{Desk, MONDAY, WEBHOOK_SECRET, acme, desk_with};
use crate::statuses::new_key;
use crate::support::{Backend, Options, hidden_value};

const SETTINGS: &str = "/zendesk/routing/api/settings";
const QUEUES: &str = "/zendesk/routing/api/queues";

/// A desk with nothing set up in Zendesk yet: no signing secret typed.
async fn fresh(backend: Backend) -> (Desk, String) {
    let desk = desk_with(
        backend,
        &[],
        Options {
            status_limits: Some((100_000, 10_000_000)),
            ..Options::default()
        },
    )
    .await;
    for hook in Hook::ALL {
        store::clear_webhook_secret(&desk.app.state.db, &acme(), hook, MONDAY)
            .await
            .unwrap();
    }
    let key = new_key(&desk.app, "acme").await;
    (desk, key)
}

impl Desk {
    async fn api(&self, key: &str, verb: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .app
            .http
            .request(verb, self.app.url(path))
            .header("X-API-Key", key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn same_agent(&self, key: &str, enabled: bool) -> Value {
        let body = json!({"same_agent": {"enabled": enabled, "window_hours": 48}});
        let (status, answer) = self.api(key, Method::PUT, SETTINGS, Some(body)).await;
        assert_eq!(status, 200, "{answer}");
        answer
    }

    async fn sign_in(&self, key: &str) -> String {
        let response = self
            .app
            .post_form("/zendesk/routing/sign_in", &[("api_key", key)])
            .await;
        assert_eq!(response.status(), 303);
        let cookie = response.headers()["set-cookie"].to_str().unwrap();
        cookie.split(';').next().unwrap().to_owned()
    }

    async fn page(&self, cookie: &str, path: &str) -> String {
        let response = self
            .app
            .http
            .get(self.app.url(path))
            .header("Cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.text().await.unwrap()
    }

    /// Posts a page's form; answers where it redirects to.
    async fn post_page(&self, cookie: &str, path: &str, fields: &[(&str, &str)]) -> String {
        let response = self
            .app
            .http
            .post(self.app.url(path))
            .header("Cookie", cookie)
            .form(fields)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        let text = response.text().await.unwrap();
        assert_eq!(status, 303, "{path}: {text}");
        location.unwrap()
    }

    async fn stored_secret(&self, hook: Hook) -> Option<String> {
        store::webhook_secret(&self.app.state.db, &self.app.state.keys, &acme(), hook)
            .await
            .unwrap()
            .map(|s| s.expose().to_owned())
    }

    fn secret_in_zendesk(&self, webhook_id: &str) -> String {
        self.zendesk.state().webhook_secrets[webhook_id].clone()
    }
}

/// The data-state of a hook's block on a page.
fn state_on_page(page: &str, hook: &str) -> String {
    let marker = format!("id=\"hook-{hook}\" data-state=\"");
    let at = page
        .find(&marker)
        .unwrap_or_else(|| panic!("hook {hook} on the page: {page}"))
        + marker.len();
    page[at..].split('"').next().unwrap().to_owned()
}

async fn turning_same_agent_on_makes_the_webhook_and_trigger_with_zendesks_secret(
    backend: Backend,
) {
    let (desk, key) = fresh(backend).await;

    let answer = desk.same_agent(&key, true).await;

    let hook = &answer["hooks"]["same_agent"];
    assert_eq!(hook["state"], "present", "{answer}");
    assert_eq!(hook["change"], "made");
    assert_eq!(
        answer["same_agent"]["enabled"], true,
        "the settings are saved"
    );
    assert_eq!(answer["same_agent_webhook_secret_set"], true);
    assert_eq!(answer["hooks"]["route"]["state"], "not_needed");
    let webhooks = desk.zendesk.webhooks();
    assert_eq!(webhooks.len(), 1, "{webhooks:?}");
    let webhook = &webhooks[0];
    let id = webhook["id"].as_str().unwrap();
    assert_eq!(hook["webhook_id"], id);
    assert_eq!(
        webhook["endpoint"],
        "https://slackdesk.example.com/zendesk/webhooks/same_agent?account=acme"
    );
    assert_eq!(
        webhook["subscriptions"],
        json!(["conditional_ticket_events"])
    );
    assert_eq!(
        (&webhook["http_method"], &webhook["request_format"]),
        (&json!("POST"), &json!("json"))
    );
    let triggers = desk.zendesk.triggers();
    assert_eq!(triggers.len(), 1, "{triggers:?}");
    let trigger = &triggers[0];
    assert_eq!(hook["triggers"][0]["trigger_id"], trigger["id"]);
    assert_eq!(
        trigger["conditions"]["all"],
        json!([{"field": "update_type", "operator": "is", "value": "Create"}])
    );
    let action = &trigger["actions"][0];
    assert_eq!(action["field"], "notification_webhook");
    assert_eq!(action["value"][0], id);
    let body: Value = serde_json::from_str(action["value"][1].as_str().unwrap()).unwrap();
    assert_eq!(body, json!({"ticket_id": "{{ticket.id}}"}));
    assert!(
        trigger.get("category_id").is_none(),
        "the account has no trigger categories"
    );

    // The secret stored is Zendesk's: a call signed with it is accepted, one signed with
    // anything else is not.
    let secret = desk.secret_in_zendesk(id);
    assert_eq!(
        desk.stored_secret(Hook::SameAgent).await.as_deref(),
        Some(secret.as_str())
    );
    let (status, _) = desk
        .webhook_signed(
            "/zendesk/webhooks/same_agent",
            "acme",
            &json!({"ticket_id": "41"}),
            &secret,
        )
        .await;
    assert_eq!(status, 200, "signed with the secret read from Zendesk");
    let (status, _) = desk
        .webhook_signed(
            "/zendesk/webhooks/same_agent",
            "acme",
            &json!({"ticket_id": "42"}),
            &format!("{WEBHOOK_SECRET}-same_agent"),
        )
        .await;
    assert_eq!(status, 401, "signed with another secret");

    // Saving again (same agent still on) makes nothing more: it asks, finds them, stops.
    let again = desk.same_agent(&key, true).await;
    assert_eq!(again["hooks"]["same_agent"]["state"], "present");
    assert_eq!(again["hooks"]["same_agent"]["change"], Value::Null);
    assert_eq!(desk.zendesk.calls("webhook_create"), 1);
    assert_eq!(desk.zendesk.calls("trigger_create"), 1);
    assert_eq!(
        desk.stored_secret(Hook::SameAgent).await.as_deref(),
        Some(secret.as_str()),
        "the secret is kept"
    );
}

async fn turning_same_agent_off_removes_the_webhook_the_trigger_and_the_secret(backend: Backend) {
    let (desk, key) = fresh(backend).await;
    desk.same_agent(&key, true).await;
    assert_eq!(
        (desk.zendesk.webhooks().len(), desk.zendesk.triggers().len()),
        (1, 1)
    );

    let answer = desk.same_agent(&key, false).await;

    assert_eq!(answer["same_agent"]["enabled"], false);
    let hook = &answer["hooks"]["same_agent"];
    assert_eq!(hook["state"], "not_needed", "{answer}");
    assert_eq!(hook["change"], "removed");
    assert!(
        desk.zendesk.webhooks().is_empty(),
        "the webhook is deleted in Zendesk"
    );
    assert!(
        desk.zendesk.triggers().is_empty(),
        "the trigger is deleted in Zendesk"
    );
    assert_eq!(
        desk.stored_secret(Hook::SameAgent).await,
        None,
        "its secret is forgotten"
    );
    assert_eq!(answer["same_agent_webhook_secret_set"], false);
    assert!(
        store::account_settings(&desk.app.state.db, &acme())
            .await
            .unwrap()
            .0
            .same_agent
            .window_hours
            == 48,
        "the other settings are kept"
    );

    // Off again: nothing to remove, nothing asked.
    let deletes = desk.zendesk.calls("webhook_delete");
    desk.same_agent(&key, false).await;
    assert_eq!(desk.zendesk.calls("webhook_delete"), deletes);
}

async fn a_webhook_deleted_in_zendesk_shows_missing_and_recreate_makes_it_once(backend: Backend) {
    let (desk, key) = fresh(backend).await;
    let cookie = desk.sign_in(&key).await;
    let form = desk.page(&cookie, "/zendesk/routing/settings").await;
    let csrf = hidden_value(&form, "csrf").unwrap();
    let settings = |enabled: bool| {
        let mut fields = vec![
            ("csrf", csrf.clone()),
            ("default_inbox_limit", String::new()),
            ("default_daily_limit", String::new()),
            ("same_agent_window_hours", "72".to_owned()),
            ("same_agent_only_online", "on".to_owned()),
            ("same_agent_tag", String::new()),
        ];
        if enabled {
            fields.push(("same_agent_enabled", "on".to_owned()));
        }
        fields
    };
    let on = settings(true);
    let on: Vec<(&str, &str)> = on.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let location = desk
        .post_page(&cookie, "/zendesk/routing/settings", &on)
        .await;
    assert_eq!(location, "/zendesk/routing/settings?saved=1&hooks=made");
    let page = desk.page(&cookie, &location).await;
    assert!(
        page.contains("The webhook and trigger were made in Zendesk."),
        "{page}"
    );
    assert_eq!(state_on_page(&page, "same_agent"), "present");
    assert!(page.contains("made by slackdesk and present in Zendesk"));
    let first = desk.zendesk.webhooks()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let old_trigger = desk.zendesk.triggers()[0]["id"].as_i64().unwrap();

    // Someone deletes the webhook in Zendesk's Admin Center.
    desk.zendesk.delete_webhook_in_zendesk(&first);
    let page = desk.page(&cookie, "/zendesk/routing/settings").await;
    assert_eq!(
        state_on_page(&page, "same_agent"),
        "missing",
        "the page asks Zendesk"
    );
    assert!(
        page.contains("missing in Zendesk (deleted there)"),
        "{page}"
    );
    assert!(page.contains("action=\"/zendesk/routing/hooks/same_agent\""));
    assert!(page.contains("Recreate them in Zendesk"));
    // Saving the settings again does not make it again behind the admin's back.
    let location = desk
        .post_page(&cookie, "/zendesk/routing/settings", &on)
        .await;
    assert_eq!(location, "/zendesk/routing/settings?saved=1");
    assert!(desk.zendesk.webhooks().is_empty());
    assert_eq!(desk.zendesk.calls("webhook_create"), 1);

    let location = desk
        .post_page(
            &cookie,
            "/zendesk/routing/hooks/same_agent",
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(location, "/zendesk/routing/settings?remade=1&hooks=made");
    let webhooks = desk.zendesk.webhooks();
    assert_eq!(webhooks.len(), 1, "made again, once");
    let second = webhooks[0]["id"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    let triggers = desk.zendesk.triggers();
    assert_eq!(
        triggers.len(),
        1,
        "the old trigger went with it: {triggers:?}"
    );
    assert_ne!(triggers[0]["id"].as_i64().unwrap(), old_trigger);
    assert_eq!(triggers[0]["actions"][0]["value"][0], second.as_str());
    assert_eq!(
        desk.stored_secret(Hook::SameAgent).await.unwrap(),
        desk.secret_in_zendesk(&second),
        "the new webhook's secret is stored"
    );
    let page = desk.page(&cookie, "/zendesk/routing/settings").await;
    assert_eq!(state_on_page(&page, "same_agent"), "present");

    // Idempotent: asking again makes nothing more.
    let again = hooks::sync(&desk.app.state, &acme(), Hook::SameAgent, Repair::Yes)
        .await
        .unwrap();
    assert_eq!(again.change, None);
    assert_eq!(
        (desk.zendesk.webhooks().len(), desk.zendesk.triggers().len()),
        (1, 1)
    );
    assert_eq!(desk.zendesk.calls("webhook_create"), 2);

    // The trigger alone deleted in Zendesk: Recreate makes only the trigger.
    let trigger = desk.zendesk.triggers()[0]["id"].as_i64().unwrap();
    desk.zendesk.delete_trigger_in_zendesk(trigger);
    let page = desk.page(&cookie, "/zendesk/routing/settings").await;
    assert_eq!(state_on_page(&page, "same_agent"), "missing");
    desk.post_page(
        &cookie,
        "/zendesk/routing/hooks/same_agent",
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        desk.zendesk.webhooks()[0]["id"],
        second.as_str(),
        "the webhook is kept"
    );
    assert_eq!(desk.zendesk.triggers().len(), 1);
    assert_eq!(desk.zendesk.calls("webhook_create"), 2);
}

async fn two_saves_at_once_make_one_webhook(backend: Backend) {
    let (desk, _) = fresh(backend).await;
    desk.settings(|s| s.same_agent.enabled = true).await;
    desk.zendesk.state().webhook_create_delay = Some(std::time::Duration::from_millis(300));

    let account = acme();
    let state = &desk.app.state;
    let (a, b) = tokio::join!(
        hooks::sync(state, &account, Hook::SameAgent, Repair::No),
        hooks::sync(state, &account, Hook::SameAgent, Repair::No)
    );

    let mut states = [a.unwrap().state, b.unwrap().state];
    states.sort_by_key(|s| format!("{s:?}"));
    assert_eq!(states, [hooks::State::Busy, hooks::State::Present]);
    assert_eq!(
        (desk.zendesk.webhooks().len(), desk.zendesk.triggers().len()),
        (1, 1)
    );
    let status = hooks::status(state, &account, Hook::SameAgent, 0)
        .await
        .unwrap();
    assert_eq!(status.state, hooks::State::Present, "the lease is released");
}

async fn each_trigger_queue_gets_its_trigger_on_one_route_webhook(backend: Backend) {
    let (desk, key) = fresh(backend).await;
    desk.zendesk.state().trigger_categories =
        vec![json!({"id": "10001", "name": "Escalations", "position": 1})];
    let queue = |name: &str, kind: &str| json!({"name": name, "view_id": 42, "kind": kind, "model": "round_robin"});

    let (status, scheduled) = desk
        .api(
            &key,
            Method::POST,
            QUEUES,
            Some(queue("Every minute", "scheduled")),
        )
        .await;
    assert_eq!(status, 201, "{scheduled}");
    assert_eq!(scheduled["hooks"]["route"]["state"], "not_needed");
    assert!(
        desk.zendesk.webhooks().is_empty(),
        "a scheduled queue needs no webhook"
    );

    let (status, billing) = desk
        .api(
            &key,
            Method::POST,
            QUEUES,
            Some(queue("Billing", "trigger")),
        )
        .await;
    assert_eq!(status, 201, "{billing}");
    let billing_id = billing["queue"]["id"].as_i64().unwrap();
    assert_eq!(billing["hooks"]["route"]["state"], "present", "{billing}");
    let (_, vip) = desk
        .api(&key, Method::POST, QUEUES, Some(queue("VIP", "trigger")))
        .await;
    let vip_id = vip["queue"]["id"].as_i64().unwrap();

    let webhooks = desk.zendesk.webhooks();
    assert_eq!(
        webhooks.len(),
        1,
        "one route webhook for every trigger queue"
    );
    let webhook = webhooks[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        webhooks[0]["endpoint"],
        "https://slackdesk.example.com/zendesk/webhooks/route?account=acme"
    );
    let triggers = desk.zendesk.triggers();
    assert_eq!(triggers.len(), 2);
    let bodies: Vec<Value> = triggers
        .iter()
        .map(|t| {
            assert_eq!(t["actions"][0]["value"][0], webhook.as_str());
            assert_eq!(
                t["category_id"], "10001",
                "in the account's trigger category"
            );
            serde_json::from_str(t["actions"][0]["value"][1].as_str().unwrap()).unwrap()
        })
        .collect();
    assert_eq!(
        bodies,
        [
            json!({"ticket_id": "{{ticket.id}}", "queue_id": billing_id}),
            json!({"ticket_id": "{{ticket.id}}", "queue_id": vip_id})
        ]
    );
    let (_, answer) = desk
        .api(&key, Method::GET, "/zendesk/routing/api/hooks", None)
        .await;
    let listed: Vec<i64> = answer["hooks"]["route"]["triggers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["queue_id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, [billing_id, vip_id], "{answer}");

    // The route's calls are signed with the secret read from Zendesk.
    let secret = desk.secret_in_zendesk(&webhook);
    let (status, _) = desk
        .webhook_signed(
            "/zendesk/webhooks/route",
            "acme",
            &json!({"ticket_id": "7", "queue_id": vip_id}),
            &secret,
        )
        .await;
    assert_eq!(status, 200);

    // Disabling one removes its trigger; deleting the other removes the webhook too.
    let mut off = queue("Billing", "trigger");
    off["enabled"] = json!(false);
    let (status, replaced) = desk
        .api(
            &key,
            Method::PUT,
            &format!("{QUEUES}/{billing_id}"),
            Some(off),
        )
        .await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["hooks"]["route"]["state"], "present");
    let triggers = desk.zendesk.triggers();
    assert_eq!(triggers.len(), 1);
    assert!(
        triggers[0]["actions"][0]["value"][1]
            .as_str()
            .unwrap()
            .contains(&vip_id.to_string())
    );
    let (status, _) = desk
        .api(&key, Method::DELETE, &format!("{QUEUES}/{vip_id}"), None)
        .await;
    assert_eq!(status, 204);
    assert!(desk.zendesk.triggers().is_empty());
    assert!(desk.zendesk.webhooks().is_empty());
    assert_eq!(desk.stored_secret(Hook::Route).await, None);
}

async fn a_zendesk_failure_leaves_the_settings_saved_and_says_why(backend: Backend) {
    let (desk, key) = fresh(backend).await;
    desk.zendesk.state().fail_hooks = vec![503];

    let answer = desk.same_agent(&key, true).await;

    assert_eq!(answer["same_agent"]["enabled"], true, "saved first");
    let hook = &answer["hooks"]["same_agent"];
    assert_eq!(hook["state"], "not_made", "{answer}");
    assert_eq!(hook["error"], "http_503");
    assert!(desk.zendesk.webhooks().is_empty());
    assert!(
        store::account_settings(&desk.app.state.db, &acme())
            .await
            .unwrap()
            .0
            .same_agent
            .enabled
    );

    // Through the page: rate limited this time; the page says so and offers to retry.
    let cookie = desk.sign_in(&key).await;
    let form = desk.page(&cookie, "/zendesk/routing/settings").await;
    let csrf = hidden_value(&form, "csrf").unwrap();
    assert_eq!(state_on_page(&form, "same_agent"), "not_made");
    assert!(
        form.contains("Zendesk was unavailable; try again in a minute (http_503)"),
        "{form}"
    );
    desk.zendesk.state().fail_hooks = vec![429];
    let location = desk
        .post_page(
            &cookie,
            "/zendesk/routing/settings",
            &[
                ("csrf", &csrf),
                ("same_agent_enabled", "on"),
                ("same_agent_window_hours", "24"),
            ],
        )
        .await;
    assert_eq!(location, "/zendesk/routing/settings?saved=1&hooks=failed");
    let page = desk.page(&cookie, &location).await;
    assert!(page.contains("Saved."), "{page}");
    assert!(page.contains("could not be brought in line in Zendesk"));
    assert!(
        page.contains("Zendesk asked slackdesk to slow down; try again in a minute (rate_limited)")
    );
    assert!(page.contains("Make them now"));
    assert!(page.contains("value=\"24\""), "the new window is saved");

    let location = desk
        .post_page(
            &cookie,
            "/zendesk/routing/hooks/same_agent",
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(location, "/zendesk/routing/settings?remade=1&hooks=made");
    let page = desk.page(&cookie, "/zendesk/routing/settings").await;
    assert_eq!(state_on_page(&page, "same_agent"), "present");
    assert!(!page.contains("did not work"), "the failure is cleared");
    assert_eq!(
        (desk.zendesk.webhooks().len(), desk.zendesk.triggers().len()),
        (1, 1)
    );

    // A failure after the webhook was made (Zendesk refuses its trigger): the next try
    // makes the trigger only.
    desk.same_agent(&key, false).await;
    assert!(desk.zendesk.webhooks().is_empty());
    // Answered: create webhook, read its secret, list categories; then the trigger fails.
    desk.zendesk.state().fail_hooks = vec![0, 0, 0, 500];
    let answer = desk.same_agent(&key, true).await;
    let hook = &answer["hooks"]["same_agent"];
    assert_eq!(
        (&hook["state"], &hook["error"]),
        (&json!("not_made"), &json!("http_500")),
        "{answer}"
    );
    assert_eq!(hook["webhook"], "present");
    assert_eq!(hook["triggers"][0]["state"], "not_made");
    assert_eq!(
        (desk.zendesk.webhooks().len(), desk.zendesk.triggers().len()),
        (1, 0)
    );
    let creates = desk.zendesk.calls("webhook_create");
    let (status, answer) = desk
        .api(
            &key,
            Method::POST,
            "/zendesk/routing/api/hooks/same_agent",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        answer["hooks"]["same_agent"]["state"], "present",
        "{answer}"
    );
    assert_eq!(
        desk.zendesk.calls("webhook_create"),
        creates,
        "the webhook is not made twice"
    );
    assert_eq!(
        (desk.zendesk.webhooks().len(), desk.zendesk.triggers().len()),
        (1, 1)
    );
}

async fn without_a_zendesk_connection_the_page_says_to_connect_first(backend: Backend) {
    let (desk, key) = fresh(backend).await;
    sqlx::query("DELETE FROM zendesk_connections")
        .execute(desk.app.state.db.pool())
        .await
        .unwrap();

    let answer = desk.same_agent(&key, true).await;
    let hook = &answer["hooks"]["same_agent"];
    assert_eq!(
        (&hook["state"], &hook["error"]),
        (&json!("not_made"), &json!("zendesk_not_connected")),
        "{answer}"
    );
    let cookie = desk.sign_in(&key).await;
    let page = desk.page(&cookie, "/zendesk/routing/settings").await;
    assert!(
        page.contains("connect it first (zendesk_not_connected)"),
        "{page}"
    );

    // Turning it off again leaves nothing behind, and no failure to show.
    let answer = desk.same_agent(&key, false).await;
    let hook = &answer["hooks"]["same_agent"];
    assert_eq!(
        (&hook["state"], &hook["error"]),
        (&json!("not_needed"), &Value::Null),
        "{answer}"
    );
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM zendesk_hooks")
        .fetch_one(desk.app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(rows, 0);
}

async fn a_secret_typed_by_hand_is_left_alone_until_slackdesk_is_asked(backend: Backend) {
    let (desk, key) = fresh(backend).await;
    let (status, _) = desk
        .api(
            &key,
            Method::PUT,
            SETTINGS,
            Some(json!({"same_agent_webhook_secret": "hand-typed-secret-8d2f"})),
        )
        .await;
    assert_eq!(status, 200);

    let answer = desk.same_agent(&key, true).await;

    assert_eq!(
        answer["hooks"]["same_agent"]["state"], "by_hand",
        "{answer}"
    );
    assert!(
        desk.zendesk.webhooks().is_empty(),
        "the admin's own webhook is used"
    );
    assert_eq!(
        desk.stored_secret(Hook::SameAgent).await.as_deref(),
        Some("hand-typed-secret-8d2f")
    );

    let (status, answer) = desk
        .api(
            &key,
            Method::POST,
            "/zendesk/routing/api/hooks/same_agent",
            None,
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["hooks"]["same_agent"]["state"], "present");
    assert_eq!(answer["hooks"]["same_agent"]["change"], "made");
    let id = desk.zendesk.webhooks()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        desk.stored_secret(Hook::SameAgent).await.unwrap(),
        desk.secret_in_zendesk(&id)
    );
    let (status, _) = desk
        .api(&key, Method::POST, "/zendesk/routing/api/hooks/nope", None)
        .await;
    assert_eq!(status, 404);
}

async fn the_home_checklist_follows_what_zendesk_has(backend: Backend) {
    let (desk, key) = fresh(backend).await;
    let home = || async {
        let response = desk.app.http.get(desk.app.url("/")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    };
    let done = |page: &str| page.contains("id=\"step-webhooks\" data-done=\"true\"");
    let count = |page: &str, id: &str| {
        let marker = format!("id=\"webhooks-{id}\">");
        let at = page.find(&marker).unwrap() + marker.len();
        page[at..].split('<').next().unwrap().to_owned()
    };
    assert!(!done(&home().await));

    desk.same_agent(&key, true).await;
    let page = home().await;
    assert!(done(&page), "{page}");
    assert_eq!(count(&page, "present"), "1");

    let id = desk.zendesk.webhooks()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    desk.zendesk.delete_webhook_in_zendesk(&id);
    let shows = desk.zendesk.calls("webhook_show");
    let page = home().await;
    assert!(done(&page), "asked at most once a minute: not yet");
    assert_eq!(
        desk.zendesk.calls("webhook_show"),
        shows,
        "visitors do not make Zendesk calls"
    );
    desk.app.state.clock.advance(hooks::HOME_MAX_AGE_MS);
    let page = home().await;
    assert!(!done(&page), "{page}");
    assert_eq!(
        (
            count(&page, "present").as_str(),
            count(&page, "missing").as_str()
        ),
        ("0", "1")
    );
    assert!(!page.contains(&id), "no Zendesk ids on the public page");
}

on_both_databases!(
    turning_same_agent_on_makes_the_webhook_and_trigger_with_zendesks_secret,
    turning_same_agent_off_removes_the_webhook_the_trigger_and_the_secret,
    a_webhook_deleted_in_zendesk_shows_missing_and_recreate_makes_it_once,
    two_saves_at_once_make_one_webhook,
    each_trigger_queue_gets_its_trigger_on_one_route_webhook,
    a_zendesk_failure_leaves_the_settings_saved_and_says_why,
    without_a_zendesk_connection_the_page_says_to_connect_first,
    a_secret_typed_by_hand_is_left_alone_until_slackdesk_is_asked,
    the_home_checklist_follows_what_zendesk_has,
);
