//! The dedicated agents' JSON API: list, set (PUT) and remove (DELETE) an
//! organization's or a requester's dedicated agent.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{body_of, paths};
use crate::routing::dedicated;
use crate::routing::engine::Dedication;
use crate::state::AppState;
use crate::statuses::authenticate;
use crate::web::{ApiError, read_body, resource_allowing};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource_allowing(paths::DEDICATED, "GET").route(web::get().to(list)))
        .service(
            resource_allowing(paths::DEDICATION, "PUT, DELETE")
                .route(web::put().to(put))
                .route(web::delete().to(delete)),
        );
}

/// A dedication as the API shows it.
#[derive(Debug, Serialize)]
pub struct DedicationOut {
    pub kind: &'static str,
    pub id: i64,
    pub agent_id: i64,
    pub fallback_agent_id: Option<i64>,
}

impl From<&Dedication> for DedicationOut {
    fn from(d: &Dedication) -> Self {
        Self {
            kind: d.kind.as_str(),
            id: d.key,
            agent_id: d.agent,
            fallback_agent_id: d.fallback,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DedicationBody {
    agent_id: i64,
    #[serde(default)]
    fallback_agent_id: Option<i64>,
}

async fn list(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let all = dedicated::list(&state, &caller.subdomain).await?;
    let out: Vec<DedicationOut> = all.iter().map(DedicationOut::from).collect();
    Ok(HttpResponse::Ok().json(json!({ "dedicated": out })))
}

async fn put(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let (kind, key) = path.into_inner();
    let kind = dedicated::parse_kind(&kind)?;
    let key = dedicated::parse_key(&key)?;
    let body = read_body(&req, payload, state.settings.max_body_bytes).await?;
    let body: DedicationBody = body_of(&req, &body)?;
    let dedication = Dedication {
        kind,
        key,
        agent: body.agent_id,
        fallback: body.fallback_agent_id,
    };
    let saved = dedicated::set(&state, &caller.subdomain, dedication).await?;
    Ok(HttpResponse::Ok().json(json!({ "dedicated": DedicationOut::from(&saved) })))
}

async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let (kind, key) = path.into_inner();
    let kind = dedicated::parse_kind(&kind)?;
    let key = dedicated::parse_key(&key)?;
    dedicated::remove(&state, &caller.subdomain, kind, key).await?;
    Ok(HttpResponse::NoContent().finish())
}
