//! Stage 2: what one replica sustains, learned online.
//!
//! A replica's capacity is read off the replica itself when it is *saturated*: it had
//! at least [`QUEUE_SATURATED`] requests waiting at this observation and the one before
//! (a queue that persisted through a whole window, not a burst of long prompts that
//! chunked prefill works through in a few steps), or its KV cache was at least
//! [`super::signals::KV_SATURATED`] full, or it was over a manifest latency limit (a
//! `ttft…`, `itl…` or `queue_time…` metric's target: what it served then is what it
//! serves *at that latency*), over a window it was ready for entirely. What it served
//! then is what it can serve; the estimate is an exponentially
//! weighted mean of such readings ([`ALPHA`]). A replica that serves *more* than the
//! estimate without saturating proves the estimate low, which raises it at once.
//!
//! Prior, before the first saturated reading: [`EXPLORE`] × the most work one replica
//! has served without any request waiting (a replica that served W without a queue
//! can serve at least W; guessing more lets the fleet grow into its real capacity
//! instead of over-provisioning on a lower bound, and the first saturated reading
//! replaces the guess with a measurement). The multiple trades exploration speed for
//! SLO risk; measured on `scenarios/default.yaml`: with saturation read at a 90% KV
//! cache, 2.0 ran out at the peak and missed a cold start's worth of it (98.85%, 2.63
//! GPU-h), 1.75 gave 99.99% at 3.39 and 1.5 never saturated (100%, 4.55); reading it at
//! 75% ([`super::signals::KV_SATURATED`]) learns capacity before the SLO breaks, and
//! 2.0 then gives 100% at 2.91 GPU-h. Before any replica has served anything there is
//! no guess: the metric guards decide, and with none asking the
//! decision says `CapacityUnknown`.
//!
//! Sizing uses `capacity × kpaConfig.targetUtilizationPercentage` (default 80 %):
//! saturated throughput comes with a queue, and the SLO wants none.

use super::signals::{KV_SATURATED, Workload};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Weight of a new saturated reading in the estimate.
pub const ALPHA: f64 = 0.3;

/// Requests waiting, at two observations in a row, that mark a replica saturated.
pub const QUEUE_SATURATED: f64 = 4.0;

/// The prior's multiple of the most work served without a queue.
pub const EXPLORE: f64 = 2.0;

/// The learned capacity and what learning it needs to remember.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CapacityModel {
    /// Work per second one replica serves when saturated; `None` until learned.
    #[serde(with = "crate::window::exact::option")]
    pub saturated: Option<f64>,
    /// Saturated readings taken so far.
    pub readings: u64,
    /// The most work a replica served over a full window with nothing waiting.
    #[serde(with = "crate::window::exact")]
    pub unqueued_max: f64,
    /// Pods that had requests waiting at the previous observation.
    pub queued_before: BTreeSet<String>,
}

/// What one update learned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Learned {
    /// Saturated replicas read at this observation.
    pub saturated_replicas: usize,
}

impl CapacityModel {
    /// Learns from the ready replicas of `workload`.
    pub fn update(&mut self, workload: &Workload) -> Learned {
        let mut sum = 0.0;
        let mut n = 0usize;
        let mut unsaturated_max: f64 = 0.0;
        for replica in &workload.replicas {
            let queued = replica.waiting >= QUEUE_SATURATED;
            let saturated = replica.full_window
                && ((queued && self.queued_before.contains(&replica.pod))
                    || replica.over_latency
                    || replica.kv.is_some_and(|kv| kv >= KV_SATURATED));
            if saturated {
                sum += replica.work;
                n += 1;
            } else if replica.full_window && replica.waiting <= 0.0 && !replica.over_latency {
                unsaturated_max = unsaturated_max.max(replica.work);
            }
        }
        if n > 0 {
            let reading = sum / n as f64;
            self.saturated = Some(match self.saturated {
                None => reading,
                Some(c) => c + ALPHA * (reading - c),
            });
            self.readings += 1;
        }
        self.unqueued_max = self.unqueued_max.max(unsaturated_max);
        if let Some(c) = self.saturated
            && unsaturated_max > c
        {
            self.saturated = Some(unsaturated_max);
        }
        self.queued_before = workload
            .replicas
            .iter()
            .filter(|r| r.waiting >= QUEUE_SATURATED)
            .map(|r| r.pod.clone())
            .collect();
        Learned {
            saturated_replicas: n,
        }
    }

    /// Work per second a replica is sized for at `utilization` of what it sustains:
    /// learned, or the prior's guess.
    pub fn per_replica(&self, utilization: f64) -> Option<f64> {
        self.saturated
            .filter(|c| *c > 0.0)
            .map(|c| c * utilization)
            .or_else(|| {
                (self.unqueued_max > 0.0).then_some(self.unqueued_max * EXPLORE * utilization)
            })
    }

    /// Whether [`CapacityModel::per_replica`] is a measurement rather than the prior.
    pub fn is_learned(&self) -> bool {
        self.saturated.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budscaler::signals::ReplicaLoad;

    fn workload(replicas: &[(&str, f64, f64, Option<f64>)]) -> Workload {
        Workload {
            ready: replicas.len() as i32,
            replicas: replicas
                .iter()
                .map(|&(pod, work, waiting, kv)| ReplicaLoad {
                    pod: pod.into(),
                    work,
                    waiting,
                    kv,
                    over_latency: false,
                    full_window: true,
                })
                .collect(),
            ..Workload::default()
        }
    }

    #[test]
    fn nothing_is_learned_without_a_persistent_queue_or_a_full_cache() {
        let mut model = CapacityModel::default();
        assert_eq!(model.per_replica(0.8), None);
        model.update(&workload(&[("a", 1000.0, 0.0, Some(0.2))]));
        assert!(!model.is_learned());
        assert_eq!(
            model.per_replica(0.8),
            Some(1000.0 * EXPLORE * 0.8),
            "the prior"
        );
        model.update(&workload(&[("a", 1500.0, 6.0, Some(0.3))]));
        assert!(!model.is_learned(), "one queued reading is a burst");
        model.update(&workload(&[("a", 1700.0, 2.0, Some(0.3))]));
        assert!(
            !model.is_learned(),
            "a short queue is chunked prefill at work"
        );
        model.update(&workload(&[("a", 1800.0, 5.0, Some(0.3))]));
        model.update(&workload(&[("a", 2000.0, 5.0, Some(0.3))]));
        assert_eq!(model.saturated, Some(2000.0));
        assert_eq!(model.per_replica(0.8), Some(2000.0 * 0.8));
    }

    #[test]
    fn a_full_cache_saturates_and_more_work_without_a_queue_raises_the_estimate() {
        let mut model = CapacityModel::default();
        model.update(&workload(&[("a", 1000.0, 0.0, Some(0.95))]));
        assert_eq!(model.saturated, Some(1000.0));
        model.update(&workload(&[("a", 1200.0, 0.0, Some(0.5))]));
        assert_eq!(model.saturated, Some(1200.0));
        model.update(&workload(&[("a", 600.0, 0.0, Some(0.92))]));
        assert_eq!(model.saturated, Some(1200.0 + ALPHA * (600.0 - 1200.0)));
    }
}
