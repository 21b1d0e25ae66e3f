//! The agents' Zendesk app, server side: authorizing it through Zendesk OAuth (the token
//! goes from slackdesk to Zendesk's installation settings and nowhere else), the app
//! pages Zendesk opens with a signed ZAF JWT (which alone says who the agent is), the
//! `/app/v1` API the app reaches through Zendesk's proxy, per-agent limits, the app
//! settings, and admins opening the board from the app. The browser test at the end
//! drives the real app pages in headless Chromium.

use serde_json::{Value, json};
use slackdesk::agent_app::token;
use slackdesk::clock::Clock;
use slackdesk::domain::{Subdomain, ZendeskUserId};
use slackdesk::storage::app_settings::{self, AppAccess};
use sqlx::Row;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::statuses::{ADMIN, AGENT, BIG, T0, connect_account, new_key};
use crate::support::{Backend, Options, PUBLIC_URL, TestApp, spawn_app_with};

const INSTALLATION: i64 = 4242;
const ADMIN_ACCESS: &str = "zd-oauth-admin-5e1f";
const AGENT_ACCESS: &str = "zd-oauth-agent-77b0";
const END_USER: i64 = 555;
const APP_ID: i64 = 9001;

/// The stand-in Zendesk's app key pair (test only): Zendesk signs ZAF JWTs with the
/// private key and serves the public one at `GET /api/v2/apps/{app_id}/public_key.pem`.
const ZAF_PRIVATE_KEY: &str = "-----BEGIN PRIVATE KEY-----\n\
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCGrTYNKuSWwEyb\n\
PiNQRPrxYdWm/fhQfoV5cwG3AVfAy4PS5frQpxsBmy8/x2bxlcInmO1ZgeHtEqI6\n\
YdT8AIUig9RKi6Z6OTaiSApCjxQyG14RZT3zlYYaJ/HwobcpZ8BtU/m0Ut237LQA\n\
qmVAiCiCPSypgPHmOBNDeqb2kUebqdSnPT4QuAfRqBpmOyX/ekkbBrq56WeM9FWZ\n\
DPekZv09T93YNCmnZa9Ji3SLJkfPgY6gNqjAqEwuN+G+5nkDC3yJ8WZf4hARkmQi\n\
BwIjfo7WkHcRK/olc/L94q3Yp5Vvt9ZTrNgZf2OjN6Uj7rDkn0Ek6u64qu2A4yW5\n\
ykq68hQ7AgMBAAECgf8iqw2LvJiBz5hPKvyFxtWfGkNlbJTMI8Wel3xZhhiQ1Wxm\n\
kQBMgre9y7TeAvaWoENA7jaRhyqHwvdmQy9Dr6tityZu1uqD8mmd9lPhAY1+JVor\n\
U2SFnHgCdt+EK7Z6pVQwaiDDypEVer+oOQGkTjVShKAUNWoPv8YCf0N7m7cgDeth\n\
nDL34TR7sq0KW8ScMSrdEqZu67AR7fisgrzKbNxFl+rPcd5mP7hQDYZvjIphQq8Q\n\
H/b9fes3IzWOHNF+cy4okiO6I0fMi6iF8yFqx2utGlnnPKt5PE/EfoRvAjK+xGk3\n\
kK2EyytdJD9ir7L0LG6ItJHwqckjGMmI8Yy4/1ECgYEAvFLSJ7mfBN1vGkaB8x8D\n\
mJTbTm7C5OObe7MUdIS9q+mW2w6pjszbj4Wg6LXZJEYPAbK2nXlNJp6VBlIrG2Ab\n\
XUJfrn/PwYmJ8Z4yBacPR1oO1NEg5rQVbN5eNlSrWWDJ+9Hv/bCvcZH6ARLrdGry\n\
bUj+sh0Cl5WGny3I3y7jwWsCgYEAtxMKb2IOoG1pt7hB6AZM0n4+Z5utOg3kidxU\n\
JX9eiIAv7KFJz+bm5HqZ/Ih8PElYqfi7XyEQ6hjvSiqbnVHfITBzbOi0qB/SncGR\n\
Lx2clVqeRijH+cNQmMHf0MFDM02bR7ooeoVIBzW2zFyhyn+byoGndlAqXz3I0Dt5\n\
ILRGHHECgYEAi4H7BsyePXdgR6G1wInYGx8iux6YKAFofCF0ZMC01XZsd4iMGSou\n\
+EowolOcMR/pHAPs/gkPGy3dDdqu7k+q1dJGmTk7iY6+7ouXWNKiIeRYGlV1vxHm\n\
0UiFmE/uw35NAsxJsbBCt6pA/qyqWgqj3kt1yjJtaietm5vKM3ND61MCgYEAtJaU\n\
uZCJixjCqtaYNI9aYlzjpAI9m0GvCYqMerysfIuuOoZTMEC9y+1gTmo32qQjUO8p\n\
rUoJzFIyYP+spz/mkW+gvHLEGf/iG3mghFB6cB2GeQCrWqWesEC2Tc8GQeow3U01\n\
tr4Ycfw7SFWrxvufqt/AWAX19iMVHss7zdXmPxECgYBH6d90iptabFHZoMPqiKPQ\n\
gihl3NAdL2Hw+lNvr1n1MQCvoJmzQfzwXtg0fpE8D4UJ+VaPevFShVcSz/mqfp8B\n\
tKdXPBw0/oBDFaGFVSym0kjNxOw7fml0wa8Xft80NbaQwMoRiyhs9igYl9162lu5\n\
GaTgfXRw0NpjS78UrusOcQ==\n\
-----END PRIVATE KEY-----";
const ZAF_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----\n\
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAhq02DSrklsBMmz4jUET6\n\
8WHVpv34UH6FeXMBtwFXwMuD0uX60KcbAZsvP8dm8ZXCJ5jtWYHh7RKiOmHU/ACF\n\
IoPUSoumejk2okgKQo8UMhteEWU985WGGifx8KG3KWfAbVP5tFLdt+y0AKplQIgo\n\
gj0sqYDx5jgTQ3qm9pFHm6nUpz0+ELgH0agaZjsl/3pJGwa6uelnjPRVmQz3pGb9\n\
PU/d2DQpp2WvSYt0iyZHz4GOoDaowKhMLjfhvuZ5Awt8ifFmX+IQEZJkIgcCI36O\n\
1pB3ESv6JXPy/eKt2KeVb7fWU6zYGX9jozelI+6w5J9BJOruuKrtgOMlucpKuvIU\n\
OwIDAQAB\n\
-----END PUBLIC KEY-----";
/// Another key (test only): what a forger signs with.
const FORGER_PRIVATE_KEY: &str = "-----BEGIN PRIVATE KEY-----\n\
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDaumLI/0wHE9zX\n\
3nUDSBiqR2w9Y2tlEJazrk1ZHBbGkUZdHwc6qe7UuEFR9qU1RsPeFXLM3aUT4x46\n\
l4wj4kwyCEyXKB83QK6aqDEdA92n/ocIcr/6ErGuahh9f+zCFtoXXpwm317qnaNR\n\
zlXtkFqG//Kl3zRW5fZAbKOdLrPeYVAmQr9TMXZ8Y3zN2ZQJOlZZ2LEF7Ye59WT2\n\
dzyM7qRvP+DjjlZRZKO3T9wQOFvSBZikxmMBlQpgs9zkKU//Q5l5ZVMSmpuwv2rH\n\
znS7ClT659xTW/aj/tK5z+HQTw661X4FURGgng8IYI6l9O0YVlyNVxd6RXUWzmFD\n\
V1JwrnJ1AgMBAAECggEAWbFl0euSxzI3dRQloq9dYfJA6hmLUBnR2qPG1xxEILAx\n\
DP2szrshk3xtWMmOLL80kaz08xqO141id39uucZSHZA2rCOJTXSKRSRkY3QS4JFo\n\
2SeJHuiskQuzuD8NnPeW/k9PNEeT2hzDfMfih7US0lpBrBBQG7RYW0nRfCLLIoy+\n\
C992tZ+NeQNuOlXfNX5O/8/Qdf9A4MRkhWyCW2O5+IvttI+jWKhu5vwfvkYxKz5l\n\
CP/nYSNqFKo9cJxUGr46NuBAEahPF9GmAglLmSqVChji7nnl3u+cXXAu3M7TewGC\n\
OXtwEkZc6bUFW5QZlElm7JoGXH5Mk6ExY4Fa6OhyHwKBgQD062img+P7a7VwblK7\n\
xkR1+bYpWx0UNFNed0qIaRPZTKvWXV3TX6xU7Tno3B/Lbguqohw0YII1hC3XE93V\n\
RuspUgLS3N5wzfNreU0ct1tj4OMjMfmdkyTagqmPvrLjqQAqGxwp8Yuu0+Jvyub2\n\
4t8piP0bcvkvZ5if8V2DM678IwKBgQDkn6JmJgl2DJlYuDXp219XSgg6CyuHOdCY\n\
FKhE5jLJ/Uf4hA1t09qiHeNrH86EHgEUtu5Jp0MzgjO1qlPOvwKlDxW7tqOFocCv\n\
5e7vtmO/jnPXQv4fxRzAdyhWUT68omat3Keb4qi+LQ29YeWV17QpgWf5McWSkn8s\n\
vYTxjWRUhwKBgGy2eXNAI9gbzSOktLCIpya+uq7MtLGdMExEIx89lQPlVnkGZHlI\n\
hFQGIKhN3QcNR7xrzJ0rIWDj1P0c4mCi5AspTfuO8mWb5SqVYzcV5EkHL4sVybi5\n\
8afUS7N0cC9BesM12WB8yQXHI0GADNkVhv0Gw2KFvDnggAyutFVigY+FAoGBAKMk\n\
PtDBp9KzXuHuYZqFTl2NmJ1Cx0bxvKYpZ4Hy+p8kvCzcnnCW0tcImPYidk3U01Si\n\
zRuF3fBtotSpvLA1oX+DajDPPZToPgXHAF/SOQ/CaWtchNbK45976C7gPvKAuOCs\n\
KnaUoXFD2SAhMaFhkVBk5XrvR1s2asXUX3+3M7cVAoGAZ6NPADHyKVN6/yfUupq7\n\
zZDdiCmhveh5gvc9E3X9vc1Ab9haH0FVsj+VcG00LQWAN4mT8pyIGzn8wTDvBVXP\n\
CDA/eei1IOh5gX71MFMV1MJxUbgwGADe95IipqUVc4TADEEh9J6kK5KDqn3vxnbG\n\
OA2p8dUKClE0jdyV45THRfY=\n\
-----END PRIVATE KEY-----";

fn acme() -> Subdomain {
    Subdomain::parse("acme").unwrap()
}

/// An app on a manual clock, acme connected (agents AGENT and BIG, admin ADMIN), OAuth
/// configured, and Zendesk's token endpoint and installation update faked.
async fn ready(backend: Backend) -> TestApp {
    ready_with(backend, Some(Clock::manual(T0))).await
}

async fn ready_with(backend: Backend, clock: Option<Clock>) -> TestApp {
    let app = spawn_app_with(
        backend,
        Options {
            clock,
            zendesk_oauth: true,
            zendesk_app_id: Some(9001),
            ..Options::default()
        },
    )
    .await;
    connect_account(&app, "acme", &[AGENT, BIG]).await;
    for (code, access) in [("admin-code", ADMIN_ACCESS), ("agent-code", AGENT_ACCESS)] {
        Mock::given(method("POST"))
            .and(path("/z/acme/oauth/tokens"))
            .and(body_partial_json(json!({
                "code": code,
                "redirect_uri": format!("{PUBLIC_URL}/zendesk/app/callback")
            })))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"access_token": access, "token_type": "bearer"})),
            )
            .mount(&app.zendesk)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/z/acme/api/v2/users/me.json"))
        .and(header(
            "authorization",
            format!("Bearer {AGENT_ACCESS}").as_str(),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"user": {"id": AGENT, "role": "agent"}})),
        )
        .with_priority(1)
        .mount(&app.zendesk)
        .await;
    for id in [INSTALLATION, INSTALLATION + 1] {
        installation_is(&app, id, APP_ID, PUBLIC_URL).await;
    }
    Mock::given(method("GET"))
        .and(path(format!("/z/acme/api/v2/apps/{APP_ID}/public_key.pem")))
        .respond_with(ResponseTemplate::new(200).set_body_string(ZAF_PUBLIC_KEY))
        .mount(&app.zendesk)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!(
            "/z/acme/api/v2/apps/installations/{INSTALLATION}.json"
        )))
        .and(header(
            "authorization",
            format!("Bearer {ADMIN_ACCESS}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": INSTALLATION})))
        .mount(&app.zendesk)
        .await;
    app
}

/// Fakes `GET /api/v2/apps/installations/{id}.json`.
async fn installation_is(app: &TestApp, id: i64, app_id: i64, service_url: &str) {
    Mock::given(method("GET"))
        .and(path(format!("/z/acme/api/v2/apps/installations/{id}.json")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"installation": {
                "id": id, "app_id": app_id, "settings": {"service_url": service_url}
            }})),
        )
        .mount(&app.zendesk)
        .await;
}

async fn mint(app: &TestApp) -> String {
    token::mint(
        &app.state.db,
        &acme(),
        INSTALLATION,
        ZendeskUserId::new(ADMIN).unwrap(),
        T0,
    )
    .await
    .unwrap()
    .token
}

/// Starts an OAuth round trip at `start` and comes back with `code`; returns the
/// callback's status, body and session cookie.
async fn round_trip(app: &TestApp, start: &str, code: &str) -> (u16, String, Option<String>) {
    let response = app.get(start).await;
    assert_eq!(response.status(), 302, "{start}");
    let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(
        location.as_str().split('?').next().unwrap(),
        format!("{}/oauth/authorizations/new", app.zendesk_base())
    );
    let query: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(
        query["redirect_uri"],
        format!("{PUBLIC_URL}/zendesk/app/callback")
    );
    let nonce = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        nonce.contains("SameSite=Lax") && nonce.contains("HttpOnly"),
        "{nonce}"
    );
    let callback = app
        .http
        .get(app.url(&format!(
            "/zendesk/app/callback?code={code}&state={}",
            query["state"]
        )))
        .header("Cookie", nonce.split(';').next().unwrap())
        .send()
        .await
        .unwrap();
    let status = callback.status().as_u16();
    let cookie = callback
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned());
    (status, callback.text().await.unwrap(), cookie)
}

/// The tokens written into the installation's settings, in order.
async fn installed_tokens(app: &TestApp) -> Vec<String> {
    app.zendesk
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "PUT")
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            assert_eq!(body["settings"]["service_url"], PUBLIC_URL);
            body["settings"]["token"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// Signs `claims` as a ZAF JWT (RS256) with the PKCS#8 PEM `private_pem`, as Zendesk does.
fn sign_jwt(private_pem: &str, claims: &Value) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let der: String = private_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let key = ring::signature::RsaKeyPair::from_pkcs8(&STANDARD.decode(der).unwrap()).unwrap();
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"RS256"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        input.as_bytes(),
        &mut signature,
    )
    .unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// The claims Zendesk puts into the ZAF JWT for `user_id` opening the app at `now_ms`.
fn claims(user_id: i64, now_ms: i64) -> Value {
    let iat = now_ms / 1000;
    json!({
        "iss": "acme.zendesk.com",
        "iat": iat,
        "exp": iat + 300,
        "aud": format!("https://acme.zendesk.com/api/v2/apps/installations/{INSTALLATION}.json"),
        "sub": format!("https://acme.zendesk.com/api/v2/users/{user_id}.json"),
        "qsh": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "cxt": {"product": "support", "location": "top_bar"}
    })
}

/// Zendesk opening an app location: POST `token=<jwt>`; the status and the page.
async fn post_location(app: &TestApp, location: &str, jwt: &str) -> (u16, String) {
    let response = app
        .http
        .post(app.url(&format!(
            "/zendesk/app/location/{location}?origin=https%3A%2F%2Facme.zendesk.com&app_guid=g-1"
        )))
        .form(&[("token", jwt)])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

fn session_in(page: &str) -> Option<String> {
    let value = page.split("data-session=\"").nth(1)?.split('"').next()?;
    (!value.is_empty()).then(|| value.to_owned())
}

/// Zendesk opens the top bar for `user_id` with a valid JWT: the agent session.
async fn open_app(app: &TestApp, user_id: i64) -> String {
    let jwt = sign_jwt(ZAF_PRIVATE_KEY, &claims(user_id, app.clock.now_ms()));
    let (status, page) = post_location(app, "top_bar", &jwt).await;
    assert_eq!(status, 200, "{page}");
    session_in(&page).expect("the page carries a session")
}

async fn sessions(app: &TestApp) -> i64 {
    slackdesk::storage::app_sessions::count(&app.state.db)
        .await
        .unwrap()
}

async fn call(
    app: &TestApp,
    token: Option<&str>,
    session: Option<&str>,
    verb: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut request = match verb {
        "GET" => app.http.get(app.url(path)),
        _ => app.http.post(app.url(path)),
    };
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    if let Some(session) = session {
        request = request.header("X-Slackdesk-Session", session);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn last_active(app: &TestApp, user_id: i64) -> Option<i64> {
    sqlx::query(
        "SELECT last_active_at FROM zendesk_agents WHERE subdomain = 'acme' AND user_id = $1",
    )
    .bind(user_id)
    .fetch_one(app.state.db.pool())
    .await
    .unwrap()
    .try_get("last_active_at")
    .unwrap()
}

async fn an_admin_authorizes_the_app_and_the_token_goes_only_to_zendesk(backend: Backend) {
    let app = ready(backend).await;
    let start = format!("/zendesk/app/authorize?subdomain=acme&installation_id={INSTALLATION}");

    let (status, page, cookie) = round_trip(&app, &start, "admin-code").await;

    assert_eq!(status, 200, "{page}");
    assert!(page.contains("slackdesk is authorized"), "{page}");
    assert!(cookie.is_some_and(|c| c.starts_with("sd_board=")));
    let tokens = installed_tokens(&app).await;
    assert_eq!(tokens.len(), 1);
    let first = tokens[0].clone();
    assert!(first.starts_with("sdapp_"), "{first}");
    assert!(
        !page.contains(&first),
        "the token must not reach the browser"
    );
    let stored: Vec<String> = sqlx::query_scalar("SELECT secret_hash FROM app_tokens")
        .fetch_all(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], first, "only a hash is stored");
    let agent = open_app(&app, AGENT).await;
    let (status, me) = call(&app, Some(&first), Some(&agent), "GET", "/app/v1/me", None).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["user_id"], AGENT);
    assert_eq!(me["status"], Value::Null);

    // Authorizing again replaces the token; the old one stops working.
    let (status, _, _) = round_trip(&app, &start, "admin-code").await;
    assert_eq!(status, 200);
    let tokens = installed_tokens(&app).await;
    assert_eq!(tokens.len(), 2);
    let path = "/app/v1/me";
    assert_eq!(
        call(&app, Some(&first), Some(&agent), "GET", path, None)
            .await
            .0,
        401
    );
    assert_eq!(
        call(&app, Some(&tokens[1]), Some(&agent), "GET", path, None)
            .await
            .0,
        200
    );
}

async fn an_agent_cannot_authorize_the_app(backend: Backend) {
    let app = ready(backend).await;
    Mock::given(method("GET"))
        .and(path("/z/acme/api/v2/users/me.json"))
        .and(header(
            "authorization",
            format!("Bearer {ADMIN_ACCESS}").as_str(),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"user": {"id": AGENT, "role": "agent"}})),
        )
        .with_priority(1)
        .mount(&app.zendesk)
        .await;
    let start = format!("/zendesk/app/authorize?subdomain=acme&installation_id={INSTALLATION}");

    let (status, page, cookie) = round_trip(&app, &start, "admin-code").await;

    assert_eq!(status, 403, "{page}");
    assert!(page.contains("Only a Zendesk admin"), "{page}");
    assert!(cookie.is_none());
    assert!(installed_tokens(&app).await.is_empty());
}

async fn the_token_is_never_written_into_another_apps_installation(backend: Backend) {
    let app = ready(backend).await;
    let before: String = sqlx::query_scalar("SELECT auth_kind FROM zendesk_connections")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(before, "api_token", "connected with an API token first");
    installation_is(&app, 5555, 9001, "https://elsewhere.example.com").await;
    installation_is(&app, 6666, 1234, PUBLIC_URL).await;

    for other in [5555, 6666] {
        let start = format!("/zendesk/app/authorize?subdomain=acme&installation_id={other}");
        let (status, page, _) = round_trip(&app, &start, "admin-code").await;
        assert_eq!(status, 422, "{other}: {page}");
        assert!(page.contains("not the slackdesk app"), "{page}");
    }

    assert!(installed_tokens(&app).await.is_empty(), "nothing was PUT");
    let tokens: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM app_tokens")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(tokens, 0);
    let kind: String = sqlx::query_scalar("SELECT auth_kind FROM zendesk_connections")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(
        kind, "api_token",
        "a refused authorization keeps the stored credential"
    );
}

async fn a_failed_installation_update_keeps_the_old_token(backend: Backend) {
    let app = ready(backend).await;
    let old = mint(&app).await;
    let other_installation = INSTALLATION + 1;
    Mock::given(method("PUT"))
        .and(path(format!(
            "/z/acme/api/v2/apps/installations/{other_installation}.json"
        )))
        .respond_with(ResponseTemplate::new(404))
        .mount(&app.zendesk)
        .await;
    let start =
        format!("/zendesk/app/authorize?subdomain=acme&installation_id={other_installation}");

    let (status, page, _) = round_trip(&app, &start, "admin-code").await;

    assert_eq!(status, 502, "{page}");
    let live: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM app_tokens")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(live, 1, "the unwritten token is deleted");
    let agent = open_app(&app, AGENT).await;
    let (status, _) = call(&app, Some(&old), Some(&agent), "GET", "/app/v1/me", None).await;
    assert_eq!(status, 200);
}

async fn the_app_sets_the_agents_own_status_and_the_status_api_sees_it(backend: Backend) {
    let app = ready(backend).await;
    let token = mint(&app).await;
    let agent = open_app(&app, AGENT).await;
    let away = json!({"status": "away"});
    let (t, s) = (Some(token.as_str()), Some(agent.as_str()));

    let (status, first) = call(&app, t, s, "POST", "/app/v1/status", Some(&away)).await;
    let (_, again) = call(&app, t, s, "POST", "/app/v1/status", Some(&away)).await;
    let own = json!({"user_id": AGENT, "status": "away"});
    let (status_naming_self, _) = call(&app, t, s, "POST", "/app/v1/status", Some(&own)).await;

    assert_eq!(status, 200, "{first}");
    assert_eq!(first["user_id"], AGENT);
    assert_eq!(first["status"], "away");
    assert_eq!(first["changed"], true);
    assert_eq!(first["updated_by"], AGENT);
    assert_eq!(first["updated_at"], "2026-03-29T00:30:00.250Z");
    assert_eq!(again["changed"], false);
    assert_eq!(status_naming_self, 200, "naming oneself is fine");
    let key = new_key(&app, "acme").await;
    let (status, seen) = crate::statuses::get(
        &app,
        &key,
        &format!("/zendesk/users/{AGENT}/statuses/current"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(seen["user_status"]["status"], "away");
    assert_eq!(seen["user_status"]["updated_by"], AGENT);
    assert_eq!(last_active(&app, AGENT).await, Some(T0));
}

async fn heartbeats_count_as_activity_and_report_changes_made_elsewhere(backend: Backend) {
    let app = ready(backend).await;
    let token = mint(&app).await;
    let big = open_app(&app, BIG).await;
    let key = new_key(&app, "acme").await;
    let (status, _) = crate::statuses::post(
        &app,
        &key,
        &json!({"user_statuses": [{"user_id": BIG, "status": "online"}], "notify_app": false}),
    )
    .await;
    assert_eq!(status, 200);
    app.clock.advance(90_000);

    let (status, beat) = call(
        &app,
        Some(&token),
        Some(&big),
        "POST",
        "/app/v1/heartbeat",
        Some(&json!({})),
    )
    .await;

    assert_eq!(status, 200, "{beat}");
    assert_eq!(beat["user_id"], json!(BIG), "exact 64-bit id");
    assert_eq!(beat["status"], "online");
    assert_eq!(beat["updated_by"], ADMIN);
    assert_eq!(last_active(&app, BIG).await, Some(T0 + 90_000));
}

async fn the_open_app_keeps_an_agent_from_going_idle(backend: Backend) {
    use slackdesk::statuses::status_rules::run_once;
    use slackdesk::storage::status_rules::{self, Rules};
    const MINUTE: i64 = 60_000;
    let app = ready(backend).await;
    let token = mint(&app).await;
    let agent = open_app(&app, AGENT).await;
    let (t, s) = (Some(token.as_str()), Some(agent.as_str()));
    let rules = Rules {
        idle_minutes: Some(30),
        ..Rules::default()
    };
    status_rules::save(&app.state.db, &acme(), &rules, T0)
        .await
        .unwrap();
    let online = json!({"status": "online"});
    let beat = json!({});
    assert_eq!(
        call(&app, t, s, "POST", "/app/v1/status", Some(&online))
            .await
            .0,
        200
    );

    // The app heartbeats every minute while open: 45 minutes later the agent is online.
    for _ in 0..45 {
        app.clock.advance(MINUTE);
        let (status, _) = call(&app, t, s, "POST", "/app/v1/heartbeat", Some(&beat)).await;
        assert_eq!(status, 200);
        assert_eq!(run_once(&app.state).await.unwrap().idled, 0);
    }
    // Closed for 31 minutes: automatic idle sets away, and the next heartbeat says so.
    app.clock.advance(31 * MINUTE);
    assert_eq!(run_once(&app.state).await.unwrap().idled, 1);
    let (_, seen) = call(&app, t, s, "POST", "/app/v1/heartbeat", Some(&beat)).await;

    assert_eq!(seen["status"], "away");
    assert_eq!(seen["updated_by"], AGENT, "the rule acts for the agent");
}

async fn the_app_api_refuses_missing_wrong_and_foreign_credentials(backend: Backend) {
    let app = ready(backend).await;
    let token = mint(&app).await;
    let agent = open_app(&app, AGENT).await;
    let key = new_key(&app, "acme").await;
    let path = "/app/v1/me";
    let wrong = format!("{}x", &token[..token.len() - 1]);

    for presented in [None, Some(""), Some(wrong.as_str()), Some(key.as_str())] {
        let (status, body) = call(&app, presented, Some(&agent), "GET", path, None).await;
        assert_eq!(status, 401, "{presented:?}: {body}");
        assert_eq!(body["error"]["code"], "unauthorized");
    }
    // The token alone names no agent; neither does a made-up or altered session.
    let altered = format!("{}x", &agent[..agent.len() - 1]);
    for session in [None, Some(""), Some("sdses_0123456789ab_x"), Some(&altered)] {
        let (status, body) = call(&app, Some(&token), session, "GET", path, None).await;
        assert_eq!(status, 401, "{session:?}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("session is missing or expired"),
            "{body}"
        );
    }
    // A session ends after 8 hours; reloading Zendesk makes a new one.
    app.clock.advance(8 * 3_600_000);
    let (status, _) = call(&app, Some(&token), Some(&agent), "GET", path, None).await;
    assert_eq!(status, 401);
    let fresh = open_app(&app, AGENT).await;
    let (status, _) = call(&app, Some(&token), Some(&fresh), "GET", path, None).await;
    assert_eq!(status, 200);
    let (status, _) = call(&app, Some(&token), Some(&fresh), "POST", path, None).await;
    assert_eq!(status, 405);
}

async fn a_session_only_works_with_its_own_accounts_installation_token(backend: Backend) {
    let app = ready(backend).await;
    let agent = open_app(&app, AGENT).await;
    let other_installation = token::mint(
        &app.state.db,
        &acme(),
        INSTALLATION + 1,
        ZendeskUserId::new(ADMIN).unwrap(),
        T0,
    )
    .await
    .unwrap()
    .token;

    let (status, body) = call(
        &app,
        Some(&other_installation),
        Some(&agent),
        "GET",
        "/app/v1/me",
        None,
    )
    .await;

    assert_eq!(status, 401, "{body}");
}

async fn a_forged_expired_or_foreign_jwt_is_refused_and_nothing_is_stored(backend: Backend) {
    let app = ready(backend).await;
    let now = app.clock.now_ms();
    let mut wrong_issuer = claims(AGENT, now);
    wrong_issuer["iss"] = json!("evil.zendesk.com");
    let mut wrong_audience = claims(AGENT, now);
    wrong_audience["aud"] = json!("https://acme.zendesk.com/api/v2/apps/installations/1.json");
    let mut no_subject = claims(AGENT, now);
    no_subject.as_object_mut().unwrap().remove("sub");
    let valid = sign_jwt(ZAF_PRIVATE_KEY, &claims(ADMIN, now));
    let mut parts: Vec<String> = valid.split('.').map(str::to_owned).collect();
    {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        // The admin's signed token with the payload swapped for an agent's id.
        parts[1] = URL_SAFE_NO_PAD.encode(claims(AGENT, now).to_string());
    }
    let tampered = parts.join(".");
    let none_alg = {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(claims(ADMIN, now).to_string())
        )
    };
    let cases = [
        ("forged", sign_jwt(FORGER_PRIVATE_KEY, &claims(ADMIN, now))),
        ("tampered", tampered),
        ("alg none", none_alg),
        (
            "expired",
            sign_jwt(ZAF_PRIVATE_KEY, &claims(AGENT, now - 10 * 60_000)),
        ),
        ("wrong issuer", sign_jwt(ZAF_PRIVATE_KEY, &wrong_issuer)),
        ("wrong audience", sign_jwt(ZAF_PRIVATE_KEY, &wrong_audience)),
        ("no subject", sign_jwt(ZAF_PRIVATE_KEY, &no_subject)),
        ("garbage", "not.a.jwt".to_owned()),
    ];

    for (name, jwt) in &cases {
        let (status, page) = post_location(&app, "top_bar", jwt).await;
        assert_eq!(status, 401, "{name}: {page}");
        assert!(session_in(&page).is_none(), "{name}");
        assert!(page.contains("Zendesk did not vouch"), "{name}: {page}");
    }

    assert_eq!(sessions(&app).await, 0, "nothing is stored");
    let response = app
        .http
        .post(app.url("/zendesk/app/location/top_bar"))
        .form(&[("other", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400, "the token field is required");
    assert_eq!(app.get("/zendesk/app/location/top_bar").await.status(), 405);
    assert_eq!(sessions(&app).await, 0);
    // The key was fetched with the account's credential, once, and checked to be ours.
    let fetched = app
        .zendesk
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().ends_with("/public_key.pem"))
        .count();
    assert_eq!(fetched, 1, "the key is cached");
}

async fn the_page_is_framed_only_by_the_account_and_carries_a_hashed_session(backend: Backend) {
    let app = ready(backend).await;
    let jwt = sign_jwt(ZAF_PRIVATE_KEY, &claims(AGENT, app.clock.now_ms()));
    let response = app
        .http
        .post(app.url("/zendesk/app/location/nav_bar"))
        .form(&[("token", jwt.as_str())])
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("frame-ancestors https://acme.zendesk.com"),
        "{csp}"
    );
    assert_eq!(response.headers()["cache-control"], "no-store");
    let page = response.text().await.unwrap();
    assert!(page.contains(r#"data-location="nav_bar""#), "{page}");
    assert!(page.contains(r#"data-page="settings""#), "{page}");
    let session = session_in(&page).unwrap();
    let stored: Vec<String> = sqlx::query_scalar("SELECT secret_hash FROM app_agent_sessions")
        .fetch_all(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], session, "only a hash is stored");
    assert!(!stored[0].contains(&session[6..18]), "not even a part");
    let script = app.get("/zendesk/app/assets/app.js").await;
    assert_eq!(script.status(), 200);
    assert!(
        script
            .text()
            .await
            .unwrap()
            .contains("'X-Slackdesk-Session': session")
    );
}

async fn one_agents_session_cannot_touch_another_agents_status(backend: Backend) {
    let app = ready(backend).await;
    let token = mint(&app).await;
    let agent = open_app(&app, AGENT).await;
    let (t, s) = (Some(token.as_str()), Some(agent.as_str()));

    let cases = [
        (
            "POST",
            "/app/v1/status".to_owned(),
            Some(json!({"user_id": BIG, "status": "offline"})),
        ),
        (
            "POST",
            "/app/v1/heartbeat".to_owned(),
            Some(json!({"user_id": BIG})),
        ),
        ("GET", format!("/app/v1/me?user_id={BIG}"), None),
        ("GET", format!("/app/v1/me?user_id={ADMIN}"), None),
    ];
    for (verb, path, body) in &cases {
        let (status, answer) = call(&app, t, s, verb, path, body.as_ref()).await;
        assert_eq!(status, 403, "{verb} {path}: {answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("user_id"),
            "{answer}"
        );
    }

    let history =
        slackdesk::storage::statuses::changes_for_chart(&app.state.db, &acme(), 0, i64::MAX)
            .await
            .unwrap();
    assert!(history.is_empty(), "no status changed");
    assert_eq!(
        last_active(&app, BIG).await,
        None,
        "no heartbeat counted for BIG"
    );
    assert_eq!(last_active(&app, AGENT).await, None);
}

async fn bad_input_is_refused_naming_the_field(backend: Backend) {
    let app = ready(backend).await;
    let token = mint(&app).await;
    let agent = open_app(&app, AGENT).await;
    let end_user = open_app(&app, END_USER).await;
    let (t, s) = (Some(token.as_str()), Some(agent.as_str()));
    let cases = [
        (json!({}), "status", 400),
        (json!({"status": "busy"}), "status", 400),
        (
            json!({"user_id": "12345", "status": "away"}),
            "user_id",
            400,
        ),
        (json!({"user_id": -1, "status": "away"}), "user_id", 400),
    ];
    for (body, field, expected) in cases {
        let (status, answer) = call(&app, t, s, "POST", "/app/v1/status", Some(&body)).await;
        assert_eq!(status, expected, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }
    // Zendesk vouched for an end user, who is no agent of the account.
    let (status, answer) = call(
        &app,
        t,
        Some(&end_user),
        "POST",
        "/app/v1/status",
        Some(&json!({"status": "away"})),
    )
    .await;
    assert_eq!(
        (status, answer["error"]["field"].clone()),
        (422, json!("user_id"))
    );
    let (status, answer) = call(&app, t, s, "GET", "/app/v1/me?user_id=abc", None).await;
    assert_eq!(
        (status, answer["error"]["field"].clone()),
        (400, json!("user_id"))
    );
    let response = app
        .http
        .post(app.url("/app/v1/heartbeat"))
        .header("Authorization", format!("Bearer {token}"))
        .header("X-Slackdesk-Session", &agent)
        .body(r#"{}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
}

async fn one_agents_app_cannot_use_up_another_agents_rate(backend: Backend) {
    let app = ready(backend).await;
    let token = mint(&app).await;
    let agent = open_app(&app, AGENT).await;
    let big = open_app(&app, BIG).await;
    let beat = json!({});

    for _ in 0..token::PER_AGENT_PER_SECOND {
        let (status, _) = call(
            &app,
            Some(&token),
            Some(&agent),
            "POST",
            "/app/v1/heartbeat",
            Some(&beat),
        )
        .await;
        assert_eq!(status, 200);
    }
    let over = app
        .http
        .post(app.url("/app/v1/heartbeat"))
        .header("Authorization", format!("Bearer {token}"))
        .header("X-Slackdesk-Session", &agent)
        .json(&beat)
        .send()
        .await
        .unwrap();
    let (other, _) = call(
        &app,
        Some(&token),
        Some(&big),
        "POST",
        "/app/v1/heartbeat",
        Some(&beat),
    )
    .await;
    app.clock.advance(1_000);
    let (later, _) = call(
        &app,
        Some(&token),
        Some(&agent),
        "POST",
        "/app/v1/heartbeat",
        Some(&beat),
    )
    .await;

    assert_eq!(over.status(), 429);
    assert_eq!(over.headers()["retry-after"], "1");
    assert_eq!(other, 200, "another agent has its own budget");
    assert_eq!(later, 200, "the next second starts afresh");
}

async fn app_settings_decide_which_roles_and_groups_may_use_the_app(backend: Backend) {
    let app = ready(backend).await;
    let token = mint(&app).await;
    let agent = open_app(&app, AGENT).await;
    let admin_session = open_app(&app, ADMIN).await;
    let t = Some(token.as_str());
    let admin = ZendeskUserId::new(ADMIN).unwrap();
    let save = |roles: &[&str], groups: &[i64]| AppAccess {
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        group_ids: groups.to_vec(),
    };

    app_settings::save(&app.state.db, &acme(), &save(&["admin"], &[]), admin, T0)
        .await
        .unwrap();
    let (agent_status, body) = call(&app, t, Some(&agent), "GET", "/app/v1/me", None).await;
    let (admin_status, _) = call(&app, t, Some(&admin_session), "GET", "/app/v1/me", None).await;
    assert_eq!((agent_status, admin_status), (403, 200), "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ask a Zendesk admin")
    );
    // Claiming the admin's id does not make the agent an admin.
    let as_admin = format!("/app/v1/me?user_id={ADMIN}");
    let (status, _) = call(&app, t, Some(&agent), "GET", &as_admin, None).await;
    assert_eq!(status, 403);
    let (status, _) = call(
        &app,
        t,
        Some(&agent),
        "POST",
        "/app/v1/status",
        Some(&json!({"user_id": ADMIN, "status": "away"})),
    )
    .await;
    assert_eq!(status, 403);
    let history =
        slackdesk::storage::statuses::changes_for_chart(&app.state.db, &acme(), 0, i64::MAX)
            .await
            .unwrap();
    assert!(history.is_empty());

    // AGENT is in group 77 only.
    app_settings::save(
        &app.state.db,
        &acme(),
        &save(&["agent", "admin"], &[88]),
        admin,
        T0,
    )
    .await
    .unwrap();
    assert_eq!(
        call(&app, t, Some(&agent), "GET", "/app/v1/me", None)
            .await
            .0,
        403
    );
    app_settings::save(
        &app.state.db,
        &acme(),
        &save(&["agent", "admin"], &[77]),
        admin,
        T0,
    )
    .await
    .unwrap();
    assert_eq!(
        call(&app, t, Some(&agent), "GET", "/app/v1/me", None)
            .await
            .0,
        200
    );
}

async fn an_unconnected_accounts_page_has_no_session_but_shows_authorize(backend: Backend) {
    let app = spawn_app_with(
        backend,
        Options {
            clock: Some(Clock::manual(T0)),
            zendesk_oauth: true,
            zendesk_app_id: Some(APP_ID),
            ..Options::default()
        },
    )
    .await;
    let jwt = sign_jwt(FORGER_PRIVATE_KEY, &claims(AGENT, T0));

    let (status, page) = post_location(&app, "top_bar", &jwt).await;

    assert_eq!(status, 200, "{page}");
    assert!(session_in(&page).is_none(), "{page}");
    assert!(page.contains(r#"id="authorize""#));
    assert_eq!(sessions(&app).await, 0);
}

async fn an_admin_opens_the_board_and_saves_app_settings_from_the_app(backend: Backend) {
    let app = ready(backend).await;

    let (status, page, cookie) = round_trip(
        &app,
        "/zendesk/app/open?subdomain=acme&page=board",
        "admin-code",
    )
    .await;

    assert_eq!(status, 200, "{page}");
    assert!(page.contains(r#"href="/zendesk/board""#), "{page}");
    assert!(page.contains("/static/app_continue.js"), "{page}");
    let cookie = cookie.expect("session cookie");
    let board = app
        .http
        .get(app.url("/zendesk/board"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(board.contains("Status board: acme"), "{board}");
    assert!(board.contains(&AGENT.to_string()));

    // The same session opens the app settings; the form needs its CSRF token.
    let settings = app
        .http
        .get(app.url("/zendesk/app/settings"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(settings.contains("Group 77"), "{settings}");
    let csrf = crate::support::hidden_value(&settings, "csrf").expect("csrf field");
    let forged = app
        .http
        .post(app.url("/zendesk/app/settings"))
        .header("Cookie", &cookie)
        .form(&[("csrf", "nope"), ("group_id", "77")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let saved = app
        .http
        .post(app.url("/zendesk/app/settings"))
        .header("Cookie", &cookie)
        .form(&[("csrf", csrf.as_str()), ("group_id", "77")])
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 303);
    assert_eq!(
        app_settings::find(&app.state.db, &acme()).await.unwrap(),
        AppAccess {
            roles: vec!["admin".into()],
            group_ids: vec![77]
        },
        "agents unticked, group 77 ticked"
    );
    let unknown_group = app
        .http
        .post(app.url("/zendesk/app/settings"))
        .header("Cookie", &cookie)
        .form(&[("csrf", csrf.as_str()), ("group_id", "999")])
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_group.status(), 400);
}

async fn an_agent_cannot_open_admin_pages_and_states_are_single_use(backend: Backend) {
    let app = ready(backend).await;

    let (status, page, cookie) = round_trip(
        &app,
        "/zendesk/app/open?subdomain=acme&page=board",
        "agent-code",
    )
    .await;

    assert_eq!(status, 403, "{page}");
    assert!(cookie.is_none());
    let settings = app.get("/zendesk/app/settings").await;
    assert_eq!(settings.status(), 401);
    let unknown_page = app
        .get("/zendesk/app/open?subdomain=acme&page=secrets")
        .await;
    assert_eq!(unknown_page.status(), 400);
    let replay = app
        .get("/zendesk/app/callback?code=admin-code&state=not-a-state")
        .await;
    assert_eq!(replay.status(), 400);
}

async fn a_callback_link_only_works_in_the_browser_that_started_it(backend: Backend) {
    let app = ready(backend).await;
    let started = app.get("/zendesk/app/open?subdomain=acme&page=board").await;
    let location = url::Url::parse(started.headers()["location"].to_str().unwrap()).unwrap();
    let state = location
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let callback = format!("/zendesk/app/callback?code=admin-code&state={state}");

    // Someone else's browser (no nonce cookie, or another one) gets nowhere.
    let elsewhere = app
        .http
        .get(app.url(&callback))
        .header("Cookie", "sd_app_oauth=someone-elses-nonce")
        .send()
        .await
        .unwrap();

    assert_eq!(elsewhere.status(), 400);
    assert!(elsewhere.headers().get("set-cookie").is_none());
    assert!(
        elsewhere
            .text()
            .await
            .unwrap()
            .contains("started in another browser")
    );
}

async fn the_admin_view_says_when_the_zendesk_connection_needs_reconnecting(backend: Backend) {
    let app = ready(backend).await;
    let token = mint(&app).await;
    let admin = open_app(&app, ADMIN).await;
    let (t, s) = (Some(token.as_str()), Some(admin.as_str()));
    let (status, before) = call(&app, t, s, "GET", "/app/v1/me", None).await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(before["zendesk_connection"]["health"], "active");
    assert!(
        before["zendesk_connection"]["deprecated"]
            .as_str()
            .is_some_and(|text| text.contains("30 April 2027")),
        "an API-token connection is labelled deprecated: {before}"
    );
    let acme = slackdesk::domain::Subdomain::parse("acme").unwrap();
    let stored = slackdesk::storage::zendesk_connections::find(&app.state.db, &acme)
        .await
        .unwrap()
        .unwrap();
    slackdesk::storage::zendesk_connections::mark_needs_reconnect(
        &app.state.db,
        &acme,
        stored.version,
        "invalid_grant",
        0,
    )
    .await
    .unwrap();

    let (_, after) = call(&app, t, s, "GET", "/app/v1/me", None).await;

    assert_eq!(after["zendesk_connection"]["health"], "needs_reconnect");
    assert_eq!(after["zendesk_connection"]["reason_code"], "invalid_grant");
    assert!(
        after["zendesk_connection"]["reason"]
            .as_str()
            .is_some_and(|text| text.contains("Connect the account again")),
        "{after}"
    );
}

/// "Sign in with Zendesk" from the sign-in pages and the home page: a form that starts
/// the Zendesk OAuth round trip, allowed by the pages' CSP, ending on the account's own
/// setup checklist.
async fn an_admin_signs_in_with_zendesk_and_sees_their_accounts_setup(backend: Backend) {
    let app = ready(backend).await;
    let zendesk_origin = {
        let base = url::Url::parse(&app.zendesk_base()).unwrap();
        format!(
            "http://{}:{}",
            base.host_str().unwrap(),
            base.port().unwrap()
        )
    };
    for (path, page) in [
        ("/zendesk/board", "board"),
        ("/zendesk/routing", "routing"),
        ("/", "setup"),
    ] {
        let response = app.get(path).await;
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            csp.contains(&format!("form-action 'self' {zendesk_origin};")),
            "{path}: the form may lead to Zendesk: {csp}"
        );
        let shown = response.text().await.unwrap();
        assert!(
            shown.contains(
                r#"<form method="get" action="/zendesk/app/open" class="zendesk-sign-in""#
            ),
            "{path}: {shown}"
        );
        assert!(
            shown.contains(&format!(r#"name="page" value="{page}""#)),
            "{path} comes back to {page}"
        );
    }

    let (status, page, cookie) = round_trip(
        &app,
        "/zendesk/app/open?subdomain=acme&page=setup",
        "admin-code",
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(r#"href="/zendesk/setup""#), "{page}");
    let setup = app
        .http
        .get(app.url("/zendesk/setup"))
        .header("Cookie", cookie.expect("session cookie"))
        .send()
        .await
        .unwrap();
    assert_eq!(setup.status(), 200);
    let setup = setup.text().await.unwrap();
    assert!(setup.contains("<h1>Setup of acme</h1>"), "{setup}");
    assert!(
        setup.contains(r#"<li class="done" id="step-rest">"#),
        "the REST connection works: {setup}"
    );
    assert!(
        setup.contains(r#"<li class="done" id="step-agents">"#),
        "agents synced: {setup}"
    );
    assert!(
        setup.contains(r#"<li class="done" id="step-webhooks">"#) && setup.contains("not needed"),
        "no feature needs a webhook yet: {setup}"
    );
    let anonymous = app.get("/zendesk/setup").await;
    assert_eq!(
        anonymous.status(),
        303,
        "not signed in: to the sign-in page"
    );
}

on_both_databases!(
    an_admin_signs_in_with_zendesk_and_sees_their_accounts_setup,
    the_admin_view_says_when_the_zendesk_connection_needs_reconnecting,
    an_admin_authorizes_the_app_and_the_token_goes_only_to_zendesk,
    an_agent_cannot_authorize_the_app,
    the_token_is_never_written_into_another_apps_installation,
    a_failed_installation_update_keeps_the_old_token,
    the_app_sets_the_agents_own_status_and_the_status_api_sees_it,
    heartbeats_count_as_activity_and_report_changes_made_elsewhere,
    the_open_app_keeps_an_agent_from_going_idle,
    the_app_api_refuses_missing_wrong_and_foreign_credentials,
    bad_input_is_refused_naming_the_field,
    one_agents_app_cannot_use_up_another_agents_rate,
    app_settings_decide_which_roles_and_groups_may_use_the_app,
    a_session_only_works_with_its_own_accounts_installation_token,
    a_forged_expired_or_foreign_jwt_is_refused_and_nothing_is_stored,
    the_page_is_framed_only_by_the_account_and_carries_a_hashed_session,
    one_agents_session_cannot_touch_another_agents_status,
    an_unconnected_accounts_page_has_no_session_but_shows_authorize,
    an_admin_opens_the_board_and_saves_app_settings_from_the_app,
    an_agent_cannot_open_admin_pages_and_states_are_single_use,
    a_callback_link_only_works_in_the_browser_that_started_it,
);

/// The browser test's part of Zendesk: the OAuth page approves at once (back to the
/// callback with a code), the app installation keeps the settings slackdesk writes,
/// which the harness's stand-in proxy reads back like Zendesk's proxy does, and the app's
/// public key is served (`ready_with`); the harness signs the ZAF JWTs it POSTs to the
/// pages with the matching private key.
mod browser {
    use std::path::PathBuf;
    use std::process::Command;
    use std::sync::{Arc, Mutex};

    use serde_json::{Value, json};
    use slackdesk::routing::settings::{Model, QueueKind, QueueSettings};
    use slackdesk::storage::routing as routing_store;
    use slackdesk::storage::{app_settings, statuses};
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, Request, Respond, ResponseTemplate};

    use super::{
        ADMIN, AGENT, INSTALLATION, ZAF_PRIVATE_KEY, acme, last_active, new_key, ready_with,
    };
    use crate::routing::fake::{FakeZendesk, Ticket};
    use crate::support::{Backend, PUBLIC_URL};

    struct ApproveAtOnce {
        app_address: String,
    }

    impl Respond for ApproveAtOnce {
        fn respond(&self, request: &Request) -> ResponseTemplate {
            let state = request
                .url
                .query_pairs()
                .find(|(k, _)| k == "state")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            let mut callback =
                url::Url::parse(&format!("{}/zendesk/app/callback", self.app_address)).unwrap();
            callback
                .query_pairs_mut()
                .append_pair("code", "admin-code")
                .append_pair("state", &state);
            ResponseTemplate::new(302).insert_header("Location", callback.as_str())
        }
    }

    /// The installation as Zendesk keeps it: the packaged `service_url` default at first.
    #[derive(Clone)]
    struct InstallationSettings(Arc<Mutex<Value>>);

    impl Default for InstallationSettings {
        fn default() -> Self {
            Self(Arc::new(Mutex::new(json!({"service_url": PUBLIC_URL}))))
        }
    }

    impl Respond for InstallationSettings {
        fn respond(&self, request: &Request) -> ResponseTemplate {
            let mut settings = self.0.lock().unwrap();
            if request.method.as_str() == "PUT" {
                let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
                if let Some(new) = body["settings"].as_object() {
                    if !settings.is_object() {
                        *settings = json!({});
                    }
                    for (key, value) in new {
                        settings[key] = value.clone();
                    }
                }
            }
            ResponseTemplate::new(200).set_body_json(
                json!({"installation": {"id": INSTALLATION, "app_id": 9001, "settings": settings.clone()}}),
            )
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn agents_and_admins_use_the_app_in_a_browser_through_a_stand_in_zendesk() {
        let app = ready_with(Backend::Sqlite, None).await;
        Mock::given(method("GET"))
            .and(path("/z/acme/oauth/authorizations/new"))
            .respond_with(ApproveAtOnce {
                app_address: app.address.clone(),
            })
            .mount(&app.zendesk)
            .await;
        let installation = InstallationSettings::default();
        Mock::given(path(format!(
            "/z/acme/api/v2/apps/installations/{INSTALLATION}.json"
        )))
        .respond_with(installation.clone())
        .with_priority(1)
        .mount(&app.zendesk)
        .await;
        Mock::given(method("POST"))
            .and(path("/z/acme/api/v2/apps/notify"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
            .mount(&app.zendesk)
            .await;
        let key = new_key(&app, "acme").await;
        let routing = waiting_ticket_for_next(&app).await;

        let key_file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(key_file.path(), ZAF_PRIVATE_KEY).unwrap();

        let result = run_harness(&app.address, &app.zendesk_base(), &key, key_file.path()).await;

        assert_eq!(result["ok"], true, "browser run failed: {result}");
        assert_eq!(result["console_errors"], json!([]), "{result}");
        let texts = &result["texts"];
        assert!(
            texts["authorized_tab"]
                .as_str()
                .unwrap()
                .contains("Close this tab"),
            "{texts}"
        );
        assert_eq!(texts["agent_status_before"], "not set");
        assert_eq!(texts["agent_status_after_click"], "away");
        assert_eq!(texts["away_pressed"], "true");
        assert_eq!(texts["create_many_status"], 200);
        assert_eq!(texts["handlers_fired"], 1);
        assert_eq!(texts["notice"], "Your status was changed to offline.");
        assert_eq!(texts["agent_status_after_notice"], "offline");
        assert_eq!(texts["quiet_change_status"], 200);
        assert_eq!(
            texts["notice_after_heartbeat"],
            "Your status was changed to online."
        );
        assert_eq!(
            texts["next_while_away"],
            "No ticket for you now: you are away; set yourself online to take a ticket."
        );
        assert_eq!(texts["next_ticket"], "Ticket #31 is yours.");
        assert_eq!(texts["next_ticket_id"], "31");
        assert_eq!(texts["next_button_enabled"], true);
        assert_eq!(
            routing.ticket(31).assignee_id,
            Some(AGENT),
            "assigned in Zendesk"
        );
        assert!(
            result["calls"]["agent_top"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["kind"] == "invoke"
                    && c["detail"]["name"] == "routeTo"
                    && c["detail"]["args"] == json!(["ticket", 31])),
            "Zendesk was asked to open the ticket"
        );
        assert_eq!(texts["board_title"], "Status board: acme");
        assert!(
            texts["board_rows"]
                .as_str()
                .unwrap()
                .contains(&AGENT.to_string())
        );
        assert_eq!(texts["routing_path"], "/zendesk/routing");
        assert_eq!(texts["settings_title"], "Agent app settings: acme");
        assert_eq!(texts["settings_notice"], "Settings saved.");
        assert_eq!(texts["forged_status"], 401, "a forged JWT opens nothing");

        // Every page was opened by a signed JWT, got a session, and may be framed only by
        // the account's agent interface.
        let opened = result["opened"].as_array().unwrap();
        assert_eq!(opened.len(), 3, "{opened:?}");
        for page in opened {
            assert_eq!(page["status"], 200, "{page}");
            assert_eq!(page["has_session"], true, "{page}");
            assert!(
                page["csp"]
                    .as_str()
                    .unwrap()
                    .contains("frame-ancestors https://acme.zendesk.com"),
                "{page}"
            );
        }

        // The token went from slackdesk to the installation and from the proxy to
        // slackdesk, never into a page; every app request was a secure proxied one.
        let stored = installation.0.lock().unwrap().clone();
        assert!(stored["token"].as_str().unwrap().starts_with("sdapp_"));
        assert_eq!(result["token_seen_by_proxy"], true);
        assert_eq!(result["token_leaked_to_page"], false);
        for (page, calls) in result["calls"].as_object().unwrap() {
            let calls = calls.as_array().unwrap();
            let kinds: Vec<&str> = calls.iter().map(|c| c["kind"].as_str().unwrap()).collect();
            assert!(
                kinds.contains(&"metadata") && kinds.contains(&"context"),
                "{page}"
            );
            assert!(
                calls
                    .iter()
                    .any(|c| c["kind"] == "get" && c["detail"] == "currentUser"),
                "{page}"
            );
            for request in calls.iter().filter(|c| c["kind"] == "request") {
                let detail = &request["detail"];
                assert_eq!(detail["secure"], true, "{page}: {request}");
                assert_eq!(
                    detail["headers"]["Authorization"], "Bearer {{setting.token}}",
                    "{page}: {request}"
                );
                assert!(
                    detail["headers"]["X-Slackdesk-Session"]
                        .as_str()
                        .is_some_and(|s| s.starts_with("sdses_")),
                    "{page}: {request}"
                );
                let sent = format!("{}{}", detail["url"], detail["data"]);
                assert!(
                    !sent.contains("user_id"),
                    "no user id from the browser: {request}"
                );
            }
        }
        let agent_calls = result["calls"]["agent_top"].as_array().unwrap();
        assert!(
            agent_calls
                .iter()
                .any(|c| c["kind"] == "on" && c["detail"] == "api_notification.status_changed")
        );
        assert!(
            agent_calls
                .iter()
                .any(|c| c["kind"] == "invoke" && c["detail"]["name"] == "resize")
        );
        let proxied = result["proxied"].as_array().unwrap();
        assert!(
            proxied
                .iter()
                .any(|r| r["path"] == "/app/v1/heartbeat" && r["status"] == 401),
            "before authorizing, slackdesk refused the app: {proxied:?}"
        );
        assert!(
            proxied
                .iter()
                .filter(|r| r["status"] == 200)
                .all(|r| r["token_filled_in"] == true)
        );

        // What slackdesk received and did.
        let history = statuses::changes_for_chart(&app.state.db, &acme(), 0, i64::MAX)
            .await
            .unwrap();
        let agent_changes: Vec<(&str, i64)> = history
            .iter()
            .filter(|c| c.user_id.get() == AGENT)
            .map(|c| (c.status.as_str(), c.updated_by.get()))
            .collect();
        assert_eq!(
            agent_changes,
            vec![("away", AGENT), ("offline", ADMIN), ("online", ADMIN)],
            "away from the app (by the agent), then offline and online from the API (by the key's owner)"
        );
        assert!(last_active(&app, AGENT).await.is_some(), "heartbeats count");
        assert!(last_active(&app, ADMIN).await.is_some(), "heartbeats count");
        let notified = app
            .zendesk
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.url.path() == "/z/acme/api/v2/apps/notify")
            .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap())
            .collect::<Vec<_>>();
        assert!(
            notified
                .iter()
                .any(|n| n["agent_id"] == AGENT && n["event"] == "status_changed"),
            "{notified:?}"
        );
        let access = app_settings::find(&app.state.db, &acme()).await.unwrap();
        assert!(access.roles.contains(&"agent".to_owned()));
    }

    /// A routing queue over the stateful fake Zendesk with one waiting ticket in the
    /// agent's group (77), and the open tickets read, for "Next ticket".
    async fn waiting_ticket_for_next(app: &crate::support::TestApp) -> FakeZendesk {
        let fake = FakeZendesk::mount(&app.zendesk, "acme").await;
        let now = app.state.clock.now_ms();
        let mut waiting = Ticket::new(31, now - 60_000);
        waiting.group_id = Some(77);
        fake.add(waiting);
        let queue = QueueSettings {
            name: "Next ticket queue".into(),
            position: 0,
            view_id: 1,
            kind: QueueKind::Scheduled,
            model: Model::LeastActive,
            interval_secs: 60,
            batch_size: 5,
            use_sla: false,
            skills_timeout_minutes: None,
            audit_tag: None,
            audit_field_id: None,
            audit_field_value: None,
            enabled: true,
            reassign: Default::default(),
            split: Vec::new(),
        }
        .validate()
        .unwrap();
        routing_store::create_queue(&app.state.db, &acme(), &queue, now)
            .await
            .unwrap();
        slackdesk::routing::sync::sync_account(&app.state, &acme(), "browser-test")
            .await
            .unwrap();
        fake
    }

    async fn run_harness(
        service: &str,
        zendesk_base: &str,
        key: &str,
        jwt_key_file: &std::path::Path,
    ) -> Value {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let screenshots = root.join("target/browser-artifacts/agent_app");
        let args: Vec<String> = vec![
            root.join("tests/browser/agent_app.mjs")
                .display()
                .to_string(),
            "--service-url".into(),
            service.into(),
            "--zendesk-base".into(),
            zendesk_base.into(),
            "--subdomain".into(),
            "acme".into(),
            "--installation-id".into(),
            INSTALLATION.to_string(),
            "--app-id".into(),
            "9001".into(),
            "--admin-id".into(),
            ADMIN.to_string(),
            "--agent-id".into(),
            AGENT.to_string(),
            "--api-key".into(),
            key.into(),
            "--whitelist".into(),
            "127.0.0.1".into(),
            "--jwt-key-file".into(),
            jwt_key_file.display().to_string(),
            "--screenshot-dir".into(),
            screenshots.display().to_string(),
        ];
        let output = tokio::task::spawn_blocking(move || Command::new("node").args(&args).output())
            .await
            .unwrap()
            .unwrap_or_else(|e| {
                panic!("node is needed for the browser test (scripts/test installs it): {e}")
            });
        let stdout = String::from_utf8_lossy(&output.stdout);
        let last_line = stdout.lines().last().unwrap_or_default();
        serde_json::from_str(last_line).unwrap_or_else(|_| {
            panic!(
                "browser harness printed no result (exit {:?}); stdout: {stdout}; stderr: {}",
                output.status.code(),
                String::from_utf8_lossy(&output.stderr)
            )
        })
    }
}
