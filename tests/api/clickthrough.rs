use crate::support::{Backend, fake_slack, spawn_app};

async fn a_known_message_redirects_to_its_slack_permalink(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(false).await;
    app.connect_slack(&metadata).await;
    fake_slack::serve_permalink(
        &app.slack,
        "https://acme.slack.com/archives/C0CHAN/p1700000000000100",
    )
    .await;

    let response = app
        .get("/channel/clickthrough?external_id=slack%3AT0TEAM%3AC0CHAN%3A1700000000.000100")
        .await;

    assert_eq!(response.status(), 302);
    assert_eq!(
        response.headers()["location"],
        "https://acme.slack.com/archives/C0CHAN/p1700000000000100"
    );
}

async fn unknown_or_malformed_ids_get_a_404_page(backend: Backend) {
    let app = spawn_app(backend).await;

    for query in [
        "",
        "?external_id=",
        "?external_id=https%3A%2F%2Fevil.example",
        "?external_id=slack%3AT9%3AC9%3A1700000000.000100",
    ] {
        let response = app.get(&format!("/channel/clickthrough{query}")).await;
        assert_eq!(response.status(), 404, "{query}");
        assert!(response.headers().get("location").is_none());
        assert!(response.text().await.unwrap().contains("Not found"));
    }
}

on_both_databases!(
    a_known_message_redirects_to_its_slack_permalink,
    unknown_or_malformed_ids_get_a_404_page
);
