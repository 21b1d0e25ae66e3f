//! The Zendesk app package for this deployment, from files embedded in the binary, so
//! `GET /setup/zendesk-app.zip` works without the `zendesk-app/` folder on disk.
//!
//! The embedded files are written to a fresh private folder under the system's temp
//! folder and packaged there by [`crate::zendesk_app::package`], the function behind
//! `slackdesk zendesk-app package`: the same checks, the same rewriting of the URLs.
//! The folder is removed afterwards.

use std::fs;
use std::path::{Path, PathBuf};

use crate::config::Settings;
use crate::zendesk_app::{self, PackageError};

macro_rules! embedded {
    ($($name:literal),* $(,)?) => {
        [$(($name, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/zendesk-app/", $name)) as &[u8])),*]
    };
}

/// Every file of `zendesk-app/` that goes into the package (not `tools/` or the README);
/// a unit test checks this list against the folder.
pub const FILES: [(&str, &[u8]); 7] = embedded![
    "manifest.json",
    "requirements.json",
    "translations/en.json",
    "assets/logo.png",
    "assets/logo-small.png",
    "assets/icon_top_bar.svg",
    "assets/icon_nav_bar.svg",
];

/// The file name offered to the browser.
pub const FILE_NAME: &str = "slackdesk-zendesk-app.zip";

/// The upload-ready zip for this deployment: the channel manifest at
/// `PUBLIC_URL/manifest.json`, the app's pages and proxy host at `PUBLIC_URL`.
///
/// # Errors
///
/// What `zendesk-app package` refuses ([`PackageError`]), for example an http
/// `PUBLIC_URL`, or an I/O error on the temp folder.
pub fn build(settings: &Settings) -> Result<Vec<u8>, PackageError> {
    let dir = std::env::temp_dir().join(format!(
        "slackdesk-zendesk-app-{}",
        uuid::Uuid::new_v4().simple()
    ));
    fs::create_dir(&dir).map_err(io_error(&dir))?;
    let result = build_in(&dir, &settings.public_url_for("/manifest.json"));
    if let Err(error) = fs::remove_dir_all(&dir) {
        tracing::warn!(error = %error, "the Zendesk app package's temp folder was not removed");
    }
    result
}

fn build_in(dir: &Path, manifest_url: &str) -> Result<Vec<u8>, PackageError> {
    let app = dir.join("app");
    for (name, bytes) in FILES {
        let path = app.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_error(parent))?;
        }
        fs::write(&path, bytes).map_err(io_error(&path))?;
    }
    let out = dir.join(FILE_NAME);
    zendesk_app::package(&app, manifest_url, None, &out)?;
    fs::read(&out).map_err(io_error(&out))
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> PackageError {
    let path: PathBuf = path.to_path_buf();
    move |source| PackageError::Io {
        path: path.clone(),
        source,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const APP_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/zendesk-app");

    fn shipped_files(dir: &Path, prefix: &str, out: &mut Vec<String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            let skipped = name.starts_with('.')
                || name.ends_with(".zip")
                || (prefix.is_empty() && (name == "tools" || name == "README.md"));
            if skipped {
                continue;
            }
            if path.is_dir() {
                shipped_files(&path, &format!("{prefix}{name}/"), out);
            } else {
                out.push(format!("{prefix}{name}"));
            }
        }
    }

    #[test]
    fn every_file_the_package_ships_is_embedded() {
        let mut on_disk = Vec::new();
        shipped_files(Path::new(APP_DIR), "", &mut on_disk);
        on_disk.sort();
        let mut embedded: Vec<String> = FILES.iter().map(|(n, _)| (*n).to_owned()).collect();
        embedded.sort();
        assert_eq!(embedded, on_disk);
        let mut required: Vec<String> = zendesk_app::REQUIRED_FILES
            .iter()
            .map(|f| (*f).to_owned())
            .collect();
        required.sort();
        assert_eq!(embedded, required);
    }
}
