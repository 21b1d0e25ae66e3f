//! The routing report's numbers: tickets assigned per agent per day and per queue per
//! day over the last [`DAYS`] UTC days, shaped as bar charts the page draws as inline
//! SVG (no script). Agents and queues appear by id only.

use std::collections::BTreeMap;

use crate::statuses::wire::iso_ms;

/// Days the report covers, today included.
pub const DAYS: i64 = 30;
pub const DAY_MS: i64 = 86_400_000;
/// SVG units: the tallest bar's height, and each bar's slot width.
pub const CHART_HEIGHT: i64 = 40;
pub const SLOT: i64 = 10;
pub const CHART_WIDTH: i64 = DAYS * SLOT;

/// One day's bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    pub x: i64,
    pub y: i64,
    pub height: i64,
    /// Shown on hover: `2026-11-20: 3 assigned`.
    pub title: String,
}

/// One agent's (or one queue's) 30 days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    /// `agent 12345`, `queue 3` or `same-agent rule`.
    pub label: String,
    pub total: i64,
    pub bars: Vec<Bar>,
}

/// The first UTC day number of the window ending with `now`'s day.
pub fn first_day(now: i64) -> i64 {
    now.div_euclid(DAY_MS) - (DAYS - 1)
}

/// Per-agent and per-queue charts from `(utc_day, agent, queue, count)` rows, each set
/// on its own scale (the busiest day of the set is full height) so charts compare;
/// `agent_label` names an agent's chart.
pub fn charts(
    counts: &[(i64, i64, Option<i64>, i64)],
    now: i64,
    agent_label: impl Fn(i64) -> String,
) -> (Vec<Chart>, Vec<Chart>) {
    let first = first_day(now);
    let mut by_agent: BTreeMap<i64, [i64; DAYS as usize]> = BTreeMap::new();
    let mut by_queue: BTreeMap<Option<i64>, [i64; DAYS as usize]> = BTreeMap::new();
    for &(day, agent, queue, count) in counts {
        let Some(index) = usize::try_from(day - first)
            .ok()
            .filter(|i| *i < DAYS as usize)
        else {
            continue;
        };
        by_agent.entry(agent).or_insert([0; DAYS as usize])[index] += count;
        by_queue.entry(queue).or_insert([0; DAYS as usize])[index] += count;
    }
    let agents = draw(
        by_agent
            .into_iter()
            .map(|(agent, days)| (agent_label(agent), days))
            .collect(),
        first,
    );
    let queues = draw(
        by_queue
            .into_iter()
            .map(|(queue, days)| {
                let label =
                    queue.map_or_else(|| "same-agent rule".to_owned(), |q| format!("queue {q}"));
                (label, days)
            })
            .collect(),
        first,
    );
    (agents, queues)
}

fn draw(series: Vec<(String, [i64; DAYS as usize])>, first: i64) -> Vec<Chart> {
    let peak = series
        .iter()
        .flat_map(|(_, days)| days.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    series
        .into_iter()
        .map(|(label, days)| Chart {
            label,
            total: days.iter().sum(),
            bars: days
                .iter()
                .enumerate()
                .map(|(i, &n)| {
                    // Any day with a ticket shows at least 1 unit.
                    let height = if n > 0 {
                        ((n * CHART_HEIGHT + peak - 1) / peak).clamp(1, CHART_HEIGHT)
                    } else {
                        0
                    };
                    let day = first + i as i64;
                    let date = iso_ms(day * DAY_MS);
                    Bar {
                        x: i as i64 * SLOT,
                        y: CHART_HEIGHT - height,
                        height,
                        title: format!("{}: {n} assigned", date.get(..10).unwrap_or(&date)),
                    }
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_land_on_their_day_and_scale_to_the_busiest() {
        let now = 20_000 * DAY_MS + 5_000;
        let first = first_day(now);
        let counts = [
            (first, 7, Some(1), 2),
            (20_000, 7, Some(1), 4),
            (20_000, 9, None, 1),
            (first - 1, 7, Some(1), 50), // before the window: left out
        ];
        let (agents, queues) = charts(&counts, now, |agent| format!("agent {agent}"));
        assert_eq!(agents.len(), 2);
        assert_eq!((agents[0].label.as_str(), agents[0].total), ("agent 7", 6));
        assert_eq!(agents[0].bars[29].height, CHART_HEIGHT, "the busiest day");
        assert_eq!(agents[0].bars[0].height, CHART_HEIGHT / 2);
        assert_eq!(agents[1].bars[29].height, 10, "1 of 4, rounded up");
        assert!(agents[0].bars[29].title.ends_with(": 4 assigned"));
        let labels: Vec<&str> = queues.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, ["same-agent rule", "queue 1"]);
        assert_eq!(queues[1].total, 6);
    }
}
