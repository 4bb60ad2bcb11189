//! Which replica an arriving request goes to: one router for the fixed fleet
//! ([`crate::sim`]) and the autoscaled one ([`crate::fleet`]), over the candidates each
//! passes in its own order (ties go to the first: the lowest id, the oldest replica).

use crate::fleet::RoutingPolicy;

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
    /// waiting plus running requests, `kv_used` its KV blocks in use (read by
    /// [`RoutingPolicy::KvAware`] only). `None` without candidates.
    pub fn pick<K: Copy>(
        &mut self,
        candidates: &[K],
        load: impl Fn(K) -> usize,
        kv_used: impl Fn(K) -> u64,
    ) -> Option<K> {
        match self.policy {
            RoutingPolicy::LeastOutstanding => candidates.iter().copied().min_by_key(|&k| load(k)),
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
                .min_by_key(|&k| (kv_used(k), load(k))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_policy_picks_as_documented_and_ties_go_to_the_first() {
        let loads = [3usize, 1, 1, 4];
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
        assert_eq!(turns.pick::<usize>(&[], |_| 0, |_| 0), None);
    }
}
