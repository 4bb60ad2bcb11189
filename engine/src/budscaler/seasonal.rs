//! Seasonal learning: demand by hour of the week, in the scaler's time zone.
//!
//! 168 hour-of-week buckets (Monday 00:00 = 0) and, as a fallback while a week has not
//! gone by, 24 hour-of-day buckets. Each observation adds to the current hour's mean;
//! when the hour ends its mean folds into both buckets as an exponentially weighted
//! mean with [`ALPHA`] (this week counts half, the weeks before the other half). A
//! bucket is used once it holds [`MIN_HOURS`] completed hour(s); buckets not updated
//! for `historicalDataDays` are forgotten, so the profile follows a changing shape.
//!
//! Times here are *local* Unix microseconds (Unix time plus the zone's UTC offset at
//! that instant), so the arithmetic below is plain division.

use crate::calendar::{self, Zone};
use crate::time::Micros;
use serde::{Deserialize, Serialize};

/// Weight of the newest week (or day) in a bucket.
pub const ALPHA: f64 = 0.5;

/// Completed hours a bucket needs before it is used.
pub const MIN_HOURS: u32 = 1;

const HOUR: Micros = 3_600_000_000;

/// Hour of the week, Monday 00:00 = 0, of a local Unix time (the calendar's rule,
/// applied to a time already shifted into the zone).
pub fn hour_of_week(local: Micros) -> usize {
    usize::from(calendar::hour_of_week(local, Zone::UTC))
}

/// Hour of the day of a local Unix time.
pub fn hour_of_day(local: Micros) -> usize {
    usize::from(calendar::hour_of_day(local, Zone::UTC))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    #[serde(with = "crate::window::exact")]
    pub mean: f64,
    pub hours: u32,
    /// Local time of the last hour folded in.
    pub updated: Micros,
}

/// The learned profile of one signal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeasonalProfile {
    pub week: Vec<Option<Bucket>>,
    pub day: Vec<Option<Bucket>>,
    /// The hour being accumulated: its start (local) and running sum and count.
    pub hour_start: Option<Micros>,
    #[serde(with = "crate::window::exact")]
    pub hour_sum: f64,
    pub hour_count: u32,
}

impl Default for SeasonalProfile {
    fn default() -> Self {
        SeasonalProfile {
            week: vec![None; 168],
            day: vec![None; 24],
            hour_start: None,
            hour_sum: 0.0,
            hour_count: 0,
        }
    }
}

fn fold(bucket: &mut Option<Bucket>, mean: f64, at: Micros) {
    match bucket {
        Some(b) => {
            b.mean += ALPHA * (mean - b.mean);
            b.hours += 1;
            b.updated = at;
        }
        None => {
            *bucket = Some(Bucket {
                mean,
                hours: 1,
                updated: at,
            });
        }
    }
}

impl SeasonalProfile {
    /// Adds one observation of the signal at local time `local`; `history` bounds how
    /// old a bucket may be before it is forgotten.
    pub fn observe(&mut self, local: Micros, value: f64, history: Micros) {
        let start = local.div_euclid(HOUR) * HOUR;
        match self.hour_start {
            Some(current) if current == start => {}
            Some(current) => {
                if self.hour_count > 0 {
                    let mean = self.hour_sum / f64::from(self.hour_count);
                    fold(&mut self.week[hour_of_week(current)], mean, current);
                    fold(&mut self.day[hour_of_day(current)], mean, current);
                }
                self.hour_start = Some(start);
                self.hour_sum = 0.0;
                self.hour_count = 0;
                for bucket in self.week.iter_mut().chain(self.day.iter_mut()) {
                    if bucket.as_ref().is_some_and(|b| start - b.updated > history) {
                        *bucket = None;
                    }
                }
            }
            None => self.hour_start = Some(start),
        }
        self.hour_sum += value;
        self.hour_count += 1;
    }

    fn bucket_mean(&self, local: Micros) -> Option<f64> {
        let usable =
            |b: &Option<Bucket>| b.as_ref().filter(|b| b.hours >= MIN_HOURS).map(|b| b.mean);
        usable(&self.week[hour_of_week(local)]).or_else(|| usable(&self.day[hour_of_day(local)]))
    }

    /// The profile at a local time, interpolated linearly between hour centres.
    pub fn at(&self, local: Micros) -> Option<f64> {
        let shifted = local - HOUR / 2;
        let left = shifted.div_euclid(HOUR) * HOUR + HOUR / 2;
        let frac = (local - left) as f64 / HOUR as f64;
        match (self.bucket_mean(left), self.bucket_mean(left + HOUR)) {
            (Some(a), Some(b)) => Some(a + (b - a) * frac),
            (Some(a), None) => Some(a),
            (None, Some(b)) => Some(b),
            (None, None) => None,
        }
    }

    /// Demand expected at `local + horizon`, scaled to the level seen now: the
    /// profile's ratio between the two times times `current`.
    pub fn forecast(&self, local: Micros, horizon: Micros, current: f64) -> Option<f64> {
        let now = self.at(local)?;
        let then = self.at(local + horizon)?;
        if now <= 0.0 {
            return Some(then);
        }
        Some(current * then / now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Micros = 24 * HOUR;

    #[test]
    fn hours_of_the_week_start_on_monday() {
        // 1970-01-05 was a Monday.
        assert_eq!(hour_of_week(4 * DAY), 0);
        assert_eq!(hour_of_week(4 * DAY + 5 * HOUR), 5);
        assert_eq!(hour_of_week(0), 3 * 24, "1970-01-01 was a Thursday");
        assert_eq!(hour_of_week(-HOUR), 3 * 24 - 1);
    }

    #[test]
    fn a_learned_day_scales_the_current_level_by_the_profile_ratio() {
        let mut profile = SeasonalProfile::default();
        let history = 7 * DAY;
        // One day: demand 100 until noon, 300 after.
        let mut t = 0;
        while t < DAY + HOUR {
            let value = if hour_of_day(t) < 12 { 100.0 } else { 300.0 };
            profile.observe(t, value, history);
            t += 15_000_000;
        }
        // Next day at 10:30, 2 h ahead: the profile says ×3; now is 120.
        let now = DAY + 10 * HOUR + HOUR / 2;
        let forecast = profile.forecast(now, 2 * HOUR, 120.0).unwrap();
        assert!((forecast - 360.0).abs() < 1e-9, "{forecast}");
        assert_eq!(profile.at(now + 14 * 24 * HOUR), Some(100.0));
    }

    #[test]
    fn buckets_older_than_the_history_are_forgotten() {
        let mut profile = SeasonalProfile::default();
        for hour in 10..13 {
            profile.observe(hour * HOUR, 50.0, DAY);
        }
        assert!(profile.at(11 * HOUR).is_some());
        profile.observe(5 * DAY, 50.0, DAY);
        profile.observe(5 * DAY + HOUR, 50.0, DAY);
        assert_eq!(profile.at(11 * HOUR + 7 * DAY), None);
    }
}
