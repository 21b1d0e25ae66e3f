//! What a support team sees of routing: who got which ticket, why, and what Zendesk
//! received.

use std::collections::{BTreeMap, HashSet};

use serde_json::json;
use slackdesk::domain::{AgentStatus, ZendeskUserId};
use slackdesk::routing::settings::{Model, QueueKind};
use slackdesk::storage::routing::{self as store, NewAssignment};
use slackdesk::storage::status_rules::{self, StoredSchedule};

use super::fake::Ticket;
use super::{AgentSpec, MONDAY, acme, desk, online};
use crate::support::Backend;

const ANN: i64 = 361_576_231_073;
const BOB: i64 = 361_576_231_074;
const CAT: i64 = 361_576_231_075;

fn tickets_per_agent(assignees: &BTreeMap<i64, Option<i64>>) -> BTreeMap<i64, usize> {
    let mut counts = BTreeMap::new();
    for agent in assignees.values().flatten() {
        *counts.entry(*agent).or_default() += 1;
    }
    counts
}

async fn round_robin_stays_fair_over_many_runs(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB), online(CAT)]).await;
    desk.queue(Model::RoundRobin, |_| {}).await;
    let mut next_id = 1;
    for run in 0..12 {
        for _ in 0..(run % 4 + 1) {
            desk.zendesk.add(Ticket::new(next_id, MONDAY + next_id));
            next_id += 1;
        }
        desk.round().await;
        let counts = tickets_per_agent(&desk.zendesk.assignees());
        let most = counts.values().max().copied().unwrap_or(0);
        let least = [ANN, BOB, CAT]
            .iter()
            .map(|a| counts.get(a).copied().unwrap_or(0))
            .min()
            .unwrap();
        assert!(
            most - least <= 1,
            "run {run}: no agent more than one ticket ahead: {counts:?}"
        );
    }
    let assignees = desk.zendesk.assignees();
    assert!(
        assignees.values().all(Option::is_some),
        "every ticket was assigned"
    );
    let ticket = desk.zendesk.ticket(1);
    assert_eq!(
        ticket.tags,
        ["routed_by_slackdesk"],
        "the audit tag is on the ticket"
    );
    let log = desk.log().await;
    assert_eq!(log.len(), assignees.len(), "one log entry per ticket");
    assert!(
        log.iter()
            .all(|a| a.state == "assigned" && a.model == "round_robin")
    );
    assert!(
        log[1].reason.starts_with(&format!(
            "round robin: next in rotation after agent {ANN} among 3 eligible"
        )),
        "{}",
        log[1].reason
    );
}

async fn least_active_counts_open_tickets_from_zendesk(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB), online(CAT)]).await;
    let mut id = 100;
    for (agent, open) in [(ANN, 3), (BOB, 1), (CAT, 2)] {
        for _ in 0..open {
            let mut busy = Ticket::new(id, MONDAY - 86_400_000);
            busy.status = "open".into();
            busy.assignee_id = Some(agent);
            busy.views = vec![];
            desk.zendesk.add(busy);
            id += 1;
        }
    }
    let mut solved = Ticket::new(id, MONDAY - 86_400_000);
    solved.status = "solved".into();
    solved.assignee_id = Some(BOB);
    desk.zendesk.add(solved);
    desk.queue(Model::LeastActive, |_| {}).await;
    desk.zendesk.add(Ticket::new(1, MONDAY));
    desk.round().await;
    assert_eq!(
        desk.zendesk.ticket(1).assignee_id,
        Some(BOB),
        "fewest open tickets wins"
    );
    assert_eq!(
        desk.log().await[0].reason,
        "least active: 1 open vs 2 and 3; online",
        "the reason names the comparison"
    );
    desk.zendesk.add(Ticket::new(2, MONDAY + 1));
    desk.zendesk.add(Ticket::new(3, MONDAY + 2));
    desk.round().await;
    let assignees = desk.zendesk.assignees();
    assert_eq!(
        assignees[&2],
        Some(CAT),
        "a tie at 2 open goes to Cat, who waited longest since a routed ticket"
    );
    assert_eq!(assignees[&3], Some(BOB), "then Bob has fewest open");
}

async fn skills_route_to_holders_until_the_timeout(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB)]).await;
    desk.zendesk
        .state()
        .agent_skills
        .insert(ANN, vec!["de".into(), "fr".into()]);
    let mut busy = Ticket::new(50, MONDAY - 1);
    busy.status = "open".into();
    busy.assignee_id = Some(ANN);
    busy.views = vec![];
    desk.zendesk.add(busy);
    desk.queue(Model::Skills, |q| q.skills_timeout_minutes = Some(30))
        .await;
    let mut german = Ticket::new(1, MONDAY);
    german.skills = vec!["de".into()];
    desk.zendesk.add(german);
    let mut plain = Ticket::new(2, MONDAY);
    plain.views = vec![1];
    desk.zendesk.add(plain);
    desk.round().await;
    let assignees = desk.zendesk.assignees();
    assert_eq!(
        assignees[&1],
        Some(ANN),
        "only Ann speaks German, though she is busier"
    );
    assert_eq!(
        assignees[&2],
        Some(BOB),
        "a ticket without skills goes to the least active"
    );
    assert!(desk.log().await[0].reason.contains("holds skills de"));

    let mut italian = Ticket::new(3, desk.now());
    italian.skills = vec!["it".into()];
    desk.zendesk.add(italian);
    desk.round().await;
    assert_eq!(
        desk.zendesk.ticket(3).assignee_id,
        None,
        "nobody holds Italian yet"
    );
    desk.app.state.clock.advance(30 * 60_000);
    desk.round().await;
    assert!(
        desk.zendesk.ticket(3).assignee_id.is_some(),
        "after the skills timeout anyone eligible takes it"
    );
    let last = desk.log().await.pop().unwrap();
    assert!(
        last.reason.contains("skills timeout passed"),
        "{}",
        last.reason
    );
    assert_eq!(
        desk.zendesk.calls("ticket_skills"),
        3,
        "each ticket's skills are read once"
    );
}

async fn limits_and_batch_size_hold_tickets_back(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB)]).await;
    desk.settings(|s| s.default_inbox_limit = Some(2)).await;
    store::set_agent_limits(
        &desk.app.state.db,
        &acme(),
        &slackdesk::routing::settings::AgentLimits {
            user_id: BOB,
            inbox_limit: Some(10),
            daily_limit: Some(1),
        },
    )
    .await
    .unwrap();
    desk.queue(Model::RoundRobin, |q| q.batch_size = 1).await;
    for id in 1..=5 {
        desk.zendesk.add(Ticket::new(id, MONDAY + id));
    }
    desk.round().await;
    assert_eq!(
        tickets_per_agent(&desk.zendesk.assignees()),
        BTreeMap::from([(ANN, 1), (BOB, 1)]),
        "batch size 1: one ticket each per run"
    );
    desk.round().await;
    desk.round().await;
    assert_eq!(
        tickets_per_agent(&desk.zendesk.assignees()),
        BTreeMap::from([(ANN, 2), (BOB, 1)]),
        "Ann stops at her inbox limit of 2, Bob at his daily limit of 1"
    );
    desk.app.state.clock.advance(86_400_000);
    desk.round().await;
    assert_eq!(
        desk.zendesk.assignees().values().flatten().count(),
        4,
        "a new day: Bob takes one more"
    );
}

/// Right after connecting, before the sync loop has read anyone's open tickets, the first
/// run reads them itself: an agent already at the inbox limit gets nothing, and least
/// active picks the least busy one. A restart makes the counts unread again.
async fn the_first_run_after_connecting_reads_open_tickets_first(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB), online(CAT)]).await;
    desk.settings(|s| s.default_inbox_limit = Some(2)).await;
    let mut id = 100;
    for (agent, open) in [(ANN, 2), (BOB, 1), (CAT, 0)] {
        for _ in 0..open {
            let mut busy = Ticket::new(id, MONDAY - 86_400_000);
            busy.status = "open".into();
            busy.assignee_id = Some(agent);
            busy.views = vec![];
            desk.zendesk.add(busy);
            id += 1;
        }
    }
    desk.queue(Model::LeastActive, |_| {}).await;
    for ticket in 1..=3 {
        desk.zendesk.add(Ticket::new(ticket, MONDAY + ticket));
    }

    // Only the routing loop, as in the first second after connecting.
    slackdesk::routing::worker::route_round(&desk.app.state, super::OWNER)
        .await
        .unwrap();

    let per_agent = tickets_per_agent(&desk.zendesk.assignees());
    assert_eq!(
        per_agent.get(&ANN).copied().unwrap_or(0),
        2,
        "Ann was already at her inbox limit of 2: {per_agent:?}"
    );
    assert_eq!(
        desk.zendesk.ticket(1).assignee_id,
        Some(CAT),
        "least active gives the first ticket to Cat, who holds none"
    );
    let reason = &desk.log().await[0].reason;
    assert!(reason.starts_with("least active: 0 open"), "{reason}");
    assert!(
        desk.zendesk.calls("search_export") >= 1,
        "the open tickets were read"
    );
}

async fn schedules_follow_each_agents_time_zone_across_dst(backend: Backend) {
    let paris = AgentSpec {
        time_zone: Some("Europe/Paris"),
        ..online(ANN)
    };
    let new_york = AgentSpec {
        time_zone: Some("America/New_York"),
        ..online(BOB)
    };
    let desk = desk(backend, &[paris, new_york]).await;
    for (schedule_id, zone, agent) in [
        (1, "Europe/Paris", ANN),
        (2, "Eastern Time (US & Canada)", BOB),
    ] {
        let monday_9_to_17 = StoredSchedule {
            schedule_id,
            time_zone: zone.into(),
            intervals: "1980-2460".into(),
            holidays: String::new(),
        };
        status_rules::save_schedule(&desk.app.state.db, &acme(), &monday_9_to_17, MONDAY)
            .await
            .unwrap();
        status_rules::set_agent_schedule(
            &desk.app.state.db,
            &acme(),
            ZendeskUserId::new(agent).unwrap(),
            Some(schedule_id),
        )
        .await
        .unwrap();
    }
    desk.queue(Model::LeastActive, |_| {}).await;
    // Monday 23 March, 07:30 UTC: 08:30 in Paris (CET), 03:30 in New York.
    desk.app.state.clock.set(1_774_251_000_000);
    desk.zendesk.add(Ticket::new(1, MONDAY - 3_600_000));
    slackdesk::routing::worker::round(&desk.app.state, super::OWNER)
        .await
        .unwrap();
    assert_eq!(
        desk.zendesk.ticket(1).assignee_id,
        None,
        "nobody's shift has started"
    );
    // Monday 30 March, 07:30 UTC: 09:30 in Paris (CEST since the 29th).
    desk.app.state.clock.set(1_774_855_800_000);
    slackdesk::routing::worker::round(&desk.app.state, super::OWNER)
        .await
        .unwrap();
    assert_eq!(
        desk.zendesk.ticket(1).assignee_id,
        Some(ANN),
        "the same UTC time is inside Ann's shift after DST"
    );
    assert!(desk.log().await[0].reason.contains("in schedule"));
    // 13:30 UTC: 09:30 in New York (EDT), Bob has fewer tickets.
    desk.app.state.clock.set(1_774_855_800_000 + 6 * 3_600_000);
    desk.zendesk.add(Ticket::new(2, MONDAY));
    slackdesk::routing::worker::round(&desk.app.state, super::OWNER)
        .await
        .unwrap();
    assert_eq!(desk.zendesk.ticket(2).assignee_id, Some(BOB));
}

async fn same_agent_respects_the_window_edges(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB)]).await;
    desk.settings(|s| {
        s.same_agent.enabled = true;
        s.same_agent.window_hours = 72;
        s.same_agent.tag = Some("same_agent".into());
    })
    .await;
    let hour = 3_600_000;
    let now = desk.now();
    let previous = |id: i64, requester: i64, age: i64| {
        let mut t = Ticket::new(id, now - age);
        t.status = "solved".into();
        t.assignee_id = Some(BOB);
        t.requester_id = requester;
        t.views = vec![];
        t
    };
    desk.zendesk.add(previous(10, 500, 72 * hour - 60_000));
    desk.zendesk.add(previous(11, 500, 5 * hour));
    desk.zendesk.add(previous(20, 600, 72 * hour + 60_000));
    for (id, requester) in [(1, 500), (2, 600)] {
        let mut new = Ticket::new(id, now);
        new.requester_id = requester;
        new.views = vec![];
        desk.zendesk.add(new);
        let (status, body) = desk
            .webhook(
                "/zendesk/webhooks/same_agent",
                &json!({"ticket_id": id.to_string()}),
            )
            .await;
        assert_eq!((status, &body["accepted"]), (200, &json!(true)));
    }
    assert_eq!(desk.pending_requests().await, 2, "stored before the 200");
    desk.round().await;
    assert_eq!(desk.pending_requests().await, 0);
    assert_eq!(
        desk.zendesk.ticket(1).assignee_id,
        Some(BOB),
        "previous tickets 71h59m and 5h old were Bob's"
    );
    assert_eq!(desk.zendesk.ticket(1).tags, ["same_agent"]);
    assert_eq!(
        desk.zendesk.ticket(2).assignee_id,
        None,
        "72h01m is outside the window"
    );
    let log = desk.log().await;
    assert_eq!(log.len(), 1);
    assert!(log[0].reason.starts_with(&format!(
        "same agent: the requester's 2 previous ticket(s) in the last 72 hours were with agent {BOB}"
    )));

    desk.set_status(BOB, AgentStatus::Away).await;
    let mut again = Ticket::new(3, desk.now());
    again.requester_id = 500;
    again.views = vec![];
    desk.zendesk.add(again);
    desk.webhook("/zendesk/webhooks/same_agent", &json!({"ticket_id": 3}))
        .await;
    desk.round().await;
    assert_eq!(
        desk.zendesk.ticket(3).assignee_id,
        None,
        "only when Bob is online"
    );
}

async fn webhooks_need_zendesks_signature(backend: Backend) {
    let desk = desk(backend, &[online(ANN)]).await;
    let body = json!({"ticket_id": 1});
    let (status, _) = desk
        .webhook_signed("/zendesk/webhooks/route", "acme", &body, "not-the-secret")
        .await;
    assert_eq!(status, 401, "a wrong secret is refused");
    let (status, _) = desk
        .webhook_signed(
            "/zendesk/webhooks/route",
            "other",
            &body,
            super::WEBHOOK_SECRET,
        )
        .await;
    assert_eq!(status, 401, "an account without a secret is refused");
    let route_secret = format!("{}-route", super::WEBHOOK_SECRET);
    let (status, _) = desk
        .webhook_signed("/zendesk/webhooks/same_agent", "acme", &body, &route_secret)
        .await;
    assert_eq!(status, 401, "each webhook has its own secret");
    let unsigned = desk
        .app
        .http
        .post(desk.app.url("/zendesk/webhooks/route?account=acme"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status().as_u16(), 401);
    let (status, error) = desk
        .webhook("/zendesk/webhooks/route", &json!({"ticket_id": "abc"}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(error["error"]["field"], "ticket_id", "{error}");
    assert_eq!(
        desk.pending_requests().await,
        0,
        "nothing refused was stored"
    );
}

async fn trigger_and_scheduled_queues_share_a_view_without_double_assignment(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB)]).await;
    let trigger = desk
        .queue(Model::RoundRobin, |q| {
            q.kind = QueueKind::Trigger;
            q.name = "urgent".into();
        })
        .await;
    desk.queue(Model::LeastActive, |q| q.position = 1).await;
    desk.zendesk.add(Ticket::new(1, MONDAY));
    desk.zendesk.add(Ticket::new(2, MONDAY + 1));
    let (status, _) = desk
        .webhook(
            "/zendesk/webhooks/route",
            &json!({"ticket_id": 1, "queue_id": trigger}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, duplicate) = desk
        .webhook("/zendesk/webhooks/route", &json!({"ticket_id": 1}))
        .await;
    assert_eq!(
        duplicate["duplicate"], true,
        "a second call for the same ticket is the same work"
    );
    desk.round().await;
    desk.round().await;
    let log = desk.log().await;
    let tickets: Vec<i64> = log.iter().map(|a| a.ticket_id).collect();
    assert_eq!(tickets.len(), 2, "each ticket assigned once: {tickets:?}");
    assert_eq!(
        log.iter().find(|a| a.ticket_id == 1).unwrap().queue_id,
        Some(trigger)
    );
    assert_eq!(
        desk.zendesk
            .state()
            .update_bodies
            .iter()
            .map(|b| b["tickets"].as_array().unwrap().len())
            .sum::<usize>(),
        2
    );
}

async fn a_ticket_changed_meanwhile_is_skipped_not_overwritten(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB)]).await;
    desk.queue(Model::RoundRobin, |_| {}).await;
    for id in 1..=3 {
        desk.zendesk.add(Ticket::new(id, MONDAY + id));
    }
    const HUMAN: i64 = 777;
    {
        let mut state = desk.zendesk.state();
        state.assign_after_view_read = vec![(1, HUMAN)];
        state.edit_before_update = vec![2];
    }
    desk.round().await;
    assert_eq!(
        desk.zendesk.ticket(1).assignee_id,
        Some(HUMAN),
        "someone took it first: left alone"
    );
    assert_eq!(
        desk.zendesk.ticket(2).assignee_id,
        None,
        "edited between read and write: Zendesk refused"
    );
    assert!(desk.zendesk.ticket(3).assignee_id.is_some());
    let states: BTreeMap<i64, (String, Option<String>)> = desk
        .log()
        .await
        .into_iter()
        .map(|a| (a.ticket_id, (a.state, a.detail)))
        .collect();
    assert_eq!(
        states[&1],
        ("skipped".into(), Some("already assigned".into()))
    );
    assert_eq!(
        states[&2],
        ("skipped".into(), Some("UpdateConflict".into()))
    );
    desk.round().await;
    assert!(
        desk.zendesk.ticket(2).assignee_id.is_some(),
        "the refused ticket is routed on the next run"
    );
}

/// A process that died holding a queue's lease (kill -9 mid-run) keeps it 30 s at most:
/// then the next worker routes the queue, and each ticket is assigned once.
async fn a_dead_workers_queue_is_taken_over_within_its_short_lease(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB)]).await;
    let queue = desk.queue(Model::RoundRobin, |_| {}).await;
    for id in 1..=4 {
        desk.zendesk.add(Ticket::new(id, MONDAY + id));
    }
    let held = store::lease_queue(
        &desk.app.state.db,
        &acme(),
        queue,
        "routing-dead-process",
        desk.now(),
        slackdesk::routing::run::RUN_LEASE_MS,
        false,
    )
    .await
    .unwrap();
    assert!(held.is_some(), "the dead process held the queue");

    slackdesk::routing::worker::round(&desk.app.state, super::OWNER)
        .await
        .unwrap();
    assert!(
        desk.zendesk.assignees().values().all(Option::is_none),
        "nobody routes a queue whose lease is live"
    );
    desk.app.state.clock.advance(31_000);
    slackdesk::routing::worker::round(&desk.app.state, super::OWNER)
        .await
        .unwrap();

    assert!(
        desk.zendesk.assignees().values().all(Option::is_some),
        "taken over 31 s after the crash"
    );
    let assigned = desk.log().await;
    let tickets: HashSet<i64> = assigned.iter().map(|a| a.ticket_id).collect();
    assert_eq!(
        (assigned.len(), tickets.len()),
        (4, 4),
        "each ticket assigned once"
    );
}

async fn bulk_writes_honour_rate_limits_and_follow_jobs(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB), online(CAT)]).await;
    desk.queue(Model::LeastActive, |_| {}).await;
    for id in 1..=250 {
        desk.zendesk.add(Ticket::new(id, MONDAY + id));
    }
    {
        let mut state = desk.zendesk.state();
        state.rate_limit_updates = 1;
        state.job_polls_before_done = 2;
    }
    desk.round().await;
    assert!(
        desk.zendesk.assignees().values().all(Option::is_some),
        "all 250 assigned"
    );
    let (sizes, attempts): (Vec<usize>, Vec<std::time::Instant>) = {
        let state = desk.zendesk.state();
        let sizes = state
            .update_bodies
            .iter()
            .map(|b| b["tickets"].as_array().unwrap().len())
            .collect();
        (sizes, state.update_attempts.clone())
    };
    assert_eq!(sizes, [100, 100, 50], "at most 100 tickets per update_many");
    let gap = attempts[1] - attempts[0];
    assert!(
        gap >= std::time::Duration::from_millis(950),
        "Retry-After: 1 was honoured ({gap:?})"
    );

    assert!(
        desk.log().await.iter().all(|a| a.state == "assigned"),
        "outcomes read from the finished jobs"
    );
}

async fn a_run_stopped_after_deciding_is_settled_once(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB)]).await;
    let queue = desk.queue(Model::RoundRobin, |_| {}).await;
    desk.zendesk.add(Ticket::new(1, MONDAY));
    desk.zendesk.add(Ticket::new(2, MONDAY + 1));
    // A run decided both and wrote ticket 2 before the process died.
    let stamp = |id: i64| desk.zendesk.ticket(id).updated_stamp();
    let owner = "crashed-worker";
    store::lease_queue(
        &desk.app.state.db,
        &acme(),
        queue,
        owner,
        desk.now(),
        1_000,
        false,
    )
    .await
    .unwrap()
    .expect("queue free");
    let logged = store::claim_and_log(
        &desk.app.state.db,
        &acme(),
        store::Claimer::Queue {
            id: queue,
            owner,
            lease_ms: 1_000,
        },
        "round_robin",
        &[
            NewAssignment {
                ticket_id: 1,
                agent_id: ANN,
                reason: "round robin: test".into(),
                stamp: stamp(1),
                set_group_id: None,
            },
            NewAssignment {
                ticket_id: 2,
                agent_id: BOB,
                reason: "round robin: test".into(),
                stamp: stamp(2),
                set_group_id: None,
            },
        ],
        desk.now(),
        slackdesk::routing::run::CLAIM_MS,
    )
    .await
    .unwrap()
    .expect("lease held");
    assert_eq!(logged.len(), 2);
    {
        let mut state = desk.zendesk.state();
        let two = state.tickets.get_mut(&2).unwrap();
        two.assignee_id = Some(BOB);
        two.status = "open".into();
    }
    desk.app.state.clock.advance(2_000);
    desk.round().await;
    let assignees = desk.zendesk.assignees();
    assert_eq!(
        assignees[&1],
        Some(ANN),
        "the unwritten decision was written"
    );
    assert_eq!(assignees[&2], Some(BOB));
    let bodies = desk.zendesk.state().update_bodies.clone();
    let written: Vec<i64> = bodies
        .iter()
        .flat_map(|b| {
            b["tickets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_i64().unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        written,
        [1],
        "the ticket already written was not written twice"
    );
    let log = desk.log().await;
    assert_eq!(log.len(), 2, "no new decisions for claimed tickets");
    assert_eq!(log[1].detail.as_deref(), Some("confirmed"));
}

async fn a_skipped_ticket_does_not_cost_its_agent_the_turn(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB)]).await;
    desk.queue(Model::RoundRobin, |_| {}).await;
    desk.zendesk.add(Ticket::new(1, MONDAY));
    desk.zendesk.add(Ticket::new(2, MONDAY + 1));
    desk.zendesk.state().edit_before_update = vec![2];
    desk.round().await;
    assert_eq!(desk.zendesk.ticket(1).assignee_id, Some(ANN));
    assert_eq!(
        desk.zendesk.ticket(2).assignee_id,
        None,
        "Bob's ticket was refused"
    );
    desk.round().await;
    assert_eq!(
        desk.zendesk.ticket(2).assignee_id,
        Some(BOB),
        "Bob keeps his turn"
    );
}

async fn a_finished_run_is_not_repeated_from_a_stale_list(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB)]).await;
    let queue = desk.queue(Model::RoundRobin, |_| {}).await;
    let stale = store::find_queue(&desk.app.state.db, &acme(), queue)
        .await
        .unwrap()
        .unwrap();
    desk.zendesk.add(Ticket::new(1, MONDAY));
    let first = slackdesk::routing::run::run_if_leased(&desk.app.state, &stale, "worker-a")
        .await
        .unwrap();
    assert!(first.is_some());
    desk.zendesk.add(Ticket::new(2, MONDAY + 1));
    let second = slackdesk::routing::run::run_if_leased(&desk.app.state, &stale, "worker-b")
        .await
        .unwrap();
    assert!(second.is_none(), "the queue's next run is not due yet");
    assert_eq!(desk.zendesk.ticket(2).assignee_id, None);
}

async fn a_call_during_handling_is_handled_again(backend: Backend) {
    let desk = desk(backend, &[online(ANN)]).await;
    let db = &desk.app.state.db;
    let now = desk.now();
    assert!(
        store::enqueue_request(db, &acme(), "route", 7, None, now)
            .await
            .unwrap()
    );
    let leased = store::lease_requests(db, "w", now, 60_000, 10)
        .await
        .unwrap();
    assert_eq!(leased.len(), 1);
    assert!(
        !store::enqueue_request(db, &acme(), "route", 7, None, now)
            .await
            .unwrap(),
        "same work"
    );
    store::finish_request(db, &leased[0], now).await.unwrap();
    let again = store::lease_requests(db, "w", now, 60_000, 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1, "the second call is not lost");
    store::finish_request(db, &again[0], now).await.unwrap();
    assert_eq!(desk.pending_requests().await, 0);
}

async fn trigger_calls_that_arrive_together_are_written_in_one_call(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB)]).await;
    desk.queue(Model::LeastActive, |q| q.kind = QueueKind::Trigger)
        .await;
    for id in 1..=5 {
        let mut ticket = Ticket::new(id, MONDAY + id);
        ticket.views = vec![];
        desk.zendesk.add(ticket);
        let (status, _) = desk
            .webhook("/zendesk/webhooks/route", &json!({"ticket_id": id}))
            .await;
        assert_eq!(status, 200);
    }
    desk.round().await;
    assert!(
        desk.zendesk.assignees().values().all(Option::is_some),
        "all five routed"
    );
    assert_eq!(
        desk.zendesk.calls("update_many"),
        1,
        "one write for the five calls"
    );
    assert_eq!(
        desk.zendesk.calls("view"),
        0,
        "trigger runs read only their tickets"
    );
    assert_eq!(desk.pending_requests().await, 0);
}

async fn inbox_counts_follow_zendesk_after_the_first_seed(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB)]).await;
    let busy = |id: i64, agent: i64| {
        let mut ticket = Ticket::new(id, MONDAY - 86_400_000);
        ticket.status = "open".into();
        ticket.assignee_id = Some(agent);
        ticket.views = vec![];
        ticket
    };
    desk.zendesk.add(busy(100, ANN));
    desk.zendesk.add(busy(101, ANN));
    desk.queue(Model::LeastActive, |_| {}).await;
    desk.zendesk.add(Ticket::new(1, MONDAY));
    desk.round().await;
    assert_eq!(
        desk.zendesk.calls("search_export"),
        1,
        "the open tickets seed the counts"
    );
    assert_eq!(
        desk.zendesk.ticket(1).assignee_id,
        Some(BOB),
        "Ann holds 2 open"
    );
    {
        let mut state = desk.zendesk.state();
        for id in [100, 101] {
            state.tickets.get_mut(&id).unwrap().status = "solved".into();
        }
    }
    for id in 102..=104 {
        desk.zendesk.add(busy(id, BOB));
    }
    desk.zendesk.add(Ticket::new(2, MONDAY + 1));
    desk.round().await;
    assert_eq!(desk.zendesk.calls("search_export"), 1, "seeded once");
    assert!(
        desk.zendesk.calls("export") >= 1,
        "then the incremental export"
    );
    assert_eq!(
        desk.zendesk.ticket(2).assignee_id,
        Some(ANN),
        "Ann solved hers, Bob holds 4"
    );
}

async fn a_trigger_call_whose_write_failed_is_routed_later(backend: Backend) {
    let desk = desk(backend, &[online(ANN)]).await;
    desk.queue(Model::LeastActive, |q| q.kind = QueueKind::Trigger)
        .await;
    desk.zendesk.add(Ticket::new(1, MONDAY));
    desk.zendesk.state().fail_updates = 1;
    desk.webhook("/zendesk/webhooks/route", &json!({"ticket_id": 1}))
        .await;
    desk.round().await;
    assert_eq!(
        desk.zendesk.ticket(1).assignee_id,
        None,
        "Zendesk failed the write"
    );
    assert_eq!(desk.pending_requests().await, 1, "the call is kept");
    desk.round().await;
    assert_eq!(
        desk.zendesk.ticket(1).assignee_id,
        Some(ANN),
        "routed on the next look"
    );
    assert_eq!(desk.pending_requests().await, 0);
    let log = desk.log().await;
    assert_eq!(
        log.len(),
        1,
        "the pending decision was settled, not decided twice"
    );
    assert_eq!(log[0].state, "assigned");
}

async fn a_ticket_edited_after_the_decision_is_decided_again(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB)]).await;
    desk.queue(Model::LeastActive, |_| {}).await;
    desk.zendesk.add(Ticket::new(1, MONDAY));
    desk.zendesk.state().edit_after_view_read = vec![1];
    desk.round().await;
    assert_eq!(
        desk.zendesk.ticket(1).assignee_id,
        None,
        "not written on stale data"
    );
    assert_eq!(desk.zendesk.calls("update_many"), 0);
    let log = desk.log().await;
    assert_eq!(log[0].detail.as_deref(), Some("changed since the decision"));
    desk.round().await;
    assert!(
        desk.zendesk.ticket(1).assignee_id.is_some(),
        "decided again on fresh data"
    );
}

async fn a_ticket_the_view_still_lists_is_not_given_to_the_next_agent(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB)]).await;
    desk.queue(Model::RoundRobin, |_| {}).await;
    desk.zendesk.add(Ticket::new(1, MONDAY));
    desk.round().await;
    assert_eq!(desk.zendesk.ticket(1).assignee_id, Some(ANN));
    desk.zendesk.state().view_lags = vec![1];
    desk.zendesk.add(Ticket::new(2, MONDAY + 1));
    desk.round().await;
    assert_eq!(
        desk.zendesk.ticket(2).assignee_id,
        Some(BOB),
        "Bob's turn is not spent on ticket 1"
    );
    assert_eq!(desk.log().await.len(), 2, "no decision for the held ticket");
}

async fn a_skill_gained_in_zendesk_counts_at_the_next_sync(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB)]).await;
    desk.queue(Model::Skills, |_| {}).await;
    desk.round().await;
    let mut german = Ticket::new(1, MONDAY);
    german.skills = vec!["de".into()];
    desk.zendesk.add(german);
    desk.round().await;
    assert_eq!(
        desk.zendesk.ticket(1).assignee_id,
        None,
        "nobody speaks German yet"
    );
    desk.zendesk.state().skill_changes = vec![json!({
        "id": "iv-1", "attribute_value_id": "de", "instance_id": BOB.to_string(),
        "time": "2026-03-23T09:01:00Z", "type": "associate_agent"
    })];
    desk.round().await;
    assert_eq!(
        desk.zendesk.ticket(1).assignee_id,
        Some(BOB),
        "Bob's new skill is synced"
    );
}

async fn use_sla_takes_the_next_breach_first(backend: Backend) {
    let desk = desk(backend, &[online(ANN)]).await;
    desk.queue(Model::LeastActive, |q| {
        q.use_sla = true;
        q.batch_size = 1;
    })
    .await;
    let mut urgent_old = Ticket::new(1, MONDAY - 3_600_000);
    urgent_old.priority = Some("urgent".into());
    desk.zendesk.add(urgent_old);
    let mut breaching = Ticket::new(2, MONDAY);
    breaching.sla_breach_at = Some(MONDAY + 600_000);
    desk.zendesk.add(breaching);
    desk.round().await;
    let assignees = desk.zendesk.assignees();
    assert_eq!(
        assignees[&2],
        Some(ANN),
        "the ticket about to breach goes first"
    );
    assert_eq!(assignees[&1], None, "batch size 1: the urgent one waits");
}

on_both_databases!(
    the_first_run_after_connecting_reads_open_tickets_first,
    a_dead_workers_queue_is_taken_over_within_its_short_lease,
    a_skill_gained_in_zendesk_counts_at_the_next_sync,
    use_sla_takes_the_next_breach_first,
    a_trigger_call_whose_write_failed_is_routed_later,
    a_ticket_edited_after_the_decision_is_decided_again,
    a_ticket_the_view_still_lists_is_not_given_to_the_next_agent,
    inbox_counts_follow_zendesk_after_the_first_seed,
    trigger_calls_that_arrive_together_are_written_in_one_call,
    a_skipped_ticket_does_not_cost_its_agent_the_turn,
    a_finished_run_is_not_repeated_from_a_stale_list,
    a_call_during_handling_is_handled_again,
    round_robin_stays_fair_over_many_runs,
    least_active_counts_open_tickets_from_zendesk,
    skills_route_to_holders_until_the_timeout,
    limits_and_batch_size_hold_tickets_back,
    schedules_follow_each_agents_time_zone_across_dst,
    same_agent_respects_the_window_edges,
    webhooks_need_zendesks_signature,
    trigger_and_scheduled_queues_share_a_view_without_double_assignment,
    a_ticket_changed_meanwhile_is_skipped_not_overwritten,
    bulk_writes_honour_rate_limits_and_follow_jobs,
    a_run_stopped_after_deciding_is_settled_once,
);

/// Two replicas on one PostgreSQL database run the same queues at the same moments
/// while tickets keep arriving: every ticket is assigned exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_racing_never_assign_a_ticket_twice() {
    let desk = desk(Backend::Postgres, &[online(ANN), online(BOB), online(CAT)]).await;
    desk.queue(Model::RoundRobin, |_| {}).await;
    desk.queue(Model::LeastActive, |q| q.position = 1).await;
    let (_, replica) = desk.app.spawn_replica().await;
    let primary = desk.app.state.clone();
    let mut next = 1;
    for _ in 0..8 {
        for _ in 0..15 {
            desk.zendesk.add(Ticket::new(next, MONDAY + next));
            next += 1;
        }
        let (a, b) = tokio::join!(
            slackdesk::routing::worker::round(&primary, "replica-a"),
            slackdesk::routing::worker::round(&replica, "replica-b"),
        );
        a.unwrap();
        b.unwrap();
        desk.app.state.clock.advance(61_000);
    }
    slackdesk::routing::worker::round(&primary, "replica-a")
        .await
        .unwrap();
    let bodies = desk.zendesk.state().update_bodies.clone();
    let written: Vec<i64> = bodies
        .iter()
        .flat_map(|b| {
            b["tickets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_i64().unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    let unique: HashSet<i64> = written.iter().copied().collect();
    assert_eq!(written.len(), unique.len(), "no ticket written twice");
    assert_eq!(unique.len(), (next - 1) as usize, "every ticket assigned");
    let log = desk.log().await;
    let logged: HashSet<i64> = log.iter().map(|a| a.ticket_id).collect();
    assert_eq!(log.len(), logged.len(), "one log entry per ticket");
}
