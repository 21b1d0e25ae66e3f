//! One round of Slack-side jobs (thread backfills, ticket reactions).

use crate::bridge;
use crate::state::AppState;
use crate::storage::{StorageError, slack_jobs};

const CLAIM_LIMIT: i64 = 50;
const LEASE_MS: i64 = 120_000;

/// Claims and runs due jobs; returns how many ran.
pub async fn run_slack_jobs_once(state: &AppState) -> Result<usize, StorageError> {
    let jobs = slack_jobs::claim(&state.db, CLAIM_LIMIT, LEASE_MS).await?;
    for job in &jobs {
        bridge::run_slack_job(state, job).await?;
    }
    Ok(jobs.len())
}
