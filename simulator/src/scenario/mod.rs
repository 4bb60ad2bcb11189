//! Scenarios: one YAML file naming a trace, a fleet, latency objectives and the scalers to
//! compare on them (the contract is in CONTRACTS.md, "Scenario YAML").
//!
//! [`load`] reads and checks the whole file up front, so a typo fails in milliseconds
//! with its file, line and field, not after an hour of simulation. Paths in the file are
//! relative to the file. [`Scenario::requests`] then reads the trace, and [`run`] replays
//! it once per scaler; [`Scenario::request_stream`] and [`run_streamed`] do the same in
//! memory bounded by the requests in flight, whatever the trace's length.
//!
//! # Extensions to the contract
//!
//! ```yaml
//! description: free text
//! trace:
//!   # exactly one of path / generate / series
//!   generate: { pattern: diurnal, duration: 1h, rate: 3, seed: 7, tokens: azure-conv,
//!               period: 1h, amplitude: 0.6 }  # the knobs of `budscaler trace generate`;
//!                                             # seed defaults to the scenario seed
//!   series: recording/timeseries.csv   # a recorded metric series (vLLM timeseries.csv,
//!   mode: closed_loop                  # .jsonl scrapes or a .prom folder); closed_loop
//!                                      # (default) rebuilds requests from its counters,
//!                                      # open_loop feeds the recording to the scalers
//!   demand: { mean_prompt_tokens: 600, prompt_sigma: 0.9, output_sigma: 0.9,
//!             engine: vllm, counters_zero_at: 0 }  # closed loop only
//!   columns: "arrival=ts:s,prompt=in,output=out"   # generic files, as `trace convert`
//!   sort: false              # accept out-of-order rows by sorting
//!   window: { from: 10m, to: 40m }   # in the trace's own time, rebased to 0; applied
//!                                    # before rate_scale/time_scale
//!   max_requests: 5000       # the first N requests after windowing and scaling
//!   start: "2026-06-01T00:00:00Z"   # optional: calendar time of the trace's first instant,
//!                    # for traces without absolute times (cron hints, seasons); a trace
//!                    # file with absolute times (Azure, vLLM recordings, epoch/datetime
//!                    # columns) supplies its own when absent. Observations carry
//!                    # wall_clock = start + trace.window.from + now. Required when a
//!                    # BudScaler or HPA manifest has scheduleHints, or BudScaler's
//!                    # predictionConfig.enabled.
//! fleet:
//!   spot_price_per_gpu_hour: 1.5
//!   pricing: { provider: aws, instance: p5.48xlarge, spot: true }  # spot: true puts the
//!            # fleet on spot (fleet.spot defaults apply) billed at the table's spot price
//!   routing: least_outstanding       # round_robin | least_outstanding | kv_aware | vllm_data_parallel
//!   engine: { max_num_seqs: 256, max_num_batched_tokens: 8192, gpu_memory_utilization: 0.9,
//!             block_size: 16, enable_prefix_caching: true, prefix_block_tokens: 512,
//!             reserve_full_sequence: false, num_gpu_blocks: 2588 }
//!   lifecycle: { node_provisioning: { min: 80s, max: 120s }, image_pull: 60s,
//!                engine_init: 30s, weight_load_gb_per_s: { min: 0.2, max: 3 },
//!                free_nodes: 0, warm_node_ttl: 10m }
//!   spot: { share: 0.5, interruptions_per_hour: 0.05, notice: 2m }
//!   gateway_timeout: 60s
//!   drain_grace: 30s
//!   scrape_interval: 15s     # default: 15 s or the engine tick when shorter
//!   scrape_delay: 0s
//!   sync_period: 15s         # default: per strategy (HPA 15 s, KPA 2 s)
//!   max_replicas_hard: 1000
//!   power: { idle_watts: 90, max_watts: 700 }
//! gpu_catalog: my-gpus.yaml  # extra catalog entries (the built-in catalog's shape)
//! model_catalog: my-models.yaml
//! scalers:
//!   - static: { replicas: 4, name: static-4 }  # name: to tell several apart
//!   - oracle: { name: oracle, attainment: 0.99, window: 60s, max_iterations: 6 }
//!   - file: imports/keda.yaml   # a BudAIScaler, or an autoscaling/v2 HPA, a KEDA
//!                               # ScaledObject or a Knative Service, imported
//!                               # (engine::import); named by its metadata.name
//! ```
//!
//! Without `price_per_gpu_hour` or `pricing`, the GPU catalog's price is used.
//! `seed` defaults to 42; `budscaler simulate --seed` overrides it (and with it the
//! generated trace, unless `generate.seed` is written).

mod error;
mod file;
mod observations;
pub mod pricing;
mod resolve;
mod run;
mod trace;

pub use error::{At, ScenarioError};
pub use file::TraceMode;
pub use observations::{
    ObservationScenario, load_observation_scenario, parse_observation_scenario,
};
pub use resolve::{DEFAULT_SEED, load, parse};
pub use run::{ScalerRun, run, run_one, run_streamed};
pub use trace::RequestStream;

use crate::catalog::Catalog;
use crate::fleet::{FleetConfig, Slo};
use engine::spec::BudAIScaler;
use std::path::PathBuf;
use traces::generate::GenerateConfig;
use traces::metrics::demand::DeriveOptions;
use traces::{ReadOptions, Request};

/// A checked scenario: everything resolved, paths absolute, prices per GPU-hour.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    /// Free text from the file, for reports.
    pub description: Option<String>,
    pub seed: u64,
    /// The scenario file as given (for messages).
    pub file: PathBuf,
    pub trace: TraceSpec,
    pub fleet: FleetConfig,
    /// The built-in catalog plus the scenario's own files.
    pub catalog: Catalog,
    pub slo: Slo,
    /// In file order; names are unique.
    pub scalers: Vec<ScalerChoice>,
    /// The `sweep:` grid, for `budscaler sweep` (other commands ignore it).
    pub sweep: Option<crate::sweep::Sweep>,
}

/// Where requests come from and how they are reshaped, in the order applied: window,
/// time and rate scale, first `max_requests`.
#[derive(Debug, Clone)]
pub struct TraceSpec {
    pub source: TraceSource,
    /// `[from_us, to_us)` of the trace's own time, rebased to 0.
    pub window: Option<(i64, i64)>,
    pub time_scale: f64,
    pub rate_scale: f64,
    pub max_requests: Option<u64>,
}

/// The three kinds of trace a scenario can name.
#[derive(Debug, Clone)]
pub enum TraceSource {
    /// A trace file in any format `traces::open` reads.
    File { path: PathBuf, options: ReadOptions },
    /// A synthetic trace.
    Generate(GenerateConfig),
    /// A recorded metric series; closed loop derives requests from it with `demand`.
    Series {
        path: PathBuf,
        mode: TraceMode,
        demand: DeriveOptions,
    },
}

/// One scaler of the scenario, before the oracle's schedule exists.
#[derive(Debug, Clone)]
pub enum ScalerChoice {
    /// A validated manifest; `origin` is its file, or `scalers[i].manifest`.
    /// `imported` says what the file was when it was not a `BudAIScaler` (an HPA, a
    /// KEDA ScaledObject, a Knative Service), with the mapping sentences.
    Manifest {
        name: String,
        origin: String,
        manifest: Box<BudAIScaler>,
        imported: Option<Box<ImportedFrom>>,
    },
    Static {
        name: String,
        replicas: u32,
    },
    /// The clairvoyant schedule, planned on the trace when the scenario runs.
    Oracle {
        name: String,
        options: crate::oracle::OracleOptions,
    },
}

/// Where an imported manifest came from and how each field was mapped
/// ([`engine::import`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedFrom {
    pub kind: engine::import::ImportKind,
    /// One sentence per mapped field, for reports.
    pub mapping: Vec<String>,
}

impl ScalerChoice {
    /// The mapped manifest as YAML, headed by comments naming the source and each
    /// mapping sentence; `None` unless the scaler was imported. Reports write it to
    /// `DIR/scalers/<name>.yaml` ([`crate::output::write_described`]).
    pub fn imported_yaml(&self) -> Option<String> {
        let ScalerChoice::Manifest {
            origin,
            manifest,
            imported: Some(imported),
            ..
        } = self
        else {
            return None;
        };
        let mut text = format!("# Imported from {} ({origin}):\n", imported.kind);
        for line in &imported.mapping {
            text.push_str(&format!("# - {line}\n"));
        }
        // A manifest that serializes cannot fail to render.
        text.push_str(&serde_saphyr::to_string(manifest.as_ref()).ok()?);
        Some(text)
    }

    /// The name the scaler's outputs are keyed by.
    pub fn name(&self) -> &str {
        match self {
            ScalerChoice::Manifest { name, .. }
            | ScalerChoice::Static { name, .. }
            | ScalerChoice::Oracle { name, .. } => name,
        }
    }
}

impl Scenario {
    /// The scenario's requests (closed loop), reshaped as `trace:` says.
    pub fn requests(&self) -> Result<Vec<Request>, ScenarioError> {
        trace::load_requests(self)
    }

    /// The same requests as a lazy stream (bounded memory for file and generated traces).
    pub fn request_stream(&self) -> Result<RequestStream, ScenarioError> {
        trace::stream_requests(self)
    }

    /// True when the trace is a recorded series replayed open loop (no serving model):
    /// run it with [`crate::open_loop`], not [`run`].
    pub fn is_open_loop(&self) -> bool {
        matches!(
            self.trace.source,
            TraceSource::Series {
                mode: TraceMode::OpenLoop,
                ..
            }
        )
    }

    /// The scenario file's name as it appears in messages.
    pub fn file_name(&self) -> String {
        self.file.display().to_string()
    }
}
