//! `names`: agents', views' and groups' names for the pages, read live from Zendesk by id and kept in memory
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
    /// Each subdomain's groups (id, name), by subdomain.
    groups: Mutex<Expiring<Vec<(i64, String)>>>,
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
            groups: Mutex::new(Expiring::new(NAME_TTL, VIEWS_CAPACITY)),
        }
    }
}

#[derive(Deserialize)]
struct UsersPage {
    #[serde(default)]
    users: Vec<UserCard>,
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
        self.listed(&self.views, Listing::VIEWS, zendesk, connections, subdomain)
            .await
    }

    /// The subdomain's groups as (id, name), sorted by name, from memory or read from
    /// Zendesk (`GET /api/v2/groups.json`, deleted ones left out); empty when Zendesk
    /// cannot say.
    pub async fn groups(
        &self,
        zendesk: &ZendeskClient,
        connections: &Connections,
        subdomain: &Subdomain,
    ) -> Vec<(i64, String)> {
        self.listed(
            &self.groups,
            Listing::GROUPS,
            zendesk,
            connections,
            subdomain,
        )
        .await
    }

    async fn listed(
        &self,
        cache: &Mutex<Expiring<Vec<(i64, String)>>>,
        listing: Listing,
        zendesk: &ZendeskClient,
        connections: &Connections,
        subdomain: &Subdomain,
    ) -> Vec<(i64, String)> {
        if let Some(found) = cache.lock().ok().and_then(|v| v.get(subdomain.as_str())) {
            return found;
        }
        let Ok(auth) = connections.open(subdomain).await else {
            return Vec::new();
        };
        match fetch_listing(zendesk, &auth, subdomain, listing).await {
            Ok(mut found) => {
                found.sort_by_key(|item| item.1.to_lowercase());
                if let Ok(mut cache) = cache.lock() {
                    cache.put(subdomain.to_string(), found.clone());
                }
                found
            }
            Err(error) => {
                tracing::info!(subdomain = %subdomain, list = listing.key, code = %error.code(), "list unavailable; the form asks for ids");
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

/// A Zendesk list read for a picker: where it is, its key in the answer, and which
/// field names an item.
#[derive(Debug, Clone, Copy)]
struct Listing {
    path: &'static str,
    key: &'static str,
    label: &'static str,
    noun: &'static str,
}

impl Listing {
    const VIEWS: Self = Self {
        path: "/api/v2/views/active.json",
        key: "views",
        label: "title",
        noun: "view",
    };
    const GROUPS: Self = Self {
        path: "/api/v2/groups.json",
        key: "groups",
        label: "name",
        noun: "group",
    };
}

async fn fetch_listing(
    zendesk: &ZendeskClient,
    auth: &super::ZendeskAuth,
    subdomain: &Subdomain,
    listing: Listing,
) -> Result<Vec<(i64, String)>, super::RestError> {
    let base = zendesk.base_url(subdomain);
    let mut url = format!("{base}{}?per_page=100", listing.path);
    let mut items = Vec::new();
    for _ in 0..VIEW_PAGES {
        let page: serde_json::Value = zendesk.get_json(&url, auth).await?;
        let listed = page[listing.key].as_array().cloned().unwrap_or_default();
        items.extend(listed.iter().filter_map(|item| {
            let id = item["id"].as_i64()?;
            if item["deleted"].as_bool() == Some(true) {
                return None;
            }
            let label = item[listing.label]
                .as_str()
                .filter(|l| !l.trim().is_empty())
                .map_or_else(|| format!("{} {id}", listing.noun), str::to_owned);
            Some((id, label))
        }));
        match page["next_page"].as_str() {
            // Only pages of the same account are followed.
            Some(next) if next.starts_with(&base) => url = next.to_owned(),
            _ => break,
        }
    }
    Ok(items)
}
