//! What an admin configures for routing: queues, account-wide defaults, the same-agent
//! rule and per-agent limits, with the validation shared by the JSON API and the admin
//! pages. A bad value names its field; nothing is stored until every field is good.

use serde::{Deserialize, Serialize};

use crate::web::ApiError;

/// Longest same-agent window Zendesk users may ask for (one year).
pub const MAX_WINDOW_HOURS: i64 = 8_760;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueKind {
    /// Runs every `interval_secs` over the whole view.
    Scheduled,
    /// Runs for one ticket when a Zendesk trigger calls the route webhook.
    Trigger,
}

impl QueueKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Trigger => "trigger",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "scheduled" => Some(Self::Scheduled),
            "trigger" => Some(Self::Trigger),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    RoundRobin,
    LeastActive,
    Skills,
}

impl Model {
    pub const ALL: [Model; 3] = [Self::RoundRobin, Self::LeastActive, Self::Skills];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RoundRobin => "round_robin",
            Self::LeastActive => "least_active",
            Self::Skills => "skills",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::RoundRobin => "round robin",
            Self::LeastActive => "least active",
            Self::Skills => "skills",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == text)
    }
}

/// The two Zendesk webhooks routing listens to; each has its own signing secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// A trigger queue's ticket.
    Route,
    /// A requester's new ticket, for the same-agent rule.
    SameAgent,
}

impl Hook {
    pub const ALL: [Hook; 2] = [Self::Route, Self::SameAgent];

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|h| h.as_str() == text)
    }

    /// The kind stored with an accepted call.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Route => "route",
            Self::SameAgent => "same_agent",
        }
    }

    /// The column holding its sealed signing secret.
    pub fn secret_column(self) -> &'static str {
        match self {
            Self::Route => "route_webhook_secret",
            Self::SameAgent => "same_agent_webhook_secret",
        }
    }
}

/// A queue's settings as an admin writes them (JSON API body and admin form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSettings {
    pub name: String,
    /// Order among the account's queues: lower runs first and wins a shared ticket.
    #[serde(default)]
    pub position: i64,
    pub view_id: i64,
    pub kind: QueueKind,
    pub model: Model,
    #[serde(default = "default_interval")]
    pub interval_secs: i64,
    #[serde(default = "default_batch")]
    pub batch_size: i64,
    #[serde(default)]
    pub use_sla: bool,
    #[serde(default)]
    pub skills_timeout_minutes: Option<i64>,
    #[serde(default)]
    pub audit_tag: Option<String>,
    #[serde(default)]
    pub audit_field_id: Option<i64>,
    #[serde(default)]
    pub audit_field_value: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// When a ticket this queue assigned goes back to routing.
    #[serde(default)]
    pub reassign: ReassignRules,
    /// Split the queue's tickets between groups by weight (empty: no split). Applies to
    /// tickets without a group or in one of these groups.
    #[serde(default)]
    pub split: Vec<GroupShare>,
}

/// One group's share of a queue's split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupShare {
    pub group_id: i64,
    /// 1 to 100: a group's share is its weight over the sum of the weights.
    pub weight: i64,
}

/// Checks a split: none, or 2 to 10 distinct groups with weights of 1 to 100.
fn valid_split(split: &[GroupShare]) -> Result<(), ApiError> {
    if split.len() == 1 || split.len() > 10 {
        return Err(ApiError::invalid(
            "split",
            "must list 2 to 10 groups, or none for no split",
        ));
    }
    for (i, share) in split.iter().enumerate() {
        if share.group_id <= 0 {
            return Err(ApiError::invalid(
                format!("split[{i}].group_id"),
                "must be a Zendesk group id",
            ));
        }
        if !(1..=100).contains(&share.weight) {
            return Err(ApiError::invalid(
                format!("split[{i}].weight"),
                "must be 1 to 100",
            ));
        }
        if split[..i].iter().any(|s| s.group_id == share.group_id) {
            return Err(ApiError::invalid(
                format!("split[{i}].group_id"),
                "lists a group twice",
            ));
        }
    }
    Ok(())
}

/// The stored form of a split: `"group:weight,..."`, in the admin's order.
pub fn split_to_stored(split: &[GroupShare]) -> String {
    split
        .iter()
        .map(|s| format!("{}:{}", s.group_id, s.weight))
        .collect::<Vec<_>>()
        .join(",")
}

/// Reads [`split_to_stored`]'s form; `None` if any part is bad.
pub fn split_from_stored(stored: &str) -> Option<Vec<GroupShare>> {
    if stored.is_empty() {
        return Some(Vec::new());
    }
    stored
        .split(',')
        .map(|pair| {
            let (group, weight) = pair.split_once(':')?;
            Some(GroupShare {
                group_id: group.parse().ok()?,
                weight: weight.parse().ok()?,
            })
        })
        .collect()
}

/// A queue's reassignment rules: a ticket it assigned that no agent answered publicly
/// goes back to routing after `unanswered_minutes`, or once its agent has been away or
/// offline (or outside their schedule) for `away_minutes`; at most `max_times` per
/// ticket, tagged with `tag`. Both rules off by default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReassignRules {
    /// Minutes without a public agent reply before the ticket moves on (null: off).
    #[serde(default)]
    pub unanswered_minutes: Option<i64>,
    /// Move an unanswered ticket on when its agent goes away or offline.
    #[serde(default)]
    pub when_away: bool,
    /// How long the agent must have been away before their tickets move on.
    #[serde(default = "default_away_minutes")]
    pub away_minutes: i64,
    /// Only tickets assigned less than this many hours ago (null: any in the last week).
    #[serde(default)]
    pub within_hours: Option<i64>,
    /// The most times one ticket is moved on.
    #[serde(default = "default_reassign_max")]
    pub max_times: i64,
    /// Added to a ticket each time it is moved on.
    #[serde(default = "default_reassign_tag")]
    pub tag: Option<String>,
}

fn default_away_minutes() -> i64 {
    5
}
fn default_reassign_max() -> i64 {
    2
}
fn default_reassign_tag() -> Option<String> {
    Some("reassigned_by_slackdesk".to_owned())
}

impl Default for ReassignRules {
    fn default() -> Self {
        Self {
            unanswered_minutes: None,
            when_away: false,
            away_minutes: default_away_minutes(),
            within_hours: None,
            max_times: default_reassign_max(),
            tag: default_reassign_tag(),
        }
    }
}

impl ReassignRules {
    /// Whether any rule is on.
    pub fn any(&self) -> bool {
        self.unanswered_minutes.is_some() || self.when_away
    }

    fn validate(mut self) -> Result<Self, ApiError> {
        if let Some(minutes) = self.unanswered_minutes
            && !(1..=10_080).contains(&minutes)
        {
            return Err(ApiError::invalid(
                "reassign.unanswered_minutes",
                "must be 1 to 10080 minutes, or null for off",
            ));
        }
        if !(0..=1_440).contains(&self.away_minutes) {
            return Err(ApiError::invalid(
                "reassign.away_minutes",
                "must be 0 to 1440 minutes",
            ));
        }
        if let Some(hours) = self.within_hours
            && !(1..=168).contains(&hours)
        {
            return Err(ApiError::invalid(
                "reassign.within_hours",
                "must be 1 to 168 hours, or null for the last week",
            ));
        }
        if !(1..=10).contains(&self.max_times) {
            return Err(ApiError::invalid("reassign.max_times", "must be 1 to 10"));
        }
        self.tag = valid_tag("reassign.tag", self.tag)?;
        Ok(self)
    }
}

fn default_interval() -> i64 {
    60
}
fn default_batch() -> i64 {
    5
}
fn yes() -> bool {
    true
}

impl QueueSettings {
    /// Checks every field; the first bad one is named in the error.
    pub fn validate(mut self) -> Result<Self, ApiError> {
        self.name = self.name.trim().to_owned();
        if self.name.is_empty() || self.name.chars().count() > 80 {
            return Err(ApiError::invalid("name", "must be 1 to 80 characters"));
        }
        if self.view_id <= 0 {
            return Err(ApiError::invalid("view_id", "must be a Zendesk view id"));
        }
        if !(0..=1_000).contains(&self.position) {
            return Err(ApiError::invalid("position", "must be 0 to 1000"));
        }
        if !(30..=86_400).contains(&self.interval_secs) {
            return Err(ApiError::invalid("interval_secs", "must be 30 to 86400"));
        }
        if !(1..=100).contains(&self.batch_size) {
            return Err(ApiError::invalid("batch_size", "must be 1 to 100"));
        }
        if let Some(minutes) = self.skills_timeout_minutes
            && !(1..=10_080).contains(&minutes)
        {
            return Err(ApiError::invalid(
                "skills_timeout_minutes",
                "must be 1 to 10080 minutes, or null for no timeout",
            ));
        }
        self.audit_tag = valid_tag("audit_tag", self.audit_tag)?;
        match (&self.audit_field_id, &self.audit_field_value) {
            (Some(id), Some(value)) if *id > 0 && !value.is_empty() && value.len() <= 255 => {}
            (None, None) => {}
            (Some(_), None) | (None, Some(_)) => {
                return Err(ApiError::invalid(
                    "audit_field_value",
                    "set both audit_field_id and audit_field_value, or neither",
                ));
            }
            _ => {
                return Err(ApiError::invalid(
                    "audit_field_id",
                    "must be a ticket field id with a value of 1 to 255 characters",
                ));
            }
        }
        self.reassign = self.reassign.validate()?;
        valid_split(&self.split)?;
        Ok(self)
    }
}

/// A Zendesk tag: 1 to 80 characters, no spaces or commas. Empty means none.
pub fn valid_tag(field: &str, tag: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(tag) = tag.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let ok = tag.chars().count() <= 80
        && tag
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | ':' | '/' | '.'));
    if !ok {
        return Err(ApiError::invalid(
            field,
            "must be a Zendesk tag: up to 80 letters, digits or _ - : / .",
        ));
    }
    Ok(Some(tag))
}

/// Account-wide routing settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSettings {
    /// Open tickets an agent may hold before routing skips them (null: no limit).
    #[serde(default)]
    pub default_inbox_limit: Option<i64>,
    /// Tickets routing may give an agent per day (their local day; null: no limit).
    #[serde(default)]
    pub default_daily_limit: Option<i64>,
    #[serde(default)]
    pub same_agent: SameAgentSettings,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SameAgentSettings {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default = "default_window")]
    pub window_hours: i64,
    /// Only when that agent is online.
    #[serde(default = "yes")]
    pub only_online: bool,
    /// Only when that agent is under their inbox and daily limits.
    #[serde(default = "yes")]
    pub within_limits: bool,
    #[serde(default)]
    pub tag: Option<String>,
}

fn default_window() -> i64 {
    72
}

impl Default for SameAgentSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            window_hours: default_window(),
            only_online: true,
            within_limits: true,
            tag: None,
        }
    }
}

impl AccountSettings {
    pub fn validate(mut self) -> Result<Self, ApiError> {
        check_limit("default_inbox_limit", self.default_inbox_limit)?;
        check_limit("default_daily_limit", self.default_daily_limit)?;
        if !(1..=MAX_WINDOW_HOURS).contains(&self.same_agent.window_hours) {
            return Err(ApiError::invalid(
                "same_agent.window_hours",
                "must be 1 to 8760 hours",
            ));
        }
        self.same_agent.tag = valid_tag("same_agent.tag", self.same_agent.tag)?;
        Ok(self)
    }
}

/// One agent's own limits; null falls back to the account default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentLimits {
    pub user_id: i64,
    #[serde(default)]
    pub inbox_limit: Option<i64>,
    #[serde(default)]
    pub daily_limit: Option<i64>,
}

impl AgentLimits {
    pub fn validate(self) -> Result<Self, ApiError> {
        if self.user_id <= 0 {
            return Err(ApiError::invalid("user_id", "must be a Zendesk user id"));
        }
        check_limit("inbox_limit", self.inbox_limit)?;
        check_limit("daily_limit", self.daily_limit)?;
        Ok(self)
    }
}

fn check_limit(field: &str, limit: Option<i64>) -> Result<(), ApiError> {
    match limit {
        Some(n) if !(0..=10_000).contains(&n) => Err(ApiError::invalid(
            field,
            "must be 0 to 10000, or null for no limit",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue() -> QueueSettings {
        QueueSettings {
            name: "Billing".into(),
            position: 0,
            view_id: 42,
            kind: QueueKind::Scheduled,
            model: Model::RoundRobin,
            interval_secs: 60,
            batch_size: 5,
            use_sla: false,
            skills_timeout_minutes: None,
            audit_tag: Some("routed_by_slackdesk".into()),
            audit_field_id: None,
            audit_field_value: None,
            enabled: true,
            reassign: ReassignRules::default(),
            split: Vec::new(),
        }
    }

    fn field_of(result: Result<QueueSettings, ApiError>) -> String {
        match result {
            Err(ApiError::InvalidField { field, .. }) => field,
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn each_bad_queue_field_is_named() {
        assert!(queue().validate().is_ok());
        let mut q = queue();
        q.batch_size = 0;
        assert_eq!(field_of(q.validate()), "batch_size");
        let mut q = queue();
        q.audit_tag = Some("two words".into());
        assert_eq!(field_of(q.validate()), "audit_tag");
        let mut q = queue();
        q.audit_field_id = Some(7);
        assert_eq!(field_of(q.validate()), "audit_field_value");
        let mut q = queue();
        q.skills_timeout_minutes = Some(0);
        assert_eq!(field_of(q.validate()), "skills_timeout_minutes");
        let mut q = queue();
        q.reassign.unanswered_minutes = Some(0);
        assert_eq!(field_of(q.validate()), "reassign.unanswered_minutes");
        let mut q = queue();
        q.reassign.max_times = 11;
        assert_eq!(field_of(q.validate()), "reassign.max_times");
        let share = |group_id, weight| GroupShare { group_id, weight };
        let mut q = queue();
        q.split = vec![share(7, 75)];
        assert_eq!(field_of(q.validate()), "split");
        let mut q = queue();
        q.split = vec![share(7, 75), share(7, 25)];
        assert_eq!(field_of(q.validate()), "split[1].group_id");
        let mut q = queue();
        q.split = vec![share(7, 75), share(8, 0)];
        assert_eq!(field_of(q.validate()), "split[1].weight");
        assert_eq!(
            split_from_stored(&split_to_stored(&[share(7, 75), share(8, 25)])),
            Some(vec![share(7, 75), share(8, 25)])
        );
    }

    #[test]
    fn same_agent_window_is_capped_at_a_year() {
        let mut settings = AccountSettings::default();
        settings.same_agent.window_hours = MAX_WINDOW_HOURS;
        assert!(settings.clone().validate().is_ok());
        settings.same_agent.window_hours = MAX_WINDOW_HOURS + 1;
        assert!(settings.validate().is_err());
    }
}
