//! Knative's KPA (Knative Pod Autoscaler), exactly as upstream Knative Serving computes it.
//!
//! Two layers, usable separately:
//!
//! - [`Decider`]: the autoscaler's per-tick decision (stable/panic windows, panic mode
//!   and its ratchet, scale-up/down rates, activation scale, scale-down delay, excess
//!   burst capacity). The conformance cases exercise this layer.
//! - [`Kpa`]: the decider plus the metric windows and the reconciler's scale-to-zero
//!   timeline (grace period, pod retention, initial scale, activation timeout). This is
//!   what a scaler calls once per tick.
//!
//! # Calling it from a scaler
//!
//! ```
//! use engine::kpa::{Kpa, KpaConfig, Load, Tick};
//! use engine::time::SECOND;
//!
//! let config = KpaConfig { target_value: 10.0, ..KpaConfig::default() };
//! let mut kpa = Kpa::new(&config, 0, 1).unwrap();
//! // Either record the revision's total metric (sum over pods) as it is observed ...
//! kpa.record(0, 35.0);
//! let out = kpa.decide(&config, Tick { now: SECOND, ready_pods: 1, current_replicas: 1 }, Load::Recorded);
//! assert_eq!(out.desired, 4);
//! // ... or hand over averages computed elsewhere.
//! let out = kpa.decide(&config, Tick { now: 3 * SECOND, ready_pods: 4, current_replicas: 4 },
//!     Load::Averaged { stable: 35.0, panic: 35.0 });
//! assert_eq!(out.desired, 4);
//! ```
//!
//! Upstream references (knative/serving): `pkg/autoscaler/scaling/autoscaler.go`,
//! `pkg/autoscaler/aggregation/`, `pkg/autoscaler/config/config.go`,
//! `pkg/reconciler/autoscaling/kpa/{scaler.go,kpa.go}`.

mod config;
mod decider;
mod metrics;
mod scale_to_zero;

pub use config::{
    DEFAULT_CONCURRENCY_TARGET, DEFAULT_TARGET_UTILIZATION, KpaConfig, KpaConfigError, MAX_WINDOW,
    METRIC_BUCKET, TICK_INTERVAL,
};
pub use decider::{Decider, DeciderResult};
pub use metrics::MetricWindows;
pub use scale_to_zero::{Activity, Reconciled, ScaleToZero};

use crate::time::Micros;
use serde::{Deserialize, Serialize};

/// What determined a KPA decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reason {
    /// `ceil(stable / target)`, within the rate limits.
    Stable,
    /// In panic, `max(stable, panic)` pods, within the rate limits.
    Panic,
    /// In panic, holding the panic's maximum instead of scaling down.
    PanicRatchet,
    /// Capped at `ceil(max_scale_up_rate × ready pods)`.
    MaxScaleUpRate,
    /// Floored at `floor(ready pods / max_scale_down_rate)`.
    MaxScaleDownRate,
    /// Below the scale-down-rate floor because the revision is unreachable.
    Unreachable,
    /// Raised to the activation scale.
    ActivationScale,
    /// Held at the maximum of the scale-down delay window.
    ScaleDownDelay,
    /// Raised to `min_scale`.
    MinScale,
    /// Capped at `max_scale`.
    MaxScale,
    /// Raised to the initial scale of a revision not yet initialized.
    InitialScale,
    /// The decider wants zero; waiting for the stable window (active) or the grace
    /// period (inactive) first.
    ScaleToZeroGrace,
    /// The decider wants zero; keeping the last pod for the pod retention period.
    PodRetention,
    /// The decider wants zero but scale-to-zero is disabled: one pod stays.
    ScaleToZeroDisabled,
    /// The revision did not become ready within the activation timeout: scaled to zero.
    ActivationTimeout,
    /// No metric data yet: the scale target is left as it is.
    NoMetrics,
    /// The config passed to [`Kpa::decide`] failed [`KpaConfig::validate`]: the scale
    /// target is left as it is.
    InvalidConfig,
}

/// Where the decider's stable and panic values come from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Load {
    /// Averages of the revision's total metric over the stable and panic windows,
    /// computed by the caller.
    Averaged { stable: f64, panic: f64 },
    /// Averages of what was passed to [`Kpa::record`].
    Recorded,
}

/// The observed state of the scale target at one tick.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tick {
    /// The decision instant. Ticks are expected in non-decreasing time order.
    pub now: Micros,
    /// Ready pods of the revision.
    pub ready_pods: i32,
    /// `spec.replicas` of the scale target.
    pub current_replicas: i32,
}

/// One KPA decision.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KpaOutcome {
    /// Replicas the scale target should have (equal to `current_replicas` when the KPA
    /// leaves it alone).
    pub desired: i32,
    /// The decider's latest desired pod count; `None` before the first metrics.
    pub decider_desired: Option<i32>,
    /// The decider's latest excess burst capacity.
    pub excess_burst_capacity: i32,
    /// The decider is in panic.
    pub in_panic: bool,
    /// The activator is in the request path (proxy mode).
    pub activator_in_path: bool,
    /// The revision's activity.
    pub activity: Activity,
    /// What determined `desired`.
    pub reason: Reason,
}

/// Everything a [`Kpa`] remembers between ticks; serialize it to persist a scaler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpaState {
    pub decider: Decider,
    pub metrics: MetricWindows,
    pub scale_to_zero: ScaleToZero,
    /// The decider's latest valid result (upstream keeps it in the Decider status).
    pub last_decision: Option<DeciderResult>,
}

/// A Knative KPA for one revision: decider, metric windows and scale-to-zero timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Kpa {
    state: KpaState,
}

impl Kpa {
    /// A KPA created at `now` while `ready_pods` pods are ready (more than one starts the
    /// decider in panic, see [`Decider::new`]). Fails on an invalid `config`.
    pub fn new(config: &KpaConfig, now: Micros, ready_pods: i32) -> Result<Self, KpaConfigError> {
        config.validate()?;
        let metrics = MetricWindows::new(config).map_err(|e| KpaConfigError {
            field: "stable_window",
            found: config.stable_window.to_string(),
            expected: window_error_text(&e),
        })?;
        Ok(Kpa {
            state: KpaState {
                decider: Decider::new(config, now, ready_pods),
                metrics,
                scale_to_zero: ScaleToZero::new(now),
                last_decision: None,
            },
        })
    }

    /// Resumes from a persisted state.
    pub fn from_state(state: KpaState) -> Self {
        Kpa { state }
    }

    /// The state to persist.
    pub fn state(&self) -> &KpaState {
        &self.state
    }

    /// Records one observation of the revision's total metric (sum over its pods of
    /// concurrency or RPS), for [`Load::Recorded`]. Non-finite values are ignored: one
    /// NaN would otherwise poison the windows for a whole stable window.
    pub fn record(&mut self, now: Micros, value: f64) {
        if value.is_finite() {
            self.state.metrics.record(now, value);
        }
    }

    /// One tick: the decider (when there are metrics), then the reconciler.
    ///
    /// `config` may change between ticks, except that the scale-down delay window keeps
    /// the size it had at creation (as upstream) and the metric windows start over when
    /// their lengths or algorithm change. An invalid config leaves the scale target
    /// unchanged with reason [`Reason::InvalidConfig`] (validate configs up front with
    /// [`KpaConfig::validate`]); non-finite averages count as missing metrics.
    pub fn decide(&mut self, config: &KpaConfig, tick: Tick, load: Load) -> KpaOutcome {
        let state = &mut self.state;
        if config.validate().is_err() {
            return KpaOutcome {
                desired: tick.current_replicas,
                decider_desired: state.last_decision.map(|d| d.desired),
                excess_burst_capacity: state.last_decision.map_or(0, |d| d.excess_burst_capacity),
                in_panic: state.decider.in_panic(),
                activator_in_path: false,
                activity: state.scale_to_zero.activity(),
                reason: Reason::InvalidConfig,
            };
        }
        if !state.metrics.matches(config)
            && let Ok(fresh) = MetricWindows::new(config)
        {
            state.metrics = fresh;
        }
        let values = match load {
            Load::Averaged { stable, panic } => {
                Some((stable, panic)).filter(|_| stable.is_finite() && panic.is_finite())
            }
            Load::Recorded => state.metrics.averages(tick.now),
        };
        if let Some((stable, panic)) = values {
            state.last_decision =
                Some(
                    state
                        .decider
                        .scale(config, tick.now, tick.ready_pods, stable, panic),
                );
        }
        let decided = state.last_decision.map(|d| d.desired);
        let ebc = state.last_decision.map_or(0, |d| d.excess_burst_capacity);
        let reconciled = state.scale_to_zero.reconcile(
            config,
            tick.now,
            decided,
            ebc,
            tick.ready_pods,
            tick.current_replicas,
        );
        let reason = reconciled
            .reason
            .or(state.last_decision.map(|d| d.reason))
            .unwrap_or(Reason::NoMetrics);
        KpaOutcome {
            desired: reconciled.replicas,
            decider_desired: decided,
            excess_burst_capacity: ebc,
            in_panic: state.decider.in_panic(),
            activator_in_path: reconciled.activator_in_path,
            activity: reconciled.activity,
            reason,
        }
    }
}

fn window_error_text(e: &crate::window::WindowError) -> &'static str {
    match e {
        crate::window::WindowError::TooManyBuckets { .. } => {
            "a window short enough for its bucket count"
        }
        _ => "a positive window length",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SECOND;

    fn tick(now_s: i64, ready: i32) -> Tick {
        Tick {
            now: now_s * SECOND,
            ready_pods: ready,
            current_replicas: ready,
        }
    }

    #[test]
    fn burst_then_silence_scales_up_then_to_zero() {
        let config = KpaConfig {
            target_value: 10.0,
            ..KpaConfig::default()
        };
        let mut kpa = Kpa::new(&config, 0, 1).unwrap();
        let mut replicas = 1;
        let mut seen_max = 0;
        let mut zero_at = None;
        for t in 0..400 {
            // The metric pipeline reports every second, zeros included.
            kpa.record(t * SECOND, if t < 30 { 95.0 } else { 0.0 });
            if t % 2 == 0 {
                let out = kpa.decide(&config, tick(t, replicas), Load::Recorded);
                replicas = out.desired;
                seen_max = seen_max.max(replicas);
                if replicas == 0 && zero_at.is_none() {
                    zero_at = Some(t);
                }
            }
        }
        assert_eq!(seen_max, 10);
        // Panic (entered at t=0) ends at t=62; the stable average then decays, pods
        // halve at most per tick (max scale-down rate 2), and the EBC turns negative at
        // t=80 with 2 pods, which puts the activator in the path. The decider wants 0 at
        // t=90: the revision, active for longer than a stable window, turns inactive at
        // once, and its last pod goes when the activator has been in the path for the
        // 30 s grace period (80 + 30).
        assert_eq!(zero_at, Some(110));
    }

    #[test]
    fn invalid_config_leaves_the_target_alone() {
        let config = KpaConfig::default();
        let mut kpa = Kpa::new(&config, 0, 1).unwrap();
        let bad = KpaConfig {
            target_value: -1.0,
            ..config
        };
        let out = kpa.decide(
            &bad,
            tick(2, 3),
            Load::Averaged {
                stable: 10.0,
                panic: 10.0,
            },
        );
        assert_eq!((out.desired, out.reason), (3, Reason::InvalidConfig));
        assert!(Kpa::new(&bad, 0, 1).is_err());
    }

    #[test]
    fn non_finite_averages_count_as_missing_metrics() {
        let config = KpaConfig::default();
        let mut kpa = Kpa::new(&config, 0, 1).unwrap();
        let out = kpa.decide(
            &config,
            tick(2, 1),
            Load::Averaged {
                stable: f64::NAN,
                panic: 1.0,
            },
        );
        assert_eq!(out.decider_desired, None);
        assert_eq!(out.desired, 1);
    }
}
