//! The API keys page (`/zendesk/keys`): an admin signed in to the board or routing pages
//! lists the account's keys, creates one (shown once, never again) and revokes one, so no
//! command line is needed after the first key. Only the account's own keys are listed or
//! revoked; keys are stored as hashes (see `storage::api_keys`).

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::board::{
    admin_page, csrf_for, posted_form, saved, session, signed_in, status_for, to_sign_in,
};
use super::keys;
use super::wire::iso_ms;
use crate::domain::ZendeskUserId;
use crate::state::AppState;
use crate::storage::api_keys;
use crate::web::{ApiError, html};

pub const PATH: &str = "/zendesk/keys";
pub const REVOKE_PATH: &str = "/zendesk/keys/revoke";

/// One key as the page lists it (its prefix, never the key).
struct KeyRow {
    prefix: String,
    owner: i64,
    created: String,
    last_used: String,
    revoked: Option<String>,
    /// The key this browser signed in with (revoking it signs out).
    current: bool,
}

#[derive(Template)]
#[template(path = "keys.html")]
struct KeysPage<'a> {
    subdomain: &'a str,
    csrf: &'a str,
    rows: Vec<KeyRow>,
    /// A key just created: shown on this answer only.
    created: Option<&'a str>,
    owner: i64,
    notice: Option<&'a str>,
    error: Option<String>,
}

async fn keys_page(
    state: &AppState,
    caller: &super::auth::Caller,
    session_id: &str,
    created: Option<&str>,
    notice: Option<&str>,
    error: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let rows = api_keys::list(&state.db, Some(&caller.subdomain))
        .await?
        .into_iter()
        .map(|k| KeyRow {
            current: k.prefix == caller.key_prefix,
            prefix: k.prefix,
            owner: k.owner,
            created: iso_ms(k.created_at),
            last_used: k.last_used_at.map_or_else(|| "never".to_owned(), iso_ms),
            revoked: k.revoked_at.map(iso_ms),
        })
        .collect();
    let status = status_for(&error);
    let page = KeysPage {
        subdomain: caller.subdomain.as_str(),
        csrf: &csrf_for(session_id),
        rows,
        created,
        owner: caller.owner.get(),
        notice,
        error,
    };
    Ok(admin_page(state, html(status, &page)))
}

/// `GET /zendesk/keys`.
pub(super) async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let Some((caller, id)) = session(&state, &req).await? else {
        return Ok(to_sign_in());
    };
    let notice = req
        .query_string()
        .contains("revoked=1")
        .then_some("The key was revoked.");
    keys_page(&state, &caller, &id, None, notice, None).await
}

/// `POST /zendesk/keys` with `csrf` and `owner` (the Zendesk user recorded as
/// `updated_by` of the changes the key makes): answers the page with the new key, once.
pub(super) async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (caller, id) = signed_in(&state, &req).await?;
    let form = posted_form(&state, &req, payload, &id).await?;
    let owner = match ZendeskUserId::parse(form.required("owner")?.trim()) {
        Ok(owner) => owner,
        Err(e) => {
            let error = Some(format!("owner: {}", e.0));
            return keys_page(&state, &caller, &id, None, None, error).await;
        }
    };
    let key = keys::create(&state.db, &caller.subdomain, owner, state.clock.now_ms()).await?;
    tracing::info!(subdomain = %caller.subdomain, key_prefix = %key.prefix, by = %caller.key_prefix, "API key created from the keys page");
    keys_page(&state, &caller, &id, Some(&key.key), None, None).await
}

/// `POST /zendesk/keys/revoke` with `csrf` and `prefix`: only the account's own keys.
pub(super) async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (caller, id) = signed_in(&state, &req).await?;
    let form = posted_form(&state, &req, payload, &id).await?;
    let prefix = form.required("prefix")?.trim().to_owned();
    let revoked =
        api_keys::revoke_for(&state.db, &caller.subdomain, &prefix, state.clock.now_ms()).await?;
    if !revoked {
        return Err(ApiError::NotFound("API key"));
    }
    tracing::info!(subdomain = %caller.subdomain, key_prefix = %prefix, by = %caller.key_prefix, "API key revoked from the keys page");
    Ok(saved(PATH, "revoked"))
}
