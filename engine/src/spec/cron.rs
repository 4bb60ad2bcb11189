//! A light validator and matcher for standard 5-field cron expressions, as schedule hints
//! use them (`"0 9 * * 1-5"`: minute hour day-of-month month day-of-week).
//!
//! Accepted per field: `*`, `?` (day fields), numbers, `a-b` ranges, `/step` on either,
//! comma lists, and three-letter names for months (`JAN`) and weekdays (`MON`). Day of
//! week is 0–7 with both 0 and 7 meaning Sunday. The `@yearly`, `@annually`,
//! `@monthly`, `@weekly`, `@daily`, `@midnight` and `@hourly` shorthands are accepted.
//! As in Vixie cron, when both day fields are restricted a time matches either of them.

use serde::Serialize;
use thiserror::Error;

/// Why a cron expression is invalid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid cron expression {expression:?}: {reason}")]
pub struct CronError {
    /// The expression as written.
    pub expression: String,
    /// What is wrong with it.
    pub reason: String,
}

/// A parsed cron schedule: one bit per allowed value of each field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CronSchedule {
    minutes: u64,
    hours: u32,
    days_of_month: u32,
    months: u16,
    days_of_week: u8,
    day_of_month_restricted: bool,
    day_of_week_restricted: bool,
}

struct FieldSpec {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    /// Day fields also accept `?` for "any".
    day_field: bool,
}

const MINUTE: FieldSpec = FieldSpec {
    name: "minute",
    min: 0,
    max: 59,
    names: &[],
    day_field: false,
};
const HOUR: FieldSpec = FieldSpec {
    name: "hour",
    min: 0,
    max: 23,
    names: &[],
    day_field: false,
};
const DAY_OF_MONTH: FieldSpec = FieldSpec {
    name: "day-of-month",
    min: 1,
    max: 31,
    names: &[],
    day_field: true,
};
const MONTH: FieldSpec = FieldSpec {
    name: "month",
    min: 1,
    max: 12,
    names: &[
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ],
    day_field: false,
};
const DAY_OF_WEEK: FieldSpec = FieldSpec {
    name: "day-of-week",
    min: 0,
    max: 7,
    names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
    day_field: true,
};

impl CronSchedule {
    /// Parses a 5-field expression or an `@` shorthand.
    pub fn parse(expression: &str) -> Result<CronSchedule, CronError> {
        let fail = |reason: String| CronError {
            expression: expression.to_string(),
            reason,
        };
        let expanded = match expression.trim() {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            other if other.starts_with('@') => {
                return Err(fail(format!(
                    "unknown shorthand {other:?} (expected @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)"
                )));
            }
            other => other,
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(fail(format!(
                "expected 5 fields (minute hour day-of-month month day-of-week), found {}",
                fields.len()
            )));
        }
        let minutes = parse_field(fields[0], &MINUTE).map_err(&fail)?;
        let hours = parse_field(fields[1], &HOUR).map_err(&fail)?;
        let days_of_month = parse_field(fields[2], &DAY_OF_MONTH).map_err(&fail)?;
        let months = parse_field(fields[3], &MONTH).map_err(&fail)?;
        let mut days_of_week = parse_field(fields[4], &DAY_OF_WEEK).map_err(&fail)?;
        if days_of_week & (1 << 7) != 0 {
            days_of_week = (days_of_week | 1) & !(1 << 7);
        }
        // As in the Go cron library the seed uses, `*/n` with n > 1 counts as a restriction.
        let restricted = |f: &str| !matches!(f, "*" | "?" | "*/1" | "?/1");
        Ok(CronSchedule {
            minutes,
            hours: hours as u32,
            days_of_month: days_of_month as u32,
            months: months as u16,
            days_of_week: days_of_week as u8,
            day_of_month_restricted: restricted(fields[2]),
            day_of_week_restricted: restricted(fields[4]),
        })
    }

    /// Whether the schedule fires at this wall-clock minute (month 1–12, day of week
    /// 0–6 with 0 = Sunday).
    pub fn matches(
        &self,
        minute: u32,
        hour: u32,
        day_of_month: u32,
        month: u32,
        day_of_week: u32,
    ) -> bool {
        bit(self.minutes, minute)
            && bit(u64::from(self.hours), hour)
            && self.matches_day(day_of_month, month, day_of_week)
    }

    /// Whether the schedule fires on this date at all (month 1–12, day of week 0–6 with
    /// 0 = Sunday), whatever the time of day.
    pub fn matches_day(&self, day_of_month: u32, month: u32, day_of_week: u32) -> bool {
        let dom = bit(u64::from(self.days_of_month), day_of_month);
        let dow = bit(u64::from(self.days_of_week), day_of_week % 7);
        let day = if self.day_of_month_restricted && self.day_of_week_restricted {
            dom || dow
        } else {
            dom && dow
        };
        bit(u64::from(self.months), month) && day
    }

    /// The allowed minutes, bit `m` set for minute `m` (0–59).
    pub fn minute_bits(&self) -> u64 {
        self.minutes
    }

    /// The allowed hours, bit `h` set for hour `h` (0–23).
    pub fn hour_bits(&self) -> u32 {
        self.hours
    }
}

fn bit(set: u64, v: u32) -> bool {
    v < 64 && set & (1u64 << v) != 0
}

/// Parses one field into a bit set of allowed values.
fn parse_field(text: &str, spec: &FieldSpec) -> Result<u64, String> {
    let mut set = 0u64;
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => {
                let step: u32 = step.parse().ok().filter(|s| *s >= 1).ok_or_else(|| {
                    format!(
                        "{} field: step {step:?} must be a whole number >= 1",
                        spec.name
                    )
                })?;
                (range, Some(step))
            }
            None => (part, None),
        };
        let (lo, hi) = if range == "*" || (range == "?" && spec.day_field) {
            (spec.min, spec.max)
        } else if let Some((a, b)) = range.split_once('-') {
            let (a, b) = (value(a, spec)?, value(b, spec)?);
            if a > b {
                return Err(format!(
                    "{} field: range {range:?} starts after it ends",
                    spec.name
                ));
            }
            (a, b)
        } else {
            let v = value(range, spec)?;
            // `a/step` means from a to the end of the field.
            (v, if step.is_some() { spec.max } else { v })
        };
        let step = step.unwrap_or(1);
        let mut v = lo;
        while v <= hi {
            set |= 1u64 << v;
            v += step;
        }
    }
    Ok(set)
}

/// One value of a field: a number in range or a name.
fn value(text: &str, spec: &FieldSpec) -> Result<u32, String> {
    if let Some(i) = spec.names.iter().position(|n| n.eq_ignore_ascii_case(text)) {
        return Ok(i as u32 + if spec.names.len() == 12 { 1 } else { 0 });
    }
    match text.parse::<u32>() {
        Ok(v) if (spec.min..=spec.max).contains(&v) => Ok(v),
        Ok(v) => Err(format!(
            "{} field: {v} is out of range {}..={}",
            spec.name, spec.min, spec.max
        )),
        Err(_) => Err(format!(
            "{} field: {text:?} is not a number{}",
            spec.name,
            names_hint(spec)
        )),
    }
}

fn names_hint(spec: &FieldSpec) -> String {
    if spec.names.is_empty() {
        String::new()
    } else {
        format!(" or one of {}", spec.names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(expr: &str) -> String {
        CronSchedule::parse(expr).unwrap_err().reason
    }

    #[test]
    fn accepts_the_seed_examples() {
        for expr in [
            "0 9 * * 1-5",
            "0 8 * * 1-5",
            "0 20 * * 1-5",
            "0 0 * * 0,6",
            "*/15 * * * *",
            "@daily",
        ] {
            assert!(CronSchedule::parse(expr).is_ok(), "{expr}");
        }
    }

    #[test]
    fn matches_weekday_mornings() {
        let s = CronSchedule::parse("0 9 * * MON-FRI").unwrap();
        assert!(s.matches(0, 9, 15, 6, 1));
        assert!(!s.matches(0, 9, 15, 6, 0));
        assert!(!s.matches(1, 9, 15, 6, 1));
    }

    #[test]
    fn sunday_is_0_and_7() {
        let s = CronSchedule::parse("0 0 * * 7").unwrap();
        assert!(s.matches(0, 0, 3, 3, 0));
    }

    #[test]
    fn both_day_fields_restricted_means_either() {
        let s = CronSchedule::parse("0 0 1 * 1").unwrap();
        assert!(s.matches(0, 0, 1, 5, 4));
        assert!(s.matches(0, 0, 9, 5, 1));
        assert!(!s.matches(0, 0, 9, 5, 2));
    }

    #[test]
    fn steps_and_lists() {
        let s = CronSchedule::parse("5/20 1,3 * JAN,dec *").unwrap();
        assert!(s.matches(45, 3, 1, 12, 2));
        assert!(!s.matches(50, 3, 1, 12, 2));
        assert!(!s.matches(5, 2, 1, 1, 2));
    }

    #[test]
    fn explains_what_is_wrong() {
        assert_eq!(
            reason("0 9 * *"),
            "expected 5 fields (minute hour day-of-month month day-of-week), found 4"
        );
        assert_eq!(
            reason("60 9 * * *"),
            "minute field: 60 is out of range 0..=59"
        );
        assert_eq!(
            reason("0 9 * * 1-8"),
            "day-of-week field: 8 is out of range 0..=7"
        );
        assert_eq!(
            reason("0 9 5-2 * *"),
            "day-of-month field: range \"5-2\" starts after it ends"
        );
        assert_eq!(
            reason("*/0 * * * *"),
            "minute field: step \"0\" must be a whole number >= 1"
        );
        assert_eq!(
            reason("0 9 * FOO *"),
            "month field: \"FOO\" is not a number or one of JAN, FEB, MAR, APR, MAY, JUN, JUL, AUG, SEP, OCT, NOV, DEC"
        );
        assert!(reason("@every 5m").starts_with("unknown shorthand"));
        assert_eq!(
            reason("0 0 0 * *"),
            "day-of-month field: 0 is out of range 1..=31"
        );
    }
}
