//! Which replica an arriving request goes to: one router for the fixed fleet
//! ([`crate::sim`]) and the autoscaled one ([`crate::fleet`]), over the candidates each
//! passes in its own order (ties go to the first: the lowest id, the oldest replica).

use crate::fleet::RoutingPolicy;

/// A replica's requests as a router counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Load {
    pub waiting: usize,
    pub running: usize,
}

impl Load {
    /// What a replica that cannot take requests shows: never the least loaded.
    pub const UNAVAILABLE: Load = Load {
        waiting: usize::MAX,
        running: usize::MAX,
    };

    /// Waiting plus running: the outstanding requests.
    pub fn outstanding(self) -> usize {
        self.waiting.saturating_add(self.running)
    }

    /// vLLM's data-parallel balancer score (`DPLBAsyncMPClient`): a waiting request
    /// weighs four running ones, since it delays a first token.
    pub fn vllm_score(self) -> usize {
        self.waiting.saturating_mul(4).saturating_add(self.running)
    }
}

/// A routing policy and the turn of its round robin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Router {
    policy: RoutingPolicy,
    turn: usize,
}

impl Router {
    pub fn new(policy: RoutingPolicy) -> Router {
        Router { policy, turn: 0 }
    }

    /// The replica for the next request among `candidates`; `load` is a replica's
    /// waiting and running requests, `kv_used` its KV blocks in use (read by
    /// [`RoutingPolicy::KvAware`] only). `None` without candidates.
    pub fn pick<K: Copy>(
        &mut self,
        candidates: &[K],
        load: impl Fn(K) -> Load,
        kv_used: impl Fn(K) -> u64,
    ) -> Option<K> {
        match self.policy {
            RoutingPolicy::LeastOutstanding => candidates
                .iter()
                .copied()
                .min_by_key(|&k| load(k).outstanding()),
            RoutingPolicy::VllmDataParallel => candidates
                .iter()
                .copied()
                .min_by_key(|&k| load(k).vllm_score()),
            RoutingPolicy::RoundRobin => {
                if candidates.is_empty() {
                    return None;
                }
                let picked = candidates[self.turn % candidates.len()];
                self.turn = self.turn.wrapping_add(1);
                Some(picked)
            }
            RoutingPolicy::KvAware => candidates
                .iter()
                .copied()
                .min_by_key(|&k| (kv_used(k), load(k).outstanding())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_policy_picks_as_documented_and_ties_go_to_the_first() {
        let loads = [3usize, 1, 1, 4].map(|running| Load {
            waiting: 0,
            running,
        });
        let kv = [10u64, 50, 20, 5];
        let ids = [0usize, 1, 2, 3];
        let mut least = Router::new(RoutingPolicy::LeastOutstanding);
        assert_eq!(least.pick(&ids, |i| loads[i], |i| kv[i]), Some(1));
        let mut kv_aware = Router::new(RoutingPolicy::KvAware);
        assert_eq!(kv_aware.pick(&ids, |i| loads[i], |i| kv[i]), Some(3));
        let mut turns = Router::new(RoutingPolicy::RoundRobin);
        let picks: Vec<usize> = (0..5)
            .filter_map(|_| turns.pick(&ids, |i| loads[i], |i| kv[i]))
            .collect();
        assert_eq!(picks, [0, 1, 2, 3, 0]);
        assert_eq!(turns.pick::<usize>(&[], |_| Load::default(), |_| 0), None);
    }

    /// vLLM's balancer weighs a waiting request as four running ones: 2 waiting and
    /// 1 running (score 9) lose to 8 running (score 8), which least outstanding (3
    /// against 8) would not send to.
    #[test]
    fn the_vllm_balancer_weighs_waiting_requests_four_times() {
        let loads = [
            Load {
                waiting: 2,
                running: 1,
            },
            Load {
                waiting: 0,
                running: 8,
            },
        ];
        let ids = [0usize, 1];
        let mut vllm = Router::new(RoutingPolicy::VllmDataParallel);
        assert_eq!(vllm.pick(&ids, |i| loads[i], |_| 0), Some(1));
        let mut least = Router::new(RoutingPolicy::LeastOutstanding);
        assert_eq!(least.pick(&ids, |i| loads[i], |_| 0), Some(0));
        let ties = [Load::default(); 2];
        assert_eq!(vllm.pick(&ids, |i| ties[i], |_| 0), Some(0));
        assert_eq!(Load::UNAVAILABLE.vllm_score(), usize::MAX);
    }
}
