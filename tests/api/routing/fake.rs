//! A stateful fake Zendesk for routing: views, tickets by id, `update_many` with
//! `safe_update` and job statuses, the incremental ticket export, skills, requested
//! tickets, and injectable 429s, mid-run changes and stalled jobs. It answers with the
//! JSON shapes of Zendesk's API and records every call so tests can count reads and
//! writes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use serde_json::{Value, json};
use wiremock::matchers::path_regex;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

#[derive(Debug, Clone, Default)]
pub struct Ticket {
    pub id: i64,
    pub status: String,
    pub priority: Option<String>,
    pub assignee_id: Option<i64>,
    pub group_id: Option<i64>,
    pub requester_id: i64,
    pub created_at: i64,
    pub version: i64,
    pub views: Vec<i64>,
    pub tags: Vec<String>,
    pub skills: Vec<String>,
    pub sla_breach_at: Option<i64>,
    pub custom_fields: Vec<(i64, String)>,
    /// Comments after the description: (author, public, created_at ms).
    pub comments: Vec<(i64, bool, i64)>,
    pub organization_id: Option<i64>,
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

impl Ticket {
    pub fn new(id: i64, created_at: i64) -> Self {
        Self {
            id,
            status: "new".into(),
            requester_id: 9_000 + id,
            created_at,
            version: created_at,
            views: vec![1],
            ..Self::default()
        }
    }

    pub fn updated_stamp(&self) -> String {
        iso(self.version)
    }

    fn json(&self) -> Value {
        let mut ticket = json!({
            "id": self.id, "url": format!("https://acme.zendesk.com/api/v2/tickets/{}.json", self.id),
            "subject": "Printer on fire", "description": "private words",
            "status": self.status, "priority": self.priority, "assignee_id": self.assignee_id,
            "group_id": self.group_id, "requester_id": self.requester_id,
            "created_at": iso(self.created_at), "updated_at": self.updated_stamp(),
            "tags": self.tags, "organization_id": self.organization_id,
        });
        if let Some(breach) = self.sla_breach_at {
            ticket["slas"] = json!({"policy_metrics": [
                {"breach_at": iso(breach), "stage": "active", "metric": "first_reply_time"}]});
        }
        ticket
    }
}

#[derive(Default)]
pub struct State {
    pub tickets: BTreeMap<i64, Ticket>,
    pub agent_skills: HashMap<i64, Vec<String>>,
    jobs: HashMap<String, Vec<Value>>,
    /// Bodies of every `update_many` call that was accepted.
    pub update_bodies: Vec<Value>,
    /// Every `update_many` attempt, 429s included, with its time.
    pub update_attempts: Vec<Instant>,
    /// Answer this many `update_many` calls with 429 and `Retry-After: 1`.
    pub rate_limit_updates: usize,
    /// Calls by kind: "view", "show_many", "update_many", "job", "export", ...
    pub calls: HashMap<&'static str, usize>,
    /// After the next view read, these tickets are assigned to someone else.
    pub assign_after_view_read: Vec<(i64, i64)>,
    /// Just before the next `update_many` is applied, these tickets are edited
    /// (their `updated_at` moves on), so a safe update of them conflicts.
    pub edit_before_update: Vec<i64>,
    /// Keep jobs "queued" for this many status reads.
    pub job_polls_before_done: usize,
    /// Answer this many `update_many` calls with a 500 (nothing applied).
    pub fail_updates: usize,
    /// After the next view read, these tickets are edited (still unassigned).
    pub edit_after_view_read: Vec<i64>,
    /// The view lags: it lists these tickets as new and unassigned whatever they are.
    pub view_lags: Vec<i64>,
    /// Entries the next incremental skills export returns (Zendesk's instance values).
    pub skill_changes: Vec<Value>,
    /// Answer `show_many` (the fresh read just before a write) this much later, so that
    /// writers racing each other are all between claiming and writing at once.
    pub show_many_delay: Option<std::time::Duration>,
    /// Answer a ticket's skills this much later: a skills queue reads them after leaving
    /// out claimed tickets and before claiming, so racing deciders are all in between.
    pub ticket_skills_delay: Option<std::time::Duration>,
    pending_polls: HashMap<String, usize>,
    /// Stall this many `update_many` jobs: of each, only the first `stall_applies`
    /// tickets are applied, and its status stays "working" for good (the process that
    /// follows it is caught mid-job).
    pub stall_jobs: usize,
    pub stall_applies: usize,
    stalled: HashSet<String>,
    /// Every assignee change the fake applied (ticket id, assignee), with its time.
    pub applied: Vec<(Instant, i64, Option<i64>)>,
    /// Webhooks by id, as Zendesk shows them (`POST /api/v2/webhooks`).
    pub webhooks: BTreeMap<String, Value>,
    /// Each webhook's signing secret, by webhook id.
    pub webhook_secrets: HashMap<String, String>,
    /// Ticket triggers by id (`POST /api/v2/triggers`).
    pub triggers: BTreeMap<i64, Value>,
    /// The account's trigger categories (`{"id", "name", "position"}` each).
    pub trigger_categories: Vec<Value>,
    /// Answer the next webhook, trigger and trigger-category calls with these statuses,
    /// one each, in order (0: answer that call normally; 429 comes with
    /// `Retry-After: 1`; nothing is applied).
    pub fail_hooks: Vec<u16>,
    injected: Option<u16>,
    hooks_made: i64,
    /// Answer webhook creation this much later, so that two syncs racing each other are
    /// both under way at once.
    pub webhook_create_delay: Option<std::time::Duration>,
}

impl State {
    /// Whether the next webhook or trigger call is to fail (see `fail_hooks`).
    fn take_hook_failure(&mut self) -> bool {
        if self.fail_hooks.is_empty() {
            return false;
        }
        let status = self.fail_hooks.remove(0);
        self.injected = (status != 0).then_some(status);
        self.injected.is_some()
    }
}

#[derive(Clone, Default)]
pub struct FakeZendesk {
    state: Arc<Mutex<State>>,
}

impl FakeZendesk {
    pub async fn mount(server: &MockServer, subdomain: &str) -> Self {
        let fake = Self::default();
        Mock::given(path_regex(format!("^/z/{subdomain}/api/v2/")))
            .respond_with(fake.clone())
            .with_priority(10)
            .mount(server)
            .await;
        fake
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    pub fn add(&self, ticket: Ticket) {
        self.state().tickets.insert(ticket.id, ticket);
    }

    pub fn ticket(&self, id: i64) -> Ticket {
        self.state().tickets.get(&id).cloned().unwrap()
    }

    pub fn calls(&self, kind: &str) -> usize {
        self.state().calls.get(kind).copied().unwrap_or(0)
    }

    /// Someone deletes this webhook in Zendesk's Admin Center.
    pub fn delete_webhook_in_zendesk(&self, id: &str) {
        let mut state = self.state();
        assert!(state.webhooks.remove(id).is_some(), "webhook {id} exists");
        state.webhook_secrets.remove(id);
    }

    /// Someone deletes this trigger in Zendesk's Admin Center.
    pub fn delete_trigger_in_zendesk(&self, id: i64) {
        assert!(
            self.state().triggers.remove(&id).is_some(),
            "trigger {id} exists"
        );
    }

    /// The webhooks Zendesk has now.
    pub fn webhooks(&self) -> Vec<Value> {
        self.state().webhooks.values().cloned().collect()
    }

    /// The triggers Zendesk has now.
    pub fn triggers(&self) -> Vec<Value> {
        self.state().triggers.values().cloned().collect()
    }

    /// Assignee of each ticket, by id.
    pub fn assignees(&self) -> BTreeMap<i64, Option<i64>> {
        self.state()
            .tickets
            .values()
            .map(|t| (t.id, t.assignee_id))
            .collect()
    }
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn query(request: &Request, name: &str) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

impl Respond for FakeZendesk {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.state();
        let path = request.url.path().to_owned();
        let rest = path.split("/api/v2/").nth(1).unwrap_or_default().to_owned();
        let parts: Vec<&str> = rest.trim_end_matches(".json").split('/').collect();
        let method = request.method.as_str();
        let mut count = |kind: &'static str| *state.calls.entry(kind).or_default() += 1;
        match (method, parts.as_slice()) {
            ("GET", ["views", view, "tickets"]) => {
                count("view");
                let view: i64 = view.parse().unwrap();
                let tickets: Vec<Value> = state
                    .tickets
                    .values()
                    .filter(|t| {
                        t.views.contains(&view)
                            && (matches!(t.status.as_str(), "new" | "open")
                                || state.view_lags.contains(&t.id))
                    })
                    .map(|t| {
                        if state.view_lags.contains(&t.id) {
                            let mut stale = t.clone();
                            stale.assignee_id = None;
                            stale.status = "new".into();
                            stale.json()
                        } else {
                            t.json()
                        }
                    })
                    .collect();
                for id in std::mem::take(&mut state.edit_after_view_read) {
                    if let Some(t) = state.tickets.get_mut(&id) {
                        t.version += 1_000;
                    }
                }
                for (id, agent) in std::mem::take(&mut state.assign_after_view_read) {
                    if let Some(t) = state.tickets.get_mut(&id) {
                        t.assignee_id = Some(agent);
                        t.version += 1_000;
                    }
                }
                ok(json!({"tickets": tickets, "next_page": null, "count": tickets.len()}))
            }
            ("GET", ["tickets", "show_many"]) => {
                count("show_many");
                let ids: Vec<i64> = query(request, "ids")
                    .unwrap_or_default()
                    .split(',')
                    .filter_map(|s| s.parse().ok())
                    .collect();
                let tickets: Vec<Value> = ids
                    .iter()
                    .filter_map(|id| state.tickets.get(id))
                    .map(Ticket::json)
                    .collect();
                let answer = ok(json!({"tickets": tickets}));
                match state.show_many_delay {
                    Some(delay) => answer.set_delay(delay),
                    None => answer,
                }
            }
            ("PUT", ["tickets", "update_many"]) => {
                count("update_many");
                state.update_attempts.push(Instant::now());
                if state.rate_limit_updates > 0 {
                    state.rate_limit_updates -= 1;
                    return ResponseTemplate::new(429).insert_header("Retry-After", "1");
                }
                if state.fail_updates > 0 {
                    state.fail_updates -= 1;
                    return ResponseTemplate::new(500)
                        .set_body_json(json!({"error": "InternalError"}));
                }
                for id in std::mem::take(&mut state.edit_before_update) {
                    if let Some(t) = state.tickets.get_mut(&id) {
                        t.version += 1_000;
                    }
                }
                let body: Value = serde_json::from_slice(&request.body).unwrap();
                let stalled = state.stall_jobs > 0;
                state.stall_jobs = state.stall_jobs.saturating_sub(1);
                let applies = if stalled {
                    state.stall_applies
                } else {
                    usize::MAX
                };
                let mut results = Vec::new();
                let updates = body["tickets"].as_array().cloned().unwrap_or_default();
                for update in updates.into_iter().take(applies) {
                    let id = update["id"].as_i64().unwrap();
                    let Some(ticket) = state.tickets.get_mut(&id) else {
                        results
                            .push(json!({"id": id, "error": "RecordNotFound", "details": "gone"}));
                        continue;
                    };
                    let safe = update["safe_update"].as_bool() == Some(true);
                    if safe
                        && update["updated_stamp"].as_str() != Some(ticket.updated_stamp().as_str())
                    {
                        results.push(json!({"id": id, "error": "UpdateConflict",
                            "details": "Safe Update prevented the update due to outdated ticket data"}));
                        continue;
                    }
                    ticket.assignee_id = update["assignee_id"].as_i64();
                    if let Some(group) = update["group_id"].as_i64() {
                        ticket.group_id = Some(group);
                    }
                    let assignee = ticket.assignee_id;
                    if ticket.status == "new" {
                        ticket.status = "open".into();
                    }
                    for tag in update["additional_tags"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                    {
                        ticket.tags.push(tag.as_str().unwrap().to_owned());
                    }
                    for field in update["custom_fields"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                    {
                        ticket.custom_fields.push((
                            field["id"].as_i64().unwrap(),
                            field["value"].as_str().unwrap().to_owned(),
                        ));
                    }
                    ticket.version += 1_000;
                    state.applied.push((Instant::now(), id, assignee));
                    results.push(
                        json!({"id": id, "action": "update", "success": true, "status": "Updated"}),
                    );
                }
                let job_id = format!("job{}", state.jobs.len() + 1);
                if stalled {
                    state.stalled.insert(job_id.clone());
                }
                state.jobs.insert(job_id.clone(), results);
                let polls = state.job_polls_before_done;
                state.pending_polls.insert(job_id.clone(), polls);
                state.update_bodies.push(body);
                ok(
                    json!({"job_status": {"id": job_id, "status": "queued", "total": null,
                    "progress": null, "results": null,
                    "url": format!("https://acme.zendesk.com/api/v2/job_statuses/{job_id}.json")}}),
                )
            }
            ("GET", ["job_statuses", id]) => {
                count("job");
                let id = (*id).to_owned();
                let left = state.pending_polls.get(&id).copied().unwrap_or(0);
                if state.stalled.contains(&id) {
                    return ok(
                        json!({"job_status": {"id": id, "status": "working", "results": null}}),
                    );
                }
                if left > 0 {
                    state.pending_polls.insert(id.clone(), left - 1);
                    return ok(
                        json!({"job_status": {"id": id, "status": "working", "results": null}}),
                    );
                }
                let results = state.jobs.get(&id).cloned().unwrap_or_default();
                ok(
                    json!({"job_status": {"id": id, "status": "completed", "total": results.len(),
                    "progress": results.len(), "results": results}}),
                )
            }
            ("GET", ["incremental", "tickets", "cursor"]) => {
                count("export");
                let tickets: Vec<Value> = state.tickets.values().map(Ticket::json).collect();
                ok(
                    json!({"tickets": tickets, "after_cursor": "c-end", "before_cursor": null,
                    "end_of_stream": true}),
                )
            }
            ("GET", ["search", "export"]) => {
                count("search_export");
                assert_eq!(query(request, "filter[type]").as_deref(), Some("ticket"));
                assert_eq!(query(request, "query").as_deref(), Some("status<pending"));
                let tickets: Vec<Value> = state
                    .tickets
                    .values()
                    .filter(|t| matches!(t.status.as_str(), "new" | "open"))
                    .map(|t| {
                        let mut json = t.json();
                        json["result_type"] = json!("ticket");
                        json
                    })
                    .collect();
                ok(json!({"results": tickets, "facets": null,
                    "meta": {"has_more": false, "after_cursor": "s-end", "before_cursor": null},
                    "links": {"prev": null, "next": null}}))
            }
            ("GET", ["incremental", "routing", "instance_values"]) => {
                count("skills_export");
                let changes = std::mem::take(&mut state.skill_changes);
                let count = changes.len();
                ok(
                    json!({"instance_values": changes, "attribute_values": [], "count": count,
                    "end_time": "0", "next_page": null}),
                )
            }
            ("GET", ["routing", "agents", id, "instance_values"]) => {
                count("agent_skills");
                let id: i64 = id.parse().unwrap();
                let values: Vec<Value> = state
                    .agent_skills
                    .get(&id)
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|v| json!({"id": v, "name": "Language", "attribute_id": "a1"}))
                    .collect();
                ok(json!({"attribute_values": values}))
            }
            ("GET", ["routing", "tickets", id, "instance_values"]) => {
                count("ticket_skills");
                let id: i64 = id.parse().unwrap();
                let values: Vec<Value> = state
                    .tickets
                    .get(&id)
                    .map(|t| t.skills.clone())
                    .unwrap_or_default()
                    .into_iter()
                    .map(|v| json!({"id": v, "name": "Language", "attribute_id": "a1"}))
                    .collect();
                let answer = ok(json!({"attribute_values": values}));
                match state.ticket_skills_delay {
                    Some(delay) => answer.set_delay(delay),
                    None => answer,
                }
            }
            ("GET", ["tickets", id, "comments"]) => {
                count("comments");
                assert_eq!(query(request, "sort_order").as_deref(), Some("desc"));
                let id: i64 = id.parse().unwrap();
                let Some(ticket) = state.tickets.get(&id) else {
                    return ResponseTemplate::new(404)
                        .set_body_json(json!({"error": "RecordNotFound"}));
                };
                let mut comments: Vec<Value> =
                    std::iter::once((ticket.requester_id, true, ticket.created_at))
                        .chain(ticket.comments.iter().copied())
                        .enumerate()
                        .map(|(n, (author, public, at))| {
                            json!({"id": 500_000 + n as i64, "type": "Comment", "author_id": author,
                            "body": "private words", "html_body": "<p>private words</p>",
                            "plain_body": "private words", "public": public,
                            "attachments": [], "audit_id": 700_000 + n as i64,
                            "via": {"channel": "web"}, "created_at": iso(at)})
                        })
                        .collect();
                comments.reverse();
                ok(json!({"comments": comments,
                    "meta": {"has_more": false, "after_cursor": null, "before_cursor": null},
                    "links": {"prev": null, "next": null}}))
            }
            ("GET", ["users", id, "tickets", "requested"]) => {
                count("requested");
                let id: i64 = id.parse().unwrap();
                let mut tickets: Vec<&Ticket> = state
                    .tickets
                    .values()
                    .filter(|t| t.requester_id == id)
                    .collect();
                tickets.sort_by_key(|t| std::cmp::Reverse(t.created_at));
                let tickets: Vec<Value> = tickets.into_iter().map(Ticket::json).collect();
                ok(json!({"tickets": tickets, "next_page": null}))
            }
            (_, ["webhooks", ..] | ["triggers", ..] | ["trigger_categories", ..])
                if state.take_hook_failure() =>
            {
                *state.calls.entry("hook_failure").or_default() += 1;
                let status = state.injected.take().unwrap_or(500);
                let answer = ResponseTemplate::new(status)
                    .set_body_json(json!({"error": "injected", "description": "injected failure"}));
                if status == 429 {
                    answer.insert_header("Retry-After", "1")
                } else {
                    answer
                }
            }
            ("POST", ["webhooks"]) => {
                *state.calls.entry("webhook_create").or_default() += 1;
                let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
                let w = &body["webhook"];
                let valid = w["name"].as_str().is_some_and(|n| !n.is_empty())
                    && w["endpoint"]
                        .as_str()
                        .is_some_and(|e| e.starts_with("https://"))
                    && w["http_method"] == "POST"
                    && w["request_format"] == "json"
                    && matches!(w["status"].as_str(), Some("active" | "inactive"))
                    && w["subscriptions"] == json!(["conditional_ticket_events"]);
                if !valid {
                    return ResponseTemplate::new(400).set_body_json(json!({"errors": [
                        {"code": "InvalidValue", "title": "Invalid webhook", "detail": body.to_string()}]}));
                }
                state.hooks_made += 1;
                let n = state.hooks_made;
                let id = format!("01JFAKEWEBHOOK{n:012}");
                let mut webhook = w.clone();
                webhook["id"] = json!(id);
                webhook["created_at"] = json!("2026-03-23T09:00:00Z");
                webhook["created_by"] = json!("361576231073");
                state.webhooks.insert(id.clone(), webhook.clone());
                state
                    .webhook_secrets
                    .insert(id, format!("fake-zd-signing-secret-{n}-c0ffee"));
                let answer = ResponseTemplate::new(201).set_body_json(json!({"webhook": webhook}));
                match state.webhook_create_delay {
                    Some(delay) => answer.set_delay(delay),
                    None => answer,
                }
            }
            ("GET", ["webhooks", id]) => {
                *state.calls.entry("webhook_show").or_default() += 1;
                match state.webhooks.get(*id) {
                    Some(webhook) => ok(json!({"webhook": webhook})),
                    None => ResponseTemplate::new(404).set_body_json(json!({"errors": [
                        {"code": "WebhookNotFound", "title": "Webhook not found"}]})),
                }
            }
            ("GET", ["webhooks", id, "signing_secret"]) => {
                *state.calls.entry("webhook_secret").or_default() += 1;
                match state.webhook_secrets.get(*id) {
                    Some(secret) => {
                        ok(json!({"signing_secret": {"algorithm": "sha256", "secret": secret}}))
                    }
                    None => ResponseTemplate::new(404).set_body_json(json!({"errors": [
                        {"code": "WebhookNotFound", "title": "Webhook not found"}]})),
                }
            }
            ("DELETE", ["webhooks", id]) => {
                *state.calls.entry("webhook_delete").or_default() += 1;
                let id = (*id).to_owned();
                if state.webhooks.remove(&id).is_none() {
                    return ResponseTemplate::new(404).set_body_json(json!({"errors": [
                        {"code": "WebhookNotFound", "title": "Webhook not found"}]}));
                }
                state.webhook_secrets.remove(&id);
                ResponseTemplate::new(204)
            }
            ("POST", ["triggers"]) => {
                *state.calls.entry("trigger_create").or_default() += 1;
                let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
                let t = &body["trigger"];
                let calls = t["actions"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|a| a["field"] == "notification_webhook")
                    .collect::<Vec<_>>();
                let webhook_ok = calls.iter().all(|a| {
                    a["value"][0]
                        .as_str()
                        .is_some_and(|id| state.webhooks.contains_key(id))
                        && a["value"][1].as_str().is_some()
                });
                let category_ok = match t["category_id"].as_str() {
                    Some(id) => state.trigger_categories.iter().any(|c| c["id"] == id),
                    None => t.get("category_id").is_none(),
                };
                let valid = t["title"].as_str().is_some_and(|n| !n.is_empty())
                    && t["conditions"]["all"].is_array()
                    && !calls.is_empty()
                    && webhook_ok
                    && category_ok;
                if !valid {
                    return ResponseTemplate::new(422).set_body_json(json!({"error": "RecordInvalid",
                        "description": "Record validation errors", "details": {"base": [{"description": body.to_string()}]}}));
                }
                state.hooks_made += 1;
                let id = 360_000_000 + state.hooks_made;
                let mut trigger = t.clone();
                trigger["id"] = json!(id);
                trigger["url"] = json!(format!(
                    "https://acme.zendesk.com/api/v2/triggers/{id}.json"
                ));
                trigger["position"] = json!(state.triggers.len() + 1);
                trigger["default"] = json!(false);
                state.triggers.insert(id, trigger.clone());
                ResponseTemplate::new(201).set_body_json(json!({"trigger": trigger}))
            }
            ("GET", ["triggers", id]) => {
                *state.calls.entry("trigger_show").or_default() += 1;
                match id
                    .parse::<i64>()
                    .ok()
                    .and_then(|id| state.triggers.get(&id))
                {
                    Some(trigger) => ok(json!({"trigger": trigger})),
                    None => ResponseTemplate::new(404)
                        .set_body_json(json!({"error": "RecordNotFound",
                        "description": "Not found"})),
                }
            }
            ("DELETE", ["triggers", id]) => {
                *state.calls.entry("trigger_delete").or_default() += 1;
                match id
                    .parse::<i64>()
                    .ok()
                    .and_then(|id| state.triggers.remove(&id))
                {
                    Some(_) => ResponseTemplate::new(204),
                    None => ResponseTemplate::new(404)
                        .set_body_json(json!({"error": "RecordNotFound",
                        "description": "Not found"})),
                }
            }
            ("GET", ["trigger_categories"]) => {
                *state.calls.entry("trigger_categories").or_default() += 1;
                ok(json!({"trigger_categories": state.trigger_categories,
                    "links": {"next": null, "prev": null},
                    "meta": {"has_more": false, "after_cursor": null, "before_cursor": null}}))
            }
            _ => ResponseTemplate::new(404).set_body_json(json!({"error": "InvalidEndpoint"})),
        }
    }
}
