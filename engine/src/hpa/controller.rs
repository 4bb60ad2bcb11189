//! One HPA object's reconcile loop (upstream `reconcileAutoscaler`), as a pure step.
//!
//! [`Hpa::decide`] takes the configuration and an observation and returns the replica
//! count the HPA would write to the scale subresource, with the reasons upstream would
//! put in its conditions. It assumes the driver applies that count: the scale event is
//! recorded as upstream does after a successful update. All memory lives in
//! [`HpaState`], which serializes, so a restarted driver continues where it stopped.

use super::config::{ConfigError, HpaConfig};
use super::proposals::{Combined, MetricProposal, combine, propose_all};
use super::rate_limits::{
    LimitReason, ScaleEvents, limit_legacy, limit_with_behavior, store_scale_event,
};
use super::stabilization::{
    Recommendation, StabilizationReason, stabilize_legacy, stabilize_with_behavior,
};
use crate::observation::Observation;
use crate::time::Micros;
use serde::{Deserialize, Serialize};

/// Everything the HPA controller remembers about one HPA between decisions.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HpaState {
    /// Raw recommendations, in slot order (slots are reused, not shifted).
    pub recommendations: Vec<Recommendation>,
    /// Applied changes, per direction (only recorded when a behavior is set).
    pub scale_events: ScaleEvents,
}

/// A stateful HPA: [`HpaState`] plus the decision procedure.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Hpa {
    state: HpaState,
}

/// Why the HPA chose its replica count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HpaReason {
    /// `scale.spec.replicas` is 0 while `minReplicas` is not: autoscaling is disabled
    /// (`ScalingActive=False`, reason `ScalingDisabled`).
    ScalingDisabled,
    /// "Current number of replicas above Spec.MaxReplicas": clamped, metrics unread.
    AboveMaxReplicas,
    /// "Current number of replicas below Spec.MinReplicas": clamped, metrics unread.
    BelowMinReplicas,
    /// Every metric failed, or some failed and the others would scale down: no
    /// change (upstream `FailedComputeMetricsReplicas`).
    MetricsInvalid { invalid: usize, total: usize },
    /// The metrics' proposal went through stabilization and the limits.
    Normalized {
        /// The largest metric proposal (upstream `metricDesiredReplicas`).
        metric_replicas: i32,
        /// `AbleToScale` reason from stabilization.
        stabilization: StabilizationReason,
        /// `ScalingLimited` reason from the rate limits and min/max.
        limit: LimitReason,
        /// Metrics that failed without blocking the decision (upstream still
        /// reports their error).
        invalid_metrics: usize,
    },
}

/// One decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HpaOutcome {
    /// The replica count to apply (equal to the current one when nothing changes).
    pub desired_replicas: i32,
    pub reason: HpaReason,
    /// Every metric's proposal or error, in `config.metrics` order (empty when the
    /// metrics were not read).
    pub proposals: Vec<MetricProposal>,
}

impl Hpa {
    /// A fresh HPA, as when the controller first sees the object.
    pub fn new() -> Self {
        Hpa::default()
    }

    /// Continues from saved state.
    pub fn from_state(state: HpaState) -> Self {
        Hpa { state }
    }

    /// The state to save between decisions.
    pub fn state(&self) -> &HpaState {
        &self.state
    }

    /// Gives the state up, e.g. to store it.
    pub fn into_state(self) -> HpaState {
        self.state
    }

    /// One reconcile: reads `obs.now` and `obs.current_replicas` (upstream
    /// `scale.spec.replicas`), updates the state and returns the decision. The config
    /// is validated first; an invalid one changes nothing.
    pub fn decide(
        &mut self,
        config: &HpaConfig,
        obs: &Observation,
    ) -> Result<HpaOutcome, ConfigError> {
        config.validate()?;
        let now = obs.now;
        let current = obs.current_replicas;
        if self.state.recommendations.is_empty() {
            // Upstream `recordInitialRecommendation`.
            self.state.recommendations.push(Recommendation {
                at: now,
                replicas: current,
            });
        }

        let mut proposals = Vec::new();
        let (desired, reason) = if current == 0 && config.min_replicas != 0 {
            return Ok(HpaOutcome {
                desired_replicas: current,
                reason: HpaReason::ScalingDisabled,
                proposals,
            });
        } else if current > config.max_replicas {
            (config.max_replicas, HpaReason::AboveMaxReplicas)
        } else if current < config.min_replicas {
            (config.min_replicas, HpaReason::BelowMinReplicas)
        } else {
            proposals = propose_all(
                &config.metrics,
                obs,
                &config.tolerance,
                &config.cpu_readiness,
            );
            match combine(&proposals, current) {
                Combined::Blocked { invalid, total } => {
                    return Ok(HpaOutcome {
                        desired_replicas: current,
                        reason: HpaReason::MetricsInvalid { invalid, total },
                        proposals,
                    });
                }
                Combined::Replicas { replicas, invalid } => {
                    // Upstream starts from 0 and only takes a larger proposal.
                    let metric_replicas = replicas.max(0);
                    let (replicas, stabilization, limit) =
                        self.normalize(config, current, metric_replicas, now);
                    (
                        replicas,
                        HpaReason::Normalized {
                            metric_replicas,
                            stabilization,
                            limit,
                            invalid_metrics: invalid,
                        },
                    )
                }
            }
        };

        self.record_scale_event(config, current, desired, now);
        Ok(HpaOutcome {
            desired_replicas: desired,
            reason,
            proposals,
        })
    }

    /// Runs a proposal that did not come from the HPA's metrics through the same
    /// stabilization, rate limits and min/max, and records the scale event: BudScaler
    /// computes its own proposal and keeps the HPA's behavior semantics.
    pub fn settle(
        &mut self,
        config: &HpaConfig,
        now: Micros,
        current: i32,
        proposal: i32,
    ) -> (i32, StabilizationReason, LimitReason) {
        if self.state.recommendations.is_empty() {
            self.state.recommendations.push(Recommendation {
                at: now,
                replicas: current,
            });
        }
        let settled = self.normalize(config, current, proposal.max(0), now);
        self.record_scale_event(config, current, settled.0, now);
        settled
    }

    /// Takes back the scale event a decision at `now` recorded for `current → desired`
    /// when the change was not applied (upstream records events only after a
    /// successful scale update; [`Hpa::decide`] and [`Hpa::settle`] record as if it
    /// succeeded, so a driver that did not apply says so here).
    pub fn forget_scale_event(&mut self, current: i32, desired: i32, now: Micros) {
        super::rate_limits::forget_scale_event(&mut self.state.scale_events, current, desired, now);
    }

    /// Stores an applied change for the rate policies, as upstream does after a
    /// successful scale update (only with a behavior).
    fn record_scale_event(&mut self, config: &HpaConfig, current: i32, desired: i32, now: Micros) {
        if desired != current
            && let Some(behavior) = &config.behavior
        {
            let behavior = behavior.resolve(config.downscale_stabilization);
            store_scale_event(
                &mut self.state.scale_events,
                &behavior,
                current,
                desired,
                now,
            );
        }
    }

    /// Upstream `normalizeDesiredReplicas` / `normalizeDesiredReplicasWithBehaviors`.
    fn normalize(
        &mut self,
        config: &HpaConfig,
        current: i32,
        desired: i32,
        now: Micros,
    ) -> (i32, StabilizationReason, LimitReason) {
        let history = &mut self.state.recommendations;
        match &config.behavior {
            None => {
                let stabilized =
                    stabilize_legacy(history, desired, config.downscale_stabilization, now);
                let limited = limit_legacy(
                    current,
                    stabilized.replicas,
                    config.min_replicas,
                    config.max_replicas,
                );
                (limited.replicas, stabilized.reason, limited.reason)
            }
            Some(behavior) => {
                let behavior = behavior.resolve(config.downscale_stabilization);
                let stabilized = stabilize_with_behavior(
                    history,
                    current,
                    desired,
                    behavior.scale_up.stabilization_window,
                    behavior.scale_down.stabilization_window,
                    now,
                );
                let limited = limit_with_behavior(
                    current,
                    stabilized.replicas,
                    config.min_replicas,
                    config.max_replicas,
                    &behavior,
                    &self.state.scale_events,
                    now,
                );
                (limited.replicas, stabilized.reason, limited.reason)
            }
        }
    }
}
