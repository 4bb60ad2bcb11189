//! The two tables of a run folder, as typed columns in a fixed order, so the Parquet
//! and the CSV writer produce the same columns from one definition.
//!
//! `requests`: one row per request per scaler (scalers in scenario order, requests in
//! trace order): `scaler, index, arrival_us, prompt_tokens, output_tokens, replica,
//! first_token_us, last_token_us, ttft_s, tpot_s, e2e_s, status, preemptions, met_slo`.
//! `status` is `completed`, `gateway_timeout`, `rejected`, `cut_by_drain` or
//! `lost_to_spot`; missing values (a request never routed or never finished) are null
//! (empty in CSV).
//!
//! `timeseries`: one row per scaler per engine tick: `scaler, time_s, desired, ready,
//! starting, draining, gateway_queue, waiting, running, kv_cache_pct,
//! arrival_rate_rps, cost_usd`.

use crate::fleet::{RequestStatus, RunResult, Slo};

/// A named, typed column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: &'static str,
    pub values: Values,
}

/// The values of a column; `None` is null.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Str(Vec<String>),
    I64(Vec<Option<i64>>),
    U32(Vec<Option<u32>>),
    F64(Vec<Option<f64>>),
    Bool(Vec<bool>),
}

impl Values {
    pub fn len(&self) -> usize {
        match self {
            Values::Str(v) => v.len(),
            Values::I64(v) => v.len(),
            Values::U32(v) => v.len(),
            Values::F64(v) => v.len(),
            Values::Bool(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Columns of equal length.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
}

impl Table {
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.values.len())
    }
}

/// The file name of a request status.
pub fn status_name(status: RequestStatus) -> &'static str {
    match status {
        RequestStatus::Completed => "completed",
        RequestStatus::GatewayTimeout => "gateway_timeout",
        RequestStatus::Rejected => "rejected",
        RequestStatus::CutByDrain => "cut_by_drain",
        RequestStatus::LostToSpot => "lost_to_spot",
    }
}

fn col(name: &'static str, values: Values) -> Column {
    Column { name, values }
}

/// The `requests` table of `runs`.
pub fn requests_table<'a>(
    runs: impl IntoIterator<Item = &'a RunResult> + Clone,
    slo: &Slo,
) -> Table {
    let rows = || runs.clone().into_iter().flat_map(|run| run.requests.iter());
    let mut scaler = Vec::new();
    let mut index = Vec::new();
    for run in runs.clone() {
        for i in 0..run.requests.len() {
            scaler.push(run.scaler.clone());
            index.push(Some(i as i64));
        }
    }
    Table {
        columns: vec![
            col("scaler", Values::Str(scaler)),
            col("index", Values::I64(index)),
            col(
                "arrival_us",
                Values::I64(rows().map(|r| Some(r.arrival_us)).collect()),
            ),
            col(
                "prompt_tokens",
                Values::U32(rows().map(|r| Some(r.prompt_tokens)).collect()),
            ),
            col(
                "output_tokens",
                Values::U32(rows().map(|r| Some(r.output_tokens)).collect()),
            ),
            col("replica", Values::U32(rows().map(|r| r.replica).collect())),
            col(
                "first_token_us",
                Values::I64(rows().map(|r| r.first_token_us).collect()),
            ),
            col(
                "last_token_us",
                Values::I64(rows().map(|r| r.last_token_us).collect()),
            ),
            col("ttft_s", Values::F64(rows().map(|r| r.ttft_s()).collect())),
            col("tpot_s", Values::F64(rows().map(|r| r.tpot_s()).collect())),
            col("e2e_s", Values::F64(rows().map(|r| r.e2e_s()).collect())),
            col(
                "status",
                Values::Str(rows().map(|r| status_name(r.status).to_string()).collect()),
            ),
            col(
                "preemptions",
                Values::U32(rows().map(|r| Some(r.preemptions)).collect()),
            ),
            col(
                "met_slo",
                Values::Bool(rows().map(|r| r.meets(slo)).collect()),
            ),
        ],
    }
}

/// The `timeseries` table of `runs`.
pub fn timeseries_table<'a>(runs: impl IntoIterator<Item = &'a RunResult> + Clone) -> Table {
    let mut scaler = Vec::new();
    for run in runs.clone() {
        scaler.extend(std::iter::repeat_n(run.scaler.clone(), run.ticks.len()));
    }
    let ticks = || runs.clone().into_iter().flat_map(|run| run.ticks.iter());
    let u32s = |f: fn(&crate::fleet::TickRecord) -> u32| {
        Values::U32(ticks().map(|t| Some(f(t))).collect())
    };
    let f64s = |f: fn(&crate::fleet::TickRecord) -> f64| {
        Values::F64(ticks().map(|t| Some(f(t))).collect())
    };
    Table {
        columns: vec![
            col("scaler", Values::Str(scaler)),
            col("time_s", f64s(|t| t.time_us as f64 / 1e6)),
            col("desired", u32s(|t| t.desired)),
            col("ready", u32s(|t| t.ready)),
            col("starting", u32s(|t| t.starting)),
            col("draining", u32s(|t| t.draining)),
            col("gateway_queue", u32s(|t| t.gateway_queue)),
            col("waiting", u32s(|t| t.waiting)),
            col("running", u32s(|t| t.running)),
            col("kv_cache_pct", f64s(|t| t.kv_cache_pct)),
            col("arrival_rate_rps", f64s(|t| t.arrival_rate_rps)),
            col("cost_usd", f64s(|t| t.cost_usd)),
        ],
    }
}
