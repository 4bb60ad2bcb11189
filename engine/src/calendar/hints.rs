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

const MINUTES_PER_DAY: u32 = 24 * 60;

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
    let (minutes, hours) = (schedule.minute_bits(), schedule.hour_bits());
    let last_of_day = last_match_at_or_before(minutes, hours, MINUTES_PER_DAY - 1)?;
    let first_of_day = first_match(minutes, hours)?;
    let earliest = now.saturating_sub(lookback);
    // A firing's local date is within a day of the local dates of the window's ends: a
    // clock set back less than a day can show a firing before `now` a later local time.
    let newest_day = zone.local_naive(now).date();
    let newest_day = newest_day.succ_opt().unwrap_or(newest_day);
    let oldest_day = zone.local_naive(earliest).date();
    let oldest_day = oldest_day.pred_opt().unwrap_or(oldest_day);

    let mut day = newest_day;
    while day >= oldest_day {
        if schedule.matches_day(day.day(), day.month(), day.weekday().num_days_from_sunday()) {
            if let Some(fired) =
                latest_on_day(zone, day, minutes, hours, first_of_day, last_of_day, now)
            {
                // Firings are ordered like their local times, so nothing earlier is newer.
                return (fired > earliest).then_some(fired);
            }
        }
        day = day.pred_opt()?;
    }
    None
}

/// The latest firing on local `day` at or before `now`, if any. Firing instants never
/// decrease as the local time grows (skipped times fire at the end of their gap,
/// repeated ones at their first occurrence), which makes the binary search valid.
fn latest_on_day(
    zone: Zone,
    day: NaiveDate,
    minutes: u64,
    hours: u32,
    first_of_day: u32,
    last_of_day: u32,
    now: Micros,
) -> Option<Micros> {
    let fire = |minute_of_day: u32| {
        let local = day
            .and_hms_opt(minute_of_day / 60, minute_of_day % 60, 0)
            .expect("minute of day is below 1440");
        zone.instants_of_naive(&local).resolved()
    };
    let last = fire(last_of_day);
    if last <= now {
        return Some(last);
    }
    let first = fire(first_of_day);
    if first > now {
        return None;
    }
    // Invariant: the latest match at or before `lo` fires at `lo_fired` <= now, and the
    // latest match at or before `hi` fires after now.
    let (mut lo, mut lo_fired, mut hi) = (first_of_day, first, last_of_day);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        let candidate =
            last_match_at_or_before(minutes, hours, mid).expect("a match at or before lo exists");
        let fired = fire(candidate);
        if fired <= now {
            (lo, lo_fired) = (mid, fired);
        } else {
            hi = mid;
        }
    }
    Some(lo_fired)
}

/// The latest matching minute of day at or before `minute_of_day`.
fn last_match_at_or_before(minutes: u64, hours: u32, minute_of_day: u32) -> Option<u32> {
    let (hour, minute) = (minute_of_day / 60, minute_of_day % 60);
    if hours & (1 << hour) != 0 {
        let below = minutes & (u64::MAX >> (63 - minute));
        if below != 0 {
            return Some(hour * 60 + highest_bit(below));
        }
    }
    let earlier_hours = hours & ((1u32 << hour) - 1);
    if earlier_hours == 0 || minutes == 0 {
        return None;
    }
    Some(highest_bit(u64::from(earlier_hours)) * 60 + highest_bit(minutes))
}

/// The earliest matching minute of any day.
fn first_match(minutes: u64, hours: u32) -> Option<u32> {
    (minutes != 0 && hours != 0).then(|| hours.trailing_zeros() * 60 + minutes.trailing_zeros())
}

fn highest_bit(set: u64) -> u32 {
    63 - set.leading_zeros()
}
