//! The event queue: a binary min-heap keyed by `(time, phase, seq)`.
//!
//! Why this key: two events at the same microsecond must be handled in an order that
//! does not depend on insertion accidents, so each event carries an explicit [`Phase`]
//! (arrivals before step ends before samples, for example), and events of the same time
//! and phase keep insertion order through a per-queue sequence counter. The result is a
//! total order, so a simulation is a pure function of its inputs.
//!
//! Complexity: `push` and `pop` are O(log n) in the number of pending events; `peek` is O(1).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Simulated time in integer microseconds since the start of the simulation.
pub type TimeUs = i64;

/// Orders events that fall on the same microsecond; lower runs first.
///
/// A closed list, so the order inside a timestamp is written down in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Phase {
    /// A request reaches the fleet (before any step decision at that instant sees it).
    Arrival = 0,
    /// A replica finishes a step (or a run of decode steps) and schedules the next.
    StepEnd = 1,
    /// A periodic metrics sample reads state after the replicas' steps at that instant.
    Sample = 2,
    /// A replica becomes ready, drains or is interrupted; a gateway timeout fires.
    Lifecycle = 3,
    /// Every replica is scraped (after it has handled that instant's work).
    Scrape = 4,
    /// The autoscaler decides (after the scrape of the same instant).
    Control = 5,
}

/// Bits of the packed key below the phase: the sequence counter's range.
const SEQ_BITS: u32 = 56;

/// `(time, phase, seq)` packed into one integer that orders the same way, so the heap
/// compares keys in one step: time with its sign bit flipped (so that unsigned order is
/// signed order) in the high half, then the phase byte, then the sequence number.
fn pack(time_us: TimeUs, phase: Phase, seq: u64) -> u128 {
    let time = (time_us as u64) ^ (1 << 63);
    (u128::from(time) << 64) | (u128::from(phase as u8) << SEQ_BITS) | u128::from(seq)
}

fn unpack_time(key: u128) -> TimeUs {
    ((key >> 64) as u64 ^ (1 << 63)) as TimeUs
}

fn unpack_phase(key: u128) -> Phase {
    const PHASES: [Phase; 6] = [
        Phase::Arrival,
        Phase::StepEnd,
        Phase::Sample,
        Phase::Lifecycle,
        Phase::Scrape,
        Phase::Control,
    ];
    PHASES[((key as u64) >> SEQ_BITS) as usize]
}

struct Entry<E> {
    key: u128,
    event: E,
}

impl<E> Entry<E> {
    fn key(&self) -> u128 {
        self.key
    }
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl<E> Eq for Entry<E> {}

impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Entry<E> {
    // BinaryHeap is a max-heap: reverse so the smallest key pops first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key().cmp(&self.key())
    }
}

/// A deterministic priority queue of simulation events.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        Self {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }

    /// An empty queue with room for `capacity` pending events.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            heap: BinaryHeap::with_capacity(capacity),
            next_seq: 0,
        }
    }

    /// Schedules `event` at `time_us` in `phase`; ties keep insertion order.
    pub fn push(&mut self, time_us: TimeUs, phase: Phase, event: E) {
        let seq = self.next_seq;
        // 2^56 events would take years of simulation at any feasible speed.
        assert!(seq < 1 << SEQ_BITS, "event sequence counter exhausted");
        self.next_seq += 1;
        self.heap.push(Entry {
            key: pack(time_us, phase, seq),
            event,
        });
    }

    /// Removes and returns the earliest event with its time and phase.
    pub fn pop(&mut self) -> Option<(TimeUs, Phase, E)> {
        self.heap
            .pop()
            .map(|entry| (unpack_time(entry.key), unpack_phase(entry.key), entry.event))
    }

    /// Time and phase of the earliest event, without removing it.
    pub fn peek_key(&self) -> Option<(TimeUs, Phase)> {
        self.heap
            .peek()
            .map(|entry| (unpack_time(entry.key), unpack_phase(entry.key)))
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(queue: &mut EventQueue<u32>) -> Vec<(TimeUs, Phase, u32)> {
        std::iter::from_fn(|| queue.pop()).collect()
    }

    #[test]
    fn earlier_time_pops_first() {
        let mut queue = EventQueue::new();
        queue.push(30, Phase::Arrival, 1);
        queue.push(10, Phase::Sample, 2);
        queue.push(20, Phase::StepEnd, 3);
        let order: Vec<u32> = drain(&mut queue).into_iter().map(|e| e.2).collect();
        assert_eq!(order, vec![2, 3, 1]);
    }

    #[test]
    fn phase_orders_within_a_timestamp() {
        let mut queue = EventQueue::new();
        queue.push(5, Phase::Sample, 1);
        queue.push(5, Phase::StepEnd, 2);
        queue.push(5, Phase::Arrival, 3);
        let order: Vec<u32> = drain(&mut queue).into_iter().map(|e| e.2).collect();
        assert_eq!(order, vec![3, 2, 1]);
    }

    #[test]
    fn equal_keys_keep_insertion_order() {
        let mut queue = EventQueue::new();
        for id in 0..100 {
            queue.push(7, Phase::StepEnd, id);
        }
        let order: Vec<u32> = drain(&mut queue).into_iter().map(|e| e.2).collect();
        assert_eq!(order, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn peek_matches_pop_and_len_tracks() {
        let mut queue = EventQueue::with_capacity(4);
        assert!(queue.is_empty());
        queue.push(2, Phase::StepEnd, 9);
        queue.push(1, Phase::Sample, 8);
        assert_eq!(queue.len(), 2);
        assert_eq!(queue.peek_key(), Some((1, Phase::Sample)));
        assert_eq!(queue.pop(), Some((1, Phase::Sample, 8)));
        assert_eq!(queue.len(), 1);
    }

    #[test]
    fn packed_keys_round_trip_and_order_negative_times() {
        let phases = [Phase::Arrival, Phase::StepEnd, Phase::Control];
        let times = [TimeUs::MIN, -5, -1, 0, 1, 7, TimeUs::MAX];
        for &time in &times {
            for &phase in &phases {
                let key = pack(time, phase, 3);
                assert_eq!((unpack_time(key), unpack_phase(key)), (time, phase));
            }
        }
        for pair in times.windows(2) {
            assert!(pack(pair[0], Phase::Control, 9) < pack(pair[1], Phase::Arrival, 0));
        }
    }

    proptest::proptest! {
        #[test]
        fn pops_in_sorted_key_order(items in proptest::collection::vec((0i64..50, 0u8..3), 0..200)) {
            let phases = [Phase::Arrival, Phase::StepEnd, Phase::Sample];
            let mut queue = EventQueue::new();
            for (index, (time, phase)) in items.iter().enumerate() {
                queue.push(*time, phases[*phase as usize], index as u32);
            }
            let mut expected: Vec<(i64, Phase, u32)> = items
                .iter()
                .enumerate()
                .map(|(index, (time, phase))| (*time, phases[*phase as usize], index as u32))
                .collect();
            expected.sort();
            proptest::prop_assert_eq!(drain(&mut queue), expected);
        }
    }
}
