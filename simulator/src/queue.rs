//! The event queue: a binary min-heap keyed by `(time, phase, seq)`.
//!
//! Why this key: two events at the same microsecond must be handled in an order that
//! does not depend on insertion accidents, so each event carries an explicit [`Phase`]
//! (arrivals before step ends before samples, for example), and events of the same time
//! and phase keep insertion order through a per-queue sequence counter. The result is a
//! total order, so a simulation is a pure function of its inputs.
//!
//! Complexity: `push` and `pop` are O(log n) in the number of pending events.
//!
//! # Timers
//!
//! Some owners (a replica's next step end) have at most one live event at a time, and
//! often move it: a replica that re-plans its run supersedes the wake it asked for.
//! Pushed as plain events, superseded wakes would stay in the heap until their time and
//! pop as no-ops (a quarter of all pops in a busy fleet). [`EventQueue::set_timer`]
//! keeps one slot per owner instead, in a second, indexed heap whose entries are
//! re-keyed in place. A timer takes its sequence number from the same counter as
//! [`EventQueue::push`], and [`EventQueue::pop`] takes the smaller key of the two heaps,
//! so the order of events is exactly as if each timer had been pushed when set and
//! its superseded predecessors ignored.

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
    timers: Timers<E>,
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
            timers: Timers::default(),
            next_seq: 0,
        }
    }

    /// An empty queue with room for `capacity` pending events.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            heap: BinaryHeap::with_capacity(capacity),
            timers: Timers::default(),
            next_seq: 0,
        }
    }

    fn next_key(&mut self, time_us: TimeUs, phase: Phase) -> u128 {
        let seq = self.next_seq;
        // 2^56 events would take years of simulation at any feasible speed.
        assert!(seq < 1 << SEQ_BITS, "event sequence counter exhausted");
        self.next_seq += 1;
        pack(time_us, phase, seq)
    }

    /// Schedules `event` at `time_us` in `phase`; ties keep insertion order.
    pub fn push(&mut self, time_us: TimeUs, phase: Phase, event: E) {
        let key = self.next_key(time_us, phase);
        self.heap.push(Entry { key, event });
    }

    /// Schedules `event` as `owner`'s one timer, replacing the timer it had (which
    /// then never pops). Orders like [`push`](Self::push) at the moment of the call.
    pub fn set_timer(&mut self, owner: u32, time_us: TimeUs, phase: Phase, event: E) {
        let key = self.next_key(time_us, phase);
        self.timers.set(owner, key, event);
    }

    /// Drops `owner`'s timer, if it has one.
    pub fn cancel_timer(&mut self, owner: u32) {
        self.timers.cancel(owner);
    }

    /// Removes and returns the earliest event with its time and phase.
    pub fn pop(&mut self) -> Option<(TimeUs, Phase, E)> {
        self.pop_before(None)
    }

    /// [`pop`](Self::pop), but only an event strictly before `limit_us` (any event when
    /// `None`): what a loop that merges an outside stream of arrivals (taken first on
    /// ties) needs, with one look at the heads instead of a peek and a pop.
    pub fn pop_before(&mut self, limit_us: Option<TimeUs>) -> Option<(TimeUs, Phase, E)> {
        let heap_key = self.heap.peek().map(Entry::key);
        let timer_key = self.timers.min_key();
        let (key, from_timers) = match (heap_key, timer_key) {
            (Some(heap), Some(timer)) => (heap.min(timer), timer < heap),
            (Some(heap), None) => (heap, false),
            (None, Some(timer)) => (timer, true),
            (None, None) => return None,
        };
        let time = unpack_time(key);
        if limit_us.is_some_and(|limit| time >= limit) {
            return None;
        }
        let event = if from_timers {
            self.timers.pop()?.1
        } else {
            self.heap.pop()?.event
        };
        Some((time, unpack_phase(key), event))
    }

    /// Number of pending events (timers included).
    pub fn len(&self) -> usize {
        self.heap.len() + self.timers.len()
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where an owner without a timer points.
const NO_TIMER: u32 = u32::MAX;

/// A binary min-heap of at most one entry per owner, with each owner's position kept
/// so that its entry can be re-keyed or removed in O(log n). The heap holds only
/// `(key, owner)` pairs (events stay with their owner), and sifting moves a hole
/// instead of swapping, so each level costs one move and one position update.
struct Timers<E> {
    heap: Vec<TimerKey>,
    owners: Vec<Owner<E>>,
}

#[derive(Clone, Copy)]
struct TimerKey {
    key: u128,
    owner: u32,
}

struct Owner<E> {
    /// Index in `heap`, or [`NO_TIMER`].
    position: u32,
    event: Option<E>,
}

impl<E> Default for Timers<E> {
    fn default() -> Self {
        Self {
            heap: Vec::new(),
            owners: Vec::new(),
        }
    }
}

impl<E> Timers<E> {
    fn len(&self) -> usize {
        self.heap.len()
    }

    fn min_key(&self) -> Option<u128> {
        self.heap.first().map(|entry| entry.key)
    }

    fn set(&mut self, owner: u32, key: u128, event: E) {
        let index = owner as usize;
        if index >= self.owners.len() {
            self.owners.resize_with(index + 1, || Owner {
                position: NO_TIMER,
                event: None,
            });
        }
        self.owners[index].event = Some(event);
        let entry = TimerKey { key, owner };
        match self.owners[index].position {
            NO_TIMER => {
                self.heap.push(entry);
                self.sift_up(self.heap.len() - 1, entry);
            }
            at => {
                let at = at as usize;
                if key < self.heap[at].key {
                    self.sift_up(at, entry);
                } else {
                    self.sift_down(at, entry);
                }
            }
        }
    }

    fn cancel(&mut self, owner: u32) {
        if let Some(slot) = self.owners.get_mut(owner as usize)
            && slot.position != NO_TIMER
        {
            let at = slot.position as usize;
            slot.event = None;
            self.remove_at(at);
        }
    }

    fn pop(&mut self) -> Option<(u128, E)> {
        let TimerKey { key, owner } = *self.heap.first()?;
        self.remove_at(0);
        let event = self.owners[owner as usize].event.take();
        Some((key, event.expect("a timer in the heap has its event")))
    }

    /// Takes the entry at `at` out of the heap.
    fn remove_at(&mut self, at: usize) {
        let removed = self.heap[at].owner;
        self.owners[removed as usize].position = NO_TIMER;
        let last = self.heap.pop().expect("non-empty");
        if at < self.heap.len() {
            // The last entry fills the hole, and may belong above or below it.
            if at > 0 && last.key < self.heap[(at - 1) / 2].key {
                self.sift_up(at, last);
            } else {
                self.sift_down(at, last);
            }
        }
    }

    /// Places `entry` at the hole `at` or above it.
    fn sift_up(&mut self, mut at: usize, entry: TimerKey) {
        while at > 0 {
            let parent = (at - 1) / 2;
            let above = self.heap[parent];
            if above.key <= entry.key {
                break;
            }
            self.place(at, above);
            at = parent;
        }
        self.place(at, entry);
    }

    /// Places `entry` at the hole `at` or below it.
    fn sift_down(&mut self, mut at: usize, entry: TimerKey) {
        let len = self.heap.len();
        loop {
            let left = 2 * at + 1;
            if left >= len {
                break;
            }
            let right = left + 1;
            let child = if right < len && self.heap[right].key < self.heap[left].key {
                right
            } else {
                left
            };
            let below = self.heap[child];
            if entry.key <= below.key {
                break;
            }
            self.place(at, below);
            at = child;
        }
        self.place(at, entry);
    }

    fn place(&mut self, at: usize, entry: TimerKey) {
        self.heap[at] = entry;
        self.owners[entry.owner as usize].position = at as u32;
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
    fn pop_before_leaves_events_at_or_after_the_limit() {
        let mut queue = EventQueue::new();
        queue.push(10, Phase::Control, 1);
        queue.set_timer(0, 12, Phase::StepEnd, 2);
        assert_eq!(queue.pop_before(Some(10)), None);
        assert_eq!(queue.pop_before(Some(11)), Some((10, Phase::Control, 1)));
        assert_eq!(queue.pop_before(Some(12)), None);
        assert_eq!(queue.pop_before(None), Some((12, Phase::StepEnd, 2)));
        assert_eq!(queue.pop_before(None), None);
    }

    #[test]
    fn len_tracks_pushes_and_pops() {
        let mut queue = EventQueue::with_capacity(4);
        assert!(queue.is_empty());
        queue.push(2, Phase::StepEnd, 9);
        queue.push(1, Phase::Sample, 8);
        assert_eq!(queue.len(), 2);
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

    #[test]
    fn a_timer_replaces_its_predecessor_and_orders_by_when_it_was_set() {
        let mut queue = EventQueue::new();
        queue.push(10, Phase::StepEnd, 1);
        queue.set_timer(0, 50, Phase::StepEnd, 2);
        queue.set_timer(0, 10, Phase::StepEnd, 3); // replaces 2; set after 1
        queue.set_timer(1, 10, Phase::Arrival, 4);
        queue.set_timer(2, 5, Phase::StepEnd, 5);
        queue.cancel_timer(2);
        queue.cancel_timer(7); // never had one
        assert_eq!(queue.len(), 3);
        assert_eq!(queue.pop_before(Some(10)), None, "the earliest is at 10");
        let order: Vec<u32> = drain(&mut queue).into_iter().map(|e| e.2).collect();
        assert_eq!(order, vec![4, 1, 3]);
        queue.set_timer(0, 1, Phase::StepEnd, 6); // an owner whose timer popped sets anew
        assert_eq!(drain(&mut queue), vec![(1, Phase::StepEnd, 6)]);
    }

    /// What a timer means, written the slow way: every `set_timer` is a push, and an
    /// event pops only if it is still its owner's latest (not replaced, not cancelled).
    #[derive(Debug, Clone)]
    enum Op {
        Push(i64, u8),
        Set(u32, i64, u8),
        Cancel(u32),
        Pop,
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            (0i64..40, 0u8..3).prop_map(|(t, p)| Op::Push(t, p)),
            (0u32..6, 0i64..40, 0u8..3).prop_map(|(o, t, p)| Op::Set(o, t, p)),
            (0u32..6).prop_map(Op::Cancel),
            Just(Op::Pop),
        ]
    }

    type Model = (
        EventQueue<(Option<u32>, u32)>,
        std::collections::BTreeMap<u32, u32>,
    );

    /// Pops the model: plain events, and timers still their owner's latest.
    fn model_pop((plain, latest): &mut Model) -> Option<(TimeUs, Phase, u32)> {
        while let Some((time, phase, (owner, id))) = plain.pop() {
            match owner {
                Some(owner) if latest.get(&owner) != Some(&id) => continue,
                Some(owner) => {
                    latest.remove(&owner);
                }
                None => {}
            }
            return Some((time, phase, id));
        }
        None
    }

    proptest::proptest! {
        #[test]
        fn timers_behave_like_pushes_with_superseded_ones_skipped(ops in proptest::collection::vec(op(), 0..300)) {
            let phases = [Phase::Arrival, Phase::StepEnd, Phase::Sample];
            let mut queue = EventQueue::new();
            let mut model: Model = (EventQueue::new(), Default::default());
            let mut popped = Vec::new();
            let mut expected = Vec::new();
            for (id, op) in ops.into_iter().enumerate() {
                let id = id as u32;
                match op {
                    Op::Push(time, phase) => {
                        queue.push(time, phases[phase as usize], id);
                        model.0.push(time, phases[phase as usize], (None, id));
                    }
                    Op::Set(owner, time, phase) => {
                        queue.set_timer(owner, time, phases[phase as usize], id);
                        model.0.push(time, phases[phase as usize], (Some(owner), id));
                        model.1.insert(owner, id);
                    }
                    Op::Cancel(owner) => {
                        queue.cancel_timer(owner);
                        model.1.remove(&owner);
                    }
                    Op::Pop => {
                        popped.push(queue.pop());
                        expected.push(model_pop(&mut model));
                    }
                }
            }
            while let Some(event) = queue.pop() {
                popped.push(Some(event));
            }
            while let Some(event) = model_pop(&mut model) {
                expected.push(Some(event));
            }
            proptest::prop_assert_eq!(popped, expected);
        }

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
