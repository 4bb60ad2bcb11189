//! `spec.kpaConfig`: Knative Pod Autoscaler knobs, with Knative's defaults and ranges.
//!
//! Names follow Knative's `config-autoscaler` keys in camelCase, and values mean what
//! they mean there: `panicThresholdPercentage: 200` panics at 2× capacity and
//! `panicWindowPercentage: 10` makes the panic window 10% of the stable window. (The
//! seed read these from annotations and mixed ratios with percentages; we do not.)

use super::defaults;
use super::duration::ManifestDuration;
use super::validate::{Problems, field};
use crate::time::{Micros, SECOND, seconds};
use serde::{Deserialize, Serialize};

/// Knative's shortest stable window (`autoscaling.WindowMin`).
pub const WINDOW_MIN: Micros = seconds(6);
/// Knative's longest window and scale-down delay (`autoscaling.WindowMax`).
pub const WINDOW_MAX: Micros = seconds(3600);
/// Knative's metric bucket: the panic window is never shorter.
pub const BUCKET: Micros = SECOND;

/// `spec.kpaConfig` as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct KpaConfig {
    /// Averaging window of stable mode, 6s..=1h in whole seconds. Default 60s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stable_window: Option<ManifestDuration>,
    /// Panic window as a percentage of the stable window, 1..=100. Default 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub panic_window_percentage: Option<f64>,
    /// Enter panic mode when demand reaches this percentage of current capacity,
    /// 110..=1000. Default 200 (2×).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub panic_threshold_percentage: Option<f64>,
    /// At most `current × rate` replicas per decision, > 1. Default 1000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_scale_up_rate: Option<f64>,
    /// At least `current ÷ rate` replicas per decision, > 1. Default 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_scale_down_rate: Option<f64>,
    /// Spare capacity (in metric units) kept before requests bypass the activator;
    /// >= 0, or -1 for unlimited. Default 211.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_burst_capacity: Option<f64>,
    /// How long the last replica stays after traffic stops before scaling to zero, > 0.
    /// Default 30s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_to_zero_grace_period: Option<ManifestDuration>,
    /// Minimum time the last pod is kept once scale to zero is decided, 0..=1h. Default 0s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_to_zero_pod_retention_period: Option<ManifestDuration>,
    /// Scale-down decisions use the maximum over this trailing window, 0..=1h in whole
    /// seconds. Default 0s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_down_delay: Option<ManifestDuration>,
    /// Minimum replicas when scaling up from zero, minReplicas..=maxReplicas. Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation_scale: Option<i32>,
    /// Replicas a new scaler starts at, >= 1 (0 needs `allowZeroInitialScale`). Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_scale: Option<i32>,
    /// Whether `initialScale: 0` is allowed. Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_zero_initial_scale: Option<bool>,
    /// The share of a replica's capacity to plan for, 1..=100 (Knative's
    /// `target-utilization-percentage`). Read by BudScaler only (default 80): it is the
    /// headroom knob that trades GPU-hours for SLO margin. A KPA manifest's
    /// `targetValue` is already the target after utilization, so KPA refuses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_utilization_percentage: Option<f64>,
}

impl KpaConfig {
    /// `allowZeroInitialScale` as written, else its default (`false`).
    pub fn allow_zero_initial_scale(&self) -> bool {
        self.allow_zero_initial_scale
            .unwrap_or(defaults::KPA_ALLOW_ZERO_INITIAL_SCALE)
    }
}

/// Validated KPA knobs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedKpa {
    pub stable_window: Micros,
    pub panic_window_percentage: f64,
    pub panic_threshold_percentage: f64,
    pub max_scale_up_rate: f64,
    pub max_scale_down_rate: f64,
    pub target_burst_capacity: f64,
    pub scale_to_zero_grace_period: Micros,
    pub scale_to_zero_pod_retention_period: Micros,
    pub scale_down_delay: Micros,
    pub activation_scale: i32,
    pub initial_scale: i32,
    pub allow_zero_initial_scale: bool,
    /// `targetUtilizationPercentage` as a fraction (BudScaler's sizing target).
    pub target_utilization: f64,
}

impl ResolvedKpa {
    /// The panic window: `stable window × percentage / 100`, at least one bucket (1s),
    /// as Knative computes it.
    pub fn panic_window(&self) -> Micros {
        let window =
            (self.stable_window as f64 * self.panic_window_percentage / 100.0).round() as Micros;
        window.max(BUCKET)
    }

    /// The panic threshold as a ratio of demand to capacity (200% → 2.0).
    pub fn panic_threshold_ratio(&self) -> f64 {
        self.panic_threshold_percentage / 100.0
    }
}

/// The replica bounds and rate fallbacks the KPA checks depend on.
pub(crate) struct KpaContext {
    pub min_replicas: i32,
    pub max_replicas: i32,
    /// `behavior.scaleUp.maxScaleRate`, used when `maxScaleUpRate` is left out.
    pub scale_up_rate_fallback: Option<f64>,
    /// `behavior.scaleDown.maxScaleRate`, used when `maxScaleDownRate` is left out.
    pub scale_down_rate_fallback: Option<f64>,
}

impl KpaConfig {
    pub(crate) fn resolve(
        config: Option<&KpaConfig>,
        path: &str,
        ctx: &KpaContext,
        p: &mut Problems,
    ) -> ResolvedKpa {
        let empty = KpaConfig::default();
        let c = config.unwrap_or(&empty);
        let duration = |p: &mut Problems,
                        name: &str,
                        value: &Option<ManifestDuration>,
                        default: Micros| match value {
            None => default,
            Some(d) => d.micros().unwrap_or_else(|err| {
                p.push(field(path, name), err.to_string());
                default
            }),
        };
        let float =
            |p: &mut Problems, name: &str, value: Option<f64>, default: f64, lo: f64, hi: f64| {
                match value {
                    None => default,
                    Some(v) if p.in_range_f64(&field(path, name), v, lo, hi) => v,
                    Some(_) => default,
                }
            };
        let rate = |p: &mut Problems,
                    name: &str,
                    value: Option<f64>,
                    fallback: Option<f64>,
                    default: f64| match value {
            None => fallback.unwrap_or(default),
            Some(v) if v > 1.0 && v.is_finite() => v,
            Some(v) => {
                p.push(field(path, name), format!("must be > 1 (found {v})"));
                default
            }
        };

        let stable_window = duration(
            p,
            "stableWindow",
            &c.stable_window,
            defaults::KPA_STABLE_WINDOW,
        );
        if c.stable_window.is_some() {
            check_window(
                p,
                &field(path, "stableWindow"),
                stable_window,
                WINDOW_MIN,
                WINDOW_MAX,
            );
        }
        let panic_window_percentage = float(
            p,
            "panicWindowPercentage",
            c.panic_window_percentage,
            defaults::KPA_PANIC_WINDOW_PERCENTAGE,
            1.0,
            100.0,
        );
        let panic_threshold_percentage = float(
            p,
            "panicThresholdPercentage",
            c.panic_threshold_percentage,
            defaults::KPA_PANIC_THRESHOLD_PERCENTAGE,
            110.0,
            1000.0,
        );
        let max_scale_up_rate = rate(
            p,
            "maxScaleUpRate",
            c.max_scale_up_rate,
            ctx.scale_up_rate_fallback,
            defaults::KPA_MAX_SCALE_UP_RATE,
        );
        let max_scale_down_rate = rate(
            p,
            "maxScaleDownRate",
            c.max_scale_down_rate,
            ctx.scale_down_rate_fallback,
            defaults::KPA_MAX_SCALE_DOWN_RATE,
        );
        let target_burst_capacity = match c.target_burst_capacity {
            None => defaults::KPA_TARGET_BURST_CAPACITY,
            Some(v) if (v >= 0.0 && v.is_finite()) || v == -1.0 => v,
            Some(v) => {
                p.push(
                    field(path, "targetBurstCapacity"),
                    format!("must be >= 0, or -1 for unlimited (found {v})"),
                );
                defaults::KPA_TARGET_BURST_CAPACITY
            }
        };
        let grace = duration(
            p,
            "scaleToZeroGracePeriod",
            &c.scale_to_zero_grace_period,
            defaults::KPA_SCALE_TO_ZERO_GRACE_PERIOD,
        );
        if grace <= 0 {
            p.push(
                field(path, "scaleToZeroGracePeriod"),
                format!(
                    "must be > 0s (found {})",
                    show(&c.scale_to_zero_grace_period)
                ),
            );
        }
        let retention = duration(
            p,
            "scaleToZeroPodRetentionPeriod",
            &c.scale_to_zero_pod_retention_period,
            defaults::KPA_SCALE_TO_ZERO_POD_RETENTION_PERIOD,
        );
        if !(0..=WINDOW_MAX).contains(&retention) {
            p.push(
                field(path, "scaleToZeroPodRetentionPeriod"),
                format!(
                    "must be in 0s..=1h (found {})",
                    show(&c.scale_to_zero_pod_retention_period)
                ),
            );
        }
        let delay = duration(
            p,
            "scaleDownDelay",
            &c.scale_down_delay,
            defaults::KPA_SCALE_DOWN_DELAY,
        );
        if c.scale_down_delay.is_some() {
            check_window(p, &field(path, "scaleDownDelay"), delay, 0, WINDOW_MAX);
        }
        let activation_scale = c.activation_scale.unwrap_or(defaults::KPA_ACTIVATION_SCALE);
        if c.activation_scale.is_some() {
            let lo = ctx.min_replicas.max(1);
            p.in_range(
                &field(path, "activationScale"),
                i64::from(activation_scale),
                i64::from(lo),
                i64::from(ctx.max_replicas.max(lo)),
            );
        }
        let allow_zero = c.allow_zero_initial_scale();
        let initial_scale = c.initial_scale.unwrap_or(defaults::KPA_INITIAL_SCALE);
        if initial_scale < 0 || (initial_scale == 0 && !allow_zero) {
            p.push(
                field(path, "initialScale"),
                format!(
                    "must be >= 1, or 0 with allowZeroInitialScale: true (found {initial_scale})"
                ),
            );
        }
        let target_utilization = float(
            p,
            "targetUtilizationPercentage",
            c.target_utilization_percentage,
            defaults::BUDSCALER_TARGET_UTILIZATION_PERCENTAGE,
            1.0,
            100.0,
        ) / 100.0;
        ResolvedKpa {
            stable_window,
            panic_window_percentage,
            panic_threshold_percentage,
            max_scale_up_rate,
            max_scale_down_rate,
            target_burst_capacity,
            scale_to_zero_grace_period: grace,
            scale_to_zero_pod_retention_period: retention,
            scale_down_delay: delay,
            activation_scale,
            initial_scale,
            allow_zero_initial_scale: allow_zero,
            target_utilization,
        }
    }
}

/// Knative's window rule: within `lo..=hi` and in whole seconds.
fn check_window(p: &mut Problems, path: &str, value: Micros, lo: Micros, hi: Micros) {
    if !(lo..=hi).contains(&value) {
        p.push(
            path,
            format!(
                "must be in {}s..={}s (found {}s)",
                lo / SECOND,
                hi / SECOND,
                crate::time::to_secs_f64(value)
            ),
        );
    } else if value % SECOND != 0 {
        p.push(
            path,
            format!(
                "must be a whole number of seconds (found {}s)",
                crate::time::to_secs_f64(value)
            ),
        );
    }
}

fn show(value: &Option<ManifestDuration>) -> String {
    value
        .as_ref()
        .map_or_else(String::new, ManifestDuration::to_string)
}
