//! The queue form: create, edit and delete a queue (and, for trigger queues, bring the
//! route webhook's triggers in Zendesk in line).

use super::*;
use crate::routing::hooks;

/// After a queue was saved or deleted: the route webhook and triggers brought in line,
/// and the overview's address saying how that went.
async fn overview_after(
    state: &AppState,
    subdomain: &Subdomain,
    flag: &str,
) -> Result<HttpResponse, Refusal> {
    let statuses = hooks::after_change(state, subdomain, Hook::Route).await?;
    let hooks_flag = synced(&statuses, Hook::Route).map_or("", flag_of);
    Ok(see_other(&format!("{PATH}?{flag}{hooks_flag}")))
}

/// A `<select>` option.
/// A view in the queue form's picker.
struct ViewChoice {
    id: i64,
    title: String,
    selected: bool,
}

struct Choice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

/// The split as the form sent it: the group picker's rows (`split_group` with its
/// `split_weight`; a blank weight leaves the group out) when the groups could be listed,
/// else the typed `split` text; either way as `group:weight, ...`.
fn posted_split(form: &Form) -> Result<String, ApiError> {
    let groups = form.all("split_group");
    if groups.is_empty() {
        return Ok(form.optional("split")?.unwrap_or_default().to_owned());
    }
    let weights = form.all("split_weight");
    if weights.len() != groups.len() {
        return Err(ApiError::invalid(
            "split",
            "each group row needs its weight",
        ));
    }
    Ok(groups
        .iter()
        .zip(weights)
        .filter(|(_, weight)| !weight.trim().is_empty())
        .map(|(group, weight)| format!("{}:{}", group.trim(), weight.trim()))
        .collect::<Vec<_>>()
        .join(", "))
}

/// One group of the split picker: its name (read live, never stored) and weight as typed.
struct SplitRow {
    id: i64,
    name: String,
    weight: String,
}

/// The picker's rows: every group of the account, then any group of the split Zendesk
/// did not list; weights from the form's split text.
fn split_rows(groups: Vec<(i64, String)>, split: &str) -> Vec<SplitRow> {
    let weights: Vec<(i64, String)> = split
        .split(',')
        .filter_map(|pair| {
            let (group, weight) = pair.split_once(':')?;
            Some((group.trim().parse().ok()?, weight.trim().to_owned()))
        })
        .collect();
    let weight_of = |id: i64| {
        weights
            .iter()
            .find(|(g, _)| *g == id)
            .map(|(_, w)| w.clone())
            .unwrap_or_default()
    };
    let mut rows: Vec<SplitRow> = groups
        .iter()
        .map(|(id, name)| SplitRow {
            id: *id,
            name: name.clone(),
            weight: weight_of(*id),
        })
        .collect();
    for (id, weight) in &weights {
        if !groups.iter().any(|(g, _)| g == id) {
            rows.push(SplitRow {
                id: *id,
                name: format!("group {id} (not among the account's groups)"),
                weight: weight.clone(),
            });
        }
    }
    rows
}

/// The queue form's fields as text, so a refused form comes back as it was typed.
#[derive(Default)]
struct QueueForm {
    name: String,
    position: String,
    view_id: String,
    kind: String,
    model: String,
    interval_secs: String,
    batch_size: String,
    use_sla: bool,
    skills_timeout_minutes: String,
    audit_tag: String,
    audit_field_id: String,
    audit_field_value: String,
    enabled: bool,
    reassign_unanswered_minutes: String,
    reassign_when_away: bool,
    reassign_away_minutes: String,
    reassign_within_hours: String,
    reassign_max: String,
    reassign_tag: String,
    /// `group:weight, group:weight`.
    split: String,
}

impl QueueForm {
    fn new_queue() -> Self {
        Self {
            position: "0".into(),
            kind: QueueKind::Scheduled.as_str().into(),
            model: Model::RoundRobin.as_str().into(),
            interval_secs: "60".into(),
            batch_size: "5".into(),
            enabled: true,
            ..Self::default()
        }
        .with_reassign(&ReassignRules::default())
    }

    fn with_reassign(mut self, rules: &ReassignRules) -> Self {
        self.reassign_unanswered_minutes = text_of(rules.unanswered_minutes);
        self.reassign_when_away = rules.when_away;
        self.reassign_away_minutes = rules.away_minutes.to_string();
        self.reassign_within_hours = text_of(rules.within_hours);
        self.reassign_max = rules.max_times.to_string();
        self.reassign_tag = rules.tag.clone().unwrap_or_default();
        self
    }

    fn with_split(mut self, split: &[GroupShare]) -> Self {
        self.split = split
            .iter()
            .map(|s| format!("{}:{}", s.group_id, s.weight))
            .collect::<Vec<_>>()
            .join(", ");
        self
    }

    /// The split as typed: `group:weight` pairs separated by commas (blank: none).
    fn split(&self) -> Result<Vec<GroupShare>, ApiError> {
        let refused = || {
            ApiError::invalid(
                "split",
                "must be group id:weight pairs separated by commas, e.g. 360001:75, 360002:25",
            )
        };
        self.split
            .split(',')
            .map(str::trim)
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (group, weight) = pair.split_once(':').ok_or_else(refused)?;
                Ok(GroupShare {
                    group_id: group.trim().parse().map_err(|_| refused())?,
                    weight: weight.trim().parse().map_err(|_| refused())?,
                })
            })
            .collect()
    }

    fn of(settings: &QueueSettings) -> Self {
        Self {
            name: settings.name.clone(),
            position: settings.position.to_string(),
            view_id: settings.view_id.to_string(),
            kind: settings.kind.as_str().into(),
            model: settings.model.as_str().into(),
            interval_secs: settings.interval_secs.to_string(),
            batch_size: settings.batch_size.to_string(),
            use_sla: settings.use_sla,
            skills_timeout_minutes: text_of(settings.skills_timeout_minutes),
            audit_tag: settings.audit_tag.clone().unwrap_or_default(),
            audit_field_id: text_of(settings.audit_field_id),
            audit_field_value: settings.audit_field_value.clone().unwrap_or_default(),
            enabled: settings.enabled,
            ..Self::default()
        }
        .with_reassign(&settings.reassign)
        .with_split(&settings.split)
    }

    fn posted(form: &Form) -> Result<Self, ApiError> {
        let text = |name: &str| -> Result<String, ApiError> {
            Ok(form.optional(name)?.unwrap_or_default().to_owned())
        };
        Ok(Self {
            name: text("name")?,
            position: text("position")?,
            view_id: text("view_id")?,
            kind: text("kind")?,
            model: text("model")?,
            interval_secs: text("interval_secs")?,
            batch_size: text("batch_size")?,
            use_sla: form.optional("use_sla")?.is_some(),
            skills_timeout_minutes: text("skills_timeout_minutes")?,
            audit_tag: text("audit_tag")?,
            audit_field_id: text("audit_field_id")?,
            audit_field_value: text("audit_field_value")?,
            enabled: form.optional("enabled")?.is_some(),
            reassign_unanswered_minutes: text("reassign_unanswered_minutes")?,
            reassign_when_away: form.optional("reassign_when_away")?.is_some(),
            reassign_away_minutes: text("reassign_away_minutes")?,
            reassign_within_hours: text("reassign_within_hours")?,
            reassign_max: text("reassign_max")?,
            reassign_tag: text("reassign_tag")?,
            split: posted_split(form)?,
        })
    }

    /// The settings, checked: the first bad field is named.
    fn settings(&self) -> Result<QueueSettings, ApiError> {
        QueueSettings {
            name: self.name.clone(),
            position: number("position", &self.position)?,
            view_id: number("view_id", &self.view_id)?,
            kind: QueueKind::parse(&self.kind)
                .ok_or_else(|| ApiError::invalid("kind", "must be scheduled or trigger"))?,
            model: Model::parse(&self.model).ok_or_else(|| {
                ApiError::invalid("model", "must be round_robin, least_active or skills")
            })?,
            interval_secs: number("interval_secs", &self.interval_secs)?,
            batch_size: number("batch_size", &self.batch_size)?,
            use_sla: self.use_sla,
            skills_timeout_minutes: optional_number(
                "skills_timeout_minutes",
                &self.skills_timeout_minutes,
            )?,
            audit_tag: non_blank(&self.audit_tag),
            audit_field_id: optional_number("audit_field_id", &self.audit_field_id)?,
            audit_field_value: non_blank(&self.audit_field_value),
            enabled: self.enabled,
            reassign: self.reassign()?,
            split: self.split()?,
        }
        .validate()
    }

    /// The reassignment rules; a blank count keeps its default, as a new form shows it.
    fn reassign(&self) -> Result<ReassignRules, ApiError> {
        let defaults = ReassignRules::default();
        let or_default = |field: &str, text: &str, default: i64| -> Result<i64, ApiError> {
            Ok(optional_number(field, text)?.unwrap_or(default))
        };
        Ok(ReassignRules {
            unanswered_minutes: optional_number(
                "reassign.unanswered_minutes",
                &self.reassign_unanswered_minutes,
            )?,
            when_away: self.reassign_when_away,
            away_minutes: or_default(
                "reassign.away_minutes",
                &self.reassign_away_minutes,
                defaults.away_minutes,
            )?,
            within_hours: optional_number("reassign.within_hours", &self.reassign_within_hours)?,
            max_times: or_default("reassign.max_times", &self.reassign_max, defaults.max_times)?,
            tag: non_blank(&self.reassign_tag),
        })
    }

    fn kinds(&self) -> Vec<Choice> {
        [
            (QueueKind::Scheduled, "scheduled (every interval)"),
            (QueueKind::Trigger, "trigger (Zendesk webhook)"),
        ]
        .into_iter()
        .map(|(kind, label)| Choice {
            value: kind.as_str(),
            label,
            selected: self.kind == kind.as_str(),
        })
        .collect()
    }

    fn models(&self) -> Vec<Choice> {
        Model::ALL
            .into_iter()
            .map(|model| Choice {
                value: model.as_str(),
                label: model.label(),
                selected: self.model == model.as_str(),
            })
            .collect()
    }
}

#[derive(Template)]
#[template(path = "routing_queue.html")]
struct QueuePage<'a> {
    csrf: &'a str,
    /// The account's active views to pick from (read live); empty: type the id.
    views: Vec<ViewChoice>,
    /// The account's groups for the split (read live); empty: type `group:weight`.
    split_rows: Vec<SplitRow>,
    /// `None` for a new queue.
    id: Option<i64>,
    form: &'a QueueForm,
    kinds: Vec<Choice>,
    models: Vec<Choice>,
    error: Option<String>,
}

async fn queue_page(
    state: &AppState,
    subdomain: &Subdomain,
    csrf: &str,
    id: Option<i64>,
    form: &QueueForm,
    error: Option<String>,
) -> HttpResponse {
    let status = crate::statuses::board::status_for(&error);
    let current: Option<i64> = form.view_id.trim().parse().ok();
    let mut views: Vec<ViewChoice> = state
        .names
        .views(&state.zendesk, &state.connections, subdomain)
        .await
        .into_iter()
        .map(|(view, title)| ViewChoice {
            id: view,
            title,
            selected: Some(view) == current,
        })
        .collect();
    if let Some(view) = current.filter(|_| !views.is_empty() && !views.iter().any(|v| v.selected)) {
        views.insert(
            0,
            ViewChoice {
                id: view,
                title: format!("view {view} (not among the active views)"),
                selected: true,
            },
        );
    }
    let groups = state
        .names
        .groups(&state.zendesk, &state.connections, subdomain)
        .await;
    let split_rows = if groups.is_empty() {
        Vec::new()
    } else {
        split_rows(groups, &form.split)
    };
    html(
        status,
        &QueuePage {
            csrf,
            views,
            split_rows,
            id,
            form,
            kinds: form.kinds(),
            models: form.models(),
            error,
        },
    )
}

pub(super) async fn own_queue(
    state: &AppState,
    subdomain: &Subdomain,
    raw: &str,
) -> Result<Queue, ApiError> {
    let id = api::parse_id(raw).map_err(|_| ApiError::NotFound("queue"))?;
    api::queue_of(state, subdomain, id).await
}

/// `GET /zendesk/routing/queues/new`.
pub(super) async fn new_queue(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result: PageResult = async {
        let (caller, id) = signed_in(&state, &req).await?;
        Ok(queue_page(
            &state,
            &caller.subdomain,
            &csrf_for(&id),
            None,
            &QueueForm::new_queue(),
            None,
        )
        .await)
    }
    .await;
    respond(&state, &req, result)
}

/// `GET /zendesk/routing/queues/{id}`.
pub(super) async fn edit_queue(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let result: PageResult = async {
        let (caller, id) = signed_in(&state, &req).await?;
        let queue = own_queue(&state, &caller.subdomain, &path).await?;
        Ok(queue_page(
            &state,
            &caller.subdomain,
            &csrf_for(&id),
            Some(queue.id),
            &QueueForm::of(&queue.settings),
            None,
        )
        .await)
    }
    .await;
    respond(&state, &req, result)
}

/// `POST /zendesk/routing/queues`: creates, or shows the form again naming the bad field.
pub(super) async fn create_queue(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let result: PageResult = async {
        let (caller, id, form) = posted(&state, &req, payload).await?;
        let typed = QueueForm::posted(&form)?;
        let settings = match typed.settings() {
            Ok(settings) => settings,
            Err(error) => {
                let csrf = csrf_for(&id);
                let page = queue_page(&state, &caller.subdomain, &csrf, None, &typed, Some(error.to_string()));
                return Ok(page.await);
            }
        };
        let queue_id =
            store::create_queue(&state.db, &caller.subdomain, &settings, state.clock.now_ms()).await?;
        tracing::info!(subdomain = %caller.subdomain, queue_id, key_prefix = %caller.key_prefix, "routing queue created");
        overview_after(&state, &caller.subdomain, "saved=1").await
    }
    .await;
    respond(&state, &req, result)
}

/// `POST /zendesk/routing/queues/{id}`.
pub(super) async fn update_queue(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    let result: PageResult = async {
        let (caller, id, form) = posted(&state, &req, payload).await?;
        let queue = own_queue(&state, &caller.subdomain, &path).await?;
        let typed = QueueForm::posted(&form)?;
        let settings = match typed.settings() {
            Ok(settings) => settings,
            Err(error) => {
                let csrf = csrf_for(&id);
                let page = queue_page(&state, &caller.subdomain, &csrf, Some(queue.id), &typed, Some(error.to_string()));
                return Ok(page.await);
            }
        };
        if !store::update_queue(&state.db, &caller.subdomain, queue.id, &settings, state.clock.now_ms())
            .await?
        {
            return Err(ApiError::NotFound("queue").into());
        }
        tracing::info!(subdomain = %caller.subdomain, queue_id = queue.id, key_prefix = %caller.key_prefix, "routing queue saved");
        overview_after(&state, &caller.subdomain, "saved=1").await
    }
    .await;
    respond(&state, &req, result)
}

/// `POST /zendesk/routing/queues/{id}/delete`.
pub(super) async fn delete_queue(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    let result: PageResult = async {
        let (caller, _, _) = posted(&state, &req, payload).await?;
        let queue = own_queue(&state, &caller.subdomain, &path).await?;
        store::delete_queue(&state.db, &caller.subdomain, queue.id).await?;
        tracing::info!(subdomain = %caller.subdomain, queue_id = queue.id, key_prefix = %caller.key_prefix, "routing queue deleted");
        overview_after(&state, &caller.subdomain, "deleted=1").await
    }
    .await;
    respond(&state, &req, result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(body: &str) -> Form {
        match Form::from_bytes(body.as_bytes()) {
            Ok(form) => form,
            Err(error) => panic!("{error}"),
        }
    }

    fn field(result: Result<QueueSettings, ApiError>) -> String {
        match result {
            Err(ApiError::InvalidField { field, .. }) => field,
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn the_queue_form_reads_blanks_as_none_and_names_bad_fields() {
        let good = "name=Billing&position=2&view_id=42&kind=trigger&model=skills&interval_secs=60\
                    &batch_size=3&skills_timeout_minutes=&audit_tag=routed&audit_field_id=&audit_field_value=&enabled=on";
        let settings = QueueForm::posted(&form(good)).and_then(|f| f.settings());
        match settings {
            Ok(s) => {
                assert_eq!(
                    (s.kind, s.model, s.batch_size),
                    (QueueKind::Trigger, Model::Skills, 3)
                );
                assert_eq!((s.skills_timeout_minutes, s.audit_field_id), (None, None));
                assert!(s.enabled && !s.use_sla);
            }
            Err(error) => panic!("{error}"),
        }
        let bad = good.replace("view_id=42", "view_id=forty");
        assert_eq!(
            field(QueueForm::posted(&form(&bad)).and_then(|f| f.settings())),
            "view_id"
        );
        let bad = good.replace("model=skills", "model=random");
        assert_eq!(
            field(QueueForm::posted(&form(&bad)).and_then(|f| f.settings())),
            "model"
        );
        let bad = good.replace("batch_size=3", "batch_size=500");
        assert_eq!(
            field(QueueForm::posted(&form(&bad)).and_then(|f| f.settings())),
            "batch_size"
        );
    }
}
