//! What a scaler decided and why: the output of every [`crate::scaler::Scaler::decide`].
//!
//! A decision is meant to be read by people (`message`) and by programs (`reason`,
//! `metrics`): the simulator writes one JSON line per decision, the operator copies the
//! reason into the target's status.

use crate::spec::ScalingStrategy;
use crate::time::Micros;
use serde::{Deserialize, Serialize};

/// The one thing that determined the desired replica count.
///
/// HPA reasons carry the Kubernetes condition reason names (`ScaleUpLimit`,
/// `TooManyReplicas`, ...); KPA reasons name the Knative rule that applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reason {
    /// The proposal passed every limit unchanged.
    DesiredWithinRange,
    /// A scale-up rate policy capped the change.
    ScaleUpLimit,
    /// A scale-down rate policy capped the change.
    ScaleDownLimit,
    /// Clamped to `maxReplicas`.
    TooManyReplicas,
    /// Clamped to `minReplicas`.
    TooFewReplicas,
    /// The scale-up stabilization window held the count down.
    ScaleUpStabilized,
    /// The scale-down stabilization window held the count up.
    ScaleDownStabilized,
    /// The target is scaled to 0 while `minReplicas` is not: autoscaling is off.
    ScalingDisabled,
    /// Current replicas were above `maxReplicas`: clamped without reading metrics.
    AboveMaxReplicas,
    /// Current replicas were below `minReplicas`: clamped without reading metrics.
    BelowMinReplicas,
    /// Metrics failed (all of them, or some while the rest would scale down): no change.
    MetricsUnavailable,
    /// No metric is configured and nothing else asks for a change.
    NoMetrics,
    /// KPA: the stable window's average decided.
    Stable,
    /// KPA: in panic mode, the panic window's average decided.
    Panic,
    /// KPA: in panic mode, the count is never lowered.
    PanicRatchet,
    /// KPA: capped by the maximum scale-up rate.
    MaxScaleUpRate,
    /// KPA: capped by the maximum scale-down rate.
    MaxScaleDownRate,
    /// KPA: the revision is unreachable, so no floor applies.
    Unreachable,
    /// KPA: raised to the activation scale when scaling from zero.
    ActivationScale,
    /// KPA: held up by the scale-down delay window.
    ScaleDownDelay,
    /// KPA: held at the initial scale.
    InitialScale,
    /// KPA: waiting out the scale-to-zero grace period.
    ScaleToZeroGrace,
    /// KPA: waiting out the last pod's retention period.
    PodRetention,
    /// KPA: scaling to zero is not allowed (`minReplicas` > 0).
    ScaleToZeroDisabled,
    /// KPA: activation took too long; given up and scaled to zero.
    ActivationTimeout,
    /// BudScaler: the demand forecast at now + lookahead over the learned per-replica
    /// capacity set the count.
    DemandForecast,
    /// BudScaler: the current demand over the learned per-replica capacity set the
    /// count (forecasting off, or not confident enough).
    CurrentDemand,
    /// BudScaler: a metric source's guard (queue, KV-cache headroom, latency) asked
    /// for more than the demand rule.
    SignalGuard,
    /// BudScaler or HPA: an active schedule hint's floor set the count.
    ScheduleHint,
    /// BudScaler: scale-up held while enough replicas are still starting.
    StartingPodsGate,
    /// BudScaler: no scale-down because a ready pod reported no sample.
    PartialMetrics,
    /// BudScaler: requests wait at the activator with nothing ready: scale from zero.
    Activation,
    /// BudScaler: capacity not learned yet and no guard asks for a change: held.
    CapacityUnknown,
    /// BudScaler: `costConfig.budgetPerHour` or `budgetPerDay` capped the count.
    BudgetLimit,
}

impl Reason {
    /// The reason as written in decision logs and status conditions.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::DesiredWithinRange => "DesiredWithinRange",
            Reason::ScaleUpLimit => "ScaleUpLimit",
            Reason::ScaleDownLimit => "ScaleDownLimit",
            Reason::TooManyReplicas => "TooManyReplicas",
            Reason::TooFewReplicas => "TooFewReplicas",
            Reason::ScaleUpStabilized => "ScaleUpStabilized",
            Reason::ScaleDownStabilized => "ScaleDownStabilized",
            Reason::ScalingDisabled => "ScalingDisabled",
            Reason::AboveMaxReplicas => "AboveMaxReplicas",
            Reason::BelowMinReplicas => "BelowMinReplicas",
            Reason::MetricsUnavailable => "MetricsUnavailable",
            Reason::NoMetrics => "NoMetrics",
            Reason::Stable => "Stable",
            Reason::Panic => "Panic",
            Reason::PanicRatchet => "PanicRatchet",
            Reason::MaxScaleUpRate => "MaxScaleUpRate",
            Reason::MaxScaleDownRate => "MaxScaleDownRate",
            Reason::Unreachable => "Unreachable",
            Reason::ActivationScale => "ActivationScale",
            Reason::ScaleDownDelay => "ScaleDownDelay",
            Reason::InitialScale => "InitialScale",
            Reason::ScaleToZeroGrace => "ScaleToZeroGrace",
            Reason::PodRetention => "PodRetention",
            Reason::ScaleToZeroDisabled => "ScaleToZeroDisabled",
            Reason::ActivationTimeout => "ActivationTimeout",
            Reason::DemandForecast => "DemandForecast",
            Reason::CurrentDemand => "CurrentDemand",
            Reason::SignalGuard => "SignalGuard",
            Reason::ScheduleHint => "ScheduleHint",
            Reason::StartingPodsGate => "StartingPodsGate",
            Reason::PartialMetrics => "PartialMetrics",
            Reason::Activation => "Activation",
            Reason::CapacityUnknown => "CapacityUnknown",
            Reason::BudgetLimit => "BudgetLimit",
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One metric's contribution to a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricReading {
    /// `targetMetric` from the manifest.
    pub metric: String,
    /// The value the strategy compared with the target (per-pod average, utilization
    /// percent, or total), when it could be read.
    pub value: Option<f64>,
    /// The target in the same unit as `value`.
    pub target: f64,
    /// The replica count this metric alone proposes.
    pub proposed_replicas: Option<i32>,
    /// Why the metric could not be used.
    pub error: Option<String>,
}

/// What kind of input set a BudScaler count (before behavior limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeciderKind {
    /// A demand predictor (`name` is the predictor).
    Predictor,
    /// The learned capacity applied to the current demand.
    Capacity,
    /// A metric source (`name` is its `targetMetric`).
    Signal,
    /// A detected traffic pattern (`name` is the pattern).
    Pattern,
    /// A schedule hint (`name` is the hint).
    Hint,
    /// `minReplicas`/`maxReplicas`, the activator, or holding the current count.
    Bounds,
    /// A budget (`name` is `budgetPerHour` or `budgetPerDay`).
    Budget,
    /// GPU pressure (`name` is `gpuMemoryThreshold` or `gpuComputeThreshold`).
    Gpu,
}

/// The input that set the count, for people and for reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct DecidedBy {
    pub kind: DeciderKind,
    pub name: String,
    /// The replica count this input asked for.
    pub replicas: i32,
}

/// The demand forecast a BudScaler decision used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct ForecastReading {
    /// Forecast demand (work units per second, see `engine::budscaler`) at the
    /// quantile below.
    pub value: f64,
    /// The point forecast (the predictor's expectation).
    pub point: f64,
    /// Demand observed now, for comparison.
    pub current: f64,
    /// How far ahead, in seconds.
    pub horizon_s: f64,
    /// The quantile `value` stands for (e.g. 0.9).
    pub quantile: f64,
    /// 0..=1, from recent forecast errors (1 − MAPE, floored at 0).
    pub confidence: f64,
    /// `last-value`, `holt`, `seasonal` or `combined:<chosen>`.
    pub predictor: String,
    /// Whether the forecast was confident enough (`minConfidence`) to be used.
    pub used: bool,
    /// The replicas the forecast alone asks for (once a capacity per replica is
    /// known): what `predictionStatus.predictedReplicas` shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
}

/// A traffic pattern detected at this decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct PatternReading {
    /// `kv_cache_pressure`, `batch_ingestion`, `cold_start`, `traffic_spike`,
    /// `traffic_drain` or `steady_state`.
    pub name: String,
    /// 0..=1.
    pub confidence: f64,
    /// What it changed, in words.
    pub effect: String,
}

/// The schedule hint active at this decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct HintReading {
    pub name: String,
    pub target_replicas: i32,
    /// Unix µs of the firing the window started at.
    pub fired_at: i64,
    /// Unix µs the window ends.
    pub until: i64,
}

impl MetricReading {
    /// "queue 20 vs target 4 proposes 10", "queue unavailable (why)", "queue not read":
    /// the reading as every strategy's sentence words it.
    pub fn describe(&self) -> String {
        match (&self.error, self.value, self.proposed_replicas) {
            (Some(error), _, _) => format!("{} unavailable ({error})", self.metric),
            (None, Some(value), Some(replicas)) => format!(
                "{} {} vs target {} proposes {replicas}",
                self.metric,
                round3(value),
                round3(self.target)
            ),
            (None, Some(value), None) => format!(
                "{} {} vs target {}",
                self.metric,
                round3(value),
                round3(self.target)
            ),
            (None, None, _) => format!("{} not read", self.metric),
        }
    }
}

/// Three decimals at most, without trailing zeros, for sentences.
pub(crate) fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// The output of one decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// The observation's time.
    pub at: Micros,
    pub strategy: ScalingStrategy,
    /// `scale.spec.replicas` when the decision was taken.
    pub current_replicas: i32,
    /// What the target should be scaled to.
    pub desired_replicas: i32,
    pub reason: Reason,
    /// KPA only: the decider is in panic mode.
    pub in_panic: bool,
    /// Every configured metric, in manifest order.
    pub metrics: Vec<MetricReading>,
    /// One sentence a person can read: what was seen, what was proposed, what limited it.
    pub message: String,
    /// BudScaler: the input that set the count before behavior limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<DecidedBy>,
    /// BudScaler: the demand forecast, when prediction is enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast: Option<ForecastReading>,
    /// BudScaler: the traffic pattern detected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<PatternReading>,
    /// BudScaler: the schedule hint active now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_hint: Option<HintReading>,
    /// The Kubernetes conditions this decision sets, each on its own.
    #[serde(default)]
    pub conditions: Conditions,
    /// How many of `desired_replicas` should run on spot capacity (BudScaler with
    /// `costConfig.enabled`; see `budscaler::spot`); `None`: the driver places as it
    /// always does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_spot_replicas: Option<i32>,
}

/// The conditions a decision sets, kept apart as the Kubernetes HPA keeps them: a single
/// [`Reason`] flattens them (a decision held by a stabilization window *and* clamped to
/// `maxReplicas` has both), and a status shows each separately.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conditions {
    /// `AbleToScale`: True with `ReadyForNewScale`, or `ScaleUpStabilized` /
    /// `ScaleDownStabilized` when a stabilization window held the recommendation.
    /// (False, when the target's scale cannot be read or written, is a driver's to set.)
    pub able_to_scale: Condition,
    /// `ScalingActive`: True with `ValidMetricFound`; False with `ScalingDisabled` (the
    /// target is at 0 while `minReplicas` is not), `FailedGetMetrics` (no usable metric)
    /// or `NoMetrics`.
    pub scaling_active: Condition,
    /// `ScalingLimited`: True with `TooManyReplicas`, `TooFewReplicas`, `ScaleUpLimit`
    /// or `ScaleDownLimit`; False with `DesiredWithinRange`.
    pub scaling_limited: Condition,
}

/// One condition: its status and its reason (a CamelCase word, as Kubernetes writes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    pub status: bool,
    pub reason: String,
}

impl Condition {
    fn new(status: bool, reason: &str) -> Condition {
        Condition {
            status,
            reason: reason.to_string(),
        }
    }
}

impl Default for Conditions {
    fn default() -> Conditions {
        Conditions {
            able_to_scale: Condition::new(true, "ReadyForNewScale"),
            scaling_active: Condition::new(true, "ValidMetricFound"),
            scaling_limited: Condition::new(false, "DesiredWithinRange"),
        }
    }
}

impl Conditions {
    /// From the HPA behavior's two verdicts (stabilization, then limits), for a decision
    /// whose metrics were read (`inactive`: `None`) or not (`Some(reason)`).
    pub fn of(
        stabilization: Option<crate::hpa::StabilizationReason>,
        limit: Option<crate::hpa::LimitReason>,
        inactive: Option<&str>,
    ) -> Conditions {
        use crate::hpa::{LimitReason, StabilizationReason};
        let mut conditions = Conditions::default();
        match stabilization {
            Some(StabilizationReason::ScaleUpStabilized) => {
                conditions.able_to_scale = Condition::new(true, "ScaleUpStabilized");
            }
            Some(StabilizationReason::ScaleDownStabilized) => {
                conditions.able_to_scale = Condition::new(true, "ScaleDownStabilized");
            }
            _ => {}
        }
        conditions.scaling_limited = match limit {
            Some(LimitReason::ScaleUpLimit) => Condition::new(true, "ScaleUpLimit"),
            Some(LimitReason::ScaleDownLimit) => Condition::new(true, "ScaleDownLimit"),
            Some(LimitReason::TooManyReplicas) => Condition::new(true, "TooManyReplicas"),
            Some(LimitReason::TooFewReplicas) => Condition::new(true, "TooFewReplicas"),
            Some(LimitReason::DesiredWithinRange) | None => {
                Condition::new(false, "DesiredWithinRange")
            }
        };
        if let Some(reason) = inactive {
            conditions.scaling_active = Condition::new(false, reason);
        }
        conditions
    }

    /// From a [`Reason`] alone, where it is all a strategy reports (the KPA).
    pub fn from_reason(reason: Reason) -> Conditions {
        let mut conditions = Conditions::default();
        match reason {
            Reason::ScaleUpStabilized => {
                conditions.able_to_scale = Condition::new(true, "ScaleUpStabilized");
            }
            Reason::ScaleDownStabilized | Reason::ScaleDownDelay => {
                conditions.able_to_scale = Condition::new(true, "ScaleDownStabilized");
            }
            Reason::ScaleUpLimit | Reason::MaxScaleUpRate => {
                conditions.scaling_limited = Condition::new(true, "ScaleUpLimit");
            }
            Reason::ScaleDownLimit | Reason::MaxScaleDownRate => {
                conditions.scaling_limited = Condition::new(true, "ScaleDownLimit");
            }
            Reason::TooManyReplicas | Reason::AboveMaxReplicas => {
                conditions.scaling_limited = Condition::new(true, "TooManyReplicas");
            }
            Reason::TooFewReplicas | Reason::BelowMinReplicas => {
                conditions.scaling_limited = Condition::new(true, "TooFewReplicas");
            }
            Reason::ScalingDisabled => {
                conditions.scaling_active = Condition::new(false, "ScalingDisabled");
            }
            Reason::MetricsUnavailable => {
                conditions.scaling_active = Condition::new(false, "FailedGetMetrics");
            }
            Reason::NoMetrics => conditions.scaling_active = Condition::new(false, "NoMetrics"),
            Reason::BudgetLimit => {
                conditions.scaling_limited = Condition::new(true, "BudgetLimit");
            }
            _ => {}
        }
        conditions
    }
}
