//! Linear and exponentially weighted window averages (Knative `bucketing.go`).

use super::{WindowError, bucket_count, truncate};
use crate::time::Micros;
use serde::{Deserialize, Serialize};

/// Lower bound of the smoothing coefficient: with very long windows the weighted average
/// would otherwise degenerate into the plain average.
const MIN_EXPONENT: f64 = 0.2;
/// `1 - weightPrecision` of upstream (0.9999), folded exactly as Go folds its untyped
/// constants: writing `1.0 - 0.9999` in f64 would be off by ~1e-17.
const WEIGHT_REMAINDER: f64 = 0.0001;
/// Linear averages are truncated to this many decimals, as upstream does to hide float
/// noise such as 3.6e-17 from decisions.
const AVERAGE_DIGITS: i32 = 6;

/// Smoothing coefficient of the weighted average over `buckets` buckets:
/// `max(1 - 0.0001^(1/buckets), 0.2)`, chosen so that the weights of the window's buckets
/// add up to at least 0.9999.
pub fn smoothing_coefficient(buckets: f64) -> f64 {
    (1.0 - WEIGHT_REMAINDER.powf(1.0 / buckets)).max(MIN_EXPONENT)
}

/// Upstream's `roundToNDigits`, which floors (it does not round to nearest).
fn floor_to_digits(digits: i32, value: f64) -> f64 {
    let p = 10f64.powi(digits);
    (value * p).floor() / p
}

/// Which average a KPA metric window computes (`autoscaling.knative.dev/metric-aggregation-algorithm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    /// Plain average of the buckets (the Knative default).
    #[default]
    Linear,
    /// Exponentially weighted average favouring recent buckets.
    Weighted,
}

/// A ring of buckets over a time window, averaged linearly (`TimedFloat64Buckets`).
///
/// Values recorded in the same bucket add up; buckets skipped between two writes count
/// as zero; the average covers only the part of the window since the first write (so a
/// fresh window is not diluted by the empty past), and a whole window without writes
/// resets it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketWindow {
    #[serde(with = "super::exact::vec")]
    buckets: Vec<f64>,
    granularity: Micros,
    window: Micros,
    /// Start of the bucket of the first write since the last reset.
    first_write: Option<Micros>,
    /// Start of the bucket of the latest write.
    last_write: Option<Micros>,
    /// Sum of all buckets, including ones outside `[first_write, last_write]`.
    #[serde(with = "super::exact")]
    window_total: f64,
}

impl BucketWindow {
    /// A window of `ceil(window / granularity)` buckets.
    pub fn new(window: Micros, granularity: Micros) -> Result<Self, WindowError> {
        let n = bucket_count(window, granularity)?;
        Ok(BucketWindow {
            buckets: vec![0.0; n],
            granularity,
            window,
            first_write: None,
            last_write: None,
            window_total: 0.0,
        })
    }

    /// The window length.
    pub fn window(&self) -> Micros {
        self.window
    }

    /// The bucket width.
    pub fn granularity(&self) -> Micros {
        self.granularity
    }

    /// Ring index of the bucket containing `t` (before the modulo).
    fn index(&self, t: Micros) -> i64 {
        t.div_euclid(self.granularity)
    }

    fn slot(&self, index: i64) -> usize {
        // The ring holds at most MAX_BUCKETS entries, so the remainder fits usize.
        index.rem_euclid(self.buckets.len() as i64) as usize
    }

    /// True when nothing was written during the last window before `now`.
    pub fn is_empty(&self, now: Micros) -> bool {
        let now = truncate(now, self.granularity);
        match self.last_write {
            None => true,
            Some(last) => now - last > self.window,
        }
    }

    /// Adds `value` to the bucket of `now`. Writes older than a window before the latest
    /// write are ignored; writes in the past but within the window are added to their
    /// bucket.
    pub fn record(&mut self, now: Micros, value: f64) {
        let bucket_time = truncate(now, self.granularity);
        let write_index = self.index(now);
        if self.last_write != Some(bucket_time) {
            match self.last_write {
                None => self.reset(bucket_time),
                Some(last) => {
                    if bucket_time + self.window <= last {
                        return;
                    }
                    if self.first_write.is_none_or(|first| first > bucket_time) {
                        self.first_write = Some(bucket_time);
                    }
                    if bucket_time > last {
                        if bucket_time - last >= self.window {
                            self.reset(bucket_time);
                        } else {
                            for i in self.index(last) + 1..=write_index {
                                let slot = self.slot(i);
                                self.window_total -= self.buckets[slot];
                                self.buckets[slot] = 0.0;
                            }
                            self.last_write = Some(bucket_time);
                        }
                    }
                }
            }
        }
        let slot = self.slot(write_index);
        self.buckets[slot] += value;
        self.window_total += value;
    }

    /// Forgets everything and starts a new partial window at `bucket_time`.
    fn reset(&mut self, bucket_time: Micros) {
        self.buckets.iter_mut().for_each(|b| *b = 0.0);
        self.window_total = 0.0;
        self.first_write = Some(bucket_time);
        self.last_write = Some(bucket_time);
    }

    /// The average bucket value over the window ending at `now`, floored to 6 decimals.
    ///
    /// Only the buckets since the first write count when the window is not full yet, and
    /// buckets after the last write are dropped (not counted as zeros) while they are
    /// less than a window old; after a whole window of silence the average is 0.
    pub fn average(&self, now: Micros) -> f64 {
        let (Some(first), Some(last)) = (self.first_write, self.last_write) else {
            return 0.0;
        };
        let now = truncate(now, self.granularity);
        let written_buckets = (last - first) / self.granularity + 1;
        let len = self.buckets.len() as i64;
        let d = now - last;
        if d <= 0 {
            let n = written_buckets.min(len);
            floor_to_digits(AVERAGE_DIGITS, self.window_total / n as f64)
        } else if d < self.window {
            let (start, end) = (self.index(last), self.index(now));
            let mut total = self.window_total;
            for i in start + 1..=end {
                total -= self.buckets[self.slot(i)];
            }
            let n = written_buckets.min(len - (end - start));
            floor_to_digits(AVERAGE_DIGITS, total / n as f64)
        } else {
            0.0
        }
    }

    /// Walks the buckets from the latest write backwards: `(bucket value)` newest first,
    /// at most `count` of them.
    fn newest_first(&self, count: i64) -> impl Iterator<Item = f64> + '_ {
        let start = self.last_write.map_or(0, |last| self.index(last));
        (0..count.max(0)).map(move |i| self.buckets[self.slot(start - i)])
    }
}

/// A ring of buckets averaged with exponentially decaying weights
/// (`WeightedFloat64Buckets`): the newest bucket weighs `a`, the one before `a(1-a)`,
/// and so on, with `a` = [`smoothing_coefficient`] of the bucket count. Buckets between
/// the last write and `now` count as zeros. The result is not rounded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightedWindow {
    buckets: BucketWindow,
    #[serde(with = "super::exact")]
    smoothing: f64,
}

impl WeightedWindow {
    /// A window of `ceil(window / granularity)` buckets.
    pub fn new(window: Micros, granularity: Micros) -> Result<Self, WindowError> {
        let buckets = BucketWindow::new(window, granularity)?;
        let smoothing = smoothing_coefficient(buckets.buckets.len() as f64);
        Ok(WeightedWindow { buckets, smoothing })
    }

    /// The smoothing coefficient in use.
    pub fn smoothing(&self) -> f64 {
        self.smoothing
    }

    /// See [`BucketWindow::record`].
    pub fn record(&mut self, now: Micros, value: f64) {
        self.buckets.record(now, value);
    }

    /// See [`BucketWindow::is_empty`].
    pub fn is_empty(&self, now: Micros) -> bool {
        self.buckets.is_empty(now)
    }

    /// The weighted average at `now`; 0 after a whole window without writes.
    pub fn average(&self, now: Micros) -> f64 {
        let b = &self.buckets;
        let Some(last) = b.last_write else {
            return 0.0;
        };
        let now = truncate(now, b.granularity);
        if now - last > b.window {
            return 0.0;
        }
        let mut count = b.buckets.len() as i64;
        let mut multiplier = self.smoothing;
        if now > last {
            let zeros = (now - last) / b.granularity;
            multiplier *= (1.0 - self.smoothing).powf(zeros as f64);
            count -= zeros;
        }
        let mut total = 0.0;
        for value in b.newest_first(count) {
            total += value * multiplier;
            multiplier *= 1.0 - self.smoothing;
        }
        total
    }
}

/// A linear or weighted window, as configured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "algorithm", rename_all = "snake_case")]
pub enum AverageWindow {
    Linear(BucketWindow),
    Weighted(WeightedWindow),
}

impl AverageWindow {
    /// A window of the given algorithm.
    pub fn new(
        algorithm: Algorithm,
        window: Micros,
        granularity: Micros,
    ) -> Result<Self, WindowError> {
        Ok(match algorithm {
            Algorithm::Linear => AverageWindow::Linear(BucketWindow::new(window, granularity)?),
            Algorithm::Weighted => {
                AverageWindow::Weighted(WeightedWindow::new(window, granularity)?)
            }
        })
    }

    /// Which algorithm this window computes.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            AverageWindow::Linear(_) => Algorithm::Linear,
            AverageWindow::Weighted(_) => Algorithm::Weighted,
        }
    }

    /// The window length.
    pub fn window(&self) -> Micros {
        self.buckets().window
    }

    fn buckets(&self) -> &BucketWindow {
        match self {
            AverageWindow::Linear(w) => w,
            AverageWindow::Weighted(w) => &w.buckets,
        }
    }

    /// Adds `value` to the bucket of `now`.
    pub fn record(&mut self, now: Micros, value: f64) {
        match self {
            AverageWindow::Linear(w) => w.record(now, value),
            AverageWindow::Weighted(w) => w.record(now, value),
        }
    }

    /// True when nothing was written during the last window before `now`.
    pub fn is_empty(&self, now: Micros) -> bool {
        self.buckets().is_empty(now)
    }

    /// The configured average at `now`.
    pub fn average(&self, now: Micros) -> f64 {
        match self {
            AverageWindow::Linear(w) => w.average(now),
            AverageWindow::Weighted(w) => w.average(now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SECOND;

    fn filled(values: &[(i64, f64)]) -> BucketWindow {
        let mut w = BucketWindow::new(5 * SECOND, SECOND).unwrap();
        for &(t, v) in values {
            w.record(t * SECOND, v);
        }
        w
    }

    #[test]
    fn values_in_one_bucket_add_up() {
        let mut w = BucketWindow::new(60 * SECOND, SECOND).unwrap();
        w.record(0, 1.0);
        w.record(SECOND / 10, 10.0);
        assert_eq!(w.average(0), 11.0);
    }

    #[test]
    fn short_hole_drops_trailing_buckets() {
        // Upstream "Check with short hole": (15 - 1 - 2) / (5 - 2).
        let w = filled(&[(0, 1.0), (1, 2.0), (2, 3.0), (3, 4.0), (4, 5.0)]);
        assert_eq!(w.average(6 * SECOND), 4.0);
    }

    #[test]
    fn past_writes_inside_the_window_are_kept_and_older_ones_ignored() {
        let mut w = filled(&[(60, 1984.0)]);
        w.record(57 * SECOND, 4.0);
        assert_eq!(w.average(60 * SECOND), (4.0 + 1984.0) / 4.0);
        w.record(61 * SECOND, 5.0);
        w.record(58 * SECOND, 10.0);
        w.record(55 * SECOND, 10.0);
        w.record(56 * SECOND, 10.0);
        assert_eq!(w.average(61 * SECOND), (4.0 + 10.0 + 1984.0 + 5.0) / 5.0);
        w.record(66 * SECOND, 10.0);
        assert_eq!(w.average(66 * SECOND), 10.0);
    }

    #[test]
    fn descending_writes_average_their_value() {
        let mut w = BucketWindow::new(5 * SECOND, SECOND).unwrap();
        for t in (0..=8).rev() {
            w.record(t * SECOND, 5.0);
        }
        assert_eq!(w.average(5 * SECOND), 5.0);
    }

    #[test]
    fn linear_average_floors_to_six_digits() {
        assert_eq!(floor_to_digits(6, 3.6e-17), 0.0);
        assert_eq!(floor_to_digits(3, 1.2345), 1.234);
        assert_eq!(floor_to_digits(6, 12345.0), 12345.0);
    }

    #[test]
    fn weighted_average_decays_over_missing_buckets() {
        let mut w = WeightedWindow::new(5 * SECOND, SECOND).unwrap();
        let m = w.smoothing();
        w.record(0, 2.0);
        assert_eq!(w.average(0), 2.0 * m);
        assert_eq!(w.average(SECOND), 2.0 * m * (1.0 - m));
        w.record(SECOND, 2.0);
        let want = 2.0 * m * (1.0 - m) + 2.0 * m;
        assert!((w.average(SECOND) - want).abs() < 1e-12);
        for i in 0..5 {
            w.record((2 + i) * SECOND, (i + 2) as f64);
        }
        let q = 1.0 - m;
        let want =
            6.0 * m + 5.0 * m * q + 4.0 * m * q * q + 3.0 * m * q.powi(3) + 2.0 * m * q.powi(4);
        assert!((w.average(6 * SECOND) - want).abs() < 1e-12);
        assert_eq!(w.average(16 * SECOND), 0.0);
    }

    #[test]
    fn smoothing_coefficient_matches_upstream_table() {
        assert_eq!(smoothing_coefficient(100.0), 0.2);
        assert_eq!(smoothing_coefficient(60.0), 0.2);
        assert!((smoothing_coefficient(40.0) - 0.20567).abs() < 1e-5);
        assert!((smoothing_coefficient(6.0) - 0.78456).abs() < 1e-5);
    }

    #[test]
    fn bad_sizes_are_errors() {
        assert_eq!(
            BucketWindow::new(SECOND, 0),
            Err(WindowError::Granularity(0))
        );
        assert_eq!(BucketWindow::new(0, SECOND), Err(WindowError::Length(0)));
        assert!(matches!(
            BucketWindow::new(3_600 * SECOND, 1),
            Err(WindowError::TooManyBuckets { .. })
        ));
    }
}
