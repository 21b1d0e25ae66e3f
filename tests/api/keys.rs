use slackdesk::crypto::{KeyRing, generate_key_line};
use slackdesk::storage::{accounts, rotation, slack_workspaces};

use crate::support::{BOT_TOKEN, Backend, PUSH_TOKEN, TestApp, spawn_app, team};

async fn rotation_reseals_every_credential_under_the_new_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(true).await;
    app.connect_slack(&metadata).await;
    let new_line = generate_key_line("test2").unwrap();
    let rotated = KeyRing::parse(&format!("{new_line},{}", app.key_ring)).unwrap();

    let report = rotation::reseal_all(&app.state.db, &rotated).await.unwrap();

    assert_eq!(report.resealed, 2, "{report:?}");
    let only_new = KeyRing::parse(&new_line).unwrap();
    let account = accounts::find(&app.state.db, TestApp::account_id(&metadata))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        account.push_token(&only_new).unwrap().unwrap().expose(),
        PUSH_TOKEN
    );
    let workspace = slack_workspaces::find(&app.state.db, &only_new, &team())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(workspace.bot_token.unwrap().expose(), BOT_TOKEN);
    assert!(
        account.push_token(&app.state.keys).is_err(),
        "the old key alone no longer reads it"
    );
    let again = rotation::reseal_all(&app.state.db, &rotated).await.unwrap();
    assert_eq!((again.resealed, again.current), (0, 2));
}

async fn credentials_are_never_stored_in_plain_text(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(true).await;
    app.connect_slack(&metadata).await;

    let tokens: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT push_token FROM accounts UNION ALL SELECT bot_token FROM slack_workspaces",
    )
    .fetch_all(app.state.db.pool())
    .await
    .unwrap();

    assert_eq!(tokens.len(), 2);
    for sealed in &tokens {
        assert!(
            !contains(sealed, PUSH_TOKEN.as_bytes()) && !contains(sealed, BOT_TOKEN.as_bytes())
        );
    }
    if backend == Backend::Sqlite {
        let raw = app.sqlite_bytes();
        assert!(!raw.is_empty());
        let secret = metadata.rsplit(':').next().unwrap();
        for needle in [PUSH_TOKEN, BOT_TOKEN, secret] {
            assert!(
                !contains(&raw, needle.as_bytes()),
                "database files hold no plaintext secret"
            );
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

on_both_databases!(
    rotation_reseals_every_credential_under_the_new_key,
    credentials_are_never_stored_in_plain_text
);
