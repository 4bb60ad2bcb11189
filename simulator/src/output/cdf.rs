//! `latency_cdf`: each run's latency distribution at fixed percentiles, so a report
//! draws CDFs without re-reading the requests. One row per scaler per percentile
//! ([`percentiles`]): `scaler, percentile, ttft_s, tpot_s, e2e_s` over completed
//! requests (null when the run has none), read as `summary.json` reads its p50/p90/p99.

use super::summary::RequestStats;
use super::table::{Column, Table, Values};

/// 0, 1, …, 100, then the tail: 99.5 and 99.9 (in ascending order).
pub fn percentiles() -> Vec<f64> {
    let mut ps: Vec<f64> = (0..100).map(f64::from).collect();
    ps.extend([99.5, 99.9, 100.0]);
    ps.sort_by(f64::total_cmp);
    ps
}

/// The table for `runs` (scaler name, its request statistics), in scenario order.
pub fn latency_cdf_table<'a>(runs: impl IntoIterator<Item = (&'a str, &'a RequestStats)>) -> Table {
    let ps = percentiles();
    let mut scaler = Vec::new();
    let mut percentile = Vec::new();
    let mut columns: [Vec<Option<f64>>; 3] = Default::default();
    for (name, stats) in runs {
        scaler.extend(std::iter::repeat_n(name.to_string(), ps.len()));
        percentile.extend(ps.iter().map(|&p| Some(p)));
        for (column, sample) in columns.iter_mut().zip(stats.latencies()) {
            let values = sample.percentiles(&ps);
            if values.is_empty() {
                column.extend(std::iter::repeat_n(None, ps.len()));
            } else {
                column.extend(values.into_iter().map(Some));
            }
        }
    }
    let [ttft, tpot, e2e] = columns;
    let column = |name: &'static str, values| Column::new(name, values);
    Table {
        columns: vec![
            column("scaler", Values::Str(scaler)),
            column("percentile", Values::F64(percentile)),
            column("ttft_s", Values::F64(ttft)),
            column("tpot_s", Values::F64(tpot)),
            column("e2e_s", Values::F64(e2e)),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_run_from_0_to_100_with_the_tail() {
        let ps = percentiles();
        assert_eq!(ps.len(), 103);
        assert_eq!(ps[0], 0.0);
        assert_eq!(&ps[99..], &[99.0, 99.5, 99.9, 100.0]);
    }
}
