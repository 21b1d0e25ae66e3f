//! One delivery round: claimed rows become pushes, and each result decides the row's fate.
//!
//! Order is kept per ticket thread: the claim hands out a row only when no earlier row of
//! its thread waits, and within a round a row that fails holds back the later rows of its
//! thread (they are released untried), never the account's other threads. A workspace
//! problem or a Slack rate limit holds back that workspace's rows for the round. Each
//! failure goes through `bridge::delivery`, which retries it with backoff or gives it up.
//! Zendesk halts every resource after a failed one in the same request; those are sent
//! again at once in the same round without it, so one bad resource costs one extra request
//! rather than a round trip through the queue for each resource behind it.
//! One worker at a time delivers an account (the account lease), so a thread's rows are
//! never pushed out of order by two replicas.

use std::collections::HashSet;
use std::time::Duration;

use crate::bridge;
use crate::bridge::delivery::{self, Counted, Failure};
use crate::config::Secret;
use crate::domain::{AccountId, SlackChannelId, SlackTeamId, SlackTs};
use crate::state::AppState;
use crate::storage::StorageError;
use crate::storage::accounts::{self, Account};
use crate::storage::outbox::{self, QueuedResource};
use crate::zendesk::{ExternalResource, MAX_PUSH_BATCH, PushError, PushResultStatus};

/// Rows claimed per account per round.
const CLAIM_LIMIT: i64 = 500;
/// Accounts delivered per round (then the loop looks for Slack jobs again).
const ACCOUNTS_PER_ROUND: usize = 20;
/// How long a claim lasts before another worker may take the rows.
const LEASE_MS: i64 = 60_000;
/// Halted remainders sent again within one round (then they wait for the next round).
const MAX_RESENDS_PER_ROUND: usize = 20;

#[derive(Debug, Default, Clone, Copy)]
pub struct DeliveryRound {
    pub claimed: usize,
    pub delivered: usize,
}

/// Delivers due rows account by account: each account is leased first, so on several
/// replicas one worker at a time delivers an account's queue.
pub async fn deliver_once(state: &AppState) -> Result<DeliveryRound, StorageError> {
    release_left_leases(state).await?;
    let mut round = DeliveryRound::default();
    for _ in 0..ACCOUNTS_PER_ROUND {
        let Some(account_id) = outbox::lease_account(&state.db, LEASE_MS).await? else {
            break;
        };
        let mut rate_limited = None;
        let delivered = deliver_leased(state, account_id, &mut round, &mut rate_limited).await;
        let held = rate_limited.is_some();
        let released = match rate_limited {
            // Zendesk's Retry-After holds the whole account, not only the rows just sent.
            Some(delay) => outbox::hold_account(&state.db, account_id, delay).await,
            None => outbox::release_account(&state.db, account_id).await,
        };
        // A round that failed midway may leave claimed rows leased; release them (and
        // the account, if that failed too) as soon as the database takes writes.
        if released.is_err() || (delivered.is_err() && !held) {
            remember_unreleased(state, account_id);
        }
        round.delivered += delivered?;
        released?;
    }
    Ok(round)
}

fn remember_unreleased(state: &AppState, account: AccountId) {
    if let Ok(mut accounts) = state.unreleased_accounts.lock() {
        accounts.insert(account);
    }
}

/// Releases what a failed round of this process left leased: the account's claimed rows
/// (they are this process's: nobody else claims rows of an account it holds) and the
/// account itself. Kept for the next round until the database takes the writes.
async fn release_left_leases(state: &AppState) -> Result<(), StorageError> {
    let left: Vec<AccountId> = match state.unreleased_accounts.lock() {
        Ok(accounts) => accounts.iter().copied().collect(),
        Err(_) => return Ok(()),
    };
    for account in left {
        outbox::release_account_rows(&state.db, account).await?;
        outbox::release_account(&state.db, account).await?;
        if let Ok(mut accounts) = state.unreleased_accounts.lock() {
            accounts.remove(&account);
        }
        tracing::info!(account = %account, "delivery lease left by a failed round released");
    }
    Ok(())
}

async fn deliver_leased(
    state: &AppState,
    account_id: AccountId,
    round: &mut DeliveryRound,
    rate_limited: &mut Option<Duration>,
) -> Result<usize, StorageError> {
    let rows = outbox::claim_for_push(&state.db, account_id, CLAIM_LIMIT, LEASE_MS).await?;
    round.claimed += rows.len();
    match accounts::find(&state.db, account_id).await? {
        Some(account) => {
            let mut pusher = Pusher {
                state,
                account: &account,
                held: Held::default(),
                rate_limited: None,
                resends: 0,
            };
            let delivered = pusher.deliver(&rows).await;
            *rate_limited = pusher.rate_limited;
            delivered
        }
        None => Ok(0),
    }
}

/// A ticket thread within an account.
type ThreadKey = (SlackTeamId, SlackChannelId, SlackTs);

fn thread_of(row: &QueuedResource) -> ThreadKey {
    (
        row.message.team.clone(),
        row.message.channel.clone(),
        row.thread_ts.clone(),
    )
}

/// What must not be tried again in this round.
#[derive(Default)]
struct Held {
    threads: HashSet<ThreadKey>,
    workspaces: HashSet<SlackTeamId>,
}

impl Held {
    fn holds(&self, row: &QueuedResource) -> bool {
        self.workspaces.contains(&row.message.team) || self.threads.contains(&thread_of(row))
    }

    fn hold(&mut self, row: &QueuedResource, failure: &Failure) {
        self.threads.insert(thread_of(row));
        if failure.holds_workspace() {
            self.workspaces.insert(row.message.team.clone());
        }
    }
}

/// One account's round.
struct Pusher<'a> {
    state: &'a AppState,
    account: &'a Account,
    held: Held,
    /// Zendesk answered 429: the account waits this long.
    rate_limited: Option<Duration>,
    /// Requests sent again this round because Zendesk halted them after a failure.
    resends: usize,
}

/// Why a whole push request ended the round.
enum Halt {
    /// Every remaining row goes back untried.
    Untried,
}

impl Pusher<'_> {
    async fn deliver(&mut self, rows: &[QueuedResource]) -> Result<usize, StorageError> {
        let (Some(token), Some(push_id)) = (
            self.account.push_token(&self.state.keys)?,
            self.account.instance_push_id.clone(),
        ) else {
            release_untried(self.state, rows).await?;
            return Ok(0);
        };
        let rows = suspects_last(rows);
        let rows = rows.as_slice();
        let mut delivered = 0;
        for (index, chunk) in rows.chunks(MAX_PUSH_BATCH).enumerate() {
            let (resources, built) = self.build(chunk).await?;
            match self.push(&token, &push_id, &resources, &built).await? {
                Ok(count) => delivered += count,
                Err(Halt::Untried) => {
                    let rest = &rows[((index + 1) * MAX_PUSH_BATCH).min(rows.len())..];
                    release_untried(self.state, rest).await?;
                    return Ok(delivered);
                }
            }
        }
        Ok(delivered)
    }

    /// Builds the chunk's resources in order; a row behind a held thread or workspace
    /// goes back untried, a row that fails to build holds its thread.
    async fn build<'r>(
        &mut self,
        chunk: &'r [QueuedResource],
    ) -> Result<(Vec<ExternalResource>, Vec<&'r QueuedResource>), StorageError> {
        let mut resources = Vec::with_capacity(chunk.len());
        let mut built = Vec::with_capacity(chunk.len());
        let mut untried = Vec::new();
        for row in chunk {
            if self.held.holds(row) {
                untried.push(row.seq);
                continue;
            }
            match bridge::build_resource(self.state, self.account, row).await {
                Ok(resource) => {
                    resources.push(resource);
                    built.push(row);
                }
                Err(error) => {
                    let failure = Failure::from_build(&error);
                    self.fail(row, &failure).await?;
                }
            }
        }
        outbox::release_untried(&self.state.db, &untried).await?;
        Ok((resources, built))
    }

    /// Records a failed row and holds back its thread (and its workspace when it is the
    /// workspace's problem) for the rest of the round.
    async fn fail(&mut self, row: &QueuedResource, failure: &Failure) -> Result<(), StorageError> {
        if let Failure::Workspace(code) = failure {
            crate::storage::slack_workspaces::flag(&self.state.db, &row.message.team, code).await?;
        }
        let fate = delivery::record_failure(&self.state.db, row, failure, Counted::AtClaim).await?;
        let result = match fate {
            delivery::Fate::Dead { .. } => "dead",
            delivery::Fate::Retry { .. } => "retry",
        };
        self.state.metrics.record_push(result, 1);
        self.held.hold(row, failure);
        Ok(())
    }

    /// Pushes built resources and applies Zendesk's per-resource results. A request
    /// refused with a 4xx is split, so that the one bad resource is found and the others
    /// go through.
    async fn push(
        &mut self,
        token: &Secret,
        push_id: &str,
        resources: &[ExternalResource],
        rows: &[&QueuedResource],
    ) -> Result<Result<usize, Halt>, StorageError> {
        if resources.is_empty() {
            return Ok(Ok(0));
        }
        let request_id = uuid::Uuid::new_v4().to_string();
        let started = std::time::Instant::now();
        let answer = self
            .state
            .zendesk
            .push(
                &self.account.subdomain,
                token,
                push_id,
                &request_id,
                resources,
            )
            .await;
        self.state.metrics.observe_push(started.elapsed());
        let outcome = match answer {
            Ok(outcome) => outcome,
            Err(PushError::Rejected { status }) if resources.len() > 1 => {
                tracing::warn!(account = %self.account.id, status, sent = resources.len(), "push refused; sending its resources one by one");
                let mut delivered = 0;
                for (resource, row) in resources.iter().zip(rows) {
                    if self.held.holds(row) {
                        outbox::release_untried(&self.state.db, &[row.seq]).await?;
                        continue;
                    }
                    match Box::pin(self.push(
                        token,
                        push_id,
                        std::slice::from_ref(resource),
                        std::slice::from_ref(row),
                    ))
                    .await?
                    {
                        Ok(count) => delivered += count,
                        Err(halt) => {
                            let index = rows.iter().position(|r| r.seq == row.seq).unwrap_or(0);
                            let rest: Vec<i64> = rows[index + 1..].iter().map(|r| r.seq).collect();
                            outbox::release_untried(&self.state.db, &rest).await?;
                            return Ok(Err(halt));
                        }
                    }
                }
                return Ok(Ok(delivered));
            }
            Err(error) => return self.push_failed(rows, error).await,
        };
        let resend_halted = self.resends < MAX_RESENDS_PER_ROUND
            && outcome
                .results
                .iter()
                .any(|(_, status)| *status != PushResultStatus::Halted);
        let mut delivered = Vec::new();
        let mut halted = Vec::new();
        for (index, ((_, status), row)) in outcome.results.iter().zip(rows).enumerate() {
            let failure = match status {
                PushResultStatus::Delivered => {
                    delivered.push(*row);
                    continue;
                }
                PushResultStatus::Halted if resend_halted && !self.held.holds(row) => {
                    halted.push(index);
                    continue;
                }
                PushResultStatus::Halted => Failure::Wait {
                    code: "halted".into(),
                    delay: Duration::ZERO,
                },
                PushResultStatus::ParentMissing => Failure::ParentMissing,
                PushResultStatus::ProcessingError => Failure::ProcessingError,
                PushResultStatus::NoResult => Failure::Transient("no_result".into()),
                PushResultStatus::Other(code) => Failure::Unknown(code.clone()),
            };
            self.fail(row, &failure).await?;
        }
        let seqs: Vec<i64> = delivered.iter().map(|r| r.seq).collect();
        outbox::mark_delivered(&self.state.db, &seqs).await?;
        let now = crate::storage::now_ms();
        for row in &delivered {
            let waited = u64::try_from(now - row.created_at).unwrap_or(0);
            self.state
                .metrics
                .observe_event_to_zendesk(Duration::from_millis(waited));
        }
        self.state
            .metrics
            .record_push("delivered", seqs.len() as u64);
        tracing::info!(account = %self.account.id, delivered = seqs.len(), sent = rows.len(), halted = halted.len(), "pushed to Zendesk");
        if halted.is_empty() {
            return Ok(Ok(seqs.len()));
        }
        // Zendesk stopped at a failed resource and halted the ones after it: send those
        // again at once, in the same round, without the one that failed. Each resend is
        // shorter than the request before it, and the round's resends are capped.
        self.resends += 1;
        let again: Vec<ExternalResource> = halted.iter().map(|&i| resources[i].clone()).collect();
        let again_rows: Vec<&QueuedResource> = halted.iter().map(|&i| rows[i]).collect();
        Ok(Box::pin(self.push(token, push_id, &again, &again_rows))
            .await?
            .map(|resent| seqs.len() + resent))
    }

    /// The whole request failed: a rate limit or a refused token ends the round (the
    /// rows go back untried); a passing failure counts as a try for each row sent; a
    /// single resource refused with a 4xx is given up.
    async fn push_failed(
        &mut self,
        rows: &[&QueuedResource],
        error: PushError,
    ) -> Result<Result<usize, Halt>, StorageError> {
        tracing::warn!(account = %self.account.id, error = %error, sent = rows.len(), "push failed");
        let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
        match error {
            PushError::RateLimited { retry_after } => {
                self.state.metrics.record_push("rate_limited", 1);
                let failure = Failure::Wait {
                    code: "rate_limited".into(),
                    delay: retry_after,
                };
                for row in rows {
                    delivery::record_failure(&self.state.db, row, &failure, Counted::AtClaim)
                        .await?;
                }
                self.rate_limited = Some(retry_after);
                Ok(Err(Halt::Untried))
            }
            PushError::Unauthorized { status } => {
                // The token no longer works: fall back to pull until the admin UI is saved
                // again with a fresh token.
                let code = format!("push_unauthorized_{status}");
                accounts::set_push_failure(&self.state.db, self.account.id, &code).await?;
                self.state.metrics.record_push("unauthorized", 1);
                outbox::release_untried(&self.state.db, &seqs).await?;
                Ok(Err(Halt::Untried))
            }
            PushError::Transient { code } => {
                self.state.metrics.record_push("transient_error", 1);
                let failure = Failure::Transient(code);
                for row in rows {
                    self.fail(row, &failure).await?;
                }
                Ok(Ok(0))
            }
            PushError::Rejected { status } => {
                let failure = Failure::Permanent(format!("push_rejected_{status}"));
                for row in rows {
                    self.fail(row, &failure).await?;
                }
                Ok(Ok(0))
            }
        }
    }
}

/// The claimed rows with those that failed before (and the later rows of their threads,
/// to keep each thread in order) moved to the end. Zendesk halts every resource after
/// one that fails in the same request, so a row that keeps failing must not sit in front
/// of the others.
fn suspects_last(rows: &[QueuedResource]) -> Vec<QueuedResource> {
    let mut tainted = HashSet::new();
    let (mut clean, mut suspect) = (Vec::with_capacity(rows.len()), Vec::new());
    for row in rows {
        let thread = thread_of(row);
        let failed_before = row
            .last_error
            .as_deref()
            .is_some_and(|code| code != "halted");
        if failed_before || tainted.contains(&thread) {
            tainted.insert(thread);
            suspect.push(row.clone());
        } else {
            clean.push(row.clone());
        }
    }
    clean.extend(suspect);
    clean
}

async fn release_untried(state: &AppState, rows: &[QueuedResource]) -> Result<(), StorageError> {
    let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    outbox::release_untried(&state.db, &seqs).await
}
