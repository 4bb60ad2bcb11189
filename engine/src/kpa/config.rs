//! KPA configuration: Knative's `DeciderSpec` plus the scale-to-zero settings of
//! `config-autoscaler`, with Knative's defaults.

use crate::time::{Micros, SECOND};
use crate::window::Algorithm;
use serde::{Deserialize, Serialize};

/// Knative's autoscaler tick: the decider runs every 2 s, and the scale-down delay window
/// counts in buckets of this width.
pub const TICK_INTERVAL: Micros = 2 * SECOND;

/// Width of the metric buckets of the stable and panic windows (`config.BucketSize`).
pub const METRIC_BUCKET: Micros = SECOND;

/// Longest stable window or scale-down delay Knative accepts (`autoscaling.WindowMax`).
pub const MAX_WINDOW: Micros = 3_600 * SECOND;

/// Knative's default `container-concurrency-target-default`.
pub const DEFAULT_CONCURRENCY_TARGET: f64 = 100.0;

/// Knative's default `container-concurrency-target-percentage` (as a fraction).
pub const DEFAULT_TARGET_UTILIZATION: f64 = 0.7;

/// Everything one KPA decision depends on. Field names follow Knative's `DeciderSpec`
/// and `config-autoscaler`; the defaults are Knative's (see [`Default`]).
///
/// Ratios are plain ratios: a panic threshold of 2.0 is Knative's 200 %.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KpaConfig {
    /// Desired metric value per pod (concurrency or RPS). Knative derives it as
    /// `container-concurrency-target-default × target-utilization` = 100 × 0.7 = 70.
    pub target_value: f64,
    /// Metric value one pod can absorb at most, used for the excess burst capacity:
    /// the target before utilization, 100 by default.
    pub total_value: f64,
    /// Spare capacity (in metric units) the revision should keep above the observed panic
    /// value before the activator leaves the request path. 0: the activator is only in the
    /// path at zero scale; -1: always in the path (unlimited). Default 211.
    pub target_burst_capacity: f64,
    /// Panic when `ceil(panic value / target) / ready pods` reaches this ratio. Default 2.0.
    pub panic_threshold: f64,
    /// Desired pods never exceed `ceil(rate × ready pods)`. Default 1000.
    pub max_scale_up_rate: f64,
    /// Desired pods never go below `floor(ready pods / rate)` while reachable. Default 2.
    pub max_scale_down_rate: f64,
    /// Length of the stable window; also how long panic outlasts its trigger and how long
    /// an active revision idles before it may be deactivated. Default 60 s.
    pub stable_window: Micros,
    /// Panic window as a percentage of the stable window. Default 10 (%).
    pub panic_window_percentage: f64,
    /// How the metric windows average raw observations. Default linear.
    pub aggregation: Algorithm,
    /// Scale-down decisions only take effect after this long at the lower value (the
    /// maximum over the delay window wins). 0 disables the window. Default 0.
    ///
    /// Like upstream, the delay window is created with the decider: changing this value
    /// afterwards does not create, resize or remove it.
    pub scale_down_delay: Micros,
    /// Minimum non-zero desired scale (activating from zero brings up at least this many
    /// pods). Values ≤ 1 have no effect. Default 1.
    pub activation_scale: i32,
    /// Whether any route sends traffic to the revision. An unreachable revision ignores
    /// the max scale-down rate and the scale-down delay. Default true.
    pub reachable: bool,
    /// Whether the revision may scale to zero at all. Default true.
    pub enable_scale_to_zero: bool,
    /// How long the activator must have been in the request path of an inactive revision
    /// before its pods are removed. Default 30 s.
    pub scale_to_zero_grace_period: Micros,
    /// How long the last pod is kept after the revision became inactive. Default 0.
    pub scale_to_zero_pod_retention_period: Micros,
    /// Scale of a new revision until it first became ready at that scale. Default 1.
    pub initial_scale: i32,
    /// Whether `initial_scale` may be 0. Default false.
    pub allow_zero_initial_scale: bool,
    /// Lower scale bound (`autoscaling.knative.dev/min-scale`). Default 0.
    pub min_scale: i32,
    /// Upper scale bound; 0 means unbounded. Default 0.
    pub max_scale: i32,
    /// A revision still activating after this long is given up and scaled to zero:
    /// the deployment progress deadline (600 s) plus a 10 s buffer.
    pub activation_timeout: Micros,
}

impl Default for KpaConfig {
    fn default() -> Self {
        KpaConfig {
            target_value: DEFAULT_CONCURRENCY_TARGET * DEFAULT_TARGET_UTILIZATION,
            total_value: DEFAULT_CONCURRENCY_TARGET,
            target_burst_capacity: 211.0,
            panic_threshold: 2.0,
            max_scale_up_rate: 1000.0,
            max_scale_down_rate: 2.0,
            stable_window: 60 * SECOND,
            panic_window_percentage: 10.0,
            aggregation: Algorithm::Linear,
            scale_down_delay: 0,
            activation_scale: 1,
            reachable: true,
            enable_scale_to_zero: true,
            scale_to_zero_grace_period: 30 * SECOND,
            scale_to_zero_pod_retention_period: 0,
            initial_scale: 1,
            allow_zero_initial_scale: false,
            min_scale: 0,
            max_scale: 0,
            activation_timeout: 610 * SECOND,
        }
    }
}

/// A [`KpaConfig`] field outside the range the decider can work with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("kpa config: {field} = {found}: {expected}")]
pub struct KpaConfigError {
    pub field: &'static str,
    pub found: String,
    pub expected: &'static str,
}

impl KpaConfig {
    /// Checks the ranges the arithmetic relies on. Deliberately looser than Knative's
    /// config-map validation (which, for example, demands a stable window of at least
    /// 6 s): upstream's own decider tests use a zero stable window and a zero total value,
    /// and those must keep working.
    pub fn validate(&self) -> Result<(), KpaConfigError> {
        fn err(
            field: &'static str,
            found: impl ToString,
            expected: &'static str,
        ) -> KpaConfigError {
            KpaConfigError {
                field,
                found: found.to_string(),
                expected,
            }
        }
        let positive = |field, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(err(field, v, "expected a finite number > 0"))
            }
        };
        positive("target_value", self.target_value)?;
        positive("panic_threshold", self.panic_threshold)?;
        positive("max_scale_up_rate", self.max_scale_up_rate)?;
        positive("max_scale_down_rate", self.max_scale_down_rate)?;
        if !(self.total_value.is_finite() && self.total_value >= 0.0) {
            return Err(err(
                "total_value",
                self.total_value,
                "expected a finite number >= 0",
            ));
        }
        let tbc = self.target_burst_capacity;
        if !(tbc.is_finite() && (tbc >= 0.0 || tbc == -1.0)) {
            return Err(err(
                "target_burst_capacity",
                tbc,
                "expected a number >= 0, or -1 (unlimited)",
            ));
        }
        if !(self.panic_window_percentage > 0.0 && self.panic_window_percentage <= 100.0) {
            return Err(err(
                "panic_window_percentage",
                self.panic_window_percentage,
                "expected a percentage in (0, 100]",
            ));
        }
        let non_negative = |field, v: Micros| {
            if v >= 0 {
                Ok(())
            } else {
                Err(err(field, v, "expected a duration >= 0 µs"))
            }
        };
        let window = |field, v: Micros| {
            if (0..=MAX_WINDOW).contains(&v) {
                Ok(())
            } else {
                Err(err(field, v, "expected a duration in [0, 1 h]"))
            }
        };
        window("stable_window", self.stable_window)?;
        window("scale_down_delay", self.scale_down_delay)?;
        non_negative(
            "scale_to_zero_pod_retention_period",
            self.scale_to_zero_pod_retention_period,
        )?;
        non_negative("activation_timeout", self.activation_timeout)?;
        if self.scale_to_zero_grace_period <= 0 {
            return Err(err(
                "scale_to_zero_grace_period",
                self.scale_to_zero_grace_period,
                "expected a duration > 0 µs",
            ));
        }
        if self.activation_scale < 1 {
            return Err(err(
                "activation_scale",
                self.activation_scale,
                "expected an integer >= 1",
            ));
        }
        if self.initial_scale < 0 || (self.initial_scale == 0 && !self.allow_zero_initial_scale) {
            return Err(err(
                "initial_scale",
                self.initial_scale,
                "expected >= 1 (or 0 with allow_zero_initial_scale)",
            ));
        }
        if self.min_scale < 0 {
            return Err(err("min_scale", self.min_scale, "expected an integer >= 0"));
        }
        if self.max_scale < 0 || (self.max_scale > 0 && self.max_scale < self.min_scale) {
            return Err(err(
                "max_scale",
                self.max_scale,
                "expected 0 (unbounded) or an integer >= min_scale",
            ));
        }
        Ok(())
    }

    /// The panic window: `stable_window × panic_window_percentage / 100`, rounded to whole
    /// metric buckets (half away from zero, like Go's `Duration.Round`) and at least one
    /// bucket.
    pub fn panic_window(&self) -> Micros {
        let raw = self.stable_window as f64 * self.panic_window_percentage / 100.0;
        let raw = raw as Micros;
        let rounded = (raw + METRIC_BUCKET / 2).div_euclid(METRIC_BUCKET) * METRIC_BUCKET;
        rounded.max(METRIC_BUCKET)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_knatives_and_valid() {
        let c = KpaConfig::default();
        assert_eq!(c.target_value, 70.0);
        assert_eq!(c.stable_window, 60 * SECOND);
        assert_eq!(c.panic_window(), 6 * SECOND);
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn panic_window_rounds_to_buckets_and_has_a_floor() {
        let mut c = KpaConfig {
            stable_window: 7 * SECOND,
            ..KpaConfig::default()
        };
        assert_eq!(c.panic_window(), SECOND);
        c.panic_window_percentage = 50.0;
        assert_eq!(c.panic_window(), 4 * SECOND);
        c.stable_window = 0;
        assert_eq!(c.panic_window(), SECOND);
    }

    #[test]
    fn invalid_fields_are_named() {
        let c = KpaConfig {
            target_burst_capacity: -2.0,
            ..KpaConfig::default()
        };
        assert_eq!(c.validate().unwrap_err().field, "target_burst_capacity");
        let c = KpaConfig {
            target_value: 0.0,
            ..KpaConfig::default()
        };
        assert_eq!(c.validate().unwrap_err().field, "target_value");
    }
}
