//! `names`: agents' and views' names for the pages, read live from Zendesk by id and kept in memory
//! for at most ten minutes. Never stored and never logged: the database and the logs hold
//! the ids only, and a page falls back to the id when Zendesk cannot say.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;

use super::{Connections, ZendeskClient};
use crate::bridge::content::Expiring;
use crate::domain::Subdomain;

/// How long a name is kept in memory.
const NAME_TTL: Duration = Duration::from_secs(10 * 60);
/// Most names kept in memory, across accounts.
const NAME_CAPACITY: usize = 20_000;
/// Most accounts whose views are kept in memory.
const VIEWS_CAPACITY: usize = 1_000;
/// Pages of views read (100 each).
const VIEW_PAGES: usize = 10;
/// Zendesk's `show_many` takes at most 100 ids.
const SHOW_MANY_MAX: usize = 100;

/// The agents' names seen lately, by `{subdomain}:{user id}` (`None`: Zendesk gave no
/// name, so it is not asked again for a while either).
pub struct Names {
    names: Mutex<Expiring<Option<String>>>,
    /// Each subdomain's active views (id, title), by subdomain.
    views: Mutex<Expiring<Vec<(i64, String)>>>,
}

/// Never shows the names it holds.
impl std::fmt::Debug for Names {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Names").finish_non_exhaustive()
    }
}

impl Default for Names {
    fn default() -> Self {
        Self {
            names: Mutex::new(Expiring::new(NAME_TTL, NAME_CAPACITY)),
            views: Mutex::new(Expiring::new(NAME_TTL, VIEWS_CAPACITY)),
        }
    }
}

#[derive(Deserialize)]
struct UsersPage {
    #[serde(default)]
    users: Vec<UserCard>,
}

#[derive(Deserialize)]
struct ViewsPage {
    #[serde(default)]
    views: Vec<ViewCard>,
    #[serde(default)]
    next_page: Option<String>,
}

#[derive(Deserialize)]
struct ViewCard {
    id: i64,
    #[serde(default)]
    title: Option<String>,
}

#[derive(Deserialize)]
struct UserCard {
    id: i64,
    #[serde(default)]
    name: Option<String>,
}

fn key(subdomain: &Subdomain, id: i64) -> String {
    format!("{subdomain}:{id}")
}

impl Names {
    /// The names of `ids` that are known, from memory or read from Zendesk
    /// (`GET /api/v2/users/show_many.json`). A failure leaves names out; pages show ids.
    pub async fn names(
        &self,
        zendesk: &ZendeskClient,
        connections: &Connections,
        subdomain: &Subdomain,
        ids: &[i64],
    ) -> HashMap<i64, String> {
        let mut found = HashMap::new();
        let mut missing = Vec::new();
        if let Ok(names) = self.names.lock() {
            for &id in ids {
                match names.get(&key(subdomain, id)) {
                    Some(Some(name)) => {
                        found.insert(id, name);
                    }
                    Some(None) => {}
                    None if !missing.contains(&id) => missing.push(id),
                    None => {}
                }
            }
        }
        if missing.is_empty() {
            return found;
        }
        let Ok(auth) = connections.open(subdomain).await else {
            return found;
        };
        for chunk in missing.chunks(SHOW_MANY_MAX) {
            match fetch(zendesk, &auth, subdomain, chunk).await {
                Ok(cards) => self.remember(subdomain, chunk, cards, &mut found),
                Err(error) => {
                    tracing::info!(subdomain = %subdomain, code = %error.code(), "agents' names unavailable; showing ids");
                    break;
                }
            }
        }
        found
    }

    /// The subdomain's active views as (id, title), sorted by title, from memory or read
    /// from Zendesk (`GET /api/v2/views/active.json`); empty when Zendesk cannot say.
    pub async fn views(
        &self,
        zendesk: &ZendeskClient,
        connections: &Connections,
        subdomain: &Subdomain,
    ) -> Vec<(i64, String)> {
        if let Some(views) = self
            .views
            .lock()
            .ok()
            .and_then(|v| v.get(subdomain.as_str()))
        {
            return views;
        }
        let Ok(auth) = connections.open(subdomain).await else {
            return Vec::new();
        };
        match fetch_views(zendesk, &auth, subdomain).await {
            Ok(mut views) => {
                views.sort_by_key(|view| view.1.to_lowercase());
                if let Ok(mut cache) = self.views.lock() {
                    cache.put(subdomain.to_string(), views.clone());
                }
                views
            }
            Err(error) => {
                tracing::info!(subdomain = %subdomain, code = %error.code(), "views unavailable; the form asks for an id");
                Vec::new()
            }
        }
    }

    fn remember(
        &self,
        subdomain: &Subdomain,
        asked: &[i64],
        cards: Vec<UserCard>,
        found: &mut HashMap<i64, String>,
    ) {
        let Ok(mut names) = self.names.lock() else {
            return;
        };
        for card in cards {
            if let Some(name) = card.name.filter(|n| !n.trim().is_empty()) {
                found.insert(card.id, name);
            }
        }
        for &id in asked {
            names.put(key(subdomain, id), found.get(&id).cloned());
        }
    }
}

async fn fetch(
    zendesk: &ZendeskClient,
    auth: &super::ZendeskAuth,
    subdomain: &Subdomain,
    ids: &[i64],
) -> Result<Vec<UserCard>, super::RestError> {
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let url = format!(
        "{}/api/v2/users/show_many.json?ids={list}",
        zendesk.base_url(subdomain)
    );
    let page: UsersPage = zendesk.get_json(&url, auth).await?;
    Ok(page.users)
}

async fn fetch_views(
    zendesk: &ZendeskClient,
    auth: &super::ZendeskAuth,
    subdomain: &Subdomain,
) -> Result<Vec<(i64, String)>, super::RestError> {
    let base = zendesk.base_url(subdomain);
    let mut url = format!("{base}/api/v2/views/active.json?per_page=100");
    let mut views = Vec::new();
    for _ in 0..VIEW_PAGES {
        let page: ViewsPage = zendesk.get_json(&url, auth).await?;
        views.extend(
            page.views
                .into_iter()
                .map(|v| (v.id, v.title.unwrap_or_else(|| format!("view {}", v.id)))),
        );
        match page.next_page {
            // Only pages of the same account are followed.
            Some(next) if next.starts_with(&base) => url = next,
            _ => break,
        }
    }
    Ok(views)
}
