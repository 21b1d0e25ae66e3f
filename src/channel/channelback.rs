//! `POST /channel/channelback`: an agent answered in Zendesk (SPEC 1.6).
//!
//! Idempotent on `request_unique_identifier`: a retry gets the first answer and nothing
//! is posted twice.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::bridge::{self, ChannelbackError, ChannelbackRequest};
use crate::channel::metadata;
use crate::domain::ExternalId;
use crate::state::AppState;
use crate::storage::channelbacks::{self, Claim};
use crate::web::{ApiError, Form, read_body};

const MESSAGE_MAX_BYTES: usize = 65_535;
const FILE_URLS_MAX: usize = 64;

pub async fn channelback(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(&req, payload, state.settings.max_body_bytes).await?;
    let form = Form::parse(&req, &body)?;
    let account = metadata::verify(&state.db, form.required("metadata")?).await?;
    if !account.active {
        return Err(ApiError::Forbidden(
            "this integration account is deactivated",
        ));
    }
    let message = form.required("message")?;
    if message.len() > MESSAGE_MAX_BYTES {
        return Err(ApiError::invalid("message", "is longer than 65535 bytes"));
    }
    let thread = parse_thread(&form)?;
    let file_urls = parse_file_urls(&form)?;
    let request_id = form
        .optional("request_unique_identifier")?
        .filter(|id| !id.is_empty())
        .map(|id| check_request_id(id).map(str::to_owned))
        .transpose()?;

    let mark = request_id
        .as_deref()
        .map(|id| bridge::request_mark(&account, id));
    let request = ChannelbackRequest {
        message,
        mark: mark.as_deref(),
        thread: &thread,
        file_urls: &file_urls,
    };
    if let Some(request_id) = &request_id {
        match channelbacks::claim(&state.db, account.id, request_id).await? {
            Claim::Started => {}
            Claim::Done { external_id } => return Ok(reply(&external_id)),
            Claim::InProgress => {
                return Err(ApiError::RetryLater {
                    code: "channelback_in_progress".into(),
                    retry_after_secs: 5,
                });
            }
            Claim::TakenOver => {
                // An earlier attempt may have posted before it stopped: look first.
                match bridge::find_posted(&state, &account, &request).await {
                    Ok(Some(external_id)) => {
                        channelbacks::finish(
                            &state.db,
                            account.id,
                            request_id,
                            external_id.as_str(),
                        )
                        .await?;
                        state.metrics.record_channelback("found_posted");
                        return Ok(reply(external_id.as_str()));
                    }
                    Ok(None) => {}
                    Err(error) => {
                        // Unknown whether it was posted: keep the claim, Zendesk retries.
                        tracing::warn!(account = %account.id, error = %error, "cannot check the thread for an earlier reply");
                        return Err(ApiError::RetryLater {
                            code: "channelback_in_progress".into(),
                            retry_after_secs: 30,
                        });
                    }
                }
            }
        }
    }
    match bridge::post_channelback(&state, &account, &request).await {
        Ok(posted) => {
            if let Some(request_id) = &request_id {
                channelbacks::finish(
                    &state.db,
                    account.id,
                    request_id,
                    posted.external_id.as_str(),
                )
                .await?;
            }
            tracing::info!(account = %account.id, external_id = %posted.external_id, "channelback posted");
            state.metrics.record_channelback("posted");
            Ok(reply(posted.external_id.as_str()))
        }
        Err(error) => {
            if let Some(request_id) = &request_id {
                if outcome_unknown(&error) {
                    // Slack may have posted before the answer was lost: the retry looks in
                    // the thread for the reply's mark before posting again.
                    channelbacks::mark_uncertain(&state.db, account.id, request_id).await?;
                } else {
                    channelbacks::abandon(&state.db, account.id, request_id).await?;
                }
            }
            state.metrics.record_channelback("failed");
            Err(channelback_error(error))
        }
    }
}

fn reply(external_id: &str) -> HttpResponse {
    HttpResponse::Ok().json(json!({"external_id": external_id, "allow_channelback": true}))
}

fn parse_thread(form: &Form) -> Result<ExternalId, ApiError> {
    let (field, raw) = match form.optional("thread_id")?.filter(|t| !t.is_empty()) {
        Some(thread) => ("thread_id", thread),
        None => ("parent_id", form.non_empty("parent_id")?),
    };
    ExternalId::parse(raw).map_err(|e| ApiError::invalid(field, e.0))
}

pub(crate) fn parse_file_urls(form: &Form) -> Result<Vec<String>, ApiError> {
    let urls = form.all("file_urls[]");
    if urls.len() > FILE_URLS_MAX {
        return Err(ApiError::invalid("file_urls[]", "has more than 64 entries"));
    }
    urls.into_iter()
        .map(|raw| match url::Url::parse(raw) {
            Ok(url) if url.scheme() == "https" || url.scheme() == "http" => Ok(url.to_string()),
            _ => Err(ApiError::invalid(
                "file_urls[]",
                "must be absolute http(s) URLs",
            )),
        })
        .collect()
}

fn check_request_id(id: &str) -> Result<&str, ApiError> {
    if id.len() <= 255 && id.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(id)
    } else {
        Err(ApiError::invalid(
            "request_unique_identifier",
            "must be at most 255 printable ASCII characters",
        ))
    }
}

/// A failure after which Slack may still have posted the reply (no answer, a 5xx).
fn outcome_unknown(error: &ChannelbackError) -> bool {
    matches!(
        error,
        ChannelbackError::Slack(crate::slack::SlackError::Unavailable { .. })
    )
}

fn channelback_error(error: ChannelbackError) -> ApiError {
    match error {
        ChannelbackError::UnknownThread => ApiError::invalid(
            "thread_id",
            "does not name a Slack conversation of this service",
        ),
        ChannelbackError::ChannelNotLinked => ApiError::Unprocessable {
            code: "channel_not_linked".into(),
            message: "the Slack channel of this thread is not linked to this account".into(),
        },
        ChannelbackError::WorkspaceDisconnected => ApiError::Unprocessable {
            code: "slack_not_connected".into(),
            message: "the Slack workspace is not connected; reconnect it in the admin UI".into(),
        },
        ChannelbackError::Slack(slack) if slack.is_permanent() => ApiError::Unprocessable {
            code: format!("slack_{}", slack.code()),
            message: format!("Slack refused the reply: {}", slack.code()),
        },
        ChannelbackError::Slack(slack) => ApiError::RetryLater {
            code: format!("slack_{}", slack.code()),
            retry_after_secs: slack.retry_after().as_secs().max(1),
        },
        ChannelbackError::Storage(storage) => storage.into(),
    }
}
