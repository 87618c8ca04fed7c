//! Five-field cron patterns as Auto Scaling's Recurrence takes them (Unix
//! cron: minute hour day-of-month month day-of-week), matched in a time
//! zone's wall-clock time.
//!
//! Written here rather than taken from a crate: the cron crates pull in
//! several procedural-macro crates, and a cold build of photoscale is
//! watched closely (README, build notes); the grammar is small.
//!
//! Each field is a comma-separated list of `*`, `N`, `A-B`, each optionally
//! with `/STEP`; months and days of the week also take names (JAN, MON).
//! Day of week 0 and 7 are Sunday. As in Vixie cron, when both day fields
//! are restricted a day matches either.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronPattern {
    minutes: u64,
    hours: u64,
    days_of_month: u64,
    months: u64,
    /// Bits 0 (Sunday) to 6.
    days_of_week: u64,
    /// Whether each day field was `*` (for the either-day rule).
    any_day_of_month: bool,
    any_day_of_week: bool,
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl std::str::FromStr for CronPattern {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let fields: Vec<&str> = text.split_whitespace().collect();
        let [minute, hour, dom, month, dow] = fields[..] else {
            return Err(format!("{} field(s), not 5", fields.len()));
        };
        let days_of_week = field(dow, 0, 7, &DAYS, 0, "day of week")?;
        // 7 is Sunday too.
        let days_of_week = (days_of_week | (days_of_week >> 7)) & 0x7f;
        Ok(Self {
            minutes: field(minute, 0, 59, &[], 0, "minute")?,
            hours: field(hour, 0, 23, &[], 0, "hour")?,
            days_of_month: field(dom, 1, 31, &[], 1, "day of month")?,
            months: field(month, 1, 12, &MONTHS, 1, "month")?,
            days_of_week,
            any_day_of_month: dom == "*",
            any_day_of_week: dow == "*",
        })
    }
}

/// One field as a bit set; `names[i]` stands for `first_name + i`.
fn field(
    text: &str,
    min: u32,
    max: u32,
    names: &[&str],
    first_name: u32,
    what: &str,
) -> Result<u64, String> {
    let bad = |why: &str| format!("{what} {text:?}: {why} (allowed: {min}-{max})");
    let value = |s: &str| -> Result<u32, String> {
        let upper = s.to_ascii_uppercase();
        if let Some(i) = names.iter().position(|n| *n == upper) {
            return Ok(first_name + i as u32);
        }
        let n: u32 = s
            .parse()
            .map_err(|_| bad(&format!("{s:?} is not a number")))?;
        if (min..=max).contains(&n) {
            Ok(n)
        } else {
            Err(bad(&format!("{n} is out of range")))
        }
    };
    let mut bits = 0u64;
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => {
                let step: u32 = step.parse().map_err(|_| bad("the step is not a number"))?;
                if step == 0 {
                    return Err(bad("a step of 0"));
                }
                (range, step)
            }
            None => (item, 1),
        };
        let (from, to) = match range {
            "*" => (min, max),
            _ => match range.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                // `N/STEP` runs from N to the end, as in Vixie cron.
                None if step > 1 => (value(range)?, max),
                None => {
                    let n = value(range)?;
                    (n, n)
                }
            },
        };
        if from > to {
            return Err(bad("a range that runs backwards"));
        }
        for n in (from..=to).step_by(step as usize) {
            bits |= 1 << n;
        }
    }
    Ok(bits)
}

fn has(bits: u64, n: i8) -> bool {
    bits & (1 << n) != 0
}

impl CronPattern {
    fn day_matches(&self, date: Date) -> bool {
        if !has(self.months, date.month()) {
            return false;
        }
        let dom = has(self.days_of_month, date.day());
        let dow = has(self.days_of_week, date.weekday().to_sunday_zero_offset());
        match (self.any_day_of_month, self.any_day_of_week) {
            (false, false) => dom || dow,
            _ => dom && dow,
        }
    }

    /// The first instant after `after` whose wall-clock minute in `zone`
    /// matches (None when there is none within five years: 30 February).
    pub fn next_after(&self, after: Timestamp, zone: &TimeZone) -> Option<Timestamp> {
        let start = after.to_zoned(zone.clone()).datetime();
        let mut date = start.date();
        for _ in 0..(5 * 366) {
            if self.day_matches(date) {
                for hour in (0..24).filter(|h| has(self.hours, *h)) {
                    for minute in (0..60).filter(|m| has(self.minutes, *m)) {
                        let civil =
                            DateTime::from_parts(date, jiff::civil::time(hour, minute, 0, 0));
                        // A wall-clock time a DST change skips runs as if the
                        // clock had not jumped (02:30 becomes 03:30).
                        let Ok(zoned) = zone.to_ambiguous_zoned(civil).compatible() else {
                            continue;
                        };
                        if zoned.timestamp() > after {
                            return Some(zoned.timestamp());
                        }
                    }
                }
            }
            date = date.checked_add(1.day()).ok()?;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn next(pattern: &str, after: &str) -> String {
        let p: CronPattern = pattern.parse().unwrap();
        p.next_after(at(after), &TimeZone::UTC).unwrap().to_string()
    }

    #[test]
    fn the_grammar_of_unix_cron() {
        assert_eq!(
            next("0 8 * * 1-5", "2026-11-27T08:00:00Z"),
            "2026-11-30T08:00:00Z"
        );
        assert_eq!(
            next("*/15 * * * *", "2026-11-27T08:01:00Z"),
            "2026-11-27T08:15:00Z"
        );
        assert_eq!(
            next("5,35 9 * * *", "2026-11-27T09:06:00Z"),
            "2026-11-27T09:35:00Z"
        );
        assert_eq!(
            next("0 0 1 JAN *", "2026-11-27T00:00:00Z"),
            "2027-01-01T00:00:00Z"
        );
        assert_eq!(
            next("30 18 * * sat,SUN", "2026-11-27T00:00:00Z"),
            "2026-11-28T18:30:00Z"
        );
        assert_eq!(
            next("0 12 * * 7", "2026-11-27T00:00:00Z"),
            "2026-11-29T12:00:00Z"
        );
        assert_eq!(
            next("10/20 * * * *", "2026-11-27T08:31:00Z"),
            "2026-11-27T08:50:00Z"
        );
        assert_eq!(
            next("0 0 29 2 *", "2026-03-01T00:00:00Z"),
            "2028-02-29T00:00:00Z"
        );
        // Both day fields restricted: either matches (the 1st, or a Monday).
        assert_eq!(
            next("0 0 1 * MON", "2026-11-27T00:00:00Z"),
            "2026-11-30T00:00:00Z"
        );
        assert_eq!(
            next("0 0 1 * MON", "2026-11-30T00:00:00Z"),
            "2026-12-01T00:00:00Z"
        );
    }

    #[test]
    fn wall_clock_time_in_the_zone_across_daylight_saving() {
        let p: CronPattern = "30 2 * * *".parse().unwrap();
        let paris = TimeZone::get("Europe/Paris").unwrap();
        // 29 March 2026: 02:30 does not exist in Paris (02:00 CET becomes
        // 03:00 CEST); it runs as if the clock had not jumped: 03:30 CEST.
        let next = p.next_after(at("2026-03-28T12:00:00Z"), &paris).unwrap();
        assert_eq!(next.to_string(), "2026-03-29T01:30:00Z");
        let summer = p.next_after(at("2026-06-01T12:00:00Z"), &paris).unwrap();
        assert_eq!(summer.to_string(), "2026-06-02T00:30:00Z");
        let never: CronPattern = "0 0 30 2 *".parse().unwrap();
        assert_eq!(never.next_after(at("2026-01-01T00:00:00Z"), &paris), None);
    }

    #[test]
    fn bad_patterns_say_which_field_is_wrong() {
        for (pattern, expected) in [
            ("0 8 * *", "4 field(s), not 5"),
            ("0 0 8 * * *", "6 field(s), not 5"),
            (
                "60 * * * *",
                "minute \"60\": 60 is out of range (allowed: 0-59)",
            ),
            ("* 8am * * *", "hour \"8am\""),
            ("* * 0 * *", "day of month \"0\""),
            ("* * * FOO *", "month \"FOO\""),
            ("* * * * 8", "day of week \"8\""),
            ("*/0 * * * *", "a step of 0"),
            ("5-1 * * * *", "runs backwards"),
        ] {
            let error = pattern.parse::<CronPattern>().unwrap_err();
            assert!(error.contains(expected), "{pattern}: {error}");
        }
    }
}
