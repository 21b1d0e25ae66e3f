//! `POST /api/v2/any_channel/push`: hands resources to Zendesk (SPEC 1.5).
//!
//! The caller sends batches of at most [`MAX_PUSH_BATCH`]; each resource gets its own
//! result, which says whether it is done, should be retried, or failed for good.

use std::time::Duration;

use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

use super::ExternalResource;
use crate::config::{Secret, Settings, ZendeskUrlTemplate};
use crate::domain::Subdomain;
use crate::outbound::{self, retry_after, transport_code};

pub const MAX_PUSH_BATCH: usize = 100;

/// Talks to Zendesk accounts; one connection pool for all of them.
#[derive(Clone, Debug)]
pub struct ZendeskClient {
    http: reqwest::Client,
    template: ZendeskUrlTemplate,
}

/// What Zendesk said about one resource (SPEC 1.5: `status.code`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushResultStatus {
    /// `success` or `already_imported`: done.
    Delivered,
    /// `halted`: an earlier resource of the request failed; send it again.
    Halted,
    /// `could_not_locate_parent_external_resource`: the parent is not there yet.
    ParentMissing,
    /// `processing_error`: Zendesk could not take it (may pass on a later try).
    ProcessingError,
    /// The answer had no result for this resource.
    NoResult,
    /// A code Zendesk does not document (kept, sanitized, for the admin).
    Other(String),
}

#[derive(Debug, Clone)]
pub struct PushOutcome {
    /// One per resource sent, in order.
    pub results: Vec<(String, PushResultStatus)>,
}

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("Zendesk rate limit; retry after {retry_after:?}")]
    RateLimited { retry_after: Duration },
    #[error("Zendesk is unavailable ({code})")]
    Transient { code: String },
    #[error("Zendesk refused the push credentials ({status})")]
    Unauthorized { status: u16 },
    #[error("Zendesk rejected the push ({status})")]
    Rejected { status: u16 },
}

#[derive(Serialize)]
struct PushBody<'a> {
    instance_push_id: &'a str,
    request_id: &'a str,
    external_resources: &'a [ExternalResource],
}

#[derive(Deserialize)]
struct PushResponse {
    #[serde(default)]
    results: Vec<PushResult>,
}

#[derive(Deserialize)]
struct PushResult {
    external_resource_id: Option<String>,
    status: PushStatus,
}

#[derive(Deserialize)]
struct PushStatus {
    code: String,
}

impl ZendeskClient {
    pub fn new(settings: &Settings) -> Result<Self, reqwest::Error> {
        Ok(Self {
            http: outbound::http_client(settings)?,
            template: settings.zendesk_url_template.clone(),
        })
    }

    pub fn base_url(&self, subdomain: &Subdomain) -> String {
        self.template.for_subdomain(subdomain)
    }

    /// POSTs JSON to a Channel Framework API with the push token and sorts Zendesk's
    /// answer: 429 (with `Retry-After`), 5xx and transport failures are transient, 401/403
    /// mean the token no longer works, any other non-2xx is a rejection.
    async fn post_channel_api(
        &self,
        url: &str,
        token: &Secret,
        body: &impl Serialize,
    ) -> Result<reqwest::Response, PushError> {
        let response = self
            .http
            .post(url)
            .bearer_auth(token.expose())
            .json(body)
            .send()
            .await
            .map_err(|e| PushError::Transient {
                code: transport_code(&e).into(),
            })?;
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(PushError::RateLimited {
                retry_after: retry_after(response.headers()).unwrap_or(Duration::from_secs(60)),
            });
        }
        // 408 Request Timeout, 409 Conflict and 425 Too Early pass; other 4xx do not.
        let passing = matches!(status.as_u16(), 408 | 409 | 425);
        if status.is_server_error() || passing {
            return Err(PushError::Transient {
                code: format!("http_{}", status.as_u16()),
            });
        }
        // 404: the integration (its push id) is gone, which no resource can fix.
        if [
            StatusCode::UNAUTHORIZED,
            StatusCode::FORBIDDEN,
            StatusCode::NOT_FOUND,
        ]
        .contains(&status)
        {
            return Err(PushError::Unauthorized {
                status: status.as_u16(),
            });
        }
        if !status.is_success() {
            return Err(PushError::Rejected {
                status: status.as_u16(),
            });
        }
        Ok(response)
    }

    /// The shared HTTP client (for downloads of agents' attachments).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// `POST /api/v2/any_channel/channelback/report_error`: tells Zendesk a channelback
    /// failed after it was answered (the description holds codes, never content).
    pub async fn report_channelback_error(
        &self,
        subdomain: &Subdomain,
        token: &Secret,
        instance_push_id: &str,
        external_id: &str,
        description: &str,
    ) -> Result<(), PushError> {
        let url = format!(
            "{}/api/v2/any_channel/channelback/report_error",
            self.base_url(subdomain)
        );
        let body = serde_json::json!({
            "instance_push_id": instance_push_id,
            "external_id": external_id,
            "description": description,
        });
        self.post_channel_api(&url, token, &body).await.map(|_| ())
    }

    /// Pushes one batch (at most [`MAX_PUSH_BATCH`] resources).
    pub async fn push(
        &self,
        subdomain: &Subdomain,
        token: &Secret,
        instance_push_id: &str,
        request_id: &str,
        resources: &[ExternalResource],
    ) -> Result<PushOutcome, PushError> {
        let url = format!("{}/api/v2/any_channel/push", self.base_url(subdomain));
        let body = PushBody {
            instance_push_id,
            request_id,
            external_resources: resources,
        };
        let response = self.post_channel_api(&url, token, &body).await?;
        let parsed: PushResponse = response.json().await.map_err(|_| PushError::Transient {
            code: "unreadable_push_response".into(),
        })?;
        Ok(match_results(resources, parsed.results))
    }
}

/// Pairs each resource with its result; a resource without one is retried.
fn match_results(resources: &[ExternalResource], results: Vec<PushResult>) -> PushOutcome {
    let mut statuses: Vec<(String, PushResultStatus)> = resources
        .iter()
        .map(|r| (r.external_id.clone(), PushResultStatus::NoResult))
        .collect();
    for (index, result) in results.into_iter().enumerate() {
        let slot = match &result.external_resource_id {
            Some(id) => statuses.iter_mut().find(|(ext, _)| ext == id),
            None => statuses.get_mut(index),
        };
        if let Some((_, status)) = slot {
            *status = classify(&result.status.code);
        }
    }
    PushOutcome { results: statuses }
}

fn classify(code: &str) -> PushResultStatus {
    match code {
        "success" | "already_imported" => PushResultStatus::Delivered,
        "halted" => PushResultStatus::Halted,
        "could_not_locate_parent_external_resource" => PushResultStatus::ParentMissing,
        "processing_error" => PushResultStatus::ProcessingError,
        other => PushResultStatus::Other(sanitize_code(other)),
    }
}

/// Codes are stored and shown; keep them short identifiers.
fn sanitize_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_codes_map_to_what_the_queue_does() {
        assert_eq!(classify("success"), PushResultStatus::Delivered);
        assert_eq!(classify("already_imported"), PushResultStatus::Delivered);
        assert_eq!(classify("halted"), PushResultStatus::Halted);
        assert_eq!(
            classify("could_not_locate_parent_external_resource"),
            PushResultStatus::ParentMissing
        );
        assert_eq!(
            classify("processing_error"),
            PushResultStatus::ProcessingError
        );
        assert_eq!(
            classify("we<ird code!"),
            PushResultStatus::Other("weirdcode".into())
        );
    }
}
