//! Recommendation history and stabilization windows.
//!
//! The HPA remembers its raw (pre-normalization) recommendations and bounds each new
//! one by the recent ones: with a behavior, the count may rise no higher than the
//! lowest recommendation of the scale-up window and fall no lower than the highest of
//! the scale-down window; without one (legacy), the highest recommendation of the last
//! `downscale_stabilization` wins. The history never shrinks: each decision overwrites
//! the last slot that every window has left behind, or appends a new one, exactly as
//! upstream `stabilizeRecommendation{,WithBehaviors}` do.

use crate::time::Micros;
use serde::{Deserialize, Serialize};

/// One remembered raw recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recommendation {
    pub at: Micros,
    pub replicas: i32,
}

/// Upstream `AbleToScale` condition reasons set by stabilization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StabilizationReason {
    /// The recommendation passed unchanged.
    ReadyForNewScale,
    /// A lower recent recommendation held a scale-up back.
    ScaleUpStabilized,
    /// A higher recent recommendation held a scale-down back.
    ScaleDownStabilized,
}

impl StabilizationReason {
    /// The upstream condition reason string.
    pub fn as_str(self) -> &'static str {
        match self {
            StabilizationReason::ReadyForNewScale => "ReadyForNewScale",
            StabilizationReason::ScaleUpStabilized => "ScaleUpStabilized",
            StabilizationReason::ScaleDownStabilized => "ScaleDownStabilized",
        }
    }
}

impl std::fmt::Display for StabilizationReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stabilized recommendation and why it differs (or not) from the raw one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stabilized {
    pub replicas: i32,
    pub reason: StabilizationReason,
}

/// Upstream `stabilizeRecommendation` (no behavior): the maximum of `desired` and every
/// recommendation not older than `window` (the cutoff instant itself counts).
pub fn stabilize_legacy(
    history: &mut Vec<Recommendation>,
    desired: i32,
    window: Micros,
    now: Micros,
) -> Stabilized {
    let cutoff = now.saturating_sub(window);
    let mut highest = desired;
    let mut reusable = None;
    for (i, rec) in history.iter().enumerate() {
        if rec.at < cutoff {
            reusable = Some(i);
        } else if rec.replicas > highest {
            highest = rec.replicas;
        }
    }
    record(history, reusable, desired, now);
    Stabilized {
        replicas: highest,
        reason: if highest != desired {
            StabilizationReason::ScaleDownStabilized
        } else {
            StabilizationReason::ReadyForNewScale
        },
    }
}

/// Upstream `stabilizeRecommendationWithBehaviors`: `current` moved up to no more than
/// the lowest recommendation strictly inside the up window, and down to no less than
/// the highest strictly inside the down window (`desired` included in both).
pub fn stabilize_with_behavior(
    history: &mut Vec<Recommendation>,
    current: i32,
    desired: i32,
    up_window: Micros,
    down_window: Micros,
    now: Micros,
) -> Stabilized {
    let up_cutoff = now.saturating_sub(up_window);
    let down_cutoff = now.saturating_sub(down_window);
    let mut up_bound = desired;
    let mut down_bound = desired;
    let mut reusable = None;
    for (i, rec) in history.iter().enumerate() {
        if rec.at > up_cutoff {
            up_bound = up_bound.min(rec.replicas);
        }
        if rec.at > down_cutoff {
            down_bound = down_bound.max(rec.replicas);
        }
        if rec.at < up_cutoff && rec.at < down_cutoff {
            reusable = Some(i);
        }
    }
    let replicas = current.max(up_bound).min(down_bound);
    record(history, reusable, desired, now);
    let reason = if replicas == desired {
        StabilizationReason::ReadyForNewScale
    } else if desired >= current {
        StabilizationReason::ScaleUpStabilized
    } else {
        StabilizationReason::ScaleDownStabilized
    };
    Stabilized { replicas, reason }
}

/// Stores the raw recommendation in the last reusable slot, or appends it.
fn record(history: &mut Vec<Recommendation>, reusable: Option<usize>, desired: i32, now: Micros) {
    let rec = Recommendation {
        at: now,
        replicas: desired,
    };
    match reusable {
        Some(i) => history[i] = rec,
        None => history.push(rec),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::seconds;

    const NOW: Micros = seconds(10_000);

    fn history(entries: &[(i64, i32)]) -> Vec<Recommendation> {
        entries
            .iter()
            .map(|(age, replicas)| Recommendation {
                at: NOW - seconds(*age),
                replicas: *replicas,
            })
            .collect()
    }

    #[test]
    fn legacy_window_includes_its_cutoff_and_reuses_the_last_old_slot() {
        let mut h = history(&[(400, 9), (300, 6), (350, 8)]);
        let s = stabilize_legacy(&mut h, 2, seconds(300), NOW);
        assert_eq!(s.replicas, 6);
        assert_eq!(s.reason, StabilizationReason::ScaleDownStabilized);
        assert_eq!(
            h[2],
            Recommendation {
                at: NOW,
                replicas: 2
            }
        );
        assert_eq!(h.len(), 3);
    }

    #[test]
    fn behavior_windows_exclude_their_cutoff() {
        let mut h = history(&[(60, 9)]);
        let s = stabilize_with_behavior(&mut h, 10, 3, 0, seconds(60), NOW);
        assert_eq!(s.replicas, 3);
        assert_eq!(s.reason, StabilizationReason::ReadyForNewScale);
        // Neither window holds the 60 s-old entry, yet it is not older than the
        // longer window's cutoff either, so it is kept and the new one appended.
        assert_eq!(h.len(), 2);
    }

    #[test]
    fn scale_up_is_held_to_the_lowest_recent_recommendation() {
        let mut h = history(&[(120, 4), (60, 5)]);
        let s = stabilize_with_behavior(&mut h, 1, 7, seconds(300), 0, NOW);
        assert_eq!(
            s,
            Stabilized {
                replicas: 4,
                reason: StabilizationReason::ScaleUpStabilized
            }
        );
    }
}
