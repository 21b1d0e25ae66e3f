//! What becomes of a queued resource that could not be delivered: tried again after a
//! backoff with jitter, or given up (`dead`, keeping only the error code) once its
//! attempts or its age run out. Push and pull both decide through here.
//!
//! ```text
//!  failure ──class──▶ Permanent ─────────────────────────────▶ dead
//!                     ProcessingError (3 tries), ParentMissing (10 tries),
//!                     Unknown (5 tries), Transient (40 tries) ─▶ retry … ─▶ dead
//!                     Workspace, Wait (age only, not counted) ─▶ retry … ─▶ dead at 24 h
//! ```
//!
//! Order is kept per Slack thread, not per account (see `storage::outbox`): a row that
//! waits holds back only the later rows of its own thread.

use std::time::Duration;

use super::BuildError;
use crate::slack::{SlackError, SlackErrorClass};
use crate::storage::outbox::{self, QueuedResource};
use crate::storage::{Db, StorageError, now_ms};

/// A row is retried for at most this long after it was queued (or after an admin's Retry).
pub const MAX_AGE: Duration = Duration::from_secs(24 * 3600);
/// The longest wait between two tries.
const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);
/// A row waiting for an admin to fix its workspace is looked at this often.
const WORKSPACE_WAIT: Duration = Duration::from_secs(5 * 60);

/// Why a try failed, as far as retrying is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Passing trouble: Slack or Zendesk unavailable, 5xx, no result for the resource.
    Transient(String),
    /// Told to wait this long (a rate limit, Zendesk's `halted`); not counted as a try.
    Wait { code: String, delay: Duration },
    /// A code no list names: tried a few times.
    Unknown(String),
    /// Zendesk's `processing_error`: final after a few tries.
    ProcessingError,
    /// Zendesk has not got the parent yet: retried for a bounded time.
    ParentMissing,
    /// The Slack workspace needs an admin; waits until then, bounded by age.
    Workspace(String),
    /// Can never succeed.
    Permanent(String),
}

/// What the queue does with the row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    Retry {
        code: String,
        delay: Duration,
        /// Whether this try counts towards the row's attempts.
        counted: bool,
    },
    Dead {
        code: String,
    },
}

impl Failure {
    pub fn code(&self) -> String {
        match self {
            Self::Transient(code)
            | Self::Unknown(code)
            | Self::Workspace(code)
            | Self::Permanent(code)
            | Self::Wait { code, .. } => code.clone(),
            Self::ProcessingError => "processing_error".into(),
            Self::ParentMissing => "could_not_locate_parent_external_resource".into(),
        }
    }

    /// Tries after which the row is given up; `None` when only its age ends it.
    fn max_attempts(&self) -> Option<i64> {
        match self {
            Self::Permanent(_) => Some(0),
            Self::ProcessingError => Some(3),
            Self::Unknown(_) => Some(5),
            Self::ParentMissing => Some(10),
            Self::Transient(_) => Some(40),
            Self::Workspace(_) | Self::Wait { .. } => None,
        }
    }

    /// Whether the failure is the workspace's, so its other rows should not try now.
    pub fn holds_workspace(&self) -> bool {
        matches!(self, Self::Workspace(_))
            || matches!(self, Self::Wait { code, .. } if code == "ratelimited")
    }

    /// The failure of a Slack call.
    pub fn from_slack(error: &SlackError) -> Self {
        let code = error.code().to_owned();
        match (error, error.class()) {
            (SlackError::RateLimited { retry_after }, _) => Self::Wait {
                code,
                delay: *retry_after,
            },
            (_, SlackErrorClass::Permanent) => Self::Permanent(code),
            (_, SlackErrorClass::Workspace) => Self::Workspace(code),
            (_, SlackErrorClass::Transient) => Self::Transient(code),
            (_, SlackErrorClass::Unknown) => Self::Unknown(code),
        }
    }

    /// The failure of building a resource.
    pub fn from_build(error: &BuildError) -> Self {
        match error {
            BuildError::WorkspaceDisconnected => Self::Workspace(error.code()),
            BuildError::MessageGone => Self::Permanent(error.code()),
            BuildError::Slack(slack) => Self::from_slack(slack),
            BuildError::Storage(_) => Self::Transient(error.code()),
        }
    }
}

/// Decides a failed row's fate from its tries so far (this one included) and its age.
pub fn fate(failure: &Failure, attempts: i64, give_up_at: i64, now: i64) -> Fate {
    let code = failure.code();
    let out_of_tries = failure.max_attempts().is_some_and(|max| attempts >= max);
    if out_of_tries || now >= give_up_at {
        return Fate::Dead { code };
    }
    let (delay, counted) = match failure {
        Failure::Wait { delay, .. } => (*delay, false),
        Failure::Workspace(_) => (jittered(WORKSPACE_WAIT), true),
        _ => (backoff(attempts), true),
    };
    Fate::Retry {
        code,
        delay,
        counted,
    }
}

/// Exponential backoff (2, 4, 8 … seconds, at most 15 minutes) with "equal jitter": half
/// the step plus a random part of the other half, so rows that failed together spread out.
pub fn backoff(attempts: i64) -> Duration {
    let exponent = attempts.clamp(1, 20) as u32;
    let step = Duration::from_secs(2u64.saturating_pow(exponent)).min(MAX_BACKOFF);
    jittered(step)
}

fn jittered(step: Duration) -> Duration {
    step / 2 + step.mul_f64(rand::random::<f64>() / 2.0)
}

/// How the try was counted when the row was handed out: a push claim counts it, a pull
/// build failure does not (the row was never offered).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    AtClaim,
    NotYet,
}

/// Applies a failure to a row: back to the queue after its delay, or dead. One log line
/// per change, by ids.
pub async fn record_failure(
    db: &Db,
    row: &QueuedResource,
    failure: &Failure,
    counted: Counted,
) -> Result<Fate, StorageError> {
    let tries = match counted {
        Counted::AtClaim => row.attempts,
        Counted::NotYet => row.attempts + 1,
    };
    let fate = fate(failure, tries, row.give_up_at, now_ms());
    match &fate {
        Fate::Dead { code } => {
            outbox::mark_dead(db, row.seq, code).await?;
            tracing::warn!(account = %row.account_id, seq = row.seq, external_id = %row.external_id, code = %code, attempts = tries, "delivery given up (dead)");
        }
        Fate::Retry {
            code,
            delay,
            counted: counts,
        } => {
            let delta = match (counted, counts) {
                (Counted::AtClaim, true) | (Counted::NotYet, false) => 0,
                (Counted::AtClaim, false) => -1,
                (Counted::NotYet, true) => 1,
            };
            let delay_ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 4);
            outbox::retry_later(db, row.seq, code, delay_ms, delta).await?;
            tracing::info!(account = %row.account_id, seq = row.seq, external_id = %row.external_id, code = %code, attempts = tries, delay_ms, "delivery retried later");
        }
    }
    Ok(fate)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LATER: i64 = i64::MAX;

    #[test]
    fn permanent_failures_die_at_once_and_others_after_their_tries() {
        let permanent = Failure::Permanent("channel_not_found".into());
        assert!(matches!(fate(&permanent, 1, LATER, 0), Fate::Dead { .. }));
        assert!(matches!(
            fate(&Failure::ProcessingError, 2, LATER, 0),
            Fate::Retry { .. }
        ));
        assert_eq!(
            fate(&Failure::ProcessingError, 3, LATER, 0),
            Fate::Dead {
                code: "processing_error".into()
            }
        );
        assert!(matches!(
            fate(&Failure::ParentMissing, 10, LATER, 0),
            Fate::Dead { .. }
        ));
        assert!(matches!(
            fate(&Failure::Workspace("missing_scope".into()), 1000, LATER, 0),
            Fate::Retry { counted: true, .. }
        ));
    }

    #[test]
    fn age_ends_every_retry_and_waits_are_not_counted() {
        let wait = Failure::Wait {
            code: "halted".into(),
            delay: Duration::ZERO,
        };
        assert!(matches!(
            fate(&wait, 1, LATER, 0),
            Fate::Retry { counted: false, .. }
        ));
        assert!(matches!(fate(&wait, 1, 10, 10), Fate::Dead { .. }));
        assert!(matches!(
            fate(&Failure::Transient("http_503".into()), 1, 5, 6),
            Fate::Dead { .. }
        ));
    }

    #[test]
    fn backoff_grows_with_jitter_and_stays_capped() {
        for attempts in 1..60 {
            let step = Duration::from_secs(2u64.saturating_pow(attempts.clamp(1, 20) as u32))
                .min(MAX_BACKOFF);
            let delay = backoff(attempts);
            assert!(delay >= step / 2 && delay <= step, "{attempts}: {delay:?}");
        }
        let spread: std::collections::HashSet<u128> =
            (0..20).map(|_| backoff(8).as_millis()).collect();
        assert!(spread.len() > 1, "jitter spreads retries");
    }
}
