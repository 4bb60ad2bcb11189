//! The KPA reconciler's side of a decision (pkg/reconciler/autoscaling/kpa `scaler.go`,
//! `kpa.go`): scale bounds, initial scale, and the scale-to-zero timeline.
//!
//! The decider may want zero pods long before the pods are removed. A revision goes
//! Active → Inactive once it has been active for a stable window while the decider
//! wants zero (until then it is held at one pod); the activator takes over its traffic
//! (proxy mode); the pods go away once it has been inactive for
//! `max(grace period, pod retention)`, or earlier once the activator has been in the path
//! for the grace period and the pod retention has passed. A revision that never becomes
//! ready within the activation timeout is scaled to zero as well.
//!
//! Each call models one reconcile right after the decider's tick; upstream's re-enqueue
//! delays become "checked again at the next tick".

use super::Reason;
use super::config::KpaConfig;
use crate::time::Micros;
use serde::{Deserialize, Serialize};

/// The PodAutoscaler's `Active` condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Activity {
    /// `Active=Unknown`: pods are being brought up, requests are buffered.
    Activating,
    /// `Active=True`.
    Active,
    /// `Active=False`: no traffic; the activator is in the path.
    Inactive,
}

/// Reconciler state of one revision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScaleToZero {
    activity: Activity,
    /// Last transition of `activity`.
    since: Micros,
    /// The revision once reached its initial scale with that many ready pods.
    scale_target_initialized: bool,
    /// Since when the activator is in the request path (the SKS is in proxy mode).
    proxy_since: Option<Micros>,
}

/// What the reconciler did with the decider's wish.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Reconciled {
    /// Replicas the scale target should have now.
    pub replicas: i32,
    /// `Some(reason)` when the reconciler, not the decider, set `replicas`.
    pub reason: Option<Reason>,
    /// The activator is in the request path after this reconcile.
    pub activator_in_path: bool,
    /// The revision's activity after this reconcile.
    pub activity: Activity,
}

/// What `handleScaleToZero` decided: the scale it wants and whether to apply it.
struct ZeroDecision {
    want: i32,
    apply: bool,
    reason: Option<Reason>,
}

/// `want` when no scale is known (no metrics yet, or still activating).
const SCALE_UNKNOWN: i32 = -1;

impl ScaleToZero {
    /// A new revision: activating since `now`, not yet initialized, activator not in path.
    pub fn new(now: Micros) -> Self {
        ScaleToZero {
            activity: Activity::Activating,
            since: now,
            scale_target_initialized: false,
            proxy_since: None,
        }
    }

    /// The revision's current activity.
    pub fn activity(&self) -> Activity {
        self.activity
    }

    /// One reconcile at `now`. `decided` is the decider's latest valid desired count
    /// (`None` before the first one), `excess_burst_capacity` its latest EBC,
    /// `ready_pods` the ready pods and `current_replicas` the scale target's replicas.
    pub fn reconcile(
        &mut self,
        config: &KpaConfig,
        now: Micros,
        decided: Option<i32>,
        excess_burst_capacity: i32,
        ready_pods: i32,
        current_replicas: i32,
    ) -> Reconciled {
        let decision = self.scale(config, now, decided.unwrap_or(SCALE_UNKNOWN));
        let want = decision.want;
        let proxy = want == 0
            || excess_burst_capacity < 0
            || (want == SCALE_UNKNOWN && self.activity == Activity::Inactive);
        self.proxy_since = if proxy {
            Some(self.proxy_since.unwrap_or(now))
        } else {
            None
        };
        self.update_activity(config, now, want, ready_pods);
        Reconciled {
            replicas: if decision.apply {
                decision.want
            } else {
                current_replicas
            },
            reason: decision.reason,
            activator_in_path: proxy,
            activity: self.activity,
        }
    }

    /// Upstream `scaler.scale`: bounds, initial scale, then scale-to-zero.
    fn scale(&self, config: &KpaConfig, now: Micros, desired: i32) -> ZeroDecision {
        if desired < 0 && self.activity != Activity::Activating {
            return ZeroDecision {
                want: desired,
                apply: false,
                reason: Some(Reason::NoMetrics),
            };
        }
        let mut min = config.min_scale;
        let mut bound_reason = Reason::MinScale;
        if config.initial_scale > 1 && !self.scale_target_initialized && config.initial_scale > min
        {
            min = config.initial_scale;
            bound_reason = Reason::InitialScale;
        }
        let (bounded, reason) = if desired < min {
            (min, Some(bound_reason))
        } else if config.max_scale != 0 && desired > config.max_scale {
            (config.max_scale, Some(Reason::MaxScale))
        } else {
            (desired, None)
        };
        if bounded != 0 {
            return ZeroDecision {
                want: bounded,
                apply: true,
                reason,
            };
        }
        self.handle_scale_to_zero(config, now)
    }

    /// Upstream `handleScaleToZero`, for a desired scale of zero.
    fn handle_scale_to_zero(&self, config: &KpaConfig, now: Micros) -> ZeroDecision {
        let hold = |want, apply, reason| ZeroDecision {
            want,
            apply,
            reason: Some(reason),
        };
        let zero = ZeroDecision {
            want: 0,
            apply: true,
            reason: None,
        };
        if !config.enable_scale_to_zero {
            return hold(1, true, Reason::ScaleToZeroDisabled);
        }
        let in_state_for = now - self.since;
        match self.activity {
            Activity::Activating => {
                if in_state_for > config.activation_timeout {
                    ZeroDecision {
                        reason: Some(Reason::ActivationTimeout),
                        ..zero
                    }
                } else {
                    hold(SCALE_UNKNOWN, false, Reason::NoMetrics)
                }
            }
            Activity::Active => {
                if in_state_for >= config.stable_window {
                    // Deactivate first (want 0, nothing applied): the activator moves
                    // into the path before any pod goes away.
                    hold(0, false, Reason::ScaleToZeroGrace)
                } else {
                    hold(1, true, Reason::ScaleToZeroGrace)
                }
            }
            Activity::Inactive => {
                let activator_in_path =
                    config.target_burst_capacity == -1.0 || self.proxy_since.is_some();
                if !activator_in_path {
                    // Upstream probes the activator asynchronously and comes back later.
                    return hold(0, false, Reason::ScaleToZeroGrace);
                }
                let retention = config.scale_to_zero_pod_retention_period;
                if in_state_for >= config.scale_to_zero_grace_period.max(retention) {
                    return zero;
                }
                if retention > 0 && in_state_for < retention {
                    return hold(0, false, Reason::PodRetention);
                }
                let proxy_for = self.proxy_since.map_or(0, |since| now - since);
                if config.scale_to_zero_grace_period - proxy_for <= 0 {
                    zero
                } else {
                    hold(0, false, Reason::ScaleToZeroGrace)
                }
            }
        }
    }

    /// Upstream `computeActiveCondition`.
    fn update_activity(&mut self, config: &KpaConfig, now: Micros, want: i32, ready_pods: i32) {
        let min_ready = if self.scale_target_initialized {
            config.min_scale.max(1)
        } else {
            config.min_scale.max(config.initial_scale)
        };
        if ready_pods >= min_ready {
            self.scale_target_initialized = true;
        }
        let next = if want == 0 || min_ready == 0 {
            Activity::Inactive
        } else if ready_pods < min_ready {
            if want > 0 || self.activity != Activity::Inactive {
                Activity::Activating
            } else {
                Activity::Inactive
            }
        } else if want > 0 || self.activity != Activity::Inactive {
            Activity::Active
        } else {
            self.activity
        };
        if next != self.activity {
            self.activity = next;
            self.since = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SECOND;

    /// Reconciles a revision whose decider wants `decided`, with `ready` pods and the
    /// replicas of the previous step, and returns the replicas to apply.
    struct Timeline {
        config: KpaConfig,
        state: ScaleToZero,
        replicas: i32,
    }

    impl Timeline {
        fn new(config: KpaConfig) -> Self {
            Timeline {
                config,
                state: ScaleToZero::new(0),
                replicas: 1,
            }
        }

        fn step(&mut self, t: i64, decided: i32, ebc: i32) -> Reconciled {
            let ready = self.replicas;
            let r = self.state.reconcile(
                &self.config,
                t * SECOND,
                Some(decided),
                ebc,
                ready,
                self.replicas,
            );
            self.replicas = r.replicas;
            r
        }
    }

    #[test]
    fn idle_revision_waits_a_stable_window_then_the_grace_period() {
        let mut t = Timeline::new(KpaConfig {
            target_burst_capacity: 0.0,
            ..KpaConfig::default()
        });
        assert_eq!(t.step(0, 1, 0).activity, Activity::Active);
        let r = t.step(10, 0, 0);
        assert_eq!((r.replicas, r.reason), (1, Some(Reason::ScaleToZeroGrace)));
        let r = t.step(60, 0, 0);
        assert_eq!(
            (r.replicas, r.activity, r.activator_in_path),
            (1, Activity::Inactive, true)
        );
        assert_eq!(t.step(89, 0, 0).replicas, 1);
        let r = t.step(90, 0, 0);
        assert_eq!((r.replicas, r.reason), (0, None));
    }

    #[test]
    fn activator_already_in_path_skips_the_grace_period() {
        // Negative EBC keeps the activator in the path all along (default TBC 211).
        let mut t = Timeline::new(KpaConfig::default());
        t.step(0, 1, -200);
        t.step(60, 0, -200);
        assert_eq!(t.step(61, 0, -200).replicas, 0);
    }

    #[test]
    fn pod_retention_keeps_the_last_pod() {
        let mut t = Timeline::new(KpaConfig {
            scale_to_zero_pod_retention_period: 120 * SECOND,
            ..KpaConfig::default()
        });
        t.step(0, 1, -200);
        t.step(60, 0, -200);
        let r = t.step(150, 0, -200);
        assert_eq!((r.replicas, r.reason), (1, Some(Reason::PodRetention)));
        assert_eq!(t.step(180, 0, -200).replicas, 0);
    }

    #[test]
    fn initial_scale_holds_until_reached_once() {
        let mut t = Timeline::new(KpaConfig {
            initial_scale: 3,
            ..KpaConfig::default()
        });
        let r = t.state.reconcile(&t.config, 0, Some(1), 0, 0, 0);
        assert_eq!(
            (r.replicas, r.reason, r.activity),
            (3, Some(Reason::InitialScale), Activity::Activating)
        );
        let r = t.state.reconcile(&t.config, SECOND, Some(1), 0, 3, 3);
        assert_eq!((r.replicas, r.activity), (3, Activity::Active));
        let r = t.state.reconcile(&t.config, 2 * SECOND, Some(1), 0, 3, 3);
        assert_eq!((r.replicas, r.reason), (1, None));
    }

    #[test]
    fn scale_to_zero_disabled_keeps_one_pod() {
        let mut t = Timeline::new(KpaConfig {
            enable_scale_to_zero: false,
            ..KpaConfig::default()
        });
        t.step(0, 1, -1);
        let r = t.step(500, 0, -1);
        assert_eq!(
            (r.replicas, r.reason),
            (1, Some(Reason::ScaleToZeroDisabled))
        );
    }
}
