//! The stable and panic metric windows of one revision (Knative's metric collector).
//!
//! The driver records the revision's total metric (sum of per-pod concurrency or RPS) as
//! it observes it; the decider reads both windows' averages at each tick.

use super::config::{KpaConfig, METRIC_BUCKET};
use crate::time::Micros;
use crate::window::{AverageWindow, WindowError};
use serde::{Deserialize, Serialize};

/// Stable and panic windows over the same raw observations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricWindows {
    stable: AverageWindow,
    panic: AverageWindow,
}

impl MetricWindows {
    /// Windows sized from `config` (stable window, and the panic window derived from it),
    /// in one-second buckets.
    ///
    /// Upstream never builds a window shorter than one bucket; a zero stable window is
    /// widened to one bucket here for the same reason.
    pub fn new(config: &KpaConfig) -> Result<Self, WindowError> {
        let stable_len = config.stable_window.max(METRIC_BUCKET);
        Ok(MetricWindows {
            stable: AverageWindow::new(config.aggregation, stable_len, METRIC_BUCKET)?,
            panic: AverageWindow::new(config.aggregation, config.panic_window(), METRIC_BUCKET)?,
        })
    }

    /// Whether these windows still match `config` (lengths and algorithm).
    pub fn matches(&self, config: &KpaConfig) -> bool {
        self.stable.algorithm() == config.aggregation
            && self.stable.window() == config.stable_window.max(METRIC_BUCKET)
            && self.panic.window() == config.panic_window()
    }

    /// Records one observation of the revision's total metric value.
    pub fn record(&mut self, now: Micros, value: f64) {
        self.stable.record(now, value);
        self.panic.record(now, value);
    }

    /// `(stable, panic)` averages at `now`, or `None` when nothing was recorded during the
    /// last stable window (upstream's `ErrNoData`: the decider then makes no decision).
    pub fn averages(&self, now: Micros) -> Option<(f64, f64)> {
        if self.stable.is_empty(now) {
            return None;
        }
        Some((self.stable.average(now), self.panic.average(now)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SECOND;

    #[test]
    fn panic_window_reacts_faster_than_stable() {
        let config = KpaConfig::default();
        let mut w = MetricWindows::new(&config).unwrap();
        assert_eq!(w.averages(0), None);
        for t in 0..60 {
            w.record(t * SECOND, if t < 54 { 10.0 } else { 100.0 });
        }
        let (stable, panic) = w.averages(59 * SECOND).unwrap();
        assert_eq!(panic, 100.0);
        assert_eq!(stable, (54.0 * 10.0 + 6.0 * 100.0) / 60.0);
        assert_eq!(w.averages(200 * SECOND), None);
    }
}
