//! Command-line durations: plain seconds or numbers with units (`600`, `90s`, `10m`,
//! `2h`, `7d`, `1h30m`, `1.5h`, `250ms`), as the CLI contract promises. Days exist here
//! (unlike Go durations) because traces span days and weeks.

/// A duration that does not parse; the message says what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "expected a duration in seconds or with units (600, 90s, 10m, 2h, 7d, 1h30m; units us, ms, s, m, h, d), found `{0}`"
)]
pub struct DurationError(pub String);

/// Parses a duration to microseconds, exactly (decimal fractions are not rounded
/// through floats). Negative durations are rejected; sub-microsecond parts truncate.
pub fn parse_duration_us(text: &str) -> Result<i64, DurationError> {
    let bad = || DurationError(text.to_string());
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(bad());
    }
    if trimmed.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return decimal_times(trimmed, 1_000_000)
            .and_then(|v| i64::try_from(v).ok())
            .ok_or_else(bad);
    }
    let mut total: i128 = 0;
    let mut rest = trimmed;
    while !rest.is_empty() {
        let number_len = rest
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        let unit_len = rest[number_len..]
            .bytes()
            .take_while(u8::is_ascii_alphabetic)
            .count();
        if number_len == 0 || unit_len == 0 {
            return Err(bad());
        }
        let number = &rest[..number_len];
        let unit = &rest[number_len..number_len + unit_len];
        let micros_per_unit: i128 = match unit {
            "us" => 1,
            "ms" => 1_000,
            "s" => 1_000_000,
            "m" | "min" => 60_000_000,
            "h" => 3_600_000_000,
            "d" => 86_400_000_000,
            _ => return Err(bad()),
        };
        total = total
            .checked_add(decimal_times(number, micros_per_unit).ok_or_else(bad)?)
            .ok_or_else(bad)?;
        rest = &rest[number_len + unit_len..];
    }
    i64::try_from(total).map_err(|_| bad())
}

/// `digits[.digits] × scale`, exactly, truncated to an integer.
fn decimal_times(number: &str, scale: i128) -> Option<i128> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if (whole.is_empty() && fraction.is_empty())
        || fraction.contains('.')
        || whole.len() > 20
        || fraction.len() > 20
    {
        return None;
    }
    let whole: i128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut value = whole.checked_mul(scale)?;
    if !fraction.is_empty() {
        let digits: i128 = fraction.parse().ok()?;
        let denominator = 10i128.checked_pow(fraction.len() as u32)?;
        value = value.checked_add(digits.checked_mul(scale)? / denominator)?;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_examples() {
        assert_eq!(parse_duration_us("600"), Ok(600_000_000));
        assert_eq!(parse_duration_us("90s"), Ok(90_000_000));
        assert_eq!(parse_duration_us("10m"), Ok(600_000_000));
        assert_eq!(parse_duration_us("2h"), Ok(7_200_000_000));
        assert_eq!(parse_duration_us("7d"), Ok(604_800_000_000));
        assert_eq!(parse_duration_us("1h30m"), Ok(5_400_000_000));
        assert_eq!(parse_duration_us("1.5h"), Ok(5_400_000_000));
        assert_eq!(parse_duration_us("0.1"), Ok(100_000));
        assert_eq!(parse_duration_us("250ms"), Ok(250_000));
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "h",
            "10x",
            "-5s",
            "1..2s",
            "5s3",
            "99999999999999999999d",
            ".",
        ] {
            let err = parse_duration_us(bad).unwrap_err();
            assert!(
                err.to_string().contains("expected a duration"),
                "{bad}: {err}"
            );
        }
    }
}
