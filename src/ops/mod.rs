//! Operations endpoints: `/healthz` (the process answers), `/readyz` (the database
//! answers; the JSON also says which Zendesk connections need a person, without failing
//! readiness) and `/metrics` (Prometheus text), and the counters behind them.

mod metrics;

pub use metrics::Metrics;

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::state::AppState;
use crate::storage::outbox;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics_text));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Ready when the database takes a write (one row of `health_probe`, in a transaction):
/// a full disk or a read-only database fails readiness, and it passes again by itself
/// once writes succeed.
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.db.probe_write().await {
        Ok(()) => HttpResponse::Ok().json(json!({
            "status": "ready",
            "zendesk_connections": connections_detail(&state).await,
        })),
        Err(error) => {
            let reason = error.fault().map_or("database_error", |f| f.code());
            tracing::warn!(reason, "not ready: the database does not take writes");
            HttpResponse::ServiceUnavailable()
                .insert_header(("Retry-After", "5"))
                .json(json!({"status": "database_unwritable", "reason": reason}))
        }
    }
}

/// Connections per state and the subdomains that need a reconnect (with the reason
/// code). Not a readiness failure: the service runs; some features wait for a person.
async fn connections_detail(state: &AppState) -> serde_json::Value {
    match state.connections.summary().await {
        Ok(summary) => {
            let mut by_state = serde_json::Map::new();
            for (_, connection_state, count) in &summary.counts {
                let entry = by_state.entry(connection_state.clone()).or_insert(json!(0));
                *entry = json!(entry.as_u64().unwrap_or(0) + count);
            }
            let needing: Vec<serde_json::Value> = summary
                .needs_reconnect
                .iter()
                .map(|(subdomain, reason)| json!({"subdomain": subdomain, "reason": reason}))
                .collect();
            json!({"states": by_state, "needs_reconnect": needing})
        }
        Err(error) => {
            tracing::warn!(error = %error, "Zendesk connections not read for /readyz");
            json!({"error": "unreadable"})
        }
    }
}

async fn metrics_text(state: web::Data<AppState>) -> HttpResponse {
    match outbox::queue_stats(&state.db).await {
        Ok(stats) => state.metrics.set_queues(&stats),
        Err(error) => tracing::warn!(error = %error, "queue gauges not read for /metrics"),
    }
    if let Ok(summary) = state.connections.summary().await {
        set_connection_gauges(&state.metrics, &summary);
    }
    let health = state.db.health();
    state
        .metrics
        .set_database_health(health.failed_writes(), health.current_fault().is_none());
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render())
}

/// `slackdesk_zendesk_connections{kind,state}`: every kind and state, zeros included,
/// so an alert on `state="needs_reconnect" > 0` has a series to watch.
fn set_connection_gauges(
    metrics: &Metrics,
    summary: &crate::zendesk::connection::ConnectionSummary,
) {
    for kind in ["api_token", "client_credentials", "oauth"] {
        for connection_state in ["active", "needs_reconnect"] {
            let count = summary
                .counts
                .iter()
                .find(|(k, s, _)| k == kind && s == connection_state)
                .map_or(0, |(_, _, count)| *count);
            metrics.set_connection(kind, connection_state, count as i64);
        }
    }
}
