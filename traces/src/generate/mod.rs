//! Synthetic request traces: seeded arrival patterns with realistic token lengths.
//!
//! Everything is drawn from `ChaCha8Rng` seeded with the configured `u64`, so the same
//! [`GenerateConfig`] gives the same requests on every machine. Arrival times and token
//! lengths use separate ChaCha streams (0 and 1) of that seed: changing the token
//! model leaves the arrival times unchanged. Requests stream out one at a time; no
//! trace is held in memory.
//!
//! `rate_rps` is always the *mean* arrival rate over the trace (for `diurnal`, over
//! whole periods; for `mmpp`, in the long run), so patterns compare at equal load.

mod arrivals;
pub mod tokens;

use crate::request::Request;
use arrivals::ArrivalProcess;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tokens::TokenSampler;
pub use tokens::{LogNormalTokens, TokenModel, TokenModelError};

/// One hour, in µs.
const HOUR_US: i64 = 3_600_000_000;

/// The shape of the arrival process.
#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    /// Homogeneous Poisson: exponential gaps (CV 1).
    Poisson,
    /// Gamma-distributed gaps with coefficient of variation `cv` (shape `1/cv²`):
    /// `cv > 1` is burstier than Poisson, `cv < 1` more regular.
    Gamma { cv: f64 },
    /// Daily and weekly cycles with noise: rate(t) = rate × (1 + amplitude·cos 2π(t−peak)/period)
    /// × (1 + weekly_amplitude·cos 2π(t−peak)/(7·period)) × noise, where the noise is a
    /// log-normal factor of mean 1 and shape `noise_sigma`, redrawn every
    /// `noise_interval_us`. `period_us` is a day by default; shorten it to compress time.
    Diurnal {
        period_us: i64,
        amplitude: f64,
        weekly_amplitude: f64,
        peak_us: i64,
        noise_sigma: f64,
        noise_interval_us: i64,
    },
    /// Markov-modulated Poisson on/off bursts: "on" periods (exponential, mean
    /// `mean_on_us`) at `burst_rate_rps`, "off" periods (mean `mean_off_us`) at the rate
    /// that makes the long-run mean `rate_rps`.
    Mmpp {
        burst_rate_rps: f64,
        mean_on_us: i64,
        mean_off_us: i64,
    },
    /// A step at `at_us`: the rate after is `factor` times the rate before.
    Step { at_us: i64, factor: f64 },
    /// A linear ramp whose rate at the end is `factor` times the rate at the start.
    Ramp { factor: f64 },
}

impl Pattern {
    /// The names accepted by [`Pattern::with_defaults`] and the CLI.
    pub const NAMES: [&'static str; 6] = ["poisson", "gamma", "diurnal", "mmpp", "step", "ramp"];

    /// A pattern by name with default parameters: gamma CV 2; diurnal with a 24 h
    /// period, amplitude 0.5, weekly amplitude 0.2, peak at 14:00, noise σ 0.1 per
    /// 5 min; mmpp with 60 s bursts at 4× the rate every ~5 min; step ×2 at half time;
    /// ramp ×4. `None` for an unknown name.
    pub fn with_defaults(name: &str, rate_rps: f64, duration_us: i64) -> Option<Pattern> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "poisson" => Pattern::Poisson,
            "gamma" => Pattern::Gamma { cv: 2.0 },
            "diurnal" => Pattern::Diurnal {
                period_us: 24 * HOUR_US,
                amplitude: 0.5,
                weekly_amplitude: 0.2,
                peak_us: 14 * HOUR_US,
                noise_sigma: 0.1,
                noise_interval_us: 300_000_000,
            },
            "mmpp" => Pattern::Mmpp {
                burst_rate_rps: 4.0 * rate_rps,
                mean_on_us: 60_000_000,
                mean_off_us: 240_000_000,
            },
            "step" => Pattern::Step {
                at_us: duration_us / 2,
                factor: 2.0,
            },
            "ramp" => Pattern::Ramp { factor: 4.0 },
            _ => return None,
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Pattern::Poisson => "poisson",
            Pattern::Gamma { .. } => "gamma",
            Pattern::Diurnal { .. } => "diurnal",
            Pattern::Mmpp { .. } => "mmpp",
            Pattern::Step { .. } => "step",
            Pattern::Ramp { .. } => "ramp",
        }
    }
}

/// Everything that determines a synthetic trace.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateConfig {
    pub pattern: Pattern,
    /// Trace length; arrivals fall in `[0, duration_us)`.
    pub duration_us: i64,
    /// Mean arrival rate, requests per second.
    pub rate_rps: f64,
    pub seed: u64,
    pub tokens: TokenModel,
}

/// A configuration that cannot generate.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GenerateError {
    #[error("{field}: expected {expected}, found {found}")]
    Parameter {
        field: &'static str,
        expected: &'static str,
        found: String,
    },
    #[error(transparent)]
    Tokens(#[from] TokenModelError),
}

/// A streaming iterator of synthetic requests in arrival order.
pub struct Generator {
    arrivals: ArrivalProcess,
    tokens: TokenSampler,
    token_rng: ChaCha8Rng,
}

impl Iterator for Generator {
    type Item = Request;

    fn next(&mut self) -> Option<Request> {
        let t = self.arrivals.next()?;
        let (prompt_tokens, output_tokens) = self.tokens.sample(&mut self.token_rng);
        Some(Request::new(t.floor() as i64, prompt_tokens, output_tokens))
    }
}

/// Starts generating the trace `config` describes (parameters are checked first).
pub fn generate(config: &GenerateConfig) -> Result<Generator, GenerateError> {
    let tokens = TokenSampler::new(&config.tokens)?;
    let arrival_rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut token_rng = ChaCha8Rng::seed_from_u64(config.seed);
    token_rng.set_stream(1);
    let arrivals = ArrivalProcess::new(
        &config.pattern,
        config.rate_rps,
        config.duration_us,
        arrival_rng,
    )?;
    Ok(Generator {
        arrivals,
        tokens,
        token_rng,
    })
}
