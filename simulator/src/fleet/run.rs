//! The event loop of a fleet run.
//!
//! One [`EventQueue`] carries replica step ends (one timer per replica, re-set when the
//! replica re-plans), lifecycle events (ready, drain deadlines, spot notices, gateway
//! timeouts), scrapes, engine ticks and schedule steps; arrivals are pulled from the
//! input as the clock reaches them. The queue holds O(replicas) events. Replicas are
//! [`Replica`]s (closed-form decode runs), created when they become ready and dropped
//! when released, so a run's cost grows with requests, not with decode steps.
//!
//! # Memory
//!
//! [`run_stream`] keeps a request only while it is in flight (gateway queue or a
//! replica): its input is pulled lazily, one request ahead of the clock, and its record
//! goes to a [`RequestSink`] the moment it is final. What stays for the whole run grows
//! with replicas ever created and with engine ticks (`ticks`, `decisions`), not with the
//! trace, so a week-long trace runs in the memory of its busiest minute. [`run`] is the
//! in-memory form: it sorts a slice, streams it, and collects the records by index.

use super::FleetError;
use super::config::{FleetConfig, RunOptions, ScalerSpec, Slo};
use super::control::{Control, Controller};
use super::exporter::{self, BusyClock, Gauges, GpuReading, ServerCounters};
use super::in_flight::{Handle, InFlight};
use super::lifecycle::{self, Startup, WarmNode, WarmPool};
use super::result::{DecisionRecord, RequestRecord, RequestStatus, RunResult, TickRecord};
use super::sink::{Collect, RequestSink, SinkError};
use crate::catalog::Catalog;
use crate::perf::StepCostModel;
use crate::queue::{EventQueue, Phase, TimeUs};
use crate::replica::{NewRequest, Progress, ProgressKind, Replica, ServingConfig, StepMode, Wake};
use crate::rng::{Component, stream};
use engine::observation::{PodPhase, PodStatus};
use std::collections::VecDeque;
use std::convert::Infallible;
use traces::metrics::prometheus::{Scrape, parse_text, render_text};
use traces::observe::PodScrape;
use traces::request::Request;

/// Replays `requests` (any order; ties in arrival keep input order) on a fleet driven by
/// `scaler` until every request has a final status. A pure function of its inputs.
pub fn run(
    requests: &[Request],
    catalog: &Catalog,
    fleet: &FleetConfig,
    scaler: &ScalerSpec,
    slo: &Slo,
    seed: u64,
) -> Result<RunResult, FleetError> {
    run_with(
        requests,
        catalog,
        fleet,
        scaler,
        slo,
        seed,
        RunOptions::default(),
    )
}

/// [`run`] with explicit [`RunOptions`] (same result, different cost).
pub fn run_with(
    requests: &[Request],
    catalog: &Catalog,
    fleet: &FleetConfig,
    scaler: &ScalerSpec,
    slo: &Slo,
    seed: u64,
    options: RunOptions,
) -> Result<RunResult, FleetError> {
    // The SLO judges requests after the run (`RequestRecord::meets`); the loop itself
    // never looks at it, so a scaler cannot peek at the objective through the fleet.
    let mut order: Vec<u32> = (0..requests.len() as u32).collect();
    if !requests.is_sorted_by_key(|request| request.arrival_us) {
        order.sort_by_key(|&index| (requests[index as usize].arrival_us, index));
    }
    let input = order
        .iter()
        .map(|&index| Ok::<_, StreamError<Infallible>>((index, requests[index as usize].clone())));
    let mut sink = Collect::with_len(requests.len());
    let streamed = run_indexed(input, catalog, fleet, scaler, slo, seed, options, &mut sink)
        .map_err(|error| match error {
            StreamError::Fleet(error) => error,
            other => unreachable!("sorted in-memory input into a collector cannot fail: {other}"),
        })?;
    let mut result = streamed.result;
    result.requests = sink
        .into_records()
        .into_iter()
        .map(|record| record.expect("a run ends when every request is final"))
        .collect();
    Ok(result)
}

/// What [`run_stream`] returns: the run without its request records (they went to the
/// sink; `result.requests` is empty) and how much it held at once.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRun {
    pub result: RunResult,
    pub stats: StreamStats,
}

/// How large a streamed run's per-request state grew.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Requests read from the input.
    pub requests: u64,
    /// Most requests in flight at once (in the gateway or in a replica).
    pub max_in_flight: usize,
}

/// Why a streamed run stopped.
#[derive(Debug, thiserror::Error)]
pub enum StreamError<E: std::error::Error + 'static> {
    #[error(transparent)]
    Fleet(#[from] FleetError),
    /// The input failed to produce request `index` (0-based).
    #[error("request {index}: {source}")]
    Input {
        index: u64,
        #[source]
        source: E,
    },
    /// Request `index` arrives before the one read just before it.
    #[error(
        "request {index}: expected arrivals in time order, found {arrival_us} us after {previous_us} us (sort the trace first)"
    )]
    OutOfOrder {
        index: u64,
        arrival_us: TimeUs,
        previous_us: TimeUs,
    },
    /// More requests than a run can index.
    #[error("request {index}: expected at most {max} requests in one run", max = u32::MAX - 1)]
    TooMany { index: u64 },
    /// The sink could not take a record.
    #[error("writing request records: {0}")]
    Sink(SinkError),
}

/// [`run_with`] on a stream: `requests` in arrival order (ties keep stream order), each
/// pulled only when the clock reaches it; each record goes to `sink` with its stream
/// index as soon as it is final, in completion order (wrap the sink in
/// [`InOrder`](super::InOrder) for input order). The records and every other output
/// equal [`run_with`]'s on the same requests.
#[allow(clippy::too_many_arguments)]
pub fn run_stream<E: std::error::Error + 'static>(
    requests: impl IntoIterator<Item = Result<Request, E>>,
    catalog: &Catalog,
    fleet: &FleetConfig,
    scaler: &ScalerSpec,
    slo: &Slo,
    seed: u64,
    options: RunOptions,
    sink: &mut impl RequestSink,
) -> Result<StreamRun, StreamError<E>> {
    let mut previous = TimeUs::MIN;
    let input = requests.into_iter().enumerate().map(move |(index, item)| {
        let index = index as u64;
        let request = item.map_err(|source| StreamError::Input { index, source })?;
        if request.arrival_us < previous {
            return Err(StreamError::OutOfOrder {
                index,
                arrival_us: request.arrival_us,
                previous_us: previous,
            });
        }
        previous = request.arrival_us;
        let id = u32::try_from(index)
            .ok()
            .filter(|&id| id != NONE)
            .ok_or(StreamError::TooMany { index })?;
        Ok((id, request))
    });
    run_indexed(input, catalog, fleet, scaler, slo, seed, options, sink)
}

/// The loop over `(index, request)` pairs in arrival order.
#[allow(clippy::too_many_arguments)]
fn run_indexed<E: std::error::Error + 'static>(
    input: impl Iterator<Item = Result<(u32, Request), StreamError<E>>>,
    catalog: &Catalog,
    fleet: &FleetConfig,
    scaler: &ScalerSpec,
    slo: &Slo,
    seed: u64,
    options: RunOptions,
    sink: &mut impl RequestSink,
) -> Result<StreamRun, StreamError<E>> {
    // The SLO judges requests after the run (`RequestRecord::meets`); the loop itself
    // never looks at it, so a scaler cannot peek at the objective through the fleet.
    let _ = slo;
    let control = Control::new(scaler, fleet)?;
    let mut arrivals = Arrivals {
        input,
        next: None,
        read: 0,
    };
    let start = arrivals.peek()?.map_or(0, |arrival| arrival.min(0));
    let mut state = Fleet::new(
        arrivals, sink, catalog, fleet, control, seed, options, start,
    )?;
    state.run()?;
    let stats = StreamStats {
        requests: state.arrivals.read,
        max_in_flight: state.max_in_flight,
    };
    Ok(StreamRun {
        result: state.finish(),
        stats,
    })
}

/// The input, one request ahead of the clock.
struct Arrivals<I> {
    input: I,
    next: Option<(u32, Request)>,
    read: u64,
}

impl<E: std::error::Error + 'static, I: Iterator<Item = Result<(u32, Request), StreamError<E>>>>
    Arrivals<I>
{
    /// The next arrival time, reading it if needed; `None` at the end of the input.
    fn peek(&mut self) -> Result<Option<TimeUs>, StreamError<E>> {
        if self.next.is_none()
            && let Some(item) = self.input.next()
        {
            self.next = Some(item?);
            self.read += 1;
        }
        Ok(self.next.as_ref().map(|(_, request)| request.arrival_us))
    }
}

#[derive(Debug, Clone, Copy)]
enum Event {
    StepEnd { slot: u32, generation: u64 },
    Ready { slot: u32 },
    DrainDeadline { slot: u32 },
    SpotNotice { slot: u32 },
    GatewayTimeout,
    Scrape,
    Tick,
    ScheduleStep { index: usize },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum SlotState {
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

/// One replica ever created (ids count up in creation order).
struct Slot {
    pod: String,
    node: String,
    state: SlotState,
    spot: bool,
    startup: Startup,
    /// When the scale-up created the pod (before any node was provisioned for it).
    created_us: TimeUs,
    billed_since: TimeUs,
    replica: Option<Replica>,
    in_flight: Vec<Handle>,
    counters: ServerCounters,
    busy: BusyClock,
}

/// The latest scrape of one replica.
struct ScrapeRecord {
    slot: u32,
    engine: Scrape,
    gpu: Option<Scrape>,
    at: TimeUs,
}

const NONE: u32 = u32::MAX;

/// A request while it is in flight; dropped (its record sent on) once final.
struct Live {
    /// Its index in the input, which the sink files its record under.
    index: u32,
    record: RequestRecord,
    /// As read (the record's count is at least 1).
    output_tokens: u32,
    /// Handed to the replica at dispatch.
    prefix_blocks: Vec<u64>,
    /// Its position in its slot's `in_flight`, or [`NONE`].
    position: u32,
}

struct Fleet<'a, I, S> {
    arrivals: Arrivals<I>,
    sink: &'a mut S,
    /// The first error of the sink; the loop stops on it.
    failure: Option<SinkError>,
    config: &'a FleetConfig,
    control: Control,
    seed: u64,
    engine: ServingConfig,
    cost: StepCostModel,
    weight_bytes: f64,
    model_name: String,
    gpu_name: String,
    fb_total_mib: f64,
    queue: EventQueue<Event>,
    /// Requests read and not final. Looked up by handle, never iterated; replicas, the
    /// gateway and `Slot::in_flight` hold handles.
    inflight: InFlight<Live>,
    max_in_flight: usize,
    slots: Vec<Slot>,
    /// Slots not released, ascending.
    live: Vec<u32>,
    /// Ready slots, ascending (oldest first).
    ready: Vec<u32>,
    /// Requests each slot's replica holds (waiting + running), by slot id: what the
    /// router compares on every arrival, kept in one small array instead of read
    /// from each replica.
    loads: Vec<usize>,
    gateway: VecDeque<Handle>,
    timeout_pending: bool,
    pool: WarmPool,
    fresh_nodes: u64,
    desired: u32,
    router: crate::routing::Router,
    progress: Vec<Progress>,
    scrapes: Vec<ScrapeRecord>,
    /// vLLM families each scrape keeps, and whether DCGM is scraped.
    kept_families: Vec<&'static str>,
    /// Whether the TTFT and inter-token-latency histograms are kept: a histogram no
    /// scrape exports is not worth filling on every finished request.
    latency_histograms: [bool; 3],
    scrape_gpu: bool,
    activator_scrape: Option<(Scrape, TimeUs)>,
    /// `RunOptions::record_observations`: the observations kept so far.
    observations: Option<Vec<engine::Observation>>,
    /// `RunOptions::restart_scaler_at_us`, until the restart has happened.
    restart_at: Option<TimeUs>,
    ticks: Vec<TickRecord>,
    decisions: Vec<DecisionRecord>,
    scale_events: u32,
    arrivals_since_tick: u64,
    last_tick: TimeUs,
    /// GPU-microseconds billed and closed: on-demand, spot.
    gpu_us: [i128; 2],
    provisioned: u32,
    peak: u32,
    area: i128,
    area_since: TimeUs,
    /// Time zero of the run (the earliest arrival when it is negative).
    origin: TimeUs,
    end_us: TimeUs,
    now: TimeUs,
}

impl<'a, E, I, S> Fleet<'a, I, S>
where
    E: std::error::Error + 'static,
    I: Iterator<Item = Result<(u32, Request), StreamError<E>>>,
    S: RequestSink,
{
    #[allow(clippy::too_many_arguments)]
    fn new(
        arrivals: Arrivals<I>,
        sink: &'a mut S,
        catalog: &Catalog,
        config: &'a FleetConfig,
        control: Control,
        seed: u64,
        options: RunOptions,
        start: TimeUs,
    ) -> Result<Self, FleetError> {
        let gpu = catalog.gpu(&config.gpu)?;
        let model = catalog.model(&config.model)?;
        let (engine, cost) = config.replica_setup(catalog)?;
        let kept_families: Vec<&'static str> = exporter::VLLM_FAMILIES
            .into_iter()
            .filter(|name| {
                options.full_scrapes
                    || matches!(&control.controller, Controller::Engine(c) if c.observer.reads_family(name))
            })
            .collect();
        Ok(Self {
            arrivals,
            sink,
            failure: None,
            config,
            seed,
            engine,
            cost,
            weight_bytes: model.weight_bytes(),
            model_name: model.id.clone(),
            gpu_name: gpu.id.clone(),
            fb_total_mib: gpu.memory_bytes / 1_048_576.0,
            queue: EventQueue::with_capacity(1024),
            inflight: InFlight::default(),
            max_in_flight: 0,
            slots: Vec::new(),
            live: Vec::new(),
            ready: Vec::new(),
            loads: Vec::new(),
            gateway: VecDeque::new(),
            timeout_pending: false,
            pool: WarmPool::default(),
            fresh_nodes: 0,
            desired: control.initial,
            router: crate::routing::Router::new(config.routing),
            progress: Vec::new(),
            scrapes: Vec::new(),
            latency_histograms: [
                "vllm:time_to_first_token_seconds",
                "vllm:inter_token_latency_seconds",
                "vllm:request_queue_time_seconds",
            ]
            .map(|name| kept_families.contains(&name)),
            kept_families,
            scrape_gpu: options.full_scrapes
                || matches!(&control.controller, Controller::Engine(c) if c.observer.reads_gpu()),
            activator_scrape: None,
            observations: options.record_observations.then(Vec::new),
            restart_at: options.restart_scaler_at_us,
            ticks: Vec::new(),
            decisions: Vec::new(),
            scale_events: 0,
            arrivals_since_tick: 0,
            last_tick: start,
            gpu_us: [0, 0],
            provisioned: 0,
            peak: 0,
            area: 0,
            area_since: start,
            origin: start,
            end_us: start,
            now: start,
            control,
        })
    }

    fn run(&mut self) -> Result<(), StreamError<E>> {
        let start = self.now;
        let ttl = self.config.lifecycle.warm_node_ttl_us;
        for _ in 0..self.config.lifecycle.free_nodes {
            self.pool.push(WarmNode {
                available_at: start,
                billed_since: start,
                expires_at: start + ttl,
                image_cached: true,
                spot: false,
            });
        }
        for _ in 0..self.desired {
            self.create_slot(true);
        }
        let tick = self.control.tick_us;
        self.queue.push(
            start.div_euclid(tick) * tick + tick,
            Phase::Control,
            Event::Tick,
        );
        if matches!(self.control.controller, Controller::Engine(_)) {
            let scrape = self.control.scrape_us;
            self.queue.push(
                start.div_euclid(scrape) * scrape,
                Phase::Scrape,
                Event::Scrape,
            );
        }
        if let Controller::Schedule { steps } = &self.control.controller {
            // Steps at or before time zero apply at time zero, in order (the last wins).
            for (index, &(time, _)) in steps.iter().enumerate() {
                self.queue
                    .push(time.max(0), Phase::Control, Event::ScheduleStep { index });
            }
        }
        loop {
            if let Some(error) = self.failure.take() {
                return Err(StreamError::Sink(error));
            }
            let arrival = self.arrivals.peek()?;
            if arrival.is_none() && self.inflight.is_empty() {
                break;
            }
            // An arrival goes before any event of the same microsecond.
            if let Some((time, _, event)) = self.queue.pop_before(arrival) {
                self.now = self.now.max(time);
                self.handle(event);
                continue;
            }
            let Some((index, request)) = self.arrivals.next.take() else {
                break;
            };
            self.now = self.now.max(request.arrival_us);
            self.arrive(index, request);
        }
        match self.failure.take() {
            Some(error) => Err(StreamError::Sink(error)),
            None => Ok(()),
        }
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::StepEnd { slot, generation } => {
                let Some(replica) = self.slots[slot as usize].replica.as_mut() else {
                    return;
                };
                if let Some(wake) = replica.on_step_end(generation, &mut self.progress) {
                    push_wake(&mut self.queue, slot, wake);
                }
                self.after_replica_work(slot);
            }
            Event::Ready { slot } => self.on_ready(slot),
            Event::DrainDeadline { slot } => {
                if let SlotState::Draining { deadline, lost } = self.slots[slot as usize].state
                    && deadline == self.now
                {
                    let status = if lost {
                        RequestStatus::LostToSpot
                    } else {
                        RequestStatus::CutByDrain
                    };
                    for request in std::mem::take(&mut self.slots[slot as usize].in_flight) {
                        self.settle(request, status);
                    }
                    self.release(slot, !lost);
                }
            }
            Event::SpotNotice { slot } => self.on_spot_notice(slot),
            Event::GatewayTimeout => self.on_gateway_timeout(),
            Event::Scrape => {
                let now = self.now;
                if self.control.scrape_needed(now, self.config.scrape_delay_us) {
                    self.scrape_all();
                }
                self.queue
                    .push(now + self.control.scrape_us, Phase::Scrape, Event::Scrape);
            }
            Event::Tick => self.tick(),
            Event::ScheduleStep { index } => {
                if let Controller::Schedule { steps } = &self.control.controller {
                    let replicas = steps[index].1;
                    self.apply_desired(replicas);
                }
            }
        }
    }

    // ---- requests ----

    fn arrive(&mut self, index: u32, request: Request) {
        self.arrivals_since_tick += 1;
        let arrival_us = request.arrival_us;
        let live = Live {
            index,
            record: RequestRecord {
                arrival_us,
                prompt_tokens: request.prompt_tokens,
                output_tokens: request.output_tokens.max(1),
                replica: None,
                first_token_us: None,
                last_token_us: None,
                preemptions: 0,
                status: RequestStatus::Completed,
            },
            output_tokens: request.output_tokens,
            prefix_blocks: request.prefix_blocks,
            position: NONE,
        };
        let request = self.inflight.insert(live);
        self.max_in_flight = self.max_in_flight.max(self.inflight.len());
        match self.route() {
            Some(slot) => self.dispatch(slot, request),
            None => {
                self.gateway.push_back(request);
                if !self.timeout_pending {
                    let deadline = arrival_us + self.config.gateway_timeout_us;
                    self.queue
                        .push(deadline, Phase::Lifecycle, Event::GatewayTimeout);
                    self.timeout_pending = true;
                }
            }
        }
    }

    fn route(&mut self) -> Option<u32> {
        let slots = &self.slots;
        let loads = &self.loads;
        debug_assert!(
            self.ready.iter().all(|&slot| {
                slots[slot as usize].replica.as_ref().map(Replica::load)
                    == Some(loads[slot as usize])
            }),
            "the router's load array follows every ready replica"
        );
        let now = self.now;
        self.router.pick(
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

    fn dispatch(&mut self, slot: u32, request: Handle) {
        let now = self.now;
        let live = self
            .inflight
            .get_mut(request)
            .expect("a dispatched request is in flight");
        live.record.replica = Some(slot);
        let entry = &mut self.slots[slot as usize];
        live.position = entry.in_flight.len() as u32;
        entry.in_flight.push(request);
        let replica = entry.replica.as_mut().expect("ready slots have a replica");
        let new = NewRequest {
            request,
            prompt_tokens: live.record.prompt_tokens,
            output_tokens: live.output_tokens,
            prefix_blocks: std::mem::take(&mut live.prefix_blocks),
        };
        if let Some(wake) = replica.enqueue(new, now, &mut self.progress) {
            push_wake(&mut self.queue, slot, wake);
        }
        self.after_replica_work(slot);
    }

    /// Applies a replica's progress reports and releases it if it was draining and is
    /// now empty.
    fn after_replica_work(&mut self, slot: u32) {
        let mut progress = std::mem::take(&mut self.progress);
        for report in progress.drain(..) {
            let Some(live) = self.inflight.get_mut(report.request) else {
                continue;
            };
            let record = &mut live.record;
            let counters = &mut self.slots[slot as usize].counters;
            match report.kind {
                ProgressKind::Scheduled => {
                    if self.latency_histograms[2] {
                        let queued = (report.time_us - record.arrival_us) as f64 / 1e6;
                        counters.queue_time.observe(queued, 1);
                    }
                }
                ProgressKind::FirstToken => {
                    record.first_token_us = Some(report.time_us);
                    counters.prompt_tokens += u64::from(record.prompt_tokens);
                    counters.generation_tokens += 1;
                    if self.latency_histograms[0] {
                        let ttft = (report.time_us - record.arrival_us) as f64 / 1e6;
                        counters.ttft.observe(ttft, 1);
                    }
                }
                ProgressKind::Finished => {
                    record.last_token_us = Some(report.time_us);
                    let gaps = u64::from(record.output_tokens - 1);
                    counters.generation_tokens += gaps;
                    counters.requests_finished += 1;
                    if self.latency_histograms[1]
                        && gaps > 0
                        && let Some(first) = record.first_token_us
                    {
                        let gap = (report.time_us - first) as f64 / 1e6 / gaps as f64;
                        counters.itl.observe(gap, gaps);
                    }
                    self.remove_in_flight(slot, report.request);
                    self.settle(report.request, RequestStatus::Completed);
                }
                ProgressKind::Preempted => {
                    record.preemptions += 1;
                    counters.preemptions += 1;
                }
                ProgressKind::Rejected => {
                    self.remove_in_flight(slot, report.request);
                    self.settle(report.request, RequestStatus::Rejected);
                }
            }
        }
        self.progress = progress;
        let now = self.now;
        let entry = &mut self.slots[slot as usize];
        let idle = entry.replica.as_ref().is_none_or(Replica::is_idle);
        self.loads[slot as usize] = entry.replica.as_ref().map_or(usize::MAX, Replica::load);
        entry.busy.set(now, !idle);
        if idle && let SlotState::Draining { lost, .. } = entry.state {
            self.release(slot, !lost);
        }
    }

    fn remove_in_flight(&mut self, slot: u32, request: Handle) {
        let Some(live) = self.inflight.get_mut(request) else {
            return;
        };
        let position = std::mem::replace(&mut live.position, NONE);
        if position == NONE {
            return;
        }
        let in_flight = &mut self.slots[slot as usize].in_flight;
        in_flight.swap_remove(position as usize);
        if let Some(&moved) = in_flight.get(position as usize)
            && let Some(live) = self.inflight.get_mut(moved)
        {
            live.position = position;
        }
    }

    /// Gives `request` its final status and sends its record to the sink.
    fn settle(&mut self, request: Handle, status: RequestStatus) {
        let Some(live) = self.inflight.remove(request) else {
            return;
        };
        let mut record = live.record;
        record.status = status;
        self.end_us = self.end_us.max(self.now);
        if let Err(error) = self.sink.accept(live.index, record)
            && self.failure.is_none()
        {
            self.failure = Some(error);
        }
    }

    fn on_gateway_timeout(&mut self) {
        self.timeout_pending = false;
        let timeout = self.config.gateway_timeout_us;
        while let Some(&head) = self.gateway.front() {
            let Some(live) = self.inflight.get(head) else {
                self.gateway.pop_front();
                continue;
            };
            let deadline = live.record.arrival_us + timeout;
            if deadline > self.now {
                self.queue
                    .push(deadline, Phase::Lifecycle, Event::GatewayTimeout);
                self.timeout_pending = true;
                break;
            }
            self.gateway.pop_front();
            self.settle(head, RequestStatus::GatewayTimeout);
        }
    }

    // ---- replicas ----

    fn set_provisioned(&mut self, delta: i32) {
        self.area += i128::from(self.provisioned) * i128::from(self.now - self.area_since);
        self.area_since = self.now;
        self.provisioned = self.provisioned.saturating_add_signed(delta);
        self.peak = self.peak.max(self.provisioned);
    }

    fn bill(&mut self, spot: bool, from: TimeUs, to: TimeUs) {
        let gpus = i128::from(self.config.tensor_parallel);
        self.gpu_us[usize::from(spot)] += i128::from((to - from).max(0)) * gpus;
    }

    fn expire_warm(&mut self) {
        let mut billed = Vec::new();
        self.pool
            .expire(self.now, |spot, from, to| billed.push((spot, from, to)));
        for (spot, from, to) in billed {
            self.bill(spot, from, to);
        }
    }

    /// Adds a replica: ready at once (`initial`), or through the start-up stages.
    fn create_slot(&mut self, initial: bool) {
        let id = self.slots.len() as u32;
        let now = self.now;
        let mut rng = stream(self.seed, Component::Replica, id);
        self.expire_warm();
        let warm = if initial { None } else { self.pool.take() };
        let spot = match &warm {
            Some(node) => node.spot,
            None => {
                let spot = lifecycle::is_spot(self.config.spot.as_ref(), self.fresh_nodes);
                self.fresh_nodes += 1;
                spot
            }
        };
        let planned = lifecycle::plan_startup(
            &self.config.lifecycle,
            self.weight_bytes,
            warm.as_ref(),
            now,
            &mut rng,
        );
        let startup = if initial {
            Startup {
                node_ready_us: now,
                running_us: now,
                ready_us: now,
            }
        } else {
            planned
        };
        let interruption = match &self.config.spot {
            Some(config) if spot => lifecycle::draw_interruption(config, &mut rng),
            _ => None,
        };
        self.slots.push(Slot {
            pod: format!("llm-{id}"),
            node: format!("node-{id}"),
            state: SlotState::Starting,
            spot,
            startup,
            created_us: now,
            billed_since: warm.map_or(now, |node| node.billed_since),
            replica: None,
            in_flight: Vec::new(),
            counters: ServerCounters::default(),
            busy: BusyClock::default(),
        });
        self.live.push(id);
        self.loads.push(usize::MAX);
        self.set_provisioned(1);
        self.queue.push(
            startup.ready_us,
            Phase::Lifecycle,
            Event::Ready { slot: id },
        );
        if let Some(after) = interruption {
            self.queue.push(
                now.saturating_add(after),
                Phase::Lifecycle,
                Event::SpotNotice { slot: id },
            );
        }
    }

    fn on_ready(&mut self, slot: u32) {
        let entry = &mut self.slots[slot as usize];
        if entry.state != SlotState::Starting {
            return;
        }
        entry.state = SlotState::Ready;
        entry.replica = Some(Replica::new(
            self.engine.clone(),
            self.cost.clone(),
            StepMode::Fast,
        ));
        self.loads[slot as usize] = 0;
        insert_sorted(&mut self.ready, slot);
        while let Some(request) = self.gateway.pop_front() {
            let target = self.route().unwrap_or(slot);
            self.dispatch(target, request);
        }
    }

    /// Stops routing to a ready replica; its work ends by `deadline` or is cut.
    fn drain(&mut self, slot: u32, deadline: TimeUs, lost: bool) {
        self.ready.retain(|&s| s != slot);
        self.slots[slot as usize].state = SlotState::Draining { deadline, lost };
        let idle = self.slots[slot as usize]
            .replica
            .as_ref()
            .is_none_or(Replica::is_idle);
        if idle {
            self.release(slot, !lost);
        } else {
            self.queue
                .push(deadline, Phase::Lifecycle, Event::DrainDeadline { slot });
        }
    }

    /// Removes a replica; its node stays warm (`keep_node`) or goes away.
    fn release(&mut self, slot: u32, keep_node: bool) {
        let now = self.now;
        let entry = &mut self.slots[slot as usize];
        if entry.state == SlotState::Released {
            return;
        }
        entry.state = SlotState::Released;
        entry.replica = None;
        self.loads[slot as usize] = usize::MAX;
        self.queue.cancel_timer(slot);
        entry.busy.set(now, false);
        let (spot, since, startup) = (entry.spot, entry.billed_since, entry.startup);
        self.live.retain(|&s| s != slot);
        self.ready.retain(|&s| s != slot);
        self.set_provisioned(-1);
        if keep_node {
            let available_at = startup.node_ready_us.max(now);
            self.pool.push(WarmNode {
                available_at,
                billed_since: since,
                expires_at: available_at + self.config.lifecycle.warm_node_ttl_us,
                image_cached: now >= startup.running_us,
                spot,
            });
        } else {
            self.bill(spot, since, now);
        }
    }

    fn on_spot_notice(&mut self, slot: u32) {
        let notice = self.config.spot.as_ref().map_or(0, |spot| spot.notice_us);
        let reclaim = self.now + notice;
        match self.slots[slot as usize].state {
            SlotState::Starting => self.release(slot, false),
            SlotState::Ready => self.drain(slot, reclaim, true),
            SlotState::Draining { deadline, .. } => {
                let deadline = deadline.min(reclaim);
                self.slots[slot as usize].state = SlotState::Draining {
                    deadline,
                    lost: true,
                };
                self.queue
                    .push(deadline, Phase::Lifecycle, Event::DrainDeadline { slot });
            }
            SlotState::Released => return,
        }
        // The lost pod no longer counts: the ReplicaSet replaces it at once.
        self.reconcile();
    }

    /// Creates or removes replicas until the active ones (starting or ready) match the
    /// desired count. Removal follows the ReplicaSet's order: not-yet-ready pods first,
    /// newest first.
    fn reconcile(&mut self) {
        let active: Vec<u32> = self
            .live
            .iter()
            .copied()
            .filter(|&s| {
                matches!(
                    self.slots[s as usize].state,
                    SlotState::Starting | SlotState::Ready
                )
            })
            .collect();
        let desired = self.desired as usize;
        if active.len() < desired {
            for _ in active.len()..desired {
                self.create_slot(false);
            }
            return;
        }
        let mut excess = active.len() - desired;
        for &slot in active.iter().rev() {
            if excess == 0 {
                break;
            }
            if self.slots[slot as usize].state == SlotState::Starting {
                self.release(slot, true);
                excess -= 1;
            }
        }
        for &slot in active.iter().rev() {
            if excess == 0 {
                break;
            }
            if self.slots[slot as usize].state == SlotState::Ready {
                self.drain(slot, self.now + self.config.drain_grace_us, false);
                excess -= 1;
            }
        }
    }

    fn apply_desired(&mut self, desired: u32) {
        let desired = desired.min(self.config.max_replicas_hard);
        if desired != self.desired {
            self.scale_events += 1;
            self.desired = desired;
        }
        self.reconcile();
    }

    // ---- scrapes and ticks ----

    fn scrape_all(&mut self) {
        let now = self.now;
        let mut scrapes = std::mem::take(&mut self.scrapes);
        scrapes.clear();
        let memory_fraction = self.config.engine.gpu_memory_utilization.clamp(0.0, 1.0);
        let fb_used = self.fb_total_mib * memory_fraction;
        let power = &self.config.power;
        for &slot in &self.live {
            let entry = &mut self.slots[slot as usize];
            let Some(replica) = entry.replica.as_ref() else {
                continue;
            };
            let state = replica.state_at(now);
            let gauges = Gauges {
                running: state.running,
                waiting: state.waiting,
                kv_usage: if state.kv_total_blocks == 0 {
                    0.0
                } else {
                    state.kv_used_blocks as f64 / state.kv_total_blocks as f64
                },
            };
            let utilization = entry
                .busy
                .utilization_since_last(now, entry.startup.ready_us);
            let reading = GpuReading {
                utilization_pct: utilization,
                fb_used_mib: fb_used,
                fb_free_mib: self.fb_total_mib - fb_used,
                power_watts: power.idle_watts
                    + (power.max_watts - power.idle_watts) * utilization / 100.0,
            };
            let kept = &self.kept_families;
            let engine = exporter::vllm_scrape(&self.model_name, gauges, &entry.counters, |name| {
                kept.contains(&name)
            });
            let gpu = self.scrape_gpu.then(|| {
                exporter::dcgm_scrape(
                    &entry.pod,
                    &entry.node,
                    &self.gpu_name,
                    self.config.tensor_parallel,
                    reading,
                )
            });
            scrapes.push(ScrapeRecord {
                slot,
                engine: through_text(&engine),
                gpu: gpu.as_ref().map(through_text),
                at: now,
            });
        }
        self.scrapes = scrapes;
        let activator = matches!(&self.control.controller, Controller::Engine(c) if c.activator);
        self.activator_scrape = activator.then(|| {
            let gauges = Gauges {
                running: 0,
                waiting: self.gateway.len() as u32,
                kv_usage: 0.0,
            };
            let kept = &self.kept_families;
            let scrape = exporter::vllm_scrape(
                &self.model_name,
                gauges,
                &ServerCounters::default(),
                |name| kept.contains(&name),
            );
            (through_text(&scrape), now)
        });
    }

    fn pod_status(&self, slot: u32) -> PodStatus {
        let entry = &self.slots[slot as usize];
        let now = self.now;
        let startup = entry.startup;
        let started = (now >= startup.node_ready_us).then_some(startup.node_ready_us);
        let (phase, ready, transition, deleting) = match entry.state {
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
            name: entry.pod.clone(),
            phase,
            ready,
            start_time: started,
            ready_transition_time: transition,
            deleting,
            creation_time: Some(entry.created_us),
        }
    }

    fn tick(&mut self) {
        let now = self.now;
        if let Controller::Engine(_) = self.control.controller {
            let statuses: Vec<PodStatus> = self
                .live
                .iter()
                .map(|&slot| self.pod_status(slot))
                .collect();
            let activator_status = control::activator::activator_status();
            let mut pods: Vec<PodScrape> = Vec::with_capacity(statuses.len() + 1);
            let mut scrapes = self.scrapes.iter().peekable();
            for (&slot, status) in self.live.iter().zip(&statuses) {
                while scrapes.peek().is_some_and(|record| record.slot < slot) {
                    scrapes.next();
                }
                let record = scrapes.peek().filter(|record| record.slot == slot);
                pods.push(PodScrape {
                    status,
                    engine: record.map(|record| &record.engine),
                    gpu: record.and_then(|record| record.gpu.as_ref()),
                    scraped_at: record.map_or(now, |record| record.at),
                });
            }
            if self.ready.is_empty()
                && let Some((scrape, at)) = &self.activator_scrape
            {
                pods.push(PodScrape {
                    status: &activator_status,
                    engine: Some(scrape),
                    gpu: None,
                    scraped_at: *at,
                });
            }
            if self.restart_at.is_some_and(|at| now >= at) {
                self.restart_at = None;
                self.control.restart_engine();
            }
            let Controller::Engine(control) = &mut self.control.controller else {
                unreachable!("matched above");
            };
            let (record, observation) = control.tick(now, self.desired as i32, &pods);
            if let Some(observations) = &mut self.observations {
                observations.push(observation);
            }
            let desired =
                control::desired_replicas(&record.decision, self.config.max_replicas_hard);
            self.decisions.push(record);
            self.apply_desired(desired);
        } else if let Controller::Static { replicas } = self.control.controller {
            self.apply_desired(replicas);
        }
        self.record_tick();
        self.queue
            .push(now + self.control.tick_us, Phase::Control, Event::Tick);
    }

    fn record_tick(&mut self) {
        let now = self.now;
        let (mut starting, mut draining, mut waiting, mut running) = (0, 0, 0, 0);
        let mut kv_sum = 0.0;
        for &slot in &self.live {
            let entry = &self.slots[slot as usize];
            match entry.state {
                SlotState::Starting => starting += 1,
                SlotState::Draining { .. } => draining += 1,
                _ => {}
            }
            if let Some(replica) = &entry.replica {
                let state = replica.state_at(now);
                waiting += state.waiting;
                running += state.running;
                if entry.state == SlotState::Ready && state.kv_total_blocks > 0 {
                    kv_sum += 100.0 * state.kv_used_blocks as f64 / state.kv_total_blocks as f64;
                }
            }
        }
        let ready = self.ready.len() as u32;
        let elapsed = (now - self.last_tick).max(1) as f64 / 1e6;
        let rate = self.arrivals_since_tick as f64 / elapsed;
        self.arrivals_since_tick = 0;
        self.last_tick = now;
        let cost_usd = self.cost_at(now);
        self.ticks.push(TickRecord {
            time_us: now,
            desired: self.desired,
            ready,
            starting,
            draining,
            gateway_queue: self.gateway.len() as u32,
            waiting,
            running,
            kv_cache_pct: if ready > 0 {
                kv_sum / f64::from(ready)
            } else {
                0.0
            },
            arrival_rate_rps: rate,
            cost_usd,
        });
        self.end_us = self.end_us.max(now);
    }

    /// GPU-microseconds (on-demand, spot) paid up to `now`, open intervals included.
    fn gpu_us_at(&mut self, now: TimeUs) -> [i128; 2] {
        self.expire_warm();
        let gpus = i128::from(self.config.tensor_parallel);
        let mut total = self.gpu_us;
        for &slot in &self.live {
            let entry = &self.slots[slot as usize];
            total[usize::from(entry.spot)] += i128::from((now - entry.billed_since).max(0)) * gpus;
        }
        for node in self.pool.nodes() {
            let until = now.min(node.expires_at);
            total[usize::from(node.spot)] += i128::from((until - node.billed_since).max(0)) * gpus;
        }
        total
    }

    fn cost_of(&self, gpu_us: [i128; 2]) -> f64 {
        let hours = |us: i128| us as f64 / 3.6e9;
        let spot_price = self
            .config
            .spot_price_per_gpu_hour
            .unwrap_or(self.config.price_per_gpu_hour);
        hours(gpu_us[0]) * self.config.price_per_gpu_hour + hours(gpu_us[1]) * spot_price
    }

    fn cost_at(&mut self, now: TimeUs) -> f64 {
        let gpu_us = self.gpu_us_at(now);
        self.cost_of(gpu_us)
    }

    fn finish(mut self) -> RunResult {
        let end = self.end_us;
        self.now = end;
        self.set_provisioned(0);
        let gpu_us = self.gpu_us_at(end);
        let cost_usd = self.cost_of(gpu_us);
        let mean_replicas = if end > self.origin {
            self.area as f64 / (end - self.origin) as f64
        } else {
            f64::from(self.provisioned)
        };
        RunResult {
            scaler: self.control.name,
            strategy: self.control.strategy,
            requests: Vec::new(),
            ticks: self.ticks,
            decisions: self.decisions,
            gpu_hours: (gpu_us[0] + gpu_us[1]) as f64 / 3.6e9,
            cost_usd,
            scale_events: self.scale_events,
            peak_replicas: self.peak,
            mean_replicas,
            end_us: end,
            observations: self.observations.unwrap_or_default(),
        }
    }
}

/// Sets `slot`'s step-end timer: a replica's new wake supersedes the one it had.
fn push_wake(queue: &mut EventQueue<Event>, slot: u32, wake: Wake) {
    queue.set_timer(
        slot,
        wake.time_us,
        Phase::StepEnd,
        Event::StepEnd {
            slot,
            generation: wake.generation,
        },
    );
}

fn insert_sorted(list: &mut Vec<u32>, value: u32) {
    let at = list.partition_point(|&v| v < value);
    list.insert(at, value);
}

/// A scrape as the operator would see it: rendered to Prometheus text and parsed back.
fn through_text(scrape: &Scrape) -> Scrape {
    parse_text(&render_text(scrape)).expect("rendered scrapes parse")
}
