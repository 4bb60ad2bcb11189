//! Schedule hints for one scaler: an active hint's `targetReplicas` is a floor.
//!
//! A hint is active when one of its cron firings lies in (now − duration, now]. Hints
//! belong to the scaler whose manifest lists them; nothing is shared between scalers.

use crate::decision::HintReading;
use crate::spec::ResolvedSpec;
use crate::time::Micros;

const MINUTE: Micros = 60_000_000;
const DAY: Micros = 24 * 60 * MINUTE;

/// The UTC offset of the scaler's calendar (for seasonal buckets) at `wall_clock`.
pub fn utc_offset(_spec: &ResolvedSpec, _wall_clock: Micros) -> Micros {
    0
}

/// Civil date of a day count since 1970-01-01: (year, month 1–12, day 1–31).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn fires_at(spec_hint: &crate::spec::ResolvedScheduleHint, minute_start: Micros) -> bool {
    let days = minute_start.div_euclid(DAY);
    let in_day = minute_start.rem_euclid(DAY);
    let (_, month, day) = civil(days);
    let weekday = (days + 4).rem_euclid(7) as u32;
    let minute = ((in_day / MINUTE) % 60) as u32;
    let hour = (in_day / (60 * MINUTE)) as u32;
    spec_hint
        .schedule
        .matches(minute, hour, day, month, weekday)
}

/// The active hint with the largest target (the first in manifest order on ties).
pub fn active(spec: &ResolvedSpec, wall_clock: Micros) -> Option<HintReading> {
    let mut best: Option<HintReading> = None;
    for hint in &spec.schedule_hints {
        let latest = wall_clock.div_euclid(MINUTE) * MINUTE;
        let mut minute = latest;
        while minute > wall_clock - hint.duration {
            if fires_at(hint, minute) {
                if best
                    .as_ref()
                    .is_none_or(|b| hint.target_replicas > b.target_replicas)
                {
                    best = Some(HintReading {
                        name: hint.name.clone(),
                        target_replicas: hint.target_replicas,
                        fired_at: minute,
                        until: minute + hint.duration,
                    });
                }
                break;
            }
            minute -= MINUTE;
        }
    }
    best
}
