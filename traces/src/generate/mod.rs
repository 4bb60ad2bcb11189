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

/// Overrides of a pattern's default parameters, as a user writes them (CLI flags or a
/// scenario's `trace.generate` keys). Each knob belongs to one or two patterns; setting
/// one the pattern does not have is an error rather than silently ignored.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PatternKnobs {
    pub cv: Option<f64>,
    pub period_us: Option<i64>,
    pub amplitude: Option<f64>,
    pub weekly_amplitude: Option<f64>,
    pub peak_us: Option<i64>,
    pub noise: Option<f64>,
    pub noise_interval_us: Option<i64>,
    pub burst_rate: Option<f64>,
    pub burst_duration_us: Option<i64>,
    pub quiet_duration_us: Option<i64>,
    pub step_at_us: Option<i64>,
    pub factor: Option<f64>,
}

/// Why [`Pattern::with_knobs`] refused: the knob names are the snake_case scenario keys
/// (`weekly_amplitude`); the CLI spells them as flags (`--weekly-amplitude`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KnobError {
    #[error("pattern: expected one of {names}, found `{found}`", names = Pattern::NAMES.join(", "))]
    UnknownPattern { found: String },
    #[error("{knob}: does not apply to pattern {pattern}")]
    NotForPattern {
        knob: &'static str,
        pattern: &'static str,
    },
}

impl PatternKnobs {
    /// The knobs that are set, by name, in a fixed order.
    fn given(&self) -> [(&'static str, bool); 12] {
        [
            ("cv", self.cv.is_some()),
            ("period", self.period_us.is_some()),
            ("amplitude", self.amplitude.is_some()),
            ("weekly_amplitude", self.weekly_amplitude.is_some()),
            ("peak", self.peak_us.is_some()),
            ("noise", self.noise.is_some()),
            ("noise_interval", self.noise_interval_us.is_some()),
            ("burst_rate", self.burst_rate.is_some()),
            ("burst_duration", self.burst_duration_us.is_some()),
            ("quiet_duration", self.quiet_duration_us.is_some()),
            ("step_at", self.step_at_us.is_some()),
            ("factor", self.factor.is_some()),
        ]
    }
}

impl Pattern {
    /// The named pattern with its defaults ([`Pattern::with_defaults`]), overridden by
    /// the knobs that apply to it.
    pub fn with_knobs(
        name: &str,
        rate_rps: f64,
        duration_us: i64,
        knobs: &PatternKnobs,
    ) -> Result<Pattern, KnobError> {
        let mut pattern = Pattern::with_defaults(name, rate_rps, duration_us).ok_or_else(|| {
            KnobError::UnknownPattern {
                found: name.to_string(),
            }
        })?;
        fn set<T: Copy>(slot: &mut T, value: Option<T>) {
            if let Some(value) = value {
                *slot = value;
            }
        }
        let k = knobs;
        let applies: &[&str] = match &mut pattern {
            Pattern::Poisson => &[],
            Pattern::Gamma { cv } => {
                set(cv, k.cv);
                &["cv"]
            }
            Pattern::Diurnal {
                period_us,
                amplitude,
                weekly_amplitude,
                peak_us,
                noise_sigma,
                noise_interval_us,
            } => {
                set(period_us, k.period_us);
                set(amplitude, k.amplitude);
                set(weekly_amplitude, k.weekly_amplitude);
                set(peak_us, k.peak_us);
                set(noise_sigma, k.noise);
                set(noise_interval_us, k.noise_interval_us);
                &[
                    "period",
                    "amplitude",
                    "weekly_amplitude",
                    "peak",
                    "noise",
                    "noise_interval",
                ]
            }
            Pattern::Mmpp {
                burst_rate_rps,
                mean_on_us,
                mean_off_us,
            } => {
                set(burst_rate_rps, k.burst_rate);
                set(mean_on_us, k.burst_duration_us);
                set(mean_off_us, k.quiet_duration_us);
                &["burst_rate", "burst_duration", "quiet_duration"]
            }
            Pattern::Step { at_us, factor } => {
                set(at_us, k.step_at_us);
                set(factor, k.factor);
                &["step_at", "factor"]
            }
            Pattern::Ramp { factor } => {
                set(factor, k.factor);
                &["factor"]
            }
        };
        if let Some((knob, _)) = k
            .given()
            .into_iter()
            .find(|(knob, set)| *set && !applies.contains(knob))
        {
            return Err(KnobError::NotForPattern {
                knob,
                pattern: pattern.name(),
            });
        }
        Ok(pattern)
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
