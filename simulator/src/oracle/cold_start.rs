//! How long before it is needed a replica must be asked for: the worst case of the
//! fleet's start-up delays, so that no seeded draw makes a replica late.

use crate::fleet::{Delay, FleetConfig, LifecycleConfig};

/// Start-up times of a replica, microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColdStart {
    /// On a fresh node: provisioning + image pull + engine init + weight load, each at
    /// the top of its range.
    pub fresh_us: i64,
    /// On a warm node (no provisioning, image cached): engine init + weight load.
    pub warm_us: i64,
    /// Longest wait between the schedule changing and the fleet acting on it (the
    /// fleet checks a schedule once per engine tick).
    pub tick_us: i64,
}

/// The engine tick a `Schedule` strategy is checked at when the fleet names none.
const DEFAULT_TICK_US: i64 = 15_000_000;

impl ColdStart {
    /// Worst-case start-up of a replica of `weight_bytes` (the whole model: a replica
    /// loads all of it, whatever its tensor-parallel split) on `fleet`.
    pub fn of(fleet: &FleetConfig, weight_bytes: f64) -> Self {
        let lifecycle: &LifecycleConfig = &fleet.lifecycle;
        let slowest_load = lifecycle.weight_load_bytes_per_s.min.max(1.0);
        let load_us = (weight_bytes / slowest_load * 1e6).ceil() as i64;
        let warm_us = longest(&lifecycle.engine_init) + load_us;
        Self {
            fresh_us: longest(&lifecycle.node_provisioning)
                + longest(&lifecycle.image_pull)
                + warm_us,
            warm_us,
            tick_us: fleet.sync_period_us.unwrap_or(DEFAULT_TICK_US).max(0),
        }
    }

    /// How far ahead of its window a replica is asked for: a fresh node's start-up plus
    /// one tick.
    pub fn lead_us(&self) -> i64 {
        self.fresh_us + self.tick_us
    }
}

fn longest(delay: &Delay) -> i64 {
    match *delay {
        Delay::Fixed { us } => us.max(0),
        Delay::Uniform { min_us, max_us } => min_us.max(max_us).max(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_lifecycle_worst_case() {
        // 120 s provisioning + 90 s pull + 40 s init + 16 GB at 0.2 GB/s (80 s) + 15 s tick.
        let cold = ColdStart::of(&FleetConfig::default(), 16e9);
        assert_eq!(cold.warm_us, 120_000_000);
        assert_eq!(cold.fresh_us, 330_000_000);
        assert_eq!(cold.lead_us(), 345_000_000);
    }
}
