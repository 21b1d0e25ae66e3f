//! Ticket routing (SPEC 5): queues over Zendesk views that hand unassigned tickets to
//! eligible agents by round robin, least active or skills, the same-agent rule for a
//! requester's new ticket, an agent pulling their next ticket, and the write-back to
//! Zendesk with an audit trail.
//!
//! ```text
//!  scheduled worker ─┐                     ┌─ engine (pure decision + reasons)
//!  route webhook ────┼─▶ run (lease, read) ┼─▶ storage: claim + log (one tx)
//!  same_agent hook ──┘                     └─▶ write: update_many ≤100, job followed
//!  sync worker: incremental tickets (inbox counts) and skills
//!  watch (reassign): tickets a queue assigned that nobody answered, or whose agent
//!  left, go back to routing
//!  agents' app "next ticket" ─▶ next_ticket: one agent pulls one ticket (claims, log
//!                               and write as above; no queue lease)
//! ```
//!
//! Everything routing stores is ids, counts, settings and reasons in words.

pub mod admin;
pub mod api;
pub mod dedicated;
pub mod engine;
pub mod hooks;
pub mod next_ticket;
pub mod reassign;
pub mod report;
pub mod run;
pub mod same_agent;
pub mod settings;
pub mod sync;
pub mod webhook;
pub mod worker;
pub mod write;

use actix_web::web;

/// Registers routing's HTTP routes: the JSON API, the admin pages and the webhooks.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(api::routes)
        .configure(admin::routes)
        .configure(webhook::routes);
}
