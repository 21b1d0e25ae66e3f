//! Ticket routing end to end: the real service and database, a stateful fake Zendesk
//! (views, tickets, `update_many` jobs, exports, skills), and the routing worker driven
//! one round at a time on a manual clock; `crash` runs the real binary and kills it.

mod crash;
pub mod fake;
mod hooks;
mod next_ticket;
mod reassign;
mod scenarios;
mod split;

use serde_json::{Value, json};
use slackdesk::clock::Clock;
use slackdesk::config::Secret;
use slackdesk::domain::{AgentStatus, Subdomain, ZendeskUserId};
use slackdesk::routing::settings::{AccountSettings, Hook, Model, QueueKind, QueueSettings};
use slackdesk::routing::webhook;
use slackdesk::storage::agents::{self, AgentRecord};
use slackdesk::storage::routing as store;
use slackdesk::storage::statuses::{self, Source, StatusRecord};
use slackdesk::storage::zendesk_connections;
use slackdesk::zendesk::Credential;

use crate::support::{Backend, Options, TestApp, spawn_app_with};
use fake::FakeZendesk;

/// Monday 2026-03-23 09:00 UTC.
pub const MONDAY: i64 = 1_774_256_400_000;
pub const WEBHOOK_SECRET: &str = "zd-webhook-signing-secret-31f0";
pub const OWNER: &str = "test-worker";

pub fn acme() -> Subdomain {
    Subdomain::parse("acme").unwrap()
}

pub struct Desk {
    pub app: TestApp,
    pub zendesk: FakeZendesk,
}

#[derive(Clone)]
pub struct AgentSpec {
    pub id: i64,
    pub groups: Vec<i64>,
    pub time_zone: Option<&'static str>,
    pub status: AgentStatus,
}

pub fn online(id: i64) -> AgentSpec {
    AgentSpec {
        id,
        groups: vec![],
        time_zone: None,
        status: AgentStatus::Online,
    }
}

/// An app on a manual clock with acme connected to the fake Zendesk and these agents.
pub async fn desk(backend: Backend, agents: &[AgentSpec]) -> Desk {
    desk_with(backend, agents, Options::default()).await
}

/// [`desk`] with more options (the clock is always manual, at [`MONDAY`]).
pub async fn desk_with(backend: Backend, agents: &[AgentSpec], options: Options) -> Desk {
    let app = spawn_app_with(
        backend,
        Options {
            clock: Some(Clock::manual(MONDAY)),
            ..options
        },
    )
    .await;
    let zendesk = FakeZendesk::mount(&app.zendesk, "acme").await;
    let auth = Credential::ApiToken {
        email: "admin@acme.example".into(),
        api_token: "zd-api-token-routing".into(),
    };
    zendesk_connections::upsert(
        &app.state.db,
        &app.state.keys,
        &acme(),
        "api_token",
        &auth.to_secret(),
        Default::default(),
        MONDAY,
    )
    .await
    .unwrap();
    for hook in [Hook::Route, Hook::SameAgent] {
        store::set_webhook_secret(
            &app.state.db,
            &app.state.keys,
            &acme(),
            hook,
            &Secret::new(format!("{WEBHOOK_SECRET}-{}", hook.as_str())),
            MONDAY,
        )
        .await
        .unwrap();
    }
    let desk = Desk { app, zendesk };
    desk.set_agents(agents).await;
    desk
}

impl Desk {
    pub fn now(&self) -> i64 {
        self.app.state.clock.now_ms()
    }

    pub async fn set_agents(&self, specs: &[AgentSpec]) {
        let records: Vec<AgentRecord> = specs
            .iter()
            .map(|s| AgentRecord {
                user_id: ZendeskUserId::new(s.id).unwrap(),
                role: "agent".into(),
                default_group_id: s.groups.first().copied(),
                group_ids: s.groups.clone(),
                time_zone: s.time_zone.map(str::to_owned),
            })
            .collect();
        let mut tx = self.app.state.db.begin_write().await.unwrap();
        agents::replace_all(&mut tx, &acme(), &records, self.now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        for spec in specs {
            self.set_status(spec.id, spec.status).await;
        }
    }

    pub async fn set_status(&self, id: i64, status: AgentStatus) {
        let mut tx = self.app.state.db.begin_write().await.unwrap();
        let change = StatusRecord {
            user_id: ZendeskUserId::new(id).unwrap(),
            status,
            updated_at: self.now(),
            updated_by: ZendeskUserId::new(id).unwrap(),
        };
        statuses::apply(&mut tx, &acme(), &change, Source::Api)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    pub async fn queue(&self, model: Model, tweak: impl FnOnce(&mut QueueSettings)) -> i64 {
        let mut settings = QueueSettings {
            name: format!("{} queue", model.label()),
            position: 0,
            view_id: 1,
            kind: QueueKind::Scheduled,
            model,
            interval_secs: 60,
            batch_size: 100,
            use_sla: false,
            skills_timeout_minutes: None,
            audit_tag: Some("routed_by_slackdesk".into()),
            audit_field_id: None,
            audit_field_value: None,
            enabled: true,
            reassign: Default::default(),
            split: Vec::new(),
        };
        tweak(&mut settings);
        let settings = settings.validate().unwrap();
        store::create_queue(&self.app.state.db, &acme(), &settings, self.now())
            .await
            .unwrap()
    }

    pub async fn settings(&self, tweak: impl FnOnce(&mut AccountSettings)) {
        let mut settings = AccountSettings::default();
        tweak(&mut settings);
        store::save_account_settings(
            &self.app.state.db,
            &acme(),
            &settings.validate().unwrap(),
            self.now(),
        )
        .await
        .unwrap();
    }

    /// One worker round; then the clock moves past every queue's interval.
    pub async fn round(&self) -> slackdesk::routing::worker::Round {
        let done = slackdesk::routing::worker::round(&self.app.state, OWNER)
            .await
            .unwrap();
        self.app.state.clock.advance(61_000);
        done
    }

    pub async fn log(&self) -> Vec<store::Assignment> {
        let mut log = store::log(&self.app.state.db, &acme(), None, 10_000)
            .await
            .unwrap();
        log.reverse();
        log
    }

    /// Posts a webhook signed the way Zendesk signs it, with that webhook's secret.
    pub async fn webhook(&self, path: &str, body: &Value) -> (u16, Value) {
        let hook = if path.ends_with("same_agent") {
            "same_agent"
        } else {
            "route"
        };
        let secret = format!("{WEBHOOK_SECRET}-{hook}");
        self.webhook_signed(path, "acme", body, &secret).await
    }

    pub async fn webhook_signed(
        &self,
        path: &str,
        account: &str,
        body: &Value,
        secret: &str,
    ) -> (u16, Value) {
        let raw = serde_json::to_vec(body).unwrap();
        let timestamp = chrono::DateTime::from_timestamp_millis(self.now())
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let signature = webhook::sign(&Secret::new(secret.into()), &timestamp, &raw);
        let response = self
            .app
            .http
            .post(self.app.url(&format!("{path}?account={account}")))
            .header("Content-Type", "application/json")
            .header("X-Zendesk-Webhook-Signature", signature)
            .header("X-Zendesk-Webhook-Signature-Timestamp", timestamp)
            .body(raw)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(json!(null)))
    }

    pub async fn pending_requests(&self) -> i64 {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM routing_requests")
            .fetch_one(self.app.state.db.pool())
            .await
            .unwrap()
    }
}
