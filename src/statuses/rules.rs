//! The rules of the status API (SPEC 4): what `create_many` accepts and changes, and how
//! the history is paged.
//!
//! `create_many` is all or nothing: every item is checked (types, known status, an
//! active agent of the caller's account) before anything is written, and the changes
//! are applied in one transaction. Then, after commit, the agents' app is notified.

use std::collections::HashSet;

use super::auth::Caller;
use super::wire::{CreateManyRequest, Created, IncrementalPage, MAX_BATCH, UserStatus};
use crate::domain::{AgentStatus, Subdomain, ZendeskUserId};
use crate::state::AppState;
use crate::storage::statuses::{self, After, Source, StatusRecord};
use crate::storage::{StorageError, agents, status_rules};
use crate::web::ApiError;

/// The form of a `cursor` (also in the OpenAPI document).
pub const CURSOR_PATTERN: &str = "^[0-9]{1,15}\\.-?[0-9]{1,18}$";

/// Latest `start_time` accepted (its milliseconds must fit in 64 bits).
pub const MAX_START_TIME: i64 = i64::MAX / 1000;

/// The incremental export shows only changes at least this old, so a transaction that
/// read the clock before a later one but committed after it is not skipped by a reader.
pub const EXPORT_LAG_MS: i64 = 2_000;

/// Largest incremental page.
pub const MAX_PAGE: i64 = 1000;

/// A checked `create_many` request: at least one item, duplicates removed (first wins).
#[derive(Debug, PartialEq, Eq)]
pub struct Batch {
    /// `(index in the request, user, status)`, in request order.
    pub items: Vec<(usize, ZendeskUserId, AgentStatus)>,
    pub notify_app: bool,
}

/// Reads a `create_many` body: JSON, an object (serde would also read a struct from an
/// array), then [`parse_batch`].
pub fn read_batch(req: &actix_web::HttpRequest, body: &[u8]) -> Result<Batch, ApiError> {
    let request = crate::web::read_json::<CreateManyRequest>(req, body);
    let is_object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    match request {
        Err(ApiError::InvalidField { .. }) | Ok(_) if !is_object => {
            Err(ApiError::invalid("body", "must be a JSON object"))
        }
        Err(error) => Err(error),
        Ok(request) => parse_batch(request),
    }
}

/// Checks the shape of a request, naming the first item and field at fault.
pub fn parse_batch(request: CreateManyRequest) -> Result<Batch, ApiError> {
    let items = request
        .user_statuses
        .ok_or_else(|| ApiError::invalid("user_statuses", "is required"))?;
    if items.is_empty() || items.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            "user_statuses",
            format!("must hold 1 to {MAX_BATCH} items"),
        ));
    }
    let mut parsed = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let field = |name: &str| format!("user_statuses[{index}].{name}");
        let user_id = item
            .user_id
            .ok_or_else(|| ApiError::invalid(field("user_id"), "is required"))
            .and_then(|id| {
                ZendeskUserId::new(id).map_err(|e| ApiError::invalid(field("user_id"), e.0))
            })?;
        let status = item
            .status
            .ok_or_else(|| ApiError::invalid(field("status"), "is required"))
            .and_then(|s| {
                AgentStatus::parse(&s).map_err(|e| ApiError::invalid(field("status"), e.0))
            })?;
        parsed.push((index, user_id, status));
    }
    let mut seen = HashSet::new();
    let items = parsed
        .into_iter()
        .filter(|(_, user_id, _)| seen.insert(*user_id))
        .collect();
    Ok(Batch {
        items,
        notify_app: request.notify_app.unwrap_or(true),
    })
}

/// Applies a batch for the caller's account; returns the statuses actually created.
pub async fn create_many(
    state: &AppState,
    caller: &Caller,
    batch: Batch,
) -> Result<Vec<Created>, ApiError> {
    let ids: Vec<ZendeskUserId> = batch.items.iter().map(|(_, id, _)| *id).collect();
    let known = agents::active_among(&state.db, &caller.subdomain, &ids).await?;
    if let Some((index, _, _)) = batch.items.iter().find(|(_, id, _)| !known.contains(id)) {
        return Err(ApiError::UnknownReference {
            field: format!("user_statuses[{index}].user_id"),
            message: "is not an agent of this account".into(),
        });
    }
    let items: Vec<(ZendeskUserId, AgentStatus)> = batch
        .items
        .iter()
        .map(|(_, id, status)| (*id, *status))
        .collect();
    let applied = apply_changes(
        state,
        &caller.subdomain,
        &items,
        Some(caller.owner),
        Source::Api,
        &ids,
    )
    .await?;
    tracing::info!(
        subdomain = %caller.subdomain,
        key_prefix = %caller.key_prefix,
        changed = applied.len(),
        "statuses changed"
    );
    let created: Vec<Created> = applied
        .iter()
        .map(|a| Created {
            user_id: a.user_id,
            status: a.status,
        })
        .collect();
    if batch.notify_app && !created.is_empty() {
        super::notify::spawn(state, &caller.subdomain, &created);
    }
    Ok(created)
}

/// A change that was applied, with the status it replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub user_id: ZendeskUserId,
    pub status: AgentStatus,
    pub previous: Option<AgentStatus>,
}

/// Applies changes in one transaction (all or nothing); an agent already in the status
/// is left alone. `author` is recorded as `updated_by`; `None` means the agent itself
/// (a rule acting for them); `active` agents get their activity time set (automatic idle).
/// After commit, runs the out-of-office rule.
pub async fn apply_changes(
    state: &AppState,
    subdomain: &Subdomain,
    items: &[(ZendeskUserId, AgentStatus)],
    author: Option<ZendeskUserId>,
    source: Source,
    active: &[ZendeskUserId],
) -> Result<Vec<Applied>, StorageError> {
    let mut tx = state.db.begin_write().await?;
    // Read the time once the write lock is held (SQLite), so history times follow
    // commit order there; PostgreSQL is covered by the export lag.
    let now = state.clock.now_ms();
    status_rules::touch_on(&mut tx, subdomain, active, now).await?;
    let mut applied = Vec::new();
    for (user_id, status) in items {
        let record = StatusRecord {
            user_id: *user_id,
            status: *status,
            updated_at: now,
            updated_by: author.unwrap_or(*user_id),
        };
        if let Some(previous) = statuses::apply(&mut tx, subdomain, &record, source).await? {
            applied.push(Applied {
                user_id: *user_id,
                status: *status,
                previous,
            });
        }
    }
    state.db.commit(tx).await?;
    super::status_rules::after_change(state, subdomain, &applied).await;
    Ok(applied)
}

/// Where an incremental page starts: `start_time` (unix seconds) or the `cursor` of the
/// previous page, which also says which changes of that same millisecond were seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageStart {
    pub start_time: i64,
    pub after: After,
    pub per_page: i64,
}

/// Reads `start_time`, `cursor` and `per_page` from a query string.
pub fn parse_page_start(query: &str) -> Result<PageStart, ApiError> {
    let form = crate::web::Form::from_bytes(query.as_bytes())?;
    let start_time = form
        .optional("start_time")?
        .ok_or_else(|| ApiError::invalid("start_time", "is required (unix seconds)"))?
        .parse::<i64>()
        .ok()
        .filter(|t| (0..=MAX_START_TIME).contains(t))
        .ok_or_else(|| ApiError::invalid("start_time", "must be unix seconds"))?;
    let per_page = match form.optional("per_page")? {
        None => MAX_PAGE,
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| ApiError::invalid("per_page", format!("must be 1 to {MAX_PAGE}")))?,
    };
    let after = match form.optional("cursor")? {
        None => After {
            changed_at: start_time * 1000,
            seq: -1,
        },
        Some(raw) => parse_cursor(raw)
            .ok_or_else(|| ApiError::invalid("cursor", "is not a cursor from next_page"))?,
    };
    Ok(PageStart {
        start_time,
        after,
        per_page,
    })
}

fn parse_cursor(raw: &str) -> Option<After> {
    let (at, seq) = raw.split_once('.')?;
    let digits = |s: &str, most: usize| {
        (1..=most).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(at, 15) || !digits(seq.strip_prefix('-').unwrap_or(seq), 18) {
        return None;
    }
    Some(After {
        changed_at: at.parse().ok().filter(|t: &i64| *t >= 0)?,
        seq: seq.parse().ok()?,
    })
}

/// One page of the caller's account's history.
pub async fn incremental(
    state: &AppState,
    caller: &Caller,
    start: PageStart,
) -> Result<IncrementalPage, ApiError> {
    let until = state.clock.now_ms() - EXPORT_LAG_MS;
    let changes = statuses::changes_after(
        &state.db,
        &caller.subdomain,
        start.after,
        until,
        start.per_page,
    )
    .await?;
    let last = changes.last().map_or(start.after, |c| After {
        changed_at: c.record.updated_at,
        seq: c.seq,
    });
    let end_time = if changes.is_empty() {
        start
            .start_time
            .max(start.after.changed_at.div_euclid(1000))
    } else {
        last.changed_at.div_euclid(1000)
    };
    let next_page = state.settings.public_url_for(&format!(
        "/zendesk/user_statuses/incremental?start_time={end_time}&cursor={}.{}&per_page={}",
        last.changed_at, last.seq, start.per_page
    ));
    let count = changes.len();
    Ok(IncrementalPage {
        user_statuses: changes
            .iter()
            .map(|c| UserStatus::from(&c.record))
            .collect(),
        count,
        end_time,
        next_page,
        end_of_stream: i64::try_from(count).unwrap_or(i64::MAX) < start.per_page,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::statuses::wire::CreateItem;

    fn item(user_id: Option<i64>, status: Option<&str>) -> CreateItem {
        CreateItem {
            user_id,
            status: status.map(str::to_owned),
        }
    }

    fn field_of(error: ApiError) -> String {
        match error {
            ApiError::InvalidField { field, .. } => field,
            other => panic!("not a field error: {other:?}"),
        }
    }

    #[test]
    fn duplicates_keep_the_first_and_notify_defaults_to_true() {
        let batch = parse_batch(CreateManyRequest {
            user_statuses: Some(vec![
                item(Some(7), Some("online")),
                item(Some(7), Some("away")),
                item(Some(8), Some("invisible")),
            ]),
            notify_app: None,
        })
        .unwrap();
        let seven = ZendeskUserId::new(7).unwrap();
        let eight = ZendeskUserId::new(8).unwrap();
        assert_eq!(
            batch.items,
            vec![
                (0, seven, AgentStatus::Online),
                (2, eight, AgentStatus::Invisible)
            ]
        );
        assert!(batch.notify_app);
    }

    #[test]
    fn the_first_bad_item_and_field_are_named() {
        let bad = |items| {
            field_of(
                parse_batch(CreateManyRequest {
                    user_statuses: items,
                    notify_app: Some(false),
                })
                .unwrap_err(),
            )
        };
        assert_eq!(bad(None), "user_statuses");
        assert_eq!(bad(Some(vec![])), "user_statuses");
        assert_eq!(
            bad(Some(
                (0..101).map(|i| item(Some(i + 1), Some("away"))).collect()
            )),
            "user_statuses"
        );
        assert_eq!(
            bad(Some(vec![
                item(Some(1), Some("online")),
                item(Some(2), Some("busy"))
            ])),
            "user_statuses[1].status"
        );
        assert_eq!(
            bad(Some(vec![
                item(Some(1), Some("online")),
                item(None, Some("away"))
            ])),
            "user_statuses[1].user_id"
        );
        assert_eq!(
            bad(Some(vec![item(Some(-3), Some("away"))])),
            "user_statuses[0].user_id"
        );
        assert_eq!(
            bad(Some(vec![item(Some(3), None)])),
            "user_statuses[0].status"
        );
    }

    #[test]
    fn pages_start_at_start_time_or_at_the_cursor() {
        let start = parse_page_start("start_time=1600000000").unwrap();
        assert_eq!(
            start.after,
            After {
                changed_at: 1_600_000_000_000,
                seq: -1
            }
        );
        assert_eq!(start.per_page, MAX_PAGE);
        let next =
            parse_page_start("start_time=1600000000&cursor=1600000000123.42&per_page=2").unwrap();
        assert_eq!(
            next.after,
            After {
                changed_at: 1_600_000_000_123,
                seq: 42
            }
        );
        assert_eq!(next.per_page, 2);
        for (query, field) in [
            ("", "start_time"),
            ("start_time=soon", "start_time"),
            ("start_time=-1", "start_time"),
            ("start_time=1&per_page=0", "per_page"),
            ("start_time=1&per_page=1001", "per_page"),
            ("start_time=1&cursor=abc", "cursor"),
        ] {
            assert_eq!(
                field_of(parse_page_start(query).unwrap_err()),
                field,
                "{query}"
            );
        }
    }
}
