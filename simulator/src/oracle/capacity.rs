//! Per-replica capacity at the SLO: the highest Poisson arrival rate one replica
//! sustains while enough requests meet their TTFT and TPOT targets.
//!
//! How: `sample` request sizes are drawn with replacement from the trace (its own token
//! mix, seeded), together with unit-mean exponential gaps. A rate `λ` replays the first
//! `λ × horizon` of them with the gaps scaled by `1/λ` on one fresh replica (the fast
//! single-replica [`Simulation`]). Every rate reuses the same draws (common random
//! numbers), so attainment falls smoothly with the rate instead of jumping with the
//! noise of new draws, and the search converges. The rate is doubled until attainment
//! falls below the target, then bisected to `tolerance`.
//!
//! Attainment counts only *feasible* requests: those that meet the SLO alone on an idle
//! replica. A request whose prefill alone outlasts the TTFT target (or that does not fit
//! in the KV cache) misses at any fleet size, so no amount of capacity can buy it.
//!
//! Prefix hashes are dropped from the sample: resampling with replacement repeats
//! requests, and repeats would hit the prefix cache more than the trace does, which
//! would overstate capacity.

use crate::replica::Replica;
use crate::rng::{Component, stream};
use crate::sim::{Routing, SimConfig, Simulation};
use rand::RngExt;
use traces::request::Request;

/// The stream index of the oracle's draws within [`Component::Load`]: far from the
/// indices load generators use (0, 1, ...).
pub(crate) const ORACLE_STREAM: u32 = 0x0AC1_E000;

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
    /// Request sizes drawn from the trace.
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

/// What the search found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Capacity {
    /// Highest rate (requests per second) meeting the target.
    pub rate_rps: f64,
    /// Attainment at that rate.
    pub attainment: f64,
    /// Share of the sampled requests that meet the SLO alone on an idle replica.
    pub feasible_share: f64,
    /// Simulations run.
    pub probes: u32,
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

/// Gaps and sizes drawn once and replayed at every probed rate.
struct Draws {
    /// Unit-mean exponential gaps.
    gaps: Vec<f64>,
    sizes: Vec<(u32, u32)>,
    /// Per sampled request: does it meet the SLO alone?
    feasible: Vec<bool>,
}

/// Highest Poisson rate one replica (a fresh copy of `prototype`) sustains at `target`
/// on the token mix of `requests`. Deterministic in `seed`.
pub fn measure(
    prototype: &Replica,
    requests: &[Request],
    target: &Target,
    options: &SearchOptions,
    seed: u64,
) -> Result<Capacity, CapacityError> {
    if requests.is_empty() {
        return Err(CapacityError::EmptyTrace);
    }
    let draws = draw(prototype, requests, target, options, seed);
    let feasible_share =
        draws.feasible.iter().filter(|&&ok| ok).count() as f64 / draws.feasible.len() as f64;
    if feasible_share == 0.0 {
        return Err(CapacityError::Infeasible {
            ttft_s: target.ttft_s,
            tpot_s: target.tpot_s,
        });
    }
    let mut probes = 0u32;
    let mut probe = |rate: f64| {
        probes += 1;
        attainment_at(prototype, &draws, target, options, rate)
    };
    // The lowest rate tried: about one request per horizon is always an idle replica.
    let floor = 1.0 / options.horizon_s;
    let mut low = (floor, probe(floor));
    if low.1 < target.attainment {
        return Err(CapacityError::TooSlow {
            rate_rps: floor,
            attainment: low.1,
            target: target.attainment,
        });
    }
    let mut high = floor;
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
        rate_rps: low.0,
        attainment: low.1,
        feasible_share,
        probes,
    })
}

fn draw(
    prototype: &Replica,
    requests: &[Request],
    target: &Target,
    options: &SearchOptions,
    seed: u64,
) -> Draws {
    let mut rng = stream(seed, Component::Load, ORACLE_STREAM);
    let sample = options.sample.max(1);
    let mut gaps = Vec::with_capacity(sample);
    let mut sizes = Vec::with_capacity(sample);
    for _ in 0..sample {
        let uniform: f64 = rng.random();
        gaps.push(-(1.0 - uniform).ln());
        let request = &requests[rng.random_range(0..requests.len())];
        sizes.push((request.prompt_tokens, request.output_tokens));
    }
    let feasible = alone(prototype, &sizes)
        .into_iter()
        .map(|(ttft, tpot)| target.met(ttft, tpot))
        .collect();
    Draws {
        gaps,
        sizes,
        feasible,
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

/// Share of the feasible requests among the first `rate × horizon` draws that meet the
/// SLO when they arrive at `rate`.
fn attainment_at(
    prototype: &Replica,
    draws: &Draws,
    target: &Target,
    options: &SearchOptions,
    rate: f64,
) -> f64 {
    let count = ((rate * options.horizon_s).ceil() as usize)
        .clamp(1, options.max_requests.min(draws.sizes.len()));
    let mut time_s = 0.0;
    let requests: Vec<Request> = (0..count)
        .map(|index| {
            time_s += draws.gaps[index] / rate;
            let (prompt, output) = draws.sizes[index];
            Request::new((time_s * 1e6) as i64, prompt, output)
        })
        .collect();
    let mut simulation = Simulation::new(vec![prototype.clone()], quiet());
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
        routing: Routing::LeastLoaded,
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
        (0..50).map(|i| Request::new(i, prompt, output)).collect()
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
