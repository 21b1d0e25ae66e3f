//! Day one for an admin: the home page at `/` with its live setup checklist
//! ([`checklist`]), the one-click Slack app link built from the app manifest
//! ([`slack_manifest`]), and `GET /setup/zendesk-app.zip`, the Zendesk app package built
//! from files embedded in the binary ([`zendesk_package`]).
//!
//! Everything here is public: it shows counts and booleans, never account ids,
//! subdomains, team ids or names. Account details are for admins signed in with Zendesk
//! (a later piece; see the marked place in `templates/home.html`).

pub mod checklist;
pub mod slack_manifest;
mod web;
pub mod zendesk_package;

pub use web::configure;
