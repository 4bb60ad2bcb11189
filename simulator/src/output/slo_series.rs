//! `slo_timeseries`: latency and SLO attainment per minute of arrival, gathered while
//! a run streams, so a report of a 12M-request week never re-reads its requests.
//!
//! One row per scaler per minute from the first arrival's minute to the last's (a
//! minute without arrivals is a row of zeros with null percentiles): `scaler, time_s`
//! (the minute's start), `arrivals, completed, failed, met_slo` (requests *arriving*
//! in that minute, by their final outcome, so the counts of a row add up however long
//! its requests took), `ttft_p50_s, ttft_p90_s, tpot_p50_s, tpot_p90_s` over that
//! minute's completed requests (exact, NumPy's linear interpolation, as
//! `summary.json`). Requests reach the sink in trace order, whose arrivals never go
//! back in time, so only the current minute's latencies are held.

use super::table::{Column, Table, Values};
use crate::fleet::{RequestRecord, RequestStatus, Slo};
use crate::metrics::Summary as Stats;
use crate::queue::TimeUs;

/// One row's span.
pub const MINUTE_US: TimeUs = 60_000_000;

/// The per-minute rows of one run, built one request at a time.
#[derive(Debug, Clone)]
pub struct SloSeries {
    slo: Slo,
    minute: Option<TimeUs>,
    bucket: Bucket,
    rows: SloRows,
}

#[derive(Debug, Clone, Default)]
struct Bucket {
    arrivals: u32,
    completed: u32,
    failed: u32,
    met: u32,
    ttft: Vec<f64>,
    tpot: Vec<f64>,
}

/// Finished rows, column by column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SloRows {
    pub time_s: Vec<f64>,
    pub arrivals: Vec<u32>,
    pub completed: Vec<u32>,
    pub failed: Vec<u32>,
    pub met_slo: Vec<u32>,
    pub ttft_p50_s: Vec<Option<f64>>,
    pub ttft_p90_s: Vec<Option<f64>>,
    pub tpot_p50_s: Vec<Option<f64>>,
    pub tpot_p90_s: Vec<Option<f64>>,
}

impl SloRows {
    pub fn len(&self) -> usize {
        self.time_s.len()
    }

    pub fn is_empty(&self) -> bool {
        self.time_s.is_empty()
    }
}

impl SloSeries {
    pub fn new(slo: &Slo) -> SloSeries {
        SloSeries {
            slo: *slo,
            minute: None,
            bucket: Bucket::default(),
            rows: SloRows::default(),
        }
    }

    /// Counts one request; requests come in non-decreasing arrival order (an earlier
    /// one is counted in the current minute).
    pub fn observe(&mut self, record: &RequestRecord) {
        let minute = record.arrival_us.div_euclid(MINUTE_US);
        match self.minute {
            None => self.minute = Some(minute),
            Some(current) if minute > current => {
                self.close(current);
                for empty in current + 1..minute {
                    self.close(empty);
                }
                self.minute = Some(minute);
            }
            Some(_) => {}
        }
        let bucket = &mut self.bucket;
        bucket.arrivals += 1;
        bucket.met += u32::from(record.meets(&self.slo));
        if record.status == RequestStatus::Completed {
            bucket.completed += 1;
            bucket.ttft.extend(record.ttft_s());
            bucket.tpot.extend(record.tpot_s());
        } else {
            bucket.failed += 1;
        }
    }

    /// Closes the last minute and returns the rows.
    pub fn finish(mut self) -> SloRows {
        if let Some(current) = self.minute {
            self.close(current);
        }
        self.rows
    }

    fn close(&mut self, minute: TimeUs) {
        let bucket = std::mem::take(&mut self.bucket);
        let rows = &mut self.rows;
        rows.time_s.push((minute * MINUTE_US) as f64 / 1e6);
        rows.arrivals.push(bucket.arrivals);
        rows.completed.push(bucket.completed);
        rows.failed.push(bucket.failed);
        rows.met_slo.push(bucket.met);
        let ttft = Stats::of(&bucket.ttft);
        let tpot = Stats::of(&bucket.tpot);
        rows.ttft_p50_s.push(ttft.map(|s| s.p50));
        rows.ttft_p90_s.push(ttft.map(|s| s.p90));
        rows.tpot_p50_s.push(tpot.map(|s| s.p50));
        rows.tpot_p90_s.push(tpot.map(|s| s.p90));
    }
}

/// The table of every run's rows, runs in scenario order.
pub fn slo_timeseries_table<'a>(runs: impl IntoIterator<Item = (&'a str, &'a SloRows)>) -> Table {
    let mut scaler = Vec::new();
    let mut time_s = Vec::new();
    let mut counts: [Vec<Option<u32>>; 4] = Default::default();
    let mut latencies: [Vec<Option<f64>>; 4] = Default::default();
    for (name, rows) in runs {
        scaler.extend(std::iter::repeat_n(name.to_string(), rows.len()));
        time_s.extend(rows.time_s.iter().map(|&t| Some(t)));
        for (column, values) in
            counts
                .iter_mut()
                .zip([&rows.arrivals, &rows.completed, &rows.failed, &rows.met_slo])
        {
            column.extend(values.iter().map(|&v| Some(v)));
        }
        for (column, values) in latencies.iter_mut().zip([
            &rows.ttft_p50_s,
            &rows.ttft_p90_s,
            &rows.tpot_p50_s,
            &rows.tpot_p90_s,
        ]) {
            column.extend_from_slice(values);
        }
    }
    let [arrivals, completed, failed, met_slo] = counts;
    let [ttft_p50, ttft_p90, tpot_p50, tpot_p90] = latencies;
    let column = |name: &'static str, values| Column::new(name, values);
    Table {
        columns: vec![
            column("scaler", Values::Str(scaler)),
            column("time_s", Values::F64(time_s)),
            column("arrivals", Values::U32(arrivals)),
            column("completed", Values::U32(completed)),
            column("failed", Values::U32(failed)),
            column("met_slo", Values::U32(met_slo)),
            column("ttft_p50_s", Values::F64(ttft_p50)),
            column("ttft_p90_s", Values::F64(ttft_p90)),
            column("tpot_p50_s", Values::F64(tpot_p50)),
            column("tpot_p90_s", Values::F64(tpot_p90)),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(arrival_s: f64, ttft_s: f64, status: RequestStatus) -> RequestRecord {
        let arrival_us = (arrival_s * 1e6) as TimeUs;
        let first = arrival_us + (ttft_s * 1e6) as TimeUs;
        RequestRecord {
            arrival_us,
            prompt_tokens: 10,
            output_tokens: 11,
            replica: Some(0),
            first_token_us: Some(first),
            last_token_us: Some(first + 500_000),
            preemptions: 0,
            status,
        }
    }

    #[test]
    fn rows_per_arrival_minute_with_gaps_and_outcomes() {
        let slo = Slo {
            ttft_s: 1.0,
            tpot_s: 0.1,
        };
        let mut series = SloSeries::new(&slo);
        series.observe(&record(5.0, 0.5, RequestStatus::Completed));
        series.observe(&record(59.0, 2.0, RequestStatus::Completed));
        series.observe(&record(59.5, 0.0, RequestStatus::GatewayTimeout));
        // Minute 1 has no arrivals; minute 2 one.
        series.observe(&record(130.0, 0.25, RequestStatus::Completed));
        let rows = series.finish();
        assert_eq!(rows.time_s, [0.0, 60.0, 120.0]);
        assert_eq!(rows.arrivals, [3, 0, 1]);
        assert_eq!(rows.completed, [2, 0, 1]);
        assert_eq!(rows.failed, [1, 0, 0]);
        assert_eq!(rows.met_slo, [1, 0, 1]);
        assert_eq!(rows.ttft_p50_s, [Some(1.25), None, Some(0.25)]);
        assert_eq!(rows.ttft_p90_s[0], Some(0.5 + 0.9 * 1.5));
        assert_eq!(rows.tpot_p50_s, [Some(0.05), None, Some(0.05)]);
        let table = slo_timeseries_table([("a", &rows), ("b", &rows)]);
        assert_eq!(table.rows(), 6);
        assert_eq!(table.columns.len(), 10);
    }

    #[test]
    fn an_empty_run_has_no_rows() {
        let series = SloSeries::new(&Slo::default());
        assert!(series.finish().is_empty());
    }
}
