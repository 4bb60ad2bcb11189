//! When a loop decides and how often it scrapes: Knative's autoscaler decides every
//! 2 s, the Kubernetes HPA controller (and BudScaler, which settles through the HPA's
//! behavior) every 15 s; scrapes default to 15 s, never longer than the sync period.

use engine::spec::ScalingStrategy;
use engine::time::{Micros, SECOND};

/// A driver's own settings, each overriding the strategy's default when set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Configured {
    pub sync_us: Option<Micros>,
    pub scrape_us: Option<Micros>,
}

/// The strategy's default sync period.
pub fn default_sync_period(strategy: ScalingStrategy) -> Micros {
    match strategy {
        ScalingStrategy::Kpa => 2 * SECOND,
        ScalingStrategy::Hpa | ScalingStrategy::BudScaler => 15 * SECOND,
    }
}

/// The scrape interval: `configured`, else 15 s capped at the sync period.
pub fn scrape_interval(sync_period: Micros, configured: Option<Micros>) -> Micros {
    configured.unwrap_or((15 * SECOND).min(sync_period))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kpa_decides_every_2_s_others_every_15_s_and_scrapes_follow() {
        assert_eq!(default_sync_period(ScalingStrategy::Kpa), 2 * SECOND);
        assert_eq!(default_sync_period(ScalingStrategy::Hpa), 15 * SECOND);
        assert_eq!(default_sync_period(ScalingStrategy::BudScaler), 15 * SECOND);
        assert_eq!(scrape_interval(2 * SECOND, None), 2 * SECOND);
        assert_eq!(scrape_interval(30 * SECOND, None), 15 * SECOND);
        assert_eq!(scrape_interval(30 * SECOND, Some(SECOND)), SECOND);
    }
}
