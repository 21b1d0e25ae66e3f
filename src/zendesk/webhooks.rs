//! Zendesk's Webhooks and Triggers APIs, for the webhooks and triggers slackdesk makes
//! itself (`routing::hooks` decides when): create, show (does it still exist?) and delete
//! a webhook, read its signing secret; create, show and delete a ticket trigger that
//! calls it; list the account's trigger categories.
//!
//! Shapes as documented on developer.zendesk.com (Webhooks API; Triggers API; Trigger
//! Categories API). A webhook connected to triggers subscribes to
//! `conditional_ticket_events` only; a trigger calls it with the action
//! `notification_webhook` = `[webhook id, JSON body]`.
//!
//! The signing secret goes straight into a [`Secret`] and is never logged; answers are
//! read into structs holding ids only. Ids read from Zendesk are checked before they are
//! put into a URL.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::ZendeskClient;
use super::connection::ZendeskAuth;
use super::rest::RestError;
use crate::config::Secret;
use crate::domain::{ParseError, Subdomain};

/// A Zendesk webhook id (a ULID such as `01GK8E6BKWMJZD2T8Y5AXJQMG5`): 1 to 64 ASCII
/// letters and digits, so it can go into a URL path as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookId(String);

impl WebhookId {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        if (1..=64).contains(&raw.len()) && raw.chars().all(|c| c.is_ascii_alphanumeric()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ParseError(
                "a Zendesk webhook id is 1 to 64 letters and digits",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for WebhookId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A webhook to make: Zendesk calls `endpoint` with a JSON POST when a trigger says so.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub name: String,
    pub description: String,
    pub endpoint: String,
}

/// A ticket trigger to make: when every condition holds, it calls `webhook` with `body`.
#[derive(Debug, Clone)]
pub struct NewTrigger {
    pub title: String,
    pub description: String,
    /// Conditions that must all hold (`{"field","operator","value"}` each).
    pub all: Vec<Value>,
    pub webhook: WebhookId,
    /// The JSON body the webhook sends, with Zendesk placeholders (`{{ticket.id}}`).
    pub body: String,
    /// The trigger category to put it in (accounts that organize triggers in categories).
    pub category_id: Option<String>,
}

/// One trigger category (id and name; the name is the account's own label).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerCategory {
    pub id: String,
    pub name: String,
}

#[derive(Deserialize)]
struct WebhookEnvelope {
    webhook: WebhookRef,
}

#[derive(Deserialize)]
struct WebhookRef {
    id: String,
}

/// `{"signing_secret": {"algorithm": "sha256", "secret": "..."}}`. No `Debug`: it holds
/// the secret.
#[derive(Deserialize)]
struct SigningSecretEnvelope {
    signing_secret: SigningSecret,
}

#[derive(Deserialize)]
struct SigningSecret {
    #[serde(default)]
    algorithm: Option<String>,
    secret: String,
}

#[derive(Deserialize)]
struct TriggerEnvelope {
    trigger: TriggerRef,
}

#[derive(Deserialize)]
struct TriggerRef {
    id: i64,
}

#[derive(Deserialize)]
struct CategoriesPage {
    #[serde(default)]
    trigger_categories: Vec<CategoryRef>,
}

#[derive(Deserialize)]
struct CategoryRef {
    id: CategoryId,
    #[serde(default)]
    name: Option<String>,
}

/// Category ids are documented as strings; take numbers too.
#[derive(Deserialize)]
#[serde(untagged)]
enum CategoryId {
    Text(String),
    Number(i64),
}

#[derive(Serialize)]
struct WebhookBody<'a> {
    webhook: WebhookFields<'a>,
}

#[derive(Serialize)]
struct WebhookFields<'a> {
    name: &'a str,
    description: &'a str,
    endpoint: &'a str,
    http_method: &'static str,
    request_format: &'static str,
    status: &'static str,
    subscriptions: [&'static str; 1],
}

/// A 404 is an answer here ("it is not there"), not a failure.
fn found(result: Result<reqwest::Response, RestError>) -> Result<bool, RestError> {
    match result {
        Ok(_) => Ok(true),
        Err(RestError::Rejected { status: 404 }) => Ok(false),
        Err(other) => Err(other),
    }
}

impl ZendeskClient {
    /// `POST /api/v2/webhooks`: an active JSON POST webhook for triggers
    /// (`subscriptions: ["conditional_ticket_events"]`). Answers its id.
    pub async fn create_webhook(
        &self,
        subdomain: &Subdomain,
        auth: &ZendeskAuth,
        webhook: &NewWebhook,
    ) -> Result<WebhookId, RestError> {
        let url = format!("{}/api/v2/webhooks", self.base_url(subdomain));
        let body = WebhookBody {
            webhook: WebhookFields {
                name: &webhook.name,
                description: &webhook.description,
                endpoint: &webhook.endpoint,
                http_method: "POST",
                request_format: "json",
                status: "active",
                subscriptions: ["conditional_ticket_events"],
            },
        };
        let response = self
            .authorized(auth, |http| http.post(&url).json(&body))
            .await?;
        let made: WebhookEnvelope = response.json().await.map_err(|_| RestError::BadResponse)?;
        WebhookId::parse(&made.webhook.id).map_err(|_| RestError::BadResponse)
    }

    /// `GET /api/v2/webhooks/{id}`: whether the webhook still exists.
    pub async fn webhook_exists(
        &self,
        subdomain: &Subdomain,
        auth: &ZendeskAuth,
        id: &WebhookId,
    ) -> Result<bool, RestError> {
        let url = format!("{}/api/v2/webhooks/{id}", self.base_url(subdomain));
        found(self.authorized(auth, |http| http.get(&url)).await)
    }

    /// `GET /api/v2/webhooks/{id}/signing_secret`: the secret Zendesk signs the
    /// webhook's calls with (HMAC-SHA256).
    pub async fn webhook_signing_secret(
        &self,
        subdomain: &Subdomain,
        auth: &ZendeskAuth,
        id: &WebhookId,
    ) -> Result<Secret, RestError> {
        let url = format!(
            "{}/api/v2/webhooks/{id}/signing_secret",
            self.base_url(subdomain)
        );
        let response = self.authorized(auth, |http| http.get(&url)).await?;
        let answer: SigningSecretEnvelope =
            response.json().await.map_err(|_| RestError::BadResponse)?;
        let algorithm_ok = answer
            .signing_secret
            .algorithm
            .as_deref()
            .is_none_or(|a| a.eq_ignore_ascii_case("sha256"));
        if !algorithm_ok || answer.signing_secret.secret.trim().is_empty() {
            return Err(RestError::BadResponse);
        }
        Ok(Secret::new(answer.signing_secret.secret))
    }

    /// `DELETE /api/v2/webhooks/{id}`; one already gone counts as deleted.
    pub async fn delete_webhook(
        &self,
        subdomain: &Subdomain,
        auth: &ZendeskAuth,
        id: &WebhookId,
    ) -> Result<(), RestError> {
        let url = format!("{}/api/v2/webhooks/{id}", self.base_url(subdomain));
        found(self.authorized(auth, |http| http.delete(&url)).await).map(|_| ())
    }

    /// `POST /api/v2/triggers`: an active ticket trigger calling a webhook. Answers its id.
    pub async fn create_trigger(
        &self,
        subdomain: &Subdomain,
        auth: &ZendeskAuth,
        trigger: &NewTrigger,
    ) -> Result<i64, RestError> {
        let url = format!("{}/api/v2/triggers", self.base_url(subdomain));
        let mut fields = json!({
            "title": trigger.title,
            "description": trigger.description,
            "active": true,
            "conditions": {"all": trigger.all, "any": []},
            "actions": [{
                "field": "notification_webhook",
                "value": [trigger.webhook.as_str(), trigger.body],
            }],
        });
        if let Some(category) = &trigger.category_id {
            fields["category_id"] = json!(category);
        }
        let body = json!({ "trigger": fields });
        let response = self
            .authorized(auth, |http| http.post(&url).json(&body))
            .await?;
        let made: TriggerEnvelope = response.json().await.map_err(|_| RestError::BadResponse)?;
        Some(made.trigger.id)
            .filter(|id| *id > 0)
            .ok_or(RestError::BadResponse)
    }

    /// `GET /api/v2/triggers/{id}`: whether the trigger still exists.
    pub async fn trigger_exists(
        &self,
        subdomain: &Subdomain,
        auth: &ZendeskAuth,
        id: i64,
    ) -> Result<bool, RestError> {
        let url = format!("{}/api/v2/triggers/{id}", self.base_url(subdomain));
        found(self.authorized(auth, |http| http.get(&url)).await)
    }

    /// `DELETE /api/v2/triggers/{id}`; one already gone counts as deleted.
    pub async fn delete_trigger(
        &self,
        subdomain: &Subdomain,
        auth: &ZendeskAuth,
        id: i64,
    ) -> Result<(), RestError> {
        let url = format!("{}/api/v2/triggers/{id}", self.base_url(subdomain));
        found(self.authorized(auth, |http| http.delete(&url)).await).map(|_| ())
    }

    /// `GET /api/v2/trigger_categories` (first page, up to 100): the account's trigger
    /// categories, empty when it does not organize triggers in categories.
    pub async fn trigger_categories(
        &self,
        subdomain: &Subdomain,
        auth: &ZendeskAuth,
    ) -> Result<Vec<TriggerCategory>, RestError> {
        let url = format!(
            "{}/api/v2/trigger_categories?page%5Bsize%5D=100&sort=position",
            self.base_url(subdomain)
        );
        let page: CategoriesPage = self.get_json(&url, auth).await?;
        Ok(page
            .trigger_categories
            .into_iter()
            .filter_map(|c| {
                let id = match c.id {
                    CategoryId::Text(text) => text,
                    CategoryId::Number(n) => n.to_string(),
                };
                let ok = !id.is_empty()
                    && id.len() <= 64
                    && id.chars().all(|c| c.is_ascii_alphanumeric());
                ok.then(|| TriggerCategory {
                    id,
                    name: c.name.unwrap_or_default(),
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_ids_are_letters_and_digits_only() {
        assert!(WebhookId::parse("01GK8E6BKWMJZD2T8Y5AXJQMG5").is_ok());
        for bad in ["", "../x", "01GK 8E", "a/b", &"A".repeat(65)] {
            assert!(WebhookId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_signing_secret_answer_is_read_as_documented() {
        let answer: SigningSecretEnvelope = serde_json::from_str(
            r#"{"signing_secret":{"algorithm":"sha256","secret":"dGhpc19zZWNyZXQ="}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(answer.signing_secret.secret, "dGhpc19zZWNyZXQ=");
        assert_eq!(answer.signing_secret.algorithm.as_deref(), Some("sha256"));
    }
}
