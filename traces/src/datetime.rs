//! Calendar datetimes to and from integer microseconds since the Unix epoch, exactly,
//! without floating point: trace timestamps such as Azure's
//! `2023-11-16 18:15:46.6805900` must keep every microsecond.

/// Parses `YYYY-MM-DD[ T]HH:MM:SS[.fraction][Z|+HH:MM|-HH:MM]` into microseconds since
/// the Unix epoch. A time without a zone is taken as UTC. Fraction digits beyond the
/// sixth (Azure writes seven, in 100 ns units) are truncated. Returns `None` for
/// anything else, including impossible dates such as February 30.
pub fn parse_datetime_us(text: &[u8]) -> Option<i64> {
    let text = text.trim_ascii();
    if text.len() < 19 {
        return None;
    }
    let year = digits(&text[0..4])? as i64;
    let month = digits(&text[5..7])? as u32;
    let day = digits(&text[8..10])? as u32;
    let hour = digits(&text[11..13])? as i64;
    let minute = digits(&text[14..16])? as i64;
    let second = digits(&text[17..19])? as i64;
    let separators_ok = text[4] == b'-'
        && text[7] == b'-'
        && (text[10] == b' ' || text[10] == b'T')
        && text[13] == b':'
        && text[16] == b':';
    if !separators_ok
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &text[19..];
    let mut micros: i64 = 0;
    if let Some(fraction) = rest.strip_prefix(b".") {
        let count = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if count == 0 {
            return None;
        }
        for (i, &b) in fraction[..count].iter().enumerate().take(6) {
            micros += i64::from(b - b'0') * 10i64.pow(5 - i as u32);
        }
        rest = &fraction[count..];
    }
    let offset_s = zone_offset_s(rest)?;
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_s;
    Some(seconds * 1_000_000 + micros)
}

/// Formats microseconds since the Unix epoch as ISO-8601 UTC with six fraction digits,
/// e.g. `2023-11-16T18:15:46.680590Z`.
pub fn format_iso_utc(epoch_us: i64) -> String {
    let seconds = epoch_us.div_euclid(1_000_000);
    let micros = epoch_us.rem_euclid(1_000_000);
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

fn digits(bytes: &[u8]) -> Option<u64> {
    if bytes.iter().all(u8::is_ascii_digit) {
        Some(bytes.iter().fold(0, |v, b| v * 10 + u64::from(b - b'0')))
    } else {
        None
    }
}

fn zone_offset_s(rest: &[u8]) -> Option<i64> {
    match rest {
        [] | [b'Z'] | [b'z'] => Some(0),
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let hours = digits(&[*h1, *h2])? as i64;
            let minutes = digits(&[*m1, *m2])? as i64;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = hours * 3600 + minutes * 60;
            Some(if *sign == b'+' { offset } else { -offset })
        }
        _ => None,
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_azure_timestamps_to_the_microsecond() {
        let us = parse_datetime_us(b"2023-11-16 18:15:46.6805900").unwrap();
        assert_eq!(us, 1_700_158_546_680_590);
        assert_eq!(format_iso_utc(us), "2023-11-16T18:15:46.680590Z");
        assert_eq!(
            parse_datetime_us(b"2023-11-16T18:15:46.6805909Z").unwrap(),
            1_700_158_546_680_590
        );
    }

    #[test]
    fn applies_zone_offsets_and_accepts_no_fraction() {
        assert_eq!(parse_datetime_us(b"1970-01-01 00:00:00"), Some(0));
        assert_eq!(parse_datetime_us(b"1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_datetime_us(b"1969-12-31T23:59:59.5Z"), Some(-500_000));
    }

    #[test]
    fn rejects_malformed_and_impossible_dates() {
        for bad in [
            "2023-02-30 00:00:00",
            "2023-13-01 00:00:00",
            "2023-11-16 24:00:00",
            "2023-11-16 18:15:46.",
            "2023-11-16 18:15",
            "abc",
            "2023/11/16 18:15:46",
            "2023-11-16 18:15:46 UTC",
        ] {
            assert_eq!(parse_datetime_us(bad.as_bytes()), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(us in -10_000_000_000_000_000i64..10_000_000_000_000_000i64) {
            let text = format_iso_utc(us);
            prop_assert_eq!(parse_datetime_us(text.as_bytes()), Some(us));
        }
    }
}
