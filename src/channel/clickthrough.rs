//! `GET /channel/clickthrough?external_id=…`: from a comment in Zendesk to its Slack
//! message (SPEC 1.7). The target is built from validated ids only, so this is never
//! an open redirect.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::bridge;
use crate::domain::ExternalId;
use crate::state::AppState;
use crate::web::ApiError;

#[derive(Deserialize)]
pub struct ClickthroughQuery {
    external_id: Option<String>,
}

pub async fn clickthrough(
    query: Result<web::Query<ClickthroughQuery>, actix_web::Error>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let raw = query.ok().and_then(|q| q.into_inner().external_id);
    let Some(external_id) = raw.and_then(|raw| ExternalId::parse(&raw).ok()) else {
        return Ok(super::info::not_found_page(
            "That link does not name a Slack message.",
        ));
    };
    match bridge::clickthrough_target(&state, &external_id).await? {
        Some(target) => Ok(HttpResponse::Found()
            .insert_header(("Location", target))
            .insert_header(("Cache-Control", "no-store"))
            .finish()),
        None => Ok(super::info::not_found_page(
            "That Slack message is not known to this slackdesk.",
        )),
    }
}
