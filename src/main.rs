//! The `slackdesk` binary: parses the command line and runs it.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    if let Err(error) = slackdesk::telemetry::try_init() {
        eprintln!("slackdesk: {error}");
        return std::process::ExitCode::FAILURE;
    }
    let cli = slackdesk::cli::Cli::parse_args();
    match cli.run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("slackdesk: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
