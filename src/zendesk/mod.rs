//! The Zendesk client: Channel Framework payload types and the push API (SPEC 1.4, 1.5).
//!
//! Nothing here logs content: only external ids, counts and status codes.

mod push;
mod resources;

pub use push::{MAX_PUSH_BATCH, PushError, PushOutcome, PushResultStatus, ZendeskClient};
pub use resources::{Author, ExternalResource, FieldValue};
