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
//!
//! Additions: `slo` (the targets), per run `failed` (requests by final status other
//! than completed), `decisions` (engine decisions taken) and `note` (only when there
//! is a remark, e.g. an oracle that missed its target).

use crate::fleet::{RequestStatus, RunResult, Slo};
use crate::metrics::Summary as Stats;
use crate::scenario::ScalerRun;
use serde::Serialize;

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    pub failed: Failed,
    pub decisions: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Mean and percentiles, seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Latency {
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
}

/// Requests that did not complete, by why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
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
        Summary {
            scenario: name.to_string(),
            seed,
            trace_requests: trace_requests as u64,
            runs: runs
                .iter()
                .map(|run| RunSummary::of(&run.result, slo, run.note.clone()))
                .collect(),
            wall_s,
            slo: *slo,
        }
    }
}

impl RunSummary {
    /// The summary of one run against `slo`.
    pub fn of(result: &RunResult, slo: &Slo, note: Option<String>) -> RunSummary {
        let completed: Vec<_> = result
            .requests
            .iter()
            .filter(|r| r.status == RequestStatus::Completed)
            .collect();
        let met = result.requests.iter().filter(|r| r.meets(slo)).count();
        let stats = |values: Vec<f64>| Stats::of(&values).map(Latency::from);
        let mut failed = Failed::default();
        for request in &result.requests {
            match request.status {
                RequestStatus::Completed => {}
                RequestStatus::GatewayTimeout => failed.gateway_timeout += 1,
                RequestStatus::Rejected => failed.rejected += 1,
                RequestStatus::CutByDrain => failed.cut_by_drain += 1,
                RequestStatus::LostToSpot => failed.lost_to_spot += 1,
            }
        }
        let total = result.requests.len();
        RunSummary {
            scaler: result.scaler.clone(),
            strategy: result.strategy.clone(),
            requests: total as u64,
            completed: completed.len() as u64,
            slo_attainment: if total == 0 {
                0.0
            } else {
                met as f64 / total as f64
            },
            ttft_s: stats(completed.iter().filter_map(|r| r.ttft_s()).collect()),
            tpot_s: stats(completed.iter().filter_map(|r| r.tpot_s()).collect()),
            e2e_s: stats(completed.iter().filter_map(|r| r.e2e_s()).collect()),
            gpu_hours: result.gpu_hours,
            cost_usd: result.cost_usd,
            scale_events: result.scale_events,
            peak_replicas: result.peak_replicas,
            mean_replicas: result.mean_replicas,
            failed,
            decisions: result.decisions.len() as u64,
            note,
        }
    }
}
