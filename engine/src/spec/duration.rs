//! Durations as the seed writes them: Go duration strings (`"30s"`, `"5m"`, `"1h30m"`,
//! `"12h"`), as `metav1.Duration` and Knative's window annotations accept, plus bare
//! integers meaning seconds (`60`), which is what a YAML author types most often.
//!
//! The manifest keeps the value as written ([`ManifestDuration`]); validation converts
//! it to engine time ([`Micros`]) and reports a bad one with its field path.

use crate::time::Micros;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use thiserror::Error;

/// Why a duration did not parse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DurationError {
    /// Not of Go's `time.ParseDuration` grammar.
    #[error(
        "not a duration (found {0:?}): expected integer seconds or a Go duration such as \"30s\", \"5m\" or \"1h30m\" (units ns, us, ms, s, m, h)"
    )]
    Syntax(String),
    /// A bare number inside a string: Go requires a unit there.
    #[error("duration {0:?} has no unit: write \"{0}s\" for seconds")]
    MissingUnit(String),
    /// Finer than the engine's microsecond clock.
    #[error("duration {0:?} is not a whole number of microseconds")]
    SubMicrosecond(String),
    /// Beyond ±292 000 years.
    #[error("duration {0:?} is too large")]
    TooLarge(String),
}

/// Parses a Go duration string (`"1h30m"`, `"1.5s"`, `"-2m"`, `"0"`) to microseconds.
pub fn parse_go_duration(text: &str) -> Result<Micros, DurationError> {
    let syntax = || DurationError::Syntax(text.to_string());
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(syntax());
    }
    if rest.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(DurationError::MissingUnit(text.to_string()));
    }
    let mut total_nanos: i128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let int_part = &rest[..int_len];
        rest = &rest[int_len..];
        let mut frac_part = "";
        if let Some(after_dot) = rest.strip_prefix('.') {
            let frac_len = after_dot.bytes().take_while(u8::is_ascii_digit).count();
            frac_part = &after_dot[..frac_len];
            rest = &after_dot[frac_len..];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(syntax());
        }
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit_nanos: i128 = match &rest[..unit_len] {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => return Err(DurationError::MissingUnit(text.to_string())),
            _ => return Err(syntax()),
        };
        rest = &rest[unit_len..];
        let too_large = || DurationError::TooLarge(text.to_string());
        if int_part.len() > 20 {
            return Err(too_large());
        }
        let whole: i128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| syntax())?
        };
        // Like Go, fraction digits beyond nanosecond precision are dropped.
        let frac_digits = &frac_part[..frac_part.len().min(18)];
        let frac_nanos = if frac_digits.is_empty() {
            0
        } else {
            let numerator: i128 = frac_digits.parse().map_err(|_| syntax())?;
            numerator * unit_nanos / 10i128.pow(frac_digits.len() as u32)
        };
        total_nanos = whole
            .checked_mul(unit_nanos)
            .and_then(|n| n.checked_add(frac_nanos))
            .and_then(|n| n.checked_add(total_nanos))
            .ok_or_else(too_large)?;
    }
    if total_nanos % 1_000 != 0 {
        return Err(DurationError::SubMicrosecond(text.to_string()));
    }
    let micros = total_nanos / 1_000;
    let micros = if negative { -micros } else { micros };
    Micros::try_from(micros).map_err(|_| DurationError::TooLarge(text.to_string()))
}

/// A duration as written in the manifest: integer seconds or a Go duration string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ManifestDuration {
    /// A bare integer: seconds.
    Seconds(i64),
    /// A Go duration string, parsed on validation.
    Text(String),
}

impl ManifestDuration {
    /// The duration in engine time.
    pub fn micros(&self) -> Result<Micros, DurationError> {
        match self {
            ManifestDuration::Seconds(s) => s
                .checked_mul(crate::time::SECOND)
                .ok_or_else(|| DurationError::TooLarge(s.to_string())),
            ManifestDuration::Text(text) => parse_go_duration(text),
        }
    }
}

impl fmt::Display for ManifestDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestDuration::Seconds(s) => write!(f, "{s}"),
            ManifestDuration::Text(t) => f.write_str(t),
        }
    }
}

impl Serialize for ManifestDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ManifestDuration::Seconds(s) => serializer.serialize_i64(*s),
            ManifestDuration::Text(t) => serializer.serialize_str(t),
        }
    }
}

impl<'de> Deserialize<'de> for ManifestDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DurationVisitor)
    }
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = ManifestDuration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("integer seconds or a duration string such as \"30s\" or \"5m\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<ManifestDuration, E> {
        Ok(ManifestDuration::Text(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<ManifestDuration, E> {
        Ok(ManifestDuration::Seconds(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<ManifestDuration, E> {
        i64::try_from(v)
            .map(ManifestDuration::Seconds)
            .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SECOND;
    use proptest::prelude::*;

    #[test]
    fn parses_go_durations() {
        let cases = [
            ("0", 0),
            ("30s", 30 * SECOND),
            ("5m", 300 * SECOND),
            ("12h", 12 * 3600 * SECOND),
            ("1h30m", 5400 * SECOND),
            ("1.5s", 1_500_000),
            (".5s", 500_000),
            ("500ms", 500_000),
            ("250us", 250),
            ("250µs", 250),
            ("1000ns", 1),
            ("-2m", -120 * SECOND),
            ("+3s", 3 * SECOND),
            ("1m0.5s", 60_500_000),
        ];
        for (text, micros) in cases {
            assert_eq!(parse_go_duration(text), Ok(micros), "{text}");
        }
    }

    #[test]
    fn rejects_what_go_rejects() {
        for text in ["", "s", ".s", "5x", "5 s", "1d", "-", "1h 30m"] {
            assert_eq!(
                parse_go_duration(text),
                Err(DurationError::Syntax(text.to_string())),
                "{text:?}"
            );
        }
        assert_eq!(
            parse_go_duration("60"),
            Err(DurationError::MissingUnit("60".into()))
        );
        assert_eq!(
            parse_go_duration("1ns"),
            Err(DurationError::SubMicrosecond("1ns".into()))
        );
        assert!(matches!(
            parse_go_duration("99999999999999999999h"),
            Err(DurationError::TooLarge(_))
        ));
    }

    #[test]
    fn missing_unit_suggests_seconds() {
        assert_eq!(
            DurationError::MissingUnit("60".into()).to_string(),
            "duration \"60\" has no unit: write \"60s\" for seconds"
        );
    }

    #[test]
    fn integers_are_seconds() {
        assert_eq!(ManifestDuration::Seconds(60).micros(), Ok(60 * SECOND));
        assert!(ManifestDuration::Seconds(i64::MAX).micros().is_err());
    }

    proptest! {
        #[test]
        fn seconds_and_minutes_compose(h in 0i64..1000, m in 0i64..60, s in 0i64..60) {
            let text = format!("{h}h{m}m{s}s");
            prop_assert_eq!(parse_go_duration(&text), Ok((h * 3600 + m * 60 + s) * SECOND));
        }

        #[test]
        fn never_panics(text in "[-+0-9.hmsnuµ ]{0,12}") {
            let _ = parse_go_duration(&text);
        }
    }
}
