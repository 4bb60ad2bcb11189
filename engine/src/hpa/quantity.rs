//! Conversion of observed floating-point values to the integer milli-units the HPA
//! computes with.
//!
//! Upstream every metric value is a `resource.Quantity` read with `MilliValue()`, which
//! rounds up to the next whole milli-unit. Observations carry `f64`, so a value written
//! as `20.166` arrives as `20.165999…`; [`milli_value`] treats anything within a
//! rounding error of a whole milli-unit as that unit before rounding up, so decimal
//! inputs convert exactly as their text would.

/// Relative slack for "this float is really that integer".
const SNAP: f64 = 1e-9;

/// `Quantity.MilliValue()` of a value in plain units.
pub(crate) fn milli_value(value: f64) -> i64 {
    ceil_snapped(value * 1000.0)
}

/// A value already in milli-units (resource usage), as the integer upstream sees.
pub(crate) fn whole_milli(value_milli: f64) -> i64 {
    ceil_snapped(value_milli)
}

fn ceil_snapped(x: f64) -> i64 {
    if !x.is_finite() {
        return if x > 0.0 {
            i64::MAX
        } else if x < 0.0 {
            i64::MIN
        } else {
            0
        };
    }
    let nearest = x.round();
    if (x - nearest).abs() <= SNAP * nearest.abs().max(1.0) {
        nearest as i64
    } else {
        x.ceil() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_text_converts_exactly() {
        assert_eq!(milli_value(20.166), 20166);
        assert_eq!(milli_value(14.334), 14334);
        assert_eq!(milli_value(0.1), 100);
        assert_eq!(milli_value(2.15), 2150);
    }

    #[test]
    fn fractions_of_a_milli_round_up_like_quantity() {
        assert_eq!(milli_value(0.0001), 1);
        assert_eq!(milli_value(1.0005), 1001);
        assert_eq!(whole_milli(2.5), 3);
        assert_eq!(whole_milli(-2.5), -2);
    }

    #[test]
    fn non_finite_values_saturate() {
        assert_eq!(milli_value(f64::INFINITY), i64::MAX);
        assert_eq!(milli_value(f64::NAN), 0);
    }
}
