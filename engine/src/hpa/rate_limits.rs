//! Rate limits and the min/max clamp, with the upstream `ScalingLimited` reasons.
//!
//! With a behavior, each policy allows a change relative to the replica count at the
//! start of its period, reconstructed from the remembered scale events of *both*
//! directions (`convertDesiredReplicasWithBehaviorRate`); the select policy picks the
//! most or least permissive. Without one, the legacy rule caps a scale-up at
//! `max(2 x current, 4)` (`convertDesiredReplicasWithRules`).

use super::behavior::{PolicyKind, ResolvedBehavior, ScalingRules, SelectPolicy};
use crate::time::Micros;
use serde::{Deserialize, Serialize};

/// One applied change, as upstream `timestampedScaleEvent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScaleEvent {
    pub at: Micros,
    /// Pods added (scale-up list) or removed (scale-down list), always positive.
    pub change: i32,
    /// Older than the direction's longest policy period when last checked: its slot
    /// may be reused.
    pub outdated: bool,
}

/// Upstream `ScalingLimited` condition reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LimitReason {
    DesiredWithinRange,
    ScaleUpLimit,
    ScaleDownLimit,
    TooManyReplicas,
    TooFewReplicas,
}

impl LimitReason {
    /// The upstream condition reason string.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitReason::DesiredWithinRange => "DesiredWithinRange",
            LimitReason::ScaleUpLimit => "ScaleUpLimit",
            LimitReason::ScaleDownLimit => "ScaleDownLimit",
            LimitReason::TooManyReplicas => "TooManyReplicas",
            LimitReason::TooFewReplicas => "TooFewReplicas",
        }
    }
}

impl std::fmt::Display for LimitReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A replica count after limits, and which limit (if any) decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limited {
    pub replicas: i32,
    pub reason: LimitReason,
}

/// The remembered scale events of one HPA.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ScaleEvents {
    pub up: Vec<ScaleEvent>,
    pub down: Vec<ScaleEvent>,
}

/// Upstream `convertDesiredReplicasWithBehaviorRate`.
pub fn limit_with_behavior(
    current: i32,
    desired: i32,
    min_replicas: i32,
    max_replicas: i32,
    behavior: &ResolvedBehavior,
    events: &ScaleEvents,
    now: Micros,
) -> Limited {
    if desired > current {
        let limit = scale_up_limit(current, events, &behavior.scale_up, now).max(current);
        let (allowed, reason) = if max_replicas > limit {
            (limit, LimitReason::ScaleUpLimit)
        } else {
            (max_replicas, LimitReason::TooManyReplicas)
        };
        if desired > allowed {
            return Limited {
                replicas: allowed,
                reason,
            };
        }
    } else if desired < current {
        let limit = scale_down_limit(current, events, &behavior.scale_down, now).min(current);
        let (allowed, reason) = if min_replicas < limit {
            (limit, LimitReason::ScaleDownLimit)
        } else {
            (min_replicas, LimitReason::TooFewReplicas)
        };
        if desired < allowed {
            return Limited {
                replicas: allowed,
                reason,
            };
        }
    }
    Limited {
        replicas: desired,
        reason: LimitReason::DesiredWithinRange,
    }
}

/// Upstream `convertDesiredReplicasWithRules` (no behavior).
pub fn limit_legacy(current: i32, desired: i32, min_replicas: i32, max_replicas: i32) -> Limited {
    let up_cap = (2.0 * f64::from(current)).max(4.0) as i32;
    let (allowed, reason) = if max_replicas > up_cap {
        (up_cap, LimitReason::ScaleUpLimit)
    } else {
        (max_replicas, LimitReason::TooManyReplicas)
    };
    if desired < min_replicas {
        Limited {
            replicas: min_replicas,
            reason: LimitReason::TooFewReplicas,
        }
    } else if desired > allowed {
        Limited {
            replicas: allowed,
            reason,
        }
    } else {
        Limited {
            replicas: desired,
            reason: LimitReason::DesiredWithinRange,
        }
    }
}

/// Upstream `storeScaleEvent`: after an applied change from `previous` to `new`,
/// marks that direction's events older than its longest policy period as outdated
/// and stores the change in the last outdated slot, or appends it.
pub fn store_scale_event(
    events: &mut ScaleEvents,
    behavior: &ResolvedBehavior,
    previous: i32,
    new: i32,
    now: Micros,
) {
    let (list, rules, change) = if new > previous {
        (
            &mut events.up,
            &behavior.scale_up,
            new.saturating_sub(previous),
        )
    } else {
        (
            &mut events.down,
            &behavior.scale_down,
            previous.saturating_sub(new),
        )
    };
    let cutoff = now.saturating_sub(rules.longest_period());
    let mut reusable = None;
    for (i, event) in list.iter_mut().enumerate() {
        if event.at < cutoff {
            event.outdated = true;
        }
        if event.outdated {
            reusable = Some(i);
        }
    }
    let event = ScaleEvent {
        at: now,
        change,
        outdated: false,
    };
    match reusable {
        Some(i) => list[i] = event,
        None => list.push(event),
    }
}

/// Takes back the event [`store_scale_event`] stored for `previous → new` at `now`, for
/// a change that was never applied (a shadow driver, a failed patch): it no longer
/// counts against the rate policies and its slot may be reused. Nothing happens when
/// no such event is stored.
pub fn forget_scale_event(events: &mut ScaleEvents, previous: i32, new: i32, now: Micros) {
    if new == previous {
        return;
    }
    let (list, change) = if new > previous {
        (&mut events.up, new.saturating_sub(previous))
    } else {
        (&mut events.down, previous.saturating_sub(new))
    };
    if let Some(event) = list
        .iter_mut()
        .rev()
        .find(|e| e.at == now && e.change == change && !e.outdated)
    {
        event.change = 0;
        event.outdated = true;
    }
}

/// Upstream `getReplicasChangePerPeriod`: the change of events strictly inside the
/// period.
fn change_in_period(period: Micros, events: &[ScaleEvent], now: Micros) -> i64 {
    let cutoff = now.saturating_sub(period);
    events
        .iter()
        .filter(|e| e.at > cutoff)
        .map(|e| i64::from(e.change))
        .sum()
}

/// The replica count at the start of `period`, undoing the changes made since.
fn period_start(current: i32, period: Micros, events: &ScaleEvents, now: Micros) -> i64 {
    i64::from(current) - change_in_period(period, &events.up, now)
        + change_in_period(period, &events.down, now)
}

/// Upstream `calculateScaleUpLimitWithScalingRules`.
fn scale_up_limit(current: i32, events: &ScaleEvents, rules: &ScalingRules, now: Micros) -> i32 {
    let pick: fn(i64, i64) -> i64 = match rules.select_policy {
        SelectPolicy::Disabled => return current,
        SelectPolicy::Min => i64::min,
        SelectPolicy::Max => i64::max,
    };
    let proposals = rules.policies.iter().map(|policy| {
        let start = period_start(current, policy.period, events, now);
        match policy.kind {
            PolicyKind::Pods => start + i64::from(policy.value),
            // Rounded up so that a small percentage still lets the count grow.
            PolicyKind::Percent => {
                (start as f64 * (1.0 + f64::from(policy.value) / 100.0)).ceil() as i64
            }
        }
    });
    to_i32(proposals.reduce(pick).unwrap_or(i64::from(current)))
}

/// Upstream `calculateScaleDownLimitWithBehaviors`.
fn scale_down_limit(current: i32, events: &ScaleEvents, rules: &ScalingRules, now: Micros) -> i32 {
    // For scale-down the most permissive change is the lowest count.
    let pick: fn(i64, i64) -> i64 = match rules.select_policy {
        SelectPolicy::Disabled => return current,
        SelectPolicy::Min => i64::max,
        SelectPolicy::Max => i64::min,
    };
    let proposals = rules.policies.iter().map(|policy| {
        let start = period_start(current, policy.period, events, now);
        match policy.kind {
            PolicyKind::Pods => start - i64::from(policy.value),
            // Truncated toward zero, as Go's int32 conversion.
            PolicyKind::Percent => {
                (start as f64 * (1.0 - f64::from(policy.value) / 100.0)).trunc() as i64
            }
        }
    });
    to_i32(proposals.reduce(pick).unwrap_or(i64::from(current)))
}

fn to_i32(v: i64) -> i32 {
    v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hpa::behavior::{Behavior, ScalingPolicy, ScalingRulesSpec};
    use crate::time::seconds;

    const NOW: Micros = seconds(10_000);

    fn up_only(policies: Vec<ScalingPolicy>, select: SelectPolicy) -> ResolvedBehavior {
        Behavior {
            scale_up: Some(ScalingRulesSpec {
                policies: Some(policies),
                select_policy: Some(select),
                stabilization_window: None,
            }),
            scale_down: None,
        }
        .resolve(seconds(300))
    }

    #[test]
    fn legacy_caps_scale_up_at_double_or_four() {
        assert_eq!(limit_legacy(1, 100, 1, 100).replicas, 4);
        assert_eq!(limit_legacy(10, 100, 1, 100).replicas, 20);
        assert_eq!(
            limit_legacy(10, 100, 1, 15).reason,
            LimitReason::TooManyReplicas
        );
        assert_eq!(
            limit_legacy(5, 0, 2, 15),
            Limited {
                replicas: 2,
                reason: LimitReason::TooFewReplicas
            }
        );
    }

    #[test]
    fn scale_down_events_give_back_scale_up_room() {
        let b = up_only(vec![ScalingPolicy::pods(4, seconds(60))], SelectPolicy::Max);
        let events = ScaleEvents {
            up: vec![ScaleEvent {
                at: NOW - seconds(10),
                change: 4,
                outdated: false,
            }],
            down: vec![ScaleEvent {
                at: NOW - seconds(5),
                change: 2,
                outdated: false,
            }],
        };
        // start of period = 10 - 4 + 2 = 8, so at most 12.
        let l = limit_with_behavior(10, 50, 1, 100, &b, &events, NOW);
        assert_eq!(
            l,
            Limited {
                replicas: 12,
                reason: LimitReason::ScaleUpLimit
            }
        );
    }

    #[test]
    fn disabled_direction_keeps_the_current_count() {
        let b = up_only(
            vec![ScalingPolicy::pods(4, seconds(60))],
            SelectPolicy::Disabled,
        );
        let l = limit_with_behavior(10, 50, 1, 100, &b, &ScaleEvents::default(), NOW);
        assert_eq!(
            l,
            Limited {
                replicas: 10,
                reason: LimitReason::ScaleUpLimit
            }
        );
    }

    #[test]
    fn stored_events_reuse_the_last_outdated_slot() {
        let b = up_only(vec![ScalingPolicy::pods(4, seconds(60))], SelectPolicy::Max);
        let mut events = ScaleEvents {
            up: vec![
                ScaleEvent {
                    at: NOW - seconds(120),
                    change: 1,
                    outdated: false,
                },
                ScaleEvent {
                    at: NOW - seconds(90),
                    change: 2,
                    outdated: false,
                },
                ScaleEvent {
                    at: NOW - seconds(30),
                    change: 3,
                    outdated: false,
                },
            ],
            down: vec![],
        };
        store_scale_event(&mut events, &b, 5, 9, NOW);
        assert!(events.up[0].outdated);
        assert_eq!(
            events.up[1],
            ScaleEvent {
                at: NOW,
                change: 4,
                outdated: false
            }
        );
        assert_eq!(events.up.len(), 3);
        store_scale_event(&mut events, &b, 9, 7, NOW);
        assert_eq!(
            events.down,
            vec![ScaleEvent {
                at: NOW,
                change: 2,
                outdated: false
            }]
        );
    }
}
