//! Stage 6: schedule hints, per scaler. An active hint's `targetReplicas` is a floor.
//!
//! A hint is active when one of its cron firings lies in (now − duration, now] in the
//! hint's own `timeZone` ([`crate::calendar::hints`] defines daylight-saving edges).
//! Hints belong to the scaler whose manifest lists them; nothing is shared between
//! scalers (the seed leaked hints across scalers through a global map).

use crate::calendar;
use crate::decision::HintReading;
use crate::spec::ResolvedSpec;
use crate::time::{Micros, SECOND};

/// The offset of `predictionConfig.timeZone` from UTC at `wall_clock`, so seasonal
/// buckets count local hours.
pub fn utc_offset(spec: &ResolvedSpec, wall_clock: Micros) -> Micros {
    i64::from(spec.prediction.time_zone.utc_offset_seconds(wall_clock)) * SECOND
}

/// The active hint with the largest target (the first in manifest order on ties).
pub fn active(spec: &ResolvedSpec, wall_clock: Micros) -> Option<HintReading> {
    calendar::hints::active(&spec.schedule_hints, wall_clock).map(|hint| HintReading {
        name: hint.name,
        target_replicas: hint.target_replicas,
        fired_at: hint.fired_at,
        until: hint.until,
    })
}
