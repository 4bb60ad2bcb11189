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
use super::billing::Billing;
use super::config::{FleetConfig, RunOptions, ScalerSpec, Slo};
use super::control::{Control, Controller};
use super::exporter::{BusyClock, ServerCounters};
use super::gateway::Gateway;
use super::in_flight::{Handle, InFlight};
use super::lifecycle::{self, Startup, WarmNode};
use super::replicas::{Replicas, Slot, SlotState};
use super::result::{DecisionRecord, RequestRecord, RequestStatus, RunResult, TickRecord};
use super::scraper::Scraper;
use super::sink::{Collect, RequestSink, SinkError};
use crate::catalog::Catalog;
use crate::perf::SharedStepModel;
use crate::queue::{EventQueue, Phase, TimeUs};
use crate::replica::{NewRequest, Progress, ProgressKind, Replica, ServingConfig, StepMode, Wake};
use crate::rng::{Component, stream};
use crate::routing::Router;
use engine::observation::PodStatus;
use std::convert::Infallible;
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

const NONE: u32 = u32::MAX;

/// The loop's state: the parts that own theirs (replicas, gateway, router, scraper,
/// billing), the requests in flight, the scaler, and what the run records.
struct Fleet<'a, I, S> {
    arrivals: Arrivals<I>,
    sink: &'a mut S,
    /// The first error of the sink; the loop stops on it.
    failure: Option<SinkError>,
    config: &'a FleetConfig,
    control: Control,
    seed: u64,
    engine: ServingConfig,
    cost: SharedStepModel,
    weight_bytes: f64,
    queue: EventQueue<Event>,
    /// Requests read and not final. Looked up by handle, never iterated; replicas, the
    /// gateway and `Slot::in_flight` hold handles.
    inflight: InFlight<Live>,
    max_in_flight: usize,
    replicas: Replicas,
    gateway: Gateway,
    router: Router,
    scraper: Scraper,
    billing: Billing,
    /// Which latency histograms finished requests fill ([`Scraper::latency_histograms`]).
    latency_histograms: [bool; 3],
    progress: Vec<Progress>,
    desired: u32,
    /// `RunOptions::record_observations`: the observations kept so far.
    observations: Option<Vec<engine::Observation>>,
    /// `RunOptions::restart_scaler_at_us`, until the restart has happened.
    restart_at: Option<TimeUs>,
    /// A manifest scaler's status, folded in decision by decision; the last observation
    /// for its cost section at the end.
    status: engine::status::ScalerStatus,
    last_observation: Option<engine::Observation>,
    /// The last decision's spot count (`None`: place by the fleet's spot share).
    desired_spot: Option<u32>,
    /// The scaler's `spotFallbackToOnDemand` (with cost awareness), and until when new
    /// replicas go on-demand after an interruption notice.
    spot_fallback: bool,
    fallback_until: TimeUs,
    /// Times of spot interruption notices, the last hour's.
    notices: std::collections::VecDeque<TimeUs>,
    ticks: Vec<TickRecord>,
    decisions: Vec<DecisionRecord>,
    scale_events: u32,
    arrivals_since_tick: u64,
    last_tick: TimeUs,
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
        let observer = match &control.controller {
            Controller::Engine(c) => Some(&c.observer),
            _ => None,
        };
        let scraper = Scraper::new(
            |name| options.full_scrapes || observer.is_some_and(|o| o.reads_family(name)),
            options.full_scrapes || observer.is_some_and(|o| o.reads_gpu()),
            model.id.clone(),
            gpu.product_name().to_string(),
            gpu.memory_bytes / 1_048_576.0,
        );
        Ok(Self {
            arrivals,
            sink,
            failure: None,
            config,
            seed,
            engine,
            cost,
            weight_bytes: model.weight_bytes(),
            queue: EventQueue::with_capacity(1024),
            inflight: InFlight::default(),
            max_in_flight: 0,
            replicas: Replicas::default(),
            gateway: Gateway::new(config.gateway_timeout_us),
            router: Router::new(config.routing),
            latency_histograms: scraper.latency_histograms(),
            scraper,
            billing: Billing::new(config, start),
            progress: Vec::new(),
            desired: control.initial,
            observations: options.record_observations.then(Vec::new),
            restart_at: options.restart_scaler_at_us,
            status: engine::status::ScalerStatus::default(),
            last_observation: None,
            desired_spot: None,
            spot_fallback: match &control.controller {
                Controller::Engine(c) => {
                    let cost = &c.scaler.spec().cost;
                    cost.enabled && cost.spot_fallback_to_on_demand
                }
                _ => false,
            },
            fallback_until: TimeUs::MIN,
            notices: std::collections::VecDeque::new(),
            ticks: Vec::new(),
            decisions: Vec::new(),
            scale_events: 0,
            arrivals_since_tick: 0,
            last_tick: start,
            end_us: start,
            now: start,
            control,
        })
    }

    fn run(&mut self) -> Result<(), StreamError<E>> {
        let start = self.now;
        let ttl = self.config.lifecycle.warm_node_ttl_us;
        for _ in 0..self.config.lifecycle.free_nodes {
            self.replicas.pool.push(WarmNode {
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
                let Some(replica) = self.replicas.slot_mut(slot).replica.as_mut() else {
                    return;
                };
                if let Some(wake) = replica.on_step_end(generation, &mut self.progress) {
                    push_wake(&mut self.queue, slot, wake);
                }
                self.after_replica_work(slot);
            }
            Event::Ready { slot } => self.on_ready(slot),
            Event::DrainDeadline { slot } => {
                if let SlotState::Draining { deadline, lost } = self.replicas.slot(slot).state
                    && deadline == self.now
                {
                    let status = if lost {
                        RequestStatus::LostToSpot
                    } else {
                        RequestStatus::CutByDrain
                    };
                    for request in std::mem::take(&mut self.replicas.slot_mut(slot).in_flight) {
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
                    let activator =
                        matches!(&self.control.controller, Controller::Engine(c) if c.activator);
                    self.scraper.scrape_all(
                        now,
                        &mut self.replicas,
                        self.config,
                        activator,
                        self.gateway.len(),
                    );
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
        match self.replicas.route(&mut self.router, self.now) {
            Some(slot) => self.dispatch(slot, request),
            None => {
                if let Some(deadline) = self.gateway.hold(request, arrival_us) {
                    self.queue
                        .push(deadline, Phase::Lifecycle, Event::GatewayTimeout);
                }
            }
        }
    }

    fn dispatch(&mut self, slot: u32, request: Handle) {
        let now = self.now;
        let live = self
            .inflight
            .get_mut(request)
            .expect("a dispatched request is in flight");
        live.record.replica = Some(slot);
        let entry = self.replicas.slot_mut(slot);
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
            let counters = &mut self.replicas.slot_mut(slot).counters;
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
        let idle = self.replicas.refresh(slot, self.now);
        if idle && let SlotState::Draining { lost, .. } = self.replicas.slot(slot).state {
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
        let in_flight = &mut self.replicas.slot_mut(slot).in_flight;
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
        let inflight = &self.inflight;
        let (expired, next) = self.gateway.on_timeout(self.now, |request| {
            inflight.get(request).map(|live| live.record.arrival_us)
        });
        if let Some(deadline) = next {
            self.queue
                .push(deadline, Phase::Lifecycle, Event::GatewayTimeout);
        }
        for request in expired {
            self.settle(request, RequestStatus::GatewayTimeout);
        }
    }

    // ---- replicas ----

    /// Adds a replica: ready at once (`initial`), or through the start-up stages.
    fn create_slot(&mut self, initial: bool) {
        let id = self.replicas.next_id();
        let now = self.now;
        let mut rng = stream(self.seed, Component::Replica, id);
        self.billing.expire_warm(&mut self.replicas.pool, now);
        // The scaler's spot count, when it decides one: spot while fewer active replicas
        // run on spot, there is a spot market, and no fallback to on-demand is on.
        let wanted_spot = self.desired_spot.map(|target| {
            self.config.spot.is_some()
                && now >= self.fallback_until
                && self.replicas.active_spot() < target
        });
        let warm = match (initial, wanted_spot) {
            (true, _) => None,
            (false, None) => self.replicas.pool.take(),
            (false, Some(spot)) => self.replicas.pool.take_where(|node| node.spot == spot),
        };
        let spot = match (&warm, wanted_spot) {
            (Some(node), _) => node.spot,
            (None, Some(spot)) => spot,
            (None, None) => {
                let spot = lifecycle::is_spot(self.config.spot.as_ref(), self.replicas.fresh_nodes);
                self.replicas.fresh_nodes += 1;
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
        self.replicas.push(Slot {
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
        self.billing.set_provisioned(now, 1);
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
        if self.replicas.slot(slot).state != SlotState::Starting {
            return;
        }
        let replica = Replica::new(self.engine.clone(), self.cost.clone(), StepMode::Fast);
        self.replicas.mark_ready(slot, replica);
        while let Some(request) = self.gateway.pop() {
            let target = self
                .replicas
                .route(&mut self.router, self.now)
                .unwrap_or(slot);
            self.dispatch(target, request);
        }
    }

    /// Stops routing to a ready replica; its work ends by `deadline` or is cut.
    fn drain(&mut self, slot: u32, deadline: TimeUs, lost: bool) {
        self.replicas.start_draining(slot, deadline, lost);
        if self.replicas.is_idle(slot) {
            self.release(slot, !lost);
        } else {
            self.queue
                .push(deadline, Phase::Lifecycle, Event::DrainDeadline { slot });
        }
    }

    /// Removes a replica; its node stays warm (`keep_node`) or goes away.
    fn release(&mut self, slot: u32, keep_node: bool) {
        let now = self.now;
        let Some(released) = self.replicas.release(slot, now) else {
            return;
        };
        self.queue.cancel_timer(slot);
        self.billing.set_provisioned(now, -1);
        if keep_node {
            let available_at = released.startup.node_ready_us.max(now);
            self.replicas.pool.push(WarmNode {
                available_at,
                billed_since: released.billed_since,
                expires_at: available_at + self.config.lifecycle.warm_node_ttl_us,
                image_cached: now >= released.startup.running_us,
                spot: released.spot,
            });
        } else {
            self.billing.bill(released.spot, released.billed_since, now);
        }
    }

    fn on_spot_notice(&mut self, slot: u32) {
        if self.replicas.slot(slot).state != SlotState::Released {
            self.notices.push_back(self.now);
            if self.desired_spot.is_some() && self.spot_fallback {
                self.fallback_until = self.now + 3_600_000_000;
            }
        }
        let notice = self.config.spot.as_ref().map_or(0, |spot| spot.notice_us);
        let reclaim = self.now + notice;
        match self.replicas.slot(slot).state {
            SlotState::Starting => self.release(slot, false),
            SlotState::Ready => self.drain(slot, reclaim, true),
            SlotState::Draining { deadline, .. } => {
                let deadline = deadline.min(reclaim);
                self.replicas.slot_mut(slot).state = SlotState::Draining {
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
        let active = self.replicas.active();
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
            if self.replicas.slot(slot).state == SlotState::Starting {
                self.release(slot, true);
                excess -= 1;
            }
        }
        for &slot in active.iter().rev() {
            if excess == 0 {
                break;
            }
            if self.replicas.slot(slot).state == SlotState::Ready {
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

    // ---- ticks ----

    fn tick(&mut self) {
        let now = self.now;
        if let Controller::Engine(control) = &self.control.controller {
            // Prices and spend for cost-aware scalers (read from the fleet's own bill).
            let cost = control.scaler.spec().cost.enabled.then(|| {
                let gpu_us = self.gpu_us_at(now);
                let (on_demand, spot) = self.billing.replica_hour_prices();
                while self
                    .notices
                    .front()
                    .is_some_and(|&t| t <= now - 3_600_000_000)
                {
                    self.notices.pop_front();
                }
                engine::observation::CostObservation {
                    on_demand_per_replica_hour: on_demand,
                    spot_per_replica_hour: spot,
                    spent: self.billing.cost_of(gpu_us),
                    spot_interruptions_last_hour: self.notices.len() as u32,
                }
            });
            let statuses: Vec<PodStatus> = self
                .replicas
                .live()
                .iter()
                .map(|&slot| self.replicas.pod_status(slot, now))
                .collect();
            let activator_status = control::activator::activator_status();
            let pods = self
                .scraper
                .pods(now, &self.replicas, &statuses, &activator_status);
            if self.restart_at.is_some_and(|at| now >= at) {
                self.restart_at = None;
                self.control.restart_engine();
            }
            let Controller::Engine(control) = &mut self.control.controller else {
                unreachable!("matched above");
            };
            control.observer.set_cost(cost);
            control
                .observer
                .set_source_errors(self.scraper.gpu_errors().clone());
            let (record, observation) = control.tick(now, self.desired as i32, &pods);
            let wall = self.config.start_unix_us.map_or(now, |start| start + now);
            self.status.update(
                &record.decision,
                self.desired as i32,
                engine::status::Applied::Yes,
                wall,
            );
            match &mut self.observations {
                Some(observations) => {
                    self.last_observation = Some(observation.clone());
                    observations.push(observation);
                }
                None => self.last_observation = Some(observation),
            }
            let desired =
                control::desired_replicas(&record.decision, self.config.max_replicas_hard);
            self.desired_spot = record
                .decision
                .desired_spot_replicas
                .map(|n| u32::try_from(n.max(0)).unwrap_or(0));
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
        let census = self.replicas.census(now);
        let elapsed = (now - self.last_tick).max(1) as f64 / 1e6;
        let rate = self.arrivals_since_tick as f64 / elapsed;
        self.arrivals_since_tick = 0;
        self.last_tick = now;
        let gpu_us = self.gpu_us_at(now);
        let cost_usd = self.billing.cost_of(gpu_us);
        self.ticks.push(TickRecord {
            time_us: now,
            desired: self.desired,
            ready: census.ready,
            starting: census.starting,
            draining: census.draining,
            gateway_queue: self.gateway.len() as u32,
            waiting: census.waiting,
            running: census.running,
            kv_cache_pct: census.kv_cache_pct,
            arrival_rate_rps: rate,
            cost_usd,
        });
        self.end_us = self.end_us.max(now);
    }

    /// GPU-microseconds (on-demand, spot) paid up to `now`, open intervals included.
    fn gpu_us_at(&mut self, now: TimeUs) -> [i128; 2] {
        let (pool, live) = self.replicas.billing_view();
        self.billing.gpu_us_at(now, pool, live)
    }

    /// The final status of a manifest scaler: what it decided, learned and cost.
    fn final_status(&mut self) -> Option<engine::status::ScalerStatus> {
        let Controller::Engine(control) = &self.control.controller else {
            return None;
        };
        let mut status = std::mem::take(&mut self.status);
        let snapshot = control.scaler.snapshot();
        let spec = control.scaler.spec();
        status.learning_status = engine::status::learning_status(
            &snapshot,
            self.decisions.last().map(|record| &record.decision),
            spec.prediction.min_confidence,
        );
        status.cost_status = self
            .last_observation
            .as_ref()
            .and_then(|obs| engine::status::cost_status(spec, &snapshot, obs));
        status.gpu_status = self
            .last_observation
            .as_ref()
            .and_then(|obs| engine::status::gpu_status(spec, obs));
        Some(status)
    }

    fn finish(mut self) -> RunResult {
        let status = self.final_status();
        let end = self.end_us;
        self.now = end;
        self.billing.set_provisioned(end, 0);
        let gpu_us = self.gpu_us_at(end);
        let cost_usd = self.billing.cost_of(gpu_us);
        RunResult {
            scaler: self.control.name,
            strategy: self.control.strategy,
            requests: Vec::new(),
            ticks: self.ticks,
            decisions: self.decisions,
            gpu_hours: (gpu_us[0] + gpu_us[1]) as f64 / 3.6e9,
            cost_usd,
            scale_events: self.scale_events,
            peak_replicas: self.billing.peak(),
            mean_replicas: self.billing.mean_replicas(end),
            end_us: end,
            observations: self.observations.unwrap_or_default(),
            status,
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
