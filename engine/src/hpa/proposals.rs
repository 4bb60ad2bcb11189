//! Upstream `computeReplicasForMetrics`: several metrics, one proposal.
//!
//! The largest proposal wins. A metric that fails is counted as invalid; if every
//! metric is invalid, or some are and the valid ones would scale down, the HPA does
//! not act at all (it cannot know the failed metric would have agreed to shrink).

use super::config::{CpuReadiness, MetricTarget, Tolerances};
use super::replica_calculator::{MetricError, MetricValue, compute_metric};
use crate::observation::Observation;
use serde::{Deserialize, Serialize};

/// One metric's outcome, by name, for the decision record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricProposal {
    pub metric: String,
    pub result: Result<MetricValue, MetricError>,
}

/// What the metrics together propose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Combined {
    /// Scale towards `replicas`; `invalid` metrics failed but did not block it.
    Replicas { replicas: i32, invalid: usize },
    /// Keep the current count (upstream returns -1 and an error).
    Blocked { invalid: usize, total: usize },
}

/// Computes every metric, in order.
pub(crate) fn propose_all(
    metrics: &[MetricTarget],
    obs: &Observation,
    tolerances: &Tolerances,
    readiness: &CpuReadiness,
) -> Vec<MetricProposal> {
    metrics
        .iter()
        .map(|m| MetricProposal {
            metric: m.name.clone(),
            result: compute_metric(m, obs, tolerances, readiness),
        })
        .collect()
}

/// Combines proposals as upstream, `spec_replicas` being `scale.spec.replicas`.
pub(crate) fn combine(proposals: &[MetricProposal], spec_replicas: i32) -> Combined {
    let mut replicas = 0;
    let mut invalid = 0;
    for proposal in proposals {
        match &proposal.result {
            Err(_) => invalid += 1,
            // Upstream starts from 0 and lets any proposal replace a 0.
            Ok(v) if replicas == 0 || v.replicas > replicas => replicas = v.replicas,
            Ok(_) => {}
        }
    }
    if invalid >= proposals.len() || (invalid > 0 && replicas < spec_replicas) {
        Combined::Blocked {
            invalid,
            total: proposals.len(),
        }
    } else {
        Combined::Replicas { replicas, invalid }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(replicas: i32) -> MetricProposal {
        MetricProposal {
            metric: "m".into(),
            result: Ok(MetricValue {
                replicas,
                utilization_percent: None,
                current_milli: 0,
            }),
        }
    }

    fn failed() -> MetricProposal {
        MetricProposal {
            metric: "f".into(),
            result: Err(MetricError::NoPods),
        }
    }

    #[test]
    fn the_largest_proposal_wins() {
        assert_eq!(
            combine(&[ok(3), ok(7), ok(5)], 4),
            Combined::Replicas {
                replicas: 7,
                invalid: 0
            }
        );
    }

    #[test]
    fn a_failed_metric_blocks_scale_down_but_not_scale_up() {
        assert_eq!(
            combine(&[ok(2), failed()], 4),
            Combined::Blocked {
                invalid: 1,
                total: 2
            }
        );
        assert_eq!(
            combine(&[ok(6), failed()], 4),
            Combined::Replicas {
                replicas: 6,
                invalid: 1
            }
        );
        assert_eq!(
            combine(&[ok(4), failed()], 4),
            Combined::Replicas {
                replicas: 4,
                invalid: 1
            }
        );
    }

    #[test]
    fn all_failed_blocks() {
        assert_eq!(
            combine(&[failed(), failed()], 4),
            Combined::Blocked {
                invalid: 2,
                total: 2
            }
        );
    }
}
