//! Running maximum over a sliding time window (Knative `aggregation/max`).

use super::{WindowError, bucket_count};
use crate::time::Micros;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// The maximum of the values recorded during the last `window`, in buckets of
/// `granularity` (two values in the same bucket keep the larger).
///
/// Implemented as upstream with the ascending-minima algorithm: the deque holds, oldest
/// first, only values that can still become the maximum, so it is strictly decreasing
/// and both record and query are amortised O(1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaxWindow {
    granularity: Micros,
    /// Window length in buckets.
    size: i64,
    /// `(bucket index, value)`, indexes ascending, values strictly descending.
    maxima: VecDeque<(i64, i32)>,
}

impl MaxWindow {
    /// A window of `ceil(window / granularity)` buckets.
    pub fn new(window: Micros, granularity: Micros) -> Result<Self, WindowError> {
        let size = bucket_count(window, granularity)? as i64;
        Ok(MaxWindow {
            granularity,
            size,
            maxima: VecDeque::new(),
        })
    }

    /// Records `value` at `now`. Times are expected not to go backwards; a value recorded
    /// in the past only competes with values recorded after it.
    pub fn record(&mut self, now: Micros, value: i32) {
        let index = now.div_euclid(self.granularity);
        let mut value = value;
        // A smaller (or equal) older value can never be the maximum again.
        while self.maxima.back().is_some_and(|&(_, v)| value >= v) {
            self.maxima.pop_back();
        }
        while self
            .maxima
            .front()
            .is_some_and(|&(i, _)| index - i >= self.size)
        {
            self.maxima.pop_front();
        }
        if let Some(&(i, v)) = self.maxima.back()
            && i == index
        {
            value = value.max(v);
            self.maxima.pop_back();
        }
        self.maxima.push_back((index, value));
    }

    /// The maximum recorded during the window before the latest record; 0 before any
    /// record (as upstream, whose ring starts zeroed).
    pub fn current(&self) -> i32 {
        self.maxima.front().map_or(0, |&(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SECOND;

    #[test]
    fn keeps_the_maximum_until_it_scrolls_out() {
        // TestAutoscalerScaleDownDelay "gradual": 5 min window, 2 s ticks.
        let mut w = MaxWindow::new(300 * SECOND, 2 * SECOND).unwrap();
        let mut at = |t: i64, v: i32| {
            w.record(t * SECOND, v);
            w.current()
        };
        assert_eq!(at(540, 4), 4);
        assert_eq!(at(600, 3), 4);
        assert_eq!(at(660, 0), 4);
        assert_eq!(at(840, 0), 3);
        assert_eq!(at(900, 0), 0);
    }

    #[test]
    fn same_bucket_keeps_the_larger_value() {
        let mut w = MaxWindow::new(10 * SECOND, 2 * SECOND).unwrap();
        w.record(0, 7);
        w.record(SECOND, 3);
        assert_eq!(w.current(), 7);
        w.record(10 * SECOND, 1);
        assert_eq!(w.current(), 1);
    }

    #[test]
    fn empty_window_reads_zero() {
        assert_eq!(MaxWindow::new(SECOND, SECOND).unwrap().current(), 0);
    }
}
