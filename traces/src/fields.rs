//! Parsing of single values (CSV bytes or JSON values) into the canonical types, with the
//! checks every reader shares: token counts are non-negative integers no larger than
//! [`MAX_TOKENS`], times are finite numbers.

use crate::error::{Location, TraceError};
use serde_json::Value;

/// Largest token count accepted for one request: no model context comes near it, so a
/// larger value is a corrupt or misread column rather than a real request.
pub const MAX_TOKENS: u64 = 10_000_000;

const NON_NEGATIVE_INTEGER: &str = "a non-negative integer";

/// Shows raw bytes in an error message, cut to a readable length.
pub(crate) fn shown(bytes: &[u8]) -> String {
    const LIMIT: usize = 60;
    let text = String::from_utf8_lossy(bytes);
    if text.chars().count() > LIMIT {
        let cut: String = text.chars().take(LIMIT).collect();
        format!("{cut}...")
    } else {
        text.into_owned()
    }
}

/// Parses a plain unsigned decimal integer (ASCII digits, surrounding spaces allowed).
pub(crate) fn parse_u64_ascii(bytes: &[u8]) -> Option<u64> {
    let bytes = bytes.trim_ascii();
    if bytes.is_empty() {
        return None;
    }
    let mut value: u64 = 0;
    for &b in bytes {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(digit))?;
    }
    Some(value)
}

/// Parses a signed decimal integer.
pub(crate) fn parse_i64_ascii(bytes: &[u8]) -> Option<i64> {
    let bytes = bytes.trim_ascii();
    match bytes.first() {
        Some(b'-') => parse_u64_ascii(&bytes[1..])
            .and_then(|v| i64::try_from(v).ok())
            .map(|v| -v),
        Some(b'+') => parse_u64_ascii(&bytes[1..]).and_then(|v| i64::try_from(v).ok()),
        _ => parse_u64_ascii(bytes).and_then(|v| i64::try_from(v).ok()),
    }
}

fn check_token_range(value: u64, at: &Location, column: &str) -> Result<u32, TraceError> {
    if value > MAX_TOKENS {
        return Err(TraceError::invalid(
            at.clone(),
            column,
            format!("a token count of at most {MAX_TOKENS}"),
            value.to_string(),
        ));
    }
    Ok(value as u32)
}

/// A token count from CSV bytes. Integral decimals such as `12.0` are accepted because
/// some exporters write every number as a float.
pub(crate) fn tokens_from_bytes(
    bytes: &[u8],
    at: &Location,
    column: &str,
) -> Result<u32, TraceError> {
    if let Some(value) = parse_u64_ascii(bytes) {
        return check_token_range(value, at, column);
    }
    let value = float_from_bytes(bytes, at, column, NON_NEGATIVE_INTEGER)?;
    tokens_from_f64(value, bytes, at, column)
}

fn tokens_from_f64(value: f64, raw: &[u8], at: &Location, column: &str) -> Result<u32, TraceError> {
    if value < 0.0 || value.fract() != 0.0 {
        return Err(TraceError::invalid(
            at.clone(),
            column,
            NON_NEGATIVE_INTEGER,
            shown(raw),
        ));
    }
    if value > MAX_TOKENS as f64 {
        return Err(TraceError::invalid(
            at.clone(),
            column,
            format!("a token count of at most {MAX_TOKENS}"),
            shown(raw),
        ));
    }
    Ok(value as u32)
}

/// A finite float from CSV bytes (NaN and infinities are rejected).
pub(crate) fn float_from_bytes(
    bytes: &[u8],
    at: &Location,
    column: &str,
    expected: &str,
) -> Result<f64, TraceError> {
    let text = std::str::from_utf8(bytes.trim_ascii()).ok();
    match text.and_then(|t| t.parse::<f64>().ok()) {
        Some(value) if value.is_finite() => Ok(value),
        _ => Err(TraceError::invalid(
            at.clone(),
            column,
            expected,
            shown(bytes),
        )),
    }
}

/// Shows a JSON value in an error message.
pub(crate) fn shown_json(value: &Value) -> String {
    shown(value.to_string().as_bytes())
}

/// A token count from a JSON value: a number, or a string holding one.
pub(crate) fn tokens_from_json(
    value: &Value,
    at: &Location,
    column: &str,
) -> Result<u32, TraceError> {
    match value {
        Value::Number(n) => {
            if let Some(v) = n.as_u64() {
                check_token_range(v, at, column)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                tokens_from_f64(f, n.to_string().as_bytes(), at, column)
            }
        }
        Value::String(s) => tokens_from_bytes(s.as_bytes(), at, column),
        other => Err(TraceError::invalid(
            at.clone(),
            column,
            NON_NEGATIVE_INTEGER,
            shown_json(other),
        )),
    }
}

/// A finite float from a JSON value: a number, or a string holding one.
pub(crate) fn float_from_json(
    value: &Value,
    at: &Location,
    column: &str,
    expected: &str,
) -> Result<f64, TraceError> {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.is_finite() => Ok(f),
            _ => Err(TraceError::invalid(
                at.clone(),
                column,
                expected,
                n.to_string(),
            )),
        },
        Value::String(s) => float_from_bytes(s.as_bytes(), at, column, expected),
        other => Err(TraceError::invalid(
            at.clone(),
            column,
            expected,
            shown_json(other),
        )),
    }
}

/// Converts a time in some unit to whole microseconds, rejecting values out of range.
/// Rounds to the nearest microsecond so that `0.1 s` is exactly 100000 us.
pub(crate) fn to_micros(
    value: f64,
    micros_per_unit: f64,
    raw: &str,
    at: &Location,
    column: &str,
) -> Result<i64, TraceError> {
    let micros = (value * micros_per_unit).round();
    // 2^62 us is about 146,000 years: anything beyond is a corrupt value.
    if !micros.is_finite() || micros.abs() > 4.6e18 {
        return Err(TraceError::invalid(
            at.clone(),
            column,
            "a finite time",
            raw,
        ));
    }
    Ok(micros as i64)
}

/// Space-separated block ids (the canonical CSV's `prefix_blocks`).
pub(crate) fn blocks_from_bytes(
    bytes: &[u8],
    at: &Location,
    column: &str,
) -> Result<Vec<u64>, TraceError> {
    bytes
        .split(|b| *b == b' ')
        .filter(|part| !part.is_empty())
        .map(|part| {
            parse_u64_ascii(part).ok_or_else(|| {
                TraceError::invalid(
                    at.clone(),
                    column,
                    "space-separated non-negative integer block ids",
                    shown(bytes),
                )
            })
        })
        .collect()
}

/// Block ids from a JSON array of integers (Mooncake `hash_ids`).
pub(crate) fn blocks_from_json(
    value: &Value,
    at: &Location,
    column: &str,
) -> Result<Vec<u64>, TraceError> {
    let expected = "an array of non-negative integer block ids";
    match value {
        Value::Array(items) => items
            .iter()
            .map(|item| {
                item.as_u64().ok_or_else(|| {
                    TraceError::invalid(at.clone(), column, expected, shown_json(item))
                })
            })
            .collect(),
        Value::String(s) => blocks_from_bytes(s.as_bytes(), at, column),
        Value::Null => Ok(Vec::new()),
        other => Err(TraceError::invalid(
            at.clone(),
            column,
            expected,
            shown_json(other),
        )),
    }
}

/// A boolean written as `true`/`false`/`1`/`0` (any case); empty means false.
pub(crate) fn bool_from_bytes(
    bytes: &[u8],
    at: &Location,
    column: &str,
) -> Result<bool, TraceError> {
    let text = bytes.trim_ascii();
    if text.is_empty() || text == b"0" || text.eq_ignore_ascii_case(b"false") {
        Ok(false)
    } else if text == b"1" || text.eq_ignore_ascii_case(b"true") {
        Ok(true)
    } else {
        Err(TraceError::invalid(
            at.clone(),
            column,
            "true, false, 1 or 0",
            shown(bytes),
        ))
    }
}

/// A boolean from JSON: a bool, 0/1, or a string as in [`bool_from_bytes`].
pub(crate) fn bool_from_json(
    value: &Value,
    at: &Location,
    column: &str,
) -> Result<bool, TraceError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Null => Ok(false),
        Value::Number(n) if n.as_u64() == Some(0) => Ok(false),
        Value::Number(n) if n.as_u64() == Some(1) => Ok(true),
        Value::String(s) => bool_from_bytes(s.as_bytes(), at, column),
        other => Err(TraceError::invalid(
            at.clone(),
            column,
            "true, false, 1 or 0",
            shown_json(other),
        )),
    }
}

/// An optional label: empty means absent.
pub(crate) fn label_from_bytes(
    bytes: &[u8],
    at: &Location,
    column: &str,
) -> Result<Option<String>, TraceError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(Some(text.to_string())),
        Err(_) => Err(TraceError::invalid(
            at.clone(),
            column,
            "UTF-8 text",
            shown(bytes),
        )),
    }
}

/// An optional label from JSON: strings as they are, numbers as written, null absent.
pub(crate) fn label_from_json(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// An optional priority (signed integer); empty means absent.
pub(crate) fn priority_from_bytes(
    bytes: &[u8],
    at: &Location,
    column: &str,
) -> Result<Option<i32>, TraceError> {
    if bytes.trim_ascii().is_empty() {
        return Ok(None);
    }
    parse_i64_ascii(bytes)
        .and_then(|v| i32::try_from(v).ok())
        .map(Some)
        .ok_or_else(|| TraceError::invalid(at.clone(), column, "a 32-bit integer", shown(bytes)))
}

/// An optional priority from JSON.
pub(crate) fn priority_from_json(
    value: &Value,
    at: &Location,
    column: &str,
) -> Result<Option<i32>, TraceError> {
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_i64()
            .and_then(|v| i32::try_from(v).ok())
            .map(Some)
            .ok_or_else(|| {
                TraceError::invalid(at.clone(), column, "a 32-bit integer", n.to_string())
            }),
        Value::String(s) => priority_from_bytes(s.as_bytes(), at, column),
        other => Err(TraceError::invalid(
            at.clone(),
            column,
            "a 32-bit integer",
            shown_json(other),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> Location {
        Location::new("t.csv", 3)
    }

    #[test]
    fn tokens_accept_integers_and_integral_floats() {
        assert_eq!(tokens_from_bytes(b"374", &at(), "c").unwrap(), 374);
        assert_eq!(tokens_from_bytes(b" 12.0 ", &at(), "c").unwrap(), 12);
        assert_eq!(
            tokens_from_bytes(b"10000000", &at(), "c").unwrap(),
            10_000_000
        );
    }

    #[test]
    fn tokens_reject_bad_values_with_the_value_named() {
        for bad in ["abc", "-3", "1.5", "NaN", "nan", "inf", "", "10000001"] {
            let error = tokens_from_bytes(bad.as_bytes(), &at(), "ContextTokens").unwrap_err();
            let text = error.to_string();
            assert!(
                text.starts_with("t.csv:3: column ContextTokens: expected"),
                "{text}"
            );
            assert!(text.contains(&format!("{bad:?}")), "{text}");
        }
    }

    #[test]
    fn json_tokens_reject_negative_nan_and_strings() {
        let at = at();
        assert!(tokens_from_json(&serde_json::json!(-1), &at, "c").is_err());
        assert!(tokens_from_json(&serde_json::json!("x"), &at, "c").is_err());
        assert!(tokens_from_json(&serde_json::json!(null), &at, "c").is_err());
        assert!(tokens_from_json(&serde_json::json!(20_000_000), &at, "c").is_err());
        assert_eq!(
            tokens_from_json(&serde_json::json!(7.0), &at, "c").unwrap(),
            7
        );
    }

    #[test]
    fn blocks_parse_space_separated_ids() {
        assert_eq!(
            blocks_from_bytes(b"1 2  30", &at(), "b").unwrap(),
            vec![1, 2, 30]
        );
        assert!(blocks_from_bytes(b"", &at(), "b").unwrap().is_empty());
        assert!(blocks_from_bytes(b"1 x", &at(), "b").is_err());
    }

    #[test]
    fn integers_cover_the_whole_range_and_reject_overflow() {
        assert_eq!(parse_u64_ascii(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64_ascii(b"18446744073709551616"), None);
        assert_eq!(parse_i64_ascii(b"-9223372036854775807"), Some(-i64::MAX));
        assert_eq!(parse_i64_ascii(b"9223372036854775808"), None);
    }

    #[test]
    fn micros_round_to_nearest() {
        assert_eq!(to_micros(0.1, 1e6, "0.1", &at(), "t").unwrap(), 100_000);
        assert!(to_micros(1e300, 1e6, "1e300", &at(), "t").is_err());
    }
}
