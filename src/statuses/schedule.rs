//! Business-hours schedules (SPEC 3): weekly intervals in minutes from Sunday 00:00 local
//! time, an IANA time zone and holiday dates. [`Schedule::boundaries`] turns them into the
//! instants (UTC) where an agent should go `online` (a shift starts) or `offline` (it ends).
//!
//! Local times that do not exist (the hour skipped when clocks go forward) move to the
//! first instant after the gap; local times that happen twice (clocks go back) use the
//! first. A shift that starts on a holiday is skipped entirely.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

use crate::domain::{AgentStatus, ParseError};

const WEEK_MINUTES: u32 = 7 * 24 * 60;

/// Zendesk names time zones the Rails way or the IANA way; see [`super::time_zones`].
pub use super::time_zones::iana_zone;

/// Unix ms of a local time in `zone`; a time inside a spring-forward gap resolves to the
/// first instant after the gap (gaps are at most two hours).
pub fn local_to_utc_ms(zone: Tz, local: NaiveDateTime) -> Option<i64> {
    (0..=8)
        .find_map(|quarter| {
            zone.from_local_datetime(&(local + Duration::minutes(15 * quarter)))
                .earliest()
        })
        .map(|t| t.timestamp_millis())
}

#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    time_zone: Tz,
    /// Sorted, merged `(start, end)` minutes from Sunday 00:00, `start < end <= 10080`.
    intervals: Vec<(u32, u32)>,
    /// Inclusive local date ranges.
    holidays: Vec<(NaiveDate, NaiveDate)>,
}

impl Schedule {
    pub fn new(
        time_zone: &str,
        intervals: &[(u32, u32)],
        holidays: &[(NaiveDate, NaiveDate)],
    ) -> Result<Self, ParseError> {
        let time_zone = iana_zone(time_zone).ok_or(ParseError(
            "time zone must be an IANA name like Europe/Paris or a known Zendesk name",
        ))?;
        let mut sorted: Vec<(u32, u32)> = intervals.to_vec();
        if sorted.iter().any(|(s, e)| s >= e || *e > WEEK_MINUTES) {
            return Err(ParseError("intervals must be start < end <= 10080 minutes"));
        }
        sorted.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(sorted.len());
        for (start, end) in sorted {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        Ok(Self {
            time_zone,
            intervals: merged,
            holidays: holidays.to_vec(),
        })
    }

    /// Reads the stored form (`"start-end,..."`, `"YYYY-MM-DD/YYYY-MM-DD,..."`).
    pub fn from_stored(
        time_zone: &str,
        intervals: &str,
        holidays: &str,
    ) -> Result<Self, ParseError> {
        let bad = || ParseError("stored schedule is malformed");
        let intervals = intervals
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|pair| {
                let (s, e) = pair.split_once('-').ok_or_else(bad)?;
                Ok((s.parse().map_err(|_| bad())?, e.parse().map_err(|_| bad())?))
            })
            .collect::<Result<Vec<_>, ParseError>>()?;
        let holidays = holidays
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|pair| {
                let (s, e) = pair.split_once('/').ok_or_else(bad)?;
                Ok((s.parse().map_err(|_| bad())?, e.parse().map_err(|_| bad())?))
            })
            .collect::<Result<Vec<_>, ParseError>>()?;
        Self::new(time_zone, &intervals, &holidays)
    }

    pub fn time_zone(&self) -> &str {
        self.time_zone.name()
    }

    pub fn stored_intervals(&self) -> String {
        self.intervals
            .iter()
            .map(|(s, e)| format!("{s}-{e}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn stored_holidays(&self) -> String {
        self.holidays
            .iter()
            .map(|(s, e)| format!("{s}/{e}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn is_holiday(&self, date: NaiveDate) -> bool {
        self.holidays.iter().any(|(s, e)| (*s..=*e).contains(&date))
    }

    fn to_utc_ms(&self, local: NaiveDateTime) -> Option<i64> {
        local_to_utc_ms(self.time_zone, local)
    }

    /// Whether a shift is running at `at_ms` (the last boundary within the past 8 days
    /// was a start).
    pub fn is_open_at(&self, at_ms: i64) -> bool {
        self.boundaries(at_ms - 8 * 86_400_000, at_ms)
            .last()
            .is_some_and(|(_, status)| *status == AgentStatus::Online)
    }

    /// Shift starts (`online`) and ends (`offline`) in `(from_ms, to_ms]`, in order.
    pub fn boundaries(&self, from_ms: i64, to_ms: i64) -> Vec<(i64, AgentStatus)> {
        let (Some(from), Some(to)) = (
            chrono::DateTime::from_timestamp_millis(from_ms),
            chrono::DateTime::from_timestamp_millis(to_ms),
        ) else {
            return Vec::new();
        };
        let first = from.with_timezone(&self.time_zone).date_naive() - Duration::days(8);
        let last = to.with_timezone(&self.time_zone).date_naive() + Duration::days(1);
        let mut week = first - Duration::days(i64::from(first.weekday().num_days_from_sunday()));
        let mut found = Vec::new();
        while week <= last {
            let sunday = week.and_hms_opt(0, 0, 0).unwrap_or_default();
            for (start, end) in &self.intervals {
                let starts = sunday + Duration::minutes(i64::from(*start));
                if self.is_holiday(starts.date()) {
                    continue;
                }
                let ends = sunday + Duration::minutes(i64::from(*end));
                for (local, status) in [(starts, AgentStatus::Online), (ends, AgentStatus::Offline)]
                {
                    if let Some(at) = self.to_utc_ms(local)
                        && at > from_ms
                        && at <= to_ms
                    {
                        found.push((at, status));
                    }
                }
            }
            week += Duration::days(7);
        }
        found.sort_by_key(|(at, status)| (*at, *status == AgentStatus::Online));
        found
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn utc(text: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp_millis()
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    /// Sunday 09:00-17:00, and Sunday 02:30-04:00 (inside the spring-forward gap).
    fn sundays() -> Schedule {
        Schedule::new("Europe/Paris", &[(540, 1020), (150, 240)], &[]).unwrap()
    }

    #[test]
    fn shifts_follow_local_time_across_the_spring_dst_change() {
        let before = sundays().boundaries(utc("2026-03-22T00:00:00Z"), utc("2026-03-22T23:00:00Z"));
        assert_eq!(
            before,
            vec![
                (utc("2026-03-22T01:30:00Z"), AgentStatus::Online),
                (utc("2026-03-22T03:00:00Z"), AgentStatus::Offline),
                (utc("2026-03-22T08:00:00Z"), AgentStatus::Online),
                (utc("2026-03-22T16:00:00Z"), AgentStatus::Offline),
            ],
            "UTC+1 the week before"
        );
        let change = sundays().boundaries(utc("2026-03-29T00:00:00Z"), utc("2026-03-29T23:00:00Z"));
        assert_eq!(
            change,
            vec![
                // 02:30 does not exist; 03:00 CEST (01:00 UTC) is the first instant after.
                (utc("2026-03-29T01:00:00Z"), AgentStatus::Online),
                (utc("2026-03-29T02:00:00Z"), AgentStatus::Offline),
                (utc("2026-03-29T07:00:00Z"), AgentStatus::Online),
                (utc("2026-03-29T15:00:00Z"), AgentStatus::Offline),
            ],
            "UTC+2 from the change on"
        );
    }

    #[test]
    fn the_repeated_autumn_hour_uses_its_first_occurrence() {
        // Sunday 02:30-09:00 on 2026-10-25: 02:30 happens at 00:30 and 01:30 UTC.
        let schedule = Schedule::new("Europe/Paris", &[(150, 540)], &[]).unwrap();
        let found = schedule.boundaries(utc("2026-10-25T00:00:00Z"), utc("2026-10-25T12:00:00Z"));
        assert_eq!(
            found,
            vec![
                (utc("2026-10-25T00:30:00Z"), AgentStatus::Online),
                (utc("2026-10-25T08:00:00Z"), AgentStatus::Offline),
            ]
        );
    }

    #[test]
    fn holidays_skip_the_shifts_that_start_on_them() {
        let schedule = Schedule::new(
            "America/New_York",
            &[(1980, 2460)],
            &[(day("2026-12-28"), day("2026-12-28"))],
        )
        .unwrap();
        let found = schedule.boundaries(utc("2026-12-27T00:00:00Z"), utc("2027-01-05T00:00:00Z"));
        assert_eq!(
            found,
            vec![
                (utc("2027-01-04T14:00:00Z"), AgentStatus::Online),
                (utc("2027-01-04T22:00:00Z"), AgentStatus::Offline),
            ],
            "Monday 09:00-17:00 New York, the 28th off"
        );
    }

    #[test]
    fn touching_intervals_merge_and_bad_input_is_refused() {
        let schedule = Schedule::new("UTC", &[(1440, 2880), (0, 1440)], &[]).unwrap();
        assert_eq!(schedule.stored_intervals(), "0-2880");
        let back = Schedule::from_stored("UTC", "0-2880", "2026-12-25/2026-12-26").unwrap();
        assert_eq!(back.stored_holidays(), "2026-12-25/2026-12-26");
        assert!(Schedule::new("Somewhere Time (Nowhere)", &[], &[]).is_err());
        let zendesk = Schedule::new("Pacific Time (US & Canada)", &[], &[]).unwrap();
        assert_eq!(zendesk.time_zone(), "America/Los_Angeles");
        assert!(Schedule::new("UTC", &[(10, 5)], &[]).is_err());
        assert!(Schedule::new("UTC", &[(0, 10081)], &[]).is_err());
        assert!(Schedule::from_stored("UTC", "x-y", "").is_err());
    }
}
