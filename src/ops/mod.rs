//! Operations endpoints: `/healthz` (the process answers), `/readyz` (the database
//! answers; the JSON also says which Zendesk connections need a person, without failing
//! readiness) and `/metrics` (Prometheus text), and the counters behind them.

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
        Ok(()) => HttpResponse::Ok().json(json!({
            "status": "ready",
            "zendesk_connections": connections_detail(&state).await,
        })),
        Err(error) => {
            tracing::warn!(error = %error, "database not reachable");
            HttpResponse::ServiceUnavailable().json(json!({"status": "database_unreachable"}))
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
    let depth = outbox::depth(&state.db).await.ok();
    let mut body = state.metrics.render(depth);
    if let Ok(summary) = state.connections.summary().await {
        body.push_str(&connections_metrics(&summary));
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body)
}

/// `slackdesk_zendesk_connections{kind,state}`: every kind and state, zeros included,
/// so an alert on `state="needs_reconnect" > 0` has a series to watch.
fn connections_metrics(summary: &crate::zendesk::connection::ConnectionSummary) -> String {
    use std::fmt::Write;
    let mut out = String::from(
        "# HELP slackdesk_zendesk_connections Zendesk REST connections by kind and state.\n\
         # TYPE slackdesk_zendesk_connections gauge\n",
    );
    for kind in ["api_token", "client_credentials", "oauth"] {
        for connection_state in ["active", "needs_reconnect"] {
            let count = summary
                .counts
                .iter()
                .find(|(k, s, _)| k == kind && s == connection_state)
                .map_or(0, |(_, _, count)| *count);
            let _ = writeln!(
                out,
                "slackdesk_zendesk_connections{{kind=\"{kind}\",state=\"{connection_state}\"}} {count}"
            );
        }
    }
    out
}
