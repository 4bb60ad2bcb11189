//! Stage 3: demand at now + lookahead.
//!
//! Demand is first smoothed over `kpaConfig.stableWindow` (the mean of the
//! observations inside it): that is "demand now". Three predictors forecast it:
//! - **last-value**: demand stays as it is now;
//! - **holt**: Holt's linear trend on the smoothed series (level α = [`HOLT_ALPHA`],
//!   trend β = [`HOLT_BETA`] per observation, trend per second; the forecast is kept
//!   within 0..=[`MAX_GROWTH`]× the level, so one noisy step cannot extrapolate wildly);
//! - **seasonal**: the learned hour-of-week profile ([`super::seasonal`]) scaled to the
//!   level now, when calendar time is known and the profile has the hours.
//!
//! `combined` picks, per decision, the predictor with the lowest recent MAPE among
//! those scored at least [`calibration::MIN_SCORED`] times (Holt before that). The
//! scaler sizes for the quantile `point × (1 + z × relative RMSE)` of the chosen
//! predictor. The predictor's point is used only when its confidence (1 − MAPE)
//! reaches `predictionConfig.minConfidence`; below it the scaler sizes for demand now
//! with last-value's margin over the same horizon (low confidence means more headroom,
//! not none).

use super::calibration::{self, Errors, Margin};
use super::seasonal::{SeasonalProfile, hour_of_week};
use crate::spec::Predictor;
use crate::time::{Micros, SECOND};
use serde::{Deserialize, Serialize};

pub const HOLT_ALPHA: f64 = 0.5;
pub const HOLT_BETA: f64 = 0.1;
pub const MAX_GROWTH: f64 = 3.0;
/// Forecasts waiting for their target time, at most.
pub const MAX_PENDING: usize = 1024;

pub const PREDICTORS: [Predictor; 3] = [Predictor::LastValue, Predictor::Holt, Predictor::Seasonal];

fn index(predictor: Predictor) -> usize {
    match predictor {
        Predictor::LastValue => 0,
        Predictor::Holt => 1,
        Predictor::Seasonal => 2,
        Predictor::Combined => 1,
    }
}

/// Holt's level and trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Holt {
    #[serde(with = "crate::window::exact")]
    pub level: f64,
    /// Per second.
    #[serde(with = "crate::window::exact")]
    pub trend: f64,
    pub at: Micros,
}

/// A forecast waiting to be scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub due: Micros,
    #[serde(with = "crate::window::exact")]
    pub base: f64,
    #[serde(with = "crate::window::exact::vec")]
    pub values: Vec<f64>,
    /// Which predictors produced `values` (same order as [`PREDICTORS`]).
    pub present: Vec<bool>,
    #[serde(with = "crate::window::exact")]
    pub quantile_value: f64,
}

/// The forecast state of one signal.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Forecaster {
    /// Observations inside the smoothing window: times and values.
    pub recent_at: Vec<Micros>,
    #[serde(with = "crate::window::exact::vec")]
    pub recent: Vec<f64>,
    pub holt: Option<Holt>,
    pub seasonal: SeasonalProfile,
    pub pending: Vec<Pending>,
    /// Per predictor, in [`PREDICTORS`] order.
    pub errors: Vec<Errors>,
    pub margin: Margin,
    /// MAPE of the chosen predictor by local hour of the week (168; empty until used).
    #[serde(with = "crate::window::exact::vec")]
    pub mape_by_hour: Vec<f64>,
}

/// One forecast.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    pub current: f64,
    pub point: f64,
    pub value: f64,
    pub confidence: f64,
    pub predictor: String,
    pub used: bool,
    pub horizon: Micros,
    /// The recent errors of the chosen predictor.
    pub errors: Errors,
}

/// What the caller knows at one observation.
#[derive(Debug, Clone, Copy)]
pub struct Inputs {
    pub now: Micros,
    /// Local calendar time (Unix µs + zone offset), when known.
    pub local: Option<Micros>,
    pub smoothing_window: Micros,
    pub history: Micros,
    pub learn: bool,
}

impl Forecaster {
    /// Adds the observation `value` at `inputs.now`; returns the smoothed demand now and
    /// any self-calibration sentences.
    pub fn observe(&mut self, inputs: &Inputs, value: f64) -> (f64, Vec<String>) {
        if self.errors.len() != PREDICTORS.len() {
            self.errors = vec![Errors::default(); PREDICTORS.len()];
        }
        let now = inputs.now;
        self.recent_at.push(now);
        self.recent.push(value);
        let oldest = now - inputs.smoothing_window;
        let stale = self.recent_at.iter().take_while(|&&t| t <= oldest).count();
        self.recent_at.drain(..stale);
        self.recent.drain(..stale);
        let current = self.recent.iter().sum::<f64>() / self.recent.len() as f64;

        self.holt = Some(match self.holt.take() {
            None => Holt {
                level: current,
                trend: 0.0,
                at: now,
            },
            Some(h) => {
                let dt = ((now - h.at) as f64 / SECOND as f64).max(0.0);
                if dt == 0.0 {
                    h
                } else {
                    let level =
                        HOLT_ALPHA * current + (1.0 - HOLT_ALPHA) * (h.level + h.trend * dt);
                    let trend = HOLT_BETA * (level - h.level) / dt + (1.0 - HOLT_BETA) * h.trend;
                    Holt {
                        level,
                        trend,
                        at: now,
                    }
                }
            }
        });
        if inputs.learn
            && let Some(local) = inputs.local
        {
            self.seasonal.observe(local, current, inputs.history);
        }

        let mut sentences = Vec::new();
        let mut remaining = Vec::with_capacity(self.pending.len());
        for pending in std::mem::take(&mut self.pending) {
            if pending.due > now {
                remaining.push(pending);
                continue;
            }
            for (i, errors) in self.errors.iter_mut().enumerate() {
                if pending.present[i] {
                    errors.score(pending.base, pending.values[i], current);
                }
            }
            if let Some(sentence) = self
                .margin
                .score(pending.quantile_value, current, inputs.learn)
            {
                sentences.push(sentence);
            }
        }
        self.pending = remaining;
        (current, sentences)
    }

    fn predict(
        &self,
        predictor: Predictor,
        inputs: &Inputs,
        horizon: Micros,
        current: f64,
    ) -> Option<f64> {
        match predictor {
            Predictor::LastValue => Some(current),
            Predictor::Holt | Predictor::Combined => {
                let h = self.holt.as_ref()?;
                let ahead = h.level + h.trend * (horizon as f64 / SECOND as f64);
                Some(ahead.clamp(0.0, MAX_GROWTH * h.level.max(current)))
            }
            Predictor::Seasonal => {
                let local = inputs.local?;
                self.seasonal
                    .forecast(local, horizon, current)
                    .map(|v| v.clamp(0.0, MAX_GROWTH * current.max(1.0)))
            }
        }
    }

    /// The forecast `horizon` ahead with `predictor`, after [`Forecaster::observe`].
    pub fn forecast(
        &mut self,
        inputs: &Inputs,
        current: f64,
        horizon: Micros,
        predictor: Predictor,
        min_confidence: f64,
    ) -> Forecast {
        let values: Vec<Option<f64>> = PREDICTORS
            .iter()
            .map(|&p| self.predict(p, inputs, horizon, current))
            .collect();
        let chosen = match predictor {
            Predictor::Combined => {
                let mut best: Option<(usize, f64)> = None;
                for (i, errors) in self.errors.iter().enumerate() {
                    if values[i].is_none() || errors.scored < calibration::MIN_SCORED {
                        continue;
                    }
                    if best.is_none_or(|(_, mape)| errors.mape < mape) {
                        best = Some((i, errors.mape));
                    }
                }
                best.map_or(index(Predictor::Holt), |(i, _)| i)
            }
            other => index(other),
        };
        let chosen = if values[chosen].is_some() { chosen } else { 0 };
        let confidence = self.errors[chosen].confidence();
        let used = confidence >= min_confidence;
        // Not confident: the point is demand now, and the margin is last-value's error
        // over the same horizon: uncertainty widens the margin, it never removes it.
        let (point, errors) = if used {
            (values[chosen].unwrap_or(current), &self.errors[chosen])
        } else {
            (current, &self.errors[index(Predictor::LastValue)])
        };
        let value = point * (1.0 + self.margin.z * errors.relative_rmse());
        let name = PREDICTORS[chosen].as_str();
        let predictor_name = if predictor == Predictor::Combined {
            format!("combined:{name}")
        } else {
            name.to_string()
        };
        if self.pending.len() >= MAX_PENDING {
            self.pending.remove(0);
        }
        self.pending.push(Pending {
            due: inputs.now + horizon,
            base: current,
            values: values.iter().map(|v| v.unwrap_or(0.0)).collect(),
            present: values.iter().map(Option::is_some).collect(),
            quantile_value: value,
        });
        if let Some(local) = inputs.local {
            if self.mape_by_hour.len() != 168 {
                self.mape_by_hour = vec![0.0; 168];
            }
            self.mape_by_hour[hour_of_week(local)] = errors.mape;
        }
        Forecast {
            current,
            point,
            value,
            confidence,
            predictor: predictor_name,
            used,
            horizon,
            errors: self.errors[chosen].clone(),
        }
    }

    /// Mean demand over the smoothing window so far (before the next observation).
    pub fn recent_mean(&self) -> Option<f64> {
        (!self.recent.is_empty())
            .then(|| self.recent.iter().sum::<f64>() / self.recent.len() as f64)
    }

    /// The errors of every predictor, in `last-value`, `holt`, `seasonal` order.
    pub fn errors(&self) -> &[Errors] {
        &self.errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(now: Micros) -> Inputs {
        Inputs {
            now,
            local: None,
            smoothing_window: 60 * SECOND,
            history: 7 * 24 * 3600 * SECOND,
            learn: true,
        }
    }

    #[test]
    fn holt_follows_a_ramp_and_last_value_lags_it() {
        let mut f = Forecaster::default();
        let mut out = None;
        for step in 0..200 {
            let now = step * 15 * SECOND;
            let (current, _) = f.observe(&inputs(now), 100.0 + step as f64);
            out = Some(f.forecast(
                &inputs(now),
                current,
                240 * SECOND,
                Predictor::Combined,
                0.5,
            ));
        }
        let out = out.unwrap();
        // +1 per 15 s: 16 more in 240 s; the 60 s mean lags by ~1.5 steps.
        assert!(out.point > out.current + 12.0, "{out:?}");
        assert_eq!(out.predictor, "combined:holt");
        assert!(out.used && out.confidence > 0.9, "{out:?}");
        assert!(out.value > out.point);
        let errors = f.errors();
        assert!(
            errors[1].mape < errors[0].mape,
            "holt beats last-value on a ramp"
        );
    }

    #[test]
    fn an_unscored_forecast_is_not_used() {
        let mut f = Forecaster::default();
        let (current, _) = f.observe(&inputs(0), 50.0);
        let out = f.forecast(&inputs(0), current, 240 * SECOND, Predictor::Holt, 0.5);
        assert_eq!(out.confidence, 0.0);
        assert!(!out.used);
        assert_eq!(out.point, 50.0);
    }
}
