//! An account's Zendesk REST connection, and the one way every REST call is authorized.
//!
//! ```text
//!  connect(grant) ─▶ token endpoint (client credentials) ─▶ GET users/me = admin?
//!                 ─▶ sealed grant + expiries stored (version + 1) ─▶ active
//!
//!  open(subdomain) ─▶ ZendeskAuth ─▶ ZendeskClient::authorized(call)
//!      token due (expires within min(5 min, lifetime / 5))? ─▶ renew ─▶ call
//!      401? ─▶ renew once ─▶ call again
//!
//!  renew: re-read the row ─ a newer version? use it
//!         ─ lease held by another process? wait for it, then use what it stored
//!         ─ take the lease (CAS on version) ─▶ refresh_token / client_credentials
//!             ok ─▶ store (CAS on version) ─▶ new version, lease freed
//!             invalid_grant … ─▶ needs_reconnect with the code (CAS on version)
//!             Zendesk away ─▶ lease freed, error noted; a token still valid is used
//! ```
//!
//! Across replicas only the lease holder talks to the token endpoint, so a refresh
//! token is presented once; the lease outlives the HTTP timeout, so it cannot pass to
//! another process while a refresh is in flight. Nothing is written before Zendesk
//! answers: a process killed mid-refresh leaves the old grant stored, and the next
//! renewal (after the lease runs out) uses it. A connection that cannot be renewed is
//! marked `needs_reconnect` with the reason; pages, `/metrics` and `/readyz` show it, and
//! reconnecting (a new grant) makes it active again without a restart.

mod credential;
mod renew;
mod status;

pub use credential::{Credential, GrantError, SCOPES, TokenSet};
pub use status::{ConnectionNotice, ConnectionSummary, Health};

use std::sync::Arc;
use std::time::Duration;

use crate::config::{Secret, Settings};
use crate::crypto::KeyRing;
use crate::domain::Subdomain;
use crate::storage::zendesk_connections::{self, Lifetimes};
use crate::storage::{Db, StorageError};
use crate::zendesk::{Me, RestError, ZendeskClient};

/// The date Zendesk deactivates every API token.
pub const API_TOKEN_END: &str = "30 April 2027";

#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error("Zendesk call failed: {0}")]
    Zendesk(#[from] RestError),
    #[error("Zendesk refused the credentials ({0})")]
    Refused(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("only a Zendesk admin can connect the account")]
    NotAdmin,
    #[error("this Zendesk account is not connected")]
    NotConnected,
    #[error("the Zendesk connection needs to be reconnected ({0})")]
    NeedsReconnect(String),
    #[error("the stored Zendesk credential cannot be read")]
    BadCredential,
}

impl ConnectionError {
    /// A short code for pages, logs and stored failures.
    pub fn code(&self) -> String {
        match self {
            Self::Zendesk(error) => error.code(),
            Self::Refused(code) => code.clone(),
            Self::Storage(_) => "storage_error".into(),
            Self::NotAdmin => "not_admin".into(),
            Self::NotConnected => "not_connected".into(),
            Self::NeedsReconnect(_) => "needs_reconnect".into(),
            Self::BadCredential => "credential_unreadable".into(),
        }
    }
}

/// A new grant to connect an account with.
pub enum Grant {
    /// Tokens from the OAuth authorization-code flow.
    AuthorizationCode(TokenSet),
    /// A confidential OAuth client of the account.
    ClientCredentials {
        client_id: String,
        client_secret: Secret,
    },
    /// Legacy API token (deprecated: see [`API_TOKEN_END`]).
    ApiToken { email: String, api_token: Secret },
}

/// The owner of every account's Zendesk connection; cheap to clone.
#[derive(Clone, Debug)]
pub struct Connections {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: Db,
    keys: Arc<KeyRing>,
    zendesk: ZendeskClient,
    /// The OAuth client behind authorization-code grants (`ZENDESK_CLIENT_ID`/`SECRET`).
    oauth_client: Option<(String, Secret)>,
    /// This process, as the holder of renewal leases.
    owner: String,
    /// How long a renewal lease lasts: longer than any token request can take.
    lease: Duration,
}

/// Unix milliseconds of the wall clock: tokens expire by Zendesk's clock, not a test's.
fn now_ms() -> i64 {
    crate::storage::now_ms()
}

impl Connections {
    pub fn new(db: Db, keys: Arc<KeyRing>, zendesk: ZendeskClient, settings: &Settings) -> Self {
        let oauth_client = settings
            .zendesk_client_id
            .clone()
            .zip(settings.zendesk_client_secret.clone());
        Self {
            inner: Arc::new(Inner {
                db,
                keys,
                zendesk,
                oauth_client,
                owner: uuid::Uuid::new_v4().simple().to_string(),
                lease: settings.http_timeout() * 2 + Duration::from_secs(5),
            }),
        }
    }

    /// Checks a grant with Zendesk (a real call as the grant's user, who must be an
    /// admin), then stores it sealed as the subdomain's connection. Nothing is stored when
    /// a check fails.
    pub async fn connect(
        &self,
        subdomain: &Subdomain,
        grant: Grant,
    ) -> Result<Me, ConnectionError> {
        let issued = now_ms();
        let (credential, lifetimes) = match grant {
            Grant::AuthorizationCode(tokens) => (
                Credential::Oauth {
                    access_token: tokens.access_token.expose().to_owned(),
                    refresh_token: tokens.refresh_token.as_ref().map(|t| t.expose().to_owned()),
                },
                lifetimes_of(&tokens, issued),
            ),
            Grant::ClientCredentials {
                client_id,
                client_secret,
            } => {
                let tokens = self
                    .inner
                    .zendesk
                    .client_credentials(subdomain, &client_id, &client_secret)
                    .await
                    .map_err(grant_failure)?;
                (
                    Credential::ClientCredentials {
                        client_id,
                        client_secret: client_secret.expose().to_owned(),
                        access_token: tokens.access_token.expose().to_owned(),
                    },
                    lifetimes_of(&tokens, issued),
                )
            }
            Grant::ApiToken { email, api_token } => (
                Credential::ApiToken {
                    email,
                    api_token: api_token.expose().to_owned(),
                },
                Lifetimes::default(),
            ),
        };
        let me = self
            .inner
            .zendesk
            .me(subdomain, &ZendeskAuth::once(credential.clone()))
            .await?;
        if me.role != "admin" {
            return Err(ConnectionError::NotAdmin);
        }
        zendesk_connections::upsert(
            &self.inner.db,
            &self.inner.keys,
            subdomain,
            credential.kind(),
            &credential.to_secret(),
            lifetimes,
            now_ms(),
        )
        .await?;
        tracing::info!(subdomain = %subdomain, kind = credential.kind(), user_id = me.id.get(), "Zendesk account connected");
        Ok(me)
    }

    /// The subdomain's connection, ready to authorize REST calls. Refuses a connection
    /// that needs a person to reconnect it, so callers can say so.
    pub async fn open(&self, subdomain: &Subdomain) -> Result<ZendeskAuth, ConnectionError> {
        let row = zendesk_connections::find(&self.inner.db, subdomain)
            .await?
            .ok_or(ConnectionError::NotConnected)?;
        if row.needs_reconnect() {
            return Err(ConnectionError::NeedsReconnect(
                row.last_error.unwrap_or_else(|| "unknown".into()),
            ));
        }
        let current = Current::from_row(&row, &self.inner.keys)?;
        Ok(ZendeskAuth(Arc::new(Source::Stored {
            subdomain: subdomain.clone(),
            connections: self.clone(),
            current: tokio::sync::Mutex::new(current),
        })))
    }

    /// Renews every connection whose refresh token would expire soon, so an idle install
    /// never has to be authorized again. Answers how many were renewed.
    pub async fn renew_idle(&self) -> Result<usize, StorageError> {
        let now = now_ms();
        let mut renewed = 0;
        for row in zendesk_connections::all(&self.inner.db).await? {
            if row.needs_reconnect() || !refresh_due(&row, now) {
                continue;
            }
            match self
                .renew(&row.subdomain, row.version, Why::RefreshTokenAging)
                .await
            {
                Ok(_) => renewed += 1,
                Err(error) => {
                    tracing::warn!(subdomain = %row.subdomain, code = %error.code(), "idle Zendesk connection not renewed");
                }
            }
        }
        Ok(renewed)
    }

    fn db(&self) -> &Db {
        &self.inner.db
    }
}

fn grant_failure(error: GrantError) -> ConnectionError {
    match error {
        GrantError::Refused { code } => ConnectionError::Refused(code),
        GrantError::Unavailable(error) => ConnectionError::Zendesk(error),
    }
}

/// Expiry times of freshly issued tokens (a lifetime Zendesk did not send never expires).
fn lifetimes_of(tokens: &TokenSet, issued: i64) -> Lifetimes {
    let at = |secs: Option<i64>| secs.map(|s| issued.saturating_add(s.saturating_mul(1000)));
    let refresh_expires_at = at(tokens.refresh_token_expires_in);
    Lifetimes {
        access_issued_at: Some(issued),
        access_expires_at: at(tokens.expires_in),
        refresh_issued_at: tokens.refresh_token.as_ref().map(|_| issued),
        refresh_expires_at,
    }
}

/// How long before its expiry a token of `lifetime` ms is renewed: a fifth of its life,
/// at most five minutes (a 30-minute token is renewed after 25 minutes).
fn access_margin(lifetime: i64) -> i64 {
    (lifetime / 5).clamp(0, 5 * 60_000)
}

/// A refresh token is renewed when a quarter of its life is left, at most three days
/// before it expires (a 30-day token is renewed after 27 idle days).
fn refresh_margin(lifetime: i64) -> i64 {
    (lifetime / 4).clamp(0, 3 * 24 * 3_600_000)
}

fn refresh_due(row: &zendesk_connections::Connection, now: i64) -> bool {
    match (row.auth_kind.as_str(), row.refresh_expires_at) {
        ("oauth", Some(expires)) => {
            let issued = row.refresh_issued_at.unwrap_or(row.connected_at);
            now >= expires - refresh_margin(expires - issued)
        }
        _ => false,
    }
}

/// Why a renewal is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    /// The access token expires soon.
    AccessExpiring,
    /// Zendesk answered 401 to the token of this version.
    Rejected,
    /// The refresh token expires soon (an idle connection).
    RefreshTokenAging,
}

/// A usable credential and the row version it came from.
#[derive(Clone)]
struct Current {
    credential: Credential,
    version: i64,
    access_issued_at: Option<i64>,
    access_expires_at: Option<i64>,
}

impl Current {
    fn from_row(
        row: &zendesk_connections::Connection,
        keys: &KeyRing,
    ) -> Result<Self, ConnectionError> {
        let secret = row.credential(keys)?;
        let credential = Credential::from_secret(&secret).ok_or(ConnectionError::BadCredential)?;
        Ok(Self {
            credential,
            version: row.version,
            access_issued_at: row.access_issued_at,
            access_expires_at: row.access_expires_at,
        })
    }

    /// The access token should be renewed now (never for tokens without an expiry).
    fn due(&self, now: i64) -> bool {
        let Some(expires) = self.access_expires_at else {
            return false;
        };
        let issued = self.access_issued_at.unwrap_or(expires - 30 * 60_000);
        now >= expires - access_margin(expires - issued)
    }

    fn still_valid(&self, now: i64) -> bool {
        self.access_expires_at.is_none_or(|expires| now < expires)
    }

    fn renewable(&self) -> bool {
        match &self.credential {
            Credential::ApiToken { .. } => false,
            Credential::Oauth { refresh_token, .. } => refresh_token.is_some(),
            Credential::ClientCredentials { .. } => true,
        }
    }
}

/// Authorizes REST calls to one Zendesk account: a stored connection (renewed ahead of
/// expiry and once on a 401), or a one-off token from a sign-in that is never stored.
#[derive(Clone)]
pub struct ZendeskAuth(Arc<Source>);

enum Source {
    Once(Credential),
    Stored {
        subdomain: Subdomain,
        connections: Connections,
        current: tokio::sync::Mutex<Current>,
    },
}

impl std::fmt::Debug for ZendeskAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.as_ref() {
            Source::Once(credential) => write!(f, "ZendeskAuth::Once({credential:?})"),
            Source::Stored { subdomain, .. } => write!(f, "ZendeskAuth::Stored({subdomain})"),
        }
    }
}

impl ZendeskAuth {
    /// A credential used as it is (an OAuth token from a sign-in; checks before storing).
    pub fn once(credential: Credential) -> Self {
        Self(Arc::new(Source::Once(credential)))
    }

    /// An OAuth access token used as it is.
    pub fn bearer(access_token: &Secret) -> Self {
        Self::once(Credential::Oauth {
            access_token: access_token.expose().to_owned(),
            refresh_token: None,
        })
    }

    /// The credential to send now, renewed first when it is about to expire.
    pub(in crate::zendesk) async fn credential(&self) -> Result<(Credential, i64), RestError> {
        let (subdomain, connections, current) = match self.0.as_ref() {
            Source::Once(credential) => return Ok((credential.clone(), 0)),
            Source::Stored {
                subdomain,
                connections,
                current,
            } => (subdomain, connections, current),
        };
        let mut current = current.lock().await;
        let now = now_ms();
        if current.due(now) && current.renewable() {
            match connections
                .renew(subdomain, current.version, Why::AccessExpiring)
                .await
            {
                Ok(renewed) => *current = renewed,
                Err(error) if current.still_valid(now_ms()) => {
                    tracing::warn!(subdomain = %subdomain, code = %error.code(), "Zendesk token not renewed ahead of expiry; using it until it expires");
                }
                Err(error) => return Err(error),
            }
        }
        Ok((current.credential.clone(), current.version))
    }

    /// After a 401 to the credential of `version`: a renewed credential to try once
    /// more, or `None` when there is nothing to renew.
    pub(in crate::zendesk) async fn after_unauthorized(
        &self,
        version: i64,
    ) -> Result<Option<Credential>, RestError> {
        let Source::Stored {
            subdomain,
            connections,
            current,
        } = self.0.as_ref()
        else {
            return Ok(None);
        };
        let mut current = current.lock().await;
        if current.version != version {
            return Ok(Some(current.credential.clone()));
        }
        *current = connections.renew(subdomain, version, Why::Rejected).await?;
        Ok(Some(current.credential.clone()))
    }
}

impl From<ConnectionError> for RestError {
    fn from(error: ConnectionError) -> Self {
        match error {
            ConnectionError::Zendesk(error) => error,
            ConnectionError::NeedsReconnect(reason) => RestError::NeedsReconnect { reason },
            ConnectionError::Refused(reason) => RestError::NeedsReconnect { reason },
            ConnectionError::NotConnected => RestError::NeedsReconnect {
                reason: "not_connected".into(),
            },
            ConnectionError::Storage(_) | ConnectionError::BadCredential => RestError::Transient {
                code: "connection_storage".into(),
            },
            ConnectionError::NotAdmin => RestError::Unauthorized { status: 403 },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_renewed_a_fifth_of_their_life_early_at_most_five_minutes() {
        assert_eq!(access_margin(30 * 60_000), 5 * 60_000);
        assert_eq!(access_margin(10_000), 2_000);
        assert_eq!(access_margin(48 * 3_600_000), 5 * 60_000);
        assert_eq!(refresh_margin(30 * 24 * 3_600_000), 3 * 24 * 3_600_000);
        assert_eq!(refresh_margin(20_000), 5_000);
    }

    #[test]
    fn lifetimes_count_from_the_issue_time() {
        let tokens = TokenSet {
            access_token: Secret::from("a"),
            refresh_token: Some(Secret::from("r")),
            expires_in: Some(1800),
            refresh_token_expires_in: Some(2_592_000),
        };
        let lifetimes = lifetimes_of(&tokens, 1_000);
        assert_eq!(lifetimes.access_expires_at, Some(1_000 + 1_800_000));
        assert_eq!(lifetimes.refresh_expires_at, Some(1_000 + 2_592_000_000));
        assert_eq!(lifetimes.refresh_issued_at, Some(1_000));
    }
}
