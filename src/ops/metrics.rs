//! The process's metrics, kept with `prometheus-client` and rendered as OpenMetrics
//! text: counters and latency histograms updated as work happens, and gauges (queues,
//! connections) set from the database when `/metrics` is scraped.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::storage::outbox::QueueStats;

type Labels = Vec<(&'static str, String)>;

/// Latency buckets from 1 ms to about 33 s.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// Event-to-Zendesk buckets from 5 ms to about 23 h (rows may wait for retries).
fn delivery_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.5, 18))
}

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    pushes: Family<Labels, Counter>,
    channelbacks: Family<Labels, Counter>,
    attachments: Family<Labels, Counter>,
    slack_events: Family<Labels, Counter>,
    pulled: Counter,
    queue_depth: Gauge,
    account_depth: Family<Labels, Gauge>,
    account_oldest: Family<Labels, Gauge<f64, AtomicU64>>,
    account_dead: Family<Labels, Gauge>,
    connections: Family<Labels, Gauge>,
    failed_writes: Counter,
    writable: Gauge,
    slack_ack: Histogram,
    event_to_zendesk: Histogram,
    channelback_round_trip: Histogram,
    push_request: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut metrics = Self {
            registry: Registry::default(),
            requests: Family::default(),
            pushes: Family::default(),
            channelbacks: Family::default(),
            attachments: Family::default(),
            slack_events: Family::default(),
            pulled: Counter::default(),
            queue_depth: Gauge::default(),
            account_depth: Family::default(),
            account_oldest: Family::default(),
            account_dead: Family::default(),
            connections: Family::default(),
            failed_writes: Counter::default(),
            writable: Gauge::default(),
            slack_ack: latency_histogram(),
            event_to_zendesk: delivery_histogram(),
            channelback_round_trip: latency_histogram(),
            push_request: latency_histogram(),
        };
        metrics.register_all();
        metrics
    }
}

impl Metrics {
    fn register_all(&mut self) {
        let r = &mut self.registry;
        r.register(
            "slackdesk_http_requests",
            "HTTP requests by route and status",
            self.requests.clone(),
        );
        r.register(
            "slackdesk_push_resources",
            "Resources pushed to Zendesk by result",
            self.pushes.clone(),
        );
        r.register(
            "slackdesk_channelbacks",
            "Channelbacks by result",
            self.channelbacks.clone(),
        );
        r.register(
            "slackdesk_attachments",
            "Agents' attachments forwarded to Slack by a job, by outcome (retry, given_up, unreported)",
            self.attachments.clone(),
        );
        r.register(
            "slackdesk_slack_events",
            "Slack events accepted, by outcome",
            self.slack_events.clone(),
        );
        r.register(
            "slackdesk_pulled_resources",
            "Resources handed to Zendesk pulls",
            self.pulled.clone(),
        );
        r.register(
            "slackdesk_queue_depth",
            "Resources waiting to reach Zendesk",
            self.queue_depth.clone(),
        );
        r.register(
            "slackdesk_account_queue_depth",
            "Resources waiting to reach Zendesk, per integration account",
            self.account_depth.clone(),
        );
        r.register(
            "slackdesk_account_oldest_queued_seconds",
            "Age of the oldest resource waiting to reach Zendesk, per integration account",
            self.account_oldest.clone(),
        );
        r.register(
            "slackdesk_account_dead_deliveries",
            "Resources given up (dead) and not yet retried or discarded, per integration account",
            self.account_dead.clone(),
        );
        r.register(
            "slackdesk_zendesk_connections",
            "Zendesk REST connections by kind and state",
            self.connections.clone(),
        );
        r.register(
            "slackdesk_database_failed_writes",
            "Commits and write probes the database refused (full disk, read-only, I/O error, …)",
            self.failed_writes.clone(),
        );
        r.register(
            "slackdesk_database_writable",
            "1 while the last write succeeded, 0 after a storage fault until a write succeeds",
            self.writable.clone(),
        );
        r.register(
            "slackdesk_slack_ack_seconds",
            "Time from a Slack event's arrival to its answer",
            self.slack_ack.clone(),
        );
        r.register(
            "slackdesk_event_to_zendesk_seconds",
            "Time from a Slack event's acceptance to Zendesk's acknowledgement of its resource",
            self.event_to_zendesk.clone(),
        );
        r.register(
            "slackdesk_channelback_seconds",
            "Round trip of a Zendesk channelback (arrival to answer)",
            self.channelback_round_trip.clone(),
        );
        r.register(
            "slackdesk_push_request_seconds",
            "Duration of one push request to Zendesk",
            self.push_request.clone(),
        );
    }

    /// One HTTP request, by route pattern (never the raw path) and status.
    pub fn record_request(&self, route: &str, status: u16) {
        self.requests
            .get_or_create(&vec![
                ("route", route.to_owned()),
                ("status", status.to_string()),
            ])
            .inc();
    }

    /// Push results by outcome (`delivered`, `retry`, `dead`, `rate_limited`, …).
    pub fn record_push(&self, result: &str, count: u64) {
        self.pushes
            .get_or_create(&vec![("result", result.to_owned())])
            .inc_by(count);
    }

    pub fn record_channelback(&self, result: &str) {
        self.channelbacks
            .get_or_create(&vec![("result", result.to_owned())])
            .inc();
    }

    pub fn record_attachments(&self, result: &str, count: u64) {
        self.attachments
            .get_or_create(&vec![("result", result.to_owned())])
            .inc_by(count);
    }

    /// Slack events by outcome (`queued`, `duplicate`, `ignored`).
    pub fn record_slack_event(&self, outcome: &str) {
        self.slack_events
            .get_or_create(&vec![("outcome", outcome.to_owned())])
            .inc();
    }

    pub fn record_pulled(&self, count: usize) {
        self.pulled.inc_by(count as u64);
    }

    /// The latency histograms of the routes that have one: the Slack ack and the
    /// channelback round trip.
    pub fn observe_round_trip(&self, route: &str, took: Duration) {
        match route {
            "/slack/events" => self.slack_ack.observe(took.as_secs_f64()),
            "/channel/channelback" => self.channelback_round_trip.observe(took.as_secs_f64()),
            _ => {}
        }
    }

    pub fn observe_event_to_zendesk(&self, took: Duration) {
        self.event_to_zendesk.observe(took.as_secs_f64());
    }

    pub fn observe_push(&self, took: Duration) {
        self.push_request.observe(took.as_secs_f64());
    }

    /// Sets the queue gauges from the database (at scrape time); accounts without
    /// queued or dead rows drop out.
    pub fn set_queues(&self, stats: &[QueueStats]) {
        self.account_depth.clear();
        self.account_oldest.clear();
        self.account_dead.clear();
        let mut total = 0;
        for queue in stats {
            let labels = vec![("account", queue.account.clone())];
            total += queue.depth;
            self.account_depth.get_or_create(&labels).set(queue.depth);
            self.account_oldest
                .get_or_create(&labels)
                .set(queue.oldest_ms as f64 / 1000.0);
            self.account_dead.get_or_create(&labels).set(queue.dead);
        }
        self.queue_depth.set(total);
    }

    /// Sets `slackdesk_zendesk_connections{kind,state}`.
    pub fn set_connection(&self, kind: &str, state: &str, count: i64) {
        self.connections
            .get_or_create(&vec![
                ("kind", kind.to_owned()),
                ("state", state.to_owned()),
            ])
            .set(count);
    }

    /// Sets the database gauges from the pool's write health (at scrape time).
    pub fn set_database_health(&self, failed_writes: u64, writable: bool) {
        let counted = self.failed_writes.get();
        if failed_writes > counted {
            self.failed_writes.inc_by(failed_writes - counted);
        }
        self.writable.set(i64::from(writable));
    }

    /// The OpenMetrics text of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            tracing::warn!("metrics could not be encoded");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_histograms_render_as_openmetrics_text() {
        let metrics = Metrics::default();
        metrics.record_request("/channel/pull", 200);
        metrics.record_request("/channel/pull", 200);
        metrics.record_push("delivered", 3);
        metrics.observe_round_trip("/slack/events", Duration::from_millis(3));
        metrics.set_queues(&[QueueStats {
            account: "a1".into(),
            depth: 7,
            oldest_ms: 1500,
            dead: 2,
        }]);
        let text = metrics.render();
        assert!(
            text.contains(
                "slackdesk_http_requests_total{route=\"/channel/pull\",status=\"200\"} 2"
            ),
            "{text}"
        );
        assert!(text.contains("slackdesk_push_resources_total{result=\"delivered\"} 3"));
        assert!(text.contains("slackdesk_queue_depth 7"));
        assert!(text.contains("slackdesk_account_dead_deliveries{account=\"a1\"} 2"));
        assert!(text.contains("slackdesk_account_oldest_queued_seconds{account=\"a1\"} 1.5"));
        assert!(text.contains("slackdesk_slack_ack_seconds_count 1"));
        assert!(text.ends_with("# EOF\n"));
    }
}
