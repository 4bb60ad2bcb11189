//! Calendar time: IANA time zones, local civil time, schedule hints and seasonal buckets.
//!
//! The engine's clock is [`Micros`](crate::time::Micros); for calendar work the driver
//! stamps each observation with `Observation::wall_clock`, Unix microseconds. This module
//! turns such an instant into what a wall clock in a given zone shows (with the IANA tz
//! database compiled in: no files, no system zone, no clock) and back, and builds the two
//! calendar features on it:
//!
//! - [`hints`]: which `spec.scheduleHints[]` entry is active at an instant, in the hint's
//!   own `timeZone`, with daylight-saving edges defined;
//! - [`seasonal`]: the local hour of the week and of the day, the buckets for seasonal
//!   learning in `spec.predictionConfig.timeZone`.

pub mod civil;
pub mod hints;
pub mod seasonal;
pub mod zone;

pub use civil::{CivilTime, HOURS_PER_WEEK, Weekday};
pub use hints::{ActiveHint, active, latest_firing};
pub use seasonal::{hour_of_day, hour_of_week};
pub use zone::{LocalInstants, UnknownZone, Zone};

/// Unix µs of a UTC calendar time, for the calendar's tests.
#[cfg(test)]
pub(crate) fn test_utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> crate::time::Micros {
    chrono::NaiveDate::from_ymd_opt(y, mo, d)
        .unwrap()
        .and_hms_opt(h, mi, 0)
        .unwrap()
        .and_utc()
        .timestamp_micros()
}
