use slackdesk::storage::accounts;

use crate::support::{Backend, PUSH_TOKEN, SUBDOMAIN, TestApp, hidden_value, spawn_app};

async fn saving_a_new_account_hands_name_and_metadata_back_to_zendesk(backend: Backend) {
    let app = spawn_app(backend).await;

    let opened = app.open_admin("", "", true).await;
    assert_eq!(opened.status(), 200);
    let csp = opened.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("frame-ancestors https://*.zendesk.com"),
        "{csp}"
    );
    assert!(opened.headers().get("x-frame-options").is_none());
    let page = opened.text().await.unwrap();
    assert!(page.contains("id=\"settings-form\""));
    assert!(
        !page.contains(PUSH_TOKEN),
        "the push token never reaches the page"
    );
    let session = hidden_value(&page, "session").unwrap();

    let done = app
        .post_form(
            "/channel/admin/save",
            &[
                ("session", &session),
                ("name", "Support <Slack>"),
                ("ticket_tags", "Slack vip"),
            ],
        )
        .await;

    assert_eq!(done.status(), 200);
    let csp = done.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains(&app.zendesk.uri()),
        "form-action allows the return URL: {csp}"
    );
    let page = done.text().await.unwrap();
    assert!(page.contains(&format!("action=\"{}\"", app.return_url())));
    assert_eq!(
        hidden_value(&page, "name").as_deref(),
        Some("Support <Slack>")
    );
    assert!(
        page.contains("Support &#60;Slack&#62;") || page.contains("Support &lt;Slack&gt;"),
        "escaped"
    );
    let metadata = hidden_value(&page, "metadata").unwrap();
    assert!(metadata.len() < 200, "metadata is short");
    let account = accounts::find(&app.state.db, TestApp::account_id(&metadata))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.subdomain.as_str(), SUBDOMAIN);
    assert_eq!(account.settings.ticket_tags, vec!["slack", "vip"]);
    assert_eq!(
        account
            .push_token(&app.state.keys)
            .unwrap()
            .unwrap()
            .expose(),
        PUSH_TOKEN
    );
    assert!(account.delivers_by_push());
}

async fn editing_shows_stored_settings_and_keeps_the_newest_push_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(true).await;

    let return_url = app.return_url();
    let page = app
        .post_form(
            "/channel/admin",
            &[
                ("name", "Support Slack"),
                ("metadata", &metadata),
                ("state", ""),
                ("return_url", &return_url),
                ("subdomain", "acme"),
                ("locale", "en"),
                ("instance_push_id", "push-instance-2"),
                ("zendesk_access_token", "zdpush-newer-token"),
            ],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("editing an existing integration"));
    assert!(page.contains("value=\"slack\""), "stored tags are shown");
    assert!(
        page.contains("value=\"Support Slack\""),
        "the name Zendesk sent is shown"
    );
    let session = hidden_value(&page, "session").unwrap();
    let done = app
        .post_form(
            "/channel/admin/save",
            &[
                ("session", &session),
                ("name", "Renamed"),
                ("ticket_tags", ""),
                ("delivery", "pull_only"),
            ],
        )
        .await
        .text()
        .await
        .unwrap();

    assert_eq!(
        hidden_value(&done, "metadata").as_deref(),
        Some(metadata.as_str()),
        "metadata is kept"
    );
    let account = accounts::find(&app.state.db, TestApp::account_id(&metadata))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        account
            .push_token(&app.state.keys)
            .unwrap()
            .unwrap()
            .expose(),
        "zdpush-newer-token"
    );
    assert_eq!(account.instance_push_id.as_deref(), Some("push-instance-2"));
    assert!(!account.delivers_by_push(), "pull only was chosen");
}

async fn a_return_url_off_the_accounts_zendesk_host_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;

    let response = app
        .post_form(
            "/channel/admin",
            &[
                ("name", ""),
                ("metadata", ""),
                ("state", ""),
                ("return_url", "https://evil.example/steal"),
                ("subdomain", "acme"),
                ("locale", "en"),
            ],
        )
        .await;

    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("return_url"));
}

async fn forged_metadata_and_stale_forms_get_readable_refusals(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(false).await;
    let forged = format!("{}x", metadata);

    let refused = app.open_admin("x", &forged, false).await;
    assert_eq!(refused.status(), 401);
    assert!(
        refused.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );

    let stale = app
        .post_form(
            "/channel/admin/save",
            &[("session", "not-a-session"), ("name", "x")],
        )
        .await;
    assert_eq!(stale.status(), 401);
    assert!(stale.text().await.unwrap().contains("expired"));
}

async fn an_invalid_setting_shows_the_form_again_with_the_problem(backend: Backend) {
    let app = spawn_app(backend).await;
    let page = app.open_admin("", "", false).await.text().await.unwrap();
    let session = hidden_value(&page, "session").unwrap();

    let response = app
        .post_form(
            "/channel/admin/save",
            &[
                ("session", &session),
                ("name", "Support"),
                ("ticket_tags", "bad<tag>"),
            ],
        )
        .await;

    assert_eq!(response.status(), 400);
    let page = response.text().await.unwrap();
    assert!(page.contains("ticket_tags"));
    assert!(
        page.contains("id=\"settings-form\""),
        "the form is shown again"
    );
    let retry = app
        .post_form(
            "/channel/admin/save",
            &[
                ("session", &session),
                ("name", "Support"),
                ("ticket_tags", "good"),
            ],
        )
        .await;
    assert_eq!(
        retry.status(),
        200,
        "the same session still works after a mistake"
    );
}

on_both_databases!(
    saving_a_new_account_hands_name_and_metadata_back_to_zendesk,
    editing_shows_stored_settings_and_keeps_the_newest_push_token,
    a_return_url_off_the_accounts_zendesk_host_is_refused,
    forged_metadata_and_stale_forms_get_readable_refusals,
    an_invalid_setting_shows_the_form_again_with_the_problem
);
