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

use crate::fleet::{RequestRecord, RequestStatus, RunResult, Slo};

/// A named, typed column (names are fixed, except a sweep's field paths).
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: std::borrow::Cow<'static, str>,
    pub values: Values,
}

impl Column {
    pub fn new(name: impl Into<std::borrow::Cow<'static, str>>, values: Values) -> Column {
        Column {
            name: name.into(),
            values,
        }
    }
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
    Column {
        name: name.into(),
        values,
    }
}

/// The `requests` table of `runs`.
pub fn requests_table<'a>(
    runs: impl IntoIterator<Item = &'a RunResult> + Clone,
    slo: &Slo,
) -> Table {
    let mut rows = RequestRows::default();
    for run in runs {
        for (index, record) in run.requests.iter().enumerate() {
            rows.push(&run.scaler, index as u64, record, slo);
        }
    }
    rows.into_table()
}

/// The `requests` table built row by row (a batch of a streamed table, or all of it).
#[derive(Debug, Clone, Default)]
pub struct RequestRows {
    scaler: Vec<String>,
    index: Vec<Option<i64>>,
    arrival_us: Vec<Option<i64>>,
    prompt_tokens: Vec<Option<u32>>,
    output_tokens: Vec<Option<u32>>,
    replica: Vec<Option<u32>>,
    first_token_us: Vec<Option<i64>>,
    last_token_us: Vec<Option<i64>>,
    ttft_s: Vec<Option<f64>>,
    tpot_s: Vec<Option<f64>>,
    e2e_s: Vec<Option<f64>>,
    status: Vec<String>,
    preemptions: Vec<Option<u32>>,
    met_slo: Vec<bool>,
}

impl RequestRows {
    /// Appends the row of request `index` of `scaler`'s run.
    pub fn push(&mut self, scaler: &str, index: u64, r: &RequestRecord, slo: &Slo) {
        self.scaler.push(scaler.to_string());
        self.index.push(Some(index as i64));
        self.arrival_us.push(Some(r.arrival_us));
        self.prompt_tokens.push(Some(r.prompt_tokens));
        self.output_tokens.push(Some(r.output_tokens));
        self.replica.push(r.replica);
        self.first_token_us.push(r.first_token_us);
        self.last_token_us.push(r.last_token_us);
        self.ttft_s.push(r.ttft_s());
        self.tpot_s.push(r.tpot_s());
        self.e2e_s.push(r.e2e_s());
        self.status.push(status_name(r.status).to_string());
        self.preemptions.push(Some(r.preemptions));
        self.met_slo.push(r.meets(slo));
    }

    pub fn len(&self) -> usize {
        self.scaler.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scaler.is_empty()
    }

    /// The rows as the table's columns, leaving `self` empty.
    pub fn take_table(&mut self) -> Table {
        std::mem::take(self).into_table()
    }

    pub fn into_table(self) -> Table {
        Table {
            columns: vec![
                col("scaler", Values::Str(self.scaler)),
                col("index", Values::I64(self.index)),
                col("arrival_us", Values::I64(self.arrival_us)),
                col("prompt_tokens", Values::U32(self.prompt_tokens)),
                col("output_tokens", Values::U32(self.output_tokens)),
                col("replica", Values::U32(self.replica)),
                col("first_token_us", Values::I64(self.first_token_us)),
                col("last_token_us", Values::I64(self.last_token_us)),
                col("ttft_s", Values::F64(self.ttft_s)),
                col("tpot_s", Values::F64(self.tpot_s)),
                col("e2e_s", Values::F64(self.e2e_s)),
                col("status", Values::Str(self.status)),
                col("preemptions", Values::U32(self.preemptions)),
                col("met_slo", Values::Bool(self.met_slo)),
            ],
        }
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
