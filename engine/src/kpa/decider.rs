//! The KPA decider: one tick of Knative's `autoscaler.Scale` (pkg/autoscaler/scaling).
//!
//! From the stable and panic averages of the metric and the ready pod count it derives
//! the desired pod count:
//!
//! 1. `ceil(value / target)` for both windows, clamped to
//!    `[floor(ready / max_scale_down_rate), ceil(max_scale_up_rate × ready)]` where `ready`
//!    counts at least 1; an unreachable revision has no lower clamp.
//! 2. Any non-zero count is raised to the activation scale.
//! 3. Panic starts when `ceil(panic / target) / ready ≥ panic_threshold`, is extended
//!    while that holds, and ends once it has not held for a whole stable window. In panic
//!    the larger of the two counts is used and never decreases (the ratchet).
//! 4. With a scale-down delay, the maximum over the delay window wins.
//! 5. The excess burst capacity `floor(ready × total − TBC − panic value)` tells whether
//!    the activator must stay in the request path.

use super::Reason;
use super::config::{KpaConfig, TICK_INTERVAL};
use crate::time::Micros;
use crate::window::MaxWindow;
use serde::{Deserialize, Serialize};

/// Panic and scale-down-delay state of one revision's decider. Serializable so that a
/// restarted scaler continues where it stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decider {
    /// When panic was entered or last extended; `None` outside panic.
    panic_time: Option<Micros>,
    /// Largest count decided during the current panic (the ratchet).
    max_panic_pods: i32,
    /// Recent decisions, when a scale-down delay was configured at creation.
    delay_window: Option<MaxWindow>,
}

/// The result of one decider tick.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DeciderResult {
    /// Desired pod count (≥ 0).
    pub desired: i32,
    /// `floor(ready × total − TBC − panic value)`; 0 when TBC is 0, -1 when TBC is -1.
    /// Negative means the activator must stay in the request path.
    pub excess_burst_capacity: i32,
    /// Whether the decider is in panic after this tick.
    pub in_panic: bool,
    /// What determined `desired`.
    pub reason: Reason,
}

/// A pod count candidate and what bounded it.
#[derive(Clone, Copy)]
struct Candidate {
    pods: i32,
    reason: Reason,
}

impl Decider {
    /// A decider created at `now` while `ready_pods` pods are ready. With more than one
    /// ready pod it starts in panic holding that count: a restarted autoscaler has no
    /// metric history yet and must not scale down on the first empty averages.
    ///
    /// The scale-down delay window is created here iff `config.scale_down_delay > 0`.
    pub fn new(config: &KpaConfig, now: Micros, ready_pods: i32) -> Self {
        let ready_pods = ready_pods.max(0);
        let delay_window = (config.scale_down_delay > 0)
            .then(|| MaxWindow::new(config.scale_down_delay, TICK_INTERVAL).ok())
            .flatten();
        Decider {
            panic_time: (ready_pods > 1).then_some(now),
            max_panic_pods: ready_pods,
            delay_window,
        }
    }

    /// Whether the decider is currently in panic.
    pub fn in_panic(&self) -> bool {
        self.panic_time.is_some()
    }

    /// One decision at `now` from the averaged `stable` and `panic` metric values (total
    /// over all pods, in the unit of `config.target_value`; expected finite). `config`
    /// is expected to pass [`KpaConfig::validate`].
    pub fn scale(
        &mut self,
        config: &KpaConfig,
        now: Micros,
        ready_pods: i32,
        stable: f64,
        panic: f64,
    ) -> DeciderResult {
        let ready_for_rates = f64::from(ready_pods.max(1));
        // ceil lets a conservative rate still grow by one pod (1.1 × 2 ready → 3).
        let max_up = (config.max_scale_up_rate * ready_for_rates).ceil();
        let rate_floor = (ready_for_rates / config.max_scale_down_rate).floor();
        let max_down = if config.reachable { rate_floor } else { 0.0 };

        let stable_pods = (stable / config.target_value).ceil();
        let panic_pods = (panic / config.target_value).ceil();
        let bound = |raw: f64| {
            let pods = raw.max(max_down).min(max_up) as i32;
            let reason = if raw > max_up {
                Reason::MaxScaleUpRate
            } else if raw < max_down {
                Reason::MaxScaleDownRate
            } else if !config.reachable && raw < rate_floor {
                Reason::Unreachable
            } else {
                Reason::Stable
            };
            Candidate { pods, reason }
        };
        let mut stable_c = bound(stable_pods);
        let mut panic_c = bound(panic_pods);
        if config.activation_scale > 1 {
            for (c, raw) in [(&mut stable_c, stable_pods), (&mut panic_c, panic_pods)] {
                if raw > 0.0 && config.activation_scale > c.pods {
                    *c = Candidate {
                        pods: config.activation_scale,
                        reason: Reason::ActivationScale,
                    };
                }
            }
        }

        let over_threshold = panic_pods / ready_for_rates >= config.panic_threshold;
        if over_threshold {
            self.panic_time = Some(now);
        } else if self
            .panic_time
            .is_some_and(|since| since + config.stable_window < now)
        {
            self.panic_time = None;
            self.max_panic_pods = 0;
        }

        let mut chosen = stable_c;
        if self.panic_time.is_some() {
            if panic_c.pods > chosen.pods {
                chosen = panic_c;
            }
            if chosen.reason == Reason::Stable {
                chosen.reason = Reason::Panic;
            }
            if chosen.pods > self.max_panic_pods {
                self.max_panic_pods = chosen.pods;
            } else if chosen.pods < self.max_panic_pods {
                chosen = Candidate {
                    pods: self.max_panic_pods,
                    reason: Reason::PanicRatchet,
                };
            }
        }

        if config.reachable
            && let Some(window) = &mut self.delay_window
        {
            window.record(now, chosen.pods);
            let delayed = window.current();
            if delayed != chosen.pods {
                chosen = Candidate {
                    pods: delayed,
                    reason: Reason::ScaleDownDelay,
                };
            }
        }

        DeciderResult {
            desired: chosen.pods.max(0),
            excess_burst_capacity: excess_burst_capacity(config, ready_pods, panic),
            in_panic: self.panic_time.is_some(),
            reason: chosen.reason,
        }
    }
}

/// `floor(ready × total − TBC − panic)` for a positive TBC, 0 for TBC 0, and -1 otherwise
/// (TBC -1: the activator always stays in the path). Uses the real ready count, 0 included.
fn excess_burst_capacity(config: &KpaConfig, ready_pods: i32, panic: f64) -> i32 {
    let tbc = config.target_burst_capacity;
    if tbc == 0.0 {
        0
    } else if tbc > 0.0 {
        let total_capacity = f64::from(ready_pods) * config.total_value;
        (total_capacity - tbc - panic).floor() as i32
    } else {
        -1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SECOND;

    fn config(target: f64, tbc: f64) -> KpaConfig {
        KpaConfig {
            target_value: target,
            total_value: target / 0.75,
            target_burst_capacity: tbc,
            max_scale_up_rate: 10.0,
            max_scale_down_rate: 10.0,
            ..KpaConfig::default()
        }
    }

    #[test]
    fn panic_holds_then_releases_after_the_stable_window() {
        // TestAutoscalerPanicThenUnPanicScaleDown.
        let c = config(10.0, 93.0);
        let mut d = Decider::new(&c, 0, 1);
        assert_eq!(d.scale(&c, 0, 1, 100.0, 100.0).desired, 10);
        let r = d.scale(&c, 0, 10, 100.0, 1000.0);
        assert_eq!((r.desired, r.in_panic), (100, true));
        let r = d.scale(&c, 30 * SECOND, 10, 1.0, 1.0);
        assert_eq!((r.desired, r.reason), (100, Reason::PanicRatchet));
        let r = d.scale(&c, 61 * SECOND, 10, 1.0, 1.0);
        assert_eq!(
            (r.desired, r.in_panic, r.excess_burst_capacity),
            (1, false, 39)
        );
    }

    #[test]
    fn reasons_name_the_binding_limit() {
        let c = config(10.0, 61.0);
        let mut d = Decider::new(&c, 0, 1);
        assert_eq!(
            d.scale(&c, 0, 100, 1.0, 1.0).reason,
            Reason::MaxScaleDownRate
        );
        let unreachable = KpaConfig {
            reachable: false,
            ..c.clone()
        };
        let r = d.scale(&unreachable, 0, 100, 1.0, 1.0);
        assert_eq!((r.desired, r.reason), (1, Reason::Unreachable));
        let r = Decider::new(&c, 0, 1).scale(&c, 0, 2, 1000.0, 10.0);
        assert_eq!((r.desired, r.reason), (20, Reason::MaxScaleUpRate));
    }

    #[test]
    fn scale_down_delay_is_skipped_while_unreachable() {
        // TestAutoscalerScaleDownDelayNotReachable.
        let c = KpaConfig {
            target_value: 10.0,
            panic_threshold: 100.0,
            max_scale_up_rate: 10.0,
            max_scale_down_rate: 10.0,
            scale_down_delay: 300 * SECOND,
            target_burst_capacity: 0.0,
            ..KpaConfig::default()
        };
        let mut d = Decider::new(&c, 0, 0);
        assert_eq!(d.scale(&c, 2 * SECOND, 0, 40.0, 40.0).desired, 4);
        let r = d.scale(&c, 60 * SECOND, 0, 0.0, 0.0);
        assert_eq!((r.desired, r.reason), (4, Reason::ScaleDownDelay));
        let unreachable = KpaConfig {
            reachable: false,
            ..c.clone()
        };
        assert_eq!(d.scale(&unreachable, 62 * SECOND, 0, 0.0, 0.0).desired, 0);
    }
}
