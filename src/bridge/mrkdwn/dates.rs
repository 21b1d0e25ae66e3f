//! Slack date tokens (`<!date^1392734382^{date_short} at {time}^link|fallback>`).
//!
//! Zendesk readers have no Slack locale or time zone, so the format tokens are not
//! expanded: a token shows its fallback text (linked when it carries a safe link), and
//! without a fallback its timestamp to the minute in UTC. The calendar is `chrono`'s.

use chrono::{DateTime, Datelike, Timelike};

use super::angle::{Angle, decode, safe_url};

/// Timestamps further than this from 1970 (about 34,800 years) are shown as written.
const MAX_SECONDS: u64 = 1 << 40;

/// A date shows its fallback text (linked when the sequence carries a safe link); without
/// one, the timestamp in UTC.
pub(super) fn date<'a>(
    stamp: Option<&str>,
    link: Option<&str>,
    label: Option<&'a str>,
) -> Angle<'a> {
    match (label, link.map(decode)) {
        (Some(label), Some(url)) if safe_url(&url) => Angle::Link {
            url,
            label: Some(label),
        },
        (Some(label), _) => Angle::Text(decode(label)),
        (None, _) => {
            let stamp = stamp.unwrap_or_default();
            Angle::Text(utc_minute(stamp).unwrap_or_else(|| decode(stamp)))
        }
    }
}

/// Unix seconds as `YYYY-MM-DD HH:MM UTC`. Written from the fields rather than with
/// `%Y`, which would sign years outside 0..=9999 (`+10000`) where this writes `10000`.
fn utc_minute(stamp: &str) -> Option<String> {
    let seconds: i64 = stamp.parse().ok()?;
    if seconds.unsigned_abs() > MAX_SECONDS {
        return None;
    }
    let at = DateTime::from_timestamp(seconds, 0)?;
    let (year, month, day) = (at.year(), at.month(), at.day());
    let (hour, minute) = (at.hour(), at.minute());
    Some(format!(
        "{year:04}-{month:02}-{day:02} {hour:02}:{minute:02} UTC"
    ))
}

#[cfg(test)]
mod tests {
    use super::super::{Names, Rendered, render};
    use super::utc_minute;

    /// Knows no names: dates need none.
    struct Nobody;

    impl Names for Nobody {
        fn user(&self, _: &str) -> Option<String> {
            None
        }
        fn channel(&self, _: &str) -> Option<String> {
            None
        }
    }

    fn both(text: &str) -> Rendered {
        render(text, &Nobody)
    }

    /// Each stamp in `<!date^STAMP^{date}>` and what both renderings show for it.
    fn assert_shown(cases: &[(&str, &str)]) {
        for &(stamp, expected) in cases {
            let text = format!("<!date^{stamp}^{{date}}>");
            let out = both(&text);
            assert_eq!(out.plain, expected, "{text}");
            assert_eq!(out.html, expected, "{text}");
        }
    }

    /// Whole days since 1970-01-01, as `utc_minute` writes them.
    fn civil_date(days: i64) -> Option<String> {
        utc_minute(&(days * 86_400).to_string())
    }

    #[test]
    fn a_leap_day_shows_the_same_utc_minute_for_every_token() {
        // 2024-02-29 12:34:56 UTC, with no fallback text and with a link (dropped without one).
        for format in [
            "",
            "^{date_num}",
            "^{date}",
            "^{date_short}",
            "^{date_long}",
            "^{date_pretty}",
            "^{date_short_pretty}",
            "^{date_long_pretty}",
            "^{time}",
            "^{time_secs}",
            "^{ago}",
            "^{date_num} {time_secs}",
            "^{date}^https://x.test/a",
        ] {
            let out = both(&format!("<!date^1709210096{format}>"));
            assert_eq!(out.plain, "2024-02-29 12:34 UTC", "{format}");
            assert_eq!(out.html, out.plain, "{format}");
        }
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0).as_deref(), Some("1970-01-01 00:00 UTC"));
        assert_eq!(civil_date(11_016).as_deref(), Some("2000-02-29 00:00 UTC"));
        assert_eq!(civil_date(19_782).as_deref(), Some("2024-02-29 00:00 UTC"));
        let year_zero = civil_date(-719_468);
        assert_eq!(year_zero.as_deref(), Some("0000-03-01 00:00 UTC"));
    }

    #[test]
    fn years_outside_four_digits_are_written_unsigned_up_to_the_limit() {
        assert_shown(&[
            ("-1", "1969-12-31 23:59 UTC"),
            ("0", "1970-01-01 00:00 UTC"),
            ("951782400", "2000-02-29 00:00 UTC"),
            ("253402300800", "10000-01-01 00:00 UTC"),
            ("-62167219200", "0000-01-01 00:00 UTC"),
            ("-62167219201", "-001-12-31 23:59 UTC"),
            ("1099511627776", "36812-02-20 00:36 UTC"),
            ("-1099511627776", "-32873-11-12 23:23 UTC"),
            ("1099511627777", "1099511627777"),
            ("-1099511627777", "-1099511627777"),
        ]);
    }

    #[test]
    fn stamps_that_are_not_whole_seconds_are_shown_as_written() {
        assert_shown(&[("+5", "1970-01-01 00:00 UTC"), (" 5", " 5"), ("1.5", "1.5")]);
        assert_eq!(both("<!date>"), Rendered::default());
        let out = both("<!date^&lt;1&gt;^{date}>");
        assert_eq!(out.plain, "<1>");
        assert_eq!(out.html, "&lt;1&gt;");
    }
}
