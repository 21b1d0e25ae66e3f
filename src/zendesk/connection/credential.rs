//! What a connection holds (sealed as one JSON document) and Zendesk's token endpoint
//! (`POST /oauth/tokens`) for the three grants slackdesk uses: authorization code,
//! refresh token and client credentials (SPEC 3).
//!
//! The token endpoint's answers are read into [`TokenSet`]; its error bodies are reduced
//! to their OAuth `error` code (`invalid_grant`, `invalid_client`, …), never the
//! description.

use std::time::Duration;

use reqwest::{RequestBuilder, StatusCode};
use serde::{Deserialize, Serialize};

use crate::config::Secret;
use crate::domain::Subdomain;
use crate::outbound::{retry_after, transport_code};
use crate::zendesk::{RestError, ZendeskClient};

/// The OAuth scopes slackdesk asks for.
pub const SCOPES: &str = "read write";

/// How slackdesk authenticates to one Zendesk account. Stored sealed; never printed.
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Credential {
    /// Legacy: `{email}/token:{api_token}`. Zendesk deactivates every API token on
    /// 30 April 2027 and has not issued new ones since 27 October 2026.
    ApiToken { email: String, api_token: String },
    /// An OAuth authorization-code grant. Connections made before issue 11 have no
    /// refresh token and cannot be renewed.
    Oauth {
        access_token: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refresh_token: Option<String>,
    },
    /// A confidential OAuth client's own access token, requested again on expiry.
    ClientCredentials {
        client_id: String,
        client_secret: String,
        access_token: String,
    },
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credential::{}(***)", self.kind())
    }
}

impl Credential {
    /// `api_token`, `oauth` or `client_credentials`: the stored kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ApiToken { .. } => "api_token",
            Self::Oauth { .. } => "oauth",
            Self::ClientCredentials { .. } => "client_credentials",
        }
    }

    /// The sealed form.
    pub fn to_secret(&self) -> Secret {
        Secret::new(serde_json::to_string(self).unwrap_or_default())
    }

    pub fn from_secret(secret: &Secret) -> Option<Self> {
        serde_json::from_str(secret.expose()).ok()
    }

    /// Adds this credential's `Authorization` header.
    pub(in crate::zendesk) fn apply(&self, request: RequestBuilder) -> RequestBuilder {
        match self {
            Self::ApiToken { email, api_token } => {
                request.basic_auth(format!("{email}/token"), Some(api_token))
            }
            Self::Oauth { access_token, .. } | Self::ClientCredentials { access_token, .. } => {
                request.bearer_auth(access_token)
            }
        }
    }

    /// The same grant with the tokens Zendesk just issued. A refresh that came back
    /// without a refresh token keeps none (the old one was deleted by Zendesk).
    pub(super) fn renewed(&self, tokens: &TokenSet) -> Self {
        match self {
            Self::ClientCredentials {
                client_id,
                client_secret,
                ..
            } => Self::ClientCredentials {
                client_id: client_id.clone(),
                client_secret: client_secret.clone(),
                access_token: tokens.access_token.expose().to_owned(),
            },
            Self::Oauth { .. } | Self::ApiToken { .. } => Self::Oauth {
                access_token: tokens.access_token.expose().to_owned(),
                refresh_token: tokens.refresh_token.as_ref().map(|t| t.expose().to_owned()),
            },
        }
    }
}

/// What the token endpoint issued. Lifetimes are in seconds, as Zendesk sends them.
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub expires_in: Option<i64>,
    pub refresh_token_expires_in: Option<i64>,
}

/// Why the token endpoint issued nothing.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    /// Zendesk answered with an OAuth error (`invalid_grant`, `invalid_client`, …): the
    /// grant will not work again until a person reconnects.
    #[error("Zendesk refused the grant ({code})")]
    Refused { code: String },
    /// Zendesk could not be asked (down, rate limited, timed out): try again later.
    #[error(transparent)]
    Unavailable(RestError),
}

impl GrantError {
    pub fn code(&self) -> String {
        match self {
            Self::Refused { code } => code.clone(),
            Self::Unavailable(error) => error.code(),
        }
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    refresh_token_expires_in: Option<i64>,
}

#[derive(Deserialize)]
struct OauthErrorBody {
    error: Option<String>,
}

/// OAuth error codes are short ASCII words; anything else is not kept.
fn oauth_error_code(raw: Option<String>, status: StatusCode) -> String {
    raw.filter(|code| {
        !code.is_empty()
            && code.len() <= 64
            && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
    .unwrap_or_else(|| format!("http_{}", status.as_u16()))
}

impl ZendeskClient {
    async fn token_request(
        &self,
        subdomain: &Subdomain,
        body: serde_json::Value,
    ) -> Result<TokenSet, GrantError> {
        let url = format!("{}/oauth/tokens", self.base_url(subdomain));
        let response = self
            .http()
            .post(url)
            .json(&body)
            .send()
            .await
            .map_err(|e| {
                GrantError::Unavailable(RestError::Transient {
                    code: transport_code(&e).into(),
                })
            })?;
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(GrantError::Unavailable(RestError::RateLimited {
                retry_after: retry_after(response.headers()).unwrap_or(Duration::from_secs(60)),
            }));
        }
        if status.is_server_error() {
            return Err(GrantError::Unavailable(RestError::Transient {
                code: format!("http_{}", status.as_u16()),
            }));
        }
        if !status.is_success() {
            let body: Option<OauthErrorBody> = response.json().await.ok();
            return Err(GrantError::Refused {
                code: oauth_error_code(body.and_then(|b| b.error), status),
            });
        }
        let token: TokenResponse = response
            .json()
            .await
            .map_err(|_| GrantError::Unavailable(RestError::BadResponse))?;
        if token.access_token.is_empty() {
            return Err(GrantError::Unavailable(RestError::BadResponse));
        }
        Ok(TokenSet {
            access_token: Secret::new(token.access_token),
            refresh_token: token
                .refresh_token
                .filter(|t| !t.is_empty())
                .map(Secret::new),
            expires_in: token.expires_in.filter(|s| *s > 0),
            refresh_token_expires_in: token.refresh_token_expires_in.filter(|s| *s > 0),
        })
    }

    /// Exchanges an authorization code (`grant_type=authorization_code`).
    pub async fn exchange_code(
        &self,
        subdomain: &Subdomain,
        client_id: &str,
        client_secret: &Secret,
        code: &str,
        redirect_uri: &str,
    ) -> Result<TokenSet, GrantError> {
        let body = serde_json::json!({
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client_id,
            "client_secret": client_secret.expose(),
            "redirect_uri": redirect_uri,
            "scope": SCOPES,
        });
        self.token_request(subdomain, body).await
    }

    /// Trades a refresh token for a new pair (`grant_type=refresh_token`); Zendesk
    /// deletes the old pair when it answers.
    pub(super) async fn refresh_token(
        &self,
        subdomain: &Subdomain,
        client_id: &str,
        client_secret: &Secret,
        refresh_token: &str,
    ) -> Result<TokenSet, GrantError> {
        let body = serde_json::json!({
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
            "client_secret": client_secret.expose(),
            "scope": SCOPES,
        });
        self.token_request(subdomain, body).await
    }

    /// A confidential client's own token (`grant_type=client_credentials`).
    pub(super) async fn client_credentials(
        &self,
        subdomain: &Subdomain,
        client_id: &str,
        client_secret: &Secret,
    ) -> Result<TokenSet, GrantError> {
        let body = serde_json::json!({
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret.expose(),
            "scope": SCOPES,
        });
        self.token_request(subdomain, body).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_print_and_round_trip_sealed() {
        let auth = Credential::ClientCredentials {
            client_id: "cid".into(),
            client_secret: "very-secret".into(),
            access_token: "tok-123".into(),
        };
        let shown = format!("{auth:?}");
        assert!(!shown.contains("tok-123") && !shown.contains("very-secret"));
        let back = Credential::from_secret(&auth.to_secret());
        assert!(
            matches!(back, Some(Credential::ClientCredentials { client_secret, .. }) if client_secret == "very-secret")
        );
    }

    #[test]
    fn connections_stored_before_refresh_tokens_still_open() {
        let old = Secret::from(r#"{"kind":"oauth","access_token":"a1"}"#);
        assert!(matches!(
            Credential::from_secret(&old),
            Some(Credential::Oauth {
                refresh_token: None,
                ..
            })
        ));
        let api = Secret::from(r#"{"kind":"api_token","email":"e","api_token":"t"}"#);
        assert_eq!(
            Credential::from_secret(&api).map(|c| c.kind()),
            Some("api_token")
        );
    }

    #[test]
    fn only_short_oauth_codes_are_kept() {
        let status = StatusCode::BAD_REQUEST;
        assert_eq!(
            oauth_error_code(Some("invalid_grant".into()), status),
            "invalid_grant"
        );
        assert_eq!(
            oauth_error_code(Some("a b <script>".into()), status),
            "http_400"
        );
        assert_eq!(oauth_error_code(None, status), "http_400");
    }
}
