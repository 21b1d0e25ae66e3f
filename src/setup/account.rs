//! `GET /zendesk/setup`: the signed-in part of the setup checklist, for the admin's own
//! Zendesk account: its REST connection and when it expires, integration accounts,
//! Slack workspaces and channels, agents, keys, queues and the webhooks slackdesk made in
//! Zendesk (asked at most once a minute), each step linking to the page that does it.
//! Counts and states only; never a name or a secret.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::routing::hooks::{HOME_MAX_AGE_MS, HookStatus, State, statuses};
use crate::state::AppState;
use crate::statuses::board::{admin_page, session, to_sign_in};
use crate::storage::setup_counts::{AccountCounts, account_counts};
use crate::web::{ApiError, html};
use crate::zendesk::connection::ConnectionNotice;

pub const PATH: &str = "/zendesk/setup";

#[derive(Template)]
#[template(path = "account_setup.html")]
struct AccountSetupPage<'a> {
    subdomain: &'a str,
    counts: AccountCounts,
    connection: Option<ConnectionNotice>,
    public_url: &'a str,
    /// The webhooks and triggers slackdesk makes in Zendesk, as Zendesk has them.
    hooks: Vec<HookStatus>,
}

impl AccountSetupPage<'_> {
    /// Every webhook that is needed is present in Zendesk (or set up by hand).
    fn hooks_done(&self) -> bool {
        self.hooks
            .iter()
            .all(|h| !h.needed || matches!(h.state, State::Present | State::ByHand))
    }

    fn connected(&self) -> bool {
        self.connection
            .as_ref()
            .is_some_and(|c| !c.not_connected() && !c.needs_reconnect())
    }
}

/// `GET /zendesk/setup`: the account's checklist (the sign-in page when not signed in).
pub async fn show(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let Some((caller, _)) = session(&state, &req).await? else {
        return Ok(to_sign_in());
    };
    let page = AccountSetupPage {
        subdomain: caller.subdomain.as_str(),
        counts: account_counts(&state.db, &caller.subdomain).await?,
        connection: state.connections.notice(&caller.subdomain).await.ok(),
        public_url: state.settings.public_url.as_str().trim_end_matches('/'),
        hooks: statuses(&state, &caller.subdomain, HOME_MAX_AGE_MS).await?,
    };
    Ok(admin_page(&state, html(StatusCode::OK, &page)))
}
