//! Budgets (`costConfig.budgetPerHour`, `budgetPerDay`): the desired count is capped so
//! that spend stays within them, from the prices and the spend the driver reports
//! (`Observation.cost`).
//!
//! - **Per hour**: at most `⌊budgetPerHour ÷ price⌋` replicas, where `price` is one
//!   replica-hour at the fleet's current mix (on-demand and spot by the ready pods'
//!   `spot` flags; on-demand when none is ready).
//! - **Per day**, rolling 24 hours: what was spent in the last 23 hours plus the next
//!   hour at the capped count stays within `budgetPerDay`:
//!   `⌊(budgetPerDay − spent in the last 23 h) ÷ price⌋`, never below 0. The spend is
//!   kept as checkpoints of the driver's cumulative figure, one per 10 minutes over the
//!   last day, in the scaler's state (so it survives restarts; a driver whose own
//!   figure restarts from zero is rebased).
//!
//! A budget that is not written is no budget; `"0"` is a budget of nothing: the count
//! falls to `minReplicas`, which a budget never overrides (the decision says so).
//! Budgets apply only with `costConfig.enabled`.

use crate::observation::{CostObservation, Observation};
use crate::spec::ResolvedCost;
use crate::time::{Micros, SECOND};
use serde::{Deserialize, Serialize};

/// Spend checkpoints are at least this far apart.
pub const CHECKPOINT: Micros = 600 * SECOND;
const HOUR: Micros = 3600 * SECOND;
const DAY: Micros = 24 * HOUR;

/// The driver's cumulative spend over the last day, as checkpoints.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SpendLog {
    /// Checkpoint times, ascending.
    pub at: Vec<Micros>,
    /// Cumulative spend (rebased across driver restarts) at each checkpoint.
    #[serde(with = "crate::window::exact::vec")]
    pub total: Vec<f64>,
    /// The driver's last reported figure, and what earlier runs of it had spent.
    #[serde(with = "crate::window::exact")]
    pub last_reported: f64,
    #[serde(with = "crate::window::exact")]
    pub offset: f64,
}

impl SpendLog {
    /// The rebased total for the driver's cumulative `reported` spend: what earlier
    /// runs of the driver spent plus `reported` (a figure below the last one means the
    /// driver restarted from zero).
    pub fn total_for(&self, reported: f64) -> f64 {
        if reported < self.last_reported {
            self.offset + self.last_reported + reported
        } else {
            self.offset + reported
        }
    }

    /// Takes the driver's cumulative `reported` spend at `now`; returns the rebased total.
    pub fn record(&mut self, now: Micros, reported: f64) -> f64 {
        let total = self.total_for(reported);
        if reported < self.last_reported {
            self.offset += self.last_reported;
        }
        self.last_reported = reported;
        if self.at.last().is_none_or(|&last| now - last >= CHECKPOINT) {
            self.at.push(now);
            self.total.push(total);
            // Keep one checkpoint at or before the day's start.
            let keep_from = self
                .at
                .partition_point(|&t| t <= now - DAY)
                .saturating_sub(1);
            self.at.drain(..keep_from);
            self.total.drain(..keep_from);
        }
        total
    }

    /// Spend over `(now − window, now]` given the current rebased `total`: from the
    /// latest checkpoint at or before the window's start, else from the first one.
    pub fn spent_over(&self, now: Micros, window: Micros, total: f64) -> f64 {
        let start = now - window;
        let index = self.at.partition_point(|&t| t <= start);
        let base = match index {
            0 => self.total.first().copied().unwrap_or(total),
            i => self.total[i - 1],
        };
        (total - base).max(0.0)
    }
}

/// What a budget allows at one decision.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetCap {
    /// The most replicas the budget pays for.
    pub replicas: i32,
    /// `budgetPerHour` or `budgetPerDay`, whichever binds.
    pub which: &'static str,
    /// One replica-hour at the current mix.
    pub price: f64,
    /// What the binding budget leaves for the next hour.
    pub available: f64,
}

/// One replica-hour at the mix of the ready pods (on-demand when none is ready).
pub fn replica_hour_price(obs: &Observation, cost: &CostObservation) -> f64 {
    let ready: Vec<bool> = obs
        .pods
        .iter()
        .filter(|p| p.is_ready())
        .map(|p| p.spot)
        .collect();
    if ready.is_empty() {
        return cost.on_demand_per_replica_hour;
    }
    let spot = ready.iter().filter(|&&s| s).count() as f64 / ready.len() as f64;
    cost.on_demand_per_replica_hour * (1.0 - spot) + cost.spot_per_replica_hour * spot
}

/// Whether `config` sets a budget at all.
pub fn is_budgeted(config: &ResolvedCost) -> bool {
    config.enabled
        && (config.budget_per_hour_milli.is_some() || config.budget_per_day_milli.is_some())
}

/// The cap at `now` given the rebased spend `total` ([`SpendLog::record`]); `None`
/// without a budget or when capacity is free.
pub fn cap(
    config: &ResolvedCost,
    obs: &Observation,
    cost: &CostObservation,
    log: &SpendLog,
    total: f64,
) -> Option<BudgetCap> {
    if !is_budgeted(config) {
        return None;
    }
    let price = replica_hour_price(obs, cost);
    if price.is_nan() || price <= 0.0 {
        return None;
    }
    let mut caps: Vec<(f64, &'static str)> = Vec::new();
    if let Some(milli) = config.budget_per_hour_milli {
        caps.push((milli as f64 / 1000.0, "budgetPerHour"));
    }
    if let Some(milli) = config.budget_per_day_milli {
        let spent = log.spent_over(obs.now, DAY - HOUR, total);
        caps.push(((milli as f64 / 1000.0 - spent).max(0.0), "budgetPerDay"));
    }
    caps.into_iter()
        .map(|(available, which)| BudgetCap {
            replicas: (available / price).floor().clamp(0.0, f64::from(i32::MAX)) as i32,
            which,
            price,
            available,
        })
        .min_by_key(|cap| cap.replicas)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_keeps_a_day_of_checkpoints_and_rebases_a_restarted_driver() {
        let mut log = SpendLog::default();
        for minute in 0..=(26 * 60) {
            log.record(minute * 60 * SECOND, minute as f64);
        }
        let now = 26 * HOUR;
        assert!(log.at.len() <= 24 * 6 + 2, "{} checkpoints", log.at.len());
        assert_eq!(log.spent_over(now, DAY - HOUR, 26.0 * 60.0), 23.0 * 60.0);
        // The driver restarts from zero: totals keep counting.
        let total = log.record(now + 60 * SECOND, 1.0);
        assert_eq!(total, 26.0 * 60.0 + 1.0);
    }
}
