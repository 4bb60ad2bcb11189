//! Capacity at the SLO: the highest Poisson arrival rate a pool of `n` replicas behind
//! one least-loaded router sustains while enough requests meet their TTFT and TPOT
//! targets.
//!
//! How: the caller hands a *sample* of the trace's requests in trace order (a seeded
//! reservoir sample, [`Reservoir`]; the whole trace when it is smaller than the sample),
//! with their prefix-block hashes. A rate `λ` replays the first `λ × horizon` of them,
//! in that order, with seeded unit-mean exponential gaps scaled by `1/λ`, on `n` fresh
//! replicas (the fast [`Simulation`]). Every rate reuses the same draws (common random
//! numbers), so attainment falls smoothly with the rate instead of jumping with the
//! noise of new draws, and the search converges. A starting rate is doubled until
//! attainment falls below the target (or halved until it meets it), then bisected to
//! `tolerance`.
//!
//! Prefix caching: requests keep their prefix hashes and their order, so a prefix-heavy
//! trace (Mooncake) is measured with its own sharing. When the trace is larger than
//! the sample, two requests sharing a prefix are both sampled less often than they
//! follow each other in the trace, so the measured hit rate — and the capacity — is
//! lower than the trace's: conservative, and the fleet verification trims it.
//!
//! Attainment here counts only *feasible* requests: those that meet the SLO alone on an
//! idle replica (without prefix hits). A request whose prefill alone outlasts the TTFT
//! target (or that does not fit in the KV cache) misses at any fleet size, so no
//! amount of capacity can buy it; the oracle's verification counts it as a miss like
//! `summary.json` does, and reports the sampled infeasible share.
//!
//! [`PoolCapacity`] measures pools of 1, 2, 4, … replicas up to the peak demand: a pool
//! shares bursts (a queue on one replica is absorbed by another), so its capacity per
//! replica grows with its size, and sizing every window by the single-replica figure
//! over-provisions.

use crate::replica::Replica;
use crate::rng::{Component, stream};
use crate::sim::{Routing, SimConfig, Simulation};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use traces::request::Request;

/// The stream index of the oracle's draws within [`Component::Load`]: far from the
/// indices load generators use (0, 1, ...).
pub(crate) const ORACLE_STREAM: u32 = 0x0AC1_E000;
/// The stream index of the oracle's reservoir sample.
pub(crate) const RESERVOIR_STREAM: u32 = 0x0AC1_E001;

/// Latency targets a request must meet (seconds) and the share that must meet them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    pub ttft_s: f64,
    pub tpot_s: f64,
    /// Share of feasible requests that must meet both targets, in `(0, 1]`.
    pub attainment: f64,
}

impl Target {
    /// Whether a request with these latencies meets the SLO. No first token is a miss;
    /// no TPOT (a single output token) meets the TPOT target trivially.
    pub fn met(&self, ttft_s: Option<f64>, tpot_s: Option<f64>) -> bool {
        ttft_s.is_some_and(|ttft| ttft <= self.ttft_s)
            && tpot_s.is_none_or(|tpot| tpot <= self.tpot_s)
    }
}

/// How hard the capacity search works.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchOptions {
    /// Requests sampled from the trace (reservoir, in trace order).
    pub sample: usize,
    /// Simulated seconds of load at each probed rate (fewer requests at a low rate).
    pub horizon_s: f64,
    /// Requests at each rate never exceed this (bounds the cost at high rates).
    pub max_requests: usize,
    /// Relative precision of the rate found.
    pub tolerance: f64,
}

impl Default for SearchOptions {
    fn default() -> Self {
        Self {
            sample: 20_000,
            horizon_s: 600.0,
            max_requests: 20_000,
            tolerance: 0.01,
        }
    }
}

/// What the search found for one pool size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Capacity {
    /// Replicas in the pool.
    pub replicas: u32,
    /// Highest rate (requests per second, the whole pool) meeting the target.
    pub rate_rps: f64,
    /// Attainment at that rate.
    pub attainment: f64,
    /// Share of the sampled requests that meet the SLO alone on an idle replica.
    pub feasible_share: f64,
    /// Simulations run.
    pub probes: u32,
}

impl Capacity {
    /// The pool's rate per replica.
    pub fn per_replica_rps(&self) -> f64 {
        self.rate_rps / f64::from(self.replicas.max(1))
    }
}

/// Why no capacity could be measured.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CapacityError {
    #[error("capacity: expected a trace with at least one request, found none")]
    EmptyTrace,
    #[error(
        "capacity: no sampled request meets TTFT <= {ttft_s} s and TPOT <= {tpot_s} s even alone on an idle replica"
    )]
    Infeasible { ttft_s: f64, tpot_s: f64 },
    #[error(
        "capacity: one replica misses the target ({attainment:.4} < {target}) even at {rate_rps} requests/s"
    )]
    TooSlow {
        rate_rps: f64,
        attainment: f64,
        target: f64,
    },
}

/// A seeded uniform sample of at most `capacity` items of a stream (Algorithm R), kept
/// with their stream positions so it can be put back in stream order.
#[derive(Debug, Clone)]
pub struct Reservoir {
    capacity: usize,
    seen: u64,
    items: Vec<(u64, Request)>,
    rng: ChaCha8Rng,
}

impl Reservoir {
    pub fn new(capacity: usize, seed: u64) -> Self {
        Self {
            capacity: capacity.max(1),
            seen: 0,
            items: Vec::new(),
            rng: stream(seed, Component::Load, RESERVOIR_STREAM),
        }
    }

    /// Offers the next item of the stream.
    pub fn offer(&mut self, request: &Request) {
        let position = self.seen;
        self.seen += 1;
        if self.items.len() < self.capacity {
            self.items.push((position, request.clone()));
            return;
        }
        let slot = self.rng.random_range(0..=position);
        if let Ok(slot) = usize::try_from(slot)
            && slot < self.capacity
        {
            self.items[slot] = (position, request.clone());
        }
    }

    /// Items offered so far.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// The sample in stream order.
    pub fn into_sorted(mut self) -> Vec<Request> {
        self.items.sort_unstable_by_key(|(position, _)| *position);
        self.items.into_iter().map(|(_, request)| request).collect()
    }
}

/// Gaps drawn once and replayed at every probed rate, with the sample they pace.
pub struct Draws<'s> {
    /// Unit-mean exponential gaps.
    gaps: Vec<f64>,
    sample: &'s [Request],
    /// Per sampled request: does it meet the SLO alone?
    feasible: Vec<bool>,
    feasible_share: f64,
}

impl<'s> Draws<'s> {
    /// Draws the gaps for `sample` (the trace's requests in trace order) and tells which
    /// requests are feasible. Deterministic in `seed`.
    pub fn new(
        prototype: &Replica,
        sample: &'s [Request],
        target: &Target,
        seed: u64,
    ) -> Result<Self, CapacityError> {
        if sample.is_empty() {
            return Err(CapacityError::EmptyTrace);
        }
        let mut rng = stream(seed, Component::Load, ORACLE_STREAM);
        let gaps = (0..sample.len())
            .map(|_| {
                let uniform: f64 = rng.random();
                -(1.0 - uniform).ln()
            })
            .collect();
        let sizes: Vec<(u32, u32)> = sample
            .iter()
            .map(|request| (request.prompt_tokens, request.output_tokens))
            .collect();
        let feasible: Vec<bool> = alone(prototype, &sizes)
            .into_iter()
            .map(|(ttft, tpot)| target.met(ttft, tpot))
            .collect();
        let feasible_share =
            feasible.iter().filter(|&&ok| ok).count() as f64 / feasible.len() as f64;
        if feasible_share == 0.0 {
            return Err(CapacityError::Infeasible {
                ttft_s: target.ttft_s,
                tpot_s: target.tpot_s,
            });
        }
        Ok(Self {
            gaps,
            sample,
            feasible,
            feasible_share,
        })
    }

    /// Share of the sample that meets the SLO alone on an idle replica.
    pub fn feasible_share(&self) -> f64 {
        self.feasible_share
    }
}

/// Highest Poisson rate one replica (a fresh copy of `prototype`) sustains at `target`
/// on the requests of `sample` (in trace order, prefix hashes kept). Deterministic in
/// `seed`.
pub fn measure(
    prototype: &Replica,
    sample: &[Request],
    target: &Target,
    options: &SearchOptions,
    seed: u64,
) -> Result<Capacity, CapacityError> {
    let draws = Draws::new(prototype, sample, target, seed)?;
    measure_pool(prototype, &draws, 1, target, options, None)
}

/// Highest Poisson rate a pool of `replicas` fresh copies of `prototype` behind a
/// least-loaded router sustains at `target`. The search starts at `start_rps` (a guess,
/// e.g. the smaller pool's rate per replica times `replicas`) or, without one, at about
/// one request per horizon, where one idle replica must already meet the target.
pub fn measure_pool(
    prototype: &Replica,
    draws: &Draws<'_>,
    replicas: u32,
    target: &Target,
    options: &SearchOptions,
    start_rps: Option<f64>,
) -> Result<Capacity, CapacityError> {
    let replicas = replicas.max(1);
    let mut probes = 0u32;
    let mut probe = |rate: f64| {
        probes += 1;
        attainment_at(prototype, draws, replicas, target, options, rate)
    };
    let floor = 1.0 / options.horizon_s;
    let start = start_rps.filter(|rate| rate.is_finite() && *rate > floor);
    let (mut low, mut high) = match start {
        None => {
            let low = (floor, probe(floor));
            if low.1 < target.attainment {
                return Err(CapacityError::TooSlow {
                    rate_rps: floor,
                    attainment: low.1,
                    target: target.attainment,
                });
            }
            (low, floor)
        }
        Some(start) => {
            let attainment = probe(start);
            if attainment >= target.attainment {
                ((start, attainment), start)
            } else {
                // Halve until the pool meets the target (at the floor it must: the
                // pool is at least one idle replica).
                let mut rate = start;
                loop {
                    let high = rate;
                    rate = (rate / 2.0).max(floor);
                    let attainment = probe(rate);
                    if attainment >= target.attainment || rate <= floor {
                        break ((rate, attainment), high);
                    }
                }
            }
        }
    };
    if high <= low.0 {
        loop {
            high *= 2.0;
            let attainment = probe(high);
            if attainment < target.attainment {
                break;
            }
            low = (high, attainment);
            if high > 1e6 {
                break;
            }
        }
    }
    while (high - low.0) > options.tolerance * low.0 {
        let mid = 0.5 * (low.0 + high);
        let attainment = probe(mid);
        if attainment >= target.attainment {
            low = (mid, attainment);
        } else {
            high = mid;
        }
    }
    Ok(Capacity {
        replicas,
        rate_rps: low.0,
        attainment: low.1,
        feasible_share: draws.feasible_share,
        probes,
    })
}

/// Capacity of pools of 1, 2, 4, … replicas, and what lies between.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolCapacity {
    /// One measurement per pool size, sizes increasing.
    pub pools: Vec<Capacity>,
}

impl PoolCapacity {
    /// Measures pools of 1, 2, 4, … replicas until a pool serves `peak_rps` or holds
    /// `max_pool` replicas.
    pub fn measure(
        prototype: &Replica,
        draws: &Draws<'_>,
        target: &Target,
        options: &SearchOptions,
        peak_rps: f64,
        max_pool: u32,
    ) -> Result<Self, CapacityError> {
        let single = measure_pool(prototype, draws, 1, target, options, None)?;
        let mut pools = vec![single];
        let mut replicas = 1u32;
        while pools[pools.len() - 1].rate_rps < peak_rps && replicas < max_pool.max(1) {
            replicas = (replicas * 2).min(max_pool.max(1));
            let last = pools[pools.len() - 1];
            let start = last.per_replica_rps() * f64::from(replicas);
            pools.push(measure_pool(
                prototype,
                draws,
                replicas,
                target,
                options,
                Some(start),
            )?);
        }
        Ok(Self { pools })
    }

    /// The single replica's measurement.
    pub fn single(&self) -> &Capacity {
        &self.pools[0]
    }

    /// Rate per replica of a pool of `replicas`: linear between measured sizes, the
    /// largest pool's beyond it; never below a smaller pool's (a larger pool can always
    /// route as the smaller one would).
    pub fn per_replica_rps(&self, replicas: u32) -> f64 {
        let mut best = 0.0f64;
        let mut previous: Option<(u32, f64)> = None;
        for pool in &self.pools {
            let rate = best.max(pool.per_replica_rps());
            if pool.replicas >= replicas {
                return match previous {
                    Some((size, before)) if pool.replicas > size && replicas > size => {
                        let share = f64::from(replicas - size) / f64::from(pool.replicas - size);
                        before + share * (rate - before)
                    }
                    _ => rate,
                };
            }
            best = rate;
            previous = Some((pool.replicas, rate));
        }
        best
    }

    /// Rate a pool of `replicas` serves at the target.
    pub fn rate_rps(&self, replicas: u32) -> f64 {
        f64::from(replicas) * self.per_replica_rps(replicas)
    }

    /// The best rate per replica measured (the largest pool's): the fluid lower bound's
    /// price of a request.
    pub fn best_per_replica_rps(&self) -> f64 {
        self.pools
            .iter()
            .map(Capacity::per_replica_rps)
            .fold(0.0, f64::max)
    }

    /// Fewest replicas whose pool serves `rate_rps` (none for no demand).
    pub fn replicas_for(&self, rate_rps: f64) -> u32 {
        if rate_rps <= 0.0 {
            return 0;
        }
        let best = self.best_per_replica_rps();
        // The largest pool's rate per replica bounds every pool's, so this many is
        // the fewest that could do and the search only walks up from it.
        let mut replicas = ((rate_rps / best).ceil() as u32).max(1);
        while self.rate_rps(replicas) < rate_rps && replicas < u32::MAX {
            replicas += 1;
        }
        replicas
    }
}

/// Latencies of each request served alone: one replica, arrivals far enough apart that
/// each finds it idle (an hour apart; no request of a valid trace runs that long).
pub(crate) fn alone(prototype: &Replica, sizes: &[(u32, u32)]) -> Vec<(Option<f64>, Option<f64>)> {
    const APART_US: i64 = 3_600_000_000;
    let requests: Vec<Request> = sizes
        .iter()
        .enumerate()
        .map(|(index, &(prompt, output))| Request::new(index as i64 * APART_US, prompt, output))
        .collect();
    let mut simulation = Simulation::new(vec![prototype.clone()], quiet());
    simulation
        .run(&requests)
        .requests
        .iter()
        .map(|outcome| (outcome.ttft_s(), outcome.tpot_s()))
        .collect()
}

/// Share of the feasible requests among the first `rate × horizon` of the sample that
/// meet the SLO when they arrive at `rate` on `replicas` replicas.
fn attainment_at(
    prototype: &Replica,
    draws: &Draws<'_>,
    replicas: u32,
    target: &Target,
    options: &SearchOptions,
    rate: f64,
) -> f64 {
    let count = ((rate * options.horizon_s).ceil() as usize)
        .clamp(1, options.max_requests.min(draws.sample.len()));
    let mut time_s = 0.0;
    let requests: Vec<Request> = draws.sample[..count]
        .iter()
        .zip(&draws.gaps)
        .map(|(request, gap)| {
            time_s += gap / rate;
            let mut request = request.clone();
            request.arrival_us = (time_s * 1e6) as i64;
            request
        })
        .collect();
    let fleet = vec![prototype.clone(); replicas as usize];
    let mut simulation = Simulation::new(fleet, quiet());
    let outcomes = simulation.run(&requests).requests;
    let (mut met, mut feasible) = (0usize, 0usize);
    for (outcome, &ok) in outcomes.iter().zip(&draws.feasible) {
        if ok {
            feasible += 1;
            met += usize::from(target.met(outcome.ttft_s(), outcome.tpot_s()));
        }
    }
    if feasible == 0 {
        1.0
    } else {
        met as f64 / feasible as f64
    }
}

fn quiet() -> SimConfig {
    SimConfig {
        routing: Routing::LeastOutstanding,
        sample_interval_us: None,
        check_invariants: false,
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::fleet::FleetConfig;

    /// The default fleet's replica: H100 80 GB serving Llama-3.1-8B.
    fn h100() -> Replica {
        crate::oracle::prototype_replica(&Catalog::builtin(), &FleetConfig::default()).unwrap()
    }

    fn trace(prompt: u32, output: u32) -> Vec<Request> {
        (0..3_000)
            .map(|i| Request::new(i, prompt, output))
            .collect()
    }

    fn quick() -> SearchOptions {
        SearchOptions {
            sample: 3_000,
            horizon_s: 120.0,
            max_requests: 3_000,
            tolerance: 0.05,
        }
    }

    const TARGET: Target = Target {
        ttft_s: 2.0,
        tpot_s: 0.1,
        attainment: 0.99,
    };

    #[test]
    fn longer_requests_lower_capacity() {
        let short = measure(&h100(), &trace(200, 50), &TARGET, &quick(), 1).unwrap();
        let long = measure(&h100(), &trace(2000, 400), &TARGET, &quick(), 1).unwrap();
        assert!(
            short.rate_rps > 2.0 * long.rate_rps,
            "{short:?} vs {long:?}"
        );
        assert_eq!(short.feasible_share, 1.0);
        assert!(short.attainment >= 0.99);
    }

    #[test]
    fn the_reservoir_is_seeded_uniform_and_back_in_trace_order() {
        let requests: Vec<Request> = (0..1_000)
            .map(|i| {
                let mut request = Request::new(i, 100 + i as u32, 10);
                request.prefix_blocks = vec![i as u64 % 7];
                request
            })
            .collect();
        let sample = |seed| {
            let mut reservoir = Reservoir::new(100, seed);
            for request in &requests {
                reservoir.offer(request);
            }
            assert_eq!(reservoir.seen(), 1_000);
            reservoir.into_sorted()
        };
        let first = sample(3);
        assert_eq!(first.len(), 100);
        assert_eq!(first, sample(3));
        assert_ne!(first, sample(4));
        assert!(first.is_sorted_by_key(|request| request.arrival_us));
        // Hashes travel with their request; the sample spans the trace.
        assert!(
            first
                .iter()
                .all(|r| r.prefix_blocks == [r.arrival_us as u64 % 7])
        );
        assert!(
            first.iter().any(|r| r.arrival_us < 200) && first.iter().any(|r| r.arrival_us >= 800)
        );
        // A trace no larger than the reservoir is kept whole, in order.
        let mut whole = Reservoir::new(2_000, 3);
        for request in &requests {
            whole.offer(request);
        }
        assert_eq!(whole.into_sorted(), requests);
    }

    #[test]
    fn a_pool_serves_more_per_replica_than_one_replica() {
        let requests = trace(1000, 200);
        let draws = Draws::new(&h100(), &requests, &TARGET, 5).unwrap();
        let pools = PoolCapacity::measure(&h100(), &draws, &TARGET, &quick(), 1e9, 4).unwrap();
        assert_eq!(
            pools
                .pools
                .iter()
                .map(|pool| pool.replicas)
                .collect::<Vec<_>>(),
            vec![1, 2, 4]
        );
        let single = pools.single().rate_rps;
        assert!(pools.rate_rps(4) >= 4.0 * single, "{pools:?}");
        // Between measured sizes the rate per replica is interpolated; sizes fit demand.
        assert!(pools.per_replica_rps(3) >= pools.per_replica_rps(2));
        assert_eq!(pools.replicas_for(0.0), 0);
        assert_eq!(pools.replicas_for(0.5 * single), 1);
        assert!(pools.rate_rps(pools.replicas_for(3.5 * single)) >= 3.5 * single);
    }

    #[test]
    fn same_seed_same_capacity() {
        let requests = trace(500, 100);
        let first = measure(&h100(), &requests, &TARGET, &quick(), 7).unwrap();
        assert_eq!(
            first,
            measure(&h100(), &requests, &TARGET, &quick(), 7).unwrap()
        );
    }

    #[test]
    fn a_prompt_slower_than_the_ttft_target_is_infeasible() {
        let strict = Target {
            ttft_s: 1e-4,
            ..TARGET
        };
        let error = measure(&h100(), &trace(4000, 10), &strict, &quick(), 1).unwrap_err();
        assert!(matches!(error, CapacityError::Infeasible { .. }), "{error}");
    }

    #[test]
    fn met_needs_a_first_token_and_accepts_a_single_token() {
        assert!(!TARGET.met(None, None));
        assert!(TARGET.met(Some(1.0), None));
        assert!(!TARGET.met(Some(1.0), Some(0.2)));
        assert!(!TARGET.met(Some(2.5), Some(0.01)));
    }
}
