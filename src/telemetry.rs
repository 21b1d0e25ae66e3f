//! Logging: `tracing` to standard error, filtered by `RUST_LOG` (default `info`).
//!
//! Log lines carry ids (account, team, channel, ts, external id) and codes, never
//! message text, names, emails or tokens.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
