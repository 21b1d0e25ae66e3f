//! The account's routing settings: default limits, the same-agent rule, the webhooks
//! and triggers slackdesk makes in Zendesk for them, and the two webhooks' signing
//! secrets for webhooks made by hand (write-only).

use super::*;
use crate::routing::hooks::{self, HookStatus};

/// The settings form's fields as text.
#[derive(Default)]
struct SettingsForm {
    default_inbox_limit: String,
    default_daily_limit: String,
    same_agent_enabled: bool,
    same_agent_window_hours: String,
    same_agent_only_online: bool,
    same_agent_within_limits: bool,
    same_agent_tag: String,
}

impl SettingsForm {
    fn of(settings: &AccountSettings) -> Self {
        let same = &settings.same_agent;
        Self {
            default_inbox_limit: text_of(settings.default_inbox_limit),
            default_daily_limit: text_of(settings.default_daily_limit),
            same_agent_enabled: same.enabled,
            same_agent_window_hours: same.window_hours.to_string(),
            same_agent_only_online: same.only_online,
            same_agent_within_limits: same.within_limits,
            same_agent_tag: same.tag.clone().unwrap_or_default(),
        }
    }

    fn posted(form: &Form) -> Result<Self, ApiError> {
        let text = |name: &str| -> Result<String, ApiError> {
            Ok(form.optional(name)?.unwrap_or_default().to_owned())
        };
        Ok(Self {
            default_inbox_limit: text("default_inbox_limit")?,
            default_daily_limit: text("default_daily_limit")?,
            same_agent_enabled: form.optional("same_agent_enabled")?.is_some(),
            same_agent_window_hours: text("same_agent_window_hours")?,
            same_agent_only_online: form.optional("same_agent_only_online")?.is_some(),
            same_agent_within_limits: form.optional("same_agent_within_limits")?.is_some(),
            same_agent_tag: text("same_agent_tag")?,
        })
    }

    fn settings(&self) -> Result<AccountSettings, ApiError> {
        AccountSettings {
            default_inbox_limit: optional_number("default_inbox_limit", &self.default_inbox_limit)?,
            default_daily_limit: optional_number("default_daily_limit", &self.default_daily_limit)?,
            same_agent: SameAgentSettings {
                enabled: self.same_agent_enabled,
                window_hours: number("same_agent.window_hours", &self.same_agent_window_hours)?,
                only_online: self.same_agent_only_online,
                within_limits: self.same_agent_within_limits,
                tag: non_blank(&self.same_agent_tag),
            },
        }
        .validate()
    }
}

#[derive(Template)]
#[template(path = "routing_settings.html")]
struct SettingsPage<'a> {
    csrf: &'a str,
    form: &'a SettingsForm,
    secrets: SecretsSet,
    max_window: i64,
    error: Option<String>,
    notice: Option<&'a str>,
    hooks: Vec<HookStatus>,
    hooks_notice: Option<&'a str>,
}

/// `GET /zendesk/routing/settings`.
pub(super) async fn show_settings(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result: PageResult = async {
        let (caller, id) = signed_in(&state, &req).await?;
        let (settings, secrets) = store::account_settings(&state.db, &caller.subdomain).await?;
        let hooks = hooks::statuses(&state, &caller.subdomain, 0).await?;
        Ok(html(
            StatusCode::OK,
            &SettingsPage {
                csrf: &csrf_for(&id),
                form: &SettingsForm::of(&settings),
                secrets,
                max_window: crate::routing::settings::MAX_WINDOW_HOURS,
                error: None,
                notice: notice_of(&req),
                hooks,
                hooks_notice: hooks_notice_of(&req),
            },
        ))
    }
    .await;
    respond(&state, &req, result)
}

/// `POST /zendesk/routing/settings`: the settings and, when typed, a new signing secret.
pub(super) async fn save_settings(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let result: PageResult = async {
        let (caller, id, form) = posted(&state, &req, payload).await?;
        let typed = SettingsForm::posted(&form)?;
        let checked = typed.settings().and_then(|settings| {
            let mut secrets = Vec::new();
            for hook in [Hook::Route, Hook::SameAgent] {
                let field = api::secret_field(hook);
                let raw = form.optional(field)?.unwrap_or_default().trim();
                if !raw.is_empty() {
                    secrets.push((hook, api::valid_secret(field, raw)?));
                }
            }
            Ok((settings, secrets))
        });
        let (settings, secrets) = match checked {
            Ok(both) => both,
            Err(error) => {
                let (_, stored) = store::account_settings(&state.db, &caller.subdomain).await?;
                let hooks = hooks::statuses(&state, &caller.subdomain, i64::MAX).await?;
                return Ok(html(
                    StatusCode::BAD_REQUEST,
                    &SettingsPage {
                        csrf: &csrf_for(&id),
                        form: &typed,
                        secrets: stored,
                        max_window: crate::routing::settings::MAX_WINDOW_HOURS,
                        error: Some(error.to_string()),
                        notice: None,
                        hooks,
                        hooks_notice: None,
                    },
                ));
            }
        };
        let now = state.clock.now_ms();
        store::save_account_settings(&state.db, &caller.subdomain, &settings, now).await?;
        for (hook, secret) in &secrets {
            store::set_webhook_secret(&state.db, &state.keys, &caller.subdomain, *hook, secret, now).await?;
        }
        let secret_changed = !secrets.is_empty();
        tracing::info!(subdomain = %caller.subdomain, key_prefix = %caller.key_prefix, secret_changed, "routing settings saved");
        let hooks = hooks::after_change(&state, &caller.subdomain, Hook::SameAgent).await?;
        let flag = synced(&hooks, Hook::SameAgent).map_or("", flag_of);
        Ok(see_other(&format!("/zendesk/routing/settings?saved=1{flag}")))
    }
    .await;
    respond(&state, &req, result)
}
