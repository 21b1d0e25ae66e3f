//! "Next ticket" from the agents' app, as an agent notices it: one press gives them the
//! most urgent ticket they may take (assigned in Zendesk once, with the queue's audit
//! tag, logged with why), limits and status hold a pull back with a sentence saying so,
//! and agents pressing at the same moment on two replicas never get the same ticket.

use std::collections::HashSet;

use serde_json::{Value, json};
use slackdesk::agent_app::session;
use slackdesk::agent_app::token;
use slackdesk::agent_app::zaf_jwt::ZafIdentity;
use slackdesk::domain::{AgentStatus, ZendeskUserId};
use slackdesk::routing::next_ticket::PullError;
use slackdesk::routing::run::CLAIM_MS;
use slackdesk::routing::settings::{AgentLimits, Model};
use slackdesk::storage::routing::{self as store, Claimer, NewAssignment, PULL_MODEL};
use slackdesk::storage::status_rules::{self, StoredSchedule};

use super::fake::Ticket;
use super::{AgentSpec, Desk, MONDAY, OWNER, acme, desk, online};
use crate::support::Backend;

const ANN: i64 = 361_576_231_073;
const BOB: i64 = 361_576_231_074;
const INSTALLATION: i64 = 4242;
const PATH: &str = "/app/v1/next_ticket";

fn in_group(id: i64, group: i64) -> AgentSpec {
    AgentSpec {
        groups: vec![group],
        ..online(id)
    }
}

fn ticket(id: i64, group: Option<i64>, priority: Option<&str>, age_ms: i64) -> Ticket {
    let mut ticket = Ticket::new(id, MONDAY - age_ms);
    ticket.group_id = group;
    ticket.priority = priority.map(str::to_owned);
    ticket
}

/// An open ticket the agent already holds (not in any view): their inbox.
fn held_by(id: i64, agent: i64) -> Ticket {
    let mut ticket = Ticket::new(id, MONDAY - 86_400_000);
    ticket.status = "open".into();
    ticket.assignee_id = Some(agent);
    ticket.views = vec![];
    ticket
}

/// The app as Zendesk's proxy calls it for one agent: the installation's token and the
/// agent's session (made here as a verified ZAF JWT would make it).
struct AgentApp {
    address: String,
    token: String,
    session: String,
}

async fn app_for(desk: &Desk, agent: i64) -> AgentApp {
    let db = &desk.app.state.db;
    let user = ZendeskUserId::new(agent).unwrap();
    let token = token::mint(db, &acme(), INSTALLATION, user, desk.now())
        .await
        .unwrap()
        .token;
    let identity = ZafIdentity {
        subdomain: acme(),
        installation_id: INSTALLATION,
        user_id: user,
    };
    AgentApp {
        address: desk.app.address.clone(),
        token,
        session: session::mint(db, &identity, desk.now()).await.unwrap(),
    }
}

impl AgentApp {
    /// The agent presses "Next ticket", a second after anything before (pulls are
    /// limited to two a second per agent).
    async fn press(&self, desk: &Desk) -> (u16, Value) {
        desk.app.state.clock.advance(1_000);
        self.post().await
    }

    async fn post(&self) -> (u16, Value) {
        let response = reqwest::Client::new()
            .post(format!("{}{PATH}", self.address))
            .header("Authorization", format!("Bearer {}", self.token))
            .header("X-Slackdesk-Session", &self.session)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

/// Reads the agents' open tickets from the fake Zendesk, as the sync worker does.
async fn read_counts(desk: &Desk) {
    slackdesk::routing::sync::sync_account(&desk.app.state, &acme(), OWNER)
        .await
        .unwrap()
        .expect("the sync ran");
}

/// Ticket ids of every accepted `update_many`, in order.
fn written(desk: &Desk) -> Vec<i64> {
    desk.zendesk
        .state()
        .update_bodies
        .iter()
        .flat_map(|b| {
            b["tickets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_i64().unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn refusal(answer: &(u16, Value)) -> (u16, &str, &str) {
    (
        answer.0,
        answer.1["error"]["code"].as_str().unwrap_or_default(),
        answer.1["error"]["message"].as_str().unwrap_or_default(),
    )
}

async fn an_agent_gets_the_most_urgent_ticket_of_their_groups(backend: Backend) {
    let desk = desk(backend, &[in_group(ANN, 7), in_group(BOB, 8)]).await;
    let queue = desk.queue(Model::LeastActive, |_| {}).await;
    desk.zendesk.add(ticket(1, Some(8), Some("urgent"), 60_000));
    desk.zendesk.add(ticket(2, Some(7), None, 3_600_000));
    desk.zendesk.add(ticket(3, Some(7), Some("high"), 60_000));
    desk.zendesk.add(ticket(4, None, Some("low"), 7_200_000));
    read_counts(&desk).await;
    let ann = app_for(&desk, ANN).await;

    let (status, body) = ann.press(&desk).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["ticket_id"].as_i64(), body["queue_id"].as_i64()),
        (Some(3), Some(queue)),
        "Ann's most urgent: high in her group 7, not group 8's urgent one: {body}"
    );
    let reason = format!(
        "next ticket: pulled by agent {ANN} from queue {queue} (most urgent of 3 eligible); \
         online; member of group 7"
    );
    assert_eq!(body["reason"], reason.as_str());
    let three = desk.zendesk.ticket(3);
    assert_eq!(three.assignee_id, Some(ANN), "assigned in Zendesk");
    assert_eq!(
        three.tags,
        ["routed_by_slackdesk"],
        "with the queue's audit tag"
    );
    assert_eq!(written(&desk), [3], "one write, of that ticket only");
    assert_eq!(
        desk.zendesk.ticket(1).assignee_id,
        None,
        "group 8's ticket waits"
    );
    let log = desk.log().await;
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].ticket_id, log[0].agent_id, log[0].queue_id),
        (3, ANN, Some(queue))
    );
    assert_eq!(
        (log[0].model.as_str(), log[0].state.as_str()),
        (PULL_MODEL, "assigned")
    );
    assert_eq!(log[0].reason, reason, "the log says why, as the app did");
    let key = slackdesk::statuses::keys::create(
        &desk.app.state.db,
        &acme(),
        ZendeskUserId::new(ANN).unwrap(),
        desk.now(),
    )
    .await
    .unwrap()
    .key;
    let page: Value = reqwest::Client::new()
        .get(desk.app.url("/zendesk/routing/api/assignments"))
        .header("X-API-Key", key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entry = &page["assignments"][0];
    assert_eq!(
        (&entry["model"], &entry["queue_id"], &entry["reason"]),
        (&json!(PULL_MODEL), &json!(queue), &json!(reason)),
        "the JSON API's log shows the pull: {page}"
    );

    let (status, body) = ann.press(&desk).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ticket_id"], 2, "then normal before low");
    assert!(
        body["reason"]
            .as_str()
            .unwrap()
            .contains("(most urgent of 2 eligible)"),
        "{body}"
    );
    let (status, body) = ann.press(&desk).await;
    assert_eq!((status, body["ticket_id"].as_i64()), (200, Some(4)));
    let answer = ann.press(&desk).await;
    assert_eq!(
        refusal(&answer),
        (
            422,
            "nothing_eligible",
            "no waiting ticket is one you can take right now (1 queue(s) looked at)"
        )
    );
    assert_eq!(written(&desk), [3, 2, 4], "each ticket written once");
}

async fn limits_hold_a_pull_back_and_say_so(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB)]).await;
    for (agent, inbox, daily) in [(ANN, Some(2), None), (BOB, None, Some(1))] {
        store::set_agent_limits(
            &desk.app.state.db,
            &acme(),
            &AgentLimits {
                user_id: agent,
                inbox_limit: inbox,
                daily_limit: daily,
            },
        )
        .await
        .unwrap();
    }
    desk.queue(Model::RoundRobin, |q| q.batch_size = 1).await;
    desk.zendesk.add(held_by(100, ANN));
    for id in 1..=4 {
        desk.zendesk.add(ticket(id, None, None, 1_000 * (10 - id)));
    }
    read_counts(&desk).await;
    let (ann, bob) = (app_for(&desk, ANN).await, app_for(&desk, BOB).await);

    let (status, body) = ann.press(&desk).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["reason"].as_str().unwrap().ends_with("; inbox 2/2"),
        "one open already, this one fills her inbox: {body}"
    );
    let answer = ann.press(&desk).await;
    assert_eq!(
        refusal(&answer),
        (
            422,
            "at_inbox_limit",
            "you have 2 open tickets and your inbox limit is 2; solve one first"
        ),
        "the ticket just pulled counts at once"
    );

    let (status, body) = bob.press(&desk).await;
    assert_eq!(status, 200, "batch size 1 does not cap a pull: {body}");
    assert!(
        body["reason"].as_str().unwrap().ends_with("; today 1/1"),
        "{body}"
    );
    let answer = bob.press(&desk).await;
    assert_eq!(
        refusal(&answer),
        (
            422,
            "at_daily_limit",
            "routing gave you 1 tickets today and your daily limit is 1"
        )
    );
    assert_eq!(written(&desk).len(), 2, "nothing written past a limit");
}

async fn an_agent_not_online_or_out_of_schedule_is_told_why(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB)]).await;
    desk.queue(Model::LeastActive, |_| {}).await;
    desk.zendesk.add(ticket(1, None, None, 1_000));
    read_counts(&desk).await;
    let (ann, bob) = (app_for(&desk, ANN).await, app_for(&desk, BOB).await);
    desk.set_status(ANN, AgentStatus::Away).await;

    let answer = ann.press(&desk).await;

    assert_eq!(
        refusal(&answer),
        (
            422,
            "not_online",
            "you are away; set yourself online to take a ticket"
        )
    );
    // Bob is online but his schedule (Monday 21:00 to 22:00 UTC) is closed at 09:00.
    let evening = StoredSchedule {
        schedule_id: 1,
        time_zone: "UTC".into(),
        intervals: "2700-2760".into(),
        holidays: String::new(),
    };
    let db = &desk.app.state.db;
    status_rules::save_schedule(db, &acme(), &evening, MONDAY)
        .await
        .unwrap();
    status_rules::set_agent_schedule(db, &acme(), ZendeskUserId::new(BOB).unwrap(), Some(1))
        .await
        .unwrap();
    let answer = bob.press(&desk).await;
    assert_eq!(
        refusal(&answer),
        (
            422,
            "out_of_schedule",
            "you are outside your schedule (business hours); routing gives you tickets only inside it"
        )
    );
    assert_eq!(desk.zendesk.calls("view"), 0, "nothing read from Zendesk");
    assert!(written(&desk).is_empty() && desk.log().await.is_empty());

    desk.set_status(ANN, AgentStatus::Online).await;
    let (status, body) = ann.press(&desk).await;
    assert_eq!(
        (status, body["ticket_id"].as_i64()),
        (200, Some(1)),
        "{body}"
    );
}

async fn a_pull_needs_a_queue_and_the_counts_read(backend: Backend) {
    let desk = desk(backend, &[online(ANN)]).await;
    desk.zendesk.add(ticket(1, None, None, 1_000));
    let ann = app_for(&desk, ANN).await;
    assert_eq!(
        refusal(&ann.press(&desk).await),
        (
            422,
            "no_queue",
            "no routing queue is switched on for this account"
        )
    );
    desk.queue(Model::LeastActive, |_| {}).await;
    let answer = ann.press(&desk).await;
    let (status, code, message) = refusal(&answer);
    assert_eq!((status, code), (422, "waiting_for_inbox_counts"));
    assert!(message.contains("try again in a minute"), "{message}");
    assert!(
        written(&desk).is_empty(),
        "never decided on counts not read"
    );
    read_counts(&desk).await;
    let (status, body) = ann.press(&desk).await;
    assert_eq!(
        (status, body["ticket_id"].as_i64()),
        (200, Some(1)),
        "{body}"
    );

    sqlx::query("DELETE FROM zendesk_connections WHERE subdomain = 'acme'")
        .execute(desk.app.state.db.pool())
        .await
        .unwrap();
    let answer = ann.press(&desk).await;
    let (status, code, _) = refusal(&answer);
    assert_eq!((status, code), (422, "zendesk_not_connected"));
}

async fn the_app_api_rules_hold_for_next_ticket(backend: Backend) {
    let desk = desk(backend, &[online(ANN)]).await;
    let ann = app_for(&desk, ANN).await;
    let client = reqwest::Client::new();
    let get = client.get(desk.app.url(PATH)).send().await.unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST");
    let no_session = client
        .post(desk.app.url(PATH))
        .header("Authorization", format!("Bearer {}", ann.token))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_session.status(), 401);
    let for_someone_else = client
        .post(desk.app.url(PATH))
        .header("Authorization", format!("Bearer {}", ann.token))
        .header("X-Slackdesk-Session", &ann.session)
        .json(&json!({"user_id": BOB}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        for_someone_else.status(),
        403,
        "never a pull for a colleague"
    );
    desk.queue(Model::LeastActive, |_| {}).await;
    read_counts(&desk).await;
    let first = ann.press(&desk).await;
    assert_eq!(refusal(&first).1, "nothing_eligible");
    let again = ann.post().await;
    assert_eq!(
        refusal(&again).1,
        "nothing_eligible",
        "pressing again at once is fine"
    );
    let third = ann.post().await;
    assert_eq!(third.0, 429, "two pulls a second per agent: {}", third.1);
}

async fn a_ticket_changed_meanwhile_is_left_and_the_next_one_given(backend: Backend) {
    let desk = desk(backend, &[online(ANN)]).await;
    let queue = desk.queue(Model::LeastActive, |_| {}).await;
    desk.zendesk.add(ticket(1, None, Some("urgent"), 1_000));
    desk.zendesk.add(ticket(2, None, None, 1_000));
    read_counts(&desk).await;
    desk.zendesk.state().edit_before_update = vec![1];
    let ann = app_for(&desk, ANN).await;

    let (status, body) = ann.press(&desk).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ticket_id"], 2, "the urgent one changed: the next one");
    assert_eq!(
        desk.zendesk.ticket(1).assignee_id,
        None,
        "never overwritten"
    );
    assert_eq!(desk.zendesk.ticket(2).assignee_id, Some(ANN));
    let log = desk.log().await;
    let states: Vec<(i64, &str)> = log
        .iter()
        .map(|a| (a.ticket_id, a.state.as_str()))
        .collect();
    assert_eq!(states, [(1, "skipped"), (2, "assigned")]);
    assert!(
        log[1].reason.starts_with(&format!(
            "next ticket: pulled by agent {ANN} from queue {queue} (most urgent still free of 2 eligible)"
        )),
        "{}",
        log[1].reason
    );
}

/// A pull that stopped after claiming (a crash, a dropped request) is the queue's to
/// settle, but only once its claim ran out: a run never writes a pull still under way.
async fn a_pull_left_pending_is_settled_by_a_run_only_after_its_claim(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB)]).await;
    let queue = desk.queue(Model::LeastActive, |_| {}).await;
    let one = Ticket::new(1, MONDAY - 1_000);
    let stamp = one.updated_stamp();
    desk.zendesk.add(one);
    read_counts(&desk).await;
    let logged = store::claim_and_log(
        &desk.app.state.db,
        &acme(),
        Claimer::Pull { queue_id: queue },
        PULL_MODEL,
        &[NewAssignment {
            ticket_id: 1,
            agent_id: BOB,
            reason: "next ticket: pulled by agent (test)".into(),
            stamp,
            set_group_id: None,
        }],
        desk.now(),
        CLAIM_MS,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(logged.len(), 1);

    // A run starts a second later, while the pull would still be writing.
    desk.app.state.clock.advance(1_000);
    desk.round().await;
    assert_eq!(
        desk.zendesk.ticket(1).assignee_id,
        None,
        "a run leaves a pull under way alone (and does not give the ticket to Ann)"
    );
    assert!(written(&desk).is_empty());
    desk.app.state.clock.advance(CLAIM_MS);
    desk.round().await;

    assert_eq!(
        desk.zendesk.ticket(1).assignee_id,
        Some(BOB),
        "settled for the puller"
    );
    assert_eq!(written(&desk), [1], "written once");
    let log = desk.log().await;
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].state.as_str(), log[0].model.as_str()),
        ("assigned", PULL_MODEL)
    );
}

/// Two agents press at the same moment, on two replicas of one database, over the same
/// waiting ticket, round after round: each ticket goes to exactly one of them, once.
async fn two_agents_pressing_at_once_on_two_replicas_never_share_a_ticket(backend: Backend) {
    let desk = desk(backend, &[online(ANN), online(BOB)]).await;
    // A skills queue reads each new ticket's skills between leaving out claimed tickets
    // and claiming; slowed down, both pulls are past that check before either claims,
    // and past claiming before either writes: only the claim keeps them apart.
    desk.queue(Model::Skills, |_| {}).await;
    let (replica, _) = desk.app.spawn_replica().await;
    read_counts(&desk).await;
    {
        let mut fake = desk.zendesk.state();
        fake.ticket_skills_delay = Some(std::time::Duration::from_millis(300));
        fake.show_many_delay = Some(std::time::Duration::from_millis(300));
    }
    let ann = app_for(&desk, ANN).await;
    let mut bob = app_for(&desk, BOB).await;
    bob.address = replica;
    const ROUNDS: i64 = 8;
    for round in 1..=ROUNDS {
        desk.zendesk.add(Ticket::new(round, MONDAY - 1_000));
        desk.app.state.clock.advance(1_000);
        let (a, b) = tokio::join!(ann.post(), bob.post());
        let outcomes = [(ANN, a), (BOB, b)];
        let won: Vec<(i64, i64)> = outcomes
            .iter()
            .filter(|(_, (status, _))| *status == 200)
            .map(|(agent, (_, body))| (*agent, body["ticket_id"].as_i64().unwrap()))
            .collect();
        assert_eq!(
            won.len(),
            1,
            "round {round}: one of them gets it: {outcomes:?}"
        );
        assert_eq!(won[0].1, round);
        for (_, (status, body)) in outcomes.iter().filter(|(_, (s, _))| *s != 200) {
            let code = body["error"]["code"].as_str().unwrap_or_default();
            assert!(
                *status == 422 && ["taken_meanwhile", "nothing_eligible"].contains(&code),
                "round {round}: the other is told: {status} {body}"
            );
        }
        assert_eq!(desk.zendesk.ticket(round).assignee_id, Some(won[0].0));
    }
    let all = written(&desk);
    let unique: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), unique.len(), "no ticket written twice: {all:?}");
    assert_eq!(unique.len(), ROUNDS as usize);
    let log = desk.log().await;
    assert_eq!(log.len(), ROUNDS as usize, "one log entry per ticket");
    assert!(
        log.iter()
            .all(|a| a.state == "assigned" && a.model == PULL_MODEL)
    );
}

on_both_databases!(
    an_agent_gets_the_most_urgent_ticket_of_their_groups,
    limits_hold_a_pull_back_and_say_so,
    an_agent_not_online_or_out_of_schedule_is_told_why,
    a_pull_needs_a_queue_and_the_counts_read,
    the_app_api_rules_hold_for_next_ticket,
    a_ticket_changed_meanwhile_is_left_and_the_next_one_given,
    a_pull_left_pending_is_settled_by_a_run_only_after_its_claim,
    two_agents_pressing_at_once_on_two_replicas_never_share_a_ticket,
);

#[test]
fn every_refusal_has_its_own_code() {
    let codes: HashSet<String> = [
        PullError::NotConnected,
        PullError::CountsNotRead,
        PullError::NotAnAgent,
        PullError::NotOnline { status: None },
        PullError::OutOfSchedule,
        PullError::InboxFull { open: 1, limit: 1 },
        PullError::DailyLimit { today: 1, limit: 1 },
        PullError::NoQueue,
        PullError::NothingEligible { queues: 1 },
        PullError::TakenMeanwhile,
        PullError::Unconfirmed { ticket_id: 1 },
    ]
    .iter()
    .map(PullError::code)
    .collect();
    assert_eq!(codes.len(), 11);
}
