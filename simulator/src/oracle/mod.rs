//! The `oracle` strategy: a clairvoyant replica schedule, the reference the real
//! autoscalers are measured against.
//!
//! It knows the whole future trace and the worst-case cold start, and it replays the
//! fleet several times before committing. It returns the cheapest schedule it
//! *verified* on the fleet model: a schedule in a family (replicas per window, each
//! asked for a worst-case cold start ahead) that met the target when run, with the
//! least GPU-hours of those it tried. That is an upper bound on the true optimum;
//! next to it the oracle reports a *lower* bound (step 4), so the distance from
//! optimal is stated, not guessed.
//!
//! The target is the one `summary.json` reports: the share of *all* the trace's
//! requests that completed meeting TTFT ≤ `ttft_s` and TPOT ≤ `tpot_s` (default
//! 99 %). A request that misses even alone on an idle replica counts as a miss here
//! too; the capacity search leaves such requests out (no capacity buys them) and the
//! note reports their sampled share.
//!
//! The trace is streamed, never held: `open` gives a fresh stream per pass
//! ([`plan_stream`]). Memory is the capacity sample, two counters per demand window
//! and one fleet run's requests in flight.
//!
//! Method:
//! 1. **Demand and sample** (one pass, [`demand::Profile`], [`capacity::Reservoir`]).
//!    Arrivals are counted per window (default 60 s) and per 10 s sub-window; a seeded
//!    reservoir keeps a uniform sample of requests (default 20,000) with their prefix
//!    hashes, put back in trace order.
//! 2. **Capacity** ([`capacity`]). The sample, in trace order with seeded Poisson gaps,
//!    is replayed at a rate on pools of 1, 2, 4, … fresh replicas of the fleet's GPU,
//!    model and engine arguments (the fast [`crate::sim::Simulation`], least-loaded
//!    routing) until the pool covers the peak demand (at most 64); a search finds each
//!    pool's highest rate at which the target share of feasible requests meets the
//!    SLO. Keeping order and hashes measures prefix caching with the trace's own
//!    sharing (the whole trace when it fits in the sample, Mooncake's does; thinned,
//!    hence conservative, when it does not). A window of rate `r` needs the fewest
//!    replicas whose pool serves `r` (per-replica rate interpolated between pool sizes).
//! 3. **Schedule** ([`demand`]). A window's rate is the larger of its mean and its
//!    busiest 10 s sub-window less two Poisson standard deviations. Each replica is
//!    asked for a lead time before its first window ([`cold_start`]): the top of every
//!    start-up range of the fleet's lifecycle plus one engine tick, so no seeded draw
//!    makes it late. It is released at the end of its last window, unless it is needed
//!    again within `max(lead, warm-node TTL + warm start)` (over such a gap the freed
//!    node would stay billed anyway).
//! 4. **Lower bound** ([`lower_bound`]). `attainment × requests` served back to back at
//!    the best measured rate per replica: no idle replica, no cold start, no burst, no
//!    partly used window, the allowed misses never served. No schedule in the family
//!    gets below it unless the fleet serves more per replica than the capacity search
//!    measured (it is a bound relative to that measurement, not a proof about the
//!    simulator).
//! 5. **Verification** ([`crate::fleet::run_stream`], streamed). The schedule runs on the
//!    real fleet model with the caller's seed; requests are scored per arrival window.
//!    Below target: windows short on their own get more replicas (see `raise`) and are
//!    locked against trimming; when no window is short on its own, those with the
//!    larger miss shares are. At or above target: every unlocked window that missed
//!    nothing and whose rate one replica fewer could serve at 115 % of the pool
//!    capacity is trimmed by one; a trimmed window that then misses gets its replica
//!    back and is locked. This repeats until nothing changes or `max_iterations` fleet
//!    runs (default 6). The cheapest run that met the target is returned; if none did,
//!    the one with the best attainment, and the note says so.
//!
//! The note (in `summary.json`) gives the plan's GPU-hours and attainment, the lower
//! bound and the ratio between them, the capacities measured and the sampled
//! infeasible share.
//!
//! What it cannot do: replicas present at time zero are the fleet's
//! `initial_replicas`, so demand in the first lead time beyond them is met late; it
//! never under-provisions a window on purpose to spend the allowed misses where they
//! are cheapest, which a true optimum over an aggregate target could; and its family
//! asks for every replica a worst-case cold start ahead, where a warm node would be
//! ready sooner. The gap to the lower bound measures all of these together with the
//! bound's own looseness (idle capacity in quiet windows, which no schedule avoids).

pub mod capacity;
pub mod cold_start;
pub mod demand;

use crate::catalog::{Catalog, CatalogError};
use crate::fleet::{
    self, FleetConfig, FleetError, RequestRecord, RequestSink, RunOptions, ScalerSpec, SinkError,
    Slo, StreamError,
};
use crate::replica::{Replica, StepMode};
use capacity::{CapacityError, Draws, PoolCapacity, Reservoir, SearchOptions, Target};
use cold_start::ColdStart;
use demand::{Profile, TooLong};
use traces::request::Request;

/// The scaler name and strategy the oracle's schedule carries.
pub const NAME: &str = "oracle";
pub const STRATEGY: &str = "Oracle";

/// Largest pool whose capacity is measured; larger pools are sized at its rate per
/// replica (pooling gains flatten long before).
const MAX_POOL: u32 = 64;

/// Most demand windows a plan covers (about 19 years of 60 s windows): a bound on the
/// memory of a trace with a stray far-future arrival.
const MAX_WINDOWS: usize = 10_000_000;

/// Knobs of the oracle; the defaults are what [`plan`] uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OracleOptions {
    /// Share of the trace's requests that must complete meeting the SLO, as
    /// `summary.json` counts `slo_attainment` (default 0.99).
    pub attainment: f64,
    /// Demand window (default 60 s).
    pub window_us: i64,
    /// Sub-window that bursts are measured on (default 10 s).
    pub burst_us: i64,
    /// Fleet runs at most (default 6).
    pub max_iterations: u32,
    /// The capacity search.
    pub search: SearchOptions,
}

impl Default for OracleOptions {
    fn default() -> Self {
        Self {
            attainment: 0.99,
            window_us: 60_000_000,
            burst_us: 10_000_000,
            max_iterations: 6,
            search: SearchOptions::default(),
        }
    }
}

/// One verification run of a candidate schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Iteration {
    pub gpu_hours: f64,
    /// Share of the trace's requests that completed meeting the SLO.
    pub attainment: f64,
    pub peak_replicas: u32,
    /// Windows that got more replicas after this run (it missed the target).
    pub windows_raised: u32,
    /// Windows that got fewer replicas after this run (it met the target).
    pub windows_trimmed: u32,
}

/// The oracle's schedule and how it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct OraclePlan {
    /// `ScalerSpec::Schedule` named [`NAME`], strategy [`STRATEGY`].
    pub spec: ScalerSpec,
    /// Capacity of the pool sizes measured (the first is one replica).
    pub capacity: PoolCapacity,
    pub cold_start: ColdStart,
    /// Replicas per window of the returned schedule.
    pub needs: Vec<u32>,
    /// Every verification run, in order.
    pub iterations: Vec<Iteration>,
    /// Index into `iterations` of the returned schedule.
    pub chosen: usize,
    /// Whether the returned schedule met the attainment target.
    pub met_target: bool,
    /// The fluid lower bound (GPU-hours): every request served at the best measured
    /// rate per replica, no replica idle, no cold start, no burst, and the allowed
    /// misses never served. See the module docs.
    pub lower_bound_gpu_hours: f64,
    /// Requests in the trace.
    pub trace_requests: u64,
    /// What the plan is and how far from the bound (always set).
    pub note: String,
}

impl OraclePlan {
    /// GPU-hours of the returned schedule's verification run.
    pub fn gpu_hours(&self) -> f64 {
        self.iterations[self.chosen].gpu_hours
    }

    /// Attainment of the returned schedule's verification run.
    pub fn attainment(&self) -> f64 {
        self.iterations[self.chosen].attainment
    }
}

/// A schedule tried: its steps and the per-window needs they came from.
type Candidate = (Vec<(i64, u32)>, Vec<u32>);

/// A trace read error, as the stream reported it.
pub type TraceReadError = Box<dyn std::error::Error + Send + Sync>;

/// Why the oracle could not plan.
#[derive(Debug, thiserror::Error)]
pub enum OracleError {
    #[error("oracle: expected a trace with at least one request, found none")]
    EmptyTrace,
    #[error("oracle option `{field}`: expected {expected}, found {found}")]
    Option {
        field: &'static str,
        expected: &'static str,
        found: String,
    },
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Capacity(#[from] CapacityError),
    #[error("oracle verification run: {0}")]
    Fleet(#[from] FleetError),
    #[error(transparent)]
    TooLong(#[from] TooLong),
    /// The trace failed to read (the error names where).
    #[error("{0}")]
    Trace(TraceReadError),
    #[error(
        "oracle: expected the same trace on every pass, found {found} requests after {expected}"
    )]
    TraceChanged { expected: u64, found: u64 },
}

/// The oracle's schedule for `requests` on `fleet` at `slo`, with default options;
/// see the module docs. When no schedule within the iteration bound met the target, the
/// best one found is returned all the same ([`plan_with`] says so).
pub fn plan(
    requests: &[Request],
    catalog: &Catalog,
    fleet: &FleetConfig,
    slo: &Slo,
    seed: u64,
) -> Result<ScalerSpec, OracleError> {
    plan_with(
        requests,
        catalog,
        fleet,
        slo,
        seed,
        &OracleOptions::default(),
    )
    .map(|plan| plan.spec)
}

/// [`plan`] with explicit options, returning how the schedule was found. `requests`
/// may be in any order (ties in arrival keep input order, as [`fleet::run`] does).
pub fn plan_with(
    requests: &[Request],
    catalog: &Catalog,
    fleet: &FleetConfig,
    slo: &Slo,
    seed: u64,
    options: &OracleOptions,
) -> Result<OraclePlan, OracleError> {
    let mut order: Vec<usize> = (0..requests.len()).collect();
    order.sort_by_key(|&index| (requests[index].arrival_us, index));
    plan_stream(
        || {
            Ok::<_, std::convert::Infallible>(
                order
                    .iter()
                    .map(|&index| Ok::<_, std::convert::Infallible>(requests[index].clone())),
            )
        },
        catalog,
        fleet,
        slo,
        seed,
        options,
    )
}

/// The oracle on a trace read as a stream, once per pass: `open` must give the same
/// requests, in arrival order, every time it is called. Memory is bounded by the
/// capacity sample, the per-window counts and one fleet run's requests in flight, not
/// by the trace.
pub fn plan_stream<I, E, F>(
    mut open: F,
    catalog: &Catalog,
    fleet: &FleetConfig,
    slo: &Slo,
    seed: u64,
    options: &OracleOptions,
) -> Result<OraclePlan, OracleError>
where
    F: FnMut() -> Result<I, E>,
    I: Iterator<Item = Result<Request, E>>,
    E: std::error::Error + Send + Sync + 'static,
{
    check(options)?;
    let trace_error = |error: E| OracleError::Trace(Box::new(error));
    // Pass 1: demand per window and the capacity sample.
    let mut profile = Profile::new(options.window_us, options.burst_us, MAX_WINDOWS);
    let mut reservoir = Reservoir::new(options.search.sample, seed);
    for request in open().map_err(trace_error)? {
        let request = request.map_err(trace_error)?;
        profile.add(request.arrival_us)?;
        reservoir.offer(&request);
    }
    let trace_requests = profile.arrivals();
    if trace_requests == 0 {
        return Err(OracleError::EmptyTrace);
    }
    let sample = reservoir.into_sorted();
    let target = Target {
        ttft_s: slo.ttft_s,
        tpot_s: slo.tpot_s,
        attainment: options.attainment,
    };
    let prototype = prototype_replica(catalog, fleet)?;
    let draws = Draws::new(&prototype, &sample, &target, seed)?;
    let rates = profile.rates();
    let peak_rps = rates.iter().copied().fold(0.0, f64::max);
    let capacity = PoolCapacity::measure(
        &prototype,
        &draws,
        &target,
        &options.search,
        peak_rps,
        MAX_POOL,
    )?;
    let weight_bytes = catalog.model(&fleet.model)?.weight_bytes();
    let cold_start = ColdStart::of(fleet, weight_bytes);
    let keep_gap_us = fleet.lifecycle.warm_node_ttl_us + cold_start.warm_us;
    let lower_bound_gpu_hours = lower_bound(
        trace_requests,
        options.attainment,
        capacity.best_per_replica_rps(),
        fleet.tensor_parallel,
    );

    let mut needs = demand::needs(&rates, |rate| capacity.replicas_for(rate));
    let windows = needs.len();
    // Windows raised after a miss are never trimmed again, so the search cannot cycle.
    let mut locked = vec![false; windows];
    let mut just_trimmed = vec![false; windows];
    // Misses of each window at the run before it was last raised: a window whose misses
    // do not fall when raised is missing requests no replica can save (infeasible
    // ones), and is not raised again.
    let mut raised_from: Vec<Option<u64>> = vec![None; windows];
    let mut iterations = Vec::new();
    let mut candidates: Vec<Candidate> = Vec::new();
    for _ in 0..options.max_iterations {
        let steps = demand::schedule(&needs, options.window_us, cold_start.lead_us(), keep_gap_us);
        let spec = schedule_spec(steps.clone());
        let mut score = Score::new(options.window_us, windows);
        let streamed = fleet::run_stream(
            open().map_err(trace_error)?,
            catalog,
            fleet,
            &spec,
            slo,
            seed,
            RunOptions::default(),
            &mut score.with_slo(slo),
        )
        .map_err(|error| match error {
            StreamError::Fleet(error) => OracleError::Fleet(error),
            StreamError::Input { source, .. } => OracleError::Trace(Box::new(source)),
            other => OracleError::Trace(other.to_string().into()),
        })?;
        if streamed.stats.requests != trace_requests {
            return Err(OracleError::TraceChanged {
                expected: trace_requests,
                found: streamed.stats.requests,
            });
        }
        let result = streamed.result;
        let attainment = score.attainment();
        let mut iteration = Iteration {
            gpu_hours: result.gpu_hours,
            attainment,
            peak_replicas: result.peak_replicas,
            windows_raised: 0,
            windows_trimmed: 0,
        };
        candidates.push((steps, needs.clone()));
        if attainment >= options.attainment {
            iteration.windows_trimmed = trim(
                &mut needs,
                &locked,
                &mut just_trimmed,
                &score.windows,
                &rates,
                |replicas| capacity.rate_rps(replicas) * TRIM_HEADROOM,
            );
        } else {
            // Windows short of the target on their own first; when none is (the
            // misses are spread thin), the windows with a larger share of misses, then
            // every window that missed anything.
            let thresholds = [
                options.attainment,
                1.0 - (1.0 - options.attainment) / 4.0,
                1.0,
            ];
            for threshold in thresholds {
                iteration.windows_raised = raise(
                    &mut needs,
                    &mut locked,
                    &just_trimmed,
                    &mut raised_from,
                    &score.windows,
                    threshold,
                );
                if iteration.windows_raised > 0 {
                    break;
                }
            }
            just_trimmed.fill(false);
        }
        let changed = iteration.windows_raised + iteration.windows_trimmed > 0;
        iterations.push(iteration);
        if !changed {
            break;
        }
    }
    let chosen = choose(&iterations, options.attainment);
    let best = &iterations[chosen];
    let met_target = best.attainment >= options.attainment;
    let single = capacity.single();
    let mut note = format!(
        "{:.2} GPU-h at {:.2} % attainment (target {:.2} %, run {} of {}); fluid lower bound {:.2} GPU-h, plan {:.2}x the bound; capacity {:.3} req/s on 1 replica, {:.3} req/s per replica on {}; sampled infeasible share {:.2} %",
        best.gpu_hours,
        100.0 * best.attainment,
        100.0 * options.attainment,
        chosen + 1,
        iterations.len(),
        lower_bound_gpu_hours,
        best.gpu_hours / lower_bound_gpu_hours.max(f64::MIN_POSITIVE),
        single.rate_rps,
        capacity.best_per_replica_rps(),
        capacity.pools.last().map_or(1, |pool| pool.replicas),
        100.0 * (1.0 - single.feasible_share),
    );
    if !met_target {
        note = format!(
            "no schedule met {:.2} % attainment within {} fleet runs; best: {note}",
            100.0 * options.attainment,
            iterations.len(),
        );
    }
    let (steps, needs) = candidates.swap_remove(chosen);
    Ok(OraclePlan {
        spec: schedule_spec(steps),
        capacity,
        cold_start,
        needs,
        iterations,
        chosen,
        met_target,
        lower_bound_gpu_hours,
        trace_requests,
        note,
    })
}

/// The fluid lower bound on GPU-hours: `attainment × requests` served back to back at
/// `per_replica_rps` each, on replicas of `gpus` GPUs, with no idle time, cold start or
/// burst.
pub fn lower_bound(requests: u64, attainment: f64, per_replica_rps: f64, gpus: u32) -> f64 {
    if per_replica_rps <= 0.0 {
        return 0.0;
    }
    requests as f64 * attainment / per_replica_rps / 3600.0 * f64::from(gpus)
}

/// A fresh replica of the fleet's GPU, model and engine arguments, built as the fleet
/// builds its replicas (KV blocks from the engine arguments or estimated from memory),
/// with the same refusal of a model that leaves no KV cache.
pub fn prototype_replica(catalog: &Catalog, fleet: &FleetConfig) -> Result<Replica, OracleError> {
    let (config, cost) = fleet.replica_setup(catalog)?;
    Ok(Replica::new(config, cost, StepMode::Fast))
}

fn check(options: &OracleOptions) -> Result<(), OracleError> {
    let bad = |field, expected, found: String| {
        Err(OracleError::Option {
            field,
            expected,
            found,
        })
    };
    if !(options.attainment > 0.0 && options.attainment <= 1.0) {
        return bad(
            "attainment",
            "a share in (0, 1]",
            options.attainment.to_string(),
        );
    }
    if options.window_us <= 0 {
        return bad(
            "window_us",
            "a positive duration",
            options.window_us.to_string(),
        );
    }
    if options.burst_us <= 0 || options.burst_us > options.window_us {
        return bad(
            "burst_us",
            "a positive duration no longer than the window",
            options.burst_us.to_string(),
        );
    }
    if options.max_iterations == 0 {
        return bad("max_iterations", "at least 1", "0".into());
    }
    let search = &options.search;
    if search.sample == 0 || search.max_requests == 0 {
        return bad(
            "search.sample / search.max_requests",
            "at least 1",
            format!("{} / {}", search.sample, search.max_requests),
        );
    }
    if !(search.horizon_s > 0.0 && search.tolerance > 0.0) {
        return bad(
            "search.horizon_s / search.tolerance",
            "positive numbers",
            format!("{} / {}", search.horizon_s, search.tolerance),
        );
    }
    Ok(())
}

fn schedule_spec(steps: Vec<(i64, u32)>) -> ScalerSpec {
    ScalerSpec::Schedule {
        name: NAME.into(),
        strategy: STRATEGY.into(),
        steps,
    }
}

/// Per arrival window, `(met, requests)` of a verification run, counted as
/// `summary.json` counts attainment (a request that never completed misses).
struct Score {
    window_us: i64,
    windows: Vec<(u64, u64)>,
}

/// A [`Score`] fed by a streamed run.
struct ScoreSink<'a> {
    score: &'a mut Score,
    slo: Slo,
}

impl Score {
    fn new(window_us: i64, windows: usize) -> Self {
        Self {
            window_us,
            windows: vec![(0, 0); windows.max(1)],
        }
    }

    fn with_slo(&mut self, slo: &Slo) -> ScoreSink<'_> {
        ScoreSink {
            score: self,
            slo: *slo,
        }
    }

    fn add(&mut self, arrival_us: i64, met: bool) {
        let last = self.windows.len() - 1;
        let window = usize::try_from(arrival_us.max(0) / self.window_us)
            .unwrap_or(usize::MAX)
            .min(last);
        self.windows[window].0 += u64::from(met);
        self.windows[window].1 += 1;
    }

    fn attainment(&self) -> f64 {
        let (met, total) = self
            .windows
            .iter()
            .fold((0, 0), |(met, total), &(m, t)| (met + m, total + t));
        if total == 0 {
            1.0
        } else {
            met as f64 / total as f64
        }
    }
}

impl RequestSink for ScoreSink<'_> {
    fn accept(&mut self, _index: u32, record: RequestRecord) -> Result<(), SinkError> {
        self.score.add(record.arrival_us, record.meets(&self.slo));
        Ok(())
    }
}

/// Adds replicas to every window whose share of requests met is below `target` and
/// locks it against trimming; returns how many windows were raised. A window trimmed
/// just before gets its replica back; any other gets `max(1, ceil(need × miss share /
/// 2))`. A window raised before whose misses did not fall is left alone: replicas do not
/// save its misses (requests no idle replica serves within the SLO).
fn raise(
    needs: &mut [u32],
    locked: &mut [bool],
    just_trimmed: &[bool],
    raised_from: &mut [Option<u64>],
    windows: &[(u64, u64)],
    target: f64,
) -> u32 {
    let mut raised = 0;
    for (index, need) in needs.iter_mut().enumerate() {
        let (met, total) = windows[index];
        if total == 0 || met == total || met as f64 >= target * total as f64 {
            continue;
        }
        let missed = total - met;
        if raised_from[index].is_some_and(|before| missed >= before) {
            // Raising it last time saved nothing: its misses are not for capacity.
            continue;
        }
        raised_from[index] = Some(missed);
        let miss_share = 1.0 - met as f64 / total as f64;
        *need += if just_trimmed[index] {
            1
        } else {
            // Half the miss share: an overloaded window misses far more than its
            // shortfall in replicas (its queue grows), so the full share overshoots.
            ((f64::from(*need) * miss_share / 2.0).ceil() as u32).max(1)
        };
        locked[index] = true;
        raised += 1;
    }
    raised
}

/// How far past the measured pool capacity a window that missed nothing may be loaded
/// when a schedule that met the target is trimmed: the capacity holds each pool to the
/// target at steady Poisson load, and a window inside a run that met the target
/// overall may run hotter. Whether it does is for the next verification run to say.
const TRIM_HEADROOM: f64 = 1.15;

/// After a run that met the target: removes one replica from every unlocked window that
/// missed nothing and whose rate the remaining replicas still serve at
/// `trim_capacity_rps` each; returns how many windows were trimmed.
fn trim(
    needs: &mut [u32],
    locked: &[bool],
    just_trimmed: &mut [bool],
    windows: &[(u64, u64)],
    rates: &[f64],
    serves_rps: impl Fn(u32) -> f64,
) -> u32 {
    let mut trimmed = 0;
    for (index, need) in needs.iter_mut().enumerate() {
        just_trimmed[index] = false;
        let (met, total) = windows[index];
        if !locked[index] && *need > 1 && met == total && rates[index] <= serves_rps(*need - 1) {
            *need -= 1;
            just_trimmed[index] = true;
            trimmed += 1;
        }
    }
    trimmed
}

/// The cheapest run that met the target, else the best attainment (then the cheapest).
fn choose(iterations: &[Iteration], target: f64) -> usize {
    let passing = iterations
        .iter()
        .enumerate()
        .filter(|(_, iteration)| iteration.attainment >= target)
        .min_by(|(_, a), (_, b)| a.gpu_hours.total_cmp(&b.gpu_hours));
    if let Some((index, _)) = passing {
        return index;
    }
    iterations
        .iter()
        .enumerate()
        .max_by(|(_, a), (_, b)| {
            a.attainment
                .total_cmp(&b.attainment)
                .then(b.gpu_hours.total_cmp(&a.gpu_hours))
        })
        .map_or(0, |(index, _)| index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raise_adds_in_proportion_to_misses() {
        let mut needs = vec![4, 10, 2, 0];
        let mut locked = vec![false; 4];
        let mut raised_from = vec![None; 4];
        let raised = raise(
            &mut needs,
            &mut locked,
            &[false, false, false, false],
            &mut raised_from,
            &[(100, 100), (50, 100), (98, 100), (0, 0)],
            0.99,
        );
        assert_eq!(raised, 2);
        assert_eq!(needs, vec![4, 13, 3, 0]);
        assert_eq!(locked, vec![false, true, true, false]);
        // Window 2 misses as much after its raise: those misses are not for capacity.
        let raised = raise(
            &mut needs,
            &mut locked,
            &[false, false, false, false],
            &mut raised_from,
            &[(100, 100), (90, 100), (98, 100), (0, 0)],
            0.99,
        );
        assert_eq!(raised, 1);
        assert_eq!(needs, vec![4, 14, 3, 0]);
    }

    #[test]
    fn trim_spares_locked_tight_and_missing_windows() {
        let mut needs = vec![3, 3, 3, 3, 1];
        let locked = [false, true, false, false, false];
        let windows = [(10, 10), (10, 10), (10, 10), (9, 10), (10, 10)];
        // Capacity 10/s at trim time: 2 replicas serve 20/s.
        let rates = [19.0, 19.0, 25.0, 19.0, 5.0];
        let mut just_trimmed = [false; 5];
        assert_eq!(
            trim(
                &mut needs,
                &locked,
                &mut just_trimmed,
                &windows,
                &rates,
                |replicas| 10.0 * f64::from(replicas)
            ),
            1
        );
        assert_eq!(needs, vec![2, 3, 3, 3, 1]);
        // A trimmed window that then misses gets exactly its replica back.
        let mut locked = locked;
        let missed = [(5, 10), (10, 10), (10, 10), (10, 10), (10, 10)];
        assert_eq!(
            raise(
                &mut needs,
                &mut locked,
                &just_trimmed,
                &mut [None; 5],
                &missed,
                0.99
            ),
            1
        );
        assert_eq!(needs, vec![3, 3, 3, 3, 1]);
        assert!(locked[0]);
    }

    #[test]
    fn choose_prefers_the_cheapest_passing_run() {
        let run = |gpu_hours, attainment| Iteration {
            gpu_hours,
            attainment,
            peak_replicas: 1,
            windows_raised: 0,
            windows_trimmed: 0,
        };
        let runs = [run(5.0, 0.95), run(7.0, 0.995), run(6.0, 0.991)];
        assert_eq!(choose(&runs, 0.99), 2);
        let failing = [run(5.0, 0.95), run(7.0, 0.97), run(6.0, 0.97)];
        assert_eq!(choose(&failing, 0.99), 2);
    }

    #[test]
    fn a_model_too_big_for_the_gpu_is_a_fleet_error() {
        let fleet = FleetConfig {
            model: "llama-3.1-70b".into(),
            gpu: "a10g".into(),
            ..FleetConfig::default()
        };
        let error = prototype_replica(&Catalog::builtin(), &fleet).unwrap_err();
        assert!(error.to_string().contains("0 KV blocks"), "{error}");
    }

    #[test]
    fn bad_options_are_named() {
        let options = OracleOptions {
            burst_us: 120_000_000,
            ..OracleOptions::default()
        };
        let error = check(&options).unwrap_err().to_string();
        assert!(error.contains("burst_us"), "{error}");
        assert!(check(&OracleOptions::default()).is_ok());
    }
}
