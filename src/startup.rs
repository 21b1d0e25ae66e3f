//! Running the application: the HTTP server composed from each area's routes, its
//! middleware, and the background workers. The state they share is in [`crate::state`].

use actix_web::dev::{Server, Service};
use actix_web::{App, HttpServer, web};
use std::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::config::Settings;
pub use crate::state::{AppState, StartupError, install_crypto_provider};

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
            .configure(crate::channel::routes)
            .configure(crate::slack::routes)
            .configure(crate::ops::routes)
            .configure(crate::statuses::routes)
            .configure(crate::routing::routes)
            .configure(crate::agent_app::routes)
            .configure(crate::setup::routes)
            .configure(crate::web::asset_routes)
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
