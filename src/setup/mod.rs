//! Day one for an admin: the home page at `/` with its live setup checklist
//! ([`checklist`]), the one-click Slack app link built from the app manifest
//! ([`slack_manifest`]), and `GET /setup/zendesk-app.zip`, the Zendesk app package built
//! from files embedded in the binary ([`zendesk_package`]).
//!
//! The home page is public: it shows counts and booleans, never account ids,
//! subdomains, team ids or names. An admin's own account's part of the checklist is at
//! `/zendesk/setup` ([`account`]), after "Sign in with Zendesk" (Zendesk OAuth, admins
//! only) or an API key.

pub mod account;
pub mod checklist;
pub mod slack_manifest;
mod web;
pub mod zendesk_package;

pub use web::routes;
