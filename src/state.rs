//! The shared application state: what every request handler and worker reads (database,
//! keys, clients, caches, wake-ups), and how it is built from the settings.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto::KeyRing;
use crate::ops::Metrics;
use crate::slack::SlackClient;
use crate::statuses::RateLimiter;
use crate::storage::Db;
use crate::zendesk::{Connections, ZendeskClient};

/// Everything a request handler or worker needs; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub keys: Arc<KeyRing>,
    pub settings: Arc<Settings>,
    pub slack: SlackClient,
    pub zendesk: ZendeskClient,
    /// Every account's Zendesk REST connection: the one way REST calls are authorized.
    pub connections: Connections,
    pub metrics: Arc<Metrics>,
    /// Wakes the delivery worker when new work is queued.
    pub delivery_wake: Arc<Notify>,
    /// Wakes the attachments worker when a channelback queued files.
    pub attachments_wake: Arc<Notify>,
    /// Accounts whose delivery lease this process still holds after a round failed (the
    /// database refused the release); released as soon as it takes writes again, so a
    /// storage fault does not leave the account waiting out its lease.
    pub unreleased_accounts:
        Arc<std::sync::Mutex<std::collections::HashSet<crate::domain::AccountId>>>,
    /// The time the status API and its rules see (a manual clock in tests).
    pub clock: Clock,
    /// When this process started, on [`AppState::clock`] (ms): routing trusts inbox
    /// counts only once they were read from Zendesk after this.
    pub started_at_ms: i64,
    /// Per-second request counts of status API keys.
    pub rate_limiter: Arc<RateLimiter>,
    /// Message content between the Slack event and the push (memory only).
    pub content: Arc<crate::bridge::content::ContentCache>,
    /// Agents' names for the pages (memory only, ten minutes).
    pub names: Arc<crate::zendesk::names::Names>,
    /// Group commit of Slack events.
    pub intake: crate::bridge::intake::IntakeQueue,
    /// Wakes the routing worker when a webhook call was stored.
    pub routing_wake: Arc<Notify>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(#[from] reqwest::Error),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

impl AppState {
    /// Connects to the database (migrating it), loads keys and builds the clients.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        Self::build_with_clock(settings, Clock::system()).await
    }

    /// As [`AppState::build`], with the clock the status rules use.
    pub async fn build_with_clock(settings: Settings, clock: Clock) -> Result<Self, StartupError> {
        install_crypto_provider();
        let loaded = KeyRing::load(&settings.keys)?;
        if let Some(path) = &loaded.created_file {
            tracing::warn!(path = %path.display(), "no key configured: created a new key file; back it up, credentials cannot be read without it");
        }
        let db = Db::connect(&settings.database).await?;
        db.migrate().await?;
        let delivery_wake = Arc::new(Notify::new());
        let intake = crate::bridge::intake::IntakeQueue::start(db.clone(), delivery_wake.clone());
        let keys = Arc::new(loaded.ring);
        let zendesk = ZendeskClient::new(&settings)?;
        let connections = Connections::new(db.clone(), keys.clone(), zendesk.clone(), &settings);
        Ok(Self {
            db,
            keys,
            slack: SlackClient::new(&settings)?,
            zendesk,
            connections,
            settings: Arc::new(settings),
            metrics: Arc::new(Metrics::default()),
            delivery_wake,
            unreleased_accounts: Arc::default(),
            attachments_wake: Arc::new(Notify::new()),
            started_at_ms: clock.now_ms(),
            rate_limiter: Arc::new(RateLimiter::new(clock.clone())),
            clock,
            content: Arc::new(crate::bridge::content::ContentCache::default()),
            names: Arc::new(crate::zendesk::names::Names::default()),
            intake,
            routing_wake: Arc::new(Notify::new()),
        })
    }
}

/// rustls needs exactly one crypto provider; we use ring (see STACK notes).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
