//! What people are told about a connection: a notice for the pages (admin UI, status
//! board, routing, the agents' app), and counts per state for `/metrics` and `/readyz`.

use chrono::{TimeZone, Utc};
use serde::Serialize;

use super::{API_TOKEN_END, Connections, now_ms};
use crate::domain::Subdomain;
use crate::storage::StorageError;
use crate::storage::zendesk_connections::{self, Connection};

/// How a connection stands, for the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Active,
    NeedsReconnect,
    NotConnected,
}

/// One account's connection as a page shows it. No secret, no name, no email.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionNotice {
    pub subdomain: String,
    pub health: Health,
    /// `oauth`, `client_credentials`, `api_token`, or empty when not connected.
    pub kind: String,
    /// What the kind is, in words.
    pub kind_label: &'static str,
    /// The stored reason code (`invalid_grant`, …) when it needs a reconnect.
    pub reason_code: Option<String>,
    /// The reason in words, and what to do.
    pub reason: Option<String>,
    /// An API-token connection: deprecated, with the date Zendesk ends them.
    pub deprecated: Option<String>,
    /// When the current access token expires (UTC), if it does.
    pub access_expires: Option<String>,
    /// When the refresh token expires (UTC); renewed automatically before then.
    pub refresh_expires: Option<String>,
    /// The last renewal problem that needed nobody (Zendesk away, rate limited).
    pub last_error: Option<String>,
    /// Where to connect again: OAuth.
    pub reconnect_url: String,
    /// Where to connect again: client credentials.
    pub client_credentials_url: String,
}

impl ConnectionNotice {
    pub fn needs_reconnect(&self) -> bool {
        self.health == Health::NeedsReconnect
    }

    pub fn not_connected(&self) -> bool {
        self.health == Health::NotConnected
    }

    /// Something a person must act on (reconnect, connect, or leave API tokens).
    pub fn needs_attention(&self) -> bool {
        self.health != Health::Active || self.deprecated.is_some()
    }
}

/// Connections per state, for `/metrics` and `/readyz`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ConnectionSummary {
    /// (kind, state, count), sorted.
    pub counts: Vec<(String, String, u64)>,
    /// Subdomains whose connection needs a person, with the reason code.
    pub needs_reconnect: Vec<(String, String)>,
}

fn utc(ms: Option<i64>) -> Option<String> {
    let ms = ms?;
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "oauth" => "OAuth (authorized by an admin; renewed automatically)",
        "client_credentials" => "OAuth client credentials (server to server)",
        "api_token" => "API token (deprecated)",
        _ => "not connected",
    }
}

/// What a reason code means, and what to do about it.
pub fn reason_text(code: &str) -> String {
    let text = match code {
        "invalid_grant" => {
            "Zendesk no longer accepts the stored authorization: the refresh token expired or \
             was revoked, or the admin who authorized it lost access. Connect the account again."
        }
        "invalid_client" | "unauthorized_client" => {
            "Zendesk no longer accepts the OAuth client: it was deleted, its secret changed, or \
             it is not a confidential client. Connect again with a working client."
        }
        "api_token_rejected" => {
            "Zendesk refused the API token (API tokens are deactivated after 30 days unused and \
             all of them on 30 April 2027). Connect with OAuth or client credentials."
        }
        "token_rejected" => {
            "Zendesk refused the stored OAuth token, and it has no refresh token to renew it \
             with. Connect the account again."
        }
        "oauth_client_not_configured" => {
            "The token cannot be renewed because ZENDESK_CLIENT_ID and ZENDESK_CLIENT_SECRET are \
             not set on this server. Set them and connect again, or use client credentials."
        }
        _ => "Zendesk refused to renew the connection. Connect the account again.",
    };
    format!("{text} (code: {code})")
}

impl Connections {
    /// The notice for one subdomain (also when it is not connected).
    pub async fn notice(&self, subdomain: &Subdomain) -> Result<ConnectionNotice, StorageError> {
        let row = zendesk_connections::find(self.db(), subdomain).await?;
        Ok(notice_of(subdomain, row.as_ref()))
    }

    /// Counts per kind and state, and the subdomains that need a reconnect.
    pub async fn summary(&self) -> Result<ConnectionSummary, StorageError> {
        let mut summary = ConnectionSummary::default();
        for row in zendesk_connections::all(self.db()).await? {
            if row.needs_reconnect() {
                summary.needs_reconnect.push((
                    row.subdomain.as_str().to_owned(),
                    row.last_error.clone().unwrap_or_default(),
                ));
            }
            match summary
                .counts
                .iter_mut()
                .find(|(kind, state, _)| *kind == row.auth_kind && *state == row.state)
            {
                Some((_, _, count)) => *count += 1,
                None => summary.counts.push((row.auth_kind, row.state, 1)),
            }
        }
        summary.counts.sort();
        Ok(summary)
    }
}

fn notice_of(subdomain: &Subdomain, row: Option<&Connection>) -> ConnectionNotice {
    let reconnect_url = format!("/zendesk/connect?subdomain={}", subdomain.as_str());
    let client_credentials_url = format!(
        "/zendesk/connect/client_credentials?subdomain={}",
        subdomain.as_str()
    );
    let Some(row) = row else {
        return ConnectionNotice {
            subdomain: subdomain.as_str().to_owned(),
            health: Health::NotConnected,
            kind: String::new(),
            kind_label: kind_label(""),
            reason_code: None,
            reason: Some(
                "Zendesk's REST API is not connected, so agent sync, statuses rules, routing, \
                 app notices and ticket priority and type from Slack do not run."
                    .into(),
            ),
            deprecated: None,
            access_expires: None,
            refresh_expires: None,
            last_error: None,
            reconnect_url,
            client_credentials_url,
        };
    };
    let needs = row.needs_reconnect();
    let now = now_ms();
    ConnectionNotice {
        subdomain: subdomain.as_str().to_owned(),
        health: if needs {
            Health::NeedsReconnect
        } else {
            Health::Active
        },
        kind: row.auth_kind.clone(),
        kind_label: kind_label(&row.auth_kind),
        reason_code: needs.then(|| row.last_error.clone().unwrap_or_default()),
        reason: needs.then(|| reason_text(row.last_error.as_deref().unwrap_or("unknown"))),
        deprecated: (row.auth_kind == "api_token").then(|| {
            format!(
                "API tokens are deprecated: Zendesk deactivates all of them on {API_TOKEN_END}. \
                 Connect with OAuth or client credentials before then."
            )
        }),
        access_expires: utc(row.access_expires_at.filter(|at| *at > now)),
        refresh_expires: utc(row.refresh_expires_at),
        last_error: (!needs).then(|| row.last_error.clone()).flatten(),
        reconnect_url,
        client_credentials_url,
    }
}
