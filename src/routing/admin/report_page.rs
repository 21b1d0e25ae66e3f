//! The report: tickets assigned per agent per day and per queue over 30 days as SVG
//! charts, and the assignment log with reasons, paged.

use super::*;

struct LogRow {
    id: i64,
    at: String,
    ticket_id: i64,
    /// The agent's name (read live for this page) and id, or the id alone.
    agent: String,
    queue: String,
    model: String,
    state: String,
    reason: String,
    /// What the reassignment rules made of it afterwards, in words (empty: nothing).
    afterwards: String,
}

impl LogRow {
    fn named(a: &Assignment, name: Option<&String>) -> Self {
        Self {
            id: a.id,
            at: when(Some(a.decided_at)),
            ticket_id: a.ticket_id,
            agent: match name {
                Some(name) => format!("{name} ({})", a.agent_id),
                None => a.agent_id.to_string(),
            },
            queue: a
                .queue_id
                .map_or_else(|| "same agent".to_owned(), |q| q.to_string()),
            model: a.model.clone(),
            state: a.state.clone(),
            reason: a.reason.clone(),
            afterwards: match (&a.watch, &a.watch_detail) {
                (Some(watch), Some(why)) if watch != "expired" => format!("{watch}: {why}"),
                _ => String::new(),
            },
        }
    }
}

#[derive(Template)]
#[template(path = "routing_report.html")]
struct ReportPage {
    agents: Vec<Chart>,
    queues: Vec<Chart>,
    width: i64,
    height: i64,
    first_day: String,
    log: Vec<LogRow>,
    older: Option<i64>,
    newest: bool,
}

/// `GET /zendesk/routing/report[?before_id=]`.
pub(super) async fn report_page(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result: PageResult = async {
        let (caller, _) = signed_in(&state, &req).await?;
        let (before_id, _) = api::parse_log_query(req.query_string())?;
        let now = state.clock.now_ms();
        let first = report::first_day(now);
        let counts =
            store::daily_counts(&state.db, &caller.subdomain, first * report::DAY_MS).await?;
        let log = store::log(&state.db, &caller.subdomain, before_id, LOG_PAGE).await?;
        let mut ids: Vec<i64> = counts.iter().map(|c| c.1).collect();
        ids.extend(log.iter().map(|a| a.agent_id));
        ids.sort_unstable();
        ids.dedup();
        let names = state
            .names
            .names(&state.zendesk, &state.connections, &caller.subdomain, &ids)
            .await;
        let (agents, queues) = report::charts(&counts, now, |agent| match names.get(&agent) {
            Some(name) => format!("{name} ({agent})"),
            None => format!("agent {agent}"),
        });
        let older = (log.len() as i64 == LOG_PAGE)
            .then(|| log.last().map(|a| a.id))
            .flatten();
        Ok(html(
            StatusCode::OK,
            &ReportPage {
                agents,
                queues,
                width: report::CHART_WIDTH,
                height: report::CHART_HEIGHT,
                first_day: iso_ms(first * report::DAY_MS).chars().take(10).collect(),
                log: log
                    .iter()
                    .map(|a| LogRow::named(a, names.get(&a.agent_id)))
                    .collect(),
                older,
                newest: before_id.is_none(),
            },
        ))
    }
    .await;
    respond(&state, &req, result)
}
