//! KV-cache block pool of one replica, with vLLM's free-queue order.
//!
//! vLLM v1 keeps every free block in one queue: allocation takes from the front, freed
//! blocks go to the back, and with prefix caching a freed block keeps its content until
//! allocation reaches it. A request's blocks are freed in reverse order, so its tail is
//! reused first and its prefix survives longest. A preempted request that is admitted
//! again therefore finds a prefix of its old KV still cached and skips recomputing it.
//!
//! Here the queue holds *segments* (runs of blocks freed together), not blocks: O(1)
//! amortised per request instead of per block. Allocation eats the front segment, and
//! a segment that allocation has partly eaten has lost its tail, so what survives of a
//! request's KV is always a prefix of its length: the segment's remaining count.

use std::collections::VecDeque;

/// Identifies a freed request's segment so it can be found again; opaque.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentId(u64);

#[derive(Debug, Clone, Copy)]
struct Segment {
    blocks: u64,
    /// Whether someone may look this segment up again (a preempted request).
    keyed: bool,
}

/// Block accounting for one replica.
#[derive(Debug, Clone)]
pub struct BlockPool {
    total: u64,
    free: u64,
    queue: VecDeque<Segment>,
    /// Id of `queue[0]`; ids grow by one per pushed segment.
    front_id: u64,
}

impl BlockPool {
    /// A pool of `total` blocks, all free.
    pub fn new(total: u64) -> Self {
        let mut queue = VecDeque::new();
        queue.push_back(Segment {
            blocks: total,
            keyed: false,
        });
        Self {
            total,
            free: total,
            queue,
            front_id: 0,
        }
    }

    /// Blocks in the pool.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Blocks not held by a running request (cached-but-free blocks count as free,
    /// as in vLLM's usage metric).
    pub fn free(&self) -> u64 {
        self.free
    }

    /// Blocks held by running requests.
    pub fn used(&self) -> u64 {
        self.total - self.free
    }

    /// Takes `count` blocks from the front of the free queue.
    ///
    /// Callers check `count <= free()` first (the scheduler's admission and preemption
    /// rules guarantee it); taking more is a simulator bug.
    pub fn allocate(&mut self, count: u64) {
        assert!(
            count <= self.free,
            "allocating {count} blocks with {} free",
            self.free
        );
        self.free -= count;
        let mut left = count;
        while left > 0 {
            let front = self
                .queue
                .front_mut()
                .expect("free blocks exist, so the queue is not empty");
            if front.blocks > left {
                front.blocks -= left;
                left = 0;
            } else {
                left -= front.blocks;
                self.queue.pop_front();
                self.front_id += 1;
            }
        }
        self.drop_empty_front();
    }

    /// Returns `count` blocks of a finished request to the back of the queue.
    pub fn release(&mut self, count: u64) {
        if count == 0 {
            return;
        }
        self.free += count;
        if let Some(back) = self.queue.back_mut()
            && !back.keyed
        {
            back.blocks += count;
            return;
        }
        self.queue.push_back(Segment {
            blocks: count,
            keyed: false,
        });
    }

    /// Returns `count` blocks of a preempted request, remembering them so that
    /// [`BlockPool::reclaim`] can find what survives.
    pub fn release_keyed(&mut self, count: u64) -> Option<SegmentId> {
        if count == 0 {
            return None;
        }
        self.free += count;
        self.queue.push_back(Segment {
            blocks: count,
            keyed: true,
        });
        Some(SegmentId(self.front_id + self.queue.len() as u64 - 1))
    }

    /// How many blocks of a keyed segment are still cached (its surviving prefix).
    pub fn surviving(&self, id: SegmentId) -> u64 {
        match id.0.checked_sub(self.front_id) {
            Some(offset) => self
                .queue
                .get(offset as usize)
                .map_or(0, |segment| segment.blocks),
            None => 0,
        }
    }

    /// Takes a keyed segment's surviving blocks back for its request; returns how many.
    pub fn reclaim(&mut self, id: SegmentId) -> u64 {
        let Some(offset) = id.0.checked_sub(self.front_id) else {
            return 0;
        };
        let Some(segment) = self.queue.get_mut(offset as usize) else {
            return 0;
        };
        let blocks = segment.blocks;
        segment.blocks = 0;
        segment.keyed = false;
        self.free -= blocks;
        self.drop_empty_front();
        blocks
    }

    fn drop_empty_front(&mut self) {
        while self.queue.len() > 1
            && self
                .queue
                .front()
                .is_some_and(|segment| segment.blocks == 0)
        {
            self.queue.pop_front();
            self.front_id += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_eats_oldest_free_blocks_first() {
        let mut pool = BlockPool::new(10);
        pool.allocate(10);
        assert_eq!(pool.free(), 0);
        let old = pool.release_keyed(4).unwrap();
        let new = pool.release_keyed(3).unwrap();
        pool.allocate(5);
        assert_eq!(pool.surviving(old), 0);
        assert_eq!(pool.surviving(new), 2);
        assert_eq!(pool.reclaim(new), 2);
        assert_eq!(pool.free(), 0);
        assert_eq!(pool.used(), 10);
    }

    #[test]
    fn unkeyed_releases_merge_and_counts_balance() {
        let mut pool = BlockPool::new(8);
        pool.allocate(6);
        pool.release(2);
        pool.release(3);
        assert_eq!(pool.free(), 7);
        pool.allocate(7);
        assert_eq!(pool.free(), 0);
    }

    proptest::proptest! {
        #[test]
        fn free_count_matches_queue(ops in proptest::collection::vec((0u8..3, 0u64..20), 0..100)) {
            let mut pool = BlockPool::new(64);
            let mut keys = Vec::new();
            for (op, n) in ops {
                match op {
                    0 => { let n = n.min(pool.free()); pool.allocate(n); }
                    1 => { let n = n.min(pool.used()); if let Some(id) = pool.release_keyed(n) { keys.push(id); } }
                    _ => { if let Some(id) = keys.pop() { pool.reclaim(id); } }
                }
                let queued: u64 = pool.queue.iter().map(|s| s.blocks).sum();
                proptest::prop_assert_eq!(queued, pool.free());
                proptest::prop_assert!(pool.free() <= pool.total());
            }
        }
    }
}
