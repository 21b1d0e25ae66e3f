//! Zendesk REST API calls for statuses (SPEC 3). Every call is authorized through
//! [`ZendeskClient::authorized`] with the account's [`ZendeskAuth`] (the connection,
//! renewed ahead of expiry and once on a 401; see `connection`).
//!
//! Responses are read into structs holding only ids and the fields routing needs, so a
//! name or email in Zendesk's answer is never kept. Paged lists follow `next_page` only
//! while it stays on the account's own base URL, so credentials never go elsewhere.

use std::time::Duration;

use reqwest::{RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::ZendeskClient;
use super::connection::ZendeskAuth;
use crate::domain::{Subdomain, ZendeskUserId};
use crate::outbound::{retry_after, transport_code};

/// Most pages read from one list, a guard against a server that never stops paging.
pub(super) const MAX_PAGES: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum RestError {
    #[error("Zendesk rate limit; retry after {retry_after:?}")]
    RateLimited { retry_after: Duration },
    #[error("Zendesk is unavailable ({code})")]
    Transient { code: String },
    #[error("Zendesk refused the credentials ({status})")]
    Unauthorized { status: u16 },
    #[error("Zendesk rejected the request ({status})")]
    Rejected { status: u16 },
    #[error("Zendesk sent an unexpected response")]
    BadResponse,
    #[error("Zendesk's next page points outside the account")]
    ForeignNextPage,
    /// The account's connection cannot be used until a person connects it again.
    #[error("the Zendesk connection needs to be reconnected ({reason})")]
    NeedsReconnect { reason: String },
}

impl RestError {
    /// A short code for logs and the stored sync failure.
    pub fn code(&self) -> String {
        match self {
            Self::RateLimited { .. } => "rate_limited".into(),
            Self::Transient { code } => code.clone(),
            Self::Unauthorized { status } => format!("unauthorized_{status}"),
            Self::Rejected { status } => format!("rejected_{status}"),
            Self::BadResponse => "bad_response".into(),
            Self::ForeignNextPage => "foreign_next_page".into(),
            Self::NeedsReconnect { .. } => "needs_reconnect".into(),
        }
    }
}

/// A user as we keep it: ids, role, default group, time zone. No name, no email.
#[derive(Debug, Clone, Deserialize)]
pub struct ZendeskUser {
    pub id: i64,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub default_group_id: Option<i64>,
    #[serde(default)]
    pub iana_time_zone: Option<String>,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub suspended: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GroupMembership {
    pub user_id: i64,
    pub group_id: i64,
    #[serde(default)]
    pub default: bool,
}

#[derive(Deserialize)]
struct MeResponse {
    user: MeUser,
}

#[derive(Deserialize)]
struct MeUser {
    id: Option<i64>,
    role: Option<String>,
}

/// Who a credential belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Me {
    pub id: ZendeskUserId,
    /// `admin`, `agent` or `end-user`.
    pub role: String,
}

#[derive(Deserialize)]
struct UsersPage {
    #[serde(default)]
    users: Vec<ZendeskUser>,
    next_page: Option<String>,
}

#[derive(Deserialize)]
struct MembershipsPage {
    #[serde(default)]
    group_memberships: Vec<GroupMembership>,
    next_page: Option<String>,
}

/// A business-hours schedule: id, time zone, weekly intervals. No name.
#[derive(Debug, Clone, Deserialize)]
pub struct BusinessSchedule {
    pub id: i64,
    pub time_zone: String,
    #[serde(default)]
    pub intervals: Vec<BusinessInterval>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub struct BusinessInterval {
    pub start_time: u32,
    pub end_time: u32,
}

/// A holiday's dates (`YYYY-MM-DD`, inclusive). No name.
#[derive(Debug, Clone, Deserialize)]
pub struct Holiday {
    pub start_date: String,
    pub end_date: String,
}

#[derive(Deserialize)]
struct SchedulesPage {
    #[serde(default)]
    schedules: Vec<BusinessSchedule>,
}

#[derive(Deserialize)]
struct HolidaysPage {
    #[serde(default)]
    holidays: Vec<Holiday>,
}

#[derive(Deserialize)]
struct TicketsPage {
    #[serde(default)]
    tickets: Vec<TicketRef>,
    next_page: Option<String>,
}

#[derive(Deserialize)]
struct TicketRef {
    id: i64,
    status: Option<String>,
}

#[derive(Serialize)]
struct NotifyBody<'a> {
    app_id: i64,
    event: &'a str,
    body: &'a serde_json::Value,
    agent_id: i64,
}

impl ZendeskClient {
    pub(super) async fn send(
        &self,
        request: RequestBuilder,
    ) -> Result<reqwest::Response, RestError> {
        let response = request.send().await.map_err(|e| RestError::Transient {
            code: transport_code(&e).into(),
        })?;
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(RestError::RateLimited {
                retry_after: retry_after(response.headers()).unwrap_or(Duration::from_secs(60)),
            });
        }
        if status.is_server_error() {
            return Err(RestError::Transient {
                code: format!("http_{}", status.as_u16()),
            });
        }
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(RestError::Unauthorized {
                status: status.as_u16(),
            });
        }
        if !status.is_success() {
            return Err(RestError::Rejected {
                status: status.as_u16(),
            });
        }
        Ok(response)
    }

    /// Sends a request built by `build` with the account's credential; after a 401 the
    /// credential is renewed once and the request built and sent again.
    pub(crate) async fn authorized(
        &self,
        auth: &ZendeskAuth,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<reqwest::Response, RestError> {
        let (credential, version) = auth.credential().await?;
        match self.send(credential.apply(build(self.http()))).await {
            Err(RestError::Unauthorized { status: 401 }) => {
                let Some(renewed) = auth.after_unauthorized(version).await? else {
                    return Err(RestError::Unauthorized { status: 401 });
                };
                self.send(renewed.apply(build(self.http()))).await
            }
            other => other,
        }
    }

    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        url: &str,
        auth: &ZendeskAuth,
    ) -> Result<T, RestError> {
        let response = self.authorized(auth, |http| http.get(url)).await?;
        response.json().await.map_err(|_| RestError::BadResponse)
    }

    /// The id of the user the credentials belong to (`GET /api/v2/users/me.json`);
    /// an anonymous answer means the credentials were not accepted.
    pub async fn me(&self, subdomain: &Subdomain, auth: &ZendeskAuth) -> Result<Me, RestError> {
        let url = format!("{}/api/v2/users/me.json", self.base_url(subdomain));
        let me: MeResponse = self.get_json(&url, auth).await?;
        let id = me
            .user
            .id
            .and_then(|id| ZendeskUserId::new(id).ok())
            .ok_or(RestError::Unauthorized { status: 200 })?;
        Ok(Me {
            id,
            role: me.user.role.unwrap_or_default(),
        })
    }

    /// Every agent and admin (`GET /api/v2/users.json?role[]=agent&role[]=admin`, paged).
    pub async fn agents(
        &self,
        subdomain: &Subdomain,
        auth: &ZendeskAuth,
    ) -> Result<Vec<ZendeskUser>, RestError> {
        let base = self.base_url(subdomain);
        let mut url = format!("{base}/api/v2/users.json?role%5B%5D=agent&role%5B%5D=admin");
        let mut all = Vec::new();
        for _ in 0..MAX_PAGES {
            let page: UsersPage = self.get_json(&url, auth).await?;
            all.extend(page.users);
            match page.next_page {
                Some(next) => url = same_account(&base, next)?,
                None => return Ok(all),
            }
        }
        Ok(all)
    }

    /// Every group membership (`GET /api/v2/group_memberships.json`, paged).
    pub async fn group_memberships(
        &self,
        subdomain: &Subdomain,
        auth: &ZendeskAuth,
    ) -> Result<Vec<GroupMembership>, RestError> {
        let base = self.base_url(subdomain);
        let mut url = format!("{base}/api/v2/group_memberships.json");
        let mut all = Vec::new();
        for _ in 0..MAX_PAGES {
            let page: MembershipsPage = self.get_json(&url, auth).await?;
            all.extend(page.group_memberships);
            match page.next_page {
                Some(next) => url = same_account(&base, next)?,
                None => return Ok(all),
            }
        }
        Ok(all)
    }

    /// Sends an event to the agent's Zendesk app (`POST /api/v2/apps/notify`).
    pub async fn notify_app(
        &self,
        subdomain: &Subdomain,
        auth: &ZendeskAuth,
        app_id: i64,
        agent: ZendeskUserId,
        event: &str,
        body: &serde_json::Value,
    ) -> Result<(), RestError> {
        let url = format!("{}/api/v2/apps/notify", self.base_url(subdomain));
        let payload = NotifyBody {
            app_id,
            event,
            body,
            agent_id: agent.get(),
        };
        self.authorized(auth, |http| http.post(&url).json(&payload))
            .await
            .map(|_| ())
    }
}

impl ZendeskClient {
    /// Business-hours schedules (`GET /api/v2/business_hours/schedules.json`).
    pub async fn schedules(
        &self,
        subdomain: &Subdomain,
        auth: &ZendeskAuth,
    ) -> Result<Vec<BusinessSchedule>, RestError> {
        let url = format!(
            "{}/api/v2/business_hours/schedules.json",
            self.base_url(subdomain)
        );
        let page: SchedulesPage = self.get_json(&url, auth).await?;
        Ok(page.schedules)
    }

    /// A schedule's holidays (`GET /api/v2/business_hours/schedules/{id}/holidays.json`).
    pub async fn holidays(
        &self,
        subdomain: &Subdomain,
        auth: &ZendeskAuth,
        schedule_id: i64,
    ) -> Result<Vec<Holiday>, RestError> {
        let url = format!(
            "{}/api/v2/business_hours/schedules/{schedule_id}/holidays.json",
            self.base_url(subdomain)
        );
        let page: HolidaysPage = self.get_json(&url, auth).await?;
        Ok(page.holidays)
    }

    /// Ids of the unsolved tickets assigned to an agent
    /// (`GET /api/v2/users/{id}/tickets/assigned.json`, paged).
    pub async fn unsolved_assigned(
        &self,
        subdomain: &Subdomain,
        auth: &ZendeskAuth,
        agent: ZendeskUserId,
    ) -> Result<Vec<i64>, RestError> {
        let base = self.base_url(subdomain);
        let mut url = format!("{base}/api/v2/users/{agent}/tickets/assigned.json");
        let mut ids = Vec::new();
        for _ in 0..MAX_PAGES {
            let page: TicketsPage = self.get_json(&url, auth).await?;
            ids.extend(page.tickets.into_iter().filter_map(|t| {
                matches!(
                    t.status.as_deref(),
                    Some("new" | "open" | "pending" | "hold")
                )
                .then_some(t.id)
            }));
            match page.next_page {
                Some(next) => url = same_account(&base, next)?,
                None => break,
            }
        }
        Ok(ids)
    }

    /// Sets a new ticket's priority and type (`PUT /api/v2/tickets/{id}.json`).
    pub async fn set_ticket_fields(
        &self,
        subdomain: &Subdomain,
        auth: &ZendeskAuth,
        ticket_id: i64,
        priority: Option<&str>,
        kind: Option<&str>,
    ) -> Result<(), RestError> {
        let url = format!(
            "{}/api/v2/tickets/{ticket_id}.json",
            self.base_url(subdomain)
        );
        let mut ticket = serde_json::Map::new();
        if let Some(priority) = priority {
            ticket.insert("priority".into(), priority.into());
        }
        if let Some(kind) = kind {
            ticket.insert("type".into(), kind.into());
        }
        let body = serde_json::json!({ "ticket": ticket });
        self.authorized(auth, |http| http.put(&url).json(&body))
            .await
            .map(|_| ())
    }

    /// Adds an internal note to a ticket (`PUT /api/v2/tickets/{id}.json`, a comment
    /// with `public: false`).
    pub async fn add_internal_note(
        &self,
        subdomain: &Subdomain,
        auth: &ZendeskAuth,
        ticket_id: i64,
        body: &str,
    ) -> Result<(), RestError> {
        let url = format!(
            "{}/api/v2/tickets/{ticket_id}.json",
            self.base_url(subdomain)
        );
        let payload = serde_json::json!({"ticket": {"comment": {"body": body, "public": false}}});
        self.authorized(auth, |http| http.put(&url).json(&payload))
            .await
            .map(|_| ())
    }

    /// Adds or removes a tag on up to 100 tickets (`PUT /api/v2/tickets/update_many.json`).
    pub async fn retag(
        &self,
        subdomain: &Subdomain,
        auth: &ZendeskAuth,
        ticket_ids: &[i64],
        tag: &str,
        add: bool,
    ) -> Result<(), RestError> {
        let ids = ticket_ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let url = format!(
            "{}/api/v2/tickets/update_many.json?ids={ids}",
            self.base_url(subdomain)
        );
        let field = if add {
            "additional_tags"
        } else {
            "remove_tags"
        };
        let body = serde_json::json!({"ticket": {field: [tag]}});
        self.authorized(auth, |http| http.put(&url).json(&body))
            .await
            .map(|_| ())
    }
}

/// `next` if it is on the account's base URL (Zendesk sends absolute page URLs).
pub(super) fn same_account(base: &str, next: String) -> Result<String, RestError> {
    let prefix = format!("{base}/");
    if next.starts_with(&prefix) {
        Ok(next)
    } else {
        Err(RestError::ForeignNextPage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_pages_must_stay_on_the_account() {
        let base = "https://acme.zendesk.com";
        assert!(same_account(base, format!("{base}/api/v2/users.json?page=2")).is_ok());
        assert!(same_account(base, "https://acme.zendesk.com.evil.io/x".into()).is_err());
        assert!(same_account(base, "https://evil.io/api/v2/users.json".into()).is_err());
    }
}
