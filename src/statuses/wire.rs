//! The JSON bodies of the status API, exactly as SPEC 4 shows them. The handlers and the
//! OpenAPI document both use these (`#[derive(ToSchema)]`), so the document cannot drift
//! from the wire.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{AgentStatus, ZendeskUserId};
use crate::storage::statuses::StatusRecord;

/// Largest `create_many` batch.
pub const MAX_BATCH: usize = 100;

/// `2020-07-20T09:23:31.018Z`: UTC with milliseconds.
pub fn iso_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// One agent's status as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserStatus {
    #[schema(value_type = i64, minimum = 1)]
    pub user_id: ZendeskUserId,
    pub status: AgentStatus,
    #[schema(format = DateTime)]
    pub updated_at: String,
    #[schema(value_type = i64, minimum = 1)]
    pub updated_by: ZendeskUserId,
}

impl From<&StatusRecord> for UserStatus {
    fn from(record: &StatusRecord) -> Self {
        Self {
            user_id: record.user_id,
            status: record.status,
            updated_at: iso_ms(record.updated_at),
            updated_by: record.updated_by,
        }
    }
}

/// `GET /zendesk/user_statuses/current`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CurrentStatuses {
    pub user_statuses: Vec<UserStatus>,
}

/// `GET /zendesk/users/{user_id}/statuses/current`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CurrentStatus {
    pub user_status: UserStatus,
}

/// `POST /zendesk/user_statuses/create_many` body. Fields are optional here so a missing
/// one is reported by name and index, not as a generic parse error (the document still
/// shows them required).
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateManyRequest {
    #[schema(value_type = Vec<CreateItem>, required = true, min_items = 1, max_items = 100)]
    pub user_statuses: Option<Vec<CreateItem>>,
    #[schema(value_type = bool, required = false, default = true)]
    pub notify_app: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateItem {
    #[schema(value_type = i64, required = true, minimum = 1)]
    pub user_id: Option<i64>,
    #[schema(value_type = AgentStatus, required = true)]
    pub status: Option<String>,
}

/// One status that `create_many` actually changed.
#[derive(Debug, Serialize, PartialEq, Eq, ToSchema)]
pub struct Created {
    #[schema(value_type = i64, minimum = 1)]
    pub user_id: ZendeskUserId,
    pub status: AgentStatus,
}

/// `create_many` answer: only the statuses actually created.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedStatuses {
    pub user_statuses: Vec<Created>,
}

/// `GET /zendesk/user_statuses/incremental` answer, like Zendesk's incremental exports.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncrementalPage {
    pub user_statuses: Vec<UserStatus>,
    pub count: usize,
    /// Unix seconds of the last change on this page (the start time when empty).
    pub end_time: i64,
    /// The URL of the next page; poll it later when `end_of_stream` is true.
    pub next_page: String,
    pub end_of_stream: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_with_milliseconds() {
        assert_eq!(iso_ms(1_595_237_011_018), "2020-07-20T09:23:31.018Z");
        assert_eq!(iso_ms(0), "1970-01-01T00:00:00.000Z");
    }
}
