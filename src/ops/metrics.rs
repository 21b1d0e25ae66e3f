//! In-process counters rendered as Prometheus text.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

#[derive(Default, Debug)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    pushes: Mutex<BTreeMap<String, u64>>,
    channelbacks: Mutex<BTreeMap<String, u64>>,
    slack_events: Mutex<BTreeMap<String, u64>>,
    pulled: Mutex<u64>,
}

fn bump<K: Ord>(map: &Mutex<BTreeMap<K, u64>>, key: K, by: u64) {
    if let Ok(mut map) = map.lock() {
        *map.entry(key).or_insert(0) += by;
    }
}

impl Metrics {
    /// One HTTP request, by route pattern (never the raw path) and status.
    pub fn record_request(&self, route: &str, status: u16) {
        bump(&self.requests, (route.to_owned(), status), 1);
    }

    /// Push results by outcome (`delivered`, `retry`, `failed`, `rate_limited`, …).
    pub fn record_push(&self, result: &str, count: u64) {
        bump(&self.pushes, result.to_owned(), count);
    }

    pub fn record_channelback(&self, result: &str) {
        bump(&self.channelbacks, result.to_owned(), 1);
    }

    /// Slack events by outcome (`queued`, `duplicate`, `ignored`).
    pub fn record_slack_event(&self, outcome: &str) {
        bump(&self.slack_events, outcome.to_owned(), 1);
    }

    pub fn record_pulled(&self, count: usize) {
        if let Ok(mut pulled) = self.pulled.lock() {
            *pulled += count as u64;
        }
    }

    pub fn render(&self, queue_depth: Option<i64>) -> String {
        let mut out = String::new();
        out.push_str("# HELP slackdesk_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE slackdesk_http_requests_total counter\n");
        if let Ok(requests) = self.requests.lock() {
            for ((route, status), count) in requests.iter() {
                let _ = writeln!(
                    out,
                    "slackdesk_http_requests_total{{route=\"{}\",status=\"{status}\"}} {count}",
                    escape(route)
                );
            }
        }
        out.push_str(
            "# HELP slackdesk_push_resources_total Resources pushed to Zendesk by result.\n",
        );
        out.push_str("# TYPE slackdesk_push_resources_total counter\n");
        if let Ok(pushes) = self.pushes.lock() {
            for (result, count) in pushes.iter() {
                let _ = writeln!(
                    out,
                    "slackdesk_push_resources_total{{result=\"{}\"}} {count}",
                    escape(result)
                );
            }
        }
        out.push_str("# HELP slackdesk_channelbacks_total Channelbacks by result.\n");
        out.push_str("# TYPE slackdesk_channelbacks_total counter\n");
        if let Ok(channelbacks) = self.channelbacks.lock() {
            for (result, count) in channelbacks.iter() {
                let _ = writeln!(
                    out,
                    "slackdesk_channelbacks_total{{result=\"{}\"}} {count}",
                    escape(result)
                );
            }
        }
        out.push_str("# HELP slackdesk_slack_events_total Slack events accepted, by outcome.\n");
        out.push_str("# TYPE slackdesk_slack_events_total counter\n");
        if let Ok(events) = self.slack_events.lock() {
            for (outcome, count) in events.iter() {
                let _ = writeln!(
                    out,
                    "slackdesk_slack_events_total{{outcome=\"{}\"}} {count}",
                    escape(outcome)
                );
            }
        }
        out.push_str(
            "# HELP slackdesk_pulled_resources_total Resources handed to Zendesk pulls.\n",
        );
        out.push_str("# TYPE slackdesk_pulled_resources_total counter\n");
        let pulled = self.pulled.lock().map(|p| *p).unwrap_or(0);
        let _ = writeln!(out, "slackdesk_pulled_resources_total {pulled}");
        if let Some(depth) = queue_depth {
            out.push_str("# HELP slackdesk_queue_depth Resources waiting to reach Zendesk.\n");
            out.push_str("# TYPE slackdesk_queue_depth gauge\n");
            let _ = writeln!(out, "slackdesk_queue_depth {depth}");
        }
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_as_prometheus_text() {
        let metrics = Metrics::default();
        metrics.record_request("/channel/pull", 200);
        metrics.record_request("/channel/pull", 200);
        metrics.record_push("delivered", 3);
        let text = metrics.render(Some(7));
        assert!(
            text.contains(
                "slackdesk_http_requests_total{route=\"/channel/pull\",status=\"200\"} 2"
            )
        );
        assert!(text.contains("slackdesk_push_resources_total{result=\"delivered\"} 3"));
        assert!(text.contains("slackdesk_queue_depth 7"));
    }
}
