//! Typed configuration: every setting is an environment variable and a flag (clap `env`).
//!
//! Values are parsed into their final types here, so a bad value stops start-up with one
//! line naming the variable. Secrets live in [`Secret`], which never prints.

mod secret;

pub use secret::Secret;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use url::Url;

/// Where the database lives; `sqlite://` or `postgres://`.
#[derive(Args, Debug, Clone)]
pub struct DatabaseSettings {
    /// Database URL: `sqlite://path/to/file.db` (created if missing, WAL mode) or
    /// `postgres://user@host/db` (for several replicas sharing one database).
    #[arg(
        long,
        env = "DATABASE_URL",
        hide_env_values = true,
        value_name = "DATABASE_URL",
        default_value = "sqlite://./data/slackdesk.db",
        value_parser = parse_database_url
    )]
    pub database_url: Secret,

    /// Most connections the pool keeps open.
    #[arg(
        long,
        env = "DATABASE_MAX_CONNECTIONS",
        value_name = "DATABASE_MAX_CONNECTIONS",
        default_value_t = 10
    )]
    pub database_max_connections: u32,
}

/// The key ring that encrypts stored credentials.
#[derive(Args, Debug, Clone)]
pub struct KeySettings {
    /// Key ring `id:base64key,id2:base64key2`; the first key encrypts, all of them decrypt.
    /// Keys are 32 random bytes (`slackdesk keys generate`).
    #[arg(
        long,
        env = "SLACKDESK_KEYS",
        hide_env_values = true,
        value_name = "SLACKDESK_KEYS"
    )]
    pub keys: Option<Secret>,

    /// File holding the key ring in the same format, used when `SLACKDESK_KEYS` is unset.
    /// When neither is set, `data/master.key` is used and created on first start.
    #[arg(long, env = "SLACKDESK_KEY_FILE", value_name = "SLACKDESK_KEY_FILE")]
    pub key_file: Option<PathBuf>,
}

/// Everything `slackdesk serve` needs.
#[derive(Args, Debug, Clone)]
pub struct Settings {
    /// Public base URL Zendesk and Slack reach this service at (https in production).
    /// Every URL in `/manifest.json` is built from it.
    #[arg(
        long,
        env = "PUBLIC_URL",
        value_name = "PUBLIC_URL",
        default_value = "http://localhost:8080",
        value_parser = parse_public_url
    )]
    pub public_url: Url,

    /// Address and port to listen on.
    #[arg(
        long,
        env = "BIND",
        value_name = "BIND",
        default_value = "127.0.0.1:8080",
        value_parser = parse_bind
    )]
    pub bind: SocketAddr,

    #[command(flatten)]
    pub database: DatabaseSettings,

    #[command(flatten)]
    pub keys: KeySettings,

    /// Slack app client id (OAuth install).
    #[arg(long, env = "SLACK_CLIENT_ID", value_name = "SLACK_CLIENT_ID")]
    pub slack_client_id: Option<String>,

    /// Slack app client secret (OAuth install).
    #[arg(
        long,
        env = "SLACK_CLIENT_SECRET",
        hide_env_values = true,
        value_name = "SLACK_CLIENT_SECRET"
    )]
    pub slack_client_secret: Option<Secret>,

    /// Slack signing secret that signs Events API requests.
    #[arg(
        long,
        env = "SLACK_SIGNING_SECRET",
        hide_env_values = true,
        value_name = "SLACK_SIGNING_SECRET"
    )]
    pub slack_signing_secret: Option<Secret>,

    /// Base URL of Slack's Web API (no trailing slash).
    #[arg(
        long,
        env = "SLACK_API_URL",
        value_name = "SLACK_API_URL",
        default_value = "https://slack.com/api",
        value_parser = parse_base_url
    )]
    pub slack_api_url: Url,

    /// Slack's OAuth v2 authorize page.
    #[arg(
        long,
        env = "SLACK_OAUTH_URL",
        value_name = "SLACK_OAUTH_URL",
        default_value = "https://slack.com/oauth/v2/authorize",
        value_parser = parse_base_url
    )]
    pub slack_oauth_url: Url,

    /// Zendesk base URL for a subdomain; `{subdomain}` is replaced.
    #[arg(
        long,
        env = "ZENDESK_URL_TEMPLATE",
        value_name = "ZENDESK_URL_TEMPLATE",
        default_value = "https://{subdomain}.zendesk.com",
        value_parser = parse_zendesk_template
    )]
    pub zendesk_url_template: ZendeskUrlTemplate,

    /// Zendesk global OAuth client id; when set the manifest announces push delivery.
    #[arg(
        long,
        env = "ZENDESK_PUSH_CLIENT_ID",
        value_name = "ZENDESK_PUSH_CLIENT_ID",
        value_parser = parse_push_client_id
    )]
    pub zendesk_push_client_id: Option<String>,

    /// Extra origins allowed to frame the admin UI besides `https://*.zendesk.com`
    /// (comma separated), e.g. a Zendesk host on a custom domain.
    #[arg(
        long,
        env = "FRAME_ANCESTORS",
        value_name = "FRAME_ANCESTORS",
        value_delimiter = ',',
        value_parser = parse_origin
    )]
    pub frame_ancestors: Vec<String>,

    /// Largest request body accepted, in bytes; larger ones get 413.
    #[arg(
        long,
        env = "MAX_BODY_BYTES",
        value_name = "MAX_BODY_BYTES",
        default_value_t = 1024 * 1024
    )]
    pub max_body_bytes: usize,

    /// Do not run background workers in this process (for replicas that only serve HTTP).
    #[arg(
        long,
        env = "SLACKDESK_NO_WORKERS",
        value_name = "SLACKDESK_NO_WORKERS",
        num_args = 0..=1,
        default_value = "false",
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub no_workers: bool,

    /// How often the delivery worker looks for work when nothing wakes it, in milliseconds.
    #[arg(
        long,
        env = "WORKER_POLL_MS",
        value_name = "WORKER_POLL_MS",
        default_value_t = 1000
    )]
    pub worker_poll_ms: u64,

    /// Status API: requests each API key may make per second; more get 429.
    /// Counted per process (each replica allows this many).
    #[arg(
        long,
        env = "STATUS_API_PER_SECOND",
        value_name = "STATUS_API_PER_SECOND",
        default_value_t = 10
    )]
    pub status_api_per_second: u32,

    /// Status API: requests each API key may make per UTC day; more get 429 until
    /// midnight UTC. Counted in the database, so shared by all replicas.
    #[arg(
        long,
        env = "STATUS_API_PER_DAY",
        value_name = "STATUS_API_PER_DAY",
        default_value_t = 10_000
    )]
    pub status_api_per_day: u32,

    /// Zendesk OAuth client id ("unique identifier") for `GET /zendesk/connect`.
    #[arg(long, env = "ZENDESK_CLIENT_ID", value_name = "ZENDESK_CLIENT_ID")]
    pub zendesk_client_id: Option<String>,

    /// Zendesk OAuth client secret for `GET /zendesk/connect`.
    #[arg(
        long,
        env = "ZENDESK_CLIENT_SECRET",
        hide_env_values = true,
        value_name = "ZENDESK_CLIENT_SECRET"
    )]
    pub zendesk_client_secret: Option<Secret>,

    /// Id of the Zendesk app that `notify_app` notifies (`POST /api/v2/apps/notify`);
    /// unset, no notification is sent.
    #[arg(long, env = "ZENDESK_APP_ID", value_name = "ZENDESK_APP_ID")]
    pub zendesk_app_id: Option<i64>,

    /// How often connected Zendesk accounts' agents are synced again, in seconds.
    #[arg(
        long,
        env = "AGENT_SYNC_INTERVAL_SECS",
        value_name = "AGENT_SYNC_INTERVAL_SECS",
        default_value_t = 3600
    )]
    pub agent_sync_interval_secs: u64,

    /// Timeout for every call to Slack or Zendesk, in seconds.
    #[arg(
        long,
        env = "HTTP_TIMEOUT_SECS",
        value_name = "HTTP_TIMEOUT_SECS",
        default_value_t = 10
    )]
    pub http_timeout_secs: u64,
}

impl Settings {
    /// Absolute URL of one of our own paths (`path` starts with `/`).
    pub fn public_url_for(&self, path: &str) -> String {
        let base = self.public_url.as_str().trim_end_matches('/');
        format!("{base}{path}")
    }

    /// The Zendesk push client id, when one is configured (an empty value is none).
    pub fn push_client_id(&self) -> Option<&str> {
        self.zendesk_push_client_id
            .as_deref()
            .filter(|id| !id.is_empty())
    }

    pub fn worker_poll_interval(&self) -> Duration {
        Duration::from_millis(self.worker_poll_ms.max(10))
    }

    pub fn http_timeout(&self) -> Duration {
        Duration::from_secs(self.http_timeout_secs.max(1))
    }
}

/// `https://{subdomain}.zendesk.com`, checked to contain the placeholder once.
#[derive(Debug, Clone)]
pub struct ZendeskUrlTemplate(String);

impl ZendeskUrlTemplate {
    /// The base URL of one Zendesk account, without a trailing slash.
    pub fn for_subdomain(&self, subdomain: &crate::domain::Subdomain) -> String {
        self.0
            .replace("{subdomain}", subdomain.as_str())
            .trim_end_matches('/')
            .to_owned()
    }

    /// The CSP source matching every account's Zendesk, for a page whose form leads
    /// there ("Sign in with Zendesk"): `https://*.zendesk.com` for the default template,
    /// the origin with a wildcard host for a template whose host holds the subdomain,
    /// else the template's fixed origin (a test or proxy).
    pub fn csp_source(&self) -> String {
        let Ok(url) = Url::parse(&self.0.replace("{subdomain}", "sub")) else {
            return "'none'".to_owned();
        };
        let host = url.host_str().unwrap_or_default();
        let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
        if self.0.contains("://{subdomain}.") {
            let rest = host.strip_prefix("sub.").unwrap_or(host);
            format!("{}://*.{rest}{port}", url.scheme())
        } else {
            format!("{}://{host}{port}", url.scheme())
        }
    }
}

fn parse_zendesk_template(raw: &str) -> Result<ZendeskUrlTemplate, String> {
    if raw.matches("{subdomain}").count() != 1 {
        return Err("ZENDESK_URL_TEMPLATE must contain {subdomain} exactly once".into());
    }
    let probe = raw.replace("{subdomain}", "probe");
    parse_base_url(&probe).map_err(|e| format!("ZENDESK_URL_TEMPLATE: {e}"))?;
    Ok(ZendeskUrlTemplate(raw.to_owned()))
}

fn parse_base_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw).map_err(|e| format!("not an absolute URL ({e})"))?;
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(format!("scheme must be http or https, not {other}")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("URL has no host".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("URL must not have a query or fragment".into());
    }
    Ok(url)
}

/// Our own pages link to root paths, so the public URL is an origin without a path.
fn parse_public_url(raw: &str) -> Result<Url, String> {
    let url = parse_base_url(raw)?;
    if url.path() != "/" {
        return Err("must be an origin without a path, like https://slackdesk.example.com".into());
    }
    Ok(url)
}

/// Zendesk allows 1 to 128 characters; an empty value means "not set" (see
/// [`Settings::push_client_id`]).
fn parse_push_client_id(raw: &str) -> Result<String, String> {
    let value = raw.trim();
    if value.len() > 128 {
        return Err("must be at most 128 characters".into());
    }
    Ok(value.to_owned())
}

fn parse_bind(raw: &str) -> Result<SocketAddr, String> {
    raw.parse()
        .map_err(|_| "must be an IP address and port, like 127.0.0.1:8080".to_owned())
}

fn parse_origin(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    let url = parse_base_url(trimmed)?;
    if url.path() != "/" {
        return Err("an origin has no path".into());
    }
    Ok(url.origin().ascii_serialization())
}

fn parse_database_url(raw: &str) -> Result<Secret, String> {
    if raw.starts_with("sqlite:")
        || raw.starts_with("postgres://")
        || raw.starts_with("postgresql://")
    {
        Ok(Secret::new(raw.to_owned()))
    } else {
        Err("must start with sqlite: or postgres://".into())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn template_needs_the_placeholder_once() {
        assert!(parse_zendesk_template("https://zendesk.example").is_err());
        assert!(parse_zendesk_template("https://{subdomain}.{subdomain}.x").is_err());
        assert!(parse_zendesk_template("http://127.0.0.1:9/{subdomain}").is_ok());
    }

    #[test]
    fn the_sign_in_forms_may_lead_to_every_accounts_zendesk_and_nowhere_else() {
        let source = |raw: &str| parse_zendesk_template(raw).unwrap().csp_source();
        assert_eq!(
            source("https://{subdomain}.zendesk.com"),
            "https://*.zendesk.com"
        );
        assert_eq!(
            source("http://127.0.0.1:9/z/{subdomain}"),
            "http://127.0.0.1:9"
        );
        assert_eq!(
            source("https://{subdomain}.zd.example:8443"),
            "https://*.zd.example:8443"
        );
    }

    #[test]
    fn origins_are_normalised_and_paths_refused() {
        assert_eq!(
            parse_origin(" https://help.example.com ").as_deref(),
            Ok("https://help.example.com")
        );
        assert!(parse_origin("https://help.example.com/x").is_err());
        assert!(parse_origin("ftp://x").is_err());
    }

    #[test]
    fn public_url_is_an_origin() {
        assert!(parse_public_url("https://slackdesk.example.com").is_ok());
        assert!(parse_public_url("https://slackdesk.example.com/").is_ok());
        assert!(parse_public_url("https://example.com/slackdesk").is_err());
    }

    #[test]
    fn an_empty_push_client_id_is_unset() {
        assert_eq!(parse_push_client_id(" abc "), Ok("abc".into()));
        assert!(parse_push_client_id(&"a".repeat(129)).is_err());
        let settings = test_settings(&["--zendesk-push-client-id", " "]);
        assert_eq!(settings.push_client_id(), None);
        let settings = test_settings(&["--zendesk-push-client-id", "slackdesk"]);
        assert_eq!(settings.push_client_id(), Some("slackdesk"));
    }

    #[test]
    fn workers_switch_accepts_the_usual_spellings() {
        for (flag, off) in [
            ("1", true),
            ("yes", true),
            ("true", true),
            ("0", false),
            ("false", false),
        ] {
            assert_eq!(
                test_settings(&["--no-workers", flag]).no_workers,
                off,
                "{flag}"
            );
        }
        assert!(test_settings(&["--no-workers"]).no_workers);
        assert!(!test_settings(&[]).no_workers);
    }

    fn test_settings(args: &[&str]) -> Settings {
        #[derive(clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            settings: Settings,
        }
        let argv = std::iter::once("slackdesk").chain(args.iter().copied());
        match <Wrapper as clap::Parser>::try_parse_from(argv) {
            Ok(wrapper) => wrapper.settings,
            Err(error) => panic!("{error}"),
        }
    }

    #[test]
    fn database_urls_name_a_known_backend() {
        assert!(parse_database_url("mysql://x").is_err());
        assert!(parse_database_url("sqlite::memory:").is_ok());
    }
}
