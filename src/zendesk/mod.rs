//! The Zendesk client: Channel Framework payload types and the push API (SPEC 1.4, 1.5),
//! and the REST calls statuses need (SPEC 3): the signed-in user, agents, group
//! memberships and app notifications.
//!
//! Nothing here logs content: only external ids, counts and status codes.

mod push;
mod resources;
mod rest;
mod tickets;

pub use push::{MAX_PUSH_BATCH, PushError, PushOutcome, PushResultStatus, ZendeskClient};
pub use resources::{Author, ExternalResource, FieldValue};
pub use rest::{
    BusinessInterval, BusinessSchedule, GroupMembership, Holiday, Me, RestError, ZendeskAuth,
    ZendeskUser,
};
pub use tickets::{
    CustomField, JobState, JobStatus, MAX_UPDATE_MANY, SkillChange, SkillChanges, TicketChanges,
    TicketState, TicketUpdate,
};
