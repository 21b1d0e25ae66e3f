//! The status board's chart: each agent's online time per UTC day over the last 7 days,
//! from their status changes, drawn as a small server-rendered SVG bar chart (1 px per
//! online hour, escaped by askama like every page).

use askama::Template;

use super::wire::iso_ms;
use crate::domain::AgentStatus;

const DAY_MS: i64 = 86_400_000;

/// The first UTC midnight of the 7-day window ending with `now`'s day.
pub fn window_start(now: i64) -> i64 {
    now.div_euclid(DAY_MS) * DAY_MS - 6 * DAY_MS
}

/// Online milliseconds per UTC day for the 7 days ending with `now`'s day, oldest first,
/// from one agent's changes in time order (the first may predate the window).
pub fn online_by_day(changes: &[(i64, AgentStatus)], now: i64) -> [i64; 7] {
    let first_day = window_start(now);
    let mut days = [0i64; 7];
    for (i, (at, status)) in changes.iter().enumerate() {
        if *status != AgentStatus::Online {
            continue;
        }
        let end = changes.get(i + 1).map_or(now, |(next, _)| *next).min(now);
        let mut start = (*at).max(first_day);
        while start < end {
            let day_end = (start.div_euclid(DAY_MS) + 1) * DAY_MS;
            let slice_end = end.min(day_end);
            let index = (start - first_day).div_euclid(DAY_MS);
            if let Some(day) = usize::try_from(index).ok().and_then(|i| days.get_mut(i)) {
                *day += slice_end - start;
            }
            start = slice_end;
        }
    }
    days
}

/// One bar of the 7-day chart (SVG units: 1 px per online hour).
pub struct Bar {
    pub x: i64,
    pub y: i64,
    pub height: i64,
    pub title: String,
}

fn bars(days: [i64; 7], now: i64) -> Vec<Bar> {
    let first_day = window_start(now);
    days.iter()
        .enumerate()
        .map(|(i, ms)| {
            let hours = (*ms as f64 / 3_600_000.0).clamp(0.0, 24.0);
            let height = hours.round() as i64;
            let date = iso_ms(first_day + i as i64 * DAY_MS);
            Bar {
                x: i as i64 * 10,
                y: 24 - height,
                height,
                title: format!("{}: {hours:.1} h online", &date[..10]),
            }
        })
        .collect()
}

/// One agent's chart, rendered in place in the board's table (`{{ row.chart|safe }}`:
/// this template escapes its own text).
#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<svg class="chart" width="70" height="24" viewBox="0 0 70 24" role="img" aria-label="online hours per day, last 7 days">{% for bar in bars %}<rect x="{{ bar.x }}" y="{{ bar.y }}" width="8" height="{{ bar.height }}"><title>{{ bar.title }}</title></rect>{% endfor %}</svg>"#
)]
pub struct Chart {
    bars: Vec<Bar>,
}

impl Chart {
    /// The chart of one agent's changes (in time order) at `now`.
    pub fn of(changes: &[(i64, AgentStatus)], now: i64) -> Self {
        Self {
            bars: bars(online_by_day(changes, now), now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn online_time_is_split_by_utc_day_and_clipped_to_the_window() {
        let now = 20_000 * DAY_MS + 6 * 3_600_000; // day 20000, 06:00
        let changes = [
            (19_990 * DAY_MS, AgentStatus::Online), // before the window
            (19_994 * DAY_MS + 12 * 3_600_000, AgentStatus::Away), // day 0 of the window, noon
            (19_999 * DAY_MS + 22 * 3_600_000, AgentStatus::Online),
        ];
        let days = online_by_day(&changes, now);
        assert_eq!(days[0], 12 * 3_600_000);
        assert_eq!(days[1..5], [0, 0, 0, 0]);
        assert_eq!(days[5], 2 * 3_600_000);
        assert_eq!(days[6], 6 * 3_600_000, "still online now");
        let chart = bars(days, now);
        assert_eq!((chart[0].height, chart[0].y), (12, 12));
        assert!(chart[6].title.ends_with("6.0 h online"));
    }

    #[test]
    fn the_svg_has_one_escaped_bar_per_day() {
        let now = 20_000 * DAY_MS + 6 * 3_600_000;
        let svg = Chart::of(&[(now - 2 * 3_600_000, AgentStatus::Online)], now)
            .render()
            .unwrap_or_default();
        assert!(
            svg.starts_with(r#"<svg class="chart" width="70" height="24""#),
            "{svg}"
        );
        assert_eq!(svg.matches("<rect ").count(), 7, "{svg}");
        assert!(svg.ends_with(r#"<rect x="60" y="22" width="8" height="2"><title>2024-10-04: 2.0 h online</title></rect></svg>"#), "{svg}");
    }
}
