//! Mean and percentiles of a latency sample that arrives one value at a time, in memory
//! bounded by a constant however long the trace.
//!
//! Up to [`EXACT_LIMIT`] values the sample is kept and summarized exactly as
//! [`crate::metrics::Summary::of`] does (sorted, summed in sorted order, NumPy's linear
//! interpolation), so every summary of a trace that size is bit-for-bit what the
//! in-memory path gives. Past the limit the values move into a [`LogHistogram`]:
//! percentiles are then within [`RELATIVE_ERROR`] of the exact ones (each order
//! statistic is read as its bucket's geometric midpoint, clamped to the sample's exact
//! minimum and maximum) and the mean is a compensated running sum over arrival order,
//! equal to the exact mean up to rounding.

use crate::metrics::Summary as Stats;

/// Values kept exactly before switching to the histogram (80 MB per metric).
pub const EXACT_LIMIT: usize = 10_000_000;

/// Bucket growth factor: one bucket spans `[x, x·GROWTH)`.
const GROWTH: f64 = 1.002;
/// The histogram's range, seconds; values outside it fall in its end buckets.
const LOWEST: f64 = 1e-9;
const HIGHEST: f64 = 1e7;

/// Worst relative error of a percentile read from the histogram: half a bucket on a
/// log scale, `sqrt(GROWTH) - 1` ≈ 0.09995%.
pub const RELATIVE_ERROR: f64 = 0.001;

/// A latency sample: exact while small, a histogram once large.
#[derive(Debug, Clone, Default)]
pub struct Latencies {
    values: Vec<f64>,
    count: u64,
    sum: f64,
    compensation: f64,
    histogram: Option<LogHistogram>,
}

impl Latencies {
    pub fn new() -> Latencies {
        Latencies::default()
    }

    /// Adds one value (seconds, finite, not negative).
    pub fn push(&mut self, value: f64) {
        self.count += 1;
        // Kahan summation: the histogram path's mean must not drift over 1e8 values.
        let y = value - self.compensation;
        let t = self.sum + y;
        self.compensation = (t - self.sum) - y;
        self.sum = t;
        match &mut self.histogram {
            Some(histogram) => histogram.add(value),
            None => {
                if self.values.len() == self.values.capacity() {
                    // Grow by doubling, but never past the limit's worth of values.
                    let want = (2 * self.values.capacity()).clamp(1024, EXACT_LIMIT + 1);
                    self.values.reserve_exact(want - self.values.len());
                }
                self.values.push(value);
                if self.values.len() > EXACT_LIMIT {
                    let mut histogram = LogHistogram::new();
                    for &value in &self.values {
                        histogram.add(value);
                    }
                    self.values = Vec::new();
                    self.histogram = Some(histogram);
                }
            }
        }
    }

    /// Values pushed.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Whether the summary is exact (the sample is within [`EXACT_LIMIT`]).
    pub fn is_exact(&self) -> bool {
        self.histogram.is_none()
    }

    /// Percentiles `ps` (each 0-100), exact or from the histogram as [`Latencies::summary`]
    /// reads them; empty for an empty sample.
    pub fn percentiles(&self, ps: &[f64]) -> Vec<f64> {
        if self.count == 0 {
            return Vec::new();
        }
        match &self.histogram {
            None => {
                let mut sorted = self.values.clone();
                sorted.sort_by(f64::total_cmp);
                ps.iter()
                    .map(|&p| crate::metrics::percentile_sorted(&sorted, p))
                    .collect()
            }
            Some(histogram) => ps.iter().map(|&p| histogram.percentile(p)).collect(),
        }
    }

    /// Mean and percentiles; `None` for an empty sample.
    pub fn summary(&self) -> Option<Stats> {
        match &self.histogram {
            None => Stats::of(&self.values),
            Some(histogram) => Some(Stats {
                mean: self.sum / self.count as f64,
                p50: histogram.percentile(50.0),
                p90: histogram.percentile(90.0),
                p99: histogram.percentile(99.0),
            }),
        }
    }
}

/// Counts in log-spaced buckets over `[LOWEST, HIGHEST)`, plus exact extremes.
#[derive(Debug, Clone)]
pub struct LogHistogram {
    counts: Vec<u64>,
    total: u64,
    min: f64,
    max: f64,
}

impl Default for LogHistogram {
    fn default() -> Self {
        LogHistogram::new()
    }
}

impl LogHistogram {
    pub fn new() -> LogHistogram {
        let buckets = ((HIGHEST / LOWEST).ln() / GROWTH.ln()).ceil() as usize + 1;
        LogHistogram {
            counts: vec![0; buckets],
            total: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }

    fn bucket(&self, value: f64) -> usize {
        if value <= LOWEST {
            return 0;
        }
        let index = ((value / LOWEST).ln() / GROWTH.ln()) as usize;
        index.min(self.counts.len() - 1)
    }

    pub fn add(&mut self, value: f64) {
        let bucket = self.bucket(value);
        self.counts[bucket] += 1;
        self.total += 1;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
    }

    /// The `rank`-th smallest value (0-based), as its bucket's geometric midpoint.
    fn order_statistic(&self, rank: u64) -> f64 {
        let mut seen = 0;
        for (bucket, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen > rank {
                let middle = LOWEST * GROWTH.powf(bucket as f64 + 0.5);
                return middle.clamp(self.min, self.max);
            }
        }
        self.max
    }

    /// Percentile `p` (0-100), interpolating between ranks as NumPy does.
    pub fn percentile(&self, p: f64) -> f64 {
        match self.total {
            0 => f64::NAN,
            1 => self.min,
            n => {
                let rank = (p / 100.0).clamp(0.0, 1.0) * (n - 1) as f64;
                let low = rank.floor() as u64;
                let high = (low + 1).min(n - 1);
                let (a, b) = (self.order_statistic(low), self.order_statistic(high));
                a + (b - a) * (rank - low as f64)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::percentile_sorted;

    #[test]
    fn small_samples_are_summarized_exactly() {
        let values = [0.3, 0.1, 2.5, 0.7, 0.7, 1e-6];
        let mut latencies = Latencies::new();
        for value in values {
            latencies.push(value);
        }
        assert!(latencies.is_exact());
        assert_eq!(latencies.summary(), Stats::of(&values));
        assert_eq!(Latencies::new().summary(), None);
    }

    #[test]
    fn histogram_percentiles_stay_within_the_stated_error() {
        let mut histogram = LogHistogram::new();
        let mut values: Vec<f64> = (1..=20_000u32)
            .map(|i| {
                let x = f64::from(i.wrapping_mul(2_654_435_761) % 1_000_003) / 1_000_003.0;
                1e-4 * (x * 14.0).exp()
            })
            .collect();
        for &value in &values {
            histogram.add(value);
        }
        values.sort_by(f64::total_cmp);
        for p in [0.0, 1.0, 50.0, 90.0, 99.0, 99.9, 100.0] {
            let exact = percentile_sorted(&values, p);
            let approx = histogram.percentile(p);
            assert!(
                ((approx - exact) / exact).abs() <= RELATIVE_ERROR,
                "p{p}: {approx} vs {exact}"
            );
        }
    }
}
