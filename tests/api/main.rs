//! Black-box tests: the real service on a loopback port, a real database (SQLite file or a
//! fresh PostgreSQL database), and fake Slack and Zendesk servers speaking their wire
//! formats. Most tests run once per database (`on_both_databases!`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod support;

mod admin_ui;
mod agent_app;
mod at_rest;
mod browser;
mod channelback;
mod clickthrough;
mod delivery;
mod events;
mod fuzz;
mod fuzz_targets;
mod home;
mod journey;
mod keys;
mod limits;
mod manifest;
mod operations;
mod pull;
mod push;
mod reliability;
mod replicas;
mod routing;
mod routing_admin;
mod security;
mod slack_connect;
mod slack_events;
mod status_admin;
mod status_board;
mod status_export;
mod status_rules;
mod statuses;
mod storage_faults;
mod zendesk_app_package;
mod zendesk_connection;
mod zendesk_oauth;
