//! Logging: `tracing` to standard error, filtered by `RUST_LOG` (default `info,sqlx=warn`),
//! as text or, with `LOG_FORMAT=json`, one JSON object per line for log collectors.
//!
//! Log lines carry ids (account, team, channel, ts, external id) and codes, never
//! message text, names, emails or tokens. The JSON format writes the same fields as the
//! text format, nothing more.
//!
//! Both variables are read here rather than in `config`: logging starts in `main` before
//! the command line is parsed.

use std::ffi::OsStr;

use tracing_subscriber::EnvFilter;

/// The variable that picks the log format.
pub const LOG_FORMAT_VAR: &str = "LOG_FORMAT";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, the event's fields at the top
    /// level (`message` is the log line's own text, never a Slack or Zendesk message),
    /// and the spans' fields.
    Json,
}

/// `LOG_FORMAT` holds a value slackdesk does not know.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("LOG_FORMAT: must be text or json, got {0:?}")]
pub struct LogFormatError(String);

impl LogFormat {
    /// Parses the value of `LOG_FORMAT`: unset means text; `text` and `json` are the
    /// only values. An empty value is refused like any other unknown one.
    pub fn parse(value: Option<&OsStr>) -> Result<Self, LogFormatError> {
        let Some(value) = value else {
            return Ok(Self::Text);
        };
        match value.to_str() {
            Some("text") => Ok(Self::Text),
            Some("json") => Ok(Self::Json),
            _ => Err(LogFormatError(value.to_string_lossy().into_owned())),
        }
    }

    /// Reads `LOG_FORMAT` from the environment.
    pub fn from_env() -> Result<Self, LogFormatError> {
        Self::parse(std::env::var_os(LOG_FORMAT_VAR).as_deref())
    }
}

/// Starts logging to standard error in the format `LOG_FORMAT` names. An unknown
/// `LOG_FORMAT` is an error, so the binary stops at start-up and says why. Does nothing
/// when a subscriber is already installed.
pub fn try_init() -> Result<(), LogFormatError> {
    let format = LogFormat::from_env()?;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    Ok(())
}

/// [`try_init`] for callers without an error path (benches): an unknown `LOG_FORMAT`
/// is printed and the process exits with status 2.
pub fn init() {
    if let Err(error) = try_init() {
        eprintln!("slackdesk: {error}");
        std::process::exit(2);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn unset_means_text_and_the_two_names_are_known() {
        assert_eq!(LogFormat::parse(None), Ok(LogFormat::Text));
        assert_eq!(
            LogFormat::parse(Some(OsStr::new("text"))),
            Ok(LogFormat::Text)
        );
        assert_eq!(
            LogFormat::parse(Some(OsStr::new("json"))),
            Ok(LogFormat::Json)
        );
    }

    #[test]
    fn unknown_values_are_refused_with_an_error_naming_log_format() {
        for bad in ["", "JSON", "yaml", " json", "json\n"] {
            let error = LogFormat::parse(Some(OsStr::new(bad))).unwrap_err();
            let text = error.to_string();
            assert!(text.starts_with("LOG_FORMAT: "), "{text}");
            assert!(text.contains("text or json"), "{text}");
        }
    }

    /// A writer that keeps what the subscriber writes, for the JSON test.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_json_format_writes_one_object_per_line_with_the_fields_at_the_top() {
        let captured = Captured::default();
        let sink = captured.clone();
        // The same builder settings as `try_init`, writing to memory.
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(EnvFilter::new("info"))
            .with_writer(move || sink.clone())
            .with_target(false)
            .json()
            .flatten_event(true)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("delivery", account = "acct-1");
            let _entered = span.enter();
            tracing::info!(
                external_id = "slack:T1:C1:1.2",
                attempts = 3,
                "row delivered"
            );
            tracing::debug!("filtered out");
        });

        let bytes = captured.0.lock().unwrap().clone();
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "{text}");
        let line: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["message"], "row delivered");
        assert_eq!(line["external_id"], "slack:T1:C1:1.2");
        assert_eq!(line["attempts"], 3);
        assert_eq!(line["span"]["account"], "acct-1");
        assert!(line["timestamp"].is_string());
    }
}
