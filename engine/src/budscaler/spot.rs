//! Spot placement: how many of the desired replicas should run on spot capacity
//! (`Decision.desired_spot_replicas`), which a driver honours when it creates replicas.
//!
//! With `costConfig.enabled`, by `costOptimizationMode`:
//! - `performance`: none (interruptions cost latency);
//! - `balanced` (default): up to `maxSpotPercentage` of the desired count when
//!   `preferSpotInstances` is set, none otherwise;
//! - `cost-optimized`: up to `maxSpotPercentage` even without `preferSpotInstances`.
//!
//! With `spotFallbackToOnDemand` (default), an interruption notice in the last hour
//! (`Observation.cost.spot_interruptions_last_hour`, counted by the driver) stops new
//! spot placement: the count is held at the spot replicas still serving, so
//! replacements and scale-ups go on-demand until the hour has passed. Without cost
//! awareness the decision carries no spot count and the driver places as it always did.
//!
//! The interruption rate weighs against the discount: an interrupted replica serves
//! nothing for a cold start while its replacement starts, so at `r` interruptions per
//! spot replica-hour and a cold start of `c` hours, about `r × c` of the spot capacity
//! is missing at any time. When that is more than the headroom the utilization target
//! leaves (`1 − targetUtilization`), spot capacity cannot carry its share of the SLO
//! and no replica goes on spot (with or without fallback), until the rate falls. The
//! rate is the driver's notices of the last hour over the spot replicas (at least one).

use crate::observation::Observation;
use crate::spec::{CostOptimizationMode, ResolvedSpec};

/// The spot share of `desired` replicas at `obs`, with a note when the interruption
/// rate ruled spot out; `cold_start_s` is the learned cold start.
pub fn desired_spot(
    spec: &ResolvedSpec,
    obs: &Observation,
    desired: i32,
    cold_start_s: f64,
) -> (Option<i32>, Option<String>) {
    let cost = &spec.cost;
    if !cost.enabled {
        return (None, None);
    }
    let spot_pods = obs.pods.iter().filter(|p| p.spot && !p.deleting).count();
    let notices = obs
        .cost
        .as_ref()
        .map_or(0, |c| c.spot_interruptions_last_hour);
    let rate = f64::from(notices) / spot_pods.max(1) as f64;
    let missing = rate * cold_start_s / 3600.0;
    let headroom = 1.0 - spec.kpa.target_utilization;
    // Rounding must not turn "as much as the headroom" into "more".
    if notices > 0 && missing > headroom + 1e-9 {
        return (
            Some(0),
            Some(format!(
                "no spot: {notices} interruption(s) in the last hour over {} spot replica(s) with a {:.0}s cold start leave {:.0} % of spot capacity missing, more than the {:.0} % headroom",
                spot_pods.max(1),
                cold_start_s,
                missing * 100.0,
                headroom * 100.0
            )),
        );
    }
    (spot_count(spec, obs, desired, spot_pods), None)
}

fn spot_count(spec: &ResolvedSpec, obs: &Observation, desired: i32, serving: usize) -> Option<i32> {
    let cost = &spec.cost;
    let allowed = match cost.mode {
        CostOptimizationMode::Performance => false,
        CostOptimizationMode::Balanced => cost.prefer_spot_instances,
        CostOptimizationMode::CostOptimized => true,
    };
    if !allowed {
        return Some(0);
    }
    let cap = i32::try_from(i64::from(desired.max(0)) * i64::from(cost.max_spot_percentage) / 100)
        .unwrap_or(i32::MAX);
    let interrupted = obs
        .cost
        .as_ref()
        .is_some_and(|c| c.spot_interruptions_last_hour > 0);
    if cost.spot_fallback_to_on_demand && interrupted {
        return Some(cap.min(serving as i32));
    }
    Some(cap)
}
