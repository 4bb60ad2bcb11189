//! IANA time zones with the tz database compiled in, and the two conversions the engine
//! needs: an instant to the local civil time it shows, and a local wall-clock minute back
//! to the instant it names.
//!
//! The tables come from `chrono-tz` (prebuilt Rust tables of the IANA database, no build
//! script, no `/usr/share/zoneinfo`): the same binary gives the same answers on every
//! machine. Daylight-saving rules are expanded through 2099; after that a zone keeps the
//! offset of its last transition.
//!
//! Instants are Unix microseconds ([`Micros`]); the ones outside years 1..=9999 are
//! clamped to that range before conversion, so nothing here panics.

use super::civil::{CivilTime, Weekday};
use crate::time::Micros;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike};
use chrono_tz::{GapInfo, Tz};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// 0001-01-01T00:00:00Z in Unix microseconds: the earliest instant converted.
pub const MIN_INSTANT: Micros = -62_135_596_800_000_000;
/// 9999-12-31T23:59:59.999999Z in Unix microseconds: the latest instant converted.
pub const MAX_INSTANT: Micros = 253_402_300_799_999_999;

const MICROS_PER_SECOND: i64 = 1_000_000;

/// A name that is not in the embedded IANA database.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown IANA time zone (found {name})")]
pub struct UnknownZone {
    /// The name as written.
    pub name: String,
}

/// An IANA time zone (`UTC`, `Europe/Berlin`, `America/New_York`, …). The default is UTC.
/// Serializes as its IANA name.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Zone(Tz);

/// How a local wall-clock time maps to instants in a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalInstants {
    /// The local time occurs once.
    Single(Micros),
    /// The local time occurs twice (the clock was set back): both instants, earlier first.
    Repeated { first: Micros, second: Micros },
    /// The local time never occurs (the clock jumped over it): the first instant after
    /// the jump.
    Skipped { next_valid: Micros },
}

impl LocalInstants {
    /// The instant a calendar event at this local time happens: the only one, the first
    /// of a repeated time, or the first valid instant after a skipped one. This is the
    /// rule schedule hints follow (as cron and systemd timers do).
    pub fn resolved(self) -> Micros {
        match self {
            LocalInstants::Single(t) => t,
            LocalInstants::Repeated { first, .. } => first,
            LocalInstants::Skipped { next_valid } => next_valid,
        }
    }
}

impl Zone {
    /// Coordinated Universal Time.
    pub const UTC: Zone = Zone(Tz::UTC);

    /// The zone with this IANA name (case-sensitive, links such as `US/Eastern` included).
    pub fn from_iana(name: &str) -> Result<Zone, UnknownZone> {
        Tz::from_str(name).map(Zone).map_err(|_| UnknownZone {
            name: name.to_string(),
        })
    }

    /// The IANA name, e.g. `Europe/Berlin`.
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The local civil time this zone shows at `instant` (Unix µs).
    pub fn civil(self, instant: Micros) -> CivilTime {
        let at = self.0.from_utc_datetime(&utc_naive(instant));
        let local = at.naive_local();
        CivilTime {
            year: local.year(),
            month: local.month() as u8,
            day: local.day() as u8,
            weekday: Weekday::from_monday(local.weekday().num_days_from_monday() as u8),
            hour: local.hour() as u8,
            minute: local.minute() as u8,
            second: local.second() as u8,
            microsecond: local.nanosecond() / 1_000,
            utc_offset_seconds: at.offset().fix().local_minus_utc(),
        }
    }

    /// Seconds this zone is ahead of UTC at `instant` (negative west of Greenwich).
    pub fn utc_offset_seconds(self, instant: Micros) -> i32 {
        self.0
            .offset_from_utc_datetime(&utc_naive(instant))
            .fix()
            .local_minus_utc()
    }

    /// The instants at which this zone shows the wall-clock time `year-month-day
    /// hour:minute:00`; `None` when no such date exists (`2025-02-30`, hour 24) or it is
    /// outside years 1..=9999.
    pub fn local_instants(
        self,
        year: i32,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
    ) -> Option<LocalInstants> {
        let local = NaiveDate::from_ymd_opt(year, u32::from(month), u32::from(day))?.and_hms_opt(
            u32::from(hour),
            u32::from(minute),
            0,
        )?;
        Some(self.instants_of_naive(&local))
    }

    /// [`LocalInstants::resolved`] of [`Zone::local_instants`]: the instant a calendar
    /// event at that wall-clock time happens.
    pub fn resolve_local(
        self,
        year: i32,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
    ) -> Option<Micros> {
        self.local_instants(year, month, day, hour, minute)
            .map(LocalInstants::resolved)
    }

    /// The local wall-clock time at `instant`, as chrono's naive type (for the cron walk).
    pub(crate) fn local_naive(self, instant: Micros) -> NaiveDateTime {
        self.0.from_utc_datetime(&utc_naive(instant)).naive_local()
    }

    /// [`LocalInstants`] of a naive local time.
    pub(crate) fn instants_of_naive(self, local: &NaiveDateTime) -> LocalInstants {
        match self.0.from_local_datetime(local) {
            chrono::LocalResult::Single(t) => LocalInstants::Single(unix_micros(&t)),
            chrono::LocalResult::Ambiguous(a, b) => {
                let (a, b) = (unix_micros(&a), unix_micros(&b));
                LocalInstants::Repeated {
                    first: a.min(b),
                    second: a.max(b),
                }
            }
            chrono::LocalResult::None => {
                let next_valid = GapInfo::new(local, &self.0)
                    .and_then(|gap| gap.end)
                    .map(|t| unix_micros(&t))
                    // A gap at the very end of the tables (never in practice): read the
                    // local time with the offset in force a day earlier.
                    .unwrap_or_else(|| {
                        let as_utc = unix_micros(&local.and_utc());
                        let offset = self.utc_offset_seconds(as_utc - 86_400 * MICROS_PER_SECOND);
                        as_utc - i64::from(offset) * MICROS_PER_SECOND
                    });
                LocalInstants::Skipped { next_valid }
            }
        }
    }
}

/// The UTC calendar time of a Unix-µs instant, clamped to years 1..=9999.
fn utc_naive(instant: Micros) -> NaiveDateTime {
    let clamped = instant.clamp(MIN_INSTANT, MAX_INSTANT);
    DateTime::from_timestamp_micros(clamped)
        .unwrap_or(DateTime::UNIX_EPOCH)
        .naive_utc()
}

fn unix_micros<T: TimeZone>(t: &DateTime<T>) -> Micros {
    t.timestamp_micros()
}

impl Default for Zone {
    fn default() -> Zone {
        Zone::UTC
    }
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Zone({})", self.name())
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Zone {
    type Err = UnknownZone;
    fn from_str(name: &str) -> Result<Zone, UnknownZone> {
        Zone::from_iana(name)
    }
}

impl Serialize for Zone {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Zone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Zone, D::Error> {
        let name = String::deserialize(deserializer)?;
        Zone::from_iana(&name).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::calendar::test_utc as utc;

    fn zone(name: &str) -> Zone {
        Zone::from_iana(name).unwrap()
    }

    fn hm(c: &CivilTime) -> (i32, u8, u8, u8, u8) {
        (c.year, c.month, c.day, c.hour, c.minute)
    }

    #[test]
    fn utc_is_the_default_and_epoch_is_a_thursday() {
        assert_eq!(Zone::default(), Zone::UTC);
        assert_eq!(Zone::UTC.name(), "UTC");
        let c = Zone::UTC.civil(0);
        assert_eq!(hm(&c), (1970, 1, 1, 0, 0));
        assert_eq!(c.weekday, Weekday::Thursday);
        assert_eq!(c.utc_offset_seconds, 0);
    }

    #[test]
    fn berlin_winter_and_summer() {
        let berlin = zone("Europe/Berlin");
        // 2025-01-15 12:00Z is 13:00 CET, a Wednesday.
        let c = berlin.civil(utc(2025, 1, 15, 12, 0));
        assert_eq!(hm(&c), (2025, 1, 15, 13, 0));
        assert_eq!(c.weekday, Weekday::Wednesday);
        assert_eq!(c.utc_offset_seconds, 3600);
        // 2025-07-01 22:30Z is 00:30 CEST on Wednesday 2 July.
        let c = berlin.civil(utc(2025, 7, 1, 22, 30));
        assert_eq!(hm(&c), (2025, 7, 2, 0, 30));
        assert_eq!(c.weekday, Weekday::Wednesday);
        assert_eq!(c.utc_offset_seconds, 7200);
    }

    #[test]
    fn new_york_crosses_the_date_line_of_utc() {
        let ny = zone("America/New_York");
        // 2025-01-06 03:00Z (Monday) is 22:00 EST on Sunday 5 January.
        let c = ny.civil(utc(2025, 1, 6, 3, 0));
        assert_eq!(hm(&c), (2025, 1, 5, 22, 0));
        assert_eq!(c.weekday, Weekday::Sunday);
        assert_eq!(c.utc_offset_seconds, -5 * 3600);
        // Summer: EDT, UTC-4.
        assert_eq!(ny.utc_offset_seconds(utc(2025, 7, 4, 16, 0)), -4 * 3600);
        assert_eq!(hm(&ny.civil(utc(2025, 7, 4, 16, 0))), (2025, 7, 4, 12, 0));
    }

    #[test]
    fn microseconds_survive() {
        let c = Zone::UTC.civil(utc(2024, 2, 29, 23, 59) + 59_999_999);
        assert_eq!((c.second, c.microsecond), (59, 999_999));
        assert_eq!((c.month, c.day), (2, 29));
    }

    #[test]
    fn local_times_resolve_back() {
        let berlin = zone("Europe/Berlin");
        assert_eq!(
            berlin.local_instants(2025, 1, 15, 13, 0),
            Some(LocalInstants::Single(utc(2025, 1, 15, 12, 0)))
        );
        assert_eq!(berlin.local_instants(2025, 2, 30, 13, 0), None);
        assert_eq!(berlin.local_instants(2025, 2, 3, 24, 0), None);
    }

    #[test]
    fn spring_forward_skips_to_the_end_of_the_gap() {
        // Berlin 2025-03-30: 02:00 CET becomes 03:00 CEST at 01:00Z.
        let berlin = zone("Europe/Berlin");
        assert_eq!(
            berlin.local_instants(2025, 3, 30, 2, 30),
            Some(LocalInstants::Skipped {
                next_valid: utc(2025, 3, 30, 1, 0)
            })
        );
        assert_eq!(
            berlin.resolve_local(2025, 3, 30, 2, 0),
            Some(utc(2025, 3, 30, 1, 0))
        );
        assert_eq!(
            berlin.resolve_local(2025, 3, 30, 3, 0),
            Some(utc(2025, 3, 30, 1, 0))
        );
        // New York 2025-03-09: 02:00 EST becomes 03:00 EDT at 07:00Z.
        let ny = zone("America/New_York");
        assert_eq!(
            ny.resolve_local(2025, 3, 9, 2, 15),
            Some(utc(2025, 3, 9, 7, 0))
        );
    }

    #[test]
    fn fall_back_repeats_an_hour_and_resolves_to_the_first() {
        // Berlin 2025-10-26: 03:00 CEST becomes 02:00 CET at 01:00Z.
        let berlin = zone("Europe/Berlin");
        let both = berlin.local_instants(2025, 10, 26, 2, 30).unwrap();
        assert_eq!(
            both,
            LocalInstants::Repeated {
                first: utc(2025, 10, 26, 0, 30),
                second: utc(2025, 10, 26, 1, 30)
            }
        );
        assert_eq!(both.resolved(), utc(2025, 10, 26, 0, 30));
        assert_eq!(
            hm(&berlin.civil(utc(2025, 10, 26, 1, 30))),
            (2025, 10, 26, 2, 30)
        );
        // New York 2025-11-02: 02:00 EDT becomes 01:00 EST at 06:00Z.
        let ny = zone("America/New_York");
        assert_eq!(
            ny.resolve_local(2025, 11, 2, 1, 30),
            Some(utc(2025, 11, 2, 5, 30))
        );
    }

    #[test]
    fn summer_time_rules_run_through_2099() {
        let berlin = zone("Europe/Berlin");
        assert_eq!(berlin.utc_offset_seconds(utc(2099, 7, 1, 12, 0)), 7200);
        assert_eq!(berlin.utc_offset_seconds(utc(2099, 12, 1, 12, 0)), 3600);
        // After the last expanded transition the zone keeps standard time.
        assert_eq!(berlin.utc_offset_seconds(utc(2101, 7, 1, 12, 0)), 3600);
    }

    #[test]
    fn unknown_names_are_rejected_with_the_name() {
        let err = Zone::from_iana("Mars/Base").unwrap_err();
        assert_eq!(err.to_string(), "unknown IANA time zone (found Mars/Base)");
        assert!(Zone::from_iana("europe/berlin").is_err());
        assert!(Zone::from_iana("").is_err());
        assert_eq!(
            zone("US/Eastern").utc_offset_seconds(utc(2025, 1, 1, 0, 0)),
            -5 * 3600
        );
    }

    #[test]
    fn serializes_as_the_iana_name() {
        let berlin = zone("Europe/Berlin");
        assert_eq!(serde_json::to_string(&berlin).unwrap(), "\"Europe/Berlin\"");
        let back: Zone = serde_json::from_str("\"Europe/Berlin\"").unwrap();
        assert_eq!(back, berlin);
        assert!(serde_json::from_str::<Zone>("\"Mars/Base\"").is_err());
        assert_eq!(
            format!("{berlin} {berlin:?}"),
            "Europe/Berlin Zone(Europe/Berlin)"
        );
    }

    #[test]
    fn extreme_instants_are_clamped_not_panicking() {
        for t in [Micros::MIN, Micros::MAX, MIN_INSTANT, MAX_INSTANT] {
            let c = zone("Pacific/Kiritimati").civil(t);
            assert!((1..=10_000).contains(&c.year) || c.year == 0, "{c:?}");
        }
        assert_eq!(Zone::UTC.civil(Micros::MAX).year, 9999);
    }
}
