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

use crate::observation::Observation;
use crate::spec::{CostOptimizationMode, ResolvedSpec};

/// The spot share of `desired` replicas at `obs`.
pub fn desired_spot(spec: &ResolvedSpec, obs: &Observation, desired: i32) -> Option<i32> {
    let cost = &spec.cost;
    if !cost.enabled {
        return None;
    }
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
        let serving = obs.pods.iter().filter(|p| p.spot && !p.deleting).count() as i32;
        return Some(cap.min(serving));
    }
    Some(cap)
}
