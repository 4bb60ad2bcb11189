//! Prefix cache by block hash: requests that share a prompt prefix (Mooncake's
//! `hash_ids`, one id per `prefix_block_tokens` tokens) share its KV blocks.
//!
//! A *unit* is one hash id's worth of KV blocks. While a running request references a
//! unit it is held (counted as used once, however many requests share it); when the last
//! reference goes, its blocks return to the free queue as a keyed segment and stay
//! findable until allocation eats into them (then the unit is gone). As in vLLM, a hash
//! identifies the whole prefix up to it, so a request's hits are its leading units.

use crate::kv::{BlockPool, SegmentId};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy)]
struct Unit {
    refs: u32,
    /// Where its blocks wait in the free queue while no request references it.
    segment: Option<SegmentId>,
}

/// What a lookup found: `hits` leading units, of which `evictable_blocks` blocks are
/// free-but-cached (reusing them counts as allocating them, as in vLLM).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hit {
    pub units: u32,
    pub evictable_blocks: u64,
}

/// The prefix units of one replica.
#[derive(Debug, Clone)]
pub struct PrefixCache {
    unit_blocks: u64,
    units: BTreeMap<u64, Unit>,
    held: u64,
}

impl PrefixCache {
    /// A cache of units of `unit_blocks` KV blocks each.
    pub fn new(unit_blocks: u64) -> Self {
        Self {
            unit_blocks,
            units: BTreeMap::new(),
            held: 0,
        }
    }

    /// Blocks in one unit.
    pub fn unit_blocks(&self) -> u64 {
        self.unit_blocks
    }

    /// Blocks held by referenced units (each counted once).
    pub fn held_blocks(&self) -> u64 {
        self.held * self.unit_blocks
    }

    /// The leading units of `hashes` (at most `max_units`) that are cached whole.
    pub fn lookup(&self, pool: &BlockPool, hashes: &[u64], max_units: usize) -> Hit {
        let mut hit = Hit::default();
        for hash in hashes.iter().take(max_units) {
            match self.units.get(hash) {
                Some(unit) if unit.refs > 0 => {}
                Some(Unit {
                    segment: Some(segment),
                    ..
                }) if pool.surviving(*segment) == self.unit_blocks => {
                    hit.evictable_blocks += self.unit_blocks;
                }
                _ => break,
            }
            hit.units += 1;
        }
        hit
    }

    /// References the first `units` of `hashes` (a [`PrefixCache::lookup`] result),
    /// taking evictable ones out of the free queue.
    pub fn acquire(&mut self, pool: &mut BlockPool, hashes: &[u64], units: u32) {
        for hash in &hashes[..units as usize] {
            let unit = self.units.get_mut(hash).expect("acquire follows a lookup");
            if unit.refs == 0 {
                let segment = unit
                    .segment
                    .take()
                    .expect("an unreferenced cached unit has a segment");
                let reclaimed = pool.reclaim(segment);
                debug_assert_eq!(reclaimed, self.unit_blocks);
                self.held += 1;
            }
            unit.refs += 1;
        }
    }

    /// Makes `hash` a held unit backed by blocks its request already owns; returns
    /// `false` (nothing changes) when another request holds that hash already.
    pub fn register(&mut self, hash: u64) -> bool {
        match self.units.get(&hash) {
            Some(unit) if unit.refs > 0 => false,
            _ => {
                self.units.insert(
                    hash,
                    Unit {
                        refs: 1,
                        segment: None,
                    },
                );
                self.held += 1;
                true
            }
        }
    }

    /// Drops one reference to each of `hashes`, last first (so a prefix's first units
    /// are freed last and evicted last); unreferenced units go to the free queue.
    pub fn release(&mut self, pool: &mut BlockPool, hashes: &[u64]) {
        for hash in hashes.iter().rev() {
            let unit = self.units.get_mut(hash).expect("released units are held");
            unit.refs -= 1;
            if unit.refs == 0 {
                unit.segment = pool.release_keyed(self.unit_blocks);
                self.held -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_units_count_once_and_survive_until_evicted() {
        let mut pool = BlockPool::new(10);
        let mut cache = PrefixCache::new(2);
        pool.allocate(4);
        assert!(cache.register(1) && cache.register(2));
        assert_eq!(cache.held_blocks(), 4);
        let hit = cache.lookup(&pool, &[1, 2, 3], 3);
        assert_eq!(
            hit,
            Hit {
                units: 2,
                evictable_blocks: 0
            }
        );
        cache.acquire(&mut pool, &[1, 2], 2);
        cache.release(&mut pool, &[1, 2]);
        assert_eq!(cache.held_blocks(), 4, "still referenced once");
        cache.release(&mut pool, &[1, 2]);
        assert_eq!(cache.held_blocks(), 0);
        assert_eq!(pool.free(), 10);
        assert_eq!(
            cache.lookup(&pool, &[1, 2], 2),
            Hit {
                units: 2,
                evictable_blocks: 4
            }
        );
        // Allocation eats the oldest free blocks first: the 6 never-used ones, then unit 2.
        pool.allocate(7);
        assert_eq!(
            cache.lookup(&pool, &[1, 2], 2),
            Hit {
                units: 1,
                evictable_blocks: 2
            }
        );
    }

    #[test]
    fn register_refuses_a_hash_held_elsewhere() {
        let mut cache = PrefixCache::new(4);
        assert!(cache.register(9));
        assert!(!cache.register(9));
        assert_eq!(cache.held_blocks(), 4);
    }
}
