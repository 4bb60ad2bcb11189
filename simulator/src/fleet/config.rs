//! What a fleet run is configured with: hardware, engine arguments, routing, replica
//! lifecycle, spot capacity, control-loop timing; and the scaler that drives it.
//!
//! Every default is a public measurement or an upstream default, named next to it, so a
//! scenario that only names a GPU and a model still behaves like a real cluster.

use crate::queue::TimeUs;
use serde::{Deserialize, Serialize};

/// One second in microseconds.
const SECOND: TimeUs = 1_000_000;

/// Everything about the serving fleet (not the scaler) of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FleetConfig {
    /// Catalog GPU id or alias.
    pub gpu: String,
    /// Catalog model id or alias.
    pub model: String,
    /// GPUs per replica (one replica per node).
    pub tensor_parallel: u32,
    /// Replicas ready at time zero (a fleet already serving when the trace starts).
    pub initial_replicas: u32,
    /// On-demand USD per GPU-hour (the scenario layer resolves pricing tables).
    pub price_per_gpu_hour: f64,
    /// Spot USD per GPU-hour; spot replicas need it (see [`SpotConfig`]).
    pub spot_price_per_gpu_hour: Option<f64>,
    pub engine: ServerArgs,
    pub routing: RoutingPolicy,
    pub lifecycle: LifecycleConfig,
    /// Spot capacity; `None`: every replica is on-demand.
    pub spot: Option<SpotConfig>,
    /// A request waiting in the gateway this long without a ready replica fails
    /// (default 60 s, the default upstream timeout of common gateways such as nginx's
    /// `proxy_read_timeout`).
    pub gateway_timeout_us: TimeUs,
    /// Work still in flight this long after a replica is told to drain is cut and
    /// counts as failed (default 30 s: Kubernetes' `terminationGracePeriodSeconds`).
    pub drain_grace_us: TimeUs,
    /// How often every replica is scraped. `None`: every 15 s (Prometheus'
    /// conventional interval), or the engine tick when that is shorter (KPA's 2 s;
    /// Knative's own collector scrapes every second).
    pub scrape_interval_us: Option<TimeUs>,
    /// The engine's tick. `None`: from the strategy, as the real controllers run:
    /// HPA 15 s (`--horizontal-pod-autoscaler-sync-period`), KPA 2 s (Knative's
    /// autoscaler tick), BudScaler 15 s; `Static` and `Schedule` are checked every 15 s.
    pub sync_period_us: Option<TimeUs>,
    /// Age of the scrape an engine tick reads: the tick at `t` sees the last scrape at
    /// or before `t - scrape_delay_us` (metrics pipeline latency). Default 0.
    pub scrape_delay_us: TimeUs,
    /// Safety cap on desired replicas whatever the scaler says (default 1000).
    pub max_replicas_hard: u32,
    /// Power model of the GPU for the DCGM power field.
    pub power: PowerModel,
    /// An operator profile folder (`meta.yaml` and `tp<N>/`): step times from it
    /// instead of the roofline (`perf::profile`). Default none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<std::path::PathBuf>,
    /// Windows `[from, to)` in which every dcgm-exporter is unreachable: scrapes in them
    /// carry no GPU fields and the observation names the failed sources (faults to test
    /// a scaler's GPU rules against). Default none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dcgm_outages: Vec<(TimeUs, TimeUs)>,
    /// Unix time in microseconds of the run's time 0 (the scenario's `trace.start`, or
    /// the trace's own start when it has absolute times): every observation's
    /// `wall_clock` is this plus `now`. `None`: the run has no calendar.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_unix_us: Option<TimeUs>,
}

impl FleetConfig {
    /// What every replica of this fleet runs with: the engine configuration (KV blocks
    /// from the engine arguments, or estimated from GPU memory) and the step-cost model.
    /// The fleet and the oracle both build replicas from it, so they cannot drift apart.
    pub fn replica_setup(
        &self,
        catalog: &crate::Catalog,
    ) -> Result<(crate::ServingConfig, crate::perf::SharedStepModel), super::FleetError> {
        let gpu = catalog.gpu(&self.gpu)?;
        let model = catalog.model(&self.model)?;
        if self.tensor_parallel == 0 {
            return Err(super::FleetError::Config {
                field: "tensor_parallel",
                expected: "at least 1 GPU per replica",
                found: "0".into(),
            });
        }
        let args = &self.engine;
        let blocks = args.num_gpu_blocks.unwrap_or_else(|| {
            crate::perf::kv_capacity_blocks(
                gpu,
                model,
                crate::perf::Parallelism::tensor(self.tensor_parallel),
                args.gpu_memory_utilization,
                args.block_size,
            )
        });
        if blocks == 0 || args.block_size == 0 || args.max_num_seqs == 0 {
            return Err(super::FleetError::Config {
                field: "engine",
                expected: "a model that fits the GPUs with KV blocks to spare, block_size and max_num_seqs above 0",
                found: format!(
                    "{blocks} KV blocks, block_size {}, max_num_seqs {} for {} on {} x{}",
                    args.block_size, args.max_num_seqs, model.id, gpu.id, self.tensor_parallel
                ),
            });
        }
        let engine = crate::ServingConfig {
            max_num_seqs: args.max_num_seqs,
            max_num_batched_tokens: args.max_num_batched_tokens,
            block_size: args.block_size,
            num_gpu_blocks: blocks,
            enable_prefix_caching: args.enable_prefix_caching,
            prefix_block_tokens: args.prefix_block_tokens,
            reserve_full_sequence: args.reserve_full_sequence,
            watermark_blocks: 0,
        };
        let cost: crate::perf::SharedStepModel = match &self.profile {
            Some(profile) => std::sync::Arc::new(
                crate::perf::profile::ProfileModel::load(
                    profile,
                    gpu,
                    model,
                    crate::perf::Parallelism::tensor(self.tensor_parallel),
                    &catalog.defaults,
                )
                .map_err(|error| super::FleetError::Config {
                    field: "profile",
                    expected: "a usable operator profile",
                    found: error.to_string(),
                })?,
            ),
            None => std::sync::Arc::new(crate::StepCostModel::new(
                gpu,
                model,
                &catalog.defaults,
                crate::perf::Parallelism::tensor(self.tensor_parallel),
            )),
        };
        Ok((engine, cost))
    }
}

impl Default for FleetConfig {
    fn default() -> Self {
        Self {
            gpu: "h100-80gb".into(),
            model: "llama-3.1-8b".into(),
            tensor_parallel: 1,
            initial_replicas: 1,
            // Typical on-demand H100 price per GPU-hour on specialised clouds (2025).
            price_per_gpu_hour: 2.99,
            spot_price_per_gpu_hour: None,
            engine: ServerArgs::default(),
            routing: RoutingPolicy::default(),
            lifecycle: LifecycleConfig::default(),
            spot: None,
            gateway_timeout_us: 60 * SECOND,
            drain_grace_us: 30 * SECOND,
            scrape_interval_us: None,
            sync_period_us: None,
            scrape_delay_us: 0,
            max_replicas_hard: 1000,
            power: PowerModel::default(),
            dcgm_outages: Vec::new(),
            profile: None,
            start_unix_us: None,
        }
    }
}

/// vLLM engine arguments of every replica (vLLM's names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerArgs {
    /// `max_num_seqs`: 256, vLLM v1's default.
    pub max_num_seqs: u32,
    /// `max_num_batched_tokens`: 8192, vLLM v1's default for online serving
    /// (`vllm serve`; offline `LLM` uses 16384).
    pub max_num_batched_tokens: u32,
    /// `gpu_memory_utilization`: 0.9, vLLM's default.
    pub gpu_memory_utilization: f64,
    /// `block_size`: 16 tokens, vLLM's default on CUDA.
    pub block_size: u32,
    /// `enable_prefix_caching`: on by default in vLLM v1.
    pub enable_prefix_caching: bool,
    /// Tokens per prefix hash of the trace (Mooncake: 512); 0 when requests carry none.
    pub prefix_block_tokens: u32,
    /// `scheduler_reserve_full_isl`: off by default.
    pub reserve_full_sequence: bool,
    /// vLLM's `num_gpu_blocks` when known (from a start-up log); `None`: estimated from
    /// GPU memory, weights and KV bytes per token.
    pub num_gpu_blocks: Option<u64>,
}

impl Default for ServerArgs {
    fn default() -> Self {
        Self {
            max_num_seqs: 256,
            max_num_batched_tokens: 8192,
            gpu_memory_utilization: 0.9,
            block_size: 16,
            enable_prefix_caching: true,
            prefix_block_tokens: 512,
            reserve_full_sequence: false,
            num_gpu_blocks: None,
        }
    }
}

/// How the gateway picks a ready replica for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoutingPolicy {
    /// Ready replicas in turn.
    RoundRobin,
    /// Fewest requests waiting plus running (ties: the oldest replica).
    #[default]
    LeastOutstanding,
    /// Lowest KV-cache use, then fewest outstanding requests.
    KvAware,
    /// vLLM's own data-parallel balancer: lowest `4 × waiting + running` (ties: the
    /// first). `validate-recording` replays data-parallel ranks behind it.
    VllmDataParallel,
}

/// A seeded random delay.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Delay {
    Fixed {
        us: TimeUs,
    },
    /// Uniform in `[min_us, max_us]`.
    Uniform {
        min_us: TimeUs,
        max_us: TimeUs,
    },
}

/// A seeded random rate (uniform in `[min, max]`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateRange {
    pub min: f64,
    pub max: f64,
}

/// How a new replica becomes ready: Pending → node provisioning (only when no warm node
/// is free) → image pull (only on a fresh node) → engine start and weight load → Ready.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LifecycleConfig {
    /// A fresh GPU node joining the cluster: 80-120 s (Karpenter/cluster-autoscaler
    /// launch-to-ready for GPU instances on EKS and GKE, as reported in their docs and
    /// public benchmarks; GPU drivers and device plugin included).
    pub node_provisioning: Delay,
    /// Pulling the serving image on a fresh node: 30-90 s (the `vllm/vllm-openai`
    /// image is about 10 GB compressed; 100-300 MB/s registry pulls). A warm node has it.
    pub image_pull: Delay,
    /// Engine start before weights load (process start, CUDA context, profiling and
    /// CUDA graph capture): 20-40 s in vLLM v1 start-up logs for 7-70B models.
    pub engine_init: Delay,
    /// Weight load bandwidth, bytes/s: weights / bandwidth gives the load time.
    /// 0.2-3 GB/s covers network volumes to local NVMe page cache (vLLM's safetensors
    /// loading; 16 GB of Llama-3.1-8B in 5-80 s, as measured by the Anyscale and
    /// BentoML cold-start write-ups).
    pub weight_load_bytes_per_s: RateRange,
    /// Warm nodes idle at time zero (billed while they wait, like any node).
    pub free_nodes: u32,
    /// How long a node freed by scale-down stays up for reuse before it is released:
    /// 10 min, cluster-autoscaler's `--scale-down-unneeded-time` default. A warm
    /// node is billed; a replica placed on it skips provisioning and image pull.
    pub warm_node_ttl_us: TimeUs,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        Self {
            node_provisioning: Delay::Uniform {
                min_us: 80 * SECOND,
                max_us: 120 * SECOND,
            },
            image_pull: Delay::Uniform {
                min_us: 30 * SECOND,
                max_us: 90 * SECOND,
            },
            engine_init: Delay::Uniform {
                min_us: 20 * SECOND,
                max_us: 40 * SECOND,
            },
            weight_load_bytes_per_s: RateRange {
                min: 0.2e9,
                max: 3e9,
            },
            free_nodes: 0,
            warm_node_ttl_us: 600 * SECOND,
        }
    }
}

/// Spot (preemptible) capacity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpotConfig {
    /// Share of replicas placed on spot nodes, 0..=1 (assigned in creation order).
    pub share: f64,
    /// Interruptions per spot node per hour (Poisson).
    pub interruptions_per_hour: f64,
    /// Warning before the node goes away (AWS: 2 minutes); the replica drains and a
    /// replacement starts at once; work still in flight at the end is lost.
    pub notice_us: TimeUs,
}

impl Default for SpotConfig {
    fn default() -> Self {
        Self {
            share: 1.0,
            // About 5% of spot instances interrupted per hour in busy GPU pools.
            interruptions_per_hour: 0.05,
            notice_us: 120 * SECOND,
        }
    }
}

/// GPU power for the DCGM power field: idle plus (max - idle) x utilization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PowerModel {
    pub idle_watts: f64,
    pub max_watts: f64,
}

impl Default for PowerModel {
    fn default() -> Self {
        // H100 SXM: 700 W TDP; about 70-100 W idle with a model loaded.
        Self {
            idle_watts: 90.0,
            max_watts: 700.0,
        }
    }
}

/// How a run is carried out, as opposed to what is simulated: these change the cost
/// of a run, never its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunOptions {
    /// Scrape every family a replica exports (vLLM's and, per GPU, DCGM's). Off by
    /// default: each scrape keeps only the families the scaler's metrics read (as a
    /// Prometheus `metric_relabel_configs` keep rule would). The observation is the
    /// same either way (tested); a full scrape costs about 100 us per replica.
    pub full_scrapes: bool,
    /// Keep every observation the engine decided on in `RunResult.observations`: for
    /// tests and debugging (it holds one `Observation` per tick).
    pub record_observations: bool,
    /// Restart the engine scaler once, as an operator restart would: at the first
    /// engine tick at or after this time (µs of run time), before it decides, the
    /// scaler's state is saved (`Scaler::snapshot`), written to JSON and read back, and
    /// the scaler is rebuilt from the manifest and that state (`Scaler::restore`). The
    /// observer (`traces::observe::Observer`, the driver's per-pod counters) is kept, as
    /// the operator's scrape history would be. A scaler whose state survives restarts
    /// decides the same either way; `None` (the default): no restart. Static and
    /// schedule scalers have nothing to restart.
    pub restart_scaler_at_us: Option<TimeUs>,
}

/// What decides the desired replica count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ScalerSpec {
    /// A `BudAIScaler` manifest run by `engine::Scaler` (HPA, KPA or BudScaler).
    Manifest(Box<engine::spec::BudAIScaler>),
    /// A fixed replica count.
    Static { replicas: u32 },
    /// A replica schedule computed by the oracle helper: `(time_us, replicas)` steps,
    /// already shifted earlier by the cold-start time; the fleet follows it exactly.
    /// Before the first step the fleet keeps `initial_replicas`; a step at or before
    /// time zero is applied at time zero, with cold starts like any scale-up.
    Schedule {
        name: String,
        strategy: String,
        steps: Vec<(TimeUs, u32)>,
    },
}

/// Latency objectives a request is judged against.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Slo {
    /// Time to first token, seconds.
    pub ttft_s: f64,
    /// Time per output token after the first, seconds.
    pub tpot_s: f64,
}

impl Default for Slo {
    fn default() -> Self {
        Self {
            ttft_s: 2.0,
            tpot_s: 0.1,
        }
    }
}
