//! Playlist's Agent Status Incremental Export (`GET /zendesk/incremental/user_statuses`):
//! finished status periods of the key's account, oldest `ended_at` first.
//!
//! A period is one row of `status_changes` (its start) up to the next row of the same
//! agent (its end); the agent's current status is not a period yet. Its `id` is the
//! `seq` of the change that started it, so it is stable and unique.
//!
//! ```text
//!  status_changes:  seq 7 online @t1 ── seq 9 away @t2 ── seq 12 offline @t3
//!  periods:         {id 7, online, t1..t2}   {id 9, away, t2..t3}   (seq 12: still open)
//! ```
//!
//! Pages are keyset pages over `(ended_at, end_seq)` (`end_seq`: the row that ended the
//! period); the cursor is that pair of the page's last period, hex encoded (opaque to
//! clients). Periods show once their end is
//! [`EXPORT_LAG_MS`] old, so a writer that read the clock before another but committed
//! after it is not skipped.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use sqlx::Row;

use super::auth::authenticate;
use super::rules::{EXPORT_LAG_MS, MAX_START_TIME};
use super::wire::iso_ms;
use crate::domain::{AgentStatus, Subdomain, ZendeskUserId};
use crate::state::AppState;
use crate::storage::{Db, StorageError};
use crate::web::ApiError;

/// Most periods on one page (Playlist: "up to 3000 records per request").
pub const PAGE_SIZE: i64 = 3_000;

/// Where a page starts: strictly after this `(ended_at ms, end_seq)`, `end_seq` being the
/// history row that ended the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub ended_at: i64,
    pub end_seq: i64,
}

/// The form of a cursor, also in the OpenAPI document: every string of this form is a
/// position (so a schema-valid request is never refused), anything else is not.
pub const CURSOR_PATTERN: &str = "^[0-7][0-9a-f]{15}[0-7][0-9a-f]{15}$";

impl Position {
    /// The opaque cursor: `ended_at` (ms) and `end_seq` as two 64-bit big-endian numbers, in
    /// lowercase hex (32 characters, safe in a URL without escaping).
    pub fn to_cursor(self) -> String {
        format!("{:016x}{:016x}", self.ended_at.max(0), self.end_seq.max(0))
    }

    /// Reads a cursor made by [`Position::to_cursor`]; `None` for anything else.
    pub fn from_cursor(raw: &str) -> Option<Self> {
        if raw.len() != 32 || !raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        let half =
            |s: &str| -> Option<i64> { i64::try_from(u64::from_str_radix(s, 16).ok()?).ok() };
        Some(Self {
            ended_at: half(raw.get(..16)?)?,
            end_seq: half(raw.get(16..)?)?,
        })
    }
}

/// Reads `cursor` (which wins when both are given) or `start_time` (unix seconds;
/// absent means from the beginning).
pub fn parse_start(query: &str) -> Result<Position, ApiError> {
    let form = crate::web::Form::from_bytes(query.as_bytes())?;
    // A bad start_time is refused even beside a cursor, so no mistake goes unnoticed.
    let start_time = match form.optional("start_time")? {
        None => 0,
        Some(raw) => raw
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|t| (0..=MAX_START_TIME).contains(t))
            .ok_or_else(|| ApiError::invalid("start_time", "must be unix seconds (0 or more)"))?,
    };
    if let Some(raw) = form.optional("cursor")? {
        return Position::from_cursor(raw.trim())
            .ok_or_else(|| ApiError::invalid("cursor", "is not a cursor from this export"));
    }
    // `seq` starts at 1, so 0 takes every period that ends at `start_time`.
    Ok(Position {
        ended_at: start_time * 1000,
        end_seq: 0,
    })
}

/// One finished status period as the export shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StatusPeriod {
    pub id: i64,
    pub user_id: ZendeskUserId,
    pub status: AgentStatus,
    pub duration_in_seconds: i64,
    pub updater_id: ZendeskUserId,
    pub started_at: String,
    pub ended_at: String,
}

/// The answer.
#[derive(Debug, Serialize)]
pub struct ExportPage {
    pub user_statuses: Vec<StatusPeriod>,
    /// Unix seconds of the last `ended_at` on this page (where the page started when empty).
    pub end_time: i64,
    /// True when no finished period is left after this page (for now).
    pub end_of_stream: bool,
    pub cursor: String,
    pub next_page: String,
}

/// A period as stored: times in unix ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub id: i64,
    pub user_id: ZendeskUserId,
    pub status: AgentStatus,
    pub updater_id: ZendeskUserId,
    pub started_at: i64,
    pub ended_at: i64,
    /// The history row that ended it (the page order after `ended_at`).
    pub end_seq: i64,
}

impl Period {
    fn to_wire(self) -> StatusPeriod {
        // Whole seconds, rounded: Playlist's example shows 2344.895 s as 2345.
        let duration_ms = (self.ended_at - self.started_at).max(0);
        StatusPeriod {
            id: self.id,
            user_id: self.user_id,
            status: self.status,
            duration_in_seconds: (duration_ms + 500) / 1000,
            updater_id: self.updater_id,
            started_at: iso_ms(self.started_at),
            ended_at: iso_ms(self.ended_at),
        }
    }
}

/// Up to `limit` periods of the subdomain ending after `after` (in `(ended_at, end_seq)`
/// order) and no later than `until`. The inner query walks the ends in index order
/// (`status_changes_by_time`) and stops at `limit`; each end finds its start, the agent's
/// previous change, through `status_changes_by_agent`. So a page costs about `limit` index
/// lookups however long the history is.
#[tracing::instrument(skip_all, fields(subdomain = %subdomain, limit))]
pub async fn periods_after(
    db: &Db,
    subdomain: &Subdomain,
    after: Position,
    until: i64,
    limit: i64,
) -> Result<Vec<Period>, StorageError> {
    let rows = sqlx::query(
        "SELECT s.seq AS id, s.user_id, s.status, s.changed_by, s.changed_at AS started_at, \
         e.changed_at AS ended_at, e.seq AS end_seq FROM \
         (SELECT c.seq, c.changed_at, (SELECT MAX(p.seq) FROM status_changes p \
           WHERE p.subdomain = c.subdomain AND p.user_id = c.user_id AND p.seq < c.seq) \
           AS start_seq FROM status_changes c \
          WHERE c.subdomain = $1 AND c.changed_at >= $2 AND c.changed_at <= $4 \
          AND (c.changed_at > $2 OR c.seq > $3) \
          AND EXISTS (SELECT 1 FROM status_changes f WHERE f.subdomain = c.subdomain \
           AND f.user_id = c.user_id AND f.seq < c.seq) \
          ORDER BY c.changed_at, c.seq LIMIT $5) e \
         JOIN status_changes s ON s.seq = e.start_seq \
         ORDER BY e.changed_at, e.seq",
    )
    .bind(subdomain.as_str())
    .bind(after.ended_at)
    .bind(after.end_seq)
    .bind(until)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let user_id: i64 = row.try_get("user_id")?;
            let status: String = row.try_get("status")?;
            let by: i64 = row.try_get("changed_by")?;
            Ok(Period {
                id: row.try_get("id")?,
                user_id: ZendeskUserId::new(user_id)
                    .map_err(|_| StorageError::Corrupt("status_changes.user_id"))?,
                status: AgentStatus::parse(&status)
                    .map_err(|_| StorageError::Corrupt("status_changes.status"))?,
                updater_id: ZendeskUserId::new(by)
                    .map_err(|_| StorageError::Corrupt("status_changes.changed_by"))?,
                started_at: row.try_get("started_at")?,
                ended_at: row.try_get("ended_at")?,
                end_seq: row.try_get("end_seq")?,
            })
        })
        .collect()
}

/// One page of the subdomain's finished periods after `start`, as of `now` (unix ms).
pub async fn page(
    state: &AppState,
    subdomain: &Subdomain,
    start: Position,
    now: i64,
) -> Result<ExportPage, ApiError> {
    let until = now - EXPORT_LAG_MS;
    // One more than a page, to know whether another page follows.
    let mut periods = periods_after(&state.db, subdomain, start, until, PAGE_SIZE + 1).await?;
    let end_of_stream = i64::try_from(periods.len()).unwrap_or(i64::MAX) <= PAGE_SIZE;
    periods.truncate(usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX));
    let last = periods.last().map_or(start, |p| Position {
        ended_at: p.ended_at,
        end_seq: p.end_seq,
    });
    let cursor = last.to_cursor();
    let next_page = state.settings.public_url_for(&format!(
        "{}?cursor={cursor}",
        super::paths::INCREMENTAL_EXPORT
    ));
    Ok(ExportPage {
        user_statuses: periods.into_iter().map(Period::to_wire).collect(),
        end_time: last.ended_at.max(0).div_euclid(1000),
        end_of_stream,
        cursor,
        next_page,
    })
}

/// `GET /zendesk/incremental/user_statuses`. Reading never counts as agent activity.
pub(super) async fn handle(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let start = parse_start(req.query_string())?;
    let page = page(&state, &caller.subdomain, start, state.clock.now_ms()).await?;
    tracing::debug!(
        subdomain = %caller.subdomain,
        key_prefix = %caller.key_prefix,
        periods = page.user_statuses.len(),
        "status periods exported"
    );
    Ok(HttpResponse::Ok().json(page))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn field_of(error: ApiError) -> String {
        match error {
            ApiError::InvalidField { field, .. } => field,
            other => panic!("not a field error: {other:?}"),
        }
    }

    #[test]
    fn cursors_round_trip_and_are_opaque() {
        let at = Position {
            ended_at: 1_624_201_823_976,
            end_seq: 1_447_323,
        };
        let cursor = at.to_cursor();
        assert_eq!(cursor, "0000017a29f906e8000000000016159b");
        assert!(!cursor.contains("1624201823976"));
        assert_eq!(Position::from_cursor(&cursor), Some(at));
        let start = parse_start("").unwrap();
        assert_eq!(Position::from_cursor(&start.to_cursor()), Some(start));
        assert_eq!(
            parse_start(&format!("cursor={cursor}&start_time=5")).unwrap(),
            at
        );
    }

    #[test]
    fn bad_cursors_and_start_times_name_the_field() {
        let negative = format!("{:016x}{:016x}", -5_i64, 3);
        let upper = "0000017A29F906E8000000000016159B";
        for (query, field) in [
            ("cursor=", "cursor"),
            ("cursor=%%%", "cursor"),
            ("cursor=MTYyNDIwMTgyMy45NzZ8fDE0NDczMjN8", "cursor"),
            (&format!("cursor={negative}"), "cursor"),
            (&format!("cursor={upper}"), "cursor"),
            ("cursor=0000017a29f906e8000000000016159", "cursor"),
            ("cursor=0", "cursor"),
            ("start_time=soon", "start_time"),
            ("start_time=-1", "start_time"),
            ("start_time=1.5", "start_time"),
            ("start_time=99999999999999999999", "start_time"),
            (
                "cursor=0000017a29f906e8000000000016159b&start_time=null",
                "start_time",
            ),
        ] {
            assert_eq!(field_of(parse_start(query).unwrap_err()), field, "{query}");
        }
    }

    #[test]
    fn every_cursor_of_the_documented_form_is_a_position() {
        let most = "7fffffffffffffff7fffffffffffffff";
        assert_eq!(
            Position::from_cursor(most),
            Some(Position {
                ended_at: i64::MAX,
                end_seq: i64::MAX
            })
        );
        assert_eq!(
            Position::from_cursor(&"0".repeat(32)),
            Some(Position {
                ended_at: 0,
                end_seq: 0
            })
        );
        assert_eq!(
            Position::from_cursor("80000000000000000000000000000000"),
            None
        );
        assert_eq!(CURSOR_PATTERN, "^[0-7][0-9a-f]{15}[0-7][0-9a-f]{15}$");
    }

    #[test]
    fn no_start_time_means_from_the_beginning() {
        assert_eq!(
            parse_start("").unwrap(),
            Position {
                ended_at: 0,
                end_seq: 0
            }
        );
        assert_eq!(
            parse_start("start_time=1567776000").unwrap(),
            Position {
                ended_at: 1_567_776_000_000,
                end_seq: 0
            }
        );
    }

    #[test]
    fn durations_are_rounded_whole_seconds_as_in_playlists_example() {
        let id = ZendeskUserId::new(116_625_277_472).unwrap();
        // 2019-12-17T17:24:48.273Z .. 2019-12-17T18:03:53.168Z -> 2345 in Playlist's docs.
        let period = Period {
            id: 6887,
            user_id: id,
            status: AgentStatus::Away,
            updater_id: id,
            started_at: 1_576_603_488_273,
            ended_at: 1_576_605_833_168,
            end_seq: 6888,
        };
        let wire = period.to_wire();
        assert_eq!(wire.duration_in_seconds, 2345);
        assert_eq!(wire.started_at, "2019-12-17T17:24:48.273Z");
        assert_eq!(wire.ended_at, "2019-12-17T18:03:53.168Z");
    }
}
