//! Every default of the manifest, in one place, each with where it comes from.
//!
//! A field the user left out takes the value below when the spec is resolved
//! ([`super::BudAIScalerSpec::resolved`]); a value the user wrote, including `false` or
//! `0`, is never replaced. Kubernetes HPA values follow `SetDefaults_HorizontalPodAutoscaler`
//! and the controller manager's flags; KPA values follow Knative Serving's shipped
//! `config-autoscaler` ConfigMap; BudScaler hint values follow the seed's CRD.

use super::ScalingStrategy;
use super::behavior::{PolicyType, ResolvedPolicy, SelectPolicy};
use super::metrics::Protocol;
use crate::time::{Micros, seconds};

// ---- Top level (seed CRD) ----

/// `spec.minReplicas`: the seed's CRD default (`+kubebuilder:default=1`).
pub const MIN_REPLICAS: i32 = 1;
/// `spec.scalingStrategy`: the seed's CRD default.
pub const SCALING_STRATEGY: ScalingStrategy = ScalingStrategy::BudScaler;

// ---- Behavior (Kubernetes HPA) ----

/// `behavior.scaleUp.stabilizationWindowSeconds`: Kubernetes scales up at once.
pub const SCALE_UP_STABILIZATION_SECONDS: i32 = 0;
/// `behavior.scaleDown.stabilizationWindowSeconds`: Kubernetes' 5 minutes (the
/// `--horizontal-pod-autoscaler-downscale-stabilization` flag's default).
pub const SCALE_DOWN_STABILIZATION_SECONDS: i32 = 300;
/// `behavior.*.selectPolicy`: Kubernetes defaults both directions to `Max` (the seed's
/// comment says `Min` for scale-down; Kubernetes does not, and with its single default
/// scale-down policy the choice does not matter).
pub const SELECT_POLICY: SelectPolicy = SelectPolicy::Max;
/// `behavior.scaleUp.policies`: at most +4 pods or +100% per 15 s, whichever is more.
pub const SCALE_UP_POLICIES: [ResolvedPolicy; 2] = [
    ResolvedPolicy {
        kind: PolicyType::Pods,
        value: 4,
        period: seconds(15),
    },
    ResolvedPolicy {
        kind: PolicyType::Percent,
        value: 100,
        period: seconds(15),
    },
];
/// `behavior.scaleDown.policies`: up to −100% per 15 s (no rate limit beyond the
/// stabilization window).
pub const SCALE_DOWN_POLICIES: [ResolvedPolicy; 1] = [ResolvedPolicy {
    kind: PolicyType::Percent,
    value: 100,
    period: seconds(15),
}];
/// `behavior.*.tolerance`, in milli (0.1 = 10%): the controller manager's
/// `--horizontal-pod-autoscaler-tolerance` default.
pub const TOLERANCE_MILLI: i64 = 100;

// ---- Metric sources (seed CRD) ----

/// `metricsSources[].protocolType`.
pub const PROTOCOL: Protocol = Protocol::Http;
/// `metricsSources[].path` and `inferenceEngineConfig.metricsPath`.
pub const METRICS_PATH: &str = "/metrics";
/// `inferenceEngineConfig.metricsPort`: vLLM's default HTTP port.
pub const ENGINE_METRICS_PORT: u16 = 8000;

// ---- KPA (Knative Serving `config-autoscaler`) ----

/// `kpaConfig.stableWindow`.
pub const KPA_STABLE_WINDOW: Micros = seconds(60);
/// `kpaConfig.panicWindowPercentage`: the panic window is 10% of the stable window.
pub const KPA_PANIC_WINDOW_PERCENTAGE: f64 = 10.0;
/// `kpaConfig.panicThresholdPercentage`: panic when demand reaches 200% (2×) of capacity.
pub const KPA_PANIC_THRESHOLD_PERCENTAGE: f64 = 200.0;
/// `spec.mode`: act on decisions.
pub const MODE: super::Mode = super::Mode::Active;
/// `kpaConfig.targetUtilizationPercentage` (BudScaler only): plan for 80% of a
/// replica's saturated throughput (saturated throughput comes with a queue; the SLO
/// wants none).
pub const BUDSCALER_TARGET_UTILIZATION_PERCENTAGE: f64 = 80.0;
/// `kpaConfig.maxScaleUpRate`: at most ×1000 per decision.
pub const KPA_MAX_SCALE_UP_RATE: f64 = 1000.0;
/// `kpaConfig.maxScaleDownRate`: at most ÷2 per decision.
pub const KPA_MAX_SCALE_DOWN_RATE: f64 = 2.0;
/// `kpaConfig.targetBurstCapacity`: the shipped ConfigMap's 211 (the code's fallback
/// is 200; the ConfigMap is what clusters run).
pub const KPA_TARGET_BURST_CAPACITY: f64 = 211.0;
/// `kpaConfig.scaleToZeroGracePeriod`.
pub const KPA_SCALE_TO_ZERO_GRACE_PERIOD: Micros = seconds(30);
/// `kpaConfig.scaleToZeroPodRetentionPeriod`.
pub const KPA_SCALE_TO_ZERO_POD_RETENTION_PERIOD: Micros = 0;
/// `kpaConfig.scaleDownDelay`.
pub const KPA_SCALE_DOWN_DELAY: Micros = 0;
/// `kpaConfig.activationScale`: 1 means "no minimum above 1 when waking from zero".
pub const KPA_ACTIVATION_SCALE: i32 = 1;
/// `kpaConfig.initialScale`.
pub const KPA_INITIAL_SCALE: i32 = 1;
/// `kpaConfig.allowZeroInitialScale`.
pub const KPA_ALLOW_ZERO_INITIAL_SCALE: bool = false;

// ---- BudScaler hints (seed CRD and seed controller) ----

/// `predictionConfig.enabled`.
pub const PREDICTION_ENABLED: bool = false;
/// `predictionConfig.lookAheadMinutes`.
pub const PREDICTION_LOOK_AHEAD_MINUTES: i32 = 15;
/// `predictionConfig.historicalDataDays`.
pub const PREDICTION_HISTORICAL_DATA_DAYS: i32 = 7;
/// `predictionConfig.enableLearning`.
pub const PREDICTION_ENABLE_LEARNING: bool = true;
/// `predictionConfig.minConfidence`: forecasts below it are not used.
pub const PREDICTION_MIN_CONFIDENCE: f64 = 0.5;
/// `gpuConfig.enabled`, `topologyAware`, `vgpuSupport`.
pub const GPU_ENABLED: bool = false;
/// `gpuConfig.topologyAware`.
pub const GPU_TOPOLOGY_AWARE: bool = false;
/// `gpuConfig.vgpuSupport`.
pub const GPU_VGPU_SUPPORT: bool = false;
/// `gpuConfig.gpuMemoryThreshold` / `gpuComputeThreshold` (percent): the seed
/// controller's fallback when they are left out.
pub const GPU_THRESHOLD_PERCENT: i32 = 80;
/// `costConfig.enabled`.
pub const COST_ENABLED: bool = false;
/// `costConfig.preferSpotInstances`.
pub const COST_PREFER_SPOT: bool = false;
/// `costConfig.spotFallbackToOnDemand`.
pub const COST_SPOT_FALLBACK_TO_ON_DEMAND: bool = true;
/// `costConfig.costOptimizationMode`.
pub const COST_OPTIMIZATION_MODE: super::budscaler::CostOptimizationMode =
    super::budscaler::CostOptimizationMode::Balanced;
/// `costConfig.maxSpotPercentage`: no cap.
pub const COST_MAX_SPOT_PERCENTAGE: i32 = 100;
/// `multiClusterConfig.enabled`.
pub const MULTI_CLUSTER_ENABLED: bool = false;
/// `multiClusterConfig.federationMode`.
pub const MULTI_CLUSTER_FEDERATION_MODE: super::budscaler::FederationMode =
    super::budscaler::FederationMode::LoadBalanced;
/// `multiClusterConfig.failoverEnabled`.
pub const MULTI_CLUSTER_FAILOVER_ENABLED: bool = true;
