//! Packaging of the Zendesk app kept in `zendesk-app/` (SPEC 1.9 and issue 7).
//!
//! The app is a ZAF v2 app that also installs the channel integration: a
//! `manifest.json` with a `top_bar` location (agents' status) and a `nav_bar` location
//! (admin pages), both server-side pages served by slackdesk with `"signedUrls": true`
//! (Zendesk POSTs a signed ZAF JWT naming the agent to them, see
//! [`crate::agent_app::location`]), a secure hidden `token` setting and a `service_url`
//! setting, a `requirements.json` declaring the slackdesk channel integration, an English
//! translation file, two logos and one SVG icon per location. The deployment's addresses
//! differ per install, so the repo keeps placeholders and [`package`] writes the real
//! ones into the upload-ready zip: the channel manifest URL into `requirements.json`,
//! the service URL into the location URLs, the `service_url` default and (its host)
//! `domainWhitelist` (Zendesk's proxy inserts secure settings only for whitelisted hosts).
//!
//! This module owns checking the app folder against Zendesk's rules for such apps,
//! rewriting the two JSON files, and writing the zip with every entry at the zip root
//! (Zendesk refuses a zip whose files sit under a top-level folder).

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;
use url::Url;
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

const MANIFEST: &str = "manifest.json";
const REQUIREMENTS: &str = "requirements.json";
const TRANSLATION_EN: &str = "translations/en.json";
const LOGO: &str = "assets/logo.png";
const LOGO_SMALL: &str = "assets/logo-small.png";
const ICON_TOP_BAR: &str = "assets/icon_top_bar.svg";
const ICON_NAV_BAR: &str = "assets/icon_nav_bar.svg";

/// Files the app folder must hold (the location pages are checked from the manifest).
pub const REQUIRED_FILES: [&str; 7] = [
    MANIFEST,
    REQUIREMENTS,
    TRANSLATION_EN,
    LOGO,
    LOGO_SMALL,
    ICON_TOP_BAR,
    ICON_NAV_BAR,
];

/// The Support locations the app must declare; each needs `assets/icon_<location>.svg`
/// and is served by slackdesk at [`LOCATION_PATH`]`<location>`.
pub const LOCATIONS: [&str; 2] = ["top_bar", "nav_bar"];
/// Where slackdesk serves each location page (it verifies the ZAF JWT posted there).
pub const LOCATION_PATH: &str = "/zendesk/app/location/";

/// The secure setting holding the app token, and the setting with slackdesk's address.
pub const TOKEN_PARAMETER: &str = "token";
pub const SERVICE_URL_PARAMETER: &str = "service_url";

/// Parameter types Zendesk accepts.
const PARAMETER_TYPES: [&str; 8] = [
    "text",
    "password",
    "checkbox",
    "url",
    "number",
    "multiline",
    "hidden",
    "oauth",
];

/// Translation keys Zendesk requires of public apps (we ship them for private ones too).
pub const APP_TRANSLATION_KEYS: [&str; 4] = [
    "name",
    "short_description",
    "long_description",
    "installation_instructions",
];

/// Logo files and the size in pixels (square) Zendesk requires for each.
const LOGO_SIZES: [(&str, u32); 2] = [(LOGO, 320), (LOGO_SMALL, 128)];

/// Top-level entries of the app folder that are for maintainers, not for Zendesk.
const SKIPPED_TOP_LEVEL: [&str; 2] = ["tools", "README.md"];

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// Why the installer app could not be packaged.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// The manifest URL does not parse as an absolute URL with a host.
    #[error("manifest URL {url:?} is not a valid absolute URL: {reason}")]
    InvalidManifestUrl { url: String, reason: String },
    /// The manifest URL is not https; Zendesk refuses to create the integration.
    #[error("manifest URL {url:?} must use https (Zendesk refuses any other scheme)")]
    ManifestUrlNotHttps { url: String },
    /// The service URL is not an https origin such as `https://slackdesk.example.com`.
    #[error(
        "service URL {url:?} must be an https origin such as https://slackdesk.example.com: {reason}"
    )]
    InvalidServiceUrl { url: String, reason: String },
    /// The manifest URL has no document path, e.g. `https://host/`.
    #[error(
        "manifest URL {url:?} must name the manifest document, e.g. https://host/manifest.json"
    )]
    ManifestUrlWithoutPath { url: String },
    /// The app folder does not exist or is not a folder.
    #[error("app folder {} does not exist or is not a folder", path.display())]
    AppDirMissing { path: PathBuf },
    /// A file the app needs is not in the app folder.
    #[error("required file {file} is missing from the app folder {}", app_dir.display())]
    MissingFile { app_dir: PathBuf, file: String },
    /// A JSON file of the app does not parse.
    #[error("{file} is not valid JSON: {source}")]
    InvalidJson {
        file: String,
        #[source]
        source: serde_json::Error,
    },
    /// A file parses but breaks a rule Zendesk applies to requirements-only apps.
    #[error("{file}: {reason}")]
    InvalidApp { file: String, reason: String },
    /// A logo is not a PNG of the size Zendesk requires.
    #[error("{file} must be a {expected}x{expected} PNG: {reason}")]
    InvalidLogo {
        file: String,
        expected: u32,
        reason: String,
    },
    /// A file in the app folder has a name that is not UTF-8, so it cannot be a zip entry.
    #[error("file name {} is not valid UTF-8", path.display())]
    NonUtf8Path { path: PathBuf },
    /// Reading the app folder or writing the zip failed.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The zip writer failed.
    #[error("cannot write zip {}: {source}", path.display())]
    Zip {
        path: PathBuf,
        #[source]
        source: zip::result::ZipError,
    },
}

/// What [`package`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageSummary {
    /// The zip file written.
    pub out_file: PathBuf,
    /// Zip entry names, sorted, all relative to the zip root.
    pub files: Vec<String>,
    /// The manifest URL written into `requirements.json`.
    pub manifest_url: String,
    /// The service URL written into the `service_url` setting (its host is whitelisted).
    pub service_url: String,
}

/// Check the app folder, write `manifest_url` into its channel integration and
/// `service_url` (default: the manifest URL's origin) into the app's settings and
/// domain whitelist, and write the upload-ready zip at `out_file` (parent folders are
/// created).
///
/// Skips `tools/`, the top-level `README.md`, dotfiles and `.zip` files. Nothing
/// is written unless every check passes.
///
/// # Errors
///
/// A [`PackageError`] when a URL is not https (the manifest URL naming a document, the
/// service URL an origin), when the app folder breaks a rule (the error names the
/// file), or when reading the folder or writing the zip fails.
pub fn package(
    app_dir: &Path,
    manifest_url: &str,
    service_url: Option<&str>,
    out_file: &Path,
) -> Result<PackageSummary, PackageError> {
    let url = parse_manifest_url(manifest_url)?;
    let service = match service_url {
        Some(raw) => parse_service_url(raw)?,
        None => url.origin().ascii_serialization(),
    };
    let host = Url::parse(&service)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .ok_or_else(|| PackageError::InvalidServiceUrl {
            url: service.clone(),
            reason: "it has no host".into(),
        })?;
    let files = collect_files(app_dir)?;
    check_required_files(app_dir, &files)?;
    let manifest = read_json(app_dir, MANIFEST)?;
    check_manifest(&manifest, &files)?;
    check_translation(&read_json(app_dir, TRANSLATION_EN)?, &manifest)?;
    for (file, size) in LOGO_SIZES {
        check_logo(app_dir, file, size)?;
    }
    let manifest = with_service_url(manifest, &service, &host)?;
    check_locations(manifest.get("location"), &files)?;
    let requirements = with_manifest_url(read_json(app_dir, REQUIREMENTS)?, url.as_str())?;
    write_zip(
        app_dir,
        &files,
        &[(MANIFEST, &manifest), (REQUIREMENTS, &requirements)],
        out_file,
    )?;
    Ok(PackageSummary {
        out_file: out_file.to_path_buf(),
        files,
        manifest_url: url.into(),
        service_url: service,
    })
}

/// Parse the service URL: an https origin (no path, query, fragment or credentials);
/// returned without a trailing slash.
fn parse_service_url(raw: &str) -> Result<String, PackageError> {
    let invalid = |reason: &str| PackageError::InvalidServiceUrl {
        url: raw.to_owned(),
        reason: reason.to_owned(),
    };
    let url = Url::parse(raw.trim()).map_err(|e| invalid(&e.to_string()))?;
    if url.scheme() != "https" {
        return Err(invalid(
            "it must use https (Zendesk's proxy sends secure settings only over https)",
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("it must not carry a user name or password"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it must not have a path, query or fragment"));
    }
    Ok(url.origin().ascii_serialization())
}

/// Parse the manifest URL: absolute, https, with a host and a document path,
/// without credentials or a fragment.
fn parse_manifest_url(raw: &str) -> Result<Url, PackageError> {
    let invalid = |reason: &str| PackageError::InvalidManifestUrl {
        url: raw.to_owned(),
        reason: reason.to_owned(),
    };
    let url = Url::parse(raw.trim()).map_err(|e| invalid(&e.to_string()))?;
    if url.scheme() != "https" {
        return Err(PackageError::ManifestUrlNotHttps {
            url: raw.to_owned(),
        });
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("it must not carry a user name or password"));
    }
    if url.fragment().is_some() {
        return Err(invalid("it must not have a #fragment"));
    }
    if url.path().ends_with('/') {
        return Err(PackageError::ManifestUrlWithoutPath {
            url: raw.to_owned(),
        });
    }
    Ok(url)
}

/// Zip entry names of every file to ship, sorted.
fn collect_files(app_dir: &Path) -> Result<Vec<String>, PackageError> {
    if !app_dir.is_dir() {
        return Err(PackageError::AppDirMissing {
            path: app_dir.to_path_buf(),
        });
    }
    let mut files = Vec::new();
    walk(app_dir, "", &mut files)?;
    files.sort();
    Ok(files)
}

/// Add the files under `dir` (whose entry-name prefix is `prefix`) to `files`.
fn walk(dir: &Path, prefix: &str, files: &mut Vec<String>) -> Result<(), PackageError> {
    let io_err = |source| PackageError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in fs::read_dir(dir).map_err(io_err)? {
        let path = entry.map_err(io_err)?.path();
        let name = file_name(&path)?;
        if is_skipped(prefix, &name) {
            continue;
        }
        let entry_name = format!("{prefix}{name}");
        let meta = fs::metadata(&path).map_err(|source| PackageError::Io {
            path: path.clone(),
            source,
        })?;
        if meta.is_dir() {
            walk(&path, &format!("{entry_name}/"), files)?;
        } else if meta.is_file() {
            files.push(entry_name);
        }
    }
    Ok(())
}

fn file_name(path: &Path) -> Result<String, PackageError> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .ok_or_else(|| PackageError::NonUtf8Path {
            path: path.to_path_buf(),
        })
}

fn is_skipped(prefix: &str, name: &str) -> bool {
    name.starts_with('.')
        || Path::new(name)
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("zip"))
        || (prefix.is_empty() && SKIPPED_TOP_LEVEL.contains(&name))
}

fn check_required_files(app_dir: &Path, files: &[String]) -> Result<(), PackageError> {
    match REQUIRED_FILES
        .iter()
        .find(|required| !files.iter().any(|f| f == *required))
    {
        Some(missing) => Err(PackageError::MissingFile {
            app_dir: app_dir.to_path_buf(),
            file: (*missing).to_owned(),
        }),
        None => Ok(()),
    }
}

fn read_file(app_dir: &Path, file: &str) -> Result<Vec<u8>, PackageError> {
    let path = app_dir.join(file);
    fs::read(&path).map_err(|source| PackageError::Io { path, source })
}

fn read_json(app_dir: &Path, file: &str) -> Result<Value, PackageError> {
    serde_json::from_slice(&read_file(app_dir, file)?).map_err(|source| PackageError::InvalidJson {
        file: file.to_owned(),
        source,
    })
}

fn invalid(file: &str, reason: &str) -> PackageError {
    PackageError::InvalidApp {
        file: file.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Zendesk's rules for the app's manifest: a ZAF 2.0 app with both Support locations
/// (slackdesk's pages, signed: `"signedUrls": true`, and icons present), valid parameters
/// with a secure hidden token, a domain whitelist, an author and a default locale with
/// its translation file.
fn check_manifest(manifest: &Value, files: &[String]) -> Result<(), PackageError> {
    let Some(fields) = manifest.as_object() else {
        return Err(invalid(MANIFEST, "must be a JSON object"));
    };
    if fields.get("requirementsOnly") == Some(&Value::Bool(true)) {
        return Err(invalid(
            MANIFEST,
            "\"requirementsOnly\" must not be true: the app has locations",
        ));
    }
    if fields.get("frameworkVersion").and_then(Value::as_str) != Some("2.0") {
        return Err(invalid(MANIFEST, "\"frameworkVersion\" must be \"2.0\""));
    }
    let author_ok = fields
        .get("author")
        .and_then(Value::as_object)
        .is_some_and(|a| {
            ["name", "email", "url"].iter().all(|k| {
                a.get(*k)
                    .and_then(Value::as_str)
                    .is_some_and(|v| !v.is_empty())
            })
        });
    if !author_ok {
        return Err(invalid(
            MANIFEST,
            "\"author\" must be an object with name, email and url",
        ));
    }
    if fields.get("signedUrls") != Some(&Value::Bool(true)) {
        return Err(invalid(
            MANIFEST,
            "\"signedUrls\" must be true: slackdesk learns who the agent is only from the JWT Zendesk signs",
        ));
    }
    check_locations(fields.get("location"), files)?;
    check_parameters(fields.get("parameters"))?;
    let whitelist_ok = fields
        .get("domainWhitelist")
        .and_then(Value::as_array)
        .is_some_and(|d| !d.is_empty() && d.iter().all(Value::is_string));
    if !whitelist_ok {
        return Err(invalid(
            MANIFEST,
            "\"domainWhitelist\" must be a non-empty array of host names",
        ));
    }
    check_default_locale(fields.get("defaultLocale"), files)
}

/// `location.support.{top_bar,nav_bar}` with a `url` of slackdesk's page for it
/// (`https://<host>/zendesk/app/location/<name>`; the host is rewritten when packaging),
/// and the SVG icon Zendesk requires for each.
fn check_locations(location: Option<&Value>, files: &[String]) -> Result<(), PackageError> {
    let Some(support) = location
        .and_then(|l| l.get("support"))
        .and_then(Value::as_object)
    else {
        return Err(invalid(MANIFEST, "\"location.support\" must be an object"));
    };
    for name in LOCATIONS {
        let url = support
            .get(name)
            .and_then(|l| l.get("url"))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                invalid(
                    MANIFEST,
                    &format!("\"location.support.{name}.url\" is required"),
                )
            })?;
        let served = Url::parse(url).ok().is_some_and(|u| {
            u.scheme() == "https"
                && u.host_str().is_some_and(|h| !h.is_empty())
                && u.path() == format!("{LOCATION_PATH}{name}")
                && u.query().is_none()
                && u.fragment().is_none()
        });
        if !served {
            return Err(invalid(
                MANIFEST,
                &format!(
                    "\"location.support.{name}.url\" must be slackdesk's signed page https://<host>{LOCATION_PATH}{name}, not {url:?}"
                ),
            ));
        }
        let icon = format!("assets/icon_{name}.svg");
        if !files.contains(&icon) {
            return Err(invalid(
                MANIFEST,
                &format!("the {name} location needs {icon}"),
            ));
        }
    }
    Ok(())
}

/// Parameters: unique names (never `name`), known types, hidden ones not required,
/// secure or hidden ones without a default, a secure hidden `token` and a `service_url`.
fn check_parameters(parameters: Option<&Value>) -> Result<(), PackageError> {
    let Some(parameters) = parameters.and_then(Value::as_array) else {
        return Err(invalid(MANIFEST, "\"parameters\" must be an array"));
    };
    let mut names = Vec::new();
    for parameter in parameters {
        let name = parameter
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(MANIFEST, "every parameter needs a \"name\""))?;
        let bad = |reason: &str| invalid(MANIFEST, &format!("parameter {name:?}: {reason}"));
        if name == "name" || names.contains(&name) {
            return Err(bad("the name is reserved or used twice"));
        }
        names.push(name);
        let kind = parameter
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("text");
        if !PARAMETER_TYPES.contains(&kind) {
            return Err(bad("unknown type"));
        }
        let flag = |key: &str| parameter.get(key).and_then(Value::as_bool).unwrap_or(false);
        let secure = flag("secure");
        if kind == "hidden" && flag("required") {
            return Err(bad("a hidden parameter cannot be required"));
        }
        if (secure || kind == "hidden") && parameter.get("default").is_some() {
            return Err(bad("a secure or hidden parameter must not have a default"));
        }
        if name == TOKEN_PARAMETER && !(secure && kind == "hidden") {
            return Err(bad(
                "must be hidden and secure, so the token never reaches a browser",
            ));
        }
    }
    for required in [TOKEN_PARAMETER, SERVICE_URL_PARAMETER] {
        if !names.contains(&required) {
            return Err(invalid(
                MANIFEST,
                &format!("the {required:?} parameter is missing"),
            ));
        }
    }
    Ok(())
}

/// Zendesk requires `translations/<defaultLocale>.json` to exist.
fn check_default_locale(locale: Option<&Value>, files: &[String]) -> Result<(), PackageError> {
    let Some(locale) = locale.and_then(Value::as_str) else {
        return Err(invalid(
            MANIFEST,
            "\"defaultLocale\" must be a string such as \"en\"",
        ));
    };
    let translation = format!("translations/{locale}.json");
    if files.contains(&translation) {
        Ok(())
    } else {
        Err(invalid(
            MANIFEST,
            &format!("\"defaultLocale\" is {locale:?} but {translation} is missing"),
        ))
    }
}

/// `app.name`, the descriptions and instructions, and a label for every parameter.
fn check_translation(translation: &Value, manifest: &Value) -> Result<(), PackageError> {
    let text = |pointer: &str| {
        translation
            .pointer(pointer)
            .and_then(Value::as_str)
            .is_some_and(|t| !t.trim().is_empty())
    };
    for key in APP_TRANSLATION_KEYS {
        if !text(&format!("/app/{key}")) {
            return Err(invalid(
                TRANSLATION_EN,
                &format!("\"app.{key}\" must be a non-empty string"),
            ));
        }
    }
    let names = manifest
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("name").and_then(Value::as_str));
    for name in names {
        if !text(&format!("/app/parameters/{name}/label")) {
            return Err(invalid(
                TRANSLATION_EN,
                &format!("\"app.parameters.{name}.label\" must be a non-empty string"),
            ));
        }
    }
    Ok(())
}

/// The logo must be a PNG whose IHDR says `size` x `size`.
fn check_logo(app_dir: &Path, file: &str, size: u32) -> Result<(), PackageError> {
    let bytes = read_file(app_dir, file)?;
    let bad = |reason: String| PackageError::InvalidLogo {
        file: file.to_owned(),
        expected: size,
        reason,
    };
    let (width, height) = png_dimensions(&bytes).ok_or_else(|| bad("not a PNG file".to_owned()))?;
    if (width, height) == (size, size) {
        Ok(())
    } else {
        Err(bad(format!("it is {width}x{height}")))
    }
}

/// Width and height from a PNG's IHDR chunk (bytes 16..24, big-endian).
fn png_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.get(..8)? != PNG_SIGNATURE || bytes.get(12..16)? != b"IHDR" {
        return None;
    }
    let width = u32::from_be_bytes(bytes.get(16..20)?.try_into().ok()?);
    let height = u32::from_be_bytes(bytes.get(20..24)?.try_into().ok()?);
    Some((width, height))
}

/// Point the locations at `service_url`, set the `service_url` default and whitelist its
/// host, keeping everything else.
fn with_service_url(
    mut manifest: Value,
    service_url: &str,
    host: &str,
) -> Result<Value, PackageError> {
    let parameter = manifest
        .get_mut("parameters")
        .and_then(Value::as_array_mut)
        .and_then(|ps| {
            ps.iter_mut()
                .find(|p| p.get("name").and_then(Value::as_str) == Some(SERVICE_URL_PARAMETER))
        })
        .and_then(Value::as_object_mut)
        .ok_or_else(|| invalid(MANIFEST, "the \"service_url\" parameter is missing"))?;
    parameter.insert("default".to_owned(), Value::String(service_url.to_owned()));
    for name in LOCATIONS {
        if let Some(location) = manifest
            .pointer_mut(&format!("/location/support/{name}"))
            .and_then(Value::as_object_mut)
        {
            location.insert(
                "url".to_owned(),
                Value::String(format!("{service_url}{LOCATION_PATH}{name}")),
            );
        }
    }
    if let Some(fields) = manifest.as_object_mut() {
        fields.insert(
            "domainWhitelist".to_owned(),
            Value::Array(vec![Value::String(host.to_owned())]),
        );
    }
    Ok(manifest)
}

/// Set the single channel integration's `manifest_url`, keeping everything else.
fn with_manifest_url(mut requirements: Value, url: &str) -> Result<Value, PackageError> {
    let integrations = requirements
        .get_mut("channel_integrations")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| invalid(REQUIREMENTS, "\"channel_integrations\" must be an object"))?;
    if integrations.len() != 1 {
        return Err(invalid(
            REQUIREMENTS,
            &format!(
                "\"channel_integrations\" must declare exactly one integration, found {}",
                integrations.len()
            ),
        ));
    }
    let integration = integrations
        .values_mut()
        .next()
        .and_then(Value::as_object_mut)
        .ok_or_else(|| invalid(REQUIREMENTS, "the channel integration must be an object"))?;
    integration.insert("manifest_url".to_owned(), Value::String(url.to_owned()));
    Ok(requirements)
}

/// Write the zip: every entry at the root, the `rewritten` JSON files from their values.
fn write_zip(
    app_dir: &Path,
    files: &[String],
    rewritten: &[(&str, &Value)],
    out_file: &Path,
) -> Result<(), PackageError> {
    let io_err = |source| PackageError::Io {
        path: out_file.to_path_buf(),
        source,
    };
    let zip_err = |source| PackageError::Zip {
        path: out_file.to_path_buf(),
        source,
    };
    if let Some(parent) = out_file.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(io_err)?;
    }
    let file = fs::File::create(out_file).map_err(io_err)?;
    let mut zip = ZipWriter::new(BufWriter::new(file));
    let options = SimpleFileOptions::default().unix_permissions(0o644);
    for name in files {
        let contents = entry_contents(app_dir, name, rewritten)?;
        zip.start_file(name.as_str(), options).map_err(zip_err)?;
        zip.write_all(&contents).map_err(io_err)?;
    }
    let mut writer = zip.finish().map_err(zip_err)?;
    writer.flush().map_err(io_err)
}

fn entry_contents(
    app_dir: &Path,
    name: &str,
    rewritten: &[(&str, &Value)],
) -> Result<Vec<u8>, PackageError> {
    let Some((file, value)) = rewritten.iter().find(|(file, _)| *file == name) else {
        return read_file(app_dir, name);
    };
    let mut json =
        serde_json::to_vec_pretty(value).map_err(|source| PackageError::InvalidJson {
            file: (*file).to_owned(),
            source,
        })?;
    json.push(b'\n');
    Ok(json)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::io::Read;

    const APP_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/zendesk-app");
    const URL: &str = "https://desk.acme.test/manifest.json";

    /// A temporary copy of the real app folder, plus a dotfile that must be skipped.
    fn app_copy() -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        copy_dir(Path::new(APP_DIR), tmp.path());
        fs::write(tmp.path().join(".DS_Store"), b"junk").unwrap();
        tmp
    }

    fn copy_dir(from: &Path, to: &Path) {
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let path = entry.unwrap().path();
            let target = to.join(path.file_name().unwrap());
            if path.is_dir() {
                copy_dir(&path, &target);
            } else {
                fs::copy(&path, &target).unwrap();
            }
        }
    }

    fn package_copy(app: &Path, url: &str) -> (Result<PackageSummary, PackageError>, PathBuf) {
        let out = app.join("out/slackdesk.zip");
        (package(app, url, None, &out), out)
    }

    fn zip_entry(zip: &Path, name: &str) -> Vec<u8> {
        let mut archive = zip::ZipArchive::new(fs::File::open(zip).unwrap()).unwrap();
        let mut entry = archive.by_name(name).unwrap();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        bytes
    }

    #[test]
    fn a_valid_https_url_produces_a_zip_with_root_entries_and_that_url() {
        let app = app_copy();
        let out = app.path().join("dist/slackdesk.zip");

        let summary = package(app.path(), URL, None, &out).unwrap();

        let archive = zip::ZipArchive::new(fs::File::open(&out).unwrap()).unwrap();
        let mut names: Vec<String> = archive
            .file_names()
            .map(|n| n.unwrap().into_owned())
            .collect();
        names.sort();
        let mut expected: Vec<String> = REQUIRED_FILES.iter().map(|f| (*f).to_owned()).collect();
        expected.sort();
        assert_eq!(names, expected);
        assert_eq!(summary.files, expected);
        assert_eq!(summary.manifest_url, URL);
        assert_eq!(summary.service_url, "https://desk.acme.test");
        assert_eq!(summary.out_file, out);
        let requirements: Value = serde_json::from_slice(&zip_entry(&out, REQUIREMENTS)).unwrap();
        assert_eq!(
            requirements.pointer("/channel_integrations/slackdesk/manifest_url"),
            Some(&Value::String(URL.to_owned()))
        );
        assert_eq!(
            zip_entry(&out, LOGO),
            fs::read(app.path().join(LOGO)).unwrap()
        );
        let manifest: Value = serde_json::from_slice(&zip_entry(&out, MANIFEST)).unwrap();
        assert_eq!(manifest["signedUrls"], true);
        for name in LOCATIONS {
            assert_eq!(
                manifest["location"]["support"][name]["url"],
                format!("https://desk.acme.test/zendesk/app/location/{name}")
            );
        }
    }

    #[test]
    fn packaging_twice_into_the_app_folder_does_not_ship_the_old_zip() {
        let app = app_copy();
        let out = app.path().join("slackdesk.zip");
        let first = package(app.path(), URL, None, &out).unwrap();

        let summary = package(app.path(), URL, None, &out).unwrap();

        assert_eq!(summary.files, first.files);
        assert!(!summary.files.iter().any(|f| f.ends_with(".zip")));
    }

    #[test]
    fn http_urls_are_refused_even_for_localhost() {
        let app = app_copy();
        for url in [
            "http://desk.acme.test/manifest.json",
            "http://localhost:8080/manifest.json",
        ] {
            let (result, out) = package_copy(app.path(), url);
            assert!(
                matches!(result, Err(PackageError::ManifestUrlNotHttps { .. })),
                "{url}: {result:?}"
            );
            assert!(!out.exists());
        }
    }

    #[test]
    fn text_that_is_not_a_url_is_refused() {
        let app = app_copy();
        let (result, out) = package_copy(app.path(), "not a url");
        assert!(
            matches!(result, Err(PackageError::InvalidManifestUrl { .. })),
            "{result:?}"
        );
        assert!(!out.exists());
    }

    #[test]
    fn a_url_without_a_document_path_is_refused() {
        let (result, _) = package_copy(app_copy().path(), "https://desk.acme.test/");
        assert!(
            matches!(result, Err(PackageError::ManifestUrlWithoutPath { .. })),
            "{result:?}"
        );
    }

    #[test]
    fn a_url_with_credentials_is_refused() {
        let (result, _) = package_copy(
            app_copy().path(),
            "https://me:secret@desk.acme.test/manifest.json",
        );
        assert!(
            matches!(result, Err(PackageError::InvalidManifestUrl { .. })),
            "{result:?}"
        );
    }

    #[test]
    fn a_missing_logo_is_refused_naming_the_file() {
        let app = app_copy();
        fs::remove_file(app.path().join(LOGO_SMALL)).unwrap();

        let (result, out) = package_copy(app.path(), URL);

        let err = result.unwrap_err();
        assert!(matches!(&err, PackageError::MissingFile { file, .. } if file == LOGO_SMALL));
        assert!(err.to_string().contains("assets/logo-small.png"), "{err}");
        assert!(!out.exists());
    }

    #[test]
    fn a_logo_of_the_wrong_size_is_refused_naming_the_file() {
        let app = app_copy();
        fs::copy(app.path().join(LOGO_SMALL), app.path().join(LOGO)).unwrap();

        let err = package_copy(app.path(), URL).0.unwrap_err();

        assert!(matches!(&err, PackageError::InvalidLogo { file, .. } if file == LOGO));
        assert!(err.to_string().contains("128x128"), "{err}");
    }

    #[test]
    fn a_logo_that_is_not_a_png_is_refused() {
        let app = app_copy();
        fs::write(app.path().join(LOGO), b"GIF89a not a png at all").unwrap();

        let err = package_copy(app.path(), URL).0.unwrap_err();

        assert!(
            matches!(&err, PackageError::InvalidLogo { file, .. } if file == LOGO),
            "{err}"
        );
    }

    #[test]
    fn manifests_breaking_zendesks_rules_are_refused_naming_the_rule() {
        type Change = fn(&mut Value);
        let cases: [(&str, Change); 9] = [
            ("requirementsOnly", |m| {
                m["requirementsOnly"] = Value::Bool(true)
            }),
            ("frameworkVersion", |m| m["frameworkVersion"] = "1.0".into()),
            ("nav_bar", |m| {
                m["location"]["support"]
                    .as_object_mut()
                    .unwrap()
                    .remove("nav_bar");
            }),
            ("assets/top_bar.html", |m| {
                m["location"]["support"]["top_bar"]["url"] = "assets/top_bar.html".into();
            }),
            ("http://x.test/zendesk/app/location/nav_bar", |m| {
                m["location"]["support"]["nav_bar"]["url"] =
                    "http://x.test/zendesk/app/location/nav_bar".into();
            }),
            ("signedUrls", |m| {
                m.as_object_mut().unwrap().remove("signedUrls");
            }),
            ("hidden and secure", |m| {
                m["parameters"][1]["secure"] = Value::Bool(false)
            }),
            ("cannot be required", |m| {
                m["parameters"][1]["required"] = Value::Bool(true)
            }),
            ("domainWhitelist", |m| {
                m["domainWhitelist"] = serde_json::json!([])
            }),
        ];
        for (needle, change) in cases {
            let app = app_copy();
            let path = app.path().join(MANIFEST);
            let mut manifest: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
            change(&mut manifest);
            fs::write(&path, serde_json::to_vec(&manifest).unwrap()).unwrap();

            let (result, out) = package_copy(app.path(), URL);

            let err = result.unwrap_err();
            assert!(
                matches!(&err, PackageError::InvalidApp { file, .. } if file == MANIFEST),
                "{needle}: {err}"
            );
            assert!(err.to_string().contains(needle), "{needle}: {err}");
            assert!(!out.exists());
        }
    }

    #[test]
    fn a_location_without_its_icon_is_refused() {
        let app = app_copy();
        fs::remove_file(app.path().join(ICON_NAV_BAR)).unwrap();

        let err = package_copy(app.path(), URL).0.unwrap_err();

        assert!(err.to_string().contains("icon_nav_bar.svg"), "{err}");
    }

    #[test]
    fn a_translation_without_a_parameter_label_is_refused() {
        let app = app_copy();
        let path = app.path().join(TRANSLATION_EN);
        let mut translation: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        translation["app"]["parameters"]
            .as_object_mut()
            .unwrap()
            .remove("token");
        fs::write(&path, serde_json::to_vec(&translation).unwrap()).unwrap();

        let err = package_copy(app.path(), URL).0.unwrap_err();

        assert!(
            err.to_string().contains("app.parameters.token.label"),
            "{err}"
        );
    }

    #[test]
    fn the_service_url_must_be_an_https_origin() {
        let app = app_copy();
        for bad in [
            "http://desk.acme.test",
            "https://desk.acme.test/api",
            "https://u:p@desk.acme.test",
            "nope",
        ] {
            let out = app.path().join("out.zip");
            let err = package(app.path(), URL, Some(bad), &out).unwrap_err();
            assert!(
                matches!(err, PackageError::InvalidServiceUrl { .. }),
                "{bad}: {err}"
            );
            assert!(!out.exists());
        }
        let out = app.path().join("ok.zip");
        let summary = package(app.path(), URL, Some("https://status.acme.test/"), &out).unwrap();
        assert_eq!(summary.service_url, "https://status.acme.test");
        let manifest: Value = serde_json::from_slice(&zip_entry(&out, MANIFEST)).unwrap();
        assert_eq!(
            manifest["domainWhitelist"],
            serde_json::json!(["status.acme.test"])
        );
    }

    #[test]
    fn two_channel_integrations_are_refused() {
        let app = app_copy();
        let two =
            r#"{"channel_integrations": {"a": {"manifest_url": "x"}, "b": {"manifest_url": "y"}}}"#;
        fs::write(app.path().join(REQUIREMENTS), two).unwrap();

        let err = package_copy(app.path(), URL).0.unwrap_err();

        assert!(
            matches!(&err, PackageError::InvalidApp { file, .. } if file == REQUIREMENTS),
            "{err}"
        );
    }

    #[test]
    fn broken_json_is_refused_naming_the_file() {
        let app = app_copy();
        fs::write(app.path().join(TRANSLATION_EN), b"{\"app\": ").unwrap();

        let err = package_copy(app.path(), URL).0.unwrap_err();

        assert!(
            matches!(&err, PackageError::InvalidJson { file, .. } if file == TRANSLATION_EN),
            "{err}"
        );
    }

    #[test]
    fn a_missing_app_folder_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let err = package(
            &tmp.path().join("nope"),
            URL,
            None,
            &tmp.path().join("a.zip"),
        )
        .unwrap_err();
        assert!(matches!(err, PackageError::AppDirMissing { .. }), "{err}");
    }

    #[test]
    fn the_committed_logos_have_the_sizes_zendesk_requires() {
        for (file, size) in LOGO_SIZES {
            let bytes = fs::read(Path::new(APP_DIR).join(file)).unwrap();
            assert_eq!(png_dimensions(&bytes), Some((size, size)), "{file}");
        }
    }
}
