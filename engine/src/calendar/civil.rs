//! Local civil time: what a wall clock in some zone shows at an instant.

use serde::Serialize;

/// Hours in a week: [`CivilTime::hour_of_week`] is below this.
pub const HOURS_PER_WEEK: u8 = 168;

/// Day of the week, Monday first (ISO 8601).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];

    /// 0 for Monday … 6 for Sunday.
    pub fn days_from_monday(self) -> u8 {
        self as u8
    }

    /// Cron's numbering: 0 for Sunday, 1 for Monday … 6 for Saturday.
    pub fn cron_number(self) -> u8 {
        (self as u8 + 1) % 7
    }

    /// The weekday `n` days after Monday (`n` taken modulo 7).
    pub fn from_monday(n: u8) -> Weekday {
        Weekday::ALL[usize::from(n % 7)]
    }
}

/// A local date and time of day with the offset from UTC in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CivilTime {
    pub year: i32,
    /// 1..=12.
    pub month: u8,
    /// 1..=31.
    pub day: u8,
    pub weekday: Weekday,
    /// 0..=23.
    pub hour: u8,
    /// 0..=59.
    pub minute: u8,
    /// 0..=59 (the tz database has no leap seconds).
    pub second: u8,
    /// 0..=999_999.
    pub microsecond: u32,
    /// Local time minus UTC, in seconds.
    pub utc_offset_seconds: i32,
}

impl CivilTime {
    /// Hours since the local Monday 00:00: `weekday × 24 + hour`, in 0..168.
    pub fn hour_of_week(&self) -> u8 {
        self.weekday.days_from_monday() * 24 + self.hour
    }

    /// The local hour, 0..24.
    pub fn hour_of_day(&self) -> u8 {
        self.hour
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekday_numberings() {
        assert_eq!(Weekday::Monday.days_from_monday(), 0);
        assert_eq!(Weekday::Sunday.days_from_monday(), 6);
        assert_eq!(Weekday::Sunday.cron_number(), 0);
        assert_eq!(Weekday::Monday.cron_number(), 1);
        assert_eq!(Weekday::Saturday.cron_number(), 6);
        for n in 0..14 {
            assert_eq!(Weekday::from_monday(n).days_from_monday(), n % 7);
        }
    }

    #[test]
    fn hour_of_week_counts_from_monday_midnight() {
        let at = |weekday, hour| CivilTime {
            year: 2025,
            month: 1,
            day: 1,
            weekday,
            hour,
            minute: 0,
            second: 0,
            microsecond: 0,
            utc_offset_seconds: 0,
        };
        assert_eq!(at(Weekday::Monday, 0).hour_of_week(), 0);
        assert_eq!(at(Weekday::Tuesday, 5).hour_of_week(), 29);
        assert_eq!(at(Weekday::Sunday, 23).hour_of_week(), HOURS_PER_WEEK - 1);
        assert_eq!(at(Weekday::Sunday, 23).hour_of_day(), 23);
    }
}
