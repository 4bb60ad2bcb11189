//! BudScaler hints: `predictionConfig`, `gpuConfig`, `costConfig`, `scheduleHints` and
//! `multiClusterConfig`, as in the seed's CRD (same names, same ranges).
//!
//! Booleans are `Option<bool>` with an accessor each: a `false` the user wrote stays
//! `false`, and a left-out flag takes its documented default (some default to `true`).

use super::cron::CronSchedule;
use super::defaults;
use super::duration::ManifestDuration;
use super::metrics::non_empty;
use super::quantity::Quantity;
use super::validate::{Problems, field, item};
use crate::calendar::Zone;
use crate::time::Micros;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

manifest_enum! {
    /// `costConfig.cloudProvider`.
    CloudProvider {
        Aws = "aws",
        Gcp = "gcp",
        Azure = "azure",
    }
}

manifest_enum! {
    /// `costConfig.costOptimizationMode`: the cost/latency trade-off.
    CostOptimizationMode {
        Balanced = "balanced",
        CostOptimized = "cost-optimized",
        Performance = "performance",
    }
}

manifest_enum! {
    /// `multiClusterConfig.federationMode`.
    FederationMode {
        ActiveActive = "active-active",
        ActivePassive = "active-passive",
        LoadBalanced = "load-balanced",
    }
}

/// `spec.predictionConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PredictionConfig {
    /// Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// How far ahead to forecast, 5..=60 minutes. Default 15.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub look_ahead_minutes: Option<i32>,
    /// History used for patterns, 1..=90 days. Default 7.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub historical_data_days: Option<i32>,
    /// Learn from past decisions. Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_learning: Option<bool>,
    /// `targetMetric` names to forecast; default the first metric source.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prediction_metrics: Vec<String>,
    /// `targetMetric` names for seasonal patterns; default `predictionMetrics`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seasonal_metrics: Vec<String>,
    /// Forecasts less confident than this (0..=1, 1 − recent MAPE) are not used.
    /// Default 0.5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_confidence: Option<Quantity>,
    /// `combined` (default: the predictor with the lowest recent error), `last-value`,
    /// `holt` or `seasonal`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predictor: Option<String>,
    /// IANA time zone whose local hours seasonal patterns are learned in. Default `UTC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

impl PredictionConfig {
    /// `enabled` as written, else false.
    pub fn enabled(&self) -> bool {
        self.enabled.unwrap_or(defaults::PREDICTION_ENABLED)
    }

    /// `enableLearning` as written, else true.
    pub fn enable_learning(&self) -> bool {
        self.enable_learning
            .unwrap_or(defaults::PREDICTION_ENABLE_LEARNING)
    }
}

/// `spec.gpuConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GpuConfig {
    /// Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Scale up when GPU memory use exceeds this percent, 0..=100. Default 80.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_memory_threshold: Option<i32>,
    /// Scale up when GPU compute use exceeds this percent, 0..=100. Default 80.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_compute_threshold: Option<i32>,
    /// Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology_aware: Option<bool>,
    /// e.g. `nvidia-h100`.
    #[serde(
        default,
        rename = "preferredGPUType",
        skip_serializing_if = "Option::is_none"
    )]
    pub preferred_gpu_type: Option<String>,
    /// vGPU / time-slicing awareness. Default false. The seed's full sample spells it
    /// `vgpuEnabled` (its API server silently dropped that); we accept both.
    #[serde(
        default,
        alias = "vgpuEnabled",
        skip_serializing_if = "Option::is_none"
    )]
    pub vgpu_support: Option<bool>,
    /// Where the operator scrapes dcgm-exporter: a URL, in which `{hostIP}` (or
    /// `{node}`) is replaced by each pod's node IP (dcgm-exporter's DaemonSet on a
    /// hostPort), scraped once per node; without a placeholder, one URL for every pod
    /// (a single node, or a proxy in front of the exporters). Default: each pod's node
    /// on the operator's `--dcgm-port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dcgm_endpoint: Option<String>,
    /// Instead of scraping: a PromQL query (against the operator's `--prometheus-url`)
    /// whose result series are dcgm-exporter fields, each with its `__name__` and `pod`
    /// (or `exported_pod`) label, e.g. `{__name__=~"DCGM_FI_.*",namespace="llm"}`.
    #[serde(default, rename = "promQL", skip_serializing_if = "Option::is_none")]
    pub prom_ql: Option<String>,
}

impl GpuConfig {
    /// `enabled` as written, else false.
    pub fn enabled(&self) -> bool {
        self.enabled.unwrap_or(defaults::GPU_ENABLED)
    }

    /// `topologyAware` as written, else false.
    pub fn topology_aware(&self) -> bool {
        self.topology_aware.unwrap_or(defaults::GPU_TOPOLOGY_AWARE)
    }

    /// `vgpuSupport` as written, else false.
    pub fn vgpu_support(&self) -> bool {
        self.vgpu_support.unwrap_or(defaults::GPU_VGPU_SUPPORT)
    }
}

/// `spec.costConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CostConfig {
    /// Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// `aws`, `gcp` or `azure`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_provider: Option<String>,
    /// Maximum spend per hour, a quantity in currency units (`"100.00"`), >= 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_per_hour: Option<Quantity>,
    /// Maximum spend per day, a quantity in currency units, >= 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_per_day: Option<Quantity>,
    /// Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefer_spot_instances: Option<bool>,
    /// Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spot_fallback_to_on_demand: Option<bool>,
    /// `balanced` (default), `cost-optimized` or `performance`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_optimization_mode: Option<String>,
    /// Share of replicas that may run on spot capacity, 0..=100. Default 100. In the
    /// seed's full sample but not its CRD; accepted and honoured here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_spot_percentage: Option<i32>,
}

impl CostConfig {
    /// `enabled` as written, else false.
    pub fn enabled(&self) -> bool {
        self.enabled.unwrap_or(defaults::COST_ENABLED)
    }

    /// `preferSpotInstances` as written, else false.
    pub fn prefer_spot_instances(&self) -> bool {
        self.prefer_spot_instances
            .unwrap_or(defaults::COST_PREFER_SPOT)
    }

    /// `spotFallbackToOnDemand` as written, else true.
    pub fn spot_fallback_to_on_demand(&self) -> bool {
        self.spot_fallback_to_on_demand
            .unwrap_or(defaults::COST_SPOT_FALLBACK_TO_ON_DEMAND)
    }
}

/// `spec.multiClusterConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MultiClusterConfig {
    /// Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// `active-active`, `active-passive` or `load-balanced` (default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub federation_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_clusters: Vec<String>,
    /// Relative replica share per cluster, each >= 0.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub cluster_weights: BTreeMap<String, i32>,
    /// Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover_enabled: Option<bool>,
}

impl MultiClusterConfig {
    /// `enabled` as written, else false.
    pub fn enabled(&self) -> bool {
        self.enabled.unwrap_or(defaults::MULTI_CLUSTER_ENABLED)
    }

    /// `failoverEnabled` as written, else true.
    pub fn failover_enabled(&self) -> bool {
        self.failover_enabled
            .unwrap_or(defaults::MULTI_CLUSTER_FAILOVER_ENABLED)
    }
}

/// One `spec.scheduleHints[]` entry: from each cron firing, keep at least
/// `targetReplicas` for `duration`. All four fields are required.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ScheduleHint {
    /// Unique among the hints; names the hint in decision reasons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// 5-field cron (`minute hour day-of-month month day-of-week`), e.g. `0 9 * * 1-5`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron_expression: Option<String>,
    /// minReplicas..=maxReplicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_replicas: Option<i32>,
    /// Go duration (`"12h"`) or integer seconds, > 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<ManifestDuration>,
    /// IANA time zone the cron expression is read in (`Europe/Berlin`). Default `UTC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

manifest_enum! {
    /// `predictionConfig.predictor`.
    Predictor {
        /// The predictor with the lowest recent error, per decision.
        Combined = "combined",
        /// Demand stays as it is now.
        LastValue = "last-value",
        /// Holt's linear trend (level + trend, exponentially smoothed).
        Holt = "holt",
        /// The learned hour-of-week profile, scaled to the current level.
        Seasonal = "seasonal",
    }
}

/// Validated `predictionConfig`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedPrediction {
    pub enabled: bool,
    /// `lookAheadMinutes` as resolved (written, or the default 15).
    pub look_ahead_minutes: i32,
    /// `lookAheadMinutes` only when written: without it BudScaler looks ahead by the
    /// cold start it has observed.
    pub look_ahead_written: Option<i32>,
    pub min_confidence: f64,
    pub predictor: Predictor,
    pub historical_data_days: i32,
    pub enable_learning: bool,
    /// Never empty when there is a metric source (defaults to the first one).
    pub prediction_metrics: Vec<String>,
    /// Defaults to `prediction_metrics`.
    pub seasonal_metrics: Vec<String>,
    /// Seasonal hours are local to this zone. Default UTC.
    pub time_zone: Zone,
}

/// Validated `gpuConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedGpu {
    pub enabled: bool,
    pub memory_threshold_percent: i32,
    pub compute_threshold_percent: i32,
    pub topology_aware: bool,
    pub preferred_gpu_type: Option<String>,
    pub vgpu_support: bool,
    pub dcgm_endpoint: Option<String>,
    pub prom_ql: Option<String>,
}

/// Validated `costConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedCost {
    pub enabled: bool,
    pub cloud_provider: Option<CloudProvider>,
    /// Milli-units of currency per hour.
    pub budget_per_hour_milli: Option<i64>,
    /// Milli-units of currency per day.
    pub budget_per_day_milli: Option<i64>,
    pub prefer_spot_instances: bool,
    pub spot_fallback_to_on_demand: bool,
    pub mode: CostOptimizationMode,
    pub max_spot_percentage: i32,
}

/// Validated `multiClusterConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedMultiCluster {
    pub enabled: bool,
    pub federation_mode: FederationMode,
    pub target_clusters: Vec<String>,
    pub cluster_weights: BTreeMap<String, i32>,
    pub failover_enabled: bool,
}

/// A validated schedule hint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedScheduleHint {
    pub name: String,
    /// The expression as written, for reasons and reports.
    pub cron_expression: String,
    pub schedule: CronSchedule,
    pub target_replicas: i32,
    pub duration: Micros,
    /// The cron expression is read in this zone. Default UTC.
    pub time_zone: Zone,
}

/// Parses an optional `timeZone` field: absent is UTC, an unknown name is reported.
fn resolve_time_zone(p: &mut Problems, path: &str, name: Option<&str>) -> Option<Zone> {
    match name {
        None => Some(Zone::UTC),
        Some(name) => Zone::from_iana(name)
            .map_err(|err| p.push(field(path, "timeZone"), err.to_string()))
            .ok(),
    }
}

impl PredictionConfig {
    pub(crate) fn resolve(
        config: Option<&PredictionConfig>,
        path: &str,
        metric_names: &[String],
        p: &mut Problems,
    ) -> ResolvedPrediction {
        let empty = PredictionConfig::default();
        let c = config.unwrap_or(&empty);
        let look_ahead = c
            .look_ahead_minutes
            .unwrap_or(defaults::PREDICTION_LOOK_AHEAD_MINUTES);
        p.in_range(
            &field(path, "lookAheadMinutes"),
            i64::from(look_ahead),
            5,
            60,
        );
        let history = c
            .historical_data_days
            .unwrap_or(defaults::PREDICTION_HISTORICAL_DATA_DAYS);
        p.in_range(
            &field(path, "historicalDataDays"),
            i64::from(history),
            1,
            90,
        );
        for (key, names) in [
            ("predictionMetrics", &c.prediction_metrics),
            ("seasonalMetrics", &c.seasonal_metrics),
        ] {
            for (i, name) in names.iter().enumerate() {
                if !metric_names.contains(name) {
                    p.push(
                        item(&field(path, key), i),
                        format!(
                            "must name a metricsSources[].targetMetric (found {name:?}; known: {})",
                            if metric_names.is_empty() {
                                "none".to_string()
                            } else {
                                metric_names.join(", ")
                            }
                        ),
                    );
                }
            }
        }
        let prediction_metrics = if c.prediction_metrics.is_empty() {
            metric_names.iter().take(1).cloned().collect()
        } else {
            c.prediction_metrics.clone()
        };
        let seasonal_metrics = if c.seasonal_metrics.is_empty() {
            prediction_metrics.clone()
        } else {
            c.seasonal_metrics.clone()
        };
        let confidence_path = field(path, "minConfidence");
        let min_confidence = match &c.min_confidence {
            None => defaults::PREDICTION_MIN_CONFIDENCE,
            Some(q) => match q.milli() {
                Ok(milli) if (0..=1000).contains(&milli) => milli as f64 / 1000.0,
                Ok(_) => {
                    p.push(
                        &*confidence_path,
                        format!("must be in 0..=1 (found {:?})", q.as_str()),
                    );
                    defaults::PREDICTION_MIN_CONFIDENCE
                }
                Err(err) => {
                    p.push(&*confidence_path, err.to_string());
                    defaults::PREDICTION_MIN_CONFIDENCE
                }
            },
        };
        let predictor = p.word(
            &field(path, "predictor"),
            c.predictor.as_deref(),
            Predictor::Combined,
        );
        let time_zone = resolve_time_zone(p, path, c.time_zone.as_deref()).unwrap_or_default();
        ResolvedPrediction {
            enabled: c.enabled(),
            look_ahead_minutes: look_ahead,
            look_ahead_written: c.look_ahead_minutes,
            min_confidence,
            predictor,
            historical_data_days: history,
            enable_learning: c.enable_learning(),
            prediction_metrics,
            seasonal_metrics,
            time_zone,
        }
    }
}

impl GpuConfig {
    pub(crate) fn resolve(config: Option<&GpuConfig>, path: &str, p: &mut Problems) -> ResolvedGpu {
        let empty = GpuConfig::default();
        let c = config.unwrap_or(&empty);
        let memory = c
            .gpu_memory_threshold
            .unwrap_or(defaults::GPU_THRESHOLD_PERCENT);
        p.in_range(
            &field(path, "gpuMemoryThreshold"),
            i64::from(memory),
            0,
            100,
        );
        let compute = c
            .gpu_compute_threshold
            .unwrap_or(defaults::GPU_THRESHOLD_PERCENT);
        p.in_range(
            &field(path, "gpuComputeThreshold"),
            i64::from(compute),
            0,
            100,
        );
        if c.dcgm_endpoint.is_some() && c.prom_ql.is_some() {
            p.push(
                field(path, "promQL"),
                "set either dcgmEndpoint or promQL, not both",
            );
        }
        ResolvedGpu {
            enabled: c.enabled(),
            memory_threshold_percent: memory,
            compute_threshold_percent: compute,
            topology_aware: c.topology_aware(),
            preferred_gpu_type: c.preferred_gpu_type.clone(),
            vgpu_support: c.vgpu_support(),
            dcgm_endpoint: c.dcgm_endpoint.clone(),
            prom_ql: c.prom_ql.clone(),
        }
    }
}

impl CostConfig {
    pub(crate) fn resolve(
        config: Option<&CostConfig>,
        path: &str,
        p: &mut Problems,
    ) -> ResolvedCost {
        let empty = CostConfig::default();
        let c = config.unwrap_or(&empty);
        let cloud_provider = c.cloud_provider.as_deref().and_then(|text| {
            p.required_word::<CloudProvider>(&field(path, "cloudProvider"), Some(text))
        });
        let budget = |p: &mut Problems, name: &str, value: &Option<Quantity>| {
            let value = value.as_ref()?;
            match value.milli() {
                Ok(milli) if milli >= 0 => Some(milli),
                Ok(_) => {
                    p.push(
                        field(path, name),
                        format!("must be >= 0 (found {:?})", value.as_str()),
                    );
                    None
                }
                Err(err) => {
                    p.push(field(path, name), err.to_string());
                    None
                }
            }
        };
        let budget_per_hour_milli = budget(p, "budgetPerHour", &c.budget_per_hour);
        let budget_per_day_milli = budget(p, "budgetPerDay", &c.budget_per_day);
        let mode = p.word(
            &field(path, "costOptimizationMode"),
            c.cost_optimization_mode.as_deref(),
            defaults::COST_OPTIMIZATION_MODE,
        );
        let max_spot = c
            .max_spot_percentage
            .unwrap_or(defaults::COST_MAX_SPOT_PERCENTAGE);
        p.in_range(
            &field(path, "maxSpotPercentage"),
            i64::from(max_spot),
            0,
            100,
        );
        ResolvedCost {
            enabled: c.enabled(),
            cloud_provider,
            budget_per_hour_milli,
            budget_per_day_milli,
            prefer_spot_instances: c.prefer_spot_instances(),
            spot_fallback_to_on_demand: c.spot_fallback_to_on_demand(),
            mode,
            max_spot_percentage: max_spot,
        }
    }
}

impl MultiClusterConfig {
    pub(crate) fn resolve(
        config: Option<&MultiClusterConfig>,
        path: &str,
        p: &mut Problems,
    ) -> ResolvedMultiCluster {
        let empty = MultiClusterConfig::default();
        let c = config.unwrap_or(&empty);
        let federation_mode = p.word(
            &field(path, "federationMode"),
            c.federation_mode.as_deref(),
            defaults::MULTI_CLUSTER_FEDERATION_MODE,
        );
        for (cluster, weight) in &c.cluster_weights {
            p.at_least(
                &field(&field(path, "clusterWeights"), cluster),
                i64::from(*weight),
                0,
            );
        }
        ResolvedMultiCluster {
            enabled: c.enabled(),
            federation_mode,
            target_clusters: c.target_clusters.clone(),
            cluster_weights: c.cluster_weights.clone(),
            failover_enabled: c.failover_enabled(),
        }
    }
}

impl ScheduleHint {
    /// Checks one hint against the replica bounds; `None` after reporting a problem.
    /// `bounds` is `(minReplicas, maxReplicas)` when those are valid.
    pub(crate) fn resolve(
        &self,
        path: &str,
        bounds: Option<(i32, i32)>,
        p: &mut Problems,
    ) -> Option<ResolvedScheduleHint> {
        let name = non_empty(p, &field(path, "name"), self.name.as_deref());
        let cron_path = field(path, "cronExpression");
        let cron_expression = non_empty(p, &cron_path, self.cron_expression.as_deref());
        let schedule = if cron_expression.is_empty() {
            None
        } else {
            CronSchedule::parse(&cron_expression)
                .map_err(|err| p.push(&*cron_path, err.to_string()))
                .ok()
        };
        let target_path = field(path, "targetReplicas");
        let target = p
            .required_int(&target_path, self.target_replicas)
            .filter(|t| {
                bounds.is_none_or(|(lo, hi)| {
                    p.in_range(&target_path, i64::from(*t), i64::from(lo), i64::from(hi))
                })
            });
        let duration_path = field(path, "duration");
        let duration = match &self.duration {
            None => {
                p.required(&*duration_path);
                None
            }
            Some(d) => match d.micros() {
                Ok(micros) if micros > 0 => Some(micros),
                Ok(_) => {
                    p.push(&*duration_path, format!("must be > 0 (found {d})"));
                    None
                }
                Err(err) => {
                    p.push(&*duration_path, err.to_string());
                    None
                }
            },
        };
        let time_zone = resolve_time_zone(p, path, self.time_zone.as_deref());
        Some(ResolvedScheduleHint {
            name,
            cron_expression,
            schedule: schedule?,
            target_replicas: target?,
            duration: duration?,
            time_zone: time_zone?,
        })
    }
}
