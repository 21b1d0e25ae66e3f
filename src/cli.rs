//! The command line: `serve` (the default), `migrate`, `keys`, `zendesk-app`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{DatabaseSettings, KeySettings, Settings};
use crate::crypto::KeyRing;
use crate::startup::{Application, install_crypto_provider};
use crate::storage::{Db, rotation};

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

const SUBCOMMANDS: [&str; 8] = [
    "serve",
    "migrate",
    "keys",
    "slack",
    "zendesk-app",
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
                app_dir,
                out,
            }) => {
                let summary = crate::zendesk_app::package(&app_dir, &manifest_url, &out)?;
                println!(
                    "wrote {} ({} files) for {}",
                    summary.out_file.display(),
                    summary.files.len(),
                    summary.manifest_url
                );
                Ok(())
            }
        }
    }
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
    let state = crate::startup::AppState::build(settings).await?;
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
