//! Calendar buckets for seasonal learning: which hour of the local week or day an
//! observation falls in.
//!
//! Buckets follow the local wall clock, so "Monday 09:00" stays the same bucket across a
//! daylight-saving change. On the day the clock springs forward the skipped hour gets no
//! samples; on the day it falls back the repeated hour gets two hours' worth.

use super::zone::Zone;
use crate::time::Micros;

/// The local hour of the week at `wall_clock` (Unix µs) in `zone`: 0 is Monday
/// 00:00–00:59, 167 is Sunday 23:00–23:59.
pub fn hour_of_week(wall_clock: Micros, zone: Zone) -> u8 {
    zone.civil(wall_clock).hour_of_week()
}

/// The local hour of the day at `wall_clock` (Unix µs) in `zone`, 0..24.
pub fn hour_of_day(wall_clock: Micros, zone: Zone) -> u8 {
    zone.civil(wall_clock).hour_of_day()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::civil::HOURS_PER_WEEK;
    use crate::time::seconds;
    use proptest::prelude::*;

    /// 2025-01-06T00:00:00Z, a Monday.
    const MONDAY: Micros = 1_736_121_600_000_000;
    const HOUR: Micros = 3_600_000_000;

    #[test]
    fn utc_week_starts_monday_midnight() {
        assert_eq!(hour_of_week(MONDAY, Zone::UTC), 0);
        assert_eq!(hour_of_week(MONDAY - 1, Zone::UTC), HOURS_PER_WEEK - 1);
        assert_eq!(
            hour_of_week(MONDAY + 30 * HOUR + seconds(59), Zone::UTC),
            30
        );
        assert_eq!(hour_of_day(MONDAY + 30 * HOUR, Zone::UTC), 6);
    }

    #[test]
    fn zones_shift_the_buckets() {
        let berlin = Zone::from_iana("Europe/Berlin").unwrap();
        let ny = Zone::from_iana("America/New_York").unwrap();
        // Monday 00:00Z is Monday 01:00 in Berlin and Sunday 19:00 in New York.
        assert_eq!(hour_of_week(MONDAY, berlin), 1);
        assert_eq!(hour_of_week(MONDAY, ny), 6 * 24 + 19);
        assert_eq!(hour_of_day(MONDAY, ny), 19);
    }

    #[test]
    fn fall_back_repeats_a_bucket() {
        // Berlin 2025-10-26 (Sunday): 00:30Z and 01:30Z both read 02:30.
        let berlin = Zone::from_iana("Europe/Berlin").unwrap();
        let first = 1_761_438_600_000_000; // 2025-10-26T00:30:00Z
        assert_eq!(hour_of_week(first, berlin), 6 * 24 + 2);
        assert_eq!(hour_of_week(first + HOUR, berlin), 6 * 24 + 2);
        assert_eq!(hour_of_week(first + 2 * HOUR, berlin), 6 * 24 + 3);
    }

    proptest! {
        #[test]
        fn hour_of_week_is_weekday_times_24_plus_hour(
            t in -2_208_988_800_000_000i64..7_258_118_400_000_000,
            z in 0usize..4,
        ) {
            let zone = Zone::from_iana(
                ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"][z]
            ).unwrap();
            let civil = zone.civil(t);
            let how = hour_of_week(t, zone);
            prop_assert!(how < HOURS_PER_WEEK);
            prop_assert_eq!(how, civil.weekday.days_from_monday() * 24 + civil.hour);
            prop_assert_eq!(hour_of_day(t, zone), civil.hour);
            prop_assert!(civil.hour < 24);
            // Local time is the instant shifted by the offset in force.
            let local_seconds = t.div_euclid(1_000_000) + i64::from(civil.utc_offset_seconds);
            prop_assert_eq!(local_seconds.rem_euclid(86_400) / 3600, i64::from(civil.hour));
            // 1970-01-01 was a Thursday (3 days after Monday).
            let weekday = (local_seconds.div_euclid(86_400) + 3).rem_euclid(7);
            prop_assert_eq!(weekday, i64::from(civil.weekday.days_from_monday()));
        }
    }
}
