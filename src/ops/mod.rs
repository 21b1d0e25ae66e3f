//! Operations endpoints: `/healthz` (the process answers), `/readyz` (the database
//! answers) and `/metrics` (Prometheus text), and the counters behind them.

mod metrics;

pub use metrics::Metrics;

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::startup::AppState;
use crate::storage::outbox;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics_text));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.db.ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ready"})),
        Err(error) => {
            tracing::warn!(error = %error, "database not reachable");
            HttpResponse::ServiceUnavailable().json(json!({"status": "database_unreachable"}))
        }
    }
}

async fn metrics_text(state: web::Data<AppState>) -> HttpResponse {
    let depth = outbox::depth(&state.db).await.ok();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(depth))
}
