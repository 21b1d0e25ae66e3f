//! The decision's choices and reasons, ticket by ticket.

#![allow(clippy::unwrap_used)]

use super::*;

fn agent(id: i64) -> Agent {
    Agent {
        user_id: id,
        online: true,
        in_schedule: None,
        groups: vec![],
        skills: vec![],
        open_tickets: 0,
        assigned_today: 0,
        inbox_limit: None,
        daily_limit: None,
        last_assigned_at: 0,
    }
}

fn ticket(id: i64) -> Waiting {
    Waiting {
        ticket_id: id,
        priority: 2,
        created_at: id,
        group_id: None,
        skills: vec![],
        sla_breach_at: None,
        avoid: vec![],
        handed_back: None,
        requester_id: None,
        organization_id: None,
    }
}

fn plan(model: Model) -> Plan {
    Plan {
        model,
        batch_size: 100,
        use_sla: false,
        skills_timeout_ms: None,
        pointers: Pointers::default(),
        split: Split::default(),
        dedicated: Dedicated::default(),
    }
}

fn winners(outcome: &Outcome) -> Vec<(i64, i64)> {
    outcome
        .assigned
        .iter()
        .map(|d| (d.ticket_id, d.agent_id))
        .collect()
}

#[test]
fn round_robin_rotates_and_resumes_after_the_pointer() {
    let agents = [agent(30), agent(10), agent(20)];
    let tickets: Vec<_> = (1..=4).map(ticket).collect();
    let mut p = plan(Model::RoundRobin);
    let first = decide(&p, &tickets, &agents, 0);
    assert_eq!(winners(&first), vec![(1, 10), (2, 20), (3, 30), (4, 10)]);
    p.pointers = first.pointers;
    let second = decide(&p, &tickets[..1], &agents, 0);
    assert_eq!(winners(&second), vec![(1, 20)]);
}

#[test]
fn round_robin_keeps_one_rotation_per_group() {
    let grouped = |id: i64, group: i64| Agent {
        groups: vec![group],
        ..agent(id)
    };
    let agents = [grouped(1, 7), grouped(2, 7), grouped(3, 8), grouped(4, 8)];
    let tickets: Vec<Waiting> = (1..=8)
        .map(|id| Waiting {
            group_id: Some(if id % 2 == 1 { 7 } else { 8 }),
            ..ticket(id)
        })
        .collect();
    let outcome = decide(&plan(Model::RoundRobin), &tickets, &agents, 0);
    let mut per_agent = std::collections::BTreeMap::new();
    for (_, agent) in winners(&outcome) {
        *per_agent.entry(agent).or_insert(0) += 1;
    }
    assert_eq!(per_agent.into_values().collect::<Vec<_>>(), [2, 2, 2, 2]);
    assert_eq!(outcome.pointers.to_stored(), "7:2,8:4");
    assert_eq!(Pointers::parse("7:2,8:4,-:9,bad"), {
        let mut p = outcome.pointers.clone();
        p.set(None, 9);
        p
    });
}

#[test]
fn round_robin_skips_agents_at_a_limit_and_batch_caps_a_run() {
    let mut full = agent(10);
    full.inbox_limit = Some(2);
    full.open_tickets = 2;
    let agents = [full, agent(20)];
    let mut p = plan(Model::RoundRobin);
    p.batch_size = 2;
    let tickets: Vec<_> = (1..=3).map(ticket).collect();
    let outcome = decide(&p, &tickets, &agents, 0);
    assert_eq!(winners(&outcome), vec![(1, 20), (2, 20)]);
    assert_eq!(outcome.waiting.len(), 1);
    assert!(outcome.waiting[0].1.contains("limit"));
}

#[test]
fn least_active_picks_fewest_open_then_longest_idle_and_says_why() {
    let mut a = agent(1);
    a.open_tickets = 3;
    let mut b = agent(2);
    b.open_tickets = 2;
    b.last_assigned_at = 50;
    let mut c = agent(3);
    c.open_tickets = 2;
    c.last_assigned_at = 40;
    let outcome = decide(&plan(Model::LeastActive), &[ticket(9)], &[a, b, c], 100);
    assert_eq!(winners(&outcome), vec![(9, 3)]);
    assert_eq!(
        outcome.assigned[0].reason,
        "least active: 2 open vs 2 and 3; online"
    );
}

#[test]
fn offline_out_of_schedule_and_other_group_agents_are_not_eligible() {
    let mut off = agent(1);
    off.online = false;
    let mut closed = agent(2);
    closed.in_schedule = Some(false);
    let mut other_group = agent(3);
    other_group.groups = vec![7];
    let mut member = agent(4);
    member.groups = vec![5, 8];
    member.in_schedule = Some(true);
    let mut t = ticket(1);
    t.group_id = Some(8);
    let outcome = decide(
        &plan(Model::LeastActive),
        &[t],
        &[off, closed, other_group, member],
        0,
    );
    assert_eq!(winners(&outcome), vec![(1, 4)]);
    assert!(outcome.assigned[0].reason.contains("in schedule"));
    assert!(outcome.assigned[0].reason.contains("member of group 8"));
}

#[test]
fn skills_need_every_skill_until_the_timeout() {
    let mut linguist = agent(1);
    linguist.skills = vec!["de".into(), "fr".into()];
    linguist.open_tickets = 5;
    let mut french = agent(2);
    french.skills = vec!["fr".into()];
    let mut t = ticket(1);
    t.skills = vec!["de".into(), "fr".into()];
    t.created_at = 0;
    let mut p = plan(Model::Skills);
    p.skills_timeout_ms = Some(60_000);
    let early = decide(
        &p,
        &[t.clone()],
        &[linguist.clone(), french.clone()],
        59_999,
    );
    assert_eq!(winners(&early), vec![(1, 1)]);
    let late = decide(&p, &[t], &[linguist, french], 60_000);
    assert_eq!(winners(&late), vec![(1, 2)]);
    assert!(late.assigned[0].reason.contains("skills timeout passed"));
}

#[test]
fn a_handed_back_ticket_passes_over_its_agents_unless_nobody_else_can_take_it() {
    let mut t = ticket(1);
    t.avoid = vec![10];
    t.handed_back = Some("no reply in 15 min from agent 10".into());
    let outcome = decide(
        &plan(Model::LeastActive),
        &[t.clone()],
        &[agent(10), agent(20)],
        0,
    );
    assert_eq!(winners(&outcome), vec![(1, 20)]);
    assert!(
        outcome.assigned[0]
            .reason
            .starts_with("no reply in 15 min from agent 10; reassigned; least active"),
        "{}",
        outcome.assigned[0].reason
    );
    let alone = decide(&plan(Model::LeastActive), &[t], &[agent(10)], 0);
    assert_eq!(winners(&alone), vec![(1, 10)]);
    assert!(alone.assigned[0].reason.contains("nobody else is eligible"));
}

#[test]
fn a_split_keeps_its_ratio_over_runs_and_moves_tickets_to_the_group() {
    let member = |id: i64, group: i64| Agent {
        groups: vec![group],
        ..agent(id)
    };
    let agents = [member(1, 10), member(2, 20)];
    let mut p = plan(Model::RoundRobin);
    p.split.weights = vec![(10, 75), (20, 25)];
    let mut per_group = BTreeMap::new();
    for run in 0..4 {
        let tickets: Vec<Waiting> = (1..=10).map(|i| ticket(run * 10 + i)).collect();
        let outcome = decide(&p, &tickets, &agents, 0);
        for d in &outcome.assigned {
            assert_eq!(d.set_group, d.split_group, "moved to the split's group");
            *per_group.entry(d.split_group.unwrap()).or_insert(0) += 1;
        }
        p.split.counts = outcome.split_counts;
    }
    assert_eq!(
        per_group,
        BTreeMap::from([(10, 30), (20, 10)]),
        "75/25 over 40 tickets"
    );
    let one = decide(&p, &[ticket(99)], &agents, 0);
    assert!(
        one.assigned[0]
            .reason
            .starts_with("split 75/25: group 10's turn (30 of 40 so far); round robin"),
        "{}",
        one.assigned[0].reason
    );
}

#[test]
fn a_split_group_with_nobody_eligible_gives_its_turn_to_the_next() {
    let member = |id: i64, group: i64| Agent {
        groups: vec![group],
        ..agent(id)
    };
    let mut away = member(1, 10);
    away.online = false;
    let mut p = plan(Model::LeastActive);
    p.split.weights = vec![(10, 75), (20, 25)];
    let outcome = decide(&p, &[ticket(1), ticket(2)], &[away, member(2, 20)], 0);
    assert_eq!(winners(&outcome), vec![(1, 2), (2, 2)]);
    // A ticket in a group outside the split is routed in its own group, unmoved.
    let mut other = ticket(3);
    other.group_id = Some(30);
    let outcome = decide(&p, &[other], &[member(3, 30)], 0);
    assert_eq!(winners(&outcome), vec![(3, 3)]);
    assert_eq!(outcome.assigned[0].set_group, None);
}

#[test]
fn a_dedicated_agent_comes_first_then_the_fallback_then_the_model() {
    let mut t = ticket(1);
    t.requester_id = Some(500);
    t.organization_id = Some(77);
    let mut p = plan(Model::LeastActive);
    p.dedicated = Dedicated::from_list([Dedication {
        kind: DedicatedTo::Organization,
        key: 77,
        agent: 3,
        fallback: Some(2),
    }]);
    let mut busy = agent(3);
    busy.open_tickets = 9;
    let outcome = decide(&p, &[t.clone()], &[agent(1), agent(2), busy.clone()], 0);
    assert_eq!(winners(&outcome), vec![(1, 3)]);
    assert!(
        outcome.assigned[0]
            .reason
            .starts_with("dedicated agent of organization 77; online"),
        "{}",
        outcome.assigned[0].reason
    );
    busy.online = false;
    let outcome = decide(&p, &[t.clone()], &[agent(1), agent(2), busy.clone()], 0);
    assert_eq!(winners(&outcome), vec![(1, 2)]);
    assert!(
        outcome.assigned[0]
            .reason
            .starts_with("fallback for organization 77: dedicated agent 3 is not eligible")
    );
    let outcome = decide(&p, &[t], &[agent(1), busy], 0);
    assert_eq!(winners(&outcome), vec![(1, 1)]);
    assert!(
        outcome.assigned[0].reason.starts_with(
            "dedicated agent 3 of organization 77 is not eligible, nor the fallback; least active"
        ),
        "{}",
        outcome.assigned[0].reason
    );
}

#[test]
fn daily_limit_counts_this_run_too() {
    let mut a = agent(1);
    a.daily_limit = Some(3);
    a.assigned_today = 2;
    let tickets: Vec<_> = (1..=2).map(ticket).collect();
    let outcome = decide(&plan(Model::LeastActive), &tickets, &[a], 0);
    assert_eq!(winners(&outcome), vec![(1, 1)]);
    assert!(outcome.assigned[0].reason.ends_with("today 3/3"));
}

#[test]
fn order_is_sla_then_priority_then_age() {
    let mut urgent_new = ticket(1);
    urgent_new.priority = 0;
    urgent_new.created_at = 100;
    let mut normal_old = ticket(2);
    normal_old.created_at = 1;
    let mut breaching = ticket(3);
    breaching.sla_breach_at = Some(500);
    breaching.created_at = 200;
    let mut list = vec![normal_old.clone(), urgent_new.clone(), breaching.clone()];
    order(&mut list, false);
    assert_eq!(
        list.iter().map(|t| t.ticket_id).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    order(&mut list, true);
    assert_eq!(
        list.iter().map(|t| t.ticket_id).collect::<Vec<_>>(),
        [3, 1, 2]
    );
}
