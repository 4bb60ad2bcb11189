//! Replaying a recorded real vLLM run and comparing the simulator with it.
//!
//! Replay: one replica per data-parallel rank (one without data parallelism, behind
//! vLLM's own balancer otherwise) with the recording's engine arguments and
//! parallelism ([`Parallelism`]); each request arrives at
//! its `queued_ts` (relative to the first) with its recorded prompt and output lengths.
//! The GPU and model come from the recording's `meta.json` or from the caller. KV
//! capacity is the recording's `num_gpu_blocks` when present (a user knows it: vLLM
//! logs it at start-up as "# GPU blocks"), otherwise the estimate of
//! [`crate::perf::kv_capacity_blocks`]. Nothing is fitted to the recording.

use crate::catalog::{Catalog, CatalogError};
use crate::metrics::percentile_sorted;
use crate::perf::{Parallelism, StepCostModel, kv_capacity_blocks};
use crate::replica::{Replica, ServingConfig, StepMode};
use crate::sim::{Routing, SimConfig, SimOutput, Simulation};
use serde::Serialize;
use traces::request::Request;
use traces::vllm_recording::Recording;

/// Why a recording cannot be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error("{what}: meta.json does not name it; pass {flag}")]
    Missing {
        what: &'static str,
        flag: &'static str,
    },
    #[error("the recording has no requests")]
    Empty,
    #[error(transparent)]
    Profile(#[from] crate::perf::profile::ProfileError),
}

/// Choices a user makes when the recording does not say.
#[derive(Debug, Clone, Default)]
pub struct ValidateOptions {
    /// GPU catalog name; overrides `meta.json`'s device name.
    pub gpu: Option<String>,
    /// Model catalog name; overrides `meta.json`'s model.
    pub model: Option<String>,
    /// Overrides `meta.json`'s tensor-parallel size.
    pub tensor_parallel: Option<u32>,
    /// Overrides `meta.json`'s data-parallel size (engine ranks, each a replica).
    pub data_parallel: Option<u32>,
    /// Overrides `meta.json`'s `enable_expert_parallel`.
    pub expert_parallel: Option<bool>,
    /// Ignore a recorded `num_gpu_blocks` and estimate capacity from the catalog.
    pub estimate_kv_blocks: bool,
    /// Step one engine step per event (slow reference) instead of the fast path.
    pub reference_mode: bool,
    /// An operator profile folder (`meta.yaml` and `tp<N>/`): step times from it
    /// instead of the roofline.
    pub profile: Option<std::path::PathBuf>,
    /// A tree of operator profiles: the one of the recording's GPU and model is found
    /// in it ([`crate::perf::profile::find`]) when `profile` is not given.
    pub profile_root: Option<std::path::PathBuf>,
}

/// A real value, the simulated one and the relative error `(sim - real) / real` in percent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Comparison {
    pub real: f64,
    pub sim: f64,
    pub error_pct: f64,
}

impl Comparison {
    fn new(real: f64, sim: f64) -> Self {
        let error_pct = if real == 0.0 {
            if sim == 0.0 { 0.0 } else { f64::INFINITY }
        } else {
            (sim - real) / real * 100.0
        };
        Self {
            real: round6(real),
            sim: round6(sim),
            error_pct: round6(error_pct),
        }
    }
}

fn round6(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

/// The latency metrics of the contract, in its order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub ttft_mean_s: Comparison,
    pub ttft_p50_s: Comparison,
    pub ttft_p90_s: Comparison,
    pub tpot_mean_s: Comparison,
    pub tpot_p50_s: Comparison,
    pub tpot_p90_s: Comparison,
    pub e2e_mean_s: Comparison,
    pub e2e_p90_s: Comparison,
}

impl Metrics {
    /// `(name, comparison)` pairs in contract order.
    pub fn entries(&self) -> [(&'static str, Comparison); 8] {
        [
            ("ttft_mean_s", self.ttft_mean_s),
            ("ttft_p50_s", self.ttft_p50_s),
            ("ttft_p90_s", self.ttft_p90_s),
            ("tpot_mean_s", self.tpot_mean_s),
            ("tpot_p50_s", self.tpot_p50_s),
            ("tpot_p90_s", self.tpot_p90_s),
            ("e2e_mean_s", self.e2e_mean_s),
            ("e2e_p90_s", self.e2e_p90_s),
        ]
    }
}

/// Mean absolute errors of the per-second series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SeriesErrors {
    pub running_mae: f64,
    pub waiting_mae: f64,
    pub kv_cache_pct_mae: f64,
}

/// How the replica was set up, so a reader sees what was assumed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Setup {
    pub gpu: String,
    pub model: String,
    pub tensor_parallel: u32,
    /// Engine ranks replayed, each a replica (`data_parallel_size`).
    pub data_parallel: u32,
    /// `enable_expert_parallel`: an MoE model's experts split between the GPUs.
    pub expert_parallel: bool,
    /// KV blocks per rank.
    pub kv_blocks: u64,
    /// `"recorded"` (meta.json's num_gpu_blocks) or `"estimated"` (catalog).
    pub kv_blocks_source: &'static str,
    /// The catalog estimate, for comparison with the recorded value.
    pub kv_blocks_estimated: u64,
    /// `roofline` or `profile`: the step model the replica ran.
    pub step_model: String,
    /// With a profile: its folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// With a profile: the attention fit's mean and p90 relative error against the
    /// profile's own rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_fit: Option<crate::perf::profile::FitReport>,
    pub max_num_seqs: u32,
    pub max_num_batched_tokens: u32,
    pub block_size: u32,
    pub enable_prefix_caching: bool,
    pub sim_preemptions: u64,
    pub sim_prefill_tokens: u64,
    pub sim_reused_tokens: u64,
    pub sim_steps: u64,
    pub sim_events: u64,
}

/// The `validate-recording --format json` document (CONTRACTS.md), plus `setup`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationReport {
    pub recording: String,
    pub requests: usize,
    pub metrics: Metrics,
    pub timeseries: SeriesErrors,
    pub setup: Setup,
}

impl ValidationReport {
    /// The largest absolute latency error, percent.
    pub fn worst_error_pct(&self) -> f64 {
        self.metrics
            .entries()
            .iter()
            .map(|(_, comparison)| comparison.error_pct.abs())
            .fold(0.0, f64::max)
    }
}

/// Replays `recording` (named `name` in the report) and compares.
pub fn validate(
    recording: &Recording,
    name: &str,
    catalog: &Catalog,
    options: &ValidateOptions,
) -> Result<(ValidationReport, SimOutput), ValidateError> {
    if recording.requests.is_empty() {
        return Err(ValidateError::Empty);
    }
    let meta = &recording.meta;
    let gpu_name = options
        .gpu
        .clone()
        .or_else(|| meta.gpu_name.clone())
        .ok_or(ValidateError::Missing {
            what: "GPU",
            flag: "--gpu",
        })?;
    let model_name = options
        .model
        .clone()
        .or_else(|| (!meta.model.is_empty()).then(|| meta.model.clone()))
        .ok_or(ValidateError::Missing {
            what: "model",
            flag: "--model",
        })?;
    let gpu = catalog.gpu(&gpu_name)?;
    let model = catalog.model(&model_name)?;
    let tensor_parallel = options
        .tensor_parallel
        .unwrap_or(meta.tensor_parallel)
        .max(1);
    let data_parallel = options.data_parallel.unwrap_or(meta.data_parallel).max(1);
    let parallelism = Parallelism {
        tensor: tensor_parallel,
        data: data_parallel,
        expert: options.expert_parallel.unwrap_or(meta.expert_parallel),
    };
    let estimated = kv_capacity_blocks(
        gpu,
        model,
        parallelism,
        meta.gpu_memory_utilization,
        meta.block_size,
    );
    let (kv_blocks, kv_blocks_source) = match meta.num_gpu_blocks_per_rank() {
        Some(blocks) if !options.estimate_kv_blocks => (blocks, "recorded"),
        _ => (estimated, "estimated"),
    };
    let engine = ServingConfig {
        max_num_seqs: meta.max_num_seqs,
        max_num_batched_tokens: meta.max_num_batched_tokens,
        block_size: meta.block_size,
        num_gpu_blocks: kv_blocks,
        enable_prefix_caching: meta.enable_prefix_caching,
        prefix_block_tokens: 0,
        reserve_full_sequence: reserve_full_sequence(&meta.raw),
        watermark_blocks: 0,
    };
    let profile_dir = match (&options.profile, &options.profile_root) {
        (Some(dir), _) => Some(dir.clone()),
        (None, Some(root)) => Some(crate::perf::profile::find(
            root,
            catalog,
            gpu,
            model,
            &meta.dtype,
        )?),
        (None, None) => None,
    };
    let (cost, profile_fit): (
        crate::perf::SharedStepModel,
        Option<crate::perf::profile::FitReport>,
    ) = match &profile_dir {
        Some(dir) => {
            let profile = crate::perf::profile::ProfileModel::load(
                dir,
                gpu,
                model,
                parallelism,
                &catalog.defaults,
            )?;
            let fit = profile.fit_report();
            (std::sync::Arc::new(profile), Some(fit))
        }
        None => (
            std::sync::Arc::new(StepCostModel::new(
                gpu,
                model,
                &catalog.defaults,
                parallelism,
            )),
            None,
        ),
    };
    let step_model = cost.name().to_string();
    let mode = if options.reference_mode {
        StepMode::Reference
    } else {
        StepMode::Fast
    };
    // Data parallelism: each rank is an engine with its own scheduler and KV cache,
    // behind vLLM's own balancer (lowest 4 × waiting + running, ties to the first
    // rank), read here at the instant of arrival where vLLM's front end reads counts
    // its coordinator publishes every 100 ms plus what it has routed since.
    let replicas: Vec<Replica> = (0..data_parallel)
        .map(|_| Replica::new(engine.clone(), cost.clone(), mode))
        .collect();
    let requests = replay_requests(recording);
    let mut simulation = Simulation::new(
        replicas,
        SimConfig {
            routing: Routing::VllmDataParallel,
            sample_interval_us: Some(1_000_000),
            check_invariants: false,
        },
    );
    let output = simulation.run(&requests);

    let real_ttft: Vec<f64> = recording
        .requests
        .iter()
        .map(|request| request.ttft_s())
        .collect();
    let real_tpot: Vec<f64> = recording
        .requests
        .iter()
        .filter_map(|request| request.tpot_s())
        .collect();
    let real_e2e: Vec<f64> = recording
        .requests
        .iter()
        .map(|request| request.e2e_s())
        .collect();
    let sim_ttft: Vec<f64> = output
        .requests
        .iter()
        .filter_map(|outcome| outcome.ttft_s())
        .collect();
    let sim_tpot: Vec<f64> = output
        .requests
        .iter()
        .filter_map(|outcome| outcome.tpot_s())
        .collect();
    let sim_e2e: Vec<f64> = output
        .requests
        .iter()
        .filter_map(|outcome| outcome.e2e_s())
        .collect();
    let compare =
        |real: &[f64], sim: &[f64], stat: Stat| Comparison::new(stat.of(real), stat.of(sim));
    let metrics = Metrics {
        ttft_mean_s: compare(&real_ttft, &sim_ttft, Stat::Mean),
        ttft_p50_s: compare(&real_ttft, &sim_ttft, Stat::Percentile(50.0)),
        ttft_p90_s: compare(&real_ttft, &sim_ttft, Stat::Percentile(90.0)),
        tpot_mean_s: compare(&real_tpot, &sim_tpot, Stat::Mean),
        tpot_p50_s: compare(&real_tpot, &sim_tpot, Stat::Percentile(50.0)),
        tpot_p90_s: compare(&real_tpot, &sim_tpot, Stat::Percentile(90.0)),
        e2e_mean_s: compare(&real_e2e, &sim_e2e, Stat::Mean),
        e2e_p90_s: compare(&real_e2e, &sim_e2e, Stat::Percentile(90.0)),
    };
    let timeseries = series_errors(recording, &output);
    let report = ValidationReport {
        recording: name.to_string(),
        requests: recording.requests.len(),
        metrics,
        timeseries,
        setup: Setup {
            gpu: gpu.id.clone(),
            model: model.id.clone(),
            tensor_parallel,
            data_parallel,
            expert_parallel: parallelism.expert,
            kv_blocks,
            kv_blocks_source,
            kv_blocks_estimated: estimated,
            step_model,
            profile: profile_dir.map(|dir| dir.display().to_string()),
            profile_fit,
            max_num_seqs: engine.max_num_seqs,
            max_num_batched_tokens: engine.max_num_batched_tokens,
            block_size: engine.block_size,
            enable_prefix_caching: engine.enable_prefix_caching,
            sim_preemptions: output.preemptions,
            sim_prefill_tokens: simulation
                .replicas()
                .iter()
                .map(Replica::prefill_tokens)
                .sum(),
            sim_reused_tokens: simulation
                .replicas()
                .iter()
                .map(Replica::reused_tokens)
                .sum(),
            sim_steps: output.steps,
            sim_events: output.events,
        },
    };
    Ok((report, output))
}

/// The recording's requests as a trace: arrival at `queued_ts` relative to the first.
pub fn replay_requests(recording: &Recording) -> Vec<Request> {
    let origin = recording
        .requests
        .iter()
        .map(|request| request.queued_s)
        .fold(f64::INFINITY, f64::min);
    recording
        .requests
        .iter()
        .map(|recorded| Request {
            arrival_us: ((recorded.queued_s - origin) * 1e6).round() as i64,
            ..recorded.request.clone()
        })
        .collect()
}

/// vLLM's `scheduler_reserve_full_isl` from the resolved config; recent vLLM defaults it on.
fn reserve_full_sequence(raw: &serde_json::Value) -> bool {
    raw.pointer("/resolved_config/scheduler_config/scheduler_reserve_full_isl")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(true)
}

#[derive(Clone, Copy)]
enum Stat {
    Mean,
    Percentile(f64),
}

impl Stat {
    fn of(self, values: &[f64]) -> f64 {
        if values.is_empty() {
            return f64::NAN;
        }
        match self {
            Stat::Mean => values.iter().sum::<f64>() / values.len() as f64,
            Stat::Percentile(p) => {
                let mut sorted = values.to_vec();
                sorted.sort_by(f64::total_cmp);
                percentile_sorted(&sorted, p)
            }
        }
    }
}

/// Mean absolute error of running, waiting and KV % at the recording's sample times,
/// read as `t` seconds after the first request entered the queue (the recorder's clock
/// starts about 0.1 s earlier, a tenth of its sampling period); a sample after the
/// simulation ended compares with an idle replica.
fn series_errors(recording: &Recording, output: &SimOutput) -> SeriesErrors {
    let mut sums = (0.0, 0.0, 0.0);
    let mut count = 0usize;
    for real in &recording.timeseries {
        let time_us = (real.t_s * 1e6).round() as i64;
        let sim = output
            .samples
            .iter()
            .rev()
            .find(|sample| sample.time_us <= time_us);
        let (running, waiting, kv) = match sim {
            Some(sample) if sample.time_us == time_us => (
                f64::from(sample.running),
                f64::from(sample.waiting),
                sample.kv_cache_pct,
            ),
            _ => (0.0, 0.0, 0.0),
        };
        sums.0 += (running - f64::from(real.running)).abs();
        sums.1 += (waiting - f64::from(real.waiting)).abs();
        sums.2 += (kv - real.kv_cache_pct).abs();
        count += 1;
    }
    let mean = |sum: f64| {
        if count == 0 {
            0.0
        } else {
            round6(sum / count as f64)
        }
    };
    SeriesErrors {
        running_mae: mean(sums.0),
        waiting_mae: mean(sums.1),
        kv_cache_pct_mae: mean(sums.2),
    }
}
