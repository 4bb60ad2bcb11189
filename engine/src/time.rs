//! Engine time: integer microseconds, always passed in, never read from a clock.
//!
//! Integer time makes every decision reproducible bit for bit: the simulator, the
//! operator and the conformance runner all hand the engine the same kind of number.

/// A point in time or a duration, in microseconds. Points are relative to an epoch the
/// driver chooses (Unix epoch in the operator, trace start in the simulator).
pub type Micros = i64;

/// One second in [`Micros`].
pub const SECOND: Micros = 1_000_000;

/// Converts whole seconds to [`Micros`].
pub const fn seconds(s: i64) -> Micros {
    s * SECOND
}

/// Converts fractional seconds (as found in manifests and test vectors) to [`Micros`],
/// rounding to the nearest microsecond.
pub fn from_secs_f64(s: f64) -> Micros {
    (s * SECOND as f64).round() as Micros
}

/// Converts [`Micros`] to fractional seconds, for reports and human sentences.
pub fn to_secs_f64(t: Micros) -> f64 {
    t as f64 / SECOND as f64
}
