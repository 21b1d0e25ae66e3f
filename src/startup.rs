//! Building and running the application: the shared [`AppState`], the HTTP server with
//! its routes and middleware, and the background workers.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, Service};
use actix_web::{App, HttpServer, web};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

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
            clock,
            rate_limiter: Arc::new(RateLimiter::default()),
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

/// A built, bound application; `run_until_stopped` serves it.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    workers: Option<JoinHandle<()>>,
    cancel: CancellationToken,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        Self::build_with_clock(settings, Clock::system()).await
    }

    /// As [`Application::build`], with the clock the status rules use (tests).
    pub async fn build_with_clock(settings: Settings, clock: Clock) -> Result<Self, StartupError> {
        let bind = settings.bind;
        let state = AppState::build_with_clock(settings, clock).await?;
        let listener = TcpListener::bind(bind).map_err(|source| StartupError::Bind {
            addr: bind.to_string(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or(bind.port());
        let server = http_server(listener, state.clone())?;
        let cancel = CancellationToken::new();
        let workers = (!state.settings.no_workers)
            .then(|| crate::jobs::spawn_workers(state.clone(), cancel.clone()));
        tracing::info!(port, workers = workers.is_some(), "slackdesk listening");
        Ok(Self {
            port,
            server,
            state,
            workers,
            cancel,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGTERM (graceful: in-flight requests finish, then the workers stop).
    /// SIGINT stops at once; accepted work is in the database either way.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.cancel.cancel();
        if let Some(workers) = self.workers {
            let _ = workers.await;
        }
        self.state.db.close().await;
        result
    }
}

fn http_server(listener: TcpListener, state: AppState) -> Result<Server, StartupError> {
    let data = web::Data::new(state);
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let server = HttpServer::new(move || {
        let metrics = data.metrics.clone();
        App::new()
            .app_data(data.clone())
            .wrap_fn(move |req, srv| {
                let metrics = metrics.clone();
                let route = req
                    .match_pattern()
                    .unwrap_or_else(|| "unmatched".to_owned());
                let started = std::time::Instant::now();
                let call = srv.call(req);
                async move {
                    let mut response = call.await?;
                    metrics.record_request(&route, response.status().as_u16());
                    metrics.observe_round_trip(&route, started.elapsed());
                    let headers = response.headers_mut();
                    headers.insert(
                        actix_web::http::header::X_CONTENT_TYPE_OPTIONS,
                        actix_web::http::header::HeaderValue::from_static("nosniff"),
                    );
                    headers.insert(
                        actix_web::http::header::REFERRER_POLICY,
                        actix_web::http::header::HeaderValue::from_static("no-referrer"),
                    );
                    Ok(response)
                }
            })
            .configure(crate::channel::configure)
            .configure(crate::slack::configure)
            .configure(crate::ops::configure)
            .configure(crate::statuses::configure)
            .configure(crate::routing::configure)
            .configure(crate::agent_app::configure)
            .configure(crate::setup::configure)
            .configure(crate::web::configure_assets)
            .default_service(web::to(not_found))
    })
    .shutdown_timeout(30)
    .listen(listener)
    .map_err(|source| StartupError::Bind { addr, source })?
    .run();
    Ok(server)
}

async fn not_found() -> Result<actix_web::HttpResponse, crate::web::ApiError> {
    Err(crate::web::ApiError::NotFound("route"))
}
