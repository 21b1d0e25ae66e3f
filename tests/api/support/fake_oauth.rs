//! A fake Zendesk OAuth authority on the wiremock server, behaving as Zendesk documents it
//! in 2026 (SPEC 3): `POST /oauth/tokens` for the authorization-code, refresh-token and
//! client-credentials grants; access tokens that expire (lifetimes of seconds here); refresh
//! tokens that rotate (the previous pair is deleted when a refresh succeeds); `invalid_grant`
//! for a used, expired or revoked refresh token, `invalid_client` for a wrong client. Every
//! REST call under `/api/v2/` with a token that is not live gets 401, before any other mock
//! sees it, and `users/me` answers the admin the token belongs to.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Match, Mock, MockServer, Request, Respond, ResponseTemplate};

pub const ADMIN_ID: i64 = 361_576_231_073;
pub const CC_CLIENT_ID: &str = "slackdesk_server";
pub const CC_CLIENT_SECRET: &str = "cc-client-secret-a81f";

#[derive(Debug, Clone)]
struct Access {
    expires: Instant,
}

#[derive(Debug, Clone)]
struct Refresh {
    expires: Instant,
    access: String,
}

#[derive(Debug, Default, Clone)]
pub struct Counts {
    pub code_exchanges: usize,
    pub refreshes: usize,
    /// Refresh requests Zendesk refused (a token already used, expired or revoked).
    pub refused_refreshes: usize,
    pub client_credentials: usize,
    /// Refresh requests held unprocessed (see `State::hold_refreshes`).
    pub held_refreshes: usize,
    /// REST calls answered 401 because their token was expired or unknown.
    pub rejected_calls: usize,
    /// REST calls that went through with a live token.
    pub authorized_calls: usize,
}

pub struct State {
    access: HashMap<String, Access>,
    refresh: HashMap<String, Refresh>,
    codes: Vec<String>,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    /// The OAuth client of the authorization-code flow, and the confidential client.
    oauth_client: (String, String),
    cc_client: (String, String),
    /// Refresh requests are held (not processed) while this is set: a request that is
    /// on its way and has not reached Zendesk's token service yet.
    pub hold_refreshes: Option<Duration>,
    pub counts: Counts,
    next: u64,
}

impl State {
    fn mint(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!(
            "{prefix}-{:06}-{}",
            self.next,
            uuid::Uuid::new_v4().simple()
        )
    }

    fn issue_pair(&mut self) -> Value {
        let access = self.mint("zd-at");
        let refresh = self.mint("zd-rt");
        let now = Instant::now();
        self.access.insert(
            access.clone(),
            Access {
                expires: now + self.access_ttl,
            },
        );
        self.refresh.insert(
            refresh.clone(),
            Refresh {
                expires: now + self.refresh_ttl,
                access: access.clone(),
            },
        );
        json!({
            "access_token": access, "token_type": "bearer", "scope": "read write",
            "expires_in": self.access_ttl.as_secs(),
            "refresh_token": refresh,
            "refresh_token_expires_in": self.refresh_ttl.as_secs(),
        })
    }

    fn issue_access(&mut self) -> Value {
        let access = self.mint("zd-cc");
        self.access.insert(
            access.clone(),
            Access {
                expires: Instant::now() + self.access_ttl,
            },
        );
        json!({"access_token": access, "token_type": "bearer", "scope": "read write",
               "expires_in": self.access_ttl.as_secs()})
    }

    fn live(&self, bearer: &str) -> bool {
        self.access
            .get(bearer)
            .is_some_and(|a| a.expires > Instant::now())
    }
}

/// The authority; clone it freely.
#[derive(Clone)]
pub struct FakeOauth {
    state: Arc<Mutex<State>>,
    subdomain: String,
}

fn oauth_error(status: u16, code: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(
        json!({"error": code, "error_description": "The provided authorization grant is invalid, expired, or revoked."}),
    )
}

fn body_of(request: &Request) -> HashMap<String, String> {
    if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&request.body) {
        return map
            .into_iter()
            .map(|(k, v)| (k, v.as_str().map(str::to_owned).unwrap_or(v.to_string())))
            .collect();
    }
    url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect()
}

fn bearer(request: &Request) -> Option<String> {
    let value = request.headers.get("authorization")?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(|t| t.trim().to_owned())
}

impl FakeOauth {
    /// Mounts the token endpoint, the 401 guard and `users/me` for `subdomain`.
    pub async fn mount(
        server: &MockServer,
        subdomain: &str,
        oauth_client: (&str, &str),
        access_ttl: Duration,
        refresh_ttl: Duration,
    ) -> Self {
        let fake = Self {
            state: Arc::new(Mutex::new(State {
                access: HashMap::new(),
                refresh: HashMap::new(),
                codes: Vec::new(),
                access_ttl,
                refresh_ttl,
                oauth_client: (oauth_client.0.into(), oauth_client.1.into()),
                cc_client: (CC_CLIENT_ID.into(), CC_CLIENT_SECRET.into()),
                hold_refreshes: None,
                counts: Counts::default(),
                next: 0,
            })),
            subdomain: subdomain.into(),
        };
        Mock::given(method("POST"))
            .and(path(format!("/z/{subdomain}/oauth/tokens")))
            .respond_with(TokenEndpoint(fake.clone()))
            .with_priority(1)
            .mount(server)
            .await;
        Mock::given(path_regex(format!("^/z/{subdomain}/api/v2/")))
            .and(NotLive(fake.clone()))
            .respond_with(ResponseTemplate::new(401).set_body_json(
                json!({"error": "invalid_token", "error_description": "The access token provided is expired, revoked, malformed or invalid for other reasons."}),
            ))
            .with_priority(1)
            .mount(server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("/z/{subdomain}/api/v2/users/me.json")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"user": {
                "id": ADMIN_ID, "name": "Ada Admin", "email": "ada@acme.example", "role": "admin"}})))
            .with_priority(2)
            .mount(server)
            .await;
        fake
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// What the token endpoint and the guard counted so far.
    pub fn counts(&self) -> Counts {
        self.state().counts.clone()
    }

    /// An authorization code the admin "approved", for the callback.
    pub fn approve(&self) -> String {
        let mut state = self.state();
        let code = state.mint("zd-code");
        state.codes.push(code.clone());
        code
    }

    /// A token pair as the authorization-code flow would hand out (for tests that store a
    /// connection without going through the browser).
    pub fn issue_pair(&self) -> Value {
        self.state().issue_pair()
    }

    /// Accepts `token` on the REST API for `ttl`: a token Zendesk hands out by another
    /// route, such as the Channel Framework's push token sent with the admin UI.
    pub fn admit(&self, token: &str, ttl: Duration) {
        self.state().access.insert(
            token.to_owned(),
            Access {
                expires: Instant::now() + ttl,
            },
        );
    }

    /// Revokes every token (the admin removed the app's access, or the user was deleted).
    pub fn revoke_all(&self) {
        let mut state = self.state();
        state.access.clear();
        state.refresh.clear();
    }

    /// Expires every access token now (refresh tokens stay).
    pub fn expire_access_tokens(&self) {
        for access in self.state().access.values_mut() {
            access.expires = Instant::now();
        }
    }

    /// Live refresh tokens (one per connection that has not lost its grant).
    pub fn live_refresh_tokens(&self) -> usize {
        let now = Instant::now();
        self.state()
            .refresh
            .values()
            .filter(|r| r.expires > now)
            .count()
    }

    pub fn subdomain(&self) -> &str {
        &self.subdomain
    }
}

struct TokenEndpoint(FakeOauth);

impl Respond for TokenEndpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let form = body_of(request);
        let field = |name: &str| form.get(name).cloned().unwrap_or_default();
        let mut state = self.0.state();
        match field("grant_type").as_str() {
            "authorization_code" => {
                if (field("client_id"), field("client_secret")) != state.oauth_client {
                    return oauth_error(401, "invalid_client");
                }
                let code = field("code");
                let Some(at) = state.codes.iter().position(|c| *c == code) else {
                    return oauth_error(400, "invalid_grant");
                };
                state.codes.remove(at);
                state.counts.code_exchanges += 1;
                ResponseTemplate::new(200).set_body_json(state.issue_pair())
            }
            "refresh_token" => {
                if (field("client_id"), field("client_secret")) != state.oauth_client {
                    return oauth_error(401, "invalid_client");
                }
                if let Some(hold) = state.hold_refreshes {
                    // Not processed: the old pair stays valid.
                    state.counts.held_refreshes += 1;
                    return ResponseTemplate::new(503).set_delay(hold);
                }
                let presented = field("refresh_token");
                let live = state
                    .refresh
                    .get(&presented)
                    .filter(|r| r.expires > Instant::now())
                    .cloned();
                let Some(old) = live else {
                    state.counts.refused_refreshes += 1;
                    return oauth_error(400, "invalid_grant");
                };
                state.refresh.remove(&presented);
                state.access.remove(&old.access);
                state.counts.refreshes += 1;
                ResponseTemplate::new(200).set_body_json(state.issue_pair())
            }
            "client_credentials" => {
                if (field("client_id"), field("client_secret")) != state.cc_client {
                    return oauth_error(401, "invalid_client");
                }
                state.counts.client_credentials += 1;
                ResponseTemplate::new(200).set_body_json(state.issue_access())
            }
            _ => oauth_error(400, "unsupported_grant_type"),
        }
    }
}

/// Matches REST calls whose bearer token is not live (counting both kinds).
struct NotLive(FakeOauth);

impl Match for NotLive {
    fn matches(&self, request: &Request) -> bool {
        let mut state = self.0.state();
        let live = bearer(request).is_some_and(|t| state.live(&t));
        if live {
            state.counts.authorized_calls += 1;
        } else {
            state.counts.rejected_calls += 1;
        }
        !live
    }
}
