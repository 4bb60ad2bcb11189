//! Windowed readings between two scrapes of one target: counter increases and
//! histogram bucket increases, the way PromQL's `increase()` and `histogram_quantile()`
//! read them.
//!
//! A counter that went down was reset (the process restarted): its increase is then its
//! current value, as if it had counted up from zero. A histogram is reset when its count
//! or any bucket went down, or its bucket bounds changed; its increase is then the
//! current histogram whole. Increases are never negative.

use super::prometheus::Histogram;
use engine::observation::LatencyWindow;

/// The increase of a counter from `previous` to `current` (never negative).
pub fn counter_increase(previous: f64, current: f64) -> f64 {
    let increase = if current >= previous {
        current - previous
    } else {
        current
    };
    // `max` also turns NaN into 0.
    increase.max(0.0)
}

/// Per-second rate of a counter over `interval_us` microseconds (0 for an empty interval).
pub fn counter_rate(previous: f64, current: f64, interval_us: i64) -> f64 {
    if interval_us <= 0 {
        return 0.0;
    }
    counter_increase(previous, current) / (interval_us as f64 / 1e6)
}

/// Whether `current` cannot follow `previous` without a reset in between.
fn histogram_reset(previous: &Histogram, current: &Histogram) -> bool {
    current.count < previous.count
        || current.buckets.len() != previous.buckets.len()
        || previous
            .buckets
            .iter()
            .zip(&current.buckets)
            .any(|(p, c)| p.0 != c.0 || c.1 < p.1)
}

/// The observations `current` holds that `previous` did not: bucket by bucket (kept
/// cumulative and non-decreasing), sum and count; the whole of `current` after a reset.
pub fn histogram_increase(previous: &Histogram, current: &Histogram) -> Histogram {
    let (buckets, sum, count) = if histogram_reset(previous, current) {
        (current.buckets.clone(), current.sum, current.count)
    } else {
        let buckets = previous
            .buckets
            .iter()
            .zip(&current.buckets)
            .map(|(p, c)| (c.0, c.1 - p.1))
            .collect();
        (
            buckets,
            current.sum - previous.sum,
            current.count - previous.count,
        )
    };
    let mut running = 0.0f64;
    let buckets = buckets
        .into_iter()
        .map(|(le, cumulative): (f64, f64)| {
            // A scrape taken while an observation was being recorded can leave a lower
            // bucket ahead of a higher one; cumulative counts never decrease.
            running = running.max(if cumulative.is_nan() { 0.0 } else { cumulative });
            (le, running)
        })
        .collect();
    Histogram {
        buckets,
        sum: if sum.is_finite() { sum.max(0.0) } else { 0.0 },
        count: if count.is_finite() {
            count.max(0.0)
        } else {
            0.0
        },
    }
}

/// Count, mean and p50/p90/p99 of a (windowed) histogram. The mean is `sum / count`;
/// quantiles interpolate linearly inside the bucket holding the rank, the lowest bucket
/// starting at 0 and a rank in the `+Inf` bucket giving the highest finite bound
/// (PromQL's `histogram_quantile`). Without observations (or without buckets, as for
/// a summary) the latencies are 0: read `count` first.
pub fn latency_window(histogram: &Histogram) -> LatencyWindow {
    let quantile = |q: f64| {
        histogram
            .quantile(q)
            .filter(|v| v.is_finite())
            .unwrap_or(0.0)
    };
    LatencyWindow {
        count: histogram.count,
        mean_s: histogram.mean().filter(|v| v.is_finite()).unwrap_or(0.0),
        p50_s: quantile(0.5),
        p90_s: quantile(0.9),
        p99_s: quantile(0.99),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn histogram(buckets: &[(f64, f64)], sum: f64) -> Histogram {
        Histogram {
            buckets: buckets.to_vec(),
            sum,
            count: buckets.last().map_or(0.0, |b| b.1),
        }
    }

    #[test]
    fn counters_increase_and_reset() {
        assert_eq!(counter_increase(10.0, 25.0), 15.0);
        assert_eq!(counter_increase(100.0, 7.0), 7.0, "reset counts from zero");
        assert_eq!(counter_increase(5.0, f64::NAN), 0.0);
        assert_eq!(counter_rate(10.0, 40.0, 15_000_000), 2.0);
        assert_eq!(counter_rate(10.0, 40.0, 0), 0.0);
    }

    #[test]
    fn quantiles_interpolate_within_buckets_as_promql() {
        // Buckets 0.1 / 0.5 / 1 / +Inf with 10, 30, 40, 40 observations since start;
        // the window before held 10, 10, 10, 10.
        let before = histogram(
            &[(0.1, 10.0), (0.5, 10.0), (1.0, 10.0), (f64::INFINITY, 10.0)],
            0.5,
        );
        let after = histogram(
            &[(0.1, 10.0), (0.5, 30.0), (1.0, 40.0), (f64::INFINITY, 50.0)],
            18.5,
        );
        let delta = histogram_increase(&before, &after);
        assert_eq!(
            delta.buckets,
            vec![(0.1, 0.0), (0.5, 20.0), (1.0, 30.0), (f64::INFINITY, 40.0)]
        );
        let window = latency_window(&delta);
        assert_eq!(window.count, 40.0);
        assert_eq!(window.mean_s, 18.0 / 40.0);
        // p50: rank 20 is the top of the (0.1, 0.5] bucket, which holds ranks 0..20.
        assert!((window.p50_s - 0.5).abs() < 1e-12);
        // p90: rank 36 lies in the +Inf bucket (30..40): the highest finite bound.
        assert_eq!(window.p90_s, 1.0);
        assert_eq!(window.p99_s, 1.0);
        // p25 by hand: rank 10 is half-way through (0.1, 0.5] → 0.3.
        assert!((delta.quantile(0.25).unwrap() - 0.3).abs() < 1e-12);
    }

    #[test]
    fn histograms_reset_when_counts_fall_or_bounds_change() {
        let before = histogram(&[(1.0, 5.0), (f64::INFINITY, 9.0)], 9.0);
        let after = histogram(&[(1.0, 2.0), (f64::INFINITY, 3.0)], 2.5);
        assert_eq!(histogram_increase(&before, &after), after);
        let rebounded = histogram(&[(2.0, 6.0), (f64::INFINITY, 10.0)], 10.0);
        assert_eq!(histogram_increase(&before, &rebounded), rebounded);
        let empty = histogram_increase(&before, &before);
        assert_eq!(empty.count, 0.0);
        let window = latency_window(&empty);
        assert_eq!((window.mean_s, window.p50_s, window.p99_s), (0.0, 0.0, 0.0));
    }

    /// Cumulative buckets over fixed bounds from per-bucket counts.
    fn cumulative(bounds: &[f64], counts: &[u32]) -> Histogram {
        let mut total = 0.0;
        let mut buckets: Vec<(f64, f64)> = bounds
            .iter()
            .zip(counts)
            .map(|(&le, &n)| {
                total += f64::from(n);
                (le, total)
            })
            .collect();
        total += f64::from(counts[bounds.len()]);
        buckets.push((f64::INFINITY, total));
        Histogram {
            buckets,
            sum: total * 0.3,
            count: total,
        }
    }

    const BOUNDS: [f64; 6] = [0.01, 0.05, 0.1, 0.5, 1.0, 5.0];

    proptest! {
        #[test]
        fn windowed_quantiles_are_ordered_and_within_bounds(
            before in proptest::collection::vec(0u32..50, 7),
            added in proptest::collection::vec(0u32..50, 7),
            reset in any::<bool>(),
        ) {
            let previous = cumulative(&BOUNDS, &before);
            let grown: Vec<u32> = before.iter().zip(&added).map(|(b, a)| b + a).collect();
            let current = cumulative(&BOUNDS, if reset { &added } else { &grown });
            let delta = histogram_increase(&previous, &current);
            prop_assert!(delta.count >= 0.0 && delta.sum >= 0.0);
            prop_assert!(delta.buckets.windows(2).all(|w| w[0].1 <= w[1].1));
            let window = latency_window(&delta);
            prop_assert!(window.p50_s <= window.p90_s && window.p90_s <= window.p99_s);
            prop_assert!(window.p50_s >= 0.0 && window.p99_s <= BOUNDS[BOUNDS.len() - 1]);
            let added_total = f64::from(added.iter().sum::<u32>());
            if reset {
                prop_assert!(delta.count <= added_total);
            } else {
                prop_assert_eq!(delta.count, added_total);
            }
        }

        #[test]
        fn rates_are_never_negative(
            previous in -1e12f64..1e12,
            current in -1e12f64..1e12,
            interval in -10_000_000i64..100_000_000,
        ) {
            let rate = counter_rate(previous, current, interval);
            prop_assert!(rate >= 0.0 && rate.is_finite());
        }
    }
}
