//! The setup checklist of the home page, computed live for each request from the
//! settings, the database, this process and, for the webhooks, what Zendesk answers
//! (asked at most once a minute per webhook; see `routing::hooks::HOME_MAX_AGE_MS`).

use crate::config::Settings;
use crate::state::AppState;
use crate::storage::setup_counts::{SetupCounts, setup_counts};
use crate::storage::{Backend, StorageError};

/// Where setup stands. Public: counts, booleans and this deployment's own settings that
/// are not secret (`PUBLIC_URL`); no account, subdomain, team or name.
#[derive(Debug, Clone)]
pub struct Checklist {
    /// `PUBLIC_URL` as configured.
    pub public_url: String,
    /// Slack and Zendesk call only https URLs.
    pub public_url_https: bool,
    /// `SLACK_CLIENT_ID`, `SLACK_CLIENT_SECRET` and `SLACK_SIGNING_SECRET` are all set.
    pub slack_app_configured: bool,
    /// The one-click link that creates the Slack app from its manifest.
    pub slack_create_app_link: String,
    /// The Zendesk app package builds for this deployment (with the same checks as
    /// `slackdesk zendesk-app package`); otherwise why not.
    pub zendesk_package: Result<(), String>,
    pub counts: SetupCounts,
    /// The Zendesk webhooks routing needs, as Zendesk has them (made by slackdesk and
    /// still there, deleted there, not made) or set up by hand.
    pub webhooks: crate::routing::hooks::Counts,
    /// This process runs the background workers (not started with `--no-workers`).
    pub workers_running: bool,
    pub database: Backend,
}

impl Checklist {
    pub fn database_name(&self) -> &'static str {
        match self.database {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }

    pub fn zendesk_package_ready(&self) -> bool {
        self.zendesk_package.is_ok()
    }

    /// Why the package cannot be built (empty when it can).
    pub fn zendesk_package_problem(&self) -> &str {
        self.zendesk_package
            .as_ref()
            .err()
            .map_or("", String::as_str)
    }
}

/// The checklist as it stands now.
///
/// # Errors
///
/// When the counts cannot be read from the database.
pub async fn checklist(state: &AppState) -> Result<Checklist, StorageError> {
    let settings: &Settings = &state.settings;
    let counts = setup_counts(&state.db).await?;
    Ok(Checklist {
        public_url: settings
            .public_url
            .as_str()
            .trim_end_matches('/')
            .to_owned(),
        public_url_https: settings.public_url.scheme() == "https",
        slack_app_configured: slack_app_configured(settings),
        slack_create_app_link: super::slack_manifest::create_app_link(settings),
        zendesk_package: super::zendesk_package::build(settings)
            .map(|_| ())
            .map_err(|error| package_problem(&error)),
        counts,
        webhooks: crate::routing::hooks::counts(state).await?,
        workers_running: !settings.no_workers,
        database: state.db.backend(),
    })
}

fn slack_app_configured(settings: &Settings) -> bool {
    let set = |value: Option<&str>| value.is_some_and(|v| !v.trim().is_empty());
    set(settings.slack_client_id.as_deref())
        && set(settings.slack_client_secret.as_ref().map(|s| s.expose()))
        && set(settings.slack_signing_secret.as_ref().map(|s| s.expose()))
}

/// A reason fit for a public page: the packager's own words for a URL or app rule, a
/// plain sentence for I/O (the temp path is not shown).
pub(super) fn package_problem(error: &crate::zendesk_app::PackageError) -> String {
    use crate::zendesk_app::PackageError;
    match error {
        PackageError::Io { .. }
        | PackageError::Zip { .. }
        | PackageError::MissingFile { .. }
        | PackageError::AppDirMissing { .. }
        | PackageError::NonUtf8Path { .. } => {
            tracing::warn!(error = %error, "the Zendesk app package cannot be written");
            "the package could not be written on this server (see its log)".to_owned()
        }
        other => other.to_string(),
    }
}
