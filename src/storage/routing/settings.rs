//! The account's routing settings row (`routing_settings`): account-wide defaults, the
//! same-agent rule and the sealed webhook secrets.

use sqlx::Row;

use super::*;
use crate::config::Secret;
use crate::crypto::{KeyRing, SealedFor};
use crate::domain::Subdomain;
use crate::routing::settings::{AccountSettings, Hook, SameAgentSettings};
use crate::storage::{Db, StorageError};

fn secret_row(subdomain: &str, hook: Hook) -> SealedFor<'_> {
    SealedFor {
        table: "routing_settings",
        column: hook.secret_column(),
        row: subdomain,
    }
}

pub(super) async fn ensure_settings_row(
    db: &Db,
    subdomain: &Subdomain,
    now: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO routing_settings (subdomain, updated_at) VALUES ($1, $2) \
         ON CONFLICT (subdomain) DO NOTHING",
    )
    .bind(subdomain.as_str())
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Which webhook signing secrets an account has stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SecretsSet {
    pub route: bool,
    pub same_agent: bool,
}

/// The account's settings and which webhook secrets are stored.
pub async fn account_settings(
    db: &Db,
    subdomain: &Subdomain,
) -> Result<(AccountSettings, SecretsSet), StorageError> {
    let row = sqlx::query(
        "SELECT default_inbox_limit, default_daily_limit, same_agent_enabled, \
         same_agent_window_hours, same_agent_only_online, same_agent_within_limits, \
         same_agent_tag, \
         CASE WHEN route_webhook_secret IS NULL THEN 0 ELSE 1 END AS route_set, \
         CASE WHEN same_agent_webhook_secret IS NULL THEN 0 ELSE 1 END AS same_agent_set \
         FROM routing_settings WHERE subdomain = $1",
    )
    .bind(subdomain.as_str())
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else {
        return Ok((AccountSettings::default(), SecretsSet::default()));
    };
    let secrets = SecretsSet {
        route: row.try_get::<i64, _>("route_set")? != 0,
        same_agent: row.try_get::<i64, _>("same_agent_set")? != 0,
    };
    Ok((
        AccountSettings {
            default_inbox_limit: row.try_get("default_inbox_limit")?,
            default_daily_limit: row.try_get("default_daily_limit")?,
            same_agent: SameAgentSettings {
                enabled: row.try_get::<i64, _>("same_agent_enabled")? != 0,
                window_hours: row.try_get("same_agent_window_hours")?,
                only_online: row.try_get::<i64, _>("same_agent_only_online")? != 0,
                within_limits: row.try_get::<i64, _>("same_agent_within_limits")? != 0,
                tag: row.try_get("same_agent_tag")?,
            },
        },
        secrets,
    ))
}

pub async fn save_account_settings(
    db: &Db,
    subdomain: &Subdomain,
    settings: &AccountSettings,
    now: i64,
) -> Result<(), StorageError> {
    ensure_settings_row(db, subdomain, now).await?;
    let same = &settings.same_agent;
    sqlx::query(
        "UPDATE routing_settings SET default_inbox_limit = $2, default_daily_limit = $3, \
         same_agent_enabled = $4, same_agent_window_hours = $5, same_agent_only_online = $6, \
         same_agent_within_limits = $7, same_agent_tag = $8, updated_at = $9 \
         WHERE subdomain = $1",
    )
    .bind(subdomain.as_str())
    .bind(settings.default_inbox_limit)
    .bind(settings.default_daily_limit)
    .bind(flag(same.enabled))
    .bind(same.window_hours)
    .bind(flag(same.only_online))
    .bind(flag(same.within_limits))
    .bind(same.tag.as_deref())
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Stores a Zendesk webhook's signing secret, sealed.
pub async fn set_webhook_secret(
    db: &Db,
    keys: &KeyRing,
    subdomain: &Subdomain,
    hook: Hook,
    secret: &Secret,
    now: i64,
) -> Result<(), StorageError> {
    ensure_settings_row(db, subdomain, now).await?;
    let sealed = keys.seal(
        secret.expose().as_bytes(),
        secret_row(subdomain.as_str(), hook),
    )?;
    let sql = format!(
        "UPDATE routing_settings SET {} = $2, updated_at = $3 WHERE subdomain = $1",
        hook.secret_column()
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(subdomain.as_str())
        .bind(sealed)
        .bind(now)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Forgets a webhook's signing secret (the webhook it belonged to was removed).
pub async fn clear_webhook_secret(
    db: &Db,
    subdomain: &Subdomain,
    hook: Hook,
    now: i64,
) -> Result<(), StorageError> {
    let sql = format!(
        "UPDATE routing_settings SET {} = NULL, updated_at = $2 WHERE subdomain = $1",
        hook.secret_column()
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(subdomain.as_str())
        .bind(now)
        .execute(db.pool())
        .await?;
    Ok(())
}

pub async fn webhook_secret(
    db: &Db,
    keys: &KeyRing,
    subdomain: &Subdomain,
    hook: Hook,
) -> Result<Option<Secret>, StorageError> {
    let sql = format!(
        "SELECT {} FROM routing_settings WHERE subdomain = $1",
        hook.secret_column()
    );
    let sealed: Option<Option<Vec<u8>>> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(subdomain.as_str())
        .fetch_optional(db.pool())
        .await?;
    match sealed.flatten() {
        Some(sealed) => Ok(Some(
            keys.open(&sealed, secret_row(subdomain.as_str(), hook))?,
        )),
        None => Ok(None),
    }
}
