//! How long a new replica takes to serve: the forecast's default lookahead.
//!
//! Every pod seen starting and then ready, with a known `creation_time`, contributes
//! its creation → Ready time (pods already ready when first seen do not: their start
//! was not observed); the lookahead is the largest of the last [`KEPT`] (a forecast that looks
//! ahead by a typical cold start is late for every slower one). Before any replica
//! has been seen starting, [`PRIOR`] applies: a fresh GPU node (provisioning, image
//! pull, weight load) typically takes 3 to 5 minutes.

use crate::observation::Observation;
use crate::time::{Micros, SECOND};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Cold starts remembered.
pub const KEPT: usize = 8;

/// The lookahead before any cold start was observed.
pub const PRIOR: Micros = 240 * SECOND;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ColdStarts {
    /// The latest observed durations, oldest first.
    pub recent: Vec<Micros>,
    /// Pods seen created but not ready yet (only pods still present are kept).
    pub starting: BTreeSet<String>,
}

impl ColdStarts {
    /// Counts the pods seen starting before that are ready now.
    pub fn update(&mut self, obs: &Observation) {
        let mut starting = BTreeSet::new();
        for pod in &obs.pods {
            if pod.deleting {
                continue;
            }
            if !pod.is_ready() {
                starting.insert(pod.name.clone());
                continue;
            }
            if !self.starting.contains(&pod.name) {
                continue;
            }
            if let (Some(created), Some(ready)) = (pod.creation_time, pod.ready_transition_time)
                && ready >= created
            {
                self.recent.push(ready - created);
                if self.recent.len() > KEPT {
                    self.recent.remove(0);
                }
            }
        }
        self.starting = starting;
    }

    /// The cold start to look ahead by.
    pub fn lookahead(&self) -> Micros {
        self.recent.iter().copied().max().unwrap_or(PRIOR)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::{PodPhase, PodStatus};

    fn pod(name: &str, created: Micros, ready_at: Option<Micros>) -> PodStatus {
        PodStatus {
            name: name.into(),
            phase: PodPhase::Running,
            ready: ready_at.is_some(),
            start_time: Some(created),
            ready_transition_time: ready_at,
            deleting: false,
            creation_time: Some(created),
            spot: false,
        }
    }

    #[test]
    fn the_lookahead_is_the_slowest_recent_cold_start() {
        let mut starts = ColdStarts::default();
        assert_eq!(starts.lookahead(), PRIOR);
        let mut obs = Observation {
            pods: vec![pod("a", 0, None), pod("b", 0, None), pod("c", 0, Some(0))],
            ..Observation::default()
        };
        starts.update(&obs);
        obs.pods[0] = pod("a", 0, Some(100 * SECOND));
        starts.update(&obs);
        assert_eq!(
            starts.lookahead(),
            100 * SECOND,
            "c was never seen starting"
        );
        obs.pods[1] = pod("b", 10 * SECOND, Some(190 * SECOND));
        starts.update(&obs);
        starts.update(&obs);
        assert_eq!(starts.recent, vec![100 * SECOND, 180 * SECOND]);
        assert_eq!(starts.lookahead(), 180 * SECOND);
    }
}
