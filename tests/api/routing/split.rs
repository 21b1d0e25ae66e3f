//! Group split and dedicated agents as a support team sees them: a 75/25 split holds
//! over runs and moves tickets to their group in Zendesk; an organization's or a
//! requester's tickets go to their dedicated agent, then the fallback, then the model.

use std::collections::BTreeMap;

use slackdesk::domain::AgentStatus;
use slackdesk::routing::dedicated;
use slackdesk::routing::engine::{DedicatedTo, Dedication};
use slackdesk::routing::settings::{GroupShare, Model};
use slackdesk::storage::routing as store;

use super::fake::Ticket;
use super::{AgentSpec, MONDAY, acme, desk, online};
use crate::support::Backend;

const ANN: i64 = 361_576_231_201;
const BOB: i64 = 361_576_231_202;
const CAT: i64 = 361_576_231_203;
const IN_HOUSE: i64 = 360_010;
const OUTSOURCED: i64 = 360_020;

fn member(id: i64, group: i64) -> AgentSpec {
    AgentSpec {
        groups: vec![group],
        ..online(id)
    }
}

async fn a_split_holds_its_ratio_over_runs_and_moves_tickets_to_the_group(backend: Backend) {
    let desk = desk(
        backend,
        &[
            member(ANN, IN_HOUSE),
            member(BOB, IN_HOUSE),
            member(CAT, OUTSOURCED),
        ],
    )
    .await;
    let id = desk
        .queue(Model::RoundRobin, |q| {
            q.split = vec![
                GroupShare {
                    group_id: IN_HOUSE,
                    weight: 75,
                },
                GroupShare {
                    group_id: OUTSOURCED,
                    weight: 25,
                },
            ];
        })
        .await;
    let mut next = 1;
    // Three tickets a run: only counts kept across runs give 75/25 (alone, each run
    // would split 2/1).
    for _ in 0..8 {
        for _ in 0..3 {
            desk.zendesk.add(Ticket::new(next, MONDAY + next));
            next += 1;
        }
        desk.round().await;
    }
    let mut per_group = BTreeMap::new();
    for id in 1..next {
        let ticket = desk.zendesk.ticket(id);
        let group = ticket.group_id.expect("moved to a group");
        let agent = ticket.assignee_id.expect("assigned");
        let agent_group = if agent == CAT { OUTSOURCED } else { IN_HOUSE };
        assert_eq!(
            group, agent_group,
            "ticket {id} went to a member of its group"
        );
        *per_group.entry(group).or_insert(0) += 1;
    }
    assert_eq!(
        per_group,
        BTreeMap::from([(IN_HOUSE, 18), (OUTSOURCED, 6)]),
        "75/25 over 24 tickets in eight runs"
    );
    let queue = store::find_queue(&desk.app.state.db, &acme(), id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        queue.split_counts,
        BTreeMap::from([(IN_HOUSE, 18), (OUTSOURCED, 6)]),
        "the counts are kept for the next run"
    );
    let log = desk.log().await;
    assert!(
        log[0].reason.starts_with(&format!(
            "split 75/25: group {IN_HOUSE}'s turn (0 of 0 so far); round robin"
        )),
        "{}",
        log[0].reason
    );
    assert_eq!(log[0].set_group_id, Some(IN_HOUSE));
}

async fn dedicated_agents_come_first_then_their_fallback_then_the_model(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB), online(CAT)]).await;
    desk.queue(Model::RoundRobin, |_| {}).await;
    let state = &desk.app.state;
    let refused = dedicated::set(
        state,
        &acme(),
        Dedication {
            kind: DedicatedTo::Organization,
            key: 77,
            agent: 42,
            fallback: None,
        },
    )
    .await;
    assert!(refused.is_err(), "only an agent of the account");
    dedicated::set(
        state,
        &acme(),
        Dedication {
            kind: DedicatedTo::Organization,
            key: 77,
            agent: CAT,
            fallback: Some(BOB),
        },
    )
    .await
    .unwrap();
    let of_org = |id: i64| Ticket {
        organization_id: Some(77),
        ..Ticket::new(id, MONDAY + id)
    };
    desk.zendesk.add(of_org(1));
    desk.zendesk.add(of_org(2));
    desk.zendesk.add(Ticket::new(3, MONDAY + 3));
    desk.round().await;
    assert_eq!(desk.zendesk.ticket(1).assignee_id, Some(CAT));
    assert_eq!(desk.zendesk.ticket(2).assignee_id, Some(CAT));
    assert_eq!(
        desk.zendesk.ticket(3).assignee_id,
        Some(ANN),
        "others by the model"
    );
    let log = desk.log().await;
    assert!(
        log[0]
            .reason
            .starts_with("dedicated agent of organization 77; online"),
        "{}",
        log[0].reason
    );

    desk.set_status(CAT, AgentStatus::Away).await;
    desk.zendesk.add(of_org(4));
    desk.round().await;
    assert_eq!(
        desk.zendesk.ticket(4).assignee_id,
        Some(BOB),
        "the fallback"
    );
    desk.set_status(BOB, AgentStatus::Away).await;
    desk.zendesk.add(of_org(5));
    desk.round().await;
    assert_eq!(
        desk.zendesk.ticket(5).assignee_id,
        Some(ANN),
        "then the model"
    );
    let log = desk.log().await;
    assert!(
        log.last().unwrap().reason.starts_with(&format!(
            "dedicated agent {CAT} of organization 77 is not eligible, nor the fallback; round robin"
        )),
        "{}",
        log.last().unwrap().reason
    );
}

on_both_databases!(
    a_split_holds_its_ratio_over_runs_and_moves_tickets_to_the_group,
    dedicated_agents_come_first_then_their_fallback_then_the_model,
);
