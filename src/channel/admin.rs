//! The admin UI (SPEC 1.2), framed inside Zendesk.
//!
//! ```text
//!  Zendesk ──POST /channel/admin──▶ set-up session stored ──▶ settings form (session id)
//!  admin ──POST /channel/admin/save──▶ account saved ──▶ auto-submitting form ──▶ return_url
//! ```
//!
//! What Zendesk posted (return URL, push id and token, existing metadata) stays on the
//! server in the set-up session; the form carries only the session's random id, which
//! also serves as its CSRF token. No cookies are needed, so the page works inside a
//! third-party iframe. Errors are readable pages, not JSON.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;
use url::Url;

use super::admin_slack::{self, SlackSection};
use crate::channel::metadata::{self, Metadata};
use crate::config::Secret;
use crate::crypto::tokens;
use crate::domain::{AccountId, Subdomain};
use crate::state::AppState;
use crate::storage::accounts::{self, AccountSettings, DeliveryMode, NewAccount};
use crate::storage::setup_sessions::{self, NewSetupSession, SetupSession};
use crate::storage::{outbox, workspace_grants};
use crate::web::{ApiError, Form, html, read_body};
use crate::zendesk::connection::ConnectionNotice;

const NAME_MAX_CHARS: usize = 255;
const TAGS_MAX: usize = 20;
const TAG_MAX_CHARS: usize = 80;

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage<'a> {
    subdomain: &'a str,
    editing: bool,
    session: &'a str,
    name: &'a str,
    ticket_tags: String,
    pull_only: bool,
    has_push: bool,
    error: Option<&'a str>,
    slack: SlackSection,
    /// Stuck and given-up deliveries, with Retry and Discard.
    problems: Vec<ProblemRow>,
    counts: outbox::ProblemCounts,
    priorities: [&'static str; 4],
    types: [&'static str; 4],
    push_failure: Option<String>,
    /// The subdomain's Zendesk REST connection (ticket priority and type need it).
    connection: Option<ConnectionNotice>,
}

#[derive(Template)]
#[template(path = "admin_done.html")]
struct AdminDonePage<'a> {
    return_url: &'a str,
    name: &'a str,
    metadata: &'a str,
}

/// `POST /channel/admin`: Zendesk opens the settings for a new or existing account.
pub async fn open(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    match open_inner(&req, payload, &state).await {
        Ok(response) => response,
        Err(error) => error_page(&state, &error),
    }
}

async fn open_inner(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(req, payload, state.settings.max_body_bytes).await?;
    let form = Form::parse(req, &body)?;
    let subdomain = Subdomain::parse(form.non_empty("subdomain")?)
        .map_err(|e| ApiError::invalid("subdomain", e.0))?;
    let return_url = check_return_url(state, &subdomain, form.non_empty("return_url")?)?;
    let locale = parse_locale(form.optional("locale")?.unwrap_or("en"))?;
    let name = check_name(form.optional("name")?.unwrap_or(""))?;
    let raw_metadata = form.optional("metadata")?.filter(|m| !m.trim().is_empty());
    let account = match raw_metadata {
        Some(raw) => {
            let account = metadata::verify(&state.db, raw).await?;
            if account.subdomain != subdomain {
                return Err(ApiError::Unauthorized(
                    "metadata belongs to another Zendesk account",
                ));
            }
            Some(account)
        }
        None => None,
    };
    let push_id = form.optional("instance_push_id")?.filter(|v| !v.is_empty());
    let push_token = form
        .optional("zendesk_access_token")?
        .filter(|v| !v.is_empty())
        .map(Secret::from);
    let (push_id, push_token) = match (push_id, push_token) {
        (Some(id), Some(token)) => (Some(id), Some(token)),
        _ => (None, None),
    };
    let session = setup_sessions::create(
        &state.db,
        &state.keys,
        &NewSetupSession {
            account_id: account.as_ref().map(|a| a.id),
            subdomain: &subdomain,
            locale: &locale,
            return_url: return_url.as_str(),
            instance_push_id: push_id,
            push_token: push_token.as_ref(),
            metadata: raw_metadata,
        },
    )
    .await?;
    let settings = account
        .as_ref()
        .map(|a| a.settings.clone())
        .unwrap_or_default();
    let has_push = push_token.is_some() || account.as_ref().is_some_and(|a| a.has_push_token());
    let slack = admin_slack::load(state, account.as_ref().map(|a| a.id), &session).await?;
    let (problems, counts) = match &account {
        Some(account) => delivery_problems(state, account.id).await?,
        None => Default::default(),
    };
    tracing::info!(subdomain = %subdomain, account = ?account.as_ref().map(|a| a.id), "admin UI opened");
    let page = AdminPage {
        subdomain: subdomain.as_str(),
        editing: account.is_some(),
        session: &session,
        name,
        ticket_tags: settings.ticket_tags.join(" "),
        pull_only: settings.delivery == DeliveryMode::PullOnly,
        has_push,
        error: None,
        slack,
        problems,
        counts,
        push_failure: account.as_ref().and_then(|a| a.push_failure.clone()),
        connection: state.connections.notice(&subdomain).await.ok(),
        priorities: admin_slack::PRIORITIES,
        types: admin_slack::TYPES,
    };
    Ok(framed(state, None, html(StatusCode::OK, &page)))
}

/// `POST /channel/admin/save`: stores the account and hands back to Zendesk.
pub async fn save(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    match save_inner(&req, payload, &state).await {
        Ok(response) => response,
        Err(error) => error_page(&state, &error),
    }
}

async fn save_inner(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(req, payload, state.settings.max_body_bytes).await?;
    let form = Form::parse(req, &body)?;
    let token = form.non_empty("session")?;
    let Some(session) = setup_sessions::find(&state.db, &state.keys, token).await? else {
        return Err(ApiError::Unauthorized(
            "this settings form has expired; open the integration again from Zendesk",
        ));
    };
    if form.optional("refresh")?.is_some() {
        // The admin connected Slack in another tab: the same form again, as typed, with
        // the workspace's channels (nothing is stored yet).
        return resubmit_page(state, &session, token, &form, None).await;
    }
    let name = form.optional("name")?.unwrap_or("").trim().to_owned();
    let checked = match parse_settings(&form).and_then(|s| check_name(&name).map(|_| s)) {
        Ok(settings) if name.is_empty() => Err(("name: is required".to_owned(), settings)),
        Ok(settings) => {
            match admin_slack::parse_links(state, session.account_id, &session.id_hash, &form).await
            {
                Ok(links) => Ok((settings, links)),
                Err(ApiError::InvalidField { message, field }) => {
                    Err((format!("{field}: {message}"), settings))
                }
                Err(other) => return Err(other),
            }
        }
        Err(ApiError::InvalidField { message, field }) => {
            Err((format!("{field}: {message}"), AccountSettings::default()))
        }
        Err(other) => return Err(other),
    };
    let (settings, links) = match checked {
        Ok(valid) => valid,
        Err((problem, _)) => {
            return resubmit_page(state, &session, token, &form, Some(&problem)).await;
        }
    };
    let metadata = store_account(state, &session, &settings, &links).await?;
    let page = AdminDonePage {
        return_url: &session.return_url,
        name: &name,
        metadata: &metadata,
    };
    tracing::info!(subdomain = %session.subdomain, "integration account saved");
    Ok(framed(
        state,
        Some(&session.return_url),
        html(StatusCode::OK, &page),
    ))
}

/// Creates or updates the account in one transaction; returns the metadata for Zendesk.
async fn store_account(
    state: &AppState,
    session: &SetupSession,
    settings: &AccountSettings,
    links: &admin_slack::Links,
) -> Result<String, ApiError> {
    let mut tx = state.db.begin_write().await?;
    let (account_id, metadata) = match (session.account_id, &session.metadata) {
        (Some(id), Some(existing)) => {
            accounts::update_settings(&mut tx, id, &session.locale, settings).await?;
            (id, existing.expose().to_owned())
        }
        _ => {
            let id = AccountId::new_random();
            let metadata = Metadata::new(id, tokens::random_secret());
            accounts::insert(
                &mut tx,
                &NewAccount {
                    id,
                    subdomain: &session.subdomain,
                    locale: &session.locale,
                    secret_hash: &metadata.secret_hash(),
                    settings,
                },
            )
            .await?;
            (id, metadata.encode())
        }
    };
    if let (Some(push_id), Some(token)) = (&session.instance_push_id, &session.push_token) {
        accounts::set_push_credentials(&mut tx, &state.keys, account_id, push_id, token).await?;
    }
    workspace_grants::adopt_session(&mut tx, &session.id_hash, account_id).await?;
    admin_slack::save_links(&mut tx, account_id, links).await?;
    setup_sessions::delete(&mut tx, &session.id_hash).await?;
    state.db.commit(tx).await?;
    Ok(metadata)
}

/// The form again with the problem named, showing what was sent (channels ticked, their
/// settings, the name and tags), not what is stored.
async fn resubmit_page(
    state: &AppState,
    session: &SetupSession,
    token: &str,
    form: &Form,
    problem: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let mut slack = admin_slack::load(state, session.account_id, token).await?;
    admin_slack::keep_ticks(&mut slack, form);
    let pull_only = form.optional("delivery").ok().flatten() == Some("pull_only");
    let page = AdminPage {
        subdomain: session.subdomain.as_str(),
        editing: session.account_id.is_some(),
        session: token,
        name: form.optional("name").ok().flatten().unwrap_or(""),
        ticket_tags: form
            .optional("ticket_tags")
            .ok()
            .flatten()
            .unwrap_or("")
            .to_owned(),
        pull_only,
        has_push: session.push_token.is_some(),
        error: problem,
        slack,
        problems: Vec::new(),
        counts: outbox::ProblemCounts::default(),
        push_failure: None,
        connection: state.connections.notice(&session.subdomain).await.ok(),
        priorities: admin_slack::PRIORITIES,
        types: admin_slack::TYPES,
    };
    let status = match problem {
        Some(_) => StatusCode::BAD_REQUEST,
        None => StatusCode::OK,
    };
    Ok(framed(state, None, html(status, &page)))
}

/// One stuck or given-up delivery as the page shows it (ids, times and a code only).
struct ProblemRow {
    seq: i64,
    external_id: String,
    dead: bool,
    code: String,
    attempts: i64,
    queued: String,
    at: String,
}

fn utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

async fn delivery_problems(
    state: &AppState,
    account: AccountId,
) -> Result<(Vec<ProblemRow>, outbox::ProblemCounts), ApiError> {
    let rows = outbox::problems(&state.db, account).await?;
    let counts = outbox::problem_counts(&state.db, account).await?;
    let rows = rows
        .into_iter()
        .map(|p| ProblemRow {
            seq: p.seq,
            external_id: p.external_id,
            dead: p.dead,
            code: p.code,
            attempts: p.attempts,
            queued: utc(p.queued_at),
            at: utc(p.at),
        })
        .collect();
    Ok((rows, counts))
}

#[derive(Template)]
#[template(path = "admin_deliveries.html")]
struct DeliveriesPage<'a> {
    subdomain: &'a str,
    session: &'a str,
    outcome: String,
    problems: Vec<ProblemRow>,
    counts: outbox::ProblemCounts,
}

/// `POST /channel/admin/deliveries`: Retry or Discard one stuck or given-up delivery of
/// the account the settings were opened for. The set-up session is the CSRF token.
pub async fn delivery_action(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    match delivery_action_inner(&req, payload, &state).await {
        Ok(response) => response,
        Err(error) => error_page(&state, &error),
    }
}

async fn delivery_action_inner(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(req, payload, state.settings.max_body_bytes).await?;
    let form = Form::parse(req, &body)?;
    let token = form.non_empty("session")?;
    let session = setup_sessions::find(&state.db, &state.keys, token).await?;
    let Some((session, account)) = session.and_then(|s| s.account_id.map(|a| (s, a))) else {
        return Err(ApiError::Unauthorized(
            "this settings page has expired; open the integration again from Zendesk",
        ));
    };
    let seq: i64 = form
        .non_empty("seq")?
        .parse()
        .map_err(|_| ApiError::invalid("seq", "is not a queue id"))?;
    let (changed, verb) = match form.non_empty("action")? {
        "retry" => (
            outbox::retry_now(&state.db, account, seq).await?,
            "will be retried now",
        ),
        "discard" => (
            outbox::discard(&state.db, account, seq).await?,
            "was discarded",
        ),
        _ => return Err(ApiError::invalid("action", "must be retry or discard")),
    };
    if !changed {
        return Err(ApiError::NotFound(
            "no stuck or given-up delivery has this id",
        ));
    }
    tracing::info!(account = %account, seq, action = verb, "delivery changed by an admin");
    if verb.starts_with("will") {
        state.delivery_wake.notify_one();
    }
    let (problems, counts) = delivery_problems(state, account).await?;
    let page = DeliveriesPage {
        subdomain: session.subdomain.as_str(),
        session: token,
        outcome: format!("Delivery {seq} {verb}."),
        problems,
        counts,
    };
    Ok(framed(state, None, html(StatusCode::OK, &page)))
}

fn parse_settings(form: &Form) -> Result<AccountSettings, ApiError> {
    let delivery = match form.optional("delivery")?.unwrap_or("auto") {
        "auto" => DeliveryMode::Auto,
        "pull_only" => DeliveryMode::PullOnly,
        _ => return Err(ApiError::invalid("delivery", "must be auto or pull_only")),
    };
    Ok(AccountSettings {
        delivery,
        ticket_tags: parse_tags(form.optional("ticket_tags")?.unwrap_or(""))?,
    })
}

/// Zendesk tags: lower case, no spaces; we allow letters, digits and `_ - / : .`.
pub(super) fn parse_tags(raw: &str) -> Result<Vec<String>, ApiError> {
    let mut tags: Vec<String> = Vec::new();
    for tag in raw
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
    {
        let tag = tag.to_lowercase();
        let valid = tag.chars().count() <= TAG_MAX_CHARS
            && tag
                .chars()
                .all(|c| c.is_alphanumeric() || "_-/:.".contains(c));
        if !valid {
            return Err(ApiError::invalid(
                "ticket_tags",
                "tags may hold letters, digits and _ - / : . (80 characters at most)",
            ));
        }
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() > TAGS_MAX {
        return Err(ApiError::invalid("ticket_tags", "at most 20 tags"));
    }
    Ok(tags)
}

fn check_name(name: &str) -> Result<&str, ApiError> {
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(ApiError::invalid("name", "must be at most 255 characters"));
    }
    Ok(name)
}

fn parse_locale(raw: &str) -> Result<String, ApiError> {
    let valid = (1..=16).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(raw.to_owned())
    } else {
        Err(ApiError::invalid("locale", "is not a locale"))
    }
}

/// The return URL must lead back to the same Zendesk account, so the saved metadata
/// can never be handed to anyone else.
fn check_return_url(state: &AppState, subdomain: &Subdomain, raw: &str) -> Result<Url, ApiError> {
    let url =
        Url::parse(raw).map_err(|_| ApiError::invalid("return_url", "is not an absolute URL"))?;
    let zendesk = Url::parse(&state.zendesk.base_url(subdomain))
        .map_err(|_| ApiError::invalid("subdomain", "does not make a valid Zendesk URL"))?;
    if url.origin() != zendesk.origin() {
        return Err(ApiError::invalid(
            "return_url",
            "must be on the Zendesk account's own host",
        ));
    }
    Ok(url)
}

/// Sets the headers that let Zendesk, and only Zendesk, frame the page.
fn framed(state: &AppState, return_url: Option<&str>, mut response: HttpResponse) -> HttpResponse {
    let mut ancestors = vec!["https://*.zendesk.com".to_owned()];
    ancestors.extend(state.settings.frame_ancestors.iter().cloned());
    let mut form_targets = vec!["'self'".to_owned(), "https://*.zendesk.com".to_owned()];
    if let Some(origin) = return_url
        .and_then(|u| Url::parse(u).ok())
        .map(|u| u.origin().ascii_serialization())
    {
        form_targets.push(origin);
    }
    let policy = format!(
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; base-uri 'none'; \
         form-action {}; frame-ancestors {}",
        form_targets.join(" "),
        ancestors.join(" ")
    );
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(actix_web::http::header::CONTENT_SECURITY_POLICY, value);
    }
    response.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    response
}

fn error_page(state: &AppState, error: &ApiError) -> HttpResponse {
    let status = error.status_code();
    let message = match error {
        ApiError::Internal(_) => {
            // Logs the cause through the JSON error path, shows nothing of it.
            let _ = error.error_response();
            "Something went wrong on our side. Please try again.".to_owned()
        }
        other => other.to_string(),
    };
    let page = crate::web::MessagePage {
        title: "This settings page could not be shown",
        message: &message,
    };
    framed(state, None, html(status, &page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_lowercased_deduplicated_and_checked() {
        assert_eq!(
            parse_tags("Slack, support slack").ok(),
            Some(vec!["slack".to_owned(), "support".to_owned()])
        );
        assert!(parse_tags("bad<tag>").is_err());
        assert!(
            parse_tags(
                &(0..21)
                    .map(|i| format!("t{i}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            )
            .is_err()
        );
    }

    #[test]
    fn locales_are_short_identifiers() {
        assert!(parse_locale("en-US").is_ok());
        assert!(parse_locale("en US").is_err());
        assert!(parse_locale("").is_err());
    }
}
