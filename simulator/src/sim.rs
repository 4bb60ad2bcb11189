//! The event loop: arrivals, replica step ends and metric samples on one queue.
//!
//! A fleet is a dense `Vec<Replica>` indexed by replica id; every replica's wake-ups go
//! on the same [`EventQueue`], so one loop drives one replica or thousands. Arrivals are
//! read from the (sorted) input as the clock reaches them instead of being queued up
//! front, so the queue holds O(replicas) events, not O(requests).

use crate::metrics::{ReplicaSample, RequestOutcome};
use crate::queue::{EventQueue, Phase, TimeUs};
use crate::replica::{NewRequest, Progress, ProgressKind, Replica, Wake};
use crate::routing::Router;
use traces::request::Request;

/// How an arriving request picks its replica (the fleet's policies, one router).
pub use crate::fleet::RoutingPolicy as Routing;

/// Options of one simulation run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimConfig {
    pub routing: Routing,
    /// Take a [`ReplicaSample`] of every replica this often (`None`: no series).
    pub sample_interval_us: Option<TimeUs>,
    /// Check every replica's invariants after each event it handles and panic on a
    /// violation (a simulator bug); for tests and debugging, it costs time.
    pub check_invariants: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            routing: Routing::LeastOutstanding,
            sample_interval_us: Some(1_000_000),
            check_invariants: false,
        }
    }
}

/// Everything a run produced.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SimOutput {
    /// One outcome per input request, in input order.
    pub requests: Vec<RequestOutcome>,
    /// Replica samples in time order, replicas ascending within a time.
    pub samples: Vec<ReplicaSample>,
    /// Engine steps simulated, over all replicas.
    pub steps: u64,
    /// Events the queue handled (arrivals, step ends, samples).
    pub events: u64,
    /// Preemptions over all replicas.
    pub preemptions: u64,
    /// Time the last request finished.
    pub end_us: TimeUs,
}

#[derive(Debug, Clone, Copy)]
enum Event {
    StepEnd { replica: u32, generation: u64 },
    Sample,
}

/// A fleet of replicas and the loop that drives them.
pub struct Simulation {
    replicas: Vec<Replica>,
    config: SimConfig,
}

impl Simulation {
    /// A simulation over `replicas` (ids are their indices).
    pub fn new(replicas: Vec<Replica>, config: SimConfig) -> Self {
        Self { replicas, config }
    }

    /// The replicas, e.g. to read their counters after a run.
    pub fn replicas(&self) -> &[Replica] {
        &self.replicas
    }

    /// Replays `requests` (any order; ties in arrival keep input order) to completion.
    pub fn run(&mut self, requests: &[Request]) -> SimOutput {
        let mut order: Vec<u32> = (0..requests.len() as u32).collect();
        order.sort_by_key(|&index| (requests[index as usize].arrival_us, index));
        let mut outcomes: Vec<RequestOutcome> = requests
            .iter()
            .map(|request| RequestOutcome {
                arrival_us: request.arrival_us,
                replica: None,
                scheduled_us: None,
                first_token_us: None,
                last_token_us: None,
                output_tokens: request.output_tokens.max(1),
                preemptions: 0,
                rejected: false,
            })
            .collect();
        if self.replicas.is_empty() {
            for outcome in &mut outcomes {
                outcome.rejected = true;
            }
            return SimOutput {
                requests: outcomes,
                samples: Vec::new(),
                steps: 0,
                events: 0,
                preemptions: 0,
                end_us: 0,
            };
        }
        let mut queue: EventQueue<Event> = EventQueue::with_capacity(self.replicas.len() * 2 + 2);
        let mut samples = Vec::new();
        let mut progress = Vec::new();
        let mut events = 0u64;
        let mut end_us = 0;
        let mut next_request = 0usize;
        let mut router = Router::new(self.config.routing);
        let ids: Vec<usize> = (0..self.replicas.len()).collect();
        if let Some(interval) = self.config.sample_interval_us {
            queue.push(interval, Phase::Sample, Event::Sample);
        }
        loop {
            let arrival_due = order
                .get(next_request)
                .map(|&index| requests[index as usize].arrival_us);
            // An arrival goes before any event of the same microsecond.
            let next_event = queue.pop_before(arrival_due);
            if next_event.is_none() && arrival_due.is_some() {
                let index = order[next_request];
                next_request += 1;
                events += 1;
                let request = &requests[index as usize];
                let replica = self.route(&mut router, &ids, request.arrival_us);
                outcomes[index as usize].replica = Some(replica as u32);
                let new = NewRequest {
                    request: index,
                    prompt_tokens: request.prompt_tokens,
                    output_tokens: request.output_tokens,
                    prefix_blocks: request.prefix_blocks.clone(),
                };
                if let Some(wake) =
                    self.replicas[replica].enqueue(new, request.arrival_us, &mut progress)
                {
                    push_wake(&mut queue, replica, wake);
                }
                self.check(replica);
                apply(&mut outcomes, &mut progress, &mut end_us);
                continue;
            }
            let Some((time_us, _, event)) = next_event else {
                break;
            };
            events += 1;
            match event {
                Event::StepEnd {
                    replica,
                    generation,
                } => {
                    if let Some(wake) =
                        self.replicas[replica as usize].on_step_end(generation, &mut progress)
                    {
                        push_wake(&mut queue, replica as usize, wake);
                    }
                    self.check(replica as usize);
                    apply(&mut outcomes, &mut progress, &mut end_us);
                }
                Event::Sample => {
                    for (id, replica) in self.replicas.iter().enumerate() {
                        let state = replica.state_at(time_us);
                        samples.push(ReplicaSample {
                            time_us,
                            replica: id as u32,
                            running: state.running,
                            waiting: state.waiting,
                            kv_cache_pct: if state.kv_total_blocks == 0 {
                                0.0
                            } else {
                                100.0 * state.kv_used_blocks as f64 / state.kv_total_blocks as f64
                            },
                        });
                    }
                    let busy = next_request < order.len()
                        || self.replicas.iter().any(|replica| !replica.is_idle());
                    if busy && let Some(interval) = self.config.sample_interval_us {
                        queue.push(time_us + interval, Phase::Sample, Event::Sample);
                    }
                }
            }
        }
        SimOutput {
            requests: outcomes,
            samples,
            steps: self.replicas.iter().map(Replica::steps_taken).sum(),
            events,
            preemptions: self.replicas.iter().map(Replica::preemptions).sum(),
            end_us,
        }
    }

    fn check(&self, replica: usize) {
        if self.config.check_invariants
            && let Err(violation) = self.replicas[replica].check_invariants()
        {
            panic!("replica {replica}: invariant violated: {violation}");
        }
    }

    fn route(&self, router: &mut Router, ids: &[usize], now: TimeUs) -> usize {
        router
            .pick(
                ids,
                |id| self.replicas[id].load(),
                |id| self.replicas[id].state_at(now).kv_used_blocks,
            )
            .unwrap_or(0)
    }
}

/// Sets `replica`'s step-end timer: a replica's new wake supersedes the one it had.
fn push_wake(queue: &mut EventQueue<Event>, replica: usize, wake: Wake) {
    queue.set_timer(
        replica as u32,
        wake.time_us,
        Phase::StepEnd,
        Event::StepEnd {
            replica: replica as u32,
            generation: wake.generation,
        },
    );
}

fn apply(outcomes: &mut [RequestOutcome], progress: &mut Vec<Progress>, end_us: &mut TimeUs) {
    for report in progress.drain(..) {
        let outcome = &mut outcomes[report.request as usize];
        match report.kind {
            ProgressKind::Scheduled => outcome.scheduled_us = Some(report.time_us),
            ProgressKind::FirstToken => outcome.first_token_us = Some(report.time_us),
            ProgressKind::Finished => {
                outcome.last_token_us = Some(report.time_us);
                *end_us = (*end_us).max(report.time_us);
            }
            ProgressKind::Preempted => outcome.preemptions += 1,
            ProgressKind::Rejected => outcome.rejected = true,
        }
    }
}
