//! Knative's bucketed time windows, on integer engine time.
//!
//! Knative aggregates per-second metric samples into fixed-size rings of buckets and asks
//! them for averages (the stable and panic windows of the KPA) or for a running maximum
//! (the scale-down delay). This module reproduces those structures exactly, with
//! [`Micros`](crate::time::Micros) instead of wall-clock time:
//!
//! - [`BucketWindow`]: the linear average over the window (`TimedFloat64Buckets`).
//! - [`WeightedWindow`]: the exponentially weighted average (`WeightedFloat64Buckets`),
//!   whose smoothing coefficient is [`smoothing_coefficient`].
//! - [`AverageWindow`]: either of the two, chosen by [`Algorithm`].
//! - [`MaxWindow`]: the maximum over a sliding window (`aggregation/max`), used by the
//!   KPA to delay scale-down decisions.
//!
//! Bucket boundaries are multiples of the granularity counted from the engine's epoch
//! (time 0). Upstream aligns buckets on the Unix epoch and requires whole-second
//! granularities; with whole-second granularities and the Unix epoch as engine epoch the
//! two agree bucket for bucket.

mod average;
pub(crate) mod exact;
mod max;

pub use average::{Algorithm, AverageWindow, BucketWindow, WeightedWindow, smoothing_coefficient};
pub use max::MaxWindow;

use crate::time::Micros;

/// Why a window could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WindowError {
    #[error("window granularity must be positive, got {0} µs")]
    Granularity(Micros),
    #[error("window length must be positive, got {0} µs")]
    Length(Micros),
    #[error(
        "window of {window} µs at {granularity} µs granularity needs more than {MAX_BUCKETS} buckets"
    )]
    TooManyBuckets { window: Micros, granularity: Micros },
}

/// Upper bound on buckets per window, so that a typo in a manifest cannot allocate
/// gigabytes (an hour at one-second granularity needs 3 600).
pub const MAX_BUCKETS: usize = 1 << 20;

/// Start of the bucket that contains `t` (Go's `time.Truncate`, also for negative `t`).
pub(crate) fn truncate(t: Micros, granularity: Micros) -> Micros {
    t.div_euclid(granularity) * granularity
}

/// Number of buckets covering `window`: `ceil(window / granularity)`, as upstream.
pub(crate) fn bucket_count(window: Micros, granularity: Micros) -> Result<usize, WindowError> {
    if granularity <= 0 {
        return Err(WindowError::Granularity(granularity));
    }
    if window <= 0 {
        return Err(WindowError::Length(window));
    }
    let n = window.div_euclid(granularity) + i64::from(window.rem_euclid(granularity) != 0);
    match usize::try_from(n) {
        Ok(n) if n <= MAX_BUCKETS => Ok(n),
        _ => Err(WindowError::TooManyBuckets {
            window,
            granularity,
        }),
    }
}
