//! The Zendesk client: Channel Framework payload types and the push API (SPEC 1.4, 1.5),
//! the REST calls statuses and routing need (SPEC 3), and `connection`, the owner of
//! each account's REST connection through which every one of those calls is authorized,
//! and `webhooks`, the webhooks and triggers slackdesk makes in Zendesk.
//!
//! Nothing here logs content: only external ids, counts and status codes.

pub mod connection;
pub mod names;
mod push;
mod resources;
mod rest;
mod tickets;
pub mod webhooks;

pub use connection::{Connections, Credential, ZendeskAuth};
pub use push::{MAX_PUSH_BATCH, PushError, PushOutcome, PushResultStatus, ZendeskClient};
pub use resources::{Author, ExternalResource, FieldValue};
pub use rest::{
    BusinessInterval, BusinessSchedule, GroupMembership, Holiday, Me, RestError, ZendeskUser,
};
pub use tickets::{
    CommentMeta, CustomField, JobState, JobStatus, MAX_UPDATE_MANY, OpenTickets, SkillChange,
    SkillChanges, TicketChanges, TicketState, TicketUpdate,
};
