//! `slackdesk zendesk-app package` run as a command: the zip it writes is unpacked and
//! checked against Zendesk's app rules (a ZAF 2.0 app with `top_bar` and `nav_bar`
//! locations served by slackdesk with `signedUrls` and their icons, a secure hidden token
//! whose host is whitelisted, the translations public apps need, the channel integration
//! in `requirements.json`).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

const MANIFEST_URL: &str = "https://desk.acme.test/manifest.json";
const SERVICE_URL: &str = "https://status.acme.test";

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_slackdesk"))
        .args(["zendesk-app", "package"])
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("the binary runs")
}

fn unzip(zip: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut entry = archive.by_index(i).unwrap();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            (entry.name().unwrap().into_owned(), bytes)
        })
        .collect()
}

fn json_of(files: &BTreeMap<String, Vec<u8>>, name: &str) -> Value {
    serde_json::from_slice(&files[name]).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn the_packaged_app_follows_zendesks_app_rules_with_both_urls_filled_in() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("app.zip");
    let app_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/zendesk-app");

    let output = run(&[
        "--manifest-url",
        MANIFEST_URL,
        "--service-url",
        SERVICE_URL,
        "--app-dir",
        app_dir,
        "--out",
        out.to_str().unwrap(),
    ]);

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(MANIFEST_URL) && stdout.contains(SERVICE_URL),
        "{stdout}"
    );
    let files = unzip(&out);
    for name in files.keys() {
        assert!(
            !name.starts_with("zendesk-app/") && !name.starts_with("tools/") && name != "README.md",
            "{name} must not be shipped or nested"
        );
    }

    let manifest = json_of(&files, "manifest.json");
    assert_eq!(manifest["frameworkVersion"], "2.0");
    assert!(manifest.get("requirementsOnly").is_none());
    for key in ["name", "email", "url"] {
        assert!(manifest["author"][key].is_string(), "author.{key}");
    }
    let locale = manifest["defaultLocale"].as_str().unwrap();
    assert!(files.contains_key(&format!("translations/{locale}.json")));
    assert_eq!(
        manifest["signedUrls"], true,
        "Zendesk must POST its signed JWT to the pages"
    );
    for location in ["top_bar", "nav_bar"] {
        let page = manifest["location"]["support"][location]["url"]
            .as_str()
            .unwrap_or_else(|| panic!("{location} has a url"));
        assert_eq!(
            page,
            format!("{SERVICE_URL}/zendesk/app/location/{location}"),
            "slackdesk serves the {location} page"
        );
        let icon = format!("assets/icon_{location}.svg");
        assert!(
            String::from_utf8_lossy(&files[&icon]).contains("<svg"),
            "{icon}"
        );
    }
    assert_eq!(manifest["domainWhitelist"], json!(["status.acme.test"]));
    let parameters = manifest["parameters"].as_array().unwrap();
    let parameter = |name: &str| {
        parameters
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} parameter"))
    };
    let token = parameter("token");
    assert_eq!(
        (&token["type"], &token["secure"], &token["required"]),
        (&json!("hidden"), &json!(true), &json!(false))
    );
    assert!(token.get("default").is_none());
    assert_eq!(parameter("service_url")["default"], SERVICE_URL);

    let requirements = json_of(&files, "requirements.json");
    let integrations = requirements["channel_integrations"].as_object().unwrap();
    assert_eq!(integrations.len(), 1);
    assert_eq!(integrations["slackdesk"]["manifest_url"], MANIFEST_URL);

    let translation = json_of(&files, "translations/en.json");
    for key in [
        "name",
        "short_description",
        "long_description",
        "installation_instructions",
    ] {
        assert!(
            translation["app"][key]
                .as_str()
                .is_some_and(|t| t.len() > 10 || key == "name"),
            "app.{key}"
        );
    }
    for parameter in parameters {
        let name = parameter["name"].as_str().unwrap();
        assert!(
            translation["app"]["parameters"][name]["label"].is_string(),
            "label of {name}"
        );
    }

    assert!(
        !files
            .keys()
            .any(|f| f.ends_with(".html") || f.ends_with(".js")),
        "the pages and their script come from slackdesk, not the zip"
    );
    assert!(files["assets/logo.png"].starts_with(b"\x89PNG"));
}

#[test]
fn the_service_url_defaults_to_the_manifest_urls_origin_and_must_be_https() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("app.zip");
    let app_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/zendesk-app");
    let out_arg = out.to_str().unwrap();

    let refused = run(&[
        "--manifest-url",
        MANIFEST_URL,
        "--service-url",
        "http://status.acme.test",
        "--app-dir",
        app_dir,
        "--out",
        out_arg,
    ]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("service URL"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(!out.exists());

    let output = run(&[
        "--manifest-url",
        MANIFEST_URL,
        "--app-dir",
        app_dir,
        "--out",
        out_arg,
    ]);
    assert!(output.status.success());
    let manifest = json_of(&unzip(&out), "manifest.json");
    assert_eq!(manifest["domainWhitelist"], json!(["desk.acme.test"]));
}
