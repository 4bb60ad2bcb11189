//! Upstream `groupPods`: which pods' samples a pod-based metric may trust.
//!
//! Every pod falls in exactly one group, checked in this order:
//! 1. *ignored*: being deleted or `Failed`; never counted.
//! 2. *unready*: `Pending`; and, for CPU only, a pod whose sample may still reflect its
//!    start-up burst (see [`CpuReadiness`]). Counted as 0 on scale-up, left out on
//!    scale-down.
//! 3. *missing*: no sample. Counted as 100% (of request or target) on scale-down and
//!    0 on scale-up.
//! 4. *ready*: everything else, `Succeeded` pods with a sample included (as upstream).

use super::config::CpuReadiness;
use crate::observation::{PodPhase, PodSample, PodStatus};
use crate::time::Micros;
use std::collections::{BTreeMap, BTreeSet};

/// The pods of one metric computation, by group.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PodGroups {
    pub ready_count: usize,
    pub unready: BTreeSet<String>,
    pub missing: BTreeSet<String>,
    pub ignored: BTreeSet<String>,
}

/// Groups `pods` for one metric. `cpu_rules` selects the CPU readiness rules
/// (upstream: `resource == v1.ResourceCPU`).
///
/// A pod without a `ready_transition_time` is a pod without a `Ready` condition.
pub fn group_pods(
    pods: &[PodStatus],
    samples: &BTreeMap<String, PodSample>,
    cpu_rules: bool,
    readiness: &CpuReadiness,
    now: Micros,
) -> PodGroups {
    let mut groups = PodGroups::default();
    for pod in pods {
        if pod.deleting || pod.phase == PodPhase::Failed {
            groups.ignored.insert(pod.name.clone());
            continue;
        }
        if pod.phase == PodPhase::Pending {
            groups.unready.insert(pod.name.clone());
            continue;
        }
        let Some(sample) = samples.get(&pod.name) else {
            groups.missing.insert(pod.name.clone());
            continue;
        };
        if cpu_rules && cpu_sample_untrusted(pod, sample, readiness, now) {
            groups.unready.insert(pod.name.clone());
            continue;
        }
        groups.ready_count += 1;
    }
    groups
}

/// The CPU branch of upstream `groupPods`.
fn cpu_sample_untrusted(
    pod: &PodStatus,
    sample: &PodSample,
    readiness: &CpuReadiness,
    now: Micros,
) -> bool {
    let (Some(start), Some(transition)) = (pod.start_time, pod.ready_transition_time) else {
        return true;
    };
    if start.saturating_add(readiness.initialization_period) > now {
        // Still initializing: trust only a Ready pod sampled over a full window that
        // began after it became ready.
        !pod.ready || sample.timestamp < transition.saturating_add(sample.window)
    } else {
        // Initialized: distrust only a pod that is not Ready and never has been (its
        // readiness last changed right at start-up).
        !pod.ready && start.saturating_add(readiness.initial_readiness_delay) > transition
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::seconds;

    const NOW: Micros = seconds(10_000);

    fn pod(
        name: &str,
        phase: PodPhase,
        ready: bool,
        start: Option<Micros>,
        tr: Option<Micros>,
    ) -> PodStatus {
        PodStatus {
            name: name.into(),
            phase,
            ready,
            start_time: start,
            ready_transition_time: tr,
            deleting: false,
            creation_time: None,
            spot: false,
        }
    }

    fn sample(at: Micros, window: Micros) -> PodSample {
        PodSample {
            timestamp: at,
            window,
            value: 1.0,
        }
    }

    fn group_one(p: PodStatus, s: Option<PodSample>) -> PodGroups {
        let samples: BTreeMap<_, _> = s.into_iter().map(|s| (p.name.clone(), s)).collect();
        group_pods(&[p], &samples, true, &CpuReadiness::default(), NOW)
    }

    // The cases of upstream TestGroupPods, with our 5 min / 30 s defaults.
    #[test]
    fn no_ready_condition_is_unready_for_cpu() {
        let g = group_one(
            pod("a", PodPhase::Succeeded, false, Some(NOW), None),
            Some(sample(NOW, 0)),
        );
        assert!(g.unready.contains("a"));
    }

    #[test]
    fn fresh_sample_during_initialization_counts() {
        let p = pod(
            "a",
            PodPhase::Running,
            true,
            Some(NOW - seconds(60)),
            Some(NOW - seconds(30)),
        );
        let g = group_one(p, Some(sample(NOW, seconds(30))));
        assert_eq!(g.ready_count, 1);
    }

    #[test]
    fn stale_sample_during_initialization_is_unready() {
        let p = pod(
            "a",
            PodPhase::Running,
            true,
            Some(NOW - seconds(60)),
            Some(NOW - seconds(30)),
        );
        let g = group_one(p, Some(sample(NOW, seconds(60))));
        assert!(g.unready.contains("a"));
    }

    #[test]
    fn never_ready_after_initialization_is_unready_but_once_ready_counts() {
        let start = NOW - seconds(600);
        let never = pod(
            "a",
            PodPhase::Running,
            false,
            Some(start),
            Some(start + seconds(6)),
        );
        assert!(
            group_one(never, Some(sample(NOW, seconds(60))))
                .unready
                .contains("a")
        );
        let was_ready = pod(
            "b",
            PodPhase::Running,
            false,
            Some(start),
            Some(start + seconds(60)),
        );
        assert_eq!(
            group_one(was_ready, Some(sample(NOW, seconds(60)))).ready_count,
            1
        );
    }

    #[test]
    fn readiness_is_not_checked_for_other_metrics() {
        let p = pod("a", PodPhase::Running, false, None, None);
        let samples = BTreeMap::from([("a".to_string(), sample(NOW, 0))]);
        let g = group_pods(&[p], &samples, false, &CpuReadiness::default(), NOW);
        assert_eq!(g.ready_count, 1);
    }

    #[test]
    fn order_is_ignored_then_pending_then_missing() {
        let mut deleting = pod("d", PodPhase::Pending, false, None, None);
        deleting.deleting = true;
        let pods = [
            deleting,
            pod("f", PodPhase::Failed, false, None, None),
            pod("p", PodPhase::Pending, false, None, None),
            pod("m", PodPhase::Running, true, Some(0), Some(0)),
        ];
        let g = group_pods(&pods, &BTreeMap::new(), true, &CpuReadiness::default(), NOW);
        assert_eq!(
            g.ignored,
            BTreeSet::from(["d".to_string(), "f".to_string()])
        );
        assert_eq!(g.unready, BTreeSet::from(["p".to_string()]));
        assert_eq!(g.missing, BTreeSet::from(["m".to_string()]));
        assert_eq!(g.ready_count, 0);
    }
}
