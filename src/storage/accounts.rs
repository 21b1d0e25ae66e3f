//! `accounts`: one row per Zendesk channel integration instance.
//!
//! Holds the subdomain, locale, push id, the sealed push token, the hash of the metadata
//! secret and the account's settings. The account's display name is not stored: Zendesk
//! keeps it and sends it back whenever the admin UI opens.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Db, StorageError, Tx, now_ms};
use crate::config::Secret;
use crate::crypto::{KeyRing, SealedFor};
use crate::domain::{AccountId, Subdomain};

/// How resources reach Zendesk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMode {
    /// Push when Zendesk gave us a push token, otherwise wait for pulls.
    #[default]
    Auto,
    /// Always wait for Zendesk's pull, even with a push token.
    PullOnly,
}

/// Settings an admin edits in the admin UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct AccountSettings {
    pub delivery: DeliveryMode,
    /// Tags added to every ticket this account creates.
    pub ticket_tags: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub id: AccountId,
    pub subdomain: Subdomain,
    pub locale: String,
    pub instance_push_id: Option<String>,
    sealed_push_token: Option<Vec<u8>>,
    pub secret_hash: String,
    pub settings: AccountSettings,
    pub active: bool,
    /// Code of the last permanent push failure; pull is used until the token is renewed.
    pub push_failure: Option<String>,
}

impl Account {
    /// Whether this account's resources go out by push (else they wait for pulls).
    pub fn delivers_by_push(&self) -> bool {
        self.sealed_push_token.is_some()
            && self.instance_push_id.is_some()
            && self.push_failure.is_none()
            && self.settings.delivery == DeliveryMode::Auto
    }

    pub fn has_push_token(&self) -> bool {
        self.sealed_push_token.is_some()
    }

    /// The decrypted push token, when there is one.
    pub fn push_token(&self, keys: &KeyRing) -> Result<Option<Secret>, StorageError> {
        let Some(sealed) = &self.sealed_push_token else {
            return Ok(None);
        };
        let id = self.id.to_string();
        Ok(Some(keys.open(sealed, push_token_row(&id))?))
    }
}

pub(crate) fn push_token_row(account_id: &str) -> SealedFor<'_> {
    SealedFor {
        table: "accounts",
        column: "push_token",
        row: account_id,
    }
}

/// What the admin UI saves for a new account.
pub struct NewAccount<'a> {
    pub id: AccountId,
    pub subdomain: &'a Subdomain,
    pub locale: &'a str,
    pub secret_hash: &'a str,
    pub settings: &'a AccountSettings,
}

const COLUMNS: &str = "id, subdomain, locale, instance_push_id, push_token, secret_hash, \
                       settings, active, push_failure";

fn from_row(row: &AnyRow) -> Result<Account, StorageError> {
    let id: String = row.try_get("id")?;
    let subdomain: String = row.try_get("subdomain")?;
    let settings: String = row.try_get("settings")?;
    let active: i64 = row.try_get("active")?;
    Ok(Account {
        id: AccountId::parse(&id).map_err(|_| StorageError::Corrupt("accounts.id"))?,
        subdomain: Subdomain::parse(&subdomain)
            .map_err(|_| StorageError::Corrupt("accounts.subdomain"))?,
        locale: row.try_get("locale")?,
        instance_push_id: row.try_get("instance_push_id")?,
        sealed_push_token: row.try_get("push_token")?,
        secret_hash: row.try_get("secret_hash")?,
        settings: serde_json::from_str(&settings)
            .map_err(|_| StorageError::Corrupt("accounts.settings"))?,
        active: active != 0,
        push_failure: row.try_get("push_failure")?,
    })
}

fn settings_json(settings: &AccountSettings) -> String {
    serde_json::to_string(settings).unwrap_or_else(|_| "{}".to_owned())
}

pub async fn insert(tx: &mut Tx, account: &NewAccount<'_>) -> Result<(), StorageError> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO accounts (id, subdomain, locale, secret_hash, settings, active, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 1, $6, $6)",
    )
    .bind(account.id.to_string())
    .bind(account.subdomain.as_str())
    .bind(account.locale)
    .bind(account.secret_hash)
    .bind(settings_json(account.settings))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn update_settings(
    tx: &mut Tx,
    id: AccountId,
    locale: &str,
    settings: &AccountSettings,
) -> Result<(), StorageError> {
    sqlx::query("UPDATE accounts SET locale = $2, settings = $3, updated_at = $4 WHERE id = $1")
        .bind(id.to_string())
        .bind(locale)
        .bind(settings_json(settings))
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Stores the newest push id and token (sealed for this account) and clears any
/// earlier push failure, since a new token is the fix for most of them.
pub async fn set_push_credentials(
    tx: &mut Tx,
    keys: &KeyRing,
    id: AccountId,
    instance_push_id: &str,
    push_token: &Secret,
) -> Result<(), StorageError> {
    let row_id = id.to_string();
    let sealed = keys.seal(push_token.expose().as_bytes(), push_token_row(&row_id))?;
    sqlx::query(
        "UPDATE accounts SET instance_push_id = $2, push_token = $3, push_failure = NULL, \
         updated_at = $4 WHERE id = $1",
    )
    .bind(row_id)
    .bind(instance_push_id)
    .bind(sealed)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn find(db: &Db, id: AccountId) -> Result<Option<Account>, StorageError> {
    let sql = format!("SELECT {COLUMNS} FROM accounts WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.to_string())
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn find_by_subdomain(
    db: &Db,
    subdomain: &Subdomain,
) -> Result<Vec<Account>, StorageError> {
    let sql = format!("SELECT {COLUMNS} FROM accounts WHERE subdomain = $1 ORDER BY created_at");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(subdomain.as_str())
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(from_row).collect()
}

pub async fn set_active(db: &Db, id: AccountId, active: bool) -> Result<bool, StorageError> {
    let done = sqlx::query("UPDATE accounts SET active = $2, updated_at = $3 WHERE id = $1")
        .bind(id.to_string())
        .bind(i64::from(active))
        .bind(now_ms())
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Records a permanent push failure by its code; pull takes over until new credentials.
pub async fn set_push_failure(db: &Db, id: AccountId, code: &str) -> Result<(), StorageError> {
    sqlx::query("UPDATE accounts SET push_failure = $2, updated_at = $3 WHERE id = $1")
        .bind(id.to_string())
        .bind(code)
        .bind(now_ms())
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Deletes the account and everything stored for it, credentials included.
pub async fn delete(tx: &mut Tx, id: AccountId) -> Result<bool, StorageError> {
    let id = id.to_string();
    for sql in [
        "DELETE FROM outbox WHERE account_id = $1",
        "DELETE FROM channelbacks WHERE account_id = $1",
        "DELETE FROM ticket_links WHERE account_id = $1",
        "DELETE FROM channel_links WHERE account_id = $1",
        "DELETE FROM setup_sessions WHERE account_id = $1",
    ] {
        sqlx::query(sql).bind(&id).execute(&mut **tx).await?;
    }
    let done = sqlx::query("DELETE FROM accounts WHERE id = $1")
        .bind(&id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() > 0)
}
