//! `POST /channel/pull`: Zendesk asks for new resources (SPEC 1.3).
//!
//! Delivery is at least once. The `state` we return lists the queue rows of this
//! response; Zendesk stores it only after it has taken the resources, and sends it back
//! on the next pull, which is when those rows leave the queue. A lost response means the
//! old state comes back and the same rows are sent again (Zendesk deduplicates them by
//! external id). Listing rows, rather than a high-water mark, keeps a row that committed
//! late with a lower number from being skipped.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;

use std::collections::HashSet;

use crate::bridge;
use crate::bridge::delivery::{self, Counted, Failure};
use crate::channel::metadata;
use crate::state::AppState;
use crate::storage::{outbox, slack_workspaces};
use crate::web::{ApiError, Form, read_body};

/// Zendesk takes at most 200 resources per pull.
const PULL_LIMIT: i64 = 200;

#[derive(Serialize, Deserialize, Default, Debug, PartialEq)]
struct PullState {
    #[serde(default)]
    ack: Vec<i64>,
}

impl PullState {
    fn parse(raw: &str) -> Result<Self, ApiError> {
        if raw.trim().is_empty() {
            return Ok(Self::default());
        }
        let state: Self = serde_json::from_str(raw)
            .map_err(|_| ApiError::invalid("state", "is not a state this service wrote"))?;
        if state.ack.len() > PULL_LIMIT as usize {
            return Err(ApiError::invalid("state", "lists too many resources"));
        }
        Ok(state)
    }
}

/// The rows a pull's `state` acknowledges (for the fuzz targets).
pub(crate) fn acknowledged_rows(raw: &str) -> Result<Vec<i64>, ApiError> {
    PullState::parse(raw).map(|state| state.ack)
}

pub async fn pull(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(&req, payload, state.settings.max_body_bytes).await?;
    let form = Form::parse(&req, &body)?;
    let account = metadata::verify(&state.db, form.required("metadata")?).await?;
    let previous = PullState::parse(form.optional("state")?.unwrap_or(""))?;
    let needs_update = slack_workspaces::account_needs_reconnect(&state.db, account.id).await?;
    if !account.active || account.delivers_by_push() {
        // Nothing waits for a pull: the account is paused, or its resources are pushed.
        return Ok(HttpResponse::Ok().json(json!({
            "external_resources": [],
            "state": "",
            "metadata_needs_update": needs_update,
        })));
    }
    let acknowledged = outbox::acknowledge(&state.db, account.id, &previous.ack).await?;
    let queued = outbox::pending_for_pull(&state.db, account.id, PULL_LIMIT).await?;
    let (resources, sent) = build_pull(&state, &account, &queued).await?;
    tracing::info!(account = %account.id, acknowledged, sent = sent.len(), "pull answered");
    outbox::mark_offered(&state.db, &sent).await?;
    state.metrics.record_pulled(sent.len());
    let next_state = serde_json::to_string(&PullState { ack: sent }).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().json(json!({
        "external_resources": resources,
        "state": next_state,
        "metadata_needs_update": needs_update,
    })))
}

/// Builds the pull's resources in queue order. A row that fails to build goes through
/// the retry policy and holds back the later rows of its own thread (and, for a
/// workspace problem or a Slack rate limit, of its workspace) in this response; the
/// other threads go out.
async fn build_pull(
    state: &AppState,
    account: &crate::storage::accounts::Account,
    queued: &[outbox::QueuedResource],
) -> Result<(Vec<crate::zendesk::ExternalResource>, Vec<i64>), ApiError> {
    let mut resources = Vec::with_capacity(queued.len());
    let mut sent = Vec::with_capacity(queued.len());
    let mut held_threads = HashSet::new();
    let mut held_workspaces = HashSet::new();
    let now = crate::storage::now_ms();
    for row in queued {
        let thread = (&row.message.team, &row.message.channel, &row.thread_ts);
        if held_threads.contains(&thread) || held_workspaces.contains(&row.message.team) {
            continue;
        }
        if row.attempts > 0 && now >= row.give_up_at {
            // Offered again and again, never acknowledged: Zendesk is not taking it.
            outbox::mark_dead(&state.db, row.seq, "not_acknowledged_by_pull").await?;
            tracing::warn!(account = %account.id, seq = row.seq, "delivery given up (dead): pulls never acknowledged it");
            continue;
        }
        match bridge::build_resource(state, account, row).await {
            Ok(resource) => {
                resources.push(resource);
                sent.push(row.seq);
            }
            Err(error) => {
                let failure = Failure::from_build(&error);
                if let Failure::Workspace(code) = &failure {
                    slack_workspaces::flag(&state.db, &row.message.team, code).await?;
                }
                delivery::record_failure(&state.db, row, &failure, Counted::NotYet).await?;
                held_threads.insert(thread);
                if failure.holds_workspace() {
                    held_workspaces.insert(&row.message.team);
                }
            }
        }
    }
    Ok((resources, sent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_lists_at_most_a_pull_of_rows_and_fits_zendesk() {
        let full = PullState {
            ack: (1_000_000_000..1_000_000_200).collect(),
        };
        let encoded = serde_json::to_string(&full).unwrap_or_default();
        assert!(encoded.len() <= 5000, "{}", encoded.len());
        assert_eq!(PullState::parse(&encoded).ok(), Some(full));
        assert_eq!(PullState::parse("").ok(), Some(PullState::default()));
        assert!(PullState::parse("{\"ack\":\"x\"}").is_err());
        assert!(PullState::parse("garbage").is_err());
    }
}
