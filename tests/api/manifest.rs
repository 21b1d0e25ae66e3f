use crate::support::schemas::assert_matches_schema;
use crate::support::{Backend, Options, PUBLIC_URL, spawn_app, spawn_app_with};

async fn manifest_urls_are_absolute_and_pass_zendesks_schema(backend: Backend) {
    let app = spawn_app(backend).await;

    let response = app.get("/manifest.json").await;

    assert_eq!(response.status(), 200);
    let manifest: serde_json::Value = response.json().await.unwrap();
    assert_matches_schema("manifest.json", &manifest);
    assert_eq!(
        manifest["urls"]["pull_url"],
        format!("{PUBLIC_URL}/channel/pull")
    );
    assert_eq!(
        manifest["urls"]["admin_ui"],
        format!("{PUBLIC_URL}/channel/admin")
    );
    assert_eq!(manifest["id"], format!("{PUBLIC_URL}/manifest.json"));
    assert!(
        manifest.get("push_client_id").is_none(),
        "no push client configured"
    );
}

async fn manifest_announces_push_only_when_a_client_is_configured(backend: Backend) {
    let options = Options {
        push_client_id: Some("slackdesk_push"),
        ..Options::default()
    };
    let app = spawn_app_with(backend, options).await;

    let manifest: serde_json::Value = app.get("/manifest.json").await.json().await.unwrap();

    assert_matches_schema("manifest.json", &manifest);
    assert_eq!(manifest["push_client_id"], "slackdesk_push");
}

on_both_databases!(
    manifest_urls_are_absolute_and_pass_zendesks_schema,
    manifest_announces_push_only_when_a_client_is_configured
);
