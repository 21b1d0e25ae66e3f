//! slackdesk: a self-hosted bridge from Slack channels to Zendesk tickets through the
//! Zendesk Channel Framework.
//!
//! The crate is the whole application; `main.rs` only parses the command line.
//!
//! ```text
//!  Slack ──events──▶ slack ──▶ bridge ──▶ storage (outbox of ids) ──▶ jobs ──push──▶ Zendesk
//!                                              ▲                      └──pull── channel
//!  Zendesk ──channelback──▶ channel ──▶ bridge ──chat.postMessage──▶ Slack
//! ```
//!
//! Only ids are stored; message content is fetched from Slack when a resource is built
//! and dropped once it has been handed to Zendesk.

pub mod agent_app;
pub mod bridge;
pub mod channel;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
#[doc(hidden)]
pub mod fuzzing;
pub mod jobs;
pub mod ops;
pub mod outbound;
pub mod routing;
pub mod setup;
pub mod slack;
pub mod startup;
pub mod state;
pub mod statuses;
pub mod storage;
pub mod telemetry;
pub mod web;
pub mod zendesk;
pub mod zendesk_app;
