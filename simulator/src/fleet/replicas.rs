//! The fleet's replicas: every slot ever created (ids count up in creation order, so a
//! replica's pod is `llm-ID` on `node-ID`), which are live (not released) and which
//! ready (routable), the router's per-replica load array, and the warm node pool new
//! replicas start on. The event loop decides when replicas change; this module keeps
//! the lists consistent and answers what a scrape, a tick or the router asks.

use super::exporter::{BusyClock, ServerCounters};
use super::in_flight::Handle;
use super::lifecycle::{Startup, WarmPool};
use crate::queue::TimeUs;
use crate::replica::Replica;
use crate::routing::{Load, Router};
use engine::observation::{PodPhase, PodStatus};

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum SlotState {
    Starting,
    Ready,
    /// No new work; in-flight work ends by `deadline` or is cut (`lost`: to a spot
    /// reclaim, else to the drain grace period).
    Draining {
        deadline: TimeUs,
        lost: bool,
    },
    Released,
}

/// One replica ever created.
pub(super) struct Slot {
    pub(super) pod: String,
    pub(super) node: String,
    pub(super) state: SlotState,
    pub(super) spot: bool,
    pub(super) startup: Startup,
    /// When the scale-up created the pod (before any node was provisioned for it).
    pub(super) created_us: TimeUs,
    pub(super) billed_since: TimeUs,
    pub(super) replica: Option<Replica>,
    pub(super) in_flight: Vec<Handle>,
    pub(super) counters: ServerCounters,
    pub(super) busy: BusyClock,
}

/// What a released replica leaves behind for billing and the warm pool.
#[derive(Debug, Clone, Copy)]
pub(super) struct Released {
    pub(super) spot: bool,
    pub(super) billed_since: TimeUs,
    pub(super) startup: Startup,
}

/// Replica counts and queue totals at one instant (a tick's record).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Census {
    pub(super) ready: u32,
    pub(super) starting: u32,
    pub(super) draining: u32,
    pub(super) waiting: u32,
    pub(super) running: u32,
    /// Mean KV-cache use of the ready replicas, percent.
    pub(super) kv_cache_pct: f64,
}

#[derive(Default)]
pub(super) struct Replicas {
    slots: Vec<Slot>,
    /// Slots not released, ascending.
    live: Vec<u32>,
    /// Ready slots, ascending (oldest first).
    ready: Vec<u32>,
    /// Requests each slot's replica holds (waiting and running), by slot id: what the
    /// router compares on every arrival, kept in one small array instead of read from
    /// each replica.
    loads: Vec<Load>,
    pub(super) pool: WarmPool,
    /// Nodes provisioned fresh so far (spot placement counts them).
    pub(super) fresh_nodes: u64,
}

impl Replicas {
    pub(super) fn slot(&self, id: u32) -> &Slot {
        &self.slots[id as usize]
    }

    pub(super) fn slot_mut(&mut self, id: u32) -> &mut Slot {
        &mut self.slots[id as usize]
    }

    /// The id the next slot gets.
    pub(super) fn next_id(&self) -> u32 {
        self.slots.len() as u32
    }

    pub(super) fn live(&self) -> &[u32] {
        &self.live
    }

    pub(super) fn ready(&self) -> &[u32] {
        &self.ready
    }

    /// Adds a starting slot; returns its id.
    pub(super) fn push(&mut self, slot: Slot) -> u32 {
        let id = self.next_id();
        self.slots.push(slot);
        self.live.push(id);
        self.loads.push(Load::UNAVAILABLE);
        id
    }

    /// A starting slot's replica is up: it serves and is routed to.
    pub(super) fn mark_ready(&mut self, id: u32, replica: Replica) {
        let slot = &mut self.slots[id as usize];
        slot.state = SlotState::Ready;
        slot.replica = Some(replica);
        self.loads[id as usize] = Load::default();
        let at = self.ready.partition_point(|&v| v < id);
        self.ready.insert(at, id);
    }

    /// Stops routing to a slot and marks it draining.
    pub(super) fn start_draining(&mut self, id: u32, deadline: TimeUs, lost: bool) {
        self.ready.retain(|&s| s != id);
        self.slots[id as usize].state = SlotState::Draining { deadline, lost };
    }

    /// Releases a slot at `now`; `None` when it already was.
    pub(super) fn release(&mut self, id: u32, now: TimeUs) -> Option<Released> {
        let slot = &mut self.slots[id as usize];
        if slot.state == SlotState::Released {
            return None;
        }
        slot.state = SlotState::Released;
        slot.replica = None;
        slot.busy.set(now, false);
        let released = Released {
            spot: slot.spot,
            billed_since: slot.billed_since,
            startup: slot.startup,
        };
        self.loads[id as usize] = Load::UNAVAILABLE;
        self.live.retain(|&s| s != id);
        self.ready.retain(|&s| s != id);
        Some(released)
    }

    /// Whether a slot's replica holds no work (or it has none).
    pub(super) fn is_idle(&self, id: u32) -> bool {
        self.slots[id as usize]
            .replica
            .as_ref()
            .is_none_or(Replica::is_idle)
    }

    /// After a replica worked at `now`: its load for the router and its busy clock.
    /// Returns whether it is idle now.
    pub(super) fn refresh(&mut self, id: u32, now: TimeUs) -> bool {
        let slot = &mut self.slots[id as usize];
        let idle = slot.replica.as_ref().is_none_or(Replica::is_idle);
        self.loads[id as usize] = slot
            .replica
            .as_ref()
            .map_or(Load::UNAVAILABLE, Replica::load);
        slot.busy.set(now, !idle);
        idle
    }

    /// Live slots that are starting or ready, in creation order.
    pub(super) fn active(&self) -> Vec<u32> {
        self.live
            .iter()
            .copied()
            .filter(|&s| {
                matches!(
                    self.slots[s as usize].state,
                    SlotState::Starting | SlotState::Ready
                )
            })
            .collect()
    }

    /// Active (starting or ready) replicas on spot capacity.
    pub(super) fn active_spot(&self) -> u32 {
        self.live
            .iter()
            .filter(|&&s| {
                let slot = &self.slots[s as usize];
                slot.spot && matches!(slot.state, SlotState::Starting | SlotState::Ready)
            })
            .count() as u32
    }

    /// The replica `router` sends the next request to at `now`, among the ready ones.
    pub(super) fn route(&self, router: &mut Router, now: TimeUs) -> Option<u32> {
        let slots = &self.slots;
        let loads = &self.loads;
        debug_assert!(
            self.ready.iter().all(|&slot| {
                slots[slot as usize].replica.as_ref().map(Replica::load)
                    == Some(loads[slot as usize])
            }),
            "the router's load array follows every ready replica"
        );
        router.pick(
            &self.ready,
            |slot| loads[slot as usize],
            |slot| {
                slots[slot as usize]
                    .replica
                    .as_ref()
                    .map_or(u64::MAX, |r| r.state_at(now).kv_used_blocks)
            },
        )
    }

    /// A slot's pod as the Kubernetes API would show it at `now`.
    pub(super) fn pod_status(&self, id: u32, now: TimeUs) -> PodStatus {
        let slot = &self.slots[id as usize];
        let startup = slot.startup;
        let started = (now >= startup.node_ready_us).then_some(startup.node_ready_us);
        let (phase, ready, transition, deleting) = match slot.state {
            SlotState::Starting if now < startup.running_us => {
                (PodPhase::Pending, false, started, false)
            }
            SlotState::Starting => (PodPhase::Running, false, started, false),
            SlotState::Ready => (PodPhase::Running, true, Some(startup.ready_us), false),
            SlotState::Draining { .. } | SlotState::Released => {
                (PodPhase::Running, true, Some(startup.ready_us), true)
            }
        };
        PodStatus {
            name: slot.pod.clone(),
            phase,
            ready,
            start_time: started,
            ready_transition_time: transition,
            deleting,
            creation_time: Some(slot.created_us),
            spot: slot.spot,
        }
    }

    /// Counts and totals over the live replicas at `now`.
    pub(super) fn census(&self, now: TimeUs) -> Census {
        let mut census = Census {
            ready: self.ready.len() as u32,
            ..Census::default()
        };
        let mut kv_sum = 0.0;
        for &id in &self.live {
            let slot = &self.slots[id as usize];
            match slot.state {
                SlotState::Starting => census.starting += 1,
                SlotState::Draining { .. } => census.draining += 1,
                _ => {}
            }
            if let Some(replica) = &slot.replica {
                let state = replica.state_at(now);
                census.waiting += state.waiting;
                census.running += state.running;
                if slot.state == SlotState::Ready && state.kv_total_blocks > 0 {
                    kv_sum += 100.0 * state.kv_used_blocks as f64 / state.kv_total_blocks as f64;
                }
            }
        }
        census.kv_cache_pct = if census.ready > 0 {
            kv_sum / f64::from(census.ready)
        } else {
            0.0
        };
        census
    }

    /// The warm pool, and `(spot, billed since)` of every live slot: what billing needs
    /// to close expired warm nodes and add the open intervals.
    pub(super) fn billing_view(
        &mut self,
    ) -> (&mut WarmPool, impl Iterator<Item = (bool, TimeUs)> + '_) {
        let Replicas {
            slots, live, pool, ..
        } = self;
        let billed = live.iter().map(|&id| {
            let slot = &slots[id as usize];
            (slot.spot, slot.billed_since)
        });
        (pool, billed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::config::RoutingPolicy;

    fn starting(created_us: TimeUs) -> Slot {
        Slot {
            pod: String::new(),
            node: String::new(),
            state: SlotState::Starting,
            spot: false,
            startup: Startup {
                node_ready_us: created_us + 10,
                running_us: created_us + 20,
                ready_us: created_us + 30,
            },
            created_us,
            billed_since: created_us,
            replica: None,
            in_flight: Vec::new(),
            counters: ServerCounters::default(),
            busy: BusyClock::default(),
        }
    }

    fn replica() -> Replica {
        let config = crate::fleet::config::FleetConfig::default();
        let (engine, cost) = config
            .replica_setup(&crate::catalog::Catalog::builtin())
            .unwrap();
        Replica::new(engine, cost, crate::replica::StepMode::Fast)
    }

    #[test]
    fn the_lists_follow_the_lifecycle_and_the_router_sees_only_ready_replicas() {
        let mut replicas = Replicas::default();
        let a = replicas.push(starting(0));
        let b = replicas.push(starting(5));
        assert_eq!((a, b), (0, 1));
        assert_eq!(replicas.live(), [0, 1]);
        let mut router = Router::new(RoutingPolicy::LeastOutstanding);
        assert_eq!(replicas.route(&mut router, 40), None, "nothing ready");
        assert_eq!(replicas.pod_status(a, 15).phase, PodPhase::Pending);
        assert_eq!(replicas.pod_status(a, 25).phase, PodPhase::Running);
        replicas.mark_ready(b, replica());
        replicas.mark_ready(a, replica());
        assert_eq!(
            replicas.ready(),
            [0, 1],
            "ready list ascending whatever the order"
        );
        assert_eq!(
            replicas.route(&mut router, 40),
            Some(0),
            "ties go to the oldest"
        );
        assert_eq!(replicas.census(40).ready, 2);
        replicas.start_draining(a, 100, false);
        assert_eq!(replicas.ready(), [1]);
        assert_eq!(replicas.active(), [1]);
        assert!(replicas.pod_status(a, 50).deleting);
        let released = replicas.release(a, 60).unwrap();
        assert_eq!(released.billed_since, 0);
        assert!(replicas.release(a, 70).is_none(), "released once");
        assert_eq!(replicas.live(), [1]);
        assert_eq!(replicas.census(80).draining, 0);
    }
}
