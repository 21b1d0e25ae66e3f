//! Renewing a connection's access token: one process at a time per connection (a lease
//! on the row), compare-and-swap on the row's version, and nothing written before
//! Zendesk has answered. See the diagram in the parent module.

use std::time::Duration;

use super::{Connections, Current, Why, lifetimes_of, now_ms};
use crate::config::Secret;
use crate::domain::Subdomain;
use crate::storage::zendesk_connections;
use crate::zendesk::RestError;
use crate::zendesk::connection::{ConnectionError, Credential, GrantError, TokenSet};

/// How often a process waiting for another's renewal looks at the row again.
const WAIT_STEP: Duration = Duration::from_millis(100);

/// What to do after reading the row.
enum Step {
    /// Use this credential.
    Use(Current),
    /// Wait for the process that holds the lease.
    Wait,
    /// Renew the credential of this version.
    Renew(Current),
}

impl Connections {
    /// A credential newer than version `seen`: another process's renewal when there was
    /// one, otherwise ours.
    pub(super) async fn renew(
        &self,
        subdomain: &Subdomain,
        seen: i64,
        why: Why,
    ) -> Result<Current, RestError> {
        let deadline = tokio::time::Instant::now() + self.inner.lease + Duration::from_secs(2);
        loop {
            match self.next_step(subdomain, seen, why).await? {
                Step::Use(current) => return Ok(current),
                Step::Wait => {
                    if tokio::time::Instant::now() >= deadline {
                        return Err(RestError::Transient {
                            code: "renewal_in_progress".into(),
                        });
                    }
                    tokio::time::sleep(WAIT_STEP).await;
                }
                Step::Renew(current) => {
                    if let Some(renewed) = self.renew_under_lease(subdomain, current).await? {
                        return Ok(renewed);
                    }
                }
            }
        }
    }

    async fn next_step(
        &self,
        subdomain: &Subdomain,
        seen: i64,
        why: Why,
    ) -> Result<Step, RestError> {
        let now = now_ms();
        let row = zendesk_connections::find(self.db(), subdomain)
            .await
            .map_err(ConnectionError::from)?
            .ok_or(ConnectionError::NotConnected)?;
        if row.needs_reconnect() {
            return Err(RestError::NeedsReconnect {
                reason: row.last_error.unwrap_or_else(|| "unknown".into()),
            });
        }
        let current = Current::from_row(&row, &self.inner.keys)?;
        let newer = row.version != seen;
        let wanted = match why {
            Why::AccessExpiring => current.due(now),
            Why::Rejected => !newer,
            Why::RefreshTokenAging => !newer && super::refresh_due(&row, now),
        };
        if !wanted || (newer && !current.due(now)) {
            return Ok(Step::Use(current));
        }
        if !current.renewable() {
            return self.unrenewable(subdomain, current, why).await;
        }
        if row.lease_held(now) {
            return Ok(Step::Wait);
        }
        Ok(Step::Renew(current))
    }

    /// An API token or an OAuth token without a refresh token: a 401 means a person
    /// must connect the account again; before that it is used as it is.
    async fn unrenewable(
        &self,
        subdomain: &Subdomain,
        current: Current,
        why: Why,
    ) -> Result<Step, RestError> {
        if why != Why::Rejected {
            return Ok(Step::Use(current));
        }
        let reason = match current.credential {
            Credential::ApiToken { .. } => "api_token_rejected",
            _ => "token_rejected",
        };
        self.give_up(subdomain, current.version, reason).await?;
        Err(RestError::NeedsReconnect {
            reason: reason.into(),
        })
    }

    /// Takes the lease and asks Zendesk for new tokens. `None`: the row changed under us
    /// (look again).
    async fn renew_under_lease(
        &self,
        subdomain: &Subdomain,
        current: Current,
    ) -> Result<Option<Current>, RestError> {
        let owner = &self.inner.owner;
        let now = now_ms();
        let until = now + i64::try_from(self.inner.lease.as_millis()).unwrap_or(i64::MAX / 2);
        let taken = zendesk_connections::take_lease(
            self.db(),
            subdomain,
            current.version,
            owner,
            now,
            until,
        )
        .await
        .map_err(ConnectionError::from)?;
        if !taken {
            return Ok(None);
        }
        let issued = now_ms();
        match self.request_tokens(subdomain, &current.credential).await {
            Ok(tokens) => self.store(subdomain, &current, &tokens, issued).await,
            Err(GrantError::Refused { code }) => {
                self.give_up(subdomain, current.version, &code).await?;
                Err(RestError::NeedsReconnect { reason: code })
            }
            Err(GrantError::Unavailable(error)) => {
                tracing::warn!(subdomain = %subdomain, code = %error.code(), "Zendesk token renewal failed; will retry");
                zendesk_connections::release_lease(
                    self.db(),
                    subdomain,
                    owner,
                    &error.code(),
                    now_ms(),
                )
                .await
                .map_err(ConnectionError::from)?;
                Err(error)
            }
        }
    }

    async fn request_tokens(
        &self,
        subdomain: &Subdomain,
        credential: &Credential,
    ) -> Result<TokenSet, GrantError> {
        let zendesk = &self.inner.zendesk;
        match credential {
            Credential::ClientCredentials {
                client_id,
                client_secret,
                ..
            } => {
                zendesk
                    .client_credentials(subdomain, client_id, &Secret::from(client_secret.as_str()))
                    .await
            }
            Credential::Oauth {
                refresh_token: Some(refresh_token),
                ..
            } => {
                let Some((client_id, client_secret)) = &self.inner.oauth_client else {
                    return Err(GrantError::Refused {
                        code: "oauth_client_not_configured".into(),
                    });
                };
                zendesk
                    .refresh_token(subdomain, client_id, client_secret, refresh_token)
                    .await
            }
            _ => Err(GrantError::Refused {
                code: "not_renewable".into(),
            }),
        }
    }

    /// Stores renewed tokens over the version they replace. Our tokens are the live
    /// ones (Zendesk deleted the pair we sent), so the write only needs that version
    /// still to be there; a reconnect meanwhile (a newer version) wins.
    async fn store(
        &self,
        subdomain: &Subdomain,
        current: &Current,
        tokens: &TokenSet,
        issued: i64,
    ) -> Result<Option<Current>, RestError> {
        let credential = current.credential.renewed(tokens);
        let lifetimes = lifetimes_of(tokens, issued);
        let stored = zendesk_connections::store_renewal(
            self.db(),
            &self.inner.keys,
            subdomain,
            current.version,
            &credential.to_secret(),
            lifetimes,
            now_ms(),
        )
        .await
        .map_err(ConnectionError::from)?;
        if !stored {
            tracing::warn!(subdomain = %subdomain, version = current.version, "renewed Zendesk tokens not stored: the connection changed meanwhile");
            return Ok(None);
        }
        tracing::info!(subdomain = %subdomain, kind = credential.kind(), version = current.version + 1, "Zendesk connection renewed");
        Ok(Some(Current {
            credential,
            version: current.version + 1,
            access_issued_at: lifetimes.access_issued_at,
            access_expires_at: lifetimes.access_expires_at,
        }))
    }

    async fn give_up(
        &self,
        subdomain: &Subdomain,
        version: i64,
        reason: &str,
    ) -> Result<(), RestError> {
        let marked = zendesk_connections::mark_needs_reconnect(
            self.db(),
            subdomain,
            version,
            reason,
            now_ms(),
        )
        .await
        .map_err(ConnectionError::from)?;
        if marked {
            tracing::warn!(subdomain = %subdomain, code = %reason, "Zendesk connection needs to be reconnected");
        }
        Ok(())
    }
}
