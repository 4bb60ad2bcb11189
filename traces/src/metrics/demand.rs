//! Demand from recorded metrics: counter rates, and an arrival process rebuilt from a
//! recorded vLLM (or SGLang, TGI) series when no request log exists.
//!
//! # Method of [`derive_requests`]
//!
//! 1. For every target, consecutive scrapes give intervals; in each, the increase of
//!    the prompt-token counter `P_i`, the generation-token counter `G_i` and, when
//!    exported, the finished-request counter `R_i` (a counter that dropped was reset:
//!    its increase is its new value, counted from 0).
//! 2. The number of requests of the whole series is `N = ΣR_i` when the request counter
//!    exists, else `ΣP_i / options.mean_prompt_tokens`. From it come the mean request
//!    sizes `p̄ = ΣP_i / N` and `ḡ = ΣG_i / N`.
//! 3. Arrivals follow prompt processing: interval `i` gets `k ~ Poisson(P_i / p̄)`
//!    requests at uniform random times inside it (a Poisson process of that rate), each
//!    with prompt and output lengths drawn from log-normals of means `p̄` and `ḡ`
//!    (shape `σ` from the options; `None` gives every request exactly the mean).
//!
//! # Limits
//!
//! Counters count *served* tokens. When the server was saturated (requests waiting)
//! the rebuilt arrivals are the service curve, later and smoother than the offered
//! load; generation tokens are attributed to the whole series, not to the interval of
//! their request; per-request sizes are only right in distribution, and only in the
//! mean unless `σ` is known. Use a request log when there is one.

use super::prometheus::Scrape;
use super::series::{ScrapePoint, SeriesError};
use super::signals::{self, ModelServer, Signal};
use crate::request::Request;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Poisson};
use std::collections::BTreeMap;

/// The increase of a counter from `previous` to `current`; a drop means the counter
/// was reset (process restart) and counted again from 0.
pub fn counter_increase(previous: f64, current: f64) -> f64 {
    if current >= previous {
        current - previous
    } else {
        current
    }
}

/// One interval between two readings of a counter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateInterval {
    pub start_us: i64,
    pub end_us: i64,
    pub increase: f64,
    /// Increase per second over the interval.
    pub rate_per_s: f64,
}

/// Rates between consecutive `(t_us, counter value)` readings (time-ordered), with
/// resets handled by [`counter_increase`]. Readings at the same time are skipped.
pub fn counter_rates(points: &[(i64, f64)]) -> Vec<RateInterval> {
    points
        .windows(2)
        .filter(|w| w[1].0 > w[0].0)
        .map(|w| {
            let increase = counter_increase(w[0].1, w[1].1);
            let seconds = (w[1].0 - w[0].0) as f64 / 1e6;
            RateInterval {
                start_us: w[0].0,
                end_us: w[1].0,
                increase,
                rate_per_s: increase / seconds,
            }
        })
        .collect()
}

/// How [`derive_requests`] reads the series and sizes requests.
#[derive(Debug, Clone, PartialEq)]
pub struct DeriveOptions {
    /// Which engine's metric names to read.
    pub engine: ModelServer,
    /// Mean prompt tokens per request, used only when the series has no request counter.
    pub mean_prompt_tokens: f64,
    /// Log-normal shape of prompt lengths; `None` gives every request the mean.
    pub prompt_sigma: Option<f64>,
    /// Log-normal shape of output lengths; `None` gives every request the mean.
    pub output_sigma: Option<f64>,
    /// Time (µs, same clock as the series) when every counter was zero, e.g. the server
    /// start; the interval up to the first scrape is then counted. `None`: the first
    /// scrape of each target is only a baseline.
    pub counters_zero_at_us: Option<i64>,
}

impl Default for DeriveOptions {
    /// vLLM names, Azure-conversation-like sizes (see [`crate::generate::tokens`]).
    fn default() -> DeriveOptions {
        use crate::generate::tokens::{AZURE_CONV_OUTPUT, AZURE_CONV_PROMPT};
        DeriveOptions {
            engine: ModelServer::Vllm,
            mean_prompt_tokens: AZURE_CONV_PROMPT.mean(),
            prompt_sigma: Some(AZURE_CONV_PROMPT.sigma),
            output_sigma: Some(AZURE_CONV_OUTPUT.sigma),
            counters_zero_at_us: None,
        }
    }
}

impl DeriveOptions {
    /// For a vLLM recording's `timeseries.csv`, whose time starts at the run start.
    pub fn for_vllm_recording(mean_prompt_tokens: f64) -> DeriveOptions {
        DeriveOptions {
            mean_prompt_tokens,
            counters_zero_at_us: Some(0),
            ..DeriveOptions::default()
        }
    }
}

/// A series from which no demand can be derived.
#[derive(Debug, thiserror::Error)]
pub enum DemandError {
    #[error(transparent)]
    Series(#[from] SeriesError),
    #[error(
        "the series has no {engine} prompt-token counter (looked for {names}); cannot derive demand"
    )]
    NoPromptCounter { engine: ModelServer, names: String },
    #[error("mean_prompt_tokens: expected a positive number, found {0}")]
    BadMeanPrompt(f64),
    #[error("{field}: expected a log-normal sigma >= 0 and finite, found {value}")]
    BadSigma { field: &'static str, value: f64 },
}

/// Per-interval counter increases of one target.
#[derive(Debug, Clone, Copy)]
struct Interval {
    start_us: i64,
    end_us: i64,
    prompt: f64,
    generation: f64,
    requests: Option<f64>,
}

#[derive(Clone, Copy)]
struct Reading {
    t_us: i64,
    prompt: f64,
    generation: f64,
    requests: Option<f64>,
}

fn reading(scrape: &Scrape, t_us: i64, engine: ModelServer) -> Option<Reading> {
    Some(Reading {
        t_us,
        prompt: signals::find(scrape, engine, Signal::PromptTokensTotal)?,
        generation: signals::find(scrape, engine, Signal::GenerationTokensTotal).unwrap_or(0.0),
        requests: signals::find(scrape, engine, Signal::RequestsFinishedTotal),
    })
}

/// Rebuilds requests from a recorded series (see the module docs for the method and its
/// limits). Arrivals are µs from the earliest interval start, sorted; the same series,
/// options and seed give the same requests.
pub fn derive_requests(
    series: impl IntoIterator<Item = Result<ScrapePoint, SeriesError>>,
    options: &DeriveOptions,
    seed: u64,
) -> Result<Vec<Request>, DemandError> {
    if !(options.mean_prompt_tokens > 0.0 && options.mean_prompt_tokens.is_finite()) {
        return Err(DemandError::BadMeanPrompt(options.mean_prompt_tokens));
    }
    for (field, sigma) in [
        ("prompt_sigma", options.prompt_sigma),
        ("output_sigma", options.output_sigma),
    ] {
        if let Some(value) = sigma
            && !(value >= 0.0 && value.is_finite())
        {
            return Err(DemandError::BadSigma { field, value });
        }
    }
    let intervals = collect_intervals(series, options)?;
    let Some(origin) = intervals.keys().map(|(start, _)| *start).min() else {
        return Ok(Vec::new());
    };
    let prompt_total: f64 = intervals.values().map(|i| i.prompt).sum();
    let generation_total: f64 = intervals.values().map(|i| i.generation).sum();
    let requests_total: Option<f64> = intervals.values().map(|i| i.requests).sum();
    let count = match requests_total {
        Some(r) if r > 0.0 => r,
        _ => prompt_total / options.mean_prompt_tokens,
    };
    if count.is_nan() || count <= 0.0 || prompt_total.is_nan() || prompt_total <= 0.0 {
        return Ok(Vec::new());
    }
    let mean_prompt = prompt_total / count;
    let mean_output = generation_total / count;
    let prompt_sizes = SizeModel::new(mean_prompt, options.prompt_sigma);
    let output_sizes = SizeModel::new(mean_output, options.output_sigma);

    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    for interval in intervals.values() {
        let expected = interval.prompt / mean_prompt;
        let k = match Poisson::new(expected) {
            Ok(poisson) => poisson.sample(&mut rng) as u64,
            Err(_) => 0,
        };
        let width = interval.end_us - interval.start_us;
        for _ in 0..k {
            let offset = if width > 0 {
                rng.random_range(0..width)
            } else {
                0
            };
            out.push(Request {
                arrival_us: interval.start_us + offset - origin,
                prompt_tokens: prompt_sizes.sample(&mut rng),
                output_tokens: output_sizes.sample(&mut rng),
                prefix_blocks: Vec::new(),
                tenant: None,
                model: None,
                priority: None,
                failed: false,
            });
        }
    }
    out.sort_by_key(|r| r.arrival_us);
    Ok(out)
}

fn collect_intervals(
    series: impl IntoIterator<Item = Result<ScrapePoint, SeriesError>>,
    options: &DeriveOptions,
) -> Result<BTreeMap<(i64, Option<String>), Interval>, DemandError> {
    let mut last: BTreeMap<Option<String>, Reading> = BTreeMap::new();
    let mut intervals = BTreeMap::new();
    let mut saw_counter = false;
    for point in series {
        let point = point?;
        let Some(current) = reading(&point.scrape, point.t_us, options.engine) else {
            continue;
        };
        saw_counter = true;
        let previous = match (last.get(&point.target), options.counters_zero_at_us) {
            (Some(previous), _) => Some(*previous),
            (None, Some(zero_at)) if zero_at < current.t_us => Some(Reading {
                t_us: zero_at,
                prompt: 0.0,
                generation: 0.0,
                requests: current.requests.map(|_| 0.0),
            }),
            (None, _) => None,
        };
        if let Some(previous) = previous
            && current.t_us > previous.t_us
        {
            let requests = match (previous.requests, current.requests) {
                (Some(a), Some(b)) => Some(counter_increase(a, b)),
                _ => None,
            };
            intervals.insert(
                (previous.t_us, point.target.clone()),
                Interval {
                    start_us: previous.t_us,
                    end_us: current.t_us,
                    prompt: counter_increase(previous.prompt, current.prompt),
                    generation: counter_increase(previous.generation, current.generation),
                    requests,
                },
            );
        }
        last.insert(point.target, current);
    }
    if !saw_counter {
        let names = signals::candidates(options.engine, Signal::PromptTokensTotal)
            .iter()
            .map(|c| format!("`{}`", c.name))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(DemandError::NoPromptCounter {
            engine: options.engine,
            names,
        });
    }
    Ok(intervals)
}

/// Token lengths around a mean: log-normal of that mean, or the mean itself.
enum SizeModel {
    Fixed(u32),
    LogNormal(LogNormal<f64>),
}

impl SizeModel {
    fn new(mean: f64, sigma: Option<f64>) -> SizeModel {
        let mean = mean.max(1.0);
        match sigma {
            Some(sigma) if sigma > 0.0 => {
                match LogNormal::new(mean.ln() - sigma * sigma / 2.0, sigma) {
                    Ok(d) => SizeModel::LogNormal(d),
                    Err(_) => SizeModel::Fixed(to_tokens(mean)),
                }
            }
            _ => SizeModel::Fixed(to_tokens(mean)),
        }
    }

    fn sample(&self, rng: &mut ChaCha8Rng) -> u32 {
        match self {
            SizeModel::Fixed(n) => *n,
            SizeModel::LogNormal(d) => to_tokens(d.sample(rng)),
        }
    }
}

fn to_tokens(x: f64) -> u32 {
    x.round().clamp(1.0, f64::from(u32::MAX)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resets_count_from_zero() {
        assert_eq!(counter_increase(10.0, 15.0), 5.0);
        assert_eq!(counter_increase(10.0, 3.0), 3.0);
        let rates = counter_rates(&[
            (0, 0.0),
            (1_000_000, 10.0),
            (2_000_000, 4.0),
            (4_000_000, 8.0),
        ]);
        let r: Vec<f64> = rates.iter().map(|r| r.rate_per_s).collect();
        assert_eq!(r, vec![10.0, 4.0, 2.0]);
    }
}
