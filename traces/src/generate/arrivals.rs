//! Arrival processes: when synthetic requests arrive.
//!
//! Renewal processes (Poisson, Gamma) draw the gap to the next arrival. The others are
//! Poisson processes whose rate changes over time; they are generated exactly for a
//! piecewise-constant rate by spending an Exp(1) "budget" of integrated rate segment by
//! segment (the time-change construction). Smoothly varying rates (diurnal, ramp) are
//! held constant over 1-second segments at the segment's midpoint value.

use super::{GenerateError, Pattern};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, Exp1, Gamma, Normal};
use std::f64::consts::TAU;

const SECOND_US: f64 = 1e6;

/// Yields arrival times in µs (as floats, increasing) in `[0, duration)`.
pub(crate) struct ArrivalProcess {
    rng: ChaCha8Rng,
    t: f64,
    end: f64,
    kind: Kind,
}

enum Kind {
    Renewal(Gap),
    Modulated { rate: RateFn, budget: f64 },
}

enum Gap {
    Exponential(Exp<f64>),
    Gamma(Gamma<f64>),
}

enum RateFn {
    Diurnal(Diurnal),
    Mmpp(Mmpp),
    Step { at: f64, before: f64, after: f64 },
    Ramp { start: f64, slope: f64 },
}

struct Diurnal {
    base: f64,
    period: f64,
    amplitude: f64,
    weekly_amplitude: f64,
    peak: f64,
    noise: Option<Normal<f64>>,
    noise_interval: f64,
    noise_factor: f64,
    noise_until: f64,
}

struct Mmpp {
    on: bool,
    until: f64,
    on_rate: f64,
    off_rate: f64,
    on_length: Exp<f64>,
    off_length: Exp<f64>,
}

fn bad(field: &'static str, expected: &'static str, found: f64) -> GenerateError {
    GenerateError::Parameter {
        field,
        expected,
        found: found.to_string(),
    }
}

impl ArrivalProcess {
    pub(crate) fn new(
        pattern: &Pattern,
        rate_rps: f64,
        duration_us: i64,
        mut rng: ChaCha8Rng,
    ) -> Result<ArrivalProcess, GenerateError> {
        if !(rate_rps > 0.0 && rate_rps.is_finite()) {
            return Err(bad("rate", "a mean rate > 0 requests per second", rate_rps));
        }
        if duration_us <= 0 {
            return Err(bad("duration", "a duration > 0", duration_us as f64));
        }
        let end = duration_us as f64;
        // Rates below are per microsecond.
        let rate = rate_rps / SECOND_US;
        let kind = match *pattern {
            Pattern::Poisson => Kind::Renewal(Gap::Exponential(
                Exp::new(rate).map_err(|_| bad("rate", "a mean rate > 0", rate_rps))?,
            )),
            Pattern::Gamma { cv } => {
                if !(cv > 0.0 && cv.is_finite()) {
                    return Err(bad("cv", "a coefficient of variation > 0", cv));
                }
                let shape = 1.0 / (cv * cv);
                let gamma = Gamma::new(shape, 1.0 / (rate * shape))
                    .map_err(|_| bad("cv", "a usable CV", cv))?;
                Kind::Renewal(Gap::Gamma(gamma))
            }
            Pattern::Diurnal {
                period_us,
                amplitude,
                weekly_amplitude,
                peak_us,
                noise_sigma,
                noise_interval_us,
            } => {
                if period_us <= 0 {
                    return Err(bad("period", "a period > 0", period_us as f64));
                }
                for (field, value) in [
                    ("amplitude", amplitude),
                    ("weekly_amplitude", weekly_amplitude),
                ] {
                    if !(0.0..=1.0).contains(&value) {
                        return Err(bad(field, "a relative amplitude in 0..=1", value));
                    }
                }
                if !(noise_sigma >= 0.0 && noise_sigma.is_finite()) {
                    return Err(bad("noise", "a noise sigma >= 0", noise_sigma));
                }
                if noise_interval_us <= 0 {
                    return Err(bad(
                        "noise_interval",
                        "an interval > 0",
                        noise_interval_us as f64,
                    ));
                }
                let noise = (noise_sigma > 0.0)
                    .then(|| Normal::new(-noise_sigma * noise_sigma / 2.0, noise_sigma))
                    .transpose()
                    .map_err(|_| bad("noise", "a noise sigma >= 0", noise_sigma))?;
                Kind::Modulated {
                    rate: RateFn::Diurnal(Diurnal {
                        base: rate,
                        period: period_us as f64,
                        amplitude,
                        weekly_amplitude,
                        peak: peak_us as f64,
                        noise,
                        noise_interval: noise_interval_us as f64,
                        noise_factor: 1.0,
                        noise_until: 0.0,
                    }),
                    budget: 0.0,
                }
            }
            Pattern::Mmpp {
                burst_rate_rps,
                mean_on_us,
                mean_off_us,
            } => {
                if mean_on_us <= 0 || mean_off_us <= 0 {
                    return Err(bad(
                        "mean_on/mean_off",
                        "durations > 0",
                        mean_on_us.min(mean_off_us) as f64,
                    ));
                }
                let (on, off) = (mean_on_us as f64, mean_off_us as f64);
                let on_rate = burst_rate_rps / SECOND_US;
                // The off rate that makes the long-run mean equal to `rate`.
                let off_rate = (rate * (on + off) - on_rate * on) / off;
                if !(burst_rate_rps >= rate_rps && burst_rate_rps.is_finite()) || off_rate < 0.0 {
                    return Err(GenerateError::Parameter {
                        field: "burst_rate",
                        expected: "rate <= burst rate <= rate x (mean_on + mean_off) / mean_on",
                        found: burst_rate_rps.to_string(),
                    });
                }
                let on_length =
                    Exp::new(1.0 / on).map_err(|_| bad("mean_on", "a duration > 0", on))?;
                let off_length =
                    Exp::new(1.0 / off).map_err(|_| bad("mean_off", "a duration > 0", off))?;
                // Start in the stationary state distribution.
                let start_on = rng.random_bool(on / (on + off));
                let first = if start_on {
                    on_length.sample(&mut rng)
                } else {
                    off_length.sample(&mut rng)
                };
                Kind::Modulated {
                    rate: RateFn::Mmpp(Mmpp {
                        on: start_on,
                        until: first,
                        on_rate,
                        off_rate,
                        on_length,
                        off_length,
                    }),
                    budget: 0.0,
                }
            }
            Pattern::Step { at_us, factor } => {
                if !(factor > 0.0 && factor.is_finite()) {
                    return Err(bad("factor", "a rate ratio after/before > 0", factor));
                }
                let at = (at_us as f64).clamp(0.0, end);
                // Before × at + before × factor × (end − at) = rate × end.
                let before = rate * end / (at + factor * (end - at));
                Kind::Modulated {
                    rate: RateFn::Step {
                        at,
                        before,
                        after: before * factor,
                    },
                    budget: 0.0,
                }
            }
            Pattern::Ramp { factor } => {
                if !(factor > 0.0 && factor.is_finite()) {
                    return Err(bad("factor", "a rate ratio end/start > 0", factor));
                }
                // Linear from `start` to `start × factor`, with mean `rate`.
                let start = 2.0 * rate / (1.0 + factor);
                Kind::Modulated {
                    rate: RateFn::Ramp {
                        start,
                        slope: start * (factor - 1.0) / end,
                    },
                    budget: 0.0,
                }
            }
        };
        let mut process = ArrivalProcess {
            rng,
            t: 0.0,
            end,
            kind,
        };
        if let Kind::Modulated { budget, .. } = &mut process.kind {
            *budget = Exp1.sample(&mut process.rng);
        }
        Ok(process)
    }
}

impl RateFn {
    /// The rate (per µs) holding from `t` until the returned segment end.
    fn segment(&mut self, t: f64, rng: &mut ChaCha8Rng) -> (f64, f64) {
        let next_second = ((t / SECOND_US).floor() + 1.0) * SECOND_US;
        match self {
            RateFn::Diurnal(d) => {
                while t >= d.noise_until {
                    d.noise_factor = d.noise.as_ref().map_or(1.0, |n| n.sample(rng).exp());
                    d.noise_until += d.noise_interval;
                }
                let seg_end = next_second.min(d.noise_until);
                let mid = (t + seg_end) / 2.0;
                let phase = (mid - d.peak) / d.period;
                let daily = 1.0 + d.amplitude * (TAU * phase).cos();
                let weekly = 1.0 + d.weekly_amplitude * (TAU * phase / 7.0).cos();
                (d.base * daily * weekly * d.noise_factor, seg_end)
            }
            RateFn::Mmpp(m) => {
                while t >= m.until {
                    m.on = !m.on;
                    m.until += if m.on {
                        m.on_length.sample(rng)
                    } else {
                        m.off_length.sample(rng)
                    };
                }
                (if m.on { m.on_rate } else { m.off_rate }, m.until)
            }
            RateFn::Step { at, before, after } => {
                if t < *at {
                    (*before, *at)
                } else {
                    (*after, f64::INFINITY)
                }
            }
            RateFn::Ramp { start, slope } => {
                let mid = (t + next_second) / 2.0;
                ((*start + *slope * mid).max(0.0), next_second)
            }
        }
    }
}

impl Iterator for ArrivalProcess {
    type Item = f64;

    fn next(&mut self) -> Option<f64> {
        match &mut self.kind {
            Kind::Renewal(gap) => {
                let dt = match gap {
                    Gap::Exponential(d) => d.sample(&mut self.rng),
                    Gap::Gamma(d) => d.sample(&mut self.rng),
                };
                self.t += dt;
                (self.t < self.end).then_some(self.t)
            }
            Kind::Modulated { rate, budget } => loop {
                if self.t >= self.end {
                    return None;
                }
                let (lambda, seg_end) = rate.segment(self.t, &mut self.rng);
                let seg_end = if seg_end > self.t {
                    seg_end.min(self.end)
                } else {
                    self.t + 1.0
                };
                let mass = lambda * (seg_end - self.t);
                if lambda > 0.0 && mass >= *budget {
                    self.t += *budget / lambda;
                    *budget = Exp1.sample(&mut self.rng);
                    if self.t < self.end {
                        return Some(self.t);
                    }
                    return None;
                }
                *budget -= mass.max(0.0);
                self.t = seg_end;
            },
        }
    }
}
