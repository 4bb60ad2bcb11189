//! Scale from zero: with no ready replica a gateway holds the requests, as Knative's
//! activator does. For KPA and BudScaler (the strategies that scale to zero) the
//! observation then carries an extra ready pod named [`ACTIVATOR`] whose scrape shows
//! the held requests as waiting, the way Knative's collector adds the activator's
//! concurrency to the revision's. The HPA never sees it.

use engine::observation::PodStatus;
use engine::spec::ScalingStrategy;

/// The activator pod's name.
pub const ACTIVATOR: &str = engine::budscaler::signals::ACTIVATOR_POD;

/// Whether `strategy` reads held requests through the activator.
pub fn uses_activator(strategy: ScalingStrategy) -> bool {
    strategy != ScalingStrategy::Hpa
}

/// The activator as a pod: ready since time 0, never deleted.
pub fn activator_status() -> PodStatus {
    PodStatus::ready_since(ACTIVATOR, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_strategies_that_scale_to_zero_use_it() {
        assert!(uses_activator(ScalingStrategy::Kpa));
        assert!(uses_activator(ScalingStrategy::BudScaler));
        assert!(!uses_activator(ScalingStrategy::Hpa));
        let pod = activator_status();
        assert!(pod.is_ready());
        assert_eq!(pod.name, "activator");
    }
}
