//! Connecting Slack: the OAuth install from the admin UI, and linking channels there.

use slackdesk::storage::{channel_links, slack_workspaces, workspace_grants};

use crate::support::fake_slack;
use crate::support::{BOT_TOKEN, Backend, SLACK_CLIENT_ID, TestApp, hidden_value, spawn_app, team};

async fn the_admin_installs_slack_from_the_settings_and_links_a_channel(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(false).await;
    fake_slack::serve_oauth_access(&app.slack).await;
    fake_slack::serve_auth_test(&app.slack).await;
    fake_slack::serve_conversations(&app.slack, &[("C0CHAN", "support"), ("C0RAND", "random")])
        .await;
    let page = app
        .open_admin("Support", &metadata, false)
        .await
        .text()
        .await
        .unwrap();
    let session = hidden_value(&page, "session").unwrap();
    assert!(page.contains("id=\"connect-slack\""));

    let install = app.get(&format!("/slack/install?session={session}")).await;
    assert_eq!(install.status(), 302);
    let location = url::Url::parse(install.headers()["location"].to_str().unwrap()).unwrap();
    assert!(
        location
            .as_str()
            .starts_with(&format!("{}/oauth/v2/authorize", app.slack.uri()))
    );
    let query: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], SLACK_CLIENT_ID);
    assert!(
        query["scope"].contains("channels:history") && query["scope"].contains("reactions:write")
    );
    assert_eq!(
        query["redirect_uri"],
        "https://slackdesk.example.com/slack/oauth/callback"
    );
    let state = &query["state"];
    let cookie = install.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Secure"),
        "{cookie}"
    );
    let browser_cookie = cookie.split(';').next().unwrap().to_owned();
    let callback_url = app.url(&format!(
        "/slack/oauth/callback?code=abc&state={}",
        urlencode(state)
    ));

    let other_browser = app.http.get(&callback_url).send().await.unwrap();
    assert_eq!(
        other_browser.status(),
        400,
        "the callback only works in the browser that started the install"
    );
    let callback = app
        .http
        .get(&callback_url)
        .header("cookie", &browser_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(callback.status(), 200);
    assert!(
        callback
            .text()
            .await
            .unwrap()
            .contains("Slack is connected")
    );
    let workspace = slack_workspaces::find(&app.state.db, &app.state.keys, &team())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(workspace.bot_token.unwrap().expose(), BOT_TOKEN);
    assert_eq!(workspace.bot_id.as_deref(), Some("B0BOT"));
    assert!(
        workspace_grants::is_granted(&app.state.db, TestApp::account_id(&metadata), &team())
            .await
            .unwrap()
    );

    let page = app
        .open_admin("Support", &metadata, false)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("#support") && page.contains("#random"),
        "channel names come from Slack"
    );
    let session = hidden_value(&page, "session").unwrap();
    let saved = app
        .post_form(
            "/channel/admin/save",
            &[
                ("session", session.as_str()),
                ("name", "Support"),
                ("link", "T0TEAM:C0CHAN"),
                ("T0TEAM:C0CHAN:tags", "vip"),
                ("T0TEAM:C0CHAN:replies", "internal"),
                ("T0TEAM:C0CHAN:start", "every_message"),
                ("T0TEAM:C0CHAN:emoji", "ticket"),
                ("T0TEAM:C0CHAN:group", "5"),
                ("T0TEAM:C0CHAN:edits", "on"),
                ("T0TEAM:C0CHAN:reaction", "eyes"),
                ("T0TEAM:C0CHAN:priority", "urgent"),
                ("T0TEAM:C0CHAN:type", "problem"),
            ],
        )
        .await;
    assert_eq!(saved.status(), 200);
    let links = channel_links::for_account(&app.state.db, TestApp::account_id(&metadata))
        .await
        .unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].channel.as_str(), "C0CHAN");
    assert_eq!(links[0].settings.ticket_tags, vec!["vip"]);
    assert!(
        links[0].settings.replies_as_internal_notes
            && links[0].settings.sync_edits
            && !links[0].settings.sync_deletes
    );
    assert_eq!(
        (
            links[0].settings.same_sender_minutes,
            links[0].settings.ticket_reaction.as_str()
        ),
        (5, "eyes")
    );
    assert_eq!(links[0].settings.ticket_priority.as_deref(), Some("urgent"));
    assert_eq!(links[0].settings.ticket_type.as_deref(), Some("problem"));
    let page = app
        .open_admin("Support", &metadata, false)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("value=\"T0TEAM:C0CHAN\" checked"),
        "the stored link is shown"
    );
}

async fn forged_states_and_channels_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(false).await;
    app.connect_slack(&metadata).await;
    fake_slack::serve_conversations(&app.slack, &[("C0CHAN", "support")]).await;

    let forged = app
        .get("/slack/oauth/callback?code=abc&state=eyJ4IjoxfQ.test1.00")
        .await;
    assert_eq!(forged.status(), 400);
    let denied = app
        .get("/slack/oauth/callback?error=access_denied&state=x")
        .await;
    assert_eq!(denied.status(), 200);
    assert!(denied.text().await.unwrap().contains("cancelled"));
    assert!(
        fake_slack::received(&app.slack, "oauth.v2.access")
            .await
            .is_empty()
    );

    let page = app
        .open_admin("Support", &metadata, false)
        .await
        .text()
        .await
        .unwrap();
    let session = hidden_value(&page, "session").unwrap();
    let other_team = app
        .post_form(
            "/channel/admin/save",
            &[
                ("session", session.as_str()),
                ("name", "x"),
                ("link", "T0OTHER:C0CHAN"),
            ],
        )
        .await;
    assert_eq!(other_team.status(), 400);
    assert!(other_team.text().await.unwrap().contains("cannot see"));
    let hidden_channel = app
        .post_form(
            "/channel/admin/save",
            &[
                ("session", session.as_str()),
                ("name", "x"),
                ("link", "T0TEAM:C0SECRET"),
            ],
        )
        .await;
    assert_eq!(hidden_channel.status(), 400);
    assert!(hidden_channel.text().await.unwrap().contains("cannot see"));
}

async fn a_stranger_opening_a_new_account_for_the_same_subdomain_sees_no_workspace(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let owner = app.create_account(false).await;
    app.connect_slack(&owner).await;
    fake_slack::serve_conversations(&app.slack, &[("C0CHAN", "support")]).await;
    fake_slack::accept_posts(&app.slack, "1700000099.000900").await;

    // Anyone can open the admin UI for any subdomain: it must not reveal the owner's Slack.
    let page = app.open_admin("", "", false).await.text().await.unwrap();
    assert!(
        !page.contains("#support") && !page.contains("T0TEAM"),
        "no workspace of another account is shown"
    );
    let session = hidden_value(&page, "session").unwrap();
    let forged = app
        .post_form(
            "/channel/admin/save",
            &[
                ("session", session.as_str()),
                ("name", "x"),
                ("link", "T0TEAM:C0CHAN"),
            ],
        )
        .await;
    assert_eq!(
        forged.status(),
        400,
        "linking another account's channel is refused"
    );
    let stranger = app.create_account(false).await;
    let reply = app
        .post_form(
            "/channel/channelback",
            &[
                ("metadata", stranger.as_str()),
                ("thread_id", "slack:T0TEAM:C0CHAN:1700000000.000100"),
                ("message", "spam"),
            ],
        )
        .await;
    assert_eq!(reply.status(), 422);
    assert!(
        fake_slack::received(&app.slack, "chat.postMessage")
            .await
            .is_empty()
    );
}

fn urlencode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Runs the Slack install from the settings form's session, in the browser that started
/// it; returns the callback's answer.
async fn install_from_session(app: &TestApp, session: &str) -> reqwest::Response {
    let install = app.get(&format!("/slack/install?session={session}")).await;
    let location = url::Url::parse(install.headers()["location"].to_str().unwrap()).unwrap();
    let query: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    let cookie = install.headers()["set-cookie"].to_str().unwrap().to_owned();
    let browser_cookie = cookie.split(';').next().unwrap().to_owned();
    app.http
        .get(app.url(&format!(
            "/slack/oauth/callback?code=abc&state={}",
            urlencode(&query["state"])
        )))
        .header("cookie", &browser_cookie)
        .send()
        .await
        .unwrap()
}

/// A brand-new account: Slack is connected before the account is ever saved; the form
/// then shows the workspace's channels (keeping what was typed) and saving keeps them.
async fn slack_connected_before_a_new_account_is_saved_follows_it(backend: Backend) {
    let app = spawn_app(backend).await;
    fake_slack::serve_oauth_access(&app.slack).await;
    fake_slack::serve_auth_test(&app.slack).await;
    fake_slack::serve_conversations(&app.slack, &[("C0CHAN", "support")]).await;
    let page = app.open_admin("", "", false).await.text().await.unwrap();
    let session = hidden_value(&page, "session").unwrap();
    assert!(!page.contains("#support"));
    assert_eq!(install_from_session(&app, &session).await.status(), 200);

    let refreshed = app
        .post_form(
            "/channel/admin/save",
            &[
                ("session", session.as_str()),
                ("name", "Helpdesk"),
                ("ticket_tags", "from-slack"),
                ("refresh", "slack"),
            ],
        )
        .await;
    assert_eq!(refreshed.status(), 200);
    let page = refreshed.text().await.unwrap();
    assert!(
        page.contains("#support"),
        "the new workspace's channels are shown"
    );
    assert!(
        page.contains("value=\"Helpdesk\"") && page.contains("value=\"from-slack\""),
        "what was typed is kept"
    );
    let saved = app
        .post_form(
            "/channel/admin/save",
            &[
                ("session", session.as_str()),
                ("name", "Helpdesk"),
                ("link", "T0TEAM:C0CHAN"),
            ],
        )
        .await;
    assert_eq!(saved.status(), 200);
    let metadata = hidden_value(&saved.text().await.unwrap(), "metadata").unwrap();
    let account = TestApp::account_id(&metadata);
    assert!(
        workspace_grants::is_granted(&app.state.db, account, &team())
            .await
            .unwrap()
    );
    let links = channel_links::for_account(&app.state.db, account)
        .await
        .unwrap();
    assert_eq!(
        links.len(),
        1,
        "the channel ticked after the install is linked"
    );
}

/// A second workspace with an app that is not distributed: the settings say so before,
/// and the page after Slack's refusal names Slack's code and says how to distribute.
async fn a_second_workspace_is_guided_to_distributing_the_slack_app(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(false).await;
    app.connect_slack(&metadata).await;
    fake_slack::serve_conversations(&app.slack, &[("C0CHAN", "support")]).await;
    wiremock::Mock::given(wiremock::matchers::path("/api/oauth.v2.access"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"ok": false, "error": "invalid_team_for_non_distributed_app"}),
        ))
        .mount(&app.slack)
        .await;
    let page = app
        .open_admin("Support", &metadata, false)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("id=\"second-workspace\"") && page.contains("Manage Distribution"),
        "the settings say a second workspace needs distribution"
    );
    let session = hidden_value(&page, "session").unwrap();

    let callback = install_from_session(&app, &session).await;

    assert_eq!(callback.status(), 502);
    let text = callback.text().await.unwrap();
    assert!(
        text.contains("invalid_team_for_non_distributed_app")
            && text.contains("Manage Distribution"),
        "Slack's code and what to do: {text}"
    );
}

/// Slack sends the admin back with `error=…`: cancelled is said as such, other codes
/// are named (cut to a code's characters).
async fn slack_sending_the_admin_back_with_an_error_is_explained(backend: Backend) {
    let app = spawn_app(backend).await;
    let cancelled = app
        .get("/slack/oauth/callback?error=access_denied&state=x")
        .await;
    assert_eq!(cancelled.status(), 200);
    assert!(
        cancelled
            .text()
            .await
            .unwrap()
            .contains("cancelled in Slack")
    );
    let other = app
        .get("/slack/oauth/callback?error=invalid_scope%3Cscript%3E&state=x")
        .await;
    let text = other.text().await.unwrap();
    assert!(text.contains("(invalid_scopescript)"), "{text}");
    assert!(!text.contains("<script>"));
}

/// A mistake elsewhere on the form (a bad account tag) sends it back showing what was
/// ticked and typed, not what is stored.
async fn a_form_sent_back_with_a_mistake_keeps_the_channels_ticked(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(true).await;
    app.connect_slack(&metadata).await;
    fake_slack::serve_conversations(&app.slack, &[("C0CHAN", "support"), ("C0RAND", "random")])
        .await;
    let page = app
        .open_admin("Support", &metadata, false)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("value=\"T0TEAM:C0CHAN\" checked"));
    let session = hidden_value(&page, "session").unwrap();

    let response = app
        .post_form(
            "/channel/admin/save",
            &[
                ("session", session.as_str()),
                ("name", "Support"),
                ("ticket_tags", "bad<tag>"),
                ("link", "T0TEAM:C0RAND"),
                ("T0TEAM:C0RAND:tags", "vip-random"),
            ],
        )
        .await;

    assert_eq!(response.status(), 400);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("value=\"T0TEAM:C0RAND\" checked"),
        "the channel just ticked stays ticked"
    );
    assert!(
        !page.contains("value=\"T0TEAM:C0CHAN\" checked"),
        "the channel just unticked stays unticked"
    );
    assert!(page.contains("value=\"vip-random\""), "typed tags are kept");
    let links = channel_links::for_account(&app.state.db, TestApp::account_id(&metadata))
        .await
        .unwrap();
    assert_eq!(links.len(), 1, "nothing was stored");
    assert_eq!(links[0].channel.as_str(), "C0CHAN");
}

on_both_databases!(
    a_form_sent_back_with_a_mistake_keeps_the_channels_ticked,
    slack_connected_before_a_new_account_is_saved_follows_it,
    a_second_workspace_is_guided_to_distributing_the_slack_app,
    slack_sending_the_admin_back_with_an_error_is_explained,
    the_admin_installs_slack_from_the_settings_and_links_a_channel,
    forged_states_and_channels_are_refused,
    a_stranger_opening_a_new_account_for_the_same_subdomain_sees_no_workspace
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_slack_app_manifest_points_slack_at_this_deployment() {
    let app = spawn_app(Backend::Sqlite).await;

    let manifest = slackdesk::slack::app_manifest::render(&app.state.settings);

    assert!(manifest.contains("request_url: https://slackdesk.example.com/slack/events"));
    assert!(manifest.contains("- https://slackdesk.example.com/slack/oauth/callback"));
    for scope in slackdesk::slack::BOT_SCOPES {
        assert!(
            manifest.contains(&format!("      - {scope}\n")),
            "scope {scope}"
        );
    }
    for event in [
        "message.channels",
        "message.groups",
        "reaction_added",
        "app_uninstalled",
        "tokens_revoked",
    ] {
        assert!(
            manifest.contains(&format!("      - {event}\n")),
            "event {event}"
        );
    }
    assert!(
        manifest.contains("reactions:read"),
        "reaction_added needs reactions:read"
    );
}
