//! Schedule hints at calendar time: which `spec.scheduleHints[]` entry holds now.
//!
//! A hint *fires* at every local wall-clock minute its cron expression matches, read in
//! the hint's own time zone, and stays *active* for `duration` of elapsed time from each
//! firing: active at `now` when a firing lies in `(now − duration, now]`, until
//! `fired_at + duration` (exclusive). Durations are elapsed microseconds, not wall-clock
//! spans: a 12 h hint that fires at midnight on the night the clocks fall back ends at
//! 11:00 local time.
//!
//! Daylight-saving edges follow [`LocalInstants::resolved`](super::zone::LocalInstants):
//! - a matched local time the clock skips (spring forward: 02:30 in Europe/Berlin on the
//!   last Sunday of March) fires at the first valid instant after the gap (03:00 CEST),
//!   as Vixie cron and systemd timers do; several matched minutes inside one gap fire
//!   once, together;
//! - a matched local time the clock shows twice (fall back: 02:30 on the last Sunday of
//!   October) fires once, at its first occurrence.
//!
//! Finding the latest firing does not scan minute by minute: it walks local days
//! backwards (a bit test each), and on the day that holds the answer it binary-searches
//! the minute of day, converting about a dozen local times in all.

use super::zone::Zone;
use crate::spec::{CronSchedule, ResolvedScheduleHint};
use crate::time::Micros;
use chrono::{Datelike, NaiveDate};
use serde::Serialize;

/// The schedule hint in force at some instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActiveHint {
    /// `scheduleHints[].name`.
    pub name: String,
    /// `scheduleHints[].targetReplicas`: keep at least this many replicas.
    pub target_replicas: i32,
    /// The firing that made it active (Unix µs).
    pub fired_at: Micros,
    /// `fired_at + duration`: the first instant it is no longer held by this firing.
    pub until: Micros,
}

/// The hint in force at `wall_clock` (Unix µs): among the active hints, the one with the
/// largest `targetReplicas`, the first in manifest order on a tie. `None` when no hint
/// is active.
pub fn active(hints: &[ResolvedScheduleHint], wall_clock: Micros) -> Option<ActiveHint> {
    let mut best: Option<(&ResolvedScheduleHint, Micros)> = None;
    for hint in hints {
        if best.is_some_and(|(b, _)| hint.target_replicas <= b.target_replicas) {
            continue;
        }
        if let Some(fired) =
            latest_firing(&hint.schedule, hint.time_zone, wall_clock, hint.duration)
        {
            best = Some((hint, fired));
        }
    }
    best.map(|(hint, fired_at)| ActiveHint {
        name: hint.name.clone(),
        target_replicas: hint.target_replicas,
        fired_at,
        until: fired_at.saturating_add(hint.duration),
    })
}

/// The latest firing of `schedule`, read in `zone`, in `(now − lookback, now]` (Unix
/// µs); `None` when there is none or `lookback <= 0`.
pub fn latest_firing(
    schedule: &CronSchedule,
    zone: Zone,
    now: Micros,
    lookback: Micros,
) -> Option<Micros> {
    if lookback <= 0 {
        return None;
    }
    let times = TimesOfDay::of(schedule)?;
    let earliest = now.saturating_sub(lookback);
    // A firing's local date is within a day of the local dates of the window's ends: a
    // clock set back (by less than a day) can show a firing before `now` at a later
    // local time than `now`.
    let newest_day = zone.local_naive(now).date();
    let newest_day = newest_day.succ_opt().unwrap_or(newest_day);
    let oldest_day = zone.local_naive(earliest).date();
    let oldest_day = oldest_day.pred_opt().unwrap_or(oldest_day);

    let mut day = newest_day;
    while day >= oldest_day {
        if schedule.matches_day(day.day(), day.month(), day.weekday().num_days_from_sunday())
            && let Some(fired) = times.latest_on(zone, day, now)
        {
            // Firings are ordered like their local times, so nothing earlier is newer.
            return (fired > earliest).then_some(fired);
        }
        day = day.pred_opt()?;
    }
    None
}

/// The minutes of day a schedule fires at, as its hour and minute bit sets.
struct TimesOfDay {
    minutes: u64,
    hours: u32,
    /// The earliest matching minute of day.
    first: u32,
    /// The latest matching minute of day.
    last: u32,
}

impl TimesOfDay {
    /// `None` when the schedule matches no time of day (never with a parsed schedule).
    fn of(schedule: &CronSchedule) -> Option<TimesOfDay> {
        let (minutes, hours) = (schedule.minute_bits(), schedule.hour_bits());
        if minutes == 0 || hours == 0 {
            return None;
        }
        Some(TimesOfDay {
            minutes,
            hours,
            first: hours.trailing_zeros() * 60 + minutes.trailing_zeros(),
            last: highest_bit(u64::from(hours)) * 60 + highest_bit(minutes),
        })
    }

    /// The latest matching minute of day at or before `minute_of_day`.
    fn at_or_before(&self, minute_of_day: u32) -> Option<u32> {
        let (hour, minute) = (minute_of_day / 60, minute_of_day % 60);
        if self.hours & (1 << hour) != 0 {
            let below = self.minutes & (u64::MAX >> (63 - minute));
            if below != 0 {
                return Some(hour * 60 + highest_bit(below));
            }
        }
        let earlier_hours = self.hours & ((1u32 << hour) - 1);
        (earlier_hours != 0)
            .then(|| highest_bit(u64::from(earlier_hours)) * 60 + highest_bit(self.minutes))
    }

    /// The latest firing on local `day` at or before `now`, if any. Firing instants never
    /// decrease as the local time grows (skipped times fire at the end of their gap,
    /// repeated ones at their first occurrence), which makes the binary search valid.
    fn latest_on(&self, zone: Zone, day: NaiveDate, now: Micros) -> Option<Micros> {
        let fire = |minute_of_day: u32| {
            let local = day
                .and_hms_opt(minute_of_day / 60, minute_of_day % 60, 0)
                .expect("minute of day is below 1440");
            zone.instants_of_naive(&local).resolved()
        };
        let last = fire(self.last);
        if last <= now {
            return Some(last);
        }
        let first = fire(self.first);
        if first > now {
            return None;
        }
        // Invariant: the latest match at or before `lo` fires at `lo_fired` <= now, and
        // the latest match at or before `hi` fires after now.
        let (mut lo, mut lo_fired, mut hi) = (self.first, first, self.last);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            let candidate = self
                .at_or_before(mid)
                .expect("the first match is at or before lo");
            let fired = fire(candidate);
            if fired <= now {
                (lo, lo_fired) = (mid, fired);
            } else {
                hi = mid;
            }
        }
        Some(lo_fired)
    }
}

fn highest_bit(set: u64) -> u32 {
    63 - set.leading_zeros()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MINUTES_PER_DAY: u32 = 24 * 60;
    const MINUTE: Micros = 60_000_000;
    const HOUR: Micros = 60 * MINUTE;

    use crate::calendar::test_utc as utc;

    fn hint(
        name: &str,
        cron: &str,
        target: i32,
        duration: Micros,
        zone: &str,
    ) -> ResolvedScheduleHint {
        ResolvedScheduleHint {
            name: name.to_string(),
            cron_expression: cron.to_string(),
            schedule: CronSchedule::parse(cron).unwrap(),
            target_replicas: target,
            duration,
            time_zone: Zone::from_iana(zone).unwrap(),
        }
    }

    /// `(name, fired_at)` of the active hint, if any.
    fn fired(hints: &[ResolvedScheduleHint], now: Micros) -> Option<(String, Micros)> {
        active(hints, now).map(|a| (a.name, a.fired_at))
    }

    /// The definition, by brute force: resolve every matching local minute of the days
    /// around the window and keep the latest instant in `(now − lookback, now]`.
    fn reference(
        schedule: &CronSchedule,
        zone: Zone,
        now: Micros,
        lookback: Micros,
    ) -> Option<Micros> {
        let first = zone.local_naive(now - lookback).date().pred_opt().unwrap();
        let last = zone.local_naive(now).date().succ_opt().unwrap();
        let mut best = None;
        let mut day = first;
        while day <= last {
            for m in 0..MINUTES_PER_DAY {
                let (h, mi) = (m / 60, m % 60);
                let dow = day.weekday().num_days_from_sunday();
                if schedule.matches(mi, h, day.day(), day.month(), dow) {
                    let local = day.and_hms_opt(h, mi, 0).unwrap();
                    let t = zone.instants_of_naive(&local).resolved();
                    if t > now - lookback && t <= now && best.is_none_or(|b| t > b) {
                        best = Some(t);
                    }
                }
            }
            day = day.succ_opt().unwrap();
        }
        best
    }

    #[test]
    fn weekday_mornings_hold_ten_hours_and_skip_the_weekend() {
        let hints = [hint("office", "0 8 * * 1-5", 6, 10 * HOUR, "UTC")];
        // Monday 2025-01-06.
        let monday_8 = utc(2025, 1, 6, 8, 0);
        assert_eq!(
            active(&hints, monday_8),
            Some(ActiveHint {
                name: "office".into(),
                target_replicas: 6,
                fired_at: monday_8,
                until: utc(2025, 1, 6, 18, 0),
            })
        );
        assert_eq!(fired(&hints, monday_8 - 1), None);
        assert_eq!(
            fired(&hints, utc(2025, 1, 6, 17, 59)),
            Some(("office".into(), monday_8))
        );
        assert_eq!(fired(&hints, utc(2025, 1, 6, 18, 0)), None);
        // Friday holds, Saturday and Sunday do not.
        let friday_8 = utc(2025, 1, 10, 8, 0);
        assert_eq!(
            fired(&hints, utc(2025, 1, 10, 12, 0)),
            Some(("office".into(), friday_8))
        );
        assert_eq!(fired(&hints, utc(2025, 1, 11, 9, 0)), None);
        assert_eq!(fired(&hints, utc(2025, 1, 12, 9, 0)), None);
    }

    #[test]
    fn daily_shorthand_fires_at_local_midnight() {
        let hints = [hint("nightly", "@daily", 2, HOUR, "America/New_York")];
        // Midnight EST is 05:00Z.
        let midnight = utc(2025, 1, 15, 5, 0);
        assert_eq!(
            fired(&hints, midnight + 30 * MINUTE),
            Some(("nightly".into(), midnight))
        );
        assert_eq!(fired(&hints, midnight + HOUR), None);
        assert_eq!(fired(&hints, midnight - 1), None);
    }

    #[test]
    fn the_zone_moves_the_firing_with_summer_time() {
        let hints = [hint("am", "0 9 * * *", 3, HOUR, "Europe/Berlin")];
        assert_eq!(
            fired(&hints, utc(2025, 1, 15, 8, 0)),
            Some(("am".into(), utc(2025, 1, 15, 8, 0)))
        );
        assert_eq!(
            fired(&hints, utc(2025, 7, 15, 7, 0)),
            Some(("am".into(), utc(2025, 7, 15, 7, 0)))
        );
        assert_eq!(fired(&hints, utc(2025, 7, 15, 8, 0)), None);
    }

    #[test]
    fn windows_cross_midnight() {
        let hints = [hint("late", "0 22 * * *", 4, 4 * HOUR, "UTC")];
        let fired_at = utc(2025, 12, 31, 22, 0);
        assert_eq!(
            fired(&hints, utc(2026, 1, 1, 1, 59)),
            Some(("late".into(), fired_at))
        );
        assert_eq!(fired(&hints, utc(2026, 1, 1, 2, 0)), None);
    }

    #[test]
    fn windows_cross_the_week_boundary() {
        // Sunday 20:00 for 12 h reaches into Monday; Friday 23:00 for 60 h holds the weekend.
        let sunday = [hint("sun", "0 20 * * SUN", 4, 12 * HOUR, "UTC")];
        assert_eq!(
            fired(&sunday, utc(2025, 1, 13, 7, 0)),
            Some(("sun".into(), utc(2025, 1, 12, 20, 0)))
        );
        assert_eq!(fired(&sunday, utc(2025, 1, 13, 8, 0)), None);
        let weekend = [hint("weekend", "0 23 * * 5", 2, 60 * HOUR, "Europe/Berlin")];
        // Friday 23:00 CET is 22:00Z; 60 h later is Monday 10:00Z.
        let friday = utc(2025, 1, 10, 22, 0);
        assert_eq!(
            fired(&weekend, utc(2025, 1, 13, 9, 59)),
            Some(("weekend".into(), friday))
        );
        assert_eq!(fired(&weekend, utc(2025, 1, 13, 10, 0)), None);
    }

    #[test]
    fn overlapping_hints_largest_target_wins_ties_go_to_the_first() {
        let hints = [
            hint("base", "0 8 * * *", 3, 10 * HOUR, "UTC"),
            hint("peak", "0 12 * * *", 8, 2 * HOUR, "UTC"),
            hint("also-peak", "0 11 * * *", 8, 4 * HOUR, "UTC"),
            hint("small", "0 12 * * *", 1, 2 * HOUR, "UTC"),
        ];
        let day = |h| utc(2025, 3, 3, h, 0);
        assert_eq!(fired(&hints, day(9)), Some(("base".into(), day(8))));
        assert_eq!(fired(&hints, day(11)), Some(("also-peak".into(), day(11))));
        assert_eq!(fired(&hints, day(12)), Some(("peak".into(), day(12))));
        assert_eq!(fired(&hints, day(14)), Some(("also-peak".into(), day(11))));
        assert_eq!(fired(&hints, day(15)), Some(("base".into(), day(8))));
        assert_eq!(fired(&hints, day(18)), None);
        assert_eq!(active(&[], day(12)), None);
    }

    #[test]
    fn a_skipped_local_time_fires_when_the_gap_ends() {
        // Berlin 2025-03-30: 02:00 CET becomes 03:00 CEST at 01:00Z; 02:30 never shows.
        let hints = [hint("night", "30 2 * * *", 2, 30 * MINUTE, "Europe/Berlin")];
        let gap_end = utc(2025, 3, 30, 1, 0);
        assert_eq!(fired(&hints, gap_end - 1), None);
        assert_eq!(fired(&hints, gap_end), Some(("night".into(), gap_end)));
        assert_eq!(
            active(&hints, gap_end).unwrap().until,
            gap_end + 30 * MINUTE
        );
        assert_eq!(fired(&hints, gap_end + 30 * MINUTE), None);
        // The days around it fire at 02:30 local as usual.
        assert_eq!(
            fired(&hints, utc(2025, 3, 29, 1, 45)),
            Some(("night".into(), utc(2025, 3, 29, 1, 30)))
        );
        assert_eq!(
            fired(&hints, utc(2025, 3, 31, 0, 45)),
            Some(("night".into(), utc(2025, 3, 31, 0, 30)))
        );
    }

    #[test]
    fn minutes_inside_one_gap_fire_once_together() {
        // Every quarter hour of 02:xx in New York; on 2025-03-09 02:00 EST becomes
        // 03:00 EDT at 07:00Z, so 02:00, 02:15, 02:30 and 02:45 all fire at 07:00Z.
        let s = CronSchedule::parse("*/15 2 * * *").unwrap();
        let ny = Zone::from_iana("America/New_York").unwrap();
        let gap_end = utc(2025, 3, 9, 7, 0);
        assert_eq!(
            latest_firing(&s, ny, gap_end + 50 * MINUTE, HOUR),
            Some(gap_end)
        );
        // The day before: 02:45 EST is 07:45Z.
        assert_eq!(
            latest_firing(&s, ny, utc(2025, 3, 8, 8, 0), HOUR),
            Some(utc(2025, 3, 8, 7, 45))
        );
    }

    #[test]
    fn a_repeated_local_time_fires_once_at_its_first_occurrence() {
        // Berlin 2025-10-26: 03:00 CEST becomes 02:00 CET at 01:00Z; 02:30 shows at
        // 00:30Z and again at 01:30Z.
        let hints = [hint("night", "30 2 * * *", 2, 30 * MINUTE, "Europe/Berlin")];
        let first = utc(2025, 10, 26, 0, 30);
        assert_eq!(fired(&hints, first), Some(("night".into(), first)));
        assert_eq!(
            fired(&hints, first + 29 * MINUTE),
            Some(("night".into(), first))
        );
        assert_eq!(fired(&hints, first + HOUR), None);
        assert_eq!(fired(&hints, first + HOUR + 10 * MINUTE), None);
        // A longer hint still names the first occurrence during the repeated hour.
        let long = [hint("night", "30 2 * * *", 2, 2 * HOUR, "Europe/Berlin")];
        assert_eq!(
            fired(&long, first + HOUR + 15 * MINUTE),
            Some(("night".into(), first))
        );
        // New York 2025-11-02: 01:30 EDT (05:30Z), not 01:30 EST (06:30Z).
        let ny = [hint("ny", "30 1 * * *", 2, 20 * MINUTE, "America/New_York")];
        assert_eq!(
            fired(&ny, utc(2025, 11, 2, 5, 40)),
            Some(("ny".into(), utc(2025, 11, 2, 5, 30)))
        );
        assert_eq!(fired(&ny, utc(2025, 11, 2, 6, 40)), None);
    }

    #[test]
    fn a_repeated_hour_does_not_hide_its_first_firing() {
        // At 02:10 CET (01:10Z, the second 02:10) the latest firing of "45 2 * * *" is the
        // first 02:45 (00:45Z), later in local time than now reads.
        let s = CronSchedule::parse("45 2 * * *").unwrap();
        let berlin = Zone::from_iana("Europe/Berlin").unwrap();
        let now = utc(2025, 10, 26, 1, 10);
        assert_eq!(
            latest_firing(&s, berlin, now, HOUR),
            Some(utc(2025, 10, 26, 0, 45))
        );
    }

    #[test]
    fn clocks_that_change_at_midnight() {
        // Santiago springs forward on 2025-09-07: 00:00 -04 becomes 01:00 -03 at 04:00Z,
        // so that day's midnight never shows and @daily fires at 01:00 local.
        let hints = [hint("daily", "@daily", 2, HOUR, "America/Santiago")];
        let gap_end = utc(2025, 9, 7, 4, 0);
        assert_eq!(
            fired(&hints, gap_end + MINUTE),
            Some(("daily".into(), gap_end))
        );
        assert_eq!(fired(&hints, gap_end - MINUTE), None);
        // It falls back on 2025-04-06: 00:00 -03 becomes 23:00 -04 on the 5th at 03:00Z,
        // repeating 23:xx of the 5th; "30 23 * * *" fires once, at 02:30Z.
        let late = [hint(
            "late",
            "30 23 * * *",
            2,
            45 * MINUTE,
            "America/Santiago",
        )];
        let first = utc(2025, 4, 6, 2, 30);
        assert_eq!(
            fired(&late, first + 40 * MINUTE),
            Some(("late".into(), first))
        );
        assert_eq!(fired(&late, first + HOUR + 10 * MINUTE), None);
        // And midnight of the 6th shows once, at 04:00Z.
        assert_eq!(
            fired(&hints, utc(2025, 4, 6, 4, 30)),
            Some(("daily".into(), utc(2025, 4, 6, 4, 0)))
        );
    }

    #[test]
    fn durations_are_elapsed_time() {
        // Midnight in Berlin on the fall-back night plus 12 h is 11:00 CET, not 12:00.
        let hints = [hint("day", "0 0 * * *", 5, 12 * HOUR, "Europe/Berlin")];
        let midnight = utc(2025, 10, 25, 22, 0);
        let a = active(&hints, utc(2025, 10, 26, 9, 0)).unwrap();
        assert_eq!((a.fired_at, a.until), (midnight, utc(2025, 10, 26, 10, 0)));
        assert_eq!(
            Zone::from_iana("Europe/Berlin")
                .unwrap()
                .civil(a.until)
                .hour,
            11
        );
        assert_eq!(fired(&hints, utc(2025, 10, 26, 10, 0)), None);
    }

    #[test]
    fn schedules_that_never_fire_or_zero_lookback() {
        let feb_31 = CronSchedule::parse("0 0 31 2 *").unwrap();
        let now = utc(2025, 3, 1, 0, 0);
        assert_eq!(latest_firing(&feb_31, Zone::UTC, now, 40 * 24 * HOUR), None);
        let daily = CronSchedule::parse("@daily").unwrap();
        assert_eq!(latest_firing(&daily, Zone::UTC, now, 0), None);
        assert_eq!(latest_firing(&daily, Zone::UTC, now, 1), Some(now));
        assert_eq!(latest_firing(&daily, Zone::UTC, Micros::MAX, HOUR), None);
        assert_eq!(
            latest_firing(&daily, Zone::UTC, Micros::MIN, Micros::MAX),
            None
        );
    }

    #[test]
    fn long_lookbacks_walk_back_over_days() {
        let monthly = CronSchedule::parse("@monthly").unwrap();
        let tokyo = Zone::from_iana("Asia/Tokyo").unwrap();
        // 1 March 00:00 JST is 28 February 15:00Z.
        let now = utc(2025, 3, 31, 12, 0);
        let expected = Some(utc(2025, 2, 28, 15, 0));
        assert_eq!(
            latest_firing(&monthly, tokyo, now, 40 * 24 * HOUR),
            expected
        );
        assert_eq!(reference(&monthly, tokyo, now, 40 * 24 * HOUR), expected);
        assert_eq!(latest_firing(&monthly, tokyo, now, 30 * 24 * HOUR), None);
    }

    #[test]
    fn many_calls_agree_with_the_definition() {
        // A year of quarter-hour steps in Berlin (both DST changes) for a few shapes of
        // schedule; the fast walk must match the brute-force definition at each sampled
        // instant, and a hundred thousand decisions stay cheap.
        let berlin = Zone::from_iana("Europe/Berlin").unwrap();
        let schedules = ["0 8 * * 1-5", "*/7 1-3 * * *", "30 2 * * 0", "0 0 1 * *"];
        let start = utc(2025, 1, 1, 0, 0);
        for (i, expr) in schedules.iter().enumerate() {
            let s = CronSchedule::parse(expr).unwrap();
            for step in 0..35_040 {
                let now = start + step * 15 * MINUTE + i as i64 * 7 * MINUTE;
                let fast = latest_firing(&s, berlin, now, 10 * HOUR);
                if step % 97 == 0
                    || (now > utc(2025, 3, 29, 23, 0) && now < utc(2025, 3, 30, 5, 0))
                    || (now > utc(2025, 10, 25, 23, 0) && now < utc(2025, 10, 26, 5, 0))
                {
                    assert_eq!(
                        fast,
                        reference(&s, berlin, now, 10 * HOUR),
                        "{expr} at {now}"
                    );
                }
                if let Some(f) = fast {
                    assert!(f <= now && f > now - 10 * HOUR);
                }
            }
        }
    }

    proptest! {
        #[test]
        fn the_window_contains_now_and_matches_the_definition(
            now in 946_684_800_000_000i64..4_102_444_800_000_000,
            lookback_minutes in 1i64..3_000,
            expr in 0usize..8,
            zone in 0usize..5,
        ) {
            let expr = ["0 8 * * 1-5", "@daily", "*/15 2 * * *", "30 2 * * *", "0 0 * * 0,6",
                "5 */6 * * *", "0 9 1,15 * MON", "59 23 31 12 *"][expr];
            let zone = Zone::from_iana(["UTC", "Europe/Berlin", "America/New_York",
                "Australia/Lord_Howe", "Asia/Kolkata"][zone]).unwrap();
            let s = CronSchedule::parse(expr).unwrap();
            let lookback = lookback_minutes * MINUTE;
            let fast = latest_firing(&s, zone, now, lookback);
            prop_assert_eq!(fast, reference(&s, zone, now, lookback));
            if let Some(fired_at) = fast {
                prop_assert!(fired_at <= now && now < fired_at + lookback);
                let h = hint("h", expr, 1, lookback, zone.name());
                let a = active(std::slice::from_ref(&h), now).unwrap();
                prop_assert!(a.fired_at <= now && now < a.until);
            }
        }
    }
}
