//! The command line: `serve` (the default), `migrate`, `keys`, `zendesk-app`, `zendesk`
//! (connect an account for statuses) and `api-keys` (status API keys).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{DatabaseSettings, KeySettings, Secret, Settings};
use crate::crypto::KeyRing;
use crate::domain::{Subdomain, ZendeskUserId};
use crate::startup::{Application, install_crypto_provider};
use crate::state::AppState;
use crate::statuses::{connect, keys};
use crate::storage::api_keys;
use crate::storage::{Db, rotation};
use crate::zendesk::connection::Grant;

/// slackdesk: Slack channels to Zendesk tickets, through the Zendesk Channel Framework.
///
/// With no command it serves (same as `slackdesk serve`). Every setting is also an
/// environment variable; see `slackdesk serve --help`.
#[derive(Parser, Debug)]
#[command(name = "slackdesk", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the HTTP service and background workers (the default).
    Serve(Box<Settings>),
    /// Apply database migrations and exit.
    Migrate(DatabaseSettings),
    /// Manage the keys that encrypt stored credentials.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Connect Slack and print the Slack app manifest.
    #[command(subcommand)]
    Slack(SlackCommand),
    /// Build the Zendesk installer app.
    #[command(subcommand, name = "zendesk-app")]
    ZendeskApp(ZendeskAppCommand),
    /// Connect a Zendesk account's REST API (for statuses and routing).
    #[command(subcommand)]
    Zendesk(ZendeskCommand),
    /// Manage status API keys.
    #[command(subcommand, name = "api-keys")]
    ApiKeys(ApiKeysCommand),
    /// Status rules of an account: automatic idle, out of office, schedules.
    #[command(subcommand)]
    Statuses(StatusesCommand),
}

#[derive(Subcommand, Debug)]
enum StatusesCommand {
    /// Show the account's rules, changing those given.
    Rules {
        /// The account's subdomain.
        #[arg(long)]
        subdomain: String,
        /// Online agents with no activity for this many minutes (30 to 1440) become away.
        #[arg(long, conflicts_with = "no_idle")]
        idle_minutes: Option<i64>,
        /// Turn automatic idle off.
        #[arg(long)]
        no_idle: bool,
        /// Tag put on an agent's unsolved tickets when they leave online (e.g. agent_ooo).
        #[arg(long, conflicts_with = "no_ooo")]
        ooo_tag: Option<String>,
        /// Turn out-of-office tagging off.
        #[arg(long)]
        no_ooo: bool,
        /// Set agents online/offline at their schedule's shift starts and ends.
        #[arg(long, value_parser = ["on", "off"])]
        schedules: Option<String>,
        #[command(flatten)]
        database: DatabaseSettings,
    },
    /// Give an agent a Zendesk business-hours schedule (or take it away with --none).
    Schedule {
        #[arg(long)]
        subdomain: String,
        #[arg(long)]
        user_id: String,
        /// Zendesk schedule id.
        #[arg(long, conflicts_with = "none", required_unless_present = "none")]
        schedule_id: Option<i64>,
        #[arg(long)]
        none: bool,
        #[command(flatten)]
        database: DatabaseSettings,
    },
}

#[derive(Subcommand, Debug)]
enum ZendeskCommand {
    /// Connect the account's REST API (checked with Zendesk first) and sync its agents:
    /// with a confidential OAuth client (`--client-id`, `--client-secret`), or, deprecated,
    /// with an API token (`--email`, `--api-token`).
    Connect(Box<ConnectArgs>),
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("grant").required(true).args(["client_id", "api_token"])))]
struct ConnectArgs {
    /// The account's subdomain (`acme` for acme.zendesk.com).
    #[arg(long)]
    subdomain: String,
    /// Identifier of a confidential OAuth client of the account (Admin Center > Apps and
    /// integrations > APIs > OAuth clients, kind "Confidential"). Tokens are requested with
    /// the client credentials grant and requested again when they expire.
    #[arg(long, env = "ZENDESK_CONNECT_CLIENT_ID", requires = "client_secret", conflicts_with_all = ["email", "api_token"])]
    client_id: Option<String>,
    /// That client's secret. Prefer the environment variable: arguments are visible to
    /// other local users.
    #[arg(
        long,
        env = "ZENDESK_CONNECT_CLIENT_SECRET",
        hide_env_values = true,
        requires = "client_id"
    )]
    client_secret: Option<Secret>,
    /// Deprecated (API tokens): email of the Zendesk admin the token belongs to (kept only
    /// inside the sealed credential).
    #[arg(
        long,
        env = "ZENDESK_EMAIL",
        hide_env_values = true,
        requires = "api_token"
    )]
    email: Option<String>,
    /// Deprecated: an existing API token. Zendesk has issued none since 27 October 2026
    /// and deactivates all of them on 30 April 2027.
    #[arg(
        long,
        env = "ZENDESK_API_TOKEN",
        hide_env_values = true,
        requires = "email"
    )]
    api_token: Option<Secret>,
    #[command(flatten)]
    settings: Settings,
}

#[derive(Subcommand, Debug)]
enum ApiKeysCommand {
    /// Create a key and print it once.
    Create {
        /// The account's subdomain.
        #[arg(long)]
        subdomain: String,
        /// Zendesk user id of the key's owner, recorded as `updated_by`.
        #[arg(long)]
        user_id: String,
        #[command(flatten)]
        database: DatabaseSettings,
    },
    /// List keys: prefix, account, owner, created, last used, revoked.
    List {
        /// Only this account's keys.
        #[arg(long)]
        subdomain: Option<String>,
        #[command(flatten)]
        database: DatabaseSettings,
    },
    /// Revoke a key by its prefix.
    Revoke {
        /// The key's prefix, as `list` shows it.
        prefix: String,
        #[command(flatten)]
        database: DatabaseSettings,
    },
}

#[derive(Subcommand, Debug)]
enum KeysCommand {
    /// Print a new key ring entry (`id:base64key`) to put first in SLACKDESK_KEYS.
    Generate {
        /// Name of the new key.
        #[arg(long, default_value_t = default_key_id())]
        id: String,
    },
    /// Re-encrypt every stored credential under the first (active) key. Safe while the
    /// service runs, as long as the running service's key ring holds both keys.
    Rotate(RotateArgs),
}

#[derive(Args, Debug)]
struct RotateArgs {
    #[command(flatten)]
    database: DatabaseSettings,
    #[command(flatten)]
    keys: KeySettings,
}

#[derive(Subcommand, Debug)]
enum SlackCommand {
    /// Store a workspace's bot token (for a self-hosted Slack app installed by hand).
    /// The token is checked with `auth.test` and stored encrypted.
    Connect {
        /// The bot token (`xoxb-…`).
        #[arg(long, env = "SLACK_BOT_TOKEN", hide_env_values = true)]
        bot_token: crate::config::Secret,
        /// Zendesk subdomain allowed to link this workspace's channels (repeatable).
        #[arg(long)]
        subdomain: Vec<String>,
        #[command(flatten)]
        settings: Box<Settings>,
    },
    /// Print the Slack app manifest (YAML) for this deployment's PUBLIC_URL.
    Manifest {
        #[command(flatten)]
        settings: Box<Settings>,
    },
}

#[derive(Subcommand, Debug)]
enum ZendeskAppCommand {
    /// Write an upload-ready zip with the channel manifest URL filled in.
    Package {
        /// Public https URL of this deployment's `/manifest.json`.
        #[arg(long)]
        manifest_url: String,
        /// https origin that serves the agents' app pages and that the app calls through Zendesk's proxy (default: the manifest URL's origin).
        #[arg(long)]
        service_url: Option<String>,
        /// Folder of the app's sources.
        #[arg(long, default_value = "zendesk-app")]
        app_dir: PathBuf,
        /// Where to write the zip.
        #[arg(long, default_value = "dist/slackdesk-zendesk-app.zip")]
        out: PathBuf,
    },
}

fn default_key_id() -> String {
    format!("k{}", chrono::Utc::now().format("%Y%m%d%H%M"))
}

const SUBCOMMANDS: [&str; 11] = [
    "serve",
    "migrate",
    "keys",
    "slack",
    "zendesk-app",
    "zendesk",
    "api-keys",
    "statuses",
    "help",
    "--help",
    "-h",
];

impl Cli {
    /// Parses the process arguments; with no command, `serve` is meant, so only serve
    /// reads the service's settings (a bad `BIND` never breaks `keys generate`).
    pub fn parse_args() -> Self {
        Self::parse_from(with_default_command(std::env::args_os().collect()))
    }

    pub async fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Serve(settings) => serve(*settings).await,
            Command::Migrate(database) => {
                let db = Db::connect(&database).await?;
                db.migrate().await?;
                println!("database is up to date");
                Ok(())
            }
            Command::Keys(KeysCommand::Generate { id }) => {
                println!("{}", crate::crypto::generate_key_line(&id)?);
                Ok(())
            }
            Command::Keys(KeysCommand::Rotate(args)) => rotate(args).await,
            Command::Slack(SlackCommand::Manifest { settings }) => {
                print!("{}", crate::slack::app_manifest::render(&settings));
                Ok(())
            }
            Command::Slack(SlackCommand::Connect {
                bot_token,
                subdomain,
                settings,
            }) => connect_slack(*settings, bot_token, subdomain).await,
            Command::ZendeskApp(ZendeskAppCommand::Package {
                manifest_url,
                service_url,
                app_dir,
                out,
            }) => {
                let summary = crate::zendesk_app::package(
                    &app_dir,
                    &manifest_url,
                    service_url.as_deref(),
                    &out,
                )?;
                println!(
                    "wrote {} ({} files) for {} and {}",
                    summary.out_file.display(),
                    summary.files.len(),
                    summary.manifest_url,
                    summary.service_url
                );
                Ok(())
            }
            Command::Zendesk(ZendeskCommand::Connect(args)) => zendesk_connect(*args).await,
            Command::ApiKeys(command) => api_keys_command(command).await,
            Command::Statuses(command) => statuses_command(command).await,
        }
    }
}

async fn zendesk_connect(args: ConnectArgs) -> anyhow::Result<()> {
    let subdomain = Subdomain::parse(&args.subdomain)?;
    let (grant, how) = match (
        args.client_id,
        args.client_secret,
        args.email,
        args.api_token,
    ) {
        (Some(client_id), Some(client_secret), _, _) => (
            Grant::ClientCredentials {
                client_id,
                client_secret,
            },
            "client credentials",
        ),
        (_, _, Some(email), Some(api_token)) => {
            (Grant::ApiToken { email, api_token }, "an API token")
        }
        _ => anyhow::bail!(
            "give --client-id and --client-secret (or, deprecated, --email and --api-token)"
        ),
    };
    let deprecated = matches!(grant, Grant::ApiToken { .. });
    let state = AppState::build(args.settings).await?;
    let report = connect::connect(&state, &subdomain, grant)
        .await
        .map_err(|e| anyhow::anyhow!("{e} (code: {})", e.code()))?;
    println!(
        "connected {subdomain} with {how} as user {}; {} agents synced",
        report
            .connected_as
            .map(|id| id.to_string())
            .unwrap_or_default(),
        report.agents
    );
    if deprecated {
        println!(
            "warning: API tokens are deprecated: Zendesk deactivates all of them on {}. \
             Connect with --client-id and --client-secret (or OAuth at /zendesk/connect) before then.",
            crate::zendesk::connection::API_TOKEN_END
        );
    }
    Ok(())
}

async fn open_db(database: &DatabaseSettings) -> anyhow::Result<Db> {
    let db = Db::connect(database).await?;
    db.migrate().await?;
    Ok(db)
}

fn show_time(ms: Option<i64>) -> String {
    ms.map(crate::statuses::wire::iso_ms)
        .unwrap_or_else(|| "-".to_owned())
}

async fn api_keys_command(command: ApiKeysCommand) -> anyhow::Result<()> {
    let now = crate::storage::now_ms();
    match command {
        ApiKeysCommand::Create {
            subdomain,
            user_id,
            database,
        } => {
            let subdomain = Subdomain::parse(&subdomain)?;
            let owner = ZendeskUserId::parse(&user_id)?;
            let db = open_db(&database).await?;
            let key = keys::create(&db, &subdomain, owner, now).await?;
            println!("{}", key.key);
            eprintln!(
                "key {} for {subdomain} (owner {owner}); it is shown only now",
                key.prefix
            );
        }
        ApiKeysCommand::List {
            subdomain,
            database,
        } => {
            let subdomain = subdomain.as_deref().map(Subdomain::parse).transpose()?;
            let db = open_db(&database).await?;
            println!("prefix\tsubdomain\towner\tcreated\tlast_used\trevoked");
            for key in api_keys::list(&db, subdomain.as_ref()).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    key.prefix,
                    key.subdomain,
                    key.owner,
                    show_time(Some(key.created_at)),
                    show_time(key.last_used_at),
                    show_time(key.revoked_at)
                );
            }
        }
        ApiKeysCommand::Revoke { prefix, database } => {
            let db = open_db(&database).await?;
            if !api_keys::revoke(&db, prefix.trim(), now).await? {
                anyhow::bail!("no active key has prefix {}", prefix.trim());
            }
            println!("revoked {}", prefix.trim());
        }
    }
    Ok(())
}

/// Inserts `serve` when the first argument is not a command (`slackdesk --bind …`).
fn with_default_command(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let first = args.get(1).and_then(|a| a.to_str()).unwrap_or("");
    let names_a_command = SUBCOMMANDS.contains(&first) || first == "-V" || first == "--version";
    if !names_a_command {
        args.insert(1.min(args.len()), "serve".into());
    }
    args
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let app = Application::build(settings).await?;
    app.run_until_stopped().await?;
    Ok(())
}

async fn connect_slack(
    settings: Settings,
    bot_token: crate::config::Secret,
    subdomains: Vec<String>,
) -> anyhow::Result<()> {
    let subdomains = subdomains
        .iter()
        .map(|s| {
            crate::domain::Subdomain::parse(s).map_err(|e| anyhow::anyhow!("--subdomain {s}: {e}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let state = crate::state::AppState::build(settings).await?;
    let team = crate::bridge::connect_workspace(&state, &bot_token, &subdomains).await?;
    println!(
        "connected Slack workspace {team}; channels can now be linked from {} Zendesk account(s)",
        subdomains.len()
    );
    Ok(())
}

async fn rotate(args: RotateArgs) -> anyhow::Result<()> {
    install_crypto_provider();
    let keys = KeyRing::load_existing(&args.keys)?;
    let db = Db::connect(&args.database).await?;
    db.migrate().await?;
    let report = rotation::reseal_all(&db, &keys).await?;
    println!(
        "active key {}: {} credentials re-encrypted, {} already current, {} changed meanwhile",
        keys.active_key().as_str(),
        report.resealed,
        report.current,
        report.raced
    );
    Ok(())
}

async fn statuses_command(command: StatusesCommand) -> anyhow::Result<()> {
    use crate::statuses::status_rules::{idle_minutes as check_idle, ticket_tag};
    use crate::storage::status_rules;
    let now = crate::storage::now_ms();
    match command {
        StatusesCommand::Rules {
            subdomain,
            idle_minutes,
            no_idle,
            ooo_tag,
            no_ooo,
            schedules,
            database,
        } => {
            let subdomain = Subdomain::parse(&subdomain)?;
            let db = open_db(&database).await?;
            let mut rules = status_rules::find(&db, &subdomain).await?;
            if let Some(minutes) = idle_minutes {
                rules.idle_minutes = Some(check_idle(minutes)?);
            }
            if no_idle {
                rules.idle_minutes = None;
            }
            if let Some(tag) = ooo_tag {
                rules.ooo_tag = Some(ticket_tag(&tag)?);
            }
            if no_ooo {
                rules.ooo_tag = None;
            }
            if let Some(value) = schedules {
                rules.schedules_enabled = value == "on";
            }
            status_rules::save(&db, &subdomain, &rules, now).await?;
            println!(
                "{subdomain}: idle {}, out-of-office tag {}, schedules {}",
                rules
                    .idle_minutes
                    .map_or("off".to_owned(), |m| format!("after {m} min")),
                rules.ooo_tag.as_deref().unwrap_or("off"),
                if rules.schedules_enabled { "on" } else { "off" }
            );
        }
        StatusesCommand::Schedule {
            subdomain,
            user_id,
            schedule_id,
            none: _,
            database,
        } => {
            let subdomain = Subdomain::parse(&subdomain)?;
            let user = ZendeskUserId::parse(&user_id)?;
            let db = open_db(&database).await?;
            if !status_rules::set_agent_schedule(&db, &subdomain, user, schedule_id).await? {
                anyhow::bail!("{user} is not a synced agent of {subdomain}");
            }
            match schedule_id {
                Some(id) => println!("agent {user} follows schedule {id}"),
                None => println!("agent {user} has no schedule"),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        let os: Vec<std::ffi::OsString> = list.iter().map(Into::into).collect();
        with_default_command(os)
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn serve_is_the_default_command() {
        assert_eq!(args(&["slackdesk"]), ["slackdesk", "serve"]);
        assert_eq!(
            args(&["slackdesk", "--bind", "x"]),
            ["slackdesk", "serve", "--bind", "x"]
        );
        assert_eq!(
            args(&["slackdesk", "keys", "generate"]),
            ["slackdesk", "keys", "generate"]
        );
        assert_eq!(args(&["slackdesk", "--help"]), ["slackdesk", "--help"]);
    }
}
