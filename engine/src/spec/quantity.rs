//! Kubernetes quantities (`500m`, `2`, `1.5Gi`, `1e3`) parsed exactly to milli-units.
//!
//! Resource targets, tolerances and budgets are quantities in Kubernetes, written as a
//! string or a bare number. The manifest keeps the text as written ([`Quantity`]) so a
//! bad value is reported by validation with its field path, and so serializing gives
//! back what the user wrote. [`parse_milli`] follows `resource.ParseQuantity` and
//! `Quantity.MilliValue`: the grammar is
//! `[+-] digits[.digits] [suffix]` with suffix one of `n u m "" k M G T P E`,
//! `Ki Mi Gi Ti Pi Ei`, or `e`/`E` followed by a signed integer exponent; the value is
//! rounded up (ceiling) to a whole milli-unit, as `MilliValue` does.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use thiserror::Error;

/// Why a quantity did not parse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QuantityError {
    /// Not of the quantity grammar.
    #[error(
        "not a Kubernetes quantity (found {0:?}): expected a number with an optional suffix, such as 500m, 2, 0.1, 1.5Gi or 1e3"
    )]
    Syntax(String),
    /// Parsed, but does not fit an `i64` of milli-units.
    #[error("quantity {0:?} is too large (more than 9.2e15 units)")]
    TooLarge(String),
}

/// Parses a Kubernetes quantity to milli-units (`"500m"` → 500, `"1"` → 1000,
/// `"1Ki"` → 1 024 000), rounding up to a whole milli-unit.
pub fn parse_milli(text: &str) -> Result<i64, QuantityError> {
    let syntax = || QuantityError::Syntax(text.to_string());
    let too_large = || QuantityError::TooLarge(text.to_string());
    let bytes = text.as_bytes();
    let mut i = 0;
    let negative = match bytes.first() {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let int_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = &text[int_start..i];
    let mut frac_digits = "";
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = &text[frac_start..i];
    }
    if int_digits.is_empty() && frac_digits.is_empty() {
        return Err(syntax());
    }
    let (exp10, exp2) = suffix_exponents(&text[i..]).ok_or_else(syntax)?;

    // Exact value = mantissa × 10^(exp10 + 3 − fraction digits) × 2^exp2 milli-units.
    let digits = format!("{int_digits}{frac_digits}");
    let significant = digits.trim_start_matches('0');
    if significant.is_empty() {
        return Ok(0);
    }
    if significant.len() > 30 {
        return Err(too_large());
    }
    let mut mantissa: i128 = significant.parse().map_err(|_| syntax())?;
    if negative {
        mantissa = -mantissa;
    }
    let scaled = mantissa.checked_mul(1i128 << exp2).ok_or_else(too_large)?;
    let pow10 = exp10 + 3 - frac_digits.len() as i64;
    let milli = if pow10 >= 0 {
        if pow10 > 38 {
            return Err(too_large());
        }
        scaled
            .checked_mul(10i128.pow(pow10 as u32))
            .ok_or_else(too_large)?
    } else if -pow10 > 38 {
        // |scaled| < 10^38, so the exact value lies strictly between −1 and 1.
        i128::from(scaled > 0)
    } else {
        let divisor = 10i128.pow((-pow10) as u32);
        let quotient = scaled.div_euclid(divisor);
        quotient + i128::from(scaled.rem_euclid(divisor) != 0)
    };
    i64::try_from(milli).map_err(|_| too_large())
}

/// The decimal and binary exponents a suffix stands for; `None` if it is not a suffix.
fn suffix_exponents(suffix: &str) -> Option<(i64, u32)> {
    let decimal = |e: i64| Some((e, 0));
    let binary = |e: u32| Some((0, e));
    match suffix {
        "" => decimal(0),
        "n" => decimal(-9),
        "u" => decimal(-6),
        "m" => decimal(-3),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        "Ki" => binary(10),
        "Mi" => binary(20),
        "Gi" => binary(30),
        "Ti" => binary(40),
        "Pi" => binary(50),
        "Ei" => binary(60),
        _ => {
            let exponent = suffix.strip_prefix(['e', 'E'])?;
            let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // Beyond ±1000 the result is out of range or rounds to 0/1 either way.
            let value: i64 = exponent.parse().unwrap_or(if exponent.starts_with('-') {
                -1000
            } else {
                1000
            });
            decimal(value.clamp(-1000, 1000))
        }
    }
}

/// A quantity as written in the manifest (a string, or a bare number, as Kubernetes'
/// int-or-string quantities allow). Parsed by [`Quantity::milli`] during validation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Quantity(pub String);

impl Quantity {
    /// Wraps text without checking it; [`Quantity::milli`] checks.
    pub fn new(text: impl Into<String>) -> Self {
        Quantity(text.into())
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value in milli-units, rounded up.
    pub fn milli(&self) -> Result<i64, QuantityError> {
        parse_milli(&self.0)
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(ScalarTextVisitor(
                "a quantity such as \"500m\", \"2\" or 1.5",
            ))
            .map(Quantity)
    }
}

/// A scalar the seed writes as a string but users also write as a number (ports such
/// as `"8080"` or `8080`); kept as text, checked by validation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScalarText(pub String);

impl ScalarText {
    /// The text as written (numbers in their decimal form).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ScalarText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for ScalarText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ScalarText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(ScalarTextVisitor("a string or a number"))
            .map(ScalarText)
    }
}

/// Accepts a string or a number and keeps its text.
struct ScalarTextVisitor(&'static str);

impl Visitor<'_> for ScalarTextVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        // `Display` of f64 never uses an exponent and round-trips exactly.
        Ok(v.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_kubernetes_examples() {
        let cases = [
            ("500m", 500),
            ("1", 1000),
            ("0", 0),
            ("0.1", 100),
            ("100.00", 100_000),
            (".5", 500),
            ("5.", 5000),
            ("+2", 2000),
            ("-2", -2000),
            ("1k", 1_000_000),
            ("1M", 1_000_000_000),
            ("1Ki", 1_024_000),
            ("1Gi", 1_073_741_824_000),
            ("1.5Gi", 1_610_612_736_000),
            ("1e3", 1_000_000),
            ("1E3", 1_000_000),
            ("2e-3", 2),
            ("1P", 1_000_000_000_000_000_000),
            ("1n", 1),  // 1e-6 milli rounds up
            ("-1n", 0), // ceiling of a tiny negative
            ("1u", 1),
            ("1500u", 2),
            ("0.0005", 1),
            ("1e-2000", 1),
        ];
        for (text, milli) in cases {
            assert_eq!(parse_milli(text), Ok(milli), "{text}");
        }
    }

    #[test]
    fn rejects_non_quantities() {
        for text in [
            "", ".", "abc", "1K", "1ki", "1 Gi", " 1", "1e", "1e+", "1.2.3", "--1", "1Gi2",
            "1e1.5", "80%",
        ] {
            assert_eq!(
                parse_milli(text),
                Err(QuantityError::Syntax(text.to_string())),
                "{text:?}"
            );
        }
    }

    #[test]
    fn rejects_values_beyond_i64_milli() {
        for text in [
            "1Ei",
            "1E",
            "10P",
            "1e40",
            "9999999999999999999999999999999999",
        ] {
            assert_eq!(
                parse_milli(text),
                Err(QuantityError::TooLarge(text.to_string())),
                "{text}"
            );
        }
    }

    #[test]
    fn error_names_what_was_found() {
        let err = parse_milli("12x").unwrap_err().to_string();
        assert!(err.contains("\"12x\""), "{err}");
    }

    proptest! {
        #[test]
        fn milli_suffix_round_trips(n in -1_000_000_000_000i64..1_000_000_000_000) {
            prop_assert_eq!(parse_milli(&format!("{n}m")), Ok(n));
        }

        #[test]
        fn plain_decimals_are_exact(units in -1_000_000_000i64..1_000_000_000, frac in 0i64..1000) {
            let text = format!("{}{}.{frac:03}", if units < 0 { "-" } else { "" }, units.abs());
            let expected = if units < 0 { units * 1000 - frac } else { units * 1000 + frac };
            prop_assert_eq!(parse_milli(&text), Ok(expected));
        }

        #[test]
        fn never_panics(text in "[-+0-9.eEkKMGTPinum]{0,12}") {
            let _ = parse_milli(&text);
        }
    }
}
