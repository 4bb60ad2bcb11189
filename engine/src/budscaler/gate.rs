//! The starting-pods gate (`behavior.scaleUp.startingPods`, from the seed CRD).
//!
//! Replicas still starting will serve soon: they count as `startingPodWeight` of a
//! ready replica, so with a weight below 1 a scale-up asks for the missing share on
//! top. While `maxStartingPods` replicas (or `maxStartingPodPercent` of all) are
//! starting, no further scale-up is asked for: what is coming has not shown what it
//! can do yet. A panic pattern (traffic spike, full KV cache) passes the gate when
//! `bypassGateOnPanic` is set.

use crate::spec::ResolvedStartingPods;

/// Extra replicas a scale-up asks for because starting ones count for less than a
/// ready one.
pub fn weight_shortfall(gate: &ResolvedStartingPods, starting: i32) -> i32 {
    ((1.0 - gate.weight) * f64::from(starting)).ceil() as i32
}

/// Whether scale-up waits for the replicas that are starting.
pub fn is_closed(gate: &ResolvedStartingPods, ready: i32, starting: i32) -> bool {
    if starting <= 0 {
        return false;
    }
    let by_count = gate.max_starting_pods > 0 && starting >= gate.max_starting_pods;
    let total = i64::from(ready + starting).max(1);
    let by_share = gate.max_starting_pod_percent > 0
        && i64::from(starting) * 100 >= i64::from(gate.max_starting_pod_percent) * total;
    by_count || by_share
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(max_pods: i32, max_percent: i32, weight: f64) -> ResolvedStartingPods {
        ResolvedStartingPods {
            weight,
            max_starting_pods: max_pods,
            max_starting_pod_percent: max_percent,
            bypass_gate_on_panic: true,
        }
    }

    #[test]
    fn the_gate_closes_at_either_limit_and_never_without_starting_pods() {
        assert!(!is_closed(&gate(0, 0, 1.0), 5, 3), "no limits");
        assert!(!is_closed(&gate(3, 0, 1.0), 5, 2));
        assert!(is_closed(&gate(3, 0, 1.0), 5, 3));
        assert!(!is_closed(&gate(0, 30, 1.0), 8, 2));
        assert!(is_closed(&gate(0, 30, 1.0), 7, 3));
        assert!(!is_closed(&gate(1, 1, 1.0), 5, 0));
    }

    #[test]
    fn half_weight_starting_pods_ask_for_half_again() {
        assert_eq!(weight_shortfall(&gate(0, 0, 0.5), 3), 2);
        assert_eq!(weight_shortfall(&gate(0, 0, 1.0), 3), 0);
    }
}
