//! The reassignment rules as a support team sees them: a ticket nobody answered, or
//! whose agent went away, moves on to another agent with a tag and a reason; an
//! answered one stays; a ticket moves on at most the set number of times; the rules
//! never reach back before they were switched on; two replicas never move one twice.

use slackdesk::domain::AgentStatus;
use slackdesk::routing::reassign;
use slackdesk::routing::settings::{Model, ReassignRules};
use slackdesk::storage::routing as store;

use super::fake::Ticket;
use super::{AgentSpec, Desk, MONDAY, OWNER, acme, desk, online};
use crate::support::Backend;

const ANN: i64 = 361_576_231_101;
const BOB: i64 = 361_576_231_102;
const MINUTE: i64 = 60_000;

fn offline(id: i64) -> AgentSpec {
    AgentSpec {
        status: AgentStatus::Offline,
        ..online(id)
    }
}

impl Desk {
    fn advance(&self, ms: i64) {
        self.app.state.clock.advance(ms);
    }

    fn assignee(&self, ticket: i64) -> Option<i64> {
        self.zendesk.ticket(ticket).assignee_id
    }

    fn comment(&self, ticket: i64, author: i64, public: bool) {
        let at = self.now();
        let mut state = self.zendesk.state();
        let t = state.tickets.get_mut(&ticket).unwrap();
        t.comments.push((author, public, at));
        t.version += 1_000;
    }

    /// Times `ticket` was sent to Zendesk with this assignee (`None`: unassigned).
    fn writes_of(&self, ticket: i64, assignee: Option<i64>) -> usize {
        self.zendesk
            .state()
            .update_bodies
            .iter()
            .flat_map(|body| body["tickets"].as_array().cloned().unwrap_or_default())
            .filter(|u| u["id"] == ticket && u["assignee_id"].as_i64() == assignee)
            .count()
    }
}

fn rules(tweak: impl FnOnce(&mut ReassignRules)) -> ReassignRules {
    let mut rules = ReassignRules::default();
    tweak(&mut rules);
    rules
}

async fn an_unanswered_ticket_moves_on_once_with_a_tag_and_a_reason(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB)]).await;
    desk.queue(Model::LeastActive, |q| {
        q.reassign = rules(|r| {
            r.unanswered_minutes = Some(15);
            r.max_times = 1;
        });
    })
    .await;
    // Bob already holds two open tickets, so least active alone would pick Ann again.
    for id in [50, 51] {
        desk.zendesk.add(Ticket {
            status: "open".into(),
            assignee_id: Some(BOB),
            views: vec![],
            ..Ticket::new(id, MONDAY - 60 * MINUTE)
        });
    }
    desk.zendesk.add(Ticket::new(1, MONDAY - MINUTE));
    desk.round().await;
    assert_eq!(desk.assignee(1), Some(ANN), "least active");

    // A private note by the agent and a public comment by the requester are no answer.
    desk.comment(1, ANN, false);
    desk.comment(1, 9_001, true);
    desk.advance(12 * MINUTE);
    desk.round().await;
    assert_eq!(desk.assignee(1), Some(ANN), "not before 15 minutes");

    let queue = store::list_queues(&desk.app.state.db, &acme())
        .await
        .unwrap()[0]
        .clone();
    let dry = slackdesk::routing::api::dry_run_of(&desk.app.state, &queue)
        .await
        .unwrap();
    assert!(
        dry.handbacks.is_empty(),
        "the dry run shows no hand-back yet"
    );
    desk.advance(MINUTE);
    let dry = slackdesk::routing::api::dry_run_of(&desk.app.state, &queue)
        .await
        .unwrap();
    assert_eq!(
        dry.handbacks.len(),
        1,
        "the dry run shows the hand-back to come"
    );
    assert_eq!(
        dry.handbacks[0].reason,
        format!("no reply in 15 min from agent {ANN}")
    );
    assert_eq!(desk.assignee(1), Some(ANN), "a dry run moves nothing");

    desk.round().await;
    assert_eq!(desk.assignee(1), Some(BOB), "moved on to the other agent");
    let ticket = desk.zendesk.ticket(1);
    assert!(
        ticket.tags.contains(&"reassigned_by_slackdesk".to_owned()),
        "{:?}",
        ticket.tags
    );
    let log = desk.log().await;
    assert_eq!(log.len(), 2, "{log:#?}");
    assert_eq!(log[0].watch.as_deref(), Some("released"));
    assert_eq!(
        log[0].watch_detail.as_deref(),
        Some(format!("no reply in 15 min from agent {ANN}").as_str())
    );
    assert_eq!(log[1].agent_id, BOB);
    assert!(
        log[1].reason.starts_with(&format!(
            "no reply in 15 min from agent {ANN}; reassigned; least active"
        )),
        "{}",
        log[1].reason
    );

    // Moved on once already (the most allowed): it stays with its second agent.
    desk.advance(20 * MINUTE);
    desk.round().await;
    desk.round().await;
    assert_eq!(desk.assignee(1), Some(BOB));
    let log = desk.log().await;
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].watch.as_deref(), Some("kept"), "{:?}", log[1]);
    assert_eq!(desk.writes_of(1, None), 1, "handed back exactly once");
    assert_eq!(desk.writes_of(1, Some(BOB)), 1);
}

async fn a_ticket_the_agent_answered_stays_with_them(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB)]).await;
    desk.queue(Model::LeastActive, |q| {
        q.reassign = rules(|r| r.unanswered_minutes = Some(15));
    })
    .await;
    desk.zendesk.add(Ticket::new(1, MONDAY - MINUTE));
    desk.round().await;
    desk.advance(5 * MINUTE);
    desk.comment(1, ANN, true);
    desk.advance(15 * MINUTE);
    desk.round().await;
    desk.advance(30 * MINUTE);
    desk.round().await;
    assert_eq!(desk.assignee(1), Some(ANN));
    let log = desk.log().await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].watch.as_deref(), Some("answered"));
    assert_eq!(
        log[0].watch_detail.as_deref(),
        Some(format!("agent {ANN} replied").as_str())
    );
    assert_eq!(
        desk.zendesk.calls("comments"),
        1,
        "an answered ticket is read once, then left alone"
    );
}

async fn tickets_of_an_agent_who_went_away_move_on_after_the_grace(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB)]).await;
    desk.queue(Model::LeastActive, |q| {
        q.reassign = rules(|r| {
            r.when_away = true;
            r.away_minutes = 5;
        });
    })
    .await;
    desk.zendesk.add(Ticket::new(1, MONDAY - MINUTE));
    desk.zendesk.add(Ticket::new(2, MONDAY - MINUTE));
    desk.round().await;
    assert_eq!(desk.assignee(1), Some(ANN));
    assert_eq!(desk.assignee(2), Some(BOB));
    desk.comment(2, BOB, true);

    desk.set_status(ANN, AgentStatus::Away).await;
    desk.set_status(BOB, AgentStatus::Away).await;
    desk.set_status(BOB, AgentStatus::Online).await;
    desk.advance(3 * MINUTE);
    desk.round().await;
    assert_eq!(desk.assignee(1), Some(ANN), "a short break moves nothing");
    desk.advance(2 * MINUTE);
    desk.round().await;
    assert_eq!(desk.assignee(1), Some(BOB), "away for 5 minutes: moved on");
    assert_eq!(desk.assignee(2), Some(BOB));
    let log = desk.log().await;
    let moved = log
        .iter()
        .find(|a| a.ticket_id == 1 && a.agent_id == BOB)
        .unwrap();
    assert!(
        moved.reason.starts_with(&format!(
            "agent {ANN} is away; no reply yet; reassigned; least active"
        )),
        "{}",
        moved.reason
    );
}

async fn with_nobody_else_eligible_the_ticket_waits_unassigned_for_the_next_agent(
    backend: Backend,
) {
    let desk = desk(backend, &[online(ANN), offline(BOB)]).await;
    desk.queue(Model::RoundRobin, |q| {
        q.reassign = rules(|r| {
            r.when_away = true;
            r.away_minutes = 0;
        });
    })
    .await;
    desk.zendesk.add(Ticket::new(1, MONDAY - MINUTE));
    desk.round().await;
    assert_eq!(desk.assignee(1), Some(ANN));
    desk.set_status(ANN, AgentStatus::Offline).await;
    desk.round().await;
    assert_eq!(
        desk.assignee(1),
        None,
        "back in the queue, not left with an agent who is gone"
    );
    assert_eq!(desk.log().await[0].watch.as_deref(), Some("released"));

    desk.set_status(BOB, AgentStatus::Online).await;
    desk.round().await;
    assert_eq!(desk.assignee(1), Some(BOB), "the next agent online gets it");
    let log = desk.log().await;
    assert!(
        log[1]
            .reason
            .starts_with(&format!("agent {ANN} is offline; no reply yet; reassigned")),
        "{}",
        log[1].reason
    );
}

async fn switching_the_rules_on_never_reaches_back_to_older_tickets(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB)]).await;
    let id = desk.queue(Model::LeastActive, |_| {}).await;
    desk.zendesk.add(Ticket::new(1, MONDAY - MINUTE));
    desk.round().await;
    assert_eq!(desk.assignee(1), Some(ANN));
    desk.advance(60 * MINUTE);
    let mut queue = store::find_queue(&desk.app.state.db, &acme(), id)
        .await
        .unwrap()
        .unwrap();
    queue.settings.reassign = rules(|r| r.unanswered_minutes = Some(15));
    store::update_queue(&desk.app.state.db, &acme(), id, &queue.settings, desk.now())
        .await
        .unwrap();
    desk.zendesk.add(Ticket::new(2, desk.now()));
    desk.round().await;
    assert_eq!(desk.assignee(2), Some(BOB));
    desk.advance(16 * MINUTE);
    desk.round().await;
    assert_eq!(
        desk.assignee(1),
        Some(ANN),
        "assigned before the rules: left alone"
    );
    assert_eq!(desk.assignee(2), Some(ANN), "assigned after: moved on");
}

async fn a_ticket_assigned_longer_ago_than_the_limit_stays_with_its_agent(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB)]).await;
    desk.queue(Model::LeastActive, |q| {
        q.reassign = rules(|r| {
            r.when_away = true;
            r.away_minutes = 0;
            r.within_hours = Some(1);
        });
    })
    .await;
    desk.zendesk.add(Ticket::new(1, MONDAY - MINUTE));
    desk.round().await;
    assert_eq!(desk.assignee(1), Some(ANN));
    desk.advance(61 * MINUTE);
    desk.zendesk.add(Ticket::new(2, desk.now()));
    desk.round().await;
    assert_eq!(desk.assignee(2), Some(BOB));
    desk.set_status(ANN, AgentStatus::Away).await;
    desk.set_status(BOB, AgentStatus::Away).await;
    desk.set_status(ANN, AgentStatus::Online).await;
    desk.round().await;
    assert_eq!(
        desk.assignee(2),
        Some(ANN),
        "assigned within the hour: moved on when its agent left"
    );
    desk.set_status(ANN, AgentStatus::Away).await;
    desk.set_status(BOB, AgentStatus::Online).await;
    desk.round().await;
    assert_eq!(
        desk.assignee(1),
        Some(ANN),
        "assigned more than an hour ago: it stays"
    );
}

async fn two_replicas_watching_at_once_move_a_ticket_once(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB)]).await;
    desk.queue(Model::LeastActive, |q| {
        q.reassign = rules(|r| r.unanswered_minutes = Some(15));
    })
    .await;
    for id in 1..=20 {
        desk.zendesk.add(Ticket::new(id, MONDAY - MINUTE));
    }
    desk.round().await;
    desk.advance(16 * MINUTE);
    let state = &desk.app.state;
    let (a, b) = tokio::join!(
        reassign::watch_round(state, OWNER),
        reassign::watch_round(state, "replica-2")
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1, "one replica watched the queue");
    for id in 1..=20 {
        assert_eq!(desk.writes_of(id, None), 1, "ticket {id} handed back once");
        assert!(desk.assignee(id).is_some(), "ticket {id} assigned again");
    }
    let log = desk.log().await;
    assert_eq!(
        log.len(),
        40,
        "one first assignment and one move per ticket"
    );
}

on_both_databases!(
    an_unanswered_ticket_moves_on_once_with_a_tag_and_a_reason,
    a_ticket_the_agent_answered_stays_with_them,
    tickets_of_an_agent_who_went_away_move_on_after_the_grace,
    with_nobody_else_eligible_the_ticket_waits_unassigned_for_the_next_agent,
    switching_the_rules_on_never_reaches_back_to_older_tickets,
    a_ticket_assigned_longer_ago_than_the_limit_stays_with_its_agent,
    two_replicas_watching_at_once_move_a_ticket_once,
);
