//! Accuracy tracking and bounded self-calibration.
//!
//! Every forecast is kept until its target time; then it is scored against the demand
//! observed at that time. Per predictor: mean absolute error, mean absolute percentage
//! error (relative to the larger of demand when forecast and demand at the target time,
//! each error capped at [`MAX_RELATIVE_ERROR`]) and direction accuracy (did it call up/down/flat right, flat meaning within
//! ±[`FLAT`]), each an exponentially weighted mean with [`ALPHA`] per scored forecast
//! (about the last 20 forecasts, i.e. five minutes at a 15 s sync period), and the
//! same MAPE per hour of the week for reports.
//!
//! Self-calibration: the scaler sizes for a high quantile of the forecast,
//! `point × (1 + z × relative RMSE)`. If demand exceeded that quantile more often than
//! [`MISS_HIGH`] of the time recently, `z` grows by [`Z_STEP`]; below [`MISS_LOW`] it
//! shrinks by half a step; it stays within [`Z_MIN`]..=[`Z_MAX`], and changes at most
//! once every [`CALIBRATE_EVERY`] scored forecasts. Every change is reported in the
//! decision's message.

use serde::{Deserialize, Serialize};

pub const ALPHA: f64 = 0.05;
pub const FLAT: f64 = 0.02;
/// z of the 90th percentile of a normal distribution: the starting margin.
pub const Z_START: f64 = 1.2816;
pub const Z_STEP: f64 = 0.1;
pub const Z_MIN: f64 = 0.5;
pub const Z_MAX: f64 = 3.0;
pub const MISS_HIGH: f64 = 0.15;
pub const MISS_LOW: f64 = 0.05;
/// Scored forecasts between two changes of `z`: about the span of the miss-rate mean
/// (1 ÷ [`ALPHA`]), so each change is judged on what it did before the next one
/// (changing on every score winds up and swings `z` from bound to bound).
pub const CALIBRATE_EVERY: u32 = 20;
/// Scored forecasts before a predictor's errors are trusted.
pub const MIN_SCORED: u32 = 8;
/// A single scored error counts at most this much (relative).
pub const MAX_RELATIVE_ERROR: f64 = 2.0;
/// Relative error assumed before any forecast was scored.
pub const PRIOR_RELATIVE_ERROR: f64 = 0.2;

/// One predictor's recent errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Errors {
    pub scored: u32,
    #[serde(with = "crate::window::exact")]
    pub mae: f64,
    #[serde(with = "crate::window::exact")]
    pub mape: f64,
    /// Mean squared relative error.
    #[serde(with = "crate::window::exact")]
    pub msre: f64,
    #[serde(with = "crate::window::exact")]
    pub direction: f64,
}

impl Default for Errors {
    fn default() -> Self {
        Errors {
            scored: 0,
            mae: 0.0,
            mape: 0.0,
            msre: PRIOR_RELATIVE_ERROR * PRIOR_RELATIVE_ERROR,
            direction: 0.5,
        }
    }
}

fn direction(base: f64, value: f64) -> i8 {
    let scale = base.abs().max(1e-9);
    let change = (value - base) / scale;
    if change > FLAT {
        1
    } else if change < -FLAT {
        -1
    } else {
        0
    }
}

impl Errors {
    /// Scores a forecast made when demand was `base` against the `actual` demand.
    pub fn score(&mut self, base: f64, forecast: f64, actual: f64) {
        let abs = (forecast - actual).abs();
        // Relative to the larger of demand then and demand at the target time, capped:
        // near-zero demand must not turn one miss into an error of thousands.
        let relative = (abs / actual.abs().max(base.abs()).max(1.0)).min(MAX_RELATIVE_ERROR);
        let hit = if direction(base, forecast) == direction(base, actual) {
            1.0
        } else {
            0.0
        };
        if self.scored == 0 {
            self.mae = abs;
            self.mape = relative;
            self.msre = relative * relative;
            self.direction = hit;
        } else {
            self.mae += ALPHA * (abs - self.mae);
            self.mape += ALPHA * (relative - self.mape);
            self.msre += ALPHA * (relative * relative - self.msre);
            self.direction += ALPHA * (hit - self.direction);
        }
        self.scored = self.scored.saturating_add(1);
    }

    /// 0..=1: one minus the recent MAPE; 0 before [`MIN_SCORED`] forecasts.
    pub fn confidence(&self) -> f64 {
        if self.scored < MIN_SCORED {
            0.0
        } else {
            (1.0 - self.mape).clamp(0.0, 1.0)
        }
    }

    pub fn relative_rmse(&self) -> f64 {
        self.msre.sqrt()
    }
}

/// The quantile margin and its calibration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Margin {
    #[serde(with = "crate::window::exact")]
    pub z: f64,
    /// Recent share of forecasts demand exceeded at the quantile.
    #[serde(with = "crate::window::exact")]
    pub miss_rate: f64,
    pub scored: u32,
    /// Scored forecasts since `z` last changed.
    #[serde(default)]
    pub since_change: u32,
}

impl Default for Margin {
    fn default() -> Self {
        Margin {
            z: Z_START,
            miss_rate: 0.1,
            scored: 0,
            since_change: 0,
        }
    }
}

impl Margin {
    /// Scores one quantile forecast; returns a sentence when `z` changed.
    pub fn score(&mut self, quantile_value: f64, actual: f64, learn: bool) -> Option<String> {
        let missed = if actual > quantile_value { 1.0 } else { 0.0 };
        self.miss_rate += ALPHA * (missed - self.miss_rate);
        self.scored = self.scored.saturating_add(1);
        self.since_change = self.since_change.saturating_add(1);
        if !learn || self.scored < MIN_SCORED || self.since_change < CALIBRATE_EVERY {
            return None;
        }
        let before = self.z;
        if self.miss_rate > MISS_HIGH {
            self.z = (self.z + Z_STEP).min(Z_MAX);
        } else if self.miss_rate < MISS_LOW {
            self.z = (self.z - Z_STEP / 2.0).max(Z_MIN);
        }
        if self.z != before {
            self.since_change = 0;
        }
        (self.z != before).then(|| {
            format!(
                "calibrated z {:.2} → {:.2} (demand above the quantile {:.0}% of the time, target {:.0}–{:.0}%)",
                before,
                self.z,
                self.miss_rate * 100.0,
                MISS_LOW * 100.0,
                MISS_HIGH * 100.0
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_track_mape_direction_and_confidence() {
        let mut e = Errors::default();
        assert_eq!(e.confidence(), 0.0);
        for _ in 0..MIN_SCORED {
            e.score(100.0, 110.0, 100.0);
        }
        assert!((e.mape - 0.1).abs() < 1e-12);
        assert!((e.confidence() - 0.9).abs() < 1e-12);
        assert_eq!(e.direction, 0.0, "called up, stayed flat");
        e.score(100.0, 120.0, 130.0);
        assert!(e.direction > 0.0);
    }

    #[test]
    fn the_margin_widens_when_demand_beats_the_quantile_and_stays_bounded() {
        let mut m = Margin::default();
        let mut changes = 0;
        for _ in 0..CALIBRATE_EVERY - 1 {
            assert!(
                m.score(100.0, 150.0, true).is_none(),
                "not before the cooldown"
            );
        }
        for _ in 0..1000 {
            if m.score(100.0, 150.0, true).is_some() {
                changes += 1;
            }
        }
        assert_eq!(changes, 18, "1.28 → 3.0 in steps of 0.1, one per cooldown");
        assert_eq!(m.z, Z_MAX);
        for _ in 0..2000 {
            m.score(100.0, 50.0, true);
        }
        assert_eq!(m.z, Z_MIN);
        let mut frozen = Margin::default();
        for _ in 0..100 {
            assert!(frozen.score(100.0, 150.0, false).is_none());
        }
        assert_eq!(frozen.z, Z_START, "no learning, no calibration");
    }
}
