//! `summary.json`: one object per scenario run, the fields of CONTRACTS.md in their
//! order, then this project's additions.
//!
//! Definitions:
//! - `slo_attainment`: the share of the trace's requests that completed and met both
//!   targets: TTFT ≤ `slo.ttft_s` and TPOT ≤ `slo.tpot_s`. A request that never
//!   completed (gateway timeout, rejected, cut by a drain, lost to spot) fails. A
//!   one-token request has no TPOT and only needs its TTFT.
//! - `ttft_s`, `tpot_s`, `e2e_s`: mean and percentiles (linear interpolation, NumPy's
//!   default) over completed requests; `tpot_s` over those with two or more output
//!   tokens. `null` when there is no such request.
//! - `gpu_hours_vs_oracle`: the run's GPU-hours over the scenario's oracle run's (the
//!   first run of strategy `Oracle`); `null` without an oracle run, or when the oracle
//!   used no GPU.
//!
//! Past 10 million requests per run the percentiles come from a log-bucket histogram
//! (within 0.1%, see [`super::latency`]); below that they are exact.
//!
//! [`RequestStats`] gathers a run's request figures one record at a time, so a streamed
//! run is summarized without keeping its records.
//!
//! Additions: `slo` (the targets), per run `failed` (requests by final status other
//! than completed), `decisions` (engine decisions taken) and `note` (only when there
//! is a remark, e.g. an oracle that missed its target).

use super::latency::Latencies;
use crate::fleet::{RequestRecord, RequestSink, RequestStatus, RunResult, SinkError, Slo};
use crate::metrics::Summary as Stats;
use crate::scenario::ScalerRun;
use serde::{Deserialize, Serialize};

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub scenario: String,
    pub seed: u64,
    pub trace_requests: u64,
    pub runs: Vec<RunSummary>,
    /// Wall-clock seconds of the whole command (the only field that varies between
    /// identical runs).
    pub wall_s: f64,
    pub slo: Slo,
}

/// One scaler's run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub scaler: String,
    pub strategy: String,
    pub requests: u64,
    pub completed: u64,
    pub slo_attainment: f64,
    pub ttft_s: Option<Latency>,
    pub tpot_s: Option<Latency>,
    pub e2e_s: Option<Latency>,
    pub gpu_hours: f64,
    pub cost_usd: f64,
    pub scale_events: u32,
    pub peak_replicas: u32,
    pub mean_replicas: f64,
    pub gpu_hours_vs_oracle: Option<f64>,
    pub failed: Failed,
    pub decisions: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Mean and percentiles, seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
}

/// Requests that did not complete, by why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Failed {
    pub gateway_timeout: u64,
    pub rejected: u64,
    pub cut_by_drain: u64,
    pub lost_to_spot: u64,
}

impl From<Stats> for Latency {
    fn from(stats: Stats) -> Latency {
        Latency {
            mean: stats.mean,
            p50: stats.p50,
            p90: stats.p90,
            p99: stats.p99,
        }
    }
}

impl Summary {
    /// The summary of `runs` of scenario `name`; `wall_s` is measured by the caller.
    pub fn of(
        name: &str,
        seed: u64,
        trace_requests: usize,
        slo: &Slo,
        runs: &[ScalerRun],
        wall_s: f64,
    ) -> Summary {
        let runs = runs
            .iter()
            .map(|run| RunSummary::of(&run.result, slo, run.note.clone()))
            .collect();
        Summary::of_summaries(name, seed, trace_requests as u64, slo, runs, wall_s)
    }

    /// The summary of runs already summarized (streamed runs).
    pub fn of_summaries(
        name: &str,
        seed: u64,
        trace_requests: u64,
        slo: &Slo,
        mut runs: Vec<RunSummary>,
        wall_s: f64,
    ) -> Summary {
        let oracle = runs
            .iter()
            .find(|run| run.strategy == crate::oracle::STRATEGY)
            .map(|run| run.gpu_hours)
            .filter(|&gpu_hours| gpu_hours > 0.0);
        for run in &mut runs {
            run.gpu_hours_vs_oracle = oracle.map(|oracle| run.gpu_hours / oracle);
        }
        Summary {
            scenario: name.to_string(),
            seed,
            trace_requests,
            runs,
            wall_s,
            slo: *slo,
        }
    }
}

/// A run's request figures, gathered one final record at a time.
#[derive(Debug, Clone)]
pub struct RequestStats {
    slo: Slo,
    requests: u64,
    completed: u64,
    met: u64,
    failed: Failed,
    ttft: Latencies,
    tpot: Latencies,
    e2e: Latencies,
}

impl RequestStats {
    pub fn new(slo: &Slo) -> RequestStats {
        RequestStats {
            slo: *slo,
            requests: 0,
            completed: 0,
            met: 0,
            failed: Failed::default(),
            ttft: Latencies::new(),
            tpot: Latencies::new(),
            e2e: Latencies::new(),
        }
    }

    /// Counts one request with its final status.
    pub fn observe(&mut self, record: &RequestRecord) {
        self.requests += 1;
        self.met += u64::from(record.meets(&self.slo));
        match record.status {
            RequestStatus::Completed => {
                self.completed += 1;
                let latencies = [
                    (record.ttft_s(), &mut self.ttft),
                    (record.tpot_s(), &mut self.tpot),
                    (record.e2e_s(), &mut self.e2e),
                ];
                for (value, sample) in latencies {
                    if let Some(value) = value {
                        sample.push(value);
                    }
                }
            }
            RequestStatus::GatewayTimeout => self.failed.gateway_timeout += 1,
            RequestStatus::Rejected => self.failed.rejected += 1,
            RequestStatus::CutByDrain => self.failed.cut_by_drain += 1,
            RequestStatus::LostToSpot => self.failed.lost_to_spot += 1,
        }
    }

    /// Requests observed.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// The latency samples of completed requests: TTFT, TPOT and end to end.
    pub fn latencies(&self) -> [&Latencies; 3] {
        [&self.ttft, &self.tpot, &self.e2e]
    }
}

impl RequestSink for RequestStats {
    fn accept(&mut self, _index: u32, record: RequestRecord) -> Result<(), SinkError> {
        self.observe(&record);
        Ok(())
    }
}

impl RunSummary {
    /// The summary of one run against `slo`.
    pub fn of(result: &RunResult, slo: &Slo, note: Option<String>) -> RunSummary {
        let mut stats = RequestStats::new(slo);
        for record in &result.requests {
            stats.observe(record);
        }
        RunSummary::of_stats(result, &stats, note)
    }

    /// The summary of a run whose records went into `stats` (`result.requests` is not
    /// read).
    pub fn of_stats(result: &RunResult, stats: &RequestStats, note: Option<String>) -> RunSummary {
        let total = stats.requests;
        let latency = |sample: &Latencies| sample.summary().map(Latency::from);
        RunSummary {
            scaler: result.scaler.clone(),
            strategy: result.strategy.clone(),
            requests: total,
            completed: stats.completed,
            slo_attainment: if total == 0 {
                0.0
            } else {
                stats.met as f64 / total as f64
            },
            ttft_s: latency(&stats.ttft),
            tpot_s: latency(&stats.tpot),
            e2e_s: latency(&stats.e2e),
            gpu_hours: result.gpu_hours,
            cost_usd: result.cost_usd,
            scale_events: result.scale_events,
            peak_replicas: result.peak_replicas,
            mean_replicas: result.mean_replicas,
            gpu_hours_vs_oracle: None,
            failed: stats.failed,
            decisions: result.decisions.len() as u64,
            note,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(strategy: &str, gpu_hours: f64) -> RunSummary {
        let result = RunResult {
            scaler: strategy.to_lowercase(),
            strategy: strategy.into(),
            requests: Vec::new(),
            ticks: Vec::new(),
            decisions: Vec::new(),
            observations: Vec::new(),
            status: None,
            gpu_hours,
            cost_usd: 0.0,
            scale_events: 0,
            peak_replicas: 1,
            mean_replicas: 1.0,
            end_us: 0,
        };
        RunSummary::of(&result, &Slo::default(), None)
    }

    fn ratios(runs: Vec<RunSummary>) -> Vec<Option<f64>> {
        Summary::of_summaries("s", 1, 0, &Slo::default(), runs, 0.0)
            .runs
            .iter()
            .map(|run| run.gpu_hours_vs_oracle)
            .collect()
    }

    #[test]
    fn gpu_hours_vs_oracle_divides_by_the_oracle_run() {
        let runs = vec![run("HPA", 3.0), run("Oracle", 2.0), run("Static", 4.0)];
        assert_eq!(ratios(runs), vec![Some(1.5), Some(1.0), Some(2.0)]);
    }

    #[test]
    fn gpu_hours_vs_oracle_is_null_without_an_oracle() {
        assert_eq!(ratios(vec![run("HPA", 3.0)]), vec![None]);
        assert_eq!(
            ratios(vec![run("HPA", 3.0), run("Oracle", 0.0)]),
            vec![None, None]
        );
        let json = serde_json::to_string(&run("HPA", 3.0)).unwrap();
        assert!(json.contains("\"gpu_hours_vs_oracle\":null"), "{json}");
    }
}
