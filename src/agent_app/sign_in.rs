//! Signing in from the app through Zendesk OAuth, in a new browser tab:
//!
//! ```text
//!  app: Authorize ──▶ GET /zendesk/app/authorize?subdomain&installation_id ─┐
//!  app: Status board / Routing / App settings                               │
//!       ──▶ GET /zendesk/app/open?subdomain&page ──────────────────────────┤
//!            302 {zendesk}/oauth/authorizations/new ◀──────────────────────┘
//!  Zendesk ──▶ GET /zendesk/app/callback?code&state ──▶ POST /oauth/tokens ──▶ users/me
//!     authorize: connect the account (admin only), check the installation is our app
//!                (its service_url is our PUBLIC_URL), mint the app token, PUT it into the
//!                installation's secure setting, revoke the installation's older tokens
//!     open:      admin only
//!  both ──▶ admin session cookie (the status board's) ──▶ page that continues to the target
//! ```
//!
//! Why a tab and not a frame: the admin session cookie is `SameSite=Strict`, and browsers
//! drop third-party cookies in a cross-site iframe (the app runs on Zendesk's app CDN), so
//! an embedded board could never stay signed in. Who the admin is comes from Zendesk
//! (`users/me` with the token Zendesk just issued), never from the app, so an agent who
//! can script the app cannot open an admin page. The OAuth redirect is a cross-site
//! navigation, on which a Strict cookie is not sent; the callback therefore answers a
//! small page whose own (same-site) navigation carries the new cookie to the target.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::installation;
use super::token;
use crate::config::Secret;
use crate::crypto::tokens::{hash_secret, random_secret, secret_matches};
use crate::domain::{Subdomain, ZendeskUserId};
use crate::state::AppState;
use crate::statuses::board;
use crate::statuses::connect;
use crate::statuses::keys;
use crate::storage::app_sign_ins::{self, PendingSignIn};
use crate::storage::{api_keys, app_tokens};
use crate::web::{ApiError, Form, error_page, html};
use crate::zendesk::ZendeskAuth;
use crate::zendesk::connection::{ConnectionError, Grant};

pub const CALLBACK_PATH: &str = "/zendesk/app/callback";
const STATE_TTL_MS: i64 = 10 * 60_000;
/// The nonce cookie binding a round trip to the browser that started it.
const NONCE_COOKIE: &str = "sd_app_oauth";
const AUTHORIZE: &str = "authorize";

/// Pages an admin can open from the app, and where each lives.
pub const PAGES: [(&str, &str); 4] = [
    ("board", "/zendesk/board"),
    ("routing", "/zendesk/routing"),
    ("settings", super::settings::PATH),
    ("setup", crate::setup::account::PATH),
];

#[derive(Template)]
#[template(path = "app_continue.html")]
struct ContinuePage<'a> {
    title: &'a str,
    message: &'a str,
    next: &'a str,
    link: &'a str,
    auto: bool,
}

fn page(status: StatusCode, title: &str, message: &str) -> HttpResponse {
    let mut response = html(status, &crate::web::MessagePage { title, message });
    no_store(&mut response);
    response
}

fn no_store(response: &mut HttpResponse) {
    response.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
}

/// `GET /zendesk/app/authorize?subdomain=&installation_id=`.
pub(super) async fn authorize(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let started = (|| {
        let form = Form::from_bytes(req.query_string().as_bytes())?;
        let subdomain = Subdomain::parse(form.non_empty("subdomain")?)
            .map_err(|e| ApiError::invalid("subdomain", e.0))?;
        let installation_id = form
            .non_empty("installation_id")?
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(|| ApiError::invalid("installation_id", "must be a positive integer"))?;
        Ok::<_, ApiError>(PendingSignIn {
            browser_hash: String::new(),
            subdomain,
            next_step: AUTHORIZE.into(),
            installation_id: Some(installation_id),
        })
    })();
    match started {
        Ok(pending) => redirect_to_zendesk(&state, pending).await,
        Err(error) => error_page(error),
    }
}

/// `GET /zendesk/app/open?subdomain=&page=board|routing|settings`.
pub(super) async fn open(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let started = (|| {
        let form = Form::from_bytes(req.query_string().as_bytes())?;
        let subdomain = Subdomain::parse(form.non_empty("subdomain")?)
            .map_err(|e| ApiError::invalid("subdomain", e.0))?;
        let wanted = form.non_empty("page")?;
        let (name, _) = PAGES
            .iter()
            .find(|(name, _)| *name == wanted)
            .ok_or_else(|| {
                ApiError::invalid("page", "must be board, routing, settings or setup")
            })?;
        Ok::<_, ApiError>(PendingSignIn {
            browser_hash: String::new(),
            subdomain,
            next_step: (*name).to_owned(),
            installation_id: None,
        })
    })();
    match started {
        Ok(pending) => redirect_to_zendesk(&state, pending).await,
        Err(error) => error_page(error),
    }
}

async fn redirect_to_zendesk(state: &AppState, mut pending: PendingSignIn) -> HttpResponse {
    let Some(client_id) = state.settings.zendesk_client_id.as_deref() else {
        return page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Not configured",
            "ZENDESK_CLIENT_ID and ZENDESK_CLIENT_SECRET are not set on the slackdesk server.",
        );
    };
    let secret = random_secret();
    let nonce = random_secret();
    pending.browser_hash = hash_secret(&nonce);
    let expires = state.clock.now_ms() + STATE_TTL_MS;
    if let Err(error) =
        app_sign_ins::insert_state(&state.db, &hash_secret(&secret), &pending, expires).await
    {
        return error_page(error.into());
    }
    let Ok(mut url) = url::Url::parse(&format!(
        "{}/oauth/authorizations/new",
        state.zendesk.base_url(&pending.subdomain)
    )) else {
        return page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Not configured",
            "ZENDESK_URL_TEMPLATE does not give a valid URL.",
        );
    };
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair(
            "redirect_uri",
            &state.settings.public_url_for(CALLBACK_PATH),
        )
        .append_pair("scope", "read write")
        .append_pair("state", &secret);
    let cookie = Cookie::build(NONCE_COOKIE, nonce)
        .path("/zendesk/app")
        .http_only(true)
        .secure(state.settings.public_url.scheme() == "https")
        .same_site(SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::minutes(10))
        .finish();
    HttpResponse::Found()
        .insert_header(("Location", url.as_str()))
        .insert_header(("Cache-Control", "no-store"))
        .cookie(cookie)
        .finish()
}

enum Failure {
    Refused(&'static str),
    NotAdmin,
    NotOurApp,
    Upstream(String),
    Internal(ApiError),
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        Self::Internal(error)
    }
}

impl From<crate::storage::StorageError> for Failure {
    fn from(error: crate::storage::StorageError) -> Self {
        Self::Internal(error.into())
    }
}

/// `GET /zendesk/app/callback?code&state`.
pub(super) async fn callback(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    match finish(&state, &req).await {
        Ok(mut response) => {
            no_store(&mut response);
            response
        }
        Err(Failure::Refused(message)) => page(StatusCode::BAD_REQUEST, "Not signed in", message),
        Err(Failure::NotAdmin) => page(
            StatusCode::FORBIDDEN,
            "Not signed in",
            "Only a Zendesk admin of this account can do this.",
        ),
        Err(Failure::NotOurApp) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Not authorized",
            "That app installation is not the slackdesk app built for this server (its slackdesk address differs). Start again from the slackdesk app in Zendesk.",
        ),
        Err(Failure::Upstream(code)) => {
            tracing::warn!(code = %code, "app sign-in through Zendesk failed");
            page(
                StatusCode::BAD_GATEWAY,
                "Not signed in",
                "Zendesk did not complete the sign-in; please try again.",
            )
        }
        Err(Failure::Internal(error)) => error_page(error),
    }
}

async fn finish(state: &AppState, req: &HttpRequest) -> Result<HttpResponse, Failure> {
    let form = Form::from_bytes(req.query_string().as_bytes())
        .map_err(|_| Failure::Refused("The link is malformed."))?;
    let field = |name| form.optional(name).ok().flatten().filter(|v| !v.is_empty());
    let secret = field("state").ok_or(Failure::Refused("The link is malformed."))?;
    let pending = app_sign_ins::take_state(&state.db, &hash_secret(secret), state.clock.now_ms())
        .await?
        .ok_or(Failure::Refused(
            "This link expired or was already used; start again from the app.",
        ))?;
    let same_browser = req
        .cookie(NONCE_COOKIE)
        .is_some_and(|c| secret_matches(c.value(), &pending.browser_hash));
    if !same_browser {
        return Err(Failure::Refused(
            "This sign-in was started in another browser; start again from the app.",
        ));
    }
    if field("error").is_some() {
        return Err(Failure::Refused("Zendesk did not authorize slackdesk."));
    }
    let code = field("code").ok_or(Failure::Refused("The link is malformed."))?;
    let (Some(client_id), Some(client_secret)) = (
        state.settings.zendesk_client_id.as_deref(),
        state.settings.zendesk_client_secret.as_ref(),
    ) else {
        return Err(Failure::Refused("Zendesk OAuth is not configured."));
    };
    let subdomain = pending.subdomain.clone();
    let tokens = state
        .zendesk
        .exchange_code(
            &subdomain,
            client_id,
            client_secret,
            code,
            &state.settings.public_url_for(CALLBACK_PATH),
        )
        .await
        .map_err(|e| Failure::Upstream(e.code()))?;
    let access = tokens.access_token.clone();
    let auth = ZendeskAuth::bearer(&access);
    if pending.next_step == AUTHORIZE {
        let installation_id = pending
            .installation_id
            .ok_or(Failure::Refused("The link is malformed."))?;
        // Checked before anything is stored: a refused authorization changes nothing.
        let me = state
            .zendesk
            .me(&subdomain, &auth)
            .await
            .map_err(|e| Failure::Upstream(e.code()))?;
        if me.role != "admin" {
            return Err(Failure::NotAdmin);
        }
        if let Err(error) =
            installation::check_is_ours(state, &subdomain, &auth, installation_id).await
        {
            tracing::warn!(subdomain = %subdomain, installation_id, code = %error.0, "app not authorized: not our installation");
            return Err(Failure::NotOurApp);
        }
        let grant = Grant::AuthorizationCode(tokens);
        let admin = match connect::connect(state, &subdomain, grant).await {
            Ok(report) => report
                .connected_as
                .ok_or(Failure::Upstream("no_user".into()))?,
            Err(ConnectionError::NotAdmin) => return Err(Failure::NotAdmin),
            Err(ConnectionError::Zendesk(e)) => return Err(Failure::Upstream(e.code())),
            Err(ConnectionError::Refused(code)) => return Err(Failure::Upstream(code)),
            Err(other) => return Err(Failure::Internal(ApiError::internal(other))),
        };
        install_token(state, &subdomain, access.expose(), installation_id, admin).await?;
        let cookie = admin_session(state, &subdomain, admin).await?;
        let mut response = html(
            StatusCode::OK,
            &ContinuePage {
                title: "slackdesk is authorized",
                message: "The app now reaches slackdesk through Zendesk. Close this tab and go back to Zendesk.",
                next: super::settings::PATH,
                link: "Choose who may use the app",
                auto: false,
            },
        );
        response.add_cookie(&cookie).map_err(ApiError::internal)?;
        return Ok(response);
    }
    let me = state
        .zendesk
        .me(&subdomain, &auth)
        .await
        .map_err(|e| Failure::Upstream(e.code()))?;
    if me.role != "admin" {
        return Err(Failure::NotAdmin);
    }
    let next = PAGES
        .iter()
        .find(|(name, _)| *name == pending.next_step)
        .map_or(board::PATH, |(_, path)| path);
    connect_if_unconnected(state, &subdomain, Grant::AuthorizationCode(tokens)).await;
    let cookie = admin_session(state, &subdomain, me.id).await?;
    tracing::info!(subdomain = %subdomain, user_id = me.id.get(), page = %pending.next_step, "admin signed in from the app");
    let mut response = html(
        StatusCode::OK,
        &ContinuePage {
            title: "Signed in",
            message: "Opening the page…",
            next,
            link: "Continue",
            auto: true,
        },
    );
    response.add_cookie(&cookie).map_err(ApiError::internal)?;
    Ok(response)
}

/// Mints a token, writes it into the installation's secure setting, and only then
/// revokes the installation's older tokens (a failed write leaves the old one working).
async fn install_token(
    state: &AppState,
    subdomain: &Subdomain,
    access_token: &str,
    installation_id: i64,
    admin: ZendeskUserId,
) -> Result<(), Failure> {
    let auth = ZendeskAuth::bearer(&Secret::from(access_token));
    if let Err(error) = installation::check_is_ours(state, subdomain, &auth, installation_id).await
    {
        tracing::warn!(subdomain = %subdomain, installation_id, code = %error.0, "app not authorized: not our installation");
        return Err(Failure::NotOurApp);
    }
    let now = state.clock.now_ms();
    let minted = token::mint(&state.db, subdomain, installation_id, admin, now).await?;
    if let Err(error) = installation::write_token(
        state,
        subdomain,
        access_token,
        installation_id,
        &minted.token,
    )
    .await
    {
        app_tokens::delete(&state.db, &minted.prefix).await?;
        return Err(Failure::Upstream(error.0));
    }
    let revoked =
        app_tokens::revoke_others(&state.db, subdomain, installation_id, &minted.prefix, now)
            .await?;
    tracing::info!(
        subdomain = %subdomain,
        installation_id,
        token_prefix = %minted.prefix,
        revoked,
        user_id = admin.get(),
        "app authorized"
    );
    Ok(())
}

/// An admin session for `admin` (the status board's cookie), acting as a status API key
/// kept for this admin; the key's secret is never stored or shown.
/// An admin who signs in while the account has no working REST connection (none yet, or
/// one that needs reconnecting) connects it with the same grant, so day one needs one
/// Zendesk consent, not two. A working connection is never replaced; a failure here
/// only means the admin connects from the page, as before.
async fn connect_if_unconnected(state: &AppState, subdomain: &Subdomain, grant: Grant) {
    let unconnected = match state.connections.notice(subdomain).await {
        Ok(notice) => notice.not_connected() || notice.needs_reconnect(),
        Err(_) => false,
    };
    if !unconnected {
        return;
    }
    match connect::connect(state, subdomain, grant).await {
        Ok(_) => tracing::info!(subdomain = %subdomain, "Zendesk REST connection made at sign-in"),
        Err(error) => {
            tracing::warn!(subdomain = %subdomain, error = %crate::web::error_chain(&error), "Zendesk REST connection not made at sign-in; the admin can connect from the page");
        }
    }
}

async fn admin_session(
    state: &AppState,
    subdomain: &Subdomain,
    admin: ZendeskUserId,
) -> Result<actix_web::cookie::Cookie<'static>, Failure> {
    let existing = match app_sign_ins::admin_key(&state.db, subdomain, admin).await? {
        Some(prefix) => api_keys::find_active(&state.db, &prefix)
            .await?
            .filter(|key| key.subdomain == *subdomain && key.owner == admin)
            .map(|key| key.prefix),
        None => None,
    };
    let prefix = match existing {
        Some(prefix) => prefix,
        None => {
            let created = keys::create(&state.db, subdomain, admin, state.clock.now_ms()).await?;
            app_sign_ins::set_admin_key(&state.db, subdomain, admin, &created.prefix).await?;
            created.prefix
        }
    };
    Ok(board::start_session(state, &prefix).await?)
}
